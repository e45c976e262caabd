//! `--format junit`: JUnit XML, the test-report format GitLab, Jenkins, Azure Pipelines and
//! most CI systems display.
//!
//! One `<testsuite name="driftguard">`; each finding is a `<testcase>` named after its rule and
//! target (`DG001 core.customers.contact_preference`) whose class name is the model file, with
//! a `<failure type="DG001">` holding the message, help, places and suggested SQL. A finding of
//! warning severity is a failure too (its text says `warning`): a test report has no softer
//! state that CI tools show. A run with no findings is one passing test case,
//! `driftguard check`, so the report shows green rather than empty. Warnings (files driftguard
//! could not read) go into the suite's `<system-err>`.
//!
//! Text is escaped for XML 1.0, and characters XML 1.0 cannot hold at all (control characters
//! other than tab, newline and carriage return; U+FFFE, U+FFFF) are dropped: one stray byte in
//! a model file must not make the whole report unreadable. In attributes, tab, newline and
//! carriage return are written as character references, since parsers turn them into spaces.

use crate::finding::Finding;
use crate::report::Report;

/// Whether XML 1.0 can hold the character at all.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Escapes element text.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| allowed(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (written between double quotes).
pub fn escape_attr(text: &str) -> String {
    escape_text(text)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
}

fn testcase(finding: &Finding) -> String {
    let path = &finding.location.path;
    let name = format!(
        "{} {}",
        finding.rule.code(),
        super::target_name(&finding.target)
    );
    let mut details = format!(
        "{} {}({}) at {}\n{}",
        finding.severity.as_str(),
        finding.rule.code(),
        finding.rule.name(),
        finding.location,
        super::plain_text(finding, true)
    );
    details.push('\n');
    format!(
        "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
        escape_attr(path),
        escape_attr(&name),
        escape_attr(path),
        finding.location.line,
        escape_attr(&finding.message),
        escape_attr(finding.rule.code()),
        escape_text(&details),
    )
}

/// Renders the report as one JUnit XML document.
pub fn render(report: &Report) -> String {
    let failures = report.findings.len();
    let tests = failures.max(1);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"driftguard\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n"
    ));
    out.push_str(&format!(
        "  <testsuite name=\"driftguard\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n"
    ));
    if report.findings.is_empty() {
        out.push_str(&format!(
            "    <testcase classname=\"driftguard\" name=\"driftguard check\">\n      <system-out>{}</system-out>\n    </testcase>\n",
            escape_text(&super::human::summary_line(report))
        ));
    }
    for finding in &report.findings {
        out.push_str(&testcase(finding));
    }
    if !report.warnings.is_empty() {
        let lines: String = report
            .warnings
            .iter()
            .map(|w| format!("{}\n", super::human::warning_line(w)))
            .collect();
        out.push_str(&format!(
            "    <system-err>{}</system-err>\n",
            escape_text(&lines)
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{clean_report, shared_report};

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&shared_report()));
    }

    #[test]
    fn clean_snapshot() {
        insta::assert_snapshot!(render(&clean_report()));
    }

    #[test]
    fn escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            escape_text("a <b> & \"c\" 'd'\u{1}\u{0}\u{FFFE}\r\n"),
            "a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;&#13;\n"
        );
        assert_eq!(escape_attr("a\tb\nc"), "a&#9;b&#10;c");
        assert_eq!(escape_text("é 😀"), "é 😀");
    }

    #[test]
    fn one_testcase_per_finding_and_a_green_one_when_clean() {
        let text = render(&shared_report());
        assert_eq!(text.matches("<testcase ").count(), 3);
        assert_eq!(text.matches("<failure ").count(), 3);
        assert!(text.contains("name=\"DG001 core.customers.contact_preference\""));
        assert!(text.contains("name=\"DG002 billing.invoices\""));
        assert!(text.contains("type=\"DG002\""));
        assert!(text.contains("100% &lt;&amp;&gt;"));
        assert!(!text.contains('\u{1}'));
        let clean = render(&clean_report());
        assert_eq!(clean.matches("<testcase ").count(), 1);
        assert!(clean.contains("name=\"driftguard check\""));
        assert!(!clean.contains("<failure"));
    }
}
