//! The git boundary: the only module that touches git2.
//!
//! It opens the repository the way git's own hooks expect (`GIT_DIR`, `GIT_INDEX_FILE` — a
//! `git commit -a` or a partial commit runs the hook against a temporary index), resolves a
//! check mode into a *before* and an *after* [`Snapshot`], lists the files of a snapshot with
//! their blob ids, and reads their bytes. For `driftguard install` it also says where git looks
//! for hooks. Everything it returns is plain data; an `Err` is a "could not run" whose message
//! says how to fix it.
//!
//! The index — a listing's entries, and the stat data `check --all` takes blob ids from — is
//! read by gix-index (faster on a large index; format 4 and split indexes too), else by
//! libgit2. A listing of an index neither reads, a **sparse index** (`git sparse-checkout init
//! --cone --sparse-index`, the `sdir` extension), comes from the `git` command instead (`git ls-files --stage`, which expands sparse directories through their
//! trees), and the run says so in a note ([`Repo::notes`]). A **corrupt index** — one that does
//! not parse, or stages an object the repository does not have — is an error that says how to
//! rebuild it, never a run that silently checks nothing. A large tree's listing is kept by
//! the caller ([`KeptTrees`]) and read back instead of walked again.

use foldhash::{HashMap, HashSet};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{Oid, Repository};

use crate::error::Error;

/// A state of the repository's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshot {
    /// A commit's tree (HEAD, a merge base).
    Tree(Oid),
    /// The staged content (the index git will commit).
    Index,
    /// An unborn branch's parent: no files.
    Empty,
}

/// A file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the work tree root, `/`-separated.
    pub path: std::sync::Arc<str>,
    /// The blob id: equal ids mean equal bytes, so a parse can be reused.
    pub id: BlobId,
}

/// What [`Repo::change`] finds: each side's files and the paths that differ.
pub struct Change {
    pub before: Vec<Entry>,
    pub after: Vec<Entry>,
    pub changed: Vec<String>,
    /// Submodules whose recorded commit the change moves (sorted): driftguard does not read
    /// inside them.
    pub submodules: Vec<String>,
}

pub struct Repo {
    repo: Repository,
    root: PathBuf,
    /// What the run should be told (the index was read through `git`).
    notes: RefCell<Vec<String>>,
}

/// The staged files, however they were read.
enum Index {
    Libgit2(git2::Index),
    /// Read by `git ls-files --stage` (a sparse index).
    Listed(Vec<Entry>),
}

/// The bits of an index entry's flags that hold its merge stage (0: not conflicted).
const STAGE_MASK: u16 = 0x3000;

/// git's id of the empty blob: staged by `git add -N` without being written.
const EMPTY_BLOB: &str = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";

/// Tree listings kept between runs (the cache, see [`crate::cache`]). A tree's files never
/// change, so a large tree is walked once and then read back by its id: a pre-commit check
/// lists HEAD on every run, and walking a 20,000-file tree took ~10 ms where reading its
/// listing back takes ~2.
pub trait KeptTrees {
    /// The bytes kept for a tree (its id in hex), as [`KeptTrees::put`] was given them.
    fn get(&self, tree: &str) -> Option<crate::cache::CacheBytes>;
    fn put(&self, tree: &str, bytes: &[u8]);
}

/// Trees with fewer files are walked each time: faster than reading a file back.
const KEEP_TREES_FROM: usize = 2_000;

/// The fewest bytes an entry of a kept listing takes: its id and its path's length.
const LISTING_ENTRY_MIN: usize = 20 + 8;

/// The first bytes of a kept listing: another layout is never read as this one.
const LISTING_MAGIC: &[u8] = b"driftguard tree listing 1\n";

/// A listing (files, submodules) as bytes: per list a count, then per entry its id and its
/// path.
fn encode_listing(files: &[Entry], submodules: &[Entry]) -> Vec<u8> {
    let size: usize = files
        .iter()
        .chain(submodules)
        .map(|e| e.path.len() + LISTING_ENTRY_MIN)
        .sum();
    let mut out = Vec::with_capacity(LISTING_MAGIC.len() + 8 + size);
    out.extend_from_slice(LISTING_MAGIC);
    for list in [files, submodules] {
        out.extend_from_slice(&(list.len() as u64).to_le_bytes());
        for entry in list {
            out.extend_from_slice(entry.id.as_bytes());
            out.extend_from_slice(&(entry.path.len() as u64).to_le_bytes());
            out.extend_from_slice(entry.path.as_bytes());
        }
    }
    out
}

/// [`encode_listing`]'s bytes back; `None` for bytes it did not write (damaged, cut short,
/// another layout).
fn decode_listing(bytes: &[u8]) -> Option<(Vec<Entry>, Vec<Entry>)> {
    fn take<'b>(bytes: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
        let (head, tail) = bytes.split_at_checked(n)?;
        *bytes = tail;
        Some(head)
    }
    fn number(bytes: &mut &[u8]) -> Option<usize> {
        let raw: [u8; 8] = take(bytes, 8)?.try_into().ok()?;
        usize::try_from(u64::from_le_bytes(raw)).ok()
    }
    let mut rest = bytes.strip_prefix(LISTING_MAGIC)?;
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let count = number(&mut rest)?;
        // A count more entries than the bytes left could hold is damage.
        if count > rest.len() / LISTING_ENTRY_MIN {
            return None;
        }
        list.reserve_exact(count);
        for _ in 0..count {
            let id = BlobId::from_bytes(take(&mut rest, 20)?)?;
            let len = number(&mut rest)?;
            let path = std::str::from_utf8(take(&mut rest, len)?).ok()?;
            list.push(Entry {
                path: path.into(),
                id,
            });
        }
    }
    if !rest.is_empty() {
        return None;
    }
    let [files, submodules] = lists;
    Some((files, submodules))
}

/// A blob's id: equal ids mean equal bytes. Plain data, so that nothing outside this module
/// names git2's types. Compared by its bytes here rather than by git2's `Oid`, whose
/// comparisons call into libgit2 (a new edit compares ids for each of tens of thousands of
/// files it looks up in the parse pack).
#[derive(Debug, Clone, Copy)]
pub struct BlobId(Oid);

impl std::hash::Hash for BlobId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for BlobId {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for BlobId {}

impl PartialOrd for BlobId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BlobId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl BlobId {
    /// The id's 20 bytes, for cache keys.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The id whose bytes these are (as [`BlobId::as_bytes`] gave them); `None` for bytes
    /// that are no id.
    pub fn from_bytes(bytes: &[u8]) -> Option<BlobId> {
        Oid::from_bytes(bytes).ok().map(BlobId)
    }
}

impl std::fmt::Display for BlobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Repo {
    /// Opens the repository for a change check. Inside a git hook (`GIT_DIR` or
    /// `GIT_INDEX_FILE` set) the environment decides, exactly as git does; otherwise the
    /// repository containing `path` is discovered.
    pub fn open(path: &Path) -> Result<Repo, Error> {
        let from_env =
            std::env::var_os("GIT_DIR").is_some() || std::env::var_os("GIT_INDEX_FILE").is_some();
        // Objects read are not hashed again to check their ids (git's own reads do not): a
        // tree walk of a large repository spent a quarter of its time there.
        git2::opts::strict_hash_verification(false);
        let repo = if from_env {
            Repository::open_from_env()
        } else {
            Repository::discover(path)
        }
        .map_err(|e| {
            Error::Git(format!(
                "`{}` is not inside a git repository ({}); --staged and --base need one — run `driftguard check` without them to audit a plain directory",
                path.display(),
                e.message()
            ))
        })?;
        let root = repo.workdir().map(Path::to_path_buf).ok_or_else(|| {
            Error::Git("the repository is bare: driftguard needs a work tree".into())
        })?;
        Ok(Repo {
            repo,
            root,
            notes: RefCell::default(),
        })
    }

    /// Discovers a repository at or above `path`, or `None` for a plain directory.
    pub fn discover(path: &Path) -> Option<Repo> {
        let repo = Repository::discover(path).ok()?;
        let root = repo.workdir()?.to_path_buf();
        Some(Repo {
            repo,
            root,
            notes: RefCell::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The git directory shared by all worktrees (where driftguard keeps its cache).
    pub fn common_dir(&self) -> &Path {
        self.repo.commondir()
    }

    /// HEAD's tree, or [`Snapshot::Empty`] on an unborn branch (the first commit).
    pub fn head(&self) -> Result<Snapshot, Error> {
        match self.repo.head() {
            Ok(head) => {
                let tree = head
                    .peel_to_tree()
                    .map_err(|e| Error::Git(format!("cannot read HEAD: {}", e.message())))?;
                Ok(Snapshot::Tree(tree.id()))
            }
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                Ok(Snapshot::Empty)
            }
            Err(e) => Err(Error::Git(format!("cannot read HEAD: {}", e.message()))),
        }
    }

    /// The tree of the merge base of `reference` and HEAD, for `check --base`.
    pub fn merge_base_with(&self, reference: &str) -> Result<Snapshot, Error> {
        if reference.trim().is_empty() {
            return Err(Error::Usage(
                "--base needs a git ref to compare with (a branch, tag or commit, e.g. `--base origin/main`); it was empty — in CI, check that the variable it comes from is set"
                    .to_string(),
            ));
        }
        let target = self
            .repo
            .revparse_single(reference)
            .map_err(|_| self.missing_ref(reference))?;
        let target = target
            .peel_to_commit()
            .map_err(|_| Error::Git(format!("`{reference}` does not name a commit")))?;
        let head = self
            .repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|_| Error::Git("HEAD has no commit yet: commit before using --base".into()))?;
        match self.repo.merge_base(target.id(), head.id()) {
            Ok(base) => {
                let tree = self
                    .repo
                    .find_commit(base)
                    .and_then(|c| c.tree())
                    .map_err(|e| {
                        Error::Git(format!("cannot read the merge base: {}", e.message()))
                    })?;
                Ok(Snapshot::Tree(tree.id()))
            }
            Err(_) if self.repo.is_shallow() => Err(Error::Git(format!(
                "this is a shallow clone, so HEAD and `{reference}` have no merge base in it; fetch the full history (`git fetch --unshallow`, or `fetch-depth: 0` in actions/checkout)"
            ))),
            Err(_) => Err(Error::Git(format!(
                "HEAD and `{reference}` have no common ancestor; pass the branch this work started from with --base"
            ))),
        }
    }

    /// Why `reference` names nothing here, and what to fetch. A revision expression
    /// (`HEAD~1`, `main^`, `@{u}`) cannot be fetched by name: in a shallow clone it needs more
    /// history; a plain name can be fetched from `origin`.
    fn missing_ref(&self, reference: &str) -> Error {
        let expression = reference.contains(['~', '^', '@', ':', '{']);
        let shallow = self.repo.is_shallow();
        Error::Git(match (expression, shallow) {
            (true, true) => format!(
                "cannot resolve `{reference}`: this is a shallow clone, and the commits it names are not in it; fetch the history (`git fetch --unshallow`, or `git fetch --deepen=50`), and in GitHub Actions check out with `fetch-depth: 0`"
            ),
            (true, false) => format!(
                "cannot resolve `{reference}` in this repository: it names no commit here (check the expression with `git rev-parse {reference}`)"
            ),
            (false, _) => format!(
                "cannot find `{reference}` in this repository; fetch it first (`git fetch origin {}`){}, and in GitHub Actions check out with `fetch-depth: 0`",
                reference.trim_start_matches("origin/"),
                if shallow {
                    " — this is a shallow clone"
                } else {
                    ""
                }
            ),
        })
    }

    /// The files of a snapshot.
    pub fn entries(&self, snapshot: Snapshot) -> Result<Vec<Entry>, Error> {
        let (entries, _) = self.listing(snapshot, None, &[])?;
        if snapshot == Snapshot::Index {
            self.check_objects(&entries)?;
        }
        Ok(entries)
    }

    /// A snapshot's files ([`Repo::entries`], without looking the staged blobs up) and its
    /// submodules (each with the commit it records), in one pass.
    /// `share`: a listing in git's order (the other side of a change) whose paths the index's
    /// entries take instead of copies where they are the same.
    fn listing(
        &self,
        snapshot: Snapshot,
        kept: Option<&dyn KeptTrees>,
        share: &[Entry],
    ) -> Result<(Vec<Entry>, Vec<Entry>), Error> {
        let mut submodules = Vec::new();
        match snapshot {
            Snapshot::Empty => Ok((Vec::new(), submodules)),
            Snapshot::Index => {
                if let Some(listing) = self.quick_index_listing(share) {
                    return Ok(listing);
                }
                let entries = match self.index()? {
                    Index::Libgit2(index) => {
                        let mut entries = Vec::with_capacity(index.len());
                        for e in index.iter() {
                            let Ok(path) = std::str::from_utf8(&e.path) else {
                                continue;
                            };
                            let entry = Entry {
                                path: path.into(),
                                id: BlobId(e.id),
                            };
                            if e.mode == 0o160000 {
                                submodules.push(entry);
                            } else {
                                entries.push(entry);
                            }
                        }
                        entries
                    }
                    Index::Listed(entries) => entries,
                };
                Ok((entries, submodules))
            }
            Snapshot::Tree(id) => {
                let hex = id.to_string();
                if let Some(listing) = kept
                    .and_then(|k| k.get(&hex))
                    .and_then(|bytes| decode_listing(&bytes))
                {
                    return Ok(listing);
                }
                let tree = self
                    .repo
                    .find_tree(id)
                    .map_err(|e| Error::Git(format!("cannot read a tree: {}", e.message())))?;
                let mut out = Vec::new();
                tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                    let list = match entry.kind() {
                        Some(git2::ObjectType::Blob) => &mut out,
                        Some(git2::ObjectType::Commit) => &mut submodules,
                        _ => return git2::TreeWalkResult::Ok,
                    };
                    if let Ok(name) = entry.name() {
                        list.push(Entry {
                            path: format!("{dir}{name}").into(),
                            id: BlobId(entry.id()),
                        });
                    }
                    git2::TreeWalkResult::Ok
                })
                .map_err(|e| Error::Git(format!("cannot walk a tree: {}", e.message())))?;
                if let Some(kept) = kept
                    && out.len() + submodules.len() >= KEEP_TREES_FROM
                {
                    kept.put(&hex, &encode_listing(&out, &submodules));
                }
                Ok((out, submodules))
            }
        }
    }

    /// The folder git runs hooks from: `core.hooksPath` when set (a relative path is taken from
    /// the work tree root, where git runs hooks; a leading `~` is the home folder), else the
    /// common git dir's `hooks` — a linked worktree shares the main repository's hooks.
    pub fn hooks_dir(&self) -> Result<PathBuf, Error> {
        let config = self
            .repo
            .config()
            .map_err(|e| Error::Git(format!("cannot read the git config: {}", e.message())))?;
        match config.get_string("core.hooksPath") {
            Ok(value) if !value.is_empty() => {
                let home = std::env::var_os("HOME").map(PathBuf::from);
                Ok(self.root.join(expand_home(&value, home.as_deref())?))
            }
            Ok(_) => Ok(self.repo.commondir().join("hooks")),
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                Ok(self.repo.commondir().join("hooks"))
            }
            Err(e) => Err(Error::Git(format!(
                "cannot read core.hooksPath from the git config: {}",
                e.message()
            ))),
        }
    }

    /// The bytes of a blob.
    pub fn read_blob(&self, id: BlobId) -> Result<Vec<u8>, Error> {
        let blob = self
            .repo
            .find_blob(id.0)
            .map_err(|e| Error::Git(format!("cannot read blob {id}: {}", e.message())))?;
        Ok(blob.content().to_vec())
    }

    /// The staged files and submodules read by gix-index, which reads a large index about three
    /// times faster than libgit2 (20,000 entries: ~7 ms against ~19 ms, checksum checked by
    /// both). `None` for an index it cannot read or a sparse one (directory entries): then
    /// [`Repo::index`] reads it, with its messages for a corrupt index and its way around a
    /// sparse one. The entries are listed as libgit2 lists them: every stage, in index order.
    ///
    /// `share` (see [`Repo::listing`]): a path found there is shared, not copied — a change
    /// check's two listings hold the same 25,000 paths at 5,000 models / 20,000 migrations
    /// but for the few the change adds. Both lists are in git's order: one walk pairs them.
    fn quick_index_listing(&self, share: &[Entry]) -> Option<(Vec<Entry>, Vec<Entry>)> {
        let file = self.gix_index()?;
        let mut entries = Vec::with_capacity(file.entries().len());
        let mut submodules = Vec::new();
        let mut shared = share.iter().peekable();
        for e in file.entries() {
            let Ok(path) = std::str::from_utf8(e.path(&file)) else {
                continue;
            };
            let id = BlobId(Oid::from_bytes(e.id.as_bytes()).ok()?);
            while shared
                .next_if(|s| s.path.as_bytes() < path.as_bytes())
                .is_some()
            {}
            let path = match shared.peek() {
                Some(s) if &*s.path == path => std::sync::Arc::clone(&s.path),
                _ => path.into(),
            };
            let entry = Entry { path, id };
            if e.mode == gix_index::entry::Mode::COMMIT {
                submodules.push(entry);
            } else {
                entries.push(entry);
            }
        }
        Some((entries, submodules))
    }

    /// The index as gix-index reads it (checksum checked); `None` for an index it cannot read
    /// or a sparse one (directory entries), which libgit2 and the `git` command are left to.
    fn gix_index(&self) -> Option<gix_index::File> {
        let path = self.index_path();
        let size = std::fs::metadata(&path)
            .ok()
            .and_then(|m| usize::try_from(m.len()).ok());
        // Decoded before its checksum is known: a damaged entry count must not make gix
        // reserve more than a real index of this size could need (an in-memory entry is at
        // most about twice its on-disk bytes).
        let decode = || {
            gix_index::File::at(
                &path,
                gix_hash::Kind::Sha1,
                true,
                gix_index::decode::Options {
                    alloc_limit_bytes: size
                        .map(|len| len.saturating_mul(8).saturating_add(1 << 20)),
                    ..gix_index::decode::Options::default()
                },
            )
        };
        // The checksum of a large index is checked on a thread of its own while the entries
        // are decoded (the SHA-1 of a 25,000-entry index was ~2 ms on the path of every
        // check); a small one's here, first, which costs less than starting a thread. A
        // mismatch is `None`, as gix's own check gave, and libgit2 then says the index is
        // corrupt.
        let (file, checksum) = if size.is_some_and(|size| size < CHECKSUM_ASIDE_FROM) {
            let holds = index_checksum_holds(&path);
            (decode(), Ok(holds))
        } else {
            std::thread::scope(|scope| {
                let checksum = scope.spawn(|| index_checksum_holds(&path));
                (decode(), checksum.join())
            })
        };
        if !matches!(checksum, Ok(true)) {
            return None;
        }
        let file = file.ok()?;
        // A sparse directory (a submodule's mode holds the directory bits too).
        let sparse = file
            .entries()
            .iter()
            .any(|e| e.mode == gix_index::entry::Mode::DIR);
        (!sparse).then_some(file)
    }

    /// The index: libgit2's, or for a sparse index the `git` command's listing.
    fn index(&self) -> Result<Index, Error> {
        match self.repo.index() {
            Ok(index) => Ok(Index::Libgit2(index)),
            Err(e) if e.message().contains("unsupported mandatory extension") => {
                let entries = self.index_from_git(e.message())?;
                let note = format!(
                    "the index uses an extension driftguard's git library cannot read ({}: a sparse index?); read it with `git ls-files --stage` instead",
                    e.message()
                );
                if !self.notes.borrow().contains(&note) {
                    self.notes.borrow_mut().push(note);
                }
                Ok(Index::Listed(entries))
            }
            Err(e) => Err(self.corrupt_index(e.message())),
        }
    }

    /// Where git keeps the index this run reads (`GIT_INDEX_FILE` in a hook).
    fn index_path(&self) -> PathBuf {
        match std::env::var_os("GIT_INDEX_FILE").filter(|p| !p.is_empty()) {
            Some(path) => std::path::absolute(&path).unwrap_or_else(|_| PathBuf::from(path)),
            None => self.repo.path().join("index"),
        }
    }

    /// "The index is corrupt", with the way to rebuild it.
    fn corrupt_index(&self, why: &str) -> Error {
        let index = self.index_path();
        let shown = index
            .strip_prefix(&self.root)
            .unwrap_or(&index)
            .display()
            .to_string();
        Error::Git(format!(
            "the git index ({shown}) is corrupt: {why}. Rebuild it with `rm {shown} && git reset` (your work tree is kept; stage your changes again with `git add`)"
        ))
    }

    /// The staged blobs given must be in the repository: a corrupt index can name one that is
    /// not, and reading around it would check nothing. ([`Repo::entries`] checks every staged
    /// blob, [`Repo::change`] those the change stages.)
    fn check_objects<'e>(&self, entries: impl IntoIterator<Item = &'e Entry>) -> Result<(), Error> {
        let odb = self
            .repo
            .odb()
            .map_err(|e| Error::Git(format!("cannot read the object database: {}", e.message())))?;
        let empty = Oid::from_str(EMPTY_BLOB).ok();
        for entry in entries {
            if Some(entry.id.0) != empty && !odb.exists(entry.id.0) {
                return Err(self.corrupt_index(&format!(
                    "it stages `{}` as object {}, which the repository does not have",
                    entry.path, entry.id
                )));
            }
        }
        Ok(())
    }

    /// The staged files from `git ls-files --stage -z` (stage 0, no submodules): for an index
    /// libgit2 cannot read. Sparse directories are listed file by file.
    fn index_from_git(&self, why: &str) -> Result<Vec<Entry>, Error> {
        let output = Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.path())
            .arg("--work-tree")
            .arg(&self.root)
            .args(["-c", "advice.sparseIndexExpanded=false"])
            .args(["ls-files", "--stage", "-z"])
            .env("GIT_INDEX_FILE", self.index_path())
            .current_dir(&self.root)
            .output();
        let output = match output {
            Ok(output) if output.status.success() => output,
            Ok(output) => {
                return Err(self.corrupt_index(&format!(
                    "{why}, and `git ls-files` says: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                )));
            }
            Err(e) => {
                return Err(Error::Git(format!(
                    "the git index uses an extension driftguard's git library cannot read ({why}: a sparse index?), and the `git` command that could read it cannot run ({e}); install git, or turn the sparse index off with `git sparse-checkout init --no-sparse-index`"
                )));
            }
        };
        let mut entries = Vec::new();
        for record in output.stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let text = String::from_utf8_lossy(record);
            let Some((meta, path)) = text.split_once('\t') else {
                continue;
            };
            let mut fields = meta.split(' ');
            let (Some(mode), Some(id), Some(stage)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if mode == "160000" || stage != "0" {
                continue;
            }
            let id = Oid::from_str(id).map_err(|e| {
                Error::Git(format!(
                    "`git ls-files` listed a bad object id: {}",
                    e.message()
                ))
            })?;
            entries.push(Entry {
                path: path.into(),
                id: BlobId(id),
            });
        }
        Ok(entries)
    }

    /// The blob id of each work tree file in `paths` (relative to `dir`, a folder of the work
    /// tree), for `check --all`'s cache; `None` for a file that cannot be read. As `git status`
    /// does, an index entry's id is taken when the entry's stat data still matches the file
    /// (size, modification and change times to the nanosecond, inode and device); every other
    /// file is hashed as a blob — so is a *racily clean* one (modified no earlier than the
    /// index was written: an edit in the same tick keeps its stat data), every file when the
    /// index cannot be read (sparse, corrupt), and every file when git may convert
    /// bytes between the work tree and the index (`core.autocrlf`, an attributes file): then
    /// the index's id is not the id of the bytes on disk. Reads the index, never writes it.
    pub fn worktree_ids(&self, dir: &Path, paths: &[String]) -> Vec<Option<BlobId>> {
        let prefix = dir
            .canonicalize()
            .ok()
            .zip(self.root.canonicalize().ok())
            .and_then(|(dir, root)| {
                let rel = dir.strip_prefix(root).ok()?;
                let mut prefix = String::new();
                for part in rel.components() {
                    prefix.push_str(part.as_os_str().to_str()?);
                    prefix.push('/');
                }
                Some(prefix)
            });
        let s = crate::timing::span("index read");
        // The staged entries under `dir`, by their path relative to it, and the index's own
        // metadata (for racily clean entries).
        let staged = prefix
            .as_deref()
            .and_then(|prefix| self.staged_stats(prefix));
        drop(s);
        let _s = crate::timing::span("stat (and hash what changed)");
        let hashed = std::sync::atomic::AtomicUsize::new(0);
        use rayon::prelude::*;
        let ids = paths
            .par_iter()
            .map(|path| {
                let full = dir.join(path);
                if let Some((entries, index_meta)) = &staged
                    && let Some(entry) = entries.get(path.as_bytes())
                    && let Ok(meta) = std::fs::symlink_metadata(&full)
                    && stat_matches(entry, &meta, index_meta)
                {
                    return Some(entry.id);
                }
                hashed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let bytes = std::fs::read(&full).ok()?;
                Oid::hash_object(git2::ObjectType::Blob, &bytes)
                    .ok()
                    .map(BlobId)
            })
            .collect();
        crate::timing::count("files hashed (stat data not usable)", hashed.into_inner());
        ids
    }

    /// The stat data of the index's stage-0 entries under `prefix` (by their path after it)
    /// and the index file's metadata; `None` when the index cannot be read (then every file
    /// is hashed) or when git may convert bytes ([`Repo::may_convert_with`]). Read by
    /// gix-index (~3x faster than libgit2 at 20,000 entries); a sparse index, or one gix cannot
    /// read, by libgit2 as before.
    fn staged_stats(&self, prefix: &str) -> Option<StagedStats> {
        match self.staged_stats_gix(prefix) {
            Some(read) => read,
            None => self.staged_stats_libgit2(prefix),
        }
    }

    /// [`Repo::staged_stats`] through gix-index: `None` for an index it cannot read or a
    /// sparse one (left to libgit2), `Some(None)` when it read the index but no stat data is
    /// to be trusted.
    fn staged_stats_gix(&self, prefix: &str) -> Option<Option<StagedStats>> {
        let file = self.gix_index()?;
        if self.may_convert_with(file.entries().iter().map(|e| e.path(&file))) {
            return Some(None);
        }
        let entries = file
            .entries()
            .iter()
            .filter(|e| e.flags.stage_raw() == 0)
            .filter_map(|e| {
                let relative = e.path(&file).strip_prefix(prefix.as_bytes())?.to_vec();
                Some((relative, StagedStat::of_gix(e)?))
            })
            .collect();
        Some(
            std::fs::metadata(self.index_path())
                .ok()
                .map(|meta| (entries, meta)),
        )
    }

    /// [`Repo::staged_stats`] through libgit2.
    fn staged_stats_libgit2(&self, prefix: &str) -> Option<StagedStats> {
        let index = self.repo.index().ok()?;
        if self.may_convert(&index) {
            return None;
        }
        let entries = index
            .iter()
            .filter(|e| e.flags & STAGE_MASK == 0)
            .filter_map(|e| {
                let relative = e.path.strip_prefix(prefix.as_bytes())?.to_vec();
                Some((relative, StagedStat::of_libgit2(&e)))
            })
            .collect();
        let meta = std::fs::metadata(index.path()?).ok()?;
        Some((entries, meta))
    }

    /// Whether git may convert a file's bytes on their way into the index (end of line
    /// conversion, a filter, an encoding): `core.autocrlf` on, or any attributes file —
    /// tracked `.gitattributes`, `info/attributes`, or the user's (`core.attributesFile`, the
    /// XDG default). Then the index's ids are not the ids of the files on disk.
    fn may_convert(&self, index: &git2::Index) -> bool {
        self.may_convert_with(index.iter().map(|e| e.path))
    }

    /// [`Repo::may_convert`], given the staged paths.
    fn may_convert_with<P: AsRef<[u8]>>(&self, staged: impl Iterator<Item = P>) -> bool {
        let config = self.repo.config().ok();
        let get = |name: &str| config.as_ref().and_then(|c| c.get_string(name).ok());
        if get("core.autocrlf").is_some_and(|v| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "false" | "no" | "off" | "0" | ""
            )
        }) {
            return true;
        }
        if self.repo.commondir().join("info/attributes").exists()
            || self.repo.path().join("info/attributes").exists()
        {
            return true;
        }
        let user_file = get("core.attributesFile")
            .map(|v| expand_home(&v, std::env::var_os("HOME").map(PathBuf::from).as_deref()))
            .map(|p| p.map_or(true, |p| p.exists()));
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .is_some_and(|c| c.join("git/attributes").exists());
        if user_file.unwrap_or(xdg) {
            return true;
        }
        staged.into_iter().any(|path| {
            let path = path.as_ref();
            path == b".gitattributes" || path.ends_with(b"/.gitattributes")
        })
    }

    /// Notes for the run's warnings (the index was read through `git`).
    pub fn notes(&self) -> Vec<String> {
        self.notes.borrow().clone()
    }

    /// A change between two snapshots: the files of each (as [`Repo::entries`] lists them)
    /// and the paths that differ (added, modified or deleted; both sides of a rename).
    ///
    /// The paths come from the two listings, not from a diff: libgit2's tree-to-index diff
    /// reads every tree again and took twice as long as `git diff --cached` on a large
    /// repository, and the listings are needed anyway. Of the staged blobs, only those the
    /// before side lacks are looked up in the object database ([`Repo::check_objects`]): the
    /// others are the before side's own.
    /// A tree listed before is read back from `kept` rather than walked again.
    pub fn change(
        &self,
        before: Snapshot,
        after: Snapshot,
        kept: &dyn KeptTrees,
    ) -> Result<Change, Error> {
        let (before_entries, before_submodules) = self.listing(before, Some(kept), &[])?;
        let (after_entries, after_submodules) = self.listing(after, Some(kept), &before_entries)?;
        let changed = changed_between(&before_entries, &after_entries);
        let old: HashMap<&str, BlobId> =
            before_submodules.iter().map(|e| (&*e.path, e.id)).collect();
        let submodules = after_submodules
            .iter()
            .filter(|e| old.get(&*e.path) != Some(&e.id))
            .map(|e| e.path.to_string())
            .collect();
        if after == Snapshot::Index {
            let changed_set: HashSet<&str> = changed.iter().map(String::as_str).collect();
            let staged: Vec<&Entry> = after_entries
                .iter()
                .filter(|e| changed_set.contains(&*e.path))
                .collect();
            self.check_objects(staged)?;
        }
        Ok(Change {
            before: before_entries,
            after: after_entries,
            changed,
            submodules,
        })
    }

    /// Those of `paths` that [`Repo::unstaged_paths`] would list, asked file by file: no walk
    /// of the work tree (a pre-commit check asks this of the config files on every run).
    ///
    /// `staged` is the index's listing ([`Repo::change`]'s after side). A path with no file in
    /// the work tree has nothing to stage; an untracked one is unstaged unless ignored; a
    /// tracked one is unstaged when its bytes are not the staged blob. Only when git may
    /// convert bytes on their way into the index ([`Repo::may_convert`]) is libgit2's status
    /// of the file asked: that status diffs HEAD, the index and the work tree, and asking it
    /// for the four config names cost a pre-commit check on 20,000 files ~25 ms even with no
    /// config file at all.
    pub fn unstaged_among(&self, paths: &[&str], staged: &[Entry]) -> Vec<String> {
        let wanted = git2::Status::WT_NEW | git2::Status::WT_MODIFIED | git2::Status::WT_RENAMED;
        let converts = std::cell::OnceCell::new();
        paths
            .iter()
            .filter(|path| {
                let full = self.root.join(path);
                let Ok(meta) = std::fs::symlink_metadata(&full) else {
                    return false;
                };
                if meta.is_dir() {
                    return false;
                }
                let entry = match staged.binary_search_by(|e| (*e.path).cmp(path)) {
                    Ok(at) => staged.get(at),
                    // A listing out of git's order (never seen, not promised).
                    Err(_) => staged.iter().find(|e| &*e.path == **path),
                };
                let Some(entry) = entry else {
                    return !self.repo.is_path_ignored(path).unwrap_or(false);
                };
                if *converts
                    .get_or_init(|| self.may_convert_with(staged.iter().map(|e| e.path.as_bytes())))
                {
                    return self
                        .repo
                        .status_file(Path::new(path))
                        .is_ok_and(|status| status.intersects(wanted));
                }
                blob_id_on_disk(&full, &meta).is_none_or(|id| id != entry.id.0)
            })
            .map(|path| path.to_string())
            .collect()
    }

    /// [`Repo::unstaged_paths`] in `folders` and below them only, asked of the files there
    /// rather than of git's status of the whole work tree: a tracked file is unstaged when its
    /// stat data no longer matches the index's and its bytes are not the staged blob, an
    /// untracked one unless git ignores it. A conflicted path (staged at stages 1–3 only) is
    /// neither. When the index cannot be read by gix-index or git may convert bytes on their
    /// way into it ([`Repo::may_convert_with`]), git's status answers as before.
    ///
    /// Used to say "this migration is not staged" when a check has findings: libgit2's status
    /// of 25,000 files took ~45% of such a check at 5,000 models / 20,000 migrations (130–160
    /// ms in all, against ~50 ms for a clean one), most of it beyond the `stat` of each file.
    ///
    /// `keep`: the paths asked about (a migration file's, by the config); others are neither
    /// compared nor asked of git's ignore rules (an Alembic folder's `__pycache__`).
    pub fn unstaged_in(
        &self,
        folders: &[String],
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, Error> {
        let Some(file) = self.gix_index() else {
            return self.unstaged_paths();
        };
        if self.may_convert_with(file.entries().iter().map(|e| e.path(&file))) {
            return self.unstaged_paths();
        }
        let Ok(index_meta) = std::fs::metadata(self.index_path()) else {
            return self.unstaged_paths();
        };
        let under = |path: &[u8]| {
            folders.iter().any(|folder| {
                path.strip_prefix(folder.as_bytes())
                    .is_some_and(|rest| rest.first() == Some(&b'/'))
            })
        };
        let mut staged: HashMap<&[u8], StagedStat> = HashMap::default();
        let mut conflicted: HashSet<&[u8]> = HashSet::default();
        for entry in file.entries() {
            let path = entry.path(&file).as_ref();
            if !under(path) {
                continue;
            }
            if entry.flags.stage_raw() != 0 {
                conflicted.insert(path);
            } else if let Some(stat) = StagedStat::of_gix(entry) {
                staged.insert(path, stat);
            }
        }
        let mut found = Vec::new();
        for folder in folders {
            files_below(&self.root, folder, keep, &mut found);
        }
        found.sort_unstable();
        found.dedup();
        use rayon::prelude::*;
        let root = &self.root;
        // `(path, true)`: tracked and unstaged; `(path, false)`: untracked (git's ignore rules
        // are asked below: libgit2's repository is used from one thread).
        let unstaged: Vec<(String, bool)> = found
            .into_par_iter()
            .filter_map(|path| {
                let key = path.as_bytes();
                if conflicted.contains(key) {
                    return None;
                }
                let Some(entry) = staged.get(key) else {
                    return Some((path, false));
                };
                let full = root.join(&path);
                let meta = std::fs::symlink_metadata(&full).ok()?;
                if stat_matches(entry, &meta, &index_meta) {
                    return None;
                }
                let id = blob_id_on_disk(&full, &meta)?;
                (id != entry.id.0).then_some((path, true))
            })
            .collect();
        Ok(unstaged
            .into_iter()
            .filter(|(path, tracked)| *tracked || !self.repo.is_path_ignored(path).unwrap_or(false))
            .map(|(path, _)| path)
            .collect())
    }

    /// Files that differ between the index and the work tree, or are untracked and not
    /// ignored: what `git add` would still stage. Used to say "this migration is not staged".
    pub fn unstaged_paths(&self) -> Result<Vec<String>, Error> {
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .map_err(|e| Error::Git(format!("cannot read git status: {}", e.message())))?;
        let wanted = git2::Status::WT_NEW | git2::Status::WT_MODIFIED | git2::Status::WT_RENAMED;
        Ok(statuses
            .iter()
            .filter(|s| s.status().intersects(wanted))
            .filter_map(|s| s.path().ok().map(str::to_string))
            .collect())
    }
}

/// The blob id git gives the file at `full` as it is on disk (`meta`: its own metadata, not
/// its target's): a symbolic link's is its target path's, any other file's its bytes'. `None`
/// when it cannot be read.
fn blob_id_on_disk(full: &Path, meta: &std::fs::Metadata) -> Option<Oid> {
    let bytes = if meta.file_type().is_symlink() {
        std::fs::read_link(full).ok()?.to_str()?.as_bytes().to_vec()
    } else {
        std::fs::read(full).ok()?
    };
    Oid::hash_object(git2::ObjectType::Blob, &bytes).ok()
}

/// The files in `folder` (relative to `root`, `/`-separated) and in the folders below it that
/// `keep` takes, appended to `out` as paths relative to `root`. Symbolic links are listed, not
/// followed; a folder holding a `.git` (a nested repository, a submodule's checkout: not this
/// index's files) and names that are not UTF-8 are skipped, as is a folder that cannot be read.
fn files_below(root: &Path, folder: &str, keep: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
    let Ok(read) = std::fs::read_dir(root.join(folder)) else {
        return;
    };
    for entry in read.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = format!("{folder}/{name}");
        if kind.is_dir() {
            if std::fs::symlink_metadata(entry.path().join(".git")).is_err() {
                files_below(root, &path, keep, out);
            }
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// The stat data of staged entries by path, and the index file's metadata.
type StagedStats = (HashMap<Vec<u8>, StagedStat>, std::fs::Metadata);

/// What the index keeps of a staged file to tell it unchanged on disk: its blob id and 32
/// bits of each stat field, as git writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StagedStat {
    id: BlobId,
    size: u32,
    mtime: (u32, u32),
    ctime: (u32, u32),
    ino: u32,
    dev: u32,
    /// Intent-to-add (`git add -N`: the empty blob) or skip-worktree: the file on disk is
    /// not what the entry describes.
    skip: bool,
}

impl StagedStat {
    fn of_libgit2(entry: &git2::IndexEntry) -> StagedStat {
        // The extended flags' intent-to-add and skip-worktree bits.
        const EXTENDED_SKIP: u16 = 0x2000 | 0x4000;
        StagedStat {
            id: BlobId(entry.id),
            size: entry.file_size,
            mtime: (entry.mtime.seconds() as u32, entry.mtime.nanoseconds()),
            ctime: (entry.ctime.seconds() as u32, entry.ctime.nanoseconds()),
            ino: entry.ino,
            dev: entry.dev,
            skip: entry.flags_extended & EXTENDED_SKIP != 0,
        }
    }

    fn of_gix(entry: &gix_index::Entry) -> Option<StagedStat> {
        use gix_index::entry::Flags;
        Some(StagedStat {
            id: BlobId(Oid::from_bytes(entry.id.as_bytes()).ok()?),
            size: entry.stat.size,
            mtime: (entry.stat.mtime.secs, entry.stat.mtime.nsecs),
            ctime: (entry.stat.ctime.secs, entry.stat.ctime.nsecs),
            ino: entry.stat.ino,
            dev: entry.stat.dev,
            skip: entry
                .flags
                .intersects(Flags::INTENT_TO_ADD | Flags::SKIP_WORKTREE),
        })
    }
}

/// Whether an index entry's stat data still describes the file `meta` describes, and the
/// entry is not racily clean (the file was modified before the index `index_meta` was written).
#[cfg(unix)]
fn stat_matches(
    entry: &StagedStat,
    meta: &std::fs::Metadata,
    index_meta: &std::fs::Metadata,
) -> bool {
    use std::os::unix::fs::MetadataExt;
    if entry.skip {
        return false;
    }
    // A smudged entry (git zeroes the size of a racily clean one when writing the index).
    if entry.size == 0 || !meta.is_file() {
        return false;
    }
    let modified = (meta.mtime(), meta.mtime_nsec());
    if modified >= (index_meta.mtime(), index_meta.mtime_nsec()) {
        return false;
    }
    // The index keeps 32 bits of each field, as git does.
    entry.size == meta.size() as u32
        && entry.mtime.0 == meta.mtime() as u32
        && i64::from(entry.mtime.1) == meta.mtime_nsec()
        && entry.ctime.0 == meta.ctime() as u32
        && i64::from(entry.ctime.1) == meta.ctime_nsec()
        && entry.ino == meta.ino() as u32
        && entry.dev == meta.dev() as u32
}

/// Without unix stat data every file is hashed.
#[cfg(not(unix))]
fn stat_matches(_: &StagedStat, _: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// The paths whose blob differs between two listings, or that only one has; sorted.
///
/// Both listings are normally in git's order — a tree walk and the index both sort by the
/// bytes of the full path — so one merge pass finds them; listings out of that order (never
/// seen, but not promised) are compared through maps.
fn changed_between(before: &[Entry], after: &[Entry]) -> Vec<String> {
    let sorted = |entries: &[Entry]| entries.is_sorted_by(|a, b| a.path < b.path);
    if !(sorted(before) && sorted(after)) {
        return changed_between_unordered(before, after);
    }
    let mut paths = Vec::new();
    let (mut old, mut new) = (before.iter().peekable(), after.iter().peekable());
    loop {
        match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(o), Some(n)) if o.path == n.path => {
                if o.id != n.id {
                    paths.push(n.path.to_string());
                }
                old.next();
                new.next();
            }
            (Some(o), Some(n)) if o.path < n.path => {
                paths.push(o.path.to_string());
                old.next();
            }
            (Some(o), None) => {
                paths.push(o.path.to_string());
                old.next();
            }
            (_, Some(n)) => {
                paths.push(n.path.to_string());
                new.next();
            }
        }
    }
    paths
}

fn changed_between_unordered(before: &[Entry], after: &[Entry]) -> Vec<String> {
    let old: HashMap<&str, BlobId> = before.iter().map(|e| (&*e.path, e.id)).collect();
    let new: HashMap<&str, BlobId> = after.iter().map(|e| (&*e.path, e.id)).collect();
    let mut paths: Vec<String> = after
        .iter()
        .filter(|e| old.get(&*e.path) != Some(&e.id))
        .chain(before.iter().filter(|e| !new.contains_key(&*e.path)))
        .map(|e| e.path.to_string())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// `~` and `~/…` → the home folder, as git expands `core.hooksPath`. `~user/…` is not
/// supported: the message says to write the path out.
fn expand_home(value: &str, home: Option<&Path>) -> Result<PathBuf, Error> {
    let rest = match value.strip_prefix('~') {
        None => return Ok(PathBuf::from(value)),
        Some(rest) => rest,
    };
    let rest = match rest.strip_prefix('/') {
        Some(rest) => rest,
        None if rest.is_empty() => rest,
        None => {
            return Err(Error::Git(format!(
                "core.hooksPath is `{value}`: driftguard expands only `~/`, not `~user/`; set it to the full path"
            )));
        }
    };
    let home = home.ok_or_else(|| {
        Error::Git(format!(
            "core.hooksPath is `{value}` but HOME is not set, so `~` cannot be expanded"
        ))
    })?;
    Ok(home.join(rest))
}

/// From this many bytes on, an index's checksum is checked beside its decoding
/// ([`Repo::gix_index`]): 256 KiB is about 2,500 entries, whose SHA-1 takes ~0.2 ms.
const CHECKSUM_ASIDE_FROM: usize = 256 * 1024;

/// Whether an index file's trailing checksum is the SHA-1 of the bytes before it, as git
/// checks it; an all-zero trailer (`index.skipHash`) holds. Read in 64 KiB pieces: no copy of
/// the whole file.
fn index_checksum_holds(path: &Path) -> bool {
    use std::io::Read;
    const TRAILER: usize = 20;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return false;
    };
    let Some(mut left) = len.checked_sub(TRAILER as u64) else {
        return false;
    };
    let mut hasher = gix_hash::hasher(gix_hash::Kind::Sha1);
    let mut buffer = vec![0u8; 1 << 16];
    while left > 0 {
        let want = buffer
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        let Some(piece) = buffer.get_mut(..want) else {
            return false;
        };
        if file.read_exact(piece).is_err() {
            return false;
        }
        hasher.update(piece);
        left -= want as u64;
    }
    let mut trailer = [0u8; TRAILER];
    if file.read_exact(&mut trailer).is_err() {
        return false;
    }
    trailer == [0u8; TRAILER]
        || hasher
            .try_finalize()
            .is_ok_and(|sum| sum.as_bytes() == trailer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_compare_as_git_compares_them() {
        let ids: Vec<BlobId> = [
            [0u8; 20],
            [255; 20],
            [7; 20],
            [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8],
            [
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
            ],
        ]
        .iter()
        .map(|bytes| BlobId::from_bytes(bytes).expect("an id"))
        .collect();
        for a in &ids {
            for b in &ids {
                assert_eq!(a == b, a.0 == b.0, "{a} == {b}");
                assert_eq!(a.cmp(b), a.0.cmp(&b.0), "{a} cmp {b}");
            }
        }
    }

    fn entry(path: &str, content: &str) -> Entry {
        Entry {
            path: path.into(),
            id: BlobId(Oid::hash_object(git2::ObjectType::Blob, content.as_bytes()).unwrap()),
        }
    }

    #[test]
    fn changed_paths_from_sorted_listings_match_the_unordered_comparison() {
        let before = vec![
            entry("a.py", "1"),
            entry("app/models.py", "2"),
            entry("app/z.py", "3"),
            entry("db/migrations/001.sql", "4"),
            entry("zz.py", "5"),
        ];
        let after = vec![
            entry("a.py", "1"),
            entry("app-old/x.py", "6"),
            entry("app/models.py", "2 changed"),
            entry("db/migrations/001.sql", "4"),
            entry("db/migrations/002.sql", "7"),
        ];
        let expected = [
            "app-old/x.py",
            "app/models.py",
            "app/z.py",
            "db/migrations/002.sql",
            "zz.py",
        ];
        assert_eq!(changed_between(&before, &after), expected);
        assert_eq!(changed_between_unordered(&before, &after), expected);
        // Out of git's order (never seen): the maps give the same answer.
        let mut shuffled = after.clone();
        shuffled.reverse();
        assert_eq!(changed_between(&before, &shuffled), expected);
        assert!(changed_between(&before, &before).is_empty());
        assert_eq!(changed_between(&[], &before[..1]), ["a.py"]);
        assert_eq!(changed_between(&before[..1], &[]), ["a.py"]);
    }

    #[test]
    fn a_kept_listing_reads_back_as_written_and_damage_is_a_miss() {
        let files = vec![
            entry("apps/backend/src/db/models/customer.py", "1"),
            entry("database/migrations/001_ün.sql", "2"),
            entry("empty", ""),
        ];
        let submodules = vec![entry("vendor/shared", "3")];
        let bytes = encode_listing(&files, &submodules);
        assert_eq!(
            decode_listing(&bytes),
            Some((files.clone(), submodules.clone()))
        );
        assert_eq!(
            decode_listing(&encode_listing(&[], &[])),
            Some((Vec::new(), Vec::new()))
        );
        // Cut anywhere, or with bytes after the end, it is not a listing.
        for cut in 0..bytes.len() {
            assert_eq!(decode_listing(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_listing(&longer), None);
        // Another layout, or a count no file could hold.
        let mut other = bytes.clone();
        other[LISTING_MAGIC.len() - 2] = b'9';
        assert_eq!(decode_listing(&other), None);
        let mut huge = bytes.clone();
        huge[LISTING_MAGIC.len()..LISTING_MAGIC.len() + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(decode_listing(&huge), None);
        // A path that is not UTF-8.
        let mut bad = bytes;
        let at = LISTING_MAGIC.len() + 8 + 20 + 8;
        bad[at] = 0xff;
        assert_eq!(decode_listing(&bad), None);
    }

    /// Listings kept in memory, counting what is read and written.
    #[derive(Default)]
    struct Kept {
        trees: RefCell<HashMap<String, Vec<u8>>>,
        hits: std::cell::Cell<usize>,
    }

    impl KeptTrees for Kept {
        fn get(&self, tree: &str) -> Option<crate::cache::CacheBytes> {
            let bytes = self
                .trees
                .borrow()
                .get(tree)
                .cloned()
                .map(crate::cache::CacheBytes::Read);
            if bytes.is_some() {
                self.hits.set(self.hits.get() + 1);
            }
            bytes
        }

        fn put(&self, tree: &str, bytes: &[u8]) {
            self.trees
                .borrow_mut()
                .insert(tree.to_string(), bytes.to_vec());
        }
    }

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    /// The listing libgit2 gives, for comparing with the quick one.
    fn libgit2_index_listing(repo: &Repo) -> (Vec<Entry>, Vec<Entry>) {
        let index = repo.repo.index().expect("index");
        let (mut files, mut submodules) = (Vec::new(), Vec::new());
        for e in index.iter() {
            let entry = Entry {
                path: String::from_utf8(e.path).expect("utf-8").into(),
                id: BlobId(e.id),
            };
            if e.mode == 0o160000 {
                submodules.push(entry);
            } else {
                files.push(entry);
            }
        }
        (files, submodules)
    }

    #[test]
    fn a_large_tree_is_walked_once_then_read_back_and_the_index_reads_as_libgit2_reads_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let migrations = root.join("database/migrations");
        std::fs::create_dir_all(&migrations).expect("folder");
        for n in 0..KEEP_TREES_FROM {
            std::fs::write(
                migrations.join(format!("{n:05}.sql")),
                format!("ALTER TABLE t ADD COLUMN c{n} int;\n"),
            )
            .expect("write");
        }
        std::fs::write(root.join("models.py"), "x = 1\n").expect("write");
        std::fs::write(root.join("run.sh"), "#!/bin/sh\n").expect("write");
        git(root, &["add", "-A"]);
        git(root, &["update-index", "--chmod=+x", "run.sh"]);
        // A submodule entry, and a file added with intent to add.
        let commit = "0123456789abcdef0123456789abcdef01234567";
        git(
            root,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{commit},vendor/lib"),
            ],
        );
        git(root, &["commit", "-qm", "one"]);
        std::fs::write(root.join("models.py"), "x = 2\n").expect("write");
        std::fs::write(root.join("new.py"), "y = 1\n").expect("write");
        git(root, &["add", "models.py"]);
        git(root, &["add", "-N", "new.py"]);

        let repo = Repo::open(root).expect("repo");
        // The quick index listing is libgit2's, entry for entry.
        let quick = repo.quick_index_listing(&[]).expect("gix-index reads it");
        assert_eq!(quick, libgit2_index_listing(&repo));
        assert_eq!(quick.1.len(), 1);
        assert!(quick.0.iter().any(|e| &*e.path == "new.py"));
        // Index format 4 (paths prefix-compressed), then a split index (libgit2 cannot read
        // one): the same listing.
        git(root, &["update-index", "--index-version", "4"]);
        let v4 = Repo::open(root).expect("repo");
        assert_eq!(v4.quick_index_listing(&[]).as_ref(), Some(&quick));
        assert_eq!(libgit2_index_listing(&v4), quick);
        git(root, &["update-index", "--split-index"]);
        let split = Repo::open(root).expect("repo");
        assert!(
            split.repo.index().is_err(),
            "libgit2 reads split indexes now"
        );
        assert_eq!(split.quick_index_listing(&[]).as_ref(), Some(&quick));
        git(
            root,
            &["update-index", "--no-split-index", "--index-version", "2"],
        );

        let kept = Kept::default();
        let head = repo.head().expect("head");
        let first = repo.change(head, Snapshot::Index, &kept).expect("change");
        assert_eq!(first.after, quick.0, "sharing paths changes no entry");
        // The index's paths are the tree's wherever both hold the path; only `new.py` is new.
        let mut shared = 0;
        for entry in &first.after {
            match first.before.binary_search_by(|b| b.path.cmp(&entry.path)) {
                Ok(at) => {
                    assert!(
                        std::sync::Arc::ptr_eq(&first.before[at].path, &entry.path),
                        "{} is shared",
                        entry.path
                    );
                    shared += 1;
                }
                Err(_) => assert_eq!(&*entry.path, "new.py"),
            }
        }
        assert_eq!(shared, first.before.len());
        assert_eq!(kept.trees.borrow().len(), 1, "HEAD's tree is kept");
        assert_eq!(kept.hits.get(), 0);
        let again = repo.change(head, Snapshot::Index, &kept).expect("change");
        assert_eq!(kept.hits.get(), 1, "HEAD's tree is read back");
        assert_eq!(first.before, again.before);
        assert_eq!(first.changed, again.changed);
        assert_eq!(first.changed, ["models.py", "new.py"]);
        assert_eq!(
            first.before.len(),
            KEEP_TREES_FROM + 2,
            "every file, the submodule apart"
        );
        // Damaged bytes are walked again, with the same answer.
        for bytes in kept.trees.borrow_mut().values_mut() {
            bytes.truncate(bytes.len() / 2);
        }
        let walked = repo.change(head, Snapshot::Index, &kept).expect("change");
        assert_eq!(walked.before, first.before);
        assert_eq!(walked.submodules, first.submodules);
        // A small tree is not kept.
        let small = Kept::default();
        let empty_tree = repo
            .repo
            .treebuilder(None)
            .expect("builder")
            .write()
            .expect("tree");
        repo.change(Snapshot::Tree(empty_tree), Snapshot::Index, &small)
            .expect("change");
        assert!(small.trees.borrow().is_empty());
    }

    #[test]
    fn unstaged_files_are_told_as_libgit2_status_tells_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        let write = |name: &str, text: &str| std::fs::write(root.join(name), text).expect("write");
        write(".gitignore", "ignored.yml\n");
        for name in ["clean.yml", "edited.yml", "gone.yml", "restaged.yml"] {
            write(name, "a: 1\n");
        }
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", "one"]);
        write("edited.yml", "a: 2\n");
        std::fs::remove_file(root.join("gone.yml")).expect("remove");
        write("restaged.yml", "a: 3\n");
        git(root, &["add", "restaged.yml"]);
        write("new.yml", "a: 1\n");
        write("ignored.yml", "a: 1\n");
        std::fs::create_dir(root.join("folder.yml")).expect("folder");
        let names = [
            "absent.yml",
            "clean.yml",
            "edited.yml",
            "gone.yml",
            "restaged.yml",
            "new.yml",
            "ignored.yml",
            "folder.yml",
        ];
        let repo = Repo::open(root).expect("repo");
        let status = |repo: &Repo| -> Vec<String> {
            let wanted =
                git2::Status::WT_NEW | git2::Status::WT_MODIFIED | git2::Status::WT_RENAMED;
            names
                .iter()
                .filter(|n| {
                    repo.repo
                        .status_file(Path::new(n))
                        .is_ok_and(|s| s.intersects(wanted))
                })
                .map(|n| n.to_string())
                .collect()
        };
        let (staged, _) = repo.listing(Snapshot::Index, None, &[]).expect("index");
        assert_eq!(
            repo.unstaged_among(&names, &staged),
            ["edited.yml", "new.yml"]
        );
        assert_eq!(repo.unstaged_among(&names, &staged), status(&repo));
        // With an attributes file git may convert bytes: libgit2 is asked.
        write(".gitattributes", "*.yml text eol=crlf\n");
        git(root, &["add", ".gitattributes"]);
        let repo = Repo::open(root).expect("repo");
        let (staged, _) = repo.listing(Snapshot::Index, None, &[]).expect("index");
        assert_eq!(repo.unstaged_among(&names, &staged), status(&repo));
    }

    #[test]
    fn the_index_stat_data_reads_as_libgit2_reads_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(root.join("svc/models")).expect("folder");
        let write = |name: &str, text: &str| std::fs::write(root.join(name), text).expect("write");
        write("top.py", "x = 1\n");
        for n in 0..40 {
            write(&format!("svc/models/m{n}.py"), &format!("y = {n}\n"));
        }
        write("svc/skipped.py", "z = 1\n");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", "one"]);
        git(root, &["update-index", "--skip-worktree", "svc/skipped.py"]);
        write("svc/intent.py", "w = 1\n");
        git(root, &["add", "-N", "svc/intent.py"]);
        write("svc/models/m3.py", "y = 33\n");
        git(root, &["add", "svc/models/m3.py"]);
        let repo = Repo::open(root).expect("repo");
        for prefix in ["", "svc/", "svc/models/"] {
            let quick = repo
                .staged_stats_gix(prefix)
                .expect("gix reads the index")
                .expect("no conversion");
            let plain = repo.staged_stats_libgit2(prefix).expect("libgit2 reads it");
            let sorted = |stats: &StagedStats| {
                let mut all: Vec<(Vec<u8>, StagedStat)> =
                    stats.0.iter().map(|(k, v)| (k.clone(), *v)).collect();
                all.sort_by(|a, b| a.0.cmp(&b.0));
                all
            };
            assert_eq!(sorted(&quick), sorted(&plain), "under {prefix:?}");
        }
        let (stats, _) = repo.staged_stats("svc/").expect("stats");
        assert_eq!(stats.len(), 42, "{:?}", stats.keys().collect::<Vec<_>>());
        assert!(stats[b"skipped.py".as_slice()].skip);
        assert!(stats[b"intent.py".as_slice()].skip);
        assert!(!stats[b"models/m3.py".as_slice()].skip);
        // With an attributes file git may convert bytes: no stat data is trusted.
        write(".gitattributes", "*.py text eol=crlf\n");
        git(root, &["add", ".gitattributes"]);
        let repo = Repo::open(root).expect("repo");
        assert_eq!(repo.staged_stats_gix("").map(|s| s.is_none()), Some(true));
        assert!(repo.staged_stats("").is_none());
    }

    #[test]
    fn expand_home_follows_git() {
        let home = Path::new("/home/ana");
        assert_eq!(
            expand_home("~/hooks", Some(home)).ok(),
            Some(PathBuf::from("/home/ana/hooks"))
        );
        assert_eq!(
            expand_home("~", Some(home)).ok(),
            Some(PathBuf::from("/home/ana"))
        );
        assert_eq!(
            expand_home(".githooks", Some(home)).ok(),
            Some(PathBuf::from(".githooks"))
        );
        assert_eq!(
            expand_home("/srv/hooks", None).ok(),
            Some(PathBuf::from("/srv/hooks"))
        );
        assert!(expand_home("~bob/hooks", Some(home)).is_err());
        assert!(expand_home("~/hooks", None).is_err());
    }
}
