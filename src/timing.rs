//! Timing spans for profiling a run: with `DRIFTGUARD_TIMINGS=1` each [`span`] writes
//! `driftguard timing: <name> [<from>–<to>] <ms>` (when it began and ended, in ms from the
//! first span, so the threads' spans read as one timeline; and the resident memory then) to
//! stderr when it ends, from whichever thread it ends on. Off (one relaxed load) otherwise. A debugging aid for
//! `benches/`, not output a user relies on.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let on = std::env::var_os("DRIFTGUARD_TIMINGS").is_some_and(|v| v == "1");
        if on {
            epoch();
        }
        on
    })
}

/// When the first span began: each span also says when it began and ended from then, to
/// read the threads' spans as one timeline.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A span that reports its wall time when dropped.
pub struct Span {
    name: &'static str,
    start: Option<Instant>,
}

/// Starts a span named `name`.
pub fn span(name: &'static str) -> Span {
    Span {
        name,
        start: enabled().then(Instant::now),
    }
}

/// Where spans write: the process's stderr opened anew, not `std::io::stderr()` — the command
/// holds that lock while it runs, and a span that ends on one of rayon's threads would wait
/// for it forever. `None` where there is no `/dev/stderr`: the spans are then silent.
fn sink() -> Option<&'static std::fs::File> {
    static SINK: OnceLock<Option<std::fs::File>> = OnceLock::new();
    SINK.get_or_init(|| {
        std::fs::OpenOptions::new()
            .append(true)
            .open("/dev/stderr")
            .ok()
    })
    .as_ref()
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(start) = self.start
            && let Some(mut sink) = sink()
        {
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            let from = start.duration_since(epoch()).as_secs_f64() * 1000.0;
            let name = format!("{} [{from:.1}–{:.1}]", self.name, from + ms);
            // One write per line, so lines of spans ending at once do not mix.
            let line = match resident_mb() {
                Some(mb) => format!("driftguard timing: {name} {ms:.1} ms (resident {mb} MB)\n"),
                None => format!("driftguard timing: {name} {ms:.1} ms\n"),
            };
            let _ = sink.write_all(line.as_bytes());
        }
    }
}

/// The process's resident memory in MiB when the span ends (Linux's `/proc/self/statm`, pages
/// of 4 KiB), `None` elsewhere.
fn resident_mb() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / (1024 * 1024))
}

/// Writes `driftguard timing: <name> <n>` (a count, such as the files hashed) when timings are on.
pub fn count(name: &str, n: usize) {
    if enabled()
        && let Some(mut sink) = sink()
    {
        let _ = sink.write_all(format!("driftguard timing: {name} {n}\n").as_bytes());
    }
}
