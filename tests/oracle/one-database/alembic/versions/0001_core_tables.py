"""core tables

Revision ID: 0001_core
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None


def upgrade():
    op.execute("CREATE SCHEMA IF NOT EXISTS core")
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(120)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
        schema="core",
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("core.customers.id"), nullable=False),
        sa.Column("guests", sa.SmallInteger()),
        sa.Column("total", sa.Numeric(10, 2)),
        schema="core",
    )


def downgrade():
    op.drop_table("bookings", schema="core")
    op.drop_table("customers", schema="core")
