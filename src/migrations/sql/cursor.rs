//! A cursor over the tokens of one statement, and the text they were lexed from.
//!
//! Statement readers walk tokens with it: keyword tests compare the token's text in place
//! (ASCII case-insensitively, never allocating); only names that end up in events become
//! `String`s. Nothing here can panic: every index goes through `get`.

use std::borrow::Cow;

use super::lexer::{self, Kind, Token};
use crate::migrations::QualifiedName;

/// Text that tokens were lexed from, and how its offsets map to the file.
///
/// Most text is a slice of the file (`base` is where it starts). SQL rebuilt from a string with
/// escapes (`EXECUTE 'ALTER TABLE ''x'' …'`) has no exact place in the file: every offset in it
/// maps to `fixed`, the string's own position.
#[derive(Debug, Clone, Copy)]
pub(super) struct Src<'a> {
    pub text: &'a str,
    pub base: usize,
    pub fixed: Option<usize>,
}

impl<'a> Src<'a> {
    /// The file offset of an offset in this text.
    pub fn abs(&self, offset: usize) -> usize {
        self.fixed.unwrap_or(self.base + offset)
    }

    pub fn tok(&self, tok: Token) -> &'a str {
        self.text.get(tok.start..tok.end).unwrap_or("")
    }

    /// The tokens' text joined with canonical spacing, whatever whitespace and comments stood
    /// between them: `now( /* x */ )` and `now()` are both `now()`, `- 1` is `-1`, `a||b`
    /// is `a || b`. For expressions kept as text (defaults): the text must not depend on how
    /// the SQL was laid out.
    pub fn canonical(&self, toks: &[Token]) -> String {
        let mut out = String::new();
        let mut prev: [Option<Token>; 2] = [None, None];
        for &tok in toks {
            if let Some(a) = prev[1]
                && self.spaced(prev[0], a, tok)
            {
                out.push(' ');
            }
            out.push_str(self.tok(tok));
            prev = [prev[1], Some(tok)];
        }
        out
    }

    /// Whether a space separates `b` from `a` (after `before`) in [`Src::canonical`] text.
    fn spaced(&self, before: Option<Token>, a: Token, b: Token) -> bool {
        let tight_after = |t: Token| {
            matches!(t.kind, Kind::LParen | Kind::LBracket | Kind::Dot) || self.is_op(t, "::")
        };
        let tight_before = |t: Token| {
            matches!(
                t.kind,
                Kind::RParen | Kind::RBracket | Kind::Comma | Kind::Dot
            ) || self.is_op(t, "::")
        };
        let call = matches!(b.kind, Kind::LParen | Kind::LBracket)
            && matches!(
                a.kind,
                Kind::Word | Kind::Quoted | Kind::RParen | Kind::RBracket
            );
        let sign = (self.is_op(a, "-") || self.is_op(a, "+"))
            && before.is_none_or(|t| {
                matches!(
                    t.kind,
                    Kind::Op | Kind::LParen | Kind::LBracket | Kind::Comma
                )
            });
        !(tight_after(a) || tight_before(b) || call || sign)
    }

    pub fn is_word(&self, tok: Token, kw: &str) -> bool {
        tok.kind == Kind::Word && self.tok(tok).eq_ignore_ascii_case(kw)
    }

    pub fn is_any_word(&self, tok: Token, kws: &[&str]) -> bool {
        tok.kind == Kind::Word && {
            let text = self.tok(tok);
            kws.iter().any(|kw| text.eq_ignore_ascii_case(kw))
        }
    }

    pub fn is_op(&self, tok: Token, op: &str) -> bool {
        tok.kind == Kind::Op && self.tok(tok) == op
    }
}

pub(super) struct Cursor<'t, 'a> {
    pub src: Src<'a>,
    toks: &'t [Token],
    pos: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    pub fn new(src: Src<'a>, toks: &'t [Token]) -> Self {
        Cursor { src, toks, pos: 0 }
    }

    pub fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    pub fn nth(&self, n: usize) -> Option<Token> {
        self.toks.get(self.pos + n).copied()
    }

    /// The token before the current one (the last one read).
    pub fn prev(&self) -> Option<Token> {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i).copied())
    }

    pub fn bump(&mut self) -> Option<Token> {
        let tok = self.peek();
        if tok.is_some() {
            self.pos += 1;
        }
        tok
    }

    /// Where the cursor is, for [`Cursor::since`].
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The tokens read since `position`.
    pub fn since(&self, position: usize) -> &'t [Token] {
        self.toks.get(position..self.pos).unwrap_or(&[])
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// The tokens not read yet.
    pub fn rest(&self) -> &'t [Token] {
        self.toks.get(self.pos..).unwrap_or(&[])
    }

    /// The last token of the statement (for warnings about something missing at its end).
    pub fn last(&self) -> Option<Token> {
        self.toks.last().copied()
    }

    pub fn word_at(&self, n: usize, kw: &str) -> bool {
        self.nth(n).is_some_and(|t| self.src.is_word(t, kw))
    }

    pub fn is(&self, kw: &str) -> bool {
        self.word_at(0, kw)
    }

    pub fn is_any(&self, kws: &[&str]) -> bool {
        self.peek().is_some_and(|t| self.src.is_any_word(t, kws))
    }

    pub fn eat(&mut self, kw: &str) -> bool {
        let hit = self.is(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Eats all of `kws` in order, or nothing.
    pub fn eat_seq(&mut self, kws: &[&str]) -> bool {
        let hit = kws.iter().enumerate().all(|(i, kw)| self.word_at(i, kw));
        if hit {
            self.pos += kws.len();
        }
        hit
    }

    pub fn is_kind(&self, kind: Kind) -> bool {
        self.peek().is_some_and(|t| t.kind == kind)
    }

    pub fn eat_kind(&mut self, kind: Kind) -> bool {
        let hit = self.is_kind(kind);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub fn is_op(&self, op: &str) -> bool {
        self.peek().is_some_and(|t| self.src.is_op(t, op))
    }

    pub fn eat_op(&mut self, op: &str) -> bool {
        let hit = self.is_op(op);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// An identifier (any word, or a quoted name) and its token.
    pub fn ident(&mut self) -> Option<(String, Token)> {
        let tok = self.peek()?;
        let name = lexer::ident_value(self.src.text, tok)?;
        self.pos += 1;
        Some((name, tok))
    }

    /// `name`, `schema.name` or `db.schema.name`, and the token it starts at.
    pub fn qualified(&mut self) -> Option<(QualifiedName, Token)> {
        let (mut name, tok) = self.ident()?;
        let mut schema = None;
        while self.is_kind(Kind::Dot)
            && self
                .nth(1)
                .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
        {
            self.pos += 1;
            if let Some((part, _)) = self.ident() {
                schema = Some(std::mem::replace(&mut name, part));
            }
        }
        Some((QualifiedName { schema, name }, tok))
    }

    /// A string constant's value and its token.
    pub fn string(&mut self) -> Option<(Cow<'a, str>, Token)> {
        let tok = self.peek().filter(|t| t.is_string())?;
        self.pos += 1;
        Some((lexer::string_value(self.src.text, tok), tok))
    }

    /// At `(`: the tokens inside the parentheses (and whether they were closed); the cursor
    /// moves past the `)`.
    pub fn group(&mut self) -> Option<(&'t [Token], bool)> {
        if !self.is_kind(Kind::LParen) {
            return None;
        }
        let open = self.pos;
        match matching_close(self.toks, open) {
            Some(close) => {
                self.pos = close + 1;
                Some((self.toks.get(open + 1..close).unwrap_or(&[]), true))
            }
            None => {
                self.pos = self.toks.len();
                Some((self.toks.get(open + 1..).unwrap_or(&[]), false))
            }
        }
    }

    /// Skips one token, or a whole parenthesised/bracketed group.
    pub fn skip_one(&mut self) {
        match self.peek().map(|t| t.kind) {
            Some(Kind::LParen | Kind::LBracket) => {
                self.pos = matching_close(self.toks, self.pos).map_or(self.toks.len(), |c| c + 1);
            }
            Some(_) => self.pos += 1,
            None => {}
        }
    }
}

/// Index of the bracket closing the one at `open` (any of `(`/`[` pairs count).
pub(super) fn matching_close(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate().skip(open) {
        match tok.kind {
            Kind::LParen | Kind::LBracket => depth += 1,
            Kind::RParen | Kind::RBracket => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits at commas outside brackets, without allocating. An empty input gives no parts.
pub(super) fn split_commas(toks: &[Token]) -> Commas<'_> {
    Commas {
        rest: toks,
        done: toks.is_empty(),
    }
}

pub(super) struct Commas<'t> {
    rest: &'t [Token],
    done: bool,
}

impl<'t> Iterator for Commas<'t> {
    type Item = &'t [Token];

    fn next(&mut self) -> Option<&'t [Token]> {
        if self.done {
            return None;
        }
        let mut depth = 0usize;
        for (i, tok) in self.rest.iter().enumerate() {
            match tok.kind {
                Kind::LParen | Kind::LBracket => depth += 1,
                Kind::RParen | Kind::RBracket => depth = depth.saturating_sub(1),
                Kind::Comma if depth == 0 => {
                    let part = self.rest.get(..i).unwrap_or(&[]);
                    self.rest = self.rest.get(i + 1..).unwrap_or(&[]);
                    return Some(part);
                }
                _ => {}
            }
        }
        self.done = true;
        Some(self.rest)
    }
}

/// Index of the first word among `kws` outside brackets, from `from` on.
pub(super) fn find_word(src: &Src<'_>, toks: &[Token], from: usize, kws: &[&str]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate().skip(from) {
        match tok.kind {
            Kind::LParen | Kind::LBracket => depth += 1,
            Kind::RParen | Kind::RBracket => depth = depth.saturating_sub(1),
            Kind::Word if depth == 0 && src.is_any_word(*tok, kws) => return Some(i),
            _ => {}
        }
    }
    None
}
