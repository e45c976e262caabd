//! DG009 `alembic-multiple-heads`. A check over the Alembic revision graph, not over the
//! schema: it reads the revisions of each environment ([`super::MigrationFiles`]).

use std::collections::BTreeMap;

use super::RuleMeta;
use crate::discover::natural_cmp;
use crate::finding::{Finding, Related, Target};
use crate::migrations::alembic::{Revision, heads, histories};
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::AlembicMultipleHeads,
    summary: "An Alembic environment has more than one head revision: `alembic upgrade head` fails.",
    explanation: r#"## What it does
Reads the revision graph of each Alembic environment and reports every head but the oldest
(by the `Create Date` Alembic writes, then by file name) at its `down_revision` line. Chains
kept side by side (Prefect keeps one per database dialect in sibling folders, repeating
revision ids) are separate histories, each with its own head. In a
change check (`--staged`, `--base`) only a head the change adds is reported: two pull requests
that each add a revision on the same parent merge cleanly in git, and the merge commit (what
GitHub Actions checks out for `pull_request`) has two heads. An environment whose revisions
declare `branch_labels` keeps several branches on purpose and is not checked.

## Why is this bad?
`alembic upgrade head` refuses to run: `Multiple head revisions are present for given argument
'head'; please specify a specific target revision, '<branchname>@head' to narrow to a specific
head, or 'heads' for all heads`. The deploy stops, at the worst moment, although every test of
both pull requests passed.

## Example
```python
# versions/a1_add_reviews.py           # versions/b2_add_invoices.py
revision = "a1"                         revision = "b2"
down_revision = "0042"                  down_revision = "0042"
```

## How to fix
Run `alembic merge heads -m "merge"` and commit the merge revision, or re-point the newer
revision's `down_revision` to the current head (`down_revision = "a1"`) when it has not run
anywhere yet. `driftguard fix` writes its revision on every head at once.
"#,
};

/// The heads each environment has beyond its first, per connected graph ([`components`]):
/// chains kept side by side (Prefect keeps one per database dialect under one `versions/`
/// folder) are separate histories, each with its own head.
pub fn check(envs: &BTreeMap<String, Vec<Revision>>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (env, revisions) in envs {
        if revisions.iter().any(|r| !r.branch_labels.is_empty()) {
            continue;
        }
        let head_ids = heads(revisions);
        if head_ids.len() < 2 {
            continue;
        }
        let component = histories(revisions);
        let mut by_component: BTreeMap<usize, Vec<&Revision>> = BTreeMap::new();
        for (i, revision) in revisions.iter().enumerate() {
            if head_ids.contains(&revision.revision) {
                by_component.entry(component[i]).or_default().push(revision);
            }
        }
        let env_name = if env.is_empty() { "." } else { env.as_str() };
        for mut head_revisions in by_component.into_values() {
            // A copy of a revision (a stray `alembic/versions/` folder beside the real one) is
            // the same node for Alembic: one id, one head.
            let mut seen = std::collections::HashSet::new();
            head_revisions.retain(|r| seen.insert(r.revision.as_str()));
            head_revisions.sort_by(|a, b| {
                a.create_date
                    .cmp(&b.create_date)
                    .then_with(|| natural_cmp(file_name(&a.path), file_name(&b.path)))
                    .then_with(|| a.revision.cmp(&b.revision))
            });
            let count = head_revisions.len();
            let Some((oldest, newer)) = head_revisions.split_first() else {
                continue;
            };
            for head in newer {
                findings.push(finding(env_name, oldest, head, count));
            }
        }
    }
    findings
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn at(revision: &Revision) -> Location {
    revision
        .down_revision_at
        .clone()
        .unwrap_or_else(|| Location::new(revision.path.clone(), 1, 1))
}

fn finding(env: &str, oldest: &Revision, head: &Revision, count: usize) -> Finding {
    let parents = if head.down_revisions.is_empty() {
        "no parent".to_string()
    } else {
        format!("`{}`", head.down_revisions.join("`, `"))
    };
    let repoint = head.down_revisions.len() == 1;
    let help = if repoint {
        format!(
            "Run `alembic merge heads`, or set `down_revision = \"{}\"` here if `{}` has not run anywhere yet.",
            oldest.revision, head.revision
        )
    } else {
        "Run `alembic merge heads` and commit the merge revision.".to_string()
    };
    Finding::new(
        Rule::AlembicMultipleHeads,
        at(head),
        Target::column("", env, &head.revision),
        format!(
            "revision `{}` (on {parents}) is a head of the Alembic environment `{env}` beside `{}`: with {count} heads `alembic upgrade head` fails with `Multiple head revisions are present`",
            head.revision, oldest.revision
        ),
        help,
    )
    .with_related(vec![Related {
        message: format!("`{}` is the other head", oldest.revision),
        location: at(oldest),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::MigrationEvents;
    use crate::rules::test_support::render_human;

    fn rev(id: &str, down: &[&str], date: Option<&str>) -> Revision {
        Revision {
            path: format!("migrations/versions/{id}.py"),
            revision: id.to_string(),
            down_revisions: down.iter().map(|d| d.to_string()).collect(),
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            down_revision_at: Some(Location::new(format!("migrations/versions/{id}.py"), 5, 1)),
            create_date: date.map(str::to_string),
            events: crate::lazy::Lazy::new(MigrationEvents::default()),
            warned: false,
            names_class: false,
        }
    }

    fn envs(revisions: Vec<Revision>) -> BTreeMap<String, Vec<Revision>> {
        BTreeMap::from([("migrations".to_string(), revisions)])
    }

    #[test]
    fn the_newer_of_two_heads_is_reported_at_its_down_revision() {
        let findings = check(&envs(vec![
            rev("0042", &[], Some("2024-01-01 10:00:00")),
            rev("b2", &["0042"], Some("2024-03-01 10:00:00")),
            rev("a1", &["0042"], Some("2024-02-01 10:00:00")),
        ]));
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.target.column.as_deref(), Some("b2"));
        assert_eq!(f.location, Location::new("migrations/versions/b2.py", 5, 1));
        assert!(f.help.contains("down_revision = \"a1\""), "{}", f.help);
        assert_eq!(&*f.related[0].location.path, "migrations/versions/a1.py");
    }

    #[test]
    fn one_head_a_merge_and_labelled_branches_are_fine() {
        assert!(check(&envs(vec![rev("1", &[], None), rev("2", &["1"], None)])).is_empty());
        let merged = vec![
            rev("1", &[], None),
            rev("2", &["1"], None),
            rev("3", &["1"], None),
            rev("m", &["2", "3"], None),
        ];
        assert!(check(&envs(merged)).is_empty());
        let mut labelled = rev("x", &[], None);
        labelled.branch_labels = vec!["plugin".into()];
        assert!(check(&envs(vec![rev("1", &[], None), labelled])).is_empty());
    }

    #[test]
    fn separate_histories_in_one_folder_each_have_their_head() {
        // Prefect: `versions/postgresql/…` and `versions/sqlite/…`, one chain per dialect.
        let mut revisions = vec![
            rev("pg1", &[], None),
            rev("pg2", &["pg1"], None),
            rev("lite1", &[], None),
            rev("lite2", &["lite1"], None),
        ];
        assert!(check(&envs(revisions.clone())).is_empty());
        // A fork inside one of them is still reported.
        revisions.push(rev("pg3", &["pg1"], None));
        let findings = check(&envs(revisions));
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].target.column.as_deref(), Some("pg3"));
        assert!(
            findings[0].message.contains("beside `pg2`"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn repeated_ids_link_within_their_own_folder() {
        let at = |folder: &str, mut r: Revision| {
            r.path = format!("versions/{folder}/{}.py", r.revision);
            r
        };
        let revisions = vec![
            at("postgresql", rev("a", &[], None)),
            at("postgresql", rev("b", &["a"], None)),
            at("postgresql", rev("pg_head", &["b"], None)),
            at("sqlite", rev("a", &[], None)),
            at("sqlite", rev("b", &["a"], None)),
            at("sqlite", rev("lite_head", &["b"], None)),
        ];
        assert!(check(&envs(revisions)).is_empty());
        // Unique ids link across folders (a folder per year): a fork there is one history.
        let years = vec![
            at("2024", rev("x", &[], None)),
            at("2024", rev("y", &["x"], None)),
            at("2025", rev("z", &["x"], None)),
        ];
        assert_eq!(check(&envs(years)).len(), 1);
    }

    /// The handbook team's repository keeps a stray copy of four revisions in a second
    /// `alembic/versions/` folder (no env.py) that hang off the real chain: a copy is the same
    /// Alembic node, not a second head.
    #[test]
    fn a_copied_revision_is_not_a_second_head() {
        let at = |folder: &str, mut r: Revision| {
            r.path = format!("{folder}/{}.py", r.revision);
            r
        };
        let revisions = vec![
            at("src/alembic/versions", rev("base", &[], None)),
            at("src/alembic/versions", rev("tags", &["base"], None)),
            at("alembic/versions", rev("tags", &["base"], None)),
        ];
        assert!(check(&envs(revisions.clone())).is_empty());
        // A real second head beside the copies is still one finding.
        let mut forked = revisions;
        forked.push(at(
            "src/alembic/versions",
            rev("other", &["base"], Some("2030-01-01")),
        ));
        let findings = check(&envs(forked));
        assert_eq!(findings.len(), 1, "{findings:?}");
    }

    #[test]
    fn without_dates_file_names_decide_and_three_heads_are_two_findings() {
        let findings = check(&envs(vec![
            rev("0001", &[], None),
            rev("0003", &["0001"], None),
            rev("0002", &["0001"], None),
            rev("0010", &["0001"], None),
        ]));
        let heads: Vec<&str> = findings
            .iter()
            .filter_map(|f| f.target.column.as_deref())
            .collect();
        assert_eq!(heads, vec!["0003", "0010"]);
    }

    #[test]
    fn human_rendering() {
        let findings = check(&envs(vec![
            rev("0042", &[], None),
            rev("a1", &["0042"], Some("2024-02-01 10:00:00")),
            rev("b2", &["0042"], Some("2024-03-01 10:00:00")),
        ]));
        let file = |id: &str| {
            format!(
                "\"\"\"{id}\"\"\"\nfrom alembic import op\n\nrevision = \"{id}\"\ndown_revision = \"0042\"\n"
            )
        };
        insta::assert_snapshot!(render_human(
            findings,
            &[
                ("migrations/versions/a1.py", &file("a1")),
                ("migrations/versions/b2.py", &file("b2")),
            ]
        ));
    }
}
