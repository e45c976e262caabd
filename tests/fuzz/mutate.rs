//! Deterministic mutations of seed files: a small PRNG and the edits the fuzzer makes.
//!
//! Byte-level edits (delete, duplicate, splice, truncate) find what nobody thought of; the
//! dictionaries aim at what breaks readers (openings never closed, nesting, line endings,
//! keywords that change how the rest is read). Amplification repeats a piece thousands of
//! times, the way hostile input nests. No randomness from the machine: a case is a function
//! of the seed and its number.

/// SplitMix64: tiny, fast, good enough to pick edits.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What a case is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Sql,
    /// A model file.
    Python,
    /// An Alembic revision.
    Revision,
    /// A `driftguard.yml`.
    Yaml,
    /// A `pyproject.toml`.
    Toml,
}

impl Lang {
    pub fn extension(self) -> &'static str {
        match self {
            Lang::Sql => "sql",
            Lang::Python => "py",
            Lang::Revision => "rev.py",
            Lang::Yaml => "yml",
            Lang::Toml => "toml",
        }
    }

    pub fn from_extension(name: &str) -> Option<Lang> {
        [
            Lang::Revision,
            Lang::Python,
            Lang::Sql,
            Lang::Yaml,
            Lang::Toml,
        ]
        .into_iter()
        .find(|lang| name.ends_with(&format!(".{}", lang.extension())))
    }
}

const SQL_WORDS: &[&str] = &[
    "'",
    "\"",
    "$$",
    "$a$",
    "$A$",
    "$body$",
    "/*",
    "*/",
    "--",
    "-- migrate:down\n",
    "-- migrate:up\n",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    ".",
    "::",
    "E'",
    "U&'",
    "U&\"",
    "B'",
    "\\",
    "\\.\n",
    "BEGIN",
    "BEGIN ATOMIC",
    "END",
    "END IF",
    "END LOOP",
    "DO",
    "DO $$",
    " $$;",
    "EXECUTE",
    "EXECUTE '",
    "IF",
    "THEN",
    "ELSE",
    "ELSIF",
    "LOOP",
    "EXCEPTION WHEN others THEN",
    "DECLARE",
    "CREATE TABLE t (a int)",
    "ALTER TABLE t ADD COLUMN c int",
    "ADD COLUMN",
    "DROP COLUMN",
    "RENAME TO",
    "SET SCHEMA",
    "INHERITS (t)",
    "PARTITION OF t",
    "LIKE t",
    "CREATE TYPE e AS ENUM ('a')",
    "ALTER TYPE e ADD VALUE 'b'",
    "CREATE SCHEMA s",
    "SET search_path TO s",
    "SET LOCAL search_path TO s",
    "ROLLBACK",
    "SAVEPOINT p",
    "ROLLBACK TO SAVEPOINT p",
    "COMMIT",
    "COPY t FROM stdin;\n",
    "NOT",
    "NOT NULL",
    "DEFAULT",
    "REFERENCES t (a)",
    "CASE",
    "WHEN",
    "\r",
    "\r\n",
    "\n",
    "\t",
    "\u{0}",
    "é",
    "\u{feff}",
    "IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 't')",
];

const PY_WORDS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "'''",
    "\"\"\"",
    "f\"{",
    "}\"",
    "\\",
    "\\\n",
    "#",
    ":",
    ",",
    ".",
    "=",
    " + \"a\"",
    "lambda: ",
    "not ",
    "-",
    "*",
    "**",
    "@",
    "->",
    "\r",
    "\r\n",
    "\n",
    "\n    ",
    "\n        ",
    "\t",
    "\u{0}",
    "é",
    "class A(Base):\n",
    "    __tablename__ = 'a'\n",
    "    __table_args__ = {'schema': 's'}\n",
    "def upgrade():\n",
    "    op.add_column('t', sa.Column('c', sa.Integer()))\n",
    "    op.execute('",
    "    op.create_table('t', sa.Column('id', sa.Integer()))\n",
    "Mapped[",
    "mapped_column(",
    "Column(",
    "sa.",
    "op.",
    "with op.batch_alter_table('t') as batch_op:\n",
    "for t in ",
    "if ",
    "else:",
    "try:",
    "except:",
    "return ",
    "revision = 'x'\n",
    "down_revision = None\n",
    "import sqlalchemy as sa\n",
    "from alembic import op\n",
    "@declared_attr\n",
    "__abstract__ = True\n",
    "async ",
    "await ",
    "yield ",
    "match x:\n    case 1:\n",
];

const CONFIG_WORDS: &[&str] = &[
    "models:",
    "migrations:",
    "exclude:",
    "ignore:",
    "default_schema:",
    "python_roots:",
    "sources:",
    "rules:",
    "fail_on:",
    "external:",
    "kind: alembic",
    "kind: sql",
    "path:",
    "[tool.driftguard]\n",
    "- ",
    "\n  - ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "*",
    "**",
    "&a",
    "*a",
    "<<: *a",
    "!!binary",
    "---\n",
    "...\n",
    "\t",
    "\r",
    ":",
    "# c",
    "DG001: \"off\"",
    "error",
    "warning",
    "off",
    "null",
    "~",
    "\u{0}",
    "é",
    "?",
    "|",
    ">",
];

fn words(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Sql => SQL_WORDS,
        Lang::Python | Lang::Revision => PY_WORDS,
        Lang::Yaml | Lang::Toml => CONFIG_WORDS,
    }
}

/// Pieces repeated thousands of times: nesting and length that only hostile input has.
const AMPLIFY: &[&str] = &[
    "(",
    "[",
    "{",
    "((",
    " + \"a\"",
    "not ",
    "-",
    "lambda: ",
    "BEGIN ",
    "DO $$ BEGIN ",
    "NOT ",
    "/* ",
    "IF x THEN ",
    "a.",
    "f()",
    "[0]",
    "    ",
    "\n",
    ";",
    ",",
    "'",
    "$$",
];

/// A byte offset at a character boundary.
fn boundary(text: &str, rng: &mut Rng) -> usize {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A range of `text` of at most `max` bytes, on character boundaries.
fn span(text: &str, rng: &mut Rng, max: usize) -> (usize, usize) {
    let start = boundary(text, rng);
    let mut end = (start + rng.below(max + 1)).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (start, end.max(start))
}

/// One to four edits of `seed`; `other` is another seed of the same kind to splice from.
pub fn mutate(seed: &str, other: &str, lang: Lang, rng: &mut Rng) -> String {
    let mut text = seed.to_string();
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        text = edit(&text, other, lang, rng);
    }
    // Keep cases small enough to read many.
    if text.len() > 2_000_000 {
        let mut end = 2_000_000;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

fn edit(text: &str, other: &str, lang: Lang, rng: &mut Rng) -> String {
    let at = boundary(text, rng);
    match rng.below(12) {
        // Insert a word of the language.
        0..=2 => {
            let word = rng.pick(words(lang));
            format!("{}{word}{}", &text[..at], &text[at..])
        }
        // Delete a span.
        3 | 4 => {
            let (start, end) = span(text, rng, 64);
            format!("{}{}", &text[..start], &text[end..])
        }
        // Duplicate a span in place.
        5 => {
            let (start, end) = span(text, rng, 256);
            format!("{}{}{}", &text[..end], &text[start..end], &text[end..])
        }
        // Splice a span of another seed.
        6 => {
            let (start, end) = span(other, rng, 512);
            format!("{}{}{}", &text[..at], &other[start..end], &text[at..])
        }
        // Amplify: a piece thousands of times, maybe closed again.
        7 => {
            let piece = rng.pick(AMPLIFY);
            let times = 50 + rng.below(6000);
            let mut out = String::with_capacity(text.len() + piece.len() * times * 2);
            out.push_str(&text[..at]);
            out.push_str(&piece.repeat(times));
            if rng.chance(2) {
                let close: String = piece
                    .chars()
                    .rev()
                    .filter_map(|c| match c {
                        '(' => Some(')'),
                        '[' => Some(']'),
                        '{' => Some('}'),
                        _ => None,
                    })
                    .collect();
                out.push('1');
                out.push_str(&close.repeat(times));
            }
            out.push_str(&text[at..]);
            out
        }
        // Truncate.
        8 => text[..at].to_string(),
        // Line endings: all CR, all CRLF, or one line.
        9 => match rng.below(3) {
            0 => text.replace("\r\n", "\n").replace('\n', "\r"),
            1 => text.replace("\r\n", "\n").replace('\n', "\r\n"),
            _ => text.replace('\n', " "),
        },
        // Replace a character with a random one (ASCII punctuation mostly).
        10 => {
            let (start, end) = span(text, rng, 1);
            const CHARS: &[u8] = b"()[]{}'\";:$-/*\\.,=#\n\r\t x0";
            let c = char::from(CHARS[rng.below(CHARS.len())]);
            format!("{}{c}{}", &text[..start], &text[end..])
        }
        // Swap two spans.
        _ => {
            let (a0, a1) = span(text, rng, 128);
            let (b0, b1) = span(text, rng, 128);
            if a1 <= b0 {
                format!(
                    "{}{}{}{}{}",
                    &text[..a0],
                    &text[b0..b1],
                    &text[a1..b0],
                    &text[a0..a1],
                    &text[b1..]
                )
            } else {
                text.to_string()
            }
        }
    }
}
