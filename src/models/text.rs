//! [`Expr`] back to Python-like text, for messages (`String(20)`, `Mapped[Optional[str]]`).
//!
//! The plain syntax tree keeps values, not source spans, so the text is rebuilt: spacing is
//! normalised (`String(20, collation="C")`) and strings are written with double quotes.

use crate::pyast::{ComprehensionKind, Expr, FStringPart};

/// The expression as Python-like source text.
pub fn expr_text(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(expr, &mut out);
    out
}

fn write_expr(expr: &Expr, out: &mut String) {
    match expr {
        Expr::Name(name) => out.push_str(name),
        Expr::Str(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Expr::Int(n) => out.push_str(&n.to_string()),
        Expr::Float(f) => out.push_str(f),
        Expr::Bool(true) => out.push_str("True"),
        Expr::Bool(false) => out.push_str("False"),
        Expr::None => out.push_str("None"),
        Expr::Call(call) => {
            write_expr(&call.func, out);
            out.push('(');
            let mut first = true;
            for arg in &call.args {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                write_expr(arg, out);
            }
            for (key, value) in &call.kwargs {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                out.push_str(key);
                out.push('=');
                write_expr(value, out);
            }
            out.push(')');
        }
        Expr::Subscript { value, index } => {
            write_expr(value, out);
            out.push('[');
            write_list(index, out);
            out.push(']');
        }
        Expr::Attribute { value, attr } => {
            write_expr(value, out);
            out.push('.');
            out.push_str(attr);
        }
        Expr::List(items) => {
            out.push('[');
            write_list(items, out);
            out.push(']');
        }
        Expr::Dict(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(k, out);
                if !matches!(k, Expr::Splat { .. }) {
                    out.push_str(": ");
                    write_expr(v, out);
                }
            }
            out.push('}');
        }
        Expr::BinOp { op, left, right } => {
            write_expr(left, out);
            out.push(' ');
            out.push_str(op);
            out.push(' ');
            write_expr(right, out);
        }
        Expr::Lambda(body) => {
            out.push_str("lambda: ");
            write_expr(body, out);
        }
        Expr::FString(parts) => {
            out.push_str("f\"");
            for part in parts {
                match part {
                    FStringPart::Text(text) => {
                        for c in text.chars() {
                            match c {
                                '{' => out.push_str("{{"),
                                '}' => out.push_str("}}"),
                                '"' => out.push_str("\\\""),
                                '\\' => out.push_str("\\\\"),
                                '\n' => out.push_str("\\n"),
                                c => out.push(c),
                            }
                        }
                    }
                    FStringPart::Value {
                        value,
                        conversion,
                        spec,
                    } => {
                        out.push('{');
                        write_expr(value, out);
                        if let Some(c) = conversion {
                            out.push('!');
                            out.push(*c);
                        }
                        if let Some(spec) = spec {
                            out.push(':');
                            out.push_str(spec);
                        }
                        out.push('}');
                    }
                }
            }
            out.push('"');
        }
        Expr::Comprehension(comp) => {
            let (open, close) = match comp.kind {
                ComprehensionKind::List => ('[', ']'),
                ComprehensionKind::Generator => ('(', ')'),
                ComprehensionKind::Set | ComprehensionKind::Dict => ('{', '}'),
            };
            out.push(open);
            write_expr(&comp.element, out);
            if let Some(value) = &comp.value {
                out.push_str(": ");
                write_expr(value, out);
            }
            for clause in &comp.clauses {
                out.push_str(" for ");
                match &clause.target {
                    Expr::List(names) => write_list(names, out),
                    other => write_expr(other, out),
                }
                out.push_str(" in ");
                write_expr(&clause.iter, out);
                for condition in &clause.conditions {
                    out.push_str(" if ");
                    write_expr(condition, out);
                }
            }
            out.push(close);
        }
        Expr::Splat { double, value } => {
            out.push_str(if *double { "**" } else { "*" });
            write_expr(value, out);
        }
        Expr::Compare { left, ops, rights } => {
            write_expr(left, out);
            for (op, right) in ops.iter().zip(rights) {
                out.push(' ');
                out.push_str(op);
                out.push(' ');
                write_expr(right, out);
            }
        }
        Expr::IfElse { test, body, orelse } => {
            write_expr(body, out);
            out.push_str(" if ");
            write_expr(test, out);
            out.push_str(" else ");
            write_expr(orelse, out);
        }
        Expr::Not(value) => {
            out.push_str("not ");
            write_expr(value, out);
        }
        Expr::Slice { start, stop, step } => {
            if let Some(start) = start {
                write_expr(start, out);
            }
            out.push(':');
            if let Some(stop) = stop {
                write_expr(stop, out);
            }
            if let Some(step) = step {
                out.push(':');
                write_expr(step, out);
            }
        }
        Expr::Other(text) => out.push_str(text),
    }
}

fn write_list(items: &[Expr], out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(item, out);
    }
}
