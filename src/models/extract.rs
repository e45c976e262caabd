//! One Python file → [`FileModels`], the plain per-file form the project pass reads.
//!
//! Nothing here decides whether a class is a mapped table: that needs the other files (a base
//! class or a mixin may live anywhere). This step only records, per file, what a decision can
//! need later — imports with relative ones made absolute, module-level declarative bases,
//! `SQLAlchemy()`/`registry()`/`MetaData()` objects, string constants, `Annotated[…]` aliases,
//! `Table(…)` calls, and for every module-level class its bases, decorators, the special
//! attributes (`__tablename__`, `__table_args__`, `__abstract__`, `__table__`, `metadata`) and
//! its other class-level statements as written. Statements inside functions are never read, so
//! a `Column(…)` built in a helper or a test fixture is not a model.
//!
//! The result holds [`Expr`] values, not tree-sitter nodes, so it can be cached by blob id.

use crate::finding::Warning;
use crate::lazy::Lazy;
use crate::pyast::{self, Call, ClassDef, Expr, FunctionDef, Stmt};
use crate::pyeval::modules;
use crate::pyeval::modules::ModuleSummary;
pub use crate::pyeval::modules::module_of_path;
pub use crate::pyeval::modules::{ImportBinding, StarImport};
use crate::source::{Location, SourceFile};

/// A cheap byte prefilter for model files: true when the file mentions one of the libraries or
/// one of the constructs that map tables. One pass over the bytes, no allocation.
pub fn is_candidate(bytes: &[u8]) -> bool {
    // `flask_sqlalchemy` contains `sqlalchemy`.
    const NEEDLES: &[&[u8]] = &[
        b"sqlalchemy",
        b"sqlmodel",
        b"Column(",
        b"mapped_column(",
        b"Mapped[",
        b"Table(",
        b"db.Model",
        b"__tablename__",
        // An abstract declarative base in a file of its own that imports the base from
        // elsewhere (Superset's `superset_core.common.models.CoreModel(Model)`).
        b"__abstract__",
    ];
    let mut i = 0;
    while i < bytes.len() {
        let first = bytes[i];
        if matches!(first, b's' | b'C' | b'm' | b'M' | b'T' | b'd' | b'_') {
            let rest = &bytes[i..];
            if NEEDLES.iter().any(|n| rest.starts_with(n)) {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// What one file declares, as far as models are concerned.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Default)]
pub struct FileModels {
    /// Repository-relative path with `/` separators.
    pub path: String,
    pub imports: Vec<ImportBinding>,
    /// `from m import *`: the modules, absolute (see [`ImportBinding::rooted`]).
    pub star_imports: Vec<StarImport>,
    /// Module-level classes (also inside module-level `if`/`try` blocks), in file order.
    #[serde(with = "crate::cache::compact_list")]
    pub classes: Vec<ClassModel>,
    /// Module-level `Table("name", metadata, Column(…), …)` calls, assigned or not.
    pub tables: Vec<TableCall>,
    /// Module-level `name = Annotated[T, mapped_column(…)]` aliases.
    pub aliases: Vec<TypeAlias>,
    /// Other module-level assignments that matter: bases, `db`, registries, metadata, strings.
    pub values: Vec<ModuleValue>,
    /// Syntax errors (one warning, at the first error).
    pub warnings: Vec<Warning>,
    /// `# driftguard: ignore[…]` comments.
    pub ignores: Vec<crate::suppress::PyIgnore>,
    /// `X.metadata.schema = …` / `metadata.schema = …` at module level: the default schema
    /// set on a base's (or a `MetaData` object's) metadata after it was made.
    #[serde(default)]
    pub metadata_schemas: Vec<MetadataSchema>,
    /// What the file offers to the evaluator: its constants, functions, classes and imports,
    /// for computed table names and schemas here or in files that import it.
    #[serde(default)]
    pub summary: ModuleSummary,
    /// A digest of each class's text, in the order of `classes` ([`class_digests`]); empty
    /// when the file has a syntax error. A kept resolution compares them to take the
    /// decisions of a changed file's unchanged classes ([`super::resolve::kept`]).
    #[serde(default)]
    pub class_digests: Vec<u64>,
}

/// `SQLModel.metadata.schema = "app"` (`target` is `SQLModel`), or `metadata.schema = …`
/// (`target` is `metadata`, `direct`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetadataSchema {
    /// The dotted name before `.metadata.schema` (or before `.schema`).
    pub target: String,
    /// `target.schema = …`: the target is a `MetaData` object itself.
    pub direct: bool,
    pub schema: StrValue,
    pub location: Location,
}

/// A model class as the parse pack holds it ([`crate::cache::CompactParts`]): its flags and
/// which optional parts it has in one number, then those parts. A new edit decodes every model
/// file's classes (5,000 at 5,000 models, for the names the resolution looks up); field by
/// field (16, most of them empty, absent or `false`) that was most of a class's decoding.
mod compact_classes {
    use serde::de::{Error, SeqAccess};
    use serde::ser::SerializeTuple;

    use super::ClassModel;
    use crate::cache::{CompactParts, flags, next_part, optional_part};

    const BASES: u16 = 1;
    const KEYWORDS: u16 = 1 << 1;
    const METACLASS: u16 = 1 << 2;
    const TABLE_KEYWORD: u16 = 1 << 3;
    const TABLE_KEYWORD_TRUE: u16 = 1 << 4;
    const DECORATORS: u16 = 1 << 5;
    const ABSTRACT: u16 = 1 << 6;
    const TABLENAME: u16 = 1 << 7;
    const TABLE_ARGS: u16 = 1 << 8;
    const TABLE_ARGS_PRIMARY_KEY: u16 = 1 << 9;
    const TABLE_ATTR: u16 = 1 << 10;
    const METADATA: u16 = 1 << 11;
    const COLUMN_HELPERS: u16 = 1 << 12;
    const ENUM_MEMBERS: u16 = 1 << 13;
    /// The flags of the parts that are written (the others are values in the flags).
    const WRITTEN: u16 = BASES
        | KEYWORDS
        | METACLASS
        | DECORATORS
        | TABLENAME
        | TABLE_ARGS
        | TABLE_ARGS_PRIMARY_KEY
        | TABLE_ATTR
        | METADATA
        | ENUM_MEMBERS;

    impl CompactParts for ClassModel {
        const WHAT: &'static str = "a class";
        /// Flags, name, the ten optional parts, attributes, location.
        const MOST_PARTS: usize = 14;

        fn part_count(&self) -> usize {
            4 + (self.flags() & WRITTEN).count_ones() as usize
        }

        fn write_parts<S: SerializeTuple>(&self, out: &mut S) -> Result<(), S::Error> {
            out.serialize_element(&self.flags())?;
            out.serialize_element(&self.name)?;
            if !self.bases.is_empty() {
                out.serialize_element(&self.bases)?;
            }
            if !self.keywords.is_empty() {
                out.serialize_element(&self.keywords)?;
            }
            if let Some(metaclass) = &self.metaclass {
                out.serialize_element(metaclass)?;
            }
            if !self.decorators.is_empty() {
                out.serialize_element(&self.decorators)?;
            }
            if let Some(tablename) = &self.tablename {
                out.serialize_element(tablename)?;
            }
            if let Some(table_args) = &self.table_args {
                out.serialize_element(table_args)?;
            }
            if !self.table_args_primary_key.is_empty() {
                out.serialize_element(&self.table_args_primary_key)?;
            }
            if let Some(table_attr) = &self.table_attr {
                out.serialize_element(table_attr)?;
            }
            if let Some(metadata) = &self.metadata {
                out.serialize_element(metadata)?;
            }
            if let Some(members) = &self.enum_members {
                out.serialize_element(members)?;
            }
            out.serialize_element(&self.attrs)?;
            out.serialize_element(&self.location)
        }

        fn read_parts<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error> {
            const WHAT: &str = ClassModel::WHAT;
            let flags: u16 = next_part(seq, WHAT)?;
            if flags >> 14 != 0 {
                return Err(A::Error::custom("unknown class flags"));
            }
            let on = |flag: u16| flags & flag != 0;
            Ok(ClassModel {
                name: next_part(seq, WHAT)?,
                bases: optional_part(seq, on(BASES), WHAT)?.unwrap_or_default(),
                keywords: optional_part(seq, on(KEYWORDS), WHAT)?.unwrap_or_default(),
                metaclass: optional_part(seq, on(METACLASS), WHAT)?,
                decorators: optional_part(seq, on(DECORATORS), WHAT)?.unwrap_or_default(),
                tablename: optional_part(seq, on(TABLENAME), WHAT)?,
                table_args: optional_part(seq, on(TABLE_ARGS), WHAT)?,
                table_args_primary_key: optional_part(seq, on(TABLE_ARGS_PRIMARY_KEY), WHAT)?
                    .unwrap_or_default(),
                table_attr: optional_part(seq, on(TABLE_ATTR), WHAT)?,
                metadata: optional_part(seq, on(METADATA), WHAT)?,
                enum_members: optional_part(seq, on(ENUM_MEMBERS), WHAT)?,
                attrs: next_part(seq, WHAT)?,
                location: next_part(seq, WHAT)?,
                table_keyword: on(TABLE_KEYWORD).then_some(on(TABLE_KEYWORD_TRUE)),
                is_abstract: on(ABSTRACT),
                column_helpers: on(COLUMN_HELPERS),
            })
        }
    }

    impl ClassModel {
        fn flags(&self) -> u16 {
            flags([
                (!self.bases.is_empty(), BASES),
                (!self.keywords.is_empty(), KEYWORDS),
                (self.metaclass.is_some(), METACLASS),
                (self.table_keyword.is_some(), TABLE_KEYWORD),
                (self.table_keyword == Some(true), TABLE_KEYWORD_TRUE),
                (!self.decorators.is_empty(), DECORATORS),
                (self.is_abstract, ABSTRACT),
                (self.tablename.is_some(), TABLENAME),
                (self.table_args.is_some(), TABLE_ARGS),
                (
                    !self.table_args_primary_key.is_empty(),
                    TABLE_ARGS_PRIMARY_KEY,
                ),
                (self.table_attr.is_some(), TABLE_ATTR),
                (self.metadata.is_some(), METADATA),
                (self.column_helpers, COLUMN_HELPERS),
                (self.enum_members.is_some(), ENUM_MEMBERS),
            ])
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::{FileModels, extract_file};
        use crate::source::{Direction, SourceFile, with_shared_paths};

        const SOURCE: &str = r#"
import enum
from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlmodel import Field, SQLModel

class Base(DeclarativeBase):
    pass

class Status(enum.Enum):
    NEW = "new"
    DONE = "done"

class Mixin:
    __abstract__ = True
    created: Mapped[str] = mapped_column(String(20))

@some.decorator
class Customer(Base, Mixin, metaclass=Meta):
    __tablename__ = "customers"
    __table_args__ = (PrimaryKeyConstraint("id", "tenant"), {"schema": "core"})
    metadata = MetaData(schema="core")
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[int] = mapped_column(Integer)

class Hero(SQLModel, table=True):
    id: int = Field(primary_key=True)

class NotATable(SQLModel, table=False):
    name: str

orders = Table("orders", MetaData(), Column("id", Integer))

class Order(Base):
    __table__ = orders

class Named(Base):
    @declared_attr
    def __tablename__(cls):
        return cls.__name__.lower()
    id: Mapped[int] = mapped_column(primary_key=True)
"#;

        #[test]
        fn a_files_compact_classes_round_trip_in_the_pack_and_in_json() {
            let models = extract_file(&SourceFile::new("app/models.py", SOURCE));
            assert!(models.classes.len() >= 8, "{:?}", models.classes.len());
            let bytes = with_shared_paths(Direction::Encode, || postcard::to_allocvec(&models))
                .expect("encode");
            let back: FileModels = with_shared_paths(Direction::Decode, || {
                postcard::from_bytes(&bytes).expect("decode")
            });
            assert_eq!(back.classes, models.classes);
            let customer = back.classes.iter().find(|c| c.name == "Customer");
            assert!(customer.is_some_and(|c| c.metaclass.is_some()
                && !c.decorators.is_empty()
                && c.table_args.is_some()
                && !c.table_args_primary_key.is_empty()
                && c.metadata.is_some()
                && c.attrs().len() == 2));
            let hero = back.classes.iter().find(|c| c.name == "Hero");
            assert_eq!(hero.and_then(|c| c.table_keyword), Some(true));
            let plain = back.classes.iter().find(|c| c.name == "NotATable");
            assert_eq!(plain.and_then(|c| c.table_keyword), Some(false));
            assert!(back.classes.iter().any(|c| c.enum_members.is_some()));
            assert!(back.classes.iter().any(|c| c.is_abstract));
            assert!(back.classes.iter().any(|c| c.table_attr.is_some()));
            // Cut short: an error, not a class with parts missing.
            let cut = with_shared_paths(Direction::Decode, || {
                postcard::from_bytes::<FileModels>(&bytes[..bytes.len() / 2])
            });
            assert!(cut.is_err());
            let json = serde_json::to_string(&models).expect("json");
            assert!(json.contains(r#""table_keyword":true"#));
            let from_json: FileModels = serde_json::from_str(&json).expect("back");
            assert_eq!(from_json.classes, models.classes);
        }
    }
}

/// A module-level class.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassModel {
    pub name: String,
    /// Bases that are dotted names, as written (`Base`, `db.Model`, `orm.DeclarativeBase`).
    /// `Generic[T]` and other subscripted bases keep their value's name.
    pub bases: Vec<String>,
    /// Every class keyword as written (`table=True`, `metaclass=M`).
    pub keywords: Vec<(String, Expr)>,
    /// `metaclass=` as a dotted name.
    pub metaclass: Option<String>,
    /// SQLModel's `table=True` keyword.
    pub table_keyword: Option<bool>,
    /// Decorators as dotted names (`mapper_registry.mapped`; a call keeps its function name).
    pub decorators: Vec<String>,
    /// `__abstract__ = True`.
    pub is_abstract: bool,
    /// `__tablename__`, as an assignment or a `@declared_attr`.
    pub tablename: Option<TableNameSpec>,
    /// `__table_args__`, as far as the schema goes.
    pub table_args: Option<TableArgs>,
    /// The columns a `PrimaryKeyConstraint("a", "b")` in `__table_args__` names.
    pub table_args_primary_key: Vec<String>,
    /// `__table__ = Table(…)` or `__table__ = some_table`.
    pub table_attr: Option<TableAttr>,
    /// `metadata = MetaData(schema=…)` / `metadata = some_metadata` in the class body.
    pub metadata: Option<MetadataRef>,
    /// Every other class-level attribute, method and nested class, in order ([`ClassModel::attrs`]):
    /// kept encoded in the parse pack until the resolution asks for them (a new edit decides
    /// again only the classes it can reach; the others' attributes are never decoded).
    pub attrs: Lazy<Vec<ClassAttr>>,
    /// Some attribute is a SQLModel field whose `sa_column=` calls a project helper
    /// ([`super::computed::expand_column_helpers`]), told without decoding the attributes.
    pub column_helpers: bool,
    /// For classes whose bases look like `enum.Enum`: the members in order.
    pub enum_members: Option<Vec<EnumMember>>,
    /// The `class` line.
    pub location: Location,
}

impl ClassModel {
    /// Every other class-level attribute, method and nested class, in order (none when a
    /// damaged cache file would not decode them).
    pub fn attrs(&self) -> &[ClassAttr] {
        self.attrs.get().map_or(&[], Vec::as_slice)
    }
}

/// How a class names its table.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableNameSpec {
    pub value: NameValue,
    /// Declared with `@declared_attr`: it is evaluated for every subclass.
    pub declared_attr: bool,
    /// The `@declared_attr` returns `None` when `has_inherited_table(cls)` (single-table
    /// inheritance for subclasses of a mapped class).
    pub none_when_inherited: bool,
    /// The code that computes the name when it is not a literal, for the evaluator.
    #[serde(default)]
    pub computed: Option<Computed>,
}

/// Code the project pass evaluates ([`crate::pyeval`]) in the file that holds it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Computed {
    /// A `@declared_attr` method: called with the mapped class as `cls`.
    Function(Box<FunctionDef>),
    /// An assigned expression (`__tablename__ = f"{PREFIX}_users"`).
    Expr(Box<Expr>),
}

/// A table name as written.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum NameValue {
    Literal(String),
    /// A module-level name (`__tablename__ = TABLE_NAME`), resolved in the project pass.
    Constant(String),
    /// Computed from the class name: `cls.__name__.lower()`, optionally with a literal prefix
    /// or suffix (`cls.__name__.lower() + "s"`).
    FromClass {
        case: NameCase,
        prefix: String,
        suffix: String,
    },
    /// `__tablename__ = None`.
    NoName,
    /// Anything else, as source text.
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, Eq)]
pub enum NameCase {
    Exact,
    Lower,
    /// A snake-case helper applied to the class name (`camel_to_snake(cls.__name__)`).
    Snake,
}

/// A string that may be a literal or a module-level constant.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StrValue {
    Literal(String),
    Constant(String),
    Unknown(String),
    /// Any other expression (an f-string, a call, `settings.SCHEMA`): evaluated in the project
    /// pass.
    Computed(Box<Expr>),
}

/// What `__table_args__` says about the schema.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TableArgs {
    /// A dict (or a tuple ending in one) with a `"schema"` key.
    Schema(StrValue),
    /// A dict or tuple without a schema.
    NoSchema,
    /// A module-level name (`__table_args__ = TABLE_ARGS`), resolved in the project pass.
    Named(String),
    /// Built by code (`auto_table_args(cls, schema="rb")`, `{**BASE_ARGS}`): evaluated in the
    /// project pass.
    Computed(Computed),
}

/// `__table__ = …`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TableAttr {
    Inline(Box<TableCall>),
    /// A module-level `Table` object by name: the table is reported there, once.
    Named(String),
    Other,
}

/// Where a declarative base or a `Table` gets its `MetaData`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MetadataRef {
    /// `MetaData(schema=…)` written in place.
    Inline(Option<StrValue>),
    /// A name: a `MetaData` object, a registry, or `Base.metadata` / `db.metadata`.
    Named(String),
}

/// A class-level statement other than the special attributes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassAttr {
    pub name: String,
    pub kind: AttrKind,
    /// The annotation; for a `@declared_attr` method, its return annotation.
    pub annotation: Option<Expr>,
    /// The assigned value; for a `@declared_attr` method, the value it returns.
    pub value: Option<Expr>,
    /// The statement start (the `def` for a method).
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, Eq)]
pub enum AttrKind {
    Assign,
    /// A `@declared_attr` method (not a `.directive`).
    DeclaredAttr,
    /// Any other method, property or nested class: never a column, but it hides an inherited
    /// column of the same name.
    Other,
}

pub use crate::sqlalchemy::enums::{EnumMember, EnumValue};

/// A `Table("name", metadata, Column(…), …, schema=…)` call.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableCall {
    /// The module-level name it is assigned to.
    pub assigned_to: Option<String>,
    pub name: String,
    /// The metadata argument, when it is a dotted name.
    pub metadata: Option<String>,
    /// The called name (`sa.Table`, `db.Table`): Flask's `db.Table` takes `db`'s metadata.
    pub function: Option<String>,
    pub schema: Option<StrValue>,
    /// The `Column(…)` arguments in order.
    pub columns: Vec<Call>,
    /// The columns a `PrimaryKeyConstraint("a", "b")` argument names.
    pub primary_key: Vec<String>,
    /// The `Table(` call.
    pub location: Location,
}

/// `str50 = Annotated[str, mapped_column(String(50))]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TypeAlias {
    pub name: String,
    /// The Python type (`str`, `Optional[int]`).
    pub python_type: Expr,
    /// The `mapped_column(…)` (or SQLModel `Field(…)`) among the metadata, if any.
    pub column: Option<Call>,
    pub location: Location,
}

/// A module-level assignment that can matter to the project pass.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModuleValue {
    pub name: String,
    pub kind: ValueKind,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ValueKind {
    /// `declarative_base(…)`, `registry(…).generate_base()`, `reg.generate_base()`.
    DeclarativeBase {
        metadata: Option<MetadataRef>,
        /// `declarative_base(cls=Mixin)`: the mixin class name.
        mixin: Option<String>,
    },
    /// Flask-SQLAlchemy's `db = SQLAlchemy(…)`.
    FlaskDb {
        metadata: Option<MetadataRef>,
    },
    /// `registry(metadata=…)`.
    Registry {
        metadata: Option<MetadataRef>,
    },
    MetaData {
        schema: Option<StrValue>,
    },
    /// A string constant (`SCHEMA = "core"`).
    Str(String),
    /// A dict literal with a `"schema"` key (`TABLE_ARGS = {"schema": "core"}`).
    SchemaDict(StrValue),
    /// Another dotted name (`Base = db.Model`, `Column = sa.Column`).
    Alias(String),
}

/// The message of the syntax-error warning.
pub const SYNTAX_ERROR_MESSAGE: &str =
    "Python syntax error; the rest of this file is still checked";

/// Reads one Python file into its per-file form. Never fails.
pub fn extract_file(file: &SourceFile) -> FileModels {
    let module = pyast::parse(file);
    let mut out = extract_module(file, &module);
    // Copied: what a parse allocates holds room to spare, and a first check reads thousands
    // of files (taking them kept 34 MB more at 5,000 models).
    out.summary = ModuleSummary::new(&file.path, &module);
    out
}

/// [`extract_file`], parsing the file with what an earlier parse kept
/// ([`pyast::parse_reusing`]); and what to keep for the next (`None`: nothing new).
pub fn extract_file_reusing(
    file: &SourceFile,
    previous: Option<&[u8]>,
) -> (FileModels, Option<Vec<u8>>) {
    let (module, keep) = pyast::parse_reusing(file, previous);
    let mut out = extract_module(file, &module);
    // Taken, not copied: this is the parse of a file a change touches, which a check waits
    // for (copying the classes of one such file of 25 was ~0.1 ms of it).
    out.summary = ModuleSummary::from_module(&file.path, module);
    (out, keep)
}

/// The models of `file`, parsed as `module`, but for its summary ([`FileModels::summary`]).
fn extract_module(file: &SourceFile, module: &pyast::PyModule) -> FileModels {
    let mut out = FileModels {
        path: file.path.clone(),
        ..FileModels::default()
    };
    if let Some(error) = &module.syntax_error {
        let message = match &error.detail {
            Some(_) => format!(
                "{}; the rest of this file is still checked",
                error.describe()
            ),
            None => SYNTAX_ERROR_MESSAGE.to_string(),
        };
        out.warnings
            .push(Warning::at(error.location.clone(), message));
    }
    if let Some(at) = &module.too_deep {
        out.warnings
            .push(Warning::at(at.clone(), pyast::too_deep_message()));
    }
    out.ignores = crate::suppress::python_ignores(&file.path, &module.comments);
    let package = modules::package_of(&file.path);
    for import in module.imports() {
        add_import(import, &package, &mut out);
    }
    let mut classes = Vec::new();
    module_body(&module.body, &mut out, &mut classes);
    // Each class is read alone (with the file's imports): many are split between threads.
    let imports = &out.imports;
    out.classes = if classes.len() >= pyast::PARALLEL_FROM {
        use rayon::prelude::*;
        classes
            .par_iter()
            .map(|class| class_model(class, imports))
            .collect()
    } else {
        classes
            .iter()
            .map(|class| class_model(class, imports))
            .collect()
    };
    if module.syntax_error.is_none() && module.too_deep.is_none() {
        out.class_digests = class_digests(file, &out.classes);
    }
    out
}

/// A digest of each class's text: the lines from the previous class's `class` line (the
/// file's first line for the first class) up to the next one's (or the end), with where they
/// start. A class's model is read from its own lines (decorators included, which stand after
/// the previous class) and the file's imports alone ([`class_model`]), so two classes with
/// the same digest in files with the same imports have the same model. An edit of one class
/// changes its digest and the next class's, and those of the classes whose lines it moves.
fn class_digests(file: &SourceFile, classes: &[ClassModel]) -> Vec<u64> {
    use std::hash::{BuildHasher, Hash, Hasher};
    let state = foldhash::quality::FixedState::with_seed(0x5eed_c1a5);
    let lines: Vec<u32> = classes.iter().map(|c| c.location.line).collect();
    (0..lines.len())
        .map(|k| {
            let from = if k == 0 { 1 } else { lines[k - 1] };
            let start = file.line_start(from).min(file.text.len());
            let end = lines
                .get(k + 1)
                .map_or(file.text.len(), |&next| file.line_start(next))
                .clamp(start, file.text.len());
            let mut hasher = state.build_hasher();
            (from, lines[k], classes[k].location.column).hash(&mut hasher);
            file.text.as_bytes()[start..end].hash(&mut hasher);
            hasher.finish()
        })
        .collect()
}

fn add_import(import: &pyast::Import, package: &[String], out: &mut FileModels) {
    let (bindings, star) = modules::import_bindings(import, package);
    out.imports.extend(bindings);
    out.star_imports.extend(star);
}

/// Reads the module-level statements of `body` into `out`, and gathers its classes, in file
/// order, into `classes` (read by the caller).
fn module_body<'a>(body: &'a [Stmt], out: &mut FileModels, classes: &mut Vec<&'a ClassDef>) {
    for stmt in body {
        match stmt {
            Stmt::Class(class) => classes.push(class),
            Stmt::Assign {
                targets,
                value: Some(value),
                location,
                ..
            } => {
                if let [Expr::Name(target)] = targets.as_slice()
                    && let Some(assign) = metadata_schema(target, value, location)
                {
                    out.metadata_schemas.push(assign);
                    continue;
                }
                let name = match targets.as_slice() {
                    [Expr::Name(name)] if !name.contains('.') => Some(name.as_str()),
                    _ => None,
                };
                module_assign(name, value, location, out);
            }
            Stmt::Expr { value, location } => module_assign(None, value, location, out),
            Stmt::Block { body, .. } => module_body(body, out, classes),
            _ => {}
        }
    }
}

/// `SQLModel.metadata.schema = "app"`, `Base.metadata.schema = SCHEMA`,
/// `metadata.schema = "app"`.
fn metadata_schema(target: &str, value: &Expr, location: &Location) -> Option<MetadataSchema> {
    let before = target.strip_suffix(".schema")?;
    let (target, direct) = match before.strip_suffix(".metadata") {
        Some(owner) => (owner, false),
        None => (before, true),
    };
    Some(MetadataSchema {
        target: target.to_string(),
        direct,
        schema: str_value(value)?,
        location: location.clone(),
    })
}

fn module_assign(name: Option<&str>, value: &Expr, location: &Location, out: &mut FileModels) {
    if let Some(call) = value.as_call()
        && let Some(table) = table_call(call, name)
    {
        out.tables.push(table);
        return;
    }
    let Some(name) = name else {
        return;
    };
    if let Some((python_type, column)) = annotated(value) {
        out.aliases.push(TypeAlias {
            name: name.to_string(),
            python_type: python_type.clone(),
            column: column.cloned(),
            location: location.clone(),
        });
        return;
    }
    let kind = match value {
        Expr::Call(call) => call_value(call),
        Expr::Name(target) => Some(ValueKind::Alias(target.clone())),
        Expr::Dict(_) => dict_schema(value).map(ValueKind::SchemaDict),
        _ => const_str(value).map(ValueKind::Str),
    };
    if let Some(kind) = kind {
        out.values.push(ModuleValue {
            name: name.to_string(),
            kind,
            location: location.clone(),
        });
    }
}

/// The kind of a module-level `name = call(…)` that matters, if any.
fn call_value(call: &Call) -> Option<ValueKind> {
    let func_last = callee_last(call)?;
    match func_last {
        "declarative_base" => Some(ValueKind::DeclarativeBase {
            metadata: call.kwarg("metadata").and_then(metadata_ref),
            mixin: call
                .kwarg("cls")
                .and_then(Expr::as_name)
                .map(str::to_string),
        }),
        "generate_base" => {
            // `reg.generate_base()` or `registry(metadata=…).generate_base()`.
            let metadata = match &call.func {
                Expr::Name(name) => name
                    .rsplit_once('.')
                    .map(|(registry, _)| MetadataRef::Named(registry.to_string())),
                Expr::Attribute { value, .. } => value
                    .as_call()
                    .and_then(|registry| registry.kwarg("metadata"))
                    .and_then(metadata_ref),
                _ => None,
            };
            Some(ValueKind::DeclarativeBase {
                metadata,
                mixin: call
                    .kwarg("cls")
                    .and_then(Expr::as_name)
                    .map(str::to_string),
            })
        }
        "SQLAlchemy" => Some(ValueKind::FlaskDb {
            metadata: call.kwarg("metadata").and_then(metadata_ref),
        }),
        "registry" => Some(ValueKind::Registry {
            metadata: call.kwarg("metadata").and_then(metadata_ref),
        }),
        "MetaData" => Some(ValueKind::MetaData {
            schema: call.kwarg("schema").and_then(str_value),
        }),
        _ => None,
    }
}

/// The last segment of the called name (`sa.Column` → `Column`), or the attribute of a call
/// on an expression (`registry().generate_base` → `generate_base`).
pub(crate) fn callee_last(call: &Call) -> Option<&str> {
    match &call.func {
        Expr::Name(name) => Some(name.rsplit('.').next().unwrap_or(name)),
        Expr::Attribute { attr, .. } => Some(attr),
        _ => None,
    }
}

fn metadata_ref(expr: &Expr) -> Option<MetadataRef> {
    match expr {
        Expr::Call(call) if callee_last(call) == Some("MetaData") => Some(MetadataRef::Inline(
            call.kwarg("schema").and_then(str_value),
        )),
        Expr::Name(name) => Some(MetadataRef::Named(name.clone())),
        _ => None,
    }
}

/// A string value: a literal (or a concatenation of literals), a constant's name, or `None`
/// for `None`.
pub(crate) fn str_value(expr: &Expr) -> Option<StrValue> {
    match expr {
        Expr::None => None,
        Expr::Name(name) if name == "None" => None,
        Expr::Name(name) => Some(StrValue::Constant(name.clone())),
        other => Some(match const_str(other) {
            Some(s) => StrValue::Literal(s),
            None => StrValue::Computed(Box::new(other.clone())),
        }),
    }
}

/// A string literal or a `+` of string literals.
pub(crate) fn const_str(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Str(s) => Some(s.clone()),
        Expr::BinOp { op, left, right } if op == "+" => {
            let mut s = const_str(left)?;
            s.push_str(&const_str(right)?);
            Some(s)
        }
        _ => None,
    }
}

/// The `"schema"` entry of a dict literal, or of the dict ending a tuple (`__table_args__`).
/// `None` when there is no dict or no schema key.
fn dict_schema(expr: &Expr) -> Option<StrValue> {
    let dict = match expr {
        Expr::Dict(pairs) => pairs,
        Expr::List(items) => match items.last() {
            Some(Expr::Dict(pairs)) => pairs,
            _ => return None,
        },
        _ => return None,
    };
    dict.iter()
        .find(|(k, _)| k.as_str() == Some("schema"))
        .and_then(|(_, v)| str_value(v))
}

/// `Annotated[T, …]` → (T, the `mapped_column(…)`/`Field(…)` call among the metadata).
pub(crate) fn annotated(expr: &Expr) -> Option<(&Expr, Option<&Call>)> {
    let Expr::Subscript { value, index } = expr else {
        return None;
    };
    if value.last_name() != Some("Annotated") {
        return None;
    }
    let (first, rest) = index.split_first()?;
    let column = rest
        .iter()
        .filter_map(Expr::as_call)
        .find(|c| matches!(callee_last(c), Some("mapped_column" | "Field" | "Column")));
    Some((first, column))
}

/// A `Table("name", …)` call; `None` for anything else.
fn table_call(call: &Call, assigned_to: Option<&str>) -> Option<TableCall> {
    if callee_last(call) != Some("Table") {
        return None;
    }
    let (first, rest) = call.args.split_first()?;
    let name = const_str(first)?;
    // `Table("x")` alone is not SQLAlchemy's (which needs metadata, Flask's `db.Table` needs
    // columns): require one more argument.
    if rest.is_empty() && call.kwarg("schema").is_none() {
        return None;
    }
    let metadata = rest.first().and_then(Expr::as_name).map(str::to_string);
    let columns = rest
        .iter()
        .filter_map(Expr::as_call)
        .filter(|c| callee_last(c) == Some("Column"))
        .cloned()
        .collect();
    Some(TableCall {
        assigned_to: assigned_to.map(str::to_string),
        name,
        metadata,
        function: call.func.as_name().map(str::to_string),
        schema: call.kwarg("schema").and_then(str_value),
        columns,
        primary_key: primary_key_constraint(&Expr::List(rest.to_vec())),
        location: call.location.clone(),
    })
}

/// The column names of the `PrimaryKeyConstraint(…)` calls in a tuple (`__table_args__`, or
/// the arguments of `Table(…)`).
fn primary_key_constraint(value: &Expr) -> Vec<String> {
    let Expr::List(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Expr::as_call)
        .filter(|c| callee_last(c) == Some("PrimaryKeyConstraint"))
        .flat_map(|c| c.args.iter().filter_map(const_str))
        .collect()
}

fn is_dunder(name: &str) -> bool {
    name.len() > 4 && name.starts_with("__") && name.ends_with("__")
}

fn class_model(class: &ClassDef, imports: &[ImportBinding]) -> ClassModel {
    let mut attrs: Vec<ClassAttr> = Vec::new();
    let mut model = ClassModel {
        name: class.name.clone(),
        bases: class.bases.iter().filter_map(base_name).collect(),
        keywords: class.keywords.clone(),
        metaclass: class
            .keywords
            .iter()
            .find(|(k, _)| k == "metaclass")
            .and_then(|(_, v)| v.as_name())
            .map(str::to_string),
        table_keyword: class
            .keywords
            .iter()
            .find(|(k, _)| k == "table")
            .and_then(|(_, v)| v.as_bool()),
        decorators: class.decorators.iter().filter_map(decorator_name).collect(),
        is_abstract: false,
        tablename: None,
        table_args: None,
        table_args_primary_key: Vec::new(),
        table_attr: None,
        metadata: None,
        attrs: Lazy::new(Vec::new()),
        column_helpers: false,
        enum_members: None,
        location: class.location.clone(),
    };
    for stmt in &class.body {
        match stmt {
            Stmt::Assign {
                targets,
                annotation,
                value,
                location,
            } => {
                let Some(Expr::Name(name)) = targets.first() else {
                    continue;
                };
                if name.contains('.') {
                    continue;
                }
                class_assign(&mut model, &mut attrs, name, annotation, value, location);
            }
            Stmt::Function(function) => class_function(&mut model, &mut attrs, function),
            Stmt::Class(nested) => attrs.push(ClassAttr {
                name: nested.name.clone(),
                kind: AttrKind::Other,
                annotation: None,
                value: None,
                location: nested.location.clone(),
            }),
            _ => {}
        }
    }
    // `class MyEnum(sa.Enum)` is a SQLAlchemy type, not a Python enum.
    let from_sqlalchemy = |base: &str| {
        let first = base.split('.').next().unwrap_or(base);
        imports
            .iter()
            .rev()
            .find(|b| b.local == first)
            .is_some_and(|b| b.target.starts_with("sqlalchemy"))
    };
    if model
        .bases
        .iter()
        .any(|b| looks_like_enum_base(b) && !from_sqlalchemy(b))
    {
        model.enum_members = Some(enum_members(&attrs));
    }
    model.column_helpers = attrs.iter().any(|a| {
        a.value
            .as_ref()
            .is_some_and(super::computed::is_column_helper)
    });
    model.attrs = Lazy::new(attrs);
    model
}

fn class_assign(
    model: &mut ClassModel,
    attrs: &mut Vec<ClassAttr>,
    name: &str,
    annotation: &Option<Expr>,
    value: &Option<Expr>,
    location: &Location,
) {
    // `x: "Mapped[int]" = …`: a quoted annotation is the expression it spells.
    let quoted = match annotation {
        Some(Expr::Str(text)) => pyast::parse_expression(text),
        _ => None,
    };
    let annotation = &quoted.or_else(|| annotation.clone());
    match (name, value) {
        ("__tablename__", Some(value)) => {
            let value_read = name_value(value);
            let computed = (!matches!(value_read, NameValue::Literal(_) | NameValue::NoName))
                .then(|| Computed::Expr(Box::new(value.clone())));
            model.tablename = Some(TableNameSpec {
                value: value_read,
                declared_attr: false,
                none_when_inherited: false,
                computed,
            });
        }
        ("__table_args__", Some(value)) => {
            model.table_args = Some(table_args(value));
            model.table_args_primary_key = primary_key_constraint(value);
        }
        ("__abstract__", Some(value)) => model.is_abstract = value.as_bool() == Some(true),
        ("__table__", Some(value)) => {
            model.table_attr = Some(match value {
                Expr::Call(call) => table_call(call, None)
                    .map(|call| TableAttr::Inline(Box::new(call)))
                    .unwrap_or(TableAttr::Other),
                Expr::Name(name) => TableAttr::Named(name.clone()),
                _ => TableAttr::Other,
            });
        }
        ("metadata", Some(value)) => model.metadata = metadata_ref(value),
        _ if is_dunder(name) => {}
        _ => attrs.push(ClassAttr {
            name: name.to_string(),
            kind: AttrKind::Assign,
            annotation: annotation.clone(),
            value: value.clone(),
            location: location.clone(),
        }),
    }
}

/// `__table_args__` → what it says about the schema: a dict or a tuple ending in one is read
/// here; anything built by code (a call, `**` merges, a dict named at the end of a tuple) is
/// left to the evaluator.
fn table_args(value: &Expr) -> TableArgs {
    let computed = || TableArgs::Computed(Computed::Expr(Box::new(value.clone())));
    let last_dict = match value {
        Expr::Name(name) if !name.contains('.') => return TableArgs::Named(name.clone()),
        Expr::Dict(pairs) => Some(pairs),
        Expr::List(items) => match items.last() {
            Some(Expr::Dict(pairs)) => Some(pairs),
            Some(Expr::Str(_) | Expr::Call(_)) | None => None,
            Some(_) => return computed(),
        },
        _ => return computed(),
    };
    if last_dict.is_some_and(|pairs| pairs.iter().any(|(k, _)| matches!(k, Expr::Splat { .. }))) {
        return computed();
    }
    dict_schema(value).map_or(TableArgs::NoSchema, TableArgs::Schema)
}

fn class_function(model: &mut ClassModel, attrs: &mut Vec<ClassAttr>, function: &FunctionDef) {
    let declared = function.decorators.iter().find_map(declared_attr_kind);
    let name = function.name.as_str();
    match declared {
        Some(_) if name == "__tablename__" => {
            model.tablename = Some(declared_tablename(function));
        }
        Some(_) if name == "__table_args__" => {
            // `return {"schema": "core"}` alone is read here; anything else is evaluated.
            let simple = match function.body.as_slice() {
                [
                    Stmt::Return {
                        value: Some(value), ..
                    },
                ] => Some(table_args(value)).filter(|args| {
                    matches!(
                        args,
                        TableArgs::Schema(StrValue::Literal(_)) | TableArgs::NoSchema
                    )
                }),
                _ => None,
            };
            model.table_args = Some(simple.unwrap_or_else(|| {
                TableArgs::Computed(Computed::Function(Box::new(function.clone())))
            }));
        }
        _ if is_dunder(name) => {}
        Some(DeclaredKind::Attr) => {
            let returned = returns(&function.body);
            attrs.push(ClassAttr {
                name: name.to_string(),
                kind: AttrKind::DeclaredAttr,
                annotation: function.returns.clone(),
                value: returned.iter().rev().find_map(|r| r.cloned()),
                location: function.location.clone(),
            });
        }
        _ => attrs.push(ClassAttr {
            name: name.to_string(),
            kind: AttrKind::Other,
            annotation: None,
            value: None,
            location: function.location.clone(),
        }),
    }
}

enum DeclaredKind {
    Attr,
    Directive,
}

fn declared_attr_kind(decorator: &Expr) -> Option<DeclaredKind> {
    let name = match decorator {
        Expr::Call(call) => call.func.as_name()?,
        other => other.as_name()?,
    };
    let mut parts = name.rsplit('.');
    let last = parts.next()?;
    match last {
        "declared_attr" => Some(DeclaredKind::Attr),
        "cascading" if parts.next() == Some("declared_attr") => Some(DeclaredKind::Attr),
        "directive" if parts.next() == Some("declared_attr") => Some(DeclaredKind::Directive),
        _ => None,
    }
}

/// The values of every `return` in a function body (not in nested functions), in order;
/// `None` for a bare `return` or `return None`.
fn returns(body: &[Stmt]) -> Vec<Option<&Expr>> {
    let mut out = Vec::new();
    collect_returns(body, &mut out);
    out
}

fn collect_returns<'a>(body: &'a [Stmt], out: &mut Vec<Option<&'a Expr>>) {
    for stmt in body {
        match stmt {
            Stmt::Return { value, .. } => out.push(match value {
                Some(Expr::None) | None => None,
                Some(v) => Some(v),
            }),
            Stmt::Block { body, .. } => collect_returns(body, out),
            _ => {}
        }
    }
}

/// Whether any `if` in the body tests `has_inherited_table(…)`.
fn tests_inherited_table(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Block { items, body, .. } => {
            items.iter().any(|(cond, _)| {
                crate::models::text::expr_text(cond).contains("has_inherited_table")
            }) || tests_inherited_table(body)
        }
        _ => false,
    })
}

fn declared_tablename(function: &FunctionDef) -> TableNameSpec {
    let returned = returns(&function.body);
    let has_none = returned.iter().any(Option::is_none);
    let value = returned
        .iter()
        .rev()
        .find_map(|r| *r)
        .map(name_value)
        .unwrap_or(NameValue::NoName);
    let literal = matches!(value, NameValue::Literal(_)) && returned.len() == 1;
    TableNameSpec {
        value,
        declared_attr: true,
        none_when_inherited: has_none && tests_inherited_table(&function.body),
        computed: (!literal).then(|| Computed::Function(Box::new(function.clone()))),
    }
}

/// A table name expression: a literal, a constant, or a rule over `cls.__name__`.
fn name_value(expr: &Expr) -> NameValue {
    if let Some(s) = const_str(expr) {
        return NameValue::Literal(s);
    }
    match expr {
        Expr::None => NameValue::NoName,
        Expr::Name(name) if name == "None" => NameValue::NoName,
        Expr::Name(name) if !name.contains("__name__") => NameValue::Constant(name.clone()),
        _ => match class_name_rule(expr) {
            Some((case, prefix, suffix)) => NameValue::FromClass {
                case,
                prefix,
                suffix,
            },
            None => NameValue::Unknown(crate::models::text::expr_text(expr)),
        },
    }
}

/// `cls.__name__` (Exact), `cls.__name__.lower()` (Lower), `snake(cls.__name__)` (Snake),
/// with literal strings added before or after.
fn class_name_rule(expr: &Expr) -> Option<(NameCase, String, String)> {
    match expr {
        Expr::Name(name) if name.ends_with(".__name__") => {
            Some((NameCase::Exact, String::new(), String::new()))
        }
        // `CAMEL_TO_SNAKE.sub("_", cls.__name__).lower()` (Prefect): a snake-case regex
        // applied to the class name, then lower-cased.
        Expr::Call(call)
            if call.args.is_empty()
                && matches!(&call.func, Expr::Attribute { attr, .. } if attr == "lower") =>
        {
            let Expr::Attribute { value, .. } = &call.func else {
                return None;
            };
            let inner = value.as_call()?;
            let func = inner.func.as_name()?.to_ascii_lowercase();
            let on_name = inner
                .args
                .iter()
                .any(|a| a.as_name().is_some_and(|a| a.ends_with(".__name__")));
            (func.ends_with(".sub")
                && (func.contains("snake") || func.contains("camel"))
                && on_name)
                .then(|| (NameCase::Snake, String::new(), String::new()))
        }
        Expr::Call(call) => {
            let func = call.func.as_name()?;
            if let Some(base) = func.strip_suffix(".lower")
                && base.ends_with(".__name__")
                && call.args.is_empty()
            {
                return Some((NameCase::Lower, String::new(), String::new()));
            }
            let lowered = func.to_ascii_lowercase();
            let snake = lowered.contains("snake") || lowered.contains("underscore");
            let on_name = call
                .args
                .first()
                .and_then(Expr::as_name)
                .is_some_and(|a| a.ends_with(".__name__"));
            (snake && on_name).then(|| (NameCase::Snake, String::new(), String::new()))
        }
        Expr::BinOp { op, left, right } if op == "+" => {
            if let Some(prefix) = const_str(left) {
                let (case, p, s) = class_name_rule(right)?;
                Some((case, prefix + &p, s))
            } else {
                let suffix = const_str(right)?;
                let (case, p, s) = class_name_rule(left)?;
                Some((case, p, s + &suffix))
            }
        }
        _ => None,
    }
}

fn base_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(name) => Some(name.clone()),
        Expr::Subscript { value, .. } => value.as_name().map(str::to_string),
        Expr::Call(call) => call.func.as_name().map(|n| format!("{n}()")),
        _ => None,
    }
}

fn decorator_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(name) => Some(name.clone()),
        Expr::Call(call) => call.func.as_name().map(str::to_string),
        _ => None,
    }
}

pub(crate) use crate::sqlalchemy::enums::looks_like_enum_base;

/// The members of an enum class body: simple assignments whose name is not private.
pub(crate) fn enum_members(attrs: &[ClassAttr]) -> Vec<EnumMember> {
    attrs
        .iter()
        .filter(|a| a.kind == AttrKind::Assign && !a.name.starts_with('_'))
        .filter_map(|a| {
            Some(EnumMember {
                name: a.name.clone(),
                value: crate::sqlalchemy::enums::member_value(a.value.as_ref()?)?,
            })
        })
        .collect()
}
