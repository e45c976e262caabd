//! The model rules run again only for the tables a change can reach.
//!
//! A pre-commit check of a new edit at 5,000 models ran every rule over every model table
//! (~3 ms of a ~30 ms check, on both cores) although the edit touched one table. After each
//! analysis a [`Memo`] keeps every table's findings (before suppressions and the config) with
//! what they were computed from, as the kept states name it:
//!
//! - the kept resolution the model tables were resolved from ([`crate::models`]: a token of
//!   its files' identities) and the model files decided again beside it ("dirty" files);
//! - the kept replay each source's schema went on from ([`crate::schema::resume`]: a token of
//!   its files' identities) and the names of the tables the files replayed after it name;
//! - the sources' shape (names, default schemas, kinds) and which schemas exist.
//!
//! The next analysis under the same config takes the memo when its own tables and schemas
//! were built from the same kept states. Then a model table's findings can differ from the
//! memo's only when the table is in a file dirty in either run, or was assembled from several
//! classes (single-table inheritance, `Table(…)` calls), or its name — or that of a table or
//! class one of its foreign keys names — is among the names of the tables either run's dirty
//! files held, or either run's replayed files name (with the tables that inherit from them).
//! Those tables are checked again; every other table keeps the memo's findings. A replayed
//! file that changes types, domains or schemas, or any difference in what the memo was built
//! from, checks every table. The findings are then settled, suppressed and configured as
//! after a full run: the result is exactly a full run's (a property test edits projects at
//! random and compares with runs without the cache).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::context::MigrationSource;
use super::{PerTable, foreign_key_target_missing};
use crate::finding::Finding;
use crate::migrations::SchemaChange;
use crate::models::ModelTable;
use crate::source::Location;

/// Bumped whenever what a memo holds changes shape or meaning.
const FORMAT: u32 = 2;

/// A replay's side of a memo: the kept state a schema went on from (or that the cache holds
/// after the run), and the files replayed after it, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayBasis {
    pub token: u64,
    pub files: Vec<ReplayedFile>,
}

/// A file replayed after a kept state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayedFile {
    /// A digest of the file's identity (path and blob id, or what was read of a revision).
    pub key: u64,
    /// The names of the tables it touches; `None` when it may change more (a type, a domain,
    /// a schema).
    pub names: Option<Vec<String>>,
    /// It creates or renames a table: a statement of an earlier file may have looked for
    /// that table further on (see [`crate::schema::resume`]).
    pub creates: bool,
}

impl ReplayedFile {
    /// The entry of a file with these identity and changes.
    pub fn new(key: u64, changes: &[SchemaChange]) -> ReplayedFile {
        let mut names = BTreeSet::new();
        let named = named_by(changes, &mut names);
        ReplayedFile {
            key,
            names: named.then(|| names.into_iter().collect()),
            creates: creates_tables(changes),
        }
    }
}

/// Whether `changes` create or rename a table (in any branch).
fn creates_tables(changes: &[SchemaChange]) -> bool {
    changes.iter().any(|change| match change {
        SchemaChange::CreateTable { .. }
        | SchemaChange::RenameTable { .. }
        | SchemaChange::SetTableSchema { .. }
        | SchemaChange::RenameSchema { .. } => true,
        SchemaChange::If {
            branches,
            otherwise,
            ..
        } => branches.iter().any(|(_, c)| creates_tables(c)) || creates_tables(otherwise),
        _ => false,
    })
}

/// The names the files of two replays from one kept state may differ by: those of the files
/// after the ones they share (same identities, in the same order), or of all their files when
/// a file after those creates a table (an earlier statement may have looked for it); `None`
/// when a file may change more than the tables it names.
fn replayed_apart(kept: &[ReplayedFile], now: &[ReplayedFile]) -> Option<BTreeSet<String>> {
    let shared = kept
        .iter()
        .zip(now)
        .take_while(|(a, b)| a.key == b.key)
        .count();
    let apart = kept[shared..].iter().chain(&now[shared..]);
    let from = if apart.clone().any(|f| f.creates) {
        0
    } else {
        shared
    };
    let mut names = BTreeSet::new();
    for file in kept[from..].iter().chain(&now[from..]) {
        names.extend(file.names.as_ref()?.iter().cloned());
    }
    Some(names)
}

/// What one replay reports: the state it went on from (`None`: it replayed in full) and the
/// state the cache holds after it (`None`: none that it knows of).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayBases {
    pub from: Option<ReplayBasis>,
    pub kept: Option<ReplayBasis>,
}

/// A resolution's side of a memo: the kept resolution the tables were resolved from (or that
/// the cache holds after the run), the model files decided again beside it, and the class and
/// table names that kept resolution holds for those files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionBasis {
    pub token: u64,
    pub dirty_files: BTreeSet<String>,
    pub dirty_names: BTreeSet<String>,
}

/// What a resolution reports: its bases (as [`ReplayBases`]), and the tables it assembled from
/// more than one class's decisions (a parent with single-table subclasses, `Table(…)` calls),
/// by location: those are always checked again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolutionBases {
    pub from: Option<ResolutionBasis>,
    pub kept: Option<ResolutionBasis>,
    pub assembled: Vec<Location>,
}

/// An analysis's rule findings, kept for the next one (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memo {
    format: u32,
    resolution: u64,
    replays: Vec<ReplayBasis>,
    shape: u64,
    dirty_files: Vec<String>,
    dirty_names: Vec<String>,
    /// Each inheriting table's name and its parents' names, as that analysis's schemas had
    /// them: dropping a parent drops its children, which the next schemas then lack.
    inheritance: Vec<(String, Vec<String>)>,
    /// The findings of each table that has any, by the table's location, with each finding's
    /// rule (its place in the rules' order).
    findings: Vec<(Location, Vec<(u8, Finding)>)>,
}

/// The names of the tables `changes` touch (by name, whatever the schema), added to `names`;
/// `false` when they may change more than those tables: a type, domain or schema.
pub fn named_by(changes: &[SchemaChange], names: &mut BTreeSet<String>) -> bool {
    for change in changes {
        match change {
            SchemaChange::SetSearchPath { .. } => {}
            SchemaChange::CreateTable {
                table,
                copies_from,
                likes,
                ..
            } => {
                names.insert(table.name.clone());
                // A parent's later changes reach its children; the parents themselves do not
                // change. Named all the same: cheap, and no rule needs the distinction.
                names.extend(copies_from.iter().map(|p| p.name.clone()));
                names.extend(likes.iter().map(|(_, p)| p.name.clone()));
            }
            SchemaChange::DropTable { table, .. }
            | SchemaChange::SetTableSchema { table, .. }
            | SchemaChange::AddColumn { table, .. }
            | SchemaChange::DropColumn { table, .. }
            | SchemaChange::RenameColumn { table, .. }
            | SchemaChange::AlterColumnType { table, .. }
            | SchemaChange::SetNullable { table, .. }
            | SchemaChange::SetDefault { table, .. }
            | SchemaChange::AddPrimaryKey { table, .. }
            | SchemaChange::AddForeignKey { table, .. } => {
                names.insert(table.name.clone());
            }
            SchemaChange::RenameTable {
                table, new_name, ..
            } => {
                names.insert(table.name.clone());
                names.insert(new_name.clone());
            }
            SchemaChange::SetParent { table, parent, .. } => {
                names.insert(table.name.clone());
                names.insert(parent.name.clone());
            }
            SchemaChange::If {
                branches,
                otherwise,
                ..
            } => {
                for (_, changes) in branches {
                    if !named_by(changes, names) {
                        return false;
                    }
                }
                if !named_by(otherwise, names) {
                    return false;
                }
            }
            SchemaChange::CreateSchema { .. }
            | SchemaChange::DropSchema { .. }
            | SchemaChange::RenameSchema { .. }
            | SchemaChange::CreateEnum { .. }
            | SchemaChange::AddEnumValue { .. }
            | SchemaChange::RenameEnumValue { .. }
            | SchemaChange::RenameType { .. }
            | SchemaChange::DropType { .. }
            | SchemaChange::SetTypeSchema { .. }
            | SchemaChange::CreateDomain { .. } => return false,
        }
    }
    true
}

/// What the rules read of the sources besides their tables: each source's name, default
/// schema and kind, and the schemas that exist in it (created, or holding a table: a
/// suggestion creates the schema when it does not).
pub fn shape(sources: &[MigrationSource]) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    let mut hasher = foldhash::quality::FixedState::with_seed(0x5eed_0004).build_hasher();
    sources.len().hash(&mut hasher);
    for source in sources {
        source.name.hash(&mut hasher);
        source.default_schema.hash(&mut hasher);
        source.live.hash(&mut hasher);
        source.is_sqlite_chain().hash(&mut hasher);
        source.models.is_some().hash(&mut hasher);
        let schema = &source.schema;
        let mut existing: BTreeSet<&str> = schema.schemas.iter().map(String::as_str).collect();
        let mut last: Option<&str> = None;
        for (table_schema, _) in schema.tables.keys() {
            if last != Some(table_schema) {
                existing.insert(table_schema);
                last = Some(table_schema);
            }
        }
        existing.hash(&mut hasher);
    }
    hasher.finish()
}

/// Each inheriting table's name and its parents' names (any source).
fn inheritance(sources: &[MigrationSource]) -> Vec<(String, Vec<String>)> {
    sources
        .iter()
        .flat_map(|s| s.schema.tables.values())
        .filter(|t| !t.parents.is_empty())
        .map(|t| {
            let parents = t.parents.iter().map(|(_, p)| p.clone()).collect();
            (t.name.clone(), parents)
        })
        .collect()
}

/// The names with the tables that inherit from one of them, repeatedly (a parent's column
/// changes reach its children, and dropping it drops them), by the links of `inheritance`
/// and `more`.
fn with_children(
    mut names: BTreeSet<String>,
    inheritance: &[(String, Vec<String>)],
    more: &[(String, Vec<String>)],
) -> BTreeSet<String> {
    loop {
        let before = names.len();
        for (child, parents) in inheritance.iter().chain(more) {
            if !names.contains(child) && parents.iter().any(|p| names.contains(p)) {
                names.insert(child.clone());
            }
        }
        if names.len() == before {
            return names;
        }
    }
}

/// The names of the tables located in `files` or assembled, and their classes'.
fn names_of(
    tables: &[ModelTable],
    files: &BTreeSet<String>,
    assembled: &HashSet<&Location>,
    names: &mut BTreeSet<String>,
) {
    for table in tables {
        if files.contains(&*table.location.path)
            || assembled.contains(&table.location)
            || table.class_name.is_none()
        {
            names.insert(table.name.clone());
            names.extend(table.class_name.clone());
        }
    }
}

/// The positions of the tables whose findings may differ from `memo`'s, when the memo was
/// built from what these tables and sources were (`None`: every table is to be checked).
/// `shape`: the sources' [`shape`].
pub fn scope(
    tables: &[ModelTable],
    sources: &[MigrationSource],
    shape: u64,
    memo: &Memo,
    resolution: &ResolutionBases,
    replays: &[ReplayBases],
) -> Option<Vec<usize>> {
    use rayon::prelude::*;
    let from = resolution.from.as_ref()?;
    if memo.format != FORMAT
        || memo.resolution != from.token
        || memo.replays.len() != replays.len()
        || memo.shape != shape
    {
        return None;
    }
    let mut names: BTreeSet<String> = memo.dirty_names.iter().cloned().collect();
    for (kept, replay) in memo.replays.iter().zip(replays) {
        let replay = replay.from.as_ref()?;
        if replay.token != kept.token {
            return None;
        }
        names.extend(replayed_apart(&kept.files, &replay.files)?);
    }
    let mut files = from.dirty_files.clone();
    files.extend(memo.dirty_files.iter().cloned());
    names.extend(from.dirty_names.iter().cloned());
    let assembled: HashSet<&Location> = resolution.assembled.iter().collect();
    names_of(tables, &files, &assembled, &mut names);
    // The links of both analyses: a table dropped since, or before, took its children along.
    let names = with_children(names, &inheritance(sources), &memo.inheritance);
    let names: HashSet<&str> = names.iter().map(String::as_str).collect();
    // A table is checked when it is one a change may reach itself (a first pass over the
    // tables alone), or when a foreign key of its names a table or mapped class of those
    // names (a second, over the columns). A class stands for the table of the first class of
    // its name, as the rule finds it: any class whose table has one of the names is taken.
    let mut checked = vec![false; tables.len()];
    let mut classes: HashSet<&str> = HashSet::new();
    for (i, table) in tables.iter().enumerate() {
        let named = names.contains(table.name.as_str());
        if named && let Some(class) = &table.class_name {
            classes.insert(class);
        }
        checked[i] = named
            || table.class_name.is_none()
            || files.contains(&*table.location.path)
            || assembled.contains(&table.location);
    }
    let reaches = |token: &str| names.contains(token) || classes.contains(token);
    Some(
        tables
            .par_iter()
            .zip(checked)
            .enumerate()
            .filter(|(_, (table, checked))| {
                // The foreign keys as the kept resolution wrote them beside a table's columns,
                // which stay encoded.
                *checked
                    || table.columns.any_key(|fk| {
                        foreign_key_target_missing::referenced_table(fk).is_some_and(reaches)
                    })
            })
            .map(|(i, _)| i)
            .collect(),
    )
}

/// Every table's findings: those of `fresh` for the tables in `scope` (checked now), the
/// memo's for the others.
pub fn merge(tables: &[ModelTable], scope: &[usize], mut fresh: PerTable, memo: &Memo) -> PerTable {
    let kept: HashMap<&Location, &Vec<(u8, Finding)>> =
        memo.findings.iter().map(|(l, f)| (l, f)).collect();
    let mut checked = vec![false; tables.len()];
    for &i in scope {
        if let Some(slot) = checked.get_mut(i) {
            *slot = true;
        }
    }
    fresh.resize_with(tables.len(), Vec::new);
    for (i, table) in tables.iter().enumerate() {
        if !checked[i]
            && let Some(findings) = kept.get(&table.location)
        {
            fresh[i] = (*findings).clone();
        }
    }
    fresh
}

/// A memo keeps at most this many findings. Each is read back as JSON (~600 bytes) on every
/// analysis that could take the memo: past a thousand or so, reading them costs more than the
/// rules they spare (~6 ms of CPU over 5,000 tables).
const MEMO_FINDINGS: usize = 1000;

/// The memo to keep after an analysis whose tables have the findings `per_table`: `None`
/// when a kept state it would be built from is unknown, two tables share a location, or the
/// findings are more than [`MEMO_FINDINGS`].
pub fn memo_to_keep(
    tables: &[ModelTable],
    sources: &[MigrationSource],
    shape: u64,
    per_table: &PerTable,
    resolution: &ResolutionBases,
    replays: &[ReplayBases],
) -> Option<Memo> {
    let kept = resolution.kept.as_ref()?;
    if per_table.iter().map(Vec::len).sum::<usize>() > MEMO_FINDINGS {
        return None;
    }
    let mut names = kept.dirty_names.clone();
    let replays: Vec<ReplayBasis> = replays
        .iter()
        .map(|r| r.kept.clone())
        .collect::<Option<_>>()?;
    let assembled: HashSet<&Location> = resolution.assembled.iter().collect();
    names_of(tables, &kept.dirty_files, &assembled, &mut names);
    let inheritance = inheritance(sources);
    let names = with_children(names, &inheritance, &[]);
    // Tables come sorted by location: told unique by their neighbours.
    let unique = if tables.is_sorted_by(|a, b| a.location <= b.location) {
        tables.windows(2).all(|w| w[0].location != w[1].location)
    } else {
        let mut locations = HashSet::with_capacity(tables.len());
        tables.iter().all(|t| locations.insert(&t.location))
    };
    if !unique {
        return None;
    }
    Some(Memo {
        format: FORMAT,
        resolution: kept.token,
        replays,
        shape,
        dirty_files: kept.dirty_files.iter().cloned().collect(),
        dirty_names: names.into_iter().collect(),
        inheritance,
        findings: tables
            .iter()
            .zip(per_table)
            .filter(|(_, found)| !found.is_empty())
            .map(|(t, found)| (t.location.clone(), found.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{context_for, model_table};
    use crate::source::SourceFile;

    fn changes(sql: &str) -> Vec<SchemaChange> {
        crate::migrations::sql::read(&SourceFile::new("m.sql", sql)).changes
    }

    fn names(sql: &str) -> Option<Vec<String>> {
        let mut names = BTreeSet::new();
        named_by(&changes(sql), &mut names).then(|| names.into_iter().collect())
    }

    #[test]
    fn a_files_changes_name_the_tables_they_touch_or_say_they_reach_further() {
        assert_eq!(
            names(
                "ALTER TABLE core.a ADD COLUMN x TEXT;\nALTER TABLE b RENAME TO c;\nCREATE TABLE ops.d (id INT) INHERITS (core.e);\nDROP TABLE IF EXISTS f;\nALTER TABLE core.g ALTER COLUMN y SET NOT NULL;\n"
            ),
            Some(
                ["a", "b", "c", "d", "e", "f", "g"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            names(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'h' AND column_name = 'z') THEN ALTER TABLE h ADD COLUMN z TEXT; END IF; END $$;\n"
            ),
            Some(vec!["h".to_string()])
        );
        for sql in [
            "CREATE TYPE core.s AS ENUM ('a');",
            "ALTER TYPE core.s ADD VALUE 'b';",
            "CREATE SCHEMA billing;",
            "DROP SCHEMA old CASCADE;",
            "CREATE DOMAIN core.email AS TEXT;",
        ] {
            assert_eq!(names(sql), None, "{sql}");
        }
    }

    fn file(key: u64, sql: &str) -> ReplayedFile {
        ReplayedFile::new(key, &changes(sql))
    }

    #[test]
    fn replays_from_one_state_differ_by_the_files_after_the_ones_they_share() {
        let shared = [
            file(1, "CREATE TYPE core.s AS ENUM ('a');"),
            file(2, "ALTER TABLE core.a ADD COLUMN x TEXT;"),
        ];
        let kept = [
            shared.to_vec(),
            vec![file(3, "ALTER TABLE core.b ADD COLUMN y TEXT;")],
        ]
        .concat();
        let now = [
            shared.to_vec(),
            vec![file(4, "ALTER TABLE core.c ADD COLUMN z TEXT;")],
        ]
        .concat();
        // The type change both replayed is not between them.
        assert_eq!(
            replayed_apart(&kept, &now),
            Some(["b", "c"].map(String::from).into())
        );
        // A table created after the shared files: an earlier statement may have looked for
        // it, so every file counts (and the type change reaches every table).
        let creating = [
            shared.to_vec(),
            vec![file(5, "CREATE TABLE core.d (id INT);")],
        ]
        .concat();
        assert_eq!(replayed_apart(&kept, &creating), None);
        let without_type = [file(2, "ALTER TABLE core.a ADD COLUMN x TEXT;")];
        let created = [file(6, "CREATE TABLE core.d (id INT);")];
        assert_eq!(
            replayed_apart(&without_type, &created),
            Some(["a", "d"].map(String::from).into())
        );
        assert_eq!(replayed_apart(&kept, &kept), Some(BTreeSet::new()));
    }

    /// The memo of `tables` with the findings `per_table`, kept beside the resolution of
    /// token 7 and the replay of token 9 (`None`: none to keep).
    fn memo_for(
        tables: &[ModelTable],
        sources: &[MigrationSource],
        per_table: &PerTable,
    ) -> Option<Memo> {
        let resolution = ResolutionBases {
            from: None,
            kept: Some(ResolutionBasis {
                token: 7,
                dirty_files: BTreeSet::new(),
                dirty_names: BTreeSet::new(),
            }),
            assembled: Vec::new(),
        };
        let replays = [ReplayBases {
            from: None,
            kept: Some(ReplayBasis {
                token: 9,
                files: Vec::new(),
            }),
        }];
        memo_to_keep(
            tables,
            sources,
            shape(sources),
            per_table,
            &resolution,
            &replays,
        )
    }

    #[test]
    fn a_memo_gives_the_tables_it_cannot_vouch_for_and_keeps_the_others_findings() {
        let mut tables = vec![
            model_table("core", "a", &[("id", "INTEGER")]),
            model_table("core", "b", &[("id", "INTEGER")]),
            model_table("core", "c", &[("id", "INTEGER")]),
        ];
        for (i, table) in tables.iter_mut().enumerate() {
            table.location = Location::new(format!("m{i}.py"), 1, 1);
            table.class_name = Some(format!("C{i}"));
        }
        tables[2] = crate::rules::test_support::with_column(tables[2].clone(), "id", |c| {
            c.set_foreign_keys(vec!["C0.id".to_string()]);
        });
        let (sources, tables) = context_for(&["CREATE TABLE core.a (id INT);"], tables);
        let finding = |table: &str| {
            crate::finding::Finding::new(
                crate::rule::Rule::TableWithoutMigration,
                Location::new("x.py", 1, 1),
                crate::finding::Target::table("core", table),
                "m",
                "h",
            )
        };
        let per_table: PerTable =
            vec![Vec::new(), vec![(0, finding("b"))], vec![(0, finding("c"))]];
        let memo = memo_for(&tables, &sources, &per_table).expect("a memo");
        // Kept as JSON, read back the same.
        let json = serde_json::to_string(&memo).expect("json");
        assert_eq!(serde_json::from_str::<Memo>(&json).ok(), Some(memo.clone()));
        let from = |token: u64, dirty: &[&str]| ResolutionBases {
            from: Some(ResolutionBasis {
                token,
                dirty_files: dirty.iter().map(|f| f.to_string()).collect(),
                dirty_names: BTreeSet::new(),
            }),
            kept: None,
            assembled: Vec::new(),
        };
        let replay = |token: u64, sql: &str| {
            vec![ReplayBases {
                from: Some(ReplayBasis {
                    token,
                    files: vec![file(1, sql)],
                }),
                kept: None,
            }]
        };
        let shape = shape(&sources);
        let scope_of = |resolution: &ResolutionBases, replays: &[ReplayBases]| {
            scope(&tables, &sources, shape, &memo, resolution, replays)
        };
        // Model file m1.py edited: its table; `c` names nothing of it.
        assert_eq!(
            scope_of(&from(7, &["m1.py"]), &replay(9, "")),
            Some(vec![1])
        );
        // Table `a` altered: `a`, and `c`, whose foreign key names `a`'s class.
        assert_eq!(
            scope_of(
                &from(7, &[]),
                &replay(9, "ALTER TABLE core.a ADD COLUMN x TEXT;")
            ),
            Some(vec![0, 2])
        );
        // Another kept resolution or replay, or a type change: every table.
        assert_eq!(scope_of(&from(8, &[]), &replay(9, "")), None);
        assert_eq!(scope_of(&from(7, &[]), &replay(10, "")), None);
        assert_eq!(
            scope_of(
                &from(7, &[]),
                &replay(9, "CREATE TYPE core.s AS ENUM ('a');")
            ),
            None
        );
        // A project with more findings than a memo keeps keeps none.
        let many: PerTable = vec![
            Vec::new(),
            vec![(0, finding("b")); MEMO_FINDINGS],
            vec![(0, finding("c"))],
        ];
        assert!(memo_for(&tables, &sources, &many).is_none());
        // Checked again for `b` (no finding now); `c` keeps the memo's.
        let merged = merge(&tables, &[1], vec![Vec::new(); 3], &memo);
        assert_eq!(
            merged,
            vec![Vec::new(), Vec::new(), vec![(0, finding("c"))]]
        );
    }
}
