//! A small evaluator of constant Python: what the names and expressions of a revision stand
//! for, without running it.
//!
//! Revisions compute their operations: `t = "customers"`, `sql = sql + "…"`,
//! `for name in ("a", "b"):`, `(old, new) = _changes()`. The operation reader
//! ([`super::ops`]) walks the statements of a function and binds names as it goes
//! ([`Scope::assign`], [`Scope::bind_returned`]); [`Globals`] are the module's own bindings,
//! read once. An [`Env`] pairs the two and answers the reader's questions: what a name stands
//! for ([`Env::resolve`]), which string an expression is ([`Env::eval`], [`Env::const_str`]),
//! which items a loop runs over ([`Env::iterations`]).
//!
//! What it must not do: run, import or guess. What it cannot know is [`Value::Expr`] (the
//! expression as written, after following names) or `None`, and the caller decides what that
//! means — usually a warning when a table is at stake. Every chain is cut off
//! ([`RESOLVE_DEPTH`], [`EVAL_DEPTH`], [`MAX_LOOP_ITEMS`]): without Python's statement order,
//! `sql = sql + "…"` refers to itself. Built strings are bounded too ([`MAX_STRING_BYTES`],
//! [`MAX_SCOPE_STRING_BYTES`]): `s = s + s` forty times is a terabyte. Nothing here knows Alembic or SQLAlchemy; `op.*`,
//! columns and types stay in [`super::ops`].
//!
//! Where it grows: a new place names come from is a tier of [`Env::lookup`]; a new kind of
//! iterable (merged dicts) is an arm of `Env::rows`; a value that is neither a string nor an
//! expression of the file is a new [`Value`]. Strings it does not build itself (f-strings,
//! `str` methods, `re.sub`, `%`, a helper of the file or of another module of the project that
//! returns one) and conditions (`op.get_bind().dialect.name == "sqlite"`) are asked of the
//! project-wide evaluator [`crate::pyeval`], through the [`ModuleCtx`] the [`Globals`] carry:
//! the revision's module summary and the index of the project's modules, on PostgreSQL.
//!
//! Two shortcuts, kept because the reader over-approximates anyway: a name's binding is the
//! last one the walk has met, whatever branch it was in, and a loop's body is read once per
//! item with the target bound, then the target keeps the last item.

use std::collections::HashMap;

use std::cell::RefCell;
use std::collections::HashSet;

use crate::pyast::{Comprehension, ComprehensionKind, Expr, FunctionDef, Stmt};
use crate::pyeval::{self, Def, Evaluator, ModuleIndex, ModuleSummary, Names, PostgresHost};
use crate::source::Location;

/// How many times a name is followed to the name it is bound to (`a = b`, `b = "t"`).
pub(super) const RESOLVE_DEPTH: usize = 4;

/// Loops over more items than this are read once, with the target unknown.
pub(super) const MAX_LOOP_ITEMS: usize = 256;

/// How deep expressions are evaluated through names: `sql = sql + "…"` refers to itself as
/// far as a reader without Python's statement order can tell, so evaluation must stop.
pub(super) const EVAL_DEPTH: usize = 16;

/// The longest string the evaluator builds by `+`: hostile input such as `s = s + s` repeated
/// doubles it per line. A longer one is not known.
pub(super) const MAX_STRING_BYTES: usize = 1 << 20;

/// How many bytes of evaluated strings one function's [`Scope`] keeps, in all.
pub(super) const MAX_SCOPE_STRING_BYTES: usize = 32 << 20;

/// What a bare name is bound to, and where.
#[derive(Clone, Copy)]
pub(super) struct Binding<'a> {
    pub value: &'a Expr,
    pub location: &'a Location,
}

/// An expression after following bare names to what they are bound to.
#[derive(Clone, Copy)]
pub(super) struct Resolved<'a> {
    pub value: &'a Expr,
    /// Where the last name followed was bound; `None` when the expression was not a bound
    /// name.
    pub location: Option<&'a Location>,
}

/// What an expression evaluates to, as far as this evaluator knows.
pub(super) enum Value<'a> {
    /// A string known without running anything.
    Str(String),
    /// Anything else: the expression as written, after following names.
    Expr(Resolved<'a>),
}

/// The module a function being read belongs to, for the evaluator: its summary and the
/// project's other modules.
#[derive(Clone, Copy)]
pub(super) struct ModuleCtx<'a> {
    pub summary: &'a ModuleSummary,
    pub index: &'a ModuleIndex<'a>,
}

/// The module-level bindings of a file: `NAME = value` outside any function or class (the
/// last one wins, as in Python).
#[derive(Default)]
pub(super) struct Globals<'a> {
    bindings: HashMap<&'a str, Binding<'a>>,
    /// The module, when the evaluator may be asked (not in the unit tests of this file).
    pub ctx: Option<ModuleCtx<'a>>,
}

impl<'a> Globals<'a> {
    /// The bindings of another module of the project, from its summary.
    pub fn of_summary(ctx: ModuleCtx<'a>) -> Self {
        let mut bindings = HashMap::new();
        for (name, def) in &ctx.summary.names {
            if let Def::Value(value, location) = def {
                bindings.insert(name.as_str(), Binding { value, location });
            } else {
                bindings.remove(name.as_str());
            }
        }
        Globals {
            bindings,
            ctx: Some(ctx),
        }
    }

    /// The expressions module-level names are bound to.
    pub fn values(&self) -> impl Iterator<Item = &'a Expr> + '_ {
        self.bindings.values().map(|b| b.value)
    }

    pub fn read(body: &'a [Stmt]) -> Self {
        let mut bindings = HashMap::new();
        for stmt in body {
            if let Stmt::Assign {
                targets,
                value: Some(value),
                location,
                ..
            } = stmt
            {
                for name in targets.iter().filter_map(bare_name) {
                    bindings.insert(name, Binding { value, location });
                }
            }
        }
        Globals {
            bindings,
            ctx: None,
        }
    }
}

/// The names bound in one function, as far as the reader has walked it.
#[derive(Default)]
pub(super) struct Scope<'a> {
    locals: HashMap<&'a str, Binding<'a>>,
    /// Names bound to a constant string, evaluated when bound, so that `sql = sql + "…"`
    /// means what it means in Python.
    strings: HashMap<&'a str, String>,
    /// Bytes held in `strings`, at most [`MAX_SCOPE_STRING_BYTES`].
    string_bytes: usize,
}

impl<'a> Scope<'a> {
    /// `a = b = value` at `location`: every name stands for `value` from now on. A constant
    /// string is evaluated once, before any name is bound.
    pub fn assign(
        &mut self,
        globals: &Globals<'a>,
        names: &[&'a str],
        value: &'a Expr,
        location: &'a Location,
    ) {
        let string = Env::new(globals, self).const_str(value);
        for &name in names {
            if let Some(old) = self.strings.remove(name) {
                self.string_bytes -= old.len();
            }
            if let Some(string) = &string
                && self.string_bytes + string.len() <= MAX_SCOPE_STRING_BYTES
            {
                self.string_bytes += string.len();
                self.strings.insert(name, string.clone());
            }
            self.locals.insert(name, Binding { value, location });
        }
    }

    /// `(old_names, new_names) = _changes()` where `function` (the helper called) ends with
    /// `return (old_names, new_names)`: each target stands for what the helper bound the
    /// returned name to, and the helper's other top-level bindings become visible (where not
    /// bound here), so `list(mapping.keys())` in the helper can be followed.
    /// A parameter of a helper being read: it stands for the argument (already followed to
    /// what it is bound to in the caller) and, when the caller knew it, that string.
    pub fn bind_param(
        &mut self,
        name: &'a str,
        value: &'a Expr,
        location: &'a Location,
        string: Option<String>,
    ) {
        match string {
            Some(string) => self.strings.insert(name, string),
            None => self.strings.remove(name),
        };
        self.locals.insert(name, Binding { value, location });
    }

    pub fn bind_returned(&mut self, targets: &'a [Expr], function: &'a FunctionDef) {
        let [Expr::List(names)] = targets else {
            return;
        };
        let Some(Expr::List(returned)) = function.body.iter().rev().find_map(|s| match s {
            Stmt::Return { value, .. } => value.as_ref(),
            _ => None,
        }) else {
            return;
        };
        if returned.len() != names.len() {
            return;
        }
        let helper = Globals::read(&function.body).bindings;
        for (name, binding) in &helper {
            self.locals.entry(name).or_insert(*binding);
        }
        for (target, item) in names.iter().zip(returned) {
            let (Some(target), Some(item)) = (bare_name(target), bare_name(item)) else {
                continue;
            };
            if let Some(binding) = helper.get(item) {
                if let Some(old) = self.strings.remove(target) {
                    self.string_bytes -= old.len();
                }
                self.locals.insert(target, *binding);
            }
        }
    }
}

/// Where names are looked up while evaluating: a function's [`Scope`], then the module's
/// [`Globals`].
#[derive(Clone, Copy)]
pub(super) struct Env<'e, 'a> {
    globals: &'e Globals<'a>,
    scope: &'e Scope<'a>,
}

impl<'e, 'a> Env<'e, 'a> {
    pub fn new(globals: &'e Globals<'a>, scope: &'e Scope<'a>) -> Self {
        Env { globals, scope }
    }

    /// What a bare name is bound to: in the function, else at module level.
    pub fn lookup(&self, name: &str) -> Option<Binding<'a>> {
        self.scope
            .locals
            .get(name)
            .or_else(|| self.globals.bindings.get(name))
            .copied()
    }

    /// Follows bare names to what they are bound to.
    pub fn resolve(&self, expr: &'a Expr) -> Resolved<'a> {
        let mut resolved = Resolved {
            value: expr,
            location: None,
        };
        for _ in 0..RESOLVE_DEPTH {
            let Some(binding) = bare_name(resolved.value).and_then(|n| self.lookup(n)) else {
                break;
            };
            resolved = Resolved {
                value: binding.value,
                location: Some(binding.location),
            };
        }
        resolved
    }

    /// The value of an expression: a constant string, or the expression names stand for.
    pub fn eval(&self, expr: &'a Expr) -> Value<'a> {
        match self.str_in(expr, 0) {
            Some(string) => Value::Str(string),
            None => Value::Expr(self.resolve(expr)),
        }
    }

    /// A string known without running anything: a literal, a bound name, `"a" + "b"`.
    pub fn const_str(&self, expr: &'a Expr) -> Option<String> {
        match self.eval(expr) {
            Value::Str(string) => Some(string),
            Value::Expr(_) => None,
        }
    }

    fn str_in(&self, expr: &'a Expr, depth: usize) -> Option<String> {
        if depth >= EVAL_DEPTH {
            return None;
        }
        if let Some(string) = bare_name(expr).and_then(|n| self.scope.strings.get(n)) {
            return Some(string.clone());
        }
        match self.resolve(expr).value {
            Expr::Str(s) => Some(s.clone()),
            Expr::BinOp { op, left, right } if op == "+" => {
                let mut s = self.str_in(left, depth + 1)?;
                let right = self.str_in(right, depth + 1)?;
                if s.len() + right.len() > MAX_STRING_BYTES {
                    return None;
                }
                s.push_str(&right);
                Some(s)
            }
            other if may_be_string(other) => self.evaluate(other).as_str().map(str::to_string),
            _ => None,
        }
    }

    /// What the project-wide evaluator makes of an expression of this function, on
    /// PostgreSQL (`op.get_bind().dialect.name` is `"postgresql"`).
    pub fn evaluate(&self, expr: &Expr) -> pyeval::Value<'a> {
        let Some(ctx) = self.globals.ctx else {
            return pyeval::Value::Unknown;
        };
        let ev = Evaluator::new(ctx.index, &PostgresHost);
        let names = EnvNames {
            env: *self,
            resolving: RefCell::new(HashSet::new()),
        };
        ev.eval(expr, ctx.summary, &names)
    }

    /// Whether a condition holds, when the evaluator can tell (`if dialect == "sqlite":`).
    pub fn truthy(&self, expr: &Expr) -> Option<bool> {
        self.evaluate(expr).truthy()
    }

    /// `["a", "b"]`, `("a",)` or a single `"a"`; `None` if any item is not a constant.
    pub fn str_list(&self, expr: &'a Expr) -> Option<Vec<String>> {
        if let Some(one) = self.const_str(expr) {
            return Some(vec![one]);
        }
        match self.resolve(expr).value {
            Expr::List(items) => items.iter().map(|i| self.const_str(i)).collect(),
            _ => None,
        }
    }

    /// `for a, b in iterable:` → one entry per iteration: the values of `targets` in it.
    /// The iterable is a constant sequence (a tuple, a name bound to one, `zip(…)`,
    /// `d.items()`, `d.keys()`, `d.values()`, `list(…)`); an item that does not unpack into
    /// the targets is passed over. `None` when the items cannot be known.
    pub fn iterations(
        &self,
        targets: &[&'a str],
        iterable: &'a Expr,
    ) -> Option<Vec<Vec<&'a Expr>>> {
        let rows = self.rows(iterable, 0)?;
        let iterations = rows
            .into_iter()
            .filter_map(|row| match (targets.len(), row.as_slice()) {
                (1, [one]) => Some(vec![*one]),
                (1, _) => None,
                (n, [Expr::List(parts)]) if parts.len() == n => Some(parts.iter().collect()),
                (n, parts) if parts.len() == n => Some(parts.to_vec()),
                _ => None,
            })
            .collect();
        Some(iterations)
    }

    /// The items a loop iterates over, each as the values of one iteration (several for
    /// `zip(…)` and `.items()`); `None` when they cannot be known.
    fn rows(&self, iterable: &'a Expr, depth: usize) -> Option<Vec<Vec<&'a Expr>>> {
        if depth >= RESOLVE_DEPTH {
            return None;
        }
        let rows = match self.resolve(iterable).value {
            Expr::List(items) => items.iter().map(|i| vec![i]).collect(),
            Expr::Dict(pairs) => pairs.iter().map(|(k, _)| vec![k]).collect(),
            Expr::Call(call) => {
                let func = call.func.as_name()?;
                match func.rsplit_once('.') {
                    None if matches!(func, "list" | "tuple" | "sorted" | "reversed") => {
                        let mut rows = self.rows(call.args.first()?, depth + 1)?;
                        if func == "reversed" {
                            rows.reverse();
                        }
                        rows
                    }
                    None if func == "zip" => {
                        let columns: Vec<Vec<Vec<&'a Expr>>> = call
                            .args
                            .iter()
                            .map(|a| self.rows(a, depth + 1))
                            .collect::<Option<_>>()?;
                        let len = columns.iter().map(Vec::len).min()?;
                        (0..len)
                            .map(|i| {
                                columns
                                    .iter()
                                    .flat_map(|c| c.get(i).cloned().unwrap_or_default())
                                    .collect()
                            })
                            .collect()
                    }
                    Some((receiver, method @ ("keys" | "values" | "items"))) => {
                        let receiver = self.lookup(receiver)?;
                        let dict = self.resolve(receiver.value).value;
                        if let Expr::Comprehension(comp) = dict
                            && method != "values"
                        {
                            // `{name: … for name in names}`: the keys are the items of `names`.
                            let source = comprehension_keys(comp)?;
                            let keys = self.rows(self.lookup(source)?.value, depth + 1)?;
                            return Some(
                                keys.into_iter()
                                    .map(|mut key| {
                                        if method == "items" {
                                            key.push(dict);
                                        }
                                        key
                                    })
                                    .collect(),
                            );
                        }
                        let Expr::Dict(pairs) = dict else {
                            return None;
                        };
                        pairs
                            .iter()
                            .map(|(k, v)| match method {
                                "keys" => vec![k],
                                "values" => vec![v],
                                _ => vec![k, v],
                            })
                            .collect()
                    }
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(rows).filter(|r: &Vec<Vec<&'a Expr>>| r.len() <= MAX_LOOP_ITEMS)
    }
}

/// The names a `for` target binds: `t`, `(old, new)`, `a, b`. `None` for anything else (an
/// attribute, a starred or nested target).
pub(super) fn loop_targets(target: &str) -> Option<Vec<&str>> {
    let names: Vec<&str> = target
        .trim_matches(|c| matches!(c, '(' | ')' | '[' | ']'))
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    (!names.is_empty() && names.iter().all(|n| is_identifier(n))).then_some(names)
}

/// The function's own names for the evaluator: constant strings, and expressions the names
/// are bound to (evaluated where asked; a name that refers to itself is unknown).
struct EnvNames<'e, 'a> {
    env: Env<'e, 'a>,
    resolving: RefCell<HashSet<String>>,
}

impl<'a> Names<'a> for EnvNames<'_, 'a> {
    fn lookup(&self, name: &str, ev: &Evaluator<'a, '_>) -> Option<pyeval::Value<'a>> {
        if let Some(string) = self.env.scope.strings.get(name) {
            return Some(pyeval::Value::Str(string.clone()));
        }
        let binding = self.env.scope.locals.get(name)?;
        let ctx = self.env.globals.ctx?;
        if !self.resolving.borrow_mut().insert(name.to_string()) {
            return Some(pyeval::Value::Unknown);
        }
        let value = ev.eval(binding.value, ctx.summary, self);
        self.resolving.borrow_mut().remove(name);
        Some(value)
    }
}

/// Whether an expression is worth asking the evaluator for a string: not a literal of another
/// kind, not a constructor call (`sa.Column(…)`, `sa.Integer()`: SQLAlchemy objects).
fn may_be_string(expr: &Expr) -> bool {
    match expr {
        Expr::FString(_)
        | Expr::Name(_)
        | Expr::Attribute { .. }
        | Expr::Subscript { .. }
        | Expr::IfElse { .. }
        | Expr::BinOp { .. } => true,
        Expr::Call(call) => !call
            .func
            .last_name()
            .or(match &call.func {
                Expr::Attribute { attr, .. } => Some(attr.as_str()),
                _ => None,
            })
            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_uppercase())),
        _ => false,
    }
}

/// `{name: value for name in names}` → `names`: a dict comprehension keyed by its loop
/// variable over a plain name, without conditions. Anything else → `None`.
fn comprehension_keys(comp: &Comprehension) -> Option<&str> {
    let [clause] = comp.clauses.as_slice() else {
        return None;
    };
    let key = bare_name(&comp.element)?;
    (comp.kind == ComprehensionKind::Dict
        && clause.conditions.is_empty()
        && bare_name(&clause.target) == Some(key))
    .then(|| bare_name(&clause.iter))
    .flatten()
}

/// A Python identifier: `table`, `_old_name`.
pub(super) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// A plain identifier (no dots).
pub(super) fn bare_name(expr: &Expr) -> Option<&str> {
    expr.as_name().filter(|n| !n.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyast::{self, PyModule};
    use crate::source::SourceFile;

    fn module(src: &str) -> PyModule {
        pyast::parse(&SourceFile::new("v.py", src))
    }

    /// The module's bindings, and the scope of its function `f` after its assignments.
    fn walk(module: &PyModule) -> (Globals<'_>, Scope<'_>) {
        let globals = Globals::read(&module.body);
        let mut scope = Scope::default();
        let f = module.body.iter().find_map(|s| match s {
            Stmt::Function(f) if f.name == "f" => Some(f),
            _ => None,
        });
        for stmt in f.map_or(&[][..], |f| &f.body) {
            if let Stmt::Assign {
                targets,
                value: Some(value),
                location,
                ..
            } = stmt
            {
                let names: Vec<&str> = targets.iter().filter_map(bare_name).collect();
                scope.assign(&globals, &names, value, location);
            }
        }
        (globals, scope)
    }

    fn name(name: &str) -> Expr {
        Expr::Name(name.to_string())
    }

    /// `src` parsed as a Python expression.
    fn expr(src: &str) -> Expr {
        match module(&format!("_ = {src}\n")).body.into_iter().next() {
            Some(Stmt::Assign { value: Some(v), .. }) => v,
            other => panic!("not an expression: {other:?}"),
        }
    }

    #[test]
    fn strings_follow_names_and_are_evaluated_where_they_are_bound() {
        let m = module(
            "T = 'cust' + 'omers'\ndef f():\n    sql = 'ALTER TABLE ' + T\n    sql = sql + ' ADD x int'\n    t = u = T\n",
        );
        let (globals, scope) = walk(&m);
        let env = Env::new(&globals, &scope);
        let (sql, t, u, nothing) = (name("sql"), name("t"), name("u"), name("nothing"));
        assert_eq!(
            env.const_str(&sql).as_deref(),
            Some("ALTER TABLE customers ADD x int")
        );
        assert_eq!(env.const_str(&t).as_deref(), Some("customers"));
        assert_eq!(env.const_str(&u).as_deref(), Some("customers"));
        assert!(matches!(env.eval(&nothing), Value::Expr(r) if r.location.is_none()));
    }

    #[test]
    fn iterations_unpack_zip_and_dict_items_into_the_targets() {
        let m = module(
            "OLD = ('a', 'b')\nNEW = ['x', 'y']\nRENAMES = {'a': 'x', 'b': 'y'}\ndef f():\n    pass\n",
        );
        let (globals, scope) = walk(&m);
        let env = Env::new(&globals, &scope);
        let text = |iterations: Option<Vec<Vec<&Expr>>>| -> Vec<String> {
            iterations
                .unwrap_or_default()
                .iter()
                .map(|values| {
                    let strings: Vec<String> = values
                        .iter()
                        .map(|v| env.const_str(v).unwrap_or_default())
                        .collect();
                    strings.join("->")
                })
                .collect()
        };
        let (zipped, items) = (expr("zip(OLD, NEW)"), expr("RENAMES.items()"));
        assert_eq!(
            text(env.iterations(&["old", "new"], &zipped)),
            vec!["a->x", "b->y"]
        );
        assert_eq!(
            text(env.iterations(&["old", "new"], &items)),
            vec!["a->x", "b->y"]
        );
        assert_eq!(text(env.iterations(&["t"], &name("OLD"))), vec!["a", "b"]);
        // One target, pairs: no iteration fits.
        assert_eq!(text(env.iterations(&["t"], &zipped)), Vec::<String>::new());
        assert_eq!(env.iterations(&["t"], &name("unknown")), None);
    }

    #[test]
    fn loop_targets_are_plain_names() {
        assert_eq!(loop_targets("t"), Some(vec!["t"]));
        assert_eq!(loop_targets("(old, new)"), Some(vec!["old", "new"]));
        assert_eq!(loop_targets("a, b"), Some(vec!["a", "b"]));
        assert_eq!(loop_targets("self.x"), None);
        assert_eq!(loop_targets("*rest"), None);
    }

    /// Issue 11: `s = s + s` forty times is a terabyte in Python; the evaluator stops knowing
    /// the string at [`MAX_STRING_BYTES`] instead of running out of memory.
    #[test]
    fn regression_issue_11_doubling_strings_stay_bounded() {
        let src = format!(
            "def f():\n    s = '{}'\n{}    t = 'ok'\n",
            "x".repeat(1000),
            "    s = s + s\n".repeat(40)
        );
        let m = module(&src);
        let (globals, scope) = walk(&m);
        let env = Env::new(&globals, &scope);
        assert_eq!(env.const_str(&name("s")), None);
        assert_eq!(env.const_str(&name("t")).as_deref(), Some("ok"));
        assert!(scope.string_bytes <= MAX_SCOPE_STRING_BYTES);
        // Module-level names double through `resolve` instead: bounded the same way.
        let src = format!(
            "S0 = '{}'\n{}def f():\n    pass\n",
            "x".repeat(1000),
            (1..40)
                .map(|i| format!("S{i} = S{p} + S{p}\n", p = i - 1))
                .collect::<String>()
        );
        let m = module(&src);
        let (globals, scope) = walk(&m);
        let env = Env::new(&globals, &scope);
        assert_eq!(env.const_str(&name("S39")), None);
        assert_eq!(env.const_str(&name("S2")).map(|s| s.len()), Some(4000));
    }

    #[test]
    fn self_reference_stops() {
        let m = module("def f():\n    a = b\n    b = a\n");
        let (globals, scope) = walk(&m);
        let env = Env::new(&globals, &scope);
        let a = name("a");
        assert_eq!(env.const_str(&a), None);
        assert!(matches!(env.eval(&a), Value::Expr(r) if r.location.is_some()));
    }
}
