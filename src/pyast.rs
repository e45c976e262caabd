//! Python source → a small, plain syntax tree.
//!
//! This is the one place that knows tree-sitter-python's node kinds. It walks the concrete
//! syntax tree once and keeps what the model extractor and the Alembic reader need: imports,
//! classes (bases, keywords, decorators, body), functions, assignments with annotations,
//! expression statements, and the bodies of `if`/`try`/`with`/`for` blocks. Expressions become
//! [`Expr`] values — names, literals, f-strings, calls with keyword arguments and splats,
//! subscripts, comprehensions, comparisons — and everything else is [`Expr::Other`]. Functions
//! keep their parameters, so the evaluator ([`crate::pyeval`]) can call a project's helpers.
//! Nothing outside this module sees a tree-sitter type, and the result is plain data that can
//! be cached by blob id.
//!
//! Syntax errors never stop the walk: tree-sitter recovers, the statements it could still read
//! are kept, and the first error is returned in [`PyModule::syntax_error`] for the caller to
//! report as a warning. An unclosed bracket is the one error tree-sitter cannot recover from
//! (Python joins every later line into the bracket): [`repair`] closes it where its statement
//! ends, so the classes and columns after it are still read. What is still broken after that
//! is read one top-level chunk (a `class`, `def` or import line at column 0 to the next) at a
//! time, so one broken class does not hide the others.
//!
//! Hostile input must not crash the walk: it recurses, so expressions and blocks nested more
//! than [`MAX_NESTING`] levels deep (CPython itself stops at 200 parentheses; real models nest
//! a handful) are cut off as [`Expr::Other`] / [`Stmt::Other`], and the first place is
//! returned in [`PyModule::too_deep`]. Every later walk over [`Expr`] and [`Stmt`] (the model
//! extractor, the Alembic evaluator, serde, `Drop`) is bounded by that too.
//!
//! A lone `\r` ends a line for Python (old Mac files) but not for tree-sitter-python: it is read
//! as `\n` — the same length, so offsets, rows and columns are the file's.

mod indent;
mod repair;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::source::{Location, SourceFile};

/// The Python grammar's field ids, and the one node kind id the comment walk compares, looked
/// up once per process: `child_by_field_name` compares the name with the grammar's field names
/// one by one on every call, and `kind()` makes a `&str` of a node's kind each time (both were
/// ~10% of reading a model file).
#[derive(Debug)]
struct Grammar {
    alias: u16,
    alternative: u16,
    argument: u16,
    arguments: u16,
    attribute: u16,
    body: u16,
    condition: u16,
    definition: u16,
    expression: u16,
    format_specifier: u16,
    function: u16,
    key: u16,
    left: u16,
    module_name: u16,
    name: u16,
    object: u16,
    operator: u16,
    parameters: u16,
    return_type: u16,
    right: u16,
    superclasses: u16,
    type_: u16,
    type_conversion: u16,
    value: u16,
    consequence: u16,
    comment: u16,
}

static GRAMMAR: std::sync::LazyLock<Grammar> = std::sync::LazyLock::new(|| {
    let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
    // 0 is no field: `child_by_field_id(0)` finds no child, as an unknown name would.
    let id = |name: &str| language.field_id_for_name(name).map_or(0, |id| id.get());
    Grammar {
        alias: id("alias"),
        alternative: id("alternative"),
        argument: id("argument"),
        arguments: id("arguments"),
        attribute: id("attribute"),
        body: id("body"),
        condition: id("condition"),
        definition: id("definition"),
        expression: id("expression"),
        format_specifier: id("format_specifier"),
        function: id("function"),
        key: id("key"),
        left: id("left"),
        module_name: id("module_name"),
        name: id("name"),
        object: id("object"),
        operator: id("operator"),
        parameters: id("parameters"),
        return_type: id("return_type"),
        right: id("right"),
        superclasses: id("superclasses"),
        type_: id("type"),
        type_conversion: id("type_conversion"),
        value: id("value"),
        consequence: id("consequence"),
        comment: language.id_for_node_kind("comment", true),
    }
});

/// A Python expression, reduced to what static reading of models and migrations needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Expr {
    /// An identifier or a dotted attribute chain of identifiers: `sa.Column`, `db.Model`.
    Name(String),
    /// A string literal (adjacent literals joined, escapes decoded). f-strings with
    /// interpolations are [`Expr::Other`].
    Str(String),
    Int(i64),
    /// A float literal, as written.
    Float(String),
    Bool(bool),
    None,
    Call(Box<Call>),
    /// `value[index]`; a tuple index becomes several entries: `Annotated[int, x]` → 2.
    Subscript {
        value: Box<Expr>,
        index: Vec<Expr>,
    },
    /// An attribute of something that is not a plain name: `f().x`, `Status.ACTIVE.value`
    /// where `Status.ACTIVE` is a name is still [`Expr::Name`].
    Attribute {
        value: Box<Expr>,
        attr: String,
    },
    /// A list, tuple or set display.
    List(Vec<Expr>),
    Dict(Vec<(Expr, Expr)>),
    /// A binary operator: `str | None`, `"a" + "b"`.
    BinOp {
        op: String,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `lambda …: body`.
    Lambda(Box<Expr>),
    /// An f-string with interpolations: its literal parts and `{…}` parts in order (an
    /// f-string without any is an [`Expr::Str`]).
    FString(Vec<FStringPart>),
    /// `[e for x in xs if c]`, `(e for …)`, `{e for …}`, `{k: v for …}`.
    Comprehension(Box<Comprehension>),
    /// `*x` in a list or tuple display; `**x` in a dict display, where it is the pair
    /// `(Splat { double: true, .. }, Expr::None)`. (In a call they are [`Call::star_args`] and
    /// [`Call::kw_splats`].)
    Splat {
        double: bool,
        value: Box<Expr>,
    },
    /// `a == b`, `x not in y`, `a < b < c`: the operators and the operands after the first.
    Compare {
        left: Box<Expr>,
        ops: Vec<String>,
        rights: Vec<Expr>,
    },
    /// `body if test else orelse`.
    IfElse {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    /// `not x`.
    Not(Box<Expr>),
    /// `start:stop:step` inside a subscript; each part may be left out.
    Slice {
        start: Option<Box<Expr>>,
        stop: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    /// Anything else, with its source text.
    Other(String),
}

/// A part of an f-string.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum FStringPart {
    /// Literal text (escapes decoded, `{{` as `{`).
    Text(String),
    /// `{value!r:spec}`.
    Value {
        value: Expr,
        /// `r`, `s` or `a` after `!`.
        conversion: Option<char>,
        /// The format spec after `:`, when it has no interpolation of its own.
        spec: Option<String>,
    },
}

/// What kind of display a comprehension builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ComprehensionKind {
    List,
    Set,
    Generator,
    Dict,
}

/// A comprehension: `element` (the key, for a dict) for each iteration of `clauses`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comprehension {
    pub kind: ComprehensionKind,
    pub element: Expr,
    /// The value of a dict comprehension.
    pub value: Option<Expr>,
    pub clauses: Vec<ComprehensionClause>,
}

/// `for target in iter if cond …` inside a comprehension.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComprehensionClause {
    /// A name, or an [`Expr::List`] of names for `for k, v in …`.
    pub target: Expr,
    pub iter: Expr,
    pub conditions: Vec<Expr>,
}

/// A call: `mapped_column(String(20), nullable=False)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Call {
    pub func: Expr,
    pub args: Vec<Expr>,
    pub kwargs: Vec<(String, Expr)>,
    /// `*args` / `**kwargs` were passed: the argument list is not fully known.
    pub has_splat: bool,
    /// `*x` arguments, each with the number of positional arguments written before it.
    #[serde(default)]
    pub star_args: Vec<(usize, Expr)>,
    /// `**x` arguments.
    #[serde(default)]
    pub kw_splats: Vec<Expr>,
    pub location: Location,
}

impl Call {
    /// The value of keyword argument `name`.
    pub fn kwarg(&self, name: &str) -> Option<&Expr> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The dotted name of the called function, if it is a plain name (`sa.Column`).
    pub fn func_name(&self) -> Option<&str> {
        self.func.as_name()
    }
}

impl Expr {
    /// The dotted name, for [`Expr::Name`].
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Expr::Name(name) => Some(name),
            _ => None,
        }
    }

    /// The last segment of a dotted name: `sa.Column` → `Column`.
    pub fn last_name(&self) -> Option<&str> {
        self.as_name()
            .map(|name| name.rsplit('.').next().unwrap_or(name))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_call(&self) -> Option<&Call> {
        match self {
            Expr::Call(call) => Some(call),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Expr::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Expr::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// `import a.b as c` / `from .x import y as z` / `from m import *`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Import {
    /// For `from` imports, the module with its leading dots (`..models`); `None` for `import`.
    pub from: Option<String>,
    /// Imported names with their aliases. For `import a.b`, the name is `a.b`.
    pub names: Vec<(String, Option<String>)>,
    /// `from m import *`.
    pub star: bool,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassDef {
    pub name: String,
    pub bases: Vec<Expr>,
    /// `class X(SQLModel, table=True)` → `[("table", Bool(true))]`.
    pub keywords: Vec<(String, Expr)>,
    pub decorators: Vec<Expr>,
    pub body: Vec<Stmt>,
    /// The `class` keyword (or the first decorator? no: the `class` line).
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FunctionDef {
    pub name: String,
    pub decorators: Vec<Expr>,
    /// The parameters in order (`self`/`cls` included).
    #[serde(default)]
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    /// The return annotation (`-> Mapped[int]`), if any.
    pub returns: Option<Expr>,
    pub location: Location,
}

/// A function parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    pub default: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ParamKind {
    /// Positional or keyword (also positional-only).
    Plain,
    /// `*args`.
    VarArgs,
    /// After `*` or `*args`: keyword only.
    KeywordOnly,
    /// `**kwargs`.
    VarKeywords,
}

/// What kind of compound statement a [`Stmt::Block`] came from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, Eq)]
pub enum BlockKind {
    If,
    /// An `elif` clause: it follows its `if` (or another `elif`) in the statement list.
    Elif,
    /// The `else` of an `if`, `for`, `while` or `try`: it follows the block it belongs to.
    Else,
    Try,
    Except,
    Finally,
    With,
    For,
    While,
    Match,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Stmt {
    Class(ClassDef),
    Function(FunctionDef),
    /// `a = b`, `a: T = b`, `a: T`, `a = b = c` (two targets).
    Assign {
        targets: Vec<Expr>,
        annotation: Option<Expr>,
        value: Option<Expr>,
        location: Location,
    },
    Expr {
        value: Expr,
        location: Location,
    },
    Import(Import),
    /// The body of a compound statement. `with` items keep their `as` names.
    Block {
        kind: BlockKind,
        /// For `with`: the context expressions and their `as` targets; for `if`/`while`: the
        /// condition (no target); for `for`: the iterable and the target's source text.
        items: Vec<(Expr, Option<String>)>,
        body: Vec<Stmt>,
        location: Location,
    },
    Return {
        value: Option<Expr>,
        location: Location,
    },
    /// `x += value` (any augmented operator; `op` without the `=`).
    AugAssign {
        target: Expr,
        op: String,
        value: Expr,
        location: Location,
    },
    /// `raise`, `break` or `continue`.
    Jump(Jump),
    /// Any other simple statement (`pass`, `del`, `global`, …).
    Other,
}

/// A statement that leaves the normal flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Jump {
    Raise,
    Break,
    Continue,
}

impl Stmt {
    pub fn location(&self) -> Option<&Location> {
        match self {
            Stmt::Class(c) => Some(&c.location),
            Stmt::Function(f) => Some(&f.location),
            Stmt::Assign { location, .. }
            | Stmt::Expr { location, .. }
            | Stmt::Block { location, .. }
            | Stmt::Return { location, .. }
            | Stmt::AugAssign { location, .. } => Some(location),
            Stmt::Import(i) => Some(&i.location),
            Stmt::Jump(_) | Stmt::Other => None,
        }
    }
}

/// A `#` comment: its place and text (with the `#`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comment {
    pub line: u32,
    pub column: u32,
    pub text: String,
}

/// A parsed Python file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Default)]
pub struct PyModule {
    pub body: Vec<Stmt>,
    pub comments: Vec<Comment>,
    /// The first syntax error, if the file has any.
    pub syntax_error: Option<SyntaxError>,
    /// The first place where expressions or blocks nest more than [`MAX_NESTING`] levels deep
    /// (what is inside was not read).
    pub too_deep: Option<Location>,
}

/// Where a file stops being Python, as precisely as can be told.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyntaxError {
    pub location: Location,
    /// What is wrong, when it is known: "`(` is never closed".
    pub detail: Option<String>,
}

impl SyntaxError {
    /// `Python syntax error` or `Python syntax error: `(` is never closed`.
    pub fn describe(&self) -> String {
        match &self.detail {
            Some(detail) => format!("Python syntax error: {detail}"),
            None => "Python syntax error".to_string(),
        }
    }
}

/// How deep expressions and statements may nest before the walk stops descending.
pub const MAX_NESTING: u32 = 100;

/// The warning for [`PyModule::too_deep`].
pub fn too_deep_message() -> String {
    format!(
        "expressions or blocks nest more than {MAX_NESTING} levels deep here; driftguard did not read inside them, the rest of the file is still checked"
    )
}

impl PyModule {
    /// Every import statement anywhere at module level (also inside `if TYPE_CHECKING:` and
    /// `try:` blocks).
    pub fn imports(&self) -> Vec<&Import> {
        let mut out = Vec::new();
        collect_imports(&self.body, &mut out);
        out
    }
}

fn collect_imports<'a>(body: &'a [Stmt], out: &mut Vec<&'a Import>) {
    for stmt in body {
        match stmt {
            Stmt::Import(import) => out.push(import),
            Stmt::Block { body, .. } => collect_imports(body, out),
            _ => {}
        }
    }
}

/// Parses a Python file. Never fails: a file tree-sitter cannot parse at all yields an empty
/// module with one syntax error at its start.
pub fn parse(file: &SourceFile) -> PyModule {
    let text = python_line_breaks(&file.text);
    match in_pieces(file, &text) {
        Some(module) => module,
        None => parse_whole(file, &text),
    }
}

/// Files from this many bytes are parsed in pieces ([`in_pieces`]) …
const PIECES_FROM: usize = 8 * 1024;
/// … of at least about this many bytes each.
const PIECE_BYTES: usize = 4 * 1024;

/// A large file parsed in pieces side by side on the thread pool, each piece a run of
/// top-level statements: the model file a change edits is parsed while the check waits for it
/// (tree-sitter took ~2.3 of a 50-model backend's ~8 ms for a 234-line file), and parsing is
/// most of what is left of a small backend's new edit.
///
/// `None` when the file is small, or when any piece has a syntax error or an unindent that
/// matches no level: the whole file is then parsed as one. A piece is cut only before a line
/// that starts at column 0 with `class`, `def`, `@`, `import` or `from` (not just after a
/// decorator), so the pieces' statements are the file's: a cut inside a string, a bracket, a
/// continued line or a decorated definition leaves the piece before it unfinished, which is a
/// syntax error there. Each piece is parsed over the whole text with only its byte range
/// included, so rows, columns and byte offsets are the file's.
fn in_pieces(file: &SourceFile, text: &str) -> Option<PyModule> {
    if text.len() < PIECES_FROM {
        return None;
    }
    let count = rayon::current_num_threads().min(text.len() / PIECE_BYTES);
    parse_pieces(file, text, piece_ranges(text, count))
}

/// A piece's statements, comments and first place nested too deep.
type Piece = (Vec<Stmt>, Vec<Comment>, Option<Location>);

/// [`in_pieces`] over the given ranges of `text`.
fn parse_pieces(
    file: &SourceFile,
    text: &str,
    ranges: Vec<tree_sitter::Range>,
) -> Option<PyModule> {
    use rayon::prelude::*;
    if ranges.len() < 2 {
        return None;
    }
    let pieces: Vec<Option<Piece>> = ranges
        .into_par_iter()
        .map(|range| parse_range(&mut python_parser()?, file, text, range))
        .collect();
    let mut module = PyModule::default();
    for piece in pieces {
        let (body, comments, too_deep) = piece?;
        module.body.extend(body);
        module.comments.extend(comments);
        if module.too_deep.is_none() {
            module.too_deep = too_deep;
        }
    }
    Some(module)
}

/// From this many pieces (kept pieces read back, a file's classes extracted) the work is
/// split between the pool's threads: one edited model file of 25 classes is the parse a
/// pre-commit check waits for, and the thread that waits takes a share
/// ([`crate::project::take_early`]). Fewer are not worth a split.
pub const PARALLEL_FROM: usize = 8;

/// A parser of Python.
fn python_parser() -> Option<tree_sitter::Parser> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()?;
    Some(parser)
}

/// The piece of `text` in `range` ([`in_pieces`]), parsed over the whole text with only that
/// range included; `None` when it has a syntax error or an unindent that matches no level.
fn parse_range(
    parser: &mut tree_sitter::Parser,
    file: &SourceFile,
    text: &str,
    range: tree_sitter::Range,
) -> Option<Piece> {
    parser.set_included_ranges(&[range]).ok()?;
    let tree = parser.parse(text, None)?;
    let root = tree.root_node();
    if root.has_error() || indent::check(root, text).is_some() {
        return None;
    }
    let walker = Walker::new(file, text);
    let comments = walker.comments(root);
    let body = walker.block(root);
    Some((body, comments, walker.too_deep.into_inner()))
}

/// Files from this many bytes are parsed by [`parse_reusing`] piece by piece; smaller ones
/// parse in less time than keeping their pieces takes.
const REUSE_FROM: usize = 2 * 1024;

/// Whether [`parse_reusing`] parses `text` piece by piece (from [`REUSE_FROM`] bytes).
pub fn reuses_pieces(text: &str) -> bool {
    text.len() >= REUSE_FROM
}

/// [`parse`], reusing what an earlier parse of (nearly always) another version of the file
/// kept: the text is cut where [`in_pieces`] may cut it, before every top-level `class`,
/// `def`, decorator or import line; a piece whose text an earlier parse kept (`previous`, the
/// bytes this function returned then) is read back, its lines moved to where it stands now,
/// and only the other pieces are parsed. A pre-commit check parses the model file an edit
/// changed while the check waits for it: one new column re-parses one class, not the file.
///
/// A piece that does not parse alone is read with the pieces after it ([`merged_piece`]).
/// Returns the module and what to keep for the next parse (`None`: nothing new to keep — a
/// small file, a lone `\r` line break, or a syntax error no run of pieces gets past, for
/// which the whole file is parsed as [`parse`] parses it). The result is always [`parse`]'s.
pub fn parse_reusing(file: &SourceFile, previous: Option<&[u8]>) -> (PyModule, Option<Vec<u8>>) {
    let (module, keep, _) = parse_reusing_counted(file, previous);
    (module, keep)
}

/// [`parse_reusing`], and how many pieces it parsed (`None`: it parsed the whole file).
fn parse_reusing_counted(
    file: &SourceFile,
    previous: Option<&[u8]>,
) -> (PyModule, Option<Vec<u8>>, Option<usize>) {
    use rayon::prelude::*;
    let text = python_line_breaks(&file.text);
    if matches!(text, Cow::Owned(_)) || !reuses_pieces(&text) {
        return (parse(file), None, None);
    }
    let ranges = piece_ranges(&text, usize::MAX);
    let kept = previous.and_then(kept_pieces).unwrap_or_default();
    let path = file.shared_path();
    let digests: Vec<[u8; 16]> = ranges.iter().map(|r| piece_digest(&text, r)).collect();
    // Nothing to parse makes no parser (`map_init` makes one for each share of the work, even
    // an empty one; nearly always no kept piece fails to read back).
    let parse_each = |pieces: &[usize]| -> Vec<Option<(usize, Piece, Vec<u8>)>> {
        if pieces.is_empty() {
            return Vec::new();
        }
        pieces
            .par_iter()
            .map_init(python_parser, |parser, &i| {
                let range = *ranges.get(i)?;
                let piece = parse_range(parser.as_mut()?, file, &text, range)?;
                let bytes = encode_piece(&piece, path, range.start_point.row)?;
                Some((i, piece, bytes))
            })
            .collect()
    };
    let read_back = |(range, digest): (&tree_sitter::Range, &[u8; 16])| {
        let bytes = *kept.get(digest)?;
        let piece = decode_piece(bytes, path, range.start_point.row)?;
        Some((piece, bytes))
    };
    // The kept pieces are read back while the new ones parse, and split between threads when
    // they are many: a thread waiting for this parse takes a share ([`PARALLEL_FROM`]).
    let new: Vec<usize> = (0..ranges.len())
        .filter(|&i| !kept.contains_key(&digests[i]))
        .collect();
    let (mut fresh, reused) = rayon::join(
        || parse_each(&new),
        || -> Vec<Option<(Piece, &[u8])>> {
            if ranges.len() - new.len() >= PARALLEL_FROM {
                ranges.par_iter().zip(&digests).map(read_back).collect()
            } else {
                ranges.iter().zip(&digests).map(read_back).collect()
            }
        },
    );
    // A kept piece that does not read back is parsed too.
    let unread: Vec<usize> = (0..ranges.len())
        .filter(|&i| reused[i].is_none() && kept.contains_key(&digests[i]))
        .collect();
    fresh.extend(parse_each(&unread));
    let missing = new.len() + unread.len();
    let mut pieces: Vec<Option<(Piece, Cow<[u8]>)>> = reused
        .into_iter()
        .map(|r| r.map(|(piece, bytes)| (piece, Cow::Borrowed(bytes))))
        .collect();
    for (i, piece, bytes) in fresh.into_iter().flatten() {
        if let Some(slot) = pieces.get_mut(i) {
            *slot = Some((piece, Cow::Owned(bytes)));
        }
    }
    let mut parsed = missing;
    let mut module = PyModule::default();
    let mut keep: Vec<([u8; 16], Cow<[u8]>)> = Vec::with_capacity(pieces.len());
    let mut parser = None;
    let mut i = 0;
    while i < pieces.len() {
        let (piece, bytes, digest, next) = match pieces.get_mut(i).and_then(Option::take) {
            Some((piece, bytes)) => (piece, bytes, digests[i], i + 1),
            // A piece that does not parse alone (a cut inside a string or brackets, a
            // decorator cut from its definition): it is read together with the pieces after
            // it, one, two, four … of them, until the run parses.
            None => {
                let parser = parser.get_or_insert_with(python_parser);
                match merged_piece(file, &text, &ranges, i, &kept, parser.as_mut()) {
                    Some(run) => {
                        parsed += usize::from(run.parsed);
                        (run.piece, run.bytes, run.digest, run.next)
                    }
                    None => return (parse(file), None, None),
                }
            }
        };
        let (body, comments, too_deep) = piece;
        module.body.extend(body);
        module.comments.extend(comments);
        if module.too_deep.is_none() {
            module.too_deep = too_deep;
        }
        keep.push((digest, bytes));
        i = next;
    }
    (module, encode_kept_pieces(&keep), Some(parsed))
}

/// The digest of the text of a piece (or run of pieces) in `range`: what its kept syntax is
/// found by.
fn piece_digest(text: &str, range: &tree_sitter::Range) -> [u8; 16] {
    crate::cache::digest([text
        .as_bytes()
        .get(range.start_byte..range.end_byte)
        .unwrap_or(&[])])
}

/// A run of pieces [`parse_reusing`] reads as one ([`merged_piece`]).
struct Run<'k> {
    /// Its syntax, kept or parsed.
    piece: Piece,
    /// What is kept of it, and the digest of its text.
    bytes: Cow<'k, [u8]>,
    digest: [u8; 16],
    /// The piece after the run.
    next: usize,
    /// Whether it was parsed (not read back).
    parsed: bool,
}

/// The run of pieces from `first` that [`parse_reusing`] reads as one when piece `first`
/// does not parse alone. The run takes one, two, four … more pieces until it parses; `None`
/// once it would pass half the text (a syntax error: the file is parsed whole).
fn merged_piece<'k>(
    file: &SourceFile,
    text: &str,
    ranges: &[tree_sitter::Range],
    first: usize,
    kept: &HashMap<[u8; 16], &'k [u8]>,
    mut parser: Option<&mut tree_sitter::Parser>,
) -> Option<Run<'k>> {
    let start = *ranges.get(first)?;
    let (mut more, mut tried) = (1, first);
    loop {
        let last = (first + more).min(ranges.len().saturating_sub(1));
        let end = ranges.get(last)?;
        if last == tried || end.end_byte - start.start_byte > text.len() / 2 {
            return None;
        }
        tried = last;
        let range = tree_sitter::Range {
            start_byte: start.start_byte,
            end_byte: end.end_byte,
            start_point: start.start_point,
            end_point: end.end_point,
        };
        let digest = piece_digest(text, &range);
        let row = range.start_point.row;
        if let Some(bytes) = kept.get(&digest)
            && let Some(piece) = decode_piece(bytes, file.shared_path(), row)
        {
            return Some(Run {
                piece,
                bytes: Cow::Borrowed(*bytes),
                digest,
                next: last + 1,
                parsed: false,
            });
        }
        if let Some(piece) = parse_range(parser.as_deref_mut()?, file, text, range) {
            let bytes = encode_piece(&piece, file.shared_path(), row)?;
            return Some(Run {
                piece,
                bytes: Cow::Owned(bytes),
                digest,
                next: last + 1,
                parsed: true,
            });
        }
        more *= 2;
    }
}

/// A piece's syntax as [`parse_reusing`] keeps it: its statements, comments and first place
/// nested too deep, every line counted from the piece's first row and no path written
/// ([`crate::source::with_piece_lines`]).
fn encode_piece(piece: &Piece, path: &std::sync::Arc<str>, row: usize) -> Option<Vec<u8>> {
    use crate::source::{Direction, with_piece_lines};
    let base = u32::try_from(row).ok()?;
    let (body, comments, too_deep) = piece;
    let comments: Vec<(u32, u32, &str)> = comments
        .iter()
        .map(|c| Some((c.line.checked_sub(base)?, c.column, c.text.as_str())))
        .collect::<Option<_>>()?;
    with_piece_lines(Direction::Encode, path, base, || {
        postcard::to_allocvec(&(body, comments, too_deep)).ok()
    })
}

/// [`encode_piece`]'s bytes read back into a file at `path`, the piece's first row `row`.
fn decode_piece(bytes: &[u8], path: &std::sync::Arc<str>, row: usize) -> Option<Piece> {
    use crate::source::{Direction, with_piece_lines};
    let base = u32::try_from(row).ok()?;
    type Kept = (Vec<Stmt>, Vec<(u32, u32, String)>, Option<Location>);
    let (body, comments, too_deep) = with_piece_lines(Direction::Decode, path, base, || {
        postcard::from_bytes::<Kept>(bytes).ok()
    })?;
    let comments = comments
        .into_iter()
        .map(|(line, column, text)| {
            Some(Comment {
                line: line.checked_add(base)?,
                column,
                text,
            })
        })
        .collect::<Option<_>>()?;
    Some((body, comments, too_deep))
}

/// What [`parse_reusing`] keeps: the count of pieces (4 bytes), then for each its text's digest
/// (16 bytes) and the length of its syntax (4 bytes), then every piece's syntax
/// ([`encode_piece`]) one after another. Little endian. `None` past 4 GiB.
fn encode_kept_pieces(pieces: &[([u8; 16], Cow<[u8]>)]) -> Option<Vec<u8>> {
    let body: usize = pieces.iter().map(|(_, bytes)| bytes.len()).sum();
    let mut out = Vec::with_capacity(4 + pieces.len() * 20 + body);
    out.extend(u32::try_from(pieces.len()).ok()?.to_le_bytes());
    for (digest, bytes) in pieces {
        out.extend(digest);
        out.extend(u32::try_from(bytes.len()).ok()?.to_le_bytes());
    }
    for (_, bytes) in pieces {
        out.extend(bytes.iter());
    }
    Some(out)
}

/// [`encode_kept_pieces`]' bytes as each piece's syntax by its text's digest; `None` when they
/// are not whole.
fn kept_pieces(bytes: &[u8]) -> Option<HashMap<[u8; 16], &[u8]>> {
    let count = usize::try_from(u32::from_le_bytes(*bytes.first_chunk::<4>()?)).ok()?;
    let table = bytes.get(4..4 + count.checked_mul(20)?)?;
    let mut at = 4 + table.len();
    let mut out = HashMap::with_capacity(count);
    for entry in table.chunks_exact(20) {
        let digest = *entry.first_chunk::<16>()?;
        let len =
            usize::try_from(u32::from_le_bytes(*entry.get(16..)?.first_chunk::<4>()?)).ok()?;
        let end = at.checked_add(len)?;
        out.insert(digest, bytes.get(at..end)?);
        at = end;
    }
    (at == bytes.len()).then_some(out)
}

/// `text` cut into about `count` ranges of about equal length, each cut at the first line at
/// or past its share that may start a piece ([`in_pieces`]). One range: no cut was found.
fn piece_ranges(text: &str, count: usize) -> Vec<tree_sitter::Range> {
    let share = text.len() / count.max(1);
    let point = |row: usize, column: usize| tree_sitter::Point { row, column };
    // (`count` is `usize::MAX` for every cut: see [`parse_reusing`].)
    let mut ranges = Vec::with_capacity(count.min(64));
    let (mut start, mut start_row) = (0, 0);
    let (mut offset, mut row) = (0, 0);
    let mut after_decorator = false;
    for line in text.split_inclusive('\n') {
        let next_piece = share.saturating_mul(ranges.len() + 1);
        if offset >= next_piece
            && offset > start
            && ranges.len() + 1 < count
            && !after_decorator
            && TOP_LEVEL_STARTS.iter().any(|s| line.starts_with(s))
        {
            ranges.push(tree_sitter::Range {
                start_byte: start,
                end_byte: offset,
                start_point: point(start_row, 0),
                end_point: point(row, 0),
            });
            (start, start_row) = (offset, row);
        }
        after_decorator = line.starts_with('@');
        offset += line.len();
        row += 1;
    }
    let last_line = text.rsplit('\n').next().unwrap_or("");
    // A text that ends in a line break ends at column 0 of the row after it.
    let end_row = text.matches('\n').count();
    ranges.push(tree_sitter::Range {
        start_byte: start,
        end_byte: text.len(),
        start_point: point(start_row, 0),
        end_point: point(end_row, last_line.len()),
    });
    ranges
}

/// [`parse`] of the whole file at once (`text`: the file's text with Python's line breaks).
fn parse_whole(file: &SourceFile, text: &str) -> PyModule {
    let mut parser = tree_sitter::Parser::new();
    if parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .is_err()
    {
        return failed(file);
    }
    let Some(tree) = parser.parse(text, None) else {
        return failed(file);
    };
    let root = tree.root_node();
    let walker = Walker::new(file, text);
    let mut module = PyModule {
        comments: walker.comments(root),
        ..PyModule::default()
    };
    if !root.has_error() {
        if let Some(dedent) = indent::check(root, text) {
            // tree-sitter reads an unindent to no outer level without an error, and closes the
            // class there: the rest of its columns would be lost in silence.
            module.syntax_error = Some(SyntaxError {
                location: file.location_of_point(dedent.row, dedent.indent.len()),
                detail: Some("unindent does not match any outer indentation level".to_string()),
            });
            if let Some(tree) = parser.parse(&dedent.repaired, None)
                && !tree.root_node().has_error()
            {
                let mut fixed = Walker::new(file, &dedent.repaired);
                fixed.shifts = dedent.shifts;
                module.body = fixed.block(tree.root_node());
                module.too_deep = fixed.too_deep.into_inner();
                return module;
            }
        }
        module.body = walker.block(root);
        module.too_deep = walker.too_deep.into_inner();
        return module;
    }
    let error_at = first_error(root).map(|node| walker.loc(node));
    let Some(repaired) = repair::close_unclosed_brackets(text) else {
        module.syntax_error = error_at.map(|location| SyntaxError {
            location,
            detail: None,
        });
        module.body = read_chunks(&mut parser, file, text, &walker.too_deep);
        module.too_deep = walker.too_deep.into_inner();
        return module;
    };
    let (offset, bracket) = repaired.first_unclosed;
    let unclosed = SyntaxError {
        location: file.location(offset),
        detail: Some(format!("`{bracket}` is never closed")),
    };
    let Some(tree) = parser.parse(&repaired.text, None) else {
        module.syntax_error = Some(unclosed);
        return module;
    };
    let root = tree.root_node();
    let fixed = Walker::new(file, &repaired.text);
    let still_broken = first_error(root).map(|node| fixed.loc(node));
    module.syntax_error = Some(match still_broken {
        // Something else is broken before the bracket: that is the first error.
        Some(location) if location < unclosed.location => SyntaxError {
            location,
            detail: None,
        },
        _ => unclosed,
    });
    module.body = if root.has_error() {
        read_chunks(&mut parser, file, &repaired.text, &fixed.too_deep)
    } else {
        fixed.block(root)
    };
    module.too_deep = fixed.too_deep.into_inner();
    module
}

/// Python's line breaks for tree-sitter: a lone `\r` becomes `\n` (`\r\n` stays).
fn python_line_breaks(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone_cr = |i: usize| bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(lone_cr) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (i, _) in text.match_indices('\r') {
        if lone_cr(i) {
            out.push_str(text.get(from..i).unwrap_or(""));
            out.push('\n');
            from = i + 1;
        }
    }
    out.push_str(text.get(from..).unwrap_or(""));
    Cow::Owned(out)
}

/// The node where the first syntax error is: follow the first child that is or holds an error
/// down to a `MISSING` node or an innermost `ERROR`, and there to its first child that is not a
/// whole statement (an `ERROR` often starts with statements it could still read). Iterative:
/// trees can be deep.
fn first_error(root: Node<'_>) -> Option<Node<'_>> {
    if !root.has_error() {
        return None;
    }
    let mut node = root;
    'descend: loop {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.is_missing() {
                return Some(child);
            }
            if child.has_error() {
                node = child;
                continue 'descend;
            }
        }
        break;
    }
    if node.is_error() {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            let kind = child.kind();
            let whole =
                kind.ends_with("_statement") || kind.ends_with("_definition") || kind == "comment";
            if !whole {
                return Some(child);
            }
        }
    }
    Some(node)
}

/// Reads a file that does not parse one top-level chunk at a time (from one `class`/`def`/
/// decorator/import line to the next), so that one broken class does not hide the others.
/// Each chunk is parsed with the lines before it blanked, so rows and columns stay those of
/// the file.
fn read_chunks(
    parser: &mut tree_sitter::Parser,
    file: &SourceFile,
    text: &str,
    too_deep: &RefCell<Option<Location>>,
) -> Vec<Stmt> {
    let mut body = Vec::new();
    for (start, end) in top_level_chunks(text) {
        let rows_before = text.get(..start).unwrap_or("").matches('\n').count();
        let mut chunk = "\n".repeat(rows_before);
        chunk.push_str(text.get(start..end).unwrap_or(""));
        let Some(tree) = parser.parse(&chunk, None) else {
            continue;
        };
        let walker = Walker::new(file, &chunk);
        body.extend(walker.block(tree.root_node()));
        if let Some(at) = walker.too_deep.into_inner() {
            too_deep.borrow_mut().get_or_insert(at);
        }
    }
    body
}

/// Parses the text of one Python expression (a quoted annotation: `"Mapped[int]"`). `None` when
/// it is not exactly one expression. Locations in the result point into `text`, not into a file.
pub fn parse_expression(text: &str) -> Option<Expr> {
    if text.contains(['\n', '\r']) {
        return None;
    }
    let source = SourceFile::new("<expression>", format!("_ = ({text})\n"));
    let module = parse(&source);
    if module.syntax_error.is_some() || module.too_deep.is_some() {
        return None;
    }
    match module.body.as_slice() {
        [
            Stmt::Assign {
                value: Some(value), ..
            },
        ] => Some(value.clone()),
        _ => None,
    }
}

/// How a line at column 0 that starts a top-level chunk ([`top_level_chunks`]) or a piece
/// ([`piece_ranges`]) begins.
const TOP_LEVEL_STARTS: &[&str] = &["class ", "def ", "async def ", "@", "import ", "from "];

/// Byte ranges of the top-level chunks of a file: a chunk starts at a line that begins at
/// column 0 with `class`, `def`, `async def`, `@`, `import` or `from`.
fn top_level_chunks(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![0];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > 0 && TOP_LEVEL_STARTS.iter().any(|s| line.starts_with(s)) {
            starts.push(offset);
        }
        offset += line.len();
    }
    let mut chunks = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        chunks.push((start, end));
    }
    chunks
}

fn failed(file: &SourceFile) -> PyModule {
    PyModule {
        syntax_error: Some(SyntaxError {
            location: file.location(0),
            detail: None,
        }),
        ..PyModule::default()
    }
}

type Node<'t> = tree_sitter::Node<'t>;

struct Walker<'f> {
    /// The file, for locations (rows and columns of `src` are those of the file).
    file: &'f SourceFile,
    /// The text tree-sitter parsed: the file, or one chunk of it padded with line breaks.
    src: &'f str,
    /// How many expressions and statements the walk is inside.
    depth: Cell<u32>,
    /// The first place nesting went past [`MAX_NESTING`].
    too_deep: RefCell<Option<Location>>,
    /// Rows whose indentation [`indent::check`] changed, with the bytes it added (a negative
    /// count: removed), so that columns stay the file's.
    shifts: HashMap<usize, isize>,
}

impl<'f> Walker<'f> {
    fn new(file: &'f SourceFile, src: &'f str) -> Self {
        Walker {
            file,
            src,
            depth: Cell::new(0),
            too_deep: RefCell::new(None),
            shifts: HashMap::new(),
        }
    }
}

impl Walker<'_> {
    fn text(&self, node: Node) -> &str {
        self.src.get(node.byte_range()).unwrap_or("")
    }

    fn loc(&self, node: Node) -> Location {
        let point = node.start_position();
        let shift = self.shifts.get(&point.row).copied().unwrap_or(0);
        let column = point.column.saturating_add_signed(-shift);
        self.file.location_of_point(point.row, column)
    }

    /// Enters one nesting level; `false` (the first time, with the place recorded) when that is
    /// deeper than [`MAX_NESTING`]. Every `true` is paired with a [`Walker::leave`].
    fn enter(&self, node: Node) -> bool {
        let depth = self.depth.get();
        if depth >= MAX_NESTING {
            let mut too_deep = self.too_deep.borrow_mut();
            if too_deep.is_none() {
                *too_deep = Some(self.loc(node));
            }
            return false;
        }
        self.depth.set(depth + 1);
        true
    }

    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    /// Every `#` comment, in line order (iterative: trees can be deep).
    /// The comments under `root`, in file order. Every comment starts with a `#`, and a `#`
    /// that starts a comment is where the tree's smallest node there is that comment: the
    /// `#`s of the text are asked about, not every node of the tree (a `#` in a string is in
    /// a string node).
    fn comments(&self, root: Node) -> Vec<Comment> {
        let mut comments = Vec::new();
        let comment = GRAMMAR.comment;
        let range = root.byte_range();
        let Some(text) = self.src.get(range.clone()) else {
            return comments;
        };
        for (offset, _) in text.match_indices('#') {
            let at = range.start + offset;
            let Some(node) = root.descendant_for_byte_range(at, at + 1) else {
                continue;
            };
            if node.kind_id() == comment && node.start_byte() == at {
                let location = self.loc(node);
                comments.push(Comment {
                    line: location.line,
                    column: location.column,
                    text: self.text(node).to_string(),
                });
            }
        }
        comments.sort_by_key(|c| (c.line, c.column));
        comments
    }

    /// The statements of a `module` or `block` node (and of `ERROR` nodes inside them, so that
    /// what follows a syntax error is still read).
    fn block(&self, node: Node) -> Vec<Stmt> {
        let mut out = Vec::new();
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.statement(child, &mut out);
        }
        out
    }

    fn statement(&self, node: Node, out: &mut Vec<Stmt>) {
        if !self.enter(node) {
            out.push(Stmt::Other);
            return;
        }
        self.statement_kind(node, out);
        self.leave();
    }

    fn statement_kind(&self, node: Node, out: &mut Vec<Stmt>) {
        match node.kind() {
            "class_definition" => out.push(Stmt::Class(self.class(node, Vec::new()))),
            "function_definition" => out.push(Stmt::Function(self.function(node, Vec::new()))),
            "decorated_definition" => {
                let mut decorators = Vec::new();
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.kind() == "decorator"
                        && let Some(expr) = child.named_child(0)
                    {
                        decorators.push(self.expr(expr));
                    }
                }
                if let Some(def) = node.child_by_field_id(GRAMMAR.definition) {
                    match def.kind() {
                        "class_definition" => out.push(Stmt::Class(self.class(def, decorators))),
                        "function_definition" => {
                            out.push(Stmt::Function(self.function(def, decorators)));
                        }
                        _ => {}
                    }
                }
            }
            "expression_statement" => {
                let Some(inner) = node.named_child(0) else {
                    return;
                };
                match inner.kind() {
                    "assignment" => out.push(self.assignment(inner)),
                    "augmented_assignment" => out.push(self.augmented(inner)),
                    _ => out.push(Stmt::Expr {
                        value: self.expr(inner),
                        location: self.loc(node),
                    }),
                }
            }
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                out.push(Stmt::Import(self.import(node)));
            }
            "if_statement" => {
                let condition = node
                    .child_by_field_id(GRAMMAR.condition)
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Other(String::new()));
                self.push_block(
                    node,
                    GRAMMAR.consequence,
                    BlockKind::If,
                    vec![(condition, None)],
                    out,
                );
                let mut cursor = node.walk();
                for alt in node.children_by_field_name("alternative", &mut cursor) {
                    let (kind, items) = match alt.kind() {
                        "elif_clause" => {
                            let cond = alt
                                .child_by_field_id(GRAMMAR.condition)
                                .map(|c| self.expr(c))
                                .unwrap_or(Expr::Other(String::new()));
                            (BlockKind::Elif, vec![(cond, None)])
                        }
                        _ => (BlockKind::Else, Vec::new()),
                    };
                    let field = if alt.kind() == "elif_clause" {
                        GRAMMAR.consequence
                    } else {
                        GRAMMAR.body
                    };
                    self.push_block(alt, field, kind, items, out);
                }
            }
            "try_statement" => {
                self.push_block(node, GRAMMAR.body, BlockKind::Try, Vec::new(), out);
                let mut cursor = node.walk();
                for clause in node.named_children(&mut cursor) {
                    let kind = match clause.kind() {
                        "except_clause" | "except_group_clause" => BlockKind::Except,
                        "else_clause" => BlockKind::Else,
                        "finally_clause" => BlockKind::Finally,
                        _ => continue,
                    };
                    let body = self.clause_body(clause);
                    out.push(Stmt::Block {
                        kind,
                        items: Vec::new(),
                        body,
                        location: self.loc(clause),
                    });
                }
            }
            "with_statement" => {
                let mut items = Vec::new();
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.kind() != "with_clause" {
                        continue;
                    }
                    let mut inner = child.walk();
                    for item in child.named_children(&mut inner) {
                        if let Some(value) = item.child_by_field_id(GRAMMAR.value) {
                            items.push(self.with_item(value));
                        }
                    }
                }
                self.push_block(node, GRAMMAR.body, BlockKind::With, items, out);
            }
            "for_statement" => {
                // The iterable, with the loop target's text (`table`, `old, new`).
                let items = match (
                    node.child_by_field_id(GRAMMAR.right),
                    node.child_by_field_id(GRAMMAR.left),
                ) {
                    (Some(right), Some(left)) => {
                        vec![(self.expr(right), Some(self.text(left).to_string()))]
                    }
                    _ => Vec::new(),
                };
                self.push_block(node, GRAMMAR.body, BlockKind::For, items, out);
                if let Some(alt) = node.child_by_field_id(GRAMMAR.alternative) {
                    self.push_block(alt, GRAMMAR.body, BlockKind::Else, Vec::new(), out);
                }
            }
            "while_statement" => {
                self.push_block(node, GRAMMAR.body, BlockKind::While, Vec::new(), out)
            }
            "match_statement" => {
                let body = self.clause_body(node);
                out.push(Stmt::Block {
                    kind: BlockKind::Match,
                    items: Vec::new(),
                    body,
                    location: self.loc(node),
                });
            }
            "raise_statement" => out.push(Stmt::Jump(Jump::Raise)),
            "break_statement" => out.push(Stmt::Jump(Jump::Break)),
            "continue_statement" => out.push(Stmt::Jump(Jump::Continue)),
            "return_statement" => out.push(Stmt::Return {
                value: node.named_child(0).map(|v| self.expr(v)),
                location: self.loc(node),
            }),
            "ERROR" => {
                // Statements tree-sitter could still recognise inside the broken region.
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.statement(child, out);
                }
            }
            _ => out.push(Stmt::Other),
        }
    }

    fn push_block(
        &self,
        node: Node,
        field: u16,
        kind: BlockKind,
        items: Vec<(Expr, Option<String>)>,
        out: &mut Vec<Stmt>,
    ) {
        let body = node
            .child_by_field_id(field)
            .map(|b| self.block(b))
            .unwrap_or_default();
        out.push(Stmt::Block {
            kind,
            items,
            body,
            location: self.loc(node),
        });
    }

    /// The statements of every `block` child of a clause (except/else/finally/match cases).
    fn clause_body(&self, clause: Node) -> Vec<Stmt> {
        let mut body = Vec::new();
        let mut cursor = clause.walk();
        for child in clause.named_children(&mut cursor) {
            match child.kind() {
                "block" => body.extend(self.block(child)),
                "case_clause" => body.extend(self.clause_body(child)),
                _ => {}
            }
        }
        body
    }

    fn with_item(&self, value: Node) -> (Expr, Option<String>) {
        if value.kind() == "as_pattern" {
            let expr = value
                .named_child(0)
                .map(|e| self.expr(e))
                .unwrap_or(Expr::Other(String::new()));
            let alias = value
                .child_by_field_id(GRAMMAR.alias)
                .map(|a| self.text(a).to_string());
            (expr, alias)
        } else {
            (self.expr(value), None)
        }
    }

    fn class(&self, node: Node, decorators: Vec<Expr>) -> ClassDef {
        let name = node
            .child_by_field_id(GRAMMAR.name)
            .map(|n| self.text(n).to_string())
            .unwrap_or_default();
        let mut bases = Vec::new();
        let mut keywords = Vec::new();
        if let Some(args) = node.child_by_field_id(GRAMMAR.superclasses) {
            let mut cursor = args.walk();
            for arg in args.named_children(&mut cursor) {
                match arg.kind() {
                    "keyword_argument" => {
                        if let (Some(k), Some(v)) = (
                            arg.child_by_field_id(GRAMMAR.name),
                            arg.child_by_field_id(GRAMMAR.value),
                        ) {
                            keywords.push((self.text(k).to_string(), self.expr(v)));
                        }
                    }
                    "comment" => {}
                    _ => bases.push(self.expr(arg)),
                }
            }
        }
        let body = node
            .child_by_field_id(GRAMMAR.body)
            .map(|b| self.block(b))
            .unwrap_or_default();
        ClassDef {
            name,
            bases,
            keywords,
            decorators,
            body,
            location: self.loc(node),
        }
    }

    fn function(&self, node: Node, decorators: Vec<Expr>) -> FunctionDef {
        let name = node
            .child_by_field_id(GRAMMAR.name)
            .map(|n| self.text(n).to_string())
            .unwrap_or_default();
        let body = node
            .child_by_field_id(GRAMMAR.body)
            .map(|b| self.block(b))
            .unwrap_or_default();
        let returns = node
            .child_by_field_id(GRAMMAR.return_type)
            .map(|t| self.type_expr(t));
        let params = node
            .child_by_field_id(GRAMMAR.parameters)
            .map(|p| self.params(p))
            .unwrap_or_default();
        FunctionDef {
            name,
            decorators,
            params,
            body,
            returns,
            location: self.loc(node),
        }
    }

    /// The parameters of a `def`, in order.
    fn params(&self, node: Node) -> Vec<Param> {
        let mut params = Vec::new();
        let mut keyword_only = false;
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            let (name, kind, default) = match child.kind() {
                "identifier" => (self.text(child).to_string(), ParamKind::Plain, None),
                "default_parameter" | "typed_default_parameter" => {
                    let name = child
                        .child_by_field_id(GRAMMAR.name)
                        .map(|n| self.text(n).to_string())
                        .unwrap_or_default();
                    let default = child.child_by_field_id(GRAMMAR.value).map(|v| self.expr(v));
                    (name, ParamKind::Plain, default)
                }
                "typed_parameter" => match child.named_child(0) {
                    Some(inner) => match inner.kind() {
                        "identifier" => (self.text(inner).to_string(), ParamKind::Plain, None),
                        "list_splat_pattern" => (self.splat_name(inner), ParamKind::VarArgs, None),
                        "dictionary_splat_pattern" => {
                            (self.splat_name(inner), ParamKind::VarKeywords, None)
                        }
                        _ => continue,
                    },
                    None => continue,
                },
                "list_splat_pattern" => (self.splat_name(child), ParamKind::VarArgs, None),
                "dictionary_splat_pattern" => {
                    (self.splat_name(child), ParamKind::VarKeywords, None)
                }
                "keyword_separator" => {
                    keyword_only = true;
                    continue;
                }
                _ => continue,
            };
            let kind = match kind {
                ParamKind::Plain if keyword_only => ParamKind::KeywordOnly,
                ParamKind::VarArgs => {
                    keyword_only = true;
                    ParamKind::VarArgs
                }
                other => other,
            };
            params.push(Param {
                name,
                kind,
                default,
            });
        }
        params
    }

    /// `args` of `*args` / `**args`.
    fn splat_name(&self, node: Node) -> String {
        node.named_child(0)
            .map(|n| self.text(n).to_string())
            .unwrap_or_default()
    }

    /// `x += value`.
    fn augmented(&self, node: Node) -> Stmt {
        let target = node
            .child_by_field_id(GRAMMAR.left)
            .map(|l| self.expr(l))
            .unwrap_or(Expr::Other(String::new()));
        let value = node
            .child_by_field_id(GRAMMAR.right)
            .map(|r| self.expr(r))
            .unwrap_or(Expr::Other(String::new()));
        let op = node
            .child_by_field_id(GRAMMAR.operator)
            .map(|o| self.text(o).trim_end_matches('=').to_string())
            .unwrap_or_default();
        Stmt::AugAssign {
            target,
            op,
            value,
            location: self.loc(node),
        }
    }

    fn assignment(&self, node: Node) -> Stmt {
        let mut targets = Vec::new();
        let mut current = node;
        // `a = b = c` nests: assignment(left: a, right: assignment(left: b, right: c)).
        loop {
            if let Some(left) = current.child_by_field_id(GRAMMAR.left) {
                targets.push(self.expr(left));
            }
            match current.child_by_field_id(GRAMMAR.right) {
                Some(right) if right.kind() == "assignment" => current = right,
                _ => break,
            }
        }
        let annotation = node
            .child_by_field_id(GRAMMAR.type_)
            .map(|t| self.type_expr(t));
        let value = current
            .child_by_field_id(GRAMMAR.right)
            .map(|r| self.expr(r));
        Stmt::Assign {
            targets,
            annotation,
            value,
            location: self.loc(node),
        }
    }

    fn import(&self, node: Node) -> Import {
        let mut names = Vec::new();
        let mut star = false;
        let from = node
            .child_by_field_id(GRAMMAR.module_name)
            .map(|m| self.text(m).split_whitespace().collect::<String>());
        let module_id = node.child_by_field_id(GRAMMAR.module_name).map(|m| m.id());
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            if Some(child.id()) == module_id {
                continue;
            }
            match child.kind() {
                "dotted_name" => names.push((self.dotted(child), None)),
                "aliased_import" => {
                    let name = child
                        .child_by_field_id(GRAMMAR.name)
                        .map(|n| self.dotted(n))
                        .unwrap_or_default();
                    let alias = child
                        .child_by_field_id(GRAMMAR.alias)
                        .map(|a| self.text(a).to_string());
                    names.push((name, alias));
                }
                "wildcard_import" => star = true,
                _ => {}
            }
        }
        let from = if node.kind() == "future_import_statement" {
            Some("__future__".to_string())
        } else {
            from
        };
        Import {
            from,
            names,
            star,
            location: self.loc(node),
        }
    }

    fn dotted(&self, node: Node) -> String {
        self.text(node).split_whitespace().collect()
    }

    /// An annotation: tree-sitter wraps it in `type` and spells `X[Y]` as `generic_type`.
    fn type_expr(&self, node: Node) -> Expr {
        if !self.enter(node) {
            return Expr::Other(self.text(node).to_string());
        }
        let expr = self.type_expr_kind(node);
        self.leave();
        expr
    }

    fn type_expr_kind(&self, node: Node) -> Expr {
        match node.kind() {
            "type" => match node.named_child(0) {
                Some(inner) => self.type_expr(inner),
                None => Expr::Other(self.text(node).to_string()),
            },
            "generic_type" => {
                let mut value = None;
                let mut index = Vec::new();
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.kind() == "type_parameter" {
                        let mut inner = child.walk();
                        for t in child.named_children(&mut inner) {
                            index.push(self.type_expr(t));
                        }
                    } else if value.is_none() {
                        value = Some(self.type_expr(child));
                    }
                }
                Expr::Subscript {
                    value: Box::new(value.unwrap_or(Expr::Other(String::new()))),
                    index,
                }
            }
            _ => self.expr(node),
        }
    }

    fn expr(&self, node: Node) -> Expr {
        if !self.enter(node) {
            return Expr::Other(self.text(node).to_string());
        }
        let expr = self.expr_kind(node);
        self.leave();
        expr
    }

    fn expr_kind(&self, node: Node) -> Expr {
        match node.kind() {
            "identifier" => Expr::Name(self.text(node).to_string()),
            "attribute" => {
                let object = node.child_by_field_id(GRAMMAR.object).map(|o| self.expr(o));
                let attr = node
                    .child_by_field_id(GRAMMAR.attribute)
                    .map(|a| self.text(a).to_string())
                    .unwrap_or_default();
                match object {
                    Some(Expr::Name(base)) => Expr::Name(format!("{base}.{attr}")),
                    Some(other) => Expr::Attribute {
                        value: Box::new(other),
                        attr,
                    },
                    None => Expr::Other(self.text(node).to_string()),
                }
            }
            "string" => self.string(node),
            "concatenated_string" => {
                // `"a" f"{b}" "c"`: one string, or one f-string when a part interpolates
                // (Alembic revisions split long `ALTER TABLE {t} …` statements this way).
                let mut parts: Vec<FStringPart> = Vec::new();
                let mut cursor = node.walk();
                for part in node.named_children(&mut cursor) {
                    match self.string(part) {
                        Expr::Str(s) => push_text(&mut parts, &s),
                        Expr::FString(inner) => {
                            for p in inner {
                                match p {
                                    FStringPart::Text(s) => push_text(&mut parts, &s),
                                    value => parts.push(value),
                                }
                            }
                        }
                        _ => return Expr::Other(self.text(node).to_string()),
                    }
                }
                match parts.as_slice() {
                    [] => Expr::Str(String::new()),
                    [FStringPart::Text(s)] => Expr::Str(s.clone()),
                    _ => Expr::FString(parts),
                }
            }
            "integer" => {
                let digits: String = self.text(node).chars().filter(|c| *c != '_').collect();
                let parsed = if let Some(hex) = digits.strip_prefix("0x") {
                    i64::from_str_radix(hex, 16).ok()
                } else {
                    digits.parse().ok()
                };
                parsed.map_or_else(|| Expr::Other(digits), Expr::Int)
            }
            "float" => Expr::Float(self.text(node).to_string()),
            "true" => Expr::Bool(true),
            "false" => Expr::Bool(false),
            "none" => Expr::None,
            "call" => self.call(node),
            "subscript" => {
                let value = node
                    .child_by_field_id(GRAMMAR.value)
                    .map(|v| self.expr(v))
                    .unwrap_or(Expr::Other(String::new()));
                let mut index = Vec::new();
                let mut cursor = node.walk();
                for sub in node.children_by_field_name("subscript", &mut cursor) {
                    if sub.kind() == "tuple" {
                        let mut inner = sub.walk();
                        for item in sub.named_children(&mut inner) {
                            index.push(self.expr(item));
                        }
                    } else {
                        index.push(self.expr(sub));
                    }
                }
                Expr::Subscript {
                    value: Box::new(value),
                    index,
                }
            }
            "generic_type" | "type" => self.type_expr(node),
            "list" | "tuple" | "set" | "expression_list" | "pattern_list" | "tuple_pattern"
            | "list_pattern" => {
                let mut items = Vec::new();
                let mut cursor = node.walk();
                for item in node.named_children(&mut cursor) {
                    match item.kind() {
                        "comment" => {}
                        "list_splat" | "list_splat_pattern" => items.push(Expr::Splat {
                            double: false,
                            value: Box::new(self.first_expr(item)),
                        }),
                        _ => items.push(self.expr(item)),
                    }
                }
                Expr::List(items)
            }
            "dictionary" => {
                let mut pairs = Vec::new();
                let mut cursor = node.walk();
                for pair in node.named_children(&mut cursor) {
                    if pair.kind() == "dictionary_splat" {
                        let value = Box::new(self.first_expr(pair));
                        pairs.push((
                            Expr::Splat {
                                double: true,
                                value,
                            },
                            Expr::None,
                        ));
                        continue;
                    }
                    if pair.kind() != "pair" {
                        continue;
                    }
                    if let (Some(k), Some(v)) = (
                        pair.child_by_field_id(GRAMMAR.key),
                        pair.child_by_field_id(GRAMMAR.value),
                    ) {
                        pairs.push((self.expr(k), self.expr(v)));
                    }
                }
                Expr::Dict(pairs)
            }
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => self.expr(inner),
                None => Expr::Other(self.text(node).to_string()),
            },
            "binary_operator" | "boolean_operator" => {
                let left = node.child_by_field_id(GRAMMAR.left).map(|l| self.expr(l));
                let right = node.child_by_field_id(GRAMMAR.right).map(|r| self.expr(r));
                let op = node
                    .child_by_field_id(GRAMMAR.operator)
                    .map(|o| self.text(o).to_string())
                    .unwrap_or_default();
                match (left, right) {
                    (Some(left), Some(right)) => Expr::BinOp {
                        op,
                        left: Box::new(left),
                        right: Box::new(right),
                    },
                    _ => Expr::Other(self.text(node).to_string()),
                }
            }
            "unary_operator" => {
                let text = self.text(node);
                match node
                    .child_by_field_id(GRAMMAR.argument)
                    .map(|a| self.expr(a))
                {
                    Some(Expr::Int(n)) if text.trim_start().starts_with('-') => Expr::Int(-n),
                    _ => Expr::Other(text.to_string()),
                }
            }
            "lambda" => match node.child_by_field_id(GRAMMAR.body) {
                Some(body) => Expr::Lambda(Box::new(self.expr(body))),
                None => Expr::Other(self.text(node).to_string()),
            },
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => self.comprehension(node),
            "comparison_operator" => self.comparison(node),
            "conditional_expression" => {
                let mut cursor = node.walk();
                let parts: Vec<Expr> = node
                    .named_children(&mut cursor)
                    .filter(|c| c.kind() != "comment")
                    .map(|c| self.expr(c))
                    .collect();
                match <[Expr; 3]>::try_from(parts) {
                    Ok([body, test, orelse]) => Expr::IfElse {
                        test: Box::new(test),
                        body: Box::new(body),
                        orelse: Box::new(orelse),
                    },
                    Err(_) => Expr::Other(self.text(node).to_string()),
                }
            }
            "not_operator" => match node.child_by_field_id(GRAMMAR.argument) {
                Some(arg) => Expr::Not(Box::new(self.expr(arg))),
                None => Expr::Other(self.text(node).to_string()),
            },
            "slice" => self.slice(node),
            "await" => match node.named_child(0) {
                Some(inner) => self.expr(inner),
                None => Expr::Other(self.text(node).to_string()),
            },
            _ => Expr::Other(self.text(node).to_string()),
        }
    }

    fn call(&self, node: Node) -> Expr {
        let func = node
            .child_by_field_id(GRAMMAR.function)
            .map(|f| self.expr(f))
            .unwrap_or(Expr::Other(String::new()));
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        let mut has_splat = false;
        let mut star_args = Vec::new();
        let mut kw_splats = Vec::new();
        if let Some(arguments) = node.child_by_field_id(GRAMMAR.arguments) {
            if arguments.kind() == "generator_expression" {
                args.push(self.expr(arguments));
            }
            let mut cursor = arguments.walk();
            for arg in arguments.named_children(&mut cursor) {
                match arg.kind() {
                    "keyword_argument" => {
                        if let (Some(k), Some(v)) = (
                            arg.child_by_field_id(GRAMMAR.name),
                            arg.child_by_field_id(GRAMMAR.value),
                        ) {
                            kwargs.push((self.text(k).to_string(), self.expr(v)));
                        }
                    }
                    "list_splat" => {
                        has_splat = true;
                        star_args.push((args.len(), self.first_expr(arg)));
                    }
                    "dictionary_splat" => {
                        has_splat = true;
                        kw_splats.push(self.first_expr(arg));
                    }
                    "comment" => {}
                    _ if arguments.kind() == "argument_list" => args.push(self.expr(arg)),
                    _ => {}
                }
            }
        }
        Expr::Call(Box::new(Call {
            func,
            args,
            kwargs,
            has_splat,
            star_args,
            kw_splats,
            location: self.loc(node),
        }))
    }

    fn string(&self, node: Node) -> Expr {
        if node.kind() != "string" {
            return Expr::Other(self.text(node).to_string());
        }
        let prefix: String = self
            .text(node)
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        let raw = prefix.contains('r');
        let mut out = String::new();
        let mut cursor = node.walk();
        for part in node.named_children(&mut cursor) {
            match part.kind() {
                "string_content" => {
                    // Escapes inside the content appear as `escape_sequence` children.
                    let mut last = part.start_byte();
                    let mut inner = part.walk();
                    for esc in part.named_children(&mut inner) {
                        if esc.kind() == "escape_sequence" {
                            out.push_str(self.src.get(last..esc.start_byte()).unwrap_or(""));
                            let text = self.text(esc);
                            if raw {
                                out.push_str(text);
                            } else {
                                out.push_str(&unescape(text));
                            }
                            last = esc.end_byte();
                        } else if esc.kind() == "escape_interpolation" {
                            out.push_str(self.src.get(last..esc.start_byte()).unwrap_or(""));
                            out.push_str(&self.text(esc)[..1]);
                            last = esc.end_byte();
                        } else if esc.kind() == "interpolation" {
                            return Expr::Other(self.text(node).to_string());
                        }
                    }
                    out.push_str(self.src.get(last..part.end_byte()).unwrap_or(""));
                }
                "escape_sequence" => {
                    let text = self.text(part);
                    if raw {
                        out.push_str(text);
                    } else {
                        out.push_str(&unescape(text));
                    }
                }
                "interpolation" => return self.fstring(node, raw),
                _ => {}
            }
        }
        Expr::Str(out)
    }

    /// An f-string with interpolations: literal parts and `{…}` parts. A format spec with an
    /// interpolation of its own, or any part that cannot be read, makes it [`Expr::Other`].
    fn fstring(&self, node: Node, raw: bool) -> Expr {
        let other = || Expr::Other(self.text(node).to_string());
        let mut parts: Vec<FStringPart> = Vec::new();
        let mut text = String::new();
        let mut cursor = node.walk();
        for part in node.named_children(&mut cursor) {
            match part.kind() {
                "string_content" => {
                    let mut last = part.start_byte();
                    let mut inner = part.walk();
                    for esc in part.named_children(&mut inner) {
                        text.push_str(self.src.get(last..esc.start_byte()).unwrap_or(""));
                        let esc_text = self.text(esc);
                        match esc.kind() {
                            "escape_interpolation" => text.push_str(&esc_text[..1]),
                            _ if raw => text.push_str(esc_text),
                            _ => text.push_str(&unescape(esc_text)),
                        }
                        last = esc.end_byte();
                    }
                    text.push_str(self.src.get(last..part.end_byte()).unwrap_or(""));
                }
                "escape_sequence" => {
                    let esc_text = self.text(part);
                    text.push_str(&if raw {
                        esc_text.to_string()
                    } else {
                        unescape(esc_text)
                    });
                }
                "interpolation" => {
                    let Some(value) = part.child_by_field_id(GRAMMAR.expression) else {
                        return other();
                    };
                    let conversion = part
                        .child_by_field_id(GRAMMAR.type_conversion)
                        .and_then(|c| self.text(c).trim_start_matches('!').chars().next());
                    let spec = match part.child_by_field_id(GRAMMAR.format_specifier) {
                        Some(spec) if spec.named_child_count() > 0 => return other(),
                        Some(spec) => Some(self.text(spec).trim_start_matches(':').to_string()),
                        None => None,
                    };
                    if !text.is_empty() {
                        parts.push(FStringPart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(FStringPart::Value {
                        value: self.expr(value),
                        conversion,
                        spec,
                    });
                }
                _ => {}
            }
        }
        if !text.is_empty() {
            parts.push(FStringPart::Text(text));
        }
        Expr::FString(parts)
    }

    /// The expression inside a `*x` / `**x` node.
    fn first_expr(&self, node: Node) -> Expr {
        node.named_child(0)
            .map(|e| self.expr(e))
            .unwrap_or_else(|| Expr::Other(self.text(node).to_string()))
    }

    fn comprehension(&self, node: Node) -> Expr {
        let kind = match node.kind() {
            "list_comprehension" => ComprehensionKind::List,
            "set_comprehension" => ComprehensionKind::Set,
            "dictionary_comprehension" => ComprehensionKind::Dict,
            _ => ComprehensionKind::Generator,
        };
        let Some(body) = node.child_by_field_id(GRAMMAR.body) else {
            return Expr::Other(self.text(node).to_string());
        };
        let (element, value) = if kind == ComprehensionKind::Dict {
            match (
                body.child_by_field_id(GRAMMAR.key),
                body.child_by_field_id(GRAMMAR.value),
            ) {
                (Some(k), Some(v)) => (self.expr(k), Some(self.expr(v))),
                _ => return Expr::Other(self.text(node).to_string()),
            }
        } else {
            (self.expr(body), None)
        };
        let mut clauses: Vec<ComprehensionClause> = Vec::new();
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "for_in_clause" => {
                    let target = child
                        .child_by_field_id(GRAMMAR.left)
                        .map(|l| self.expr(l))
                        .unwrap_or(Expr::Other(String::new()));
                    let mut inner = child.walk();
                    let iters: Vec<Expr> = child
                        .children_by_field_name("right", &mut inner)
                        .filter(|r| r.is_named())
                        .map(|r| self.expr(r))
                        .collect();
                    let iter = match <[Expr; 1]>::try_from(iters) {
                        Ok([one]) => one,
                        Err(many) => Expr::List(many),
                    };
                    clauses.push(ComprehensionClause {
                        target,
                        iter,
                        conditions: Vec::new(),
                    });
                }
                "if_clause" => {
                    if let (Some(clause), Some(cond)) = (clauses.last_mut(), child.named_child(0)) {
                        clause.conditions.push(self.expr(cond));
                    }
                }
                _ => {}
            }
        }
        if clauses.is_empty() {
            return Expr::Other(self.text(node).to_string());
        }
        Expr::Comprehension(Box::new(Comprehension {
            kind,
            element,
            value,
            clauses,
        }))
    }

    /// `a < b <= c`, `x not in y`, `a is not None`.
    fn comparison(&self, node: Node) -> Expr {
        let mut operands = Vec::new();
        let mut ops = Vec::new();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.is_named() {
                if child.kind() != "comment" {
                    operands.push(self.expr(child));
                }
            } else {
                let op = self.text(child);
                // `not in` and `is not` may come as two tokens.
                let pending = ops.len() == operands.len();
                match (ops.last_mut(), op) {
                    (Some(last), "in") if pending && *last == "not" => {
                        *last = "not in".to_string();
                    }
                    (Some(last), "not") if pending && *last == "is" => {
                        *last = "is not".to_string();
                    }
                    _ => ops.push(op.split_whitespace().collect::<Vec<_>>().join(" ")),
                }
            }
        }
        if operands.len() != ops.len() + 1 || ops.is_empty() {
            return Expr::Other(self.text(node).to_string());
        }
        let left = operands.remove(0);
        Expr::Compare {
            left: Box::new(left),
            ops,
            rights: operands,
        }
    }

    /// `a:b:c` (each part optional).
    fn slice(&self, node: Node) -> Expr {
        let mut parts: [Option<Box<Expr>>; 3] = [None, None, None];
        let mut index = 0;
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.is_named() {
                if child.kind() != "comment"
                    && let Some(slot) = parts.get_mut(index)
                {
                    *slot = Some(Box::new(self.expr(child)));
                }
            } else if self.text(child) == ":" {
                index += 1;
            }
        }
        let [start, stop, step] = parts;
        Expr::Slice { start, stop, step }
    }
}

/// Appends literal text to f-string parts, joined to the text before it.
fn push_text(parts: &mut Vec<FStringPart>, text: &str) {
    if text.is_empty() {
        return;
    }
    match parts.last_mut() {
        Some(FStringPart::Text(last)) => last.push_str(text),
        _ => parts.push(FStringPart::Text(text.to_string())),
    }
}

fn unescape(seq: &str) -> String {
    let mut chars = seq.chars();
    if chars.next() != Some('\\') {
        return seq.to_string();
    }
    let rest: String = chars.collect();
    match rest.as_str() {
        "n" => "\n".into(),
        "t" => "\t".into(),
        "r" => "\r".into(),
        "\\" => "\\".into(),
        "'" => "'".into(),
        "\"" => "\"".into(),
        "0" => "\0".into(),
        "\n" | "\r\n" => String::new(),
        _ => {
            let code = rest
                .strip_prefix('x')
                .or_else(|| rest.strip_prefix('u'))
                .or_else(|| rest.strip_prefix('U'))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32);
            code.map_or_else(|| seq.to_string(), |c| c.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(src: &str) -> PyModule {
        parse(&SourceFile::new("m.py", src))
    }

    /// A model file of `classes` classes: decorated, commented, with docstrings, brackets
    /// over several lines, and an import between two of them.
    fn model_source(classes: usize) -> String {
        let mut src = String::from("from sqlalchemy import String\nfrom app.db import Base\n\n");
        for i in 0..classes {
            if i % 11 == 5 {
                src.push_str("import os  # noqa\n");
            }
            if i % 7 == 3 {
                src.push_str("@dataclass\n@other(kind='x')\n");
            }
            src.push_str(&format!(
                "class Model{i}(Base):\n    \"\"\"Docs.\n  class NotAClass{i}:\n    \"\"\"\n    \
                 __tablename__ = 't_{i}'\n    \
                 id = mapped_column(Integer, primary_key=True)  # driftguard: ignore[DG001]\n    \
                 name: Mapped[str] = mapped_column(String(40), server_default=(\n        'x'\n    ))\n\n"
            ));
        }
        src
    }

    /// Two ranges of `text`, cut at byte `at` (the start of a line).
    fn cut_at(text: &str, at: usize) -> Vec<tree_sitter::Range> {
        let point = |byte: usize| tree_sitter::Point {
            row: text[..byte].matches('\n').count(),
            column: byte - text[..byte].rfind('\n').map_or(0, |i| i + 1),
        };
        vec![
            tree_sitter::Range {
                start_byte: 0,
                end_byte: at,
                start_point: point(0),
                end_point: point(at),
            },
            tree_sitter::Range {
                start_byte: at,
                end_byte: text.len(),
                start_point: point(at),
                end_point: point(text.len()),
            },
        ]
    }

    #[test]
    fn a_file_read_in_pieces_reads_as_the_whole_file() {
        let whole = |src: &str| {
            let file = SourceFile::new("m.py", src);
            parse_whole(&file, &python_line_breaks(&file.text))
        };
        let pieces = |src: &str, count: usize| {
            let file = SourceFile::new("m.py", src);
            let text = python_line_breaks(&file.text);
            let ranges = piece_ranges(&text, count);
            (ranges.len(), parse_pieces(&file, &text, ranges))
        };
        let clean = model_source(60);
        assert!(clean.len() > PIECES_FROM);
        for src in [
            clean.clone(),
            clean.replace('\n', "\r\n"),
            clean.replace('\n', "\r"),
            clean.replace("    ", "\t"),
            format!("{clean}x = 1"),
        ] {
            for count in [2, 3, 8] {
                let (cut, read) = pieces(&src, count);
                assert_eq!(cut, count, "cut into {count}");
                let read = read.expect("read in pieces");
                assert_eq!(read, whole(&src), "{count} pieces");
                // Every class and every comment is there.
                assert!(read.body.len() > 60 && read.comments.len() > 60);
            }
            assert_eq!(parse(&SourceFile::new("m.py", &src)), whole(&src));
        }
        // A string, brackets or a continued line that runs over a cut, a decorator cut from
        // its class, an unindent to no level, a syntax error: the piece before the cut (or
        // one piece) does not parse, and the file is parsed whole.
        let runs_over = [
            ("s = '''\n", "class Inside:\n    pass\n'''\n"),
            ("x = [\n1,\n", "class Inside: pass\n]\n"),
            ("x = 1 + \\\n", "import os\n"),
            ("@decorated\n", "class After:\n    pass\n"),
        ];
        for (before, after) in runs_over {
            let src = format!("{clean}{before}{after}{clean}");
            let file = SourceFile::new("m.py", src.as_str());
            let at = clean.len() + before.len();
            assert_eq!(
                parse_pieces(&file, &src, cut_at(&src, at)),
                None,
                "{before}"
            );
            assert_eq!(parse(&file), whole(&src));
        }
        for broken in [
            "class Bad:\n        a = 1\n    b = 2\n",
            "class Broken(:\n    a = 1\n",
        ] {
            let src = format!("{clean}{broken}{clean}");
            let file = SourceFile::new("m.py", src.as_str());
            assert_eq!(
                parse_pieces(&file, &src, cut_at(&src, clean.len())),
                None,
                "{broken}"
            );
            let read = parse(&file);
            assert!(read.syntax_error.is_some());
            assert_eq!(read, whole(&src));
        }
        // The search for cuts never cuts right after a decorator.
        let decorated = format!("{}@a\n@b\nclass C:\n    pass\n", "x = 1\n".repeat(2000));
        let ranges = piece_ranges(&decorated, 2);
        assert_eq!(ranges.len(), 2);
        assert!(decorated[ranges[1].start_byte..].starts_with("@a\n@b\nclass"));
        // A small file, or one without a place to cut, is one piece.
        assert_eq!(pieces("class A(Base):\n    x = 1\n", 2).0, 1);
        assert_eq!(pieces(&format!("x = [{}]\n", "1, ".repeat(5000)), 2).0, 1);
    }

    /// A small random number generator (xorshift), the same sequence every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    /// One random edit of a model file's lines, as a developer makes them: a column added to
    /// a class, a line changed or removed, a class added, lines added above everything, a
    /// syntax error made or mended, a string that runs over a cut.
    fn edit(lines: &mut Vec<String>, rng: &mut Rng, step: usize) {
        // What the step before broke is mended first.
        lines.retain(|l| l != "class Broken(:" && l != "s = '''" && l != "'''");
        let at = rng.below(lines.len() + 1);
        // The class at or above `at`.
        let class = (0..=at.min(lines.len().saturating_sub(1)))
            .rev()
            .find(|&i| lines[i].starts_with("class "));
        match rng.below(12) {
            0..=3 => {
                if let Some(class) = class {
                    lines.insert(
                        class + 1,
                        format!("    col_{step}: Mapped[str] = mapped_column(String({step}))  # é {step}"),
                    );
                }
            }
            4 | 5 => {
                let added: Vec<usize> = (0..lines.len())
                    .filter(|&i| {
                        lines[i].starts_with("    col_") || lines[i].starts_with("# header")
                    })
                    .collect();
                if !added.is_empty() {
                    lines.remove(added[rng.below(added.len())]);
                }
            }
            6 if !lines.is_empty() => {
                let i = at.min(lines.len() - 1);
                lines[i] = format!("{}  # edited {step}", lines[i]);
            }
            7 => {
                let top = class.unwrap_or(0);
                let added = [
                    format!("class Added{step}(Base):"),
                    format!("    __tablename__ = 'added_{step}'"),
                    "    id = mapped_column(Integer, primary_key=True)".to_string(),
                ];
                for (k, line) in added.into_iter().enumerate() {
                    lines.insert(top + k, line);
                }
            }
            8 => {
                for k in 0..=rng.below(3) {
                    lines.insert(0, format!("# header {step}.{k}"));
                }
            }
            9 => lines.insert(class.unwrap_or(0), "class Broken(:".to_string()),
            10 => {
                let top = class.unwrap_or(0);
                lines.insert(top, "s = '''".to_string());
                let end = (top + 2 + rng.below(20)).min(lines.len());
                lines.insert(end, "'''".to_string());
            }
            _ => {}
        }
    }

    #[test]
    fn a_file_parsed_with_an_earlier_versions_pieces_reads_as_parsed_whole() {
        for line_break in ["\n", "\r\n"] {
            edits_read_piece_by_piece_as_parsed_whole(line_break);
        }
    }

    fn edits_read_piece_by_piece_as_parsed_whole(line_break: &str) {
        let mut lines: Vec<String> = model_source(40).split('\n').map(str::to_string).collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut kept: Option<Vec<u8>> = None;
        let (mut reused_runs, mut whole_runs) = (0, 0);
        for step in 0..300 {
            edit(&mut lines, &mut rng, step);
            let text = format!("{}{line_break}", lines.join(line_break));
            let file = SourceFile::new("app/models.py", text.as_str());
            let (module, keep, parsed) = parse_reusing_counted(&file, kept.as_deref());
            assert_eq!(module, parse(&file), "step {step}, {line_break:?}");
            match parsed {
                Some(parsed) => {
                    // One edit re-parses a few pieces, not the file's (40 classes and more).
                    if kept.is_some() {
                        assert!(parsed <= 8, "step {step}: {parsed} pieces parsed");
                        reused_runs += 1;
                    }
                    kept = Some(keep.expect("pieces kept"));
                }
                None => {
                    assert!(keep.is_none());
                    whole_runs += 1;
                }
            }
        }
        // Most edits leave the file readable piece by piece; some do not.
        assert!(reused_runs > 200, "{reused_runs} runs reused pieces");
        assert!(whole_runs > 20, "{whole_runs} runs parsed the file whole");
    }

    #[test]
    fn a_kept_piece_that_does_not_read_back_is_parsed_again() {
        let clean = model_source(10);
        let file = SourceFile::new("m.py", clean.as_str());
        let (_, kept, parsed) = parse_reusing_counted(&file, None);
        assert!(parsed.is_some_and(|parsed| parsed > 5), "{parsed:?}");
        let mut kept = kept.expect("pieces kept");
        // The first piece's bytes (after the count and a 20-byte entry per piece) unreadable.
        let count = u32::from_le_bytes(kept[..4].try_into().expect("a count")) as usize;
        let length = u32::from_le_bytes(kept[20..24].try_into().expect("a length")) as usize;
        let start = 4 + count * 20;
        kept[start..start + length].fill(0xff);
        let (module, _, parsed) = parse_reusing_counted(&file, Some(&kept));
        assert_eq!(module, parse(&file));
        assert_eq!(parsed, Some(1), "only the damaged piece is parsed again");
    }

    #[test]
    fn a_piece_that_does_not_parse_alone_is_read_with_the_pieces_after_it() {
        // A docstring with lines that look like the start of a piece: each cut inside it
        // leaves a piece that does not parse alone.
        let docstring =
            "\"\"\"Models.\n\nfrom app import models\nclass Example: pass\nimport os\n\"\"\"\n";
        let clean = format!("{docstring}{}", model_source(20));
        let first = SourceFile::new("m.py", clean.as_str());
        let (module, kept, parsed) = parse_reusing_counted(&first, None);
        assert_eq!(module, parse(&first));
        let kept = kept.expect("read in pieces, the docstring's as one");
        assert!(parsed.is_some());
        // An edit below it reads the docstring's run back, parsing the edited class alone.
        let edited = clean.replacen(
            "class Model7(Base):\n",
            "class Model7(Base):\n    added: Mapped[str] = mapped_column(String(9))\n",
            1,
        );
        let second = SourceFile::new("m.py", edited.as_str());
        let (module, _, parsed) = parse_reusing_counted(&second, Some(&kept));
        assert_eq!(module, parse(&second));
        // The pieces cut inside the docstring are tried alone again (its lines each), the
        // class is parsed; the other 19 classes and the docstring's run are read back.
        assert!(parsed.is_some_and(|p| p <= 6), "{parsed:?}");
        // A real syntax error: the file is parsed whole.
        let broken = format!("{clean}class Broken(:\n    x = 1\n");
        let third = SourceFile::new("m.py", broken.as_str());
        let (module, keep, parsed) = parse_reusing_counted(&third, Some(&kept));
        assert_eq!(module, parse(&third));
        assert_eq!((keep, parsed), (None, None));
    }

    #[test]
    fn kept_pieces_are_read_back_under_the_path_and_rows_they_are_read_into() {
        let clean = model_source(10);
        let first = SourceFile::new("old/path.py", clean.as_str());
        let (module, kept, parsed) = parse_reusing_counted(&first, None);
        assert_eq!(module, parse(&first));
        let pieces = parsed.expect("read in pieces");
        let kept = kept.expect("pieces kept");
        // Renamed, three lines added above: nothing is parsed but the new lines' pieces, and
        // every location names the new path at the new line.
        let moved = format!("import a\nimport b\nimport c\n{clean}");
        let second = SourceFile::new("new/path.py", moved.as_str());
        let (module, _, parsed) = parse_reusing_counted(&second, Some(&kept));
        assert_eq!(module, parse(&second));
        assert_eq!(parsed, Some(3), "of {pieces} pieces, only the new imports");
        assert!(module.comments.iter().all(|c| c.line > 3));
        // Damaged or foreign bytes are not read: the file is parsed.
        for bad in [&kept[..kept.len() - 1], b"\x01\x00\x00\x00", b""] {
            let (module, _, parsed) = parse_reusing_counted(&second, Some(bad));
            assert_eq!(module, parse(&second));
            assert_eq!(parsed, Some(pieces + 3));
        }
        // A small file is parsed whole, and nothing is kept.
        let small = SourceFile::new("s.py", "class A(Base):\n    x = 1\n");
        assert_eq!(parse_reusing_counted(&small, Some(&kept)).2, None);
    }

    /// The values of a module's top-level assignments, in order.
    fn assigned_values(m: &PyModule) -> Vec<&Expr> {
        m.body
            .iter()
            .filter_map(|s| match s {
                Stmt::Assign { value: Some(v), .. } => Some(v),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn class_with_annotated_mapped_columns() {
        let m = parse_str(
            "class Customer(Base, metaclass=M):\n    __tablename__ = 'customers'\n    contact_preference: Mapped[Optional[str]] = mapped_column(String(20), nullable=False)\n    y: Mapped[str | None]\n",
        );
        let Stmt::Class(class) = &m.body[0] else {
            panic!("a class: {m:?}")
        };
        assert_eq!(class.name, "Customer");
        assert_eq!(class.bases, vec![Expr::Name("Base".into())]);
        assert_eq!(class.keywords[0].0, "metaclass");
        assert_eq!(class.location.line, 1);
        let Stmt::Assign {
            targets,
            annotation,
            value,
            location,
        } = &class.body[1]
        else {
            panic!("an assignment")
        };
        assert_eq!(targets, &vec![Expr::Name("contact_preference".into())]);
        assert_eq!(location.line, 3);
        assert_eq!(location.column, 5);
        let Some(Expr::Subscript { value: ann, index }) = annotation else {
            panic!("a subscript annotation: {annotation:?}")
        };
        assert_eq!(ann.as_name(), Some("Mapped"));
        assert!(
            matches!(&index[0], Expr::Subscript { value, .. } if value.as_name() == Some("Optional"))
        );
        let call = value.as_ref().and_then(Expr::as_call).expect("a call");
        assert_eq!(call.func_name(), Some("mapped_column"));
        assert_eq!(call.kwarg("nullable"), Some(&Expr::Bool(false)));
        let inner = call.args[0].as_call().expect("String(20)");
        assert_eq!(inner.args, vec![Expr::Int(20)]);
        let Stmt::Assign {
            annotation: Some(Expr::Subscript { index, .. }),
            value: None,
            ..
        } = &class.body[2]
        else {
            panic!("annotation-only")
        };
        assert!(matches!(&index[0], Expr::BinOp { op, .. } if op == "|"));
    }

    #[test]
    fn strings_imports_and_with_blocks() {
        let m = parse_str(
            "from .a import b as c, d\nimport x.y as z\nfrom m import *\ns = 'a\\'b' \"c\"\nr = r'\\d'\nf = f'{x}'\nwith op.batch_alter_table('t') as batch_op:\n    batch_op.add_column(sa.Column('q', sa.Integer()))\n",
        );
        let imports = m.imports();
        assert_eq!(imports[0].from.as_deref(), Some(".a"));
        assert_eq!(
            imports[0].names,
            vec![("b".into(), Some("c".into())), ("d".into(), None)]
        );
        assert_eq!(imports[1].from, None);
        assert_eq!(imports[1].names, vec![("x.y".into(), Some("z".into()))]);
        assert!(imports[2].star);
        let values = assigned_values(&m);
        assert_eq!(values[0], &Expr::Str("a'bc".into()));
        assert_eq!(values[1], &Expr::Str("\\d".into()));
        assert_eq!(
            values[2],
            &Expr::FString(vec![FStringPart::Value {
                value: Expr::Name("x".into()),
                conversion: None,
                spec: None,
            }])
        );
        let Some(Stmt::Block {
            kind: BlockKind::With,
            items,
            body,
            ..
        }) = m.body.last()
        else {
            panic!("a with block")
        };
        assert_eq!(items[0].1.as_deref(), Some("batch_op"));
        assert!(
            matches!(&body[0], Stmt::Expr { value: Expr::Call(c), .. } if c.func_name() == Some("batch_op.add_column"))
        );
    }

    #[test]
    fn syntax_errors_are_recorded_and_later_code_is_still_read() {
        let m = parse_str(
            "class A(Base):\n    x = Column(Integer\n\nclass B(Base):\n    __tablename__ = 'b'\n    y = Column(Integer)\n",
        );
        assert!(m.syntax_error.is_some());
        let names: Vec<&str> = m
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Class(c) => Some(c.name.as_str()),
                _ => None,
            })
            .collect();
        assert!(names.contains(&"B"), "{names:?} in {m:?}");
    }

    /// The value of `_ = <src>`.
    fn value(src: &str) -> Expr {
        match parse_str(&format!("_ = {src}\n")).body.into_iter().next() {
            Some(Stmt::Assign { value: Some(v), .. }) => v,
            other => panic!("not an expression: {other:?}"),
        }
    }

    #[test]
    fn fstrings_keep_their_parts() {
        let Expr::FString(parts) = value(r#"f"{{a}}_{cls.__name__!r:>4}\n{x.lower()}""#) else {
            panic!("an f-string")
        };
        assert_eq!(parts[0], FStringPart::Text("{a}_".into()));
        assert_eq!(
            parts[1],
            FStringPart::Value {
                value: Expr::Name("cls.__name__".into()),
                conversion: Some('r'),
                spec: Some(">4".into()),
            }
        );
        assert_eq!(parts[2], FStringPart::Text("\n".into()));
        assert!(
            matches!(&parts[3], FStringPart::Value { value: Expr::Call(c), .. } if c.func_name() == Some("x.lower"))
        );
        // A spec with an interpolation of its own is not read.
        assert!(matches!(value(r#"f"{x:{w}}""#), Expr::Other(_)));
    }

    #[test]
    fn comprehensions_comparisons_and_conditionals() {
        let Expr::Comprehension(comp) = value("[x.lower() for x in names if x]") else {
            panic!("a comprehension")
        };
        assert_eq!(comp.kind, ComprehensionKind::List);
        assert_eq!(comp.clauses[0].target, Expr::Name("x".into()));
        assert_eq!(comp.clauses[0].iter, Expr::Name("names".into()));
        assert_eq!(comp.clauses[0].conditions, vec![Expr::Name("x".into())]);
        let Expr::Comprehension(comp) = value("{k: v for k, v in d.items()}") else {
            panic!("a dict comprehension")
        };
        assert_eq!(comp.kind, ComprehensionKind::Dict);
        assert_eq!(comp.value, Some(Expr::Name("v".into())));
        assert!(matches!(&comp.clauses[0].target, Expr::List(names) if names.len() == 2));
        let Expr::Compare { ops, rights, .. } = value("a not in b is not c < d") else {
            panic!("a comparison")
        };
        assert_eq!(ops, vec!["not in", "is not", "<"]);
        assert_eq!(rights.len(), 3);
        assert!(
            matches!(value("a if b else c"), Expr::IfElse { test, .. } if *test == Expr::Name("b".into()))
        );
        assert!(matches!(value("not a"), Expr::Not(_)));
        let Expr::Subscript { index, .. } = value("s[1:]") else {
            panic!("a subscript")
        };
        assert_eq!(
            index,
            vec![Expr::Slice {
                start: Some(Box::new(Expr::Int(1))),
                stop: None,
                step: None
            }]
        );
    }

    #[test]
    fn splats_params_and_jumps() {
        let Expr::Dict(pairs) = value("{**a, 'k': 1}") else {
            panic!("a dict")
        };
        assert!(matches!(
            &pairs[0],
            (Expr::Splat { double: true, .. }, Expr::None)
        ));
        assert!(
            matches!(&value("[*a, b]"), Expr::List(items) if matches!(items[0], Expr::Splat { double: false, .. }))
        );
        let Expr::Call(call) = value("f('t', *cols, x=1, **kw)") else {
            panic!("a call")
        };
        assert_eq!(call.args.len(), 1);
        assert_eq!(call.star_args, vec![(1, Expr::Name("cols".into()))]);
        assert_eq!(call.kw_splats, vec![Expr::Name("kw".into())]);
        assert!(call.has_splat);
        let m = parse_str(
            "def f(cls, a, b: int = 2, *rest, c='x', **kw):\n    x += 'a'\n    if a:\n        raise E\n    elif b:\n        pass\n    else:\n        return x\n",
        );
        let Stmt::Function(f) = &m.body[0] else {
            panic!("a function")
        };
        let params: Vec<(&str, ParamKind, bool)> = f
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.kind, p.default.is_some()))
            .collect();
        assert_eq!(
            params,
            vec![
                ("cls", ParamKind::Plain, false),
                ("a", ParamKind::Plain, false),
                ("b", ParamKind::Plain, true),
                ("rest", ParamKind::VarArgs, false),
                ("c", ParamKind::KeywordOnly, true),
                ("kw", ParamKind::VarKeywords, false),
            ]
        );
        assert!(matches!(&f.body[0], Stmt::AugAssign { op, .. } if op == "+"));
        let kinds: Vec<BlockKind> = f.body[1..]
            .iter()
            .filter_map(|s| match s {
                Stmt::Block { kind, .. } => Some(*kind),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, vec![BlockKind::If, BlockKind::Elif, BlockKind::Else]);
        assert!(
            matches!(&f.body[1], Stmt::Block { body, .. } if body[0] == Stmt::Jump(Jump::Raise))
        );
    }

    #[test]
    fn quoted_annotations_parse_as_expressions() {
        assert!(matches!(
            parse_expression("Mapped[Optional[int]]"),
            Some(Expr::Subscript { value, .. }) if value.as_name() == Some("Mapped")
        ));
        assert_eq!(parse_expression("a b"), None);
        assert_eq!(parse_expression("a\nb"), None);
    }

    fn class_names(m: &PyModule) -> Vec<&str> {
        m.body
            .iter()
            .filter_map(|s| match s {
                Stmt::Class(c) => Some(c.name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Issue 11: nesting that CPython compiles (a long `+` chain) or that only a generator
    /// writes (thousands of brackets) must not overflow the stack; the file gets one warning
    /// at the place and the rest of it is read.
    #[test]
    fn regression_issue_11_deep_nesting_is_cut_off_and_the_rest_is_read() {
        let tail = "\nclass After(Base):\n    x = Column(Integer)\n";
        let inputs = [
            format!("X = \"a\"{}{tail}", " + \"a\"".repeat(2100)),
            format!("X = {}1{}{tail}", "(".repeat(5000), ")".repeat(5000)),
            format!("X = {}1{}{tail}", "[".repeat(5000), "]".repeat(5000)),
            format!("X = {}1{}{tail}", "{".repeat(5000), "}".repeat(5000)),
            format!("X = f{}{tail}", "()".repeat(5000)),
            format!("X = a{}{tail}", "[0]".repeat(5000)),
            format!("X = {}1{tail}", "-".repeat(5000)),
            format!("X = {}1{tail}", "lambda: ".repeat(5000)),
            format!("X: {}int{}{tail}", "List[".repeat(5000), "]".repeat(5000)),
        ];
        for src in &inputs {
            let m = parse_str(src);
            assert_eq!(class_names(&m), ["After"], "{}", &src[..40]);
            let at = m.too_deep.as_ref().expect("nesting is cut off");
            assert_eq!(at.line, 1, "{}", &src[..40]);
            assert!(m.syntax_error.is_none(), "{}", &src[..40]);
        }
        // Blocks nest too: tree-sitter reads 5,000 levels of `if` (CPython stops at 100).
        let mut blocks = String::new();
        for depth in 0..5000 {
            blocks.push_str(&" ".repeat(depth));
            blocks.push_str("if x:\n");
        }
        blocks.push_str(&" ".repeat(5000));
        blocks.push_str("pass\n");
        blocks.push_str(tail);
        let m = parse_str(&blocks);
        assert_eq!(class_names(&m), ["After"]);
        assert!(m.too_deep.is_some());
        // Nesting up to the bound is read whole.
        let src = format!("X = {}1{}\n", "(".repeat(90), ")".repeat(90));
        let m = parse_str(&src);
        assert!(m.too_deep.is_none());
        assert!(matches!(
            &m.body[0],
            Stmt::Assign {
                value: Some(Expr::Int(1)),
                ..
            }
        ));
    }

    /// Issue 11: old Mac files end lines with a lone CR, which CPython accepts and
    /// tree-sitter-python does not; locations stay the file's.
    #[test]
    fn regression_issue_11_a_lone_cr_ends_a_line() {
        let m = parse_str(
            "import sqlalchemy as sa\r\rclass A(Base):\r    __table_args__ = {\"schema\": \"core\"}\r    x = sa.Column(sa.Integer)  # note\r\rclass B(Base):\r\n    y = 1\r",
        );
        assert!(m.syntax_error.is_none(), "{m:?}");
        assert_eq!(class_names(&m), ["A", "B"]);
        let Stmt::Class(a) = &m.body[1] else {
            panic!("class A")
        };
        assert_eq!(a.location.line, 3);
        let Some(Stmt::Assign { location, .. }) = a.body.get(1) else {
            panic!("x = …")
        };
        assert_eq!((location.line, location.column), (5, 5));
        assert_eq!((m.comments[0].line, m.comments[0].column), (5, 32));
        let Stmt::Class(b) = &m.body[2] else {
            panic!("class B")
        };
        assert_eq!(b.location.line, 7);
    }

    /// Issue 11: an unclosed bracket no longer hides the rest of the file, and the warning
    /// points at the bracket (where CPython points), not at `1:1`.
    #[test]
    fn regression_issue_11_an_unclosed_bracket_hides_nothing_after_its_statement() {
        let m = parse_str(
            "import sqlalchemy as sa\n\nclass A(Base):\n    x = sa.Column(sa.String(20), unique=True\n    y = sa.Column(sa.Integer)\n\nclass B(Base):\n    z = 1\n",
        );
        let error = m.syntax_error.as_ref().expect("a syntax error");
        assert_eq!((error.location.line, error.location.column), (4, 18));
        assert_eq!(error.detail.as_deref(), Some("`(` is never closed"));
        assert_eq!(class_names(&m), ["A", "B"]);
        let Stmt::Class(a) = &m.body[1] else {
            panic!("class A")
        };
        let targets: Vec<&Expr> = a
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Assign { targets, .. } => targets.first(),
                _ => None,
            })
            .collect();
        assert_eq!(targets, [&Expr::Name("x".into()), &Expr::Name("y".into())]);
    }

    #[test]
    fn every_field_and_kind_the_walker_asks_for_is_in_the_grammar() {
        // A grammar update that renamed one would make its lookups find nothing, silently.
        let grammar = format!("{:?}", *GRAMMAR);
        assert!(
            !grammar.contains(": 0,") && !grammar.contains(": 0 }"),
            "{grammar}"
        );
    }

    #[test]
    fn comments_and_decorators() {
        let m = parse_str(
            "class A(Base):  # driftguard: ignore[DG002]\n    @declared_attr\n    def __tablename__(cls):\n        return 'a'\n",
        );
        assert_eq!(m.comments[0].line, 1);
        assert!(m.comments[0].text.contains("ignore[DG002]"));
        let Stmt::Class(class) = &m.body[0] else {
            panic!()
        };
        let Stmt::Function(f) = &class.body[0] else {
            panic!()
        };
        assert_eq!(f.decorators, vec![Expr::Name("declared_attr".into())]);
        assert!(matches!(&f.body[0], Stmt::Return { value: Some(Expr::Str(s)), .. } if s == "a"));
    }

    #[test]
    fn joined_strings_with_an_f_string_are_one_f_string() {
        let m = parse_str("a = f'ALTER {t} ' 'SET ' f\"{c}!\"\nb = 'x' f'y'\n");
        let values = assigned_values(&m);
        let value = |name: &str| FStringPart::Value {
            value: Expr::Name(name.into()),
            conversion: None,
            spec: None,
        };
        assert_eq!(
            values[0],
            &Expr::FString(vec![
                FStringPart::Text("ALTER ".into()),
                value("t"),
                FStringPart::Text(" SET ".into()),
                value("c"),
                FStringPart::Text("!".into()),
            ])
        );
        // An f-string without interpolations is plain text: the whole is a string.
        assert_eq!(values[1], &Expr::Str("xy".into()));
    }
}
