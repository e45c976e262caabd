#!/usr/bin/env bash
# Every SQL statement driftguard suggests must run on PostgreSQL (issue 11, item 8).
#
#   tests/suggestions/run.sh
#
# For each project — the bundled example (examples/hibachi-backend, whose `identity.user_roles`
# has a composite primary key) and the fixture tests/suggestions/every_rule, whose models leave
# gaps for the rules that suggest SQL (DG001, DG002, DG003, DG005, DG006; a composite primary
# key, comments, an enum type and a schema no migration creates) — it checks two ways:
#
# 1. `check`: collects the `suggestion` of every finding of `driftguard check --format json`,
#    applies the project's migrations to a fresh database of a throw-away PostgreSQL cluster
#    (tests/pg/cluster.sh), in the order `driftguard schema --format json` gives, then the
#    suggestions, each with `psql -v ON_ERROR_STOP=1`: types first (DG004, DG003), then
#    tables (DG007, DG002), then columns (DG001, DG005, DG006) — the order a person pastes
#    them in;
# 2. `db-diff`: against an empty database, collects the suggestions of DG101-DG104 (and
#    DG005/DG006) and applies them the same way — every table of the models, from nothing.
#
# Every statement must succeed (identical statements are applied once: two columns of one
# missing enum type suggest the same CREATE TYPE), and afterwards `db-diff` must find nothing
# of DG101-DG104 missing.
#
# Without PostgreSQL (and no root to install it) this is a loud SKIP, or a failure when CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf 'suggestions: %s\n' "$*"; }
fail() { printf 'suggestions: FAIL: %s\n' "$*" >&2; exit 1; }
skip() {
  if [ "${CI:-}" = "true" ]; then
    fail "$* (CI=true: the suggestions test must run)"
  fi
  printf '\nsuggestions: ********************************************************\n' >&2
  printf 'suggestions: SKIP: %s\n' "$*" >&2
  printf 'suggestions: ********************************************************\n\n' >&2
  exit 0
}

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (needed to read the JSON output)"

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
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

say "building the release binary"
cargo build --release --quiet
# The target dir may be shared: keep our own copy of the binary for the whole run.
cp "$CARGO_TARGET_DIR/release/driftguard" "$PG_WORK/driftguard"
DG="$PG_WORK/driftguard"

# collect JSON DIR: writes DIR/suggestion-NNN-RULE.sql in the order to apply them, one per
# distinct statement; prints how many.
collect() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
order = {"DG104": 0, "DG004": 0, "DG103": 1, "DG003": 1, "DG007": 2, "DG102": 3, "DG002": 3,
         "DG101": 4, "DG001": 4, "DG005": 5, "DG006": 6}
found = [f for f in report["findings"] if f.get("suggestion")]
found.sort(key=lambda f: order.get(f["rule"], 9))
seen = set()
n = 0
for f in found:
    if f["suggestion"] in seen:
        continue
    seen.add(f["suggestion"])
    with open(f"{sys.argv[2]}/suggestion-{n:03d}-{f['rule']}.sql", "w") as out:
        out.write(f["suggestion"] + "\n")
    n += 1
print(n)
EOF
}

# apply NAME DB DIR: applies DIR's suggestions to DB, each must succeed; prints which rules.
apply() {
  local name=$1 db=$2 dir=$3 file
  for file in "$dir"/suggestion-*.sql; do
    if ! "${PSQL[@]}" -d "$db" -f "$file" >"$dir/apply.log" 2>&1; then
      cat "$file" "$dir/apply.log" >&2
      fail "$name: the suggestion above does not run on PostgreSQL"
    fi
  done
  find "$dir" -name 'suggestion-*.sql' | sed -E 's/.*-(DG[0-9]+)\.sql/\1/' | sort | uniq -c \
    | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "}'
}

# nothing_missing NAME PROJECT DB DIR: db-diff on DB reports no DG101-DG104.
nothing_missing() {
  local name=$1 project=$2 db=$3 dir=$4 code=0
  "$DG" db-diff "$project" --database-url "postgresql://postgres@127.0.0.1:$PGPORT/$db?sslmode=disable" \
    --format json >"$dir/after.json" 2>"$dir/after.err" || code=$?
  [ "$code" -le 1 ] || { cat "$dir/after.err" >&2; fail "$name: db-diff could not run (exit $code)"; }
  python3 - "$dir/after.json" "$name" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
left = [(f["rule"], f["target"]) for f in report["findings"] if f["rule"] in ("DG101", "DG102", "DG103", "DG104")]
assert not left, f"{sys.argv[2]}: after the suggestions the database still lacks {left}"
EOF
}

PROJECTS=(examples/hibachi-backend tests/suggestions/every_rule)
total=0
n=0
for project in "${PROJECTS[@]}"; do
  n=$((n + 1))
  name=$(basename "$project")

  # 1. check's suggestions, after the migrations.
  out="$PG_WORK/check-$n"
  mkdir -p "$out"
  code=0
  "$DG" check "$project" --format json >"$out/check.json" 2>"$out/check.err" || code=$?
  [ "$code" -le 1 ] || { cat "$out/check.err" >&2; fail "$name: driftguard check could not run (exit $code)"; }
  count=$(collect "$out/check.json" "$out")
  "$DG" schema "$project" --format json --source sql >"$out/schema.json" 2>"$out/schema.err" \
    || { cat "$out/schema.err" >&2; fail "$name: driftguard schema could not run"; }
  db="check_$n"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db"
  python3 -c 'import json, sys
for source in json.load(open(sys.argv[1]))["sources"]:
    for f in source["files"]:
        print(f)' "$out/schema.json" >"$out/files.txt"
  while IFS= read -r file; do
    "${PSQL[@]}" -d "$db" -f "$project/$file" >"$out/apply.log" 2>&1 \
      || { cat "$out/apply.log" >&2; fail "$name: the migration $file does not apply"; }
  done <"$out/files.txt"
  if [ "$count" -gt 0 ]; then
    rules=$(apply "$name" "$db" "$out")
    nothing_missing "$name" "$project" "$db" "$out"
    say "ok: $name: check's $count suggestion(s) run after the migrations ($rules); db-diff then finds nothing missing"
  else
    say "ok: $name: check suggests nothing"
  fi
  total=$((total + count))

  # 2. db-diff's suggestions, on an empty database.
  out="$PG_WORK/dbdiff-$n"
  mkdir -p "$out"
  db="empty_$n"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $db"
  code=0
  "$DG" db-diff "$project" --database-url "postgresql://postgres@127.0.0.1:$PGPORT/$db?sslmode=disable" \
    --format json >"$out/dbdiff.json" 2>"$out/dbdiff.err" || code=$?
  [ "$code" -eq 1 ] || { cat "$out/dbdiff.err" >&2; fail "$name: db-diff on an empty database exited $code, expected 1"; }
  count=$(collect "$out/dbdiff.json" "$out")
  [ "$count" -gt 0 ] || fail "$name: db-diff on an empty database suggested nothing"
  rules=$(apply "$name" "$db" "$out")
  nothing_missing "$name" "$project" "$db" "$out"
  say "ok: $name: db-diff's $count suggestion(s) build the models' tables in an empty database ($rules)"
  total=$((total + count))
done
[ "$total" -gt 0 ] || fail "no suggestion was tried: the test proves nothing"
say "all $total suggestions ran on PostgreSQL"
