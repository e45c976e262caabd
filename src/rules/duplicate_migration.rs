//! DG207 `duplicate-migration` (handbook group, off by default).

use std::collections::HashMap;

use super::RuleMeta;
use crate::finding::{Finding, Related};
use crate::migrations::StatementKind;
use crate::migrations::sources::SqlMigration;
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::DuplicateMigration,
    summary: "The same SQL migration is in two places (the handbook's \"avoid duplicates!\").",
    explanation: r#"## What it does
Finds SQL migrations that exist twice: the same file name in two migration folders, or the same
SQL (comments and layout aside) under two names. The copy to keep is the one in the folder that
holds the most migrations (the primary folder), else the one nearer the root
(`database/migrations/` before `apps/backend/src/db/migrations/`), else the first to run; every
other copy is reported, with the one to keep as related. Part of the handbook group: on with `rules: {handbook: warning}`.

## Why is this bad?
The handbook keeps SQL migrations in `database/migrations/` and, as an alternative,
`apps/backend/src/db/migrations/` — "avoid duplicates!". Two copies drift apart: one gets a fix
the other lacks, someone applies the stale one, or both run and the second fails on what the
first created.

## Example
```text
database/migrations/20251126220831_add_travel_fee_configurations.sql
apps/backend/src/db/migrations/20251126220831_add_travel_fee_configurations.sql
```

## How to fix
Keep one copy, in the primary folder (`database/migrations/`), and delete the other. If the two
differ, merge what each has into the one you keep first.
"#,
};

pub fn check(files: &[&SqlMigration]) -> Vec<Finding> {
    let folder = |path: &str| {
        path.strip_suffix(super::file_name(path))
            .unwrap_or("")
            .to_string()
    };
    let mut per_folder: HashMap<String, usize> = HashMap::new();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_sql: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, file) in files.iter().enumerate() {
        *per_folder.entry(folder(file.path)).or_default() += 1;
        by_name
            .entry(super::file_name(file.path))
            .or_default()
            .push(i);
        if runs_something(file) {
            by_sql
                .entry(file.events.facts.content_hash)
                .or_default()
                .push(i);
        }
    }
    // The copy to keep: the one in the folder that holds the most migrations (the primary
    // one), then the first to run.
    let rank = |i: usize| {
        let path = files[i].path;
        let count = per_folder.get(&folder(path)).copied().unwrap_or(0);
        (std::cmp::Reverse(count), path.matches('/').count(), i)
    };
    let mut findings = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let has_sql = runs_something(file);
        let same_name = by_name
            .get(super::file_name(file.path))
            .into_iter()
            .flatten()
            .copied()
            .filter(|&j| folder(files[j].path) != folder(file.path));
        let same_sql = by_sql
            .get(&file.events.facts.content_hash)
            .into_iter()
            .flatten()
            .copied()
            .filter(|_| has_sql);
        let Some(keep) = same_name
            .chain(same_sql)
            .filter(|&j| j != i)
            .min_by_key(|&j| rank(j))
        else {
            continue;
        };
        if rank(keep) > rank(i) {
            continue;
        }
        let first = files[keep];
        let identical = first.events.facts.content_hash == file.events.facts.content_hash;
        findings.push(
            Finding::new(
                Rule::DuplicateMigration,
                Location::new(file.path, 1, 1),
                super::file_target(file.path),
                format!(
                    "this migration is a second copy of `{}`{}: copies drift apart, and the stale one gets applied",
                    first.path,
                    if identical { "" } else { " (same name, other SQL)" }
                ),
                format!(
                    "Keep the copy in `{}` and delete this one.",
                    folder(first.path).trim_end_matches('/')
                ),
            )
            .with_related(vec![Related {
                message: "the copy to keep".to_string(),
                location: Location::new(first.path, 1, 1),
            }]),
        );
    }
    findings
}

/// Whether the file does anything beyond `BEGIN; COMMIT;`: two empty shells are not copies.
fn runs_something(file: &SqlMigration) -> bool {
    file.events.facts.statements.iter().any(|s| {
        !matches!(
            s.kind,
            StatementKind::Begin | StatementKind::Commit | StatementKind::Rollback
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::render_human;
    use crate::source::SourceFile;

    fn run(files: &[(&str, &str)]) -> Vec<Finding> {
        let events: Vec<_> = files
            .iter()
            .map(|(path, text)| crate::migrations::sql::read(&SourceFile::new(*path, *text)))
            .collect();
        let migrations: Vec<SqlMigration> = files
            .iter()
            .zip(&events)
            .map(|((path, _), events)| SqlMigration {
                path,
                source: None,
                events,
            })
            .collect();
        let mut refs: Vec<&SqlMigration> = migrations.iter().collect();
        refs.sort_by(|a, b| crate::discover::migration_order(a.path, b.path));
        check(&refs)
    }

    #[test]
    fn the_same_name_in_two_folders_or_the_same_sql_twice() {
        let findings = run(&[
            ("database/migrations/001_a.sql", "CREATE TABLE a (id int);"),
            (
                "apps/db/migrations/001_a.sql",
                "CREATE TABLE a (id int, x int);",
            ),
            (
                "database/migrations/002_b.sql",
                "-- b\nCREATE TABLE b (id int);",
            ),
            (
                "database/migrations/BATCH_1.sql",
                "CREATE TABLE b (\n  id int\n);",
            ),
            ("database/migrations/003_c.sql", "CREATE TABLE c (id int);"),
            ("database/migrations/004_empty.sql", "BEGIN;\nCOMMIT;\n"),
            ("database/migrations/005_empty.sql", "BEGIN;\nCOMMIT;\n"),
        ]);
        let reported: Vec<(&str, &str)> = findings
            .iter()
            .map(|f| (&*f.location.path, &*f.related[0].location.path))
            .collect();
        assert_eq!(
            reported,
            vec![
                (
                    "apps/db/migrations/001_a.sql",
                    "database/migrations/001_a.sql"
                ),
                (
                    "database/migrations/BATCH_1.sql",
                    "database/migrations/002_b.sql"
                ),
            ]
        );
        assert!(findings[0].message.contains("(same name, other SQL)"));
    }

    #[test]
    fn human_rendering() {
        let text = "CREATE TABLE IF NOT EXISTS core.fees (id int);\n";
        let findings = run(&[
            (
                "database/migrations/001_initial.sql",
                "CREATE TABLE a (id int);",
            ),
            ("database/migrations/20251126220831_fees.sql", text),
            (
                "apps/backend/src/db/migrations/20251126220831_fees.sql",
                text,
            ),
        ]);
        insta::assert_snapshot!(render_human(
            findings,
            &[
                ("database/migrations/20251126220831_fees.sql", text),
                (
                    "apps/backend/src/db/migrations/20251126220831_fees.sql",
                    text
                ),
            ]
        ));
    }
}
