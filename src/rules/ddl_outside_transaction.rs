//! DG203 `ddl-outside-transaction` (handbook group, off by default).

use super::RuleMeta;
use crate::finding::{Finding, Related};
use crate::migrations::StatementKind;
use crate::migrations::sources::SqlMigration;
use crate::rule::Rule;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::DdlOutsideTransaction,
    summary: "A SQL migration changes the schema outside `BEGIN; … COMMIT;`.",
    explanation: r#"## What it does
Finds schema changes (`CREATE`, `ALTER`, `DROP`, `COMMENT`, `DO` blocks) in a SQL migration that
run outside a `BEGIN; … COMMIT;` transaction, and reports the file once, at the first of them.
`ALTER TYPE … ADD VALUE` and `CREATE INDEX CONCURRENTLY` are left alone: PostgreSQL runs them
outside a transaction (before version 12 it must for `ADD VALUE`). Part of the handbook group: on
with `rules: {handbook: warning}`.

## Why is this bad?
`psql -f` runs each statement on its own. When the fifth of ten statements fails, the first four
stay applied and the rest do not: the database is half migrated, and running the file again
fails on what already exists. In a transaction, a failure rolls the whole migration back.

## Example
```sql
ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);
CREATE INDEX IF NOT EXISTS idx_customers_contact ON core.customers (contact_preference);
```

## How to fix
Wrap the changes in `BEGIN;` … `COMMIT;`, as the handbook's template does (`driftguard fix`
writes it that way).
"#,
};

fn is_schema_change(kind: &StatementKind) -> bool {
    match kind {
        StatementKind::Ddl | StatementKind::CommentOnColumn { .. } | StatementKind::Do { .. } => {
            true
        }
        StatementKind::CreateIndex { concurrently, .. } => !concurrently,
        StatementKind::Begin
        | StatementKind::Commit
        | StatementKind::Rollback
        | StatementKind::AlterTypeAddValue
        | StatementKind::Other => false,
    }
}

pub fn check(files: &[&SqlMigration]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let outside: Vec<_> = file
            .events
            .facts
            .statements
            .iter()
            .filter(|s| !s.in_transaction && is_schema_change(&s.kind))
            .collect();
        let Some(first) = outside.first() else {
            continue;
        };
        let count = outside.len();
        let related = outside
            .iter()
            .skip(1)
            .take(3)
            .map(|s| Related {
                message: "also outside a transaction".to_string(),
                location: s.location.clone(),
            })
            .collect();
        findings.push(
            Finding::new(
                Rule::DdlOutsideTransaction,
                first.location.clone(),
                super::file_target(file.path),
                format!(
                    "{count} schema change{} of this migration run{} outside `BEGIN; … COMMIT;`: if one fails, the ones before it stay applied and the file cannot simply run again",
                    if count == 1 { "" } else { "s" },
                    if count == 1 { "s" } else { "" }
                ),
                "Wrap the migration's changes in `BEGIN;` … `COMMIT;`.",
            )
            .with_related(related),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::render_human;
    use crate::source::SourceFile;

    fn run(text: &str) -> Vec<Finding> {
        let events = crate::migrations::sql::read(&SourceFile::new("m.sql", text));
        let file = SqlMigration {
            path: "m.sql",
            source: None,
            events: &events,
        };
        check(&[&file])
    }

    #[test]
    fn changes_outside_a_transaction_are_one_finding_per_file() {
        assert!(run("BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n").is_empty());
        assert!(run("ALTER TYPE s ADD VALUE 'x';\nCREATE INDEX CONCURRENTLY i ON t (a);\nINSERT INTO t VALUES (1);\n").is_empty());
        let findings = run(
            "CREATE TABLE t (id int);\nBEGIN;\nALTER TABLE t ADD c int;\nCOMMIT;\nDROP TABLE u;\n",
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].location.line, 1);
        assert!(
            findings[0].message.starts_with("2 schema changes"),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].related[0].location.line, 5);
    }

    #[test]
    fn human_rendering() {
        let text = "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS x int;\nCOMMENT ON COLUMN core.customers.x IS 'x';\n";
        insta::assert_snapshot!(render_human(run(text), &[("m.sql", text)]));
    }
}
