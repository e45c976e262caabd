#!/usr/bin/env bash
# End-to-end benchmark on a generated backend (5,000 models, 20,000 migration files by default):
#   benches/bench.sh [MODELS] [MIGRATIONS]
# Times `git diff --cached --name-only` (the yardstick for a pre-commit check), `check --staged`
# with nothing relevant staged, with a model change staged, `check --all` and `schema`.
# Uses hyperfine when it is installed, else a best-of-5 loop. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
models=${1:-5000}
migrations=${2:-20000}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/driftguard"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench \
  GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
python3 benches/generate.py "$work/repo" --models "$models" --migrations "$migrations"
cd "$work/repo"
git init -q -b main && git add -A && git commit -qm generated
echo "generated: $models models, $migrations migration files, $(du -sh . | cut -f1) with .git"

time_it() {
  local label=$1; shift
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --warmup 1 --runs 5 -i -N --style basic -n "$label" -- "$*" 2>/dev/null | grep -E 'Time|Range' | sed "s/^/$label: /"
  else
    local best=999999
    for _ in 1 2 3 4 5; do
      local start end
      start=$(date +%s%N)
      "$@" >/dev/null 2>&1 || true
      end=$(date +%s%N)
      local ms=$(( (end - start) / 1000000 ))
      (( ms < best )) && best=$ms
    done
    printf '%-40s best of 5: %6d ms\n' "$label" "$best"
  fi
}

echo "docs" > NOTES.md && git add NOTES.md
time_it "git diff --cached --name-only" git diff --cached --name-only
time_it "check --staged (nothing relevant)" "$bin" check --staged
echo "    bench_extra: Mapped[int]" >> apps/backend/src/db/models/models_0000.py
git add -A
time_it "check --staged (a model changed)" "$bin" check --staged --format json
time_it "check --all" "$bin" check . --format json
time_it "schema --format json" "$bin" schema . --format json
echo "bytes read by --all: $(cat apps/backend/src/db/models/*.py database/migrations/*.sql | wc -c)"
time_it "cat of those bytes" sh -c 'cat apps/backend/src/db/models/*.py database/migrations/*.sql > /dev/null'
