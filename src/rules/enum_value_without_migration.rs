//! DG003 `enum-value-without-migration`.

use super::{Context, Migrated, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::{ModelColumn, ModelEnum, ModelTable};
use crate::rule::Rule;
use crate::schema::EnumType;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::EnumValueWithoutMigration,
    summary: "A model's enum has a value that the migrated PostgreSQL enum type lacks.",
    explanation: r#"## What it does
Finds values of a Python enum, stored by a mapped native `Enum(…)` column, that the PostgreSQL
enum type built by the migrations does not have. The type is the one the model names
(`Enum(BookingStatus, name="booking_status", schema="core")`); an unqualified name is looked up
in the table's schema, then the default schema, then any schema with a type of that name.
`native_enum=False` columns store a VARCHAR and are not checked. Each missing value is one
finding.

## Why is this bad?
The first write of the new value fails in every database built from the migrations:
`invalid input value for enum booking_status: "cancelled_by_chef"` (asyncpg says
`"cancelled_by_chef" is not an existing enum label`). The value usually arrives with a feature
that was tested against a local database where someone ran `ALTER TYPE` by hand, so it breaks
only after deploying. Remember that SQLAlchemy stores the member *names* (`CONFIRMED`), not
their values, unless the `Enum` has `values_callable`.

## Example
```python
class BookingStatus(enum.Enum):
    pending = "pending"
    confirmed = "confirmed"
    cancelled_by_chef = "cancelled_by_chef"

class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = {"schema": "core"}
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, name="booking_status", schema="core")
    )
```
with migrations that only ran
`CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');`.

## How to fix
Add a migration that adds the value:
`ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'cancelled_by_chef';`. Before
PostgreSQL 12 `ALTER TYPE … ADD VALUE` cannot run inside a transaction block, and in any
version the new value cannot be used in the transaction that adds it. If the value is never
written, remove it from the Python enum.
"#,
};

pub fn check(ctx: &Context) -> Vec<Finding> {
    missing_enum_values(ctx).iter().map(finding).collect()
}

/// A value of a model's enum that the enum type in a schema source lacks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MissingEnumValue<'a> {
    pub table: &'a ModelTable,
    pub column: &'a ModelColumn,
    pub model_enum: &'a ModelEnum,
    /// The column in the source that lacks the value.
    pub migrated: Migrated<'a>,
    /// The source's enum type the model's enum resolves to.
    pub enum_type: &'a EnumType,
    pub value: &'a str,
}

/// The one check behind DG003 (over the migrations) and DG103 (over a live database): each
/// value of a mapped native enum that the resolved enum type lacks, in the sources that have
/// the column and the type (where the type is missing, DG004 or DG104 speaks).
pub(crate) fn missing_enum_values<'a>(ctx: &Context<'a>) -> Vec<MissingEnumValue<'a>> {
    let mut missing = Vec::new();
    for table in ctx.checked() {
        for column in &table.columns {
            let Some(model_enum) = column.enum_type().filter(|e| e.native) else {
                continue;
            };
            let with_type: Vec<(Migrated, &EnumType)> = ctx
                .migrated_columns(table, column)
                .into_iter()
                .filter(|m| !m.source.is_sqlite_chain())
                .filter_map(|m| {
                    ctx.resolve_enum(m.source, table, model_enum)
                        .map(|e| (m, e))
                })
                .collect();
            for value in &model_enum.values {
                let per_source = with_type
                    .iter()
                    .map(|(m, e)| (*m, (!e.values.contains(value)).then_some(*e)))
                    .collect();
                if let Some((migrated, enum_type)) = ctx.decide(per_source) {
                    missing.push(MissingEnumValue {
                        table,
                        column,
                        model_enum,
                        migrated,
                        enum_type,
                        value,
                    });
                }
            }
        }
    }
    missing
}

fn finding(missing: &MissingEnumValue) -> Finding {
    let MissingEnumValue {
        table,
        column,
        migrated,
        enum_type,
        value,
        ..
    } = *missing;
    let qualified = format!("{}.{}", enum_type.schema, enum_type.name);
    let schema = &migrated.table.schema;
    Finding::new(
        Rule::EnumValueWithoutMigration,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()).with_enum_value(&qualified, value),
        format!(
            "the enum of `{}` has the value `{value}`, which no migration adds to `{qualified}`; writing it fails with `invalid input value for enum {}: \"{value}\"`",
            super::column_path(schema, table, column),
            enum_type.name
        ),
        super::fix_help("Add a migration that adds the value to the type"),
    )
    .with_suggestion(add_value_sql(&qualified, value))
    .with_related(vec![Related {
        message: format!("`{qualified}` is created here"),
        location: enum_type.location.clone(),
    }])
}

/// `ALTER TYPE s.t ADD VALUE IF NOT EXISTS 'v';`
pub(crate) fn add_value_sql(qualified: &str, value: &str) -> String {
    format!(
        "ALTER TYPE {qualified} ADD VALUE IF NOT EXISTS {};",
        super::sql_string(value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::MigrationSource;
    use crate::rules::test_support::{
        model_table, only, render_human, run, run_sources, set_enum, source, with_column,
    };

    fn bookings(schema: Option<&str>, name: &str, values: &[&str]) -> ModelTable {
        with_column(
            model_table(
                "core",
                "bookings",
                &[("id", "INTEGER"), ("status", "VARCHAR")],
            ),
            "status",
            |c| set_enum(c, schema, name, values),
        )
    }

    const CREATE: &str = "CREATE SCHEMA core;\nCREATE TABLE core.bookings (id serial primary key);\nCREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');\nALTER TABLE core.bookings ADD COLUMN status core.booking_status;";

    fn dg003(migrations: &[&str], table: ModelTable) -> Vec<Finding> {
        only(
            run(migrations, vec![table]),
            Rule::EnumValueWithoutMigration,
        )
    }

    #[test]
    fn each_missing_value_is_one_finding_at_the_column() {
        let table = bookings(
            Some("core"),
            "booking_status",
            &["pending", "confirmed", "cancelled_by_chef", "no_show"],
        );
        let findings = dg003(&[CREATE], table);
        assert_eq!(findings.len(), 2, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.location.line, 3);
        assert_eq!(f.target.r#enum.as_deref(), Some("core.booking_status"));
        assert_eq!(f.target.value.as_deref(), Some("cancelled_by_chef"));
        assert_eq!(
            f.suggestion.as_deref(),
            Some("ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'cancelled_by_chef';")
        );
        assert!(
            f.message
                .contains("invalid input value for enum booking_status: \"cancelled_by_chef\""),
            "{}",
            f.message
        );
        assert_eq!(
            f.related[0].message,
            "`core.booking_status` is created here"
        );
        assert_eq!(f.related[0].location.line, 3);
        assert_eq!(findings[1].target.value.as_deref(), Some("no_show"));
    }

    #[test]
    fn a_value_added_by_a_later_migration_is_there() {
        let table = bookings(
            Some("core"),
            "booking_status",
            &["pending", "confirmed", "cancelled_by_chef"],
        );
        let findings = dg003(
            &[
                CREATE,
                "ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'cancelled_by_chef' AFTER 'confirmed';",
            ],
            table,
        );
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn a_renamed_value_is_gone() {
        let table = bookings(Some("core"), "booking_status", &["pending", "confirmed"]);
        let findings = dg003(
            &[
                CREATE,
                "ALTER TYPE core.booking_status RENAME VALUE 'confirmed' TO 'accepted';",
            ],
            table,
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].target.value.as_deref(), Some("confirmed"));
    }

    #[test]
    fn an_unqualified_enum_is_found_in_the_tables_schema_then_anywhere() {
        let table = bookings(None, "booking_status", &["pending", "cancelled"]);
        let findings = dg003(&[CREATE], table);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].target.r#enum.as_deref(),
            Some("core.booking_status")
        );
        let elsewhere = "CREATE SCHEMA core; CREATE SCHEMA ref;\nCREATE TYPE ref.booking_status AS ENUM ('pending');\nCREATE TABLE core.bookings (id int, status ref.booking_status);";
        let table = bookings(None, "booking_status", &["pending", "cancelled"]);
        let findings = dg003(&[elsewhere], table);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].target.r#enum.as_deref(),
            Some("ref.booking_status")
        );
    }

    #[test]
    fn non_native_enums_missing_types_and_missing_columns_are_not_dg003() {
        let mut table = bookings(Some("core"), "booking_status", &["pending", "other"]);
        if let Some(e) = table.columns[1].enum_type_mut() {
            e.native = false;
        }
        assert!(dg003(&[CREATE], table).is_empty());
        // No type: DG004's business. No column: DG001's.
        let table = bookings(Some("core"), "booking_status", &["pending", "other"]);
        assert!(
            dg003(
                &["CREATE TABLE core.bookings (id int, status text);"],
                table.clone()
            )
            .is_empty()
        );
        assert!(
            dg003(
                &["CREATE TYPE core.booking_status AS ENUM ('pending'); CREATE TABLE core.bookings (id int);"],
                table
            )
            .is_empty()
        );
    }

    #[test]
    fn with_two_sources_only_a_value_both_lack_is_reported_unless_sources_are_declared() {
        let table = bookings(
            Some("core"),
            "booking_status",
            &["pending", "confirmed", "late"],
        );
        let old: MigrationSource = source("Alembic", "old", &[CREATE]);
        let new = source(
            "SQL migrations",
            "new",
            &[CREATE, "ALTER TYPE core.booking_status ADD VALUE 'late';"],
        );
        let sources = [old, new];
        let tables = [table];
        let zero_config = only(
            run_sources(&sources, &tables, false),
            Rule::EnumValueWithoutMigration,
        );
        assert!(zero_config.is_empty(), "{zero_config:?}");
        let declared = only(
            run_sources(&sources, &tables, true),
            Rule::EnumValueWithoutMigration,
        );
        assert_eq!(declared.len(), 1);
        assert_eq!(&*declared[0].related[0].location.path, "old0.sql");
    }

    #[test]
    fn a_chain_kept_for_sqlite_is_not_asked_for_enum_values() {
        // Prefect: a PostgreSQL chain adds the value, the SQLite chain (no enum types there)
        // never does. Declared as two sources, only the PostgreSQL one is judged.
        let table = bookings(Some("core"), "booking_status", &["pending", "late"]);
        let mut sqlite = source("Alembic (versions/sqlite)", "sqlite", &[CREATE]);
        sqlite.parts = vec![crate::rules::SourcePart {
            name: sqlite.name.clone(),
            files: vec!["db/versions/sqlite/0001_initial.py".to_string()],
        }];
        assert!(sqlite.is_sqlite_chain());
        let postgres = source(
            "Alembic (versions/postgresql)",
            "pg",
            &[CREATE, "ALTER TYPE core.booking_status ADD VALUE 'late';"],
        );
        assert!(!postgres.is_sqlite_chain());
        let tables = [table];
        let findings = only(
            run_sources(&[sqlite.clone(), postgres], &tables, true),
            Rule::EnumValueWithoutMigration,
        );
        assert!(findings.is_empty(), "{findings:?}");
        // Without the sibling, a SQLite chain is still not asked: it has no enum types at all.
        let findings = only(
            run_sources(&[sqlite], &tables, true),
            Rule::EnumValueWithoutMigration,
        );
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn human_rendering() {
        let table = bookings(
            Some("core"),
            "booking_status",
            &["pending", "confirmed", "cancelled_by_chef"],
        );
        let findings = dg003(&[CREATE], table);
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Booking(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    status: Mapped[BookingStatus] = mapped_column(Enum(BookingStatus, name=\"booking_status\", schema=\"core\"))\n"
                ),
                ("m0.sql", CREATE),
            ]
        ));
    }
}
