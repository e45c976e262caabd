//! The PostgreSQL lexer: text → tokens with byte offsets, one pass, no allocation per token.
//!
//! It knows every way PostgreSQL hides text from the parser — `--` and nested `/* */` comments,
//! `'…'` strings (with `''`), `E'…'` (with backslash escapes), `U&'…'`, `B'…'`/`X'…'`, `"quoted"`
//! identifiers and `$tag$…$tag$` dollar quoting — so that nothing inside them is ever read as
//! DDL. Tokens carry byte offsets into the text they were lexed from; their text is sliced on
//! demand. Every token boundary sits on an ASCII byte (or the end of the text), so slicing is
//! always on a character boundary.
//!
//! Comments are not tokens. The lexer looks into `--` comments for two things only: the
//! `-- migrate:down` / `-- +goose Down` markers that end the part of a file that runs (tokens
//! after them are dropped until `-- migrate:up` / `-- +goose Up`), and
//! `-- driftguard: ignore[…]` directives, recorded with the token they belong to.
//!
//! A psql meta-command (`\connect`, `\set`, …, up to the end of its line) and the start of a
//! down section come out as a [`Kind::Boundary`] token: it ends the statement in progress.
//!
//! A string, quoted identifier, dollar quote or block comment that is never closed swallows
//! the rest of the text, and PostgreSQL rejects the statement it starts in: the lexer stops
//! there, returns no token for it, and [`Lexer::unterminated`] says where it opened. What that
//! means for the statements around it is the reader's decision.

use std::borrow::Cow;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An unquoted identifier or keyword.
    Word,
    /// A `"quoted identifier"` (also `U&"…"`).
    Quoted,
    /// A standard `'string'` (also `N'…'`).
    Str,
    /// An `E'escape string'`.
    EStr,
    /// A `U&'unicode string'`.
    UStr,
    /// A `B'…'` or `X'…'` bit string.
    BitStr,
    /// A `$tag$dollar-quoted string$tag$`.
    Dollar,
    Number,
    /// `$1`.
    Param,
    /// Operators, `::`, `:=`, `:` and stray characters.
    Op,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Semi,
    Dot,
    /// A psql meta-command line or the start of a down section.
    Boundary,
}

/// One token: its kind and where it is (byte offsets into the lexed text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// A string constant of any spelling whose value SQL can use as text.
    pub fn is_string(self) -> bool {
        matches!(
            self.kind,
            Kind::Str | Kind::EStr | Kind::UStr | Kind::Dollar
        )
    }
}

/// What the lexer looks for in comments.
#[derive(Debug, Clone, Copy)]
pub(super) struct LexOptions {
    /// Honour `-- migrate:down` / `-- +goose Down` (a whole file or fragment, not a body).
    pub sections: bool,
    /// Record `-- driftguard: ignore` directives (only when offsets are exact).
    pub directives: bool,
}

/// Something that opens and is never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opening {
    /// `'…`, `E'…`, `B'…` … (the quote is the token's last opening byte).
    Str,
    /// `"…` or `U&"…`.
    Quoted,
    /// `$tag$…` without the same `$tag$` again.
    Dollar,
    /// `/*` without its `*/`.
    Comment,
}

/// Where an [`Opening`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unterminated {
    pub opening: Opening,
    /// Offset of its first byte.
    pub at: usize,
}

impl Unterminated {
    /// What is never closed, for a warning: "the dollar quote `$body$` is never closed …".
    pub fn describe(&self, text: &str) -> String {
        let rest = text.get(self.at..).unwrap_or("");
        match self.opening {
            Opening::Str => "this string is never closed (no closing `'`)".to_string(),
            Opening::Quoted => {
                "this quoted identifier is never closed (no closing `\"`)".to_string()
            }
            Opening::Dollar => {
                let tag_len = rest
                    .bytes()
                    .skip(1)
                    .position(|b| b == b'$')
                    .map_or(1, |i| i + 2);
                let tag = rest.get(..tag_len).unwrap_or("$");
                format!(
                    "the dollar quote `{tag}` is never closed (the closing tag must be `{tag}` exactly; tags are case-sensitive)"
                )
            }
            Opening::Comment => {
                "this `/*` comment is never closed (comments nest: each `/*` needs its own `*/`)"
                    .to_string()
            }
        }
    }
}

/// The first [`Unterminated`] opening in `text`, lexed as the statement reader lexes it.
pub(super) fn first_unterminated(text: &str, sections: bool) -> Option<Unterminated> {
    let mut lexer = Lexer::new(
        text,
        LexOptions {
            sections,
            directives: false,
        },
    );
    while lexer.next_token().is_some() {}
    lexer.unterminated()
}

/// A `-- driftguard: ignore[…]` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Directive {
    pub codes: Vec<String>,
    /// Offset of the comment.
    pub at: usize,
    /// Offset of the token the directive belongs to: the last token before it on its line (a
    /// trailing comment), else the first token after it.
    pub anchor: Option<usize>,
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    opts: LexOptions,
    in_down: bool,
    boundary_pending: bool,
    line_has_token: bool,
    last_token_start: Option<usize>,
    directives: Vec<Directive>,
    /// Directives from this index on may still wait for the next token.
    unanchored_from: usize,
    /// Where lexing stopped at something never closed.
    unterminated: Option<Unterminated>,
}

impl<'a> Lexer<'a> {
    pub fn new(text: &'a str, opts: LexOptions) -> Self {
        Lexer {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            opts,
            in_down: false,
            boundary_pending: false,
            line_has_token: false,
            last_token_start: None,
            directives: Vec::new(),
            unanchored_from: 0,
            unterminated: None,
        }
    }

    /// The string, quoted identifier, dollar quote or block comment that is never closed, if
    /// lexing stopped at one (never inside a down section: that part does not run).
    pub fn unterminated(&self) -> Option<Unterminated> {
        self.unterminated
    }

    /// Stops lexing at an opening that is never closed.
    fn stop(&mut self, opening: Opening, at: usize) {
        if !self.in_down {
            self.unterminated = Some(Unterminated { opening, at });
        }
        self.pos = self.bytes.len();
    }

    /// The directives seen so far.
    pub fn take_directives(&mut self) -> Vec<Directive> {
        self.unanchored_from = 0;
        std::mem::take(&mut self.directives)
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// The next token, or `None` at the end of the text.
    pub fn next_token(&mut self) -> Option<Token> {
        loop {
            if self.pos >= self.bytes.len() && !self.boundary_pending {
                return None;
            }
            if self.boundary_pending {
                self.boundary_pending = false;
                return Some(Token {
                    kind: Kind::Boundary,
                    start: self.pos,
                    end: self.pos,
                });
            }
            let b = self.byte(self.pos)?;
            match b {
                b'\n' | b'\r' => {
                    self.line_has_token = false;
                    self.pos += 1;
                }
                b' ' | b'\t' | 0x0b | 0x0c => {
                    self.pos += 1;
                    while matches!(self.byte(self.pos), Some(b' ' | b'\t')) {
                        self.pos += 1;
                    }
                }
                b'-' if self.byte(self.pos + 1) == Some(b'-') => self.line_comment(),
                b'/' if self.byte(self.pos + 1) == Some(b'*') => self.block_comment(),
                _ => {
                    let Some(tok) = self.token(b) else {
                        continue;
                    };
                    if self.in_down {
                        continue;
                    }
                    self.line_has_token = true;
                    self.last_token_start = Some(tok.start);
                    if self.unanchored_from < self.directives.len() {
                        for d in self.directives.iter_mut().skip(self.unanchored_from) {
                            d.anchor.get_or_insert(tok.start);
                        }
                        self.unanchored_from = self.directives.len();
                    }
                    return Some(tok);
                }
            }
        }
    }

    fn make(&mut self, kind: Kind, start: usize, end: usize) -> Token {
        let end = end.min(self.bytes.len());
        self.pos = end;
        Token { kind, start, end }
    }

    /// The token starting at the current position; `None` (lexing stops) for one that is
    /// never closed.
    fn token(&mut self, b: u8) -> Option<Token> {
        let start = self.pos;
        let next = self.byte(start + 1);
        let quoted =
            |lexer: &mut Self, kind: Kind, body: usize, quote: u8, backslash: bool| match lexer
                .quoted_end(body, quote, backslash)
            {
                Some(end) => Some(lexer.make(kind, start, end)),
                None => {
                    let opening = if quote == b'"' {
                        Opening::Quoted
                    } else {
                        Opening::Str
                    };
                    lexer.stop(opening, start);
                    None
                }
            };
        let tok = match b {
            b'\'' => return quoted(self, Kind::Str, start + 1, b'\'', false),
            b'"' => return quoted(self, Kind::Quoted, start + 1, b'"', false),
            b'e' | b'E' if next == Some(b'\'') => {
                return quoted(self, Kind::EStr, start + 2, b'\'', true);
            }
            b'n' | b'N' if next == Some(b'\'') => {
                return quoted(self, Kind::Str, start + 2, b'\'', false);
            }
            b'b' | b'B' | b'x' | b'X' if next == Some(b'\'') => {
                return quoted(self, Kind::BitStr, start + 2, b'\'', false);
            }
            b'u' | b'U' if next == Some(b'&') => match self.byte(start + 2) {
                Some(b'\'') => return quoted(self, Kind::UStr, start + 3, b'\'', false),
                Some(b'"') => return quoted(self, Kind::Quoted, start + 3, b'"', false),
                _ => self.word(start),
            },
            b'$' => return self.dollar(start),
            b'0'..=b'9' => self.number(start),
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => self.number(start),
            // PL/pgSQL's `FOR i IN 1..10`.
            b'.' if next == Some(b'.') => self.make(Kind::Op, start, start + 2),
            b'.' => self.make(Kind::Dot, start, start + 1),
            b'(' => self.make(Kind::LParen, start, start + 1),
            b')' => self.make(Kind::RParen, start, start + 1),
            b'[' => self.make(Kind::LBracket, start, start + 1),
            b']' => self.make(Kind::RBracket, start, start + 1),
            b',' => self.make(Kind::Comma, start, start + 1),
            b';' => self.make(Kind::Semi, start, start + 1),
            b':' => match next {
                Some(b':' | b'=') => self.make(Kind::Op, start, start + 2),
                _ => self.make(Kind::Op, start, start + 1),
            },
            b'\\' => {
                let end = self.line_end(start);
                self.make(Kind::Boundary, start, end)
            }
            _ if is_ident_start(b) => self.word(start),
            _ if is_op_char(b) => self.operator(start),
            _ => self.make(Kind::Op, start, start + 1),
        };
        Some(tok)
    }

    /// End (exclusive) of a quoted token whose body starts at `from`; `None` when it is never
    /// closed.
    fn quoted_end(&self, from: usize, quote: u8, backslash: bool) -> Option<usize> {
        let mut i = from;
        while let Some(c) = self.byte(i) {
            if c == quote {
                if self.byte(i + 1) == Some(quote) {
                    i += 2;
                    continue;
                }
                return Some(i + 1);
            }
            i += if backslash && c == b'\\' { 2 } else { 1 };
        }
        None
    }

    fn word(&mut self, start: usize) -> Token {
        let len = self
            .bytes
            .get(start + 1..)
            .unwrap_or(&[])
            .iter()
            .position(|&c| !is_ident_cont(c));
        let end = len.map_or(self.bytes.len(), |n| start + 1 + n);
        self.make(Kind::Word, start, end)
    }

    fn number(&mut self, start: usize) -> Token {
        let mut i = start;
        while self
            .byte(i)
            .is_some_and(|c| c.is_ascii_digit() || c == b'_')
        {
            i += 1;
        }
        // `1.5`, `.5`, `1.` — but not the `..` of `FOR i IN 1..10`.
        if self.byte(i) == Some(b'.') && self.byte(i + 1) != Some(b'.') {
            i += 1;
            while self
                .byte(i)
                .is_some_and(|c| c.is_ascii_digit() || c == b'_')
            {
                i += 1;
            }
        }
        if matches!(self.byte(i), Some(b'e' | b'E')) {
            let digit_at = if matches!(self.byte(i + 1), Some(b'+' | b'-')) {
                i + 2
            } else {
                i + 1
            };
            if self.byte(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                i = digit_at;
            }
        }
        // Hex/octal/binary literals and junk such as `123abc` stay one token.
        while self
            .byte(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            i += 1;
        }
        self.make(Kind::Number, start, i)
    }

    fn dollar(&mut self, start: usize) -> Option<Token> {
        let tok = match self.byte(start + 1) {
            Some(b'$') => return self.dollar_body(start, start + 2),
            Some(c) if c.is_ascii_digit() => {
                let mut i = start + 1;
                while self.byte(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                self.make(Kind::Param, start, i)
            }
            Some(c) if is_ident_start(c) => {
                let mut i = start + 2;
                while self.byte(i).is_some_and(|c| c != b'$' && is_ident_cont(c)) {
                    i += 1;
                }
                if self.byte(i) == Some(b'$') {
                    return self.dollar_body(start, i + 1);
                }
                self.make(Kind::Op, start, start + 1)
            }
            _ => self.make(Kind::Op, start, start + 1),
        };
        Some(tok)
    }

    /// A dollar-quoted body: up to the same tag, byte for byte (tags are case-sensitive).
    fn dollar_body(&mut self, start: usize, open_end: usize) -> Option<Token> {
        let tag = self.text.get(start..open_end).unwrap_or("$$");
        let rest = self.text.get(open_end..).unwrap_or("");
        match rest.find(tag) {
            Some(i) => Some(self.make(Kind::Dollar, start, open_end + i + tag.len())),
            None => {
                self.stop(Opening::Dollar, start);
                None
            }
        }
    }

    fn operator(&mut self, start: usize) -> Token {
        let mut i = start + 1;
        while let Some(c) = self.byte(i) {
            if !is_op_char(c) {
                break;
            }
            let next = self.byte(i + 1);
            if (c == b'-' && next == Some(b'-')) || (c == b'/' && next == Some(b'*')) {
                break;
            }
            i += 1;
        }
        // PostgreSQL: a multi-character operator cannot end in `+` or `-` unless it contains
        // one of ~ ! @ # % ^ & | ` ? — so `=-1` is `=` and `-1`.
        if i - start > 1 {
            let op = self.bytes.get(start..i).unwrap_or(&[]);
            if !op.iter().any(|c| b"~!@#%^&|`?".contains(c)) {
                while i - start > 1 && matches!(self.byte(i - 1), Some(b'+' | b'-')) {
                    i -= 1;
                }
            }
        }
        self.make(Kind::Op, start, i)
    }

    /// Offset of the line break ending the line that holds `from` (or the end of the text).
    fn line_end(&self, from: usize) -> usize {
        self.bytes
            .get(from..)
            .and_then(|rest| rest.iter().position(|&c| c == b'\n' || c == b'\r'))
            .map_or(self.bytes.len(), |i| from + i)
    }

    /// Offset where the line after the one holding `from` starts.
    fn next_line_start(&self, from: usize) -> usize {
        let end = self.line_end(from);
        match self.byte(end) {
            Some(b'\r') if self.byte(end + 1) == Some(b'\n') => end + 2,
            Some(_) => end + 1,
            None => end,
        }
    }

    fn line_comment(&mut self) {
        let start = self.pos;
        let end = self.line_end(start);
        self.pos = end;
        if self.opts.sections || self.opts.directives {
            let body = self.text.get(start + 2..end).unwrap_or("");
            self.comment(start, body, true);
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        let mut i = start + 2;
        let mut depth = 1u32;
        let mut body_end = self.bytes.len();
        while let Some(c) = self.byte(i) {
            match c {
                b'/' if self.byte(i + 1) == Some(b'*') => {
                    depth += 1;
                    i += 2;
                }
                b'*' if self.byte(i + 1) == Some(b'/') => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        body_end = i - 2;
                        break;
                    }
                }
                b'\n' | b'\r' => {
                    self.line_has_token = false;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        if depth > 0 {
            self.stop(Opening::Comment, start);
            return;
        }
        self.pos = i.min(self.bytes.len());
        if self.opts.directives {
            let body = self.text.get(start + 2..body_end).unwrap_or("");
            self.comment(start, body, false);
        }
    }

    fn comment(&mut self, start: usize, body: &str, line: bool) {
        let trimmed = body.trim_start();
        match trimmed.as_bytes().first() {
            Some(b'm' | b'M' | b'+') if line && self.opts.sections => {
                match section_marker(trimmed) {
                    Some(Section::Down) if !self.in_down => {
                        self.in_down = true;
                        self.boundary_pending = true;
                    }
                    Some(Section::Up) => self.in_down = false,
                    _ => {}
                }
            }
            Some(b'd' | b'D') if self.opts.directives && !self.in_down => {
                if let Some(codes) = parse_directive(trimmed) {
                    let anchor = if self.line_has_token {
                        self.last_token_start
                    } else {
                        None
                    };
                    self.directives.push(Directive {
                        codes,
                        at: start,
                        anchor,
                    });
                }
            }
            _ => {}
        }
    }

    /// Skips the data lines of `COPY … FROM stdin;` up to and including the `\.` line. Called
    /// right after the statement's `;`.
    pub fn skip_copy_data(&mut self) {
        let mut pos = self.next_line_start(self.pos);
        while pos < self.bytes.len() {
            let end = self.line_end(pos);
            let line = self.bytes.get(pos..end).unwrap_or(&[]);
            pos = self.next_line_start(pos);
            if line == b"\\." {
                break;
            }
        }
        self.pos = pos;
        self.line_has_token = false;
    }
}

enum Section {
    Up,
    Down,
}

/// `migrate:down` (dbmate) or `+goose Down` (goose), and their `up` counterparts.
fn section_marker(comment: &str) -> Option<Section> {
    if let Some(rest) = strip_prefix_ci(comment, "migrate:") {
        if strip_prefix_ci(rest, "down").is_some() {
            return Some(Section::Down);
        }
        if strip_prefix_ci(rest, "up").is_some() {
            return Some(Section::Up);
        }
        return None;
    }
    let rest = strip_prefix_ci(comment, "+goose")?;
    let word = rest.split_whitespace().next()?;
    if word.eq_ignore_ascii_case("down") {
        Some(Section::Down)
    } else if word.eq_ignore_ascii_case("up") {
        Some(Section::Up)
    } else {
        None
    }
}

/// `driftguard: ignore` → `Some([])`; `driftguard: ignore[DG001, DG005]` → the codes.
pub(super) fn parse_directive(comment: &str) -> Option<Vec<String>> {
    let rest = strip_prefix_ci(comment.trim_start(), "driftguard:")?;
    let rest = strip_prefix_ci(rest.trim_start(), "ignore")?;
    if let Some(list) = rest.strip_prefix('[') {
        let close = list.find(']')?;
        let codes = list.get(..close).unwrap_or("");
        return Some(
            codes
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        );
    }
    if rest.is_empty() || rest.starts_with(char::is_whitespace) || rest.starts_with("*/") {
        Some(Vec::new())
    } else {
        None
    }
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Byte classes for identifiers, one table lookup per byte in the hot loop.
const IDENT_START: u8 = 1;
const IDENT_CONT: u8 = 2;
static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let start = c.is_ascii_alphabetic() || c == b'_' || c >= 0x80;
        let cont = start || c.is_ascii_digit() || c == b'$';
        table[b] = if start {
            IDENT_START | IDENT_CONT
        } else if cont {
            IDENT_CONT
        } else {
            0
        };
        b += 1;
    }
    table
};

fn is_ident_start(b: u8) -> bool {
    CLASSES[usize::from(b)] & IDENT_START != 0
}

fn is_ident_cont(b: u8) -> bool {
    CLASSES[usize::from(b)] & IDENT_CONT != 0
}

fn is_op_char(b: u8) -> bool {
    matches!(
        b,
        b'+' | b'-'
            | b'*'
            | b'/'
            | b'<'
            | b'>'
            | b'='
            | b'~'
            | b'!'
            | b'@'
            | b'#'
            | b'%'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
    )
}

/// The body of a string token (between its quotes) and the offset where it starts.
pub(super) fn string_content(text: &str, tok: Token) -> (&str, usize) {
    let raw = text.get(tok.start..tok.end).unwrap_or("");
    let bytes = raw.as_bytes();
    let (open, close) = match tok.kind {
        Kind::Str if bytes.first() == Some(&b'\'') => (1, 1),
        Kind::Str | Kind::EStr | Kind::BitStr => (2, 1),
        Kind::UStr => (3, 1),
        Kind::Dollar => {
            let tag_len = bytes
                .iter()
                .skip(1)
                .position(|&c| c == b'$')
                .map_or(1, |i| i + 2);
            let terminated = bytes.len() >= 2 * tag_len
                && raw.get(bytes.len() - tag_len..) == raw.get(..tag_len);
            (tag_len, if terminated { tag_len } else { 0 })
        }
        _ => (0, 0),
    };
    let close = if tok.kind != Kind::Dollar && bytes.last() != Some(&b'\'') {
        0
    } else {
        close
    };
    if bytes.len() < open + close {
        return ("", tok.start.saturating_add(open).min(tok.end));
    }
    let body = raw.get(open..bytes.len() - close).unwrap_or("");
    (body, tok.start + open)
}

/// The value of a string token. Borrowed (and then equal to [`string_content`]) when the
/// token has no escapes.
pub(super) fn string_value(text: &str, tok: Token) -> Cow<'_, str> {
    let (body, _) = string_content(text, tok);
    match tok.kind {
        Kind::Str | Kind::BitStr if body.contains("''") => Cow::Owned(body.replace("''", "'")),
        Kind::EStr if body.contains('\\') || body.contains("''") => Cow::Owned(unescape_e(body)),
        Kind::UStr if body.contains('\\') || body.contains("''") => {
            Cow::Owned(unescape_u(&body.replace("''", "'")))
        }
        _ => Cow::Borrowed(body),
    }
}

/// PostgreSQL's `NAMEDATALEN - 1`: longer identifiers are truncated (with a NOTICE).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// Cuts an identifier to [`MAX_IDENTIFIER_BYTES`] at a character boundary, as PostgreSQL does
/// (found by the PostgreSQL oracle: long names were kept whole).
fn truncate_identifier(mut name: String) -> String {
    if name.len() > MAX_IDENTIFIER_BYTES {
        let mut end = MAX_IDENTIFIER_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// The name an identifier token stands for: unquoted words folded to lower case, quoted ones
/// as written, both cut to 63 bytes. `None` for other tokens and the empty `""`.
pub(super) fn ident_value(text: &str, tok: Token) -> Option<String> {
    ident_value_whole(text, tok).map(truncate_identifier)
}

fn ident_value_whole(text: &str, tok: Token) -> Option<String> {
    let raw = text.get(tok.start..tok.end).unwrap_or("");
    match tok.kind {
        Kind::Word => Some(raw.to_ascii_lowercase()),
        Kind::Quoted => {
            let raw = raw
                .strip_prefix("U&")
                .or(raw.strip_prefix("u&"))
                .unwrap_or(raw);
            let inner = raw.strip_prefix('"').unwrap_or(raw);
            let inner = inner.strip_suffix('"').unwrap_or(inner);
            if inner.is_empty() {
                None
            } else if inner.contains("\"\"") {
                Some(inner.replace("\"\"", "\""))
            } else {
                Some(inner.to_string())
            }
        }
        _ => None,
    }
}

fn unescape_e(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                }
                out.push('\'');
            }
            '\\' => {
                let Some(e) = chars.next() else {
                    break;
                };
                match e {
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'x' => push_code(&mut out, take_digits(&mut chars, 16, 2)),
                    'u' => push_code(&mut out, take_digits(&mut chars, 16, 4)),
                    'U' => push_code(&mut out, take_digits(&mut chars, 16, 8)),
                    '0'..='7' => {
                        let mut n = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match chars.peek().and_then(|d| d.to_digit(8)) {
                                Some(d) => {
                                    n = n * 8 + d;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        push_code(&mut out, Some(n));
                    }
                    other => out.push(other),
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn unescape_u(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            Some('+') => {
                chars.next();
                push_code(&mut out, take_digits(&mut chars, 16, 6));
            }
            _ => push_code(&mut out, take_digits(&mut chars, 16, 4)),
        }
    }
    out
}

fn take_digits(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    radix: u32,
    max: usize,
) -> Option<u32> {
    let mut n: u32 = 0;
    let mut seen = 0;
    while seen < max {
        let Some(d) = chars.peek().and_then(|c| c.to_digit(radix)) else {
            break;
        };
        n = n.saturating_mul(radix).saturating_add(d);
        chars.next();
        seen += 1;
    }
    (seen > 0).then_some(n)
}

fn push_code(out: &mut String, code: Option<u32>) {
    out.push(
        code.and_then(char::from_u32)
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(text: &str) -> Vec<(Kind, &str)> {
        let mut lexer = Lexer::new(
            text,
            LexOptions {
                sections: true,
                directives: true,
            },
        );
        let mut out = Vec::new();
        while let Some(t) = lexer.next_token() {
            out.push((t.kind, text.get(t.start..t.end).unwrap_or("")));
        }
        out
    }

    #[test]
    fn comments_strings_and_quotes_hide_their_text() {
        let toks = lex("a /* x /* y */ z */ 'it''s' -- c\n\"Q\"\"x\" E'\\'' $t$ ; $t$ $1 b");
        assert_eq!(
            toks,
            vec![
                (Kind::Word, "a"),
                (Kind::Str, "'it''s'"),
                (Kind::Quoted, "\"Q\"\"x\""),
                (Kind::EStr, "E'\\''"),
                (Kind::Dollar, "$t$ ; $t$"),
                (Kind::Param, "$1"),
                (Kind::Word, "b"),
            ]
        );
    }

    #[test]
    fn operators_numbers_and_ranges() {
        let toks = lex("x::int, a:=1..10 =-1 1.5e3 .5");
        let kinds: Vec<&str> = toks.iter().map(|(_, s)| *s).collect();
        assert_eq!(
            kinds,
            vec![
                "x", "::", "int", ",", "a", ":=", "1", "..", "10", "=", "-", "1", "1.5e3", ".5"
            ]
        );
    }

    #[test]
    fn values_of_strings_and_identifiers() {
        let text = "'it''s' E'a\\nb\\x41' $q$raw''$q$ U&'d\\0061t' \"Mixed\"\"Q\" MiXeD";
        let mut lexer = Lexer::new(
            text,
            LexOptions {
                sections: false,
                directives: false,
            },
        );
        let mut toks = Vec::new();
        while let Some(t) = lexer.next_token() {
            toks.push(t);
        }
        assert_eq!(string_value(text, toks[0]), "it's");
        assert_eq!(string_value(text, toks[1]), "a\nbA");
        assert_eq!(string_value(text, toks[2]), "raw''");
        assert_eq!(string_value(text, toks[3]), "dat");
        assert_eq!(ident_value(text, toks[4]).as_deref(), Some("Mixed\"Q"));
        assert_eq!(ident_value(text, toks[5]).as_deref(), Some("mixed"));
        let long = format!("{}é_tail", "a".repeat(62));
        let text = format!("CREATE TABLE {long} (\"{long}\" int)");
        let toks: Vec<Token> = {
            let mut lexer = Lexer::new(
                &text,
                LexOptions {
                    sections: false,
                    directives: false,
                },
            );
            std::iter::from_fn(|| lexer.next_token()).collect()
        };
        // 62 ASCII bytes, then `é` would end at byte 64: cut before it.
        assert_eq!(ident_value(&text, toks[2]), Some("a".repeat(62)));
        assert_eq!(ident_value(&text, toks[4]), Some("a".repeat(62)));
    }

    #[test]
    fn directives_parse() {
        assert_eq!(parse_directive(" driftguard: ignore"), Some(vec![]));
        assert_eq!(
            parse_directive(" driftguard: ignore[DG001, DG005 ]"),
            Some(vec!["DG001".to_string(), "DG005".to_string()])
        );
        assert_eq!(parse_directive(" driftguard: ignored"), None);
        assert_eq!(parse_directive(" something else"), None);
    }

    #[test]
    fn unterminated_things_stop_the_lexer_where_they_open() {
        for (text, opening, at) in [
            ("a 'abc", Opening::Str, 2),
            ("a \"abc", Opening::Quoted, 2),
            ("a $$abc", Opening::Dollar, 2),
            ("a $a$abc$b$", Opening::Dollar, 2),
            ("a $A$abc$a$", Opening::Dollar, 2),
            ("a /* /* */", Opening::Comment, 2),
            ("a E'\\'", Opening::Str, 2),
            ("a U&'", Opening::Str, 2),
            ("a U&\"x", Opening::Quoted, 2),
            ("a B'01", Opening::Str, 2),
        ] {
            let mut lexer = Lexer::new(
                text,
                LexOptions {
                    sections: true,
                    directives: true,
                },
            );
            let toks: Vec<Token> = std::iter::from_fn(|| lexer.next_token()).collect();
            assert_eq!(toks.len(), 1, "{text}: {toks:?}");
            assert_eq!(
                lexer.unterminated(),
                Some(Unterminated { opening, at }),
                "{text}"
            );
        }
        assert_eq!(lex("$"), vec![(Kind::Op, "$")]);
        assert_eq!(first_unterminated("'a' $x$ b $x$ /* */", true), None);
        let dollar = first_unterminated("SELECT $Body$ x $body$", true).expect("unterminated");
        assert!(
            dollar
                .describe("SELECT $Body$ x $body$")
                .contains("`$Body$` is never closed"),
        );
        // In a down section nothing runs: nothing to report.
        assert_eq!(
            first_unterminated("SELECT 1;\n-- migrate:down\nSELECT 'x", true),
            None
        );
    }
}
