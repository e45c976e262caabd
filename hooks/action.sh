#!/usr/bin/env bash
# The driftguard GitHub Action (action.yml runs this; every input arrives as an environment
# variable, never pasted into the script). Works for pull_request, merge_group and push events;
# any other event checks the whole tree.
#
#   1. installs driftguard with pip into a venv under $RUNNER_TEMP (a runner's system Python
#      refuses `pip install`, PEP 668);
#   2. finds the base: the `base` input, else the event's (pull request or merge group base
#      SHA, a push's `before`, or the default branch when `before` is all zeros — a new
#      branch); a shallow checkout cannot have the merge base, so it fails naming `fetch-depth: 0`;
#   3. runs `driftguard check --base …` for JSON (counting and annotations), markdown
#      ($GITHUB_STEP_SUMMARY) and the human log, and a full audit for SARIF (the `sarif-file`
#      input: code scanning wants the whole picture);
#   4. annotates at most 10 errors and 10 warnings, findings on lines the change touched first;
#   5. sets the outputs `findings` and `sarif-file`, and exits as `fail-on` says (2: could not run).
set -euo pipefail

version=${DRIFTGUARD_VERSION:-}
base=${DRIFTGUARD_BASE:-}
args=${DRIFTGUARD_ARGS:-}
config=${DRIFTGUARD_CONFIG:-}
workdir=${DRIFTGUARD_WORKING_DIRECTORY:-.}
sarif=${DRIFTGUARD_SARIF_FILE:-driftguard.sarif}
fail_on=${DRIFTGUARD_FAIL_ON:-error}

# A workflow command's message: `%`, CR and LF escaped.
escape() {
    local text=${1//%/%25}
    text=${text//$'\r'/%0D}
    printf '%s' "${text//$'\n'/%0A}"
}

# Could not run: one error annotation, exit 2.
die() {
    printf '::error title=driftguard could not run::%s\n' "$(escape "$*")"
    exit 2
}

case "$fail_on" in
    error | warning | never) ;;
    *) die "the fail-on input must be error, warning or never, not \`$fail_on\`" ;;
esac
command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH: add actions/setup-python before this step"
command -v git >/dev/null 2>&1 || die "git is not on PATH"

# --- 1. install
if [ -z "$version" ] || [ "$version" = latest ]; then
    requirement=driftguard
elif [[ "$version" =~ ^[0-9][0-9A-Za-z.+!-]*$ ]]; then
    requirement="driftguard==$version"
else
    die "the version input must be a version like 0.1.0, or latest, not \`$version\`"
fi
temp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
venv=$temp/driftguard-venv
driftguard=$venv/bin/driftguard
if [ ! -x "$driftguard" ] || [ "$requirement" = driftguard ] ||
    [ "$("$driftguard" --version 2>/dev/null)" != "driftguard $version" ]; then
    echo "::group::pip install $requirement"
    python3 -m venv "$venv" || die "cannot create a Python venv in $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" ||
        die "\`pip install $requirement\` failed: is that version published?"
    echo "::endgroup::"
fi
"$driftguard" --version

# The SARIF file is named from where the step started (the workspace), as upload-sarif reads it.
case "$sarif" in
    /*) ;;
    *) sarif=$PWD/$sarif ;;
esac
cd "$workdir" || die "the working-directory \`$workdir\` does not exist"
git rev-parse --git-dir >/dev/null 2>&1 ||
    die "\`$workdir\` is not inside a git repository: run actions/checkout (with fetch-depth: 0) before driftguard"

# --- 2. the base
# Prints the base, then on a second line the default branch ref (the fallback for a push).
event_base() {
    python3 - <<'PY'
import json
import os

name = os.environ.get("GITHUB_EVENT_NAME", "")
try:
    with open(os.environ.get("GITHUB_EVENT_PATH", ""), encoding="utf-8") as f:
        event = json.load(f)
except (OSError, ValueError):
    event = {}
if not isinstance(event, dict):
    event = {}


def get(value, *keys):
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


branch = get(event, "repository", "default_branch")
default = "origin/" + branch if branch else ""
base = ""
if name in ("pull_request", "pull_request_target"):
    base = get(event, "pull_request", "base", "sha")
elif name == "merge_group":
    base = get(event, "merge_group", "base_sha")
elif name == "push":
    before = get(event, "before")
    base = before if before.strip("0") else default
print(base)
print(default)
PY
}

has_commit() {
    git rev-parse --verify --quiet "$1^{commit}" >/dev/null
}

default_branch=
if [ -z "$base" ]; then
    {
        IFS= read -r base
        IFS= read -r default_branch
    } < <(event_base)
fi

if [ -n "$base" ]; then
    if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
        die "the checkout is shallow, so driftguard cannot find where this change starts. Check out the full history: actions/checkout with \`fetch-depth: 0\`"
    fi
    # A base SHA may not be fetched yet; a push's `before` may be gone after a force push.
    if ! has_commit "$base"; then
        git fetch --no-tags --quiet origin "${base#origin/}" >/dev/null 2>&1 || true
    fi
    if ! has_commit "$base"; then
        if [ -n "$default_branch" ] && has_commit "$default_branch"; then
            echo "::notice title=driftguard::\`$base\` is not in this checkout; comparing with $default_branch instead"
            base=$default_branch
        else
            die "cannot find the base \`$base\` in this checkout: check out with \`fetch-depth: 0\`, or set the base input"
        fi
    fi
    echo "driftguard: checking what this change introduces since its merge base with $base"
    mode=(--base "$base")
else
    echo "driftguard: no base for a ${GITHUB_EVENT_NAME:-local} event; checking the whole tree"
    mode=(--all)
fi

# --- 3. the check, in each format
read -r -a extra <<<"$args"
options=()
if [ -n "$config" ]; then
    options+=(--config "$config")
fi
options+=(${extra[@]+"${extra[@]}"})
# What the change introduces: the exit status, the annotations, the summary, the log.
change=(check "${mode[@]}" --fail-on "$fail_on" ${options[@]+"${options[@]}"})
# Code scanning closes an alert when a later upload lacks it, so the SARIF file is a full audit
# of the tree: on a pull request, GitHub itself shows which alerts are new against the base.
audit=(check --all --fail-on never ${options[@]+"${options[@]}"})

json=$temp/driftguard.json
stderr=$temp/driftguard.stderr
# `run OUTPUT ARGS...`: runs driftguard with its stdout in OUTPUT and returns its exit status;
# 2 (could not run) ends the action.
run() {
    local output=$1 code=0
    shift
    "$driftguard" "$@" >"$output" 2>"$stderr" || code=$?
    if [ "$code" -ge 2 ]; then
        die "\`driftguard $*\` could not run: $(cat "$stderr")"
    fi
    return "$code"
}

code=0
run "$json" "${change[@]}" --format json || code=$?
cat "$stderr" >&2
mkdir -p "$(dirname "$sarif")"
run "$sarif" "${audit[@]}" --format sarif || true
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    run "$temp/driftguard.md" "${change[@]}" --format markdown || true
    cat "$temp/driftguard.md" >>"$GITHUB_STEP_SUMMARY"
fi
echo "::group::driftguard ${change[*]}"
"$driftguard" --color always "${change[@]}" 2>/dev/null || true
echo "::endgroup::"

# --- 4. annotations: findings on changed lines first, at most 10 of each level
count=$temp/driftguard.count
python3 - "$json" "$base" "$count" <<'PY'
import json
import re
import subprocess
import sys

report_path, base, count_path = sys.argv[1:4]
with open(report_path, encoding="utf-8") as f:
    findings = json.load(f).get("findings") or []

# Lines the change added or modified, by path: `git diff -U0 base...HEAD` hunks.
changed = {}
if base:
    diff = subprocess.run(
        ["git", "-c", "core.quotePath=false", "diff", "-U0", "--no-color", "--no-ext-diff",
         base + "...HEAD"],
        capture_output=True, text=True, errors="replace", check=False,
    ).stdout
    path = None
    for line in diff.split("\n"):
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("@@") and path:
            hunk = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
            if hunk:
                start, count = int(hunk.group(1)), int(hunk.group(2) or "1")
                if count:
                    changed.setdefault(path, []).append((start, start + count - 1))


def location(finding):
    loc = finding.get("location") or {}
    return str(loc.get("path") or ""), int(loc.get("line") or 0), int(loc.get("column") or 0)


def rank(finding):
    path, line, _ = location(finding)
    touched = any(a <= line <= b for a, b in changed.get(path, []))
    return (0 if touched else 1, path, line)


def data(text):
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def prop(text):
    return data(text).replace(":", "%3A").replace(",", "%2C")


levels = {"error": [], "warning": []}
for finding in findings:
    levels["error" if finding.get("severity") == "error" else "warning"].append(finding)
for level, group in levels.items():
    group.sort(key=rank)
    for finding in group[:10]:
        path, line, column = location(finding)
        title = f"{finding.get('rule', '')} {finding.get('name', '')}".strip()
        text = str(finding.get("message") or "")
        if finding.get("help"):
            text += "\n" + str(finding["help"])
        if finding.get("suggestion"):
            text += "\n\nSuggested SQL:\n" + str(finding["suggestion"])
        where = f"file={prop(path)},line={line}" + (f",col={column}" if column else "")
        print(f"::{level} {where},title={prop(title)}::{data(text)}")
    if len(group) > 10:
        print(f"::notice title=driftguard::{len(group) - 10} more {level}s are not annotated; "
              "the job summary and the SARIF file list them all")
with open(count_path, "w", encoding="utf-8") as f:
    f.write(str(len(findings)))
PY
findings=$(cat "$count")

# --- 5. outputs and the exit status
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "findings=$findings"
        echo "sarif-file=$sarif"
    } >>"$GITHUB_OUTPUT"
fi
echo "driftguard: $findings finding(s) introduced; SARIF in $sarif"
exit "$code"
