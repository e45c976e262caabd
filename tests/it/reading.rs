//! End-to-end tests of what driftguard reads: SQL that only mentions DDL, DO blocks, drops,
//! renames, quoted identifiers, schemas, mixins, `Table()`, name overrides, broken files.

use crate::common::*;

/// A repository with the customer model plus `extra` model lines and the given migrations.
fn repo_with(extra_model: &str, migrations: &[(&str, &str)]) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(BASE, BASE_PY)
        .write(MODELS, &customer_with(extra_model));
    for (name, sql) in migrations {
        repo.write(&format!("{MIGRATIONS}/{name}"), sql);
    }
    repo.commit_all("state");
    repo
}

fn gaps(repo: &TestRepo) -> Vec<String> {
    let run = repo.run(&["check", "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    run.findings().into_iter().map(|(_, t, _)| t).collect()
}

const NOTE: &str = "note: Mapped[Optional[str]]";

#[test]
fn comments_strings_and_function_bodies_are_not_ddl() {
    let repo = repo_with(
        NOTE,
        &[
            ("001_initial.sql", INITIAL_SQL),
            (
                "002_mentions.sql",
                r#"-- ALTER TABLE core.customers ADD COLUMN note TEXT;
/* ALTER TABLE core.customers ADD COLUMN note TEXT; /* nested */ still a comment;
   ALTER TABLE core.customers ADD COLUMN note TEXT; */
INSERT INTO core.audit (msg) VALUES ('ALTER TABLE core.customers ADD COLUMN note TEXT;');
CREATE OR REPLACE FUNCTION core.later() RETURNS void AS $body$
BEGIN
    ALTER TABLE core.customers ADD COLUMN note TEXT;
END;
$body$ LANGUAGE plpgsql;
"#,
            ),
        ],
    );
    assert_eq!(gaps(&repo), vec!["core.customers.note"]);
}

#[test]
fn do_blocks_drops_and_renames_are_replayed_in_order() {
    let repo = repo_with(
        "nickname: Mapped[Optional[str]]\n    note: Mapped[Optional[str]]",
        &[
            ("001_initial.sql", INITIAL_SQL),
            (
                "002_add.sql",
                "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'core' AND table_name = 'customers' AND column_name = 'nick') THEN\n    ALTER TABLE core.customers ADD COLUMN nick TEXT, ADD COLUMN note TEXT;\n  END IF;\nEND $$;\n",
            ),
            (
                "003_rename_and_drop.sql",
                "ALTER TABLE core.customers RENAME COLUMN nick TO nickname;\nALTER TABLE core.customers DROP COLUMN IF EXISTS note;\n",
            ),
        ],
    );
    assert_eq!(gaps(&repo), vec!["core.customers.note"]);
}

#[test]
fn quoted_identifiers_keep_their_case() {
    let repo = repo_with(
        "camel: Mapped[Optional[str]] = mapped_column(\"CamelCase\")\n    lower: Mapped[Optional[str]]",
        &[
            ("001_initial.sql", INITIAL_SQL),
            (
                "002_quoted.sql",
                "ALTER TABLE core.customers ADD COLUMN \"CamelCase\" TEXT;\nALTER TABLE core.customers ADD COLUMN \"LOWER\" TEXT;\n",
            ),
        ],
    );
    assert_eq!(gaps(&repo), vec!["core.customers.lower"]);
}

#[test]
fn a_column_added_to_the_wrong_schema_is_a_finding_with_a_hint() {
    let repo = repo_with(
        NOTE,
        &[
            ("001_initial.sql", INITIAL_SQL),
            (
                "002_public.sql",
                "CREATE TABLE IF NOT EXISTS customers (id serial primary key);\nALTER TABLE customers ADD COLUMN note TEXT;\n",
            ),
        ],
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert_shown!(run);
}

#[test]
fn mixins_tables_and_name_overrides_across_files() {
    let repo = TestRepo::new();
    repo.write(BASE, BASE_PY)
        .write(
            "apps/backend/src/db/models/mixins.py",
            "from datetime import datetime\nfrom sqlalchemy import DateTime\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass AuditMixin:\n    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))\n",
        )
        .write(
            "apps/backend/src/db/models/ops.py",
            r#"from typing import Optional
from sqlalchemy import Column, Float, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from ..base_class import Base
from .mixins import AuditMixin


class Chef(AuditMixin, Base):
    __tablename__ = "chefs"
    __table_args__ = {"schema": "ops"}
    id: Mapped[int] = mapped_column(primary_key=True)
    home_lat: Mapped[Optional[float]] = mapped_column("home_latitude", Float)
    bookings = relationship("Booking")


chef_zones = Table(
    "chef_zones",
    Base.metadata,
    Column("chef_id", Integer, primary_key=True),
    Column("zone", String(20)),
    schema="ops",
)
"#,
        )
        .write(
            "database/migrations/001_ops.sql",
            "CREATE SCHEMA ops;\nCREATE TABLE ops.chefs (id serial primary key, home_latitude double precision);\n",
        )
        .commit_all("state");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let mut found: Vec<(String, String)> = run
        .findings()
        .into_iter()
        .map(|(rule, target, _)| (rule, target))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("DG001".to_string(), "ops.chefs.created_at".to_string()),
            ("DG002".to_string(), "ops.chef_zones".to_string()),
        ]
    );
}

#[test]
fn a_python_syntax_error_is_a_warning_and_the_rest_is_checked() {
    let repo = repo_with(NOTE, &[("001_initial.sql", INITIAL_SQL)]);
    repo.write(
        "apps/backend/src/db/models/broken.py",
        "from sqlalchemy.orm import Mapped, mapped_column\nfrom ..base_class import Base\n\nclass Broken(Base):\n    __tablename__ = 'broken'\n    id: Mapped[int] = mapped_column(primary_key=True\n",
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.findings()
            .iter()
            .any(|(_, t, _)| t == "core.customers.note"),
        "{run:?}"
    );
    assert_shown!(run);
}

#[test]
fn a_non_utf8_migration_is_read_lossily_with_a_warning() {
    let repo = repo_with(NOTE, &[("001_initial.sql", INITIAL_SQL)]);
    repo.write_bytes(
        &format!("{MIGRATIONS}/002_latin1.sql"),
        b"-- caf\xe9\nALTER TABLE core.customers ADD COLUMN note TEXT;\n",
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn the_example_project_output_is_stable() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hibachi-backend");
    let run = run_in(&example, &["check", "."]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_shown!(run);
}

/// A SQLModel field typed as a Python collection but stored in a JSON column
/// (`tags: list[str] = Field(sa_column=Column(JSON))`) is a column, not a relationship: the
/// explicit `sa_column` (or `sa_type`) says so. `Relationship()` with the same kind of
/// annotation stays a relationship.
#[test]
fn sqlmodel_collection_fields_stored_in_a_column_are_columns() {
    let repo = TestRepo::new();
    repo.write(
        "app/models.py",
        r#"from sqlmodel import JSON, Column, Field, Relationship, SQLModel


class Board(SQLModel, table=True):
    __tablename__ = "board"
    id: int | None = Field(default=None, primary_key=True)
    labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owners: set[str] = Field(default_factory=set, sa_type=JSON)
    cards: list["Card"] = Relationship(back_populates="board")


class Card(SQLModel, table=True):
    __tablename__ = "card"
    id: int | None = Field(default=None, primary_key=True)
    board_id: int | None = Field(default=None, foreign_key="board.id")
    board: Board | None = Relationship(back_populates="cards")
"#,
    )
    .write(
        "database/migrations/001_boards.sql",
        "CREATE TABLE board (id serial PRIMARY KEY);\n\
         CREATE TABLE card (id serial PRIMARY KEY, board_id int REFERENCES board (id));\n",
    )
    .commit_all("boards");
    let mut found = gaps(&repo);
    found.sort();
    assert_eq!(found, vec!["public.board.labels", "public.board.owners"]);
}

/// Issue 12: a computed `__tablename__` that calls a helper of a module with no SQLAlchemy in
/// it (`app/util/naming.py`) is evaluated in a real check, and a staged edit of the helper
/// alone is seen (the before side comes from the cache).
#[test]
fn a_table_name_helper_in_a_plain_module_is_evaluated_and_its_edits_are_seen() {
    let naming = |sep: &str| {
        format!(
            "import re\n\n\ndef resolve_table_name(name):\n    return \"{sep}\".join(re.split(\"(?=[A-Z])\", name)[1:]).lower()\n"
        )
    };
    let repo = TestRepo::new();
    repo.write("app/util/naming.py", &naming("_"))
        .write(
            "app/db/base.py",
            "from sqlalchemy.orm import declarative_base, declared_attr\nfrom app.util.naming import resolve_table_name\n\n\nclass _Base:\n    @declared_attr\n    def __tablename__(cls):\n        return resolve_table_name(cls.__name__)\n\n\nBase = declarative_base(cls=_Base)\n",
        )
        .write(
            "app/db/models.py",
            "from sqlalchemy import Column, Integer, String\nfrom app.db.base import Base\n\n\nclass CustomerOrder(Base):\n    id = Column(Integer, primary_key=True)\n    note = Column(String(20))\n",
        )
        .write(
            "migrations/001_init.sql",
            "CREATE TABLE customer_order (id INTEGER PRIMARY KEY);\n",
        )
        .commit_all("initial");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(
        run.findings(),
        vec![(
            "DG001".to_string(),
            "public.customer_order.note".to_string(),
            7
        )],
        "{run:?}"
    );
    assert!(
        !run.stderr.contains("could not read the table name"),
        "{run:?}"
    );

    // Only the helper changes: the table is now `customerorder`, which no migration makes.
    repo.write("app/util/naming.py", &naming(""))
        .stage(&["app/util/naming.py"]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        vec![("DG002".to_string(), "public.customerorder".to_string(), 5)],
        "{run:?}"
    );
}

/// Issue 12: a revision that creates an enum type from a Python enum class of another module
/// of the project (`sa.Enum(Kind)` with `Kind` imported) creates the class's members, as
/// SQLAlchemy does. The models declare `Kind` in `app/models.py`; the revision imports a
/// frozen copy from `app/migrations/frozen.py`, so that the two can differ and the test sees
/// which one the revision's labels come from.
fn enum_repo(
    model_members: &str,
    frozen_members: &str,
    revision_head: &str,
    column: &str,
) -> TestRepo {
    let repo = TestRepo::new();
    let class = |members: &str| {
        format!(
            "import enum\n\n\nclass Kind(enum.Enum):\n{members}\n    def label(self):\n        return self.value.title()\n"
        )
    };
    let models = format!(
        r#"import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


{}

class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind = mapped_column(sa.Enum(Kind), nullable=True)
"#,
        class(model_members)
    );
    let revision = format!(
        "from alembic import op\nimport sqlalchemy as sa\n{revision_head}\nrevision = \"0001\"\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table(\n        \"item\",\n        sa.Column(\"id\", sa.Integer(), primary_key=True),\n        sa.Column(\"kind\", {column}, nullable=True),\n    )\n"
    );
    repo.write("app/__init__.py", "")
        .write("app/models.py", &models)
        .write("app/migrations/__init__.py", "")
        .write(
            "app/migrations/frozen.py",
            &format!("import enum\n\n\n{}", class(frozen_members)),
        )
        .write("app/migrations/versions/0001_item.py", &revision);
    repo.commit_all("state");
    repo
}

const TWO_KINDS: &str = "    SMALL = \"small\"\n    LARGE = \"large\"\n";
const THREE_KINDS: &str = "    SMALL = \"small\"\n    LARGE = \"large\"\n    HUGE = \"huge\"\n";

/// `(rule, enum value)` of each finding.
fn enum_findings(repo: &TestRepo) -> (i32, Vec<(String, String)>) {
    let run = repo.run(&["check", "--format", "json"]);
    let json = run.json();
    let findings = json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("?").to_string(),
                f["target"]["value"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    (run.code, findings)
}

#[test]
fn an_enum_class_imported_into_a_revision_gives_the_type_its_members() {
    let head = "from app.migrations.frozen import Kind\n";
    // The same members on both sides: clean (before issue 12 the type had no labels and
    // every member was DG003).
    let repo = enum_repo(TWO_KINDS, TWO_KINDS, head, "sa.Enum(Kind)");
    assert_eq!(enum_findings(&repo), (0, Vec::new()));
    // The model's enum gains a member the imported class does not have: that one is missing.
    let repo = enum_repo(THREE_KINDS, TWO_KINDS, head, "sa.Enum(Kind)");
    assert_eq!(
        enum_findings(&repo),
        (1, vec![("DG003".to_string(), "HUGE".to_string())])
    );
    // And the other way: members the revision created that the model no longer has are no
    // finding of DG003 (the labels come from the imported class, not from the model).
    let repo = enum_repo(TWO_KINDS, THREE_KINDS, head, "sa.Enum(Kind)");
    assert_eq!(enum_findings(&repo).0, 0);
}

#[test]
fn an_enum_class_reached_as_a_module_attribute_or_relative_import_is_read() {
    for (head, column) in [
        (
            "import app.migrations.frozen as frozen\n",
            "sa.Enum(frozen.Kind, name=\"kind\")",
        ),
        (
            "from app.migrations import frozen\n",
            "sa.Enum(frozen.Kind)",
        ),
        (
            "from ..frozen import Kind\n",
            "postgresql.ENUM(Kind, name=\"kind\")",
        ),
    ] {
        let head = format!("from sqlalchemy.dialects import postgresql\n{head}");
        let repo = enum_repo(TWO_KINDS, TWO_KINDS, &head, column);
        assert_eq!(enum_findings(&repo), (0, Vec::new()), "{head}{column}");
        let repo = enum_repo(THREE_KINDS, TWO_KINDS, &head, column);
        assert_eq!(
            enum_findings(&repo),
            (1, vec![("DG003".to_string(), "HUGE".to_string())]),
            "{head}{column}"
        );
    }
}

/// The model side of the same shape: the models import their enum class from a module that
/// declares no model (`app/enums.py`, `import enum` only). Its members are read through the
/// project's modules, so a member the migration never created is DG003 — before, the type's
/// values were unknown and no DG003 could fire. `Mapped[Kind]` (the default annotation map)
/// and `sa.Enum(Kind)`, also through a base enum of a third module, are read alike.
#[test]
fn a_model_enum_class_from_a_module_without_models_gives_its_members() {
    for (enums_py, column) in [
        (
            format!("import enum\n\n\nclass Kind(enum.Enum):\n{THREE_KINDS}"),
            "kind = mapped_column(sa.Enum(Kind), nullable=True)",
        ),
        (
            format!("import enum\n\n\nclass Kind(str, enum.Enum):\n{THREE_KINDS}"),
            "kind: Mapped[Optional[Kind]]",
        ),
        (
            format!("from app.choices import Choices\n\n\nclass Kind(Choices):\n{THREE_KINDS}"),
            "kind = mapped_column(sa.Enum(Kind), nullable=True)",
        ),
    ] {
        let repo = TestRepo::new();
        let models = format!(
            "from typing import Optional\n\nimport sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\nfrom app.enums import Kind\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Item(Base):\n    __tablename__ = \"item\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n    {column}\n"
        );
        repo.write("app/__init__.py", "")
            .write("app/choices.py", "import enum\n\n\nclass Choices(enum.Enum):\n    pass\n")
            .write("app/enums.py", &enums_py)
            .write("app/models.py", &models)
            .write(
                "database/migrations/001_item.sql",
                "CREATE TYPE kind AS ENUM ('SMALL', 'LARGE');\nCREATE TABLE item (id serial PRIMARY KEY, kind kind);\n",
            );
        repo.commit_all("state");
        assert_eq!(
            enum_findings(&repo),
            (1, vec![("DG003".to_string(), "HUGE".to_string())]),
            "{enums_py}{column}"
        );
        // The migration catches up: clean.
        repo.write(
            "database/migrations/002_huge.sql",
            "ALTER TYPE kind ADD VALUE 'HUGE';\n",
        );
        repo.commit_all("huge");
        assert_eq!(enum_findings(&repo), (0, Vec::new()), "{enums_py}{column}");
    }
}

#[test]
fn values_callable_applies_to_an_imported_enum_class() {
    // With `values_callable` the revision's type stores the members' values (small, large);
    // the model's `Enum(Kind)` stores their names, so both are missing from the type.
    let repo = enum_repo(
        TWO_KINDS,
        TWO_KINDS,
        "from app.migrations.frozen import Kind\n",
        "sa.Enum(Kind, values_callable=lambda e: [m.value for m in e])",
    );
    assert_eq!(
        enum_findings(&repo),
        (
            1,
            vec![
                ("DG003".to_string(), "LARGE".to_string()),
                ("DG003".to_string(), "SMALL".to_string()),
            ]
        )
    );
}

#[test]
fn an_enum_class_the_revision_imports_from_the_models_is_read() {
    // ihatemoney's shape: the revision imports the model's own class.
    let repo = enum_repo(
        THREE_KINDS,
        TWO_KINDS,
        "from app.models import Kind\n",
        "sa.Enum(Kind)",
    );
    assert_eq!(enum_findings(&repo), (0, Vec::new()));
    let schema = repo.run(&["schema", "--format", "json"]);
    assert_eq!(schema.code, 0, "{schema:?}");
    let json = schema.json();
    let values: Vec<&str> = json["enums"][0]["values"]
        .as_array()
        .expect("one enum type with values")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(values, ["SMALL", "LARGE", "HUGE"]);
}

#[test]
fn an_imported_enum_class_deriving_a_project_enum_base_is_read() {
    // `Kind(Choices)`: the base's name does not say "enum"; the base, in a third module, does
    // derive `enum.Enum`.
    for (members, expected) in [
        (TWO_KINDS, (0, Vec::new())),
        (
            "    SMALL = \"small\"\n",
            (1, vec![("DG003".to_string(), "LARGE".to_string())]),
        ),
    ] {
        let repo = enum_repo(
            TWO_KINDS,
            TWO_KINDS,
            "from app.migrations.frozen import Kind\n",
            "sa.Enum(Kind)",
        );
        repo.write(
            "app/migrations/choices.py",
            "import enum\n\n\nclass Choices(enum.Enum):\n    @classmethod\n    def choices(cls):\n        return [(m.value, m.name) for m in cls]\n",
        )
        .write(
            "app/migrations/frozen.py",
            &format!("from .choices import Choices\n\n\nclass Kind(Choices):\n{members}"),
        );
        repo.commit_all("a project enum base");
        assert_eq!(enum_findings(&repo), expected, "{members}");
    }
}

/// A SQLModel field whose `sa_column=` is a project helper (`sa_column=stamp()` with `def
/// stamp(*, nullable=False): return Column(DateTime(timezone=True), nullable=nullable)`) maps
/// the column the helper returns, its arguments substituted: NOT NULL and `TIMESTAMPTZ` here,
/// not a nullable column of unknown type. The helper may live in another module.
#[test]
fn a_sqlmodel_sa_column_helper_is_evaluated() {
    let repo = TestRepo::new();
    repo.write(
        "app/columns.py",
        "import sqlalchemy as sa\n\n\ndef stamp(*, nullable=False, index=False):\n    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)\n",
    )
    .write(
        "app/models.py",
        r#"from datetime import datetime

from sqlmodel import Field, SQLModel

from app.columns import stamp


def _plain_text(optional=True):
    from sqlalchemy import Column, Text
    return Column(Text(), nullable=optional)


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    id: int | None = Field(default=None, primary_key=True)
    opened_at: datetime = Field(sa_column=stamp(index=True))
    closed_at: datetime | None = Field(default=None, sa_column=stamp(nullable=True))
    body: str = Field(sa_column=_plain_text(optional=False))
"#,
    )
    .write(
        "migrations/versions/r1_tickets.py",
        r#"import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None


def upgrade():
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
    )
"#,
    )
    .commit_all("tickets");
    let run = repo.run(&["check", "--format", "json"]);
    // Warnings: the check passes.
    assert_eq!(run.code, 0, "{run:?}");
    // `opened_at` matches; `closed_at` is aware in the model but naive in the revision; the
    // helper makes `body` NOT NULL, the revision does not.
    assert_eq!(
        run.findings()
            .into_iter()
            .map(|(rule, target, _)| format!("{rule} {target}"))
            .collect::<Vec<_>>(),
        vec![
            "DG005 public.ticket.closed_at".to_string(),
            "DG006 public.ticket.body".to_string(),
        ],
        "{run:?}"
    );
}

/// A revision that splits one `ALTER TABLE` over implicitly joined f-strings (`f"ALTER TABLE
/// {TABLE} " f"ALTER COLUMN {name} TYPE …"`), in a helper's loop over constant column names,
/// is read like one f-string: the columns become `TIMESTAMPTZ` as the model says.
#[test]
fn joined_f_strings_in_op_execute_are_read() {
    let revision = |alter: &str| {
        format!(
            r#"import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None

TABLE = "visit"
STAMPS = ("arrived_at", "left_at")


def _retype(conn, *, aware):
    if conn.dialect.name != "postgresql":
        return
    for name in STAMPS:
        if aware:
            {alter}


def upgrade():
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.Column("left_at", sa.DateTime(), nullable=True),
    )
    _retype(op.get_bind(), aware=True)
"#
        )
    };
    let repo = TestRepo::new();
    repo.write(
        "app/models.py",
        r#"from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Visit(Base):
    __tablename__ = "visit"
    id = Column(Integer, primary_key=True)
    arrived_at = Column(DateTime(timezone=True))
    left_at = Column(DateTime(timezone=True))
"#,
    )
    .write("migrations/versions/r1_visits.py", &revision("pass"))
    .commit_all("naive");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.findings_rules(), vec!["DG005", "DG005"], "{run:?}");

    repo.write(
        "migrations/versions/r1_visits.py",
        &revision(
            "op.execute(sa.text(f\"ALTER TABLE {TABLE} \" f\"ALTER COLUMN {name} TYPE \" \"TIMESTAMP WITH TIME ZONE\"))",
        ),
    )
    .commit_all("aware");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("built at run time"), "{run:?}");
}

/// A revision that makes its enum type from constants (`sa.Enum(*STATES, name=STATE_TYPE)`
/// then `.create(bind, checkfirst=True)`) creates that type with those values: the model's
/// `Enum(…, name="shipment_state")` column has its type (no DG004, no DG003).
#[test]
fn an_enum_made_from_constants_with_a_star_argument_is_created() {
    let repo = TestRepo::new();
    repo.write(
        "app/models.py",
        r#"import enum

from sqlalchemy import Column, Enum, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class State(enum.Enum):
    packed = "packed"
    sent = "sent"


class Shipment(Base):
    __tablename__ = "shipment"
    id = Column(Integer, primary_key=True)
    state = Column(Enum(State, name="shipment_state"))
"#,
    )
    .write(
        "migrations/versions/r1_shipments.py",
        r#"import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None

STATE_TYPE = "shipment_state"
STATES = ("packed", "sent")


def upgrade():
    bind = op.get_bind()
    state = sa.Enum(*STATES, name=STATE_TYPE)
    state.create(bind, checkfirst=True)
    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", state, nullable=True),
    )
"#,
    )
    .commit_all("shipments");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.findings(), Vec::new(), "{run:?}");
    let schema = repo.run(&["schema", "--format", "json"]);
    assert_eq!(
        schema.json()["enums"],
        serde_json::json!([{"schema": "public", "name": "shipment_state", "values": ["packed", "sent"]}]),
        "{schema:?}"
    );
}

/// A project whose revisions live in its own package called `alembic` (`app/alembic/versions/`,
/// with an `__init__.py`): `from alembic import op` is still Alembic's `op`, so a revision's
/// SQLite-only branch (`if conn.dialect.name == "sqlite":` rebuilding the table with `CHAR(32)`
/// ids) is known not to run on PostgreSQL.
#[test]
fn a_project_package_named_alembic_does_not_hide_alembic_op() {
    let repo = TestRepo::new();
    repo.write("app/__init__.py", "")
        .write("app/alembic/__init__.py", "")
        .write(
            "app/models.py",
            r#"import uuid

from sqlalchemy import Column, Integer, Uuid
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Note(Base):
    __tablename__ = "note"
    id = Column(Integer, primary_key=True)
    author = Column(Uuid, nullable=False)
"#,
        )
        .write(
            "app/alembic/versions/r1_notes.py",
            r#"import sqlalchemy as sa
from alembic import op

revision = "r1"
down_revision = None


def upgrade():
    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("author", sa.Uuid(), nullable=False),
    )
    bind = op.get_bind()
    backend = bind.dialect.name
    if backend == "sqlite":
        op.execute("CREATE TABLE note_copy (id INTEGER PRIMARY KEY, author CHAR(32) NOT NULL)")
        op.execute("DROP TABLE note")
        op.execute("ALTER TABLE note_copy RENAME TO note")
"#,
        )
        .commit_all("notes");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.findings(), Vec::new(), "{run:?}");
}
