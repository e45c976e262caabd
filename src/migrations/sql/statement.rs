//! One SQL statement → schema change events.
//!
//! Understood: `CREATE [UNLOGGED|FOREIGN] TABLE`, `ALTER [FOREIGN] TABLE` (add/drop/rename/alter
//! columns, primary and foreign keys, rename, set schema), `DROP TABLE`, `CREATE/DROP SCHEMA`,
//! `SET search_path` / `set_config('search_path', …)`, enum types (`CREATE TYPE … AS ENUM`,
//! `ALTER TYPE … ADD VALUE / RENAME VALUE / RENAME TO`, `DROP TYPE`) and `DO` blocks (handed to
//! [`super::plpgsql`]). Everything else — data changes, grants, indexes, functions, views,
//! comments, sequences, temporary tables — changes no table, column or enum and is skipped
//! silently.
//!
//! Readers here are lenient inside what they understand (an unknown column option is skipped,
//! not an error) and strict about what they need: a column without a type, an `ADD` whose
//! column cannot be read. Those become warnings naming what was expected, at the token where
//! reading stopped; the column, action or statement is skipped and reading goes on.

use std::borrow::Cow;

use super::cursor::{Cursor, Src, find_word, split_commas};
use super::lexer::{Kind, Token};
use super::{StatementReader, plpgsql};
use crate::migrations::{ColumnDef, Condition, ForeignKeyRef, QualifiedName, SchemaChange};
use crate::postgres_type::SqlType;
use crate::source::Location;

/// Something a reader needed and did not find.
pub(super) struct Unread {
    pub expected: &'static str,
    /// Where reading stopped; `None` at the end of the tokens.
    pub at: Option<Token>,
}

fn unread(c: &Cursor<'_, '_>, expected: &'static str) -> Unread {
    Unread {
        expected,
        at: c.peek(),
    }
}

/// Reports an [`Unread`] as a warning: "could not read `what`: expected …, found …; `skipped`".
fn warn_unread(
    r: &mut StatementReader<'_>,
    c: &Cursor<'_, '_>,
    what: &str,
    u: &Unread,
    skipped: &str,
) {
    let found = match u.at {
        Some(tok) => format!("`{}`", short(c.src.tok(tok))),
        None => "the end of the statement".to_string(),
    };
    let offset = u.at.or(c.last()).or(c.prev()).map_or(0, |t| t.start);
    r.warn(
        c.src.abs(offset),
        format!(
            "could not read {what}: expected {}, found {found}; {skipped}",
            u.expected
        ),
    );
}

/// At most 40 characters of a token, on one line.
fn short(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(40)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// Reads one statement. `in_plpgsql`: inside a `DO` body, where `SELECT … INTO` assigns a
/// variable instead of creating a table.
pub(super) fn statement(
    r: &mut StatementReader<'_>,
    src: Src<'_>,
    toks: &[Token],
    in_plpgsql: bool,
    out: &mut Vec<SchemaChange>,
) {
    let mut c = Cursor::new(src, toks);
    let at = |r: &StatementReader<'_>| r.loc(src.abs(toks.first().map_or(0, |t| t.start)));
    if !in_plpgsql && (c.is("begin") || (c.is("start") && c.word_at(1, "transaction"))) {
        r.tx.open = true;
        r.tx.marks = vec![mark(r, None, out)];
    } else if !in_plpgsql && c.eat("savepoint") {
        if let Some((name, _)) = c.ident() {
            let saved = mark(r, Some(name), out);
            r.tx.marks.push(saved);
        }
    } else if !in_plpgsql && c.eat("release") {
        c.eat("savepoint");
        if let Some((name, _)) = c.ident()
            && let Some(i) = savepoint_index(r, &name)
        {
            r.tx.marks.truncate(i);
        }
    } else if !in_plpgsql && c.is_any(&["rollback", "abort"]) {
        rollback(r, &mut c, out);
    } else if !in_plpgsql && ends_transaction(&c) {
        let location = at(r);
        end_transaction(r, location, out);
    } else if c.eat("create") {
        create(r, &mut c, out);
    } else if c.eat("alter") {
        if c.eat("table") || c.eat_seq(&["foreign", "table"]) {
            alter_table(r, &mut c, out);
        } else if c.eat("type") {
            alter_type(r, &mut c, out);
        } else if c.eat("domain") {
            alter_domain(r, &mut c, out);
        } else if c.eat("schema") {
            alter_schema(r, &mut c, out);
        }
    } else if c.eat("drop") {
        drop(r, &mut c, out);
    } else if c.is("set") {
        set(r, &mut c, in_plpgsql, out);
    } else if c.is("reset") {
        if c.word_at(1, "search_path") || c.word_at(1, "all") {
            let location = r.loc(src.abs(toks.first().map_or(0, |t| t.start)));
            out.push(SchemaChange::SetSearchPath {
                schemas: default_search_path(),
                location,
            });
        }
    } else if c.is("select") {
        select(r, &mut c, in_plpgsql, out);
    } else if c.eat("do") {
        plpgsql::read_do(r, src, c.rest(), out);
        // A `DO` outside a transaction block is one: a `SET LOCAL` in it ends with it.
        if !r.tx.open {
            let location = at(r);
            end_transaction(r, location, out);
        }
    }
}

/// `COMMIT`, `END` (not `COMMIT PREPARED`).
fn ends_transaction(c: &Cursor<'_, '_>) -> bool {
    let rest = c.rest();
    c.is_any(&["commit", "end"]) && !rest.iter().any(|t| c.src.is_word(*t, "prepared"))
}

/// Where a `ROLLBACK` would return to now.
fn mark(r: &StatementReader<'_>, savepoint: Option<String>, out: &[SchemaChange]) -> super::Mark {
    super::Mark {
        savepoint,
        changes: out.len(),
        session_path: r.tx.session_path.clone(),
        local: r.tx.local,
    }
}

/// The latest savepoint of that name.
fn savepoint_index(r: &StatementReader<'_>, name: &str) -> Option<usize> {
    r.tx.marks
        .iter()
        .rposition(|m| m.savepoint.as_deref() == Some(name))
}

/// `ROLLBACK` / `ABORT` undo what the transaction changed; `ROLLBACK TO [SAVEPOINT] s` what
/// came after `s` (found by the PostgreSQL oracle: rolled-back DDL was kept). The changes read
/// since are dropped, so the path state they set goes too.
fn rollback(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    c.bump();
    c.eat("work");
    c.eat("transaction");
    if c.eat("prepared") {
        return;
    }
    let keep = if c.eat("to") {
        c.eat("savepoint");
        let Some(i) = c.ident().and_then(|(name, _)| savepoint_index(r, &name)) else {
            return;
        };
        r.tx.marks.truncate(i + 1);
        r.tx.marks.get(i).cloned()
    } else {
        r.tx.open = r.tx.always_open;
        let first = r.tx.marks.first().cloned();
        r.tx.marks.clear();
        first
    };
    if let Some(m) = keep {
        out.truncate(m.changes);
        r.tx.session_path = m.session_path;
        r.tx.local = m.local;
    }
}

/// The end of a transaction: a `SET LOCAL search_path` made in it no longer holds, and the
/// path is again the one the last session-level `SET` chose (or the file's default: an empty
/// list).
fn end_transaction(r: &mut StatementReader<'_>, location: Location, out: &mut Vec<SchemaChange>) {
    r.tx.open = r.tx.always_open;
    r.tx.marks.clear();
    if std::mem::take(&mut r.tx.local) {
        out.push(SchemaChange::SetSearchPath {
            schemas: r.tx.session_path.clone().unwrap_or_default(),
            location,
        });
    }
}

/// A new `search_path`. `local` (`SET LOCAL`, `set_config(…, true)`) lasts until the end of the
/// transaction, and outside a transaction block changes nothing (PostgreSQL only warns).
pub(super) fn set_search_path(
    r: &mut StatementReader<'_>,
    schemas: Vec<String>,
    local: bool,
    in_plpgsql: bool,
    location: Location,
    out: &mut Vec<SchemaChange>,
) {
    if local {
        if !r.tx.open && !in_plpgsql {
            return;
        }
        r.tx.local = true;
    } else {
        r.tx.session_path = Some(schemas.clone());
        r.tx.local = false;
    }
    out.push(SchemaChange::SetSearchPath { schemas, location });
}

fn create(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    c.eat_seq(&["or", "replace"]);
    let mut temp = false;
    loop {
        if c.eat("temp") || c.eat("temporary") {
            temp = true;
        } else if !(c.eat("global") || c.eat("local") || c.eat("unlogged")) {
            break;
        }
    }
    if c.eat("table") || c.eat_seq(&["foreign", "table"]) {
        // Temporary tables vanish with the session: they are not schema.
        if !temp {
            create_table(r, c, None, out);
        }
    } else if temp {
        // CREATE TEMP VIEW / SEQUENCE: nothing to read.
    } else if c.eat("schema") {
        create_schema(r, c, out);
    } else if c.eat("type") {
        create_type(r, c, out);
    } else if c.eat("domain") {
        create_domain(r, c, out);
    }
}

/// `CREATE DOMAIN name [AS] type [COLLATE c] [DEFAULT e] [[CONSTRAINT n] NOT NULL | NULL |
/// CHECK (…)]…`.
fn create_domain(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let src = c.src;
    let Some((name, tok)) = c.qualified() else {
        return;
    };
    c.eat("as");
    let (ty, _) = match column_type(r, c) {
        Ok(read) => read,
        Err(u) => {
            let what = format!("CREATE DOMAIN {name}");
            warn_unread(r, c, &what, &u, "the statement was skipped");
            return;
        }
    };
    let mut nullable = true;
    while c.peek().is_some() {
        if c.eat("not") {
            if c.eat("null") {
                nullable = false;
            }
        } else if c.eat("null") {
            nullable = true;
        } else {
            c.skip_one();
        }
    }
    out.push(SchemaChange::CreateDomain {
        name,
        ty,
        nullable,
        location: r.loc(src.abs(tok.start)),
    });
}

/// `ALTER DOMAIN d RENAME TO e` / `SET SCHEMA s` (constraints and defaults: nothing).
fn alter_domain(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let src = c.src;
    let Some((name, tok)) = c.qualified() else {
        return;
    };
    let location = r.loc(src.abs(tok.start));
    if c.eat_seq(&["rename", "to"])
        && let Some((new_name, _)) = c.ident()
    {
        out.push(SchemaChange::RenameType {
            name,
            new_name,
            location,
        });
    } else if c.eat_seq(&["set", "schema"])
        && let Some((new_schema, _)) = c.ident()
    {
        out.push(SchemaChange::SetTypeSchema {
            name,
            new_schema,
            location,
        });
    }
}

/// `ALTER SCHEMA s RENAME TO t` (owner changes: nothing).
fn alter_schema(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let src = c.src;
    let Some((name, tok)) = c.ident() else {
        return;
    };
    if c.eat_seq(&["rename", "to"])
        && let Some((new_name, _)) = c.ident()
    {
        out.push(SchemaChange::RenameSchema {
            name,
            new_name,
            location: r.loc(src.abs(tok.start)),
        });
    }
}

/// One element of a `CREATE TABLE` column list.
enum Element {
    Column(ColumnDef),
    PrimaryKey(Vec<String>),
    ForeignKey(Vec<String>, ForeignKeyRef),
    Like(QualifiedName),
    Other,
}

/// `CREATE TABLE` after the `TABLE` keyword. `default_schema`: the schema of a `CREATE SCHEMA`
/// this table is an element of.
fn create_table(
    r: &mut StatementReader<'_>,
    c: &mut Cursor<'_, '_>,
    default_schema: Option<&str>,
    out: &mut Vec<SchemaChange>,
) {
    let src = c.src;
    let if_not_exists = c.eat_seq(&["if", "not", "exists"]);
    let Some((mut table, name_tok)) = c.qualified() else {
        let u = unread(c, "a table name");
        warn_unread(r, c, "this CREATE TABLE", &u, "the statement was skipped");
        return;
    };
    if table.schema.is_none() {
        table.schema = default_schema.map(str::to_string);
    }
    let name_at = src.abs(name_tok.start);
    let location = r.loc(name_at);
    if c.is("of") {
        r.warn(
            name_at,
            format!(
                "could not read CREATE TABLE {table} OF …: a typed table takes its columns from a composite type, which driftguard does not read; the statement was skipped"
            ),
        );
        return;
    }
    if c.eat_seq(&["partition", "of"]) {
        match c.qualified() {
            Some((parent, _)) => {
                let (primary_key, options) = partition_options(r, c, &table);
                out.push(SchemaChange::CreateTable {
                    table,
                    if_not_exists,
                    columns: Vec::new(),
                    primary_key,
                    copies_from: vec![parent],
                    likes: Vec::new(),
                    location,
                });
                out.extend(options);
            }
            None => {
                let u = unread(c, "the parent table's name");
                let what = format!("CREATE TABLE {table} PARTITION OF");
                warn_unread(r, c, &what, &u, "the statement was skipped");
            }
        }
        return;
    }
    if find_word(&src, c.rest(), 0, &["as"]).is_some() {
        r.warn(
            name_at,
            format!(
                "CREATE TABLE {table} … AS creates the table from a query, whose columns driftguard cannot see; the statement was skipped — create the table with a column list to have it checked"
            ),
        );
        return;
    }
    let what = || format!("CREATE TABLE {table}");
    let Some((elems, closed)) = c.group() else {
        let u = unread(c, "`(` and a column list");
        warn_unread(r, c, &what(), &u, "the statement was skipped");
        return;
    };
    if !closed {
        r.warn(
            name_at,
            format!(
                "could not read {}: its column list has no closing `)`; the statement was skipped",
                what()
            ),
        );
        return;
    }
    let mut columns: Vec<ColumnDef> = Vec::new();
    let mut primary_key = Vec::new();
    let mut copies_from = Vec::new();
    let mut likes = Vec::new();
    let mut foreign_keys = Vec::new();
    for elem in split_commas(elems) {
        let mut e = Cursor::new(src, elem);
        let Some(first) = e.peek() else {
            r.warn(
                name_at,
                format!(
                    "could not read {}: its column list has an empty entry (`,,`?); the entry was skipped",
                    what()
                ),
            );
            continue;
        };
        match table_element(r, &mut e, &table) {
            Ok(Element::Column(column)) => columns.push(column),
            Ok(Element::PrimaryKey(cols)) => primary_key.extend(cols),
            Ok(Element::ForeignKey(cols, target)) => foreign_keys.push((cols, target)),
            Ok(Element::Like(source)) => likes.push((columns.len(), source)),
            Ok(Element::Other) => {}
            Err(u) => {
                let what = format!("`{}…` in {}", short(src.tok(first)), what());
                warn_unread(r, &e, &what, &u, "this column was skipped");
            }
        }
    }
    // A table-level `FOREIGN KEY (a) REFERENCES t (b)` is the column's reference.
    for (cols, target) in foreign_keys {
        if let [col] = cols.as_slice()
            && let Some(def) = columns.iter_mut().find(|d| &d.name == col)
            && def.references.is_none()
        {
            def.references = Some(target);
        }
    }
    if c.eat("inherits")
        && let Some((parents, _)) = c.group()
    {
        for part in split_commas(parents) {
            if let Some((parent, _)) = Cursor::new(src, part).qualified() {
                copies_from.push(parent);
            }
        }
    }
    out.push(SchemaChange::CreateTable {
        table,
        if_not_exists,
        columns,
        primary_key,
        copies_from,
        likes,
        location,
    });
}

/// The optional element list of `CREATE TABLE … PARTITION OF parent (…)`: columns come from
/// the parent, and the list only adds options — `c [WITH OPTIONS] NOT NULL | DEFAULT e |
/// PRIMARY KEY`, table constraints. Returns the primary key's columns and the events for the
/// other options (found by the PostgreSQL oracle: they were skipped).
fn partition_options(
    r: &StatementReader<'_>,
    c: &mut Cursor<'_, '_>,
    table: &QualifiedName,
) -> (Vec<String>, Vec<SchemaChange>) {
    let mut primary_key = Vec::new();
    let mut events = Vec::new();
    let Some((elems, _)) = c.group() else {
        return (primary_key, events);
    };
    for elem in split_commas(elems) {
        let mut e = Cursor::new(c.src, elem);
        if e.eat("constraint") {
            let _ = e.ident();
        }
        if starts_table_constraint(&e) {
            if let Ok(Element::PrimaryKey(cols)) = table_constraint(&mut e) {
                primary_key.extend(cols);
            }
            continue;
        }
        let Some((column, tok)) = e.ident() else {
            continue;
        };
        let location = r.loc(e.src.abs(tok.start));
        e.eat_seq(&["with", "options"]);
        while e.peek().is_some() {
            if e.eat_seq(&["not", "null"]) {
                events.push(SchemaChange::SetNullable {
                    table: table.clone(),
                    column: column.clone(),
                    nullable: false,
                    location: location.clone(),
                });
            } else if e.eat("default") {
                if let Ok(default) = default_expr(&mut e) {
                    events.push(SchemaChange::SetDefault {
                        table: table.clone(),
                        column: column.clone(),
                        default: Some(default),
                        location: location.clone(),
                    });
                }
            } else if e.eat("primary") {
                e.eat("key");
                primary_key.push(column.clone());
            } else {
                e.skip_one();
            }
        }
    }
    (primary_key, events)
}

fn starts_table_constraint(e: &Cursor<'_, '_>) -> bool {
    e.is_any(&["primary", "foreign", "unique", "check"])
        || (e.is("exclude")
            && (e.word_at(1, "using") || e.nth(1).is_some_and(|t| t.kind == Kind::LParen)))
}

fn table_element(
    r: &StatementReader<'_>,
    e: &mut Cursor<'_, '_>,
    table: &QualifiedName,
) -> Result<Element, Unread> {
    if e.eat("constraint") {
        let _ = e.ident();
        return table_constraint(e);
    }
    if starts_table_constraint(e) {
        return table_constraint(e);
    }
    if e.eat("like") {
        return match e.qualified() {
            Some((source, _)) => Ok(Element::Like(source)),
            None => Err(unread(e, "the name of the table to copy")),
        };
    }
    column_def(r, e, table).map(Element::Column)
}

/// A table constraint after its optional `CONSTRAINT name`.
fn table_constraint(e: &mut Cursor<'_, '_>) -> Result<Element, Unread> {
    if e.eat("primary") {
        e.eat("key");
        // `PRIMARY KEY USING INDEX idx` (ALTER TABLE) names no columns.
        return Ok(match e.group() {
            Some((cols, _)) => Element::PrimaryKey(column_list(e.src, cols)),
            None => Element::Other,
        });
    }
    if e.eat("foreign") {
        e.eat("key");
        let Some((cols, _)) = e.group() else {
            return Err(unread(e, "`(` and the foreign key's columns"));
        };
        let cols = column_list(e.src, cols);
        if !e.eat("references") {
            return Err(unread(e, "REFERENCES"));
        }
        let target = references(e)?;
        return Ok(Element::ForeignKey(cols, target));
    }
    Ok(Element::Other)
}

/// The column names of `(a, b DESC, c)`.
fn column_list(src: Src<'_>, toks: &[Token]) -> Vec<String> {
    split_commas(toks)
        .filter_map(|part| Cursor::new(src, part).ident().map(|(name, _)| name))
        .collect()
}

/// Words that start a column constraint: never a column type.
const CONSTRAINT_WORDS: &[&str] = &[
    "not",
    "null",
    "default",
    "primary",
    "unique",
    "check",
    "references",
    "constraint",
    "generated",
    "collate",
];

/// Words that end a `DEFAULT` expression (PostgreSQL's `b_expr` cannot contain them).
const DEFAULT_STOP: &[&str] = &[
    "not",
    "null",
    "constraint",
    "check",
    "unique",
    "primary",
    "references",
    "generated",
    "collate",
    "default",
    "deferrable",
    "initially",
];

/// `name type [constraints…]` — a column of `CREATE TABLE` or `ADD COLUMN`.
pub(super) fn column_def(
    r: &StatementReader<'_>,
    e: &mut Cursor<'_, '_>,
    table: &QualifiedName,
) -> Result<ColumnDef, Unread> {
    let Some((name, name_tok)) = e.ident() else {
        return Err(unread(e, "a column name"));
    };
    let (ty, serial) = column_type(r, e)?;
    let mut column = ColumnDef {
        name,
        ty,
        nullable: true,
        default: None,
        primary_key: false,
        references: None,
        location: r.loc(e.src.abs(name_tok.start)),
    };
    if serial {
        column.nullable = false;
        column.default = Some(serial_default(table, &column.name));
    }
    while e.peek().is_some() {
        if e.is("not") {
            e.bump();
            // `NOT DEFERRABLE`, `NOT ENFORCED` are not about nulls.
            if e.eat("null") {
                column.nullable = false;
            }
        } else if e.eat("null") {
            column.nullable = true;
        } else if e.eat("default") {
            column.default = Some(default_expr(e)?);
        } else if e.eat("primary") {
            e.eat("key");
            column.primary_key = true;
            column.nullable = false;
        } else if e.eat("references") {
            column.references = Some(references(e)?);
        } else if e.eat("constraint") {
            let _ = e.ident();
        } else if e.eat("generated") {
            if !e.eat("always") {
                e.eat_seq(&["by", "default"]);
            }
            e.eat("as");
            if e.eat("identity") {
                column.nullable = false;
                if e.is_kind(Kind::LParen) {
                    e.skip_one();
                }
            } else {
                // `GENERATED ALWAYS AS (expr) STORED`: computed, no default.
                e.skip_one();
            }
        } else if e.eat("collate") {
            let _ = e.qualified();
        } else {
            // UNIQUE, CHECK (…), DEFERRABLE, OPTIONS (…), STORAGE …: nothing we need.
            e.skip_one();
        }
    }
    Ok(column)
}

/// `nextval('<table>_<column>_seq'::regclass)`, as PostgreSQL prints a serial's default.
fn serial_default(table: &QualifiedName, column: &str) -> String {
    let sequence = quote_ident(&format!("{}_{column}_seq", table.name));
    let sequence = match &table.schema {
        Some(schema) if schema != "public" => format!("{}.{sequence}", quote_ident(schema)),
        _ => sequence,
    };
    format!("nextval('{}'::regclass)", sequence.replace('\'', "''"))
}

fn quote_ident(name: &str) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.is_empty();
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A column type: multi-word built-ins, modifiers, `with time zone`, arrays. Returns the type
/// and whether it was a serial pseudo-type.
pub(super) fn column_type(
    r: &StatementReader<'_>,
    e: &mut Cursor<'_, '_>,
) -> Result<(SqlType, bool), Unread> {
    let Some(tok) = e.peek() else {
        return Err(unread(e, "a column type"));
    };
    let is_word = tok.kind == Kind::Word;
    if !(is_word || tok.kind == Kind::Quoted) || e.src.is_any_word(tok, CONSTRAINT_WORDS) {
        return Err(unread(e, "a column type"));
    }
    let text = e.src.tok(tok);
    let word = |w: &str| is_word && text.eq_ignore_ascii_case(w);
    let mut modifiers = Vec::new();
    // `folded`: the name is already case-folded (not to be lower-cased again).
    let (name, folded): (Cow<'_, str>, bool) = if !is_word && text == "\"char\"" {
        // The quoted `"char"` is PostgreSQL's one-byte type, not `character` (found by the
        // PostgreSQL oracle).
        e.bump();
        (SqlType::ONE_BYTE_CHAR.into(), true)
    } else if word("double") && e.word_at(1, "precision") {
        e.bump();
        e.bump();
        ("double precision".into(), true)
    } else if word("character") || word("char") || word("nchar") || word("national") {
        e.bump();
        if word("national") && !(e.eat("character") || e.eat("char")) {
            return Err(unread(e, "CHARACTER after NATIONAL"));
        }
        if e.eat("varying") {
            ("character varying".into(), true)
        } else {
            ("character".into(), true)
        }
    } else if word("bit") {
        e.bump();
        if e.eat("varying") {
            ("bit varying".into(), true)
        } else {
            ("bit".into(), true)
        }
    } else if word("timestamp") || word("time") {
        let time = word("time");
        e.bump();
        modifiers = type_modifiers(e);
        let zone = if e.eat_seq(&["with", "time", "zone"]) {
            Some(true)
        } else if e.eat_seq(&["without", "time", "zone"]) {
            Some(false)
        } else {
            None
        };
        let name = match (time, zone) {
            (true, Some(true)) => "time with time zone",
            (true, Some(false)) => "time without time zone",
            (true, None) => "time",
            (false, Some(true)) => "timestamp with time zone",
            (false, Some(false)) => "timestamp without time zone",
            (false, None) => "timestamp",
        };
        (name.into(), true)
    } else if word("interval") {
        e.bump();
        while e.is_any(&["year", "month", "day", "hour", "minute", "second", "to"]) {
            e.bump();
        }
        ("interval".into(), true)
    } else if is_word && !e.nth(1).is_some_and(|t| t.kind == Kind::Dot) {
        // The common case, `integer`: from_sql_name folds it.
        e.bump();
        (text.into(), false)
    } else {
        match e.qualified() {
            Some((name, _)) => (name.to_string().into(), true),
            None => return Err(unread(e, "a column type")),
        }
    };
    if modifiers.is_empty() {
        modifiers = type_modifiers(e);
    }
    let mut array = false;
    while e.is_kind(Kind::LBracket) {
        e.skip_one();
        array = true;
    }
    if e.eat("array") {
        array = true;
        if e.is_kind(Kind::LBracket) {
            e.skip_one();
        }
    }
    let bare = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    let serial = !array && might_be_serial(bare) && SqlType::is_serial_name(bare);
    let ty = if modifiers.is_empty() {
        r.sql_type(&name, folded)
    } else {
        SqlType::from_sql_name(&name, modifiers, folded)
    };
    Ok((if array { ty.into_array() } else { ty }, serial))
}

/// A cheap test before [`SqlType::is_serial_name`] (which allocates).
fn might_be_serial(name: &str) -> bool {
    name.as_bytes()
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"serial"))
}

/// `(20)`, `(10, 2)`: numbers only; anything else (`geometry(Point, 4326)`) gives none.
fn type_modifiers(e: &mut Cursor<'_, '_>) -> Vec<u32> {
    let Some((inner, _)) = e.group() else {
        return Vec::new();
    };
    let mut mods = Vec::new();
    for part in split_commas(inner) {
        match part {
            [tok] if tok.kind == Kind::Number => match e.src.tok(*tok).parse::<u32>() {
                Ok(n) => mods.push(n),
                Err(_) => return Vec::new(),
            },
            _ => return Vec::new(),
        }
    }
    mods
}

/// The text of a column's `DEFAULT` expression, as written.
fn default_expr(e: &mut Cursor<'_, '_>) -> Result<String, Unread> {
    if e.at_end() {
        return Err(unread(e, "a default expression"));
    }
    let start = e.position();
    let mut depth = 0usize;
    let mut cases = 0usize;
    let mut count = 0usize;
    while let Some(tok) = e.peek() {
        match tok.kind {
            Kind::LParen | Kind::LBracket => depth += 1,
            Kind::RParen | Kind::RBracket => depth = depth.saturating_sub(1),
            Kind::Word if depth == 0 => {
                let text = e.src.tok(tok);
                if text.eq_ignore_ascii_case("case") {
                    cases += 1;
                } else if text.eq_ignore_ascii_case("end") && cases > 0 {
                    cases -= 1;
                } else if cases == 0 && count > 0 && e.src.is_any_word(tok, DEFAULT_STOP) {
                    break;
                }
            }
            _ => {}
        }
        count += 1;
        e.bump();
    }
    Ok(e.src.canonical(e.since(start)))
}

/// After `REFERENCES`: `table [(cols)] [MATCH …] [ON DELETE|UPDATE action]…`.
fn references(e: &mut Cursor<'_, '_>) -> Result<ForeignKeyRef, Unread> {
    let Some((table, _)) = e.qualified() else {
        return Err(unread(e, "the referenced table's name"));
    };
    let columns = match e.group() {
        Some((cols, _)) => column_list(e.src, cols),
        None => Vec::new(),
    };
    loop {
        if e.eat("match") {
            e.bump();
        } else if e.eat("on") {
            e.bump(); // DELETE | UPDATE
            if e.eat("no") {
                e.eat("action");
            } else if e.eat("set") {
                e.bump(); // NULL | DEFAULT — not a column constraint here
                if e.is_kind(Kind::LParen) {
                    e.skip_one();
                }
            } else {
                e.bump();
            }
        } else {
            break;
        }
    }
    Ok(ForeignKeyRef { table, columns })
}

/// `ALTER TABLE [IF EXISTS] …`. With `IF EXISTS` the statement's events run only when the
/// table exists when it runs: they are wrapped in an `IF` on the table's existence, so that a
/// missing table is not taken for one made outside the migrations.
fn alter_table(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let if_exists = c.eat_seq(&["if", "exists"]);
    let mut events = Vec::new();
    let named = alter_table_body(r, c, &mut events);
    match named {
        Some((table, location)) if if_exists && !events.is_empty() => {
            out.push(SchemaChange::If {
                branches: vec![(
                    Condition::TableExists {
                        schema: Some(
                            table
                                .schema
                                .clone()
                                .unwrap_or_else(|| Condition::SEARCH_PATH.to_string()),
                        ),
                        table: table.name,
                    },
                    events,
                )],
                otherwise: Vec::new(),
                location,
            });
        }
        _ => out.extend(events),
    }
}

/// The body of `ALTER TABLE` after `IF EXISTS`; the table it names and where.
fn alter_table_body(
    r: &mut StatementReader<'_>,
    c: &mut Cursor<'_, '_>,
    out: &mut Vec<SchemaChange>,
) -> Option<(QualifiedName, Location)> {
    let src = c.src;
    c.eat("only");
    if c.is("all") && c.word_at(1, "in") {
        return None; // ALTER TABLE ALL IN TABLESPACE
    }
    let Some((table, name_tok)) = c.qualified() else {
        let u = unread(c, "a table name");
        warn_unread(r, c, "this ALTER TABLE", &u, "the statement was skipped");
        return None;
    };
    c.eat_op("*");
    let table_at = src.abs(name_tok.start);
    let named = Some((table.clone(), r.loc(table_at)));
    let what = || format!("ALTER TABLE {table}");
    if c.eat("rename") {
        if c.eat("to") {
            match c.ident() {
                Some((new_name, _)) => out.push(SchemaChange::RenameTable {
                    table,
                    new_name,
                    location: r.loc(table_at),
                }),
                None => {
                    let u = unread(c, "the new table name");
                    warn_unread(r, c, &what(), &u, "the statement was skipped");
                }
            }
            return named;
        }
        if c.eat("constraint") {
            return named;
        }
        c.eat("column");
        let renamed = c.ident().and_then(|(old, old_tok)| {
            if !c.eat("to") {
                return None;
            }
            let (new_name, _) = c.ident()?;
            Some((old, old_tok, new_name))
        });
        match renamed {
            Some((column, old_tok, new_name)) => out.push(SchemaChange::RenameColumn {
                table,
                column,
                new_name,
                location: r.loc(src.abs(old_tok.start)),
            }),
            None => {
                let u = unread(c, "`old_name TO new_name`");
                warn_unread(r, c, &what(), &u, "the statement was skipped");
            }
        }
        return named;
    }
    if c.eat_seq(&["set", "schema"]) {
        match c.ident() {
            Some((new_schema, _)) => out.push(SchemaChange::SetTableSchema {
                table,
                new_schema,
                location: r.loc(table_at),
            }),
            None => {
                let u = unread(c, "a schema name");
                warn_unread(r, c, &what(), &u, "the statement was skipped");
            }
        }
        return named;
    }
    // PostgreSQL runs the actions of one ALTER TABLE in passes, not as written: drops first,
    // then type changes, added columns, SET NOT NULL, constraints, defaults (so `SET NOT NULL,
    // DROP NOT NULL` leaves the column NOT NULL). Found by the PostgreSQL oracle.
    let mut staged: Vec<(u8, SchemaChange)> = Vec::new();
    for action in split_commas(c.rest()) {
        let mut events = Vec::new();
        alter_action(r, src, action, &table, &mut events);
        staged.extend(events.into_iter().map(|e| (alter_pass(&e), e)));
    }
    staged.sort_by_key(|(pass, _)| *pass);
    out.extend(staged.into_iter().map(|(_, e)| e));
    named
}

/// The pass of PostgreSQL's `ALTER TABLE` (`AlterTablePass` in `tablecmds.c`) an event's
/// action runs in.
fn alter_pass(change: &SchemaChange) -> u8 {
    match change {
        SchemaChange::DropColumn { .. }
        | SchemaChange::SetNullable { nullable: true, .. }
        | SchemaChange::SetDefault { default: None, .. } => 0,
        SchemaChange::AlterColumnType { .. } => 1,
        SchemaChange::AddColumn { .. } => 4,
        SchemaChange::SetNullable {
            nullable: false, ..
        } => 5,
        SchemaChange::AddPrimaryKey { .. } => 6,
        SchemaChange::AddForeignKey { .. } => 8,
        SchemaChange::SetDefault { .. } => 9,
        _ => 10,
    }
}

/// One comma-separated action of `ALTER TABLE`.
fn alter_action(
    r: &mut StatementReader<'_>,
    src: Src<'_>,
    toks: &[Token],
    table: &QualifiedName,
    out: &mut Vec<SchemaChange>,
) {
    let mut a = Cursor::new(src, toks);
    let Some(first) = a.peek() else {
        return;
    };
    let location = r.loc(src.abs(first.start));
    let partition = a.is_any(&["attach", "detach"]);
    if a.eat_seq(&["attach", "partition"]) || a.eat_seq(&["detach", "partition"]) {
        if let Some((child, _)) = a.qualified() {
            out.push(SchemaChange::SetParent {
                table: child,
                parent: table.clone(),
                partition,
                attach: src.is_word(first, "attach"),
                location,
            });
        }
        return;
    }
    if a.eat("inherit") || a.eat_seq(&["no", "inherit"]) {
        if let Some((parent, _)) = a.qualified() {
            out.push(SchemaChange::SetParent {
                table: table.clone(),
                parent,
                partition: false,
                attach: src.is_word(first, "inherit"),
                location,
            });
        }
        return;
    }
    if a.eat("add") {
        if a.eat("constraint") {
            let _ = a.ident();
            add_constraint(r, &mut a, first, table, out);
        } else if starts_table_constraint(&a) {
            add_constraint(r, &mut a, first, table, out);
        } else {
            a.eat("column");
            let if_not_exists = a.eat_seq(&["if", "not", "exists"]);
            match column_def(r, &mut a, table) {
                Ok(column) => out.push(SchemaChange::AddColumn {
                    table: table.clone(),
                    column,
                    if_not_exists,
                }),
                Err(u) => {
                    let what = format!("ADD COLUMN in ALTER TABLE {table}");
                    warn_unread(r, &a, &what, &u, "this action was skipped");
                }
            }
        }
    } else if a.eat("drop") {
        if a.eat("constraint") {
            return;
        }
        a.eat("column");
        let if_exists = a.eat_seq(&["if", "exists"]);
        match a.ident() {
            Some((column, tok)) => out.push(SchemaChange::DropColumn {
                table: table.clone(),
                column,
                if_exists,
                location: r.loc(src.abs(tok.start)),
            }),
            None => {
                let u = unread(&a, "a column name");
                let what = format!("DROP COLUMN in ALTER TABLE {table}");
                warn_unread(r, &a, &what, &u, "this action was skipped");
            }
        }
    } else if a.eat("alter") {
        if a.eat("constraint") {
            return;
        }
        a.eat("column");
        let what = || format!("ALTER COLUMN in ALTER TABLE {table}");
        let Some((column, col_tok)) = a.ident() else {
            let u = unread(&a, "a column name");
            warn_unread(r, &a, &what(), &u, "this action was skipped");
            return;
        };
        let location = r.loc(src.abs(col_tok.start));
        let table = table.clone();
        if a.eat_seq(&["set", "data", "type"]) || a.eat("type") {
            match column_type(r, &mut a) {
                Ok((ty, _)) => out.push(SchemaChange::AlterColumnType {
                    table,
                    column,
                    ty,
                    location,
                }),
                Err(u) => warn_unread(r, &a, &what(), &u, "this action was skipped"),
            }
        } else if a.is("set") || a.is("drop") {
            let nullable = a.is("drop");
            if !(a.eat_seq(&["set", "not", "null"]) || a.eat_seq(&["drop", "not", "null"])) {
                set_or_drop_default(r, &mut a, table, column, location, out);
                return;
            }
            out.push(SchemaChange::SetNullable {
                table,
                column,
                nullable,
                location,
            });
        }
    }
}

/// `ALTER COLUMN c SET DEFAULT e` / `DROP DEFAULT` (other `SET …`/`DROP …` forms: nothing).
fn set_or_drop_default(
    r: &mut StatementReader<'_>,
    a: &mut Cursor<'_, '_>,
    table: QualifiedName,
    column: String,
    location: Location,
    out: &mut Vec<SchemaChange>,
) {
    if a.eat_seq(&["set", "default"]) {
        match a.rest() {
            [] => {
                let u = unread(a, "a default expression");
                let what = format!("ALTER COLUMN in ALTER TABLE {table}");
                warn_unread(r, a, &what, &u, "this action was skipped");
            }
            rest => out.push(SchemaChange::SetDefault {
                table,
                column,
                default: Some(a.src.canonical(rest)),
                location,
            }),
        }
    } else if a.eat_seq(&["drop", "default"]) {
        out.push(SchemaChange::SetDefault {
            table,
            column,
            default: None,
            location,
        });
    }
}

/// `ADD [CONSTRAINT n] PRIMARY KEY (…) | FOREIGN KEY (…) REFERENCES …` (others: nothing).
fn add_constraint(
    r: &mut StatementReader<'_>,
    a: &mut Cursor<'_, '_>,
    first: Token,
    table: &QualifiedName,
    out: &mut Vec<SchemaChange>,
) {
    let location = r.loc(a.src.abs(first.start));
    match table_constraint(a) {
        Ok(Element::PrimaryKey(columns)) => out.push(SchemaChange::AddPrimaryKey {
            table: table.clone(),
            columns,
            location,
        }),
        Ok(Element::ForeignKey(columns, references)) => out.push(SchemaChange::AddForeignKey {
            table: table.clone(),
            columns,
            references,
            location,
        }),
        Ok(_) => {}
        Err(u) => {
            let what = format!("ADD CONSTRAINT in ALTER TABLE {table}");
            warn_unread(r, a, &what, &u, "this action was skipped");
        }
    }
}

fn drop(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let src = c.src;
    let kind = if c.eat("table") || c.eat_seq(&["foreign", "table"]) {
        0
    } else if c.eat("schema") {
        1
    } else if c.eat("type") || c.eat("domain") {
        2
    } else {
        return;
    };
    c.eat_seq(&["if", "exists"]);
    let cascade = c.last().is_some_and(|t| src.is_word(t, "cascade"));
    for part in split_commas(c.rest()) {
        let Some((name, tok)) = Cursor::new(src, part).qualified() else {
            continue;
        };
        let location = r.loc(src.abs(tok.start));
        out.push(match kind {
            0 => SchemaChange::DropTable {
                table: name,
                location,
            },
            1 => SchemaChange::DropSchema {
                name: name.name,
                cascade,
                location,
            },
            _ => SchemaChange::DropType { name, location },
        });
    }
}

fn create_schema(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let src = c.src;
    c.eat_seq(&["if", "not", "exists"]);
    // `CREATE SCHEMA AUTHORIZATION role` names the schema after the role.
    let named = if c.eat("authorization") {
        c.ident()
    } else {
        let named = c.ident();
        if c.eat("authorization") {
            let _ = c.ident();
        }
        named
    };
    let Some((name, tok)) = named else {
        return;
    };
    out.push(SchemaChange::CreateSchema {
        name: name.clone(),
        location: r.loc(src.abs(tok.start)),
    });
    // Schema elements: `CREATE SCHEMA s CREATE TABLE t (…) CREATE VIEW …`.
    let rest = c.rest();
    let mut from = 0;
    while let Some(start) = find_word(&src, rest, from, &["create", "grant"]) {
        let end = find_word(&src, rest, start + 1, &["create", "grant"]).unwrap_or(rest.len());
        let mut element = Cursor::new(src, rest.get(start..end).unwrap_or(&[]));
        if element.eat("create")
            && (element.eat("table") || element.eat_seq(&["unlogged", "table"]))
        {
            create_table(r, &mut element, Some(&name), out);
        }
        from = end;
    }
}

fn create_type(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let src = c.src;
    let Some((name, tok)) = c.qualified() else {
        return;
    };
    // Base, shell, composite and range types hold no enum values.
    if !c.eat_seq(&["as", "enum"]) {
        return;
    }
    let what = format!("CREATE TYPE {name} AS ENUM");
    let Some((list, _)) = c.group() else {
        let u = unread(c, "`(` and the enum's values");
        warn_unread(r, c, &what, &u, "the statement was skipped");
        return;
    };
    let mut values = Vec::new();
    for part in split_commas(list) {
        let mut p = Cursor::new(src, part);
        match p.string() {
            Some((value, _)) if p.at_end() => values.push(value.into_owned()),
            _ => {
                let u = unread(&p, "a string constant (an enum value)");
                warn_unread(r, &p, &what, &u, "the statement was skipped");
                return;
            }
        }
    }
    out.push(SchemaChange::CreateEnum {
        name,
        values,
        location: r.loc(src.abs(tok.start)),
    });
}

fn alter_type(r: &mut StatementReader<'_>, c: &mut Cursor<'_, '_>, out: &mut Vec<SchemaChange>) {
    let src = c.src;
    let Some((name, tok)) = c.qualified() else {
        return;
    };
    if c.eat_seq(&["add", "value"]) {
        let what = format!("ALTER TYPE {name} ADD VALUE");
        c.eat_seq(&["if", "not", "exists"]);
        let Some((value, value_tok)) = c.string() else {
            let u = unread(c, "the new value as a string constant");
            warn_unread(r, c, &what, &u, "the statement was skipped");
            return;
        };
        let before = if c.eat("before") {
            Some(true)
        } else if c.eat("after") {
            Some(false)
        } else {
            None
        };
        let position = match before {
            Some(before) => match c.string() {
                Some((neighbour, _)) => Some((before, neighbour.into_owned())),
                None => {
                    let u = unread(c, "an existing value as a string constant");
                    warn_unread(r, c, &what, &u, "the statement was skipped");
                    return;
                }
            },
            None => None,
        };
        out.push(SchemaChange::AddEnumValue {
            name,
            value: value.into_owned(),
            position,
            location: r.loc(src.abs(value_tok.start)),
        });
    } else if c.eat_seq(&["rename", "value"]) {
        let renamed = c.string().and_then(|(value, value_tok)| {
            if !c.eat("to") {
                return None;
            }
            let (new_value, _) = c.string()?;
            Some((value.into_owned(), value_tok, new_value.into_owned()))
        });
        match renamed {
            Some((value, value_tok, new_value)) => out.push(SchemaChange::RenameEnumValue {
                name,
                value,
                new_value,
                location: r.loc(src.abs(value_tok.start)),
            }),
            None => {
                let u = unread(c, "`'old' TO 'new'`");
                let what = format!("ALTER TYPE {name} RENAME VALUE");
                warn_unread(r, c, &what, &u, "the statement was skipped");
            }
        }
    } else if c.eat_seq(&["rename", "to"])
        && let Some((new_name, _)) = c.ident()
    {
        out.push(SchemaChange::RenameType {
            name,
            new_name,
            location: r.loc(src.abs(tok.start)),
        });
    } else if c.eat_seq(&["set", "schema"])
        && let Some((new_schema, _)) = c.ident()
    {
        out.push(SchemaChange::SetTypeSchema {
            name,
            new_schema,
            location: r.loc(src.abs(tok.start)),
        });
    }
}

/// PostgreSQL's default `search_path`.
fn default_search_path() -> Vec<String> {
    vec!["$user".to_string(), "public".to_string()]
}

/// `SET [SESSION|LOCAL] search_path {TO|=} …` and `SET SCHEMA 'x'`; other settings: nothing.
fn set(
    r: &mut StatementReader<'_>,
    c: &mut Cursor<'_, '_>,
    in_plpgsql: bool,
    out: &mut Vec<SchemaChange>,
) {
    let Some(set_tok) = c.bump() else {
        return;
    };
    let local = !c.eat("session") && c.eat("local");
    let schemas = if c.eat("search_path") {
        if !(c.eat("to") || c.eat_op("=")) {
            return;
        }
        let mut schemas = Vec::new();
        for part in split_commas(c.rest()) {
            let &[tok] = part else {
                return;
            };
            if c.src.is_word(tok, "default") {
                schemas = default_search_path();
                break;
            }
            if tok.is_string() {
                let value = super::lexer::string_value(c.src.text, tok);
                schemas.push(value.into_owned());
            } else if let Some((name, _)) = Cursor::new(c.src, part).ident() {
                schemas.push(name);
            } else {
                return;
            }
        }
        schemas
    } else if c.eat("schema") {
        match c.string() {
            Some((schema, _)) => vec![schema.into_owned()],
            None => return,
        }
    } else {
        return;
    };
    let location = r.loc(c.src.abs(set_tok.start));
    set_search_path(r, schemas, local, in_plpgsql, location, out);
}

fn select(
    r: &mut StatementReader<'_>,
    c: &mut Cursor<'_, '_>,
    in_plpgsql: bool,
    out: &mut Vec<SchemaChange>,
) {
    let Some(select_tok) = c.bump() else {
        return;
    };
    if let Some((schemas, local)) = set_config_call(c) {
        let location = r.loc(c.src.abs(select_tok.start));
        set_search_path(r, schemas, local, in_plpgsql, location, out);
        return;
    }
    if in_plpgsql {
        return;
    }
    // `SELECT … INTO new_table FROM …` creates a table from a query.
    let rest = c.rest();
    let Some(into) = find_word(&c.src, rest, 0, &["into"]) else {
        return;
    };
    let mut t = Cursor::new(c.src, rest.get(into + 1..).unwrap_or(&[]));
    let mut temp = false;
    loop {
        if t.eat("temp") || t.eat("temporary") {
            temp = true;
        } else if !(t.eat("unlogged") || t.eat("table")) {
            break;
        }
    }
    if temp {
        return;
    }
    if let Some((table, tok)) = t.qualified() {
        r.warn(
            c.src.abs(tok.start),
            format!(
                "SELECT … INTO creates table {table} from a query, whose columns driftguard cannot see; the statement was skipped — create the table with a column list to have it checked"
            ),
        );
    }
}

/// `[pg_catalog.]set_config('search_path', 'a, b', is_local)` at the cursor → the schemas, and
/// whether `is_local` is `true`.
pub(super) fn set_config_call(c: &mut Cursor<'_, '_>) -> Option<(Vec<String>, bool)> {
    if c.is("pg_catalog") && c.nth(1).is_some_and(|t| t.kind == Kind::Dot) {
        c.bump();
        c.bump();
    }
    if !c.eat("set_config") {
        return None;
    }
    let (args, _) = c.group()?;
    let mut args = split_commas(args);
    let (setting, _) = Cursor::new(c.src, args.next()?).string()?;
    if !setting.trim().eq_ignore_ascii_case("search_path") {
        return None;
    }
    let (value, _) = Cursor::new(c.src, args.next()?).string()?;
    let local = args
        .next()
        .is_some_and(|a| matches!(a, [t] if c.src.is_word(*t, "true")));
    Some((parse_search_path(&value), local))
}

/// A `search_path` value as `set_config` takes it: `a, "B", public` → `[a, B, public]`.
pub(super) fn parse_search_path(value: &str) -> Vec<String> {
    let mut schemas = Vec::new();
    let mut current = String::new();
    let mut quoted_part = false;
    let mut chars = value.chars().peekable();
    let mut in_quotes = false;
    while let Some(ch) = chars.next() {
        match ch {
            '"' if in_quotes => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    current.push('"');
                } else {
                    in_quotes = false;
                }
            }
            '"' => {
                in_quotes = true;
                quoted_part = true;
            }
            ',' if !in_quotes => {
                push_schema(&mut schemas, &current, quoted_part);
                current.clear();
                quoted_part = false;
            }
            c if in_quotes => current.push(c),
            c if c.is_whitespace() => {}
            c => current.push(c.to_ascii_lowercase()),
        }
    }
    push_schema(&mut schemas, &current, quoted_part);
    schemas
}

fn push_schema(schemas: &mut Vec<String>, name: &str, quoted: bool) {
    if quoted || !name.is_empty() {
        schemas.push(name.to_string());
    }
}
