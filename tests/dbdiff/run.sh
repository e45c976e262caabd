#!/usr/bin/env bash
# `driftguard db-diff` end to end, against a throw-away PostgreSQL cluster (tests/pg/cluster.sh).
#
#   tests/dbdiff/run.sh
#
# Creates a role with a password (scram-sha-256 over TCP) and a database it owns, applies the
# first migration of a small model project with psql (so the database lacks a column and an
# enum value the models map), then runs the release binary's `db-diff` with a
# `postgresql+asyncpg://role:password@127.0.0.1:PORT/db` URL and checks: exit 1 with exactly the
# expected DG101 and DG103 in `--format json`; `connected to database` on stderr; the password
# never printed (also not by `--help`, a wrong password or an unreachable server); that nothing
# was written (every statement db-diff sent, from the server's log, is a read, and a checksum
# of the schema is unchanged); `--with-migrations` pointing at the unapplied migration;
# `--schemas`; an unreachable server and a missing URL exit 2 with a clear message; exit 0
# once the migration is applied; and TLS as managed PostgreSQL requires it (a self-signed CA
# made with openssl, `ssl=on`, a role that may connect only with TLS): verify-full, verify-ca,
# prefer, PGSSLMODE/PGSSLROOTCERT/PGPASSWORD, an untrusted CA, a wrong host name, disable.
#
# Without PostgreSQL (and no root to install it) this is a loud SKIP, or a failure when CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf 'dbdiff: %s\n' "$*"; }
fail() { printf 'dbdiff: FAIL: %s\n' "$*" >&2; exit 1; }
skip() {
  if [ "${CI:-}" = "true" ]; then
    fail "$* (CI=true: the db-diff test must run)"
  fi
  printf '\ndbdiff: ********************************************************\n' >&2
  printf 'dbdiff: SKIP: %s\n' "$*" >&2
  printf 'dbdiff: ********************************************************\n\n' >&2
  exit 0
}

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (needed to read the JSON output)"

command -v openssl >/dev/null 2>&1 || skip "openssl is not installed (it makes the test server's TLS certificate: apt-get install openssl)"

# A certificate authority and a server certificate for 127.0.0.1 and localhost, as a managed
# PostgreSQL has (their CA file is what users pass as sslrootcert), and a second CA that
# signed nothing here.
CERTS=$(mktemp -d "${TMPDIR:-/tmp}/driftguard-certs.XXXXXX")
trap 'rm -rf "$CERTS"' EXIT
make_certs() {
  cd "$CERTS" || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=driftguard test CA" \
    -keyout ca.key -out ca.crt
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
    -keyout other-ca.key -out other-ca.crt
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out server.crt
  chmod 600 server.key
  chmod 755 "$CERTS"
  if [ "$(id -u)" = "0" ]; then chown postgres: server.key server.crt; fi
}
(make_certs) >"$CERTS/openssl.log" 2>&1 || { cat "$CERTS/openssl.log" >&2; fail "openssl could not make the test certificates"; }

# shellcheck source=tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
export PG_AUTH_HOST=scram-sha-256
export PG_SERVER_OPTS="-c ssl=on -c ssl_cert_file=$CERTS/server.crt -c ssl_key_file=$CERTS/server.key -c log_connections=on"
rc=0
pg_start || rc=$?
case $rc in
  0) ;;
  3) skip "$PG_SKIP_REASON" ;;
  *) fail "the throw-away PostgreSQL cluster did not start" ;;
esac
export PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# --- driftguard -----------------------------------------------------------------------------
say "building the release binary"
cargo build --release --quiet
# The target dir may be shared: keep our own copy of the binary for the whole run.
cp "$CARGO_TARGET_DIR/release/driftguard" "$PG_WORK/driftguard"
DG="$PG_WORK/driftguard"

# --- the database ---------------------------------------------------------------------------
ROLE=dg_app
DB=dg_shop
# Unencoded `@`, `#` and `/` in the URL: the user info ends at the last `@` (issue 11).
PASSWORD='S3cr@t#7Qx/y'
WRONG='wr0ng@3Zp#q'
# No piece of either may be printed.
SECRET_PIECES=(S3cr 7Qx wr0ng 3Zp)
"${PSQL[@]}" -d postgres <<SQL
CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
CREATE DATABASE $DB OWNER $ROLE;
-- Every statement of db-diff's sessions lands in the server log, prefixed with its
-- application_name, to prove below that it only reads.
ALTER ROLE $ROLE SET log_statement = 'all';
ALTER SYSTEM SET log_line_prefix = '[%a] ';
SELECT pg_reload_conf() \gset
SQL
URL="postgresql+asyncpg://$ROLE:$PASSWORD@127.0.0.1:$PGPORT/$DB"

# --- the model project ------------------------------------------------------------------------
P="$PG_WORK/project"
mkdir -p "$P/database/migrations" "$P/app"
cat >"$P/database/migrations/001_initial.sql" <<'SQL'
CREATE SCHEMA IF NOT EXISTS core;
CREATE TYPE core.booking_status AS ENUM ('pending', 'confirmed');
CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS core.bookings (
    id SERIAL PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES core.customers (id),
    status core.booking_status NOT NULL DEFAULT 'pending'
);
SQL
cat >"$P/database/migrations/002_contact_preference.sql" <<'SQL'
ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);
ALTER TYPE core.booking_status ADD VALUE IF NOT EXISTS 'cancelled_by_chef';
SQL
cat >"$P/app/models.py" <<'PY'
import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, Enum, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class BookingStatus(enum.Enum):
    pending = "pending"
    confirmed = "confirmed"
    cancelled_by_chef = "cancelled_by_chef"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    contact_preference: Mapped[Optional[str]] = mapped_column(String(20))


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core.customers.id"))
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, name="booking_status", schema="core"), server_default="pending"
    )
PY

# The migrations create everything the models map: `check` is clean.
"$DG" check "$P" >"$PG_WORK/check.out" 2>&1 || { cat "$PG_WORK/check.out" >&2; fail "driftguard check is not clean on the test project"; }

# Only the first migration reaches the database.
PGPASSWORD=$PASSWORD "${PSQL[@]}" -U "$ROLE" -d "$DB" -f "$P/database/migrations/001_initial.sql"

schema_checksum() {
  "${PSQL[@]}" -d "$DB" -At -c "
    SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM (
      SELECT concat_ws(',', table_schema, table_name, column_name, data_type, is_nullable, column_default) AS x
        FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
      UNION ALL
      SELECT concat_ws(',', t.typname, e.enumlabel, e.enumsortorder::text)
        FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid) s"
}
BEFORE=$(schema_checksum)

# run NAME EXPECTED_EXIT ARGS… — runs driftguard, keeps stdout/stderr in $PG_WORK/NAME.{out,err}.
run() {
  local name=$1 expected=$2 code=0
  shift 2
  "$DG" "$@" >"$PG_WORK/$name.out" 2>"$PG_WORK/$name.err" || code=$?
  if [ "$code" != "$expected" ]; then
    cat "$PG_WORK/$name.out" "$PG_WORK/$name.err" >&2
    fail "$name: exit $code, expected $expected"
  fi
  for secret in "$PASSWORD" "$WRONG" "${SECRET_PIECES[@]}"; do
    if grep -qF "$secret" "$PG_WORK/$name.out" "$PG_WORK/$name.err"; then
      fail "$name: the password was printed"
    fi
  done
}

# --- 1. JSON: exactly the missing column and the missing enum value ---------------------------
run json 1 db-diff "$P" --database-url "$URL" --format json
python3 - "$PG_WORK/json.out" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
found = sorted(
    (f["rule"], f["target"]["schema"], f["target"]["table"], f["target"].get("column"), f["target"].get("value"))
    for f in report["findings"]
)
expected = sorted([
    ("DG101", "core", "customers", "contact_preference", None),
    ("DG103", "core", "bookings", "status", "cancelled_by_chef"),
])
assert found == expected, f"findings {found}, expected {expected}"
for f in report["findings"]:
    assert f["location"]["path"] == "app/models.py", f["location"]
    assert f["severity"] == "error", f
dg101 = next(f for f in report["findings"] if f["rule"] == "DG101")
assert dg101["suggestion"] == "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS contact_preference VARCHAR(20);", dg101
assert 'database "dg_shop"' in dg101["message"], dg101["message"]
assert report["summary"]["tables"] == 2, report["summary"]
PY
CONNECTED="connected to database \"$DB\" as \"$ROLE\" on 127.0.0.1:$PGPORT (read-only)"
[ "$(head -n1 "$PG_WORK/json.err")" = "$CONNECTED" ] || { cat "$PG_WORK/json.err" >&2; fail "json: the first stderr line is not: $CONNECTED"; }
say "ok: --format json reports DG101 contact_preference and DG103 cancelled_by_chef, exit 1"

# Every format, with the password in the URL unencoded around `@`: never printed.
for format in human json github sarif junit gitlab markdown; do
  run "format_$format" 1 db-diff "$P" --database-url "$URL" --format "$format"
done
say "ok: no format prints the password"

# --- 2. human, URL from DATABASE_URL ----------------------------------------------------------
DATABASE_URL=$URL run human 1 db-diff "$P" --color never
[ "$(head -n1 "$PG_WORK/human.err")" = "$CONNECTED" ] || fail "human: no connected line first on stderr"
grep -q "DG101(column-missing-in-database)" "$PG_WORK/human.out" || fail "human: no DG101"
grep -q "DG103(enum-value-missing-in-database)" "$PG_WORK/human.out" || fail "human: no DG103"
grep -q "Found 2 errors" "$PG_WORK/human.out" || fail "human: no summary line"
say "ok: human output from DATABASE_URL"

# --- 3. --with-migrations points at the migration that was not applied ------------------------
DATABASE_URL=$URL run migrations 1 db-diff "$P" --with-migrations --format json
python3 - "$PG_WORK/migrations.out" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert len(report["findings"]) == 2, report["findings"]
for f in report["findings"]:
    paths = [r["location"]["path"] for r in f.get("related", [])]
    assert "database/migrations/002_contact_preference.sql" in paths, (f["rule"], paths)
    assert f["help"].startswith("Apply the migration"), f["help"]
assert report["summary"]["migration_files"] == 2, report["summary"]
PY
say "ok: --with-migrations points at 002_contact_preference.sql"

# --- 4. --schemas limits the comparison -------------------------------------------------------
run schemas 0 db-diff "$P" --database-url "$URL" --schemas public,ops
grep -q "No findings" "$PG_WORK/schemas.out" || fail "schemas: expected no findings outside core"
say "ok: --schemas public,ops compares nothing of core"

# --- 5. nothing was written -------------------------------------------------------------------
AFTER=$(schema_checksum)
[ "$BEFORE" = "$AFTER" ] || fail "the schema changed during db-diff"
grep -F '[driftguard db-diff]' "$PG_LOG" | grep -E 'LOG: +(statement|execute [^:]*):' \
  | sed -E 's/.*LOG: +(statement|execute [^:]*): //' >"$PG_WORK/statements.txt" || true
[ -s "$PG_WORK/statements.txt" ] || { tail -n 40 "$PG_LOG" >&2; fail "no db-diff statement in the server log"; }
if grep -viE '^(SELECT|SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY|SET LOCAL statement_timeout|START TRANSACTION ISOLATION LEVEL REPEATABLE READ,? READ ONLY|ROLLBACK)' "$PG_WORK/statements.txt"; then
  fail "db-diff sent a statement that is not a read (above)"
fi
grep -qi '^START TRANSACTION ISOLATION LEVEL REPEATABLE READ,\? READ ONLY' "$PG_WORK/statements.txt" || fail "no read-only transaction in the log"
grep -qx 'ROLLBACK' "$PG_WORK/statements.txt" || fail "the transaction was not rolled back"
say "ok: nothing written ($(wc -l <"$PG_WORK/statements.txt") statements, all reads, schema checksum unchanged)"

# --- 6. the password never shows ----------------------------------------------------------------
DATABASE_URL=$URL run help 0 db-diff --help
grep -q -- "--database-url" "$PG_WORK/help.out" || fail "help: no --database-url"
run wrong_password 2 db-diff "$P" --database-url "postgresql+psycopg2://$ROLE:$WRONG@127.0.0.1:$PGPORT/$DB"
grep -q "password authentication failed" "$PG_WORK/wrong_password.err" || { cat "$PG_WORK/wrong_password.err" >&2; fail "wrong password: no clear message"; }
say "ok: --help and a wrong password do not print it"

# --- 7. unreachable server, missing URL ------------------------------------------------------------
CLOSED=$(pg_free_port)
start=$(date +%s)
run unreachable 2 db-diff "$P" --database-url "postgresql://$ROLE:$PASSWORD@127.0.0.1:$CLOSED/$DB"
grep -q "^error: cannot connect to postgresql://$ROLE@127.0.0.1:$CLOSED/$DB: " "$PG_WORK/unreachable.err" \
  || { cat "$PG_WORK/unreachable.err" >&2; fail "unreachable: unclear message"; }
[ $(($(date +%s) - start)) -lt 15 ] || fail "unreachable: took longer than the connect timeout"
(unset DATABASE_URL; run no_url 2 db-diff "$P")
grep -q -- "--database-url" "$PG_WORK/no_url.err" || fail "no URL: the message does not say how to pass one"
say "ok: unreachable server and missing URL exit 2 with a clear message"

# --- 8. once the migration is applied the database is clean ---------------------------------------
PGPASSWORD=$PASSWORD "${PSQL[@]}" -U "$ROLE" -d "$DB" -f "$P/database/migrations/002_contact_preference.sql"
run applied 0 db-diff "$P" --database-url "$URL" --with-migrations
grep -q "No findings" "$PG_WORK/applied.out" || fail "applied: expected no findings"
say "ok: after applying 002 the database matches the models"

# --- 9. TLS, as managed PostgreSQL requires it ---------------------------------------------------
# A role that may only connect with TLS (`hostnossl … reject`, first in pg_hba.conf), like a
# managed server's users.
TLS_ROLE=dg_tls
"${PSQL[@]}" -d postgres -c "CREATE ROLE $TLS_ROLE LOGIN PASSWORD '$PASSWORD'"
"${PSQL[@]}" -d "$DB" -c "GRANT USAGE ON SCHEMA core TO $TLS_ROLE; GRANT SELECT ON ALL TABLES IN SCHEMA core TO $TLS_ROLE"
HBA=$PG_WORK/data/pg_hba.conf
_pg_as sh -c "{ printf 'hostnossl all $TLS_ROLE 127.0.0.1/32 reject\n'; cat '$HBA'; } >'$HBA.new' && mv '$HBA.new' '$HBA'"
"${PSQL[@]}" -d postgres -c 'SELECT pg_reload_conf()' >/dev/null
TLS_BASE="postgresql://$TLS_ROLE:$PASSWORD@127.0.0.1:$PGPORT/$DB"

run tls_verify_full 0 db-diff "$P" --database-url "$TLS_BASE?sslmode=verify-full&sslrootcert=$CERTS/ca.crt"
grep -q "No findings" "$PG_WORK/tls_verify_full.out" || fail "tls verify-full: expected no findings"
run tls_localhost 0 db-diff "$P" --database-url "postgresql://$TLS_ROLE:$PASSWORD@localhost:$PGPORT/$DB?sslmode=verify-full&sslrootcert=$CERTS/ca.crt"
run tls_prefer 0 db-diff "$P" --database-url "$TLS_BASE"
PGSSLMODE=verify-full PGSSLROOTCERT=$CERTS/ca.crt PGPASSWORD=$PASSWORD \
  run tls_env 0 db-diff "$P" --database-url "postgresql://$TLS_ROLE@127.0.0.1:$PGPORT/$DB"
grep -E "connection authorized: user=$TLS_ROLE .*SSL enabled" "$PG_LOG" >/dev/null \
  || { tail -n 20 "$PG_LOG" >&2; fail "tls: the server log shows no TLS connection"; }
say "ok: TLS with verify-full (CA file, PGSSLMODE/PGSSLROOTCERT), prefer; the server saw TLS"

run tls_disable 2 db-diff "$P" --database-url "$TLS_BASE?sslmode=disable"
grep -q "no encryption" "$PG_WORK/tls_disable.err" || { cat "$PG_WORK/tls_disable.err" >&2; fail "tls disable: the server's refusal is not shown"; }
run tls_untrusted 2 db-diff "$P" --database-url "$TLS_BASE?sslmode=verify-full&sslrootcert=$CERTS/other-ca.crt"
grep -q "certificate could not be verified (sslmode=verify-full): pass \`sslrootcert=" "$PG_WORK/tls_untrusted.err" \
  || { cat "$PG_WORK/tls_untrusted.err" >&2; fail "tls untrusted: no advice"; }
WRONG_NAME="postgresql://$TLS_ROLE:$PASSWORD@db.wrong.example:$PGPORT/$DB?hostaddr=127.0.0.1&sslrootcert=$CERTS/ca.crt"
run tls_wrong_name 2 db-diff "$P" --database-url "$WRONG_NAME&sslmode=verify-full"
grep -q "certificate does not name the host connected to" "$PG_WORK/tls_wrong_name.err" || { cat "$PG_WORK/tls_wrong_name.err" >&2; fail "tls wrong name: not refused for the name"; }
run tls_verify_ca 0 db-diff "$P" --database-url "$WRONG_NAME&sslmode=verify-ca"
say "ok: sslmode=disable is refused by a TLS-only server; an untrusted CA and a wrong name fail verify-full; verify-ca ignores the name"

say "all db-diff checks passed"
