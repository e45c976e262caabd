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

const HANDBOOK_ON: &str = "rules: {handbook: warning}\n";

/// Every handbook standard broken once, in a file of its own.
const SLOPPY_SQL: &str = "-- add the contact column\nALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20);\nCREATE INDEX idx_customers_contact ON core.customers (contact_preference);\n";

#[test]
fn the_handbook_group_is_off_until_the_config_turns_it_on() {
    let repo = handbook_repo();
    repo.write(
        MODELS,
        &customer_with("contact_preference: Mapped[Optional[str]] = mapped_column(String(20))"),
    )
    .write(&format!("{MIGRATIONS}/contact.sql"), SLOPPY_SQL);
    let run = repo.run(&["check", "--fail-on", "warning"]);
    assert_eq!(run.code, 0, "off by default: {run:?}");

    repo.write("driftguard.yml", HANDBOOK_ON);
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "warnings do not fail: {run:?}");
    let mut rules: Vec<String> = run.findings().into_iter().map(|f| f.0).collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            "DG201", "DG201", "DG202", "DG202", "DG203", "DG204", "DG204", "DG205", "DG205",
            "DG206", "DG206", "DG206"
        ],
        "{}",
        run.stdout
    );
    let run = repo.run(&["check", "--fail-on", "warning"]);
    assert_eq!(run.code, 1);
    assert_shown!("sloppy", run);

    // A code beats the group; a SQL ignore comment silences the statement's finding.
    repo.write(
        "driftguard.yml",
        "rules: {handbook: warning, DG201: \"off\", DG205: \"off\", DG202: error}\n",
    )
    .write(
        &format!("{MIGRATIONS}/contact.sql"),
        &SLOPPY_SQL.replace("CREATE INDEX", "-- driftguard: ignore[DG204]\nCREATE INDEX"),
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "DG202 is an error now: {run:?}");
    let mut rules: Vec<String> = run.findings().into_iter().map(|f| f.0).collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            "DG202", "DG202", "DG203", "DG204", "DG206", "DG206", "DG206"
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn a_change_check_reports_only_the_migration_it_adds() {
    let repo = handbook_repo();
    // An old migration that breaks every standard, committed before the group was on.
    repo.write("driftguard.yml", HANDBOOK_ON)
        .write(
            &format!("{MIGRATIONS}/old.sql"),
            "CREATE TABLE core.legacy (id int);\n",
        )
        .commit_all("old");
    repo.write(
        MODELS,
        &customer_with("contact_preference: Mapped[Optional[str]] = mapped_column(String(20), comment=\"sms or email\")"),
    )
    .stage(&[MODELS]);
    let run = repo.run(&[
        "check",
        "--staged",
        "--fail-on",
        "warning",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.findings_rules(), vec!["DG001"]);

    // The migration `fix` writes meets every standard but the folder's own naming (`002_`).
    let fix = repo.run(&["fix", "--staged", "--write"]);
    assert_eq!(fix.code, 0, "{fix:?}");
    repo.git(&["add", "-A"]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(
        run.findings_rules(),
        vec!["DG201"],
        "only the name: {}",
        run.stdout
    );
    repo.write(
        "driftguard.yml",
        "rules: {handbook: warning}\nhandbook: {file_name: '^[0-9]{3}_[a-z0-9_]+\\.sql$|^old\\.sql$'}\n",
    )
    .stage(&["driftguard.yml"]);
    let run = repo.run(&["check", "--staged", "--fail-on", "warning"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn two_branches_that_take_the_same_number_collide_in_the_merge_commit() {
    let repo = handbook_repo();
    repo.write("driftguard.yml", "rules: {DG208: warning}\n")
        .commit_all("config");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(&format!("{MIGRATIONS}/002_reviews.sql"), "SELECT 1;\n")
        .commit_all("reviews");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(&format!("{MIGRATIONS}/002_invoices.sql"), "SELECT 2;\n")
        .commit_all("invoices");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);
    let run = repo.run(&["check", "--base", "main", "--fail-on", "warning"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_shown!(run);
}

#[test]
fn duplicates_across_the_two_handbook_folders() {
    let repo = handbook_repo();
    repo.write("driftguard.yml", "rules: {DG207: warning}\n")
        .write(
            "apps/backend/src/db/migrations/001_initial.sql",
            INITIAL_SQL,
        );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![(
            "DG207".to_string(),
            ".apps/backend/src/db/migrations/001_initial.sql".to_string(),
            1
        )]
    );
}

/// Issue 13, part 2: the handbook team's case. A migration whose foreign key column is `UUID`
/// while `core.customers.id` is `SERIAL` fails inside `BEGIN … COMMIT`: the whole file is void,
/// so the model's `ai.conversations` has no migration either.
const AI_SQL: &str = "BEGIN;\nCREATE SCHEMA IF NOT EXISTS ai;\nCREATE TABLE IF NOT EXISTS ai.conversations (\n    id UUID PRIMARY KEY,\n    customer_id UUID REFERENCES core.customers (id)\n);\nCOMMIT;\n";

const AI_MODEL: &str = "apps/backend/src/db/models/ai.py";

const AI_PY: &str = "from sqlalchemy import ForeignKey, Uuid\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom db.base_class import Base\n\n\nclass Conversation(Base):\n    __tablename__ = \"conversations\"\n    __table_args__ = {\"schema\": \"ai\"}\n\n    id: Mapped[str] = mapped_column(Uuid, primary_key=True)\n";

#[test]
fn issue_13_a_migration_that_will_fail_is_reported_at_its_statement_and_voids_its_transaction() {
    let repo = handbook_repo();
    repo.write(AI_MODEL, AI_PY)
        .write(&format!("{MIGRATIONS}/002_ai.sql"), AI_SQL)
        .stage(&[AI_MODEL, &format!("{MIGRATIONS}/002_ai.sql")]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![
            ("DG002".to_string(), "ai.conversations".to_string(), 7),
            (
                "DG008".to_string(),
                ".database/migrations/002_ai.sql.statement 3".to_string(),
                3
            ),
        ],
        "{}",
        run.stdout
    );
    let json = run.json();
    let dg008 = &json["findings"][1];
    assert!(
        dg008["message"]
            .as_str()
            .unwrap_or_default()
            .contains("are of incompatible types: uuid and integer"),
        "{dg008}"
    );
    assert_eq!(
        dg008["related"][1]["location"]["line"], 1,
        "the label at BEGIN: {dg008}"
    );
    repo.commit_all("ai");

    // The finding's identity is the file and the statement's number: an unrelated edit above
    // it that keeps the statement count is no new finding; fixing the type closes both.
    repo.write(
        &format!("{MIGRATIONS}/002_ai.sql"),
        &format!("-- Migration: ai\n{AI_SQL}"),
    )
    .stage(&[&format!("{MIGRATIONS}/002_ai.sql")]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "moved, not new: {run:?}");
    repo.write(
        &format!("{MIGRATIONS}/002_ai.sql"),
        &AI_SQL.replace("customer_id UUID", "customer_id INTEGER"),
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    // Below PostgreSQL 12, ALTER TYPE … ADD VALUE cannot run in a transaction; DG008 can be
    // turned off like the other configurable rules.
    repo.write(
        &format!("{MIGRATIONS}/003_enum.sql"),
        "CREATE TYPE core.mood AS ENUM ('a');\nBEGIN;\nALTER TYPE core.mood ADD VALUE 'b';\nCOMMIT;\n",
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "PostgreSQL 13 by default: {}", run.stdout);
    repo.write("driftguard.yml", "postgres_version: 11\n");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.findings_rules(), vec!["DG008"]);
    repo.write(
        "driftguard.yml",
        "postgres_version: 11\nrules: {DG008: \"off\"}\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
}
