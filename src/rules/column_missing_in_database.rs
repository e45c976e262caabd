//! DG101 `column-missing-in-database` (`db-diff` only).
//!
//! Two situations, one code: a model maps a column the live database's table lacks (reported
//! at the model line), and — with `--with-migrations` — a migration creates a column on a
//! table the database has, the database lacks the column and no model maps it (reported at the
//! migration statement: it was not applied). A table the database lacks altogether is DG102's.
//!
//! The first situation is DG001's check ([`missing_columns`]) with the live database as the
//! schema source; only the wording is this rule's.

use super::column_without_migration::{MissingColumn, add_column_sql, missing_columns};
use super::{DatabaseContext, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::rule::Rule;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::ColumnMissingInDatabase,
    summary: "A model maps a column that the live database lacks (`db-diff`).",
    explanation: r#"## What it does
Reported by `driftguard db-diff`, which reads a live PostgreSQL database (read-only, through
`information_schema` and `pg_enum`). Finds columns that a model maps on a table the database
has, where the database's table lacks the column, at the model line. With `--with-migrations`
it also finds columns that a migration creates but the database lacks — a migration that was
never applied — at the migration statement, and a mapped column's finding points at the
migration that would create it.

The database is read through `information_schema`, which shows only the columns the connected
user has some privilege on: connect as a user that may read the application's tables.

## Why is this bad?
SQLAlchemy selects every mapped column, so every query of the model fails on that database:
`column customers.contact_preference does not exist` — the handbook's production outage.
`driftguard check` proves a migration creates the column; `db-diff` proves it was applied to
the database you deploy to.

## Example
```python
class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}
    contact_preference: Mapped[str] = mapped_column(String(20))
```
against a production database whose `core.customers` has no `contact_preference`.

## How to fix
Apply the migration that creates the column to that database (staging first), or write one
(`ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);`) and
apply it. Columns that exist only in some databases can be listed under `ignore:` in
`driftguard.yml` (`core.customers.contact_preference`).
"#,
};

/// DG001's check over the live database; then, with `--with-migrations`, the columns that were
/// not applied.
pub fn check(ctx: &DatabaseContext) -> Vec<Finding> {
    let mut findings: Vec<Finding> = missing_columns(&ctx.models)
        .iter()
        .map(|missing| mapped(ctx, missing))
        .collect();
    findings.extend(unapplied(ctx));
    findings
}

fn mapped(ctx: &DatabaseContext, missing: &MissingColumn) -> Finding {
    let MissingColumn {
        table,
        column,
        in_table,
        ..
    } = *missing;
    let schema = in_table.schema.as_str();
    let path = super::column_path(schema, table, column);
    let mut related = Vec::new();
    for other in ctx.database.schema.tables_named(&table.name) {
        if other.schema != schema && other.column(&column.name).is_some() {
            related.push(Related {
                message: format!(
                    "{} has `{}.{}.{}` — wrong schema?",
                    ctx.database.name, other.schema, other.name, column.name
                ),
                location: other.location.clone(),
            });
        }
    }
    let created = ctx.migrations.iter().find_map(|s| {
        s.schema
            .table(schema, &table.name)
            .and_then(|t| t.column(&column.name))
    });
    if let Some(created) = created {
        related.push(Related {
            message: format!(
                "`{path}` is created here, but {} lacks it: not applied?",
                ctx.database.name
            ),
            location: created.location.clone(),
        });
    }
    let help = if created.is_some() {
        "Apply the migration that creates the column to the database."
    } else {
        "Add a migration that creates the column and apply it to the database."
    };
    let by = super::mapped_by(table);
    Finding::new(
        Rule::ColumnMissingInDatabase,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()),
        format!(
            "column `{path}` is mapped by {by} but {} has no such column; queries fail there with `column {}.{} does not exist`",
            ctx.database.name, table.name, column.name
        ),
        help,
    )
    .with_suggestion(format!(
        "{}{}",
        super::table_without_migration::prerequisites_sql(
            &[&ctx.database.schema],
            None,
            &[column],
            &ctx.database.default_schema,
        ),
        add_column_sql(schema, &table.name, column)
    ))
    .with_related(related)
}

/// Columns some migration creates on a table the database has, that the database lacks and
/// no model maps.
fn unapplied(ctx: &DatabaseContext) -> Vec<Finding> {
    let mut findings = Vec::new();
    for source in ctx.migrations {
        for table in source.schema.tables.values() {
            let Some(db_table) = ctx.database.schema.table(&table.schema, &table.name) else {
                continue;
            };
            for column in &table.columns {
                if db_table.column(&column.name).is_some()
                    || ctx.mapped(&table.schema, &table.name, Some(&column.name))
                {
                    continue;
                }
                findings.push(Finding::new(
                    Rule::ColumnMissingInDatabase,
                    column.location.clone(),
                    Target::column(&table.schema, &table.name, column.name.as_str()),
                    format!(
                        "column `{}.{}.{}` is created by {} but {} has no such column: the migration has not been applied",
                        table.schema, table.name, column.name, source.name, ctx.database.name
                    ),
                    "Apply the migration to the database.",
                ));
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelTable;
    use crate::rules::test_support::{
        database, model_table, only, render_human, run_database, source,
    };
    use crate::source::Location;

    const DB: &str =
        "CREATE SCHEMA core; CREATE TABLE core.customers (id int primary key, email text);";

    fn customers() -> ModelTable {
        model_table(
            "core",
            "customers",
            &[
                ("id", "INTEGER"),
                ("email", "TEXT"),
                ("contact_preference", "VARCHAR(20)"),
            ],
        )
    }

    #[test]
    fn the_handbook_outage_against_a_live_database() {
        let db = database(&[DB]);
        let findings = only(
            run_database(&db, &[customers()], &[]),
            Rule::ColumnMissingInDatabase,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.location, Location::new("models.py", 4, 5));
        assert_eq!(f.target.column.as_deref(), Some("contact_preference"));
        assert_eq!(
            f.message,
            "column `core.customers.contact_preference` is mapped by `Model` but database \"shop\" has no such column; queries fail there with `column customers.contact_preference does not exist`"
        );
        assert_eq!(
            f.suggestion.as_deref(),
            Some(
                "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);"
            )
        );
        assert!(f.related.is_empty(), "{:?}", f.related);
    }

    #[test]
    fn with_migrations_the_unapplied_statement_is_pointed_at_and_unmapped_columns_reported() {
        let db = database(&[DB]);
        let migrations = [source(
            "SQL migrations",
            "m",
            &[
                DB,
                "ALTER TABLE core.customers ADD COLUMN contact_preference varchar(20);\nALTER TABLE core.customers ADD COLUMN legacy_code text;",
            ],
        )];
        let findings = only(
            run_database(&db, &[customers()], &migrations),
            Rule::ColumnMissingInDatabase,
        );
        assert_eq!(findings.len(), 2, "{findings:?}");
        let mapped = &findings[0];
        assert_eq!(&*mapped.location.path, "models.py");
        assert_eq!(
            mapped.help,
            "Apply the migration that creates the column to the database."
        );
        assert_eq!(&*mapped.related[0].location.path, "m1.sql");
        assert_eq!(mapped.related[0].location.line, 1);
        let unmapped = &findings[1];
        assert_eq!(unmapped.target.column.as_deref(), Some("legacy_code"));
        assert_eq!(&*unmapped.location.path, "m1.sql");
        assert_eq!(unmapped.location.line, 2);
        assert_eq!(
            unmapped.message,
            "column `core.customers.legacy_code` is created by SQL migrations but database \"shop\" has no such column: the migration has not been applied"
        );
    }

    #[test]
    fn a_missing_table_is_not_dg101_and_a_column_in_another_schema_is_pointed_at() {
        let db = database(&["CREATE TABLE public.customers (id int, contact_preference text);"]);
        let findings = run_database(&db, &[customers()], &[]);
        assert_eq!(
            findings.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![Rule::TableMissingInDatabase]
        );
        let db = database(&[
            DB,
            "CREATE TABLE public.customers (id int, contact_preference text);",
        ]);
        let findings = only(
            run_database(&db, &[customers()], &[]),
            Rule::ColumnMissingInDatabase,
        );
        assert_eq!(
            findings[0].related[0].message,
            "database \"shop\" has `public.customers.contact_preference` — wrong schema?"
        );
    }

    #[test]
    fn human_rendering() {
        let db = database(&[
            DB,
            "CREATE TABLE public.customers (id int, contact_preference text);",
        ]);
        let migrations = [source(
            "SQL migrations",
            "m",
            &[
                DB,
                "ALTER TABLE core.customers ADD COLUMN contact_preference varchar(20);",
            ],
        )];
        let findings = only(
            run_database(&db, &[customers()], &migrations),
            Rule::ColumnMissingInDatabase,
        );
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Customer(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    email: Mapped[str]\n    contact_preference: Mapped[str] = mapped_column(String(20))\n"
                ),
                (
                    "m1.sql",
                    "ALTER TABLE core.customers ADD COLUMN contact_preference varchar(20);"
                ),
            ]
        ));
    }
}
