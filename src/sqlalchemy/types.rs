//! SQLAlchemy and Python types → PostgreSQL types.
//!
//! Models say `String(20)`, `sa.DateTime(timezone=True)`, `postgresql.JSONB` or just
//! `Mapped[int]`; Alembic revisions say the same inside `sa.Column(…)`. This module maps those
//! expressions to the [`SqlType`] PostgreSQL would create, following SQLAlchemy's PostgreSQL
//! dialect (`String` without a length is `VARCHAR`, `Float` is `FLOAT` = double precision,
//! `DateTime` is `TIMESTAMP WITHOUT TIME ZONE` unless `timezone=True`) and its default
//! `type_annotation_map` for `Mapped[…]`. A type it does not know (a project's own
//! `TypeDecorator`) maps to `None`: callers then make no type claim at all.

use crate::postgres_type::SqlType;
use crate::pyast::Expr;

/// The PostgreSQL type of a SQLAlchemy type expression: `String(20)`, `sa.Integer`,
/// `postgresql.ARRAY(sa.Text())`, `Enum(Status, name="status")`.
pub fn column_type(expr: &Expr) -> Option<SqlType> {
    let (name, call) = match expr {
        Expr::Name(name) => (name.as_str(), None),
        Expr::Call(call) => (call.func.as_name()?, Some(call.as_ref())),
        _ => return None,
    };
    let last = name.rsplit('.').next().unwrap_or(name);
    let int_arg = |i: usize, kw: &str| -> Option<u32> {
        let call = call?;
        call.kwarg(kw)
            .or_else(|| call.args.get(i))
            .and_then(Expr::as_int)
            .and_then(|n| u32::try_from(n).ok())
    };
    let bool_kw = |kw: &str| -> bool {
        call.and_then(|c| c.kwarg(kw))
            .and_then(Expr::as_bool)
            .unwrap_or(false)
    };
    let sized = |pg: &str, kw: &str| -> SqlType {
        let modifiers = int_arg(0, kw).into_iter().collect();
        SqlType::from_sql_name(pg, modifiers, false)
    };
    let ty = match last {
        "Integer" | "INTEGER" | "INT" => SqlType::builtin("integer"),
        "SmallInteger" | "SMALLINT" => SqlType::builtin("smallint"),
        "BigInteger" | "BIGINT" => SqlType::builtin("bigint"),
        "String" | "VARCHAR" | "Unicode" | "NVARCHAR" | "AutoString" => {
            sized("character varying", "length")
        }
        "CHAR" | "NCHAR" => sized("character", "length"),
        "Text" | "TEXT" | "UnicodeText" | "CLOB" => SqlType::builtin("text"),
        "CITEXT" => SqlType::builtin("citext"),
        "Boolean" | "BOOLEAN" => SqlType::builtin("boolean"),
        "DateTime" | "TIMESTAMP" => {
            if bool_kw("timezone") || last == "TIMESTAMP" && first_arg_true(call) {
                SqlType::from_sql_name("timestamptz", precision(call), false)
            } else {
                SqlType::from_sql_name("timestamp", precision(call), false)
            }
        }
        "DATETIME" => SqlType::builtin("timestamp"),
        "Date" | "DATE" => SqlType::builtin("date"),
        "Time" | "TIME" => {
            if bool_kw("timezone") || first_arg_true(call) {
                SqlType::builtin("timetz")
            } else {
                SqlType::builtin("time")
            }
        }
        "Interval" | "INTERVAL" => SqlType::builtin("interval"),
        "Numeric" | "NUMERIC" | "DECIMAL" => {
            let mut modifiers = Vec::new();
            if let Some(p) = int_arg(0, "precision") {
                modifiers.push(p);
                if let Some(s) = int_arg(1, "scale") {
                    modifiers.push(s);
                }
            }
            SqlType::from_sql_name("numeric", modifiers, false)
        }
        "Float" | "FLOAT" => match int_arg(0, "precision") {
            Some(p) if p <= 24 => SqlType::builtin("real"),
            _ => SqlType::builtin("double precision"),
        },
        "Double" | "DOUBLE" | "DOUBLE_PRECISION" => SqlType::builtin("double precision"),
        "REAL" => SqlType::builtin("real"),
        "JSON" => SqlType::builtin("json"),
        "JSONB" => SqlType::builtin("jsonb"),
        "Uuid" | "UUID" | "GUID" => SqlType::builtin("uuid"),
        "LargeBinary" | "BYTEA" | "BLOB" | "BINARY" | "VARBINARY" | "PickleType" => {
            SqlType::builtin("bytea")
        }
        "INET" => SqlType::builtin("inet"),
        "CIDR" => SqlType::builtin("cidr"),
        "MACADDR" => SqlType::builtin("macaddr"),
        "MONEY" => SqlType::builtin("money"),
        "TSVECTOR" => SqlType::builtin("tsvector"),
        "OID" => SqlType::builtin("oid"),
        "BIT" => sized("bit", "length"),
        "INT4RANGE" => SqlType::builtin("int4range"),
        "INT8RANGE" => SqlType::builtin("int8range"),
        "NUMRANGE" => SqlType::builtin("numrange"),
        "DATERANGE" => SqlType::builtin("daterange"),
        "TSRANGE" => SqlType::builtin("tsrange"),
        "TSTZRANGE" => SqlType::builtin("tstzrange"),
        "HSTORE" => SqlType::from_sql_name("hstore", Vec::new(), false),
        "Geometry" | "Geography" => {
            SqlType::from_sql_name(&last.to_ascii_lowercase(), Vec::new(), false)
        }
        "ARRAY" => {
            let item = call?.args.first().or_else(|| call?.kwarg("item_type"))?;
            return column_type(item).map(SqlType::into_array);
        }
        "Enum" | "ENUM" => return enum_type(call?),
        _ => return None,
    };
    Some(ty)
}

/// `TIMESTAMP(True)` means `timezone=True`.
fn first_arg_true(call: Option<&crate::pyast::Call>) -> bool {
    call.and_then(|c| c.args.first())
        .and_then(Expr::as_bool)
        .unwrap_or(false)
}

fn precision(call: Option<&crate::pyast::Call>) -> Vec<u32> {
    call.and_then(|c| c.kwarg("precision"))
        .and_then(Expr::as_int)
        .and_then(|n| u32::try_from(n).ok())
        .into_iter()
        .collect()
}

/// The type of `Enum(...)`: a named PostgreSQL type, or `VARCHAR` with `native_enum=False`.
fn enum_type(call: &crate::pyast::Call) -> Option<SqlType> {
    if call.kwarg("native_enum").and_then(Expr::as_bool) == Some(false) {
        let length = call
            .kwarg("length")
            .and_then(Expr::as_int)
            .and_then(|n| u32::try_from(n).ok());
        return Some(SqlType::from_sql_name(
            "varchar",
            length.into_iter().collect(),
            false,
        ));
    }
    let name = enum_type_name(call)?;
    let schema = call.kwarg("schema").and_then(Expr::as_str);
    let qualified = match schema {
        Some(schema) => format!("{schema}.{name}"),
        None => name,
    };
    Some(SqlType::from_sql_name(&qualified, Vec::new(), true))
}

/// The PostgreSQL name SQLAlchemy gives an `Enum(...)` type: `name=`, else the Python enum
/// class name lower-cased.
pub fn enum_type_name(call: &crate::pyast::Call) -> Option<String> {
    if let Some(name) = call.kwarg("name").and_then(Expr::as_str) {
        return Some(name.to_string());
    }
    let class = call.args.first()?.last_name()?;
    Some(class.to_ascii_lowercase())
}

/// Removes `Optional[T]`, `Union[T, None]`, `T | None` and `None | T`. Returns the inner type
/// and whether it was optional.
pub fn unwrap_optional(expr: &Expr) -> (&Expr, bool) {
    match expr {
        Expr::Subscript { value, index } => match value.last_name() {
            Some("Optional") if index.len() == 1 => (unwrap_optional(&index[0]).0, true),
            Some("Union") => {
                let non_none: Vec<&Expr> = index.iter().filter(|e| !is_none(e)).collect();
                if non_none.len() == 1 && non_none.len() < index.len() {
                    (unwrap_optional(non_none[0]).0, true)
                } else {
                    (expr, false)
                }
            }
            _ => (expr, false),
        },
        Expr::BinOp { op, left, right } if op == "|" => {
            if is_none(right) {
                (unwrap_optional(left).0, true)
            } else if is_none(left) {
                (unwrap_optional(right).0, true)
            } else {
                (expr, false)
            }
        }
        _ => (expr, false),
    }
}

fn is_none(expr: &Expr) -> bool {
    matches!(expr, Expr::None) || expr.as_name() == Some("None") || expr.as_str() == Some("None")
}

/// The PostgreSQL type SQLAlchemy's default `type_annotation_map` gives a Python type in
/// `Mapped[T]` (after [`unwrap_optional`]).
pub fn annotation_type(expr: &Expr) -> Option<SqlType> {
    let name = match expr {
        Expr::Name(name) => name.as_str(),
        Expr::Str(name) => name.as_str(),
        _ => return None,
    };
    let ty = match name {
        "int" => SqlType::builtin("integer"),
        "str" => SqlType::builtin("character varying"),
        "bool" => SqlType::builtin("boolean"),
        "float" => SqlType::builtin("double precision"),
        "Decimal" | "decimal.Decimal" => SqlType::builtin("numeric"),
        "datetime" | "datetime.datetime" | "dt.datetime" => SqlType::builtin("timestamp"),
        "date" | "datetime.date" | "dt.date" => SqlType::builtin("date"),
        "time" | "datetime.time" | "dt.time" => SqlType::builtin("time"),
        "timedelta" | "datetime.timedelta" | "dt.timedelta" => SqlType::builtin("interval"),
        "UUID" | "uuid.UUID" => SqlType::builtin("uuid"),
        "bytes" => SqlType::builtin("bytea"),
        _ => return None,
    };
    Some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyast::{Stmt, parse};
    use crate::source::SourceFile;

    /// The value of `x = <src>` parsed as Python.
    fn expr(src: &str) -> Expr {
        let module = parse(&SourceFile::new("t.py", format!("x = {src}\n")));
        match module.body.into_iter().next() {
            Some(Stmt::Assign { value: Some(v), .. }) => v,
            other => panic!("not an assignment: {other:?}"),
        }
    }

    fn pg(src: &str) -> Option<String> {
        column_type(&expr(src)).map(|t| t.to_sql())
    }

    #[test]
    fn sqlalchemy_types_map_to_postgresql() {
        assert_eq!(pg("String(20)").as_deref(), Some("VARCHAR(20)"));
        assert_eq!(pg("sa.String(length=50)").as_deref(), Some("VARCHAR(50)"));
        assert_eq!(pg("String").as_deref(), Some("VARCHAR"));
        assert_eq!(pg("sa.Integer()").as_deref(), Some("INTEGER"));
        assert_eq!(pg("BigInteger").as_deref(), Some("BIGINT"));
        assert_eq!(
            pg("DateTime(timezone=True)").as_deref(),
            Some("TIMESTAMPTZ")
        );
        assert_eq!(pg("sa.DateTime()").as_deref(), Some("TIMESTAMP"));
        assert_eq!(pg("Numeric(10, 2)").as_deref(), Some("NUMERIC(10, 2)"));
        assert_eq!(pg("Float").as_deref(), Some("DOUBLE PRECISION"));
        assert_eq!(pg("postgresql.JSONB").as_deref(), Some("JSONB"));
        assert_eq!(pg("ARRAY(sa.Text())").as_deref(), Some("TEXT[]"));
        assert_eq!(pg("MyTypeDecorator()"), None);
    }

    #[test]
    fn enums_are_named_types_unless_not_native() {
        let status = column_type(&expr(
            "Enum(BookingStatus, name='booking_status', schema='core')",
        ))
        .expect("an enum type");
        assert_eq!(status.name, "core.booking_status");
        assert!(status.user_defined);
        assert_eq!(
            column_type(&expr("Enum(BookingStatus)")).map(|t| t.name.to_string()),
            Some("bookingstatus".to_string())
        );
        assert_eq!(
            pg("Enum(BookingStatus, native_enum=False, length=20)").as_deref(),
            Some("VARCHAR(20)")
        );
    }

    #[test]
    fn optional_annotations_unwrap() {
        let e = expr("Optional[str]");
        let (inner, optional) = unwrap_optional(&e);
        assert!(optional);
        assert_eq!(
            annotation_type(inner).map(|t| t.name.clone()),
            Some("character varying".into())
        );
        let e = expr("datetime.datetime | None");
        let (inner, optional) = unwrap_optional(&e);
        assert!(optional);
        assert_eq!(
            annotation_type(inner).map(|t| t.name.clone()),
            Some("timestamp without time zone".into())
        );
        let e = expr("int");
        assert!(!unwrap_optional(&e).1);
    }
}
