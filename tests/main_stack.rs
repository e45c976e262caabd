//! `on_main_thread` on a process's main thread (this test has no harness, so `main` is that
//! thread): the command runs there, as the first worker of its pool, on a stack that grows past
//! a main thread's usual 8 MiB, and the pool's other workers have large stacks too.

use driftguard::{ExitStatus, on_main_thread};

#[path = "support/stack.rs"]
mod stack;

#[cfg(target_os = "linux")]
fn main() {
    let limit = || {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` writes one `rlimit` into the one it is given.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) },
            0
        );
        limit
    };
    let wanted = driftguard::STACK_BYTES as libc::rlim_t;
    let at_start = limit();
    let may_grow = [at_start.rlim_cur, at_start.rlim_max]
        .iter()
        .any(|&bytes| bytes == libc::RLIM_INFINITY || bytes >= wanted);
    let main_thread = std::thread::current().id();
    let status = on_main_thread(move || {
        if may_grow {
            assert_eq!(
                std::thread::current().id(),
                main_thread,
                "on the main thread"
            );
        } else {
            // A hard limit below 64 MiB (`prlimit --stack=8388608:8388608`): a thread of its own.
            assert_eq!(std::thread::current().name(), Some("driftguard"));
        }
        stack::the_command_and_its_pool_run_deep();
        ExitStatus::Findings
    });
    assert_eq!(status, ExitStatus::Findings);
    let now = limit().rlim_cur;
    if may_grow {
        assert!(
            now == libc::RLIM_INFINITY || now >= wanted,
            "the stack limit was raised: {now}"
        );
        say("main_stack: a command on the main thread ran 12 MiB deep, and 4 MiB on every worker");
    } else {
        assert_eq!(
            now, at_start.rlim_cur,
            "a limit that cannot be raised is left as it was"
        );
        say(
            "main_stack: under a hard stack limit below 64 MiB a command ran on a thread of its own",
        );
    }
}

/// One line on stdout (the print macros are kept for `main.rs` and `render/`).
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Elsewhere a main thread's stack is fixed when the process starts: the command runs on
/// `on_large_stack`'s thread.
#[cfg(not(target_os = "linux"))]
fn main() {
    let status = on_main_thread(|| {
        assert_eq!(std::thread::current().name(), Some("driftguard"));
        stack::the_command_and_its_pool_run_deep();
        ExitStatus::Clean
    });
    assert_eq!(status, ExitStatus::Clean);
}
