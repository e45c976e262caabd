//! Test helpers: real git repositories in temp dirs, the real `driftguard` binary, and what a
//! user sees of a run as one text to snapshot.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A git repository in a temp dir, isolated from the machine's git config.
pub struct TestRepo {
    pub dir: TempDir,
}

/// Environment for every git and driftguard call: no global or system config, a fixed
/// identity, no colours.
pub fn isolate(cmd: &mut Command) -> &mut Command {
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
}

impl TestRepo {
    /// `git init` on branch `main`.
    pub fn new() -> Self {
        let repo = TestRepo::plain();
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A temp dir that is not a git repository.
    pub fn plain() -> Self {
        TestRepo {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, content: &str) -> &Self {
        self.write_bytes(path, content.as_bytes())
    }

    pub fn write_bytes(&self, path: &str, content: &[u8]) -> &Self {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(full, content).expect("write");
        self
    }

    /// Runs git and asserts success; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let output = isolate(Command::new("git").args(args).current_dir(self.path()))
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    pub fn commit_all(&self, message: &str) -> &Self {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self
    }

    pub fn stage(&self, paths: &[&str]) -> &Self {
        let mut args = vec!["add", "--"];
        args.extend_from_slice(paths);
        self.git(&args);
        self
    }

    /// Runs git with extra environment variables (`PATH` for hooks, `DRIFTGUARD_SKIP` …);
    /// returns the whole output, success or not.
    pub fn git_with(&self, args: &[&str], env: &[(&str, &OsStr)]) -> Run {
        git_in(self.path(), args, env)
    }

    /// Runs driftguard in the repository; its snapshot calls the repository `[REPO]`.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args).naming(self.path(), "[REPO]")
    }
}

/// The path of the built binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_driftguard"))
}

/// Runs git in `dir` (a linked worktree, say) with extra environment variables; returns the
/// whole output, success or not.
pub fn git_in(dir: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Run {
    let mut cmd = Command::new("git");
    isolate(cmd.args(args).current_dir(dir));
    for (key, value) in env {
        cmd.env(key, value);
    }
    Run::new("git", args, &cmd.output().expect("git runs")).naming(dir, "[REPO]")
}

/// `PATH` with the built binary's folder first, for git hooks that look `driftguard` up.
pub fn path_with_binary() -> OsString {
    let mut dirs = vec![binary().parent().expect("binary folder").to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH")
}

/// `PATH` without any folder that holds a `driftguard`: git and sh stay reachable.
pub fn path_without_binary() -> OsString {
    let dirs = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|dir| !dir.join("driftguard").exists())
        .collect::<Vec<_>>();
    std::env::join_paths(dirs).expect("PATH")
}

/// A finished run of driftguard (or of git, for a commit through a hook).
#[derive(Debug)]
pub struct Run {
    /// The command line as a user would type it, for the snapshot's first line.
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Folders the snapshot names, such as `[REPO]`, longest first; see [`Run::naming`].
    names: Vec<(PathBuf, &'static str)>,
}

impl Run {
    pub fn new(program: &str, args: &[&str], output: &Output) -> Self {
        let mut command = program.to_string();
        for arg in args {
            command.push(' ');
            command.push_str(&quoted(arg));
        }
        Run {
            command,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            names: Vec::new(),
        }
    }

    /// Makes the snapshot show `folder` (a temp dir) as `name`, `[HOME]` say, rather than as a
    /// nameless `[TEMP]`. A later name for the same folder wins.
    pub fn naming(mut self, folder: &Path, name: &'static str) -> Self {
        self.names.retain(|(known, _)| known != folder);
        self.names.push((folder.to_path_buf(), name));
        self.names
            .sort_by_key(|(known, _)| std::cmp::Reverse(known.as_os_str().len()));
        self
    }

    /// Everything the user sees of the run, as one text for a snapshot: the command line, the
    /// exit status, then stdout and stderr, with what depends on the machine [`redact`]ed.
    pub fn shown(&self) -> String {
        let mut text = format!("$ {}\nexit: {}\n", self.command, self.code);
        for (name, stream) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            text.push_str("--- ");
            text.push_str(name);
            text.push('\n');
            text.push_str(stream);
            if !stream.is_empty() && !stream.ends_with('\n') {
                text.push_str("\n[no newline at the end]\n");
            }
        }
        for (folder, name) in &self.names {
            text = replace_path(&text, folder, name);
        }
        redact(&text)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The rule codes of the findings in JSON output, in report order.
    pub fn findings_rules(&self) -> Vec<String> {
        self.findings().into_iter().map(|f| f.0).collect()
    }

    /// `(rule, "schema.table[.column]", line)` of each finding in JSON output.
    pub fn findings(&self) -> Vec<(String, String, u64)> {
        let json = self.json();
        json["findings"]
            .as_array()
            .expect("findings array")
            .iter()
            .map(|f| {
                let t = &f["target"];
                let mut target = format!(
                    "{}.{}",
                    t["schema"].as_str().unwrap_or("?"),
                    t["table"].as_str().unwrap_or("?")
                );
                if let Some(c) = t["column"].as_str() {
                    target.push('.');
                    target.push_str(c);
                }
                (
                    f["rule"].as_str().unwrap_or("?").to_string(),
                    target,
                    f["location"]["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }
}

/// An argument as a shell would need it: bare when it is plain, in single quotes otherwise.
fn quoted(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+[]".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Replaces `folder`, as given and as the file system resolves it, with `name`.
fn replace_path(text: &str, folder: &Path, name: &str) -> String {
    let mut text = text.replace(&folder.display().to_string(), name);
    if let Ok(real) = folder.canonicalize() {
        text = text.replace(&real.display().to_string(), name);
    }
    text
}

/// Replaces what depends on the machine or the release with a name in brackets, so that a
/// snapshot reads the same everywhere and across version bumps:
///
/// - the built binary's path: `[BINARY]`;
/// - the checkout (`CARGO_MANIFEST_DIR`): `[CHECKOUT]`;
/// - a temp dir made by `tempfile` (`$TMPDIR/.tmpXXXXXX`, also through symlinks): `[TEMP]`;
/// - the crate's version, as a whole word: `[VERSION]`.
///
/// Panics when the temp folder still shows afterwards: a machine path the snapshot must not
/// keep.
pub fn redact(text: &str) -> String {
    let mut text = text.replace(&binary().display().to_string(), "[BINARY]");
    text = text.replace(env!("CARGO_MANIFEST_DIR"), "[CHECKOUT]");
    let temp = std::env::temp_dir();
    let mut temps = vec![temp.display().to_string()];
    if let Ok(real) = temp.canonicalize() {
        temps.push(real.display().to_string());
    }
    for folder in &temps {
        text = replace_temp_dirs(&text, &format!("{}/.tmp", folder.trim_end_matches('/')));
    }
    for folder in &temps {
        let folder = format!("{}/", folder.trim_end_matches('/'));
        assert!(
            !text.contains(&folder),
            "a temp path the redaction does not know:\n{text}"
        );
    }
    replace_word(&text, env!("CARGO_PKG_VERSION"), "[VERSION]")
}

/// Replaces `prefix` and the random letters after it (`/tmp/.tmpAbC123`) with `[TEMP]`.
fn replace_temp_dirs(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        out.push_str("[TEMP]");
        rest = rest[at + prefix.len()..].trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    }
    out.push_str(rest);
    out
}

/// Replaces `word` where no digit or dot touches it: `0.1.0` but not `10.1.0` or `0.1.0.1`.
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let touches = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = if at > 0 {
            rest[..at].chars().last()
        } else {
            out.chars().last()
        };
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        out.push_str(if touches(before) || touches(after) {
            word
        } else {
            by
        });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Snapshots what the user sees of a run ([`Run::shown`]) under the test's name;
/// `assert_shown!(step, run)` adds `@step` to the name, for a test that runs more than once.
macro_rules! assert_shown {
    ($step:expr, $run:expr) => {
        insta::with_settings!({ snapshot_suffix => $step }, {
            insta::assert_snapshot!($run.shown())
        })
    };
    ($run:expr) => {
        insta::assert_snapshot!($run.shown())
    };
}
pub(crate) use assert_shown;

#[test]
fn redact_names_what_depends_on_the_machine() {
    let temp = tempfile::tempdir().expect("temp dir");
    let version = env!("CARGO_PKG_VERSION");
    let text = format!(
        "{binary} ran in {temp}/x from {checkout}/examples; v{version}, not 1{version} or {version}.1\n",
        binary = binary().display(),
        temp = temp.path().display(),
        checkout = env!("CARGO_MANIFEST_DIR"),
    );
    assert_eq!(
        redact(&text),
        format!(
            "[BINARY] ran in [TEMP]/x from [CHECKOUT]/examples; v[VERSION], not 1{version} or {version}.1\n"
        )
    );
    let run = Run {
        command: "driftguard install".to_string(),
        code: 0,
        stdout: format!("in {}/.git/hooks", temp.path().display()),
        stderr: String::new(),
        names: Vec::new(),
    }
    .naming(temp.path(), "[REPO]");
    assert_eq!(
        run.shown(),
        "$ driftguard install\nexit: 0\n--- stdout\nin [REPO]/.git/hooks\n[no newline at the end]\n--- stderr\n"
    );
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_in_with(dir, args, &[])
}

/// Runs driftguard in `dir` with extra environment variables.
pub fn run_in_with(dir: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Run {
    let mut cmd = Command::new(binary());
    isolate(cmd.args(args).current_dir(dir));
    for (key, value) in env {
        cmd.env(key, value);
    }
    Run::new("driftguard", args, &cmd.output().expect("driftguard runs"))
}

/// The handbook's shape: a `core.customers` model and the migration that creates its table.
pub const BASE_PY: &str =
    "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n";

pub const CUSTOMER_PY: &str = r#"from typing import Optional

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..base_class import Base


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
"#;

pub const INITIAL_SQL: &str = r#"-- Migration: initial
BEGIN;
CREATE SCHEMA IF NOT EXISTS core;
CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL
);
COMMIT;
"#;

pub const MODELS: &str = "apps/backend/src/db/models/core.py";
pub const BASE: &str = "apps/backend/src/db/base_class.py";
pub const MIGRATIONS: &str = "database/migrations";

/// A committed repository with the handbook's layout and no gap.
pub fn handbook_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(BASE, BASE_PY)
        .write(MODELS, CUSTOMER_PY)
        .write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL_SQL)
        .commit_all("initial");
    repo
}

/// The customer model with one more column, at line 15.
pub fn customer_with(extra: &str) -> String {
    format!("{CUSTOMER_PY}    {extra}\n")
}

/// Damages the kept entries of cache folder `kind` (`replays`, `resolutions`) that hold a
/// column named `marker`: the column's flags and its name's length become a number too long
/// for its type, so that the column list does not decode. Returns how many entries held it.
pub fn damage_kept_column(repo: &TestRepo, kind: &str, marker: &[u8]) -> usize {
    let folder = repo.path().join(".git/driftguard/cache-v1").join(kind);
    let mut damaged = 0;
    for entry in std::fs::read_dir(&folder).expect("a kept entry") {
        let path = entry.expect("an entry").path();
        let mut bytes = std::fs::read(&path).expect("reads");
        if let Some(at) = bytes.windows(marker.len()).position(|w| w == marker) {
            bytes[at - 2] = 0xff;
            bytes[at - 1] = 0xff;
            std::fs::write(&path, &bytes).expect("writes");
            damaged += 1;
        }
    }
    damaged
}

/// Commits `model` (at `path`) and `migration` (which creates its table), keeps a resolution
/// of them by checking `staged` staged as the customer model (a gap: exit 1), then damages
/// the kept column `marker` ([`damage_kept_column`]). The customer edit stays staged.
pub fn keep_then_damage_model_column(
    repo: &TestRepo,
    (path, model): (&str, &str),
    migration: &str,
    staged: &str,
    marker: &[u8],
) {
    repo.write(path, model);
    repo.write(&format!("{MIGRATIONS}/002_orders.sql"), migration);
    repo.commit_all("orders");
    repo.write(MODELS, &customer_with(staged));
    repo.git(&["add", "-A"]);
    let first = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(first.code, 1, "{}", first.shown());
    assert_eq!(damage_kept_column(repo, "resolutions", marker), 1);
}
