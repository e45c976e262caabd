//! End-to-end tests of `driftguard fix`: real git repositories, the real binary; after `fix
//! --write` the same check passes.

use std::ffi::OsStr;

use crate::common::*;

/// 2025-01-02 03:04:05 UTC.
const EPOCH: &str = "1735787045";

const CONTACT: &str = "contact_preference: Mapped[Optional[str]] = mapped_column(String(20), comment=\"sms or email\")";

/// A new table with a foreign key, a native enum, a default and an index; a new column.
const REVIEWS_PY: &str = r#"import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, Enum, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from ..base_class import Base


class ReviewState(enum.Enum):
    draft = "draft"
    published = "published"


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core.customers.id"), index=True)
    state: Mapped[ReviewState] = mapped_column(
        Enum(ReviewState, name="review_state", schema="core"), server_default="draft"
    )
    body: Mapped[Optional[str]] = mapped_column(Text, comment="what the customer wrote")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
"#;

const REVIEWS: &str = "apps/backend/src/db/models/reviews.py";

/// Runs driftguard in the repository with `SOURCE_DATE_EPOCH` set.
fn fix(repo: &TestRepo, args: &[&str]) -> Run {
    run_in_with(
        repo.path(),
        args,
        &[("SOURCE_DATE_EPOCH", OsStr::new(EPOCH))],
    )
    .naming(repo.path(), "[REPO]")
}

fn gaps(repo: &TestRepo) {
    repo.write(MODELS, &customer_with(CONTACT))
        .write(REVIEWS, REVIEWS_PY);
}

fn read(repo: &TestRepo, path: &str) -> String {
    std::fs::read_to_string(repo.path().join(path)).expect("written file")
}

#[test]
fn fix_prints_a_handbook_migration_and_with_write_the_check_passes() {
    let repo = handbook_repo();
    gaps(&repo);
    let check = repo.run(&["check", "--format", "json"]);
    assert_eq!(check.code, 1);
    assert_eq!(check.findings().len(), 2, "{}", check.stdout);

    let printed = fix(&repo, &["fix"]);
    assert_eq!(printed.code, 0, "{printed:?}");
    assert!(printed.stdout.starts_with("-- ====="), "{}", printed.stdout);
    assert_shown!("printed", printed);
    // Printing writes nothing.
    assert_eq!(repo.git(&["status", "--porcelain", "--", MIGRATIONS]), "");

    let written = fix(&repo, &["fix", "--write"]);
    assert_eq!(written.code, 0, "{written:?}");
    let path = "database/migrations/002_create_reviews_and_add_customers_contact_preference.sql";
    assert_eq!(written.stdout, format!("{path}\n"));
    assert!(
        written.stderr.contains(&format!("git add {path}")),
        "{}",
        written.stderr
    );
    assert_eq!(
        read(&repo, path),
        printed.stdout,
        "--write writes what fix prints"
    );
    // Never staged.
    assert_eq!(
        repo.git(&["status", "--porcelain", "--", MIGRATIONS]),
        format!("?? {path}\n")
    );

    let check = repo.run(&["check"]);
    assert_eq!(check.code, 0, "{check:?}");
    let again = fix(&repo, &["fix", "--write"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.stdout, "");
    assert!(again.stderr.contains("nothing to fix"), "{}", again.stderr);
}

#[test]
fn fix_staged_refuses_unstaged_edits_never_overwrites_and_never_stages() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    // An unstaged edit to a model file: the index is not what the user sees.
    repo.write(MODELS, &customer_with("nickname: Mapped[Optional[str]]"));
    let refused = fix(&repo, &["fix", "--staged", "--write"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert_shown!("refused", refused);

    repo.write(MODELS, &customer_with(CONTACT));
    let check = repo.run(&["check", "--staged"]);
    assert!(
        check
            .stdout
            .contains("(`driftguard fix --staged --write` writes it)"),
        "{}",
        check.stdout
    );
    let written = fix(&repo, &["fix", "--staged", "--write"]);
    assert_eq!(written.code, 0, "{written:?}");
    assert_shown!("written", written);
    let path = "database/migrations/002_add_customers_contact_preference.sql";
    let text = read(&repo, path);
    assert!(text.contains("ALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20);"));
    assert!(
        text.contains("COMMENT ON COLUMN core.customers.contact_preference IS 'sms or email';")
    );

    // Not staged: the staged check still fails, and says which `git add` to run.
    let check = repo.run(&["check", "--staged"]);
    assert_eq!(check.code, 1, "{check:?}");
    assert!(
        check.stdout.contains(&format!("git add {path}")),
        "{}",
        check.stdout
    );

    // Never overwrites.
    let again = fix(&repo, &["fix", "--staged", "--write"]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(read(&repo, path), text);

    repo.stage(&[path]);
    let check = repo.run(&["check", "--staged"]);
    assert_eq!(check.code, 0, "{check:?}");
}

#[test]
fn fix_base_closes_what_the_branch_introduces() {
    let repo = handbook_repo();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(MODELS, &customer_with(CONTACT))
        .commit_all("contact");
    let written = fix(
        &repo,
        &[
            "fix",
            "--base",
            "main",
            "--write",
            "--name",
            "Contact preference",
        ],
    );
    assert_eq!(written.code, 0, "{written:?}");
    let path = "database/migrations/002_contact_preference.sql";
    assert!(
        written.stdout.ends_with(&format!("{path}\n")),
        "{}",
        written.stdout
    );
    assert!(read(&repo, path).contains("-- Migration: Contact preference\n"));
    repo.commit_all("migration");
    let check = repo.run(&["check", "--base", "main"]);
    assert_eq!(check.code, 0, "{check:?}");
}

#[test]
fn a_timestamped_folder_gets_a_timestamp_and_enum_values_are_added() {
    let repo = TestRepo::new();
    repo.write(BASE, BASE_PY)
        .write(MODELS, &format!("import enum\n{}\n\nclass Tier(enum.Enum):\n    bronze = \"bronze\"\n    silver = \"silver\"\n    gold = \"gold\"\n\n\nclass Account(Base):\n    __tablename__ = \"accounts\"\n    __table_args__ = {{\"schema\": \"core\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    tier: Mapped[Tier] = mapped_column(Enum(Tier, name=\"tier\", schema=\"core\"))\n", CUSTOMER_PY.replace("import String", "import Enum, String")))
        .write(
            &format!("{MIGRATIONS}/20241126220831_initial.sql"),
            &format!("{INITIAL_SQL}CREATE TYPE core.tier AS ENUM ('bronze', 'gold');\nCREATE TABLE core.accounts (id serial primary key, tier core.tier NOT NULL);\n"),
        )
        .commit_all("initial");
    let check = repo.run(&["check", "--format", "json"]);
    assert_eq!(
        check.findings(),
        vec![("DG003".to_string(), "core.accounts.tier".to_string(), 29)]
    );
    let printed = fix(&repo, &["fix"]);
    assert_eq!(printed.code, 0, "{printed:?}");
    assert!(
        printed
            .stdout
            .contains("ALTER TYPE core.tier ADD VALUE IF NOT EXISTS 'silver' BEFORE 'gold';"),
        "{}",
        printed.stdout
    );
    // PostgreSQL 11 cannot add a value inside a transaction block: it goes before BEGIN.
    repo.write("driftguard.yml", "postgres_version: 11\n");
    let old = fix(&repo, &["fix", "--write"]);
    assert_eq!(old.code, 0, "{old:?}");
    let path = "database/migrations/20250102030405_add_tier_values.sql";
    assert_eq!(old.stdout, format!("{path}\n"));
    let text = read(&repo, path);
    let value = text.find("ADD VALUE").expect("ADD VALUE");
    let begin = text.find("\nBEGIN;").expect("BEGIN");
    assert!(value < begin, "{text}");
    assert_eq!(repo.run(&["check"]).code, 0);
}

#[test]
fn what_fix_cannot_close_remains_and_exits_1() {
    let repo = handbook_repo();
    // DG005 (a warning by default): the model says INTEGER, the migration made VARCHAR.
    let mistyped = customer_with(CONTACT)
        .replace("import String", "import ForeignKey, Integer, String")
        .replace("mapped_column(String(255))", "mapped_column(Integer)");
    repo.write(MODELS, &mistyped);
    let run = fix(&repo, &["fix"]);
    assert_eq!(run.code, 0, "a warning does not fail: {run:?}");
    repo.write("driftguard.yml", "rules: {DG005: error}\n");
    let run = fix(&repo, &["fix", "--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_shown!("mistyped", run);
    assert_eq!(repo.run(&["check"]).code, 1);

    // A foreign key to a table no migration creates: the column is written without it, and
    // DG007 is what remains.
    let repo = handbook_repo();
    repo.write(
        MODELS,
        &customer_with(
            "region_id: Mapped[Optional[int]] = mapped_column(ForeignKey(\"geo.regions.id\"))",
        )
        .replace("import String", "import ForeignKey, String"),
    );
    let run = fix(&repo, &["fix", "--write"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_shown!("dangling_foreign_key", run);
    let check = repo.run(&["check", "--format", "json"]);
    assert_eq!(
        check.findings(),
        vec![(
            "DG007".to_string(),
            "core.customers.region_id".to_string(),
            15
        )]
    );
}

#[test]
fn the_kind_and_folder_come_from_the_project_or_the_config() {
    let repo = handbook_repo();
    repo.write(
        "apps/backend/alembic/versions/0001_initial.py",
        "\"\"\"initial\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"0001\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\"audit\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n",
    )
    .commit_all("alembic too");
    repo.write(MODELS, &customer_with(CONTACT));
    let both = fix(&repo, &["fix"]);
    assert_eq!(both.code, 2, "{both:?}");
    assert_shown!("both", both);

    let alembic = fix(&repo, &["fix", "--kind", "alembic"]);
    assert_eq!(alembic.code, 0, "{alembic:?}");
    assert!(
        alembic.stdout.contains("down_revision = '0001'"),
        "{}",
        alembic.stdout
    );

    repo.write(
        "driftguard.yml",
        "fix: {kind: sql, folder: apps/backend/src/db/migrations}\n",
    );
    let configured = fix(&repo, &["fix", "--write"]);
    assert_eq!(configured.code, 0, "{configured:?}");
    assert_eq!(
        configured.stdout,
        "apps/backend/src/db/migrations/20250102030405_add_customers_contact_preference.sql\n"
    );
    assert_eq!(repo.run(&["check"]).code, 0);
}

const ALEMBIC_INI: &str = "[alembic]\nscript_location = %(here)s/alembic\nfile_template = %%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s\n";

fn revision(id: &str, down: &str, body: &str) -> String {
    format!(
        "\"\"\"{id}\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision: str = \"{id}\"\ndown_revision = {down}\n\n\ndef upgrade() -> None:\n{body}\n"
    )
}

fn alembic_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(BASE, BASE_PY)
        .write(MODELS, CUSTOMER_PY)
        .write("apps/backend/alembic.ini", ALEMBIC_INI)
        .write(
            "apps/backend/alembic/versions/0001_initial.py",
            &revision(
                "0001",
                "None",
                "    op.execute(\"CREATE SCHEMA core\")\n    op.create_table(\"customers\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.String(255), nullable=False), schema=\"core\")",
            ),
        )
        .commit_all("initial");
    repo
}

#[test]
fn fix_writes_an_alembic_revision_in_the_project_style_on_the_current_head() {
    let repo = alembic_repo();
    gaps(&repo);
    let printed = fix(&repo, &["fix"]);
    assert_eq!(printed.code, 0, "{printed:?}");
    assert_shown!("printed", printed);
    // Deterministic: the same content, the same revision id.
    assert_eq!(fix(&repo, &["fix"]).stdout, printed.stdout);

    let written = fix(&repo, &["fix", "--write"]);
    assert_eq!(written.code, 0, "{written:?}");
    let path = written.stdout.trim().to_string();
    assert!(
        path.starts_with("apps/backend/alembic/versions/2025_01_02_0304-")
            && path.ends_with("_create_reviews_and_add_customers_.py"),
        "{path}"
    );
    assert_eq!(repo.run(&["check"]).code, 0);
}

#[test]
fn two_heads_become_the_new_revisions_merge_tuple() {
    let repo = alembic_repo();
    for id in ["0002a", "0002b"] {
        repo.write(
            &format!("apps/backend/alembic/versions/{id}.py"),
            &revision(id, "\"0001\"", "    pass"),
        );
    }
    repo.write(MODELS, &customer_with(CONTACT));
    let printed = fix(&repo, &["fix"]);
    assert_eq!(printed.code, 0, "{printed:?}");
    assert!(
        printed
            .stdout
            .contains("down_revision: Union[str, Sequence[str], None] = ('0002a', '0002b')"),
        "{}",
        printed.stdout
    );
    assert!(printed.stdout.contains("Revises: 0002a, 0002b\n"));
    assert!(
        printed.stderr.contains("closes 2 finding(s)"),
        "DG001 and DG009: {}",
        printed.stderr
    );

    // Only the second head: `fix` writes the merge revision `alembic merge heads` would.
    repo.write(MODELS, CUSTOMER_PY);
    let check = repo.run(&["check", "--format", "json"]);
    assert_eq!(check.code, 1);
    assert_eq!(check.findings()[0].0, "DG009");
    let merge = fix(&repo, &["fix", "--write"]);
    assert_eq!(merge.code, 0, "{merge:?}");
    let path = merge.stdout.trim();
    assert!(path.ends_with("_merge_heads.py"), "{path}");
    let text = std::fs::read_to_string(repo.path().join(path)).expect("written");
    assert!(
        text.contains("def upgrade() -> None:\n    pass\n"),
        "{text}"
    );
    let check = repo.run(&["check"]);
    assert_eq!(check.code, 0, "{check:?}");
}

#[test]
fn one_history_per_database_in_one_folder_needs_the_folder_to_continue() {
    // Prefect's layout: `versions/postgresql/…` and `versions/sqlite/…`, separate chains.
    let repo = TestRepo::new();
    let create = "    op.execute(\"CREATE SCHEMA core\")\n    op.create_table(\"customers\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.String(255), nullable=False), schema=\"core\")";
    repo.write(BASE, BASE_PY)
        .write(MODELS, CUSTOMER_PY)
        .write(
            "app/migrations/versions/postgresql/0001_pg.py",
            &revision("pg1", "None", create),
        )
        .write(
            "app/migrations/versions/sqlite/0001_lite.py",
            &revision("lite1", "None", create),
        )
        .commit_all("two histories");
    assert_eq!(repo.run(&["check"]).code, 0, "two histories, one head each");
    repo.write(MODELS, &customer_with(CONTACT));
    let refused = fix(&repo, &["fix"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("form 2 separate histories"),
        "{}",
        refused.stderr
    );
    repo.write(
        "driftguard.yml",
        "fix: {kind: alembic, folder: app/migrations/versions/postgresql}\n",
    );
    let written = fix(&repo, &["fix", "--write"]);
    assert_eq!(written.code, 0, "{written:?}");
    let path = written.stdout.trim();
    assert!(
        path.starts_with("app/migrations/versions/postgresql/"),
        "{path}"
    );
    let text = std::fs::read_to_string(repo.path().join(path)).expect("written");
    assert!(
        text.contains("down_revision: Union[str, Sequence[str], None] = 'pg1'"),
        "{text}"
    );
}

/// Issue 14: the plan reads kept model tables' columns after the analysis is done with the
/// cache (a native enum's values, from the table that first maps it). When those columns do
/// not decode, `fix` stops with exit 2 before writing anything, and the cache folder goes.
#[test]
fn fix_stops_before_writing_when_a_kept_tables_columns_do_not_read_back() {
    let repo = handbook_repo();
    let orders = "import enum\n\nfrom sqlalchemy import Enum\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n\n\nclass Tier(enum.Enum):\n    bronze = \"bronze\"\n    gold = \"gold\"\n\n\nclass Order(Base):\n    __tablename__ = \"orders\"\n    __table_args__ = {\"schema\": \"core\"}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    zz_marker_tier: Mapped[Tier] = mapped_column(Enum(Tier, name=\"tier\", schema=\"core\"))\n";
    keep_then_damage_model_column(
        &repo,
        ("apps/backend/src/db/models/a_orders.py", orders),
        "CREATE TYPE core.tier AS ENUM ('bronze', 'gold');\nCREATE TABLE core.orders (id SERIAL PRIMARY KEY, zz_marker_tier core.tier NOT NULL);\n",
        CONTACT,
        b"zz_marker_tier",
    );
    // A new column of the same enum on customers: the plan looks for its values.
    let customers = customer_with(CONTACT)
        .replace("import String", "import Enum, String")
        .replace(
            "from ..base_class import Base\n",
            "from ..base_class import Base\nfrom .a_orders import Tier\n",
        )
        + "    tier: Mapped[Tier] = mapped_column(Enum(Tier, name=\"tier\", schema=\"core\"))\n";
    repo.write(MODELS, &customers);
    repo.git(&["add", "-A"]);
    let migrations = || {
        std::fs::read_dir(repo.path().join(MIGRATIONS))
            .expect("the migrations folder")
            .count()
    };
    let before = migrations();
    let stopped = fix(&repo, &["fix", "--staged", "--write"]);
    assert_eq!(stopped.code, 2, "{stopped:?}");
    assert!(
        stopped.stderr.contains("damaged entry"),
        "{}",
        stopped.stderr
    );
    assert_eq!(stopped.stdout, "");
    assert_eq!(migrations(), before, "nothing written");
    assert!(!repo.path().join(".git/driftguard/cache-v1").exists());
    // Run again, it plans from what it reads afresh.
    let written = fix(&repo, &["fix", "--staged", "--write"]);
    assert_eq!(written.code, 0, "{written:?}");
    assert_eq!(migrations(), before + 1);
}
