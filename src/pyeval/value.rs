//! What an expression evaluates to: [`Value`], with Python's truthiness and equality where
//! they are known.

use std::collections::HashMap;
use std::rc::Rc;

use super::modules::ModuleSummary;
use super::re::{Match, Regex};
use crate::pyast::{Call, ClassDef, Expr, FunctionDef};
use crate::source::Location;

/// The local variables of a function being evaluated.
pub type Vars<'a> = HashMap<String, Value<'a>>;

/// A value as far as the evaluator knows it. What it cannot know is [`Value::Unknown`]; a
/// value that depends on a condition it could not decide is [`Value::OneOf`] the
/// possibilities.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    /// A list, tuple or set, in order.
    Seq(Vec<Item<'a>>),
    Dict(Dict<'a>),
    /// A function of the project.
    Function(Rc<Func<'a>>),
    /// A class: one of the project's, or one the caller knows (`cls` in a `@declared_attr`).
    Class(ClassRef<'a>),
    /// A module of the project.
    Module(&'a ModuleSummary),
    /// `globals()` of a module of the project.
    Globals(&'a ModuleSummary),
    /// A name from a library, fully qualified (`re.sub`, `sqlalchemy.String`,
    /// `alembic.op.get_bind().dialect`).
    Lib(String),
    /// The result of calling a library name (`sa.String(50)`): what was called and with what.
    LibCall(Rc<LibCall<'a>>),
    /// A method bound to its receiver: `"_".join`.
    Method(Box<Value<'a>>, String),
    Pattern(Rc<Regex>),
    Match(Rc<Match>),
    /// One of these, depending on a condition the evaluator could not decide.
    OneOf(Vec<Value<'a>>),
    Unknown,
}

/// An item of a sequence.
#[derive(Debug, Clone)]
pub enum Item<'a> {
    One(Value<'a>),
    /// Zero or more items the evaluator does not know (`*args` of unknown length).
    Many,
}

/// A dict: its known entries in insertion order; `open` when it may hold other keys too.
#[derive(Debug, Clone, Default)]
pub struct Dict<'a> {
    pub entries: Vec<(Value<'a>, Value<'a>)>,
    pub open: bool,
}

/// A function of the project, with the module it was defined in and, for a function defined
/// inside another, the variables it can see.
#[derive(Debug)]
pub struct Func<'a> {
    pub def: &'a FunctionDef,
    pub module: &'a ModuleSummary,
    pub captured: Option<Rc<Vars<'a>>>,
}

/// A class value.
#[derive(Debug, Clone)]
pub enum ClassRef<'a> {
    /// A class the project declares.
    Def {
        def: &'a ClassDef,
        module: &'a ModuleSummary,
    },
    /// A class the caller knows by name and answers questions about ([`super::Host`]).
    Host { name: String, id: usize },
}

/// A call of a library name, its arguments evaluated.
#[derive(Debug, Clone)]
pub struct LibCall<'a> {
    pub path: String,
    pub args: Vec<Item<'a>>,
    pub kwargs: Vec<(String, Value<'a>)>,
    /// Some `**kwargs` could not be known.
    pub open: bool,
}

impl<'a> Value<'a> {
    /// The string, when the value is one (also when every possibility is the same string).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::OneOf(options) => {
                let first = options.first()?.as_str()?;
                options
                    .iter()
                    .all(|o| o.as_str() == Some(first))
                    .then_some(first)
            }
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Python's truth value; `None` when it cannot be told.
    pub fn truthy(&self) -> Option<bool> {
        match self {
            Value::None => Some(false),
            Value::Bool(b) => Some(*b),
            Value::Int(n) => Some(*n != 0),
            Value::Str(s) => Some(!s.is_empty()),
            Value::Seq(items) => {
                if items.iter().any(|i| matches!(i, Item::One(_))) {
                    Some(true)
                } else if items.is_empty() {
                    Some(false)
                } else {
                    None
                }
            }
            Value::Dict(dict) => {
                if !dict.entries.is_empty() {
                    Some(true)
                } else if dict.open {
                    None
                } else {
                    Some(false)
                }
            }
            Value::Match(_)
            | Value::Pattern(_)
            | Value::Function(_)
            | Value::Class(_)
            | Value::Module(_)
            | Value::Globals(_)
            | Value::Method(..) => Some(true),
            Value::OneOf(options) => {
                let first = options.first()?.truthy()?;
                options
                    .iter()
                    .all(|o| o.truthy() == Some(first))
                    .then_some(first)
            }
            Value::Lib(_) | Value::LibCall(_) | Value::Unknown => None,
        }
    }

    /// The items of a fully known sequence.
    pub fn items(&self) -> Option<Vec<&Value<'a>>> {
        match self {
            Value::Seq(items) => items
                .iter()
                .map(|i| match i {
                    Item::One(v) => Some(v),
                    Item::Many => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// A sequence of known items.
    pub fn seq(items: impl IntoIterator<Item = Value<'a>>) -> Value<'a> {
        Value::Seq(items.into_iter().map(Item::One).collect())
    }

    /// Several possibilities, with duplicates removed; one possibility is itself.
    pub fn one_of(options: Vec<Value<'a>>) -> Value<'a> {
        let mut out: Vec<Value<'a>> = Vec::new();
        for option in options {
            let flat = match option {
                Value::OneOf(inner) => inner,
                other => vec![other],
            };
            for value in flat {
                if value.is_unknown() {
                    return Value::Unknown;
                }
                if !out.iter().any(|o| equal(o, &value) == Some(true)) {
                    out.push(value);
                }
            }
        }
        match out.len() {
            0 => Value::Unknown,
            1 => out.pop().unwrap_or(Value::Unknown),
            _ => Value::OneOf(out),
        }
    }
}

impl<'a> Dict<'a> {
    /// The value of a key: `Some(Some(v))` known, `Some(None)` known absent, `None` unknown.
    pub fn get(&self, key: &Value<'a>) -> Option<Option<&Value<'a>>> {
        let mut unknown = self.open;
        for (k, v) in self.entries.iter().rev() {
            match equal(k, key) {
                Some(true) => return Some(Some(v)),
                Some(false) => {}
                None => unknown = true,
            }
        }
        if unknown { None } else { Some(None) }
    }

    pub fn insert(&mut self, key: Value<'a>, value: Value<'a>) {
        if let Some(slot) = self
            .entries
            .iter_mut()
            .find(|(k, _)| equal(k, &key) == Some(true))
        {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// `self.update(other)`.
    pub fn update(&mut self, other: &Dict<'a>) {
        for (k, v) in &other.entries {
            self.insert(k.clone(), v.clone());
        }
        self.open |= other.open;
    }

    /// The string value of `key`, when known.
    pub fn str_entry(&self, key: &str) -> Option<Option<&Value<'a>>> {
        self.get(&Value::Str(key.to_string()))
    }
}

/// Python's `==`, when it can be told.
pub fn equal(a: &Value, b: &Value) -> Option<bool> {
    use Value as V;
    match (a, b) {
        (V::None, V::None) => Some(true),
        (V::Str(x), V::Str(y)) => Some(x == y),
        (V::Int(x), V::Int(y)) => Some(x == y),
        (V::Bool(x), V::Bool(y)) => Some(x == y),
        (V::Int(x), V::Bool(y)) | (V::Bool(y), V::Int(x)) => Some(*x == i64::from(*y)),
        (V::Lib(x), V::Lib(y)) if x == y => Some(true),
        (V::Seq(_), V::Seq(_)) => {
            let (x, y) = (a.items()?, b.items()?);
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = Some(true);
            for (p, q) in x.iter().zip(&y) {
                match equal(p, q) {
                    Some(true) => {}
                    Some(false) => return Some(false),
                    None => all = None,
                }
            }
            all
        }
        (V::Dict(x), V::Dict(y)) if !x.open && !y.open => {
            if x.entries.len() != y.entries.len() {
                return Some(false);
            }
            let mut all = Some(true);
            for (k, v) in &x.entries {
                match y.get(k) {
                    Some(Some(w)) => match equal(v, w) {
                        Some(true) => {}
                        Some(false) => return Some(false),
                        None => all = None,
                    },
                    Some(None) => return Some(false),
                    None => all = None,
                }
            }
            all
        }
        (V::Unknown | V::OneOf(_) | V::Lib(_) | V::LibCall(_), _)
        | (_, V::Unknown | V::OneOf(_) | V::Lib(_) | V::LibCall(_)) => None,
        (V::Function(x), V::Function(y)) => Some(Rc::ptr_eq(x, y)),
        (V::Module(x), V::Module(y)) => Some(std::ptr::eq(*x, *y)),
        // Different kinds of known values.
        (V::None | V::Str(_) | V::Int(_) | V::Bool(_) | V::Seq(_) | V::Dict(_), _)
        | (_, V::None | V::Str(_) | V::Int(_) | V::Bool(_) | V::Seq(_) | V::Dict(_)) => Some(false),
        _ => None,
    }
}

/// Python's `str()` of a value, when known.
pub fn to_str(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::OneOf(_) => value.as_str().map(str::to_string),
        other => repr(other),
    }
}

/// Python's `repr()` of a value, when known.
pub fn repr(value: &Value) -> Option<String> {
    Some(match value {
        Value::None => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Int(n) => n.to_string(),
        Value::Str(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Seq(_) => {
            let items: Vec<String> = value
                .items()?
                .into_iter()
                .map(repr)
                .collect::<Option<_>>()?;
            format!("[{}]", items.join(", "))
        }
        Value::Dict(dict) if !dict.open => {
            let entries: Vec<String> = dict
                .entries
                .iter()
                .map(|(k, v)| Some(format!("{}: {}", repr(k)?, repr(v)?)))
                .collect::<Option<_>>()?;
            format!("{{{}}}", entries.join(", "))
        }
        Value::OneOf(_) => return value.as_str().and_then(|s| repr(&Value::Str(s.into()))),
        _ => return None,
    })
}

/// A library call as the expression that would build it, for readers that map expressions
/// (`sa.String(length=50)` → a `VARCHAR(50)` type). `None` when a part is not a constant.
pub fn to_expr(value: &Value) -> Option<Expr> {
    Some(match value {
        Value::None => Expr::None,
        Value::Bool(b) => Expr::Bool(*b),
        Value::Int(n) => Expr::Int(*n),
        Value::Str(s) => Expr::Str(s.clone()),
        Value::Lib(path) => Expr::Name(path.clone()),
        Value::Seq(_) => Expr::List(
            value
                .items()?
                .into_iter()
                .map(to_expr)
                .collect::<Option<_>>()?,
        ),
        Value::LibCall(call) => {
            let mut args = Vec::new();
            for item in &call.args {
                match item {
                    Item::One(v) => args.push(to_expr(v)?),
                    Item::Many => return None,
                }
            }
            let mut kwargs = Vec::new();
            for (k, v) in &call.kwargs {
                // A keyword whose value is not known is left out, not guessed.
                if let Some(v) = to_expr(v) {
                    kwargs.push((k.clone(), v));
                }
            }
            Expr::Call(Box::new(Call {
                func: Expr::Name(call.path.clone()),
                args,
                kwargs,
                has_splat: call.open,
                star_args: Vec::new(),
                kw_splats: Vec::new(),
                location: Location::new("", 0, 0),
            }))
        }
        _ => return None,
    })
}
