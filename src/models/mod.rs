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
    #[serde(with = "compact_columns")]
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

/// A table's columns as a kept resolution holds them (postcard): each column's flags and the
/// presence of its optional parts in one number, then only the parts it has. A project's
/// columns are decoded by the tens of thousands on every new edit, and field by field (14, most
/// of them absent or `false`) the decoding of a column was most of a kept resolution's. In a
/// human-readable format (JSON) the columns are written field by field as before.
mod compact_columns {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::ser::SerializeTuple;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{ModelColumn, ModelEnum};
    use crate::cache::{next_part, optional_part};
    use crate::postgres_type::SqlType;
    use crate::source::Location;

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
    /// The most parts a column has: flags, name, the seven optional ones, location.
    const MOST_PARTS: usize = 10;

    struct Compact<'c>(&'c ModelColumn);

    impl Serialize for Compact<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let c = self.0;
            let mut flags = 0;
            for (on, flag) in [
                (c.nullable.is_some(), NULLABLE_KNOWN),
                (c.nullable == Some(true), NULLABLE),
                (c.primary_key, PRIMARY_KEY),
                (c.server_default, SERVER_DEFAULT),
                (c.index, INDEX),
                (c.unique, UNIQUE),
                (c.attribute.is_some(), ATTRIBUTE),
                (c.ty.is_some(), TY),
                (c.type_text.is_some(), TYPE_TEXT),
                (c.server_default_sql.is_some(), SERVER_DEFAULT_SQL),
                (!c.foreign_keys.is_empty(), FOREIGN_KEYS),
                (c.enum_type.is_some(), ENUM_TYPE),
                (c.comment.is_some(), COMMENT),
            ] {
                if on {
                    flags |= flag;
                }
            }
            let parts = 3 + (flags >> 6).count_ones() as usize;
            let mut out = serializer.serialize_tuple(parts)?;
            out.serialize_element(&flags)?;
            out.serialize_element(c.name.as_str())?;
            if let Some(attribute) = &c.attribute {
                out.serialize_element(attribute.as_str())?;
            }
            if let Some(ty) = &c.ty {
                out.serialize_element(ty)?;
            }
            if let Some(text) = &c.type_text {
                out.serialize_element(text.as_str())?;
            }
            if let Some(sql) = &c.server_default_sql {
                out.serialize_element(sql)?;
            }
            if !c.foreign_keys.is_empty() {
                out.serialize_element(&c.foreign_keys)?;
            }
            if let Some(enum_type) = &c.enum_type {
                out.serialize_element(enum_type)?;
            }
            if let Some(comment) = &c.comment {
                out.serialize_element(comment)?;
            }
            out.serialize_element(&c.location)?;
            out.end()
        }
    }

    struct Column(ModelColumn);

    impl<'de> Deserialize<'de> for Column {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Parts;
            impl<'de> Visitor<'de> for Parts {
                type Value = Column;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a model column's parts")
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Column, A::Error> {
                    const WHAT: &str = "a model column";
                    let flags: u16 = next_part(&mut seq, WHAT)?;
                    if flags >> 13 != 0 {
                        return Err(A::Error::custom("unknown model column flags"));
                    }
                    let on = |flag: u16| flags & flag != 0;
                    let name: compact_str::CompactString = next_part(&mut seq, WHAT)?;
                    let attribute = optional_part(&mut seq, on(ATTRIBUTE), WHAT)?;
                    let ty: Option<SqlType> = optional_part(&mut seq, on(TY), WHAT)?;
                    let type_text = optional_part(&mut seq, on(TYPE_TEXT), WHAT)?;
                    let server_default_sql = optional_part(&mut seq, on(SERVER_DEFAULT_SQL), WHAT)?;
                    let foreign_keys: Vec<String> =
                        optional_part(&mut seq, on(FOREIGN_KEYS), WHAT)?.unwrap_or_default();
                    let enum_type: Option<Box<ModelEnum>> =
                        optional_part(&mut seq, on(ENUM_TYPE), WHAT)?;
                    let comment = optional_part(&mut seq, on(COMMENT), WHAT)?;
                    let location: Location = next_part(&mut seq, WHAT)?;
                    Ok(Column(ModelColumn {
                        name,
                        attribute,
                        ty,
                        type_text,
                        nullable: on(NULLABLE_KNOWN).then_some(on(NULLABLE)),
                        primary_key: on(PRIMARY_KEY),
                        server_default: on(SERVER_DEFAULT),
                        server_default_sql,
                        index: on(INDEX),
                        unique: on(UNIQUE),
                        foreign_keys,
                        enum_type,
                        comment,
                        location,
                    }))
                }
            }
            // Postcard writes a tuple's parts one after the other and reads as many as the
            // visitor asks for: `MOST_PARTS` is only the bound.
            deserializer.deserialize_tuple(MOST_PARTS, Parts)
        }
    }

    pub fn serialize<S: Serializer>(
        columns: &[ModelColumn],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return columns.serialize(serializer);
        }
        serializer.collect_seq(columns.iter().map(Compact))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<ModelColumn>, D::Error> {
        if deserializer.is_human_readable() {
            return Vec::<ModelColumn>::deserialize(deserializer);
        }
        let columns = Vec::<Column>::deserialize(deserializer)?;
        Ok(columns.into_iter().map(|Column(c)| c).collect())
    }

    #[cfg(test)]
    mod tests {
        use super::super::ModelTable;
        use super::*;
        use crate::source::{Direction, with_shared_paths};

        /// Columns with every combination of flags and parts, in two files.
        fn columns() -> Vec<ModelColumn> {
            (0..64u32)
                .map(|i| {
                    let on = |bit: u32| i & (1 << bit) != 0;
                    ModelColumn {
                        name: format!("column_{i}").into(),
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
                        server_default_sql: on(4).then(|| "now()".into()),
                        index: on(5),
                        unique: i % 5 == 0,
                        foreign_keys: if on(3) {
                            vec!["core.customers.id".to_string(), "Other.id".to_string()]
                        } else {
                            Vec::new()
                        },
                        enum_type: (i % 7 == 0).then(|| {
                            Box::new(ModelEnum {
                                name: "status".to_string(),
                                schema: Some("core".to_string()),
                                values: vec!["new".to_string(), "done".to_string()],
                                native: i % 2 == 0,
                                location: Some(Location::new("enums.py", 3, 1)),
                            })
                        }),
                        comment: (i % 4 == 1).then(|| "why".into()),
                        location: Location::new(
                            if i % 2 == 0 {
                                "a/models.py"
                            } else {
                                "b/models.py"
                            },
                            i + 1,
                            5,
                        ),
                    }
                })
                .collect()
        }

        fn table(columns: Vec<ModelColumn>) -> ModelTable {
            ModelTable {
                schema: Some("core".to_string()),
                name: "customers".to_string(),
                class_name: Some("Customer".to_string()),
                location: Location::new("a/models.py", 1, 1),
                columns,
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
            assert!(postcard::from_bytes::<Column>(&unknown).is_err());
            let known = postcard::to_allocvec(&(0u16, "c", (0u32, 1u32, 1u32))).expect("encode");
            assert!(postcard::from_bytes::<Column>(&known).is_ok());
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
            assert_eq!(back.columns, columns);
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
