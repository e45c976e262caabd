#!/usr/bin/env bash
# The PostgreSQL oracle: proves `driftguard schema` right against a real server.
#
#   tests/oracle/run.sh [PROJECT_ROOT …]     (paths relative to the repository root, or absolute)
#
# For every migration corpus (default: the example project, tests/oracle/corpus and
# tests/oracle/one-database), it asks driftguard which sources and files run and in what order,
# applies exactly those to a fresh database — SQL files with one `psql -X -v ON_ERROR_STOP=1 -f`
# per file, as the handbook does; an Alembic environment rendered by `alembic upgrade head
# --sql` (alembic and SQLAlchemy from PyPI, in a cached venv; its `alembic.ini` sits at the
# corpus root) — in driftguard's documented one-database order, reads
# information_schema.columns (base tables) and pg_enum back, and compares them with
# `driftguard schema --format json`: the same (schema, table, column) set, the same data_type,
# is_nullable and column order, the same enum values in order. Any disagreement fails.
#
# PostgreSQL: installed with apt-get when missing (root only). Without root or apt-get it is a
# loud SKIP, or a failure when CI=true. Whatever cluster Debian starts is left alone: this
# script runs its own with initdb/pg_ctl (off PATH) in a temp dir, as the postgres user,
# listening on 127.0.0.1 at a free port, and stops it on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf 'oracle: %s\n' "$*"; }
fail() { printf 'oracle: FAIL: %s\n' "$*" >&2; exit 1; }
skip() {
  if [ "${CI:-}" = "true" ]; then
    fail "$* (CI=true: the oracle must run)"
  fi
  printf '\noracle: ********************************************************\n' >&2
  printf 'oracle: SKIP: %s\n' "$*" >&2
  printf 'oracle: ********************************************************\n\n' >&2
  exit 0
}

if [ "$#" -gt 0 ]; then
  CORPORA=("$@")
else
  CORPORA=(examples/hibachi-backend tests/oracle/corpus tests/oracle/one-database)
fi

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

# --- PostgreSQL ---------------------------------------------------------------------------
pg_bin() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best="$d"
  done
  if [ -z "$best" ] && command -v dpkg >/dev/null 2>&1; then
    best=$(dpkg -L postgresql-15 2>/dev/null | grep '/bin/initdb$' | head -n1 | xargs -r dirname)
  fi
  printf '%s' "$best"
}

AS_ROOT=false
[ "$(id -u)" = "0" ] && AS_ROOT=true
PGBIN=$(pg_bin)
if [ -z "$PGBIN" ] || ! command -v psql >/dev/null 2>&1; then
  if $AS_ROOT && command -v apt-get >/dev/null 2>&1; then
    say "installing PostgreSQL (apt-get)"
    apt-get update -qq >/dev/null || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || fail "apt-get install postgresql failed"
    PGBIN=$(pg_bin)
  else
    skip "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)"
  fi
fi
[ -n "$PGBIN" ] || fail "PostgreSQL was installed but initdb was not found under /usr/lib/postgresql"

# Run a server command as the postgres user (as root), or as ourselves.
as_pg() {
  if $AS_ROOT; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/driftguard-oracle.XXXXXX")
PGDATA_DIR="$WORK/data"
STARTED=false
cleanup() {
  if $STARTED; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
$AS_ROOT && chown postgres: "$WORK"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --no-locale --no-sync \
  >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; fail "initdb failed"; }
as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK -c fsync=off -c full_page_writes=off" \
  start >/dev/null || { cat "$WORK/server.log" >&2; fail "the PostgreSQL server did not start"; }
STARTED=true
say "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"

export PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)

# --- driftguard -----------------------------------------------------------------------------
say "building the release binary"
DRIFTGUARD="$WORK/driftguard"
# The target dir may be shared with other checkouts building at the same time: keep our own
# copy of the binary for the whole run, and build again if another build replaced it.
for attempt in 1 2 3; do
  cargo build --release --quiet
  if cp "$CARGO_TARGET_DIR/release/driftguard" "$DRIFTGUARD" 2>/dev/null \
    && "$DRIFTGUARD" schema --help >/dev/null 2>&1; then
    break
  fi
  [ "$attempt" -lt 3 ] || fail "could not build a driftguard binary with the schema command"
  sleep 5
done

# --- alembic, for corpora with an Alembic environment ------------------------------------------
ALEMBIC=""
alembic_bin() {
  if [ -n "$ALEMBIC" ]; then
    return 0
  fi
  local requirements="$ROOT/tests/oracle/requirements.txt" cache venv
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/driftguard-test
  venv="$cache/oracle-$(cksum <"$requirements" | cut -d' ' -f1)"
  mkdir -p "$cache"
  if [ ! -x "$venv/bin/alembic" ]; then
    say "installing alembic into $venv"
    rm -rf "$venv"
    { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"; } >&2 \
      || { rm -rf "$venv"; skip "cannot install alembic from PyPI (tests/oracle/requirements.txt)"; }
  fi
  ALEMBIC="$venv/bin/alembic"
}

# --- each corpus ----------------------------------------------------------------------------
AUDIT=$(cat "$ROOT/tests/oracle/audit.sql")
ARGS=()
n=0
for corpus in "${CORPORA[@]}"; do
  n=$((n + 1))
  name=$(basename "$corpus")
  out="$WORK/corpus-$n"
  mkdir -p "$out"
  # The one database all sources build, in driftguard's order.
  "$DRIFTGUARD" schema "$corpus" --format json >"$out/driftguard.json" 2>"$out/warnings.txt" \
    || { cat "$out/warnings.txt" >&2; fail "$name: driftguard schema could not run"; }
  # One line per step: `sql<TAB>file` or `alembic<TAB>source name`.
  python3 -c 'import json, sys
for source in json.load(open(sys.argv[1]))["sources"]:
    if source["name"].startswith("Alembic"):
        print("alembic\t" + source["name"])
    else:
        for f in source["files"]:
            print("sql\t" + f)' "$out/driftguard.json" >"$out/steps.txt"
  python3 -c 'import json, sys
for source in json.load(open(sys.argv[1]))["sources"]:
    for f in source["files"]:
        print(f)' "$out/driftguard.json" >"$out/files.txt"
  found=$(find "$corpus" -name '*.sql' -path '*migrations*' | wc -l)
  listed=$(grep -c '^sql' "$out/steps.txt" || true)
  [ -s "$out/steps.txt" ] || fail "$name: driftguard found no migration files"
  [ "$listed" -eq "$found" ] || say "$name: note: driftguard runs $listed of the $found .sql files (down migrations are never run)"
  db="oracle_$n"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db" >/dev/null
  while IFS=$'\t' read -r kind step; do
    case "$kind" in
      sql) file="$corpus/$step" ;;
      alembic)
        alembic_bin
        [ -f "$corpus/alembic.ini" ] || fail "$name: $step needs an alembic.ini at the corpus root"
        file="$out/alembic.sql"
        (cd "$corpus" && "$ALEMBIC" -c alembic.ini upgrade head --sql) >"$file" 2>"$out/alembic.log" \
          || { cat "$out/alembic.log" >&2; fail "$name: alembic could not render $step"; }
        ;;
    esac
    if ! "${PSQL[@]}" -d "$db" -f "$file" >"$out/apply.log" 2>&1; then
      cat "$out/apply.log" >&2
      fail "$name: $step does not apply on PostgreSQL"
    fi
  done <"$out/steps.txt"
  "${PSQL[@]}" -d "$db" -At -c "$AUDIT" >"$out/database.json"
  ARGS+=("$name=$out")
done

python3 "$ROOT/tests/oracle/compare.py" "${ARGS[@]}"
