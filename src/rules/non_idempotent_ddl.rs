//! DG204 `non-idempotent-ddl` (handbook group, off by default).

use super::RuleMeta;
use crate::finding::Finding;
use crate::migrations::sources::SqlMigration;
use crate::migrations::{Condition, SchemaChange, StatementKind};
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::NonIdempotentDdl,
    summary: "A SQL migration's `ADD COLUMN`, `CREATE TABLE` or `CREATE INDEX` fails when it runs twice.",
    explanation: r#"## What it does
Finds `ALTER TABLE … ADD COLUMN`, `CREATE TABLE` and `CREATE INDEX` statements in SQL migrations
that have neither `IF NOT EXISTS` nor a guard: an `IF [NOT] EXISTS (SELECT … FROM
information_schema …)` around them in a `DO` block, or a `DO` block that catches
`duplicate_column` / `duplicate_table` / `duplicate_object`. Part of the handbook group: on with
`rules: {handbook: warning}`.

## Why is this bad?
The handbook's migrations are applied by hand, on staging and then on production, and a
migration is often run again after a partial failure or on a database that already has part of
it. A statement that is not idempotent then fails with `column "x" of relation "y" already
exists` and stops the rest of the file.

## Example
```sql
ALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20);
```

## How to fix
Add `IF NOT EXISTS` (`ADD COLUMN IF NOT EXISTS`, `CREATE TABLE IF NOT EXISTS`, `CREATE INDEX IF
NOT EXISTS`), or use the handbook's `DO $$ … IF NOT EXISTS (SELECT 1 FROM
information_schema.columns …) THEN … END IF; END $$;` block. `driftguard fix` writes them so.
"#,
};

pub fn check(files: &[&SqlMigration]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let facts = &file.events.facts;
        let catching: Vec<(u32, u32)> = facts
            .statements
            .iter()
            .filter(|s| {
                matches!(
                    s.kind,
                    StatementKind::Do {
                        catches_duplicates: true
                    }
                )
            })
            .map(|s| (s.location.line, s.last_line))
            .collect();
        let mut found: Vec<(String, Location)> = Vec::new();
        walk(&file.events.changes, false, &mut found);
        for statement in &facts.statements {
            if let StatementKind::CreateIndex {
                if_not_exists: false,
                name,
                ..
            } = &statement.kind
            {
                let name = name.clone().unwrap_or_else(|| "(unnamed)".to_string());
                found.push((format!("CREATE INDEX {name}"), statement.location.clone()));
            }
        }
        for (what, location) in found {
            if catching
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&location.line))
            {
                continue;
            }
            findings.push(Finding::new(
                Rule::NonIdempotentDdl,
                location,
                super::in_file_target(file.path, &what),
                format!(
                    "`{what}` has no `IF NOT EXISTS` and no guard: run a second time (a retry, a database that already has it) it fails and stops the migration"
                ),
                "Add `IF NOT EXISTS`, or guard it with an `information_schema` check in a `DO` block.",
            ));
        }
    }
    findings
}

/// The unguarded `CREATE TABLE`s and `ADD COLUMN`s, in order. A branch of an `IF` whose
/// condition the reader understood (a catalogue guard) is guarded, and so is its `ELSE`.
fn walk(changes: &[SchemaChange], guarded: bool, out: &mut Vec<(String, Location)>) {
    for change in changes {
        match change {
            SchemaChange::CreateTable {
                table,
                if_not_exists: false,
                location,
                ..
            } if !guarded => out.push((format!("CREATE TABLE {table}"), location.clone())),
            SchemaChange::AddColumn {
                table,
                column,
                if_not_exists: false,
            } if !guarded => out.push((
                format!("ADD COLUMN {table}.{}", column.name),
                column.location.clone(),
            )),
            SchemaChange::If {
                branches,
                otherwise,
                ..
            } => {
                let mut any_guard = false;
                for (condition, body) in branches {
                    let guard = *condition != Condition::Unknown;
                    any_guard |= guard;
                    walk(body, guarded || guard, out);
                }
                walk(otherwise, guarded || any_guard, out);
            }
            _ => {}
        }
    }
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

    fn what(findings: &[Finding]) -> Vec<&str> {
        findings
            .iter()
            .filter_map(|f| f.target.column.as_deref())
            .collect()
    }

    #[test]
    fn guards_and_if_not_exists_are_idempotent() {
        let text = "CREATE TABLE IF NOT EXISTS a (id int);\nALTER TABLE a ADD COLUMN IF NOT EXISTS b int;\nCREATE INDEX IF NOT EXISTS ix ON a (b);\nDO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'a' AND column_name = 'c') THEN\n    ALTER TABLE a ADD COLUMN c int;\n  END IF;\nEND $$;\nDO $$ BEGIN ALTER TABLE a ADD COLUMN d int; EXCEPTION WHEN duplicate_column THEN NULL; END $$;\n";
        assert!(run(text).is_empty(), "{:?}", run(text));
    }

    #[test]
    fn unguarded_statements_are_reported_each() {
        let findings = run(
            "CREATE TABLE core.a (id int);\nALTER TABLE core.a ADD COLUMN b int, ADD COLUMN IF NOT EXISTS c int;\nCREATE UNIQUE INDEX ix_a_b ON core.a (b);\nDO $$ BEGIN IF random() > 0.5 THEN ALTER TABLE core.a ADD COLUMN d int; END IF; END $$;\n",
        );
        assert_eq!(
            what(&findings),
            vec![
                "CREATE TABLE core.a",
                "ADD COLUMN core.a.b",
                "ADD COLUMN core.a.d",
                "CREATE INDEX ix_a_b"
            ]
        );
        assert_eq!(findings[1].location.line, 2);
    }

    #[test]
    fn human_rendering() {
        let text = "BEGIN;\nALTER TABLE core.customers ADD COLUMN contact_preference VARCHAR(20);\nCOMMIT;\n";
        insta::assert_snapshot!(render_human(run(text), &[("m.sql", text)]));
    }
}
