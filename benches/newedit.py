#!/usr/bin/env python3
"""The new-edit benchmark of a pre-commit check, on one generated backend.

    newedit.py BIN REPO --style sql|alembic --models N [--runs R] [--aged E] [--pause S]

REPO is a committed repository made by generate.py. Each run adds one new model column (to
the last class of models_0000.py) and the migration that creates it, stages both, and times
`BIN check --staged` beside `git diff --cached --name-only` (the floor of any pre-commit
check). HEAD never moves, so the before side is what the first (untimed) run left in the
cache; every timed run is a *new* edit.

Each timed process runs after a pause (--pause, 2.5 s), as a hook runs seconds after the
last command, not back to back: a virtual machine hands its idle memory back to the host after
about two seconds, and fresh memory after that costs several times what it costs back to back
(huge pages most). The same edits back to back are measured too (`hot_*`). Then the same with
an aged cache (E more findings entries, as months of commits leave). Then, cold: the cache
folder is deleted and one more new edit is timed against `cat` of every model and migration
file. Peak RSS is each driftguard process's own (wait4's rusage), not the whole run's.

Prints one `key=value` line per measure (read by bench.sh) and fails when a run's exit code
is not 0 (every edit is covered by its migration, so the check must be clean).
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import time

SCHEMAS = ["core", "identity", "ops", "ai", "crm"]


def timed(argv, cwd, check_rc=True):
    """(seconds, peak RSS in KiB, exit code, stdout) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read before waiting, so a full pipe never blocks the child; then reap it with wait4 for
    # its own rusage.
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if check_rc and proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}\n{out.decode()}\n{err.decode()}")
    return elapsed, usage.ru_maxrss, proc.returncode, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bin")
    parser.add_argument("repo")
    parser.add_argument("--style", choices=["sql", "alembic"], default="sql")
    parser.add_argument("--models", type=int, required=True)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument(
        "--aged", type=int, default=30000, help="findings entries added for the aged cache"
    )
    parser.add_argument(
        "--pause", type=float, default=2.5, help="seconds idle before each timed process"
    )
    args = parser.parse_args()
    repo = args.repo
    model_file = os.path.join(repo, "apps/backend/src/db/models/models_0000.py")
    table = min(24, args.models - 1)
    schema = SCHEMAS[table % len(SCHEMAS)]
    if args.style == "alembic":
        mig_dir = os.path.join(repo, "apps/backend/alembic/versions")
    else:
        mig_dir = os.path.join(repo, "database/migrations")
    existing = sorted(os.listdir(mig_dir))
    last = len(existing)
    state = {"n": last}

    def new_edit(k):
        with open(model_file, "a") as f:
            f.write(f"    bench_col_{k}: Mapped[Optional[str]] = mapped_column(String(40))\n")
        state["n"] += 1
        n = state["n"]
        if args.style == "alembic":
            path = os.path.join(mig_dir, f"{n:06d}_bench_{k}.py")
            with open(path, "w") as f:
                f.write(
                    "import sqlalchemy as sa\nfrom alembic import op\n\n"
                    f'revision = "r{n:06d}"\ndown_revision = "r{n - 1:06d}"\n'
                    "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n"
                    f'    op.add_column("table_{table}", sa.Column("bench_col_{k}", sa.String(40), nullable=True), schema="{schema}")\n'
                )
        else:
            path = os.path.join(mig_dir, f"{n:06d}_bench_{k}.sql")
            with open(path, "w") as f:
                f.write(
                    f"-- Migration: add bench_col_{k} to {schema}.table_{table}\nBEGIN;\n"
                    f"ALTER TABLE {schema}.table_{table} ADD COLUMN IF NOT EXISTS bench_col_{k} VARCHAR(40);\n"
                    "COMMIT;\n"
                )
        subprocess.run(["git", "add", model_file, path], cwd=repo, check=True)

    check = [args.bin, "check", "--staged"]
    diff = ["git", "diff", "--cached", "--name-only"]
    # The first edit fills the cache with HEAD's snapshot (what the commit before left).
    new_edit(0)
    first, first_rss, _, _ = timed(check, repo)
    dg, rss, floor = [], [], []
    for k in range(1, args.runs + 1):
        new_edit(k)
        time.sleep(args.pause)
        floor.append(timed(diff, repo)[0])
        time.sleep(args.pause)
        t, m, _, _ = timed(check, repo)
        dg.append(t)
        rss.append(m)
    # Back to back: the floor the fastest of three, each check right after it.
    hot, hot_floor = [], []
    for k in range(args.runs + 1, 2 * args.runs + 1):
        new_edit(k)
        hot_floor.append(min(timed(diff, repo)[0] for _ in range(3)))
        hot.append(timed(check, repo)[0])
    cache_dir = os.path.join(repo, ".git", "driftguard")
    cache_bytes = sum(
        os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(cache_dir) for f in fs
    )
    cache_files = sum(len(fs) for _, _, fs in os.walk(cache_dir))
    # An aged cache: every new snapshot checked leaves one findings entry, so months of
    # commits leave tens of thousands (the 256 MB cap holds ~60,000 of ~4 KB). A new edit must
    # cost the same with them as without.
    findings = os.path.join(cache_dir, "cache-v1", "findings")
    entries = sorted(os.listdir(findings))
    with open(os.path.join(findings, entries[0]), "rb") as f:
        entry = f.read()
    for i in range(args.aged):
        with open(os.path.join(findings, f"{i:032x}.json"), "wb") as f:
            f.write(entry)
    # Written back now, not while the runs are timed.
    os.sync()
    aged = []
    for k in range(args.runs):
        new_edit(2 * args.runs + 1 + k)
        time.sleep(args.pause)
        aged.append(timed(check, repo)[0])
    # Cold: no cache, a new edit, files in the page cache.
    shutil.rmtree(cache_dir, ignore_errors=True)
    new_edit(3 * args.runs + 1)
    files = sorted(glob.glob(os.path.join(repo, "apps/backend/src/db/models/*.py")))
    files += sorted(os.path.join(mig_dir, f) for f in os.listdir(mig_dir))
    cat = ["cat", *files]
    cat_t = min(timed(cat, repo)[0] for _ in range(3))
    cold, cold_rss, _, _ = timed(check, repo)
    # `check --all` on the working tree, twice (the second run may reuse a cache).
    all_cmd = [args.bin, "check", "."]
    all1, all_rss, _, _ = timed(all_cmd, repo)
    all2 = min(timed(all_cmd, repo)[0] for _ in range(2))
    # The cost of being a process of its own: driftguard starting and exiting with nothing to
    # check (`--version`), the least any separate hook pays beside `git diff`.
    start = min(timed([args.bin, "--version"], repo)[0] for _ in range(10))
    ms = lambda s: f"{s * 1000:.1f}"
    print(f"start_ms={ms(start)}")
    print(f"first_ms={ms(first)}")
    print(f"edit_ms={ms(statistics.median(dg))}")
    print(f"edit_min_ms={ms(min(dg))}")
    print(f"floor_ms={ms(statistics.median(floor))}")
    print(f"edit_ratio={statistics.median(dg) / statistics.median(floor):.1f}")
    print(f"edit_rss_mb={max(rss) / 1024:.0f}")
    print(f"hot_edit_ms={ms(statistics.median(hot))}")
    print(f"hot_floor_ms={ms(statistics.median(hot_floor))}")
    print(f"hot_ratio={statistics.median(hot) / statistics.median(hot_floor):.1f}")
    print(f"aged_ms={ms(statistics.median(aged))}")
    print(f"aged_entries={args.aged}")
    print(f"cold_ms={ms(cold)}")
    print(f"cat_ms={ms(cat_t)}")
    print(f"cold_ratio={cold / cat_t:.1f}")
    print(f"cold_rss_mb={max(cold_rss, first_rss) / 1024:.0f}")
    print(f"all_first_ms={ms(all1)}")
    print(f"all_again_ms={ms(all2)}")
    print(f"all_rss_mb={all_rss / 1024:.0f}")
    print(f"cache_mb={cache_bytes / 1e6:.1f}")
    print(f"cache_files={cache_files}")


if __name__ == "__main__":
    main()
