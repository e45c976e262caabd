//! The result of a run as plain data: what every renderer reads.
//!
//! A [`Report`] holds the findings and warnings a check (or `db-diff`) produced, the counts of
//! its [`Summary`], the [`Mode`] it ran in, and the text of the files its findings point into
//! ([`Sources`], for snippets). It sits at the bottom of the house with [`crate::finding`]:
//! checks build it, renderers read it, and neither imports the other.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::finding::Warning;
use crate::rule::Severity;

/// Which comparison a check makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Audit the whole working tree (or a plain directory).
    All,
    /// HEAD against the index: what a pre-commit hook checks.
    Staged,
    /// The merge base of REF and HEAD against HEAD: what CI checks on a pull request.
    Base(String),
}

impl Mode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::All => "all",
            Mode::Staged => "staged",
            Mode::Base(_) => "base",
        }
    }
}

/// Counts for the summary line and JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub model_files: usize,
    pub tables: usize,
    pub columns: usize,
    pub migration_files: usize,
    pub findings: usize,
    /// Change checks: findings that exist before the change too (not reported).
    pub preexisting: usize,
}

/// The text of the files findings point into, by path, for snippets.
pub type Sources = BTreeMap<String, String>;

/// The result of a check.
#[derive(Debug, Clone)]
pub struct Report {
    pub mode: Mode,
    pub findings: Vec<Finding>,
    pub warnings: Vec<Warning>,
    pub summary: Summary,
    /// Findings at or above this severity fail the run.
    pub fail_on: Option<Severity>,
    /// The change touched no Python, SQL or config file: nothing was checked.
    pub nothing_to_check: bool,
    /// The text of the files the findings point into (as checked), for snippets.
    pub sources: Sources,
}

impl Report {
    /// Whether the run fails (exit 1).
    pub fn failed(&self) -> bool {
        match self.fail_on {
            Some(level) => self.findings.iter().any(|f| f.severity >= level),
            None => false,
        }
    }
}
