#!/usr/bin/env bash
# The DG008 oracle: the statements `driftguard check` reports as `migration-will-fail` are
# exactly the statements PostgreSQL rejects.
#
#   tests/oracle/failures/run.sh [PROJECT_ROOT …]   (default: the sets beside this script and
#                                                    the bundled example)
#
# For each project it asks `driftguard schema --format json` which SQL files run and in what
# order, and applies each to a fresh database of a throw-away PostgreSQL cluster
# (tests/pg/cluster.sh) with one `psql -X -f FILE` — no ON_ERROR_STOP, as the handbook's team
# runs them. PostgreSQL's primary errors (`psql:FILE:LINE: ERROR:`, without the "current
# transaction is aborted" cascade) are mapped to the statement they end (file, ordinal among
# the file's statements), and must equal the DG008 findings of `driftguard check --format
# json` (file, `statement N`). Then the schema left behind must equal `driftguard schema`
# (tests/oracle/compare.py): what a failed statement or a rolled-back transaction would have
# made is in neither.
#
# `kinds` holds every failure kind DG008 reports (outside and inside transactions, a restart
# after statements that ran, dropped and later-created tables, the enum value used in its own
# transaction, the handbook's foreign key uuid → integer); `clean` and the example apply
# without an error, twice where they are idempotent.
#
# Without PostgreSQL (and no root to install it) this is a loud SKIP, or a failure when CI=true.
# DRIFTGUARD_BIN=path runs that binary instead of building the release one.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE/../../.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf 'failures oracle: %s\n' "$*"; }
fail() { printf 'failures oracle: FAIL: %s\n' "$*" >&2; exit 1; }
skip() {
  if [ "${CI:-}" = "true" ]; then
    fail "$* (CI=true: the DG008 oracle must run)"
  fi
  printf '\nfailures oracle: ********************************************************\n' >&2
  printf 'failures oracle: SKIP: %s\n' "$*" >&2
  printf 'failures oracle: ********************************************************\n\n' >&2
  exit 0
}

if [ "$#" -gt 0 ]; then
  PROJECTS=("$@")
else
  PROJECTS=(tests/oracle/failures/kinds tests/oracle/failures/clean examples/hibachi-backend)
fi

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

# shellcheck source=tests/pg/cluster.sh
source "$ROOT/tests/pg/cluster.sh"
rc=0
pg_start || rc=$?
case $rc in
  0) ;;
  3) skip "$PG_SKIP_REASON" ;;
  *) fail "the throw-away PostgreSQL cluster did not start" ;;
esac
export PGOPTIONS="-c client_min_messages=warning"
say "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"

if [ -n "${DRIFTGUARD_BIN:-}" ]; then
  say "using $DRIFTGUARD_BIN"
  cp "$DRIFTGUARD_BIN" "$PG_WORK/driftguard"
else
  say "building the release binary"
  cargo build --release --quiet
  # The target dir may be shared: keep our own copy of the binary for the whole run.
  cp "$CARGO_TARGET_DIR/release/driftguard" "$PG_WORK/driftguard"
fi
DG="$PG_WORK/driftguard"

AUDIT=$(cat "$ROOT/tests/oracle/audit.sql")
JUDGE_ARGS=()
COMPARE_ARGS=()
n=0
for project in "${PROJECTS[@]}"; do
  n=$((n + 1))
  name=$(basename "$project")
  out="$PG_WORK/failures-$n"
  mkdir -p "$out"
  "$DG" schema "$project" --format json >"$out/driftguard.json" 2>"$out/warnings.txt" \
    || { cat "$out/warnings.txt" >&2; fail "$name: driftguard schema could not run"; }
  set +e
  "$DG" check "$project" --format json >"$out/check.json" 2>>"$out/warnings.txt"
  status=$?
  set -e
  [ "$status" -le 1 ] || { cat "$out/warnings.txt" >&2; fail "$name: driftguard check could not run"; }
  python3 -c 'import json, sys
for source in json.load(open(sys.argv[1]))["sources"]:
    if source["name"].startswith("Alembic"):
        sys.exit("an Alembic source: this oracle runs SQL migrations only")
    for f in source["files"]:
        print(f)' "$out/driftguard.json" >"$out/files.txt" || fail "$name: not a SQL-only project"
  [ -s "$out/files.txt" ] || fail "$name: driftguard found no migration files"
  db="failures_$n"
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null
  : >"$out/errors.txt"
  while IFS= read -r file; do
    # psql names the file as given: run it from the project root with the relative path.
    (cd "$project" && psql -X -q -d "$db" -f "$file") >>"$out/apply.log" 2>>"$out/errors.txt" || true
  done <"$out/files.txt"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -At -c "$AUDIT" >"$out/database.json"
  JUDGE_ARGS+=("$name=$project=$out")
  COMPARE_ARGS+=("$name=$out")
done

python3 "$HERE/judge.py" "${JUDGE_ARGS[@]}"
python3 "$ROOT/tests/oracle/compare.py" "${COMPARE_ARGS[@]}"
