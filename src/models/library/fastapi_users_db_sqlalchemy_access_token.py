# fastapi_users_db_sqlalchemy.access_token, checked against releases 4.0.0 to 7.0.0 (see
# fastapi_users_db_sqlalchemy.py). TIMESTAMPAware(timezone=True) is TIMESTAMPTZ on PostgreSQL.
from datetime import datetime
from typing import Generic

from sqlalchemy import TIMESTAMP, ForeignKey, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class SQLAlchemyBaseAccessTokenTable(Generic[ID]):
    __tablename__ = "accesstoken"
    token: Mapped[str] = mapped_column(String(43), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TIMESTAMP(timezone=True), nullable=False)


class SQLAlchemyBaseAccessTokenTableUUID(SQLAlchemyBaseAccessTokenTable[UUID_ID]):
    @declared_attr
    def user_id(cls) -> Mapped[UUID_ID]:
        return mapped_column(UUID, ForeignKey("user.id"), nullable=False)
