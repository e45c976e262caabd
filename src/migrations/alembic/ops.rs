//! The body of a revision's `upgrade()` → schema change events: the `op.*` dispatcher.
//!
//! Reads `op.*` calls (`create_table`, `add_column`, `alter_column`, `execute`, …), the
//! `batch_op.*` calls inside `with op.batch_alter_table(…) as batch_op:` (any alias), and
//! enum types created by `.create(bind)` or implicitly by `op.create_table`. Everything else in
//! the body is passed over.
//!
//! What is read, and why:
//! - **Only `upgrade()`**, plus the helpers it calls by name, [`HELPER_DEPTH`] deep: functions
//!   of the same file (also one defined inside `upgrade()`) and functions imported from other
//!   modules of the project (through the evaluator's index), never anything named
//!   `downgrade…`. A helper's parameters are bound to the call's arguments as the caller sees
//!   them (`add_timestamps("jobs")`, defaults, keywords). A column, a list of columns or a
//!   `sa.Table(…)` may come from such a function too (`op.add_column("t", _fk("owner"))`,
//!   `op.create_table("t", *_common())`, `_make_table("audit").create(bind)`). Alembic's
//!   multi-database template dispatches with `globals()["upgrade_%s" % engine_name]()`; then
//!   every `upgrade_<engine>()` is read.
//! - **Tables created without `op.create_table`**: `table.create(bind)` / `.drop(bind)` of a
//!   `sa.Table(…)` (bound to a name, or returned by a helper), `metadata.create_all(bind,
//!   tables=[…])` / `drop_all` (also `Model.__table__` items, and without `tables=` every table
//!   the revision puts on that metadata), `op.create_table(name, *columns)`.
//! - **A project's wrappers** of Alembic operations, imported by the operation's own name
//!   (`from app.migrations.utils import create_table, add_columns`), are read as that
//!   operation: wrappers exist to add guards (`if not has_table(…)`), not other meanings.
//! - **Every branch of an `if` whose condition cannot be decided**, the body of a loop once,
//!   the `try` body (and its `else` and `finally`) but not `except`: the question is "can this
//!   column exist after the migrations", so the reader over-approximates what is created. A
//!   condition the evaluator decides — on PostgreSQL, `op.get_bind().dialect.name ==
//!   "sqlite"` is false — reads only the branch that runs.
//! - **Names**: a bare name bound in the function or at module level to an expression
//!   (`t = "customers"`, `status = postgresql.ENUM(…)`) stands for that expression (the last
//!   binding); a constant string is evaluated where it is bound, so `sql = sql + "…"` works.
//!   A loop over a constant sequence (a tuple, a name bound to one, `zip(…)`, a dict's
//!   `.keys()`/`.values()`/`.items()`) is read once per item with its target bound; other
//!   loops once, their target unknown. Function parameters and imports are unknown. All of
//!   this is [`super::eval`]'s: this module walks the statements and binds names into the
//!   evaluator's [`Scope`] as it goes, and asks an [`Env`] what an argument is.
//! - **Columns**: the arguments of `sa.Column(…)` are sorted by the reader the models share,
//!   [`column::read`]; what they mean for a migration (a default rendered as SQL, `SERIAL`,
//!   the reference of the last `ForeignKey`) is decided here.
//! - **Types** come from [`types::column_type`]; a type the project builds (a helper, a class
//!   deriving a SQLAlchemy type whose `__init__` passes `timezone=True` on, an alias
//!   `StringID = sa.String`, a name imported from another module) is evaluated to the
//!   SQLAlchemy type first. A type it does not know (a project's `TypeDecorator`) becomes the
//!   placeholder user-defined type `unknown`, so the column still exists with "some type".
//! - **Enums**: `sa.Enum("a", "b", name="status")` in a column of `create_table`/`add_column`
//!   creates the type first, as SQLAlchemy's `create_type=True` default does, unless
//!   `create_type=False`; `<enum>.create(bind)` creates it explicitly. (Plain Alembic does not
//!   create the type for `add_column`; a revision that works has the type at that point
//!   anyway, so saying it exists there is safe.) One revision creates a name once.
//! - **A single integer primary key** without defaults or foreign key becomes `SERIAL` in
//!   `create_table`, as SQLAlchemy renders it: its default is the sequence's `nextval`.
//! - **`op.execute`** of a constant string (also `sa.text(…)`, `DDL(…)`, implicit or `+`
//!   concatenation, a name bound to one) goes to the SQL reader at the string's own location.
//!   SQL the evaluator can build from constants (an f-string of module constants, `%` or
//!   `.format` with a helper's result) is read the same way; SQL built from what only running
//!   can know is a warning only when its literal parts look like DDL on a table, type or
//!   schema; data statements (`op.execute(t.update()…)`) are silent.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use std::rc::Rc;

use super::eval::{
    self, EVAL_DEPTH, Env, Globals, ModuleCtx, RESOLVE_DEPTH, Scope, Value, bare_name,
};
use crate::migrations::{
    ColumnDef, ForeignKeyRef, MigrationEvents, QualifiedName, ReadWarning, SchemaChange, sql,
};
use crate::postgres_type::SqlType;
use crate::pyast::{
    self, BlockKind, Call, ClassDef, Expr, FStringPart, FunctionDef, PyModule, Stmt,
};
use crate::pyeval::{ModuleIndex, ModuleSummary};
use crate::source::{Location, SourceFile};
use crate::sqlalchemy::column::{self, Grammar, Repeated, TypeArg};
use crate::sqlalchemy::{enums, types};

/// How many helper calls deep the reader follows from `upgrade()`.
const HELPER_DEPTH: usize = 3;

/// Alembic operations a project commonly wraps in a shared helper module under the same name
/// (Superset's `create_table`, `add_columns`, `drop_columns`, `drop_table`).
const OP_HELPERS: &[&str] = &[
    "create_table",
    "add_column",
    "add_columns",
    "drop_column",
    "drop_columns",
    "drop_table",
    "rename_table",
    "alter_column",
];

/// Reads the `upgrade()` of a parsed revision file, with the project's other modules in
/// `index` (helpers, constants and column types a revision imports from them).
pub(super) fn read_upgrade(
    file: &SourceFile,
    module: &PyModule,
    index: &ModuleIndex<'_>,
) -> MigrationEvents {
    let summary = ModuleSummary::new(&file.path, module);
    let ctx = ModuleCtx {
        summary: &summary,
        index,
    };
    let mut reader = UpgradeReader::new(file, module, ctx);
    reader.run();
    reader.finish()
}

/// What the reader knows inside one function it reads.
#[derive(Default)]
struct Frame<'a> {
    /// The names bound so far, for the evaluator.
    scope: Scope<'a>,
    /// `with op.batch_alter_table("t") as alias:` → alias → the table.
    batches: HashMap<&'a str, QualifiedName>,
    /// Functions defined inside the function being read (`def _add(): …` in `upgrade()`).
    functions: HashMap<&'a str, &'a FunctionDef>,
    /// Names bound to `op.get_bind()`: their `.execute(…)` is `op.execute(…)`.
    binds: HashSet<&'a str>,
    /// A helper's `*args` parameter and the positional arguments it received (followed to
    /// what they stand for in the caller), for `op.create_table(name, …, *args)`.
    varargs: Option<(&'a str, Vec<&'a Expr>)>,
    depth: usize,
    /// The module-level names of the module the function belongs to, when it is not the
    /// revision (a helper imported from another module of the project).
    globals: Option<Rc<Globals<'a>>>,
}

/// The Alembic reader's answers to the shared `Column(…)` reader: constants through the
/// evaluator, a call's kind by its name as written (a revision's imports are not followed).
impl<'a> column::Names<'a> for Env<'_, 'a> {
    fn const_str(&self, expr: &'a Expr) -> Option<String> {
        Env::const_str(self, expr)
    }

    fn kind<'c>(&self, call: &'c Call) -> Cow<'c, str> {
        Cow::Borrowed(call.func.last_name().unwrap_or(""))
    }
}

struct UpgradeReader<'a> {
    file: &'a SourceFile,
    /// Module-level functions by name (the last definition wins, as in Python).
    functions: HashMap<&'a str, &'a FunctionDef>,
    /// Module-level functions in file order, each name once.
    function_order: Vec<&'a str>,
    globals: Globals<'a>,
    /// The revision's module and the project's other modules, for the evaluator.
    ctx: ModuleCtx<'a>,
    /// Module-level `class Status(enum.Enum)`-like classes of the revision, by name.
    enum_classes: HashMap<&'a str, &'a ClassDef>,
    /// Functions read as entry points (`upgrade_<engine>`): not read again as helpers.
    entry_points: HashSet<&'a str>,
    /// Module-level classes of the revision (models it declares for its own use), by name.
    classes: HashMap<&'a str, &'a ClassDef>,
    /// Names imported with `from m import create_table [as x]`: local name → Alembic op name.
    imported_ops: HashMap<&'a str, &'static str>,
    created_enums: HashSet<QualifiedName>,
    out: MigrationEvents,
}

impl<'a> UpgradeReader<'a> {
    fn new(file: &'a SourceFile, module: &'a PyModule, ctx: ModuleCtx<'a>) -> Self {
        let mut functions = HashMap::new();
        let mut function_order = Vec::new();
        let mut enum_classes = HashMap::new();
        let mut classes = HashMap::new();
        for stmt in &module.body {
            if let Stmt::Class(class) = stmt {
                classes.insert(class.name.as_str(), class);
            }
            match stmt {
                Stmt::Function(f) if functions.insert(f.name.as_str(), f).is_none() => {
                    function_order.push(f.name.as_str());
                }
                Stmt::Class(class) if is_enum_class(class) => {
                    enum_classes.insert(class.name.as_str(), class);
                }
                _ => {}
            }
        }
        let mut imported_ops = HashMap::new();
        for import in module.imports() {
            if import.from.is_none() {
                continue;
            }
            for (name, alias) in &import.names {
                if let Some(op) = OP_HELPERS.iter().find(|op| **op == name.as_str()) {
                    imported_ops.insert(alias.as_deref().unwrap_or(name.as_str()), *op);
                }
            }
        }
        let mut globals = Globals::read(&module.body);
        globals.ctx = Some(ctx);
        UpgradeReader {
            file,
            functions,
            function_order,
            globals,
            ctx,
            enum_classes,
            classes,
            imported_ops,
            entry_points: HashSet::new(),
            created_enums: HashSet::new(),
            out: MigrationEvents::default(),
        }
    }

    fn run(&mut self) {
        let Some(upgrade) = self.functions.get("upgrade").copied() else {
            return;
        };
        let multi_db = dispatches_through_globals(&upgrade.body);
        let engines: Vec<&'a str> = if multi_db {
            self.function_order
                .iter()
                .copied()
                .filter(|name| name.starts_with("upgrade_"))
                .collect()
        } else {
            Vec::new()
        };
        self.entry_points.extend(engines.iter().copied());
        self.read_function(upgrade, 0);
        for name in engines {
            if let Some(f) = self.functions.get(name).copied() {
                self.read_function(f, 0);
            }
        }
    }

    fn finish(mut self) -> MigrationEvents {
        let mut seen = HashSet::new();
        self.out
            .warnings
            .retain(|w| seen.insert((w.message.clone(), w.location.clone())));
        self.out
    }

    fn read_function(&mut self, function: &'a FunctionDef, depth: usize) {
        let mut frame = Frame {
            depth,
            ..Frame::default()
        };
        self.body(&function.body, &mut frame);
    }

    /// What the evaluator sees inside `frame`.
    fn env<'e>(&'e self, frame: &'e Frame<'a>) -> Env<'e, 'a> {
        let globals = frame.globals.as_deref().unwrap_or(&self.globals);
        Env::new(globals, &frame.scope)
    }

    fn warn(&mut self, location: &Location, message: impl Into<String>) {
        self.out.warnings.push(ReadWarning {
            message: message.into(),
            location: location.clone(),
        });
    }

    fn push(&mut self, change: SchemaChange) {
        self.out.changes.push(change);
    }

    // ----- statements -------------------------------------------------------------------

    fn body(&mut self, stmts: &'a [Stmt], frame: &mut Frame<'a>) {
        let mut skip_chain = false;
        for stmt in stmts {
            // `if`/`elif`/`else` on what the evaluator knows (the dialect is PostgreSQL's):
            // a false condition's branch is not read; after a true one, the rest of the chain
            // is not. A condition it cannot decide is read, as is every branch after it.
            if let Stmt::Block {
                kind: kind @ (BlockKind::If | BlockKind::Elif | BlockKind::Else),
                items,
                body,
                ..
            } = stmt
            {
                if *kind == BlockKind::If {
                    skip_chain = false;
                }
                if skip_chain {
                    continue;
                }
                let truth = match items.first() {
                    Some((condition, _)) if *kind != BlockKind::Else => {
                        self.env(frame).truthy(condition)
                    }
                    _ => None,
                };
                match truth {
                    Some(false) => {}
                    Some(true) => {
                        self.body(body, frame);
                        skip_chain = true;
                    }
                    None => self.body(body, frame),
                }
                continue;
            }
            skip_chain = false;
            match stmt {
                Stmt::Expr { value, .. }
                | Stmt::Return {
                    value: Some(value), ..
                } => self.expr(value, frame),
                Stmt::Assign {
                    targets,
                    value: Some(value),
                    location,
                    ..
                } => {
                    self.expr(value, frame);
                    if let Some(helper) = value
                        .as_call()
                        .and_then(|c| bare_name(&c.func))
                        .and_then(|n| self.functions.get(n).copied())
                    {
                        frame.scope.bind_returned(targets, helper);
                    }
                    let names: Vec<&'a str> = targets.iter().filter_map(bare_name).collect();
                    let globals = frame.globals.clone();
                    let globals = globals.as_deref().unwrap_or(&self.globals);
                    frame.scope.assign(globals, &names, value, location);
                    for name in names {
                        if is_get_bind(value) {
                            frame.binds.insert(name);
                        } else {
                            frame.binds.remove(name);
                        }
                    }
                }
                Stmt::Function(function) => {
                    frame.functions.insert(function.name.as_str(), function);
                }
                Stmt::Block {
                    kind: BlockKind::Except,
                    ..
                } => {}
                Stmt::Block {
                    kind: BlockKind::With,
                    items,
                    body,
                    location,
                } => {
                    for (item, alias) in items {
                        let Some(call) = item.as_call() else {
                            continue;
                        };
                        if !call
                            .func_name()
                            .is_some_and(|n| is_op(n, "batch_alter_table"))
                        {
                            continue;
                        }
                        let table = self.table(call, 0, "table_name", "schema", frame);
                        match (table, alias) {
                            (Some(table), Some(alias)) => {
                                frame.batches.insert(alias.as_str(), table);
                            }
                            (None, _) => self.warn(
                                location,
                                "op.batch_alter_table on a table whose name is not a constant \
                                 string: the changes in this block are not read",
                            ),
                            (Some(_), None) => {}
                        }
                    }
                    self.body(body, frame);
                }
                Stmt::Block {
                    kind: BlockKind::For,
                    items,
                    body,
                    location,
                } => self.for_loop(items, body, location, frame),
                Stmt::Block { body, .. } => self.body(body, frame),
                _ => {}
            }
        }
    }

    /// `for t in ("a", "b"):` (also a name bound to such a sequence, `zip(…)`, `d.items()`,
    /// `d.keys()`, `d.values()`, `list(…)`): the body is read once per item with the loop
    /// target bound to it. Any other iterable: the body is read once, the target unknown.
    fn for_loop(
        &mut self,
        items: &'a [(Expr, Option<String>)],
        body: &'a [Stmt],
        location: &'a Location,
        frame: &mut Frame<'a>,
    ) {
        let unrolled = items.first().and_then(|(iterable, target)| {
            let names = eval::loop_targets(target.as_deref()?)?;
            let iterations = self.env(frame).iterations(&names, iterable)?;
            Some((names, iterations))
        });
        let Some((names, iterations)) = unrolled else {
            return self.body(body, frame);
        };
        for values in iterations {
            for (name, value) in names.iter().zip(values) {
                let globals = frame.globals.clone();
                let globals = globals.as_deref().unwrap_or(&self.globals);
                frame.scope.assign(globals, &[name], value, location);
            }
            self.body(body, frame);
        }
    }

    /// An expression statement (or the value of an assignment): the calls that matter.
    fn expr(&mut self, expr: &'a Expr, frame: &mut Frame<'a>) {
        // `(batch_op.add_column(…),)`: a stray trailing comma makes a tuple of the calls.
        if let Expr::List(items) = expr {
            for item in items {
                self.expr(item, frame);
            }
            return;
        }
        let Expr::Call(call) = expr else {
            return;
        };
        match &call.func {
            Expr::Name(name) => match name.rsplit_once('.') {
                Some((receiver, method)) => {
                    if receiver == "op" || receiver == "alembic.op" {
                        self.op(method, call, frame);
                    } else if let Some(table) = frame.batches.get(receiver).cloned() {
                        self.batch(method, call, &table, frame);
                    } else if method == "create"
                        && let Some(class) = receiver.strip_suffix(".__table__")
                        && let Some(class) = self.classes.get(class).copied()
                    {
                        self.create_class_table(class, call, frame);
                    } else if method == "execute" && frame.binds.contains(receiver) {
                        self.execute(call, frame);
                    } else if matches!(method, "create_all" | "drop_all") {
                        self.metadata_tables(receiver, method == "create_all", call, frame);
                    } else if matches!(method, "create" | "drop")
                        && let Some(binding) = self.env(frame).lookup(receiver)
                        && let Some((table, table_frame)) =
                            self.table_object(binding.value, frame, 0)
                    {
                        let table_frame = table_frame.as_deref().unwrap_or(frame);
                        self.table_object_change(table, method == "create", call, table_frame);
                    } else if method == "create"
                        && let Some(binding) = self.env(frame).lookup(receiver)
                        && let Some(ty) = self.enum_of(binding.value)
                    {
                        self.create_enum(ty, None, &call.location, true, frame);
                    }
                }
                None => match self.imported_ops.get(name.as_str()).copied() {
                    Some(op) if !self.functions.contains_key(name.as_str()) => {
                        self.imported_op(op, call, frame);
                    }
                    _ => self.helper(name, call, frame),
                },
            },
            Expr::Attribute { value, attr } => match attr.as_str() {
                "create" | "drop" => {
                    if let Some((table, table_frame)) = self.table_object(value, frame, 0) {
                        let table_frame = table_frame.as_deref().unwrap_or(frame);
                        self.table_object_change(table, attr == "create", call, table_frame);
                    } else if attr == "create"
                        && let Some(ty) = self.enum_of(value)
                    {
                        self.create_enum(ty, None, &call.location, true, frame);
                    }
                }
                "execute" if is_get_bind(value) => self.execute(call, frame),
                _ => {}
            },
            _ => {}
        }
    }

    /// The `Enum(…)` call an expression builds: the call itself, or what a module-level
    /// function it calls returns (`_status_enum().create(bind)`).
    fn enum_of(&self, expr: &'a Expr) -> Option<&'a Call> {
        if let Some(call) = enum_call(expr) {
            return Some(call);
        }
        let name = bare_name(&expr.as_call()?.func)?;
        let function = self.functions.get(name)?;
        function.body.iter().find_map(|stmt| match stmt {
            Stmt::Return {
                value: Some(value), ..
            } => enum_call(value),
            _ => None,
        })
    }

    /// A call of a helper by bare name — a function of the revision, or one imported from
    /// another module of the project — read with its parameters bound to the call's
    /// arguments, [`HELPER_DEPTH`] deep.
    fn helper(&mut self, name: &str, call: &'a Call, frame: &Frame<'a>) {
        if frame.depth >= HELPER_DEPTH
            || name == "upgrade"
            || name.starts_with("downgrade")
            || self.entry_points.contains(name)
        {
            return;
        }
        if let Some((function, mut callee)) = self.callee(name, call, frame) {
            self.body(&function.body, &mut callee);
        }
    }

    /// The function `name` calls (the revision's, one defined in the function being read, or
    /// one imported from another module of the project) and a frame for reading it: its
    /// parameters bound to `call`'s arguments as the caller sees them.
    fn callee(
        &self,
        name: &str,
        call: &'a Call,
        frame: &Frame<'a>,
    ) -> Option<(&'a FunctionDef, Frame<'a>)> {
        let (function, globals) = match self.function(name, frame) {
            Some(function) => (function, frame.globals.clone()),
            None => {
                let crate::pyeval::Value::Function(func) = self.env(frame).evaluate(&call.func)
                else {
                    return None;
                };
                if std::ptr::eq(func.module, self.ctx.summary) {
                    (func.def, None)
                } else {
                    let ctx = ModuleCtx {
                        summary: func.module,
                        index: self.ctx.index,
                    };
                    (func.def, Some(Rc::new(Globals::of_summary(ctx))))
                }
            }
        };
        let mut callee = Frame {
            depth: frame.depth + 1,
            globals,
            ..Frame::default()
        };
        self.bind_args(function, call, frame, &mut callee);
        Some((function, callee))
    }

    /// Binds a function's parameters to a call's arguments: positional ones in order, then
    /// keywords, then defaults. An argument is followed to what it stands for in the caller,
    /// and a constant string is kept as one.
    fn bind_args(
        &self,
        function: &'a FunctionDef,
        call: &'a Call,
        caller: &Frame<'a>,
        callee: &mut Frame<'a>,
    ) {
        let env = self.env(caller);
        // Positional arguments after a `*args` are not known.
        let known_positional = call
            .star_args
            .first()
            .map_or(call.args.len(), |(at, _)| *at);
        let mut position = 0;
        for param in &function.params {
            let argument = match param.kind {
                pyast::ParamKind::Plain => {
                    let at = position;
                    position += 1;
                    if at >= known_positional
                        && at < call.args.len() + call.star_args.len()
                        && let Some((_, star)) = call.star_args.first()
                    {
                        // What `*args` holds is not this parameter's value.
                        callee
                            .scope
                            .bind_param(&param.name, star, &call.location, None);
                        continue;
                    }
                    call.args
                        .get(at)
                        .filter(|_| at < known_positional)
                        .or_else(|| call.kwarg(&param.name))
                }
                pyast::ParamKind::KeywordOnly => call.kwarg(&param.name),
                pyast::ParamKind::VarArgs => {
                    // Known only when the call passes no `*x` of its own.
                    if call.star_args.is_empty() {
                        let rest = call.args.get(position..).unwrap_or_default();
                        callee.varargs = Some((
                            param.name.as_str(),
                            rest.iter().map(|a| env.resolve(a).value).collect(),
                        ));
                    }
                    position = usize::MAX / 2;
                    continue;
                }
                pyast::ParamKind::VarKeywords => continue,
            };
            match argument {
                Some(arg) => {
                    let string = env.const_str(arg);
                    callee.scope.bind_param(
                        &param.name,
                        env.resolve(arg).value,
                        &call.location,
                        string,
                    );
                }
                None => {
                    if let Some(default) = &param.default {
                        let string = self.env(callee).const_str(default);
                        callee
                            .scope
                            .bind_param(&param.name, default, &call.location, string);
                    }
                }
            }
        }
    }

    // ----- op.* and batch_op.* ----------------------------------------------------------

    fn op(&mut self, method: &str, call: &'a Call, frame: &Frame<'a>) {
        match method {
            "create_table" => self.create_table(call, frame),
            "add_column" => {
                if let Some(table) = self.table(call, 0, "table_name", "schema", frame) {
                    self.add_column(&table, arg(call, 1, "column"), call, frame);
                } else {
                    self.unreadable_table(call, method);
                }
            }
            "drop_column" => {
                let Some(table) = self.table(call, 0, "table_name", "schema", frame) else {
                    return self.unreadable_table(call, method);
                };
                self.drop_column(table, arg(call, 1, "column_name"), call, frame);
            }
            "alter_column" => {
                let Some(table) = self.table(call, 0, "table_name", "schema", frame) else {
                    return self.unreadable_table(call, method);
                };
                self.alter_column(table, arg(call, 1, "column_name"), call, frame);
            }
            "rename_table" => {
                let Some(table) = self.table(call, 0, "old_table_name", "schema", frame) else {
                    return self.unreadable_table(call, method);
                };
                match arg(call, 1, "new_table_name").and_then(|e| self.env(frame).const_str(e)) {
                    Some(new_name) => self.push(SchemaChange::RenameTable {
                        table,
                        new_name,
                        location: call.location.clone(),
                    }),
                    None => self.warn(
                        &call.location,
                        format!(
                            "op.rename_table of `{table}` to a name that is not a constant string"
                        ),
                    ),
                }
            }
            "drop_table" => {
                let Some(table) = self.table(call, 0, "table_name", "schema", frame) else {
                    return self.unreadable_table(call, method);
                };
                self.push(SchemaChange::DropTable {
                    table,
                    location: call.location.clone(),
                });
            }
            "create_primary_key" => {
                let Some(table) = self.table(call, 1, "table_name", "schema", frame) else {
                    return self.unreadable_table(call, method);
                };
                self.primary_key(table, arg(call, 2, "columns"), call, frame);
            }
            "create_foreign_key" => {
                let Some(table) = self.table(call, 1, "source_table", "source_schema", frame)
                else {
                    return self.unreadable_table(call, method);
                };
                let referent = self.table(call, 2, "referent_table", "referent_schema", frame);
                self.foreign_key(
                    table,
                    referent,
                    arg(call, 3, "local_cols"),
                    arg(call, 4, "remote_cols"),
                    call,
                    frame,
                );
            }
            "execute" => self.execute(call, frame),
            _ => {}
        }
    }

    /// `Tag.__table__.create(bind)` for a class the revision declares: a `CREATE TABLE` of
    /// its `__tablename__` with the columns its body (and the bases the revision declares)
    /// assigns with `Column(…)`. Columns of bases imported from elsewhere cannot be seen.
    fn create_class_table(&mut self, class: &'a ClassDef, call: &'a Call, frame: &Frame<'a>) {
        let Some(name) = self.class_table_name(class, frame) else {
            return;
        };
        let mut columns: Vec<ReadColumn> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut queue = vec![class];
        let mut visited = 0;
        while let Some(class) = queue.pop() {
            visited += 1;
            if visited > RESOLVE_DEPTH * 4 {
                break;
            }
            for stmt in &class.body {
                // `x = Column(…)`, or a `@declared_attr` method returning one.
                let (attr, value) = match stmt {
                    Stmt::Assign {
                        targets,
                        value: Some(value),
                        ..
                    } => match targets.first().and_then(bare_name) {
                        Some(attr) => (attr, value),
                        None => continue,
                    },
                    Stmt::Function(function)
                        if function
                            .decorators
                            .iter()
                            .any(|d| d.as_name().is_some_and(|n| n.ends_with("declared_attr"))) =>
                    {
                        let returned = function.body.iter().rev().find_map(|s| match s {
                            Stmt::Return {
                                value: Some(value), ..
                            } => Some(value),
                            _ => None,
                        });
                        match returned {
                            Some(value) => (function.name.as_str(), value),
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                let Some(column_call) = value
                    .as_call()
                    .filter(|c| matches!(c.func.last_name(), Some("Column" | "mapped_column")))
                else {
                    continue;
                };
                let named = column_call.args.first().and_then(Expr::as_str).is_some()
                    || column_call.kwarg("name").is_some();
                let read = if named {
                    self.column(column_call, frame)
                } else {
                    self.unnamed_column(column_call, attr, frame)
                };
                if let Some(read) = read
                    && seen.insert(attr)
                {
                    columns.push(read);
                }
            }
            // Bases the revision declares, and mixins it imports from the project.
            for base in &class.bases {
                if let Some(local) = base.as_name().and_then(|n| self.classes.get(n)) {
                    queue.push(local);
                } else if let crate::pyeval::Value::Class(crate::pyeval::ClassRef::Def {
                    def,
                    ..
                }) = self.env(frame).evaluate(base)
                {
                    queue.push(def);
                }
            }
        }
        let table = QualifiedName::new(None, &name);
        mark_serial(&table, &mut columns, &[], &[]);
        self.push(SchemaChange::CreateTable {
            table,
            if_not_exists: false,
            columns: columns.into_iter().map(|c| c.def).collect(),
            primary_key: Vec::new(),
            copies_from: Vec::new(),
            likes: Vec::new(),
            location: call.location.clone(),
        });
    }

    /// `id = Column(Integer, primary_key=True)` in a class body: the attribute is the name.
    fn unnamed_column(
        &self,
        call: &'a Call,
        attr: &str,
        frame: &Frame<'a>,
    ) -> Option<ReadColumn<'a>> {
        let mut read = self.column_with_name(call, Some(attr.to_string()), frame)?;
        read.def.name = attr.to_string();
        Some(read)
    }

    /// A class's constant `__tablename__`.
    fn class_table_name(&self, class: &'a ClassDef, frame: &Frame<'a>) -> Option<String> {
        class.body.iter().find_map(|stmt| match stmt {
            Stmt::Assign {
                targets,
                value: Some(value),
                ..
            } if targets.first().and_then(bare_name) == Some("__tablename__") => {
                self.env(frame).const_str(value)
            }
            _ => None,
        })
    }

    /// `NewTable.__tablename__` for a class the revision itself declares.
    fn local_class_table(&self, expr: &'a Expr, frame: &Frame<'a>) -> Option<String> {
        let name = expr.as_name()?;
        let class = name
            .strip_suffix(".__tablename__")
            .or_else(|| name.strip_suffix(".__table__.name"))?;
        self.class_table_name(self.classes.get(class)?, frame)
    }

    /// A project's own wrapper of an Alembic operation, imported from a shared module
    /// (`from app.migrations.utils import create_table, add_columns`): read as the operation
    /// of the same name, with the same arguments. The plural `add_columns(table, *columns)`
    /// and `drop_columns(table, *names)` are read as one operation per column.
    fn imported_op(&mut self, op: &'static str, call: &'a Call, frame: &Frame<'a>) {
        match op {
            "add_columns" | "drop_columns" => {
                let Some(table) = self.table(call, 0, "table_name", "schema", frame) else {
                    return self.unreadable_table(call, op);
                };
                for item in call.args.iter().skip(1) {
                    if op == "add_columns" {
                        self.add_column(&table, Some(item), call, frame);
                    } else {
                        self.drop_column(table.clone(), Some(item), call, frame);
                    }
                }
            }
            _ => self.op(op, call, frame),
        }
    }

    fn batch(&mut self, method: &str, call: &'a Call, table: &QualifiedName, frame: &Frame<'a>) {
        match method {
            "add_column" => self.add_column(table, arg(call, 0, "column"), call, frame),
            "drop_column" => {
                self.drop_column(table.clone(), arg(call, 0, "column_name"), call, frame);
            }
            "alter_column" => {
                self.alter_column(table.clone(), arg(call, 0, "column_name"), call, frame);
            }
            "create_primary_key" => {
                self.primary_key(table.clone(), arg(call, 1, "columns"), call, frame);
            }
            "create_foreign_key" => {
                let referent = self.table(call, 1, "referent_table", "referent_schema", frame);
                self.foreign_key(
                    table.clone(),
                    referent,
                    arg(call, 2, "local_cols"),
                    arg(call, 3, "remote_cols"),
                    call,
                    frame,
                );
            }
            "execute" => self.execute(call, frame),
            _ => {}
        }
    }

    fn unreadable_table(&mut self, call: &Call, method: &str) {
        self.warn(
            &call.location,
            format!("op.{method} on a table whose name is not a constant string: not read"),
        );
    }

    /// `op.create_table(name, *items, schema=…)`; the name and the items may come from a
    /// `*list` (also one a helper returns).
    fn create_table(&mut self, call: &'a Call, frame: &Frame<'a>) {
        let mut positional = self.positional(call, frame);
        let named = match call.kwarg("table_name") {
            Some(name) => self.env(frame).const_str(name),
            None if positional.is_empty() => None,
            None => {
                let (first, first_frame) = positional.remove(0);
                self.env(first_frame.as_deref().unwrap_or(frame))
                    .const_str(first)
            }
        };
        let named = named.or_else(|| {
            self.table(call, 0, "table_name", "schema", frame)
                .map(|t| t.name)
        });
        let Some(name) = named else {
            self.warn(
                &call.location,
                "op.create_table with a table name that is not a constant string: the table \
                 and its columns are not read",
            );
            return;
        };
        let schema = call
            .kwarg("schema")
            .and_then(|e| self.env(frame).const_str(e));
        let table = QualifiedName::new(schema.as_deref(), &name);
        let mut parts = TableParts::default();
        for (item, item_frame) in &positional {
            self.table_item(
                &table,
                item,
                item_frame.as_deref().unwrap_or(frame),
                &mut parts,
            );
        }
        if parts.columns.is_empty() && (call.has_splat || !positional.is_empty()) {
            self.warn(
                &call.location,
                format!("op.create_table of `{table}`: none of its columns could be read"),
            );
        }
        let if_not_exists = call.kwarg("if_not_exists").and_then(Expr::as_bool) == Some(true);
        self.push_table(table, parts, &call.location, if_not_exists, frame);
    }

    /// A call's positional arguments with `*args` expanded, each with the frame its names
    /// belong to (`None`: the caller's): a list bound in the function, or returned by a
    /// helper.
    fn positional(
        &self,
        call: &'a Call,
        frame: &Frame<'a>,
    ) -> Vec<(&'a Expr, Option<Rc<Frame<'a>>>)> {
        let mut out: Vec<(&'a Expr, Option<Rc<Frame<'a>>>)> = Vec::new();
        let mut stars = call.star_args.iter().peekable();
        for (i, arg) in call.args.iter().enumerate() {
            while let Some((_, star)) = stars.next_if(|(at, _)| *at <= i) {
                out.extend(self.splat(star, frame, 0));
            }
            out.push((arg, None));
        }
        for (_, star) in stars {
            out.extend(self.splat(star, frame, 0));
        }
        out
    }

    /// The items of `*expr`: a list (or `a + b` of lists) it stands for, or the list a helper
    /// returns (read in the helper's frame).
    fn splat(
        &self,
        expr: &'a Expr,
        frame: &Frame<'a>,
        depth: usize,
    ) -> Vec<(&'a Expr, Option<Rc<Frame<'a>>>)> {
        if depth > HELPER_DEPTH {
            return Vec::new();
        }
        if let (Some(name), Some((param, items))) = (bare_name(expr), &frame.varargs)
            && name == *param
        {
            return items.iter().map(|item| (*item, None)).collect();
        }
        match self.env(frame).resolve(expr).value {
            Expr::List(items) => items.iter().map(|item| (item, None)).collect(),
            Expr::BinOp { op, left, right } if op == "+" => {
                let mut items = self.splat(left, frame, depth + 1);
                items.extend(self.splat(right, frame, depth + 1));
                items
            }
            Expr::Call(call) => match self.returned(call, frame) {
                Some((returned, callee)) => self
                    .splat(returned, &callee, depth + 1)
                    .into_iter()
                    .map(|(item, inner)| (item, inner.or_else(|| Some(Rc::clone(&callee)))))
                    .collect(),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The `Table(…)` call an expression stands for: the call, a name bound to one, or what a
    /// helper returns (`_make_table("audit")`), with the helper's frame.
    fn table_object(
        &self,
        expr: &'a Expr,
        frame: &Frame<'a>,
        depth: usize,
    ) -> Option<(&'a Call, Option<Rc<Frame<'a>>>)> {
        if depth > HELPER_DEPTH {
            return None;
        }
        let call = self.env(frame).resolve(expr).value.as_call()?;
        if call.func.last_name() == Some("Table") {
            return Some((call, None));
        }
        let (returned, callee) = self.returned(call, frame)?;
        match self.table_object(returned, &callee, depth + 1)? {
            (table, Some(inner)) => Some((table, Some(inner))),
            (table, None) => Some((table, Some(callee))),
        }
    }

    /// `table.create(bind)` / `table.drop(bind)` of a `Table(name, metadata, *items)`:
    /// the table is created with its columns (`checkfirst=True`: if it does not exist), or
    /// dropped.
    fn table_object_change(
        &mut self,
        table_call: &'a Call,
        create: bool,
        call: &'a Call,
        frame: &Frame<'a>,
    ) {
        let mut positional = self.positional(table_call, frame).into_iter();
        let name = positional
            .next()
            .and_then(|(e, f)| self.env(f.as_deref().unwrap_or(frame)).const_str(e));
        let Some(name) = name else {
            self.warn(
                &call.location,
                "a `Table(…)` whose name is not a constant string is created or dropped here: \
                 not read",
            );
            return;
        };
        let schema = table_call
            .kwarg("schema")
            .and_then(|e| self.env(frame).const_str(e));
        let table = QualifiedName::new(schema.as_deref(), &name);
        if !create {
            self.push(SchemaChange::DropTable {
                table,
                location: call.location.clone(),
            });
            return;
        }
        // The metadata argument.
        positional.next();
        let mut parts = TableParts::default();
        for (item, item_frame) in positional {
            self.table_item(
                &table,
                item,
                item_frame.as_deref().unwrap_or(frame),
                &mut parts,
            );
        }
        let checkfirst = call.kwarg("checkfirst").and_then(Expr::as_bool) == Some(true);
        self.push_table(table, parts, &call.location, checkfirst, frame);
    }

    /// `metadata.create_all(bind, tables=[…])` / `drop_all`: the tables listed (`Table`
    /// objects, a revision class's `__table__`); without `tables=`, the revision's own tables
    /// on that metadata (its module-level `Table(…)` objects and, for `Base.metadata`, the
    /// classes deriving from `Base`).
    fn metadata_tables(&mut self, receiver: &str, create: bool, call: &'a Call, frame: &Frame<'a>) {
        let (listed, classes): (Vec<&'a Expr>, Vec<&'a ClassDef>) = match call.kwarg("tables") {
            Some(tables) => match self.env(frame).resolve(tables).value {
                Expr::List(items) => (items.iter().collect(), Vec::new()),
                _ => {
                    self.warn(
                        &call.location,
                        format!(
                            "{receiver}.create_all/drop_all with tables that could not be read"
                        ),
                    );
                    return;
                }
            },
            None => self.tables_on_metadata(receiver),
        };
        for item in listed {
            if let Some(class) = item
                .as_name()
                .and_then(|n| n.strip_suffix(".__table__"))
                .and_then(|c| self.classes.get(c).copied())
            {
                self.class_table_change(class, create, call, frame);
            } else if let Some((table, table_frame)) = self.table_object(item, frame, 0) {
                let table_frame = table_frame.as_deref().unwrap_or(frame);
                self.table_object_change(table, create, call, table_frame);
            }
        }
        for class in classes {
            self.class_table_change(class, create, call, frame);
        }
    }

    /// Creates or drops the table of a class the revision declares.
    fn class_table_change(
        &mut self,
        class: &'a ClassDef,
        create: bool,
        call: &'a Call,
        frame: &Frame<'a>,
    ) {
        if create {
            self.create_class_table(class, call, frame);
        } else if let Some(name) = self.class_table_name(class, frame) {
            self.push(SchemaChange::DropTable {
                table: QualifiedName::new(None, &name),
                location: call.location.clone(),
            });
        }
    }

    /// The revision's tables on the metadata `receiver` names: module-level `Table(…, meta)`
    /// objects with that metadata, and for `Base.metadata` the classes deriving from `Base`
    /// that name a table.
    fn tables_on_metadata(&self, receiver: &str) -> (Vec<&'a Expr>, Vec<&'a ClassDef>) {
        let mut tables: Vec<&'a Expr> = self
            .globals
            .values()
            .filter(|value| {
                value.as_call().is_some_and(|call| {
                    call.func.last_name() == Some("Table")
                        && call.args.get(1).and_then(Expr::as_name) == Some(receiver)
                })
            })
            .collect();
        tables.sort_by_key(|value| value.as_call().map(|c| c.location.clone()));
        tables.dedup_by(|a, b| std::ptr::eq(*a, *b));
        let mut classes: Vec<&'a ClassDef> = match receiver.strip_suffix(".metadata") {
            Some(base) => self
                .classes
                .values()
                .copied()
                .filter(|class| {
                    self.derives_from(class, base, 0)
                        && class.body.iter().any(|s| {
                            matches!(s, Stmt::Assign { targets, .. }
                            if targets.first().and_then(bare_name) == Some("__tablename__"))
                        })
                })
                .collect(),
            None => Vec::new(),
        };
        classes.sort_by_key(|c| c.location.clone());
        (tables, classes)
    }

    /// Whether a class of the revision derives from `base` (through the revision's classes).
    fn derives_from(&self, class: &ClassDef, base: &str, depth: usize) -> bool {
        depth <= RESOLVE_DEPTH
            && class.bases.iter().filter_map(Expr::as_name).any(|b| {
                b == base
                    || self
                        .classes
                        .get(b)
                        .is_some_and(|c| self.derives_from(c, base, depth + 1))
            })
    }

    /// What a helper call returns: the value of its last `return`, followed to what it is
    /// bound to in the helper, and the helper's frame (parameters bound, assignments made).
    fn returned(&self, call: &'a Call, frame: &Frame<'a>) -> Option<(&'a Expr, Rc<Frame<'a>>)> {
        let name = call.func.as_name()?;
        if frame.depth > HELPER_DEPTH {
            return None;
        }
        let (function, mut callee) = self.callee(name, call, frame)?;
        self.bind_assignments(&function.body, &mut callee);
        let value = function.body.iter().rev().find_map(|s| match s {
            Stmt::Return {
                value: Some(value), ..
            } => Some(value),
            _ => None,
        })?;
        let callee = Rc::new(callee);
        let value = self.env(&callee).resolve(value).value;
        Some((value, callee))
    }

    /// The assignments of a body (and of its blocks), without reading operations: what a
    /// helper's names stand for when only its result is wanted.
    fn bind_assignments(&self, body: &'a [Stmt], frame: &mut Frame<'a>) {
        for stmt in body {
            match stmt {
                Stmt::Assign {
                    targets,
                    value: Some(value),
                    location,
                    ..
                } => {
                    let names: Vec<&'a str> = targets.iter().filter_map(bare_name).collect();
                    let globals = frame.globals.clone();
                    let globals = globals.as_deref().unwrap_or(&self.globals);
                    frame.scope.assign(globals, &names, value, location);
                }
                Stmt::Block { body, .. } => self.bind_assignments(body, frame),
                _ => {}
            }
        }
    }

    /// One item of a table: a column, a primary key or a foreign key constraint.
    fn table_item(
        &self,
        table: &QualifiedName,
        item: &'a Expr,
        frame: &Frame<'a>,
        parts: &mut TableParts<'a>,
    ) {
        if let Some((column, column_frame)) = self.column_call(item, frame) {
            if let Some(column) = self.column(column, column_frame.as_deref().unwrap_or(frame)) {
                parts.columns.push(column);
            }
            return;
        }
        let Some(item_call) = self.env(frame).resolve(item).value.as_call() else {
            return;
        };
        match item_call.func.last_name() {
            Some("PrimaryKeyConstraint") => {
                parts.primary_key.extend(
                    item_call
                        .args
                        .iter()
                        .filter_map(|a| self.env(frame).const_str(a)),
                );
            }
            Some("ForeignKeyConstraint") => {
                let local = arg(item_call, 0, "columns").and_then(|e| self.env(frame).str_list(e));
                let remote =
                    arg(item_call, 1, "refcolumns").and_then(|e| self.env(frame).str_list(e));
                if let (Some(local), Some(remote)) = (local, remote)
                    && let Some(references) = dotted_reference(&remote)
                {
                    parts.foreign_keys.push(SchemaChange::AddForeignKey {
                        table: table.clone(),
                        columns: local,
                        references,
                        location: item_call.location.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    /// Emits a table read from its parts: `SERIAL` for its integer key, the enum types its
    /// columns create, then the table and its foreign keys.
    fn push_table(
        &mut self,
        table: QualifiedName,
        parts: TableParts<'a>,
        location: &Location,
        if_not_exists: bool,
        frame: &Frame<'a>,
    ) {
        let TableParts {
            mut columns,
            primary_key,
            foreign_keys,
        } = parts;
        let fk_columns: Vec<&str> = foreign_keys
            .iter()
            .flat_map(|fk| match fk {
                SchemaChange::AddForeignKey { columns, .. } => columns.as_slice(),
                _ => &[],
            })
            .map(String::as_str)
            .collect();
        mark_serial(&table, &mut columns, &primary_key, &fk_columns);
        for column in &columns {
            if let Some((ty, location)) = column.creates_enum {
                self.create_enum(ty, table.schema.as_deref(), location, false, frame);
            }
        }
        self.push(SchemaChange::CreateTable {
            table,
            if_not_exists,
            columns: columns.into_iter().map(|c| c.def).collect(),
            primary_key,
            copies_from: Vec::new(),
            likes: Vec::new(),
            location: location.clone(),
        });
        for fk in foreign_keys {
            self.push(fk);
        }
    }

    fn add_column(
        &mut self,
        table: &QualifiedName,
        column: Option<&'a Expr>,
        call: &'a Call,
        frame: &Frame<'a>,
    ) {
        let read = column
            .and_then(|c| self.column_call(c, frame))
            .and_then(|(c, f)| self.column(c, f.as_deref().unwrap_or(frame)));
        let Some(read) = read else {
            self.warn(
                &call.location,
                format!("add_column on `{table}` with a column that could not be read"),
            );
            return;
        };
        if let Some((ty, location)) = read.creates_enum {
            self.create_enum(ty, table.schema.as_deref(), location, false, frame);
        }
        self.push(SchemaChange::AddColumn {
            table: table.clone(),
            column: read.def,
            if_not_exists: call.kwarg("if_not_exists").and_then(Expr::as_bool) == Some(true),
        });
    }

    fn drop_column(
        &mut self,
        table: QualifiedName,
        column: Option<&'a Expr>,
        call: &'a Call,
        frame: &Frame<'a>,
    ) {
        match column.and_then(|c| self.env(frame).const_str(c)) {
            Some(column) => self.push(SchemaChange::DropColumn {
                table,
                column,
                if_exists: false,
                location: call.location.clone(),
            }),
            None => self.warn(
                &call.location,
                format!("drop_column on `{table}` of a column whose name is not a constant string"),
            ),
        }
    }

    /// `alter_column(table, column, nullable=, server_default=, type_=, new_column_name=)`:
    /// the changes are emitted in the order Alembic runs them, the rename last, so every
    /// event names the column as it is before the rename.
    fn alter_column(
        &mut self,
        table: QualifiedName,
        column: Option<&'a Expr>,
        call: &'a Call,
        frame: &Frame<'a>,
    ) {
        let Some(column) = column.and_then(|c| self.env(frame).const_str(c)) else {
            self.warn(
                &call.location,
                format!(
                    "alter_column on `{table}` of a column whose name is not a constant string"
                ),
            );
            return;
        };
        let location = &call.location;
        if let Some(nullable) = call
            .kwarg("nullable")
            .and_then(|e| self.env(frame).resolve(e).value.as_bool())
        {
            self.push(SchemaChange::SetNullable {
                table: table.clone(),
                column: column.clone(),
                nullable,
                location: location.clone(),
            });
        }
        if let Some(default) = call.kwarg("server_default") {
            let default = self.env(frame).resolve(default).value;
            // `server_default=False` is Alembic's "not given"; `None` drops the default.
            if default.as_bool() != Some(false) {
                let default = match default {
                    Expr::None => None,
                    other => Some(self.render_default(other, frame)),
                };
                self.push(SchemaChange::SetDefault {
                    table: table.clone(),
                    column: column.clone(),
                    default,
                    location: location.clone(),
                });
            }
        }
        if let Some(ty) = call.kwarg("type_") {
            let ty = self.env(frame).resolve(ty).value;
            if *ty != Expr::None {
                let ty = self.sql_type(ty, frame);
                self.push(SchemaChange::AlterColumnType {
                    table: table.clone(),
                    column: column.clone(),
                    ty,
                    location: location.clone(),
                });
            }
        }
        if let Some(new_name) = call
            .kwarg("new_column_name")
            .and_then(|e| self.env(frame).const_str(e))
        {
            self.push(SchemaChange::RenameColumn {
                table,
                column,
                new_name,
                location: location.clone(),
            });
        }
    }

    fn primary_key(
        &mut self,
        table: QualifiedName,
        columns: Option<&'a Expr>,
        call: &'a Call,
        frame: &Frame<'a>,
    ) {
        if let Some(columns) = columns.and_then(|c| self.env(frame).str_list(c)) {
            self.push(SchemaChange::AddPrimaryKey {
                table,
                columns,
                location: call.location.clone(),
            });
        }
    }

    fn foreign_key(
        &mut self,
        table: QualifiedName,
        referent: Option<QualifiedName>,
        local: Option<&'a Expr>,
        remote: Option<&'a Expr>,
        call: &'a Call,
        frame: &Frame<'a>,
    ) {
        let local = local.and_then(|c| self.env(frame).str_list(c));
        let remote = remote.and_then(|c| self.env(frame).str_list(c));
        if let (Some(referent), Some(columns), Some(remote)) = (referent, local, remote) {
            self.push(SchemaChange::AddForeignKey {
                table,
                columns,
                references: ForeignKeyRef {
                    table: referent,
                    columns: remote,
                },
                location: call.location.clone(),
            });
        }
    }

    // ----- columns, types, enums --------------------------------------------------------

    /// `sa.Column("name", type, *items, nullable=, primary_key=, server_default=, …)`.
    fn column(&self, call: &'a Call, frame: &Frame<'a>) -> Option<ReadColumn<'a>> {
        self.column_with_name(call, None, frame)
    }

    /// [`Self::column`]; `attr`: the column is a class attribute of that name, and its
    /// positional arguments start with the type.
    fn column_with_name(
        &self,
        call: &'a Call,
        attr: Option<String>,
        frame: &Frame<'a>,
    ) -> Option<ReadColumn<'a>> {
        let env = self.env(frame);
        let grammar = Grammar {
            positional_name: call.kwarg("name").is_none() && attr.is_none(),
            type_arg: TypeArg::Any,
            repeated: Repeated::First,
        };
        let args = column::read(call, &env, grammar);
        let name = match (args.name_keyword, attr) {
            (None, Some(attr)) => attr,
            _ => args.name?,
        };
        let references = args.foreign_keys.last().and_then(|fk| {
            arg(fk, 0, "column")
                .and_then(|e| env.const_str(e))
                .and_then(|target| dotted_reference(&[target]))
        });
        let identity = args.identity.map(|id| {
            if id.kwarg("always").and_then(Expr::as_bool) == Some(true) {
                "GENERATED ALWAYS AS IDENTITY"
            } else {
                "GENERATED BY DEFAULT AS IDENTITY"
            }
        });
        let computed = args.computed.map(|c| {
            // `Computed("a + b")`: the string is SQL, not a literal.
            let text = arg(c, 0, "sqltext").map(|e| {
                env.const_str(e)
                    .unwrap_or_else(|| self.render_default(e, frame))
            });
            format!("GENERATED ALWAYS AS ({}) STORED", text.unwrap_or_default())
        });
        let client_default = args.default.is_some_and(|d| *d != Expr::None) || args.sequence;
        let primary_key = args.primary_key.and_then(Expr::as_bool) == Some(true);
        let nullable = if identity.is_some() {
            false
        } else {
            args.nullable
                .and_then(|e| env.resolve(e).value.as_bool())
                .unwrap_or(!primary_key)
        };
        let server_default = args
            .server_default
            .map(|e| env.resolve(e).value)
            .filter(|e| **e != Expr::None)
            .map(|e| self.render_default(e, frame));
        let default = server_default.or(computed).or(identity.map(str::to_string));
        let (ty, creates_enum) = match args.type_expr {
            Some(expr) => {
                let binding = env.resolve(expr);
                let ty_expr = postgresql_variant(binding.value);
                // An enum written inline is created at its own call; one bound to a name, at
                // the column that uses it.
                let at = if binding.location.is_some() {
                    &call.location
                } else {
                    ty_expr.as_call().map_or(&call.location, |c| &c.location)
                };
                let creates = enum_in_type(ty_expr).map(|e| (e, at));
                (self.sql_type(ty_expr, frame), creates)
            }
            None => (unknown_type(), None),
        };
        let autoincrement = args.autoincrement.and_then(Expr::as_bool);
        Some(ReadColumn {
            def: ColumnDef {
                name,
                ty,
                nullable,
                default,
                primary_key,
                references,
                location: call.location.clone(),
            },
            creates_enum,
            serial_candidate: autoincrement != Some(false) && !client_default && identity.is_none(),
            autoincrement_forced: autoincrement == Some(true),
        })
    }

    /// The `Column(…)` call an expression stands for: the call itself, a name bound to one, or
    /// what a helper returns (`_workspace_column()`, `_fk_column("owner_id")`) with the
    /// helper's frame to read it in.
    fn column_call(
        &self,
        expr: &'a Expr,
        frame: &Frame<'a>,
    ) -> Option<(&'a Call, Option<Rc<Frame<'a>>>)> {
        let call = self.env(frame).resolve(expr).value.as_call()?;
        if call.func.last_name() == Some("Column") {
            return Some((call, None));
        }
        let (returned, callee) = self.returned(call, frame)?;
        let column = returned
            .as_call()
            .filter(|c| c.func.last_name() == Some("Column"))?;
        Some((column, Some(callee)))
    }

    /// A function by name: one defined in the function being read, else at module level.
    fn function(&self, name: &str, frame: &Frame<'a>) -> Option<&'a FunctionDef> {
        frame
            .functions
            .get(name)
            .or_else(|| self.functions.get(name))
            .copied()
    }

    /// The PostgreSQL type of a type expression, or the `unknown` placeholder.
    fn sql_type(&self, expr: &'a Expr, frame: &Frame<'a>) -> SqlType {
        self.sql_type_in(expr, frame, 0)
    }

    fn sql_type_in(&self, expr: &'a Expr, frame: &Frame<'a>, depth: usize) -> SqlType {
        let expr = postgresql_variant(self.env(frame).resolve(expr).value);
        if let Some(ty) = self.project_type(expr, frame) {
            return ty;
        }
        if let Expr::Call(call) = expr
            && call.func.last_name() == Some("ARRAY")
            && let Some(item) = arg(call, 0, "item_type")
        {
            if depth >= EVAL_DEPTH {
                return unknown_type();
            }
            return self.sql_type_in(item, frame, depth + 1).into_array();
        }
        types::column_type(expr).unwrap_or_else(unknown_type)
    }

    /// A column type the project builds itself — a helper function, a class deriving a
    /// SQLAlchemy type (`class TIMESTAMP(sa.TIMESTAMP)` with `timezone=True` in its
    /// `__init__`), a name imported from another module of the project — evaluated to the
    /// SQLAlchemy type it stands for; `unknown` when it cannot be told. `None` when the type is
    /// not the project's (a SQLAlchemy name as written).
    fn project_type(&self, expr: &'a Expr, frame: &Frame<'a>) -> Option<SqlType> {
        use crate::pyeval::{ClassRef, Value as V};
        let head = match expr {
            Expr::Call(call) => &call.func,
            Expr::Name(_) => expr,
            _ => return None,
        };
        let env = self.env(frame);
        match env.evaluate(head) {
            V::Function(_) | V::Class(ClassRef::Def { .. }) => {}
            // A name another module of the project binds to a library type's instance
            // (`TIMESTAMP = postgresql.TIMESTAMP(timezone=True)` in `db_types.py`).
            value @ (V::LibCall(_) | V::OneOf(_)) if matches!(expr, Expr::Name(_)) => {
                return crate::pyeval::to_expr(&value)
                    .as_ref()
                    .and_then(types::column_type);
            }
            // A library type under another name (`StringID = sa.String`), or called with
            // arguments that are names (`sa.DateTime(timezone=tz)` in a helper).
            V::Lib(path) => {
                let written = head.last_name().unwrap_or("");
                let aliased = path.rsplit('.').next() != Some(written);
                let literal = |e: &Expr| {
                    matches!(
                        e,
                        Expr::Str(_) | Expr::Int(_) | Expr::Bool(_) | Expr::None | Expr::Float(_)
                    ) || e.as_call().is_some()
                };
                let named_args = expr.as_call().is_some_and(|call| {
                    !call.args.iter().all(literal) || !call.kwargs.iter().all(|(_, v)| literal(v))
                });
                if !aliased && !named_args {
                    return None;
                }
                return match crate::pyeval::to_expr(&env.evaluate(expr)) {
                    Some(built @ Expr::Call(_) | built @ Expr::Name(_)) => {
                        types::column_type(&built).or_else(|| types::column_type(expr))
                    }
                    _ => None,
                };
            }
            _ => return None,
        }
        let value = match env.evaluate(expr) {
            // A type class used without calling it.
            class @ V::Class(_) => {
                let ev =
                    crate::pyeval::Evaluator::new(self.ctx.index, &crate::pyeval::PostgresHost);
                ev.call(class, Vec::new(), Vec::new())
            }
            other => other,
        };
        let built = crate::pyeval::to_expr(&value);
        Some(
            built
                .as_ref()
                .and_then(types::column_type)
                .unwrap_or_else(unknown_type),
        )
    }

    /// Emits `CreateEnum` for an `Enum(…)`/`ENUM(…)` call, once per name per revision.
    /// `table_schema` applies with `inherit_schema=True`. `explicit` is `.create(bind)`.
    fn create_enum(
        &mut self,
        call: &'a Call,
        table_schema: Option<&str>,
        location: &Location,
        explicit: bool,
        frame: &Frame<'a>,
    ) {
        if call.kwarg("native_enum").and_then(Expr::as_bool) == Some(false) {
            return;
        }
        if !explicit && call.kwarg("create_type").and_then(Expr::as_bool) == Some(false) {
            return;
        }
        // `name=ENUM_NAME`: a constant of the revision or a module it imports.
        let Some(name) = call
            .kwarg("name")
            .and_then(|e| self.env(frame).const_str(e))
            .or_else(|| types::enum_type_name(call))
        else {
            return;
        };
        let schema = match call
            .kwarg("schema")
            .and_then(|e| self.env(frame).const_str(e))
        {
            Some(schema) => Some(schema),
            None if call.kwarg("inherit_schema").and_then(Expr::as_bool) == Some(true) => {
                table_schema.map(str::to_string)
            }
            None => None,
        };
        let name = QualifiedName::new(schema.as_deref(), &name);
        if !self.created_enums.insert(name.clone()) {
            return;
        }
        let mut values: Vec<String> = call
            .args
            .iter()
            .filter_map(|a| self.env(frame).const_str(a))
            .collect();
        // `sa.Enum(*VALUES, name=…)` with `VALUES` a constant sequence of strings, in place.
        for (position, star) in call.star_args.iter().rev() {
            if let Some(items) = self.env(frame).str_list(star) {
                let at = (*position).min(values.len());
                values.splice(at..at, items);
            }
        }
        if values.is_empty()
            && let Some(class) = call.args.first().and_then(|a| self.enum_class(a, frame))
        {
            let str_enum = enums::is_str_enum(class.bases.iter().filter_map(Expr::as_name));
            values = enums::labels(
                &enums::members_of_body(&class.body),
                enums::stores_values(call),
                str_enum,
            );
        }
        self.push(SchemaChange::CreateEnum {
            name,
            values,
            location: location.clone(),
        });
    }

    /// The Python enum class the first argument of an `Enum(…)` names: one the revision
    /// declares, or one of another module of the project, reached through the revision's
    /// imports (`from app.models import Status`, `import app.models as m` + `m.Status`).
    fn enum_class(&self, arg: &'a Expr, frame: &Frame<'a>) -> Option<&'a ClassDef> {
        if let Some(class) = bare_name(arg).and_then(|n| self.enum_classes.get(n)) {
            return Some(class);
        }
        match self.env(frame).evaluate(arg) {
            crate::pyeval::Value::Class(crate::pyeval::ClassRef::Def { def, module })
                if enums::derives_enum(self.ctx.index, def, module, RESOLVE_DEPTH) =>
            {
                Some(def)
            }
            _ => None,
        }
    }

    /// The SQL text of a `server_default=` value.
    fn render_default(&self, expr: &'a Expr, frame: &Frame<'a>) -> String {
        self.render_default_in(expr, frame, 0)
    }

    fn render_default_in(&self, expr: &'a Expr, frame: &Frame<'a>, depth: usize) -> String {
        if depth >= EVAL_DEPTH {
            return "…".to_string();
        }
        let expr = self.env(frame).resolve(expr).value;
        match expr {
            Expr::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Expr::Int(n) => n.to_string(),
            Expr::Float(f) => f.clone(),
            Expr::Bool(b) => b.to_string(),
            Expr::None => "NULL".to_string(),
            Expr::Name(name) => name.clone(),
            Expr::Call(call) => {
                let func = call.func.as_name().unwrap_or("");
                let last = func.rsplit('.').next().unwrap_or(func);
                match last {
                    "text" | "literal_column" | "DefaultClause" => call
                        .args
                        .first()
                        .map(|a| match self.env(frame).resolve(a).value {
                            Expr::Str(s) => s.clone(),
                            other => self.render_default_in(other, frame, depth + 1),
                        })
                        .unwrap_or_default(),
                    "true" | "false" if !func.contains("func.") => last.to_string(),
                    "null" if !func.contains("func.") => "NULL".to_string(),
                    _ if func.starts_with("func.") || func.contains(".func.") => {
                        let args: Vec<String> = call
                            .args
                            .iter()
                            .map(|a| self.render_default_in(a, frame, depth + 1))
                            .collect();
                        format!("{last}({})", args.join(", "))
                    }
                    _ => format!("{func}(…)"),
                }
            }
            Expr::Other(text) => text.clone(),
            _ => "…".to_string(),
        }
    }

    // ----- op.execute -------------------------------------------------------------------

    fn execute(&mut self, call: &'a Call, frame: &Frame<'a>) {
        if let Some(sql) = arg(call, 0, "sqltext") {
            self.execute_expr(sql, &call.location, &call.location, frame, 0);
        }
    }

    /// `at`: where to look for the string literal (the call, or the assignment the name was
    /// bound by).
    fn execute_expr(
        &mut self,
        expr: &'a Expr,
        at: &'a Location,
        call_at: &'a Location,
        frame: &Frame<'a>,
        depth: usize,
    ) {
        if depth >= EVAL_DEPTH {
            return;
        }
        let at = self.env(frame).resolve(expr).location.unwrap_or(at);
        let expr = match self.env(frame).eval(expr) {
            Value::Str(sql) => {
                let start = string_start(self.file, at);
                let events = sql::read_fragment(&sql, &start);
                self.out.changes.extend(events.changes);
                self.out.warnings.extend(events.warnings);
                self.out.ignores.extend(events.ignores);
                return;
            }
            Value::Expr(other) => other.value,
        };
        if let Expr::Call(inner) = expr {
            match inner.func.last_name() {
                Some("text" | "DDL") => {
                    if let Some(sql) = arg(inner, 0, "text") {
                        self.execute_expr(sql, at, call_at, frame, depth + 1);
                    }
                    return;
                }
                Some("CreateSchema") => {
                    if let Some(name) =
                        arg(inner, 0, "name").and_then(|e| self.env(frame).const_str(e))
                    {
                        self.push(SchemaChange::CreateSchema {
                            name,
                            location: call_at.clone(),
                        });
                    }
                    return;
                }
                _ => {}
            }
        }
        if looks_like_ddl(&literal_text(expr)) {
            self.warn(
                call_at,
                "op.execute of SQL built at run time (f-string, `%`, `+` or `.format`) that \
                 changes a table, type or schema: driftguard cannot read it; write it as a \
                 constant string or as op.* calls",
            );
        }
    }

    // ----- names -----------------------------------------------------------------------

    /// The table named by argument `pos`/`kw`, with the schema of keyword `schema_kw`.
    fn table(
        &self,
        call: &'a Call,
        pos: usize,
        kw: &str,
        schema_kw: &str,
        frame: &Frame<'a>,
    ) -> Option<QualifiedName> {
        let name = match self.env(frame).eval(arg(call, pos, kw)?) {
            Value::Str(name) => name,
            Value::Expr(other) => self
                .local_class_table(other.value, frame)
                .or_else(|| model_table_ref(other.value))?,
        };
        let schema = call
            .kwarg(schema_kw)
            .and_then(|e| self.env(frame).const_str(e));
        Some(QualifiedName::new(schema.as_deref(), &name))
    }
}

/// What a table being read has so far.
#[derive(Default)]
struct TableParts<'a> {
    columns: Vec<ReadColumn<'a>>,
    primary_key: Vec<String>,
    foreign_keys: Vec<SchemaChange>,
}

/// A column as read, with what `create_table` needs to finish it.
struct ReadColumn<'a> {
    def: ColumnDef,
    /// The `Enum(…)` type this column creates, and where.
    creates_enum: Option<(&'a Call, &'a Location)>,
    /// No `autoincrement=False`, no client default or sequence, no identity.
    serial_candidate: bool,
    /// `autoincrement=True`: serial even with a foreign key.
    autoincrement_forced: bool,
}

/// SQLAlchemy renders the single integer primary key column of a new table as `SERIAL` (or
/// `BIGSERIAL`/`SMALLSERIAL`) when nothing else supplies its values and it is not a foreign
/// key (in a column or a table-level constraint, `fk_columns`).
fn mark_serial(
    table: &QualifiedName,
    columns: &mut [ReadColumn],
    table_pk: &[String],
    fk_columns: &[&str],
) {
    let mut pk: Vec<&str> = table_pk.iter().map(String::as_str).collect();
    for column in columns.iter() {
        if column.def.primary_key && !pk.contains(&column.def.name.as_str()) {
            pk.push(&column.def.name);
        }
    }
    let &[only] = pk.as_slice() else {
        return;
    };
    let only = only.to_string();
    let Some(column) = columns.iter_mut().find(|c| c.def.name == only) else {
        return;
    };
    let integer =
        matches!(&*column.def.ty.name, "integer" | "bigint" | "smallint") && !column.def.ty.array;
    if integer
        && column.serial_candidate
        && column.def.default.is_none()
        && ((column.def.references.is_none() && !fk_columns.contains(&only.as_str()))
            || column.autoincrement_forced)
    {
        column.def.default = Some(format!(
            "nextval('{}_{}_seq'::regclass)",
            table.name, column.def.name
        ));
        column.def.nullable = false;
    }
}

/// The placeholder for a type driftguard cannot name (a project's `TypeDecorator`).
fn unknown_type() -> SqlType {
    SqlType::from_sql_name("unknown", Vec::new(), false)
}

/// Positional argument `pos`, else keyword `kw`.
fn arg<'c>(call: &'c Call, pos: usize, kw: &str) -> Option<&'c Expr> {
    call.kwarg(kw).or_else(|| call.args.get(pos))
}

/// `SqlRun.__tablename__` / `models.SqlRun.__table__.name`: a placeholder naming the class,
/// replaced by its table once the models are read (see [`super::MODEL_TABLE_PREFIX`]).
fn model_table_ref(expr: &Expr) -> Option<String> {
    let name = expr.as_name()?;
    let path = name
        .strip_suffix(".__tablename__")
        .or_else(|| name.strip_suffix(".__table__.name"))?;
    let class = path.rsplit('.').next().filter(|c| eval::is_identifier(c))?;
    Some(format!("{}{class}", super::MODEL_TABLE_PREFIX))
}

fn is_op(name: &str, method: &str) -> bool {
    name.strip_suffix(method)
        .and_then(|r| r.strip_suffix('.'))
        .is_some_and(|r| r == "op" || r == "alembic.op")
}

/// `op.get_bind()`.
fn is_get_bind(expr: &Expr) -> bool {
    expr.as_call()
        .and_then(Call::func_name)
        .is_some_and(|n| is_op(n, "get_bind"))
}

/// `class Status(enum.Enum)`, `class Kind(str, PyEnum)`, `class Role(BaseEnum)`.
fn is_enum_class(class: &ClassDef) -> bool {
    class
        .bases
        .iter()
        .filter_map(Expr::as_name)
        .any(enums::looks_like_enum_base)
}

/// `sa.Enum(…)` / `postgresql.ENUM(…)`, also through `.with_variant(…, "postgresql")`.
fn enum_call(expr: &Expr) -> Option<&Call> {
    let call = postgresql_variant(expr).as_call()?;
    matches!(call.func.last_name(), Some("Enum" | "ENUM")).then_some(call)
}

/// An enum a column type creates: the type itself or the item type of an `ARRAY`.
fn enum_in_type(expr: &Expr) -> Option<&Call> {
    let call = expr.as_call()?;
    match call.func.last_name() {
        Some("Enum" | "ENUM") => Some(call),
        Some("ARRAY") => {
            arg(call, 0, "item_type").and_then(|e| enum_in_type(postgresql_variant(e)))
        }
        _ => None,
    }
}

/// `T.with_variant(V, "postgresql")` is `V` on PostgreSQL; `T.with_variant(V, "sqlite")` is `T`.
fn postgresql_variant(expr: &Expr) -> &Expr {
    let Some(call) = expr.as_call() else {
        return expr;
    };
    let Expr::Attribute { value, attr } = &call.func else {
        return expr;
    };
    if attr != "with_variant" {
        return expr;
    }
    let dialects: Vec<&str> = match arg(call, 1, "dialect_names") {
        Some(Expr::Str(s)) => vec![s.as_str()],
        Some(Expr::List(items)) => items.iter().filter_map(Expr::as_str).collect(),
        _ => Vec::new(),
    };
    match call.args.first() {
        Some(variant) if dialects.contains(&"postgresql") => postgresql_variant(variant),
        _ => postgresql_variant(value),
    }
}

/// `"t.id"` / `"core.t.id"` (one or several columns of one table) → the referenced table.
fn dotted_reference(targets: &[String]) -> Option<ForeignKeyRef> {
    let mut table = None;
    let mut columns = Vec::new();
    for target in targets {
        let (qualified, column) = target.rsplit_once('.')?;
        let name = match qualified.rsplit_once('.') {
            Some((schema, name)) => QualifiedName::new(Some(schema), name),
            None => QualifiedName::new(None, qualified),
        };
        table.get_or_insert(name);
        columns.push(column.to_string());
    }
    Some(ForeignKeyRef {
        table: table?,
        columns,
    })
}

/// Whether `upgrade` dispatches to `upgrade_<engine>()` through `globals()[…]()`.
fn dispatches_through_globals(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Expr { value, .. }
        | Stmt::Return {
            value: Some(value), ..
        } => is_globals_call(value),
        Stmt::Assign {
            value: Some(value), ..
        } => is_globals_call(value),
        Stmt::Block { body, .. } => dispatches_through_globals(body),
        _ => false,
    })
}

fn is_globals_call(expr: &Expr) -> bool {
    let Some(call) = expr.as_call() else {
        return false;
    };
    match &call.func {
        Expr::Subscript { value, .. } => value
            .as_call()
            .and_then(Call::func_name)
            .is_some_and(|n| n == "globals" || n == "locals"),
        _ => false,
    }
}

/// The literal parts of SQL built at run time, for [`looks_like_ddl`].
fn literal_text(expr: &Expr) -> String {
    match expr {
        Expr::Str(s) => s.clone(),
        Expr::FString(parts) => parts
            .iter()
            .map(|part| match part {
                FStringPart::Text(text) => text.as_str(),
                FStringPart::Value { .. } => " ",
            })
            .collect(),
        Expr::Other(text) if is_fstring(text) => without_interpolations(text),
        Expr::BinOp { op, left, right } if op == "+" || op == "%" => {
            format!("{} {}", literal_text(left), literal_text(right))
        }
        Expr::Call(call) => match &call.func {
            Expr::Attribute { value, attr } if attr == "format" => literal_text(value),
            func if matches!(func.last_name(), Some("text" | "DDL")) => {
                call.args.first().map(literal_text).unwrap_or_default()
            }
            _ => String::new(),
        },
        _ => String::new(),
    }
}

fn is_fstring(text: &str) -> bool {
    let prefix: String = text
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    prefix.contains('f') && text[prefix.len()..].starts_with(['\'', '"'])
}

/// An f-string's text without its `{…}` parts (whose names, like `{table}`, are not SQL).
fn without_interpolations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if depth == 0 && chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '{' => depth += 1,
            '}' if depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// DDL that changes a table, type or schema: `ALTER|CREATE|DROP` with `TABLE|TYPE|SCHEMA|
/// COLUMN`. `CREATE INDEX`, `GRANT`, `UPDATE` … are not: they create no column.
fn looks_like_ddl(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    has(&["ALTER", "CREATE", "DROP"]) && has(&["TABLE", "TYPE", "SCHEMA", "COLUMN"])
}

/// Where the content of the first string literal at or after `at` starts (after its prefix
/// and opening quotes), skipping `#` comments. Falls back to `at`.
fn string_start(file: &SourceFile, at: &Location) -> Location {
    let line_start = file.line_start(at.line);
    let column = at.column.saturating_sub(1) as usize;
    let offset = file
        .text
        .get(line_start..)
        .and_then(|rest| rest.char_indices().nth(column))
        .map_or(line_start, |(i, _)| line_start + i);
    let bytes = file.text.as_bytes();
    let mut i = offset;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'#' => {
                while bytes.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
            }
            b'\'' | b'"' => {
                let triple = bytes.get(i + 1) == Some(&b) && bytes.get(i + 2) == Some(&b);
                return file.location(if triple { i + 3 } else { i + 1 });
            }
            _ => i += 1,
        }
    }
    at.clone()
}

#[cfg(test)]
mod tests {
    use super::string_start;
    use crate::source::{Location, SourceFile};

    #[test]
    fn sql_fragments_start_where_the_string_content_starts() {
        let file = SourceFile::new(
            "v.py",
            "op.execute(  # it's here\r\n    sa.text(r\"\"\"\r\nCREATE TABLE x ()\"\"\"))\nop.execute('x')\n",
        );
        let at = string_start(&file, &Location::new("v.py", 1, 1));
        assert_eq!((at.line, at.column), (2, 17));
        let at = string_start(&file, &Location::new("v.py", 4, 1));
        assert_eq!((at.line, at.column), (4, 13));
        // No string at all: the place asked about.
        let at = string_start(&file, &Location::new("v.py", 9, 3));
        assert_eq!((at.line, at.column), (9, 3));
    }
}
