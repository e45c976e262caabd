//! The check: a mode → two snapshots → the findings the change introduces.
//!
//! [`run`] resolves the mode into snapshots (the working tree for `--all`; HEAD and the index
//! for `--staged`; the merge base and HEAD for `--base`), has [`crate::project`] analyse each
//! (a parse is shared between the two snapshots of a change check when the path and blob id
//! are the same) and returns a [`Report`]. In a change check the report holds only the
//! findings the change introduces: findings(after) − findings(before), keyed by rule and
//! target, never by line. When a change touches no Python, SQL or config file the check stops
//! at once with nothing to report.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::cache::{DiskCache, snapshot_key};
use crate::config::{Config, unstaged_config_warnings};
use crate::discover::{FileKind, classify, walk};
use crate::error::Error;
use crate::finding::{Finding, Related, Warning};
use crate::git::{Change, Entry, Repo, Snapshot};
use crate::project::{
    Analysis, Content, FileReader, FileRef, ParseCache, analyze, analyze_tree, cached_analysis,
    fail_on, load_config, read_disk, snippet_sources, unmatched_globs,
};
use crate::report::{Mode, Report, Summary};
use crate::rule::{Rule, Severity};
use crate::timing::span;

/// What to check and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub path: PathBuf,
    pub mode: Mode,
    pub config: Option<PathBuf>,
    /// `--fail-on`, overriding the config's `fail_on`: `Some(None)` is `never`.
    pub fail_on: Option<Option<Severity>>,
}

/// Runs a check.
pub fn run(options: &CheckOptions) -> Result<Report, Error> {
    match &options.mode {
        Mode::All => run_all(options),
        Mode::Staged | Mode::Base(_) => run_change(options),
    }
}

fn run_all(options: &CheckOptions) -> Result<Report, Error> {
    let _total = span("check --all total");
    let (config, mut warnings, analysis) = match all_in_work_tree(options)? {
        Some(cached) => cached,
        None => analyze_tree(&options.path, options.config.as_deref(), &|_| true)?,
    };
    warnings.extend(analysis.warnings);
    let mut summary = analysis.summary;
    summary.findings = analysis.findings.len();
    let sources = snippet_sources(&analysis.findings, &|path| read_disk(&options.path, path));
    Ok(Report {
        mode: Mode::All,
        findings: analysis.findings,
        warnings,
        summary,
        fail_on: fail_on(options.fail_on, &config),
        nothing_to_check: false,
        sources,
    })
}

/// `check --all` in a git work tree, through the cache of change checks: the same walk as a
/// plain directory (untracked files count, ignored ones do not), each file named by its blob
/// id — the index's when its stat data still matches, else the hash of its bytes (see
/// [`Repo::worktree_ids`]) — so that an unchanged tree is one cache read and a changed one
/// parses only the files that changed. The bytes are still read from disk: a file's blob need
/// not be in the repository. `None` (the uncached path) outside a work tree, with
/// `DRIFTGUARD_NO_CACHE`, or when a file cannot be read (the uncached run says so).
fn all_in_work_tree(
    options: &CheckOptions,
) -> Result<Option<(Config, Vec<Warning>, Analysis)>, Error> {
    let root = &options.path;
    if crate::cache::disabled() || !root.is_dir() {
        return Ok(None);
    }
    let Some(repo) = Repo::discover(root) else {
        return Ok(None);
    };
    let read_root = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    let (config, mut warnings) = load_config(options.config.as_deref(), &read_root)?;
    let mut cache = ParseCache::with_disk(DiskCache::in_git_dir(repo.common_dir()));
    cache.prefetch(&config);
    let s = span("walk");
    let paths = walk(root, &config);
    drop(s);
    let s = span("blob ids");
    let ids = repo.worktree_ids(root, &paths);
    drop(s);
    let Some(ids) = ids.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let entries: Vec<Entry> = paths
        .into_iter()
        .zip(ids)
        .map(|(path, id)| Entry {
            path: path.into(),
            id,
        })
        .collect();
    // A blob id with no repository to read from: the file on disk, whose bytes have that id.
    let files: Vec<FileRef> = entries.iter().map(FileRef::of_entry).collect();
    warnings.extend(unmatched_globs(&files, &config));
    let reader = FileReader {
        repo: None,
        root: root.clone(),
    };
    let s = span("snapshot key");
    let key = snapshot_key(&entries, &config);
    drop(s);
    let mut analysis = cached_analysis(&key, &files, &reader, &config, &mut cache);
    cache.finish()?;
    drop_in_background(cache);
    drop_in_background((
        std::mem::take(&mut analysis.sources),
        std::mem::take(&mut analysis.tables),
    ));
    Ok(Some((config, warnings, analysis)))
}

/// The kinds of `entries`, taking a path's kind from `known` (the other side's listing and
/// kinds, under the same config) where it lists the path. Listings in git's order pair up in
/// one pass; a path not paired (another order, never seen) is classified again, so the
/// answer never depends on the order.
///
/// `known_kind` gives the kind of `known`'s entry at a position; positions are asked in
/// ascending order.
fn kinds_alongside(
    entries: &[Entry],
    known: &[Entry],
    mut known_kind: impl FnMut(usize) -> FileKind,
    config: &Config,
) -> Vec<FileKind> {
    let mut j = 0;
    entries
        .iter()
        .map(|entry| {
            while known.get(j).is_some_and(|k| k.path < entry.path) {
                j += 1;
            }
            match known.get(j) {
                Some(k) if k.path == entry.path => known_kind(j),
                _ => classify(&entry.path, config),
            }
        })
        .collect()
}

/// [`kinds_alongside`]'s `known_kind` for a list of kinds in `known`'s order.
fn in_list(kinds: &[FileKind]) -> impl FnMut(usize) -> FileKind + '_ {
    |at| kinds.get(at).cloned().unwrap_or(FileKind::Other)
}

/// [`kinds_alongside`] with nothing known: every path is classified.
fn kinds_of(entries: &[Entry], config: &Config) -> Vec<FileKind> {
    kinds_alongside(entries, &[], in_list(&[]), config)
}

/// The cache folder of snapshot keys remembered by tree ([`crate::cache::tree_key_memo`]).
const TREE_KEYS: &str = "tree-keys";

/// The cache folder of a tree's path kinds under a config, remembered by tree beside its key
/// ([`KeptKinds`]).
const TREE_KINDS: &str = "tree-kinds";

/// The kinds of a tree's paths under one config, kept so that a check whose before side is
/// cached takes the after side's kinds from its before side's, classifying only the paths the
/// change adds (25,000 paths at 5,000 models / 20,000 migrations took ~4 ms to classify).
/// Only the entries that are not [`FileKind::Other`] are written, by position in the tree's
/// listing.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptKinds {
    /// How many entries the listing holds: kinds kept for another listing are not used.
    entries: u32,
    kinds: Vec<(u32, FileKind)>,
}

impl KeptKinds {
    fn encode(kinds: &[FileKind]) -> Option<Vec<u8>> {
        let kept = KeptKinds {
            entries: u32::try_from(kinds.len()).ok()?,
            kinds: kinds
                .iter()
                .enumerate()
                .filter(|(_, kind)| **kind != FileKind::Other)
                .map(|(i, kind)| Some((u32::try_from(i).ok()?, kind.clone())))
                .collect::<Option<_>>()?,
        };
        postcard::to_allocvec(&kept).ok()
    }

    /// The kinds kept for a listing of `entries` paths, or `None` when the bytes are damaged or
    /// were kept for another listing.
    fn decode(bytes: &[u8], entries: usize) -> Option<KeptKinds> {
        let kept: KeptKinds = postcard::from_bytes(bytes).ok()?;
        let ascending = kept.kinds.windows(2).all(|w| w[0].0 < w[1].0);
        let inside = kept.kinds.last().is_none_or(|(i, _)| *i < kept.entries);
        (usize::try_from(kept.entries).ok()? == entries && ascending && inside).then_some(kept)
    }

    /// The kind of each entry position, asked in ascending order (as [`kinds_alongside`] asks).
    fn by_position(&self) -> impl FnMut(usize) -> FileKind + '_ {
        let mut next = 0;
        move |at| {
            while self
                .kinds
                .get(next)
                .is_some_and(|(i, _)| usize::try_from(*i).is_ok_and(|i| i < at))
            {
                next += 1;
            }
            match self.kinds.get(next) {
                Some((i, kind)) if usize::try_from(*i).is_ok_and(|i| i == at) => kind.clone(),
                _ => FileKind::Other,
            }
        }
    }
}

/// A change check's before side: its findings, cached under the key remembered for its tree,
/// or its files and key, to analyse (or find cached under that key).
enum BeforeSide {
    Cached(Analysis),
    ToCheck(Vec<FileRef>, String),
}

fn run_change(options: &CheckOptions) -> Result<Report, Error> {
    let _total = span("check total");
    let repo = Repo::open(&options.path)?;
    let mut cache = ParseCache::with_disk(DiskCache::in_git_dir(repo.common_dir()));
    // The parse pack of the work tree's config — nearly always the staged one — is decoded
    // while the snapshots are listed.
    let read_work_tree = |name: &str| std::fs::read_to_string(repo.root().join(name)).ok();
    if let Ok((work_tree_config, _)) = load_config(options.config.as_deref(), &read_work_tree) {
        cache.prefetch(&work_tree_config);
    }
    let (before, after) = match &options.mode {
        Mode::Staged => (repo.head()?, Snapshot::Index),
        Mode::Base(reference) => (repo.merge_base_with(reference)?, repo.head()?),
        Mode::All => return run_all(options),
    };
    let s = span("listings and changed paths");
    let Change {
        before: before_entries,
        after: after_entries,
        changed,
        submodules,
    } = repo.change(before, after, cache.disk())?;
    drop(s);
    // Each side reads its own snapshot's config: a config edit is part of the change.
    let read_in = |entries: &[crate::git::Entry], name: &str| -> Option<String> {
        let entry = entries.iter().find(|e| &*e.path == name)?;
        let bytes = repo.read_blob(entry.id).ok()?;
        String::from_utf8(bytes).ok()
    };
    let (config, mut warnings) = load_config(options.config.as_deref(), &|name| {
        read_in(&after_entries, name)
    })?;
    let before_config = match load_config(options.config.as_deref(), &|name| {
        read_in(&before_entries, name)
    }) {
        Ok((before_config, _)) => before_config,
        // A config the change repairs: the before side is read with the new one.
        Err(_) => config.clone(),
    };
    warnings.extend(repo.notes().into_iter().map(Warning::global));
    warnings.extend(skipped_submodules(submodules));
    if options.mode == Mode::Staged && options.config.is_none() {
        let _s = span("unstaged config files");
        warnings.extend(unstaged_config_warnings(
            &repo.unstaged_among(crate::config::CONFIG_NAMES, &after_entries),
        ));
    }
    let relevant = changed.iter().any(|p| {
        classify(p, &config) != FileKind::Other || classify(p, &before_config) != FileKind::Other
    });
    if !relevant {
        return Ok(Report {
            mode: options.mode.clone(),
            findings: Vec::new(),
            warnings,
            summary: Summary::default(),
            fail_on: fail_on(options.fail_on, &config),
            nothing_to_check: true,
            sources: Default::default(),
        });
    }
    let early = early_files(&changed, &after_entries, &config, |path, id| {
        cache.packed(&config, path, id)
    });
    cache.parse_early(
        early
            .into_iter()
            .filter_map(|(path, id, kind)| Some((path, id, kind, repo.read_blob(id).ok()?))),
    );
    // Nearly always a new state (the next commit's), whose results the run writes at its end:
    // the files they go to are made while it parses and replays. Asked for after the early
    // parses, so that the pool's free thread starts the edited model file first (the parse
    // the check waits for) and this thread makes the files while it waits.
    cache.disk().make_spares(crate::project::SPARES);
    // Each path is classified once, for the snapshot key (config files count) and for the
    // files to read (they do not); under the same config, once for both sides.
    let s = span("classify and snapshot keys");
    let classified = |entries: &[Entry], kinds: &[FileKind], config: &Config| {
        // Sized ahead (a backend's model and migration files are tens of thousands).
        let relevant = kinds.iter().filter(|k| **k != FileKind::Other).count();
        let mut files = Vec::with_capacity(relevant);
        let mut kept: Vec<&Entry> = Vec::with_capacity(relevant);
        for (entry, kind) in entries.iter().zip(kinds) {
            match kind {
                FileKind::Other => continue,
                FileKind::Config => {}
                _ => files.push(FileRef::of_entry(entry)),
            }
            kept.push(entry);
        }
        let key = snapshot_key(kept, config);
        (files, key)
    };
    // Under the same config a path is the same kind on both sides: one side takes the other's
    // kinds (both listings are in git's order, so one pass pairs them).
    let same_config = before_config.fingerprint == config.fingerprint;
    // The before side's key, remembered by its tree: when its findings are cached too (a
    // commit's tree, checked before), its paths need no classifying.
    let memo = match before {
        Snapshot::Tree(tree) => Some(crate::cache::tree_key_memo(tree.as_bytes(), &before_config)),
        Snapshot::Index | Snapshot::Empty => None,
    };
    let remembered = memo.as_ref().and_then(|memo| {
        let bytes = cache.disk().get_bytes(TREE_KEYS, memo, "key")?;
        let key = std::str::from_utf8(&bytes).ok()?;
        crate::project::cached_only(key, &cache)
    });
    let keep_kinds = |memo: &str, kinds: &[FileKind]| {
        if let Some(bytes) = KeptKinds::encode(kinds) {
            cache.disk().put_bytes(TREE_KINDS, memo, "bin", &bytes);
        }
    };
    let ((after_files, after_key), before) = match remembered {
        Some(analysis) => {
            // The before side's kinds, kept by its tree: only the paths the change adds are
            // classified.
            let kept = memo
                .as_deref()
                .filter(|_| same_config)
                .and_then(|memo| cache.disk().get_bytes(TREE_KINDS, memo, "bin"))
                .and_then(|bytes| KeptKinds::decode(&bytes, before_entries.len()));
            let after_kinds = match kept {
                Some(before_kinds) => kinds_alongside(
                    &after_entries,
                    &before_entries,
                    before_kinds.by_position(),
                    &config,
                ),
                None => {
                    let after_kinds = kinds_of(&after_entries, &config);
                    if let (Some(memo), true) = (&memo, same_config) {
                        let before_kinds = kinds_alongside(
                            &before_entries,
                            &after_entries,
                            in_list(&after_kinds),
                            &before_config,
                        );
                        keep_kinds(memo, &before_kinds);
                    }
                    after_kinds
                }
            };
            (
                classified(&after_entries, &after_kinds, &config),
                BeforeSide::Cached(analysis),
            )
        }
        None => {
            let after_kinds = kinds_of(&after_entries, &config);
            let before_kinds = if same_config {
                kinds_alongside(
                    &before_entries,
                    &after_entries,
                    in_list(&after_kinds),
                    &before_config,
                )
            } else {
                kinds_of(&before_entries, &before_config)
            };
            let (after, before) = rayon::join(
                || classified(&after_entries, &after_kinds, &config),
                || classified(&before_entries, &before_kinds, &before_config),
            );
            if let Some(memo) = &memo {
                cache
                    .disk()
                    .put_bytes(TREE_KEYS, memo, "key", before.1.as_bytes());
                keep_kinds(memo, &before_kinds);
            }
            (after, BeforeSide::ToCheck(before.0, before.1))
        }
    };
    drop(s);
    // A snapshot to analyse: its kept replay and resolution are decoded meanwhile.
    let analyses = matches!(before, BeforeSide::ToCheck(..))
        || !cache.disk().has("findings", &after_key, "json");
    if analyses {
        cache.decode_kept_ahead(&config);
    }
    warnings.extend(unmatched_globs(&after_files, &config));
    let reader = FileReader {
        repo: Some(&repo),
        root: repo.root().to_path_buf(),
    };
    // The before side first: when both must be analysed, the after side's replay then goes
    // on from the one the before side kept (see `schema::resume`).
    let s = span("before side");
    let (before_analysis, before_files) = match before {
        BeforeSide::Cached(analysis) => (analysis, Vec::new()),
        BeforeSide::ToCheck(before_files, before_key) => (
            cached_analysis(
                &before_key,
                &before_files,
                &reader,
                &before_config,
                &mut cache,
            ),
            before_files,
        ),
    };
    drop(s);
    let _s = span("after side");
    cache.begin_change(changed.iter().cloned().collect());
    let after_analysis = cached_analysis(&after_key, &after_files, &reader, &config, &mut cache);
    let (preexisting, mut introduced) = introduced(
        &before_analysis,
        after_analysis.findings,
        &after_analysis.covered,
        &config,
    );
    // Warnings only for files the change touches: old unreadable files are not news.
    let changed_set: HashSet<&str> = changed.iter().map(String::as_str).collect();
    warnings.extend(after_analysis.warnings.into_iter().filter(|w| {
        w.location
            .as_ref()
            .is_none_or(|l| changed_set.contains(&*l.path))
    }));
    if options.mode == Mode::Staged && !introduced.is_empty() {
        point_at_unstaged_migrations(&repo, &after_files, &config, &mut cache, &mut introduced);
    }
    cache.finish()?;
    drop_in_background(cache);
    drop_in_background((
        before_analysis,
        after_analysis.sources,
        after_analysis.tables,
    ));
    let mut summary = after_analysis.summary;
    summary.findings = introduced.len();
    summary.preexisting = preexisting.len();
    let sources = snippet_sources(&introduced, &|path| {
        let content = after_files
            .iter()
            .find(|f| &*f.path == path)
            .map_or(Content::Disk, |f| f.content);
        reader.read(&FileRef {
            path: path.into(),
            content,
        })
    });
    // Both sides' listings (tens of thousands of paths) and the repository are freed on
    // another thread too.
    let fail_on = fail_on(options.fail_on, &config);
    drop(reader);
    drop_in_background((
        repo,
        before_entries,
        after_entries,
        before_files,
        after_files,
        changed,
    ));
    Ok(Report {
        mode: options.mode.clone(),
        findings: introduced,
        warnings,
        summary,
        fail_on,
        nothing_to_check: false,
        sources,
    })
}

/// At most this many changed files are parsed ahead of need ([`early_files`]).
pub(crate) const EARLY_FILES: usize = 64;

/// The model and migration files the change gives new bytes on its after side, read: their
/// parses are never in the parse pack on a new edit, so they are started on the thread pool
/// while both sides are classified and the pack is decoded ([`ParseCache::parse_early`]). A
/// change of more files than [`EARLY_FILES`] reads them all in its analysis, as before.
///
/// Model files first: a model file's parse is the one a check waits for (a migration file's is
/// a fraction of it), and the caller reads each file as it starts its parse, not after reading
/// every changed file. Files the parse pack already holds (`packed`: an earlier check of the
/// same change wrote them there) are left out: their early parse would go unused.
fn early_files(
    changed: &[String],
    after: &[Entry],
    config: &Config,
    packed: impl Fn(&str, crate::git::BlobId) -> bool,
) -> Vec<(String, crate::git::BlobId, FileKind)> {
    let mut wanted: Vec<(&String, FileKind)> = changed
        .iter()
        .map(|path| (path, classify(path, config)))
        .filter(|(_, kind)| {
            matches!(
                kind,
                FileKind::Model | FileKind::Sql(_) | FileKind::Alembic(_)
            )
        })
        .collect();
    if wanted.len() > EARLY_FILES {
        wanted.clear();
    }
    // Stable: migration files keep the change's order among themselves.
    wanted.sort_by_key(|(_, kind)| *kind != FileKind::Model);
    wanted
        .into_iter()
        .filter_map(|(path, kind)| {
            // Git lists paths in byte order; a path with several stages (a conflict) is
            // left to the analysis.
            let at = after.partition_point(|e| &*e.path < path.as_str());
            let entry = after.get(at).filter(|e| *e.path == **path)?;
            if after.get(at + 1).is_some_and(|e| *e.path == **path) {
                return None;
            }
            (!packed(path, entry.id)).then(|| (path.clone(), entry.id, kind))
        })
        .collect()
}

/// Frees what a run no longer needs on another thread: a large project's parses take tens of
/// milliseconds to free, and the process may exit before they are. When the process ends
/// right after the command ([`crate::process_ends_after_run`]), nothing is freed at all: the
/// system takes the memory back at exit, and freeing it would only compete with the rest of
/// the run for the cores.
fn drop_in_background<T: Send + 'static>(value: T) {
    if crate::PROCESS_ENDS_AFTER_RUN.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
        return;
    }
    // No thread to spare: the value is dropped here, with the closure.
    let _ = std::thread::Builder::new()
        .name("driftguard-free".into())
        .spawn(move || drop(value));
}

/// What the change introduces: the after side's findings that the before side lacks (by rule
/// and target), and the columns it adds to a model whose table already had a table finding
/// (no migration creates it) or is `external:` — unless a migration adds them. A table that is
/// new in this change keeps its one table finding. Returns (preexisting, introduced).
fn introduced(
    before: &Analysis,
    after: Vec<Finding>,
    after_covered: &[Finding],
    config: &Config,
) -> (Vec<Finding>, Vec<Finding>) {
    let before_keys: HashSet<_> = before
        .findings
        .iter()
        .chain(&before.covered)
        .map(Finding::key)
        .collect();
    let before_tables: HashSet<(&str, &str)> = before
        .findings
        .iter()
        .filter(|f| f.rule == Rule::TableWithoutMigration)
        .map(|f| (f.target.schema.as_str(), f.target.table.as_str()))
        .collect();
    let (preexisting, mut introduced): (Vec<Finding>, Vec<Finding>) = after
        .into_iter()
        .partition(|f| before_keys.contains(&f.key()));
    for finding in after_covered {
        let table = (
            finding.target.schema.as_str(),
            finding.target.table.as_str(),
        );
        let known_table =
            before_tables.contains(&table) || config.external.matches(table.0, table.1);
        if known_table && !before_keys.contains(&finding.key()) {
            introduced.push(finding.clone());
        }
    }
    introduced
        .sort_by(|a, b| (&a.location, a.rule, &a.target).cmp(&(&b.location, b.rule, &b.target)));
    (preexisting, introduced)
}

/// A warning per submodule whose commit the change moves: driftguard does not read inside
/// submodules, so their models and migrations were not checked.
fn skipped_submodules(moved: Vec<String>) -> Vec<Warning> {
    moved
        .into_iter()
        .map(|path| {
            Warning::global(format!(
                "`{path}` is a git submodule whose commit the change moves; driftguard does not read inside submodules, so its models and migrations were not checked: run `driftguard check` in `{path}`"
            ))
        })
        .collect()
}

/// Where a migration the user has not staged would be: the folders of the staged migration
/// files and of the configured sources. `None` (ask of the whole work tree): none is known,
/// or a migration sits at the root, or more folders than it pays to walk one by one.
fn migration_folders(staged: &[FileRef], config: &Config) -> Option<Vec<String>> {
    const MAX_FOLDERS: usize = 64;
    let mut folders: std::collections::BTreeSet<&str> = config
        .sources
        .iter()
        .map(|s| s.path.trim_end_matches('/'))
        .collect();
    for file in staged {
        if matches!(
            classify(&file.path, config),
            FileKind::Sql(_) | FileKind::Alembic(_)
        ) {
            folders.insert(file.path.rsplit_once('/').map_or("", |(dir, _)| dir));
        }
    }
    if folders.is_empty()
        || folders.iter().any(|f| f.is_empty() || *f == ".")
        || folders.len() > MAX_FOLDERS
    {
        return None;
    }
    Some(folders.into_iter().map(str::to_string).collect())
}

/// In a pre-commit check, a migration that would close a gap may exist in the working tree
/// without being staged: say so, and name the `git add` to run.
fn point_at_unstaged_migrations(
    repo: &Repo,
    staged: &[FileRef],
    config: &Config,
    cache: &mut ParseCache,
    findings: &mut [Finding],
) {
    let s = span("unstaged migrations");
    let unstaged = match migration_folders(staged, config) {
        Some(folders) => repo.unstaged_in(&folders, &|path| {
            matches!(
                classify(path, config),
                FileKind::Sql(_) | FileKind::Alembic(_)
            )
        }),
        None => repo.unstaged_paths(),
    };
    drop(s);
    let Ok(unstaged) = unstaged else {
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
        .filter(|f| !pending.iter().any(|p| **p == *f.path))
        .cloned()
        .collect();
    files.extend(pending.iter().map(|p| FileRef {
        path: p.as_str().into(),
        content: Content::Disk,
    }));
    let reader = FileReader {
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
            .filter(|l| pending.iter().any(|p| **p == *l.path));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::BlobId;

    fn listing(paths: &[&str]) -> Vec<Entry> {
        paths
            .iter()
            .map(|path| Entry {
                path: (*path).into(),
                id: BlobId::from_bytes(&[7; 20]).expect("an id"),
            })
            .collect()
    }

    #[test]
    fn the_other_sides_kinds_are_the_kinds_classification_gives() {
        let config = Config::default();
        let after = listing(&[
            "README.md",
            "app/models/customer.py",
            "db/alembic/versions/001_init.py",
            "db/migrations/001.sql",
            "db/migrations/001.down.sql",
            "db/migrations/003.sql",
            "driftguard.yml",
            "tests/test_models.py",
        ]);
        let after_kinds: Vec<FileKind> = after.iter().map(|e| classify(&e.path, &config)).collect();
        let before = listing(&[
            "app/models/account.py",
            "app/models/customer.py",
            "db/migrations/001.sql",
            "db/migrations/002.sql",
            "driftguard.yml",
            "zz/models.py",
        ]);
        let fresh: Vec<FileKind> = before.iter().map(|e| classify(&e.path, &config)).collect();
        assert_eq!(
            kinds_alongside(&before, &after, in_list(&after_kinds), &config),
            fresh
        );
        // The same from the after side's kinds kept in the cache's form.
        let bytes = KeptKinds::encode(&after_kinds).expect("encoded");
        let kept = KeptKinds::decode(&bytes, after.len()).expect("decoded");
        assert_eq!(
            kept.kinds.len(),
            5,
            "only the kinds that are not Other are kept"
        );
        assert_eq!(
            kinds_alongside(&before, &after, kept.by_position(), &config),
            fresh
        );
        assert_eq!(
            kinds_alongside(&after, &after, kept.by_position(), &config),
            after_kinds
        );
        // Kept for a listing of another length, damaged, or out of order: not used.
        assert!(KeptKinds::decode(&bytes, after.len() + 1).is_none());
        assert!(KeptKinds::decode(&bytes[..bytes.len() - 1], after.len()).is_none());
        let backwards = KeptKinds {
            entries: 8,
            kinds: vec![(3, FileKind::Model), (1, FileKind::Model)],
        };
        let bytes = postcard::to_allocvec(&backwards).expect("encoded");
        assert!(KeptKinds::decode(&bytes, 8).is_none());
        let outside = KeptKinds {
            entries: 2,
            kinds: vec![(2, FileKind::Model)],
        };
        let bytes = postcard::to_allocvec(&outside).expect("encoded");
        assert!(KeptKinds::decode(&bytes, 2).is_none());
        // Out of order, or nothing to pair with: still every path's own kind.
        let mut shuffled = before.clone();
        shuffled.reverse();
        let fresh_shuffled: Vec<FileKind> = shuffled
            .iter()
            .map(|e| classify(&e.path, &config))
            .collect();
        assert_eq!(
            kinds_alongside(&shuffled, &after, in_list(&after_kinds), &config),
            fresh_shuffled
        );
        assert_eq!(
            kinds_alongside(&shuffled, &after, kept.by_position(), &config),
            fresh_shuffled
        );
        assert_eq!(kinds_of(&before, &config), fresh);
        assert!(kinds_alongside(&[], &after, in_list(&after_kinds), &config).is_empty());
    }
}
