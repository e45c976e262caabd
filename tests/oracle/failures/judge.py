#!/usr/bin/env python3
"""The DG008 oracle's judge: the statements PostgreSQL rejected against driftguard's findings.

    judge.py NAME=PROJECT=DIR [...]

DIR holds `errors.txt` (psql's stderr for every file of `files.txt`, run in order from PROJECT)
and `check.json` (`driftguard check --format json`). A psql error line reads
`psql:FILE:LINE: ERROR:  message`, LINE being where the failing statement ends; it is mapped to
the statement's ordinal among FILE's statements, split here at `;` outside quotes, dollar
quotes and comments, as PostgreSQL's psql does. "current transaction is aborted" errors are
the cascade of an earlier error, not primary errors, and are left out. The (file, ordinal)
pairs must equal the DG008 findings' (file, `statement N`). Stdlib only.
"""

import json
import re
import sys

ERROR = re.compile(r"^psql:(?P<file>.+?):(?P<line>\d+): ERROR:\s+(?P<message>.*)$")
CASCADE = "current transaction is aborted"


def statement_ends(text):
    """The line each statement ends on (1-based), for statements holding any SQL."""
    ends = []
    i, line, n = 0, 1, len(text)
    has_sql = False
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("--", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
        elif c == "'" or c == '"':
            end = i + 1
            while end < n:
                if text[end] == c and text[end + 1 : end + 2] == c:
                    end += 2
                elif text[end] == c:
                    break
                else:
                    end += 1
            line += text.count("\n", i, end + 1)
            i = end + 1
            has_sql = True
        elif c == "$":
            m = re.match(r"\$[A-Za-z_]*\$", text[i:])
            if m:
                tag = m.group(0)
                end = text.find(tag, i + len(tag))
                end = n if end < 0 else end + len(tag)
                line += text.count("\n", i, end)
                i = end
            else:
                i += 1
            has_sql = True
        elif c == ";":
            if has_sql:
                ends.append(line)
            has_sql = False
            i += 1
        else:
            if not c.isspace():
                has_sql = True
            i += 1
    if has_sql:
        ends.append(line)
    return ends


def ordinal(ends, line):
    """The 1-based ordinal of the statement that ends on `line`."""
    for k, end in enumerate(ends):
        if end >= line:
            return k + 1
    return len(ends)


def judge(label, project, directory):
    rejected = {}
    cascade = 0
    with open(f"{directory}/errors.txt", encoding="utf-8", errors="replace") as f:
        for raw in f.read().splitlines():
            m = ERROR.match(raw)
            if not m:
                continue
            if CASCADE in m.group("message"):
                cascade += 1
                continue
            path = m.group("file")
            with open(f"{project}/{path}", encoding="utf-8") as sql:
                ends = statement_ends(sql.read())
            key = (path, ordinal(ends, int(m.group("line"))))
            rejected[key] = m.group("message")
    with open(f"{directory}/check.json", encoding="utf-8") as f:
        report = json.load(f)
    flagged = {}
    for finding in report["findings"]:
        if finding["rule"] != "DG008":
            continue
        target = finding["target"]
        number = int(target["column"].split()[-1])
        flagged[(target["table"], number)] = finding["message"]
    problems = []
    for key in sorted(set(rejected) - set(flagged)):
        problems.append(f"{key[0]} statement {key[1]}: PostgreSQL rejects it ({rejected[key]}), driftguard does not report it")
    for key in sorted(set(flagged) - set(rejected)):
        problems.append(f"{key[0]} statement {key[1]}: driftguard reports it, PostgreSQL runs it")
    for key in sorted(set(rejected) & set(flagged)):
        print(f"  {label}: {key[0]} statement {key[1]}: {rejected[key]}")
    for p in problems:
        print(f"  {label}: DISAGREE: {p}")
    print(
        f"failures oracle: {label}: {len(rejected)} statements PostgreSQL rejects "
        f"({cascade} aborted-transaction errors left out), {len(flagged)} DG008 findings, "
        f"{len(problems)} disagreements"
    )
    return len(rejected), len(problems)


def main(args):
    total_rejected = total_problems = 0
    for arg in args:
        label, project, directory = arg.split("=", 2)
        rejected, problems = judge(label, project, directory)
        total_rejected += rejected
        total_problems += problems
    print(
        f"failures oracle: {len(args)} projects, {total_rejected} rejected statements, "
        f"{total_problems} disagreements"
    )
    return 1 if total_problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
