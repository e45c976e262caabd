//! `--format json`: the stable, versioned machine format.
//!
//! `version: 1` only grows: new optional fields may be added, no field changes meaning.

use serde::Serialize;

use crate::finding::{Finding, Warning};
use crate::report::{Report, Summary};
use crate::source::Location;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    mode: &'static str,
    findings: Vec<JsonFinding<'a>>,
    warnings: Vec<JsonWarning<'a>>,
    summary: &'a Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    help: &'a str,
    suggestion: Option<&'a str>,
    location: &'a Location,
    target: &'a crate::finding::Target,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<&'a crate::finding::Related>,
}

#[derive(Serialize)]
struct JsonWarning<'a> {
    message: &'a str,
    location: Option<&'a Location>,
}

fn finding(f: &Finding) -> JsonFinding<'_> {
    JsonFinding {
        rule: f.rule.code(),
        name: f.rule.name(),
        severity: f.severity.as_str(),
        message: &f.message,
        help: &f.help,
        suggestion: f.suggestion.as_deref(),
        location: &f.location,
        target: &f.target,
        related: f.related.iter().collect(),
    }
}

fn warning(w: &Warning) -> JsonWarning<'_> {
    JsonWarning {
        message: &w.message,
        location: w.location.as_ref(),
    }
}

/// Renders the report as one JSON document followed by a newline.
pub fn render(report: &Report) -> String {
    let output = Output {
        version: 1,
        tool: Tool {
            name: "driftguard",
            version: env!("CARGO_PKG_VERSION"),
        },
        mode: report.mode.as_str(),
        findings: report.findings.iter().map(finding).collect(),
        warnings: report.warnings.iter().map(warning).collect(),
        summary: &report.summary,
    };
    let mut text = serde_json::to_string_pretty(&output).unwrap_or_else(|e| {
        format!("{{\"version\": 1, \"error\": \"cannot serialize the report: {e}\"}}")
    });
    text.push('\n');
    text
}
