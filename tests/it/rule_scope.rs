//! Issue 14: a change check runs the model rules again only for the tables its change can
//! reach, and keeps every other table's findings from the last analysis (`rules::scope`).
//! Whatever the edits, the result is what a run without the cache gives.

use crate::cache::{Rng, write_migrations};
use crate::common::*;
use std::ffi::OsStr;

const SCHEMAS: [&str; 2] = ["core", "ops"];
/// Model files: 18, holding 30 classes (two in each of the first twelve), so that a
/// resolution that decided one class again is not kept (the memo then names the files, or
/// the classes of a file decided class by class, decided again beside the kept one).
const FILE_COUNT: usize = 18;

fn file(i: usize) -> String {
    format!("apps/backend/src/db/models/m{i:02}.py")
}

/// A model class of the generated project.
#[derive(Clone, Debug)]
struct Class {
    file: usize,
    name: String,
    table: String,
    schema: &'static str,
    /// Column name and, for a foreign key, the text of its `ForeignKey(…)`.
    columns: Vec<(String, Option<String>)>,
    /// A single-table subclass of this class, in file `.0`, with columns `.1`.
    subclass: Option<(usize, Vec<String>)>,
    enum_column: bool,
}

/// The project the edits change: classes in three model files and a `Table(…)` call.
struct World {
    classes: Vec<Class>,
    migrations: Vec<(String, String)>,
    next: usize,
    /// Columns a parent table has yet to add, which its inheriting child's model maps:
    /// (parent's schema, parent's table, column).
    pending: Vec<(&'static str, String, String)>,
    /// The classes as each earlier step left them.
    history: Vec<Vec<Class>>,
}

impl World {
    fn new() -> World {
        let mut world = World {
            classes: Vec::new(),
            migrations: Vec::new(),
            next: 0,
            pending: Vec::new(),
            history: Vec::new(),
        };
        for i in 0..30 {
            let class = world.class(i % FILE_COUNT);
            world.classes.push(class);
        }
        // Same table name in both schemas: the "wrong schema?" hints read both.
        world.classes[1].table = world.classes[0].table.clone();
        world.classes[1].schema = SCHEMAS[1];
        world.classes[0].schema = SCHEMAS[0];
        let fk = format!("{}.id", world.classes[0].name);
        world.classes[2].columns.push(("owner_id".into(), Some(fk)));
        let fk = format!("{}.{}.id", world.classes[3].schema, world.classes[3].table);
        world.classes[4]
            .columns
            .push(("parent_id".into(), Some(fk)));
        world.classes[5].subclass = Some((2, vec!["vip_level".into()]));
        world.classes[6].enum_column = true;
        let creates: Vec<String> = world
            .classes
            .iter()
            .take(16)
            .map(|c| create_sql(c, true))
            .collect();
        world.migrations.push((
            "002_types.sql".into(),
            "CREATE SCHEMA IF NOT EXISTS ops;\nCREATE TYPE core.status_t AS ENUM ('a', 'b');\n"
                .into(),
        ));
        world
            .migrations
            .push(("003_tables.sql".into(), creates.join("")));
        world
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn class(&mut self, file: usize) -> Class {
        let name = self.fresh("Thing");
        let table = self.fresh("things_");
        Class {
            file,
            name,
            table,
            schema: SCHEMAS[self.next % 2],
            columns: vec![("label".into(), None)],
            subclass: None,
            enum_column: false,
        }
    }

    fn migration(&mut self, what: &str, sql: String) {
        let name = format!("{:03}_{what}.sql", self.migrations.len() + 3);
        self.migrations.push((name, sql));
    }

    /// A class some foreign key names (by class or table name), when there is one.
    fn referenced(&self, rng: &mut Rng) -> Option<usize> {
        let named: Vec<usize> = (0..self.classes.len())
            .filter(|&i| {
                let c = &self.classes[i];
                self.classes.iter().flat_map(|o| &o.columns).any(|(_, fk)| {
                    fk.as_deref().is_some_and(|fk| {
                        fk == format!("{}.id", c.name)
                            || fk.trim_end_matches(".id").ends_with(&c.table)
                    })
                })
            })
            .collect();
        named.get(rng.below(named.len().max(1))).copied()
    }

    /// One random edit of the models, the migrations, or both.
    fn edit(&mut self, rng: &mut Rng) {
        let n = self.classes.len();
        let mut pick = rng.below(n.max(1));
        let kind = if !self.pending.is_empty() && rng.below(4) == 0 {
            14
        } else {
            rng.below(17)
        };
        // Renames, removals and drops: half of them of a class a foreign key names.
        if matches!(kind, 4 | 5 | 7 | 8)
            && rng.below(2) == 0
            && let Some(referenced) = self.referenced(rng)
        {
            pick = referenced;
        }
        match kind {
            // A column, with its migration or without.
            0 | 1 if n > 0 => {
                let column = self.fresh("col_");
                if rng.below(3) > 0 {
                    let c = &self.classes[pick];
                    let sql = format!(
                        "ALTER TABLE {}.{} ADD COLUMN IF NOT EXISTS {column} VARCHAR(20);\n",
                        c.schema, c.table
                    );
                    self.migration("add_column", sql);
                }
                self.classes[pick].columns.push((column, None));
            }
            2 if n > 0 && self.classes[pick].columns.len() > 1 => {
                let columns = &mut self.classes[pick].columns;
                let i = rng.below(columns.len());
                columns.remove(i);
            }
            // A foreign key to another class, by class name or by table name.
            3 if n > 1 => {
                let target = rng.below(n);
                let t = &self.classes[target];
                let text = match rng.below(3) {
                    0 => format!("{}.id", t.name),
                    1 => format!("{}.{}.id", t.schema, t.table),
                    _ => format!("{}.id", t.table),
                };
                let column = self.fresh("ref_");
                if rng.below(2) == 0 {
                    let c = &self.classes[pick];
                    let sql = format!(
                        "ALTER TABLE {}.{} ADD COLUMN IF NOT EXISTS {column} INTEGER;\n",
                        c.schema, c.table
                    );
                    self.migration("add_ref", sql);
                }
                self.classes[pick].columns.push((column, Some(text)));
            }
            // A class renamed: foreign keys that named the old name now name nothing.
            4 if n > 0 => {
                self.classes[pick].name = self.fresh("Renamed");
            }
            // A table renamed, in the model, the migrations, or both.
            5 if n > 0 => {
                let new = self.fresh("moved_");
                let c = &self.classes[pick];
                let sql = format!("ALTER TABLE {}.{} RENAME TO {new};\n", c.schema, c.table);
                match rng.below(3) {
                    0 => self.migration("rename_table", sql),
                    1 => {
                        self.migration("rename_table", sql);
                        self.classes[pick].table = new;
                    }
                    _ => self.classes[pick].table = new,
                }
            }
            // A class added (its table created or not) or removed.
            6 => {
                let class = self.class(rng.below(FILE_COUNT));
                if rng.below(2) == 0 {
                    let sql = create_sql(&class, true);
                    self.migration("create", sql);
                }
                self.classes.push(class);
            }
            7 if n > 1 => {
                self.classes.remove(pick);
            }
            // A table of a model's name in the other schema, or one dropped.
            8 if n > 0 => {
                let c = &self.classes[pick];
                let other = if c.schema == SCHEMAS[0] {
                    SCHEMAS[1]
                } else {
                    SCHEMAS[0]
                };
                let sql = match rng.below(2) {
                    0 => format!(
                        "CREATE TABLE IF NOT EXISTS {other}.{} (id INTEGER);\n",
                        c.table
                    ),
                    _ => format!("DROP TABLE IF EXISTS {}.{};\n", c.schema, c.table),
                };
                self.migration("other_schema", sql);
            }
            // An enum value: a type change, every table is checked again.
            9 => {
                let value = self.fresh("v");
                let sql = format!("ALTER TYPE core.status_t ADD VALUE IF NOT EXISTS '{value}';\n");
                self.migration("enum_value", sql);
            }
            // A child table that inherits a model's table, mapped by a model of its own with
            // a column the parent adds later (edit 14), or a column of the parent at once.
            10 if n > 0 => {
                let child = self.fresh("child_");
                let column = self.fresh("inherited_");
                let (schema, table) = (self.classes[pick].schema, self.classes[pick].table.clone());
                let mut sql = format!(
                    "CREATE TABLE IF NOT EXISTS {schema}.{child} (extra TEXT) INHERITS ({schema}.{table});\n"
                );
                if rng.below(2) == 0 {
                    sql.push_str(&format!(
                        "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {column} TEXT;\n"
                    ));
                } else {
                    let mut class = self.class(rng.below(FILE_COUNT));
                    class.schema = schema;
                    class.table = child;
                    class.columns = vec![("extra".into(), None), (column.clone(), None)];
                    self.classes.push(class);
                    self.pending.push((schema, table, column));
                }
                self.migration("inherit", sql);
            }
            // The models as an earlier step left them: files the last check decided again
            // are as the kept resolution has them again.
            15 | 16 if !self.history.is_empty() => {
                let back = rng.below(self.history.len().min(3)) + 1;
                self.classes = self.history[self.history.len() - back].clone();
            }
            14 if !self.pending.is_empty() => {
                let (schema, table, column) = self.pending.remove(rng.below(self.pending.len()));
                let sql = format!(
                    "ALTER TABLE {schema}.{table} ADD COLUMN IF NOT EXISTS {column} TEXT;\n"
                );
                self.migration("parent_column", sql);
            }
            // A single-table subclass's columns, or the subclass moved to another file.
            11 if n > 0 => {
                let column = self.fresh("sub_");
                let file = rng.below(FILE_COUNT);
                let c = &mut self.classes[pick];
                match &mut c.subclass {
                    Some((at, columns)) => {
                        if rng.below(2) == 0 {
                            columns.push(column);
                        } else {
                            *at = file;
                        }
                    }
                    None => c.subclass = Some((file, vec![column])),
                }
            }
            // The newest migration edited, or a later one removed (not at the end: the
            // files after it replay again).
            12 if self.migrations.len() > 2 => {
                let last = self.migrations.len() - 1;
                if rng.below(2) == 0 {
                    self.migrations[last].1.push_str("-- edited\n");
                } else {
                    self.migrations
                        .remove(2 + rng.below(self.migrations.len() - 2));
                }
            }
            _ => {
                // The table of a class without one, created.
                let missing: Vec<usize> = (0..n)
                    .filter(|&i| {
                        let c = &self.classes[i];
                        !self
                            .migrations
                            .iter()
                            .any(|(_, sql)| sql.contains(&format!("{}.{} (", c.schema, c.table)))
                    })
                    .collect();
                if let Some(&i) = missing.get(rng.below(missing.len().max(1))) {
                    let sql = create_sql(&self.classes[i], rng.below(2) == 0);
                    self.migration("create_missing", sql);
                }
            }
        }
    }

    /// Writes the model files and migrations, and stages everything.
    fn write(&mut self, repo: &TestRepo) {
        self.write_models(repo);
        write_migrations(repo, &self.migrations);
        repo.git(&["add", "-A"]);
    }

    /// [`World::write`], the migrations as a chain of Alembic revisions (their SQL through
    /// `op.execute`), the first creating `core.customers`; every other one in three also adds
    /// a column through a model class's `__tablename__`.
    fn write_alembic(&mut self, repo: &TestRepo) {
        self.write_models(repo);
        let versions = repo.path().join(ALEMBIC_VERSIONS);
        let _ = std::fs::remove_dir_all(&versions);
        let _ = std::fs::remove_dir_all(repo.path().join(MIGRATIONS));
        let mut down = "None".to_string();
        let first = (
            String::new(),
            "CREATE SCHEMA IF NOT EXISTS core;\nCREATE TABLE core.customers (id SERIAL PRIMARY KEY, email VARCHAR(255) NOT NULL);\n".to_string(),
        );
        for (i, (_, sql)) in std::iter::once(&first).chain(&self.migrations).enumerate() {
            let id = format!("r{i:04}");
            let mut body = format!("    op.execute(\"\"\"{sql}\"\"\")\n");
            if i % 3 == 2
                && let Some(c) = self.classes.get(i % self.classes.len().max(1))
            {
                body.push_str(&format!(
                    "    op.add_column({}.__tablename__, sa.Column(\"named_{i}\", sa.Text()), schema=\"{}\")\n",
                    c.name, c.schema
                ));
            }
            repo.write(
                &format!("{ALEMBIC_VERSIONS}/{id}.py"),
                &format!(
                    "from alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = {down}\n\n\ndef upgrade():\n{body}"
                ),
            );
            down = format!("\"{id}\"");
        }
        repo.git(&["add", "-A"]);
    }

    fn write_models(&mut self, repo: &TestRepo) {
        self.history.push(self.classes.clone());
        for f in 0..FILE_COUNT {
            let path = file(f);
            let mut text = String::from(
                "from typing import Optional\n\nfrom sqlalchemy import Column, Enum, ForeignKey, Integer, String, Table\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n",
            );
            // Subclasses import their parent from its file.
            for c in &self.classes {
                if let Some((at, _)) = &c.subclass
                    && *at == f
                    && c.file != f
                {
                    text.push_str(&format!("from .m{:02} import {}\n", c.file, c.name));
                }
            }
            for c in self.classes.iter().filter(|c| c.file == f) {
                text.push_str(&format!(
                    "\n\nclass {}(Base):\n    __tablename__ = \"{}\"\n    __table_args__ = {{\"schema\": \"{}\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
                    c.name, c.table, c.schema
                ));
                if c.subclass.is_some() {
                    text.push_str("    kind: Mapped[Optional[str]] = mapped_column(String(20))\n    __mapper_args__ = {\"polymorphic_on\": \"kind\"}\n");
                }
                if c.enum_column {
                    text.push_str("    status: Mapped[str] = mapped_column(Enum(\"a\", \"b\", name=\"status_t\", schema=\"core\"))\n");
                }
                for (column, fk) in &c.columns {
                    match fk {
                        Some(target) => text.push_str(&format!(
                            "    {column}: Mapped[Optional[int]] = mapped_column(ForeignKey(\"{target}\"))\n"
                        )),
                        None => text.push_str(&format!(
                            "    {column}: Mapped[Optional[str]] = mapped_column(String(20))\n"
                        )),
                    }
                }
            }
            for c in &self.classes {
                if let Some((at, columns)) = &c.subclass
                    && *at == f
                {
                    text.push_str(&format!(
                        "\n\nclass {}Sub({}):\n    __mapper_args__ = {{\"polymorphic_identity\": \"sub\"}}\n\n",
                        c.name, c.name
                    ));
                    for column in columns {
                        text.push_str(&format!(
                            "    {column}: Mapped[Optional[str]] = mapped_column(String(20))\n"
                        ));
                    }
                }
            }
            if f == 2 {
                text.push_str("\n\naudit = Table(\n    \"audit\",\n    Base.metadata,\n    Column(\"id\", Integer, primary_key=True),\n    schema=\"ops\",\n)\n");
            }
            repo.write(&path, &text);
        }
    }
}

const ALEMBIC_VERSIONS: &str = "apps/backend/alembic/versions";

/// `CREATE TABLE` of a class's table, with its columns (or `id` alone).
fn create_sql(c: &Class, all: bool) -> String {
    let mut columns = vec!["id SERIAL PRIMARY KEY".to_string()];
    if all {
        if c.subclass.is_some() {
            columns.push("kind VARCHAR(20)".into());
        }
        if c.enum_column {
            columns.push("status core.status_t NOT NULL".into());
        }
        for (name, fk) in &c.columns {
            columns.push(match fk {
                Some(_) => format!("{name} INTEGER"),
                None => format!("{name} VARCHAR(20)"),
            });
        }
    }
    format!(
        "CREATE TABLE IF NOT EXISTS {}.{} (\n    {}\n);\n",
        c.schema,
        c.table,
        columns.join(",\n    ")
    )
}

/// How many classes of changed model files the cached run took one by one from the kept
/// resolution (`models::resolve::kept`).
fn taken_one_by_one(stderr: &str) -> usize {
    stderr
        .split('\n')
        .filter_map(|l| l.strip_prefix("driftguard timing: model classes taken one by one "))
        .filter_map(|n| n.trim().parse::<usize>().ok())
        .sum()
}

/// How many tables the cached run checked again, when it checked fewer than all.
fn checked_again(stderr: &str) -> Option<usize> {
    stderr
        .split('\n')
        .find_map(|l| l.strip_prefix("driftguard timing: model tables checked again "))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn issue_14_rules_checked_for_what_a_change_reaches_give_what_a_full_run_gives() {
    let (steps, scoped, one_by_one) = random_edits(
        &[0x51_7e5c_09e1_u64, 0x0dd_ba11_cafe, 0x5ca1_ab1e],
        20,
        World::write,
    );
    assert_eq!(steps, 60);
    // The scoped path ran, not only the full one; and classes of changed files were taken
    // one by one.
    assert!(scoped >= 20, "only {scoped} of {steps} checks were scoped");
    assert!(
        one_by_one >= 3,
        "only {one_by_one} of {steps} checks took classes one by one"
    );
}

/// The same with the migrations as an Alembic chain, some of whose revisions name a model
/// class's table (the replay then waits for the models).
#[test]
fn issue_14_rules_checked_for_what_a_change_reaches_over_an_alembic_chain() {
    let (steps, scoped, _) = random_edits(&[0x0a1e_3b1c, 0x0c4a_1e55], 15, World::write_alembic);
    assert_eq!(steps, 30);
    assert!(scoped >= 8, "only {scoped} of {steps} checks were scoped");
}

/// Random edits of [`World`]s from `seeds`, `steps` each, written by `write`: each step's
/// staged and `--all` checks compared with runs without the cache. Returns the steps, how
/// many cached staged checks were scoped, and how many took some classes of a changed file
/// one by one from the kept resolution.
fn random_edits(
    seeds: &[u64],
    steps_each: usize,
    write: fn(&mut World, &TestRepo),
) -> (usize, usize, usize) {
    let started = std::time::Instant::now();
    let (mut steps, mut scoped, mut one_by_one) = (0, 0, 0);
    for &seed in seeds {
        let mut rng = Rng(seed);
        let repo = handbook_repo();
        let mut world = World::new();
        write(&mut world, &repo);
        repo.git(&["commit", "-q", "--no-verify", "-m", "project"]);
        for step in 0..steps_each {
            for _ in 0..=rng.below(2) {
                world.edit(&mut rng);
            }
            write(&mut world, &repo);
            let at = format!("seed {seed:#x} step {step}");
            let timings: [(&str, &OsStr); 1] = [("DRIFTGUARD_TIMINGS", OsStr::new("1"))];
            let cached = run_in_with(
                repo.path(),
                &["check", "--staged", "--format", "json"],
                &timings,
            );
            let fresh = run_in_with(
                repo.path(),
                &["check", "--staged", "--format", "json"],
                &[("DRIFTGUARD_NO_CACHE", OsStr::new("1"))],
            );
            assert!(matches!(fresh.code, 0 | 1), "{at}: {fresh:?}");
            assert_eq!(
                (cached.code, &cached.stdout),
                (fresh.code, &fresh.stdout),
                "{at}: the cached run differs from a run without cache"
            );
            if checked_again(&cached.stderr).is_some() {
                scoped += 1;
            }
            if taken_one_by_one(&cached.stderr) > 0 {
                one_by_one += 1;
            }
            let cached_all = repo.run(&["check", "--all", ".", "--format", "json"]);
            let fresh_all = run_in_with(
                repo.path(),
                &["check", "--all", ".", "--format", "json"],
                &[("DRIFTGUARD_NO_CACHE", OsStr::new("1"))],
            );
            assert_eq!(
                (cached_all.code, &cached_all.stdout),
                (fresh_all.code, &fresh_all.stdout),
                "{at}: the cached --all differs from a run without cache"
            );
            steps += 1;
            if rng.below(3) == 0 {
                repo.git(&["commit", "-q", "--no-verify", "--allow-empty", "-m", "step"]);
            }
        }
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(90),
        "bounded runtime: {:?}",
        started.elapsed()
    );
    (steps, scoped, one_by_one)
}

/// Models `Event` (`core.events`, in one file) and `Archived` (`core.archived_events`, in
/// another) with its `column`: the inheriting table's model and its parent's.
fn write_event_models(repo: &TestRepo, column: &str) {
    let header = "from typing import Optional\n\nfrom sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n";
    repo.write(
        &file(0),
        &format!("{header}\n\nclass Event(Base):\n    __tablename__ = \"events\"\n    __table_args__ = {{\"schema\": \"core\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n"),
    );
    repo.write(
        &file(1),
        &format!("{header}\n\nclass Archived(Base):\n    __tablename__ = \"archived_events\"\n    __table_args__ = {{\"schema\": \"core\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    {column}: Mapped[Optional[str]] = mapped_column(String(20))\n"),
    );
}

/// A parent table's new column reaches the tables that inherit from it: the model of such a
/// child table is checked again although no edited file names it.
#[test]
fn issue_14_a_parent_tables_new_column_reaches_the_model_of_its_child() {
    let repo = handbook_repo();
    write_event_models(&repo, "region");
    write_migrations(
        &repo,
        &[(
            "002_events.sql".into(),
            "CREATE TABLE core.events (id SERIAL PRIMARY KEY);\nCREATE TABLE core.archived_events () INHERITS (core.events);\n".into(),
        )],
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "events"]);
    let before = repo.run(&["check", "--all", ".", "--format", "json"]);
    assert_eq!(before.findings_rules(), ["DG001"], "{before:?}");
    // Only the parent is named; the child's model file is not edited.
    write_migrations(
        &repo,
        &[
            (
                "002_events.sql".into(),
                "CREATE TABLE core.events (id SERIAL PRIMARY KEY);\nCREATE TABLE core.archived_events () INHERITS (core.events);\n".into(),
            ),
            (
                "003_region.sql".into(),
                "ALTER TABLE core.events ADD COLUMN region VARCHAR(20);\n".into(),
            ),
        ],
    );
    repo.git(&["add", "-A"]);
    let timings: [(&str, &OsStr); 1] = [("DRIFTGUARD_TIMINGS", OsStr::new("1"))];
    let after = run_in_with(
        repo.path(),
        &["check", "--all", ".", "--format", "json"],
        &timings,
    );
    assert!(
        checked_again(&after.stderr).is_some(),
        "the rules were scoped: {}",
        after.stderr
    );
    assert_eq!(after.code, 0, "{after:?}");
    assert!(after.findings_rules().is_empty(), "{after:?}");
}

/// A file replayed in both runs is skipped only while no later file creates a table: a table
/// created later makes an earlier `ALTER` of it fail (it was made elsewhere before), and its
/// transaction with it, so a model the new file does not name loses a column.
#[test]
fn issue_14_a_table_created_later_voids_an_earlier_transaction_for_other_models_too() {
    let repo = handbook_repo();
    repo.run(&["check", "--all", "."]);
    let migrations = |with_create: bool| {
        let mut migrations = vec![(
            "002_note.sql".to_string(),
            "BEGIN;\nALTER TABLE core.orders ADD COLUMN x TEXT;\nALTER TABLE core.customers ADD COLUMN note TEXT;\nCOMMIT;\n".to_string(),
        )];
        if with_create {
            migrations.push((
                "003_orders.sql".to_string(),
                "CREATE TABLE core.orders (id INTEGER);\n".to_string(),
            ));
        }
        migrations
    };
    repo.write(
        MODELS,
        &customer_with("note: Mapped[Optional[str]] = mapped_column(String(20))"),
    );
    write_migrations(&repo, &migrations(false));
    repo.git(&["add", "-A"]);
    let first = repo.run(&["check", "--all", ".", "--format", "json"]);
    assert!(first.findings_rules().is_empty(), "{first:?}");
    // The model file is not edited: only the new migration names a table, `core.orders`.
    write_migrations(&repo, &migrations(true));
    repo.git(&["add", "-A"]);
    let timings: [(&str, &OsStr); 1] = [("DRIFTGUARD_TIMINGS", OsStr::new("1"))];
    let cached = run_in_with(
        repo.path(),
        &["check", "--all", ".", "--format", "json"],
        &timings,
    );
    assert!(checked_again(&cached.stderr).is_some(), "{}", cached.stderr);
    let fresh = run_in_with(
        repo.path(),
        &["check", "--all", ".", "--format", "json"],
        &[("DRIFTGUARD_NO_CACHE", OsStr::new("1"))],
    );
    assert_eq!(fresh.findings_rules(), ["DG001", "DG008"], "{fresh:?}");
    assert_eq!((cached.code, &cached.stdout), (fresh.code, &fresh.stdout));
}

/// A repository with `Customer` in one model file, `Review` in another with a foreign key
/// `ForeignKey("{target}.id")`, both tables created, and `fillers` more model files with a
/// class each (more than 16 files with classes: a resolution that decided one file again is
/// not kept, the memo names that file).
fn referring_repo(target: &str, fillers: usize) -> TestRepo {
    let repo = handbook_repo();
    let header = "from typing import Optional\n\nfrom sqlalchemy import ForeignKey, String\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n";
    repo.write(
        &file(1),
        &format!("{header}\n\nclass Review(Base):\n    __tablename__ = \"reviews\"\n    __table_args__ = {{\"schema\": \"core\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey(\"{target}.id\"))\n"),
    );
    let mut sql =
        String::from("CREATE TABLE core.reviews (id SERIAL PRIMARY KEY, customer_id INTEGER);\n");
    for i in 0..fillers {
        repo.write(
            &file(2 + i),
            &format!("{header}\n\nclass Filler{i}(Base):\n    __tablename__ = \"fillers_{i}\"\n    __table_args__ = {{\"schema\": \"core\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n"),
        );
        sql.push_str(&format!(
            "CREATE TABLE core.fillers_{i} (id SERIAL PRIMARY KEY);\n"
        ));
    }
    write_migrations(&repo, &[("002_reviews.sql".into(), sql)]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "reviews"]);
    repo
}

/// The customer model (`core.customers`) under another class name.
fn customer_named(class: &str) -> String {
    customer_with("").replace("class Customer(Base):", &format!("class {class}(Base):"))
}

/// `check --all` with the cache and without: the same output. Returns the rules found. With
/// `scoped`, the cached run must have checked fewer tables than all (the first run of a
/// repository has no memo to go on from).
fn same_scoped(repo: &TestRepo, at: &str, scoped: bool) -> Vec<String> {
    let timings: [(&str, &OsStr); 1] = [("DRIFTGUARD_TIMINGS", OsStr::new("1"))];
    let cached = run_in_with(
        repo.path(),
        &["check", "--all", ".", "--format", "json"],
        &timings,
    );
    assert_eq!(
        checked_again(&cached.stderr).is_some(),
        scoped,
        "{at}: scoped? {}",
        cached.stderr
    );
    let fresh = run_in_with(
        repo.path(),
        &["check", "--all", ".", "--format", "json"],
        &[("DRIFTGUARD_NO_CACHE", OsStr::new("1"))],
    );
    assert_eq!(
        (cached.code, &cached.stdout),
        (fresh.code, &fresh.stdout),
        "{at}: the cached run differs from a run without cache"
    );
    fresh.findings_rules()
}

/// A class renamed in one file: a foreign key of another, unedited file that names the old
/// class now names nothing. The kept resolution's names for the edited file bring it in.
#[test]
fn issue_14_a_renamed_class_reaches_the_foreign_keys_that_named_it() {
    let repo = referring_repo("Customer", 0);
    assert!(same_scoped(&repo, "at HEAD", false).is_empty());
    repo.write(MODELS, &customer_named("Client"));
    repo.git(&["add", "-A"]);
    assert_eq!(same_scoped(&repo, "renamed", true), ["DG007"]);
}

/// A file edited, then edited back: the memo's names for the files it decided again (here a
/// class name only that edit had) bring in the foreign keys that named them.
#[test]
fn issue_14_a_file_edited_back_reaches_what_the_edit_named() {
    let repo = referring_repo("Client", 17);
    assert_eq!(same_scoped(&repo, "at HEAD", false), ["DG007"]);
    repo.write(MODELS, &customer_named("Client"));
    repo.git(&["add", "-A"]);
    assert!(same_scoped(&repo, "renamed", true).is_empty());
    // Edited back, beside a new migration (a state no run analysed before).
    repo.write(MODELS, CUSTOMER_PY);
    repo.write(
        &format!("{MIGRATIONS}/003_extra.sql"),
        "CREATE TABLE core.extra (id INTEGER);\n",
    );
    repo.git(&["add", "-A"]);
    assert_eq!(same_scoped(&repo, "edited back", true), ["DG007"]);
}

/// A schema's first table, made by a new migration, changes what another table's finding
/// suggests (no `CREATE SCHEMA` first any more) though no edited file names that table: the
/// schemas that exist are part of what a memo was built from, and every table is checked.
#[test]
fn issue_14_a_schemas_first_table_reaches_the_suggestions_for_that_schema() {
    let repo = handbook_repo();
    let header =
        "from sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n";
    repo.write(
        &file(0),
        &format!("{header}\n\nclass Invoice(Base):\n    __tablename__ = \"invoices\"\n    __table_args__ = {{\"schema\": \"billing\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n"),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "invoices"]);
    let before = same_scoped(&repo, "at HEAD", false);
    assert_eq!(before, ["DG002"]);
    repo.write(
        &format!("{MIGRATIONS}/002_payments.sql"),
        "CREATE TABLE billing.payments (id INTEGER);\n",
    );
    repo.git(&["add", "-A"]);
    let after = same_scoped(&repo, "a table in the schema", false);
    assert_eq!(after, ["DG002"]);
}

/// Dropping a parent table drops the tables that inherit from it: the model of such a child
/// is checked again although the migration names the parent alone (and the child is gone from
/// the schema it is checked against).
#[test]
fn issue_14_a_dropped_parent_table_reaches_the_model_of_its_child() {
    let repo = handbook_repo();
    write_event_models(&repo, "note");
    let created = (
        "002_events.sql".to_string(),
        "CREATE TABLE core.events (id SERIAL PRIMARY KEY);\nCREATE TABLE core.archived_events (note VARCHAR(20)) INHERITS (core.events);\n".to_string(),
    );
    write_migrations(&repo, std::slice::from_ref(&created));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "events"]);
    assert!(same_scoped(&repo, "at HEAD", false).is_empty());
    write_migrations(
        &repo,
        &[
            created,
            (
                "003_drop.sql".into(),
                "DROP TABLE core.events CASCADE;\n".into(),
            ),
        ],
    );
    repo.git(&["add", "-A"]);
    assert_eq!(
        same_scoped(&repo, "parent dropped", true),
        ["DG002", "DG002"]
    );
}

/// A model file edited down to its imports: the foreign keys that named its class are checked
/// again, and so is everything once the file is edited back.
#[test]
fn issue_14_a_model_file_left_without_classes_reaches_what_named_them() {
    let repo = referring_repo("Customer", 0);
    assert!(same_scoped(&repo, "at HEAD", false).is_empty());
    let imports = CUSTOMER_PY
        .split("\n\n\nclass")
        .next()
        .unwrap_or_default()
        .to_string();
    repo.write(MODELS, &format!("{imports}\n"));
    repo.git(&["add", "-A"]);
    assert_eq!(same_scoped(&repo, "class removed", true), ["DG007"]);
    repo.write(MODELS, CUSTOMER_PY);
    repo.write(
        &format!("{MIGRATIONS}/003_extra.sql"),
        "CREATE TABLE core.extra (id INTEGER);\n",
    );
    repo.git(&["add", "-A"]);
    assert!(same_scoped(&repo, "edited back", true).is_empty());
}
