// STUB
use super::MigrationEvents;
use crate::finding::Warning;
use crate::source::SourceFile;
#[derive(Debug, Clone)]
pub struct Revision {
    pub path: String,
    pub revision: String,
    pub down_revisions: Vec<String>,
    pub depends_on: Vec<String>,
    pub branch_labels: Vec<String>,
    pub events: MigrationEvents,
}
pub fn read_revision(file: &SourceFile) -> Option<Revision> {
    let _ = file;
    None
}
pub fn order(revisions: Vec<Revision>) -> (Vec<Revision>, Vec<Warning>) {
    (revisions, Vec::new())
}
