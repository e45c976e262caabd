//! DG008 `migration-will-fail`. The replay ([`crate::schema::replay_checked`]) runs each SQL
//! migration statement by statement, as `psql -f` does, and records what PostgreSQL would
//! reject given the schema the files before it built; this turns those failures into
//! findings. The replay, not this file, decides what fails: it is also what leaves the failed
//! statement (or its whole transaction) out of the schema the other rules compare with.

use super::{RuleMeta, in_file_target};
use crate::finding::{Finding, Related};
use crate::rule::Rule;
use crate::schema::Failure;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::MigrationWillFail,
    summary: "PostgreSQL rejects a statement of a SQL migration when the migrations run in order.",
    explanation: r#"## What it does
Runs the SQL migrations in order, statement by statement, against the schema the statements
before built, and reports (at the statement) what PostgreSQL would reject:

- `ALTER TABLE`, `ALTER COLUMN`, `DROP COLUMN` (without `IF EXISTS`), `COMMENT ON COLUMN` and
  `CREATE INDEX` on a column that does not exist, or on a table that the migrations create
  **later** or dropped **earlier** (a table no migration creates was made outside them, and
  exists);
- `ADD COLUMN` (without `IF NOT EXISTS`) of a column that exists, `CREATE TABLE` (without
  `IF NOT EXISTS`) of a table that exists, `CREATE TYPE` of a type that exists;
- a foreign key to a table or column that does not exist, or whose column type cannot be
  compared with the referenced key's (`uuid` → `integer`);
- `ALTER TYPE … ADD VALUE` inside `BEGIN … COMMIT` when `postgres_version` (config, default
  13) is below 12, and a new enum value used as a default in the transaction that added it.

Only the first error is reported, not the "current transaction is aborted" errors that follow
it. Statements whose outcome driftguard cannot know are left alone: `DO` blocks (they may catch
the error), `IF` conditions it cannot evaluate, statements it could not read, and columns of
tables made outside the migrations or by another migration source. Alembic revisions are not
checked.

## Why is this bad?
`psql -f` (without `ON_ERROR_STOP`) prints the error and goes on. Outside a transaction only the
failing statement is lost; inside `BEGIN … COMMIT` the whole transaction is rolled back —
earlier statements of the file included — and the `COMMIT` reports `ROLLBACK`. The migration
"ran", the deploy goes on, and the tables and columns it should have made are missing. driftguard
leaves them out of the schema it compares the models with, so the other rules report what the
models miss because of it.

## Example
```sql
BEGIN;
CREATE TABLE ai.conversations (id UUID PRIMARY KEY);
-- core.customers.id is INTEGER: the foreign key cannot be implemented, and the whole
-- transaction (ai.conversations included) is rolled back
CREATE TABLE ai.messages (
    id UUID PRIMARY KEY,
    customer_id UUID REFERENCES core.customers (id)
);
COMMIT;
```

## How to fix
Make the statement match the schema the earlier migrations build: the column type of the
referenced key, `IF [NOT] EXISTS` where the object may already be there or gone, the `CREATE`
before the `ALTER`. A migration that already ran somewhere must not be edited: add a new one
that does what the failed one meant to do.
"#,
};

/// One finding per failure.
pub fn check(failures: &[Failure]) -> Vec<Finding> {
    failures.iter().map(finding).collect()
}

fn finding(failure: &Failure) -> Finding {
    let path = &*failure.location.path;
    let consequence = match &failure.transaction {
        Some(_) => {
            "inside `BEGIN … COMMIT` the whole transaction is rolled back, and nothing it creates exists"
        }
        None => "`psql -f` skips the statement and goes on, and nothing it creates exists",
    };
    let mut related: Vec<Related> = failure
        .related
        .iter()
        .map(|(message, location)| Related {
            message: message.clone(),
            location: location.clone(),
        })
        .collect();
    if let Some((begin, ran)) = &failure.transaction {
        let earlier = match ran {
            0 => "no earlier statement of it changed the schema".to_string(),
            1 => "the 1 earlier statement of it that changes the schema is undone too".to_string(),
            n => format!("the {n} earlier statements of it that change the schema are undone too"),
        };
        related.push(Related {
            message: format!("the transaction opened here is rolled back: {earlier}"),
            location: begin.clone(),
        });
    }
    Finding::new(
        Rule::MigrationWillFail,
        failure.location.clone(),
        in_file_target(path, &format!("statement {}", failure.ordinal)),
        format!(
            "PostgreSQL rejects this statement when the migrations run in order: `{}`; {consequence}",
            failure.error
        ),
        "Change the statement to fit the schema the earlier migrations build (or add a new migration that does what this one meant to, if it already ran somewhere).",
    )
    .with_related(related)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::sql::read;
    use crate::rules::test_support::render_human;
    use crate::schema::{FileEvents, SourceEvents, replay_checked};
    use crate::source::SourceFile;

    /// The failures and the schema of SQL files `m1.sql`, `m2.sql` … run in order.
    fn run(files: &[&str], postgres_version: u32) -> crate::schema::Replayed {
        let events: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, text)| read(&SourceFile::new(format!("m{}.sql", i + 1), *text)))
            .collect();
        let source = SourceEvents {
            skipped: 0,
            name: "SQL migrations",
            default_schema: "public",
            files: events
                .iter()
                .map(|e| FileEvents {
                    changes: &e.changes,
                    statements: &e.facts.statements,
                    warnings: &e.warnings,
                })
                .collect(),
            ordered: None,
        };
        replay_checked(&[source], postgres_version)
    }

    /// `file:ordinal error` of each failure.
    fn failures(files: &[&str]) -> Vec<String> {
        run(files, 13)
            .failures
            .iter()
            .map(|f| format!("{}:{} {}", f.location.path, f.ordinal, f.error))
            .collect()
    }

    const BASE: &str =
        "CREATE SCHEMA core;\nCREATE TABLE core.customers (id SERIAL PRIMARY KEY, email TEXT);\n";

    #[test]
    fn each_kind_of_failure_is_found_at_its_statement() {
        let found = failures(&[
            BASE,
            "ALTER TABLE core.customers ADD COLUMN email TEXT;\n\
             ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS email TEXT;\n\
             ALTER TABLE core.customers ALTER COLUMN phone SET NOT NULL;\n\
             ALTER TABLE core.customers DROP COLUMN phone;\n\
             ALTER TABLE core.customers DROP COLUMN IF EXISTS phone;\n\
             COMMENT ON COLUMN core.customers.phone IS 'x';\n\
             CREATE INDEX ix ON core.customers (phone);\n\
             CREATE TABLE core.customers (id INT);\n\
             CREATE TABLE IF NOT EXISTS core.customers (id INT);\n\
             CREATE TYPE core.mood AS ENUM ('a');\n\
             CREATE TYPE core.mood AS ENUM ('b');\n\
             CREATE TABLE core.notes (id UUID PRIMARY KEY, customer_id UUID REFERENCES core.customers (id));\n\
             CREATE TABLE core.tags (id INT, customer_id INT REFERENCES core.customers (nope));\n\
             ALTER TABLE core.later ADD COLUMN x INT;\n",
            "CREATE TABLE core.later (id INT);\nALTER TABLE auth.users ADD COLUMN x INT;\n",
        ]);
        assert_eq!(
            found,
            [
                "m2.sql:1 column \"email\" of relation \"customers\" already exists",
                "m2.sql:3 column \"phone\" of relation \"customers\" does not exist",
                "m2.sql:4 column \"phone\" of relation \"customers\" does not exist",
                "m2.sql:6 column \"phone\" of relation \"customers\" does not exist",
                "m2.sql:7 column \"phone\" does not exist",
                "m2.sql:8 relation \"customers\" already exists",
                "m2.sql:11 type \"mood\" already exists",
                "m2.sql:12 foreign key constraint cannot be implemented: key columns \"customer_id\" and \"id\" are of incompatible types: uuid and integer",
                "m2.sql:13 column \"nope\" referenced in foreign key constraint does not exist",
                "m2.sql:14 relation \"core.later\" does not exist",
            ]
        );
    }

    #[test]
    fn a_failure_in_a_transaction_voids_it_and_what_it_made_does_not_count() {
        let replayed = run(
            &[
                BASE,
                "BEGIN;\nCREATE SCHEMA ai;\nCREATE TABLE ai.conversations (id UUID PRIMARY KEY);\nCREATE TABLE ai.messages (id UUID PRIMARY KEY, customer_id UUID REFERENCES core.customers (id));\nALTER TABLE ai.messages ADD COLUMN body TEXT;\nCOMMIT;\nCREATE TABLE core.after (id INT);\n",
            ],
            13,
        );
        let f: Vec<_> = replayed
            .failures
            .iter()
            .map(|f| (f.ordinal, f.transaction.as_ref().map(|t| (t.0.line, t.1))))
            .collect();
        // Only the first error: the ALTER after it is the aborted transaction's cascade.
        assert_eq!(f, [(4, Some((1, 2)))]);
        assert!(replayed.schema.table("ai", "conversations").is_none());
        assert!(!replayed.schema.schemas.contains("ai"));
        assert!(replayed.schema.table("core", "after").is_some());
    }

    #[test]
    fn a_failure_outside_a_transaction_loses_only_its_own_statement() {
        let replayed = run(
            &[
                BASE,
                "ALTER TABLE core.customers ADD COLUMN a INT, ADD COLUMN email TEXT;\nALTER TABLE core.customers ADD COLUMN b INT;\n",
            ],
            13,
        );
        assert_eq!(replayed.failures.len(), 1);
        let customers = replayed.schema.table("core", "customers").unwrap();
        assert!(
            customers.column("a").is_none(),
            "the failed statement is void as a whole"
        );
        assert!(customers.column("b").is_some());
    }

    #[test]
    fn add_value_in_a_transaction_fails_before_postgresql_12_and_its_use_after() {
        let files = [
            "CREATE TYPE mood AS ENUM ('a');\nCREATE TABLE t (id INT);\n",
            "BEGIN;\nALTER TYPE mood ADD VALUE 'b';\nALTER TABLE t ADD COLUMN m mood DEFAULT 'b';\nCOMMIT;\n",
        ];
        let old: Vec<_> = run(&files, 11)
            .failures
            .iter()
            .map(|f| f.error.clone())
            .collect();
        assert_eq!(
            old,
            ["ALTER TYPE ... ADD cannot run inside a transaction block"]
        );
        let new: Vec<_> = run(&files, 13)
            .failures
            .iter()
            .map(|f| f.error.clone())
            .collect();
        assert_eq!(new, ["unsafe use of new value \"b\" of enum type mood"]);
        let replayed = run(&files, 13);
        assert_eq!(
            replayed.schema.enum_type("public", "mood").unwrap().values,
            ["a"]
        );
    }

    #[test]
    fn what_cannot_be_known_is_not_reported() {
        let found = failures(&[
            BASE,
            // A DO block may catch the error; a guard it cannot evaluate may be false; a table
            // made outside the migrations has columns driftguard does not know; an
            // unreadable statement may have created the column.
            "DO $$ BEGIN ALTER TABLE core.customers ADD COLUMN email TEXT; EXCEPTION WHEN duplicate_column THEN NULL; END $$;\n\
             ALTER TABLE auth.users ALTER COLUMN name SET NOT NULL;\n\
             COMMENT ON COLUMN auth.users.name IS 'x';\n\
             CREATE TABLE core.odd (id INT, weird ??? stuff);\n\
             ALTER TABLE core.odd ALTER COLUMN weird SET NOT NULL;\n",
        ]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn an_unqualified_create_after_a_search_path_does_not_make_another_schema_s_table_missing() {
        let found = failures(&[
            "CREATE SCHEMA app;\nSET search_path TO app;\nCREATE TABLE users (id INT);\n",
            "ALTER TABLE auth.users ADD COLUMN nickname TEXT;\n",
        ]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn snapshot_human() {
        let migration = "BEGIN;\nCREATE TABLE core.notes (id UUID PRIMARY KEY);\nCREATE TABLE core.note_owners (\n    note_id UUID REFERENCES core.notes (id),\n    customer_id UUID REFERENCES core.customers (id)\n);\nCOMMIT;\n";
        let replayed = run(&[BASE, migration], 13);
        let findings = check(&replayed.failures);
        insta::assert_snapshot!(render_human(
            findings,
            &[("m1.sql", BASE), ("m2.sql", migration)]
        ));
    }
}
