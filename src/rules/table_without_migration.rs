//! DG002 `table-without-migration`.

use super::{Context, MigrationSource, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::ModelTable;
use crate::rule::Rule;
use crate::schema::{Origin, Table};

pub const META: RuleMeta = RuleMeta {
    rule: Rule::TableWithoutMigration,
    summary: "A model maps a table that no migration creates.",
    explanation: r#"## What it does
Finds model classes and `Table(…)` objects whose table no migration in the repository creates.

## Why is this bad?
The first query against the model fails in every database that was built from the migrations:
`relation "core.reviews" does not exist`. Locally the table may exist because someone created
it by hand or with `metadata.create_all()`, so the gap only shows after deploying.

## Example
```python
class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = {"schema": "core"}
    id: Mapped[int] = mapped_column(primary_key=True)
```
with no `CREATE TABLE core.reviews` in any migration.

A table that migrations alter but none creates (an `ALTER TABLE core.customers ADD COLUMN …`
on a table that `create_all()`, another tool or the platform made) is reported once, at the
class line, with the altering statements as related labels; the columns the migrations add
to it count as created.

## How to fix
Add a migration that creates the table with all its columns, for example
`CREATE TABLE IF NOT EXISTS core.reviews (id INTEGER PRIMARY KEY);`. If the table is made
outside the migrations on purpose, list it under `external:` in `driftguard.yml`
(`core.reviews`): no table finding then, but a column added to its model later still needs a
migration. `ignore:` (or `# driftguard: ignore[DG002]` on the class line) silences the table
altogether.
"#,
};

pub fn check(ctx: &Context) -> Vec<Finding> {
    missing_tables(ctx)
        .iter()
        .map(|missing| finding(ctx, missing))
        .collect()
}

/// A model table that its schema sources do not create.
#[derive(Debug, Clone)]
pub(crate) struct MissingTable<'a> {
    pub table: &'a ModelTable,
    /// The schema it is missing from.
    pub schema: String,
    /// The first serving source that lacks it; `None` when no source serves the table.
    pub missing_in: Option<&'a MigrationSource>,
    /// The table as the migrations alter it without creating it (made outside them), if so.
    pub outside: Option<&'a Table>,
}

/// The one check behind DG002 (over the migrations) and DG102 (over a live database): the model
/// tables that no serving source creates (zero config), or that some serving source lacks
/// (declared sources).
pub(crate) fn missing_tables<'a>(ctx: &Context<'a>) -> Vec<MissingTable<'a>> {
    let mut missing_tables = Vec::new();
    for table in ctx.checked() {
        let found = ctx.lookup(table);
        if ctx.table_created(&found) {
            continue;
        }
        let missing_in = found
            .iter()
            .find(|(_, t)| t.is_none_or(|t| t.origin == Origin::Outside))
            .map(|(s, _)| *s);
        let schema = ctx.schema_of(table, missing_in);
        if ctx.is_external(&schema, &table.name) {
            continue;
        }
        let outside = found
            .iter()
            .find_map(|(_, t)| t.filter(|t| t.origin == Origin::Outside));
        missing_tables.push(MissingTable {
            table,
            schema,
            missing_in,
            outside,
        });
    }
    missing_tables
}

fn finding(ctx: &Context, missing: &MissingTable) -> Finding {
    let MissingTable {
        table,
        schema,
        missing_in,
        outside,
    } = missing;
    if let Some(outside) = outside {
        return outside_finding(ctx, table, schema, outside);
    }
    let mut related = Vec::new();
    for source in ctx.sources {
        for other in source.schema.tables_named(&table.name) {
            if &other.schema != schema {
                related.push(Related {
                    message: format!(
                        "a migration creates `{}.{}` — wrong schema?",
                        other.schema, other.name
                    ),
                    location: other.location.clone(),
                });
            }
        }
    }
    let by = super::mapped_by(table);
    let source_note = match (ctx.declared_sources, missing_in) {
        (true, Some(source)) => format!(" in {}", source.name),
        _ => String::new(),
    };
    Finding::new(
        Rule::TableWithoutMigration,
        table.location.clone(),
        Target::table(schema, &table.name),
        format!(
            "table `{schema}.{}` is mapped by {by} but no migration creates it{source_note}; queries fail with `relation \"{schema}.{}\" does not exist`",
            table.name, table.name
        ),
        super::fix_help("Add a migration that creates the table"),
    )
    .with_suggestion(create_table_sql_in(
        schema,
        table,
        &ctx.sources.iter().map(|s| &s.schema).collect::<Vec<_>>(),
        ctx.default_schema,
    ))
    .with_related(related)
}

/// Most statements a finding on a table made outside the migrations points at.
const MAX_ALTERED_LABELS: usize = 10;

/// DG002 for a table the migrations alter but never create.
fn outside_finding(ctx: &Context, table: &ModelTable, schema: &str, outside: &Table) -> Finding {
    let by = super::mapped_by(table);
    let mut related: Vec<Related> = Vec::new();
    for location in &outside.altered_at {
        if related.len() == MAX_ALTERED_LABELS {
            break;
        }
        if !related
            .iter()
            .any(|r| r.location.path == location.path && r.location.line == location.line)
        {
            related.push(Related {
                message: format!("`{schema}.{}` is altered here", table.name),
                location: location.clone(),
            });
        }
    }
    Finding::new(
        Rule::TableWithoutMigration,
        table.location.clone(),
        Target::table(schema, &table.name),
        format!(
            "table `{schema}.{}` is mapped by {by} and altered by migrations, but is never created by a migration; a database built from the migrations lacks it",
            table.name
        ),
        "Add a migration that creates the table, or list it under `external:` in driftguard.yml if it is made outside the migrations on purpose.",
    )
    .with_suggestion(create_table_sql_in(
        schema,
        table,
        &ctx.sources.iter().map(|s| &s.schema).collect::<Vec<_>>(),
        ctx.default_schema,
    ))
    .with_related(related)
}

/// Whether the schema exists in `known` (created, or holding a table).
pub fn has_schema(known: &crate::schema::Schema, schema: &str) -> bool {
    known.schemas.contains(schema) || known.has_table_in(schema)
}

/// What a suggestion must create first so that it runs where `known` is all there is: the
/// schema `schema` (when given), and the native enum types of `columns` — each type as an
/// idempotent `DO` block, so that several suggestions that need one type can all be applied.
pub fn prerequisites_sql(
    known: &[&crate::schema::Schema],
    schema: Option<&str>,
    columns: &[&crate::models::ModelColumn],
    default_schema: &str,
) -> String {
    let mut out: Vec<String> = Vec::new();
    let ensure_schema = |name: &str, out: &mut Vec<String>| {
        let line = format!("CREATE SCHEMA IF NOT EXISTS {name};");
        if !known.iter().any(|k| has_schema(k, name)) && !out.contains(&line) {
            out.push(line);
        }
    };
    if let Some(schema) = schema {
        ensure_schema(schema, &mut out);
    }
    for column in columns {
        let Some(model_enum) = column.enum_type().filter(|e| e.native) else {
            continue;
        };
        let type_schema = model_enum.schema.as_deref().unwrap_or(default_schema);
        if known
            .iter()
            .any(|k| k.enum_type(type_schema, &model_enum.name).is_some())
        {
            continue;
        }
        ensure_schema(type_schema, &mut out);
        let create = super::enum_type_without_migration::create_type_sql(
            &format!("{type_schema}.{}", model_enum.name),
            model_enum,
        );
        let line =
            format!("DO $$ BEGIN {create} EXCEPTION WHEN duplicate_object THEN NULL; END $$;");
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out.into_iter().map(|line| line + "\n").collect()
}

/// [`create_table_sql`] after what it needs that `known` lacks ([`prerequisites_sql`]).
pub fn create_table_sql_in(
    schema: &str,
    table: &ModelTable,
    known: &[&crate::schema::Schema],
    default_schema: &str,
) -> String {
    let columns: Vec<_> = table.columns.iter().collect();
    format!(
        "{}{}",
        prerequisites_sql(known, Some(schema), &columns, default_schema),
        create_table_sql(schema, table)
    )
}

/// `CREATE TABLE IF NOT EXISTS schema.table (…);` with the model's columns. One primary-key
/// column is marked `PRIMARY KEY` on its line; several (a composite key) get one table-level
/// `PRIMARY KEY (a, b)` — PostgreSQL rejects two column-level ones.
pub fn create_table_sql(schema: &str, table: &ModelTable) -> String {
    let keys: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.primary_key)
        .map(|c| c.name.as_str())
        .collect();
    let mut lines = Vec::new();
    for column in &table.columns {
        let mut line = format!("    {} {}", column.name, super::column_type_sql(column));
        if column.primary_key && keys.len() == 1 {
            line.push_str(" PRIMARY KEY");
        } else if column.primary_key || column.nullable == Some(false) {
            line.push_str(" NOT NULL");
        }
        lines.push(line);
    }
    if keys.len() > 1 {
        lines.push(format!("    PRIMARY KEY ({})", keys.join(", ")));
    }
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {schema}.{} (\n{}\n);",
        table.name,
        lines.join(",\n")
    );
    for column in &table.columns {
        if let Some(comment) = column.comment() {
            sql.push_str(&format!(
                "\nCOMMENT ON COLUMN {schema}.{}.{} IS {};",
                table.name,
                column.name,
                super::sql_string(comment)
            ));
        }
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{
        context_for, model_table, only, render_human, run, zero_config,
    };

    #[test]
    fn issue_11_a_composite_primary_key_is_one_table_constraint() {
        let mut table = model_table(
            "identity",
            "user_roles",
            &[
                ("user_id", "INTEGER"),
                ("role", "VARCHAR(40)"),
                ("note", "TEXT"),
            ],
        );
        table.columns[0].primary_key = true;
        table.columns[1].primary_key = true;
        assert_eq!(
            create_table_sql("identity", &table),
            "CREATE TABLE IF NOT EXISTS identity.user_roles (\n    user_id INTEGER NOT NULL,\n    role VARCHAR(40) NOT NULL,\n    note TEXT,\n    PRIMARY KEY (user_id, role)\n);"
        );
        table.columns[1].primary_key = false;
        assert!(create_table_sql("identity", &table).contains("user_id INTEGER PRIMARY KEY,"));
    }

    #[test]
    fn issue_11_a_suggestion_first_creates_the_schema_and_enum_types_it_needs() {
        let mut table = model_table("audit", "entries", &[("id", "INTEGER"), ("kind", "TEXT")]);
        crate::rules::test_support::set_enum(
            &mut table.columns[1],
            Some("audit"),
            "entry_kind",
            &["a", "b"],
        );
        let empty = crate::schema::Schema::default();
        let sql = create_table_sql_in("audit", &table, &[&empty], "public");
        assert!(
            sql.starts_with(
                "CREATE SCHEMA IF NOT EXISTS audit;\nDO $$ BEGIN CREATE TYPE audit.entry_kind AS ENUM ('a', 'b'); EXCEPTION WHEN duplicate_object THEN NULL; END $$;\nCREATE TABLE IF NOT EXISTS audit.entries (\n"
            ),
            "{sql}"
        );
        let (sources, _) = context_for(
            &["CREATE SCHEMA audit; CREATE TYPE audit.entry_kind AS ENUM ('a', 'b');"],
            Vec::new(),
        );
        let known: Vec<_> = sources.iter().map(|s| &s.schema).collect();
        assert!(create_table_sql_in("audit", &table, &known, "public").starts_with("CREATE TABLE"));
    }

    #[test]
    fn a_table_no_migration_creates_is_one_finding_at_the_class_line() {
        let table = model_table("core", "reviews", &[("id", "INTEGER"), ("body", "TEXT")]);
        let (sources, tables) =
            context_for(&["CREATE TABLE core.customers (id int);"], vec![table]);
        let findings = crate::rules::check(&zero_config(&tables, &sources));
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.rule, Rule::TableWithoutMigration);
        assert_eq!(f.location.line, 1);
        assert_eq!(f.target.column, None);
        assert_eq!(
            f.suggestion.as_deref(),
            Some(
                "CREATE TABLE IF NOT EXISTS core.reviews (\n    id INTEGER PRIMARY KEY,\n    body TEXT\n);"
            )
        );
    }

    #[test]
    fn a_table_created_in_another_schema_is_pointed_at() {
        let table = model_table("core", "reviews", &[("id", "INTEGER")]);
        let (sources, tables) = context_for(&["CREATE TABLE reviews (id int);"], vec![table]);
        let findings = check(&zero_config(&tables, &sources));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].related[0].message.contains("`public.reviews`"));
    }

    #[test]
    fn human_rendering() {
        let mut table = model_table("core", "reviews", &[("id", "INTEGER"), ("body", "TEXT")]);
        table.class_name = Some("Review".to_string());
        let migration = "CREATE TABLE reviews (\n    id serial primary key\n);";
        let findings = only(run(&[migration], vec![table]), Rule::TableWithoutMigration);
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Review(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    body: Mapped[str]\n"
                ),
                ("m0.sql", migration),
            ]
        ));
    }
}
