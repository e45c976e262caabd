#!/usr/bin/env bash
# The pre-commit framework's hooks from .pre-commit-hooks.yaml, as users run them: a commit with
# a model column but no migration is blocked, and passes once the migration is staged.
#   tests/precommit_test.sh
# This working tree, uncommitted and untracked work included, is first committed into a
# repository of its own (`snapshot` in lib.sh; `try-repo` on the tree itself would miss
# untracked files). Then:
# - driftguard-system: `pre-commit try-repo` on it, with the wheel's driftguard on PATH.
# - driftguard (language: rust) and driftguard-python (language: python): a
#   .pre-commit-config.yaml pinned to its commit, `pre-commit install`, real `git commit`s.
#   pre-commit builds them from source (`cargo install`, `pip install` through maturin), so
#   they take a few minutes; builds use the shell tests' target dir (see tests/lib.sh).
# Each case has its own PRE_COMMIT_HOME.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
tools_venv
wheel_binary
export PRE_COMMIT_COLOR=never

snapshot

# `expect CODE LOG command...`: runs the command with its output in LOG; true when it exits
# CODE.
expect() {
    local want=$1 log=$2 code=0
    shift 2
    "$@" >"$log" 2>&1 || code=$?
    if [ "$code" != "$want" ]; then
        printf 'exit %s, expected %s\n' "$code" "$want" >>"$log"
        show "$log"
        return 1
    fi
}

reports_gap() {
    if ! grep -q DG001 "$1" || ! grep -q loyalty_tier "$1"; then
        show "$1"
        return 1
    fi
}

# --- driftguard-system through `pre-commit try-repo`
repo=$SCRATCH/system
handbook_repo "$repo"
add_gap "$repo"
git -C "$repo" add -A
log=$SCRATCH/system.log
with_binary=$(dirname "$DRIFTGUARD_BIN"):$PATH
check "try-repo driftguard-system blocks a staged model column without a migration" \
    expect 1 "$log" env -C "$repo" PATH="$with_binary" PRE_COMMIT_HOME="$SCRATCH/home-system" \
    "$TOOLS/pre-commit" try-repo "$SNAPSHOT" driftguard-system
check "and the output names the rule and the column" reports_gap "$log"
add_gap_migration "$repo"
git -C "$repo" add -A
check "try-repo driftguard-system passes once the migration is staged" \
    expect 0 "$SCRATCH/system-pass.log" env -C "$repo" PATH="$with_binary" \
    PRE_COMMIT_HOME="$SCRATCH/home-system" "$TOOLS/pre-commit" try-repo "$SNAPSHOT" driftguard-system

# --- a hook built from source, through .pre-commit-config.yaml and real commits
# `from_source ID`
from_source() {
    local id=$1 repo=$SCRATCH/$1 home=$SCRATCH/home-$1 started=$SECONDS
    handbook_repo "$repo"
    cat >"$repo/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $SNAPSHOT
    rev: $SNAPSHOT_REV
    hooks:
      - id: $id
YAML
    git -C "$repo" add .pre-commit-config.yaml
    git -C "$repo" commit -q --no-verify -m "pre-commit config"
    env -C "$repo" PRE_COMMIT_HOME="$home" "$TOOLS/pre-commit" install >/dev/null

    # The hook sees driftguard only through its own environment.
    local path
    path=$(printf '%s' "$PATH" | tr ':' '\n' | while IFS= read -r dir; do
        [ -x "$dir/driftguard" ] || printf '%s:' "$dir"
    done)
    add_gap "$repo"
    git -C "$repo" add -A
    # The first commit makes pre-commit clone and build the hook: under the build lock.
    check "$id: a commit with a model column but no migration is blocked" \
        with_build_lock expect 1 "$SCRATCH/$id.log" env -C "$repo" PATH="${path%:}" \
        PRE_COMMIT_HOME="$home" git commit -q -m "loyalty tier"
    printf '# %s: pre-commit built its environment and ran in %d s\n' "$id" $((SECONDS - started))
    check "$id: the output names the rule and the column" reports_gap "$SCRATCH/$id.log"
    add_gap_migration "$repo"
    git -C "$repo" add -A
    check "$id: the commit passes once the migration is staged" \
        expect 0 "$SCRATCH/$id-pass.log" env -C "$repo" PATH="${path%:}" PRE_COMMIT_HOME="$home" \
        git commit -q -m "loyalty tier with its migration"
}

from_source driftguard
from_source driftguard-python

finish
