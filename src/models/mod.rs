//! Python model files → the tables and columns they map.
//!
//! Two steps. [`extract_file`] reads one file into a plain per-file form (classes with their
//! bases and class-level statements, `Table(` calls, enum classes, type aliases, imports) that
//! can be cached by blob id. [`resolve`] then makes one project-wide pass: it follows bases and
//! mixins through imports and produces [`ModelTable`]s with their [`ModelColumn`]s.
//! tree-sitter is reached only through [`crate::pyast`].

use serde::Serialize;

use crate::finding::Warning;
use crate::postgres_type::SqlType;
use crate::source::{Location, SourceFile};

/// A table the models map.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ModelTable {
    /// `None`: the default schema (config `default_schema`, else `public`).
    pub schema: Option<String>,
    pub name: String,
    /// The mapped class, or `None` for a `Table(…)` object.
    pub class_name: Option<String>,
    /// The `class` line, or the `Table(` call.
    pub location: Location,
    pub columns: Vec<ModelColumn>,
}

/// A column a model maps.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ModelColumn {
    /// The column's name in the database (`mapped_column("venue_latitude", …)` → that name).
    pub name: compact_str::CompactString,
    /// The Python attribute, when it is not the column name or for messages. Inline up to 24
    /// bytes, like the name: a project's columns are held by the tens of thousands.
    pub attribute: Option<compact_str::CompactString>,
    /// The PostgreSQL type the model's type maps to, when it can be told.
    pub ty: Option<SqlType>,
    /// The type as written in the model (`String(20)`, `Mapped[int]`), for messages.
    pub type_text: Option<compact_str::CompactString>,
    /// `Some(false)`: the model says NOT NULL (explicitly, by `primary_key`, or by `Mapped[T]`
    /// without Optional); `None`: cannot be told.
    pub nullable: Option<bool>,
    pub primary_key: bool,
    /// `server_default=` is set (a default the database applies).
    pub server_default: bool,
    /// That default as SQL (`'pending'`, `now()`), when it can be told statically.
    #[serde(default)]
    pub server_default_sql: Option<Box<str>>,
    /// `index=True`: SQLAlchemy creates an index on the column.
    #[serde(default)]
    pub index: bool,
    /// `unique=True`: a unique constraint (with `index=True`, a unique index).
    #[serde(default)]
    pub unique: bool,
    /// `ForeignKey("core.customers.id")` targets as written.
    pub foreign_keys: Vec<String>,
    /// The enum this column stores, for `Enum(…)` columns.
    /// Boxed: few columns store an enum, and a project's columns are held by the tens of
    /// thousands (336 → 240 bytes a column).
    pub enum_type: Option<Box<ModelEnum>>,
    /// `comment=`.
    pub comment: Option<Box<str>>,
    /// The line that declares the column (the attribute, or the `Column(` call in a `Table`).
    pub location: Location,
}

/// An enum type a column uses.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ModelEnum {
    /// PostgreSQL type name (`name=`, else SQLAlchemy's default: the enum class name
    /// lower-cased).
    pub name: String,
    pub schema: Option<String>,
    /// The values stored in the database (member names, or values with `values_callable`).
    pub values: Vec<String>,
    /// `native_enum=False` stores a VARCHAR: no PostgreSQL type is needed.
    pub native: bool,
    /// Where the Python enum class is declared, when it was found.
    pub location: Option<Location>,
}

mod columns;
mod computed;
mod extract;
mod library;
mod resolve;
#[cfg(test)]
mod tests;
mod text;

pub(crate) use text::expr_text;

pub use crate::pyeval::modules::{ImportBinding, StarImport};
pub use extract::{
    AttrKind, ClassAttr, ClassModel, EnumMember, EnumValue, FileModels, MetadataRef, ModuleValue,
    NameCase, NameValue, SYNTAX_ERROR_MESSAGE, StrValue, TableArgs, TableAttr, TableCall,
    TableNameSpec, TypeAlias, ValueKind, extract_file, is_candidate, module_of_path,
};
pub use resolve::kept::{Kept as KeptResolutionState, decode as decode_kept_resolution};
pub use resolve::{
    Identity, KeptResolution, ResolveOptions, flask_table_name, resolve, resolve_keeping,
    resolve_with_modules,
};

/// Reads and resolves a set of model files in one go (tests, small runs).
pub fn extract_all(
    files: &[SourceFile],
    options: &ResolveOptions,
) -> (Vec<ModelTable>, Vec<Warning>) {
    let models: Vec<FileModels> = files.iter().map(extract_file).collect();
    resolve(&models, options)
}
