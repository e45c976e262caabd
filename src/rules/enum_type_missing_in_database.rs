//! DG104 `enum-type-missing-in-database` (`db-diff` only).
//!
//! DG004's check ([`missing_enum_types`]) with the live database as the schema source; only
//! the wording is this rule's. With `--with-migrations` a finding points at the migration that
//! creates the type.

use super::enum_type_without_migration::{MissingEnumType, create_type_sql_in, missing_enum_types};
use super::{DatabaseContext, RuleMeta};
use crate::finding::{Finding, Related, Target};
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

/// DG004's check over the live database.
pub fn check(ctx: &DatabaseContext) -> Vec<Finding> {
    missing_enum_types(&ctx.models)
        .iter()
        .map(|missing| finding(ctx, missing))
        .collect()
}

fn finding(ctx: &DatabaseContext, missing: &MissingEnumType) -> Finding {
    let MissingEnumType {
        table,
        column,
        model_enum,
        migrated,
    } = *missing;
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
    Finding::new(
        Rule::EnumTypeMissingInDatabase,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()).with_enum(&qualified),
        format!(
            "`{path}` is mapped as the enum type `{qualified}`, which {} does not have; casts to it fail there with `type \"{qualified}\" does not exist`",
            ctx.database.name
        ),
        help,
    )
    .with_suggestion(create_type_sql_in(
        &type_schema,
        &qualified,
        model_enum,
        super::table_without_migration::has_schema(&ctx.database.schema, &type_schema),
    ))
    .with_related(related)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelTable;
    use crate::rules::test_support::{
        database, model_table, only, render_human, run_database, set_enum, source, with_column,
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
        assert_eq!(&*findings[0].related[1].location.path, "m1.sql");
    }

    #[test]
    fn a_database_that_has_the_type_is_not_dg104() {
        let db = database(&[
            "CREATE SCHEMA core;\nCREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');\nCREATE TABLE core.bookings (id serial primary key, status core.booking_status);",
        ]);
        assert!(run_database(&db, &[bookings()], &[]).is_empty());
    }

    #[test]
    fn human_rendering() {
        let db = database(&[DB]);
        let created = "CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');";
        let migrations = [source("SQL migrations", "m", &[DB, created])];
        let findings = only(
            run_database(&db, &[bookings()], &migrations),
            Rule::EnumTypeMissingInDatabase,
        );
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Booking(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    status: Mapped[BookingStatus] = mapped_column(Enum(BookingStatus, name=\"booking_status\", schema=\"core\"))\n"
                ),
                ("m1.sql", created),
            ]
        ));
    }
}
