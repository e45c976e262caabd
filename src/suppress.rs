//! Inline suppressions: `# driftguard: ignore[DG001]` in models, `-- driftguard: ignore[…]` in
//! migrations, and the `DG100 unused-suppression` findings for the ones that silence nothing.
//!
//! A Python comment silences findings located on its line; on a `class` line (or a `Table(`
//! line) it silences every finding of that table. A SQL comment silences findings whose related
//! label points into the statement it belongs to, findings located in that statement (the
//! handbook rules' findings about the migration itself), and warnings located in it.
//! Without a code list (`# driftguard: ignore`) every code is silenced.

use std::collections::HashMap;

use crate::finding::{Finding, Target, Warning};
use crate::migrations::SqlIgnore;
use crate::models::ModelTable;
use crate::rule::Rule;
use crate::source::Location;

/// A `# driftguard: ignore[…]` comment in a Python file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PyIgnore {
    /// Empty: all codes.
    pub codes: Vec<String>,
    /// The comment (its line is the line it covers).
    pub location: Location,
}

/// `driftguard: ignore` → `Some([])`; `driftguard: ignore[DG001, DG005]` → the codes; anything
/// else `None`. `comment` is the comment's text without its `#` or `--`.
pub fn parse_directive(comment: &str) -> Option<Vec<String>> {
    let rest = strip_prefix_ci(comment.trim_start(), "driftguard:")?;
    let rest = strip_prefix_ci(rest.trim_start(), "ignore")?;
    if let Some(list) = rest.strip_prefix('[') {
        let close = list.find(']')?;
        return Some(
            list.get(..close)
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        );
    }
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(Vec::new)
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// The ignores among a Python file's comments.
pub fn python_ignores(path: &str, comments: &[crate::pyast::Comment]) -> Vec<PyIgnore> {
    comments
        .iter()
        .filter_map(|comment| {
            let body = comment.text.strip_prefix('#')?;
            let codes = parse_directive(body)?;
            Some(PyIgnore {
                codes,
                location: Location::new(path, comment.line, comment.column),
            })
        })
        .collect()
}

fn covers(codes: &[String], rule: Rule) -> bool {
    codes.is_empty()
        || codes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(rule.code()) || c == rule.name())
}

/// Drops suppressed findings and warnings; adds a `DG100` finding for each suppression that
/// silenced nothing (with the default severity; the config applies afterwards).
pub fn apply(
    findings: Vec<Finding>,
    warnings: &mut Vec<Warning>,
    tables: &[ModelTable],
    py_ignores: &[PyIgnore],
    sql_ignores: &[(String, SqlIgnore)],
) -> Vec<Finding> {
    let mut py_used = vec![false; py_ignores.len()];
    let mut sql_used = vec![false; sql_ignores.len()];
    let mut kept = Vec::with_capacity(findings.len());
    // The ignores by file: only those in a file a finding (or its related place) is in can
    // silence it, so each finding is held against those, not against every ignore.
    let mut py_in: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, ignore) in py_ignores.iter().enumerate() {
        py_in.entry(&*ignore.location.path).or_default().push(i);
    }
    let mut sql_in: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (path, _)) in sql_ignores.iter().enumerate() {
        sql_in.entry(path.as_str()).or_default().push(i);
    }
    // The tables by the line of their class (or `Table(` call), in the files that have
    // ignores, for the ignores on such a line: looked up, not found by a pass over every
    // table for each finding and ignore.
    let mut at_line: HashMap<(&str, u32), Vec<&ModelTable>> = HashMap::new();
    for table in tables {
        if py_in.contains_key(&*table.location.path) {
            at_line
                .entry((&*table.location.path, table.location.line))
                .or_default()
                .push(table);
        }
    }
    for finding in findings {
        let mut silenced = false;
        for &i in in_file(&py_in, &finding.location.path) {
            let Some(ignore) = py_ignores.get(i) else {
                continue;
            };
            if !covers(&ignore.codes, finding.rule) {
                continue;
            }
            let on_line = ignore.location.line == finding.location.line;
            let on_ignored_line = at_line
                .get(&(&*ignore.location.path, ignore.location.line))
                .map_or(&[][..], Vec::as_slice);
            let on_table = on_ignored_line.iter().any(|t| {
                t.name == finding.target.table
                    && t.schema
                        .as_ref()
                        .is_none_or(|s| *s == finding.target.schema)
                    && (t.location.line == finding.location.line
                        || t.columns
                            .iter()
                            .any(|c| c.location.line == finding.location.line))
            });
            if on_line || on_table {
                py_used[i] = true;
                silenced = true;
            }
        }
        // In the finding's file or a related place's (one may be looked at twice: it only
        // sets flags).
        let files = std::iter::once(&finding.location)
            .chain(finding.related.iter().map(|r| &r.location))
            .map(|location| &*location.path);
        for &i in files.flat_map(|path| in_file(&sql_in, path)) {
            let Some((path, ignore)) = sql_ignores.get(i) else {
                continue;
            };
            if !covers(&ignore.codes, finding.rule) {
                continue;
            }
            let (first, last) = ignore.statement_lines;
            // A finding about the migration itself (the handbook rules) sits in the statement.
            let located_in =
                *finding.location.path == **path && (first..=last).contains(&finding.location.line);
            if located_in
                || finding.related.iter().any(|r| {
                    *r.location.path == **path && (first..=last).contains(&r.location.line)
                })
            {
                sql_used[i] = true;
                silenced = true;
            }
        }
        if !silenced {
            kept.push(finding);
        }
    }
    warnings.retain(|w| {
        let Some(location) = &w.location else {
            return true;
        };
        let mut keep = true;
        for &i in in_file(&sql_in, &location.path) {
            let Some((path, ignore)) = sql_ignores.get(i) else {
                continue;
            };
            let (first, last) = ignore.statement_lines;
            if ignore.codes.is_empty()
                && **path == *location.path
                && (first..=last).contains(&location.line)
            {
                sql_used[i] = true;
                keep = false;
            }
        }
        keep
    });
    for (ignore, used) in py_ignores.iter().zip(&py_used) {
        if !used {
            kept.push(crate::rules::unused_suppression::finding(
                &ignore.codes,
                &ignore.location,
            ));
        }
    }
    for ((_, ignore), used) in sql_ignores.iter().zip(&sql_used) {
        if !used {
            kept.push(crate::rules::unused_suppression::finding(
                &ignore.codes,
                &ignore.location,
            ));
        }
    }
    kept
}

/// The positions of the ignores in `path` (see [`apply`]).
fn in_file<'m>(by_file: &'m HashMap<&str, Vec<usize>>, path: &str) -> &'m [usize] {
    by_file.get(path).map_or(&[], Vec::as_slice)
}

/// The target of a DG100 finding: the file in the place of the table and the directive in the
/// place of the column, not the line, so that moving a comment does not make it new.
pub fn unused_target(codes: &[String], location: &Location) -> Target {
    let directive = if codes.is_empty() {
        "ignore".to_string()
    } else {
        format!("ignore[{}]", codes.join(", "))
    };
    Target::column("", &*location.path, directive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_with_or_without_codes() {
        assert_eq!(parse_directive(" driftguard: ignore"), Some(vec![]));
        assert_eq!(
            parse_directive(" driftguard: ignore[DG001, column-type-mismatch ]"),
            Some(vec![
                "DG001".to_string(),
                "column-type-mismatch".to_string()
            ])
        );
        assert_eq!(parse_directive(" driftguard: ignored"), None);
        assert_eq!(parse_directive(" noqa"), None);
    }

    #[test]
    fn an_ignore_on_a_class_line_silences_that_table_alone() {
        use crate::rules::test_support::model_table;
        // `models.py`: class A on line 1 (columns on 2 and 3), class B on line 10 (column on
        // 11), and a `Table(` of the same name as A's in another schema on line 1 of another
        // file.
        let a = model_table("core", "a", &[("id", "INTEGER"), ("x", "TEXT")]);
        let mut b = model_table("core", "b", &[("id", "INTEGER")]);
        b.location.line = 10;
        b.columns[0].location.line = 11;
        let mut elsewhere = model_table("ops", "a", &[("id", "INTEGER")]);
        elsewhere.location.path = "other.py".into();
        let tables = [a, b, elsewhere];
        let at = |path: &str, line: u32, rule: Rule, schema: &str, table: &str| {
            Finding::new(
                rule,
                Location::new(path, line, 5),
                Target::column(schema, table, "x"),
                "m",
                "h",
            )
        };
        let findings = vec![
            at("models.py", 3, Rule::ColumnWithoutMigration, "core", "a"),
            at("models.py", 11, Rule::ColumnTypeMismatch, "core", "b"),
            at("models.py", 11, Rule::ColumnWithoutMigration, "core", "b"),
            at("other.py", 2, Rule::ColumnWithoutMigration, "ops", "a"),
        ];
        let ignore = |line: u32, codes: &[&str]| PyIgnore {
            codes: codes.iter().map(|c| c.to_string()).collect(),
            location: Location::new("models.py", line, 20),
        };
        // On A's class line (every code), on B's (DG005 only), and on a line with nothing.
        let py_ignores = [ignore(1, &[]), ignore(10, &["DG005"]), ignore(40, &[])];
        let kept = apply(findings, &mut Vec::new(), &tables, &py_ignores, &[]);
        let left: Vec<(Rule, u32)> = kept.iter().map(|f| (f.rule, f.location.line)).collect();
        assert_eq!(
            left,
            [
                (Rule::ColumnWithoutMigration, 11),
                (Rule::ColumnWithoutMigration, 2),
                (Rule::UnusedSuppression, 40),
            ]
        );
    }
}
