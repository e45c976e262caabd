//! A [`Plan`] → an Alembic revision file, in the project's own style.
//!
//! The revision follows Alembic's own `script.py.mako` template (docstring with Revision ID /
//! Revises / Create Date, the four module-level identifiers, `upgrade()` and `downgrade()`),
//! written the way the project's newest revision is written: `import sqlalchemy as sa` and
//! `sa.Column` (or whatever alias it uses, or bare names imported `from sqlalchemy`), with
//! or without the `revision: str = …` annotations of newer templates.
//!
//! Enum types are `postgresql.ENUM(…, create_type=False)` objects declared once at module
//! level, created explicitly with `checkfirst=True` (Alembic's `add_column` never creates a
//! type) and dropped in `downgrade()`. New enum values go through `op.execute`, inside
//! `autocommit_block()` where PostgreSQL needs them outside a transaction (before 12, or when
//! a column default of this revision uses them).
//!
//! The file name follows `file_template` from `alembic.ini` ([`file_name`]) and the revision
//! id is a hash of the content, so the same plan always gives the same file.

use std::collections::BTreeSet;

use super::plan::{ColumnPlan, Plan};
use crate::postgres_type::{SqlType, TypeParts};

/// How the project writes its revisions, read from its newest one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// `sa.` for `import sqlalchemy as sa`; empty for `from sqlalchemy import Column, …`.
    pub prefix: String,
    /// The annotated identifiers of newer templates: `revision: str = …`.
    pub annotated: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            prefix: "sa.".to_string(),
            annotated: false,
        }
    }
}

impl Style {
    /// The style of a revision file's text; Alembic's default where it says nothing.
    pub fn of(text: &str) -> Style {
        let mut style = Style::default();
        let mut from_import = false;
        for line in text.split(['\n', '\r']) {
            let line = line.trim();
            if let Some(alias) = line.strip_prefix("import sqlalchemy as ") {
                style.prefix = format!("{}.", alias.trim());
                from_import = false;
                break;
            }
            if line == "import sqlalchemy" {
                style.prefix = "sqlalchemy.".to_string();
                break;
            }
            if line.starts_with("from sqlalchemy import ") {
                from_import = true;
            }
        }
        if from_import {
            style.prefix = String::new();
        }
        style.annotated = text.contains("revision: str");
        style
    }
}

/// What the revision's header says besides the plan.
pub struct Header<'a> {
    pub description: &'a str,
    /// Alembic's `Create Date`: `2025-01-02 03:04:05.000000`.
    pub created: &'a str,
    /// The current heads: `down_revision` (a tuple when there are several).
    pub heads: &'a [String],
    pub postgres_version: u32,
}

/// The placeholder for the revision id while the content is hashed.
const REV: &str = "\u{0}REV\u{0}";

/// The revision's id and text. The id is the first 12 hex digits of a hash of the text
/// without it.
pub fn render(plan: &Plan, header: &Header, style: &Style) -> (String, String) {
    let text = render_with_id(plan, header, style);
    let id = format!("{:012x}", fnv1a(text.as_bytes()) >> 16);
    (id.clone(), text.replace(REV, &id))
}

/// FNV-1a, 64 bits: a stable hash with no dependency (the id only has to be the same for the
/// same content and differ for another).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A Python string literal, as `repr` writes it: single quotes, unless the text holds a
/// single quote and no double quote.
pub fn py_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// The names a revision uses, for its imports.
#[derive(Default)]
struct Used {
    /// SQLAlchemy names used bare (`from sqlalchemy import …` style).
    sa: BTreeSet<String>,
    postgresql: bool,
}

struct Writer<'s> {
    style: &'s Style,
    used: Used,
}

impl Writer<'_> {
    fn sa(&mut self, name: &str) -> String {
        if self.style.prefix.is_empty() {
            self.used.sa.insert(name.to_string());
        }
        format!("{}{name}", self.style.prefix)
    }

    fn pg(&mut self, name: &str) -> String {
        self.used.postgresql = true;
        format!("postgresql.{name}")
    }

    /// The SQLAlchemy type of a column; an enum is its module-level variable.
    fn column_type(&mut self, column: &ColumnPlan) -> String {
        if let Some((_, name)) = &column.enum_type {
            let var = enum_var(name);
            return if column.ty.as_ref().is_some_and(|t| t.array) {
                format!("{}({var})", self.pg("ARRAY"))
            } else {
                var
            };
        }
        match &column.ty {
            Some(ty) => self.sql_type(ty, column.type_text.as_deref()),
            None => format!(
                "{}()  # adjust: the model's type is {}",
                self.sa("Text"),
                column.type_text.as_deref().unwrap_or("unknown")
            ),
        }
    }

    fn sql_type(&mut self, ty: &SqlType, type_text: Option<&str>) -> String {
        if ty.array {
            let element = SqlType::new(TypeParts {
                array: false,
                ..(**ty).clone()
            });
            let inner = self.sql_type(&element, type_text);
            return format!("{}({inner})", self.pg("ARRAY"));
        }
        let m = &ty.modifiers;
        match &*ty.name {
            "integer" => format!("{}()", self.sa("Integer")),
            "bigint" => format!("{}()", self.sa("BigInteger")),
            "smallint" => format!("{}()", self.sa("SmallInteger")),
            "character varying" => match m.first() {
                Some(n) => format!("{}(length={n})", self.sa("String")),
                None => format!("{}()", self.sa("String")),
            },
            "character" => match m.first() {
                Some(n) => format!("{}(length={n})", self.sa("CHAR")),
                None => format!("{}()", self.sa("CHAR")),
            },
            "text" => format!("{}()", self.sa("Text")),
            "boolean" => format!("{}()", self.sa("Boolean")),
            "numeric" => match (m.first(), m.get(1)) {
                (Some(p), Some(s)) => format!("{}(precision={p}, scale={s})", self.sa("Numeric")),
                (Some(p), None) => format!("{}(precision={p})", self.sa("Numeric")),
                _ => format!("{}()", self.sa("Numeric")),
            },
            "real" => format!("{}()", self.sa("REAL")),
            "double precision" => format!("{}()", self.pg("DOUBLE_PRECISION")),
            "date" => format!("{}()", self.sa("Date")),
            "time without time zone" => format!("{}()", self.sa("Time")),
            "time with time zone" => format!("{}(timezone=True)", self.sa("Time")),
            "timestamp without time zone" => format!("{}()", self.sa("DateTime")),
            "timestamp with time zone" => format!("{}(timezone=True)", self.sa("DateTime")),
            "interval" => format!("{}()", self.sa("Interval")),
            "uuid" => format!("{}(as_uuid=True)", self.pg("UUID")),
            "json" => format!("{}()", self.pg("JSON")),
            "jsonb" => format!("{}()", self.pg("JSONB")),
            "bytea" => format!("{}()", self.sa("LargeBinary")),
            "inet" => format!("{}()", self.pg("INET")),
            "cidr" => format!("{}()", self.pg("CIDR")),
            "macaddr" => format!("{}()", self.pg("MACADDR")),
            "money" => format!("{}()", self.pg("MONEY")),
            "tsvector" => format!("{}()", self.pg("TSVECTOR")),
            "citext" => format!("{}()", self.pg("CITEXT")),
            _ => format!(
                "{}()  # adjust: the model's type is {}",
                self.sa("Text"),
                type_text.unwrap_or(&ty.name)
            ),
        }
    }

    /// `sa.Column('name', type, sa.ForeignKey(…), primary_key=True, nullable=False, …)`.
    fn column(&mut self, c: &ColumnPlan, in_create_table: bool) -> String {
        let column = self.sa("Column");
        let mut args = vec![py_str(&c.name), self.column_type(c)];
        if let Some(r) = &c.references {
            let fk = self.sa("ForeignKey");
            args.push(format!(
                "{fk}({})",
                py_str(&format!("{}.{}.{}", r.schema, r.table, r.column))
            ));
        }
        if c.primary_key && in_create_table {
            args.push("primary_key=True".to_string());
        }
        if !c.serial && c.primary_key && in_create_table {
            args.push("autoincrement=False".to_string());
        }
        args.push(format!(
            "nullable={}",
            if c.nullable { "True" } else { "False" }
        ));
        if c.unique && !c.index && !c.primary_key {
            args.push("unique=True".to_string());
        }
        if let Some(default) = &c.default
            && !c.serial
        {
            let text = self.sa("text");
            args.push(format!("server_default={text}({})", py_str(default)));
        }
        if let Some(comment) = &c.comment {
            args.push(format!("comment={}", py_str(comment)));
        }
        format!("{column}({})", args.join(", "))
    }
}

/// The module-level variable of an enum type.
fn enum_var(name: &str) -> String {
    let mut var: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if var.starts_with(|c: char| c.is_ascii_digit()) {
        var.insert(0, '_');
    }
    format!("{var}_enum")
}

fn render_with_id(plan: &Plan, header: &Header, style: &Style) -> String {
    let mut w = Writer {
        style,
        used: Used::default(),
    };
    let mut upgrade: Vec<String> = Vec::new();
    // What `downgrade()` undoes, by kind; written in the reverse of the upgrade's order.
    let mut drop_tables: Vec<String> = Vec::new();
    let mut drop_columns: Vec<String> = Vec::new();
    let mut drop_keys: Vec<String> = Vec::new();
    let mut drop_indexes: Vec<String> = Vec::new();
    let mut drop_types: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // Enum types: every one a column of this revision uses, declared once.
    let mut enums: Vec<(String, String, Vec<String>)> = plan
        .enums
        .iter()
        .map(|e| (e.schema.clone(), e.name.clone(), e.values.clone()))
        .collect();
    for (_, _, c) in plan.new_columns() {
        if let Some((schema, name)) = &c.enum_type
            && !enums.iter().any(|(s, n, _)| s == schema && n == name)
        {
            enums.push((schema.clone(), name.clone(), Vec::new()));
        }
    }
    let mut declarations: Vec<String> = Vec::new();
    for (schema, name, values) in &enums {
        let mut args: Vec<String> = values.iter().map(|v| py_str(v)).collect();
        args.push(format!("name={}", py_str(name)));
        args.push(format!("schema={}", py_str(schema)));
        args.push("create_type=False".to_string());
        let enum_ctor = w.pg("ENUM");
        declarations.push(format!(
            "{} = {enum_ctor}({})",
            enum_var(name),
            args.join(", ")
        ));
    }

    for schema in &plan.schemas {
        upgrade.push(format!(
            "op.execute({})",
            py_str(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                super::sql::ident(schema)
            ))
        ));
    }
    for e in &plan.enums {
        upgrade.push(format!(
            "{}.create(op.get_bind(), checkfirst=True)",
            enum_var(&e.name)
        ));
    }
    let outside =
        |v: &super::plan::EnumValuePlan| header.postgres_version < 12 || v.used_by_default;
    let add_value = |v: &super::plan::EnumValuePlan| {
        let position = v
            .before
            .as_ref()
            .map(|b| format!(" BEFORE {}", super::sql::literal(b)))
            .unwrap_or_default();
        format!(
            "op.execute({})",
            py_str(&format!(
                "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{position}",
                super::sql::qualified(&v.schema, &v.name),
                super::sql::literal(&v.value)
            ))
        )
    };
    let committed: Vec<String> = plan
        .enum_values
        .iter()
        .filter(|v| outside(v))
        .map(add_value)
        .collect();
    if !committed.is_empty() {
        upgrade.push("# New enum values must be committed before they are used.".to_string());
        upgrade.push("with op.get_context().autocommit_block():".to_string());
        for line in committed {
            upgrade.push(format!("    {line}"));
        }
    }
    for v in plan.enum_values.iter().filter(|v| !outside(v)) {
        upgrade.push(add_value(v));
    }
    for table in &plan.tables {
        let mut lines = vec![format!(
            "op.create_table(\n        {},",
            py_str(&table.name)
        )];
        let pk_count = table.primary_key().len();
        for c in &table.columns {
            let mut c = c.clone();
            if pk_count > 1 {
                c.serial = false;
            }
            lines.push(format!("        {},", w.column(&c, true)));
        }
        lines.push(format!("        schema={},\n    )", py_str(&table.schema)));
        upgrade.push(lines.join("\n"));
        drop_tables.push(format!(
            "op.drop_table({}, schema={})",
            py_str(&table.name),
            py_str(&table.schema)
        ));
    }
    for add in &plan.columns {
        upgrade.push(format!(
            "op.add_column({}, {}, schema={})",
            py_str(&add.table),
            w.column(&add.column, false),
            py_str(&add.schema)
        ));
        drop_columns.push(format!(
            "op.drop_column({}, {}, schema={})",
            py_str(&add.table),
            py_str(&add.column.name),
            py_str(&add.schema)
        ));
    }
    for fk in &plan.foreign_keys {
        upgrade.push(format!(
            "op.create_foreign_key({}, {}, {}, [{}], [{}], source_schema={}, referent_schema={})",
            py_str(&fk.name),
            py_str(&fk.table),
            py_str(&fk.references.table),
            py_str(&fk.column),
            py_str(&fk.references.column),
            py_str(&fk.schema),
            py_str(&fk.references.schema)
        ));
        drop_keys.push(format!(
            "op.drop_constraint({}, {}, type_='foreignkey', schema={})",
            py_str(&fk.name),
            py_str(&fk.table),
            py_str(&fk.schema)
        ));
    }
    for (schema, table, c) in plan.new_columns() {
        if c.index {
            let name = super::sql::index_name(table, &c.name);
            upgrade.push(format!(
                "op.create_index({}, {}, [{}], unique={}, schema={})",
                py_str(&name),
                py_str(table),
                py_str(&c.name),
                if c.unique { "True" } else { "False" },
                py_str(schema)
            ));
            drop_indexes.push(format!(
                "op.drop_index({}, table_name={}, schema={})",
                py_str(&name),
                py_str(table),
                py_str(schema)
            ));
        }
    }
    for e in &plan.enums {
        drop_types.push(format!(
            "{}.drop(op.get_bind(), checkfirst=True)",
            enum_var(&e.name)
        ));
    }
    for schema in &plan.schemas {
        drop_types.push(format!(
            "op.execute({})",
            py_str(&format!(
                "DROP SCHEMA IF EXISTS {}",
                super::sql::ident(schema)
            ))
        ));
    }
    for v in &plan.enum_values {
        notes.push(format!(
            "# PostgreSQL cannot drop an enum value: {} stays in {}.{}.",
            super::sql::literal(&v.value),
            v.schema,
            v.name
        ));
    }
    let mut downgrade: Vec<String> = Vec::new();
    for group in [drop_indexes, drop_keys, drop_columns, drop_tables] {
        downgrade.extend(group.into_iter().rev());
    }
    downgrade.extend(drop_types);
    downgrade.extend(notes);

    let mut imports = vec!["from alembic import op".to_string()];
    if style.prefix.is_empty() {
        if !w.used.sa.is_empty() {
            let names: Vec<&str> = w.used.sa.iter().map(String::as_str).collect();
            imports.push(format!("from sqlalchemy import {}", names.join(", ")));
        }
    } else {
        let module = style.prefix.trim_end_matches('.');
        imports.push(if module == "sqlalchemy" {
            "import sqlalchemy".to_string()
        } else {
            format!("import sqlalchemy as {module}")
        });
    }
    if w.used.postgresql {
        imports.push("from sqlalchemy.dialects import postgresql".to_string());
    }

    let down = match header.heads {
        [] => "None".to_string(),
        [one] => py_str(one),
        many => format!(
            "({})",
            many.iter()
                .map(|h| py_str(h))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut out = String::new();
    out.push_str(&format!("\"\"\"{}\n\n", header.description));
    out.push_str(&format!("Revision ID: {REV}\n"));
    out.push_str(&format!("Revises: {}\n", header.heads.join(", ")));
    out.push_str(&format!("Create Date: {}\n\n", header.created));
    out.push_str(
        "Written by `driftguard fix`: creates what the SQLAlchemy models map and no revision\ncreates.\n",
    );
    if header.heads.len() > 1 {
        out.push_str(&format!(
            "It is written on every head, so it also merges them ({}): `alembic upgrade head`\nneeds one head.\n",
            header.heads.join(", ")
        ));
    }
    for note in &plan.notes {
        out.push_str(&format!(
            "\nWARNING: {}\n",
            note.message.replace("\"\"\"", "'''")
        ));
    }
    out.push_str("\"\"\"\n");
    if style.annotated {
        out.push_str("from typing import Sequence, Union\n\n");
    }
    out.push_str(&imports.join("\n"));
    out.push_str("\n\n");
    out.push_str("# revision identifiers, used by Alembic.\n");
    if style.annotated {
        out.push_str(&format!("revision: str = '{REV}'\n"));
        out.push_str(&format!(
            "down_revision: Union[str, Sequence[str], None] = {down}\n"
        ));
        out.push_str("branch_labels: Union[str, Sequence[str], None] = None\n");
        out.push_str("depends_on: Union[str, Sequence[str], None] = None\n");
    } else {
        out.push_str(&format!("revision = '{REV}'\n"));
        out.push_str(&format!("down_revision = {down}\n"));
        out.push_str("branch_labels = None\ndepends_on = None\n");
    }
    if !declarations.is_empty() {
        out.push('\n');
        for d in &declarations {
            out.push_str(d);
            out.push('\n');
        }
    }
    let returns = if style.annotated { " -> None" } else { "" };
    out.push_str(&format!("\n\ndef upgrade(){returns}:\n"));
    push_body(&mut out, &upgrade);
    out.push_str(&format!("\n\ndef downgrade(){returns}:\n"));
    push_body(&mut out, &downgrade);
    out
}

fn push_body(out: &mut String, lines: &[String]) {
    if lines.iter().all(|l| l.starts_with('#')) {
        for line in lines {
            out.push_str(&format!("    {line}\n"));
        }
        out.push_str("    pass\n");
        return;
    }
    for line in lines {
        out.push_str(&format!("    {line}\n"));
    }
}

/// Alembic's slug of a message: its words joined by `_`, lower-case, cut at
/// `truncate_slug_length` (default 40) on a word boundary.
pub fn slug(message: &str, truncate: usize) -> String {
    let words: Vec<String> = message
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let slug = words.join("_");
    if slug.chars().count() > truncate {
        let cut: String = slug.chars().take(truncate).collect();
        match cut.rsplit_once('_') {
            Some((head, _)) => format!("{head}_"),
            None => cut,
        }
    } else {
        slug
    }
}

/// The settings of `alembic.ini` that name a revision file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTemplate {
    /// `file_template`, with `%%` already read as `%`; default `%(rev)s_%(slug)s`.
    pub template: String,
    pub truncate_slug_length: usize,
}

impl Default for FileTemplate {
    fn default() -> Self {
        FileTemplate {
            template: "%(rev)s_%(slug)s".to_string(),
            truncate_slug_length: 40,
        }
    }
}

impl FileTemplate {
    /// Reads `file_template` and `truncate_slug_length` from the `[alembic]` section of an
    /// `alembic.ini` text.
    pub fn from_ini(text: &str) -> FileTemplate {
        let mut template = FileTemplate::default();
        let mut in_alembic = false;
        for line in text.split(['\n', '\r']) {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_alembic = trimmed == "[alembic]";
                continue;
            }
            if !in_alembic || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                continue;
            };
            match key.trim() {
                "file_template" => template.template = value.trim().replace("%%", "%"),
                "truncate_slug_length" => {
                    if let Ok(n) = value.trim().parse() {
                        template.truncate_slug_length = n;
                    }
                }
                _ => {}
            }
        }
        template
    }

    /// `script_location` of the `[alembic]` section, as written.
    pub fn script_location(text: &str) -> Option<String> {
        let mut in_alembic = false;
        for line in text.split(['\n', '\r']) {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                in_alembic = trimmed == "[alembic]";
                continue;
            }
            if in_alembic
                && let Some((key, value)) = trimmed.split_once('=')
                && key.trim() == "script_location"
            {
                return Some(value.trim().to_string());
            }
        }
        None
    }

    /// The file name (without `.py`) for a revision: Python's `%` formatting of the template
    /// with `rev`, `slug`, `epoch`, `year`, `month`, `day`, `hour`, `minute`, `second`.
    pub fn file_stem(&self, rev: &str, message: &str, time: &super::Timestamp) -> String {
        let slug = slug(message, self.truncate_slug_length);
        let mut out = String::new();
        let mut rest = self.template.as_str();
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at + 1..];
            if let Some(after) = rest.strip_prefix('%') {
                out.push('%');
                rest = after;
                continue;
            }
            let Some(inner) = rest.strip_prefix('(') else {
                out.push('%');
                continue;
            };
            let Some(close) = inner.find(')') else {
                out.push('%');
                continue;
            };
            let key = &inner[..close];
            let spec_and_rest = &inner[close + 1..];
            let spec_len = spec_and_rest
                .find(|c: char| c.is_ascii_alphabetic())
                .map_or(spec_and_rest.len(), |i| i + 1);
            let spec = &spec_and_rest[..spec_len];
            rest = &spec_and_rest[spec_len..];
            let number = match key {
                "year" => Some(time.year),
                "month" => Some(time.month),
                "day" => Some(time.day),
                "hour" => Some(time.hour),
                "minute" => Some(time.minute),
                "second" => Some(time.second),
                "epoch" => Some(time.epoch),
                _ => None,
            };
            match (key, number) {
                ("rev", _) => out.push_str(rev),
                ("slug", _) => out.push_str(&slug),
                (_, Some(n)) => {
                    // `d`, `.2d`, `02d`: a minimum width, zero-padded.
                    let digits: String = spec.chars().filter(char::is_ascii_digit).collect();
                    let width: usize = digits.trim_start_matches('0').parse().unwrap_or(0);
                    let width = if digits.is_empty() { 0 } else { width.max(1) };
                    out.push_str(&format!("{n:0width$}"));
                }
                _ => {}
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_style_is_read_from_its_newest_revision() {
        assert_eq!(
            Style::of("from alembic import op\nimport sqlalchemy as sa\n"),
            Style::default()
        );
        let bare = Style::of("from alembic import op\nfrom sqlalchemy import Column, String\n");
        assert_eq!(bare.prefix, "");
        let plain = Style::of("import sqlalchemy\nrevision: str = 'x'\n");
        assert_eq!(plain.prefix, "sqlalchemy.");
        assert!(plain.annotated);
    }

    #[test]
    fn enum_values_need_an_autocommit_block_before_postgresql_12() {
        let plan = Plan {
            enum_values: vec![super::super::plan::EnumValuePlan {
                schema: "core".into(),
                name: "status".into(),
                value: "held".into(),
                before: Some("done".into()),
                used_by_default: false,
            }],
            ..Plan::default()
        };
        let render_for = |postgres_version| {
            render(
                &plan,
                &Header {
                    description: "add status values",
                    created: "2025-01-02 03:04:05.000000",
                    heads: &["0001".to_string()],
                    postgres_version,
                },
                &Style::default(),
            )
            .1
        };
        let old = render_for(11);
        assert!(
            old.contains("    with op.get_context().autocommit_block():\n        op.execute(\"ALTER TYPE core.status ADD VALUE IF NOT EXISTS 'held' BEFORE 'done'\")\n"),
            "{old}"
        );
        let new = render_for(13);
        assert!(!new.contains("autocommit_block"), "{new}");
        assert!(new.contains("    op.execute(\"ALTER TYPE core.status ADD VALUE IF NOT EXISTS 'held' BEFORE 'done'\")\n"), "{new}");
        assert!(
            new.contains("# PostgreSQL cannot drop an enum value: 'held' stays in core.status.")
        );
    }

    #[test]
    fn slugs_and_file_templates_follow_alembic() {
        assert_eq!(
            slug("add customers contact_preference", 40),
            "add_customers_contact_preference"
        );
        assert_eq!(
            slug("add a very long description of many many words here", 20),
            "add_a_very_long_"
        );
        let time = super::super::Timestamp::from_epoch(1_735_787_045);
        let default = FileTemplate::default();
        assert_eq!(default.file_stem("ab12", "add x", &time), "ab12_add_x");
        let ini = "[alembic]\nscript_location = %(here)s/alembic\nfile_template = %%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s\ntruncate_slug_length = 10\n[other]\nfile_template = x\n";
        let template = FileTemplate::from_ini(ini);
        assert_eq!(
            template.file_stem("ab12", "add customers things", &time),
            "2025_01_02_0304-ab12_add_"
        );
        assert_eq!(
            FileTemplate::script_location(ini).as_deref(),
            Some("%(here)s/alembic")
        );
        assert_eq!(py_str("it's \\ fine"), "\"it's \\\\ fine\"");
        assert_eq!(py_str("say \"it's\""), "'say \"it\\'s\"'");
        assert_eq!(py_str("plain"), "'plain'");
    }
}
