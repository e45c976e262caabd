//! End-to-end tests of `check --format …`: every format is wired to the command line, writes
//! to stdout, and keeps the exit status. What each format says about findings is pinned by the
//! snapshot tests in `src/render/`; here the real binary's whole output for one clean run with a
//! warning is snapshotted per format, and the machine contracts are checked field by field.

use crate::common::*;

/// A project with no gap, whose second migration is not UTF-8: one located warning, no finding.
fn project_with_a_warning() -> TestRepo {
    let repo = TestRepo::plain();
    repo.write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL_SQL)
        .write(BASE, BASE_PY)
        .write(MODELS, CUSTOMER_PY)
        .write_bytes(
            "database/migrations/002_notes.sql",
            b"-- caf\xe9\nSELECT 1;\n",
        );
    repo
}

const WARNED: &str = "database/migrations/002_notes.sql";

#[test]
fn every_format_is_accepted_and_keeps_the_exit_status() {
    let repo = project_with_a_warning();
    for format in [
        "human", "json", "github", "sarif", "junit", "gitlab", "markdown",
    ] {
        let run = repo.run(&["check", "--format", format]);
        assert_eq!(run.code, 0, "{format}: {run:?}");
        assert!(!run.stdout.is_empty(), "{format}: {run:?}");
        // Warnings still go to stderr, whatever the format.
        assert!(run.stderr.contains(WARNED), "{format}: {run:?}");
        // SARIF is left out: its ~250 lines are mostly every rule's explanation, pinned by
        // the renderer's own snapshots; the test below checks the binary's log.
        if format != "sarif" {
            assert_shown!(format, run);
        }
    }
}

#[test]
fn github_annotates_the_warning_at_its_file() {
    let run = project_with_a_warning().run(&["check", "--format", "github"]);
    assert!(
        run.stdout
            .starts_with(&format!("::warning file={WARNED},line=1,col=1,title=")),
        "{run:?}"
    );
    assert!(run.stdout.trim_end().ends_with("checked)."), "{run:?}");
}

#[test]
fn sarif_is_one_log_with_every_rule_and_the_warning_as_a_notification() {
    let run = project_with_a_warning().run(&["check", "--format", "sarif"]);
    let sarif = run.json();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "driftguard");
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "DG001"));
    assert!(rules.iter().any(|r| r["id"] == "DG002"));
    assert_eq!(run0["results"].as_array().map(Vec::len), Some(0));
    let note = &run0["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        WARNED
    );
}

#[test]
fn gitlab_junit_and_markdown_show_a_clean_run() {
    let repo = project_with_a_warning();
    let gitlab = repo.run(&["check", "--format", "gitlab"]).json();
    let issues = gitlab.as_array().expect("an array");
    assert_eq!(issues.len(), 1, "{gitlab}");
    assert_eq!(issues[0]["severity"], "info");
    assert_eq!(issues[0]["location"]["path"], WARNED);

    let junit = repo.run(&["check", "--format", "junit"]).stdout;
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(junit.contains("name=\"driftguard check\""), "{junit}");
    assert!(!junit.contains("<failure"), "{junit}");

    let markdown = repo.run(&["check", "--format", "markdown"]).stdout;
    assert!(markdown.starts_with("## driftguard\n"), "{markdown}");
    assert!(markdown.contains("No findings"), "{markdown}");
}
