#!/usr/bin/env bash
# `pip install driftguard`: the wheel maturin builds installs into a fresh venv and its
# `driftguard` runs a check.
#   tests/wheel_test.sh
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
wheel_binary

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
wheel=$(basename "$(compgen -G "$DRIFTGUARD_WHEEL_DIR/driftguard-*.whl" | head -n 1)")
check "the wheel carries Cargo's version ($wheel)" \
    test "${wheel#driftguard-"$version"-}" != "$wheel"
check "driftguard --version from the installed wheel" \
    test "$("$DRIFTGUARD_BIN" --version)" = "driftguard $version"

repo=$SCRATCH/repo
handbook_repo "$repo"
check "a clean repository passes" "$DRIFTGUARD_BIN" check "$repo"

add_gap "$repo"
set +e
(cd "$repo" && "$DRIFTGUARD_BIN" check --format json) >"$SCRATCH/out" 2>"$SCRATCH/err"
code=$?
set -e
check "a model column without a migration exits 1" test "$code" = 1
check "and is reported as DG001 on the model line" \
    grep -q '"rule": "DG001"' "$SCRATCH/out"
[ "$FAILED" -eq 0 ] || { show "$SCRATCH/out"; show "$SCRATCH/err"; }

finish
