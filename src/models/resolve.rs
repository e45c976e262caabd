//! The project pass: every file's [`FileModels`] → the tables the models map.
//!
//! Names are resolved the way Python would find them, without running anything: a file's own
//! module-level names first, then its imports (relative ones were made absolute when the file
//! was read; absolute ones are looked up under each parent folder of the importing file, up to
//! the repository root, then under the configured `python_roots`), then its star imports. A
//! module the project does not contain (an `__init__.py` that re-exports, a folder that is
//! not a root) falls back to a class of that name when it is unique in the project. Names
//! from the libraries themselves (`sqlalchemy`, `sqlmodel`, `flask_sqlalchemy`, `enum`, …)
//! are never looked up in the project.
//!
//! Classes are then linearised (C3, as Python does) and each one is decided: a declarative
//! base itself, abstract, a mixin, its own table, or a single-table subclass whose columns go
//! to its parent's table. Columns are gathered along the MRO the way SQLAlchemy's declarative
//! scan does: the nearest definition of a name wins, and a mapped parent hides everything it
//! already maps. What cannot be read (a computed `__tablename__`, a schema from a settings
//! object) becomes a warning and that table is left out rather than guessed.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::extract::{
    AttrKind, ClassAttr, ClassModel, FileModels, ImportBinding, MetadataRef, NameCase, NameValue,
    StrValue, TableArgs, TableAttr, TableCall, TableNameSpec, ValueKind, module_of_path,
};
use super::{ModelColumn, ModelTable};
use crate::finding::Warning;
// Packages that are libraries, never the project's own modules.
use crate::pyeval::modules::LIBRARY_PACKAGES as EXTERNAL_PACKAGES;
use crate::pyeval::modules::{self, join_dotted};
use crate::pyeval::{ModuleIndex, ModuleSummary};

pub(crate) mod kept;
pub use kept::Identity;

/// Options of the project pass.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Extra import roots, repository-relative folders (`apps/backend/src`).
    pub python_roots: Vec<String>,
}

/// One class: (file index, class index in that file).
pub(super) type ClassId = (usize, usize);

/// Bases that are Python's own, never a sign of an unread declarative base.
const BUILTIN_BASES: &[&str] = &["object", "str", "int", "dict", "list", "Exception", "ABC"];

/// Deeper chains of imports, aliases or bases than this are treated as unresolved.
const MAX_DEPTH: u32 = 24;

/// From this many classes, [`Resolver::tables`] decides runs of files side by side.
const SPLIT_FROM: usize = 256;

/// The fewest classes a run of whole files holds (the last run may hold fewer).
const SPLIT_RUN: usize = 64;

/// A kept resolution is written again once this many classes (or a sixteenth of the classes,
/// when fewer) were decided again ([`resolve_keeping`]).
const KEEP_FROM: usize = 64;

/// A class, its mapping, and its table when it has its own.
type Decided = (ClassId, Mapping, Option<ModelTable>);

#[derive(Debug, Clone, Copy)]
enum Local {
    Class(usize),
    Table(usize),
    Alias(usize),
    Value(usize),
}

/// What a dotted name resolves to.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Sym {
    Class(ClassId),
    Table(usize, usize),
    Alias(usize, usize),
    Value(usize, usize),
    Module(usize),
    /// A library name, fully qualified (`sqlalchemy.orm.DeclarativeBase`).
    External(String),
}

/// A resolved name and the attribute path left after it (`db.Model` → the `SQLAlchemy()`
/// value and `Model`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Found {
    pub sym: Sym,
    pub rest: String,
}

/// Something in a class's bases that makes it part of a declarative hierarchy.
#[derive(Debug, Clone, PartialEq)]
enum Marker {
    /// The class is a declarative base itself (`DeclarativeBase` subclass, `@as_declarative`,
    /// `metaclass=DeclarativeMeta`).
    Root,
    /// `declarative_base()` result (file, value index).
    DeclObj(usize, usize),
    /// Flask-SQLAlchemy's `db.Model`, with the `SQLAlchemy()` value when found.
    Flask(Option<(usize, usize)>),
    SqlModel,
    /// `@registry.mapped`, with the registry value when found.
    Registry(Option<(usize, usize)>),
    /// A class with its own `__tablename__` whose base could not be resolved at all (a base
    /// from a file that was not read): taken for a mapped class.
    Assumed,
}

#[derive(Debug, Clone, Default)]
struct Direct {
    parents: Vec<ClassId>,
    markers: Vec<Marker>,
    /// Some base resolved to nothing known (neither a project class nor a library name).
    unresolved_base: bool,
    /// Those bases, as written (`somelib.UserBase`).
    unresolved: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mapping {
    NotMapped,
    /// Its own table.
    Own,
    /// Mapped to a `Table` object defined elsewhere (`__table__ = some_table`).
    External,
    /// Single-table inheritance: its columns go to this class's table.
    Single(ClassId),
}

impl Mapping {
    fn is_mapped(self) -> bool {
        self != Mapping::NotMapped
    }
}

#[derive(Debug, Clone, Default)]
struct Facts {
    in_hierarchy: bool,
    is_root: bool,
    flask: bool,
    /// A SQLModel class (and no other declarative base).
    sqlmodel: bool,
}

/// What [`Resolver::new`] builds from the files and never changes afterwards: shared by
/// the resolvers that split a project's classes between threads.
pub(super) struct Shared<'a> {
    /// The project's files, then the library modules ([`super::library`]): read through
    /// [`Resolver::file`], which remembers which project files a resolver read.
    files: Vec<&'a FileModels>,
    /// The index of the first library module in `files`.
    library_start: usize,
    /// Library modules by dotted name → index in `files`.
    library_modules: HashMap<&'static str, usize>,
    modules: HashMap<String, usize>,
    /// The most segments any module name has: no longer prefix of a dotted name can be a
    /// module, so lookups never try one (a 8,000-segment `from a.a.a… import X` made every
    /// use of `X` quadratic; issue 11).
    max_segments: usize,
    /// Every module's file, for the guess at the one that ends with a dotted name.
    suffixes: crate::pyeval::modules::BySuffix<usize>,
    /// Per file: the folders above it, nearest first, dotted (`""` is the repository root),
    /// then the configured roots.
    roots: Vec<Vec<String>>,
    locals: Vec<HashMap<&'a str, Local>>,
    imports: Vec<HashMap<&'a str, &'a ImportBinding>>,
    /// One class by a name, almost always: held inline (5,000 lists of one were 5,000
    /// allocations of every check).
    classes_by_name: HashMap<&'a str, smallvec::SmallVec<[ClassId; 1]>>,
    /// Every module the evaluator may import: the model files and the other modules given.
    index: ModuleIndex<'a>,
}

pub(super) struct Resolver<'a> {
    shared: Arc<Shared<'a>>,
    direct: HashMap<ClassId, Rc<Direct>>,
    /// Shared, not copied: a class's MRO is read once per attribute of every class below it.
    mros: HashMap<ClassId, Rc<[ClassId]>>,
    mappings: HashMap<ClassId, Mapping>,
    facts: HashMap<ClassId, Facts>,
    /// Classes whose MRO is being computed (cycle guard).
    mro_in_progress: HashSet<ClassId>,
    /// Classes whose [`Direct`] is being computed (a cycle of bases ends there).
    direct_in_progress: HashSet<ClassId>,
    /// Classes whose mapping is being decided (cycle guard).
    mapping_in_progress: HashSet<ClassId>,
    depth: u32,
    /// A cycle or depth guard answered: what was remembered since may depend on the order
    /// classes were resolved in, so a split resolution is redone in one piece.
    guarded: bool,
    /// [`Resolver::lookup`]'s answers, per file and dotted name.
    lookups: RefCell<Vec<HashMap<Box<str>, Option<Found>>>>,
    /// What this resolver read of the project (see [`kept`]).
    reads: RefCell<kept::Reads>,
    pub warnings: Vec<Warning>,
}

impl<'a> std::ops::Deref for Resolver<'a> {
    type Target = Shared<'a>;
    fn deref(&self) -> &Shared<'a> {
        &self.shared
    }
}

/// Resolves every file's models together into the mapped tables, sorted by file path and
/// line, and the warnings for what could not be read.
pub fn resolve(files: &[FileModels], options: &ResolveOptions) -> (Vec<ModelTable>, Vec<Warning>) {
    let files: Vec<&FileModels> = files.iter().collect();
    resolve_with_modules(&files, &[], options)
}

/// [`resolve`], with the summaries of the project's other Python modules (those that are not
/// model files), so that a computed table name or schema can call a helper or read a constant
/// from any module of the project.
pub fn resolve_with_modules(
    files: &[&FileModels],
    modules: &[ModuleSummary],
    options: &ResolveOptions,
) -> (Vec<ModelTable>, Vec<Warning>) {
    let (tables, warnings, _, _) = resolve_keeping(files, modules, options, None);
    (tables, warnings)
}

/// A resolution kept between runs ([`resolve_keeping`]): the identity of what it reads and
/// the one kept before, if any.
pub struct KeptResolution<'k> {
    pub identity: &'k Identity,
    /// Gives the kept resolution (`None`: none, or it would not decode). Called once the
    /// model index is built: the kept one may still be decoding on other threads meanwhile.
    pub load: Box<dyn FnOnce() -> Option<kept::Kept> + 'k>,
}

/// [`resolve_with_modules`], going on from a kept resolution when one is given (only the
/// files a change can reach are decided again: see [`kept`]), and the bytes to keep for the
/// next run (`None`: nothing to keep), with what the rules' memo needs of the kept states
/// ([`crate::rules::scope`]; unknown when nothing was kept or taken).
pub fn resolve_keeping(
    files: &[&FileModels],
    modules: &[ModuleSummary],
    options: &ResolveOptions,
    kept: Option<KeptResolution>,
) -> Resolved {
    // Borrowed, not copied: a project's model files are most of what a check holds. Only the
    // files whose column helpers were expanded are new.
    let expanded = super::computed::expand_column_helpers(files, modules, &options.python_roots);
    let files: Vec<&FileModels> = files
        .iter()
        .enumerate()
        .map(|(i, file)| expanded.get(&i).unwrap_or(file))
        .collect();
    let s = crate::timing::span("model index");
    let mut project = Resolver::new(&files, modules, options);
    drop(s);
    let mut keep = None;
    let mut bases = crate::rules::scope::ResolutionBases::default();
    // An expanded file's columns come from other modules too: such a resolution is neither
    // kept nor taken from a kept one.
    let tables = match kept.filter(|_| expanded.is_empty()) {
        Some(kept) => {
            let shared = Arc::clone(&project.shared);
            let s = crate::timing::span("kept resolution decode");
            let previous = (kept.load)();
            drop(s);
            // Writing costs what deciding a few files costs: a resolution that decided few
            // files again leaves the kept one (still recognised: the next run decides those
            // files again).
            let classes: usize = files.iter().map(|f| f.classes.len()).sum();
            let keep_from = KEEP_FROM.min(classes.div_ceil(16).max(1));
            match project.tables_kept(kept.identity, previous, keep_from) {
                Some(out) => {
                    crate::timing::count("model files decided again", out.decided_again);
                    crate::timing::count("model classes decided again", out.classes_again);
                    keep = out.keep;
                    bases = out.bases;
                    out.tables
                }
                None => {
                    project = Resolver::with_shared(shared);
                    project.tables_from(usize::MAX)
                }
            }
        }
        None => project.tables(),
    };
    let mut warnings: Vec<Warning> = files.iter().flat_map(|f| f.warnings.clone()).collect();
    warnings.extend(project.warnings);
    warnings.sort();
    warnings.dedup();
    (tables, warnings, keep, bases)
}

/// What [`resolve_keeping`] returns: the tables, the warnings, the bytes to keep and the
/// kept states' part of the rules' memo.
pub type Resolved = (
    Vec<ModelTable>,
    Vec<Warning>,
    Option<Vec<u8>>,
    crate::rules::scope::ResolutionBases,
);

fn split_first(dotted: &str) -> (&str, &str) {
    dotted.split_once('.').unwrap_or((dotted, ""))
}

fn last_segment(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

impl<'a> Resolver<'a> {
    pub(super) fn new(
        files: &[&'a FileModels],
        other_modules: &'a [ModuleSummary],
        options: &ResolveOptions,
    ) -> Self {
        let mut modules = HashMap::new();
        let mut suffixes = crate::pyeval::modules::BySuffix::default();
        let mut roots = Vec::with_capacity(files.len());
        let mut locals = Vec::with_capacity(files.len());
        let mut imports = Vec::with_capacity(files.len());
        // Sized ahead: a project's classes by the thousands (grown step by step, the map was
        // copied into fresh memory a dozen times).
        let classes: usize = files.iter().map(|f| f.classes.len()).sum();
        let mut classes_by_name: HashMap<&str, smallvec::SmallVec<[ClassId; 1]>> =
            HashMap::with_capacity(classes);
        let library_start = files.len();
        // The library modules are read (parsed once per process, ~2 ms) only for a project
        // that imports one of their packages: an import is the only way to reach them.
        let library: &[(&str, FileModels)] = if files
            .iter()
            .any(|f| f.imports.iter().any(super::library::may_name))
        {
            super::library::modules()
        } else {
            &[]
        };
        let all: Vec<&'a FileModels> = files
            .iter()
            .copied()
            .chain(library.iter().map(|(_, models)| models))
            .collect();
        let library_modules = library
            .iter()
            .enumerate()
            .map(|(k, (module, _))| (*module, library_start + k))
            .collect();
        for (i, file) in all.iter().enumerate() {
            let in_library = i >= library_start;
            if !in_library && let Some(module) = module_of_path(&file.path) {
                suffixes.add(&module, i);
                modules.entry(module).or_insert(i);
            }
            roots.push(modules::import_roots(&file.path, &options.python_roots));

            let mut names = HashMap::with_capacity(
                file.values.len() + file.aliases.len() + file.tables.len() + file.classes.len(),
            );
            for (j, value) in file.values.iter().enumerate() {
                names.insert(value.name.as_str(), Local::Value(j));
            }
            for (j, alias) in file.aliases.iter().enumerate() {
                names.insert(alias.name.as_str(), Local::Alias(j));
            }
            for (j, table) in file.tables.iter().enumerate() {
                if let Some(name) = &table.assigned_to {
                    names.insert(name.as_str(), Local::Table(j));
                }
            }
            for (j, class) in file.classes.iter().enumerate() {
                names.insert(class.name.as_str(), Local::Class(j));
                if !in_library {
                    classes_by_name
                        .entry(class.name.as_str())
                        .or_default()
                        .push((i, j));
                }
            }
            locals.push(names);
            imports.push(
                file.imports
                    .iter()
                    .map(|b| (b.local.as_str(), b))
                    .collect::<HashMap<_, _>>(),
            );
        }
        let max_segments = modules
            .keys()
            .map(|m| m.split('.').count())
            .max()
            .unwrap_or(0);
        Resolver::with_shared(Arc::new(Shared {
            files: all,
            library_start,
            library_modules,
            modules,
            max_segments,
            suffixes,
            roots,
            locals,
            imports,
            classes_by_name,
            index: ModuleIndex::new(
                files.iter().map(|f| &f.summary).chain(other_modules),
                &options.python_roots,
            ),
        }))
    }

    /// A resolver that remembers nothing yet, over what another one built.
    fn with_shared(shared: Arc<Shared<'a>>) -> Self {
        Resolver {
            shared,
            direct: HashMap::new(),
            mros: HashMap::new(),
            mappings: HashMap::new(),
            facts: HashMap::new(),
            mro_in_progress: HashSet::new(),
            direct_in_progress: HashSet::new(),
            mapping_in_progress: HashSet::new(),
            depth: 0,
            guarded: false,
            lookups: RefCell::default(),
            reads: RefCell::default(),
            warnings: Vec::new(),
        }
    }

    /// The modules the evaluator may import (what it finds there is noted by
    /// [`modules::recording_reads`] while a kept resolution decides a file).
    pub(super) fn index(&self) -> &ModuleIndex<'a> {
        &self.index
    }

    /// File `f`, remembered as read.
    pub(super) fn file(&self, f: usize) -> Option<&'a FileModels> {
        self.read(f);
        self.files.get(f).copied()
    }

    /// Remembers that project file `f` was read (the library modules never change).
    fn read(&self, f: usize) {
        if f < self.library_start {
            self.reads.borrow_mut().file(f);
        }
    }

    /// Remembers that project file `f`'s names were read: its module-level names, imports and
    /// star imports (what [`kept::shape`] digests).
    fn read_shape(&self, f: usize) {
        if f < self.library_start {
            self.reads.borrow_mut().shape(f);
        }
    }

    /// File `f`'s module-level names.
    fn locals_of(&self, f: usize) -> Option<&HashMap<&'a str, Local>> {
        self.read_shape(f);
        self.locals.get(f)
    }

    /// File `f`'s imports by local name.
    fn imports_of(&self, f: usize) -> Option<&HashMap<&'a str, &'a ImportBinding>> {
        self.read_shape(f);
        self.imports.get(f)
    }

    /// File `f`'s star imports.
    fn stars_of(&self, f: usize) -> &'a [crate::pyeval::modules::StarImport] {
        self.read_shape(f);
        self.files
            .get(f)
            .map_or(&[], |file| file.star_imports.as_slice())
    }

    /// Every file, for a scan of what any file assigns (`Base.metadata.schema = …`): a
    /// resolver that scans depends on every file that assigns one.
    pub(super) fn scan_files(&self) -> impl Iterator<Item = (usize, &'a FileModels)> + '_ {
        self.reads.borrow_mut().scans = true;
        self.files.iter().copied().enumerate()
    }

    /// Class `id`, remembered as read (that class alone: [`kept`] compares its digest).
    pub(super) fn class(&self, id: ClassId) -> Option<&'a ClassModel> {
        if id.0 < self.library_start {
            self.reads.borrow_mut().class(id);
        }
        self.files.get(id.0)?.classes.get(id.1)
    }

    /// Whether file `f` is one of the library modules.
    pub(super) fn is_library(&self, f: usize) -> bool {
        f >= self.library_start
    }

    /// The library module `dotted` describes, unless the project has a module of that name
    /// (a vendored copy) as `file` would import it.
    fn library_module(&self, file: usize, dotted: &str) -> Option<usize> {
        let &module = self.library_modules.get(dotted)?;
        self.find_module(file, dotted, false)
            .is_none()
            .then_some(module)
    }

    // ----- names -------------------------------------------------------------------------

    /// Resolves a dotted name as written in `file`.
    pub(super) fn lookup(&self, file: usize, dotted: &str) -> Option<Found> {
        // Remembered per file: every `Mapped[str]` of a file asks what `str` is, and a name
        // no import binds walks the star imports each time. The lookup reads only what
        // `Resolver::new` built, so its answer never changes.
        if let Some(found) = self
            .lookups
            .borrow()
            .get(file)
            .and_then(|names| names.get(dotted))
        {
            return found.clone();
        }
        let found = self.lookup_depth(file, dotted, 0, false, true);
        let mut lookups = self.lookups.borrow_mut();
        if lookups.len() <= file {
            lookups.resize_with(file + 1, HashMap::new);
        }
        lookups[file].insert(dotted.into(), found.clone());
        found
    }

    fn lookup_depth(
        &self,
        file: usize,
        dotted: &str,
        depth: u32,
        skip_locals: bool,
        stars: bool,
    ) -> Option<Found> {
        if depth > MAX_DEPTH || dotted.is_empty() {
            return None;
        }
        let (first, rest) = split_first(dotted);
        if !skip_locals && let Some(local) = self.locals_of(file)?.get(first) {
            let sym = match *local {
                Local::Class(j) => Sym::Class((file, j)),
                Local::Table(j) => Sym::Table(file, j),
                Local::Alias(j) => Sym::Alias(file, j),
                Local::Value(j) => {
                    if let Some(ValueKind::Alias(target)) = self
                        .file(file)
                        .and_then(|f| f.values.get(j))
                        .map(|v| &v.kind)
                    {
                        let full = if rest.is_empty() {
                            target.clone()
                        } else {
                            format!("{target}.{rest}")
                        };
                        if target != first
                            && let Some(found) =
                                self.lookup_depth(file, &full, depth + 1, false, true)
                        {
                            return Some(found);
                        }
                        return self.lookup_depth(file, &full, depth + 1, true, true);
                    }
                    Sym::Value(file, j)
                }
            };
            return Some(Found {
                sym,
                rest: rest.to_string(),
            });
        }
        if let Some(binding) = self.imports_of(file)?.get(first) {
            let full = if rest.is_empty() {
                binding.target.clone()
            } else {
                format!("{}.{rest}", binding.target)
            };
            return self.lookup_absolute(file, &full, binding.rooted, depth + 1);
        }
        if stars {
            return self.lookup_in_stars(file, dotted, depth);
        }
        None
    }

    /// A name reached through `from m import *`: the star-imported modules, breadth first,
    /// each visited once (star imports often form cycles through `__init__.py` files).
    fn lookup_in_stars(&self, file: usize, dotted: &str, depth: u32) -> Option<Found> {
        let mut visited = HashSet::from_iter([file]);
        let mut queue = std::collections::VecDeque::from([file]);
        while let Some(current) = queue.pop_front() {
            for star in self.stars_of(current) {
                let Some(module) = self.find_module(current, &star.module, star.rooted) else {
                    continue;
                };
                if !visited.insert(module) {
                    continue;
                }
                if let Some(found) = self.lookup_depth(module, dotted, depth + 1, false, false)
                    && !matches!(found.sym, Sym::External(_))
                {
                    return Some(found);
                }
                queue.push_back(module);
            }
        }
        None
    }

    /// Resolves a full dotted name (`app.db.base.Base`) reached through an import of `file`.
    fn lookup_absolute(&self, file: usize, full: &str, rooted: bool, depth: u32) -> Option<Found> {
        if depth > MAX_DEPTH {
            return None;
        }
        let segments: Vec<&str> = full.split('.').collect();
        let first = segments.first().copied().unwrap_or("");
        let mut vendored = false;
        if !rooted {
            // A library driftguard describes: its module, or a library name it does not list.
            let longest = self
                .library_modules
                .keys()
                .map(|m| m.split('.').count())
                .max()
                .unwrap_or(0);
            for k in (1..=segments.len().min(longest)).rev() {
                let prefix = segments[..k].join(".");
                if !self.library_modules.contains_key(prefix.as_str()) {
                    continue;
                }
                let Some(module) = self.library_module(file, &prefix) else {
                    // The project has its own copy: read it like the project's modules.
                    vendored = true;
                    break;
                };
                let rest = segments[k..].join(".");
                if rest.is_empty() {
                    return Some(Found {
                        sym: Sym::Module(module),
                        rest,
                    });
                }
                if let Some(found) = self.lookup_depth(module, &rest, depth + 1, false, true) {
                    return Some(found);
                }
                return Some(Found {
                    sym: Sym::External(full.to_string()),
                    rest: String::new(),
                });
            }
        }
        if !rooted && !vendored && EXTERNAL_PACKAGES.contains(&first) {
            return Some(Found {
                sym: Sym::External(full.to_string()),
                rest: String::new(),
            });
        }
        for k in (1..=segments.len().min(self.max_segments)).rev() {
            let prefix = segments[..k].join(".");
            let Some(module) = self.find_module(file, &prefix, rooted) else {
                continue;
            };
            let rest = segments[k..].join(".");
            if rest.is_empty() {
                return Some(Found {
                    sym: Sym::Module(module),
                    rest: String::new(),
                });
            }
            if let Some(found) = self.lookup_depth(module, &rest, depth + 1, false, true) {
                return Some(found);
            }
            break;
        }
        // Not in the project as a module: a class of that name, when it is unique (or unique
        // under the imported package's path).
        for (i, segment) in segments.iter().enumerate().rev() {
            if let Some(class) = self.unique_class(segment, &segments[..i]) {
                return Some(Found {
                    sym: Sym::Class(class),
                    rest: segments[i + 1..].join("."),
                });
            }
        }
        Some(Found {
            sym: Sym::External(full.to_string()),
            rest: String::new(),
        })
    }

    /// A class named `name`: the only one in the project, or the only one whose module path
    /// contains `package` (the import's module path).
    fn unique_class(&self, name: &str, package: &[&str]) -> Option<ClassId> {
        self.reads.borrow_mut().names.insert(name.into());
        let candidates = self.classes_by_name.get(name)?;
        if let [only] = candidates.as_slice() {
            return Some(*only);
        }
        if package.is_empty() || package.len() > self.max_segments {
            return None;
        }
        let needle = format!(".{}.", package.join("."));
        let matching: Vec<ClassId> = candidates
            .iter()
            .copied()
            .filter(|(f, _)| {
                self.files
                    .get(*f)
                    .and_then(|file| module_of_path(&file.path))
                    .is_some_and(|m| format!(".{m}.").contains(&needle))
            })
            .collect();
        match matching.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// The file of a dotted module as imported from `file`.
    fn find_module(&self, file: usize, dotted: &str, rooted: bool) -> Option<usize> {
        if rooted {
            return self.modules.get(dotted).copied();
        }
        for root in self.roots.get(file)? {
            if let Some(&m) = self.modules.get(&join_dotted(root, dotted)) {
                return Some(m);
            }
        }
        self.suffixes.only(dotted).copied()
    }

    /// The fully qualified spelling of a dotted name for recognising library constructs:
    /// imports and module-level aliases are followed (`SAEnum` → `sqlalchemy.Enum`), nothing
    /// else is.
    pub(super) fn qualify(&self, file: usize, dotted: &str) -> String {
        self.qualify_depth(file, dotted, 0)
    }

    /// The last segment of [`Resolver::qualify`]'s name, without building it: a dotted name
    /// keeps its last segment (qualifying replaces only the first), a plain one follows
    /// module-level aliases and then an import, as `qualify_depth` does, to the same depth.
    pub(super) fn qualified_last<'d>(&self, file: usize, dotted: &'d str) -> &'d str
    where
        'a: 'd,
    {
        let mut dotted = dotted;
        for _ in 0..=8 {
            let (first, rest) = split_first(dotted);
            if !rest.is_empty() {
                return last_segment(rest);
            }
            if let Some(Local::Value(j)) = self.locals_of(file).and_then(|l| l.get(first))
                && let Some(ValueKind::Alias(target)) = self
                    .file(file)
                    .and_then(|f| f.values.get(*j))
                    .map(|v| &v.kind)
                && target != first
            {
                dotted = target;
                continue;
            }
            if let Some(binding) = self.imports_of(file).and_then(|i| i.get(first)).copied() {
                return last_segment(&binding.target);
            }
            return last_segment(dotted);
        }
        last_segment(dotted)
    }

    fn qualify_depth(&self, file: usize, dotted: &str, depth: u32) -> String {
        if depth > 8 {
            return dotted.to_string();
        }
        let (first, rest) = split_first(dotted);
        let join = |target: &str| {
            if rest.is_empty() {
                target.to_string()
            } else {
                format!("{target}.{rest}")
            }
        };
        if let Some(Local::Value(j)) = self.locals_of(file).and_then(|l| l.get(first))
            && let Some(ValueKind::Alias(target)) = self
                .file(file)
                .and_then(|f| f.values.get(*j))
                .map(|v| &v.kind)
            && target != first
        {
            return self.qualify_depth(file, &join(target), depth + 1);
        }
        if let Some(binding) = self.imports_of(file).and_then(|i| i.get(first)) {
            return join(&binding.target);
        }
        dotted.to_string()
    }

    /// A string constant: a literal, or a module-level `NAME = "…"` reached from `file`.
    /// `Err` carries the text for a warning.
    pub(super) fn str_value(&self, file: usize, value: &StrValue) -> Result<String, String> {
        match value {
            StrValue::Literal(s) => Ok(s.clone()),
            StrValue::Unknown(text) => Err(text.clone()),
            StrValue::Computed(expr) => self
                .eval_str(file, expr)
                .ok_or_else(|| super::text::expr_text(expr)),
            StrValue::Constant(name) => self.constant_str(file, name).or_else(|err| {
                self.eval_str(file, &crate::pyast::Expr::Name(name.clone()))
                    .ok_or(err)
            }),
        }
    }

    /// A module-level `NAME = "…"` reached from `file`, as the per-file form recorded it.
    fn constant_str(&self, file: usize, name: &str) -> Result<String, String> {
        match self.lookup(file, name) {
            Some(Found {
                sym: Sym::Value(f, j),
                rest,
            }) if rest.is_empty() => match self.file(f).and_then(|x| x.values.get(j)) {
                Some(v) => match &v.kind {
                    ValueKind::Str(s) => Ok(s.clone()),
                    _ => Err(name.to_string()),
                },
                None => Err(name.to_string()),
            },
            _ => Err(name.to_string()),
        }
    }

    // ----- classes -----------------------------------------------------------------------

    fn direct(&mut self, id: ClassId) -> Rc<Direct> {
        if let Some(d) = self.direct.get(&id) {
            return Rc::clone(d);
        }
        let mut direct = Direct::default();
        if let Some(class) = self.class(id) {
            for base in &class.bases {
                self.base_ref(id, base, &mut direct);
            }
            if class
                .metaclass
                .as_deref()
                .is_some_and(|m| last_segment(m) == "DeclarativeMeta")
            {
                direct.markers.push(Marker::Root);
            }
            for decorator in &class.decorators {
                match last_segment(decorator) {
                    "as_declarative" | "as_declarative_base" => direct.markers.push(Marker::Root),
                    "mapped" | "mapped_as_dataclass" => {
                        let registry = decorator.rsplit_once('.').and_then(|(r, _)| {
                            match self.lookup(id.0, r) {
                                Some(Found {
                                    sym: Sym::Value(f, j),
                                    ..
                                }) => Some((f, j)),
                                _ => None,
                            }
                        });
                        direct.markers.push(Marker::Registry(registry));
                    }
                    _ => {}
                }
            }
            if direct.markers.is_empty()
                && (direct.unresolved_base || self.unresolved_above(&direct.parents, 0))
                && class
                    .tablename
                    .as_ref()
                    .is_some_and(|t| !matches!(t.value, NameValue::NoName))
            {
                direct.markers.push(Marker::Assumed);
            }
        }
        let direct = Rc::new(direct);
        self.direct.insert(id, Rc::clone(&direct));
        direct
    }

    /// Whether some ancestor among `parents` (the project's classes, read) has a base that
    /// resolved to nothing known: Superset's `Database(CoreDatabase)` where the abstract
    /// `CoreDatabase(CoreModel)`, `CoreModel(Model)` come from Flask-AppBuilder's `Model`.
    fn unresolved_above(&mut self, parents: &[ClassId], depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        parents.iter().any(|p| {
            if self.direct_in_progress.contains(p) {
                self.guarded = true;
                return false;
            }
            self.direct_in_progress.insert(*p);
            let direct = self.direct(*p);
            self.direct_in_progress.remove(p);
            direct.unresolved_base || self.unresolved_above(&direct.parents, depth + 1)
        })
    }

    fn base_ref(&mut self, id: ClassId, base: &str, direct: &mut Direct) {
        if let Some(call) = base.strip_suffix("()") {
            if matches!(last_segment(call), "declarative_base" | "generate_base") {
                direct.markers.push(Marker::Root);
            }
            return;
        }
        let mut found = self.lookup(id.0, base);
        if let Some(Found {
            sym: Sym::Class(c), ..
        }) = &found
            && *c == id
        {
            // `class Model(Model)`: the base is the imported name, not this class.
            found = self.lookup_depth(id.0, base, 0, true, true);
        }
        match found {
            Some(Found {
                sym: Sym::Class(c),
                rest,
            }) if rest.is_empty() && c != id => direct.parents.push(c),
            Some(Found {
                sym: Sym::Value(f, j),
                rest,
            }) => match self.file(f).and_then(|x| x.values.get(j)).map(|v| &v.kind) {
                Some(ValueKind::DeclarativeBase { mixin, .. }) if rest.is_empty() => {
                    direct.markers.push(Marker::DeclObj(f, j));
                    if let Some(mixin) = mixin
                        && let Some(Found {
                            sym: Sym::Class(c),
                            rest,
                        }) = self.lookup(f, mixin)
                        && rest.is_empty()
                        && c != id
                    {
                        direct.parents.push(c);
                    }
                }
                Some(ValueKind::FlaskDb { .. }) if rest == "Model" => {
                    direct.markers.push(Marker::Flask(Some((f, j))));
                }
                _ => {}
            },
            Some(Found {
                sym: Sym::External(full),
                ..
            }) => {
                let library = EXTERNAL_PACKAGES.contains(&split_first(&full).0);
                if !self.external_base(&full, direct) && !library {
                    direct.unresolved_base = true;
                    direct.unresolved.push(base.to_string());
                }
            }
            None if !self.external_base(base, direct) && !BUILTIN_BASES.contains(&base) => {
                direct.unresolved_base = true;
                direct.unresolved.push(base.to_string());
            }
            _ => {}
        }
    }

    /// Recognises a library base class; false when it is none of them.
    fn external_base(&self, full: &str, direct: &mut Direct) -> bool {
        let mut parts = full.rsplit('.');
        let last = parts.next().unwrap_or(full);
        let before = parts.next();
        let marker = match last {
            "DeclarativeBase" | "DeclarativeBaseNoMeta" => Marker::Root,
            "SQLModel" => Marker::SqlModel,
            // `flask_sqlalchemy.model.Model` is the class `db.Model` is built from
            // (`SQLAlchemy(model_class=…)`): deriving from it maps nothing.
            "Model" if full.starts_with("flask_sqlalchemy.") && before != Some("db") => {
                return true;
            }
            "Model" if before == Some("db") || full.contains("flask_sqlalchemy") => {
                Marker::Flask(None)
            }
            _ => return false,
        };
        direct.markers.push(marker);
        true
    }

    /// The method resolution order of a class, itself first (C3; a left-to-right walk when
    /// the bases cannot be linearised).
    pub(super) fn mro(&mut self, id: ClassId) -> Rc<[ClassId]> {
        if let Some(m) = self.mros.get(&id) {
            return Rc::clone(m);
        }
        if self.mro_in_progress.contains(&id) || self.depth > MAX_DEPTH * 8 {
            self.guarded = true;
            return Rc::from([id]);
        }
        self.mro_in_progress.insert(id);
        self.depth += 1;
        let parents = self.direct(id).parents.clone();
        let mut sequences: Vec<Vec<ClassId>> =
            parents.iter().map(|p| self.mro(*p).to_vec()).collect();
        sequences.push(parents.clone());
        let mut mro = vec![id];
        match c3_merge(sequences.clone()) {
            Some(merged) => mro.extend(merged),
            None => {
                for seq in sequences {
                    for c in seq {
                        if !mro.contains(&c) {
                            mro.push(c);
                        }
                    }
                }
            }
        }
        let mut self_seen = false;
        mro.retain(|c| {
            if *c != id {
                return true;
            }
            let keep = !self_seen;
            self_seen = true;
            keep
        });
        self.depth -= 1;
        self.mro_in_progress.remove(&id);
        let mro: Rc<[ClassId]> = Rc::from(mro);
        self.mros.insert(id, Rc::clone(&mro));
        mro
    }

    fn facts(&mut self, id: ClassId) -> Facts {
        if let Some(f) = self.facts.get(&id) {
            return f.clone();
        }
        let mro = self.mro(id);
        let mut facts = Facts::default();
        let mut sa = false;
        for (pos, c) in mro.iter().enumerate() {
            for marker in self.direct(*c).markers.clone() {
                facts.in_hierarchy = true;
                match marker {
                    Marker::Root => {
                        sa = true;
                        if pos == 0 {
                            facts.is_root = true;
                        }
                    }
                    Marker::Flask(_) => {
                        sa = true;
                        facts.flask = true;
                    }
                    Marker::SqlModel => facts.sqlmodel = true,
                    Marker::DeclObj(..) | Marker::Registry(_) | Marker::Assumed => sa = true,
                }
            }
        }
        if sa {
            facts.sqlmodel = false;
        }
        self.facts.insert(id, facts.clone());
        facts
    }

    fn markers_in_mro(&mut self, id: ClassId) -> Vec<Marker> {
        let mro = self.mro(id);
        mro.iter()
            .flat_map(|c| self.direct(*c).markers.clone())
            .collect()
    }

    pub(super) fn is_in_hierarchy(&mut self, id: ClassId) -> bool {
        self.facts(id).in_hierarchy
    }

    fn mapping(&mut self, id: ClassId) -> Mapping {
        if let Some(m) = self.mappings.get(&id) {
            return *m;
        }
        if self.mapping_in_progress.contains(&id) {
            self.guarded = true;
            return Mapping::NotMapped;
        }
        self.mapping_in_progress.insert(id);
        let mapping = self.decide(id);
        self.mapping_in_progress.remove(&id);
        self.mappings.insert(id, mapping);
        mapping
    }

    fn decide(&mut self, id: ClassId) -> Mapping {
        let Some(class) = self.class(id) else {
            return Mapping::NotMapped;
        };
        // A library's class is a base the project's classes build on, never a table here.
        if self.is_library(id.0) {
            return Mapping::NotMapped;
        }
        let facts = self.facts(id);
        if !facts.in_hierarchy || facts.is_root {
            return Mapping::NotMapped;
        }
        if facts.sqlmodel {
            return if class.table_keyword == Some(true) {
                Mapping::Own
            } else {
                Mapping::NotMapped
            };
        }
        if class.is_abstract {
            return Mapping::NotMapped;
        }
        match &class.table_attr {
            Some(TableAttr::Inline(_)) => return Mapping::Own,
            Some(TableAttr::Named(_) | TableAttr::Other) => return Mapping::External,
            None => {}
        }
        let mro = self.mro(id);
        let mut parent = None;
        for p in mro.iter().skip(1) {
            if self.mapping(*p).is_mapped() {
                parent = Some(*p);
                break;
            }
        }
        if let Some(spec) = &class.tablename {
            let no_name = spec.value == NameValue::NoName || spec.none_when_inherited;
            return match (no_name, parent) {
                (true, Some(p)) => Mapping::Single(self.table_owner(p)),
                (false, _) => Mapping::Own,
                (true, None) if spec.value != NameValue::NoName => Mapping::Own,
                (true, None) => Mapping::NotMapped,
            };
        }
        match parent {
            Some(p) => {
                let declared = self.inherited_tablename(id, true);
                if let Some((spec, _)) = declared
                    && !spec.none_when_inherited
                    && spec.value != NameValue::NoName
                {
                    return Mapping::Own;
                }
                if facts.flask && self.declares_primary_key(id) {
                    return Mapping::Own;
                }
                Mapping::Single(self.table_owner(p))
            }
            None => {
                if self
                    .inherited_tablename(id, false)
                    .is_some_and(|(spec, _)| spec.value != NameValue::NoName)
                    || facts.flask
                {
                    Mapping::Own
                } else {
                    if !class.attrs().is_empty() && self.has_own_columns(id) {
                        let location = class.location.clone();
                        self.warnings.push(Warning::at(
                            location,
                            format!(
                                "class `{}` derives from a declarative base but has no `__tablename__`; its columns are not checked",
                                class.name
                            ),
                        ));
                    }
                    Mapping::NotMapped
                }
            }
        }
    }

    /// The class whose table a mapped class's columns go to.
    fn table_owner(&mut self, id: ClassId) -> ClassId {
        match self.mapping(id) {
            Mapping::Single(owner) => owner,
            _ => id,
        }
    }

    /// The `__tablename__` a class inherits (not its own): the first one along the MRO. With
    /// `declared_only`, only `@declared_attr` ones count (a mapped parent's plain
    /// `__tablename__` is not inherited by SQLAlchemy). Returns the spec and the class that
    /// declares it.
    fn inherited_tablename(
        &mut self,
        id: ClassId,
        declared_only: bool,
    ) -> Option<(&'a TableNameSpec, ClassId)> {
        let mro = self.mro(id);
        for c in mro.iter().skip(1) {
            let Some(class) = self.class(*c) else {
                continue;
            };
            if let Some(spec) = &class.tablename {
                if declared_only && !spec.declared_attr {
                    continue;
                }
                if !spec.declared_attr && self.mapping(*c).is_mapped() {
                    continue;
                }
                return Some((spec, *c));
            }
        }
        None
    }

    fn declares_primary_key(&self, id: ClassId) -> bool {
        let Some(class) = self.class(id) else {
            return false;
        };
        class.attrs().iter().any(|attr| {
            let call = match &attr.value {
                Some(crate::pyast::Expr::Call(call)) => call,
                _ => return false,
            };
            call.kwarg("primary_key")
                .and_then(crate::pyast::Expr::as_bool)
                == Some(true)
        })
    }

    fn has_own_columns(&self, id: ClassId) -> bool {
        let Some(class) = self.class(id) else {
            return false;
        };
        class.attrs().iter().any(|attr| {
            attr.value
                .as_ref()
                .and_then(crate::pyast::Expr::as_call)
                .and_then(super::extract::callee_last)
                .is_some_and(|f| matches!(f, "Column" | "mapped_column"))
        })
    }

    // ----- tables ------------------------------------------------------------------------

    /// Every mapped table of the project, sorted by file and line.
    pub(super) fn tables(&mut self) -> Vec<ModelTable> {
        self.tables_from(SPLIT_FROM)
    }

    /// [`Resolver::tables`], split between threads from `split_from` classes.
    fn tables_from(&mut self, split_from: usize) -> Vec<ModelTable> {
        let ids = self.classes_in_order();
        if ids.len() >= split_from {
            let shared = Arc::clone(&self.shared);
            match self.tables_split(&ids) {
                Some(tables) => return tables,
                // Redone in one piece by a resolver that remembers nothing of the split.
                None => *self = Resolver::with_shared(shared),
            }
        }
        let decided: Vec<Decided> = ids.iter().map(|&id| self.decide_class(id)).collect();
        self.assemble_tables(decided).0
    }

    /// Every class of the project's files, sorted by location (so each file's classes are
    /// together, in source order).
    fn classes_in_order(&self) -> Vec<ClassId> {
        let files = &self.files[..self.library_start];
        let mut ids: Vec<ClassId> = Vec::new();
        for (f, file) in files.iter().enumerate() {
            ids.extend((0..file.classes.len()).map(|c| (f, c)));
        }
        let location_of = |id: &ClassId| {
            files
                .get(id.0)
                .and_then(|f| f.classes.get(id.1))
                .map(|c| c.location.clone())
        };
        ids.sort_by_key(|id| location_of(id));
        crate::timing::count("model classes", ids.len());
        ids
    }

    /// A class's mapping, and its table when it has its own.
    fn decide_class(&mut self, id: ClassId) -> Decided {
        let mapping = self.mapping(id);
        let table = match mapping {
            Mapping::Own => self.class_table(id),
            _ => None,
        };
        (id, mapping, table)
    }

    /// [`Resolver::tables`] over many classes: runs of whole files decided side by side, each
    /// by a resolver of its own over the shared index (what one remembers, another computes
    /// again: the MROs of a few shared bases). `None` when some cycle or depth guard
    /// answered, in a run or afterwards: what a guard answers depends on what was resolved
    /// before, so the caller resolves in one piece, in the order one resolver would.
    fn tables_split(&mut self, ids: &[ClassId]) -> Option<Vec<ModelTable>> {
        use rayon::prelude::*;
        let mut runs: Vec<&[ClassId]> = Vec::new();
        let mut start = 0;
        for end in 1..=ids.len() {
            let boundary = end == ids.len() || ids[end].0 != ids[end - 1].0;
            if boundary && (end - start >= SPLIT_RUN || end == ids.len()) {
                runs.push(&ids[start..end]);
                start = end;
            }
        }
        let shared = &self.shared;
        let parts: Vec<(Vec<Decided>, Vec<Warning>, bool)> = runs
            .par_iter()
            .map(|run| {
                let mut resolver = Resolver::with_shared(Arc::clone(shared));
                let decided = run.iter().map(|&id| resolver.decide_class(id)).collect();
                (decided, resolver.warnings, resolver.guarded)
            })
            .collect();
        if parts.iter().any(|(_, _, guarded)| *guarded) {
            return None;
        }
        let mut decided = Vec::with_capacity(ids.len());
        for (part, warnings, _) in parts {
            decided.extend(part);
            self.warnings.extend(warnings);
        }
        let (tables, _) = self.assemble_tables(decided);
        (!self.guarded).then_some(tables)
    }

    /// The tables of the decided classes (in source order), with each single-table
    /// subclass's columns added to its parent's table and the module-level `Table(…)` calls;
    /// and the locations of the tables not made by one class's decision alone (those parents,
    /// those calls).
    fn assemble_tables(
        &mut self,
        decided: Vec<Decided>,
    ) -> (Vec<ModelTable>, Vec<crate::source::Location>) {
        // Sized ahead: a project's tables are thousands, each a few hundred bytes.
        let mut tables: Vec<ModelTable> = Vec::with_capacity(decided.len());
        let mut table_of: HashMap<ClassId, usize> = HashMap::with_capacity(decided.len());
        let mut singles: Vec<(ClassId, ClassId)> = Vec::new();
        for (id, mapping, table) in decided {
            match mapping {
                Mapping::Own => {
                    if let Some(table) = table {
                        table_of.insert(id, tables.len());
                        tables.push(table);
                    }
                }
                Mapping::Single(owner) => singles.push((id, owner)),
                Mapping::NotMapped | Mapping::External => {}
            }
        }
        let mut assembled = Vec::new();
        for (id, owner) in singles {
            let Some(&index) = table_of.get(&owner) else {
                continue;
            };
            if let Some(table) = tables.get(index) {
                assembled.push(table.location.clone());
            }
            let schema = tables.get(index).and_then(|t| t.schema.clone());
            let columns = self.class_columns(id, schema.as_deref());
            if let Some(table) = tables.get_mut(index) {
                for column in columns {
                    if !table.columns.iter().any(|c| c.name == column.name) {
                        table.columns.push(column);
                    }
                }
            }
        }
        let project = self.files[..self.library_start].to_vec();
        for (f, file) in project.into_iter().enumerate() {
            for table in &file.tables {
                if let Some(t) = self.table_call(f, table) {
                    assembled.push(t.location.clone());
                    tables.push(t);
                }
            }
        }
        // Nearly always in order already (files in order, classes in source order): a sort
        // would still move every table through a fresh buffer.
        if !tables.is_sorted_by(|a, b| a.location <= b.location) {
            tables.sort_by(|a, b| a.location.cmp(&b.location));
        }
        (tables, assembled)
    }

    fn class_table(&mut self, id: ClassId) -> Option<ModelTable> {
        let class = self.class(id)?;
        if let Some(TableAttr::Inline(call)) = &class.table_attr {
            let mut table = self.table_call(id.0, call)?;
            table.class_name = Some(class.name.clone());
            table.location = class.location.clone();
            return Some(table);
        }
        let facts = self.facts(id);
        let name = match self.table_name(id, &facts) {
            Ok(name) => name,
            Err(text) => {
                self.warnings.push(Warning::at(
                    class.location.clone(),
                    format!(
                        "could not read the table name of class `{}` (`{text}`); its columns are not checked",
                        class.name
                    ),
                ));
                return None;
            }
        };
        let schema = match self.class_schema(id, &name) {
            Ok(schema) => schema,
            Err(text) => {
                self.warnings.push(Warning::at(
                    class.location.clone(),
                    format!(
                        "could not read the schema of table `{name}` (`{text}`); it is not checked"
                    ),
                ));
                return None;
            }
        };
        self.warn_unread_bases(id);
        let mut columns = self.class_columns(id, schema.as_deref());
        if let Some(owner) = self.table_args_owner(id)
            && let Some(owner) = self.class(owner)
        {
            apply_primary_key(&mut columns, &owner.table_args_primary_key);
        }
        Some(ModelTable {
            schema,
            name,
            class_name: Some(class.name.clone()),
            location: class.location.clone(),
            columns: columns.into(),
        })
    }

    /// A mapped class with a base driftguard cannot read (a library it does not describe, a
    /// module outside the checked tree): the columns that base adds are not checked. One
    /// warning per class, naming the bases and the setting to use.
    fn warn_unread_bases(&mut self, id: ClassId) {
        let Some(class) = self.class(id) else {
            return;
        };
        let mut unread: Vec<String> = Vec::new();
        for &c in self.mro(id).iter() {
            if self.is_library(c.0) {
                continue;
            }
            for base in self.direct(c).unresolved.iter() {
                if !unread.contains(base) {
                    unread.push(base.clone());
                }
            }
        }
        if unread.is_empty() {
            return;
        }
        let bases: Vec<String> = unread.iter().map(|b| format!("`{b}`")).collect();
        self.warnings.push(Warning::at(
            class.location.clone(),
            format!(
                "class `{}` derives from {}, which driftguard cannot read (a library it does not \
                 describe, or a module outside the checked tree): the columns it adds are not \
                 checked; if it is part of the project, add its folder to `python_roots` in \
                 driftguard.yml",
                class.name,
                bases.join(", ")
            ),
        ));
    }

    fn table_name(&mut self, id: ClassId, facts: &Facts) -> Result<String, String> {
        let class = self.class(id).ok_or_else(String::new)?;
        let spec = match &class.tablename {
            Some(spec) => Some((spec, id)),
            None => self.inherited_tablename(id, false),
        };
        match spec {
            Some((spec, owner)) if spec.value != NameValue::NoName || spec.computed.is_some() => {
                if let Some(computed) = &spec.computed
                    && let Some(name) =
                        self.computed_table_name(id, owner.0, computed, spec.none_when_inherited)
                {
                    return Ok(name);
                }
                self.name_value(owner.0, &spec.value, &class.name)
            }
            _ if facts.sqlmodel => Ok(class.name.to_lowercase()),
            _ if facts.flask => Ok(flask_table_name(&class.name)),
            _ => Err("no __tablename__".to_string()),
        }
    }

    fn name_value(
        &self,
        file: usize,
        value: &NameValue,
        class_name: &str,
    ) -> Result<String, String> {
        match value {
            NameValue::Literal(s) => Ok(s.clone()),
            NameValue::Constant(name) => self.str_value(file, &StrValue::Constant(name.clone())),
            NameValue::FromClass {
                case,
                prefix,
                suffix,
            } => {
                let base = match case {
                    NameCase::Exact => class_name.to_string(),
                    NameCase::Lower => class_name.to_lowercase(),
                    NameCase::Snake => flask_table_name(class_name),
                };
                Ok(format!("{prefix}{base}{suffix}"))
            }
            NameValue::NoName => Err("None".to_string()),
            NameValue::Unknown(text) => Err(text.clone()),
        }
    }

    /// The schema of a class's table: `__table_args__` (its own, else a mixin's or abstract
    /// base's), else the schema of the declarative base's `MetaData`.
    fn class_schema(&mut self, id: ClassId, name: &str) -> Result<Option<String>, String> {
        let owner = self.table_args_owner(id);
        let class = owner.and_then(|c| self.class(c).map(|class| (c, class)));
        match class.and_then(|(c, class)| class.table_args.as_ref().map(|a| (c, a))) {
            Some((c, TableArgs::Computed(computed))) => {
                match self.computed_schema(id, c.0, computed, name)? {
                    Some(schema) => Ok(Some(schema)),
                    None => Ok(self.metadata_schema(id)),
                }
            }
            Some((c, TableArgs::Schema(value))) => self.str_value(c.0, value).map(Some),
            Some((c, TableArgs::Named(name))) => match self.schema_dict(c.0, name) {
                Some(schema) => schema,
                None => Ok(self.metadata_schema(id)),
            },
            Some((_, TableArgs::NoSchema)) | None => Ok(self.metadata_schema(id)),
        }
    }

    /// The class whose `__table_args__` a class's table gets: its own, else the first mixin
    /// or abstract base along the MRO that sets it (a mapped parent's are its own table's).
    fn table_args_owner(&mut self, id: ClassId) -> Option<ClassId> {
        let mro = self.mro(id);
        for (pos, c) in mro.iter().enumerate() {
            if pos > 0 && self.mapping(*c).is_mapped() {
                continue;
            }
            if self
                .class(*c)
                .is_some_and(|class| class.table_args.is_some())
            {
                return Some(*c);
            }
        }
        None
    }

    /// A module-level `TABLE_ARGS = {"schema": …}` by name: `Some(result)`; `None` when the
    /// name is anything else (a tuple of constraints, most likely): no schema.
    fn schema_dict(&self, file: usize, name: &str) -> Option<Result<Option<String>, String>> {
        match self.lookup(file, name)? {
            Found {
                sym: Sym::Value(f, j),
                rest,
            } if rest.is_empty() => match &self.file(f)?.values.get(j)?.kind {
                ValueKind::SchemaDict(value) => Some(self.str_value(f, value).map(Some)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The default schema the hierarchy's `MetaData` gives a class.
    fn metadata_schema(&mut self, id: ClassId) -> Option<String> {
        let mro = self.mro(id);
        // `Base.metadata.schema = …` at module level, on a base class along the MRO.
        for c in mro.iter() {
            if let Some(schema) = self.assigned_metadata_schema(&Sym::Class(*c), false) {
                return Some(schema);
            }
        }
        for c in mro.iter() {
            if let Some(class) = self.class(*c)
                && let Some(metadata) = &class.metadata
            {
                return self.metadata_ref_schema(c.0, metadata, 0);
            }
        }
        for marker in self.markers_in_mro(id) {
            let value = match marker {
                Marker::DeclObj(f, j)
                | Marker::Flask(Some((f, j)))
                | Marker::Registry(Some((f, j))) => (f, j),
                Marker::SqlModel => {
                    let sqlmodel = Sym::External("sqlmodel.SQLModel".to_string());
                    match self.assigned_metadata_schema(&sqlmodel, false) {
                        Some(schema) => return Some(schema),
                        None => continue,
                    }
                }
                _ => continue,
            };
            if let Some(schema) =
                self.assigned_metadata_schema(&Sym::Value(value.0, value.1), false)
            {
                return Some(schema);
            }
            let Some(v) = self.file(value.0).and_then(|x| x.values.get(value.1)) else {
                continue;
            };
            let metadata = match &v.kind {
                ValueKind::DeclarativeBase { metadata, .. }
                | ValueKind::FlaskDb { metadata }
                | ValueKind::Registry { metadata } => metadata,
                _ => continue,
            };
            return metadata
                .as_ref()
                .and_then(|m| self.metadata_ref_schema(value.0, m, 0));
        }
        None
    }

    fn metadata_ref_schema(
        &mut self,
        file: usize,
        metadata: &MetadataRef,
        depth: u32,
    ) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match metadata {
            MetadataRef::Inline(schema) => {
                schema.as_ref().and_then(|s| self.str_value(file, s).ok())
            }
            MetadataRef::Named(name) => {
                let found = self.lookup(file, name)?;
                match found.sym {
                    Sym::Value(f, j) => {
                        let kind = &self.file(f)?.values.get(j)?.kind;
                        match (kind, found.rest.as_str()) {
                            (ValueKind::MetaData { schema }, "") => self
                                .assigned_metadata_schema(&Sym::Value(f, j), true)
                                .or_else(|| {
                                    schema.as_ref().and_then(|s| self.str_value(f, s).ok())
                                }),
                            (ValueKind::Registry { metadata }, "" | "metadata")
                            | (ValueKind::DeclarativeBase { metadata, .. }, "metadata")
                            | (ValueKind::FlaskDb { metadata }, "metadata") => metadata
                                .as_ref()
                                .and_then(|m| self.metadata_ref_schema(f, m, depth + 1)),
                            _ => None,
                        }
                    }
                    Sym::Class(c) if found.rest == "metadata" => self.metadata_schema(c),
                    _ => None,
                }
            }
        }
    }

    /// A `Table(…)` call → its table (class name `None`).
    fn table_call(&mut self, file: usize, table: &'a TableCall) -> Option<ModelTable> {
        let schema = match &table.schema {
            Some(value) => match self.str_value(file, value) {
                Ok(s) => Some(s),
                Err(text) => {
                    self.warnings.push(Warning::at(
                        table.location.clone(),
                        format!(
                            "could not read the schema of table `{}` (`{text}`); it is not checked",
                            table.name
                        ),
                    ));
                    return None;
                }
            },
            None => {
                // `Table("x", metadata, …)`, or Flask's `db.Table("x", …)` with `db`'s metadata.
                let metadata = table.metadata.clone().or_else(|| {
                    let (db, _) = table.function.as_deref()?.rsplit_once('.')?;
                    Some(format!("{db}.metadata"))
                });
                metadata.and_then(|m| self.metadata_ref_schema(file, &MetadataRef::Named(m), 0))
            }
        };
        let mut columns: Vec<ModelColumn> = Vec::new();
        for call in &table.columns {
            if let Some(column) = self.table_column(file, call, schema.as_deref())
                && !columns.iter().any(|c| c.name == column.name)
            {
                columns.push(column);
            }
        }
        apply_primary_key(&mut columns, &table.primary_key);
        Some(ModelTable {
            schema,
            name: table.name.clone(),
            class_name: None,
            location: table.location.clone(),
            columns: columns.into(),
        })
    }

    /// The columns of a mapped class, gathered along its MRO: the nearest definition of an
    /// attribute wins; a mapped ancestor hides every attribute it (and its own ancestors)
    /// define, since those belong to its table. Columns are listed bases first, in the order
    /// the class lists them (a post-order walk of the bases), then the class's own.
    fn class_columns(&mut self, id: ClassId, schema: Option<&str>) -> Vec<ModelColumn> {
        let mro = self.mro(id);
        let sqlmodel = self.facts(id).sqlmodel;
        let order = self.bases_first(id);
        let mut seen: HashSet<&'a str> = HashSet::new();
        let mut found: Vec<(usize, ModelColumn)> = Vec::new();
        for (pos, c) in mro.iter().enumerate() {
            if pos > 0 && self.mapping(*c).is_mapped() {
                for &hidden in self.mro(*c).iter() {
                    if let Some(class) = self.class(hidden) {
                        seen.extend(class.attrs().iter().map(|a| a.name.as_str()));
                    }
                }
                continue;
            }
            let Some(class) = self.class(*c) else {
                continue;
            };
            let rank = order.iter().position(|o| o == c).unwrap_or(usize::MAX);
            for attr in class.attrs() {
                // `default_endpoint: str | None` without a value creates no class attribute:
                // unless it maps a column itself (`Mapped[…]`, a SQLModel field) it hides
                // nothing (Superset's abstract `CoreDataset` before its `BaseDatasource` mixin).
                let annotation_only = attr.kind == AttrKind::Assign && attr.value.is_none();
                if seen.contains(attr.name.as_str()) {
                    continue;
                }
                // `@declared_attr def email(cls): if not cls.allow_emails: return` maps no
                // column on a class that does not allow it.
                let column = if attr.kind == AttrKind::DeclaredAttr
                    && self.declared_attr_returns_none(id, *c, &attr.name)
                {
                    None
                } else {
                    self.attr_column(c.0, attr, sqlmodel, schema)
                };
                if column.is_none() && annotation_only {
                    continue;
                }
                seen.insert(attr.name.as_str());
                if let Some(mut column) = column {
                    // A library's column points at the project's class.
                    if self.is_library(c.0)
                        && let Some(mapped) = self.class(id)
                    {
                        column.location = mapped.location.clone();
                    }
                    found.push((rank, column));
                }
            }
        }
        found.sort_by_key(|(rank, _)| *rank);
        let mut columns: Vec<ModelColumn> = Vec::new();
        for (_, column) in found {
            if !columns.iter().any(|c| c.name == column.name) {
                columns.push(column);
            }
        }
        columns
    }

    /// The class and its ancestors, each after its own bases, bases left to right.
    fn bases_first(&mut self, id: ClassId) -> Vec<ClassId> {
        let mut out = Vec::new();
        let mut stack: Vec<(ClassId, bool)> = vec![(id, false)];
        let mut visited: HashSet<ClassId> = HashSet::new();
        while let Some((c, expanded)) = stack.pop() {
            if expanded {
                out.push(c);
                continue;
            }
            if !visited.insert(c) {
                continue;
            }
            stack.push((c, true));
            for &parent in self.direct(c).parents.iter().rev() {
                if !visited.contains(&parent) {
                    stack.push((parent, false));
                }
            }
        }
        out
    }

    /// The attribute of a class, for column builders that need it.
    pub(super) fn attr<'c>(class: &'c ClassModel, name: &str) -> Option<&'c ClassAttr> {
        class.attrs().iter().find(|a| a.name == name)
    }
}

/// `PrimaryKeyConstraint("a", "b")`: those columns (by name or attribute) are the primary key,
/// and PostgreSQL makes primary key columns NOT NULL.
fn apply_primary_key(columns: &mut [ModelColumn], names: &[String]) {
    for column in columns {
        let named = names
            .iter()
            .any(|n| *n == column.name || column.attribute.as_deref() == Some(n.as_str()));
        if named {
            column.primary_key = true;
            column.nullable = Some(false);
        }
    }
}

/// C3 merge of the parents' linearisations; `None` when there is no consistent order.
fn c3_merge(mut sequences: Vec<Vec<ClassId>>) -> Option<Vec<ClassId>> {
    let mut out = Vec::new();
    loop {
        sequences.retain(|s| !s.is_empty());
        if sequences.is_empty() {
            return Some(out);
        }
        let head = sequences.iter().find_map(|s| {
            let candidate = s[0];
            let in_tail = sequences.iter().any(|t| t[1..].contains(&candidate));
            (!in_tail).then_some(candidate)
        })?;
        out.push(head);
        for s in &mut sequences {
            if s.first() == Some(&head) {
                s.remove(0);
            }
        }
    }
}

/// Flask-SQLAlchemy 3's implicit table name: `UserProfile` → `user_profile`,
/// `HTTPRequest` → `http_request`.
pub fn flask_table_name(class_name: &str) -> String {
    let chars: Vec<char> = class_name.chars().collect();
    let mut out = String::with_capacity(class_name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next = chars.get(i + 1).copied();
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || next.is_some_and(|n| n.is_ascii_lowercase())
            {
                out.push('_');
            }
        }
        out.push(c);
    }
    out.to_lowercase().trim_start_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flask_names() {
        assert_eq!(flask_table_name("UserProfile"), "user_profile");
        assert_eq!(flask_table_name("User"), "user");
        assert_eq!(flask_table_name("HTTPRequest"), "http_request");
        assert_eq!(flask_table_name("OAuth2Token"), "o_auth2_token");
    }

    #[test]
    fn c3_orders_diamonds() {
        // D(B, C), B(A), C(A): D B C A.
        let a = (0, 0);
        let b = (0, 1);
        let c = (0, 2);
        let merged = c3_merge(vec![vec![b, a], vec![c, a], vec![b, c]]);
        assert_eq!(merged, Some(vec![b, c, a]));
        assert_eq!(c3_merge(vec![vec![a, b], vec![b, a]]), None);
    }

    #[test]
    fn the_last_segment_of_a_qualified_name_is_found_without_building_it() {
        let mut chain = String::new();
        // `A0 = A1`, …, `A11 = sa.Column`: deeper than qualifying follows.
        for k in 0..12 {
            chain.push_str(&format!("A{k} = A{}\n", k + 1));
        }
        chain.push_str("A12 = sa.Column\n");
        let source = format!(
            "import sqlalchemy as sa\nfrom sqlalchemy import Enum as SAEnum, orm\nfrom . import helpers\nMyCol = sa.Column\nMine = MyCol\nSelf = Self\nLoop1 = Loop2\nLoop2 = Loop1\n{chain}"
        );
        let file = crate::source::SourceFile::new("app/models.py", &source);
        let models = super::super::extract_file(&file);
        let files = [&models];
        let resolver = Resolver::new(&files, &[], &ResolveOptions::default());
        for name in [
            "SAEnum",
            "sa.Column",
            "sa.types.String",
            "MyCol",
            "Mine",
            "orm.mapped_column",
            "helpers.pk_column",
            "Self",
            "Loop1",
            "A0",
            "A3",
            "A11",
            "Unknown",
            "Unknown.attr",
            "a.",
            ".b",
            "",
        ] {
            let qualified = resolver.qualify(0, name);
            let expected = qualified.rsplit('.').next().unwrap_or(&qualified);
            assert_eq!(
                resolver.qualified_last(0, name),
                expected,
                "{name}: {qualified}"
            );
        }
        assert_eq!(resolver.qualified_last(0, "Mine"), "Column");
        assert_eq!(resolver.qualified_last(0, "SAEnum"), "Enum");
    }

    /// `count` model files of 30 classes each over shared mixins and bases: single-table
    /// subclasses of the previous file's classes, foreign keys into it, abstract classes, a
    /// `@declared_attr` mixin and a table name that cannot be read (a warning).
    fn many_classes(count: usize) -> Vec<crate::source::SourceFile> {
        let mut files = vec![crate::source::SourceFile::new(
            "app/models/base.py",
            "from datetime import datetime\nfrom sqlalchemy import DateTime, String\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column\n\nclass Base(DeclarativeBase):\n    pass\n\nclass Stamped:\n    created_at: Mapped[datetime] = mapped_column(DateTime)\n\nclass Named:\n    @declared_attr\n    def name(cls) -> Mapped[str]:\n        return mapped_column(String(40))\n",
        )];
        for k in 0..count {
            let mut text = String::from(
                "from typing import Optional\nfrom sqlalchemy import ForeignKey, String\nfrom sqlalchemy.orm import Mapped, mapped_column\nfrom .base import Base, Named, Stamped\n",
            );
            if k > 0 {
                text.push_str(&format!(
                    "from .m{} import Model{}_0, Model{}_1\n",
                    k - 1,
                    k - 1,
                    k - 1
                ));
            }
            for i in 0..30 {
                match i {
                    0 if k > 0 => text.push_str(&format!(
                        "\nclass Model{k}_0(Model{}_1):\n    extra_{k}: Mapped[Optional[str]] = mapped_column(String(10))\n",
                        k - 1
                    )),
                    1 => text.push_str(&format!(
                        "\nclass Abstract{k}(Base):\n    __abstract__ = True\n    note: Mapped[Optional[str]]\n\nclass Model{k}_1(Abstract{k}, Named):\n    __tablename__ = \"named_{k}\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                    )),
                    2 => text.push_str(&format!(
                        "\nclass Model{k}_2(Base):\n    __tablename__ = compute_{k}()\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                    )),
                    _ => {
                        text.push_str(&format!(
                            "\nclass Model{k}_{i}(Stamped, Base):\n    __tablename__ = \"t{k}_{i}\"\n    __table_args__ = {{\"schema\": \"s{}\"}}\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
                            i % 3
                        ));
                        if k > 0 {
                            text.push_str(&format!(
                                "    parent_id: Mapped[int] = mapped_column(ForeignKey(Model{}_0.id))\n",
                                k - 1
                            ));
                        }
                    }
                }
            }
            files.push(crate::source::SourceFile::new(
                format!("app/models/m{k}.py"),
                &text,
            ));
        }
        files
    }

    /// The tables and sorted warnings of `files`, resolved with the split from `split_from`
    /// classes; and whether the split kept its answer.
    fn resolved(
        files: &[crate::source::SourceFile],
        split_from: usize,
    ) -> (Vec<ModelTable>, Vec<Warning>, bool) {
        let models: Vec<FileModels> = files.iter().map(super::super::extract_file).collect();
        let refs: Vec<&FileModels> = models.iter().collect();
        let mut resolver = Resolver::new(&refs, &[], &ResolveOptions::default());
        let tables = resolver.tables_from(split_from);
        let mut warnings = resolver.warnings;
        warnings.sort();
        warnings.dedup();
        let mut fresh = Resolver::new(&refs, &[], &ResolveOptions::default());
        let mut ids: Vec<ClassId> = Vec::new();
        for (f, file) in refs.iter().enumerate() {
            ids.extend((0..file.classes.len()).map(|c| (f, c)));
        }
        let kept = fresh.tables_split(&ids).is_some();
        (tables, warnings, kept)
    }

    #[test]
    fn classes_resolved_side_by_side_give_what_one_resolver_gives() {
        let files = many_classes(24);
        let (one, one_warnings, _) = resolved(&files, usize::MAX);
        let (split, split_warnings, kept) = resolved(&files, 0);
        assert!(kept, "no guard answers here: the split keeps its answer");
        assert_eq!(one.len(), 29 + 23 * 28, "{one:#?}");
        assert_eq!(split, one);
        assert_eq!(split_warnings, one_warnings);
        assert_eq!(one_warnings.len(), 24, "{one_warnings:#?}");
        // A single-table subclass in the next file adds its column to its parent's table.
        let named_0 = one.iter().find(|t| t.name == "named_0").expect("named_0");
        assert!(
            named_0.columns.iter().any(|c| c.name == "extra_1"),
            "{named_0:#?}"
        );
        assert!(
            named_0.columns.iter().any(|c| c.name == "name"),
            "{named_0:#?}"
        );
    }

    #[test]
    fn a_cycle_of_bases_across_runs_is_resolved_in_one_piece() {
        let mut files = many_classes(24);
        files.push(crate::source::SourceFile::new(
            "app/models/a.py",
            "from .b import B\nfrom .base import Base\n\nclass A(B, Base):\n    __tablename__ = \"a\"\n",
        ));
        files.push(crate::source::SourceFile::new(
            "app/models/b.py",
            "from .a import A\nfrom .base import Base\n\nclass B(A, Base):\n    __tablename__ = \"b\"\n",
        ));
        let (one, one_warnings, _) = resolved(&files, usize::MAX);
        let (split, split_warnings, kept) = resolved(&files, 0);
        assert!(!kept, "a guard answered: the split gives its answer up");
        assert_eq!(split, one);
        assert_eq!(split_warnings, one_warnings);
    }
}
