//! Migrations → schema change events.
//!
//! A migration reader turns one file into a list of [`SchemaChange`] events in the order they
//! would run. Readers never decide what a name resolves to: unqualified names stay unqualified
//! ([`QualifiedName::schema`] is `None`) and `SET search_path` is an event of its own, because
//! what `ALTER TABLE customers` means depends on the schema built so far — that is
//! [`crate::schema`]'s job when it replays the events.
//!
//! Readers never fail: a statement they cannot read becomes a [`ReadWarning`] (only when it
//! names a table or a type), and reading goes on with the next statement.

pub mod alembic;
pub mod sources;
pub mod sql;

use serde::Serialize;

use crate::postgres_type::SqlType;
use crate::source::Location;

/// A possibly schema-qualified name, already case-folded (unquoted identifiers lower-cased,
/// quoted ones kept as written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: Option<&str>, name: &str) -> Self {
        QualifiedName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A foreign key target: `REFERENCES core.customers (id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ForeignKeyRef {
    pub table: QualifiedName,
    /// Empty when the column list was omitted (the target's primary key).
    pub columns: Vec<String>,
}

/// A column as a migration declares it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ColumnDef {
    pub name: String,
    pub ty: SqlType,
    /// `false` for `NOT NULL`, `PRIMARY KEY` and serial types.
    pub nullable: bool,
    /// The default expression's SQL text as written (`now()`, `'pending'`), if any. Serial
    /// types get `nextval('<table>_<column>_seq'::regclass)`.
    pub default: Option<String>,
    pub primary_key: bool,
    pub references: Option<ForeignKeyRef>,
    /// Where the column was declared (the column's name in the migration).
    pub location: Location,
}

/// A condition of a PL/pgSQL `IF` that the replay can evaluate against the schema so far.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub enum Condition {
    /// `EXISTS (SELECT … FROM information_schema.columns WHERE table_schema = … AND table_name =
    /// … AND column_name = …)`. `schema: None` when the query does not name one.
    ColumnExists {
        schema: Option<String>,
        table: String,
        column: String,
    },
    /// `EXISTS (SELECT … FROM information_schema.tables | pg_tables WHERE …)`.
    TableExists {
        schema: Option<String>,
        table: String,
    },
    /// `EXISTS (SELECT … FROM pg_type WHERE typname = …)`.
    TypeExists {
        schema: Option<String>,
        name: String,
    },
    Not(Box<Condition>),
    /// Anything else: the `THEN` branch runs, the others do not.
    Unknown,
}

impl Condition {
    /// The `schema` of a guard that compares with `current_schema()`: the first schema of the
    /// search path that exists when the guard runs (not "any schema").
    pub const CURRENT_SCHEMA: &'static str = "current_schema()";
    /// The `schema` of an unqualified `to_regclass('t')` / `'t'::regclass`: the table the
    /// search path finds, in whichever of its schemas.
    pub const SEARCH_PATH: &'static str = "(search_path)";
}

/// One schema change, in the order it runs.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub enum SchemaChange {
    CreateSchema {
        name: String,
        location: Location,
    },
    DropSchema {
        name: String,
        cascade: bool,
        location: Location,
    },
    /// `SET [LOCAL] search_path TO a, b` (also `set_config('search_path', …)`). Lasts until the
    /// end of the file; a `SET LOCAL` until the end of its transaction, where the reader emits
    /// the path to return to. An empty list is the source's default schema.
    SetSearchPath {
        schemas: Vec<String>,
        location: Location,
    },
    CreateTable {
        table: QualifiedName,
        if_not_exists: bool,
        columns: Vec<ColumnDef>,
        /// Columns named in a table-level `PRIMARY KEY (…)` constraint: they become NOT NULL.
        primary_key: Vec<String>,
        /// `INHERITS (other)` / `PARTITION OF other`: the parents, whose columns come first and
        /// whose later column changes (`ALTER TABLE parent ADD COLUMN` …) reach this table.
        copies_from: Vec<QualifiedName>,
        /// `LIKE other` elements of the column list, each with the number of `columns`
        /// declared before it: the copied columns go there, and later changes to `other` do
        /// not reach this table.
        likes: Vec<(usize, QualifiedName)>,
        location: Location,
    },
    DropTable {
        table: QualifiedName,
        location: Location,
    },
    RenameTable {
        table: QualifiedName,
        new_name: String,
        location: Location,
    },
    /// `ALTER TABLE t SET SCHEMA s`.
    SetTableSchema {
        table: QualifiedName,
        new_schema: String,
        location: Location,
    },
    AddColumn {
        table: QualifiedName,
        column: ColumnDef,
        if_not_exists: bool,
    },
    DropColumn {
        table: QualifiedName,
        column: String,
        /// `DROP COLUMN IF EXISTS`: a missing column is no error.
        #[serde(default)]
        if_exists: bool,
        location: Location,
    },
    RenameColumn {
        table: QualifiedName,
        column: String,
        new_name: String,
        location: Location,
    },
    /// `ALTER COLUMN c [SET DATA] TYPE t`.
    AlterColumnType {
        table: QualifiedName,
        column: String,
        ty: SqlType,
        location: Location,
    },
    /// `ALTER COLUMN c SET NOT NULL` (`nullable: false`) / `DROP NOT NULL` (`true`).
    SetNullable {
        table: QualifiedName,
        column: String,
        nullable: bool,
        location: Location,
    },
    /// `ALTER COLUMN c SET DEFAULT e` (`Some`) / `DROP DEFAULT` (`None`).
    SetDefault {
        table: QualifiedName,
        column: String,
        default: Option<String>,
        location: Location,
    },
    /// `ADD [CONSTRAINT n] PRIMARY KEY (a, b)`: the columns become NOT NULL.
    AddPrimaryKey {
        table: QualifiedName,
        columns: Vec<String>,
        location: Location,
    },
    /// `ADD [CONSTRAINT n] FOREIGN KEY (a) REFERENCES t (b)`.
    AddForeignKey {
        table: QualifiedName,
        columns: Vec<String>,
        references: ForeignKeyRef,
        location: Location,
    },
    CreateEnum {
        name: QualifiedName,
        values: Vec<String>,
        location: Location,
    },
    /// `ALTER TYPE t ADD VALUE [IF NOT EXISTS] 'v' [BEFORE|AFTER 'w']`.
    AddEnumValue {
        name: QualifiedName,
        value: String,
        /// `Some((true, w))` for `BEFORE 'w'`, `Some((false, w))` for `AFTER 'w'`.
        position: Option<(bool, String)>,
        location: Location,
    },
    RenameEnumValue {
        name: QualifiedName,
        value: String,
        new_value: String,
        location: Location,
    },
    RenameType {
        name: QualifiedName,
        new_name: String,
        location: Location,
    },
    /// `DROP TYPE` or `DROP DOMAIN`: the columns of that type go too (with `CASCADE`; without
    /// it the drop only succeeds when no column uses the type).
    DropType {
        name: QualifiedName,
        location: Location,
    },
    /// `ALTER TYPE t SET SCHEMA s` / `ALTER DOMAIN d SET SCHEMA s`.
    SetTypeSchema {
        name: QualifiedName,
        new_schema: String,
        location: Location,
    },
    /// `CREATE DOMAIN d [AS] type [NOT NULL] …`: a column of type `d` is reported with the
    /// domain's type, and is NOT NULL when the domain is.
    CreateDomain {
        name: QualifiedName,
        ty: SqlType,
        nullable: bool,
        location: Location,
    },
    /// `ALTER SCHEMA s RENAME TO t`: its tables and types move with it.
    RenameSchema {
        name: String,
        new_name: String,
        location: Location,
    },
    /// `ALTER TABLE parent ATTACH PARTITION child` / `ALTER TABLE child INHERIT parent`
    /// (`attach: true`), `DETACH PARTITION` / `NO INHERIT` (`false`): whether the parent's later
    /// column changes reach the child.
    SetParent {
        table: QualifiedName,
        parent: QualifiedName,
        partition: bool,
        attach: bool,
        location: Location,
    },
    /// A PL/pgSQL `IF … THEN … [ELSIF …] [ELSE …] END IF` whose branches change the schema.
    If {
        branches: Vec<(Condition, Vec<SchemaChange>)>,
        otherwise: Vec<SchemaChange>,
        location: Location,
    },
}

/// A warning from a migration reader: a statement that names a table or type but could not be
/// read, `EXECUTE` of a string built at run time, and the like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReadWarning {
    pub message: String,
    pub location: Location,
}

/// A `-- driftguard: ignore[DG001, DG005]` comment in a migration: it silences findings whose
/// related label points into the statement it belongs to (the statement it precedes or ends),
/// and warnings located in that statement. An empty `codes` list (`-- driftguard: ignore`)
/// silences every code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SqlIgnore {
    pub codes: Vec<String>,
    /// Where the comment is.
    pub location: Location,
    /// First and last line (1-based, inclusive) of the statement the comment applies to.
    pub statement_lines: (u32, u32),
}

impl SchemaChange {
    /// Where the change is written: the name it is about.
    pub fn location(&self) -> &Location {
        match self {
            SchemaChange::AddColumn { column, .. } => &column.location,
            SchemaChange::CreateSchema { location, .. }
            | SchemaChange::DropSchema { location, .. }
            | SchemaChange::SetSearchPath { location, .. }
            | SchemaChange::CreateTable { location, .. }
            | SchemaChange::DropTable { location, .. }
            | SchemaChange::RenameTable { location, .. }
            | SchemaChange::SetTableSchema { location, .. }
            | SchemaChange::DropColumn { location, .. }
            | SchemaChange::RenameColumn { location, .. }
            | SchemaChange::AlterColumnType { location, .. }
            | SchemaChange::SetNullable { location, .. }
            | SchemaChange::SetDefault { location, .. }
            | SchemaChange::AddPrimaryKey { location, .. }
            | SchemaChange::AddForeignKey { location, .. }
            | SchemaChange::CreateEnum { location, .. }
            | SchemaChange::AddEnumValue { location, .. }
            | SchemaChange::RenameEnumValue { location, .. }
            | SchemaChange::RenameType { location, .. }
            | SchemaChange::DropType { location, .. }
            | SchemaChange::SetTypeSchema { location, .. }
            | SchemaChange::CreateDomain { location, .. }
            | SchemaChange::RenameSchema { location, .. }
            | SchemaChange::SetParent { location, .. }
            | SchemaChange::If { location, .. } => location,
        }
    }

    /// Calls `f` on every table name the change reads or writes (also inside `IF` branches and
    /// foreign key targets); type names are not table names and are left alone.
    pub fn for_each_table_mut(&mut self, f: &mut dyn FnMut(&mut QualifiedName)) {
        match self {
            SchemaChange::CreateTable {
                table,
                columns,
                copies_from,
                likes,
                ..
            } => {
                f(table);
                for (_, like) in likes.iter_mut() {
                    f(like);
                }
                for column in columns {
                    if let Some(fk) = &mut column.references {
                        f(&mut fk.table);
                    }
                }
                for t in copies_from.iter_mut() {
                    f(t);
                }
            }
            SchemaChange::AddColumn { table, column, .. } => {
                f(table);
                if let Some(fk) = &mut column.references {
                    f(&mut fk.table);
                }
            }
            SchemaChange::AddForeignKey {
                table, references, ..
            } => {
                f(table);
                f(&mut references.table);
            }
            SchemaChange::DropTable { table, .. }
            | SchemaChange::RenameTable { table, .. }
            | SchemaChange::SetTableSchema { table, .. }
            | SchemaChange::DropColumn { table, .. }
            | SchemaChange::RenameColumn { table, .. }
            | SchemaChange::AlterColumnType { table, .. }
            | SchemaChange::SetNullable { table, .. }
            | SchemaChange::SetDefault { table, .. }
            | SchemaChange::AddPrimaryKey { table, .. } => f(table),
            SchemaChange::If {
                branches,
                otherwise,
                ..
            } => {
                for (_, changes) in branches {
                    changes.iter_mut().for_each(|c| c.for_each_table_mut(f));
                }
                otherwise.iter_mut().for_each(|c| c.for_each_table_mut(f));
            }
            SchemaChange::CreateSchema { .. }
            | SchemaChange::DropSchema { .. }
            | SchemaChange::SetSearchPath { .. }
            | SchemaChange::CreateEnum { .. }
            | SchemaChange::AddEnumValue { .. }
            | SchemaChange::RenameEnumValue { .. }
            | SchemaChange::RenameType { .. }
            | SchemaChange::DropType { .. }
            | SchemaChange::SetTypeSchema { .. }
            | SchemaChange::CreateDomain { .. }
            | SchemaChange::RenameSchema { .. } => {}
            SchemaChange::SetParent { table, parent, .. } => {
                f(table);
                f(parent);
            }
        }
    }
}

/// A SQL migration file as the parse cache keeps it: what every check reads of every file at
/// hand (the reader's warnings, the suppression comments), the events decoded only when
/// something replays or checks the file. A check that goes on from a kept replay
/// ([`crate::schema::resume`]) reads the events of the new files alone: decoding those of
/// 20,000 files was a third of a new edit's parse pack.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SqlRead {
    /// Boxed: few files have either, and a parse pack holds 20,000 SQL files' reads (two empty
    /// lists were 48 of each read's 96 bytes).
    notes: Option<Box<SqlNotes>>,
    events: crate::lazy::Lazy<MigrationEvents>,
}

/// The reader's warnings and the suppression comments of a [`SqlRead`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
struct SqlNotes {
    warnings: Vec<ReadWarning>,
    ignores: Vec<SqlIgnore>,
}

impl SqlRead {
    pub fn new(events: MigrationEvents) -> SqlRead {
        let none = events.warnings.is_empty() && events.ignores.is_empty();
        SqlRead {
            notes: (!none).then(|| {
                Box::new(SqlNotes {
                    warnings: events.warnings.clone(),
                    ignores: events.ignores.clone(),
                })
            }),
            events: crate::lazy::Lazy::new(events),
        }
    }

    /// A read without warnings or suppression comments (most files), its events still in
    /// their bytes: a parse pack keeps such reads as those bytes alone.
    pub fn plain(events: crate::lazy::Lazy<MigrationEvents>) -> SqlRead {
        SqlRead {
            notes: None,
            events,
        }
    }

    /// The events of a read [`SqlRead::plain`] can make again; `None` for a read with
    /// warnings or suppression comments.
    pub fn plain_events(&self) -> Option<&crate::lazy::Lazy<MigrationEvents>> {
        self.notes.is_none().then_some(&self.events)
    }

    /// What the reader warned of.
    pub fn warnings(&self) -> &[ReadWarning] {
        self.notes.as_ref().map_or(&[], |n| &n.warnings)
    }

    /// The file's `-- driftguard: ignore[…]` comments.
    pub fn ignores(&self) -> &[SqlIgnore] {
        self.notes.as_ref().map_or(&[], |n| &n.ignores)
    }

    /// The file's events, decoded on first use. Only a damaged cache file can hold bytes that
    /// do not decode; the file then reads as empty.
    pub fn events(&self) -> &MigrationEvents {
        static EMPTY: std::sync::LazyLock<MigrationEvents> =
            std::sync::LazyLock::new(MigrationEvents::default);
        self.events.get().unwrap_or(&EMPTY)
    }
}

/// What a reader makes of one migration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct MigrationEvents {
    pub changes: Vec<SchemaChange>,
    pub warnings: Vec<ReadWarning>,
    pub ignores: Vec<SqlIgnore>,
    /// A SQL file's statements and comments as written, for the rules about migration files
    /// (the handbook group); empty for Alembic revisions and embedded SQL.
    #[serde(default)]
    pub facts: SqlFacts,
}

/// What a SQL migration file says besides its schema changes: its top-level statements in
/// order, its comments, and a hash of its SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SqlFacts {
    pub statements: Vec<Statement>,
    pub comments: Vec<Comment>,
    /// A hash of the SQL tokens (comments and layout left out): two copies of one migration
    /// have the same.
    pub content_hash: u64,
    /// The file's last line, for findings about what the end of the file lacks.
    pub last_line: u32,
}

/// A top-level statement of a SQL file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Statement {
    pub kind: StatementKind,
    /// Where the statement starts.
    pub location: Location,
    pub last_line: u32,
    /// Between `BEGIN`/`START TRANSACTION` and `COMMIT`/`ROLLBACK`/`END`.
    pub in_transaction: bool,
}

/// What a top-level statement is, as far as the rules about migration files care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum StatementKind {
    /// `BEGIN`, `START TRANSACTION`.
    Begin,
    /// `COMMIT`, `END`.
    Commit,
    /// `ROLLBACK` (not `ROLLBACK TO SAVEPOINT`).
    Rollback,
    /// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON table`.
    CreateIndex {
        if_not_exists: bool,
        concurrently: bool,
        name: Option<String>,
        /// The table after `ON [ONLY]`, when it could be read.
        #[serde(default)]
        table: Option<QualifiedName>,
        /// The indexed columns when every element is a plain column name (optionally `ASC` /
        /// `DESC`); empty when any is an expression or has an operator class.
        #[serde(default)]
        columns: Vec<String>,
    },
    /// `COMMENT ON COLUMN [schema.]table.column IS …`.
    CommentOnColumn {
        table: QualifiedName,
        column: String,
    },
    /// `ALTER TYPE … ADD VALUE …`: may run outside a transaction (before PostgreSQL 12 it
    /// must).
    AlterTypeAddValue,
    /// `DO $$ … $$`; `catches_duplicates` when its body handles `duplicate_column` /
    /// `duplicate_table` / `duplicate_object` (an idempotent guard of its own).
    Do { catches_duplicates: bool },
    /// Any other `CREATE`, `ALTER`, `DROP`, `COMMENT`.
    Ddl,
    /// Everything else (`INSERT`, `SET`, `SELECT` …).
    Other,
}

/// A `--` or `/* */` comment, with the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Comment {
    pub line: u32,
    pub text: String,
}
