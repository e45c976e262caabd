"""Core booking models."""
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..base_class import Base
from .mixins import TimestampMixin


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[Optional[str]] = mapped_column(String(32))
    contact_preference: Mapped[Optional[str]] = mapped_column(
        String(20), comment="sms, email or phone"
    )
    ai_contact_ok: Mapped[bool] = mapped_column(Boolean, default=False)

    bookings: Mapped[list["Booking"]] = relationship(back_populates="customer")


class Booking(TimestampMixin, Base):
    __tablename__ = "bookings"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core.customers.id"))
    guest_count: Mapped[int]
    venue_lat: Mapped[Optional[float]] = mapped_column("venue_latitude")
    notes: Mapped[Optional[str]] = mapped_column(Text)

    customer: Mapped["Customer"] = relationship(back_populates="bookings")

    @property
    def is_large_party(self) -> bool:
        return self.guest_count > 20
