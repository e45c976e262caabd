#!/usr/bin/env bash
# Validates driftguard's SARIF with the official validator, @microsoft/sarif-multitool.
#
#   tests/sarif_validate.sh [PATH/TO/driftguard]
#
# Two SARIF logs are validated:
#   1. the shared test findings (every format's snapshot input: related places, a table-level
#      finding, a warning-severity finding, warnings, characters that need escaping), written
#      by the unit test `render::sarif::tests::write_shared_sarif_for_the_validator`;
#   2. `driftguard check --format sarif` on a small temp git repository with a gap (a model
#      column no migration creates), through the given binary (default: `cargo build`'s).
#
# The validator is installed with npm into ${XDG_CACHE_HOME:-$HOME/.cache}/driftguard-test/sarif
# (outside the repository) when missing. It exits 0 even when a log is invalid, so this script
# reads its output log and fails on any result of level `error`.
# Without npm: FAIL when CI=true, otherwise a loud SKIP (exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
MULTITOOL_VERSION="${SARIF_MULTITOOL_VERSION:-5.7.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/driftguard-test/sarif"

fail() {
  echo "FAIL sarif_validate: $*"
  exit 1
}

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    fail "npm and node are needed to install the SARIF validator, and CI=true"
  fi
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "SKIP sarif_validate: npm/node not found, the SARIF output was NOT validated"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  exit 0
fi

BIN="${1:-}"
if [ -z "$BIN" ]; then
  cargo build --quiet
  BIN="$CARGO_TARGET_DIR/debug/driftguard"
fi
[ -x "$BIN" ] || fail "no driftguard binary at $BIN"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# A private copy: a target dir shared with other checkouts may be rebuilt while this runs.
cp "$BIN" "$WORK/driftguard"
BIN="$WORK/driftguard"

# 1. The shared findings, from the unit test.
DRIFTGUARD_SARIF_OUT="$WORK/shared.sarif" cargo test --quiet --lib \
  render::sarif::tests::write_shared_sarif_for_the_validator -- --exact >"$WORK/cargo-test.log" 2>&1 \
  || { cat "$WORK/cargo-test.log"; fail "the unit test that writes the shared SARIF failed"; }
[ -s "$WORK/shared.sarif" ] || fail "the unit test wrote no SARIF (was it renamed?)"

# 2. A real run on a temp repository with a gap: `email` is mapped, no migration creates it.
REPO="$WORK/repo"
mkdir -p "$REPO/database/migrations" "$REPO/app"
cat >"$REPO/database/migrations/001.sql" <<'SQL'
CREATE SCHEMA core;
CREATE TABLE core.customers (id serial primary key);
SQL
cat >"$REPO/app/models.py" <<'PY'
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
PY
git_isolated() {
  GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 \
    GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=test@example.invalid \
    GIT_COMMITTER_NAME=Test GIT_COMMITTER_EMAIL=test@example.invalid \
    git -C "$REPO" "$@"
}
git_isolated init -q -b main
git_isolated add -A
git_isolated commit -q -m "customers"
status=0
(cd "$REPO" && "$BIN" check --format sarif >"$WORK/repo.sarif" 2>"$WORK/repo.stderr") || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  cat "$WORK/repo.stderr"
  fail "driftguard check exited $status on the temp repository"
fi

# The validator, once per machine.
TOOL_DIR="$CACHE/node_modules/@microsoft"
if ! ls "$TOOL_DIR"/sarif-multitool-*/Sarif.Multitool >/dev/null 2>&1; then
  echo "installing @microsoft/sarif-multitool@$MULTITOOL_VERSION into $CACHE"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error \
    "@microsoft/sarif-multitool@$MULTITOOL_VERSION" >"$WORK/npm.log" 2>&1 \
    || { cat "$WORK/npm.log"; fail "npm could not install @microsoft/sarif-multitool"; }
fi
MULTITOOL=""
for candidate in "$TOOL_DIR"/sarif-multitool-*/Sarif.Multitool; do
  [ -f "$candidate" ] || continue
  # npm does not run the package's install scripts here, which would set this bit.
  chmod u+x "$candidate"
  case "$(uname -s)-$candidate" in
    Linux-*multitool-linux*|Darwin-*multitool-darwin*) MULTITOOL="$candidate" ;;
  esac
done
[ -n "$MULTITOOL" ] || fail "no Sarif.Multitool for $(uname -s) under $TOOL_DIR"

# Validates one log; prints the problems and returns non-zero when any is an error.
validate() {
  local name="$1" input="$2" output="$WORK/$1.validation.sarif"
  "$MULTITOOL" validate "$input" -o "$output" >"$WORK/$name.validator.log" 2>&1 || {
    cat "$WORK/$name.validator.log"
    echo "the validator did not run on $name"
    return 1
  }
  [ -s "$output" ] || { cat "$WORK/$name.validator.log"; echo "the validator wrote nothing for $name"; return 1; }
  node - "$output" "$name" "$input" <<'JS'
const fs = require("fs");
const [output, name, input] = process.argv.slice(2);
const log = JSON.parse(fs.readFileSync(output, "utf8"));
const checked = JSON.parse(fs.readFileSync(input, "utf8"));
let errors = 0;
let others = 0;
for (const run of log.runs || []) {
  const rules = (run.tool && run.tool.driver && run.tool.driver.rules) || [];
  for (const result of run.results || []) {
    // A result without `level` takes its rule's default, then SARIF's `warning`.
    const rule = rules[result.ruleIndex] || rules.find((r) => r.id === result.ruleId) || {};
    const level = result.level || (rule.defaultConfiguration || {}).level || "warning";
    const where = (((result.locations || [])[0] || {}).physicalLocation || {}).region || {};
    const text = (result.message && (result.message.text || (result.message.arguments || []).join(" "))) || "";
    console.log(`  ${name}: ${level} ${result.ruleId} line ${where.startLine || "?"}: ${text}`);
    if (level === "error") errors += 1; else others += 1;
  }
}
const results = (checked.runs || []).reduce((n, run) => n + (run.results || []).length, 0);
const empty = results === 0 ? " (no results: only the run's structure was checked)" : "";
console.log(`  ${name}: ${results} driftguard result(s) validated${empty}; validator: ${errors} error(s), ${others} other note(s)`);
process.exit(errors > 0 ? 1 : 0);
JS
}

ok=true
validate shared "$WORK/shared.sarif" || ok=false
validate repo "$WORK/repo.sarif" || ok=false
if [ "$ok" = true ]; then
  echo "PASS sarif_validate: shared findings and a real run are valid SARIF 2.1.0 (sarif-multitool $MULTITOOL_VERSION)"
else
  fail "the validator reported errors (above)"
fi
