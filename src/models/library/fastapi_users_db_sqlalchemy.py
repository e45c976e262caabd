# What driftguard knows of fastapi-users-db-sqlalchemy (the SQLAlchemy adapter of FastAPI
# Users), checked against its releases 4.0.0 to 7.0.0: the same tables and columns in each.
# Not the library's code: the tables its base classes give a project's own classes.
# GUID is PostgreSQL's UUID there.
from typing import Generic, Optional

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class SQLAlchemyBaseUserTable(Generic[ID]):
    __tablename__ = "user"
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    hashed_password: Mapped[str] = mapped_column(String(1024), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, nullable=False)
    is_verified: Mapped[bool] = mapped_column(Boolean, nullable=False)


class SQLAlchemyBaseUserTableUUID(SQLAlchemyBaseUserTable[UUID_ID]):
    id: Mapped[UUID_ID] = mapped_column(UUID, primary_key=True)


class SQLAlchemyBaseOAuthAccountTable(Generic[ID]):
    __tablename__ = "oauth_account"
    oauth_name: Mapped[str] = mapped_column(String(100), nullable=False)
    access_token: Mapped[str] = mapped_column(String(1024), nullable=False)
    expires_at: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    refresh_token: Mapped[Optional[str]] = mapped_column(String(1024), nullable=True)
    account_id: Mapped[str] = mapped_column(String(320), nullable=False)
    account_email: Mapped[str] = mapped_column(String(320), nullable=False)


class SQLAlchemyBaseOAuthAccountTableUUID(SQLAlchemyBaseOAuthAccountTable[UUID_ID]):
    id: Mapped[UUID_ID] = mapped_column(UUID, primary_key=True)

    @declared_attr
    def user_id(cls) -> Mapped[UUID_ID]:
        return mapped_column(UUID, ForeignKey("user.id"), nullable=False)
