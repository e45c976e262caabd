//! One class attribute (or one `Column(…)` of a `Table`) → a [`ModelColumn`].
//!
//! What is a column follows SQLAlchemy's declarative scan: `Column(…)`, `mapped_column(…)`,
//! `deferred(Column(…))` / `column_property(Column(…))`, an annotation-only `Mapped[T]`, and in
//! SQLModel table classes every annotated field unless it is a `Relationship(…)` or a
//! `ClassVar`. When in doubt the attribute is not a column: a missed column is a missed
//! finding, a false column is a false alarm on every run.
//!
//! Nullability, primary key, server default, foreign keys, comment and enum come from the
//! call and the annotation together; an `Annotated[T, mapped_column(…)]` alias contributes its
//! `mapped_column` first and the attribute's own arguments win. A call's arguments are sorted
//! by [`crate::sqlalchemy::column`], the reader the Alembic revisions share (its doc lists
//! where the two read differently). Types go through [`crate::sqlalchemy::types`] after import
//! aliases are followed (`SAEnum` → `sqlalchemy.Enum`).

use std::borrow::Cow;

use super::extract::{
    AttrKind, ClassAttr, EnumMember, annotated, callee_last, const_str, enum_members,
};
use super::resolve::{ClassId, Found, Resolver, Sym};
use super::text::expr_text;
use super::{ModelColumn, ModelEnum};
use crate::postgres_type::SqlType;
use crate::pyast::{Call, Expr};
use crate::source::Location;
use crate::sqlalchemy::column::{self, Grammar, Repeated, TypeArg};
use crate::sqlalchemy::{enums, types};

/// Class-level values that are never columns.
const NOT_COLUMNS: &[&str] = &[
    "relationship",
    "Relationship",
    "relation",
    "synonym",
    "association_proxy",
    "composite",
    "backref",
    "dynamic_loader",
    "query_expression",
    "hybrid_property",
    "hybrid_method",
    "column_property",
    "deferred",
    "declared_attr",
    "ConfigDict",
    "PrivateAttr",
];

/// Collection types: a `Mapped[List[…]]` is a relationship, never a column.
const COLLECTIONS: &[&str] = &[
    "List",
    "list",
    "Set",
    "set",
    "FrozenSet",
    "frozenset",
    "Sequence",
    "MutableSequence",
    "Collection",
    "Iterable",
    "AbstractSet",
    "MutableSet",
    "WriteOnlyCollection",
    "DynamicMapped",
    "WriteOnlyMapped",
    "AppenderQuery",
];

/// Python type names a string forward reference may spell without being a relationship.
const PLAIN_TYPES: &[&str] = &[
    "int",
    "str",
    "float",
    "bool",
    "bytes",
    "dict",
    "datetime",
    "date",
    "time",
    "timedelta",
    "Decimal",
    "UUID",
    "Any",
];

/// Pydantic types SQLModel maps to `AutoString` (VARCHAR).
const SQLMODEL_STRINGS: &[&str] = &[
    "EmailStr",
    "NameEmail",
    "HttpUrl",
    "AnyUrl",
    "AnyHttpUrl",
    "IPvAnyAddress",
    "IPv4Address",
    "IPv6Address",
    "Path",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `Column(…)`: nullable unless told otherwise.
    Legacy,
    /// `mapped_column(…)` or an annotation-only `Mapped[T]`: nullable when `T` is optional.
    Mapped,
}

/// What the arguments of `Column(…)`/`mapped_column(…)` say.
#[derive(Debug, Default)]
struct Spec<'a> {
    name: Option<String>,
    /// The type argument and the file it is written in.
    type_expr: Option<(usize, &'a Expr)>,
    foreign_keys: Vec<String>,
    /// `Some(None)`: `nullable=` is set but not to a literal.
    nullable: Option<Option<bool>>,
    primary_key: bool,
    server_default: bool,
    /// The server default as SQL, when it can be told.
    server_default_sql: Option<String>,
    index: bool,
    unique: bool,
    comment: Option<String>,
}

impl Spec<'_> {
    /// The column these keywords make, with what the builder told of its type.
    fn into_column(
        self,
        name: String,
        input: &Input,
        ty: Option<SqlType>,
        type_text: Option<String>,
        nullable: Option<bool>,
        enum_type: Option<ModelEnum>,
    ) -> ModelColumn {
        let mut column = ModelColumn {
            ty,
            type_text: type_text.map(Into::into),
            nullable,
            primary_key: self.primary_key,
            server_default: self.server_default,
            index: self.index,
            unique: self.unique,
            attribute: input.attribute.map(compact_str::CompactString::from),
            ..ModelColumn::new(name, input.location.clone())
        };
        column.change_rare(|rare| {
            rare.server_default_sql = self.server_default_sql.map(Into::into);
            rare.foreign_keys = self.foreign_keys;
            rare.enum_type = enum_type;
            rare.comment = self.comment.map(Into::into);
        });
        column
    }
}

/// The Python type of a `Mapped[T]` or SQLModel annotation.
#[derive(Debug, Clone, Copy)]
struct PyType<'a> {
    /// `T` without `Optional`, and the file to resolve it in.
    ty: (usize, &'a Expr),
    optional: bool,
    /// The `mapped_column(…)` of an `Annotated` alias.
    alias_call: Option<(usize, &'a Call)>,
}

enum MappedAnn<'a> {
    None,
    Mapped(&'a Expr),
    /// `WriteOnlyMapped[…]`, `DynamicMapped[…]`.
    Relationship,
    Plain,
}

fn mapped_ann(annotation: &Expr) -> MappedAnn<'_> {
    match annotation {
        Expr::Subscript { value, index } => match value.last_name() {
            Some("Mapped") => index.first().map_or(MappedAnn::Plain, MappedAnn::Mapped),
            Some("WriteOnlyMapped" | "DynamicMapped") => MappedAnn::Relationship,
            _ => MappedAnn::Plain,
        },
        _ => MappedAnn::Plain,
    }
}

fn is_classvar(annotation: &Expr) -> bool {
    let name = match annotation {
        Expr::Subscript { value, .. } => value.last_name(),
        other => other.last_name(),
    };
    matches!(name, Some("ClassVar" | "Final"))
}

impl<'a> Resolver<'a> {
    /// The kind of a call as the library names it (`sa.Column` → `Column`, `SAEnum` → `Enum`):
    /// the last segment of [`Resolver::qualify`]'s name, found without building that name
    /// (every attribute of every model asks).
    fn call_kind<'c>(&self, file: usize, call: &'c Call) -> &'c str
    where
        'a: 'c,
    {
        match &call.func {
            Expr::Name(name) => self.qualified_last(file, name),
            _ => callee_last(call).unwrap_or_default(),
        }
    }

    /// A class attribute → its column, when it is one.
    pub(super) fn attr_column(
        &mut self,
        file: usize,
        attr: &'a ClassAttr,
        sqlmodel: bool,
        schema: Option<&str>,
    ) -> Option<ModelColumn> {
        if attr.kind == AttrKind::Other || (sqlmodel && attr.name.starts_with('_')) {
            return None;
        }
        let annotation = attr.annotation.as_ref();
        if annotation.is_some_and(is_classvar) {
            return None;
        }
        let mapped = annotation.map_or(MappedAnn::None, mapped_ann);
        let mapped_t = match mapped {
            MappedAnn::Relationship => return None,
            MappedAnn::Mapped(t) => Some(t),
            MappedAnn::None | MappedAnn::Plain => None,
        };
        let input = Input {
            file,
            attribute: Some(&attr.name),
            location: &attr.location,
            mapped_t,
            annotation,
            schema,
        };
        match &attr.value {
            Some(Expr::Call(call)) => match self.call_kind(file, call) {
                "Column" => self.build(&input, Style::Legacy, Some(call)),
                "mapped_column" => self.build(&input, Style::Mapped, Some(call)),
                "deferred" | "column_property" => {
                    let inner = call.args.first()?.as_call()?;
                    match self.call_kind(file, inner) {
                        "Column" => self.build(&input, Style::Legacy, Some(inner)),
                        "mapped_column" => self.build(&input, Style::Mapped, Some(inner)),
                        _ => None,
                    }
                }
                "Field" if sqlmodel => self.sqlmodel_field(&input, Some(call)),
                kind if NOT_COLUMNS.contains(&kind) => None,
                // A project helper that builds the `Field(…)` (ZenML's
                // `build_foreign_key_field(…, nullable=True)`): the column is there, but its
                // nullability is the helper's, not the annotation's.
                _ if sqlmodel => self.sqlmodel_field(&input, None).map(|mut column| {
                    column.nullable = None;
                    column
                }),
                // A helper that returns a `mapped_column(…)`: the annotation decides.
                _ => match mapped_t {
                    Some(t) if !self.is_relationship_target(file, t) => {
                        self.build(&input, Style::Mapped, None)
                    }
                    _ => None,
                },
            },
            Some(_) => {
                if sqlmodel && mapped_t.is_none() && annotation.is_some() {
                    self.sqlmodel_field(&input, None)
                } else {
                    None
                }
            }
            None => match mapped_t {
                Some(t) if self.is_relationship_target(file, t) => None,
                Some(_) => self.build(&input, Style::Mapped, None),
                None if sqlmodel && annotation.is_some() => self.sqlmodel_field(&input, None),
                None => None,
            },
        }
    }

    /// A `Column("name", …)` inside `Table(…)`.
    pub(super) fn table_column(
        &mut self,
        file: usize,
        call: &'a Call,
        schema: Option<&str>,
    ) -> Option<ModelColumn> {
        let input = Input {
            file,
            attribute: None,
            location: &call.location,
            mapped_t: None,
            annotation: None,
            schema,
        };
        self.build(&input, Style::Legacy, Some(call))
    }

    fn build(
        &mut self,
        input: &Input<'a, '_>,
        style: Style,
        call: Option<&'a Call>,
    ) -> Option<ModelColumn> {
        let mut spec = Spec::default();
        let py = input.mapped_t.map(|t| self.python_type(input.file, t));
        if let Some((f, alias_call)) = py.and_then(|p| p.alias_call)
            && matches!(self.call_kind(f, alias_call), "mapped_column" | "Column")
        {
            self.read_call(f, alias_call, &mut spec);
        }
        if let Some(call) = call {
            self.read_call(input.file, call, &mut spec);
        }
        let name = spec
            .name
            .clone()
            .or_else(|| input.attribute.map(str::to_string))?;
        let nullable = match spec.nullable {
            Some(explicit) => explicit,
            None if spec.primary_key => Some(false),
            None => match (style, py) {
                (Style::Legacy, _) => Some(true),
                (Style::Mapped, Some(py)) => Some(py.optional),
                (Style::Mapped, None) => Some(true),
            },
        };
        let (ty, enum_type, type_text) = match (spec.type_expr, py) {
            (Some((f, te)), _) => {
                let (ty, enum_type) = self.sql_type(f, te, input.schema);
                (ty, enum_type, Some(expr_text(te)))
            }
            (None, Some(py)) => {
                let (ty, enum_type) = self.annotation_sql_type(py.ty.0, py.ty.1);
                (ty, enum_type, input.annotation.map(expr_text))
            }
            (None, None) => (None, None, input.annotation.map(expr_text)),
        };
        Some(spec.into_column(name, input, ty, type_text, nullable, enum_type))
    }

    /// A string literal or a module-level string constant.
    fn const_string(&self, file: usize, expr: &Expr) -> Option<String> {
        if let Some(s) = const_str(expr) {
            return Some(s);
        }
        let name = expr.as_name()?;
        match self.lookup(file, name)? {
            Found {
                sym: Sym::Value(..),
                rest,
            } if rest.is_empty() => self
                .str_value(file, &super::extract::StrValue::Constant(name.to_string()))
                .ok(),
            _ => None,
        }
    }

    /// A `server_default=` value as SQL, names followed to module-level strings.
    fn default_sql(&self, file: usize, value: &Expr) -> Option<String> {
        crate::sqlalchemy::default::server_default_sql(value, &|e| self.const_string(file, e))
    }

    /// Reads one `Column(…)`/`mapped_column(…)` into `spec`: what the call says replaces what
    /// an earlier call (an `Annotated` alias's) said; foreign keys add up.
    fn read_call(&self, file: usize, call: &'a Call, spec: &mut Spec<'a>) {
        let names = InFile {
            project: self,
            file,
        };
        let grammar = Grammar {
            positional_name: true,
            type_arg: TypeArg::TypeLike,
            repeated: Repeated::Last,
        };
        let args = column::read(call, &names, grammar);
        if let Some(name) = args.name {
            spec.name = Some(name);
        }
        if let Some(type_expr) = args.type_expr {
            spec.type_expr = Some((file, type_expr));
        }
        spec.foreign_keys.extend(
            args.foreign_keys
                .iter()
                .filter_map(|fk| fk.args.first().and_then(|a| self.const_string(file, a))),
        );
        if let Some(nullable) = args.nullable {
            spec.nullable = Some(nullable.as_bool());
        }
        if let Some(primary_key) = args.primary_key {
            spec.primary_key = primary_key.as_bool() == Some(true);
        }
        match args.server_default {
            Some(value) => {
                spec.server_default = !matches!(value, Expr::None);
                spec.server_default_sql = self.default_sql(file, value);
            }
            None if args.identity.is_some() || args.computed.is_some() => {
                spec.server_default = true;
                spec.server_default_sql = None;
            }
            None => {}
        }
        for (key, slot) in [("index", &mut spec.index), ("unique", &mut spec.unique)] {
            if let Some(value) = call.kwarg(key) {
                *slot = value.as_bool() == Some(true);
            }
        }
        if let Some(comment) = args.comment {
            spec.comment = self.const_string(file, comment);
        }
    }

    /// `T` of `Mapped[T]` (or a SQLModel annotation): `Optional` removed, an `Annotated`
    /// alias followed.
    fn python_type(&self, file: usize, t: &'a Expr) -> PyType<'a> {
        let (inner, optional) = types::unwrap_optional(t);
        if let Some((python_type, call)) = annotated(inner) {
            let (ty, inner_optional) = types::unwrap_optional(python_type);
            return PyType {
                ty: (file, ty),
                optional: optional || inner_optional,
                alias_call: call.map(|c| (file, c)),
            };
        }
        if let Expr::Name(name) = inner
            && let Some(Found {
                sym: Sym::Alias(f, j),
                rest,
            }) = self.lookup(file, name)
            && rest.is_empty()
            && let Some(alias) = self.file(f).and_then(|x| x.aliases.get(j))
        {
            let (ty, inner_optional) = types::unwrap_optional(&alias.python_type);
            return PyType {
                ty: (f, ty),
                optional: optional || inner_optional,
                alias_call: alias.column.as_ref().map(|c| (f, c)),
            };
        }
        PyType {
            ty: (file, inner),
            optional,
            alias_call: None,
        }
    }

    /// A type expression with its names qualified through imports, for [`types`].
    fn canonical(&self, file: usize, expr: &Expr) -> Expr {
        match expr {
            Expr::Name(name) => Expr::Name(self.qualify(file, name)),
            Expr::Call(call) => {
                let mut call = (**call).clone();
                if let Expr::Name(name) = &call.func {
                    call.func = Expr::Name(self.qualify(file, name));
                }
                call.args = call.args.iter().map(|a| self.canonical(file, a)).collect();
                Expr::Call(Box::new(call))
            }
            other => other.clone(),
        }
    }

    /// The PostgreSQL type of a SQLAlchemy type expression, and its enum.
    fn sql_type(
        &mut self,
        file: usize,
        te: &'a Expr,
        schema: Option<&str>,
    ) -> (Option<SqlType>, Option<ModelEnum>) {
        // `JSON().with_variant(JSONB(), "postgresql")`: the PostgreSQL variant.
        if let Expr::Call(call) = te
            && let Expr::Attribute { value, attr } = &call.func
            && attr == "with_variant"
        {
            let for_postgres = call
                .args
                .iter()
                .chain(call.kwargs.iter().map(|(_, v)| v))
                .any(|a| a.as_str() == Some("postgresql"));
            return match (for_postgres, call.args.first()) {
                (true, Some(variant)) => self.sql_type(file, variant, schema),
                _ => self.sql_type(file, value, schema),
            };
        }
        let canonical = self.canonical(file, te);
        if let Expr::Call(call) = te
            && let Expr::Call(canonical_call) = &canonical
            && matches!(canonical_call.func.last_name(), Some("Enum" | "ENUM"))
        {
            return self.enum_from_call(file, call, &canonical, schema);
        }
        if let Some(ty) = types::column_type(&canonical) {
            return (Some(ty), None);
        }
        // A project `TypeDecorator` with `impl = String(50)`.
        let name = match te {
            Expr::Name(name) => Some(name.as_str()),
            Expr::Call(call) => call.func.as_name(),
            _ => None,
        };
        if let Some(name) = name
            && let Some(Found {
                sym: Sym::Class(c),
                rest,
            }) = self.lookup(file, name)
            && rest.is_empty()
            && let Some(class) = self.class(c)
            && let Some(impl_attr) = Resolver::attr(class, "impl")
            && let Some(impl_expr) = &impl_attr.value
        {
            return (types::column_type(&self.canonical(c.0, impl_expr)), None);
        }
        (None, None)
    }

    /// The type SQLAlchemy's default annotation map gives `T` (an enum class → its enum).
    fn annotation_sql_type(
        &mut self,
        file: usize,
        t: &'a Expr,
    ) -> (Option<SqlType>, Option<ModelEnum>) {
        if let Expr::Name(name) = t
            && let Some(class) = self.enum_class(file, name)
        {
            let model_enum = self.model_enum(class, false, None, None, true);
            let ty = model_enum.as_ref().map(enum_sql_type);
            return (ty, model_enum);
        }
        let canonical = self.canonical(file, t);
        let ty = types::annotation_type(&canonical).or_else(|| types::annotation_type(t));
        if ty.is_none()
            && matches!(t, Expr::Name(_))
            && let Some((class_name, values)) = self.module_enum(file, t, false)
        {
            // An enum class of a module without models (`from app.enums import Kind`).
            let model_enum = ModelEnum {
                name: class_name.to_lowercase(),
                schema: None,
                values,
                native: true,
                location: None,
            };
            return (Some(enum_sql_type(&model_enum)), Some(model_enum));
        }
        (ty, None)
    }

    /// `Enum(PyEnum, name=…, schema=…, native_enum=…, values_callable=…)` or
    /// `Enum("a", "b", name=…)`.
    fn enum_from_call(
        &mut self,
        file: usize,
        call: &'a Call,
        canonical: &Expr,
        table_schema: Option<&str>,
    ) -> (Option<SqlType>, Option<ModelEnum>) {
        let native = call.kwarg("native_enum").and_then(Expr::as_bool) != Some(false)
            || call.func.last_name() == Some("ENUM");
        let by_value = enums::stores_values(call);
        let schema = match call.kwarg("schema") {
            Some(value) => self.const_string(file, value),
            None if call.kwarg("inherit_schema").and_then(Expr::as_bool) == Some(true) => {
                table_schema.map(str::to_string)
            }
            None => None,
        };
        let name = call.kwarg("name").and_then(|n| self.const_string(file, n));
        let class = call
            .args
            .first()
            .and_then(Expr::as_name)
            .and_then(|n| self.enum_class(file, n));
        let imported = match class {
            Some(_) => None,
            None => call
                .args
                .first()
                .and_then(|a| self.module_enum(file, a, by_value)),
        };
        let model_enum = match (class, imported) {
            (Some(class), _) => self.model_enum(class, by_value, name, schema, native),
            // An enum class of a module without models (`from app.enums import Kind`).
            (None, Some((class_name, values))) => Some(ModelEnum {
                name: name.unwrap_or_else(|| class_name.to_lowercase()),
                schema,
                values,
                native,
                location: None,
            }),
            (None, None) => {
                let values: Vec<String> = call
                    .args
                    .iter()
                    .filter_map(|a| self.const_string(file, a))
                    .collect();
                // An enum class that is not in the files read: its name, values unknown.
                let class_name = match call.args.first() {
                    Some(Expr::Name(n)) if values.is_empty() => {
                        n.rsplit('.').next().map(str::to_lowercase)
                    }
                    _ => None,
                };
                name.or(class_name).map(|name| ModelEnum {
                    name,
                    schema,
                    values,
                    native,
                    location: None,
                })
            }
        };
        let ty = match &model_enum {
            Some(e) => {
                let mut ty = enum_sql_type(e);
                if !e.native
                    && let Some(length) = call
                        .kwarg("length")
                        .and_then(Expr::as_int)
                        .and_then(|n| u32::try_from(n).ok())
                {
                    ty = SqlType::from_sql_name("varchar", vec![length], false);
                }
                Some(ty)
            }
            None => types::column_type(canonical),
        };
        (ty, model_enum)
    }

    fn model_enum(
        &mut self,
        class: ClassId,
        by_value: bool,
        name: Option<String>,
        schema: Option<String>,
        native: bool,
    ) -> Option<ModelEnum> {
        let model = self.class(class)?;
        let members: Vec<EnumMember> = match &model.enum_members {
            Some(members) => members.clone(),
            None => enum_members(model.attrs()),
        };
        let str_enum = enums::is_str_enum(model.bases.iter().map(String::as_str));
        let values = enums::labels(&members, by_value, str_enum);
        Some(ModelEnum {
            name: name.unwrap_or_else(|| model.name.to_lowercase()),
            schema,
            values,
            native,
            location: Some(model.location.clone()),
        })
    }

    /// The project enum class a name refers to.
    fn enum_class(&mut self, file: usize, name: &str) -> Option<ClassId> {
        match self.lookup(file, name)? {
            Found {
                sym: Sym::Class(c),
                rest,
            } if rest.is_empty() && self.is_enum(c) => Some(c),
            _ => None,
        }
    }

    fn is_enum(&mut self, class: ClassId) -> bool {
        let Some(model) = self.class(class) else {
            return false;
        };
        if model.enum_members.is_some() {
            return true;
        }
        let mro = self.mro(class);
        mro.iter()
            .skip(1)
            .any(|c| self.class(*c).is_some_and(|m| m.enum_members.is_some()))
    }

    /// Whether `T` of an annotation-only `Mapped[T]` is a relationship: a collection, or a
    /// mapped class by name or by string forward reference. Unknown strings count as
    /// relationships (not columns).
    fn is_relationship_target(&mut self, file: usize, t: &Expr) -> bool {
        let (inner, _) = types::unwrap_optional(t);
        match inner {
            Expr::Subscript { value, index } => match value.last_name() {
                Some(name) if COLLECTIONS.contains(&name) => true,
                Some("Dict" | "dict" | "Mapping" | "MutableMapping") => index
                    .iter()
                    .any(|e| matches!(e, Expr::Str(_)) || self.is_relationship_target(file, e)),
                Some("Annotated") => index
                    .first()
                    .is_some_and(|e| self.is_relationship_target(file, e)),
                _ => false,
            },
            Expr::Str(reference) => {
                let reference = reference.trim();
                if PLAIN_TYPES.contains(&reference) {
                    return false;
                }
                if reference.contains(['[', '|', ' ']) {
                    return true;
                }
                match self.lookup(file, reference) {
                    Some(Found {
                        sym: Sym::Class(c),
                        rest,
                    }) if rest.is_empty() => !self.is_enum(c),
                    Some(Found {
                        sym: Sym::Alias(..),
                        ..
                    }) => false,
                    _ => true,
                }
            }
            Expr::Name(name) => match self.lookup(file, name) {
                Some(Found {
                    sym: Sym::Class(c),
                    rest,
                }) if rest.is_empty() => {
                    !self.is_enum(c)
                        && (self.is_in_hierarchy(c)
                            || self.class(c).is_some_and(|m| m.tablename.is_some()))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// A SQLModel field: `x: T`, `x: T = default`, `x: T = Field(…)`.
    fn sqlmodel_field(
        &mut self,
        input: &Input<'a, '_>,
        call: Option<&'a Call>,
    ) -> Option<ModelColumn> {
        let annotation = input.annotation?;
        if let Some(call) = call
            && let Some(Expr::Call(column)) = call.kwarg("sa_column")
        {
            if matches!(
                self.call_kind(input.file, column),
                "Column" | "mapped_column"
            ) {
                return self.build(input, Style::Legacy, Some(column));
            }
            // A project helper the evaluator could not follow (those it can follow were
            // replaced by the `Column(…)` they return, see `computed::expand_column_helpers`):
            // the column is there, its type and nullability are the helper's.
            return self.build(input, Style::Legacy, None).map(|mut column| {
                column.nullable = None;
                column
            });
        }
        // `tags: list[str] = Field(sa_type=JSON)`: a collection stored in one column. The
        // explicit column type says it is no relationship, whatever the annotation.
        let stored = call.is_some_and(|c| c.kwarg("sa_type").is_some());
        if !stored && self.is_relationship_target(input.file, annotation) {
            return None;
        }
        let py = self.python_type(input.file, annotation);
        let mut spec = Spec::default();
        let mut max_length = None;
        if let Some(call) = call {
            for (key, value) in &call.kwargs {
                match key.as_str() {
                    "primary_key" => spec.primary_key = value.as_bool() == Some(true),
                    "nullable" => spec.nullable = Some(value.as_bool()),
                    "foreign_key" => {
                        if let Some(target) = self.const_string(input.file, value) {
                            spec.foreign_keys.push(target);
                        }
                    }
                    "sa_type" => spec.type_expr = Some((input.file, value)),
                    "index" => spec.index = value.as_bool() == Some(true),
                    "unique" => spec.unique = value.as_bool() == Some(true),
                    "max_length" => max_length = value.as_int().and_then(|n| u32::try_from(n).ok()),
                    "sa_column_kwargs" => {
                        if let Expr::Dict(pairs) = value {
                            for (k, v) in pairs {
                                match k.as_str() {
                                    Some("name") => spec.name = self.const_string(input.file, v),
                                    Some("server_default") => {
                                        spec.server_default = !matches!(v, Expr::None);
                                        spec.server_default_sql = self.default_sql(input.file, v);
                                    }
                                    Some("comment") => {
                                        spec.comment = self.const_string(input.file, v);
                                    }
                                    Some("nullable") => spec.nullable = Some(v.as_bool()),
                                    _ => {}
                                }
                            }
                        }
                    }
                    "sa_column_args" => {
                        if let Expr::List(items) = value {
                            for item in items.iter().filter_map(Expr::as_call) {
                                if self.call_kind(input.file, item) == "ForeignKey"
                                    && let Some(target) = item
                                        .args
                                        .first()
                                        .and_then(|a| self.const_string(input.file, a))
                                {
                                    spec.foreign_keys.push(target);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let name = spec
            .name
            .clone()
            .or_else(|| input.attribute.map(str::to_string))?;
        let nullable = match spec.nullable {
            Some(explicit) => explicit,
            None if spec.primary_key => Some(false),
            None => Some(py.optional),
        };
        let (ty, enum_type, type_text) = match spec.type_expr {
            Some((f, te)) => {
                let (ty, e) = self.sql_type(f, te, input.schema);
                (ty, e, Some(expr_text(te)))
            }
            None => {
                let (mut ty, e) = self.annotation_sql_type(py.ty.0, py.ty.1);
                // SQLModel stores pydantic's string-like types as `AutoString`.
                if ty.is_none()
                    && e.is_none()
                    && py
                        .ty
                        .1
                        .last_name()
                        .is_some_and(|n| SQLMODEL_STRINGS.contains(&n))
                {
                    ty = Some(SqlType::builtin("character varying"));
                }
                if let (Some(length), Some(t)) = (max_length, &ty)
                    && t.name == "character varying"
                {
                    ty = Some(SqlType::from_sql_name("varchar", vec![length], false));
                }
                (ty, e, Some(expr_text(annotation)))
            }
        };
        Some(spec.into_column(name, input, ty, type_text, nullable, enum_type))
    }
}

/// The models' answers to the shared `Column(…)` reader, for the calls of one file: constants
/// through the project's module-level strings, call kinds through its imports.
struct InFile<'p, 'a> {
    project: &'p Resolver<'a>,
    file: usize,
}

impl<'a> column::Names<'a> for InFile<'_, 'a> {
    fn const_str(&self, expr: &'a Expr) -> Option<String> {
        self.project.const_string(self.file, expr)
    }

    fn kind<'c>(&self, call: &'c Call) -> Cow<'c, str> {
        let call: &Call = call;
        Cow::Owned(self.project.call_kind(self.file, call).to_string())
    }
}

/// What a column builder reads besides the call.
struct Input<'a, 'i> {
    file: usize,
    attribute: Option<&'a str>,
    location: &'a Location,
    /// `T` of a `Mapped[T]` annotation.
    mapped_t: Option<&'a Expr>,
    annotation: Option<&'a Expr>,
    /// The table's schema (for `inherit_schema=True`).
    schema: Option<&'i str>,
}

/// The PostgreSQL type of an enum: its named type, or `VARCHAR(longest value)` when it is not
/// native.
fn enum_sql_type(model_enum: &ModelEnum) -> SqlType {
    if model_enum.native {
        let qualified = match &model_enum.schema {
            Some(schema) => format!("{schema}.{}", model_enum.name),
            None => model_enum.name.clone(),
        };
        SqlType::from_sql_name(&qualified, Vec::new(), true)
    } else {
        let longest = model_enum
            .values
            .iter()
            .map(|v| u32::try_from(v.chars().count()).unwrap_or(u32::MAX))
            .max();
        SqlType::from_sql_name("varchar", longest.into_iter().collect(), false)
    }
}
