//! DG202 `migration-header-missing` (handbook group, off by default).

use super::RuleMeta;
use crate::finding::Finding;
use crate::migrations::sources::SqlMigration;
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::MigrationHeaderMissing,
    summary: "A SQL migration does not open with the header block (Migration / Created / Purpose).",
    explanation: r#"## What it does
Reads the comments before a SQL migration's first statement and checks that they hold the
handbook's header: `Migration:`, `Created:` and `Purpose:` lines. Part of the handbook group: on
with `rules: {handbook: warning}`.

## Why is this bad?
Migrations are applied by hand on staging and production (`psql -f`), often weeks after they
were written. Without the header, the person running one cannot tell what it is for or when it
was made, and a migration meant for another environment gets applied.

## Example
```sql
ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);
```

## How to fix
Open the file with the header block:
```sql
-- =====================================================
-- Migration: Add contact_preference to core.customers
-- Created: 2025-01-02
-- Purpose: Customers choose SMS or email for reminders
-- =====================================================
```
`driftguard fix` writes it.
"#,
};

const FIELDS: &[&str] = &["Migration:", "Created:", "Purpose:"];

pub fn check(files: &[&SqlMigration]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let facts = &file.events.facts;
        let first = facts
            .statements
            .first()
            .map_or(u32::MAX, |s| s.location.line);
        let header: Vec<String> = facts
            .comments
            .iter()
            .filter(|c| c.line < first)
            .map(|c| c.text.to_ascii_lowercase())
            .collect();
        let missing: Vec<&str> = FIELDS
            .iter()
            .copied()
            .filter(|field| {
                let field = field.to_ascii_lowercase();
                !header.iter().any(|line| line.contains(&field))
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let what = if missing.len() == FIELDS.len() {
            "has no header block".to_string()
        } else {
            format!("has a header without `{}`", missing.join("`, `"))
        };
        findings.push(Finding::new(
            Rule::MigrationHeaderMissing,
            Location::new(file.path, 1, 1),
            super::file_target(file.path),
            format!(
                "the migration {what}: whoever applies it by hand cannot tell what it is for or when it was written"
            ),
            "Open the file with the header block: `-- Migration: …`, `-- Created: …`, `-- Purpose: …`.",
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
    fn the_three_fields_before_the_first_statement() {
        assert!(
            run("-- Migration: x\n-- Created: 2025-01-02\n-- Purpose: y\nBEGIN;\nCOMMIT;\n")
                .is_empty()
        );
        assert!(run("/*\n Migration: x\n Created: today\n Purpose: y\n*/\nSELECT 1;\n").is_empty());
        let partial = run("-- Migration: x\nBEGIN;\n-- Created: later\n-- Purpose: y\nCOMMIT;\n");
        assert_eq!(partial.len(), 1);
        assert!(
            partial[0]
                .message
                .contains("without `Created:`, `Purpose:`"),
            "{}",
            partial[0].message
        );
        assert_eq!(run("SELECT 1;\n").len(), 1);
    }

    #[test]
    fn human_rendering() {
        let text = "-- add a column\nALTER TABLE core.customers ADD COLUMN IF NOT EXISTS x int;\n";
        insta::assert_snapshot!(render_human(run(text), &[("m.sql", text)]));
    }
}
