//! Raw PostgreSQL migrations → schema change events.
//!
//! A hand-written reader, by design: `sqlparser` cannot parse `DO` blocks and `pg_query` needs
//! libclang. It reads what a migration does to tables, columns, schemas and enum types, and
//! nothing else; every other statement is skipped silently.
//!
//! The pipeline inside is: `lexer` (text → tokens, once) → statement splitting here (at `;`
//! outside brackets) → `statement` (one statement → events) → `plpgsql` for `DO` bodies,
//! whose `IF` guards `condition` reads. Each statement is read on its own: one that cannot be
//! read becomes a [`ReadWarning`] (only when it names a table or a type) and reading goes on
//! at the next `;`. Text in comments, strings and function bodies is never read as DDL; text
//! in `DO` bodies and in `EXECUTE 'constant'` is, because it runs.
//!
//! Positions: every token keeps its byte offset, and events are located at the name they are
//! about (a column at its name, a table-level event at the table's name). SQL rebuilt from an
//! escaped string has no exact place in the file, so everything in it is located at the
//! string.
//!
//! This module never resolves names: `ALTER TABLE customers` stays unqualified, and
//! `SET search_path` is an event of its own.
//!
//! Decisions worth knowing:
//!
//! - A `;` ends a statement even inside unbalanced parentheses (except in `CREATE RULE … DO
//!   (a; b)`), so one broken statement cannot swallow the rest of the file; `BEGIN ATOMIC …
//!   END` function bodies stay whole.
//! - In a `CREATE TABLE`, a column that cannot be read is reported and skipped, the others are
//!   kept: a parse failure is far more often a gap in this reader than SQL that never ran.
//! - A single-column table-level `FOREIGN KEY (a) REFERENCES t (b)` becomes column `a`'s
//!   reference; composite foreign keys are not attached to columns.
//! - `NOT <unknown condition>` is `Unknown`, not `Not(Unknown)`: an unreadable guard means
//!   "the branch runs", whichever way it is negated.
//! - Serial defaults name the sequence the way PostgreSQL does, without its 63-byte
//!   truncation.
//! - Not read (a warning names them): `CREATE TABLE … AS`, `SELECT … INTO`, typed tables
//!   (`OF type`) and `EXECUTE` of SQL built at run time.

mod condition;
mod cursor;
mod facts;
mod lexer;
mod plpgsql;
mod statement;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use super::{MigrationEvents, ReadWarning, SchemaChange, SqlIgnore};
use crate::postgres_type::SqlType;
use crate::source::{Location, SourceFile};
use cursor::Src;
use lexer::{Directive, Kind, LexOptions, Lexer, Token};

/// Reads one `.sql` migration file.
pub fn read(file: &SourceFile) -> MigrationEvents {
    let mut events = read_with(&file.text, &Locator::file(file));
    events.facts = facts::read(file);
    events
}

/// Reads SQL embedded in another file (Alembic's `op.execute("…")`): locations are reported at
/// `at` for the first line of `sql` and on following lines relative to it.
pub fn read_fragment(sql: &str, at: &Location) -> MigrationEvents {
    let lines = SourceFile::new(at.path.to_string(), sql);
    read_with(sql, &Locator::fragment(&lines, at))
}

/// Byte offsets where the tokens of a SQL text start, as the reader lexes it, up to an opening
/// that is never closed. For the fuzz harness (`tests/fuzz/`): whitespace or a comment
/// inserted at any of them must not change the schema a file builds.
#[doc(hidden)]
pub fn token_starts(text: &str) -> Vec<usize> {
    let mut lexer = Lexer::new(
        text,
        LexOptions {
            sections: true,
            directives: false,
        },
    );
    std::iter::from_fn(|| lexer.next_token())
        .filter(|t| t.kind != Kind::Boundary)
        .map(|t| t.start)
        .collect()
}

fn read_with(text: &str, locator: &Locator<'_>) -> MigrationEvents {
    let mut reader = StatementReader::new(locator);
    let src = Src {
        text,
        base: 0,
        fixed: None,
    };
    let changes = reader.script(src, true);
    reader.finish(changes)
}

/// Maps file offsets to the locations users see.
struct Locator<'a> {
    /// The file, or the fragment's own text.
    lines: &'a SourceFile,
    /// For a fragment: where its first line is in the file that holds it.
    at: Option<&'a Location>,
    /// The line of the last lookup: statements are read in order, so the next lookup is
    /// almost always on the same line or the next one (no binary search over a big file).
    hint: Cell<u32>,
}

impl<'a> Locator<'a> {
    fn file(file: &'a SourceFile) -> Self {
        Locator {
            lines: file,
            at: None,
            hint: Cell::new(1),
        }
    }

    fn fragment(lines: &'a SourceFile, at: &'a Location) -> Self {
        Locator {
            lines,
            at: Some(at),
            hint: Cell::new(1),
        }
    }

    fn line_col(&self, offset: usize) -> (u32, u32) {
        let file = self.lines;
        let hint = self.hint.get();
        for line in [hint, hint.saturating_add(1)] {
            let start = file.line_start(line);
            let next = file.line_start(line.saturating_add(1));
            let last = line as usize >= file.line_count();
            if start <= offset && (offset < next || (last && offset <= next)) {
                self.hint.set(line);
                let column = file.chars_between(start, offset);
                let column = u32::try_from(column).unwrap_or(u32::MAX - 1);
                return (line, column + 1);
            }
        }
        let (line, column) = file.line_col(offset);
        self.hint.set(line);
        (line, column)
    }

    fn location(&self, offset: usize) -> Location {
        let (line, column) = self.line_col(offset);
        match self.at {
            None => Location::new(self.lines.path.clone(), line, column),
            Some(at) if line <= 1 => Location::new(
                at.path.clone(),
                at.line,
                at.column.saturating_add(column.saturating_sub(1)),
            ),
            Some(at) => Location::new(at.path.clone(), at.line.saturating_add(line - 1), column),
        }
    }
}

/// How deep `DO` bodies, blocks and `EXECUTE` strings may nest before reading stops (a guard
/// against stack exhaustion on hostile input; real migrations nest a few levels).
const MAX_DEPTH: u32 = 100;

/// State shared by everything that reads one file.
struct StatementReader<'l> {
    locator: &'l Locator<'l>,
    warnings: Vec<ReadWarning>,
    /// File offsets (start, end) of every statement read, for `-- driftguard: ignore`.
    spans: Vec<(usize, usize)>,
    directives: Vec<Directive>,
    depth: u32,
    too_deep_warned: bool,
    /// Types already built from a name without modifiers: `integer`, `text` … repeat in every
    /// table, and building one allocates twice and scans the built-in list.
    types: RefCell<Vec<(String, bool, SqlType)>>,
    tx: Transaction,
}

/// Where the file is in a transaction, for `SET LOCAL search_path` (which ends with it).
#[derive(Debug, Default)]
struct Transaction {
    /// Inside `BEGIN … COMMIT`.
    open: bool,
    /// SQL embedded in another file (Alembic's `op.execute`) runs inside the revision's
    /// transaction: always open.
    always_open: bool,
    /// The path the last session-level `SET` chose; `None`: the file's default.
    session_path: Option<Vec<String>>,
    /// A `SET LOCAL search_path` holds until the transaction ends.
    local: bool,
    /// Where the open transaction and each of its savepoints stand: a `ROLLBACK [TO
    /// SAVEPOINT]` undoes what came after.
    marks: Vec<Mark>,
}

/// A point a `ROLLBACK` returns to: the number of changes read by then and the path state.
#[derive(Debug, Clone)]
struct Mark {
    /// `None` for the transaction's start, else the savepoint's name.
    savepoint: Option<String>,
    changes: usize,
    session_path: Option<Vec<String>>,
    local: bool,
}

impl<'l> StatementReader<'l> {
    fn new(locator: &'l Locator<'l>) -> Self {
        let embedded = locator.at.is_some();
        StatementReader {
            locator,
            warnings: Vec::new(),
            spans: Vec::new(),
            directives: Vec::new(),
            depth: 0,
            too_deep_warned: false,
            types: RefCell::new(Vec::new()),
            tx: Transaction {
                open: embedded,
                always_open: embedded,
                ..Transaction::default()
            },
        }
    }

    /// `SqlType::from_sql_name(name, vec![], folded)`, remembered.
    fn sql_type(&self, name: &str, folded: bool) -> SqlType {
        const CACHED: usize = 64;
        let Ok(mut types) = self.types.try_borrow_mut() else {
            return SqlType::from_sql_name(name, Vec::new(), folded);
        };
        let hit = types.iter().find(|(key, key_folded, _)| {
            *key_folded == folded
                && if folded {
                    key == name
                } else {
                    key.eq_ignore_ascii_case(name)
                }
        });
        if let Some((_, _, ty)) = hit {
            return ty.clone();
        }
        let ty = SqlType::from_sql_name(name, Vec::new(), folded);
        if types.len() < CACHED {
            types.push((name.to_string(), folded, ty.clone()));
        }
        ty
    }

    fn loc(&self, offset: usize) -> Location {
        self.locator.location(offset)
    }

    fn warn(&mut self, offset: usize, message: String) {
        let location = self.loc(offset);
        self.warnings.push(ReadWarning { message, location });
    }

    /// Enters one nesting level; `false` (after one warning) when that is too deep.
    fn enter(&mut self, offset: usize) -> bool {
        if self.depth >= MAX_DEPTH {
            if !self.too_deep_warned {
                self.too_deep_warned = true;
                self.warn(
                    offset,
                    format!(
                        "blocks or EXECUTE strings nest more than {MAX_DEPTH} levels deep here; driftguard did not read the inner ones"
                    ),
                );
            }
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Records a statement's extent (in `src` offsets) for ignore directives.
    fn span(&mut self, src: Src<'_>, start: usize, end: usize) {
        if src.fixed.is_none() {
            self.spans.push((src.abs(start), src.abs(end)));
        }
    }

    fn absorb_directives(&mut self, src: Src<'_>, directives: Vec<Directive>) {
        if src.fixed.is_some() {
            return;
        }
        for d in directives {
            self.directives.push(Directive {
                codes: d.codes,
                at: src.abs(d.at),
                anchor: d.anchor.map(|a| src.abs(a)),
            });
        }
    }

    /// Reads a script: statements separated by `;`. `top` for a whole file or fragment (down
    /// sections, `COPY … FROM stdin` data), not for `EXECUTE` strings.
    fn script(&mut self, src: Src<'_>, top: bool) -> Vec<SchemaChange> {
        let mut out = Vec::new();
        if !top && !self.enter(src.abs(0)) {
            return out;
        }
        // SQL sent as one query string (`EXECUTE`, Alembic's `op.execute`) is parsed whole by
        // the server: one opening never closed rejects all of it.
        let whole = !top || self.locator.at.is_some();
        if whole && let Some(open) = lexer::first_unterminated(src.text, top) {
            self.warn_unterminated(src, open, "none of this SQL runs");
            if !top {
                self.leave();
            }
            return out;
        }
        let mut lexer = Lexer::new(
            src.text,
            LexOptions {
                sections: top,
                directives: src.fixed.is_none(),
            },
        );
        let mut toks: Vec<Token> = Vec::new();
        let mut pending = Pending::default();
        while let Some(tok) = lexer.next_token() {
            match tok.kind {
                Kind::Semi if !pending.holds_semicolon() => {
                    pending.end = tok.end;
                    let copy = top && is_copy_from_stdin(src, &toks);
                    self.finish_statement(src, &toks, &pending, &mut out);
                    if copy {
                        lexer.skip_copy_data();
                    }
                    toks.clear();
                    pending = Pending::default();
                }
                Kind::Boundary => {
                    self.finish_statement(src, &toks, &pending, &mut out);
                    toks.clear();
                    pending = Pending::default();
                }
                _ => pending.push(src, tok, &mut toks),
            }
        }
        match lexer.unterminated() {
            // psql sends what came before; the statement it opens in fails, and so does the
            // rest of the file, which is inside it.
            Some(open) => self.warn_unterminated(
                src,
                open,
                "PostgreSQL rejects the statement it opens in, and the rest of the file is inside it; driftguard read nothing from here on",
            ),
            None => self.finish_statement(src, &toks, &pending, &mut out),
        }
        let directives = lexer.take_directives();
        self.absorb_directives(src, directives);
        if !top {
            self.leave();
        }
        out
    }

    /// Warns about a string, quoted identifier, dollar quote or comment never closed.
    fn warn_unterminated(&mut self, src: Src<'_>, open: lexer::Unterminated, consequence: &str) {
        let what = open.describe(src.text);
        self.warn(src.abs(open.at), format!("{what}: {consequence}"));
    }

    fn finish_statement(
        &mut self,
        src: Src<'_>,
        toks: &[Token],
        pending: &Pending,
        out: &mut Vec<SchemaChange>,
    ) {
        if pending.count == 0 {
            return;
        }
        self.span(src, pending.start, pending.end);
        if !toks.is_empty() {
            statement::statement(self, src, toks, false, out);
        }
    }

    fn finish(mut self, changes: Vec<SchemaChange>) -> MigrationEvents {
        // Directives in `DO` bodies are collected before those of the file around them.
        self.directives.sort_by_key(|d| d.at);
        let statements = self.innermost_statements();
        let mut ignores = Vec::new();
        for (d, statement) in self.directives.iter().zip(statements) {
            let Some((start, end)) = statement else {
                continue;
            };
            let first = self.loc(start).line;
            let last = self.loc(end.saturating_sub(1).max(start)).line;
            ignores.push(SqlIgnore {
                codes: d.codes.clone(),
                location: self.loc(d.at),
                statement_lines: (first, last.max(first)),
            });
        }
        MigrationEvents {
            changes,
            warnings: self.warnings,
            ignores,
            facts: Default::default(),
        }
    }

    /// For each directive (in order), the innermost statement holding its anchor. Statements
    /// nest (a `DO` holds its body's statements) or are disjoint, so one sweep in offset order
    /// with a stack of open statements finds them all.
    fn innermost_statements(&self) -> Vec<Option<(usize, usize)>> {
        let mut found = vec![None; self.directives.len()];
        if self.directives.is_empty() {
            return found;
        }
        let mut spans = self.spans.clone();
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut order: Vec<(usize, usize)> = self
            .directives
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.anchor.map(|anchor| (anchor, i)))
            .collect();
        order.sort_unstable();
        let mut open: Vec<(usize, usize)> = Vec::new();
        let mut next = spans.iter().peekable();
        for (anchor, i) in order {
            while let Some(&&span) = next.peek() {
                if span.0 > anchor {
                    break;
                }
                while open.last().is_some_and(|top| top.1 <= span.0) {
                    open.pop();
                }
                open.push(span);
                next.next();
            }
            while open.last().is_some_and(|top| top.1 <= anchor) {
                open.pop();
            }
            if let Some(slot) = found.get_mut(i) {
                *slot = open.last().copied();
            }
        }
        found
    }
}

/// The statement being collected while splitting a script.
#[derive(Default)]
struct Pending {
    count: usize,
    start: usize,
    end: usize,
    depth: u32,
    /// A statement that changes nothing we read (`INSERT`, `GRANT` …): its tokens are not kept.
    bulk: bool,
    create: bool,
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`: may have a `BEGIN ATOMIC … END` body.
    routine: bool,
    /// `CREATE RULE … DO (a; b)`: `;` inside its parentheses does not end it.
    rule: bool,
    /// Inside `BEGIN ATOMIC … END` of a SQL-standard function body.
    atomic: u32,
    prev_begin: bool,
}

/// Statements whose tokens are never needed: skipped without keeping them.
const BULK: &[&str] = &[
    "insert",
    "update",
    "delete",
    "grant",
    "revoke",
    "comment",
    "vacuum",
    "analyze",
    "analyse",
    "refresh",
    "truncate",
    "notify",
    "lock",
    "reindex",
    "cluster",
    "call",
    "checkpoint",
    "discard",
    "listen",
    "security",
    "fetch",
    "move",
    "close",
    "prepare",
    "deallocate",
    "explain",
];

impl Pending {
    fn push(&mut self, src: Src<'_>, tok: Token, toks: &mut Vec<Token>) {
        if self.count == 0 {
            self.start = tok.start;
            self.bulk = src.is_any_word(tok, BULK);
            self.create = src.is_word(tok, "create");
        } else if self.create && self.count <= 3 && tok.kind == Kind::Word {
            self.rule |= src.is_word(tok, "rule");
            self.routine |= src.is_any_word(tok, &["function", "procedure"]);
        }
        self.count += 1;
        self.end = tok.end;
        match tok.kind {
            Kind::LParen | Kind::LBracket => self.depth += 1,
            Kind::RParen | Kind::RBracket => self.depth = self.depth.saturating_sub(1),
            Kind::Word if self.routine => {
                let text = src.tok(tok);
                if self.atomic > 0 {
                    if text.eq_ignore_ascii_case("begin") || text.eq_ignore_ascii_case("case") {
                        self.atomic += 1;
                    } else if text.eq_ignore_ascii_case("end") {
                        self.atomic -= 1;
                    }
                } else if self.prev_begin && text.eq_ignore_ascii_case("atomic") {
                    self.atomic = 1;
                }
                self.prev_begin = text.eq_ignore_ascii_case("begin");
            }
            _ => {}
        }
        if !self.bulk {
            toks.push(tok);
        }
    }

    /// Whether a `;` here belongs to the statement instead of ending it. PostgreSQL's own rule
    /// is "outside parentheses", but a `;` inside unbalanced parentheses only happens in
    /// malformed SQL, so only `CREATE RULE` keeps it (one broken statement must not swallow
    /// the rest of the file).
    fn holds_semicolon(&self) -> bool {
        self.atomic > 0 || (self.rule && self.depth > 0)
    }
}

/// `COPY … FROM stdin`: data lines follow the statement.
fn is_copy_from_stdin(src: Src<'_>, toks: &[Token]) -> bool {
    let Some(&first) = toks.first() else {
        return false;
    };
    src.is_word(first, "copy")
        && toks
            .windows(2)
            .any(|w| matches!(w, [a, b] if src.is_word(*a, "from") && src.is_word(*b, "stdin")))
}

/// SQL held in a string constant (a `DO` body, an `EXECUTE` string), ready to lex.
struct Nested<'a> {
    text: Cow<'a, str>,
    base: usize,
    fixed: Option<usize>,
}

impl Nested<'_> {
    fn src(&self) -> Src<'_> {
        Src {
            text: &self.text,
            base: self.base,
            fixed: self.fixed,
        }
    }

    /// The SQL in a string token. Without escapes it is a slice of the file (exact
    /// positions); with escapes it is rebuilt and located at the token.
    fn of_string<'a>(src: Src<'a>, tok: Token) -> Nested<'a> {
        let (_, offset) = lexer::string_content(src.text, tok);
        match lexer::string_value(src.text, tok) {
            Cow::Borrowed(text) => Nested {
                text: Cow::Borrowed(text),
                base: src.base + offset,
                fixed: src.fixed,
            },
            Cow::Owned(text) => Nested {
                text: Cow::Owned(text),
                base: 0,
                fixed: Some(src.abs(tok.start)),
            },
        }
    }
}

/// The first schema of the first `SET [SESSION|LOCAL] search_path TO|= …` statement in `sql`
/// (`"$user"` passed over; `DEFAULT` or a value that is not a name: `None`). For an Alembic
/// environment's `env.py`, which runs such a statement before its revisions.
pub fn search_path_schema(sql: &str) -> Option<String> {
    let mut lexer = Lexer::new(
        sql,
        LexOptions {
            sections: false,
            directives: false,
        },
    );
    let mut tokens: Vec<Token> = Vec::new();
    while let Some(token) = lexer.next_token() {
        tokens.push(token);
    }
    let text = |t: &Token| &sql[t.start..t.end];
    let word = |t: Option<&Token>, w: &str| {
        t.is_some_and(|t| t.kind == Kind::Word && text(t).eq_ignore_ascii_case(w))
    };
    let starts = (0..tokens.len())
        .filter(|&i| word(tokens.get(i), "set") && (i == 0 || tokens[i - 1].kind == Kind::Semi));
    for start in starts {
        let mut i = start + 1;
        if word(tokens.get(i), "session") || word(tokens.get(i), "local") {
            i += 1;
        }
        if !word(tokens.get(i), "search_path") {
            continue;
        }
        i += 1;
        let to = tokens.get(i);
        if !(word(to, "to") || to.is_some_and(|t| t.kind == Kind::Op && text(t) == "=")) {
            return None;
        }
        i += 1;
        while let Some(token) = tokens.get(i) {
            let name = match token.kind {
                Kind::Word => text(token).to_ascii_lowercase(),
                Kind::Quoted => unquote(text(token), '"'),
                Kind::Str => unquote(text(token), '\''),
                _ => return None,
            };
            if name.eq_ignore_ascii_case("default") && token.kind == Kind::Word {
                return None;
            }
            if name != "$user" && !name.is_empty() {
                return Some(name);
            }
            i += 1;
            if tokens.get(i).is_some_and(|t| t.kind == Kind::Comma) {
                i += 1;
            } else {
                return None;
            }
        }
        return None;
    }
    None
}

/// `"a""b"` → `a"b` (and the same for `'…'`).
fn unquote(token: &str, quote: char) -> String {
    let inner = token
        .strip_prefix(quote)
        .and_then(|t| t.strip_suffix(quote))
        .unwrap_or(token);
    let doubled: String = [quote, quote].iter().collect();
    inner.replace(&doubled, &quote.to_string())
}
