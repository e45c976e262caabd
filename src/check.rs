//! The check pipeline: snapshot → files → models and migration schemas → findings.
//!
//! [`run`] resolves the mode into snapshots (the working tree for `--all`; HEAD and the index
//! for `--staged`; the merge base and HEAD for `--base`), reads and parses each relevant file
//! once — a parse is shared between the two snapshots of a change check when the path and blob
//! id are the same — and returns a [`Report`]. In a change check the report holds only the
//! findings the change introduces: findings(after) − findings(before), keyed by rule and
//! target, never by line. When a change touches no Python, SQL or config file the check stops
//! at once with nothing to report.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{Config, ConfigError, SourceKind};
use crate::discover::{FileKind, classify, migration_order};
use crate::finding::{Finding, Related, Warning};
use crate::git::{GitError, Repo, Snapshot};
use crate::migrations::{MigrationEvents, alembic, sql};
use crate::models::{self, FileModels, ModelTable, ResolveOptions};
use crate::rules::{self, Context, MigrationSource, Severity};
use crate::schema::{self, FileEvents};
use crate::source::SourceFile;

/// Which comparison to make.
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

/// What to check and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub path: PathBuf,
    pub mode: Mode,
    pub config: Option<PathBuf>,
    /// `--fail-on`, overriding the config's `fail_on`: `Some(None)` is `never`.
    pub fail_on: Option<Option<Severity>>,
}

/// Counts for the summary line and JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub model_files: usize,
    pub tables: usize,
    pub columns: usize,
    pub migration_files: usize,
    pub findings: usize,
    /// Change checks: findings that exist before the change too (not reported).
    pub preexisting: usize,
}

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
    pub sources: crate::render::Sources,
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

/// Could not run: the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError(pub String);

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<GitError> for RunError {
    fn from(e: GitError) -> Self {
        RunError(e.0)
    }
}

impl From<ConfigError> for RunError {
    fn from(e: ConfigError) -> Self {
        RunError(e.0)
    }
}

/// Where a file's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Content {
    Blob(git2::Oid),
    Disk,
}

/// A file of a snapshot.
#[derive(Debug, Clone)]
struct FileRef {
    path: String,
    content: Content,
}

/// What one file holds, once parsed.
#[derive(Debug)]
enum Parsed {
    Models(FileModels),
    Sql(MigrationEvents),
    Alembic(Option<alembic::Revision>),
    /// A model candidate whose bytes do not mention SQLAlchemy.
    Nothing,
}

/// A parsed file and the warnings its reading raised (not UTF-8, …).
#[derive(Debug)]
struct ParsedFile {
    path: String,
    kind: FileKind,
    parsed: Parsed,
    warnings: Vec<Warning>,
}

/// Reads the bytes of files, from git or from disk.
struct Reader<'r> {
    repo: Option<&'r Repo>,
    root: PathBuf,
}

impl Reader<'_> {
    fn read(&self, file: &FileRef) -> Result<Vec<u8>, String> {
        match (file.content, self.repo) {
            (Content::Blob(id), Some(repo)) => repo.read_blob(id).map_err(|e| e.0),
            _ => std::fs::read(self.root.join(&file.path))
                .map_err(|e| format!("cannot read {}: {e}", file.path)),
        }
    }
}

/// Parses shared between snapshots: keyed by path and blob id.
#[derive(Default)]
struct Cache {
    parsed: HashMap<(String, git2::Oid), Arc<ParsedFile>>,
}

/// Runs a check.
pub fn run(options: &Options) -> Result<Report, RunError> {
    match &options.mode {
        Mode::All => run_all(options),
        Mode::Staged | Mode::Base(_) => run_change(options),
    }
}

/// The schema one migration source builds, and its files in the order they run.
#[derive(Debug, Clone)]
pub struct BuiltSource {
    pub source: MigrationSource,
    /// Paths relative to the root, in migration order.
    pub files: Vec<String>,
}

/// Reads only the migrations of the working tree at `path` (with the config found there, or
/// `config`) and replays each source: what `driftguard schema` prints. Models are not read.
pub fn migration_sources(
    path: &Path,
    config: Option<&Path>,
) -> Result<(Vec<BuiltSource>, Vec<Warning>), RunError> {
    if !path.is_dir() {
        return Err(RunError(format!(
            "`{}` is not a directory; pass the root of the project",
            path.display()
        )));
    }
    let options = Options {
        path: path.to_path_buf(),
        mode: Mode::All,
        config: config.map(Path::to_path_buf),
        fail_on: None,
    };
    let read_root = |name: &str| std::fs::read_to_string(path.join(name)).ok();
    let (config, mut warnings) = load_config(&options, &read_root)?;
    let files: Vec<FileRef> = walk(path, &config)
        .into_iter()
        .filter(|f| {
            matches!(
                classify(&f.path, &config),
                FileKind::Sql(_) | FileKind::Alembic(_)
            )
        })
        .collect();
    let reader = Reader {
        repo: None,
        root: path.to_path_buf(),
    };
    let analysis = analyze(&files, &reader, &config, &mut Cache::default());
    warnings.extend(analysis.warnings);
    let built = analysis
        .sources
        .into_iter()
        .zip(analysis.source_files)
        .map(|(source, files)| BuiltSource { source, files })
        .collect();
    Ok((built, warnings))
}

fn load_config(
    options: &Options,
    read_root: &dyn Fn(&str) -> Option<String>,
) -> Result<(Config, Vec<Warning>), RunError> {
    match &options.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                RunError(format!(
                    "cannot read the config file `{}`: {e}",
                    path.display()
                ))
            })?;
            let name = path.display().to_string();
            Ok(crate::config::load(Some((&name, &text)), read_root)?)
        }
        None => Ok(crate::config::load(None, read_root)?),
    }
}

fn run_all(options: &Options) -> Result<Report, RunError> {
    let path = &options.path;
    if !path.is_dir() {
        return Err(RunError(format!(
            "`{}` is not a directory; pass the root of the project to check",
            path.display()
        )));
    }
    // The directory given is the project root: paths are reported relative to it and the
    // config is looked for there. `.gitignore` files are honoured while walking.
    let root = path.clone();
    let read_root = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    let (config, mut warnings) = load_config(options, &read_root)?;
    let files = walk(&root, &config);
    let reader = Reader {
        repo: None,
        root: root.clone(),
    };
    let mut cache = Cache::default();
    let analysis = analyze(&files, &reader, &config, &mut cache);
    warnings.extend(analysis.warnings);
    let mut summary = analysis.summary;
    summary.findings = analysis.findings.len();
    let sources = snippet_sources(&analysis.findings, &|path| {
        reader.read(&FileRef {
            path: path.to_string(),
            content: Content::Disk,
        })
    });
    Ok(Report {
        mode: Mode::All,
        findings: analysis.findings,
        warnings,
        summary,
        fail_on: fail_on(options, &config),
        nothing_to_check: false,
        sources,
    })
}

fn fail_on(options: &Options, config: &Config) -> Option<Severity> {
    match options.fail_on {
        Some(setting) => setting,
        None => config.fail_on.or(Some(Severity::Error)),
    }
}

/// The working tree's files (untracked ones too, ignored ones not), relative to the root.
fn walk(root: &Path, config: &Config) -> Vec<FileRef> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_global(false)
        .filter_entry(|entry| {
            let name = entry.file_name().to_str().unwrap_or("");
            !(entry.file_type().is_some_and(|t| t.is_dir())
                && matches!(
                    name,
                    ".git"
                        | ".venv"
                        | "venv"
                        | "node_modules"
                        | "__pycache__"
                        | "site-packages"
                        | ".tox"
                        | ".nox"
                        | ".mypy_cache"
                        | ".pytest_cache"
                        | ".ruff_cache"
                ))
        })
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel.to_str() else {
            continue;
        };
        let rel = rel.replace('\\', "/");
        let kind = classify(&rel, config);
        if kind == FileKind::Other || kind == FileKind::Config {
            continue;
        }
        files.push(FileRef {
            path: rel,
            content: Content::Disk,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn run_change(options: &Options) -> Result<Report, RunError> {
    let repo = Repo::open(&options.path)?;
    let (before, after) = match &options.mode {
        Mode::Staged => (repo.head()?, Snapshot::Index),
        Mode::Base(reference) => (repo.merge_base_with(reference)?, repo.head()?),
        Mode::All => return run_all(options),
    };
    let changed = repo.changed_paths(before, after)?;
    let after_entries = repo.entries(after)?;
    let read_after = |name: &str| -> Option<String> {
        let entry = after_entries.iter().find(|e| e.path == name)?;
        let bytes = repo.read_blob(entry.id).ok()?;
        String::from_utf8(bytes).ok()
    };
    let (config, mut warnings) = load_config(options, &read_after)?;
    let relevant = changed
        .iter()
        .any(|p| classify(p, &config) != FileKind::Other);
    if !relevant {
        return Ok(Report {
            mode: options.mode.clone(),
            findings: Vec::new(),
            warnings,
            summary: Summary::default(),
            fail_on: fail_on(options, &config),
            nothing_to_check: true,
            sources: Default::default(),
        });
    }
    let to_refs = |entries: Vec<crate::git::Entry>| -> Vec<FileRef> {
        entries
            .into_iter()
            .filter(|e| {
                !matches!(
                    classify(&e.path, &config),
                    FileKind::Other | FileKind::Config
                )
            })
            .map(|e| FileRef {
                path: e.path,
                content: Content::Blob(e.id),
            })
            .collect()
    };
    let after_files = to_refs(after_entries.clone());
    let before_files = to_refs(repo.entries(before)?);
    let reader = Reader {
        repo: Some(&repo),
        root: repo.root().to_path_buf(),
    };
    let mut cache = Cache::default();
    let after_analysis = analyze(&after_files, &reader, &config, &mut cache);
    let before_analysis = analyze(&before_files, &reader, &config, &mut cache);
    let before_keys: HashSet<_> = before_analysis.findings.iter().map(Finding::key).collect();
    let (preexisting, mut introduced): (Vec<Finding>, Vec<Finding>) = after_analysis
        .findings
        .into_iter()
        .partition(|f| before_keys.contains(&f.key()));
    // Warnings only for files the change touches: old unreadable files are not news.
    let changed_set: HashSet<&str> = changed.iter().map(String::as_str).collect();
    warnings.extend(after_analysis.warnings.into_iter().filter(|w| {
        w.location
            .as_ref()
            .is_none_or(|l| changed_set.contains(l.path.as_str()))
    }));
    if options.mode == Mode::Staged && !introduced.is_empty() {
        point_at_unstaged_migrations(&repo, &after_files, &config, &mut cache, &mut introduced);
    }
    let mut summary = after_analysis.summary;
    summary.findings = introduced.len();
    summary.preexisting = preexisting.len();
    let sources = snippet_sources(&introduced, &|path| {
        let content = after_files
            .iter()
            .find(|f| f.path == path)
            .map_or(Content::Disk, |f| f.content);
        reader.read(&FileRef {
            path: path.to_string(),
            content,
        })
    });
    Ok(Report {
        mode: options.mode.clone(),
        findings: introduced,
        warnings,
        summary,
        fail_on: fail_on(options, &config),
        nothing_to_check: false,
        sources,
    })
}

/// Reads the files the findings point into, for snippets.
fn snippet_sources(
    findings: &[Finding],
    read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> crate::render::Sources {
    let mut sources = crate::render::Sources::new();
    for finding in findings {
        let paths = std::iter::once(&finding.location.path)
            .chain(finding.related.iter().map(|r| &r.location.path));
        for path in paths {
            if sources.contains_key(path) {
                continue;
            }
            if let Ok(bytes) = read(path) {
                sources.insert(path.clone(), SourceFile::from_bytes(path, &bytes).0.text);
            }
        }
    }
    sources
}

/// In a pre-commit check, a migration that would close a gap may exist in the working tree
/// without being staged: say so, and name the `git add` to run.
fn point_at_unstaged_migrations(
    repo: &Repo,
    staged: &[FileRef],
    config: &Config,
    cache: &mut Cache,
    findings: &mut [Finding],
) {
    let Ok(unstaged) = repo.unstaged_paths() else {
        return;
    };
    let pending: Vec<String> = unstaged
        .into_iter()
        .filter(|p| matches!(classify(p, config), FileKind::Sql(_) | FileKind::Alembic(_)))
        .collect();
    if pending.is_empty() {
        return;
    }
    let mut files: Vec<FileRef> = staged
        .iter()
        .filter(|f| !pending.contains(&f.path))
        .cloned()
        .collect();
    files.extend(pending.iter().map(|p| FileRef {
        path: p.clone(),
        content: Content::Disk,
    }));
    let reader = Reader {
        repo: Some(repo),
        root: repo.root().to_path_buf(),
    };
    let worktree = analyze(&files, &reader, config, cache);
    let still: HashSet<_> = worktree.findings.iter().map(Finding::key).collect();
    for finding in findings.iter_mut() {
        if still.contains(&finding.key()) {
            continue;
        }
        let created_in = worktree
            .sources
            .iter()
            .find_map(|s| {
                let table = s
                    .schema
                    .table(&finding.target.schema, &finding.target.table)?;
                match &finding.target.column {
                    Some(column) => table.column(column).map(|c| c.location.clone()),
                    None => Some(table.location.clone()),
                }
            })
            .filter(|l| pending.contains(&l.path));
        let Some(location) = created_in else {
            continue;
        };
        finding.help = format!(
            "`{}` creates it but is not staged: run `git add {}`.",
            location.path, location.path
        );
        finding.related.push(Related {
            message: "created here, in a file that is not staged".to_string(),
            location,
        });
    }
}

/// The result of reading one snapshot.
struct Analysis {
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    summary: Summary,
    sources: Vec<MigrationSource>,
    /// The files of each source (parallel to `sources`), in the order they run.
    source_files: Vec<Vec<String>>,
}

/// Parses what is not cached yet (in parallel), then resolves models, replays sources and runs
/// the rules.
fn analyze(files: &[FileRef], reader: &Reader, config: &Config, cache: &mut Cache) -> Analysis {
    let mut warnings = Vec::new();
    // Read sequentially (git2 is not Sync), parse in parallel.
    let mut to_parse: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut parsed: Vec<Option<Arc<ParsedFile>>> = vec![None; files.len()];
    for (i, file) in files.iter().enumerate() {
        if let Content::Blob(id) = file.content
            && let Some(hit) = cache.parsed.get(&(file.path.clone(), id))
        {
            parsed[i] = Some(Arc::clone(hit));
            continue;
        }
        match reader.read(file) {
            Ok(bytes) => to_parse.push((i, bytes)),
            Err(message) => warnings.push(Warning::global(message)),
        }
    }
    let fresh: Vec<(usize, ParsedFile)> = to_parse
        .into_par_iter()
        .map(|(i, bytes)| {
            let file = &files[i];
            (
                i,
                parse_file(&file.path, classify(&file.path, config), &bytes),
            )
        })
        .collect();
    for (i, file) in fresh {
        let file = Arc::new(file);
        if let Content::Blob(id) = files[i].content {
            cache
                .parsed
                .insert((files[i].path.clone(), id), Arc::clone(&file));
        }
        parsed[i] = Some(file);
    }
    let parsed: Vec<Arc<ParsedFile>> = parsed.into_iter().flatten().collect();
    build(&parsed, config, warnings)
}

fn parse_file(path: &str, kind: FileKind, bytes: &[u8]) -> ParsedFile {
    let mut warnings = Vec::new();
    let decode = |warnings: &mut Vec<Warning>| {
        let (file, warning) = SourceFile::from_bytes(path, bytes);
        if let Some(message) = warning {
            warnings.push(Warning::at(file.location(0), message));
        }
        file
    };
    let parsed = match &kind {
        FileKind::Model if !models::is_candidate(bytes) => Parsed::Nothing,
        FileKind::Model => Parsed::Models(models::extract_file(&decode(&mut warnings))),
        FileKind::Sql(_) => Parsed::Sql(sql::read(&decode(&mut warnings))),
        FileKind::Alembic(_) => Parsed::Alembic(alembic::read_revision(&decode(&mut warnings))),
        FileKind::Config | FileKind::Other => Parsed::Nothing,
    };
    ParsedFile {
        path: path.to_string(),
        kind,
        parsed,
        warnings,
    }
}

/// Resolves models, builds the migration sources, runs the rules.
fn build(parsed: &[Arc<ParsedFile>], config: &Config, mut warnings: Vec<Warning>) -> Analysis {
    let mut model_files: Vec<&FileModels> = Vec::new();
    let mut sql_files: BTreeMap<Option<usize>, Vec<&ParsedFile>> = BTreeMap::new();
    let mut alembic_envs: BTreeMap<String, Vec<alembic::Revision>> = BTreeMap::new();
    let mut migration_files = 0;
    for file in parsed {
        warnings.extend(file.warnings.iter().cloned());
        match (&file.parsed, &file.kind) {
            (Parsed::Models(models), _) => model_files.push(models),
            (Parsed::Sql(_), FileKind::Sql(source)) => {
                migration_files += 1;
                sql_files.entry(*source).or_default().push(file);
            }
            (Parsed::Alembic(Some(revision)), FileKind::Alembic(env)) => {
                migration_files += 1;
                alembic_envs
                    .entry(env.clone())
                    .or_default()
                    .push(revision.clone());
            }
            _ => {}
        }
    }
    let owned: Vec<FileModels> = model_files.iter().map(|m| (*m).clone()).collect();
    let (tables, model_warnings) = models::resolve(
        &owned,
        &ResolveOptions {
            python_roots: config.python_roots.clone(),
        },
    );
    warnings.extend(model_warnings);

    let mut sources = Vec::new();
    let mut source_files = Vec::new();
    for (source_index, mut files) in sql_files {
        files.sort_by(|a, b| migration_order(&a.path, &b.path));
        let mut events = Vec::new();
        for file in &files {
            if let Parsed::Sql(e) = &file.parsed {
                events.push(e);
            }
        }
        for e in &events {
            warnings.extend(
                e.warnings
                    .iter()
                    .map(|w| Warning::at(w.location.clone(), &w.message)),
            );
        }
        source_files.push(files.iter().map(|f| f.path.clone()).collect());
        let declared = source_index.and_then(|i| config.sources.get(i));
        let default_schema = declared
            .and_then(|s| s.default_schema.clone())
            .unwrap_or_else(|| config.default_schema.clone());
        let schema = schema::replay(
            events.iter().map(|e| FileEvents {
                changes: &e.changes,
            }),
            &default_schema,
        );
        sources.push(MigrationSource {
            name: match declared {
                Some(s) => format!("SQL migrations ({})", s.path),
                None => "SQL migrations".to_string(),
            },
            default_schema,
            schema,
            models: declared.and_then(|s| s.models.clone()),
        });
    }
    for (env, revisions) in alembic_envs {
        let (ordered, order_warnings) = alembic::order(revisions);
        warnings.extend(order_warnings);
        source_files.push(ordered.iter().map(|r| r.path.clone()).collect());
        for revision in &ordered {
            warnings.extend(
                revision
                    .events
                    .warnings
                    .iter()
                    .map(|w| Warning::at(w.location.clone(), &w.message)),
            );
        }
        let declared = config
            .sources
            .iter()
            .find(|s| s.kind == SourceKind::Alembic && s.path == env);
        let default_schema = declared
            .and_then(|s| s.default_schema.clone())
            .unwrap_or_else(|| config.default_schema.clone());
        let schema = schema::replay(
            ordered.iter().map(|r| FileEvents {
                changes: &r.events.changes,
            }),
            &default_schema,
        );
        sources.push(MigrationSource {
            name: if env.is_empty() {
                "Alembic".to_string()
            } else {
                format!("Alembic ({env})")
            },
            default_schema,
            schema,
            models: declared.and_then(|s| s.models.clone()),
        });
    }
    if sources.is_empty() && !tables.is_empty() {
        warnings.push(Warning::global(
            "no migrations found (looked for .sql files under a `migrations` folder and Alembic revisions under `versions`); set `migrations:` in driftguard.yml if they live elsewhere",
        ));
    }

    let ctx = Context {
        tables: &tables,
        sources: &sources,
        default_schema: &config.default_schema,
        declared_sources: !config.sources.is_empty(),
    };
    let findings = apply_config(rules::check(&ctx), config);
    let summary = Summary {
        model_files: count_model_files(&tables),
        tables: tables.len(),
        columns: tables.iter().map(|t| t.columns.len()).sum(),
        migration_files,
        findings: findings.len(),
        preexisting: 0,
    };
    warnings.sort();
    warnings.dedup();
    Analysis {
        findings,
        warnings,
        summary,
        sources,
        source_files,
    }
}

fn count_model_files(tables: &[ModelTable]) -> usize {
    tables
        .iter()
        .map(|t| t.location.path.as_str())
        .collect::<HashSet<_>>()
        .len()
}

/// Severity overrides, `off`, and `ignore:` patterns; then a stable order.
fn apply_config(findings: Vec<Finding>, config: &Config) -> Vec<Finding> {
    let mut out: Vec<Finding> = findings
        .into_iter()
        .filter_map(|mut f| {
            let severity = if f.rule.configurable() {
                config.severity(f.rule)?
            } else {
                f.severity
            };
            f.severity = severity;
            let ignored = config.is_ignored(
                &f.target.schema,
                &f.target.table,
                f.target.column.as_deref(),
            );
            (!ignored).then_some(f)
        })
        .collect();
    out.sort_by(|a, b| (&a.location, a.rule, &a.target).cmp(&(&b.location, b.rule, &b.target)));
    out
}
