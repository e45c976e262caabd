//! DG007 `foreign-key-target-missing`.

use super::{Context, Migrated, MigrationSource, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::{ModelColumn, ModelTable};
use crate::rule::Rule;
use crate::schema::{Origin, Table};

pub const META: RuleMeta = RuleMeta {
    rule: Rule::ForeignKeyTargetMissing,
    summary: "A model's foreign key points at a table or column that no migration creates.",
    explanation: r#"## What it does
Reads every `ForeignKey("core.customers.id")` of a mapped column whose table and column the
migrations create, and checks that the migrations also create the table and column it points
at. `ForeignKey("customers.id")` names a table in the referring table's schema, else in the
default schema; a name that is a mapped class (`"Customer.id"`) stands for its table.

## Why is this bad?
The foreign key cannot be created where the parent table is missing — `relation
"core.customers" does not exist` is the handbook's "Foreign Key Reference Missing" — and joins
and relationships through it fail with the same error at run time. A missing column fails
with `column "id" referenced in foreign key constraint does not exist`. Locally the parent
table often exists because `create_all()` or a hand-written statement made it.

## Example
```python
class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = {"schema": "core"}
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core.customers.id"))
```
with migrations that create `core.reviews` but never `core.customers`.

## How to fix
Add the migration that creates the parent table (or column), ordered before the tables that
reference it, or point the foreign key at the table that exists (a wrong schema is the usual
slip). If the parent table is created outside the migrations on purpose (`auth.users` in
Supabase), list it under `ignore:` in `driftguard.yml` (`auth.users`): findings whose
foreign key points at an ignored table or column are not reported.
"#,
};

/// What the foreign key points at that the migrations lack.
#[derive(Debug, Clone)]
enum Missing<'a> {
    Table {
        schema: String,
        table: String,
        column: String,
    },
    Column {
        table: &'a Table,
        column: String,
    },
}

impl Missing<'_> {
    /// `schema.table.column`, as resolved.
    fn reference(&self) -> String {
        match self {
            Missing::Table {
                schema,
                table,
                column,
            } => format!("{schema}.{table}.{column}"),
            Missing::Column { table, column } => {
                format!("{}.{}.{column}", table.schema, table.name)
            }
        }
    }
}

pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in ctx.checked() {
        for column in &table.columns {
            for written in column.foreign_keys() {
                let Some(reference) = parse(written) else {
                    continue;
                };
                let per_source = ctx
                    .migrated_columns(table, column)
                    .into_iter()
                    .map(|m| {
                        let missing = missing(ctx, table, m.source, &reference);
                        (m, missing)
                    })
                    .collect();
                if let Some((migrated, missing)) = ctx.decide(per_source) {
                    findings.push(finding(ctx, table, column, written, &migrated, &missing));
                }
            }
        }
    }
    findings
}

/// A foreign key target as written: `core.customers.id`, `customers.id`.
#[derive(Debug, Clone, PartialEq)]
struct Reference<'a> {
    schema: Option<&'a str>,
    table: &'a str,
    column: &'a str,
}

/// The table (or mapped class) a foreign key's text names, as this rule reads it; `None` when
/// the rule reads nothing of it.
pub(crate) fn referenced_table(text: &str) -> Option<&str> {
    parse(text).map(|reference| reference.table)
}

/// `None` for what cannot be a `[schema.]table.column` name (quoted names included).
fn parse(text: &str) -> Option<Reference<'_>> {
    if text.contains('"') {
        return None;
    }
    let (rest, column) = text.rsplit_once('.')?;
    let (schema, table) = match rest.rsplit_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, rest),
    };
    if column.is_empty() || table.is_empty() || schema.is_some_and(str::is_empty) {
        return None;
    }
    Some(Reference {
        schema,
        table,
        column,
    })
}

/// What of the reference the source lacks, if anything.
fn missing<'a>(
    ctx: &Context,
    referring: &ModelTable,
    source: &'a MigrationSource,
    reference: &Reference,
) -> Option<Missing<'a>> {
    let mut candidates = Vec::new();
    let mut push = |schema: String, table: String| {
        if !candidates.contains(&(schema.clone(), table.clone())) {
            candidates.push((schema, table));
        }
    };
    match reference.schema {
        Some(schema) => push(schema.to_string(), reference.table.to_string()),
        None => {
            push(
                ctx.schema_of(referring, Some(source)),
                reference.table.to_string(),
            );
            push(source.default_schema.clone(), reference.table.to_string());
        }
    }
    // `ForeignKey("Customer.id")`: a mapped class stands for its table.
    if reference.schema.is_none()
        && let Some(model) = ctx.class_named(reference.table)
    {
        push(ctx.schema_of(model, Some(source)), model.name.clone());
    }
    // A table made outside the migrations (only altered by them, or declared `external:`)
    // has columns no migration shows: any of them may be the target.
    if candidates
        .iter()
        .any(|(schema, table)| ctx.is_external(schema, table))
    {
        return None;
    }
    let found = candidates
        .iter()
        .find_map(|(schema, table)| source.schema.table(schema, table));
    match found {
        Some(table) if table.origin == Origin::Outside => None,
        Some(table) if table.column(reference.column).is_some() => None,
        Some(table) => Some(Missing::Column {
            table,
            column: reference.column.to_string(),
        }),
        None => {
            let (schema, table) = candidates.into_iter().next()?;
            Some(Missing::Table {
                schema,
                table,
                column: reference.column.to_string(),
            })
        }
    }
}

fn finding(
    ctx: &Context,
    table: &ModelTable,
    column: &ModelColumn,
    written: &str,
    migrated: &Migrated,
    missing: &Missing,
) -> Finding {
    let schema = &migrated.table.schema;
    let path = super::column_path(schema, table, column);
    let reference = missing.reference();
    let mapped = |target_schema: &str, target_table: &str| {
        ctx.tables.iter().find(|t| {
            t.name == target_table && ctx.schema_of(t, Some(migrated.source)) == target_schema
        })
    };
    let (message, help, suggestion, related) = match missing {
        Missing::Table {
            schema: target_schema,
            table: target_table,
            ..
        } => {
            let mut related = Vec::new();
            for other in migrated.source.schema.tables_named(target_table) {
                related.push(Related {
                    message: format!(
                        "a migration creates `{}.{}` — wrong schema?",
                        other.schema, other.name
                    ),
                    location: other.location.clone(),
                });
            }
            (
                format!(
                    "`{path}` references `{written}`, but no migration creates `{target_schema}.{target_table}`: the foreign key and joins through it fail with `relation \"{target_schema}.{target_table}\" does not exist`"
                ),
                format!(
                    "Add a migration that creates `{target_schema}.{target_table}` before the tables that reference it, or point the foreign key at a table that exists."
                ),
                mapped(target_schema, target_table).map(|model| {
                    super::table_without_migration::create_table_sql_in(
                        target_schema,
                        model,
                        &[&migrated.source.schema],
                        &migrated.source.default_schema,
                    )
                }),
                related,
            )
        }
        Missing::Column {
            table: target,
            column: target_column,
        } => {
            let model_column = mapped(&target.schema, &target.name)
                .and_then(|model| model.columns.iter().find(|c| c.name == *target_column));
            (
                format!(
                    "`{path}` references `{written}`, but no migration creates the column `{target_column}` of `{}.{}`: the foreign key fails with `column \"{target_column}\" referenced in foreign key constraint does not exist`",
                    target.schema, target.name
                ),
                format!(
                    "Add a migration that creates `{reference}`, or point the foreign key at a column that exists."
                ),
                model_column.map(|c| {
                    super::column_without_migration::add_column_sql(&target.schema, &target.name, c)
                }),
                vec![Related {
                    message: format!("`{}.{}` is created here", target.schema, target.name),
                    location: target.location.clone(),
                }],
            )
        }
    };
    Finding {
        suggestion,
        ..Finding::new(
            Rule::ForeignKeyTargetMissing,
            column.location.clone(),
            Target::column(schema, &table.name, column.name.as_str()).with_references(reference),
            message,
            help,
        )
        .with_related(related)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{
        model_table, only, render_human, run, run_sources, source, with_column,
    };

    /// `core.reviews` with `customer_id` → `target`.
    fn reviews(target: &str) -> ModelTable {
        with_column(
            model_table(
                "core",
                "reviews",
                &[("id", "INTEGER"), ("customer_id", "INTEGER")],
            ),
            "customer_id",
            |c| c.set_foreign_keys(vec![target.to_string()]),
        )
    }

    const REVIEWS: &str = "CREATE SCHEMA core;\nCREATE TABLE core.reviews (\n    id serial primary key,\n    customer_id integer\n);";

    fn dg007(migrations: &[&str], tables: Vec<ModelTable>) -> Vec<Finding> {
        only(run(migrations, tables), Rule::ForeignKeyTargetMissing)
    }

    #[test]
    fn a_missing_parent_table_is_reported_at_the_column() {
        let findings = dg007(&[REVIEWS], vec![reviews("core.customers.id")]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.location.line, 3);
        assert_eq!(f.target.column.as_deref(), Some("customer_id"));
        assert_eq!(f.target.references.as_deref(), Some("core.customers.id"));
        assert!(
            f.message
                .contains("`relation \"core.customers\" does not exist`"),
            "{}",
            f.message
        );
        // No model maps core.customers: nothing to suggest.
        assert_eq!(f.suggestion, None);
    }

    #[test]
    fn a_mapped_parent_table_is_suggested_and_one_in_another_schema_pointed_at() {
        let customers = model_table("core", "customers", &[("id", "INTEGER")]);
        let findings = dg007(
            &[REVIEWS, "CREATE TABLE customers (id serial primary key);"],
            vec![reviews("core.customers.id"), customers],
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(
            findings[0].suggestion.as_deref(),
            Some("CREATE TABLE IF NOT EXISTS core.customers (\n    id INTEGER PRIMARY KEY\n);")
        );
        assert_eq!(
            findings[0].related[0].message,
            "a migration creates `public.customers` — wrong schema?"
        );
    }

    #[test]
    fn a_missing_parent_column_points_at_the_table() {
        let findings = dg007(
            &[
                REVIEWS,
                "CREATE TABLE core.customers (customer_id serial primary key);",
            ],
            vec![reviews("core.customers.id")],
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert!(f.message.contains("the column `id` of `core.customers`"));
        assert_eq!(f.related[0].message, "`core.customers` is created here");
        assert_eq!(&*f.related[0].location.path, "m1.sql");
    }

    #[test]
    fn unqualified_targets_look_in_the_referring_schema_then_the_default_schema() {
        let in_core = "CREATE TABLE core.customers (id serial primary key);";
        assert!(dg007(&[REVIEWS, in_core], vec![reviews("customers.id")]).is_empty());
        let in_public = "CREATE TABLE customers (id serial primary key);";
        assert!(dg007(&[REVIEWS, in_public], vec![reviews("customers.id")]).is_empty());
        let findings = dg007(&[REVIEWS], vec![reviews("customers.id")]);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].target.references.as_deref(),
            Some("core.customers.id")
        );
        // A qualified name is looked up only where it says.
        assert_eq!(
            dg007(&[REVIEWS, in_public], vec![reviews("core.customers.id")]).len(),
            1
        );
    }

    #[test]
    fn a_class_name_stands_for_its_table() {
        let mut customers = model_table("core", "customers", &[("id", "INTEGER")]);
        customers.class_name = Some("Customer".to_string());
        let findings = dg007(
            &[
                REVIEWS,
                "CREATE TABLE core.customers (id serial primary key);",
            ],
            vec![reviews("Customer.id"), customers],
        );
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn existing_targets_unreadable_names_and_missing_columns_are_not_reported() {
        let created = "CREATE TABLE core.customers (id serial primary key);";
        assert!(dg007(&[REVIEWS, created], vec![reviews("core.customers.id")]).is_empty());
        assert!(dg007(&[REVIEWS], vec![reviews("customers")]).is_empty());
        assert!(dg007(&[REVIEWS], vec![reviews(".id")]).is_empty());
        assert!(dg007(&[REVIEWS], vec![reviews("\"Core\".\"Customers\".id")]).is_empty());
        // The referring column itself is missing: DG001's finding.
        let findings = run(
            &["CREATE TABLE core.reviews (id int);"],
            vec![reviews("core.customers.id")],
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rule, Rule::ColumnWithoutMigration);
    }

    #[test]
    fn each_foreign_key_of_a_column_is_its_own_finding() {
        let table = with_column(reviews("core.customers.id"), "customer_id", |c| {
            c.add_foreign_key("core.accounts.id".to_string());
        });
        let findings = dg007(&[REVIEWS], vec![table]);
        assert_eq!(findings.len(), 2, "{findings:?}");
    }

    #[test]
    fn with_two_sources_the_parent_must_be_where_the_child_is() {
        let tables = [reviews("core.customers.id")];
        let sources = [
            source("Alembic", "old", &[REVIEWS]),
            source(
                "SQL migrations",
                "new",
                &[REVIEWS, "CREATE TABLE core.customers (id int);"],
            ),
        ];
        let found = |declared| {
            only(
                run_sources(&sources, &tables, declared),
                Rule::ForeignKeyTargetMissing,
            )
        };
        assert!(found(false).is_empty());
        assert_eq!(found(true).len(), 1);
    }

    #[test]
    fn human_rendering() {
        let findings = dg007(
            &[
                REVIEWS,
                "CREATE TABLE core.customers (customer_id serial primary key);",
            ],
            vec![reviews("core.customers.id")],
        );
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Review(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    customer_id: Mapped[int] = mapped_column(ForeignKey(\"core.customers.id\"))\n"
                ),
                ("m0.sql", REVIEWS),
                (
                    "m1.sql",
                    "CREATE TABLE core.customers (customer_id serial primary key);"
                ),
            ]
        ));
    }
}
