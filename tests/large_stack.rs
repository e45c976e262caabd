//! `on_large_stack` in a process of its own: the first parallel call of a command must find
//! rayon's pool made as `on_large_stack` makes it (large stacks), never rayon's default one
//! (its command thread starts before the pool's threads have). No other test shares this
//! process, so nothing else makes the pool first.

use driftguard::{ExitStatus, on_large_stack};

/// Recursion with a kibibyte of frame per level: `levels` of it need at least as many KiB of
/// stack (about three times that unoptimised).
fn deep(levels: u32) -> u32 {
    let frame = std::hint::black_box([1u8; 1024]);
    match levels {
        0 => 0,
        _ => deep(levels - 1) + u32::from(frame[levels as usize % 1024]),
    }
}

#[test]
fn a_command_and_its_pool_run_on_large_stacks() {
    let status = on_large_stack(|| {
        assert_eq!(std::thread::current().name(), Some("driftguard"));
        // 12 MiB of frames or more on the command's thread: more than a main thread's usual
        // 8 MiB, within its 64.
        assert_eq!(deep(12 * 1024), 12 * 1024);
        // 4 MiB or more on the pool's threads (within their 16 MiB; rayon's default stack is
        // 2 MiB, and a thread that overflows it ends the process). `join` from outside the pool
        // runs both halves on its threads.
        let (left, right) = rayon::join(|| deep(4 * 1024), || deep(4 * 1024));
        assert!(rayon::current_thread_index().is_none());
        assert_eq!(left + right, 8 * 1024);
        ExitStatus::Findings
    });
    assert_eq!(status, ExitStatus::Findings);
    // A second command in one process (a library caller's) finds the pool made.
    assert_eq!(on_large_stack(|| ExitStatus::Clean), ExitStatus::Clean);
}
