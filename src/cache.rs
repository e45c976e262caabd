//! The on-disk parse cache of change checks, keyed by git blob id.
//!
//! A pre-commit check reads two snapshots (HEAD and the index) of a whole project; almost every
//! file is the same blob as in the previous run. This cache keeps, under the repository's git
//! directory (`<common dir>/driftguard/cache-v1/`, never in the work tree):
//!
//! - `models/<key>.json`: a model file's per-file extraction ([`crate::models::FileModels`]),
//!   keyed by blob id and path — tree-sitter parsing is the slowest step of a check;
//! - `findings/<key>.json`: the findings, warnings and counts of a whole snapshot, keyed by
//!   every relevant (path, blob id), the config text and the driftguard version — the snapshot a
//!   commit leaves behind is the next check's *before* side.
//!
//! The cache is best effort: a file that cannot be read, written or decoded is a miss, never an
//! error. Keys include the driftguard version, so an upgrade never reads an old layout. Each
//! folder is emptied when it holds more than [`MAX_ENTRIES`] files.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::discover::{FileKind, classify};
use crate::git::{BlobId, Entry};

/// Entries per folder before it is emptied.
const MAX_ENTRIES: usize = 20_000;

/// A cache folder, or none (plain directories, read-only git dirs, `DRIFTGUARD_NO_CACHE=1`).
#[derive(Debug, Clone, Default)]
pub struct DiskCache {
    dir: Option<PathBuf>,
}

impl DiskCache {
    /// The cache under a git directory.
    pub fn in_git_dir(git_dir: &Path) -> DiskCache {
        if std::env::var_os("DRIFTGUARD_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
            return DiskCache::default();
        }
        DiskCache {
            dir: Some(git_dir.join("driftguard").join("cache-v1")),
        }
    }

    pub fn get<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let path = self.dir.as_ref()?.join(kind).join(format!("{key}.json"));
        let bytes = std::fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn put<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        let Some(dir) = &self.dir else {
            return;
        };
        let folder = dir.join(kind);
        if std::fs::create_dir_all(&folder).is_err() {
            return;
        }
        if std::fs::read_dir(&folder).is_ok_and(|entries| entries.count() > MAX_ENTRIES) {
            let _ = std::fs::remove_dir_all(&folder);
            if std::fs::create_dir_all(&folder).is_err() {
                return;
            }
        }
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        // Write then rename, so a concurrent reader never sees half a file.
        let tmp = folder.join(format!("{key}.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, folder.join(format!("{key}.json")));
        }
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A stable 128-bit FNV-1a hash of the parts, as 32 hex digits. (std's hashers are not stable
/// across Rust versions; this key names files on disk.)
pub fn key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u128::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{hash:032x}")
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

/// The key of a model file's extraction: the build, the config, the path and the blob id.
pub fn model_key(config: &Config, path: &str, id: BlobId) -> String {
    key([
        build_identity().as_bytes(),
        config.fingerprint.as_bytes(),
        path.as_bytes(),
        id.as_bytes(),
    ])
}

/// The identity of a snapshot for the findings cache: the build, the config (its file and
/// text), and every relevant file and config file by path and blob id.
pub fn snapshot_key(entries: &[Entry], config: &Config) -> String {
    let mut parts: Vec<Vec<u8>> = vec![
        build_identity().as_bytes().to_vec(),
        config.fingerprint.as_bytes().to_vec(),
    ];
    for entry in entries {
        if classify(&entry.path, config) != FileKind::Other {
            parts.push(entry.path.as_bytes().to_vec());
            parts.push(entry.id.as_bytes().to_vec());
        }
    }
    key(parts.iter().map(Vec::as_slice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_separate_parts() {
        assert_eq!(key([b"a".as_slice(), b"bc"]), key([b"a".as_slice(), b"bc"]));
        assert_ne!(key([b"a".as_slice(), b"bc"]), key([b"ab".as_slice(), b"c"]));
        assert_eq!(key([b"x".as_slice()]).len(), 32);
    }

    #[test]
    fn a_round_trip_and_a_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = DiskCache {
            dir: Some(dir.path().to_path_buf()),
        };
        cache.put("t", "k", &vec![1, 2, 3]);
        assert_eq!(cache.get::<Vec<i32>>("t", "k"), Some(vec![1, 2, 3]));
        assert_eq!(cache.get::<Vec<i32>>("t", "other"), None);
        std::fs::write(dir.path().join("t").join("bad.json"), "{").expect("write");
        assert_eq!(cache.get::<Vec<i32>>("t", "bad"), None);
        assert_eq!(DiskCache::default().get::<Vec<i32>>("t", "k"), None);
    }
}
