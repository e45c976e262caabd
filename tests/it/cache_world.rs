//! Issue 14, correctness first: the kept states a change check goes on from (the kept replay, the
//! kept resolution, the parse pack, the before side remembered by its tree) give exactly what a run
//! without the cache gives, over random edit sequences on a backend of several model files, schemas
//! and tables that refer to one another.
//!
//! `cache.rs` edits one table of one model file. Here the edits reach across files and tables: a
//! mixin in its own file whose columns every class that uses it maps (imported from its module, or
//! from one the project lacks, so that it is found by its name, which another file's class may then
//! share), a class moved to another file, a table renamed on both sides, foreign keys into tables
//! that a migration drops (alone, with `CASCADE`, or with their whole schema, made again or not),
//! an enum type whose values grow, which is renamed, and which a migration drops with the columns
//! that use it or after turning them into text, idempotent `DO` blocks, rollback sections,
//! suppression comments that come and go, and configs that declare a table external or ignore one.
//! Every step compares `check --staged` and `check --all`. The same edits run twice: with the
//! migrations as SQL files, and as one chain of Alembic revisions.

use crate::cache::{Rng, same_with_and_without_cache, write_migrations};
use crate::common::*;

const MIXINS: &str = "apps/backend/src/db/models/mixins.py";
/// A model file whose class is sometimes named `AuditMixin` too.
const LEGACY: &str = "apps/backend/src/db/models/legacy.py";
/// Where the revisions are when the migrations are Alembic's.
const VERSIONS: &str = "database/alembic/versions";
/// The model files a class can live in, by index.
const FILES: [&str; 3] = [
    "apps/backend/src/db/models/core.py",
    "apps/backend/src/db/models/identity.py",
    "apps/backend/src/db/models/ops.py",
];

const CONFIGS: [&str; 4] = [
    "external: [\"ops.*\"]\n",
    "ignore: [\"core.orders.*\"]\n",
    "rules: {DG003: \"off\"}\n",
    "ignore: [\"identity.users\"]\n",
];

/// One mapped class.
#[derive(Clone)]
struct Class {
    name: &'static str,
    schema: &'static str,
    table: String,
    /// Index into [`FILES`].
    file: usize,
    /// Extra columns: name and SQLAlchemy type.
    columns: Vec<(String, &'static str)>,
    /// Uses `AuditMixin`.
    mixin: bool,
    /// A foreign key column to `identity.users.id`.
    user_fk: bool,
    /// A column whose line carries `# driftguard: ignore[…]`.
    suppressed: Option<String>,
}

impl Class {
    /// `schema.table`.
    fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}

/// The backend as the test holds it: rendered to files at every step.
struct World {
    classes: Vec<Class>,
    mixin_columns: Vec<String>,
    /// The enum type of `identity.users.status` as the model names it, and its values as the
    /// Python enum has them.
    status_type: String,
    statuses: Vec<String>,
    /// Migrations beyond the first: file name and text.
    migrations: Vec<(String, String)>,
    next: usize,
    /// The model files import the mixin from a module path the project lacks (a package
    /// installed under another name): the class is then found by its name alone.
    mixin_by_name: bool,
    /// [`LEGACY`]'s class is named `AuditMixin`: a class found by its name alone is then
    /// ambiguous.
    legacy: bool,
    /// The migrations are Alembic revisions in [`VERSIONS`], one chain in the order of their
    /// names, each running its SQL with `op.execute`; otherwise SQL files.
    alembic: bool,
}

const INITIAL: &str = r#"-- Migration: initial
BEGIN;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS identity;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TYPE identity.user_status AS ENUM ('active', 'blocked');
CREATE TABLE IF NOT EXISTS core.customers (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL
);
CREATE TABLE IF NOT EXISTS core.orders (
    id SERIAL PRIMARY KEY,
    customer_id INT NOT NULL REFERENCES core.customers(id)
);
CREATE TABLE IF NOT EXISTS identity.users (
    id SERIAL PRIMARY KEY,
    status identity.user_status NOT NULL
);
CREATE TABLE IF NOT EXISTS ops.jobs (
    id SERIAL PRIMARY KEY
);
COMMIT;
-- ROLLBACK:
-- DROP TABLE ops.jobs; DROP TABLE identity.users; DROP TABLE core.orders;
"#;

impl World {
    fn new(alembic: bool) -> World {
        let class = |name, schema, table: &str, file| Class {
            name,
            schema,
            table: table.to_string(),
            file,
            columns: Vec::new(),
            mixin: false,
            user_fk: false,
            suppressed: None,
        };
        World {
            classes: vec![
                class("Customer", "core", "customers", 0),
                Class {
                    mixin: true,
                    ..class("Order", "core", "orders", 0)
                },
                class("User", "identity", "users", 1),
                class("Job", "ops", "jobs", 2),
            ],
            mixin_columns: Vec::new(),
            status_type: "user_status".into(),
            statuses: vec!["active".into(), "blocked".into()],
            migrations: Vec::new(),
            next: 1,
            mixin_by_name: false,
            legacy: false,
            alembic,
        }
    }

    fn name(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn migrate(&mut self, what: &str, sql: String) {
        self.next += 1;
        let name = format!("{:03}_{what}.sql", self.next + 1);
        self.migrations
            .push((name, format!("-- Migration: {what}\n{sql}")));
    }

    /// The SQL that creates a class's table as the models have it now.
    fn create_sql(&self, class: &Class) -> String {
        let mut columns = vec!["id SERIAL PRIMARY KEY".to_string()];
        match class.name {
            "Customer" => columns.push("email VARCHAR(255) NOT NULL".into()),
            "Order" => columns.push("customer_id INT NOT NULL".into()),
            "User" => columns.push(format!("status identity.{} NOT NULL", self.status_type)),
            _ => {}
        }
        if class.mixin {
            columns.extend(
                self.mixin_columns
                    .iter()
                    .map(|c| format!("{c} VARCHAR(40)")),
            );
        }
        if class.user_fk {
            columns.push("user_id INT".into());
        }
        columns.extend(
            class
                .columns
                .iter()
                .map(|(c, ty)| format!("{c} {}", sql_type(ty))),
        );
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    {}\n);\n",
            class.qualified(),
            columns.join(",\n    ")
        )
    }

    /// One random edit: of the models, of the migrations, or both at once.
    fn edit(&mut self, rng: &mut Rng, repo: &TestRepo, step: usize) {
        let c = rng.below(self.classes.len());
        match rng.below(21) {
            // A column, with its migration (plain or an idempotent `DO` block) or without.
            0..=2 => {
                let column = self.name("c");
                let ty = ["String(20)", "Integer", "Text"][rng.below(3)];
                let (schema, table) = (self.classes[c].schema, self.classes[c].table.clone());
                match rng.below(3) {
                    0 => {}
                    1 => self.migrate(
                        "add_column",
                        format!(
                            "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {column} {};\nCOMMENT ON COLUMN {schema}.{table}.{column} IS 'added';\n",
                            sql_type(ty)
                        ),
                    ),
                    _ => self.migrate(
                        "add_column_do",
                        format!(
                            "DO $$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = '{table}' AND column_name = '{column}') THEN\n        ALTER TABLE {schema}.{table} ADD COLUMN {column} {};\n    END IF;\nEND $$;\n",
                            sql_type(ty)
                        ),
                    ),
                }
                self.classes[c].columns.push((column, ty));
            }
            // A column removed from the model, dropped by a migration or not.
            3 if !self.classes[c].columns.is_empty() => {
                let i = rng.below(self.classes[c].columns.len());
                let (column, _) = self.classes[c].columns.remove(i);
                if rng.below(2) == 0 {
                    let table = self.classes[c].qualified();
                    self.migrate(
                        "drop_column",
                        format!("ALTER TABLE {table} DROP COLUMN IF EXISTS {column};\n"),
                    );
                }
            }
            // A column's type changed, with its migration or not.
            4 if !self.classes[c].columns.is_empty() => {
                let i = rng.below(self.classes[c].columns.len());
                let (column, ty) = self.classes[c].columns[i].clone();
                let new = if ty == "String(20)" {
                    "String(40)"
                } else {
                    "String(20)"
                };
                self.classes[c].columns[i].1 = new;
                if rng.below(2) == 0 {
                    let table = self.classes[c].qualified();
                    let ty = sql_type(new);
                    self.migrate(
                        "alter_type",
                        format!("ALTER TABLE {table} ALTER COLUMN {column} TYPE {ty};\n"),
                    );
                }
            }
            // The mixin gains a column: every class that uses it maps it; a migration adds it
            // to each such table, or to all but one.
            5 => {
                let column = self.name("audit_");
                let users: Vec<(String, String)> = self
                    .classes
                    .iter()
                    .filter(|k| k.mixin)
                    .map(|k| (k.schema.to_string(), k.table.clone()))
                    .collect();
                let skip = rng.below(users.len() + 2);
                let sql: String = users
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, (s, t))| {
                        format!(
                            "ALTER TABLE {s}.{t} ADD COLUMN IF NOT EXISTS {column} VARCHAR(40);\n"
                        )
                    })
                    .collect();
                if !sql.is_empty() {
                    self.migrate("mixin_column", sql);
                }
                self.mixin_columns.push(column);
            }
            6 if !self.mixin_columns.is_empty() => {
                let i = rng.below(self.mixin_columns.len());
                self.mixin_columns.remove(i);
            }
            // A class starts or stops using the mixin (its file is the only one that changes),
            // or every model file imports it another way.
            7 if rng.below(2) == 0 => self.mixin_by_name = !self.mixin_by_name,
            7 => self.classes[c].mixin = !self.classes[c].mixin,
            // A class moves to another model file.
            8 => self.classes[c].file = (self.classes[c].file + 1 + rng.below(2)) % FILES.len(),
            // A table renamed in the model, with its migration or not.
            9 => {
                let new = self.name(&format!(
                    "{}_",
                    self.classes[c].table.split('_').next().unwrap_or("t")
                ));
                if rng.below(2) == 0 {
                    let table = self.classes[c].qualified();
                    self.migrate(
                        "rename_table",
                        format!("ALTER TABLE {table} RENAME TO {new};\n"),
                    );
                }
                self.classes[c].table = new;
            }
            // A foreign key to `identity.users` comes or goes.
            10 => {
                let class = &mut self.classes[c];
                if class.name == "User" {
                    return;
                }
                class.user_fk = !class.user_fk;
                if class.user_fk && rng.below(2) == 0 {
                    let sql = format!(
                        "ALTER TABLE {} ADD COLUMN IF NOT EXISTS user_id INT REFERENCES identity.users(id);\n",
                        class.qualified()
                    );
                    self.migrate("user_fk", sql);
                }
            }
            // The enum gains a value, in the migrations too or not.
            11 if rng.below(3) > 0 => {
                let value = self.name("s");
                if rng.below(2) == 0 {
                    let sql = format!(
                        "ALTER TYPE identity.{} ADD VALUE IF NOT EXISTS '{value}';\n",
                        self.status_type
                    );
                    self.migrate("status_value", sql);
                }
                self.statuses.push(value);
            }
            // The enum type renamed in the model, in the migrations too or not.
            11 => {
                let new = self.name("user_status_");
                if rng.below(2) == 0 {
                    let sql = format!(
                        "ALTER TYPE identity.{} RENAME TO {new};\n",
                        self.status_type
                    );
                    self.migrate("status_rename", sql);
                }
                self.status_type = new;
            }
            // A suppression comment on a column comes or goes (DG100 when it silences nothing).
            12 => {
                let class = &mut self.classes[c];
                class.suppressed = match (&class.suppressed, class.columns.first()) {
                    (None, Some((column, _))) => Some(column.clone()),
                    _ => None,
                };
            }
            // A table dropped: alone, with what depends on it, or with its whole schema; the
            // next step may create it again.
            13 => {
                let class = &self.classes[c];
                let sql = match rng.below(4) {
                    0 => format!("DROP TABLE IF EXISTS {};\n", class.qualified()),
                    1 => format!("DROP TABLE IF EXISTS {} CASCADE;\n", class.qualified()),
                    2 => format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE;\nCREATE SCHEMA {schema};\n",
                        schema = class.schema
                    ),
                    // The schema gone with its tables: a finding's suggested SQL then creates
                    // the schema first, which depends on every table of it.
                    _ => format!("DROP SCHEMA IF EXISTS {} CASCADE;\n", class.schema),
                };
                self.migrate("drop", sql);
            }
            14 => {
                let sql = self.create_sql(&self.classes[c]);
                self.migrate("create", sql);
            }
            // The enum type dropped with the columns that use it, then made again.
            15 => {
                let values: Vec<String> = self.statuses.iter().map(|v| format!("'{v}'")).collect();
                let ty = &self.status_type;
                let sql = match rng.below(3) {
                    0 => format!("DROP TYPE IF EXISTS identity.{ty} CASCADE;\n"),
                    // The column kept as text and the type dropped (DG004 while the model
                    // still names it).
                    1 => format!(
                        "ALTER TABLE identity.users ALTER COLUMN status TYPE TEXT USING status::text;\nDROP TYPE IF EXISTS identity.{ty};\n"
                    ),
                    _ => format!(
                        "DO $$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = '{ty}') THEN\n        CREATE TYPE identity.{ty} AS ENUM ({});\n    END IF;\nEND $$;\nALTER TABLE identity.users ADD COLUMN IF NOT EXISTS status identity.{ty};\n",
                        values.join(", ")
                    ),
                };
                self.migrate("status_type", sql);
            }
            // A migration deleted, moved in the order, or edited (mostly the newest).
            16 if !self.migrations.is_empty() => {
                let i = rng.below(self.migrations.len());
                self.migrations.remove(i);
            }
            17 if !self.migrations.is_empty() => {
                let i = rng.below(self.migrations.len());
                self.migrations[i].0 = format!("9{}", self.migrations[i].0);
            }
            18 if !self.migrations.is_empty() => {
                let i = if rng.below(3) > 0 {
                    self.migrations.len() - 1
                } else {
                    rng.below(self.migrations.len())
                };
                let text = &mut self.migrations[i].1;
                if text.contains("VARCHAR(40)") && rng.below(2) == 0 {
                    *text = text.replace("VARCHAR(40)", "VARCHAR(20)");
                } else {
                    text.push_str(&format!("-- edited at step {step}\n"));
                }
            }
            19 => self.legacy = !self.legacy,
            // The config: one of several, or none.
            _ => match CONFIGS.get(rng.below(CONFIGS.len() + 1)) {
                Some(text) => {
                    repo.write("driftguard.yml", text);
                }
                None => {
                    let _ = std::fs::remove_file(repo.path().join("driftguard.yml"));
                }
            },
        }
    }

    /// Writes the model files and the migrations as the world has them.
    fn render(&self, repo: &TestRepo) {
        let mut mixin = String::from(
            "from typing import Optional\n\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n\nclass AuditMixin:\n",
        );
        if self.mixin_columns.is_empty() {
            mixin.push_str("    pass\n");
        }
        for column in &self.mixin_columns {
            mixin.push_str(&format!(
                "    {column}: Mapped[Optional[str]] = mapped_column(String(40))\n"
            ));
        }
        repo.write(MIXINS, &mixin);
        // The same file either way (a kept resolution is for one list of files): only the
        // class's name changes.
        let legacy = if self.legacy {
            "AuditMixin"
        } else {
            "LegacyMixin"
        };
        repo.write(
            LEGACY,
            &format!(
                "from typing import Optional\n\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n\nclass {legacy}:\n    legacy_note: Mapped[Optional[str]] = mapped_column(String(10))\n"
            ),
        );
        let import = if self.mixin_by_name {
            "from shop_models.mixins import AuditMixin"
        } else {
            "from .mixins import AuditMixin"
        };
        for (f, path) in FILES.iter().enumerate() {
            let mut text = format!(
                "import enum\nfrom typing import Optional\n\nfrom sqlalchemy import Enum, ForeignKey, Integer, String, Text\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n{import}\n",
            );
            if self.classes.iter().any(|k| k.file == f && k.name == "User") {
                text.push_str("\n\nclass UserStatus(enum.Enum):\n");
                for value in &self.statuses {
                    text.push_str(&format!("    {value} = \"{value}\"\n"));
                }
            }
            for class in self.classes.iter().filter(|k| k.file == f) {
                let bases = if class.mixin {
                    "AuditMixin, Base"
                } else {
                    "Base"
                };
                text.push_str(&format!(
                    "\n\nclass {}({bases}):\n    __tablename__ = \"{}\"\n    __table_args__ = {{\"schema\": \"{}\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
                    class.name, class.table, class.schema
                ));
                match class.name {
                    "Customer" => text.push_str("    email: Mapped[str] = mapped_column(String(255))\n"),
                    "Order" => text.push_str(
                        "    customer_id: Mapped[int] = mapped_column(ForeignKey(\"core.customers.id\"))\n",
                    ),
                    "User" => text.push_str(&format!(
                        "    status: Mapped[UserStatus] = mapped_column(Enum(UserStatus, name=\"{}\", schema=\"identity\"))\n",
                        self.status_type
                    )),
                    _ => {}
                }
                if class.user_fk {
                    text.push_str(
                        "    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey(\"identity.users.id\"))\n",
                    );
                }
                for (column, ty) in &class.columns {
                    let python = if ty.starts_with("Integer") {
                        "int"
                    } else {
                        "str"
                    };
                    let comment = if class.suppressed.as_ref() == Some(column) {
                        "  # driftguard: ignore[DG001]"
                    } else {
                        ""
                    };
                    text.push_str(&format!(
                        "    {column}: Mapped[Optional[{python}]] = mapped_column({ty}){comment}\n"
                    ));
                }
            }
            repo.write(path, &text);
        }
        if self.alembic {
            self.write_revisions(repo);
        } else {
            write_migrations(repo, &self.migrations);
        }
    }

    /// The migrations as one chain of Alembic revisions, in the order of their names (the
    /// order the SQL files run in): a migration deleted or moved rewires the chain around it.
    fn write_revisions(&self, repo: &TestRepo) {
        let dir = repo.path().join(VERSIONS);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                std::fs::remove_file(entry.path()).expect("remove");
            }
        }
        let mut chain: Vec<(&str, &str)> = vec![("001_initial.sql", INITIAL)];
        let mut later: Vec<(&str, &str)> = self
            .migrations
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_str()))
            .collect();
        later.sort();
        chain.extend(later);
        let mut down = "None".to_string();
        for (name, sql) in chain {
            let stem = name.trim_end_matches(".sql");
            let revision = format!("r{stem}");
            repo.write(
                &format!("{VERSIONS}/{stem}.py"),
                &format!(
                    "\"\"\"{stem}\"\"\"\nfrom alembic import op\n\nrevision = \"{revision}\"\ndown_revision = {down}\n\n\ndef upgrade():\n    op.execute(\n        \"\"\"\n{sql}\"\"\"\n    )\n\n\ndef downgrade():\n    pass\n"
                ),
            );
            down = format!("\"{revision}\"");
        }
    }
}

fn sql_type(ty: &str) -> &'static str {
    match ty {
        "String(20)" => "VARCHAR(20)",
        "String(40)" => "VARCHAR(40)",
        "Integer" => "INTEGER",
        _ => "TEXT",
    }
}

/// Runs the edit sequences of `seeds` on a backend whose migrations are SQL files or (with
/// `alembic`) revisions, comparing every step with a run without the cache; then asserts that
/// the sequences reached every rule that compares the models with the migrations, DG008 (SQL
/// files only), DG100, and a finding whose suggested SQL creates its schema first.
fn edit_sequences(alembic: bool, seeds: &[u64]) {
    let started = std::time::Instant::now();
    let mut checked = 0;
    let mut codes = [0usize; 2];
    // Steps whose findings suggest creating a schema first: a schema's last table is gone.
    let mut schema_suggested = 0;
    let mut rules: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for &seed in seeds {
        let mut rng = Rng(seed);
        let repo = TestRepo::new();
        let mut world = World::new(alembic);
        repo.write(BASE, BASE_PY);
        if !alembic {
            repo.write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL);
        }
        world.render(&repo);
        repo.commit_all("initial");
        let initial = repo.run(&["check", "--all", ".", "--format", "json"]);
        assert_eq!(
            initial.code, 0,
            "the initial backend has no gap: {initial:?}"
        );
        for step in 0..14 {
            for _ in 0..=rng.below(3) {
                world.edit(&mut rng, &repo, step);
            }
            world.render(&repo);
            repo.git(&["add", "-A"]);
            let (fresh, fresh_all) =
                same_with_and_without_cache(&repo, &format!("seed {seed:#x} step {step}"));
            codes[usize::from(fresh.code == 1)] += 1;
            let report: serde_json::Value =
                serde_json::from_str(&fresh_all.stdout).expect("json report");
            for finding in report["findings"].as_array().into_iter().flatten() {
                rules.insert(finding["rule"].as_str().unwrap_or_default().to_string());
            }
            schema_suggested +=
                usize::from(fresh_all.stdout.contains("CREATE SCHEMA IF NOT EXISTS"));
            checked += 1;
            if rng.below(3) == 0 {
                repo.git(&["commit", "-q", "--no-verify", "--allow-empty", "-m", "step"]);
            }
        }
    }
    assert_eq!(checked, 14 * seeds.len());
    // The sequences reach every rule that compares the models with the migrations, DG008
    // (SQL files only: it does not check Alembic revisions) and DG100: each of them is checked
    // against a run without the cache somewhere.
    let mut expected = vec![
        "DG001", "DG002", "DG003", "DG004", "DG005", "DG006", "DG007", "DG100",
    ];
    if !alembic {
        expected.push("DG008");
    }
    assert!(
        expected.iter().all(|r| rules.contains(*r)),
        "rules reached: {rules:?}"
    );
    // Both outcomes occur: the sequences reach gaps and clean states alike.
    assert!(
        codes[0] > 0 && codes[1] > 0,
        "clean / with findings: {codes:?}"
    );
    assert!(
        schema_suggested > 0,
        "no step dropped a schema's last table"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(90),
        "bounded runtime: {:?}",
        started.elapsed()
    );
}

#[test]
fn cached_results_match_a_run_without_cache_over_random_edits_across_files_and_tables() {
    // Chosen so that, together, the sequences reach every rule the test asks for.
    edit_sequences(
        false,
        &[
            0x5151_7a7a_0bad_cafe,
            0x0000_0000_0001_0001,
            0x0000_0000_0003_0003,
            0x0000_0000_0005_0005,
            0x0000_0000_001f_001f,
            0x7777_1234_abcd_0042,
        ],
    );
}

#[test]
fn cached_results_match_a_run_without_cache_over_the_same_edits_as_alembic_revisions() {
    edit_sequences(
        true,
        &[
            0x0000_0000_0001_0001,
            0x0000_0000_0003_0003,
            0x0000_0000_0009_0009,
            // Edits a kept revision in the middle of the chain: going on from the kept replay
            // regardless fails here.
            0x0000_0000_001f_001f,
        ],
    );
}
