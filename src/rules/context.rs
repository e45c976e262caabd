//! What the rules compare: the model tables, and the schema sources they are compared with.
//!
//! A [`MigrationSource`] is one schema source: the schema a chain of migrations builds, or
//! (`live`) the schema `db-diff` read from a live database. [`Context`] holds the model tables
//! and the sources that serve them, and answers the questions every check asks: which source
//! serves a table, which migrated table and column a model's maps to, which enum type it names,
//! and, with several sources, which one's problem to report. [`DatabaseContext`] is the same
//! for `db-diff`, with the live database as the one source and the migrations beside it.
//!
//! Plain data and lookups only: no check lives here, and nothing here builds a finding.

use crate::config::{ExternalTables, Globs};
use crate::models::{ModelColumn, ModelEnum, ModelTable};
use crate::schema::{Column, EnumType, Origin, Schema, Table};

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
    /// The sources it was replayed from, with their files in the order they run: one for a
    /// source of its own, every source of the repository for the one database they write
    /// together, none for a live database.
    pub parts: Vec<SourcePart>,
}

/// A migration source as replayed: its name and its files, relative to the root, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePart {
    pub name: String,
    pub files: Vec<String>,
}

impl MigrationSource {
    /// A chain kept for SQLite beside the PostgreSQL one (Prefect's
    /// `_migrations/versions/sqlite/`): every file lies under a folder named `sqlite`. SQLite
    /// has no enum types (`sa.Enum` is a `VARCHAR` there), so such a chain never adds enum
    /// values and the enum rules do not ask it to.
    pub fn is_sqlite_chain(&self) -> bool {
        let files = || self.parts.iter().flat_map(|p| &p.files);
        !self.live
            && files().next().is_some()
            && files().all(|f| f.split('/').rev().skip(1).any(|d| d == "sqlite"))
    }

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
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub tables: &'a [ModelTable],
    pub sources: &'a [MigrationSource],
    /// The schema of a model table that names none (`default_schema`).
    pub default_schema: &'a str,
    /// Config sources were declared: a model table must be created by every source that serves
    /// it. Otherwise one source creating it is enough.
    pub declared_sources: bool,
    /// Tables made outside the migrations on purpose (`external:`); none for a live database,
    /// where every mapped table must exist whoever made it.
    pub external: Option<&'a ExternalTables>,
    /// What [`Context::lookup`] finds for each of `tables`, by position, when computed once
    /// ahead ([`Context::lookups`]): the column rules ask it for every model column (60,000
    /// lookups of a 5,000-table schema otherwise). `None`: each lookup is computed.
    pub memo: Option<&'a Lookups<'a>>,
    /// The tables the checks go over, a part of [`Context::tables`] (`None`: all of them), so
    /// that [`super::check_all`] can share one rule's work between threads. Lookups across
    /// tables (a foreign key naming a mapped class) still see every table.
    pub scope: Option<&'a [ModelTable]>,
}

/// The migrated table a model table maps to, per serving source.
pub type Found<'a> = PerSource<(&'a MigrationSource, Option<&'a Table>)>;

/// One entry of [`Context::memo`]: what [`Context::lookup`] finds, as a plain list (a memo
/// borrowed for the context's lifetime must be droppable after what it points at).
pub type Memo<'a> = Vec<(&'a MigrationSource, Option<&'a Table>)>;

/// [`Context::memo`]: what [`Context::lookup`] finds for each model table (by position in
/// [`Context::tables`]), and the first model table of each class name.
#[derive(Debug, Default)]
pub struct Lookups<'a> {
    found: Vec<Memo<'a>>,
    /// For each of the tables (by position), the migrated column of each model column in each
    /// entry of its `found`: entry `k`'s column `j` at `k * columns + j`. Six rules ask for it
    /// per model column, and each asking searched the migrated table's columns by name again
    /// (at 5,000 tables, ~30% of the rules' time was those name comparisons).
    columns: Vec<Vec<Option<&'a Column>>>,
    /// A foreign key may name a mapped class for its table (`ForeignKey("Customer.id")`): each
    /// foreign key asked, which was a pass over every model table (25 million comparisons for
    /// 5,000 foreign keys among 5,000 tables). Built when first asked: the positions of the
    /// tables that have a class, by class name, then position.
    by_class: std::sync::OnceLock<Vec<usize>>,
    /// Which tables the memo holds (`None`: all of them): [`Context::lookups_for`] computes
    /// only the tables a scoped run checks; any other is looked up when asked.
    filled: Option<Vec<bool>>,
}

impl<'a> Context<'a> {
    /// The tables the checks go over: [`Context::scope`], or every table.
    pub fn checked(&self) -> &'a [ModelTable] {
        self.scope.unwrap_or(self.tables)
    }

    /// The sources that serve a model table (all, unless the config narrows them).
    pub fn serving(&self, table: &ModelTable) -> impl Iterator<Item = &'a MigrationSource> {
        self.sources.iter().filter(|s| {
            s.models
                .as_ref()
                .is_none_or(|g| g.is_match(&table.location.path))
        })
    }

    /// The schema a model table lives in, for a source.
    pub fn schema_of(&self, table: &ModelTable, source: Option<&MigrationSource>) -> String {
        self.schema_name(table, source).to_string()
    }

    /// [`Context::schema_of`], borrowed.
    fn schema_name<'s>(
        &'s self,
        table: &'s ModelTable,
        source: Option<&'s MigrationSource>,
    ) -> &'s str {
        match (&table.schema, source) {
            (Some(schema), _) => schema,
            (None, Some(source)) => &source.default_schema,
            (None, None) => self.default_schema,
        }
    }

    /// The migrated table a model table maps to, per serving source (`None` where a source
    /// does not create it).
    pub fn lookup(&self, table: &ModelTable) -> Found<'a> {
        self.found(table)
    }

    /// [`Context::lookup`], borrowed from the memo when `table` is one of [`Context::tables`].
    /// (Copied from the memo: up to two sources are held inline, so a copy allocates nothing.)
    fn found(&self, table: &ModelTable) -> Found<'a> {
        match self
            .memo
            .zip(self.position(table))
            .filter(|(memo, i)| memo.holds(*i))
            .and_then(|(memo, i)| memo.found.get(i))
        {
            Some(found) => Found::from_slice(found),
            None => self.find(table),
        }
    }

    /// What [`Context::lookup`] finds for each of [`Context::tables`], and the tables by
    /// class name: a [`Context::memo`].
    pub fn lookups(&self) -> Lookups<'a> {
        self.lookups_for(None)
    }

    /// [`Context::lookups`] for the tables at the positions `only` (`None`: every table).
    pub fn lookups_for(&self, only: Option<&[usize]>) -> Lookups<'a> {
        use rayon::prelude::*;
        let filled = only.map(|only| {
            let mut filled = vec![false; self.tables.len()];
            for &i in only {
                if let Some(slot) = filled.get_mut(i) {
                    *slot = true;
                }
            }
            filled
        });
        let (found, columns) = self
            .tables
            .par_iter()
            .enumerate()
            .map(|(i, t)| {
                if filled.as_ref().is_some_and(|filled| !filled[i]) {
                    return (Vec::new(), Vec::new());
                }
                let found = self.find(t);
                let columns = found
                    .iter()
                    .flat_map(|(_, migrated)| {
                        t.columns
                            .iter()
                            .map(move |c| migrated.and_then(|m| m.column(&c.name)))
                    })
                    .collect();
                (found.into_vec(), columns)
            })
            .unzip();
        Lookups {
            found,
            columns,
            by_class: std::sync::OnceLock::new(),
            filled,
        }
    }

    /// The first model table whose class is named `name`.
    pub fn class_named(&self, name: &str) -> Option<&'a ModelTable> {
        let tables = self.tables;
        let class = |i: usize| tables.get(i).and_then(|t| t.class_name.as_deref());
        let index = || {
            let mut by_class: Vec<usize> =
                (0..tables.len()).filter(|&i| class(i).is_some()).collect();
            by_class.sort_by(|&a, &b| (class(a), a).cmp(&(class(b), b)));
            by_class
        };
        match self.memo {
            Some(memo) => {
                let by_class = memo.by_class.get_or_init(index);
                // The first place wins, as a pass in order finds it: the lowest position.
                let at = by_class.partition_point(|&i| class(i) < Some(name));
                by_class
                    .get(at)
                    .filter(|&&i| class(i) == Some(name))
                    .and_then(|&i| tables.get(i))
            }
            None => self
                .tables
                .iter()
                .find(|t| t.class_name.as_deref() == Some(name)),
        }
    }

    /// The position of `table` in [`Context::tables`], by its address (`None`: a table from
    /// elsewhere).
    fn position(&self, table: &ModelTable) -> Option<usize> {
        let size = std::mem::size_of::<ModelTable>();
        let start = self.tables.as_ptr() as usize;
        let offset = (table as *const ModelTable as usize).checked_sub(start)?;
        (size > 0 && offset % size == 0 && offset / size < self.tables.len())
            .then_some(offset / size)
    }

    /// The memo's entries for `table` and the position of `column` among its columns, when
    /// `table` is one of [`Context::tables`] and `column` one of its columns.
    #[allow(clippy::type_complexity)] // two borrowed slices of the memo and a position
    fn memo_columns(
        &self,
        table: &ModelTable,
        column: &ModelColumn,
    ) -> Option<(&'a Memo<'a>, &'a [Option<&'a Column>], usize)> {
        let memo = self.memo?;
        let i = self.position(table).filter(|&i| memo.holds(i))?;
        let size = std::mem::size_of::<ModelColumn>();
        let offset =
            (column as *const ModelColumn as usize).checked_sub(table.columns.as_ptr() as usize)?;
        let j = (size > 0 && offset % size == 0 && offset / size < table.columns.len())
            .then_some(offset / size)?;
        Some((memo.found.get(i)?, memo.columns.get(i)?, j))
    }

    /// Whether `column` of `table` has its migrated column in `migrated` (entry `k` of the
    /// table's [`Context::lookup`]).
    pub fn has_migrated_column(
        &self,
        table: &ModelTable,
        column: &ModelColumn,
        k: usize,
        migrated: &Table,
    ) -> bool {
        match self.memo_columns(table, column) {
            Some((_, columns, j)) => columns
                .get(k * table.columns.len() + j)
                .is_some_and(Option::is_some),
            None => migrated.column(&column.name).is_some(),
        }
    }

    fn find(&self, table: &ModelTable) -> Found<'a> {
        self.serving(table)
            .map(|source| {
                let schema = self.schema_name(table, Some(source));
                (source, source.schema.table(schema, &table.name))
            })
            .collect()
    }

    /// Whether the table counts as created: by any serving source (zero config) or by every
    /// serving source (declared sources). A table the migrations only alter (made outside
    /// them) is not created by them.
    pub fn table_created(&self, found: &[(&MigrationSource, Option<&Table>)]) -> bool {
        let created = |t: &Option<&Table>| t.is_some_and(|t| t.origin == Origin::Migrations);
        if self.declared_sources {
            !found.is_empty() && found.iter().all(|(_, t)| created(t))
        } else {
            found.iter().any(|(_, t)| created(t))
        }
    }

    /// Whether `external:` declares `schema.table` made outside the migrations.
    pub fn is_external(&self, schema: &str, table: &str) -> bool {
        self.external.is_some_and(|e| e.matches(schema, table))
    }

    /// The migrated columns a model column maps to: one per serving source that creates both
    /// its table and the column. The rules that compare a column (DG003–DG007) look only at
    /// these; where there are none, DG001 or DG002 already speak.
    pub fn migrated_columns(
        &self,
        table: &ModelTable,
        column: &ModelColumn,
    ) -> PerSource<Migrated<'a>> {
        if let Some((found, columns, j)) = self.memo_columns(table, column) {
            let stride = table.columns.len();
            return found
                .iter()
                .enumerate()
                .filter_map(|(k, &(source, migrated))| {
                    Some(Migrated {
                        source,
                        table: migrated?,
                        column: (*columns.get(k * stride + j)?)?,
                    })
                })
                .collect();
        }
        self.found(table)
            .iter()
            .filter_map(|&(source, migrated)| {
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
        per_source: PerSource<(Migrated<'a>, Option<T>)>,
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

impl Lookups<'_> {
    /// Whether the memo holds the table at position `i`.
    fn holds(&self, i: usize) -> bool {
        self.filled
            .as_ref()
            .is_none_or(|filled| filled.get(i).copied().unwrap_or(false))
    }
}

/// One entry per migration source, held inline for up to two: nearly every project has one or
/// two, and the column rules ask for each of tens of thousands of model columns.
pub type PerSource<T> = smallvec::SmallVec<[T; 2]>;

/// A model column's counterpart in one migration source.
#[derive(Debug, Clone, Copy)]
pub struct Migrated<'a> {
    pub source: &'a MigrationSource,
    pub table: &'a Table,
    pub column: &'a Column,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{model_table, source};

    #[test]
    fn memoized_lookups_answer_as_computed_ones() {
        let tables = vec![
            model_table("core", "customers", &[("id", "INTEGER"), ("name", "TEXT")]),
            model_table("core", "orders", &[("id", "INTEGER")]),
            model_table("ops", "jobs", &[("id", "INTEGER")]),
        ];
        let sources = vec![
            source(
                "SQL migrations",
                "a",
                &[
                    "CREATE TABLE core.customers (id int, name text); ALTER TABLE ops.jobs ADD COLUMN id int;",
                ],
            ),
            source("Alembic", "b", &["CREATE TABLE core.orders (id int);"]),
        ];
        let plain = crate::rules::test_support::zero_config(&tables, &sources);
        let lookups = plain.lookups();
        let memoized = Context {
            memo: Some(&lookups),
            scope: None,
            ..plain
        };
        let names = |found: Found| -> Vec<(String, Option<String>)> {
            found
                .into_iter()
                .map(|(s, t)| {
                    (
                        s.name.clone(),
                        t.map(|t| format!("{}.{}", t.schema, t.name)),
                    )
                })
                .collect()
        };
        // Every table's class is `Model`: the first place wins, memo or not.
        for ctx in [&plain, &memoized] {
            assert!(
                ctx.class_named("Model")
                    .is_some_and(|t| std::ptr::eq(t, &tables[0]))
            );
            assert!(ctx.class_named("Missing").is_none());
        }
        for table in &tables {
            assert_eq!(names(memoized.lookup(table)), names(plain.lookup(table)));
            for column in &table.columns {
                let cols = |ctx: &Context| -> Vec<String> {
                    ctx.migrated_columns(table, column)
                        .iter()
                        .map(|m| format!("{}: {}", m.source.name, m.column.name))
                        .collect()
                };
                assert_eq!(cols(&memoized), cols(&plain));
            }
        }
        assert_eq!(
            names(memoized.lookup(&tables[0])),
            [
                (
                    "SQL migrations".to_string(),
                    Some("core.customers".to_string())
                ),
                ("Alembic".to_string(), None)
            ]
        );
        // A table that is not one of the context's (a copy): computed, not taken from the memo.
        let copy = tables[1].clone();
        assert_eq!(
            names(memoized.lookup(&copy)),
            names(plain.lookup(&tables[1]))
        );
        assert_eq!(memoized.position(&copy), None);
        assert_eq!(memoized.position(&tables[2]), Some(2));
    }

    #[test]
    fn memoized_columns_are_the_ones_a_search_by_name_finds_in_each_source() {
        let tables = vec![
            model_table(
                "core",
                "customers",
                &[("id", "INTEGER"), ("name", "TEXT"), ("email", "TEXT")],
            ),
            model_table("core", "orders", &[("id", "INTEGER"), ("total", "NUMERIC")]),
            model_table("ops", "jobs", &[]),
        ];
        let sources = vec![
            source(
                "SQL migrations",
                "a",
                &[
                    "CREATE TABLE core.customers (id int, name text); CREATE TABLE ops.jobs (id int);",
                ],
            ),
            source(
                "Alembic",
                "b",
                &[
                    "CREATE TABLE core.customers (email text, id int); CREATE TABLE core.orders (id int);",
                ],
            ),
        ];
        let plain = crate::rules::test_support::zero_config(&tables, &sources);
        let lookups = plain.lookups();
        let memoized = Context {
            memo: Some(&lookups),
            ..plain
        };
        let cols = |ctx: &Context, table: &ModelTable, column: &ModelColumn| -> Vec<String> {
            ctx.migrated_columns(table, column)
                .iter()
                .map(|m| format!("{}: {}.{}", m.source.name, m.table.name, m.column.name))
                .collect()
        };
        let has = |ctx: &Context, table: &ModelTable, column: &ModelColumn| -> Vec<bool> {
            ctx.lookup(table)
                .iter()
                .enumerate()
                .filter_map(|(k, (_, t))| t.map(|t| ctx.has_migrated_column(table, column, k, t)))
                .collect()
        };
        for table in &tables {
            for column in &table.columns {
                assert_eq!(cols(&memoized, table, column), cols(&plain, table, column));
                assert_eq!(has(&memoized, table, column), has(&plain, table, column));
            }
        }
        let customers = &tables[0];
        assert_eq!(
            cols(&memoized, customers, &customers.columns[2]),
            ["Alembic: customers.email"]
        );
        assert_eq!(
            cols(&memoized, customers, &customers.columns[0]),
            ["SQL migrations: customers.id", "Alembic: customers.id"]
        );
        assert_eq!(
            has(&memoized, customers, &customers.columns[1]),
            [true, false]
        );
        // A column that is not one of the table's (a copy): searched by name, as without a memo.
        let copy = customers.columns[1].clone();
        assert_eq!(memoized.memo_columns(customers, &copy).map(|m| m.2), None);
        assert_eq!(
            cols(&memoized, customers, &copy),
            ["SQL migrations: customers.name"]
        );
        assert_eq!(
            memoized
                .memo_columns(customers, &customers.columns[2])
                .map(|m| m.2),
            Some(2)
        );
    }

    #[test]
    fn a_class_is_found_by_name_at_its_first_place_with_or_without_the_memo() {
        let classes = [Some("B"), Some("A"), Some("B"), None, Some("C"), Some("A")];
        let tables: Vec<ModelTable> = classes
            .iter()
            .enumerate()
            .map(|(i, class)| {
                let mut table = model_table("core", &format!("t{i}"), &[("id", "INTEGER")]);
                table.class_name = class.map(str::to_string);
                table
            })
            .collect();
        let sources = vec![source(
            "SQL migrations",
            "a",
            &["CREATE TABLE core.t0 (id int);"],
        )];
        let plain = crate::rules::test_support::zero_config(&tables, &sources);
        let lookups = plain.lookups();
        let memoized = Context {
            memo: Some(&lookups),
            ..plain
        };
        for ctx in [&plain, &memoized] {
            let found = |name: &str| ctx.class_named(name).map(|t| t.name.as_str());
            assert_eq!(found("A"), Some("t1"));
            assert_eq!(found("B"), Some("t0"));
            assert_eq!(found("C"), Some("t4"));
            assert_eq!(found("D"), None);
            assert_eq!(found(""), None);
        }
    }
}
