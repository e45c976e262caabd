#!/usr/bin/env bash
# Whole runs of the release binary at growing sizes: the time must grow linearly (issue 11).
#   benches/scaling.sh [SIZES_MB...]          (default 10 20 40)
#   DRIFTGUARD_BIN=path/to/driftguard benches/scaling.sh
# For each size: SQL with every statement on one line, the same with a line per statement,
# and N tables each altered once (N = 1,000 x size); `check` and `schema` on each, the best
# CPU time of 3 runs, and the time per unit relative to the smallest size (1.0 = linear).
# Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-10 20 40}")
read -r -a sizes <<<"${sizes[*]}"
# DRIFTGUARD_BIN: time that binary instead of building one.
if [ -n "${DRIFTGUARD_BIN:-}" ]; then
  bin="$DRIFTGUARD_BIN"
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
  cargo build --release --quiet
  bin="$CARGO_TARGET_DIR/release/driftguard"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$bin" "$work" "${sizes[@]}" <<'PY'
import os, resource, subprocess, sys

binary, work, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]


def generate(kind, size, root):
    os.makedirs(os.path.join(root, "migrations"), exist_ok=True)
    with open(os.path.join(root, "migrations", "001.sql"), "w") as f:
        if kind == "tables":
            n = size * 1000
            f.write("CREATE SCHEMA core;\n")
            for i in range(n):
                f.write(f"CREATE TABLE core.t{i} (id serial PRIMARY KEY, name text);\n")
            for i in range(n):
                f.write(f"ALTER TABLE core.t{i} ADD COLUMN extra integer;\n")
            return n
        sep = " " if kind == "one line" else "\n"
        total, i, parts = 0, 0, ["CREATE SCHEMA core;" + sep]
        while total < size * 1024 * 1024:
            s = (f"CREATE TABLE IF NOT EXISTS core.t{i} (id serial PRIMARY KEY, name varchar(120) NOT NULL, note text);{sep}"
                 f"ALTER TABLE core.t{i} ADD COLUMN extra integer;{sep}")
            parts.append(s)
            total += len(s)
            i += 1
        f.write("".join(parts))
        return size


def cpu(cmd, root):
    best = float("inf")
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([binary, cmd, root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return best


print(f"{'input':<28} {'command':<7} {'cpu s':>8} {'per unit':>9}")
for kind, unit in [("one line", "MB"), ("lines", "MB"), ("tables", "k tables")]:
    first = {}
    for size in sizes:
        root = os.path.join(work, f"{kind}-{size}".replace(" ", "_"))
        units = generate(kind, size, root)
        for cmd in ("check", "schema"):
            t = cpu(cmd, root)
            per = t / size
            first.setdefault(cmd, per)
            ratio = per / first[cmd] if first[cmd] else 1.0
            print(f"{kind + ' ' + str(size) + ' ' + unit:<28} {cmd:<7} {t:8.2f} {ratio:8.2f}x", flush=True)
PY
