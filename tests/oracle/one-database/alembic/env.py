"""Offline only: the oracle renders the revisions as SQL (`alembic upgrade head --sql`)."""
from alembic import context

config = context.config

context.configure(
    url=config.get_main_option("sqlalchemy.url"),
    literal_binds=True,
    dialect_opts={"paramstyle": "named"},
)

with context.begin_transaction():
    context.run_migrations()
