//! End-to-end tests of the rules over migration files rather than the schema they build:
//! DG009 over the Alembic revision graph, and the handbook group (DG201–DG208).

use crate::common::*;

fn revision(id: &str, down: &str, date: &str) -> String {
    format!(
        "\"\"\"{id}\n\nRevision ID: {id}\nRevises: {down}\nCreate Date: {date}\n\n\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = \"{down}\"\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n"
    )
}

const VERSIONS: &str = "app/alembic/versions";

#[test]
fn two_pull_requests_on_one_parent_leave_two_heads_in_the_merge_commit() {
    let repo = TestRepo::new();
    repo.write(
        &format!("{VERSIONS}/0001_initial.py"),
        &revision("0001", "None", "2024-01-01 10:00:00.000000").replace("\"None\"", "None"),
    )
    .commit_all("initial");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        &format!("{VERSIONS}/a1_add_reviews.py"),
        &revision("a1", "0001", "2024-03-01 10:00:00.000000"),
    )
    .commit_all("reviews");
    let run = repo.run(&["check", "--base", "main"]);
    assert_eq!(run.code, 0, "one head on the branch: {run:?}");

    // Meanwhile main gains its own revision on the same parent; CI checks the merge commit.
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        &format!("{VERSIONS}/b2_add_invoices.py"),
        &revision("b2", "0001", "2024-02-01 10:00:00.000000"),
    )
    .commit_all("invoices");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);
    let run = repo.run(&["check", "--base", "main"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_shown!("merge_commit", run);

    // The audit sees it too; a merge revision fixes it.
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![("DG009".to_string(), ".app/alembic.a1".to_string(), 12)]
    );
    repo.write(
        &format!("{VERSIONS}/m3_merge.py"),
        "revision = \"m3\"\ndown_revision = (\"a1\", \"b2\")\n\n\ndef upgrade():\n    pass\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
}
