#!/usr/bin/env bash
# The pre-commit benchmark: a new edit (one model column and its migration, staged) on
# generated backends, driftguard beside the floor of any hook.
#
#   benches/bench.sh                 # every scenario below
#   benches/bench.sh sql:500:2000    # only the named ones (style:models:migrations)
#   benches/bench.sh sql+fk:5000:20000  # `+fk`: a foreign key per model (generate.py --foreign-keys)
#
# Per scenario: `check --staged` on a new edit (median of 11, HEAD's side cached by a first
# run) against `git diff --cached --name-only`, each after a 2.5 s pause as a hook runs (and
# the same back to back: `hot`), and again with an aged cache (30,000 more findings
# entries, as months of commits leave); cold (cache folder deleted) against `cat` of
# every model and migration file; `check .` (--all) twice; peak RSS of the new edit's check and
# of the cold one; and `driftguard --version` (the fastest run of ten): what starting and
# ending a process of its own costs, the least any hook beside `git diff` pays.
# Release build. Not part of the test suite. Set BIN to time another binary.
#
# Leave a minute or two after deleting many files (a bench.sh run deletes ~150,000 at its
# end) before timing: on ext4 without a journal (the machine of the README's tables), a new
# file is given an inode past those deleted in the last minute or more, and a new edit's few
# cache writes then took ~1–2 ms longer at 50 / 40 (driftguard makes its files ahead to hide
# most of it: src/cache.rs, `Spares`).
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  scenarios=(sql:50:40 sql:500:2000 sql:5000:20000 alembic:500:2000)
fi
if [[ -z "${BIN:-}" ]]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
  cargo build --release --quiet
  BIN="$CARGO_TARGET_DIR/release/driftguard"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench \
  GIT_AUTHOR_EMAIL=bench@example.invalid GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
unset DRIFTGUARD_NO_CACHE

printf '%-22s | %-34s | %-30s | %-15s | %s\n' scenario "new edit: driftguard / git diff" \
  "cold: driftguard / cat" "RSS edit / cold" "check --all: 1st / 2nd"
for scenario in "${scenarios[@]}"; do
  IFS=: read -r style models migrations <<<"$scenario"
  # `sql+fk`, `alembic+fk`: with a foreign key per model (generate.py --foreign-keys).
  keys=()
  [[ $style == *+fk ]] && keys=(--foreign-keys)
  repo="$work/$style-$models"
  python3 "$here/benches/generate.py" "$repo" --models "$models" --migrations "$migrations" \
    --style "${style%+fk}" "${keys[@]}"
  (cd "$repo" && git init -q -b main && git add -A && git commit -qm generated)
  declare -A r=()
  while IFS='=' read -r k v; do r[$k]=$v; done < <(python3 "$here/benches/newedit.py" "$BIN" "$repo" --style "${style%+fk}" --models "$models")
  printf '%-22s | %8s ms / %6s ms = %5sx | %8s ms / %6s ms = %5sx | %4s / %4s MB | %s ms / %s ms\n' \
    "$style $models/$migrations" "${r[edit_ms]}" "${r[floor_ms]}" "${r[edit_ratio]}" \
    "${r[cold_ms]}" "${r[cat_ms]}" "${r[cold_ratio]}" "${r[edit_rss_mb]}" "${r[cold_rss_mb]}" \
    "${r[all_first_ms]}" "${r[all_again_ms]}"
  printf '%-22s   (back to back: %s ms / %s ms = %sx; first run %s ms; edit min %s ms; `driftguard --version` %s ms; cache %s MB in %s files; new edit with %s more cached findings: %s ms)\n' "" \
    "${r[hot_edit_ms]}" "${r[hot_floor_ms]}" "${r[hot_ratio]}" \
    "${r[first_ms]}" "${r[edit_min_ms]}" "${r[start_ms]}" "${r[cache_mb]}" "${r[cache_files]}" \
    "${r[aged_entries]}" "${r[aged_ms]}"
  # The scenario's repository stays until the run ends: deleting its ~35,000 files (30,000 of
  # them the aged cache's) here slowed the next scenario's cache writes (below).
  unset r
done
