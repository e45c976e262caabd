//! Going on from a replay kept from an earlier run: when a snapshot's migrations are the kept
//! ones plus files appended after them, only the appended files replay.
//!
//! Replaying 20,000 migration files takes tens of milliseconds, most of a pre-commit check
//! on a large project, while a commit nearly always adds a migration at the end.
//! [`replay_resuming`] keeps what a finished replay carries (the schema, what the statement
//! checks remember, which tables each source creates in which file) with the identity of
//! every file it read (path and blob id), and goes on from it when:
//!
//! - the sources are the same (names, default schemas, SQL or graph) and so is the
//!   PostgreSQL version;
//! - every source has exactly the kept files, in the same order, except that the last may
//!   have more after them;
//! - no appended file creates a table that a kept statement looked for in its own source
//!   (whether the source creates a table later decided what such a statement did: an `ALTER`
//!   of a table no migration creates applies to a table made elsewhere, while one of a table
//!   created later fails);
//! - and no appended statement fails in a transaction part of which already ran (that
//!   replay starts again from the beginning of the file, [`super::replay_checked`]).
//!
//! Otherwise everything replays. Either way the result is exactly a full replay's. A full
//! replay is kept; one that went on is kept once it replayed [`KEEP_FROM`] files.
//!
//! A change check's after side also says where its change begins in the last source (`base`,
//! the first file the change touches), and then the state kept is the one *before* the
//! change, so that the next edit of the same change (the migration a developer fixes after
//! the hook complained) goes on from it:
//!
//! - a kept replay that ends before `base`, with [`KEEP_FROM`] files or more after it, goes on
//!   to `base` (that state is kept) and then on ([`through_base`]);
//! - one that leads here otherwise goes on as above, keeping nothing new;
//! - one that does not lead here (it ends with a file the change then edited): the files
//!   before `base` replay in full as sources of their own, that state is kept, and the rest
//!   goes on from it ([`from_base`]). Before, every later check of such a change replayed
//!   everything (~100 ms and 60 MB more at 5,000 tables / 20,000 files).

use std::collections::{BTreeMap, BTreeSet};

use foldhash::quality::FixedState;
use serde::{Deserialize, Serialize};

use super::{
    Carried, Creates, Domain, EnumType, Failure, Folders, HashMapExt, HashSet, HashSetExt,
    Replayed, Replayer, Schema, SourceEvents, Table, add_created_tables, file_folder, replay_full,
};
use crate::cache::CacheBytes;
use crate::finding::Warning;
use crate::lazy::with_backing;
use crate::source::{Direction, with_shared_paths};

/// A file's identity: its path and blob id. The same identity means the same events.
pub type FileKey<'k> = (&'k str, &'k [u8]);

/// A running digest of file identities (two 64-bit hashes of fixed seeds): a source's files
/// are kept as their count and this digest, so that a kept replay holds no list of 20,000
/// paths. The build that writes a kept replay is the only one that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Digest(u64, u64);

impl Digest {
    const START: Digest = Digest(0, 0);

    fn add(self, keys: &[FileKey]) -> Digest {
        use std::hash::BuildHasher;
        let (a, b) = (
            FixedState::with_seed(0x5eed_0001),
            FixedState::with_seed(0x5eed_0002),
        );
        let mut digest = self;
        for key in keys {
            digest = Digest(a.hash_one((digest.0, key)), b.hash_one((digest.1, key)));
        }
        digest
    }
}

/// A replay that went on from a kept one is kept in its place only once it replayed this many
/// files: writing the state (~10 ms of encoding at 5,000 tables) costs more than replaying a
/// few appended files again at the next check.
const KEEP_FROM: usize = 8;

/// The kept state's format; another one does not decode.
const FORMAT: u32 = 7;

/// A table a source creates (by schema as written, and name) and the files that do.
type CreatedIn = ((Option<String>, String), Vec<usize>);

/// One source of a kept replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceKey {
    name: String,
    default_schema: String,
    graph: bool,
    /// How many files, and the [`Digest`] of their identities in order.
    files: usize,
    digest: Digest,
}

/// A finished replay as kept between runs; its schema is kept beside it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Kept {
    format: u32,
    postgres_version: u32,
    sources: Vec<SourceKey>,
    inheritance: bool,
    warnings: Vec<Warning>,
    failures: Vec<Failure>,
    unsure: Vec<(String, String)>,
    type_sources: Vec<((String, String), usize)>,
    creates: Vec<Vec<CreatedIn>>,
    folders: Vec<Folders>,
    queried: Vec<(usize, String, String)>,
}

impl Kept {
    /// What identifies the state: the PostgreSQL version and every source's name, default
    /// schema, kind, file count and file digest. Two kept states with one token are replays
    /// of the same files, so the same schema.
    pub fn token(&self) -> u64 {
        use std::hash::BuildHasher;
        let sources: Vec<_> = self
            .sources
            .iter()
            .map(|s| {
                (
                    &s.name,
                    &s.default_schema,
                    s.graph,
                    s.files,
                    s.digest.0,
                    s.digest.1,
                )
            })
            .collect();
        FixedState::with_seed(0x5eed_0003).hash_one((FORMAT, self.postgres_version, sources))
    }

    fn new(
        postgres_version: u32,
        sources: Vec<SourceKey>,
        carried: Carried,
        creates: Vec<Creates>,
        folders: Vec<Folders>,
    ) -> Kept {
        Kept {
            format: FORMAT,
            postgres_version,
            sources,
            inheritance: carried.inheritance,
            warnings: carried.warnings,
            failures: carried.failures,
            unsure: carried.unsure.into_iter().collect(),
            type_sources: carried.type_sources.into_iter().collect(),
            creates: creates
                .into_iter()
                .map(|c| c.into_iter().collect())
                .collect(),
            folders,
            queried: carried.queried.into_iter().collect(),
        }
    }
}

/// How a replay went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Every file replayed: nothing was kept, or what was kept does not lead here.
    Full,
    /// Went on from the kept replay, replaying this many files.
    Resumed(usize),
    /// Replayed the files before the change's first in full (this many), then went on from
    /// there ([`from_base`]).
    FromBase(usize, usize),
}

/// What [`replay_resuming`] returns.
#[derive(Debug)]
pub struct Outcome {
    pub replayed: Replayed,
    /// The state to keep for the next run, with `replayed.schema`: `None` when it is what was
    /// given, or when a file has no identity.
    pub keep: Option<Kept>,
    /// The state to keep instead, already encoded ([`encode`]) with its own schema: the state
    /// before the change, after a replay that went on from there ([`How::FromBase`]).
    pub keep_encoded: Option<Vec<u8>>,
    pub how: How,
    /// The kept state the replay went on from ([`Kept::token`]) and how many files of the
    /// last source it replayed after it: `replayed.schema` differs from that state's schema
    /// only by what those files do. `None` for a replay in full.
    pub went_on_from: Option<(u64, usize)>,
}

/// What a kept replay's encoding starts with.
const MAGIC: &[u8] = b"driftguard kept replay\n";

/// Tables per chunk of a kept replay's encoding: the chunks are decoded side by side. At
/// 5,000 tables one thread decoding them all was 6 ms of a new edit's check.
const CHUNK_TABLES: usize = 512;

/// A schema's table as a chunk holds it.
type TableOut<'s> = (&'s (String, String), &'s Table);

/// The first part of a kept replay's encoding: the state, the schema in [`Schema`]'s own
/// layout with its tables left out (an empty map; read back, [`Schema`]'s own decoding), and
/// how many tables the chunks hold.
type HeadOut<'s> = (&'s Kept, SchemaOut<'s>, u64);
type HeadIn = (Kept, Schema, u64);

/// A [`Schema`] as written: its fields in order, the tables apart.
type SchemaOut<'s> = (
    &'s BTreeSet<String>,
    &'s BTreeMap<(String, String), Table>,
    &'s BTreeMap<(String, String), EnumType>,
    &'s BTreeMap<(String, String), Domain>,
);

/// The bytes of a kept replay and its schema: the state and the schema's schemas, enums and
/// domains, then its tables in chunks of [`CHUNK_TABLES`] in key order, each location's path
/// written once per part ([`with_shared_paths`]), each table's columns as bytes of their own
/// ([`crate::lazy::LazyList`]: read back, they are decoded only when read, and written again
/// as they were read until then).
pub fn encode(kept: &Kept, schema: &Schema) -> Option<Vec<u8>> {
    use rayon::prelude::*;
    let no_tables = BTreeMap::new();
    let head: HeadOut = (
        kept,
        (&schema.schemas, &no_tables, &schema.enums, &schema.domains),
        schema.tables.len() as u64,
    );
    let head = with_shared_paths(Direction::Encode, || postcard::to_allocvec(&head).ok())?;
    let tables: Vec<TableOut> = schema.tables.iter().collect();
    let chunks: Vec<Vec<u8>> = tables
        .par_chunks(CHUNK_TABLES)
        .map(|chunk| with_shared_paths(Direction::Encode, || postcard::to_allocvec(chunk).ok()))
        .collect::<Option<_>>()?;
    let mut parts = Vec::with_capacity(chunks.len() + 1);
    parts.push(head);
    parts.extend(chunks);
    Some(crate::cache::framed(MAGIC, &parts))
}

/// A kept replay and its schema from [`encode`]'s bytes, the chunks of tables decoded side by
/// side, each table's columns left as their bytes (in place in a mapped entry,
/// [`with_backing`]) until read; `None` for bytes of another format or damaged ones.
pub fn decode<B: Into<CacheBytes>>(bytes: B) -> Option<(Kept, Schema)> {
    let bytes = std::sync::Arc::new(bytes.into());
    let parts = crate::cache::frames(&bytes, MAGIC)?;
    let (head, chunks) = parts.split_first()?;
    let head = bytes.get(head.clone())?;
    let (kept, mut schema, tables): HeadIn =
        with_shared_paths(Direction::Decode, || postcard::from_bytes(head).ok())?;
    let tables = usize::try_from(tables).ok()?;
    if kept.format != FORMAT
        || !schema.tables.is_empty()
        || chunks.len() != tables.div_ceil(CHUNK_TABLES)
    {
        return None;
    }
    let backing = std::sync::Arc::clone(&bytes);
    let decoded: Vec<Vec<((String, String), Table)>> = crate::cache::decode_parts(
        std::sync::Arc::clone(&bytes),
        chunks.to_vec(),
        move |_, chunk| {
            with_backing(&backing, || {
                with_shared_paths(Direction::Decode, || postcard::from_bytes(chunk).ok())
            })
        },
    )?;
    if decoded.iter().map(Vec::len).sum::<usize>() != tables {
        return None;
    }
    // In key order, as written: the tree is built from them at once — from one list sized
    // ahead (collected from the chunks as they come, the list grew by doubling, copying
    // 5,000 tables into fresh memory again and again: a page-fault profile of a new edit put
    // ~390 of its faults in that growth).
    let mut entries = Vec::with_capacity(tables);
    for chunk in decoded {
        entries.extend(chunk);
    }
    schema.tables = BTreeMap::from_iter(entries);
    Some((kept, schema))
}

/// [`replay_resuming_keyed`], with each file's identity or `None`; a file without one makes
/// the replay full and unkept.
#[cfg(test)]
pub fn replay_resuming<'e>(
    events: &dyn Fn(&[usize]) -> Vec<SourceEvents<'e>>,
    keys: &[Vec<Option<FileKey>>],
    postgres_version: u32,
    kept: Option<(Kept, Schema)>,
    base: Option<usize>,
) -> Outcome {
    let keys: Option<Vec<Vec<FileKey>>> =
        keys.iter().map(|k| k.iter().copied().collect()).collect();
    replay_resuming_keyed(events, keys.as_deref(), postgres_version, kept, base)
}

/// [`super::replay_checked`], going on from `kept` when it leads here (see the module doc).
/// `events(skip)` gives the sources' files, the first `skip[i]` files of source `i` possibly
/// left empty (a replay that goes on from a kept one does not read them; missing entries
/// are 0). `keys` holds each source's files' identities, in the same order; `None` when a file has
/// none (its events depend on more than its bytes): the replay is then full and unkept.
///
/// `base`, for a change check's after side: the position in the last source of the first file
/// the change touches. When the kept replay does not lead here, the files before it replay in
/// full and the rest goes on from there ([`from_base`]).
pub fn replay_resuming_keyed<'e>(
    events: &dyn Fn(&[usize]) -> Vec<SourceEvents<'e>>,
    keys: Option<&[Vec<FileKey>]>,
    postgres_version: u32,
    kept: Option<(Kept, Schema)>,
    base: Option<usize>,
) -> Outcome {
    // A base inside the last source.
    let base = base.filter(|&base| {
        let sources = keys.map_or(0, <[_]>::len);
        let files = keys.and_then(<[_]>::last).map_or(0, Vec::len);
        base > 0 && base < files && sources > 0
    });
    if let (Some(keys), Some((kept, schema))) = (keys, kept) {
        let skip: Vec<usize> = kept.sources.iter().map(|s| s.files).collect();
        let from = skip.last().copied().unwrap_or(0);
        let total = keys.last().map_or(0, Vec::len);
        match base {
            // The kept replay ends before the change and enough files follow it to keep a
            // new state: on to the change's base (that state is kept), then on. With fewer,
            // nothing new is kept (below), as without a change.
            Some(base) if from < base && total - from >= KEEP_FROM => {
                match through_base(events, keys, postgres_version, (kept, schema), &skip, base) {
                    Ok(outcome) => return outcome,
                    // The state at the base was reached and the change cannot go on from it:
                    // building it again in full would end the same way.
                    Err(true) => return full(events, Some(keys), postgres_version),
                    Err(false) => {}
                }
            }
            _ => {
                if let Some(mut outcome) =
                    go_on(&events(&skip), keys, postgres_version, kept, schema, false)
                {
                    // With a change, the state to keep is the one before it (see below).
                    if base.is_some() {
                        outcome.keep = None;
                    }
                    return outcome;
                }
            }
        }
    }
    if let (Some(keys), Some(base)) = (keys, base)
        && let Some(outcome) = from_base(events, keys, postgres_version, base)
    {
        return outcome;
    }
    full(events, keys, postgres_version)
}

/// The replay of every file, kept when every file has an identity (`keys`).
fn full<'e>(
    events: &dyn Fn(&[usize]) -> Vec<SourceEvents<'e>>,
    keys: Option<&[Vec<FileKey>]>,
    postgres_version: u32,
) -> Outcome {
    let sources = events(&[]);
    let (replayed, carried, creates, folders) = replay_full(&sources, postgres_version);
    let keep = keys.filter(|keys| same_shape(&sources, keys)).map(|keys| {
        let now = sources
            .iter()
            .zip(keys)
            .map(|(source, keys)| source_key(source, keys.len(), Digest::START.add(keys)))
            .collect();
        Kept::new(postgres_version, now, carried, creates, folders)
    });
    Outcome {
        replayed,
        keep,
        keep_encoded: None,
        how: How::Full,
        went_on_from: None,
    }
}

/// The replay of the last source's first `base` files (and every file of the others) in full,
/// as sources of their own, then on from that state to the files of `keys`; `None` when the
/// rest cannot go on from there (see [`go_on`]). A graph's files (Alembic) are in an order the
/// graph allows, so its first `base` files are a graph of their own. The state at `base`, what
/// a change check's before side would have kept, is kept: a later edit of the change's files
/// goes on from it.
fn from_base<'e>(
    events: &dyn Fn(&[usize]) -> Vec<SourceEvents<'e>>,
    keys: &[Vec<FileKey>],
    postgres_version: u32,
    base: usize,
) -> Option<Outcome> {
    let sources = events(&[]);
    if !same_shape(&sources, keys) {
        return None;
    }
    let (prefix, prefix_keys) = before_base(events(&[]), keys, base)?;
    let (replayed, carried, creates, folders) = replay_full(&prefix, postgres_version);
    let now = prefix
        .iter()
        .zip(&prefix_keys)
        .map(|(source, keys)| source_key(source, keys.len(), Digest::START.add(keys)))
        .collect();
    drop(prefix);
    let kept = Kept::new(postgres_version, now, carried, creates, folders);
    let schema = replayed.schema;
    // The state before the change is kept (encoded now: going on consumes it).
    let before = encode(&kept, &schema);
    let mut outcome = go_on(&sources, keys, postgres_version, kept, schema, false)?;
    outcome.keep = None;
    outcome.keep_encoded = before;
    let total = keys.last().map_or(0, Vec::len);
    outcome.how = How::FromBase(base, total - base);
    Some(outcome)
}

/// From a kept replay that ends before the change's `base` (its last source's first `skip`
/// files): on to `base`, whose state is kept, then on to the files of `keys`.
/// `Err(reached)` when a step cannot go on (see [`go_on`]); `reached` says that the first did:
/// the state at `base` is then exactly what [`from_base`] would build, and the change cannot
/// go on from it either.
fn through_base<'e>(
    events: &dyn Fn(&[usize]) -> Vec<SourceEvents<'e>>,
    keys: &[Vec<FileKey>],
    postgres_version: u32,
    (kept, schema): (Kept, Schema),
    skip: &[usize],
    base: usize,
) -> Result<Outcome, bool> {
    let from = skip.last().copied().unwrap_or(0);
    let (prefix, prefix_keys) = before_base(events(skip), keys, base).ok_or(false)?;
    let mid = go_on(&prefix, &prefix_keys, postgres_version, kept, schema, true).ok_or(false)?;
    drop(prefix);
    let (state, schema) = (mid.keep.ok_or(false)?, mid.replayed.schema);
    let before = encode(&state, &schema);
    let skip: Vec<usize> = state.sources.iter().map(|s| s.files).collect();
    let mut outcome =
        go_on(&events(&skip), keys, postgres_version, state, schema, false).ok_or(true)?;
    outcome.keep = None;
    outcome.keep_encoded = before;
    outcome.how = How::Resumed(keys.last().map_or(0, Vec::len) - from);
    Ok(outcome)
}

/// `sources` and `keys` with the last source cut before its file `base`; `None` when they
/// differ in length or there is no source.
fn before_base<'e, 'k>(
    mut sources: Vec<SourceEvents<'e>>,
    keys: &[Vec<FileKey<'k>>],
    base: usize,
) -> Option<(Vec<SourceEvents<'e>>, Vec<Vec<FileKey<'k>>>)> {
    if sources.len() != keys.len() {
        return None;
    }
    let last = sources.len().checked_sub(1)?;
    let source = &mut sources[last];
    source.skipped = source.skipped.min(base);
    source.files.truncate(base - source.skipped);
    let mut keys = keys.to_vec();
    keys[last].truncate(base);
    Some((sources, keys))
}

/// Whether `keys` has an identity for each file of `sources`.
fn same_shape(sources: &[SourceEvents<'_>], keys: &[Vec<FileKey>]) -> bool {
    sources.len() == keys.len()
        && sources
            .iter()
            .zip(keys)
            .all(|(s, k)| s.skipped + s.files.len() == k.len())
}

fn source_key(source: &SourceEvents<'_>, files: usize, digest: Digest) -> SourceKey {
    SourceKey {
        name: source.name.to_string(),
        default_schema: source.default_schema.to_string(),
        graph: source.ordered.is_some(),
        files,
        digest,
    }
}

/// The replay from `kept` on, when it leads to the files of `keys`.
fn go_on(
    sources: &[SourceEvents<'_>],
    keys: &[Vec<FileKey>],
    postgres_version: u32,
    kept: Kept,
    schema: Schema,
    keep_always: bool,
) -> Option<Outcome> {
    if kept.postgres_version != postgres_version
        || !same_shape(sources, keys)
        || kept.sources.len() != sources.len()
        || kept.creates.len() != sources.len()
        || kept.folders.len() != sources.len()
    {
        return None;
    }
    let last = sources.len().checked_sub(1)?;
    let token = kept.token();
    let mut now = Vec::with_capacity(sources.len());
    for (i, ((old, source), keys)) in kept.sources.iter().zip(sources).zip(keys).enumerate() {
        let same_source = old.name == source.name
            && old.default_schema == source.default_schema
            && old.graph == source.ordered.is_some();
        let kept_files = keys.get(..old.files)?;
        let digest = Digest::START.add(kept_files);
        let same_files = digest == old.digest && (i == last || keys.len() == old.files);
        if !same_source || !same_files {
            return None;
        }
        let appended = keys.get(old.files..).unwrap_or_default();
        now.push(source_key(source, keys.len(), digest.add(appended)));
    }
    let from = kept.sources[last].files;
    let appended = sources[last]
        .files
        .get(from.checked_sub(sources[last].skipped)?..)?;
    if appended.is_empty() {
        return Some(Outcome {
            replayed: Replayed {
                schema,
                warnings: kept.warnings,
                failures: kept.failures,
            },
            keep: None,
            keep_encoded: None,
            how: How::Resumed(0),
            went_on_from: Some((token, 0)),
        });
    }
    let queried: HashSet<(usize, String, String)> = kept.queried.into_iter().collect();
    let mut added = Creates::new();
    add_created_tables(appended, from, sources[last].default_schema, &mut added);
    let asked = added.keys().any(|(schema, name)| match schema {
        Some(schema) => queried.contains(&(last, schema.clone(), name.clone())),
        None => queried.iter().any(|(s, _, n)| *s == last && n == name),
    });
    if asked {
        return None;
    }
    let mut creates: Vec<Creates> = kept
        .creates
        .into_iter()
        .map(|c| c.into_iter().collect())
        .collect();
    for (key, files) in added {
        creates[last].entry(key).or_default().extend(files);
    }
    let mut folders: Vec<Folders> = kept.folders;
    folders[last].extend(appended.iter().map(file_folder));
    let carried = Carried {
        schema,
        inheritance: kept.inheritance,
        warnings: kept.warnings,
        failures: kept.failures,
        unsure: kept.unsure.into_iter().collect(),
        type_sources: kept.type_sources.into_iter().collect(),
        queried,
    };
    let voided = HashSet::new();
    let mut replayer = Replayer::new(
        carried,
        sources,
        &creates,
        &folders,
        &voided,
        postgres_version,
    );
    replayer.run(sources, (last, from)).ok()?;
    let mut carried = replayer.into_carried();
    carried
        .failures
        .sort_by_key(|f| (f.source, f.file, f.ordinal));
    let replayed = carried.replayed();
    // Keeping the new state costs more than replaying a few files again next time.
    let keep = (keep_always || appended.len() >= KEEP_FROM)
        .then(|| Kept::new(postgres_version, now, carried, creates, folders));
    Some(Outcome {
        replayed,
        keep,
        keep_encoded: None,
        how: How::Resumed(appended.len()),
        went_on_from: Some((token, appended.len())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::MigrationEvents;
    use crate::migrations::sql::read;
    use crate::schema::{FileEvents, replay_checked};
    use crate::source::SourceFile;

    /// SQL files that exercise what a replay carries: schemas, enums, an outside table, a
    /// failure in a transaction (which restarts the replay), a `DO` block, inheritance, a
    /// `search_path`, drops and comments.
    const FILES: &[&str] = &[
        "CREATE SCHEMA core;\nCREATE TABLE core.customers (id serial PRIMARY KEY, email text);\nCREATE TYPE core.status AS ENUM ('a', 'b');\n",
        "BEGIN;\nALTER TABLE core.customers ADD COLUMN phone text;\nCOMMIT;\n",
        "ALTER TABLE core.orders ADD COLUMN note text;\n",
        "BEGIN;\nALTER TABLE core.customers ADD COLUMN tier int;\nALTER TABLE core.customers ADD COLUMN email text;\nCOMMIT;\n",
        "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'region') THEN\n    ALTER TABLE core.customers ADD COLUMN region text;\n  END IF;\nEND $$;\n",
        "ALTER TYPE core.status ADD VALUE 'c';\nCREATE TABLE core.vip (level int) INHERITS (core.customers);\n",
        "SET search_path TO core;\nCREATE TABLE invoices (id int);\nALTER TABLE customers ADD COLUMN invoice_id int;\n",
        "ALTER TABLE core.customers DROP COLUMN phone;\nCOMMENT ON COLUMN core.customers.email IS 'mail';\nALTER TABLE core.customers ADD COLUMN email text;\n",
        "ALTER TABLE core.customers ADD COLUMN status core.status;\nALTER TABLE core.vip ADD COLUMN since date;\n",
    ];

    fn parse(files: &[&str]) -> Vec<MigrationEvents> {
        files
            .iter()
            .enumerate()
            .map(|(i, text)| read(&SourceFile::new(format!("db/{i:03}.sql"), *text)))
            .collect()
    }

    fn source<'a>(name: &'a str, events: &'a [MigrationEvents]) -> SourceEvents<'a> {
        skipping(name, events, 0)
    }

    /// The source with its first `skip` files left out, as a caller that does not decode
    /// them gives it: going on from a kept replay must not need them.
    fn skipping<'a>(name: &'a str, events: &'a [MigrationEvents], skip: usize) -> SourceEvents<'a> {
        let skipped = skip.min(events.len());
        SourceEvents {
            skipped,
            name,
            default_schema: "public",
            files: events[skipped..]
                .iter()
                .map(|e| FileEvents {
                    changes: &e.changes,
                    statements: &e.facts.statements,
                    warnings: &e.warnings,
                })
                .collect(),
            ordered: None,
        }
    }

    /// Each file's identity: its path and its text (in place of a blob id).
    fn keys<'k>(files: &[&'k str]) -> Vec<Option<FileKey<'k>>> {
        files
            .iter()
            .enumerate()
            .map(|(i, text)| Some((PATHS[i], text.as_bytes())))
            .collect()
    }

    const PATHS: &[&str] = &[
        "db/000.sql",
        "db/001.sql",
        "db/002.sql",
        "db/003.sql",
        "db/004.sql",
        "db/005.sql",
        "db/006.sql",
        "db/007.sql",
        "db/008.sql",
        "db/009.sql",
        "db/010.sql",
        "db/011.sql",
        "db/012.sql",
        "db/013.sql",
        "db/014.sql",
        "db/015.sql",
        "db/016.sql",
        "db/017.sql",
    ];

    /// Replays `first`, keeps the result through its bytes, and replays `all` from it.
    fn resumed(first: &[&str], all: &[&str]) -> Outcome {
        let kept = decode(full_kept(first)).expect("decodes");
        let events = parse(all);
        replay_resuming(
            &|skip| vec![skipping("SQL", &events, skip.first().copied().unwrap_or(0))],
            &[keys(all)],
            13,
            Some(kept),
            None,
        )
    }

    fn assert_same(outcome: &Outcome, all: &[&str]) {
        let events = parse(all);
        let full = replay_checked(&[source("SQL", &events)], 13);
        assert_eq!(outcome.replayed.schema, full.schema);
        assert_eq!(outcome.replayed.warnings, full.warnings);
        assert_eq!(outcome.replayed.failures, full.failures);
    }

    #[test]
    fn going_on_from_any_kept_prefix_gives_the_full_replay() {
        let full = replay_checked(&[source("SQL", &parse(FILES))], 13);
        // The fixture does what it claims: a failure, an outside table, an enum value.
        assert!(!full.failures.is_empty());
        assert!(full.schema.table("core", "orders").is_some());
        assert!(full.schema.table("core", "invoices").is_some());
        for k in 0..=FILES.len() {
            let outcome = resumed(&FILES[..k], FILES);
            assert_same(&outcome, FILES);
            // File 3's transaction fails after a change ran: the replay of the file starts
            // over, and going on from a kept state does not.
            let expected = if k <= 3 {
                How::Full
            } else {
                How::Resumed(FILES.len() - k)
            };
            assert_eq!(outcome.how, expected, "kept {k} files");
            // A full replay is kept; one that went on, once it replayed enough files.
            let kept = match outcome.how {
                How::Full => true,
                How::Resumed(n) | How::FromBase(_, n) => n >= KEEP_FROM,
            };
            assert_eq!(outcome.keep.is_some(), kept, "kept {k} files");
        }
    }

    #[test]
    fn a_replay_that_went_on_is_kept_once_it_replayed_enough_files() {
        let more: Vec<String> = (0..KEEP_FROM)
            .map(|i| format!("ALTER TABLE core.customers ADD COLUMN extra_{i} int;\n"))
            .collect();
        let mut all: Vec<&str> = FILES.to_vec();
        all.extend(more.iter().map(String::as_str));
        let few = resumed(FILES, &all[..FILES.len() + KEEP_FROM - 1]);
        assert_eq!(few.how, How::Resumed(KEEP_FROM - 1));
        assert!(few.keep.is_none());
        let enough = resumed(FILES, &all);
        assert_eq!(enough.how, How::Resumed(KEEP_FROM));
        assert_same(&enough, &all);
        // What it keeps leads on from the end.
        let keep = enough.keep.expect("kept");
        let kept = decode(encode(&keep, &enough.replayed.schema).unwrap()).unwrap();
        let events = parse(&all);
        let again = replay_resuming(
            &|skip| vec![skipping("SQL", &events, skip.first().copied().unwrap_or(0))],
            &[keys(&all)],
            13,
            Some(kept),
            None,
        );
        assert_eq!(again.how, How::Resumed(0));
        assert_same(&again, &all);
    }

    #[test]
    fn a_new_file_that_creates_a_table_a_kept_statement_looked_for_replays_everything() {
        // File 2 altered core.orders, which no file created: a table made elsewhere. A new
        // file that creates it makes that ALTER fail instead (the table comes later).
        let mut all = FILES.to_vec();
        all.push("CREATE TABLE core.orders (id int);\n");
        let outcome = resumed(FILES, &all);
        assert_eq!(outcome.how, How::Full);
        assert_same(&outcome, &all);
        // A new file creating a table nothing looked for goes on.
        let mut all = FILES.to_vec();
        all.push("CREATE TABLE core.payments (id int);\n");
        let outcome = resumed(FILES, &all);
        assert_eq!(outcome.how, How::Resumed(1));
        assert_same(&outcome, &all);
    }

    #[test]
    fn a_new_file_whose_transaction_fails_after_a_change_replays_everything() {
        let mut all = FILES.to_vec();
        all.push("BEGIN;\nALTER TABLE core.customers ADD COLUMN late int;\nALTER TABLE core.customers ADD COLUMN email text;\nCOMMIT;\n");
        let outcome = resumed(FILES, &all);
        assert_eq!(outcome.how, How::Full);
        assert_same(&outcome, &all);
        assert!(
            outcome
                .replayed
                .schema
                .table("core", "customers")
                .unwrap()
                .column("late")
                .is_none()
        );
    }

    #[test]
    fn an_edited_removed_or_inserted_file_replays_everything() {
        let mut edited = FILES.to_vec();
        edited[3] = "ALTER TABLE core.customers ADD COLUMN tier int;\n";
        let removed: Vec<&str> = FILES.iter().copied().filter(|f| *f != FILES[4]).collect();
        let mut inserted = FILES.to_vec();
        inserted.insert(2, "CREATE TABLE core.orders (id int);\n");
        for all in [edited, removed, inserted] {
            let outcome = resumed(FILES, &all);
            assert_eq!(outcome.how, How::Full);
            assert_same(&outcome, &all);
        }
        // The same files: the kept replay itself, nothing new to keep.
        let outcome = resumed(FILES, FILES);
        assert_eq!(outcome.how, How::Resumed(0));
        assert!(outcome.keep.is_none());
        assert_same(&outcome, FILES);
    }

    #[test]
    fn only_the_last_source_may_grow_and_sources_must_be_the_same() {
        let a = parse(&FILES[..2]);
        let b = parse(&FILES[2..5]);
        let keys_a = keys(&FILES[..2]);
        let keys_b: Vec<Option<FileKey>> = keys(FILES)[2..5].to_vec();
        let earlier = replay_resuming(
            &|_: &[usize]| vec![source("A", &a), source("B", &b[..2])],
            &[keys_a.clone(), keys_b[..2].to_vec()],
            13,
            None,
            None,
        );
        let kept = || {
            let keep = earlier.keep.as_ref().unwrap();
            decode(encode(keep, &earlier.replayed.schema).unwrap()).unwrap()
        };
        // The last source grows: goes on.
        let sources = || vec![source("A", &a), source("B", &b)];
        let outcome = replay_resuming(
            &|_: &[usize]| sources(),
            &[keys_a.clone(), keys_b.clone()],
            13,
            Some(kept()),
            None,
        );
        assert_eq!(outcome.how, How::Resumed(1));
        assert_eq!(
            outcome.replayed.schema,
            replay_checked(&sources(), 13).schema
        );
        // The first source grows: everything replays.
        let sources = || vec![source("A", &a[..1]), source("B", &b[..2])];
        let outcome = replay_resuming(
            &|_: &[usize]| sources(),
            &[keys_a[..1].to_vec(), keys_b[..2].to_vec()],
            13,
            Some(kept()),
            None,
        );
        assert_eq!(outcome.how, How::Full);
        assert_eq!(
            outcome.replayed.schema,
            replay_checked(&sources(), 13).schema
        );
        // Another PostgreSQL version, or a renamed source: everything replays.
        let sources = || vec![source("A", &a), source("B", &b)];
        let outcome = replay_resuming(
            &|_: &[usize]| sources(),
            &[keys_a.clone(), keys_b.clone()],
            16,
            Some(kept()),
            None,
        );
        assert_eq!(outcome.how, How::Full);
        let sources = || vec![source("A", &a), source("C", &b)];
        let outcome = replay_resuming(
            &|_: &[usize]| sources(),
            &[keys_a, keys_b],
            13,
            Some(kept()),
            None,
        );
        assert_eq!(outcome.how, How::Full);
    }

    /// The replay of `all` with the change beginning at file `base`, from `kept` (bytes).
    fn with_base(all: &[&str], kept: Option<&[u8]>, base: usize) -> Outcome {
        let events = parse(all);
        replay_resuming(
            &|skip| vec![skipping("SQL", &events, skip.first().copied().unwrap_or(0))],
            &[keys(all)],
            13,
            kept.map(<[u8]>::to_vec).and_then(decode),
            Some(base),
        )
    }

    /// The bytes a full replay of `files` keeps.
    #[test]
    fn a_kept_replay_of_more_tables_than_a_chunk_round_trips() {
        let tables = 2 * CHUNK_TABLES + 3;
        let mut text = String::from("CREATE SCHEMA core;\nCREATE TYPE core.mood AS ENUM ('a');\n");
        for t in 0..tables {
            text.push_str(&format!("CREATE TABLE core.t{t} (id int, note text);\n"));
        }
        // Two files, split between statements.
        let middle = text.len() / 2;
        let cut = middle + text[middle..].find('\n').map_or(0, |at| at + 1);
        let (first, last) = text.split_at(cut);
        let bytes = full_kept(&[first, last]);
        let (kept, schema) = decode(bytes.clone()).expect("decodes");
        assert_eq!(schema.tables.len(), tables);
        assert_eq!(schema.enums.len(), 1);
        // Each table's columns stay encoded until read, and unread are written as they were.
        assert!(schema.tables.values().all(|t| t.columns.is_encoded()));
        assert_eq!(encode(&kept, &schema).as_deref(), Some(bytes.as_slice()));
        // Read, they are the full replay's, table for table; and written the same again.
        let events = parse(&[first, last]);
        let full = replay_checked(&[source("SQL", &events)], 13).schema;
        assert_eq!(schema, full);
        assert!(schema.tables.values().all(|t| !t.columns.is_encoded()));
        assert_eq!(encode(&kept, &schema).as_deref(), Some(bytes.as_slice()));
        // A table whose columns changed is written with its new ones.
        let mut changed = schema;
        let key = ("core".to_string(), format!("t{}", CHUNK_TABLES + 1));
        let table = changed
            .tables
            .get_mut(&key)
            .expect("a table of the second chunk");
        table.columns.retain(|c| c.name != "note");
        let (_, again) = decode(encode(&kept, &changed).expect("encodes")).expect("decodes");
        assert_eq!(again, changed);
        assert_eq!(again.tables[&key].columns.len(), 1);
        assert!(decode(bytes[..bytes.len() - 1].to_vec()).is_none());
    }

    fn full_kept(files: &[&str]) -> Vec<u8> {
        let events = parse(files);
        let outcome = replay_resuming(
            &|_| vec![source("SQL", &events)],
            &[keys(files)],
            13,
            None,
            None,
        );
        assert_eq!(outcome.how, How::Full);
        kept_bytes(&outcome).expect("a full replay is kept")
    }

    /// The bytes a replay leaves for the next run.
    fn kept_bytes(outcome: &Outcome) -> Option<Vec<u8>> {
        match (&outcome.keep_encoded, &outcome.keep) {
            (Some(bytes), _) => Some(bytes.clone()),
            (None, Some(keep)) => encode(keep, &outcome.replayed.schema),
            (None, None) => None,
        }
    }

    #[test]
    fn a_change_that_edits_its_own_new_file_goes_on_from_the_state_before_it() {
        // Kept: the replay that ends with the change's own file (as a check of it leaves).
        let kept = full_kept(FILES);
        // The developer edits that last file: the kept replay no longer leads here.
        let mut edited = FILES.to_vec();
        edited[8] = "ALTER TABLE core.customers ADD COLUMN fixed int;\n";
        let outcome = with_base(&edited, Some(&kept), 8);
        assert_eq!(outcome.how, How::FromBase(8, 1));
        assert_same(&outcome, &edited);
        assert!(outcome.keep.is_none());
        let before = kept_bytes(&outcome).expect("the state before the change is kept");
        // Every later edit of the change goes on from it, and keeps nothing new.
        for text in [
            "ALTER TABLE core.customers ADD COLUMN fixed_again int;\n",
            "CREATE TABLE core.payments (id int);\n",
        ] {
            edited[8] = text;
            let outcome = with_base(&edited, Some(&before), 8);
            assert_eq!(outcome.how, How::Resumed(1), "{text}");
            assert_same(&outcome, &edited);
            assert!(kept_bytes(&outcome).is_none());
        }
        // More files in the change: still from the state before it.
        let mut longer = edited.clone();
        longer.extend(std::iter::repeat_n(
            "ALTER TABLE core.customers ADD COLUMN more int;\n",
            KEEP_FROM,
        ));
        let outcome = with_base(&longer, Some(&before), 8);
        assert_eq!(outcome.how, How::Resumed(KEEP_FROM + 1));
        assert_same(&outcome, &longer);
        assert!(
            kept_bytes(&outcome).is_none(),
            "the state before the change stays"
        );
    }

    #[test]
    fn a_graphs_first_files_are_a_base_too() {
        // An Alembic-like source: each file runs after every earlier one.
        let chain = |a: usize, b: usize| a < b;
        let graph = |events: &'static [MigrationEvents]| SourceEvents {
            ordered: Some(&chain),
            ..source("Alembic", events)
        };
        let first: &'static [MigrationEvents] = Box::leak(parse(FILES).into_boxed_slice());
        let earlier = replay_resuming(&|_| vec![graph(first)], &[keys(FILES)], 13, None, None);
        let kept = kept_bytes(&earlier).expect("a full replay is kept");
        let mut edited = FILES.to_vec();
        edited[8] = "ALTER TABLE core.customers ADD COLUMN fixed int;\n";
        let all: &'static [MigrationEvents] = Box::leak(parse(&edited).into_boxed_slice());
        let from_kept = |kept: &[u8]| {
            replay_resuming(
                &|_| vec![graph(all)],
                &[keys(&edited)],
                13,
                decode(kept.to_vec()),
                Some(8),
            )
        };
        let outcome = from_kept(&kept);
        assert_eq!(outcome.how, How::FromBase(8, 1));
        let full = replay_checked(&[graph(all)], 13);
        assert_eq!(outcome.replayed.schema, full.schema);
        assert_eq!(outcome.replayed.failures, full.failures);
        assert_eq!(outcome.replayed.warnings, full.warnings);
        let before = kept_bytes(&outcome).expect("the state before the change is kept");
        let again = from_kept(&before);
        assert_eq!(again.how, How::Resumed(1));
        assert_eq!(again.replayed.schema, full.schema);
    }

    #[test]
    fn a_kept_replay_that_ends_before_the_change_goes_on_to_its_base_and_keeps_that() {
        let kept = full_kept(&FILES[..5]);
        // A few files after the kept replay: it goes on, nothing new is kept.
        let mut all = FILES.to_vec();
        all.push("ALTER TABLE core.customers ADD COLUMN new_one int;\n");
        let outcome = with_base(&all, Some(&kept), FILES.len());
        assert_eq!(outcome.how, How::Resumed(all.len() - 5));
        assert_same(&outcome, &all);
        assert!(kept_bytes(&outcome).is_none());
        // Enough files to keep a new state (commits since, then the change): the state at the
        // change's base is kept, not the one after it.
        let committed: Vec<String> = (0..4)
            .map(|i| format!("ALTER TABLE core.customers ADD COLUMN committed_{i} int;\n"))
            .collect();
        let mut all = FILES.to_vec();
        all.extend(committed.iter().map(String::as_str));
        let base = all.len();
        all.push("ALTER TABLE core.customers ADD COLUMN new_one int;\n");
        assert!(all.len() - 5 >= KEEP_FROM);
        let outcome = with_base(&all, Some(&kept), base);
        assert_eq!(outcome.how, How::Resumed(all.len() - 5));
        assert_same(&outcome, &all);
        let before = kept_bytes(&outcome).expect("the state at the base is kept");
        let (state, _) = decode(before.clone()).expect("decodes");
        assert_eq!(state.sources[0].files, base);
        // The next edit of the change goes on from there.
        all[base] = "ALTER TABLE core.customers ADD COLUMN renamed int;\n";
        let outcome = with_base(&all, Some(&before), base);
        assert_eq!(outcome.how, How::Resumed(1));
        assert_same(&outcome, &all);
    }

    #[test]
    fn a_change_that_creates_a_table_a_file_before_it_looked_for_replays_everything() {
        // File 2 alters core.orders, which no file creates; the change creates it.
        let kept = full_kept(FILES);
        let mut all = FILES.to_vec();
        all.push("CREATE TABLE core.orders (id int);\n");
        let outcome = with_base(&all, Some(&kept), FILES.len());
        assert_eq!(outcome.how, How::Full);
        assert_same(&outcome, &all);
        // From a kept replay that ends well before the change: the state at the change is
        // reached, and the change cannot go on from it.
        let mut longer = FILES.to_vec();
        longer.extend(std::iter::repeat_n(
            "ALTER TABLE core.customers ADD COLUMN committed int;\n",
            KEEP_FROM,
        ));
        let base = longer.len();
        longer.push("CREATE TABLE core.orders (id int);\n");
        let outcome = with_base(&longer, Some(&full_kept(&FILES[..5])), base);
        assert_eq!(outcome.how, How::Full);
        assert_same(&outcome, &longer);
        // Without a kept replay at all, the same.
        let outcome = with_base(&all, None, FILES.len());
        assert_eq!(outcome.how, How::Full);
        assert_same(&outcome, &all);
        // A base outside the last source's files is no base.
        for base in [0, all.len()] {
            let outcome = with_base(&all, None, base);
            assert_eq!(outcome.how, How::Full, "base {base}");
            assert_same(&outcome, &all);
        }
    }

    #[test]
    fn a_file_without_identity_is_neither_resumed_nor_kept_and_damaged_bytes_do_not_decode() {
        let events = parse(FILES);
        let mut keys = keys(FILES);
        keys[4] = None;
        let outcome = replay_resuming(&|_| vec![source("SQL", &events)], &[keys], 13, None, None);
        assert_eq!(outcome.how, How::Full);
        assert!(outcome.keep.is_none());
        let earlier = resumed(&FILES[..3], &FILES[..5]);
        let bytes = encode(earlier.keep.as_ref().unwrap(), &earlier.replayed.schema).unwrap();
        assert!(decode(bytes[..bytes.len() / 2].to_vec()).is_none());
        assert!(decode(b"not a replay".to_vec()).is_none());
    }
}
