//! End-to-end tests of `driftguard schema`: the real binary on the example project and on
//! temp dirs.

use std::path::Path;

use crate::common::*;

fn example() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn example_schema_as_json() {
    let run = run_in(
        example(),
        &["schema", "examples/hibachi-backend", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn example_schema_as_table() {
    let run = run_in(example(), &["schema", "examples/hibachi-backend"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn enums_unqualified_names_and_warnings() {
    let repo = TestRepo::plain();
    repo.write(
        "db/migrations/001_a.sql",
        "CREATE SCHEMA ops;\n\
         SET search_path TO ops, public;\n\
         CREATE TYPE status AS ENUM ('new', 'done');\n\
         CREATE TABLE jobs (id bigserial PRIMARY KEY, state status NOT NULL DEFAULT 'new', tags text[]);\n\
         CREATE TABLE logs AS SELECT 1 AS x;\n",
    )
    .write(
        "db/migrations/002_b.sql",
        "ALTER TYPE ops.status ADD VALUE 'running' BEFORE 'done';\n",
    );
    let run = repo.run(&["schema", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["sources"][0]["files"],
        serde_json::json!(["db/migrations/001_a.sql", "db/migrations/002_b.sql"])
    );
    let columns: Vec<(String, String, String, String)> = json["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
            (
                format!("{}.{}", s("table_schema"), s("table_name")),
                s("column_name"),
                s("data_type"),
                s("is_nullable"),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_string(), b.to_string(), c.to_string(), d.to_string())
    };
    assert_eq!(
        columns,
        vec![
            row("ops.jobs", "id", "bigint", "NO"),
            row("ops.jobs", "state", "USER-DEFINED", "NO"),
            row("ops.jobs", "tags", "ARRAY", "YES"),
        ]
    );
    assert_eq!(
        json["columns"][0]["column_default"],
        "nextval('ops.jobs_id_seq'::regclass)"
    );
    assert_eq!(json["columns"][1]["column_default"], "'new'::ops.status");
    assert_eq!(
        json["enums"],
        serde_json::json!([{"schema": "ops", "name": "status", "values": ["new", "running", "done"]}])
    );
    assert_shown!(run);
}

#[test]
fn source_selection_and_could_not_run() {
    let repo = TestRepo::plain();
    repo.write("migrations/001.sql", "CREATE TABLE t (a int);\n");
    let run = repo.run(&["schema", "--source", "sql", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["columns"][0]["table_name"], "t");
    let run = repo.run(&["schema", "--source", "alembic"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!("unknown_source", run);
    let run = repo.run(&["schema", "no/such/dir"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!("missing_folder", run);
}

#[test]
fn no_migrations_prints_an_empty_schema() {
    let repo = TestRepo::plain();
    repo.write("app.py", "print('hi')\n");
    let run = repo.run(&["schema"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("table", run);
    let run = repo.run(&["schema", "--format", "json"]);
    assert_eq!(run.json()["columns"], serde_json::json!([]));
}

#[test]
fn several_sources_print_the_one_database_they_build_or_one_alone() {
    let repo = TestRepo::plain();
    repo.write(
        "migrations/001.sql",
        "CREATE TABLE IF NOT EXISTS users (id int PRIMARY KEY, email text);\n\
         ALTER TABLE users ADD COLUMN IF NOT EXISTS email text;\n",
    )
    .write(
        "app/alembic/versions/abc_init.py",
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"abc\"\ndown_revision = None\n\n\n\
         def upgrade():\n    op.create_table(\"users\", sa.Column(\"id\", sa.Integer(), primary_key=True), \
         sa.Column(\"name\", sa.String(40), nullable=False))\n",
    );
    let columns = |args: &[&str]| -> Vec<String> {
        let run = repo.run(args);
        assert_eq!(run.code, 0, "{run:?}");
        run.json()["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c["column_name"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    // One database: the Alembic environment runs first and creates `users`; the SQL file's
    // `CREATE TABLE IF NOT EXISTS` then does nothing and its `ALTER TABLE` adds `email`. An
    // Alembic environment also has Alembic's own `alembic_version` table.
    assert_eq!(
        columns(&["schema", "--format", "json"]),
        ["version_num", "id", "name", "email"]
    );
    assert_eq!(
        columns(&["schema", "--format", "json", "--source", "app/alembic"]),
        ["version_num", "id", "name"]
    );
    assert_eq!(
        columns(&["schema", "--format", "json", "--source", "SQL migrations"]),
        ["id", "email"]
    );
}

#[test]
fn example_schema_as_the_handbooks_markdown_inventory() {
    let run = run_in(
        example(),
        &["schema", "examples/hibachi-backend", "--format", "markdown"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
    // A model table no migration creates is listed as the gap it is.
    let repo = TestRepo::plain();
    repo.write(BASE, BASE_PY).write(MODELS, CUSTOMER_PY).write(
        &format!("{MIGRATIONS}/001_initial.sql"),
        "CREATE SCHEMA core;\nCREATE TABLE core.other (id int);\n",
    );
    let run = repo.run(&["schema", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "### Mapped by models, created by no migration\n\n| Table | Model |\n| --- | --- |\n| `core.customers` | `Customer` (`apps/backend/src/db/models/core.py`) |\n"
        ),
        "{}",
        run.stdout
    );
}
