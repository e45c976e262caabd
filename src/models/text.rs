//! [`Expr`] back to Python-like text, for messages (`String(20)`, `Mapped[Optional[str]]`).
//!
//! The plain syntax tree keeps values, not source spans, so the text is rebuilt: spacing is
//! normalised (`String(20, collation="C")`) and strings are written with double quotes.

use crate::pyast::Expr;

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
                out.push_str(": ");
                write_expr(v, out);
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
