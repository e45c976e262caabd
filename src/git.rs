//! The git boundary: the only module that touches git2.
//!
//! It opens the repository the way git's own hooks expect (`GIT_DIR`, `GIT_INDEX_FILE` — a
//! `git commit -a` or a partial commit runs the hook against a temporary index), resolves a
//! check mode into a *before* and an *after* [`Snapshot`], lists the files of a snapshot with
//! their blob ids, and reads their bytes. For `driftguard install` it also says where git looks
//! for hooks. Everything it returns is plain data; an `Err` is a "could not run" whose message
//! says how to fix it.

use std::path::{Path, PathBuf};

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
    pub path: String,
    /// The blob id: equal ids mean equal bytes, so a parse can be reused.
    pub id: BlobId,
}

pub struct Repo {
    repo: Repository,
    root: PathBuf,
}

/// A blob's id: equal ids mean equal bytes. Plain data, so that nothing outside this module
/// names git2's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(Oid);

impl BlobId {
    /// The id's 20 bytes, for cache keys.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
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
        Ok(Repo { repo, root })
    }

    /// Discovers a repository at or above `path`, or `None` for a plain directory.
    pub fn discover(path: &Path) -> Option<Repo> {
        let repo = Repository::discover(path).ok()?;
        let root = repo.workdir()?.to_path_buf();
        Some(Repo { repo, root })
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
        let target = self.repo.revparse_single(reference).map_err(|_| {
            Error::Git(format!(
                "cannot find `{reference}` in this repository; fetch it first (`git fetch origin {}`), and in GitHub Actions check out with `fetch-depth: 0`",
                reference.trim_start_matches("origin/")
            ))
        })?;
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

    /// The files of a snapshot.
    pub fn entries(&self, snapshot: Snapshot) -> Result<Vec<Entry>, Error> {
        match snapshot {
            Snapshot::Empty => Ok(Vec::new()),
            Snapshot::Index => {
                let index = self.index()?;
                Ok(index
                    .iter()
                    .filter(|e| e.mode != 0o160000)
                    .filter_map(|e| {
                        let path = String::from_utf8(e.path).ok()?;
                        Some(Entry {
                            path,
                            id: BlobId(e.id),
                        })
                    })
                    .collect())
            }
            Snapshot::Tree(id) => {
                let tree = self
                    .repo
                    .find_tree(id)
                    .map_err(|e| Error::Git(format!("cannot read a tree: {}", e.message())))?;
                let mut out = Vec::new();
                tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                    if entry.kind() == Some(git2::ObjectType::Blob)
                        && let Ok(name) = entry.name()
                    {
                        out.push(Entry {
                            path: format!("{dir}{name}"),
                            id: BlobId(entry.id()),
                        });
                    }
                    git2::TreeWalkResult::Ok
                })
                .map_err(|e| Error::Git(format!("cannot walk a tree: {}", e.message())))?;
                Ok(out)
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

    fn index(&self) -> Result<git2::Index, Error> {
        self.repo
            .index()
            .map_err(|e| Error::Git(format!("cannot read the index: {}", e.message())))
    }

    /// Paths that differ between two snapshots (added, modified, deleted or renamed, both
    /// sides of a rename).
    pub fn changed_paths(&self, before: Snapshot, after: Snapshot) -> Result<Vec<String>, Error> {
        let tree = |s: Snapshot| -> Result<Option<git2::Tree<'_>>, Error> {
            match s {
                Snapshot::Tree(id) => self
                    .repo
                    .find_tree(id)
                    .map(Some)
                    .map_err(|e| Error::Git(format!("cannot read a tree: {}", e.message()))),
                _ => Ok(None),
            }
        };
        let mut options = git2::DiffOptions::new();
        options.ignore_submodules(true);
        let diff = match after {
            Snapshot::Index => {
                let index = self.index()?;
                self.repo.diff_tree_to_index(
                    tree(before)?.as_ref(),
                    Some(&index),
                    Some(&mut options),
                )
            }
            _ => self.repo.diff_tree_to_tree(
                tree(before)?.as_ref(),
                tree(after)?.as_ref(),
                Some(&mut options),
            ),
        }
        .map_err(|e| Error::Git(format!("cannot diff: {}", e.message())))?;
        let mut paths = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path().and_then(Path::to_str)
                    && !paths.iter().any(|p| p == path)
                {
                    paths.push(path.to_string());
                }
            }
        }
        Ok(paths)
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

#[cfg(test)]
mod tests {
    use super::*;

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
