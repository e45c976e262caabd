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

use crate::cache::DiskCache;
use crate::config::{Config, ConfigError, SourceKind};
use crate::discover::{FileKind, classify, migration_order};
use crate::finding::{Finding, Related, Warning};
use crate::git::{GitError, Repo, Snapshot};
use crate::migrations::{MigrationEvents, alembic, sql};
use crate::models::{self, FileModels, ModelTable, ResolveOptions};
use crate::rule::Severity;
use crate::rules::{self, Context, MigrationSource};
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
    /// Model extractions and snapshot results kept between runs (change checks only).
    disk: DiskCache,
}

/// A model file's extraction as the disk cache keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedModels {
    models: FileModels,
    warnings: Vec<Warning>,
}

/// A snapshot's result as the disk cache keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedAnalysis {
    findings: Vec<Finding>,
    warnings: Vec<Warning>,
    summary: Summary,
}

fn model_key(path: &str, id: git2::Oid) -> String {
    crate::cache::key([
        env!("CARGO_PKG_VERSION").as_bytes(),
        path.as_bytes(),
        id.as_bytes(),
    ])
}

/// The identity of a snapshot for the findings cache: every relevant file and config file by
/// path and blob id, the `--config` file's text, and the driftguard version.
fn snapshot_key(entries: &[crate::git::Entry], config: &Config, explicit: Option<&str>) -> String {
    let mut parts: Vec<Vec<u8>> = vec![
        env!("CARGO_PKG_VERSION").as_bytes().to_vec(),
        explicit.unwrap_or("").as_bytes().to_vec(),
    ];
    for entry in entries {
        if classify(&entry.path, config) != FileKind::Other {
            parts.push(entry.path.as_bytes().to_vec());
            parts.push(entry.id.as_bytes().to_vec());
        }
    }
    crate::cache::key(parts.iter().map(Vec::as_slice))
}

/// A snapshot's analysis, from the disk cache or computed (and then stored).
fn cached_analysis(
    key: &str,
    files: &[FileRef],
    reader: &Reader,
    config: &Config,
    cache: &mut Cache,
) -> Analysis {
    if let Some(hit) = cache.disk.get::<CachedAnalysis>("findings", key) {
        return Analysis {
            findings: hit.findings,
            warnings: hit.warnings,
            summary: hit.summary,
            sources: Vec::new(),
            tables: Vec::new(),
            source_files: Vec::new(),
        };
    }
    let analysis = analyze(files, reader, config, cache);
    cache.disk.put(
        "findings",
        key,
        &CachedAnalysis {
            findings: analysis.findings.clone(),
            warnings: analysis.warnings.clone(),
            summary: analysis.summary.clone(),
        },
    );
    analysis
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
    let (config, mut warnings, analysis) = analyze_tree(options, &|_| true)?;
    warnings.extend(analysis.warnings);
    let mut summary = analysis.summary;
    summary.findings = analysis.findings.len();
    let sources = snippet_sources(&analysis.findings, &|path| read_disk(&options.path, path));
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

/// Reads and analyses the working tree (or plain directory) at `options.path`, keeping only the
/// files `keep` accepts by kind. Returns the config, the config's warnings and the analysis.
fn analyze_tree(
    options: &Options,
    keep: &dyn Fn(&FileKind) -> bool,
) -> Result<(Config, Vec<Warning>, Analysis), RunError> {
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
    let (config, warnings) = load_config(options, &read_root)?;
    let mut files = walk(&root, &config);
    files.retain(|f| keep(&classify(&f.path, &config)));
    let reader = Reader {
        repo: None,
        root: root.clone(),
    };
    let mut cache = Cache::default();
    let analysis = analyze(&files, &reader, &config, &mut cache);
    Ok((config, warnings, analysis))
}

fn read_disk(root: &Path, path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(root.join(path)).map_err(|e| format!("cannot read {path}: {e}"))
}

/// A project as `check --all` reads it, before its rules run: the resolved model tables, the
/// migration sources and the config — for commands that compare the models with something
/// else (`db-diff` compares them with a live database).
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub config: Config,
    pub tables: Vec<ModelTable>,
    /// Empty when the project was read without its migrations.
    pub sources: Vec<MigrationSource>,
    pub warnings: Vec<Warning>,
    /// Model and migration counts; `findings` is left at 0 for the caller to fill.
    pub summary: Summary,
    pub fail_on: Option<Severity>,
}

/// Reads the working tree (or plain directory) at `options.path` like `check --all`
/// (`options.mode` is not looked at). Without `with_migrations` no migration file is read, and
/// the warning that none was found is not given.
pub fn read_project(options: &Options, with_migrations: bool) -> Result<Project, RunError> {
    let keep = |kind: &FileKind| with_migrations || *kind == FileKind::Model;
    let (config, mut warnings, analysis) = analyze_tree(options, &keep)?;
    warnings.extend(
        analysis
            .warnings
            .into_iter()
            .filter(|w| with_migrations || w.message != NO_MIGRATIONS),
    );
    let mut summary = analysis.summary;
    summary.findings = 0;
    Ok(Project {
        root: options.path.clone(),
        fail_on: fail_on(options, &config),
        config,
        tables: analysis.tables,
        sources: analysis.sources,
        warnings,
        summary,
    })
}

impl Project {
    /// The config's severity overrides, `off` and `ignore:` patterns, then a stable order.
    pub fn apply_config(&self, findings: Vec<Finding>) -> Vec<Finding> {
        apply_config(findings, &self.config)
    }

    /// The text of the files the findings point into, for snippets.
    pub fn snippet_sources(&self, findings: &[Finding]) -> crate::render::Sources {
        snippet_sources(findings, &|path| read_disk(&self.root, path))
    }
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

    let before_entries = repo.entries(before)?;
    let before_files = to_refs(before_entries.clone());
    let reader = Reader {
        repo: Some(&repo),
        root: repo.root().to_path_buf(),
    };
    let mut cache = Cache {
        disk: DiskCache::in_git_dir(repo.common_dir()),
        ..Cache::default()
    };
    let explicit_config = options
        .config
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let after_key = snapshot_key(&after_entries, &config, explicit_config.as_deref());
    let before_key = snapshot_key(&before_entries, &config, explicit_config.as_deref());
    let after_analysis = cached_analysis(&after_key, &after_files, &reader, &config, &mut cache);
    let before_analysis = cached_analysis(&before_key, &before_files, &reader, &config, &mut cache);
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
    tables: Vec<ModelTable>,
    /// The files of each source (parallel to `sources`), in the order they run.
    source_files: Vec<Vec<String>>,
}

/// The warning for models without any migration.
const NO_MIGRATIONS: &str = "no migrations found (looked for .sql files under a `migrations` folder and Alembic revisions under `versions`); set `migrations:` in driftguard.yml if they live elsewhere";

/// Parses what is not cached yet (in parallel), then resolves models, replays sources and runs
/// the rules.
fn analyze(files: &[FileRef], reader: &Reader, config: &Config, cache: &mut Cache) -> Analysis {
    let mut warnings = Vec::new();
    // Read sequentially (git2 is not Sync), parse in parallel.
    let mut to_parse: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut parsed: Vec<Option<Arc<ParsedFile>>> = vec![None; files.len()];
    for (i, file) in files.iter().enumerate() {
        if let Content::Blob(id) = file.content {
            if let Some(hit) = cache.parsed.get(&(file.path.clone(), id)) {
                parsed[i] = Some(Arc::clone(hit));
                continue;
            }
            let kind = classify(&file.path, config);
            if kind == FileKind::Model
                && let Some(hit) = cache
                    .disk
                    .get::<CachedModels>("models", &model_key(&file.path, id))
            {
                let hit = Arc::new(ParsedFile {
                    path: file.path.clone(),
                    kind,
                    parsed: Parsed::Models(hit.models),
                    warnings: hit.warnings,
                });
                cache
                    .parsed
                    .insert((file.path.clone(), id), Arc::clone(&hit));
                parsed[i] = Some(hit);
                continue;
            }
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
        if let (Content::Blob(id), Parsed::Models(models)) = (files[i].content, &file.parsed) {
            cache.disk.put(
                "models",
                &model_key(&file.path, id),
                &CachedModels {
                    models: models.clone(),
                    warnings: file.warnings.clone(),
                },
            );
        }
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
        FileKind::Model
            if !models::is_candidate(bytes) || crate::discover::is_test_module(path, bytes) =>
        {
            Parsed::Nothing
        }
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
            live: false,
        });
    }
    // `op.create_table(SqlRun.__tablename__, …)`: the class's table, when one model class of
    // that name maps a table.
    let mut class_tables: HashMap<&str, Option<crate::migrations::QualifiedName>> = HashMap::new();
    for table in &tables {
        if let Some(class) = &table.class_name {
            let name = crate::migrations::QualifiedName::new(table.schema.as_deref(), &table.name);
            class_tables
                .entry(class.as_str())
                .and_modify(|t| {
                    if t.as_ref() != Some(&name) {
                        *t = None;
                    }
                })
                .or_insert(Some(name));
        }
    }
    let table_of = |class: &str| class_tables.get(class).cloned().flatten();
    for (env, mut revisions) in alembic_envs {
        for revision in &mut revisions {
            for class in alembic::resolve_model_tables(revision, &table_of) {
                warnings.push(Warning::at(
                    crate::source::Location {
                        path: revision.path.clone(),
                        line: 1,
                        column: 1,
                    },
                    format!(
                        "this revision names the table of model class `{class}` \
                         (`{class}.__tablename__`), but no model class of that name maps one \
                         table: its changes to that table are not checked"
                    ),
                ));
            }
        }
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
        let version_table = ordered
            .first()
            .map(|r| vec![alembic::version_table(&r.path)])
            .unwrap_or_default();
        let schema = schema::replay(
            std::iter::once(FileEvents {
                changes: &version_table,
            })
            .chain(ordered.iter().map(|r| FileEvents {
                changes: &r.events.changes,
            })),
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
            live: false,
        });
    }
    if sources.is_empty() && !tables.is_empty() {
        warnings.push(Warning::global(NO_MIGRATIONS));
    }

    let ctx = Context {
        tables: &tables,
        sources: &sources,
        default_schema: &config.default_schema,
        declared_sources: !config.sources.is_empty(),
    };
    let py_ignores: Vec<crate::suppress::PyIgnore> = model_files
        .iter()
        .flat_map(|m| m.ignores.iter().cloned())
        .collect();
    let sql_ignores: Vec<(String, crate::migrations::SqlIgnore)> = parsed
        .iter()
        .filter_map(|file| match &file.parsed {
            Parsed::Sql(events) => Some((file.path.clone(), events)),
            _ => None,
        })
        .flat_map(|(path, events)| {
            events
                .ignores
                .iter()
                .map(move |ignore| (path.clone(), ignore.clone()))
        })
        .collect();
    let findings = crate::suppress::apply(
        rules::check(&ctx),
        &mut warnings,
        &tables,
        &py_ignores,
        &sql_ignores,
    );
    let findings = apply_config(findings, config);
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
        tables,
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

/// Severity overrides, `off`, and `ignore:` patterns (on the target, and on the table a foreign
/// key points at); then a stable order.
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
            ) || f
                .target
                .referenced()
                .is_some_and(|(schema, table, column)| {
                    config.is_ignored(schema, table, None)
                        || config.is_ignored(schema, table, Some(column))
                });
            (!ignored).then_some(f)
        })
        .collect();
    out.sort_by(|a, b| (&a.location, a.rule, &a.target).cmp(&(&b.location, b.rule, &b.target)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Target;
    use crate::rule::Rule;
    use crate::source::Location;

    fn finding(rule: Rule, target: Target) -> Finding {
        Finding {
            rule,
            severity: rule.default_severity(),
            message: String::new(),
            help: String::new(),
            suggestion: None,
            location: Location::new("models.py", 1, 1),
            target,
            related: Vec::new(),
        }
    }

    #[test]
    fn config_turns_rules_off_changes_severities_and_ignores_referenced_tables() {
        let yaml = "ignore: [\"auth.users\"]\nrules: {DG005: error, DG006: \"off\"}\n";
        let (config, _) = crate::config::load(None, &|name| {
            (name == "driftguard.yml").then(|| yaml.to_string())
        })
        .expect("valid config");
        let column = Target {
            schema: "core".into(),
            table: "reviews".into(),
            column: Some("author_id".into()),
            ..Target::default()
        };
        let findings = apply_config(
            vec![
                finding(Rule::ColumnTypeMismatch, column.clone()),
                finding(Rule::NullabilityMismatch, column.clone()),
                finding(
                    Rule::ForeignKeyTargetMissing,
                    Target {
                        references: Some("auth.users.id".into()),
                        ..column.clone()
                    },
                ),
                finding(
                    Rule::ForeignKeyTargetMissing,
                    Target {
                        references: Some("core.customers.id".into()),
                        ..column
                    },
                ),
            ],
            &config,
        );
        let kept: Vec<(Rule, Severity, Option<&str>)> = findings
            .iter()
            .map(|f| (f.rule, f.severity, f.target.references.as_deref()))
            .collect();
        assert_eq!(
            kept,
            vec![
                (Rule::ColumnTypeMismatch, Severity::Error, None),
                (
                    Rule::ForeignKeyTargetMissing,
                    Severity::Error,
                    Some("core.customers.id")
                ),
            ]
        );
    }
}
