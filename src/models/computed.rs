//! Table names and schemas that the project computes: the project pass's questions to the
//! evaluator ([`crate::pyeval`]).
//!
//! A `@declared_attr` `__tablename__` is called with the mapped class as `cls` (so
//! `resolve_table_name(cls.__name__)` is the name of *that* class), in the file that declares
//! it, with the project's other modules importable: the model files, and the summaries of the
//! other modules the caller hands in ([`super::resolve_with_modules`]). A `__table_args__` is
//! evaluated the same way and its schema read from the dict it builds, or from the dict that
//! ends the tuple it builds; when it depends on a condition the evaluator cannot decide, every
//! possibility must name the same schema. `cls` answers `__name__`, `__tablename__`,
//! `dir(cls)` and `getattr(cls, …)` from the class bodies along its bases, private names
//! mangled as Python does (`__auto_table_args` of `Room` is `_Room__auto_table_args`); a
//! `@declared_attr` or class property (`@classproperty`) is called with `cls`. Names that
//! only a library base defines are not listed.
//!
//! What the evaluator cannot tell stays unknown: the caller keeps its warning and leaves the
//! table out rather than guess.

use std::collections::HashMap;

use super::extract::{Computed, FileModels, MetadataSchema};
use super::resolve::{ClassId, Found, Resolver, Sym};
use super::text::expr_text;
use crate::pyast::{Expr, FunctionDef, Stmt};
use crate::pyeval::{
    ClassRef, Def, Evaluator, Host, Item, ModuleIndex, ModuleSummary, NoHost, NoNames, Value,
};
use crate::sqlalchemy::enums;

/// How many classes up an enum class's bases are followed to `enum.Enum`
/// (`class Kind(Choices)`, `class Choices(enum.Enum)` in another module).
const ENUM_BASE_DEPTH: usize = 3;

/// What `cls` is while a class's computed attributes are evaluated.
struct ClassHost<'a> {
    name: String,
    /// The class and its project ancestors, nearest first: their definitions and modules.
    mro: Vec<(&'a crate::pyast::ClassDef, &'a ModuleSummary)>,
    /// The table name, when it is already known (for `cls.__tablename__` in table args).
    tablename: Option<String>,
}

/// `__x` in class `_Name` → `_Name__x`, as Python stores it.
fn mangle(class: &str, name: &str) -> String {
    if name.starts_with("__") && !name.ends_with("__") {
        format!("_{}{name}", class.trim_start_matches('_'))
    } else {
        name.to_string()
    }
}

/// A method whose value on the class is what it returns for the class: `@declared_attr`, or
/// a class property (`@classproperty`, `@strict_classproperty`, …).
fn called_with_class(function: &FunctionDef) -> bool {
    function.decorators.iter().any(|d| {
        let name = match d {
            Expr::Call(call) => call.func.as_name(),
            other => other.as_name(),
        };
        name.is_some_and(|n| {
            n.split('.')
                .any(|part| part == "declared_attr" || part.ends_with("classproperty"))
        })
    })
}

impl<'a> Host<'a> for ClassHost<'a> {
    fn class_attr(&self, _id: usize, attr: &str, ev: &Evaluator<'a, '_>) -> Option<Value<'a>> {
        if attr == "__tablename__"
            && let Some(name) = &self.tablename
        {
            return Some(Value::Str(name.clone()));
        }
        for (def, module) in &self.mro {
            for stmt in def.body.iter().rev() {
                match stmt {
                    Stmt::Assign {
                        targets,
                        value: Some(value),
                        ..
                    } if targets
                        .iter()
                        .filter_map(Expr::as_name)
                        .any(|t| t == attr || mangle(&def.name, t) == attr) =>
                    {
                        return Some(ev.eval(value, module, &NoNames));
                    }
                    Stmt::Function(function)
                        if function.name == attr || mangle(&def.name, &function.name) == attr =>
                    {
                        if !called_with_class(function) {
                            return Some(Value::Unknown);
                        }
                        let func = crate::pyeval::Func {
                            def: function,
                            module,
                            captured: None,
                        };
                        return Some(ev.call_function(
                            &func,
                            vec![Item::One(self.cls())],
                            Vec::new(),
                        ));
                    }
                    _ => {}
                }
            }
        }
        None
    }

    fn class_dir(&self, _id: usize) -> Option<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        for (def, _) in &self.mro {
            for stmt in &def.body {
                let declared: Vec<&str> = match stmt {
                    Stmt::Assign { targets, .. } => {
                        targets.iter().filter_map(Expr::as_name).collect()
                    }
                    Stmt::Function(f) => vec![f.name.as_str()],
                    Stmt::Class(c) => vec![c.name.as_str()],
                    _ => Vec::new(),
                };
                names.extend(
                    declared
                        .into_iter()
                        .filter(|n| !n.contains('.'))
                        .map(|n| mangle(&def.name, n)),
                );
            }
        }
        names.sort();
        names.dedup();
        Some(names)
    }
}

impl<'a> ClassHost<'a> {
    fn cls(&self) -> Value<'a> {
        Value::Class(ClassRef::Host {
            name: self.name.clone(),
            id: 0,
        })
    }
}

/// The schema a `__table_args__` value gives: `Ok(Some(schema))`, `Ok(None)` when it names
/// none (the metadata's default applies), `Err(())` when it cannot be told.
fn schema_of(value: &Value) -> Result<Option<String>, ()> {
    match value {
        Value::Dict(dict) => match dict.str_entry("schema") {
            Some(Some(Value::None)) | Some(None) => Ok(None),
            Some(Some(schema)) => schema.as_str().map(|s| Some(s.to_string())).ok_or(()),
            None => Err(()),
        },
        Value::Seq(items) => match items.last() {
            None => Ok(None),
            Some(Item::One(last @ Value::Dict(_))) => schema_of(last),
            Some(Item::One(Value::Unknown | Value::OneOf(_))) | Some(Item::Many) => Err(()),
            Some(Item::One(_)) => Ok(None),
        },
        Value::None => Ok(None),
        Value::OneOf(options) => {
            let mut schemas = options.iter().map(schema_of);
            let first = schemas.next().ok_or(())??;
            for other in schemas {
                if other? != first {
                    return Err(());
                }
            }
            Ok(first)
        }
        _ => Err(()),
    }
}

/// The text a warning shows for computed code: the expression, or what the function returns.
fn computed_text(computed: &Computed) -> String {
    match computed {
        Computed::Expr(expr) => expr_text(expr),
        Computed::Function(function) => {
            let returned = function.body.iter().rev().find_map(|s| match s {
                Stmt::Return {
                    value: Some(value), ..
                } => Some(expr_text(value)),
                _ => None,
            });
            returned.unwrap_or_else(|| format!("{}(cls)", function.name))
        }
    }
}

impl<'a> Resolver<'a> {
    /// The host for a class: its definition and its project ancestors' along its MRO.
    fn class_host(&mut self, id: ClassId, tablename: Option<String>) -> Option<ClassHost<'a>> {
        let class = self.class(id)?;
        let mut mro = Vec::new();
        for &c in self.mro(id).iter() {
            let (Some(model), Some(file)) = (self.class(c), self.file(c.0)) else {
                continue;
            };
            if let Some(Def::Class(def)) = file.summary.get(&model.name)
                && let Some(def) = def.get()
            {
                mro.push((def, &file.summary));
            }
        }
        Some(ClassHost {
            name: class.name.clone(),
            mro,
            tablename,
        })
    }

    /// Runs computed code declared in `file` for class `id`.
    fn run_computed(
        &mut self,
        id: ClassId,
        file: usize,
        computed: &'a Computed,
        tablename: Option<String>,
    ) -> Value<'a> {
        let Some(host) = self.class_host(id, tablename) else {
            return Value::Unknown;
        };
        let Some(module) = self.file(file).map(|f| &f.summary) else {
            return Value::Unknown;
        };
        let index = self.index();
        let ev = Evaluator::new(index, &host);
        match computed {
            Computed::Function(function) => {
                let func = crate::pyeval::Func {
                    def: function,
                    module,
                    captured: None,
                };
                ev.call_function(&func, vec![Item::One(host.cls())], Vec::new())
            }
            Computed::Expr(expr) => ev.eval(expr, module, &NoNames),
        }
    }

    /// A computed `__tablename__` of class `id`, declared in `file`: `Some(name)` when the
    /// evaluator can tell it (`None` results are dropped when the name is `None` only for
    /// subclasses of a mapped class).
    pub(super) fn computed_table_name(
        &mut self,
        id: ClassId,
        file: usize,
        computed: &'a Computed,
        none_when_inherited: bool,
    ) -> Option<String> {
        let value = self.run_computed(id, file, computed, None);
        let value = match value {
            Value::OneOf(options) if none_when_inherited => Value::one_of(
                options
                    .into_iter()
                    .filter(|o| !matches!(o, Value::None))
                    .collect(),
            ),
            other => other,
        };
        value.as_str().map(str::to_string)
    }

    /// The schema a computed `__table_args__` gives class `id`.
    pub(super) fn computed_schema(
        &mut self,
        id: ClassId,
        file: usize,
        computed: &'a Computed,
        tablename: &str,
    ) -> Result<Option<String>, String> {
        let value = self.run_computed(id, file, computed, Some(tablename.to_string()));
        schema_of(&value).map_err(|()| computed_text(computed))
    }

    /// Whether the `@declared_attr` method `name` of class `owner` returns `None` for class
    /// `id` (a column the class's flags switch off). Unknown is not `None`.
    pub(super) fn declared_attr_returns_none(
        &mut self,
        id: ClassId,
        owner: ClassId,
        name: &str,
    ) -> bool {
        let Some(class) = self.class(owner) else {
            return false;
        };
        let Some(file) = self.file(owner.0) else {
            return false;
        };
        let module = &file.summary;
        let Some(def) = (match module.get(&class.name) {
            Some(Def::Class(def)) => def.get(),
            _ => None,
        }) else {
            return false;
        };
        let Some(function) = def.body.iter().rev().find_map(|s| match s {
            Stmt::Function(f) if f.name == name => Some(f),
            _ => None,
        }) else {
            return false;
        };
        // A body that always returns what it returns at its end is not worth running.
        if !function
            .body
            .iter()
            .any(|s| matches!(s, Stmt::Block { .. }))
        {
            return false;
        }
        let Some(host) = self.class_host(id, None) else {
            return false;
        };
        let ev = Evaluator::new(self.index(), &host);
        let func = crate::pyeval::Func {
            def: function,
            module,
            captured: None,
        };
        matches!(
            ev.call_function(&func, vec![Item::One(host.cls())], Vec::new()),
            Value::None
        )
    }

    /// A string computed at module level in `file` (`SCHEMA = f"{APP}_core"`,
    /// `settings.SCHEMA` of a settings module): `None` when it cannot be told.
    pub(super) fn eval_str(&self, file: usize, expr: &Expr) -> Option<String> {
        let module = &self.file(file)?.summary;
        let ev = Evaluator::new(self.index(), &NoHost);
        ev.eval(expr, module, &NoNames).as_str().map(str::to_string)
    }

    /// A Python enum class that `expr` names in `file` but that no model file declares
    /// (`from app.enums import Kind`, a module without models, read as a plain module of the
    /// project): its name and labels, when the evaluator reaches an enum class.
    pub(super) fn module_enum(
        &self,
        file: usize,
        expr: &Expr,
        by_value: bool,
    ) -> Option<(String, Vec<String>)> {
        let module = &self.file(file)?.summary;
        let ev = Evaluator::new(self.index(), &NoHost);
        match ev.eval(expr, module, &NoNames) {
            Value::Class(ClassRef::Def { def, module })
                if enums::derives_enum(self.index(), def, module, ENUM_BASE_DEPTH) =>
            {
                let str_enum = enums::is_str_enum(def.bases.iter().filter_map(Expr::as_name));
                let members = enums::members_of_body(&def.body);
                Some((
                    def.name.clone(),
                    enums::labels(&members, by_value, str_enum),
                ))
            }
            _ => None,
        }
    }

    /// The schema that a module-level `X.metadata.schema = …` sets for the metadata the
    /// symbol `target` carries (a declarative base class, a `declarative_base()` value, Flask's
    /// `db`, `sqlmodel.SQLModel`), or `X.schema = …` for a `MetaData` object.
    pub(super) fn assigned_metadata_schema(&self, target: &Sym, direct: bool) -> Option<String> {
        for (f, file) in self.scan_files() {
            for assign in &file.metadata_schemas {
                if assign.direct != direct || !self.same_symbol(f, assign, target) {
                    continue;
                }
                if let Ok(schema) = self.str_value(f, &assign.schema) {
                    return Some(schema);
                }
            }
        }
        None
    }

    fn same_symbol(&self, file: usize, assign: &MetadataSchema, target: &Sym) -> bool {
        match (self.lookup(file, &assign.target), target) {
            (Some(Found { sym, rest }), _) if rest.is_empty() => sym == *target,
            (
                Some(Found {
                    sym: Sym::External(full),
                    ..
                }),
                Sym::External(want),
            ) => full == *want,
            _ => false,
        }
    }
}

/// The callee of a `Field(sa_column=helper(…))` that is not `Column` itself: a project helper
/// to evaluate.
/// Whether `value` is a SQLModel field whose `sa_column=` calls a project helper.
pub(super) fn is_column_helper(value: &Expr) -> bool {
    column_helper(value).is_some()
}

fn column_helper(value: &Expr) -> Option<&Expr> {
    let Expr::Call(field) = value else {
        return None;
    };
    column_helper_call(field.kwarg("sa_column")?)
}

/// SQLModel fields whose `sa_column=` is a project helper that builds the column
/// (`sa_column=_tz_column(index=True)` with `def _tz_column(*, nullable=False, index=False):
/// return Column(DateTime(timezone=True), nullable=nullable, index=index)`): the helper is
/// evaluated in the file that calls it ([`crate::pyeval`], with the project's modules
/// importable) and, when it returns a `Column(…)` the evaluator can write back as code, the
/// field reads that call, arguments substituted, instead of the helper's name. Returns the
/// files that changed, by index (the others are used as they are); a helper the evaluator
/// cannot follow is left as written, and the column reader then trusts neither its type nor
/// its nullability.
pub(super) fn expand_column_helpers(
    files: &[&FileModels],
    modules: &[ModuleSummary],
    python_roots: &[String],
) -> HashMap<usize, FileModels> {
    let wanted = |file: &FileModels| file.classes.iter().any(|c| c.column_helpers);
    let mut out = HashMap::new();
    if !files.iter().any(|f| wanted(f)) {
        return out;
    }
    let index = ModuleIndex::new(
        files.iter().map(|f| &f.summary).chain(modules),
        python_roots,
    );
    let ev = Evaluator::new(&index, &NoHost);
    for (i, original) in files.iter().enumerate() {
        if !wanted(original) {
            continue;
        }
        let file = out.entry(i).or_insert_with(|| (*original).clone());
        let summary = &original.summary;
        for class in file.classes.iter_mut().filter(|c| c.column_helpers) {
            let mut attrs = class.attrs().to_vec();
            for attr in &mut attrs {
                expand_helper(attr, summary, &ev);
            }
            class.attrs = crate::lazy::Lazy::new(attrs);
        }
    }
    out
}

/// A SQLModel field's `sa_column=` helper call replaced by the `Column(…)` it builds, when
/// the evaluator can tell.
fn expand_helper<'a>(
    attr: &mut super::ClassAttr,
    summary: &'a ModuleSummary,
    ev: &Evaluator<'a, '_>,
) {
    let Some(Expr::Call(field)) = &mut attr.value else {
        return;
    };
    let Some((_, helper)) = field.kwargs.iter_mut().find(|(k, _)| k == "sa_column") else {
        return;
    };
    if column_helper_call(helper).is_none() {
        return;
    }
    let built = match ev.eval(helper, summary, &NoNames) {
        Value::LibCall(call) if call.path.rsplit('.').next() == Some("Column") => {
            crate::pyeval::to_expr(&Value::LibCall(call))
        }
        _ => None,
    };
    if let Some(built) = built {
        *helper = built;
    }
}

/// `helper(…)` when it is a call of something other than `Column`/`mapped_column`.
fn column_helper_call(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Call(call) if !matches!(call.func.last_name(), Some("Column" | "mapped_column")) => {
            Some(expr)
        }
        _ => None,
    }
}
