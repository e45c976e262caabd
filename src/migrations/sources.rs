//! Migration sources: the parsed migration files of a snapshot → the schemas they build.
//!
//! A *source* is one sequence of migrations that runs in one order: the SQL files (all SQL
//! folders together, by natural file-name order, or one declared `sources:` entry), or one
//! Alembic environment (its revisions ordered by their graph). [`assemble`] orders each
//! source's files, replays them into a [`crate::schema::Schema`] and names the source for
//! messages. It reads no files and runs no rules: [`crate::project`] hands it what was parsed,
//! and the rules compare the models with what it returns.

use std::collections::{BTreeMap, HashMap};

use crate::config::{Config, SourceKind};
use crate::discover::migration_order;
use crate::finding::Warning;
use crate::migrations::{MigrationEvents, QualifiedName, alembic};
use crate::models::ModelTable;
use crate::rules::MigrationSource;
use crate::schema::{self, FileEvents};
use crate::source::Location;

/// A SQL migration file as read.
#[derive(Debug, Clone, Copy)]
pub struct SqlMigration<'a> {
    pub path: &'a str,
    /// The declared source (index in [`Config::sources`]) it belongs to; `None`: the
    /// zero-config SQL source.
    pub source: Option<usize>,
    pub events: &'a MigrationEvents,
}

/// Orders and replays every source: SQL sources first (zero-config, then declared ones by
/// index), then each Alembic environment by path. `tables` are the resolved model tables, for
/// revisions that name a model class's table (`op.create_table(SqlRun.__tablename__, …)`).
/// The readers' warnings of each file are added to `warnings`.
pub fn assemble(
    sql: Vec<SqlMigration>,
    alembic_envs: BTreeMap<String, Vec<alembic::Revision>>,
    tables: &[ModelTable],
    config: &Config,
    warnings: &mut Vec<Warning>,
) -> Vec<MigrationSource> {
    let mut by_source: BTreeMap<Option<usize>, Vec<SqlMigration>> = BTreeMap::new();
    for file in sql {
        by_source.entry(file.source).or_default().push(file);
    }
    let mut built = Vec::new();
    for (source_index, mut files) in by_source {
        files.sort_by(|a, b| migration_order(a.path, b.path));
        for file in &files {
            warnings.extend(
                file.events
                    .warnings
                    .iter()
                    .map(|w| Warning::at(w.location.clone(), &w.message)),
            );
        }
        let declared = source_index.and_then(|i| config.sources.get(i));
        let default_schema = declared
            .and_then(|s| s.default_schema.clone())
            .unwrap_or_else(|| config.default_schema.clone());
        let schema = schema::replay(
            files.iter().map(|f| FileEvents {
                changes: &f.events.changes,
            }),
            &default_schema,
        );
        built.push(MigrationSource {
            name: match declared {
                Some(s) => format!("SQL migrations ({})", s.path),
                None => "SQL migrations".to_string(),
            },
            default_schema,
            schema,
            models: declared.and_then(|s| s.models.clone()),
            live: false,
            files: files.iter().map(|f| f.path.to_string()).collect(),
        });
    }
    let class_tables = class_tables(tables);
    let table_of = |class: &str| class_tables.get(class).cloned().flatten();
    for (env, mut revisions) in alembic_envs {
        for revision in &mut revisions {
            for class in alembic::resolve_model_tables(revision, &table_of) {
                warnings.push(Warning::at(
                    Location::new(revision.path.clone(), 1, 1),
                    format!(
                        "this revision names the table of model class `{class}` \
                         (`{class}.__tablename__`), but no model class of that name maps one \
                         table: its changes to that table are not checked"
                    ),
                ));
            }
        }
        let (ordered, order_warnings) = alembic::order(revisions);
        warnings.extend(order_warnings);
        for revision in &ordered {
            warnings.extend(
                revision
                    .events
                    .warnings
                    .iter()
                    .map(|w| Warning::at(w.location.clone(), &w.message)),
            );
        }
        let declared = config
            .sources
            .iter()
            .find(|s| s.kind == SourceKind::Alembic && s.path == env);
        let default_schema = declared
            .and_then(|s| s.default_schema.clone())
            .unwrap_or_else(|| config.default_schema.clone());
        let version_table = ordered
            .first()
            .map(|r| vec![alembic::version_table(&r.path)])
            .unwrap_or_default();
        let schema = schema::replay(
            std::iter::once(FileEvents {
                changes: &version_table,
            })
            .chain(ordered.iter().map(|r| FileEvents {
                changes: &r.events.changes,
            })),
            &default_schema,
        );
        built.push(MigrationSource {
            name: if env.is_empty() {
                "Alembic".to_string()
            } else {
                format!("Alembic ({env})")
            },
            default_schema,
            schema,
            models: declared.and_then(|s| s.models.clone()),
            live: false,
            files: ordered.iter().map(|r| r.path.clone()).collect(),
        });
    }
    built
}

/// Model class name → the table it maps, when exactly one table has a class of that name.
fn class_tables(tables: &[ModelTable]) -> HashMap<&str, Option<QualifiedName>> {
    let mut class_tables: HashMap<&str, Option<QualifiedName>> = HashMap::new();
    for table in tables {
        if let Some(class) = &table.class_name {
            let name = QualifiedName::new(table.schema.as_deref(), &table.name);
            class_tables
                .entry(class.as_str())
                .and_modify(|t| {
                    if t.as_ref() != Some(&name) {
                        *t = None;
                    }
                })
                .or_insert(Some(name));
        }
    }
    class_tables
}
