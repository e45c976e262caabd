//! The Alembic reader's tests that read whole revisions: [`header`] (what `mod.rs` reads
//! from a revision's module level) and [`upgrade`] (`upgrade()` bodies end to end: the `op.*`
//! dispatcher of `ops.rs` and the evaluator of `eval.rs` together). Tests of one piece alone
//! sit beside it.

mod header {
    use super::super::*;

    fn read(src: &str) -> Option<Revision> {
        read_revision(&SourceFile::new("migrations/versions/a1_x.py", src))
    }

    #[test]
    fn revision_paths() {
        assert!(is_revision_path("migrations/versions/1a2b_add_users.py"));
        assert!(is_revision_path("versions/x.py"));
        assert!(is_revision_path("db/alembic/versions/2024/07/x.py"));
        assert!(!is_revision_path("migrations/versions/__init__.py"));
        assert!(!is_revision_path("migrations/env.py"));
        assert!(!is_revision_path("migrations/versions/readme.txt"));
        assert!(!is_revision_path("migrations/myversions/x.py"));
        assert!(!is_revision_path("versions.py"));
        assert!(!is_revision_path(""));
    }

    #[test]
    fn header_of_a_modern_template() {
        let rev = read(
            r#""""add users

Revision ID: a1
Revises: a0
"""
from typing import Sequence, Union

revision: str = "a1"
down_revision: Union[str, None] = "a0"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass
"#,
        )
        .expect("a revision");
        assert_eq!(rev.revision, "a1");
        assert_eq!(rev.down_revisions, vec!["a0"]);
        assert!(rev.depends_on.is_empty());
        assert!(rev.branch_labels.is_empty());
        assert_eq!(rev.path, "migrations/versions/a1_x.py");
        assert!(rev.events().changes.is_empty());
        assert!(rev.events().warnings.is_empty());
    }

    #[test]
    fn merge_branch_labels_and_depends_on() {
        let rev = read(
            "revision = 'm1'\ndown_revision = ('b1', 'c1')\nbranch_labels = ('billing',)\ndepends_on = ['x9']\n",
        )
        .expect("a revision");
        assert_eq!(rev.down_revisions, vec!["b1", "c1"]);
        assert_eq!(rev.branch_labels, vec!["billing"]);
        assert_eq!(rev.depends_on, vec!["x9"]);
        let rev = read("revision = 'r'\ndown_revision = None\nbranch_labels = 'solo'\n")
            .expect("a revision");
        assert!(rev.down_revisions.is_empty());
        assert_eq!(rev.branch_labels, vec!["solo"]);
    }

    #[test]
    fn a_file_without_revision_is_not_a_revision() {
        assert_eq!(read("def upgrade():\n    op.drop_table('x')\n"), None);
        assert_eq!(read("down_revision = 'a'\n"), None);
        assert_eq!(read("revision = None\n"), None);
        assert_eq!(read(""), None);
        // A local variable named `revision` does not count.
        assert_eq!(read("def f():\n    revision = 'a'\n"), None);
    }

    #[test]
    fn syntax_errors_do_not_panic_and_are_reported() {
        let rev = read(
            "revision = 'a1'\ndown_revision = None\n\ndef upgrade():\n    op.add_column('t', sa.Column('c', sa.Integer()\n\ndef downgrade():\n    pass\n",
        )
        .expect("a revision");
        assert_eq!(rev.revision, "a1");
        assert!(
            rev.events()
                .warnings
                .iter()
                .any(|w| w.message.contains("syntax error")),
            "{:?}",
            rev.events().warnings
        );
        for src in [
            "revision = ",
            "(((",
            "def upgrade(:\n  op.create_table(",
            "\u{0}\u{1}",
        ] {
            let _ = read(src);
        }
    }
}

mod upgrade {
    use super::super::{Revision, read_revision};
    use crate::migrations::{QualifiedName, SchemaChange};
    use crate::source::SourceFile;

    const HEADER: &str = "\"\"\"a revision\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n\nrevision = 'b2'\ndown_revision = 'a1'\nbranch_labels = None\ndepends_on = None\n\n";

    /// Reads `HEADER` + `body`; line numbers in `body` start at 11.
    fn read(body: &str) -> Revision {
        let file = SourceFile::new("alembic/versions/b2_x.py", format!("{HEADER}{body}"));
        read_revision(&file).expect("a revision")
    }

    fn changes(body: &str) -> Vec<SchemaChange> {
        let rev = read(body);
        assert!(
            rev.events().warnings.is_empty(),
            "unexpected warnings: {:?}",
            rev.events().warnings
        );
        rev.events().changes.clone()
    }

    fn t(name: &str) -> QualifiedName {
        QualifiedName::new(None, name)
    }

    /// A one-line summary per event, to compare whole event lists at a glance.
    fn summary(changes: &[SchemaChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| match c {
                SchemaChange::CreateTable { table, columns, .. } => {
                    let cols: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                    format!("create {table} ({})", cols.join(", "))
                }
                SchemaChange::AddColumn { table, column, .. } => {
                    format!("add {table}.{}", column.name)
                }
                SchemaChange::DropColumn { table, column, .. } => format!("drop {table}.{column}"),
                SchemaChange::RenameColumn {
                    table,
                    column,
                    new_name,
                    ..
                } => format!("rename {table}.{column} -> {new_name}"),
                SchemaChange::AlterColumnType {
                    table, column, ty, ..
                } => format!("type {table}.{column} {}", ty.to_sql()),
                SchemaChange::SetNullable {
                    table,
                    column,
                    nullable,
                    ..
                } => format!("nullable {table}.{column} {nullable}"),
                SchemaChange::SetDefault {
                    table,
                    column,
                    default,
                    ..
                } => format!("default {table}.{column} {default:?}"),
                SchemaChange::CreateEnum { name, values, .. } => {
                    format!("enum {name} [{}]", values.join(", "))
                }
                SchemaChange::DropTable { table, .. } => format!("drop table {table}"),
                SchemaChange::RenameTable {
                    table, new_name, ..
                } => format!("rename table {table} -> {new_name}"),
                SchemaChange::AddPrimaryKey { table, columns, .. } => {
                    format!("pk {table} ({})", columns.join(", "))
                }
                SchemaChange::AddForeignKey {
                    table,
                    columns,
                    references,
                    ..
                } => format!(
                    "fk {table} ({}) -> {} ({})",
                    columns.join(", "),
                    references.table,
                    references.columns.join(", ")
                ),
                SchemaChange::CreateSchema { name, .. } => format!("schema {name}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn autogenerate_create_table_with_constraints() {
        let changes = changes(
            r#"def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=True),
        sa.Column("total", sa.Numeric(10, 2), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("note", sa.Text()),
        sa.ForeignKeyConstraint(["customer_id"], ["core.customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
        schema="sales",
    )
    op.create_index(op.f("ix_orders_reference"), "orders", ["reference"], schema="sales")
    # ### end Alembic commands ###
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "create sales.orders (id, customer_id, reference, total, created_at, note)",
                "fk sales.orders (customer_id) -> core.customers (id)",
            ]
        );
        let SchemaChange::CreateTable {
            table,
            columns,
            primary_key,
            location,
            if_not_exists,
            ..
        } = &changes[0]
        else {
            panic!("a create table: {changes:?}")
        };
        assert_eq!(table, &QualifiedName::new(Some("sales"), "orders"));
        assert_eq!(primary_key, &vec!["id".to_string()]);
        assert!(!if_not_exists);
        assert_eq!((location.line, location.column), (13, 5));
        let types: Vec<String> = columns.iter().map(|c| c.ty.to_sql()).collect();
        assert_eq!(
            types,
            vec![
                "INTEGER",
                "INTEGER",
                "VARCHAR(20)",
                "NUMERIC(10, 2)",
                "TIMESTAMPTZ",
                "TEXT"
            ]
        );
        let nullable: Vec<bool> = columns.iter().map(|c| c.nullable).collect();
        assert_eq!(nullable, vec![false, false, true, false, false, true]);
        // A lone integer primary key is SERIAL in PostgreSQL.
        assert_eq!(
            columns[0].default.as_deref(),
            Some("nextval('orders_id_seq'::regclass)")
        );
        assert_eq!(columns[1].default, None);
        assert_eq!(columns[3].default.as_deref(), Some("'0'"));
        assert_eq!(columns[4].default.as_deref(), Some("now()"));
        assert_eq!(columns[2].location.line, 17);
        assert_eq!(columns[2].location.column, 9);
    }

    #[test]
    fn column_level_primary_key_foreign_key_and_plain_column_name() {
        let changes = changes(
            "from sqlalchemy import Column, Integer, ForeignKey\n\ndef upgrade():\n    op.create_table('lines',\n        Column('order_id', Integer, ForeignKey('sales.orders.id'), primary_key=True),\n        Column('sku', sa.String(40), primary_key=True),\n        Column('qty', sa.BigInteger, nullable=False, default=1),\n    )\n",
        );
        let SchemaChange::CreateTable {
            columns,
            primary_key,
            ..
        } = &changes[0]
        else {
            panic!("{changes:?}")
        };
        assert!(primary_key.is_empty());
        assert!(columns[0].primary_key && !columns[0].nullable);
        assert!(columns[1].primary_key && !columns[1].nullable);
        assert!(!columns[2].nullable);
        let fk = columns[0].references.as_ref().expect("a foreign key");
        assert_eq!(fk.table, QualifiedName::new(Some("sales"), "orders"));
        assert_eq!(fk.columns, vec!["id"]);
        // Composite primary key: no SERIAL; a Python-side default is no server default.
        assert!(columns.iter().all(|c| c.default.is_none()));
        assert_eq!(columns[2].ty.to_sql(), "BIGINT");
    }

    #[test]
    fn an_integer_primary_key_that_is_a_foreign_key_is_not_serial() {
        let changes = changes(
            "def upgrade():\n    op.create_table('profiles',\n        sa.Column('user_id', sa.Integer(), nullable=False),\n        sa.ForeignKeyConstraint(['user_id'], ['users.id']),\n        sa.PrimaryKeyConstraint('user_id'),\n    )\n    op.create_table('counters', sa.Column('id', sa.SmallInteger(), primary_key=True, autoincrement=False))\n    op.create_table('seqs', sa.Column('id', sa.BigInteger(), primary_key=True))\n",
        );
        let defaults: Vec<Option<String>> = changes
            .iter()
            .filter_map(|c| match c {
                SchemaChange::CreateTable { columns, .. } => Some(columns[0].default.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            defaults,
            vec![None, None, Some("nextval('seqs_id_seq'::regclass)".into())]
        );
    }

    #[test]
    fn add_drop_and_rename_columns() {
        let changes = changes(
            "def upgrade():\n    op.add_column('customers', sa.Column('contact_preference', sa.String(length=20), nullable=True), schema='core')\n    op.drop_column('customers', 'fax')\n    op.alter_column('customers', 'name', new_column_name='full_name', existing_type=sa.String(100), schema='core')\n",
        );
        assert_eq!(
            summary(&changes),
            vec![
                "add core.customers.contact_preference",
                "drop customers.fax",
                "rename core.customers.name -> full_name",
            ]
        );
        let SchemaChange::AddColumn { column, .. } = &changes[0] else {
            panic!()
        };
        assert_eq!(column.ty.to_sql(), "VARCHAR(20)");
        assert!(column.nullable);
        assert_eq!(column.location.line, 12);
        let SchemaChange::DropColumn { location, .. } = &changes[1] else {
            panic!()
        };
        assert_eq!((location.line, location.column), (13, 5));
    }

    #[test]
    fn alter_column_emits_each_change_and_renames_last() {
        let changes = changes(
            "def upgrade():\n    op.alter_column('t', 'c', new_column_name='d', type_=sa.BigInteger(), nullable=False, server_default=sa.text(\"'x'\"))\n    op.alter_column('t', 'e', server_default=None, existing_nullable=True)\n    op.alter_column('t', 'f', server_default=False, nullable=True)\n",
        );
        assert_eq!(
            summary(&changes),
            vec![
                "nullable t.c false",
                "default t.c Some(\"'x'\")",
                "type t.c BIGINT",
                "rename t.c -> d",
                "default t.e None",
                "nullable t.f true",
            ]
        );
    }

    #[test]
    fn batch_alter_table_with_any_alias() {
        let changes = changes(
            "def upgrade():\n    with op.batch_alter_table('users', schema='auth', recreate='always') as b:\n        b.add_column(sa.Column('email', sa.String(255), nullable=False))\n        b.drop_column('legacy')\n        b.alter_column('login', new_column_name='username')\n        b.create_index('ix_email', ['email'])\n    with op.batch_alter_table('items') as batch_op:\n        batch_op.add_column(sa.Column('qty', sa.Integer()))\n",
        );
        assert_eq!(
            summary(&changes),
            vec![
                "add auth.users.email",
                "drop auth.users.legacy",
                "rename auth.users.login -> username",
                "add items.qty",
            ]
        );
        let SchemaChange::AddColumn { column, .. } = &changes[0] else {
            panic!()
        };
        assert!(!column.nullable);
        assert_eq!(column.location.line, 13);
    }

    #[test]
    fn downgrade_is_never_read() {
        let changes = changes(
            "def upgrade():\n    op.add_column('t', sa.Column('c', sa.Integer()))\n\ndef downgrade():\n    op.drop_column('t', 'c')\n    op.drop_table('t')\n",
        );
        assert_eq!(summary(&changes), vec!["add t.c"]);
    }

    #[test]
    fn multi_db_template_reads_every_engine() {
        let changes = changes(
            "def upgrade(engine_name: str) -> None:\n    globals()[\"upgrade_%s\" % engine_name]()\n\ndef downgrade(engine_name: str) -> None:\n    globals()[\"downgrade_%s\" % engine_name]()\n\ndef upgrade_engine1() -> None:\n    op.create_table('a', sa.Column('id', sa.Integer(), primary_key=True))\n\ndef downgrade_engine1() -> None:\n    op.drop_table('a')\n\ndef upgrade_engine2() -> None:\n    op.add_column('b', sa.Column('x', sa.Text()))\n\ndef downgrade_engine2() -> None:\n    op.drop_column('b', 'x')\n",
        );
        assert_eq!(summary(&changes), vec!["create a (id)", "add b.x"]);
    }

    #[test]
    fn helpers_are_followed_three_levels_deep() {
        let changes = changes(
            "def _columns():\n    op.add_column('t', sa.Column('one', sa.Integer()))\n    _deeper()\n\ndef _deeper():\n    op.add_column('t', sa.Column('two', sa.Integer()))\n    _deepest()\n\ndef _deepest():\n    op.add_column('t', sa.Column('three', sa.Integer()))\n    _too_deep()\n\ndef _too_deep():\n    op.add_column('t', sa.Column('four', sa.Integer()))\n\ndef upgrade():\n    upgrade_public()\n    _columns()\n\ndef upgrade_public():\n    op.create_table('p', sa.Column('id', sa.Integer()))\n\ndef downgrade():\n    op.drop_table('p')\n",
        );
        assert_eq!(
            summary(&changes),
            vec!["create p (id)", "add t.one", "add t.two", "add t.three"]
        );
    }

    #[test]
    fn every_branch_of_conditionals_it_cannot_decide_and_the_try_body_are_read() {
        let changes = changes(
            "def upgrade():\n    if context.get_context().dialect.name == 'postgresql':\n        op.add_column('t', sa.Column('a', postgresql.JSONB()))\n    elif False:\n        op.add_column('t', sa.Column('b', sa.JSON()))\n    else:\n        op.add_column('t', sa.Column('c', sa.Text()))\n    if not has_column('t', 'd'):\n        op.add_column('t', sa.Column('d', sa.Integer()))\n    try:\n        op.add_column('t', sa.Column('e', sa.Integer()))\n    except Exception:\n        op.drop_column('t', 'e')\n    for _ in range(3):\n        op.add_column('t', sa.Column('f', sa.Integer()))\n",
        );
        // `context` is not imported here: the first condition cannot be decided; `elif
        // False` can.
        assert_eq!(
            summary(&changes),
            vec!["add t.a", "add t.c", "add t.d", "add t.e", "add t.f"]
        );
    }

    #[test]
    fn issue_12_branches_for_other_dialects_are_not_read() {
        // Shapes of Airflow's revisions: a SQLite branch that recreates a table with naive
        // timestamps must not replace what PostgreSQL runs.
        let changes = changes(
            "from alembic import context, op\nimport sqlalchemy as sa\n\ndef upgrade():\n    conn = op.get_bind()\n    dialect_name = conn.dialect.name\n    if conn.dialect.name == 'mysql':\n        op.add_column('t', sa.Column('m', sa.Integer()))\n    elif conn.dialect.name == 'sqlite':\n        op.execute('CREATE TABLE t_new (ts TIMESTAMP)')\n    else:\n        op.add_column('t', sa.Column('p', sa.Integer()))\n    if dialect_name != 'postgresql':\n        op.add_column('t', sa.Column('x', sa.Integer()))\n    if context.get_context().dialect.name in ('postgresql', 'mssql'):\n        op.add_column('t', sa.Column('y', sa.Integer()))\n    if context.is_offline_mode():\n        op.add_column('t', sa.Column('z', sa.Integer()))\n",
        );
        assert_eq!(summary(&changes), vec!["add t.p", "add t.y", "add t.z"]);
    }

    #[test]
    fn op_execute_sql_goes_to_the_sql_reader() {
        let rev = read(
            "def upgrade():\n    op.execute(\"ALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20)\")\n    op.execute(sa.text(\n        \"\"\"\n        CREATE TABLE audit (\n            id serial PRIMARY KEY\n        )\n        \"\"\"\n    ))\n    op.execute(text('ALTER TABLE a ' 'ADD COLUMN b integer'))\n",
        );
        assert_eq!(
            summary(&rev.events().changes),
            vec![
                "add core.customers.contact_preference",
                "create audit (id)",
                "add a.b"
            ]
        );
        // Locations point into the revision file: the string's own lines.
        let SchemaChange::AddColumn { column, .. } = &rev.events().changes[0] else {
            panic!()
        };
        assert_eq!(&*column.location.path, "alembic/versions/b2_x.py");
        assert_eq!(column.location.line, 12);
        let SchemaChange::CreateTable { location, .. } = &rev.events().changes[1] else {
            panic!()
        };
        assert_eq!(location.line, 15);
    }

    #[test]
    fn op_execute_through_names_and_the_connection() {
        let rev = read(
            "ADD_FLAG = \"ALTER TABLE t ADD COLUMN flag boolean\"\n\ndef upgrade():\n    op.execute(ADD_FLAG)\n    conn = op.get_bind()\n    conn.execute(sa.text('ALTER TABLE t ADD COLUMN other integer'))\n    op.get_bind().execute(text('ALTER TABLE t ADD COLUMN third integer'))\n    op.execute(sa.schema.CreateSchema('reporting'))\n    sql = 'ALTER TABLE t '\n    sql = sql + 'ADD COLUMN fourth integer'\n    op.execute(sql)\n",
        );
        assert_eq!(
            summary(&rev.events().changes),
            vec![
                "add t.flag",
                "add t.other",
                "add t.third",
                "schema reporting",
                "add t.fourth"
            ]
        );
        let SchemaChange::AddColumn { column, .. } = &rev.events().changes[0] else {
            panic!()
        };
        assert_eq!(column.location.line, 11);
    }

    #[test]
    fn sql_built_at_run_time_warns_only_when_it_is_ddl() {
        let rev = read(
            "def upgrade():\n    table = get_table()\n    op.execute(f\"ALTER TABLE {table} ADD COLUMN x integer\")\n    op.execute(\"CREATE TYPE %s AS ENUM ('a')\" % name)\n    op.execute(sa.text('ALTER TABLE {} DROP COLUMN y'.format(table)))\n    op.execute(f\"UPDATE {table} SET x = 1\")\n    op.execute(f\"CREATE INDEX ix ON {table} (x)\")\n    op.execute(orders.update().values(x=1))\n    op.execute(some_sql)\n",
        );
        let lines: Vec<u32> = rev
            .events()
            .warnings
            .iter()
            .map(|w| w.location.line)
            .collect();
        assert_eq!(lines, vec![13, 14, 15], "{:?}", rev.events().warnings);
        assert!(
            rev.events().warnings[0]
                .message
                .contains("built at run time")
        );
        assert!(rev.events().changes.is_empty());
    }

    #[test]
    fn enums_created_by_create_table_unless_create_type_false() {
        let changes = changes(
            "def upgrade():\n    op.create_table('bookings',\n        sa.Column('id', sa.Integer(), nullable=False),\n        sa.Column('status', sa.Enum('pending', 'paid', name='booking_status'), nullable=False),\n        sa.Column('kind', postgresql.ENUM('a', 'b', name='kind', create_type=False)),\n        sa.Column('status2', sa.Enum('pending', 'paid', name='booking_status')),\n        sa.Column('loose', sa.Enum('x', 'y', name='loose', native_enum=False)),\n        sa.PrimaryKeyConstraint('id'),\n    )\n",
        );
        assert_eq!(
            summary(&changes),
            vec![
                "enum booking_status [pending, paid]",
                "create bookings (id, status, kind, status2, loose)"
            ]
        );
        let SchemaChange::CreateTable { columns, .. } = &changes[1] else {
            panic!()
        };
        assert_eq!(columns[1].ty.name, "booking_status");
        assert!(columns[1].ty.user_defined);
        assert_eq!(columns[2].ty.name, "kind");
        assert_eq!(columns[4].ty.to_sql(), "VARCHAR");
        let SchemaChange::CreateEnum { location, .. } = &changes[0] else {
            panic!()
        };
        assert_eq!((location.line, location.column), (14, 29));
    }

    #[test]
    fn enums_created_explicitly_and_through_variables() {
        let changes = changes(
            "import enum\n\nclass Color(enum.Enum):\n    red = 'r'\n    green = 'g'\n\nmood = postgresql.ENUM('sad', 'ok', name='mood', schema='core', create_type=False)\n\ndef upgrade():\n    mood.create(op.get_bind(), checkfirst=True)\n    sa.Enum('s', 'm', 'l', name='size').create(op.get_bind())\n    op.add_column('shirts', sa.Column('mood', mood), schema='core')\n    op.add_column('shirts', sa.Column('color', sa.Enum(Color, name='color')))\n",
        );
        assert_eq!(
            summary(&changes),
            vec![
                "enum core.mood [sad, ok]",
                "enum size [s, m, l]",
                "add core.shirts.mood",
                "enum color [red, green]",
                "add shirts.color",
            ]
        );
        let SchemaChange::AddColumn { column, .. } = &changes[2] else {
            panic!()
        };
        assert_eq!(column.ty.name, "core.mood");
    }

    #[test]
    fn enums_returned_by_a_module_function_and_created() {
        let changes = changes(
            "def _float_type_enum():\n    from sqlalchemy.dialects import postgresql\n    return postgresql.ENUM('FINITE', 'INF_POS', name='floattypeenum')\n\ndef upgrade():\n    bind = op.get_bind()\n    if bind.dialect.name == 'postgresql':\n        _float_type_enum().create(bind)\n",
        );
        assert_eq!(
            summary(&changes),
            vec!["enum floattypeenum [FINITE, INF_POS]"]
        );
    }

    #[test]
    fn with_variant_uses_the_postgresql_type() {
        let changes = changes(
            "def upgrade():\n    op.add_column('t', sa.Column('s', sa.Enum('a', name='st').with_variant(postgresql.ENUM('a', name='st', create_type=False), 'postgresql')))\n    op.add_column('t', sa.Column('j', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')))\n    op.add_column('t', sa.Column('k', postgresql.JSONB().with_variant(sa.JSON(), 'sqlite')))\n",
        );
        assert_eq!(summary(&changes), vec!["add t.s", "add t.j", "add t.k"]);
        let types: Vec<String> = changes
            .iter()
            .filter_map(|c| match c {
                SchemaChange::AddColumn { column, .. } => Some(column.ty.to_sql()),
                _ => None,
            })
            .collect();
        assert_eq!(types, vec!["st", "JSONB", "JSONB"]);
    }

    #[test]
    fn unknown_types_get_a_placeholder() {
        let changes = changes(
            "from app.types import EncryptedString\n\ndef upgrade():\n    op.add_column('t', sa.Column('secret', EncryptedString(200), nullable=False))\n    op.add_column('t', sa.Column('ref', sa.ForeignKey('u.id')))\n",
        );
        let cols: Vec<_> = changes
            .iter()
            .filter_map(|c| match c {
                SchemaChange::AddColumn { column, .. } => Some(column),
                _ => None,
            })
            .collect();
        assert_eq!(cols[0].ty.name, "unknown");
        assert!(cols[0].ty.user_defined);
        assert!(!cols[0].nullable);
        assert_eq!(cols[1].ty.name, "unknown");
        assert_eq!(
            cols[1].references.as_ref().map(|r| r.table.clone()),
            Some(t("u"))
        );
    }

    #[test]
    fn names_bound_to_constants_are_resolved() {
        let changes = changes(
            "SCHEMA = 'billing'\nTABLE = 'invoices'\n\ndef upgrade():\n    col = sa.Column('paid_at', sa.DateTime())\n    op.add_column(TABLE, col, schema=SCHEMA)\n    name = 'amount'\n    op.alter_column(TABLE, name, nullable=False, schema=SCHEMA)\n",
        );
        assert_eq!(
            summary(&changes),
            vec![
                "add billing.invoices.paid_at",
                "nullable billing.invoices.amount false"
            ]
        );
    }

    #[test]
    fn unreadable_operations_warn_only_when_they_name_a_table() {
        let rev = read(
            "def upgrade():\n    for table in ['a', 'b']:\n        op.add_column(table, sa.Column('created_at', sa.DateTime()))\n    op.create_table(name_of_table(), sa.Column('id', sa.Integer()))\n    op.create_table('c', *common_columns())\n    op.add_column('d', make_column())\n    op.bulk_insert(t, [{'id': 1}])\n    op.create_index('ix', 'c', ['id'])\n",
        );
        let lines: Vec<u32> = rev
            .events()
            .warnings
            .iter()
            .map(|w| w.location.line)
            .collect();
        // The loop over a constant list is read once per table (see the corpus tests below).
        assert_eq!(lines, vec![14, 15, 16], "{:?}", rev.events().warnings);
        // The table built from splats is still created, with the columns that could be read.
        assert_eq!(
            summary(&rev.events().changes),
            vec!["add a.created_at", "add b.created_at", "create c ()"]
        );
    }

    #[test]
    fn create_table_assigned_and_bulk_insert() {
        let changes = changes(
            "def upgrade():\n    roles = op.create_table('roles', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('name', sa.String(50), nullable=False))\n    op.bulk_insert(roles, [{'id': 1, 'name': 'admin'}])\n",
        );
        assert_eq!(summary(&changes), vec!["create roles (id, name)"]);
    }

    #[test]
    fn tables_keys_renames_and_drops() {
        let changes = changes(
            "def upgrade():\n    op.rename_table('old', 'new', schema='s')\n    op.drop_table('gone')\n    op.create_primary_key('pk_x', 'x', ['a', 'b'])\n    op.create_foreign_key('fk_x', 'x', 'y', ['y_id'], ['id'], source_schema='s', referent_schema='r')\n    with op.batch_alter_table('z') as batch_op:\n        batch_op.create_foreign_key('fk_z', 'y', ['y_id'], ['id'])\n        batch_op.create_primary_key('pk_z', ['id'])\n",
        );
        assert_eq!(
            summary(&changes),
            vec![
                "rename table s.old -> new",
                "drop table gone",
                "pk x (a, b)",
                "fk s.x (y_id) -> r.y (id)",
                "fk z (y_id) -> y (id)",
                "pk z (id)",
            ]
        );
    }

    #[test]
    fn identity_computed_and_server_defaults() {
        let changes = changes(
            "def upgrade():\n    op.create_table('m',\n        sa.Column('id', sa.BigInteger(), sa.Identity(always=True), primary_key=True),\n        sa.Column('total', sa.Integer(), sa.Computed('a + b')),\n        sa.Column('flag', sa.Boolean(), server_default=sa.false(), nullable=False),\n        sa.Column('at', sa.DateTime(), server_default=sa.func.now()),\n        sa.Column('n', sa.Integer(), server_default=sa.text('0')),\n    )\n",
        );
        let SchemaChange::CreateTable { columns, .. } = &changes[0] else {
            panic!()
        };
        let defaults: Vec<Option<&str>> = columns.iter().map(|c| c.default.as_deref()).collect();
        assert_eq!(
            defaults,
            vec![
                Some("GENERATED ALWAYS AS IDENTITY"),
                Some("GENERATED ALWAYS AS (a + b) STORED"),
                Some("false"),
                Some("now()"),
                Some("0"),
            ]
        );
        assert!(!columns[0].nullable);
    }

    #[test]
    fn self_referencing_names_do_not_loop() {
        let rev = read(
            "T = sa.ARRAY(T)\nD = sa.text(D)\n\ndef upgrade():\n    sql = 'ALTER TABLE t '\n    sql = sql + 'ADD COLUMN c int'\n    op.execute(sql)\n    q = sa.text(q)\n    op.execute(q)\n    op.add_column('t', sa.Column('a', T, server_default=D))\n",
        );
        assert_eq!(summary(&rev.events().changes), vec!["add t.c", "add t.a"]);
        let SchemaChange::AddColumn { column, .. } = &rev.events().changes[1] else {
            panic!("{:?}", rev.events().changes)
        };
        assert_eq!(column.ty.name, "unknown");
        assert!(column.default.is_some());
        assert!(
            rev.events().warnings.is_empty(),
            "{:?}",
            rev.events().warnings
        );
    }

    #[test]
    fn every_prefix_of_a_revision_reads_without_panicking() {
        let body = "SQL = 'ALTER TABLE t ADD COLUMN z int'\n\ndef _h():\n    op.drop_column('t', 'y')\n\ndef upgrade():\n    e = postgresql.ENUM('a', name='e', create_type=False)\n    e.create(op.get_bind())\n    op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('e', e), sa.ForeignKeyConstraint(['id'], ['u.id']), schema='s')\n    with op.batch_alter_table('t') as b:\n        b.alter_column('x', new_column_name='y', type_=sa.ARRAY(sa.Enum('p', name='q')), server_default=sa.func.now())\n    op.execute(sa.text(f\"ALTER TABLE {t} ADD c int\" + SQL))\n    op.execute(SQL)\n    _h()\n    globals()['upgrade_%s' % x]()\n";
        let full = format!("{HEADER}{body}");
        let mut end = 0;
        while end <= full.len() {
            if full.is_char_boundary(end) {
                let file = SourceFile::new("versions/p.py", &full[..end]);
                let _ = read_revision(&file);
            }
            end += 3;
        }
    }

    #[test]
    fn upgrade_without_body_or_missing_upgrade() {
        assert!(changes("def upgrade():\n    pass\n").is_empty());
        assert!(changes("def downgrade():\n    op.drop_table('t')\n").is_empty());
        // The last definition of `upgrade` wins, as in Python.
        let changes = changes(
            "def upgrade():\n    op.drop_table('a')\n\ndef upgrade():\n    op.drop_table('b')\n",
        );
        assert_eq!(summary(&changes), vec!["drop table b"]);
    }

    // ----- shapes met in the real-world corpus (tests/corpus) --------------------------

    #[test]
    fn a_loop_over_a_constant_tuple_runs_once_per_item() {
        // Airflow 0113: the same columns added to two tables through a loop variable.
        let changes = changes(
            r#"def upgrade():
    for table in ("task_instance", "task_instance_history"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("retry_reason", sa.String(500), nullable=True))
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "add task_instance.retry_reason",
                "add task_instance_history.retry_reason"
            ]
        );
    }

    #[test]
    fn loops_over_pairs_zip_and_dict_views_bind_every_target() {
        // Airflow 0041 (a module-level tuple of pairs) and ZenML 5330ba58bf20 (a helper
        // returning lists built from a dict's keys and values, zipped in `upgrade()`).
        let changes = changes(
            r#"mappings = (("dataset", "asset"), ("dataset_alias", "asset_alias"))

def _get_changes():
    names = {"stackschema": "stack", "userschema": "user"}
    old = list(names.keys())
    new = list(names.values())
    return (old, new)

def upgrade():
    for original, renamed in mappings:
        op.rename_table(original, renamed)
    (old_names, new_names) = _get_changes()
    for old_name, new_name in zip(old_names, new_names):
        op.rename_table(old_name, new_name)
    kinds = {"flavor": 1}
    for name, kind in kinds.items():
        op.add_column(name, sa.Column("kind", sa.Integer()))
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "rename table dataset -> asset",
                "rename table dataset_alias -> asset_alias",
                "rename table stackschema -> stack",
                "rename table userschema -> user",
                "add flavor.kind",
            ]
        );
    }

    #[test]
    fn a_loop_over_a_dict_comprehension_keyed_by_a_list_uses_the_list() {
        // Superset b56500de1855: `models = {t: type(…) for t in table_names}`.
        let changes = changes(
            r#"table_names = ["dbs", "slices"]
models = {table_name: type(table_name, (Base,), {}) for table_name in table_names}

def upgrade():
    for table_name, model in models.items():
        with op.batch_alter_table(table_name) as batch_op:
            batch_op.add_column(sa.Column("uuid", sa.Integer()))
"#,
        );
        assert_eq!(summary(&changes), vec!["add dbs.uuid", "add slices.uuid"]);
    }

    #[test]
    fn a_loop_over_something_unknown_is_read_once() {
        let rev = read(
            "def upgrade():\n    for t in get_tables():\n        op.add_column(t, sa.Column('x', sa.Integer()))\n    op.add_column('a', sa.Column('y', sa.Integer()))\n",
        );
        assert_eq!(summary(&rev.events().changes), vec!["add a.y"]);
        assert_eq!(
            rev.events().warnings.len(),
            1,
            "{:?}",
            rev.events().warnings
        );
    }

    #[test]
    fn imported_wrappers_named_like_alembic_operations_are_read_as_them() {
        // Superset's `superset.migrations.shared.utils.create_table` / `add_columns`.
        let changes = changes(
            r#"from app.migrations.shared.utils import add_columns, create_table, drop_columns

def upgrade():
    create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(250)),
        sa.PrimaryKeyConstraint("id"),
    )
    add_columns("clusters", sa.Column("a", sa.Text()), sa.Column("b", sa.Text()))
    drop_columns("clusters", "name")
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "create clusters (id, name)",
                "add clusters.a",
                "add clusters.b",
                "drop clusters.name"
            ]
        );
    }

    #[test]
    fn a_column_returned_by_a_function_and_a_nested_helper() {
        // MLflow 1b5f0d9ad7c1: `op.add_column("jobs", _workspace_column())`, and a helper
        // defined inside `upgrade()` that creates a table.
        let changes = changes(
            r#"def _workspace_column():
    return sa.Column("workspace", sa.String(length=63), nullable=False)

def upgrade():
    def _create_catalog():
        op.create_table("workspaces", sa.Column("name", sa.String(63), nullable=False))

    op.add_column("jobs", _workspace_column())
    _create_catalog()
"#,
        );
        assert_eq!(
            summary(&changes),
            vec!["add jobs.workspace", "create workspaces (name)"]
        );
    }

    #[test]
    fn a_table_named_by_a_model_class_attribute() {
        // MLflow: `op.create_table(SqlModelVersionTag.__tablename__, …)` with the class imported
        // from the models; a class the revision declares itself is resolved at once.
        let changes = changes(
            r#"from app.models import SqlModelVersionTag

class NewTable(Base):
    __tablename__ = "sl_tables"

def upgrade():
    op.create_table(SqlModelVersionTag.__tablename__, sa.Column("key", sa.String(250)))
    op.add_column(NewTable.__tablename__, sa.Column("extra", sa.Text()))
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "create \u{1}model-class:SqlModelVersionTag (key)",
                "add sl_tables.extra"
            ]
        );
    }

    #[test]
    fn a_class_table_created_with_table_create() {
        // Superset c82ee8a39623: `TaggedObject.__table__.create(bind)`.
        let changes = changes(
            r#"class Stamped:
    created_on = Column(DateTime)

class TaggedObject(Stamped, Base):
    __tablename__ = "tagged_object"
    id = Column(Integer, primary_key=True)
    tag_id = Column(Integer, ForeignKey("tag.id"))
    object_type = Column("kind", String(50))

def upgrade():
    bind = op.get_bind()
    TaggedObject.__table__.create(bind)
"#,
        );
        assert_eq!(
            summary(&changes),
            vec!["create tagged_object (id, tag_id, kind, created_on)"]
        );
    }

    #[test]
    fn a_tuple_of_calls_as_a_statement_is_read() {
        // Superset e5ef6828ac4e: `(batch_op.add_column(…),)` — a stray trailing comma.
        let changes = changes(
            r#"def upgrade():
    with op.batch_alter_table("row_level_security_filters") as batch_op:
        (batch_op.add_column(sa.Column("filter_type", sa.VARCHAR(255), nullable=True)),)
"#,
        );
        assert_eq!(
            summary(&changes),
            vec!["add row_level_security_filters.filter_type"]
        );
    }

    #[test]
    fn issue_12_helpers_with_parameters() {
        let changes = changes(
            r#"def add_timestamps(table, name="created_at", *, tz=True):
    op.add_column(table, sa.Column(name, sa.DateTime(timezone=tz), nullable=False))
    op.add_column(table, sa.Column(f"{name}_by", sa.Integer()))

def fk_column(target):
    return sa.Column(f"{target}_id", sa.Integer(), sa.ForeignKey(f"{target}s.id"))

def upgrade():
    add_timestamps("jobs")
    add_timestamps("runs", name="started_at")
    for table in ("a", "b"):
        add_timestamps(table)
    op.add_column("jobs", fk_column("owner"))
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "add jobs.created_at",
                "add jobs.created_at_by",
                "add runs.started_at",
                "add runs.started_at_by",
                "add a.created_at",
                "add a.created_at_by",
                "add b.created_at",
                "add b.created_at_by",
                "add jobs.owner_id",
            ]
        );
        let SchemaChange::AddColumn { column, .. } = &changes[0] else {
            panic!("a column")
        };
        assert_eq!(column.ty.to_sql(), "TIMESTAMPTZ");
        let SchemaChange::AddColumn { column, .. } = &changes[8] else {
            panic!("a column")
        };
        assert_eq!(
            column.references.as_ref().map(|r| r.table.to_string()),
            Some("owners".to_string())
        );
    }

    #[test]
    fn issue_12_tables_a_revision_creates_without_create_table() {
        let changes = changes(
            r#"meta = sa.MetaData()
logs = sa.Table("logs", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("line", sa.Text))

def _make(name, *extra):
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("payload", sa.JSON),
        *extra,
    )
    return table

def upgrade():
    bind = op.get_bind()
    audit = _make("audit")
    audit.create(bind)
    _make("events", sa.Column("kind", sa.String(20))).create(bind=bind, checkfirst=True)
    logs.create(op.get_bind())
    sa.Table("old_logs", meta, sa.Column("id", sa.Integer)).drop(bind)
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "create audit (id, payload)",
                // `*extra` holds what the call passed on.
                "create events (id, payload, kind)",
                "create logs (id, line)",
                "drop table old_logs",
            ]
        );
    }

    #[test]
    fn issue_12_create_all_and_drop_all_on_a_metadata() {
        let changes = changes(
            r#"from sqlalchemy.ext.declarative import declarative_base, declared_attr

Base = declarative_base()
link = sa.Table("links", Base.metadata, sa.Column("a_id", sa.Integer), sa.Column("b_id", sa.Integer))

class AuditMixin:
    created_on = sa.Column(sa.DateTime)

    @declared_attr
    def created_by_fk(cls):
        return sa.Column(sa.Integer, sa.ForeignKey("ab_user.id"), nullable=True)

class Item(AuditMixin, Base):
    __tablename__ = "items"
    id = sa.Column(sa.Integer, primary_key=True)

new_tables = [Item.__table__, link]

def upgrade():
    bind = op.get_bind()
    Base.metadata.drop_all(bind=bind, tables=new_tables)
    Base.metadata.create_all(bind=bind, tables=new_tables)

def other():
    Base.metadata.create_all(bind=op.get_bind())
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "drop table items",
                "drop table links",
                "create items (id, created_on, created_by_fk)",
                "create links (a_id, b_id)",
            ]
        );
        let all = changes_of_function(
            r#"from sqlalchemy.ext.declarative import declarative_base

Base = declarative_base()
link = sa.Table("links", Base.metadata, sa.Column("a_id", sa.Integer))

class Item(Base):
    __tablename__ = "items"
    id = sa.Column(sa.Integer, primary_key=True)

def upgrade():
    Base.metadata.create_all(bind=op.get_bind())
"#,
        );
        assert_eq!(
            summary(&all),
            vec!["create links (a_id)", "create items (id)"]
        );
    }

    fn changes_of_function(body: &str) -> Vec<SchemaChange> {
        changes(body)
    }

    #[test]
    fn issue_12_create_table_with_splatted_columns() {
        let changes = changes(
            r#"COMMON = [sa.Column("id", sa.Integer, primary_key=True), sa.Column("created", sa.DateTime)]
TABLE = ("settings", sa.Column("key", sa.String(50)))

def _columns(prefix):
    return [sa.Column(f"{prefix}_a", sa.Integer), sa.Column(f"{prefix}_b", sa.Integer)]

def upgrade():
    op.create_table("jobs", *COMMON, sa.Column("name", sa.Text))
    op.create_table("runs", *COMMON, *_columns("x"))
    op.create_table(*TABLE)
"#,
        );
        assert_eq!(
            summary(&changes),
            vec![
                "create jobs (id, created, name)",
                "create runs (id, created, x_a, x_b)",
                "create settings (key)",
            ]
        );
    }

    #[test]
    fn issue_12_sql_from_fstrings_and_helpers_is_read() {
        let rev = read(
            r#"TABLE = "jobs"
SCHEMA = "ops"

def qualified(name):
    return f"{SCHEMA}.{name}"

def upgrade():
    op.execute(f"ALTER TABLE {TABLE} ADD COLUMN owner text")
    op.execute("ALTER TABLE %s ADD COLUMN kind text" % qualified("runs"))
    op.execute("CREATE TABLE {} (id int)".format(qualified("logs")))
"#,
        );
        assert!(
            rev.events().warnings.is_empty(),
            "{:?}",
            rev.events().warnings
        );
        assert_eq!(
            summary(&rev.events().changes),
            vec![
                "add jobs.owner",
                "add ops.runs.kind",
                "create ops.logs (id)"
            ]
        );
    }

    #[test]
    fn issue_12_helpers_and_types_imported_from_other_modules() {
        use crate::pyeval::{ModuleIndex, ModuleSummary};
        let helpers = SourceFile::new(
            "app/migrations/utils.py",
            r#"from alembic import op
import sqlalchemy as sa

from app.migrations.db_types import TIMESTAMP

AUDIT = "audit_log"

def add_audit(table):
    op.add_column(table, sa.Column("changed_at", TIMESTAMP(), nullable=True))
    op.create_table(AUDIT, sa.Column("id", sa.Integer, primary_key=True))
"#,
        );
        let types = SourceFile::new(
            "app/migrations/db_types.py",
            r#"import sqlalchemy as sa

def _sa_TIMESTAMP():
    class TIMESTAMP(sa.TIMESTAMP):
        def __init__(self, *args, timezone=True, **kwargs):
            super().__init__(*args, timezone=timezone, **kwargs)
    return TIMESTAMP

def __getattr__(name):
    if name == "TIMESTAMP":
        return _sa_TIMESTAMP()
    raise AttributeError(name)

StringID = sa.String
"#,
        );
        let summaries: Vec<ModuleSummary> = [helpers, types]
            .iter()
            .map(|f| ModuleSummary::new(&f.path, &crate::pyast::parse(f)))
            .collect();
        let index = ModuleIndex::new(summaries.iter(), &[]);
        let revision = SourceFile::new(
            "app/migrations/versions/c3_x.py",
            format!(
                "{HEADER}from app.migrations.utils import add_audit\nfrom app.migrations.db_types import TIMESTAMP, StringID\n\ndef upgrade():\n    add_audit('jobs')\n    op.add_column('jobs', sa.Column('seen_at', TIMESTAMP(), nullable=True))\n    op.add_column('jobs', sa.Column('dag_id', StringID(250)))\n"
            ),
        );
        let rev = super::super::read_revision_in(&revision, &index, false).expect("a revision");
        assert!(
            rev.events().warnings.is_empty(),
            "{:?}",
            rev.events().warnings
        );
        assert_eq!(
            summary(&rev.events().changes),
            vec![
                "add jobs.changed_at",
                "create audit_log (id)",
                "add jobs.seen_at",
                "add jobs.dag_id"
            ]
        );
        let types: Vec<String> = rev
            .events()
            .changes
            .iter()
            .filter_map(|c| match c {
                SchemaChange::AddColumn { column, .. } => Some(column.ty.to_sql()),
                _ => None,
            })
            .collect();
        assert_eq!(types, vec!["TIMESTAMPTZ", "TIMESTAMPTZ", "VARCHAR(250)"]);
        // Without the project's modules the imported names are read as written.
        let rev = read_revision(&revision).expect("a revision");
        assert_eq!(
            summary(&rev.events().changes),
            vec!["add jobs.seen_at", "add jobs.dag_id"]
        );
    }
}
