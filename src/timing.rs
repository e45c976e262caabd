//! Timing spans for profiling a run: with `DRIFTGUARD_TIMINGS=1` each [`span`] writes
//! `driftguard timing: <name> <ms>` to stderr when it ends. Off (one relaxed load) otherwise.
//! A debugging aid for `benches/`, not output a user relies on.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("DRIFTGUARD_TIMINGS").is_some_and(|v| v == "1"))
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

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            let _ = writeln!(
                std::io::stderr(),
                "driftguard timing: {} {ms:.1} ms",
                self.name
            );
        }
    }
}

/// Writes `driftguard timing: <name> <n>` (a count, such as the files hashed) when timings are on.
pub fn count(name: &str, n: usize) {
    if enabled() {
        let _ = writeln!(std::io::stderr(), "driftguard timing: {name} {n}");
    }
}
