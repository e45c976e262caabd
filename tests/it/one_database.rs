//! One database, many writers (issue 10): every migration source of a repository — SQL folders,
//! Alembic environments, plugin chains, tables `create_all` makes — writes one database, and a
//! column counts wherever the repository makes it.
//!
//! The fixtures reproduce, in our own words, the shapes met on real repositories: the handbook
//! team's SQL files that add columns to tables its Alembic chain created, Alembic revisions on
//! tables a SQL file created, Redash-style `create_all` base tables that revisions only alter,
//! and CTFd-style plugin chains with a base of their own.

use crate::common::*;

/// The Alembic chain of the handbook's team: it creates `core.customers` and `core.bookings`.
const ALEMBIC_BASE: &str = r#""""create core tables

Revision ID: 0001_core
"""
from alembic import op
import sqlalchemy as sa

revision = "0001_core"
down_revision = None


def upgrade():
    op.execute("CREATE SCHEMA IF NOT EXISTS core")
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        schema="core",
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("core.customers.id")),
        schema="core",
    )


def downgrade():
    op.drop_table("bookings", schema="core")
    op.drop_table("customers", schema="core")
"#;

const MODELS_PATH: &str = "apps/backend/src/db/models/core.py";
const ALEMBIC_PATH: &str = "apps/backend/src/db/migrations/alembic/versions/0001_core.py";

/// The models; `extra_customer` and `extra_booking` are added class-body lines.
fn models(extra_customer: &str, extra_booking: &str, more: &str) -> String {
    format!(
        r#"from typing import Optional

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {{"schema": "core"}}
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
{extra_customer}

class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = {{"schema": "core"}}
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("core.customers.id"))
{extra_booking}
{more}"#
    )
}

/// The handbook's idempotent block adding one column.
fn add_column_block(table: &str, column: &str, ty: &str) -> String {
    format!(
        r#"DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = 'core' AND table_name = '{table}' AND column_name = '{column}'
    ) THEN
        ALTER TABLE core.{table} ADD COLUMN {column} {ty};
    END IF;
END $$;
"#
    )
}

const NEW_CUSTOMER_COLUMNS: &str = "    contact_preference: Mapped[Optional[str]] = mapped_column(String(20))\n    ai_contact_ok: Mapped[Optional[bool]] = mapped_column(Boolean)\n";
const NEW_BOOKING_COLUMN: &str = "    venue_address_id: Mapped[Optional[int]] = mapped_column(ForeignKey(\"core.addresses.id\"))\n";
const ADDRESS_MODEL: &str = r#"
class Address(Base):
    __tablename__ = "addresses"
    __table_args__ = {"schema": "core"}
    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[Optional[str]] = mapped_column(String(100))
"#;

/// The SQL migration of the commit: a new table and columns on the Alembic-made tables.
fn enterprise_sql() -> String {
    format!(
        "-- Migration: addresses and contact preferences\nBEGIN;\n\
         CREATE TABLE IF NOT EXISTS core.addresses (\n    id SERIAL PRIMARY KEY,\n    city VARCHAR(100)\n);\n{}{}{}COMMIT;\n",
        add_column_block("customers", "contact_preference", "VARCHAR(20)"),
        add_column_block("customers", "ai_contact_ok", "BOOLEAN DEFAULT TRUE"),
        add_column_block(
            "bookings",
            "venue_address_id",
            "INTEGER REFERENCES core.addresses(id)"
        ),
    )
}

/// The handbook team's repository before the commit: Alembic made the core tables.
fn handbook_team_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(ALEMBIC_PATH, ALEMBIC_BASE)
        .write(MODELS_PATH, &models("", "", ""))
        .write(
            "database/migrations/001_indexes.sql",
            "CREATE INDEX IF NOT EXISTS idx_customers_email ON core.customers (email);\n",
        )
        .commit_all("base");
    repo
}

#[test]
fn sql_files_on_alembic_made_tables_close_the_gap_they_are_staged_with() {
    let repo = handbook_team_repo();
    repo.write(
        MODELS_PATH,
        &models(NEW_CUSTOMER_COLUMNS, NEW_BOOKING_COLUMN, ADDRESS_MODEL),
    )
    .write("database/migrations/003_enterprise.sql", &enterprise_sql())
    .stage(&["."]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("with_the_migration", run);

    // The same commit without its migration: exactly what that file creates.
    repo.git(&[
        "rm",
        "-q",
        "--cached",
        "database/migrations/003_enterprise.sql",
    ]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![
            (
                "DG001".to_string(),
                "core.customers.contact_preference".to_string(),
                16
            ),
            (
                "DG001".to_string(),
                "core.customers.ai_contact_ok".to_string(),
                17
            ),
            (
                "DG001".to_string(),
                "core.bookings.venue_address_id".to_string(),
                25
            ),
            ("DG002".to_string(), "core.addresses".to_string(), 28),
        ]
    );
}

#[test]
fn alembic_revisions_on_sql_made_tables_count() {
    let repo = TestRepo::new();
    repo.write(
        "db/migrations/001_customers.sql",
        "CREATE SCHEMA IF NOT EXISTS core;\nCREATE TABLE core.customers (id SERIAL PRIMARY KEY, email VARCHAR(255) NOT NULL);\n",
    )
    .write(
        "app/alembic/versions/a1_phone.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"a1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.add_column(\"customers\", sa.Column(\"phone\", sa.String(30)), schema=\"core\")\n",
    )
    .write(
        "app/models.py",
        "from typing import Optional\n\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Customer(Base):\n    __tablename__ = \"customers\"\n    __table_args__ = {\"schema\": \"core\"}\n    id: Mapped[int] = mapped_column(primary_key=True)\n    email: Mapped[str] = mapped_column(String(255))\n    phone: Mapped[Optional[str]] = mapped_column(String(30))\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

/// Redash-style: `db.create_all()` makes the base tables; the first revision only alters them.
fn create_all_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        "redash/models.py",
        r#"from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Query(db.Model):
    __tablename__ = "queries"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(255), nullable=False)
    schedule = db.Column(db.Text)


class Dashboard(db.Model):
    __tablename__ = "dashboards"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False)
"#,
    )
    .write(
        "migrations/versions/65fc9ede4746_schedule.py",
        r#"from alembic import op
import sqlalchemy as sa

revision = "65fc9ede4746"
down_revision = None


def upgrade():
    op.add_column("queries", sa.Column("schedule", sa.Text(), nullable=True))
    op.alter_column("dashboards", "name", type_=sa.String(100))
"#,
    )
    .commit_all("base");
    repo
}

#[test]
fn tables_made_by_create_all_are_one_finding_each_in_a_full_audit() {
    let repo = create_all_repo();
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_shown!(run);
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![
            ("DG002".to_string(), "public.queries".to_string(), 6),
            ("DG002".to_string(), "public.dashboards".to_string(), 13),
        ]
    );
}

#[test]
fn a_new_column_on_a_create_all_table_needs_a_migration() {
    let repo = create_all_repo();
    let models = std::fs::read_to_string(repo.path().join("redash/models.py")).expect("read");
    let with_column = models.replace(
        "    schedule = db.Column(db.Text)\n",
        "    schedule = db.Column(db.Text)\n    is_archived = db.Column(db.Boolean, default=False)\n",
    );
    repo.write("redash/models.py", &with_column).stage(&["."]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(
        run.code, 1,
        "the column hides behind no table finding: {run:?}"
    );
    assert_shown!("without_migration", run);

    repo.write(
        "migrations/versions/a2_archived.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"a2\"\ndown_revision = \"65fc9ede4746\"\n\n\ndef upgrade():\n    op.add_column(\"queries\", sa.Column(\"is_archived\", sa.Boolean()))\n",
    )
    .stage(&["."]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");

    // A new table without any migration stays one table finding.
    repo.write(
        "redash/models.py",
        &format!(
            "{with_column}\n\nclass Widget(db.Model):\n    __tablename__ = \"widgets\"\n    id = db.Column(db.Integer, primary_key=True)\n    text = db.Column(db.Text)\n"
        ),
    )
    .stage(&["."]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![("DG002".to_string(), "public.widgets".to_string(), 20)]
    );
}

#[test]
fn external_tables_get_no_table_finding_but_new_columns_still_need_a_migration() {
    let repo = create_all_repo();
    repo.write(
        "driftguard.yml",
        "external: [\"public.queries\", \"public.dash*\"]\n",
    )
    .commit_all("declare the create_all tables");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");

    let models = std::fs::read_to_string(repo.path().join("redash/models.py")).expect("read");
    repo.write(
        "redash/models.py",
        &models.replace(
            "    name = db.Column(db.String(100), nullable=False)\n",
            "    name = db.Column(db.String(100), nullable=False)\n    slug = db.Column(db.String(140))\n",
        ),
    )
    .stage(&["."]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![(
            "DG001".to_string(),
            "public.dashboards.slug".to_string(),
            17
        )]
    );
}

#[test]
fn a_plugin_chain_with_its_own_base_alters_core_tables() {
    let repo = TestRepo::new();
    repo.write(
        "CTFd/models.py",
        r#"from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Challenges(db.Model):
    __tablename__ = "challenges"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80))
    dynamic_value = db.Column(db.Integer)
"#,
    )
    .write(
        "migrations/versions/8369118943a1_initial.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"8369118943a1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\"challenges\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"name\", sa.String(80)))\n",
    )
    .write(
        "CTFd/plugins/dynamic_challenges/migrations/b37fb68807ea_add_value.py",
        "\"\"\"Dynamic challenges: the value column.\"\"\"\nrevision = \"b37fb68807ea\"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade(op=None):\n    import sqlalchemy as sa\n\n    op.add_column(\"challenges\", sa.Column(\"dynamic_value\", sa.Integer(), nullable=True))\n\n\ndef downgrade(op=None):\n    op.drop_column(\"challenges\", \"dynamic_value\")\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = repo.run(&["schema", "--format", "json"]);
    let sources: Vec<String> = run.json()["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or("?").to_string())
        .collect();
    assert_eq!(
        sources,
        [
            "Alembic (CTFd/plugins/dynamic_challenges/migrations)",
            "Alembic (migrations)"
        ]
    );
}

#[test]
fn foreign_keys_to_outside_tables_are_satisfied() {
    let repo = TestRepo::new();
    repo.write(
        "supabase/migrations/001_profiles.sql",
        "ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS display_name TEXT;\n\
         CREATE TABLE public.profiles (id SERIAL PRIMARY KEY, user_id UUID REFERENCES auth.users(id));\n",
    )
    .write(
        "app/models.py",
        "import uuid\nfrom typing import Optional\n\nfrom sqlalchemy import ForeignKey\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Profile(Base):\n    __tablename__ = \"profiles\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n    user_id: Mapped[Optional[uuid.UUID]] = mapped_column(ForeignKey(\"auth.users.id\"))\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    // `auth.users` is made by the platform: the schema lists it as made outside the migrations.
    let run = repo.run(&["schema"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn a_drop_in_one_source_never_removes_what_another_adds() {
    let repo = TestRepo::new();
    repo.write(ALEMBIC_PATH, ALEMBIC_BASE)
        .write(MODELS_PATH, &models("", "", ""))
        .write(
            "database/migrations/002_cleanup.sql",
            "ALTER TABLE core.customers DROP COLUMN email;\n",
        );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn an_alter_on_a_table_nobody_makes_or_maps_names_the_nearest_table() {
    let repo = handbook_team_repo();
    repo.write(
        "database/migrations/002_typo.sql",
        "ALTER TABLE core.custmers ADD COLUMN IF NOT EXISTS phone TEXT;\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn a_column_made_only_by_another_services_migrations_is_pointed_at() {
    let repo = TestRepo::new();
    let service = |name: &str, extra: &str| {
        format!(
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Account(Base):\n    __tablename__ = \"{name}_accounts\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n{extra}"
        )
    };
    repo.write(
        "services/billing/app/models.py",
        &service("billing", "    plan: Mapped[str]\n"),
    )
    .write(
        "services/billing/migrations/001.sql",
        "CREATE TABLE billing_accounts (id SERIAL PRIMARY KEY);\n",
    )
    .write(
        "services/shop/app/models.py",
        &service("shop", ""),
    )
    .write(
        "services/shop/migrations/versions/s1.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"s1\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\"shop_accounts\", sa.Column(\"id\", sa.Integer(), primary_key=True))\n    op.add_column(\"billing_accounts\", sa.Column(\"plan\", sa.Text(), nullable=False))\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn a_migrations_glob_naming_python_files_reads_them_as_revisions() {
    let repo = TestRepo::new();
    repo.write(
        "app/models.py",
        "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\nclass Note(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    body = db.Column(db.Text)\n",
    )
    .write(
        "app/migrations/0001_notes.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"0001\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\"note\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"body\", sa.Text()))\n",
    )
    .write(
        "driftguard.yml",
        "migrations: [\"app/migrations/*.py\", \"db/*.sql\"]\nmodels: [\"app/models.py\"]\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn each_side_of_a_change_reads_its_own_config_whatever_the_cache_holds() {
    let repo = handbook_team_repo();
    repo.write("driftguard.yml", "default_schema: core\n")
        .commit_all("config");
    // A model without a schema lands in the default schema: `core` before, `public` after.
    let models = models("", "", "").replace("    __table_args__ = {\"schema\": \"core\"}\n", "");
    repo.write(MODELS_PATH, &models).commit_all("unqualified");
    repo.write("driftguard.yml", "default_schema: public\n")
        .stage(&["."]);
    let expected = vec![
        ("DG002".to_string(), "public.bookings".to_string(), 17),
        ("DG002".to_string(), "public.customers".to_string(), 11),
    ];
    let sorted = |run: &Run| {
        let mut found = run.findings();
        found.sort();
        found
    };
    // Cold, warm, and without a cache: the same answer.
    for _ in 0..2 {
        let run = repo.run(&["check", "--staged", "--format", "json"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(sorted(&run), expected);
    }
    let run = run_in_with(
        repo.path(),
        &["check", "--staged", "--format", "json"],
        &[("DRIFTGUARD_NO_CACHE", std::ffi::OsStr::new("1"))],
    );
    assert_eq!(sorted(&run), expected);
}

/// A revision file: `upgrade()` runs `body` (four-space indented lines).
fn revision(id: &str, down: &str, body: &str) -> String {
    format!(
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = {down}\n\n\ndef upgrade():\n{body}\n"
    )
}

fn users_model(extra: &str) -> String {
    format!(
        "from typing import Optional\n\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass User(Base):\n    __tablename__ = \"users\"\n    __table_args__ = {{\"schema\": \"identity\"}}\n    id: Mapped[int] = mapped_column(primary_key=True)\n{extra}"
    )
}

#[test]
fn two_alembic_environments_that_create_one_table_both_count() {
    // A dormant environment and the live one both create `identity.users`, with other
    // columns: whichever sorts first, the columns of both count.
    let repo = TestRepo::new();
    repo.write(
        "backend/src/db/migrations/auth/versions/a1.py",
        &revision(
            "a1",
            "None",
            "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"legacy_name\", sa.Text()), schema=\"identity\")",
        ),
    )
    .write(
        "backend/src/db/migrations/main/versions/m1.py",
        &revision(
            "m1",
            "None",
            "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.Text()), schema=\"identity\")",
        ),
    )
    .write(
        "backend/src/db/models/users.py",
        &users_model("    email: Mapped[Optional[str]]\n"),
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn an_add_column_on_a_sibling_branch_of_the_create_counts() {
    let repo = TestRepo::new();
    let versions = "app/migrations/versions";
    repo.write(
        &format!("{versions}/root.py"),
        &revision("root", "None", "    pass"),
    )
    // Two branches from `root`: the ids sort the `add_column` first, but neither branch is
    // the other's ancestor, so Alembic may run the `create_table` first — it does here.
    .write(
        &format!("{versions}/aa_add_column.py"),
        &revision(
            "aa_add_column",
            "\"root\"",
            "    op.add_column(\"users\", sa.Column(\"extra\", sa.Text()), schema=\"identity\")",
        ),
    )
    .write(
        &format!("{versions}/zz_create_users.py"),
        &revision(
            "zz_create_users",
            "\"root\"",
            "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), schema=\"identity\")",
        ),
    )
    .write(
        &format!("{versions}/merge.py"),
        &revision("merge", "(\"aa_add_column\", \"zz_create_users\")", "    pass"),
    )
    .write("app/models.py", &users_model("    extra: Mapped[Optional[str]]\n"));
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");

    // On one line of descent the add runs before the create in every order: it fails, and
    // the column is not made.
    repo.write(
        &format!("{versions}/zz_create_users.py"),
        &revision(
            "zz_create_users",
            "\"aa_add_column\"",
            "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), schema=\"identity\")",
        ),
    )
    .write(
        &format!("{versions}/merge.py"),
        &revision("merge", "\"zz_create_users\"", "    pass"),
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![("DG001".to_string(), "identity.users.extra".to_string(), 14)]
    );
}

#[test]
fn models_in_two_folders_of_one_backend_are_one_service() {
    let repo = TestRepo::new();
    repo.write(
        "apps/backend/src/db/migrations/alembic/versions/u1.py",
        &revision(
            "u1",
            "None",
            "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.Text()), schema=\"identity\")",
        ),
    )
    .write(
        "apps/backend/migrations/001_profiles.sql",
        "CREATE TABLE IF NOT EXISTS public.profiles (id SERIAL PRIMARY KEY);\n",
    )
    .write("apps/backend/src/db/models/profile.py", "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Profile(Base):\n    __tablename__ = \"profiles\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n")
    .write(
        "apps/backend/src/models/users.py",
        &users_model("    email: Mapped[Optional[str]]\n"),
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "", "no service warning within one backend");
}

#[test]
fn backup_folders_are_not_read() {
    let repo = TestRepo::new();
    repo.write(
        "app/migrations/versions/u1.py",
        &revision(
            "u1",
            "None",
            "    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), schema=\"identity\")",
        ),
    )
    .write("app/models/users.py", &users_model(""))
    .write(
        "app/backups_20251125_211908/models_BACKUP/users.py",
        &users_model("    stale: Mapped[Optional[str]]\n"),
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
}
