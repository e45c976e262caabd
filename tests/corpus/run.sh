#!/usr/bin/env bash
# The real-world corpus (issue 3): builds the release binary with the shared target dir, then
# runs tests/corpus/run.py on it. Wheels are cached in $DRIFTGUARD_CORPUS_CACHE
# (default ~/.cache/driftguard-corpus). Without the registry: fails when CI=true, else SKIP.
#   ./tests/corpus/run.sh [--only NAME] [--sample N]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
# The target dir may be shared with other builds: run a private copy of the binary.
bin_dir="$(mktemp -d)"
trap 'rm -rf "$bin_dir"' EXIT
cp "$CARGO_TARGET_DIR/release/driftguard" "$bin_dir/driftguard"
python3 tests/corpus/run.py --binary "$bin_dir/driftguard" "$@"
