//! A `server_default=` value → the SQL that SQLAlchemy would put after `DEFAULT`.
//!
//! Read for the models, so that `driftguard fix` can write the default a model declares. It
//! follows SQLAlchemy's rendering: a plain string is a quoted literal (`"pending"` →
//! `'pending'`), `text("now()")` / `literal_column(…)` is the SQL inside as written,
//! `func.now()` is `now()` (the ANSI functions without parentheses: `CURRENT_TIMESTAMP`),
//! `sa.true()` / `sa.false()` are `true` / `false`. What cannot be told statically (a call of
//! the project's own, a name bound to something else than a string) is `None`: no default is
//! written rather than a wrong one.
//!
//! Nothing here follows imports or bindings: the caller says what a name stands for.

use crate::pyast::Expr;

/// Functions SQLAlchemy renders without parentheses.
const ANSI_FUNCTIONS: &[&str] = &[
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "current_user",
    "session_user",
    "user",
];

/// How deep nested calls are rendered before giving up.
const MAX_DEPTH: usize = 8;

/// The SQL of a `server_default=` value, or `None` when there is no default (`None`,
/// `sa.null()`, `FetchedValue()`) or it cannot be told. `const_str` says which string a name
/// stands for (a module constant), if any.
pub fn server_default_sql(
    expr: &Expr,
    const_str: &dyn Fn(&Expr) -> Option<String>,
) -> Option<String> {
    render(expr, const_str, 0)
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn render(
    expr: &Expr,
    const_str: &dyn Fn(&Expr) -> Option<String>,
    depth: usize,
) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    match expr {
        Expr::Str(text) => Some(literal(text)),
        Expr::Int(n) => Some(n.to_string()),
        Expr::Float(f) => Some(f.clone()),
        Expr::Bool(b) => Some(b.to_string()),
        Expr::None => None,
        Expr::Name(_) => const_str(expr).map(|s| literal(&s)),
        Expr::Call(call) => {
            let func = call.func.as_name()?;
            let last = func.rsplit('.').next().unwrap_or(func);
            let is_func = func == "func" || func.starts_with("func.") || func.contains(".func.");
            if is_func {
                let args = call
                    .args
                    .iter()
                    .map(|a| render(a, const_str, depth + 1))
                    .collect::<Option<Vec<String>>>()?;
                let lower = last.to_ascii_lowercase();
                if args.is_empty() && ANSI_FUNCTIONS.contains(&lower.as_str()) {
                    return Some(lower.to_ascii_uppercase());
                }
                return Some(format!("{last}({})", args.join(", ")));
            }
            match last {
                "text" | "literal_column" => {
                    let inner = call.args.first()?;
                    match inner {
                        Expr::Str(sql) => Some(sql.clone()),
                        other => const_str(other),
                    }
                }
                "DefaultClause" => render(call.args.first()?, const_str, depth + 1),
                "true" => Some("true".to_string()),
                "false" => Some("false".to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Location;

    fn call(func: &str, args: Vec<Expr>) -> Expr {
        Expr::Call(Box::new(crate::pyast::Call {
            func: Expr::Name(func.to_string()),
            args,
            kwargs: Vec::new(),
            has_splat: false,
            star_args: Vec::new(),
            kw_splats: Vec::new(),
            location: Location::new("m.py", 1, 1),
        }))
    }

    fn sql(expr: &Expr) -> Option<String> {
        server_default_sql(expr, &|e| {
            (e.as_name() == Some("DEFAULT_STATUS")).then(|| "new".to_string())
        })
    }

    #[test]
    fn defaults_render_as_sqlalchemy_renders_them() {
        assert_eq!(sql(&Expr::Str("it's".into())).as_deref(), Some("'it''s'"));
        assert_eq!(
            sql(&call("sa.text", vec![Expr::Str("now()".into())])).as_deref(),
            Some("now()")
        );
        assert_eq!(sql(&call("func.now", vec![])).as_deref(), Some("now()"));
        assert_eq!(
            sql(&call("sa.func.current_timestamp", vec![])).as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
        assert_eq!(
            sql(&call("func.coalesce", vec![Expr::Str("a".into())])).as_deref(),
            Some("coalesce('a')")
        );
        assert_eq!(sql(&call("sa.false", vec![])).as_deref(), Some("false"));
        assert_eq!(
            sql(&Expr::Name("DEFAULT_STATUS".into())).as_deref(),
            Some("'new'")
        );
        assert_eq!(sql(&Expr::None), None);
        assert_eq!(sql(&call("FetchedValue", vec![])), None);
        assert_eq!(sql(&call("my_default", vec![])), None);
        assert_eq!(sql(&Expr::Name("unknown".into())), None);
    }
}
