//! DG206 `column-comment-missing` (handbook group, off by default).

use super::RuleMeta;
use crate::finding::Finding;
use crate::migrations::sources::SqlMigration;
use crate::migrations::{QualifiedName, SchemaChange, StatementKind};
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::ColumnCommentMissing,
    summary: "A SQL migration creates a column without a `COMMENT ON COLUMN` for it.",
    explanation: r#"## What it does
Lists the columns a SQL migration creates (`ADD COLUMN`, the columns of `CREATE TABLE`, also
inside `DO` blocks) and checks that the same file has a `COMMENT ON COLUMN` for each. Part of
the handbook group: on with `rules: {handbook: warning}`.

## Why is this bad?
The handbook says "Always add comments": the schema is read by people who never saw the model
(support, analysts, the next developer), and `\d+ core.customers` or the schema inventory is all
they have. A column without a comment is a guess.

## Example
```sql
ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);
```

## How to fix
Add `COMMENT ON COLUMN core.customers.contact_preference IS 'sms or email';` after the change.
`driftguard fix` writes one for each column, from the model's `comment=` (or a placeholder to
fill in).
"#,
};

pub fn check(files: &[&SqlMigration]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let commented: Vec<(&QualifiedName, &str)> = file
            .events
            .facts
            .statements
            .iter()
            .filter_map(|s| match &s.kind {
                StatementKind::CommentOnColumn { table, column } => Some((table, column.as_str())),
                _ => None,
            })
            .collect();
        let mut created: Vec<(QualifiedName, String, Location)> = Vec::new();
        new_columns(&file.events.changes, &mut created);
        for (table, column, location) in created {
            let described = commented.iter().any(|(t, c)| {
                *c == column
                    && t.name == table.name
                    && (t.schema.is_none() || table.schema.is_none() || t.schema == table.schema)
            });
            if described {
                continue;
            }
            let path = format!("{table}.{column}");
            findings.push(Finding::new(
                Rule::ColumnCommentMissing,
                location,
                super::in_file_target(file.path, &path),
                format!(
                    "the migration creates `{path}` without a `COMMENT ON COLUMN`: the schema does not say what it holds"
                ),
                format!("Add `COMMENT ON COLUMN {path} IS '…';` to the migration."),
            ));
        }
    }
    findings
}

/// The columns the changes create, with where.
fn new_columns(changes: &[SchemaChange], out: &mut Vec<(QualifiedName, String, Location)>) {
    for change in changes {
        match change {
            SchemaChange::CreateTable { table, columns, .. } => {
                for column in columns {
                    out.push((table.clone(), column.name.clone(), column.location.clone()));
                }
            }
            SchemaChange::AddColumn { table, column, .. } => {
                out.push((table.clone(), column.name.clone(), column.location.clone()));
            }
            SchemaChange::If {
                branches,
                otherwise,
                ..
            } => {
                for (_, body) in branches {
                    new_columns(body, out);
                }
                new_columns(otherwise, out);
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

    #[test]
    fn every_new_column_needs_its_comment() {
        let findings = run(
            "CREATE TABLE core.t (id int, name text);\nDO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 't' AND column_name = 'x') THEN ALTER TABLE core.t ADD COLUMN x int; END IF; END $$;\nCOMMENT ON COLUMN core.t.id IS 'key';\nCOMMENT ON COLUMN t.x IS 'x';\n",
        );
        let paths: Vec<&str> = findings
            .iter()
            .filter_map(|f| f.target.column.as_deref())
            .collect();
        assert_eq!(paths, vec!["core.t.name"]);
        assert_eq!(findings[0].location.line, 1);
    }

    #[test]
    fn human_rendering() {
        let text = "BEGIN;\nALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);\nCOMMIT;\n";
        insta::assert_snapshot!(render_human(run(text), &[("m.sql", text)]));
    }
}
