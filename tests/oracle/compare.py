#!/usr/bin/env python3
"""The PostgreSQL oracle's judge: driftguard's static schema against the real one.

    compare.py NAME=DIR [NAME=DIR ...]

Each DIR holds `driftguard.json` (`driftguard schema --format json`), `database.json` (what
`audit.sql` read back from PostgreSQL after applying `files.txt`) and `warnings.txt`
(driftguard's stderr). Compared, per corpus:

- the set of (schema, table) base tables, exactly;
- the set of (schema, table, column), exactly;
- `data_type` and `is_nullable` of every column both sides have;
- the order of each table's columns (`ordinal_position`);
- the set of enum types, and each enum's values in sort order.

`column_default` is printed by driftguard but not compared. Every disagreement is printed;
any makes the exit status 1. Stdlib only.
"""

import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def key3(c):
    return (c["table_schema"], c["table_name"], c["column_name"])


def name(parts):
    return ".".join(parts)


def compare(label, directory):
    ours = load(f"{directory}/driftguard.json")
    theirs = load(f"{directory}/database.json")
    with open(f"{directory}/files.txt", encoding="utf-8") as f:
        files = [line for line in f.read().splitlines() if line]
    with open(f"{directory}/warnings.txt", encoding="utf-8", errors="replace") as f:
        warnings = [line for line in f.read().splitlines() if line]

    problems = []
    our_cols = {key3(c): c for c in ours["columns"]}
    db_cols = {key3(c): c for c in theirs["columns"]}
    our_tables = {(c["table_schema"], c["table_name"]) for c in ours["columns"]}
    db_tables = {(t["table_schema"], t["table_name"]) for t in theirs["tables"]}

    for t in sorted(db_tables - our_tables):
        problems.append(f"table {name(t)}: PostgreSQL has it, driftguard does not")
    for t in sorted(our_tables - db_tables):
        problems.append(f"table {name(t)}: driftguard has it, PostgreSQL does not")
    for k in sorted(set(db_cols) - set(our_cols)):
        if k[:2] in our_tables:
            c = db_cols[k]
            problems.append(
                f"column {name(k)}: PostgreSQL has it ({c['data_type']}, nullable {c['is_nullable']}), driftguard does not"
            )
    for k in sorted(set(our_cols) - set(db_cols)):
        if k[:2] in db_tables:
            c = our_cols[k]
            problems.append(
                f"column {name(k)}: driftguard has it ({c['data_type']}, nullable {c['is_nullable']}), PostgreSQL does not"
            )
    for k in sorted(set(our_cols) & set(db_cols)):
        for field in ("data_type", "is_nullable"):
            a, b = our_cols[k][field], db_cols[k][field]
            if a != b:
                problems.append(f"column {name(k)}: {field} is {b!r} in PostgreSQL, {a!r} in driftguard")

    def order(columns):
        tables = {}
        for c in columns:
            tables.setdefault((c["table_schema"], c["table_name"]), []).append(c["column_name"])
        return tables

    our_order, db_order = order(ours["columns"]), order(theirs["columns"])
    for t in sorted(set(our_order) & set(db_order)):
        a = [c for c in our_order[t] if (t + (c,)) in db_cols]
        b = [c for c in db_order[t] if (t + (c,)) in our_cols]
        if a != b:
            problems.append(f"table {name(t)}: column order is {b} in PostgreSQL, {a} in driftguard")

    our_enums = {(e["schema"], e["name"]): e["values"] for e in ours["enums"]}
    db_enums = {(e["schema"], e["name"]): e["values"] for e in theirs["enums"]}
    for e in sorted(set(db_enums) - set(our_enums)):
        problems.append(f"enum {name(e)}: PostgreSQL has it {db_enums[e]}, driftguard does not")
    for e in sorted(set(our_enums) - set(db_enums)):
        problems.append(f"enum {name(e)}: driftguard has it {our_enums[e]}, PostgreSQL does not")
    for e in sorted(set(our_enums) & set(db_enums)):
        if our_enums[e] != db_enums[e]:
            problems.append(f"enum {name(e)}: values are {db_enums[e]} in PostgreSQL, {our_enums[e]} in driftguard")

    stats = {
        "files": len(files),
        "tables": len(db_tables | our_tables),
        "columns": len(set(db_cols) | set(our_cols)),
        "enums": len(set(db_enums) | set(our_enums)),
        "disagreements": len(problems),
    }
    return stats, problems, warnings


def line(stats):
    return (
        f"{stats['files']} files, {stats['tables']} tables, {stats['columns']} columns, "
        f"{stats['enums']} enums compared, {stats['disagreements']} disagreements"
    )


def main(args):
    if not args:
        print("usage: compare.py NAME=DIR [NAME=DIR ...]", file=sys.stderr)
        return 2
    total = {"files": 0, "tables": 0, "columns": 0, "enums": 0, "disagreements": 0}
    summaries = []
    for arg in args:
        label, _, directory = arg.partition("=")
        stats, problems, warnings = compare(label, directory)
        for w in warnings:
            print(f"oracle: {label}: driftguard warned: {w}")
        if problems:
            print(f"oracle: {label}: driftguard and PostgreSQL disagree:")
            for p in problems:
                print(f"  - {p}")
        for k in total:
            total[k] += stats[k]
        summaries.append(f"oracle: {label}: {line(stats)}")
    for s in summaries:
        print(s)
    print(f"oracle: {line(total)}")
    return 1 if total["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
