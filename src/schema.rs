//! Schema change events → the schema they build.
//!
//! [`replay`] applies the events of one migration *source* (the SQL files, or one Alembic
//! environment) in order, the way PostgreSQL would run them one file after another with `psql`:
//! `search_path` starts at the source's default schema in every file, an unqualified
//! `CREATE TABLE` lands in the first schema of the path that exists, an unqualified
//! `ALTER TABLE` finds the first schema of the path that has the table, and a statement that
//! would fail in PostgreSQL (adding a column that exists, dropping one that does not) changes
//! nothing. `IF` guards over `information_schema` are evaluated against the schema built so
//! far; any other condition runs its `THEN` branch.
//!
//! **What PostgreSQL rejects** (DG008). A SQL file given with its statements
//! ([`FileEvents::statements`]) runs statement by statement as `psql -f` runs it: a statement
//! that fails ([`Failure`]) changes nothing, and inside `BEGIN … COMMIT` its whole transaction
//! is void ([`replay_checked`]). Only what is certain is reported: not inside `DO` blocks,
//! `IF`s it cannot evaluate or statements not fully read, not about columns of tables made
//! outside the migrations or by another source.
//!
//! Every table, column and enum remembers the [`Location`] of the statement that created it
//! (or last renamed it), for "created here" labels.
//!
//! **One database.** [`replay_sources`] replays several sources (the SQL files, each Alembic
//! environment) into one schema, as a team that runs them all against one database gets it:
//! sources in the order given ([`crate::migrations::sources`] decides: Alembic environments by
//! path, then SQL), and per table the source that creates it first. Three rules make that work
//! without knowing in which order a team really ran them:
//!
//! - **Outside tables.** A statement that alters a table no migration of its own source
//!   creates (`ALTER TABLE core.customers ADD COLUMN …` on a table an Alembic chain,
//!   `create_all` or the platform made) applies to that table: it exists, made elsewhere
//!   ([`Origin::Outside`]), and gets the columns the migrations add. An `ALTER` on a table its
//!   own source creates later, or dropped earlier, fails as in PostgreSQL and changes nothing.
//! - **The creating source first.** When a source creates a table that another source already
//!   altered, the created columns come first and the added ones after, as if the creating
//!   source had run first.
//! - **No source undoes another.** A `DROP` of a table or column that another source made is
//!   kept out, with a warning at the `DROP`: sources writing one database must not silently
//!   cancel each other.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::{BTreeMap, BTreeSet};

use crate::finding::Warning;
use crate::migrations::{
    ColumnDef, Condition, ForeignKeyRef, QualifiedName, ReadWarning, SchemaChange, Statement,
    StatementKind,
};
use crate::postgres_type::{SqlType, TypeParts};
use crate::source::Location;

pub mod resume;

/// A table's columns: read back from a kept replay, decoded when first read.
pub type Columns = crate::lazy::LazyList<Column>;

impl crate::lazy::Listed for Column {
    fn decoded() -> &'static std::sync::atomic::AtomicUsize {
        static DECODED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        &DECODED
    }
}

/// A column of the replayed schema.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Column {
    pub name: compact_str::CompactString,
    /// A pointer to parts shared with the equal types of the schema ([`SqlType`]): 168 → 120
    /// bytes a column.
    pub ty: SqlType,
    pub nullable: bool,
    /// Inline up to 24 bytes (`true`, `now()`, `'pending'`): a schema holds tens of thousands
    /// of columns.
    pub default: Option<compact_str::CompactString>,
    pub primary_key: bool,
    /// Boxed: few columns reference another table, and a replayed schema holds its columns
    /// by the tens of thousands (240 → 176 bytes a column).
    pub references: Option<Box<ForeignKeyRef>>,
    /// The statement that created the column (or last renamed or retyped it).
    pub location: Location,
    /// Only inherited from a parent (`INHERITS`, `PARTITION OF`), not declared by this table:
    /// such a column goes when the parent drops it.
    pub inherited: bool,
    /// The domain the column was declared with (`core.email_address`); `ty` is then the
    /// domain's type, as `information_schema.columns.data_type` reports it.
    pub domain: Option<Box<str>>,
    /// The source (index in [`replay_sources`]) that added the column.
    #[serde(default)]
    pub source: usize,
}

/// A column of the replayed schema as a kept replay holds it
/// ([`crate::cache::CompactParts`]): its flags and which optional parts it has in one number,
/// then those parts. A kept replay's tens of thousands of columns are decoded on every new
/// edit; field by field (ten, most of them absent, `false` or 0) that was most of its decoding.
mod compact_columns {
    use serde::de::{Error, SeqAccess};
    use serde::ser::SerializeTuple;

    use super::Column;
    use crate::cache::{CompactParts, flags, next_part, optional_part};

    const NULLABLE: u16 = 1;
    const PRIMARY_KEY: u16 = 1 << 1;
    const INHERITED: u16 = 1 << 2;
    const DEFAULT: u16 = 1 << 3;
    const REFERENCES: u16 = 1 << 4;
    const DOMAIN: u16 = 1 << 5;
    const SOURCE: u16 = 1 << 6;

    impl CompactParts for Column {
        const WHAT: &'static str = "a column";
        /// Flags, name, type, the four optional parts, location.
        const MOST_PARTS: usize = 8;

        fn part_count(&self) -> usize {
            4 + (self.flags() >> 3).count_ones() as usize
        }

        fn write_parts<S: SerializeTuple>(&self, out: &mut S) -> Result<(), S::Error> {
            out.serialize_element(&self.flags())?;
            out.serialize_element(self.name.as_str())?;
            out.serialize_element(&self.ty)?;
            if let Some(default) = &self.default {
                out.serialize_element(default.as_str())?;
            }
            if let Some(references) = &self.references {
                out.serialize_element(references)?;
            }
            if let Some(domain) = &self.domain {
                out.serialize_element(domain)?;
            }
            if self.source != 0 {
                out.serialize_element(&self.source)?;
            }
            out.serialize_element(&self.location)
        }

        fn read_parts<'de, A: SeqAccess<'de>>(seq: &mut A) -> Result<Self, A::Error> {
            const WHAT: &str = Column::WHAT;
            let flags: u16 = next_part(seq, WHAT)?;
            if flags >> 7 != 0 {
                return Err(A::Error::custom("unknown column flags"));
            }
            let on = |flag: u16| flags & flag != 0;
            Ok(Column {
                name: next_part(seq, WHAT)?,
                ty: next_part(seq, WHAT)?,
                default: optional_part(seq, on(DEFAULT), WHAT)?,
                references: optional_part(seq, on(REFERENCES), WHAT)?,
                domain: optional_part(seq, on(DOMAIN), WHAT)?,
                source: optional_part(seq, on(SOURCE), WHAT)?.unwrap_or(0),
                location: next_part(seq, WHAT)?,
                nullable: on(NULLABLE),
                primary_key: on(PRIMARY_KEY),
                inherited: on(INHERITED),
            })
        }
    }

    impl Column {
        fn flags(&self) -> u16 {
            flags([
                (self.nullable, NULLABLE),
                (self.primary_key, PRIMARY_KEY),
                (self.inherited, INHERITED),
                (self.default.is_some(), DEFAULT),
                (self.references.is_some(), REFERENCES),
                (self.domain.is_some(), DOMAIN),
                (self.source != 0, SOURCE),
            ])
        }
    }
}

/// Where a table comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A migration creates it.
    #[default]
    Migrations,
    /// No migration creates it; migrations only alter it. It was made elsewhere: by another
    /// tool, `metadata.create_all()`, the platform (`auth.users`).
    Outside,
}

// Serialize by hand: JSON leaves out an empty `altered_at`, but a compact encoding (the
// replay state, [`resume`]) cannot skip a field.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// In creation order, like `information_schema.columns.ordinal_position`; read back from
    /// a kept replay, decoded when first read ([`Columns`]).
    pub columns: Columns,
    /// The statement that created it; for an outside table, the first that altered it.
    pub location: Location,
    /// The tables it inherits from or is a partition of: their column changes reach it.
    pub parents: Vec<(String, String)>,
    #[serde(default)]
    pub origin: Origin,
    /// The source (index in [`replay_sources`]) that created it.
    #[serde(default)]
    pub source: usize,
    /// For an outside table: the statements that altered it, in order.
    #[serde(default)]
    pub altered_at: Vec<Location>,
}

impl serde::Serialize for Table {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let readable = serializer.is_human_readable();
        let mut out = serializer.serialize_struct("Table", 8)?;
        out.serialize_field("schema", &self.schema)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("columns", &self.columns)?;
        out.serialize_field("location", &self.location)?;
        out.serialize_field("parents", &self.parents)?;
        out.serialize_field("origin", &self.origin)?;
        out.serialize_field("source", &self.source)?;
        if self.altered_at.is_empty() && readable {
            out.skip_field("altered_at")?;
        } else {
            out.serialize_field("altered_at", &self.altered_at)?;
        }
        out.end()
    }
}

impl Table {
    /// A table without columns, created by a migration of the first source.
    pub fn new(schema: &str, name: &str, location: Location) -> Table {
        Table {
            schema: schema.to_string(),
            name: name.to_string(),
            columns: Columns::default(),
            location,
            parents: Vec::new(),
            origin: Origin::Migrations,
            source: 0,
            altered_at: Vec::new(),
        }
    }

    /// The column named `name`. Lengths are compared before bytes: the rules ask for every
    /// model column's migrated one, and the comparison of two inline names was mostly the call
    /// that compares their bytes.
    pub fn column(&self, name: &str) -> Option<&Column> {
        let name = name.as_bytes();
        self.columns.iter().find(|c| {
            let other = c.name.as_bytes();
            other.len() == name.len() && other.first() == name.first() && other == name
        })
    }

    fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnumType {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
    pub location: Location,
    /// Where each value was added (`CREATE TYPE` for the first ones).
    pub value_locations: Vec<Location>,
}

/// The schema a migration source builds.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    pub schemas: BTreeSet<String>,
    /// Keyed by (schema, table).
    #[serde(deserialize_with = "map_in_bulk")]
    pub tables: BTreeMap<(String, String), Table>,
    /// Keyed by (schema, type name).
    #[serde(deserialize_with = "map_in_bulk")]
    pub enums: BTreeMap<(String, String), EnumType>,
    /// Keyed by (schema, domain name).
    #[serde(deserialize_with = "map_in_bulk")]
    pub domains: BTreeMap<(String, String), Domain>,
}

/// A map read back in one piece: its entries gathered, then the tree built from them at once
/// (they come in key order, as written), instead of inserted one by one — a kept replay holds
/// thousands of tables. The same map either way (a repeated key keeps its last value).
fn map_in_bulk<'de, D, K, V>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Ord + serde::Deserialize<'de>,
    V: serde::Deserialize<'de>,
{
    struct Entries<K, V>(std::marker::PhantomData<(K, V)>);
    impl<'de, K, V> serde::de::Visitor<'de> for Entries<K, V>
    where
        K: Ord + serde::Deserialize<'de>,
        V: serde::Deserialize<'de>,
    {
        type Value = BTreeMap<K, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            // A damaged length is not trusted beyond 65,536 entries (sized for a project's
            // tables: from 4,096, a kept replay of 5,000 tables grew the list once, copying
            // 0.8 MB into 1.7 MB of fresh memory).
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 16));
            while let Some(entry) = map.next_entry()? {
                entries.push(entry);
            }
            Ok(BTreeMap::from_iter(entries))
        }
    }
    deserializer.deserialize_map(Entries(std::marker::PhantomData))
}

/// A `CREATE DOMAIN`: a named type over another, possibly NOT NULL.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Domain {
    pub schema: String,
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
    pub location: Location,
}

/// A key of [`Schema`]'s maps built in a buffer of this thread's, so that a lookup by two
/// borrowed names allocates nothing (the rules look up every model table: thousands a check).
fn with_key<R>(schema: &str, name: &str, f: impl FnOnce(&(String, String)) -> R) -> R {
    thread_local! {
        static KEY: std::cell::RefCell<(String, String)> =
            const { std::cell::RefCell::new((String::new(), String::new())) };
    }
    KEY.with(|key| match key.try_borrow_mut() {
        Ok(mut key) => {
            key.0.clear();
            key.0.push_str(schema);
            key.1.clear();
            key.1.push_str(name);
            f(&key)
        }
        // Never nested today; if it were, an owned key.
        Err(_) => f(&(schema.to_string(), name.to_string())),
    })
}

impl Schema {
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        with_key(schema, name, |key| self.tables.get(key))
    }

    /// Tables of that name in any schema, in schema order. A look-up in each schema the tables
    /// are in (a handful), not a pass over every table: the rules ask it for each finding, and
    /// 400 findings over 5,000 tables were 6 ms. (A table's key is always its schema and name.)
    pub fn tables_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Table> + 'a {
        let mut schema = self.tables.keys().next().map(|(schema, _)| schema);
        std::iter::from_fn(move || {
            while let Some(current) = schema {
                schema = self.schema_after(current);
                if let Some(table) = self.table(current, name) {
                    return Some(table);
                }
            }
            None
        })
    }

    /// The first schema after `schema` that holds a table (keys sort by schema first, and the
    /// least string greater than `schema` is `schema` followed by U+0000).
    fn schema_after(&self, schema: &str) -> Option<&String> {
        let next = (format!("{schema}\0"), String::new());
        self.tables
            .range(next..)
            .next()
            .map(|((schema, _), _)| schema)
    }

    /// Whether a table lies in `schema`.
    pub fn has_table_in(&self, schema: &str) -> bool {
        let first = (schema.to_string(), String::new());
        self.tables
            .range(first..)
            .next()
            .is_some_and(|((s, _), _)| s == schema)
    }

    pub fn enum_type(&self, schema: &str, name: &str) -> Option<&EnumType> {
        with_key(schema, name, |key| self.enums.get(key))
    }
}

/// One file's events, in migration order.
pub struct FileEvents<'a> {
    pub changes: &'a [SchemaChange],
    /// A SQL file's top-level statements ([`crate::migrations::SqlFacts`]). With them the
    /// replay runs the file statement by statement as `psql -f` does, and finds what
    /// PostgreSQL would reject ([`Failure`]); empty (Alembic revisions, tests): no check.
    pub statements: &'a [Statement],
    /// The reader's warnings for the file: a statement with one is not checked (part of it
    /// was not read).
    pub warnings: &'a [ReadWarning],
}

impl<'a> FileEvents<'a> {
    /// A file's events without statement checks.
    pub fn plain(changes: &'a [SchemaChange]) -> FileEvents<'a> {
        FileEvents {
            changes,
            statements: &[],
            warnings: &[],
        }
    }
}

/// A statement PostgreSQL would reject given the schema the migrations before it built
/// (DG008). `psql -f` without `ON_ERROR_STOP` skips it and goes on; inside `BEGIN … COMMIT`
/// the whole transaction is void, earlier statements included: the replayed schema leaves out
/// what the statement, or its transaction, would have made.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// The statement's first token.
    pub location: Location,
    /// 1-based, among the file's top-level statements: the finding's identity.
    pub ordinal: usize,
    /// The error, as PostgreSQL words it.
    pub error: String,
    /// Places that explain it: where a table was created later or dropped, the referenced key.
    pub related: Vec<(String, Location)>,
    /// The transaction the failure voids: where its `BEGIN` is, and how many statements of it
    /// that change the schema ran before this one (and are undone).
    pub transaction: Option<(Location, usize)>,
    source: usize,
    file: usize,
}

/// What [`replay_checked`] finds: the schema, the replay's warnings, and the statements
/// PostgreSQL would reject.
#[derive(Debug, Default)]
pub struct Replayed {
    pub schema: Schema,
    pub warnings: Vec<Warning>,
    pub failures: Vec<Failure>,
}

/// One migration source's files, in the order they run.
pub struct SourceEvents<'a> {
    /// For warnings: `SQL migrations`, `Alembic (migrations)`.
    pub name: &'a str,
    /// Where an unqualified name goes when a file starts.
    pub default_schema: &'a str,
    /// The files' events from file [`SourceEvents::skipped`] on.
    pub files: Vec<FileEvents<'a>>,
    /// How many of the source's first files `files` leaves out: a replay that goes on from a
    /// kept one does not read them (20,000 empty entries were a fresh megabyte on every new
    /// edit). A full replay is given every file.
    pub skipped: usize,
    /// For a source whose files form a graph (Alembic): `ordered(a, b)` says whether file `a`
    /// runs before file `b` in every order the graph allows (an ancestor). `None`: the files
    /// run in exactly the order given (SQL).
    pub ordered: Option<&'a dyn Fn(usize, usize) -> bool>,
}

/// The folder of a file's path, from the first place its events name (`""` when it has none).
fn file_folder<'f>(file: &FileEvents<'f>) -> &'f str {
    let path = file
        .statements
        .first()
        .map(|s| &*s.location.path)
        .or_else(|| file.changes.first().map(|c| &*c.location().path))
        .unwrap_or("");
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// A source's files' folders ([`file_folder`]): each distinct folder once, then each file's by
/// number (the folders of 20,000 files are a handful). Two files are in the same folder when
/// their numbers are equal.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Folders {
    distinct: Vec<String>,
    each: Vec<u32>,
}

impl Folders {
    fn of<'f>(files: impl IntoIterator<Item = &'f str>) -> Folders {
        let mut folders = Folders::default();
        folders.extend(files);
        folders
    }

    /// Adds the folders of files that come after the ones it has.
    fn extend<'f>(&mut self, files: impl IntoIterator<Item = &'f str>) {
        let mut numbers: HashMap<&str, u32> = self
            .distinct
            .iter()
            .enumerate()
            .map(|(n, folder)| (folder.as_str(), n as u32))
            .collect();
        let mut added: Vec<String> = Vec::new();
        for folder in files {
            let next = (self.distinct.len() + added.len()) as u32;
            let number = *numbers.entry(folder).or_insert_with(|| {
                added.push(folder.to_string());
                next
            });
            self.each.push(number);
        }
        self.distinct.extend(added);
    }

    /// The number of file `f`'s folder.
    fn of_file(&self, f: usize) -> Option<u32> {
        self.each.get(f).copied()
    }
}

/// Replays the files of one source, in order, into a schema.
pub fn replay<'a>(files: impl IntoIterator<Item = FileEvents<'a>>, default_schema: &str) -> Schema {
    let source = SourceEvents {
        skipped: 0,
        name: "the migrations",
        default_schema,
        files: files.into_iter().collect(),
        ordered: None,
    };
    replay_sources(&[source]).0
}

/// Replays several sources into one database, in the order given (see the module doc), and
/// the warnings for `DROP`s that one source makes of what another made.
pub fn replay_sources<'a>(sources: &[SourceEvents<'a>]) -> (Schema, Vec<Warning>) {
    let replayed = replay_checked(sources, DEFAULT_POSTGRES_VERSION);
    (replayed.schema, replayed.warnings)
}

/// The PostgreSQL major version assumed when none is given.
const DEFAULT_POSTGRES_VERSION: u32 = 13;

/// [`replay_sources`], and the statements of SQL files (those given with their
/// [`FileEvents::statements`]) that PostgreSQL `postgres_version` would reject.
///
/// A failure in a transaction voids what ran before it in that transaction. Rather than
/// snapshot the schema at every `BEGIN` (a copy of the whole schema per file), the replay
/// starts over with that transaction left out when — rarely — something of it already ran;
/// a failure of a transaction's first schema change, or outside a transaction, changes
/// nothing and needs no new start.
pub fn replay_checked<'a>(sources: &[SourceEvents<'a>], postgres_version: u32) -> Replayed {
    replay_full(sources, postgres_version).0
}

/// [`replay_checked`], and what the replay leaves besides its schema ([`Carried`]) with the
/// created tables and folders it looked at: what [`resume`] keeps to go on from.
fn replay_full<'a>(
    sources: &[SourceEvents<'a>],
    postgres_version: u32,
) -> (Replayed, Carried, Vec<Creates>, Vec<Folders>) {
    let creates: Vec<Creates> = sources.iter().map(created_tables).collect();
    let folders: Vec<Folders> = sources
        .iter()
        .map(|s| Folders::of(s.files.iter().map(file_folder)))
        .collect();
    let mut voided: HashSet<(usize, usize, usize)> = HashSet::new();
    let mut kept: Vec<Failure> = Vec::new();
    let mut carried = loop {
        let mut start = Carried::default();
        start.schema.schemas.insert("public".to_string());
        for source in sources {
            start
                .schema
                .schemas
                .insert(source.default_schema.to_string());
        }
        let mut replayer = Replayer::new(
            start,
            sources,
            &creates,
            &folders,
            &voided,
            postgres_version,
        );
        match replayer.run(sources, (0, 0)) {
            Ok(()) => break replayer.into_carried(),
            Err(restart) => {
                let Restart { failure, range } = restart;
                for statement in range.0..=range.1 {
                    voided.insert((failure.source, failure.file, statement));
                }
                kept.push(*failure);
            }
        }
    };
    kept.append(&mut carried.failures);
    kept.sort_by_key(|f| (f.source, f.file, f.ordinal));
    carried.failures = kept;
    (carried.replayed(), carried, creates, folders)
}

/// What a replay carries from file to file besides the sources it reads: the schema built
/// so far and what the checks remember. A finished replay's, kept, lets [`resume`] go on.
#[derive(Debug, Default)]
struct Carried {
    schema: Schema,
    inheritance: bool,
    warnings: Vec<Warning>,
    /// Sorted by (source, file, ordinal) once the replay is done.
    failures: Vec<Failure>,
    unsure: HashSet<(String, String)>,
    type_sources: HashMap<(String, String), usize>,
    /// The tables (source, schema, name) whose creation anywhere in their own source a
    /// statement asked about ([`Replayer::own_source_creates`], [`Replayer::missing_table`]):
    /// a file that creates one of them later changes what those statements did.
    queried: HashSet<(usize, String, String)>,
}

impl Carried {
    /// The replay's result. The schema is moved out; the rest is copied (it is small).
    fn replayed(&mut self) -> Replayed {
        Replayed {
            schema: std::mem::take(&mut self.schema),
            warnings: self.warnings.clone(),
            failures: self.failures.clone(),
        }
    }
}

/// A failure in a transaction some of which already ran: replay again without it.
struct Restart {
    failure: Box<Failure>,
    /// The statements (0-based, inclusive) the failure voids.
    range: (usize, usize),
}

/// The state of the statement checks (DG008) while a SQL file replays.
struct Check<'v> {
    postgres_version: u32,
    /// The file being replayed is checked (it came with its statements).
    on: bool,
    /// Inside something whose outcome is not known (an `IF` driftguard cannot evaluate, a
    /// `DO` block that may catch errors, a statement not fully read): nothing is reported.
    uncertain: u32,
    /// The error of the statement running, once something in it failed.
    failed: Option<(String, Vec<(String, Location)>)>,
    /// Statements (source, file, 0-based index) a failure voided in an earlier pass.
    voided: &'v HashSet<(usize, usize, usize)>,
    /// Statements a failure voided in this pass (a transaction's rest, without a restart).
    skip: HashSet<(usize, usize, usize)>,
    failures: Vec<Failure>,
    /// Inside `BEGIN … COMMIT`.
    in_transaction: bool,
    /// Enum values added in the open transaction: using one there fails ("unsafe use").
    new_values: Vec<((String, String), String)>,
    /// Tables a statement not fully read created or changed: their columns are not all
    /// known, so a missing one is not an error.
    unsure: HashSet<(String, String)>,
    /// Which source created each enum and domain.
    type_sources: HashMap<(String, String), usize>,
}

/// A table name as written (the schema is `None` for an unqualified name, which may land in
/// any schema) → the files of a source that create it.
type Creates = HashMap<(Option<String>, String), Vec<usize>>;

/// The tables a source creates anywhere in its files (`CREATE TABLE`, also inside `IF`
/// branches, and the new name of a `RENAME`), and in which files. An unqualified name lands in
/// the source's default schema until the file sets a `search_path`; after that it may land in
/// any schema (`None`).
fn created_tables(source: &SourceEvents) -> Creates {
    let mut out = Creates::new();
    add_created_tables(
        &source.files,
        source.skipped,
        source.default_schema,
        &mut out,
    );
    out
}

/// [`created_tables`] of `files`, the first of which is file `first` of its source, added to
/// `out`.
fn add_created_tables(files: &[FileEvents], first: usize, default_schema: &str, out: &mut Creates) {
    struct Walk<'w> {
        file: usize,
        default_schema: &'w str,
        path_set: bool,
        out: &'w mut Creates,
    }
    impl Walk<'_> {
        fn note(&mut self, schema: &Option<String>, name: &str) {
            let schema = match schema {
                Some(schema) => Some(schema.clone()),
                None if self.path_set => None,
                None => Some(self.default_schema.to_string()),
            };
            let files = self.out.entry((schema, name.to_string())).or_default();
            if !files.contains(&self.file) {
                files.push(self.file);
            }
        }

        fn changes(&mut self, changes: &[SchemaChange]) {
            for change in changes {
                match change {
                    SchemaChange::SetSearchPath { .. } => self.path_set = true,
                    SchemaChange::CreateTable { table, .. } => {
                        self.note(&table.schema, &table.name)
                    }
                    SchemaChange::RenameTable {
                        table, new_name, ..
                    } => self.note(&table.schema, new_name),
                    SchemaChange::If {
                        branches,
                        otherwise,
                        ..
                    } => {
                        for (_, body) in branches {
                            self.changes(body);
                        }
                        self.changes(otherwise);
                    }
                    _ => {}
                }
            }
        }
    }
    let mut walk = Walk {
        file: first,
        default_schema,
        path_set: false,
        out,
    };
    for (file, events) in files.iter().enumerate() {
        walk.file = first + file;
        walk.path_set = false;
        walk.changes(events.changes);
    }
}

struct Replayer<'a> {
    check: Check<'a>,
    schema: Schema,
    default_schema: String,
    search_path: Vec<String>,
    /// The source being replayed (index in `names` and `creates`).
    source: usize,
    /// Each source's name, for warnings.
    names: Vec<String>,
    /// Each source's created tables ([`created_tables`]).
    creates: &'a [Creates],
    /// The file being replayed (index in its source's files).
    file: usize,
    /// Each source's files' folders ([`file_folder`]): SQL files of different folders run in
    /// an order the repository does not say, so only a `CREATE` in the same folder runs
    /// "later" than a statement.
    folders: &'a [Folders],
    /// The source's graph order, if its files form a graph.
    ordered: Option<&'a dyn Fn(usize, usize) -> bool>,
    /// Some table inherits from another or is a partition. Until then no `ALTER` looks for
    /// children, so that a project of many tables without inheritance replays in linear time.
    inheritance: bool,
    warnings: Vec<Warning>,
    /// See [`Carried::queried`].
    queried: std::cell::RefCell<HashSet<(usize, String, String)>>,
}

impl<'a> Replayer<'a> {
    /// A replayer that goes on from `carried`.
    fn new(
        carried: Carried,
        sources: &[SourceEvents<'a>],
        creates: &'a [Creates],
        folders: &'a [Folders],
        voided: &'a HashSet<(usize, usize, usize)>,
        postgres_version: u32,
    ) -> Replayer<'a> {
        Replayer {
            schema: carried.schema,
            default_schema: String::new(),
            search_path: Vec::new(),
            source: 0,
            file: 0,
            ordered: None,
            names: sources.iter().map(|s| s.name.to_string()).collect(),
            creates,
            folders,
            inheritance: carried.inheritance,
            warnings: carried.warnings,
            queried: std::cell::RefCell::new(carried.queried),
            check: Check {
                postgres_version,
                on: false,
                uncertain: 0,
                failed: None,
                voided,
                skip: HashSet::new(),
                failures: carried.failures,
                in_transaction: false,
                new_values: Vec::new(),
                unsure: carried.unsure,
                type_sources: carried.type_sources,
            },
        }
    }

    /// What the replay carries on to the next file.
    fn into_carried(self) -> Carried {
        Carried {
            schema: self.schema,
            inheritance: self.inheritance,
            warnings: self.warnings,
            failures: self.check.failures,
            unsure: self.check.unsure,
            type_sources: self.check.type_sources,
            queried: self.queried.into_inner(),
        }
    }

    /// Replays every source's files in order, from file `start.1` of source `start.0` on.
    fn run(&mut self, sources: &[SourceEvents<'a>], start: (usize, usize)) -> Result<(), Restart> {
        for (index, source) in sources.iter().enumerate().skip(start.0) {
            self.source = index;
            self.ordered = source.ordered;
            self.default_schema = source.default_schema.to_string();
            let first = if index == start.0 { start.1 } else { 0 };
            let files = source.files.iter().enumerate();
            for (offset, file) in files.skip(first.saturating_sub(source.skipped)) {
                self.file = source.skipped + offset;
                self.search_path = vec![source.default_schema.to_string()];
                if file.statements.is_empty() {
                    self.apply_all(file.changes);
                } else {
                    self.run_statements(file)?;
                }
            }
        }
        Ok(())
    }

    /// Replays a SQL file statement by statement, as `psql -f` runs it: a statement that
    /// fails changes nothing; in a transaction, nothing of the transaction counts.
    fn run_statements(&mut self, file: &FileEvents<'_>) -> Result<(), Restart> {
        let statements = file.statements;
        let changes = file.changes;
        let mut next = 0;
        // The open transaction's `BEGIN`, and how many of its statements changed the schema.
        let mut transaction: Option<(usize, usize)> = None;
        self.check.on = true;
        self.check.in_transaction = false;
        self.check.new_values.clear();
        for (i, statement) in statements.iter().enumerate() {
            let end = match statements.get(i + 1) {
                Some(following) => {
                    let mut end = next;
                    while changes
                        .get(end)
                        .is_some_and(|c| before(c.location(), &following.location))
                    {
                        end += 1;
                    }
                    end
                }
                None => changes.len(),
            };
            let events = changes.get(next..end).unwrap_or_default();
            next = end;
            match statement.kind {
                StatementKind::Begin if transaction.is_none() => {
                    transaction = Some((i, 0));
                    self.check.new_values.clear();
                }
                StatementKind::Commit | StatementKind::Rollback => {
                    transaction = None;
                    self.check.new_values.clear();
                }
                _ => {}
            }
            self.check.in_transaction =
                transaction.is_some() && !matches!(statement.kind, StatementKind::Begin);
            let key = (self.source, self.file, i);
            if self.check.voided.contains(&key) || self.check.skip.contains(&key) {
                continue;
            }
            let last_line = statement.last_line.max(statement.location.line);
            let unread = file
                .warnings
                .iter()
                .any(|w| (statement.location.line..=last_line).contains(&w.location.line));
            let uncertain = unread || matches!(statement.kind, StatementKind::Do { .. });
            if uncertain {
                self.check.uncertain += 1;
                if unread {
                    for event in events {
                        let mut event = event.clone();
                        let mut names = Vec::new();
                        event.for_each_table_mut(&mut |name| names.push(name.clone()));
                        for name in names {
                            let key = self.table_key(&name);
                            self.check.unsure.insert(key);
                        }
                    }
                }
            }
            self.check.failed = None;
            self.check_statement(statement);
            let mut failed_at = None;
            if self.check.failed.is_none() {
                for (k, event) in events.iter().enumerate() {
                    self.apply(event);
                    if self.check.failed.is_some() {
                        failed_at = Some(k);
                        break;
                    }
                }
            } else {
                failed_at = Some(0);
            }
            if uncertain {
                self.check.uncertain -= 1;
            }
            let Some((error, related)) = self.check.failed.take() else {
                if let Some((_, ran)) = &mut transaction
                    && !events.is_empty()
                {
                    *ran += 1;
                }
                continue;
            };
            let ran_before = failed_at.unwrap_or(0) > 0;
            let (range, restart) = match transaction {
                Some((begin, ran)) => {
                    let end = statements
                        .iter()
                        .enumerate()
                        .skip(i + 1)
                        .find(|(_, s)| {
                            matches!(s.kind, StatementKind::Commit | StatementKind::Rollback)
                        })
                        .map_or(statements.len().saturating_sub(1), |(e, _)| e);
                    ((begin, end), ran > 0 || ran_before)
                }
                None => ((i, i), ran_before),
            };
            let failure = Failure {
                location: statement.location.clone(),
                ordinal: i + 1,
                error,
                related,
                transaction: transaction
                    .map(|(begin, ran)| (statements[begin].location.clone(), ran)),
                source: self.source,
                file: self.file,
            };
            if restart {
                self.check.on = false;
                return Err(Restart {
                    failure: Box::new(failure),
                    range,
                });
            }
            self.check.failures.push(failure);
            for statement in range.0..=range.1 {
                self.check.skip.insert((self.source, self.file, statement));
            }
        }
        self.check.on = false;
        self.check.in_transaction = false;
        Ok(())
    }

    /// Records that the statement running fails with `error`, unless its outcome is not
    /// known; `true` when recorded (the caller then changes nothing). Outside checked files
    /// nothing is recorded and the replay goes on as before.
    fn fail(&mut self, error: String, related: Vec<(String, Location)>) -> bool {
        if !self.check.on || self.check.uncertain > 0 {
            return false;
        }
        if self.check.failed.is_none() {
            self.check.failed = Some((error, related));
        }
        true
    }

    /// Whether every column of the table is known: created by a migration of the source
    /// being replayed, whose statements were all read, and changed by no other source. Only
    /// then is a missing column an error.
    fn columns_known(&self, key: &(String, String)) -> bool {
        self.known_table(key).is_some()
    }

    /// The table `key`, when every column of it is known (see [`Replayer::columns_known`]):
    /// one lookup for the checks that then look at its columns.
    fn known_table(&self, key: &(String, String)) -> Option<&Table> {
        if self.check.unsure.contains(key) {
            return None;
        }
        self.schema.tables.get(key).filter(|t| {
            t.origin == Origin::Migrations
                && t.source == self.source
                && t.columns.iter().all(|c| c.source == self.source)
        })
    }

    /// `relation "core.t" does not exist`, for a table the source creates later or dropped.
    /// (`schema "ai" does not exist` when its schema is missing too, as PostgreSQL says.)
    ///
    /// Reported only when the source creates the table under that very schema: an unqualified
    /// `CREATE TABLE` after a `SET search_path` may land in any schema, and a table of that
    /// name elsewhere (`auth.users`) may well exist, made outside the migrations.
    fn missing_table(&mut self, key: &(String, String)) -> bool {
        self.queried
            .borrow_mut()
            .insert((self.source, key.0.clone(), key.1.clone()));
        let exact = self.creates[self.source].contains_key(&(Some(key.0.clone()), key.1.clone()));
        if !exact {
            return false;
        }
        let error = if self.schema.schemas.contains(&key.0) {
            format!("relation \"{}.{}\" does not exist", key.0, key.1)
        } else {
            format!("schema \"{}\" does not exist", key.0)
        };
        self.fail(error, Vec::new())
    }

    /// `column "c" of relation "t" already exists`, when the source being replayed added it.
    fn duplicate_column(&mut self, key: &(String, String), column: &str) -> bool {
        let Some(existing) = self
            .schema
            .tables
            .get(key)
            .and_then(|t| t.column(column))
            .filter(|c| c.source == self.source)
        else {
            return false;
        };
        let related = vec![(
            format!("`{}.{}.{column}` is created here", key.0, key.1),
            existing.location.clone(),
        )];
        self.fail(
            format!(
                "column \"{column}\" of relation \"{}\" already exists",
                key.1
            ),
            related,
        )
    }

    /// Checks a foreign key from columns of the given types to `fk`: its table exists (or was
    /// made outside the migrations), has the referenced columns, of types PostgreSQL can
    /// compare. `creating`: the table being created with its columns (a key onto itself).
    /// `true` when the key fails.
    fn foreign_key_fails(
        &mut self,
        from: &[(String, SqlType)],
        fk: &ForeignKeyRef,
        creating: Option<(&(String, String), &[Column])>,
    ) -> bool {
        if !self.check.on || self.check.uncertain > 0 {
            return false;
        }
        let key = self.table_key(&fk.table);
        let (columns, known): (&[Column], bool) = match creating {
            Some((creating_key, columns)) if *creating_key == key => (columns, true),
            _ => match self.schema.tables.get(&key) {
                Some(table) => (&table.columns, self.columns_known(&key)),
                None if self.own_source_creates(&key) => return self.missing_table(&key),
                None => return false,
            },
        };
        // (name, type, where it was created) of each referenced column.
        let mut targets: Vec<(String, SqlType, Location)> = Vec::new();
        if fk.columns.is_empty() {
            targets.extend(
                columns
                    .iter()
                    .filter(|c| c.primary_key)
                    .map(|c| (c.name.to_string(), c.ty.clone(), c.location.clone())),
            );
        } else {
            for name in &fk.columns {
                match columns.iter().find(|c| c.name == *name) {
                    Some(c) => targets.push((c.name.to_string(), c.ty.clone(), c.location.clone())),
                    None if known => {
                        return self.fail(
                            format!(
                                "column \"{name}\" referenced in foreign key constraint does not exist"
                            ),
                            Vec::new(),
                        );
                    }
                    None => return false,
                }
            }
        }
        if targets.len() != from.len() {
            return false;
        }
        for ((name, ty), (target, target_ty, at)) in from.iter().zip(targets) {
            let (Some(a), Some(b)) = (key_category(ty), key_category(&target_ty)) else {
                continue;
            };
            if a != b {
                let related = vec![(
                    format!(
                        "`{}.{}.{target}` is `{}` here",
                        key.0, key.1, target_ty.name
                    ),
                    at,
                )];
                return self.fail(
                    format!(
                        "foreign key constraint cannot be implemented: key columns \"{name}\" and \"{target}\" are of incompatible types: {} and {}",
                        ty.name, target_ty.name
                    ),
                    related,
                );
            }
        }
        false
    }

    /// `type "t" already exists`, when the source being replayed made it.
    fn duplicate_type(&mut self, key: &(String, String)) -> bool {
        if self.check.type_sources.get(key) != Some(&self.source) {
            return false;
        }
        let location = self
            .schema
            .enums
            .get(key)
            .map(|e| e.location.clone())
            .or_else(|| self.schema.domains.get(key).map(|d| d.location.clone()));
        let related = location
            .map(|l| vec![(format!("`{}.{}` is created here", key.0, key.1), l)])
            .unwrap_or_default();
        self.fail(format!("type \"{}\" already exists", key.1), related)
    }

    /// A column default that uses an enum value added in the open transaction: PostgreSQL
    /// refuses it ("unsafe use of new value"). `true` when it fails.
    fn unsafe_enum_default(&mut self, ty: &SqlType, default: Option<&str>) -> bool {
        if self.check.new_values.is_empty() || !ty.user_defined || ty.array {
            return false;
        }
        let Some(value) = default.and_then(string_literal) else {
            return false;
        };
        let name = match ty.name.split_once('.') {
            Some((schema, name)) => QualifiedName::new(Some(schema), name),
            None => QualifiedName::new(None, &ty.name),
        };
        let key = self.enum_key(&name);
        if self
            .check
            .new_values
            .iter()
            .any(|(k, v)| *k == key && *v == value)
        {
            return self.fail(
                format!("unsafe use of new value \"{value}\" of enum type {}", key.1),
                Vec::new(),
            );
        }
        false
    }

    /// A column an altering statement names, on a table it found: an error when the table's
    /// columns are all known and it has none of that name.
    fn missing_column(&mut self, key: &(String, String), column: &str) -> bool {
        if self.columns_known(key)
            && self
                .schema
                .tables
                .get(key)
                .is_some_and(|t| t.column(column).is_none())
        {
            return self.fail(
                format!(
                    "column \"{column}\" of relation \"{}\" does not exist",
                    key.1
                ),
                Vec::new(),
            );
        }
        false
    }

    /// The checks of statements that change no schema: `COMMENT ON COLUMN`, `CREATE INDEX`
    /// on a missing table or column, `ALTER TYPE … ADD VALUE` in a transaction before
    /// PostgreSQL 12.
    fn check_statement(&mut self, statement: &Statement) {
        match &statement.kind {
            StatementKind::CommentOnColumn { table, column } => {
                if let Some(key) = self.existing_table(table)
                    && self
                        .known_table(&key)
                        .is_some_and(|t| t.column(column).is_none())
                {
                    self.fail(
                        format!(
                            "column \"{column}\" of relation \"{}\" does not exist",
                            key.1
                        ),
                        Vec::new(),
                    );
                }
            }
            StatementKind::CreateIndex {
                table: Some(table),
                columns,
                ..
            } => {
                if let Some(key) = self.existing_table(table)
                    && let Some(t) = self.known_table(&key)
                    && let Some(column) = columns.iter().find(|c| t.column(c).is_none())
                {
                    let error = format!("column \"{column}\" does not exist");
                    self.fail(error, Vec::new());
                }
            }
            StatementKind::AlterTypeAddValue
                if self.check.in_transaction && self.check.postgres_version < 12 =>
            {
                self.fail(
                    "ALTER TYPE ... ADD cannot run inside a transaction block".to_string(),
                    Vec::new(),
                );
            }
            _ => {}
        }
    }

    /// The key of a table a statement that cannot create it names; `None` when it does not
    /// exist — after recording the failure when its own source creates it later or dropped it
    /// (a table no migration creates was made outside them, and exists).
    fn existing_table(&mut self, name: &QualifiedName) -> Option<(String, String)> {
        let key = self.table_key(name);
        if self.schema.tables.contains_key(&key) {
            return Some(key);
        }
        if self.own_source_creates(&key) {
            self.missing_table(&key);
        }
        None
    }

    /// Whether a statement on the missing table `key` fails because its own source creates
    /// (for SQL: in the same folder, whose files run in name order)
    /// that table in a file that must run after this one (or this very file), or dropped it
    /// after creating it earlier. A file on a concurrent branch of an Alembic graph may run
    /// before or after this one: its `CREATE` does not make this statement fail.
    fn own_source_creates(&self, key: &(String, String)) -> bool {
        self.queried
            .borrow_mut()
            .insert((self.source, key.0.clone(), key.1.clone()));
        let creates = &self.creates[self.source];
        let files = creates
            .get(&(Some(key.0.clone()), key.1.clone()))
            .into_iter()
            .chain(creates.get(&(None, key.1.clone())))
            .flatten();
        let current = self.file;
        match self.ordered {
            None => {
                let folders = &self.folders[self.source];
                let folder = |f: usize| folders.of_file(f);
                files.copied().any(|f| folder(f) == folder(current))
            }
            Some(ordered) => files
                .copied()
                .any(|f| f == current || ordered(current, f) || ordered(f, current)),
        }
    }

    /// The table an altering statement names: the existing one, or — when the statement's own
    /// source never creates it — an outside table made elsewhere, created here empty. `None`
    /// when the table is missing and its own source creates it later or dropped it earlier:
    /// the statement fails, as in PostgreSQL.
    fn altered_table(
        &mut self,
        name: &QualifiedName,
        location: &Location,
    ) -> Option<(String, String)> {
        let key = self.table_key(name);
        if let Some(table) = self.schema.tables.get_mut(&key) {
            if table.origin == Origin::Outside {
                table.altered_at.push(location.clone());
            }
            return Some(key);
        }
        if self.own_source_creates(&key) {
            return None;
        }
        self.schema.schemas.insert(key.0.clone());
        self.schema.tables.insert(
            key.clone(),
            Table {
                origin: Origin::Outside,
                source: self.source,
                altered_at: vec![location.clone()],
                ..Table::new(&key.0, &key.1, location.clone())
            },
        );
        Some(key)
    }

    /// Whether a `DROP` by the source being replayed may remove what `source` made; warns at
    /// the `DROP` when it may not.
    fn may_drop(&mut self, made_by: &[usize], what: &str, location: &Location) -> bool {
        let Some(other) = made_by.iter().find(|s| **s != self.source) else {
            return true;
        };
        let warning = format!(
            "this drops {what}, which {} made; every migration source of the repository writes one database, so driftguard keeps it — drop it in {} too, or declare `sources:` in driftguard.yml if they deploy to different databases",
            self.names[*other], self.names[*other]
        );
        self.warnings.push(Warning::at(location.clone(), warning));
        false
    }

    fn apply_all(&mut self, changes: &[SchemaChange]) {
        for change in changes {
            self.apply(change);
        }
    }

    /// The schema an unqualified name is created in: the first schema of the path that exists.
    fn creation_schema(&self, name: &QualifiedName) -> String {
        if let Some(schema) = &name.schema {
            return schema.clone();
        }
        self.search_path
            .iter()
            .find(|s| self.schema.schemas.contains(*s))
            .or_else(|| self.search_path.first())
            .cloned()
            .unwrap_or_else(|| self.default_schema.clone())
    }

    /// The key of an existing table: qualified, or the first schema of the path that has it.
    fn table_key(&self, name: &QualifiedName) -> (String, String) {
        if let Some(schema) = &name.schema {
            return (schema.clone(), name.name.clone());
        }
        for schema in &self.search_path {
            let key = (schema.clone(), name.name.clone());
            if self.schema.tables.contains_key(&key) {
                return key;
            }
        }
        (self.creation_schema(name), name.name.clone())
    }

    /// The key of an existing enum or domain: qualified, or the first schema of the path that
    /// has a type of that name.
    fn enum_key(&self, name: &QualifiedName) -> (String, String) {
        if let Some(schema) = &name.schema {
            return (schema.clone(), name.name.clone());
        }
        for schema in &self.search_path {
            let key = (schema.clone(), name.name.clone());
            if self.schema.enums.contains_key(&key) || self.schema.domains.contains_key(&key) {
                return key;
            }
        }
        (self.creation_schema(name), name.name.clone())
    }

    /// Moves or renames an enum or a domain; the columns of that type follow, as in
    /// PostgreSQL. `false` when there is no such type or the new key is taken.
    fn move_type(
        &mut self,
        old: &(String, String),
        new: &(String, String),
        location: Option<&Location>,
    ) -> bool {
        if self.schema.enums.contains_key(new) || self.schema.domains.contains_key(new) {
            return false;
        }
        let old_qualified = format!("{}.{}", old.0, old.1);
        let new_qualified = format!("{}.{}", new.0, new.1);
        if let Some(mut moved) = self.schema.enums.remove(old) {
            moved.schema = new.0.clone();
            moved.name = new.1.clone();
            if let Some(location) = location {
                moved.location = location.clone();
            }
            self.schema.enums.insert(new.clone(), moved);
            let follow = |ty: &mut SqlType| {
                if ty.user_defined && ty.name == old_qualified {
                    *ty = SqlType::new(TypeParts {
                        name: new_qualified.clone().into(),
                        ..(**ty).clone()
                    });
                }
            };
            for table in self.schema.tables.values_mut() {
                for col in &mut table.columns {
                    follow(&mut col.ty);
                }
            }
            for domain in self.schema.domains.values_mut() {
                follow(&mut domain.ty);
            }
            return true;
        }
        if let Some(mut moved) = self.schema.domains.remove(old) {
            moved.schema = new.0.clone();
            moved.name = new.1.clone();
            if let Some(location) = location {
                moved.location = location.clone();
            }
            self.schema.domains.insert(new.clone(), moved);
            for table in self.schema.tables.values_mut() {
                for col in &mut table.columns {
                    if col.domain.as_deref() == Some(old_qualified.as_str()) {
                        col.domain = Some(new_qualified.as_str().into());
                    }
                }
            }
            return true;
        }
        false
    }

    /// A declared column of the table `key`, written as `written`.
    fn column(&self, def: &ColumnDef, written: &QualifiedName, key: &(String, String)) -> Column {
        let (ty, domain) = self.resolve_column_type(&def.ty);
        Column {
            name: def.name.as_str().into(),
            ty,
            nullable: def.nullable && !def.primary_key && domain.as_ref().is_none_or(|d| d.1),
            default: def
                .default
                .as_ref()
                .map(|d| qualify_serial_default(d, written, key, &def.name).into()),
            primary_key: def.primary_key,
            references: def.references.clone().map(Box::new),
            location: def.location.clone(),
            inherited: false,
            domain: domain.map(|d| d.0.into()),
            source: self.source,
        }
    }

    /// A column's type with domains looked through: the domain's type, and the domain's
    /// qualified name and whether it lets the column be NULL (an array of a NOT NULL domain
    /// may still be NULL).
    fn resolve_column_type(&self, ty: &SqlType) -> (SqlType, Option<(String, bool)>) {
        if ty.user_defined {
            let name = match ty.name.split_once('.') {
                Some((schema, name)) => QualifiedName::new(Some(schema), name),
                None => QualifiedName::new(None, &ty.name),
            };
            let key = self.enum_key(&name);
            if let Some(domain) = self.schema.domains.get(&key) {
                let mut base = domain.ty.clone();
                if ty.array && !base.array {
                    base = base.into_array();
                }
                let nullable = domain.nullable || ty.array;
                return (base, Some((format!("{}.{}", key.0, key.1), nullable)));
            }
        }
        (self.resolve_type(ty), None)
    }

    /// The columns `LIKE source` copies: names, types and NOT NULL; no defaults (without
    /// `INCLUDING DEFAULTS`, which is not read), no keys.
    fn like_columns(&self, source: &QualifiedName, location: &Location) -> Vec<Column> {
        let key = self.table_key(source);
        self.schema
            .tables
            .get(&key)
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| Column {
                        default: None,
                        primary_key: false,
                        references: None,
                        location: location.clone(),
                        inherited: false,
                        source: self.source,
                        ..c.clone()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The tables that inherit from `key`, directly or not (partitions too), parents first.
    fn descendants(&self, key: &(String, String)) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = Vec::new();
        if !self.inheritance {
            return found;
        }
        let mut queue = vec![key.clone()];
        while let Some(parent) = queue.pop() {
            for (child, table) in &self.schema.tables {
                if table.parents.contains(&parent) && child != key && !found.contains(child) {
                    found.push(child.clone());
                    queue.push(child.clone());
                }
            }
        }
        found
    }

    /// Applies `change` to the column `name` of the table `key` and of every table that
    /// inherits from it, as PostgreSQL recurses `ALTER TABLE` (without `ONLY`).
    fn alter_column_everywhere(
        &mut self,
        key: &(String, String),
        name: &str,
        change: impl Fn(&mut Column),
    ) {
        let mut keys = vec![key.clone()];
        keys.extend(self.descendants(key));
        for k in keys {
            if let Some(col) = self
                .schema
                .tables
                .get_mut(&k)
                .and_then(|t| t.column_mut(name))
            {
                change(col);
            }
        }
    }

    /// Drops a column from `key`, then from the children that only inherited it from there
    /// (and from no other parent that still has it), recursively.
    fn drop_column(&mut self, key: &(String, String), name: &str) {
        let removed = match self.schema.tables.get_mut(key) {
            Some(table) => {
                let before = table.columns.len();
                table.columns.retain(|c| c.name != name);
                table.columns.len() != before
            }
            None => false,
        };
        if !removed {
            return;
        }
        let children: Vec<(String, String)> = self
            .schema
            .tables
            .iter()
            .filter(|(_, t)| t.parents.contains(key))
            .map(|(k, _)| k.clone())
            .collect();
        for child in children {
            let Some(table) = self.schema.tables.get(&child) else {
                continue;
            };
            let only_inherited = table.column(name).is_some_and(|c| c.inherited);
            let other_parent_has_it = table.parents.iter().any(|p| {
                p != key
                    && self
                        .schema
                        .tables
                        .get(p)
                        .is_some_and(|t| t.column(name).is_some())
            });
            if only_inherited && !other_parent_has_it {
                self.drop_column(&child, name);
            }
        }
    }

    /// After `DROP TYPE`/`DROP DOMAIN`/`DROP SCHEMA`: a type still in use can only be dropped
    /// with CASCADE, which drops the columns of that type (arrays too); without CASCADE the
    /// drop fails unless no column uses it. Either way, no column of that type remains.
    fn drop_columns_of_type(&mut self, key: &(String, String)) {
        let qualified = format!("{}.{}", key.0, key.1);
        for table in self.schema.tables.values_mut() {
            table.columns.retain(|c| {
                c.domain.as_deref() != Some(qualified.as_str())
                    && !(c.ty.user_defined && c.ty.name == qualified)
            });
        }
    }

    /// Removes tables, and the tables that inherit from them (which need `CASCADE`, or are
    /// partitions that always go with their parent).
    fn drop_tables(&mut self, keys: Vec<(String, String)>) {
        let mut all = Vec::new();
        for key in keys {
            all.extend(self.descendants(&key));
            all.push(key);
        }
        for key in all {
            self.schema.tables.remove(&key);
        }
    }

    /// A table moved or was renamed: its children follow it.
    fn rekey_parent(&mut self, old: &(String, String), new: &(String, String)) {
        for table in self.schema.tables.values_mut() {
            for parent in &mut table.parents {
                if parent == old {
                    *parent = new.clone();
                }
            }
        }
    }

    /// An unqualified user-defined type takes the schema it resolves to on the search path, so
    /// that a column's type names the enum that exists.
    fn resolve_type(&self, ty: &SqlType) -> SqlType {
        if !ty.user_defined || ty.name.contains('.') {
            return ty.clone();
        }
        let name = QualifiedName::new(None, &ty.name);
        let key = self.enum_key(&name);
        if self.schema.enums.contains_key(&key) {
            SqlType::new(TypeParts {
                name: format!("{}.{}", key.0, key.1).into(),
                ..(**ty).clone()
            })
        } else {
            ty.clone()
        }
    }

    fn apply(&mut self, change: &SchemaChange) {
        match change {
            SchemaChange::CreateSchema { name, .. } => {
                self.schema.schemas.insert(name.clone());
            }
            SchemaChange::DropSchema { name, .. } => {
                self.schema.schemas.remove(name);
                let inside: Vec<(String, String)> = self
                    .schema
                    .tables
                    .keys()
                    .filter(|(schema, _)| schema == name)
                    .cloned()
                    .collect();
                self.drop_tables(inside);
                let types: Vec<(String, String)> = self
                    .schema
                    .enums
                    .keys()
                    .chain(self.schema.domains.keys())
                    .filter(|(schema, _)| schema == name)
                    .cloned()
                    .collect();
                self.schema.enums.retain(|(schema, _), _| schema != name);
                self.schema.domains.retain(|(schema, _), _| schema != name);
                // Columns elsewhere whose type lived in the schema go with it (CASCADE).
                for key in types {
                    self.drop_columns_of_type(&key);
                }
            }
            SchemaChange::SetSearchPath { schemas, .. } => {
                self.search_path = schemas
                    .iter()
                    .filter(|s| !s.starts_with('$') && s.as_str() != "pg_catalog")
                    .cloned()
                    .collect();
                if self.search_path.is_empty() {
                    self.search_path.push(self.default_schema.clone());
                }
            }
            SchemaChange::CreateTable {
                table,
                columns,
                primary_key,
                copies_from,
                likes,
                location,
                if_not_exists,
            } => {
                let key = (self.creation_schema(table), table.name.clone());
                // A table that exists was made by a migration (the statement fails) or outside
                // the migrations: then this source is the one that creates it, and runs first.
                let outside = match self.schema.tables.get(&key) {
                    Some(existing) if existing.origin == Origin::Outside => {
                        self.schema.tables.remove(&key)
                    }
                    // Created by another source too: its columns count as well (a column
                    // counts wherever the repository makes it); the first creator stays.
                    Some(existing) if existing.source != self.source => {
                        let columns: Vec<Column> = columns
                            .iter()
                            .map(|def| self.column(def, table, &key))
                            .collect();
                        if let Some(existing) = self.schema.tables.get_mut(&key) {
                            for column in columns {
                                if existing.column(&column.name).is_none() {
                                    existing.columns.push(column);
                                }
                            }
                        }
                        return;
                    }
                    Some(existing) => {
                        if !if_not_exists {
                            let related = vec![(
                                format!("`{}.{}` is created here", key.0, key.1),
                                existing.location.clone(),
                            )];
                            self.fail(format!("relation \"{}\" already exists", key.1), related);
                        }
                        return;
                    }
                    None => None,
                };
                // Inherited columns come first, a column of several parents once; then the
                // table's own elements in order: declared columns and `LIKE` copies. A name
                // met again merges into the first: NOT NULL if either says so.
                let mut new_columns: Vec<Column> = Vec::new();
                let mut parents = Vec::new();
                for parent in copies_from {
                    let parent_key = self.table_key(parent);
                    if let Some(source) = self.schema.tables.get(&parent_key) {
                        for column in &source.columns {
                            merge_column(
                                &mut new_columns,
                                Column {
                                    references: None,
                                    location: location.clone(),
                                    inherited: true,
                                    source: self.source,
                                    ..column.clone()
                                },
                            );
                        }
                        parents.push(parent_key);
                    }
                }
                let mut own: Vec<Column> = Vec::new();
                let mut likes = likes.iter().peekable();
                for (i, def) in columns.iter().enumerate() {
                    while let Some((_, source)) = likes.next_if(|(at, _)| *at <= i) {
                        own.extend(self.like_columns(source, location));
                    }
                    own.push(self.column(def, table, &key));
                }
                for (_, source) in likes {
                    own.extend(self.like_columns(source, location));
                }
                for column in own {
                    merge_column(&mut new_columns, column);
                }
                for name in primary_key {
                    if let Some(column) = new_columns.iter_mut().find(|c| c.name == *name) {
                        column.nullable = false;
                        column.primary_key = true;
                    }
                }
                // A foreign key that fails, or a default using a new enum value, fails the
                // statement: the table is not created.
                for def in columns {
                    let Some(column) = new_columns.iter().find(|c| c.name == def.name) else {
                        continue;
                    };
                    if self.unsafe_enum_default(&column.ty, def.default.as_deref()) {
                        return;
                    }
                    if let Some(fk) = &def.references {
                        let from = [(column.name.to_string(), column.ty.clone())];
                        if self.foreign_key_fails(&from, fk, Some((&key, &new_columns))) {
                            return;
                        }
                    }
                }
                // What other sources added to it before it was created here comes after.
                for column in outside.into_iter().flat_map(|t| t.columns) {
                    if !new_columns.iter().any(|c| c.name == column.name) {
                        new_columns.push(column);
                    }
                }
                self.inheritance |= !parents.is_empty();
                self.schema.tables.insert(
                    key.clone(),
                    Table {
                        schema: key.0,
                        name: key.1,
                        columns: new_columns.into(),
                        location: location.clone(),
                        parents,
                        origin: Origin::Migrations,
                        source: self.source,
                        altered_at: Vec::new(),
                    },
                );
            }
            SchemaChange::DropTable { table, location } => {
                let key = self.table_key(table);
                let Some(existing) = self.schema.tables.get(&key) else {
                    return;
                };
                let made_by: Vec<usize> = match existing.origin {
                    Origin::Migrations => vec![existing.source],
                    Origin::Outside => existing.columns.iter().map(|c| c.source).collect(),
                };
                let what = format!("the table `{}.{}`", key.0, key.1);
                if self.may_drop(&made_by, &what, location) {
                    self.drop_tables(vec![key]);
                }
            }
            SchemaChange::RenameTable {
                table,
                new_name,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                let new_key = (key.0.clone(), new_name.clone());
                if self.schema.tables.contains_key(&new_key) {
                    return;
                }
                if let Some(mut moved) = self.schema.tables.remove(&key) {
                    moved.name = new_name.clone();
                    moved.location = location.clone();
                    self.schema.tables.insert(new_key.clone(), moved);
                    self.rekey_parent(&key, &new_key);
                }
            }
            SchemaChange::SetTableSchema {
                table,
                new_schema,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                let new_key = (new_schema.clone(), key.1.clone());
                if self.schema.tables.contains_key(&new_key) {
                    return;
                }
                if let Some(mut moved) = self.schema.tables.remove(&key) {
                    moved.schema = new_schema.clone();
                    moved.location = location.clone();
                    self.schema.tables.insert(new_key.clone(), moved);
                    self.rekey_parent(&key, &new_key);
                }
            }
            SchemaChange::AddColumn {
                table,
                column: def,
                if_not_exists,
            } => {
                let Some(key) = self.altered_table(table, &def.location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                let column = self.column(def, table, &key);
                let exists = self
                    .schema
                    .tables
                    .get(&key)
                    .is_some_and(|t| t.column(&column.name).is_some());
                if exists {
                    if !if_not_exists {
                        self.duplicate_column(&key, &column.name);
                    }
                    return;
                }
                if self.unsafe_enum_default(&column.ty, def.default.as_deref()) {
                    return;
                }
                if let Some(fk) = &def.references {
                    let from = [(column.name.to_string(), column.ty.clone())];
                    if self.foreign_key_fails(&from, fk, None) {
                        return;
                    }
                }
                let Some(target) = self.schema.tables.get_mut(&key) else {
                    return;
                };
                target.columns.push(column.clone());
                // The column reaches every table that inherits from this one.
                for child in self.descendants(&key) {
                    if let Some(t) = self.schema.tables.get_mut(&child)
                        && t.column(&column.name).is_none()
                    {
                        t.columns.push(Column {
                            inherited: true,
                            ..column.clone()
                        });
                    }
                }
            }
            SchemaChange::DropColumn {
                table,
                column,
                if_exists,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                let Some(made_by) = self
                    .schema
                    .tables
                    .get(&key)
                    .and_then(|t| t.column(column))
                    .map(|c| c.source)
                else {
                    if !if_exists {
                        self.missing_column(&key, column);
                    }
                    return;
                };
                let what = format!("the column `{}.{}.{column}`", key.0, key.1);
                if self.may_drop(&[made_by], &what, location) {
                    self.drop_column(&key, column);
                }
            }
            SchemaChange::RenameColumn {
                table,
                column,
                new_name,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                if self.missing_column(&key, column) {
                    return;
                }
                if self
                    .schema
                    .tables
                    .get(&key)
                    .is_some_and(|t| t.column(new_name).is_some())
                    && self.duplicate_column(&key, new_name)
                {
                    return;
                }
                // A column of an outside table that no migration added was made outside too:
                // after the rename it exists under its new name (its type is not known).
                if let Some(t) = self.schema.tables.get_mut(&key)
                    && t.origin == Origin::Outside
                    && t.column(column).is_none()
                    && t.column(new_name).is_none()
                {
                    t.columns.push(Column {
                        name: new_name.as_str().into(),
                        ty: SqlType::from_sql_name("unknown", Vec::new(), false),
                        nullable: true,
                        default: None,
                        primary_key: false,
                        references: None,
                        location: location.clone(),
                        inherited: false,
                        domain: None,
                        source: self.source,
                    });
                    return;
                }
                let renamable =
                    self.schema.tables.get(&key).is_some_and(|t| {
                        t.column(new_name).is_none() && t.column(column).is_some()
                    });
                if renamable {
                    self.alter_column_everywhere(&key, column, |col| {
                        col.name = new_name.as_str().into();
                        col.location = location.clone();
                    });
                }
            }
            SchemaChange::AlterColumnType {
                table,
                column,
                ty,
                location,
            } => {
                let (ty, domain) = self.resolve_column_type(ty);
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                if self.missing_column(&key, column) {
                    return;
                }
                self.alter_column_everywhere(&key, column, |col| {
                    col.ty = ty.clone();
                    col.domain = domain.as_ref().map(|d| d.0.as_str().into());
                    if domain.as_ref().is_some_and(|d| !d.1) {
                        col.nullable = false;
                    }
                    // A type finding should point at the statement that gave the type.
                    col.location = location.clone();
                });
            }
            SchemaChange::SetNullable {
                table,
                column,
                nullable,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                if self.missing_column(&key, column) {
                    return;
                }
                self.alter_column_everywhere(&key, column, |col| col.nullable = *nullable);
            }
            SchemaChange::SetDefault {
                table,
                column,
                default,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                if self.missing_column(&key, column) {
                    return;
                }
                let ty = self
                    .schema
                    .tables
                    .get(&key)
                    .and_then(|t| t.column(column))
                    .map(|c| c.ty.clone());
                if let Some(ty) = ty
                    && self.unsafe_enum_default(&ty, default.as_deref())
                {
                    return;
                }
                self.alter_column_everywhere(&key, column, |col| {
                    col.default = default.as_deref().map(compact_str::CompactString::from)
                });
            }
            SchemaChange::AddPrimaryKey {
                table,
                columns,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                if self.columns_known(&key)
                    && let Some(t) = self.schema.tables.get(&key)
                    && let Some(name) = columns.iter().find(|c| t.column(c).is_none())
                {
                    let error =
                        format!("column \"{name}\" of relation \"{}\" does not exist", key.1);
                    if self.fail(error, Vec::new()) {
                        return;
                    }
                }
                if let Some(table) = self.schema.tables.get_mut(&key) {
                    for name in columns {
                        if let Some(col) = table.column_mut(name) {
                            col.primary_key = true;
                        }
                    }
                }
                // The key's columns become NOT NULL in the children and partitions too.
                for name in columns {
                    self.alter_column_everywhere(&key, name, |col| col.nullable = false);
                }
            }
            SchemaChange::AddForeignKey {
                table,
                columns,
                references,
                location,
            } => {
                let Some(key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                let mut from = Vec::new();
                for name in columns {
                    match self.schema.tables.get(&key).and_then(|t| t.column(name)) {
                        Some(column) => from.push((name.clone(), column.ty.clone())),
                        None if self.columns_known(&key) => {
                            let error = format!(
                                "column \"{name}\" referenced in foreign key constraint does not exist"
                            );
                            if self.fail(error, Vec::new()) {
                                return;
                            }
                        }
                        None => {}
                    }
                }
                if from.len() == columns.len() && self.foreign_key_fails(&from, references, None) {
                    return;
                }
                if let Some(table) = self.schema.tables.get_mut(&key)
                    && columns.len() == 1
                    && let Some(col) = table.column_mut(&columns[0])
                {
                    col.references = Some(Box::new(references.clone()));
                }
            }
            SchemaChange::CreateEnum {
                name,
                values,
                location,
            } => {
                let key = (self.creation_schema(name), name.name.clone());
                if self.schema.enums.contains_key(&key) || self.schema.domains.contains_key(&key) {
                    self.duplicate_type(&key);
                    return;
                }
                self.check.type_sources.insert(key.clone(), self.source);
                self.schema.enums.insert(
                    key.clone(),
                    EnumType {
                        schema: key.0,
                        name: key.1,
                        values: values.clone(),
                        value_locations: vec![location.clone(); values.len()],
                        location: location.clone(),
                    },
                );
            }
            SchemaChange::AddEnumValue {
                name,
                value,
                position,
                location,
            } => {
                let key = self.enum_key(name);
                let Some(enum_type) = self.schema.enums.get_mut(&key) else {
                    return;
                };
                if enum_type.values.contains(value) {
                    return;
                }
                let index = match position {
                    Some((before, other)) => match enum_type.values.iter().position(|v| v == other)
                    {
                        Some(i) if *before => i,
                        Some(i) => i + 1,
                        None => enum_type.values.len(),
                    },
                    None => enum_type.values.len(),
                };
                enum_type.values.insert(index, value.clone());
                enum_type.value_locations.insert(index, location.clone());
                if self.check.in_transaction {
                    self.check.new_values.push((key, value.clone()));
                }
            }
            SchemaChange::RenameEnumValue {
                name,
                value,
                new_value,
                location,
            } => {
                let key = self.enum_key(name);
                if let Some(enum_type) = self.schema.enums.get_mut(&key)
                    && let Some(i) = enum_type.values.iter().position(|v| v == value)
                {
                    enum_type.values[i] = new_value.clone();
                    if let Some(slot) = enum_type.value_locations.get_mut(i) {
                        *slot = location.clone();
                    }
                }
            }
            SchemaChange::RenameType {
                name,
                new_name,
                location,
            } => {
                let key = self.enum_key(name);
                let new_key = (key.0.clone(), new_name.clone());
                self.move_type(&key, &new_key, Some(location));
            }
            SchemaChange::SetTypeSchema {
                name,
                new_schema,
                location,
            } => {
                let key = self.enum_key(name);
                let new_key = (new_schema.clone(), key.1.clone());
                if self.schema.schemas.contains(new_schema) {
                    self.move_type(&key, &new_key, Some(location));
                }
            }
            SchemaChange::CreateDomain {
                name,
                ty,
                nullable,
                location,
            } => {
                let key = (self.creation_schema(name), name.name.clone());
                if self.schema.enums.contains_key(&key) || self.schema.domains.contains_key(&key) {
                    self.duplicate_type(&key);
                    return;
                }
                self.check.type_sources.insert(key.clone(), self.source);
                // A domain over a domain takes the inner domain's type.
                let (ty, inner) = self.resolve_column_type(ty);
                self.schema.domains.insert(
                    key.clone(),
                    Domain {
                        schema: key.0,
                        name: key.1,
                        ty,
                        nullable: *nullable && inner.is_none_or(|d| d.1),
                        location: location.clone(),
                    },
                );
            }
            SchemaChange::RenameSchema { name, new_name, .. } => {
                if !self.schema.schemas.contains(name) || self.schema.schemas.contains(new_name) {
                    return;
                }
                self.schema.schemas.remove(name);
                self.schema.schemas.insert(new_name.clone());
                let tables: Vec<(String, String)> = self
                    .schema
                    .tables
                    .keys()
                    .filter(|(schema, _)| schema == name)
                    .cloned()
                    .collect();
                for key in tables {
                    let new_key = (new_name.clone(), key.1.clone());
                    if let Some(mut moved) = self.schema.tables.remove(&key) {
                        moved.schema = new_name.clone();
                        self.schema.tables.insert(new_key.clone(), moved);
                        self.rekey_parent(&key, &new_key);
                    }
                }
                let types: Vec<(String, String)> = self
                    .schema
                    .enums
                    .keys()
                    .chain(self.schema.domains.keys())
                    .filter(|(schema, _)| schema == name)
                    .cloned()
                    .collect();
                for key in types {
                    let new_key = (new_name.clone(), key.1.clone());
                    self.move_type(&key, &new_key, None);
                }
            }
            SchemaChange::SetParent {
                table,
                parent,
                partition,
                attach,
                location,
            } => {
                let Some(child_key) = self.altered_table(table, location) else {
                    let key = self.table_key(table);
                    self.missing_table(&key);
                    return;
                };
                let parent_key = self.table_key(parent);
                let Some(parent_columns) = self
                    .schema
                    .tables
                    .get(&parent_key)
                    .map(|t| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
                else {
                    return;
                };
                let Some(child) = self.schema.tables.get_mut(&child_key) else {
                    return;
                };
                if *attach {
                    if !child.parents.contains(&parent_key) {
                        child.parents.push(parent_key);
                    }
                    self.inheritance = true;
                } else {
                    child.parents.retain(|p| p != &parent_key);
                }
                // A partition's columns belong to its parent (they go when the parent drops
                // them); an inheritance child keeps its own. Detached, they are its own.
                if *partition || !*attach {
                    for col in &mut child.columns {
                        if parent_columns.contains(&col.name) {
                            col.inherited = *attach;
                        }
                    }
                }
            }
            SchemaChange::DropType { name, .. } => {
                let key = self.enum_key(name);
                if self.schema.domains.remove(&key).is_some()
                    || self.schema.enums.remove(&key).is_some()
                {
                    self.drop_columns_of_type(&key);
                }
            }
            SchemaChange::If {
                branches,
                otherwise,
                ..
            } => {
                for (condition, body) in branches {
                    match self.evaluate(condition) {
                        Some(false) => continue,
                        Some(true) | None => {
                            self.apply_all(body);
                            return;
                        }
                    }
                }
                self.apply_all(otherwise);
            }
        }
    }

    /// The schema a guard names: `current_schema()` is the first schema of the path that exists
    /// (found by the PostgreSQL oracle: it matched any schema).
    fn guard_schema(&self, schema: &Option<String>) -> Option<String> {
        match schema.as_deref() {
            Some(Condition::CURRENT_SCHEMA) => Some(
                self.search_path
                    .iter()
                    .find(|s| self.schema.schemas.contains(*s))
                    .cloned()
                    .unwrap_or_default(),
            ),
            _ => schema.clone(),
        }
    }

    /// `Some(result)` for a condition over the schema; `None` when it cannot be told.
    fn evaluate(&self, condition: &Condition) -> Option<bool> {
        // `to_regclass('t')`: the table the search path finds.
        let on_path = |table: &str| {
            let key = self.table_key(&QualifiedName::new(None, table));
            self.schema.tables.get(&key)
        };
        match condition {
            Condition::ColumnExists {
                schema: Some(s),
                table,
                column,
            } if s == Condition::SEARCH_PATH => {
                Some(on_path(table).is_some_and(|t| t.column(column).is_some()))
            }
            Condition::TableExists {
                schema: Some(s),
                table,
            } if s == Condition::SEARCH_PATH => Some(on_path(table).is_some()),
            // A guard that names its schema is one lookup (a scan per guard made a history of
            // guarded migrations quadratic); one that does not matches a table in any schema.
            Condition::ColumnExists {
                schema,
                table,
                column,
            } => Some(match self.guard_schema(schema) {
                Some(s) => self
                    .schema
                    .tables
                    .get(&(s, table.clone()))
                    .is_some_and(|t| t.column(column).is_some()),
                None => self
                    .schema
                    .tables
                    .values()
                    .any(|t| &t.name == table && t.column(column).is_some()),
            }),
            Condition::TableExists { schema, table } => Some(match self.guard_schema(schema) {
                Some(s) => self.schema.tables.contains_key(&(s, table.clone())),
                None => self.schema.tables.values().any(|t| &t.name == table),
            }),
            // `pg_type` holds enums, domains and the row type of every table.
            Condition::TypeExists { schema, name } => Some(match self.guard_schema(schema) {
                Some(s) => {
                    let key = (s, name.clone());
                    self.schema.enums.contains_key(&key)
                        || self.schema.domains.contains_key(&key)
                        || self.schema.tables.contains_key(&key)
                }
                None => self
                    .schema
                    .enums
                    .keys()
                    .chain(self.schema.domains.keys())
                    .chain(self.schema.tables.keys())
                    .any(|(_, n)| n == name),
            }),
            Condition::Not(inner) => self.evaluate(inner).map(|b| !b),
            Condition::Unknown => None,
        }
    }
}

/// The category of a key column's type in which PostgreSQL can compare values for a foreign
/// key; `None` for types driftguard does not judge (enums, domains, arrays, the rest).
fn key_category(ty: &SqlType) -> Option<&'static str> {
    if ty.array || ty.user_defined {
        return None;
    }
    match &*ty.name {
        "smallint" | "integer" | "bigint" | "numeric" | "real" | "double precision" => {
            Some("number")
        }
        "uuid" => Some("uuid"),
        "text" | "character varying" | "character" => Some("text"),
        "boolean" => Some("boolean"),
        "date" | "timestamp without time zone" | "timestamp with time zone" => Some("time"),
        _ => None,
    }
}

/// The value of a default that is a string literal, possibly cast: `'x'`, `'x'::t`.
fn string_literal(default: &str) -> Option<String> {
    let text = default.trim();
    let text = text
        .split_once("::")
        .map_or(text, |(value, _)| value)
        .trim();
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// Whether `a` comes before `b` in a file (the path is the same).
fn before(a: &Location, b: &Location) -> bool {
    (a.line, a.column) < (b.line, b.column)
}

/// Adds a column to a table being created, or merges it into the column of that name already
/// there (from a parent, or a second parent): it keeps the first one's place and type, and is
/// NOT NULL if either is.
fn merge_column(columns: &mut Vec<Column>, column: Column) {
    match columns.iter_mut().find(|c| c.name == column.name) {
        Some(existing) => {
            existing.nullable = existing.nullable && column.nullable;
            existing.primary_key |= column.primary_key;
            if column.default.is_some() {
                existing.default = column.default;
            }
            if column.references.is_some() {
                existing.references = column.references;
            }
            if !column.inherited {
                existing.inherited = false;
                existing.location = column.location;
            }
        }
        None => columns.push(column),
    }
}

/// A serial column's default names its sequence after the table as written; an unqualified
/// table's sequence lives in the schema the table resolved to, and PostgreSQL prints that
/// schema (except `public`): `nextval('ops.jobs_id_seq'::regclass)`.
fn qualify_serial_default(
    default: &str,
    written: &QualifiedName,
    key: &(String, String),
    column: &str,
) -> String {
    let plain = |name: &str| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let sequence = format!("{}_{column}_seq", written.name);
    if written.schema.is_some()
        || key.0 == "public"
        || !plain(&sequence)
        || default != format!("nextval('{sequence}'::regclass)")
    {
        return default.to_string();
    }
    let schema = if plain(&key.0) {
        key.0.clone()
    } else {
        format!("\"{}\"", key.0.replace('"', "\"\"").replace('\'', "''"))
    };
    format!("nextval('{schema}.{sequence}'::regclass)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: u32) -> Location {
        Location::new("m.sql", line, 1)
    }

    fn col(name: &str, ty: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            ty: SqlType::builtin(ty),
            nullable: true,
            default: None,
            primary_key: false,
            references: None,
            location: loc(1),
        }
    }

    fn q(schema: Option<&str>, name: &str) -> QualifiedName {
        QualifiedName::new(schema, name)
    }

    #[test]
    fn a_column_name_short_or_long_encodes_as_a_plain_string_and_comes_back() {
        let long = "a_column_name_longer_than_twenty_four_bytes";
        for name in ["id", long] {
            let column = Column {
                name: name.into(),
                ty: SqlType::builtin("text"),
                nullable: true,
                default: None,
                primary_key: false,
                references: None,
                location: loc(3),
                inherited: false,
                domain: None,
                source: 0,
            };
            let bytes = postcard::to_allocvec(&column).expect("encodes");
            // The name's bytes are a plain string's: the cache format did not change with it.
            let plain = postcard::to_allocvec(&name.to_string()).expect("encodes");
            assert_eq!(&bytes[..plain.len()], &plain[..]);
            let back: Column = postcard::from_bytes(&bytes).expect("decodes");
            assert_eq!(back, column);
            assert_eq!(back.name, name);
            assert_eq!(back.name.is_heap_allocated(), name == long);
        }
    }

    #[test]
    fn a_tables_compact_columns_round_trip_with_every_flag_and_part() {
        let columns: Vec<Column> = (0..128u32)
            .map(|i| {
                let on = |bit: u32| i & (1 << bit) != 0;
                Column {
                    name: format!("column_{i}").into(),
                    ty: SqlType::builtin(if on(0) { "text" } else { "integer" }),
                    nullable: on(1),
                    default: on(2).then(|| "now()".into()),
                    primary_key: on(3),
                    references: on(4).then(|| {
                        Box::new(ForeignKeyRef {
                            table: q(Some("core"), "customers"),
                            columns: vec!["id".to_string()],
                        })
                    }),
                    location: Location::new(if on(5) { "a.sql" } else { "b.sql" }, i + 1, 3),
                    inherited: on(5),
                    domain: on(6).then(|| "core.email_address".into()),
                    source: if i % 3 == 0 { 0 } else { i as usize },
                }
            })
            .collect();
        let mut table = Table::new("core", "customers", loc(1));
        table.columns = columns.clone().into();
        let tables = vec![table.clone(), Table::new("ops", "jobs", loc(2))];
        for shared in [false, true] {
            use crate::source::{Direction, with_shared_paths};
            let bytes = if shared {
                with_shared_paths(Direction::Encode, || postcard::to_allocvec(&tables))
            } else {
                postcard::to_allocvec(&tables)
            }
            .expect("encode");
            let read = |bytes: &[u8]| -> Option<Vec<Table>> {
                let decode = || postcard::from_bytes::<Vec<Table>>(bytes).ok();
                if shared {
                    with_shared_paths(Direction::Decode, decode)
                } else {
                    decode()
                }
            };
            assert_eq!(read(&bytes), Some(tables.clone()));
            assert_eq!(read(&bytes[..bytes.len() - 2]), None, "cut short");
        }
        // JSON keeps every field of every column.
        let json = serde_json::to_value(&table).expect("json");
        assert_eq!(
            json["columns"],
            serde_json::to_value(&columns).expect("json")
        );
        assert_eq!(json["columns"][16]["references"]["columns"][0], "id");
        let back: Table = serde_json::from_value(json).expect("back");
        assert_eq!(back, table);
        // Flags no version writes are an error.
        let unknown = postcard::to_allocvec(&(0x80u16, "c")).expect("encode");
        assert!(postcard::from_bytes::<crate::cache::FromParts<Column>>(&unknown).is_err());
    }

    #[test]
    fn folders_are_numbered_once_each_and_grow_as_files_are_appended() {
        let paths = ["db/a", "db/b", "db/a", "", "other/x", "db/b"];
        let all = Folders::of(paths);
        assert_eq!(all.distinct, ["db/a", "db/b", "", "other/x"]);
        assert_eq!(all.each, [0, 1, 0, 2, 3, 1]);
        let mut grown = Folders::of(paths[..2].iter().copied());
        grown.extend(paths[2..].iter().copied());
        assert_eq!((&grown.distinct, &grown.each), (&all.distinct, &all.each));
        assert_eq!(all.of_file(2), all.of_file(0));
        assert_ne!(all.of_file(1), all.of_file(0));
        assert_eq!(all.of_file(6), None);
        // Encoded as the list of distinct folders, then each file's number.
        let bytes = postcard::to_allocvec(&all).expect("encodes");
        let plain = postcard::to_allocvec(&(&all.distinct, &all.each)).expect("encodes");
        assert_eq!(bytes, plain);
    }

    #[test]
    fn a_schema_read_back_in_bulk_is_the_schema_written() {
        let schema = run(&[vec![
            SchemaChange::CreateSchema {
                name: "core".into(),
                location: loc(1),
            },
            create(q(Some("core"), "zebras"), vec![col("id", "integer")]),
            create(q(None, "apples"), vec![col("id", "integer")]),
            create(
                q(Some("core"), "apples"),
                vec![col("a", "text"), col("b", "text")],
            ),
            create(q(None, "mangos"), vec![col("id", "bigint")]),
        ]]);
        assert_eq!(schema.tables.len(), 4);
        let bytes = postcard::to_allocvec(&schema).expect("encodes");
        let back: Schema = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(back, schema);
        let keys: Vec<_> = back.tables.keys().cloned().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(
            back.table("core", "apples")
                .is_some_and(|t| t.columns.len() == 2)
        );
        // Entries out of order, and a key twice: the tree a one-by-one insert builds (the
        // last value of a key wins).
        let t = |name: &str| back.table("core", name).cloned().expect("table");
        let key = |name: &str| ("core".to_string(), name.to_string());
        let entries = vec![
            (key("zebras"), t("zebras")),
            (key("apples"), t("zebras")),
            (key("apples"), t("apples")),
        ];
        let bytes = postcard::to_allocvec(&(
            BTreeSet::<String>::new(),
            entries,
            Vec::<((String, String), EnumType)>::new(),
            Vec::<((String, String), Domain)>::new(),
        ))
        .expect("encodes");
        let odd: Schema = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(odd.tables.len(), 2);
        assert_eq!(odd.tables[&key("apples")], t("apples"));
        assert_eq!(odd.tables[&key("zebras")], t("zebras"));
    }

    fn create(table: QualifiedName, columns: Vec<ColumnDef>) -> SchemaChange {
        SchemaChange::CreateTable {
            table,
            if_not_exists: true,
            columns,
            primary_key: vec![],
            copies_from: vec![],
            likes: vec![],
            location: loc(1),
        }
    }

    fn create_with(
        table: QualifiedName,
        columns: Vec<ColumnDef>,
        copies_from: Vec<QualifiedName>,
        likes: Vec<(usize, QualifiedName)>,
    ) -> SchemaChange {
        SchemaChange::CreateTable {
            table,
            if_not_exists: false,
            columns,
            primary_key: vec![],
            copies_from,
            likes,
            location: loc(1),
        }
    }

    fn run(files: &[Vec<SchemaChange>]) -> Schema {
        replay(files.iter().map(|f| FileEvents::plain(f)), "public")
    }

    #[test]
    fn search_path_decides_where_unqualified_names_go_and_resets_per_file() {
        let schema = run(&[
            vec![
                SchemaChange::CreateSchema {
                    name: "core".into(),
                    location: loc(1),
                },
                SchemaChange::SetSearchPath {
                    schemas: vec!["core".into(), "public".into()],
                    location: loc(2),
                },
                create(q(None, "customers"), vec![col("id", "integer")]),
            ],
            vec![SchemaChange::AddColumn {
                table: q(None, "customers"),
                column: col("email", "text"),
                if_not_exists: false,
            }],
        ]);
        let customers = schema.table("core", "customers").expect("core.customers");
        // The second file starts with search_path = public: its ALTER does not reach core.
        assert!(customers.column("email").is_none());
        assert!(schema.table("public", "customers").is_none());
    }

    #[test]
    fn guarded_add_column_runs_only_when_the_column_is_missing() {
        let add = |name: &str, line: u32| SchemaChange::If {
            branches: vec![(
                Condition::Not(Box::new(Condition::ColumnExists {
                    schema: Some("core".into()),
                    table: "t".into(),
                    column: name.into(),
                })),
                vec![SchemaChange::AddColumn {
                    table: q(Some("core"), "t"),
                    column: ColumnDef {
                        location: loc(line),
                        ..col(name, "text")
                    },
                    if_not_exists: false,
                }],
            )],
            otherwise: vec![],
            location: loc(line),
        };
        let schema = run(&[vec![
            create(q(Some("core"), "t"), vec![col("id", "integer")]),
            add("a", 5),
            add("a", 9),
        ]]);
        let t = schema.table("core", "t").expect("core.t");
        assert_eq!(t.columns.len(), 2);
        assert_eq!(t.column("a").map(|c| c.location.line), Some(5));
    }

    #[test]
    fn drop_rename_and_enum_values() {
        let schema = run(&[vec![
            create(q(None, "t"), vec![col("a", "integer"), col("b", "text")]),
            SchemaChange::DropColumn {
                if_exists: false,
                table: q(None, "t"),
                column: "a".into(),
                location: loc(2),
            },
            SchemaChange::RenameColumn {
                table: q(Some("public"), "t"),
                column: "b".into(),
                new_name: "c".into(),
                location: loc(3),
            },
            SchemaChange::RenameTable {
                table: q(None, "t"),
                new_name: "u".into(),
                location: loc(4),
            },
            SchemaChange::CreateEnum {
                name: q(None, "status"),
                values: vec!["a".into(), "c".into()],
                location: loc(5),
            },
            SchemaChange::AddEnumValue {
                name: q(None, "status"),
                value: "b".into(),
                position: Some((true, "c".into())),
                location: loc(6),
            },
        ]]);
        let u = schema.table("public", "u").expect("renamed table");
        assert_eq!(
            u.columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            vec!["c"]
        );
        assert_eq!(u.column("c").map(|c| c.location.line), Some(3));
        assert_eq!(
            schema
                .enum_type("public", "status")
                .map(|e| e.values.clone()),
            Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
        );
    }

    #[test]
    fn serial_default_of_an_unqualified_table_names_the_schema_it_landed_in() {
        let serial = ColumnDef {
            default: Some("nextval('jobs_id_seq'::regclass)".into()),
            nullable: false,
            ..col("id", "integer")
        };
        let schema = run(&[vec![
            SchemaChange::CreateSchema {
                name: "ops".into(),
                location: loc(1),
            },
            SchemaChange::SetSearchPath {
                schemas: vec!["ops".into()],
                location: loc(2),
            },
            create(q(None, "jobs"), vec![serial.clone()]),
            create(q(Some("public"), "jobs"), vec![serial]),
        ]]);
        let default = |s: &str| {
            schema
                .table(s, "jobs")
                .and_then(|t| t.column("id"))
                .and_then(|c| c.default.clone())
        };
        assert_eq!(
            default("ops").as_deref(),
            Some("nextval('ops.jobs_id_seq'::regclass)")
        );
        assert_eq!(
            default("public").as_deref(),
            Some("nextval('jobs_id_seq'::regclass)")
        );
    }

    #[test]
    fn drop_type_takes_the_columns_of_that_type_with_it() {
        let status = |name: &str| ColumnDef {
            ty: SqlType::from_sql_name("ops.flag", vec![], false),
            ..col(name, "text")
        };
        let schema = run(&[vec![
            SchemaChange::CreateEnum {
                name: q(Some("ops"), "flag"),
                values: vec!["on".into()],
                location: loc(1),
            },
            create(
                q(Some("ops"), "flags"),
                vec![
                    col("id", "integer"),
                    status("value"),
                    ColumnDef {
                        ty: status("x").ty.into_array(),
                        ..col("previous", "text")
                    },
                ],
            ),
            SchemaChange::DropType {
                name: q(Some("ops"), "flag"),
                location: loc(3),
            },
        ]]);
        let flags = schema.table("ops", "flags").expect("ops.flags");
        assert_eq!(
            flags
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            vec!["id"]
        );
        assert!(schema.enum_type("ops", "flag").is_none());
    }

    fn names(schema: &Schema, s: &str, t: &str) -> Vec<(String, bool)> {
        schema
            .table(s, t)
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| (c.name.to_string(), c.nullable))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn pairs(v: &[(&str, bool)]) -> Vec<(String, bool)> {
        v.iter().map(|(n, b)| (n.to_string(), *b)).collect()
    }

    fn not_null(name: &str) -> ColumnDef {
        ColumnDef {
            nullable: false,
            ..col(name, "integer")
        }
    }

    #[test]
    fn like_copies_columns_where_it_stands_and_inherits_merges_not_null() {
        // Found by the PostgreSQL oracle: LIKE columns were put first, and a column redeclared
        // under INHERITS lost the parent's NOT NULL.
        let schema = run(&[vec![
            create(q(None, "p"), vec![col("id", "integer"), not_null("at")]),
            create_with(
                q(None, "copy"),
                vec![col("first", "integer"), col("last", "text")],
                vec![],
                vec![(1, q(None, "p"))],
            ),
            create_with(
                q(None, "child"),
                vec![col("own", "text"), col("at", "integer")],
                vec![q(None, "p")],
                vec![],
            ),
        ]]);
        assert_eq!(
            names(&schema, "public", "copy"),
            pairs(&[("first", true), ("id", true), ("at", false), ("last", true)])
        );
        assert_eq!(
            names(&schema, "public", "child"),
            pairs(&[("id", true), ("at", false), ("own", true)])
        );
    }

    #[test]
    fn alter_table_on_a_parent_reaches_its_children() {
        let t = |name: &str| q(Some("ops"), name);
        let schema = run(&[vec![
            create(
                t("events"),
                vec![col("id", "integer"), col("at", "integer")],
            ),
            create_with(
                t("logins"),
                vec![col("at", "integer"), col("ip", "text")],
                vec![t("events")],
                vec![],
            ),
            create_with(t("tagged"), vec![], vec![t("logins")], vec![]),
            create_with(t("copied"), vec![], vec![], vec![(0, t("events"))]),
            SchemaChange::AddColumn {
                table: t("events"),
                column: not_null("severity"),
                if_not_exists: false,
            },
            SchemaChange::RenameColumn {
                table: t("events"),
                column: "id".into(),
                new_name: "event_id".into(),
                location: loc(2),
            },
            // `logins` declared `at` itself: it keeps it, and so does its child.
            SchemaChange::DropColumn {
                if_exists: false,
                table: t("events"),
                column: "at".into(),
                location: loc(3),
            },
            SchemaChange::RenameTable {
                table: t("events"),
                new_name: "event_log".into(),
                location: loc(4),
            },
            SchemaChange::SetNullable {
                table: t("event_log"),
                column: "event_id".into(),
                nullable: false,
                location: loc(5),
            },
        ]]);
        let expected = pairs(&[
            ("event_id", false),
            ("at", true),
            ("ip", true),
            ("severity", false),
        ]);
        assert_eq!(names(&schema, "ops", "logins"), expected);
        assert_eq!(names(&schema, "ops", "tagged"), expected);
        assert_eq!(
            names(&schema, "ops", "copied"),
            pairs(&[("id", true), ("at", true)])
        );
        let schema = run(&[vec![
            create(t("parent"), vec![col("id", "integer")]),
            create_with(t("part"), vec![], vec![t("parent")], vec![]),
            SchemaChange::DropTable {
                table: t("parent"),
                location: loc(2),
            },
        ]]);
        assert!(schema.tables.is_empty());
    }

    #[test]
    fn domains_are_reported_with_their_type_and_not_null() {
        // Found by the PostgreSQL oracle: information_schema shows the domain's type.
        let domain = |name: &str, ty: &str, nullable: bool| SchemaChange::CreateDomain {
            name: q(Some("core"), name),
            ty: SqlType::builtin(ty),
            nullable,
            location: loc(1),
        };
        let of = |name: &str, ty: &str| ColumnDef {
            ty: SqlType::from_sql_name(ty, vec![], false),
            ..col(name, "text")
        };
        let schema = run(&[vec![
            domain("cents", "integer", false),
            domain("email", "text", true),
            create(
                q(Some("core"), "invoices"),
                vec![
                    of("amount", "core.cents"),
                    ColumnDef {
                        ty: SqlType::from_sql_name("core.cents", vec![], false).into_array(),
                        ..col("history", "text")
                    },
                    of("billed_to", "core.email"),
                ],
            ),
            SchemaChange::DropType {
                name: q(Some("core"), "email"),
                location: loc(2),
            },
        ]]);
        let t = schema.table("core", "invoices").expect("core.invoices");
        let seen: Vec<(String, String, bool)> = t
            .columns
            .iter()
            .map(|c| {
                (
                    c.name.to_string(),
                    c.ty.information_schema_data_type(),
                    c.nullable,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("amount".to_string(), "integer".to_string(), false),
                ("history".to_string(), "ARRAY".to_string(), true),
            ]
        );
    }

    #[test]
    fn types_and_schemas_move_and_partitions_attach() {
        let schema = run(&[vec![
            SchemaChange::CreateSchema {
                name: "staging".into(),
                location: loc(1),
            },
            SchemaChange::CreateEnum {
                name: q(Some("staging"), "state"),
                values: vec!["new".into()],
                location: loc(1),
            },
            create(
                q(Some("staging"), "imports"),
                vec![ColumnDef {
                    ty: SqlType::from_sql_name("staging.state", vec![], false),
                    ..col("state", "text")
                }],
            ),
            SchemaChange::RenameSchema {
                name: "staging".into(),
                new_name: "imports".into(),
                location: loc(2),
            },
            SchemaChange::SetTypeSchema {
                name: q(Some("imports"), "state"),
                new_schema: "public".into(),
                location: loc(3),
            },
            create(q(None, "parent"), vec![col("id", "integer")]),
            create(q(None, "part"), vec![col("id", "integer")]),
            SchemaChange::SetParent {
                table: q(None, "part"),
                parent: q(None, "parent"),
                partition: true,
                attach: true,
                location: loc(4),
            },
            SchemaChange::AddColumn {
                table: q(None, "parent"),
                column: col("a", "text"),
                if_not_exists: false,
            },
            SchemaChange::SetParent {
                table: q(None, "part"),
                parent: q(None, "parent"),
                partition: true,
                attach: false,
                location: loc(5),
            },
            SchemaChange::AddColumn {
                table: q(None, "parent"),
                column: col("b", "text"),
                if_not_exists: false,
            },
        ]]);
        let imports = schema
            .table("imports", "imports")
            .expect("moved with its schema");
        assert_eq!(
            imports.column("state").map(|c| &*c.ty.name),
            Some("public.state")
        );
        assert!(schema.enum_type("public", "state").is_some());
        assert_eq!(
            names(&schema, "public", "part"),
            pairs(&[("id", true), ("a", true)])
        );
    }

    #[test]
    fn primary_keys_reach_partitions_and_dropped_schemas_take_typed_columns() {
        // Both found by the PostgreSQL oracle.
        let schema = run(&[vec![
            create(q(None, "sessions"), vec![col("id", "integer")]),
            create_with(
                q(None, "sessions_eu"),
                vec![],
                vec![q(None, "sessions")],
                vec![],
            ),
            SchemaChange::AddPrimaryKey {
                table: q(None, "sessions"),
                columns: vec!["id".into()],
                location: loc(2),
            },
            SchemaChange::CreateSchema {
                name: "lookup".into(),
                location: loc(3),
            },
            SchemaChange::CreateEnum {
                name: q(Some("lookup"), "tier"),
                values: vec!["gold".into()],
                location: loc(3),
            },
            create(
                q(None, "loyalty"),
                vec![
                    col("points", "integer"),
                    ColumnDef {
                        ty: SqlType::from_sql_name("lookup.tier", vec![], false),
                        ..col("tier", "text")
                    },
                ],
            ),
            SchemaChange::DropSchema {
                name: "lookup".into(),
                cascade: true,
                location: loc(4),
            },
        ]]);
        assert_eq!(
            names(&schema, "public", "sessions_eu"),
            pairs(&[("id", false)])
        );
        assert_eq!(
            names(&schema, "public", "loyalty"),
            pairs(&[("points", true)])
        );
    }

    #[test]
    fn current_schema_guards_look_at_the_first_existing_schema_only() {
        let guarded = |schema: &str, table: &str| SchemaChange::If {
            branches: vec![(
                Condition::Not(Box::new(Condition::TableExists {
                    schema: Some(schema.into()),
                    table: table.into(),
                })),
                vec![create(q(None, table), vec![col("id", "integer")])],
            )],
            otherwise: vec![],
            location: loc(2),
        };
        let schema = run(&[vec![
            create(q(Some("core"), "dup"), vec![col("id", "integer")]),
            // `dup` exists, but not in the current schema (public): it is created.
            guarded(Condition::CURRENT_SCHEMA, "dup"),
            // `dup` exists in core: nothing happens.
            guarded("core", "dup"),
            create(q(Some("core"), "other"), vec![col("id", "integer")]),
            SchemaChange::If {
                branches: vec![(
                    Condition::Not(Box::new(Condition::TypeExists {
                        schema: None,
                        name: "other".into(),
                    })),
                    vec![create(q(None, "never"), vec![])],
                )],
                otherwise: vec![],
                location: loc(3),
            },
        ]]);
        assert!(schema.table("public", "dup").is_some());
        // A table's row type is a type: the guard holds.
        assert!(schema.table("public", "never").is_none());
    }

    #[test]
    fn unqualified_regclass_guards_look_along_the_search_path() {
        // Found by the PostgreSQL oracle: `to_regclass('t')` matched `t` in any schema.
        let guarded = SchemaChange::If {
            branches: vec![(
                Condition::Not(Box::new(Condition::TableExists {
                    schema: Some(Condition::SEARCH_PATH.into()),
                    table: "t".into(),
                })),
                vec![create(q(None, "t"), vec![col("id", "integer")])],
            )],
            otherwise: vec![],
            location: loc(2),
        };
        let schema = run(&[vec![
            create(q(Some("core"), "t"), vec![col("id", "integer")]),
            guarded.clone(),
        ]]);
        assert!(schema.table("public", "t").is_some());
        let schema = run(&[vec![
            create(q(Some("public"), "t"), vec![col("id", "integer")]),
            SchemaChange::CreateSchema {
                name: "core".into(),
                location: loc(1),
            },
            SchemaChange::SetSearchPath {
                schemas: vec!["core".into(), "public".into()],
                location: loc(1),
            },
            guarded,
        ]]);
        assert!(schema.table("core", "t").is_none());
    }

    fn add(table: QualifiedName, name: &str) -> SchemaChange {
        SchemaChange::AddColumn {
            table,
            column: col(name, "text"),
            if_not_exists: false,
        }
    }

    fn one_database(sources: &[(&str, Vec<SchemaChange>)]) -> (Schema, Vec<Warning>) {
        let events: Vec<SourceEvents> = sources
            .iter()
            .map(|(name, changes)| SourceEvents {
                skipped: 0,
                name,
                default_schema: "public",
                files: vec![FileEvents::plain(changes)],
                ordered: None,
            })
            .collect();
        replay_sources(&events)
    }

    fn column_names(schema: &Schema, s: &str, t: &str) -> Vec<String> {
        schema
            .table(s, t)
            .map(|t| t.columns.iter().map(|c| c.name.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn an_alter_on_a_table_no_source_creates_makes_an_outside_table() {
        let (schema, _) =
            one_database(&[("SQL", vec![add(q(Some("auth"), "users"), "display_name")])]);
        let users = schema.table("auth", "users").expect("outside table");
        assert_eq!(users.origin, Origin::Outside);
        assert_eq!(column_names(&schema, "auth", "users"), ["display_name"]);
        assert_eq!(users.altered_at.len(), 1);
    }

    #[test]
    fn the_creating_source_comes_first_whatever_the_order() {
        // Alembic (first) adds a column to a table the SQL files (later) create.
        let (schema, _) = one_database(&[
            ("Alembic", vec![add(q(Some("core"), "customers"), "phone")]),
            (
                "SQL",
                vec![create(
                    q(Some("core"), "customers"),
                    vec![col("id", "integer"), col("email", "text")],
                )],
            ),
        ]);
        let customers = schema.table("core", "customers").expect("created");
        assert_eq!(customers.origin, Origin::Migrations);
        assert_eq!(customers.source, 1);
        assert_eq!(
            column_names(&schema, "core", "customers"),
            ["id", "email", "phone"]
        );
    }

    #[test]
    fn an_alter_before_its_own_sources_create_fails_as_in_postgresql() {
        let (schema, _) = one_database(&[(
            "SQL",
            vec![
                add(q(Some("core"), "customers"), "phone"),
                create(q(Some("core"), "customers"), vec![col("id", "integer")]),
            ],
        )]);
        assert_eq!(column_names(&schema, "core", "customers"), ["id"]);
        assert_eq!(
            schema.table("core", "customers").map(|t| t.origin),
            Some(Origin::Migrations)
        );
    }

    #[test]
    fn a_drop_never_removes_what_another_source_made() {
        let (schema, warnings) = one_database(&[
            (
                "Alembic",
                vec![create(
                    q(Some("core"), "customers"),
                    vec![col("id", "integer"), col("email", "text")],
                )],
            ),
            (
                "SQL",
                vec![
                    add(q(Some("core"), "customers"), "phone"),
                    SchemaChange::DropColumn {
                        if_exists: false,
                        table: q(Some("core"), "customers"),
                        column: "email".into(),
                        location: loc(7),
                    },
                    SchemaChange::DropColumn {
                        if_exists: false,
                        table: q(Some("core"), "customers"),
                        column: "phone".into(),
                        location: loc(8),
                    },
                    SchemaChange::DropTable {
                        table: q(Some("core"), "customers"),
                        location: loc(9),
                    },
                ],
            ),
        ]);
        assert_eq!(column_names(&schema, "core", "customers"), ["id", "email"]);
        let lines: Vec<u32> = warnings
            .iter()
            .filter_map(|w| w.location.as_ref().map(|l| l.line))
            .collect();
        assert_eq!(lines, [7, 9], "{warnings:?}");
        assert!(
            warnings[0].message.contains("which Alembic made"),
            "{warnings:?}"
        );
    }

    #[test]
    fn many_tables_each_altered_once_replay_without_scanning_for_children() {
        let mut changes = Vec::new();
        for i in 0..2_000 {
            changes.push(create(
                q(None, &format!("t{i}")),
                vec![col("id", "integer")],
            ));
        }
        for i in 0..2_000 {
            changes.push(add(q(None, &format!("t{i}")), "extra"));
        }
        let (schema, _) = one_database(&[("SQL", changes)]);
        assert_eq!(schema.tables.len(), 2_000);
        assert_eq!(column_names(&schema, "public", "t1999"), ["id", "extra"]);
    }

    #[test]
    fn a_table_two_sources_create_has_the_columns_of_both() {
        let (schema, _) = one_database(&[
            (
                "Alembic (a)",
                vec![create(
                    q(Some("ai"), "training_data"),
                    vec![col("id", "integer"), col("question", "text")],
                )],
            ),
            (
                "Alembic (b)",
                vec![create(
                    q(Some("ai"), "training_data"),
                    vec![col("id", "integer"), col("customer_message", "text")],
                )],
            ),
        ]);
        assert_eq!(
            column_names(&schema, "ai", "training_data"),
            ["id", "question", "customer_message"]
        );
    }

    #[test]
    fn an_alter_on_a_concurrent_branch_waits_for_the_create() {
        // File 1 adds a column to a table file 2 creates; on a graph where neither is an
        // ancestor of the other, the add is not lost. Where file 2 descends from file 1, the
        // add runs first in every order and fails.
        let alter = vec![add(q(Some("identity"), "users"), "extra")];
        let create_users = vec![create(
            q(Some("identity"), "users"),
            vec![col("id", "integer")],
        )];
        let replay = |ordered: &dyn Fn(usize, usize) -> bool| {
            let source = SourceEvents {
                skipped: 0,
                name: "Alembic",
                default_schema: "public",
                files: vec![
                    FileEvents::plain(&[]),
                    FileEvents::plain(&alter),
                    FileEvents::plain(&create_users),
                ],
                ordered: Some(ordered),
            };
            column_names(&replay_sources(&[source]).0, "identity", "users")
        };
        assert_eq!(replay(&|a, _| a == 0), ["id", "extra"]);
        assert_eq!(replay(&|a, b| a < b), ["id"]);
    }

    #[test]
    fn tables_of_a_name_are_found_in_every_schema_as_a_pass_over_all_finds_them() {
        let mut schema = Schema::default();
        let schemas = ["", "a", "a\u{1}", "ab", "core", "core\u{0}x", "corea", "z"];
        let names = ["", "t", "t\u{0}", "tt", "u", "\u{10FFFF}"];
        for (i, s) in schemas.iter().enumerate() {
            for (j, n) in names.iter().enumerate() {
                if (i + j) % 3 != 0 {
                    let at = Location::new("m.sql", 1, 1);
                    schema
                        .tables
                        .insert((s.to_string(), n.to_string()), Table::new(s, n, at));
                }
            }
        }
        for name in names.iter().chain(&["v", "t\u{1}"]) {
            let found: Vec<(&str, &str)> = schema
                .tables_named(name)
                .map(|t| (t.schema.as_str(), t.name.as_str()))
                .collect();
            let scanned: Vec<(&str, &str)> = schema
                .tables
                .values()
                .filter(|t| t.name == *name)
                .map(|t| (t.schema.as_str(), t.name.as_str()))
                .collect();
            assert_eq!(found, scanned, "{name:?}");
        }
        for s in schemas.iter().chain(&["b", "cor", "core\u{0}", "zz"]) {
            assert_eq!(
                schema.has_table_in(s),
                schema.tables.keys().any(|(k, _)| k == s),
                "{s:?}"
            );
        }
        assert_eq!(Schema::default().tables_named("t").count(), 0);
    }
}
