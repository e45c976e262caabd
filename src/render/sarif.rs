//! `--format sarif`: SARIF 2.1.0, for GitHub code scanning (`upload-sarif`) and other viewers.
//!
//! One run. `tool.driver.rules` lists every rule driftguard has, not only those that fired, so
//! a viewer can explain any code; a rule's full description and help are its explanation (the
//! same text as `driftguard rule DG001`). Each result points at the model line through a URI
//! relative to `%SRCROOT%` (the checked root, which the uploader knows), carries the related
//! places (the migration that creates the table …) as `relatedLocations`, and a
//! `partialFingerprints` entry that hashes the rule and target, not the line, so that an alert
//! survives code moving around it. Warnings (files driftguard could not read) become
//! `invocations[0].toolExecutionNotifications`: they are about the run, not about the code.
//!
//! Columns are counted in characters (`columnKind: unicodeCodePoints`), as everywhere in
//! driftguard.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::{Finding, Warning};
use crate::report::Report;
use crate::rule::{Rule, Severity};
use crate::source::Location;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where a SARIF viewer sends users to learn about the tool.
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// The `partialFingerprints` key: bump the version if the hashed input ever changes.
const FINGERPRINT_KEY: &str = "driftguardTarget/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: Vec<Invocation<'a>>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text<'static>,
    full_description: Text<'static>,
    help: Help,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text<'a> {
    text: std::borrow::Cow<'a, str>,
}

impl<'a> Text<'a> {
    fn borrowed(text: &'a str) -> Self {
        Text { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text<'a>,
    locations: Vec<SarifLocation<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Text<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<SarifLocation<'a>>,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A repository-relative path as a relative URI reference: every byte outside the unreserved
/// set and `/` is percent-encoded, so spaces, `%`, `#`, `?` and a `:` (which would otherwise
/// read as a scheme) stay part of the path.
pub fn path_to_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

fn physical(location: &Location) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: path_to_uri(&location.path),
            uri_base_id: "%SRCROOT%",
        },
        // SARIF lines and columns start at 1; a position driftguard does not know is left out.
        region: (location.line > 0).then(|| Region {
            start_line: location.line,
            start_column: (location.column > 0).then_some(location.column),
        }),
    }
}

fn rule(rule: Rule) -> ReportingDescriptor {
    ReportingDescriptor {
        id: rule.code(),
        name: rule.name(),
        short_description: Text::borrowed(rule.summary()),
        full_description: Text::borrowed(rule.explanation()),
        help: Help {
            text: rule.explanation(),
            markdown: rule.explanation(),
        },
        default_configuration: Configuration {
            level: level(rule.default_severity()),
        },
    }
}

fn result(finding: &Finding, fingerprint: String) -> SarifResult<'_> {
    SarifResult {
        rule_id: finding.rule.code(),
        rule_index: Rule::ALL.iter().position(|r| *r == finding.rule),
        level: level(finding.severity),
        message: Text {
            text: super::plain_text(finding, false).into(),
        },
        locations: vec![SarifLocation {
            id: None,
            physical_location: physical(&finding.location),
            message: None,
        }],
        related_locations: finding
            .related
            .iter()
            .enumerate()
            .map(|(id, related)| SarifLocation {
                id: Some(id),
                physical_location: physical(&related.location),
                message: Some(Text::borrowed(&related.message)),
            })
            .collect(),
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
    }
}

fn notification(warning: &Warning) -> Notification<'_> {
    Notification {
        level: "warning",
        message: Text::borrowed(&warning.message),
        locations: warning
            .location
            .iter()
            .map(|location| SarifLocation {
                id: None,
                physical_location: physical(location),
                message: None,
            })
            .collect(),
    }
}

/// Renders the report as one SARIF log followed by a newline.
pub fn render(report: &Report) -> String {
    let fingerprints = super::fingerprints(&report.findings);
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "driftguard",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: Rule::ALL.iter().copied().map(rule).collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications: report.warnings.iter().map(notification).collect(),
            }],
            column_kind: "unicodeCodePoints",
            results: report
                .findings
                .iter()
                .zip(fingerprints)
                .map(|(finding, fingerprint)| result(finding, fingerprint))
                .collect(),
        }],
    };
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|e| {
        format!("{{\"version\": \"2.1.0\", \"runs\": [], \"error\": \"cannot serialize the report: {e}\"}}")
    });
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{clean_report, moved, shared_report};

    fn parse(report: &Report) -> serde_json::Value {
        serde_json::from_str(&render(report)).expect("valid JSON")
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&shared_report()));
    }

    #[test]
    fn clean_snapshot() {
        insta::assert_snapshot!(render(&clean_report()));
    }

    #[test]
    fn lists_every_rule_with_its_explanation() {
        let sarif = parse(&clean_report());
        let rules = &sarif["runs"][0]["tool"]["driver"]["rules"];
        assert_eq!(rules.as_array().map(Vec::len), Some(Rule::ALL.len()));
        for (index, rule) in Rule::ALL.iter().enumerate() {
            let entry = &rules[index];
            assert_eq!(entry["id"], rule.code());
            assert_eq!(entry["name"], rule.name());
            assert_eq!(entry["shortDescription"]["text"], rule.summary());
            assert_eq!(entry["fullDescription"]["text"], rule.explanation());
            assert_eq!(entry["help"]["markdown"], rule.explanation());
            assert_eq!(
                entry["defaultConfiguration"]["level"],
                level(rule.default_severity())
            );
        }
    }

    #[test]
    fn results_point_at_their_rule_and_place() {
        let sarif = parse(&shared_report());
        let run = &sarif["runs"][0];
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(sarif["$schema"], SCHEMA);
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let results = run["results"].as_array().expect("results");
        assert_eq!(results.len(), 3);
        for result in results {
            let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(
                run["tool"]["driver"]["rules"][index]["id"],
                result["ruleId"]
            );
        }
        assert_eq!(results[1]["level"], "warning");
        let location = &results[2]["locations"][0]["physicalLocation"];
        assert_eq!(
            location["artifactLocation"]["uri"],
            "app/legacy%2C%20v2%3A100%25.py"
        );
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(location["region"]["startLine"], 4);
        assert_eq!(location["region"]["startColumn"], 1);
        let related = &results[0]["relatedLocations"][0];
        assert_eq!(
            related["message"]["text"],
            "`core.customers` is created here"
        );
        assert_eq!(related["physicalLocation"]["region"]["startLine"], 3);
        let text = results[0]["message"]["text"].as_str().expect("text");
        assert!(text.contains("Add a migration that creates the column."));
        assert!(text.contains("ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS"));
    }

    #[test]
    fn warnings_are_notifications() {
        let sarif = parse(&shared_report());
        let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert_eq!(notes.as_array().map(Vec::len), Some(2));
        assert!(notes[0].get("locations").is_none());
        assert_eq!(
            notes[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
            7
        );
    }

    #[test]
    fn fingerprints_do_not_depend_on_the_line() {
        let prints = |report: &Report| -> Vec<serde_json::Value> {
            parse(report)["runs"][0]["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| r["partialFingerprints"].clone())
                .collect()
        };
        let before = prints(&shared_report());
        assert_eq!(before, prints(&moved(12)));
        assert!(before.iter().all(|p| p[FINGERPRINT_KEY].is_string()));
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(path_to_uri("app/models.py"), "app/models.py");
        assert_eq!(path_to_uri("a b/c:d#e?é.py"), "a%20b/c%3Ad%23e%3F%C3%A9.py");
    }

    /// Writes the shared findings' SARIF where `DRIFTGUARD_SARIF_OUT` says, for
    /// `tests/sarif_validate.sh` to give to the official validator; does nothing otherwise.
    #[test]
    fn write_shared_sarif_for_the_validator() {
        if let Some(path) = std::env::var_os("DRIFTGUARD_SARIF_OUT") {
            std::fs::write(&path, render(&shared_report())).expect("write the SARIF file");
        }
    }
}
