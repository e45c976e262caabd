//! DG100 `unused-suppression`. Found by [`crate::suppress::apply`], not by a check over the
//! schema: a suppression is unused when it silenced nothing in this run.

use super::RuleMeta;
use crate::finding::Finding;
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::UnusedSuppression,
    summary: "A `driftguard: ignore` comment that silences nothing.",
    explanation: r#"## What it does
Finds `# driftguard: ignore[…]` comments in models and `-- driftguard: ignore[…]` comments in
migrations that silence no finding and no warning.

## Why is this bad?
A suppression outlives the problem it was written for: once the migration exists, the comment
stays and would hide the next real gap on that line or table without anyone noticing.

## Example
```python
class Customer(Base):
    email: Mapped[str]  # driftguard: ignore[DG001]
```
where a migration creates `email`: the comment silences nothing.

## How to fix
Delete the comment, or narrow it to the codes that still fire. `# driftguard: ignore` on a
`class` line covers every finding of that table; on a column's line, that column.
"#,
};

/// The finding for an unused suppression at `location`.
pub fn finding(codes: &[String], location: &Location) -> Finding {
    let what = if codes.is_empty() {
        "`driftguard: ignore`".to_string()
    } else {
        format!("`driftguard: ignore[{}]`", codes.join(", "))
    };
    Finding::new(
        Rule::UnusedSuppression,
        location.clone(),
        crate::suppress::unused_target(codes, location),
        format!("{what} silences nothing here"),
        "Remove the comment, or narrow it to the codes that still fire.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Warning;
    use crate::rules::test_support::{model_table, render_human};
    use crate::suppress::{PyIgnore, apply};

    fn dg001(line: u32) -> Finding {
        Finding::new(
            Rule::ColumnWithoutMigration,
            Location::new("models.py", line, 5),
            crate::finding::Target::column("core", "customers", "email"),
            "",
            "",
        )
    }

    #[test]
    fn a_used_suppression_silences_and_an_unused_one_is_reported() {
        let table = model_table("core", "customers", &[("id", "INTEGER"), ("email", "TEXT")]);
        let ignores = vec![
            PyIgnore {
                codes: vec!["DG001".into()],
                location: Location::new("models.py", 3, 25),
            },
            PyIgnore {
                codes: vec!["DG005".into()],
                location: Location::new("models.py", 2, 25),
            },
        ];
        let mut warnings: Vec<Warning> = Vec::new();
        let kept = apply(vec![dg001(3)], &mut warnings, &[table], &ignores, &[]);
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(kept[0].rule, Rule::UnusedSuppression);
        assert_eq!(kept[0].location.line, 2);
        assert_eq!(
            kept[0].message,
            "`driftguard: ignore[DG005]` silences nothing here"
        );
    }

    #[test]
    fn a_class_line_suppression_covers_the_whole_table() {
        let table = model_table("core", "customers", &[("id", "INTEGER"), ("email", "TEXT")]);
        let ignores = vec![PyIgnore {
            codes: vec![],
            location: Location::new("models.py", 1, 30),
        }];
        let mut warnings = Vec::new();
        let kept = apply(vec![dg001(3)], &mut warnings, &[table], &ignores, &[]);
        assert!(kept.is_empty(), "{kept:?}");
    }

    #[test]
    fn human_rendering() {
        let table = model_table("core", "customers", &[("id", "INTEGER"), ("email", "TEXT")]);
        let ignores = vec![PyIgnore {
            codes: vec!["DG001".into()],
            location: Location::new("models.py", 3, 25),
        }];
        let kept = apply(Vec::new(), &mut Vec::new(), &[table], &ignores, &[]);
        insta::assert_snapshot!(render_human(
            kept,
            &[(
                "models.py",
                "class Customer(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    email: Mapped[str]  # driftguard: ignore[DG001]\n"
            )]
        ));
    }
}
