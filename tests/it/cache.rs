//! The parse cache of change checks (issue 14): bounded, removable, and safe when two hooks
//! run at once on one repository.

use std::process::{Command, Stdio};

use crate::common::*;

const CONTACT: &str = "contact_preference: Mapped[Optional[str]] = mapped_column(String(20))";

fn cache_files(repo: &TestRepo) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![repo.path().join(".git/driftguard")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                files.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

/// Runs `check --staged` in two processes started together; returns both outputs.
fn two_at_once(repo: &TestRepo) -> [(i32, String); 2] {
    let spawn = || {
        let mut cmd = Command::new(binary());
        isolate(&mut cmd)
            .args(["check", "--staged", "--format", "json"])
            .current_dir(repo.path())
            .env_remove("DRIFTGUARD_NO_CACHE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("driftguard starts")
    };
    let (a, b) = (spawn(), spawn());
    [a, b].map(|child| {
        let out = child.wait_with_output().expect("driftguard ends");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
}

#[test]
fn two_hooks_at_once_give_the_same_result_as_a_run_without_cache() {
    let repo = handbook_repo();
    // A gap (a column without its migration) and a covered column, over several rounds.
    let mut model = customer_with(CONTACT);
    for round in 0..4 {
        model.push_str(&format!(
            "    extra_{round}: Mapped[Optional[str]] = mapped_column(String(20))\n"
        ));
        repo.write(MODELS, &model);
        repo.write(
            &format!("{MIGRATIONS}/{:03}_extra.sql", round + 2),
            &format!("ALTER TABLE core.customers ADD COLUMN extra_{round} VARCHAR(20);\n"),
        );
        repo.git(&["add", "-A"]);
        let mut expected_cmd = Command::new(binary());
        let expected = isolate(&mut expected_cmd)
            .args(["check", "--staged", "--format", "json"])
            .current_dir(repo.path())
            .env("DRIFTGUARD_NO_CACHE", "1")
            .output()
            .expect("driftguard runs");
        assert_eq!(
            expected.status.code(),
            Some(1),
            "the contact column is a gap"
        );
        let expected = String::from_utf8_lossy(&expected.stdout).into_owned();
        assert!(expected.contains("contact_preference"), "{expected}");
        // Cold (both write every entry) on even rounds, warm (both read) on odd ones.
        if round % 2 == 0 {
            let clean = repo.run(&["cache", "clean"]);
            assert_eq!(clean.code, 0, "{clean:?}");
        }
        for (code, stdout) in two_at_once(&repo) {
            assert_eq!(code, 1, "round {round}: {stdout}");
            assert_eq!(stdout, expected, "round {round}");
        }
        assert!(
            !cache_files(&repo).iter().any(|f| f.ends_with(".tmp")),
            "no temporary file is left behind"
        );
    }
}

#[test]
fn cache_clean_deletes_the_folder_and_says_what_it_held() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    assert_eq!(repo.run(&["check", "--staged"]).code, 1);
    let files = cache_files(&repo);
    assert!(files.iter().any(|f| f.ends_with(".json")), "{files:?}");
    let run = repo.run(&["cache", "clean"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with(&format!("Deleted the cache: {} files, ", files.len())),
        "{run:?}"
    );
    assert!(run.stdout.contains(".git/driftguard"), "{run:?}");
    assert!(!repo.path().join(".git/driftguard").exists());
    let again = repo.run(&["cache", "clean"]);
    assert_eq!(again.code, 0);
    assert!(again.stdout.starts_with("The cache is empty"), "{again:?}");
    // Outside a repository there is no cache to clean.
    let plain = TestRepo::plain();
    let outside = plain.run(&["cache", "clean"]);
    assert_eq!(outside.code, 2, "{outside:?}");
    assert!(
        outside.stderr.contains("not inside a git repository"),
        "{outside:?}"
    );
}

#[test]
fn the_cache_stays_under_its_size_cap_and_results_do_not_change() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    let uncapped = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(uncapped.code, 1);
    assert!(!cache_files(&repo).is_empty());
    // A cap of 0 MB: every entry written is trimmed at the end of the run.
    let mut cmd = Command::new(binary());
    let capped = isolate(&mut cmd)
        .args(["check", "--staged", "--format", "json"])
        .current_dir(repo.path())
        .env("DRIFTGUARD_CACHE_MAX_MB", "0")
        .env_remove("DRIFTGUARD_NO_CACHE")
        .output()
        .expect("driftguard runs");
    // Nothing new was written (all hits), so nothing was trimmed yet.
    assert_eq!(String::from_utf8_lossy(&capped.stdout), uncapped.stdout);
    repo.write(
        MODELS,
        &customer_with(&format!("{CONTACT}\n    other: Mapped[int]")),
    )
    .stage(&[MODELS]);
    let capped = isolate(&mut Command::new(binary()))
        .args(["check", "--staged", "--format", "json"])
        .current_dir(repo.path())
        .env("DRIFTGUARD_CACHE_MAX_MB", "0")
        .output()
        .expect("driftguard runs");
    assert_eq!(capped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&capped.stdout).contains("\"other\""));
    assert_eq!(cache_files(&repo), Vec::<String>::new(), "all trimmed");
}
