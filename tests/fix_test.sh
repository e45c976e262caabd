#!/usr/bin/env bash
# `driftguard fix` against the real thing: the migrations it writes run on a real PostgreSQL,
# the SQL one twice (idempotent), the Alembic one through the real `alembic upgrade head`.
#   tests/fix_test.sh
#
# SQL: a repository in the handbook's layout gains model columns, a table in a new schema, a
# native enum type and an enum value; `fix --staged --write` writes the migration, it is
# staged, `check --staged` passes; the existing migrations and then the new file are applied
# with `psql -v ON_ERROR_STOP=1`, the new file twice; every column the models map is then in
# information_schema.columns with the mapped type (an explicit list, and `db-diff --fail-on
# warning` over all of them). The same with `postgres_version: 11` (enum values before BEGIN).
#
# Alembic: a project with alembic.ini, env.py and a first revision gains the same gaps;
# `fix --write` writes a revision (with `postgres_version: 11`: the enum value in
# `autocommit_block()`), `alembic upgrade head` runs it on a fresh database,
# `alembic downgrade` and `upgrade` again run too, and db-diff is clean. Two heads: the
# revision `fix` writes merges them, and `upgrade head` works again.
#
# Tools: PostgreSQL (tests/pg/cluster.sh installs it as root), and alembic, SQLAlchemy and
# psycopg from PyPI in the cached test venv (tests/requirements-tools.txt). Missing: a loud
# SKIP, or a failure when CI=true.
OUTER_TARGET=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"

need git "apt-get install git"
tools_venv
[ -x "$TOOLS/alembic" ] || skip "alembic is not in the test venv (tests/requirements-tools.txt)"
rc=0
pg_start || rc=$?
case $rc in
    0) ;;
    3) skip "$PG_SKIP_REASON" ;;
    *) printf 'FAIL: the throw-away PostgreSQL cluster did not start\n' >&2; exit 1 ;;
esac
export PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# The debug binary of the shared target dir (no release build needed here).
(cd "$ROOT" && CARGO_TARGET_DIR=$OUTER_TARGET cargo build --quiet)
DG=$SCRATCH/driftguard
cp "$OUTER_TARGET/debug/driftguard" "$DG"
export SOURCE_DATE_EPOCH=1735787045

# run NAME EXPECTED_EXIT DIR ARGS…: driftguard in DIR, output in $SCRATCH/NAME.{out,err}.
run() {
    local name=$1 expected=$2 dir=$3 code=0
    shift 3
    (cd "$dir" && "$DG" "$@") >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" || code=$?
    if [ "$code" = "$expected" ]; then
        ok "driftguard $* exits $expected ($name)"
    else
        not_ok "driftguard $* exits $code, expected $expected ($name)"
        show "$SCRATCH/$name.out"
        show "$SCRATCH/$name.err"
    fi
}

# db NAME: a fresh database; prints its libpq URL.
db() {
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $1"
    printf 'postgresql://postgres@127.0.0.1:%s/%s' "$PGPORT" "$1"
}

# The models every scenario uses: a new column with a comment, a NOT NULL column with a
# server default and an index, a new value in an existing enum, a new table (with a foreign
# key, a new enum type, a default, a numeric, a timestamp, a uuid, jsonb) in a new schema.
write_models() {
    mkdir -p "$1/app"
    cat >"$1/app/models.py" <<'PY'
import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Optional

from sqlalchemy import BigInteger, Boolean, DateTime, Enum, ForeignKey, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class BookingStatus(enum.Enum):
    pending = "pending"
    held = "held"
    confirmed = "confirmed"


class ReviewState(enum.Enum):
    draft = "draft"
    published = "published"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    contact_preference: Mapped[Optional[str]] = mapped_column(String(20), comment="sms or email")
    loyalty_points: Mapped[int] = mapped_column(BigInteger, server_default="0", index=True)
    marketing_ok: Mapped[bool] = mapped_column(Boolean, server_default="false")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core.customers.id"))
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, name="booking_status", schema="core"), server_default="pending"
    )


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = {"schema": "feedback"}

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core.customers.id"), index=True)
    state: Mapped[ReviewState] = mapped_column(
        Enum(ReviewState, name="review_state", schema="feedback"), server_default="draft"
    )
    rating: Mapped[Optional[Decimal]] = mapped_column(Numeric(3, 1))
    body: Mapped[Optional[str]] = mapped_column(Text, comment="what the customer wrote")
    extra: Mapped[Optional[dict]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
PY
}

# The columns the new migration must create, as information_schema.columns says them.
EXPECTED_COLUMNS="core|customers|contact_preference|character varying|20|YES
core|customers|loyalty_points|bigint||NO
core|customers|marketing_ok|boolean||NO
feedback|reviews|body|text||YES
feedback|reviews|created_at|timestamp with time zone||NO
feedback|reviews|customer_id|integer||NO
feedback|reviews|extra|jsonb||YES
feedback|reviews|id|integer||NO
feedback|reviews|public_id|uuid||NO
feedback|reviews|rating|numeric||YES
feedback|reviews|state|USER-DEFINED||NO"

# check_columns NAME DB: the expected columns are there with their types.
check_columns() {
    "${PSQL[@]}" -d "$2" -At -F '|' -c "
        SELECT table_schema, table_name, column_name, data_type,
               coalesce(character_maximum_length::text, ''), is_nullable
          FROM information_schema.columns
         WHERE (table_schema, table_name) IN (('core', 'customers'), ('feedback', 'reviews'))
           AND column_name NOT IN ('id', 'email') OR (table_schema = 'feedback' AND column_name = 'id')
         ORDER BY 1, 2, 3" >"$SCRATCH/$1.columns"
    if [ "$(cat "$SCRATCH/$1.columns")" = "$EXPECTED_COLUMNS" ]; then
        ok "$1: information_schema.columns has every new column with the mapped type ($(wc -l <"$SCRATCH/$1.columns") columns)"
    else
        not_ok "$1: information_schema.columns differs"
        diff <(printf '%s\n' "$EXPECTED_COLUMNS") "$SCRATCH/$1.columns" >&2 || true
    fi
    local values
    values=$("${PSQL[@]}" -d "$2" -At -c "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'booking_status'")
    check "$1: core.booking_status is pending,held,confirmed (got $values)" test "$values" = "pending,held,confirmed"
}

# db_diff NAME DIR URL: every model column is in the database with the mapped type.
db_diff() {
    run "$1" 0 "$2" db-diff --database-url "$3" --fail-on warning --format json
    local columns
    columns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["columns"])' "$SCRATCH/$1.out" 2>/dev/null || echo 0)
    check "$1: db-diff compared all $columns model columns, no finding" test "$columns" = 16
}

# --- SQL --------------------------------------------------------------------------------------
repo=$SCRATCH/sql
mkdir -p "$repo/database/migrations"
git -C "$repo" init -q -b main
cat >"$repo/database/migrations/001_initial.sql" <<'SQL'
BEGIN;
CREATE SCHEMA IF NOT EXISTS core;
CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');
CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL
);
CREATE TABLE IF NOT EXISTS core.bookings (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES core.customers (id),
    status core.booking_status NOT NULL DEFAULT 'pending'
);
COMMIT;
SQL
write_models "$repo"
sed -i '/contact_preference\|loyalty_points\|marketing_ok\|held = /d; /^class Review(Base)/,$d' "$repo/app/models.py"
git -C "$repo" add -A
git -C "$repo" commit -q --no-verify -m initial
run sql_clean 0 "$repo" check

write_models "$repo"
git -C "$repo" add app/models.py
run sql_gap 1 "$repo" check --staged
# shellcheck disable=SC2016 # the backquotes are the help's own
check "the finding's help names driftguard fix --staged --write" \
    grep -q '(`driftguard fix --staged --write` writes it)' "$SCRATCH/sql_gap.out"
run sql_fix 0 "$repo" fix --staged --write
file=$(cat "$SCRATCH/sql_fix.out")
file=${file#"$repo/"}
check "fix writes 002_… beside 001_initial.sql ($file)" \
    test "$file" = "database/migrations/002_create_reviews_and_add_customers_columns.sql"
check "fix does not stage it" test "$(git -C "$repo" status --porcelain -- "$file")" = "?? $file"
check "fix prints the git add to run" grep -q "git add $repo/$file" "$SCRATCH/sql_fix.err"
git -C "$repo" add "$file"
run sql_staged 0 "$repo" check --staged

url=$(db fix_sql)
"${PSQL[@]}" -d fix_sql -f "$repo/database/migrations/001_initial.sql"
for pass in once twice; do
    if "${PSQL[@]}" -d fix_sql -f "$repo/$file" 2>"$SCRATCH/psql_$pass.err"; then
        ok "the SQL migration applies to PostgreSQL ($pass)"
    else
        not_ok "the SQL migration fails to apply ($pass)"
        show "$SCRATCH/psql_$pass.err"
    fi
done
check_columns sql fix_sql
db_diff sql_db_diff "$repo" "$url"

# PostgreSQL < 12: enum values before BEGIN; also runs twice.
printf 'postgres_version: 11\n' >"$repo/driftguard.yml"
git -C "$repo" rm -q --cached "$file"
mv "$repo/$file" "$SCRATCH/002.sql"
run sql_fix_11 0 "$repo" fix
url=$(db fix_sql_11)
"${PSQL[@]}" -d fix_sql_11 -f "$repo/database/migrations/001_initial.sql"
check "postgres_version 11: ADD VALUE comes before BEGIN" \
    test "$(grep -n 'ADD VALUE' "$SCRATCH/sql_fix_11.out" | cut -d: -f1)" -lt "$(grep -n '^BEGIN;' "$SCRATCH/sql_fix_11.out" | cut -d: -f1)"
check "postgres_version 11: the migration applies twice" \
    sh -c "${PSQL[*]} -d fix_sql_11 -f '$SCRATCH/sql_fix_11.out' && ${PSQL[*]} -d fix_sql_11 -f '$SCRATCH/sql_fix_11.out'"
check_columns sql_11 fix_sql_11

# --- Alembic ----------------------------------------------------------------------------------
alembic_project() {
    local dir=$1
    mkdir -p "$dir/migrations/versions"
    git -C "$dir" init -q -b main
    cat >"$dir/alembic.ini" <<'INI'
[alembic]
script_location = %(here)s/migrations
file_template = %%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s
INI
    cat >"$dir/migrations/env.py" <<'PY'
import os

from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine(os.environ["DATABASE_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
PY
    cat >"$dir/migrations/script.py.mako" <<'MAKO'
"""${message}"""
MAKO
    cat >"$dir/migrations/versions/0001_initial.py" <<'PY'
"""initial

Revision ID: 0001
Revises:
Create Date: 2024-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE SCHEMA IF NOT EXISTS core")
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(length=255), nullable=False),
        schema="core",
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("core.customers.id"), nullable=False),
        sa.Column("status", postgresql.ENUM("pending", "confirmed", name="booking_status", schema="core"), nullable=False, server_default="pending"),
        schema="core",
    )


def downgrade():
    op.drop_table("bookings", schema="core")
    op.drop_table("customers", schema="core")
    op.execute("DROP TYPE core.booking_status")
PY
    write_models "$dir"
    git -C "$dir" add -A
    git -C "$dir" commit -q --no-verify -m initial
}

alembic_in() {
    local dir=$1 url=$2
    shift 2
    (cd "$dir" && DATABASE_URL=${url/postgresql:/postgresql+psycopg:} "$TOOLS/alembic" "$@")
}

proj=$SCRATCH/alembic
alembic_project "$proj"
# PostgreSQL < 12: the enum value is added in an autocommit block, outside the transaction.
printf 'postgres_version: 11\n' >"$proj/driftguard.yml"
url=$(db fix_alembic)
check "alembic upgrade head: the first revision" alembic_in "$proj" "$url" upgrade head
run alembic_fix 0 "$proj" fix --write
revision=$(cat "$SCRATCH/alembic_fix.out")
check "postgres_version 11: the enum value goes through autocommit_block()" \
    grep -q "with op.get_context().autocommit_block():" "$proj/$revision"
check "the revision is named by alembic.ini's file_template ($revision)" \
    sh -c "case '$revision' in migrations/versions/2025_01_02_0304-*_create_reviews_and_add_customers_columns.py) true;; *) false;; esac"
check "its down_revision is the head" grep -q "^down_revision = '0001'$" "$proj/$revision"
run alembic_check 0 "$proj" check
if alembic_in "$proj" "$url" upgrade head >"$SCRATCH/upgrade.out" 2>&1; then
    ok "alembic upgrade head runs the revision fix wrote"
else
    not_ok "alembic upgrade head fails on the revision fix wrote"
    show "$SCRATCH/upgrade.out"
    show "$proj/$revision"
fi
check_columns alembic fix_alembic
db_diff alembic_db_diff "$proj" "$url"
check "alembic downgrade 0001 undoes it" alembic_in "$proj" "$url" downgrade 0001
check "and alembic upgrade head runs it again" alembic_in "$proj" "$url" upgrade head

# Two heads: the revision fix writes merges them.
proj=$SCRATCH/heads
alembic_project "$proj"
for id in 0002a 0002b; do
    printf '"""%s"""\nrevision = "%s"\ndown_revision = "0001"\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n' \
        "$id" "$id" >"$proj/migrations/versions/$id.py"
done
url=$(db fix_heads)
check "alembic upgrade heads: both branches" alembic_in "$proj" "$url" upgrade heads
run heads_fix 0 "$proj" fix --write
revision=$(cat "$SCRATCH/heads_fix.out")
check "its down_revision merges both heads" grep -q "^down_revision = ('0002a', '0002b')$" "$proj/$revision"
check "alembic upgrade head runs the merging revision" alembic_in "$proj" "$url" upgrade head
check "alembic heads: one head" test "$(alembic_in "$proj" "$url" heads | wc -l)" = 1
check_columns heads fix_heads

finish
