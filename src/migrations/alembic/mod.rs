//! Alembic revision files → [`Revision`]s with their schema change events, in graph order.
//!
//! An Alembic revision is a Python file under a `versions/` folder that assigns `revision` at
//! module level. This module reads that header (`revision`, `down_revision`, `depends_on`,
//! `branch_labels`), reads the `upgrade()` function into [`SchemaChange`](super::SchemaChange)
//! events ([`ops`], which asks the constant-Python evaluator `eval` what names and expressions
//! stand for, and the shared [`crate::sqlalchemy::column`] reader what a `sa.Column(…)` says),
//! and orders a set of revisions by their parent links ([`order()`]).
//!
//! It never runs Python and never imports the project: everything comes from the syntax tree
//! [`crate::pyast`] builds, so a revision that computes its operations (a loop over a list of
//! table names, a helper imported from elsewhere) is read as far as the text allows, and what
//! cannot be read becomes a [`ReadWarning`] only when it changes a named table. `downgrade()` is
//! never read. SQL passed to `op.execute` goes through [`super::sql::read_fragment`], so the
//! two readers agree on what a statement means.
//!
//! Like every migration reader, this one leaves unqualified names unqualified: which schema
//! `op.add_column("customers", …)` means is decided when the events are replayed.

mod env;
mod eval;
mod ops;
mod order;
#[cfg(test)]
mod tests;

pub use env::env_default_schema;
pub use order::{heads, histories, order};

/// The name a reader gives a table written as a model class attribute
/// (`op.create_table(SqlRun.__tablename__, …)`): this prefix and the class name. Such names
/// are replaced by the model's table with [`resolve_model_tables`] once the models are read;
/// the control character keeps them from ever matching a real table.
pub const MODEL_TABLE_PREFIX: &str = "\u{1}model-class:";

/// What Alembic itself creates before the first revision runs: its version table
/// `alembic_version (version_num VARCHAR(32) PRIMARY KEY)` in the default schema. A project
/// that maps it (ZenML does, to read the current revision) must get no finding for it. The
/// location is the first revision's first line.
pub fn version_table(first_revision: &str) -> SchemaChange {
    let location = crate::source::Location::new(first_revision, 1, 1);
    SchemaChange::CreateTable {
        table: super::QualifiedName::new(None, "alembic_version"),
        if_not_exists: true,
        columns: vec![super::ColumnDef {
            name: "version_num".to_string(),
            ty: crate::postgres_type::SqlType::from_sql_name("varchar", vec![32], false),
            nullable: false,
            default: None,
            primary_key: true,
            references: None,
            location: location.clone(),
        }],
        primary_key: Vec::new(),
        copies_from: Vec::new(),
        likes: Vec::new(),
        location,
    }
}

/// Whether a revision names a table by a model class attribute (see [`MODEL_TABLE_PREFIX`]):
/// it cannot replay before the models are resolved ([`resolve_model_tables`]).
pub fn names_model_class(revision: &Revision) -> bool {
    revision.names_class
}

/// Whether some change of `events` names a table by a model class attribute.
fn names_class_in(events: &MigrationEvents) -> bool {
    let mut found = false;
    for mut change in events.changes.iter().cloned() {
        change.for_each_table_mut(&mut |name| {
            found |= name.name.starts_with(MODEL_TABLE_PREFIX);
        });
    }
    found
}

/// Replaces the table names written as model class attributes (see [`MODEL_TABLE_PREFIX`])
/// with the table `table_of(class)` names; the model's schema applies where the revision
/// names none. Returns the classes that could not be resolved.
pub fn resolve_model_tables(
    revision: &mut Revision,
    table_of: &dyn Fn(&str) -> Option<super::QualifiedName>,
) -> Vec<String> {
    let mut unresolved = Vec::new();
    // Told by its flag: the events of a revision that names no class are left encoded.
    if !revision.names_class {
        return unresolved;
    }
    let Some(events) = revision.events.get_mut() else {
        return unresolved;
    };
    for change in &mut events.changes {
        change.for_each_table_mut(&mut |name| {
            let Some(class) = name.name.strip_prefix(MODEL_TABLE_PREFIX) else {
                return;
            };
            match table_of(class) {
                Some(table) => {
                    if name.schema.is_none() {
                        name.schema = table.schema;
                    }
                    name.name = table.name;
                }
                None => {
                    if !unresolved.iter().any(|c| c == class) {
                        unresolved.push(class.to_string());
                    }
                }
            }
        });
    }
    revision.names_class = names_class_in(events);
    unresolved
}

use serde::Serialize;

use super::{MigrationEvents, ReadWarning, SchemaChange};
use crate::lazy::Lazy;
use crate::pyast::{self, Expr, Stmt};
use crate::source::SourceFile;

/// One Alembic revision file.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Revision {
    pub path: String,
    /// The revision id (`revision = "1a2b3c4d5e6f"`).
    pub revision: String,
    /// Empty for a root; two or more for a merge revision.
    pub down_revisions: Vec<String>,
    /// Revision ids (or branch labels, or unique id prefixes) this revision also needs.
    pub depends_on: Vec<String>,
    pub branch_labels: Vec<String>,
    /// Where `down_revision` is assigned, for findings about the graph.
    pub down_revision_at: Option<crate::source::Location>,
    /// The `Create Date:` of the docstring Alembic writes, as written.
    pub create_date: Option<String>,
    /// What `upgrade()` does: kept encoded in the parse pack until it is read ([`Revision::
    /// events`]). A change check that goes on from a kept replay replays only the revisions
    /// after it, and decodes only theirs.
    pub events: Lazy<MigrationEvents>,
    /// The events hold reader warnings: told without decoding them.
    pub warned: bool,
    /// Some event names a table by a model class attribute ([`names_model_class`]): told
    /// without decoding the events.
    pub names_class: bool,
}

impl Revision {
    /// What `upgrade()` does (nothing, for events a damaged cache file would not decode).
    pub fn events(&self) -> &MigrationEvents {
        static EMPTY: std::sync::LazyLock<MigrationEvents> =
            std::sync::LazyLock::new(MigrationEvents::default);
        self.events.get().unwrap_or(&EMPTY)
    }
}

/// Revisions → Alembic sources: the connected components of their graph (linked by
/// `down_revision` and `depends_on` ids), found wherever the files live — a plugin's own chain
/// with its own base is a source of its own. Revisions in the same folder belong to one source
/// even when their links are broken: one `env.py` runs them. Chains kept side by side in
/// sibling folders (one per database dialect, repeating revision ids) stay apart. Each source is
/// named by the common folder of its files without a last `versions` segment (`migrations`
/// for `migrations/versions/*.py`, `""` at the root); the result is sorted by name.
pub fn components(revisions: Vec<Revision>) -> Vec<(String, Vec<Revision>)> {
    let n = revisions.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let union = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (find(parent, a), find(parent, b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    };
    let mut by_id: foldhash::HashMap<&str, Vec<usize>> = foldhash::HashMap::default();
    let mut by_folder: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
    for (i, revision) in revisions.iter().enumerate() {
        by_id.entry(revision.revision.as_str()).or_default().push(i);
        let folder = revision.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        match by_folder.get(folder) {
            Some(&j) => union(&mut parent, i, j),
            None => {
                by_folder.insert(folder, i);
            }
        }
    }
    // A parent id that several files define (a revision copied into another environment)
    // links to the copy in the same folder when there is one.
    let folder_of = |i: usize| revisions[i].path.rsplit_once('/').map_or("", |(d, _)| d);
    for (i, revision) in revisions.iter().enumerate() {
        for id in revision.down_revisions.iter().chain(&revision.depends_on) {
            let Some(candidates) = by_id.get(id.as_str()) else {
                continue;
            };
            let near = |j: usize| folder_of(j) == folder_of(i);
            let any_near = candidates.iter().any(|&j| near(j));
            for &j in candidates {
                if !any_near || near(j) {
                    union(&mut parent, i, j);
                }
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
    // One component (nearly always): the revisions as they came, not moved one by one into a
    // list grown step by step.
    if roots.iter().all(|&root| root == 0) {
        return if revisions.is_empty() {
            Vec::new()
        } else {
            vec![(source_name(&revisions), revisions)]
        };
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<Revision>> =
        std::collections::BTreeMap::new();
    for (revision, root) in revisions.into_iter().zip(roots) {
        groups.entry(root).or_default().push(revision);
    }
    let mut named: Vec<(String, Vec<Revision>)> = groups
        .into_values()
        .map(|group| (source_name(&group), group))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

/// The common folder of the revisions' files, without a last `versions` segment.
fn source_name(revisions: &[Revision]) -> String {
    fn folder(path: &str) -> &str {
        path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
    fn segments(folder: &str) -> impl Iterator<Item = &str> {
        folder.split('/').filter(|s| !s.is_empty())
    }
    // Borrowed segments, each folder compared once: a source's revisions mostly share one
    // folder (each revision's segments were five strings of their own, 2,000 revisions a run).
    let mut common: Option<Vec<&str>> = None;
    let mut last_folder = None;
    for revision in revisions {
        let this = folder(&revision.path);
        if last_folder == Some(this) {
            continue;
        }
        last_folder = Some(this);
        common = Some(match common {
            None => segments(this).collect(),
            Some(mut prefix) => {
                let same = prefix
                    .iter()
                    .zip(segments(this))
                    .take_while(|(a, b)| **a == *b)
                    .count();
                prefix.truncate(same);
                prefix
            }
        });
    }
    let mut common = common.unwrap_or_default();
    if common.last().is_some_and(|s| *s == "versions") {
        common.pop();
    }
    common.join("/")
}

/// Whether a path (with `/` separators) can hold an Alembic revision: a `.py` file under a
/// folder named `versions`, at any depth, other than `__init__.py`.
pub fn is_revision_path(path: &str) -> bool {
    let mut segments: Vec<&str> = path.split(['/', '\\']).collect();
    let Some(name) = segments.pop() else {
        return false;
    };
    name.ends_with(".py") && name != "__init__.py" && segments.contains(&"versions")
}

/// Whether a Python file's bytes may hold a revision found outside a `versions/` folder: it
/// mentions `down_revision` and defines `upgrade`. A cheap test before parsing; see
/// [`read_revision_anywhere`].
pub fn may_be_revision(bytes: &[u8]) -> bool {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    has(b"down_revision") && has(b"def upgrade")
}

/// Reads one revision file. `None` when the file does not assign `revision` at module level
/// (`revision = "abc"`, `revision: str = "abc"`): it is then not a revision. A file with
/// syntax errors is read as far as tree-sitter can recover, with a warning.
pub fn read_revision(file: &SourceFile) -> Option<Revision> {
    read(
        file,
        &pyast::parse(file),
        &crate::pyeval::ModuleIndex::default(),
        false,
    )
}

/// [`read_revision`] (or, with `anywhere`, [`read_revision_anywhere`]), with the project's
/// other modules (`from app.migrations.utils import add_timestamps`, an imported column type):
/// see [`crate::pyeval::modules`].
pub fn read_revision_in(
    file: &SourceFile,
    modules: &crate::pyeval::ModuleIndex<'_>,
    anywhere: bool,
) -> Option<Revision> {
    read(file, &pyast::parse(file), modules, anywhere)
}

/// [`read_revision_in`] with the file's syntax tree already parsed (kept from the first
/// reading, [`read_revision_alone`]): the tree depends on the bytes alone.
pub fn read_parsed_revision_in(
    file: &SourceFile,
    module: &pyast::PyModule,
    modules: &crate::pyeval::ModuleIndex<'_>,
    anywhere: bool,
) -> Option<Revision> {
    read(file, module, modules, anywhere)
}

/// Reads a file found by content anywhere in the repository (a plugin's migration chain, a
/// Flask-Migrate folder): a revision only when it assigns both `revision` and
/// `down_revision` at module level and defines `upgrade` — a model file or a script that
/// happens to have a `revision` variable is not one.
pub fn read_revision_anywhere(file: &SourceFile) -> Option<Revision> {
    read(
        file,
        &pyast::parse(file),
        &crate::pyeval::ModuleIndex::default(),
        true,
    )
}

/// [`read_revision`] (or, with `anywhere`, [`read_revision_anywhere`]) without the project's
/// other modules, and what the file imports: a caller that has the project reads the revision
/// again with [`read_revision_in`] when it imports a module of the project. This first reading
/// depends on the file's bytes alone, so it can be kept by blob id; the second cannot. The
/// syntax tree comes along, for a caller that keeps it for the second reading.
pub fn read_revision_alone(
    file: &SourceFile,
    anywhere: bool,
) -> Option<(Revision, crate::pyeval::ModuleSummary, pyast::PyModule)> {
    let module = pyast::parse(file);
    let revision = read(
        file,
        &module,
        &crate::pyeval::ModuleIndex::default(),
        anywhere,
    )?;
    let summary = crate::pyeval::ModuleSummary::new(&file.path, &module);
    Some((revision, summary, module))
}

/// Whether a revision's imports (its summary's [`crate::pyeval::modules::imports_of`]) may reach
/// the project's own modules: one outside the libraries of
/// [`crate::pyeval::modules::LIBRARY_PACKAGES`] (SQLAlchemy, Alembic, `typing` …). Only such a
/// revision keeps its syntax tree for a second reading; a guess that decides what is kept,
/// never what is read.
pub fn may_import_project(imports: &[(String, bool)]) -> bool {
    use crate::pyeval::modules::LIBRARY_PACKAGES;
    imports.iter().any(|(target, rooted)| {
        *rooted || !LIBRARY_PACKAGES.contains(&target.split('.').next().unwrap_or_default())
    })
}

fn read(
    file: &SourceFile,
    module: &pyast::PyModule,
    modules: &crate::pyeval::ModuleIndex<'_>,
    strict: bool,
) -> Option<Revision> {
    let header = Header::read(&module.body);
    if strict
        && (header.down_revision.is_none()
            || !module
                .body
                .iter()
                .any(|s| matches!(s, Stmt::Function(f) if f.name == "upgrade")))
    {
        return None;
    }
    let revision = header.revision?.as_str()?.trim().to_string();
    if revision.is_empty() {
        return None;
    }
    let mut events = ops::read_upgrade(file, module, modules);
    if let Some(at) = &module.too_deep {
        events.warnings.insert(
            0,
            ReadWarning {
                message: pyast::too_deep_message(),
                location: at.clone(),
            },
        );
    }
    if let Some(error) = &module.syntax_error {
        events.warnings.insert(
            0,
            ReadWarning {
                message: format!(
                    "{}; this revision was read only as far as the parser could recover",
                    error.describe()
                ),
                location: error.location.clone(),
            },
        );
    }
    Some(Revision {
        path: file.path.clone(),
        revision,
        down_revisions: ids(header.down_revision),
        depends_on: ids(header.depends_on),
        branch_labels: ids(header.branch_labels),
        down_revision_at: header.down_revision_at,
        create_date: create_date(&file.text),
        warned: !events.warnings.is_empty(),
        names_class: names_class_in(&events),
        events: Lazy::new(events),
    })
}

/// The module-level assignments Alembic reads from a revision file (the last one wins, as in
/// Python).
#[derive(Default)]
struct Header<'a> {
    revision: Option<&'a Expr>,
    down_revision: Option<&'a Expr>,
    down_revision_at: Option<crate::source::Location>,
    depends_on: Option<&'a Expr>,
    branch_labels: Option<&'a Expr>,
}

impl<'a> Header<'a> {
    fn read(body: &'a [Stmt]) -> Self {
        let mut header = Header::default();
        for stmt in body {
            let Stmt::Assign {
                targets,
                value: Some(value),
                location,
                ..
            } = stmt
            else {
                continue;
            };
            if targets.iter().any(|t| t.as_name() == Some("down_revision")) {
                header.down_revision_at = Some(location.clone());
            }
            for target in targets {
                let slot = match target.as_name() {
                    Some("revision") => &mut header.revision,
                    Some("down_revision") => &mut header.down_revision,
                    Some("depends_on") => &mut header.depends_on,
                    Some("branch_labels") => &mut header.branch_labels,
                    _ => continue,
                };
                *slot = Some(value);
            }
        }
        header
    }
}

/// The `Create Date: 2024-01-01 12:00:00.123456` line of the docstring Alembic's template
/// writes, if the file has one.
fn create_date(text: &str) -> Option<String> {
    text.split(['\n', '\r'])
        .take(40)
        .find_map(|line| line.trim().strip_prefix("Create Date:"))
        .map(|date| date.trim().to_string())
        .filter(|date| !date.is_empty())
}

/// `None` → no ids; `"a"` → one; `("a", "b")` / `["a", "b"]` → several. Anything else (a
/// variable, a call) → none: there is nothing static to read.
fn ids(expr: Option<&Expr>) -> Vec<String> {
    let one = |e: &Expr| {
        e.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match expr {
        Some(Expr::List(items)) => items.iter().filter_map(one).collect(),
        Some(other) => one(other).into_iter().collect(),
        None => Vec::new(),
    }
}
