//! The operators, methods and builtins the evaluator knows, each with Python's semantics for
//! the values it knows; anything else is [`Value::Unknown`].

use std::rc::Rc;

use super::re::{self, Regex};
use super::value::{ClassRef, Dict, Item, LibCall, Value, equal, repr, to_str};
use super::{Evaluator, MAX_LOOP_ITEMS};

/// Methods that change their receiver (a statement `x.update(…)` changes `x`).
pub(super) const MUTATING: &[&str] = &[
    "update",
    "append",
    "extend",
    "insert",
    "setdefault",
    "pop",
    "clear",
    "remove",
    "add",
    "discard",
    "sort",
    "reverse",
];

/// Longest string the evaluator builds (`"x" * 10**9` is not a table name).
const MAX_STRING: usize = 100_000;

fn int_arg(args: &[Item], i: usize) -> Option<i64> {
    match args.get(i) {
        Some(Item::One(Value::Int(n))) => Some(*n),
        Some(Item::One(Value::Bool(b))) => Some(i64::from(*b)),
        _ => None,
    }
}

fn str_arg<'v>(args: &'v [Item], i: usize) -> Option<&'v str> {
    match args.get(i) {
        Some(Item::One(v)) => v.as_str(),
        _ => None,
    }
}

fn arg<'v, 'a>(args: &'v [Item<'a>], i: usize) -> Option<&'v Value<'a>> {
    match args.get(i) {
        Some(Item::One(v)) => Some(v),
        _ => None,
    }
}

/// Positional argument `i`, else keyword `name`.
fn arg_or_kw<'v, 'a>(
    args: &'v [Item<'a>],
    kwargs: &'v [(String, Value<'a>)],
    i: usize,
    name: &str,
) -> Option<&'v Value<'a>> {
    arg(args, i).or_else(|| kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v))
}

fn known_args(args: &[Item]) -> bool {
    args.iter().all(|a| matches!(a, Item::One(_)))
}

fn limited(s: String) -> Value<'static> {
    if s.len() > MAX_STRING {
        Value::Unknown
    } else {
        Value::Str(s)
    }
}

/// A sequence with duplicates removed (a set display).
pub(super) fn dedup(items: Vec<Value<'_>>) -> Value<'_> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        match out
            .iter()
            .map(|o| equal(o, &item))
            .collect::<Option<Vec<bool>>>()
        {
            Some(found) if found.contains(&true) => {}
            Some(_) => out.push(item),
            None => return Value::Unknown,
        }
    }
    Value::seq(out)
}

// ----- operators -------------------------------------------------------------------------

pub(super) fn binop<'a>(op: &str, left: Value<'a>, right: Value<'a>) -> Value<'a> {
    use Value as V;
    if let V::OneOf(options) = left {
        return Value::one_of(
            options
                .into_iter()
                .map(|l| binop(op, l, right.clone()))
                .collect(),
        );
    }
    if let V::OneOf(options) = right {
        return Value::one_of(
            options
                .into_iter()
                .map(|r| binop(op, left.clone(), r))
                .collect(),
        );
    }
    let int = |v: &Value| match v {
        V::Int(n) => Some(*n),
        V::Bool(b) => Some(i64::from(*b)),
        _ => None,
    };
    match (op, &left, &right) {
        ("+", V::Str(a), V::Str(b)) => limited(format!("{a}{b}")),
        ("+", V::Seq(a), V::Seq(b)) => {
            let mut items = a.clone();
            items.extend(b.iter().cloned());
            V::Seq(items)
        }
        ("*", V::Str(s), _) | ("*", _, V::Str(s)) => {
            let n = int(if matches!(left, V::Str(_)) {
                &right
            } else {
                &left
            });
            match n {
                Some(n) if n <= 0 => V::Str(String::new()),
                Some(n) if s.len().saturating_mul(n as usize) <= MAX_STRING => {
                    V::Str(s.repeat(n as usize))
                }
                _ => V::Unknown,
            }
        }
        ("*", V::Seq(items), other) | ("*", other, V::Seq(items)) => match int(other) {
            Some(n) if n <= 0 => V::Seq(Vec::new()),
            Some(n) if items.len().saturating_mul(n as usize) <= MAX_LOOP_ITEMS => {
                V::Seq((0..n).flat_map(|_| items.iter().cloned()).collect())
            }
            _ => V::Unknown,
        },
        ("%", V::Str(format), args) => printf(format, args).map_or(V::Unknown, limited),
        ("|", V::Dict(a), V::Dict(b)) => {
            let mut merged = a.clone();
            merged.update(b);
            V::Dict(merged)
        }
        _ => match (int(&left), int(&right)) {
            (Some(a), Some(b)) => match op {
                "+" => a.checked_add(b).map_or(V::Unknown, V::Int),
                "-" => a.checked_sub(b).map_or(V::Unknown, V::Int),
                "*" => a.checked_mul(b).map_or(V::Unknown, V::Int),
                "//" if b != 0 => {
                    V::Int(a.div_euclid(b) - i64::from(a.rem_euclid(b) != 0 && b < 0))
                }
                "%" if b != 0 => V::Int(((a % b) + b) % b),
                "|" => V::Int(a | b),
                "&" => V::Int(a & b),
                "^" => V::Int(a ^ b),
                _ => V::Unknown,
            },
            _ => V::Unknown,
        },
    }
}

/// `format % args`: `%s`, `%r`, `%d`, `%i`, `%%`, `%(key)s`.
fn printf(format: &str, args: &Value) -> Option<String> {
    let positional: Vec<&Value> = match args {
        Value::Seq(_) => args.items()?,
        Value::Dict(_) => Vec::new(),
        other => vec![other],
    };
    let mut next = positional.into_iter();
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut value = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let key: String = chars.by_ref().take_while(|c| *c != ')').collect();
            let Value::Dict(dict) = args else {
                return None;
            };
            value = Some(dict.str_entry(&key)??);
        }
        match chars.next()? {
            '%' => out.push('%'),
            kind @ ('s' | 'r' | 'd' | 'i') => {
                let v = match value {
                    Some(v) => v,
                    None => next.next()?,
                };
                let text = match kind {
                    'r' => repr(v)?,
                    'd' | 'i' => match v {
                        Value::Int(n) => n.to_string(),
                        Value::Bool(b) => i64::from(*b).to_string(),
                        _ => return None,
                    },
                    _ => to_str(v)?,
                };
                out.push_str(&text);
            }
            _ => return None,
        }
    }
    next.next().is_none().then_some(out)
}

/// `a <op> b` for a comparison operator, when it can be told.
pub(super) fn compare(op: &str, a: &Value, b: &Value) -> Option<bool> {
    match op {
        "==" => equal(a, b),
        "!=" => equal(a, b).map(|e| !e),
        "is" | "is not" => {
            let same = match (a, b) {
                (Value::None, Value::None) => Some(true),
                (Value::Bool(x), Value::Bool(y)) => Some(x == y),
                (Value::None, other) | (other, Value::None) => match other {
                    Value::Unknown | Value::OneOf(_) | Value::Lib(_) | Value::LibCall(_) => None,
                    _ => Some(false),
                },
                _ => None,
            };
            if op == "is" { same } else { same.map(|s| !s) }
        }
        "in" | "not in" => {
            let found = contains(b, a);
            if op == "in" { found } else { found.map(|f| !f) }
        }
        "<" | "<=" | ">" | ">=" => {
            let ordering = match (a, b) {
                (Value::Int(x), Value::Int(y)) => x.cmp(y),
                (Value::Str(x), Value::Str(y)) => x.cmp(y),
                _ => return None,
            };
            Some(match op {
                "<" => ordering.is_lt(),
                "<=" => ordering.is_le(),
                ">" => ordering.is_gt(),
                _ => ordering.is_ge(),
            })
        }
        _ => None,
    }
}

/// `item in container`.
fn contains(container: &Value, item: &Value) -> Option<bool> {
    match container {
        Value::Str(s) => Some(s.contains(item.as_str()?)),
        Value::Seq(items) => {
            let mut unknown = false;
            for i in items {
                match i {
                    Item::One(v) => match equal(v, item) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => unknown = true,
                    },
                    Item::Many => unknown = true,
                }
            }
            if unknown { None } else { Some(false) }
        }
        Value::Dict(dict) => dict.get(item).map(|v| v.is_some()),
        _ => None,
    }
}

/// An f-string field: `{value!conversion:spec}`.
pub(super) fn format_value(
    value: &Value,
    conversion: Option<char>,
    spec: Option<&str>,
) -> Option<String> {
    let text = match conversion {
        Some('r' | 'a') => repr(value)?,
        _ => match (value, spec) {
            (Value::Int(n), Some(spec)) if !spec.is_empty() => return format_int(*n, spec),
            _ => to_str(value)?,
        },
    };
    match spec {
        None | Some("") => Some(text),
        Some(spec) => pad(&text, spec, '<'),
    }
}

/// `[[fill]align][width][s]` applied to a string.
fn pad(text: &str, spec: &str, default_align: char) -> Option<String> {
    let spec = spec.strip_suffix('s').unwrap_or(spec);
    let chars: Vec<char> = spec.chars().collect();
    let (fill, align, rest) = match chars.as_slice() {
        [f, a, rest @ ..] if matches!(a, '<' | '>' | '^') => (*f, *a, rest),
        [a, rest @ ..] if matches!(a, '<' | '>' | '^') => (' ', *a, rest),
        rest => (' ', default_align, rest),
    };
    if !rest.iter().all(char::is_ascii_digit) {
        return None;
    }
    let width: usize = if rest.is_empty() {
        0
    } else {
        rest.iter().collect::<String>().parse().ok()?
    };
    let len = text.chars().count();
    if width <= len {
        return Some(text.to_string());
    }
    let total = width - len;
    let (before, after) = match align {
        '<' => (0, total),
        '>' => (total, 0),
        _ => (total / 2, total - total / 2),
    };
    let fill = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    Some(format!("{}{text}{}", fill(before), fill(after)))
}

fn format_int(n: i64, spec: &str) -> Option<String> {
    let spec = spec.strip_suffix('d').unwrap_or(spec);
    if let Some(width) = spec.strip_prefix('0') {
        let width: usize = width.parse().ok()?;
        return Some(format!("{n:0width$}"));
    }
    pad(&n.to_string(), spec, '>')
}

// ----- subscripts ------------------------------------------------------------------------

pub(super) fn index<'a>(ev: &Evaluator<'a, '_>, value: &Value<'a>, key: &Value<'a>) -> Value<'a> {
    match (value, key) {
        (Value::Seq(items), Value::Int(i)) => {
            let i = *i;
            let pick = |items: &mut dyn Iterator<Item = &Item<'a>>, n: usize| -> Value<'a> {
                match items.nth(n) {
                    Some(Item::One(v)) => v.clone(),
                    _ => Value::Unknown,
                }
            };
            if i >= 0 {
                let n = i as usize;
                if items.iter().take(n + 1).any(|it| matches!(it, Item::Many)) {
                    return Value::Unknown;
                }
                pick(&mut items.iter(), n)
            } else {
                let n = (-i - 1) as usize;
                if items
                    .iter()
                    .rev()
                    .take(n + 1)
                    .any(|it| matches!(it, Item::Many))
                {
                    return Value::Unknown;
                }
                pick(&mut items.iter().rev(), n)
            }
        }
        (Value::Str(s), Value::Int(i)) => {
            let chars: Vec<char> = s.chars().collect();
            let len = chars.len() as i64;
            let at = if *i < 0 { len + i } else { *i };
            if (0..len).contains(&at) {
                Value::Str(chars[at as usize].to_string())
            } else {
                Value::Unknown
            }
        }
        (Value::Dict(dict), key) => match dict.get(key) {
            Some(Some(v)) => v.clone(),
            _ => Value::Unknown,
        },
        (Value::Match(m), Value::Int(n)) => group(m, *n),
        (Value::Globals(module), Value::Str(name)) => {
            ev.global(module, name).unwrap_or(Value::Unknown)
        }
        (Value::OneOf(options), key) => {
            Value::one_of(options.iter().map(|o| index(ev, o, key)).collect())
        }
        (Value::Class(_), _) => value.clone(),
        _ => Value::Unknown,
    }
}

fn group<'a>(m: &re::Match, n: i64) -> Value<'a> {
    match usize::try_from(n).ok().and_then(|n| m.group(n)) {
        Some(Some(text)) => Value::Str(text),
        Some(None) => Value::None,
        None => Value::Unknown,
    }
}

/// `value[start:stop:step]` of a known string or sequence.
pub(super) fn slice<'a>(
    value: &Value<'a>,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Value<'a> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Value::Unknown;
    }
    let positions = |len: usize| -> Vec<usize> {
        let len = len as i64;
        let clamp = |v: i64, lo: i64, hi: i64| v.max(lo).min(hi);
        let norm = |v: i64| if v < 0 { v + len } else { v };
        if step > 0 {
            let a = clamp(start.map_or(0, norm), 0, len);
            let b = clamp(stop.map_or(len, norm), 0, len);
            (a..b).step_by(step as usize).map(|i| i as usize).collect()
        } else {
            let a = clamp(start.map_or(len - 1, norm), -1, len - 1);
            let b = clamp(stop.map_or(-1, norm), -1, len - 1);
            let mut out = Vec::new();
            let mut i = a;
            while i > b {
                out.push(i as usize);
                i += step;
            }
            out
        }
    };
    match value {
        Value::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            Value::Str(
                positions(chars.len())
                    .into_iter()
                    .map(|i| chars[i])
                    .collect(),
            )
        }
        Value::Seq(_) => match value.items() {
            Some(items) => Value::seq(positions(items.len()).into_iter().map(|i| items[i].clone())),
            None => {
                // `value[:-1]` of `(*unknown, d)` keeps the unknown part.
                if let Value::Seq(items) = value
                    && start.is_none()
                    && step == 1
                    && let Some(stop) = stop.filter(|s| *s < 0)
                {
                    let drop = (-stop) as usize;
                    let tail_known = items
                        .iter()
                        .rev()
                        .take(drop)
                        .all(|i| matches!(i, Item::One(_)));
                    if tail_known && items.len() >= drop {
                        return Value::Seq(items[..items.len() - drop].to_vec());
                    }
                }
                Value::Unknown
            }
        },
        _ => Value::Unknown,
    }
}

// ----- methods ---------------------------------------------------------------------------

/// A statement `receiver.method(args)`: the receiver afterwards.
pub(super) fn mutate<'a>(
    ev: &Evaluator<'a, '_>,
    receiver: Value<'a>,
    method: &str,
    args: Vec<Item<'a>>,
    kwargs: Vec<(String, Value<'a>)>,
) -> Value<'a> {
    match receiver {
        Value::Dict(mut dict) => {
            match method {
                "update" => {
                    for item in &args {
                        match item {
                            Item::One(Value::Dict(other)) => dict.update(other),
                            Item::One(other) => match ev.iterate(other) {
                                Some(pairs) => {
                                    for pair in pairs {
                                        match pair.items().as_deref() {
                                            Some([k, v]) => dict.insert((*k).clone(), (*v).clone()),
                                            _ => return open_dict(),
                                        }
                                    }
                                }
                                None => return open_dict(),
                            },
                            Item::Many => return open_dict(),
                        }
                    }
                    for (k, v) in kwargs {
                        if k == super::OPEN_KWARGS {
                            dict.open = true;
                        } else {
                            dict.insert(Value::Str(k), v);
                        }
                    }
                }
                "setdefault" => {
                    let (Some(key), default) = (arg(&args, 0), arg(&args, 1)) else {
                        return open_dict();
                    };
                    match dict.get(key) {
                        Some(Some(_)) => {}
                        Some(None) => {
                            dict.insert(key.clone(), default.cloned().unwrap_or(Value::None))
                        }
                        None => return open_dict(),
                    }
                }
                "pop" => {
                    let Some(key) = arg(&args, 0) else {
                        return open_dict();
                    };
                    match dict.get(key) {
                        Some(_) => dict.entries.retain(|(k, _)| equal(k, key) != Some(true)),
                        None => return open_dict(),
                    }
                }
                "clear" => dict = Dict::default(),
                _ => return open_dict(),
            }
            Value::Dict(dict)
        }
        Value::Seq(mut items) => {
            match method {
                "append" | "add" => match args.first() {
                    Some(Item::One(v)) => {
                        if method == "add" && contains_value(&items, v) == Some(true) {
                            return Value::Seq(items);
                        }
                        items.push(Item::One(v.clone()));
                    }
                    _ => items.push(Item::Many),
                },
                "extend" => match args.first() {
                    Some(Item::One(Value::Seq(more))) => items.extend(more.iter().cloned()),
                    Some(Item::One(other)) => match ev.iterate(other) {
                        Some(values) => items.extend(values.into_iter().map(Item::One)),
                        None => items.push(Item::Many),
                    },
                    _ => items.push(Item::Many),
                },
                "insert" => match (int_arg(&args, 0), arg(&args, 1)) {
                    (Some(0), Some(v)) => items.insert(0, Item::One(v.clone())),
                    _ => items.push(Item::Many),
                },
                "clear" => items.clear(),
                "reverse" => items.reverse(),
                _ => return Value::Unknown,
            }
            if items.len() > MAX_LOOP_ITEMS {
                return Value::Unknown;
            }
            Value::Seq(items)
        }
        _ => Value::Unknown,
    }
}

fn contains_value(items: &[Item], v: &Value) -> Option<bool> {
    contains(&Value::Seq(items.to_vec()), v)
}

fn open_dict<'a>() -> Value<'a> {
    Value::Dict(Dict {
        entries: Vec::new(),
        open: true,
    })
}

/// `receiver.method(args)` as an expression: what it returns.
pub(super) fn call_method<'a>(
    ev: &Evaluator<'a, '_>,
    receiver: Value<'a>,
    method: &str,
    args: Vec<Item<'a>>,
    kwargs: Vec<(String, Value<'a>)>,
) -> Value<'a> {
    if !known_args(&args) || kwargs.iter().any(|(k, _)| k == super::OPEN_KWARGS) {
        return Value::Unknown;
    }
    match receiver {
        Value::Str(s) => str_method(ev, &s, method, &args, &kwargs),
        Value::Dict(dict) => match method {
            "get" => match arg(&args, 0).map(|k| dict.get(k)) {
                Some(Some(Some(v))) => v.clone(),
                Some(Some(None)) => arg(&args, 1).cloned().unwrap_or(Value::None),
                _ => Value::Unknown,
            },
            "keys" | "values" | "items" => {
                let mut items: Vec<Item<'a>> = dict
                    .entries
                    .iter()
                    .map(|(k, v)| {
                        Item::One(match method {
                            "keys" => k.clone(),
                            "values" => v.clone(),
                            _ => Value::seq([k.clone(), v.clone()]),
                        })
                    })
                    .collect();
                if dict.open {
                    items.push(Item::Many);
                }
                Value::Seq(items)
            }
            "copy" => Value::Dict(dict),
            _ => Value::Unknown,
        },
        Value::Seq(items) => match method {
            "copy" => Value::Seq(items),
            "count" | "index" => {
                let Some(needle) = arg(&args, 0) else {
                    return Value::Unknown;
                };
                let Some(known) = Value::Seq(items)
                    .items()
                    .map(|v| v.into_iter().cloned().collect::<Vec<_>>())
                else {
                    return Value::Unknown;
                };
                let matches: Option<Vec<bool>> = known.iter().map(|v| equal(v, needle)).collect();
                match (method, matches) {
                    ("count", Some(m)) => Value::Int(m.iter().filter(|b| **b).count() as i64),
                    ("index", Some(m)) => m
                        .iter()
                        .position(|b| *b)
                        .map_or(Value::Unknown, |p| Value::Int(p as i64)),
                    _ => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        },
        Value::Globals(module) => match (method, arg(&args, 0)) {
            ("get", Some(Value::Str(name))) => ev
                .global(module, name)
                .unwrap_or_else(|| arg(&args, 1).cloned().unwrap_or(Value::None)),
            _ => Value::Unknown,
        },
        Value::Pattern(regex) => {
            let mut all = vec![Item::One(Value::Pattern(Rc::clone(&regex)))];
            all.extend(args);
            regex_function(method, &all, &kwargs)
        }
        Value::Match(m) => match method {
            "group" => {
                if args.is_empty() {
                    return group(&m, 0);
                }
                let groups: Vec<Value<'a>> = args
                    .iter()
                    .map(|a| match a {
                        Item::One(Value::Int(n)) => group(&m, *n),
                        Item::One(Value::Str(name)) => m
                            .named(name)
                            .map_or(Value::Unknown, |n| group(&m, n as i64)),
                        _ => Value::Unknown,
                    })
                    .collect();
                match <[Value<'a>; 1]>::try_from(groups) {
                    Ok([one]) => one,
                    Err(many) => Value::seq(many),
                }
            }
            "groups" => {
                let default = arg(&args, 0).cloned().unwrap_or(Value::None);
                Value::seq((1..m.spans.len()).map(|n| match group(&m, n as i64) {
                    Value::None => default.clone(),
                    other => other,
                }))
            }
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    }
}

fn str_method<'a>(
    ev: &Evaluator<'a, '_>,
    s: &str,
    method: &str,
    args: &[Item<'a>],
    kwargs: &[(String, Value<'a>)],
) -> Value<'a> {
    let strs = |v: Vec<&str>| Value::seq(v.into_iter().map(|p| Value::Str(p.to_string())));
    match method {
        "lower" => Value::Str(s.to_lowercase()),
        "upper" => Value::Str(s.to_uppercase()),
        "casefold" => Value::Str(s.to_lowercase()),
        "swapcase" => Value::Str(
            s.chars()
                .flat_map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<Vec<_>>()
                    } else {
                        c.to_uppercase().collect()
                    }
                })
                .collect(),
        ),
        "title" => Value::Str(title(s)),
        "capitalize" => {
            let mut chars = s.chars();
            Value::Str(match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.as_str().to_lowercase().chars())
                    .collect(),
                None => String::new(),
            })
        }
        "strip" | "lstrip" | "rstrip" => {
            let chars: Option<Vec<char>> = match arg(args, 0) {
                None | Some(Value::None) => None,
                Some(Value::Str(c)) => Some(c.chars().collect()),
                Some(_) => return Value::Unknown,
            };
            let test = |c: char| match &chars {
                Some(set) => set.contains(&c),
                None => c.is_whitespace(),
            };
            Value::Str(
                match method {
                    "strip" => s.trim_matches(test),
                    "lstrip" => s.trim_start_matches(test),
                    _ => s.trim_end_matches(test),
                }
                .to_string(),
            )
        }
        "replace" => match (str_arg(args, 0), str_arg(args, 1)) {
            (Some(old), Some(new)) => {
                let count = int_arg(args, 2).unwrap_or(-1);
                if count < 0 {
                    limited(s.replace(old, new))
                } else {
                    limited(s.replacen(old, new, count as usize))
                }
            }
            _ => Value::Unknown,
        },
        "split" | "rsplit" => {
            let sep = match arg_or_kw(args, kwargs, 0, "sep") {
                None | Some(Value::None) => None,
                Some(Value::Str(sep)) if !sep.is_empty() => Some(sep.as_str()),
                Some(_) => return Value::Unknown,
            };
            let maxsplit = match arg_or_kw(args, kwargs, 1, "maxsplit") {
                None => -1,
                Some(Value::Int(n)) => *n,
                Some(_) => return Value::Unknown,
            };
            let parts: Vec<&str> = match (sep, maxsplit < 0, method == "split") {
                (Some(sep), true, _) => s.split(sep).collect(),
                (Some(sep), false, true) => s.splitn(maxsplit as usize + 1, sep).collect(),
                (Some(sep), false, false) => {
                    let mut parts: Vec<&str> = s.rsplitn(maxsplit as usize + 1, sep).collect();
                    parts.reverse();
                    parts
                }
                (None, true, _) => s.split_whitespace().collect(),
                (None, false, _) => return Value::Unknown,
            };
            strs(parts)
        }
        "join" => {
            let Some(items) = arg(args, 0).and_then(|v| ev.iterate(v)) else {
                return Value::Unknown;
            };
            let parts: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            match parts {
                Some(parts) => limited(parts.join(s)),
                None => Value::Unknown,
            }
        }
        "startswith" | "endswith" => {
            let options: Vec<String> = match arg(args, 0) {
                Some(Value::Str(p)) => vec![p.clone()],
                Some(v @ Value::Seq(_)) => match v.items() {
                    Some(items) => match items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect()
                    {
                        Some(options) => options,
                        None => return Value::Unknown,
                    },
                    None => return Value::Unknown,
                },
                _ => return Value::Unknown,
            };
            Value::Bool(options.iter().any(|p| {
                if method == "startswith" {
                    s.starts_with(p.as_str())
                } else {
                    s.ends_with(p.as_str())
                }
            }))
        }
        "removeprefix" => match str_arg(args, 0) {
            Some(p) => Value::Str(s.strip_prefix(p).unwrap_or(s).to_string()),
            None => Value::Unknown,
        },
        "removesuffix" => match str_arg(args, 0) {
            Some(p) => Value::Str(s.strip_suffix(p).unwrap_or(s).to_string()),
            None => Value::Unknown,
        },
        "find" | "rfind" | "index" | "rindex" | "count" => {
            let Some(needle) = str_arg(args, 0) else {
                return Value::Unknown;
            };
            if args.len() > 1 {
                return Value::Unknown;
            }
            let char_index = |byte: usize| s[..byte].chars().count() as i64;
            match method {
                "count" => Value::Int(if needle.is_empty() {
                    s.chars().count() as i64 + 1
                } else {
                    s.matches(needle).count() as i64
                }),
                "find" | "index" => s.find(needle).map_or(
                    if method == "find" {
                        Value::Int(-1)
                    } else {
                        Value::Unknown
                    },
                    |b| Value::Int(char_index(b)),
                ),
                _ => s.rfind(needle).map_or(
                    if method == "rfind" {
                        Value::Int(-1)
                    } else {
                        Value::Unknown
                    },
                    |b| Value::Int(char_index(b)),
                ),
            }
        }
        "partition" | "rpartition" => {
            let Some(sep) = str_arg(args, 0).filter(|p| !p.is_empty()) else {
                return Value::Unknown;
            };
            let found = if method == "partition" {
                s.split_once(sep)
            } else {
                s.rsplit_once(sep)
            };
            match found {
                Some((a, b)) => strs(vec![a, sep, b]),
                None if method == "partition" => strs(vec![s, "", ""]),
                None => strs(vec!["", "", s]),
            }
        }
        "zfill" => match int_arg(args, 0) {
            Some(width) => {
                let width = width.max(0) as usize;
                let (sign, digits) = match s.strip_prefix(['-', '+']) {
                    Some(rest) => (&s[..1], rest),
                    None => ("", s),
                };
                let pad = width.saturating_sub(s.chars().count());
                limited(format!("{sign}{}{digits}", "0".repeat(pad)))
            }
            None => Value::Unknown,
        },
        "isupper" => {
            Value::Bool(s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase))
        }
        "islower" => {
            Value::Bool(s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_uppercase))
        }
        "isdigit" | "isnumeric" | "isdecimal" => {
            Value::Bool(!s.is_empty() && s.chars().all(|c| c.is_numeric()))
        }
        "isalpha" => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphabetic)),
        "isalnum" => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
        "isspace" => Value::Bool(!s.is_empty() && s.chars().all(char::is_whitespace)),
        "isidentifier" => Value::Bool(super::is_identifier(s)),
        "format" => format_method(s, args, kwargs).map_or(Value::Unknown, limited),
        _ => Value::Unknown,
    }
}

/// `str.title()`: a letter after a non-letter is upper case, the others lower case.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut previous_cased = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if previous_cased {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            previous_cased = true;
        } else {
            out.push(c);
            previous_cased = false;
        }
    }
    out
}

/// `"{} {name} {0!r:>4}".format(…)`.
fn format_method(template: &str, args: &[Item], kwargs: &[(String, Value)]) -> Option<String> {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let field: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let (name, spec) = match field.split_once(':') {
                    Some((n, s)) => (n, Some(s)),
                    None => (field.as_str(), None),
                };
                let (name, conversion) = match name.split_once('!') {
                    Some((n, c)) => (n, c.chars().next()),
                    None => (name, None),
                };
                let value = if name.is_empty() {
                    auto += 1;
                    arg(args, auto - 1)?
                } else if let Ok(n) = name.parse::<usize>() {
                    arg(args, n)?
                } else {
                    kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)?
                };
                out.push_str(&format_value(value, conversion, spec)?);
            }
            '}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

// ----- library functions -----------------------------------------------------------------

/// A call of a library name (`re.sub`, `str`, `sa.String`).
pub(super) fn call_library<'a>(
    ev: &Evaluator<'a, '_>,
    path: String,
    args: Vec<Item<'a>>,
    kwargs: Vec<(String, Value<'a>)>,
) -> Value<'a> {
    if let Some(name) = path.strip_prefix("builtins.") {
        return builtin(ev, name, args, kwargs);
    }
    if let Some(function) = path.strip_prefix("re.") {
        if !known_args(&args) {
            return Value::Unknown;
        }
        return regex_function(function, &args, &kwargs);
    }
    match path.as_str() {
        // `Proxy(factory)` stands for what the factory returns.
        "lazy_object_proxy.Proxy" => match args.first() {
            Some(Item::One(factory)) => ev.call(factory.clone(), Vec::new(), Vec::new()),
            _ => Value::Unknown,
        },
        "typing.cast" => match args.get(1) {
            Some(Item::One(v)) => v.clone(),
            _ => Value::Unknown,
        },
        "inflection.underscore" => match arg(&args, 0) {
            Some(Value::Str(word)) => underscore(word),
            _ => Value::Unknown,
        },
        _ => {
            let open = kwargs.iter().any(|(k, _)| k == super::OPEN_KWARGS);
            let kwargs = kwargs
                .into_iter()
                .filter(|(k, _)| k != super::OPEN_KWARGS)
                .collect();
            Value::LibCall(Rc::new(LibCall {
                path,
                args,
                kwargs,
                open,
            }))
        }
    }
}

/// `inflection.underscore`: `DeviceType` → `device_type`, `HTTPRequest` → `http_request`.
fn underscore<'a>(word: &str) -> Value<'a> {
    let steps = [
        (r"([A-Z]+)([A-Z][a-z])", r"\1_\2"),
        (r"([a-z\d])([A-Z])", r"\1_\2"),
    ];
    let mut word = word.to_string();
    for (pattern, repl) in steps {
        match Regex::new(pattern, 0).and_then(|r| r.sub(repl, &word, 0)) {
            Ok((out, _)) => word = out,
            Err(_) => return Value::Unknown,
        }
    }
    Value::Str(word.replace('-', "_").to_lowercase())
}

/// The flags argument of a `re` function.
fn flags(args: &[Item], kwargs: &[(String, Value)], position: usize) -> Option<i64> {
    match arg_or_kw(args, kwargs, position, "flags") {
        None => Some(0),
        Some(Value::Int(n)) => Some(*n),
        Some(_) => None,
    }
}

/// `re.<function>(pattern, …)`; `args[0]` may be a compiled pattern.
fn regex_function<'a>(
    function: &str,
    args: &[Item<'a>],
    kwargs: &[(String, Value<'a>)],
) -> Value<'a> {
    // Where the flags argument is for each function (after the pattern).
    let flags_at = match function {
        "compile" => 1,
        "match" | "search" | "fullmatch" | "findall" | "split" => {
            if function == "split" {
                3
            } else {
                2
            }
        }
        "sub" | "subn" => 4,
        "escape" => {
            return match str_arg(args, 0) {
                Some(s) => Value::Str(
                    s.chars()
                        .flat_map(|c| {
                            if c.is_alphanumeric() || c == '_' {
                                vec![c]
                            } else {
                                vec!['\\', c]
                            }
                        })
                        .collect(),
                ),
                None => Value::Unknown,
            };
        }
        _ => return Value::Unknown,
    };
    let regex: Rc<Regex> = match arg(args, 0) {
        Some(Value::Pattern(regex)) => Rc::clone(regex),
        Some(Value::Str(pattern)) => {
            let Some(flags) = flags(args, kwargs, flags_at) else {
                return Value::Unknown;
            };
            match Regex::new(pattern, flags) {
                Ok(regex) => Rc::new(regex),
                Err(_) => return Value::Unknown,
            }
        }
        _ => return Value::Unknown,
    };
    let text = |i: usize, name: &str| arg_or_kw(args, kwargs, i, name).and_then(Value::as_str);
    let count = |i: usize, name: &str| match arg_or_kw(args, kwargs, i, name) {
        None => Some(0usize),
        Some(Value::Int(n)) if *n >= 0 => Some(*n as usize),
        _ => None,
    };
    let result =
        match function {
            "compile" => return Value::Pattern(regex),
            "match" | "search" | "fullmatch" => {
                let Some(text) = text(1, "string") else {
                    return Value::Unknown;
                };
                let found = match function {
                    "match" => regex.match_at_start(text),
                    "search" => regex.search(text),
                    _ => regex.full_match(text),
                };
                found.map(|m| m.map_or(Value::None, |m| Value::Match(Rc::new(m))))
            }
            "sub" | "subn" => {
                let (Some(repl), Some(text), Some(count)) =
                    (text(1, "repl"), text(2, "string"), count(3, "count"))
                else {
                    return Value::Unknown;
                };
                regex.sub(repl, text, count).map(|(out, n)| {
                    if function == "sub" {
                        limited(out)
                    } else {
                        Value::seq([limited(out), Value::Int(n as i64)])
                    }
                })
            }
            "split" => {
                let (Some(text), Some(maxsplit)) = (text(1, "string"), count(2, "maxsplit")) else {
                    return Value::Unknown;
                };
                regex.split(text, maxsplit).map(|parts| {
                    Value::seq(parts.into_iter().map(|p| p.map_or(Value::None, Value::Str)))
                })
            }
            "findall" => {
                let Some(text) = text(1, "string") else {
                    return Value::Unknown;
                };
                regex.findall(text).map(|found| {
                    Value::seq(found.into_iter().map(|groups| {
                        match <[String; 1]>::try_from(groups) {
                            Ok([one]) => Value::Str(one),
                            Err(many) => Value::seq(many.into_iter().map(Value::Str)),
                        }
                    }))
                })
            }
            _ => return Value::Unknown,
        };
    result.unwrap_or(Value::Unknown)
}

fn builtin<'a>(
    ev: &Evaluator<'a, '_>,
    name: &str,
    args: Vec<Item<'a>>,
    kwargs: Vec<(String, Value<'a>)>,
) -> Value<'a> {
    if !known_args(&args) {
        return Value::Unknown;
    }
    let first = arg(&args, 0);
    match name {
        "str" => match first {
            None => Value::Str(String::new()),
            Some(v) => to_str(v).map_or(Value::Unknown, Value::Str),
        },
        "repr" => first.and_then(repr).map_or(Value::Unknown, Value::Str),
        "len" => match first {
            Some(Value::Str(s)) => Value::Int(s.chars().count() as i64),
            Some(v @ Value::Seq(_)) => v
                .items()
                .map_or(Value::Unknown, |i| Value::Int(i.len() as i64)),
            Some(Value::Dict(d)) if !d.open => Value::Int(d.entries.len() as i64),
            _ => Value::Unknown,
        },
        "list" | "tuple" | "sorted" | "reversed" | "set" | "frozenset" => {
            let items = match first {
                None => Vec::new(),
                Some(Value::Seq(items)) if matches!(name, "list" | "tuple") => {
                    return Value::Seq(items.clone());
                }
                Some(v) => match ev.iterate(v) {
                    Some(items) => items,
                    None => return Value::Unknown,
                },
            };
            match name {
                "sorted" => {
                    if kwargs.iter().any(|(k, _)| k != "reverse") {
                        return Value::Unknown;
                    }
                    let mut items = items;
                    let mut ok = true;
                    items.sort_by(|a, b| match (a, b) {
                        (Value::Str(x), Value::Str(y)) => x.cmp(y),
                        (Value::Int(x), Value::Int(y)) => x.cmp(y),
                        _ => {
                            ok = false;
                            std::cmp::Ordering::Equal
                        }
                    });
                    if !ok {
                        return Value::Unknown;
                    }
                    if kwargs.iter().any(|(_, v)| v.truthy() == Some(true)) {
                        items.reverse();
                    }
                    Value::seq(items)
                }
                "reversed" => Value::seq(items.into_iter().rev()),
                "set" | "frozenset" => dedup(items),
                _ => Value::seq(items),
            }
        }
        "dict" => {
            let mut dict = match first {
                None => Dict::default(),
                Some(Value::Dict(d)) => d.clone(),
                Some(other) => {
                    let mut dict = Dict::default();
                    let Some(pairs) = ev.iterate(other) else {
                        return Value::Unknown;
                    };
                    for pair in pairs {
                        match pair.items().as_deref() {
                            Some([k, v]) => dict.insert((*k).clone(), (*v).clone()),
                            _ => return Value::Unknown,
                        }
                    }
                    dict
                }
            };
            for (k, v) in kwargs {
                if k == super::OPEN_KWARGS {
                    dict.open = true;
                } else {
                    dict.insert(Value::Str(k), v);
                }
            }
            Value::Dict(dict)
        }
        "bool" => first
            .map_or(Some(false), Value::truthy)
            .map_or(Value::Unknown, Value::Bool),
        "int" => match first {
            Some(Value::Int(n)) => Value::Int(*n),
            Some(Value::Bool(b)) => Value::Int(i64::from(*b)),
            Some(Value::Str(s)) => s.trim().parse().map_or(Value::Unknown, Value::Int),
            _ => Value::Unknown,
        },
        "isinstance" => match (first, arg(&args, 1)) {
            (Some(v), Some(types)) => isinstance(v, types).map_or(Value::Unknown, Value::Bool),
            _ => Value::Unknown,
        },
        "getattr" => match (first, arg(&args, 1)) {
            (Some(object), Some(Value::Str(attr))) => {
                let found = ev.attribute(object.clone(), attr);
                match (found, arg(&args, 2)) {
                    (Value::Unknown, Some(default))
                        if matches!(
                            object,
                            Value::Module(_) | Value::Class(ClassRef::Def { .. })
                        ) =>
                    {
                        default.clone()
                    }
                    (found, _) => found,
                }
            }
            _ => Value::Unknown,
        },
        "dir" => match first {
            Some(Value::Class(ClassRef::Host { id, .. })) => match ev.host.class_dir(*id) {
                Some(names) => Value::seq(names.into_iter().map(Value::Str)),
                None => Value::Unknown,
            },
            _ => Value::Unknown,
        },
        "zip" => {
            let columns: Option<Vec<Vec<Value<'a>>>> = args
                .iter()
                .map(|a| match a {
                    Item::One(v) => ev.iterate(v),
                    Item::Many => None,
                })
                .collect();
            let Some(columns) = columns else {
                return Value::Unknown;
            };
            let len = columns.iter().map(Vec::len).min().unwrap_or(0);
            Value::seq((0..len).map(|i| Value::seq(columns.iter().map(|c| c[i].clone()))))
        }
        "enumerate" => match first.and_then(|v| ev.iterate(v)) {
            Some(items) => Value::seq(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| Value::seq([Value::Int(i as i64), v])),
            ),
            None => Value::Unknown,
        },
        "range" => {
            let (start, stop) = match (int_arg(&args, 0), int_arg(&args, 1)) {
                (Some(stop), None) => (0, stop),
                (Some(start), Some(stop)) => (start, stop),
                _ => return Value::Unknown,
            };
            if args.len() > 2 || stop.saturating_sub(start) > MAX_LOOP_ITEMS as i64 {
                return Value::Unknown;
            }
            Value::seq((start..stop).map(Value::Int))
        }
        "any" | "all" => match first.and_then(|v| ev.iterate(v)) {
            Some(items) => {
                let truths: Option<Vec<bool>> = items.iter().map(Value::truthy).collect();
                match truths {
                    Some(t) if name == "any" => Value::Bool(t.contains(&true)),
                    Some(t) => Value::Bool(!t.contains(&false)),
                    None => Value::Unknown,
                }
            }
            None => Value::Unknown,
        },
        "min" | "max" => {
            let items = match (args.len(), first) {
                (1, Some(v)) => ev.iterate(v),
                _ => args
                    .iter()
                    .map(|a| match a {
                        Item::One(v) => Some(v.clone()),
                        Item::Many => None,
                    })
                    .collect(),
            };
            let Some(items) = items else {
                return Value::Unknown;
            };
            let ints: Option<Vec<i64>> = items
                .iter()
                .map(|v| match v {
                    Value::Int(n) => Some(*n),
                    _ => None,
                })
                .collect();
            match ints {
                Some(ints) if name == "min" => {
                    ints.into_iter().min().map_or(Value::Unknown, Value::Int)
                }
                Some(ints) => ints.into_iter().max().map_or(Value::Unknown, Value::Int),
                None => Value::Unknown,
            }
        }
        _ => Value::Unknown,
    }
}

/// Whether a library call builds a SQLAlchemy object: a capitalised name from `sqlalchemy` or
/// Flask-SQLAlchemy (also through `db = SQLAlchemy()`: `flask_sqlalchemy.SQLAlchemy().Index`).
fn builds_schema_object(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    (path.starts_with("sqlalchemy.") || path.starts_with("flask_sqlalchemy."))
        && last.starts_with(|c: char| c.is_ascii_uppercase())
}

/// `isinstance(value, types)` for the builtin types, when it can be told.
fn isinstance(value: &Value, types: &Value) -> Option<bool> {
    let names: Vec<&str> = match types {
        Value::Lib(path) => vec![path.strip_prefix("builtins.")?],
        Value::Seq(_) => types
            .items()?
            .into_iter()
            .map(|t| match t {
                Value::Lib(path) => path.strip_prefix("builtins."),
                _ => None,
            })
            .collect::<Option<_>>()?,
        _ => return None,
    };
    let kind = match value {
        Value::Str(_) => "str",
        Value::Int(_) => "int",
        Value::Bool(_) => "bool",
        Value::Dict(_) => "dict",
        Value::None => "NoneType",
        // What SQLAlchemy's constructors build (`Index(…)`, `db.UniqueConstraint(…)`) is a
        // schema object, never a builtin container.
        Value::LibCall(call) if builds_schema_object(&call.path) => "object",
        Value::Seq(_) => {
            // A sequence is a list or a tuple: known only when both are asked.
            let list = names.contains(&"list");
            let tuple = names.contains(&"tuple");
            return if list && tuple {
                Some(true)
            } else if names
                .iter()
                .all(|n| matches!(*n, "str" | "int" | "bool" | "dict"))
            {
                Some(false)
            } else {
                None
            };
        }
        _ => return None,
    };
    Some(
        names
            .iter()
            .any(|n| *n == kind || (*n == "int" && kind == "bool")),
    )
}
