"""Models written every way driftguard reads, for the fuzzer to break."""
from typing import Annotated, Optional

import sqlalchemy as sa
from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

str20 = Annotated[str, mapped_column(String(20))]


class Base(DeclarativeBase):
    pass


class Mixin:
    created: Mapped[int] = mapped_column(Integer, server_default=sa.text("0"))


class Customer(Mixin, Base):
    __tablename__ = "customers"
    __table_args__ = (sa.UniqueConstraint("email"), {"schema": "core"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, comment="contact")
    nick: Mapped[Optional[str20]]
    parent_id = Column("parent", Integer, ForeignKey("core.customers.id"), nullable=True)
    label = "a" + "b" + "c"


class Auto(Base):
    @declared_attr
    def __tablename__(cls):
        return cls.__name__.lower()

    id = Column(Integer, primary_key=True)


audit = Table(
    "audit",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("what", String(40)),
    schema="ops",
)
