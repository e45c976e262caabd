//! [`Lazy`]: a part of a parse that a compact encoding (the parse pack, the module summaries
//! file) keeps as its own bytes, decoded the first time something asks for it.
//!
//! A module summary repeats every class and function of its file, bodies included, for the
//! evaluator to follow computed table names, `@declared_attr` code and helpers — which most
//! checks never ask for. Decoding them all on every new edit was about a fifth of the parse
//! pack's decoding at 5,000 models, and 62 of 230 ms on MLflow (an 8 MB module summaries
//! file). Kept encoded, a class or function costs one copy of its bytes until used.
//!
//! In a human-readable format (JSON) a `Lazy` is simply its value.

use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::source::{Direction, with_shared_paths};

/// A value, or the bytes it decodes from on first use. The value is boxed: a `Lazy` that is
/// never decoded (most of them) takes two words and its bytes, however large its type.
pub struct Lazy<T> {
    value: OnceLock<Option<Box<T>>>,
    /// The value's postcard encoding (paths shared within it), when it was read as bytes.
    encoded: Option<Box<[u8]>>,
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

impl<T: DeserializeOwned> Lazy<T> {
    /// The value, decoded on first use. `None` when the bytes would not decode: only a
    /// damaged cache file can do that, and a caller then treats the value as unknown.
    pub fn get(&self) -> Option<&T> {
        self.value
            .get_or_init(|| {
                let bytes = self.encoded.as_deref()?;
                with_shared_paths(Direction::Decode, || postcard::from_bytes(bytes).ok())
                    .map(Box::new)
            })
            .as_deref()
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
        if let Some(bytes) = &self.encoded {
            return serializer.serialize_bytes(bytes);
        }
        // Its own encoding, with its own table of shared paths: the bytes decode alone.
        let value = self.get().ok_or_else(|| {
            serde::ser::Error::custom("a lazy value with neither value nor bytes")
        })?;
        let bytes = with_shared_paths(Direction::Encode, || postcard::to_allocvec(value))
            .map_err(serde::ser::Error::custom)?;
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
        let bytes = serde_bytes_buf(deserializer)?;
        Ok(Lazy {
            value: OnceLock::new(),
            encoded: Some(bytes.into_boxed_slice()),
        })
    }
}

/// A byte string as postcard writes one (`serialize_bytes`).
fn serde_bytes_buf<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    struct Bytes;
    impl<'de> serde::de::Visitor<'de> for Bytes {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
    }
    deserializer.deserialize_byte_buf(Bytes)
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
            encoded: Some(vec![0xff, 0xff, 0xff].into_boxed_slice()),
        };
        assert_eq!(lazy.get(), None);
    }
}
