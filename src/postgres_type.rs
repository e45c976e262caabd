//! Column types as PostgreSQL knows them.
//!
//! Both sides of the comparison meet here: the SQL reader turns `varchar(20)` into a
//! [`SqlType`], the model side turns `String(20)` into one, and the schema printer spells it the
//! way `information_schema.columns.data_type` does. Canonical names are PostgreSQL's own long
//! spellings (`character varying`, `timestamp with time zone`), so `int4`, `int` and `integer`
//! are one type and never a mismatch.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};

/// A column type.
///
/// Its JSON is `{"name", "modifiers", "array", "user_defined"}`. The compact encoding of the
/// cache (postcard, not human-readable) writes a built-in's name as its number in
/// [`canonical_names`] instead ([`compact`]): a kept replay and a kept resolution hold a type
/// per column, by the tens of thousands, and reading each name back as text was a UTF-8 check
/// and a hash lookup apiece.
///
/// A type is a pointer to its parts ([`TypeParts`], read through `Deref`), the same pointer
/// for equal types made on one thread: a replayed schema and the models hold a type per
/// column, by the tens of thousands, and a handful of distinct types among them (56 bytes a
/// column before; 8 now).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SqlType(std::sync::Arc<TypeParts>);

/// What a [`SqlType`] is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeParts {
    /// Built-in types: PostgreSQL's canonical name (`integer`, `character varying`).
    /// Other types: the name as written, lower-cased unless quoted, schema-qualified when it was
    /// qualified (`core.booking_status`). A built-in's canonical name is the static spelling,
    /// also when read back from the cache: a replayed schema holds tens of thousands of them.
    pub name: Cow<'static, str>,
    /// Type modifiers: the length of `character varying(20)`, precision and scale of
    /// `numeric(10,2)`, the precision of `timestamp(3)`. Two are kept inline (no type has
    /// more): a schema holds a type per column, by the tens of thousands. Encoded as a list.
    pub modifiers: smallvec::SmallVec<[u32; 2]>,
    /// `text[]`, `integer ARRAY`.
    pub array: bool,
    /// Not a built-in type: an enum, a domain or an extension's type.
    pub user_defined: bool,
}

/// How many distinct types a thread keeps to share ([`SqlType::new`]); beyond it, types are
/// made apart (a fuzzer's random type names must not grow a thread's memory without end).
const SHARED_TYPES: usize = 4096;

thread_local! {
    static TYPES: std::cell::RefCell<foldhash::HashSet<std::sync::Arc<TypeParts>>> =
        std::cell::RefCell::default();
    /// The built-in types this thread read from the compact encoding, by their number (the
    /// encoding's head) and modifiers (see [`SqlType`]'s `read_parts`); up to
    /// [`SHARED_TYPES`].
    static DECODED: std::cell::RefCell<foldhash::HashMap<(u16, [u32; 2]), SqlType>> =
        std::cell::RefCell::default();
}

impl SqlType {
    /// The type of these parts: the one this thread already made for equal parts, if any.
    pub fn new(parts: TypeParts) -> SqlType {
        TYPES.with_borrow_mut(|types| {
            if let Some(shared) = types.get(&parts) {
                return SqlType(std::sync::Arc::clone(shared));
            }
            let made = std::sync::Arc::new(parts);
            if types.len() < SHARED_TYPES {
                types.insert(std::sync::Arc::clone(&made));
            }
            SqlType(made)
        })
    }
}

impl std::ops::Deref for SqlType {
    type Target = TypeParts;
    fn deref(&self) -> &TypeParts {
        &self.0
    }
}

/// As the parts were printed when a type held them itself.
impl std::fmt::Debug for SqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlType")
            .field("name", &self.name)
            .field("modifiers", &self.modifiers)
            .field("array", &self.array)
            .field("user_defined", &self.user_defined)
            .finish()
    }
}

/// Built-in names and their canonical spelling. Multi-word names are matched after the reader
/// joins the words with one space and lower-cases them.
const BUILTINS: &[(&str, &str)] = &[
    ("int", "integer"),
    ("int4", "integer"),
    ("integer", "integer"),
    ("serial", "integer"),
    ("serial4", "integer"),
    ("smallint", "smallint"),
    ("int2", "smallint"),
    ("smallserial", "smallint"),
    ("serial2", "smallint"),
    ("bigint", "bigint"),
    ("int8", "bigint"),
    ("bigserial", "bigint"),
    ("serial8", "bigint"),
    ("real", "real"),
    ("float4", "real"),
    ("double precision", "double precision"),
    ("float8", "double precision"),
    ("float", "double precision"),
    ("numeric", "numeric"),
    ("decimal", "numeric"),
    ("dec", "numeric"),
    ("money", "money"),
    ("varchar", "character varying"),
    ("character varying", "character varying"),
    ("char varying", "character varying"),
    ("char", "character"),
    ("character", "character"),
    ("bpchar", "character"),
    ("text", "text"),
    ("citext", "citext"),
    ("bytea", "bytea"),
    ("boolean", "boolean"),
    ("bool", "boolean"),
    ("date", "date"),
    ("timestamp", "timestamp without time zone"),
    ("timestamp without time zone", "timestamp without time zone"),
    ("timestamptz", "timestamp with time zone"),
    ("timestamp with time zone", "timestamp with time zone"),
    ("time", "time without time zone"),
    ("time without time zone", "time without time zone"),
    ("timetz", "time with time zone"),
    ("time with time zone", "time with time zone"),
    ("interval", "interval"),
    ("uuid", "uuid"),
    ("json", "json"),
    ("jsonb", "jsonb"),
    ("xml", "xml"),
    ("inet", "inet"),
    ("cidr", "cidr"),
    ("macaddr", "macaddr"),
    ("macaddr8", "macaddr8"),
    ("bit", "bit"),
    ("bit varying", "bit varying"),
    ("varbit", "bit varying"),
    ("tsvector", "tsvector"),
    ("tsquery", "tsquery"),
    ("oid", "oid"),
    ("point", "point"),
    ("line", "line"),
    ("lseg", "lseg"),
    ("box", "box"),
    ("path", "path"),
    ("polygon", "polygon"),
    ("circle", "circle"),
    ("int4range", "int4range"),
    ("int8range", "int8range"),
    ("numrange", "numrange"),
    ("tsrange", "tsrange"),
    ("tstzrange", "tstzrange"),
    ("daterange", "daterange"),
    ("name", "name"),
    ("regclass", "regclass"),
    (SqlType::ONE_BYTE_CHAR, SqlType::ONE_BYTE_CHAR),
    // The rest of PostgreSQL 15's built-in types, by catalogue name (the oracle's
    // `090_every_builtin_type.sql` holds one column of each).
    ("int4multirange", "int4multirange"),
    ("int8multirange", "int8multirange"),
    ("nummultirange", "nummultirange"),
    ("datemultirange", "datemultirange"),
    ("tsmultirange", "tsmultirange"),
    ("tstzmultirange", "tstzmultirange"),
    ("jsonpath", "jsonpath"),
    ("pg_lsn", "pg_lsn"),
    ("pg_snapshot", "pg_snapshot"),
    ("txid_snapshot", "txid_snapshot"),
    ("refcursor", "refcursor"),
    ("regcollation", "regcollation"),
    ("regconfig", "regconfig"),
    ("regdictionary", "regdictionary"),
    ("regnamespace", "regnamespace"),
    ("regoper", "regoper"),
    ("regoperator", "regoperator"),
    ("regproc", "regproc"),
    ("regprocedure", "regprocedure"),
    ("regrole", "regrole"),
    ("regtype", "regtype"),
    ("tid", "tid"),
    ("xid", "xid"),
    ("xid8", "xid8"),
    ("cid", "cid"),
    ("aclitem", "aclitem"),
    ("gtsvector", "gtsvector"),
    ("int2vector", "int2vector"),
    ("oidvector", "oidvector"),
    ("pg_node_tree", "pg_node_tree"),
    ("pg_ndistinct", "pg_ndistinct"),
    ("pg_dependencies", "pg_dependencies"),
    ("pg_mcv_list", "pg_mcv_list"),
    ("pg_brin_bloom_summary", "pg_brin_bloom_summary"),
    (
        "pg_brin_minmax_multi_summary",
        "pg_brin_minmax_multi_summary",
    ),
];

/// Built-in types that are arrays underneath (`information_schema` says `ARRAY`).
const VECTOR_TYPES: &[&str] = &["int2vector", "oidvector"];

/// Types that `information_schema.columns.data_type` reports as `USER-DEFINED` although they
/// come from a standard extension (they are not built in, but they are not enums either).
const EXTENSION_TYPES: &[&str] = &[
    "citext",
    "geometry",
    "geography",
    "hstore",
    "ltree",
    "vector",
];

/// The canonical built-in names, each once, in the order [`BUILTINS`] first gives them (then
/// [`SqlType::ONE_BYTE_CHAR`]): the numbers of [`compact`]. The cache's keys name the build,
/// so a number never outlives the list it indexes.
pub(crate) fn canonical_names() -> &'static [&'static str] {
    static NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let mut names: Vec<&'static str> = Vec::new();
        for name in BUILTINS
            .iter()
            .map(|&(_, canonical)| canonical)
            .chain([SqlType::ONE_BYTE_CHAR])
        {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    });
    &NAMES
}

/// The position of a canonical built-in name in [`canonical_names`].
fn canonical_index(name: &str) -> Option<usize> {
    static INDEX: std::sync::LazyLock<foldhash::HashMap<&'static str, usize>> =
        std::sync::LazyLock::new(|| {
            canonical_names()
                .iter()
                .enumerate()
                .map(|(i, &name)| (name, i))
                .collect()
        });
    INDEX.get(name).copied()
}

/// The static spelling of a canonical built-in name, for a name read back (see
/// [`SqlType::name`]).
fn canonical_static(name: &str) -> Option<&'static str> {
    canonical_index(name).map(|i| canonical_names()[i])
}

/// [`SqlType`] as JSON writes and reads it.
#[derive(Serialize, Deserialize)]
struct Text<'a> {
    name: Cow<'a, str>,
    modifiers: Cow<'a, [u32]>,
    array: bool,
    user_defined: bool,
}

/// [`SqlType`] in the cache's compact encoding: one number, then only the parts the type
/// has. The number's low byte is a built-in's name as 1 + its number in [`canonical_names`],
/// or 0 for a name written out next; bit 8: an array; bit 9: user-defined; bits 10–11: the
/// count of modifiers (0–2), or 3 when a list of them follows. Then the name (for 0), then the
/// modifiers one by one (or the list). A replayed schema and a kept resolution read a type per
/// column, by the tens of thousands: four parts each (a flag for the absent name, a list for
/// the modifiers) were most of a type's decoding.
mod compact {
    pub const ARRAY: u16 = 1 << 8;
    pub const USER_DEFINED: u16 = 1 << 9;
    pub const COUNT_SHIFT: u16 = 10;
    /// In the count's bits: a list of modifiers follows.
    pub const LISTED: u16 = 3;
}

impl Serialize for SqlType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return Text {
                name: Cow::Borrowed(&self.name),
                modifiers: Cow::Borrowed(&self.modifiers),
                array: self.array,
                user_defined: self.user_defined,
            }
            .serialize(serializer);
        }
        crate::cache::Compact(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SqlType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = Text::deserialize(deserializer)?;
            let name = match canonical_static(&text.name) {
                Some(name) => Cow::Borrowed(name),
                None => Cow::Owned(text.name.into_owned()),
            };
            return Ok(SqlType::new(TypeParts {
                name,
                modifiers: smallvec::SmallVec::from_slice(&text.modifiers),
                array: text.array,
                user_defined: text.user_defined,
            }));
        }
        crate::cache::FromParts::deserialize(deserializer).map(|crate::cache::FromParts(ty)| ty)
    }
}

impl crate::cache::CompactParts for SqlType {
    const WHAT: &'static str = "a type";
    /// The number, a name, two modifiers.
    const MOST_PARTS: usize = 4;

    fn part_count(&self) -> usize {
        let (builtin, count) = self.compact_head_parts();
        1 + usize::from(builtin.is_none())
            + if count == compact::LISTED {
                1
            } else {
                usize::from(count)
            }
    }

    fn write_parts<S: serde::ser::SerializeTuple>(&self, out: &mut S) -> Result<(), S::Error> {
        let (builtin, count) = self.compact_head_parts();
        let mut head = u16::from(builtin.unwrap_or(0)) | (count << compact::COUNT_SHIFT);
        if self.array {
            head |= compact::ARRAY;
        }
        if self.user_defined {
            head |= compact::USER_DEFINED;
        }
        out.serialize_element(&head)?;
        if builtin.is_none() {
            out.serialize_element(&*self.name)?;
        }
        if count == compact::LISTED {
            out.serialize_element(&self.modifiers)
        } else {
            self.modifiers
                .iter()
                .try_for_each(|modifier| out.serialize_element(modifier))
        }
    }

    fn read_parts<'de, A: serde::de::SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error> {
        use crate::cache::next_part;
        use serde::de::Error;
        const WHAT: &str = SqlType::WHAT;
        let head: u16 = next_part(seq, WHAT)?;
        if head >> (compact::COUNT_SHIFT + 2) != 0 {
            return Err(A::Error::custom("unknown type flags"));
        }
        let count = (head >> compact::COUNT_SHIFT) & 3;
        let name = match usize::from(head & 0xff) {
            0 => {
                let text: Cow<'de, str> = next_part(seq, WHAT)?;
                match canonical_static(&text) {
                    Some(name) => Cow::Borrowed(name),
                    None => Cow::Owned(text.into_owned()),
                }
            }
            n => Cow::Borrowed(
                *canonical_names()
                    .get(n - 1)
                    .ok_or_else(|| A::Error::custom("unknown built-in type number"))?,
            ),
        };
        let modifiers = if count == compact::LISTED {
            next_part(seq, WHAT)?
        } else {
            let mut modifiers = smallvec::SmallVec::new();
            for _ in 0..count {
                modifiers.push(next_part(seq, WHAT)?);
            }
            modifiers
        };
        let parts = TypeParts {
            name,
            modifiers,
            array: head & compact::ARRAY != 0,
            user_defined: head & compact::USER_DEFINED != 0,
        };
        // A built-in type with at most two modifiers (nearly every column's): its number and
        // modifiers are the whole type, so a type read before on this thread is shared by
        // them alone, without hashing its parts.
        if head & 0xff == 0 || count == compact::LISTED {
            return Ok(SqlType::new(parts));
        }
        let modifier = |i: usize| parts.modifiers.get(i).copied().unwrap_or(0);
        let key = (head, [modifier(0), modifier(1)]);
        if let Some(known) = DECODED.with_borrow(|decoded| decoded.get(&key).cloned()) {
            return Ok(known);
        }
        let ty = SqlType::new(parts);
        DECODED.with_borrow_mut(|decoded| {
            if decoded.len() < SHARED_TYPES {
                decoded.insert(key, ty.clone());
            }
        });
        Ok(ty)
    }
}

impl SqlType {
    /// A built-in's number in the compact encoding (`None`: the name is written), and the
    /// count of modifiers as the encoding's two bits say it.
    fn compact_head_parts(&self) -> (Option<u8>, u16) {
        let builtin = canonical_index(&self.name).and_then(|i| u8::try_from(i + 1).ok());
        let count = match self.modifiers.len() {
            n @ 0..=2 => n as u16,
            _ => compact::LISTED,
        };
        (builtin, count)
    }
}

impl SqlType {
    /// PostgreSQL's internal one-byte `"char"` type, spelled with its quotes (as
    /// `information_schema` spells it) so that it never meets `char` (`character`).
    pub const ONE_BYTE_CHAR: &'static str = "\"char\"";

    /// A type from its name as written in SQL (`VARCHAR`, `double precision`, `core.status`,
    /// `pg_catalog.int4`) and its modifiers. Quoted names keep their case; pass them already
    /// unquoted with `quoted = true`.
    pub fn from_sql_name(name: &str, modifiers: Vec<u32>, quoted: bool) -> SqlType {
        let lowered = if quoted {
            name.to_string()
        } else {
            name.to_ascii_lowercase()
        };
        let bare = lowered.strip_prefix("pg_catalog.").unwrap_or(&lowered);
        let builtin = BUILTINS.iter().find(|(alias, _)| *alias == bare);
        let modifiers = smallvec::SmallVec::from_slice(&modifiers);
        match builtin {
            Some((alias, canonical)) => {
                let mut modifiers = modifiers;
                // `float(p)`: p <= 24 is real, otherwise double precision; no modifier remains.
                let canonical = if *alias == "float" {
                    let p = modifiers.first().copied().unwrap_or(53);
                    modifiers.clear();
                    if p <= 24 { "real" } else { "double precision" }
                } else {
                    canonical
                };
                let user_defined = EXTENSION_TYPES.contains(&canonical);
                SqlType::new(TypeParts {
                    name: Cow::Borrowed(canonical),
                    modifiers,
                    array: false,
                    user_defined,
                })
            }
            None => SqlType::new(TypeParts {
                name: Cow::Owned(lowered),
                modifiers,
                array: false,
                user_defined: true,
            }),
        }
    }

    /// A built-in type by canonical name, without modifiers.
    pub fn builtin(name: &str) -> SqlType {
        SqlType::from_sql_name(name, Vec::new(), false)
    }

    /// The same type as an array.
    pub fn into_array(self) -> SqlType {
        SqlType::new(TypeParts {
            array: true,
            ..(*self.0).clone()
        })
    }

    /// Whether the name was `serial`, `bigserial` or `smallserial`: such a column gets a
    /// sequence default and NOT NULL.
    pub fn is_serial_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "serial" | "serial2" | "serial4" | "serial8" | "smallserial" | "bigserial"
        )
    }

    /// `information_schema.columns.data_type` spelling: `ARRAY` for arrays, `USER-DEFINED` for
    /// enums and extension types, otherwise the canonical name.
    pub fn information_schema_data_type(&self) -> String {
        if self.array || VECTOR_TYPES.contains(&&*self.name) {
            "ARRAY".to_string()
        } else if self.user_defined {
            "USER-DEFINED".to_string()
        } else {
            self.name.to_string()
        }
    }

    /// A type of a standard extension (`citext`, `geometry`, `hstore` …): user-defined for
    /// `information_schema`, but not an enum or a domain.
    pub fn is_extension_type(&self) -> bool {
        EXTENSION_TYPES.contains(&&*self.name)
    }

    /// The unqualified name of a user-defined type (`core.status` → `status`).
    pub fn user_type_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// SQL to write in a migration: `VARCHAR(20)`, `NUMERIC(10, 2)`, `TIMESTAMPTZ`, `core.status`.
    pub fn to_sql(&self) -> String {
        let base = match &*self.name {
            "character varying" => "VARCHAR".to_string(),
            "character" => "CHAR".to_string(),
            "timestamp with time zone" => "TIMESTAMPTZ".to_string(),
            "timestamp without time zone" => "TIMESTAMP".to_string(),
            "time with time zone" => "TIMETZ".to_string(),
            "time without time zone" => "TIME".to_string(),
            other if self.user_defined || other == SqlType::ONE_BYTE_CHAR => other.to_string(),
            other => other.to_ascii_uppercase(),
        };
        let mut out = base;
        if !self.modifiers.is_empty() {
            let mods: Vec<String> = self.modifiers.iter().map(u32::to_string).collect();
            out.push('(');
            out.push_str(&mods.join(", "));
            out.push(')');
        }
        if self.array {
            out.push_str("[]");
        }
        out
    }
}

impl std::fmt::Display for SqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_sql())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_in_name_read_back_is_its_static_spelling_and_others_are_owned() {
        let types = vec![
            SqlType::from_sql_name("varchar", vec![40], false),
            SqlType::from_sql_name("TIMESTAMPTZ", vec![], false),
            SqlType::from_sql_name(SqlType::ONE_BYTE_CHAR, vec![], true),
            SqlType::from_sql_name("core.booking_status", vec![], false),
            SqlType::from_sql_name("Mood", vec![], true),
        ];
        assert!(matches!(types[0].name, Cow::Borrowed("character varying")));
        assert!(matches!(types[3].name, Cow::Owned(_)));
        let bytes = postcard::to_allocvec(&types).expect("encodes");
        let postcard_back: Vec<SqlType> = postcard::from_bytes(&bytes).expect("decodes");
        let json_back: Vec<SqlType> =
            serde_json::from_str(&serde_json::to_string(&types).expect("encodes"))
                .expect("decodes");
        for back in [&postcard_back, &json_back] {
            assert_eq!(back, &types);
            let borrowed: Vec<bool> = back
                .iter()
                .map(|t| matches!(t.name, Cow::Borrowed(_)))
                .collect();
            assert_eq!(borrowed, [true, true, true, false, false]);
        }
        assert_eq!(postcard_back[4].name, "Mood");
        // In the cache a built-in is its number, another type its name after a 0, both in one
        // number with the flags and the count of modifiers.
        let varchar = canonical_index("character varying").expect("a built-in") as u16 + 1;
        assert_eq!(
            postcard::to_allocvec(&types[0]).expect("encodes"),
            postcard::to_allocvec(&(varchar | (1 << compact::COUNT_SHIFT), 40u32))
                .expect("encodes")
        );
        assert_eq!(
            postcard::to_allocvec(&types[4]).expect("encodes"),
            postcard::to_allocvec(&(compact::USER_DEFINED, "Mood")).expect("encodes")
        );
        assert!(serde_json::to_string(&types[0]).expect("encodes").contains(
            r#""name":"character varying","modifiers":[40],"array":false,"user_defined":false"#
        ));
    }

    #[test]
    fn equal_types_made_on_one_thread_share_their_parts() {
        let a = SqlType::from_sql_name("VARCHAR", vec![40], false);
        let b = SqlType::from_sql_name("character varying", vec![40], false);
        assert!(std::sync::Arc::ptr_eq(&a.0, &b.0));
        let decoded: SqlType =
            postcard::from_bytes(&postcard::to_allocvec(&a).expect("encodes")).expect("decodes");
        assert!(std::sync::Arc::ptr_eq(&a.0, &decoded.0));
        let array = a.clone().into_array();
        assert!(array.array && !a.array, "an array type is another type");
        assert_eq!(array.name, a.name);
        let other = SqlType::from_sql_name("varchar", vec![41], false);
        assert_ne!(other, a);
        assert!(!std::sync::Arc::ptr_eq(&a.0, &other.0));
        // Made on another thread: equal, not shared.
        let there = std::thread::spawn(|| SqlType::from_sql_name("varchar", vec![40], false))
            .join()
            .expect("thread");
        assert_eq!(there, a);
        assert!(!std::sync::Arc::ptr_eq(&a.0, &there.0));
        // Past the cap, a thread makes types apart (and still equal to themselves).
        std::thread::spawn(|| {
            for n in 0..SHARED_TYPES + 10 {
                let name = format!("custom_{n}");
                let first = SqlType::from_sql_name(&name, vec![], false);
                let again = SqlType::from_sql_name(&name, vec![], false);
                assert_eq!(first, again);
                assert_eq!(std::sync::Arc::ptr_eq(&first.0, &again.0), n < SHARED_TYPES);
            }
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn types_read_back_are_the_types_written_and_built_ins_are_shared_by_their_numbers() {
        std::thread::spawn(|| {
            let round = |ty: &SqlType| -> SqlType {
                let bytes = postcard::to_allocvec(ty).expect("encodes");
                postcard::from_bytes(&bytes).expect("decodes")
            };
            let types = [
                SqlType::from_sql_name("integer", vec![], false),
                SqlType::from_sql_name("varchar", vec![40], false),
                SqlType::from_sql_name("varchar", vec![41], false),
                SqlType::from_sql_name("numeric", vec![10, 2], false),
                SqlType::from_sql_name("numeric", vec![10, 3], false),
                SqlType::from_sql_name("numeric", vec![10, 2], false).into_array(),
                SqlType::from_sql_name("varchar", vec![u32::MAX], false),
                // Three modifiers, a user-defined and an unknown name: read part by part.
                SqlType::new(TypeParts {
                    name: Cow::Borrowed("numeric"),
                    modifiers: smallvec::smallvec![1, 2, 3],
                    array: false,
                    user_defined: false,
                }),
                SqlType::from_sql_name("core.status", vec![], false),
                SqlType::from_sql_name("citext", vec![], false),
            ];
            for ty in &types {
                let first = round(ty);
                assert_eq!(&first, ty);
                assert_eq!(format!("{first:?}"), format!("{ty:?}"));
                let again = round(ty);
                assert!(std::sync::Arc::ptr_eq(&first.0, &again.0), "{ty:?}");
            }
            // Read on a thread that had never seen them: the same types, made there.
            let there: Vec<SqlType> = std::thread::spawn({
                let bytes: Vec<Vec<u8>> = types
                    .iter()
                    .map(|ty| postcard::to_allocvec(ty).expect("encodes"))
                    .collect();
                move || {
                    bytes
                        .iter()
                        .map(|b| postcard::from_bytes(b).expect("decodes"))
                        .collect()
                }
            })
            .join()
            .expect("thread");
            assert_eq!(there, types);
            // Past the cap, built-ins read back are made apart, and still equal.
            for n in 0..SHARED_TYPES as u32 + 10 {
                let ty = SqlType::from_sql_name("varchar", vec![1000 + n], false);
                assert_eq!(round(&ty), ty);
            }
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn every_built_in_name_has_one_number_and_bad_numbers_do_not_decode() {
        let names = canonical_names();
        assert!(names.len() < usize::from(u8::MAX));
        for (i, name) in names.iter().enumerate() {
            assert_eq!(canonical_index(name), Some(i));
            let ty = SqlType::new(TypeParts {
                name: Cow::Borrowed(name),
                modifiers: smallvec::SmallVec::new(),
                array: true,
                user_defined: false,
            });
            let back: SqlType = postcard::from_bytes(&postcard::to_allocvec(&ty).expect("encodes"))
                .expect("decodes");
            assert_eq!(back, ty);
            assert!(matches!(back.name, Cow::Borrowed(_)));
        }
        for bad in [
            // A name announced, none written.
            postcard::to_allocvec(&0u16),
            // No built-in has that number.
            postcard::to_allocvec(&0xffu16),
            // Flags no version writes.
            postcard::to_allocvec(&(1u16 | (1 << 12))),
            // Two modifiers announced, one written.
            postcard::to_allocvec(&(1u16 | (2 << compact::COUNT_SHIFT), 7u32)),
        ] {
            let bytes = bad.expect("encodes");
            assert!(postcard::from_bytes::<SqlType>(&bytes).is_err());
        }
    }

    #[test]
    fn modifiers_are_inline_up_to_two_and_encode_one_by_one_or_as_a_list() {
        for (name, modifiers) in [
            ("varchar", vec![40]),
            ("numeric", vec![10, 2]),
            ("text", vec![]),
            ("core.odd_type", vec![1, 2, 3]),
        ] {
            let ty = SqlType::from_sql_name(name, modifiers.clone(), false);
            assert_eq!(ty.modifiers.as_slice(), modifiers.as_slice());
            assert_eq!(ty.modifiers.spilled(), modifiers.len() > 2);
            let bytes = postcard::to_allocvec(&ty).expect("encodes");
            let number = canonical_index(&ty.name).map_or(0, |i| i as u16 + 1);
            let flags = if ty.user_defined {
                compact::USER_DEFINED
            } else {
                0
            };
            let count = (modifiers.len().min(3) as u16) << compact::COUNT_SHIFT;
            let mut plain = postcard::to_allocvec(&(number | flags | count)).expect("encodes");
            if number == 0 {
                plain.extend(postcard::to_allocvec(&*ty.name).expect("encodes"));
            }
            if modifiers.len() > 2 {
                plain.extend(postcard::to_allocvec(&modifiers).expect("encodes"));
            } else {
                for modifier in &modifiers {
                    plain.extend(postcard::to_allocvec(modifier).expect("encodes"));
                }
            }
            assert_eq!(bytes, plain);
            let back: SqlType = postcard::from_bytes(&bytes).expect("decodes");
            assert_eq!(back, ty);
            assert_eq!(back.modifiers.spilled(), modifiers.len() > 2);
            let json = serde_json::to_string(&ty).expect("encodes");
            assert!(json.contains(&format!(
                "\"modifiers\":{}",
                serde_json::to_string(&modifiers).expect("encodes")
            )));
            assert_eq!(serde_json::from_str::<SqlType>(&json).expect("decodes"), ty);
        }
    }

    #[test]
    fn aliases_share_one_canonical_name() {
        for alias in ["int", "INT4", "integer", "serial"] {
            assert_eq!(SqlType::from_sql_name(alias, vec![], false).name, "integer");
        }
        assert_eq!(
            SqlType::from_sql_name("TIMESTAMPTZ", vec![], false).information_schema_data_type(),
            "timestamp with time zone"
        );
        assert_eq!(
            SqlType::from_sql_name("float", vec![10], false).name,
            "real"
        );
        assert_eq!(
            SqlType::from_sql_name("pg_catalog.int8", vec![], false).name,
            "bigint"
        );
        // `DEC` is the grammar's other spelling of `DECIMAL` (found by the PostgreSQL oracle).
        assert_eq!(
            SqlType::from_sql_name("DEC", vec![10, 2], false).name,
            "numeric"
        );
    }

    #[test]
    fn user_defined_and_arrays_are_spelled_like_information_schema() {
        let status = SqlType::from_sql_name("core.Booking_Status", vec![], false);
        assert_eq!(status.name, "core.booking_status");
        assert_eq!(status.information_schema_data_type(), "USER-DEFINED");
        assert_eq!(status.user_type_name(), "booking_status");
        let tags = SqlType::builtin("text").into_array();
        assert_eq!(tags.information_schema_data_type(), "ARRAY");
        assert_eq!(
            SqlType::builtin("citext").information_schema_data_type(),
            "USER-DEFINED"
        );
    }

    #[test]
    fn catalogue_types_are_built_in() {
        // Found by the PostgreSQL oracle: these were reported as USER-DEFINED.
        for (name, data_type) in [
            ("int4multirange", "int4multirange"),
            ("pg_lsn", "pg_lsn"),
            ("regclass", "regclass"),
            ("regtype", "regtype"),
            ("xid8", "xid8"),
            ("int2vector", "ARRAY"),
            ("oidvector", "ARRAY"),
        ] {
            let ty = SqlType::builtin(name);
            assert!(!ty.user_defined, "{name}");
            assert_eq!(ty.information_schema_data_type(), data_type);
        }
    }

    #[test]
    fn the_one_byte_char_type_is_not_character() {
        let one = SqlType::from_sql_name(SqlType::ONE_BYTE_CHAR, vec![], true);
        assert_eq!(one.information_schema_data_type(), "\"char\"");
        assert_eq!(one.to_sql(), "\"char\"");
        assert!(!one.user_defined);
        assert_eq!(SqlType::builtin("char").name, "character");
    }

    #[test]
    fn to_sql_is_what_a_migration_would_say() {
        assert_eq!(
            SqlType::from_sql_name("varchar", vec![20], false).to_sql(),
            "VARCHAR(20)"
        );
        assert_eq!(
            SqlType::from_sql_name("decimal", vec![10, 2], false).to_sql(),
            "NUMERIC(10, 2)"
        );
        assert_eq!(SqlType::builtin("timestamptz").to_sql(), "TIMESTAMPTZ");
        assert_eq!(SqlType::builtin("text").into_array().to_sql(), "TEXT[]");
    }
}
