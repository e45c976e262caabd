//! An Alembic environment's `env.py` → the schema its unqualified names land in.
//!
//! A project with several Alembic environments may run one of them in its own schema: a core
//! environment whose `op.create_table("dispatch_user")` creates `dispatch_core.dispatch_user`
//! because its `env.py` runs `SET search_path TO dispatch_core` before migrating. This reads
//! that schema from the text of `env.py`, without running it, from (the first that gives one
//! answer wins):
//!
//! 1. a `search_path` the file sets — `connection.execute(text('SET search_path TO x'))`,
//!    `exec_driver_sql(…)`, an f-string of a module constant — the first schema of the path
//!    (`"$user"` passed over);
//! 2. `context.configure(version_table_schema=…)`: a team that keeps `alembic_version` in a
//!    schema runs its revisions there;
//! 3. `context.configure(include_schemas=True, include_object=f)` where `f` keeps only the
//!    objects of one literal schema (`return object.schema == "core"`).
//!
//! Strings are evaluated by [`crate::pyeval`] with the module's constants and each function's
//! own simple assignments; a value that depends on a loop (a search path per tenant schema)
//! or on settings is not known, and neither is a file that sets two different paths: then
//! there is no answer (`None`), and the caller keeps the configured default.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use crate::pyast::{self, Call, Expr, FunctionDef, Stmt};
use crate::pyeval::{Evaluator, ModuleIndex, ModuleSummary, Names, NoHost, Value};
use crate::source::SourceFile;

/// The schema unqualified names of this environment's revisions mean, when `env.py` says.
pub fn env_default_schema(env_py: &SourceFile) -> Option<String> {
    let module = pyast::parse(env_py);
    let summary = ModuleSummary::new(&env_py.path, &module);
    let index = ModuleIndex::default();
    let ev = Evaluator::new(&index, &NoHost);
    let mut reader = EnvReader {
        ev: &ev,
        summary: &summary,
        functions: HashMap::new(),
        search_paths: Vec::new(),
        version_table_schemas: Vec::new(),
        include_filters: Vec::new(),
    };
    reader.collect_functions(&module.body);
    let top = Locals::new(&summary);
    reader.body(&module.body, &top);
    agreed(&reader.search_paths)
        .or_else(|| agreed(&reader.version_table_schemas))
        .or_else(|| agreed(&reader.include_filters))
}

/// The one value all of `found` agree on.
fn agreed(found: &[String]) -> Option<String> {
    let first = found.first()?;
    found.iter().all(|f| f == first).then(|| first.clone())
}

/// A function's simple assignments (`stmt = text(f"…")`), so that a name used later in the
/// function stands for its value; names a loop binds stand for nothing known.
struct Locals<'a> {
    summary: &'a ModuleSummary,
    values: HashMap<String, Option<&'a Expr>>,
    resolving: RefCell<HashSet<String>>,
}

impl<'a> Locals<'a> {
    fn new(summary: &'a ModuleSummary) -> Self {
        Locals {
            summary,
            values: HashMap::new(),
            resolving: RefCell::new(HashSet::new()),
        }
    }
}

impl<'a> Names<'a> for Locals<'a> {
    fn lookup(&self, name: &str, ev: &Evaluator<'a, '_>) -> Option<Value<'a>> {
        let bound = (*self.values.get(name)?)?;
        if !self.resolving.borrow_mut().insert(name.to_string()) {
            return Some(Value::Unknown);
        }
        let value = ev.eval(bound, self.summary, self);
        self.resolving.borrow_mut().remove(name);
        Some(value)
    }
}

struct EnvReader<'a, 'e> {
    ev: &'e Evaluator<'a, 'e>,
    summary: &'a ModuleSummary,
    functions: HashMap<&'a str, &'a FunctionDef>,
    search_paths: Vec<String>,
    version_table_schemas: Vec<String>,
    include_filters: Vec<String>,
}

impl<'a> EnvReader<'a, '_> {
    fn collect_functions(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            match stmt {
                Stmt::Function(f) => {
                    self.functions.insert(f.name.as_str(), f);
                    self.collect_functions(&f.body);
                }
                Stmt::Block { body, .. } => self.collect_functions(body),
                _ => {}
            }
        }
    }

    /// Every statement of a body (and of the functions and blocks in it).
    fn body(&mut self, body: &'a [Stmt], outer: &Locals<'a>) {
        let mut locals = Locals::new(self.summary);
        locals.values.clone_from(&outer.values);
        for stmt in body {
            match stmt {
                Stmt::Assign {
                    targets,
                    value: Some(value),
                    ..
                } => {
                    self.expr(value, &locals);
                    for target in targets {
                        if let Some(name) = target.as_name().filter(|n| !n.contains('.')) {
                            locals.values.insert(name.to_string(), Some(value));
                        }
                    }
                }
                Stmt::Expr { value, .. }
                | Stmt::Return {
                    value: Some(value), ..
                } => self.expr(value, &locals),
                Stmt::Function(function) => {
                    let inner = Locals::new(self.summary);
                    self.body(&function.body, &inner);
                }
                Stmt::Block { items, body, .. } => {
                    for (item, target) in items {
                        self.expr(item, &locals);
                        for name in target
                            .as_deref()
                            .and_then(crate::pyeval::loop_targets)
                            .unwrap_or_default()
                        {
                            locals.values.insert(name.to_string(), None);
                        }
                    }
                    self.body(body, &locals);
                }
                _ => {}
            }
        }
    }

    /// The calls in an expression that say something about the schema.
    fn expr(&mut self, expr: &'a Expr, locals: &Locals<'a>) {
        let Expr::Call(call) = expr else {
            return;
        };
        let name = call.func.last_name().or(match &call.func {
            Expr::Attribute { attr, .. } => Some(attr.as_str()),
            _ => None,
        });
        match name {
            Some("text" | "execute" | "exec_driver_sql") => {
                if let Some(sql) = call.args.first()
                    && let Some(sql) = self.string(sql, locals)
                    && let Some(schema) = crate::migrations::sql::search_path_schema(&sql)
                {
                    self.search_paths.push(schema);
                }
            }
            Some("configure") => self.configure(call, locals),
            _ => {}
        }
        self.expr(&call.func, locals);
        for arg in call.args.iter().chain(call.kwargs.iter().map(|(_, v)| v)) {
            self.expr(arg, locals);
        }
    }

    fn string(&self, expr: &'a Expr, locals: &Locals<'a>) -> Option<String> {
        // A local bound to `text("…")`: its string.
        if let Some(name) = expr.as_name()
            && let Some(Some(Expr::Call(call))) = locals.values.get(name)
            && call.func.last_name() == Some("text")
        {
            return call.args.first().and_then(|e| self.string(e, locals));
        }
        match expr {
            Expr::Str(s) => Some(s.clone()),
            other => self
                .ev
                .eval(other, self.summary, locals)
                .as_str()
                .map(str::to_string),
        }
    }

    /// `context.configure(version_table_schema=…, include_schemas=True, include_object=f)`.
    fn configure(&mut self, call: &'a Call, locals: &Locals<'a>) {
        if let Some(schema) = call
            .kwarg("version_table_schema")
            .and_then(|e| self.string(e, locals))
        {
            self.version_table_schemas.push(schema);
        }
        let include_schemas = call
            .kwarg("include_schemas")
            .is_some_and(|e| e.as_bool() == Some(true));
        if !include_schemas {
            return;
        }
        for key in ["include_object", "include_name"] {
            if let Some(function) = call
                .kwarg(key)
                .and_then(Expr::as_name)
                .and_then(|n| self.functions.get(n).copied())
                && let Some(schema) = self.schema_filter(function)
            {
                self.include_filters.push(schema);
            }
        }
    }

    /// A filter that keeps one literal schema: `return object.schema == "core"` (also through
    /// a module constant, or `name == "core"` under `if type_ == "schema":`).
    fn schema_filter(&self, function: &'a FunctionDef) -> Option<String> {
        let mut found: Vec<String> = Vec::new();
        collect_returns(&function.body, &mut |value| {
            if let Expr::Compare { left, ops, rights } = value
                && ops.len() == 1
                && ops[0] == "=="
                && let Some(attr) = left.as_name()
                && (attr.ends_with(".schema") || attr == "name")
                && let Some(schema) = self
                    .ev
                    .eval(&rights[0], self.summary, &crate::pyeval::NoNames)
                    .as_str()
            {
                found.push(schema.to_string());
            }
        });
        agreed(&found)
    }
}

fn collect_returns<'a>(body: &'a [Stmt], f: &mut dyn FnMut(&'a Expr)) {
    for stmt in body {
        match stmt {
            Stmt::Return {
                value: Some(value), ..
            } => f(value),
            Stmt::Block { body, .. } => collect_returns(body, f),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(src: &str) -> Option<String> {
        env_default_schema(&SourceFile::new("migrations/core/env.py", src))
    }

    #[test]
    fn a_search_path_built_from_a_module_constant() {
        // The shape of an environment that migrates the shared tables of a multi-tenant app.
        let src = r#"from alembic import context
from sqlalchemy import create_engine, text

CORE_SCHEMA_NAME = "app_core"

def include_object(object, name, type_, reflected, compare_to):
    if type_ == "table":
        return object.schema == CORE_SCHEMA_NAME
    return True

def run_migrations_online():
    connectable = create_engine(URL)
    with connectable.connect() as connection:
        set_search_path = text(f'set search_path to "{CORE_SCHEMA_NAME}"')
        connection.execute(set_search_path)
        context.configure(connection=connection, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()

run_migrations_online()
"#;
        assert_eq!(schema(src).as_deref(), Some("app_core"));
    }

    #[test]
    fn a_search_path_per_tenant_is_not_one_schema() {
        let src = r#"from alembic import context
from sqlalchemy import inspect, text

def run_migrations_online():
    with connectable.connect() as connection:
        for schema in get_tenant_schemas(connection):
            set_search_path = text(f'set search_path to "{schema}"')
            connection.execute(set_search_path)
            context.configure(connection=connection)
"#;
        assert_eq!(schema(src), None);
    }

    #[test]
    fn other_statements_and_configure_keywords() {
        assert_eq!(
            schema("conn.exec_driver_sql('SET search_path TO \"$user\", Billing, public')\n")
                .as_deref(),
            Some("billing")
        );
        assert_eq!(
            schema("op.execute(\"SET LOCAL search_path = 'Ops'\")\n").as_deref(),
            Some("Ops")
        );
        assert_eq!(
            schema("SCHEMA = 'reporting'\ncontext.configure(connection=c, version_table_schema=SCHEMA)\n")
                .as_deref(),
            Some("reporting")
        );
        assert_eq!(
            schema("def keep(name, type_, parent_names):\n    if type_ == 'schema':\n        return name == 'audit'\n    return True\n\ncontext.configure(connection=c, include_schemas=True, include_name=keep)\n")
                .as_deref(),
            Some("audit")
        );
        // Without `include_schemas`, a filter says nothing about where tables land.
        assert_eq!(
            schema(
                "def keep(object, name, type_, r, c):\n    return object.schema == 'audit'\n\ncontext.configure(connection=c, include_object=keep)\n"
            ),
            None
        );
        // The search path wins over the version table's schema.
        assert_eq!(
            schema("context.configure(version_table_schema='meta')\nconn.execute(text('SET search_path TO data'))\n")
                .as_deref(),
            Some("data")
        );
    }

    #[test]
    fn what_is_not_known_or_disagrees_is_no_answer() {
        assert_eq!(
            schema("context.configure(connection=c, target_metadata=m)\n"),
            None
        );
        assert_eq!(
            schema("context.configure(version_table_schema=target_metadata.schema)\n"),
            None
        );
        assert_eq!(
            schema(
                "conn.execute(text('SET search_path TO a'))\nconn.execute(text('SET search_path TO b'))\n"
            ),
            None
        );
        assert_eq!(schema("conn.execute(text('SELECT 1'))\n"), None);
        assert_eq!(
            schema("conn.execute(text('SET search_path TO DEFAULT'))\n"),
            None
        );
        assert_eq!(schema("x = 'search_path is documented here'\n"), None);
        assert_eq!(schema("((("), None);
    }
}
