//! Renderers: a [`Report`](crate::check::Report) → text for people or machines.
//!
//! One file per format behind one [`Format`] enum. Renderers only read findings; they never
//! decide anything about them. Output goes to the writer given (stdout, handled for closed
//! pipes by `main`).

pub mod human;
pub mod json;

use std::collections::BTreeMap;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with the model line and the suggested SQL.
    Human,
    /// Versioned JSON (`"version": 1`).
    Json,
}

/// The text of the files findings point into, by path, for snippets.
pub type Sources = BTreeMap<String, String>;
