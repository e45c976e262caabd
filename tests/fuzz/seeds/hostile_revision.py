"""An Alembic revision written every way driftguard reads, for the fuzzer to break."""
import sqlalchemy as sa
from alembic import op

revision = "a1b2c3"
down_revision = None
TABLE = "customers"
NAMES = ("x", "y")


def _column(name):
    return sa.Column(name, sa.Integer(), nullable=True)


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        schema="core",
    )
    for name in NAMES:
        op.add_column(TABLE, _column(name), schema="core")
    with op.batch_alter_table(TABLE, schema="core") as batch_op:
        batch_op.add_column(sa.Column("z", sa.Text()))
        batch_op.alter_column("email", new_column_name="mail")
    sql = "ALTER TABLE core.customers "
    sql = sql + "ADD COLUMN w int"
    op.execute(sql)
    op.execute(sa.text("DO $$ BEGIN ALTER TABLE core.customers ADD COLUMN v int; END $$;"))


def downgrade():
    op.drop_table(TABLE, schema="core")
