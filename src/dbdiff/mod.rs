//! `driftguard db-diff`: the handbook's "Production vs Model" step, read-only.
//!
//! It reads the project's models exactly as `check --all` does ([`read_project`]),
//! connects to a live PostgreSQL database, reads `information_schema` and `pg_enum` into the
//! same [`Schema`] the migration replay builds, and runs the `db-diff` rules over the two
//! ([`rules::check_database`]): DG101–DG104 for what the database lacks, and DG005/DG006 for
//! types and nullability, which keep their codes because the disagreement is the same one —
//! only the other side is the database (their messages then say "the database"). DG007 is not
//! run: a foreign key whose parent table a live database lacks could not have been created
//! there, and a mapped parent table missing from it is DG102's finding.
//!
//! The connection is the family's other files: [`url`] reads the URL and the environment as
//! libpq does (the password is a [`Secret`] from the first byte), [`tls`] sets up rustls as
//! `sslmode` asks, [`wire`] guards what the server sends (no message over 64 MiB, no password
//! in clear to another host), and [`connect`] opens the socket and runs the driver. They are
//! the only modules that touch `tokio-postgres` and rustls.
//!
//! Read-only, three ways: the session is `SET SESSION CHARACTERISTICS AS TRANSACTION READ
//! ONLY`, the reads run in one `REPEATABLE READ, READ ONLY` transaction (one snapshot), and that
//! transaction is rolled back. Only `SELECT`s are sent.
//!
//! Secrets: the password is never printed. Messages name the database by
//! `postgresql://USER@HOST:PORT/DB`, and every error text — ours and the driver's — passes
//! through [`DatabaseUrl::scrub`], which replaces the password (as written and decoded) with
//! `***`. What is read from the database is located at `postgresql://HOST:PORT/DB` with line
//! 0 (see [`Location`]): related labels point there as text; a finding's own location stays
//! the model line (or, for migrations not applied, the migration statement).

pub mod connect;
pub mod tls;
pub mod url;
pub mod wire;

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio_postgres::IsolationLevel;

use crate::error::Error;
use crate::finding::Warning;
use crate::models::ModelTable;
use crate::postgres_type::SqlType;
use crate::project::read_project;
use crate::report::{Mode, Report};
use crate::rule::Severity;
use crate::rules::{self, Context, DatabaseContext, MigrationSource};
use crate::schema::{Column, EnumType, Schema, Table};
use crate::secret::Secret;
use crate::source::Location;

pub use url::DatabaseUrl;

/// What `db-diff` compares, from the command line.
#[derive(Debug, Clone)]
pub struct DbDiffOptions {
    pub path: PathBuf,
    /// `--database-url`, else `DATABASE_URL`.
    pub database_url: Option<Secret>,
    /// `--schemas`: empty for every schema but PostgreSQL's own.
    pub schemas: Vec<String>,
    pub with_migrations: bool,
    pub config: Option<PathBuf>,
    /// `--fail-on`, overriding the config's `fail_on`: `Some(None)` is `never`.
    pub fail_on: Option<Option<Severity>>,
    /// `--allow-insecure-password`: send a cleartext or MD5 password without TLS to another
    /// host when the server asks for one.
    pub allow_insecure_password: bool,
}

/// Runs `db-diff`. `say` receives the lines for stderr that come before the report: which
/// database it is connected to, and notes about the URL.
pub fn run(
    options: &DbDiffOptions,
    say: &mut dyn FnMut(&str) -> Result<(), Error>,
) -> Result<Report, Error> {
    let text = options
        .database_url
        .as_ref()
        .map(Secret::expose)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            Error::Usage(
                "no database to compare with: pass `--database-url postgresql://USER@HOST:PORT/DB` or set the DATABASE_URL environment variable (keep the password out of shell history: prefer DATABASE_URL)"
                    .to_string(),
            )
        })?;
    let url = DatabaseUrl::parse(text, &|name| std::env::var(name).ok()).map_err(Error::Usage)?;
    // The project first: a bad config stops the run before any connection is made.
    let mut project = read_project(
        &options.path,
        options.config.as_deref(),
        options.fail_on,
        options.with_migrations,
    )?;
    // Notes first: a password file that was ignored explains a failed sign-in.
    for note in &url.notes {
        say(&format!("note: {note}"))?;
    }
    let (schemas, schema_warnings) = requested_schemas(&options.schemas);
    let (live, server) = connect::with_client(&url, options.allow_insecure_password, {
        let schemas = schemas.clone();
        async move |client| read_database(client, &schemas).await
    })
    .map_err(Error::Database)?;
    say(&format!(
        "connected to database \"{}\" as \"{}\" on {server} (read-only)",
        live.database, live.user,
    ))?;
    project.warnings.extend(schema_warnings);
    project.warnings.extend(
        missing_schemas(&schemas, &live)
            .into_iter()
            .map(Warning::global),
    );
    let location = Location::new(url.location_path(&live.database), 0, 0);
    let database = MigrationSource {
        name: format!("database \"{}\"", live.database),
        default_schema: project.config.default_schema.clone(),
        schema: build_schema(&live, &location),
        models: None,
        live: true,
        parts: Vec::new(),
    };
    let in_scope = |schema: &str| schemas.is_empty() || schemas.iter().any(|s| s == schema);
    let default_schema = &project.config.default_schema;
    let tables: Vec<ModelTable> = project
        .tables
        .iter()
        .filter(|t| in_scope(t.schema.as_deref().unwrap_or(default_schema)))
        .cloned()
        .collect();
    let migrations: Vec<MigrationSource> = project
        .sources
        .iter()
        .map(|source| {
            let mut source = source.clone();
            source
                .schema
                .tables
                .retain(|(schema, _), _| in_scope(schema));
            source
        })
        .collect();
    let ctx = DatabaseContext {
        models: Context {
            tables: &tables,
            sources: std::slice::from_ref(&database),
            default_schema,
            declared_sources: false,
            external: None,
            memo: None,
            scope: None,
        },
        database: &database,
        migrations: &migrations,
    };
    let findings = project.apply_config(rules::check_database(&ctx));
    let mut summary = project.summary.clone();
    summary.model_files = tables
        .iter()
        .map(|t| &*t.location.path)
        .collect::<std::collections::HashSet<_>>()
        .len();
    summary.tables = tables.len();
    summary.columns = tables.iter().map(|t| t.columns.len()).sum();
    summary.findings = findings.len();
    let mut warnings = project.warnings.clone();
    if !schemas.is_empty() && tables.is_empty() {
        warnings.push(Warning::global(format!(
            "no model table is in the schema(s) {} given with --schemas, so nothing was compared; the models' tables are in {}",
            quoted_list(&schemas),
            quoted_list(&model_schemas(&project.tables, default_schema)),
        )));
    }
    let sources = project.snippet_sources(&findings);
    Ok(Report {
        mode: Mode::All,
        findings,
        warnings,
        summary,
        fail_on: project.fail_on,
        nothing_to_check: false,
        sources,
    })
}

/// The `--schemas` names to compare, and warnings about empty ones (`--schemas ""` from an
/// unset shell variable): those are dropped, and none left means every schema.
fn requested_schemas(given: &[String]) -> (Vec<String>, Vec<Warning>) {
    let schemas: Vec<String> = given
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut warnings = Vec::new();
    if schemas.len() < given.len() {
        warnings.push(Warning::global(if schemas.is_empty() {
            "--schemas names no schema (an empty value), so every schema is compared".to_string()
        } else {
            format!(
                "--schemas has an empty name; compared only {}",
                quoted_list(&schemas)
            )
        }));
    }
    (schemas, warnings)
}

/// A warning per `--schemas` name the database does not have (a typo compares nothing).
fn missing_schemas(schemas: &[String], live: &LiveDatabase) -> Vec<String> {
    schemas
        .iter()
        .filter(|name| !live.schemas.contains(name))
        .map(|name| {
            format!(
                "--schemas names `{name}`, which database \"{}\" does not have (it has {}); nothing of it was compared",
                live.database,
                quoted_list(&live.schemas)
            )
        })
        .collect()
}

/// The schemas the model tables are in, sorted.
fn model_schemas(tables: &[ModelTable], default_schema: &str) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = tables
        .iter()
        .map(|t| {
            t.schema
                .clone()
                .unwrap_or_else(|| default_schema.to_string())
        })
        .collect();
    set.into_iter().collect()
}

/// `` `a`, `b` `` — or "none".
fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one read of the database returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveDatabase {
    /// `current_database()`.
    pub database: String,
    /// `current_user`.
    pub user: String,
    /// Every schema but PostgreSQL's own, in name order (to tell a `--schemas` typo).
    pub schemas: Vec<String>,
    /// Base tables, as (schema, table), in name order.
    pub tables: Vec<(String, String)>,
    /// In `(schema, table, ordinal_position)` order.
    pub columns: Vec<ColumnRow>,
    /// Primary-key columns, as (schema, table, column).
    pub primary_keys: Vec<(String, String, String)>,
    /// Enum types with their values in `enumsortorder`.
    pub enums: Vec<EnumRow>,
}

/// One row of `information_schema.columns`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnRow {
    pub schema: String,
    pub table: String,
    pub column: String,
    pub data_type: String,
    pub udt_schema: String,
    pub udt_name: String,
    pub domain_schema: Option<String>,
    pub domain_name: Option<String>,
    pub is_nullable: String,
    pub column_default: Option<String>,
    pub character_maximum_length: Option<i32>,
    pub numeric_precision: Option<i32>,
    pub numeric_scale: Option<i32>,
    pub datetime_precision: Option<i32>,
}

/// One enum type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnumRow {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
}

/// PostgreSQL's own schemas, never compared. `pg_toast*` and `pg_temp_*` are matched by
/// prefix in the queries.
const SYSTEM_SCHEMAS: &str = "c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema::text NOT LIKE 'pg\\_toast%' AND c.table_schema::text NOT LIKE 'pg\\_temp\\_%'";

fn tables_sql() -> String {
    format!(
        "SELECT c.table_schema::text, c.table_name::text
         FROM information_schema.tables c
         WHERE c.table_type = 'BASE TABLE' AND {SYSTEM_SCHEMAS}
           AND (cardinality($1::text[]) = 0 OR c.table_schema::text = ANY($1::text[]))
         ORDER BY 1, 2"
    )
}

fn columns_sql() -> String {
    format!(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text,
                c.data_type::text, c.udt_schema::text, c.udt_name::text,
                c.domain_schema::text, c.domain_name::text,
                c.is_nullable::text, c.column_default::text,
                c.character_maximum_length::int4, c.numeric_precision::int4,
                c.numeric_scale::int4, c.datetime_precision::int4
         FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE t.table_type = 'BASE TABLE' AND {SYSTEM_SCHEMAS}
           AND (cardinality($1::text[]) = 0 OR c.table_schema::text = ANY($1::text[]))
         ORDER BY c.table_schema, c.table_name, c.ordinal_position"
    )
}

fn primary_keys_sql() -> String {
    format!(
        "SELECT c.table_schema::text, c.table_name::text, c.column_name::text
         FROM information_schema.table_constraints k
         JOIN information_schema.key_column_usage c
           ON c.constraint_schema = k.constraint_schema
          AND c.constraint_name = k.constraint_name
          AND c.table_schema = k.table_schema
          AND c.table_name = k.table_name
         WHERE k.constraint_type = 'PRIMARY KEY' AND {SYSTEM_SCHEMAS}
           AND (cardinality($1::text[]) = 0 OR c.table_schema::text = ANY($1::text[]))"
    )
}

/// Every schema but PostgreSQL's own.
const SCHEMAS_SQL: &str = "SELECT nspname::text FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema')
       AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%'
     ORDER BY 1";

/// Every enum type, whatever `--schemas` says: a compared table may use a type of another
/// schema.
const ENUMS_SQL: &str = "SELECT n.nspname::text, t.typname::text, e.enumlabel::text
     FROM pg_type t
     JOIN pg_namespace n ON n.oid = t.typnamespace
     LEFT JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE t.typtype = 'e' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     ORDER BY n.nspname, t.typname, e.enumsortorder";

/// The reads, in one read-only transaction that is rolled back.
async fn read_database(
    client: &mut tokio_postgres::Client,
    schemas: &[String],
) -> Result<LiveDatabase, tokio_postgres::Error> {
    client
        .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        .await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    tx.batch_execute("SET LOCAL statement_timeout = '60s'")
        .await?;
    let schemas: Vec<String> = schemas.to_vec();
    let who = tx
        .query_one("SELECT current_database()::text, current_user::text", &[])
        .await?;
    let mut live = LiveDatabase {
        database: who.try_get(0)?,
        user: who.try_get(1)?,
        ..LiveDatabase::default()
    };
    for row in tx.query(SCHEMAS_SQL, &[]).await? {
        live.schemas.push(row.try_get(0)?);
    }
    for row in tx.query(&tables_sql(), &[&schemas]).await? {
        live.tables.push((row.try_get(0)?, row.try_get(1)?));
    }
    for row in tx.query(&columns_sql(), &[&schemas]).await? {
        live.columns.push(ColumnRow {
            schema: row.try_get(0)?,
            table: row.try_get(1)?,
            column: row.try_get(2)?,
            data_type: row.try_get(3)?,
            udt_schema: row.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
            udt_name: row.try_get::<_, Option<String>>(5)?.unwrap_or_default(),
            domain_schema: row.try_get(6)?,
            domain_name: row.try_get(7)?,
            is_nullable: row.try_get(8)?,
            column_default: row.try_get(9)?,
            character_maximum_length: row.try_get(10)?,
            numeric_precision: row.try_get(11)?,
            numeric_scale: row.try_get(12)?,
            datetime_precision: row.try_get(13)?,
        });
    }
    for row in tx.query(&primary_keys_sql(), &[&schemas]).await? {
        live.primary_keys
            .push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
    }
    for row in tx.query(ENUMS_SQL, &[]).await? {
        let schema: String = row.try_get(0)?;
        let name: String = row.try_get(1)?;
        let value: Option<String> = row.try_get(2)?;
        let same = live
            .enums
            .last()
            .is_some_and(|e| e.schema == schema && e.name == name);
        if !same {
            live.enums.push(EnumRow {
                schema,
                name,
                values: Vec::new(),
            });
        }
        if let (Some(value), Some(last)) = (value, live.enums.last_mut()) {
            last.values.push(value);
        }
    }
    tx.rollback().await?;
    Ok(live)
}

/// The schema the database has, every object located at `location`.
pub fn build_schema(live: &LiveDatabase, location: &Location) -> Schema {
    let mut schema = Schema::default();
    schema.schemas.insert("public".to_string());
    let mut tables: BTreeMap<(String, String), Table> = BTreeMap::new();
    for (table_schema, name) in &live.tables {
        tables.insert(
            (table_schema.clone(), name.clone()),
            Table::new(table_schema, name, location.clone()),
        );
    }
    for row in &live.columns {
        let table = tables
            .entry((row.schema.clone(), row.table.clone()))
            .or_insert_with(|| Table::new(&row.schema, &row.table, location.clone()));
        let primary_key = live
            .primary_keys
            .iter()
            .any(|(s, t, c)| s == &row.schema && t == &row.table && c == &row.column);
        table.columns.push(Column {
            name: row.column.as_str().into(),
            ty: column_type(row),
            nullable: row.is_nullable == "YES",
            default: row
                .column_default
                .as_deref()
                .map(compact_str::CompactString::from),
            primary_key,
            references: None,
            location: location.clone(),
            inherited: false,
            domain: None,
            source: 0,
        });
    }
    for ((table_schema, _), _) in tables.iter() {
        schema.schemas.insert(table_schema.clone());
    }
    schema.tables = tables;
    for row in &live.enums {
        schema.schemas.insert(row.schema.clone());
        schema.enums.insert(
            (row.schema.clone(), row.name.clone()),
            EnumType {
                schema: row.schema.clone(),
                name: row.name.clone(),
                values: row.values.clone(),
                location: location.clone(),
                value_locations: vec![location.clone(); row.values.len()],
            },
        );
    }
    schema
}

/// The [`SqlType`] of an `information_schema.columns` row — the one the SQL reader gives the
/// type as a migration would spell it, so that DG005 judges a live column as it judges a
/// migrated one:
///
/// - built-in types by `udt_name` (`int4`, `varchar`, `timestamptz`, `_text` for `text[]`);
/// - `character varying(n)`, `character(n)`, `bit(n)`: `character_maximum_length`;
/// - `numeric(p, s)`: `numeric_precision`, `numeric_scale` (`numeric(p)` when the scale is 0);
///   an integer's or float's `numeric_precision` is not a modifier;
/// - `timestamp(p)`, `time(p)`, `interval(p)`: `datetime_precision`, except PostgreSQL's
///   default 6, which `timestamp` without a precision also reports;
/// - enums and other named types: `udt_schema.udt_name`; an extension's type (`citext`) its
///   bare name; a domain its `domain_schema.domain_name`;
/// - array elements carry no modifiers (`information_schema` does not give them).
pub fn column_type(row: &ColumnRow) -> SqlType {
    if let (Some(schema), Some(name)) = (&row.domain_schema, &row.domain_name) {
        return SqlType::from_sql_name(&format!("{schema}.{name}"), Vec::new(), true);
    }
    let array = row.data_type == "ARRAY";
    let udt = if array {
        row.udt_name.strip_prefix('_').unwrap_or(&row.udt_name)
    } else {
        row.udt_name.as_str()
    };
    let element = if row.udt_schema == "pg_catalog" {
        let bare = SqlType::from_sql_name(udt, Vec::new(), true);
        let modifiers = if array {
            Vec::new()
        } else {
            modifiers(row, &bare.name)
        };
        SqlType::from_sql_name(udt, modifiers, true)
    } else {
        let bare = SqlType::from_sql_name(udt, Vec::new(), true);
        if bare.is_extension_type() {
            bare
        } else {
            SqlType::from_sql_name(&format!("{}.{udt}", row.udt_schema), Vec::new(), true)
        }
    };
    if array { element.into_array() } else { element }
}

/// The modifiers of a built-in type, by canonical name.
fn modifiers(row: &ColumnRow, canonical: &str) -> Vec<u32> {
    let positive = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
    match canonical {
        "character varying" | "character" | "bit" | "bit varying" => {
            positive(row.character_maximum_length).into_iter().collect()
        }
        "numeric" => match (positive(row.numeric_precision), positive(row.numeric_scale)) {
            (Some(p), Some(0) | None) => vec![p],
            (Some(p), Some(s)) => vec![p, s],
            (None, _) => Vec::new(),
        },
        "timestamp without time zone"
        | "timestamp with time zone"
        | "time without time zone"
        | "time with time zone"
        | "interval" => match positive(row.datetime_precision) {
            Some(6) | None => Vec::new(),
            Some(p) => vec![p],
        },
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(data_type: &str, udt_schema: &str, udt_name: &str) -> ColumnRow {
        ColumnRow {
            schema: "core".into(),
            table: "t".into(),
            column: "c".into(),
            data_type: data_type.into(),
            udt_schema: udt_schema.into(),
            udt_name: udt_name.into(),
            is_nullable: "YES".into(),
            ..ColumnRow::default()
        }
    }

    /// The type the SQL reader gives a migration's spelling.
    fn migrated(sql: &str) -> SqlType {
        crate::rules::test_support::sql_type(sql)
    }

    #[test]
    fn information_schema_rows_become_the_types_the_sql_reader_gives() {
        let cases: Vec<(ColumnRow, &str)> = vec![
            (row("integer", "pg_catalog", "int4"), "serial"),
            (
                ColumnRow {
                    numeric_precision: Some(64),
                    numeric_scale: Some(0),
                    ..row("bigint", "pg_catalog", "int8")
                },
                "bigint",
            ),
            (
                ColumnRow {
                    character_maximum_length: Some(20),
                    ..row("character varying", "pg_catalog", "varchar")
                },
                "VARCHAR(20)",
            ),
            (row("character varying", "pg_catalog", "varchar"), "varchar"),
            (
                ColumnRow {
                    character_maximum_length: Some(3),
                    ..row("character", "pg_catalog", "bpchar")
                },
                "char(3)",
            ),
            (row("text", "pg_catalog", "text"), "TEXT"),
            (
                ColumnRow {
                    numeric_precision: Some(10),
                    numeric_scale: Some(2),
                    ..row("numeric", "pg_catalog", "numeric")
                },
                "decimal(10, 2)",
            ),
            (
                ColumnRow {
                    numeric_precision: Some(12),
                    numeric_scale: Some(0),
                    ..row("numeric", "pg_catalog", "numeric")
                },
                "numeric(12)",
            ),
            (row("numeric", "pg_catalog", "numeric"), "numeric"),
            (
                ColumnRow {
                    numeric_precision: Some(53),
                    ..row("double precision", "pg_catalog", "float8")
                },
                "float",
            ),
            (
                ColumnRow {
                    datetime_precision: Some(6),
                    ..row("timestamp with time zone", "pg_catalog", "timestamptz")
                },
                "TIMESTAMPTZ",
            ),
            (
                ColumnRow {
                    datetime_precision: Some(3),
                    ..row("timestamp without time zone", "pg_catalog", "timestamp")
                },
                "timestamp(3)",
            ),
            (row("boolean", "pg_catalog", "bool"), "BOOLEAN"),
            (row("uuid", "pg_catalog", "uuid"), "uuid"),
            (row("jsonb", "pg_catalog", "jsonb"), "JSONB"),
            (row("ARRAY", "pg_catalog", "_text"), "text[]"),
            (row("ARRAY", "pg_catalog", "_int4"), "integer[]"),
            (row("USER-DEFINED", "public", "citext"), "citext"),
        ];
        for (row, sql) in cases {
            assert_eq!(column_type(&row), migrated(sql), "{row:?} vs {sql}");
        }
        let status = column_type(&row("USER-DEFINED", "core", "booking_status"));
        assert_eq!(
            status,
            SqlType::from_sql_name("core.booking_status", vec![], false)
        );
        assert!(status.user_defined);
        let mixed = column_type(&row("USER-DEFINED", "core", "BookingStatus"));
        assert_eq!(mixed.name, "core.BookingStatus");
        let statuses = column_type(&row("ARRAY", "core", "_booking_status"));
        assert!(statuses.array && statuses.user_defined);
        assert_eq!(statuses.name, "core.booking_status");
        let domain = column_type(&ColumnRow {
            domain_schema: Some("core".into()),
            domain_name: Some("email".into()),
            ..row("text", "pg_catalog", "text")
        });
        assert_eq!(domain.name, "core.email");
        assert!(domain.user_defined);
    }

    #[test]
    fn the_schema_holds_tables_without_columns_primary_keys_and_enums_in_order() {
        let live = LiveDatabase {
            database: "shop".into(),
            user: "app".into(),
            schemas: vec!["core".into()],
            tables: vec![("core".into(), "empty".into()), ("core".into(), "t".into())],
            columns: vec![
                ColumnRow {
                    is_nullable: "NO".into(),
                    column_default: Some("nextval('core.t_id_seq'::regclass)".into()),
                    column: "id".into(),
                    ..row("integer", "pg_catalog", "int4")
                },
                row("text", "pg_catalog", "text"),
            ],
            primary_keys: vec![("core".into(), "t".into(), "id".into())],
            enums: vec![EnumRow {
                schema: "core".into(),
                name: "status".into(),
                values: vec!["b".into(), "a".into()],
            }],
        };
        let at = Location::new("postgresql://h:5432/shop", 0, 0);
        let schema = build_schema(&live, &at);
        assert!(
            schema
                .table("core", "empty")
                .is_some_and(|t| t.columns.is_empty())
        );
        let t = schema.table("core", "t").expect("core.t");
        assert_eq!(t.columns.len(), 2);
        assert!(t.columns[0].primary_key && !t.columns[0].nullable);
        assert!(t.columns[1].nullable && !t.columns[1].primary_key);
        assert_eq!(
            t.columns[1].location.to_string(),
            "postgresql://h:5432/shop"
        );
        let status = schema.enum_type("core", "status").expect("core.status");
        assert_eq!(status.values, vec!["b".to_string(), "a".to_string()]);
        assert!(schema.schemas.contains("core"));
    }

    #[test]
    fn without_a_url_the_run_says_how_to_pass_one() {
        let options = DbDiffOptions {
            path: PathBuf::from("."),
            database_url: None,
            schemas: Vec::new(),
            with_migrations: false,
            config: None,
            fail_on: None,
            allow_insecure_password: false,
        };
        let err = run(&options, &mut |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("--database-url"), "{err}");
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }
}
