//! DG004 `enum-type-without-migration`.

use super::{Context, Migrated, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::{ModelColumn, ModelEnum, ModelTable};
use crate::rule::Rule;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::EnumTypeWithoutMigration,
    summary: "A model's native enum column uses a PostgreSQL type that no migration creates.",
    explanation: r#"## What it does
Finds mapped native `Enum(…)` columns whose PostgreSQL enum type no migration creates, on
columns that the migrations do create (a missing table or column is DG002's or DG001's
finding). The type is looked up like DG003 does: by the model's `name=` and `schema=`, an
unqualified name in the table's schema, then the default schema, then any schema.
`native_enum=False` columns store a VARCHAR and are not checked; a column whose migrated type is
another named type is DG005's finding; a column whose migrated type driftguard cannot name (a
custom Alembic type) is not checked.

## Why is this bad?
SQLAlchemy only creates enum types in `metadata.create_all()`, which test suites run and
production never does. In a database built from the migrations, drivers that cast parameters
to the column's type (psycopg 3 writes `%(status)s::booking_status`) fail with
`type "booking_status" does not exist`, and a column stored as text compares badly with the
enum the model sends.

## Example
```python
class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = {"schema": "core"}
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, name="booking_status", schema="core")
    )
```
with migrations that create `core.bookings.status` as `VARCHAR(20)` and never run
`CREATE TYPE core.booking_status`.

## How to fix
Add a migration that creates the type with the values SQLAlchemy stores (the member names,
unless `values_callable` is set), for example
`CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');`, and make the column use
it (`ALTER TABLE core.bookings ALTER COLUMN status TYPE core.booking_status USING
status::core.booking_status;`). If the column is meant to stay text, declare the model's enum
with `native_enum=False`. An unqualified type is created in the default schema, as SQLAlchemy
does.
"#,
};

pub fn check(ctx: &Context) -> Vec<Finding> {
    missing_enum_types(ctx)
        .iter()
        .map(|missing| finding(ctx, missing))
        .collect()
}

/// A mapped native enum whose type a schema source lacks, on a column the source has.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MissingEnumType<'a> {
    pub table: &'a ModelTable,
    pub column: &'a ModelColumn,
    pub model_enum: &'a ModelEnum,
    /// The column in the source that lacks the type.
    pub migrated: Migrated<'a>,
}

/// The one check behind DG004 (over the migrations) and DG104 (over a live database): mapped
/// native enums whose type no source that has the column resolves, where the column is not of
/// another named type (DG005's) or of one driftguard cannot name.
pub(crate) fn missing_enum_types<'a>(ctx: &Context<'a>) -> Vec<MissingEnumType<'a>> {
    let mut missing = Vec::new();
    for table in ctx.checked() {
        for column in &table.columns {
            let Some(model_enum) = column.enum_type().filter(|e| e.native) else {
                continue;
            };
            let per_source = ctx
                .migrated_columns(table, column)
                .into_iter()
                .map(|m| {
                    let lacks = ctx.resolve_enum(m.source, table, model_enum).is_none()
                        && !typed_otherwise(&m, model_enum);
                    (m, lacks.then_some(()))
                })
                .collect();
            if let Some((migrated, ())) = ctx.decide(per_source) {
                missing.push(MissingEnumType {
                    table,
                    column,
                    model_enum,
                    migrated,
                });
            }
        }
    }
    missing
}

/// The migrated column has another named type (DG005's finding) or one driftguard cannot name.
/// Extension types such as `citext` are not named types here: the enum type is still missing.
fn typed_otherwise(migrated: &Migrated, model_enum: &ModelEnum) -> bool {
    let ty = &migrated.column.ty;
    ty.name == "unknown"
        || (ty.user_defined && !ty.is_extension_type() && ty.user_type_name() != model_enum.name)
}

fn finding(ctx: &Context, missing: &MissingEnumType) -> Finding {
    let MissingEnumType {
        table,
        column,
        model_enum,
        migrated,
    } = *missing;
    let type_schema = model_enum
        .schema
        .clone()
        .unwrap_or_else(|| migrated.source.default_schema.clone());
    let qualified = format!("{type_schema}.{}", model_enum.name);
    let schema = &migrated.table.schema;
    let path = super::column_path(schema, table, column);
    let mut related = vec![Related {
        message: format!("`{path}` is created here as `{}`", migrated.column.ty),
        location: migrated.column.location.clone(),
    }];
    for source in ctx.sources {
        for other in source.schema.enums.values() {
            if other.name == model_enum.name && other.schema != type_schema {
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
    if let Some(location) = &model_enum.location {
        related.push(Related {
            message: "the Python enum is declared here".to_string(),
            location: location.clone(),
        });
    }
    Finding::new(
        Rule::EnumTypeWithoutMigration,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()).with_enum(&qualified),
        format!(
            "`{path}` is mapped as the enum type `{qualified}`, which no migration creates; casts to it fail with `type \"{qualified}\" does not exist`"
        ),
        super::fix_help("Add a migration that creates the type"),
    )
    .with_suggestion(create_type_sql_in(
        &type_schema,
        &qualified,
        model_enum,
        ctx.sources
            .iter()
            .any(|s| super::table_without_migration::has_schema(&s.schema, &type_schema)),
    ))
    .with_related(related)
}

/// [`create_type_sql`], after `CREATE SCHEMA IF NOT EXISTS` when the type's schema does not
/// exist yet (`exists` false).
pub(crate) fn create_type_sql_in(
    schema: &str,
    qualified: &str,
    model_enum: &ModelEnum,
    exists: bool,
) -> String {
    let create = create_type_sql(qualified, model_enum);
    if exists {
        create
    } else {
        format!("CREATE SCHEMA IF NOT EXISTS {schema};\n{create}")
    }
}

/// `CREATE TYPE s.t AS ENUM ('a', 'b');` with the model enum's values.
pub(crate) fn create_type_sql(qualified: &str, model_enum: &ModelEnum) -> String {
    let values: Vec<String> = model_enum
        .values
        .iter()
        .map(|v| super::sql_string(v))
        .collect();
    format!("CREATE TYPE {qualified} AS ENUM ({});", values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{
        model_table, only, render_human, run, run_sources, set_enum, source, with_column,
    };

    fn bookings(schema: Option<&str>) -> ModelTable {
        with_column(
            model_table(
                "core",
                "bookings",
                &[("id", "INTEGER"), ("status", "VARCHAR")],
            ),
            "status",
            |c| set_enum(c, schema, "booking_status", &["pending", "confirmed"]),
        )
    }

    fn dg004(migrations: &[&str], table: ModelTable) -> Vec<Finding> {
        only(run(migrations, vec![table]), Rule::EnumTypeWithoutMigration)
    }

    const TEXT_COLUMN: &str = "CREATE SCHEMA core;\nCREATE TABLE core.bookings (\n    id serial primary key,\n    status varchar(20) not null\n);";

    #[test]
    fn a_type_no_migration_creates_is_one_finding_with_create_type() {
        let citext = "CREATE TABLE core.bookings (id int, status citext);";
        assert_eq!(dg004(&[citext], bookings(Some("core"))).len(), 1);
        let findings = dg004(&[TEXT_COLUMN], bookings(Some("core")));
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.location.line, 3);
        assert_eq!(f.target.r#enum.as_deref(), Some("core.booking_status"));
        assert_eq!(f.target.value, None);
        assert_eq!(
            f.suggestion.as_deref(),
            Some("CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');")
        );
        assert_eq!(
            f.related[0].message,
            "`core.bookings.status` is created here as `VARCHAR(20)`"
        );
        assert_eq!(f.related[1].message, "the Python enum is declared here");
    }

    #[test]
    fn an_unqualified_type_is_suggested_in_the_default_schema() {
        let findings = dg004(&[TEXT_COLUMN], bookings(None));
        assert_eq!(
            findings[0].suggestion.as_deref(),
            Some("CREATE TYPE public.booking_status AS ENUM ('pending', 'confirmed');")
        );
    }

    #[test]
    fn a_type_in_another_schema_is_pointed_at_for_a_qualified_name() {
        let findings = dg004(
            &[
                TEXT_COLUMN,
                "CREATE TYPE booking_status AS ENUM ('pending', 'confirmed');",
            ],
            bookings(Some("core")),
        );
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .related
                .iter()
                .any(|r| r.message == "a migration creates `public.booking_status` — wrong schema?"),
            "{:?}",
            findings[0].related
        );
        // Unqualified, the same type is found in any schema.
        assert!(
            dg004(
                &[
                    TEXT_COLUMN,
                    "CREATE TYPE booking_status AS ENUM ('pending', 'confirmed');"
                ],
                bookings(None)
            )
            .is_empty()
        );
    }

    #[test]
    fn created_types_other_named_types_and_missing_columns_are_not_dg004() {
        let created = "CREATE SCHEMA core;\nCREATE TYPE core.booking_status AS ENUM ('pending');\nCREATE TABLE core.bookings (id int, status core.booking_status);";
        assert!(dg004(&[created], bookings(Some("core"))).is_empty());
        // A column of another named type: DG005 says so.
        let other = "CREATE TYPE core.status AS ENUM ('pending');\nCREATE TABLE core.bookings (id int, status core.status);";
        assert!(dg004(&[other], bookings(Some("core"))).is_empty());
        // No column: DG001. No table: DG002.
        assert!(
            dg004(
                &["CREATE TABLE core.bookings (id int);"],
                bookings(Some("core"))
            )
            .is_empty()
        );
        assert!(dg004(&[], bookings(Some("core"))).is_empty());
        // native_enum=False stores a VARCHAR.
        let mut table = bookings(Some("core"));
        if let Some(e) = table.columns[1].enum_type_mut() {
            e.native = false;
        }
        assert!(dg004(&[TEXT_COLUMN], table).is_empty());
    }

    #[test]
    fn a_dropped_type_is_missing_again() {
        let findings = dg004(
            &[
                "CREATE TYPE core.booking_status AS ENUM ('pending');\nCREATE TABLE core.bookings (id int, status text);",
                "DROP TYPE core.booking_status;",
            ],
            bookings(Some("core")),
        );
        assert_eq!(findings.len(), 1);
    }

    #[test]
    fn with_two_sources_one_that_creates_the_type_is_enough_in_zero_config() {
        let tables = [bookings(Some("core"))];
        let sources = [
            source("Alembic", "old", &[TEXT_COLUMN]),
            source(
                "SQL migrations",
                "new",
                &[
                    TEXT_COLUMN,
                    "CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');",
                ],
            ),
        ];
        let dg004 = |declared| {
            only(
                run_sources(&sources, &tables, declared),
                Rule::EnumTypeWithoutMigration,
            )
        };
        assert!(dg004(false).is_empty());
        assert_eq!(dg004(true).len(), 1);
    }

    #[test]
    fn human_rendering() {
        let findings = dg004(&[TEXT_COLUMN], bookings(Some("core")));
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Booking(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    status: Mapped[BookingStatus] = mapped_column(Enum(BookingStatus, name=\"booking_status\", schema=\"core\"))\n"
                ),
                (
                    "enums.py",
                    "class BookingStatus(enum.Enum):\n    pending = \"pending\"\n    confirmed = \"confirmed\"\n"
                ),
                ("m0.sql", TEXT_COLUMN),
            ]
        ));
    }
}
