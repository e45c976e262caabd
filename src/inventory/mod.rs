//! `driftguard schema`: the schema inventory the migrations build, printed without a database.
//!
//! It reuses the check pipeline's discovery, readers and replay
//! ([`crate::project::migration_sources`]) and never reads models. The result is an
//! [`Inventory`] — plain data shaped like PostgreSQL's own catalogue: base tables with their
//! columns in ordinal order, `data_type` spelled as `information_schema.columns` spells it,
//! `is_nullable` as `YES`/`NO`, and enum types with their values in sort order. The PostgreSQL
//! oracle (`tests/oracle/`) compares exactly this JSON with what a real server builds from the
//! same files.
//!
//! Several sources (the SQL files, each Alembic environment) print as the **one database**
//! they build together, the way `check` compares the models with it
//! ([`crate::migrations::sources`]): a table that migrations only alter is listed as made
//! outside the migrations, with the columns they give it. With `sources:` declared in the
//! config (each source its own database) they print as their union: a table built by several
//! sources gets the first source's columns, then the columns only later sources add.
//! `--source NAME` prints one source alone. Every table and column says where it was created.
//!
//! The two renderings (`json`, `table`) live here rather than in `render/`, which renders
//! check findings: they are small and only this command uses them. `markdown` (the handbook's
//! Schema Inventory, with the model classes) is in [`markdown`]. Nothing here prints; `run`
//! in `lib.rs` writes the text.

pub mod markdown;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::error::Error;
use crate::finding::Warning;
use crate::migrations::sources::Assembly;
use crate::postgres_type::SqlType;
use crate::project::migration_sources;
use crate::rules::MigrationSource;
use crate::schema::{Column, Origin, Schema, Table};
use crate::source::Location;

/// Output formats of `schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFormat {
    /// Per schema, its tables and their column counts; then the enums.
    Table,
    /// `{"version": 1, "sources", "tables", "columns", "enums"}`, like `information_schema`.
    Json,
    /// The handbook's "Schema Inventory" section: per schema, each table's column count, key
    /// columns and the model class that maps it (reads the models too).
    Markdown,
}

/// What to print.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    pub path: std::path::PathBuf,
    pub config: Option<std::path::PathBuf>,
    /// Print this source alone (its name, or the short key `sql`, `alembic` or the path in
    /// its name's parentheses).
    pub source: Option<String>,
}

/// A migration source that contributed to the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub name: String,
    /// Paths relative to the root, in the order they run.
    pub files: Vec<String>,
}

/// One table: where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRow {
    pub table_schema: String,
    pub table_name: String,
    /// `migrations` (a migration creates it) or `outside` (migrations only alter it).
    pub origin: Origin,
    /// The statement that created it; for an outside table, the first that altered it.
    pub location: Location,
}

/// One column, as `information_schema.columns` shows it, and where it was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnRow {
    pub table_schema: String,
    pub table_name: String,
    pub column_name: String,
    pub data_type: String,
    pub is_nullable: &'static str,
    pub column_default: Option<String>,
    /// The statement that created the column (or last renamed or retyped it).
    pub location: Location,
}

/// One enum type and its values in sort order, as `pg_enum` holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumRow {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
}

/// The schema the migrations build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub version: u32,
    pub sources: Vec<SourceInfo>,
    /// Sorted by schema and name.
    pub tables: Vec<TableRow>,
    /// Tables sorted by schema and name, each table's columns in ordinal order.
    pub columns: Vec<ColumnRow>,
    /// Sorted by schema and name.
    pub enums: Vec<EnumRow>,
}

/// Reads and replays the migrations; the inventory and the warnings met on the way.
pub fn inventory(options: &SchemaOptions) -> Result<(Inventory, Vec<Warning>), Error> {
    let config = options.config.as_deref();
    match &options.source {
        None => {
            let (built, warnings) = migration_sources(&options.path, config, None)?;
            Ok((from_sources(&built), warnings))
        }
        Some(wanted) => {
            let (built, warnings) =
                migration_sources(&options.path, config, Some(Assembly::Separate))?;
            Ok((from_sources(&[pick_source(built, wanted)?]), warnings))
        }
    }
}

/// The short key a source answers to in `--source`: the text in its name's parentheses
/// (`Alembic (apps/backend/alembic)` → `apps/backend/alembic`), else `sql` or `alembic`.
pub fn source_key(name: &str) -> String {
    if let Some(open) = name.find('(')
        && let Some(inner) = name.get(open + 1..)
        && let Some(inner) = inner.strip_suffix(')')
    {
        return inner.to_string();
    }
    if name.starts_with("SQL") {
        "sql".to_string()
    } else {
        name.to_ascii_lowercase()
    }
}

pub fn pick_source(built: Vec<MigrationSource>, wanted: &str) -> Result<MigrationSource, Error> {
    let names: Vec<String> = built
        .iter()
        .map(|b| format!("`{}`", source_key(&b.name)))
        .collect();
    built
        .into_iter()
        .find(|b| b.name == wanted || source_key(&b.name) == wanted)
        .ok_or_else(|| {
            Error::Usage(if names.is_empty() {
                format!("no migration source `{wanted}`: this project has no migrations")
            } else {
                format!(
                    "no migration source `{wanted}`; pass one of {}",
                    names.join(", ")
                )
            })
        })
}

/// The union of the sources' schemas (see the module doc).
pub fn from_sources(sources: &[MigrationSource]) -> Inventory {
    let mut tables: BTreeMap<(String, String), (Table, Vec<Column>)> = BTreeMap::new();
    let mut enums: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for built in sources {
        merge(&built.schema, &mut tables, &mut enums);
    }
    let table_rows = tables
        .values()
        .map(|(t, _)| TableRow {
            table_schema: t.schema.clone(),
            table_name: t.name.clone(),
            origin: t.origin,
            location: t.location.clone(),
        })
        .collect();
    let columns = tables
        .into_iter()
        .flat_map(|((schema, table), (_, columns))| {
            columns.into_iter().map(move |c| ColumnRow {
                table_schema: schema.clone(),
                table_name: table.clone(),
                data_type: c.ty.information_schema_data_type(),
                is_nullable: if c.nullable { "YES" } else { "NO" },
                column_default: c.default.as_deref().and_then(|d| pg_default(d, &c.ty)),
                column_name: c.name.to_string(),
                location: c.location,
            })
        })
        .collect();
    let enums = enums
        .into_iter()
        .map(|((schema, name), values)| EnumRow {
            schema,
            name,
            values,
        })
        .collect();
    Inventory {
        version: 1,
        sources: sources
            .iter()
            .flat_map(|b| &b.parts)
            .map(|part| SourceInfo {
                name: part.name.clone(),
                files: part.files.clone(),
            })
            .collect(),
        tables: table_rows,
        columns,
        enums,
    }
}

fn merge(
    schema: &Schema,
    tables: &mut BTreeMap<(String, String), (Table, Vec<Column>)>,
    enums: &mut BTreeMap<(String, String), Vec<String>>,
) {
    for (key, table) in &schema.tables {
        let (known, columns) = tables
            .entry(key.clone())
            .or_insert_with(|| (table.clone(), Vec::new()));
        // A table some source creates beats one that another only alters.
        if known.origin == Origin::Outside && table.origin == Origin::Migrations {
            *known = table.clone();
        }
        for column in &table.columns {
            if !columns.iter().any(|c| c.name == column.name) {
                columns.push(column.clone());
            }
        }
    }
    for (key, enum_type) in &schema.enums {
        let values = enums.entry(key.clone()).or_default();
        for value in &enum_type.values {
            if !values.contains(value) {
                values.push(value.clone());
            }
        }
    }
}

/// A default expression as PostgreSQL prints it in `column_default`, where that is easy to
/// tell: a bare string literal gains the column type's cast (`'pending'::character varying`),
/// a negative number is quoted and cast (`'-1'::integer`), `NOW()` is lower-cased, `TRUE` is
/// `true`, a trailing cast is spelled canonically (`::varchar[]` → `::character varying[]`),
/// `DEFAULT NULL` is no default. Anything else is printed as written.
pub fn pg_default(default: &str, ty: &SqlType) -> Option<String> {
    let mut text = default.trim().to_string();
    if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')'))
        && is_number(inner.trim())
    {
        text = inner.trim().to_string();
    }
    if let Some(inner) = dollar_quoted(&text) {
        text = format!("'{}'", inner.replace('\'', "''"));
    }
    if is_string_literal(&text) {
        return Some(match cast_name(ty) {
            Some(cast) => format!("{text}::{cast}"),
            None => text,
        });
    }
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "null" => return None,
        "true" | "false" => return Some(lower),
        "current_timestamp" | "current_date" | "current_time" | "localtimestamp" | "localtime" => {
            return Some(text.to_ascii_uppercase());
        }
        _ => {}
    }
    if text.strip_prefix('-').is_some_and(is_number) && !ty.array && !ty.user_defined {
        return Some(format!("'{text}'::{}", ty.name));
    }
    let bare_call = lower.strip_suffix("()").is_some_and(|name| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    });
    if bare_call {
        return Some(lower);
    }
    if let Some(rest) = text.strip_prefix("nextval('public.") {
        return Some(format!("nextval('{rest}"));
    }
    Some(canonical_trailing_cast(&text))
}

/// `123`, `4.5`, `.5`.
fn is_number(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The content of `$$…$$` / `$tag$…$tag$` on one line.
fn dollar_quoted(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('$')?;
    let tag_end = rest.find('$')?;
    let tag = rest.get(..tag_end)?;
    if !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let delimiter = format!("${tag}$");
    let inner = text.strip_prefix(&delimiter)?.strip_suffix(&delimiter)?;
    (!inner.contains(&delimiter) && !inner.contains('\n')).then_some(inner)
}

/// `ARRAY[]::TEXT[]` → `ARRAY[]::text[]`, `…::varchar` → `…::character varying`: a trailing
/// cast to a built-in type, spelled as PostgreSQL prints it.
fn canonical_trailing_cast(text: &str) -> String {
    let Some((expr, cast)) = text.rsplit_once("::") else {
        return text.to_string();
    };
    let (base, array) = match cast.trim().strip_suffix("[]") {
        Some(base) => (base.trim(), true),
        None => (cast.trim(), false),
    };
    let base = base.split('(').next().unwrap_or(base).trim();
    if base.is_empty()
        || !base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'_')
    {
        return text.to_string();
    }
    let ty = SqlType::from_sql_name(
        &base.split_whitespace().collect::<Vec<_>>().join(" "),
        Vec::new(),
        false,
    );
    if ty.user_defined {
        return text.to_string();
    }
    let name = if ty.name == "character" {
        "bpchar"
    } else {
        &ty.name
    };
    format!("{expr}::{name}{}", if array { "[]" } else { "" })
}

/// `'…'` with `''` as the only quotes inside.
fn is_string_literal(text: &str) -> bool {
    let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) else {
        return false;
    };
    inner.replace("''", "").find('\'').is_none()
}

/// The cast PostgreSQL prints after a string constant of this type; `None` where it prints the
/// constant bare (numbers, booleans) or the spelling is not simple to tell.
fn cast_name(ty: &SqlType) -> Option<String> {
    let base = if ty.user_defined {
        match ty.name.split_once('.') {
            Some(("public", name)) => name.to_string(),
            _ => ty.name.to_string(),
        }
    } else {
        match &*ty.name {
            "integer" | "bigint" | "smallint" | "numeric" | "real" | "double precision"
            | "boolean" => return None,
            "character" => "bpchar".to_string(),
            other => other.to_string(),
        }
    };
    Some(if ty.array { format!("{base}[]") } else { base })
}

/// `--format json`.
pub fn render_json(inventory: &Inventory) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(inventory)
        .map_err(|e| Error::Usage(format!("cannot write the schema as JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// `--format table`: a readable inventory, one section per schema, then the enums.
pub fn render_table(inventory: &Inventory) -> String {
    let mut out = String::new();
    if inventory.sources.is_empty() {
        out.push_str("No migrations found: no schema to print.\n");
        return out;
    }
    for source in &inventory.sources {
        let files = source.files.len();
        out.push_str(&format!(
            "{}: {files} {}\n",
            source.name,
            if files == 1 { "file" } else { "files" }
        ));
    }
    // schema → [(table, column count)], in order.
    let mut schemas: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
    for row in &inventory.columns {
        let tables = schemas.entry(&row.table_schema).or_default();
        match tables.last_mut() {
            Some((name, count)) if *name == row.table_name => *count += 1,
            _ => tables.push((&row.table_name, 1)),
        }
    }
    if schemas.is_empty() {
        out.push_str("\nNo tables.\n");
    }
    // Looked up once per table: a scan per table is quadratic with 20,000 tables.
    let outside_tables: BTreeSet<(&str, &str)> = inventory
        .tables
        .iter()
        .filter(|t| t.origin == Origin::Outside)
        .map(|t| (t.table_schema.as_str(), t.table_name.as_str()))
        .collect();
    for (schema, tables) in &schemas {
        let columns: usize = tables.iter().map(|(_, n)| n).sum();
        out.push_str(&format!(
            "\n## {schema} ({} {}, {columns} {})\n\n",
            tables.len(),
            plural(tables.len(), "table", "tables"),
            plural(columns, "column", "columns"),
        ));
        let outside = |name: &str| outside_tables.contains(&(*schema, name));
        let rows: Vec<[String; 2]> = tables
            .iter()
            .map(|(name, n)| {
                [
                    if outside(name) {
                        format!("`{name}` (made outside the migrations)")
                    } else {
                        format!("`{name}`")
                    },
                    format!("{n} {}", plural(*n, "column", "columns")),
                ]
            })
            .collect();
        out.push_str(&markdown_table(["Table", "Columns"], &rows));
    }
    let outside: Vec<&TableRow> = inventory
        .tables
        .iter()
        .filter(|t| t.origin == Origin::Outside)
        .collect();
    if !outside.is_empty() {
        out.push_str(&format!(
            "\n## Made outside the migrations ({} {})\n\nTables the migrations alter but never create (another tool, `create_all()`, the platform), and the columns the migrations give them:\n\n",
            outside.len(),
            plural(outside.len(), "table", "tables"),
        ));
        let mut columns_of: BTreeMap<(&str, &str), Vec<&ColumnRow>> = BTreeMap::new();
        for column in &inventory.columns {
            let key = (column.table_schema.as_str(), column.table_name.as_str());
            if outside_tables.contains(&key) {
                columns_of.entry(key).or_default().push(column);
            }
        }
        let mut rows: Vec<[String; 3]> = Vec::new();
        for table in outside {
            let name = format!("`{}.{}`", table.table_schema, table.table_name);
            let columns = columns_of
                .get(&(table.table_schema.as_str(), table.table_name.as_str()))
                .map_or(&[][..], Vec::as_slice);
            if columns.is_empty() {
                rows.push([name.clone(), "—".to_string(), at(&table.location)]);
            }
            for column in columns {
                rows.push([
                    name.clone(),
                    format!("`{}`", column.column_name),
                    at(&column.location),
                ]);
            }
        }
        out.push_str(&markdown_table(["Table", "Column", "Created at"], &rows));
    }
    if inventory.enums.is_empty() {
        out.push_str("\nNo enum types.\n");
    } else {
        out.push_str(&format!("\n## Enum types ({})\n\n", inventory.enums.len()));
        let rows: Vec<[String; 2]> = inventory
            .enums
            .iter()
            .map(|e| [format!("`{}.{}`", e.schema, e.name), e.values.join(", ")])
            .collect();
        out.push_str(&markdown_table(["Enum", "Values"], &rows));
    }
    out
}

/// `path:line`.
fn at(location: &Location) -> String {
    format!("{}:{}", location.path, location.line)
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// A Markdown table with padded columns.
fn markdown_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let mut text = String::from("|");
        for (cell, width) in cells.iter().zip(widths) {
            let pad = width.saturating_sub(cell.chars().count());
            text.push_str(&format!(" {cell}{} |", " ".repeat(pad)));
        }
        text.push('\n');
        text
    };
    let mut out = line(header);
    out.push('|');
    for width in widths {
        out.push_str(&format!(" {} |", "-".repeat(width)));
    }
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.each_ref().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_spelled_like_postgresql() {
        let varchar = SqlType::from_sql_name("varchar", vec![20], false);
        let text = SqlType::builtin("text");
        let int = SqlType::builtin("integer");
        let cases: &[(&str, &SqlType, Option<&str>)] = &[
            ("'pending'", &varchar, Some("'pending'::character varying")),
            ("NOW()", &SqlType::builtin("timestamptz"), Some("now()")),
            ("TRUE", &SqlType::builtin("boolean"), Some("true")),
            ("'5'", &int, Some("'5'")),
            (
                "'{}'::jsonb",
                &SqlType::builtin("jsonb"),
                Some("'{}'::jsonb"),
            ),
            ("-1", &int, Some("'-1'::integer")),
            ("(1.0)", &SqlType::builtin("numeric"), Some("1.0")),
            ("$$web$$", &text, Some("'web'::text")),
            ("$t$it's$t$", &text, Some("'it''s'::text")),
            ("NULL", &text, None),
            ("ARRAY[]::TEXT[]", &text, Some("ARRAY[]::text[]")),
            (
                "ARRAY[]::varchar[]",
                &text,
                Some("ARRAY[]::character varying[]"),
            ),
            (
                "nextval('public.notes_id_seq'::regclass)",
                &int,
                Some("nextval('notes_id_seq'::regclass)"),
            ),
            ("current_timestamp", &text, Some("CURRENT_TIMESTAMP")),
            ("lower('X')", &text, Some("lower('X')")),
        ];
        for (written, ty, printed) in cases {
            assert_eq!(pg_default(written, ty).as_deref(), *printed, "{written}");
        }
        let status = SqlType::from_sql_name("core.status", vec![], false);
        assert_eq!(
            pg_default("'new'", &status).as_deref(),
            Some("'new'::core.status")
        );
        assert_eq!(
            pg_default("'{}'", &SqlType::builtin("text").into_array()).as_deref(),
            Some("'{}'::text[]")
        );
    }

    #[test]
    fn source_keys_are_short() {
        assert_eq!(source_key("SQL migrations"), "sql");
        assert_eq!(source_key("SQL migrations (db/sql)"), "db/sql");
        assert_eq!(source_key("Alembic"), "alembic");
        assert_eq!(
            source_key("Alembic (apps/backend/alembic)"),
            "apps/backend/alembic"
        );
    }
}
