//! A table's columns, which a table read back from a kept replay holds encoded until they are
//! first read ([`Columns::encoded`]).
//!
//! A new edit's check goes on from the kept replay of a large project's migrations (5,000
//! tables, 60,000 columns) and then reads the columns of the few tables its change can reach
//! (the rules' scope, [`crate::rules::scope`]). Decoding every column up front was most of
//! that replay's decoding (~7 ms of CPU and ~1,600 page faults at 5,000 tables); each table's
//! columns are now written apart ([`Columns::encoded`]) and decoded on first use. A replay
//! that is kept again writes the columns it never decoded as it read them.
//!
//! Reading is `Deref` to the list (decoded once, also when several threads ask at once);
//! changing is `DerefMut`, which decodes and drops the encoding. A list that does not decode
//! (a damaged cache entry) reads as empty and is remembered ([`damaged`]): the check that read
//! it then stops with an error rather than report on a schema it did not really read.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut, Range};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::Column;
use crate::source::{Direction, with_shared_paths};

/// The bytes an encoded list is read from (a kept replay's mapped cache entry).
pub trait Bytes: Send + Sync {
    fn bytes(&self) -> &[u8];
}

impl<B: Deref<Target = [u8]> + Send + Sync> Bytes for B {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A table's columns, in creation order.
#[derive(Clone, Default)]
pub struct Columns {
    list: Vec<Column>,
    /// Set while the list is the one `encoded` holds: `list` is then empty.
    lazy: Option<Box<Lazy>>,
}

#[derive(Clone)]
struct Lazy {
    bytes: Arc<dyn Bytes>,
    range: Range<usize>,
    decoded: OnceLock<Vec<Column>>,
}

/// Set when an encoded list did not decode.
static DAMAGED: AtomicBool = AtomicBool::new(false);
/// How many encoded lists were decoded, for `DRIFTGUARD_TIMINGS`.
static DECODED: AtomicUsize = AtomicUsize::new(0);

/// Whether an encoded list read since the process started did not decode.
pub fn damaged() -> bool {
    DAMAGED.load(Ordering::Relaxed)
}

/// How many encoded lists were decoded since the process started.
pub fn decoded() -> usize {
    DECODED.load(Ordering::Relaxed)
}

/// A list as [`Columns::encoded`] writes it: the columns' compact encoding, locations' paths
/// shared within the list.
#[derive(serde::Deserialize)]
struct List(#[serde(deserialize_with = "crate::cache::compact_list::deserialize")] Vec<Column>);

impl Lazy {
    fn decode(&self) -> Vec<Column> {
        DECODED.fetch_add(1, Ordering::Relaxed);
        self.try_decode().unwrap_or_else(|| {
            DAMAGED.store(true, Ordering::Relaxed);
            Vec::new()
        })
    }

    fn try_decode(&self) -> Option<Vec<Column>> {
        let bytes = self.bytes.bytes().get(self.range.clone())?;
        let List(columns) =
            with_shared_paths(Direction::Decode, || postcard::from_bytes(bytes).ok())?;
        Some(columns)
    }
}

impl Columns {
    /// The list held encoded at `range` of `bytes` (as [`Columns::encoded`] wrote it), decoded
    /// when first read.
    pub fn lazy(bytes: Arc<dyn Bytes>, range: Range<usize>) -> Columns {
        Columns {
            list: Vec::new(),
            lazy: Some(Box::new(Lazy {
                bytes,
                range,
                decoded: OnceLock::new(),
            })),
        }
    }

    /// Whether the list is still the encoded one it was read as, not decoded yet.
    pub fn is_encoded(&self) -> bool {
        self.lazy
            .as_ref()
            .is_some_and(|lazy| lazy.decoded.get().is_none())
    }

    /// The list's encoding, as [`Columns::lazy`] reads it: the bytes it was read from when it
    /// has not changed since, otherwise encoded now; `None` when it does not encode.
    pub fn encoded(&self) -> Option<Cow<'_, [u8]>> {
        if let Some(lazy) = &self.lazy {
            return Some(Cow::Borrowed(lazy.bytes.bytes().get(lazy.range.clone())?));
        }
        with_shared_paths(Direction::Encode, || {
            postcard::to_allocvec(&crate::cache::CompactList(&self.list)).ok()
        })
        .map(Cow::Owned)
    }
}

impl From<Vec<Column>> for Columns {
    fn from(list: Vec<Column>) -> Columns {
        Columns { list, lazy: None }
    }
}

impl Deref for Columns {
    type Target = Vec<Column>;

    fn deref(&self) -> &Vec<Column> {
        match &self.lazy {
            Some(lazy) => lazy.decoded.get_or_init(|| lazy.decode()),
            None => &self.list,
        }
    }
}

impl DerefMut for Columns {
    fn deref_mut(&mut self) -> &mut Vec<Column> {
        if let Some(lazy) = self.lazy.take() {
            let mut lazy = *lazy;
            self.list = lazy.decoded.take().unwrap_or_else(|| lazy.decode());
        }
        &mut self.list
    }
}

impl IntoIterator for Columns {
    type Item = Column;
    type IntoIter = std::vec::IntoIter<Column>;

    fn into_iter(mut self) -> Self::IntoIter {
        std::mem::take(&mut *self).into_iter()
    }
}

impl<'c> IntoIterator for &'c Columns {
    type Item = &'c Column;
    type IntoIter = std::slice::Iter<'c, Column>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'c> IntoIterator for &'c mut Columns {
    type Item = &'c mut Column;
    type IntoIter = std::slice::IterMut<'c, Column>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl PartialEq for Columns {
    fn eq(&self, other: &Columns) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Columns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl serde::Serialize for Columns {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

/// `#[serde(deserialize_with)]` for a table's columns: as
/// [`crate::cache::compact_list::deserialize`] reads the list.
pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Columns, D::Error> {
    crate::cache::compact_list::deserialize(deserializer).map(Columns::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres_type::SqlType;
    use crate::source::Location;

    fn column(name: &str, path: &str) -> Column {
        Column {
            name: name.into(),
            ty: SqlType::from_sql_name("varchar", vec![40], false),
            nullable: true,
            default: Some("'x'".into()),
            primary_key: false,
            references: None,
            location: Location::new(path, 3, 1),
            inherited: false,
            domain: None,
            source: 1,
        }
    }

    /// Columns read back from their encoding, as a kept replay's table holds them.
    fn read_back(list: Vec<Column>) -> (Columns, Arc<Vec<u8>>) {
        let bytes = Columns::from(list).encoded().expect("encodes").into_owned();
        let mut framed = b"before".to_vec();
        framed.extend(&bytes);
        let range = 6..framed.len();
        let framed = Arc::new(framed);
        (Columns::lazy(Arc::clone(&framed) as _, range), framed)
    }

    #[test]
    fn encoded_columns_decode_when_first_read_and_are_written_as_they_were_read() {
        let list = vec![
            column("id", "a.sql"),
            column("note", "b.sql"),
            column("tag", "a.sql"),
        ];
        let (columns, bytes) = read_back(list.clone());
        assert!(columns.is_encoded());
        // Unread, they are written as they were read: the very bytes.
        let written = columns.encoded().expect("encodes");
        assert!(matches!(written, Cow::Borrowed(_)));
        assert_eq!(&*written, &bytes[6..]);
        // Read: the list written, and still written from the bytes it was read from.
        assert_eq!(*columns, list);
        assert!(!columns.is_encoded());
        assert!(matches!(columns.encoded(), Some(Cow::Borrowed(_))));
        // Read by several threads at once: each sees the one list.
        let (columns, _) = read_back(list.clone());
        std::thread::scope(|scope| {
            let reads: Vec<_> = (0..4).map(|_| scope.spawn(|| columns.len())).collect();
            for read in reads {
                assert_eq!(read.join().ok(), Some(3));
            }
        });
        // Changed: the new list, encoded anew.
        let (mut columns, _) = read_back(list.clone());
        columns.retain(|c| c.name != "note");
        assert!(matches!(columns.encoded(), Some(Cow::Owned(_))));
        let (again, _) = read_back(columns.to_vec());
        assert_eq!(again, columns);
        assert_eq!(again.len(), 2);
        // Taken as a list, cloned, compared and iterated as one.
        let (columns, _) = read_back(list.clone());
        assert_eq!(columns.clone(), Columns::from(list.clone()));
        assert_eq!((&columns).into_iter().count(), 3);
        assert_eq!(columns.into_iter().collect::<Vec<_>>(), list);
        assert_eq!(format!("{:?}", Columns::default()), "[]");
    }

    #[test]
    fn columns_that_do_not_decode_are_none_and_not_a_panic() {
        let (columns, bytes) = read_back(vec![column("id", "a.sql")]);
        let Some(lazy) = &columns.lazy else {
            panic!("read back encoded");
        };
        assert!(lazy.try_decode().is_some());
        // More columns than the bytes hold, or a range past the end.
        let mut damaged = bytes.to_vec();
        damaged[6] = 0x7f;
        let damaged = Lazy {
            bytes: Arc::new(damaged),
            range: lazy.range.clone(),
            decoded: OnceLock::new(),
        };
        assert!(damaged.try_decode().is_none());
        let past = Lazy {
            bytes: Arc::clone(&bytes) as _,
            range: 6..bytes.len() + 1,
            decoded: OnceLock::new(),
        };
        assert!(past.try_decode().is_none());
    }
}
