//! [`Lazy`]: a part of a parse that a compact encoding (the parse pack, the module summaries
//! file) keeps as its own bytes, decoded the first time something asks for it.
//!
//! A module summary repeats every class and function of its file, bodies included, for the
//! evaluator to follow computed table names, `@declared_attr` code and helpers — which most
//! checks never ask for. Decoding them all on every new edit was about a fifth of the parse
//! pack's decoding at 5,000 models, and 62 of 230 ms on MLflow (an 8 MB module summaries
//! file). Kept encoded, a class or function costs one copy of its bytes until used.
//!
//! Read from a mapped cache entry inside [`with_backing`], a `Lazy` keeps its place in the
//! mapping instead of a copy: the parse pack's lazy parts were ~15 MB of fresh heap at 5,000
//! models, copied from pages the system already holds.
//!
//! In a human-readable format (JSON) a `Lazy` is simply its value.
//!
//! [`LazyList`]: a list of table columns (a kept replay's, a kept resolution's) kept the same
//! way, read through `Deref` as the list itself.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cache::{CacheBytes, CompactParts, FromParts};
use crate::source::{Direction, with_shared_paths};

/// A value, or the bytes it decodes from on first use. The value is boxed: a `Lazy` that is
/// never decoded (most of them) takes two words and its bytes, however large its type.
pub struct Lazy<T> {
    value: OnceLock<Option<Box<T>>>,
    /// The value's postcard encoding (paths shared within it), when it was read as bytes.
    encoded: Option<Encoded>,
}

/// The bytes a [`Lazy`] decodes from.
#[derive(Clone)]
enum Encoded {
    /// Its own copy.
    Own(Box<[u8]>),
    /// A part of the mapped cache entry it was read from.
    Part(Arc<CacheBytes>, Range<usize>),
}

impl Encoded {
    /// The bytes; `None` only for a part that is not in its entry (never made so).
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Encoded::Own(bytes) => Some(bytes),
            Encoded::Part(backing, range) => backing.get(range.clone()),
        }
    }
}

thread_local! {
    /// The mapped entry being decoded on this thread ([`with_backing`]).
    static BACKING: RefCell<Option<Arc<CacheBytes>>> = const { RefCell::new(None) };
}

/// Runs `f` (a decoding of bytes inside `backing`) so that the lazy values it reads keep their
/// place in `backing` rather than copies — when `backing` is a mapping. Bytes read into memory
/// are copied as before: a part of them would keep the whole buffer alive.
pub fn with_backing<T>(backing: &Arc<CacheBytes>, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<Arc<CacheBytes>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            BACKING.with_borrow_mut(|backing| *backing = previous);
        }
    }
    let this = matches!(**backing, CacheBytes::Mapped(_)).then(|| Arc::clone(backing));
    let _reset = Reset(BACKING.with_borrow_mut(|current| std::mem::replace(current, this)));
    f()
}

/// `bytes` as a part of the backing of this thread's decoding, if they lie inside it.
fn part_of_backing(bytes: &[u8]) -> Option<Encoded> {
    BACKING.with_borrow(|backing| {
        let backing = backing.as_ref()?;
        let start = (bytes.as_ptr() as usize).checked_sub(backing.as_ptr() as usize)?;
        let end = start.checked_add(bytes.len())?;
        (end <= backing.len()).then(|| Encoded::Part(Arc::clone(backing), start..end))
    })
}

impl<T> Lazy<T> {
    /// An already decoded value.
    pub fn new(value: T) -> Self {
        Lazy {
            value: OnceLock::from(Some(Box::new(value))),
            encoded: None,
        }
    }
}

impl<T> Lazy<T> {
    /// A value still to decode from `range` of `backing`: bytes a [`Lazy`] of this type wrote
    /// ([`Lazy::encoded`]), read in place (a parse pack's SQL files: [`crate::project`]).
    pub fn from_part(backing: &Arc<CacheBytes>, range: Range<usize>) -> Self {
        Lazy {
            value: OnceLock::new(),
            encoded: Some(Encoded::Part(Arc::clone(backing), range)),
        }
    }
}

impl<T: Serialize> Lazy<T> {
    /// The bytes the value decodes from, as [`Lazy::from_part`] takes them: its own when it
    /// was read as bytes, else its encoding (with its own table of shared paths, so that they
    /// decode alone). `None` for a value with neither, or one that would not encode.
    pub fn encoded(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        if let Some(bytes) = self.encoded.as_ref().and_then(Encoded::bytes) {
            return Some(std::borrow::Cow::Borrowed(bytes));
        }
        let value = self.value.get()?.as_deref()?;
        with_shared_paths(Direction::Encode, || postcard::to_allocvec(value))
            .ok()
            .map(std::borrow::Cow::Owned)
    }
}

impl<T: DeserializeOwned> Lazy<T> {
    /// The value, decoded on first use. `None` when the bytes would not decode: only a
    /// damaged cache file can do that, and a caller then treats the value as unknown.
    pub fn get(&self) -> Option<&T> {
        self.value
            .get_or_init(|| {
                let bytes = self.encoded.as_ref()?.bytes()?;
                with_shared_paths(Direction::Decode, || postcard::from_bytes(bytes).ok())
                    .map(Box::new)
            })
            .as_deref()
    }
}

impl<T> Lazy<T> {
    /// Whether the value is decoded (or was made decoded).
    #[cfg(test)]
    pub fn is_decoded(&self) -> bool {
        self.value.get().is_some()
    }
}

impl<T: DeserializeOwned> Lazy<T> {
    /// The value to change, decoded first; its bytes are dropped (they no longer say it), so
    /// [`Lazy::encoded`] and serializing encode the changed value. `None` as for [`Lazy::get`].
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.get()?;
        self.encoded = None;
        self.value.get_mut()?.as_deref_mut()
    }
}

impl<T: DeserializeOwned + std::fmt::Debug> std::fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

impl<T: DeserializeOwned + PartialEq> PartialEq for Lazy<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Clone> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Lazy {
            value: self.value.clone(),
            encoded: self.encoded.clone(),
        }
    }
}

impl<T: Serialize + DeserializeOwned> Serialize for Lazy<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return self.get().serialize(serializer);
        }
        let bytes = self.encoded().ok_or_else(|| {
            serde::ser::Error::custom("a lazy value with neither bytes nor a value that encodes")
        })?;
        serializer.serialize_bytes(&bytes)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lazy<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            return Option::<T>::deserialize(deserializer).map(|value| Lazy {
                value: OnceLock::from(value.map(Box::new)),
                encoded: None,
            });
        }
        let encoded = serde_bytes_buf(deserializer)?;
        Ok(Lazy {
            value: OnceLock::new(),
            encoded: Some(encoded),
        })
    }
}

/// A byte string as postcard writes one (`serialize_bytes`): a part of the backing when it
/// lies inside it ([`with_backing`]), else a copy.
fn serde_bytes_buf<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Encoded, D::Error> {
    struct Bytes;
    impl<'de> serde::de::Visitor<'de> for Bytes {
        type Value = Encoded;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Encoded, E> {
            Ok(part_of_backing(v).unwrap_or_else(|| Encoded::Own(v.into())))
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Encoded, E> {
            Ok(Encoded::Own(v.into_boxed_slice()))
        }
    }
    deserializer.deserialize_byte_buf(Bytes)
}

/// A list of values that a compact encoding keeps as its own bytes, read back encoded and
/// decoded the first time something reads it: a kept replay's table columns and a kept
/// resolution's model columns. A new edit's check at 5,000 models / 20,000 migrations goes on
/// from both and reads the columns of the few tables its change can reach (the rules' scope,
/// [`crate::rules::scope`]); decoding all 60,000 of each was most of their decoding and of its
/// page faults.
///
/// Reading is `Deref` to the list (decoded once, whichever thread asks first); changing is
/// `DerefMut`, which decodes and drops the bytes. Unread, a list is written again as it was
/// read. Its length ([`LazyList::count`]) and its values' keys ([`Listed::keys`]: a model
/// column's foreign keys) are written beside the bytes and read without decoding them. A list
/// that does not decode (a damaged cache entry) reads as empty and is counted
/// ([`damaged_since`]): the command that read it then stops with an error rather than report
/// on what it did not really read.
///
/// In a human-readable format (JSON) a `LazyList` is simply its list.
pub struct LazyList<T> {
    list: Vec<T>,
    /// Set while the list is the one these bytes hold: `list` is then empty.
    lazy: Option<Box<ListPart<T>>>,
}

struct ListPart<T> {
    encoded: Encoded,
    count: usize,
    keys: Box<[Box<str>]>,
    decoded: OnceLock<Vec<T>>,
}

/// A value a [`LazyList`] holds.
pub trait Listed: CompactParts + Sized {
    /// Strings a caller asks of every list without reading its values ([`LazyList::any_key`]).
    fn keys(&self) -> &[String] {
        &[]
    }

    /// Counts the lists of this type decoded, for `DRIFTGUARD_TIMINGS`.
    fn decoded() -> &'static AtomicUsize;
}

/// How many lists of `T` were decoded since the process started ([`Listed::decoded`]).
pub fn decoded<T: Listed>() -> usize {
    T::decoded().load(Ordering::Relaxed)
}

/// How many [`LazyList`]s did not decode since the process started.
static DAMAGED: AtomicUsize = AtomicUsize::new(0);

/// A mark for [`damaged_since`]: a command takes one when it starts, and asks about the lists
/// read after it (a library caller may run commands one after the other in one process).
pub fn damage_mark() -> usize {
    DAMAGED.load(Ordering::Relaxed)
}

/// Whether a [`LazyList`] read since `mark` ([`damage_mark`]) did not decode.
pub fn damaged_since(mark: usize) -> bool {
    DAMAGED.load(Ordering::Relaxed) != mark
}

impl<T: Listed> ListPart<T> {
    fn decode(&self) -> Vec<T> {
        T::decoded().fetch_add(1, Ordering::Relaxed);
        self.try_decode().unwrap_or_else(|| {
            DAMAGED.fetch_add(1, Ordering::Relaxed);
            Vec::new()
        })
    }

    fn try_decode(&self) -> Option<Vec<T>> {
        let bytes = self.encoded.bytes()?;
        let list: Vec<FromParts<T>> =
            with_shared_paths(Direction::Decode, || postcard::from_bytes(bytes).ok())?;
        (list.len() == self.count).then(|| list.into_iter().map(|FromParts(v)| v).collect())
    }
}

impl<T: Listed> LazyList<T> {
    /// Whether the list is still the encoded one it was read as, not decoded yet.
    pub fn is_encoded(&self) -> bool {
        self.lazy
            .as_ref()
            .is_some_and(|l| l.decoded.get().is_none())
    }

    /// How many values the list holds, told without decoding it.
    pub fn count(&self) -> usize {
        match &self.lazy {
            Some(lazy) if lazy.decoded.get().is_none() => lazy.count,
            _ => self.len(),
        }
    }

    /// Whether a key of one of the values ([`Listed::keys`]) satisfies `f`, told without
    /// decoding the list.
    pub fn any_key(&self, f: impl Fn(&str) -> bool) -> bool {
        match &self.lazy {
            Some(lazy) if lazy.decoded.get().is_none() => lazy.keys.iter().any(|k| f(k)),
            _ => self.iter().flat_map(Listed::keys).any(|k| f(k)),
        }
    }

    /// The list's own encoding: the bytes it was read from while it has not changed, else
    /// encoded now (with its own table of shared paths, so that it decodes alone); `None`
    /// when it does not encode.
    pub fn encoded(&self) -> Option<std::borrow::Cow<'_, [u8]>> {
        if let Some(lazy) = &self.lazy {
            return lazy.encoded.bytes().map(std::borrow::Cow::Borrowed);
        }
        with_shared_paths(Direction::Encode, || {
            postcard::to_allocvec(&crate::cache::CompactList(&self.list)).ok()
        })
        .map(std::borrow::Cow::Owned)
    }
}

impl<T> Default for LazyList<T> {
    fn default() -> Self {
        LazyList {
            list: Vec::new(),
            lazy: None,
        }
    }
}

impl<T> FromIterator<T> for LazyList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        LazyList::from(values.into_iter().collect::<Vec<T>>())
    }
}

impl<T> From<Vec<T>> for LazyList<T> {
    fn from(list: Vec<T>) -> LazyList<T> {
        LazyList { list, lazy: None }
    }
}

impl<T: Listed> std::ops::Deref for LazyList<T> {
    type Target = Vec<T>;

    fn deref(&self) -> &Vec<T> {
        match &self.lazy {
            Some(lazy) => lazy.decoded.get_or_init(|| lazy.decode()),
            None => &self.list,
        }
    }
}

impl<T: Listed> std::ops::DerefMut for LazyList<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        if let Some(lazy) = self.lazy.take() {
            let mut lazy = *lazy;
            self.list = lazy.decoded.take().unwrap_or_else(|| lazy.decode());
        }
        &mut self.list
    }
}

impl<T: Listed> IntoIterator for LazyList<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(mut self) -> Self::IntoIter {
        std::mem::take(&mut *self).into_iter()
    }
}

impl<'l, T: Listed> IntoIterator for &'l LazyList<T> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'l, T: Listed> IntoIterator for &'l mut LazyList<T> {
    type Item = &'l mut T;
    type IntoIter = std::slice::IterMut<'l, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<T: Clone> Clone for LazyList<T> {
    fn clone(&self) -> Self {
        LazyList {
            list: self.list.clone(),
            lazy: self.lazy.as_ref().map(|lazy| {
                Box::new(ListPart {
                    encoded: lazy.encoded.clone(),
                    count: lazy.count,
                    keys: lazy.keys.clone(),
                    decoded: lazy.decoded.clone(),
                })
            }),
        }
    }
}

impl<T: Listed + PartialEq> PartialEq for LazyList<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Listed + std::fmt::Debug> std::fmt::Debug for LazyList<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// A list's bytes as written: `serialize_bytes`.
struct ListBytes<'b>(&'b [u8]);

impl Serialize for ListBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// A list's bytes as read: a part of the backing, or a copy ([`serde_bytes_buf`]).
struct ReadBytes(Encoded);

impl<'de> Deserialize<'de> for ReadBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_bytes_buf(deserializer).map(ReadBytes)
    }
}

impl<T: Listed + Serialize> Serialize for LazyList<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            return (**self).serialize(serializer);
        }
        let bytes = self
            .encoded()
            .ok_or_else(|| serde::ser::Error::custom("a list that does not encode"))?;
        let keys: Vec<&str> = match &self.lazy {
            Some(lazy) if lazy.decoded.get().is_none() => lazy.keys.iter().map(|k| &**k).collect(),
            _ => self
                .iter()
                .flat_map(Listed::keys)
                .map(String::as_str)
                .collect(),
        };
        (self.count(), keys, ListBytes(&bytes)).serialize(serializer)
    }
}

impl<'de, T: Listed + Deserialize<'de>> Deserialize<'de> for LazyList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            return Vec::<T>::deserialize(deserializer).map(LazyList::from);
        }
        let (count, keys, ReadBytes(encoded)) =
            <(usize, Vec<Box<str>>, ReadBytes)>::deserialize(deserializer)?;
        Ok(LazyList {
            list: Vec::new(),
            lazy: Some(Box::new(ListPart {
                encoded,
                count,
                keys: keys.into_boxed_slice(),
                decoded: OnceLock::new(),
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Location;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Part {
        name: String,
        at: Location,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Whole {
        at: Location,
        parts: Vec<Lazy<Part>>,
        after: u32,
    }

    fn whole() -> Whole {
        let at = Location::new("app/models.py", 3, 1);
        Whole {
            at: at.clone(),
            parts: vec![
                Lazy::new(Part {
                    name: "Order".into(),
                    at: Location::new("app/models.py", 5, 1),
                }),
                Lazy::new(Part {
                    name: "Line".into(),
                    at: Location::new("app/other.py", 9, 5),
                }),
            ],
            after: 7,
        }
    }

    #[test]
    fn lazy_parts_round_trip_inside_a_shared_path_encoding_and_decode_on_use() {
        let original = whole();
        let bytes =
            with_shared_paths(Direction::Encode, || postcard::to_allocvec(&original)).unwrap();
        let back: Whole =
            with_shared_paths(Direction::Decode, || postcard::from_bytes(&bytes)).unwrap();
        assert!(
            back.parts.iter().all(|p| p.value.get().is_none()),
            "decoded early"
        );
        assert_eq!(back.after, 7);
        assert_eq!(
            back.parts[1].get().unwrap().at.to_string(),
            "app/other.py:9:5"
        );
        assert_eq!(back, original);
        // Written again without being used: the same bytes.
        let again = with_shared_paths(Direction::Encode, || postcard::to_allocvec(&back)).unwrap();
        assert_eq!(again, bytes);
    }

    /// `encoded` behind a prefix, as a chunk lies inside a pack, in a file large enough to be
    /// mapped: the mapping, and where `encoded` starts in it.
    fn mapped_behind_a_prefix(encoded: &[u8]) -> (Arc<CacheBytes>, usize) {
        let prefix = usize::try_from(crate::cache::MAP_FROM).unwrap();
        let mut file_bytes = vec![0u8; prefix];
        file_bytes.extend_from_slice(encoded);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entry.bin");
        std::fs::write(&path, &file_bytes).unwrap();
        let mapped = CacheBytes::with_pages(
            &std::fs::File::open(&path).unwrap(),
            crate::cache::Pages::Ahead,
        )
        .unwrap();
        (Arc::new(mapped), prefix)
    }

    #[test]
    fn inside_a_mapped_backing_lazy_parts_keep_their_place_and_decode_the_same() {
        let original = whole();
        let encoded =
            with_shared_paths(Direction::Encode, || postcard::to_allocvec(&original)).unwrap();
        let (mapped, prefix) = mapped_behind_a_prefix(&encoded);
        assert!(matches!(*mapped, CacheBytes::Mapped(_)));
        let read = Arc::new(CacheBytes::Read(mapped.to_vec()));
        let decode = |backing: &Arc<CacheBytes>| -> Whole {
            with_backing(backing, || {
                with_shared_paths(Direction::Decode, || {
                    postcard::from_bytes(&backing[prefix..]).unwrap()
                })
            })
        };
        let from_map = decode(&mapped);
        for part in &from_map.parts {
            assert!(
                matches!(&part.encoded, Some(Encoded::Part(backing, range))
                    if Arc::ptr_eq(backing, &mapped) && range.start >= prefix),
                "a part of the mapping"
            );
        }
        // Read bytes are copied: a part would keep the whole buffer alive.
        let from_read = decode(&read);
        assert!(
            from_read
                .parts
                .iter()
                .all(|part| matches!(part.encoded, Some(Encoded::Own(_))))
        );
        // Outside `with_backing`, copies too, and the backing is forgotten afterwards.
        let alone: Whole =
            with_shared_paths(Direction::Decode, || postcard::from_bytes(&encoded)).unwrap();
        assert!(
            alone
                .parts
                .iter()
                .all(|part| matches!(part.encoded, Some(Encoded::Own(_))))
        );
        assert_eq!(from_map, original);
        assert_eq!(from_read, original);
        // Written again without being used: the same bytes, from the mapping too.
        let again =
            with_shared_paths(Direction::Encode, || postcard::to_allocvec(&from_map)).unwrap();
        assert_eq!(again, encoded);
        // The mapping outlives the decoding for as long as a part holds it.
        drop(mapped);
        assert_eq!(
            from_map.parts[0].get().map(|part| part.name.as_str()),
            Some("Order")
        );
    }

    #[test]
    fn json_holds_the_value_itself() {
        let original = whole();
        let json = serde_json::to_value(&original).unwrap();
        assert_eq!(json["parts"][0]["name"], "Order");
        let back: Whole = serde_json::from_value(json).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn damaged_bytes_read_as_unknown_not_a_panic() {
        let lazy: Lazy<Part> = Lazy {
            value: OnceLock::new(),
            encoded: Some(Encoded::Own(vec![0xff, 0xff, 0xff].into_boxed_slice())),
        };
        assert_eq!(lazy.get(), None);
    }

    /// A model column with a foreign key, and one without.
    fn model_columns() -> Vec<crate::models::ModelColumn> {
        let mut owner = crate::models::ModelColumn::new("owner_id", Location::new("m.py", 4, 5));
        owner.set_foreign_keys(vec!["core.customers.id".into()]);
        let note = crate::models::ModelColumn::new("note", Location::new("m.py", 5, 5));
        vec![owner, note]
    }

    /// A table as a kept resolution holds it, and the chunk it is written in.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Held {
        name: String,
        columns: LazyList<crate::models::ModelColumn>,
    }

    /// `held` written in a file large enough to be mapped, behind a prefix, and read back
    /// in place.
    fn mapped_back(held: &[Held]) -> (Vec<Held>, Arc<CacheBytes>, Vec<u8>) {
        let encoded = with_shared_paths(Direction::Encode, || postcard::to_allocvec(held)).unwrap();
        let (mapped, prefix) = mapped_behind_a_prefix(&encoded);
        let back = with_backing(&mapped, || {
            with_shared_paths(Direction::Decode, || {
                postcard::from_bytes(&mapped[prefix..])
            })
        })
        .unwrap();
        (back, mapped, encoded)
    }

    #[test]
    fn a_lazy_list_decodes_when_first_read_and_is_written_again_as_it_was_read() {
        let held = vec![
            Held {
                name: "orders".into(),
                columns: model_columns().into(),
            },
            Held {
                name: "empty".into(),
                columns: LazyList::default(),
            },
        ];
        let (back, mapped, encoded) = mapped_back(&held);
        assert!(back.iter().all(|h| h.columns.is_encoded()));
        assert!(matches!(
            &back[0].columns.lazy.as_ref().unwrap().encoded,
            Encoded::Part(backing, _) if Arc::ptr_eq(backing, &mapped)
        ));
        // Counted, and its foreign keys asked, without decoding.
        assert_eq!(back[0].columns.count(), 2);
        assert!(back[0].columns.any_key(|k| k == "core.customers.id"));
        assert!(!back[1].columns.any_key(|_| true));
        assert!(back[0].columns.is_encoded());
        // Unread, written again: the very bytes.
        let again = with_shared_paths(Direction::Encode, || postcard::to_allocvec(&back)).unwrap();
        assert_eq!(again, encoded);
        // Read: the list, the same keys and count, still written from its bytes.
        assert_eq!(back, held);
        assert!(!back[0].columns.is_encoded());
        assert_eq!(back[0].columns.count(), 2);
        assert!(back[0].columns.any_key(|k| k == "core.customers.id"));
        let again = with_shared_paths(Direction::Encode, || postcard::to_allocvec(&back)).unwrap();
        assert_eq!(again, encoded);
        // Read by several threads at once: each sees the one list, decoded once.
        let (back, _, _) = mapped_back(&held);
        let decoded = <crate::models::ModelColumn as Listed>::decoded().load(Ordering::Relaxed);
        std::thread::scope(|scope| {
            let reads: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| back[0].columns.len()))
                .collect();
            for read in reads {
                assert_eq!(read.join().ok(), Some(2));
            }
        });
        // (Other tests decode lists of this type at the same time: at least this one.)
        assert!(
            <crate::models::ModelColumn as Listed>::decoded().load(Ordering::Relaxed) > decoded
        );
        assert!(back[1].columns.is_encoded() && !back[0].columns.is_encoded());
        // Changed: its new values, keys and count written.
        let (mut back, _, _) = mapped_back(&held);
        back[0].columns.retain(|c| c.name != "owner_id");
        assert!(!back[0].columns.any_key(|_| true));
        let (again, _, _) = mapped_back(&back);
        assert!(!again[0].columns.any_key(|_| true));
        assert_eq!(again[0].columns.count(), 1);
        assert_eq!(again, back);
        // Taken, cloned and iterated as a list; JSON holds the list itself.
        let (back, _, _) = mapped_back(&held);
        assert_eq!(back[0].clone().columns, held[0].columns);
        assert_eq!((&back[0].columns).into_iter().count(), 2);
        let json = serde_json::to_value(&back[0]).unwrap();
        assert_eq!(json["columns"][0]["name"], "owner_id");
        let from_json: Held = serde_json::from_value(json).unwrap();
        assert_eq!(from_json, held[0]);
        assert_eq!(back[0].columns.clone().into_iter().count(), 2);
        // Read outside a mapped backing: a copy of the bytes, decoded the same.
        let copied: Vec<Held> =
            with_shared_paths(Direction::Decode, || postcard::from_bytes(&encoded)).unwrap();
        assert!(matches!(
            &copied[0].columns.lazy.as_ref().unwrap().encoded,
            Encoded::Own(_)
        ));
        assert_eq!(copied, held);
    }

    #[test]
    fn a_lazy_list_that_does_not_decode_is_none_and_not_a_panic() {
        let columns: LazyList<crate::models::ModelColumn> = model_columns().into();
        let bytes = columns.encoded().unwrap().into_owned();
        let part = |bytes: Vec<u8>, count: usize| ListPart::<crate::models::ModelColumn> {
            encoded: Encoded::Own(bytes.into_boxed_slice()),
            count,
            keys: Box::default(),
            decoded: OnceLock::new(),
        };
        assert_eq!(
            part(bytes.clone(), 2).try_decode().map(|l| l.len()),
            Some(2)
        );
        // Another count than written, bytes cut short, a list longer than its bytes.
        assert!(part(bytes.clone(), 3).try_decode().is_none());
        assert!(
            part(bytes[..bytes.len() - 1].to_vec(), 2)
                .try_decode()
                .is_none()
        );
        let mut longer = bytes;
        longer[0] = 0x7f;
        assert!(part(longer.clone(), 2).try_decode().is_none());
        // Read through the list: empty, and counted as damaged for whoever marked before.
        let mark = damage_mark();
        let damaged = LazyList {
            list: Vec::new(),
            lazy: Some(Box::new(part(longer, 2))),
        };
        assert!(damaged.is_empty());
        assert!(damaged_since(mark));
        assert!(!damaged_since(damage_mark()));
    }
}
