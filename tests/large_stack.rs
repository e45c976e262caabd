//! `on_large_stack` in a process of its own: a command runs on a large stack as the first
//! worker of a pool whose other workers have large stacks too, never on rayon's default pool
//! (small stacks). No other test shares this process, so nothing else makes a pool first.

use driftguard::{ExitStatus, on_large_stack};

#[path = "support/stack.rs"]
mod stack;

#[test]
fn a_command_and_its_pool_run_on_large_stacks() {
    let status = on_large_stack(|| {
        assert_eq!(std::thread::current().name(), Some("driftguard"));
        // The command's thread is the pool's first worker: its parallel calls run on it too.
        stack::the_command_and_its_pool_run_deep();
        let (left, right) = rayon::join(|| stack::deep(4 * 1024), || stack::deep(4 * 1024));
        assert_eq!(left + right, 8 * 1024);
        ExitStatus::Findings
    });
    assert_eq!(status, ExitStatus::Findings);
    // A second command in one process (a library caller's) gets a pool of its own.
    assert_eq!(
        on_large_stack(|| {
            assert_eq!(rayon::current_thread_index(), Some(0));
            ExitStatus::Clean
        }),
        ExitStatus::Clean
    );
}
