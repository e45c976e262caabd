//! DG104 `enum-type-missing-in-database` (`db-diff` only).

use super::{DatabaseContext, Migrated, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::{ModelColumn, ModelEnum, ModelTable};
use crate::rule::Rule;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::EnumTypeMissingInDatabase,
    summary: "A model's native enum column uses a PostgreSQL type that the live database lacks (`db-diff`).",
    explanation: r#"## What it does
Reported by `driftguard db-diff`, which reads a live PostgreSQL database (read-only, through
`information_schema` and `pg_enum`). Finds mapped native `Enum(…)` columns whose PostgreSQL
enum type the database does not have, on columns the database has (a missing table or column
is DG102's or DG101's finding). The type is looked up as DG004 does. A column whose type in the
database is another named type is DG005's finding. With `--with-migrations` a finding points
at the migration that creates the type, when one does.

## Why is this bad?
SQLAlchemy creates enum types only in `metadata.create_all()`. On a database without the type,
drivers that cast parameters to it fail with `type "booking_status" does not exist`, and a
column stored as text compares badly with the enum the model sends.

## Example
```python
status: Mapped[BookingStatus] = mapped_column(
    Enum(BookingStatus, name="booking_status", schema="core")
)
```
against a database where `core.bookings.status` is `VARCHAR(20)` and no
`core.booking_status` type exists.

## How to fix
Apply the migration that creates the type and converts the column, or write one:
`CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');` and
`ALTER TABLE core.bookings ALTER COLUMN status TYPE core.booking_status USING
status::core.booking_status;`. If the column is meant to stay text, declare the model's enum
with `native_enum=False`.
"#,
};

pub fn check(ctx: &DatabaseContext) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in ctx.models.tables {
        for column in &table.columns {
            let Some(model_enum) = column.enum_type.as_ref().filter(|e| e.native) else {
                continue;
            };
            for migrated in ctx.models.migrated_columns(table, column) {
                if ctx
                    .models
                    .resolve_enum(migrated.source, table, model_enum)
                    .is_none()
                    && !super::enum_type_without_migration::typed_otherwise(&migrated, model_enum)
                {
                    findings.push(finding(ctx, table, column, model_enum, &migrated));
                }
            }
        }
    }
    findings
}

fn finding(
    ctx: &DatabaseContext,
    table: &ModelTable,
    column: &ModelColumn,
    model_enum: &ModelEnum,
    migrated: &Migrated,
) -> Finding {
    let type_schema = model_enum
        .schema
        .clone()
        .unwrap_or_else(|| ctx.database.default_schema.clone());
    let qualified = format!("{type_schema}.{}", model_enum.name);
    let schema = &migrated.table.schema;
    let path = super::column_path(schema, table, column);
    let mut related = vec![Related {
        message: format!(
            "`{path}` is `{}` in {}",
            migrated.column.ty, ctx.database.name
        ),
        location: migrated.column.location.clone(),
    }];
    for other in ctx.database.schema.enums.values() {
        if other.name == model_enum.name && other.schema != type_schema {
            related.push(Related {
                message: format!(
                    "{} has `{}.{}` — wrong schema?",
                    ctx.database.name, other.schema, other.name
                ),
                location: other.location.clone(),
            });
        }
    }
    let created = ctx
        .migrations
        .iter()
        .find_map(|source| ctx.models.resolve_enum(source, table, model_enum));
    if let Some(created) = created {
        related.push(Related {
            message: format!(
                "`{}.{}` is created here, but {} lacks it: not applied?",
                created.schema, created.name, ctx.database.name
            ),
            location: created.location.clone(),
        });
    }
    let help = if created.is_some() {
        "Apply the migration that creates the type to the database."
    } else {
        "Add a migration that creates the type and apply it to the database."
    };
    let values: Vec<String> = model_enum
        .values
        .iter()
        .map(|v| super::sql_string(v))
        .collect();
    Finding {
        rule: Rule::EnumTypeMissingInDatabase,
        severity: Rule::EnumTypeMissingInDatabase.default_severity(),
        message: format!(
            "`{path}` is mapped as the enum type `{qualified}`, which {} does not have; casts to it fail there with `type \"{qualified}\" does not exist`",
            ctx.database.name
        ),
        help: help.to_string(),
        suggestion: Some(format!(
            "CREATE TYPE {qualified} AS ENUM ({});",
            values.join(", ")
        )),
        location: column.location.clone(),
        target: Target {
            schema: schema.clone(),
            table: table.name.clone(),
            column: Some(column.name.clone()),
            r#enum: Some(qualified),
            value: None,
            references: None,
        },
        related,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{
        database, model_table, only, run_database, set_enum, source, with_column,
    };

    const DB: &str = "CREATE SCHEMA core;\nCREATE TABLE core.bookings (id serial primary key, status varchar(20));";

    fn bookings() -> ModelTable {
        with_column(
            model_table(
                "core",
                "bookings",
                &[("id", "INTEGER"), ("status", "VARCHAR")],
            ),
            "status",
            |c| set_enum(c, Some("core"), "booking_status", &["pending", "confirmed"]),
        )
    }

    #[test]
    fn a_type_the_database_lacks_is_one_finding_with_create_type() {
        let db = database(&[DB]);
        let findings = only(
            run_database(&db, &[bookings()], &[]),
            Rule::EnumTypeMissingInDatabase,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.location.line, 3);
        assert_eq!(
            f.suggestion.as_deref(),
            Some("CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');")
        );
        assert_eq!(
            f.related[0].message,
            "`core.bookings.status` is `VARCHAR(20)` in database \"shop\""
        );
        assert_eq!(
            f.help,
            "Add a migration that creates the type and apply it to the database."
        );
    }

    #[test]
    fn with_migrations_the_create_type_is_pointed_at() {
        let db = database(&[DB]);
        let migrations = [source(
            "SQL migrations",
            "m",
            &[
                DB,
                "CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');",
            ],
        )];
        let findings = only(
            run_database(&db, &[bookings()], &migrations),
            Rule::EnumTypeMissingInDatabase,
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].related[1].location.path, "m1.sql");
    }

    #[test]
    fn a_database_that_has_the_type_is_not_dg104() {
        let db = database(&[
            "CREATE SCHEMA core;\nCREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');\nCREATE TABLE core.bookings (id serial primary key, status core.booking_status);",
        ]);
        assert!(run_database(&db, &[bookings()], &[]).is_empty());
    }
}
