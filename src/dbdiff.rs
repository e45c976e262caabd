//! `driftguard db-diff`: the handbook's "Production vs Model" step, read-only. The only module
//! that touches the `postgres` crate.
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
//!
//! Connections are plain TCP or a Unix socket, without TLS (`NoTls`): a URL that requires TLS
//! (`sslmode=require`, asyncpg's `ssl=require`) is refused with the advice to use an SSH
//! tunnel, rather than silently connecting in clear.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config, IsolationLevel, NoTls};

use crate::error::Error;
use crate::models::ModelTable;
use crate::postgres_type::SqlType;
use crate::project::read_project;
use crate::report::{Mode, Report};
use crate::rule::Severity;
use crate::rules::{self, Context, DatabaseContext, MigrationSource};
use crate::schema::{Column, EnumType, Schema, Table};
use crate::secret::Secret;
use crate::source::Location;

/// How long to wait for the server to accept a connection, unless the URL says
/// `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the whole connection (socket, startup, authentication) may take beyond the connect
/// timeout before db-diff gives up.
const WATCHDOG_GRACE: Duration = Duration::from_secs(2);

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
    let url = DatabaseUrl::parse(text).map_err(Error::Usage)?;
    // The project first: a bad config stops the run before any connection is made.
    let project = read_project(
        &options.path,
        options.config.as_deref(),
        options.fail_on,
        options.with_migrations,
    )?;
    let live = url.read(&options.schemas).map_err(Error::Database)?;
    say(&format!(
        "connected to database \"{}\" as \"{}\" on {} (read-only)",
        live.database,
        live.user,
        url.host_port()
    ))?;
    for note in &url.notes {
        say(&format!("note: {note}"))?;
    }
    let location = Location::new(url.location_path(&live.database), 0, 0);
    let database = MigrationSource {
        name: format!("database \"{}\"", live.database),
        default_schema: project.config.default_schema.clone(),
        schema: build_schema(&live, &location),
        models: None,
        live: true,
        parts: Vec::new(),
    };
    let in_scope =
        |schema: &str| options.schemas.is_empty() || options.schemas.iter().any(|s| s == schema);
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
        },
        database: &database,
        migrations: &migrations,
    };
    let findings = project.apply_config(rules::check_database(&ctx));
    let mut summary = project.summary.clone();
    summary.model_files = tables
        .iter()
        .map(|t| t.location.path.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    summary.tables = tables.len();
    summary.columns = tables.iter().map(|t| t.columns.len()).sum();
    summary.findings = findings.len();
    let sources = project.snippet_sources(&findings);
    Ok(Report {
        mode: Mode::All,
        findings,
        warnings: project.warnings,
        summary,
        fail_on: project.fail_on,
        nothing_to_check: false,
        sources,
    })
}

/// libpq parameters the driver understands; others in a URL are dropped with a note.
const KNOWN_PARAMETERS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslmode",
    "sslnegotiation",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// A parsed database URL: what to connect with, and how to name it without its password.
/// Its `Debug` shows neither (the driver's `Config` redacts its password itself).
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    config: Config,
    /// The password as written in the URL and as decoded: scrubbed from every message.
    secrets: Vec<Secret>,
    /// For stderr: URL parameters that were dropped.
    pub notes: Vec<String>,
}

impl DatabaseUrl {
    /// Parses `postgresql://`, `postgres://` and SQLAlchemy's `postgresql+DRIVER://` URLs (the
    /// driver is dropped), or a libpq `key=value` string. Driver-specific query parameters
    /// (asyncpg's `prepared_statement_cache_size`, psycopg's `client_encoding` …) are dropped
    /// with a note; a URL that requires TLS is refused. Errors never contain the password.
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        let mut secrets = Vec::new();
        let mut notes = Vec::new();
        let normalized = match text.split_once("://") {
            Some((scheme, rest)) => {
                let base = scheme
                    .split_once('+')
                    .map_or(scheme, |(base, _driver)| base)
                    .to_ascii_lowercase();
                if base != "postgresql" && base != "postgres" {
                    return Err(format!(
                        "`{scheme}://` is not a PostgreSQL URL: db-diff reads PostgreSQL, as `postgresql://USER@HOST:PORT/DB`"
                    ));
                }
                let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
                if let Some(at) = main.rfind('@')
                    && let Some((_, password)) = main[..at].split_once(':')
                    && !password.is_empty()
                {
                    secrets.push(Secret::new(password));
                }
                let mut kept = Vec::new();
                let mut dropped = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if key == "password" && !value.is_empty() {
                        secrets.push(Secret::new(value));
                    }
                    refuse_tls(key, value)?;
                    match key {
                        // libpq's `allow` tries without TLS first; without TLS it is `disable`.
                        "sslmode" if value == "allow" => kept.push("sslmode=disable".to_string()),
                        _ if KNOWN_PARAMETERS.contains(&key) => kept.push(pair.to_string()),
                        _ => dropped.push(format!("`{key}`")),
                    }
                }
                if !dropped.is_empty() {
                    notes.push(format!(
                        "ignored the URL parameter(s) {}: they belong to a Python driver, not to PostgreSQL",
                        dropped.join(", ")
                    ));
                }
                if kept.is_empty() {
                    format!("postgresql://{main}")
                } else {
                    format!("postgresql://{main}?{}", kept.join("&"))
                }
            }
            None if text.contains('=') => {
                for pair in text.split_whitespace() {
                    if let Some((key, value)) = pair.split_once('=') {
                        let value = value.trim_matches('\'');
                        if key == "password" && !value.is_empty() {
                            secrets.push(Secret::new(value));
                        }
                        refuse_tls(key, value)?;
                    }
                }
                text.to_string()
            }
            None => {
                return Err(
                    "the database URL is not a URL: write it as `postgresql://USER@HOST:PORT/DB`"
                        .to_string(),
                );
            }
        };
        let hide = |message: String| scrub(&message, &secrets);
        let mut config: Config = normalized.parse().map_err(|e: postgres::Error| {
            hide(format!(
                "the database URL cannot be read: {}",
                error_chain(&e)
            ))
        })?;
        if let Some(password) = config.get_password() {
            let decoded = String::from_utf8_lossy(password).into_owned();
            if !decoded.is_empty() && !secrets.iter().any(|s| s.expose() == decoded) {
                secrets.push(Secret::new(decoded));
            }
        }
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            config.host("localhost");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("driftguard db-diff");
        }
        // Longest first, so that a password that contains another secret is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        Ok(DatabaseUrl {
            config,
            secrets,
            notes,
        })
    }

    /// `HOST:PORT` of the first host, as connected to: `127.0.0.1:5432`, `[::1]:5432`,
    /// `/var/run/postgresql:5432`.
    pub fn host_port(&self) -> String {
        let named = match self.config.get_hosts().first() {
            Some(Host::Tcp(host)) if host.contains(':') => Some(format!("[{host}]")),
            Some(Host::Tcp(host)) => Some(host.clone()),
            #[cfg(unix)]
            Some(Host::Unix(path)) => Some(path.display().to_string()),
            None => None,
        };
        let host = match (named, self.config.get_hostaddrs().first()) {
            (Some(host), _) => host,
            (None, Some(addr)) if addr.is_ipv6() => format!("[{addr}]"),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => "localhost".to_string(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!("{host}:{port}")
    }

    /// The database name the URL asks for (the server's default, the user name, when none).
    fn dbname(&self) -> &str {
        self.config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("")
    }

    /// `postgresql://USER@HOST:PORT/DB`, never with the password: for messages.
    pub fn display(&self) -> String {
        let user = self
            .config
            .get_user()
            .map_or_else(String::new, |u| format!("{u}@"));
        format!(
            "postgresql://{user}{}/{}",
            encode_host(&self.host_port()),
            self.dbname()
        )
    }

    /// `postgresql://HOST:PORT/DB`: where what is read from the database is located.
    pub fn location_path(&self, database: &str) -> String {
        format!("postgresql://{}/{database}", encode_host(&self.host_port()))
    }

    /// The text with the password replaced by `***`, however it was written.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets)
    }

    /// Connects, reads the database in one read-only transaction, rolls it back. Errors are
    /// scrubbed and say what to do.
    pub fn read(&self, schemas: &[String]) -> Result<LiveDatabase, String> {
        let cannot_connect = |reason: String| {
            self.scrub(&format!(
                "cannot connect to {}: {reason}; check the URL, that the server is running and that it accepts connections from here (db-diff connects without TLS)",
                self.display(),
            ))
        };
        // The driver's timeout covers opening the socket, not a server that accepts and then
        // never answers the startup: a watchdog bounds the whole connection. On a timeout the
        // connecting thread is left behind; the process ends with the run.
        let limit = *self
            .config
            .get_connect_timeout()
            .unwrap_or(&CONNECT_TIMEOUT);
        let config = self.config.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(config.connect(NoTls));
        });
        let mut client = match receiver.recv_timeout(limit + WATCHDOG_GRACE) {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => return Err(cannot_connect(error_chain(&e))),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                return Err(cannot_connect(format!(
                    "no answer within {} s",
                    (limit + WATCHDOG_GRACE).as_secs()
                )));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(cannot_connect("the driver failed".to_string()));
            }
        };
        read_database(&mut client, schemas).map_err(|e| {
            self.scrub(&format!(
                "cannot read the schema of {}: {}",
                self.display(),
                error_chain(&e)
            ))
        })
    }
}

/// A URL parameter that requires TLS, which db-diff does not speak.
fn refuse_tls(key: &str, value: &str) -> Result<(), String> {
    let requires = match key {
        "sslmode" => matches!(value, "require" | "verify-ca" | "verify-full"),
        // asyncpg's spelling.
        "ssl" => matches!(
            value,
            "require" | "verify-ca" | "verify-full" | "true" | "True" | "1"
        ),
        _ => false,
    };
    if requires {
        return Err(format!(
            "the database URL requires TLS (`{key}={value}`), which db-diff does not use: it connects without TLS. Reach the server through an SSH tunnel (`ssh -N -L 6543:localhost:5432 HOST`) and pass `postgresql://USER@127.0.0.1:6543/DB`"
        ));
    }
    Ok(())
}

/// A Unix socket directory in the host part of a URL is percent-encoded.
fn encode_host(host_port: &str) -> String {
    host_port.replace('/', "%2F")
}

fn scrub(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !secret.expose().is_empty() {
            out = out.replace(secret.expose(), "***");
        }
    }
    out
}

/// An error and its causes, `: `-joined (the driver's `db error` alone says nothing).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text.replace('\n', " ")
}

/// What one read of the database returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveDatabase {
    /// `current_database()`.
    pub database: String,
    /// `current_user`.
    pub user: String,
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

/// Every enum type, whatever `--schemas` says: a compared table may use a type of another
/// schema.
const ENUMS_SQL: &str = "SELECT n.nspname::text, t.typname::text, e.enumlabel::text
     FROM pg_type t
     JOIN pg_namespace n ON n.oid = t.typnamespace
     LEFT JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE t.typtype = 'e' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     ORDER BY n.nspname, t.typname, e.enumsortorder";

/// The reads, in one read-only transaction that is rolled back.
fn read_database(client: &mut Client, schemas: &[String]) -> Result<LiveDatabase, postgres::Error> {
    client.batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    tx.batch_execute("SET LOCAL statement_timeout = '60s'")?;
    let schemas: Vec<String> = schemas.to_vec();
    let who = tx.query_one("SELECT current_database()::text, current_user::text", &[])?;
    let mut live = LiveDatabase {
        database: who.try_get(0)?,
        user: who.try_get(1)?,
        ..LiveDatabase::default()
    };
    for row in tx.query(&tables_sql(), &[&schemas])? {
        live.tables.push((row.try_get(0)?, row.try_get(1)?));
    }
    for row in tx.query(&columns_sql(), &[&schemas])? {
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
    for row in tx.query(&primary_keys_sql(), &[&schemas])? {
        live.primary_keys
            .push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
    }
    for row in tx.query(ENUMS_SQL, &[])? {
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
    tx.rollback()?;
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
            name: row.column.clone(),
            ty: column_type(row),
            nullable: row.is_nullable == "YES",
            default: row.column_default.clone(),
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

    fn url(text: &str) -> DatabaseUrl {
        match DatabaseUrl::parse(text) {
            Ok(url) => url,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn every_sqlalchemy_scheme_is_postgresql_without_the_driver() {
        for scheme in [
            "postgresql",
            "postgres",
            "postgresql+asyncpg",
            "postgresql+psycopg2",
            "postgresql+psycopg",
            "POSTGRESQL+ASYNCPG",
        ] {
            let parsed = url(&format!("{scheme}://app:s3cret@db.internal:6543/shop"));
            assert_eq!(parsed.display(), "postgresql://app@db.internal:6543/shop");
            assert_eq!(parsed.host_port(), "db.internal:6543");
            assert_eq!(
                parsed.location_path("shop"),
                "postgresql://db.internal:6543/shop"
            );
        }
        let err = DatabaseUrl::parse("mysql+pymysql://app:s3cret@h/db").unwrap_err();
        assert!(
            err.contains("`mysql+pymysql://` is not a PostgreSQL URL"),
            "{err}"
        );
        assert!(!err.contains("s3cret"));
        let err = DatabaseUrl::parse("app:s3cret at somewhere").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn defaults_host_port_and_ipv6() {
        let parsed = url("postgresql:///shop");
        assert_eq!(parsed.host_port(), "localhost:5432");
        assert_eq!(parsed.config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        let parsed = url("postgresql://app@[::1]:5433/shop?connect_timeout=3");
        assert_eq!(parsed.host_port(), "[::1]:5433");
        assert_eq!(
            parsed.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        if cfg!(unix) {
            let parsed = url("postgresql://app@%2Fvar%2Frun%2Fpostgresql/shop");
            assert_eq!(parsed.host_port(), "/var/run/postgresql:5432");
            assert_eq!(
                parsed.display(),
                "postgresql://app@%2Fvar%2Frun%2Fpostgresql:5432/shop"
            );
        }
    }

    #[test]
    fn driver_parameters_are_dropped_with_a_note_and_tls_is_refused() {
        let parsed = url(
            "postgresql+asyncpg://app:pw@h/shop?prepared_statement_cache_size=0&application_name=api&ssl=disable",
        );
        assert_eq!(
            parsed.notes,
            vec![
                "ignored the URL parameter(s) `prepared_statement_cache_size`, `ssl`: they belong to a Python driver, not to PostgreSQL"
                    .to_string()
            ]
        );
        assert_eq!(parsed.config.get_application_name(), Some("api"));
        for tls in ["ssl=require", "sslmode=require", "sslmode=verify-full"] {
            let err = DatabaseUrl::parse(&format!("postgresql://app:pw@h/shop?{tls}")).unwrap_err();
            assert!(err.contains("requires TLS"), "{err}");
            assert!(err.contains("SSH tunnel"), "{err}");
        }
        assert!(url("postgresql://h/shop?sslmode=allow").notes.is_empty());
    }

    #[test]
    fn the_password_is_scrubbed_as_written_and_as_decoded() {
        let parsed = url("postgresql+psycopg2://app:p%40ss%2Fw0rd@h:5432/shop");
        assert_eq!(parsed.display(), "postgresql://app@h:5432/shop");
        let driver = "FATAL: password authentication failed; sent p@ss/w0rd (p%40ss%2Fw0rd)";
        assert_eq!(
            parsed.scrub(driver),
            "FATAL: password authentication failed; sent *** (***)"
        );
        let parsed = url("host=h user=app password=hunter22 dbname=shop");
        assert_eq!(parsed.scrub("x hunter22 y"), "x *** y");
        assert_eq!(parsed.display(), "postgresql://app@h:5432/shop");
        let parsed = url("postgresql://app@h/shop?password=qu3ry");
        assert_eq!(parsed.scrub("qu3ry"), "***");
        let options = DbDiffOptions {
            path: PathBuf::from("."),
            database_url: Some(Secret::new("postgresql://app:qu3ry@h/shop")),
            schemas: Vec::new(),
            with_migrations: false,
            config: None,
            fail_on: None,
        };
        for debug in [format!("{parsed:?}"), format!("{options:?}")] {
            assert!(!debug.contains("qu3ry"), "{debug}");
        }
    }

    #[test]
    fn a_connection_error_names_the_database_without_the_password() {
        // Port 1 on the loopback: nothing listens there, the connection is refused at once.
        let parsed = url("postgresql+asyncpg://app:s3cret-pw@127.0.0.1:1/shop?connect_timeout=2");
        let err = parsed.read(&[]).unwrap_err();
        assert!(
            err.starts_with("cannot connect to postgresql://app@127.0.0.1:1/shop: "),
            "{err}"
        );
        assert!(!err.contains("s3cret-pw"), "{err}");
    }

    #[test]
    fn a_server_that_accepts_and_never_answers_is_given_up_on() {
        // The kernel accepts the connection into the listener's backlog; nobody answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let parsed = url(&format!(
            "postgresql://app:s3cret-pw@127.0.0.1:{port}/shop?connect_timeout=1"
        ));
        let started = std::time::Instant::now();
        let err = parsed.read(&[]).unwrap_err();
        assert!(err.contains("no answer within 3 s"), "{err}");
        assert!(!err.contains("s3cret-pw"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        drop(listener);
    }

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
        };
        let err = run(&options, &mut |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("--database-url"), "{err}");
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }
}
