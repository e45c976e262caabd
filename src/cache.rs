//! The on-disk parse cache of change checks, keyed by git blob id.
//!
//! A pre-commit check reads two snapshots (HEAD and the index) of a whole project; almost every
//! file is the same blob as in the previous run. This cache keeps, under the repository's git
//! directory (`<common dir>/driftguard/cache-v1/`, never in the work tree):
//!
//! - `packs/<key>.bin`: the *parse pack* — every file's parse (model extraction, SQL events,
//!   Alembic revision) by path and blob id, in one binary file per build and config (see
//!   [`crate::project::ParseCache`]): reading thousands of blobs and parsing them is the
//!   slowest step of a check, and a new edit changes only a few of them;
//! - `replays/<key>.bin`: the last replay of the migrations, which a check whose migrations
//!   grew at the end goes on from ([`crate::schema::resume`]);
//! - `trees/<key>.bin`: the files of a large tree (HEAD's, a merge base's) by tree id and
//!   build, read back instead of walking the tree again ([`crate::git::KeptTrees`]);
//! - `resolutions/<key>.bin` and `modules/<key>.bin`: the last model resolution and the
//!   summaries of the modules model files import, which a check goes on from;
//! - `tree-keys/` and `replay-keys/`: small files remembering the snapshot key of a tree and
//!   the key of a config's replay, so that a check finds HEAD's findings without classifying
//!   its paths, and decodes the kept replay while it lists its snapshots;
//! - `tree-kinds/<key>.bin`: what each path of a tree is under a config (model, migration,
//!   config, other), so that the index's paths take HEAD's kinds and only the paths a change
//!   adds are classified;
//! - `findings/<key>.json`: the findings, warnings and counts of a whole snapshot, keyed by
//!   every relevant (path, blob id), the config text and the driftguard version — the snapshot a
//!   commit leaves behind is the next check's *before* side.
//!
//! The cache is best effort: a file that cannot be read, written or decoded is a miss, never an
//! error. Keys include the driftguard version and build and the config's fingerprint, so an
//! upgrade or a config edit never reads an old result.
//!
//! **Bounded**: after a run that wrote to it, the cache is trimmed to [`MAX_BYTES`] (or
//! `DRIFTGUARD_CACHE_MAX_MB`), least recently used first (a hit refreshes an entry's
//! modification time). What a trim costs does not grow with the cache: a small ledger file
//! (`cache-v1/ledger`) holds the size the last sweep found plus what runs wrote since, and
//! the folder is swept (every entry's size and time read) only when that estimate passes the
//! cap or the last sweep is a day old ([`SWEEP_EVERY`]). `driftguard cache clean` deletes the
//! whole folder; deleting `.git/driftguard/` by hand is as safe.
//!
//! **Safe with two hooks at once**: every write goes to a temporary file named after the
//! process and a counter (made beside the entry, or made ahead in `cache-v1/spares/` while the
//! run works: `Spares`), then the old entry is removed and the new one renamed into place —
//! a rename is atomic, so a reader sees the old entry, the new one or none, never half of one;
//! two writers of one key write the same bytes. Trimming another process's entry is a later
//! miss, not an error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::git::Entry;

/// The cache's size cap: above it, the least recently used entries go.
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Trimming keeps this share of the cap, so that not every run trims.
const TRIM_TO_PERCENT: u64 = 75;

/// Temporary files older than this are a crashed writer's and are deleted by a sweep.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(600);

/// The folder is swept at least this often, even while the ledger's estimate is under the cap:
/// two runs that update the ledger at once may lose one run's bytes, and a crashed writer's
/// temporary files are found only by a sweep.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A read refreshes an entry's modification time (the trim's "recently used") only when it
/// is older than this.
const TOUCH_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// The ledger's file name, beside the kinds' folders.
const LEDGER: &str = "ledger";

/// Tree listings by build and tree id ([`crate::git::KeptTrees`]). A tree's files do not
/// depend on the config, so its fingerprint is not part of the key.
impl crate::git::KeptTrees for DiskCache {
    fn get(&self, tree: &str) -> Option<CacheBytes> {
        self.get_bytes("trees", &tree_key(tree), "bin")
    }

    fn put(&self, tree: &str, bytes: &[u8]) {
        self.put_bytes("trees", &tree_key(tree), "bin", bytes);
    }
}

fn tree_key(tree: &str) -> String {
    key([build_identity().as_bytes(), b"tree", tree.as_bytes()])
}

/// An entry's bytes: read into memory, or — from [`MAP_FROM`] bytes on — mapped.
///
/// A parse pack of 20,000 files is ~19 MB. Read, it took a fresh 19 MB of heap that the
/// system zeroes page by page before the file's bytes are copied over it; mapped, the
/// process reads the page cache's own pages.
pub enum CacheBytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

/// Entries of at least this many bytes are mapped: below it one read costs less than setting
/// up and tearing down a mapping.
pub const MAP_FROM: u64 = 256 * 1024;

/// When a mapped entry's pages are faulted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pages {
    /// All of them, up front: the caller decodes the whole entry.
    Ahead,
    /// As they are read: the caller reads parts of the entry (a parse pack's plain SQL files
    /// are most of its bytes, and a check reads the events of a few).
    OnUse,
}

impl From<Vec<u8>> for CacheBytes {
    fn from(bytes: Vec<u8>) -> CacheBytes {
        CacheBytes::Read(bytes)
    }
}

impl CacheBytes {
    #[cfg(test)]
    pub(crate) fn with_pages(file: &std::fs::File, pages: Pages) -> Option<CacheBytes> {
        CacheBytes::with_length(file, file.metadata().ok()?.len(), pages)
    }

    /// The bytes of `file`, `length` long: mapped from [`MAP_FROM`] bytes (its pages faulted in
    /// as `pages` says), read below that or where mapping fails.
    fn with_length(file: &std::fs::File, length: u64, pages: Pages) -> Option<CacheBytes> {
        if length >= MAP_FROM
            && let Some(map) = map(file, pages)
        {
            return Some(CacheBytes::Mapped(map));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
        std::io::Read::read_to_end(&mut &*file, &mut bytes).ok()?;
        Some(CacheBytes::Read(bytes))
    }
}

/// A read-only mapping of a whole cache entry, its pages faulted in up front or as read;
/// `None` where mapping fails (the entry is then read).
fn map(file: &std::fs::File, pages: Pages) -> Option<memmap2::Mmap> {
    let mut options = memmap2::MmapOptions::new();
    if pages == Pages::Ahead {
        options.populate();
    }
    // SAFETY: a mapping's bytes must not change while it lives. driftguard never writes an
    // entry in place: each is written whole to a temporary file that is then renamed over the
    // entry (`put_bytes`), and trimming or `cache clean` unlinks entries. Either way the inode
    // mapped here keeps its bytes until the mapping is dropped. Only someone truncating a file
    // under `.git/driftguard/` by hand during a run could change them.
    unsafe { options.map(file) }.ok()
}

impl CacheBytes {
    /// Lets the system take back the pages of a mapped entry once all of it was decoded: the
    /// lazy values that keep the mapping alive read a few of them again later, from the page
    /// cache, and the process no longer holds the rest (19 MB of a parse pack at 5,000 models
    /// / 20,000 migrations).
    pub fn release_pages(&self) {
        #[cfg(unix)]
        if let CacheBytes::Mapped(map) = self {
            // SAFETY: the mapping is private and read-only, so it was never written, and its
            // file is never changed in place (see `map`): a page dropped here reads back as
            // the same bytes from the file. No borrow of the bytes lives across the call.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }
}

impl std::ops::Deref for CacheBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            CacheBytes::Read(bytes) => bytes,
            CacheBytes::Mapped(map) => map,
        }
    }
}

/// A cache folder, or none (plain directories, read-only git dirs, `DRIFTGUARD_NO_CACHE=1`).
#[derive(Debug, Default)]
pub struct DiskCache {
    dir: Option<PathBuf>,
    /// Whether this run wrote an entry (then it trims at the end).
    wrote: std::sync::atomic::AtomicBool,
    /// What this run's writes added to the folder's size, in bytes: an entry written over
    /// counts the difference, so a negative sum is possible.
    grew: std::sync::atomic::AtomicI64,
    /// Writes handed to the thread pool ([`DiskCache::put_soon`]) not yet settled.
    pending: std::sync::Mutex<Vec<Arc<SoonWrite>>>,
    /// Files made ahead for this run's writes (shared with its clones): [`DiskCache::make_spares`].
    spares: Arc<Spares>,
}

impl Clone for DiskCache {
    fn clone(&self) -> DiskCache {
        DiskCache {
            dir: self.dir.clone(),
            spares: Arc::clone(&self.spares),
            ..DiskCache::default()
        }
    }
}

/// The folder of driftguard's cache under a git directory (every version's layout).
pub fn folder(git_dir: &Path) -> PathBuf {
    git_dir.join("driftguard")
}

/// Whether `DRIFTGUARD_NO_CACHE` turns the cache off.
pub fn disabled() -> bool {
    std::env::var_os("DRIFTGUARD_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0")
}

impl DiskCache {
    /// The cache under a git directory.
    pub fn in_git_dir(git_dir: &Path) -> DiskCache {
        if disabled() {
            return DiskCache::default();
        }
        DiskCache {
            dir: Some(folder(git_dir).join("cache-v1")),
            ..DiskCache::default()
        }
    }

    /// Deletes this cache's folder, every entry in it: after a run that read a damaged entry,
    /// whatever it wrote may hold what that entry gave. Returns the folder.
    pub fn discard(&self) -> Option<PathBuf> {
        // A write still under way would put an entry back into the deleted folder.
        self.settle();
        self.spares.close();
        let dir = self.dir.as_ref()?;
        let _ = std::fs::remove_dir_all(dir);
        Some(dir.clone())
    }

    /// The error of a command that read a kept table whose columns did not decode
    /// ([`crate::lazy::LazyList`]): what it found rests on tables it did not really read, and
    /// what it wrote to the cache may too, so the cache folder is deleted first.
    pub fn damaged_entry(&self) -> crate::error::Error {
        let deleted = match self.discard() {
            Some(folder) => format!("the cache folder `{}` is deleted", folder.display()),
            None => "no cache folder was kept".to_string(),
        };
        crate::error::Error::Cache(format!(
            "driftguard's cache held a damaged entry (a kept table's columns did not read back); {deleted}: run the command again"
        ))
    }

    fn entry(&self, kind: &str, key: &str, extension: &str) -> Option<PathBuf> {
        Some(
            self.dir
                .as_ref()?
                .join(kind)
                .join(format!("{key}.{extension}")),
        )
    }

    pub fn get<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        serde_json::from_slice(&self.get_bytes(kind, key, "json")?).ok()
    }

    pub fn put<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.put_bytes(kind, key, "json", &bytes);
        }
    }

    /// Whether the cache holds an entry, without reading it.
    pub fn has(&self, kind: &str, key: &str, extension: &str) -> bool {
        self.entry(kind, key, extension)
            .is_some_and(|path| path.is_file())
    }

    /// An entry's bytes, as [`DiskCache::put_bytes`] stored them; `None` on a miss. A large
    /// entry is mapped rather than read ([`CacheBytes`]).
    pub fn get_bytes(&self, kind: &str, key: &str, extension: &str) -> Option<CacheBytes> {
        self.get_bytes_with(kind, key, extension, Pages::Ahead)
    }

    /// [`DiskCache::get_bytes`], a mapped entry's pages faulted in as `pages` says.
    pub fn get_bytes_with(
        &self,
        kind: &str,
        key: &str,
        extension: &str,
        pages: Pages,
    ) -> Option<CacheBytes> {
        let path = self.entry(kind, key, extension)?;
        let file = std::fs::File::open(&path).ok()?;
        let meta = file.metadata().ok()?;
        let bytes = CacheBytes::with_length(&file, meta.len(), pages)?;
        // Recently used: the trim keeps it. An entry written or used within the last
        // [`TOUCH_AFTER`] is recent enough already (a hook's run skips a system call or two
        // for each entry it reads); the trim sweeps a day's worth of them at most.
        let now = SystemTime::now();
        let recent = meta
            .modified()
            .is_ok_and(|at| now.duration_since(at).map_or(true, |age| age < TOUCH_AFTER));
        if !recent {
            touch(&file, &path, now);
        }
        Some(bytes)
    }

    /// Stores an entry (atomically: see the module's documentation).
    pub fn put_bytes(&self, kind: &str, key: &str, extension: &str, bytes: &[u8]) {
        self.put_with(kind, key, extension, bytes.len(), |file| {
            file.write_all(bytes)
        });
    }

    /// Stores `parts` under `magic` as [`framed`] would join them, written part by part: a
    /// parse pack's parts are ~17 MB at 5,000 models / 20,000 migrations, and joined first they
    /// were a second copy of them in fresh memory (~9 ms of a cold check, most of it the system
    /// zeroing the pages the copy went to).
    pub fn put_framed(
        &self,
        kind: &str,
        key: &str,
        extension: &str,
        magic: &[u8],
        parts: &[Vec<u8>],
    ) {
        let length = magic.len() + parts.iter().map(|p| p.len() + 8).sum::<usize>();
        self.put_with(kind, key, extension, length, |file| {
            let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
            out.write_all(magic)?;
            for part in parts {
                out.write_all(&(part.len() as u64).to_le_bytes())?;
                out.write_all(part)?;
            }
            out.flush()
        });
    }

    /// [`DiskCache::put_bytes`] on the thread pool, while the run goes on. The entry is in
    /// place once [`DiskCache::settle`] returns: the trim and [`DiskCache::discard`] settle
    /// first, and so does an analysis before it reads the kept state (a second analysis in one
    /// run reads what the first kept), so it is written before the process ends and before
    /// anything in the run reads it back. A new edit's check writes four or five small
    /// entries, each a file created, renamed and an old one removed: ~0.3 ms at 50 models / 40
    /// migrations when each waited for the last.
    pub fn put_soon(&self, kind: &str, key: &str, extension: &str, bytes: Vec<u8>) {
        let Some(path) = self.entry(kind, key, extension) else {
            return;
        };
        let spares = Arc::clone(&self.spares);
        let write = SoonWrite::new(move || {
            write_entry(&path, bytes.len(), &spares, |file| file.write_all(&bytes))
        });
        let on_pool = Arc::clone(&write);
        rayon::spawn(move || {
            on_pool.run();
        });
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(write);
    }

    /// [`DiskCache::put`] through [`DiskCache::put_soon`]: encoded here, written on the pool.
    pub fn put_json_soon<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.put_soon(kind, key, "json", bytes);
        }
    }

    /// Makes sure the writes [`DiskCache::put_soon`] handed to the pool are done, and counts
    /// what they added: a write no pool thread has begun yet is done here and now (the pool may
    /// be busy with work queued before it, or be this very thread), one under way is waited
    /// for.
    pub fn settle(&self) {
        let pending = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for write in pending {
            if let Some(grew) = write.run() {
                self.count_write(grew);
            }
        }
    }

    fn count_write(&self, grew: i64) {
        self.wrote.store(true, Ordering::Relaxed);
        self.grew.fetch_add(grew, Ordering::Relaxed);
    }

    /// Stores the entry `write` writes (`length` bytes) under `key`, replacing any before it.
    fn put_with(
        &self,
        kind: &str,
        key: &str,
        extension: &str,
        length: usize,
        write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
    ) {
        let Some(path) = self.entry(kind, key, extension) else {
            return;
        };
        if let Some(grew) = write_entry(&path, length, &self.spares, write) {
            self.count_write(grew);
        }
    }

    /// Whether there is a cache folder at all.
    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// Keeps the cache under its cap, after a run that wrote to it: adds what the run wrote to
    /// the ledger's estimate, and sweeps the folder when the estimate passes the cap or the
    /// last sweep is older than [`SWEEP_EVERY`] ([`trim_folder`]: the least recently used
    /// entries, and crashed writers' temporary files, go until it holds [`TRIM_TO_PERCENT`]% of
    /// the cap). Then removes the files the run made ahead and did not fill ([`Spares`]).
    pub fn trim(&self) {
        self.settle();
        if let Some(dir) = &self.dir
            && self.wrote.load(Ordering::Relaxed)
        {
            let cap = std::env::var("DRIFTGUARD_CACHE_MAX_MB")
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(MAX_BYTES, |mb| mb.saturating_mul(1024 * 1024));
            trim_with_ledger(
                dir,
                cap,
                self.grew.load(Ordering::Relaxed),
                SystemTime::now(),
                &self.spares,
            );
        }
        self.spares.close();
    }

    /// Starts making `count` empty files in the cache folder on the thread pool, for this
    /// run's next writes to fill and rename into place instead of creating their own files
    /// ([`Spares`]); the run ends with [`DiskCache::trim`], which removes those left over.
    /// Once a run: for an analysis that will write its results, a check makes them while it
    /// parses and replays, and its writes at the end only fill them.
    pub fn make_spares(&self, count: usize) {
        let Some(dir) = &self.dir else { return };
        if self.spares.requested.swap(true, Ordering::Relaxed) {
            return;
        }
        let folder = dir.join(SPARES);
        let spares = Arc::clone(&self.spares);
        rayon::spawn(move || spares.make(&folder, count));
    }
}

/// What the ledger holds: when the folder was last swept (seconds since the epoch) and its
/// estimated size in bytes (what that sweep left, plus what runs wrote since).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ledger {
    swept: u64,
    bytes: u64,
}

impl Ledger {
    /// The ledger in `dir`; `None` when it is missing or damaged (the folder is then swept).
    fn read(dir: &Path) -> Option<Ledger> {
        let text = std::fs::read_to_string(dir.join(LEDGER)).ok()?;
        let mut fields = text
            .strip_prefix("driftguard-cache-ledger-1 ")?
            .split_whitespace();
        let swept = fields.next()?.parse().ok()?;
        let bytes = fields.next()?.parse().ok()?;
        fields.next().is_none().then_some(Ledger { swept, bytes })
    }

    /// Writes the ledger (to a temporary file renamed over it, as entries are written).
    fn write(self, dir: &Path, spares: &Spares) {
        let text = format!("driftguard-cache-ledger-1 {} {}\n", self.swept, self.bytes);
        write_replacing(&dir.join(LEDGER), spares, |file| {
            file.write_all(text.as_bytes())
        });
    }
}

/// The folder of the files [`Spares`] makes, beside the kinds' folders (swept as they are: a
/// file a run could not remove is a crashed writer's temporary file).
const SPARES: &str = "spares";

/// Empty files a run makes ahead in the cache folder ([`DiskCache::make_spares`]), each
/// private to this process (named after it and a counter), for its writes to fill and rename
/// into place ([`write_replacing`]).
///
/// Making a file is the one costly step of a write on ext4 after many files nearby were
/// deleted: each new file's inode is searched for past the recently deleted ones (on a file
/// system without a journal, as this virtual machine's disk is). Measured right after another
/// repository's deletion, a new edit at 50 models / 40 migrations spent 0.3–1.0 ms in each of
/// its five `open(O_CREAT)` calls (15–40 µs otherwise): the check took 5.8 ms against 3.6 ms.
/// Made ahead, on the thread pool while the check parses and replays, its writes only fill
/// files that exist: with 2,000 files deleted beside the cache before each edit, 5.1 → 4.1 ms
/// (14 rounds alternating), and without, 3.9 ms both ways (16 rounds).
#[derive(Debug, Default)]
struct Spares {
    /// The files made and not yet taken.
    made: std::sync::Mutex<Vec<Spare>>,
    /// Set at the run's end ([`Spares::close`]): no more are made or taken.
    closed: std::sync::atomic::AtomicBool,
    /// Whether the run has asked for them ([`DiskCache::make_spares`]).
    requested: std::sync::atomic::AtomicBool,
}

/// A spare file: its path and the file, open for writing.
type Spare = (PathBuf, std::fs::File);

impl Spares {
    /// Makes up to `count` files in `folder` (made when missing, inside a cache folder that
    /// exists), until the run closes.
    fn make(&self, folder: &Path, count: usize) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        // Not `create_dir_all`: a cache folder deleted meanwhile stays deleted.
        if let Err(e) = std::fs::create_dir(folder)
            && e.kind() != std::io::ErrorKind::AlreadyExists
        {
            return;
        }
        for _ in 0..count {
            let path = folder.join(temporary_name(""));
            let Ok(file) = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            else {
                return;
            };
            let mut made = self
                .made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if self.closed.load(Ordering::Relaxed) {
                drop(made);
                drop(file);
                let _ = std::fs::remove_file(&path);
                return;
            }
            made.push((path, file));
        }
    }

    /// A spare file, when one is made and the run has not closed.
    fn take(&self) -> Option<Spare> {
        self.made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
    }

    /// Ends the run's spares: none is made after this, and the unused ones are removed.
    fn close(&self) {
        let unused = {
            let mut made = self
                .made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.closed.store(true, Ordering::Relaxed);
            std::mem::take(&mut *made)
        };
        for (path, file) in unused {
            drop(file);
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// A temporary file's name: `prefix`, this process's id and a counter, `.tmp` — never another
/// writer's (process or thread).
fn temporary_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Sets an entry's modification time to `now`. On Unix through the descriptor it was read
/// with (the owner of a file may set its times whatever the descriptor's mode: the process
/// owns the entries it wrote); elsewhere (Windows asks for a handle that may write
/// attributes) through the entry opened again for appending.
fn touch(file: &std::fs::File, path: &Path, now: SystemTime) {
    #[cfg(unix)]
    {
        let _ = path;
        let _ = file.set_modified(now);
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        if let Ok(file) = std::fs::File::options().append(true).open(path) {
            let _ = file.set_modified(now);
        }
    }
}

/// A write of [`DiskCache::put_soon`]: what it added to the folder, `None` when it wrote nothing.
type WriteJob = Box<dyn FnOnce() -> Option<i64> + Send>;

/// One write of [`DiskCache::put_soon`]: done once, by whichever comes first — the pool
/// thread that takes it, or [`DiskCache::settle`], which never waits for work that has not
/// begun (the pool's threads may be busy with work queued before it, or waiting themselves).
/// The same hand-over as the kept states decoded ahead (`project::AheadSlot`): a `OnceLock`
/// whose first caller runs the job and whose others wait for it.
struct SoonWrite {
    /// The write, until someone takes it on.
    write: std::sync::Mutex<Option<WriteJob>>,
    /// What it added to the folder (`None`: nothing written), once done.
    done: std::sync::OnceLock<Option<i64>>,
}

impl std::fmt::Debug for SoonWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoonWrite")
    }
}

impl SoonWrite {
    fn new(write: impl FnOnce() -> Option<i64> + Send + 'static) -> Arc<SoonWrite> {
        Arc::new(SoonWrite {
            write: std::sync::Mutex::new(Some(Box::new(write))),
            done: std::sync::OnceLock::new(),
        })
    }

    /// Does the write when nobody has begun it, else waits until it is done; returns what it
    /// added to the folder. A write that panics wrote no entry (never an abort of the pool).
    fn run(&self) -> Option<i64> {
        *self.done.get_or_init(|| {
            let write = self
                .write
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            write.and_then(|write| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(write))
                    .ok()
                    .flatten()
            })
        })
    }
}

/// Stores the entry `write` writes (`length` bytes) at `path`, replacing any before it, its
/// folder made when missing. Returns what it added to the cache folder's size (the entry it
/// replaced no longer counts), or `None` when it wrote nothing.
fn write_entry(
    path: &Path,
    length: usize,
    spares: &Spares,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Option<i64> {
    let folder = path.parent()?;
    std::fs::create_dir_all(folder).ok()?;
    let replaced = std::fs::metadata(path).map_or(0, |meta| meta.len());
    write_replacing(path, spares, write).then(|| {
        i64::try_from(length)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(replaced).unwrap_or(i64::MAX))
    })
}

/// Writes a temporary file (`write` fills it) — one of `spares` when one is made, else a new
/// one beside `path` — then renames it over `path`: a concurrent reader never sees half a
/// file, and two writers (processes or threads) never write into one temporary file. Returns
/// whether `path` now holds what `write` wrote.
fn write_replacing(
    path: &Path,
    spares: &Spares,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> bool {
    let Some(name) = path.file_name() else {
        return false;
    };
    let (tmp, mut file) = match spares.take() {
        Some(spare) => spare,
        None => {
            let tmp = path.with_file_name(temporary_name(&format!("{}.", name.to_string_lossy())));
            match std::fs::File::create(&tmp) {
                Ok(file) => (tmp, file),
                Err(_) => return false,
            }
        }
    };
    // The old file goes first: renamed over a file, the new one is written out to the disk at
    // once, in the rename (ext4's `auto_da_alloc`, on by default: a data-loss guard for files
    // that must survive a crash, which a cache entry need not). A reader in between finds no
    // entry, which is a miss.
    let written = write(&mut file).is_ok() && {
        drop(file);
        let _ = std::fs::remove_file(path);
        std::fs::rename(&tmp, path).is_ok()
    };
    if !written {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// [`DiskCache::trim`] for the cache folder `dir`, after a run that grew it by `grew` bytes.
/// Returns whether it swept the folder.
fn trim_with_ledger(dir: &Path, cap: u64, grew: i64, now: SystemTime, spares: &Spares) -> bool {
    if let Some(ledger) = Ledger::read(dir) {
        let bytes = ledger.bytes.saturating_add_signed(grew);
        let recent = seconds(now).saturating_sub(ledger.swept) < SWEEP_EVERY.as_secs()
            // A ledger from the future (a clock set back) is not trusted.
            && ledger.swept <= seconds(now);
        if bytes <= cap && recent {
            Ledger {
                swept: ledger.swept,
                bytes,
            }
            .write(dir, spares);
            return false;
        }
    }
    let bytes = trim_folder(dir, cap, now);
    Ledger {
        swept: seconds(now),
        bytes,
    }
    .write(dir, spares);
    true
}

/// Trims the entries under `dir` (one folder per kind) to [`TRIM_TO_PERCENT`]% of `cap` when
/// they exceed it, oldest modification first. Returns the size of the entries left, in bytes.
fn trim_folder(dir: &Path, cap: u64, now: SystemTime) -> u64 {
    let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
    let Ok(kinds) = std::fs::read_dir(dir) else {
        return 0;
    };
    for kind in kinds.flatten() {
        let Ok(files) = std::fs::read_dir(kind.path()) else {
            continue;
        };
        for file in files.flatten() {
            let Ok(meta) = file.metadata() else { continue };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let path = file.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                if now
                    .duration_since(modified)
                    .is_ok_and(|age| age > STALE_TMP)
                {
                    let _ = std::fs::remove_file(&path);
                }
                continue;
            }
            entries.push((modified, meta.len(), path));
        }
    }
    let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
    if total <= cap {
        return total;
    }
    let goal = cap / 100 * TRIM_TO_PERCENT;
    entries.sort();
    for (_, size, path) in entries {
        if total <= goal {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(size);
        }
    }
    total
}

/// What `driftguard cache clean` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub folder: PathBuf,
    pub files: u64,
    pub bytes: u64,
}

/// `driftguard cache clean PATH`: deletes the cache of the repository holding `path`; the
/// message says what went.
pub fn clean_command(path: &Path) -> Result<String, crate::error::Error> {
    let repo = crate::git::Repo::discover(path).ok_or_else(|| {
        crate::error::Error::Usage(format!(
            "`{}` is not inside a git repository; driftguard keeps its cache in a repository's git directory",
            path.display()
        ))
    })?;
    let cleaned = clean(repo.common_dir()).map_err(|e| {
        crate::error::Error::io(
            "cannot delete the cache folder",
            &folder(repo.common_dir()),
            e,
        )
    })?;
    Ok(if cleaned.files == 0 {
        format!("The cache is empty ({}).\n", cleaned.folder.display())
    } else {
        format!(
            "Deleted the cache: {} files, {:.1} MB ({}).\n",
            cleaned.files,
            cleaned.bytes as f64 / 1e6,
            cleaned.folder.display()
        )
    })
}

/// Deletes the cache folder under `git_dir` (every layout version): `driftguard cache clean`.
pub fn clean(git_dir: &Path) -> std::io::Result<Cleaned> {
    let folder = folder(git_dir);
    let mut cleaned = Cleaned {
        folder: folder.clone(),
        ..Cleaned::default()
    };
    if !folder.exists() {
        return Ok(cleaned);
    }
    let mut stack = vec![folder.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)?.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                cleaned.files += 1;
                cleaned.bytes += meta.len();
            }
        }
    }
    std::fs::remove_dir_all(&folder)?;
    Ok(cleaned)
}

/// An entry of several parts that can be decoded side by side: `magic`, then each part as its
/// length (8 bytes, little endian) and its bytes ([`frames`] reads them back).
pub fn framed(magic: &[u8], parts: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes =
        Vec::with_capacity(magic.len() + parts.iter().map(|p| p.len() + 8).sum::<usize>());
    bytes.extend_from_slice(magic);
    for part in parts {
        bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bytes.extend_from_slice(part);
    }
    bytes
}

/// The byte ranges of the parts of a [`framed`] entry; `None` for bytes that do not start with
/// `magic` or whose parts do not fit them.
pub fn frames(bytes: &[u8], magic: &[u8]) -> Option<Vec<std::ops::Range<usize>>> {
    let mut rest = bytes.strip_prefix(magic)?;
    let mut start = magic.len();
    let mut parts = Vec::new();
    while !rest.is_empty() {
        let (length, tail) = rest.split_first_chunk::<8>()?;
        let length = usize::try_from(u64::from_le_bytes(*length)).ok()?;
        if length > tail.len() {
            return None;
        }
        start += 8;
        parts.push(start..start + length);
        start += length;
        rest = &tail[length..];
    }
    Some(parts)
}

/// Decodes parts of `bytes` side by side (`decode` gets a part's index and bytes): the calling
/// thread claims one part after another, and so does a job on the thread pool for each other
/// thread it has, when one is free. `None` when a part would not decode (or its decoding
/// panicked).
///
/// The caller waits only for parts another thread has claimed, which are being decoded and
/// wait for nothing. (A nested parallel loop would not do: a pool thread waiting for its loop
/// takes on other jobs meanwhile, and a decoding started ahead of need is waited for by such
/// jobs — a deadlock seen in testing.) Whatever no free thread claims, the caller decodes: a
/// busy pool costs nothing but the jobs' start.
pub fn decode_parts<B, T, F>(
    bytes: Arc<B>,
    parts: Vec<std::ops::Range<usize>>,
    decode: F,
) -> Option<Vec<T>>
where
    B: std::ops::Deref<Target = [u8]> + Send + Sync + 'static,
    T: Send + 'static,
    F: Fn(usize, &[u8]) -> Option<T> + Send + Sync + 'static,
{
    let count = parts.len();
    let shared = Arc::new(Parts {
        bytes,
        parts,
        decode,
        claims: Claims::default(),
    });
    for _ in 1..rayon::current_num_threads().min(count) {
        let helper = Arc::clone(&shared);
        rayon::spawn(move || helper.work());
    }
    // A decoding started ahead of need offers its parts to whoever waits for it.
    let offered = OFFER.with_borrow(Option::clone);
    if let Some(offer) = &offered {
        let helper = Arc::clone(&shared);
        offer.set(Some(Arc::new(move || helper.work())));
    }
    shared.work();
    let decoded = shared.claims.wait_all(count);
    if let Some(offer) = offered {
        offer.set(None);
    }
    decoded.into_iter().collect()
}

/// Where a decoding started ahead of need ([`crate::project::KeptAhead`]) offers the parts
/// left of its [`decode_parts`] to a thread that needs its value: that thread would otherwise
/// wait while a core is free. At 5,000 models the kept resolution's decoding was 10 ms on one
/// pool thread while the pool's other thread waited for it, and the jobs that would have
/// shared its parts sat behind that wait.
#[derive(Default)]
pub struct Offer {
    state: std::sync::Mutex<Offered>,
    /// Signalled when parts are offered and when the decoding ends.
    changed: std::sync::Condvar,
}

/// What an [`Offer`] holds.
#[derive(Default)]
struct Offered {
    /// Decodes the parts no thread has claimed yet, while the decoding's parts are offered.
    work: Option<Arc<dyn Fn() + Send + Sync>>,
    /// The decoding is running ([`Offer::during`]).
    running: bool,
}

thread_local! {
    /// The [`Offer`] of the decoding running on this thread ([`Offer::during`]).
    static OFFER: std::cell::RefCell<Option<Arc<Offer>>> = const { std::cell::RefCell::new(None) };
}

impl Offer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Offered> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Offers `work` (`None`: withdraws the offer).
    fn set(&self, work: Option<Arc<dyn Fn() + Send + Sync>>) {
        self.lock().work = work;
        self.changed.notify_all();
    }

    /// Runs `decode` on this thread, any [`decode_parts`] in it offering its parts here.
    pub fn during<R>(self: &Arc<Self>, decode: impl FnOnce() -> R) -> R {
        struct Ended(Arc<Offer>, Option<Arc<Offer>>);
        impl Drop for Ended {
            fn drop(&mut self) {
                let previous = self.1.take();
                OFFER.with_borrow_mut(|offer| *offer = previous);
                let mut state = self.0.lock();
                state.running = false;
                state.work = None;
                drop(state);
                self.0.changed.notify_all();
            }
        }
        self.lock().running = true;
        let _ended = Ended(
            Arc::clone(self),
            OFFER.with_borrow_mut(|offer| offer.replace(Arc::clone(self))),
        );
        decode()
    }

    /// Decodes the parts still unclaimed of the decoding offered here; whether one was
    /// offered. While the decoding runs but has offered nothing yet (it reads its bytes
    /// first), waits for its offer or its end: it waits for nothing itself.
    pub fn help(&self) -> bool {
        let mut state = self.lock();
        loop {
            if let Some(work) = state.work.clone() {
                drop(state);
                work();
                return true;
            }
            if !state.running {
                return false;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// What the threads of one [`decode_parts`] share.
struct Parts<B, T, F> {
    bytes: Arc<B>,
    parts: Vec<std::ops::Range<usize>>,
    decode: F,
    claims: Claims<T>,
}

impl<B, T, F> Parts<B, T, F>
where
    B: std::ops::Deref<Target = [u8]>,
    F: Fn(usize, &[u8]) -> Option<T>,
{
    /// Decodes parts until none is left to claim.
    fn work(&self) {
        self.claims.work(&self.parts, |i, range| {
            (self.decode)(i, self.bytes.get(range)?)
        });
    }
}

/// Parts of an entry claimed one by one by the threads that decode them, and what each gave
/// ([`decode_parts`], the parse pack read ahead of need): a thread that needs the whole claims
/// parts too, then waits only for the parts other threads claimed, which are being decoded.
pub struct Claims<T> {
    /// The next part to claim.
    next: std::sync::atomic::AtomicUsize,
    /// Decoded parts, by index; `None` for one that would not decode.
    done: std::sync::Mutex<Vec<(usize, Option<T>)>>,
    /// Signalled each time a part joins `done`.
    pushed: std::sync::Condvar,
}

impl<T> Default for Claims<T> {
    fn default() -> Self {
        Claims {
            next: std::sync::atomic::AtomicUsize::new(0),
            done: std::sync::Mutex::new(Vec::new()),
            pushed: std::sync::Condvar::new(),
        }
    }
}

impl<T> Claims<T> {
    /// Claims and decodes parts of `parts` until none is left. A part that panics is one that
    /// would not decode: it still joins the decoded ones, so nobody waits for it.
    pub fn work(
        &self,
        parts: &[std::ops::Range<usize>],
        decode: impl Fn(usize, std::ops::Range<usize>) -> Option<T>,
    ) {
        loop {
            let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(range) = parts.get(i) else {
                return;
            };
            let part =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decode(i, range.clone())))
                    .unwrap_or(None);
            self.done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((i, part));
            self.pushed.notify_all();
        }
    }

    /// What the `count` parts gave, in their order, once all have been decoded; called after
    /// [`Claims::work`] has claimed the last one.
    pub fn wait_all(&self, count: usize) -> Vec<Option<T>> {
        let mut done = self
            .done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while done.len() < count {
            done = self
                .pushed
                .wait(done)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        let mut decoded = std::mem::take(&mut *done);
        drop(done);
        decoded.sort_unstable_by_key(|(i, _)| *i);
        decoded.into_iter().map(|(_, part)| part).collect()
    }
}

/// A 128-bit hash of the parts (two foldhash hashes of fixed seeds), as 32 hex digits. Every
/// key on disk starts with [`build_identity`], so a hash need only be the same within one
/// build: foldhash's fixed-seed output is. (The FNV-1a this replaced went byte by byte: 10 ms
/// of a 5,000-model check hashing its two listings.)
/// A value the cache writes compactly (postcard): one number for its flags and which of its
/// optional parts it has, then only those parts, as a tuple — a model column, a replayed
/// column, a column type, a model class. Written field by field, most of their fields absent,
/// empty or `false`, such values were most of what a new edit decoded (tens of thousands of
/// each). Postcard writes a tuple's parts one after the other and reads as many as the reader
/// asks for, so a tuple's length is only a bound ([`CompactParts::MOST_PARTS`]). JSON keeps
/// writing them field by field ([`compact_list`]).
pub trait CompactParts: Sized {
    /// The value, for error messages (`a model column`).
    const WHAT: &'static str;
    /// The most parts a value writes.
    const MOST_PARTS: usize;
    /// How many parts this value writes.
    fn part_count(&self) -> usize;
    /// Writes the parts: the flags first.
    fn write_parts<S: serde::ser::SerializeTuple>(&self, out: &mut S) -> Result<(), S::Error>;
    /// Reads the parts back, with [`next_part`] and [`optional_part`].
    fn read_parts<'de, A: serde::de::SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error>;
}

/// A value written in its [`CompactParts`] encoding.
pub struct Compact<'v, T>(pub &'v T);

impl<T: CompactParts> serde::Serialize for Compact<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut out = serializer.serialize_tuple(self.0.part_count())?;
        self.0.write_parts(&mut out)?;
        out.end()
    }
}

/// A value read back from its [`CompactParts`] encoding.
pub struct FromParts<T>(pub T);

impl<'de, T: CompactParts> serde::Deserialize<'de> for FromParts<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Parts<T>(std::marker::PhantomData<T>);
        impl<'de, T: CompactParts> serde::de::Visitor<'de> for Parts<T> {
            type Value = FromParts<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "the parts of {}", T::WHAT)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<FromParts<T>, A::Error> {
                T::read_parts(&mut seq).map(FromParts)
            }
        }
        deserializer.deserialize_tuple(T::MOST_PARTS, Parts(std::marker::PhantomData))
    }
}

/// A list of values in their [`CompactParts`] encoding, for a hand-written `Serialize`.
pub struct CompactList<'v, T>(pub &'v [T]);

impl<T: CompactParts> serde::Serialize for CompactList<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Compact))
    }
}

/// `#[serde(with = "crate::cache::compact_list")]`: a list in its values' [`CompactParts`]
/// encoding, except in a human-readable format (JSON), where they are written field by field.
pub mod compact_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{CompactList, CompactParts, FromParts};

    pub fn serialize<T, S>(values: &[T], serializer: S) -> Result<S::Ok, S::Error>
    where
        T: CompactParts + Serialize,
        S: Serializer,
    {
        if serializer.is_human_readable() {
            return values.serialize(serializer);
        }
        CompactList(values).serialize(serializer)
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<Vec<T>, D::Error>
    where
        T: CompactParts + Deserialize<'de>,
        D: Deserializer<'de>,
    {
        if deserializer.is_human_readable() {
            return Vec::<T>::deserialize(deserializer);
        }
        let values = Vec::<FromParts<T>>::deserialize(deserializer)?;
        Ok(values.into_iter().map(|FromParts(v)| v).collect())
    }
}

/// The next part of a [`CompactParts`] value: an error when its parts end early.
pub fn next_part<'de, T, A>(seq: &mut A, what: &str) -> Result<T, A::Error>
where
    T: serde::Deserialize<'de>,
    A: serde::de::SeqAccess<'de>,
{
    seq.next_element()?
        .ok_or_else(|| serde::de::Error::custom(format!("{what} ends early")))
}

/// [`next_part`], read only when the value's flags say it has the part.
pub fn optional_part<'de, T, A>(
    seq: &mut A,
    present: bool,
    what: &str,
) -> Result<Option<T>, A::Error>
where
    T: serde::Deserialize<'de>,
    A: serde::de::SeqAccess<'de>,
{
    present.then(|| next_part(seq, what)).transpose()
}

/// The flags of a [`CompactParts`] value: each `(set, flag)` that is set, or'ed together.
pub fn flags<const N: usize>(bits: [(bool, u16); N]) -> u16 {
    bits.iter()
        .filter(|(set, _)| *set)
        .fold(0, |flags, (_, flag)| flags | flag)
}

pub fn key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    digest(parts).iter().map(|b| format!("{b:02x}")).collect()
}

/// [`key`]'s 16 bytes.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    let mut a = foldhash::quality::FixedState::with_seed(0x6472_6966_7467_7561).build_hasher();
    let mut b = foldhash::quality::FixedState::with_seed(0x7264_2d63_6163_6865).build_hasher();
    for part in parts {
        for hasher in [&mut a, &mut b] {
            hasher.write_usize(part.len());
            hasher.write(part);
        }
    }
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.finish().to_be_bytes());
    out[8..].copy_from_slice(&b.finish().to_be_bytes());
    out
}

/// What every key starts with: driftguard's version and the identity of this build (the
/// executable's size and modification time), so that a new build — even of the same version —
/// never reads what an older one computed.
fn build_identity() -> &'static str {
    static IDENTITY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    IDENTITY.get_or_init(|| {
        let exe = std::env::current_exe()
            .and_then(std::fs::metadata)
            .map(|m| {
                let modified = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}:{modified}", m.len())
            })
            .unwrap_or_default();
        format!("{}:{exe}", env!("CARGO_PKG_VERSION"))
    })
}

/// The key of the parse pack: every file's parse under one config, by path and blob id (see
/// [`crate::project::ParseCache`]). The build and the config's fingerprint are part of it, so
/// a pack is only ever read by the build that wrote it, under the config it was written for.
pub fn pack_key(config: &Config) -> String {
    key([
        build_identity().as_bytes(),
        config.fingerprint.as_bytes(),
        b"parse-pack".as_slice(),
    ])
}

/// The key of what the last parse of the Python file at `path` kept for the next
/// ([`crate::pyast::parse_reusing`]): a parse does not depend on the config.
pub fn pieces_key(path: &str) -> String {
    key([
        build_identity().as_bytes(),
        b"python-pieces".as_slice(),
        path.as_bytes(),
    ])
}

/// The key of the resolution kept for a config ([`crate::models::resolve_keeping`]).
pub fn resolution_key(config: &Config) -> String {
    let identity = [
        build_identity().as_bytes(),
        config.fingerprint.as_bytes(),
        b"resolution".as_slice(),
    ];
    key(identity)
}

/// The key of the rules' memo kept under `config` ([`crate::rules::scope`]).
pub fn rule_memo_key(config: &Config) -> String {
    key([
        build_identity().as_bytes(),
        config.fingerprint.as_bytes(),
        b"rules".as_slice(),
    ])
}

/// The key under which the snapshot key of the tree `tree` under `config` is remembered
/// (see [`snapshot_key`]): the key depends on the tree's files and the config alone, so a
/// change check whose before side (HEAD) is cached finds that side's findings without
/// classifying its 25,000 paths again.
pub fn tree_key_memo(tree: &[u8], config: &Config) -> String {
    key([
        build_identity().as_bytes(),
        config.fingerprint.as_bytes(),
        b"tree".as_slice(),
        tree,
    ])
}

/// The key under which the key of the first replay a run under `config` kept or read is
/// remembered: a change check decodes that replay ahead of need, before its sources are
/// known ([`crate::project::ParseCache::decode_kept_ahead`]).
pub fn replay_key_memo(config: &Config) -> String {
    key([
        build_identity().as_bytes(),
        config.fingerprint.as_bytes(),
        b"replay key".as_slice(),
    ])
}

/// The key of a kept replay ([`crate::schema::resume`]): the build, the config's fingerprint,
/// and the names of the sources replayed together (one database, or one declared source).
pub fn replay_key(config: &Config, sources: &[&str]) -> String {
    let identity = [
        build_identity().as_bytes(),
        config.fingerprint.as_bytes(),
        b"replay".as_slice(),
    ];
    key(identity.into_iter().chain(
        sources
            .iter()
            .flat_map(|name| [name.as_bytes(), b"\0".as_slice()]),
    ))
}

/// The key of the module summaries kept on disk (see [`crate::project::ParseCache`]): a
/// summary depends on its module's path and bytes alone, so one file serves every config.
pub fn summaries_key() -> String {
    key([build_identity().as_bytes(), b"module-summaries".as_slice()])
}

/// The identity of a snapshot for the findings cache: the build, the config (its file and
/// text), and every relevant file and config file by path and blob id — `relevant`: the
/// snapshot's files that [`crate::discover::classify`] does not call
/// [`crate::discover::FileKind::Other`], in the listing's order (the caller has classified
/// them already).
pub fn snapshot_key<'e>(relevant: impl IntoIterator<Item = &'e Entry>, config: &Config) -> String {
    let identity = [build_identity().as_bytes(), config.fingerprint.as_bytes()];
    // Streamed: no copy of the listing (25,000 entries in a large backend).
    let files = relevant
        .into_iter()
        .flat_map(|entry| [entry.path.as_bytes(), entry.id.as_bytes()]);
    key(identity.into_iter().chain(files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_parts_are_read_back_and_decoded_side_by_side_in_order() {
        let parts: Vec<Vec<u8>> = (0..37u8).map(|k| vec![k; usize::from(k)]).collect();
        let bytes = framed(b"magic\n", &parts);
        let ranges = frames(&bytes, b"magic\n").expect("framed");
        assert_eq!(ranges.len(), parts.len());
        for (range, part) in ranges.iter().zip(&parts) {
            assert_eq!(&bytes[range.clone()], part.as_slice());
        }
        // Each part decoded once, given back in the parts' order whichever thread took it.
        let bytes = Arc::new(bytes);
        let decoded = decode_parts(Arc::clone(&bytes), ranges.clone(), |k, part| {
            Some((k, part.len()))
        })
        .expect("every part decodes");
        assert_eq!(decoded, (0..37).map(|k| (k, k)).collect::<Vec<_>>());
        // One part that does not decode, or panics, and the whole is a miss (nobody waits).
        assert!(
            decode_parts(Arc::clone(&bytes), ranges.clone(), |k, _| (k != 20)
                .then_some(k))
            .is_none()
        );
        let panicked = decode_parts(Arc::clone(&bytes), ranges.clone(), |k, _| {
            assert!(k != 3, "a damaged part");
            Some(k)
        });
        assert!(panicked.is_none());
        // Another magic, or a part cut short, is no entry of this kind.
        assert!(frames(&bytes, b"other\n").is_none());
        assert!(frames(&bytes[..bytes.len() - 1], b"magic\n").is_none());
        assert_eq!(frames(b"magic\n", b"magic\n"), Some(Vec::new()));
        assert_eq!(
            decode_parts(Arc::new(Vec::new()), Vec::new(), |_, _| Some(())),
            Some(Vec::new())
        );
    }

    /// A cache straight in `folder` (not under a git directory's `driftguard/cache-v1`).
    fn in_folder(folder: &Path) -> DiskCache {
        DiskCache {
            dir: Some(folder.to_path_buf()),
            ..Default::default()
        }
    }

    #[test]
    fn keys_are_stable_and_separate_parts() {
        assert_eq!(key([b"a".as_slice(), b"bc"]), key([b"a".as_slice(), b"bc"]));
        assert_ne!(key([b"a".as_slice(), b"bc"]), key([b"ab".as_slice(), b"c"]));
        assert_eq!(key([b"x".as_slice()]).len(), 32);
    }

    #[test]
    fn a_round_trip_and_a_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        cache.put("t", "k", &vec![1, 2, 3]);
        assert_eq!(cache.get::<Vec<i32>>("t", "k"), Some(vec![1, 2, 3]));
        assert_eq!(cache.get::<Vec<i32>>("t", "other"), None);
        std::fs::write(dir.path().join("t").join("bad.json"), "{").expect("write");
        assert_eq!(cache.get::<Vec<i32>>("t", "bad"), None);
        assert_eq!(DiskCache::default().get::<Vec<i32>>("t", "k"), None);
    }

    #[test]
    fn a_large_entry_is_mapped_and_keeps_its_bytes_when_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        let large: Vec<u8> = (0..MAP_FROM + 5).map(|i| (i % 251) as u8).collect();
        cache.put_bytes("packs", "k", "bin", &large);
        cache.put_bytes("packs", "small", "bin", b"abc");
        let small = cache.get_bytes("packs", "small", "bin").expect("kept");
        assert!(matches!(small, CacheBytes::Read(_)));
        assert_eq!(&*small, b"abc");
        let mapped = cache.get_bytes("packs", "k", "bin").expect("kept");
        assert!(matches!(mapped, CacheBytes::Mapped(_)));
        assert_eq!(&*mapped, large.as_slice());
        // Another run writes the entry again, and a trim or `cache clean` deletes it, while
        // this one still reads its mapping.
        let other = vec![7u8; large.len() + 100];
        cache.put_bytes("packs", "k", "bin", &other);
        assert_eq!(&*mapped, large.as_slice());
        assert_eq!(
            &*cache.get_bytes("packs", "k", "bin").expect("kept"),
            other.as_slice()
        );
        // Pages given back read again from the file the mapping holds, not the new entry.
        mapped.release_pages();
        assert_eq!(&*mapped, large.as_slice());
        std::fs::remove_dir_all(dir.path().join("packs")).expect("removed");
        mapped.release_pages();
        assert_eq!(&*mapped, large.as_slice());
        small.release_pages();
        assert_eq!(&*small, b"abc");
        assert!(cache.get_bytes("packs", "k", "bin").is_none());
        // An empty entry reads as no bytes, not an error.
        cache.put_bytes("packs", "empty", "bin", b"");
        assert_eq!(
            cache.get_bytes("packs", "empty", "bin").as_deref(),
            Some(&[][..])
        );
    }

    /// A crashed writer's temporary file in `folder`, last modified at `modified`.
    fn stale_temporary_file(folder: &Path, modified: SystemTime) -> PathBuf {
        let stale = folder.join("x.1.1.tmp");
        std::fs::write(&stale, "half").expect("write");
        let file = std::fs::File::options()
            .append(true)
            .open(&stale)
            .expect("open");
        file.set_modified(modified).expect("set time");
        stale
    }

    #[test]
    fn a_trim_removes_the_least_recently_used_entries_and_stale_temporary_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        let blob = vec![7u8; 1000];
        for key in ["old", "mid", "new"] {
            cache.put("t", key, &blob);
        }
        let base = SystemTime::now() - std::time::Duration::from_secs(3600);
        for (i, key) in ["old", "mid", "new"].iter().enumerate() {
            let path = dir.path().join("t").join(format!("{key}.json"));
            let file = std::fs::File::options()
                .append(true)
                .open(path)
                .expect("open");
            file.set_modified(base + std::time::Duration::from_secs(i as u64 * 60))
                .expect("set time");
        }
        // `old` is read again: now it is the most recently used.
        assert!(cache.get::<Vec<u8>>("t", "old").is_some());
        stale_temporary_file(&dir.path().join("t"), base);
        let size = std::fs::metadata(dir.path().join("t/new.json"))
            .expect("meta")
            .len();
        // Room for two entries: the trim keeps 75%, one entry.
        trim_folder(dir.path(), size * 2, SystemTime::now());
        let left: Vec<String> = std::fs::read_dir(dir.path().join("t"))
            .expect("read")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["old.json".to_string()]);
        // Under the cap nothing goes.
        trim_folder(dir.path(), u64::MAX, SystemTime::now());
        assert!(dir.path().join("t/old.json").exists());
    }

    /// The modification time of `path`.
    fn modified(path: &Path) -> SystemTime {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .expect("a modification time")
    }

    #[test]
    fn a_read_refreshes_an_entry_only_when_it_was_not_used_for_a_while() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        cache.put_bytes("t", "k", "bin", b"kept");
        let path = cache.entry("t", "k", "bin").expect("an entry");
        let set = |at: SystemTime| {
            std::fs::File::options()
                .append(true)
                .open(&path)
                .expect("open")
                .set_modified(at)
                .expect("set time");
        };
        // Used a minute ago: recent enough, left as it is.
        let minute_ago = SystemTime::now() - std::time::Duration::from_secs(60);
        set(minute_ago);
        assert_eq!(
            cache.get_bytes("t", "k", "bin").as_deref(),
            Some(&b"kept"[..])
        );
        assert_eq!(modified(&path), minute_ago);
        // Used an hour ago: the read makes it the most recently used again.
        let hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        set(hour_ago);
        let before = SystemTime::now() - std::time::Duration::from_secs(1);
        assert_eq!(
            cache.get_bytes("t", "k", "bin").as_deref(),
            Some(&b"kept"[..])
        );
        assert!(
            modified(&path) >= before,
            "an hour-old entry read now is refreshed"
        );
        // A time in the future (a clock set back) is left alone too.
        let ahead = SystemTime::now() + std::time::Duration::from_secs(3600);
        set(ahead);
        assert!(cache.get_bytes("t", "k", "bin").is_some());
        assert_eq!(modified(&path), ahead);
    }

    #[test]
    fn writes_handed_to_the_pool_are_in_place_and_counted_once_settled() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        cache.put_bytes("t", "replaced", "bin", &[1; 300]);
        let grew_before = cache.grew.load(Ordering::Relaxed);
        cache.put_soon("t", "replaced", "bin", vec![2; 100]);
        cache.put_soon("u", "new", "bin", vec![3; 50]);
        cache.put_json_soon("v", "memo", &vec![4u8, 5]);
        cache.settle();
        assert_eq!(
            std::fs::read(dir.path().join("t/replaced.bin")).expect("written"),
            vec![2; 100]
        );
        assert_eq!(
            std::fs::read(dir.path().join("u/new.bin")).expect("written"),
            vec![3; 50]
        );
        assert_eq!(cache.get::<Vec<u8>>("v", "memo"), Some(vec![4, 5]));
        // 100 - 300 for the entry written over, 50, and the memo's five bytes (`[4,5]`).
        assert_eq!(
            cache.grew.load(Ordering::Relaxed) - grew_before,
            100 - 300 + 50 + 5
        );
        assert!(cache.wrote.load(Ordering::Relaxed));
        // Nothing is left half-written, and settling again waits for nothing.
        for folder in ["t", "u", "v"] {
            for entry in std::fs::read_dir(dir.path().join(folder)).expect("a folder") {
                let name = entry.expect("an entry").file_name();
                assert!(
                    !name.to_string_lossy().ends_with(".tmp"),
                    "{name:?} left behind"
                );
            }
        }
        cache.settle();
        assert!(cache.pending.lock().expect("unpoisoned").is_empty());
    }

    #[test]
    fn writes_handed_over_on_a_one_thread_pool_are_waited_for_on_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool");
        // The write is queued behind the very thread that then waits for it.
        pool.install(|| {
            cache.put_soon("t", "k", "bin", vec![9; 10]);
            cache.settle();
        });
        assert_eq!(
            std::fs::read(dir.path().join("t/k.bin")).expect("written"),
            vec![9; 10]
        );
        assert_eq!(cache.grew.load(Ordering::Relaxed), 10);
    }

    /// The files in `folder` (none when it is missing).
    fn names_in(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Waits (up to 10 s) until `cache` holds `count` spare files.
    fn spares_made(cache: &DiskCache, count: usize) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while cache.spares.made.lock().expect("unpoisoned").len() < count {
            assert!(
                std::time::Instant::now() < until,
                "the spares were not made"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn writes_fill_the_files_made_ahead_and_the_run_removes_the_rest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        cache.put_bytes("t", "old", "bin", &[1; 300]);
        cache.make_spares(3);
        spares_made(&cache, 3);
        // Asked for again in the same run: nothing more is made.
        cache.make_spares(3);
        let spares = names_in(&dir.path().join(SPARES));
        assert_eq!(spares.len(), 3, "{spares:?}");
        assert!(
            spares.iter().all(|name| name.ends_with(".tmp")),
            "{spares:?}"
        );
        #[cfg(unix)]
        let inodes: Vec<u64> = {
            use std::os::unix::fs::MetadataExt;
            spares
                .iter()
                .map(|name| {
                    std::fs::metadata(dir.path().join(SPARES).join(name))
                        .expect("a spare")
                        .ino()
                })
                .collect()
        };
        // An entry written over and a new one written on the pool take two of the three spares;
        // what the first replaced still counts.
        cache.put_bytes("t", "old", "bin", &[2; 100]);
        cache.put_soon("u", "new", "bin", vec![3; 50]);
        cache.settle();
        assert_eq!(names_in(&dir.path().join(SPARES)).len(), 1);
        assert_eq!(
            std::fs::read(dir.path().join("t/old.bin")).expect("written"),
            vec![2; 100]
        );
        assert_eq!(
            std::fs::read(dir.path().join("u/new.bin")).expect("written"),
            vec![3; 50]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            for entry in ["t/old.bin", "u/new.bin"] {
                let inode = std::fs::metadata(dir.path().join(entry))
                    .expect("an entry")
                    .ino();
                assert!(inodes.contains(&inode), "{entry} is not a spare");
            }
        }
        assert_eq!(cache.grew.load(Ordering::Relaxed), 300 + 100 - 300 + 50);
        // The run's end: the ledger takes the last spare; none is left, and none is made now.
        cache.trim();
        assert_eq!(names_in(&dir.path().join(SPARES)), Vec::<String>::new());
        assert!(Ledger::read(dir.path()).is_some());
        cache.spares.make(&dir.path().join(SPARES), 2);
        assert_eq!(names_in(&dir.path().join(SPARES)), Vec::<String>::new());
        assert!(cache.spares.take().is_none());
    }

    #[test]
    fn unused_spares_are_removed_and_a_crashed_runs_are_swept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        cache.make_spares(4);
        spares_made(&cache, 4);
        // A run that wrote nothing removes them all.
        cache.trim();
        assert_eq!(names_in(&dir.path().join(SPARES)), Vec::<String>::new());
        // A crashed run's spare is a stale temporary file, as a crashed write's is.
        let base = SystemTime::now() - std::time::Duration::from_secs(3600);
        stale_temporary_file(&dir.path().join(SPARES), base);
        assert_eq!(names_in(&dir.path().join(SPARES)).len(), 1);
        trim_folder(dir.path(), u64::MAX, SystemTime::now());
        assert_eq!(names_in(&dir.path().join(SPARES)), Vec::<String>::new());
    }

    #[test]
    fn spares_are_not_made_without_a_cache_folder_nor_after_a_discard() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A cache folder not made yet (a first run): no spares, and writes make their own.
        let folder = dir.path().join("cache-v1");
        let cache = in_folder(&folder);
        cache.spares.make(&folder.join(SPARES), 2);
        assert!(!folder.exists());
        cache.put_bytes("t", "k", "bin", &[1; 10]);
        assert!(folder.join("t/k.bin").exists());
        // Discarded: the spares go with the folder, and none comes back.
        cache.make_spares(2);
        spares_made(&cache, 2);
        assert_eq!(cache.discard(), Some(folder.clone()));
        cache.spares.make(&folder.join(SPARES), 2);
        assert!(!folder.exists(), "a spare put the folder back");
    }

    #[test]
    fn a_discarded_cache_waits_for_its_writes_so_none_comes_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let folder = dir.path().join("cache-v1");
        let cache = in_folder(&folder);
        for key in 0..20 {
            cache.put_soon("t", &format!("k{key}"), "bin", vec![7; 4096]);
        }
        assert_eq!(cache.discard(), Some(folder.clone()));
        assert!(
            !folder.exists(),
            "a write still under way put the folder back"
        );
    }

    #[test]
    fn an_entry_written_part_by_part_holds_what_framed_joins() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        // Parts around the writer's buffer: empty, small, and larger than it.
        let parts: Vec<Vec<u8>> = [0usize, 3, 70_000, 9, 200_000, 0]
            .iter()
            .enumerate()
            .map(|(k, &len)| vec![k as u8; len])
            .collect();
        cache.put_framed("t", "p", "bin", b"magic\n", &parts);
        let written =
            std::fs::read(cache.entry("t", "p", "bin").expect("an entry")).expect("written");
        assert_eq!(written, framed(b"magic\n", &parts));
        let length = written.len() as i64;
        assert_eq!(cache.grew.load(Ordering::Relaxed), length);
        // Written over: replaced whole, and the folder grew by nothing more.
        cache.put_framed("t", "p", "bin", b"magic\n", &parts[..2]);
        let again =
            std::fs::read(cache.entry("t", "p", "bin").expect("an entry")).expect("written");
        assert_eq!(again, framed(b"magic\n", &parts[..2]));
        assert_eq!(cache.grew.load(Ordering::Relaxed), again.len() as i64);
        // No temporary file left beside it.
        let names: Vec<String> = std::fs::read_dir(dir.path().join("t"))
            .expect("folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn the_ledger_sweeps_only_past_the_cap_or_after_a_day() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = in_folder(dir.path());
        cache.put_bytes("t", "a", "bin", &[1; 1000]);
        cache.put_bytes("t", "b", "bin", &[2; 1000]);
        // Written over by 400 bytes less: the run grew the folder by 1,600 bytes.
        cache.put_bytes("t", "b", "bin", &[3; 600]);
        assert_eq!(cache.grew.load(Ordering::Relaxed), 1600);
        let now = SystemTime::now();
        let ledger = |dir: &Path| Ledger::read(dir).expect("a ledger");
        // No ledger yet: the folder is swept, and the ledger holds what it found.
        assert!(trim_with_ledger(
            dir.path(),
            10_000,
            1600,
            now,
            &Spares::default()
        ));
        assert_eq!(
            ledger(dir.path()),
            Ledger {
                swept: seconds(now),
                bytes: 1600
            }
        );
        // A stale temporary file is left until the next sweep: a run under the cap adds what
        // it wrote to the estimate and reads no entry.
        let stale = stale_temporary_file(&dir.path().join("t"), now - STALE_TMP * 2);
        let later = now + std::time::Duration::from_secs(60);
        assert!(!trim_with_ledger(
            dir.path(),
            10_000,
            5000,
            later,
            &Spares::default()
        ));
        assert_eq!(ledger(dir.path()).bytes, 6600);
        assert_eq!(ledger(dir.path()).swept, seconds(now));
        assert!(stale.exists());
        // An entry written over by a smaller one shrinks the estimate, never below zero.
        assert!(!trim_with_ledger(
            dir.path(),
            10_000,
            -7000,
            later,
            &Spares::default()
        ));
        assert_eq!(ledger(dir.path()).bytes, 0);
        // Past the cap: swept, and the estimate is what is really there.
        assert!(!trim_with_ledger(
            dir.path(),
            10_000,
            9000,
            later,
            &Spares::default()
        ));
        assert!(trim_with_ledger(
            dir.path(),
            10_000,
            2000,
            later,
            &Spares::default()
        ));
        assert_eq!(ledger(dir.path()).bytes, 1600);
        assert_eq!(ledger(dir.path()).swept, seconds(later));
        assert!(
            !stale.exists(),
            "the sweep deleted the stale temporary file"
        );
        // A day after the last sweep: swept again, even under the cap.
        let next_day = later + SWEEP_EVERY;
        assert!(trim_with_ledger(
            dir.path(),
            10_000,
            10,
            next_day,
            &Spares::default()
        ));
        // A ledger from the future (the clock was set back) is not trusted.
        assert!(trim_with_ledger(
            dir.path(),
            10_000,
            10,
            now,
            &Spares::default()
        ));
        // A damaged ledger is a sweep, then written whole again.
        std::fs::write(dir.path().join(LEDGER), "driftguard-cache-ledger-1 12 x\n").expect("write");
        assert!(Ledger::read(dir.path()).is_none());
        assert!(trim_with_ledger(
            dir.path(),
            10_000,
            10,
            later,
            &Spares::default()
        ));
        assert_eq!(ledger(dir.path()).bytes, 1600);
        // Over a cap of 1,000 bytes the sweep keeps 75%: the least recently used entry goes.
        assert!(trim_with_ledger(
            dir.path(),
            1000,
            0,
            later,
            &Spares::default()
        ));
        assert_eq!(ledger(dir.path()).bytes, 600);
        assert!(dir.path().join("t/b.bin").exists());
        assert!(!dir.path().join("t/a.bin").exists());
    }

    #[test]
    fn clean_removes_the_folder_and_counts_what_it_held() {
        let git_dir = tempfile::tempdir().expect("temp dir");
        let nothing = clean(git_dir.path()).expect("clean");
        assert_eq!((nothing.files, nothing.bytes), (0, 0));
        let cache = DiskCache {
            dir: Some(folder(git_dir.path()).join("cache-v1")),
            ..Default::default()
        };
        cache.put("models", "a", &"x");
        cache.put("findings", "b", &"y");
        let cleaned = clean(git_dir.path()).expect("clean");
        assert_eq!(cleaned.files, 2);
        assert_eq!(cleaned.bytes, 6);
        assert!(!folder(git_dir.path()).exists());
    }
}
