//! The `driftguard` binary: parse the command line, run, exit with the status's code.

use clap::Parser;

#[allow(
    clippy::disallowed_methods,
    reason = "main is the one place that maps ExitStatus to a process exit"
)]
fn main() {
    let cli = match driftguard::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                driftguard::ExitStatus::Error.code()
            } else {
                0
            };
            let _ = err.print();
            std::process::exit(code);
        }
    };
    let status = driftguard::on_large_stack(move || {
        let mut stdout = std::io::stdout().lock();
        let mut stderr = std::io::stderr().lock();
        driftguard::run(
            cli,
            driftguard::Streams {
                stdout: &mut stdout,
                stderr: &mut stderr,
                stdout_is_terminal: driftguard::stdout_is_terminal(),
            },
        )
    });
    std::process::exit(status.code());
}
