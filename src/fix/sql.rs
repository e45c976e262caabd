//! A [`Plan`] → a SQL migration in the handbook's required structure.
//!
//! Header block (Migration / Created / Purpose), `BEGIN;`, the changes, `COMMIT;`, then the
//! rollback script as a comment block. Every change can run twice: schemas, tables and
//! indexes with `IF NOT EXISTS`, columns, enum types and foreign keys inside `DO` blocks
//! guarded by the catalogue (`information_schema.columns`, `pg_type`,
//! `information_schema.table_constraints`), enum values with `ADD VALUE IF NOT EXISTS`.
//!
//! `ALTER TYPE … ADD VALUE` cannot run inside a transaction block before PostgreSQL 12, and
//! a value added in a transaction cannot be used in it (a column default): in those cases
//! it goes before `BEGIN;`, where PostgreSQL commits it on its own.

use super::plan::{ColumnPlan, Plan, Reference};

/// What the header says besides the plan.
pub struct Header<'a> {
    pub description: &'a str,
    /// `2025-01-02 03:04:05 UTC`.
    pub created: &'a str,
    /// `postgres_version` from the config.
    pub postgres_version: u32,
}

const RULE: &str = "-- =====================================================";

/// Words PostgreSQL reserves: a column of that name must be quoted.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// An identifier as SQL needs it: bare when it is lower-case and not reserved, else quoted.
pub fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !RESERVED.contains(&name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part as SQL needs it.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// SQLAlchemy's name for the index of `index=True`: `ix_<table>_<column>`.
pub fn index_name(table: &str, column: &str) -> String {
    format!("ix_{table}_{column}")
}

/// The migration's text.
pub fn render(plan: &Plan, header: &Header) -> String {
    let mut out = String::new();
    write_header(&mut out, plan, header);

    let outside =
        |v: &super::plan::EnumValuePlan| header.postgres_version < 12 || v.used_by_default;
    let before_tx: Vec<_> = plan.enum_values.iter().filter(|v| outside(v)).collect();
    if !before_tx.is_empty() {
        out.push('\n');
        if header.postgres_version < 12 {
            out.push_str(&format!(
                "-- PostgreSQL {} cannot add enum values inside a transaction block: they run first.\n",
                header.postgres_version
            ));
        } else {
            out.push_str(
                "-- A new enum value cannot be used in the transaction that adds it: committed first.\n",
            );
        }
        for value in &before_tx {
            out.push_str(&add_value(value));
        }
    }

    out.push_str("\nBEGIN;\n");
    for schema in &plan.schemas {
        out.push_str(&format!(
            "\nCREATE SCHEMA IF NOT EXISTS {};\n",
            ident(schema)
        ));
    }
    for e in &plan.enums {
        let values: Vec<String> = e.values.iter().map(|v| literal(v)).collect();
        out.push_str(&format!(
            "\n-- Idempotent checks (ALWAYS!)\nDO $$\nBEGIN\n    IF NOT EXISTS (\n        SELECT 1 FROM pg_type t\n        JOIN pg_namespace n ON n.oid = t.typnamespace\n        WHERE n.nspname = {}\n        AND t.typname = {}\n    ) THEN\n        CREATE TYPE {} AS ENUM ({});\n        RAISE NOTICE 'Created type {}';\n    END IF;\nEND $$;\n",
            literal(&e.schema),
            literal(&e.name),
            qualified(&e.schema, &e.name),
            values.join(", "),
            escape_notice(&format!("{}.{}", e.schema, e.name)),
        ));
    }
    let inside: Vec<_> = plan.enum_values.iter().filter(|v| !outside(v)).collect();
    if !inside.is_empty() {
        out.push('\n');
        for value in inside {
            out.push_str(&add_value(value));
        }
    }
    for table in &plan.tables {
        let pk = table.primary_key();
        let mut lines: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("    {}", column_definition(c, pk.len() == 1)))
            .collect();
        if pk.len() > 1 {
            let names: Vec<String> = pk.iter().map(|c| ident(c)).collect();
            lines.push(format!("    PRIMARY KEY ({})", names.join(", ")));
        }
        out.push_str(&format!(
            "\n-- {}\nCREATE TABLE IF NOT EXISTS {} (\n{}\n);\n",
            table.mapped_by,
            qualified(&table.schema, &table.name),
            lines.join(",\n")
        ));
    }
    for add in &plan.columns {
        let c = &add.column;
        out.push_str(&format!(
            "\n-- Idempotent checks (ALWAYS!)\nDO $$\nBEGIN\n    IF NOT EXISTS (\n        SELECT 1 FROM information_schema.columns\n        WHERE table_schema = {}\n        AND table_name = {}\n        AND column_name = {}\n    ) THEN\n        ALTER TABLE {} ADD COLUMN {};\n        RAISE NOTICE 'Added {}';\n    END IF;\nEND $$;\n",
            literal(&add.schema),
            literal(&add.table),
            literal(&c.name),
            qualified(&add.schema, &add.table),
            column_definition(c, true),
            escape_notice(&format!("{}.{}.{}", add.schema, add.table, c.name)),
        ));
    }
    for fk in &plan.foreign_keys {
        out.push_str(&format!(
            "\nDO $$\nBEGIN\n    IF NOT EXISTS (\n        SELECT 1 FROM information_schema.table_constraints\n        WHERE constraint_schema = {}\n        AND table_name = {}\n        AND constraint_name = {}\n    ) THEN\n        ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {};\n    END IF;\nEND $$;\n",
            literal(&fk.schema),
            literal(&fk.table),
            literal(&fk.name),
            qualified(&fk.schema, &fk.table),
            ident(&fk.name),
            ident(&fk.column),
            reference(&fk.references),
        ));
    }
    let new_columns = plan.new_columns();
    if !new_columns.is_empty() {
        out.push_str("\n-- Always add comments\n");
        for (schema, table, c) in &new_columns {
            let text = c
                .comment
                .clone()
                .unwrap_or_else(|| format!("TODO: describe {table}.{}", c.name));
            out.push_str(&format!(
                "COMMENT ON COLUMN {}.{} IS {};\n",
                qualified(schema, table),
                ident(&c.name),
                literal(&text)
            ));
        }
    }
    let indexed: Vec<_> = new_columns.iter().filter(|(_, _, c)| c.index).collect();
    if !indexed.is_empty() {
        out.push_str("\n-- Add indexes if needed\n");
        for (schema, table, c) in indexed {
            out.push_str(&format!(
                "CREATE {}INDEX IF NOT EXISTS {} ON {} ({});\n",
                if c.unique { "UNIQUE " } else { "" },
                ident(&index_name(table, &c.name)),
                qualified(schema, table),
                ident(&c.name)
            ));
        }
    }
    out.push_str("\nCOMMIT;\n");
    write_rollback(&mut out, plan);
    out
}

fn write_header(out: &mut String, plan: &Plan, header: &Header) {
    out.push_str(RULE);
    out.push('\n');
    out.push_str(&format!(
        "-- Migration: {}\n",
        capitalized(header.description)
    ));
    out.push_str(&format!("-- Created: {}\n", header.created));
    out.push_str(
        "-- Purpose: Create what the SQLAlchemy models map and no migration creates\n--          (written by `driftguard fix`):\n",
    );
    for table in &plan.tables {
        out.push_str(&format!(
            "--   - table {}.{}: {}\n",
            table.schema, table.name, table.mapped_by
        ));
    }
    for add in &plan.columns {
        out.push_str(&format!(
            "--   - column {}.{}.{}: {}\n",
            add.schema, add.table, add.column.name, add.mapped_by
        ));
    }
    for e in &plan.enums {
        out.push_str(&format!("--   - enum type {}.{}\n", e.schema, e.name));
    }
    for v in &plan.enum_values {
        out.push_str(&format!(
            "--   - enum value {} of {}.{}\n",
            literal(&v.value),
            v.schema,
            v.name
        ));
    }
    for note in &plan.notes {
        out.push_str(&format!("-- WARNING: {}\n", note.message));
    }
    out.push_str(RULE);
    out.push('\n');
}

fn write_rollback(out: &mut String, plan: &Plan) {
    out.push('\n');
    out.push_str(RULE);
    out.push_str("\n-- ROLLBACK SCRIPT (required for all migrations!)\n");
    out.push_str(RULE);
    out.push_str("\n-- BEGIN;\n");
    for fk in plan.foreign_keys.iter().rev() {
        out.push_str(&format!(
            "-- ALTER TABLE {} DROP CONSTRAINT IF EXISTS {};\n",
            qualified(&fk.schema, &fk.table),
            ident(&fk.name)
        ));
    }
    for add in plan.columns.iter().rev() {
        if add.column.index {
            out.push_str(&format!(
                "-- DROP INDEX IF EXISTS {};\n",
                qualified(&add.schema, &index_name(&add.table, &add.column.name))
            ));
        }
        out.push_str(&format!(
            "-- ALTER TABLE {} DROP COLUMN IF EXISTS {};\n",
            qualified(&add.schema, &add.table),
            ident(&add.column.name)
        ));
    }
    for table in plan.tables.iter().rev() {
        out.push_str(&format!(
            "-- DROP TABLE IF EXISTS {};\n",
            qualified(&table.schema, &table.name)
        ));
    }
    for e in plan.enums.iter().rev() {
        out.push_str(&format!(
            "-- DROP TYPE IF EXISTS {};\n",
            qualified(&e.schema, &e.name)
        ));
    }
    for schema in plan.schemas.iter().rev() {
        out.push_str(&format!("-- DROP SCHEMA IF EXISTS {};\n", ident(schema)));
    }
    out.push_str("-- COMMIT;\n");
    for v in &plan.enum_values {
        out.push_str(&format!(
            "-- PostgreSQL cannot drop an enum value: {} stays in {}.{}.\n",
            literal(&v.value),
            v.schema,
            v.name
        ));
    }
}

fn add_value(v: &super::plan::EnumValuePlan) -> String {
    let position = v
        .before
        .as_ref()
        .map(|b| format!(" BEFORE {}", literal(b)))
        .unwrap_or_default();
    format!(
        "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{};\n",
        qualified(&v.schema, &v.name),
        literal(&v.value),
        position
    )
}

/// `name TYPE [PRIMARY KEY | NOT NULL] [UNIQUE] [DEFAULT …] [REFERENCES …]`.
fn column_definition(c: &ColumnPlan, inline_pk: bool) -> String {
    let mut text = format!("{} {}", ident(&c.name), c.sql_type());
    if c.primary_key && inline_pk {
        text.push_str(" PRIMARY KEY");
    } else if !c.nullable {
        text.push_str(" NOT NULL");
    }
    if c.unique && !c.index && !c.primary_key {
        text.push_str(" UNIQUE");
    }
    if let Some(default) = &c.default
        && !c.serial
    {
        text.push_str(&format!(" DEFAULT {default}"));
    }
    if let Some(r) = &c.references {
        text.push_str(&format!(" REFERENCES {}", reference(r)));
    }
    text
}

fn reference(r: &Reference) -> String {
    format!("{} ({})", qualified(&r.schema, &r.table), ident(&r.column))
}

/// Text for `RAISE NOTICE '…'`: quotes doubled, `%` (a placeholder there) doubled.
fn escape_notice(text: &str) -> String {
    text.replace('\'', "''").replace('%', "%%")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(ident("contact_preference"), "contact_preference");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("CamelCase"), "\"CamelCase\"");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(ident("1st"), "\"1st\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(escape_notice("50% o'clock"), "50%% o''clock");
    }
}
