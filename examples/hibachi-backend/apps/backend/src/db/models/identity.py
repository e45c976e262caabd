"""Identity models, including a classic Table() association."""
from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from ..base_class import Base


class User(Base):
    __tablename__ = "users"
    __table_args__ = ({"schema": "identity"},)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(80))


user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("identity.users.id"), primary_key=True),
    Column("role", String(40), primary_key=True),
    schema="identity",
)
