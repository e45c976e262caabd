//! The rules: one file per rule, each with its `META` (summary and explanation), its check and
//! its tests, in that order; [`context`] holds what they compare.
//!
//! A rule's identity (code, name, default severity) is in [`crate::rule`], a leaf; its
//! explanation (What it does / Why is this bad? / Example / How to fix) is in its own file, and
//! is the one text behind `driftguard rule`, SARIF's `fullDescription` and the README's rule
//! table. [`Rule::meta`] is the one list from a rule to its file.
//!
//! The checks run over a schema source ([`MigrationSource`]): the migrations for `check`, a
//! live database for `db-diff`. A pair of rules that find the same gap in either
//! (DG001/DG101, DG002/DG102, DG003/DG103, DG004/DG104) shares one check, in the first rule's
//! file; each keeps its own code and wording. DG005 and DG006 keep their codes against either
//! source and only say "the database" instead of "the migrations".

pub mod alembic_multiple_heads;
pub mod column_comment_missing;
pub mod column_missing_in_database;
pub mod column_type_mismatch;
pub mod column_without_migration;
pub mod context;
pub mod ddl_outside_transaction;
pub mod duplicate_migration;
pub mod enum_type_missing_in_database;
pub mod enum_type_without_migration;
pub mod enum_value_missing_in_database;
pub mod enum_value_without_migration;
pub mod foreign_key_target_missing;
pub mod migration_header_missing;
pub mod migration_order_ambiguous;
pub mod migration_will_fail;
pub mod non_idempotent_ddl;
pub mod nonstandard_migration_name;
pub mod nullability_mismatch;
pub mod rollback_script_missing;
pub mod scope;
pub mod table_missing_in_database;
pub mod table_without_migration;
pub mod unused_suppression;

use std::collections::HashSet;

pub use context::{Context, DatabaseContext, Migrated, MigrationSource, SourcePart};
use rayon::prelude::*;

use crate::finding::{Finding, Target};
use crate::models::{ModelColumn, ModelTable};
use crate::rule::Rule;

/// What a rule's file says about it: one line and the full explanation, in Markdown.
#[derive(Debug)]
pub struct RuleMeta {
    pub rule: Rule,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// What it does / Why is this bad? / Example / How to fix.
    pub explanation: &'static str,
}

/// Defined here rather than in [`crate::rule`], which must not import the rule files.
impl Rule {
    /// The rule's `META`, from its own file: the one list a new rule joins here.
    pub fn meta(self) -> &'static RuleMeta {
        match self {
            Rule::ColumnWithoutMigration => &column_without_migration::META,
            Rule::TableWithoutMigration => &table_without_migration::META,
            Rule::EnumValueWithoutMigration => &enum_value_without_migration::META,
            Rule::EnumTypeWithoutMigration => &enum_type_without_migration::META,
            Rule::ColumnTypeMismatch => &column_type_mismatch::META,
            Rule::NullabilityMismatch => &nullability_mismatch::META,
            Rule::ForeignKeyTargetMissing => &foreign_key_target_missing::META,
            Rule::UnusedSuppression => &unused_suppression::META,
            Rule::ColumnMissingInDatabase => &column_missing_in_database::META,
            Rule::TableMissingInDatabase => &table_missing_in_database::META,
            Rule::EnumValueMissingInDatabase => &enum_value_missing_in_database::META,
            Rule::EnumTypeMissingInDatabase => &enum_type_missing_in_database::META,
            Rule::AlembicMultipleHeads => &alembic_multiple_heads::META,
            Rule::NonstandardMigrationName => &nonstandard_migration_name::META,
            Rule::MigrationHeaderMissing => &migration_header_missing::META,
            Rule::DdlOutsideTransaction => &ddl_outside_transaction::META,
            Rule::NonIdempotentDdl => &non_idempotent_ddl::META,
            Rule::RollbackScriptMissing => &rollback_script_missing::META,
            Rule::ColumnCommentMissing => &column_comment_missing::META,
            Rule::DuplicateMigration => &duplicate_migration::META,
            Rule::MigrationOrderAmbiguous => &migration_order_ambiguous::META,
            Rule::MigrationWillFail => &migration_will_fail::META,
        }
    }

    /// One line: what the rule finds.
    pub fn summary(self) -> &'static str {
        self.meta().summary
    }

    /// The full explanation, in Markdown.
    pub fn explanation(self) -> &'static str {
        self.meta().explanation
    }
}

/// Runs every rule over the context. Severities and `off` come from the config afterwards.
/// A rule reports a target once: when two model classes map the same column, the first place
/// wins.
pub fn check(ctx: &Context) -> Vec<Finding> {
    check_all(ctx).reported
}

/// What the rules find in one snapshot.
#[derive(Debug, Default)]
pub struct Checked {
    /// What a full audit reports.
    pub reported: Vec<Finding>,
    /// Column findings under a table's finding: a DG001 whose table has a DG002 (no migration
    /// creates it) or is declared `external:`. A full audit reports the table once; a change
    /// check reports such a column when the change adds it (see [`crate::check`]).
    pub covered: Vec<Finding>,
}

/// The tables one job of [`check_all`] goes over: enough that a job outweighs handing it to a
/// thread, few enough that one rule's work is shared between threads (at 5,000 tables, the
/// column-type rule alone was half the rules' time, and it ran on one thread).
const TABLES_PER_JOB: usize = 256;

/// One rule's check over a context.
type RuleCheck = fn(&Context) -> Vec<Finding>;

/// The rules [`check_all`] runs, side by side (each reads the context alone); their findings
/// in this order. DG001's two passes are two entries: one pass over every table gives all the
/// columns missing from created tables before any of an uncreated table, and so must the runs
/// of tables, whatever runs they are cut into (a column two sources report differently keeps
/// the created table's finding).
const RULES: [RuleCheck; 8] = [
    table_without_migration::check,
    column_without_migration::check_created,
    column_without_migration::check_uncreated,
    enum_value_without_migration::check,
    enum_type_without_migration::check,
    column_type_mismatch::check,
    nullability_mismatch::check,
    foreign_key_target_missing::check,
];

/// Runs every rule: [`check`], and the findings it leaves unreported under a table finding.
pub fn check_all(ctx: &Context) -> Checked {
    // One job per run of tables and rule. A run's rules follow one another, so that its
    // tables (and the migrated ones) are still in the cache for the next rule. The findings
    // are then taken rule by rule, each rule's in table order, as one pass over every table
    // gives them.
    let parts: Vec<&[ModelTable]> = ctx.checked().chunks(TABLES_PER_JOB).collect();
    let jobs: Vec<(&[ModelTable], RuleCheck)> = parts
        .iter()
        .flat_map(|part| RULES.iter().map(move |rule| (*part, *rule)))
        .collect();
    let mut found: Vec<Vec<Finding>> = jobs
        .par_iter()
        .map(|(part, rule)| {
            rule(&Context {
                scope: Some(part),
                ..*ctx
            })
        })
        .collect();
    let mut findings: Vec<Finding> = Vec::new();
    for rule in 0..RULES.len() {
        for part in 0..parts.len() {
            if let Some(part_found) = found.get_mut(part * RULES.len() + rule) {
                findings.append(part_found);
            }
        }
    }
    settle(ctx, findings)
}

/// Each model table's findings (by position in [`Context::tables`]), rule by rule: the rule's
/// place in [`RULES`] and its findings for that table alone, in the rule's order. Tables
/// without findings have an empty list.
pub type PerTable = Vec<Vec<(u8, Finding)>>;

/// [`check_all`], with each table's findings told apart ([`PerTable`]), for a run that keeps
/// them ([`scope`]). `only`: the positions of the tables to check, in order; the others get
/// no findings here (`None`: every table).
///
/// Every rule reads one table at a time (a run of tables gives what each table alone gives,
/// in order), so a run with findings is checked again table by table to tell them apart; a
/// run without findings (nearly all) costs nothing more.
pub fn check_per_table(ctx: &Context, only: Option<&[usize]>) -> PerTable {
    let tables = ctx.tables;
    let runs: Vec<std::ops::Range<usize>> = match only {
        None => (0..tables.len())
            .step_by(TABLES_PER_JOB.max(1))
            .map(|start| start..(start + TABLES_PER_JOB).min(tables.len()))
            .collect(),
        Some(only) => only
            .iter()
            .filter(|&&i| i < tables.len())
            .map(|&i| i..i + 1)
            .collect(),
    };
    let jobs: Vec<(std::ops::Range<usize>, usize)> = runs
        .iter()
        .flat_map(|run| (0..RULES.len()).map(move |rule| (run.clone(), rule)))
        .collect();
    let found: Vec<Vec<(usize, u8, Finding)>> = jobs
        .par_iter()
        .map(|(run, rule)| {
            let check = RULES[*rule];
            let in_run = |range: std::ops::Range<usize>| {
                check(&Context {
                    scope: tables.get(range),
                    ..*ctx
                })
            };
            let all = in_run(run.clone());
            if all.is_empty() {
                return Vec::new();
            }
            if run.len() == 1 {
                return all
                    .into_iter()
                    .map(|f| (run.start, *rule as u8, f))
                    .collect();
            }
            run.clone()
                .flat_map(|i| {
                    in_run(i..i + 1)
                        .into_iter()
                        .map(move |f| (i, *rule as u8, f))
                })
                .collect()
        })
        .collect();
    let mut per_table: PerTable = Vec::new();
    per_table.resize_with(tables.len(), Vec::new);
    // Jobs are run by run, rule by rule: each table's findings come in rule order.
    for (i, rule, finding) in found.into_iter().flatten() {
        if let Some(table) = per_table.get_mut(i) {
            table.push((rule, finding));
        }
    }
    per_table
}

/// [`check_all`]'s result from each table's findings ([`check_per_table`], or kept ones):
/// rule by rule, each rule's in table order, then [`settle`]d.
pub fn settle_per_table(ctx: &Context, per_table: &PerTable) -> Checked {
    let mut by_rule: Vec<Vec<&Finding>> = vec![Vec::new(); RULES.len()];
    for (rule, finding) in per_table.iter().flatten() {
        if let Some(found) = by_rule.get_mut(usize::from(*rule)) {
            found.push(finding);
        }
    }
    settle(ctx, by_rule.into_iter().flatten().cloned().collect())
}

/// The rules' findings, in [`RULES`]' order, as [`Checked`]: a target reported once (the first
/// place wins), and the column findings under a table finding set apart.
fn settle(ctx: &Context, mut findings: Vec<Finding>) -> Checked {
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.rule, f.target.clone())));
    let uncreated: HashSet<(&str, &str)> = findings
        .iter()
        .filter(|f| f.rule == Rule::TableWithoutMigration)
        .map(|f| (f.target.schema.as_str(), f.target.table.as_str()))
        .collect();
    let is_covered = |f: &Finding| {
        f.rule == Rule::ColumnWithoutMigration
            && (uncreated.contains(&(f.target.schema.as_str(), f.target.table.as_str()))
                || ctx.is_external(&f.target.schema, &f.target.table))
    };
    let covered_keys: HashSet<(Rule, Target)> = findings
        .iter()
        .filter(|f| is_covered(f))
        .map(|f| (f.rule, f.target.clone()))
        .collect();
    let (covered, reported) = findings
        .into_iter()
        .partition(|f| covered_keys.contains(&(f.rule, f.target.clone())));
    Checked { reported, covered }
}

/// What the rules about migration files read: the files themselves and the Alembic revision
/// graphs, not the schema they build.
pub struct MigrationFiles<'a> {
    /// The SQL migration files as read, in no particular order.
    pub sql: &'a [crate::migrations::sources::SqlMigration<'a>],
    /// Each Alembic environment's revisions, by environment.
    pub alembic: &'a std::collections::BTreeMap<String, Vec<crate::migrations::alembic::Revision>>,
    pub config: &'a crate::config::Config,
}

/// Runs the rules over migration files: DG009 over the Alembic graphs, and the handbook group
/// (DG201–DG208) over the SQL files when the config turns any of them on.
pub fn check_migration_files(files: &MigrationFiles) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(alembic_multiple_heads::check(files.alembic));
    if handbook_on(files.config) {
        let sql = sql_in_order(files.sql);
        findings.extend(nonstandard_migration_name::check(&sql, files.config));
        findings.extend(migration_header_missing::check(&sql));
        findings.extend(ddl_outside_transaction::check(&sql));
        findings.extend(non_idempotent_ddl::check(&sql));
        findings.extend(rollback_script_missing::check(&sql));
        findings.extend(column_comment_missing::check(&sql));
        findings.extend(duplicate_migration::check(&sql));
        findings.extend(migration_order_ambiguous::check(&sql));
    }
    findings
}

/// Whether the config turns any rule of the handbook group on (they read every SQL file).
pub fn handbook_on(config: &crate::config::Config) -> bool {
    Rule::ALL.iter().any(|r| {
        r.group() == Some(crate::rule::RuleGroup::Handbook) && config.severity(*r).is_some()
    })
}

/// The SQL migration files in the order they run (natural order of file names, then path).
fn sql_in_order<'a>(
    files: &'a [crate::migrations::sources::SqlMigration<'a>],
) -> Vec<&'a crate::migrations::sources::SqlMigration<'a>> {
    let mut sorted: Vec<_> = files.iter().collect();
    crate::discover::sort_in_migration_order(&mut sorted, |f| f.path);
    sorted
}

/// The file name of a path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The target of a finding about a migration file as a whole (the handbook rules): the file
/// in the place of the table, as DG100 does.
pub(crate) fn file_target(path: &str) -> Target {
    Target::table("", path)
}

/// The target of a finding about one thing in a migration file: the file, and what in it
/// (`ADD COLUMN core.customers.email`), never the line, so that moving it keeps its identity.
pub(crate) fn in_file_target(path: &str, what: &str) -> Target {
    Target::column("", path, what)
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

/// The command that writes the migration a DG001–DG004 finding asks for. A check names its
/// own mode's flags in its place ([`fix_command`]), so that the help of a pre-commit check
/// says `driftguard fix --staged --write`.
pub const FIX_COMMAND: &str = "driftguard fix --write";

/// The help of a finding `driftguard fix` can close: the action, and the command that
/// writes it. The one place these helps are worded.
pub(crate) fn fix_help(action: &str) -> String {
    format!("{action} (`{FIX_COMMAND}` writes it).")
}

/// [`FIX_COMMAND`] for a check's mode and path: `driftguard fix --staged --write`,
/// `driftguard fix --base main --write`, `driftguard fix apps/api --write`.
pub fn fix_command(mode: &crate::report::Mode, path: &std::path::Path) -> String {
    let mut command = "driftguard fix".to_string();
    if path != std::path::Path::new(".") {
        command.push(' ');
        command.push_str(&path.display().to_string());
    }
    match mode {
        crate::report::Mode::All => {}
        crate::report::Mode::Staged => command.push_str(" --staged"),
        crate::report::Mode::Base(reference) => {
            command.push_str(" --base ");
            command.push_str(reference);
        }
    }
    command.push_str(" --write");
    command
}

/// Names the check's own `fix` command in the helps [`fix_help`] wrote.
pub fn name_fix_command(
    findings: &mut [Finding],
    mode: &crate::report::Mode,
    path: &std::path::Path,
) {
    let command = fix_command(mode, path);
    if command == FIX_COMMAND {
        return;
    }
    for finding in findings {
        if finding.help.contains(FIX_COMMAND) {
            finding.help = finding.help.replace(FIX_COMMAND, &command);
        }
    }
}

/// Who maps a model table, for messages: "`Customer`", or "a `Table(…)`".
pub(crate) fn mapped_by(table: &ModelTable) -> String {
    table
        .class_name
        .as_ref()
        .map_or_else(|| "a `Table(…)`".to_string(), |c| format!("`{c}`"))
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
                .map(|(i, (column, ty))| {
                    let mut column = ModelColumn::new(
                        *column,
                        Location::new("models.py", u32::try_from(i + 2).unwrap_or(0), 5),
                    );
                    column.ty = Some(sql_type(ty));
                    column.nullable = Some(i != 0);
                    column.primary_key = i == 0;
                    column
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
        column.set_enum_type(Some(ModelEnum {
            name: name.to_string(),
            schema: schema.map(str::to_string),
            values: values.iter().map(|v| v.to_string()).collect(),
            native: true,
            location: Some(Location::new("enums.py", 1, 7)),
        }));
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
            events
                .iter()
                .map(|e| crate::schema::FileEvents::plain(&e.changes)),
            "public",
        );
        MigrationSource {
            name: name.to_string(),
            default_schema: "public".to_string(),
            schema,
            models: None,
            live: false,
            parts: Vec::new(),
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
            models: zero_config(tables, std::slice::from_ref(database)),
            database,
            migrations,
        })
    }

    /// The context a zero-config check gives the rules: schema `public`, nothing external,
    /// nothing looked up ahead.
    pub fn zero_config<'a>(
        tables: &'a [ModelTable],
        sources: &'a [MigrationSource],
    ) -> Context<'a> {
        Context {
            tables,
            sources,
            default_schema: "public",
            declared_sources: false,
            external: None,
            memo: None,
            scope: None,
        }
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
            declared_sources,
            ..zero_config(tables, sources)
        })
    }

    /// The findings of one rule.
    pub fn only(findings: Vec<Finding>, rule: crate::rule::Rule) -> Vec<Finding> {
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
            fail_on: Some(crate::rule::Severity::Error),
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

    /// 600 tables (more than two runs of [`TABLES_PER_JOB`]): gaps of every kind in some,
    /// two tables of one name (the first place wins), a foreign key by class name.
    fn many_tables() -> (Vec<MigrationSource>, Vec<ModelTable>) {
        use test_support::*;
        let mut tables = Vec::new();
        let mut sql = vec!["CREATE SCHEMA core;".to_string()];
        for i in 0..600 {
            let name = format!("t{}", i % 590);
            let mut table = model_table(
                "core",
                &name,
                &[("id", "INTEGER"), ("a", "TEXT"), ("b", "VARCHAR(20)")],
            );
            table.class_name = Some(format!("C{i}"));
            table.location = crate::source::Location::new(
                format!("m{}.py", i / 50),
                (i % 50) as u32 * 10 + 1,
                1,
            );
            if i % 7 == 0 {
                table = with_column(table, "a", |c| {
                    c.set_foreign_keys(vec![format!("C{}.id", (i + 3) % 650)]);
                });
            }
            tables.push(table);
            match i % 5 {
                0 => {}
                1 => sql.push(format!("CREATE TABLE core.{name} (id INTEGER, a TEXT);")),
                2 => sql.push(format!(
                    "CREATE TABLE core.{name} (id INTEGER, a INTEGER, b VARCHAR(20) NOT NULL);"
                )),
                _ => sql.push(format!(
                    "CREATE TABLE core.{name} (id INTEGER, a TEXT, b VARCHAR(20));"
                )),
            }
        }
        let sql: Vec<&str> = sql.iter().map(String::as_str).collect();
        context_for(&sql, tables)
    }

    #[test]
    fn findings_told_apart_table_by_table_settle_as_a_full_run_does() {
        let (sources, tables) = many_tables();
        let ctx = test_support::zero_config(&tables, &sources);
        let lookups = ctx.lookups();
        let ctx = Context {
            memo: Some(&lookups),
            ..ctx
        };
        let full = check_all(&ctx);
        assert!(full.reported.len() > 100, "{}", full.reported.len());
        let per_table = check_per_table(&ctx, None);
        let settled = settle_per_table(&ctx, &per_table);
        assert_eq!(settled.reported, full.reported);
        assert_eq!(settled.covered, full.covered);
        // Each table's findings are the ones a run over that table alone gives.
        for i in [0, 7, 255, 256, 599] {
            let alone: Vec<Finding> = RULES
                .iter()
                .flat_map(|rule| {
                    rule(&Context {
                        scope: Some(&tables[i..=i]),
                        ..ctx
                    })
                })
                .collect();
            let told: Vec<Finding> = per_table[i].iter().map(|(_, f)| f.clone()).collect();
            assert_eq!(told, alone, "table {i}");
        }
        // Checked for some tables only, with lookups for those alone: the same findings for
        // them, none for the others.
        let only = [3, 7, 300, 597];
        let scoped = Context { memo: None, ..ctx };
        let some = scoped.lookups_for(Some(&only));
        let scoped = Context {
            memo: Some(&some),
            ..scoped
        };
        let partial = check_per_table(&scoped, Some(&only));
        for (i, found) in partial.iter().enumerate() {
            if only.contains(&i) {
                assert_eq!(found, &per_table[i], "table {i}");
            } else {
                assert!(found.is_empty(), "table {i}");
            }
        }
    }

    #[test]
    fn every_rule_file_describes_its_own_rule() {
        for rule in Rule::ALL {
            assert_eq!(rule.meta().rule, *rule, "{}", rule.code());
        }
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
    fn rules_shared_between_threads_find_what_one_pass_finds() {
        use super::test_support::{model_table, set_enum, source, with_column};
        // Enough tables for several runs of TABLES_PER_JOB, with every column rule finding
        // something in each run, and two classes mapping one table in different runs (the
        // first place wins).
        let count = super::TABLES_PER_JOB * 3 + 17;
        let mut tables = Vec::new();
        let mut sql = String::new();
        for i in 0..count {
            let name = format!("t{i}");
            let mut table = model_table(
                "core",
                &name,
                &[
                    ("id", "INTEGER"),
                    ("label", "VARCHAR(20)"),
                    ("extra", "TEXT"),
                ],
            );
            if i % 5 == 1 {
                table = with_column(table, "label", |c| {
                    set_enum(c, Some("core"), &format!("kind{i}"), &["a", "b"]);
                });
                sql.push_str(&format!("CREATE TYPE core.kind{i} AS ENUM ('a');\n"));
            }
            if i % 7 == 2 {
                table = with_column(table, "extra", |c| {
                    c.set_foreign_keys(vec![format!("core.t{}.missing", i + 1)]);
                });
            }
            for column in &mut table.columns {
                column.location.line += u32::try_from(i * 10).unwrap_or(0);
            }
            tables.push(table);
            match i % 4 {
                // No migration: DG002, and DG001 under it.
                0 => {}
                // The extra column missing: DG001.
                1 => sql.push_str(&format!(
                    "CREATE TABLE core.{name} (id int PRIMARY KEY, label core.kind{i});\n"
                )),
                // Another type, NOT NULL: DG005 and DG006.
                2 => sql.push_str(&format!(
                    "CREATE TABLE core.{name} (id int PRIMARY KEY, label int NOT NULL, extra text NOT NULL);\n"
                )),
                _ => sql.push_str(&format!(
                    "CREATE TABLE core.{name} (id int PRIMARY KEY, label varchar(20), extra text);\n"
                )),
            }
        }
        let mut twin = model_table("core", "t1", &[("id", "INTEGER"), ("extra", "TEXT")]);
        twin.location.line = 9_999;
        tables.insert(count - 3, twin);
        let sources = vec![source("SQL migrations", "m", &[&sql])];
        let ctx = super::test_support::zero_config(&tables, &sources);
        let split = check_all(&ctx);
        let one_pass = settle(&ctx, RULES.iter().flat_map(|rule| rule(&ctx)).collect());
        let keys = |findings: &[Finding]| -> Vec<String> {
            findings
                .iter()
                .map(|f| {
                    format!(
                        "{} {:?} {} {}",
                        f.rule.code(),
                        f.target,
                        f.location,
                        f.message
                    )
                })
                .collect()
        };
        assert_eq!(keys(&split.reported), keys(&one_pass.reported));
        assert_eq!(keys(&split.covered), keys(&one_pass.covered));
        for rule in [
            Rule::TableWithoutMigration,
            Rule::ColumnWithoutMigration,
            Rule::EnumValueWithoutMigration,
            Rule::ColumnTypeMismatch,
            Rule::NullabilityMismatch,
            Rule::ForeignKeyTargetMissing,
        ] {
            assert!(
                split.reported.iter().filter(|f| f.rule == rule).count() > 3,
                "{rule:?}"
            );
        }
        assert!(!split.covered.is_empty());
    }

    #[test]
    fn a_column_two_sources_report_differently_keeps_the_first_pass_however_tables_are_split() {
        use super::test_support::{model_table, source};
        // Declared sources, each serving its own model files: `a` creates `core.shared`
        // without `extra`, `b` never creates it. A class in `b/` maps the table early in the
        // list, one in `a/` late, more than one job's tables apart. Both report
        // `core.shared.extra` (DG001): from a table a migration creates and from one none
        // does. One pass gives the created table's finding first, and so must the split.
        let globs = |pattern: &str| {
            crate::config::Globs::new(vec![pattern.to_string()])
                .map_err(|_| "glob")
                .expect("glob")
        };
        let mut a = source(
            "SQL migrations (a)",
            "a",
            &["CREATE TABLE core.shared (id int PRIMARY KEY);"],
        );
        a.models = Some(globs("a/**"));
        let mut b = source(
            "SQL migrations (b)",
            "b",
            &["CREATE TABLE core.other (id int PRIMARY KEY);"],
        );
        b.models = Some(globs("b/**"));
        let sources = vec![a, b];
        let mut tables = Vec::new();
        let mut early = model_table("core", "shared", &[("id", "INTEGER"), ("extra", "TEXT")]);
        early.location.path = "b/early.py".into();
        tables.push(early);
        for i in 0..super::TABLES_PER_JOB + 5 {
            let mut filler = model_table("core", "other", &[("id", "INTEGER")]);
            filler.location.path = "b/filler.py".into();
            filler.location.line = u32::try_from(i + 10).unwrap_or(0);
            tables.push(filler);
        }
        let mut late = model_table("core", "shared", &[("id", "INTEGER"), ("extra", "TEXT")]);
        late.location.path = "a/zz_late.py".into();
        tables.push(late);
        let ctx = Context {
            declared_sources: true,
            ..super::test_support::zero_config(&tables, &sources)
        };
        let split = check_all(&ctx);
        let one_pass = settle(&ctx, RULES.iter().flat_map(|rule| rule(&ctx)).collect());
        let extra = |checked: &Checked| -> Vec<String> {
            checked
                .reported
                .iter()
                .chain(&checked.covered)
                .filter(|f| f.target.column.as_deref() == Some("extra"))
                .map(|f| format!("{} {}", f.location.path, f.message))
                .collect()
        };
        assert_eq!(extra(&split), extra(&one_pass));
        assert_eq!(extra(&split).len(), 1);
        assert!(
            extra(&split)[0].contains("in SQL migrations (a)"),
            "{:?}",
            extra(&split)
        );
    }
}
