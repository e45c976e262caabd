//! The arguments of SQLAlchemy's `Column(…)` and `mapped_column(…)`, read once for both
//! readers of SQLAlchemy: the models ([`crate::models`]) and the Alembic revisions
//! ([`crate::migrations::alembic`]).
//!
//! `Column(name, type, *schema_items, **keywords)`: [`read`] sorts one call's arguments into
//! a [`ColumnArgs`] — the name, the type expression, the schema items (`ForeignKey`,
//! `Sequence`, `Identity`, `Computed`, and [`SCHEMA_ITEMS`] that say nothing about the
//! column's existence or type) and the keywords either reader uses.
//!
//! It does not evaluate or decide: what a name stands for and what a call calls is the
//! caller's to say ([`Names`]) — the models follow imports across files, the Alembic reader
//! follows the bindings of one function — and turning the parts into a column (a type through
//! [`super::types`], a default rendered as SQL, nullability, a foreign key target) stays with
//! each caller, which knows its own output.
//!
//! # Where the two readers differ
//!
//! Each keeps what it did before there was one reader. What the grammar reads differently is a
//! [`Grammar`] field:
//!
//! | | Alembic revisions | models |
//! | --- | --- | --- |
//! | the first positional argument ([`Grammar::positional_name`]) | the name, only when neither `name=` nor a class attribute names the column | the name whenever it is a constant string |
//! | positional arguments that can be the type ([`Grammar::type_arg`]) | any expression that is not a schema item | a call that is not a schema item, a (dotted) name or a subscript |
//! | a keyword given twice, which Python rejects ([`Grammar::repeated`]) | the first counts | the last counts; for `name=`, the last constant one |
//! | a call's kind ([`Names::kind`]) | the last part of its name as written | the last part after following imports (`SAEnum` → `Enum`) |
//!
//! What each makes of the parts, in its own code:
//!
//! - **`name=` that is not a constant**: Alembic cannot read the column; the models keep the
//!   positional or attribute name.
//! - **`ForeignKey`**: Alembic reads `column=` before the first positional argument, and the
//!   last `ForeignKey` alone becomes the column's reference (an unreadable last one leaves
//!   none); the models read the first positional argument of every `ForeignKey`.
//! - **`Identity` and `Computed`**: Alembic renders them as the column's default
//!   (`GENERATED … AS IDENTITY`, `GENERATED ALWAYS AS (…) STORED`; a `server_default=` wins)
//!   and an identity column is `NOT NULL`; for the models either is a server default, which a
//!   `server_default=` keyword overrides, `None` included.
//! - **`Sequence` and `default=`**: for Alembic a client-side default, so an integer primary
//!   key is not `SERIAL`; the models ignore both.
//! - **`nullable=`**: Alembic follows names to a literal, the models read only a literal.
//! - **`server_default=`**: Alembic renders its SQL, the models only note that there is one.
//! - **`comment=`** is read by the models only, **`autoincrement=`** by Alembic only.
//! - **Several calls**: the models merge an `Annotated` alias's `mapped_column(…)` with the
//!   attribute's own call (the later one wins field by field); Alembic reads one call.

use std::borrow::Cow;

use crate::pyast::{Call, Expr};

/// Schema items that may follow the type in `Column(name, type, *items)`; never the type.
pub const SCHEMA_ITEMS: &[&str] = &[
    "ForeignKey",
    "Sequence",
    "Identity",
    "Computed",
    "CheckConstraint",
    "DefaultClause",
    "FetchedValue",
    "UniqueConstraint",
    "Index",
];

/// What the caller knows about the names in a call.
pub trait Names<'a> {
    /// The constant string an expression stands for: a literal, or a name bound to one.
    fn const_str(&self, expr: &'a Expr) -> Option<String>;

    /// What a call calls, as SQLAlchemy names it: `ForeignKey` for `sa.ForeignKey(…)`. Empty
    /// when it has no name.
    fn kind<'c>(&self, call: &'c Call) -> Cow<'c, str>;
}

/// How the arguments are read where the two readers differ (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct Grammar {
    /// A first positional argument that is a constant string is the name.
    pub positional_name: bool,
    pub type_arg: TypeArg,
    pub repeated: Repeated,
}

/// Which positional arguments, other than schema items, can be the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeArg {
    /// Any expression.
    Any,
    /// A call, a (dotted) name or a subscript (`ARRAY[…]`-like); literals are passed over.
    TypeLike,
}

/// Which occurrence of a keyword given twice counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeated {
    First,
    Last,
}

/// The arguments of one `Column(…)`/`mapped_column(…)` call, sorted by what they say.
#[derive(Debug, Default)]
pub struct ColumnArgs<'a> {
    /// `name=` when it is a constant, else the positional name (see [`Grammar`]).
    pub name: Option<String>,
    /// `name=` as written, constant or not.
    pub name_keyword: Option<&'a Expr>,
    /// `type_=`, else the first positional argument that can be the type.
    pub type_expr: Option<&'a Expr>,
    /// The `ForeignKey(…)` items, in order.
    pub foreign_keys: Vec<&'a Call>,
    /// The last `Identity(…)` item.
    pub identity: Option<&'a Call>,
    /// The last `Computed(…)` item.
    pub computed: Option<&'a Call>,
    /// A `Sequence(…)` item is there.
    pub sequence: bool,
    pub nullable: Option<&'a Expr>,
    pub primary_key: Option<&'a Expr>,
    pub server_default: Option<&'a Expr>,
    /// `default=`: a client-side default.
    pub default: Option<&'a Expr>,
    pub comment: Option<&'a Expr>,
    pub autoincrement: Option<&'a Expr>,
}

/// Sorts the arguments of `call`, a `Column(…)` or `mapped_column(…)`.
pub fn read<'a>(call: &'a Call, names: &impl Names<'a>, grammar: Grammar) -> ColumnArgs<'a> {
    let keywords = |key: &'static str| {
        call.kwargs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v)
    };
    let keyword = |key: &'static str| match grammar.repeated {
        Repeated::First => keywords(key).next(),
        Repeated::Last => keywords(key).next_back(),
    };
    let mut args = ColumnArgs {
        name_keyword: keyword("name"),
        nullable: keyword("nullable"),
        primary_key: keyword("primary_key"),
        server_default: keyword("server_default"),
        default: keyword("default"),
        comment: keyword("comment"),
        autoincrement: keyword("autoincrement"),
        ..ColumnArgs::default()
    };
    let mut positional = &call.args[..];
    if grammar.positional_name
        && let Some((first, rest)) = positional.split_first()
        && let Some(name) = names.const_str(first)
    {
        args.name = Some(name);
        positional = rest;
    }
    let keyword_name = match grammar.repeated {
        Repeated::First => args.name_keyword.and_then(|e| names.const_str(e)),
        Repeated::Last => keywords("name").rev().find_map(|e| names.const_str(e)),
    };
    if keyword_name.is_some() {
        args.name = keyword_name;
    }
    let mut positional_type = None;
    for arg in positional {
        match arg {
            Expr::Call(item) => match names.kind(item).as_ref() {
                "ForeignKey" => args.foreign_keys.push(item),
                "Identity" => args.identity = Some(item),
                "Computed" => args.computed = Some(item),
                "Sequence" => args.sequence = true,
                kind if SCHEMA_ITEMS.contains(&kind) => {}
                _ => {
                    positional_type.get_or_insert(arg);
                }
            },
            Expr::Name(_) | Expr::Attribute { .. } | Expr::Subscript { .. } => {
                positional_type.get_or_insert(arg);
            }
            _ if grammar.type_arg == TypeArg::Any => {
                positional_type.get_or_insert(arg);
            }
            _ => {}
        }
    }
    args.type_expr = keyword("type_").or(positional_type);
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyast;
    use crate::source::SourceFile;

    /// Names as written: literals only, a call's kind is its last dotted part.
    struct Literal;

    impl<'a> Names<'a> for Literal {
        fn const_str(&self, expr: &'a Expr) -> Option<String> {
            expr.as_str().map(str::to_string)
        }

        fn kind<'c>(&self, call: &'c Call) -> Cow<'c, str> {
            Cow::Borrowed(call.func.last_name().unwrap_or(""))
        }
    }

    const ALEMBIC: Grammar = Grammar {
        positional_name: true,
        type_arg: TypeArg::Any,
        repeated: Repeated::First,
    };

    const MODELS: Grammar = Grammar {
        positional_name: true,
        type_arg: TypeArg::TypeLike,
        repeated: Repeated::Last,
    };

    fn call(src: &str) -> Call {
        let module = pyast::parse(&SourceFile::new("m.py", format!("x = {src}\n")));
        match module.body.into_iter().next() {
            Some(pyast::Stmt::Assign {
                value: Some(Expr::Call(call)),
                ..
            }) => *call,
            other => panic!("not a call: {other:?}"),
        }
    }

    #[test]
    fn sorts_name_type_items_and_keywords() {
        let c = call(
            "sa.Column('total', sa.Numeric(10, 2), sa.ForeignKey('t.id'), sa.Computed('a + b'), \
             sa.CheckConstraint('total > 0'), nullable=False, server_default='0', comment='c')",
        );
        let args = read(&c, &Literal, ALEMBIC);
        assert_eq!(args.name.as_deref(), Some("total"));
        assert_eq!(
            args.type_expr
                .and_then(Expr::as_call)
                .and_then(|t| t.func.last_name()),
            Some("Numeric")
        );
        assert_eq!(args.foreign_keys.len(), 1);
        assert!(args.computed.is_some() && args.identity.is_none() && !args.sequence);
        assert_eq!(args.nullable.and_then(Expr::as_bool), Some(false));
        assert_eq!(args.server_default.and_then(Expr::as_str), Some("0"));
        assert_eq!(args.comment.and_then(Expr::as_str), Some("c"));
    }

    #[test]
    fn type_keyword_wins_and_literals_are_a_type_only_for_alembic() {
        let c = call("Column('n', 5, type_=Integer)");
        assert_eq!(
            read(&c, &Literal, ALEMBIC)
                .type_expr
                .and_then(Expr::as_name),
            Some("Integer")
        );
        let c = call("Column('n', 5, Integer)");
        assert_eq!(read(&c, &Literal, ALEMBIC).type_expr, Some(&Expr::Int(5)));
        assert_eq!(
            read(&c, &Literal, MODELS).type_expr.and_then(Expr::as_name),
            Some("Integer")
        );
    }

    #[test]
    fn a_constant_name_keyword_wins_and_repeated_keywords_follow_the_grammar() {
        let c = call("Column('a', Integer, name='b')");
        assert_eq!(read(&c, &Literal, MODELS).name.as_deref(), Some("b"));
        let c = call("Column(Integer, name='a', name=other, nullable=True, nullable=False)");
        let first = read(&c, &Literal, ALEMBIC);
        assert_eq!(first.name.as_deref(), Some("a"));
        assert_eq!(first.nullable.and_then(Expr::as_bool), Some(true));
        let last = read(&c, &Literal, MODELS);
        assert_eq!(last.name.as_deref(), Some("a"));
        assert_eq!(last.name_keyword.and_then(Expr::as_name), Some("other"));
        assert_eq!(last.nullable.and_then(Expr::as_bool), Some(false));
    }

    #[test]
    fn without_a_positional_name_the_first_argument_is_the_type() {
        let grammar = Grammar {
            positional_name: false,
            ..ALEMBIC
        };
        let c = call("Column('x', Integer, name='y')");
        let args = read(&c, &Literal, grammar);
        assert_eq!(args.name.as_deref(), Some("y"));
        assert_eq!(args.type_expr.and_then(Expr::as_str), Some("x"));
    }
}
