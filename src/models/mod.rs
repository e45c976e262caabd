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
    /// Read back from a kept resolution, decoded when first read.
    pub columns: ModelColumns,
}

/// A model table's columns: read back from a kept resolution, decoded when first read.
pub type ModelColumns = crate::lazy::LazyList<ModelColumn>;

impl crate::lazy::Listed for ModelColumn {
    /// Its foreign keys: the rules' scope asks every table whether one names a table the
    /// change reaches ([`crate::rules::scope`]).
    fn keys(&self) -> &[String] {
        self.foreign_keys()
    }

    fn decoded() -> &'static std::sync::atomic::AtomicUsize {
        static DECODED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        &DECODED
    }
}

/// A column a model maps.
///
/// The parts few columns have (the server default's SQL, foreign keys, an enum, a comment) are
/// boxed together: a project's columns are held by the tens of thousands, and a kept resolution
/// decodes them on every new edit (224 → 168 bytes a column; 120 since a type is a pointer to
/// shared parts, [`SqlType`]). Written field by field as before ([`ColumnFields`]).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(from = "ColumnFields", into = "ColumnFields")]
pub struct ModelColumn {
    /// The column's name in the database (`mapped_column("venue_latitude", …)` → that name).
    pub name: compact_str::CompactString,
    /// The Python attribute (a class's columns have one; a `Table(…)` call's do not). Inline up
    /// to 24 bytes, like the name.
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
    /// `index=True`: SQLAlchemy creates an index on the column.
    pub index: bool,
    /// `unique=True`: a unique constraint (with `index=True`, a unique index).
    pub unique: bool,
    /// The parts few columns have; `None` when it has none of them.
    rare: Option<Box<RareParts>>,
    /// The line that declares the column (the attribute, or the `Column(` call in a `Table`).
    pub location: Location,
}

/// The parts of a [`ModelColumn`] few columns have.
#[derive(Debug, Clone, PartialEq, Default)]
struct RareParts {
    server_default_sql: Option<Box<str>>,
    foreign_keys: Vec<String>,
    enum_type: Option<ModelEnum>,
    comment: Option<Box<str>>,
}

impl RareParts {
    fn is_empty(&self) -> bool {
        self.server_default_sql.is_none()
            && self.foreign_keys.is_empty()
            && self.enum_type.is_none()
            && self.comment.is_none()
    }
}

impl ModelColumn {
    /// A column with its name, type and location, and nothing else known.
    pub fn new(name: impl Into<compact_str::CompactString>, location: Location) -> ModelColumn {
        ModelColumn {
            name: name.into(),
            attribute: None,
            ty: None,
            type_text: None,
            nullable: None,
            primary_key: false,
            server_default: false,
            index: false,
            unique: false,
            rare: None,
            location,
        }
    }

    /// The server default as SQL (`'pending'`, `now()`), when it can be told statically.
    pub fn server_default_sql(&self) -> Option<&str> {
        self.rare.as_ref()?.server_default_sql.as_deref()
    }

    /// `ForeignKey("core.customers.id")` targets as written.
    pub fn foreign_keys(&self) -> &[String] {
        self.rare.as_ref().map_or(&[], |r| &r.foreign_keys)
    }

    /// The enum this column stores, for `Enum(…)` columns.
    pub fn enum_type(&self) -> Option<&ModelEnum> {
        self.rare.as_ref()?.enum_type.as_ref()
    }

    /// `comment=`.
    pub fn comment(&self) -> Option<&str> {
        self.rare.as_ref()?.comment.as_deref()
    }

    pub fn set_server_default_sql(&mut self, sql: Option<Box<str>>) {
        self.change_rare(|r| r.server_default_sql = sql);
    }

    pub fn set_foreign_keys(&mut self, foreign_keys: Vec<String>) {
        self.change_rare(|r| r.foreign_keys = foreign_keys);
    }

    pub fn add_foreign_key(&mut self, target: String) {
        self.change_rare(|r| r.foreign_keys.push(target));
    }

    pub fn set_enum_type(&mut self, enum_type: Option<ModelEnum>) {
        self.change_rare(|r| r.enum_type = enum_type);
    }

    /// The enum, to change in place.
    pub fn enum_type_mut(&mut self) -> Option<&mut ModelEnum> {
        self.rare.as_mut()?.enum_type.as_mut()
    }

    pub fn set_comment(&mut self, comment: Option<Box<str>>) {
        self.change_rare(|r| r.comment = comment);
    }

    /// Changes the rare parts, boxed only while one of them is set.
    fn change_rare(&mut self, change: impl FnOnce(&mut RareParts)) {
        let mut rare = self.rare.take().unwrap_or_default();
        change(&mut rare);
        if !rare.is_empty() {
            self.rare = Some(rare);
        }
    }
}

/// A [`ModelColumn`] field by field: how a human-readable format (and any format outside a
/// kept resolution's compact list) writes it.
#[derive(Clone, Serialize, serde::Deserialize)]
struct ColumnFields {
    name: compact_str::CompactString,
    attribute: Option<compact_str::CompactString>,
    ty: Option<SqlType>,
    type_text: Option<compact_str::CompactString>,
    nullable: Option<bool>,
    primary_key: bool,
    server_default: bool,
    #[serde(default)]
    server_default_sql: Option<Box<str>>,
    #[serde(default)]
    index: bool,
    #[serde(default)]
    unique: bool,
    foreign_keys: Vec<String>,
    enum_type: Option<Box<ModelEnum>>,
    comment: Option<Box<str>>,
    location: Location,
}

impl From<ColumnFields> for ModelColumn {
    fn from(f: ColumnFields) -> ModelColumn {
        let mut column = ModelColumn {
            name: f.name,
            attribute: f.attribute,
            ty: f.ty,
            type_text: f.type_text,
            nullable: f.nullable,
            primary_key: f.primary_key,
            server_default: f.server_default,
            index: f.index,
            unique: f.unique,
            rare: None,
            location: f.location,
        };
        column.change_rare(|r| {
            r.server_default_sql = f.server_default_sql;
            r.foreign_keys = f.foreign_keys;
            r.enum_type = f.enum_type.map(|e| *e);
            r.comment = f.comment;
        });
        column
    }
}

impl From<ModelColumn> for ColumnFields {
    fn from(c: ModelColumn) -> ColumnFields {
        let rare = c.rare.map(|r| *r).unwrap_or_default();
        ColumnFields {
            name: c.name,
            attribute: c.attribute,
            ty: c.ty,
            type_text: c.type_text,
            nullable: c.nullable,
            primary_key: c.primary_key,
            server_default: c.server_default,
            server_default_sql: rare.server_default_sql,
            index: c.index,
            unique: c.unique,
            foreign_keys: rare.foreign_keys,
            enum_type: rare.enum_type.map(Box::new),
            comment: rare.comment,
            location: c.location,
        }
    }
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

/// A model column as a kept resolution holds it ([`crate::cache::CompactParts`]): its flags
/// and which optional parts it has in one number, then those parts. A kept resolution's tens
/// of thousands of columns are decoded on every new edit; field by field (14, most of them
/// absent or `false`) that was most of its decoding.
mod compact_columns {
    use serde::de::{Error, SeqAccess};
    use serde::ser::SerializeTuple;

    use super::{ModelColumn, RareParts};
    use crate::cache::{CompactParts, flags, next_part, optional_part};

    const NULLABLE_KNOWN: u16 = 1;
    const NULLABLE: u16 = 1 << 1;
    const PRIMARY_KEY: u16 = 1 << 2;
    const SERVER_DEFAULT: u16 = 1 << 3;
    const INDEX: u16 = 1 << 4;
    const UNIQUE: u16 = 1 << 5;
    const ATTRIBUTE: u16 = 1 << 6;
    const TY: u16 = 1 << 7;
    const TYPE_TEXT: u16 = 1 << 8;
    const SERVER_DEFAULT_SQL: u16 = 1 << 9;
    const FOREIGN_KEYS: u16 = 1 << 10;
    const ENUM_TYPE: u16 = 1 << 11;
    const COMMENT: u16 = 1 << 12;
    /// Any of the parts a column keeps boxed ([`super::RareParts`]).
    const RARE: u16 = SERVER_DEFAULT_SQL | FOREIGN_KEYS | ENUM_TYPE | COMMENT;

    impl CompactParts for ModelColumn {
        const WHAT: &'static str = "a model column";
        /// Flags, name, the seven optional parts, location.
        const MOST_PARTS: usize = 10;

        fn part_count(&self) -> usize {
            3 + (self.flags() >> 6).count_ones() as usize
        }

        fn write_parts<S: SerializeTuple>(&self, out: &mut S) -> Result<(), S::Error> {
            out.serialize_element(&self.flags())?;
            out.serialize_element(self.name.as_str())?;
            if let Some(attribute) = &self.attribute {
                out.serialize_element(attribute.as_str())?;
            }
            if let Some(ty) = &self.ty {
                out.serialize_element(ty)?;
            }
            if let Some(text) = &self.type_text {
                out.serialize_element(text.as_str())?;
            }
            if let Some(sql) = self.server_default_sql() {
                out.serialize_element(sql)?;
            }
            if !self.foreign_keys().is_empty() {
                out.serialize_element(self.foreign_keys())?;
            }
            if let Some(enum_type) = self.enum_type() {
                out.serialize_element(enum_type)?;
            }
            if let Some(comment) = self.comment() {
                out.serialize_element(comment)?;
            }
            out.serialize_element(&self.location)
        }

        fn read_parts<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error> {
            const WHAT: &str = ModelColumn::WHAT;
            let flags: u16 = next_part(seq, WHAT)?;
            if flags >> 13 != 0 {
                return Err(A::Error::custom("unknown model column flags"));
            }
            let on = |flag: u16| flags & flag != 0;
            let name = next_part(seq, WHAT)?;
            let attribute = optional_part(seq, on(ATTRIBUTE), WHAT)?;
            let ty = optional_part(seq, on(TY), WHAT)?;
            let type_text = optional_part(seq, on(TYPE_TEXT), WHAT)?;
            // The rare parts are read only when a flag says one is there.
            let rare = if flags & RARE != 0 {
                let rare = RareParts {
                    server_default_sql: optional_part(seq, on(SERVER_DEFAULT_SQL), WHAT)?,
                    foreign_keys: optional_part(seq, on(FOREIGN_KEYS), WHAT)?.unwrap_or_default(),
                    enum_type: optional_part(seq, on(ENUM_TYPE), WHAT)?,
                    comment: optional_part(seq, on(COMMENT), WHAT)?,
                };
                (!rare.is_empty()).then(|| Box::new(rare))
            } else {
                None
            };
            Ok(ModelColumn {
                name,
                attribute,
                ty,
                type_text,
                rare,
                location: next_part(seq, WHAT)?,
                nullable: on(NULLABLE_KNOWN).then_some(on(NULLABLE)),
                primary_key: on(PRIMARY_KEY),
                server_default: on(SERVER_DEFAULT),
                index: on(INDEX),
                unique: on(UNIQUE),
            })
        }
    }

    impl ModelColumn {
        fn flags(&self) -> u16 {
            flags([
                (self.nullable.is_some(), NULLABLE_KNOWN),
                (self.nullable == Some(true), NULLABLE),
                (self.primary_key, PRIMARY_KEY),
                (self.server_default, SERVER_DEFAULT),
                (self.index, INDEX),
                (self.unique, UNIQUE),
                (self.attribute.is_some(), ATTRIBUTE),
                (self.ty.is_some(), TY),
                (self.type_text.is_some(), TYPE_TEXT),
                (self.server_default_sql().is_some(), SERVER_DEFAULT_SQL),
                (!self.foreign_keys().is_empty(), FOREIGN_KEYS),
                (self.enum_type().is_some(), ENUM_TYPE),
                (self.comment().is_some(), COMMENT),
            ])
        }
    }

    #[cfg(test)]
    mod tests {
        use super::super::{ModelColumn, ModelEnum, ModelTable};
        use crate::cache::FromParts;
        use crate::postgres_type::SqlType;
        use crate::source::{Direction, Location, with_shared_paths};

        /// Columns with every combination of flags and parts, in two files.
        fn columns() -> Vec<ModelColumn> {
            (0..64u32)
                .map(|i| {
                    let on = |bit: u32| i & (1 << bit) != 0;
                    let mut column = ModelColumn {
                        attribute: on(0).then(|| format!("attr_{i}").into()),
                        ty: on(1).then(|| SqlType::from_sql_name("varchar", vec![40], on(2))),
                        type_text: on(2).then(|| "String(40)".into()),
                        nullable: match i % 3 {
                            0 => None,
                            1 => Some(false),
                            _ => Some(true),
                        },
                        primary_key: on(3),
                        server_default: on(4),
                        index: on(5),
                        unique: i % 5 == 0,
                        ..ModelColumn::new(
                            format!("column_{i}"),
                            Location::new(
                                if i % 2 == 0 {
                                    "a/models.py"
                                } else {
                                    "b/models.py"
                                },
                                i + 1,
                                5,
                            ),
                        )
                    };
                    column.set_server_default_sql(on(4).then(|| "now()".into()));
                    if on(3) {
                        column.set_foreign_keys(vec![
                            "core.customers.id".to_string(),
                            "Other.id".to_string(),
                        ]);
                    }
                    column.set_enum_type((i % 7 == 0).then(|| ModelEnum {
                        name: "status".to_string(),
                        schema: Some("core".to_string()),
                        values: vec!["new".to_string(), "done".to_string()],
                        native: i % 2 == 0,
                        location: Some(Location::new("enums.py", 3, 1)),
                    }));
                    column.set_comment((i % 4 == 1).then(|| "why".into()));
                    column
                })
                .collect()
        }

        fn table(columns: Vec<ModelColumn>) -> ModelTable {
            ModelTable {
                schema: Some("core".to_string()),
                name: "customers".to_string(),
                class_name: Some("Customer".to_string()),
                location: Location::new("a/models.py", 1, 1),
                columns: columns.into(),
            }
        }

        #[test]
        fn compact_columns_round_trip_with_every_flag_and_part() {
            let tables = vec![table(columns()), table(Vec::new())];
            for shared in [false, true] {
                let encode = || postcard::to_allocvec(&tables).expect("encode");
                let bytes = if shared {
                    with_shared_paths(Direction::Encode, encode)
                } else {
                    encode()
                };
                let decode = || postcard::from_bytes::<Vec<ModelTable>>(&bytes).expect("decode");
                let back = if shared {
                    with_shared_paths(Direction::Decode, decode)
                } else {
                    decode()
                };
                assert_eq!(back, tables);
                // Cut short, or with flags no version writes: an error, never a wrong column.
                let cut = &bytes[..bytes.len() - 3];
                let read = || postcard::from_bytes::<Vec<ModelTable>>(cut);
                let read = if shared {
                    with_shared_paths(Direction::Decode, read)
                } else {
                    read()
                };
                assert!(read.is_err());
            }
            let unknown = postcard::to_allocvec(&(1u16 << 14, "c")).expect("encode");
            assert!(postcard::from_bytes::<FromParts<ModelColumn>>(&unknown).is_err());
            let known = postcard::to_allocvec(&(0u16, "c", (0u32, 1u32, 1u32))).expect("encode");
            assert!(postcard::from_bytes::<FromParts<ModelColumn>>(&known).is_ok());
        }

        #[test]
        fn a_human_readable_format_gets_the_columns_field_by_field() {
            let columns = columns();
            let json = serde_json::to_value(table(columns.clone())).expect("json");
            assert_eq!(
                json["columns"],
                serde_json::to_value(&columns).expect("json")
            );
            assert_eq!(json["columns"][8]["foreign_keys"][0], "core.customers.id");
            let back: ModelTable = serde_json::from_value(json).expect("back");
            assert_eq!(*back.columns, columns);
        }
    }
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
    TableNameSpec, TypeAlias, ValueKind, extract_file, extract_file_reusing, is_candidate,
    module_of_path,
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
