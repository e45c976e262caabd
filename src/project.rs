//! A project's files → its analysis: the model tables, the migration sources and the findings.
//!
//! This is the stage every command shares. It lists the files of a snapshot (a git tree, the
//! index, or a working tree walked from disk), reads each relevant file once — a parse is
//! shared between the two snapshots of a change check when the path and blob id are the same,
//! and every file's parse is kept on disk by path and blob id in one pack ([`ParseCache`]) —
//! parses in parallel, resolves the models, assembles the migration sources
//! ([`crate::migrations::sources`]), runs the rules and applies the config.
//!
//! [`crate::check`] compares two analyses; `db-diff` takes a [`Project`] (models and sources,
//! no rules); `driftguard schema` takes the sources alone ([`migration_sources`]).

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::cache::{CacheBytes, DiskCache, Pages, pack_key};
use crate::config::{Config, SourceKind};
use crate::discover::{FileKind, classify, walk};
use crate::error::Error;
use crate::finding::{Finding, Target, Warning};
use crate::git::{BlobId, Repo};
use crate::lazy::with_backing;
use crate::migrations::sources::{
    Assembly, KeptReplays, SqlFile, SqlMigration, alembic_sources, assemble,
};
use crate::migrations::{SqlRead, alembic, sql};
use crate::models::{self, FileModels, ModelTable, ResolveOptions};
use crate::pyeval::ModuleSummary;
use crate::report::{Sources, Summary};
use crate::rule::{Rule, Severity};
use crate::rules::{self, Context, MigrationSource};
use crate::source::{Direction, SourceFile, with_shared_paths};
use crate::timing::span;

/// Where a file's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Content {
    /// A blob: read from the repository, or — with a [`FileReader`] that has none (`check
    /// --all` in a work tree) — from the work tree file whose bytes have this id.
    Blob(BlobId),
    Disk,
}

/// A file of a snapshot.
#[derive(Debug, Clone)]
pub struct FileRef {
    pub path: std::sync::Arc<str>,
    pub content: Content,
}

impl FileRef {
    /// A file of a git snapshot by its entry (or, read with no repository, the work tree
    /// file whose bytes have that blob id).
    pub fn of_entry(entry: &crate::git::Entry) -> FileRef {
        FileRef {
            path: entry.path.clone(),
            content: Content::Blob(entry.id),
        }
    }
}

/// A revision file as a Python module: what it imports, and its summary for the files that
/// import it — kept encoded in the parse pack until an import reaches it (a model file rarely
/// imports a revision; deciding which revisions import the project's own modules needs only
/// their imports). At 2,000 revisions, decoding every summary on each check was ~10% of it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct RevisionModule {
    /// Each import's target and whether it is rooted ([`imports_of`] the summary).
    imports: Vec<(String, bool)>,
    summary: crate::lazy::Lazy<ModuleSummary>,
}

impl RevisionModule {
    fn new(summary: ModuleSummary) -> RevisionModule {
        RevisionModule {
            imports: crate::pyeval::modules::imports_of(&summary),
            summary: crate::lazy::Lazy::new(summary),
        }
    }

    /// The summary (an empty one for bytes a damaged cache file would not decode).
    fn summary(&self) -> &ModuleSummary {
        static EMPTY: std::sync::LazyLock<ModuleSummary> =
            std::sync::LazyLock::new(ModuleSummary::default);
        self.summary.get().unwrap_or(&EMPTY)
    }
}

/// What one file holds, once parsed.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Parsed {
    /// Boxed, like a revision: a parse pack holds 20,000 parses of SQL files, and each parse
    /// was as large as the largest kind (12.9 of 86 MB of a new edit's heap at 5,000 models).
    Models(Box<FileModels>),
    Sql(SqlRead),
    /// A revision as read from its own bytes, and what it imports (see
    /// [`alembic::read_revision_alone`]); `None`: not a revision.
    Alembic(Option<Box<(alembic::Revision, RevisionModule)>>),
    /// A model candidate whose bytes do not mention SQLAlchemy.
    Nothing,
}

/// A parsed file and the warnings its reading raised (not UTF-8, …).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ParsedFile {
    /// Shared with the locations of its parse (one path read back per file, not two).
    #[serde(with = "crate::source::shared_path")]
    path: Arc<str>,
    kind: FileKind,
    parsed: Parsed,
    /// What few files have, boxed: a parse pack holds 25,000 parses at 5,000 models, and
    /// these three fields were 88 of each one's 232 bytes. `None`: none of them.
    rare: Option<Box<Rare>>,
}

/// The parts of a [`ParsedFile`] that few files have.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Rare {
    warnings: Vec<Warning>,
    /// For an Alembic environment's `env.py`: the schema its revisions run in, when the file
    /// says (see [`alembic::env_default_schema`]).
    env_schema: Option<String>,
    /// A revision's syntax tree, when it imports modules that may be the project's
    /// ([`alembic::may_import_project`]): [`read_revisions_with_modules`] reads such a revision
    /// again with them, and parsing it again was most of that (100 ms on Superset).
    syntax: Option<crate::lazy::Lazy<crate::pyast::PyModule>>,
}

impl Rare {
    /// `None` when there is nothing to keep.
    fn boxed(self) -> Option<Box<Rare>> {
        let empty = self.warnings.is_empty() && self.env_schema.is_none() && self.syntax.is_none();
        (!empty).then(|| Box::new(self))
    }
}

impl ParsedFile {
    /// The warnings reading the file raised.
    fn warnings(&self) -> &[Warning] {
        self.rare.as_ref().map_or(&[], |r| &r.warnings)
    }

    /// See [`Rare::env_schema`].
    fn env_schema(&self) -> Option<&String> {
        self.rare.as_ref()?.env_schema.as_ref()
    }

    /// See [`Rare::syntax`].
    fn syntax(&self) -> Option<&crate::lazy::Lazy<crate::pyast::PyModule>> {
        self.rare.as_ref()?.syntax.as_ref()
    }
}

/// The parses of one config, by blob id, then path: looked up for every file of a snapshot
/// without copying its path. A blob is almost always at one path, so the first parse of a
/// blob is held in place and only the others in a list (20,000 lists of one were 20,000
/// allocations of every run).
///
/// The parse pack's parses are not in the map: they stay in a list in the order the pack
/// keeps them (by path, then blob id), and a snapshot's files, listed in the same order, find
/// theirs by walking both lists side by side ([`Parses::find_all`]). 20,000 lookups in the map
/// missed the processor's caches three times each, and filling it cost as much again. The
/// pack's plain SQL files are a third list, read in place ([`PackedSql`]).
#[derive(Default)]
struct Parses(
    foldhash::HashMap<BlobId, (Arc<ParsedFile>, Vec<Arc<ParsedFile>>)>,
    /// The parse pack's parses as loaded, by path then blob id.
    Vec<PackParse>,
    /// The parse pack's plain SQL files, by path then blob id.
    Option<PackedSql>,
);

impl Parses {
    /// The parse of each of `files` (`None`: none kept). Each file is looked for first at the
    /// place of its path in the pack's ordered parses, then at its place among the pack's
    /// plain SQL files (its parse made there, with the file's own path) — a file listed out of
    /// that order finds nothing in either — then by [`Parses::get`].
    fn find_all(&self, files: &[FileRef]) -> Vec<Option<Arc<ParsedFile>>> {
        let ordered = &self.1;
        let (mut at, mut sql_at) = (0, 0);
        files
            .iter()
            .map(|file| {
                let Content::Blob(id) = file.content else {
                    return None;
                };
                let path = &*file.path;
                while ordered.get(at).is_some_and(|(_, kept)| &*kept.path < path) {
                    at += 1;
                }
                let in_order = ordered[at..]
                    .iter()
                    .take_while(|(_, kept)| &*kept.path == path)
                    .find(|(kept_id, _)| *kept_id == id)
                    .map(|(_, kept)| kept);
                let in_sql = || {
                    let sql = self.2.as_ref()?;
                    while sql.path(sql_at).is_some_and(|kept| kept < path.as_bytes()) {
                        sql_at += 1;
                    }
                    let found = (sql_at..sql.len())
                        .take_while(|&i| sql.path(i) == Some(path.as_bytes()))
                        .find(|&i| sql.id(i) == Some(id.as_bytes()))?;
                    sql.parse(found, Some(&file.path))
                };
                in_order
                    .or_else(in_sql)
                    .or_else(|| self.get(path, id))
                    .cloned()
            })
            .collect()
    }

    fn get(&self, path: &str, id: BlobId) -> Option<&Arc<ParsedFile>> {
        let in_map = self.0.get(&id).and_then(|(first, others)| {
            std::iter::once(first)
                .chain(others)
                .find(|file| &*file.path == path)
        });
        in_map.or_else(|| self.in_pack(path, id))
    }

    /// The pack's parse of `path` at `id`, found by a binary search of its ordered parses
    /// (then of its plain SQL files, the parse made if it was not yet).
    fn in_pack(&self, path: &str, id: BlobId) -> Option<&Arc<ParsedFile>> {
        match self.pack_place(path, id)? {
            Ok(at) => self.1.get(at).map(|(_, kept)| kept),
            Err(record) => self.2.as_ref()?.parse(record, None),
        }
    }

    /// Where the pack holds `path` at `id`: among its ordered parses, or among its plain SQL
    /// files (`Err`, the record's number); `None` when it does not.
    fn pack_place(&self, path: &str, id: BlobId) -> Option<Result<usize, usize>> {
        let at = self.1.binary_search_by(|(kept_id, kept)| {
            (&*kept.path, kept_id.as_bytes()).cmp(&(path, id.as_bytes()))
        });
        match at {
            Ok(at) => Some(Ok(at)),
            Err(_) => self.2.as_ref()?.find(path, id).map(Err),
        }
    }

    /// Keeps `file` as the parse of its path and `id`, unless one is kept already.
    fn insert(&mut self, id: BlobId, file: Arc<ParsedFile>) {
        if self.pack_place(&file.path, id).is_some() {
            return;
        }
        match self.0.entry(id) {
            std::collections::hash_map::Entry::Vacant(at) => {
                at.insert((file, Vec::new()));
            }
            std::collections::hash_map::Entry::Occupied(mut at) => {
                let (first, others) = at.get_mut();
                if first.path != file.path && !others.iter().any(|kept| kept.path == file.path) {
                    others.push(file);
                }
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = (&BlobId, &Arc<ParsedFile>)> {
        let in_map = self.0.iter().flat_map(|(id, (first, others))| {
            std::iter::once(first)
                .chain(others)
                .map(move |file| (id, file))
        });
        let made = self.2.iter().flat_map(PackedSql::made);
        in_map
            .chain(self.1.iter().map(|(id, file)| (id, file)))
            .chain(made)
    }

    /// Every parse, the pack's plain SQL files' made first.
    #[cfg(test)]
    fn all(&self) -> impl Iterator<Item = (&BlobId, &Arc<ParsedFile>)> {
        if let Some(sql) = &self.2 {
            for i in 0..sql.len() {
                sql.parse(i, None).expect("a record of the pack");
            }
        }
        self.iter()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.0.is_empty() && self.1.is_empty() && self.2.as_ref().is_none_or(|s| s.len() == 0)
    }
}

/// Reads the bytes of files, from git or from disk.
pub struct FileReader<'r> {
    pub repo: Option<&'r Repo>,
    pub root: PathBuf,
}

impl FileReader<'_> {
    pub fn read(&self, file: &FileRef) -> Result<Vec<u8>, String> {
        match (file.content, self.repo) {
            (Content::Blob(id), Some(repo)) => repo.read_blob(id).map_err(|e| e.to_string()),
            _ => std::fs::read(self.root.join(&*file.path))
                .map_err(|e| format!("cannot read {}: {e}", file.path)),
        }
    }
}

/// Parses shared between the snapshots of a run and kept between runs.
///
/// In memory, a parse is keyed by the config's fingerprint (the config decides a file's kind),
/// the path and the blob id. On disk (change checks), one *parse pack* per build and config
/// holds every file's parse by path and blob id, in a compact binary encoding: a new edit
/// reads and parses only the files the pack lacks — the ones changed since it was written —
/// instead of every blob of the project. The pack is written again when a run parsed more than
/// a few files it lacked ([`ParseCache::save_packs`]); it then holds exactly the files of that
/// run's snapshots, so it never grows with history.
#[derive(Default)]
pub struct ParseCache {
    parsed: HashMap<String, Parses>,
    /// Summaries of the modules revisions and model files import that are not model files.
    summaries: Summaries,
    /// Packs and snapshot results kept between runs (change checks only).
    disk: DiskCache,
    /// Per config fingerprint: what this run did with its pack.
    packs: HashMap<String, PackUse>,
    /// A pack being read and decoded on another thread ([`ParseCache::prefetch`]).
    prefetched: Option<Prefetch>,
    /// Files being parsed on the thread pool ahead of need ([`ParseCache::parse_early`]).
    early: EarlyParses,
    /// Kept states being decoded ahead of need ([`ParseCache::decode_kept_ahead`]).
    kept_ahead: Option<KeptAhead>,
    /// The paths a change check's change touches, for its after side's replay
    /// ([`ParseCache::begin_change`]).
    changed: Option<HashSet<String>>,
    /// Where a model file's parse finds and leaves its pieces.
    pieces: PieceStore,
    /// Damaged kept lists counted before this run ([`crate::lazy::damage_mark`]).
    damage_mark: usize,
}

/// The cache folder of what the parses of model files keep for the next parse of the same
/// path ([`crate::pyast::parse_reusing`]).
const PIECES: &str = "pieces";

/// Where the parse of a Python model file finds what an earlier parse of its path kept
/// ([`crate::pyast::parse_reusing`]: an edit's next version re-parses only the pieces it
/// changed), and leaves what to keep, written when the run ends ([`ParseCache::finish`]).
#[derive(Clone, Default)]
struct PieceStore {
    disk: DiskCache,
    kept: Arc<std::sync::Mutex<Vec<KeptPieces>>>,
}

/// What one parse kept ([`PieceStore`]): its key and bytes.
type KeptPieces = (String, Vec<u8>);

impl PieceStore {
    /// The models of `file`, parsed with what an earlier parse of its path kept.
    fn extract(&self, file: &SourceFile) -> models::FileModels {
        if !self.disk.enabled() || !crate::pyast::reuses_pieces(&file.text) {
            return models::extract_file(file);
        }
        let key = crate::cache::pieces_key(&file.path);
        let previous = self.disk.get_bytes(PIECES, &key, "bin");
        let (models, keep) = models::extract_file_reusing(file, previous.as_deref());
        if let Some(keep) = keep
            && previous.as_deref() != Some(keep.as_slice())
        {
            self.kept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((key, keep));
        }
        models
    }

    /// Writes what this run's parses kept, to `disk` (the run's cache, which counts what it
    /// writes towards the folder's size and waits for the writes before the trim).
    fn save(&self, disk: &DiskCache) {
        let kept = std::mem::take(
            &mut *self
                .kept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        // One entry per key, the last kept (a path parsed twice in one run: an index's
        // conflict stages), so that no two writes of one entry race.
        let mut last: HashMap<String, Vec<u8>> = HashMap::with_capacity(kept.len());
        for (key, bytes) in kept {
            last.insert(key, bytes);
        }
        for (key, bytes) in last {
            disk.put_soon(PIECES, &key, "bin", bytes);
        }
    }
}

/// A kept state and the key it was kept under, decoded on the thread pool ahead of need — or
/// by the first analysis that asks for it, when the pool has not started it yet: nobody ever
/// waits for work that has not begun (the pool's threads may all be waiting for it).
struct AheadSlot<T> {
    /// The decoding, until a thread takes it on.
    decode: std::sync::Mutex<Option<AheadDecode<T>>>,
    /// What it gave, until an analysis takes it (`None` inside: taken, or the decoding
    /// panicked).
    decoded: std::sync::OnceLock<std::sync::Mutex<Option<Keyed<T>>>>,
    /// Where the running decoding offers its parts to the threads that wait for it.
    offer: Arc<crate::cache::Offer>,
}

/// A kept state (`None`: nothing kept, or it would not decode) and the key it was kept under.
type Keyed<T> = (String, Option<T>);

/// A kept state's decoding.
type AheadDecode<T> = Box<dyn FnOnce() -> Keyed<T> + Send>;

impl<T: Send + 'static> AheadSlot<T> {
    /// The slot, its decoding started on the thread pool.
    fn start(decode: impl FnOnce() -> Keyed<T> + Send + 'static) -> Arc<Self> {
        let slot = Arc::new(AheadSlot {
            decode: std::sync::Mutex::new(Some(Box::new(decode))),
            decoded: std::sync::OnceLock::new(),
            offer: Arc::default(),
        });
        let on_pool = Arc::clone(&slot);
        rayon::spawn(move || {
            // A panic is the slot's "nothing decoded", never an abort of the pool.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| on_pool.value()));
        });
        slot
    }

    /// What the decoding gave: decoded here when no thread has taken the decoding on yet,
    /// waited for when one has — after decoding the parts it offers that no thread has
    /// claimed yet.
    fn value(&self) -> &std::sync::Mutex<Option<Keyed<T>>> {
        if self.decoded.get().is_none() {
            self.offer.help();
        }
        self.decoded.get_or_init(|| {
            let decode = self
                .decode
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            std::sync::Mutex::new(decode.map(|decode| self.offer.during(decode)))
        })
    }
}

/// The kept replay and resolution of a config, read and decoded on the thread pool while a
/// change check lists and classifies its snapshots and decodes the parse pack: both used to
/// be decoded at the start of the build (~15–20 ms each at 5,000 models / 20,000 migrations),
/// the replay's on the longer of its two sides. Each is taken once, by the first analysis
/// that asks for it under the same key; later ones read the cache as before.
pub struct KeptAhead {
    replay: Arc<AheadSlot<(crate::schema::resume::Kept, crate::schema::Schema)>>,
    resolution: Arc<AheadSlot<models::KeptResolutionState>>,
}

/// What a [`KeptAhead`] gives the analysis that asks for a kept state under a key.
pub enum Ahead<T> {
    /// Decoded ahead under this key (`None`: nothing was kept there, or it would not decode).
    Taken(Option<T>),
    /// The first to ask, under another key than the one decoded ahead (or none was).
    Missed,
    /// Taken by an earlier analysis of this run, or never started.
    Gone,
}

impl KeptAhead {
    fn take<T: Send + 'static>(slot: &AheadSlot<T>, key: &str) -> Ahead<T> {
        let decoded = slot.value().lock().ok().and_then(|mut value| value.take());
        match decoded {
            None => Ahead::Gone,
            Some((kept_key, value)) if kept_key == key => Ahead::Taken(value),
            Some(_) => Ahead::Missed,
        }
    }

    pub fn replay(&self, key: &str) -> Ahead<(crate::schema::resume::Kept, crate::schema::Schema)> {
        KeptAhead::take(&self.replay, key)
    }

    pub fn resolution(&self, key: &str) -> Ahead<models::KeptResolutionState> {
        KeptAhead::take(&self.resolution, key)
    }
}

/// Parses started ahead of need, by path and blob id: the kind each is parsed as, and where
/// it will arrive.
type EarlyParses = HashMap<(String, BlobId), (FileKind, std::sync::mpsc::Receiver<ParsedFile>)>;

/// A pack read and decoded ahead of need, under the config the work tree holds: the check
/// lists its snapshots and hashes their keys on one core meanwhile. A job on the thread pool
/// decodes chunk after chunk; whoever needs the pack first helps with the chunks left
/// ([`PackDecode`]), and reads the pack itself when the pool has not started yet.
struct Prefetch {
    fingerprint: String,
    decode: Arc<PackDecode>,
}

/// A pack's chunks, decoded by whichever thread claims each next.
struct PackDecode {
    /// Where the pack is kept: the cache and the pack's key.
    disk: DiskCache,
    key: String,
    /// The pack's bytes and its chunks' ranges, once read by the first thread that needs them
    /// (`None`: no pack, or not one of this format).
    bytes: std::sync::OnceLock<Option<PackBytes>>,
    /// The chunks, claimed and decoded one by one; a chunk that would not decode makes the
    /// whole pack a miss.
    claims: crate::cache::Claims<Vec<PackParse>>,
}

/// A pack's bytes, the ranges of its index ([`PackIds`]) and plain SQL files
/// ([`PackedSql`]), and the ranges of its chunks.
struct PackBytes {
    bytes: Arc<CacheBytes>,
    ids: std::ops::Range<usize>,
    sql: std::ops::Range<usize>,
    chunks: Vec<std::ops::Range<usize>>,
}

/// A parse pack as loaded: the parses of its chunks, decoded, and its plain SQL files, read in
/// place.
#[derive(Default)]
struct LoadedPack {
    parses: Vec<PackParse>,
    sql: Option<PackedSql>,
}

impl LoadedPack {
    /// How many parses the pack holds.
    fn len(&self) -> usize {
        self.parses.len() + self.sql.as_ref().map_or(0, PackedSql::len)
    }

    /// Every parse, made, in the order the pack was written in (by path, then blob id).
    #[cfg(test)]
    fn all(&self) -> Vec<PackParse> {
        let mut all: Vec<PackParse> = self.parses.clone();
        if let Some(sql) = &self.sql {
            for i in 0..sql.len() {
                let file = sql.parse(i, None).expect("a record of the pack");
                let id = BlobId::from_bytes(sql.id(i).expect("an id")).expect("an id");
                all.push((id, Arc::clone(file)));
            }
        }
        all.sort_by(|(a, x), (b, y)| (&*x.path, a.as_bytes()).cmp(&(&*y.path, b.as_bytes())));
        all
    }
}

/// The SQL files of a parse pack whose parse is their events alone (no warnings, no
/// suppression comments: [`crate::migrations::SqlRead::plain_events`]), read where they lie:
/// nothing is decoded for them when the pack loads, and a file's parse is made — its path the
/// snapshot's, its events still bytes — the first time a snapshot asks for it. Decoding them
/// was two thirds of a new edit's parse pack at 5,000 models / 20,000 migrations (20,000
/// files: ~10 ms of CPU, a third of it fresh memory for their paths and parses).
///
/// The frame ([`encode_sql_files`]): the count of files (4 bytes), then a record of
/// [`SQL_RECORD`] bytes for each, by path then blob id — the blob id (20 bytes), the source
/// (4 bytes, `u32::MAX`: none), then the path's and the events' place in the frame (offset and
/// length, 4 bytes each); then every path, then every file's events. Little endian
/// throughout. A record whose bytes lie outside the frame holds no parse (a damaged pack: the
/// file is parsed again).
struct PackedSql {
    bytes: Arc<CacheBytes>,
    frame: std::ops::Range<usize>,
    /// Each record's parse, once made (one slot a record).
    made: Vec<std::sync::OnceLock<(BlobId, Arc<ParsedFile>)>>,
}

/// The bytes of one record of a pack's plain SQL files ([`PackedSql`]).
const SQL_RECORD: usize = 20 + 5 * 4;

impl PackedSql {
    /// The plain SQL files of the pack `bytes` in `frame`; `None` for a frame too short for
    /// its count.
    fn new(bytes: Arc<CacheBytes>, frame: std::ops::Range<usize>) -> Option<PackedSql> {
        let body = bytes.get(frame.clone())?;
        let count = usize::try_from(u32::from_le_bytes(*body.first_chunk::<4>()?)).ok()?;
        if count.checked_mul(SQL_RECORD)?.checked_add(4)? > body.len() {
            return None;
        }
        Some(PackedSql {
            made: (0..count).map(|_| std::sync::OnceLock::new()).collect(),
            bytes,
            frame,
        })
    }

    fn len(&self) -> usize {
        self.made.len()
    }

    /// The frame's bytes.
    fn body(&self) -> &[u8] {
        self.bytes.get(self.frame.clone()).unwrap_or(&[])
    }

    /// The record of file `i`.
    fn record(&self, i: usize) -> Option<&[u8; SQL_RECORD]> {
        let start = 4 + i.checked_mul(SQL_RECORD)?;
        self.body().get(start..)?.first_chunk::<SQL_RECORD>()
    }

    /// The `n`th 4-byte number after the blob id of record `i`.
    fn number(&self, i: usize, n: usize) -> Option<u32> {
        let record = self.record(i)?;
        let at = 20 + 4 * n;
        Some(u32::from_le_bytes(*record.get(at..)?.first_chunk::<4>()?))
    }

    /// The bytes at the (offset, length) pair that starts at number `n` of record `i`, as a
    /// range of the pack's bytes.
    fn place(&self, i: usize, n: usize) -> Option<std::ops::Range<usize>> {
        let offset = usize::try_from(self.number(i, n)?).ok()?;
        let len = usize::try_from(self.number(i, n + 1)?).ok()?;
        let end = offset.checked_add(len)?;
        (end <= self.frame.len()).then(|| self.frame.start + offset..self.frame.start + end)
    }

    fn id(&self, i: usize) -> Option<&[u8]> {
        self.record(i).map(|record| &record[..20])
    }

    fn path(&self, i: usize) -> Option<&[u8]> {
        self.bytes.get(self.place(i, 1)?)
    }

    /// The file with `path` at `id`, found by a binary search of the records.
    fn find(&self, path: &str, id: BlobId) -> Option<usize> {
        let wanted = (path.as_bytes(), id.as_bytes());
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let here = (self.path(mid)?, self.id(mid)?);
            match here.cmp(&wanted) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The parse of file `i`, made the first time (its path the one given, when it is the
    /// record's: the snapshot's own, shared).
    fn parse(&self, i: usize, path: Option<&Arc<str>>) -> Option<&Arc<ParsedFile>> {
        let made = self.made.get(i)?;
        if let Some((_, file)) = made.get() {
            return Some(file);
        }
        let id = BlobId::from_bytes(self.id(i)?)?;
        let source = match self.number(i, 0)? {
            u32::MAX => None,
            n => Some(usize::try_from(n).ok()?),
        };
        let record_path = self.path(i)?;
        let path = match path {
            Some(path) if path.as_bytes() == record_path => Arc::clone(path),
            _ => Arc::from(std::str::from_utf8(record_path).ok()?),
        };
        let events = crate::lazy::Lazy::from_part(&self.bytes, self.place(i, 3)?);
        let file = Arc::new(ParsedFile {
            path,
            kind: FileKind::Sql(source),
            parsed: Parsed::Sql(SqlRead::plain(events)),
            rare: None,
        });
        // Made once: a parse's address is its identity ([`PackUse::used`]).
        Some(&made.get_or_init(|| (id, file)).1)
    }

    /// The parses made so far.
    fn made(&self) -> impl Iterator<Item = (&BlobId, &Arc<ParsedFile>)> {
        self.made
            .iter()
            .filter_map(|made| made.get().map(|(id, file)| (id, file)))
    }
}

/// A plain SQL file's part of a pack, as [`encode_sql_files`] writes it: `None` for any other
/// parse.
fn plain_sql<'a>(
    id: &'a BlobId,
    file: &'a ParsedFile,
) -> Option<(&'a BlobId, &'a str, u32, std::borrow::Cow<'a, [u8]>)> {
    let (FileKind::Sql(source), Parsed::Sql(read), None) = (&file.kind, &file.parsed, &file.rare)
    else {
        return None;
    };
    let source = match source {
        None => u32::MAX,
        Some(n) => u32::try_from(*n).ok().filter(|n| *n != u32::MAX)?,
    };
    if id.as_bytes().len() != 20 {
        return None;
    }
    Some((id, &file.path, source, read.plain_events()?.encoded()?))
}

/// The frame of a pack's plain SQL files ([`PackedSql`]), in the order given; `None` when it
/// would pass 4 GiB.
fn encode_sql_files(files: &[(&BlobId, &str, u32, std::borrow::Cow<[u8]>)]) -> Option<Vec<u8>> {
    let heap_at = 4 + files.len().checked_mul(SQL_RECORD)?;
    let heap: usize = files
        .iter()
        .map(|(_, path, _, events)| path.len() + events.len())
        .sum();
    let mut out = Vec::with_capacity(heap_at.checked_add(heap)?);
    out.extend(u32::try_from(files.len()).ok()?.to_le_bytes());
    // The paths side by side, then the events: a snapshot's walk through the paths reads a
    // few pages, not every page of the frame.
    let paths: usize = files.iter().map(|(_, path, _, _)| path.len()).sum();
    let (mut path_at, mut events_at) = (heap_at, heap_at.checked_add(paths)?);
    for (id, path, source, events) in files {
        out.extend_from_slice(id.as_bytes());
        out.extend(source.to_le_bytes());
        for (offset, len) in [(&mut path_at, path.len()), (&mut events_at, events.len())] {
            out.extend(u32::try_from(*offset).ok()?.to_le_bytes());
            out.extend(u32::try_from(len).ok()?.to_le_bytes());
            *offset = offset.checked_add(len)?;
        }
    }
    u32::try_from(events_at).ok()?;
    for (_, path, _, _) in files {
        out.extend_from_slice(path.as_bytes());
    }
    for (_, _, _, events) in files {
        out.extend_from_slice(events);
    }
    Some(out)
}

/// What a pack holds, told without decoding it: the sorted [`pack_id`]s of its parses (the
/// first frame of the pack).
struct PackIds<'a>(&'a [u8]);

impl PackIds<'_> {
    /// Whether the pack holds a parse of `path` at blob `id` (or, once in 2⁶⁴, of another file
    /// whose [`pack_id`] is the same: the file is then parsed when the pack lacks it).
    fn holds(&self, path: &str, id: BlobId) -> bool {
        let wanted = pack_id(path, id);
        let (ids, _) = self.0.as_chunks::<8>();
        ids.binary_search_by(|id| u64::from_le_bytes(*id).cmp(&wanted))
            .is_ok()
    }
}

/// A parse's identity in a pack's index ([`PackIds`]): its path and blob id, hashed.
fn pack_id(path: &str, id: BlobId) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x5eed_0009).hash_one((path, id.as_bytes()))
}

impl PackDecode {
    /// The pack's bytes and chunks, read here unless another thread has read them (or is).
    fn bytes(&self) -> Option<&PackBytes> {
        self.bytes
            .get_or_init(|| {
                let _s = span("parse pack read (prefetch)");
                self.disk
                    .get_bytes_with("packs", &self.key, "bin", Pages::OnUse)
                    .and_then(|bytes| {
                        let (ids, sql, chunks) = pack_frames(&bytes)?;
                        Some(PackBytes {
                            bytes: Arc::new(bytes),
                            ids,
                            sql,
                            chunks,
                        })
                    })
            })
            .as_ref()
    }

    /// Decodes chunks until none is left to claim.
    fn work(&self) {
        let Some(pack) = self.bytes() else {
            return;
        };
        self.claims
            .work(&pack.chunks, |_, range| decode_chunk(&pack.bytes, range));
    }
}

/// The summaries of the project's modules that model files and revisions import but that
/// declare no model (`app/util/naming.py`, `ckan/lib/…`), by path and blob id: a summary
/// depends on the module's path and bytes alone. Kept on disk between change checks (one
/// file, holding the summaries the last run that made a new one used): without it every new
/// edit read and parsed those modules again — 150 ms of a 210 ms check on CKAN.
#[derive(Default)]
struct Summaries {
    map: HashMap<(String, BlobId), Arc<ModuleSummary>>,
    /// The file on disk was read (or there is none to read).
    loaded: bool,
    /// Summaries made in this run.
    fresh: usize,
    /// The summaries this run used, by path and blob id.
    used: HashSet<(String, BlobId)>,
}

/// The first bytes of the module summaries file: the format and its version.
const SUMMARIES_MAGIC: &[u8] = b"driftguard module summaries 2\n";

/// A module's summary, as written and as read (its blob id a byte string, as in a pack).
#[derive(serde::Serialize)]
struct SummaryOut<'a> {
    path: &'a str,
    #[serde(serialize_with = "id_bytes")]
    id: &'a BlobId,
    summary: &'a ModuleSummary,
}

#[derive(serde::Deserialize)]
struct SummaryIn {
    path: String,
    #[serde(deserialize_with = "id_from_bytes")]
    id: BlobId,
    summary: ModuleSummary,
}

impl Summaries {
    /// The summary of `path` at blob `id`, if this run or the file on disk has it.
    fn get(&mut self, disk: &DiskCache, path: &str, id: BlobId) -> Option<Arc<ModuleSummary>> {
        if !self.loaded {
            self.loaded = true;
            if disk.enabled() {
                let _s = span("module summaries load");
                let loaded = disk
                    .get_bytes("modules", &crate::cache::summaries_key(), "bin")
                    .and_then(|bytes| decode_summaries(&Arc::new(bytes)))
                    .unwrap_or_default();
                for entry in loaded {
                    self.map
                        .entry((entry.path, entry.id))
                        .or_insert_with(|| Arc::new(entry.summary));
                }
            }
        }
        let key = (path.to_string(), id);
        let hit = Arc::clone(self.map.get(&key)?);
        self.used.insert(key);
        Some(hit)
    }

    fn insert(&mut self, path: &str, id: BlobId, summary: ModuleSummary) {
        let key = (path.to_string(), id);
        self.map.insert(key.clone(), Arc::new(summary));
        self.used.insert(key);
        self.fresh += 1;
    }

    /// Writes the summaries this run used, when it made new ones.
    fn save(&self, disk: &DiskCache) {
        if self.fresh == 0 || !disk.enabled() {
            return;
        }
        let mut entries: Vec<SummaryOut> = self
            .map
            .iter()
            .filter(|(key, _)| self.used.contains(*key))
            .map(|((path, id), summary)| SummaryOut { path, id, summary })
            .collect();
        entries.sort_by(|a, b| (a.path, a.id.as_bytes()).cmp(&(b.path, b.id.as_bytes())));
        let encoded = with_shared_paths(Direction::Encode, || postcard::to_allocvec(&entries).ok());
        if let Some(encoded) = encoded {
            let mut bytes = SUMMARIES_MAGIC.to_vec();
            bytes.extend_from_slice(&encoded);
            disk.put_bytes("modules", &crate::cache::summaries_key(), "bin", &bytes);
        }
    }
}

/// The summaries of a summaries file; `None` for bytes of another format (a miss).
fn decode_summaries(bytes: &Arc<CacheBytes>) -> Option<Vec<SummaryIn>> {
    let rest = bytes.strip_prefix(SUMMARIES_MAGIC)?;
    let summaries = with_backing(bytes, || {
        with_shared_paths(Direction::Decode, || postcard::from_bytes(rest).ok())
    });
    bytes.release_pages();
    summaries
}

/// One pack's use in a run.
#[derive(Default)]
struct PackUse {
    key: String,
    /// How many parses the pack held when loaded (0: no pack).
    loaded: usize,
    /// Files parsed in this run because the pack lacked them.
    fresh: usize,
    /// Of those, the files the change being checked touches ([`ParseCache::begin_change`]).
    fresh_changed: usize,
    /// The parses this run's snapshots used, by the address of the one kept in
    /// [`ParseCache::parsed`] (which holds them until the run ends).
    used: foldhash::HashSet<usize>,
}

/// The first bytes of a parse pack: the format and its version.
const PACK_MAGIC: &[u8] = b"driftguard parse pack 12\n";

/// One parse of a pack, as written and as read: its blob id and the parse (which holds its
/// path). The id is a byte string, read back in one piece: as a sequence, postcard reads it
/// byte by byte (25,000 ids at 5,000 models / 20,000 migrations).
#[derive(serde::Serialize)]
struct PackEntryOut<'a> {
    #[serde(serialize_with = "id_bytes")]
    id: &'a BlobId,
    file: &'a ParsedFile,
}

#[derive(serde::Deserialize)]
struct PackEntryIn {
    #[serde(deserialize_with = "id_from_bytes")]
    id: BlobId,
    file: ParsedFile,
}

/// A blob id as a byte string.
fn id_bytes<S: serde::Serializer>(id: &&BlobId, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(id.as_bytes())
}

/// A blob id from [`id_bytes`]'s byte string.
fn id_from_bytes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BlobId, D::Error> {
    struct Id;
    impl serde::de::Visitor<'_> for Id {
        type Value = BlobId;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a blob id's bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<BlobId, E> {
            BlobId::from_bytes(v).ok_or_else(|| E::custom("not a blob id"))
        }
    }
    deserializer.deserialize_bytes(Id)
}

impl ParseCache {
    /// A cache that also keeps parses (one pack per config) and snapshot results on disk.
    /// The disk cache this run keeps its results in.
    pub fn disk(&self) -> &DiskCache {
        &self.disk
    }

    pub fn with_disk(disk: DiskCache) -> ParseCache {
        ParseCache {
            damage_mark: crate::lazy::damage_mark(),
            pieces: PieceStore {
                disk: disk.clone(),
                kept: Arc::default(),
            },
            disk,
            ..ParseCache::default()
        }
    }

    /// Starts reading and decoding the parse pack of `config` on the thread pool: a check
    /// that will need it (a snapshot the findings cache lacks) finds it partly or wholly
    /// decoded; a check that will not loses nothing but a core it was not using. Used by the
    /// first [`ParseCache::parses_for`] under a config of the same fingerprint.
    pub fn prefetch(&mut self, config: &Config) {
        if !self.disk.enabled() || self.prefetched.is_some() {
            return;
        }
        let decode = Arc::new(PackDecode {
            disk: self.disk.clone(),
            key: pack_key(config),
            bytes: std::sync::OnceLock::new(),
            claims: crate::cache::Claims::default(),
        });
        let shared = Arc::clone(&decode);
        // A panic while reading leaves the bytes to whoever needs them next, never an abort
        // of the pool.
        rayon::spawn(move || {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| shared.work()));
        });
        self.prefetched = Some(Prefetch {
            fingerprint: config.fingerprint.clone(),
            decode,
        });
    }

    /// Whether the parse pack prefetched under `config` holds a parse of `path` at blob `id`,
    /// told from the pack's index without decoding it: an early parse of that file would go
    /// unused ([`ParseCache::parse_early`]). A file changed since HEAD is in the pack when an
    /// earlier check of the same change wrote it there (a small backend's pack is written
    /// again after most edits).
    pub fn packed(&self, config: &Config, path: &str, id: BlobId) -> bool {
        let Some(prefetch) = self
            .prefetched
            .as_ref()
            .filter(|p| p.fingerprint == config.fingerprint)
        else {
            return false;
        };
        let Some(pack) = prefetch.decode.bytes() else {
            return false;
        };
        pack.bytes
            .get(pack.ids.clone())
            .is_some_and(|ids| PackIds(ids).holds(path, id))
    }

    /// Starts parsing `files` (path, blob id, kind, bytes) on the thread pool: the files a
    /// change check's change touches, which the parse pack cannot hold yet when the edit is
    /// new. They parse while the snapshots are classified and the pack is decoded, and the
    /// first [`analyze`] that needs one of them, as that kind, takes its parse.
    pub fn parse_early(
        &mut self,
        files: impl IntoIterator<Item = (String, BlobId, FileKind, Vec<u8>)>,
    ) {
        for (path, id, kind, bytes) in files {
            let (sender, receiver) = std::sync::mpsc::sync_channel(1);
            let (at, as_kind) = (path.clone(), kind.clone());
            let pieces = self.pieces.clone();
            rayon::spawn(move || {
                // A parse that panics sends nothing (rather than aborting the pool).
                if let Ok(parsed) = std::panic::catch_unwind(|| {
                    parse_file_with(&at, as_kind, &bytes, Some(&pieces))
                }) {
                    let _ = sender.send(parsed);
                }
            });
            self.early.insert((path, id), (kind, receiver));
        }
    }

    /// Starts reading and decoding the kept replay and resolution of `config` on the thread
    /// pool ([`KeptAhead`]): for a check that will analyse a snapshot under it. The replay
    /// is the one whose key the last run remembered ([`crate::cache::replay_key_memo`]).
    pub fn decode_kept_ahead(&mut self, config: &Config) {
        if !self.disk.enabled() || self.kept_ahead.is_some() {
            return;
        }
        let disk = self.disk.clone();
        let memo = crate::cache::replay_key_memo(config);
        let replay = AheadSlot::start(move || {
            let replay_key = disk
                .get_bytes(crate::migrations::sources::REPLAY_KEYS, &memo, "key")
                .and_then(|bytes| Some(std::str::from_utf8(&bytes).ok()?.to_string()))
                .unwrap_or_default();
            let _s = span("kept replay read (ahead)");
            let decoded = crate::migrations::sources::kept_replay(&disk, &replay_key);
            (replay_key, decoded)
        });
        let disk = self.disk.clone();
        let resolution_key = crate::cache::resolution_key(config);
        let resolution = AheadSlot::start(move || {
            let _s = span("kept resolution read and decode (ahead)");
            let decoded = disk
                .get_bytes(RESOLUTIONS, &resolution_key, "bin")
                .and_then(models::decode_kept_resolution);
            (resolution_key, decoded)
        });
        self.kept_ahead = Some(KeptAhead { replay, resolution });
    }

    /// Says which paths the change touches, before a change check analyses its after side:
    /// when the kept replay does not lead to the after side's migrations, the ones before the
    /// first changed file replay in full and the rest goes on from there, and that state (the
    /// one before the change) is kept for the next edit of the same change (see
    /// [`crate::schema::resume`]).
    pub fn begin_change(&mut self, changed: HashSet<String>) {
        self.changed = Some(changed);
    }

    /// At the end of a run: writes the parse packs that are out of date
    /// ([`ParseCache::save_packs`]), finishes the writes handed to the thread pool (the
    /// findings, kept states and memos [`analyze`] and [`cached_analysis`] wrote: see
    /// [`DiskCache::put_soon`]; a run that skips this may end before they are in place), then
    /// keeps the disk cache under its cap (after a run that wrote to it).
    ///
    /// An error when the run read a kept replay or resolution whose columns did not decode
    /// ([`crate::lazy::LazyList`]): what it found rests on tables it did not really read, and
    /// what it wrote to the cache may too, so the cache folder is deleted instead.
    pub fn finish(&self) -> Result<(), crate::error::Error> {
        crate::timing::count(
            "kept tables whose columns were read",
            crate::lazy::decoded::<crate::schema::Column>(),
        );
        crate::timing::count(
            "kept model tables whose columns were read",
            crate::lazy::decoded::<crate::models::ModelColumn>(),
        );
        if crate::lazy::damaged_since(self.damage_mark) {
            return Err(self.disk.damaged_entry());
        }
        self.pieces.save(&self.disk);
        self.save_packs();
        self.summaries.save(&self.disk);
        self.disk.trim();
        Ok(())
    }

    /// The parses under `config`, with its pack loaded from disk the first time.
    fn parses_for(&mut self, config: &Config) -> &mut Parses {
        let fingerprint = &config.fingerprint;
        if !self.packs.contains_key(fingerprint) {
            let key = pack_key(config);
            let loaded = match self.prefetched.take() {
                Some(prefetch) if prefetch.fingerprint == *fingerprint => {
                    let _s = span("parse pack load (prefetched: the rest)");
                    prefetch.finish().unwrap_or_default()
                }
                other => {
                    self.prefetched = other;
                    if self.disk.enabled() {
                        let _s = span("parse pack load");
                        self.disk
                            .get_bytes_with("packs", &key, "bin", Pages::OnUse)
                            .and_then(|bytes| decode_pack(&Arc::new(bytes)))
                            .unwrap_or_default()
                    } else {
                        LoadedPack::default()
                    }
                }
            };
            let count = loaded.len();
            // The first parses under this config (a pack loads once per config), in the
            // pack's order.
            let parses = self.parsed.entry(fingerprint.clone()).or_default();
            parses.1 = loaded.parses;
            parses.2 = loaded.sql;
            self.packs.insert(
                fingerprint.clone(),
                PackUse {
                    key,
                    loaded: count,
                    ..PackUse::default()
                },
            );
        }
        self.parsed.entry(fingerprint.clone()).or_default()
    }

    /// Writes the pack of each config this run used again, when the run parsed enough files
    /// the pack lacked: none was there, or more than [`PACK_STALE_FILES`] (or one in
    /// [`PACK_STALE_SHARE`]) of the files. A new edit of one or two files leaves the pack as
    /// it is — parsing those few again next time costs less than writing the whole pack.
    ///
    /// The change's own files do not count while there are at most [`PACK_SPARES_CHANGED`] of
    /// them: every check of the change parses them again ahead of need, beside its listing
    /// ([`crate::check::EARLY_FILES`] of them). After a commit they count as any file the pack
    /// lacks. A small backend's pack used to be written again after every new edit (one file in a
    /// hundred): ~0.3 ms at the end of a 3 ms check at 50 models.
    fn save_packs(&self) {
        if !self.disk.enabled() {
            return;
        }
        for (fingerprint, pack) in &self.packs {
            let outside = if pack.fresh_changed <= PACK_SPARES_CHANGED {
                pack.fresh - pack.fresh_changed
            } else {
                pack.fresh
            };
            let stale = outside > PACK_STALE_FILES || outside * PACK_STALE_SHARE > pack.used.len();
            if pack.fresh == 0 || (pack.loaded > 0 && !stale) {
                continue;
            }
            let Some(map) = self.parsed.get(fingerprint) else {
                continue;
            };
            let _s = span("parse pack write");
            let mut entries: Vec<PackEntryOut> = map
                .iter()
                .filter(|(_, file)| pack.used.contains(&address(file)))
                .map(|(id, file)| PackEntryOut { id, file })
                .collect();
            entries.sort_by(|a, b| {
                (&a.file.path, a.id.as_bytes()).cmp(&(&b.file.path, b.id.as_bytes()))
            });
            if let Some(frames) = encode_pack_frames(&entries) {
                self.disk
                    .put_framed("packs", &pack.key, "bin", PACK_MAGIC, &frames);
            }
        }
    }
}

/// About how many parses of SQL files one chunk of a pack holds (a model file weighs more:
/// [`pack_weight`]): chunks are encoded and decoded in parallel.
const PACK_CHUNK: usize = 512;

/// A parse's share of a pack's decoding, in parses of a SQL file: a model file's classes weigh
/// about three each (a model file of 25 classes took 35 KB of a pack, a SQL file 0.5 KB).
fn pack_weight(file: &ParsedFile) -> usize {
    match &file.parsed {
        Parsed::Models(models) => 1 + 3 * models.classes.len(),
        Parsed::Alembic(Some(_)) => 4,
        Parsed::Sql(_) | Parsed::Alembic(None) | Parsed::Nothing => 1,
    }
}

/// A pack: [`PACK_MAGIC`], then frames, each its length (8 bytes, little endian) and its
/// bytes: first the index ([`PackIds`]: each parse's [`pack_id`], sorted, 8 bytes little
/// endian each), then the plain SQL files ([`PackedSql`]), then the chunks of the other parses
/// in postcard's encoding, each location's path written once per chunk
/// ([`with_shared_paths`]). These are the frames, for [`DiskCache::put_framed`] to write one
/// by one after the magic.
fn encode_pack_frames(all: &[PackEntryOut]) -> Option<Vec<Vec<u8>>> {
    // The plain SQL files' events encoded on the pool: one after the other, 20,000 of them
    // took ~21 ms at the end of a first check at 5,000 models / 20,000 migrations (~12 ms
    // side by side).
    let plain: Vec<_> = all
        .par_iter()
        .map(|entry| plain_sql(entry.id, entry.file))
        .collect();
    let mut sql = Vec::new();
    let mut entries: Vec<&PackEntryOut> = Vec::with_capacity(all.len());
    for (entry, plain) in all.iter().zip(plain) {
        match plain {
            Some(plain) => sql.push(plain),
            None => entries.push(entry),
        }
    }
    // Cut in runs of the entries' order, of about equal weight: a check walks the parses in
    // that order, and those one thread decoded one after the other lie side by side in its
    // memory (dealt round robin to the chunks, each next parse lay elsewhere, and the walk
    // missed the processor's caches at every one of 25,000 files). By weight, not by count:
    // the few large model-file parses sort together and would make one chunk that a single
    // thread decodes while the others idle.
    let total: usize = entries.iter().map(|e| pack_weight(e.file)).sum();
    let count = total.div_ceil(PACK_CHUNK).max(1);
    let share = total.div_ceil(count).max(1);
    let mut runs: Vec<&[&PackEntryOut]> = Vec::with_capacity(count);
    let (mut start, mut weight) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        weight += pack_weight(entry.file);
        if weight >= share {
            runs.push(&entries[start..=i]);
            (start, weight) = (i + 1, 0);
        }
    }
    if start < entries.len() || runs.is_empty() {
        runs.push(&entries[start..]);
    }
    let mut ids: Vec<u64> = all.iter().map(|e| pack_id(&e.file.path, *e.id)).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut frames: Vec<Vec<u8>> = Vec::with_capacity(runs.len() + 2);
    frames.push(ids.iter().flat_map(|id| id.to_le_bytes()).collect());
    frames.push(encode_sql_files(&sql)?);
    frames.extend(
        runs.par_iter()
            .map(|chunk| with_shared_paths(Direction::Encode, || postcard::to_allocvec(chunk).ok()))
            .collect::<Option<Vec<_>>>()?,
    );
    Some(frames)
}

/// A pack's bytes ([`encode_pack_frames`] joined as [`DiskCache::put_framed`] writes them).
#[cfg(test)]
fn encode_pack(all: &[PackEntryOut]) -> Option<Vec<u8>> {
    Some(crate::cache::framed(PACK_MAGIC, &encode_pack_frames(all)?))
}

/// More files parsed than this, for want of them in the pack, and the pack is written again.
const PACK_STALE_FILES: usize = 64;
/// … or more than one file in this many.
const PACK_STALE_SHARE: usize = 100;
/// Up to this many fresh parses of the change's own files leave the pack as it is
/// ([`ParseCache::save_packs`]): as many as a check of the change parses ahead of need.
const PACK_SPARES_CHANGED: usize = crate::check::EARLY_FILES;

/// A pack's parses; `None` for bytes that are no pack of this format (a miss, never an error).
fn decode_pack(bytes: &Arc<CacheBytes>) -> Option<LoadedPack> {
    let (_, sql, chunks) = pack_frames(bytes)?;
    let decoded: Vec<Option<Vec<PackParse>>> = chunks
        .into_par_iter()
        .map(|range| decode_chunk(bytes, range))
        .collect();
    bytes.release_pages();
    Some(LoadedPack {
        parses: pack_parses(decoded)?,
        sql: Some(PackedSql::new(Arc::clone(bytes), sql)?),
    })
}

/// The byte ranges of a pack's index ([`PackIds`]), of its plain SQL files ([`PackedSql`]) and
/// of its chunks; `None` for bytes that are no pack of this format.
#[allow(
    clippy::type_complexity,
    reason = "three ranges, named where they are taken"
)]
fn pack_frames(
    bytes: &[u8],
) -> Option<(
    std::ops::Range<usize>,
    std::ops::Range<usize>,
    Vec<std::ops::Range<usize>>,
)> {
    let mut frames = crate::cache::frames(bytes, PACK_MAGIC)?.into_iter();
    let ids = frames.next()?;
    let sql = frames.next()?;
    (ids.len() % 8 == 0).then(|| (ids, sql, frames.collect()))
}

/// A parse of the pack, ready to keep: moved into its `Arc` by the thread that decoded it,
/// so that gathering the chunks moves pointers, not parses.
type PackParse = (BlobId, Arc<ParsedFile>);

/// The parses of the chunk at `range` of a pack's bytes.
fn decode_chunk(bytes: &Arc<CacheBytes>, range: std::ops::Range<usize>) -> Option<Vec<PackParse>> {
    let chunk = bytes.get(range)?;
    let entries: PackChunkIn = with_backing(bytes, || {
        with_shared_paths(Direction::Decode, || postcard::from_bytes(chunk).ok())
    })?;
    Some(entries.0)
}

/// A chunk's parses, each put behind its pointer as it is read: read into a list of entries
/// first and then moved behind pointers, each parse was written twice (into the chunk's list,
/// then behind its pointer). Measured at 5,000 models / 20,000 migrations: ~160 page faults
/// fewer a new edit (the list's memory was reused chunk after chunk).
struct PackChunkIn(Vec<PackParse>);

impl<'de> serde::Deserialize<'de> for PackChunkIn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = PackChunkIn;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a parse pack's chunk")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<PackChunkIn, A::Error> {
                // A damaged length is not trusted beyond 65,536 entries.
                let mut parses = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(entry) = seq.next_element::<PackEntryIn>()? {
                    parses.push((entry.id, Arc::new(entry.file)));
                }
                Ok(PackChunkIn(parses))
            }
        }
        deserializer.deserialize_seq(Entries)
    }
}

/// The parses of decoded chunks (in the pack's order of chunks), in the order the pack was
/// written in — by path, then blob id ([`ParseCache::save_packs`]): its chunks are runs of
/// that order. `None` when a chunk would not decode.
fn pack_parses(chunks: Vec<Option<Vec<PackParse>>>) -> Option<Vec<PackParse>> {
    let chunks = chunks.into_iter().collect::<Option<Vec<_>>>()?;
    let mut parses = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        parses.extend(chunk);
    }
    Some(parses)
}

/// The identity of a kept parse, for [`PackUse::used`].
fn address(file: &Arc<ParsedFile>) -> usize {
    Arc::as_ptr(file) as usize
}

impl Prefetch {
    /// Helps decode the chunks left (reading the pack first if the pool has not), waits for
    /// the chunks other threads claimed, and returns the parses (`None`: no pack, or one that
    /// would not decode).
    fn finish(self) -> Option<LoadedPack> {
        let decode = &self.decode;
        let pack = decode.bytes()?;
        decode.work();
        let decoded = decode.claims.wait_all(pack.chunks.len());
        pack.bytes.release_pages();
        Some(LoadedPack {
            parses: pack_parses(decoded)?,
            sql: Some(PackedSql::new(Arc::clone(&pack.bytes), pack.sql.clone())?),
        })
    }
}

/// A snapshot's result as the disk cache keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedAnalysis {
    findings: Vec<Finding>,
    covered: Vec<Finding>,
    warnings: Vec<Warning>,
    summary: Summary,
}

/// A snapshot's analysis as the disk cache keeps it under `key`, if it does.
pub fn cached_only(key: &str, cache: &ParseCache) -> Option<Analysis> {
    let hit = cache.disk.get::<CachedAnalysis>("findings", key)?;
    Some(Analysis {
        findings: hit.findings,
        covered: hit.covered,
        warnings: hit.warnings,
        summary: hit.summary,
        sources: Vec::new(),
        tables: Vec::new(),
    })
}

/// The files a run that analyses makes ahead for its writes ([`DiskCache::make_spares`]): what
/// a new edit's check writes — its findings, the edited model file's pieces, the kept
/// resolution, the rule memos and the ledger.
pub const SPARES: usize = 5;

/// A snapshot's analysis, from the disk cache or computed (and then stored).
pub fn cached_analysis(
    key: &str,
    files: &[FileRef],
    reader: &FileReader,
    config: &Config,
    cache: &mut ParseCache,
) -> Analysis {
    if let Some(hit) = cached_only(key, cache) {
        return hit;
    }
    cache.disk.make_spares(SPARES);
    let analysis = analyze(files, reader, config, cache);
    cache.disk.put_json_soon(
        "findings",
        key,
        &CachedAnalysis {
            findings: analysis.findings.clone(),
            covered: analysis.covered.clone(),
            warnings: analysis.warnings.clone(),
            summary: analysis.summary.clone(),
        },
    );
    analysis
}

/// Reads the migrations of the working tree at `path` (with the config found there, or
/// `config`) and replays them: what `driftguard schema` prints. `assembly` overrides how the
/// config says the sources relate (`--source` wants each alone).
pub fn migration_sources(
    path: &Path,
    config: Option<&Path>,
    assembly: Option<Assembly>,
) -> Result<(Vec<MigrationSource>, Vec<Warning>), Error> {
    if !path.is_dir() {
        return Err(Error::Usage(format!(
            "`{}` is not a directory; pass the root of the project",
            path.display()
        )));
    }
    let read_root = |name: &str| std::fs::read_to_string(path.join(name)).ok();
    let (config, mut warnings) = load_config(config, &read_root)?;
    // Model files too: a revision may live anywhere, found by content, and may name a model
    // class's table.
    let files: Vec<FileRef> = disk_files(path, &config, &|kind| {
        matches!(
            kind,
            FileKind::Sql(_) | FileKind::Alembic(_) | FileKind::Model
        )
    });
    let reader = FileReader {
        repo: None,
        root: path.to_path_buf(),
    };
    let assembly = assembly.unwrap_or_else(|| Assembly::for_config(&config));
    let analysis = analyze_as(
        &files,
        &reader,
        &config,
        &mut ParseCache::default(),
        assembly,
    );
    warnings.extend(analysis.warnings);
    Ok((analysis.sources, warnings))
}

/// The files of a working tree (or plain directory) whose kind `keep` accepts.
fn disk_files(root: &Path, config: &Config, keep: &dyn Fn(&FileKind) -> bool) -> Vec<FileRef> {
    walk(root, config)
        .into_iter()
        .filter(|path| keep(&classify(path, config)))
        .map(|path| FileRef {
            path: path.into(),
            content: Content::Disk,
        })
        .collect()
}

/// The config: `--config FILE` when given, else the one found among the root's files
/// (`read_root` returns a root file's text, if it exists).
pub fn load_config(
    explicit: Option<&Path>,
    read_root: &dyn Fn(&str) -> Option<String>,
) -> Result<(Config, Vec<Warning>), Error> {
    match explicit {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::io("cannot read the config file", path, e))?;
            let name = path.display().to_string();
            Ok(crate::config::load(Some((&name, &text)), read_root)?)
        }
        None => Ok(crate::config::load(None, read_root)?),
    }
}

/// Reads and analyses the working tree (or plain directory) at `path`, keeping only the
/// files `keep` accepts by kind. Returns the config, the config's warnings and the analysis.
pub fn analyze_tree(
    path: &Path,
    explicit_config: Option<&Path>,
    keep: &dyn Fn(&FileKind) -> bool,
) -> Result<(Config, Vec<Warning>, Analysis), Error> {
    if !path.is_dir() {
        return Err(Error::Usage(format!(
            "`{}` is not a directory; pass the root of the project to check",
            path.display()
        )));
    }
    // The directory given is the project root: paths are reported relative to it and the
    // config is looked for there. `.gitignore` files are honoured while walking.
    let root = path.to_path_buf();
    let read_root = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    let (config, mut warnings) = load_config(explicit_config, &read_root)?;
    let files = disk_files(&root, &config, &|_| true);
    warnings.extend(unmatched_globs(&files, &config));
    let files: Vec<FileRef> = files
        .into_iter()
        .filter(|f| keep(&classify(&f.path, &config)))
        .collect();
    let reader = FileReader {
        repo: None,
        root: root.clone(),
    };
    let mut cache = ParseCache::default();
    let analysis = analyze(&files, &reader, &config, &mut cache);
    Ok((config, warnings, analysis))
}

pub fn read_disk(root: &Path, path: &str) -> Result<Vec<u8>, String> {
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

/// Reads the working tree (or plain directory) at `path` like `check --all`. Without
/// `with_migrations` no migration file is read, and the warning that none was found is not
/// given. `fail_on` is the command line's `--fail-on` (`Some(None)` is `never`).
pub fn read_project(
    path: &Path,
    explicit_config: Option<&Path>,
    fail_on_flag: Option<Option<Severity>>,
    with_migrations: bool,
) -> Result<Project, Error> {
    let keep = |kind: &FileKind| with_migrations || *kind == FileKind::Model;
    let (config, mut warnings, mut analysis) = analyze_tree(path, explicit_config, &keep)?;
    let mut summary = analysis.summary;
    summary.findings = 0;
    if !with_migrations {
        // Revisions found by content among the Python files are not wanted either.
        let migration_files: HashSet<String> = analysis
            .sources
            .drain(..)
            .flat_map(|s| s.parts)
            .flat_map(|p| p.files)
            .collect();
        analysis.warnings.retain(|w| {
            w.message != NO_MIGRATIONS
                && w.location
                    .as_ref()
                    .is_none_or(|l| !migration_files.contains(&*l.path))
        });
        summary.migration_files = 0;
    }
    warnings.extend(analysis.warnings);
    Ok(Project {
        root: path.to_path_buf(),
        fail_on: fail_on(fail_on_flag, &config),
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
    pub fn snippet_sources(&self, findings: &[Finding]) -> Sources {
        snippet_sources(findings, &|path| read_disk(&self.root, path))
    }
}

/// The lowest severity that fails the run: the command line's `--fail-on`, else the config's
/// `fail_on`, else `error`.
pub fn fail_on(flag: Option<Option<Severity>>, config: &Config) -> Option<Severity> {
    match flag {
        Some(setting) => setting,
        None => config.fail_on.or(Some(Severity::Error)),
    }
}

/// Reads the files the findings point into, for snippets.
pub fn snippet_sources(
    findings: &[Finding],
    read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> Sources {
    let mut sources = Sources::new();
    for finding in findings {
        let paths = std::iter::once(&finding.location.path)
            .chain(finding.related.iter().map(|r| &r.location.path));
        for path in paths {
            if sources.contains_key(&**path) {
                continue;
            }
            if let Ok(bytes) = read(path) {
                sources.insert(
                    path.to_string(),
                    SourceFile::from_bytes(&**path, &bytes).0.text,
                );
            }
        }
    }
    sources
}

/// A warning for each `models:`/`migrations:` pattern of the config that matches no file: it
/// reads nothing, which is rarely what was meant.
pub fn unmatched_globs(files: &[FileRef], config: &Config) -> Vec<Warning> {
    let name = config.file.as_deref().unwrap_or("the config");
    let mut warnings = Vec::new();
    for (key, globs) in [
        ("models", &config.models),
        ("migrations", &config.migrations),
    ] {
        let Some(globs) = globs else { continue };
        for pattern in globs.unmatched(files.iter().map(|f| &*f.path)) {
            warnings.push(Warning::global(format!(
                "the `{key}:` pattern `{pattern}` in {name} matches no file, so it reads nothing; check the path (patterns are relative to the project root, `**` crosses folders)"
            )));
        }
    }
    warnings
}

/// The result of reading one snapshot.
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Column findings under a table's finding, not reported by a full audit (see
    /// [`covered`]).
    pub covered: Vec<Finding>,
    pub warnings: Vec<Warning>,
    pub summary: Summary,
    /// The migration sources (empty when the analysis came from the disk cache).
    pub sources: Vec<MigrationSource>,
    /// The resolved model tables (empty when the analysis came from the disk cache).
    pub tables: Vec<ModelTable>,
}

/// The warning for models without any migration.
const NO_MIGRATIONS: &str = "no migrations found (looked for .sql files under a `migrations` folder and Alembic revisions under `versions`); set `migrations:` in driftguard.yml if they live elsewhere";

/// A batch of files read ([`analyze_as`]) goes to the pool to parse at this many files …
const PARSE_BATCH_FILES: usize = 32;
/// … or this many bytes, whichever comes first.
const PARSE_BATCH_BYTES: usize = 64 * 1024;

/// Files parsed on the pool, each beside its place in the snapshot's listing.
type ParsedBatch = Vec<(usize, ParsedFile)>;

/// Parses what is not cached yet (in parallel), then resolves models, replays sources and runs
/// the rules.
pub fn analyze(
    files: &[FileRef],
    reader: &FileReader,
    config: &Config,
    cache: &mut ParseCache,
) -> Analysis {
    analyze_as(files, reader, config, cache, Assembly::for_config(config))
}

/// [`analyze`], with the sources assembled as `assembly` says rather than as the config does.
fn analyze_as(
    files: &[FileRef],
    reader: &FileReader,
    config: &Config,
    cache: &mut ParseCache,
    assembly: Assembly,
) -> Analysis {
    // What an analysis before this one handed to the pool to write (a kept resolution, a
    // memo) is in place before this one reads it.
    cache.disk.settle();
    let mut warnings = Vec::new();
    let mut early = std::mem::take(&mut cache.early);
    // A model file's pieces are kept for the files a change touches (parsed early, or here
    // when they were not): the next edit of a file is most likely one edited now, and a
    // first check, which parses every file, keeps nothing for the others.
    let pieces = cache.pieces.clone();
    let changed = cache.changed.clone().unwrap_or_default();
    let parses = cache.parses_for(config);
    let s = span("read and parse (what the parse pack lacks)");
    // Found beside the pack's ordered parses. Read here, one blob after the other (git2 is not
    // Sync), and parsed on the pool batch by batch while the reading goes on: read first and
    // parsed after, the pool idled through the reading (~35 ms of a first check at 5,000
    // models / 20,000 migrations).
    let mut parsed: Vec<Option<Arc<ParsedFile>>> = parses.find_all(files);
    let mut parsed_early: Vec<(usize, ParsedFile)> = Vec::new();
    let mut used: Vec<usize> = Vec::with_capacity(files.len());
    // Each parse carries its place in the listing: the order the batches finish in does not
    // matter.
    let batches: std::sync::Mutex<Vec<ParsedBatch>> = Default::default();
    rayon::in_place_scope(|scope| {
        let parse_batch = |batch: Vec<(usize, Vec<u8>)>| {
            let (pieces, changed, batches) = (&pieces, &changed, &batches);
            move |_: &rayon::Scope<'_>| {
                let out: ParsedBatch = batch
                    .into_iter()
                    .map(|(i, bytes)| {
                        let file = &files[i];
                        let pieces = Some(pieces).filter(|_| changed.contains(&*file.path));
                        let kind = classify(&file.path, config);
                        (i, parse_file_with(&file.path, kind, &bytes, pieces))
                    })
                    .collect();
                batches
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(out);
            }
        };
        let (mut batch, mut bytes) = (Vec::with_capacity(PARSE_BATCH_FILES), 0);
        for (i, file) in files.iter().enumerate() {
            if let Some(hit) = &parsed[i] {
                used.push(address(hit));
                continue;
            }
            if let Content::Blob(id) = file.content
                && let Some(parse) = take_early(&mut early, &file.path, id, config)
            {
                parsed_early.push((i, parse));
                continue;
            }
            match reader.read(file) {
                Ok(read) => {
                    bytes += read.len();
                    batch.push((i, read));
                }
                Err(message) => warnings.push(Warning::global(message)),
            }
            if batch.len() >= PARSE_BATCH_FILES || bytes >= PARSE_BATCH_BYTES {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(PARSE_BATCH_FILES));
                scope.spawn(parse_batch(full));
                bytes = 0;
            }
        }
        if !batch.is_empty() {
            scope.spawn(parse_batch(batch));
        }
    });
    drop(s);
    let fresh = batches
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten();
    let (mut fresh_blobs, mut fresh_changed) = (0, 0);
    for (i, file) in fresh.chain(parsed_early) {
        let mut file = Arc::new(file);
        if let Content::Blob(id) = files[i].content {
            parses.insert(id, Arc::clone(&file));
            // The one kept (an identical parse may have been kept under this path and id
            // by the other snapshot's reading just before).
            file = Arc::clone(parses.get(&files[i].path, id).unwrap_or(&file));
            used.push(address(&file));
            fresh_blobs += 1;
            fresh_changed += usize::from(changed.contains(&*files[i].path));
        }
        parsed[i] = Some(file);
    }
    if let Some(pack) = cache.packs.get_mut(&config.fingerprint) {
        pack.fresh += fresh_blobs;
        pack.fresh_changed += fresh_changed;
        pack.used.extend(used);
    }
    cache.early = early;
    let parsed_kinds: Vec<bool> = parsed
        .iter()
        .map(|p| {
            p.as_ref()
                .is_some_and(|p| matches!(p.parsed, Parsed::Models(_)))
        })
        .collect();
    // Each parsed file's blob id beside it: a replay kept between runs recognises a SQL
    // migration file by path and blob id (a revision by what was read of it: see
    // `KeptReplays`).
    // The paths beside them, as the listing holds them: its strings lie side by side, while a
    // parse read from the pack has its path among its other parts (the passes over 20,000 SQL
    // files' paths were each a cache miss per file). All three sized ahead (an unzip of a
    // filtered list grows each step by step).
    let mut blob_ids: Vec<Option<BlobId>> = Vec::with_capacity(files.len());
    let mut read: Vec<Arc<ParsedFile>> = Vec::with_capacity(files.len());
    let mut read_paths: Vec<&str> = Vec::with_capacity(files.len());
    for (file, parse) in files.iter().zip(parsed) {
        let Some(parse) = parse else { continue };
        read.push(parse);
        read_paths.push(&file.path);
        blob_ids.push(match file.content {
            Content::Blob(id) => Some(id),
            Content::Disk => None,
        });
    }
    let mut parsed = read;
    // The snapshot's Python modules by dotted name, built once for both readings below.
    let paths = crate::pyeval::modules::ModulePaths::new(
        files.iter().map(|f| &*f.path),
        &config.python_roots,
    );
    let s = span("revisions that import project modules");
    read_revisions_with_modules(
        &mut parsed,
        files,
        &paths,
        reader,
        config,
        cache,
        &mut warnings,
    );
    drop(s);
    let s = span("modules the model files import");
    let helpers = model_helper_modules(&parsed, files, &paths, reader, cache);
    drop(s);
    // Model files by path and blob id and the other modules' digest, for a resolution kept
    // between runs to recognise them.
    let resolution = cache.disk.enabled().then(|| {
        let blob = |path: &str| {
            files
                .iter()
                .find(|f| &*f.path == path)
                .and_then(|f| match f.content {
                    Content::Blob(id) => Some(id),
                    Content::Disk => None,
                })
        };
        let mut models: HashMap<&str, BlobId> = HashMap::new();
        for (file, parse) in files.iter().zip(&parsed_kinds) {
            if let (Content::Blob(id), true) = (file.content, *parse) {
                models.insert(&*file.path, id);
            }
        }
        KeptResolutions {
            disk: &cache.disk,
            models,
            others: helpers_digest(&helpers, &blob),
            ahead: cache.kept_ahead.as_ref(),
        }
    });
    let kept = cache.disk.enabled().then_some(KeptReplays {
        disk: &cache.disk,
        ahead: cache.kept_ahead.as_ref(),
        changed: cache.changed.as_ref(),
        bases: Default::default(),
    });
    let memos = cache.disk.enabled().then_some(&cache.disk);
    let _s = span("build");
    build(
        &parsed,
        &read_paths,
        &blob_ids,
        &helpers,
        config,
        assembly,
        kept,
        resolution,
        memos,
        warnings,
    )
}

/// Reads again, with the project's modules, the revisions that import one: a column type,
/// a constant or a helper from `app/migrations/utils.py` (Airflow's revisions import their
/// timezone-aware `TIMESTAMP`). The index holds the model files' summaries, the revisions'
/// own, and every other module such a revision reaches through at most
/// [`crate::pyeval::modules::MAX_IMPORT_HOPS`] imports (read here, their summaries kept by
/// blob id).
///
/// Caching: the first reading of a revision depends on its bytes alone and stays in the parse
/// cache by (path, blob id); this second reading depends on other files too, so it is never
/// cached — each snapshot of a change check reads such a revision with its own modules. The
/// on-disk findings of a snapshot are keyed by every file driftguard reads (see
/// [`crate::cache::snapshot_key`]), which includes every module an import can reach here.
fn read_revisions_with_modules(
    parsed: &mut [Arc<ParsedFile>],
    files: &[FileRef],
    paths: &crate::pyeval::modules::ModulePaths<'_>,
    reader: &FileReader,
    config: &Config,
    cache: &mut ParseCache,
    warnings: &mut Vec<Warning>,
) {
    use crate::pyeval::modules::reachable_modules;
    let dependent: Vec<usize> = parsed
        .iter()
        .enumerate()
        .filter_map(|(i, file)| match &file.parsed {
            Parsed::Alembic(Some(read))
                if read.1.imports.iter().any(|(target, rooted)| {
                    !paths.files_of(&file.path, target, *rooted).is_empty()
                }) =>
            {
                Some(i)
            }
            _ => None,
        })
        .collect();
    if dependent.is_empty() {
        return;
    }
    let mut known: HashMap<&str, &ModuleSummary> = HashMap::new();
    for file in parsed.iter() {
        match &file.parsed {
            Parsed::Models(models) => {
                known.insert(&file.path, &models.summary);
            }
            // Every revision's summary is decoded here: an index of them all is built below.
            Parsed::Alembic(Some(read)) => {
                known.insert(&file.path, read.1.summary());
            }
            _ => {}
        }
    }
    let by_path = FilesByPath::new(files);
    let starts: Vec<&ModuleSummary> = dependent
        .iter()
        .filter_map(|&i| match &parsed[i].parsed {
            Parsed::Alembic(Some(read)) => Some(read.1.summary()),
            _ => None,
        })
        .collect();
    let (summaries, disk) = (&mut cache.summaries, &cache.disk);
    let reached = reachable_modules(
        &starts,
        paths,
        &|path| known.get(path).copied(),
        &mut |path| summarize_cached(path, &by_path, reader, summaries, disk),
    );
    let index = crate::pyeval::ModuleIndex::new(
        known.values().copied().chain(reached.iter()),
        &config.python_roots,
    );
    let mut to_read: Vec<(usize, Vec<u8>)> = Vec::new();
    for i in dependent {
        match by_path.get(&parsed[i].path).map(|f| reader.read(f)) {
            Some(Ok(bytes)) => to_read.push((i, bytes)),
            Some(Err(message)) => warnings.push(Warning::global(message)),
            None => {}
        }
    }
    let again: Vec<(usize, Option<alembic::Revision>)> = to_read
        .into_par_iter()
        .map(|(i, bytes)| {
            let file = &parsed[i];
            let (source, _) = SourceFile::from_bytes(&*file.path, &bytes);
            let anywhere = file.kind == FileKind::Model;
            let revision = match file.syntax().and_then(|s| s.get()) {
                Some(module) => alembic::read_parsed_revision_in(&source, module, &index, anywhere),
                None => alembic::read_revision_in(&source, &index, anywhere),
            };
            (i, revision)
        })
        .collect();
    drop(index);
    for (i, revision) in again {
        let (Some(revision), Parsed::Alembic(Some(read))) = (revision, &parsed[i].parsed) else {
            continue;
        };
        let summary = &read.1;
        let file = &parsed[i];
        parsed[i] = Arc::new(ParsedFile {
            path: file.path.clone(),
            kind: file.kind.clone(),
            parsed: Parsed::Alembic(Some(Box::new((revision, summary.clone())))),
            rare: Rare {
                warnings: file.warnings().to_vec(),
                env_schema: file.env_schema().cloned(),
                syntax: None,
            }
            .boxed(),
        });
    }
}

/// The summary of one Python module of the snapshot, kept by (path, blob id).
fn summarize_cached(
    path: &str,
    by_path: &FilesByPath,
    reader: &FileReader,
    summaries: &mut Summaries,
    disk: &DiskCache,
) -> Option<ModuleSummary> {
    let file = by_path.get(path)?;
    if let Content::Blob(id) = file.content
        && let Some(hit) = summaries.get(disk, path, id)
    {
        return Some((*hit).clone());
    }
    let summary = crate::pyeval::modules::summarize_source(path, &reader.read(file).ok()?)?;
    if let Content::Blob(id) = file.content {
        summaries.insert(path, id, summary.clone());
    }
    Some(summary)
}

/// The project's modules that are neither model files nor revisions but that model files
/// import (directly or within [`crate::pyeval::modules::MAX_IMPORT_HOPS`] imports): a
/// computed `__tablename__` or `__table_args__` may call a helper defined there
/// (`resolve_table_name(cls.__name__)` from `app/util/naming.py`). Their summaries depend on
/// their own bytes alone and are kept by blob id.
fn model_helper_modules(
    parsed: &[Arc<ParsedFile>],
    files: &[FileRef],
    paths: &crate::pyeval::modules::ModulePaths<'_>,
    reader: &FileReader,
    cache: &mut ParseCache,
) -> Vec<ModuleSummary> {
    use crate::pyeval::modules::reachable_modules;
    let mut known: HashMap<&str, &ModuleSummary> = HashMap::new();
    // A revision's summary is decoded only when an import reaches the revision.
    let mut revisions: HashMap<&str, &RevisionModule> = HashMap::new();
    let mut starts: Vec<&ModuleSummary> = Vec::new();
    for file in parsed {
        match &file.parsed {
            Parsed::Models(models) => {
                known.insert(&file.path, &models.summary);
                starts.push(&models.summary);
            }
            Parsed::Alembic(Some(read)) => {
                revisions.insert(&file.path, &read.1);
            }
            _ => {}
        }
    }
    if starts.is_empty() {
        return Vec::new();
    }
    let by_path = FilesByPath::new(files);
    let (summaries, disk) = (&mut cache.summaries, &cache.disk);
    let known = |path: &str| {
        known
            .get(path)
            .copied()
            .or_else(|| revisions.get(path).map(|r| r.summary()))
    };
    reachable_modules(&starts, paths, &known, &mut |path| {
        summarize_cached(path, &by_path, reader, summaries, disk)
    })
}

/// A snapshot's files by path: a binary search when they are in path order (a git listing is:
/// git orders paths by their bytes), else a map built on first use. A conflicted path is
/// listed once per stage: the last of them is found, as a map built from the list finds it.
/// At 5,000 models / 20,000 migrations the map was 25,000 entries built on every check to
/// look up the few modules the model files import.
struct FilesByPath<'f> {
    files: &'f [FileRef],
    sorted: bool,
    map: std::cell::OnceCell<HashMap<&'f str, &'f FileRef>>,
}

impl<'f> FilesByPath<'f> {
    fn new(files: &'f [FileRef]) -> FilesByPath<'f> {
        FilesByPath {
            files,
            sorted: files.is_sorted_by(|a, b| a.path <= b.path),
            map: std::cell::OnceCell::new(),
        }
    }

    fn get(&self, path: &str) -> Option<&'f FileRef> {
        if self.sorted {
            let after = self.files.partition_point(|f| *f.path <= *path);
            return after
                .checked_sub(1)
                .and_then(|at| self.files.get(at))
                .filter(|f| *f.path == *path);
        }
        self.map
            .get_or_init(|| self.files.iter().map(|f| (&*f.path, f)).collect())
            .get(path)
            .copied()
    }
}

/// The early parse of `path` at blob `id` ([`ParseCache::parse_early`]), waited for, when it
/// was parsed as the kind `config` gives the path.
fn take_early(
    early: &mut EarlyParses,
    path: &str,
    id: BlobId,
    config: &Config,
) -> Option<ParsedFile> {
    let key = (path.to_string(), id);
    if early.get(&key)?.0 != classify(path, config) {
        return None;
    }
    let (_, receiver) = early.remove(&key)?;
    // A parse that panicked sends nothing: the file is then read and parsed here. On a pool
    // thread (the command's, [`crate::on_large_stack`]) the parse, started from this thread,
    // waits in this thread's own queue until another worker takes it (never, on a pool of
    // one): the queue's work is done here until the parse has been taken. While it runs
    // elsewhere, this thread takes a share of it (its kept pieces and its classes are split
    // between threads, [`crate::pyast::PARALLEL_FROM`]) and other waiting work, for up to
    // [`HELP_FOR`]; then it waits.
    let helping = std::time::Instant::now();
    loop {
        match receiver.try_recv() {
            Ok(parsed) => return Some(parsed),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return None,
            Err(std::sync::mpsc::TryRecvError::Empty) => match rayon::yield_now() {
                Some(rayon::Yield::Executed) => {}
                Some(rayon::Yield::Idle) if helping.elapsed() < HELP_FOR => {
                    std::hint::spin_loop();
                }
                _ => return receiver.recv().ok(),
            },
        }
    }
}

/// How long [`take_early`] looks for a share of an early parse before it waits. A new edit's
/// model file parses in well under this; a waiting thread that kept looking longer would
/// only burn a core.
const HELP_FOR: std::time::Duration = std::time::Duration::from_millis(5);

#[cfg(test)]
fn parse_file(path: &str, kind: FileKind, bytes: &[u8]) -> ParsedFile {
    parse_file_with(path, kind, bytes, None)
}

/// [`parse_file`], a model file parsed with what an earlier parse of its path kept in
/// `pieces`, when given.
fn parse_file_with(
    path: &str,
    kind: FileKind,
    bytes: &[u8],
    pieces: Option<&PieceStore>,
) -> ParsedFile {
    let mut warnings = Vec::new();
    let decode = |warnings: &mut Vec<Warning>| {
        let (file, warning) = SourceFile::from_bytes(path, bytes);
        if let Some(message) = warning {
            warnings.push(Warning::at(file.location(0), message));
        }
        file
    };
    let mut syntax = None;
    let mut revision =
        |read: Option<(alembic::Revision, ModuleSummary, crate::pyast::PyModule)>| {
            read.map(|(revision, summary, module)| {
                let module_part = RevisionModule::new(summary);
                if alembic::may_import_project(&module_part.imports) {
                    syntax = Some(crate::lazy::Lazy::new(module));
                }
                (revision, module_part)
            })
        };
    let parsed = match &kind {
        // An Alembic revision may live anywhere (a plugin's chain, a Flask-Migrate folder):
        // found by content.
        FileKind::Model if alembic::may_be_revision(bytes) => {
            let file = decode(&mut warnings);
            match revision(alembic::read_revision_alone(&file, true)) {
                Some(revision) => Parsed::Alembic(Some(Box::new(revision))),
                None if models::is_candidate(bytes)
                    && !crate::discover::is_test_module(path, bytes) =>
                {
                    Parsed::Models(Box::new(models::extract_file(&file)))
                }
                None => Parsed::Nothing,
            }
        }
        FileKind::Model
            if !models::is_candidate(bytes) || crate::discover::is_test_module(path, bytes) =>
        {
            Parsed::Nothing
        }
        FileKind::Model => {
            let file = decode(&mut warnings);
            Parsed::Models(Box::new(match pieces {
                Some(pieces) => pieces.extract(&file),
                None => models::extract_file(&file),
            }))
        }
        FileKind::Sql(_) => Parsed::Sql(SqlRead::new(sql::read(&decode(&mut warnings)))),
        FileKind::Alembic(_) => Parsed::Alembic(
            revision(alembic::read_revision_alone(&decode(&mut warnings), false)).map(Box::new),
        ),
        FileKind::Config | FileKind::Other => Parsed::Nothing,
    };
    // An environment's `env.py` (never a revision): the schema it runs its revisions in.
    let env_schema = match &parsed {
        Parsed::Alembic(Some(_)) => None,
        _ if is_env_py(path) && !matches!(kind, FileKind::Sql(_)) => {
            let (file, _) = SourceFile::from_bytes(path, bytes);
            alembic::env_default_schema(&file)
        }
        _ => None,
    };
    ParsedFile {
        path: path.into(),
        kind,
        parsed,
        rare: Rare {
            warnings,
            env_schema,
            syntax,
        }
        .boxed(),
    }
}

/// Whether a path names an Alembic environment's `env.py`.
fn is_env_py(path: &str) -> bool {
    path == "env.py" || path.ends_with("/env.py")
}

/// Resolves models, assembles the migration sources, runs the rules, applies the config.
/// What a resolution kept between runs is recognised by ([`models::resolve_keeping`]), and
/// where it is kept.
struct KeptResolutions<'a> {
    disk: &'a DiskCache,
    /// The blob id of each model file, by path.
    models: HashMap<&'a str, BlobId>,
    /// A digest of the other modules' paths and blob ids (`None`: one has no blob id).
    others: Option<u64>,
    /// The kept resolution, when it is being decoded ahead of need.
    ahead: Option<&'a KeptAhead>,
}

/// The cache folder of kept resolutions.
const RESOLUTIONS: &str = "resolutions";

/// The cache folder of the rules' memos ([`rules::scope`]).
const RULE_MEMOS: &str = "rule-memos";

impl KeptResolutions<'_> {
    /// [`models::resolve_keeping`] over `model_files`, from and to the kept resolution.
    fn resolve(
        &self,
        model_files: &[&FileModels],
        helpers: &[ModuleSummary],
        options: &ResolveOptions,
        config: &Config,
    ) -> (
        Vec<ModelTable>,
        Vec<Warning>,
        crate::rules::scope::ResolutionBases,
    ) {
        let identity = models::Identity {
            files: model_files
                .iter()
                .map(|f| {
                    self.models
                        .get(f.path.as_str())
                        .map(|id| id.as_bytes().to_vec())
                })
                .collect(),
            others: self.others,
        };
        if identity.files.iter().all(Option::is_none) {
            let (tables, warnings) = models::resolve_with_modules(model_files, helpers, options);
            return (tables, warnings, Default::default());
        }
        let key = crate::cache::resolution_key(config);
        // Taken once the model index is built: a kept one decoding ahead goes on meanwhile.
        let load = || match self.ahead.map(|ahead| ahead.resolution(&key)) {
            Some(Ahead::Taken(decoded)) => decoded,
            _ => {
                let _s = span("kept resolution read");
                let bytes = self.disk.get_bytes(RESOLUTIONS, &key, "bin");
                bytes.and_then(models::decode_kept_resolution)
            }
        };
        let (tables, warnings, keep, bases) = models::resolve_keeping(
            model_files,
            helpers,
            options,
            Some(models::KeptResolution {
                identity: &identity,
                load: Box::new(load),
            }),
        );
        if let Some(keep) = keep {
            self.disk.put_soon(RESOLUTIONS, &key, "bin", keep);
        }
        (tables, warnings, bases)
    }
}

/// A digest of the modules' paths and blob ids; `None` when one has no blob id.
fn helpers_digest(helpers: &[ModuleSummary], blob: &dyn Fn(&str) -> Option<BlobId>) -> Option<u64> {
    use std::hash::BuildHasher;
    let state = foldhash::quality::FixedState::with_seed(0x5eed_0003);
    let mut digest = 0u64;
    for helper in helpers {
        let id = blob(&helper.path)?;
        digest = state.hash_one((digest, helper.path.as_str(), id.as_bytes()));
    }
    Some(digest)
}

/// `paths` and `blob_ids`: each of `parsed`'s path and blob id, by position (`None`: read from
/// disk).
#[allow(clippy::too_many_arguments)] // the snapshot's parts, each read once
fn build(
    parsed: &[Arc<ParsedFile>],
    paths: &[&str],
    blob_ids: &[Option<BlobId>],
    helpers: &[ModuleSummary],
    config: &Config,
    assembly: Assembly,
    kept: Option<KeptReplays>,
    resolution: Option<KeptResolutions>,
    memos: Option<&DiskCache>,
    mut warnings: Vec<Warning>,
) -> Analysis {
    let mut model_files: Vec<&FileModels> = Vec::new();
    let mut declared_revisions: BTreeMap<String, Vec<alembic::Revision>> = BTreeMap::new();
    let mut found_revisions: Vec<alembic::Revision> = Vec::new();
    let mut migration_files = 0;
    // One pass over the snapshot's parses (tens of thousands, each behind its own pointer)
    // gathers all that is read of every file: five passes were five walks through memory.
    let mut sql_files: Vec<SqlFile> = Vec::with_capacity(parsed.len());
    // A path is cloned only for a file that has a schema (an `env.py`), not for every file.
    let mut env_schemas: HashMap<String, String> = HashMap::new();
    // The path is cloned for each ignore comment, not for each file.
    let mut sql_ignores: Vec<(String, crate::migrations::SqlIgnore)> = Vec::new();
    for ((file, path), id) in parsed.iter().zip(paths).zip(blob_ids) {
        warnings.extend(file.warnings().iter().cloned());
        if let Some(schema) = file.env_schema() {
            env_schemas.insert(file.path.to_string(), schema.clone());
        }
        match (&file.parsed, &file.kind) {
            (Parsed::Models(models), _) => model_files.push(models),
            (Parsed::Sql(read), kind) => {
                sql_ignores.extend(
                    read.ignores()
                        .iter()
                        .map(|ignore| (file.path.to_string(), ignore.clone())),
                );
                if let FileKind::Sql(source) = kind {
                    migration_files += 1;
                    sql_files.push(SqlFile {
                        path,
                        id: *id,
                        source: *source,
                        read,
                    });
                }
            }
            (Parsed::Alembic(Some(read)), kind) => {
                let revision = &read.0;
                let declared = match kind {
                    FileKind::Alembic(path) => config
                        .sources
                        .iter()
                        .find(|s| s.kind == SourceKind::Alembic && &s.path == path),
                    _ => None,
                };
                match declared {
                    Some(source) => declared_revisions
                        .entry(source.path.clone())
                        .or_default()
                        .push(revision.clone()),
                    // With declared sources, only they are read.
                    None if !config.sources.is_empty() => continue,
                    None => found_revisions.push(revision.clone()),
                }
                migration_files += 1;
            }
            _ => {}
        }
    }
    let resolve = || {
        let _s = span("resolve models");
        let options = ResolveOptions {
            python_roots: config.python_roots.clone(),
        };
        match &resolution {
            Some(kept) => kept.resolve(&model_files, helpers, &options, config),
            None => {
                let (tables, warnings) =
                    models::resolve_with_modules(&model_files, helpers, &options);
                (tables, warnings, Default::default())
            }
        }
    };
    let alembic_envs = alembic_sources(declared_revisions, found_revisions);
    // A revision that names a model class's table (`op.add_column(Run.__tablename__, …)`)
    // replays after the models are resolved; otherwise the two run side by side.
    let needs_tables = alembic_envs
        .values()
        .flatten()
        .any(alembic::names_model_class);
    let replay = move |tables: &[ModelTable]| {
        let _s = span("file rules + assemble (replay)");
        // The handbook rules read every SQL file's statements: decoded only when one is on.
        let sql_read: Vec<SqlMigration> = if rules::handbook_on(config) {
            sql_files.iter().map(SqlFile::decoded).collect()
        } else {
            Vec::new()
        };
        let file_findings = rules::check_migration_files(&rules::MigrationFiles {
            sql: &sql_read,
            alembic: &alembic_envs,
            config,
        });
        let mut warnings = Vec::new();
        let mut failures = Vec::new();
        let sources = assemble(
            sql_files,
            alembic_envs,
            &env_schemas,
            tables,
            config,
            assembly,
            kept.as_ref(),
            &mut warnings,
            &mut failures,
        );
        let bases = kept
            .as_ref()
            .map(KeptReplays::take_bases)
            .unwrap_or_default();
        (file_findings, sources, failures, warnings, bases)
    };
    let (
        (tables, model_warnings, resolution_bases),
        (file_findings, sources, failures, replay_warnings, replay_bases),
    ) = if needs_tables {
        let resolved = resolve();
        let replayed = replay(&resolved.0);
        (resolved, replayed)
    } else {
        rayon::join(resolve, || replay(&[]))
    };
    warnings.extend(model_warnings);
    warnings.extend(replay_warnings);
    let s = span("advice");
    let failure_findings = rules::migration_will_fail::check(&failures);
    for source in &sources {
        crate::migrations::sources::advice(source, &tables, config, &mut warnings);
    }
    if sources.is_empty() && !tables.is_empty() {
        warnings.push(Warning::global(NO_MIGRATIONS));
    }

    drop(s);
    let _s = span("rules + suppressions");
    let ctx = Context {
        tables: &tables,
        sources: &sources,
        default_schema: &config.default_schema,
        declared_sources: !config.sources.is_empty(),
        external: Some(&config.external),
        memo: None,
        scope: None,
    };
    // The memo of the last analysis under this config: only the tables whose findings may
    // differ from it are checked (see `rules::scope`).
    // Its key and the sources' shape are worked out only with a cache to keep it in.
    let memos = memos.map(|disk| {
        (
            disk,
            crate::cache::rule_memo_key(config),
            rules::scope::shape(&sources),
        )
    });
    let memo: Option<rules::scope::Memo> = memos
        .as_ref()
        .and_then(|(disk, key, _)| disk.get(RULE_MEMOS, key));
    let scope = memos
        .as_ref()
        .zip(memo.as_ref())
        .and_then(|((_, _, shape), memo)| {
            rules::scope::scope(
                &tables,
                &sources,
                *shape,
                memo,
                &resolution_bases,
                &replay_bases,
            )
        });
    if let Some(scope) = &scope {
        crate::timing::count("model tables checked again", scope.len());
    }
    let lookups = ctx.lookups_for(scope.as_deref());
    let ctx = Context {
        memo: Some(&lookups),
        scope: None,
        ..ctx
    };
    let py_ignores: Vec<crate::suppress::PyIgnore> = model_files
        .iter()
        .flat_map(|m| m.ignores.iter().cloned())
        .collect();
    // Suppressions and the config apply to both lists (a suppression used by a covered
    // finding is used); they are split again afterwards.
    let checked = match &memos {
        Some((disk, key, shape)) => {
            let fresh = rules::check_per_table(&ctx, scope.as_deref());
            let per_table = match (&scope, &memo) {
                (Some(scope), Some(memo)) => rules::scope::merge(&tables, scope, fresh, memo),
                _ => fresh,
            };
            let checked = rules::settle_per_table(&ctx, &per_table);
            let keep = rules::scope::memo_to_keep(
                &tables,
                &sources,
                *shape,
                &per_table,
                &resolution_bases,
                &replay_bases,
            );
            if let Some(keep) = keep.filter(|keep| memo.as_ref() != Some(keep)) {
                disk.put_json_soon(RULE_MEMOS, key, &keep);
            }
            checked
        }
        None => rules::check_all(&ctx),
    };
    let covered_keys: HashSet<(Rule, Target)> = checked
        .covered
        .iter()
        .map(|f| (f.rule, f.target.clone()))
        .collect();
    let mut all = checked.reported;
    all.extend(checked.covered);
    all.extend(file_findings);
    all.extend(failure_findings);
    let findings = crate::suppress::apply(all, &mut warnings, &tables, &py_ignores, &sql_ignores);
    let (covered, findings): (Vec<Finding>, Vec<Finding>) = apply_config(findings, config)
        .into_iter()
        .partition(|f| covered_keys.contains(&(f.rule, f.target.clone())));
    let summary = Summary {
        model_files: count_model_files(&tables),
        tables: tables.len(),
        // Counted without decoding a kept table's columns.
        columns: tables.iter().map(|t| t.columns.count()).sum(),
        migration_files,
        findings: findings.len(),
        preexisting: 0,
    };
    warnings.sort();
    warnings.dedup();
    Analysis {
        findings,
        covered,
        warnings,
        summary,
        sources,
        tables,
    }
}

fn count_model_files(tables: &[ModelTable]) -> usize {
    tables
        .iter()
        .map(|t| &*t.location.path)
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

    /// A pack of `files`, each under blob id `id`.
    fn pack_of(files: &[ParsedFile], id: BlobId) -> Vec<u8> {
        let entries: Vec<PackEntryOut> = files
            .iter()
            .map(|file| PackEntryOut { id: &id, file })
            .collect();
        encode_pack(&entries).expect("encodes")
    }

    /// Every kind of parse survives the pack's encoding unchanged — the pack's format has no
    /// field names, so a serde attribute that skips a field would break it silently.
    #[test]
    fn a_parse_pack_round_trips_every_kind_of_parse() {
        let model = b"import enum\nfrom sqlalchemy import Column, Enum, String\nfrom sqlalchemy.orm import declarative_base\nBase = declarative_base()\nclass Kind(enum.Enum):\n    a = 1\nclass Customer(Base):\n    __tablename__ = 'customers'\n    __table_args__ = {'schema': 'core'}\n    id = Column(String, primary_key=True)  # driftguard: ignore[DG005]\n    kind = Column(Enum(Kind), nullable=False)\n";
        let sql = b"-- Migration: x\nBEGIN;\nCREATE TYPE core.kind AS ENUM ('a');\nCREATE TABLE core.customers (id text PRIMARY KEY);\nDO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'kind') THEN ALTER TABLE core.customers ADD COLUMN kind core.kind NOT NULL; END IF; END $$;\nCOMMENT ON COLUMN core.customers.kind IS 'k';\nCOMMIT;\n-- ROLLBACK\n-- DROP TABLE core.customers;\n\xff\n";
        let revision = b"from alembic import op\nimport sqlalchemy as sa\nrevision = 'b2'\ndown_revision = 'a1'\ndef upgrade():\n    op.add_column('customers', sa.Column('note', sa.Text()), schema='core')\n";
        let env = b"from alembic import context\ncontext.configure(version_table_schema='ops')\n";
        let files = [
            parse_file("app/models.py", FileKind::Model, model),
            parse_file("db/migrations/001.sql", FileKind::Sql(None), sql),
            parse_file(
                "alembic/versions/b2.py",
                FileKind::Alembic("alembic".into()),
                revision,
            ),
            parse_file("alembic/env.py", FileKind::Model, env),
            parse_file("app/other.py", FileKind::Model, b"x = 1\n"),
            // Plain SQL files (no warning, no suppression comment), read in place.
            parse_file(
                "db/migrations/002.sql",
                FileKind::Sql(None),
                b"ALTER TABLE core.customers ADD COLUMN note text;\n",
            ),
            parse_file(
                "sql/0001_init.sql",
                FileKind::Sql(Some(2)),
                b"CREATE TABLE ops.jobs (id int PRIMARY KEY);\n",
            ),
        ];
        assert!(matches!(files[0].parsed, Parsed::Models(_)));
        assert!(matches!(files[1].parsed, Parsed::Sql(_)));
        assert!(!files[1].warnings().is_empty(), "the non-UTF-8 byte warns");
        assert!(matches!(files[2].parsed, Parsed::Alembic(Some(_))));
        assert_eq!(files[3].env_schema().map(String::as_str), Some("ops"));
        // Only the files with a warning or a schema carry the rarely used part.
        let rare: Vec<bool> = files.iter().map(|f| f.rare.is_some()).collect();
        assert_eq!(rare, [false, true, false, true, false, false, false]);
        assert!(matches!(files[4].parsed, Parsed::Nothing));
        let id = BlobId::from_bytes(&[7; 20]).expect("an id");
        let bytes = pack_of(&files, id);
        let loaded = decode_pack(&Arc::new(CacheBytes::Read(bytes.clone()))).expect("decodes");
        assert_eq!(
            loaded.parses.len(),
            5,
            "the plain SQL files are in no chunk"
        );
        assert_eq!(loaded.sql.as_ref().map(PackedSql::len), Some(2));
        let decoded = loaded.all();
        assert_eq!(decoded.len(), files.len());
        let mut files: Vec<&ParsedFile> = files.iter().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        for ((decoded_id, decoded), file) in decoded.iter().zip(files) {
            let path = &decoded.path;
            assert_eq!(path, &file.path);
            assert_eq!(*decoded_id, id);
            assert_eq!(
                serde_json::to_value(&**decoded).expect("json"),
                serde_json::to_value(file).expect("json"),
                "{path}"
            );
        }
        // Not a pack, or a damaged one: a miss.
        let read = |bytes: &[u8]| Arc::new(CacheBytes::Read(bytes.to_vec()));
        assert!(decode_pack(&read(b"something else")).is_none());
        assert!(decode_pack(&read(&bytes[..bytes.len() / 2])).is_none());
    }

    /// A revision read back from a pack keeps its events encoded: only a replay of it, or a
    /// table named by a model class, decodes them. Its flags and its encoding (a kept replay's
    /// identity of it) are those of the revision as parsed.
    #[test]
    fn a_packed_revisions_events_stay_encoded_until_read() {
        let head = "from alembic import op\nimport sqlalchemy as sa\n";
        let plain = format!(
            "{head}revision = 'b2'\ndown_revision = 'a1'\ndef upgrade():\n    op.add_column('customers', sa.Column('note', sa.Text()), schema='core')\n"
        );
        let by_class = format!(
            "{head}from app.models import Customer\nrevision = 'c3'\ndown_revision = 'b2'\ndef upgrade():\n    op.add_column(Customer.__tablename__, sa.Column('kind', sa.Text()))\n"
        );
        let warned = format!(
            "{head}revision = 'd4'\ndown_revision = 'c3'\ndef upgrade():\n    for name in names():\n        op.add_column(name, sa.Column('x', sa.Text()))\n"
        );
        let files: Vec<ParsedFile> = [("b2", &plain), ("c3", &by_class), ("d4", &warned)]
            .iter()
            .map(|(id, text)| {
                parse_file(
                    &format!("alembic/versions/{id}.py"),
                    FileKind::Alembic("alembic".into()),
                    text.as_bytes(),
                )
            })
            .collect();
        let revision = |file: &ParsedFile| match &file.parsed {
            Parsed::Alembic(Some(read)) => read.0.clone(),
            other => panic!("not a revision: {other:?}"),
        };
        let fresh: Vec<alembic::Revision> = files.iter().map(revision).collect();
        let flags: Vec<(bool, bool)> = fresh.iter().map(|r| (r.warned, r.names_class)).collect();
        assert_eq!(flags, [(false, false), (false, true), (true, false)]);
        let id = BlobId::from_bytes(&[3; 20]).expect("an id");
        let loaded =
            decode_pack(&Arc::new(CacheBytes::Read(pack_of(&files, id)))).expect("decodes");
        let all = loaded.all();
        // What each revision imports is read; its module summary stays encoded.
        for (_, file) in &all {
            let Parsed::Alembic(Some(read)) = &file.parsed else {
                panic!("not a revision: {}", file.path);
            };
            assert!(!read.1.summary.is_decoded(), "{}", file.path);
            let imports: Vec<&str> = read.1.imports.iter().map(|(t, _)| t.as_str()).collect();
            assert!(imports.contains(&"alembic.op"), "{imports:?}");
            assert!(imports.contains(&"sqlalchemy"), "{imports:?}");
            assert_eq!(read.1.summary().path, *file.path);
        }
        let mut packed: Vec<alembic::Revision> =
            all.iter().map(|(_, file)| revision(file)).collect();
        packed.sort_by(|a, b| a.revision.cmp(&b.revision));
        for (packed, fresh) in packed.iter().zip(&fresh) {
            assert!(
                !packed.events.is_decoded(),
                "{} decoded early",
                packed.revision
            );
            assert_eq!(
                (packed.warned, packed.names_class),
                (fresh.warned, fresh.names_class)
            );
            assert_eq!(
                postcard::to_allocvec(packed).expect("encodes"),
                postcard::to_allocvec(fresh).expect("encodes"),
                "{}: not the identity a kept replay knows",
                packed.revision
            );
            assert!(
                !packed.events.is_decoded(),
                "{} decoded to encode",
                packed.revision
            );
            // Read from a copy: the copy decodes, the revision itself stays encoded.
            let copy = packed.clone();
            assert_eq!(copy.events(), fresh.events());
            assert!(!packed.events.is_decoded());
        }
        // A revision that names no class is left as it is; the one that does is rewritten,
        // and encodes as rewritten.
        let table_of = |class: &str| {
            (class == "Customer")
                .then(|| crate::migrations::QualifiedName::new(Some("core"), "customers"))
        };
        let [mut plain, mut by_class, _] =
            <[alembic::Revision; 3]>::try_from(packed).expect("three");
        assert!(alembic::resolve_model_tables(&mut plain, &table_of).is_empty());
        assert!(!plain.events.is_decoded());
        let before = postcard::to_allocvec(&by_class).expect("encodes");
        assert!(alembic::resolve_model_tables(&mut by_class, &table_of).is_empty());
        assert!(!by_class.names_class, "no class name is left");
        assert_ne!(postcard::to_allocvec(&by_class).expect("encodes"), before);
        let tables: Vec<String> = by_class
            .events()
            .changes
            .iter()
            .cloned()
            .flat_map(|mut change| {
                let mut names = Vec::new();
                change.for_each_table_mut(&mut |name| names.push(format!("{name:?}")));
                names
            })
            .collect();
        assert!(tables.iter().all(|t| t.contains("customers")), "{tables:?}");
    }

    #[test]
    fn files_are_found_by_path_in_a_sorted_listing_and_in_any_other_order() {
        let id = |n: u8| Content::Blob(crate::git::BlobId::from_bytes(&[n; 20]).expect("id"));
        let file = |path: &str, n: u8| FileRef {
            path: path.into(),
            content: id(n),
        };
        // In git's order: a conflicted path listed once per stage, and `a-b` before `a/c`.
        let sorted = vec![
            file("a-b.py", 1),
            file("a/c.py", 2),
            file("app/models.py", 3),
            file("app/models.py", 4),
            file("app/models.py", 5),
            file("z.py", 6),
        ];
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        shuffled.swap(0, 4);
        for files in [&sorted, &shuffled] {
            let by_path = FilesByPath::new(files);
            assert_eq!(by_path.sorted, std::ptr::eq(files, &sorted));
            let map: HashMap<&str, &FileRef> = files.iter().map(|f| (&*f.path, f)).collect();
            for path in [
                "a-b.py",
                "a/c.py",
                "app/models.py",
                "z.py",
                "a",
                "app",
                "zz.py",
                "",
            ] {
                assert_eq!(
                    by_path.get(path).map(|f| &f.content),
                    map.get(path).map(|f| &f.content),
                    "{path}"
                );
            }
        }
        assert_eq!(
            FilesByPath::new(&sorted)
                .get("app/models.py")
                .map(|f| &f.content),
            Some(&id(5))
        );
        assert!(FilesByPath::new(&[]).get("a").is_none());
    }

    #[test]
    fn a_kept_state_decoded_ahead_is_taken_once_under_its_own_key() {
        let slot = |key: &str, value: Option<u32>| {
            let key = key.to_string();
            AheadSlot::start(move || (key, value))
        };
        let taken = slot("k", Some(7));
        assert!(matches!(
            KeptAhead::take(&taken, "k"),
            Ahead::Taken(Some(7))
        ));
        assert!(matches!(KeptAhead::take(&taken, "k"), Ahead::Gone));
        // Nothing kept under the key: taken as nothing, and read by no one else.
        let empty = slot("k", None);
        assert!(matches!(KeptAhead::take(&empty, "k"), Ahead::Taken(None)));
        // Another key (or none remembered): the first to ask misses, and later ones read the
        // cache as before.
        let other = slot("k", Some(7));
        assert!(matches!(KeptAhead::take(&other, "j"), Ahead::Missed));
        assert!(matches!(KeptAhead::take(&other, "k"), Ahead::Gone));
        // A decoding that panicked (on the pool, or here): nothing to take, never a wait.
        let panicked = AheadSlot::<u32>::start(|| panic!("a damaged kept state"));
        let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            KeptAhead::take(&panicked, "k")
        }));
        assert!(matches!(asked, Ok(Ahead::Gone) | Err(_)));
        assert!(matches!(KeptAhead::take(&panicked, "k"), Ahead::Gone));
    }

    #[test]
    fn a_pack_loads_in_its_order_and_every_file_finds_its_parse_in_any_order() {
        // Three chunks, runs of the order the pack was written in: taken back in that order.
        let id = |k: u8| BlobId::from_bytes(&[k; 20]).expect("an id");
        let mut entries: Vec<(BlobId, ParsedFile)> = numbered_sql_parses(PACK_CHUNK * 2 + 7)
            .into_iter()
            .enumerate()
            .map(|(i, file)| (id(u8::try_from(i % 3).expect("small")), file))
            .collect();
        // One path at two blob ids (both sides of a change), kept side by side.
        let twin = parse_file(
            "db/migrations/00003.sql",
            FileKind::Sql(None),
            b"ALTER TABLE t3 ADD COLUMN d text;\n",
        );
        entries.push((id(9), twin));
        let out: Vec<PackEntryOut> = {
            let mut out: Vec<PackEntryOut> = entries
                .iter()
                .map(|(id, file)| PackEntryOut { id, file })
                .collect();
            out.sort_by(|a, b| {
                (&a.file.path, a.id.as_bytes()).cmp(&(&b.file.path, b.id.as_bytes()))
            });
            out
        };
        let bytes = encode_pack(&out).expect("encodes");
        let loaded = decode_pack(&Arc::new(CacheBytes::Read(bytes))).expect("decodes");
        let order = |parses: &[PackParse]| -> Vec<(String, BlobId)> {
            parses
                .iter()
                .map(|(id, f)| (f.path.to_string(), *id))
                .collect()
        };
        let written: Vec<(String, BlobId)> = out
            .iter()
            .map(|e| (e.file.path.to_string(), *e.id))
            .collect();
        assert_eq!(order(&loaded.all()), written);
        let mut parses = Parses(foldhash::HashMap::default(), loaded.parses, loaded.sql);
        // A fresh parse, kept in the map; one the pack holds already is not kept twice.
        let fresh = Arc::new(parse_file(
            "db/migrations/99999.sql",
            FileKind::Sql(None),
            b"CREATE TABLE z (id int);\n",
        ));
        parses.insert(id(5), Arc::clone(&fresh));
        let again = Arc::new(parse_file(
            "db/migrations/00004.sql",
            FileKind::Sql(None),
            b"ALTER TABLE t4 ADD COLUMN c4 text;\n",
        ));
        parses.insert(id(1), again);
        assert_eq!(parses.iter().count(), entries.len() + 1);
        let file = |path: &str, k: u8| FileRef {
            path: path.into(),
            content: Content::Blob(id(k)),
        };
        let mut files = vec![
            file("db/migrations/00001.sql", 1),
            file("db/migrations/00003.sql", 0),
            file("db/migrations/00003.sql", 9),
            file("db/migrations/00004.sql", 2),
            file("db/migrations/00500.sql", 2),
            file("db/migrations/99999.sql", 5),
        ];
        let found = |files: &[FileRef]| -> Vec<Option<String>> {
            parses
                .find_all(files)
                .into_iter()
                .map(|f| f.map(|f| f.path.to_string()))
                .collect()
        };
        let expected: Vec<Option<String>> = vec![
            Some("db/migrations/00001.sql".into()),
            Some("db/migrations/00003.sql".into()),
            Some("db/migrations/00003.sql".into()),
            // 00004 is at blob 1 in the pack, not 2.
            None,
            Some("db/migrations/00500.sql".into()),
            Some("db/migrations/99999.sql".into()),
        ];
        assert_eq!(found(&files), expected);
        // Out of the pack's order: the same answers.
        files.reverse();
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(found(&files), reversed);
        assert!(parses.get("db/migrations/00003.sql", id(9)).is_some());
        assert!(parses.get("db/migrations/00003.sql", id(4)).is_none());
        assert!(parses.get("db/migrations/00004.sql", id(1)).is_some());
    }

    #[test]
    fn parses_of_one_blob_at_several_paths_are_kept_once_each() {
        let id = BlobId::from_bytes(&[3; 20]).expect("an id");
        let sql = b"CREATE TABLE t (id int);\n";
        let parse = |path: &str| Arc::new(parse_file(path, FileKind::Sql(None), sql));
        let mut parses = Parses::default();
        parses.insert(id, parse("a/0001.sql"));
        parses.insert(id, parse("b/0001.sql"));
        parses.insert(id, parse("a/0001.sql"));
        parses.insert(id, parse("c/0001.sql"));
        parses.insert(id, parse("b/0001.sql"));
        let mut paths: Vec<&str> = parses.iter().map(|(_, f)| &*f.path).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["a/0001.sql", "b/0001.sql", "c/0001.sql"]);
        for path in paths {
            assert_eq!(parses.get(path, id).map(|f| &*f.path), Some(path));
        }
        assert!(parses.get("d/0001.sql", id).is_none());
        let other = BlobId::from_bytes(&[4; 20]).expect("an id");
        assert!(parses.get("a/0001.sql", other).is_none());
    }

    #[test]
    fn a_mapped_pack_gives_the_parses_a_read_one_gives() {
        let config = Config::default();
        // Model files whose module summaries hold lazy parts, enough of them for the pack to
        // be mapped rather than read.
        let files: Vec<ParsedFile> = (0..400)
            .map(|i| {
                let source = format!(
                    "from sqlalchemy import Column, String\nfrom app.base import Base\n\n\nclass Customer{i}(Base):\n    __tablename__ = 'customers_{i}'\n    id = Column(String, primary_key=True)\n    email = Column(String)\n\n    def label(self):\n        return self.email or 'none {i}'\n"
                );
                parse_file(
                    &format!("app/models/m{i:04}.py"),
                    FileKind::Model,
                    source.as_bytes(),
                )
            })
            .collect();
        let bytes = pack_of(&files, BlobId::from_bytes(&[5; 20]).expect("an id"));
        assert!(
            bytes.len() as u64 >= crate::cache::MAP_FROM,
            "{} bytes: too few to be mapped",
            bytes.len()
        );
        let dir = tempfile::tempdir().expect("a temporary folder");
        let disk = DiskCache::in_git_dir(dir.path());
        disk.put_bytes("packs", &pack_key(&config), "bin", &bytes);
        let mapped = disk
            .get_bytes("packs", &pack_key(&config), "bin")
            .expect("kept");
        assert!(matches!(mapped, CacheBytes::Mapped(_)));
        // By path, as a pack's chunks are cut.
        let json = |parses: Vec<PackParse>| -> Vec<serde_json::Value> {
            let mut all: Vec<(String, serde_json::Value)> = parses
                .iter()
                .map(|(_, file)| {
                    (
                        file.path.to_string(),
                        serde_json::to_value(&**file).unwrap(),
                    )
                })
                .collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all.into_iter().map(|(_, json)| json).collect()
        };
        let from_map = json(decode_pack(&Arc::new(mapped)).expect("decodes").all());
        let from_read = json(
            decode_pack(&Arc::new(CacheBytes::Read(bytes)))
                .expect("decodes")
                .all(),
        );
        assert_eq!(from_map.len(), files.len());
        assert_eq!(from_map, from_read);
        let prefetched = {
            let mut cache = ParseCache::with_disk(DiskCache::in_git_dir(dir.path()));
            cache.prefetch(&config);
            let parses = cache.parses_for(&config);
            let mut all: Vec<(String, serde_json::Value)> = parses
                .all()
                .map(|(_, file)| {
                    (
                        file.path.to_string(),
                        serde_json::to_value(&**file).unwrap(),
                    )
                })
                .collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all.into_iter().map(|(_, json)| json).collect::<Vec<_>>()
        };
        assert_eq!(prefetched, from_read);
    }

    /// `count` parses of one-statement SQL files, `db/migrations/00000.sql` on.
    fn numbered_sql_parses(count: usize) -> Vec<ParsedFile> {
        sql_parses(count, "")
    }

    /// `count` parses of SQL migration files, each starting with `head`.
    fn sql_parses(count: usize, head: &str) -> Vec<ParsedFile> {
        (0..count)
            .map(|i| {
                let sql = format!("{head}ALTER TABLE t{i} ADD COLUMN c{i} text;\n");
                parse_file(
                    &format!("db/migrations/{i:05}.sql"),
                    FileKind::Sql(None),
                    sql.as_bytes(),
                )
            })
            .collect()
    }

    #[test]
    fn a_packs_chunks_are_runs_of_its_order_of_about_equal_weight() {
        // Three model files of 60 classes sort before 1,200 SQL files: by count they would
        // make one chunk that weighs as much as all the others.
        let mut files: Vec<ParsedFile> = (0..3)
            .map(|f| {
                let mut text = String::from(
                    "from sqlalchemy.orm import Mapped, mapped_column\nfrom app.base import Base\n",
                );
                for c in 0..60 {
                    text.push_str(&format!(
                        "\n\nclass M{f}x{c}(Base):\n    __tablename__ = \"t{f}x{c}\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                    ));
                }
                parse_file(
                    &format!("app/models/m{f}.py"),
                    FileKind::Model,
                    text.as_bytes(),
                )
            })
            .collect();
        assert!(files.iter().all(|f| pack_weight(f) == 181));
        // With a suppression comment, so that they are not plain (read in place, in no chunk).
        files.extend(sql_parses(1200, "-- driftguard: ignore[DG201]\n"));
        let id = BlobId::from_bytes(&[7; 20]).expect("an id");
        let out: Vec<PackEntryOut> = files
            .iter()
            .map(|file| PackEntryOut { id: &id, file })
            .collect();
        let bytes = Arc::new(CacheBytes::Read(encode_pack(&out).expect("encodes")));
        let chunks: Vec<Vec<PackParse>> = pack_frames(&bytes)
            .expect("chunks")
            .2
            .into_iter()
            .map(|range| decode_chunk(&bytes, range).expect("decodes"))
            .collect();
        let weights: Vec<usize> = chunks
            .iter()
            .map(|c| c.iter().map(|(_, f)| pack_weight(f)).sum())
            .collect();
        // 1,743 in all: four chunks of about 436, none more than a share and one parse over.
        assert_eq!(weights.len(), 4, "{weights:?}");
        assert!(
            weights.iter().all(|w| (300..=436 + 181).contains(w)),
            "{weights:?}"
        );
        // Taken back in the order written.
        let paths: Vec<String> = chunks
            .iter()
            .flatten()
            .map(|(_, f)| f.path.to_string())
            .collect();
        let written: Vec<String> = files.iter().map(|f| f.path.to_string()).collect();
        assert_eq!(paths, written);
    }

    #[test]
    fn a_prefetched_pack_gives_the_parses_a_plain_load_gives() {
        let config = Config::default();
        // Three chunks (files with a suppression comment: no plain SQL files, which no chunk
        // holds): the prefetch thread and the check decode them between them.
        let files = sql_parses(PACK_CHUNK * 2 + 7, "-- driftguard: ignore[DG201]\n");
        let bytes = pack_of(&files, BlobId::from_bytes(&[9; 20]).expect("an id"));
        let as_json = |parses: &Parses| {
            let mut all: Vec<(String, serde_json::Value)> = parses
                .all()
                .map(|(_, file)| {
                    (
                        file.path.to_string(),
                        serde_json::to_value(&**file).unwrap(),
                    )
                })
                .collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        };
        let load = |bytes: &[u8], prefetch: bool| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let disk = DiskCache::in_git_dir(dir.path());
            disk.put_bytes("packs", &pack_key(&config), "bin", bytes);
            let mut cache = ParseCache::with_disk(disk);
            if prefetch {
                cache.prefetch(&config);
            }
            as_json(cache.parses_for(&config))
        };
        let plain = load(&bytes, false);
        assert_eq!(plain.len(), files.len());
        assert_eq!(load(&bytes, true), plain);
        // A damaged pack is a miss either way.
        assert!(load(&bytes[..bytes.len() - 3], true).is_empty());
        assert!(load(b"something else", true).is_empty());
        // A prefetch under another config is left for that config.
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut cache = ParseCache::with_disk(DiskCache::in_git_dir(dir.path()));
        let other = Config {
            fingerprint: "another".into(),
            ..Config::default()
        };
        cache.prefetch(&other);
        assert!(cache.parses_for(&config).is_empty());
        assert!(cache.prefetched.is_some());
    }

    /// A pack's plain SQL files are read where they lie: nothing is decoded when the pack
    /// loads, each file's parse is made once, with the snapshot's path, when a snapshot asks,
    /// and it reads as the file's own parse.
    #[test]
    fn a_packs_plain_sql_files_are_made_when_a_snapshot_asks_for_them() {
        let id = |n: u8| BlobId::from_bytes(&[n; 20]).expect("an id");
        let mut entries: Vec<(BlobId, ParsedFile)> = sql_parses(6, "")
            .into_iter()
            .enumerate()
            .map(|(i, file)| (id(i as u8), file))
            .collect();
        // The same path at two blobs; a file with a suppression comment (in a chunk).
        entries.extend(sql_parses(1, "").into_iter().map(|file| (id(40), file)));
        entries.push((
            id(41),
            parse_file(
                "db/migrations/00002a.sql",
                FileKind::Sql(Some(1)),
                b"-- driftguard: ignore[DG201]\nCREATE TABLE n (id int);\n",
            ),
        ));
        let mut out: Vec<PackEntryOut> = entries
            .iter()
            .map(|(id, file)| PackEntryOut { id, file })
            .collect();
        out.sort_by(|a, b| (&a.file.path, a.id.as_bytes()).cmp(&(&b.file.path, b.id.as_bytes())));
        let bytes = Arc::new(CacheBytes::Read(encode_pack(&out).expect("encodes")));
        let loaded = decode_pack(&bytes).expect("decodes");
        assert_eq!(loaded.parses.len(), 1);
        let sql = loaded.sql.expect("plain SQL files");
        assert_eq!(sql.len(), 7);
        assert_eq!(sql.made().count(), 0, "nothing made before a snapshot asks");
        let parses = Parses(foldhash::HashMap::default(), loaded.parses, Some(sql));
        let file = |path: &str, n: u8| FileRef {
            path: path.into(),
            content: Content::Blob(id(n)),
        };
        let files = vec![
            file("db/migrations/00000.sql", 40),
            file("db/migrations/00000.sql", 0),
            file("db/migrations/00002.sql", 2),
            file("db/migrations/00002a.sql", 41),
            file("db/migrations/00003.sql", 9),
            file("db/migrations/00005.sql", 5),
            // Out of the pack's order: found by a search.
            file("db/migrations/00001.sql", 1),
        ];
        let found = parses.find_all(&files);
        let paths: Vec<Option<&str>> = found
            .iter()
            .map(|f| f.as_deref().map(|f| &*f.path))
            .collect();
        assert_eq!(
            paths,
            [
                Some("db/migrations/00000.sql"),
                Some("db/migrations/00000.sql"),
                Some("db/migrations/00002.sql"),
                Some("db/migrations/00002a.sql"),
                None,
                Some("db/migrations/00005.sql"),
                Some("db/migrations/00001.sql"),
            ]
        );
        // Found in order, a parse holds the snapshot's own path.
        let first = found[0].as_ref().expect("found");
        assert!(Arc::ptr_eq(&first.path, &files[0].path));
        // Made once: asked again, the same parse.
        let again = parses.find_all(&files[..1]);
        assert!(Arc::ptr_eq(first, again[0].as_ref().expect("found")));
        assert_eq!(parses.iter().count(), 6, "five made, one decoded");
        // Each reads as the file's own parse: kind, source, events.
        for (file, parse) in files.iter().zip(&found) {
            let Some(parse) = parse else { continue };
            let Content::Blob(blob) = file.content else {
                continue;
            };
            let (_, own) = entries
                .iter()
                .find(|(id, own)| *id == blob && own.path == file.path)
                .expect("written");
            assert_eq!(parse.kind, own.kind);
            assert_eq!(
                serde_json::to_value(&**parse).expect("json"),
                serde_json::to_value(own).expect("json"),
                "{}",
                file.path
            );
        }
        // A fresh parse of a file the pack holds is not kept twice.
        let mut parses = parses;
        parses.insert(
            id(3),
            Arc::new(parse_file(
                "db/migrations/00003.sql",
                FileKind::Sql(None),
                b"ALTER TABLE t3 ADD COLUMN c3 text;\n",
            )),
        );
        assert!(parses.0.is_empty());
        assert_eq!(parses.iter().count(), 6, "nor made by the insert");
        assert!(parses.get("db/migrations/00003.sql", id(3)).is_some());
        assert_eq!(parses.iter().count(), 7, "made when asked for");
    }

    /// A damaged frame of plain SQL files: too short for its count, no files; a record whose
    /// bytes lie outside it, no parse (the file is parsed again).
    #[test]
    fn a_damaged_frame_of_plain_sql_files_holds_no_parse() {
        let files = numbered_sql_parses(2);
        let id = BlobId::from_bytes(&[3; 20]).expect("an id");
        let plain: Vec<_> = files
            .iter()
            .map(|file| plain_sql(&id, file))
            .collect::<Option<Vec<_>>>()
            .expect("plain");
        let frame = encode_sql_files(&plain).expect("encodes");
        let whole = PackedSql::new(Arc::new(CacheBytes::Read(frame.clone())), 0..frame.len())
            .expect("a frame");
        assert!(whole.parse(1, None).is_some());
        // Cut short: the count promises more records than there are.
        let short = frame[..4 + SQL_RECORD].to_vec();
        assert!(
            PackedSql::new(Arc::new(CacheBytes::Read(short.clone())), 0..short.len()).is_none()
        );
        // The second record's path placed past the frame's end.
        let mut bad = frame.clone();
        let at = 4 + SQL_RECORD + 20 + 4;
        bad[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let damaged =
            PackedSql::new(Arc::new(CacheBytes::Read(bad.clone())), 0..bad.len()).expect("a frame");
        assert!(damaged.parse(0, None).is_some());
        assert!(damaged.parse(1, None).is_none());
        assert_eq!(damaged.find("db/migrations/00001.sql", id), None);
    }

    #[test]
    fn a_pack_tells_which_parses_it_holds_without_decoding_them() {
        let config = Config::default();
        let id = BlobId::from_bytes(&[9; 20]).expect("an id");
        let other_id = BlobId::from_bytes(&[8; 20]).expect("an id");
        let files = numbered_sql_parses(PACK_CHUNK + 7);
        let bytes = pack_of(&files, id);
        let (ids, _, chunks) = pack_frames(&bytes).expect("a pack");
        assert_eq!(ids.len(), files.len() * 8);
        // Plain SQL files all: one chunk, empty.
        assert_eq!(chunks.len(), 1);
        let index = PackIds(&bytes[ids]);
        for file in &files {
            assert!(index.holds(&file.path, id), "{}", file.path);
            assert!(!index.holds(&file.path, other_id), "{}", file.path);
        }
        assert!(!index.holds("db/migrations/never.sql", id));
        assert!(!PackIds(&[]).holds(&files[0].path, id));
        // An index that is not whole ids, or a pack of the previous format: no pack.
        let mut odd = PACK_MAGIC.to_vec();
        odd.extend(3u64.to_le_bytes());
        odd.extend([1, 2, 3]);
        assert!(pack_frames(&odd).is_none());
        let mut previous = b"driftguard parse pack 9\n".to_vec();
        previous.extend_from_slice(&bytes[PACK_MAGIC.len()..]);
        assert!(pack_frames(&previous).is_none());
        // Asked of the check's cache: only under the config the pack was prefetched for.
        let dir = tempfile::tempdir().expect("a temporary folder");
        let disk = DiskCache::in_git_dir(dir.path());
        disk.put_bytes("packs", &pack_key(&config), "bin", &bytes);
        let mut cache = ParseCache::with_disk(disk);
        assert!(
            !cache.packed(&config, &files[0].path, id),
            "nothing prefetched"
        );
        cache.prefetch(&config);
        assert!(cache.packed(&config, &files[0].path, id));
        assert!(!cache.packed(&config, &files[0].path, other_id));
        let other = Config {
            fingerprint: "another".into(),
            ..Config::default()
        };
        assert!(!cache.packed(&other, &files[0].path, id));
        // The pack still decodes whole after its index was asked.
        assert_eq!(cache.parses_for(&config).all().count(), files.len());
    }

    /// Runs `f` while every thread of the global pool waits (on jobs queued before it), and
    /// fails instead of hanging when `f` waits for work the pool never starts.
    fn with_pool_busy<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        use std::sync::mpsc;
        use std::time::Duration;
        let (started, busy) = mpsc::channel();
        let mut releases = Vec::new();
        for _ in 0..rayon::current_num_threads() {
            let (release, wait) = mpsc::channel::<()>();
            releases.push(release);
            let started = started.clone();
            rayon::spawn(move || {
                let _ = started.send(());
                let _ = wait.recv();
            });
        }
        // The pool may be busy with other tests' work first; either way, nothing queued
        // after the blocking jobs runs before `f` is done.
        for _ in 0..rayon::current_num_threads() {
            let _ = busy.recv_timeout(Duration::from_secs(5));
        }
        let (sender, result) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(f());
        });
        let got = result.recv_timeout(Duration::from_secs(60));
        drop(releases);
        got.expect("the work was done by the thread that needed it, not waited for")
    }

    #[test]
    fn a_thread_that_needs_a_running_decoding_decodes_the_parts_no_thread_has_claimed() {
        use std::sync::mpsc;
        use std::time::Duration;
        // The pool is busy, so only the thread that asks can take the second part; the first
        // part waits for the second to be decoded.
        let (helped, waited) = with_pool_busy(|| {
            let offer = Arc::new(crate::cache::Offer::default());
            let bytes = Arc::new(crate::cache::framed(b"m\n", &[vec![0], vec![1]]));
            let parts = crate::cache::frames(&bytes, b"m\n").expect("framed");
            let (second, first_waits) = mpsc::channel::<()>();
            let first_waits = std::sync::Mutex::new(first_waits);
            let decoding = {
                let offer = Arc::clone(&offer);
                std::thread::spawn(move || {
                    offer.during(|| {
                        crate::cache::decode_parts(bytes, parts, move |i, _| match i {
                            0 => first_waits
                                .lock()
                                .ok()?
                                .recv_timeout(Duration::from_secs(20))
                                .ok()
                                .map(|()| "waited for the second part"),
                            _ => second
                                .send(())
                                .ok()
                                .map(|()| "decoded by the thread that asked"),
                        })
                    })
                })
            };
            // The decoding offers its parts once it has started.
            let mut helped = false;
            for _ in 0..2_000 {
                if offer.help() {
                    helped = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            (helped, decoding.join().ok().flatten())
        });
        assert!(helped, "the running decoding offered its parts");
        assert_eq!(
            waited,
            Some(vec![
                "waited for the second part",
                "decoded by the thread that asked"
            ])
        );
    }

    #[test]
    fn a_kept_state_the_pool_has_not_started_is_decoded_by_the_analysis_that_asks() {
        let taken = with_pool_busy(|| {
            let slot = AheadSlot::start(|| ("key".to_string(), Some(41_u32 + 1)));
            let first = KeptAhead::take(&slot, "key");
            let again = KeptAhead::take(&slot, "key");
            (first, again)
        });
        assert!(matches!(taken.0, Ahead::Taken(Some(42))));
        assert!(matches!(taken.1, Ahead::Gone));
    }

    #[test]
    fn a_pack_the_pool_has_not_started_is_read_by_the_check_that_needs_it() {
        let config = Config::default();
        let files = sql_parses(PACK_CHUNK + 3, "-- driftguard: ignore[DG201]\n");
        let bytes = pack_of(&files, BlobId::from_bytes(&[7; 20]).expect("an id"));
        let dir = tempfile::tempdir().expect("a temporary folder");
        let disk = DiskCache::in_git_dir(dir.path());
        disk.put_bytes("packs", &pack_key(&config), "bin", &bytes);
        let root = dir.path().to_path_buf();
        let paths = with_pool_busy(move || {
            let mut cache = ParseCache::with_disk(DiskCache::in_git_dir(&root));
            cache.prefetch(&config);
            let mut paths: Vec<String> = cache
                .parses_for(&config)
                .all()
                .map(|(_, file)| file.path.to_string())
                .collect();
            paths.sort();
            paths
        });
        let mut expected: Vec<String> = files.iter().map(|f| f.path.to_string()).collect();
        expected.sort();
        assert_eq!(paths, expected);
    }

    #[test]
    fn an_early_parse_is_taken_as_its_kind_and_gives_what_reading_gives() {
        let config = Config::default();
        let model = "apps/backend/src/db/models/customer.py";
        let sql = "database/migrations/0001_customers.sql";
        let model_bytes = b"from sqlalchemy import Column, String\nfrom sqlalchemy.orm import declarative_base\nBase = declarative_base()\nclass Customer(Base):\n    __tablename__ = 'customers'\n    id = Column(String, primary_key=True)\n    email = Column(String)\n".to_vec();
        let sql_bytes = b"CREATE TABLE customers (id text PRIMARY KEY);\n".to_vec();
        assert_eq!(classify(model, &config), FileKind::Model);
        assert!(matches!(classify(sql, &config), FileKind::Sql(_)));
        let dir = tempfile::tempdir().expect("a temporary folder");
        for (path, bytes) in [(model, &model_bytes), (sql, &sql_bytes)] {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("a folder")).expect("folders");
            std::fs::write(full, bytes).expect("a file");
        }
        let (model_id, sql_id) = (
            BlobId::from_bytes(&[1; 20]).expect("an id"),
            BlobId::from_bytes(&[2; 20]).expect("an id"),
        );
        let files = vec![
            FileRef {
                path: model.into(),
                content: Content::Blob(model_id),
            },
            FileRef {
                path: sql.into(),
                content: Content::Blob(sql_id),
            },
        ];
        let reader = FileReader {
            repo: None,
            root: dir.path().to_path_buf(),
        };
        let shown = |analysis: &Analysis| {
            format!(
                "{:?}\n{:?}\n{:?}",
                analysis.findings, analysis.tables, analysis.warnings
            )
        };
        let read = analyze(&files, &reader, &config, &mut ParseCache::default());
        assert_eq!(read.findings.len(), 1, "{}", shown(&read));
        let mut cache = ParseCache::default();
        cache.parse_early(vec![
            (model.into(), model_id, FileKind::Model, model_bytes.clone()),
            (sql.into(), sql_id, classify(sql, &config), sql_bytes),
        ]);
        // Gone from disk: what the analysis finds now comes from the early parses.
        std::fs::remove_dir_all(dir.path().join("apps")).expect("removed");
        std::fs::remove_dir_all(dir.path().join("database")).expect("removed");
        let early = analyze(&files, &reader, &config, &mut cache);
        assert_eq!(shown(&early), shown(&read));
        assert!(cache.early.is_empty());
        // Parsed as another kind than the config gives: left alone, and the file is read.
        let mut cache = ParseCache::default();
        cache.parse_early(vec![(model.into(), model_id, FileKind::Other, model_bytes)]);
        let unread = analyze(&files[..1], &reader, &config, &mut cache);
        assert!(unread.tables.is_empty());
        assert!(
            unread.warnings.iter().any(|w| w.message.contains(model)),
            "{:?}",
            unread.warnings
        );
        assert_eq!(cache.early.len(), 1);
    }

    /// Files read over several batches (more than [`PARSE_BATCH_FILES`], one cut early by
    /// [`PARSE_BATCH_BYTES`]) are each parsed once and replayed in their listing's order, with
    /// the ones that cannot be read warned of in that order too. The first batch holds a file
    /// of a megabyte, so that it ends after batches spawned after it.
    #[test]
    fn files_parsed_batch_by_batch_keep_their_order() {
        let config = Config::default();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let folder = dir.path().join("database/migrations");
        std::fs::create_dir_all(&folder).expect("folders");
        let count = 3 * PARSE_BATCH_FILES + 5;
        let missing = [40, 80];
        let padded = |i: usize, sql: String| match i {
            1 => format!("-- {}\n{sql}", "x".repeat(1 << 20)),
            50 => format!("-- {}\n{sql}", "y".repeat(PARSE_BATCH_BYTES)),
            _ => sql,
        };
        let files: Vec<FileRef> = (0..count)
            .map(|i| {
                let path = format!("database/migrations/{i:04}.sql");
                let sql = match i {
                    0 => "CREATE TABLE t (id int);\n".to_string(),
                    _ => format!("ALTER TABLE t ADD COLUMN c_{i} int;\n"),
                };
                if !missing.contains(&i) {
                    std::fs::write(dir.path().join(&path), padded(i, sql)).expect("a file");
                }
                let id = u8::try_from(i).expect("fewer than 256 files");
                FileRef {
                    path: path.into(),
                    // Blob ids, for the parses to be counted; read from the folder, as there
                    // is no repository.
                    content: Content::Blob(BlobId::from_bytes(&[id; 20]).expect("an id")),
                }
            })
            .collect();
        let reader = FileReader {
            repo: None,
            root: dir.path().to_path_buf(),
        };
        let mut cache = ParseCache::default();
        let analysis = analyze(&files, &reader, &config, &mut cache);
        let table = analysis
            .sources
            .iter()
            .find_map(|source| source.schema.table("public", "t"))
            .expect("the table replayed");
        let columns: Vec<(String, String)> = table
            .columns
            .iter()
            .map(|c| (c.name.to_string(), c.location.path.to_string()))
            .collect();
        let expected: Vec<(String, String)> = (0..count)
            .filter(|i| !missing.contains(i))
            .map(|i| match i {
                0 => ("id".to_string(), "database/migrations/0000.sql".to_string()),
                _ => (format!("c_{i}"), format!("database/migrations/{i:04}.sql")),
            })
            .collect();
        assert_eq!(columns, expected);
        let pack = cache
            .packs
            .get(&config.fingerprint)
            .expect("the parses counted");
        assert_eq!(pack.fresh, count - missing.len());
        assert_eq!(pack.used.len(), count - missing.len());
        let unread: Vec<&str> = analysis
            .warnings
            .iter()
            .filter(|w| w.message.starts_with("cannot read"))
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(unread.len(), 2, "{unread:?}");
        assert!(unread[0].contains("0040.sql") && unread[1].contains("0080.sql"));
    }

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
