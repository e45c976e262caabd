//! The `driftguard` binary: parse the command line, run, exit with the status's code.

/// mimalloc: a check allocates millions of small strings and trees (decoding its parse cache,
/// resolving models). With the system allocator a new edit on 5,000 models / 20,000 migrations
/// took 0.41 s, with mimalloc 0.27 s (peak RSS 220 → 270 MB). Its 2.x line, not 3.x: most of
/// a new edit's CPU beyond the work itself is the kernel zeroing fresh pages, and mimalloc 3
/// asked for more of them (5,000/20,000, 20 edits alternating: 82 → 71 ms median, peak RSS
/// 128 → 105 MB; a cold `check --all` 1.4 → 1.2 s).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(
    clippy::disallowed_methods,
    reason = "main is the one place that maps ExitStatus to a process exit"
)]
fn main() {
    tree_sitter_allocates_from_mimalloc();
    let cli = match driftguard::cli::Cli::from_command_line() {
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
    driftguard::process_ends_after_run();
    let status = driftguard::on_main_thread(move || {
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
    exit_now(status.code());
}

/// The heap is faulted in 4 KiB pages, not 2 MiB transparent huge pages: mimalloc asks for huge
/// pages on its arena (`madvise(MADV_HUGEPAGE)`), and a huge page is zeroed whole however
/// little of it is used. Measured on a 2-core virtual machine, 5,000 models / 20,000
/// migrations, a new edit with a 2-second pause before it, as a developer commits (8 edits
/// each, alternating): 90.4 ms with huge pages against 37.5 ms without (CPU 156 → 58 ms). Memory
/// the system has handed back to its host while idle is slow to fault in again, and slowest
/// as huge pages. Back to back, with the memory still warm, huge pages were faster (30.1 →
/// 36.1 ms; `benches/bench.sh` 25.5 → 39.4 ms): a hook does not run back to back. Applies to
/// this process (and what it starts) only.
///
/// Set by the C library's start-up, before `main` and before the Rust runtime's first
/// allocation: set in `main`, it came after that allocation, which had already faulted
/// mimalloc's first 2 MiB in as one huge page (`thp_fault_alloc` in `/proc/vmstat` rose by
/// one for each run, `--version` included).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static HEAP_IN_SMALL_PAGES: extern "C" fn() = heap_in_small_pages;

#[cfg(target_os = "linux")]
extern "C" fn heap_in_small_pages() {
    // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` takes plain integers, touches no memory
    // of ours and only sets a flag of the process; on a kernel without it, it fails (ignored).
    // It allocates nothing, so it may run before the allocator and the Rust runtime are set up.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// tree-sitter's C library allocates its parse trees from mimalloc too, not from the C
/// library's `malloc`: that heap started empty in every run, and the parse of an edited model
/// file (a few hundred kilobytes of nodes, freed at once) grew it page by page, each a fresh
/// page the kernel zeroed. From mimalloc the nodes reuse the heap the check already has.
fn tree_sitter_allocates_from_mimalloc() {
    // SAFETY: mimalloc's `mi_malloc`, `mi_calloc`, `mi_realloc` and `mi_free` are one
    // allocator family with `malloc`'s contract (alignment, null only when memory runs out,
    // which tree-sitter's own default turns into an abort anyway). This runs first in `main`,
    // before any tree-sitter call and before any other thread exists, and never again.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: libmimalloc_sys::mi_malloc,
            calloc: zeroed_array,
            realloc: libmimalloc_sys::mi_realloc,
            free: libmimalloc_sys::mi_free,
        }));
    }
}

/// `calloc` over mimalloc's zeroed allocation (its own `mi_calloc` is in the crate's extended
/// set): null when the size overflows, as `calloc` returns.
unsafe extern "C" fn zeroed_array(count: usize, size: usize) -> *mut std::ffi::c_void {
    match count.checked_mul(size) {
        // SAFETY: `mi_zalloc` takes any size and returns null or a zeroed block of it.
        Some(bytes) => unsafe { libmimalloc_sys::mi_zalloc(bytes) },
        None => std::ptr::null_mut(),
    }
}

/// Ends the process once the output is flushed, without the exit handlers: mimalloc's would
/// first hand every page of the heap back to the system, one `madvise` per 64 KiB (~850
/// calls and ~4 ms after a check of 5,000 models), memory the system takes back anyway.
#[allow(
    clippy::disallowed_methods,
    reason = "main is the one place that maps ExitStatus to a process exit"
)]
fn exit_now(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    #[cfg(target_os = "linux")]
    memory_freed_after_exit();
    #[cfg(unix)]
    // SAFETY: `_exit` ends the process at once. Nothing is left to run: the output is flushed,
    // every cache file was written whole and renamed into place before, and the threads that
    // free memory in the background need not finish.
    unsafe {
        libc::_exit(code)
    }
    #[cfg(not(unix))]
    std::process::exit(code)
}

/// Leaves the freeing of the process's memory to a helper that shares it, so that whoever waits
/// for driftguard (a git hook, pre-commit, CI) is told it ended before the kernel has freed its
/// pages, which after a new edit at 5,000 models / 20,000 migrations (~45 MB of 4 KiB pages)
/// came after the output was written: that check now ends 5.4–5.5 ms sooner, 38.7 → 33.3 ms
/// after a pause and 40.8 → 35.3 ms back to back. The kernel frees an address space when
/// its last user ends; the helper (a process sharing the address space, `CLONE_VM`) is that
/// last user. It closes every file it inherited — a reader of driftguard's output then sees the
/// end of it when driftguard ends — waits for a pipe whose other end only driftguard holds (it
/// closes when driftguard has ended), and ends. Anything that fails here leaves the ordinary
/// exit, which frees the memory itself.
#[cfg(target_os = "linux")]
fn memory_freed_after_exit() {
    const STACK: usize = 64 << 10;
    let mut ends = [0 as libc::c_int; 2];
    // SAFETY: `pipe2` writes two descriptors into the array it is given, which holds two.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let [read_end, write_end] = ends;
    // SAFETY: a fresh private mapping for the helper's stack; nothing else uses it. It stays
    // mapped as long as the address space, which the helper keeps alive.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        // SAFETY: both descriptors are ours and open.
        unsafe {
            libc::close(read_end);
            libc::close(write_end);
        }
        return;
    }
    // Both descriptors travel in the argument's bits: the helper reads no memory of ours.
    let ends_bits = ((read_end as u32 as usize) << 32) | write_end as u32 as usize;
    // SAFETY: `clone` starts `helper` on the top of `stack` (the stack grows down) in this
    // address space. `helper` only makes system calls on its own stack and ends with
    // `exit_group`; `SIGCHLD` makes it an ordinary child, reaped by whoever inherits it. A
    // failed `clone` (-1) starts nothing, and the process then frees its memory as it ends.
    // The read end is ours and open (the helper has its own copy); the write end stays open
    // until the process ends.
    unsafe {
        libc::clone(
            helper,
            stack.cast::<u8>().add(STACK).cast(),
            libc::CLONE_VM | libc::SIGCHLD,
            ends_bits as *mut libc::c_void,
        );
        libc::close(read_end);
    }
}

/// The helper of [`memory_freed_after_exit`]: closes every inherited descriptor but the pipe's
/// read end, waits until that pipe has no writer (driftguard has ended), and ends.
#[cfg(target_os = "linux")]
extern "C" fn helper(ends_bits: *mut libc::c_void) -> libc::c_int {
    let bits = ends_bits as usize;
    let read_end = (bits >> 32) as u32 as libc::c_int;
    let write_end = (bits & 0xffff_ffff) as u32 as libc::c_int;
    // SAFETY: system calls through `syscall` on descriptors of this process's own table (a copy
    // of driftguard's), not the C library's wrappers (whose cancellation bookkeeping works on
    // the thread that called `clone`); on failure `syscall` sets `errno`, in memory this
    // address space keeps until the helper has ended. Nothing else is touched but the
    // one-byte buffer on this stack.
    unsafe {
        libc::syscall(libc::SYS_close, write_end);
        let below = match read_end {
            0 => 0,
            _ => libc::syscall(
                libc::SYS_close_range,
                0u32,
                (read_end as u32).wrapping_sub(1),
                0u32,
            ),
        };
        let above = libc::syscall(
            libc::SYS_close_range,
            (read_end as u32).wrapping_add(1),
            u32::MAX,
            0u32,
        );
        if below != 0 || above != 0 {
            // A kernel before 5.9: the descriptors a reader may wait on are the first ones.
            for fd in 0..1024 {
                if fd != read_end {
                    libc::syscall(libc::SYS_close, fd);
                }
            }
        }
        let mut byte = 0u8;
        // Until the pipe has no writer (0), or fails for good; an interrupted read goes on.
        while libc::syscall(
            libc::SYS_read,
            read_end,
            (&raw mut byte).cast::<libc::c_void>(),
            1usize,
        ) < 0
            && *libc::__errno_location() == libc::EINTR
        {}
        libc::syscall(libc::SYS_exit_group, 0);
    }
    0
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_heap_is_faulted_in_small_pages_from_before_main() {
        // Not called here: the C library's start-up called it, before this test binary's
        // `main` (it holds the same `.init_array` entry as driftguard's).
        // SAFETY: `PR_GET_THP_DISABLE` reads the process's flag and touches no memory.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1, "huge pages are still allowed for this process");
    }
}
