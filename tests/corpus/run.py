#!/usr/bin/env python3
"""driftguard on real projects: false findings and recall, one line per project.

    python3 tests/corpus/run.py --binary target/release/driftguard [--only NAME] [--sample 50]

For each project in `projects.toml`:

1. Download its wheel (pinned by version and sha256) into the cache
   (`$DRIFTGUARD_CORPUS_CACHE`, default `~/.cache/driftguard-corpus`), unpack it once, copy the
   folders to check (their .py and .sql files) into a temporary directory.
2. Run `driftguard check --format json` there. Every finding must be listed, with why it is
   genuine, in `expected/<name>.json`; a finding not listed, or a listed one missing, fails.
3. Recall: find the column-creating operations of the Alembic revisions independently of
   driftguard (python's `ast` on each `upgrade()`: the `Column(…)` arguments of `create_table`
   and `add_columns`, and `add_column` statements), keep those whose (table, column) is
   created exactly once and that a model maps (an approximate reading of the models, for
   picking only), sample them with a fixed seed, delete each one from a copy of the tree and
   require that driftguard then reports exactly that column (DG001), and nothing else new.

Exit status: 0 when every project has no false finding and recall >= 99%, 1 otherwise. When the
wheels are not cached and pip cannot download them: 1 if CI=true, else a loud SKIP and 0.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261126
RECALL_TARGET = 0.99
# The rules this corpus judges: the tables and columns the migrations create (issue 3), and
# since issue 12 the enum, type, nullability and foreign-key rules too: every finding of them
# is listed with why it is genuine. The handbook rules (DG2xx) and DG009 are not judged.
JUDGED = {"DG001", "DG002", "DG003", "DG004", "DG005", "DG006", "DG007"}
# What the recall sample compares: a deleted column must give exactly its DG001. Its other
# consequences — a DG007 for each foreign key that now points at nothing — are right too, and
# not counted against it.
RECALL_RULES = {"DG001", "DG002"}


# ----- wheels -------------------------------------------------------------------------------


def wheel_stem(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-py3-none-any"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(projects: list[dict], cache: Path) -> bool:
    """Downloads the wheels that are not cached with the right hash. False: pip failed."""
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    missing = [
        p
        for p in projects
        if not (w := wheels / f"{wheel_stem(p['name'], p['version'])}.whl").exists()
        or sha256(w) != p["sha256"]
    ]
    if not missing:
        return True
    requirements = cache / "requirements.txt"
    requirements.write_text(
        "".join(f"{p['name']}=={p['version']} --hash=sha256:{p['sha256']}\n" for p in missing)
    )
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--require-hashes", "--disable-pip-version-check", "--quiet",
        "-d", str(wheels), "-r", str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        return False
    return True


def unpack(project: dict, cache: Path) -> Path:
    """The unpacked wheel, unpacked once."""
    stem = wheel_stem(project["name"], project["version"])
    target = cache / "unpacked" / stem
    done = target / ".unpacked"
    if not done.exists():
        if target.exists():
            shutil.rmtree(target)
        with zipfile.ZipFile(cache / "wheels" / f"{stem}.whl") as wheel:
            wheel.extractall(target)
        done.write_text("ok\n")
    return target


def copy_tree(unpacked: Path, folders: list[str], dest: Path, config: str | None) -> None:
    """Copies the .py and .sql files of `folders` (and the config) into `dest`."""
    for folder in folders:
        for root, dirs, files in os.walk(unpacked / folder):
            dirs.sort()
            for name in files:
                if name.endswith((".py", ".sql")):
                    src = Path(root) / name
                    rel = src.relative_to(unpacked)
                    (dest / rel.parent).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dest / rel)
    if config:
        (dest / "driftguard.yml").write_text(config)


# ----- running driftguard -------------------------------------------------------------------


def check(binary: str, tree: Path) -> dict:
    result = subprocess.run(
        [binary, "check", str(tree), "--format", "json", "--fail-on", "never", "--color", "never"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"driftguard exited {result.returncode}: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def finding_key(finding: dict) -> tuple[str, str]:
    t = finding["target"]
    target = f"{t['schema']}.{t['table']}"
    if t.get("column") is not None:
        target += f".{t['column']}"
    return finding["rule"], target


# ----- what the models map (approximate; for picking samples only) -------------------------

NOT_COLUMNS = {
    "relationship", "Relationship", "column_property", "synonym", "association_proxy",
    "composite", "query_expression", "backref", "dynamic_loader", "hybrid_property",
}


def last_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def flask_sqlalchemy_name(name: str) -> str:
    """Flask-SQLAlchemy 3's table name for a class: `OAuthToken` → `o_auth_token`."""
    return re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name).lower().lstrip("_")


@dataclass
class ModelClass:
    name: str
    bases: list[str]
    tablename: str | None = None
    computed_tablename: bool = False
    columns: set[str] = field(default_factory=set)
    sqlmodel_table: bool = False


def column_name_of(call: ast.Call, attr: str) -> str:
    name = const_str(call.args[0]) if call.args else None
    for kw in call.keywords:
        if kw.arg == "name" and const_str(kw.value):
            name = const_str(kw.value)
        if kw.arg == "sa_column" and isinstance(kw.value, ast.Call):
            return column_name_of(kw.value, attr)
    return name or attr


def read_class(node: ast.ClassDef, strings: dict[str, str]) -> ModelClass:
    cls = ModelClass(node.name, [n for b in node.bases if (n := last_name(b))])
    cls.sqlmodel_table = any(
        kw.arg == "table" and isinstance(kw.value, ast.Constant) and kw.value.value is True
        for kw in node.keywords
    )
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__tablename__":
            if "__name__" in ast.dump(stmt):
                cls.computed_tablename = True
            continue
        if isinstance(stmt, ast.Assign):
            targets, value, annotation = stmt.targets, stmt.value, None
        elif isinstance(stmt, ast.AnnAssign):
            targets, value, annotation = [stmt.target], stmt.value, stmt.annotation
        else:
            continue
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            attr = target.id
            if attr == "__tablename__":
                cls.tablename = const_str(value) or (
                    strings.get(value.id) if isinstance(value, ast.Name) else None
                )
                continue
            if attr.startswith("__") or attr == "model_config":
                continue
            call = value if isinstance(value, ast.Call) else None
            func = last_name(call.func) if call else None
            if func in ("deferred", "Field") and call and call.args and isinstance(call.args[0], ast.Call):
                inner = call.args[0]
                if last_name(inner.func) in ("Column", "mapped_column"):
                    call, func = inner, last_name(inner.func)
            if func in ("Column", "mapped_column"):
                cls.columns.add(column_name_of(call, attr))
            elif func in NOT_COLUMNS:
                continue
            elif annotation is not None:
                text = ast.unparse(annotation)
                if "ClassVar" in text or "relationship" in text.lower():
                    continue
                if text.startswith(("Mapped[", "orm.Mapped[", "sa.orm.Mapped[")):
                    cls.columns.add(attr)
                elif call is not None and func == "Field":
                    cls.columns.add(column_name_of(call, attr))
                elif value is None or isinstance(value, ast.Constant):
                    # A SQLModel field; only counted on `table=True` classes (see below).
                    cls.columns.add("?sqlmodel:" + attr)
    return cls


def mapped_columns(tree: Path) -> dict[str, set[str]]:
    """Table name → the columns some model maps on it, read roughly with `ast`."""
    classes: dict[str, list[ModelClass]] = {}
    tables: dict[str, set[str]] = {}
    for path in sorted(tree.rglob("*.py")):
        if "versions" in path.parts:
            continue
        text = path.read_text(errors="replace")
        if not ("__tablename__" in text or "Table(" in text or "table=True" in text
                or "Model" in text):
            continue
        try:
            module = ast.parse(text)
        except SyntaxError:
            continue
        strings = {
            t.id: v.value
            for s in module.body
            if isinstance(s, ast.Assign) and isinstance((v := s.value), ast.Constant)
            and isinstance(v.value, str)
            for t in s.targets
            if isinstance(t, ast.Name)
        }
        # A class built inside a function (a factory's `class Transaction(manager.base)`) is
        # no model a reader of the source can know.
        in_functions = {
            id(inner)
            for f in ast.walk(module)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for inner in ast.walk(f)
            if isinstance(inner, ast.ClassDef)
        }
        for node in ast.walk(module):
            if isinstance(node, ast.ClassDef) and id(node) not in in_functions:
                classes.setdefault(node.name, []).append(read_class(node, strings))
            elif (
                isinstance(node, ast.Call)
                and last_name(node.func) == "Table"
                and (name := const_str(node.args[0] if node.args else None))
            ):
                cols = tables.setdefault(name, set())
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Call) and last_name(arg.func) == "Column":
                        if c := const_str(arg.args[0] if arg.args else None):
                            cols.add(c)

    def ancestors(cls: ModelClass, seen: set[str]) -> list[ModelClass]:
        out = [cls]
        for base in cls.bases:
            for parent in classes.get(base, []):
                if parent.name not in seen:
                    seen.add(parent.name)
                    out.extend(ancestors(parent, seen))
        return out

    for versions in classes.values():
        for cls in versions:
            chain = ancestors(cls, {cls.name})
            name = cls.tablename
            if name is None and any(c.computed_tablename for c in chain[1:]):
                name = camel_to_snake(cls.name)
            if name is None and "Model" in cls.bases:
                # Flask-SQLAlchemy's `db.Model` names a table after its class.
                name = flask_sqlalchemy_name(cls.name)
            is_table = cls.sqlmodel_table or any(c.sqlmodel_table for c in chain)
            if name is None:
                # Single-table inheritance: the columns go to the nearest parent's table.
                parent = next((c for c in chain[1:] if c.tablename), None)
                if parent is None:
                    continue
                name = parent.tablename
            cols = tables.setdefault(name, set())
            for c in chain:
                for col in c.columns:
                    if col.startswith("?sqlmodel:"):
                        if is_table:
                            cols.add(col.removeprefix("?sqlmodel:"))
                    else:
                        cols.add(col)
    return tables


# ----- column-creating operations in the revisions -----------------------------------------

CREATE_TABLE = {"create_table"}
ADD_COLUMNS = {"add_columns"}


@dataclass
class Op:
    path: str  # relative to the tree
    line: int
    table: str
    column: str
    kind: str  # "create_table column" | "add_column" | "add_columns column"
    start: int  # byte offsets of the text to replace
    end: int
    replacement: bytes


def offsets(data: bytes) -> list[int]:
    starts = [0]
    for i, b in enumerate(data):
        if b == 0x0A:
            starts.append(i + 1)
    return starts


def column_call(node: ast.AST) -> tuple[ast.Call, str] | None:
    if isinstance(node, ast.Call) and last_name(node.func) == "Column":
        if name := const_str(node.args[0] if node.args else None):
            return node, name
    return None


def arg_range(data: bytes, starts: list[int], node: ast.AST) -> tuple[int, int]:
    """The bytes of a call argument and its trailing comma (or the comma before it)."""
    start = starts[node.lineno - 1] + node.col_offset
    end = starts[node.end_lineno - 1] + node.end_col_offset
    i = end
    while i < len(data) and data[i] in b" \t\r\n":
        i += 1
    if i < len(data) and data[i] == ord(","):
        return start, i + 1
    j = start - 1
    while j >= 0 and data[j] in b" \t\r\n":
        j -= 1
    if j >= 0 and data[j] == ord(","):
        return j, end
    return start, end


def is_revision(module: ast.Module) -> bool:
    return any(
        isinstance(s, (ast.Assign, ast.AnnAssign))
        and any(
            isinstance(t, ast.Name) and t.id == "revision"
            for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
        )
        for s in module.body
    )


def revision_ops(tree: Path, path: Path) -> tuple[list[Op], list[tuple[str, str]], set[str]]:
    """The column-creating operations of one revision's `upgrade()`; also every (table,
    column) created or renamed into existence there (table `?` when unknown), and the words of
    its SQL strings (a column created by raw SQL is not a clean sample)."""
    data = path.read_bytes()
    try:
        module = ast.parse(data)
    except SyntaxError:
        return [], [], set()
    if not is_revision(module):
        return [], [], set()
    rel = str(path.relative_to(tree))
    starts = offsets(data)
    ops: list[Op] = []
    created: list[tuple[str, str]] = []
    sql_words: set[str] = set()
    functions = [s for s in module.body if isinstance(s, ast.FunctionDef)]
    upgrade = [f for f in functions if f.name == "upgrade" or f.name.startswith("upgrade_")]
    # Helpers the upgrade calls by name (one level), never a downgrade.
    called = {
        n.func.id
        for f in upgrade
        for n in ast.walk(f)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    helpers = [f for f in functions if f.name in called and not f.name.startswith("downgrade")]
    for function in upgrade + helpers:
        batch_tables: dict[tuple[str, int], str | None] = {}
        statement_of: dict[int, ast.stmt] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Expr):
                statement_of[id(node.value)] = node
            if isinstance(node, ast.With):
                for item in node.items:
                    call = item.context_expr
                    if (
                        isinstance(call, ast.Call)
                        and last_name(call.func) == "batch_alter_table"
                        and isinstance(item.optional_vars, ast.Name)
                    ):
                        table = const_str(call.args[0] if call.args else None)
                        for kw in call.keywords:
                            if kw.arg == "table_name":
                                table = const_str(kw.value)
                        # Per `with` block: a function often has several, all `as batch_op`.
                        for stmt in node.body:
                            for inner in ast.walk(stmt):
                                if isinstance(inner, ast.Call):
                                    batch_tables[(item.optional_vars.id, id(inner))] = table
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if re.search(r"(?i)\b(add|create table|alter table)\b", node.value):
                    sql_words.update(re.findall(r"\w+", node.value.lower()))
            named_by_variable = (
                isinstance(node, ast.Call)
                and node.args
                and isinstance(node.args[0], (ast.Name, ast.JoinedStr))
                and (
                    last_name(node.func) == "Column"
                    or (
                        last_name(node.func) in CREATE_TABLE | ADD_COLUMNS | {"add_column"}
                        and isinstance(node.func, ast.Attribute)
                        and last_name(node.func.value) == "op"
                    )
                )
            )
            if named_by_variable:
                # A table or column named by a variable (`for table, column in FKS:
                # op.add_column(table, sa.Column(column, …))`): any string of the module may
                # be created here, so none of them is a clean sample.
                sql_words.update(
                    w
                    for n in ast.walk(module)
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)
                    for w in re.findall(r"\w+", n.value.lower())
                )
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            method = last_name(node.func)
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            receiver_name = receiver.id if isinstance(receiver, ast.Name) else None
            in_function = any(f.name == method for f in functions)
            if method in CREATE_TABLE | ADD_COLUMNS and not in_function and (
                receiver_name in (None, "op")
            ):
                table = const_str(node.args[0] if node.args else None) or "?"
                for arg in node.args[1:]:
                    if found := column_call(arg):
                        col_call, name = found
                        created.append((table, name))
                        if table != "?":
                            start, end = arg_range(data, starts, col_call)
                            ops.append(Op(rel, col_call.lineno, table, name,
                                          f"{method} column", start, end, b""))
            elif method == "add_column" and receiver_name is not None:
                if receiver_name == "op":
                    table = const_str(node.args[0] if node.args else None) or "?"
                    column = node.args[1] if len(node.args) > 1 else None
                elif (receiver_name, id(node)) in batch_tables:
                    table = batch_tables[(receiver_name, id(node))] or "?"
                    column = node.args[0] if node.args else None
                else:
                    continue
                found = column_call(column) if column is not None else None
                if not found:
                    continue
                created.append((table, found[1]))
                stmt = statement_of.get(id(node))
                if table != "?" and stmt is not None:
                    start = starts[stmt.lineno - 1] + stmt.col_offset
                    end = starts[stmt.end_lineno - 1] + stmt.end_col_offset
                    ops.append(Op(rel, stmt.lineno, table, found[1], "add_column",
                                  start, end, b"pass"))
            elif method == "alter_column":
                for kw in node.keywords:
                    if kw.arg == "new_column_name" and (new := const_str(kw.value)):
                        created.append(("?", new))
    return ops, created, sql_words


def external_block(config: str | None) -> str:
    """The `external:` list of a project's config, as text (one `- schema.table` a line)."""
    match = re.search(r"^external:\n((?:\s+-.*\n|#.*\n)*)", config or "", re.M)
    return match.group(1) if match else ""


def source_of(rel: str, sources: list[str]) -> str:
    """The declared source a revision belongs to ("" without declared sources)."""
    best = ""
    for s in sources:
        if rel.startswith(s.rstrip("/") + "/") and len(s) > len(best):
            best = s
    return best


def candidates(
    tree: Path, sources: list[str], external: set[str]
) -> tuple[list[Op], int]:
    """Operations that create a mapped column exactly once in their source, on a table that
    is not `external:` (a table name without schema); and how many revisions were read."""
    mapped = mapped_columns(tree)
    all_ops: list[Op] = []
    counts: dict[tuple[str, str, str], int] = {}
    unknown_table: set[tuple[str, str]] = set()
    sql_words: dict[str, set[str]] = {}
    revisions = 0
    for path in sorted(tree.rglob("*.py")):
        if "versions" not in path.parts[len(tree.parts):]:
            continue
        ops, created, words = revision_ops(tree, path)
        rel = str(path.relative_to(tree))
        src = source_of(rel, sources)
        if ops or created or words:
            revisions += 1
        sql_words.setdefault(src, set()).update(words)
        for table, column in created:
            if table == "?":
                unknown_table.add((src, column))
            else:
                counts[(src, table, column)] = counts.get((src, table, column), 0) + 1
        all_ops.extend(ops)
    picked = []
    for op in all_ops:
        src = source_of(op.path, sources)
        if counts.get((src, op.table, op.column)) != 1:
            continue
        if (src, op.column) in unknown_table or op.column.lower() in sql_words.get(src, set()):
            continue
        if op.column not in mapped.get(op.table, set()):
            continue
        if op.table in external:
            # A full audit trusts the columns of a table made outside the migrations.
            continue
        picked.append(op)
    picked.sort(key=lambda o: (o.path, o.start))
    return picked, revisions


# ----- one project --------------------------------------------------------------------------


@dataclass
class Result:
    line: str
    false_findings: int
    missing: int
    recall_hits: int
    recall_total: int
    wanted: int  # the sample size this project must reach


def run_project(project: dict, binary: str, cache: Path, sample: int, jobs: int) -> Result:
    name, version = project["name"], project["version"]
    unpacked = unpack(project, cache)
    expected_path = HERE / "expected" / f"{name}.json"
    expected = json.loads(expected_path.read_text()) if expected_path.exists() else []
    expected_keys = {(e["rule"], e["target"]) for e in expected}
    config = project.get("config")
    sources = re.findall(r'path:\s*"([^"]+)"', config or "")
    with tempfile.TemporaryDirectory(prefix=f"corpus-{name}-") as tmp:
        base = Path(tmp) / "tree"
        copy_tree(unpacked, project["check"], base, config)
        for other in project.get("with", []):
            copy_tree(unpack(other, cache), other["check"], base, None)
        started = time.monotonic()
        report = check(binary, base)
        elapsed = time.monotonic() - started
        # A project may judge fewer rules (`judged` in projects.toml, with why): its other
        # findings are counted on the result line as not judged, never hidden.
        judged = set(project.get("judged", JUDGED))
        found = {finding_key(f): f for f in report["findings"] if f["rule"] in judged}
        unjudged = sum(1 for f in report["findings"] if f["rule"] not in judged)
        false = sorted(set(found) - expected_keys)
        missing = sorted(expected_keys - set(found))
        for key in false:
            f = found[key]
            loc = f["location"]
            print(f"  FALSE FINDING {key[0]} {key[1]} at {loc['path']}:{loc['line']}: "
                  f"{f['message']}")
        for key in missing:
            print(f"  EXPECTED BUT MISSING {key[0]} {key[1]}")

        external = {
            pattern.split(".")[-1]
            for pattern in re.findall(r"^\s*-\s*([\w.]+)\s*$", external_block(config), re.M)
        }
        ops, revisions = candidates(base, sources, external)
        rng = random.Random(SEED)
        rng.shuffle(ops)
        chosen = ops[:sample]
        baseline = {key for key in found if key[0] in RECALL_RULES}

        # One copy of the tree per worker; a mutation is undone after its check.
        workers = []
        for i in range(jobs):
            tree = Path(tmp) / f"w{i}"
            shutil.copytree(base, tree)
            workers.append(tree)
        free = list(workers)
        lock = threading.Lock()

        def one(op: Op) -> tuple[Op, set]:
            with lock:
                tree = free.pop()
            try:
                path = tree / op.path
                original = path.read_bytes()
                path.write_bytes(original[: op.start] + op.replacement + original[op.end:])
                try:
                    after = {
                        finding_key(f)
                        for f in check(binary, tree)["findings"]
                        if f["rule"] in RECALL_RULES
                    }
                finally:
                    path.write_bytes(original)
                return op, after - baseline
            finally:
                with lock:
                    free.append(tree)

        hits = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            for op, new in pool.map(one, chosen):
                # Exactly one new DG001, for that table and column (in whatever schema).
                if [(k[0], k[1].split(".")[-2:]) for k in new] == [
                    ("DG001", [op.table, op.column])
                ]:
                    hits += 1
                    continue
                what = "nothing" if not new else ", ".join(" ".join(k) for k in sorted(new))
                print(f"  RECALL MISS {op.table}.{op.column} ({op.kind}) at {op.path}:{op.line}: "
                      f"driftguard reported {what}")
        s = report["summary"]
        n = len(chosen)
        pct = 100.0 * hits / n if n else 0.0
        line = (
            f"corpus {name} {version}: {s['tables']} tables, {s['columns']} columns, "
            f"{s['migration_files']} migrations, {elapsed:.2f}s, {len(false)} false findings, "
            f"recall {hits}/{n} ({pct:.1f}%)"
        )
        if unjudged:
            line += f" [{unjudged} findings of other rules not judged]"
        if n < sample:
            line += f" [only {len(ops)} candidates of {revisions} revisions]"
        return Result(line, len(false), len(missing), hits, n,
                      min(sample, project.get("candidates", sample)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True, help="the release driftguard binary")
    parser.add_argument("--only", action="append", help="run only this project (repeatable)")
    parser.add_argument("--sample", type=int, default=50, help="recall sample per project")
    parser.add_argument("--jobs", type=int, default=2, help="parallel driftguard checks")
    args = parser.parse_args()

    projects = tomllib.loads((HERE / "projects.toml").read_text())["project"]
    if args.only:
        projects = [p for p in projects if p["name"] in args.only]
    wheels = projects + [w for p in projects for w in p.get("with", [])]
    cache = Path(
        os.environ.get("DRIFTGUARD_CORPUS_CACHE") or Path.home() / ".cache" / "driftguard-corpus"
    )
    if not fetch(wheels, cache):
        if os.environ.get("CI") == "true":
            print("corpus: FAILED to download the corpus wheels (CI=true)", file=sys.stderr)
            return 1
        print("\n" + "!" * 72 + "\n!! corpus: SKIPPED — pip could not download the wheels "
              "(no registry?)\n" + "!" * 72 + "\n", file=sys.stderr)
        return 0

    started = time.monotonic()
    results = []
    for project in projects:
        result = run_project(project, args.binary, cache, args.sample, args.jobs)
        print(result.line, flush=True)
        results.append(result)
    hits = sum(r.recall_hits for r in results)
    total = sum(r.recall_total for r in results)
    false = sum(r.false_findings for r in results)
    missing = sum(r.missing for r in results)
    pct = 100.0 * hits / total if total else 0.0
    print(
        f"corpus total: {len(results)} projects, {false} false findings, {missing} expected "
        f"findings missing, recall {hits}/{total} ({pct:.1f}%), "
        f"{time.monotonic() - started:.0f}s"
    )
    ok = (
        false == 0
        and missing == 0
        and all(r.recall_total >= r.wanted for r in results)
        and all(r.recall_hits >= RECALL_TARGET * r.recall_total for r in results)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
