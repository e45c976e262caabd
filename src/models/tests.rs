//! Model extraction, dialect by dialect, on string fixtures.

use super::*;

fn run(files: &[(&str, &str)]) -> (Vec<ModelTable>, Vec<Warning>) {
    run_with(files, &ResolveOptions::default())
}

fn run_with(files: &[(&str, &str)], options: &ResolveOptions) -> (Vec<ModelTable>, Vec<Warning>) {
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|(path, text)| SourceFile::new(*path, *text))
        .collect();
    extract_all(&sources, options)
}

fn tables(files: &[(&str, &str)]) -> Vec<ModelTable> {
    let (tables, warnings) = run(files);
    assert!(warnings.is_empty(), "unexpected warnings: {warnings:#?}");
    tables
}

fn one(src: &str) -> Vec<ModelTable> {
    tables(&[("app/models.py", src)])
}

fn table<'t>(tables: &'t [ModelTable], name: &str) -> &'t ModelTable {
    match tables.iter().find(|t| t.name == name) {
        Some(t) => t,
        None => panic!("no table {name} in {tables:#?}"),
    }
}

fn col<'t>(table: &'t ModelTable, name: &str) -> &'t ModelColumn {
    match table.columns.iter().find(|c| c.name == name) {
        Some(c) => c,
        None => panic!("no column {name} in {table:#?}"),
    }
}

fn names(table: &ModelTable) -> Vec<&str> {
    table.columns.iter().map(|c| c.name.as_str()).collect()
}

fn table_names(tables: &[ModelTable]) -> Vec<String> {
    tables
        .iter()
        .map(|t| match &t.schema {
            Some(s) => format!("{s}.{}", t.name),
            None => t.name.clone(),
        })
        .collect()
}

fn sql(column: &ModelColumn) -> Option<String> {
    column.ty.as_ref().map(|t| t.to_sql())
}

const BASE_20: &str = "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\nclass Base(DeclarativeBase):\n    pass\n\n";

// ----- prefilter and per-file form ---------------------------------------------------------

#[test]
fn prefilter_finds_model_files_and_skips_others() {
    assert!(is_candidate(b"from sqlalchemy import Column\n"));
    assert!(is_candidate(b"import sqlmodel\n"));
    assert!(is_candidate(b"from flask_sqlalchemy import SQLAlchemy\n"));
    assert!(is_candidate(b"class A(db.Model):\n    pass\n"));
    assert!(is_candidate(b"    x: Mapped[int]\n"));
    assert!(is_candidate(b"t = Table('x', md)\n"));
    assert!(is_candidate(b"    __tablename__ = 'x'\n"));
    // Superset's abstract bases live in a file that names no SQLAlchemy symbol at all.
    assert!(is_candidate(
        b"from flask_appbuilder import Model\n\nclass CoreModel(Model):\n    __abstract__ = True\n"
    ));
    assert!(!is_candidate(b"import os\nprint('hello')\n"));
    assert!(!is_candidate(b""));
    assert!(!is_candidate(b"sqlalchem"));
}

#[test]
fn per_file_form_keeps_imports_classes_and_aliases() {
    let file = SourceFile::new(
        "apps/backend/src/db/models/core.py",
        "from ..base import Base\nfrom sqlalchemy import String\nimport sqlalchemy as sa\nfrom typing import Annotated\nstr50 = Annotated[str, mapped_column(String(50))]\nSCHEMA = 'core'\n\nclass Customer(Base):\n    __tablename__ = 'customers'\n    __table_args__ = (sa.UniqueConstraint('email'), {'schema': SCHEMA})\n    email: Mapped[str50]\n",
    );
    let models = extract_file(&file);
    assert_eq!(models.path, "apps/backend/src/db/models/core.py");
    assert_eq!(
        models.imports[0],
        ImportBinding {
            local: "Base".into(),
            target: "apps.backend.src.db.base.Base".into(),
            rooted: true,
        }
    );
    assert_eq!(models.imports[2].local, "sa");
    assert_eq!(models.imports[2].target, "sqlalchemy");
    assert_eq!(models.aliases[0].name, "str50");
    assert!(models.aliases[0].column.is_some());
    let class = &models.classes[0];
    assert_eq!(class.bases, vec!["Base".to_string()]);
    assert_eq!(
        class.tablename.as_ref().map(|t| &t.value),
        Some(&NameValue::Literal("customers".into()))
    );
    assert_eq!(
        class.table_args,
        Some(TableArgs::Schema(StrValue::Constant("SCHEMA".into())))
    );
    assert_eq!(class.attrs()[0].name, "email");
    assert!(models.warnings.is_empty());
    assert_eq!(
        module_of_path("apps/backend/src/db/models/__init__.py").as_deref(),
        Some("apps.backend.src.db.models")
    );
}

// ----- SQLAlchemy 2.0 declarative ----------------------------------------------------------

const HANDBOOK_CUSTOMER: &str = "from typing import Optional

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = \"customers\"
    __table_args__ = {\"schema\": \"core\"}

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_preference: Mapped[str] = mapped_column(String(20), nullable=True)
    ai_contact_ok: Mapped[bool] = mapped_column(Boolean, server_default=\"false\")
    flexibility_score: Mapped[int] = mapped_column(Integer, comment=\"0-10\")
    notes: Mapped[Optional[str]]
";

#[test]
fn handbook_customer_maps_core_customers() {
    let tables = one(HANDBOOK_CUSTOMER);
    assert_eq!(table_names(&tables), vec!["core.customers"]);
    let customers = &tables[0];
    assert_eq!(customers.class_name.as_deref(), Some("Customer"));
    assert_eq!(customers.location, Location::new("app/models.py", 11, 1));
    assert_eq!(
        names(customers),
        vec![
            "id",
            "contact_preference",
            "ai_contact_ok",
            "flexibility_score",
            "notes"
        ]
    );
    let id = col(customers, "id");
    assert!(id.primary_key);
    assert_eq!(id.nullable, Some(false));
    assert_eq!(sql(id).as_deref(), Some("INTEGER"));
    assert_eq!(id.type_text.as_deref(), Some("Mapped[int]"));

    let pref = col(customers, "contact_preference");
    assert_eq!(pref.nullable, Some(true), "explicit nullable wins");
    assert_eq!(sql(pref).as_deref(), Some("VARCHAR(20)"));
    assert_eq!(pref.type_text.as_deref(), Some("String(20)"));
    assert_eq!(pref.location, Location::new("app/models.py", 16, 5));
    assert_eq!(pref.attribute.as_deref(), Some("contact_preference"));

    let ok = col(customers, "ai_contact_ok");
    assert_eq!(ok.nullable, Some(false), "Mapped[bool] is NOT NULL");
    assert!(ok.server_default);
    assert_eq!(sql(ok).as_deref(), Some("BOOLEAN"));

    let score = col(customers, "flexibility_score");
    assert_eq!(score.comment(), Some("0-10"));
    assert_eq!(score.location.line, 18);

    let notes = col(customers, "notes");
    assert_eq!(notes.nullable, Some(true));
    assert_eq!(sql(notes).as_deref(), Some("VARCHAR"));
}

#[test]
fn column_name_override_in_mapped_column_and_column() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import Column, Float, Integer\n\nclass Booking(Base):\n    __tablename__ = 'bookings'\n    id = Column(Integer, primary_key=True)\n    venue_lat: Mapped[float] = mapped_column('venue_latitude', Float)\n    q = Column('quantity', Integer)\n    k = Column(Integer, name='kind')\n"
    ));
    let bookings = table(&tables, "bookings");
    assert_eq!(
        names(bookings),
        vec!["id", "venue_latitude", "quantity", "kind"]
    );
    let lat = col(bookings, "venue_latitude");
    assert_eq!(lat.attribute.as_deref(), Some("venue_lat"));
    assert_eq!(lat.nullable, Some(false));
    assert_eq!(sql(lat).as_deref(), Some("DOUBLE PRECISION"));
    let q = col(bookings, "quantity");
    assert_eq!(q.nullable, Some(true), "legacy Column defaults to nullable");
    assert_eq!(sql(q).as_deref(), Some("INTEGER"));
}

#[test]
fn legacy_columns_through_every_spelling() {
    let tables = one(
        "import sqlalchemy\nimport sqlalchemy as sa\nfrom sqlalchemy import Column, Integer\nfrom sqlalchemy.ext.declarative import declarative_base\n\nBase = declarative_base()\n\nclass Item(Base):\n    __tablename__ = 'items'\n    a = Column(Integer, primary_key=True)\n    b = sa.Column(sa.String(10), nullable=False)\n    c = sqlalchemy.Column(sqlalchemy.Text)\n    d = sa.Column(sa.Integer, sa.ForeignKey('core.customers.id', ondelete='CASCADE'))\n",
    );
    let items = table(&tables, "items");
    assert_eq!(names(items), vec!["a", "b", "c", "d"]);
    assert_eq!(col(items, "a").nullable, Some(false));
    assert_eq!(col(items, "b").nullable, Some(false));
    assert_eq!(sql(col(items, "b")).as_deref(), Some("VARCHAR(10)"));
    assert_eq!(col(items, "c").nullable, Some(true));
    assert_eq!(sql(col(items, "c")).as_deref(), Some("TEXT"));
    assert_eq!(col(items, "d").foreign_keys(), vec!["core.customers.id"]);
    assert_eq!(sql(col(items, "d")).as_deref(), Some("INTEGER"));
}

#[test]
fn nullability_rules() {
    let tables = one(&format!(
        "{BASE_20}from typing import Optional, Union\nfrom sqlalchemy import Column, String\n\nclass N(Base):\n    __tablename__ = 'n'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    a: Mapped[Optional[str]] = mapped_column(String(5))\n    b: Mapped[str | None] = mapped_column()\n    c: Mapped[Union[int, None]]\n    d: Mapped[str] = mapped_column(String)\n    e: Mapped[Optional[str]] = mapped_column(nullable=False)\n    f = mapped_column(String)\n    g = Column(String, nullable=False)\n    h = Column(String, nullable=SOME_FLAG)\n    i: Mapped[str] = Column(String)\n"
    ));
    let n = table(&tables, "n");
    let nullable: Vec<(&str, Option<bool>)> = n
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.nullable))
        .collect();
    assert_eq!(
        nullable,
        vec![
            ("id", Some(false)),
            ("a", Some(true)),
            ("b", Some(true)),
            ("c", Some(true)),
            ("d", Some(false)),
            ("e", Some(false)),
            ("f", Some(true)),
            ("g", Some(false)),
            ("h", None),
            ("i", Some(true)),
        ]
    );
}

#[test]
fn table_objects_with_schema_and_column_locations() {
    let src = "from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table\n\nmetadata = MetaData()\n\nassignments = Table(\n    'chef_assignments',\n    metadata,\n    Column('id', Integer, primary_key=True),\n    Column('chef_id', Integer, ForeignKey('ops.chefs.id'), nullable=False),\n    Column('note', String(200), comment='free text'),\n    schema='ops',\n)\n\nTable('audit', metadata, Column('id', Integer))\n";
    let tables = one(src);
    assert_eq!(table_names(&tables), vec!["ops.chef_assignments", "audit"]);
    let t = &tables[0];
    assert_eq!(t.class_name, None);
    assert_eq!(t.location, Location::new("app/models.py", 5, 15));
    assert_eq!(names(t), vec!["id", "chef_id", "note"]);
    let chef = col(t, "chef_id");
    assert_eq!(chef.location, Location::new("app/models.py", 9, 5));
    assert_eq!(chef.foreign_keys(), vec!["ops.chefs.id"]);
    assert_eq!(chef.nullable, Some(false));
    assert_eq!(chef.attribute, None);
    assert_eq!(col(t, "id").nullable, Some(false));
    assert_eq!(col(t, "note").comment(), Some("free text"));
    assert_eq!(tables[1].location, Location::new("app/models.py", 14, 1));
}

#[test]
fn table_schema_from_metadata_and_base_metadata() {
    let tables = one(
        "from sqlalchemy import Column, Integer, MetaData, Table\nfrom sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    metadata = MetaData(schema='core')\n\nops_md = MetaData(schema='ops')\n\nlinks = Table('links', Base.metadata, Column('id', Integer))\nrates = Table('rates', ops_md, Column('id', Integer))\n",
    );
    assert_eq!(table_names(&tables), vec!["core.links", "ops.rates"]);
}

#[test]
fn table_args_tuple_ending_in_dict() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import Index, UniqueConstraint\n\nclass Review(Base):\n    __tablename__ = 'reviews'\n    __table_args__ = (\n        UniqueConstraint('booking_id'),\n        Index('ix_reviews_rating', 'rating'),\n        {{'schema': 'core', 'comment': 'reviews'}},\n    )\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Plain(Base):\n    __tablename__ = 'plain'\n    __table_args__ = (UniqueConstraint('id'),)\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    ));
    assert_eq!(table_names(&tables), vec!["core.reviews", "plain"]);
}

#[test]
fn schema_and_table_name_from_module_constants() {
    let tables = tables(&[
        (
            "app/settings.py",
            "from sqlalchemy.orm import DeclarativeBase\nSCHEMA = 'identity'\nTABLE_ARGS = {'schema': 'identity'}\n\nclass Base(DeclarativeBase):\n    pass\n",
        ),
        (
            "app/users.py",
            "from app.settings import SCHEMA, TABLE_ARGS, Base\nfrom sqlalchemy.orm import Mapped, mapped_column\nUSERS = 'users'\n\nclass User(Base):\n    __tablename__ = USERS\n    __table_args__ = {'schema': SCHEMA}\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Role(Base):\n    __tablename__ = 'roles'\n    __table_args__ = TABLE_ARGS\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
        ),
    ]);
    assert_eq!(
        table_names(&tables),
        vec!["identity.users", "identity.roles"]
    );
}

#[test]
fn unreadable_table_name_or_schema_is_a_warning_not_a_guess() {
    let (tables, warnings) = run(&[(
        "app/models.py",
        &format!(
            "{BASE_20}from app.config import settings\n\nclass A(Base):\n    __tablename__ = make_name('a')\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass B(Base):\n    __tablename__ = 'b'\n    __table_args__ = {{'schema': settings.db_schema}}\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass C(Base):\n    __tablename__ = 'c'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        ),
    )]);
    assert_eq!(table_names(&tables), vec!["c"]);
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    let name = warnings
        .iter()
        .find(|w| w.message.contains("table name of class `A`"))
        .expect("a warning for A");
    assert!(name.message.contains("make_name(\"a\")"), "{name:?}");
    assert_eq!(name.location.as_ref().map(|l| l.line), Some(8));
    let schema = warnings
        .iter()
        .find(|w| w.message.contains("schema of table `b`"))
        .expect("a warning for b");
    assert_eq!(schema.location.as_ref().map(|l| l.line), Some(12));
}

// ----- what is not a column ----------------------------------------------------------------

#[test]
fn relationships_and_other_attributes_are_not_columns() {
    let tables = one(&format!(
        "{BASE_20}from typing import ClassVar, List, Optional\nfrom sqlalchemy import ForeignKey, select, func\nfrom sqlalchemy.orm import relationship, column_property, synonym, deferred, composite, query_expression, WriteOnlyMapped\nfrom sqlalchemy.ext.associationproxy import association_proxy\nfrom sqlalchemy.ext.hybrid import hybrid_property\nfrom sqlalchemy import Column, Integer, Text\n\nclass Customer(Base):\n    __tablename__ = 'customers'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    bookings: Mapped[List['Booking']] = relationship(back_populates='customer')\n    tags: Mapped[list['Tag']]\n    notes: WriteOnlyMapped['Note'] = relationship()\n    keywords = association_proxy('tags', 'name')\n    booking_count = column_property(select(func.count()).scalar_subquery())\n    name_alias = synonym('id')\n    bio = deferred(Column(Text))\n    point = composite(Point, 'x', 'y')\n    score = query_expression()\n    LIMIT: ClassVar[int] = 5\n    kind = 'customer'\n\n    @hybrid_property\n    def display(self):\n        return self.id\n\n    def method(self):\n        x = Column(Integer)\n        return x\n\n    class Meta:\n        ordering = Column(Integer)\n\nclass Booking(Base):\n    __tablename__ = 'bookings'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    customer_id: Mapped[int] = mapped_column(ForeignKey('customers.id'))\n    customer: Mapped['Customer'] = relationship(back_populates='bookings')\n    other: Mapped[Optional['Customer']]\n    same: Mapped[Customer]\n\nclass Tag(Base):\n    __tablename__ = 'tags'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    ));
    assert_eq!(names(table(&tables, "customers")), vec!["id", "bio"]);
    let bookings = table(&tables, "bookings");
    assert_eq!(names(bookings), vec!["id", "customer_id"]);
    assert_eq!(
        col(bookings, "customer_id").foreign_keys(),
        vec!["customers.id"]
    );
}

#[test]
fn columns_inside_functions_and_plain_classes_are_not_models() {
    let tables = one(
        "from sqlalchemy import Column, Integer, Table, MetaData\nfrom pydantic import BaseModel, Field\nfrom dataclasses import dataclass, field\n\ndef make_table(metadata):\n    return Table('dynamic', metadata, Column('id', Integer))\n\ndef test_fixture():\n    class Temp(Base):\n        __tablename__ = 'temp'\n        id = Column(Integer, primary_key=True)\n\nclass CustomerIn(BaseModel):\n    name: str = Field(max_length=20)\n    email: str\n\n@dataclass\nclass Point:\n    x: int = field(default=0)\n\nclass Helper:\n    id = Column(Integer)\n",
    );
    assert!(tables.is_empty(), "{tables:#?}");
}

// ----- mixins, abstract bases, imports across files ----------------------------------------

#[test]
fn mixins_across_files_with_relative_and_absolute_imports() {
    let tables = tables(&[
        (
            "apps/backend/src/db/base.py",
            "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n",
        ),
        (
            "apps/backend/src/db/mixins.py",
            "from datetime import datetime\nfrom sqlalchemy import DateTime, func\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass TimestampMixin:\n    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())\n    updated_at: Mapped[datetime | None]\n\nclass SoftDeleteMixin:\n    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))\n",
        ),
        (
            "apps/backend/src/db/models/core.py",
            "from ..base import Base\nfrom db.mixins import TimestampMixin, SoftDeleteMixin\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass Payment(TimestampMixin, SoftDeleteMixin, Base):\n    __tablename__ = 'payments'\n    __table_args__ = {'schema': 'core'}\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
        ),
    ]);
    assert_eq!(table_names(&tables), vec!["core.payments"]);
    let payments = &tables[0];
    assert_eq!(
        names(payments),
        vec!["created_at", "updated_at", "deleted_at", "id"]
    );
    let created = col(payments, "created_at");
    assert_eq!(&*created.location.path, "apps/backend/src/db/mixins.py");
    assert_eq!(created.location.line, 6);
    assert!(created.server_default);
    assert_eq!(created.nullable, Some(false));
    assert_eq!(sql(created).as_deref(), Some("TIMESTAMPTZ"));
    let updated = col(payments, "updated_at");
    assert_eq!(updated.nullable, Some(true));
    assert_eq!(sql(updated).as_deref(), Some("TIMESTAMP"));
}

#[test]
fn python_roots_and_unique_name_fallback_resolve_bases() {
    let files = [
        (
            "services/api/src/app/db/base_class.py",
            "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n",
        ),
        (
            "services/api/src/app/models/user.py",
            "from app.db.base_class import Base\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass User(Base):\n    __tablename__ = 'users'\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
        ),
        (
            "other/place.py",
            "from pkg.models import Base\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass Station(Base):\n    __tablename__ = 'stations'\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
        ),
    ];
    let options = ResolveOptions {
        python_roots: vec!["services/api/src".into()],
    };
    let (tables, warnings) = run_with(&files, &options);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(table_names(&tables), vec!["stations", "users"]);
}

#[test]
fn abstract_base_contributes_columns_and_is_not_a_table() {
    let tables = one(&format!(
        "{BASE_20}import uuid\nfrom sqlalchemy import Uuid\n\nclass BaseModel(Base):\n    __abstract__ = True\n    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)\n    version: Mapped[int] = mapped_column(default=1)\n\nclass Station(BaseModel):\n    __tablename__ = 'stations'\n    __table_args__ = {{'schema': 'identity'}}\n    name: Mapped[str]\n\nclass Override(BaseModel):\n    __tablename__ = 'overrides'\n    version = None\n"
    ));
    assert_eq!(table_names(&tables), vec!["identity.stations", "overrides"]);
    let stations = &tables[0];
    assert_eq!(names(stations), vec!["id", "version", "name"]);
    assert_eq!(sql(col(stations, "id")).as_deref(), Some("UUID"));
    assert_eq!(
        names(&tables[1]),
        vec!["id"],
        "`version = None` hides the column"
    );
}

#[test]
fn declared_attr_columns_and_tablename_on_mixins() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import Column, ForeignKey, Integer\nfrom sqlalchemy.orm import declared_attr\n\nclass TableNameMixin:\n    @declared_attr.directive\n    def __tablename__(cls) -> str:\n        return cls.__name__.lower()\n\nclass OwnedMixin:\n    @declared_attr\n    def owner_id(cls):\n        return Column(Integer, ForeignKey('identity.users.id'))\n\n    @declared_attr\n    def owner(cls):\n        return relationship('User')\n\nclass ChefLocation(TableNameMixin, OwnedMixin, Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Plural(Base):\n    @declared_attr\n    def __tablename__(cls):\n        return cls.__name__.lower() + 's'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    ));
    assert_eq!(table_names(&tables), vec!["cheflocation", "plurals"]);
    let chef = &tables[0];
    assert_eq!(names(chef), vec!["owner_id", "id"]);
    let owner = col(chef, "owner_id");
    assert_eq!(owner.foreign_keys(), vec!["identity.users.id"]);
    assert_eq!(owner.location.line, 16, "the `def` of the declared_attr");
}

#[test]
fn declared_tablename_from_a_camel_to_snake_regex_on_the_base() {
    // Prefect's `Base(DeclarativeBase)` names every table with a compiled regex.
    let tables = one(
        "import re\nimport sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column\n\nCAMEL_TO_SNAKE = re.compile(r'(?<!^)(?=[A-Z])')\n\nclass Base(DeclarativeBase):\n    @declared_attr.directive\n    def __tablename__(cls) -> str:\n        return CAMEL_TO_SNAKE.sub('_', cls.__name__).lower()\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass FlowRunState(Base):\n    name: Mapped[str]\n\nclass ConcurrencyLimitV2(Base):\n    slots: Mapped[int]\n",
    );
    assert_eq!(
        table_names(&tables),
        vec!["flow_run_state", "concurrency_limit_v2"]
    );
    assert_eq!(names(&tables[0]), vec!["id", "name"]);
}

#[test]
fn flask_appbuilder_model_through_an_abstract_base_in_another_package() {
    // Superset 6: `superset_core.common.models.Database(CoreModel)`, `CoreModel(Model)`
    // abstract, and the mapped class in `superset/models/core.py` deriving from it.
    let files = [
        (
            "superset_core/common/models.py",
            "from flask_appbuilder import Model\n\nclass CoreModel(Model):\n    __abstract__ = True\n\nclass Database(CoreModel):\n    __abstract__ = True\n    id: int\n",
        ),
        (
            "superset/models/core.py",
            "from sqlalchemy import Column, Integer, String\nfrom superset_core.common.models import Database as CoreDatabase\n\nclass Database(CoreDatabase):\n    __tablename__ = 'dbs'\n    id = Column(Integer, primary_key=True)\n    database_name = Column(String(250))\n",
        ),
    ];
    let (tables, warnings) = run_with(&files, &ResolveOptions::default());
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(table_names(&tables), vec!["dbs"]);
    assert_eq!(names(&tables[0]), vec!["id", "database_name"]);
}

#[test]
fn a_table_class_whose_abstract_ancestors_end_in_an_unread_base_is_mapped() {
    // Superset 6: `superset_core.common.models.Database(CoreModel)`, `CoreModel(Model)`
    // abstract, `Model` from Flask-AppBuilder (not read), and the mapped class in
    // `superset/models/core.py` deriving from the abstract one.
    let files = [
        (
            "superset_core/common/models.py",
            "from flask_appbuilder import Model\n\nclass CoreModel(Model):\n    __abstract__ = True\n\nclass Database(CoreModel):\n    __abstract__ = True\n    id: int\n",
        ),
        (
            "superset/models/core.py",
            "from sqlalchemy import Column, Integer, String\nfrom superset_core.common.models import Database as CoreDatabase\n\nclass Database(CoreDatabase):\n    __tablename__ = 'dbs'\n    id = Column(Integer, primary_key=True)\n    database_name = Column(String(250))\n\nclass A(B):\n    __tablename__ = 'a'\n\nclass B(A):\n    __tablename__ = 'b'\n",
        ),
    ];
    let (tables, _) = run_with(&files, &ResolveOptions::default());
    let dbs = table(&tables, "dbs");
    assert_eq!(names(dbs), vec!["id", "database_name"]);
}

#[test]
fn a_plain_annotation_in_an_earlier_base_does_not_hide_a_mixin_column() {
    // Superset's `SqlaTable(CoreDataset, BaseDatasource)`: the abstract `CoreDataset` only
    // annotates `default_endpoint: str | None`; the mixin maps it with `Column(Text)`.
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import Column, Integer, Text\n\nclass CoreDataset(Base):\n    __abstract__ = True\n    default_endpoint: str | None\n\nclass BaseDatasource:\n    id = Column(Integer, primary_key=True)\n    default_endpoint = Column(Text)\n\nclass SqlaTable(CoreDataset, BaseDatasource):\n    __tablename__ = 'tables'\n"
    ));
    assert_eq!(
        names(table(&tables, "tables")),
        vec!["id", "default_endpoint"]
    );
}

#[test]
fn declarative_base_with_cls_mixin_and_metadata_schema() {
    let tables = one(
        "from sqlalchemy import Column, Integer, MetaData\nfrom sqlalchemy.orm import declarative_base\n\nclass CommonBase:\n    id = Column(Integer, primary_key=True)\n\nBase = declarative_base(cls=CommonBase, metadata=MetaData(schema='crm'))\n\nclass Lead(Base):\n    __tablename__ = 'leads'\n    source = Column(Integer)\n",
    );
    assert_eq!(table_names(&tables), vec!["crm.leads"]);
    assert_eq!(names(&tables[0]), vec!["id", "source"]);
}

#[test]
fn declarative_base_body_columns_and_as_declarative() {
    let tables = one(
        "from sqlalchemy import Column, Integer\nfrom sqlalchemy.orm import as_declarative, declared_attr\n\n@as_declarative()\nclass Base:\n    id = Column(Integer, primary_key=True)\n\n    @declared_attr\n    def __tablename__(cls):\n        return cls.__name__.lower()\n\nclass Menu(Base):\n    price = Column(Integer)\n",
    );
    assert_eq!(table_names(&tables), vec!["menu"]);
    assert_eq!(names(&tables[0]), vec!["id", "price"]);
}

#[test]
fn metadata_schema_on_declarative_base_is_the_default() {
    let tables = tables(&[
        (
            "app/db/base.py",
            "from sqlalchemy import MetaData\nfrom sqlalchemy.orm import DeclarativeBase\n\nmetadata_obj = MetaData(schema='ai')\n\nclass Base(DeclarativeBase):\n    metadata = metadata_obj\n",
        ),
        (
            "app/db/models.py",
            "from app.db.base import Base\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass Conversation(Base):\n    __tablename__ = 'conversations'\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Public(Base):\n    __tablename__ = 'shared'\n    __table_args__ = {'schema': 'public'}\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
        ),
    ]);
    assert_eq!(
        table_names(&tables),
        vec!["ai.conversations", "public.shared"]
    );
}

// ----- computed names and schemas (issue 12) -------------------------------------------------

#[test]
fn issue_12_declared_tablename_from_a_lookahead_split_helper() {
    // A base in `database/core.py` names every table with a helper of the same file:
    // `re.split("(?=[A-Z])", name)`, lower-cased, joined with `_`.
    let files = [
        (
            "src/app/database/core.py",
            "import re\nfrom sqlalchemy.orm import DeclarativeBase, declared_attr\n\ndef resolve_table_name(name):\n    names = re.split(\"(?=[A-Z])\", name)  # noqa\n    return \"_\".join([x.lower() for x in names if x])\n\nclass Base(DeclarativeBase):\n    @declared_attr.directive\n    def __tablename__(cls):\n        return resolve_table_name(cls.__name__)\n",
        ),
        (
            "src/app/case/models.py",
            "from sqlalchemy import Column, Integer, String\nfrom app.database.core import Base\n\nclass CaseCostType(Base):\n    id = Column(Integer, primary_key=True)\n    name = Column(String)\n\nclass DispatchUser(Base):\n    __table_args__ = {'schema': 'app_core'}\n    id = Column(Integer, primary_key=True)\n",
        ),
    ];
    let (tables, warnings) = run(&files);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(
        table_names(&tables),
        vec!["case_cost_type", "app_core.dispatch_user"]
    );
    assert_eq!(names(&tables[0]), vec!["id", "name"]);
}

#[test]
fn issue_12_table_args_merged_by_a_helper_keep_their_schema() {
    // `auto_table_args(cls, schema=…)` merges the `__auto_table_args` of the class and its
    // mixins (found with `dir(cls)`) and then its keywords.
    let util = "def auto_table_args(cls, **extra_kwargs):\n    posargs = []\n    kwargs = {}\n    for attr in dir(cls):\n        if not attr.endswith('__auto_table_args'):\n            continue\n        value = getattr(cls, attr)\n        if not value:\n            continue\n        if isinstance(value, dict):\n            kwargs.update(value)\n        elif isinstance(value, tuple):\n            if isinstance(value[-1], dict):\n                posargs.extend(value[:-1])\n                kwargs.update(value[-1])\n            else:\n                posargs.extend(value)\n        else:\n            raise TypeError(f'Unexpected tableargs: {value}')\n    kwargs.update(extra_kwargs)\n    if posargs and kwargs:\n        return (*posargs, kwargs)\n    elif kwargs:\n        return kwargs\n    else:\n        return tuple(posargs)\n";
    let models = "from sqlalchemy import Column, Integer, Index\nfrom sqlalchemy.orm import declarative_base, declared_attr\nfrom pkg.db.util import auto_table_args\n\nBase = declarative_base()\n\nclass Room(Base):\n    __tablename__ = 'rooms'\n\n    @declared_attr\n    def __table_args__(cls):\n        return auto_table_args(cls, schema='roombooking')\n\n    id = Column(Integer, primary_key=True)\n\nclass PersonLinkMixin:\n    __auto_table_args = {'schema': 'events'}\n\nclass SessionPerson(PersonLinkMixin, Base):\n    __tablename__ = 'session_person_links'\n    __auto_table_args = (Index(None, 'person_id'),)\n\n    @declared_attr\n    def __table_args__(cls):\n        return auto_table_args(cls)\n\n    id = Column(Integer, primary_key=True)\n\nclass Plain(Base):\n    __tablename__ = 'plain'\n\n    @declared_attr\n    def __table_args__(cls):\n        return auto_table_args(cls)\n\n    id = Column(Integer, primary_key=True)\n";
    let (tables, warnings) = run(&[("pkg/db/util.py", util), ("pkg/rb/models.py", models)]);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(
        table_names(&tables),
        vec!["roombooking.rooms", "events.session_person_links", "plain"]
    );
}

#[test]
fn issue_12_names_and_schemas_from_fstrings_settings_and_helper_modules() {
    // The helper module is not a model file: its summary comes from the caller.
    let helper = crate::pyeval::ModuleSummary::new(
        "app/core/naming.py",
        &crate::pyast::parse(&SourceFile::new(
            "app/core/naming.py",
            "PREFIX = 'shop'\nSCHEMA = 'sales'\n\ndef prefixed(name):\n    return f'{PREFIX}_{name.lower()}'\n",
        )),
    );
    let models = SourceFile::new(
        "app/models.py",
        format!(
            "{BASE_20}from app.core.naming import PREFIX, SCHEMA, prefixed\n\nclass Order(Base):\n    __tablename__ = f'{{PREFIX}}_orders'\n    __table_args__ = {{'schema': SCHEMA}}\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Line(Base):\n    __tablename__ = prefixed('Lines')\n    __table_args__ = {{'schema': SCHEMA.upper().lower() + '_x'}}\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        ),
    );
    let files = [extract_file(&models)];
    let (tables, warnings) = resolve_with_modules(
        &files.iter().collect::<Vec<_>>(),
        &[helper],
        &ResolveOptions::default(),
    );
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(
        table_names(&tables),
        vec!["sales.shop_orders", "sales_x.shop_lines"]
    );
    // Without the helper module nothing is guessed.
    let (tables, warnings) = resolve(&files, &ResolveOptions::default());
    assert!(tables.is_empty(), "{tables:#?}");
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
}

#[test]
fn issue_12_what_stays_unknown_keeps_its_warning() {
    let (tables, warnings) = run(&[(
        "app/models.py",
        &format!(
            "{BASE_20}import os\nfrom sqlalchemy.orm import declared_attr\nfrom somelib import make_args\n\nclass Env(Base):\n    @declared_attr.directive\n    def __tablename__(cls):\n        return os.environ['PREFIX'] + cls.__name__.lower()\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Args(Base):\n    __tablename__ = 'args'\n    __table_args__ = make_args(schema_from_env=True)\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Either(Base):\n    __tablename__ = 'either'\n\n    @declared_attr\n    def __table_args__(cls):\n        if os.environ.get('X'):\n            return {{'schema': 'a'}}\n        return {{'schema': 'b'}}\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        ),
    )]);
    assert!(tables.is_empty(), "{tables:#?}");
    let messages: Vec<&str> = warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("table name of class `Env`"))
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("schema of table `args` (`make_args(schema_from_env=True)`)"))
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("schema of table `either`"))
    );
}

#[test]
fn issue_12_sqlmodel_metadata_schema_and_quoted_mapped_annotations() {
    let tables = tables(&[
        (
            "app/db.py",
            "from sqlmodel import SQLModel\nfrom sqlalchemy import MetaData\n\nSQLModel.metadata.schema = 'app'\nmeta = MetaData()\nmeta.schema = 'legacy'\n",
        ),
        (
            "app/models.py",
            "from typing import Optional\nfrom sqlmodel import SQLModel, Field\nfrom sqlalchemy import Table, Column, Integer\nfrom sqlalchemy.orm import Mapped, mapped_column, DeclarativeBase\nfrom app.db import meta\n\nclass Hero(SQLModel, table=True):\n    id: Optional[int] = Field(default=None, primary_key=True)\n    name: str\n\nold = Table('old', meta, Column('id', Integer, primary_key=True))\n\nclass Base(DeclarativeBase):\n    pass\n\nclass Note(Base):\n    __tablename__ = 'notes'\n    id: \"Mapped[int]\" = mapped_column(primary_key=True)\n    body: \"Mapped[Optional[str]]\"\n",
        ),
    ]);
    assert_eq!(
        table_names(&tables),
        vec!["app.hero", "legacy.old", "notes"]
    );
    let notes = table(&tables, "notes");
    assert_eq!(names(notes), vec!["id", "body"]);
    assert_eq!(col(notes, "body").nullable, Some(true));
}

// ----- library bases (issue 12) ----------------------------------------------------------------

#[test]
fn issue_12_fastapi_users_base_tables_come_from_the_library() {
    let (tables, warnings) = run(&[(
        "app/db.py",
        &format!(
            "{BASE_20}from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyBaseOAuthAccountTableUUID\nfrom fastapi_users_db_sqlalchemy.access_token import SQLAlchemyBaseAccessTokenTableUUID\n\nclass User(SQLAlchemyBaseUserTableUUID, Base):\n    nickname: Mapped[str]\n\nclass OAuthAccount(SQLAlchemyBaseOAuthAccountTableUUID, Base):\n    pass\n\nclass AccessToken(SQLAlchemyBaseAccessTokenTableUUID, Base):\n    pass\n"
        ),
    )]);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(
        table_names(&tables),
        vec!["user", "oauth_account", "accesstoken"]
    );
    let user = table(&tables, "user");
    assert_eq!(
        names(user),
        vec![
            "email",
            "hashed_password",
            "is_active",
            "is_superuser",
            "is_verified",
            "id",
            "nickname"
        ]
    );
    // A library column points at the project's class.
    assert_eq!(col(user, "email").location, user.location);
    assert_eq!(sql(col(user, "id")).as_deref(), Some("UUID"));
    let oauth = table(&tables, "oauth_account");
    assert_eq!(col(oauth, "user_id").foreign_keys(), vec!["user.id"]);
    let token = table(&tables, "accesstoken");
    assert_eq!(
        sql(col(token, "created_at")).as_deref(),
        Some("TIMESTAMPTZ")
    );
}

#[test]
fn issue_12_flask_appbuilder_models_and_the_extended_user() {
    let (tables, warnings) = run(&[(
        "app/models.py",
        "from flask_appbuilder import Model\nfrom flask_appbuilder.security.sqla.models import User\nfrom sqlalchemy import Column, Integer, String\n\nclass MyUser(User):\n    __tablename__ = 'ab_user'\n    extra = Column(String(256))\n\nclass Contact(Model):\n    __tablename__ = 'contact'\n    id = Column(Integer, primary_key=True)\n",
    )]);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(table_names(&tables), vec!["ab_user", "contact"]);
    let user = table(&tables, "ab_user");
    assert!(names(user).starts_with(&["id", "first_name", "last_name", "username"]));
    assert_eq!(names(user).last(), Some(&"extra"));
    assert_eq!(names(user).len(), 15);
}

#[test]
fn issue_12_library_mixins_without_columns_and_unknown_bases() {
    let (tables, warnings) = run(&[(
        "app/models.py",
        "from flask_sqlalchemy import SQLAlchemy\nfrom flask_login import UserMixin\nfrom flask_security import RoleMixin\nfrom sqlalchemy_utils import Timestamp, UUIDType\nfrom acme_auth.models import AuditMixin\n\ndb = SQLAlchemy()\n\nclass User(UserMixin, Timestamp, db.Model):\n    id = db.Column(UUIDType, primary_key=True)\n\nclass Role(RoleMixin, db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n\nclass Audit(AuditMixin, db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n",
    )]);
    assert_eq!(table_names(&tables), vec!["user", "role", "audit"]);
    assert_eq!(names(&tables[0]), vec!["created", "updated", "id"]);
    assert_eq!(col(&tables[0], "created").nullable, Some(false));
    let [warning] = warnings.as_slice() else {
        panic!("one warning: {warnings:#?}")
    };
    assert!(
        warning
            .message
            .starts_with("class `Audit` derives from `AuditMixin`, which driftguard cannot read"),
        "{warning:?}"
    );
}

#[test]
fn issue_12_a_model_class_for_flask_sqlalchemy_is_not_a_table() {
    let tables = tables(&[
        (
            "pkg/core/db.py",
            "from flask_sqlalchemy import SQLAlchemy\nfrom flask_sqlalchemy.model import Model\n\nclass PkgModel(Model):\n    allow_preloading = False\n\n    @classmethod\n    def get(cls, oid):\n        return cls.query.get(oid)\n\ndb = SQLAlchemy(model_class=PkgModel)\n",
        ),
        (
            "pkg/users/models.py",
            "from pkg.core.db import db\n\nclass User(db.Model):\n    __tablename__ = 'users'\n    id = db.Column(db.Integer, primary_key=True)\n",
        ),
    ]);
    assert_eq!(table_names(&tables), vec!["users"]);
}

#[test]
fn issue_12_a_vendored_copy_of_a_library_wins() {
    let files = [
        (
            "vendor/fastapi_users_db_sqlalchemy/__init__.py",
            "from sqlalchemy.orm import Mapped, mapped_column\n\nclass SQLAlchemyBaseUserTableUUID:\n    __tablename__ = 'members'\n    handle: Mapped[str] = mapped_column()\n",
        ),
        (
            "app/db.py",
            &format!(
                "{BASE_20}from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID\n\nclass User(SQLAlchemyBaseUserTableUUID, Base):\n    pass\n"
            ),
        ),
    ];
    let options = ResolveOptions {
        python_roots: vec!["vendor".into()],
    };
    let (tables, warnings) = run_with(&files, &options);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(table_names(&tables), vec!["members"]);
    assert_eq!(names(&tables[0]), vec!["handle"]);
}

// ----- inheritance ---------------------------------------------------------------------------

#[test]
fn single_table_inheritance_adds_columns_to_the_parent_table() {
    let tables = one(&format!(
        "{BASE_20}from typing import Optional\n\nclass Employee(Base):\n    __tablename__ = 'employees'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    type: Mapped[str]\n    __mapper_args__ = {{'polymorphic_on': 'type', 'polymorphic_identity': 'employee'}}\n\nclass Manager(Employee):\n    manager_data: Mapped[Optional[str]]\n    __mapper_args__ = {{'polymorphic_identity': 'manager'}}\n\nclass Engineer(Employee):\n    engineer_info: Mapped[Optional[str]]\n    shared: Mapped[Optional[int]] = mapped_column(use_existing_column=True)\n\nclass Chef(Employee):\n    shared: Mapped[Optional[int]] = mapped_column(use_existing_column=True)\n\nclass Intern(Employee):\n    __tablename__ = None\n    school: Mapped[Optional[str]]\n"
    ));
    assert_eq!(table_names(&tables), vec!["employees"]);
    let employees = &tables[0];
    assert_eq!(
        names(employees),
        vec![
            "id",
            "type",
            "manager_data",
            "engineer_info",
            "shared",
            "school"
        ]
    );
    assert_eq!(col(employees, "manager_data").location.line, 15);
}

#[test]
fn joined_table_inheritance_gives_the_subclass_its_own_columns_only() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import ForeignKey\n\nclass Person(Base):\n    __tablename__ = 'people'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str]\n\nclass Chef(Person):\n    __tablename__ = 'chefs'\n    __table_args__ = {{'schema': 'ops'}}\n    id: Mapped[int] = mapped_column(ForeignKey('people.id'), primary_key=True)\n    specialty: Mapped[str | None]\n"
    ));
    assert_eq!(table_names(&tables), vec!["people", "ops.chefs"]);
    assert_eq!(names(&tables[0]), vec!["id", "name"]);
    assert_eq!(names(&tables[1]), vec!["id", "specialty"]);
    assert_eq!(col(&tables[1], "id").foreign_keys(), vec!["people.id"]);
}

#[test]
fn mixin_columns_of_a_mapped_parent_stay_on_the_parent() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import ForeignKey\n\nclass Audit:\n    created_by: Mapped[str | None]\n\nclass Document(Audit, Base):\n    __tablename__ = 'documents'\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Invoice(Document):\n    __tablename__ = 'invoices'\n    id: Mapped[int] = mapped_column(ForeignKey('documents.id'), primary_key=True)\n    total: Mapped[int]\n"
    ));
    assert_eq!(names(table(&tables, "documents")), vec!["created_by", "id"]);
    assert_eq!(names(table(&tables, "invoices")), vec!["id", "total"]);
}

#[test]
fn declared_attr_tablename_with_has_inherited_table_means_single_table() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy.orm import declared_attr, has_inherited_table\n\nclass Tablename:\n    @declared_attr.directive\n    def __tablename__(cls):\n        if has_inherited_table(cls):\n            return None\n        return cls.__name__.lower()\n\nclass Vehicle(Tablename, Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Truck(Vehicle):\n    payload: Mapped[int | None]\n"
    ));
    assert_eq!(table_names(&tables), vec!["vehicle"]);
    assert_eq!(names(&tables[0]), vec!["id", "payload"]);
}

#[test]
fn declared_attr_tablename_on_base_gives_subclasses_their_own_tables() {
    let tables = one(
        "from sqlalchemy import ForeignKey\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column\n\nclass Base(DeclarativeBase):\n    @declared_attr.directive\n    def __tablename__(cls) -> str:\n        return cls.__name__.lower()\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Animal(Base):\n    name: Mapped[str]\n\nclass Dog(Animal):\n    id: Mapped[int] = mapped_column(ForeignKey('animal.id'), primary_key=True)\n    breed: Mapped[str]\n",
    );
    assert_eq!(table_names(&tables), vec!["animal", "dog"]);
    assert_eq!(names(&tables[0]), vec!["id", "name"]);
    assert_eq!(names(&tables[1]), vec!["id", "breed"]);
}

// ----- Flask-SQLAlchemy ----------------------------------------------------------------------

#[test]
fn flask_models_get_implicit_snake_case_names() {
    let tables = tables(&[
        (
            "app/extensions.py",
            "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
        ),
        (
            "app/models.py",
            "from app.extensions import db\n\nclass UserProfile(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    bio = db.Column(db.Text, nullable=False)\n\nclass HTTPRequestLog(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n\nclass Named(db.Model):\n    __tablename__ = 'explicit_name'\n    id = db.Column(db.Integer, primary_key=True)\n\ntags = db.Table(\n    'tags',\n    db.Column('profile_id', db.Integer, db.ForeignKey('user_profile.id')),\n)\n",
        ),
    ]);
    assert_eq!(
        table_names(&tables),
        vec!["user_profile", "http_request_log", "explicit_name", "tags"]
    );
    let profile = &tables[0];
    assert_eq!(names(profile), vec!["id", "bio"]);
    assert_eq!(col(profile, "bio").nullable, Some(false));
    assert_eq!(sql(col(profile, "bio")).as_deref(), Some("TEXT"));
    assert_eq!(
        col(&tables[3], "profile_id").foreign_keys(),
        vec!["user_profile.id"]
    );
}

#[test]
fn flask_inheritance_without_primary_key_is_single_table() {
    let tables = one(
        "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n\nclass Employee(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    type = db.Column(db.String(20))\n\nclass Manager(Employee):\n    reports = db.Column(db.Integer)\n\nclass Engineer(Employee):\n    id = db.Column(db.Integer, db.ForeignKey('employee.id'), primary_key=True)\n    language = db.Column(db.String(30))\n",
    );
    assert_eq!(table_names(&tables), vec!["employee", "engineer"]);
    assert_eq!(names(&tables[0]), vec!["id", "type", "reports"]);
    assert_eq!(names(&tables[1]), vec!["id", "language"]);
}

#[test]
fn flask_metadata_schema_and_model_alias() {
    let tables = one(
        "from flask_sqlalchemy import SQLAlchemy\nfrom sqlalchemy import MetaData\n\ndb = SQLAlchemy(metadata=MetaData(schema='newsletter'))\nModel = db.Model\n\nclass Subscriber(Model):\n    id = db.Column(db.Integer, primary_key=True)\n\nlists = db.Table('subscriber_lists', db.Column('subscriber_id', db.Integer))\n",
    );
    assert_eq!(
        table_names(&tables),
        vec!["newsletter.subscriber", "newsletter.subscriber_lists"]
    );
}

// ----- SQLModel ------------------------------------------------------------------------------

#[test]
fn issue_12_a_sqlmodel_field_a_project_helper_builds_has_the_helpers_nullability() {
    // ZenML: `model_version_id: UUID = build_foreign_key_field(…, nullable=True)`. The column
    // is mapped; whether it may be NULL is the helper's to say, not the bare annotation's.
    let tables = one(
        "from uuid import UUID\nfrom sqlmodel import Field, SQLModel\nfrom app.utils import build_foreign_key_field\n\nclass Run(SQLModel, table=True):\n    id: UUID = Field(primary_key=True)\n    name: str\n    model_version_id: UUID = build_foreign_key_field(source='run', target='model_version', nullable=True)\n",
    );
    let run = &tables[0];
    assert_eq!(names(run), vec!["id", "name", "model_version_id"]);
    assert_eq!(col(run, "name").nullable, Some(false));
    assert_eq!(col(run, "model_version_id").nullable, None);
}

#[test]
fn sqlmodel_table_classes_and_fields() {
    let tables = one(
        "from typing import ClassVar, List, Optional\nfrom sqlmodel import Field, Relationship, SQLModel, Column, String\nfrom sqlalchemy import DateTime, text\nfrom datetime import datetime\n\nclass HeroBase(SQLModel):\n    name: str = Field(index=True, max_length=50)\n    secret_name: str\n    age: Optional[int] = Field(default=None)\n\nclass Team(SQLModel, table=True):\n    id: Optional[int] = Field(default=None, primary_key=True)\n    name: str\n    heroes: List['Hero'] = Relationship(back_populates='team')\n\nclass Hero(HeroBase, table=True):\n    __tablename__ = 'heroes'\n    id: Optional[int] = Field(default=None, primary_key=True)\n    team_id: Optional[int] = Field(default=None, foreign_key='team.id')\n    team: Optional[Team] = Relationship(back_populates='heroes')\n    created: datetime = Field(sa_column=Column(DateTime(timezone=True), server_default=text('now()'), nullable=False))\n    nick: str = Field(sa_type=String(30), nullable=True)\n    counter: ClassVar[int] = 0\n    _private: int = 0\n\nclass HeroRead(HeroBase):\n    id: int\n",
    );
    assert_eq!(table_names(&tables), vec!["team", "heroes"]);
    let team = &tables[0];
    assert_eq!(names(team), vec!["id", "name"]);
    assert_eq!(col(team, "id").nullable, Some(false));
    assert!(col(team, "id").primary_key);
    let hero = &tables[1];
    assert_eq!(
        names(hero),
        vec![
            "name",
            "secret_name",
            "age",
            "id",
            "team_id",
            "created",
            "nick"
        ]
    );
    assert_eq!(sql(col(hero, "name")).as_deref(), Some("VARCHAR(50)"));
    assert_eq!(col(hero, "name").nullable, Some(false));
    assert_eq!(col(hero, "age").nullable, Some(true));
    assert_eq!(col(hero, "team_id").foreign_keys(), vec!["team.id"]);
    let created = col(hero, "created");
    assert!(created.server_default);
    assert_eq!(created.nullable, Some(false));
    assert_eq!(sql(created).as_deref(), Some("TIMESTAMPTZ"));
    assert_eq!(sql(col(hero, "nick")).as_deref(), Some("VARCHAR(30)"));
    assert_eq!(col(hero, "nick").nullable, Some(true));
}

// ----- Annotated aliases, registries, imperative mapping -------------------------------------

#[test]
fn annotated_aliases_across_files() {
    let tables = tables(&[
        (
            "app/types.py",
            "from typing import Annotated, Optional\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import mapped_column\n\nintpk = Annotated[int, mapped_column(primary_key=True)]\nstr50 = Annotated[str, mapped_column(String(50))]\nopt_text = Annotated[Optional[str], mapped_column(String(200), comment='optional')]\nrequired_name = Annotated[str, mapped_column(String(80), nullable=False)]\n",
        ),
        (
            "app/models.py",
            &format!(
                "{BASE_20}from typing import Optional\nfrom app.types import intpk, str50, opt_text, required_name\n\nclass Menu(Base):\n    __tablename__ = 'menu_items'\n    id: Mapped[intpk]\n    name: Mapped[str50]\n    label: Mapped[Optional[str50]]\n    blurb: Mapped[opt_text]\n    title: Mapped[Optional[required_name]]\n    short: Mapped[str50] = mapped_column(String(10))\n"
            ),
        ),
    ]);
    let menu = table(&tables, "menu_items");
    assert_eq!(
        names(menu),
        vec!["id", "name", "label", "blurb", "title", "short"]
    );
    let id = col(menu, "id");
    assert!(id.primary_key);
    assert_eq!(id.nullable, Some(false));
    assert_eq!(sql(id).as_deref(), Some("INTEGER"));
    assert_eq!(sql(col(menu, "name")).as_deref(), Some("VARCHAR(50)"));
    assert_eq!(col(menu, "name").nullable, Some(false));
    assert_eq!(col(menu, "label").nullable, Some(true));
    assert_eq!(col(menu, "blurb").nullable, Some(true));
    assert_eq!(col(menu, "blurb").comment(), Some("optional"));
    assert_eq!(
        col(menu, "title").nullable,
        Some(false),
        "alias nullable wins"
    );
    assert_eq!(sql(col(menu, "short")).as_deref(), Some("VARCHAR(10)"));
}

#[test]
fn registry_mapped_decorator_and_imperative_tables_count_once() {
    let tables = one(
        "from sqlalchemy import Column, Integer, MetaData, String, Table\nfrom sqlalchemy.orm import Mapped, mapped_column, registry\n\nmapper_registry = registry(metadata=MetaData(schema='security'))\n\n@mapper_registry.mapped\nclass ApiKey:\n    __tablename__ = 'api_keys'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    key: Mapped[str] = mapped_column(String(64))\n\nclass User:\n    pass\n\nuser_table = Table('users', mapper_registry.metadata, Column('id', Integer, primary_key=True))\nmapper_registry.map_imperatively(User, user_table)\n\nBase = mapper_registry.generate_base()\n\nclass Session(Base):\n    __tablename__ = 'sessions'\n    id = Column(Integer, primary_key=True)\n\nclass UserView(Base):\n    __table__ = user_table\n",
    );
    assert_eq!(
        table_names(&tables),
        vec!["security.api_keys", "security.users", "security.sessions"]
    );
    assert_eq!(names(&tables[0]), vec!["id", "key"]);
}

#[test]
fn class_with_inline_table_attribute() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import Column, Integer, Table\n\nclass Legacy(Base):\n    __table__ = Table('legacy', Base.metadata, Column('id', Integer, primary_key=True), Column('v', Integer), schema='ops')\n"
    ));
    assert_eq!(table_names(&tables), vec!["ops.legacy"]);
    assert_eq!(tables[0].class_name.as_deref(), Some("Legacy"));
    assert_eq!(tables[0].location.line, 8);
    assert_eq!(names(&tables[0]), vec!["id", "v"]);
}

// ----- enums ---------------------------------------------------------------------------------

#[test]
fn enums_with_names_schemas_values_and_non_native() {
    let tables = tables(&[
        (
            "app/enums.py",
            "import enum\n\nclass BookingStatus(str, enum.Enum):\n    PENDING = 'pending'\n    CONFIRMED = 'confirmed'\n    CANCELLED = 'cancelled'\n\nclass Channel(enum.Enum):\n    EMAIL = 1\n    SMS = 2\n",
        ),
        (
            "app/models.py",
            &format!(
                "{BASE_20}from sqlalchemy import Enum\nfrom sqlalchemy import Enum as SAEnum\nfrom app.enums import BookingStatus, Channel\n\nclass Booking(Base):\n    __tablename__ = 'bookings'\n    __table_args__ = {{'schema': 'core'}}\n    id: Mapped[int] = mapped_column(primary_key=True)\n    status: Mapped[BookingStatus] = mapped_column(Enum(BookingStatus, name='booking_status', schema='core', values_callable=lambda e: [m.value for m in e]))\n    channel: Mapped[Channel] = mapped_column(SAEnum(Channel, native_enum=False))\n    implicit: Mapped[BookingStatus]\n    inherited = mapped_column(Enum(BookingStatus, name='status2', inherit_schema=True))\n    literal = mapped_column(Enum('a', 'bb', name='letters'))\n"
            ),
        ),
    ]);
    let booking = table(&tables, "bookings");
    let status = col(booking, "status");
    let status_enum = status.enum_type().expect("an enum");
    assert_eq!(status_enum.name, "booking_status");
    assert_eq!(status_enum.schema.as_deref(), Some("core"));
    assert_eq!(
        status_enum.values,
        vec!["pending", "confirmed", "cancelled"]
    );
    assert!(status_enum.native);
    assert_eq!(
        status_enum.location,
        Some(Location::new("app/enums.py", 3, 1))
    );
    assert_eq!(
        status.ty.as_ref().map(|t| &*t.name),
        Some("core.booking_status")
    );
    assert_eq!(status.nullable, Some(false));

    let channel = col(booking, "channel");
    let channel_enum = channel.enum_type().expect("an enum");
    assert_eq!(channel_enum.name, "channel");
    assert!(!channel_enum.native);
    assert_eq!(channel_enum.values, vec!["EMAIL", "SMS"]);
    assert_eq!(sql(channel).as_deref(), Some("VARCHAR(5)"));

    let implicit = col(booking, "implicit");
    let implicit_enum = implicit.enum_type().expect("an inferred enum");
    assert_eq!(implicit_enum.name, "bookingstatus");
    assert_eq!(
        implicit_enum.values,
        vec!["PENDING", "CONFIRMED", "CANCELLED"]
    );
    assert_eq!(implicit_enum.schema, None);

    let inherited = col(booking, "inherited");
    assert_eq!(
        inherited.enum_type().and_then(|e| e.schema.as_deref()),
        Some("core")
    );
    let literal = col(booking, "literal");
    assert_eq!(
        literal.enum_type().map(|e| e.values.clone()),
        Some(vec!["a".to_string(), "bb".to_string()])
    );
}

#[test]
fn enum_classes_are_recorded_per_file() {
    let models = extract_file(&SourceFile::new(
        "app/enums.py",
        "from enum import Enum, StrEnum, auto\nfrom enum import Enum as PyEnum\n\nclass Role(StrEnum):\n    ADMIN = auto()\n    STAFF = auto()\n    _ignore_ = ['x']\n\n    def label(self):\n        return self.value\n\nclass Level(PyEnum):\n    LOW = 1\n    HIGH = 2\n\nclass NotAnEnum:\n    A = 1\n",
    ));
    let role = &models.classes[0];
    let members = role.enum_members.as_ref().expect("Role is an enum");
    assert_eq!(
        members.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        vec!["ADMIN", "STAFF"]
    );
    assert_eq!(members[0].value, EnumValue::Auto);
    assert!(models.classes[1].enum_members.is_some());
    assert!(models.classes[2].enum_members.is_none());
}

// ----- robustness ----------------------------------------------------------------------------

#[test]
fn syntax_error_file_keeps_the_tables_it_can_read_and_warns_once() {
    let src = format!(
        "{BASE_20}class Broken(Base):\n    __tablename__ = 'broken'\n    x = mapped_column(Integer\n\nclass Fine(Base):\n    __tablename__ = 'fine'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    name: Mapped[str]\n"
    );
    let (tables, warnings) = run(&[("app/models.py", &src)]);
    assert!(
        table_names(&tables).contains(&"fine".to_string()),
        "{tables:#?}"
    );
    assert_eq!(names(table(&tables, "fine")), vec!["id", "name"]);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(
        warnings[0].message,
        "Python syntax error: `(` is never closed; the rest of this file is still checked"
    );
    // At the bracket, as CPython says: `mapped_column(` on the class's third line.
    let at = warnings[0].location.as_ref().expect("a location");
    assert_eq!(&*at.path, "app/models.py");
    assert_eq!((at.line, at.column), (8, 22), "{src}");
}

#[test]
fn a_syntax_error_that_is_not_a_bracket_keeps_the_generic_message_at_its_place() {
    let src = format!(
        "{BASE_20}class Fine(Base):\n    __tablename__ = 'fine'\n    id: Mapped[int] = = mapped_column(primary_key=True)\n    name: Mapped[str]\n"
    );
    let (tables, warnings) = run(&[("app/models.py", &src)]);
    // tree-sitter skips the second `=` and reads the rest of the line.
    assert_eq!(names(table(&tables, "fine")), vec!["id", "name"]);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(warnings[0].message, SYNTAX_ERROR_MESSAGE);
    let at = warnings[0].location.as_ref().expect("a location");
    assert_eq!((at.line, at.column), (8, 23));
}

#[test]
fn odd_inputs_do_not_crash() {
    let inputs = [
        "",
        "class",
        "class A(A):\n    __tablename__ = 'a'\n    id = Column(Integer)\n",
        "class A(B):\n    pass\nclass B(A):\n    __tablename__ = 'b'\n",
        "from ....... import x\nfrom . import *\n",
        "Base = Base\nclass X(Base):\n    __tablename__ = 'x'\n",
        "x = Table()\ny = Table(1, 2)\nz = Column()\n",
        "class E(Enum):\n    A = lambda: 1\n",
        "@declared_attr\ndef __tablename__(cls):\n    return\n",
        "revision = 'abc'\ndown_revision = None\ndef upgrade():\n    op.add_column('t', sa.Column('c', sa.Integer()))\n",
        "\u{feff}class Ü(Base):\n    __tablename__ = 'ü'\n    ñ = Column('ñ', Integer)\n",
    ];
    for src in inputs {
        let _ = run(&[("m.py", src), ("pkg/__init__.py", src)]);
    }
}

#[test]
fn unresolvable_base_with_tablename_is_taken_for_a_model() {
    // `Base` lives in a file that was not read (no SQLAlchemy name in it, say).
    let (tables, warnings) = run(&[(
        "app/models.py",
        "from app.database import Base\nfrom sqlalchemy import Column, Integer\nfrom pydantic import BaseModel\n\nclass Station(Base):\n    __tablename__ = 'stations'\n    id = Column(Integer, primary_key=True)\n\nclass Schema(BaseModel):\n    __tablename__ = 'not_a_table'\n",
    )]);
    assert_eq!(table_names(&tables), vec!["stations"]);
    // Its columns, if it has any, are not known: said once, at the class.
    let [warning] = warnings.as_slice() else {
        panic!("one warning: {warnings:#?}")
    };
    assert!(
        warning
            .message
            .contains("class `Station` derives from `Base`")
            && warning.message.contains("python_roots"),
        "{warning:?}"
    );
    assert_eq!(warning.location.as_ref().map(|l| l.line), Some(5));
}

#[test]
fn class_shadowing_an_imported_base_of_the_same_name() {
    let tables = tables(&[
        (
            "app/base.py",
            "from sqlalchemy.orm import DeclarativeBase\n\nclass Model(DeclarativeBase):\n    pass\n",
        ),
        (
            "app/core.py",
            "from app.base import Model\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass Model(Model):\n    __abstract__ = True\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Thread(Model):\n    __tablename__ = 'threads'\n",
        ),
    ]);
    assert_eq!(table_names(&tables), vec!["threads"]);
    assert_eq!(names(&tables[0]), vec!["id"]);
}

#[test]
fn tables_are_sorted_by_file_then_line() {
    let tables = tables(&[
        (
            "b/models.py",
            &format!(
                "{BASE_20}class Z(Base):\n    __tablename__ = 'z'\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass A(Base):\n    __tablename__ = 'a'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
            ),
        ),
        (
            "a/models.py",
            "from b.models import Base\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nclass M(Base):\n    __tablename__ = 'm'\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
        ),
    ]);
    assert_eq!(table_names(&tables), vec!["m", "z", "a"]);
}

#[test]
fn type_decorators_with_impl_and_with_variant() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import JSON, String, TypeDecorator\nfrom sqlalchemy.dialects import postgresql\nfrom sqlalchemy.dialects.postgresql import JSONB as PGJSONB\n\nclass Email(TypeDecorator):\n    impl = String(320)\n    cache_ok = True\n\nclass Contact(Base):\n    __tablename__ = 'contacts'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    email: Mapped[str] = mapped_column(Email())\n    data: Mapped[dict] = mapped_column(JSON().with_variant(postgresql.JSONB(), 'postgresql'))\n    extra: Mapped[dict] = mapped_column(PGJSONB)\n    custom: Mapped[str] = mapped_column(MyUnknownType())\n"
    ));
    let contacts = table(&tables, "contacts");
    assert_eq!(sql(col(contacts, "email")).as_deref(), Some("VARCHAR(320)"));
    assert_eq!(sql(col(contacts, "data")).as_deref(), Some("JSONB"));
    assert_eq!(sql(col(contacts, "extra")).as_deref(), Some("JSONB"));
    let custom = col(contacts, "custom");
    assert_eq!(custom.ty, None);
    assert_eq!(custom.type_text.as_deref(), Some("MyUnknownType()"));
}

#[test]
fn unmapped_class_with_columns_in_a_hierarchy_warns() {
    let (tables, warnings) = run(&[(
        "app/models.py",
        &format!(
            "{BASE_20}class Forgot(Base):\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        ),
    )]);
    assert!(tables.is_empty());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("`Forgot`"));
}

#[test]
fn star_imports_and_package_reexports_resolve_bases() {
    let tables = tables(&[
        (
            "app/db/base.py",
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\nclass Base(DeclarativeBase):\n    pass\n\nclass IdMixin:\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
        ),
        (
            "app/db/__init__.py",
            "from sqlalchemy import *\nfrom .base import *\n",
        ),
        (
            "app/models/thread.py",
            "from app.db import *\nfrom sqlalchemy.orm import Mapped\n\nclass Thread(IdMixin, Base):\n    __tablename__ = 'message_threads'\n    subject: Mapped[str]\n",
        ),
    ]);
    assert_eq!(table_names(&tables), vec!["message_threads"]);
    assert_eq!(names(&tables[0]), vec!["id", "subject"]);
}

#[test]
fn flask_db_imported_from_an_unread_module() {
    let tables = one(
        "from app import db\n\nclass ChefTimeoff(db.Model):\n    __table_args__ = {'schema': 'ops'}\n    id = db.Column(db.Integer, primary_key=True)\n    reason = db.Column(db.String(200))\n    chef = db.relationship('Chef')\n",
    );
    assert_eq!(table_names(&tables), vec!["ops.chef_timeoff"]);
    assert_eq!(names(&tables[0]), vec!["id", "reason"]);
}

#[test]
fn registry_generate_base_inline() {
    let tables = one(
        "from sqlalchemy import Column, Integer, MetaData\nfrom sqlalchemy.orm import registry\n\nBase = registry(metadata=MetaData(schema='lead')).generate_base()\n\nclass Lead(Base):\n    __tablename__ = 'leads'\n    id = Column(Integer, primary_key=True)\n",
    );
    assert_eq!(table_names(&tables), vec!["lead.leads"]);
}

#[test]
fn own_declared_tablename_returning_none_for_subclasses() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy.orm import declared_attr, has_inherited_table\n\nclass Node(Base):\n    @declared_attr\n    def __tablename__(cls):\n        if has_inherited_table(cls):\n            return None\n        return 'nodes'\n    id: Mapped[int] = mapped_column(primary_key=True)\n\nclass Leaf(Node):\n    @declared_attr\n    def __tablename__(cls):\n        if has_inherited_table(cls):\n            return None\n        return 'leaves'\n    weight: Mapped[int | None]\n"
    ));
    assert_eq!(table_names(&tables), vec!["nodes"]);
    assert_eq!(names(&tables[0]), vec!["id", "weight"]);
}

#[test]
fn sqlalchemy_enum_subclass_is_not_a_python_enum() {
    let models = extract_file(&SourceFile::new(
        "app/types.py",
        "import sqlalchemy as sa\nfrom sqlalchemy import Enum\n\nclass LenientEnum(sa.Enum):\n    cache_ok = True\n\nclass Other(Enum):\n    pass\n",
    ));
    assert!(models.classes.iter().all(|c| c.enum_members.is_none()));
}

#[test]
fn primary_key_constraint_in_table_args_and_table() {
    let tables = one(
        "from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\nclass SqlTag(Base):\n    __tablename__ = 'tags'\n    __table_args__ = (\n        PrimaryKeyConstraint('key', 'run_uuid', name='tag_pk'),\n        Index(f'index_{__tablename__}_run_uuid', 'run_uuid'),\n    )\n    key = Column(String(250))\n    value = Column(String(5000), nullable=True)\n    run_uuid = Column(String(32), ForeignKey('runs.run_uuid'))\n\nlinks = Table('links', MetaData(), Column('a', Integer), Column('b', Integer), PrimaryKeyConstraint('a', 'b'))\n",
    );
    let tags = table(&tables, "tags");
    assert!(col(tags, "key").primary_key);
    assert_eq!(col(tags, "key").nullable, Some(false));
    assert_eq!(col(tags, "run_uuid").nullable, Some(false));
    assert_eq!(col(tags, "value").nullable, Some(true));
    assert!(!col(tags, "value").primary_key);
    let links = table(&tables, "links");
    assert!(
        links
            .columns
            .iter()
            .all(|c| c.primary_key && c.nullable == Some(false))
    );
}

#[test]
fn sqlmodel_api_schemas_and_tables_side_by_side() {
    let tables = one(
        "import uuid\nfrom pydantic import EmailStr\nfrom sqlmodel import Field, Relationship, SQLModel\n\nclass AccountBase(SQLModel):\n    email: EmailStr = Field(unique=True, max_length=255)\n    active: bool = True\n    display: str | None = Field(default=None, max_length=80)\n\nclass AccountCreate(AccountBase):\n    password: str = Field(min_length=8)\n\nclass Account(AccountBase, table=True):\n    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)\n    secret: str\n    notes: list['Note'] = Relationship(back_populates='account')\n\nclass AccountPublic(AccountBase):\n    id: uuid.UUID\n\nclass Note(SQLModel, table=True):\n    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)\n    account_id: uuid.UUID = Field(foreign_key='account.id', nullable=False, ondelete='CASCADE')\n    account: Account | None = Relationship(back_populates='notes')\n\nclass NotesPublic(SQLModel):\n    data: list[Note]\n    count: int\n",
    );
    assert_eq!(table_names(&tables), vec!["account", "note"]);
    let account = &tables[0];
    assert_eq!(
        names(account),
        vec!["email", "active", "display", "id", "secret"]
    );
    assert_eq!(sql(col(account, "email")).as_deref(), Some("VARCHAR(255)"));
    assert_eq!(col(account, "active").nullable, Some(false));
    assert_eq!(col(account, "display").nullable, Some(true));
    assert_eq!(sql(col(account, "id")).as_deref(), Some("UUID"));
    let note = &tables[1];
    assert_eq!(names(note), vec!["id", "account_id"]);
    assert_eq!(col(note, "account_id").foreign_keys(), vec!["account.id"]);
}

#[test]
fn enum_class_outside_the_read_files_keeps_its_name() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import Enum\nfrom app.enums import Tier\n\nclass Price(Base):\n    __tablename__ = 'pricing_tiers'\n    id: Mapped[int] = mapped_column(primary_key=True)\n    tier: Mapped[Tier] = mapped_column(Enum(Tier))\n"
    ));
    let tier = col(&tables[0], "tier");
    let tier_enum = tier.enum_type().expect("an enum");
    assert_eq!(tier_enum.name, "tier");
    assert!(tier_enum.values.is_empty());
    assert_eq!(tier_enum.location, None);
    assert_eq!(tier.ty.as_ref().map(|t| &*t.name), Some("tier"));
}

#[test]
fn declared_attr_return_annotation_gives_nullability_and_type() {
    let tables = one(&format!(
        "{BASE_20}from typing import Optional\nfrom sqlalchemy import ForeignKey\nfrom sqlalchemy.orm import declared_attr\n\nclass HasStation:\n    @declared_attr\n    def station_id(cls) -> Mapped[int]:\n        return mapped_column(ForeignKey('identity.stations.id'))\n\n    @declared_attr\n    def backup_id(cls) -> Mapped[Optional[int]]:\n        return mapped_column('backup_station_id', ForeignKey('identity.stations.id'))\n\n    @declared_attr\n    def station(cls) -> Mapped['Station']:\n        return relationship('Station')\n\nclass Slot(HasStation, Base):\n    __tablename__ = 'slot_configurations'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    ));
    let slots = &tables[0];
    assert_eq!(names(slots), vec!["station_id", "backup_station_id", "id"]);
    let station = col(slots, "station_id");
    assert_eq!(station.nullable, Some(false));
    assert_eq!(sql(station).as_deref(), Some("INTEGER"));
    assert_eq!(station.type_text.as_deref(), Some("Mapped[int]"));
    assert_eq!(col(slots, "backup_station_id").nullable, Some(true));
}

#[test]
fn server_defaults_indexes_and_unique_are_read_for_fix() {
    let tables = one(&format!(
        "{BASE_20}from sqlalchemy import String, func, text\nSTATUS = \"new\"\n\nclass Lead(Base):\n    __tablename__ = \"leads\"\n    id: Mapped[int] = mapped_column(primary_key=True)\n    status: Mapped[str] = mapped_column(String(10), server_default=STATUS, index=True)\n    created_at: Mapped[str] = mapped_column(server_default=func.now())\n    code: Mapped[str] = mapped_column(String(8), unique=True, server_default=text(\"'x'\"))\n    plain: Mapped[str]\n"
    ));
    let leads = table(&tables, "leads");
    let status = col(leads, "status");
    assert_eq!(status.server_default_sql(), Some("'new'"));
    assert!(status.index && !status.unique);
    let created = col(leads, "created_at");
    assert_eq!(created.server_default_sql(), Some("now()"));
    let code = col(leads, "code");
    assert_eq!(code.server_default_sql(), Some("'x'"));
    assert!(code.unique && !code.index);
    let plain = col(leads, "plain");
    assert_eq!(plain.server_default_sql(), None);
    assert!(!plain.server_default && !plain.index);
}

/// Issue 11 (found by the fuzzer): a name imported from an 8,000-segment module path was
/// looked up by joining every prefix of the path at every use (quadratic: 20 uses took 11 s
/// in a release build). Only prefixes as long as a module of the project are tried now.
#[test]
fn regression_issue_11_a_very_long_import_path_is_read_in_linear_time() {
    let uses: String = (0..40).map(|i| format!("    c{i} = Column(Y)\n")).collect();
    let src = format!(
        "from sqlalchemy import Column, Integer\nfrom app.base import Base\nfrom x{} import Y\n\nclass A(Base):\n    __tablename__ = \"t\"\n    id = Column(Integer, primary_key=True)\n{uses}",
        ".a".repeat(8000)
    );
    let started = std::time::Instant::now();
    let (tables, _) = run(&[
        (
            "app/base.py",
            "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n",
        ),
        ("app/models.py", src.as_str()),
    ]);
    let elapsed = started.elapsed();
    assert_eq!(names(table(&tables, "t")).len(), 41);
    assert!(elapsed.as_secs() < 5, "took {elapsed:?}");
}

#[test]
fn many_classes_are_read_in_file_order_with_the_imports_each_needs() {
    // Enough classes to be split between threads (`pyast::PARALLEL_FROM`), some inside
    // module-level blocks, all after an aliased import each class's columns go through.
    let mut src = String::from(
        "import sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n\n",
    );
    for i in 0..12 {
        let class = format!(
            "class Model{i}(Base):\n    __tablename__ = 'model_{i}'\n    id = sa.Column(sa.Integer, primary_key=True)\n    note_{i} = sa.Column(sa.String(20))\n"
        );
        if i % 4 == 3 {
            let indented: String = class
                .split_inclusive('\n')
                .map(|l| format!("    {l}"))
                .collect();
            src.push_str(&format!("if True:\n{indented}\n"));
        } else {
            src.push_str(&class);
            src.push('\n');
        }
    }
    let models = extract_file(&SourceFile::new("app/models.py", src.as_str()));
    let names: Vec<&str> = models.classes.iter().map(|c| c.name.as_str()).collect();
    let expected: Vec<String> = std::iter::once("Base".to_string())
        .chain((0..12).map(|i| format!("Model{i}")))
        .collect();
    assert_eq!(names, expected);
    let found = tables(&[("app/models.py", src.as_str())]);
    assert_eq!(found.len(), 12);
    for i in 0..12 {
        let table = found
            .iter()
            .find(|t| t.name == format!("model_{i}"))
            .unwrap_or_else(|| panic!("model_{i} in {found:#?}"));
        assert!(table.columns.iter().any(|c| c.name == format!("note_{i}")));
    }
}
