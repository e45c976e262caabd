"""Models that the migrations next to them leave gaps for: DG001 (with a comment, and with an
enum type no migration creates), DG002 (a composite primary key; a schema no migration
creates), DG003, DG005, DG006 and DG007 (which suggests nothing for an unmapped table).

tests/suggestions/run.sh applies the migrations, then every suggested statement, to a real
PostgreSQL: each must succeed.
"""
import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Tier(enum.Enum):
    bronze = "bronze"
    silver = "silver"
    gold = "gold"


class BookingStatus(enum.Enum):
    pending = "pending"
    confirmed = "confirmed"
    cancelled_by_chef = "cancelled_by_chef"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    # DG006: NOT NULL here, nullable in the migration.
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    # DG001, with a comment.
    contact_preference: Mapped[Optional[str]] = mapped_column(
        String(20), comment="how the customer wants to be reached: it's email or sms"
    )
    # DG001, whose suggestion first creates the enum type no migration creates.
    tier: Mapped[Optional[Tier]] = mapped_column(Enum(Tier, name="tier", schema="core"))
    # DG005: an integer in the migration.
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    # DG006: nullable here, NOT NULL without a default in the migration.
    nickname: Mapped[Optional[str]] = mapped_column(String(40))


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core.customers.id"))
    # DG003: the migrated type lacks `cancelled_by_chef`.
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, name="booking_status", schema="core")
    )
    # DG007: no migration creates core.venues.
    venue_id: Mapped[Optional[int]] = mapped_column(ForeignKey("core.venues.id"))
    total: Mapped[Optional[float]] = mapped_column(Numeric(10, 2))


class UserRole(Base):
    """DG002 with a composite primary key (issue 11: two column-level PRIMARY KEYs)."""

    __tablename__ = "user_roles"
    __table_args__ = {"schema": "identity"}

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[Optional[str]] = mapped_column(Text, comment="who granted it, and why")


class AuditEntry(Base):
    """DG002 in a schema no migration creates."""

    __tablename__ = "audit_entries"
    __table_args__ = {"schema": "audit"}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payload: Mapped[Optional[str]] = mapped_column(Text)
