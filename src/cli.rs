//! The command line, declared with clap. Each field's doc comment is its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::inventory::SchemaFormat;
use crate::render::Format;
use crate::secret::Secret;

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

impl Cli {
    /// The command line, parsed. The pre-commit hook's own command line, `driftguard check
    /// --staged` exactly (what `driftguard install`'s hook and the pre-commit framework's entry
    /// run), is taken as it is, without clap building its tree of every command and flag: that
    /// was ~0.2 ms of CPU at the start of every hook run (a tenth of a check with nothing to
    /// check). A test holds it to what clap gives for the same words.
    pub fn from_command_line() -> Result<Cli, clap::Error> {
        let mut args = std::env::args_os().skip(1);
        if let (Some(first), Some(second), None) = (args.next(), args.next(), args.next())
            && first == "check"
            && second == "--staged"
        {
            return Ok(Cli::staged_check());
        }
        Cli::try_parse()
    }

    /// `driftguard check --staged`, as clap parses it.
    fn staged_check() -> Cli {
        Cli {
            command: Command::Check(CheckArgs {
                path: PathBuf::from("."),
                all: false,
                staged: true,
                base: None,
                format: Format::Human,
                config: None,
                fail_on: None,
                baseline: None,
                write_baseline: None,
            }),
            color: ColorChoice::Auto,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the migrations create what the models map.
    Check(CheckArgs),
    /// Compare the models (and with --with-migrations the migrations) with a live PostgreSQL
    /// database, read-only.
    DbDiff(DbDiffArgs),
    /// Print the schema the migrations build (tables, columns, enums), without a database.
    Schema(SchemaArgs),
    /// Write the migration that creates what the models map and no migration creates.
    ///
    /// Runs the same check (`--all`, `--staged`, `--base REF`) and writes one migration that
    /// closes every DG001–DG004 it reports: a SQL file in the handbook's structure, or an
    /// Alembic revision. Without --write it prints the file. It never overwrites a file and
    /// never stages one.
    Fix(FixArgs),
    /// Explain a rule, or list them all.
    Rule {
        /// A rule code (`DG001`) or name (`column-without-migration`).
        code: Option<String>,
    },
    /// Install the git pre-commit hook that runs `driftguard check --staged` on every commit.
    ///
    /// Honours `core.hooksPath` and linked worktrees. An existing hook is kept as
    /// `pre-commit.legacy` and runs first. In a repository with `.pre-commit-config.yaml` it
    /// prints the lines to add there instead.
    Install(InstallArgs),
    /// Remove driftguard's pre-commit hook and put back the hook it replaced.
    Uninstall(UninstallArgs),
    /// Manage the parse cache of change checks (`.git/driftguard/`).
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Delete the cache folder (`.git/driftguard/` of the repository; shared by its worktrees).
    ///
    /// Always safe: the next check rebuilds what it needs. The cache also stays under 256 MB
    /// by itself (`DRIFTGUARD_CACHE_MAX_MB`), least recently used entries first.
    Clean {
        /// A folder inside the repository.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// A folder inside the repository.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// When `pre-commit.legacy` already exists, delete it so that the current hook can be
    /// kept in its place.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// A folder inside the repository.
    #[arg(default_value = ".")]
    pub path: PathBuf,
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
    #[arg(long, value_name = "REF", value_parser = non_empty_ref)]
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

#[derive(Debug, Args)]
pub struct FixArgs {
    /// The project root (or a folder inside it).
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Close what the whole working tree lacks (the default).
    #[arg(long, conflicts_with_all = ["staged", "base"])]
    pub all: bool,

    /// Close what the staged change introduces (refuses when a file it reads has unstaged
    /// edits).
    #[arg(long, conflicts_with = "base")]
    pub staged: bool,

    /// Close what the branch introduces since its merge base with REF.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,

    /// Write the migration (and print its path); without it the migration is printed.
    #[arg(long)]
    pub write: bool,

    /// The description in the file name and header (default: from what it creates).
    #[arg(long, value_name = "DESC")]
    pub name: Option<String>,

    /// The kind of migration to write; needed when the project has both.
    #[arg(long, value_enum)]
    pub kind: Option<FixKind>,

    /// Use this config file instead of looking for one at the root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixKind {
    Sql,
    Alembic,
}

/// `db-diff`'s arguments. Its `Debug` hides the database URL, which may hold a password.
#[derive(Debug, Args)]
pub struct DbDiffArgs {
    /// The project root whose models are compared with the database.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// The database: postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…] (also
    /// postgres://, SQLAlchemy's postgresql+asyncpg://, +psycopg2://, +psycopg://, or a libpq
    /// `host=… dbname=…` string). The password may also come from PGPASSWORD or ~/.pgpass; it
    /// is never printed.
    // `hide_env_values`: `--help` must not print a DATABASE_URL that holds a password.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// Compare only these database schemas (comma-separated); default: every schema but
    /// PostgreSQL's own.
    #[arg(long, value_name = "SCHEMA,…", value_delimiter = ',')]
    pub schemas: Vec<String>,

    /// Send the password when a server asks for it in cleartext or MD5 over a connection
    /// without TLS to another host (refused otherwise; loopback and Unix sockets are allowed).
    #[arg(long)]
    pub allow_insecure_password: bool,

    /// Also report what the migrations create but the database lacks (migrations not applied),
    /// and point findings at the migration that would fix them.
    #[arg(long)]
    pub with_migrations: bool,

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

    /// Output format: a readable inventory, JSON shaped like `information_schema`, or the
    /// handbook's "Schema Inventory" in Markdown (with the model class of each table).
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

/// `--base ""` (an unset CI variable) is a usage error, not a ref named ``.
fn non_empty_ref(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(
            "--base needs a git ref to compare with (a branch, tag or commit, e.g. `--base origin/main`); in CI, check that the variable it comes from is set"
                .to_string(),
        );
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hook's command line taken without clap is what clap makes of it, field for field.
    #[test]
    fn the_hooks_command_line_taken_as_it_is_equals_claps_parse() {
        let parsed = Cli::try_parse_from(["driftguard", "check", "--staged"]).expect("parses");
        assert_eq!(format!("{:?}", Cli::staged_check()), format!("{parsed:?}"));
    }
}
