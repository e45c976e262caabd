//! DG001 `column-without-migration`.

use super::{Context, MigrationSource, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::{ModelColumn, ModelTable};
use crate::rule::Rule;
use crate::schema::{Origin, Table};

pub const META: RuleMeta = RuleMeta {
    rule: Rule::ColumnWithoutMigration,
    summary: "A model maps a column that no migration creates.",
    explanation: r#"## What it does
Finds columns that a model maps on a table the migrations create, where no migration creates
the column itself (or a later migration drops or renames it).

## Why is this bad?
SQLAlchemy selects every mapped column. In a database built from the migrations the first
query fails: `column customers.contact_preference does not exist`. A developer's local database
often has the column (created by hand or by `create_all()`), so tests pass and production
breaks — the outage this tool exists to prevent.

## Example
```python
class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}
    contact_preference: Mapped[str] = mapped_column(String(20))
```
with no migration adding `contact_preference` to `core.customers`.

## How to fix
Add a migration that creates the column, in the idempotent style:
`ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);`.
Check the schema if a migration adds the column to a table of the same name elsewhere. If the
column is created outside the migrations on purpose, add it to `ignore:` in `driftguard.yml`
(`core.customers.contact_preference`) or put `# driftguard: ignore[DG001]` on its line.
"#,
};

/// DG001, first pass: the columns missing from tables the migrations create. The second,
/// for change checks, is [`check_uncreated`]; [`crate::rules::check_all`] runs the two as two
/// rules, so that every table's first-pass findings come before any second-pass one however
/// the tables are split between threads.
pub fn check_created(ctx: &Context) -> Vec<Finding> {
    missing_columns(ctx)
        .iter()
        .map(|missing| {
            finding(
                ctx,
                missing.table,
                missing.column,
                &missing.in_table.schema,
                Some(missing.in_table),
                ctx.declared_sources.then_some(missing.source),
            )
        })
        .collect()
}

/// DG001, second pass, for change checks: the model columns of tables the migrations do not
/// create ([`uncreated_columns`]). Those are under a table finding (DG002) or on an
/// `external:` table, and a full audit shows only the table's finding (see
/// [`crate::project`]).
pub fn check_uncreated(ctx: &Context) -> Vec<Finding> {
    uncreated_columns(ctx)
}

/// The model columns of tables that no migration creates — missing, made outside the
/// migrations and only altered by them, or declared `external:` — that no migration adds.
fn uncreated_columns(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in ctx.checked() {
        let found = ctx.lookup(table);
        if ctx.table_created(&found) {
            continue;
        }
        let source = found.first().map(|(s, _)| *s);
        let schema = ctx.schema_of(table, source);
        let outside: Vec<&Table> = found.iter().filter_map(|(_, t)| *t).collect();
        for column in &table.columns {
            if outside.iter().any(|t| t.column(&column.name).is_some()) {
                continue;
            }
            findings.push(finding(
                ctx,
                table,
                column,
                &schema,
                outside.first().copied(),
                None,
            ));
        }
    }
    findings
}

/// A model column whose table a schema source has without the column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MissingColumn<'a> {
    pub table: &'a ModelTable,
    pub column: &'a ModelColumn,
    /// The first serving source whose table lacks the column.
    pub source: &'a MigrationSource,
    /// That source's table.
    pub in_table: &'a Table,
}

/// The one check behind DG001 (over the migrations) and DG101 (over a live database): the model
/// columns that no serving source creates on a table it creates (zero config), or that some
/// serving source lacks (declared sources). A missing table is DG002's or DG102's.
pub(crate) fn missing_columns<'a>(ctx: &Context<'a>) -> Vec<MissingColumn<'a>> {
    let mut missing_columns = Vec::new();
    for table in ctx.checked() {
        let found = ctx.lookup(table);
        if !ctx.table_created(&found) {
            continue;
        }
        // Each with its place in `found`, where the memo keeps its columns.
        let with_table: Vec<_> = found
            .iter()
            .enumerate()
            .filter_map(|(k, (s, t))| t.map(|t| (k, *s, t)))
            .collect();
        for column in &table.columns {
            let missing: Vec<_> = with_table
                .iter()
                .filter(|(k, _, t)| !ctx.has_migrated_column(table, column, *k, t))
                .map(|&(_, s, t)| (s, t))
                .collect();
            let created = if ctx.declared_sources {
                missing.is_empty()
            } else {
                missing.len() < with_table.len()
            };
            if created {
                continue;
            }
            if let Some(&(source, in_table)) = missing.first() {
                missing_columns.push(MissingColumn {
                    table,
                    column,
                    source,
                    in_table,
                });
            }
        }
    }
    missing_columns
}

/// The DG001 of one column. `in_table` is the migrations' table, if they have one; `source`
/// names the declared source that lacks the column.
fn finding(
    ctx: &Context,
    table: &ModelTable,
    column: &ModelColumn,
    schema: &str,
    in_table: Option<&Table>,
    source: Option<&MigrationSource>,
) -> Finding {
    let mut related = Vec::new();
    if let Some(in_table) = in_table {
        let verb = match in_table.origin {
            Origin::Migrations => "created",
            Origin::Outside => "altered",
        };
        related.push(Related {
            message: format!("`{schema}.{}` is {verb} here", table.name),
            location: in_table.location.clone(),
        });
    }
    for source in ctx.sources {
        for other in source.schema.tables_named(&table.name) {
            if other.schema != schema
                && let Some(c) = other.column(&column.name)
            {
                related.push(Related {
                    message: format!(
                        "a migration adds `{}` to `{}.{}` — wrong schema?",
                        column.name, other.schema, other.name
                    ),
                    location: c.location.clone(),
                });
            }
        }
    }
    let by = super::mapped_by(table);
    let source_note = match source {
        Some(source) => format!(" in {}", source.name),
        None => String::new(),
    };
    Finding::new(
        Rule::ColumnWithoutMigration,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()),
        format!(
            "column `{schema}.{}.{}` is mapped by {by} but no migration creates it{source_note}; queries fail with `column {}.{} does not exist`",
            table.name, column.name, table.name, column.name
        ),
        super::fix_help("Add a migration that creates the column"),
    )
    .with_suggestion(format!(
        "{}{}",
        super::table_without_migration::prerequisites_sql(
            &ctx.sources.iter().map(|s| &s.schema).collect::<Vec<_>>(),
            None,
            &[column],
            ctx.default_schema,
        ),
        add_column_sql(schema, &table.name, column)
    ))
    .with_related(related)
}

/// `ALTER TABLE s.t ADD COLUMN IF NOT EXISTS c TYPE;` plus `COMMENT ON COLUMN` for `comment=`.
pub fn add_column_sql(schema: &str, table: &str, column: &ModelColumn) -> String {
    let mut sql = format!(
        "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {} {};",
        column.name,
        super::column_type_sql(column)
    );
    if let Some(comment) = column.comment() {
        sql.push_str(&format!(
            "\nCOMMENT ON COLUMN {schema}.{table}.{} IS {};",
            column.name,
            super::sql_string(comment)
        ));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{context_for, model_table, render_human, zero_config};

    fn run(migrations: &[&str], table: ModelTable) -> Vec<Finding> {
        let (sources, tables) = context_for(migrations, vec![table]);
        crate::rules::check(&zero_config(&tables, &sources))
    }

    #[test]
    fn the_handbook_outage_is_caught_at_the_model_line() {
        let table = model_table(
            "core",
            "customers",
            &[("id", "INTEGER"), ("contact_preference", "VARCHAR(20)")],
        );
        let findings = run(
            &["CREATE SCHEMA core; CREATE TABLE core.customers (id serial primary key);"],
            table,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.rule, Rule::ColumnWithoutMigration);
        assert_eq!(f.target.column.as_deref(), Some("contact_preference"));
        assert_eq!(f.location.line, 3);
        assert_eq!(
            f.suggestion.as_deref(),
            Some(
                "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);"
            )
        );
        assert_eq!(f.related[0].message, "`core.customers` is created here");
        assert_eq!(&*f.related[0].location.path, "m0.sql");
    }

    #[test]
    fn a_column_added_to_the_wrong_schema_is_pointed_at() {
        let table = model_table("core", "customers", &[("id", "INTEGER"), ("email", "TEXT")]);
        let findings = run(
            &[
                "CREATE TABLE core.customers (id int); CREATE TABLE customers (id int);",
                "ALTER TABLE customers ADD COLUMN email text;",
            ],
            table,
        );
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .related
                .iter()
                .any(|r| r.message.contains("`public.customers` — wrong schema?")),
            "{:?}",
            findings[0].related
        );
    }

    #[test]
    fn a_dropped_column_is_missing_again() {
        let table = model_table("public", "t", &[("id", "INTEGER"), ("a", "TEXT")]);
        assert!(run(&["CREATE TABLE t (id int, a text);"], table.clone()).is_empty());
        let findings = run(
            &[
                "CREATE TABLE t (id int, a text);",
                "ALTER TABLE t DROP COLUMN a;",
            ],
            table,
        );
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn human_rendering() {
        let mut table = model_table(
            "core",
            "customers",
            &[("id", "INTEGER"), ("contact_preference", "VARCHAR(20)")],
        );
        table.class_name = Some("Customer".to_string());
        let migrations = [
            "CREATE SCHEMA core;\nCREATE TABLE core.customers (\n    id serial primary key\n);",
            "CREATE TABLE customers (id serial primary key);\nALTER TABLE customers ADD COLUMN contact_preference varchar(20);",
        ];
        let findings = run(&migrations, table);
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Customer(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    contact_preference: Mapped[str] = mapped_column(String(20))\n"
                ),
                ("m0.sql", migrations[0]),
                ("m1.sql", migrations[1]),
            ]
        ));
    }
}
