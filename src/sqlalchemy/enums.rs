//! Python enum classes as SQLAlchemy's `Enum(PyEnum)` stores them: which labels the
//! PostgreSQL type gets.
//!
//! SQLAlchemy stores a member's NAME by default, and its value only when the `Enum(…)` has a
//! `values_callable=` that returns values (`lambda e: [m.value for m in e]`). Both readers
//! meet enum classes: the models ([`crate::models`]) in the model files and the modules they
//! import, the Alembic reader ([`crate::migrations::alembic`]) in a revision or in a module of
//! the project the revision imports (`from app.models import Status`, `sa.Enum(Status)`). The
//! two must create the same labels from the same class, or DG003 reports a value the
//! revision did create; so the members, the `values_callable` test and the labels live here.
//!
//! Nothing here finds a class: callers hand in its body (or the members they already
//! extracted) once they have followed the name to it.

use crate::pyast::{Call, ClassDef, Expr, Stmt};
use crate::pyeval::{
    ClassRef, Evaluator, ModuleIndex, ModuleSummary, NoNames, PostgresHost, Value,
};

/// A member of a Python enum class.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnumMember {
    pub name: String,
    pub value: EnumValue,
}

/// A member's value as written.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EnumValue {
    Str(String),
    Int(i64),
    /// `auto()`.
    Auto,
    /// Any other expression, as source text.
    Other(String),
}

/// A base that names Python's `enum` classes (`Enum`, `enum.StrEnum`, `PyEnum`, `IntFlag`, a
/// project's `BaseEnum`), by its dotted name as written.
pub fn looks_like_enum_base(base: &str) -> bool {
    let last = base.rsplit('.').next().unwrap_or(base);
    last.ends_with("Enum") || matches!(last, "Flag" | "IntFlag")
}

/// Whether a class of the project is a Python enum: a base named like one, or a base of the
/// project that is (`class Kind(Choices)` with `class Choices(enum.Enum)` in another module),
/// followed through the evaluator at most `depth_left` classes up.
pub fn derives_enum(
    index: &ModuleIndex,
    class: &ClassDef,
    module: &ModuleSummary,
    depth_left: usize,
) -> bool {
    if class
        .bases
        .iter()
        .filter_map(Expr::as_name)
        .any(looks_like_enum_base)
    {
        return true;
    }
    if depth_left == 0 {
        return false;
    }
    let evaluator = Evaluator::new(index, &PostgresHost);
    class.bases.iter().any(|base| {
        matches!(
            evaluator.eval(base, module, &NoNames),
            Value::Class(ClassRef::Def { def, module })
                if derives_enum(index, def, module, depth_left - 1)
        )
    })
}

/// Whether a class with these bases (dotted names as written) is a `StrEnum`, whose `auto()`
/// values are the lower-cased member names.
pub fn is_str_enum<'b>(mut bases: impl Iterator<Item = &'b str>) -> bool {
    bases.any(|b| b.rsplit('.').next() == Some("StrEnum"))
}

/// The value of a member bound to `expr`; `None` when the name is not a member (a lambda is
/// a method).
pub fn member_value(expr: &Expr) -> Option<EnumValue> {
    Some(match expr {
        Expr::Str(s) => EnumValue::Str(s.clone()),
        Expr::Int(n) => EnumValue::Int(*n),
        Expr::Call(call) if is_auto(&call.func) => EnumValue::Auto,
        Expr::Lambda(_) => return None,
        other => EnumValue::Other(crate::models::expr_text(other)),
    })
}

/// `auto` or `enum.auto`, as a callee.
fn is_auto(func: &Expr) -> bool {
    match func {
        Expr::Attribute { attr, .. } => attr == "auto",
        other => other.last_name() == Some("auto"),
    }
}

/// The members of an enum class body: simple assignments of one public name.
pub fn members_of_body(body: &[Stmt]) -> Vec<EnumMember> {
    body.iter()
        .filter_map(|stmt| match stmt {
            Stmt::Assign {
                targets,
                value: Some(value),
                ..
            } if targets.len() == 1 => {
                let name = targets[0].as_name().filter(|n| !n.contains('.'))?;
                if name.starts_with('_') {
                    return None;
                }
                Some(EnumMember {
                    name: name.to_string(),
                    value: member_value(value)?,
                })
            }
            _ => None,
        })
        .collect()
}

/// Whether an `Enum(PyEnum, values_callable=…)` stores the members' values rather than
/// their names.
pub fn stores_values(call: &Call) -> bool {
    call.kwarg("values_callable").is_some_and(|v| {
        let text = crate::models::expr_text(v);
        !text.contains(".name") || text.contains(".value")
    })
}

/// The labels of the PostgreSQL type SQLAlchemy creates for an enum class with `members`:
/// their names, or with `by_value` their values (`auto()` counts up from the last integer, or
/// is the lower-cased name in a `StrEnum`).
pub fn labels(members: &[EnumMember], by_value: bool, str_enum: bool) -> Vec<String> {
    let mut next_int: i64 = 1;
    members
        .iter()
        .map(|m| {
            if !by_value {
                return m.name.clone();
            }
            match &m.value {
                EnumValue::Str(s) => s.clone(),
                EnumValue::Int(n) => {
                    next_int = n.saturating_add(1);
                    n.to_string()
                }
                EnumValue::Auto if str_enum => m.name.to_lowercase(),
                EnumValue::Auto => {
                    let n = next_int;
                    next_int = n.saturating_add(1);
                    n.to_string()
                }
                EnumValue::Other(text) => text.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn class_body(src: &str) -> Vec<Stmt> {
        let module = crate::pyast::parse(&SourceFile::new("m.py", src));
        match module.body.into_iter().next() {
            Some(Stmt::Class(class)) => class.body,
            other => panic!("not a class: {other:?}"),
        }
    }

    #[test]
    fn members_are_public_single_assignments() {
        let body = class_body(
            "class Kind(enum.Enum):\n    A = 'a'\n    B = 2\n    C = auto()\n    _hidden = 1\n    f = lambda self: 1\n    x: int\n    def m(self):\n        pass\n",
        );
        let members = members_of_body(&body);
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        assert_eq!(members[0].value, EnumValue::Str("a".into()));
        assert_eq!(members[2].value, EnumValue::Auto);
    }

    #[test]
    fn labels_are_names_unless_values_are_asked_for() {
        let body = class_body("class Kind(Enum):\n    A = 'x'\n    B = 5\n    C = auto()\n");
        let members = members_of_body(&body);
        assert_eq!(labels(&members, false, false), ["A", "B", "C"]);
        assert_eq!(labels(&members, true, false), ["x", "5", "6"]);
        let body = class_body("class Kind(StrEnum):\n    Alpha = auto()\n");
        assert_eq!(labels(&members_of_body(&body), true, true), ["alpha"]);
        assert!(is_str_enum(["enum.StrEnum"].into_iter()));
        assert!(looks_like_enum_base("enum.IntFlag") && !looks_like_enum_base("Base"));
    }
}
