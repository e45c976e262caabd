#!/usr/bin/env bash
# The fuzz step of ./scripts/test (issue 11): mutations of the repository's fixtures and of the
# corpus files, read by every reader in child processes under a 1 GiB address-space limit,
# every 16th case also through the release binary. A fixed seed; stops after SECONDS.
#   tests/fuzz/run.sh                        # 45 s (DRIFTGUARD_FUZZ_SECONDS), seed 0x5eed
#   tests/fuzz/run.sh 3600 --seed 7          # a long local run with another seed
# The corpus comes from tests/corpus/run.sh (${DRIFTGUARD_CORPUS_CACHE:-~/.cache/driftguard-corpus});
# without it only the fixtures are seeds. Failures are saved to $CARGO_TARGET_DIR/fuzz-failures/
# and replayed with `cargo test --test fuzz -- --replay FILE`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
seconds=${DRIFTGUARD_FUZZ_SECONDS:-45}
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
cargo build --release --quiet
# The target dir may be shared with other builds: run a private copy of the binary.
bin_dir="$(mktemp -d)"
trap 'rm -rf "$bin_dir"' EXIT
cp "$CARGO_TARGET_DIR/release/driftguard" "$bin_dir/driftguard"
args=(--seconds "$seconds" --binary "$bin_dir/driftguard")
corpus="${DRIFTGUARD_CORPUS_CACHE:-$HOME/.cache/driftguard-corpus}/unpacked"
if [ -d "$corpus" ]; then
  args+=(--corpus "$corpus")
else
  echo "fuzz: no corpus at $corpus (tests/corpus/run.sh unpacks it): the fixtures only"
fi
cargo test --quiet --test fuzz -- "${args[@]}" "$@"
