#!/usr/bin/env python3
"""Generates a large backend shaped like the handbook's, for benchmarks.

    generate.py DIR [--models N] [--migrations M] [--style sql|alembic] [--foreign-keys]

N model classes spread over N/25 model files under apps/backend/src/db/models/, and M
migrations: with `--style sql` (the default) SQL files under database/migrations/ — the first
create the tables in the handbook's style, the rest add columns with idempotent DO $$ … $$
blocks, COMMENT ON COLUMN and indexes; with `--style alembic` one linear chain of Alembic
revisions under apps/backend/alembic/versions/ (op.create_table, then op.add_column).
With `--foreign-keys` every model from the sixth on has a `parent_id` column whose foreign
key names the table five before it (same schema) without its schema, as SQLAlchemy projects
write them (`ForeignKey("table_3.id")`), and its create-table migration adds it.
Every mapped column is created, so a full check is clean. Deterministic: no randomness.
"""
import argparse
import os

SCHEMAS = ["core", "identity", "ops", "ai", "crm"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--migrations", type=int, default=20000)
    parser.add_argument("--style", choices=["sql", "alembic"], default="sql")
    parser.add_argument("--foreign-keys", action="store_true")
    args = parser.parse_args()
    # The table each table's foreign key names (five before: the same schema), if any.
    parent = lambda t: t - len(SCHEMAS) if args.foreign_keys and t >= len(SCHEMAS) else None
    root = args.dir
    models_dir = os.path.join(root, "apps/backend/src/db/models")
    if args.style == "alembic":
        mig_dir = os.path.join(root, "apps/backend/alembic/versions")
    else:
        mig_dir = os.path.join(root, "database/migrations")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(mig_dir, exist_ok=True)
    with open(os.path.join(root, "apps/backend/src/db/base_class.py"), "w") as f:
        f.write("from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n")

    # Columns per table: 4 created with the table, the rest added by later migrations.
    extra_migrations = max(args.migrations - args.models, 0)
    extra_per_table = [0] * args.models
    for i in range(extra_migrations):
        extra_per_table[i % args.models] += 1

    per_file = 25
    for start in range(0, args.models, per_file):
        lines = [
            "from typing import Optional\n",
            "from sqlalchemy import Boolean, ForeignKey, Integer, String, Text\n"
            if args.foreign_keys
            else "from sqlalchemy import Boolean, Integer, String, Text\n",
            "from sqlalchemy.orm import Mapped, mapped_column\n\n",
            "from ..base_class import Base\n\n",
        ]
        for t in range(start, min(start + per_file, args.models)):
            schema = SCHEMAS[t % len(SCHEMAS)]
            lines.append(f"\nclass Model{t}(Base):\n")
            lines.append(f'    __tablename__ = "table_{t}"\n')
            lines.append(f'    __table_args__ = {{"schema": "{schema}"}}\n\n')
            lines.append("    id: Mapped[int] = mapped_column(primary_key=True)\n")
            lines.append("    name: Mapped[str] = mapped_column(String(120))\n")
            lines.append("    active: Mapped[bool] = mapped_column(Boolean, default=True)\n")
            lines.append("    notes: Mapped[Optional[str]] = mapped_column(Text)\n")
            if parent(t) is not None:
                lines.append(
                    "    parent_id: Mapped[Optional[int]] = "
                    f'mapped_column(ForeignKey("table_{parent(t)}.id"))\n'
                )
            for c in range(extra_per_table[t]):
                lines.append(f"    extra_{c}: Mapped[Optional[str]] = mapped_column(String(40))\n")
        with open(os.path.join(models_dir, f"models_{start // per_file:04d}.py"), "w") as f:
            f.writelines(lines)

    if args.style == "alembic":
        write_alembic(mig_dir, args.models, extra_migrations, parent)
        return
    n = 0
    for t in range(args.models):
        schema = SCHEMAS[t % len(SCHEMAS)]
        n += 1
        reference = (
            f",\n    parent_id INTEGER REFERENCES {schema}.table_{parent(t)}(id)"
            if parent(t) is not None
            else ""
        )
        with open(os.path.join(mig_dir, f"{n:06d}_create_table_{t}.sql"), "w") as f:
            f.write(
                f"-- Migration: create {schema}.table_{t}\nBEGIN;\n"
                f"CREATE SCHEMA IF NOT EXISTS {schema};\n"
                f"CREATE TABLE IF NOT EXISTS {schema}.table_{t} (\n"
                "    id SERIAL PRIMARY KEY,\n    name VARCHAR(120) NOT NULL,\n"
                f"    active BOOLEAN NOT NULL DEFAULT true,\n    notes TEXT{reference}\n);\n"
                "COMMIT;\n"
            )
    added = [0] * args.models
    for i in range(extra_migrations):
        t = i % args.models
        schema = SCHEMAS[t % len(SCHEMAS)]
        c = added[t]
        added[t] += 1
        n += 1
        with open(os.path.join(mig_dir, f"{n:06d}_add_extra_{c}_to_table_{t}.sql"), "w") as f:
            f.write(
                f"-- =====================================================\n"
                f"-- Migration: add extra_{c} to {schema}.table_{t}\n"
                f"-- =====================================================\nBEGIN;\n"
                "DO $$\nBEGIN\n    IF NOT EXISTS (\n        SELECT 1 FROM information_schema.columns\n"
                f"        WHERE table_schema = '{schema}'\n        AND table_name = 'table_{t}'\n"
                f"        AND column_name = 'extra_{c}'\n    ) THEN\n"
                f"        ALTER TABLE {schema}.table_{t} ADD COLUMN extra_{c} VARCHAR(40);\n"
                f"        RAISE NOTICE 'Added extra_{c}';\n    END IF;\nEND $$;\n"
                f"COMMENT ON COLUMN {schema}.table_{t}.extra_{c} IS 'generated';\n"
                f"CREATE INDEX IF NOT EXISTS idx_t{t}_e{c} ON {schema}.table_{t} (extra_{c});\n"
                f"COMMIT;\n-- ROLLBACK: ALTER TABLE {schema}.table_{t} DROP COLUMN IF EXISTS extra_{c};\n"
            )


def revision_id(n):
    return f"r{n:06d}"


def write_revision(mig_dir, n, slug, body):
    down = f'"{revision_id(n - 1)}"' if n > 1 else "None"
    with open(os.path.join(mig_dir, f"{n:06d}_{slug}.py"), "w") as f:
        f.write(
            f'"""{slug}\n\nRevision ID: {revision_id(n)}\nRevises: {revision_id(n - 1) if n > 1 else ""}\n"""\n'
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f'revision = "{revision_id(n)}"\ndown_revision = {down}\n'
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{body}\n\ndef downgrade():\n    pass\n"
        )


def write_alembic(mig_dir, models, extra_migrations, parent):
    """One linear chain: a create_table per model, then one add_column per extra column."""
    n = 0
    for t in range(models):
        schema = SCHEMAS[t % len(SCHEMAS)]
        n += 1
        reference = (
            f'        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("{schema}.table_{parent(t)}.id")),\n'
            if parent(t) is not None
            else ""
        )
        write_revision(
            mig_dir,
            n,
            f"create_table_{t}",
            f'    op.create_table(\n        "table_{t}",\n'
            '        sa.Column("id", sa.Integer(), primary_key=True),\n'
            '        sa.Column("name", sa.String(120), nullable=False),\n'
            '        sa.Column("active", sa.Boolean(), nullable=False),\n'
            '        sa.Column("notes", sa.Text(), nullable=True),\n'
            f'{reference}        schema="{schema}",\n    )',
        )
    added = [0] * models
    for i in range(extra_migrations):
        t = i % models
        schema = SCHEMAS[t % len(SCHEMAS)]
        c = added[t]
        added[t] += 1
        n += 1
        write_revision(
            mig_dir,
            n,
            f"add_extra_{c}_to_table_{t}",
            f'    op.add_column("table_{t}", sa.Column("extra_{c}", sa.String(40), nullable=True), schema="{schema}")',
        )


if __name__ == "__main__":
    main()
