//! End-to-end tests of `driftguard check`: real git repositories, the real binary.

use crate::common::*;

const CONTACT: &str = "contact_preference: Mapped[Optional[str]] = mapped_column(String(20), comment=\"sms or email\")";

fn add_contact_sql() -> &'static str {
    r#"-- Migration: add contact_preference
BEGIN;
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core'
        AND table_name = 'customers'
        AND column_name = 'contact_preference'
    ) THEN
        ALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20);
        RAISE NOTICE 'Added contact_preference';
    END IF;
END $$;
COMMENT ON COLUMN core.customers.contact_preference IS 'sms or email';
COMMIT;
-- ROLLBACK: ALTER TABLE core.customers DROP COLUMN IF EXISTS contact_preference;
"#
}

#[test]
fn all_mode_reports_the_missing_column_at_the_model_line() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT));
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![(
            "DG001".to_string(),
            "core.customers.contact_preference".to_string(),
            15
        )]
    );
    let json = run.json();
    let finding = &json["findings"][0];
    assert_eq!(json["version"], 1);
    assert_eq!(json["mode"], "all");
    assert_eq!(json["tool"]["name"], "driftguard");
    assert_eq!(finding["name"], "column-without-migration");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["location"]["path"], MODELS);
    assert_eq!(finding["location"]["column"], 5);
    assert_eq!(
        finding["suggestion"],
        "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);\nCOMMENT ON COLUMN core.customers.contact_preference IS 'sms or email';"
    );
    assert_eq!(json["summary"]["tables"], 1);
    assert_eq!(json["summary"]["columns"], 3);
    assert_eq!(json["summary"]["migration_files"], 1);
    assert_eq!(json["summary"]["findings"], 1);
    assert_shown!("gap", run);

    repo.write(&format!("{MIGRATIONS}/002_contact.sql"), add_contact_sql());
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.findings().is_empty());
}

#[test]
fn human_output_shows_the_line_the_help_and_a_summary() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT));
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains('\u{1b}'), "no colour when piped");
    assert_shown!(run);
}

#[test]
fn staged_mode_blocks_only_what_the_change_introduces() {
    let repo = handbook_repo();
    // An old gap, committed: never blocks an unrelated commit.
    repo.write(
        MODELS,
        &customer_with("legacy_flag: Mapped[Optional[bool]]"),
    )
    .commit_all("old gap");
    repo.write("README.md", "docs\n").stage(&["README.md"]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.findings().is_empty());

    // A new column without a migration: blocked.
    let content = format!("{CUSTOMER_PY}    legacy_flag: Mapped[Optional[bool]]\n    {CONTACT}\n");
    repo.write(MODELS, &content).stage(&[MODELS]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![(
            "DG001".to_string(),
            "core.customers.contact_preference".to_string(),
            16
        )]
    );
    assert_eq!(run.json()["summary"]["preexisting"], 1);
    assert_eq!(run.json()["mode"], "staged");

    // The migration exists but is not staged: say which `git add` to run.
    let migration = format!("{MIGRATIONS}/002_contact.sql");
    repo.write(&migration, add_contact_sql());
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_shown!("migration_not_staged", run);

    // Staged: clean.
    repo.stage(&[&migration]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("clean", run);
}

#[test]
fn a_blocked_commit_points_at_an_unstaged_migration_edit_and_never_at_an_ignored_file() {
    let repo = handbook_repo();
    let placeholder = "-- Migration: placeholder\nSELECT 1;\n";
    let tracked = format!("{MIGRATIONS}/002_contact.sql");
    repo.write(&tracked, placeholder).commit_all("placeholder");
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    let help = |run: &Run| {
        run.json()["findings"][0]["help"]
            .as_str()
            .map(str::to_string)
    };

    // The fix is an edit of a tracked migration, made in the work tree but not staged.
    repo.write(&tracked, add_contact_sql());
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        help(&run).as_deref(),
        Some(
            format!("`{tracked}` creates it but is not staged: run `git add {tracked}`.").as_str()
        ),
        "{run:?}"
    );

    // The file written back with its staged bytes (new stat data, same blob): nothing to stage.
    // An ignored file that would create the column is not pointed at either: `git add`
    // would refuse it.
    repo.write(&tracked, placeholder)
        .write(".gitignore", "database/migrations/*.local.sql\n")
        .write(
            &format!("{MIGRATIONS}/003_contact.local.sql"),
            add_contact_sql(),
        );
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let shown = help(&run).unwrap_or_default();
    assert!(!shown.contains("not staged"), "{run:?}");

    // The same file, not ignored: pointed at.
    repo.write(".gitignore", "");
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let local = format!("{MIGRATIONS}/003_contact.local.sql");
    assert_eq!(
        help(&run).as_deref(),
        Some(format!("`{local}` creates it but is not staged: run `git add {local}`.").as_str()),
        "{run:?}"
    );
}

#[test]
fn staged_mode_reads_the_index_not_the_working_tree() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    // The working tree drops the column again, but the index still has it.
    repo.write(MODELS, CUSTOMER_PY);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.findings().len(), 1);
}

#[test]
fn the_first_commit_is_checked_against_an_empty_tree() {
    let repo = TestRepo::new();
    repo.write(BASE, BASE_PY)
        .write(MODELS, &customer_with(CONTACT))
        .write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL_SQL);
    repo.git(&["add", "-A"]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.findings()[0].1, "core.customers.contact_preference");
}

#[test]
fn nothing_relevant_staged_exits_at_once() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT))
        .commit_all("gap");
    repo.write("docs/notes.md", "hello\n")
        .stage(&["docs/notes.md"]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn deleting_a_migration_a_column_relied_on_is_caught() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT))
        .write(&format!("{MIGRATIONS}/002_contact.sql"), add_contact_sql())
        .commit_all("column and migration");
    repo.git(&["rm", "-q", &format!("{MIGRATIONS}/002_contact.sql")]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.findings()[0].1, "core.customers.contact_preference");
}

#[test]
fn moving_code_does_not_refire_an_old_finding() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT))
        .commit_all("old gap");
    let moved = CUSTOMER_PY.replace("class Customer", "# a comment\n\nclass Customer");
    repo.write(MODELS, &format!("{moved}    {CONTACT}\n"))
        .stage(&[MODELS]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["summary"]["preexisting"], 1);
}

#[test]
fn commit_a_through_a_real_hook_uses_the_temporary_index() {
    let repo = handbook_repo();
    let hook = format!(
        "#!/bin/sh\nexec \"{}\" check --staged\n",
        binary().display()
    );
    repo.write(".git/hooks/pre-commit", &hook);
    repo.git(&["config", "core.hooksPath", ".git/hooks"]);
    std::process::Command::new("chmod")
        .args(["+x", ".git/hooks/pre-commit"])
        .current_dir(repo.path())
        .status()
        .expect("chmod");
    // Not staged: `git commit -a` stages it into a temporary index for the hook.
    repo.write(MODELS, &customer_with(CONTACT));
    let out = repo.git_with(&["commit", "-a", "-m", "add contact"], &[]);
    assert_ne!(out.code, 0, "the hook must block the commit");
    // git sends a hook's output to its own stderr.
    assert_shown!("blocked", out);

    // A partial commit of an unrelated file passes although the model change is pending.
    repo.write("notes.txt", "x\n");
    repo.git(&["add", "notes.txt"]);
    let out = repo.git_with(&["commit", "-m", "notes only", "--", "notes.txt"], &[]);
    assert_eq!(out.code, 0, "{out:?}");

    // With the migration, `git add` + `git commit -a` passes.
    let migration = format!("{MIGRATIONS}/002_contact.sql");
    repo.write(&migration, add_contact_sql());
    repo.git(&["add", &migration]);
    let out = repo.git_with(&["commit", "-a", "-m", "add contact with migration"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn base_mode_compares_the_merge_base_with_head() {
    let repo = handbook_repo();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(MODELS, &customer_with(CONTACT))
        .commit_all("feature");
    let run = repo.run(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["mode"], "base");
    assert_eq!(run.findings()[0].1, "core.customers.contact_preference");

    // main moves on with an unrelated gap: not the branch's fault.
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "apps/backend/src/db/models/other.py",
        "from sqlalchemy.orm import Mapped, mapped_column\nfrom ..base_class import Base\n\nclass Other(Base):\n    __tablename__ = 'other'\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
    )
    .commit_all("main gap");
    repo.git(&["checkout", "-q", "feature"]);
    let run = repo.run(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.findings().len(), 1, "{run:?}");
}

#[test]
fn a_missing_ref_is_exit_2_with_the_fix() {
    let repo = handbook_repo();
    let run = repo.run(&["check", "--base", "origin/develop"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!(run);
}

#[test]
fn a_shallow_clone_is_exit_2_naming_fetch_depth() {
    let upstream = handbook_repo();
    upstream.git(&["checkout", "-q", "-b", "feature"]);
    upstream
        .write(MODELS, &customer_with(CONTACT))
        .commit_all("feature 1");
    upstream.write("x.txt", "x").commit_all("feature 2");
    upstream.git(&["checkout", "-q", "main"]);
    upstream.write("y.txt", "y").commit_all("main moves");
    let clone = TestRepo::plain();
    let url = format!("file://{}", upstream.path().display());
    let out = isolate(
        std::process::Command::new("git")
            .args([
                "clone",
                "-q",
                "--depth",
                "1",
                "--no-single-branch",
                &url,
                "c",
            ])
            .current_dir(clone.path()),
    )
    .output()
    .expect("git clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = clone.path().join("c");
    isolate(
        std::process::Command::new("git")
            .args(["checkout", "-q", "feature"])
            .current_dir(&dir),
    )
    .status()
    .expect("checkout");
    let run = run_in(&dir, &["check", "--base", "origin/main"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!(run);
}

#[test]
fn a_plain_directory_is_audited() {
    let dir = TestRepo::plain();
    dir.write(BASE, BASE_PY)
        .write(MODELS, &customer_with(CONTACT))
        .write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL_SQL);
    let run = run_in(dir.path(), &["check", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.findings()[0].1, "core.customers.contact_preference");
    let run = run_in(dir.path(), &["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!(run);
}

#[test]
fn config_errors_are_exit_2_and_point_at_the_line() {
    let repo = handbook_repo();
    repo.write("driftguard.yml", "default_schema: core\nmigratons: [x]\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!(run);
}

#[test]
fn config_ignore_patterns_silence_findings() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT));
    repo.write("driftguard.yml", "ignore: [\"core.customers.contact_*\"]\n");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    repo.write(
        "pyproject.toml",
        "[tool.driftguard]\ndefault_schema = \"core\"\n",
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_shown!("two_config_files", run);
}

#[test]
fn a_baseline_accepts_old_gaps_and_fails_on_new_ones() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT));
    let run = repo.run(&["check", "--write-baseline", "driftguard-baseline.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("write", run);
    let run = repo.run(&[
        "check",
        "--baseline",
        "driftguard-baseline.json",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["summary"]["preexisting"], 1);
    let content = format!("{CUSTOMER_PY}    {CONTACT}\n    nickname: Mapped[Optional[str]]\n");
    repo.write(MODELS, &content);
    let run = repo.run(&[
        "check",
        "--baseline",
        "driftguard-baseline.json",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![(
            "DG001".to_string(),
            "core.customers.nickname".to_string(),
            16
        )]
    );
    let run = repo.run(&["check", "--baseline", "missing.json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!("missing", run);
}

#[test]
fn inline_suppressions_silence_findings_and_unused_ones_are_reported() {
    let repo = handbook_repo();
    let content = format!(
        "{CUSTOMER_PY}    {CONTACT}  # driftguard: ignore[DG001]\n    nickname: Mapped[Optional[str]]  # driftguard: ignore[DG005]\n"
    );
    repo.write(MODELS, &content);
    let run = repo.run(&["check", "--format", "json"]);
    // DG001 on contact_preference is silenced; nickname's DG001 is not (wrong code), and the
    // DG005 suppression silences nothing: a DG100 warning.
    let mut found: Vec<(String, u64)> = run
        .findings()
        .into_iter()
        .map(|(rule, _, line)| (rule, line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![("DG001".to_string(), 16), ("DG100".to_string(), 16)],
        "{run:?}"
    );
    assert_eq!(run.code, 1);

    // A class-line suppression covers the whole table.
    let content = CUSTOMER_PY.replace(
        "class Customer(Base):",
        "class Customer(Base):  # driftguard: ignore",
    );
    repo.write(MODELS, &format!("{content}    {CONTACT}\n"));
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.findings().is_empty());
}

#[test]
fn a_sql_suppression_silences_findings_that_point_into_its_statement() {
    let repo = handbook_repo();
    repo.write(
        &format!("{MIGRATIONS}/002_legacy.sql"),
        "-- driftguard: ignore[DG005]\nALTER TABLE core.customers ALTER COLUMN email TYPE VARCHAR(20);\n",
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert!(run.findings().is_empty(), "{run:?}");
    assert_eq!(run.code, 0);
}

#[test]
fn the_parse_cache_lives_in_the_git_dir_and_never_changes_a_result() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    let first = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(first.code, 1, "{first:?}");
    let cache = repo.path().join(".git/driftguard/cache-v1");
    assert!(cache.join("findings").is_dir(), "cache folder made");
    assert!(cache.join("packs").is_dir(), "the parse pack is written");
    let second = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(
        second.stdout, first.stdout,
        "a cache hit gives the same answer"
    );
    // Garbage in the cache is a miss, not an error.
    for folder in ["findings", "packs"] {
        for entry in std::fs::read_dir(cache.join(folder)).expect("read cache") {
            std::fs::write(entry.expect("entry").path(), "not json").expect("write");
        }
    }
    let third = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(third.stdout, first.stdout);
    assert_eq!(third.code, 1);
    // The work tree is never written to.
    assert_eq!(
        repo.git(&["status", "--porcelain", "--ignored"]),
        format!("M  {MODELS}\n")
    );
}

/// Issue 3 (the real-world corpus): MLflow names tables through model classes in its
/// revisions (`op.create_table(SqlRun.__tablename__, …)`), and ZenML maps Alembic's own
/// `alembic_version` table. Neither is a gap; a column the revision does not add still is.
#[test]
fn regression_issue_3_model_class_table_names_and_the_alembic_version_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "app/models.py",
        "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n\nclass SqlRun(Base):\n    __tablename__ = \"runs\"\n    id = Column(Integer, primary_key=True)\n    name = Column(String(250))\n    status = Column(String(20))\n\n\nclass AlembicVersion(Base):\n    __tablename__ = \"alembic_version\"\n    version_num = Column(String, primary_key=True)\n",
    );
    write(
        "app/migrations/versions/a1_runs.py",
        "import sqlalchemy as sa\nfrom alembic import op\n\nfrom app.models import SqlRun\n\nrevision = \"a1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\n        SqlRun.__tablename__,\n        sa.Column(\"id\", sa.Integer(), primary_key=True),\n        sa.Column(\"name\", sa.String(250)),\n    )\n",
    );
    let run = run_in(root, &["check", ".", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![("DG001".to_string(), "public.runs.status".to_string(), 11)],
        "{run:?}"
    );
}

/// A finished check leaves nothing running. driftguard hands the freeing of its memory to a
/// helper that shares it (`src/main.rs`), so the helper must end once driftguard has ended, and
/// must hold none of driftguard's output: a hook runner reads the output to its end and waits.
#[cfg(target_os = "linux")]
#[test]
fn a_check_leaves_nothing_running_and_its_output_ends_with_it() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT));
    // The repository's path is in the command line, which the helper shares: it finds them.
    let marker = repo.path().to_str().expect("UTF-8 temp path").to_string();
    // `run_in` reads both piped outputs to their end, then waits for the process.
    let run = run_in(repo.path(), &["check", "--format", "json", &marker]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["findings"][0]["rule"], "DG001", "{run:?}");
    let running = |marker: &str| -> Vec<String> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .filter_map(|e| {
                let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                cmdline
                    .contains(marker)
                    .then(|| format!("{}: {cmdline}", e.file_name().to_string_lossy()))
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut left = running(&marker);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
        left = running(&marker);
    }
    assert!(
        left.is_empty(),
        "still running after the check ended: {left:?}"
    );
}
