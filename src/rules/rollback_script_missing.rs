//! DG205 `rollback-script-missing` (handbook group, off by default).

use super::RuleMeta;
use crate::finding::Finding;
use crate::migrations::sources::SqlMigration;
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::RollbackScriptMissing,
    summary: "A SQL migration has no rollback script.",
    explanation: r#"## What it does
Looks for the rollback script the handbook requires in every SQL migration: a comment block
headed `ROLLBACK` (`-- ROLLBACK SCRIPT …`, `-- ROLLBACK: …`), or a down section (`--
migrate:down`, `-- +goose Down`). Part of the handbook group: on with `rules: {handbook:
warning}`.

## Why is this bad?
When a migration breaks production, the person on call has to undo it under pressure. Without
the statements written down beside the migration, they improvise `DROP`s against the production
database.

## Example
```sql
BEGIN;
ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);
COMMIT;
```

## How to fix
End the file with the rollback script as a comment block:
```sql
-- =====================================================
-- ROLLBACK SCRIPT (required for all migrations!)
-- =====================================================
-- ALTER TABLE core.customers DROP COLUMN IF EXISTS contact_preference;
```
`driftguard fix` writes it.
"#,
};

pub fn check(files: &[&SqlMigration]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let facts = &file.events.facts;
        let has_rollback = facts.comments.iter().any(|c| {
            let upper = c.text.to_ascii_uppercase();
            upper
                .trim_start_matches(['=', '-', ' ', '#', '*'])
                .starts_with("ROLLBACK")
                || upper.contains("MIGRATE:DOWN")
                || upper.contains("+GOOSE DOWN")
        });
        if has_rollback {
            continue;
        }
        let line = facts.statements.last().map_or(1, |s| s.last_line).max(1);
        findings.push(Finding::new(
            Rule::RollbackScriptMissing,
            Location::new(file.path, line, 1),
            super::file_target(file.path),
            "the migration has no rollback script: undoing it on production means improvising `DROP`s under pressure",
            "End the file with a `-- ROLLBACK SCRIPT` comment block that undoes each change.",
        ));
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
    fn a_rollback_comment_or_down_section_is_enough() {
        assert!(
            run("BEGIN;\nCOMMIT;\n-- =====\n-- ROLLBACK SCRIPT (required)\n-- DROP TABLE t;\n")
                .is_empty()
        );
        assert!(run("CREATE TABLE t (id int);\n-- ROLLBACK: DROP TABLE t;\n").is_empty());
        assert!(
            run("-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n")
                .is_empty()
        );
        let missing =
            run("BEGIN;\nCREATE TABLE t (id int);\n-- a rollback is not needed\nCOMMIT;\n");
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].location.line, 4);
    }

    #[test]
    fn human_rendering() {
        let text = "BEGIN;\nALTER TABLE core.customers ADD COLUMN IF NOT EXISTS x int;\nCOMMIT;\n";
        insta::assert_snapshot!(render_human(run(text), &[("m.sql", text)]));
    }
}
