//! Source text with positions.
//!
//! Every stage that reports a place in a user's file goes through [`SourceFile`]: it owns the
//! decoded text and a line index so that a byte offset becomes a 1-based line and a 1-based
//! column counted in characters. Line breaks are `\n`, `\r\n` and a lone `\r`, so a file saved
//! with old Mac endings still points at the right line. Decoding never fails: a file that is not
//! UTF-8 is read lossily and the caller gets a warning to pass on.

use foldhash::{HashMap, HashMapExt};
use std::cell::RefCell;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A place in a file of the repository, as users see it: the path is relative to the repository
/// root (or the checked directory) with `/` separators; line and column are 1-based.
///
/// Line 0 marks a place that is not a line of a file: `db-diff` locates what it read from a
/// live database at the database, `postgresql://host:port/name` (never a user or password),
/// and such a location displays as that path alone.
///
/// The path is shared (`Arc<str>`): a file's parse holds a location per statement, call and
/// column, and copying them (the replay, findings) copies no text. Serialized as a struct
/// (`{"path", "line", "column"}` in JSON) except inside [`with_shared_paths`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub path: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub fn new(path: impl Into<Arc<str>>, line: u32, column: u32) -> Self {
        Location {
            path: path.into(),
            line,
            column,
        }
    }
}

/// A location as JSON and other self-describing formats see it.
#[derive(Serialize, Deserialize)]
#[serde(rename = "Location")]
struct PlainLocation<P> {
    path: P,
    line: u32,
    column: u32,
}

/// A location's path inside [`with_shared_paths`]: written once per encoding, then by number.
#[derive(Serialize, Deserialize)]
enum SharedPath<S> {
    New(S),
    Seen(u32),
}

/// The paths of the encoding or decoding that runs on this thread (see [`with_shared_paths`]).
enum SharedPaths {
    Encoding(HashMap<Arc<str>, u32>),
    Decoding(Vec<Arc<str>>),
    /// One piece of a file ([`with_piece_lines`]) written: no path, lines from this row.
    PieceEncoding(u32),
    /// One piece of a file read back: the file's path, lines from this row.
    PieceDecoding(Arc<str>, u32),
}

thread_local! {
    static SHARED_PATHS: RefCell<Option<SharedPaths>> = const { RefCell::new(None) };
}

/// Whether [`with_shared_paths`] encodes or decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Encode,
    Decode,
}

/// Runs `f` — one serialization or one deserialization on this thread — with the paths of
/// its locations shared: each path is written once, then by number, and read back as one
/// shared `Arc<str>`. For the parse pack, where a file's parse repeats its path hundreds of
/// times: a third of the bytes, and most of the allocations of reading it back. Both sides
/// must use it, in the same direction pairs, over the same value (a non-self-describing
/// format such as postcard).
pub fn with_shared_paths<T>(direction: Direction, f: impl FnOnce() -> T) -> T {
    let fresh = match direction {
        Direction::Encode => SharedPaths::Encoding(HashMap::new()),
        Direction::Decode => SharedPaths::Decoding(Vec::new()),
    };
    with_mode(fresh, f)
}

/// Runs `f` — one serialization or one deserialization, on this thread, of a piece of a
/// Python file's syntax (see [`crate::pyast::parse_reusing`]) — with its locations written
/// without their path and with their lines counted from row `base` (0-based) of the file, and
/// read back with `path` and the lines counted from row `base` of the file they are read
/// into: a piece's syntax kept from one version of a file serves another where the same text
/// stands lower or higher. A line the piece's base would take below 1 fails the encoding.
pub fn with_piece_lines<T>(
    direction: Direction,
    path: &Arc<str>,
    base: u32,
    f: impl FnOnce() -> T,
) -> T {
    let fresh = match direction {
        Direction::Encode => SharedPaths::PieceEncoding(base),
        Direction::Decode => SharedPaths::PieceDecoding(Arc::clone(path), base),
    };
    with_mode(fresh, f)
}

/// Runs `f` with this thread's locations written and read as `mode` says, then puts back the
/// mode before (also when `f` panics).
fn with_mode<T>(mode: SharedPaths, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<SharedPaths>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            SHARED_PATHS.with_borrow_mut(|shared| *shared = previous);
        }
    }
    let _reset = Reset(SHARED_PATHS.with_borrow_mut(|shared| shared.replace(mode)));
    f()
}

/// How this thread writes a location: with its path shared ([`with_shared_paths`]), as a
/// piece's line alone ([`with_piece_lines`]: the line from the piece's base), or plainly.
enum Writing<'a> {
    Shared(SharedPath<&'a str>),
    Piece(Option<u32>),
    Plain,
}

fn writing<'a>(path: &'a Arc<str>, line: u32) -> Writing<'a> {
    SHARED_PATHS.with_borrow_mut(|shared| match shared {
        Some(SharedPaths::PieceEncoding(base)) => {
            Writing::Piece(line.checked_sub(*base).filter(|l| *l > 0))
        }
        Some(SharedPaths::Encoding(seen)) => Writing::Shared(match seen.get(&**path) {
            Some(&number) => SharedPath::Seen(number),
            None => {
                let number = u32::try_from(seen.len()).unwrap_or(u32::MAX);
                seen.insert(Arc::clone(path), number);
                SharedPath::New(&**path)
            }
        }),
        _ => Writing::Plain,
    })
}

/// How this thread reads a location back (see [`Writing`]).
enum Reading {
    Shared,
    Piece(Arc<str>, u32),
    Plain,
}

fn reading() -> Reading {
    SHARED_PATHS.with_borrow(|shared| match shared {
        Some(SharedPaths::Decoding(_)) => Reading::Shared,
        Some(SharedPaths::PieceDecoding(path, base)) => Reading::Piece(Arc::clone(path), *base),
        _ => Reading::Plain,
    })
}

/// `path` as [`with_shared_paths`] writes it: its number when this encoding wrote it before;
/// `None` outside one.
fn share(path: &Arc<str>) -> Option<SharedPath<&str>> {
    match writing(path, 0) {
        Writing::Shared(shared) => Some(shared),
        Writing::Piece(_) | Writing::Plain => None,
    }
}

/// Whether a [`with_shared_paths`] decoding runs on this thread.
fn decoding_shared() -> bool {
    matches!(reading(), Reading::Shared)
}

/// A path's text read straight into the `Arc<str>` it is kept as: from a borrowed string (a
/// postcard decoding from bytes) with one allocation, where reading a `String` first made two
/// and copied the text twice — once per file of a parse pack or a kept replay (20,000 at
/// 20,000 migrations).
struct ArcText(Arc<str>);

impl<'de> Deserialize<'de> for ArcText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = ArcText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ArcText, E> {
                Ok(ArcText(Arc::from(v)))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ArcText, E> {
                Ok(ArcText(Arc::from(v)))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// The path a [`SharedPath`] read back stands for, shared with every other place it was read.
fn unshare<E: serde::de::Error>(path: SharedPath<ArcText>) -> Result<Arc<str>, E> {
    SHARED_PATHS
        .with_borrow_mut(|shared| {
            let Some(SharedPaths::Decoding(paths)) = shared else {
                return None;
            };
            match path {
                SharedPath::New(ArcText(path)) => {
                    paths.push(Arc::clone(&path));
                    Some(path)
                }
                SharedPath::Seen(number) => paths.get(usize::try_from(number).ok()?).cloned(),
            }
        })
        .ok_or_else(|| E::custom("a location names an unknown path"))
}

/// A path field written like a [`Location`]'s (`#[serde(with = "crate::source::shared_path")]`):
/// a plain string, except inside [`with_shared_paths`], where it is written once and then by
/// number, and read back as the one `Arc<str>` the locations of the same file share.
pub mod shared_path {
    use super::*;

    pub fn serialize<S: Serializer>(path: &Arc<str>, serializer: S) -> Result<S::Ok, S::Error> {
        match share(path) {
            Some(shared) => shared.serialize(serializer),
            None => serializer.serialize_str(path),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Arc<str>, D::Error> {
        if decoding_shared() {
            unshare(SharedPath::<ArcText>::deserialize(deserializer)?)
        } else {
            Ok(ArcText::deserialize(deserializer)?.0)
        }
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match writing(&self.path, self.line) {
            Writing::Shared(path) => (path, self.line, self.column).serialize(serializer),
            Writing::Piece(Some(line)) => (line, self.column).serialize(serializer),
            Writing::Piece(None) => Err(serde::ser::Error::custom(
                "a location above the piece it is written with",
            )),
            Writing::Plain => PlainLocation {
                path: &*self.path,
                line: self.line,
                column: self.column,
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match reading() {
            Reading::Plain => {
                let plain = PlainLocation::<Arc<str>>::deserialize(deserializer)?;
                Ok(Location::new(plain.path, plain.line, plain.column))
            }
            Reading::Shared => {
                let (path, line, column) =
                    <(SharedPath<ArcText>, u32, u32)>::deserialize(deserializer)?;
                Ok(Location::new(unshare(path)?, line, column))
            }
            Reading::Piece(path, base) => {
                let (line, column) = <(u32, u32)>::deserialize(deserializer)?;
                let line = line
                    .checked_add(base)
                    .ok_or_else(|| serde::de::Error::custom("a line past the end of numbers"))?;
                Ok(Location::new(path, line, column))
            }
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            f.write_str(&self.path)
        } else {
            write!(f, "{}:{}:{}", self.path, self.line, self.column)
        }
    }
}

/// A decoded file with its line index.
///
/// Columns count characters, and counting them from the start of the line on every lookup is
/// quadratic on a long line (100 MB of SQL on one line, a minified file): a non-ASCII file
/// keeps a character count every [`CHAR_MARK_BYTES`] bytes, so that a lookup counts at most
/// that many bytes; an ASCII file (most) needs none.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    /// The path every [`Location`] of the file shares.
    shared_path: Arc<str>,
    pub text: String,
    /// Byte offset at which each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// For a non-ASCII text: entry `k` is (the first character boundary at or after
    /// `k * CHAR_MARK_BYTES`, the characters before it). Empty for ASCII text.
    char_marks: Vec<(usize, usize)>,
}

/// Bytes between two character counts kept by [`SourceFile`].
const CHAR_MARK_BYTES: usize = 4096;

impl SourceFile {
    /// Builds a source file from text that is already known to be UTF-8.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = line_starts(&text);
        let char_marks = char_marks(&text);
        let path = path.into();
        SourceFile {
            shared_path: Arc::from(path.as_str()),
            path,
            text,
            line_starts,
            char_marks,
        }
    }

    /// Decodes raw bytes. Returns the file and, when the bytes were not valid UTF-8, a warning
    /// message saying so (the text then holds U+FFFD where bytes could not be read). A leading
    /// UTF-8 byte order mark is dropped.
    pub fn from_bytes(path: impl Into<String>, bytes: &[u8]) -> (Self, Option<String>) {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => (SourceFile::new(path, text), None),
            Err(err) => {
                let text = String::from_utf8_lossy(bytes).into_owned();
                let file = SourceFile::new(path, text);
                let (line, column) = file.line_col(err.valid_up_to());
                let message = format!(
                    "file is not valid UTF-8 (first bad byte at line {line}, column {column}); read it with replacement characters — save it as UTF-8 to silence this"
                );
                (file, Some(message))
            }
        }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters, not bytes.
    /// Offsets past the end point just after the last character.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line_index];
        (
            to_u32(line_index + 1),
            to_u32(self.chars_between(start, offset) + 1),
        )
    }

    /// Characters in `text[start..end]` (`end` moved back to a character boundary), in time
    /// bounded by [`CHAR_MARK_BYTES`] whatever the distance.
    pub fn chars_between(&self, start: usize, end: usize) -> usize {
        let mut end = end.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let start = start.min(end);
        if self.char_marks.is_empty() {
            return end - start;
        }
        self.chars_before(end) - self.chars_before(start)
    }

    /// Characters before the character boundary `offset`.
    fn chars_before(&self, offset: usize) -> usize {
        let mut block = offset / CHAR_MARK_BYTES;
        let (mut from, mut count) = self.char_marks.get(block).copied().unwrap_or((0, 0));
        while from > offset && block > 0 {
            block -= 1;
            (from, count) = self.char_marks.get(block).copied().unwrap_or((0, 0));
        }
        count + self.text.get(from..offset).map_or(0, |s| s.chars().count())
    }

    /// The path every [`Location`] of the file shares.
    pub fn shared_path(&self) -> &Arc<str> {
        &self.shared_path
    }

    /// The [`Location`] of a byte offset in this file.
    pub fn location(&self, offset: usize) -> Location {
        let (line, column) = self.line_col(offset);
        Location::new(Arc::clone(&self.shared_path), line, column)
    }

    /// The [`Location`] of a 0-based (row, byte column) pair as tree-sitter reports it.
    pub fn location_of_point(&self, row: usize, byte_column: usize) -> Location {
        let start = self
            .line_starts
            .get(row)
            .copied()
            .unwrap_or(self.text.len());
        self.location(start + byte_column)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let index = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(index) else {
            return "";
        };
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// Byte offset of the start of a 1-based line.
    pub fn line_start(&self, line: u32) -> usize {
        let index = (line as usize).saturating_sub(1);
        self.line_starts
            .get(index)
            .copied()
            .unwrap_or(self.text.len())
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn char_marks(text: &str) -> Vec<(usize, usize)> {
    if text.is_ascii() {
        return Vec::new();
    }
    let mut marks = Vec::with_capacity(text.len() / CHAR_MARK_BYTES + 1);
    let mut count = 0;
    let mut from = 0;
    for block in 0..=text.len() / CHAR_MARK_BYTES {
        let mut at = (block * CHAR_MARK_BYTES).min(text.len());
        while !text.is_char_boundary(at) {
            at += 1;
        }
        count += text.get(from..at).map_or(0, |s| s.chars().count());
        marks.push((at, count));
        from = at;
    }
    marks
}

fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                starts.push(i + 1);
            }
            _ => {}
        }
        i += 1;
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_all_line_endings() {
        let file = SourceFile::new("a.sql", "ab\r\ncé d\rx\ny");
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(4), (2, 1));
        // "cé " is 4 bytes: c(1) é(2) space(1); 'd' is the 4th character.
        assert_eq!(file.line_col(8), (2, 4));
        assert_eq!(file.line_col(10), (3, 1));
        assert_eq!(file.line_col(12), (4, 1));
        assert_eq!(file.line_text(2), "cé d");
        assert_eq!(file.line_count(), 4);
    }

    /// Issue 11: a column on a long line is counted from a mark, not from the line start,
    /// and is the same count either way.
    #[test]
    fn columns_on_long_non_ascii_lines_match_a_plain_count() {
        let line = "é a ".repeat(5000) + "x" + &"日本".repeat(3000);
        let text = format!("first\n{line}\nlast é");
        let file = SourceFile::new("long.sql", text.as_str());
        assert!(!file.char_marks.is_empty());
        let second = file.line_start(2);
        for offset in (second..second + line.len())
            .step_by(997)
            .chain([text.len()])
        {
            let (line_no, column) = file.line_col(offset);
            let start = file.line_start(line_no);
            let mut end = offset;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            let expected = text[start..end].chars().count() + 1;
            assert_eq!(column as usize, expected, "at {offset}");
        }
        assert_eq!(file.line_col(text.len()), (3, 7));
        let ascii = SourceFile::new("a.sql", "abc\ndef");
        assert!(ascii.char_marks.is_empty());
        assert_eq!(ascii.line_col(6), (2, 3));
    }

    #[test]
    fn non_utf8_is_read_lossily_with_a_warning() {
        let (file, warning) = SourceFile::from_bytes("m.sql", b"SELECT 1;\n-- caf\xe9\n");
        assert!(file.text.contains('\u{FFFD}'));
        let warning = warning.expect("a warning for non-UTF-8");
        assert!(warning.contains("line 2"), "{warning}");
    }

    #[test]
    fn bom_is_dropped() {
        let (file, warning) = SourceFile::from_bytes("m.sql", b"\xEF\xBB\xBFCREATE");
        assert_eq!(file.text, "CREATE");
        assert!(warning.is_none());
    }

    #[test]
    fn locations_read_back_share_one_path_per_file_in_both_formats() {
        let a: Arc<str> = Arc::from("database/migrations/001_init.sql");
        let b: Arc<str> = Arc::from("apps/backend/src/db/models/é \"quoted\".py");
        let locations = vec![
            Location::new(Arc::clone(&a), 1, 1),
            Location::new(Arc::clone(&b), 7, 3),
            Location::new(Arc::clone(&a), 40, 9),
            Location::new(Arc::clone(&b), 8, 1),
        ];
        let bytes = with_shared_paths(Direction::Encode, || postcard::to_allocvec(&locations))
            .expect("encode");
        let back: Vec<Location> = with_shared_paths(Direction::Decode, || {
            postcard::from_bytes(&bytes).expect("decode")
        });
        assert_eq!(back, locations);
        assert!(Arc::ptr_eq(&back[0].path, &back[2].path));
        assert!(Arc::ptr_eq(&back[1].path, &back[3].path));
        // Outside a shared decoding, and from JSON (an escaped path is read as an owned string).
        let plain: Vec<Location> =
            postcard::from_bytes(&postcard::to_allocvec(&locations).expect("encode"))
                .expect("decode");
        assert_eq!(plain, locations);
        let json: Vec<Location> =
            serde_json::from_str(&serde_json::to_string(&locations).expect("encode"))
                .expect("decode");
        assert_eq!(json, locations);
        // A path number never written is an error, not a panic.
        let unknown =
            postcard::to_allocvec(&(SharedPath::<&str>::Seen(5), 1u32, 1u32)).expect("encode");
        let read = with_shared_paths(Direction::Decode, || {
            postcard::from_bytes::<Location>(&unknown)
        });
        assert!(read.is_err());
    }
}
