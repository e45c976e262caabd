//! DG208 `migration-order-ambiguous` (handbook group, off by default).

use super::RuleMeta;
use crate::finding::{Finding, Related};
use crate::migrations::sources::SqlMigration;
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::MigrationOrderAmbiguous,
    summary: "Two SQL migrations share an ordering prefix: their order depends on the names after it.",
    explanation: r#"## What it does
Finds SQL migrations of one source whose leading number is the same (`007_add_reviews.sql` and
`007_add_invoices.sql`, also `7_x.sql` beside `007_y.sql`), and reports each one after the first
in run order. In a change check only a file the change adds is reported: two branches that each
took the next number merge cleanly in git. Part of the handbook group: on with `rules:
{handbook: warning}`.

## Why is this bad?
Migrations run in the natural order of their file names, so the two run in the order of the
words after the number — an accident. When one depends on the other (a column added to a table
the other creates), the order is wrong half the time, and a database that already ran one of
them gets the other out of order.

## Example
```text
database/migrations/007_add_reviews.sql     (from one branch)
database/migrations/007_add_invoices.sql    (from another)
```

## How to fix
Renumber the newer file to the next free number (`008_add_invoices.sql`) before it runs
anywhere, or use `YYYYMMDDHHMMSS_` timestamps, which rarely collide.
"#,
};

/// The leading digits of a file name, without leading zeros (`007` and `7` run at the same
/// place); `None` when it does not start with a digit.
fn prefix(name: &str) -> Option<&str> {
    let digits = &name[..name.len() - name.trim_start_matches(|c: char| c.is_ascii_digit()).len()];
    if digits.is_empty() {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    Some(if trimmed.is_empty() { "0" } else { trimmed })
}

pub fn check(files: &[&SqlMigration]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let name = super::file_name(file.path);
        let Some(number) = prefix(name) else {
            continue;
        };
        let Some(first) = files[..i]
            .iter()
            .find(|f| f.source == file.source && prefix(super::file_name(f.path)) == Some(number))
        else {
            continue;
        };
        findings.push(
            Finding::new(
                Rule::MigrationOrderAmbiguous,
                Location::new(file.path, 1, 1),
                super::in_file_target(file.path, number),
                format!(
                    "`{name}` has the ordering prefix of `{}`: which runs first depends on the names after the number",
                    super::file_name(first.path)
                ),
                "Renumber this file to the next free number before it runs anywhere.",
            )
            .with_related(vec![Related {
                message: "the same prefix".to_string(),
                location: Location::new(first.path, 1, 1),
            }]),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::MigrationEvents;
    use crate::rules::test_support::render_human;

    fn run(paths: &[(&str, Option<usize>)]) -> Vec<Finding> {
        let events = MigrationEvents::default();
        let mut files: Vec<SqlMigration> = paths
            .iter()
            .map(|(path, source)| SqlMigration {
                path,
                source: *source,
                events: &events,
            })
            .collect();
        files.sort_by(|a, b| crate::discover::migration_order(a.path, b.path));
        let refs: Vec<&SqlMigration> = files.iter().collect();
        check(&refs)
    }

    #[test]
    fn the_same_number_in_one_source() {
        let findings = run(&[
            ("db/migrations/007_add_reviews.sql", None),
            ("db/migrations/007_add_invoices.sql", None),
            ("db/migrations/7_late.sql", None),
            ("db/migrations/008_next.sql", None),
            ("other/migrations/008_elsewhere.sql", Some(0)),
            ("db/migrations/BATCH_1.sql", None),
        ]);
        let reported: Vec<&str> = findings.iter().map(|f| &*f.location.path).collect();
        assert_eq!(
            reported,
            vec![
                "db/migrations/007_add_reviews.sql",
                "db/migrations/7_late.sql"
            ]
        );
        assert_eq!(
            &*findings[0].related[0].location.path,
            "db/migrations/007_add_invoices.sql"
        );
        assert_eq!(prefix("0000_x.sql"), Some("0"));
    }

    #[test]
    fn human_rendering() {
        let findings = run(&[
            ("database/migrations/007_add_reviews.sql", None),
            ("database/migrations/007_add_invoices.sql", None),
        ]);
        let text = "BEGIN;\nCOMMIT;\n";
        insta::assert_snapshot!(render_human(
            findings,
            &[
                ("database/migrations/007_add_reviews.sql", text),
                ("database/migrations/007_add_invoices.sql", text),
            ]
        ));
    }
}
