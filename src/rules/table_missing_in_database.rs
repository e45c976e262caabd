//! DG102 `table-missing-in-database` (`db-diff` only).
//!
//! Two situations, one code: a model maps a table the live database lacks (reported at the
//! model line), and — with `--with-migrations` — a migration creates a table the database lacks
//! and no model maps (reported at the `CREATE TABLE`: the migration was not applied).
//!
//! The first situation is DG002's check ([`missing_tables`]) with the live database as the
//! schema source; only the wording is this rule's.

use super::table_without_migration::{MissingTable, create_table_sql_in, missing_tables};
use super::{DatabaseContext, MigrationSource, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::rule::Rule;
use crate::schema::Table;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::TableMissingInDatabase,
    summary: "A model maps a table that the live database lacks (`db-diff`).",
    explanation: r#"## What it does
Reported by `driftguard db-diff`, which reads a live PostgreSQL database (read-only, through
`information_schema` and `pg_enum`). Finds model classes and `Table(…)` objects whose table the
database does not have, at the model line. With `--with-migrations` it also finds tables that a
migration creates but the database lacks — a migration that was never applied — at the
`CREATE TABLE`, and a mapped table's finding points at the migration that would create it.

The database is read through `information_schema`, which shows only the tables the connected
user has some privilege on: connect as a user that may read the application's tables.

## Why is this bad?
The first query against the model fails on that database with `relation "core.reviews" does
not exist`. `driftguard check` proves the migrations create the table; `db-diff` proves the
database you are about to deploy to has it — the handbook's "Production vs Model" step.

## Example
```python
class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = {"schema": "core"}
    id: Mapped[int] = mapped_column(primary_key=True)
```
against a production database in which `core.reviews` was never created.

## How to fix
Apply the migration that creates the table to that database (staging first), or write one
(`CREATE TABLE IF NOT EXISTS core.reviews (id INTEGER PRIMARY KEY);`) and apply it. If the
table lives in another schema in the database, fix the model's `schema`. Tables that exist
only in some databases can be listed under `ignore:` in `driftguard.yml`.
"#,
};

/// DG002's check over the live database; then, with `--with-migrations`, the tables that were
/// not applied.
pub fn check(ctx: &DatabaseContext) -> Vec<Finding> {
    let mut findings: Vec<Finding> = missing_tables(&ctx.models)
        .iter()
        .map(|missing| mapped(ctx, missing))
        .collect();
    findings.extend(unapplied(ctx));
    findings
}

fn mapped(ctx: &DatabaseContext, missing: &MissingTable) -> Finding {
    let MissingTable { table, schema, .. } = missing;
    let mut related = other_schemas(ctx.database, schema, &table.name);
    let migration = created_by_migration(ctx.migrations, schema, &table.name);
    if let Some((_, created)) = migration {
        related.push(Related {
            message: format!(
                "`{schema}.{}` is created here, but {} lacks it: not applied?",
                table.name, ctx.database.name
            ),
            location: created.location.clone(),
        });
    }
    let by = super::mapped_by(table);
    let help = if migration.is_some() {
        "Apply the migration that creates the table to the database."
    } else {
        "Add a migration that creates the table and apply it to the database."
    };
    Finding::new(
        Rule::TableMissingInDatabase,
        table.location.clone(),
        Target::table(schema, &table.name),
        format!(
            "table `{schema}.{}` is mapped by {by} but {} has no such table; queries fail there with `relation \"{schema}.{}\" does not exist`",
            table.name, ctx.database.name, table.name
        ),
        help,
    )
    .with_suggestion(create_table_sql_in(
        schema,
        table,
        &[&ctx.database.schema],
        &ctx.database.default_schema,
    ))
    .with_related(related)
}

/// Tables some migration creates that the database lacks and no model maps.
fn unapplied(ctx: &DatabaseContext) -> Vec<Finding> {
    let mut findings = Vec::new();
    for source in ctx.migrations {
        for table in source.schema.tables.values() {
            if ctx
                .database
                .schema
                .table(&table.schema, &table.name)
                .is_some()
                || ctx.mapped(&table.schema, &table.name, None)
            {
                continue;
            }
            findings.push(
                Finding::new(
                    Rule::TableMissingInDatabase,
                    table.location.clone(),
                    Target::table(&table.schema, &table.name),
                    format!(
                        "table `{}.{}` is created by {} but {} has no such table: the migration has not been applied",
                        table.schema, table.name, source.name, ctx.database.name
                    ),
                    "Apply the migration to the database.",
                )
                .with_related(other_schemas(ctx.database, &table.schema, &table.name)),
            );
        }
    }
    findings
}

/// The first migration source that creates `schema.table`, and its table.
fn created_by_migration<'a>(
    migrations: &'a [MigrationSource],
    schema: &str,
    table: &str,
) -> Option<(&'a MigrationSource, &'a Table)> {
    migrations
        .iter()
        .find_map(|s| s.schema.table(schema, table).map(|t| (s, t)))
}

/// "wrong schema?" labels for tables of that name in other schemas of the database.
fn other_schemas(database: &MigrationSource, schema: &str, name: &str) -> Vec<Related> {
    database
        .schema
        .tables_named(name)
        .filter(|t| t.schema != schema)
        .map(|t| Related {
            message: format!(
                "{} has `{}.{}` — wrong schema?",
                database.name, t.schema, t.name
            ),
            location: t.location.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{database, model_table, render_human, run_database, source};

    #[test]
    fn a_mapped_table_the_database_lacks_is_one_finding_at_the_class_line() {
        let db = database(&["CREATE SCHEMA core; CREATE TABLE public.reviews (id int);"]);
        let tables = [model_table(
            "core",
            "reviews",
            &[("id", "INTEGER"), ("body", "TEXT")],
        )];
        let findings = run_database(&db, &tables, &[]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.rule, Rule::TableMissingInDatabase);
        assert_eq!(f.location.line, 1);
        assert_eq!(f.target.table, "reviews");
        assert!(
            f.message.contains("database \"shop\" has no such table"),
            "{}",
            f.message
        );
        assert_eq!(
            f.help,
            "Add a migration that creates the table and apply it to the database."
        );
        assert_eq!(
            f.related[0].message,
            "database \"shop\" has `public.reviews` — wrong schema?"
        );
        assert_eq!(f.related[0].location.line, 0);
    }

    #[test]
    fn with_migrations_the_unapplied_create_table_is_pointed_at_and_reported() {
        let db = database(&["CREATE SCHEMA core;"]);
        let migrations = [source(
            "SQL migrations",
            "m",
            &[
                "CREATE SCHEMA core;\nCREATE TABLE core.reviews (id int);\nCREATE TABLE ops.jobs (id int);",
            ],
        )];
        let tables = [model_table("core", "reviews", &[("id", "INTEGER")])];
        let findings = run_database(&db, &tables, &migrations);
        assert_eq!(findings.len(), 2, "{findings:?}");
        let mapped = &findings[0];
        assert_eq!(&*mapped.location.path, "models.py");
        assert_eq!(
            mapped.help,
            "Apply the migration that creates the table to the database."
        );
        let at = &mapped.related[0].location;
        assert_eq!((&*at.path, at.line), ("m0.sql", 2));
        let unmapped = &findings[1];
        assert_eq!(unmapped.target.table, "jobs");
        assert_eq!(
            (&*unmapped.location.path, unmapped.location.line),
            ("m0.sql", 3)
        );
        assert!(unmapped.message.contains("has not been applied"));
        assert_eq!(unmapped.suggestion, None);
    }

    #[test]
    fn human_rendering() {
        let db = database(&["CREATE SCHEMA core; CREATE TABLE public.reviews (id int);"]);
        let migration = "CREATE SCHEMA core;\nCREATE TABLE core.reviews (id serial primary key);\nCREATE TABLE core.review_votes (id serial primary key);";
        let migrations = [source("SQL migrations", "m", &[migration])];
        let mut table = model_table("core", "reviews", &[("id", "INTEGER")]);
        table.class_name = Some("Review".to_string());
        let findings = run_database(&db, &[table], &migrations);
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Review(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                ),
                ("m0.sql", migration),
            ]
        ));
    }
}
