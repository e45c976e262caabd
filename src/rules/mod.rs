//! The rules: codes, names, severities and explanations, and the checks that produce findings.
//!
//! Codes are forever: `DG001` means "column without migration" in every version. A rule's
//! explanation (What it does / Why is this bad? / Example / How to fix) lives in its own file
//! beside its check and tests, and is the one text behind `driftguard rule`, SARIF's
//! `fullDescription` and the README's rule table.

pub mod column_missing_in_database;
pub mod column_type_mismatch;
pub mod column_without_migration;
pub mod enum_type_missing_in_database;
pub mod enum_type_without_migration;
pub mod enum_value_missing_in_database;
pub mod enum_value_without_migration;
pub mod foreign_key_target_missing;
pub mod nullability_mismatch;
pub mod table_missing_in_database;
pub mod table_without_migration;
pub mod unused_suppression;

use std::collections::HashSet;

use serde::Serialize;

use crate::config::Globs;
use crate::finding::Finding;
use crate::models::{ModelColumn, ModelEnum, ModelTable};
use crate::schema::{Column, EnumType, Schema, Table};

/// How bad a finding is. Ordered: `Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
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
    EnumValueWithoutMigration,
    EnumTypeWithoutMigration,
    ColumnTypeMismatch,
    NullabilityMismatch,
    ForeignKeyTargetMissing,
    UnusedSuppression,
    ColumnMissingInDatabase,
    TableMissingInDatabase,
    EnumValueMissingInDatabase,
    EnumTypeMissingInDatabase,
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Rule::from_code_or_name(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule `{code}`")))
    }
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::ColumnWithoutMigration,
        Rule::TableWithoutMigration,
        Rule::EnumValueWithoutMigration,
        Rule::EnumTypeWithoutMigration,
        Rule::ColumnTypeMismatch,
        Rule::NullabilityMismatch,
        Rule::ForeignKeyTargetMissing,
        Rule::UnusedSuppression,
        Rule::ColumnMissingInDatabase,
        Rule::TableMissingInDatabase,
        Rule::EnumValueMissingInDatabase,
        Rule::EnumTypeMissingInDatabase,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => "DG001",
            Rule::TableWithoutMigration => "DG002",
            Rule::EnumValueWithoutMigration => "DG003",
            Rule::EnumTypeWithoutMigration => "DG004",
            Rule::ColumnTypeMismatch => "DG005",
            Rule::NullabilityMismatch => "DG006",
            Rule::ForeignKeyTargetMissing => "DG007",
            Rule::UnusedSuppression => "DG100",
            Rule::ColumnMissingInDatabase => "DG101",
            Rule::TableMissingInDatabase => "DG102",
            Rule::EnumValueMissingInDatabase => "DG103",
            Rule::EnumTypeMissingInDatabase => "DG104",
        }
    }

    /// The kebab-case name, after the defect.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => "column-without-migration",
            Rule::TableWithoutMigration => "table-without-migration",
            Rule::EnumValueWithoutMigration => "enum-value-without-migration",
            Rule::EnumTypeWithoutMigration => "enum-type-without-migration",
            Rule::ColumnTypeMismatch => "column-type-mismatch",
            Rule::NullabilityMismatch => "nullability-mismatch",
            Rule::ForeignKeyTargetMissing => "foreign-key-target-missing",
            Rule::UnusedSuppression => "unused-suppression",
            Rule::ColumnMissingInDatabase => "column-missing-in-database",
            Rule::TableMissingInDatabase => "table-missing-in-database",
            Rule::EnumValueMissingInDatabase => "enum-value-missing-in-database",
            Rule::EnumTypeMissingInDatabase => "enum-type-missing-in-database",
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Rule::ColumnWithoutMigration
            | Rule::TableWithoutMigration
            | Rule::EnumValueWithoutMigration
            | Rule::EnumTypeWithoutMigration
            | Rule::ForeignKeyTargetMissing
            | Rule::ColumnMissingInDatabase
            | Rule::TableMissingInDatabase
            | Rule::EnumValueMissingInDatabase
            | Rule::EnumTypeMissingInDatabase => Severity::Error,
            Rule::ColumnTypeMismatch | Rule::NullabilityMismatch | Rule::UnusedSuppression => {
                Severity::Warning
            }
        }
    }

    /// One line: what the rule finds.
    pub fn summary(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => column_without_migration::SUMMARY,
            Rule::TableWithoutMigration => table_without_migration::SUMMARY,
            Rule::EnumValueWithoutMigration => enum_value_without_migration::SUMMARY,
            Rule::EnumTypeWithoutMigration => enum_type_without_migration::SUMMARY,
            Rule::ColumnTypeMismatch => column_type_mismatch::SUMMARY,
            Rule::NullabilityMismatch => nullability_mismatch::SUMMARY,
            Rule::ForeignKeyTargetMissing => foreign_key_target_missing::SUMMARY,
            Rule::UnusedSuppression => unused_suppression::SUMMARY,
            Rule::ColumnMissingInDatabase => column_missing_in_database::SUMMARY,
            Rule::TableMissingInDatabase => table_missing_in_database::SUMMARY,
            Rule::EnumValueMissingInDatabase => enum_value_missing_in_database::SUMMARY,
            Rule::EnumTypeMissingInDatabase => enum_type_missing_in_database::SUMMARY,
        }
    }

    /// The full explanation, in Markdown.
    pub fn explanation(self) -> &'static str {
        match self {
            Rule::ColumnWithoutMigration => column_without_migration::EXPLANATION,
            Rule::TableWithoutMigration => table_without_migration::EXPLANATION,
            Rule::EnumValueWithoutMigration => enum_value_without_migration::EXPLANATION,
            Rule::EnumTypeWithoutMigration => enum_type_without_migration::EXPLANATION,
            Rule::ColumnTypeMismatch => column_type_mismatch::EXPLANATION,
            Rule::NullabilityMismatch => nullability_mismatch::EXPLANATION,
            Rule::ForeignKeyTargetMissing => foreign_key_target_missing::EXPLANATION,
            Rule::UnusedSuppression => unused_suppression::EXPLANATION,
            Rule::ColumnMissingInDatabase => column_missing_in_database::EXPLANATION,
            Rule::TableMissingInDatabase => table_missing_in_database::EXPLANATION,
            Rule::EnumValueMissingInDatabase => enum_value_missing_in_database::EXPLANATION,
            Rule::EnumTypeMissingInDatabase => enum_type_missing_in_database::EXPLANATION,
        }
    }

    /// Whether `driftguard.yml` may turn the rule off or change its severity. The core rules
    /// (a missing column or table, in the migrations or in the database) are what driftguard
    /// exists for: they can be ignored per table or line, not off.
    pub fn configurable(self) -> bool {
        !matches!(
            self,
            Rule::ColumnWithoutMigration
                | Rule::TableWithoutMigration
                | Rule::ColumnMissingInDatabase
                | Rule::TableMissingInDatabase
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
    /// The schema was read from a live database by `db-diff`, not built from migrations: the
    /// shared rules (DG005, DG006) then say "the database" where they would say "the
    /// migrations".
    pub live: bool,
    /// The files it replayed, relative to the root, in the order they run (none for a live
    /// database).
    pub files: Vec<String>,
}

impl MigrationSource {
    /// Where the compared column lives, after "in": `the migrations` or `the database`.
    pub fn in_phrase(&self) -> &'static str {
        if self.live {
            "the database"
        } else {
            "the migrations"
        }
    }

    /// The label of a related location at a column this source has: "`core.t.c` is created
    /// here", or "`core.t.c` in database \"shop\"" for a live database (which has no line).
    pub fn column_label(&self, path: &str) -> String {
        if self.live {
            format!("`{path}` in {}", self.name)
        } else {
            format!("`{path}` is created here")
        }
    }
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

    /// The migrated columns a model column maps to: one per serving source that creates both
    /// its table and the column. The rules that compare a column (DG003–DG007) look only at
    /// these; where there are none, DG001 or DG002 already speak.
    pub fn migrated_columns(&self, table: &ModelTable, column: &ModelColumn) -> Vec<Migrated<'a>> {
        self.lookup(table)
            .into_iter()
            .filter_map(|(source, migrated)| {
                let migrated = migrated?;
                Some(Migrated {
                    source,
                    table: migrated,
                    column: migrated.column(&column.name)?,
                })
            })
            .collect()
    }

    /// Which problem to report, given what each source that has the column says (`None`: no
    /// problem there). Zero config: only a problem every source shares — a team that moved
    /// from Alembic to SQL and kept the old chain must get no finding from the stale one.
    /// Declared sources: the first source with a problem, since each must serve the models.
    pub fn decide<T>(
        &self,
        per_source: Vec<(Migrated<'a>, Option<T>)>,
    ) -> Option<(Migrated<'a>, T)> {
        if !self.declared_sources && per_source.iter().any(|(_, problem)| problem.is_none()) {
            return None;
        }
        per_source
            .into_iter()
            .find_map(|(migrated, problem)| problem.map(|p| (migrated, p)))
    }

    /// The migrated enum type a model enum names, in one source. A qualified name is looked up
    /// in its schema; an unqualified one in the table's schema, then the source's default
    /// schema, then any schema that has a type of that name.
    pub fn resolve_enum(
        &self,
        source: &'a MigrationSource,
        table: &ModelTable,
        model_enum: &ModelEnum,
    ) -> Option<&'a EnumType> {
        let types = &source.schema;
        if let Some(schema) = &model_enum.schema {
            return types.enum_type(schema, &model_enum.name);
        }
        types
            .enum_type(&self.schema_of(table, Some(source)), &model_enum.name)
            .or_else(|| types.enum_type(&source.default_schema, &model_enum.name))
            .or_else(|| types.enums.values().find(|e| e.name == model_enum.name))
    }
}

/// What the `db-diff` rules (DG101–DG104) read: the model tables against the live database as
/// the one source of [`DatabaseContext::models`], and the migration sources when
/// `--with-migrations` is given. Objects outside the compared schemas are already filtered out
/// of every part.
pub struct DatabaseContext<'a> {
    /// The model tables, with the live database as the only source.
    pub models: Context<'a>,
    /// The live database's schema; its `name` is `database "shop"`.
    pub database: &'a MigrationSource,
    /// The migration sources with `--with-migrations`; empty otherwise.
    pub migrations: &'a [MigrationSource],
}

impl<'a> DatabaseContext<'a> {
    /// Whether a model table maps `schema.table` and (when given) the column: its finding is
    /// then reported at the model line, not at the migration statement.
    pub fn mapped(&self, schema: &str, table: &str, column: Option<&str>) -> bool {
        self.models.tables.iter().any(|t| {
            t.name == table
                && self.models.schema_of(t, Some(self.database)) == schema
                && column.is_none_or(|c| t.columns.iter().any(|mc| mc.name == c))
        })
    }
}

/// A model column's counterpart in one migration source.
#[derive(Debug, Clone, Copy)]
pub struct Migrated<'a> {
    pub source: &'a MigrationSource,
    pub table: &'a Table,
    pub column: &'a Column,
}

/// Runs every rule over the context. Severities and `off` come from the config afterwards.
/// A rule reports a target once: when two model classes map the same column, the first place
/// wins.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(table_without_migration::check(ctx));
    findings.extend(column_without_migration::check(ctx));
    findings.extend(enum_value_without_migration::check(ctx));
    findings.extend(enum_type_without_migration::check(ctx));
    findings.extend(column_type_mismatch::check(ctx));
    findings.extend(nullability_mismatch::check(ctx));
    findings.extend(foreign_key_target_missing::check(ctx));
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.rule, f.target.clone())));
    findings
}

/// Runs the `db-diff` rules: DG102, DG101, DG103, DG104 against the live database, and the
/// shared comparisons DG005 and DG006 with the database as the source (see `dbdiff.rs` for
/// why those keep their codes). A rule reports a target once.
pub fn check_database(ctx: &DatabaseContext) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(table_missing_in_database::check(ctx));
    findings.extend(column_missing_in_database::check(ctx));
    findings.extend(enum_value_missing_in_database::check(ctx));
    findings.extend(enum_type_missing_in_database::check(ctx));
    findings.extend(column_type_mismatch::check(&ctx.models));
    findings.extend(nullability_mismatch::check(&ctx.models));
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.rule, f.target.clone())));
    findings
}

/// `schema.table.column` of a model column, for messages.
pub(crate) fn column_path(schema: &str, table: &ModelTable, column: &ModelColumn) -> String {
    format!("{schema}.{}.{}", table.name, column.name)
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
    use super::{Context, MigrationSource};
    use crate::finding::Finding;
    use crate::models::{ModelColumn, ModelEnum, ModelTable};
    use crate::postgres_type::SqlType;
    use crate::source::{Location, SourceFile};

    /// A type as a model or migration would spell it: `VARCHAR(20)`, `numeric(10, 2)`,
    /// `text[]`.
    pub fn sql_type(text: &str) -> SqlType {
        let (text, array) = match text.strip_suffix("[]") {
            Some(element) => (element, true),
            None => (text, false),
        };
        let (base, mods) = match text.split_once('(') {
            Some((base, rest)) => (
                base,
                rest.trim_end_matches(')')
                    .split(',')
                    .filter_map(|m| m.trim().parse().ok())
                    .collect(),
            ),
            None => (text, Vec::new()),
        };
        let ty = SqlType::from_sql_name(base, mods, false);
        if array { ty.into_array() } else { ty }
    }

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
                .map(|(i, (column, ty))| ModelColumn {
                    name: column.to_string(),
                    attribute: None,
                    ty: Some(sql_type(ty)),
                    type_text: None,
                    nullable: Some(i != 0),
                    primary_key: i == 0,
                    server_default: false,
                    foreign_keys: Vec::new(),
                    enum_type: None,
                    comment: None,
                    location: Location::new("models.py", u32::try_from(i + 2).unwrap_or(0), 5),
                })
                .collect(),
        }
    }

    /// The table with one column changed.
    pub fn with_column(
        mut table: ModelTable,
        name: &str,
        change: impl FnOnce(&mut ModelColumn),
    ) -> ModelTable {
        if let Some(column) = table.columns.iter_mut().find(|c| c.name == name) {
            change(column);
        }
        table
    }

    /// A native enum as `Enum(PyEnum, name=…, schema=…)` maps it; the column's type follows.
    pub fn set_enum(column: &mut ModelColumn, schema: Option<&str>, name: &str, values: &[&str]) {
        let qualified = match schema {
            Some(schema) => format!("{schema}.{name}"),
            None => name.to_string(),
        };
        column.ty = Some(SqlType::from_sql_name(&qualified, Vec::new(), true));
        column.enum_type = Some(ModelEnum {
            name: name.to_string(),
            schema: schema.map(str::to_string),
            values: values.iter().map(|v| v.to_string()).collect(),
            native: true,
            location: Some(Location::new("enums.py", 1, 7)),
        });
    }

    /// One SQL source from migration texts (files `<prefix>0.sql`, `<prefix>1.sql`, …).
    pub fn source(name: &str, prefix: &str, migrations: &[&str]) -> MigrationSource {
        let events: Vec<_> = migrations
            .iter()
            .enumerate()
            .map(|(i, text)| {
                crate::migrations::sql::read(&SourceFile::new(format!("{prefix}{i}.sql"), *text))
            })
            .collect();
        let schema = crate::schema::replay(
            events.iter().map(|e| crate::schema::FileEvents {
                changes: &e.changes,
            }),
            "public",
        );
        MigrationSource {
            name: name.to_string(),
            default_schema: "public".to_string(),
            schema,
            models: None,
            live: false,
            files: Vec::new(),
        }
    }

    /// A live database `shop` whose schema is what the SQL texts build, every object located
    /// at the database (line 0) as `db-diff` reads it.
    pub fn database(sql: &[&str]) -> MigrationSource {
        let mut db = source("database \"shop\"", "db", sql);
        let at = Location::new("postgresql://127.0.0.1:5432/shop", 0, 0);
        for table in db.schema.tables.values_mut() {
            table.location = at.clone();
            for column in &mut table.columns {
                column.location = at.clone();
            }
        }
        for enum_type in db.schema.enums.values_mut() {
            enum_type.location = at.clone();
            for location in &mut enum_type.value_locations {
                *location = at.clone();
            }
        }
        db.live = true;
        db
    }

    /// The `db-diff` rules over a database and (with `--with-migrations`) migration sources.
    pub fn run_database(
        database: &MigrationSource,
        tables: &[ModelTable],
        migrations: &[MigrationSource],
    ) -> Vec<Finding> {
        super::check_database(&super::DatabaseContext {
            models: Context {
                tables,
                sources: std::slice::from_ref(database),
                default_schema: "public",
                declared_sources: false,
            },
            database,
            migrations,
        })
    }

    /// One SQL source from migration texts (files `m0.sql`, `m1.sql`, …).
    pub fn context_for(
        migrations: &[&str],
        tables: Vec<ModelTable>,
    ) -> (Vec<MigrationSource>, Vec<ModelTable>) {
        (vec![source("SQL migrations", "m", migrations)], tables)
    }

    /// Every rule over one SQL source, zero config.
    pub fn run(migrations: &[&str], tables: Vec<ModelTable>) -> Vec<Finding> {
        let (sources, tables) = context_for(migrations, tables);
        run_sources(&sources, &tables, false)
    }

    /// Every rule over several sources.
    pub fn run_sources(
        sources: &[MigrationSource],
        tables: &[ModelTable],
        declared_sources: bool,
    ) -> Vec<Finding> {
        super::check(&Context {
            tables,
            sources,
            default_schema: "public",
            declared_sources,
        })
    }

    /// The findings of one rule.
    pub fn only(findings: Vec<Finding>, rule: super::Rule) -> Vec<Finding> {
        findings.into_iter().filter(|f| f.rule == rule).collect()
    }

    /// The human rendering of findings, without colour, 100 columns wide, with the given file
    /// texts for snippets.
    pub fn render_human(findings: Vec<Finding>, files: &[(&str, &str)]) -> String {
        let sources: crate::report::Sources = files
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect();
        let report = crate::report::Report {
            mode: crate::report::Mode::All,
            summary: crate::report::Summary {
                model_files: 1,
                tables: 1,
                columns: 2,
                migration_files: 1,
                findings: findings.len(),
                preexisting: 0,
            },
            findings,
            warnings: Vec::new(),
            fail_on: Some(super::Severity::Error),
            nothing_to_check: false,
            sources: sources.clone(),
        };
        crate::render::human::render(
            &report,
            &sources,
            crate::render::human::Style {
                color: false,
                width: 100,
            },
        )
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
    fn the_readme_lists_every_rule_with_its_summary() {
        let readme = include_str!("../../README.md");
        for rule in Rule::ALL {
            let row = format!(
                "| {} | {} | {} | {} |",
                rule.code(),
                rule.name(),
                rule.default_severity().as_str(),
                rule.summary()
            );
            assert!(readme.contains(&row), "README.md lacks the row\n{row}");
            if rule.configurable() {
                let config_docs = readme
                    .split_once("`rules:` takes")
                    .and_then(|(_, rest)| rest.split("\n\n").next())
                    .unwrap_or_default();
                assert!(
                    config_docs.contains(rule.code()),
                    "README.md's `rules:` documentation does not name {}",
                    rule.code()
                );
            }
        }
    }

    #[test]
    fn against_a_live_database_dg005_and_dg006_keep_their_codes_and_say_the_database() {
        use test_support::{database, model_table, run_database, with_column};
        let db = database(&[
            "CREATE SCHEMA core; CREATE TABLE core.customers (id int primary key, email varchar(100), phone text not null);",
        ]);
        let table = with_column(
            model_table(
                "core",
                "customers",
                &[
                    ("id", "INTEGER"),
                    ("email", "VARCHAR(255)"),
                    ("phone", "TEXT"),
                ],
            ),
            "email",
            |c| c.nullable = Some(true),
        );
        let findings = run_database(&db, &[table], &[]);
        let rules: Vec<Rule> = findings.iter().map(|f| f.rule).collect();
        assert_eq!(
            rules,
            vec![Rule::ColumnTypeMismatch, Rule::NullabilityMismatch],
            "{findings:?}"
        );
        assert!(
            findings[0]
                .message
                .contains("is `VARCHAR(255)` in the model but `VARCHAR(100)` in the database:"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[1]
                .message
                .contains("but the database makes it NOT NULL without a default"),
            "{}",
            findings[1].message
        );
        for finding in &findings {
            assert!(
                !finding.message.contains("migrations"),
                "{}",
                finding.message
            );
            assert_eq!(
                finding.related[0].message,
                format!(
                    "`core.customers.{}` in database \"shop\"",
                    finding.target.column.as_deref().unwrap_or_default()
                )
            );
            assert_eq!(
                finding.related[0].location.to_string(),
                "postgresql://127.0.0.1:5432/shop"
            );
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
