//! `DO` blocks: the PL/pgSQL body is read because it runs.
//!
//! The walk follows the block structure — `[<<label>>] [DECLARE …] BEGIN … [EXCEPTION WHEN …
//! THEN …] END` — and reads each statement inside as SQL, so DDL in a body produces events like
//! DDL outside. Around that:
//!
//! - `IF … THEN … ELSIF … ELSE … END IF` becomes [`SchemaChange::If`] with each condition read
//!   by [`super::condition`]; an `IF` whose branches change nothing is left out. A `CASE`
//!   statement is an `If` whose conditions are all `Unknown`.
//! - Loop bodies are read as running once; nested blocks are read in place.
//! - `EXCEPTION` handlers run only when something failed: they are walked (to find where the
//!   block ends) and their events and warnings are dropped.
//! - `EXECUTE 'constant'` (any string spelling, or constants joined with `||`) is read as SQL.
//!   `EXECUTE` of anything built at run time is a warning — unless its constant start shows a
//!   statement that changes no schema (`format('GRANT …')`) — and never a guess.
//! - Assignments, `PERFORM`, `RAISE`, `RETURN`, `EXIT` … change nothing (`PERFORM
//!   set_config('search_path', …)` excepted).

use std::borrow::Cow;

use super::condition::condition;
use super::cursor::{Cursor, Src, find_word};
use super::lexer::{self, Kind, LexOptions, Lexer, Token};
use super::{Nested, StatementReader, statement};
use crate::migrations::{Condition, SchemaChange};

/// `DO [LANGUAGE x] body [LANGUAGE x]`; `toks` come after `DO`.
pub(super) fn read_do(
    r: &mut StatementReader<'_>,
    src: Src<'_>,
    toks: &[Token],
    out: &mut Vec<SchemaChange>,
) {
    let mut body = None;
    let mut plpgsql = true;
    let mut i = 0;
    while let Some(&tok) = toks.get(i) {
        if src.is_word(tok, "language") {
            if let Some(&lang) = toks.get(i + 1) {
                let name = if lang.is_string() {
                    lexer::string_value(src.text, lang).into_owned()
                } else {
                    lexer::ident_value(src.text, lang).unwrap_or_default()
                };
                plpgsql = name.eq_ignore_ascii_case("plpgsql");
            }
            i += 2;
            continue;
        }
        if body.is_none() && tok.is_string() {
            body = Some(tok);
        }
        i += 1;
    }
    let Some(body) = body else {
        return;
    };
    if !plpgsql || !r.enter(src.abs(body.start)) {
        return;
    }
    let nested = Nested::of_string(src, body);
    let inner = nested.src();
    let Some(toks) = lex_all(r, inner) else {
        r.leave();
        return;
    };
    let mut walker = Walker {
        src: inner,
        toks: &toks,
        pos: 0,
    };
    walker.body(r, out);
    r.leave();
}

/// The tokens of a body; `None` (after a warning) when something in it is never closed:
/// PL/pgSQL then cannot compile the body and none of it runs.
fn lex_all(r: &mut StatementReader<'_>, src: Src<'_>) -> Option<Vec<Token>> {
    let mut lexer = Lexer::new(
        src.text,
        LexOptions {
            sections: false,
            directives: src.fixed.is_none(),
        },
    );
    let mut toks = Vec::new();
    while let Some(tok) = lexer.next_token() {
        if tok.kind != Kind::Boundary {
            toks.push(tok);
        }
    }
    if let Some(open) = lexer.unterminated() {
        r.warn_unterminated(
            src,
            open,
            "PL/pgSQL cannot compile this body, so none of it runs",
        );
        return None;
    }
    let directives = lexer.take_directives();
    r.absorb_directives(src, directives);
    Some(toks)
}

/// Words that end a statement list.
const STOP: &[&str] = &["end", "else", "elsif", "elseif", "exception", "when"];

/// Statements that change no schema.
const NO_SCHEMA: &[&str] = &[
    "raise", "return", "null", "exit", "continue", "assert", "get", "open", "fetch", "close",
    "move", "call", "commit", "rollback",
];

struct Walker<'t, 'a> {
    src: Src<'a>,
    toks: &'t [Token],
    pos: usize,
}

impl<'t> Walker<'t, '_> {
    fn peek(&self) -> Option<Token> {
        self.toks.get(self.pos).copied()
    }

    fn is(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| self.src.is_word(t, kw))
    }

    fn eat(&mut self, kw: &str) -> bool {
        let hit = self.is(kw);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn bump(&mut self) -> Option<Token> {
        let tok = self.peek();
        if tok.is_some() {
            self.pos += 1;
        }
        tok
    }

    /// Eats a `;` if there is one; returns where the statement ends.
    fn end_of_statement(&mut self) -> usize {
        match self.peek() {
            Some(tok) if tok.kind == Kind::Semi => {
                self.pos += 1;
                tok.end
            }
            _ => self
                .pos
                .checked_sub(1)
                .and_then(|i| self.toks.get(i))
                .map_or(0, |t| t.end),
        }
    }

    /// Moves to the first of `kws` outside brackets and `CASE … END` (or a `;`, or the end);
    /// returns the tokens passed.
    fn until(&mut self, kws: &[&str]) -> &'t [Token] {
        let start = self.pos;
        let mut depth = 0usize;
        let mut cases = 0usize;
        while let Some(tok) = self.peek() {
            match tok.kind {
                Kind::LParen | Kind::LBracket => depth += 1,
                Kind::RParen | Kind::RBracket => depth = depth.saturating_sub(1),
                Kind::Semi if depth == 0 => break,
                Kind::Word if depth == 0 => {
                    if cases == 0 && self.src.is_any_word(tok, kws) {
                        break;
                    }
                    if self.src.is_word(tok, "case") {
                        cases += 1;
                    } else if self.src.is_word(tok, "end") && cases > 0 {
                        cases -= 1;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        self.toks.get(start..self.pos).unwrap_or(&[])
    }

    /// The whole body: statements, stepping over stray `END`/`ELSE`/… of malformed code.
    fn body(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        while self.pos < self.toks.len() {
            let before = self.pos;
            self.statements(r, out);
            if self.pos == before {
                self.pos += 1;
            }
        }
    }

    /// Statements up to one of the [`STOP`] words.
    fn statements(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        while let Some(tok) = self.peek() {
            if self.src.is_any_word(tok, STOP) {
                return;
            }
            let before = self.pos;
            self.statement(r, out);
            if self.pos == before {
                self.pos += 1;
            }
        }
    }

    fn statement(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        let Some(tok) = self.peek() else {
            return;
        };
        if tok.kind == Kind::Semi {
            self.pos += 1;
            return;
        }
        if self.src.is_op(tok, "<<") {
            // <<label>>
            self.pos += 1;
            if self
                .peek()
                .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
            {
                self.pos += 1;
            }
            if self.peek().is_some_and(|t| self.src.is_op(t, ">>")) {
                self.pos += 1;
            }
            return;
        }
        let compound: Option<fn(&mut Self, &mut StatementReader<'_>, &mut Vec<SchemaChange>)> =
            if self.src.is_any_word(tok, &["declare", "begin"]) {
                Some(Self::block)
            } else if self.src.is_word(tok, "if") {
                Some(Self::if_stmt)
            } else if self.src.is_word(tok, "case") {
                Some(Self::case_stmt)
            } else if self
                .src
                .is_any_word(tok, &["loop", "while", "for", "foreach"])
            {
                Some(Self::loop_stmt)
            } else {
                None
            };
        match compound {
            Some(read) if r.enter(self.src.abs(tok.start)) => {
                read(self, r, out);
                r.leave();
            }
            _ => self.simple(r, out),
        }
    }

    fn block(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        let start = self.peek().map_or(0, |t| t.start);
        if self.eat("declare") {
            while self.peek().is_some() && !self.is("begin") {
                self.pos += 1;
            }
        }
        if !self.eat("begin") {
            return;
        }
        loop {
            self.statements(r, out);
            if self.eat("exception") {
                self.handlers(r);
            }
            if self.is("end") || self.peek().is_none() {
                break;
            }
            self.pos += 1; // a stray ELSE/WHEN/…
        }
        self.eat("end");
        self.label_before_semicolon();
        let end = self.end_of_statement();
        r.span(self.src, start, end);
    }

    /// `END label;` / `END LOOP label;`.
    fn label_before_semicolon(&mut self) {
        let next_is_end = self
            .toks
            .get(self.pos + 1)
            .is_none_or(|t| t.kind == Kind::Semi);
        if next_is_end
            && self
                .peek()
                .is_some_and(|t| t.kind == Kind::Word && !self.src.is_any_word(t, STOP))
        {
            self.pos += 1;
        }
    }

    /// `EXCEPTION WHEN … THEN …`: walked, events and warnings dropped.
    fn handlers(&mut self, r: &mut StatementReader<'_>) {
        while self.eat("when") {
            self.until(&["then"]);
            self.eat("then");
            let warnings = r.warnings.len();
            let mut dropped = Vec::new();
            self.statements(r, &mut dropped);
            r.warnings.truncate(warnings);
        }
    }

    fn if_stmt(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        let Some(if_tok) = self.bump() else {
            return;
        };
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        let mut cond = self.until(&["then"]);
        loop {
            if !self.eat("then") {
                self.end_of_statement();
                return;
            }
            let mut body = Vec::new();
            self.statements(r, &mut body);
            branches.push((condition(self.src, cond), body));
            if self.eat("elsif") || self.eat("elseif") {
                cond = self.until(&["then"]);
                continue;
            }
            break;
        }
        while self.eat("else") {
            self.statements(r, &mut otherwise);
        }
        if self.eat("end") {
            self.eat("if");
        }
        let end = self.end_of_statement();
        r.span(self.src, if_tok.start, end);
        if branches.iter().any(|(_, b)| !b.is_empty()) || !otherwise.is_empty() {
            out.push(SchemaChange::If {
                branches,
                otherwise,
                location: r.loc(self.src.abs(if_tok.start)),
            });
        }
    }

    fn case_stmt(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        let Some(case_tok) = self.bump() else {
            return;
        };
        self.until(&["when"]);
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        loop {
            if self.eat("when") {
                self.until(&["then"]);
                self.eat("then");
                let mut body = Vec::new();
                self.statements(r, &mut body);
                branches.push((Condition::Unknown, body));
            } else if self.eat("else") {
                self.statements(r, &mut otherwise);
            } else {
                break;
            }
        }
        if self.eat("end") {
            self.eat("case");
        }
        let end = self.end_of_statement();
        r.span(self.src, case_tok.start, end);
        if branches.iter().any(|(_, b)| !b.is_empty()) || !otherwise.is_empty() {
            out.push(SchemaChange::If {
                branches,
                otherwise,
                location: r.loc(self.src.abs(case_tok.start)),
            });
        }
    }

    /// `[WHILE …|FOR …|FOREACH …] LOOP … END LOOP`: the body is read as running once.
    fn loop_stmt(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        let start = self.peek().map_or(0, |t| t.start);
        self.until(&["loop"]);
        if !self.eat("loop") {
            self.end_of_statement();
            return;
        }
        self.statements(r, out);
        if self.eat("end") {
            self.eat("loop");
            self.label_before_semicolon();
        }
        let end = self.end_of_statement();
        r.span(self.src, start, end);
    }

    /// A statement up to its `;`: `EXECUTE`, `PERFORM`, an assignment or SQL.
    fn simple(&mut self, r: &mut StatementReader<'_>, out: &mut Vec<SchemaChange>) {
        let start = self.pos;
        while self.peek().is_some_and(|t| t.kind != Kind::Semi) {
            self.pos += 1;
        }
        let toks = self.toks.get(start..self.pos).unwrap_or(&[]);
        let end = self.end_of_statement();
        let Some((&first, rest)) = toks.split_first() else {
            return;
        };
        let src = self.src;
        r.span(src, first.start, end);
        if src.is_word(first, "execute") {
            execute(r, src, first, rest, out);
        } else if src.is_word(first, "perform") {
            if let Some((schemas, local)) = statement::set_config_call(&mut Cursor::new(src, rest))
            {
                let location = r.loc(src.abs(first.start));
                statement::set_search_path(r, schemas, local, true, location, out);
            }
        } else if !src.is_any_word(first, NO_SCHEMA) && !is_assignment(src, toks) {
            statement::statement(r, src, toks, true, out);
        }
    }
}

/// `x := …`, `x = …`, `rec.f := …`, `arr[1] := …`.
fn is_assignment(src: Src<'_>, toks: &[Token]) -> bool {
    if toks.get(1).is_some_and(|t| src.is_op(*t, "=")) {
        return true;
    }
    let mut depth = 0usize;
    for tok in toks {
        match tok.kind {
            Kind::LParen | Kind::LBracket => depth += 1,
            Kind::RParen | Kind::RBracket => depth = depth.saturating_sub(1),
            Kind::Op if depth == 0 && src.is_op(*tok, ":=") => return true,
            _ => {}
        }
    }
    false
}

/// `EXECUTE expr [INTO …] [USING …]`.
fn execute(
    r: &mut StatementReader<'_>,
    src: Src<'_>,
    exec_tok: Token,
    rest: &[Token],
    out: &mut Vec<SchemaChange>,
) {
    let end = find_word(&src, rest, 0, &["into", "using"]).unwrap_or(rest.len());
    let expr = rest.get(..end).unwrap_or(&[]);
    if expr.is_empty() {
        return;
    }
    if let Some(parts) = constant_parts(src, expr).or_else(|| constant_format(src, expr)) {
        let nested = match parts.as_slice() {
            [one] => Nested::of_string(src, *one),
            _ => Nested {
                text: Cow::Owned(
                    parts
                        .iter()
                        .map(|t| lexer::string_value(src.text, *t))
                        .collect(),
                ),
                base: 0,
                fixed: Some(src.abs(parts.first().map_or(exec_tok.start, |t| t.start))),
            },
        };
        let changes = r.script(nested.src(), false);
        out.extend(changes);
        return;
    }
    if schema_neutral(src, expr) {
        return;
    }
    r.warn(
        src.abs(exec_tok.start),
        "EXECUTE runs SQL built at run time (format(…), concatenation or a variable), so driftguard cannot see which DDL it runs and did not read it; use a constant string (EXECUTE 'ALTER TABLE …') to have it checked".to_string(),
    );
}

/// `'a' || $$b$$ || E'c'` → the string tokens; `None` when anything else is involved.
fn constant_parts(src: Src<'_>, expr: &[Token]) -> Option<Vec<Token>> {
    let mut parts = Vec::new();
    for (i, tok) in expr.iter().enumerate() {
        if i % 2 == 0 {
            if !tok.is_string() {
                return None;
            }
            parts.push(*tok);
        } else if !src.is_op(*tok, "||") {
            return None;
        }
    }
    (expr.len() % 2 == 1).then_some(parts)
}

/// `format('…')` with no other argument and no placeholder is its constant.
fn constant_format(src: Src<'_>, expr: &[Token]) -> Option<Vec<Token>> {
    let [name, open, text, close] = expr else {
        return None;
    };
    let plain = src.is_word(*name, "format")
        && open.kind == Kind::LParen
        && text.is_string()
        && close.kind == Kind::RParen
        && !lexer::string_value(src.text, *text).contains('%');
    plain.then(|| vec![*text])
}

/// Whether dynamic SQL visibly starts with a statement that changes no schema:
/// `format('GRANT … %I …', t)`, `'INSERT INTO ' || t || …`.
fn schema_neutral(src: Src<'_>, expr: &[Token]) -> bool {
    let mut c = Cursor::new(src, expr);
    if c.is("pg_catalog") && c.nth(1).is_some_and(|t| t.kind == Kind::Dot) {
        c.bump();
        c.bump();
    }
    if c.eat("format") && !c.eat_kind(Kind::LParen) {
        return false;
    }
    let Some((prefix, _)) = c.string() else {
        return false;
    };
    let mut lexer = Lexer::new(
        &prefix,
        LexOptions {
            sections: false,
            directives: false,
        },
    );
    let mut words: Vec<String> = Vec::new();
    while words.len() < 4 {
        match lexer.next_token() {
            Some(tok) if tok.kind == Kind::Word => {
                let word = prefix.get(tok.start..tok.end).unwrap_or("");
                words.push(word.to_ascii_lowercase());
            }
            _ => break,
        }
    }
    neutral_head(&words)
}

fn neutral_head(words: &[String]) -> bool {
    const CREATE: &[&str] = &[
        "index",
        "function",
        "procedure",
        "trigger",
        "policy",
        "view",
        "sequence",
        "extension",
        "rule",
        "role",
        "user",
        "materialized",
        "aggregate",
        "operator",
        "cast",
        "publication",
        "subscription",
        "statistics",
        "event",
        "recursive",
        "constraint",
    ];
    const ALTER: &[&str] = &[
        "sequence",
        "index",
        "function",
        "procedure",
        "role",
        "user",
        "view",
        "policy",
        "default",
        "materialized",
        "extension",
        "trigger",
        "publication",
        "subscription",
        "database",
    ];
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    match word(0) {
        "insert" | "update" | "delete" | "select" | "grant" | "revoke" | "comment" | "analyze"
        | "analyse" | "vacuum" | "refresh" | "truncate" | "notify" | "lock" | "reindex"
        | "cluster" | "call" | "perform" => true,
        "create" => {
            let mut i = 1;
            while matches!(word(i), "or" | "replace" | "unique" | "temp" | "temporary") {
                i += 1;
            }
            CREATE.contains(&word(i))
        }
        "alter" => ALTER.contains(&word(1)),
        "drop" => CREATE.contains(&word(1)) || word(1) == "owned",
        _ => false,
    }
}
