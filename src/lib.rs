//! driftguard proves, statically and without a database, that every column and table the
//! SQLAlchemy models of a Python repository map is created by its migrations.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`cli`] — the command line; [`config`] — the optional `driftguard.yml`.
//! 2. [`git`] — the only module that touches git: snapshots (HEAD, index, merge base) and
//!    their files; [`discover`] — which files are models and migrations, and their order;
//!    [`cache`] — parses and results kept on disk by blob id.
//! 3. [`models`] — Python model files → tables and columns, through [`pyast`] (the one
//!    tree-sitter walk), [`pyeval`] (what the project's own pure helpers compute, across its
//!    modules) and [`sqlalchemy`] (SQLAlchemy types → the PostgreSQL types of
//!    [`postgres_type`]).
//! 4. [`migrations`] — SQL files and Alembic revisions → schema change events, assembled into
//!    sources; [`schema`] — events replayed into the schema the migrations build.
//! 5. [`rules`] — the comparison: models against schema → [`finding`]s; [`suppress`] — inline
//!    `ignore` comments.
//! 6. [`render`] — a [`report`] → human, JSON … output.
//!
//! [`project`] runs stages 2–5 over one snapshot; [`check`] picks the snapshots a mode
//! compares and keeps what a change introduces; [`run`] maps a command line to an
//! [`ExitStatus`]. [`dbdiff`] (`driftguard db-diff`) reads a live PostgreSQL database instead
//! of the migrations and compares the same model tables with it; it is the only module that
//! talks to a database. [`inventory`] (`driftguard schema`) stops after stage 4 and prints
//! the replayed schema. [`fix`] (`driftguard fix`) runs a check and writes the migration that
//! closes what it found. [`install`] writes the git pre-commit hook that runs `check --staged`.
//!
//! Problems in user files are warnings or findings, never errors: an [`error::Error`] means
//! "could not run" (exit 2) and says what to do. Plain data ([`finding`], [`report`],
//! [`rule`], [`error`], [`source`], [`secret`]) sits at the bottom: every stage reads it, it
//! imports no stage.

// Plain data at the bottom of the house, read by every stage.
pub mod error;
pub mod finding;
pub mod report;
pub mod rule;
pub mod secret;
pub mod source;

// The pipeline, in order.
pub mod baseline;
pub mod cache;
pub mod check;
pub mod cli;
pub mod config;
pub mod discover;
pub mod git;
pub mod lazy;
pub mod migrations;
pub mod models;
pub mod postgres_type;
pub mod project;
pub mod pyast;
pub mod pyeval;
pub mod render;
pub mod rules;
pub mod schema;
pub mod sqlalchemy;
pub mod suppress;
pub mod timing;

// Other commands.
pub mod dbdiff;
pub mod fix;
pub mod install;
pub mod inventory;

use std::io::{IsTerminal, Write};

use cli::{Cli, ColorChoice, Command, FailOn};
use error::Error;
use report::{Mode, Report};
use rule::{Rule, Severity};

/// How a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// No finding at or above `--fail-on`.
    Clean,
    /// At least one finding at or above `--fail-on`.
    Findings,
    /// Could not run: bad arguments, bad config, missing ref, shallow clone …
    Error,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// Output streams, so that tests and `main` can pass their own.
pub struct Streams<'a> {
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    /// Whether stdout is a terminal (for `--color auto`).
    pub stdout_is_terminal: bool,
}

/// Writes, treating a closed pipe (`driftguard … | head`) as success.
fn emit(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli, streams: Streams) -> ExitStatus {
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            streams.stdout_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let result = match cli.command {
        Command::Check(args) => run_check(args, color, streams.stdout, streams.stderr),
        Command::DbDiff(args) => run_db_diff(args, color, streams.stdout, streams.stderr),
        Command::Schema(args) => run_schema(args, streams.stdout, streams.stderr),
        Command::Fix(args) => run_fix(args, streams.stdout, streams.stderr),
        Command::Rule { code } => run_rule(code.as_deref(), streams.stdout),
        Command::Install(args) => install::install(&args.path, args.force)
            .and_then(|message| say(streams.stdout, &message)),
        Command::Uninstall(args) => {
            install::uninstall(&args.path).and_then(|message| say(streams.stdout, &message))
        }
        Command::Cache(cli::CacheCommand::Clean { path }) => {
            cache::clean_command(&path).and_then(|message| say(streams.stdout, &message))
        }
    };
    match result {
        Ok(status) => status,
        Err(error) => {
            let _ = emit(streams.stderr, &render::human::error_text(&error, color));
            ExitStatus::Error
        }
    }
}

/// Writes text to a stream; a failure (other than a closed pipe) cannot run.
fn write_out(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    emit(out, text).map_err(|e| Error::io_at("cannot write the output", e))
}

/// Writes a command's message to stdout; the command succeeded.
fn say(stdout: &mut dyn Write, message: &str) -> Result<ExitStatus, Error> {
    write_out(stdout, message)?;
    Ok(ExitStatus::Clean)
}

/// The stack of the thread that runs a command and of rayon's workers. The readers bound
/// their recursion ([`pyast::MAX_NESTING`], the SQL reader's block depth), so hostile input is
/// cut off long before a thread's usual 2-8 MiB run out; this is a margin on top of those
/// bounds, not a replacement (and only address space until a page is touched).
pub const STACK_BYTES: usize = 64 << 20;

/// Runs a command on a thread with a [`STACK_BYTES`] stack, which is also the first worker
/// of the rayon pool the command's parallel calls run on (its other workers have a quarter of
/// that); on the calling thread when no thread can be started. A panic in `work` is resumed
/// here.
///
/// The command's thread is one of the pool's (`use_current_thread`), not a thread outside it:
/// a parallel call from outside a pool hands its work to the pool's threads and sleeps until
/// one of them wakes it again, and on a virtual machine a sleeping processor takes from ten to
/// a few hundred microseconds to wake (a condition variable's round trip between two threads,
/// after a pause: 20–420 µs on the 2-core machine of the benchmarks). A small check makes a
/// dozen such calls (the early parse, the kept states read ahead, the build's two halves,
/// the rules, the cache writes), so much of its time went to waking threads: on the pool, a
/// call's work runs on the command's own thread unless another worker takes it first, and the
/// command waits only for work another thread has begun. Measured on a new edit after a pause,
/// alternating with the build before (medians): 50 models / 40 migrations 4.1 → 3.7 ms and
/// 5.5 → 4.9 ms; 500 / 2,000 10.8 → 8.5 ms; 5,000 / 20,000 33.3 → 29.2 ms. The pool is built
/// without waiting for its other workers to start (`build`, not `build_global`), so the
/// command starts at once, as before. The binary runs its command on its main thread instead
/// ([`on_main_thread`]).
///
/// A pool of one thread (`RAYON_NUM_THREADS=1`, a one-processor machine) is the command's
/// thread alone: work handed to the pool runs when the command waits for it, and every wait
/// in a check either takes the work on itself or helps the pool meanwhile.
pub fn on_large_stack(work: impl FnOnce() -> ExitStatus + Send + 'static) -> ExitStatus {
    on_thread_of_its_own(move || match as_first_worker(work) {
        Ok(done) => done,
        // This thread is a worker of a pool that has ended: the command goes on another.
        Err(work) => on_thread_of_its_own(work),
    })
}

/// Runs `work` on this thread as the first worker of a rayon pool built for it, whose other
/// workers have a quarter of [`STACK_BYTES`]; gives `work` back, not run, when the pool cannot
/// be built (a worker cannot start). rayon makes this thread the pool's first worker before it
/// starts the others, and a failed build leaves it a worker of a pool that has ended: the
/// command must then run on another thread.
fn as_first_worker<W: FnOnce() -> ExitStatus>(work: W) -> Result<ExitStatus, W> {
    let Ok(pool) = rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .stack_size(STACK_BYTES / 4)
        .build()
    else {
        return Err(work);
    };
    let done = work();
    if PROCESS_ENDS_AFTER_RUN.load(std::sync::atomic::Ordering::Relaxed) {
        // The process ends now: its workers need not be woken to be told.
        std::mem::forget(pool);
    } else {
        drop(pool);
    }
    Ok(done)
}

/// Runs `work` on a thread of its own with a [`STACK_BYTES`] stack, named `driftguard`; on
/// this thread when no thread can be started. A panic in `work` is resumed here.
fn on_thread_of_its_own(work: impl FnOnce() -> ExitStatus + Send + 'static) -> ExitStatus {
    use std::sync::{Arc, Mutex, PoisonError};
    let work = Arc::new(Mutex::new(Some(work)));
    let take = |work: &Mutex<Option<_>>| work.lock().unwrap_or_else(PoisonError::into_inner).take();
    let shared = Arc::clone(&work);
    let spawned = std::thread::Builder::new()
        .name("driftguard".to_string())
        .stack_size(STACK_BYTES)
        .spawn(move || take(&shared).map(|work| work()));
    let done = match spawned {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(_) => None,
    };
    // Without a thread, `work` is still in its slot.
    done.or_else(|| take(&work).map(|work| work()))
        .unwrap_or(ExitStatus::Error)
}

/// Runs a command on the calling thread — the binary's `main` thread — as the first worker of
/// a rayon pool like [`on_large_stack`]'s, once that thread's stack may grow to
/// [`STACK_BYTES`]; on [`on_large_stack`]'s thread otherwise. A library caller, whose thread is
/// not a process's main thread, calls [`on_large_stack`].
///
/// On Linux the main thread's stack grows as it is used, up to the stack limit of the moment
/// (`RLIMIT_STACK`, 8 MiB by default): the soft limit is raised to [`STACK_BYTES`] when it is
/// lower and the hard limit allows (programs driftguard starts, such as `git`, inherit it).
/// The kernel leaves room below a main stack for the limit it had at start and its guard gap,
/// and places the stack and the other mappings at random offsets (up to 16 GiB and 1 TiB on
/// x86-64) that leave more than 64 MiB free in all but about one start in ten million; there
/// the stack stops where the nearest mapping lies, never short of the limit it started with.
/// An overflow ends the process with a plain `SIGSEGV` rather than Rust's "has overflowed its
/// stack" (which knows the main stack's start-up limit only); under an emulator that fixes the
/// main stack's size (qemu-user, valgrind) the margin is the emulator's. The readers bound
/// their recursion well below either size ([`STACK_BYTES`]).
///
/// Starting a thread for the command instead cost a new thread (its stack and allocator heap
/// faulted in) and two wake-ups across processors, the thread's start and, at its end,
/// `main`'s: a new edit at 50 models / 40 migrations after a pause, alternating with the build
/// that ran the command on a thread of its own (16 rounds each way, medians): 4.6 → 3.9 and
/// 4.5 → 4.3 ms, CPU 4.8 → 4.2 and 5.1 → 4.4 ms, page faults 610 → 549–576; 500 / 2,000 7.5 →
/// 7.3 ms. Elsewhere (where a main thread's stack is fixed when the process starts) the
/// command runs on [`on_large_stack`]'s thread.
pub fn on_main_thread(work: impl FnOnce() -> ExitStatus + Send + 'static) -> ExitStatus {
    #[cfg(target_os = "linux")]
    if is_main_thread() && main_stack_may_grow_to(STACK_BYTES) {
        return match as_first_worker(work) {
            Ok(done) => done,
            Err(work) => on_large_stack(work),
        };
    }
    on_large_stack(work)
}

/// Whether this is the process's main thread (its thread id is the process id).
#[cfg(target_os = "linux")]
fn is_main_thread() -> bool {
    // SAFETY: `gettid` and `getpid` take nothing and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) == libc::c_long::from(libc::getpid()) }
}

/// Whether this process's main thread may grow its stack to `bytes`: the soft stack limit is
/// that or more (or none), or could be raised to it.
#[cfg(target_os = "linux")]
fn main_stack_may_grow_to(bytes: usize) -> bool {
    let wanted = bytes as libc::rlim_t;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` into the one it is given; `setrlimit` reads it.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_STACK, &mut limit) != 0 {
            return false;
        }
        if limit.rlim_cur == libc::RLIM_INFINITY || limit.rlim_cur >= wanted {
            return true;
        }
        if limit.rlim_max != libc::RLIM_INFINITY && limit.rlim_max < wanted {
            return false;
        }
        limit.rlim_cur = wanted;
        libc::setrlimit(libc::RLIMIT_STACK, &limit) == 0
    }
}

/// Set by [`process_ends_after_run`].
pub(crate) static PROCESS_ENDS_AFTER_RUN: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Tells the library that the process ends as soon as the command returns (the binary's
/// `main`, which ends it with `_exit`): what a run holds at its end is then left to the system
/// instead of being freed. A library caller that goes on running never calls this.
pub fn process_ends_after_run() {
    PROCESS_ENDS_AFTER_RUN.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether stdout is a terminal; for `main`.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

fn run_check(
    args: cli::CheckArgs,
    color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let mode = if args.staged {
        Mode::Staged
    } else if let Some(reference) = args.base {
        Mode::Base(reference)
    } else {
        Mode::All
    };
    let options = check::CheckOptions {
        path: args.path,
        mode,
        config: args.config,
        fail_on: args.fail_on.map(fail_on),
    };
    let baseline = match &args.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
                message: format!(
                    "cannot read the baseline `{}`: {e}; write one with `driftguard check --write-baseline {}`",
                    path.display(),
                    path.display()
                ),
                source: e,
            })?;
            Some(baseline::Baseline::parse(
                &path.display().to_string(),
                &text,
            )?)
        }
        None => None,
    };
    if let Some(path) = &args.write_baseline {
        refuse_to_overwrite(path)?;
    }
    let mut report = check::run(&options)?;
    rules::name_fix_command(&mut report.findings, &options.mode, &options.path);
    if let Some(path) = &args.write_baseline {
        let text = baseline::Baseline::render(&report.findings);
        std::fs::write(path, text).map_err(|e| Error::io("cannot write the baseline", path, e))?;
        let message = format!(
            "wrote {} finding(s) to the baseline {}\n",
            report.findings.len(),
            path.display()
        );
        write_out(stderr, &message)?;
        return Ok(ExitStatus::Clean);
    }
    if let Some(baseline) = &baseline {
        let before = report.findings.len();
        report.findings.retain(|f| !baseline.contains(f));
        report.summary.preexisting += before - report.findings.len();
        report.summary.findings = report.findings.len();
    }
    report_out(&report, args.format, color, stdout, stderr)
}

/// `--write-baseline FILE` replaces FILE only when it is missing or a driftguard baseline: a
/// mistyped `--write-baseline core.py` must not overwrite a source file.
fn refuse_to_overwrite(path: &std::path::Path) -> Result<(), Error> {
    let text = match std::fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("cannot read the baseline to replace", path, e)),
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_else(|_| "\u{fffd}".to_string()),
    };
    // An empty file holds nothing to lose (`touch baseline.json` first is common).
    if text.trim().is_empty()
        || baseline::Baseline::parse(&path.display().to_string(), &text).is_ok()
    {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "`{}` exists and is not a driftguard baseline, so --write-baseline will not overwrite it; pass a new file name (e.g. `driftguard-baseline.json`), or delete the file first if it really is to be replaced",
        path.display()
    )))
}

/// `--fail-on`: `Some(None)` is `never`.
fn fail_on(choice: FailOn) -> Option<Severity> {
    match choice {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Never => None,
    }
}

/// Warnings on stderr, the report in its format on stdout, and the exit status it earns.
fn report_out(
    report: &Report,
    format: render::Format,
    color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let mut warnings = String::new();
    for warning in &report.warnings {
        warnings.push_str(&render::human::warning_line(warning));
        warnings.push('\n');
    }
    write_out(stderr, &warnings)?;
    let text = match format {
        render::Format::Human => render::human::render(
            report,
            &report.sources,
            render::human::Style { color, width: 100 },
        ),
        render::Format::Json => render::json::render(report),
        render::Format::Github => render::github::render(report),
        render::Format::Sarif => render::sarif::render(report),
        render::Format::Junit => render::junit::render(report),
        render::Format::Gitlab => render::gitlab::render(report),
        render::Format::Markdown => render::markdown::render(report),
    };
    write_out(stdout, &text)?;
    Ok(if report.failed() {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn run_db_diff(
    args: cli::DbDiffArgs,
    color: bool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let options = dbdiff::DbDiffOptions {
        path: args.path,
        database_url: args.database_url,
        schemas: args.schemas,
        with_migrations: args.with_migrations,
        config: args.config,
        fail_on: args.fail_on.map(fail_on),
        allow_insecure_password: args.allow_insecure_password,
    };
    let mut say = |line: &str| write_out(stderr, &format!("{line}\n"));
    let report = dbdiff::run(&options, &mut say)?;
    report_out(&report, args.format, color, stdout, stderr)
}

fn run_schema(
    args: cli::SchemaArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    if args.format == inventory::SchemaFormat::Markdown {
        // The one format that names the model classes: it reads the models too.
        let project = project::read_project(&args.path, args.config.as_deref(), None, true)?;
        let sources = match &args.source {
            Some(wanted) => vec![inventory::pick_source(project.sources, wanted)?],
            None => project.sources,
        };
        let mut lines = String::new();
        for warning in &project.warnings {
            lines.push_str(&render::human::warning_line(warning));
            lines.push('\n');
        }
        write_out(stderr, &lines)?;
        let text =
            inventory::markdown::render(&sources, &project.tables, &project.config.default_schema);
        write_out(stdout, &text)?;
        return Ok(ExitStatus::Clean);
    }
    let options = inventory::SchemaOptions {
        path: args.path,
        config: args.config,
        source: args.source,
    };
    let (inventory, warnings) = inventory::inventory(&options)?;
    let mut lines = String::new();
    for warning in &warnings {
        lines.push_str(&render::human::warning_line(warning));
        lines.push('\n');
    }
    write_out(stderr, &lines)?;
    let text = match args.format {
        inventory::SchemaFormat::Json => inventory::render_json(&inventory)?,
        // Markdown was written above, with the models.
        inventory::SchemaFormat::Table | inventory::SchemaFormat::Markdown => {
            inventory::render_table(&inventory)
        }
    };
    write_out(stdout, &text)?;
    Ok(ExitStatus::Clean)
}

fn run_fix(
    args: cli::FixArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<ExitStatus, Error> {
    let mode = if args.staged {
        Mode::Staged
    } else if let Some(reference) = args.base {
        Mode::Base(reference)
    } else {
        Mode::All
    };
    let result = fix::run(&fix::FixOptions {
        path: args.path,
        mode,
        config: args.config,
        write: args.write,
        name: args.name,
        kind: args.kind.map(|k| match k {
            cli::FixKind::Sql => config::SourceKind::Sql,
            cli::FixKind::Alembic => config::SourceKind::Alembic,
        }),
    })?;
    write_out(stderr, &result.stderr)?;
    write_out(stdout, &result.stdout)?;
    Ok(if result.failed() {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn run_rule(code: Option<&str>, stdout: &mut dyn Write) -> Result<ExitStatus, Error> {
    let text = match code {
        Some(code) => {
            let rule = Rule::from_code_or_name(code).ok_or_else(|| {
                Error::Usage(format!(
                    "`{code}` is not a driftguard rule; run `driftguard rule` to list them"
                ))
            })?;
            format!(
                "# {} {}\n\nSeverity: {}\n\n{}",
                rule.code(),
                rule.name(),
                rule.default_severity().as_str(),
                rule.explanation()
            )
        }
        None => Rule::ALL
            .iter()
            .map(|r| format!("{}  {:<34} {}\n", r.code(), r.name(), r.summary()))
            .collect(),
    };
    write_out(stdout, &text)?;
    Ok(ExitStatus::Clean)
}
