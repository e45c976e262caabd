//! The condition of a PL/pgSQL `IF` → a [`Condition`] the replay can evaluate.
//!
//! Only the plain guard shapes migrations use are read; anything else is
//! [`Condition::Unknown`], never a guess:
//!
//! - `[NOT] EXISTS (SELECT … FROM information_schema.columns WHERE table_schema = 'x' AND
//!   table_name = 'y' AND column_name = 'z')` (terms in any order, optional aliases) →
//!   `ColumnExists`; also `pg_attribute` with `attrelid = 'x.y'::regclass AND attname = 'z'`;
//! - `information_schema.tables`, `pg_tables` (`schemaname`/`tablename`), `pg_class`
//!   (`relname`, with `pg_namespace.nspname`) → `TableExists`; so is `to_regclass('x.y') IS NOT
//!   NULL`;
//! - `pg_type` (`typname`, with `pg_namespace.nspname`) → `TypeExists`;
//! - `(SELECT count(*) FROM … ) = 0` / `> 0` of the same queries.
//!
//! A term that compares a name column (`table_name`, `typname` …) in any other way, or an
//! `OR`, makes the whole condition `Unknown`. Other terms (`n.oid = t.typnamespace`,
//! `table_catalog = current_database()`) do not change what is tested and are passed over.
//! `table_schema = current_schema()` is [`Condition::CURRENT_SCHEMA`]: the replay resolves it to
//! the first schema of the path that exists.

use super::cursor::{Cursor, Src, find_word, matching_close};
use super::lexer::{Kind, Token, string_value};
use crate::migrations::Condition;

/// Parenthesis and `NOT` nesting read before giving up.
const MAX_NESTING: usize = 64;

pub(super) fn condition(src: Src<'_>, toks: &[Token]) -> Condition {
    let mut toks = toks;
    let mut negate = false;
    for _ in 0..MAX_NESTING {
        match toks.first() {
            Some(&t) if src.is_word(t, "not") => {
                negate = !negate;
                toks = toks.get(1..).unwrap_or(&[]);
            }
            Some(t)
                if t.kind == Kind::LParen && matching_close(toks, 0) == Some(toks.len() - 1) =>
            {
                toks = toks.get(1..toks.len() - 1).unwrap_or(&[]);
            }
            _ => break,
        }
    }
    let (base, flip) = base_condition(src, toks);
    wrap(base, negate != flip)
}

fn wrap(condition: Condition, negate: bool) -> Condition {
    match condition {
        Condition::Unknown => Condition::Unknown,
        c if negate => Condition::Not(Box::new(c)),
        c => c,
    }
}

/// A condition without leading `NOT`s, and whether its result is inverted (`count(*) = 0`,
/// `to_regclass(…) IS NULL`).
fn base_condition(src: Src<'_>, toks: &[Token]) -> (Condition, bool) {
    let unknown = (Condition::Unknown, false);
    let Some(&first) = toks.first() else {
        return unknown;
    };
    // EXISTS ( query )
    if src.is_word(first, "exists") {
        if toks.get(1).is_some_and(|t| t.kind == Kind::LParen)
            && matching_close(toks, 1) == Some(toks.len() - 1)
        {
            let query = toks.get(2..toks.len() - 1).unwrap_or(&[]);
            return (exists_query(src, query), false);
        }
        return unknown;
    }
    // ( SELECT count(*) … ) <op> <number>
    if first.kind == Kind::LParen
        && let Some(close) = matching_close(toks, 0)
    {
        let query = toks.get(1..close).unwrap_or(&[]);
        let (Some(&op), Some(&number), None) = (
            toks.get(close + 1),
            toks.get(close + 2),
            toks.get(close + 3),
        ) else {
            return unknown;
        };
        if number.kind != Kind::Number || op.kind != Kind::Op {
            return unknown;
        }
        let is_count = query.get(1).is_some_and(|t| src.is_word(*t, "count"));
        if !is_count {
            return unknown;
        }
        let exists = match (src.tok(op), src.tok(number)) {
            ("=", "0") | ("<", "1") | ("<=", "0") => false,
            (">", "0") | (">=", "1") | ("<>", "0") | ("!=", "0") => true,
            _ => return unknown,
        };
        return (exists_query(src, query), !exists);
    }
    // to_regclass('x.y') IS [NOT] NULL
    if src.is_word(first, "to_regclass") || src.is_word(first, "pg_catalog") {
        let mut c = Cursor::new(src, toks);
        if c.is("pg_catalog") {
            c.bump();
            c.eat_kind(Kind::Dot);
        }
        if !c.eat("to_regclass") {
            return unknown;
        }
        let Some((args, _)) = c.group() else {
            return unknown;
        };
        let Some(name) = args
            .first()
            .filter(|t| t.is_string())
            .map(|t| string_value(src.text, *t))
        else {
            return unknown;
        };
        if !c.eat("is") {
            return unknown;
        }
        let not = c.eat("not");
        if !c.eat("null") || !c.at_end() {
            return unknown;
        }
        let (schema, table) = parse_regclass(&name);
        return (Condition::TableExists { schema, table }, !not);
    }
    unknown
}

/// What the guard's query tests, from its `FROM` and `WHERE`.
fn exists_query(src: Src<'_>, toks: &[Token]) -> Condition {
    let Some(from) = find_word(&src, toks, 0, &["from"]) else {
        return Condition::Unknown;
    };
    let where_at = find_word(&src, toks, from + 1, &["where"]);
    let end = find_word(
        &src,
        toks,
        from + 1,
        &[
            "group",
            "order",
            "limit",
            "having",
            "union",
            "except",
            "intersect",
            "offset",
        ],
    )
    .unwrap_or(toks.len());
    let from_end = where_at.unwrap_or(end).min(end);
    let Some(from_toks) = toks.get(from + 1..from_end) else {
        return Condition::Unknown;
    };
    let mut facts = Facts::default();
    let mut terms: Vec<&[Token]> = Vec::new();
    if !relations(src, from_toks, &mut facts, &mut terms) {
        return Condition::Unknown;
    }
    if let Some(w) = where_at
        && let Some(where_toks) = toks.get(w + 1..end)
    {
        terms.push(where_toks);
    }
    for expr in terms {
        if !conjunction(src, expr, &mut facts) {
            return Condition::Unknown;
        }
    }
    facts.decide()
}

/// The relations a guard query reads and the name columns it pins.
#[derive(Default)]
struct Facts {
    columns: bool,
    tables: bool,
    pg_tables: bool,
    pg_class: bool,
    pg_attribute: bool,
    pg_type: bool,
    /// Values of name columns: `Some(value)`, or `None` for "the current schema".
    values: Vec<(&'static str, Option<String>)>,
}

const NAME_COLUMNS: &[&str] = &[
    "table_schema",
    "table_name",
    "column_name",
    "schemaname",
    "tablename",
    "typname",
    "nspname",
    "relname",
    "attname",
    "attrelid",
];

impl Facts {
    /// The literal a name column is pinned to ([`Condition::CURRENT_SCHEMA`] for
    /// `current_schema()`; `None` when not named).
    fn name(&self, column: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| {
                v.clone()
                    .unwrap_or_else(|| Condition::CURRENT_SCHEMA.to_string())
            })
    }

    fn decide(self) -> Condition {
        if self.pg_attribute {
            let Some(column) = self.name("attname") else {
                return Condition::Unknown;
            };
            if let Some(rel) = self.name("attrelid") {
                let (schema, table) = parse_regclass(&rel);
                return Condition::ColumnExists {
                    schema,
                    table,
                    column,
                };
            }
            if self.pg_class
                && let Some(table) = self.name("relname")
            {
                return Condition::ColumnExists {
                    schema: self.name("nspname"),
                    table,
                    column,
                };
            }
            return Condition::Unknown;
        }
        if self.columns {
            return match (self.name("table_name"), self.name("column_name")) {
                (Some(table), Some(column)) => Condition::ColumnExists {
                    schema: self.name("table_schema"),
                    table,
                    column,
                },
                _ => Condition::Unknown,
            };
        }
        if self.pg_type {
            return match self.name("typname") {
                Some(name) => Condition::TypeExists {
                    schema: self.name("nspname"),
                    name,
                },
                None => Condition::Unknown,
            };
        }
        let (schema_col, table_col) = if self.tables {
            ("table_schema", "table_name")
        } else if self.pg_tables {
            ("schemaname", "tablename")
        } else if self.pg_class {
            ("nspname", "relname")
        } else {
            return Condition::Unknown;
        };
        match self.name(table_col) {
            Some(table) => Condition::TableExists {
                schema: self.name(schema_col),
                table,
            },
            None => Condition::Unknown,
        }
    }
}

/// Reads `FROM` items (`a [AS] x, b JOIN c ON …`); `ON` conditions join the terms. `false`
/// for anything else (a subquery, a function).
fn relations<'t>(
    src: Src<'_>,
    toks: &'t [Token],
    facts: &mut Facts,
    terms: &mut Vec<&'t [Token]>,
) -> bool {
    const JOIN_WORDS: &[&str] = &[
        "join", "inner", "left", "right", "full", "cross", "natural", "outer",
    ];
    let mut c = Cursor::new(src, toks);
    let mut any = false;
    while !c.at_end() {
        let Some((name, _)) = c.qualified() else {
            return false;
        };
        let known_schema = matches!(
            name.schema.as_deref(),
            None | Some("information_schema" | "pg_catalog")
        );
        let info = name.schema.as_deref() == Some("information_schema");
        match name.name.as_str() {
            "columns" if info => facts.columns = true,
            "tables" if info => facts.tables = true,
            "pg_tables" if known_schema => facts.pg_tables = true,
            "pg_class" if known_schema => facts.pg_class = true,
            "pg_attribute" if known_schema => facts.pg_attribute = true,
            "pg_type" if known_schema => facts.pg_type = true,
            "pg_namespace" if known_schema => {}
            _ => return false,
        }
        any = true;
        c.eat("as");
        if c.peek().is_some_and(|t| {
            matches!(t.kind, Kind::Word | Kind::Quoted)
                && !src.is_any_word(t, JOIN_WORDS)
                && !src.is_word(t, "on")
                && !src.is_word(t, "using")
        }) {
            c.bump();
        }
        if c.eat("on") {
            let rest = c.rest();
            let stop = rest
                .iter()
                .position(|t| t.kind == Kind::Comma || src.is_any_word(*t, JOIN_WORDS))
                .unwrap_or(rest.len());
            terms.push(rest.get(..stop).unwrap_or(&[]));
            for _ in 0..stop {
                c.bump();
            }
        } else if c.eat("using") {
            c.skip_one();
        }
        if c.eat_kind(Kind::Comma) {
            continue;
        }
        while c.is_any(JOIN_WORDS) {
            c.bump();
        }
        if c.peek()
            .is_some_and(|t| !matches!(t.kind, Kind::Word | Kind::Quoted))
        {
            return false;
        }
    }
    any
}

/// Reads `a AND b AND …` into `facts`; `false` when the terms are not plain.
fn conjunction(src: Src<'_>, toks: &[Token], facts: &mut Facts) -> bool {
    if find_word(&src, toks, 0, &["or"]).is_some() {
        return false;
    }
    let mut start = 0;
    loop {
        let end = find_word(&src, toks, start, &["and"]).unwrap_or(toks.len());
        let term = toks.get(start..end).unwrap_or(&[]);
        if !term_fact(src, term, facts) {
            return false;
        }
        if end >= toks.len() {
            return true;
        }
        start = end + 1;
    }
}

/// One `AND` term: `[alias.]name_column = 'literal'` (either side) pins a name column; a term
/// not mentioning a name column is passed over.
fn term_fact(src: Src<'_>, term: &[Token], facts: &mut Facts) -> bool {
    if !term.iter().any(|t| name_column(src, *t).is_some()) {
        return true;
    }
    let Some(eq) = term.iter().position(|t| src.is_op(*t, "=")) else {
        return false;
    };
    let (lhs, rhs) = (
        term.get(..eq).unwrap_or(&[]),
        term.get(eq + 1..).unwrap_or(&[]),
    );
    let (column, value) = match (column_ref(src, lhs), column_ref(src, rhs)) {
        (Some(column), None) => (column, rhs),
        (None, Some(column)) => (column, lhs),
        // `n.oid = t.typnamespace`-like joins; a name column compared with another column
        // is not a plain guard.
        _ => return false,
    };
    let value = match literal(src, value) {
        Some(v) => Some(v),
        None if matches!(column, "table_schema" | "schemaname" | "nspname")
            && is_current_schema(src, value) =>
        {
            None
        }
        None => return false,
    };
    facts.values.push((column, value));
    true
}

fn name_column(src: Src<'_>, tok: Token) -> Option<&'static str> {
    if tok.kind != Kind::Word {
        return None;
    }
    let text = src.tok(tok);
    NAME_COLUMNS
        .iter()
        .find(|c| text.eq_ignore_ascii_case(c))
        .copied()
}

/// `[alias.]name_column` exactly.
fn column_ref(src: Src<'_>, toks: &[Token]) -> Option<&'static str> {
    match toks {
        [col] => name_column(src, *col),
        [alias, dot, col]
            if matches!(alias.kind, Kind::Word | Kind::Quoted) && dot.kind == Kind::Dot =>
        {
            name_column(src, *col)
        }
        _ => None,
    }
}

/// `'text'`, optionally cast (`'x'::name`, `'core.t'::regclass`).
fn literal(src: Src<'_>, toks: &[Token]) -> Option<String> {
    let (&first, rest) = toks.split_first()?;
    if !first.is_string() {
        return None;
    }
    let cast_ok = match rest {
        [] => true,
        [op, ty] => src.is_op(*op, "::") && ty.kind == Kind::Word,
        _ => false,
    };
    cast_ok.then(|| string_value(src.text, first).into_owned())
}

/// `current_schema` / `current_schema()`.
fn is_current_schema(src: Src<'_>, toks: &[Token]) -> bool {
    match toks {
        [w] => src.is_word(*w, "current_schema"),
        [w, open, close] => {
            src.is_word(*w, "current_schema")
                && open.kind == Kind::LParen
                && close.kind == Kind::RParen
        }
        _ => false,
    }
}

/// `'core.customers'` / `'"Core"."T"'` as `to_regclass` and `::regclass` read it. An
/// unqualified name is looked up along the search path ([`Condition::SEARCH_PATH`]).
fn parse_regclass(name: &str) -> (Option<String>, String) {
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = name.trim().chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => parts.push(std::mem::take(&mut current)),
            c if in_quotes => current.push(c),
            c => current.push(c.to_ascii_lowercase()),
        }
    }
    parts.push(current);
    let table = parts.pop().unwrap_or_default();
    let schema = parts
        .pop()
        .unwrap_or_else(|| Condition::SEARCH_PATH.to_string());
    (Some(schema), table)
}
