//! The body of a revision's `upgrade()` → schema change events: the `op.*` dispatcher.
//!
//! Reads `op.*` calls (`create_table`, `add_column`, `alter_column`, `execute`, …), the
//! `batch_op.*` calls inside `with op.batch_alter_table(…) as batch_op:` (any alias), and
//! enum types created by `.create(bind)` or implicitly by `op.create_table`. Everything else in
//! the body is passed over.
//!
//! What is read, and why:
//! - **Only `upgrade()`**, plus helper functions of the same file it calls by name, one level
//!   deep (`upgrade()` → `_add_columns()`, also one defined inside `upgrade()`), never
//!   anything named `downgrade…`. A column may come from such a function too
//!   (`op.add_column("t", _workspace_column())` where it returns a `sa.Column(…)`). Alembic's
//!   multi-database template dispatches with `globals()["upgrade_%s" % engine_name]()`; then
//!   every `upgrade_<engine>()` is read.
//! - **A project's wrappers** of Alembic operations, imported by the operation's own name
//!   (`from app.migrations.utils import create_table, add_columns`), are read as that
//!   operation: wrappers exist to add guards (`if not has_table(…)`), not other meanings.
//! - **Every branch of an `if`**, the body of a loop once, the `try` body (and its `else` and
//!   `finally`) but not `except`: the question is "can this column exist after the
//!   migrations", so the reader over-approximates what is created.
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
//! - **Types** come from [`types::column_type`]; a type it does not know (a project's
//!   `TypeDecorator`) becomes the placeholder user-defined type `unknown`, so the column still
//!   exists with "some type".
//! - **Enums**: `sa.Enum("a", "b", name="status")` in a column of `create_table`/`add_column`
//!   creates the type first, as SQLAlchemy's `create_type=True` default does, unless
//!   `create_type=False`; `<enum>.create(bind)` creates it explicitly. (Plain Alembic does not
//!   create the type for `add_column`; a revision that works has the type at that point
//!   anyway, so saying it exists there is safe.) One revision creates a name once.
//! - **A single integer primary key** without defaults or foreign key becomes `SERIAL` in
//!   `create_table`, as SQLAlchemy renders it: its default is the sequence's `nextval`.
//! - **`op.execute`** of a constant string (also `sa.text(…)`, `DDL(…)`, implicit or `+`
//!   concatenation, a name bound to one) goes to the SQL reader at the string's own location.
//!   SQL built at run time (f-string, `%`, `.format`, `+` with variables) is a warning only
//!   when its literal parts look like DDL on a table, type or schema; data statements
//!   (`op.execute(t.update()…)`) are silent.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use super::eval::{self, EVAL_DEPTH, Env, Globals, RESOLVE_DEPTH, Scope, Value, bare_name};
use crate::migrations::{
    ColumnDef, ForeignKeyRef, MigrationEvents, QualifiedName, ReadWarning, SchemaChange, sql,
};
use crate::postgres_type::SqlType;
use crate::pyast::{BlockKind, Call, ClassDef, Expr, FunctionDef, PyModule, Stmt};
use crate::source::{Location, SourceFile};
use crate::sqlalchemy::column::{self, Grammar, Repeated, TypeArg};
use crate::sqlalchemy::types;

/// How many helper calls deep the reader follows from `upgrade()`.
const HELPER_DEPTH: usize = 1;

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

/// Reads the `upgrade()` of a parsed revision file.
pub(super) fn read_upgrade(file: &SourceFile, module: &PyModule) -> MigrationEvents {
    let mut reader = UpgradeReader::new(file, module);
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
    depth: usize,
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
    /// Module-level `class Status(enum.Enum)`-like classes → member names.
    enum_classes: HashMap<&'a str, Vec<String>>,
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
    fn new(file: &'a SourceFile, module: &'a PyModule) -> Self {
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
                Stmt::Class(class) if class.bases.iter().any(is_enum_base) => {
                    let members = class
                        .body
                        .iter()
                        .filter_map(|s| match s {
                            Stmt::Assign { targets, .. } => targets.first().and_then(bare_name),
                            _ => None,
                        })
                        .filter(|n| !n.starts_with('_'))
                        .map(str::to_string)
                        .collect();
                    enum_classes.insert(class.name.as_str(), members);
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
        UpgradeReader {
            file,
            functions,
            function_order,
            globals: Globals::read(&module.body),
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
        Env::new(&self.globals, &frame.scope)
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
        for stmt in stmts {
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
                    frame.scope.assign(&self.globals, &names, value, location);
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
                frame.scope.assign(&self.globals, &[name], value, location);
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
                    _ => self.helper(name, frame),
                },
            },
            Expr::Attribute { value, attr } => match attr.as_str() {
                "create" => {
                    if let Some(ty) = self.enum_of(value) {
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

    /// A call of a module-level function by bare name: read its body, one level deep.
    fn helper(&mut self, name: &str, frame: &Frame<'a>) {
        if frame.depth >= HELPER_DEPTH
            || name == "upgrade"
            || name.starts_with("downgrade")
            || self.entry_points.contains(name)
        {
            return;
        }
        if let Some(function) = self.function(name, frame) {
            self.read_function(function, frame.depth + 1);
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
                let Stmt::Assign {
                    targets,
                    value: Some(value),
                    ..
                } = stmt
                else {
                    continue;
                };
                let Some(attr) = targets.first().and_then(bare_name) else {
                    continue;
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
            queue.extend(
                class
                    .bases
                    .iter()
                    .filter_map(|b| b.as_name().and_then(|n| self.classes.get(n)).copied()),
            );
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

    fn create_table(&mut self, call: &'a Call, frame: &Frame<'a>) {
        let Some(table) = self.table(call, 0, "table_name", "schema", frame) else {
            self.warn(
                &call.location,
                "op.create_table with a table name that is not a constant string: the table \
                 and its columns are not read",
            );
            return;
        };
        let items = if call.kwarg("table_name").is_some() {
            &call.args[..]
        } else {
            call.args.get(1..).unwrap_or(&[])
        };
        let mut columns: Vec<ReadColumn> = Vec::new();
        let mut primary_key = Vec::new();
        let mut foreign_keys = Vec::new();
        for item in items {
            let Some(item_call) = self
                .column_call(item, frame)
                .or_else(|| self.env(frame).resolve(item).value.as_call())
            else {
                continue;
            };
            match item_call.func.last_name() {
                Some("Column") => {
                    if let Some(column) = self.column(item_call, frame) {
                        columns.push(column);
                    }
                }
                Some("PrimaryKeyConstraint") => {
                    primary_key.extend(
                        item_call
                            .args
                            .iter()
                            .filter_map(|a| self.env(frame).const_str(a)),
                    );
                }
                Some("ForeignKeyConstraint") => {
                    let local =
                        arg(item_call, 0, "columns").and_then(|e| self.env(frame).str_list(e));
                    let remote =
                        arg(item_call, 1, "refcolumns").and_then(|e| self.env(frame).str_list(e));
                    if let (Some(local), Some(remote)) = (local, remote)
                        && let Some(references) = dotted_reference(&remote)
                    {
                        foreign_keys.push(SchemaChange::AddForeignKey {
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
        if columns.is_empty() && (call.has_splat || !items.is_empty()) {
            self.warn(
                &call.location,
                format!("op.create_table of `{table}`: none of its columns could be read"),
            );
        }
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
            if_not_exists: call.kwarg("if_not_exists").and_then(Expr::as_bool) == Some(true),
            columns: columns.into_iter().map(|c| c.def).collect(),
            primary_key,
            copies_from: Vec::new(),
            likes: Vec::new(),
            location: call.location.clone(),
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
            .and_then(|c| self.column(c, frame));
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
    /// a call of a function of the file that returns one (`_workspace_column()`).
    fn column_call(&self, expr: &'a Expr, frame: &Frame<'a>) -> Option<&'a Call> {
        let call = self.env(frame).resolve(expr).value.as_call()?;
        if call.func.last_name() == Some("Column") {
            return Some(call);
        }
        let function = bare_name(&call.func).and_then(|n| self.function(n, frame))?;
        let returned = function.body.iter().rev().find_map(|s| match s {
            Stmt::Return {
                value: Some(value), ..
            } => Some(value),
            _ => None,
        })?;
        returned
            .as_call()
            .filter(|c| c.func.last_name() == Some("Column"))
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
        let Some(name) = types::enum_type_name(call) else {
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
        if values.is_empty()
            && let Some(class) = call.args.first().and_then(bare_name)
            && let Some(members) = self.enum_classes.get(class)
        {
            values.clone_from(members);
        }
        self.push(SchemaChange::CreateEnum {
            name,
            values,
            location: location.clone(),
        });
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
    let integer = matches!(
        column.def.ty.name.as_str(),
        "integer" | "bigint" | "smallint"
    ) && !column.def.ty.array;
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

fn is_enum_base(base: &Expr) -> bool {
    base.last_name()
        .is_some_and(|n| n.ends_with("Enum") || n == "StrEnum" || n == "IntEnum")
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
