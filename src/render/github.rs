//! `--format github`: GitHub Actions workflow commands, which the runner turns into
//! annotations on the pull request's lines.
//!
//! One line per finding, `::error file=…,line=…,col=…,title=DG001 column-without-migration::…`
//! (`::warning` for warning severity), then one `::warning` per warning (with `file=` when it
//! has a place), then the summary line as plain log text. The message carries the help, the
//! related places and the suggested SQL; its newlines are escaped, so each command stays on
//! one line as the runner requires.
//!
//! Escaping follows the runner's rules (`actions/toolkit`, `command.ts`): in the message `%`,
//! `\r` and `\n` become `%25`, `%0D` and `%0A`; in properties `:` and `,` also become `%3A`
//! and `%2C`. `%` is replaced first so that an escape is never escaped twice. Before that,
//! control characters from file and column names (ESC …) become visible escapes
//! ([`super::visible`]): the runner prints the message in the job log.

use crate::finding::{Finding, Warning};
use crate::report::Report;
use crate::rule::Severity;
use crate::source::Location;

/// Escapes a command's message (the text after `::`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(kind: &str, location: Option<&Location>, title: &str, message: &str) -> String {
    let mut properties = Vec::new();
    if let Some(location) = location {
        properties.push(format!(
            "file={}",
            escape_property(&super::visible(&location.path))
        ));
        if location.line > 0 {
            properties.push(format!("line={}", location.line));
            if location.column > 0 {
                properties.push(format!("col={}", location.column));
            }
        }
    }
    properties.push(format!("title={}", escape_property(&super::visible(title))));
    format!(
        "::{kind} {}::{}\n",
        properties.join(","),
        escape_data(&super::visible(message))
    )
}

fn finding(finding: &Finding) -> String {
    let kind = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let title = format!("{} {}", finding.rule.code(), finding.rule.name());
    command(
        kind,
        Some(&finding.location),
        &title,
        &super::plain_text(finding, true),
    )
}

fn warning(warning: &Warning) -> String {
    command(
        "warning",
        warning.location.as_ref(),
        "driftguard warning",
        &warning.message,
    )
}

/// Renders the report as workflow commands and a summary line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        out.push_str(&finding(f));
    }
    for w in &report.warnings {
        out.push_str(&warning(w));
    }
    out.push_str(&super::human::summary_line(report));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{TRICKY_PATH, clean_report, shared_report};

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&shared_report()));
    }

    #[test]
    fn clean_snapshot() {
        insta::assert_snapshot!(render(&clean_report()));
    }

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("a%b\r\nc: d, e"), "a%25b%0D%0Ac: d, e");
        assert_eq!(escape_property("a%b\r\nc: d, e"), "a%25b%0D%0Ac%3A d%2C e");
        // `%` first: an escape sequence in the input is escaped, not kept.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn every_command_is_one_line_with_escaped_properties() {
        let text = render(&shared_report());
        let lines: Vec<&str> = text.split('\n').filter(|l| !l.is_empty()).collect();
        // Three findings, two warnings, the summary line.
        assert_eq!(lines.len(), 6, "{text}");
        for line in &lines[..5] {
            assert!(line.starts_with("::error ") || line.starts_with("::warning "));
            assert!(!line.contains('\r'));
        }
        assert!(text.contains(&format!("file={},", escape_property(TRICKY_PATH))));
        assert!(text.contains("file=app/legacy%2C v2%3A100%25.py,line=4,col=1,"));
        assert!(text.contains("title=DG001 column-without-migration::"));
        assert!(text.contains("::warning title=driftguard warning::a second"));
        // The suggested SQL is in the message.
        assert!(text.contains("%0A%0AALTER TABLE core.customers ADD COLUMN IF NOT EXISTS"));
    }
}
