//! `driftguard fix`: the one migration that closes every gap the same check reports.
//!
//! It runs the check of its mode (`--all`, `--staged`, `--base REF`), keeps the findings a
//! migration can close (DG001–DG004), plans what to create ([`plan`]) and writes it as the
//! project writes migrations: a SQL file in the handbook's structure ([`sql`]) or an Alembic
//! revision ([`alembic`]). Which kind and where: `fix: {kind, folder}` in the config, else
//! the only kind the project has (a project with both must say `--kind`); the file goes
//! beside the newest migration of that folder, named as that folder names files.
//!
//! It never overwrites a file and never stages one: it prints the `git add` to run. Without
//! `--write` the file goes to stdout. `--staged` refuses when a file it reads (a model, a
//! migration, the config) has unstaged edits: the migration would be written against content
//! the user does not see. The output is deterministic: the time is `SOURCE_DATE_EPOCH` when
//! set, and an Alembic revision id is a hash of the revision's content.
//!
//! Nothing here prints: [`run`] returns the texts and `lib.rs` writes them.

pub mod alembic;
pub mod plan;
pub mod sql;

use std::path::{Path, PathBuf};

use crate::config::{Config, SourceKind};
use crate::discover::{FileKind, classify, migration_order};
use crate::error::Error;
use crate::finding::{Finding, Warning};
use crate::git::{Repo, Snapshot};
use crate::models::ModelTable;
use crate::project::{
    Content, FileReader, FileRef, ParseCache, analyze, analyze_tree, load_config,
};
use crate::report::Mode;
use crate::rule::Severity;
use crate::rules::MigrationSource;
use crate::source::SourceFile;

/// What to fix and how.
#[derive(Debug, Clone)]
pub struct FixOptions {
    pub path: PathBuf,
    pub mode: Mode,
    pub config: Option<PathBuf>,
    /// Write the file (else print it).
    pub write: bool,
    /// The description in the file name and header (`--name`).
    pub name: Option<String>,
    /// `--kind`: overrides `fix.kind`.
    pub kind: Option<SourceKind>,
}

/// How a fix ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to close.
    NothingToFix,
    /// The migration went to stdout.
    Printed,
    /// The migration was written.
    Written,
}

/// What `run` produced: texts for the streams and whether findings remain that `fix` cannot
/// close.
#[derive(Debug, Clone)]
pub struct FixResult {
    pub outcome: Outcome,
    pub stdout: String,
    pub stderr: String,
    /// Findings at or above `fail_on` that a migration cannot close (DG005–DG007 …).
    pub remaining: Vec<Finding>,
    /// Findings the check will report once the migration runs (a foreign key whose target no
    /// migration creates: DG007), at or above `fail_on`.
    pub after: usize,
}

impl FixResult {
    /// Whether findings remain that `fix` cannot close: exit 1.
    pub fn failed(&self) -> bool {
        !self.remaining.is_empty() || self.after > 0
    }
}

/// A moment, in UTC, broken down for file names and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub epoch: i64,
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl Timestamp {
    /// Seconds since 1970 → the UTC calendar (Howard Hinnant's `civil_from_days`).
    pub fn from_epoch(epoch: i64) -> Timestamp {
        let days = epoch.div_euclid(86_400);
        let secs = epoch.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Timestamp {
            epoch,
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
        }
    }

    /// `YYYYMMDDHHMMSS` → seconds since 1970 (`days_from_civil`).
    pub fn parse_compact(text: &str) -> Option<i64> {
        if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
        let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
        let (hh, mm, ss) = (n(8..10)?, n(10..12)?, n(12..14)?);
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
    }

    /// `SOURCE_DATE_EPOCH` when set (reproducible builds' convention), else now.
    pub fn now() -> Result<Timestamp, Error> {
        if let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") {
            let text = value.to_string_lossy();
            let epoch = text.trim().parse::<i64>().map_err(|_| {
                Error::Usage(format!(
                    "SOURCE_DATE_EPOCH is `{text}`, not a number of seconds since 1970"
                ))
            })?;
            return Ok(Timestamp::from_epoch(epoch));
        }
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Ok(Timestamp::from_epoch(epoch))
    }

    /// `20250102030405`.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `2025-01-02 03:04:05`.
    pub fn readable(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// One snapshot as `fix` reads it: where it writes, the files, their analysis.
struct Snap<'r> {
    root: PathBuf,
    config: Config,
    warnings: Vec<Warning>,
    files: Vec<FileRef>,
    reader: FileReader<'r>,
    tables: Vec<ModelTable>,
    sources: Vec<MigrationSource>,
    /// The findings of the mode: introduced ones in a change check.
    findings: Vec<Finding>,
    fail_on: Option<Severity>,
}

impl Snap<'_> {
    fn read(&self, path: &str) -> Option<String> {
        let content = self
            .files
            .iter()
            .find(|f| &*f.path == path)
            .map_or(Content::Disk, |f| f.content);
        let bytes = self
            .reader
            .read(&FileRef {
                path: path.into(),
                content,
            })
            .ok()?;
        Some(SourceFile::from_bytes(path, &bytes).0.text)
    }
}

/// Runs `driftguard fix`.
pub fn run(options: &FixOptions) -> Result<FixResult, Error> {
    // The plan reads the tables' columns after the analysis is done with the cache: a kept
    // table's columns that do not decode are found only then ([`stop_if_damaged`]).
    let damage_mark = crate::lazy::damage_mark();
    let repo = match options.mode {
        Mode::All => None,
        _ => Some(Repo::open(&options.path)?),
    };
    let snap = read_snapshot(options, repo.as_ref())?;
    let (closable, open): (Vec<Finding>, Vec<Finding>) = snap
        .findings
        .iter()
        .cloned()
        .partition(|f| plan::closes(f.rule));
    // A second Alembic head (DG009) is closed by a revision on every head: what
    // `alembic merge heads` writes.
    let (heads, open): (Vec<Finding>, Vec<Finding>) = open
        .into_iter()
        .partition(|f| f.rule == crate::rule::Rule::AlembicMultipleHeads);
    let mut stderr = String::new();
    for warning in &snap.warnings {
        stderr.push_str(&crate::render::human::warning_line(warning));
        stderr.push('\n');
    }
    let kind = if closable.is_empty() {
        (!heads.is_empty() && options.kind.or(snap.config.fix.kind) != Some(SourceKind::Sql))
            .then_some(SourceKind::Alembic)
    } else {
        Some(choose_kind(options, &snap)?)
    };
    let the_plan = plan::plan(&plan::Inputs {
        findings: &closable,
        tables: &snap.tables,
        sources: &snap.sources,
        default_schema: &snap.config.default_schema,
    });
    stop_if_damaged(damage_mark, repo.as_ref(), &options.path)?;
    let time = Timestamp::now()?;
    let written = match kind {
        None => None,
        Some(SourceKind::Sql) => {
            let description = options
                .name
                .clone()
                .unwrap_or_else(|| the_plan.description());
            Some((sql_file(&snap, &the_plan, &description, time)?, None))
        }
        Some(SourceKind::Alembic) => {
            let description = options.name.clone().unwrap_or_else(|| {
                if the_plan.is_empty() {
                    "merge heads".to_string()
                } else {
                    the_plan.description()
                }
            });
            let (path, text, env) = alembic_file(&snap, &the_plan, &description, time)?;
            Some(((path, text), Some(env)))
        }
    };
    let merged_env = written.as_ref().and_then(|(_, env)| env.clone());
    let (closed_heads, open_heads): (Vec<Finding>, Vec<Finding>) =
        heads.into_iter().partition(|f| {
            merged_env
                .as_deref()
                .is_some_and(|env| f.target.table == if env.is_empty() { "." } else { env })
        });
    let remaining: Vec<Finding> = open
        .into_iter()
        .chain(open_heads)
        .filter(|f| snap.fail_on.is_some_and(|level| f.severity >= level))
        .collect();
    let Some(((path, text), _)) = written else {
        stderr
            .push_str("nothing to fix: no column, table or enum is missing from the migrations\n");
        push_remaining(&mut stderr, &remaining);
        return Ok(FixResult {
            outcome: Outcome::NothingToFix,
            stdout: String::new(),
            stderr,
            remaining,
            after: 0,
        });
    };
    let closed = closable.len() + closed_heads.len();
    for note in &the_plan.notes {
        let warning = match &note.location {
            Some(location) => Warning::at(location.clone(), &note.message),
            None => Warning::global(&note.message),
        };
        stderr.push_str(&crate::render::human::warning_line(&warning));
        stderr.push('\n');
    }
    let shown = display_path(options, &snap.root, &path);
    let full = snap.root.join(&path);
    let outcome = if options.write {
        if full.exists() {
            return Err(Error::Usage(format!(
                "`{shown}` already exists (from an earlier `driftguard fix`?); driftguard never overwrites a file: review it and `git add` it, or pass --name for another file"
            )));
        }
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io("cannot create the folder", parent, e))?;
        }
        std::fs::write(&full, &text).map_err(|e| Error::io("cannot write", &full, e))?;
        stderr.push_str(&format!(
            "wrote the migration that closes {closed} finding(s); review it, then stage it:\n    git add {shown}\n"
        ));
        Outcome::Written
    } else {
        stderr.push_str(&format!(
            "this migration closes {closed} finding(s); `driftguard fix --write` writes it to {shown}\n"
        ));
        Outcome::Printed
    };
    push_remaining(&mut stderr, &remaining);
    let after = the_plan
        .notes
        .iter()
        .filter_map(|n| n.rule)
        .filter(|rule| {
            snap.config
                .severity(*rule)
                .zip(snap.fail_on)
                .is_some_and(|(severity, level)| severity >= level)
        })
        .count();
    Ok(FixResult {
        after,
        outcome,
        stdout: if outcome == Outcome::Written {
            format!("{shown}\n")
        } else {
            text
        },
        stderr,
        remaining,
    })
}

/// The findings a migration cannot close, for stderr.
fn push_remaining(stderr: &mut String, remaining: &[Finding]) {
    if remaining.is_empty() {
        return;
    }
    stderr.push_str(&format!(
        "{} finding(s) remain that a new migration cannot close; fix them by hand (`driftguard check` shows them):\n",
        remaining.len()
    ));
    for f in remaining {
        stderr.push_str(&format!(
            "  {} {} at {}: {}\n",
            f.rule.code(),
            f.rule.name(),
            f.location,
            f.message
        ));
    }
}

/// The path as the user should type it: relative to the folder they passed in `--all`,
/// absolute (the repository root) in a change check.
fn display_path(options: &FixOptions, root: &Path, relative: &str) -> String {
    if options.mode == Mode::All && options.path == Path::new(".") {
        return relative.to_string();
    }
    root.join(relative).display().to_string()
}

/// Reads the snapshot the mode checks (the working tree, the index, HEAD) and runs its check.
/// Stops `fix` before it writes anything when a kept table's columns read since `mark` did
/// not decode ([`crate::lazy::LazyList`]): the plan may rest on a column list it did not
/// really read. The cache folder is deleted ([`crate::cache::DiskCache::damaged_entry`]).
fn stop_if_damaged(mark: usize, repo: Option<&Repo>, path: &std::path::Path) -> Result<(), Error> {
    if !crate::lazy::damaged_since(mark) {
        return Ok(());
    }
    let disk = match repo {
        Some(repo) => crate::cache::DiskCache::in_git_dir(repo.common_dir()),
        None => crate::git::Repo::discover(path).map_or_else(Default::default, |repo| {
            crate::cache::DiskCache::in_git_dir(repo.common_dir())
        }),
    };
    Err(disk.damaged_entry())
}

fn read_snapshot<'r>(options: &FixOptions, repo: Option<&'r Repo>) -> Result<Snap<'r>, Error> {
    let Some(repo) = repo else {
        let (config, warnings, analysis) =
            analyze_tree(&options.path, options.config.as_deref(), &|_| true)?;
        let fail_on = crate::project::fail_on(None, &config);
        let files = crate::discover::walk(&options.path, &config)
            .into_iter()
            .map(|path| FileRef {
                path: path.into(),
                content: Content::Disk,
            })
            .collect();
        let mut warnings = warnings;
        warnings.extend(analysis.warnings);
        return Ok(Snap {
            root: options.path.clone(),
            config,
            warnings,
            files,
            reader: FileReader {
                repo: None,
                root: options.path.clone(),
            },
            tables: analysis.tables,
            sources: analysis.sources,
            findings: analysis.findings,
            fail_on,
        });
    };
    let after = match &options.mode {
        Mode::Staged => Snapshot::Index,
        _ => repo.head()?,
    };
    let entries = repo.entries(after)?;
    let read_after = |name: &str| -> Option<String> {
        let entry = entries.iter().find(|e| &*e.path == name)?;
        String::from_utf8(repo.read_blob(entry.id).ok()?).ok()
    };
    let (config, _) = load_config(options.config.as_deref(), &read_after)?;
    if options.mode == Mode::Staged {
        refuse_unstaged(repo, &entries, &config)?;
    }
    let report = crate::check::run(&crate::check::CheckOptions {
        path: options.path.clone(),
        mode: options.mode.clone(),
        config: options.config.clone(),
        fail_on: None,
    })?;
    let files: Vec<FileRef> = entries.iter().map(FileRef::of_entry).collect();
    let relevant: Vec<FileRef> = files
        .iter()
        .filter(|f| {
            !matches!(
                classify(&f.path, &config),
                FileKind::Other | FileKind::Config
            )
        })
        .cloned()
        .collect();
    let reader = FileReader {
        repo: Some(repo),
        root: repo.root().to_path_buf(),
    };
    let mut cache = ParseCache::with_disk(crate::cache::DiskCache::in_git_dir(repo.common_dir()));
    let analysis = analyze(&relevant, &reader, &config, &mut cache);
    cache.finish()?;
    Ok(Snap {
        root: repo.root().to_path_buf(),
        fail_on: report.fail_on,
        config,
        warnings: report.warnings,
        files,
        reader,
        tables: analysis.tables,
        sources: analysis.sources,
        findings: report.findings,
    })
}

/// `--staged` reads the index: a model, migration or config file whose working copy differs
/// would make a migration for content the user does not see.
fn refuse_unstaged(repo: &Repo, index: &[crate::git::Entry], config: &Config) -> Result<(), Error> {
    let mut unstaged: Vec<String> = repo
        .unstaged_paths()?
        .into_iter()
        .filter(|p| index.iter().any(|e| *e.path == **p))
        .filter(|p| classify(p, config) != FileKind::Other)
        .collect();
    if unstaged.is_empty() {
        return Ok(());
    }
    unstaged.sort();
    Err(Error::Usage(format!(
        "--staged reads the staged content, but {} ha{} unstaged edits: stage them (`git add {}`) or stash them (`git stash --keep-index`), then run `driftguard fix --staged` again",
        unstaged
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", "),
        if unstaged.len() == 1 { "s" } else { "ve" },
        unstaged.join(" ")
    )))
}

/// The kinds of migrations the snapshot has: SQL files, and each Alembic environment.
fn kinds(snap: &Snap) -> (Vec<String>, Vec<String>) {
    let mut sql = Vec::new();
    let mut envs: Vec<String> = Vec::new();
    let replayed: Vec<&String> = snap
        .sources
        .iter()
        .flat_map(|s| s.parts.iter().flat_map(|p| p.files.iter()))
        .collect();
    for file in &snap.files {
        match classify(&file.path, &snap.config) {
            FileKind::Sql(_) => sql.push(file.path.to_string()),
            FileKind::Alembic(env)
                if replayed.iter().any(|r| r.as_str() == &*file.path) && !envs.contains(&env) =>
            {
                envs.push(env);
            }
            _ => {}
        }
    }
    sql.sort_by(|a, b| migration_order(a, b));
    envs.sort();
    (sql, envs)
}

fn choose_kind(options: &FixOptions, snap: &Snap) -> Result<SourceKind, Error> {
    if let Some(kind) = options.kind.or(snap.config.fix.kind) {
        return Ok(kind);
    }
    let (sql, envs) = kinds(snap);
    match (sql.is_empty(), envs.is_empty()) {
        (false, true) => Ok(SourceKind::Sql),
        (true, false) => Ok(SourceKind::Alembic),
        (false, false) => Err(Error::Usage(
            "this project has both SQL migrations and Alembic revisions: pass `--kind sql` or `--kind alembic` (or set `fix: {kind: …, folder: …}` in driftguard.yml)".to_string(),
        )),
        (true, true) => Err(Error::Usage(
            "this project has no migrations to follow: set `fix: {kind: sql, folder: PATH}` (or `kind: alembic`) in driftguard.yml".to_string(),
        )),
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

/// A description as a file name part: lower-case words joined by `_`, at most 60 characters.
fn file_slug(description: &str) -> String {
    let words: Vec<String> = description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = String::new();
    for word in words {
        if !slug.is_empty() && slug.len() + 1 + word.len() > 60 {
            break;
        }
        if !slug.is_empty() {
            slug.push('_');
        }
        slug.push_str(&word);
    }
    if slug.is_empty() {
        "driftguard_fix".to_string()
    } else {
        slug
    }
}

/// The SQL file: its path and text.
fn sql_file(
    snap: &Snap,
    the_plan: &plan::Plan,
    description: &str,
    time: Timestamp,
) -> Result<(String, String), Error> {
    let (sql, _) = kinds(snap);
    let folder = match &snap.config.fix.folder {
        Some(folder) => folder.clone(),
        None => match sql.last() {
            Some(newest) => parent(newest).to_string(),
            None => {
                return Err(Error::Usage(
                    "this project has no SQL migrations to write beside: set `fix: {kind: sql, folder: PATH}` in driftguard.yml".to_string(),
                ));
            }
        },
    };
    let in_folder: Vec<&str> = sql
        .iter()
        .map(String::as_str)
        .filter(|p| parent(p) == folder)
        .collect();
    let names: Vec<&str> = in_folder
        .iter()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .collect();
    let (prefix, time) = sql_prefix(&names, time);
    let file = format!("{prefix}{}.sql", file_slug(description));
    let text = sql::render(
        the_plan,
        &sql::Header {
            description,
            created: &format!("{} UTC", time.readable()),
            postgres_version: snap.config.postgres_version,
        },
    );
    Ok((join(&folder, &file), text))
}

/// The prefix of a new SQL file in a folder with these file names (natural order): the next
/// `NNN_` number when the newest numbered file has one, else a `YYYYMMDDHHMMSS_` timestamp
/// (later than every timestamp already there). Returns the time written in the header too.
fn sql_prefix(names: &[&str], time: Timestamp) -> (String, Timestamp) {
    let numbered: Vec<(&str, &str)> = names
        .iter()
        .filter_map(|name| {
            let digits = name.len() - name.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            (digits > 0).then(|| name.split_at(digits))
        })
        .collect();
    let newest = numbered.iter().max_by(|a, b| {
        crate::discover::natural_cmp(&format!("{}{}", a.0, a.1), &format!("{}{}", b.0, b.1))
    });
    match newest {
        Some((digits, rest)) if digits.len() != 14 => {
            let width = digits.len();
            let next = numbered
                .iter()
                .filter(|(d, _)| d.len() != 14)
                .filter_map(|(d, _)| d.parse::<u64>().ok())
                .max()
                .unwrap_or(0)
                + 1;
            let separator = rest
                .chars()
                .next()
                .filter(|c| *c == '_' || *c == '-')
                .unwrap_or('_');
            (format!("{next:0width$}{separator}"), time)
        }
        _ => {
            let latest = numbered
                .iter()
                .filter_map(|(d, _)| Timestamp::parse_compact(d))
                .max();
            let time = match latest {
                Some(latest) if latest >= time.epoch => Timestamp::from_epoch(latest + 1),
                _ => time,
            };
            (format!("{}_", time.compact()), time)
        }
    }
}

/// The Alembic revision: its path, its text and its environment.
fn alembic_file(
    snap: &Snap,
    the_plan: &plan::Plan,
    description: &str,
    time: Timestamp,
) -> Result<(String, String, String), Error> {
    let (_, envs) = kinds(snap);
    let env = match (&snap.config.fix.folder, envs.as_slice()) {
        (Some(folder), _) => envs
            .iter()
            .find(|env| {
                folder == *env
                    || folder.starts_with(&format!("{env}/"))
                    || (env.is_empty() && !folder.is_empty())
            })
            .cloned()
            .ok_or_else(|| {
                Error::Usage(format!(
                    "`fix.folder: {folder}` holds no Alembic revisions; point it at a `versions` folder"
                ))
            })?,
        (None, [one]) => one.clone(),
        (None, []) => {
            return Err(Error::Usage(
                "this project has no Alembic revisions to follow: set `fix: {kind: alembic, folder: PATH}` in driftguard.yml to a `versions` folder with at least one revision".to_string(),
            ));
        }
        (None, many) => {
            return Err(Error::Usage(format!(
                "this project has {} Alembic environments ({}): set `fix: {{kind: alembic, folder: PATH}}` in driftguard.yml to the `versions` folder to write into",
                many.len(),
                many.iter()
                    .map(|e| format!("`{}`", if e.is_empty() { "." } else { e }))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    let mut revision_paths: Vec<&str> = snap
        .files
        .iter()
        .filter(|f| classify(&f.path, &snap.config) == FileKind::Alembic(env.clone()))
        .map(|f| &*f.path)
        .collect();
    revision_paths.sort_by(|a, b| migration_order(a, b));
    let all: Vec<crate::migrations::alembic::Revision> = revision_paths
        .iter()
        .filter_map(|path| {
            let text = snap.read(path)?;
            crate::migrations::alembic::read_revision(&SourceFile::new(*path, text))
        })
        .collect();
    // Histories that share no revision (one per database dialect) each have their head: the
    // new revision continues the one the configured folder holds, and without one there must
    // be a single history.
    let component = crate::migrations::alembic::histories(&all);
    let mut histories: Vec<usize> = component.clone();
    histories.sort_unstable();
    histories.dedup();
    let chosen = match &snap.config.fix.folder {
        Some(folder) => all
            .iter()
            .zip(&component)
            .filter(|(r, _)| parent(&r.path) == folder || r.path.starts_with(&format!("{folder}/")))
            .map(|(_, c)| *c)
            .next(),
        None if histories.len() > 1 => {
            return Err(Error::Usage(format!(
                "the Alembic revisions under `{}` form {} separate histories (one per database?): set `fix: {{kind: alembic, folder: PATH}}` in driftguard.yml to the folder of the one to continue",
                if env.is_empty() { "." } else { env.as_str() },
                histories.len()
            )));
        }
        None => histories.first().copied(),
    };
    let revisions: Vec<crate::migrations::alembic::Revision> = all
        .into_iter()
        .zip(component)
        .filter(|(_, c)| chosen.is_none_or(|chosen| *c == chosen))
        .map(|(r, _)| r)
        .collect();
    let heads = crate::migrations::alembic::heads(&revisions);
    let folder = match &snap.config.fix.folder {
        Some(folder) => folder.clone(),
        None => revisions
            .iter()
            .filter(|r| heads.contains(&r.revision))
            .map(|r| r.path.as_str())
            .max_by(|a, b| migration_order(a, b))
            .or_else(|| revision_paths.last().copied())
            .map(|p| parent(p).to_string())
            .unwrap_or_else(|| join(&env, "versions")),
    };
    let newest_text = revision_paths
        .iter()
        .rev()
        .find(|p| parent(p) == folder)
        .and_then(|p| snap.read(p));
    let style = newest_text
        .as_deref()
        .map(alembic::Style::of)
        .unwrap_or_default();
    let template = alembic_ini(snap, &env)
        .map(|text| alembic::FileTemplate::from_ini(&text))
        .unwrap_or_default();
    let (id, text) = alembic::render(
        the_plan,
        &alembic::Header {
            description,
            created: &format!("{}.000000", time.readable()),
            heads: &heads,
            postgres_version: snap.config.postgres_version,
        },
        &style,
    );
    let stem = template.file_stem(&id, description, &time);
    Ok((join(&folder, &format!("{stem}.py")), text, env))
}

/// The `alembic.ini` of an environment: in its folder or a folder above it, the one whose
/// `script_location` names the environment, else the nearest.
fn alembic_ini(snap: &Snap, env: &str) -> Option<String> {
    let mut folders = vec![env.to_string()];
    let mut current = env;
    while !current.is_empty() {
        current = parent(current);
        folders.push(current.to_string());
    }
    let mut nearest = None;
    for folder in folders {
        let path = join(&folder, "alembic.ini");
        let Some(text) = snap.read(&path) else {
            continue;
        };
        let names_env = alembic::FileTemplate::script_location(&text).is_some_and(|location| {
            let location = location.replace("%(here)s", &folder);
            let location = location.trim_start_matches("./").trim_end_matches('/');
            let resolved = if location.starts_with(&folder) || folder.is_empty() {
                location.to_string()
            } else {
                join(&folder, location)
            };
            resolved.trim_start_matches('/') == env
        });
        if names_env {
            return Some(text);
        }
        nearest.get_or_insert(text);
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_the_calendar() {
        let t = Timestamp::from_epoch(1_735_787_045);
        assert_eq!(t.compact(), "20250102030405");
        assert_eq!(t.readable(), "2025-01-02 03:04:05");
        assert_eq!(
            Timestamp::parse_compact("20250102030405"),
            Some(1_735_787_045)
        );
        assert_eq!(
            Timestamp::from_epoch(951_782_400).compact(),
            "20000229000000"
        );
        assert_eq!(Timestamp::parse_compact("2025010203040"), None);
    }

    #[test]
    fn sql_files_are_named_as_their_folder_names_them() {
        let time = Timestamp::from_epoch(1_735_787_045);
        let (prefix, _) = sql_prefix(&["001_initial.sql", "007_orders.sql", "README.sql"], time);
        assert_eq!(prefix, "008_");
        let (prefix, _) = sql_prefix(&["0009-a.sql", "0010-b.sql"], time);
        assert_eq!(prefix, "0011-");
        // The handbook's folder: three-digit and timestamp names; the newest is a timestamp.
        let (prefix, t) = sql_prefix(
            &[
                "002_smart.sql",
                "20241126220831_fees.sql",
                "BATCH_1_COMBINED_MIGRATION.sql",
            ],
            time,
        );
        assert_eq!(prefix, "20250102030405_");
        assert_eq!(t, time);
        // A clock behind the newest file still sorts after it.
        let (prefix, _) = sql_prefix(&["20300101000000_later.sql"], time);
        assert_eq!(prefix, "20300101000001_");
        let (prefix, _) = sql_prefix(&[], time);
        assert_eq!(prefix, "20250102030405_");
    }

    #[test]
    fn descriptions_become_file_slugs() {
        assert_eq!(
            file_slug("Add customers contact_preference"),
            "add_customers_contact_preference"
        );
        assert_eq!(file_slug("***"), "driftguard_fix");
        assert!(file_slug(&"word ".repeat(40)).len() <= 60);
    }
}
