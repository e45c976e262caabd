//! The evaluator on whole helpers written the way real projects write them (the shapes come
//! from public backends; the code here is our own).

use super::*;
use crate::source::SourceFile;

fn summary(path: &str, src: &str) -> ModuleSummary {
    ModuleSummary::new(path, &crate::pyast::parse(&SourceFile::new(path, src)))
}

/// Calls `function` of the first module with `args`, the other modules importable.
fn call(modules: &[ModuleSummary], function: &str, args: Vec<Value<'_>>) -> String {
    let index = ModuleIndex::new(modules.iter(), &[]);
    let ev = Evaluator::new(&index, &NoHost);
    let Some(Value::Function(f)) = ev.global(&modules[0], function) else {
        panic!("no function {function}")
    };
    let value = ev.call_function(&f, args.into_iter().map(Item::One).collect(), Vec::new());
    show(&value)
}

/// `src` as a module-level expression `_ = …` of the first module.
fn eval(modules: &[ModuleSummary], src: &str) -> String {
    let index = ModuleIndex::new(modules.iter(), &[]);
    let ev = Evaluator::new(&index, &NoHost);
    let module = summary("probe.py", &format!("{src}\n"));
    let Some(Def::Value(expr, _)) = module.get("_") else {
        panic!("not an expression")
    };
    // The probe lives beside the first module so that its imports resolve the same way.
    let probe = ModuleSummary {
        path: modules
            .first()
            .map_or("probe.py".into(), |m| m.path.clone()),
        names: modules.first().map(|m| m.names.clone()).unwrap_or_default(),
        star_imports: modules
            .first()
            .map(|m| m.star_imports.clone())
            .unwrap_or_default(),
    };
    let value = ev.eval(expr, &probe, &NoNames);
    show(&value)
}

fn show(value: &Value) -> String {
    match value {
        Value::Unknown => "?".to_string(),
        Value::OneOf(options) => {
            let options: Vec<String> = options.iter().map(show).collect();
            format!("one of {}", options.join(" | "))
        }
        Value::Dict(d) => {
            let mut entries: Vec<String> = d
                .entries
                .iter()
                .map(|(k, v)| format!("{}: {}", show(k), show(v)))
                .collect();
            if d.open {
                entries.push("…".into());
            }
            format!("{{{}}}", entries.join(", "))
        }
        Value::Seq(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| match i {
                    Item::One(v) => show(v),
                    Item::Many => "*?".into(),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        Value::LibCall(call) => format!("{}(…)", call.path),
        Value::Lib(path) => path.clone(),
        other => value::repr(other).unwrap_or_else(|| format!("{other:?}")),
    }
}

fn cls(name: &str) -> Value<'static> {
    Value::Class(ClassRef::Host {
        name: name.into(),
        id: 0,
    })
}

#[test]
fn a_lookahead_split_joined_with_underscores() {
    let m = summary(
        "src/app/database/core.py",
        "import re\n\ndef resolve_table_name(name):\n    \"\"\"Resolves table names.\"\"\"\n    names = re.split(\"(?=[A-Z])\", name)  # noqa\n    return \"_\".join([x.lower() for x in names if x])\n",
    );
    let m = [m];
    assert_eq!(
        call(
            &m,
            "resolve_table_name",
            vec![Value::Str("CaseCostType".into())]
        ),
        "'case_cost_type'"
    );
    assert_eq!(
        eval(&m, "_ = resolve_table_name('HTTPRequest')"),
        "'h_t_t_p_request'"
    );
}

#[test]
fn camel_to_snake_helpers_and_declared_attr_bodies() {
    let m = [summary(
        "app/models/base.py",
        r#"import re
from re import sub as resub

_first = re.compile(r"(.)([A-Z][a-z]+)")
_all = re.compile("([a-z0-9])([A-Z])")
PREFIX = "app"

def camel_to_snake(name: str) -> str:
    name = _first.sub(r"\1_\2", name)
    return _all.sub(r"\1_\2", name).lower()

def plural(word):
    if word.endswith("y"):
        return word[:-1] + "ies"
    elif word.endswith("s"):
        return word + "es"
    return word + "s"

def tablename(cls):
    return f"{PREFIX}_{plural(camel_to_snake(cls.__name__))}"

def tablename2(cls):
    return "%s_%s" % (PREFIX, resub("(?<!^)(?=[A-Z])", "_", cls.__name__).lower())
"#,
    )];
    assert_eq!(
        call(&m, "tablename", vec![cls("JobCategory")]),
        "'app_job_categories'"
    );
    assert_eq!(
        call(&m, "tablename", vec![cls("HTTPStatus")]),
        "'app_http_statuses'"
    );
    assert_eq!(
        call(&m, "tablename2", vec![cls("UserRole")]),
        "'app_user_role'"
    );
}

#[test]
fn merged_table_args_keep_the_schema_after_a_loop_it_cannot_follow() {
    // A helper that merges `__auto_table_args` found with `dir(cls)`, then the keywords it
    // was given: the schema is known whatever the loop did.
    let m = [summary(
        "pkg/core/db/util.py",
        r#"def auto_table_args(cls, **extra_kwargs):
    posargs = []
    kwargs = {}
    for attr in dir(cls):
        if not attr.endswith('__auto_table_args'):
            continue
        value = getattr(cls, attr)
        if not value:
            continue
        if isinstance(value, dict):
            kwargs.update(value)
        elif isinstance(value, tuple):
            if isinstance(value[-1], dict):
                posargs.extend(value[:-1])
                kwargs.update(value[-1])
            else:
                posargs.extend(value)
        else:
            raise TypeError(f'Unexpected tableargs: {value}')
    kwargs.update(extra_kwargs)
    if posargs and kwargs:
        return (*posargs, kwargs)
    elif kwargs:
        return kwargs
    else:
        return tuple(posargs)
"#,
    )];
    let index = ModuleIndex::new(m.iter(), &[]);
    let ev = Evaluator::new(&index, &NoHost);
    let Some(Value::Function(f)) = ev.global(&m[0], "auto_table_args") else {
        panic!("a function")
    };
    let value = ev.call_function(
        &f,
        vec![Item::One(cls("Room"))],
        vec![("schema".into(), Value::Str("roombooking".into()))],
    );
    assert_eq!(
        show(&value),
        "one of [*?, {'schema': 'roombooking', …}] | {'schema': 'roombooking', …}"
    );
    // Without keywords nothing is known about the schema.
    let value = ev.call_function(&f, vec![Item::One(cls("Room"))], Vec::new());
    assert_eq!(show(&value), "one of [*?, {…}] | {…} | [*?]");
}

#[test]
fn names_and_helpers_from_other_modules() {
    let modules = [
        summary(
            "app/models/user.py",
            "from app.core.naming import table_name\nfrom ..core import naming\nfrom app.core.naming import *\n",
        ),
        summary(
            "app/core/naming.py",
            "SCHEMA = 'core'\nTABLE_ARGS = {'schema': SCHEMA, 'comment': 'x'}\ndef table_name(name, *, prefix='t'):\n    return f'{prefix}_{name.lower()}'\n",
        ),
    ];
    assert_eq!(eval(&modules, "_ = table_name('User')"), "'t_user'");
    assert_eq!(
        eval(&modules, "_ = naming.table_name('User', prefix='x')"),
        "'x_user'"
    );
    assert_eq!(
        eval(&modules, "_ = {**TABLE_ARGS, 'comment': None}"),
        "{'schema': 'core', 'comment': None}"
    );
    assert_eq!(
        eval(&modules, "_ = dict(TABLE_ARGS, schema='other')['schema']"),
        "'other'"
    );
    assert_eq!(
        eval(&modules, "_ = TABLE_ARGS | {'schema': 's'}"),
        "{'schema': 's', 'comment': 'x'}"
    );
}

#[test]
fn strings_the_way_helpers_build_them() {
    let m = [summary("m.py", "N = 3\nWORDS = ('a', 'b')\n")];
    for (src, expected) in [
        ("_ = 'CamelCase'.title()", "'Camelcase'"),
        ("_ = 'x-y'.replace('-', '_').upper()", "'X_Y'"),
        ("_ = '{}_{name}'.format('a', name='b')", "'a_b'"),
        ("_ = '%s_%d' % ('t', N)", "'t_3'"),
        ("_ = f'{N:03d}-{\"ab\"!r}'", "\"003-'ab'\""),
        ("_ = '_'.join(w.upper() for w in WORDS)", "'A_B'"),
        ("_ = 'a.b.c'.rsplit('.', 1)[-1]", "'c'"),
        ("_ = 'abc'[::-1] + 'abc'[1:]", "'cbabc'"),
        ("_ = 'x' if N > 2 else 'y'", "'x'"),
        ("_ = 'a' in WORDS and not 'c' in WORDS", "True"),
        ("_ = [w for w in WORDS if w != 'a']", "['b']"),
        (
            "_ = {w: i for i, w in enumerate(WORDS)}",
            "{'a': 0, 'b': 1}",
        ),
        ("_ = sorted({'b', 'a'})", "['a', 'b']"),
        ("_ = re.sub('[aeiou]', '', 'table')", "?"),
        ("_ = unknown_name.lower()", "?"),
        ("_ = open('x').read()", "?"),
    ] {
        assert_eq!(eval(&m, src), expected, "{src}");
    }
}

#[test]
fn conditions_it_cannot_decide_give_every_possibility() {
    let m = [summary(
        "m.py",
        "import os\n\ndef name(cls):\n    if os.environ.get('X'):\n        return 'a_' + cls.__name__.lower()\n    return cls.__name__.lower()\n\ndef same(cls):\n    if os.environ.get('X'):\n        return cls.__name__.lower()\n    return cls.__name__.lower()\n",
    )];
    assert_eq!(
        call(&m, "name", vec![cls("User")]),
        "one of 'a_user' | 'user'"
    );
    assert_eq!(call(&m, "same", vec![cls("User")]), "'user'");
}

#[test]
fn recursion_and_long_loops_are_cut_off() {
    let m = [summary(
        "m.py",
        "def f(n):\n    return f(n)\n\ndef g():\n    x = ''\n    for i in range(200):\n        for j in range(200):\n            x = x + 'a'\n    return x\n",
    )];
    assert_eq!(call(&m, "f", vec![Value::Int(1)]), "?");
    assert_eq!(call(&m, "g", Vec::new()), "?");
}

#[test]
fn a_module_getattr_hook_and_the_database_dialect() {
    // A module that hands out types lazily by dialect through `__getattr__`.
    let types = summary(
        "app/migrations/db_types.py",
        r#"import sqlalchemy as sa
from alembic import context
from lazy_object_proxy import Proxy

def _sa_TIMESTAMP():
    class TIMESTAMP(sa.TIMESTAMP):
        def __init__(self, *args, timezone=True, **kwargs):
            super().__init__(*args, timezone=timezone, **kwargs)
    return TIMESTAMP

def __getattr__(name):
    if name in ["TIMESTAMP"]:
        def lazy_load():
            dialect = context.get_bind().dialect.name
            module = globals()
            type_ = module.get(f"_{dialect}_{name}", None) or module.get(f"_sa_{name}")
            val = module[name] = type_()
            return val
        return Proxy(lazy_load)
    raise AttributeError(name)
"#,
    );
    let revision = summary(
        "app/migrations/versions/1_x.py",
        "from app.migrations.db_types import TIMESTAMP\nfrom alembic import op\n",
    );
    let modules = [revision, types];
    let index = ModuleIndex::new(modules.iter(), &[]);
    let ev = Evaluator::new(&index, &PostgresHost);
    let value = ev.global(&modules[0], "TIMESTAMP");
    assert!(
        matches!(&value, Some(Value::Class(ClassRef::Def { def, .. })) if def.name == "TIMESTAMP"),
        "{value:?}"
    );
    let probe = summary(
        "p.py",
        "_ = op.get_bind().dialect.name\nt = TIMESTAMP()\nu = TIMESTAMP(timezone=False)\n",
    );
    let value = |name: &str| {
        let Some(Def::Value(expr, _)) = probe.get(name) else {
            panic!("no {name}")
        };
        ev.eval(expr, &modules[0], &NoNames)
    };
    assert_eq!(show(&value("_")), "'postgresql'");
    // Instantiating the class is calling its library base with the keyword its `__init__`
    // passes on.
    let call = |v: Value| match value::to_expr(&v) {
        Some(Expr::Call(call)) => (call.func_name().map(str::to_string), call.kwargs),
        other => panic!("not a call: {other:?}"),
    };
    let timezone = |b| vec![("timezone".to_string(), Expr::Bool(b))];
    assert_eq!(
        call(value("t")),
        (Some("sqlalchemy.TIMESTAMP".into()), timezone(true))
    );
    assert_eq!(
        call(value("u")),
        (Some("sqlalchemy.TIMESTAMP".into()), timezone(false))
    );
}

#[test]
fn library_objects_are_not_containers() {
    let m = [summary(
        "m.py",
        "from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Index

class AppSQLAlchemy(SQLAlchemy):
    pass

db = AppSQLAlchemy()
",
    )];
    assert_eq!(
        eval(&m, "_ = isinstance(db.Index(None, 'a'), dict)"),
        "False"
    );
    assert_eq!(
        eval(&m, "_ = isinstance(Index('ix', 'a'), (dict, tuple))"),
        "False"
    );
    assert_eq!(eval(&m, "_ = isinstance({}, dict)"), "True");
    assert_eq!(eval(&m, "_ = isinstance([], tuple)"), "?");
}
