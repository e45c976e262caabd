# shellcheck shell=bash
# Shared by the shell tests (tests/*_test.sh): sourced, never run.
#
# - Tools come from PyPI into one venv cached outside the repository,
#   ${XDG_CACHE_HOME:-$HOME/.cache}/driftguard-test/, pinned in tests/requirements-tools.txt.
# - The release build is made once, as a wheel (maturin) from a snapshot of the working tree
#   (see `snapshot`), and installed into a venv; its `driftguard` is the binary every script
#   runs. Under scripts/test both live in its run folder (DRIFTGUARD_RUN_DIR), so the first
#   script builds them and the others reuse them; a script run alone builds its own.
# - Release builds (the wheel, the pre-commit hooks built from source) use a target dir of their
#   own, one at a time (see `with_build_lock`).
# - A tool that is missing or cannot install is a failure when CI=true, else a loud SKIP.
# - git runs isolated from the machine's config, as in the Rust tests.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/driftguard-test
mkdir -p "$CACHE"

# Cargo names a package's artifacts by its path relative to the package and copies a finished
# binary to one shared place (target/release/driftguard) before its caller reads it. In a
# target dir where other checkouts of driftguard build too (a machine with many git worktrees
# and one CARGO_TARGET_DIR), a build can take another checkout's artifacts as fresh, or have its
# binary swapped between cargo and maturin/`cargo install`: measured, the wheel and the rust
# hook then held another branch's code. So these release builds get their own target dir
# (dependencies compiled once, then cached) and run one at a time.
export CARGO_TARGET_DIR=${DRIFTGUARD_TEST_TARGET_DIR:-$CACHE/target}

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=test@example.invalid
export GIT_COMMITTER_NAME=Test GIT_COMMITTER_EMAIL=test@example.invalid
export NO_COLOR=1
unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE
# pip must not ask anything or read a user config that points elsewhere.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_CONFIG_FILE=/dev/null

TEST_NAME=$(basename "$0" .sh)
PASSED=0
FAILED=0

# A required tool is missing: fail under CI, else skip this whole script loudly.
skip() {
    if [ "${CI:-}" = true ]; then
        printf '\nFAIL (%s): %s — CI=true requires it\n' "$TEST_NAME" "$*" >&2
        exit 1
    fi
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! SKIP %s: %s\n' "$TEST_NAME" "$*" >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    exit 0
}

ok() {
    PASSED=$((PASSED + 1))
    printf 'ok - %s\n' "$*"
}

not_ok() {
    FAILED=$((FAILED + 1))
    printf 'not ok - %s\n' "$*"
}

# `check NAME CONDITION...`: runs the condition (a command) and records the result.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# Prints a file under a heading, for failures.
show() {
    printf -- '--- %s\n' "$1" >&2
    cat "$1" >&2 || true
}

# The plain closing line, and the exit status.
finish() {
    printf '%s: %d passed, %d failed\n' "$TEST_NAME" "$PASSED" "$FAILED"
    [ "$FAILED" -eq 0 ]
}

# A temp dir for this script, removed on exit.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/driftguard-$TEST_NAME.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
# Where the wheel and its venv go: scripts/test's run folder, shared by every script, else ours.
BUILD_DIR=${DRIFTGUARD_RUN_DIR:-$SCRATCH}

need() {
    command -v "$1" >/dev/null 2>&1 || skip "\`$1\` is not installed ($2)"
}

# The cached tools venv; sets TOOLS to its bin folder.
tools_venv() {
    need python3 "apt-get install python3 python3-venv"
    local requirements=$ROOT/tests/requirements-tools.txt
    local stamp venv
    stamp=$(cksum <"$requirements" | cut -d' ' -f1)
    venv=$CACHE/tools-$stamp
    (
        flock 9
        if [ ! -x "$venv/bin/pre-commit" ]; then
            rm -rf "$venv"
            python3 -m venv "$venv" >&2 &&
                "$venv/bin/pip" install -q -r "$requirements" >&2 ||
                { rm -rf "$venv"; exit 1; }
        fi
    ) 9>"$CACHE/tools.lock" || skip "cannot install the test tools from PyPI (tests/requirements-tools.txt)"
    TOOLS=$venv/bin
}

# Runs "$@" (a command or a function) holding the build lock: one release build at a time in
# CARGO_TARGET_DIR. Sources are dated inside the lock (maturin_build touches the snapshot;
# pre-commit clones it), so no other build can come between them and cargo.
with_build_lock() {
    (
        flock 8
        "$@"
    ) 8>"$CACHE/target.lock"
}

# This working tree, uncommitted and untracked work included, copied into a repository of its
# own and committed, once per test run; sets SNAPSHOT and SNAPSHOT_REV.
snapshot() {
    SNAPSHOT=$BUILD_DIR/src
    if [ ! -d "$SNAPSHOT/.git" ]; then
        rm -rf "$SNAPSHOT"
        mkdir -p "$SNAPSHOT"
        (
            cd "$ROOT" || exit 1
            git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' file; do
                    [ -f "$file" ] && printf '%s\0' "$file"
                done |
                tar --null -T - -cf -
        ) | tar -xf - -C "$SNAPSHOT"
        git -C "$SNAPSHOT" init -q -b main
        git -C "$SNAPSHOT" add -A
        git -C "$SNAPSHOT" commit -q --no-verify -m snapshot
    fi
    # shellcheck disable=SC2034 # read by the scripts that source this file
    SNAPSHOT_REV=$(git -C "$SNAPSHOT" rev-parse HEAD)
}

# Builds the wheel from the snapshot once per test run (maturin, release); sets
# DRIFTGUARD_WHEEL_DIR.
build_wheel() {
    DRIFTGUARD_WHEEL_DIR=$BUILD_DIR/wheels
    if compgen -G "$DRIFTGUARD_WHEEL_DIR/driftguard-*.whl" >/dev/null; then
        return
    fi
    tools_venv
    need cargo "https://rustup.rs"
    snapshot
    rm -rf "$DRIFTGUARD_WHEEL_DIR"
    with_build_lock maturin_build
}

maturin_build() {
    find "$SNAPSHOT" -name .git -prune -o -type f -exec touch {} +
    (cd "$SNAPSHOT" && "$TOOLS/maturin" build --release --quiet -o "$DRIFTGUARD_WHEEL_DIR" >&2)
}

# The wheel installed into a fresh venv, once per test run; sets DRIFTGUARD_BIN.
wheel_binary() {
    local venv=$BUILD_DIR/venv
    DRIFTGUARD_BIN=$venv/bin/driftguard
    if [ -x "$DRIFTGUARD_BIN" ]; then
        return
    fi
    build_wheel
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    PIP_NO_INDEX=1 PIP_FIND_LINKS=$DRIFTGUARD_WHEEL_DIR "$venv/bin/pip" install -q driftguard >&2
}

# A git repository in $1 with the handbook's layout, committed on `main`, and no gap.
handbook_repo() {
    local dir=$1
    mkdir -p "$dir/apps/backend/src/db/models" "$dir/database/migrations"
    git -C "$dir" init -q -b main
    cat >"$dir/apps/backend/src/db/base_class.py" <<'PY'
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
PY
    cat >"$dir/apps/backend/src/db/models/core.py" <<'PY'
from typing import Optional

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..base_class import Base


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = {"schema": "core"}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
PY
    cat >"$dir/database/migrations/001_initial.sql" <<'SQL'
CREATE SCHEMA IF NOT EXISTS core;
CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL
);
SQL
    git -C "$dir" add -A
    git -C "$dir" commit -q --no-verify -m initial
}

# Adds a model column without a migration (line 15 of the model file) in repo $1.
add_gap() {
    printf '    loyalty_tier: Mapped[Optional[str]] = mapped_column(String(16))\n' \
        >>"$1/apps/backend/src/db/models/core.py"
}

# Adds the migration that closes add_gap's gap in repo $1.
add_gap_migration() {
    printf 'ALTER TABLE core.customers ADD COLUMN loyalty_tier VARCHAR(16);\n' \
        >"$1/database/migrations/002_loyalty_tier.sql"
}
