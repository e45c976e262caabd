//! DG103 `enum-value-missing-in-database` (`db-diff` only).
//!
//! DG003's check ([`missing_enum_values`]) with the live database as the schema source; only
//! the wording is this rule's. With `--with-migrations` a finding points at the migration that
//! adds the value.

use super::enum_value_without_migration::{MissingEnumValue, add_value_sql, missing_enum_values};
use super::{DatabaseContext, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::rule::Rule;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::EnumValueMissingInDatabase,
    summary: "A model's enum has a value that the live database's enum type lacks (`db-diff`).",
    explanation: r#"## What it does
Reported by `driftguard db-diff`, which reads a live PostgreSQL database (read-only, through
`information_schema` and `pg_enum`). Finds values of a Python enum, stored by a mapped native
`Enum(…)` column, that the database's enum type does not have — one finding per value, at the
model line. The type is looked up as DG003 does: by the model's `name=` and `schema=`, an
unqualified name in the table's schema, then the default schema, then any schema.
`native_enum=False` columns store a VARCHAR and are not checked. With `--with-migrations` a
finding points at the migration that adds the value, when one does.

## Why is this bad?
The first write of the value fails on that database: `invalid input value for enum
booking_status: "cancelled_by_chef"`. `ALTER TYPE … ADD VALUE` is the statement most often
forgotten when applying migrations by hand, because it cannot run inside a transaction block
before PostgreSQL 12.

## Example
```python
class BookingStatus(enum.Enum):
    pending = "pending"
    confirmed = "confirmed"
    cancelled_by_chef = "cancelled_by_chef"
```
mapped with `Enum(BookingStatus, name="booking_status", schema="core")`, against a database
whose `core.booking_status` has only `pending` and `confirmed`.

## How to fix
Apply the migration that adds the value, or write one and apply it:
`ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'cancelled_by_chef';`. If the value
is never written, remove it from the Python enum.
"#,
};

/// DG003's check over the live database.
pub fn check(ctx: &DatabaseContext) -> Vec<Finding> {
    missing_enum_values(&ctx.models)
        .iter()
        .map(|missing| finding(ctx, missing))
        .collect()
}

fn finding(ctx: &DatabaseContext, missing: &MissingEnumValue) -> Finding {
    let MissingEnumValue {
        table,
        column,
        model_enum,
        migrated,
        enum_type: db_enum,
        value,
    } = *missing;
    let qualified = format!("{}.{}", db_enum.schema, db_enum.name);
    let schema = &migrated.table.schema;
    let mut related = Vec::new();
    // The migration that adds the value, when one does: it was not applied.
    let added = ctx.migrations.iter().find_map(|source| {
        let migrated_enum = ctx.models.resolve_enum(source, table, model_enum)?;
        let index = migrated_enum.values.iter().position(|v| v == value)?;
        migrated_enum.value_locations.get(index)
    });
    if let Some(location) = added {
        related.push(Related {
            message: format!(
                "`{value}` is added to `{qualified}` here, but {} lacks it: not applied?",
                ctx.database.name
            ),
            location: location.clone(),
        });
    }
    let help = if added.is_some() {
        "Apply the migration that adds the value to the database."
    } else {
        "Add a migration that adds the value to the type and apply it to the database."
    };
    Finding::new(
        Rule::EnumValueMissingInDatabase,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()).with_enum_value(&qualified, value),
        format!(
            "the enum of `{}` has the value `{value}`, which `{qualified}` in {} lacks; writing it fails there with `invalid input value for enum {}: \"{value}\"`",
            super::column_path(schema, table, column),
            ctx.database.name,
            db_enum.name
        ),
        help,
    )
    .with_suggestion(add_value_sql(&qualified, value))
    .with_related(related)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelTable;
    use crate::rules::test_support::{
        database, model_table, only, render_human, run_database, set_enum, source, with_column,
    };

    const DB: &str = "CREATE SCHEMA core;\nCREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');\nCREATE TABLE core.bookings (id serial primary key, status core.booking_status);";

    fn bookings(values: &[&str]) -> ModelTable {
        with_column(
            model_table(
                "core",
                "bookings",
                &[("id", "INTEGER"), ("status", "VARCHAR")],
            ),
            "status",
            |c| set_enum(c, Some("core"), "booking_status", values),
        )
    }

    #[test]
    fn each_value_the_database_lacks_is_one_finding_at_the_column() {
        let db = database(&[DB]);
        let tables = [bookings(&["pending", "confirmed", "cancelled_by_chef"])];
        let findings = only(
            run_database(&db, &tables, &[]),
            Rule::EnumValueMissingInDatabase,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.location.line, 3);
        assert_eq!(f.target.r#enum.as_deref(), Some("core.booking_status"));
        assert_eq!(f.target.value.as_deref(), Some("cancelled_by_chef"));
        assert!(
            f.message
                .contains("which `core.booking_status` in database \"shop\" lacks"),
            "{}",
            f.message
        );
        assert_eq!(
            f.suggestion.as_deref(),
            Some("ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'cancelled_by_chef';")
        );
        // The rest of the comparison agrees: no other finding.
        assert_eq!(run_database(&db, &tables, &[]).len(), 1);
    }

    #[test]
    fn with_migrations_the_add_value_is_pointed_at() {
        let db = database(&[DB]);
        let migrations = [source(
            "SQL migrations",
            "m",
            &[
                DB,
                "ALTER TYPE core.booking_status ADD VALUE 'cancelled_by_chef';",
            ],
        )];
        let tables = [bookings(&["pending", "confirmed", "cancelled_by_chef"])];
        let findings = only(
            run_database(&db, &tables, &migrations),
            Rule::EnumValueMissingInDatabase,
        );
        assert_eq!(findings.len(), 1);
        let at = &findings[0].related[0].location;
        assert_eq!((&*at.path, at.line), ("m1.sql", 1));
        assert_eq!(
            findings[0].help,
            "Apply the migration that adds the value to the database."
        );
    }

    #[test]
    fn human_rendering() {
        let db = database(&[DB]);
        let added = "ALTER TYPE core.booking_status ADD VALUE 'cancelled_by_chef';";
        let migrations = [source("SQL migrations", "m", &[DB, added])];
        let tables = [bookings(&["pending", "confirmed", "cancelled_by_chef"])];
        let findings = only(
            run_database(&db, &tables, &migrations),
            Rule::EnumValueMissingInDatabase,
        );
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Booking(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    status: Mapped[BookingStatus] = mapped_column(Enum(BookingStatus, name=\"booking_status\", schema=\"core\"))\n"
                ),
                ("m1.sql", added),
            ]
        ));
    }
}
