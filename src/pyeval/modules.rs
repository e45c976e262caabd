//! The modules of a project as the evaluator sees them: one [`ModuleSummary`] per Python file
//! and a [`ModuleIndex`] that finds a module by its dotted name, the way an import would.
//!
//! A summary is what another file can import and the evaluator can use, and nothing else:
//! the imports (relative ones made absolute), the module-level names bound to an expression
//! (constants, type aliases, `Table(…)` objects), module-level functions of bounded size and
//! module-level classes. It is plain data built from one file's [`PyModule`], so it can be
//! cached by blob id like a model file's extraction. Nothing here runs or imports anything.
//!
//! Where a name is found: a module-level binding of the importing file, else its imports,
//! else its star imports. An absolute import (`from app.db.types import UtcDateTime`) is
//! looked up under each folder above the importing file, up to the repository root, then under
//! the configured `python_roots`, then as a module path that only one module of the project
//! ends with (a package installed from `src/`). A module the project does not contain is a
//! library: [`Found::Library`].

use crate::lazy::Lazy;
use crate::pyast::{ClassDef, Expr, FunctionDef, Import, PyModule, Stmt};
use crate::source::Location;
use std::borrow::Cow;

/// Statements (counted through nested blocks) a function may have to be kept in a summary:
/// longer functions are not the pure helpers the evaluator can follow.
const MAX_FUNCTION_STATEMENTS: usize = 200;

/// A name an import binds in a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportBinding {
    /// The name bound in this file (`sa` for `import sqlalchemy as sa`).
    pub local: String,
    /// The full dotted target: `sqlalchemy` for `import sqlalchemy as sa`,
    /// `app.db.base.Base` for `from app.db.base import Base`. For `import a.b` (no alias) the
    /// local is `a` and the target `a`.
    pub target: String,
    /// The import was relative (`from ..base import Base`) and `target` is now dotted from the
    /// repository root (`apps.backend.src.db.base.Base`); otherwise it is as written and is
    /// looked up under the import roots.
    pub rooted: bool,
}

/// `from m import *`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StarImport {
    pub module: String,
    pub rooted: bool,
}

/// What a module-level name is bound to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Def {
    /// `NAME = value` (the last binding wins, as in Python), and where.
    Value(Expr, Location),
    /// Functions and classes are kept encoded in the parse pack and the module summaries file
    /// until the evaluator asks for one (see [`Lazy`]).
    Function(Lazy<FunctionDef>),
    Class(Lazy<ClassDef>),
    Import(ImportBinding),
}

/// What one Python file offers to the files that import it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ModuleSummary {
    /// Repository-relative path, `/`-separated.
    pub path: String,
    /// Module-level names in the order they are bound (also inside module-level `if`/`try`
    /// blocks); a name may appear more than once and the last one wins.
    pub names: Vec<(String, Def)>,
    pub star_imports: Vec<StarImport>,
}

impl ModuleSummary {
    /// The summary of a parsed file at `path`.
    pub fn new(path: &str, module: &PyModule) -> ModuleSummary {
        ModuleSummary::of_statements(path, module.body.iter().map(Cow::Borrowed))
    }

    /// [`ModuleSummary::new`], taking the module's functions and classes rather than copying
    /// them (a model file's classes are most of its syntax).
    pub fn from_module(path: &str, module: PyModule) -> ModuleSummary {
        ModuleSummary::of_statements(path, module.body.into_iter().map(Cow::Owned))
    }

    /// The summary of a module of these top-level statements.
    fn of_statements<'m>(path: &str, body: impl Iterator<Item = Cow<'m, Stmt>>) -> ModuleSummary {
        let mut summary = ModuleSummary {
            path: path.to_string(),
            ..ModuleSummary::default()
        };
        summary.read(body, &package_of(path));
        summary
    }

    fn read<'m>(&mut self, body: impl Iterator<Item = Cow<'m, Stmt>>, package: &[String]) {
        for stmt in body {
            match stmt {
                Cow::Borrowed(Stmt::Block { body, .. }) => {
                    self.read(body.iter().map(Cow::Borrowed), package);
                }
                Cow::Owned(Stmt::Block { body, .. }) => {
                    self.read(body.into_iter().map(Cow::Owned), package);
                }
                stmt => self.read_one(stmt, package),
            }
        }
    }

    /// One statement that is not a block.
    fn read_one(&mut self, stmt: Cow<'_, Stmt>, package: &[String]) {
        match stmt.as_ref() {
            Stmt::Import(import) => {
                let (bindings, star) = import_bindings(import, package);
                self.star_imports.extend(star);
                for binding in bindings {
                    self.names
                        .push((binding.local.clone(), Def::Import(binding)));
                }
            }
            Stmt::Assign {
                targets,
                value: Some(value),
                location,
                ..
            } => {
                for target in targets {
                    if let Some(name) = target.as_name().filter(|n| !n.contains('.')) {
                        self.names.push((
                            name.to_string(),
                            Def::Value(value.clone(), location.clone()),
                        ));
                    }
                }
            }
            Stmt::Function(function)
                if statement_count(&function.body) <= MAX_FUNCTION_STATEMENTS =>
            {
                let name = function.name.clone();
                if let Stmt::Function(function) = stmt.into_owned() {
                    self.names.push((name, Def::Function(Lazy::new(function))));
                }
            }
            Stmt::Class(class) => {
                let name = class.name.clone();
                if let Stmt::Class(class) = stmt.into_owned() {
                    self.names.push((name, Def::Class(Lazy::new(class))));
                }
            }
            _ => {}
        }
    }

    /// What `name` is bound to at module level (the last binding).
    pub fn get(&self, name: &str) -> Option<&Def> {
        self.names
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, def)| def)
    }

    /// The dotted module name of this file (`a/b/c.py` → `a.b.c`).
    pub fn module_name(&self) -> Option<String> {
        module_of_path(&self.path)
    }
}

/// The summary of a Python file's bytes (`None` when they are not UTF-8: such a file defines
/// nothing the evaluator could use).
pub fn summarize_source(path: &str, bytes: &[u8]) -> Option<ModuleSummary> {
    let text = std::str::from_utf8(bytes).ok()?;
    let file = crate::source::SourceFile::new(path, text);
    Some(ModuleSummary::new(path, &crate::pyast::parse(&file)))
}

/// Statements in a body, nested blocks and functions included.
fn statement_count(body: &[Stmt]) -> usize {
    body.iter()
        .map(|stmt| match stmt {
            Stmt::Block { body, .. } => 1 + statement_count(body),
            Stmt::Function(f) => 1 + statement_count(&f.body),
            Stmt::Class(c) => 1 + statement_count(&c.body),
            _ => 1,
        })
        .sum()
}

/// The dotted package a file belongs to: `a/b/c.py` → `a.b`, `a/b/__init__.py` → `a.b`.
pub fn package_of(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .map(str::to_string)
        .collect();
    parts.pop();
    parts
}

/// The dotted module of a repository-relative path: `a/b/c.py` → `a.b.c`,
/// `a/b/__init__.py` → `a.b`. `None` for a path that is not a Python module name.
pub fn module_of_path(path: &str) -> Option<String> {
    module_segments(path).map(|segments| segments.join("."))
}

/// The names one import statement binds in a file of `package`, and its star import.
pub fn import_bindings(
    import: &Import,
    package: &[String],
) -> (Vec<ImportBinding>, Option<StarImport>) {
    let Some(from) = &import.from else {
        let bindings = import
            .names
            .iter()
            .map(|(name, alias)| match alias {
                Some(alias) => ImportBinding {
                    local: alias.clone(),
                    target: name.clone(),
                    rooted: false,
                },
                None => {
                    let first = name.split('.').next().unwrap_or(name);
                    ImportBinding {
                        local: first.to_string(),
                        target: first.to_string(),
                        rooted: false,
                    }
                }
            })
            .collect();
        return (bindings, None);
    };
    let (module, rooted) = absolute_module(from, package);
    if import.star {
        return (Vec::new(), Some(StarImport { module, rooted }));
    }
    let bindings = import
        .names
        .iter()
        .map(|(name, alias)| ImportBinding {
            local: alias.clone().unwrap_or_else(|| name.clone()),
            target: if module.is_empty() {
                name.clone()
            } else {
                format!("{module}.{name}")
            },
            rooted,
        })
        .collect();
    (bindings, None)
}

/// `..base` in package `a.b.c` → (`a.b.base`, rooted). Too many dots: as written, not rooted.
fn absolute_module(from: &str, package: &[String]) -> (String, bool) {
    let dots = from.chars().take_while(|c| *c == '.').count();
    if dots == 0 {
        return (from.to_string(), false);
    }
    let rest = &from[dots..];
    let up = dots - 1;
    if up > package.len() {
        return (rest.to_string(), false);
    }
    let mut parts: Vec<&str> = package[..package.len() - up]
        .iter()
        .map(String::as_str)
        .collect();
    if !rest.is_empty() {
        parts.push(rest);
    }
    (parts.join("."), true)
}

/// The dotted import roots of a file: each folder above it, nearest first (`""` is the
/// repository root), then the configured roots.
pub fn import_roots(path: &str, python_roots: &[String]) -> Vec<String> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut roots: Vec<String> = (0..parts.len())
        .rev()
        .map(|end| parts[..end].join("."))
        .collect();
    roots.extend(python_roots.iter().map(|r| dotted_root(r)));
    roots
}

/// A repository-relative folder as a dotted prefix (`apps/backend/src` → `apps.backend.src`).
pub fn dotted_root(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join(".")
}

/// `root.name`, or `name` for the repository root.
pub fn join_dotted(root: &str, name: &str) -> String {
    if root.is_empty() {
        name.to_string()
    } else {
        format!("{root}.{name}")
    }
}

/// [`join_dotted`] into a buffer reused across lookups.
fn join_dotted_into<'b>(buffer: &'b mut String, root: &str, name: &str) -> &'b str {
    buffer.clear();
    if !root.is_empty() {
        buffer.push_str(root);
        buffer.push('.');
    }
    buffer.push_str(name);
    buffer
}

/// What a dotted name reached through an import is.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<'a> {
    /// A module of the project, and the attribute path left after it (empty: the module).
    Module(&'a ModuleSummary, String),
    /// A name the project does not contain, fully qualified (`sqlalchemy.String`).
    Library(String),
}

thread_local! {
    /// The modules this thread's [`ModuleIndex`] lookups found, while [`recording_reads`]
    /// runs: by the address of their summary.
    static READS: std::cell::RefCell<Option<Vec<usize>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` and returns, with its result, the address of every module summary that
/// [`ModuleIndex::module`] and [`ModuleIndex::find`] found on this thread meanwhile: what an
/// evaluation could read besides the module it started in. (A kept model resolution notes
/// which files its evaluations read; `f` must not hand work to other threads.)
pub fn recording_reads<T>(f: impl FnOnce() -> T) -> (T, Vec<usize>) {
    struct Reset(Option<Vec<usize>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            READS.with_borrow_mut(|reads| *reads = previous);
        }
    }
    let reset = Reset(READS.with_borrow_mut(|reads| reads.replace(Vec::new())));
    let out = f();
    let reads = READS
        .with_borrow_mut(|reads| reads.take())
        .unwrap_or_default();
    drop(reset);
    (out, reads)
}

/// Notes a module found, when [`recording_reads`] runs.
fn noted(summary: &ModuleSummary) -> &ModuleSummary {
    note(summary as *const ModuleSummary as usize);
    summary
}

/// Notes a lookup that found no module (the address 0): its answer depends on which modules
/// the project has.
fn noted_missing() {
    note(0);
}

fn note(address: usize) {
    READS.with_borrow_mut(|reads| {
        if let Some(reads) = reads {
            reads.push(address);
        }
    });
}

/// Every module of a project, by dotted name.
#[derive(Debug, Clone, Default)]
pub struct ModuleIndex<'a> {
    modules: foldhash::HashMap<String, &'a ModuleSummary>,
    /// Every module, for the guess at the one that ends with a dotted name.
    suffixes: BySuffix<&'a ModuleSummary>,
    python_roots: Vec<String>,
    /// The most segments any module name has: no longer prefix of a dotted name can be a
    /// module, so lookups never join one (an 8,000-segment `from a.a.a… import X` would make
    /// every lookup quadratic; issue 11).
    max_segments: usize,
}

impl<'a> ModuleIndex<'a> {
    /// An index of `modules` (a `.py` file wins over a `.pyi` stub of the same name).
    pub fn new(
        modules: impl IntoIterator<Item = &'a ModuleSummary>,
        python_roots: &[String],
    ) -> Self {
        let mut index = ModuleIndex {
            python_roots: python_roots.to_vec(),
            ..ModuleIndex::default()
        };
        let mut stubs = Vec::new();
        for summary in modules {
            if summary.path.ends_with(".pyi") {
                stubs.push(summary);
            } else {
                index.add(summary);
            }
        }
        for stub in stubs {
            if stub
                .module_name()
                .is_some_and(|m| !index.modules.contains_key(&m))
            {
                index.add(stub);
            }
        }
        index
    }

    fn add(&mut self, summary: &'a ModuleSummary) {
        let Some(module) = summary.module_name() else {
            return;
        };
        self.max_segments = self.max_segments.max(module.split('.').count());
        self.suffixes.add(&module, summary);
        self.modules.entry(module).or_insert(summary);
    }

    /// The module `dotted` as `importer` imports it (`rooted`: already absolute from the
    /// repository root).
    pub fn module(&self, importer: &str, dotted: &str, rooted: bool) -> Option<&'a ModuleSummary> {
        let found = if rooted {
            self.modules.get(dotted).copied()
        } else {
            self.module_under(&import_roots(importer, &self.python_roots), dotted)
        };
        if found.is_none() {
            noted_missing();
        }
        found.map(noted)
    }

    /// The module `dotted` as a file under `roots` (its [`import_roots`]) imports it, not rooted.
    fn module_under(&self, roots: &[String], dotted: &str) -> Option<&'a ModuleSummary> {
        let mut name = String::new();
        for root in roots {
            if !root_allowed(root, dotted, &self.python_roots) {
                continue;
            }
            if let Some(m) = self.modules.get(join_dotted_into(&mut name, root, dotted)) {
                return Some(m);
            }
        }
        if !suffix_guess_allowed(dotted) {
            return None;
        }
        self.suffixes.only(dotted).copied()
    }

    /// A full dotted name imported by `importer` (`app.db.types.UtcDateTime`): the longest
    /// prefix that is a module of the project and the rest, else a library name.
    pub fn find(&self, importer: &str, full: &str, rooted: bool) -> Found<'a> {
        let segments: Vec<&str> = full.split('.').collect();
        // The importer's roots once, not once per prefix.
        let roots = if rooted {
            Vec::new()
        } else {
            import_roots(importer, &self.python_roots)
        };
        for k in (1..=segments.len().min(self.max_segments)).rev() {
            let dotted = segments[..k].join(".");
            let module = if rooted {
                self.modules.get(&dotted).copied()
            } else {
                self.module_under(&roots, &dotted)
            };
            if let Some(module) = module {
                return Found::Module(noted(module), segments[k..].join("."));
            }
        }
        noted_missing();
        Found::Library(full.to_string())
    }

    /// Whether the index holds no module.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }
}

/// Packages that are libraries, never the project's own modules: an import of one is never
/// guessed to mean a project module that merely ends with its name (Langflow's
/// `langflow/alembic/` package is not the `alembic` of `from alembic import op`).
pub const LIBRARY_PACKAGES: &[&str] = &[
    "sqlalchemy",
    "sqlmodel",
    "flask_sqlalchemy",
    "flask",
    "enum",
    "typing",
    "typing_extensions",
    "pydantic",
    "datetime",
    "uuid",
    "decimal",
    "dataclasses",
    "abc",
    "collections",
    "builtins",
    "sqlalchemy_utils",
    "geoalchemy2",
    "alembic",
    "fastapi_users_db_sqlalchemy",
];

/// Whether `dotted` may be guessed to be the one project module ending with it.
fn suffix_guess_allowed(dotted: &str) -> bool {
    let first = dotted.split('.').next().unwrap_or(dotted);
    !LIBRARY_PACKAGES.contains(&first)
}

/// Whether `dotted` may be looked up under `root`, a folder above the importer: a library's
/// name only at the repository root or a configured root (where a project that vendors it
/// would put it), never in a package that happens to be called the same.
fn root_allowed(root: &str, dotted: &str, python_roots: &[String]) -> bool {
    suffix_guess_allowed(dotted)
        || root.is_empty()
        || python_roots.iter().any(|r| dotted_root(r) == root)
}

/// A project's modules by the last segment of their dotted name, for the guess at the one
/// module a dotted name ends with (`from models import Base` finding `app/db/models.py`). Each
/// dotted suffix of each module was a key of its own before: a joined string and a list per
/// suffix, ~14 allocations for every module on every check. A lookup now checks the few
/// modules with the same last segment.
#[derive(Debug, Clone)]
pub(crate) struct BySuffix<T> {
    by_last: foldhash::HashMap<String, Vec<(String, T)>>,
}

impl<T> Default for BySuffix<T> {
    fn default() -> Self {
        BySuffix {
            by_last: foldhash::HashMap::default(),
        }
    }
}

impl<T> BySuffix<T> {
    pub(crate) fn add(&mut self, module: &str, value: T) {
        let last = module.rsplit('.').next().unwrap_or(module);
        match self.by_last.get_mut(last) {
            Some(modules) => modules.push((module.to_string(), value)),
            None => {
                self.by_last
                    .insert(last.to_string(), vec![(module.to_string(), value)]);
            }
        }
    }

    /// The value of the one module named `dotted` or ending with `.dotted`; `None` when no
    /// module or several do.
    pub(crate) fn only(&self, dotted: &str) -> Option<&T> {
        let last = dotted.rsplit('.').next().unwrap_or(dotted);
        let mut found = self
            .by_last
            .get(last)?
            .iter()
            .filter(|(module, _)| ends_with_segments(module, dotted));
        let (_, first) = found.next()?;
        found.next().is_none().then_some(first)
    }
}

/// Whether the dotted name `module` is `dotted` or ends with `.dotted` (whole segments).
fn ends_with_segments(module: &str, dotted: &str) -> bool {
    match module.strip_suffix(dotted) {
        Some("") => true,
        Some(head) => head.ends_with('.'),
        None => false,
    }
}

/// The modules of a snapshot by dotted name, before any is read: where an import leads.
///
/// Each module file is kept by the last segment of its dotted name, borrowing the snapshot's
/// paths; a name is compared with a file's segment by segment. Built on every check for every
/// Python file of the snapshot: as maps of joined names and copied paths it was ~6 allocations
/// a file (2,000 Alembic revisions, 5,000 model files).
#[derive(Debug, Clone, Default)]
pub struct ModulePaths<'p> {
    /// The module files, in the order added.
    files: Vec<&'p str>,
    /// Their positions in `files` by the last segment of their dotted name, in the order
    /// added: the first file of a name is that module's.
    by_last: foldhash::HashMap<&'p str, smallvec::SmallVec<[u32; 2]>>,
    python_roots: Vec<String>,
    /// As [`ModuleIndex`]'s: the most segments any module name has.
    max_segments: usize,
}

/// The segments of `path`'s dotted module name, borrowed from it ([`module_of_path`] joins them).
fn module_segments(path: &str) -> Option<smallvec::SmallVec<[&str; 12]>> {
    let stem = path
        .strip_suffix(".py")
        .or_else(|| path.strip_suffix(".pyi"))?;
    let mut parts: smallvec::SmallVec<[&str; 12]> = stem
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.last() == Some(&"__init__") {
        parts.pop();
    }
    if parts.is_empty() {
        return None;
    }
    // A folder with a dot in its name gives two segments of the joined name.
    if parts.iter().any(|p| p.contains('.')) {
        parts = parts.iter().flat_map(|p| p.split('.')).collect();
    }
    Some(parts)
}

impl<'p> ModulePaths<'p> {
    /// The `.py` (and `.pyi`, when no `.py` has the same name) files among `paths`.
    pub fn new(paths: impl IntoIterator<Item = &'p str>, python_roots: &[String]) -> Self {
        let paths = paths.into_iter();
        let mut index = ModulePaths {
            files: Vec::with_capacity(paths.size_hint().0),
            by_last: foldhash::HashMap::with_capacity_and_hasher(
                paths.size_hint().0,
                Default::default(),
            ),
            python_roots: python_roots.to_vec(),
            max_segments: 0,
        };
        let mut stubs = Vec::new();
        for path in paths {
            if path.ends_with(".pyi") {
                stubs.push(path);
            } else if path.ends_with(".py") {
                index.add(path);
            }
        }
        for stub in stubs {
            if module_segments(stub).is_some_and(|segments| !index.has(&segments)) {
                index.add(stub);
            }
        }
        index
    }

    fn add(&mut self, path: &'p str) {
        let Some(segments) = module_segments(path) else {
            return;
        };
        let (Some(&last), Ok(at)) = (segments.last(), u32::try_from(self.files.len())) else {
            return;
        };
        self.max_segments = self.max_segments.max(segments.len());
        self.files.push(path);
        self.by_last.entry(last).or_default().push(at);
    }

    /// The files whose module name's last segment is `last`, in the order added.
    fn files_ending_with(&self, last: &str) -> impl Iterator<Item = &'p str> + '_ {
        self.by_last
            .get(last)
            .into_iter()
            .flatten()
            .filter_map(|&at| self.files.get(usize::try_from(at).ok()?).copied())
    }

    /// Whether some file is the module of these segments.
    fn has(&self, segments: &[&str]) -> bool {
        let Some(last) = segments.last() else {
            return false;
        };
        self.files_ending_with(last)
            .any(|file| module_segments(file).is_some_and(|s| s.as_slice() == segments))
    }

    /// The file of the module named `dotted` (the first added, as a map of names keeps it).
    fn named(&self, dotted: &str) -> Option<&'p str> {
        let last = dotted.rsplit('.').next().unwrap_or(dotted);
        self.files_ending_with(last).find(|file| {
            module_segments(file).is_some_and(|s| s.iter().copied().eq(dotted.split('.')))
        })
    }

    /// The file of the one module named `dotted` or ending with `.dotted`; `None` when no
    /// module or several do.
    fn only_ending_with(&self, dotted: &str) -> Option<&'p str> {
        let last = dotted.rsplit('.').next().unwrap_or(dotted);
        let mut found = self.files_ending_with(last).filter(|file| {
            module_segments(file).is_some_and(|s| {
                let wanted = dotted.split('.').rev();
                wanted.clone().count() <= s.len()
                    && s.iter().rev().copied().zip(wanted).all(|(a, b)| a == b)
            })
        });
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// The module `dotted` as a file under `roots` (the importer's [`import_roots`]) imports it.
    fn module(&self, roots: &[String], dotted: &str, rooted: bool) -> Option<&'p str> {
        if rooted {
            return self.named(dotted);
        }
        let mut name = String::new();
        for root in roots {
            if !root_allowed(root, dotted, &self.python_roots) {
                continue;
            }
            if let Some(path) = self.named(join_dotted_into(&mut name, root, dotted)) {
                return Some(path);
            }
        }
        if !suffix_guess_allowed(dotted) {
            return None;
        }
        self.only_ending_with(dotted)
    }

    /// The files an import of `full` from `importer` reads: every package on the way and the
    /// module itself (`from a.b.c import X` reads `a/__init__.py`, `a/b/__init__.py` and
    /// `a/b/c.py`, or `a/b/c/X.py` when `X` is a module).
    pub fn files_of(&self, importer: &str, full: &str, rooted: bool) -> Vec<&'p str> {
        let segments: Vec<&str> = full.split('.').collect();
        let looked_for = segments.len().min(self.max_segments);
        // Each name looked for below (`a`, `a.b`, …), and every module it can lead to, ends
        // with one of these segments: when no module does (`sqlalchemy`, `alembic.op` in a
        // revision), nothing is found, and the importer's roots are not worked out. At 2,000
        // Alembic revisions this was most of a new edit's work on the main thread.
        if !segments[..looked_for]
            .iter()
            .any(|segment| self.by_last.contains_key(segment))
        {
            return Vec::new();
        }
        // The importer's roots once, not once per package on the way.
        let roots = if rooted {
            Vec::new()
        } else {
            import_roots(importer, &self.python_roots)
        };
        (1..=looked_for)
            .filter_map(|k| self.module(&roots, &segments[..k].join("."), rooted))
            .collect()
    }
}

/// Modules read at most, and import hops followed, by [`reachable_modules`].
pub const MAX_REACHABLE_MODULES: usize = 2_000;
pub const MAX_IMPORT_HOPS: usize = 4;

/// The paths of the modules that `start` import, directly or through at most
/// [`MAX_IMPORT_HOPS`] imports, among the snapshot's Python files; `summarize` reads one
/// (`None`: unreadable) and is called once per path. Modules `known` gives the summary of (the
/// model files and revisions, already summarised) are followed but not read again. For the caller that
/// gathers the summaries [`super::ModuleIndex`] needs without reading every file.
pub fn reachable_modules<'a, 'k>(
    start: &[&'a ModuleSummary],
    paths: &'a ModulePaths<'a>,
    known: &dyn Fn(&str) -> Option<&'k ModuleSummary>,
    summarize: &mut dyn FnMut(&str) -> Option<ModuleSummary>,
) -> Vec<ModuleSummary> {
    let mut out: Vec<ModuleSummary> = Vec::new();
    // Paths borrowed from the summaries and the module paths: a backend's 5,000 model files
    // start the walk, and a copy of each path was 5,000 allocations on every check.
    let mut seen: foldhash::HashSet<&'a str> = start.iter().map(|s| s.path.as_str()).collect();
    let mut frontier: Vec<(&'a str, Vec<(String, bool)>)> = start
        .iter()
        .map(|s| (s.path.as_str(), imports_of(s)))
        .collect();
    for _ in 0..MAX_IMPORT_HOPS {
        let mut next = Vec::new();
        for (importer, imports) in frontier {
            for (target, rooted) in imports {
                for path in paths.files_of(importer, &target, rooted) {
                    if out.len() >= MAX_REACHABLE_MODULES || !seen.insert(path) {
                        continue;
                    }
                    if let Some(summary) = known(path) {
                        next.push((path, imports_of(summary)));
                    } else if let Some(summary) = summarize(path) {
                        next.push((path, imports_of(&summary)));
                        out.push(summary);
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    out
}

/// What a module imports: full dotted targets (also of star imports).
pub fn imports_of(summary: &ModuleSummary) -> Vec<(String, bool)> {
    let mut targets: Vec<(String, bool)> = summary
        .names
        .iter()
        .filter_map(|(_, def)| match def {
            Def::Import(binding) => Some((binding.target.clone(), binding.rooted)),
            _ => None,
        })
        .collect();
    targets.extend(
        summary
            .star_imports
            .iter()
            .map(|s| (s.module.clone(), s.rooted)),
    );
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`ModulePaths::files_of`] as it was built before: maps of joined module names and
    /// copied paths, and every module's name searched for the suffix guess.
    fn files_of_by_names(
        paths: &[&str],
        python_roots: &[String],
        importer: &str,
        full: &str,
        rooted: bool,
    ) -> Vec<String> {
        let mut modules: Vec<(String, String)> = Vec::new();
        let mut stubs = Vec::new();
        let add = |modules: &mut Vec<(String, String)>, path: &str| {
            if let Some(module) = module_of_path(path) {
                modules.push((module, path.to_string()));
            }
        };
        for path in paths {
            if path.ends_with(".pyi") {
                stubs.push(*path);
            } else if path.ends_with(".py") {
                add(&mut modules, path);
            }
        }
        for stub in stubs {
            if module_of_path(stub).is_some_and(|m| !modules.iter().any(|(n, _)| *n == m)) {
                add(&mut modules, stub);
            }
        }
        let max_segments = modules
            .iter()
            .map(|(m, _)| m.split('.').count())
            .max()
            .unwrap_or(0);
        let named = |name: &str| {
            modules
                .iter()
                .find(|(m, _)| m == name)
                .map(|(_, p)| p.clone())
        };
        let module = |roots: &[String], dotted: &str| -> Option<String> {
            if rooted {
                return named(dotted);
            }
            for root in roots {
                if !root_allowed(root, dotted, python_roots) {
                    continue;
                }
                let name = if root.is_empty() {
                    dotted.to_string()
                } else {
                    format!("{root}.{dotted}")
                };
                if let Some(path) = named(&name) {
                    return Some(path);
                }
            }
            if !suffix_guess_allowed(dotted) {
                return None;
            }
            let ending: Vec<&(String, String)> = modules
                .iter()
                .filter(|(m, _)| ends_with_segments(m, dotted))
                .collect();
            match ending.as_slice() {
                [(_, path)] => Some(path.clone()),
                _ => None,
            }
        };
        let segments: Vec<&str> = full.split('.').collect();
        let roots = if rooted {
            Vec::new()
        } else {
            import_roots(importer, python_roots)
        };
        (1..=segments.len().min(max_segments))
            .filter_map(|k| module(&roots, &segments[..k].join(".")))
            .collect()
    }

    #[test]
    fn module_paths_find_the_files_the_maps_of_names_found() {
        let paths = [
            "app/__init__.py",
            "app/models.py",
            "app/models/__init__.py",
            "app/db/base.py",
            "app/db/base.pyi",
            "app/db/session.pyi",
            "app/core/models.py",
            "src/pkg/util.py",
            "src/pkg/__init__.py",
            "sqlalchemy/__init__.py",
            "sqlalchemy/types.py",
            "lib/sqlalchemy/orm.py",
            "my.pkg/helpers.py",
            "./odd/./x.py",
            "migrations/versions/0001_init.py",
            "migrations/versions/0002_more.py",
            "migrations/env.py",
            "README.md",
            "setup.py",
            "__init__.py",
        ];
        let imports = [
            "app",
            "app.models",
            "app.db.base",
            "app.db.session",
            "models",
            "db.base",
            "base",
            "sqlalchemy",
            "sqlalchemy.types",
            "sqlalchemy.orm",
            "orm",
            "pkg.util",
            "util",
            "my.pkg.helpers",
            "pkg.helpers",
            "helpers",
            "odd.x",
            "x",
            "versions.0001_init",
            "env",
            "alembic.op",
            "setup",
            "core.models",
            "nothing.here",
            "",
        ];
        let importers = [
            "app/models.py",
            "app/db/base.py",
            "src/pkg/util.py",
            "migrations/versions/0002_more.py",
            "setup.py",
        ];
        let mut found = 0;
        for roots in [Vec::new(), vec!["src".to_string()], vec!["lib".to_string()]] {
            let index = ModulePaths::new(paths.iter().copied(), &roots);
            for importer in importers {
                for full in imports {
                    for rooted in [false, true] {
                        let files = index.files_of(importer, full, rooted);
                        assert_eq!(
                            files,
                            files_of_by_names(&paths, &roots, importer, full, rooted),
                            "{full} from {importer} (rooted: {rooted}, roots {roots:?})"
                        );
                        found += files.len();
                    }
                }
            }
        }
        assert!(found > 300, "few imports found a file: {found}");
        let index = ModulePaths::new(paths.iter().copied(), &[]);
        // The package before its module, a stub only where no `.py` has the name, the folder
        // with a dot as two segments, the one module a suffix names.
        assert_eq!(
            index.files_of("app/models.py", "app.db.base", true),
            ["app/__init__.py", "app/db/base.py"]
        );
        assert_eq!(
            index.files_of("x.py", "app.db.session", true),
            ["app/__init__.py", "app/db/session.pyi"]
        );
        assert_eq!(
            index.files_of("x.py", "my.pkg.helpers", true),
            ["my.pkg/helpers.py"]
        );
        assert_eq!(
            index.files_of("setup.py", "pkg.util", false),
            ["src/pkg/__init__.py", "src/pkg/util.py"]
        );
        assert!(
            index.files_of("setup.py", "models", false).is_empty(),
            "three modules end with it"
        );
    }
    use crate::source::SourceFile;

    fn summary(path: &str, src: &str) -> ModuleSummary {
        ModuleSummary::new(path, &crate::pyast::parse(&SourceFile::new(path, src)))
    }

    #[test]
    fn a_suffix_finds_the_one_module_that_ends_with_it_in_whole_segments() {
        let modules = [
            "app.db.models",
            "app.db.base",
            "other.models",
            "app.base",
            "b.b",
            "a.b.b",
            "app.db",
            "app.db",
            "xmodels",
        ];
        let mut index = BySuffix::default();
        for (i, module) in modules.iter().enumerate() {
            index.add(module, i);
        }
        // Every dotted suffix of every module as its own key, as the index once was.
        let mut reference: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, module) in modules.iter().enumerate() {
            let parts: Vec<&str> = module.split('.').collect();
            for start in 0..parts.len() {
                reference
                    .entry(parts[start..].join("."))
                    .or_default()
                    .push(i);
            }
        }
        let asked = [
            "models",
            "db.models",
            "app.db.models",
            "base",
            "db.base",
            "b",
            "b.b",
            "a.b.b",
            "db",
            "app.db",
            "odels",
            "s",
            "",
            ".models",
            "x.app.db.models",
            "missing",
            "xmodels",
            "app",
        ];
        for dotted in asked {
            let expected = match reference.get(dotted).map(Vec::as_slice) {
                Some([only]) => Some(*only),
                _ => None,
            };
            assert_eq!(index.only(dotted).copied(), expected, "{dotted}");
        }
        assert_eq!(index.only("db.models"), Some(&0));
        assert_eq!(index.only("models"), None, "two modules end with it");
        assert_eq!(index.only("app.db"), None, "one module at two paths");
        assert_eq!(index.only("odels"), None, "not a whole segment");
    }

    #[test]
    fn summaries_keep_names_in_binding_order() {
        let s = summary(
            "app/db/util.py",
            "from .types import UtcDateTime\nimport re\nPREFIX = 'app'\nif X:\n    PREFIX = 'other'\ndef snake(name):\n    return name.lower()\nclass Mixin:\n    pass\nfrom .base import *\n",
        );
        assert!(matches!(s.get("PREFIX"), Some(Def::Value(Expr::Str(v), _)) if v == "other"));
        assert!(
            matches!(s.get("snake"), Some(Def::Function(f)) if f.get().is_some_and(|f| f.params.len() == 1))
        );
        assert!(matches!(s.get("Mixin"), Some(Def::Class(_))));
        assert!(matches!(
            s.get("UtcDateTime"),
            Some(Def::Import(b)) if b.target == "app.db.types.UtcDateTime" && b.rooted
        ));
        assert!(matches!(s.get("re"), Some(Def::Import(b)) if b.target == "re" && !b.rooted));
        assert_eq!(
            s.star_imports,
            vec![StarImport {
                module: "app.db.base".into(),
                rooted: true
            }]
        );
    }

    #[test]
    fn only_the_modules_imports_reach_are_read() {
        let files = [
            (
                "app/models.py",
                "from app.core.db import util\nfrom app.core import naming\n",
            ),
            ("app/core/__init__.py", ""),
            ("app/core/db/__init__.py", "from .helpers import *\n"),
            ("app/core/db/util.py", "X = 1\n"),
            ("app/core/db/helpers.py", "Y = 2\n"),
            ("app/core/naming.py", "import os\n"),
            ("app/unrelated.py", "Z = 3\n"),
        ];
        let paths = ModulePaths::new(files.iter().map(|(p, _)| *p), &[]);
        let start = summary(files[0].0, files[0].1);
        let mut read = Vec::new();
        let found = reachable_modules(&[&start], &paths, &|_| None, &mut |path| {
            read.push(path.to_string());
            let text = files.iter().find(|(p, _)| *p == path)?.1;
            Some(summary(path, text))
        });
        read.sort();
        assert_eq!(
            read,
            vec![
                "app/core/__init__.py",
                "app/core/db/__init__.py",
                "app/core/db/helpers.py",
                "app/core/db/util.py",
                "app/core/naming.py",
            ]
        );
        assert_eq!(found.len(), 5);
    }

    #[test]
    fn the_index_finds_modules_as_imports_would() {
        let util = summary("src/app/db/util.py", "X = 1\n");
        let init = summary("src/app/db/__init__.py", "");
        let stub = summary("src/app/db/types.pyi", "T = 1\n");
        let real = summary("src/app/db/types.py", "T = 2\n");
        let index = ModuleIndex::new([&util, &init, &stub, &real], &[]);
        // A parent folder of the importer is a root.
        let found = index.find("src/app/models.py", "app.db.util.X", false);
        assert_eq!(found, Found::Module(&util, "X".into()));
        // A package.
        assert_eq!(
            index.find("src/app/models.py", "app.db", false),
            Found::Module(&init, String::new())
        );
        // The `.py` file wins over its stub.
        assert_eq!(
            index.module("src/app/models.py", "app.db.types", false),
            Some(&real)
        );
        // From elsewhere: a unique suffix.
        assert_eq!(
            index.module("scripts/run.py", "app.db.util", false),
            Some(&util)
        );
        assert_eq!(
            index.find("src/app/models.py", "sqlalchemy.String", false),
            Found::Library("sqlalchemy.String".into())
        );
    }
}
