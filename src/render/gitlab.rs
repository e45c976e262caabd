//! `--format gitlab`: a GitLab Code Quality report (the Code Climate subset GitLab reads), for
//! the merge request widget: `artifacts: reports: codequality: driftguard.json`.
//!
//! One issue per finding: `check_name` is the rule code, `severity` is `critical` for an error
//! and `minor` for a warning, `location` is the model file and line, and `fingerprint` hashes
//! the rule and target (not the line), so GitLab sees a moved finding as the same issue and a
//! fixed one as resolved. A warning with a place (a file driftguard could not read) is an
//! `info` issue at that place, since it may hide findings; a warning with no place cannot be
//! shown by GitLab and is left to stderr, where it is printed in every format.

use serde::Serialize;

use crate::finding::{Finding, Warning};
use crate::report::Report;
use crate::rule::Severity;
use crate::source::Location;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: IssueLocation<'a>,
}

#[derive(Serialize)]
struct IssueLocation<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

fn location(location: &Location) -> IssueLocation<'_> {
    IssueLocation {
        path: &location.path,
        lines: Lines {
            begin: location.line.max(1),
        },
    }
}

fn issue(finding: &Finding, fingerprint: String) -> Issue<'_> {
    Issue {
        description: format!("{}: {}", finding.rule.code(), finding.message),
        check_name: finding.rule.code(),
        fingerprint,
        severity: match finding.severity {
            Severity::Error => "critical",
            Severity::Warning => "minor",
        },
        location: location(&finding.location),
    }
}

fn warning(warning: &Warning) -> Option<Issue<'_>> {
    let place = warning.location.as_ref()?;
    let identity = format!("driftguard/warning\0{}\0{}", place.path, warning.message);
    Some(Issue {
        description: format!("driftguard: {}", warning.message),
        check_name: "driftguard-warning",
        fingerprint: format!("{:016x}", super::fnv1a_64(identity.as_bytes())),
        severity: "info",
        location: location(place),
    })
}

/// Renders the report as one JSON array followed by a newline.
pub fn render(report: &Report) -> String {
    let fingerprints = super::fingerprints(&report.findings);
    let issues: Vec<Issue> = report
        .findings
        .iter()
        .zip(fingerprints)
        .map(|(finding, fingerprint)| issue(finding, fingerprint))
        .chain(report.warnings.iter().filter_map(warning))
        .collect();
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{TRICKY_PATH, clean_report, moved, shared_report};

    fn parse(report: &Report) -> Vec<serde_json::Value> {
        serde_json::from_str(&render(report)).expect("a JSON array")
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&shared_report()));
    }

    #[test]
    fn clean_is_an_empty_array() {
        assert_eq!(render(&clean_report()), "[]\n");
    }

    #[test]
    fn issues_have_gitlab_fields_and_severities() {
        let issues = parse(&shared_report());
        // Three findings and the located warning; the global warning has no place in GitLab.
        assert_eq!(issues.len(), 4);
        let severities: Vec<&str> = issues
            .iter()
            .map(|i| i["severity"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(severities, ["critical", "minor", "critical", "info"]);
        assert_eq!(issues[2]["check_name"], "DG002");
        assert_eq!(issues[2]["location"]["path"], TRICKY_PATH);
        assert_eq!(issues[2]["location"]["lines"]["begin"], 4);
        let prints: std::collections::HashSet<_> =
            issues.iter().map(|i| i["fingerprint"].clone()).collect();
        assert_eq!(prints.len(), issues.len());
    }

    #[test]
    fn fingerprints_do_not_depend_on_the_line() {
        let prints = |report: &Report| -> Vec<serde_json::Value> {
            parse(report)
                .iter()
                .map(|i| i["fingerprint"].clone())
                .collect()
        };
        assert_eq!(prints(&shared_report()), prints(&moved(7)));
    }
}
