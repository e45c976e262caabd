//! A small evaluator of pure Python: what a project's own helpers compute from constants,
//! without running anything.
//!
//! Real projects compute what driftguard needs to know: a `@declared_attr` `__tablename__` that
//! returns `resolve_table_name(cls.__name__)` (a `re.split` on a lookahead, `lower`, `"_".join`),
//! a `__table_args__` that returns `auto_table_args(cls, schema="roombooking")` (merged dicts),
//! an Alembic revision that names its table with an f-string or imports its column type from a
//! helper module. This module evaluates the subset of Python those helpers are written in:
//!
//! - literals, names, f-strings, `+ % * |`, comparisons, `and`/`or`/`not`, `x if c else y`,
//!   subscripts and slices, list/tuple/dict displays with `*`/`**`, comprehensions;
//! - `str`, `list` and `dict` methods and a few builtins (`str`, `len`, `dict`, `sorted`, …),
//!   `re.sub/split/match/search/fullmatch/findall/compile` with constant patterns
//!   ([`re`], which has lookarounds);
//! - calls of the project's functions ([`Func`]), in the module they were defined in, with
//!   parameters bound (defaults, `*args`, `**kwargs`), to a bounded depth; their bodies are run
//!   statement by statement: assignments, `if` (a condition it cannot decide runs both
//!   branches and the result is [`Value::OneOf`] the possibilities), `for` over known items
//!   (an unknown loop forgets what its body changes), `return`, `raise` (that path is
//!   dropped);
//! - names of other modules through a [`ModuleIndex`] of [`ModuleSummary`]s.
//!
//! What it must not do: run, import or guess. Anything else — I/O, a library call it does not
//! model, a loop it cannot unroll, a name it cannot find — is [`Value::Unknown`], and the
//! caller keeps its warning. Library calls are kept as [`Value::LibCall`] (what was called
//! with which arguments), so a column type built by a helper is still a type. The caller
//! supplies what only it knows through [`Host`] (the mapped class behind `cls`, the database
//! dialect) and its own bindings through [`Names`]. Every chain is bounded: call depth
//! ([`MAX_CALL_DEPTH`]), steps ([`MAX_STEPS`]), paths through a function ([`MAX_PATHS`]), loop
//! items ([`MAX_LOOP_ITEMS`]).
//!
//! Nothing here knows SQLAlchemy or Alembic: the models ([`crate::models`]) and the Alembic
//! reader ([`crate::migrations::alembic`]) ask, and decide what an unknown means.

mod methods;
pub mod modules;
pub mod re;
#[cfg(test)]
mod tests;
mod value;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

pub use modules::{Def, Found, ImportBinding, ModuleIndex, ModuleSummary, StarImport};
pub use value::{ClassRef, Dict, Func, Item, LibCall, Value, Vars, equal, to_expr, to_str};

use crate::pyast::{
    BlockKind, ClassDef, Comprehension, ComprehensionKind, Expr, FStringPart, FunctionDef, Jump,
    ParamKind, Stmt,
};

/// How deep calls of the project's functions nest.
pub const MAX_CALL_DEPTH: usize = 8;

/// Evaluation steps (expressions and statements) one top-level question may take.
pub const MAX_STEPS: usize = 50_000;

/// Paths through one function body (each undecided `if` doubles them).
pub const MAX_PATHS: usize = 32;

/// Items a loop or a comprehension is unrolled over.
pub const MAX_LOOP_ITEMS: usize = 256;

/// How deep an expression is evaluated through names bound to expressions.
const MAX_EXPR_DEPTH: usize = 64;

/// Python's builtins the evaluator knows.
const BUILTINS: &[&str] = &[
    "str",
    "len",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "sorted",
    "reversed",
    "bool",
    "int",
    "isinstance",
    "getattr",
    "hasattr",
    "dir",
    "zip",
    "enumerate",
    "range",
    "any",
    "all",
    "min",
    "max",
    "globals",
    "repr",
    "type",
];

/// What the caller knows about names the evaluator cannot see: the bindings of the function it
/// is reading.
pub trait Names<'a> {
    /// The value of a bare name, or `None` when the caller does not bind it (the module's
    /// names and the builtins are looked up next).
    fn lookup(&self, name: &str, ev: &Evaluator<'a, '_>) -> Option<Value<'a>>;
}

/// No bindings of the caller's own.
pub struct NoNames;

impl<'a> Names<'a> for NoNames {
    fn lookup(&self, _: &str, _: &Evaluator<'a, '_>) -> Option<Value<'a>> {
        None
    }
}

/// What only the caller knows.
pub trait Host<'a> {
    /// An attribute of a class the caller handed in as [`ClassRef::Host`] (`cls.__tablename__`,
    /// a class attribute along its bases). `__name__` is answered without asking.
    fn class_attr(&self, _id: usize, _attr: &str, _ev: &Evaluator<'a, '_>) -> Option<Value<'a>> {
        None
    }

    /// `dir(cls)`: the attribute names the caller knows the class to have.
    fn class_dir(&self, _id: usize) -> Option<Vec<String>> {
        None
    }

    /// A value the caller knows a library expression to have (`alembic.op.get_bind().dialect.name`
    /// is `"postgresql"` for a reader of PostgreSQL migrations). `path` is the dotted library
    /// name with `()` after each call: `alembic.op.get_bind().dialect.name`.
    fn library(&self, _path: &str) -> Option<Value<'a>> {
        None
    }
}

/// A caller without knowledge of its own.
pub struct NoHost;

impl Host<'_> for NoHost {}

/// Facts about the database a migration runs on: PostgreSQL. `op.get_bind().dialect.name`,
/// `context.get_context().dialect.name`, `bind.engine.name` and the like are `"postgresql"`.
pub struct PostgresHost;

impl<'a> Host<'a> for PostgresHost {
    fn library(&self, path: &str) -> Option<Value<'a>> {
        postgres_fact(path)
    }
}

/// The dialect name behind an Alembic or SQLAlchemy connection expression.
pub fn postgres_fact<'a>(path: &str) -> Option<Value<'a>> {
    let from_alembic = path.starts_with("alembic.") || path.starts_with("sqlalchemy.");
    let dialect_name = path.ends_with(".dialect.name") || path.ends_with(".engine.name");
    (from_alembic && dialect_name && path.contains("()"))
        .then(|| Value::Str("postgresql".to_string()))
}

/// Why a body could not be followed: too many paths or steps.
#[derive(Debug)]
struct Abort;

/// How a statement list ended on one path.
enum Flow<'a> {
    Next(Vars<'a>),
    Return(Value<'a>),
    Break(Vars<'a>),
    Continue(Vars<'a>),
}

/// Where names are looked up while evaluating.
struct Scope<'s, 'a> {
    vars: &'s Vars<'a>,
    captured: Option<&'s Vars<'a>>,
    outer: Option<&'s dyn Names<'a>>,
    module: &'a ModuleSummary,
}

/// The evaluator: an index of the project's modules and the caller's [`Host`].
pub struct Evaluator<'a, 'h> {
    index: &'h ModuleIndex<'a>,
    host: &'h dyn Host<'a>,
    steps: Cell<usize>,
    depth: Cell<usize>,
    expr_depth: Cell<usize>,
    /// Module-level names already evaluated: (module, name) → value.
    globals: RefCell<HashMap<(usize, String), Value<'a>>>,
    /// Module-level names being evaluated (a cycle ends there).
    in_progress: RefCell<HashSet<(usize, String)>>,
}

fn module_key(module: &ModuleSummary) -> usize {
    std::ptr::from_ref(module) as usize
}

impl<'a, 'h> Evaluator<'a, 'h> {
    pub fn new(index: &'h ModuleIndex<'a>, host: &'h dyn Host<'a>) -> Self {
        Evaluator {
            index,
            host,
            steps: Cell::new(0),
            depth: Cell::new(0),
            expr_depth: Cell::new(0),
            globals: RefCell::new(HashMap::new()),
            in_progress: RefCell::new(HashSet::new()),
        }
    }

    fn step(&self) -> bool {
        let n = self.steps.get() + 1;
        self.steps.set(n);
        n <= MAX_STEPS
    }

    /// The value of `expr` written in `module`, with the caller's bindings `names`.
    pub fn eval(&self, expr: &Expr, module: &'a ModuleSummary, names: &dyn Names<'a>) -> Value<'a> {
        let vars = Vars::new();
        let scope = Scope {
            vars: &vars,
            captured: None,
            outer: Some(names),
            module,
        };
        self.expr(expr, &scope)
    }

    /// The value of a module-level name of `module` (`None`: not bound there).
    pub fn global(&self, module: &'a ModuleSummary, name: &str) -> Option<Value<'a>> {
        let key = (module_key(module), name.to_string());
        if let Some(value) = self.globals.borrow().get(&key) {
            return Some(value.clone());
        }
        if !self.in_progress.borrow_mut().insert(key.clone()) {
            return Some(Value::Unknown);
        }
        let value = self.global_uncached(module, name);
        self.in_progress.borrow_mut().remove(&key);
        if let Some(value) = &value {
            self.globals.borrow_mut().insert(key, value.clone());
        }
        value
    }

    fn global_uncached(&self, module: &'a ModuleSummary, name: &str) -> Option<Value<'a>> {
        match module.get(name) {
            Some(Def::Value(expr, _)) => {
                let vars = Vars::new();
                let scope = Scope {
                    vars: &vars,
                    captured: None,
                    outer: None,
                    module,
                };
                Some(self.expr(expr, &scope))
            }
            Some(Def::Function(def)) => Some(match def.get() {
                Some(def) => Value::Function(Rc::new(Func {
                    def,
                    module,
                    captured: None,
                })),
                None => Value::Unknown,
            }),
            // A class whose encoded body would not decode (a damaged cache) is unknown.
            Some(Def::Class(def)) => Some(match def.get() {
                Some(def) => Value::Class(ClassRef::Def { def, module }),
                None => Value::Unknown,
            }),
            Some(Def::Import(binding)) => {
                Some(self.imported(module, &binding.target, binding.rooted))
            }
            None => {
                for star in &module.star_imports {
                    let Some(other) = self.index.module(&module.path, &star.module, star.rooted)
                    else {
                        continue;
                    };
                    if !std::ptr::eq(other, module)
                        && let Some(value) = self.global(other, name)
                    {
                        return Some(value);
                    }
                }
                None
            }
        }
    }

    /// What an import of `full` from `module` binds.
    fn imported(&self, module: &'a ModuleSummary, full: &str, rooted: bool) -> Value<'a> {
        match self.index.find(&module.path, full, rooted) {
            modules::Found::Module(other, rest) => {
                let mut value = Value::Module(other);
                for attr in rest.split('.').filter(|s| !s.is_empty()) {
                    value = self.attribute(value, attr);
                }
                value
            }
            modules::Found::Library(path) => self.library(path),
        }
    }

    /// A library name, or what the host knows it to be.
    fn library(&self, path: String) -> Value<'a> {
        let flag = match path.as_str() {
            "re.I" | "re.IGNORECASE" => Some(re::IGNORECASE),
            "re.U" | "re.UNICODE" => Some(32),
            "re.A" | "re.ASCII" => Some(256),
            "re.M" | "re.MULTILINE" => Some(8),
            "re.S" | "re.DOTALL" => Some(16),
            "re.X" | "re.VERBOSE" => Some(64),
            _ => None,
        };
        if let Some(flag) = flag {
            return Value::Int(flag);
        }
        self.host.library(&path).unwrap_or(Value::Lib(path))
    }

    /// Calls a function of the project with arguments: what it returns.
    pub fn call_function(
        &self,
        func: &Func<'a>,
        args: Vec<Item<'a>>,
        kwargs: Vec<(String, Value<'a>)>,
    ) -> Value<'a> {
        if self.depth.get() >= MAX_CALL_DEPTH || !self.step() {
            return Value::Unknown;
        }
        self.depth.set(self.depth.get() + 1);
        let result = self.call_inner(func, args, kwargs);
        self.depth.set(self.depth.get() - 1);
        result
    }

    fn call_inner(
        &self,
        func: &Func<'a>,
        args: Vec<Item<'a>>,
        kwargs: Vec<(String, Value<'a>)>,
    ) -> Value<'a> {
        let Some(mut vars) = self.bind_params(func, args, kwargs) else {
            return Value::Unknown;
        };
        if let Some(captured) = &func.captured {
            for (name, value) in captured.iter() {
                vars.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        let flows = match self.block(&func.def.body, vec![vars], func.module) {
            Ok(flows) => flows,
            Err(Abort) => return Value::Unknown,
        };
        let returned: Vec<Value<'a>> = flows
            .into_iter()
            .map(|flow| match flow {
                Flow::Return(value) => value,
                Flow::Next(_) => Value::None,
                Flow::Break(_) | Flow::Continue(_) => Value::Unknown,
            })
            .collect();
        if returned.is_empty() {
            // Every path raises.
            return Value::Unknown;
        }
        Value::one_of(returned)
    }

    /// The parameters of a call, or `None` when the arguments do not fit.
    fn bind_params(
        &self,
        func: &Func<'a>,
        args: Vec<Item<'a>>,
        mut kwargs: Vec<(String, Value<'a>)>,
    ) -> Option<Vars<'a>> {
        let mut vars = Vars::new();
        let mut args = args.into_iter();
        let mut positional_known = true;
        let default = |param: &'a crate::pyast::Param| -> Value<'a> {
            match &param.default {
                Some(expr) => {
                    let empty = Vars::new();
                    let scope = Scope {
                        vars: &empty,
                        captured: None,
                        outer: None,
                        module: func.module,
                    };
                    self.expr(expr, &scope)
                }
                None => Value::Unknown,
            }
        };
        for param in &func.def.params {
            let value = match param.kind {
                ParamKind::Plain => {
                    let from_args = if positional_known {
                        match args.next() {
                            Some(Item::One(v)) => Some(v),
                            Some(Item::Many) => {
                                positional_known = false;
                                None
                            }
                            None => None,
                        }
                    } else {
                        None
                    };
                    match from_args {
                        Some(v) => v,
                        None => match kwargs.iter().position(|(k, _)| *k == param.name) {
                            Some(i) => kwargs.remove(i).1,
                            None if !positional_known => Value::Unknown,
                            None if param.default.is_some() => default(param),
                            None => return None,
                        },
                    }
                }
                ParamKind::VarArgs => {
                    let mut rest: Vec<Item<'a>> = args.by_ref().collect();
                    if !positional_known {
                        rest.insert(0, Item::Many);
                    }
                    Value::Seq(rest)
                }
                ParamKind::KeywordOnly => match kwargs.iter().position(|(k, _)| *k == param.name) {
                    Some(i) => kwargs.remove(i).1,
                    None if param.default.is_some() => default(param),
                    None => Value::Unknown,
                },
                ParamKind::VarKeywords => {
                    let entries = kwargs.drain(..).map(|(k, v)| (Value::Str(k), v)).collect();
                    Value::Dict(Dict {
                        entries,
                        open: false,
                    })
                }
            };
            vars.insert(param.name.clone(), value);
        }
        Some(vars)
    }

    // ----- statements --------------------------------------------------------------------

    /// Runs a statement list on every incoming path.
    fn block(
        &self,
        body: &'a [Stmt],
        states: Vec<Vars<'a>>,
        module: &'a ModuleSummary,
    ) -> Result<Vec<Flow<'a>>, Abort> {
        let mut states = states;
        let mut done: Vec<Flow<'a>> = Vec::new();
        let mut i = 0;
        while i < body.len() && !states.is_empty() {
            if !self.step() {
                return Err(Abort);
            }
            let stmt = &body[i];
            // A compound statement takes the clauses that follow it.
            let mut end = i + 1;
            if let Stmt::Block { kind, .. } = stmt {
                let follows: &[BlockKind] = match kind {
                    BlockKind::If => &[BlockKind::Elif, BlockKind::Else],
                    BlockKind::For | BlockKind::While => &[BlockKind::Else],
                    BlockKind::Try => &[BlockKind::Except, BlockKind::Else, BlockKind::Finally],
                    _ => &[],
                };
                while let Some(Stmt::Block { kind: next, .. }) = body.get(end) {
                    if !follows.contains(next) {
                        break;
                    }
                    end += 1;
                    if *next == BlockKind::Else && follows.len() == 2 {
                        break;
                    }
                }
            }
            let group = &body[i..end];
            let mut next = Vec::new();
            for vars in states {
                for flow in self.statement(group, vars, module)? {
                    match flow {
                        Flow::Next(vars) => next.push(vars),
                        other => done.push(other),
                    }
                }
            }
            if next.len() + done.len() > MAX_PATHS {
                return Err(Abort);
            }
            states = next;
            i = end;
        }
        done.extend(states.into_iter().map(Flow::Next));
        Ok(done)
    }

    /// One statement (with the clauses that follow a compound one) on one path.
    fn statement(
        &self,
        group: &'a [Stmt],
        mut vars: Vars<'a>,
        module: &'a ModuleSummary,
    ) -> Result<Vec<Flow<'a>>, Abort> {
        let Some(stmt) = group.first() else {
            return Ok(vec![Flow::Next(vars)]);
        };
        match stmt {
            Stmt::Assign {
                targets,
                value: Some(value),
                ..
            } => {
                let v = self.expr(value, &self.scope(&vars, module));
                for target in targets {
                    self.assign(target, v.clone(), &mut vars, module);
                }
            }
            Stmt::AugAssign {
                target, op, value, ..
            } => {
                if let Some(name) = bare(target) {
                    let scope = self.scope(&vars, module);
                    let left = self.expr(target, &scope);
                    let right = self.expr(value, &scope);
                    let result = self.binop(op, left, right);
                    vars.insert(name.to_string(), result);
                } else {
                    self.forget_target(target, &mut vars);
                }
            }
            Stmt::Expr { value, .. } => self.effect(value, &mut vars, module),
            Stmt::Return { value, .. } => {
                let v = match value {
                    Some(v) => self.expr(v, &self.scope(&vars, module)),
                    None => Value::None,
                };
                return Ok(vec![Flow::Return(v)]);
            }
            Stmt::Jump(Jump::Raise) => return Ok(Vec::new()),
            Stmt::Jump(Jump::Break) => return Ok(vec![Flow::Break(vars)]),
            Stmt::Jump(Jump::Continue) => return Ok(vec![Flow::Continue(vars)]),
            Stmt::Function(def) => {
                let captured = Some(Rc::new(vars.clone()));
                vars.insert(
                    def.name.clone(),
                    Value::Function(Rc::new(Func {
                        def,
                        module,
                        captured,
                    })),
                );
            }
            Stmt::Class(def) => {
                vars.insert(
                    def.name.clone(),
                    Value::Class(ClassRef::Def { def, module }),
                );
            }
            Stmt::Import(import) => {
                let package = modules::package_of(&module.path);
                let (bindings, _) = modules::import_bindings(import, &package);
                for binding in bindings {
                    let value = self.imported(module, &binding.target, binding.rooted);
                    vars.insert(binding.local, value);
                }
            }
            Stmt::Block {
                kind: BlockKind::If,
                ..
            } => return self.if_chain(group, vars, module),
            Stmt::Block {
                kind: BlockKind::For,
                items,
                body,
                ..
            } => {
                let orelse = match group.get(1) {
                    Some(Stmt::Block {
                        kind: BlockKind::Else,
                        body,
                        ..
                    }) => Some(body.as_slice()),
                    _ => None,
                };
                return self.for_loop(items, body, orelse, vars, module);
            }
            Stmt::Block {
                kind: BlockKind::Try,
                body,
                ..
            } => {
                // The `try` body, its `else` and `finally`; handlers are not followed.
                let mut flows = self.block(body, vec![vars], module)?;
                for clause in &group[1..] {
                    if let Stmt::Block {
                        kind: BlockKind::Else | BlockKind::Finally,
                        body,
                        ..
                    } = clause
                    {
                        let (states, mut other) = split_next(flows);
                        other.extend(self.block(body, states, module)?);
                        flows = other;
                    }
                }
                return Ok(flows);
            }
            Stmt::Block {
                kind: BlockKind::With,
                items,
                body,
                ..
            } => {
                for (_, alias) in items {
                    if let Some(alias) = alias {
                        vars.insert(alias.clone(), Value::Unknown);
                    }
                }
                return self.block(body, vec![vars], module);
            }
            Stmt::Block { body, .. } => {
                // `while`, `match`, a stray clause: what the body binds is forgotten, and it
                // may return anything.
                let mut flows = Vec::new();
                if contains_return(body) {
                    flows.push(Flow::Return(Value::Unknown));
                }
                self.forget(body, &mut vars);
                flows.push(Flow::Next(vars));
                return Ok(flows);
            }
            Stmt::Assign { value: None, .. } | Stmt::Other => {}
        }
        Ok(vec![Flow::Next(vars)])
    }

    fn scope<'s>(&self, vars: &'s Vars<'a>, module: &'a ModuleSummary) -> Scope<'s, 'a> {
        Scope {
            vars,
            captured: None,
            outer: None,
            module,
        }
    }

    /// `if … elif … else …` on one path: a condition it cannot decide runs both ways.
    fn if_chain(
        &self,
        clauses: &'a [Stmt],
        vars: Vars<'a>,
        module: &'a ModuleSummary,
    ) -> Result<Vec<Flow<'a>>, Abort> {
        let Some((first, rest)) = clauses.split_first() else {
            return Ok(vec![Flow::Next(vars)]);
        };
        let Stmt::Block {
            kind, items, body, ..
        } = first
        else {
            return Ok(vec![Flow::Next(vars)]);
        };
        if *kind == BlockKind::Else {
            return self.block(body, vec![vars], module);
        }
        let test = items
            .first()
            .map(|(cond, _)| self.expr(cond, &self.scope(&vars, module)))
            .and_then(|v| v.truthy());
        match test {
            Some(true) => self.block(body, vec![vars], module),
            Some(false) => self.if_chain(rest, vars, module),
            None => {
                let mut flows = self.block(body, vec![vars.clone()], module)?;
                flows.extend(self.if_chain(rest, vars, module)?);
                Ok(flows)
            }
        }
    }

    fn for_loop(
        &self,
        items: &'a [(Expr, Option<String>)],
        body: &'a [Stmt],
        orelse: Option<&'a [Stmt]>,
        mut vars: Vars<'a>,
        module: &'a ModuleSummary,
    ) -> Result<Vec<Flow<'a>>, Abort> {
        let known = items.first().and_then(|(iterable, target)| {
            let names = loop_targets(target.as_deref()?)?;
            let value = self.expr(iterable, &self.scope(&vars, module));
            let values = self.iterate(&value)?;
            (values.len() <= MAX_LOOP_ITEMS).then_some((names, values))
        });
        let Some((names, values)) = known else {
            // Unknown items: the body may run any number of times.
            let mut flows = Vec::new();
            if contains_return(body) {
                flows.push(Flow::Return(Value::Unknown));
            }
            if let Some((_, Some(target))) = items.first() {
                for name in loop_targets(target).unwrap_or_default() {
                    vars.insert(name.to_string(), Value::Unknown);
                }
            }
            self.forget(body, &mut vars);
            if let Some(orelse) = orelse {
                self.forget(orelse, &mut vars);
            }
            flows.push(Flow::Next(vars));
            return Ok(flows);
        };
        let mut states = vec![vars];
        let mut finished: Vec<Vars<'a>> = Vec::new();
        let mut done = Vec::new();
        for value in values {
            if states.is_empty() {
                break;
            }
            for state in &mut states {
                bind_targets(&names, value.clone(), state);
            }
            let mut next = Vec::new();
            for flow in self.block(body, states, module)? {
                match flow {
                    Flow::Next(v) | Flow::Continue(v) => next.push(v),
                    Flow::Break(v) => finished.push(v),
                    ret @ Flow::Return(_) => done.push(ret),
                }
            }
            if next.len() + finished.len() + done.len() > MAX_PATHS {
                return Err(Abort);
            }
            states = next;
        }
        let mut flows = done;
        match orelse {
            Some(orelse) => flows.extend(self.block(orelse, states, module)?),
            None => flows.extend(states.into_iter().map(Flow::Next)),
        }
        flows.extend(finished.into_iter().map(Flow::Next));
        Ok(flows)
    }

    /// Forgets what a body may bind or change: assigned names become unknown; a dict it
    /// updates keeps no known entry; a list it extends gains unknown items.
    fn forget(&self, body: &'a [Stmt], vars: &mut Vars<'a>) {
        for stmt in body {
            match stmt {
                Stmt::Assign { targets, .. } => {
                    for target in targets {
                        self.forget_target(target, vars);
                    }
                }
                Stmt::AugAssign { target, .. } => self.forget_target(target, vars),
                Stmt::Expr { value, .. } => {
                    if let Some((receiver, _)) = mutating_call(value) {
                        widen(receiver, vars);
                    }
                }
                Stmt::Block { items, body, .. } => {
                    for (_, target) in items {
                        for name in target.as_deref().and_then(loop_targets).unwrap_or_default() {
                            vars.insert(name.to_string(), Value::Unknown);
                        }
                    }
                    self.forget(body, vars);
                }
                Stmt::Function(def) => {
                    vars.insert(def.name.clone(), Value::Unknown);
                }
                Stmt::Class(def) => {
                    vars.insert(def.name.clone(), Value::Unknown);
                }
                Stmt::Import(import) => {
                    for (name, alias) in &import.names {
                        let local = alias.as_deref().unwrap_or(name);
                        let local = local.split('.').next().unwrap_or(local);
                        vars.insert(local.to_string(), Value::Unknown);
                    }
                }
                _ => {}
            }
        }
    }

    fn forget_target(&self, target: &Expr, vars: &mut Vars<'a>) {
        match target {
            Expr::Name(name) if !name.contains('.') => {
                vars.insert(name.clone(), Value::Unknown);
            }
            Expr::List(items) => {
                for item in items {
                    self.forget_target(item, vars);
                }
            }
            Expr::Splat { value, .. } => self.forget_target(value, vars),
            Expr::Subscript { value, .. } => {
                if let Some(name) = bare(value) {
                    widen(name, vars);
                }
            }
            _ => {}
        }
    }

    /// `target = value`.
    fn assign(
        &self,
        target: &'a Expr,
        value: Value<'a>,
        vars: &mut Vars<'a>,
        module: &'a ModuleSummary,
    ) {
        match target {
            Expr::Name(name) if !name.contains('.') => {
                vars.insert(name.clone(), value);
            }
            Expr::List(targets) => {
                let items = value.items().filter(|items| items.len() == targets.len());
                match items {
                    Some(items) => {
                        let items: Vec<Value<'a>> = items.into_iter().cloned().collect();
                        for (t, v) in targets.iter().zip(items) {
                            self.assign(t, v, vars, module);
                        }
                    }
                    None => {
                        for t in targets {
                            self.forget_target(t, vars);
                        }
                    }
                }
            }
            Expr::Subscript { value: dict, index } => {
                let Some(name) = bare(dict) else {
                    return;
                };
                let key = match index.as_slice() {
                    [key] => self.expr(key, &self.scope(vars, module)),
                    _ => Value::Unknown,
                };
                match vars.get_mut(name) {
                    Some(Value::Dict(d)) if !key.is_unknown() && equal(&key, &key).is_some() => {
                        d.insert(key, value);
                    }
                    Some(_) => widen(name, vars),
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// An expression statement: what a method call on a local variable changes.
    fn effect(&self, expr: &'a Expr, vars: &mut Vars<'a>, module: &'a ModuleSummary) {
        let Some((name, call)) = mutating_call(expr) else {
            return;
        };
        let Some(current) = vars.get(name).cloned() else {
            return;
        };
        let method = call
            .func
            .as_name()
            .and_then(|f| f.rsplit_once('.'))
            .map_or("", |(_, m)| m);
        let scope = self.scope(vars, module);
        let (args, kwargs) = self.arguments(call, &scope);
        let updated = methods::mutate(self, current, method, args, kwargs);
        vars.insert(name.to_string(), updated);
    }

    // ----- expressions -------------------------------------------------------------------

    fn expr(&self, expr: &Expr, scope: &Scope<'_, 'a>) -> Value<'a> {
        if !self.step() || self.expr_depth.get() >= MAX_EXPR_DEPTH {
            return Value::Unknown;
        }
        self.expr_depth.set(self.expr_depth.get() + 1);
        let value = self.expr_inner(expr, scope);
        self.expr_depth.set(self.expr_depth.get() - 1);
        value
    }

    fn expr_inner(&self, expr: &Expr, scope: &Scope<'_, 'a>) -> Value<'a> {
        match expr {
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Int(n) => Value::Int(*n),
            Expr::Bool(b) => Value::Bool(*b),
            Expr::None => Value::None,
            Expr::Name(dotted) => {
                let mut parts = dotted.split('.');
                let first = parts.next().unwrap_or(dotted);
                let mut value = self.name(first, scope);
                for attr in parts {
                    value = self.attribute(value, attr);
                }
                value
            }
            Expr::Attribute { value, attr } => {
                let v = self.expr(value, scope);
                self.attribute(v, attr)
            }
            Expr::Call(call) => {
                let func = self.expr(&call.func, scope);
                if matches!(func, Value::Unknown) {
                    return Value::Unknown;
                }
                if matches!(&func, Value::Lib(path) if path == "builtins.globals") {
                    return Value::Globals(scope.module);
                }
                let (args, kwargs) = self.arguments(call, scope);
                self.call(func, args, kwargs)
            }
            Expr::Subscript { value, index } => {
                let v = self.expr(value, scope);
                match index.as_slice() {
                    [Expr::Slice { start, stop, step }] => {
                        let part = |e: &Option<Box<Expr>>| match e {
                            Some(e) => match self.expr(e, scope) {
                                Value::Int(n) => Some(Some(n)),
                                Value::None => Some(None),
                                _ => None,
                            },
                            None => Some(None),
                        };
                        match (part(start), part(stop), part(step)) {
                            (Some(a), Some(b), Some(c)) => methods::slice(&v, a, b, c),
                            _ => Value::Unknown,
                        }
                    }
                    [one] => {
                        let key = self.expr(one, scope);
                        methods::index(self, &v, &key)
                    }
                    _ => Value::Unknown,
                }
            }
            Expr::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Expr::Splat {
                            value,
                            double: false,
                        } => {
                            let v = self.expr(value, scope);
                            out.extend(self.splat_items(&v));
                        }
                        other => out.push(Item::One(self.expr(other, scope))),
                    }
                }
                Value::Seq(out)
            }
            Expr::Dict(pairs) => {
                let mut dict = Dict::default();
                for (k, v) in pairs {
                    if let Expr::Splat {
                        value,
                        double: true,
                    } = k
                    {
                        match self.expr(value, scope) {
                            Value::Dict(other) => dict.update(&other),
                            _ => {
                                dict.entries.clear();
                                dict.open = true;
                            }
                        }
                        continue;
                    }
                    let key = self.expr(k, scope);
                    let value = self.expr(v, scope);
                    if key.is_unknown() {
                        dict.open = true;
                    } else {
                        dict.insert(key, value);
                    }
                }
                Value::Dict(dict)
            }
            Expr::BinOp { op, left, right } => match op.as_str() {
                "and" | "or" => {
                    let l = self.expr(left, scope);
                    match (op.as_str(), l.truthy()) {
                        ("and", Some(false)) | ("or", Some(true)) => l,
                        (_, Some(_)) => self.expr(right, scope),
                        (_, None) => {
                            let r = self.expr(right, scope);
                            Value::one_of(vec![l, r])
                        }
                    }
                }
                _ => {
                    let l = self.expr(left, scope);
                    let r = self.expr(right, scope);
                    self.binop(op, l, r)
                }
            },
            Expr::Compare { left, ops, rights } => {
                let mut current = self.expr(left, scope);
                let mut result = Some(true);
                for (op, right) in ops.iter().zip(rights) {
                    let r = self.expr(right, scope);
                    match methods::compare(op, &current, &r) {
                        Some(true) => {}
                        Some(false) => return Value::Bool(false),
                        None => result = None,
                    }
                    current = r;
                }
                result.map_or(Value::Unknown, Value::Bool)
            }
            Expr::IfElse { test, body, orelse } => match self.expr(test, scope).truthy() {
                Some(true) => self.expr(body, scope),
                Some(false) => self.expr(orelse, scope),
                None => Value::one_of(vec![self.expr(body, scope), self.expr(orelse, scope)]),
            },
            Expr::Not(value) => match self.expr(value, scope).truthy() {
                Some(b) => Value::Bool(!b),
                None => Value::Unknown,
            },
            Expr::FString(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        FStringPart::Text(text) => out.push_str(text),
                        FStringPart::Value {
                            value,
                            conversion,
                            spec,
                        } => {
                            let v = self.expr(value, scope);
                            match methods::format_value(&v, *conversion, spec.as_deref()) {
                                Some(text) => out.push_str(&text),
                                None => return Value::Unknown,
                            }
                        }
                    }
                }
                Value::Str(out)
            }
            Expr::Comprehension(comp) => self.comprehension(comp, scope),
            Expr::Float(_)
            | Expr::Lambda(_)
            | Expr::Splat { .. }
            | Expr::Slice { .. }
            | Expr::Other(_) => Value::Unknown,
        }
    }

    /// The items `*value` contributes to a sequence or an argument list.
    fn splat_items(&self, value: &Value<'a>) -> Vec<Item<'a>> {
        match value {
            Value::Seq(items) => items.clone(),
            other => match self.iterate(other) {
                Some(values) => values.into_iter().map(Item::One).collect(),
                None => vec![Item::Many],
            },
        }
    }

    /// The positional and keyword arguments of a call, splats expanded.
    fn arguments(
        &self,
        call: &crate::pyast::Call,
        scope: &Scope<'_, 'a>,
    ) -> (Vec<Item<'a>>, Vec<(String, Value<'a>)>) {
        let mut args = Vec::new();
        let mut stars = call.star_args.iter().peekable();
        for (i, arg) in call.args.iter().enumerate() {
            while let Some((_, star)) = stars.next_if(|(at, _)| *at <= i) {
                let v = self.expr(star, scope);
                args.extend(self.splat_items(&v));
            }
            args.push(Item::One(self.expr(arg, scope)));
        }
        for (_, star) in stars {
            let v = self.expr(star, scope);
            args.extend(self.splat_items(&v));
        }
        let mut kwargs: Vec<(String, Value<'a>)> = call
            .kwargs
            .iter()
            .map(|(k, v)| (k.clone(), self.expr(v, scope)))
            .collect();
        for splat in &call.kw_splats {
            match self.expr(splat, scope) {
                Value::Dict(dict) if !dict.open => {
                    for (k, v) in dict.entries {
                        if let Value::Str(k) = k {
                            kwargs.push((k, v));
                        }
                    }
                }
                _ => kwargs.push((OPEN_KWARGS.to_string(), Value::Unknown)),
            }
        }
        (args, kwargs)
    }

    /// A bare name: the function's variables, the caller's bindings, the module, builtins.
    fn name(&self, name: &str, scope: &Scope<'_, 'a>) -> Value<'a> {
        if let Some(v) = scope.vars.get(name) {
            return v.clone();
        }
        if let Some(v) = scope.captured.and_then(|c| c.get(name)) {
            return v.clone();
        }
        if let Some(outer) = scope.outer
            && let Some(v) = outer.lookup(name, self)
        {
            return v;
        }
        if let Some(v) = self.global(scope.module, name) {
            return v;
        }
        if BUILTINS.contains(&name) {
            return Value::Lib(format!("builtins.{name}"));
        }
        Value::Unknown
    }

    /// `value.attr`.
    pub fn attribute(&self, value: Value<'a>, attr: &str) -> Value<'a> {
        match value {
            Value::Module(module) => match self.global(module, attr) {
                Some(v) => v,
                None => self.module_getattr(module, attr),
            },
            Value::Class(ClassRef::Host { name, id }) => match attr {
                "__name__" | "__qualname__" => Value::Str(name),
                _ => self
                    .host
                    .class_attr(id, attr, self)
                    .unwrap_or(Value::Unknown),
            },
            Value::Class(ClassRef::Def { def, module }) => {
                self.class_def_attr(def, module, attr, 0)
            }
            Value::Lib(path) => self.library(format!("{path}.{attr}")),
            Value::LibCall(call) => self.library(format!("{}().{attr}", call.path)),
            Value::Pattern(regex) if attr == "pattern" => Value::Str(regex.pattern.clone()),
            Value::OneOf(options) => Value::one_of(
                options
                    .into_iter()
                    .map(|o| self.attribute(o, attr))
                    .collect(),
            ),
            Value::Unknown => Value::Unknown,
            other => Value::Method(Box::new(other), attr.to_string()),
        }
    }

    /// A module's `__getattr__(name)` (PEP 562), for a name it does not bind.
    fn module_getattr(&self, module: &'a ModuleSummary, attr: &str) -> Value<'a> {
        let Some(Def::Function(def)) = module.get("__getattr__") else {
            return Value::Unknown;
        };
        let Some(def) = def.get() else {
            return Value::Unknown;
        };
        let func = Func {
            def,
            module,
            captured: None,
        };
        self.call_function(
            &func,
            vec![Item::One(Value::Str(attr.to_string()))],
            Vec::new(),
        )
    }

    /// An attribute of a project class: `__name__`, or a class-level name along its bases.
    fn class_def_attr(
        &self,
        def: &'a ClassDef,
        module: &'a ModuleSummary,
        attr: &str,
        depth: usize,
    ) -> Value<'a> {
        if matches!(attr, "__name__" | "__qualname__") {
            return Value::Str(def.name.clone());
        }
        if depth > MAX_CALL_DEPTH {
            return Value::Unknown;
        }
        for stmt in def.body.iter().rev() {
            match stmt {
                Stmt::Assign {
                    targets,
                    value: Some(value),
                    ..
                } if targets.iter().any(|t| t.as_name() == Some(attr)) => {
                    let vars = Vars::new();
                    return self.expr(value, &self.scope(&vars, module));
                }
                Stmt::Function(f) if f.name == attr => {
                    return Value::Function(Rc::new(Func {
                        def: f,
                        module,
                        captured: None,
                    }));
                }
                _ => {}
            }
        }
        for base in &def.bases {
            let vars = Vars::new();
            if let Value::Class(ClassRef::Def { def, module }) =
                self.expr(base, &self.scope(&vars, module))
            {
                let found = self.class_def_attr(def, module, attr, depth + 1);
                if !found.is_unknown() {
                    return found;
                }
            }
        }
        Value::Unknown
    }

    /// `func(*args, **kwargs)`.
    pub fn call(
        &self,
        func: Value<'a>,
        args: Vec<Item<'a>>,
        kwargs: Vec<(String, Value<'a>)>,
    ) -> Value<'a> {
        match func {
            Value::Function(f) => {
                if kwargs.iter().any(|(k, _)| k == OPEN_KWARGS) {
                    return Value::Unknown;
                }
                self.call_function(&f, args, kwargs)
            }
            Value::Method(receiver, method) => {
                methods::call_method(self, *receiver, &method, args, kwargs)
            }
            Value::Lib(path) => methods::call_library(self, path, args, kwargs),
            Value::Class(ClassRef::Def { def, module }) => {
                self.instantiate(def, module, args, kwargs, 0)
            }
            Value::OneOf(options) => Value::one_of(
                options
                    .into_iter()
                    .map(|o| self.call(o, args.clone(), kwargs.clone()))
                    .collect(),
            ),
            _ => Value::Unknown,
        }
    }

    /// `Class(…)` of a project class that derives a library class (a column type, Flask's
    /// `SQLAlchemy`): the library class called with the same arguments, plus the keyword
    /// defaults its `__init__` passes on to `super().__init__` (`timezone=True`). Any other
    /// instance is unknown.
    fn instantiate(
        &self,
        def: &'a ClassDef,
        module: &'a ModuleSummary,
        args: Vec<Item<'a>>,
        mut kwargs: Vec<(String, Value<'a>)>,
        depth: usize,
    ) -> Value<'a> {
        if depth > MAX_CALL_DEPTH {
            return Value::Unknown;
        }
        if let Some(init) = def.body.iter().find_map(|s| match s {
            Stmt::Function(f) if f.name == "__init__" => Some(f),
            _ => None,
        }) {
            self.forwarded_keywords(init, module, &mut kwargs);
        }
        let vars = Vars::new();
        for base in &def.bases {
            match self.expr(base, &self.scope(&vars, module)) {
                Value::Lib(path) => {
                    return methods::call_library(self, path, args, kwargs);
                }
                Value::Class(ClassRef::Def { def, module }) => {
                    return self.instantiate(def, module, args, kwargs, depth + 1);
                }
                _ => {}
            }
        }
        Value::Unknown
    }

    /// The keyword parameters an `__init__` gives defaults to and passes on to
    /// `super().__init__(…)` (`timezone=True`) are added to `kwargs` when the caller did not
    /// pass them. What else the `__init__` does (setting attributes of the instance) does not
    /// change which library class it builds.
    fn forwarded_keywords(
        &self,
        init: &'a FunctionDef,
        module: &'a ModuleSummary,
        kwargs: &mut Vec<(String, Value<'a>)>,
    ) -> Option<()> {
        let call = init.body.iter().find_map(|s| match s {
            Stmt::Expr {
                value: Expr::Call(call),
                ..
            } if matches!(&call.func, Expr::Attribute { value, attr }
                if attr == "__init__"
                    && value.as_call().and_then(|c| c.func_name()) == Some("super")) =>
            {
                Some(call)
            }
            _ => None,
        })?;
        for (key, passed) in &call.kwargs {
            let Some(param) = passed
                .as_name()
                .and_then(|n| init.params.iter().find(|p| p.name == n))
            else {
                continue;
            };
            let given = kwargs.iter().position(|(k, _)| *k == param.name);
            let value = match given {
                Some(i) => kwargs.remove(i).1,
                None => match &param.default {
                    Some(default) => {
                        let vars = Vars::new();
                        self.expr(default, &self.scope(&vars, module))
                    }
                    None => continue,
                },
            };
            kwargs.retain(|(k, _)| k != key);
            kwargs.push((key.clone(), value));
        }
        Some(())
    }

    /// The items a `for` loop runs over, when known.
    pub fn iterate(&self, value: &Value<'a>) -> Option<Vec<Value<'a>>> {
        match value {
            Value::Seq(_) => Some(value.items()?.into_iter().cloned().collect()),
            Value::Str(s) => Some(s.chars().map(|c| Value::Str(c.to_string())).collect()),
            Value::Dict(dict) if !dict.open => {
                Some(dict.entries.iter().map(|(k, _)| k.clone()).collect())
            }
            _ => None,
        }
    }

    fn comprehension(&self, comp: &Comprehension, scope: &Scope<'_, 'a>) -> Value<'a> {
        let mut rows: Vec<Vars<'a>> = vec![scope.vars.clone()];
        for clause in &comp.clauses {
            let Some(names) = target_names(&clause.target) else {
                return Value::Unknown;
            };
            let mut next = Vec::new();
            for row in rows {
                let inner = Scope {
                    vars: &row,
                    captured: scope.captured,
                    outer: scope.outer,
                    module: scope.module,
                };
                let iterable = self.expr(&clause.iter, &inner);
                let Some(values) = self.iterate(&iterable) else {
                    return Value::Unknown;
                };
                for value in values {
                    let mut vars = row.clone();
                    bind_targets(&names, value, &mut vars);
                    let inner = Scope {
                        vars: &vars,
                        captured: scope.captured,
                        outer: scope.outer,
                        module: scope.module,
                    };
                    let mut keep = Some(true);
                    for condition in &clause.conditions {
                        match self.expr(condition, &inner).truthy() {
                            Some(true) => {}
                            Some(false) => {
                                keep = Some(false);
                                break;
                            }
                            None => keep = None,
                        }
                    }
                    match keep {
                        Some(true) => next.push(vars),
                        Some(false) => {}
                        None => return Value::Unknown,
                    }
                }
                if next.len() > MAX_LOOP_ITEMS {
                    return Value::Unknown;
                }
            }
            rows = next;
        }
        let mut items = Vec::new();
        let mut dict = Dict::default();
        for vars in &rows {
            let inner = Scope {
                vars,
                captured: scope.captured,
                outer: scope.outer,
                module: scope.module,
            };
            let element = self.expr(&comp.element, &inner);
            match &comp.value {
                Some(value) => {
                    let v = self.expr(value, &inner);
                    if element.is_unknown() {
                        dict.open = true;
                    } else {
                        dict.insert(element, v);
                    }
                }
                None => items.push(element),
            }
        }
        match comp.kind {
            ComprehensionKind::Dict => Value::Dict(dict),
            ComprehensionKind::Set => methods::dedup(items),
            ComprehensionKind::List | ComprehensionKind::Generator => Value::seq(items),
        }
    }

    fn binop(&self, op: &str, left: Value<'a>, right: Value<'a>) -> Value<'a> {
        methods::binop(op, left, right)
    }
}

/// The keyword under which an unknown `**kwargs` is passed on.
const OPEN_KWARGS: &str = "\u{1}**";

/// A plain identifier.
fn bare(expr: &Expr) -> Option<&str> {
    expr.as_name().filter(|n| !n.contains('.'))
}

/// `x.update(…)`, `x.append(…)`, … on a plain name: the name and the call.
fn mutating_call(expr: &Expr) -> Option<(&str, &crate::pyast::Call)> {
    let call = expr.as_call()?;
    let (receiver, method) = call.func.as_name()?.rsplit_once('.')?;
    (!receiver.contains('.') && methods::MUTATING.contains(&method)).then_some((receiver, call))
}

/// What an unknown number of mutations leaves of a variable.
fn widen(name: &str, vars: &mut Vars<'_>) {
    let widened = match vars.get(name) {
        Some(Value::Dict(_)) => Value::Dict(Dict {
            entries: Vec::new(),
            open: true,
        }),
        Some(Value::Seq(items)) => {
            let mut items = items.clone();
            if !matches!(items.last(), Some(Item::Many)) {
                items.push(Item::Many);
            }
            Value::Seq(items)
        }
        Some(_) => Value::Unknown,
        None => return,
    };
    vars.insert(name.to_string(), widened);
}

/// Whether a body has a `return` anywhere (outside nested functions).
fn contains_return(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Return { .. } => true,
        Stmt::Block { body, .. } => contains_return(body),
        _ => false,
    })
}

/// The incoming paths that continue, and the others.
fn split_next(flows: Vec<Flow<'_>>) -> (Vec<Vars<'_>>, Vec<Flow<'_>>) {
    let mut next = Vec::new();
    let mut other = Vec::new();
    for flow in flows {
        match flow {
            Flow::Next(vars) => next.push(vars),
            flow => other.push(flow),
        }
    }
    (next, other)
}

/// The names a `for` target binds: `t`, `(old, new)`, `a, b`. `None` for anything else (an
/// attribute, a starred or nested target).
pub fn loop_targets(target: &str) -> Option<Vec<&str>> {
    let names: Vec<&str> = target
        .trim_matches(|c| matches!(c, '(' | ')' | '[' | ']'))
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    (!names.is_empty() && names.iter().all(|n| is_identifier(n))).then_some(names)
}

/// The names a comprehension target binds.
fn target_names(target: &Expr) -> Option<Vec<&str>> {
    match target {
        Expr::List(items) => items.iter().map(bare).collect(),
        other => bare(other).map(|n| vec![n]),
    }
}

/// Binds one iteration's value to the targets (unpacking several).
fn bind_targets<'a>(names: &[&str], value: Value<'a>, vars: &mut Vars<'a>) {
    if let [one] = names {
        vars.insert((*one).to_string(), value);
        return;
    }
    match value.items().filter(|items| items.len() == names.len()) {
        Some(items) => {
            let items: Vec<Value<'a>> = items.into_iter().cloned().collect();
            for (name, item) in names.iter().zip(items) {
                vars.insert((*name).to_string(), item);
            }
        }
        None => {
            for name in names {
                vars.insert((*name).to_string(), Value::Unknown);
            }
        }
    }
}

/// A Python identifier: `table`, `_old_name`.
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}
