//! `on_large_stack` in a process of its own: a command runs on a large stack as the first
//! worker of a pool whose other workers have large stacks too, never on rayon's default pool
//! (small stacks). No other test shares this process, so nothing else makes a pool first.

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
        // The command's thread is the pool's first worker: its parallel calls run on it too.
        assert_eq!(rayon::current_thread_index(), Some(0));
        // 12 MiB of frames or more on the command's thread: more than a main thread's usual
        // 8 MiB, within its 64.
        assert_eq!(deep(12 * 1024), 12 * 1024);
        // 4 MiB or more on every thread of the pool (the others' 16 MiB; rayon's default
        // stack is 2 MiB, and a thread that overflows it ends the process).
        let each = rayon::broadcast(|context| (context.index(), deep(4 * 1024)));
        assert_eq!(each.len(), rayon::current_num_threads());
        for (index, (ran_on, depth)) in each.into_iter().enumerate() {
            assert_eq!((ran_on, depth), (index, 4 * 1024));
        }
        let (left, right) = rayon::join(|| deep(4 * 1024), || deep(4 * 1024));
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
