//! Test helpers: real git repositories in temp dirs and the real `driftguard` binary.

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

    /// Runs git and returns the whole output, success or not.
    pub fn git_output(&self, args: &[&str]) -> Output {
        isolate(Command::new("git").args(args).current_dir(self.path()))
            .output()
            .expect("git runs")
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
    pub fn git_with(&self, args: &[&str], env: &[(&str, &OsStr)]) -> Output {
        git_in(self.path(), args, env)
    }

    /// Runs driftguard in the repository.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }
}

/// The path of the built binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_driftguard"))
}

/// Runs git in `dir` (a linked worktree, say) with extra environment variables.
pub fn git_in(dir: &Path, args: &[&str], env: &[(&str, &OsStr)]) -> Output {
    let mut cmd = Command::new("git");
    isolate(cmd.args(args).current_dir(dir));
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("git runs")
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

/// A finished driftguard run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
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
    let output = cmd.output().expect("driftguard runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
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
