//! DG006 `nullability-mismatch`.

use super::{Context, Migrated, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::{ModelColumn, ModelTable};
use crate::rule::Rule;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::NullabilityMismatch,
    summary: "A model's column and the migrated column disagree about NULL.",
    explanation: r#"## What it does
Compares whether a model column may be NULL with whether the migrated column may, for columns
whose table and column the migrations create. Two disagreements are reported:

- the model says NOT NULL (`nullable=False`, or `Mapped[T]` without `Optional`) while the
  migrated column allows NULL;
- the model allows NULL (`nullable=True`, `Optional[T]`) while the migrated column is
  NOT NULL, has no `DEFAULT`, and the model sets no `server_default`.

Primary keys are skipped (they are NOT NULL on both sides), and so are columns whose
nullability driftguard cannot tell from the model.

## Why is this bad?
In the first case rows written by other code, backfills or older versions can hold NULL, and
the code reads back `None` where its type says it never does: `AttributeError: 'NoneType'
object has no attribute …` far from the cause. In the second case, every insert that leaves
the attribute `None` fails in production with `null value in column "…" of relation "…"
violates not-null constraint`, while tests on a `create_all()` database pass. A Python-side
`default=` covers inserts that never set the attribute, not those that set it to `None`.

## Example
```python
class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}
    phone: Mapped[Optional[str]] = mapped_column(String(20))
```
with a migration that ran `ALTER TABLE core.customers ADD COLUMN phone VARCHAR(20) NOT NULL;`.

## How to fix
Make the two agree. Either change the column in a migration
(`ALTER TABLE core.customers ALTER COLUMN phone DROP NOT NULL;`, or `SET NOT NULL` after
filling its NULLs), or change the model (`nullable=False`, or drop `Optional`). Give a
NOT NULL column a `DEFAULT` or the model a `server_default=` when the database fills it in.
The rule is a warning by default; `rules: {DG006: error}` or `"off"` in `driftguard.yml`
changes that.
"#,
};

/// Which side allows NULL.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Disagreement {
    /// The model says NOT NULL; the column allows NULL.
    ColumnAllowsNull,
    /// The model allows NULL; the column is NOT NULL without a default.
    ColumnRejectsNull,
}

pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in ctx.checked() {
        for column in &table.columns {
            if column.primary_key {
                continue;
            }
            let Some(model_nullable) = column.nullable else {
                continue;
            };
            let per_source = ctx
                .migrated_columns(table, column)
                .into_iter()
                .map(|m| {
                    let found = match (model_nullable, m.column.nullable) {
                        (false, true) => Some(Disagreement::ColumnAllowsNull),
                        (true, false) if m.column.default.is_none() && !column.server_default => {
                            Some(Disagreement::ColumnRejectsNull)
                        }
                        _ => None,
                    };
                    (m, found)
                })
                .collect();
            if let Some((migrated, disagreement)) = ctx.decide(per_source) {
                findings.push(finding(table, column, &migrated, disagreement));
            }
        }
    }
    findings
}

fn finding(
    table: &ModelTable,
    column: &ModelColumn,
    migrated: &Migrated,
    disagreement: Disagreement,
) -> Finding {
    let schema = &migrated.table.schema;
    let path = super::column_path(schema, table, column);
    let alter = format!(
        "ALTER TABLE {schema}.{} ALTER COLUMN {}",
        table.name, column.name
    );
    let (lets, makes) = if migrated.source.live {
        ("the database lets", "the database makes")
    } else {
        ("the migrations let", "the migrations make")
    };
    let (message, help, suggestion) = match disagreement {
        Disagreement::ColumnAllowsNull => (
            format!(
                "`{path}` is NOT NULL in the model but {lets} it hold NULL: rows with NULL read back as `None` where the code expects a value"
            ),
            "Make the column NOT NULL in a migration after filling its NULLs, or let the model column be None (`nullable=True`, `Optional[…]`).".to_string(),
            format!("{alter} SET NOT NULL;"),
        ),
        Disagreement::ColumnRejectsNull => (
            format!(
                "`{path}` may be NULL in the model but {makes} it NOT NULL without a default: inserting None fails with `null value in column \"{}\" of relation \"{}\" violates not-null constraint`",
                column.name, table.name
            ),
            "Drop NOT NULL in a migration, or make the model column non-nullable (`nullable=False`).".to_string(),
            format!("{alter} DROP NOT NULL;"),
        ),
    };
    Finding::new(
        Rule::NullabilityMismatch,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()),
        message,
        help,
    )
    .with_suggestion(suggestion)
    .with_related(vec![Related {
        message: migrated.source.column_label(&path),
        location: migrated.column.location.clone(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{
        model_table, only, render_human, run, run_sources, source, with_column,
    };

    /// A model `core.customers` whose `phone` column has the given nullability.
    fn customers(nullable: Option<bool>) -> ModelTable {
        with_column(
            model_table(
                "core",
                "customers",
                &[("id", "INTEGER"), ("phone", "VARCHAR(20)")],
            ),
            "phone",
            |c| c.nullable = nullable,
        )
    }

    fn dg006(migration: &str, table: ModelTable) -> Vec<Finding> {
        only(run(&[migration], vec![table]), Rule::NullabilityMismatch)
    }

    const NULLABLE: &str =
        "CREATE TABLE core.customers (id serial primary key, phone varchar(20));";
    const NOT_NULL: &str =
        "CREATE TABLE core.customers (id serial primary key, phone varchar(20) not null);";

    #[test]
    fn a_model_not_null_column_that_the_database_lets_be_null() {
        let findings = dg006(NULLABLE, customers(Some(false)));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].location.line, 3);
        assert_eq!(
            findings[0].suggestion.as_deref(),
            Some("ALTER TABLE core.customers ALTER COLUMN phone SET NOT NULL;")
        );
        assert!(findings[0].message.contains("read back as `None`"));
    }

    #[test]
    fn a_nullable_model_column_that_the_database_rejects_null_for() {
        let findings = dg006(NOT_NULL, customers(Some(true)));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(
            findings[0].suggestion.as_deref(),
            Some("ALTER TABLE core.customers ALTER COLUMN phone DROP NOT NULL;")
        );
        assert!(findings[0].message.contains(
            "`null value in column \"phone\" of relation \"customers\" violates not-null constraint`"
        ));
        // A later SET NOT NULL counts, a later DROP NOT NULL closes the gap.
        assert_eq!(
            only(
                run(
                    &[
                        NULLABLE,
                        "ALTER TABLE core.customers ALTER COLUMN phone SET NOT NULL;"
                    ],
                    vec![customers(Some(true))]
                ),
                Rule::NullabilityMismatch
            )
            .len(),
            1
        );
        assert!(
            only(
                run(
                    &[
                        NOT_NULL,
                        "ALTER TABLE core.customers ALTER COLUMN phone DROP NOT NULL;"
                    ],
                    vec![customers(Some(true))]
                ),
                Rule::NullabilityMismatch
            )
            .is_empty()
        );
    }

    #[test]
    fn defaults_on_either_side_let_the_database_fill_in() {
        let with_default = "CREATE TABLE core.customers (id serial primary key, phone varchar(20) not null default '');";
        assert!(dg006(with_default, customers(Some(true))).is_empty());
        let table = with_column(customers(Some(true)), "phone", |c| c.server_default = true);
        assert!(dg006(NOT_NULL, table).is_empty());
    }

    #[test]
    fn agreement_primary_keys_and_unknown_nullability_are_not_reported() {
        assert!(dg006(NULLABLE, customers(Some(true))).is_empty());
        assert!(dg006(NOT_NULL, customers(Some(false))).is_empty());
        assert!(dg006(NULLABLE, customers(None)).is_empty());
        assert!(dg006(NOT_NULL, customers(None)).is_empty());
        // The model's id is a primary key; `id int` in the migration is nullable.
        let table = model_table("core", "customers", &[("id", "INTEGER")]);
        let table = with_column(table, "id", |c| c.nullable = Some(false));
        assert!(dg006("CREATE TABLE core.customers (id int);", table).is_empty());
        // No column: DG001's finding.
        assert!(
            dg006(
                "CREATE TABLE core.customers (id int);",
                customers(Some(false))
            )
            .is_empty()
        );
    }

    #[test]
    fn with_two_sources_a_source_that_agrees_wins_unless_sources_are_declared() {
        let tables = [customers(Some(false))];
        let sources = [
            source("Alembic", "old", &[NULLABLE]),
            source("SQL migrations", "new", &[NOT_NULL]),
        ];
        let found = |declared| {
            only(
                run_sources(&sources, &tables, declared),
                Rule::NullabilityMismatch,
            )
        };
        assert!(found(false).is_empty());
        assert_eq!(found(true).len(), 1);
    }

    #[test]
    fn human_rendering() {
        let findings = dg006(NOT_NULL, customers(Some(true)));
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Customer(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    phone: Mapped[Optional[str]] = mapped_column(String(20))\n"
                ),
                ("m0.sql", NOT_NULL),
            ]
        ));
    }
}
