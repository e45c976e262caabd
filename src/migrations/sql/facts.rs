//! A SQL file → its [`SqlFacts`]: the top-level statements as written, the comments, a hash.
//!
//! The rules about migration files (the handbook group) ask what the schema replay does not
//! keep: whether DDL runs between `BEGIN` and `COMMIT`, whether a `CREATE INDEX` says `IF NOT
//! EXISTS`, which columns a `COMMENT ON COLUMN` describes, what the header and rollback
//! comments say. This reads the same tokens as the statement reader ([`super::lexer`]) in one
//! more pass over the file, splitting at top-level `;` and psql meta-commands, and finds the
//! comments in the gaps between tokens (a gap holds only whitespace and comments). It changes
//! nothing the statement reader decides.

use super::lexer::{self, Kind, LexOptions, Lexer, Token};
use crate::migrations::{Comment, QualifiedName, SqlFacts, Statement, StatementKind};
use crate::source::SourceFile;

/// Reads the facts of one SQL file.
pub(super) fn read(file: &SourceFile) -> SqlFacts {
    let text = file.text.as_str();
    let mut lexer = Lexer::new(
        text,
        LexOptions {
            sections: true,
            directives: false,
        },
    );
    let mut facts = SqlFacts {
        last_line: u32::try_from(file.line_count()).unwrap_or(u32::MAX),
        ..SqlFacts::default()
    };
    let mut hash = Fnv::new();
    let mut toks: Vec<Token> = Vec::new();
    let mut previous_end = 0;
    let mut in_transaction = false;
    while let Some(tok) = lexer.next_token() {
        comments_in(file, previous_end, tok.start, &mut facts.comments);
        previous_end = tok.end;
        match tok.kind {
            Kind::Semi | Kind::Boundary => {
                statement(file, &toks, &mut in_transaction, &mut facts.statements);
                toks.clear();
            }
            _ => {
                hash.add(text.get(tok.start..tok.end).unwrap_or("").as_bytes());
                toks.push(tok);
            }
        }
    }
    comments_in(file, previous_end, text.len(), &mut facts.comments);
    statement(file, &toks, &mut in_transaction, &mut facts.statements);
    facts.content_hash = hash.finish();
    facts
}

/// FNV-1a over the tokens, each followed by a separator.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn add(&mut self, bytes: &[u8]) {
        for b in bytes.iter().chain(std::iter::once(&0u8)) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The comments in `text[start..end]`, a gap between tokens.
fn comments_in(file: &SourceFile, start: usize, end: usize, out: &mut Vec<Comment>) {
    let Some(gap) = file.text.get(start..end) else {
        return;
    };
    let bytes = gap.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'-' && bytes[i + 1] == b'-' {
            let stop = gap[i..].find(['\n', '\r']).map_or(gap.len(), |n| i + n);
            push(file, start + i, &gap[i + 2..stop], out);
            i = stop;
        } else if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            let mut depth = 0usize;
            let mut j = i;
            while j + 1 < bytes.len() {
                if bytes[j] == b'/' && bytes[j + 1] == b'*' {
                    depth += 1;
                    j += 2;
                } else if bytes[j] == b'*' && bytes[j + 1] == b'/' {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            let stop = j.min(bytes.len());
            let inner = gap
                .get(i + 2..stop.saturating_sub(2).max(i + 2))
                .unwrap_or("");
            // One comment per line, so that a header block in `/* */` reads like `--` lines.
            let mut offset = start + i + 2;
            for line in inner.split('\n') {
                push(file, offset, line, out);
                offset += line.len() + 1;
            }
            i = stop;
        } else {
            i += 1;
        }
    }
}

fn push(file: &SourceFile, offset: usize, text: &str, out: &mut Vec<Comment>) {
    let (line, _) = file.line_col(offset);
    out.push(Comment {
        line,
        text: text.trim().to_string(),
    });
}

/// Summarises one statement and tracks the transaction it leaves open.
fn statement(
    file: &SourceFile,
    toks: &[Token],
    in_transaction: &mut bool,
    out: &mut Vec<Statement>,
) {
    let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
        return;
    };
    let text = |t: &Token| tok_text(file, t);
    let word = |i: usize| {
        toks.get(i)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| text(t).to_ascii_lowercase())
            .unwrap_or_default()
    };
    let words: Vec<String> = (0..toks.len().min(8)).map(word).collect();
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    let kind = match w(0) {
        "begin" if !matches!(w(1), "atomic") => StatementKind::Begin,
        "start" if w(1) == "transaction" => StatementKind::Begin,
        "commit" | "end" => StatementKind::Commit,
        "rollback" if !toks.iter().any(|t| text(t).eq_ignore_ascii_case("to")) => {
            StatementKind::Rollback
        }
        "create" => create(file, toks, &words),
        "comment" if w(1) == "on" && w(2) == "column" => comment_on_column(file, toks),
        "alter"
            if w(1) == "type"
                && toks.windows(2).any(|p| {
                    text(&p[0]).eq_ignore_ascii_case("add")
                        && text(&p[1]).eq_ignore_ascii_case("value")
                }) =>
        {
            StatementKind::AlterTypeAddValue
        }
        "do" => StatementKind::Do {
            catches_duplicates: toks.iter().any(|t| {
                let body = match t.kind {
                    Kind::Dollar | Kind::Str | Kind::EStr => text(t).to_ascii_lowercase(),
                    _ => return false,
                };
                body.contains("exception") && body.contains("duplicate_")
            }),
        },
        "alter" | "drop" | "comment" => StatementKind::Ddl,
        _ => StatementKind::Other,
    };
    let location = file.location(first.start);
    let (last_line, _) = file.line_col(last.end.saturating_sub(1).max(first.start));
    let inside = *in_transaction;
    match kind {
        StatementKind::Begin => *in_transaction = true,
        StatementKind::Commit | StatementKind::Rollback => *in_transaction = false,
        _ => {}
    }
    out.push(Statement {
        kind,
        location,
        last_line,
        in_transaction: inside,
    });
}

fn tok_text<'f>(file: &'f SourceFile, tok: &Token) -> &'f str {
    file.text.get(tok.start..tok.end).unwrap_or("")
}

/// `CREATE … INDEX …` in detail, any other `CREATE` as DDL.
fn create(file: &SourceFile, toks: &[Token], words: &[String]) -> StatementKind {
    let text = |t: &Token| tok_text(file, t);
    let index_at = words.iter().position(|w| w == "index");
    let is_index = match index_at {
        Some(1) => true,
        Some(2) => words.get(1).is_some_and(|w| w == "unique"),
        _ => false,
    };
    let Some(at) = index_at.filter(|_| is_index) else {
        return StatementKind::Ddl;
    };
    let mut i = at + 1;
    let is = |i: usize, kw: &str| {
        toks.get(i)
            .is_some_and(|t| text(t).eq_ignore_ascii_case(kw))
    };
    let concurrently = is(i, "concurrently");
    if concurrently {
        i += 1;
    }
    let if_not_exists = is(i, "if") && is(i + 1, "not") && is(i + 2, "exists");
    if if_not_exists {
        i += 3;
    }
    let name = toks
        .get(i)
        .filter(|_| !is(i, "on"))
        .and_then(|t| lexer::ident_value(&file.text, *t));
    let (table, columns) = match toks
        .iter()
        .skip(i)
        .position(|t| text(t).eq_ignore_ascii_case("on"))
    {
        Some(on) => index_target(file, &toks[i + on + 1..]),
        None => (None, Vec::new()),
    };
    StatementKind::CreateIndex {
        if_not_exists,
        concurrently,
        name,
        table,
        columns,
    }
}

/// What follows `CREATE INDEX … ON`: `[ONLY] [schema.]table [USING method] (a, b DESC)` → the
/// table, and the columns when every element is a plain name (else none).
fn index_target(file: &SourceFile, toks: &[Token]) -> (Option<QualifiedName>, Vec<String>) {
    let text = |t: &Token| tok_text(file, t);
    let mut i = usize::from(
        toks.first()
            .is_some_and(|t| text(t).eq_ignore_ascii_case("only")),
    );
    let ident = |i: usize| {
        toks.get(i)
            .filter(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
            .and_then(|t| lexer::ident_value(&file.text, *t))
    };
    let Some(first) = ident(i) else {
        return (None, Vec::new());
    };
    let table = if toks.get(i + 1).is_some_and(|t| t.kind == Kind::Dot) {
        let Some(second) = ident(i + 2) else {
            return (None, Vec::new());
        };
        i += 3;
        QualifiedName::new(Some(&first), &second)
    } else {
        i += 1;
        QualifiedName::new(None, &first)
    };
    if toks
        .get(i)
        .is_some_and(|t| text(t).eq_ignore_ascii_case("using"))
    {
        i += 2;
    }
    if toks.get(i).is_none_or(|t| t.kind != Kind::LParen) {
        return (Some(table), Vec::new());
    }
    i += 1;
    let mut columns = Vec::new();
    loop {
        let Some(column) =
            ident(i).filter(|_| toks[i].kind == Kind::Quoted || !is_keyword_start(text(&toks[i])))
        else {
            return (Some(table), Vec::new());
        };
        i += 1;
        if toks.get(i).is_some_and(|t| {
            text(t).eq_ignore_ascii_case("asc") || text(t).eq_ignore_ascii_case("desc")
        }) {
            i += 1;
        }
        columns.push(column);
        match toks.get(i).map(|t| t.kind) {
            Some(Kind::Comma) => i += 1,
            Some(Kind::RParen) => return (Some(table), columns),
            _ => return (Some(table), Vec::new()),
        }
    }
}

/// A word that starts an expression rather than naming a column (`lower(…)` is caught by the
/// token after it; these are the bare ones).
fn is_keyword_start(word: &str) -> bool {
    ["case", "cast", "coalesce", "row", "array"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// `COMMENT ON COLUMN a.b.c IS …` → the table `a.b` and the column `c`.
fn comment_on_column(file: &SourceFile, toks: &[Token]) -> StatementKind {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 3;
    while let Some(tok) = toks.get(i) {
        match lexer::ident_value(&file.text, *tok) {
            Some(name) if matches!(tok.kind, Kind::Word | Kind::Quoted) => parts.push(name),
            _ => break,
        }
        if toks.get(i + 1).is_some_and(|t| t.kind == Kind::Dot) {
            i += 2;
        } else {
            break;
        }
    }
    match parts.as_slice() {
        [schema, table, column] => StatementKind::CommentOnColumn {
            table: QualifiedName::new(Some(schema), table),
            column: column.clone(),
        },
        [table, column] => StatementKind::CommentOnColumn {
            table: QualifiedName::new(None, table),
            column: column.clone(),
        },
        _ => StatementKind::Ddl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> SqlFacts {
        read(&SourceFile::new("m.sql", text))
    }

    #[test]
    fn statements_transactions_and_comments_are_read() {
        let f = facts(
            "-- Migration: x\n/* Created: today\n   Purpose: y */\nCREATE TABLE t (id int);\nBEGIN;\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix_t ON t (id);\nCOMMENT ON COLUMN core.\"T\".c IS 'x';\nDO $$ BEGIN ALTER TABLE t ADD c int; EXCEPTION WHEN duplicate_column THEN NULL; END $$;\nALTER TYPE s ADD VALUE 'v';\nCOMMIT;\nINSERT INTO t VALUES (1);\n-- ROLLBACK: DROP TABLE t;\n",
        );
        let kinds: Vec<(&StatementKind, bool, u32)> = f
            .statements
            .iter()
            .map(|s| (&s.kind, s.in_transaction, s.location.line))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (&StatementKind::Ddl, false, 4),
                (&StatementKind::Begin, false, 5),
                (
                    &StatementKind::CreateIndex {
                        if_not_exists: true,
                        concurrently: true,
                        name: Some("ix_t".into()),
                        table: Some(QualifiedName::new(None, "t")),
                        columns: vec!["id".into()],
                    },
                    true,
                    6
                ),
                (
                    &StatementKind::CommentOnColumn {
                        table: QualifiedName::new(Some("core"), "T"),
                        column: "c".into()
                    },
                    true,
                    7
                ),
                (
                    &StatementKind::Do {
                        catches_duplicates: true
                    },
                    true,
                    8
                ),
                (&StatementKind::AlterTypeAddValue, true, 9),
                (&StatementKind::Commit, true, 10),
                (&StatementKind::Other, false, 11),
            ]
        );
        let comments: Vec<(u32, &str)> = f
            .comments
            .iter()
            .map(|c| (c.line, c.text.as_str()))
            .collect();
        assert_eq!(
            comments,
            vec![
                (1, "Migration: x"),
                (2, "Created: today"),
                (3, "Purpose: y"),
                (12, "ROLLBACK: DROP TABLE t;"),
            ]
        );
        assert_eq!(f.last_line, 13);
    }

    #[test]
    fn the_hash_ignores_comments_and_layout() {
        let a = facts("-- one\nCREATE TABLE t (id int);\n");
        let b = facts("CREATE TABLE t (\n    id int\n); -- other\n");
        let c = facts("CREATE TABLE u (id int);");
        assert_eq!(a.content_hash, b.content_hash);
        assert_ne!(a.content_hash, c.content_hash);
    }
}
