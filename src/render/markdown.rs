//! `--format markdown`: a report for a pull request comment or `$GITHUB_STEP_SUMMARY`.
//!
//! A heading, the summary line, a table of findings (severity, rule, `path:line`, message),
//! then per finding its help, related places and suggested SQL in a ```` ```sql ```` block;
//! warnings last. A clean run is the heading and the `No findings (…)` line.
//!
//! Text comes from messages that already use backticks for names, so escaping keeps code
//! spans as they are and backslash-escapes the characters that would otherwise turn into
//! markup (`*`, `_`, `<` …) outside them. In table cells `|` is escaped everywhere — GFM
//! splits cells before it parses code spans — and line breaks become `<br>` (spaces inside a
//! code span). Fences around SQL are longer than any run of backticks in it, so a model's
//! comment with ```` ``` ```` cannot close the block early.

use crate::finding::Finding;
use crate::report::Report;
use crate::rule::Severity;

/// Characters that are markup somewhere in GFM inline text.
const MARKUP: &[char] = &['\\', '*', '_', '[', ']', '<', '>', '&', '~', '|', '#'];

/// Text with the line endings `\r\n` and `\r` made `\n`, and other control characters
/// (which Markdown cannot show) dropped.
fn unix_newlines(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// Length of the run of `c` starting at `chars[start]`.
fn run_length(chars: &[char], start: usize, c: char) -> usize {
    chars[start..].iter().take_while(|x| **x == c).count()
}

/// The start of the next run of exactly `n` backticks at or after `from`, as GFM closes a
/// code span.
fn closing_run(chars: &[char], from: usize, n: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let len = run_length(chars, i, '`');
            if len == n {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// Escapes text for inline Markdown, keeping its code spans. `in_table`: for a table cell.
pub fn inline(text: &str, in_table: bool) -> String {
    let chars: Vec<char> = unix_newlines(text).chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let n = run_length(&chars, i, '`');
            if let Some(close) = closing_run(&chars, i + n, n) {
                for &c in &chars[i..close + n] {
                    match c {
                        '\n' => out.push(' '),
                        '|' if in_table => out.push_str("\\|"),
                        c => out.push(c),
                    }
                }
                i = close + n;
            } else {
                for _ in 0..n {
                    out.push_str("\\`");
                }
                i += n;
            }
            continue;
        }
        match c {
            '\n' => out.push_str("<br>"),
            c if MARKUP.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A code span holding `text` literally (for paths and names), whatever backticks it has.
pub fn code_span(text: &str, in_table: bool) -> String {
    let text = unix_newlines(text).replace('\n', " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    let body = if in_table {
        text.replace('|', "\\|")
    } else {
        text
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// A fenced code block whose fence no line of `code` can close.
pub fn code_block(language: &str, code: &str) -> String {
    let code = unix_newlines(code);
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!(
        "{fence}{language}\n{}\n{fence}\n",
        code.trim_end_matches('\n')
    )
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn row(finding: &Finding) -> String {
    let location = format!("{}:{}", finding.location.path, finding.location.line);
    format!(
        "| {} | {} {} | {} | {} |\n",
        severity(finding.severity),
        finding.rule.code(),
        finding.rule.name(),
        code_span(&location, true),
        inline(&finding.message, true),
    )
}

fn section(finding: &Finding) -> String {
    let mut out = format!(
        "### {} {}\n\n{}: {}\n\n",
        finding.rule.code(),
        code_span(&super::target_name(&finding.target), false),
        code_span(&finding.location.to_string(), false),
        inline(&finding.help, false),
    );
    for related in &finding.related {
        out.push_str(&format!(
            "- {}: {}\n",
            code_span(&related.location.to_string(), false),
            inline(&related.message, false)
        ));
    }
    if !finding.related.is_empty() {
        out.push('\n');
    }
    if let Some(sql) = &finding.suggestion {
        out.push_str(&code_block("sql", sql));
        out.push('\n');
    }
    out
}

/// Renders the report as one Markdown document.
pub fn render(report: &Report) -> String {
    let mut out = String::from("## driftguard\n\n");
    out.push_str(&inline(&super::human::summary_line(report), false));
    out.push_str("\n\n");
    if !report.findings.is_empty() {
        out.push_str("| severity | rule | location | message |\n| --- | --- | --- | --- |\n");
        for finding in &report.findings {
            out.push_str(&row(finding));
        }
        out.push('\n');
        for finding in &report.findings {
            out.push_str(&section(finding));
        }
    }
    if !report.warnings.is_empty() {
        out.push_str("### Warnings\n\n");
        for warning in &report.warnings {
            let place = warning
                .location
                .as_ref()
                .map(|l| format!("{}: ", code_span(&l.to_string(), false)))
                .unwrap_or_default();
            out.push_str(&format!("- {place}{}\n", inline(&warning.message, false)));
        }
        out.push('\n');
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
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
    fn inline_escapes_markup_outside_code_spans_only() {
        assert_eq!(inline("a <b> & *c*", false), "a \\<b\\> \\& \\*c\\*");
        assert_eq!(inline("`a_b|c` d_e", false), "`a_b|c` d\\_e");
        assert_eq!(inline("`a_b|c` d|e", true), "`a_b\\|c` d\\|e");
        assert_eq!(inline("one\r\ntwo\rthree", true), "one<br>two<br>three");
        assert_eq!(inline("`a\nb`", true), "`a b`");
        assert_eq!(inline("a\u{1}b\u{1b}[31m", false), "ab\\[31m");
        // An unclosed backtick is literal text.
        assert_eq!(inline("it`s", false), "it\\`s");
        assert_eq!(inline("``a`b``", false), "``a`b``");
    }

    #[test]
    fn code_spans_and_blocks_survive_backticks() {
        assert_eq!(code_span("a|b.py:3", true), "`a\\|b.py:3`");
        assert_eq!(code_span("a`b", false), "``a`b``");
        assert_eq!(code_span("`a", false), "`` `a ``");
        assert_eq!(code_block("sql", "SELECT 1;"), "```sql\nSELECT 1;\n```\n");
        assert_eq!(
            code_block("sql", "-- ```\nSELECT 1;\n"),
            "````sql\n-- ```\nSELECT 1;\n````\n"
        );
    }

    #[test]
    fn table_rows_keep_their_cells() {
        let text = render(&shared_report());
        let rows: Vec<&str> = text
            .split('\n')
            .filter(|l| l.starts_with("| ") && !l.starts_with("| ---"))
            .collect();
        assert_eq!(rows.len(), 4, "{text}");
        for row in rows {
            // Five unescaped bars: four cells.
            let bars = row
                .match_indices('|')
                .filter(|(i, _)| !row[..*i].ends_with('\\'));
            assert_eq!(bars.count(), 5, "{row}");
        }
        assert!(text.contains("````sql\nCREATE TABLE IF NOT EXISTS billing.invoices"));
    }

    #[test]
    fn clean_says_no_findings() {
        let text = render(&clean_report());
        assert!(text.contains("No findings"), "{text}");
        assert!(!text.contains("| rule"));
    }
}
