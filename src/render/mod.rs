//! Renderers: a [`Report`](crate::report::Report) → text for people or machines.
//!
//! One file per format behind one [`Format`] enum. Renderers only read findings; they never
//! decide anything about them, and each is a pure function from a report to a `String` (the
//! caller writes it, handling closed pipes). The few things several formats share live here:
//! the plain-text body of a finding, its display name, and its fingerprint.
//!
//! Fingerprints (SARIF `partialFingerprints`, GitLab `fingerprint`) hash the rule and the
//! target — never the path or line — so that moving code keeps a finding's identity, as
//! [`Finding::key`](crate::finding::Finding::key) does between snapshots. The hash is a
//! hand-written FNV-1a 64: std's `DefaultHasher` may change between Rust versions, and a
//! fingerprint that changes with the compiler would make every CI upload look new.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

use std::collections::HashMap;

use crate::finding::{Finding, Target};

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with the model line and the suggested SQL.
    Human,
    /// Versioned JSON (`"version": 1`).
    Json,
    /// GitHub Actions workflow commands: annotations on the pull request's lines.
    Github,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, one test case per finding, for GitLab, Jenkins and other CI test reports.
    Junit,
    /// GitLab Code Quality JSON, for the merge request widget.
    Gitlab,
    /// Markdown, for a pull request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

/// What a finding is about, as people read it: `core.customers.contact_preference`, or
/// `core.customers` for a table; an enum finding adds its type and value in parentheses:
/// `core.bookings.status (core.booking_status = 'archived')`.
pub fn target_name(target: &Target) -> String {
    let mut name = format!("{}.{}", target.schema, target.table);
    if let Some(column) = &target.column {
        name.push('.');
        name.push_str(column);
    }
    match (&target.r#enum, &target.value) {
        (Some(ty), Some(value)) => name.push_str(&format!(" ({ty} = '{value}')")),
        (Some(ty), None) => name.push_str(&format!(" ({ty})")),
        (None, Some(value)) => name.push_str(&format!(" = '{value}'")),
        (None, None) => {}
    }
    name
}

/// A finding as plain text: the message, the help, optionally the related places, and the
/// suggested SQL after a blank line. Lines are separated by `\n`.
pub fn plain_text(finding: &Finding, with_related: bool) -> String {
    let mut text = format!("{}\n{}", finding.message, finding.help);
    if with_related {
        for related in &finding.related {
            text.push_str(&format!("\n{}: {}", related.location, related.message));
        }
    }
    if let Some(sql) = &finding.suggestion {
        text.push_str("\n\n");
        text.push_str(sql);
    }
    text
}

/// Whether a character would act on a terminal or a CI log instead of showing: C0 and C1
/// controls (ESC starts colour and cursor sequences, CR rewrites the line), DEL, and the
/// Unicode direction overrides that reorder what is shown ("Trojan Source"). Newlines and tabs
/// are text.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text for a terminal or a log: every [`hidden`] character written as an escape (`\x1b`,
/// `\u{202e}`), except the CR of a CRLF line end. File, table and column names come from the
/// user's files and may hold them.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            c if !hidden(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A source file's text for a snippet: every [`hidden`] character replaced by a visible one
/// of the same length in bytes (`?`, `¿`, `�`), so that spans into the text stay valid.
pub fn visible_same_length(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| hidden(c) && c != '\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\r' => c,
                c if hidden(c) => match c.len_utf8() {
                    1 => '?',
                    2 => '¿',
                    _ => '\u{fffd}',
                },
                c => c,
            })
            .collect(),
    )
}

/// FNV-1a, 64 bits: small, fixed and the same on every platform and Rust version.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

/// The fingerprint of a finding's identity (rule and target), as 16 hex digits.
///
/// Every field is written with an explicit tag so that `None` and `Some("")`, or a dot inside
/// a name, never make two different targets hash the same input.
fn identity_hash(finding: &Finding, occurrence: usize) -> String {
    let target = &finding.target;
    let mut input = String::from("driftguard/v1\0");
    input.push_str(finding.rule.code());
    for field in [
        Some(&target.schema),
        Some(&target.table),
        target.column.as_ref(),
        target.r#enum.as_ref(),
        target.value.as_ref(),
    ] {
        match field {
            Some(text) => {
                input.push_str("\0s");
                input.push_str(text);
            }
            None => input.push_str("\0n"),
        }
    }
    if occurrence > 0 {
        input.push_str(&format!("\0#{occurrence}"));
    }
    format!("{:016x}", fnv1a_64(input.as_bytes()))
}

/// The fingerprint of each finding, in order. Two findings with the same rule and target (two
/// classes mapping one table) get distinct fingerprints: the second is hashed with its
/// occurrence number, counted in report order.
pub fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<(crate::rule::Rule, &Target), usize> = HashMap::new();
    findings
        .iter()
        .map(|finding| {
            let count = seen.entry(finding.key()).or_insert(0);
            let fingerprint = identity_hash(finding, *count);
            *count += 1;
            fingerprint
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod test_support {
    //! One shared set of findings, rendered by every format's snapshot test.

    use crate::finding::{Finding, Related, Target, Warning};
    use crate::report::{Mode, Report, Summary};
    use crate::rule::{Rule, Severity};
    use crate::source::Location;

    /// A path with every character GitHub's property escaping must handle.
    pub const TRICKY_PATH: &str = "app/legacy, v2:100%.py";

    const MODELS: &str = "apps/backend/models.py";
    const MIGRATION: &str = "database/migrations/001.sql";

    fn target(schema: &str, table: &str, column: Option<&str>) -> Target {
        match column {
            Some(column) => Target::column(schema, table, column),
            None => Target::table(schema, table),
        }
    }

    fn models_text() -> String {
        let mut text = String::from("from sqlalchemy.orm import Mapped, mapped_column\n\n");
        text.push_str("class Customer(Base):\n");
        text.push_str("    __tablename__ = \"customers\"\n");
        text.push_str("    __table_args__ = {\"schema\": \"core\"}\n");
        text.push_str("    id: Mapped[int] = mapped_column(primary_key=True)\n");
        text.push_str("    contact_preference: Mapped[str] = mapped_column(String(20), comment=\"sms, email: 100% <&> |\")\n");
        text.push('\n');
        text.push_str("class Order(Base):\n");
        text.push_str("    __tablename__ = \"orders\"\n");
        text.push_str("    __table_args__ = {\"schema\": \"core\"}\n");
        text.push_str("    id: Mapped[int] = mapped_column(primary_key=True)\n");
        text.push_str("    notes_a_b: Mapped[str]\n");
        text
    }

    /// DG001 with a related label and a suggestion; DG002 at table level in a file whose path
    /// needs escaping; a warning-severity finding whose message has a newline and markup
    /// characters; a global warning and a located one.
    pub fn shared_report() -> Report {
        let findings = vec![
            Finding {
                rule: Rule::ColumnWithoutMigration,
                severity: Severity::Error,
                message: "column `core.customers.contact_preference` is mapped by `Customer` but no migration creates it; queries fail with `column customers.contact_preference does not exist`".to_string(),
                help: "Add a migration that creates the column.".to_string(),
                suggestion: Some(
                    "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);\nCOMMENT ON COLUMN core.customers.contact_preference IS 'sms, email: 100% <&> |';"
                        .to_string(),
                ),
                location: Location::new(MODELS, 7, 5),
                target: target("core", "customers", Some("contact_preference")),
                related: vec![Related {
                    message: "`core.customers` is created here".to_string(),
                    location: Location::new(MIGRATION, 3, 1),
                }],
            },
            Finding {
                rule: Rule::ColumnWithoutMigration,
                severity: Severity::Warning,
                message: "column `core.orders.notes_a_b` looks odd: 100% <&> | a, b: c\nsecond line\r\nthird line"
                    .to_string(),
                help: "Check the column's name | or ignore it.".to_string(),
                suggestion: None,
                location: Location::new(MODELS, 13, 5),
                target: target("core", "orders", Some("notes_a_b")),
                related: Vec::new(),
            },
            Finding {
                rule: Rule::TableWithoutMigration,
                severity: Severity::Error,
                message: "table `billing.invoices` is mapped by `Invoice` but no migration creates it; queries fail with `relation billing.invoices does not exist`".to_string(),
                help: "Add a migration that creates the table.".to_string(),
                suggestion: Some(
                    "CREATE TABLE IF NOT EXISTS billing.invoices (\n    id SERIAL PRIMARY KEY,\n    memo TEXT -- ```\n);"
                        .to_string(),
                ),
                location: Location::new(TRICKY_PATH, 4, 1),
                target: target("billing", "invoices", None),
                related: Vec::new(),
            },
        ];
        let warnings = vec![
            Warning::global(
                "a second config file `.driftguard.yml` is ignored: 50% <&>, see \"driftguard.yml\"",
            ),
            Warning::at(
                Location::new("database/migrations/002.sql", 7, 3),
                "could not read the statement near `a|b`\n(skipped)\u{1}",
            ),
        ];
        let mut sources = crate::report::Sources::new();
        sources.insert(MODELS.to_string(), models_text());
        sources.insert(
            MIGRATION.to_string(),
            "CREATE SCHEMA core;\n\nCREATE TABLE core.customers (id serial primary key);\n"
                .to_string(),
        );
        sources.insert(
            TRICKY_PATH.to_string(),
            "import sqlalchemy as sa\n\n\nclass Invoice(Base):\n    __tablename__ = \"invoices\"\n"
                .to_string(),
        );
        Report {
            mode: Mode::All,
            summary: Summary {
                model_files: 2,
                tables: 3,
                columns: 5,
                migration_files: 2,
                findings: findings.len(),
                preexisting: 0,
            },
            findings,
            warnings,
            fail_on: Some(Severity::Error),
            nothing_to_check: false,
            sources,
        }
    }

    /// A run with nothing to report.
    pub fn clean_report() -> Report {
        Report {
            findings: Vec::new(),
            warnings: Vec::new(),
            summary: Summary {
                model_files: 2,
                tables: 3,
                columns: 5,
                migration_files: 2,
                findings: 0,
                preexisting: 0,
            },
            sources: crate::report::Sources::new(),
            ..shared_report()
        }
    }

    /// The shared report with every finding moved down by `lines` lines.
    pub fn moved(lines: u32) -> Report {
        let mut report = shared_report();
        for finding in &mut report.findings {
            finding.location.line += lines;
        }
        report
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn issue_11_control_characters_are_shown_not_obeyed() {
        assert_eq!(visible("plain\nline\ttab"), "plain\nline\ttab");
        assert_eq!(
            visible("evil\u{1b}[31mred\r\u{7f}\u{9b}\u{202e}x"),
            "evil\\x1b[31mred\\x0d\\x7f\\x9b\\u{202e}x"
        );
        assert_eq!(visible("a\r\nb\u{1}"), "a\r\nb\\x01");
        let source = "a = '\u{1b}[2J'\r\nb\u{9b}\u{202e}\n";
        let shown = visible_same_length(source);
        assert_eq!(shown.len(), source.len());
        assert_eq!(shown, "a = '?[2J'\r\nb¿\u{fffd}\n");
    }
    use super::test_support::*;
    use super::*;

    #[test]
    fn fnv1a_64_matches_the_reference_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fingerprints_are_pinned() {
        // A fingerprint that changes breaks every stored code-scanning alert: change this
        // only on purpose, with a CHANGELOG entry.
        let report = shared_report();
        insta::assert_snapshot!(fingerprints(&report.findings).join("\n"));
    }

    #[test]
    fn fingerprints_ignore_the_line_and_path() {
        let mut report = moved(40);
        report.findings[0].location.path = "elsewhere.py".into();
        assert_eq!(
            fingerprints(&shared_report().findings),
            fingerprints(&report.findings)
        );
    }

    #[test]
    fn fingerprints_differ_by_rule_target_and_occurrence() {
        let report = shared_report();
        let mut findings = report.findings.clone();
        findings.push(report.findings[0].clone());
        let mut table = report.findings[0].clone();
        table.target.column = None;
        findings.push(table);
        let prints = fingerprints(&findings);
        let unique: std::collections::HashSet<_> = prints.iter().collect();
        assert_eq!(unique.len(), prints.len(), "{prints:?}");
    }

    #[test]
    fn target_names() {
        let report = shared_report();
        assert_eq!(
            target_name(&report.findings[0].target),
            "core.customers.contact_preference"
        );
        assert_eq!(target_name(&report.findings[2].target), "billing.invoices");
    }

    #[test]
    fn human_snapshot() {
        let report = shared_report();
        insta::assert_snapshot!(human::render(
            &report,
            &report.sources,
            human::Style {
                color: false,
                width: 100
            }
        ));
    }

    #[test]
    fn json_snapshot() {
        insta::assert_snapshot!(json::render(&shared_report()));
    }
}
