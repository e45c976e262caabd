//! What `large_stack` and `main_stack` check of a command's thread and its pool (included by
//! both with `#[path]`).

/// Recursion with a kibibyte of frame per level: `levels` of it need at least as many KiB of
/// stack (about three times that unoptimised).
pub fn deep(levels: u32) -> u32 {
    let frame = std::hint::black_box([1u8; 1024]);
    match levels {
        0 => 0,
        _ => deep(levels - 1) + u32::from(frame[levels as usize % 1024]),
    }
}

/// On a command's thread: it is its pool's first worker and runs 12 MiB of frames or more (more
/// than a main thread's usual 8 MiB, within its 64), and every worker of the pool runs 4 MiB or
/// more (within their 16 MiB; rayon's default stack is 2 MiB, and a thread that overflows it
/// ends the process).
pub fn the_command_and_its_pool_run_deep() {
    assert_eq!(rayon::current_thread_index(), Some(0));
    assert_eq!(deep(12 * 1024), 12 * 1024);
    let each = rayon::broadcast(|context| (context.index(), deep(4 * 1024)));
    assert_eq!(each.len(), rayon::current_num_threads());
    for (index, (ran_on, depth)) in each.into_iter().enumerate() {
        assert_eq!((ran_on, depth), (index, 4 * 1024));
    }
}
