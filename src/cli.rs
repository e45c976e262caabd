//! The command line, declared with clap. Each field's doc comment is its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::render::Format;

/// Proves statically that every column and table your SQLAlchemy models map is created by
/// your migrations — no database needed.
#[derive(Debug, Parser)]
#[command(name = "driftguard", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the migrations create what the models map.
    Check(CheckArgs),
    /// Explain a rule, or list them all.
    Rule {
        /// A rule code (`DG001`) or name (`column-without-migration`).
        code: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The project root (or a folder inside it) to check.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Audit the whole working tree (the default).
    #[arg(long, conflicts_with_all = ["staged", "base"])]
    pub all: bool,

    /// Check what the staged change introduces (HEAD against the index): for pre-commit hooks.
    #[arg(long, conflicts_with = "base")]
    pub staged: bool,

    /// Check what the branch introduces since its merge base with REF: for pull requests.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Use this config file instead of looking for one at the root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Lowest severity that fails the run (exit 1); `never` always exits 0 after reporting.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// Do not report findings listed in this baseline file (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write every current finding to FILE as the accepted baseline, then exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
