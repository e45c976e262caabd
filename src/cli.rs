//! The command line, declared with clap. Each field's doc comment is its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::render::Format;
use crate::schema_cmd::SchemaFormat;

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
    /// Print the schema the migrations build (tables, columns, enums), without a database.
    Schema(SchemaArgs),
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
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The project root whose migrations to replay.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Output format: a readable inventory, or JSON shaped like `information_schema`.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Table)]
    pub format: SchemaFormat,

    /// Use this config file instead of looking for one at the root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print one migration source alone (`sql`, `alembic`, or the path an Alembic environment
    /// or a declared source is named by); default: the union of all sources.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
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
