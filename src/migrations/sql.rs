//! Raw PostgreSQL migrations → schema change events. (Being written.)

use super::MigrationEvents;
use crate::source::{Location, SourceFile};

/// Reads one `.sql` migration file.
pub fn read(file: &SourceFile) -> MigrationEvents {
    let _ = file;
    MigrationEvents::default()
}

/// Reads SQL embedded in another file (Alembic's `op.execute("…")`): locations are reported at
/// `at` for the first line of `sql` and on following lines relative to it.
pub fn read_fragment(sql: &str, at: &Location) -> MigrationEvents {
    let _ = (sql, at);
    MigrationEvents::default()
}
