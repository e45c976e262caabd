//! End-to-end regression tests of issue 11 ("Hostile inputs, secrets and crashes: a hook must
//! never die, leak or lie"): input that once crashed driftguard, or made it report a column as
//! created when PostgreSQL would reject the migration, or hide a gap.

use crate::common::*;

const EXAMPLE_MODELS: &str = "apps/backend/src/db/models/core.py";

/// The bundled example project (one gap: `core.customers.ai_contact_ok`), committed in a fresh
/// repository.
fn example_repo() -> TestRepo {
    let repo = TestRepo::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hibachi-backend");
    for path in [
        "apps/backend/src/db/base_class.py",
        "apps/backend/src/db/models/core.py",
        "apps/backend/src/db/models/identity.py",
        "apps/backend/src/db/models/mixins.py",
        "database/migrations/001_initial_schema.sql",
        "database/migrations/20241215093000_add_contact_preference.sql",
    ] {
        let text = std::fs::read_to_string(root.join(path)).expect("example file");
        repo.write(path, &text);
    }
    repo.commit_all("example");
    repo
}

fn example_file(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hibachi-backend");
    std::fs::read_to_string(root.join(path)).expect("example file")
}

/// `(rule, target, line)` of a JSON check.
fn json_findings(repo: &TestRepo, args: &[&str]) -> (i32, Vec<(String, String, u64)>, String) {
    let run = repo.run(args);
    (run.code, run.findings(), run.stderr)
}

fn ai_contact_ok_gap() -> Vec<(String, String, u64)> {
    vec![(
        "DG001".to_string(),
        "core.customers.ai_contact_ok".to_string(),
        22,
    )]
}

/// Item 1: ~2,100 levels of `+` (which CPython compiles) and 5,000 nested brackets in a model
/// file and in an Alembic revision killed the process with a stack overflow (SIGABRT). Now
/// each file gets a warning at the place and the rest of it is still checked, in every mode.
#[test]
fn regression_issue_11_deep_nesting_never_kills_check_staged_or_schema() {
    let repo = example_repo();
    let chain = format!("X = \"a\"{}\n", " + \"a\"".repeat(2100));
    let parens = format!("Y = ({}1{})\n", "([{".repeat(1700), "}])".repeat(1700));
    let models = example_file(EXAMPLE_MODELS).replace(
        "from .mixins import TimestampMixin\n",
        &format!("from .mixins import TimestampMixin\n{chain}{parens}"),
    );
    repo.write(EXAMPLE_MODELS, &models).write(
        "database/alembic/versions/0001_deep.py",
        &format!(
            "revision = \"0001\"\ndown_revision = None\nfrom alembic import op\nimport sqlalchemy as sa\n\n\ndef upgrade():\n    op.execute({}\"SELECT 1\"{})\n    op.create_table(\"audit\", sa.Column(\"id\", sa.Integer()), schema=\"core\")\n",
            "(".repeat(5000),
            ")".repeat(5000)
        ),
    );
    repo.stage(&["."]);

    let check = repo.run(&["check", "."]);
    assert_eq!(check.code, 1, "{check:?}");
    assert_shown!("check", check);

    let (code, findings, stderr) = json_findings(&repo, &["check", "--staged", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(findings.is_empty(), "the gap is not new: {findings:?}");
    assert!(
        stderr.contains("core.py:9:5: expressions or blocks nest"),
        "{stderr}"
    );
    assert!(stderr.contains("0001_deep.py:8:"), "{stderr}");

    let schema = repo.run(&["schema", ".", "--format", "json"]);
    assert_eq!(schema.code, 0, "{schema:?}");
    let tables: Vec<String> = schema.json()["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| format!("{}.{}", c["table_schema"], c["table_name"]))
        .collect();
    assert!(
        tables.contains(&"\"core\".\"audit\"".to_string()),
        "{tables:?}"
    );
    assert!(
        schema.stderr.contains("0001_deep.py:8:"),
        "{}",
        schema.stderr
    );
}

/// Item 4: an unterminated dollar quote (or string, quoted identifier, block comment) makes
/// PostgreSQL reject the file; driftguard counted the column inside it and exited 0.
#[test]
fn regression_issue_11_an_unterminated_dollar_quote_creates_nothing() {
    let repo = example_repo();
    for (name, sql) in [
        (
            "unterminated",
            "DO $$ BEGIN ALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN; END;\n",
        ),
        (
            "mismatched_tags",
            "DO $a$ BEGIN ALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN; END; $b$;\n",
        ),
        (
            "tags_are_case_sensitive",
            "DO $A$ BEGIN ALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN; END; $a$;\n",
        ),
        (
            "string",
            "COMMENT ON TABLE core.customers IS 'people;\nALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN;\n",
        ),
        (
            "quoted_identifier",
            "ALTER TABLE core.\"customers ADD COLUMN ai_contact_ok BOOLEAN;\n",
        ),
        (
            "block_comment",
            "/* a /* nested */ note\nALTER TABLE core.customers ADD COLUMN ai_contact_ok BOOLEAN;\n",
        ),
    ] {
        repo.write(
            "database/migrations/20250101000000_ai_contact_ok.sql",
            &format!("-- Migration: ai_contact_ok\n{sql}"),
        );
        let (code, findings, stderr) = json_findings(&repo, &["check", "--format", "json"]);
        assert_eq!(
            (code, findings),
            (1, ai_contact_ok_gap()),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("20250101000000_ai_contact_ok.sql:2:"),
            "{name}: {stderr}"
        );
        assert!(stderr.contains("never closed"), "{name}: {stderr}");
        if name == "unterminated" {
            assert_shown!(name, repo.run(&["check", "--format", "json"]));
        }
    }
}

/// Item 5: an unclosed parenthesis on line 16 of a model file made the DG001 on line 22
/// disappear (exit 0), and the warning said `1:1`.
#[test]
fn regression_issue_11_a_syntax_error_hides_no_gap() {
    let repo = example_repo();
    let models = example_file(EXAMPLE_MODELS).replace(
        "mapped_column(String(255), unique=True)",
        "mapped_column(String(255), unique=True",
    );
    repo.write(EXAMPLE_MODELS, &models);
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("core.py:16:39: Python syntax error: `(` is never closed"),
        "{}",
        run.stderr
    );
    assert_shown!(run);

    // An unindent to no outer level: tree-sitter reads it without an error and ends the class
    // there, so the columns after it (and the gap on line 22) left the class in silence.
    let models = example_file(EXAMPLE_MODELS).replace("\n    email:", "\n  email:");
    repo.write(EXAMPLE_MODELS, &models);
    let (code, findings, stderr) = json_findings(&repo, &["check", "--format", "json"]);
    assert_eq!((code, findings), (1, ai_contact_ok_gap()), "{stderr}");
    assert!(
        stderr.contains(
            "core.py:16:3: Python syntax error: unindent does not match any outer indentation level"
        ),
        "{stderr}"
    );
}

/// Item 6: files with old Mac line endings (a lone CR; CPython accepts them) lost their
/// `__table_args__` schema (a false DG002 for `public.customers`) and skipped a class.
#[test]
fn regression_issue_11_cr_only_line_endings_read_like_lf() {
    let repo = example_repo();
    let lf = json_findings(&repo, &["check", "--format", "json"]);
    assert_eq!((lf.0, lf.1.clone()), (1, ai_contact_ok_gap()));
    for path in [
        "apps/backend/src/db/base_class.py",
        "apps/backend/src/db/models/core.py",
        "apps/backend/src/db/models/identity.py",
        "apps/backend/src/db/models/mixins.py",
        "database/migrations/20241215093000_add_contact_preference.sql",
    ] {
        repo.write(path, &example_file(path).replace('\n', "\r"));
    }
    let cr = json_findings(&repo, &["check", "--format", "json"]);
    assert_eq!(cr, lf);
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(
        run.json()["summary"]["columns"],
        serde_json::json!(20),
        "{run:?}"
    );
}
