//! The rules: codes, names, severities and explanations, and the checks that produce findings.
//!
//! Codes are forever: `DG001` means "column without migration" in every version. A rule's
//! explanation (What it does / Why is this bad? / Example / How to fix) lives in its own file
//! beside its check and tests, and is the one text behind `driftguard rule`, SARIF's
//! `fullDescription` and the README's rule table.

pub mod column_without_migration;
pub mod table_without_migration;

use serde::Serialize;

use crate::config::Globs;
use crate::finding::Finding;
use crate::models::ModelTable;
use crate::schema::{Schema, Table};

/// How bad a finding is. Ordered: `Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Every rule driftguard has. Add new ones at the end with a new code; never reuse a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    ColumnWithoutMigration,
    TableWithoutMigration,
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl Rule {
    pub const ALL: &'static [Rule] = &[Rule::ColumnWithoutMigration, Rule::TableWithoutMigration];

    pub fn code(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => "DG001",
            Rule::TableWithoutMigration => "DG002",
        }
    }

    /// The kebab-case name, after the defect.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => "column-without-migration",
            Rule::TableWithoutMigration => "table-without-migration",
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Rule::ColumnWithoutMigration | Rule::TableWithoutMigration => Severity::Error,
        }
    }

    /// One line: what the rule finds.
    pub fn summary(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => column_without_migration::SUMMARY,
            Rule::TableWithoutMigration => table_without_migration::SUMMARY,
        }
    }

    /// The full explanation, in Markdown.
    pub fn explanation(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => column_without_migration::EXPLANATION,
            Rule::TableWithoutMigration => table_without_migration::EXPLANATION,
        }
    }

    /// Whether `driftguard.yml` may turn the rule off or change its severity. The two core
    /// rules are what driftguard exists for: they can be ignored per table or line, not off.
    pub fn configurable(self) -> bool {
        !matches!(
            self,
            Rule::ColumnWithoutMigration | Rule::TableWithoutMigration
        )
    }

    pub fn from_code_or_name(text: &str) -> Option<Rule> {
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.code().eq_ignore_ascii_case(text) || r.name() == text)
    }
}

/// The schema one migration source builds, and which model tables it serves.
#[derive(Debug, Clone)]
pub struct MigrationSource {
    /// For messages: `SQL migrations`, `Alembic (migrations/versions)`.
    pub name: String,
    pub default_schema: String,
    pub schema: Schema,
    /// Model files it serves (`sources[].models` in the config); `None`: all.
    pub models: Option<Globs>,
}

/// What every check reads.
pub struct Context<'a> {
    pub tables: &'a [ModelTable],
    pub sources: &'a [MigrationSource],
    /// The schema of a model table that names none (`default_schema`).
    pub default_schema: &'a str,
    /// Config sources were declared: a model table must be created by every source that serves
    /// it. Otherwise one source creating it is enough.
    pub declared_sources: bool,
}

impl<'a> Context<'a> {
    /// The sources that serve a model table (all, unless the config narrows them).
    pub fn serving(&self, table: &ModelTable) -> Vec<&'a MigrationSource> {
        self.sources
            .iter()
            .filter(|s| {
                s.models
                    .as_ref()
                    .is_none_or(|g| g.is_match(&table.location.path))
            })
            .collect()
    }

    /// The schema a model table lives in, for a source.
    pub fn schema_of(&self, table: &ModelTable, source: Option<&MigrationSource>) -> String {
        match (&table.schema, source) {
            (Some(schema), _) => schema.clone(),
            (None, Some(source)) => source.default_schema.clone(),
            (None, None) => self.default_schema.to_string(),
        }
    }

    /// The migrated table a model table maps to, per serving source (`None` where a source
    /// does not create it).
    pub fn lookup(&self, table: &ModelTable) -> Vec<(&'a MigrationSource, Option<&'a Table>)> {
        self.serving(table)
            .into_iter()
            .map(|source| {
                let schema = self.schema_of(table, Some(source));
                (source, source.schema.table(&schema, &table.name))
            })
            .collect()
    }

    /// Whether the table counts as created: by any serving source (zero config) or by every
    /// serving source (declared sources).
    pub fn table_created(&self, found: &[(&MigrationSource, Option<&Table>)]) -> bool {
        if self.declared_sources {
            !found.is_empty() && found.iter().all(|(_, t)| t.is_some())
        } else {
            found.iter().any(|(_, t)| t.is_some())
        }
    }
}

/// Runs every rule over the context. Severities and `off` come from the config afterwards.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(table_without_migration::check(ctx));
    findings.extend(column_without_migration::check(ctx));
    findings
}

/// The SQL type to suggest for a model column: its mapped type, or `TEXT` with a note when the
/// model's type could not be mapped.
pub(crate) fn column_type_sql(column: &crate::models::ModelColumn) -> String {
    match (&column.ty, &column.type_text) {
        (Some(ty), _) => ty.to_sql(),
        (None, Some(text)) => format!("TEXT /* adjust: the model's type is {text} */"),
        (None, None) => "TEXT /* adjust to the model's type */".to_string(),
    }
}

/// A SQL string literal.
pub(crate) fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::MigrationSource;
    use crate::models::{ModelColumn, ModelTable};
    use crate::source::{Location, SourceFile};
    use crate::sqltype::SqlType;

    /// A model table whose class is on line 1 and whose columns follow on lines 2, 3, …
    pub fn model_table(schema: &str, name: &str, columns: &[(&str, &str)]) -> ModelTable {
        ModelTable {
            schema: Some(schema.to_string()),
            name: name.to_string(),
            class_name: Some("Model".to_string()),
            location: Location::new("models.py", 1, 1),
            columns: columns
                .iter()
                .enumerate()
                .map(|(i, (column, ty))| {
                    let (base, mods) = match ty.split_once('(') {
                        Some((base, rest)) => (
                            base,
                            rest.trim_end_matches(')')
                                .split(',')
                                .filter_map(|m| m.trim().parse().ok())
                                .collect(),
                        ),
                        None => (*ty, Vec::new()),
                    };
                    ModelColumn {
                        name: column.to_string(),
                        attribute: None,
                        ty: Some(SqlType::from_sql_name(base, mods, false)),
                        type_text: None,
                        nullable: Some(i != 0),
                        primary_key: i == 0,
                        server_default: false,
                        foreign_keys: Vec::new(),
                        enum_type: None,
                        comment: None,
                        location: Location::new("models.py", u32::try_from(i + 2).unwrap_or(0), 5),
                    }
                })
                .collect(),
        }
    }

    /// One SQL source from migration texts (files `m0.sql`, `m1.sql`, …).
    pub fn context_for(
        migrations: &[&str],
        tables: Vec<ModelTable>,
    ) -> (Vec<MigrationSource>, Vec<ModelTable>) {
        let events: Vec<_> = migrations
            .iter()
            .enumerate()
            .map(|(i, text)| {
                crate::migrations::sql::read(&SourceFile::new(format!("m{i}.sql"), *text))
            })
            .collect();
        let schema = crate::schema::replay(
            events.iter().map(|e| crate::schema::FileEvents {
                changes: &e.changes,
            }),
            "public",
        );
        let source = MigrationSource {
            name: "SQL migrations".to_string(),
            default_schema: "public".to_string(),
            schema,
            models: None,
        };
        (vec![source], tables)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique() {
        let codes: HashSet<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
        let names: HashSet<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(codes.len(), Rule::ALL.len());
        assert_eq!(names.len(), Rule::ALL.len());
    }

    #[test]
    fn every_explanation_has_the_four_sections() {
        for rule in Rule::ALL {
            let text = rule.explanation();
            for heading in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## How to fix",
            ] {
                assert!(text.contains(heading), "{} lacks {heading}", rule.code());
            }
        }
    }

    #[test]
    fn rule_list_snapshot() {
        let list: Vec<String> = Rule::ALL
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r.code(),
                    r.name(),
                    r.default_severity().as_str()
                )
            })
            .collect();
        insta::assert_snapshot!(list.join("\n"));
    }
}
