//! DG005 `column-type-mismatch`.
//!
//! The comparison is deliberately conservative: it reports only disagreements that make a
//! write fail, lose or shift data silently, or hand the code values of another Python type.
//! Anything driftguard cannot name on either side (a project's `TypeDecorator`, a custom
//! Alembic type, a domain) is never compared. The table in the explanation ([`META`]) is the
//! contract; the tests walk it row by row.

use super::{Context, Migrated, MigrationSource, RuleMeta};
use crate::finding::{Finding, Related, Target};
use crate::models::{ModelColumn, ModelTable};
use crate::postgres_type::{SqlType, TypeParts};
use crate::rule::Rule;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::ColumnTypeMismatch,
    summary: "A model's column type disagrees with the migrated column's type in a way that breaks at run time.",
    explanation: r#"## What it does
Compares the type a model maps a column to with the type the migrations give the column, for
columns whose table and column the migrations create. It reports only disagreements that break
something at run time, by this table (model type → migrated type):

| model | migrated | reported | because |
| --- | --- | --- | --- |
| any type | the same type under any spelling (`int4`/`integer`, `varchar`/`character varying`, `timestamptz`/`timestamp with time zone`, `bool`/`boolean`) | no | one type |
| `VARCHAR(n)` | `VARCHAR(m)` or `CHAR(m)` | when m < n | longer values fail: `value too long for type character varying(m)` |
| `VARCHAR` without length | `VARCHAR(m)` | no | the model claims no length |
| `VARCHAR(n)`, `VARCHAR` | `TEXT`, `CITEXT`, `VARCHAR` without length | no | the column holds more |
| `TEXT`, `CITEXT` | `VARCHAR(m)` or `CHAR(m)` | yes | values longer than m fail |
| `SMALLINT`, `INTEGER`, `BIGINT` | an integer as wide or wider | no | |
| `SMALLINT`, `INTEGER`, `BIGINT` | a narrower integer | yes | `smallint out of range` |
| `SMALLINT`, `INTEGER`, `BIGINT` | `NUMERIC`, `REAL`, `DOUBLE PRECISION` | no | the column holds the values |
| `DOUBLE PRECISION` | `REAL` | yes | digits are lost without an error |
| `REAL`, `DOUBLE PRECISION`, `NUMERIC` with a scale or none | an integer | yes | fractions are rounded away without an error |
| `NUMERIC(p, s)` | `NUMERIC(q, t)` | when t < s or q − t < p − s | rounding without an error, or `numeric field overflow` |
| `NUMERIC` | `NUMERIC` unconstrained on either side, `REAL`, `DOUBLE PRECISION` | no | |
| `TIMESTAMP` | `TIMESTAMPTZ` (and the reverse; `TIME`/`TIMETZ` alike) | yes | values shift silently by the session's time zone |
| `TIMESTAMP(p)` | `TIMESTAMP(q)` | no | fractional-second precision only |
| `JSON` | `JSONB` (and the reverse) | no | the same Python values |
| enum `a` | enum `a` (an unqualified name matches a qualified one) | no | |
| enum `a` | another enum or named type | yes | casts to `a` fail or compare badly |
| enum | `VARCHAR`, `TEXT` or any built-in type (and the reverse) | yes | see "different kinds" |
| `T[]` | `U[]` | as `T` against `U` | |
| `T[]` | a type that is not an array (and the reverse) | yes | |
| one kind of value | another kind: text, integer, boolean, uuid, date, timestamp, json, bytea … | yes | reads return another Python type; typed parameters fail with `operator does not exist` |
| a type driftguard cannot name (`TypeDecorator`) | anything | never | |
| a built-in type | a domain, a custom Alembic type, an unknown named type | never | |

The time-zone row is skipped when the model's type comes only from a `Mapped[datetime]`
annotation, since the project's `type_annotation_map` may map it to `DateTime(timezone=True)`.
With several migration sources and no `sources:` in the config, a column is reported only when
every source that creates it disagrees with the model.

## Why is this bad?
The migrations decide what production stores; the model decides what the code writes and
expects to read back. When they disagree, tests against a `create_all()` database pass and
production fails on the first long value (`value too long for type character varying(20)`),
the first large id (`integer out of range`), or silently stores a shifted timestamp or a
rounded amount. Drivers that type their parameters (asyncpg, psycopg 3) also fail on
comparisons such as `operator does not exist: character varying = uuid`.

## Example
```python
class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}
    email: Mapped[str] = mapped_column(String(255))
```
with a migration that ran `CREATE TABLE core.customers (…, email VARCHAR(100))`.

## How to fix
Decide which side is right. Usually the migration lags: add one that changes the column, for
example `ALTER TABLE core.customers ALTER COLUMN email TYPE VARCHAR(255);` (between kinds of
value PostgreSQL needs `USING email::uuid` or similar). Otherwise change the model's type to
match the column. Turn the rule off or down with `rules: {DG005: "off"}` in `driftguard.yml`.
"#,
};

pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in ctx.checked() {
        for column in &table.columns {
            let Some(model_ty) = &column.ty else {
                continue;
            };
            // A type the source does not qualify (no enum of the model's to resolve) that is
            // the migrated column's own type cannot disagree with it: most columns, compared
            // without telling their kinds apart.
            let as_written = !(model_ty.user_defined && column.enum_type().is_some());
            let per_source = ctx
                .migrated_columns(table, column)
                .into_iter()
                .map(|m| {
                    if as_written && *model_ty == m.column.ty {
                        return (m, None);
                    }
                    let model_ty = model_type(ctx, table, column, model_ty, m.source);
                    let found = compare(&model_ty, &m.column.ty, m.source, from_annotation(column));
                    (m, found.map(|mismatch| (mismatch, model_ty)))
                })
                .collect();
            if let Some((migrated, (mismatch, model_ty))) = ctx.decide(per_source) {
                findings.push(finding(table, column, &model_ty, &migrated, mismatch));
            }
        }
    }
    findings
}

/// The model's type, with an enum qualified by the type it resolves to in the source (the
/// model's own, borrowed, otherwise).
fn model_type<'t>(
    ctx: &Context,
    table: &ModelTable,
    column: &ModelColumn,
    ty: &'t SqlType,
    source: &MigrationSource,
) -> std::borrow::Cow<'t, SqlType> {
    let resolved = column
        .enum_type()
        .filter(|e| e.native && ty.user_defined)
        .and_then(|e| ctx.resolve_enum(source, table, e));
    match resolved {
        Some(e) => std::borrow::Cow::Owned(SqlType::new(TypeParts {
            name: format!("{}.{}", e.schema, e.name).into(),
            ..(**ty).clone()
        })),
        None => std::borrow::Cow::Borrowed(ty),
    }
}

/// The model's type was read only from a `Mapped[…]` annotation, not from a type argument.
fn from_annotation(column: &ModelColumn) -> bool {
    column
        .type_text
        .as_deref()
        .is_some_and(|t| t.starts_with("Mapped["))
}

/// What a type is, for the comparison.
#[derive(Debug, Clone, PartialEq)]
enum Kind<'a> {
    /// `smallint`, `integer`, `bigint`, by width in bytes.
    Integer(u8),
    /// `real`, `double precision`, by width in bytes.
    Float(u8),
    /// `numeric(precision, scale)`; `None`: unconstrained.
    Numeric(Option<(u32, u32)>),
    /// `character varying(n)`, `character(n)`, `text`, `citext`.
    Text {
        max: Option<u32>,
        /// `text`/`citext`: unbounded on purpose, unlike a `VARCHAR` that merely has no length.
        unbounded: bool,
    },
    Json,
    Timestamp {
        tz: bool,
    },
    Time {
        tz: bool,
    },
    /// An enum (or, on the migrated side, a named type that is not an extension's); the name as
    /// written, qualified or not.
    Named(&'a str),
    /// Any other type, by canonical name.
    Other(&'a str),
}

/// The kind of a type's element (arrays are compared by element). `None`: cannot be compared.
fn kind(ty: &SqlType) -> Option<Kind<'_>> {
    let first = ty.modifiers.first().copied();
    Some(match &*ty.name {
        "unknown" => return None,
        "smallint" => Kind::Integer(2),
        "integer" => Kind::Integer(4),
        "bigint" => Kind::Integer(8),
        "real" => Kind::Float(4),
        "double precision" => Kind::Float(8),
        "numeric" => Kind::Numeric(first.map(|p| (p, ty.modifiers.get(1).copied().unwrap_or(0)))),
        "character varying" => Kind::Text {
            max: first,
            unbounded: false,
        },
        // `CHAR` without a length is `CHAR(1)`.
        "character" => Kind::Text {
            max: Some(first.unwrap_or(1)),
            unbounded: false,
        },
        "text" | "citext" => Kind::Text {
            max: None,
            unbounded: true,
        },
        "json" | "jsonb" => Kind::Json,
        "timestamp without time zone" => Kind::Timestamp { tz: false },
        "timestamp with time zone" => Kind::Timestamp { tz: true },
        "time without time zone" => Kind::Time { tz: false },
        "time with time zone" => Kind::Time { tz: true },
        name if ty.user_defined && !ty.is_extension_type() => Kind::Named(name),
        name => Kind::Other(name),
    })
}

/// A disagreement that breaks something.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mismatch {
    /// The column holds fewer characters than the model allows.
    Shorter(u32),
    /// A narrower integer or float.
    Narrower,
    /// `numeric` with fewer decimal places.
    Scale(u32),
    /// `numeric` with fewer digits before the point.
    Digits(u32),
    /// Fractional values into an integer column.
    Fraction,
    /// With and without time zone.
    TimeZone,
    /// Different kinds of value, or different named types.
    Kind,
}

impl Mismatch {
    /// Whether the column is too small rather than of another kind.
    fn is_capacity(self) -> bool {
        !matches!(self, Mismatch::TimeZone | Mismatch::Kind)
    }
}

/// The mismatch between a model type and a migrated one, if it breaks something.
fn compare(
    model: &SqlType,
    migrated: &SqlType,
    source: &MigrationSource,
    from_annotation: bool,
) -> Option<Mismatch> {
    let model_kind = kind(model)?;
    let migrated_kind = kind(migrated)?;
    // A model's named type that is not an enum (there are none in SQLAlchemy's own types) and a
    // migrated named type that is no enum of the source (a domain, a type created elsewhere)
    // say nothing about the values; only two differently named types are known to differ.
    let migrated_is_enum = match &migrated_kind {
        Kind::Named(name) => is_enum(source, name),
        _ => false,
    };
    if matches!(migrated_kind, Kind::Named(_))
        && !migrated_is_enum
        && !matches!(model_kind, Kind::Named(_))
    {
        return None;
    }
    if model.array != migrated.array {
        return Some(Mismatch::Kind);
    }
    use Kind::*;
    match (model_kind, migrated_kind) {
        (Integer(m), Integer(d)) | (Float(m), Float(d)) => (d < m).then_some(Mismatch::Narrower),
        (Integer(_), Numeric(_) | Float(_)) => None,
        (Float(_), Integer(_)) => Some(Mismatch::Fraction),
        (Float(_), Numeric(_)) | (Numeric(_), Float(_)) => None,
        (Numeric(m), Integer(_)) => match m {
            Some((_, 0)) => None,
            _ => Some(Mismatch::Fraction),
        },
        (Numeric(Some((p, s))), Numeric(Some((q, t)))) => {
            if t < s {
                Some(Mismatch::Scale(t))
            } else if q.saturating_sub(t) < p.saturating_sub(s) {
                Some(Mismatch::Digits(q.saturating_sub(t)))
            } else {
                None
            }
        }
        (Numeric(_), Numeric(_)) => None,
        (Text { max, unbounded }, Text { max: Some(d), .. }) => match max {
            Some(m) if d < m => Some(Mismatch::Shorter(d)),
            None if unbounded => Some(Mismatch::Shorter(d)),
            _ => None,
        },
        (Text { .. }, Text { max: None, .. }) | (Json, Json) => None,
        (Timestamp { tz: a }, Timestamp { tz: b }) | (Time { tz: a }, Time { tz: b }) => {
            (a != b && !from_annotation).then_some(Mismatch::TimeZone)
        }
        (Named(a), Named(b)) => (!same_name(a, b)).then_some(Mismatch::Kind),
        (Other(a), Other(b)) => (a != b).then_some(Mismatch::Kind),
        _ => Some(Mismatch::Kind),
    }
}

/// Whether a migrated type name is an enum the source creates.
fn is_enum(source: &MigrationSource, name: &str) -> bool {
    match name.split_once('.') {
        Some((schema, type_name)) => source.schema.enum_type(schema, type_name).is_some(),
        None => source.schema.enums.values().any(|e| e.name == name),
    }
}

/// Two type names name the same type: equal when both are qualified, else by unqualified name.
fn same_name(a: &str, b: &str) -> bool {
    match (a.rsplit_once('.'), b.rsplit_once('.')) {
        (Some(_), Some(_)) => a == b,
        (qa, qb) => qa.map_or(a, |(_, n)| n) == qb.map_or(b, |(_, n)| n),
    }
}

/// A type as PostgreSQL names it in error messages: `character varying`, `booking_status`,
/// `text[]`.
fn pg_name(ty: &SqlType) -> String {
    let name = if ty.user_defined {
        ty.user_type_name()
    } else {
        &*ty.name
    };
    if ty.array {
        format!("{name}[]")
    } else {
        name.to_string()
    }
}

/// What breaks, for the message.
fn consequence(mismatch: Mismatch, model: &SqlType, migrated: &SqlType) -> String {
    match mismatch {
        Mismatch::Shorter(n) => format!(
            "values longer than {n} characters fail with `value too long for type {}({n})`",
            migrated.name
        ),
        Mismatch::Narrower if migrated.name == "real" => {
            "values keep only 6 significant digits, without an error".to_string()
        }
        Mismatch::Narrower => format!(
            "values beyond the column's range fail with `{} out of range`",
            migrated.name
        ),
        Mismatch::Scale(0) | Mismatch::Fraction => {
            "fractions are rounded away without an error".to_string()
        }
        Mismatch::Scale(s) => {
            format!("values are rounded to {s} decimal places without an error")
        }
        Mismatch::Digits(d) => format!(
            "values with more than {d} digits before the point fail with `numeric field overflow`"
        ),
        Mismatch::TimeZone if migrated.name.contains("with time zone") => {
            "naive values are taken in the session's time zone and read back timezone-aware: they shift silently, and comparing them with naive ones raises `TypeError`".to_string()
        }
        Mismatch::TimeZone => {
            "aware values are converted to the session's time zone and stored without it: they shift silently and read back naive".to_string()
        }
        Mismatch::Kind => format!(
            "reads return another Python type, and typed parameters (asyncpg, psycopg 3) fail with `operator does not exist: {} = {}`",
            pg_name(migrated),
            pg_name(model)
        ),
    }
}

fn finding(
    table: &ModelTable,
    column: &ModelColumn,
    model: &SqlType,
    migrated: &Migrated,
    mismatch: Mismatch,
) -> Finding {
    let schema = &migrated.table.schema;
    let path = super::column_path(schema, table, column);
    let migrated_ty = &migrated.column.ty;
    let help = if mismatch.is_capacity() {
        format!(
            "Widen the column to `{model}` in a migration, or narrow the model's type to `{migrated_ty}`."
        )
    } else {
        format!(
            "Change the column to `{model}` in a migration, or change the model's type to `{migrated_ty}`."
        )
    };
    let using = if mismatch == Mismatch::Kind {
        format!(" USING {}::{model}", column.name)
    } else {
        String::new()
    };
    Finding::new(
        Rule::ColumnTypeMismatch,
        column.location.clone(),
        Target::column(schema, &table.name, column.name.as_str()),
        format!(
            "`{path}` is `{model}` in the model but `{migrated_ty}` in {}: {}",
            migrated.source.in_phrase(),
            consequence(mismatch, model, migrated_ty)
        ),
        help,
    )
    .with_suggestion(format!(
        "ALTER TABLE {schema}.{} ALTER COLUMN {} TYPE {model}{using};",
        table.name, column.name
    ))
    .with_related(vec![Related {
        message: migrated.source.column_label(&path),
        location: migrated.column.location.clone(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{
        model_table, only, render_human, run, run_sources, set_enum, source, sql_type, with_column,
    };

    /// DG005 findings for a model column of type `model` against a migrated column of type
    /// `migrated`.
    fn dg005(model: &str, migrated: &str) -> Vec<Finding> {
        let table = model_table("public", "t", &[("id", "INTEGER"), ("c", model)]);
        only(
            run(
                &[&format!("CREATE TABLE t (id int, c {migrated});")],
                vec![table],
            ),
            Rule::ColumnTypeMismatch,
        )
    }

    fn reported(model: &str, migrated: &str) -> bool {
        !dg005(model, migrated).is_empty()
    }

    /// The check skips telling kinds apart when a model's type is the migrated column's own
    /// (no enum of the model's to resolve): the comparison would never have found a mismatch.
    #[test]
    fn a_type_compared_with_itself_never_disagrees() {
        let source = source(
            "SQL migrations",
            "a",
            &["CREATE TYPE core.status AS ENUM ('a');"],
        );
        let mut types: Vec<SqlType> = crate::postgres_type::canonical_names()
            .iter()
            .flat_map(|name| {
                [vec![], vec![1], vec![10, 2], vec![40]]
                    .into_iter()
                    .map(move |modifiers| SqlType::from_sql_name(name, modifiers, false))
            })
            .collect();
        for named in ["core.status", "status", "mood", "geometry"] {
            types.push(SqlType::new(TypeParts {
                user_defined: true,
                ..(*SqlType::from_sql_name(named, vec![], false)).clone()
            }));
        }
        let arrays: Vec<SqlType> = types.iter().cloned().map(SqlType::into_array).collect();
        types.extend(arrays);
        assert!(types.len() > 300);
        for ty in &types {
            for from_annotation in [false, true] {
                assert_eq!(compare(ty, ty, &source, from_annotation), None, "{ty:?}");
            }
        }
    }

    #[test]
    fn the_same_type_under_any_spelling_is_never_reported() {
        for (model, migrated) in [
            ("INTEGER", "int4"),
            ("INTEGER", "int"),
            ("INTEGER", "serial"),
            ("BIGINT", "int8"),
            ("BIGINT", "bigserial"),
            ("VARCHAR(20)", "character varying(20)"),
            ("VARCHAR", "varchar"),
            ("TIMESTAMPTZ", "timestamp with time zone"),
            ("TIMESTAMP", "timestamp without time zone"),
            ("TIMESTAMP", "timestamp"),
            ("BOOLEAN", "bool"),
            ("DOUBLE PRECISION", "float8"),
            ("NUMERIC(10, 2)", "decimal(10,2)"),
            ("UUID", "uuid"),
            ("TEXT[]", "text[]"),
            ("TIMESTAMPTZ", "timestamptz(3)"),
            ("INTEGER", "INT4"),
            ("VARCHAR(20)", "CHARACTER VARYING(20)"),
            ("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"),
            ("TIMESTAMPTZ", "pg_catalog.timestamptz"),
        ] {
            assert!(!reported(model, migrated), "{model} vs {migrated}");
        }
    }

    #[test]
    fn strings_are_reported_only_when_the_column_is_shorter() {
        assert!(reported("VARCHAR(50)", "varchar(20)"));
        assert!(!reported("VARCHAR(20)", "varchar(50)"));
        assert!(!reported("VARCHAR", "varchar(20)"));
        assert!(!reported("VARCHAR(20)", "varchar"));
        assert!(!reported("VARCHAR(20)", "text"));
        assert!(!reported("VARCHAR(20)", "citext"));
        assert!(!reported("TEXT", "varchar"));
        assert!(reported("TEXT", "varchar(255)"));
        assert!(reported("VARCHAR(2)", "char"));
        assert!(!reported("CHAR(2)", "character(2)"));
        let f = &dg005("VARCHAR(50)", "varchar(20)")[0];
        assert!(
            f.message
                .contains("fail with `value too long for type character varying(20)`"),
            "{}",
            f.message
        );
        assert_eq!(
            f.suggestion.as_deref(),
            Some("ALTER TABLE public.t ALTER COLUMN c TYPE VARCHAR(50);")
        );
        assert_eq!(
            f.help,
            "Widen the column to `VARCHAR(50)` in a migration, or narrow the model's type to `VARCHAR(20)`."
        );
    }

    #[test]
    fn numbers_are_reported_only_when_the_column_loses_values() {
        assert!(!reported("SMALLINT", "integer"));
        assert!(!reported("INTEGER", "bigint"));
        assert!(reported("BIGINT", "integer"));
        assert!(reported("INTEGER", "smallint"));
        assert!(!reported("INTEGER", "numeric"));
        assert!(!reported("INTEGER", "double precision"));
        assert!(reported("DOUBLE PRECISION", "real"));
        assert!(!reported("REAL", "double precision"));
        assert!(reported("DOUBLE PRECISION", "integer"));
        assert!(reported("NUMERIC(10, 2)", "integer"));
        assert!(reported("NUMERIC", "bigint"));
        assert!(!reported("NUMERIC(10)", "bigint"));
        assert!(!reported("NUMERIC(10, 2)", "numeric"));
        assert!(!reported("NUMERIC", "numeric(10,2)"));
        assert!(!reported("NUMERIC(10, 2)", "numeric(12,2)"));
        assert!(!reported("NUMERIC(10, 2)", "numeric(12,4)"));
        assert!(reported("NUMERIC(10, 4)", "numeric(10,2)"));
        assert!(reported("NUMERIC(10, 2)", "numeric(10,4)"));
        assert!(!reported("NUMERIC(10, 2)", "double precision"));
        assert!(!reported("DOUBLE PRECISION", "numeric(10,2)"));
        let f = &dg005("BIGINT", "integer")[0];
        assert!(
            f.message.contains("`integer out of range`"),
            "{}",
            f.message
        );
        let f = &dg005("NUMERIC(10, 2)", "numeric(10,4)")[0];
        assert!(f.message.contains("more than 6 digits"), "{}", f.message);
    }

    #[test]
    fn time_zones_are_reported_both_ways_but_precision_is_not() {
        assert!(reported("TIMESTAMP", "timestamptz"));
        assert!(reported("TIMESTAMPTZ", "timestamp"));
        assert!(reported("TIME", "timetz"));
        assert!(!reported("TIMESTAMP(3)", "timestamp(6)"));
        let f = &dg005("TIMESTAMP", "timestamp with time zone")[0];
        assert!(f.message.contains("shift silently"), "{}", f.message);
        assert_eq!(
            f.suggestion.as_deref(),
            Some("ALTER TABLE public.t ALTER COLUMN c TYPE TIMESTAMP;")
        );
    }

    #[test]
    fn a_datetime_annotation_is_not_compared_for_the_time_zone() {
        let table = with_column(
            model_table("public", "t", &[("id", "INTEGER"), ("c", "TIMESTAMP")]),
            "c",
            |c| c.type_text = Some("Mapped[datetime]".into()),
        );
        let findings = only(
            run(&["CREATE TABLE t (id int, c timestamptz);"], vec![table]),
            Rule::ColumnTypeMismatch,
        );
        assert!(findings.is_empty(), "{findings:?}");
    }

    #[test]
    fn json_and_jsonb_are_one_kind() {
        assert!(!reported("JSON", "jsonb"));
        assert!(!reported("JSONB", "json"));
        assert!(reported("JSONB", "text"));
    }

    #[test]
    fn different_kinds_of_value_are_reported_with_using() {
        for (model, migrated) in [
            ("VARCHAR(36)", "uuid"),
            ("TEXT", "integer"),
            ("UUID", "text"),
            ("BOOLEAN", "integer"),
            ("DATE", "timestamp"),
            ("TIMESTAMP", "date"),
            ("INTEGER", "boolean"),
            ("TEXT[]", "text"),
            ("TEXT", "text[]"),
            ("INTEGER[]", "text[]"),
            ("BYTEA", "text"),
        ] {
            assert!(reported(model, migrated), "{model} vs {migrated}");
        }
        let f = &dg005("UUID", "varchar(36)")[0];
        assert_eq!(
            f.suggestion.as_deref(),
            Some("ALTER TABLE public.t ALTER COLUMN c TYPE UUID USING c::UUID;")
        );
        assert!(
            f.message
                .contains("`operator does not exist: character varying = uuid`"),
            "{}",
            f.message
        );
        assert!(!reported("VARCHAR[]", "text[]"));
    }

    #[test]
    fn unknown_types_are_never_reported() {
        let table = with_column(
            model_table("public", "t", &[("id", "INTEGER"), ("c", "TEXT")]),
            "c",
            |c| c.ty = None,
        );
        assert!(
            only(
                run(&["CREATE TABLE t (id int, c integer);"], vec![table]),
                Rule::ColumnTypeMismatch
            )
            .is_empty()
        );
        // A migrated type driftguard cannot name (custom Alembic types read as `unknown`).
        assert!(!reported("TEXT", "unknown"));
        // A domain or a type created outside the migrations.
        assert!(!reported("TEXT", "email_address"));
        assert!(!reported("INTEGER", "core.positive_int"));
    }

    fn status_table(schema: Option<&str>, name: &str) -> ModelTable {
        with_column(
            model_table("core", "bookings", &[("id", "INTEGER"), ("status", "TEXT")]),
            "status",
            |c| set_enum(c, schema, name, &["pending"]),
        )
    }

    fn dg005_enum(table: ModelTable, migration: &str) -> Vec<Finding> {
        only(run(&[migration], vec![table]), Rule::ColumnTypeMismatch)
    }

    #[test]
    fn enums_match_by_name_and_differ_from_text() {
        let create = "CREATE SCHEMA core; CREATE TYPE core.booking_status AS ENUM ('pending');";
        let same =
            format!("{create} CREATE TABLE core.bookings (id int, status core.booking_status);");
        assert!(dg005_enum(status_table(Some("core"), "booking_status"), &same).is_empty());
        assert!(dg005_enum(status_table(None, "booking_status"), &same).is_empty());
        let unqualified = format!(
            "{create} SET search_path = core; CREATE TABLE bookings (id int, status booking_status);"
        );
        assert!(dg005_enum(status_table(Some("core"), "booking_status"), &unqualified).is_empty());
        // SQLAlchemy's default name (`bookingstatus`) against the migrated `booking_status`.
        let findings = dg005_enum(status_table(None, "bookingstatus"), &same);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0]
                .message
                .contains("`bookingstatus` in the model but `core.booking_status`"),
            "{}",
            findings[0].message
        );
        // The column stores text.
        let text = "CREATE SCHEMA core; CREATE TYPE core.booking_status AS ENUM ('pending'); CREATE TABLE core.bookings (id int, status varchar(20));";
        let findings = dg005_enum(status_table(Some("core"), "booking_status"), text);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].suggestion.as_deref(),
            Some(
                "ALTER TABLE core.bookings ALTER COLUMN status TYPE core.booking_status USING status::core.booking_status;"
            )
        );
        // A model string against a migrated enum.
        let table = model_table(
            "core",
            "bookings",
            &[("id", "INTEGER"), ("status", "VARCHAR(20)")],
        );
        assert_eq!(dg005_enum(table, &same).len(), 1);
        // A type the migrations never create, named like the model's: DG004's finding only.
        let missing = "CREATE TABLE core.bookings (id int, status booking_status);";
        assert!(dg005_enum(status_table(Some("core"), "booking_status"), missing).is_empty());
    }

    #[test]
    fn with_two_sources_a_source_that_agrees_wins_unless_sources_are_declared() {
        let tables = [model_table(
            "public",
            "t",
            &[("id", "INTEGER"), ("c", "VARCHAR(50)")],
        )];
        let sources = [
            source(
                "Alembic",
                "old",
                &["CREATE TABLE t (id int, c varchar(20));"],
            ),
            source(
                "SQL migrations",
                "new",
                &["CREATE TABLE t (id int, c varchar(50));"],
            ),
        ];
        let found = |declared| {
            only(
                run_sources(&sources, &tables, declared),
                Rule::ColumnTypeMismatch,
            )
        };
        assert!(found(false).is_empty());
        let declared = found(true);
        assert_eq!(declared.len(), 1);
        assert_eq!(&*declared[0].related[0].location.path, "old0.sql");
    }

    #[test]
    fn missing_tables_and_columns_are_left_to_dg001_and_dg002() {
        let table = model_table("public", "t", &[("id", "INTEGER"), ("c", "BIGINT")]);
        let findings = run(&["CREATE TABLE t (id int);"], vec![table.clone()]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rule, Rule::ColumnWithoutMigration);
        let findings = run(&["CREATE TABLE other (id int, c int);"], vec![table]);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rule, Rule::TableWithoutMigration);
    }

    #[test]
    fn the_test_helper_reads_types_like_a_migration() {
        assert_eq!(sql_type("numeric(10, 2)").modifiers.as_slice(), [10, 2]);
        assert!(sql_type("text[]").array);
    }

    #[test]
    fn human_rendering() {
        let table = model_table(
            "core",
            "customers",
            &[("id", "INTEGER"), ("email", "VARCHAR(255)")],
        );
        let migration =
            "CREATE TABLE core.customers (\n    id serial primary key,\n    email varchar(100)\n);";
        let findings = only(run(&[migration], vec![table]), Rule::ColumnTypeMismatch);
        insta::assert_snapshot!(render_human(
            findings,
            &[
                (
                    "models.py",
                    "class Customer(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n    email: Mapped[str] = mapped_column(String(255))\n"
                ),
                ("m0.sql", migration),
            ]
        ));
    }
}
