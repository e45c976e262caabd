#!/usr/bin/env bash
# The GitHub Action: action.yml and the example workflow are valid and lint-clean, and
# hooks/action.sh does its job under a simulated runner — pip installs the locally built wheel
# (PIP_NO_INDEX, PIP_FIND_LINKS), finds the base for pull_request, push and merge_group events,
# reports the gap, writes outputs, summary and SARIF, ranks annotations, and fails clearly in a
# shallow clone.
#   tests/action_test.sh
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
tools_venv
build_wheel

# --- static checks
check "action.yml matches the GitHub Actions schema" \
    "$TOOLS/check-jsonschema" --builtin-schema vendor.github-actions "$ROOT/action.yml"
check "the example workflow matches the GitHub workflow schema" \
    "$TOOLS/check-jsonschema" --builtin-schema vendor.github-workflows "$ROOT/examples/github-workflow.yml"
zizmor_clean() {
    local out=$SCRATCH/zizmor.log
    if "$TOOLS/zizmor" --offline --config "$ROOT/.github/zizmor.yml" \
        "$ROOT/action.yml" "$ROOT/examples/github-workflow.yml" >"$out" 2>&1 &&
        grep -q 'No findings' "$out"; then
        return 0
    fi
    show "$out"
    return 1
}
check "zizmor --offline finds nothing in action.yml and the example workflow" zizmor_clean
no_expressions_in_run() {
    python3 - "$ROOT/action.yml" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
run = text[text.index("run:"):]
sys.exit(1 if "${{" in run else 0)
PY
}
check "inputs reach the script only through env:" no_expressions_in_run
check "shellcheck: hooks/action.sh, hooks/pre-commit, the test scripts" \
    "$TOOLS/shellcheck" -x "$ROOT/hooks/action.sh" "$ROOT/hooks/pre-commit" "$ROOT/scripts/test" \
    "$ROOT"/tests/*.sh

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
versions_agree() {
    grep -q "default: \"$version\"" "$ROOT/action.yml" &&
        grep -q "rev: v$version" "$ROOT/README.md" &&
        grep -q "rev: v$version" "$ROOT/.pre-commit-hooks.yaml" &&
        grep -q "driftguard/driftguard@v$version" "$ROOT/examples/github-workflow.yml" &&
        grep -q "driftguard/driftguard@v$version" "$ROOT/README.md"
}
check "one version ($version) in Cargo.toml, action.yml, the README, the hooks and the example" \
    versions_agree

# --- the simulated runner
# origin: `main` is clean; `feature` adds a model column without a migration (model line 15);
# `fixed` adds it with its migration.
origin=$SCRATCH/origin
handbook_repo "$origin"
main_sha=$(git -C "$origin" rev-parse main)
git -C "$origin" checkout -q -b feature
add_gap "$origin"
git -C "$origin" commit -q -am "loyalty tier"
git -C "$origin" checkout -q -b fixed
add_gap_migration "$origin"
git -C "$origin" add -A
git -C "$origin" commit -q -m "loyalty tier migration"
git -C "$origin" checkout -q main

full=$SCRATCH/full
git clone -q "file://$origin" "$full"
git -C "$full" checkout -q feature

runner=$SCRATCH/runner
mkdir -p "$runner/temp"

# `event NAME FILE JSON`
event() {
    printf '%s\n' "$3" >"$runner/$2"
}
event pull_request pr.json "{\"pull_request\": {\"base\": {\"sha\": \"$main_sha\"}}, \"repository\": {\"default_branch\": \"main\"}}"
event push push.json '{"before": "0000000000000000000000000000000000000000", "repository": {"default_branch": "main"}}'
event merge_group mq.json "{\"merge_group\": {\"base_sha\": \"$main_sha\", \"head_sha\": \"x\"}, \"repository\": {\"default_branch\": \"main\"}}"

# `action NAME DIR EVENT_NAME EVENT_FILE [VAR=VALUE...]`: runs hooks/action.sh as the composite
# step would, with the action.yml defaults; its output, GITHUB_OUTPUT and summary go to
# $runner/NAME.{log,output,summary}; sets CODE.
action() {
    local name=$1 dir=$2 event_name=$3 event_file=$4
    shift 4
    : >"$runner/$name.output"
    : >"$runner/$name.summary"
    CODE=0
    env -C "$dir" \
        GITHUB_ACTIONS=true GITHUB_EVENT_NAME="$event_name" GITHUB_EVENT_PATH="$runner/$event_file" \
        GITHUB_OUTPUT="$runner/$name.output" GITHUB_STEP_SUMMARY="$runner/$name.summary" \
        GITHUB_WORKSPACE="$dir" RUNNER_TEMP="$runner/temp" \
        PIP_NO_INDEX=1 PIP_FIND_LINKS="$DRIFTGUARD_WHEEL_DIR" \
        DRIFTGUARD_VERSION="$version" DRIFTGUARD_BASE= DRIFTGUARD_ARGS= DRIFTGUARD_CONFIG= \
        DRIFTGUARD_WORKING_DIRECTORY=. DRIFTGUARD_SARIF_FILE=driftguard.sarif DRIFTGUARD_FAIL_ON=error \
        "$@" bash "$ROOT/hooks/action.sh" >"$runner/$name.log" 2>&1 || CODE=$?
}

# `expect_gap NAME DIR`: the finding on model line 15, exit 1, outputs, summary and SARIF.
expect_gap() {
    local name=$1 dir=$2 failed=0
    [ "$CODE" = 1 ] || { echo "exit $CODE, expected 1"; failed=1; }
    grep -q "^::error file=$MODEL,line=15,col=5,title=DG001 column-without-migration::.*loyalty_tier" \
        "$runner/$name.log" || { echo "no DG001 annotation on line 15"; failed=1; }
    grep -qx "findings=1" "$runner/$name.output" || { echo "no findings=1 output"; failed=1; }
    grep -qx "sarif-file=$dir/driftguard.sarif" "$runner/$name.output" ||
        { echo "no sarif-file output"; failed=1; }
    grep -q loyalty_tier "$runner/$name.summary" || { echo "the summary misses the finding"; failed=1; }
    python3 - "$dir/driftguard.sarif" <<'PY' || { echo "bad SARIF"; failed=1; }
import json, sys
sarif = json.load(open(sys.argv[1], encoding="utf-8"))
assert sarif["version"] == "2.1.0", sarif.get("version")
results = [r for run in sarif["runs"] for r in run["results"]]
assert [r["ruleId"] for r in results] == ["DG001"], results
PY
    if [ "$failed" = 1 ]; then
        show "$runner/$name.log"
        show "$runner/$name.output"
        return 1
    fi
}
MODEL=apps/backend/src/db/models/core.py

action pr "$full" pull_request pr.json
check "pull_request: pip installs the wheel, reports the gap, sets outputs, writes summary and SARIF" \
    expect_gap pr "$full"
check "pull_request: the log shows the installed version" grep -q "^driftguard $version\$" "$runner/pr.log"

action push "$full" push push.json
check "push of a new branch (before is all zeros): compared with origin/main" expect_gap push "$full"
check "push: the log names the default branch as the base" grep -q "merge base with origin/main" "$runner/push.log"

action mq "$full" merge_group mq.json
check "merge_group: compared with the queue's base" expect_gap mq "$full"

action never "$full" pull_request pr.json DRIFTGUARD_FAIL_ON=never
check "fail-on never: exit 0 with the finding still counted" \
    sh -c "[ $CODE = 0 ] && grep -qx findings=1 '$runner/never.output'"

clean=$SCRATCH/clean
git clone -q "file://$origin" "$clean"
git -C "$clean" checkout -q fixed
action clean "$clean" pull_request pr.json
check "a change with its migration: exit 0, findings=0" \
    sh -c "[ $CODE = 0 ] && grep -qx findings=0 '$runner/clean.output'"

action injection "$full" pull_request pr.json DRIFTGUARD_ARGS="\$(touch $runner/pwned) ;touch $runner/pwned2"
check "the args input is split into arguments, never run as shell" \
    sh -c "[ ! -e '$runner/pwned' ] && [ ! -e '$runner/pwned2' ] && [ $CODE = 2 ]"

action badfail "$full" pull_request pr.json DRIFTGUARD_FAIL_ON=sometimes
check "a bad fail-on is exit 2 with an error annotation" \
    sh -c "[ $CODE = 2 ] && grep -q '^::error title=driftguard could not run::the fail-on input' '$runner/badfail.log'"

action badversion "$full" pull_request pr.json DRIFTGUARD_VERSION="0.1.0; echo"
check "a version input that is not a version is exit 2 before pip runs" \
    sh -c "[ $CODE = 2 ] && grep -q 'the version input must be' '$runner/badversion.log'"

# A gap older than the change: not the change's (no annotation, not counted, exit 1 only for
# the new one), but in the SARIF file, a full audit for code scanning.
debt=$SCRATCH/debt
handbook_repo "$debt"
printf '    legacy_code: Mapped[Optional[str]] = mapped_column(String(4))\n' >>"$debt/$MODEL"
git -C "$debt" commit -q -am "an old gap"
debt_base=$(git -C "$debt" rev-parse HEAD)
git -C "$debt" checkout -q -b feature
add_gap "$debt"
git -C "$debt" commit -q -am "loyalty tier"
action debt "$debt" pull_request pr.json DRIFTGUARD_BASE="$debt_base"
debt_ok() {
    if [ "$CODE" = 1 ] && grep -qx findings=1 "$runner/debt.output" &&
        [ "$(grep -c '^::error ' "$runner/debt.log")" = 1 ] &&
        ! grep -q '^::error .*legacy_code' "$runner/debt.log" &&
        python3 - "$debt/driftguard.sarif" <<'PY'; then
import json, sys
sarif = json.load(open(sys.argv[1], encoding="utf-8"))
results = [r for run in sarif["runs"] for r in run["results"]]
assert len(results) == 2, results
PY
        return 0
    fi
    show "$runner/debt.log"
    return 1
}
check "an older gap is neither annotated nor counted, but is in the full-audit SARIF" debt_ok

# Ranking: `ranked` drops the migration that created 11 columns (findings on lines the change
# did not touch) and adds one more column (a changed line): 12 errors, 10 annotated, the
# changed line first.
ranked=$SCRATCH/ranked
handbook_repo "$ranked"
{
    for i in $(seq 1 11); do
        printf '    extra_%02d: Mapped[Optional[str]] = mapped_column(String(8))\n' "$i"
    done
} >>"$ranked/$MODEL"
{
    for i in $(seq 1 11); do
        printf 'ALTER TABLE core.customers ADD COLUMN extra_%02d VARCHAR(8);\n' "$i"
    done
} >"$ranked/database/migrations/002_extras.sql"
git -C "$ranked" add -A
git -C "$ranked" commit -q -m extras
ranked_base=$(git -C "$ranked" rev-parse HEAD)
git -C "$ranked" checkout -q -b drop
git -C "$ranked" rm -q database/migrations/002_extras.sql
add_gap "$ranked"
git -C "$ranked" commit -q -am "drop the extras migration, add loyalty tier"
action ranked "$ranked" pull_request pr.json DRIFTGUARD_BASE="$ranked_base"
ranked_ok() {
    local errors first
    errors=$(grep -c '^::error ' "$runner/ranked.log" || true)
    first=$(grep -m 1 '^::error ' "$runner/ranked.log" || true)
    if [ "$CODE" = 1 ] && [ "$errors" = 10 ] &&
        grep -qx findings=12 "$runner/ranked.output" &&
        grep -q '^::notice title=driftguard::2 more errors' "$runner/ranked.log" &&
        [[ "$first" == *"line=26,"*"loyalty_tier"* ]]; then
        return 0
    fi
    echo "exit $CODE, $errors error annotations, first: $first"
    show "$runner/ranked.log"
    return 1
}
check "at most 10 error annotations, the line the change touched first" ranked_ok

# A shallow clone cannot have the merge base: a clear failure naming fetch-depth: 0.
shallow=$SCRATCH/shallow
git clone -q --depth 1 --branch feature "file://$origin" "$shallow"
action shallow "$shallow" pull_request pr.json
shallow_fails() {
    if [ "$CODE" = 2 ] &&
        grep -q '^::error title=driftguard could not run::.*shallow.*fetch-depth: 0' "$runner/shallow.log"; then
        return 0
    fi
    show "$runner/shallow.log"
    return 1
}
check "a shallow clone fails with exit 2 and names fetch-depth: 0" shallow_fails

finish
