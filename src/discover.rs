//! Which files are models, which are migrations, and in what order migrations run.
//!
//! Zero config: model files are found by content (see [`crate::models::is_candidate`]), SQL
//! migrations are `.sql` files under a folder named `migrations`, Alembic revisions are `.py`
//! files under a folder named `versions`. Down migrations (`*.down.sql`, a `down`/`rollback`
//! name segment) are never read. Config globs replace discovery; `exclude` is never read.
//! Folders of virtual environments and caches are never read either.

use std::cmp::Ordering;
use std::path::Path;

use crate::config::{Config, SourceKind};

/// Path segments never read: virtual environments, installed packages, caches.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "site-packages",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
];

/// Folders never read: [`SKIPPED_DIRS`], and copies kept aside — a folder whose name holds
/// `backup` (`backups_20251125/`, `bug_fix_backups/`, `models_BACKUP/`): models copied there
/// would be read twice, and findings would point at the copy.
pub fn is_skipped_dir(name: &str) -> bool {
    SKIPPED_DIRS.contains(&name) || contains_ignoring_case(name, "backup")
}

/// Whether `haystack` holds `needle` (ASCII, lower case), in any case; no allocation, since
/// [`classify`] runs for every file of both snapshots of a check.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// What a file is to driftguard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    /// A Python file that may declare models (confirmed by content).
    Model,
    /// A raw SQL migration, in the source with this index in [`Config::sources`] (`None`: the
    /// zero-config SQL source).
    Sql(Option<usize>),
    /// A possible Alembic revision; the string is its environment (the folder holding
    /// `versions/`), or the declared source's path.
    Alembic(String),
    /// A config file: a change to it re-checks everything.
    Config,
    Other,
}

/// Classifies a path (relative, `/`-separated).
pub fn classify(path: &str, config: &Config) -> FileKind {
    // The cheap tests first: most files of a repository are neither Python nor SQL.
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let at_root = file_name.len() == path.len();
    if at_root
        && (crate::config::CONFIG_NAMES.contains(&file_name) || file_name == "pyproject.toml")
    {
        return FileKind::Config;
    }
    let is_sql = file_name.ends_with(".sql");
    let is_py = file_name.ends_with(".py");
    if !is_sql && !is_py {
        return FileKind::Other;
    }
    // Inline: every path of both snapshots is classified (25,000 at 5,000 models / 20,000
    // migrations), and few are more than eight folders deep.
    let dirs: smallvec::SmallVec<[&str; 8]> = if at_root {
        smallvec::SmallVec::new()
    } else {
        path[..path.len() - file_name.len() - 1]
            .split('/')
            .collect()
    };
    let dirs = dirs.as_slice();
    if dirs.iter().any(|d| is_skipped_dir(d)) {
        return FileKind::Other;
    }
    if config.exclude.as_ref().is_some_and(|g| g.is_match(path)) {
        return FileKind::Other;
    }
    // Declared sources claim their folders first.
    for (i, source) in config.sources.iter().enumerate() {
        let inside = path
            .strip_prefix(&source.path)
            .is_some_and(|rest| rest.starts_with('/'))
            || source.path.is_empty()
            || source.path == ".";
        if !inside {
            continue;
        }
        match source.kind {
            SourceKind::Sql if is_sql && !is_down_migration(path) => {
                return FileKind::Sql(Some(i));
            }
            // Any Python file of a declared Alembic folder may be a revision (`versions/` or
            // not): its content decides.
            SourceKind::Alembic if is_py && file_name != "__init__.py" => {
                return FileKind::Alembic(source.path.clone());
            }
            _ => {}
        }
    }
    if is_sql {
        let migration = match &config.migrations {
            Some(globs) => globs.is_match(path),
            None => dirs.contains(&"migrations"),
        };
        if migration && !is_down_migration(path) {
            return FileKind::Sql(None);
        }
        return FileKind::Other;
    }
    // A `migrations:` glob that names Python files names Alembic revisions. It replaces
    // discovery only for the kind it names: `.sql` globs leave revisions to discovery.
    if config
        .migrations
        .as_ref()
        .is_some_and(|globs| globs.is_match(path))
        && file_name != "__init__.py"
    {
        return FileKind::Alembic(String::new());
    }
    if let Some(pos) = dirs.iter().rposition(|d| *d == "versions")
        && file_name != "__init__.py"
    {
        if config.sources.is_empty() {
            return FileKind::Alembic(dirs[..pos].join("/"));
        }
        return FileKind::Other;
    }
    match &config.models {
        Some(globs) if globs.is_match(path) => FileKind::Model,
        Some(_) => FileKind::Other,
        None if is_test_path(dirs, file_name) => FileKind::Other,
        None => FileKind::Model,
    }
}

/// The working tree's files that driftguard reads (models, migrations), untracked ones too,
/// ignored ones not (`.gitignore` is honoured), relative to `root`, `/`-separated, sorted.
/// Folders [`is_skipped_dir`] names are never entered.
pub fn walk(root: &Path, config: &Config) -> Vec<String> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_global(false)
        .filter_entry(|entry| {
            let name = entry.file_name().to_str().unwrap_or("");
            !(entry.file_type().is_some_and(|t| t.is_dir()) && is_skipped_dir(name))
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
        if !matches!(classify(&rel, config), FileKind::Other | FileKind::Config) {
            files.push(rel);
        }
    }
    files.sort();
    files
}

/// Test code: fixtures there are not the application's models. A `*_test.py` name alone does
/// not make a test (Airflow's model `connection_test.py`): see [`is_test_module`].
fn is_test_path(dirs: &[&str], file_name: &str) -> bool {
    dirs.iter().any(|d| *d == "tests" || *d == "test")
        || file_name.starts_with("test_")
        || file_name == "conftest.py"
}

/// A `*_test.py` file that imports `pytest` or `unittest`: a test module, whatever it maps.
/// Other `*_test.py` files are read like any model file.
pub fn is_test_module(path: &str, bytes: &[u8]) -> bool {
    const NEEDLES: &[&[u8]] = &[b"import pytest", b"import unittest", b"from unittest"];
    path.ends_with("_test.py")
        && (0..bytes.len()).any(|i| NEEDLES.iter().any(|n| bytes[i..].starts_with(n)))
}

/// `*.down.sql`, `0002_x_rollback.sql`, `rollback/0002.sql`, `down/…`.
pub fn is_down_migration(path: &str) -> bool {
    let is = |word: &str, names: &[&str]| names.iter().any(|n| word.eq_ignore_ascii_case(n));
    let mut segments = path.split('/').rev();
    let name = segments.next().unwrap_or("");
    let mut stem = name;
    while stem.len() >= 4 && stem.is_char_boundary(stem.len() - 4) {
        let (head, tail) = stem.split_at(stem.len() - 4);
        if !tail.eq_ignore_ascii_case(".sql") {
            break;
        }
        stem = head;
    }
    let name_down = stem
        .split(['.', '_', '-'])
        .any(|s| is(s, &["down", "rollback", "downgrade"]));
    let dir_down = segments.any(|d| is(d, &["down", "rollback", "rollbacks"]));
    name_down || dir_down
}

/// Natural order of migration files: by file name with digit runs compared as numbers, ties by
/// the whole path.
pub fn migration_order<'a>(a: &'a str, b: &'a str) -> Ordering {
    let name = |p: &'a str| p.rsplit('/').next().unwrap_or(p);
    natural_cmp(name(a), name(b)).then_with(|| a.cmp(b))
}

/// Sorts `items` in [`migration_order`] by `path(item)`. Items already in order (git lists a
/// folder's zero-padded names in it) are left where they are after one pass over neighbours,
/// with nothing copied (20,000 migration files: moving them out and back was ~3% of a new
/// edit's CPU); otherwise each file name is found once rather than in every comparison.
pub fn sort_in_migration_order<T>(items: &mut Vec<T>, path: impl Fn(&T) -> &str) {
    let name_at = |p: &str| p.rfind('/').map_or(0, |i| i + 1);
    let by_paths =
        |p: &str, q: &str| natural_cmp(&p[name_at(p)..], &q[name_at(q)..]).then_with(|| p.cmp(q));
    // Already in order (the usual case): checked in place, nothing moved.
    if items.is_sorted_by(|a, b| by_paths(path(a), path(b)) != Ordering::Greater) {
        return;
    }
    let mut named: Vec<(usize, T)> = items.drain(..).map(|t| (name_at(path(&t)), t)).collect();
    named.sort_by(|(x, a), (y, b)| {
        let (p, q) = (path(a), path(b));
        natural_cmp(&p[*x..], &q[*y..]).then_with(|| p.cmp(q))
    });
    items.extend(named.into_iter().map(|(_, t)| t));
}

/// Compares two strings with digit runs as numbers (`2_x` < `10_x`), case-insensitively, then
/// exactly.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let xn = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let yn = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (xd, yd) = (&x[..xn], &y[..yn]);
                let xt: &[u8] = {
                    let z = xd.iter().take_while(|c| **c == b'0').count();
                    &xd[z..]
                };
                let yt: &[u8] = {
                    let z = yd.iter().take_while(|c| **c == b'0').count();
                    &yd[z..]
                };
                let ord = xt.len().cmp(&yt.len()).then_with(|| xt.cmp(yt));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[xn..];
                y = &y[yn..];
            }
            (Some(c), Some(d)) => {
                let ord = c.to_ascii_lowercase().cmp(&d.to_ascii_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handbook_layout_is_classified_without_config() {
        let config = Config::default();
        assert_eq!(
            classify("apps/backend/src/db/models/core.py", &config),
            FileKind::Model
        );
        assert_eq!(
            classify(
                "database/migrations/002_smart_scheduling_phase1.sql",
                &config
            ),
            FileKind::Sql(None)
        );
        assert_eq!(
            classify(
                "apps/backend/src/db/migrations/20251126220831_x.sql",
                &config
            ),
            FileKind::Sql(None)
        );
        assert_eq!(
            classify("apps/backend/alembic/versions/abc_add.py", &config),
            FileKind::Alembic("apps/backend/alembic".into())
        );
        assert_eq!(classify("driftguard.yml", &config), FileKind::Config);
        assert_eq!(classify(".venv/lib/x/models.py", &config), FileKind::Other);
        assert_eq!(
            classify("apps/backend/tests/conftest.py", &config),
            FileKind::Other
        );
        assert_eq!(classify("docs/schema.sql", &config), FileKind::Other);
    }

    #[test]
    fn a_model_file_named_like_a_go_test_is_read_unless_it_imports_a_test_framework() {
        // Airflow 3 maps `connection_test_request` in `airflow/models/connection_test.py`.
        let config = Config::default();
        assert_eq!(
            classify("airflow/models/connection_test.py", &config),
            FileKind::Model
        );
        assert!(!is_test_module(
            "airflow/models/connection_test.py",
            b"from sqlalchemy.orm import Mapped\nclass ConnectionTestRequest(Base): ...\n"
        ));
        assert!(is_test_module(
            "app/models_test.py",
            b"import pytest\nfrom app.models import Base\n"
        ));
        assert_eq!(classify("app/test_models.py", &config), FileKind::Other);
    }

    #[test]
    fn down_migrations_are_never_read() {
        assert!(is_down_migration("db/migrations/0002_add.down.sql"));
        assert!(is_down_migration("db/migrations/rollback/0002_add.sql"));
        assert!(is_down_migration("db/migrations/0002_add_rollback.sql"));
        assert!(!is_down_migration(
            "db/migrations/0002_add_downtime_table.sql"
        ));
        assert!(!is_down_migration("db/migrations/0002_add.up.sql"));
        // In any case, as the names are written.
        assert!(is_down_migration("db/Rollbacks/0002_add.sql"));
        assert!(is_down_migration("db/migrations/0002_Add_DOWNGRADE.sql"));
        assert!(is_down_migration("db/migrations/0002_add.Down.sql.SQL"));
        assert!(!is_down_migration("db/migrations/0002_Downtime.sql"));
    }

    #[test]
    fn folders_kept_aside_are_skipped_in_any_case() {
        assert!(is_skipped_dir("models_BACKUP"));
        assert!(is_skipped_dir("backups_20251125"));
        assert!(is_skipped_dir("Bug_Fix_Backup"));
        assert!(is_skipped_dir("node_modules"));
        assert!(!is_skipped_dir("models"));
        assert!(!is_skipped_dir("back"));
        let config = Config::default();
        assert_eq!(
            classify("apps/models_Backup/core.py", &config),
            FileKind::Other
        );
        assert_eq!(classify("driftguard.yml", &config), FileKind::Config);
        assert_eq!(classify("sub/driftguard.yml", &config), FileKind::Other);
        assert_eq!(classify("models.py", &config), FileKind::Model);
        assert_eq!(classify("README.md", &config), FileKind::Other);
    }

    #[test]
    fn sorting_in_migration_order_gives_what_comparing_in_pairs_gives() {
        let paths = [
            "database/migrations/20251126220831_add_travel_fee.sql",
            "database/migrations/BATCH_1_COMBINED_MIGRATION.sql",
            "apps/backend/src/db/migrations/010_b.sql",
            "database/migrations/002_smart_scheduling_phase1.sql",
            "database/migrations/9_a.sql",
            "b/9_a.sql",
            "a/9_a.sql",
            "no_folder_1.sql",
            "x/y/.sql",
        ];
        let mut expected = paths.to_vec();
        expected.sort_by(|a, b| migration_order(a, b));
        let mut sorted: Vec<(usize, &str)> = paths.iter().copied().enumerate().collect();
        sort_in_migration_order(&mut sorted, |(_, p)| p);
        let sorted: Vec<&str> = sorted.into_iter().map(|(_, p)| p).collect();
        assert_eq!(sorted, expected);
        // Already in order: unchanged.
        let mut again: Vec<&str> = expected.clone();
        sort_in_migration_order(&mut again, |p| p);
        assert_eq!(again, expected);
    }

    #[test]
    fn natural_order_compares_numbers_by_value() {
        let mut files = vec![
            "database/migrations/20251126220831_add_travel_fee.sql",
            "database/migrations/BATCH_1_COMBINED_MIGRATION.sql",
            "apps/backend/src/db/migrations/010_b.sql",
            "database/migrations/002_smart_scheduling_phase1.sql",
            "database/migrations/9_a.sql",
        ];
        files.sort_by(|a, b| migration_order(a, b));
        assert_eq!(
            files,
            vec![
                "database/migrations/002_smart_scheduling_phase1.sql",
                "database/migrations/9_a.sql",
                "apps/backend/src/db/migrations/010_b.sql",
                "database/migrations/20251126220831_add_travel_fee.sql",
                "database/migrations/BATCH_1_COMBINED_MIGRATION.sql",
            ]
        );
    }
}
