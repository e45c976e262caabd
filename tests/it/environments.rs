//! Issue 12, items 4 and 5, on the real binary: revisions that import their column types and
//! helpers from other modules of the project, and Alembic environments that run in a schema
//! of their own.

use crate::common::*;

/// An Airflow-shaped project: revisions import a timezone-aware `TIMESTAMP` and a helper
/// that creates a table from a module of the project's own migrations package.
const DB_TYPES: &str = r#"import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

TIMESTAMP = postgresql.TIMESTAMP(timezone=True)
StringID = sa.String(250)
"#;

/// `helpers` creates the audit table with the columns a caller asks for.
fn helpers(extra_column: &str) -> String {
    format!(
        r#"import sqlalchemy as sa
from alembic import op

from app.migrations.db_types import TIMESTAMP


def create_audit_table(name, *extra):
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TIMESTAMP, nullable=False),
{extra_column}        *extra,
    )
"#
    )
}

const REVISION: &str = r#"from alembic import op
import sqlalchemy as sa

from app.migrations.db_types import TIMESTAMP, StringID
from app.migrations.helpers import create_audit_table

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "dag_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dag_id", StringID, nullable=False),
        sa.Column("start_date", TIMESTAMP, nullable=True),
    )
    create_audit_table("audit_log", sa.Column("event", sa.Text()))
"#;

const MODELS: &str = r#"from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class DagRun(Base):
    __tablename__ = "dag_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    start_date: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event: Mapped[Optional[str]] = mapped_column(Text)
    owner: Mapped[Optional[str]] = mapped_column(Text)
"#;

fn airflow_shaped(extra_column: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("app/__init__.py", "")
        .write("app/migrations/__init__.py", "")
        .write("app/migrations/db_types.py", DB_TYPES)
        .write("app/migrations/helpers.py", &helpers(extra_column))
        .write("app/migrations/versions/0001_initial.py", REVISION)
        .write("app/models.py", MODELS);
    repo
}

const OWNER: &str = "        sa.Column(\"owner\", sa.Text()),\n";

#[test]
fn types_and_helpers_imported_from_the_project_are_read() {
    let repo = airflow_shaped(OWNER);
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.findings(), Vec::new());
    // No DG005: the imported TIMESTAMP is timezone-aware, as the models say.
    let json = run.json();
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(0), "{json}");
    let schema = repo.run(&["schema", "--format", "json"]);
    assert_eq!(schema.code, 0, "{schema:?}");
    let columns: Vec<String> = schema.json()["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter(|c| c["table_name"] != "alembic_version")
        .map(|c| {
            format!(
                "{}.{} {}",
                c["table_name"].as_str().unwrap_or("?"),
                c["column_name"].as_str().unwrap_or("?"),
                c["data_type"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(
        columns,
        vec![
            "audit_log.id integer",
            "audit_log.at timestamp with time zone",
            "audit_log.owner text",
            "audit_log.event text",
            "dag_run.id integer",
            "dag_run.dag_id character varying",
            "dag_run.start_date timestamp with time zone",
        ]
    );
}

#[test]
fn a_change_to_an_imported_helper_alone_is_seen_by_a_change_check() {
    // The revision's blob is the same on both sides; only the helper it calls changes. The
    // check must read the revision again with the staged helper, not reuse HEAD's reading.
    let repo = airflow_shaped(OWNER);
    repo.commit_all("initial");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    repo.write("app/migrations/helpers.py", &helpers(""));
    repo.stage(&["app/migrations/helpers.py"]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![(
            "DG001".to_string(),
            "public.audit_log.owner".to_string(),
            24
        )]
    );
    // And back: the cache holds no stale answer either way.
    repo.write("app/migrations/helpers.py", &helpers(OWNER));
    repo.stage(&["app/migrations/helpers.py"]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// A revision of an environment: `upgrade()` runs `body`.
fn revision(id: &str, body: &str) -> String {
    format!(
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = None\n\n\ndef upgrade():\n{body}\n"
    )
}

/// The `env.py` of Dispatch's core environment, in our words: it sets the search path to the
/// core schema before running the revisions.
const CORE_ENV: &str = r#"from alembic import context
from sqlalchemy import engine_from_config, pool, text

from dispatch.database.core import Base

CORE_SCHEMA_NAME = "dispatch_core"
target_metadata = Base.metadata


def include_object(object, name, type_, reflected, compare_to):
    if type_ == "table":
        return object.schema == CORE_SCHEMA_NAME
    return True


def run_migrations_online():
    connectable = engine_from_config(context.config.get_section("alembic"), poolclass=pool.NullPool)
    with connectable.connect() as connection:
        set_search_path = text(f'set search_path to "{CORE_SCHEMA_NAME}"')
        connection.execute(set_search_path)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_schemas=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"#;

const TENANT_ENV: &str = r#"from alembic import context

from dispatch.database.core import Base

target_metadata = Base.metadata


def run_migrations_online():
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"#;

const DISPATCH_MODELS: &str = r#"from typing import Optional

from sqlalchemy import Column, Integer, String

from dispatch.database.core import Base


class DispatchUser(Base):
    __tablename__ = "dispatch_user"
    __table_args__ = {"schema": "dispatch_core"}
    id = Column(Integer, primary_key=True)
    email = Column(String)


class Project(Base):
    __tablename__ = "project"
    id = Column(Integer, primary_key=True)
    name = Column(String)
"#;

fn dispatch_shaped() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        "src/dispatch/database/core.py",
        "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n",
    )
    .write("src/dispatch/models.py", DISPATCH_MODELS)
    .write("src/dispatch/database/revisions/core/env.py", CORE_ENV)
    .write(
        "src/dispatch/database/revisions/core/versions/c1.py",
        &revision(
            "c1",
            "    op.create_table(\"dispatch_user\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"email\", sa.String()))",
        ),
    )
    .write("src/dispatch/database/revisions/tenant/env.py", TENANT_ENV)
    .write(
        "src/dispatch/database/revisions/tenant/versions/t1.py",
        &revision(
            "t1",
            "    op.create_table(\"project\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"name\", sa.String()))",
        ),
    );
    repo
}

#[test]
fn an_environment_that_sets_its_search_path_creates_its_tables_there() {
    let repo = dispatch_shaped();
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.findings(), Vec::new());
    let schema = repo.run(&["schema", "--format", "json"]);
    assert_eq!(schema.code, 0, "{schema:?}");
    let tables: Vec<String> = schema.json()["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["table_schema"].as_str().unwrap_or("?"),
                t["table_name"].as_str().unwrap_or("?")
            )
        })
        .collect();
    // Alembic's version table goes where the environment runs, too.
    assert_eq!(
        tables,
        vec![
            "dispatch_core.alembic_version",
            "dispatch_core.dispatch_user",
            "public.alembic_version",
            "public.project"
        ]
    );
}

#[test]
fn a_declared_default_schema_overrides_what_env_py_says() {
    let repo = dispatch_shaped();
    repo.write(
        "driftguard.yml",
        "sources:\n  - path: src/dispatch/database/revisions/core\n    kind: alembic\n    default_schema: legacy\n  - path: src/dispatch/database/revisions/tenant\n    kind: alembic\n",
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    // The config says the core environment runs in `legacy`: the model's table is not made
    // there. (Each declared source serves every model unless it says `models:`, so the
    // unqualified `project` is looked for in `legacy` too.)
    assert_eq!(
        run.findings(),
        vec![
            (
                "DG002".to_string(),
                "dispatch_core.dispatch_user".to_string(),
                8
            ),
            ("DG002".to_string(), "legacy.project".to_string(), 15)
        ]
    );
    let schema = repo.run(&[
        "schema",
        "--format",
        "json",
        "--source",
        "src/dispatch/database/revisions/core",
    ]);
    assert_eq!(schema.code, 0, "{schema:?}");
    assert!(
        schema.stdout.contains("\"table_schema\": \"legacy\""),
        "{}",
        schema.stdout
    );
    assert!(
        !schema.stdout.contains("dispatch_core"),
        "{}",
        schema.stdout
    );
}
