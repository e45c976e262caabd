//! Migration sources: the parsed migration files of a snapshot → the schema they build.
//!
//! A *source* is one sequence of migrations that runs in one order: the SQL files (all SQL
//! folders together, by natural file-name order, or one declared `sources:` entry), or one
//! Alembic environment — a connected component of the revision graph, wherever its files live
//! ([`alembic::components`]), ordered by that graph.
//!
//! Zero config, every source of a repository writes **one database** ([`Assembly::OneDatabase`]):
//! they replay into one schema ([`crate::schema::replay_sources`]) in a fixed order — Alembic
//! sources by name, then the SQL files — so that a column counts wherever the repository
//! makes it, and a table one source alters but none creates exists (made elsewhere). A config
//! that declares `sources:` keeps each source apart ([`Assembly::Separate`]): the project
//! deploys them to different databases, and a model table is checked against each source that
//! serves it.
//!
//! [`assemble`] reads no files and runs no rules: [`crate::project`] hands it what was parsed,
//! and the rules compare the models with what it returns.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};

use crate::cache::DiskCache;
use crate::git::BlobId;
use crate::schema::resume::{self, FileKey};
use crate::timing::span;

use crate::config::Config;
use crate::finding::Warning;
use crate::migrations::{MigrationEvents, QualifiedName, SchemaChange, SqlRead, alembic};
use crate::models::ModelTable;
use crate::rules::{MigrationSource, SourcePart};
use crate::schema::{self, FileEvents, SourceEvents};
use crate::source::Location;

/// A SQL migration file as read.
#[derive(Debug, Clone, Copy)]
pub struct SqlMigration<'a> {
    pub path: &'a str,
    /// The declared source (index in [`Config::sources`]) it belongs to; `None`: the
    /// zero-config SQL source.
    pub source: Option<usize>,
    pub events: &'a MigrationEvents,
}

/// A SQL migration file whose events are decoded when needed ([`SqlRead`]).
#[derive(Debug, Clone, Copy)]
pub struct SqlFile<'a> {
    pub path: &'a str,
    /// Its blob id (`None`: read from disk), by which a kept replay recognises it with its
    /// path: its events depend on its bytes alone.
    pub id: Option<BlobId>,
    /// As [`SqlMigration::source`].
    pub source: Option<usize>,
    pub read: &'a SqlRead,
}

impl<'a> SqlFile<'a> {
    /// The file with its events decoded.
    pub fn decoded(&self) -> SqlMigration<'a> {
        SqlMigration {
            path: self.path,
            source: self.source,
            events: self.read.events(),
        }
    }
}

/// The Alembic sources of a snapshot: revisions of a declared `sources:` entry under its
/// path, the others grouped by [`alembic_sources`].
pub type AlembicSources = BTreeMap<String, Vec<alembic::Revision>>;

/// Groups revisions into Alembic sources: those of a declared `sources:` entry (`declared`,
/// by its path), and the others (`found`, under `versions/` or anywhere by content) by
/// [`alembic::components`], named by their common folder.
pub fn alembic_sources(
    declared: BTreeMap<String, Vec<alembic::Revision>>,
    found: Vec<alembic::Revision>,
) -> AlembicSources {
    let mut sources = declared;
    for (name, revisions) in alembic::components(found) {
        match sources.entry(name) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(revisions);
            }
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                entry.get_mut().extend(revisions)
            }
        }
    }
    sources
}

/// How the sources of a repository relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assembly {
    /// All sources write one database: one [`MigrationSource`] for them all.
    OneDatabase,
    /// Each source is a database of its own: one [`MigrationSource`] each.
    Separate,
}

impl Assembly {
    /// One database unless the config declares `sources:`.
    pub fn for_config(config: &Config) -> Assembly {
        if config.sources.is_empty() {
            Assembly::OneDatabase
        } else {
            Assembly::Separate
        }
    }
}

/// Replays kept between runs ([`schema::resume`]): where [`assemble`] finds one to go on
/// from, and keeps its own.
pub struct KeptReplays<'a> {
    pub disk: &'a DiskCache,
    /// The kept replay, when it is being decoded ahead of need.
    pub ahead: Option<&'a crate::project::KeptAhead>,
    /// For a change check's after side: the paths its change touches. When the kept replay
    /// does not lead here, the last source's files before the first of them replay in full
    /// and the rest goes on from there (see [`resume::replay_resuming`]).
    pub changed: Option<&'a foldhash::HashSet<String>>,
    /// What each replay went on from and leaves kept, in the order they ran (for the rules'
    /// memo: [`crate::rules::scope`]).
    pub bases: std::sync::Mutex<Vec<crate::rules::scope::ReplayBases>>,
}

impl KeptReplays<'_> {
    /// The replay of `events` (of `plans`), going on from the one kept under the same config
    /// and source names when it leads here, and kept in turn.
    fn replay(&self, plans: &[&Plan], config: &Config) -> schema::Replayed {
        let events = |skip: &[usize]| -> Vec<SourceEvents> {
            plans
                .iter()
                .enumerate()
                .map(|(i, plan)| plan.events(skip.get(i).copied().unwrap_or(0)))
                .collect()
        };
        let digests: Vec<Vec<Option<[u8; 16]>>> = plans.iter().map(|plan| plan.digests()).collect();
        let keys: Option<Vec<Vec<FileKey>>> = plans
            .iter()
            .zip(&digests)
            .map(|(plan, digests)| plan.file_keys(digests))
            .collect();
        let Some(keys) = keys else {
            self.record(crate::rules::scope::ReplayBases::default());
            return schema::replay_checked(&events(&[]), config.postgres_version);
        };
        let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
        let key = crate::cache::replay_key(config, &names);
        let read = || {
            let _s = span("kept replay read");
            kept_replay(self.disk, &key)
        };
        let saved = match self.ahead.map(|ahead| ahead.replay(&key)) {
            Some(crate::project::Ahead::Taken(saved)) => saved,
            // The first replay of the run is the one the next run decodes ahead.
            Some(crate::project::Ahead::Missed) => {
                let memo = crate::cache::replay_key_memo(config);
                self.disk
                    .put_bytes(REPLAY_KEYS, &memo, "key", key.as_bytes());
                read()
            }
            Some(crate::project::Ahead::Gone) | None => read(),
        };
        let _s = span("replay");
        // Where the change begins in the last source: its first file the change touches.
        let base = self.changed.and_then(|changed| {
            keys.last()?
                .iter()
                .position(|(path, _)| changed.contains(*path))
        });
        let outcome = resume::replay_resuming_keyed(
            &events,
            Some(&keys),
            config.postgres_version,
            saved,
            base,
        );
        match outcome.how {
            resume::How::Full => {
                crate::timing::count("files replayed (in full)", keys.iter().map(Vec::len).sum())
            }
            resume::How::Resumed(n) => {
                crate::timing::count("files replayed (after a kept replay)", n)
            }
            resume::How::FromBase(before, after) => {
                crate::timing::count("files replayed (before the change, in full)", before);
                crate::timing::count("files replayed (the change, going on)", after);
            }
        }
        // The files replayed after the state it went on from: the last ones of the last
        // source.
        let from = outcome.went_on_from.and_then(|(token, replayed)| {
            use std::hash::BuildHasher;
            let last: &[FileKey] = keys.last().map_or(&[], Vec::as_slice);
            let skip = last.len().saturating_sub(replayed);
            let digest = foldhash::quality::FixedState::with_seed(0x5eed_0006);
            let files = plans.last().map_or_else(Vec::new, |plan| {
                plan.events(skip)
                    .files
                    .iter()
                    .zip(&last[skip..])
                    .map(|(file, key)| {
                        crate::rules::scope::ReplayedFile::new(digest.hash_one(key), file.changes)
                    })
                    .collect()
            });
            (files.len() == replayed).then_some(crate::rules::scope::ReplayBasis { token, files })
        });
        let fresh = outcome.keep.as_ref().map(|keep| keep.token());
        let bytes = match (outcome.keep_encoded, &outcome.keep) {
            (Some(bytes), _) => Some(bytes),
            (None, Some(keep)) => resume::encode(keep, &outcome.replayed.schema),
            (None, None) => None,
        };
        let written = bytes.is_some();
        if let Some(bytes) = bytes {
            let _s = span("kept replay write");
            self.disk.put_bytes(REPLAYS, &key, "bin", &bytes);
        }
        // What the cache holds after this replay: the final state when it was kept, else the
        // one it went on from (kept before, or just now: the state before a change).
        let kept = match fresh {
            Some(token) => written.then(|| crate::rules::scope::ReplayBasis {
                token,
                files: Vec::new(),
            }),
            None => from.clone(),
        };
        self.record(crate::rules::scope::ReplayBases { from, kept });
        outcome.replayed
    }

    fn record(&self, bases: crate::rules::scope::ReplayBases) {
        self.bases
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(bases);
    }

    /// What each replay went on from and leaves kept, in the order they ran.
    pub fn take_bases(&self) -> Vec<crate::rules::scope::ReplayBases> {
        std::mem::take(
            &mut *self
                .bases
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// The replay kept under `key`, decoded; `None` when there is none or it would not decode.
pub fn kept_replay(disk: &DiskCache, key: &str) -> Option<(resume::Kept, schema::Schema)> {
    disk.get_bytes(REPLAYS, key, "bin").and_then(resume::decode)
}

/// The cache folder of kept replays.
const REPLAYS: &str = "replays";

/// The cache folder of the remembered key of each config's first replay
/// ([`crate::cache::replay_key_memo`]).
pub const REPLAY_KEYS: &str = "replay-keys";

/// One source's files in order, before replay.
struct Plan<'a> {
    name: String,
    default_schema: String,
    models: Option<crate::config::Globs>,
    files: PlanFiles<'a>,
    /// For an Alembic source: whether one file must run before another (see
    /// [`SourceEvents::ordered`]).
    ordered: Option<Box<dyn Fn(usize, usize) -> bool>>,
}

enum PlanFiles<'a> {
    Sql(Vec<SqlFile<'a>>),
    /// Ordered revisions, and Alembic's own version table (created before the first one).
    Alembic(Vec<alembic::Revision>, Vec<SchemaChange>),
}

impl Plan<'_> {
    fn paths(&self) -> Vec<String> {
        match &self.files {
            PlanFiles::Sql(files) => files.iter().map(|f| f.path.to_string()).collect(),
            PlanFiles::Alembic(revisions, _) => revisions.iter().map(|r| r.path.clone()).collect(),
        }
    }

    /// Each file's identity, in the order of [`Plan::events`]: a SQL file's path and blob id
    /// (its events depend on its bytes alone; `None` for a file read from disk), a revision's
    /// path and [`Plan::digests`].
    /// `None` when a file has no identity.
    fn file_keys<'k>(&'k self, digests: &'k [Option<[u8; 16]>]) -> Option<Vec<FileKey<'k>>> {
        match &self.files {
            PlanFiles::Sql(files) => {
                // Sized ahead: collecting options into a list grows it step by step.
                let mut keys = Vec::with_capacity(files.len());
                for f in files {
                    keys.push((f.path, f.id.as_ref()?.as_bytes()));
                }
                Some(keys)
            }
            PlanFiles::Alembic(revisions, _) => {
                // The version table's events follow from the first revision's path.
                let first = revisions.first().map_or("", |r| r.path.as_str());
                let version_table = Some((first, b"\0version table".as_slice()));
                std::iter::once(version_table)
                    .chain(
                        revisions.iter().zip(digests).map(|(r, digest)| {
                            Some((r.path.as_str(), digest.as_ref()?.as_slice()))
                        }),
                    )
                    .collect()
            }
        }
    }

    /// A digest of each revision as read — its events and its place in the graph — in the
    /// order of [`Plan::events`] (empty for SQL). A revision's events may depend on more than
    /// its bytes (the project's modules it imports, the model classes whose tables it names),
    /// so the digest is of what was read, not of the file.
    fn digests(&self) -> Vec<Option<[u8; 16]>> {
        let PlanFiles::Alembic(revisions, _) = &self.files else {
            return Vec::new();
        };
        revisions
            .iter()
            .map(|revision| {
                let bytes = postcard::to_allocvec(revision).ok()?;
                Some(crate::cache::digest([bytes.as_slice()]))
            })
            .collect()
    }

    /// The source's files' events, the first `skip` files left out (not decoded): a replay
    /// that goes on from a kept one does not read them.
    fn events(&self, skip: usize) -> SourceEvents<'_> {
        let skipped;
        let files = match &self.files {
            PlanFiles::Sql(files) => {
                skipped = skip.min(files.len());
                files[skipped..]
                    .iter()
                    .map(|f| {
                        let events = f.read.events();
                        FileEvents {
                            changes: &events.changes,
                            statements: &events.facts.statements,
                            warnings: &events.warnings,
                        }
                    })
                    .collect()
            }
            // File 0 is Alembic's version table, then the revisions; the skipped ones are not
            // decoded either.
            PlanFiles::Alembic(revisions, version_table) => {
                skipped = skip.min(revisions.len() + 1);
                let table = (skipped == 0).then(|| FileEvents::plain(version_table));
                table
                    .into_iter()
                    .chain(
                        revisions[skipped.saturating_sub(1)..]
                            .iter()
                            .map(|r| FileEvents::plain(&r.events().changes)),
                    )
                    .collect()
            }
        };
        SourceEvents {
            name: &self.name,
            default_schema: &self.default_schema,
            files,
            skipped,
            ordered: self.ordered.as_deref(),
        }
    }

    fn part(&self) -> SourcePart {
        SourcePart {
            name: self.name.clone(),
            files: self.paths(),
        }
    }
}

/// Orders and replays the sources (see the module doc). `tables` are the resolved model
/// tables, for revisions that name a model class's table (`op.create_table(SqlRun.
/// __tablename__, …)`). The readers' warnings of each file, and the replay's, are added to
/// `warnings`.
// The replay inputs and its two outputs; a struct for them would only rename the list.
#[allow(clippy::too_many_arguments)]
pub fn assemble(
    sql: Vec<SqlFile>,
    alembic_sources: AlembicSources,
    env_schemas: &HashMap<String, String>,
    tables: &[ModelTable],
    config: &Config,
    assembly: Assembly,
    kept: Option<&KeptReplays>,
    warnings: &mut Vec<Warning>,
    failures: &mut Vec<schema::Failure>,
) -> Vec<MigrationSource> {
    let mut plans = Vec::new();
    let class_tables = class_tables(tables);
    let table_of = |class: &str| class_tables.get(class).cloned().flatten();
    // Alembic sources first, by name: the declared ones by their path, the others by the
    // common folder of their files.
    for (name, mut revisions) in alembic_sources {
        for revision in &mut revisions {
            for class in alembic::resolve_model_tables(revision, &table_of) {
                warnings.push(Warning::at(
                    Location::new(revision.path.clone(), 1, 1),
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
        // Told by a flag: the events of a revision without warnings are not decoded.
        for revision in ordered.iter().filter(|r| r.warned) {
            warnings.extend(
                revision
                    .events()
                    .warnings
                    .iter()
                    .map(|w| Warning::at(w.location.clone(), &w.message)),
            );
        }
        let declared = config
            .sources
            .iter()
            .find(|s| s.kind == crate::config::SourceKind::Alembic && s.path == name);
        let version_table = ordered
            .first()
            .map(|r| vec![alembic::version_table(&r.path)])
            .unwrap_or_default();
        plans.push(Plan {
            name: if name.is_empty() {
                "Alembic".to_string()
            } else {
                format!("Alembic ({name})")
            },
            default_schema: declared
                .and_then(|s| s.default_schema.clone())
                .or_else(|| env_schema(&name, env_schemas))
                .unwrap_or_else(|| config.default_schema.clone()),
            models: declared.and_then(|s| s.models.clone()),
            ordered: Some(graph_order(&ordered)),
            files: PlanFiles::Alembic(ordered, version_table),
        });
    }
    // Then SQL: the zero-config source, then the declared ones by index.
    let mut by_source: BTreeMap<Option<usize>, Vec<SqlFile>> = BTreeMap::new();
    match sql.first().map(|first| first.source) {
        // One source (nearly always): its files as they are, not pushed one by one into a
        // new list (20,000 at 5,000 models / 20,000 migrations).
        Some(only) if sql.iter().all(|file| file.source == only) => {
            by_source.insert(only, sql);
        }
        _ => {
            for file in sql {
                by_source.entry(file.source).or_default().push(file);
            }
        }
    }
    for (source_index, mut files) in by_source {
        crate::discover::sort_in_migration_order(&mut files, |f| f.path);
        for file in &files {
            warnings.extend(
                file.read
                    .warnings()
                    .iter()
                    .map(|w| Warning::at(w.location.clone(), &w.message)),
            );
        }
        let declared = source_index.and_then(|i| config.sources.get(i));
        plans.push(Plan {
            name: match declared {
                Some(s) => format!("SQL migrations ({})", s.path),
                None => "SQL migrations".to_string(),
            },
            default_schema: declared
                .and_then(|s| s.default_schema.clone())
                .unwrap_or_else(|| config.default_schema.clone()),
            models: declared.and_then(|s| s.models.clone()),
            files: PlanFiles::Sql(files),
            ordered: None,
        });
    }
    let replay = |plans: &[&Plan]| match kept {
        Some(kept) => kept.replay(plans, config),
        None => {
            let events: Vec<SourceEvents> = plans.iter().map(|p| p.events(0)).collect();
            schema::replay_checked(&events, config.postgres_version)
        }
    };
    match assembly {
        Assembly::Separate => plans
            .iter()
            .map(|plan| {
                let replayed = replay(&[plan]);
                warnings.extend(replayed.warnings);
                failures.extend(replayed.failures);
                MigrationSource {
                    name: plan.name.clone(),
                    default_schema: plan.default_schema.clone(),
                    schema: replayed.schema,
                    models: plan.models.clone(),
                    live: false,
                    parts: vec![plan.part()],
                }
            })
            .collect(),
        Assembly::OneDatabase if plans.is_empty() => Vec::new(),
        Assembly::OneDatabase => {
            let replayed = replay(&plans.iter().collect::<Vec<&Plan>>());
            warnings.extend(replayed.warnings);
            failures.extend(replayed.failures);
            vec![MigrationSource {
                name: ONE_DATABASE.to_string(),
                default_schema: config.default_schema.clone(),
                schema: replayed.schema,
                models: None,
                live: false,
                parts: plans.iter().map(Plan::part).collect(),
            }]
        }
    }
}

/// The schema an Alembic source's `env.py` runs its revisions in (`env_schemas`: by the path
/// of each `env.py` that names one): the `env.py` in the source's folder, else in the folder
/// above it or the one above that (revisions kept in `versions/2024/`).
fn env_schema(source: &str, env_schemas: &HashMap<String, String>) -> Option<String> {
    let mut dir = source;
    for _ in 0..3 {
        let path = if dir.is_empty() {
            "env.py".to_string()
        } else {
            format!("{dir}/env.py")
        };
        if let Some(schema) = env_schemas.get(&path) {
            return Some(schema.clone());
        }
        if dir.is_empty() {
            break;
        }
        dir = parent_dir(dir);
    }
    None
}

/// Which files of an Alembic source must run before which: file 0 is Alembic's version
/// table (before every revision), file `k + 1` the `k`-th revision of `revisions` (in graph
/// order); `a` runs before `b` in every order when `a` is an ancestor of `b` through
/// `down_revision` and `depends_on` links. Asked rarely (an `ALTER` on a table its own source
/// has not created yet), so answered by a walk up from `b` rather than a precomputed closure.
fn graph_order(revisions: &[alembic::Revision]) -> Box<dyn Fn(usize, usize) -> bool> {
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, revision) in revisions.iter().enumerate() {
        by_id.entry(revision.revision.as_str()).or_default().push(i);
        for label in &revision.branch_labels {
            by_id.entry(label.as_str()).or_default().push(i);
        }
    }
    // In graph order a parent comes first; a link to a later file is broken and dropped.
    let parents: Vec<Vec<usize>> = revisions
        .iter()
        .enumerate()
        .map(|(i, revision)| {
            revision
                .down_revisions
                .iter()
                .chain(&revision.depends_on)
                .flat_map(|id| by_id.get(id.as_str()).into_iter().flatten().copied())
                .filter(|&j| j < i)
                .collect()
        })
        .collect();
    Box::new(move |a, b| match (a, b) {
        (0, b) => b > 0,
        (_, 0) => false,
        (a, b) => {
            let (target, start) = (a - 1, b - 1);
            let mut seen = vec![false; parents.len()];
            let mut stack = vec![start];
            while let Some(i) = stack.pop() {
                for &p in parents.get(i).into_iter().flatten() {
                    if p == target {
                        return true;
                    }
                    if p > target && !seen[p] {
                        seen[p] = true;
                        stack.push(p);
                    }
                }
            }
            false
        }
    })
}

/// The name of the one source all migrations of a zero-config repository make together.
pub const ONE_DATABASE: &str = "the migrations";

/// Model class name → the table it maps, when exactly one table has a class of that name.
fn class_tables(tables: &[ModelTable]) -> HashMap<&str, Option<QualifiedName>> {
    let mut class_tables: HashMap<&str, Option<QualifiedName>> = HashMap::new();
    for table in tables {
        if let Some(class) = &table.class_name {
            let name = QualifiedName::new(table.schema.as_deref(), &table.name);
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
    class_tables
}

/// What a user will want to know about the one database the sources build, given the model
/// tables (unqualified ones in `default_schema`):
///
/// - a table the migrations alter, that none creates and no model maps: often a typo
///   (`core.custmers`), named with the nearest known table; else made outside on purpose,
///   which `external:` says;
/// - a model column that only a source of *another service* creates: in a monorepo of
///   several services, a source belongs to the nearest folder above it that holds model
///   files; a model belongs to the deepest such folder that holds it; when the two folders
///   are apart (neither inside the other), the column is not in this service's database.
pub fn advice(
    source: &MigrationSource,
    tables: &[ModelTable],
    config: &Config,
    warnings: &mut Vec<Warning>,
) {
    let schema_of = |t: &ModelTable| {
        t.schema
            .clone()
            .unwrap_or_else(|| source.default_schema.clone())
    };
    // The tables made outside the migrations: most projects have none, and then neither the
    // mapped tables nor the names to suggest are gathered (10,000 strings at 5,000 tables).
    let outside: Vec<&crate::schema::Table> = source
        .schema
        .tables
        .values()
        .filter(|t| t.origin == crate::schema::Origin::Outside)
        .collect();
    let mapped: foldhash::HashSet<(String, &str)> = if outside.is_empty() {
        foldhash::HashSet::default()
    } else {
        tables
            .iter()
            .map(|t| (schema_of(t), t.name.as_str()))
            .collect()
    };
    let known = std::cell::OnceCell::new();
    let known = || {
        known.get_or_init(|| {
            source
                .schema
                .tables
                .values()
                .filter(|t| t.origin == crate::schema::Origin::Migrations)
                .map(|t| format!("{}.{}", t.schema, t.name))
                .chain(mapped.iter().map(|(s, t)| format!("{s}.{t}")))
                .collect::<Vec<String>>()
        })
    };
    for table in outside {
        if mapped.contains(&(table.schema.clone(), table.name.as_str()))
            || config.external.matches(&table.schema, &table.name)
        {
            continue;
        }
        let name = format!("{}.{}", table.schema, table.name);
        let hint = match nearest(&name, known()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "if it is made outside the migrations on purpose, list it under `external:` in driftguard.yml".to_string(),
        };
        warnings.push(Warning::at(
            table.location.clone(),
            format!("this alters `{name}`, which no migration creates and no model maps; {hint}"),
        ));
    }
    if source.parts.len() < 2 {
        return;
    }
    let model_dirs: Vec<&str> = tables
        .iter()
        .map(|t| parent_dir(&t.location.path))
        .collect();
    let owners: Vec<Option<String>> = source
        .parts
        .iter()
        .map(|part| owner(common_dir(&part.files), &model_dirs))
        .collect();
    for table in tables {
        let Some(migrated) = source.schema.table(&schema_of(table), &table.name) else {
            continue;
        };
        for column in &table.columns {
            let Some(created) = migrated.column(&column.name) else {
                continue;
            };
            let Some(Some(owner)) = owners.get(created.source) else {
                continue;
            };
            // The model's service: the deepest owner of a source that holds the model.
            let Some(home) = owners
                .iter()
                .flatten()
                .filter(|o| is_inside(&table.location.path, o))
                .max_by_key(|o| o.len())
            else {
                continue;
            };
            if is_inside(owner, home) || is_inside(home, owner) {
                continue;
            }
            let part = &source.parts[created.source];
            warnings.push(Warning::at(
                column.location.clone(),
                format!(
                    "`{}.{}.{}` is created only by {}, which belongs to `{owner}/` — not to the service of this model; if the services keep separate databases, add the migration to this model's service too (or declare `sources:` in driftguard.yml)",
                    migrated.schema, migrated.name, column.name, part.name
                ),
            ));
        }
    }
}

/// The known name closest to `name` by edit distance, when close enough to be a typo.
fn nearest<'k>(name: &str, known: &'k [String]) -> Option<&'k str> {
    let limit = (name.len() / 6).clamp(1, 3);
    known
        .iter()
        .filter(|k| k.as_str() != name)
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k.as_str())
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The common folder of some files (`""`: the root).
fn common_dir(files: &[String]) -> String {
    let mut common: Option<Vec<&str>> = None;
    for file in files {
        let segments: Vec<&str> = parent_dir(file)
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        common = Some(match common {
            None => segments,
            Some(prefix) => prefix
                .into_iter()
                .zip(segments)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common.unwrap_or_default().join("/")
}

/// The nearest folder at or above `dir` that holds a model file (at any depth); `None` when
/// that is the root (one service) or none does.
fn owner(mut dir: String, model_dirs: &[&str]) -> Option<String> {
    while !dir.is_empty() {
        if model_dirs.iter().any(|m| is_inside(m, &dir)) {
            return Some(dir);
        }
        dir = parent_dir(&dir).to_string();
    }
    None
}

/// Whether `path` is `dir` or lies under it.
fn is_inside(path: &str, dir: &str) -> bool {
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_names_a_typo_and_nothing_far() {
        let known = vec!["core.customers".to_string(), "core.bookings".to_string()];
        assert_eq!(nearest("core.custmers", &known), Some("core.customers"));
        assert_eq!(nearest("auth.users", &known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_source_belongs_to_the_nearest_folder_with_models() {
        let models = ["services/a/app/models", "services/b/app/models"];
        assert_eq!(
            owner("services/a/migrations".to_string(), &models),
            Some("services/a".to_string())
        );
        // The handbook's layout: SQL beside the backend at the root is the root's.
        assert_eq!(
            owner(
                "database/migrations".to_string(),
                &["apps/backend/src/db/models"]
            ),
            None
        );
        assert!(is_inside("services/a/app/models/x.py", "services/a"));
        assert!(!is_inside("services/ab/x.py", "services/a"));
    }
}
