//! End-to-end tests of `driftguard install` / `uninstall` and of the hook script they write:
//! real repositories, real `git commit`s through the installed hook, the real binary.

use std::ffi::OsStr;
use std::path::Path;

use crate::common::*;

const TIER: &str = "loyalty_tier: Mapped[Optional[str]] = mapped_column(String(16))";
const TIER_SQL: &str = "ALTER TABLE core.customers ADD COLUMN loyalty_tier VARCHAR(16);\n";
const FOREIGN: &str = "#!/bin/sh\ntouch foreign-hook-ran\n";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hook(repo: &TestRepo) -> std::path::PathBuf {
    repo.path().join(".git/hooks/pre-commit")
}

fn write_executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// `git commit -q` in `dir` with the built driftguard first on PATH. git sends the hook's
/// output to its own stderr.
fn commit_in(dir: &Path, message: &str, env: &[(&str, &OsStr)]) -> Run {
    let path = path_with_binary();
    let mut all = vec![("PATH", path.as_os_str())];
    all.extend_from_slice(env);
    git_in(dir, &["commit", "-q", "-m", message], &all)
}

fn commit(repo: &TestRepo, message: &str, env: &[(&str, &OsStr)]) -> Run {
    commit_in(repo.path(), message, env)
}

fn stage_gap(repo: &TestRepo) {
    repo.write(MODELS, &customer_with(TIER)).stage(&[MODELS]);
}

#[test]
fn install_writes_an_executable_hook_and_a_second_install_is_a_no_op() {
    let repo = handbook_repo();
    let run = repo.run(&["install"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("first", run);
    let text = read(&hook(&repo));
    assert!(text.contains("# driftguard-managed-hook"));
    assert!(text.contains("check --staged"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(hook(&repo))
        .expect("hook")
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "the hook must be executable");

    let again = repo.run(&["install"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_shown!("again", again);
    assert_eq!(read(&hook(&repo)), text);
    assert!(!repo.path().join(".git/hooks/pre-commit.legacy").exists());
}

#[test]
fn a_commit_with_a_gap_is_blocked_by_the_installed_hook_and_passes_with_the_migration() {
    let repo = handbook_repo();
    assert_eq!(repo.run(&["install"]).code, 0);
    stage_gap(&repo);
    let out = commit(&repo, "add loyalty tier", &[]);
    assert_ne!(out.code, 0, "the hook must block the commit: {out:?}");
    assert_shown!("blocked", out);

    let migration = format!("{MIGRATIONS}/002_loyalty_tier.sql");
    repo.write(&migration, TIER_SQL).stage(&[&migration]);
    let out = commit(&repo, "add loyalty tier with its migration", &[]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn driftguard_skip_lets_a_commit_through_and_says_so() {
    let repo = handbook_repo();
    assert_eq!(repo.run(&["install"]).code, 0);
    stage_gap(&repo);
    let out = commit(&repo, "skip", &[("DRIFTGUARD_SKIP", OsStr::new("1"))]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_shown!(out);
}

#[test]
fn a_missing_binary_stops_the_commit_with_install_instructions() {
    let repo = handbook_repo();
    assert_eq!(repo.run(&["install"]).code, 0);
    repo.write("notes.txt", "x\n").stage(&["notes.txt"]);
    let path = path_without_binary();
    let out = repo.git_with(&["commit", "-q", "-m", "notes"], &[("PATH", &path)]);
    assert_ne!(out.code, 0, "never a silent pass: {out:?}");
    assert_shown!("not_on_path", out);

    // DRIFTGUARD names the program; a wrong name is an error too, naming it.
    let out = repo.git_with(
        &["commit", "-q", "-m", "notes"],
        &[
            ("PATH", &path),
            ("DRIFTGUARD", OsStr::new("/nowhere/driftguard")),
        ],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert_shown!("wrong_name", out);

    // And the right one works without PATH.
    let out = repo.git_with(
        &["commit", "-q", "-m", "notes"],
        &[("PATH", &path), ("DRIFTGUARD", binary().as_os_str())],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn the_hook_passes_its_arguments_to_the_check() {
    let repo = handbook_repo();
    assert_eq!(repo.run(&["install"]).code, 0);
    let path = path_with_binary();
    let out = std::process::Command::new(hook(&repo))
        .args(["--format", "json"])
        .current_dir(repo.path())
        .env("PATH", &path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("hook runs");
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["mode"], "staged");
}

#[test]
fn a_foreign_hook_is_kept_as_legacy_runs_first_and_uninstall_restores_it() {
    let repo = handbook_repo();
    write_executable(&hook(&repo), FOREIGN);
    let run = repo.run(&["install"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("install", run);
    let legacy = repo.path().join(".git/hooks/pre-commit.legacy");
    assert_eq!(read(&legacy), FOREIGN);

    repo.write("notes.txt", "x\n").stage(&["notes.txt"]);
    let out = commit(&repo, "notes", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        repo.path().join("foreign-hook-ran").exists(),
        "the legacy hook must run"
    );

    // The legacy hook runs first, and its failure stops the commit.
    write_executable(&legacy, "#!/bin/sh\necho 'legacy says no' >&2\nexit 3\n");
    repo.write("notes.txt", "y\n").stage(&["notes.txt"]);
    let out = commit(&repo, "notes again", &[]);
    assert_ne!(out.code, 0, "{out:?}");
    assert_shown!("legacy_says_no", out);
    write_executable(&legacy, FOREIGN);

    let run = repo.run(&["uninstall"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("uninstall", run);
    assert_eq!(read(&hook(&repo)), FOREIGN);
    assert!(!legacy.exists());

    let again = repo.run(&["uninstall"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_shown!("uninstall_again", again);
    assert_eq!(read(&hook(&repo)), FOREIGN);
}

#[test]
fn install_refuses_to_lose_a_hook_unless_forced() {
    let repo = handbook_repo();
    write_executable(&hook(&repo), FOREIGN);
    let legacy = repo.path().join(".git/hooks/pre-commit.legacy");
    write_executable(&legacy, "#!/bin/sh\necho older\n");

    let run = repo.run(&["install"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!("refused", run);
    assert_eq!(read(&hook(&repo)), FOREIGN, "nothing changed");

    let run = repo.run(&["install", "--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("forced", run);
    assert_eq!(read(&legacy), FOREIGN, "the active hook is the one kept");
    assert!(read(&hook(&repo)).contains("# driftguard-managed-hook"));
}

#[test]
fn uninstall_without_a_hook_is_a_no_op() {
    let repo = handbook_repo();
    let run = repo.run(&["uninstall"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
    assert_eq!(repo.run(&["install"]).code, 0);
    let run = repo.run(&["uninstall"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!hook(&repo).exists());
}

#[test]
fn core_hooks_path_is_relative_to_the_work_tree_root() {
    let repo = handbook_repo();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    // Run from a subfolder: the path is still taken from the root, as git does.
    let run = run_in(&repo.path().join("apps/backend"), &["install"]).naming(repo.path(), "[REPO]");
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("install", run);
    assert!(repo.path().join(".githooks/pre-commit").exists());
    assert!(!hook(&repo).exists());

    stage_gap(&repo);
    let out = commit(&repo, "gap", &[]);
    assert_ne!(
        out.code, 0,
        "git runs the hook from core.hooksPath: {out:?}"
    );
    assert_shown!("blocked", out);
}

#[test]
fn core_hooks_path_expands_the_home_folder() {
    let repo = handbook_repo();
    let home = tempfile::tempdir().expect("home");
    repo.git(&["config", "core.hooksPath", "~/shared-hooks"]);
    let run = run_in_with(
        repo.path(),
        &["install"],
        &[("HOME", home.path().as_os_str())],
    )
    .naming(home.path(), "[HOME]");
    assert_eq!(run.code, 0, "{run:?}");
    let installed = home.path().join("shared-hooks/pre-commit");
    assert!(installed.exists(), "{run:?}");
    assert_shown!(run);
    assert!(read(&installed).contains("# driftguard-managed-hook"));
    assert!(!repo.path().join("~").exists());
}

#[test]
fn a_linked_worktree_installs_into_the_shared_hooks_folder() {
    let repo = handbook_repo();
    let outside = tempfile::tempdir().expect("temp");
    let worktree = outside.path().join("feature");
    let worktree_arg = worktree.to_str().expect("utf-8 path");
    repo.git(&["worktree", "add", "-q", "-b", "feature", worktree_arg]);

    let run = run_in(&worktree, &["install"])
        .naming(&worktree, "[WORKTREE]")
        .naming(repo.path(), "[REPO]");
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("install", run);
    assert!(hook(&repo).exists(), "{run:?}");
    assert!(read(&hook(&repo)).contains("# driftguard-managed-hook"));

    // A commit in the worktree runs it against the worktree's own index.
    std::fs::write(worktree.join(MODELS), customer_with(TIER)).expect("write");
    assert_eq!(git_in(&worktree, &["add", MODELS], &[]).code, 0);
    let out = commit_in(&worktree, "gap", &[]);
    assert_ne!(out.code, 0, "{out:?}");
    assert_shown!("blocked", out);
}

#[test]
fn a_pre_commit_framework_repository_gets_the_snippet_instead_of_a_hook() {
    let repo = handbook_repo();
    repo.write(".pre-commit-config.yaml", "repos: []\n");
    let run = repo.run(&["install"]);
    assert_eq!(run.code, 0, "{run:?}");
    // The snapshot names the version `[VERSION]`: the snippet pins this very release.
    assert!(
        run.stdout
            .contains(&format!("rev: v{}", env!("CARGO_PKG_VERSION"))),
        "{run:?}"
    );
    assert_shown!(run);
    assert!(!hook(&repo).exists(), "no git hook is written");
}

#[test]
fn install_outside_a_repository_says_where_to_run_it() {
    let dir = TestRepo::plain();
    let run = dir.run(&["install"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!(run);
}
