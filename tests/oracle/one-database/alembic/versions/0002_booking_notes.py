"""booking notes

Revision ID: 0002_notes
Revises: 0001_core
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_notes"
down_revision = "0001_core"


def upgrade():
    op.add_column("bookings", sa.Column("notes", sa.Text()), schema="core")
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        schema="public",
    )


def downgrade():
    op.drop_table("stations", schema="public")
    op.drop_column("bookings", "notes", schema="core")
