//! `--format human`: miette diagnostics with the model line, secondary labels into migrations,
//! the suggested SQL, and a summary line.
//!
//! Colour is decided by the caller (`--color`, `NO_COLOR`, whether stdout is a terminal) and
//! passed in; the theme and width are fixed here so that snapshots are stable.

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};

use crate::error::{ConfigSpan, Error};
use crate::finding::Finding;
use crate::report::{Report, Sources};
use crate::rule::{Rule, Severity};
use crate::source::{Location, SourceFile};

/// Options that change how the text looks, not what it says.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// One finding as a miette diagnostic.
struct FindingDiagnostic {
    message: String,
    code: String,
    severity: Severity,
    help: String,
    source: Option<NamedSource<String>>,
    label: Option<LabeledSpan>,
    related: Vec<RelatedDiagnostic>,
}

/// A secondary place in another file (or the same one), as a related diagnostic.
struct RelatedDiagnostic {
    message: String,
    source: Option<NamedSource<String>>,
    label: Option<LabeledSpan>,
}

impl fmt::Debug for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }
}

impl fmt::Debug for RelatedDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for RelatedDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RelatedDiagnostic {}

impl Diagnostic for RelatedDiagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .clone()
            .map(|l| Box::new(std::iter::once(l)) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}

/// The span of the word at a location (an identifier, or the rest of the line).
fn span_at(text: &str, location: &Location) -> Option<SourceSpan> {
    let file = SourceFile::new(location.path.to_string(), text);
    if location.line as usize > file.line_count() {
        return None;
    }
    let line = file.line_text(location.line);
    let start_in_line: usize = line
        .chars()
        .take((location.column as usize).saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    let rest = &line[start_in_line.min(line.len())..];
    let word_len: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .map(char::len_utf8)
        .sum();
    let len = if word_len == 0 {
        rest.trim_end().len().max(1)
    } else {
        word_len
    };
    Some(SourceSpan::new(
        (file.line_start(location.line) + start_in_line).into(),
        len,
    ))
}

fn labeled(
    sources: &Sources,
    location: &Location,
    label: &str,
) -> (Option<NamedSource<String>>, Option<LabeledSpan>) {
    let Some(text) = sources.get(&*location.path) else {
        return (None, None);
    };
    let Some(span) = span_at(text, location) else {
        return (None, None);
    };
    let source = NamedSource::new(
        super::visible(&location.path),
        super::visible_same_length(text).into_owned(),
    )
    .with_language("text");
    (
        Some(source),
        Some(LabeledSpan::new_with_span(
            Some(super::visible(label).into_owned()),
            span,
        )),
    )
}

/// The short text under the model line: what is wrong there.
fn primary_label(finding: &Finding) -> String {
    let target = &finding.target;
    let column = target.column.as_deref().unwrap_or_default();
    match finding.rule {
        Rule::ColumnWithoutMigration => format!("`{column}` has no migration"),
        Rule::TableWithoutMigration => {
            format!("`{}.{}` has no migration", target.schema, target.table)
        }
        Rule::EnumValueWithoutMigration => format!(
            "`{}` is not a value of `{}`",
            target.value.as_deref().unwrap_or_default(),
            target.r#enum.as_deref().unwrap_or_default()
        ),
        Rule::EnumTypeWithoutMigration => format!(
            "`{}` has no migration",
            target.r#enum.as_deref().unwrap_or_default()
        ),
        Rule::ColumnTypeMismatch => "the migrated column has another type".to_string(),
        Rule::NullabilityMismatch => "the migrated column disagrees about NULL".to_string(),
        Rule::ForeignKeyTargetMissing => format!(
            "`{}` has no migration",
            target.references.as_deref().unwrap_or_default()
        ),
        Rule::UnusedSuppression => "silences nothing".to_string(),
        Rule::MigrationWillFail => "PostgreSQL rejects this".to_string(),
        Rule::AlembicMultipleHeads => "a second head".to_string(),
        Rule::NonstandardMigrationName => "named against the standard".to_string(),
        Rule::MigrationHeaderMissing => "no complete header".to_string(),
        Rule::DdlOutsideTransaction => "outside `BEGIN; … COMMIT;`".to_string(),
        Rule::NonIdempotentDdl => "fails when it runs twice".to_string(),
        Rule::RollbackScriptMissing => "no rollback script".to_string(),
        Rule::ColumnCommentMissing => "no `COMMENT ON COLUMN`".to_string(),
        Rule::DuplicateMigration => "a second copy".to_string(),
        Rule::MigrationOrderAmbiguous => "the same ordering prefix".to_string(),
        Rule::ColumnMissingInDatabase => format!("`{column}` is not in the database"),
        Rule::TableMissingInDatabase => {
            format!(
                "`{}.{}` is not in the database",
                target.schema, target.table
            )
        }
        Rule::EnumValueMissingInDatabase => format!(
            "`{}` is not a value of `{}` in the database",
            target.value.as_deref().unwrap_or_default(),
            target.r#enum.as_deref().unwrap_or_default()
        ),
        Rule::EnumTypeMissingInDatabase => format!(
            "`{}` is not in the database",
            target.r#enum.as_deref().unwrap_or_default()
        ),
    }
}

fn diagnostic(finding: &Finding, sources: &Sources) -> FindingDiagnostic {
    let label = primary_label(finding);
    let (source, label) = labeled(sources, &finding.location, &label);
    let mut help = finding.help.clone();
    if source.is_none() {
        help = format!("{help}\n  at {}", finding.location);
    }
    if let Some(sql) = &finding.suggestion {
        help.push_str("\n\n");
        for line in sql.split('\n') {
            help.push_str("    ");
            help.push_str(line);
            help.push('\n');
        }
    }
    let related = finding
        .related
        .iter()
        .map(|r| {
            let (source, label) = labeled(sources, &r.location, "here");
            let message = if source.is_none() {
                format!("{} ({})", r.message, r.location)
            } else {
                r.message.clone()
            };
            RelatedDiagnostic {
                message: super::visible(&message).into_owned(),
                source,
                label,
            }
        })
        .collect();
    FindingDiagnostic {
        message: super::visible(&finding.message).into_owned(),
        code: format!("{}({})", finding.rule.code(), finding.rule.name()),
        severity: finding.severity,
        help: super::visible(help.trim_end()).into_owned(),
        source,
        label,
        related,
    }
}

/// Renders the findings and the summary line (stdout text).
pub fn render(report: &Report, sources: &Sources, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    for finding in &report.findings {
        let diagnostic = diagnostic(finding, sources);
        let mut text = String::new();
        if handler.render_report(&mut text, &diagnostic).is_err() {
            text = super::visible(&format!("{}: {}\n", finding.location, finding.message))
                .into_owned();
        }
        out.push_str(&text);
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `Found 1 error (12 tables, 80 columns, 14 migration files).`
pub fn summary_line(report: &Report) -> String {
    if report.nothing_to_check {
        return "No Python, SQL or config file changed: nothing to check.".to_string();
    }
    let s = &report.summary;
    let counts = format!(
        "{}, {}, {} checked",
        plural(s.tables, "table", "tables"),
        plural(s.columns, "column", "columns"),
        plural(s.migration_files, "migration file", "migration files"),
    );
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = report.findings.len() - errors;
    let preexisting = if s.preexisting > 0 {
        format!(
            "; {} known from before this change or the baseline, not reported",
            plural(s.preexisting, "finding", "findings")
        )
    } else {
        String::new()
    };
    if report.findings.is_empty() {
        format!("No findings ({counts}{preexisting}).")
    } else {
        let mut parts = Vec::new();
        if errors > 0 {
            parts.push(plural(errors, "error", "errors"));
        }
        if warnings > 0 {
            parts.push(plural(warnings, "warning", "warnings"));
        }
        format!("Found {} ({counts}{preexisting}).", parts.join(" and "))
    }
}

/// A warning line for stderr: `warning: path:line:col: message`.
pub fn warning_line(warning: &crate::finding::Warning) -> String {
    let line = match &warning.location {
        Some(location) => format!("warning: {location}: {}", warning.message),
        None => format!("warning: {}", warning.message),
    };
    super::visible(&line).into_owned()
}

/// A "could not run" error for stderr: `error: message`, and for a config error the labelled
/// line of the file under it.
pub fn error_text(error: &Error, color: bool) -> String {
    let mut out = format!("error: {}\n", super::visible(&error.to_string()));
    if let Error::Config(config) = error
        && let Some(span) = &config.span
    {
        out.push_str(&config_snippet(span, color));
    }
    out
}

/// The labelled span of a config file, as miette draws it (without miette's header line: the
/// message is already on the `error:` line above).
fn config_snippet(span: &ConfigSpan, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let diagnostic = RelatedDiagnostic {
        message: String::new(),
        source: Some(NamedSource::new(span.name.clone(), span.text.clone())),
        label: Some(LabeledSpan::new_with_span(
            Some("here".to_string()),
            SourceSpan::new(span.start.into(), span.len.max(1)),
        )),
    };
    let mut text = String::new();
    if handler.render_report(&mut text, &diagnostic).is_err() {
        return String::new();
    }
    // Drop the header line (the empty message) and keep the snippet.
    let snippet: Vec<&str> = text
        .split('\n')
        .skip_while(|line| !line.contains('╭') && !line.contains(",-"))
        .collect();
    let mut out = snippet.join("\n");
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod error_tests {
    use super::*;
    use crate::error::ConfigError;

    #[test]
    fn a_config_error_shows_the_line_it_points_at() {
        let error = Error::Config(ConfigError {
            message: "driftguard.yml:2: invalid config: bad".to_string(),
            span: Some(Box::new(ConfigSpan {
                name: "driftguard.yml".to_string(),
                text: "models: [\"a\"]\nrules: {DG999: error}\n".to_string(),
                start: 14,
                len: 5,
            })),
        });
        insta::assert_snapshot!(error_text(&error, false));
        let plain = Error::Usage("no such thing".to_string());
        assert_eq!(error_text(&plain, false), "error: no such thing\n");
    }
}
