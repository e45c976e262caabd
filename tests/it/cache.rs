//! The parse cache of change checks (issue 14): bounded, removable, and safe when two hooks
//! run at once on one repository.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use crate::common::*;

const CONTACT: &str = "contact_preference: Mapped[Optional[str]] = mapped_column(String(20))";

fn cache_files(repo: &TestRepo) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![repo.path().join(".git/driftguard")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                files.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

/// Runs `check --staged` in two processes started together; returns both outputs.
fn two_at_once(repo: &TestRepo) -> [(i32, String); 2] {
    let spawn = || {
        let mut cmd = Command::new(binary());
        isolate(&mut cmd)
            .args(["check", "--staged", "--format", "json"])
            .current_dir(repo.path())
            .env_remove("DRIFTGUARD_NO_CACHE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("driftguard starts")
    };
    let (a, b) = (spawn(), spawn());
    [a, b].map(|child| {
        let out = child.wait_with_output().expect("driftguard ends");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
}

/// `driftguard` with `args` in `repo`, with `threads` rayon threads (`None`: as many as the
/// machine has), its exit code and output; a run that has not ended after a minute (a wait
/// for work queued behind the waiting thread itself) is killed and fails the test.
fn run_on_threads(repo: &TestRepo, args: &[&str], threads: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(binary());
    isolate(&mut cmd)
        .args(args)
        .current_dir(repo.path())
        .env_remove("DRIFTGUARD_NO_CACHE")
        .env_remove("RAYON_NUM_THREADS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(threads) = threads {
        cmd.env("RAYON_NUM_THREADS", threads);
    }
    let child = cmd.spawn().expect("driftguard starts");
    let id = child.id();
    // Read on a thread of its own, so that a full pipe never holds the run up.
    let (sender, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait_with_output()));
    match ended.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(out) => {
            let out = out.expect("driftguard ends");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        }
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
            panic!("{args:?} on {threads:?} threads has not ended after a minute");
        }
    }
}

#[test]
fn a_pool_of_one_thread_or_of_several_gives_what_a_run_without_cache_gives() {
    let repo = handbook_repo();
    // A model file above the size parsed in pieces side by side, and a revision history of
    // its own beside the SQL folder.
    let mut orders = String::from(
        "from typing import Optional\n\nfrom sqlalchemy import ForeignKey, String\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n",
    );
    let mut sql = String::from("CREATE SCHEMA IF NOT EXISTS ops;\n");
    for n in 0..60 {
        orders.push_str(&format!(
            "\n\nclass Order{n}(Base):\n    __tablename__ = \"orders_{n}\"\n    __table_args__ = {{\"schema\": \"ops\"}}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    customer_id: Mapped[int] = mapped_column(ForeignKey(\"core.customers.id\"))\n    note: Mapped[Optional[str]] = mapped_column(String(40))\n"
        ));
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS ops.orders_{n} (id SERIAL PRIMARY KEY, customer_id INTEGER REFERENCES core.customers (id), note VARCHAR(40));\n"
        ));
    }
    assert!(orders.len() > 8 * 1024, "parsed in pieces");
    repo.write("apps/backend/src/db/models/orders.py", &orders)
        .write(&format!("{MIGRATIONS}/002_orders.sql"), &sql)
        .commit_all("orders");
    let mut model = customer_with(CONTACT);
    for round in 0..4 {
        // A new column with its migration, a gap (the contact column), and an edit of the
        // large file.
        model.push_str(&format!(
            "    extra_{round}: Mapped[Optional[str]] = mapped_column(String(20))\n"
        ));
        repo.write(MODELS, &model).write(
            &format!("{MIGRATIONS}/{:03}_extra.sql", round + 3),
            &format!("ALTER TABLE core.customers ADD COLUMN extra_{round} VARCHAR(20);\n"),
        );
        orders.push_str(&format!(
            "    extra_{round}: Mapped[Optional[str]] = mapped_column(String(20))\n"
        ));
        repo.write("apps/backend/src/db/models/orders.py", &orders);
        repo.git(&["add", "-A"]);
        for args in [
            &["check", "--staged", "--format", "json"][..],
            &["check", "--format", "json"],
        ] {
            let mut expected_cmd = Command::new(binary());
            let expected = isolate(&mut expected_cmd)
                .args(args)
                .current_dir(repo.path())
                .env("DRIFTGUARD_NO_CACHE", "1")
                .output()
                .expect("driftguard runs");
            let expected = String::from_utf8_lossy(&expected.stdout).into_owned();
            assert!(expected.contains("contact_preference"), "{expected}");
            assert!(expected.contains("orders_59"), "{expected}");
            // Cold (every entry written) on even rounds, warm (read back) on odd ones; each
            // thread count after the other, so the later ones read what the first wrote.
            if round % 2 == 0 {
                let clean = repo.run(&["cache", "clean"]);
                assert_eq!(clean.code, 0, "{clean:?}");
            }
            for threads in [Some("1"), None, Some("3"), Some("1")] {
                let (code, stdout) = run_on_threads(&repo, args, threads);
                assert_eq!(code, 1, "round {round}, {args:?} on {threads:?}: {stdout}");
                assert_eq!(stdout, expected, "round {round}, {args:?} on {threads:?}");
            }
        }
    }
}

#[test]
fn two_hooks_at_once_give_the_same_result_as_a_run_without_cache() {
    let repo = handbook_repo();
    // A gap (a column without its migration) and a covered column, over several rounds.
    let mut model = customer_with(CONTACT);
    for round in 0..4 {
        model.push_str(&format!(
            "    extra_{round}: Mapped[Optional[str]] = mapped_column(String(20))\n"
        ));
        repo.write(MODELS, &model);
        repo.write(
            &format!("{MIGRATIONS}/{:03}_extra.sql", round + 2),
            &format!("ALTER TABLE core.customers ADD COLUMN extra_{round} VARCHAR(20);\n"),
        );
        repo.git(&["add", "-A"]);
        let mut expected_cmd = Command::new(binary());
        let expected = isolate(&mut expected_cmd)
            .args(["check", "--staged", "--format", "json"])
            .current_dir(repo.path())
            .env("DRIFTGUARD_NO_CACHE", "1")
            .output()
            .expect("driftguard runs");
        assert_eq!(
            expected.status.code(),
            Some(1),
            "the contact column is a gap"
        );
        let expected = String::from_utf8_lossy(&expected.stdout).into_owned();
        assert!(expected.contains("contact_preference"), "{expected}");
        // Cold (both write every entry) on even rounds, warm (both read) on odd ones.
        if round % 2 == 0 {
            let clean = repo.run(&["cache", "clean"]);
            assert_eq!(clean.code, 0, "{clean:?}");
        }
        for (code, stdout) in two_at_once(&repo) {
            assert_eq!(code, 1, "round {round}: {stdout}");
            assert_eq!(stdout, expected, "round {round}");
        }
        assert!(
            !cache_files(&repo).iter().any(|f| f.ends_with(".tmp")),
            "no temporary file is left behind"
        );
    }
}

#[test]
fn cache_clean_deletes_the_folder_and_says_what_it_held() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    assert_eq!(repo.run(&["check", "--staged"]).code, 1);
    let files = cache_files(&repo);
    assert!(files.iter().any(|f| f.ends_with(".json")), "{files:?}");
    let run = repo.run(&["cache", "clean"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with(&format!("Deleted the cache: {} files, ", files.len())),
        "{run:?}"
    );
    assert!(run.stdout.contains(".git/driftguard"), "{run:?}");
    assert!(!repo.path().join(".git/driftguard").exists());
    let again = repo.run(&["cache", "clean"]);
    assert_eq!(again.code, 0);
    assert!(again.stdout.starts_with("The cache is empty"), "{again:?}");
    // Outside a repository there is no cache to clean.
    let plain = TestRepo::plain();
    let outside = plain.run(&["cache", "clean"]);
    assert_eq!(outside.code, 2, "{outside:?}");
    assert!(
        outside.stderr.contains("not inside a git repository"),
        "{outside:?}"
    );
}

#[test]
fn the_cache_stays_under_its_size_cap_and_results_do_not_change() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT)).stage(&[MODELS]);
    let uncapped = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(uncapped.code, 1);
    assert!(!cache_files(&repo).is_empty());
    // A cap of 0 MB: every entry written is trimmed at the end of the run.
    let mut cmd = Command::new(binary());
    let capped = isolate(&mut cmd)
        .args(["check", "--staged", "--format", "json"])
        .current_dir(repo.path())
        .env("DRIFTGUARD_CACHE_MAX_MB", "0")
        .env_remove("DRIFTGUARD_NO_CACHE")
        .output()
        .expect("driftguard runs");
    // Nothing new was written (all hits), so nothing was trimmed yet.
    assert_eq!(String::from_utf8_lossy(&capped.stdout), uncapped.stdout);
    repo.write(
        MODELS,
        &customer_with(&format!("{CONTACT}\n    other: Mapped[int]")),
    )
    .stage(&[MODELS]);
    let capped = isolate(&mut Command::new(binary()))
        .args(["check", "--staged", "--format", "json"])
        .current_dir(repo.path())
        .env("DRIFTGUARD_CACHE_MAX_MB", "0")
        .output()
        .expect("driftguard runs");
    assert_eq!(capped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&capped.stdout).contains("\"other\""));
    // Every entry was trimmed; only the ledger of the folder's size is left.
    assert_eq!(
        cache_files(&repo),
        vec!["ledger".to_string()],
        "all trimmed"
    );
}

/// A small seeded generator (xorshift64*), so a failing sequence can be replayed by its seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// Issue 14: the before side's snapshot key is remembered by its tree and config, so a
/// change check whose before side is cached skips classifying it; the result stays what a run
/// without the cache gives, with a pre-existing gap at HEAD, after a config edit at HEAD, and
/// when the remembered key's findings were trimmed away.
#[test]
fn the_before_side_found_by_its_tree_gives_what_a_run_without_cache_gives() {
    let repo = handbook_repo();
    // HEAD has a gap of its own: pre-existing, never reported by a change check.
    repo.write(MODELS, &customer_with(CONTACT));
    repo.commit_all("a gap at HEAD");
    let same = |what: &str| {
        let (cached, fresh) = staged_both_ways(&repo);
        assert_eq!(
            (cached.code, &cached.stdout, &cached.stderr),
            (fresh.code, &fresh.stdout, &fresh.stderr),
            "{what}: the cached check differs from a run without cache"
        );
        cached
    };
    let mut model = customer_with(CONTACT);
    for round in 0..3 {
        model.push_str(&format!(
            "    late_{round}: Mapped[Optional[str]] = mapped_column(String(20))\n"
        ));
        repo.write(MODELS, &model);
        repo.git(&["add", "-A"]);
        let run = same(&format!("round {round}"));
        assert_eq!(run.code, 1, "{run:?}");
        let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        assert_eq!(json["summary"]["preexisting"], 1, "{}", run.stdout);
        assert_eq!(
            json["summary"]["findings"],
            round + 1,
            "only the staged gaps: {}",
            run.stdout
        );
    }
    assert_eq!(cache_entries(&repo, "tree-keys"), 1, "one tree, one config");
    // The remembered key's findings trimmed away: the before side is classified again.
    std::fs::remove_dir_all(repo.path().join(".git/driftguard/cache-v1/findings"))
        .expect("findings folder");
    let run = same("findings trimmed");
    assert_eq!(run.code, 1, "{run:?}");
    // A config committed at HEAD that ignores the gaps: another key for the same tree.
    repo.write(
        "driftguard.yml",
        "ignore: [\"core.customers.contact_preference\", \"core.customers.late_0\", \"core.customers.late_1\", \"core.customers.late_2\"]\n",
    );
    repo.commit_all("config");
    model.push_str("    late_3: Mapped[Optional[str]] = mapped_column(String(20))\n");
    repo.write(MODELS, &model);
    repo.write(
        &format!("{MIGRATIONS}/009_late.sql"),
        "ALTER TABLE core.customers ADD COLUMN late_3 VARCHAR(20);\n",
    );
    repo.git(&["add", "-A"]);
    let run = same("config at HEAD");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(cache_entries(&repo, "tree-keys"), 2, "{run:?}");
    let run = same("config at HEAD, again");
    assert_eq!(run.code, 0, "{run:?}");
}

/// The staged check, with the cache and without it.
/// How many files the cache folder `kind` (`packs`, `modules` …) holds.
fn cache_entries(repo: &TestRepo, kind: &str) -> usize {
    let folder = repo.path().join(".git/driftguard/cache-v1").join(kind);
    std::fs::read_dir(folder).map(|d| d.count()).unwrap_or(0)
}

fn staged_both_ways(repo: &TestRepo) -> (Run, Run) {
    let cached = repo.run(&["check", "--staged", "--format", "json"]);
    let mut cmd = Command::new(binary());
    let output = isolate(&mut cmd)
        .args(["check", "--staged", "--format", "json"])
        .current_dir(repo.path())
        .env("DRIFTGUARD_NO_CACHE", "1")
        .output()
        .expect("driftguard runs");
    (
        cached,
        Run::new("driftguard", &["check", "--staged"], &output),
    )
}

/// Issue 14: whatever the cache holds from earlier runs (both sides of many changes, configs
/// that came and went), a change check gives exactly what a run without the cache gives.
/// Random edit sequences on a real repository: columns added (with or without a migration),
/// removed and renamed; migrations added, edited (mostly the newest: the fix after the hook
/// complained), deleted and renamed; the config edited and deleted; commits in between (HEAD
/// moves, so the before side changes too). `check --all` is compared the same way after every
/// step.
#[test]
fn cached_results_match_a_run_without_cache_over_random_edit_sequences() {
    const CONFIGS: [&str; 4] = [
        "rules: {DG006: \"off\"}\n",
        "ignore: [\"core.customers.c1\"]\n",
        "rules: {DG005: \"off\"}\nignore: [\"core.customers.c3\"]\n",
        "models: [\"apps/**/*.py\"]\n",
    ];
    let started = std::time::Instant::now();
    let mut checked = 0;
    for seed in [
        0x9e37_79b9_7f4a_7c15_u64,
        0x1234_5678_9abc_def1,
        0xdead_beef_cafe_f00d,
    ] {
        let mut rng = Rng(seed);
        let repo = handbook_repo();
        // The extra model columns, and the migrations beyond the first (file name, text).
        let mut columns: Vec<String> = Vec::new();
        let mut migrations: Vec<(String, String)> = Vec::new();
        let mut next = 0;
        for step in 0..14 {
            for _ in 0..=rng.below(2) {
                match rng.below(11) {
                    0 | 1 => {
                        next += 1;
                        let name = format!("c{next}");
                        if rng.below(3) > 0 {
                            migrations.push((
                                format!("{:03}_add_{name}.sql", next + 1),
                                format!(
                                    "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS {name} VARCHAR(20);\n"
                                ),
                            ));
                        }
                        columns.push(name);
                    }
                    2 if !columns.is_empty() => {
                        columns.remove(rng.below(columns.len()));
                    }
                    3 if !columns.is_empty() => {
                        next += 1;
                        let i = rng.below(columns.len());
                        let new = format!("c{next}");
                        if rng.below(2) == 0 {
                            migrations.push((
                                format!("{:03}_rename_{new}.sql", next + 1),
                                format!(
                                    "ALTER TABLE core.customers RENAME COLUMN {} TO {new};\n",
                                    columns[i]
                                ),
                            ));
                        }
                        columns[i] = new;
                    }
                    4 if !migrations.is_empty() => {
                        migrations.remove(rng.below(migrations.len()));
                    }
                    5 if !migrations.is_empty() => {
                        let i = rng.below(migrations.len());
                        migrations[i].0 = format!("9{}", migrations[i].0);
                    }
                    6 => {
                        let i = rng.below(CONFIGS.len() + 1);
                        let path = repo.path().join("driftguard.yml");
                        match CONFIGS.get(i) {
                            Some(text) => {
                                repo.write("driftguard.yml", text);
                            }
                            None => {
                                let _ = std::fs::remove_file(path);
                            }
                        }
                    }
                    // An edited migration: the newest (often the change's own, whose kept
                    // replay must not be gone on from) or any other.
                    7 if !migrations.is_empty() => {
                        let i = if rng.below(3) > 0 {
                            migrations.len() - 1
                        } else {
                            rng.below(migrations.len())
                        };
                        let text = &mut migrations[i].1;
                        if rng.below(2) == 0 && text.contains("VARCHAR(20)") {
                            *text = text.replace("VARCHAR(20)", "VARCHAR(40)");
                        } else {
                            text.push_str(&format!("-- edited at step {step}\n"));
                        }
                    }
                    // A table no migration creates (made elsewhere) until one does: then
                    // the earlier ALTERs fail (DG008), which a kept replay must not miss.
                    8 => {
                        next += 1;
                        migrations.push((
                            format!("{:03}_alter_orders_{next}.sql", next + 1),
                            format!("ALTER TABLE core.orders ADD COLUMN o{next} TEXT;\n"),
                        ));
                    }
                    9 => {
                        next += 1;
                        migrations.push((
                            format!("{:03}_create_orders.sql", next + 1),
                            "CREATE TABLE IF NOT EXISTS core.orders (id INT);\n".to_string(),
                        ));
                    }
                    // A transaction that fails after a change ran: the replay starts over.
                    10 => {
                        next += 1;
                        migrations.push((
                            format!("{:03}_twice_{next}.sql", next + 1),
                            format!(
                                "BEGIN;\nALTER TABLE core.customers ADD COLUMN t{next} TEXT;\nALTER TABLE core.customers ADD COLUMN t{next} TEXT;\nCOMMIT;\n"
                            ),
                        ));
                    }
                    _ => {
                        next += 1;
                        // A migration for a column no model maps.
                        migrations.push((
                            format!("{:03}_unmapped_{next}.sql", next + 1),
                            format!("ALTER TABLE core.customers ADD COLUMN u{next} TEXT;\n"),
                        ));
                    }
                }
            }
            // Helpers above the class make the file long enough to be parsed piece by piece
            // with what the last check's parse kept: an edit re-parses the class alone.
            let helpers: String = (0..30)
                .map(|k| format!("def helper_{k}(value):\n    # keeps the file long\n    return value + {k}\n\n\n"))
                .collect();
            let mut model = customer_with(CONTACT).replacen(
                "class Customer(Base):",
                &format!("{helpers}class Customer(Base):"),
                1,
            );
            for column in &columns {
                model.push_str(&format!(
                    "    {column}: Mapped[Optional[str]] = mapped_column(String(20))\n"
                ));
            }
            repo.write(MODELS, &model);
            write_migrations(&repo, &migrations);
            repo.git(&["add", "-A"]);
            same_with_and_without_cache(&repo, &format!("seed {seed:#x} step {step}"));
            checked += 1;
            if rng.below(3) == 0 {
                repo.git(&["commit", "-q", "--no-verify", "--allow-empty", "-m", "step"]);
            }
        }
        // The model file's parses kept its pieces for the next.
        assert_eq!(cache_entries(&repo, "pieces"), 1, "seed {seed:#x}");
    }
    assert_eq!(checked, 42);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "bounded runtime: {:?}",
        started.elapsed()
    );
}

/// `check --staged` and `check --all` of the repository as it is, each with the cache and
/// without it: asserts that both give the same (a change check exits 0 or 1), and returns the
/// runs without the cache. `at` names the step in a failure.
pub(crate) fn same_with_and_without_cache(repo: &TestRepo, at: &str) -> (Run, Run) {
    let (cached, fresh) = staged_both_ways(repo);
    assert!(matches!(fresh.code, 0 | 1), "{at}: {fresh:?}");
    assert_eq!(
        (cached.code, &cached.stdout),
        (fresh.code, &fresh.stdout),
        "{at}: the cached run differs from a run without cache"
    );
    // `--all` reads the work tree: the index's stat data, racy entries, and (from the second
    // step on) a cache that holds earlier states.
    let (cached_all, fresh_all) = all_both_ways(repo, ".");
    assert_eq!(
        (cached_all.code, &cached_all.stdout),
        (fresh_all.code, &fresh_all.stdout),
        "{at}: the cached --all differs from a run without cache"
    );
    (fresh, fresh_all)
}

/// Makes the migrations folder hold `001_initial.sql` and `migrations` (file name, text) alone.
pub(crate) fn write_migrations(repo: &TestRepo, migrations: &[(String, String)]) {
    let dir = repo.path().join(MIGRATIONS);
    for entry in std::fs::read_dir(&dir).expect("migrations").flatten() {
        if entry.file_name() != "001_initial.sql" {
            std::fs::remove_file(entry.path()).expect("remove");
        }
    }
    for (name, text) in migrations {
        repo.write(&format!("{MIGRATIONS}/{name}"), text);
    }
}

/// `check --all` in `dir` of the repository, with the cache and without it.
fn all_both_ways(repo: &TestRepo, dir: &str) -> (Run, Run) {
    let cached = repo.run(&["check", "--all", dir, "--format", "json"]);
    let mut cmd = Command::new(binary());
    let output = isolate(&mut cmd)
        .args(["check", "--all", dir, "--format", "json"])
        .current_dir(repo.path())
        .env("DRIFTGUARD_NO_CACHE", "1")
        .output()
        .expect("driftguard runs");
    (cached, Run::new("driftguard", &["check", "--all"], &output))
}

/// How many snapshot results the cache holds: a hit adds none.
fn snapshot_results(repo: &TestRepo) -> usize {
    std::fs::read_dir(repo.path().join(".git/driftguard/cache-v1/findings"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

/// The index file's bytes and modification time: driftguard never writes it.
fn index_state(repo: &TestRepo) -> (Vec<u8>, std::time::SystemTime) {
    let path = repo.path().join(".git/index");
    let bytes = std::fs::read(&path).expect("index");
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    (bytes, modified)
}

/// Asserts the cached `--all` equals the uncached one; returns it.
fn same_all(repo: &TestRepo, dir: &str, what: &str) -> Run {
    let (cached, fresh) = all_both_ways(repo, dir);
    assert!(matches!(fresh.code, 0 | 1), "{what}: {fresh:?}");
    assert_eq!(
        (cached.code, &cached.stdout, &cached.stderr),
        (fresh.code, &fresh.stdout, &fresh.stderr),
        "{what}: the cached --all differs from a run without cache"
    );
    cached
}

/// Issue 14: a warm `check --all` in a git work tree reuses the cache — a file's blob id is
/// the index's while its stat data matches, else the hash of its bytes — and says exactly what
/// a run without the cache says after every kind of work tree change. The index is never
/// written.
#[test]
fn a_warm_check_all_in_a_work_tree_equals_a_run_without_cache_after_each_kind_of_edit() {
    let repo = handbook_repo();
    let index = index_state(&repo);
    let clean = same_all(&repo, ".", "clean tree, cold");
    assert_eq!(clean.code, 0, "{clean:?}");
    let stored = snapshot_results(&repo);
    assert_eq!(stored, 1, "the cold run stored its result");
    same_all(&repo, ".", "clean tree, warm");
    assert_eq!(snapshot_results(&repo), stored, "a warm run is a hit");
    assert_eq!(index_state(&repo), index, "the index is never written");

    // An unstaged edit of a tracked model file: a column without its migration.
    repo.write(MODELS, &customer_with(CONTACT));
    let edited = same_all(&repo, ".", "unstaged model edit");
    assert_eq!(edited.code, 1, "{edited:?}");
    assert_eq!(edited.findings_rules(), ["DG001"], "{edited:?}");
    assert_eq!(
        snapshot_results(&repo),
        stored + 1,
        "a new state is analysed"
    );

    // The same size, within the same second as the index write: racily clean.
    repo.git(&["add", MODELS]);
    let renamed = customer_with(&CONTACT.replace("contact_preference", "contact_preferencf"));
    assert_eq!(renamed.len(), customer_with(CONTACT).len());
    repo.write(MODELS, &renamed);
    let racy = same_all(&repo, ".", "same-size edit in the same second");
    assert!(
        racy.stdout.contains("contact_preferencf"),
        "the edit is seen: {racy:?}"
    );

    // `touch` without a content change: the bytes are hashed again, and the result is a hit.
    let before_touch = snapshot_results(&repo);
    let full = repo.path().join(MODELS);
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .append(true)
        .open(&full)
        .and_then(|f| f.set_modified(later))
        .expect("touch");
    same_all(&repo, ".", "touch");
    assert_eq!(snapshot_results(&repo), before_touch, "touch is a hit");

    // A new untracked model file and its migration.
    repo.write(
        "apps/backend/src/db/models/orders.py",
        "from sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n\n\nclass Order(Base):\n    __tablename__ = \"orders\"\n    __table_args__ = {\"schema\": \"core\"}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    note: Mapped[str] = mapped_column(String(40))\n",
    );
    let untracked_model = same_all(&repo, ".", "untracked model");
    assert!(
        untracked_model
            .findings()
            .iter()
            .any(|f| f.1 == "core.orders"),
        "the untracked model is read: {untracked_model:?}"
    );
    repo.write(
        &format!("{MIGRATIONS}/002_orders.sql"),
        "CREATE TABLE core.orders (id SERIAL PRIMARY KEY, note VARCHAR(40) NOT NULL);\n",
    );
    let untracked_migration = same_all(&repo, ".", "untracked migration");
    assert!(
        !untracked_migration
            .findings()
            .iter()
            .any(|f| f.1.starts_with("core.orders")),
        "the untracked migration is read: {untracked_migration:?}"
    );

    // A deleted tracked file: the table loses its migration.
    std::fs::remove_file(repo.path().join(format!("{MIGRATIONS}/001_initial.sql")))
        .expect("remove");
    let deleted = same_all(&repo, ".", "deleted migration");
    assert!(
        deleted.findings_rules().contains(&"DG002".to_string()),
        "{deleted:?}"
    );

    // An unstaged config edit.
    repo.write("driftguard.yml", "ignore: [\"core.customers\"]\n");
    let configured = same_all(&repo, ".", "config edit");
    assert!(
        !configured
            .findings()
            .iter()
            .any(|f| f.1 == "core.customers"),
        "{configured:?}"
    );

    // Back to the committed state: its result is still in the cache.
    std::fs::remove_file(repo.path().join("driftguard.yml")).expect("remove");
    repo.git(&["reset", "-q"]);
    repo.git(&["checkout", "-q", "--", "."]);
    std::fs::remove_file(repo.path().join("apps/backend/src/db/models/orders.py")).expect("remove");
    std::fs::remove_file(repo.path().join(format!("{MIGRATIONS}/002_orders.sql"))).expect("remove");
    let index = index_state(&repo);
    let stored = snapshot_results(&repo);
    assert_eq!(same_all(&repo, ".", "back to clean").code, 0);
    assert_eq!(snapshot_results(&repo), stored, "the clean tree is a hit");
    assert_eq!(index_state(&repo), index, "the index is never written");
}

/// `check --all sub/`: paths relative to the folder given, blob ids from the index's entries
/// under it; a plain directory (no git) is checked without a cache.
#[test]
fn check_all_of_a_subfolder_and_of_a_plain_directory() {
    let repo = TestRepo::new();
    repo.write(&format!("svc/{BASE}"), BASE_PY)
        .write(&format!("svc/{MODELS}"), &customer_with(CONTACT))
        .write(&format!("svc/{MIGRATIONS}/001_initial.sql"), INITIAL_SQL)
        .commit_all("initial");
    let cold = same_all(&repo, "svc", "subfolder, cold");
    assert_eq!(cold.findings_rules(), ["DG001"], "{cold:?}");
    assert!(cold.stdout.contains(&format!("\"{MODELS}\"")), "{cold:?}");
    let stored = snapshot_results(&repo);
    same_all(&repo, "svc", "subfolder, warm");
    assert_eq!(snapshot_results(&repo), stored, "a warm run is a hit");
    repo.write(&format!("svc/{MODELS}"), CUSTOMER_PY);
    assert_eq!(same_all(&repo, "svc", "subfolder, edited").code, 0);

    let plain = TestRepo::plain();
    plain
        .write(BASE, BASE_PY)
        .write(MODELS, &customer_with(CONTACT))
        .write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL_SQL);
    let run = plain.run(&["check", "--all", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.findings_rules(), ["DG001"], "{run:?}");
    assert!(!plain.path().join(".git").exists(), "nothing written");
}

/// `DRIFTGUARD_TIMINGS=1` (what `benches/` reads) on a change check: spans end on rayon's
/// threads too (models are resolved while migrations replay), and once waited forever for the
/// stderr lock the command holds. The run must end, with its result and its timing lines.
#[test]
fn timing_spans_from_every_thread_do_not_stop_a_check() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(CONTACT));
    repo.stage(&[MODELS]);
    let mut cmd = Command::new(binary());
    let mut child = isolate(&mut cmd)
        .args(["check", "--staged", "--format", "json"])
        .current_dir(repo.path())
        .env("DRIFTGUARD_TIMINGS", "1")
        .env("DRIFTGUARD_NO_CACHE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("driftguard starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("check --staged with DRIFTGUARD_TIMINGS=1 did not end within 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("driftguard ends");
    assert_eq!(out.status.code(), Some(1), "the gap is found");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for span in [
        "resolve models",
        "file rules + assemble (replay)",
        "check total",
    ] {
        assert!(
            stderr.contains(&format!("driftguard timing: {span} ")),
            "{span}: {stderr}"
        );
    }
}

/// Issue 14: the summaries of plain modules that model files import (a table-name helper in
/// `app/util/naming.py`) are kept on disk between change checks — a new edit no longer reads
/// and parses them all again — and a staged edit of such a module is still seen: the results
/// equal a run without the cache at every step.
#[test]
fn module_summaries_kept_between_checks_follow_edits_of_the_module() {
    let naming = |sep: &str| {
        format!(
            "import re\n\n\ndef resolve_table_name(name):\n    return \"{sep}\".join(re.split(\"(?=[A-Z])\", name)[1:]).lower()\n"
        )
    };
    let models = |extra: &str| {
        format!(
            "from sqlalchemy import Column, Integer, String\nfrom app.db.base import Base\n\n\nclass CustomerOrder(Base):\n    id = Column(Integer, primary_key=True)\n    note = Column(String(20)){extra}\n"
        )
    };
    let repo = TestRepo::new();
    repo.write("app/util/naming.py", &naming("_"))
        .write(
            "app/db/base.py",
            "from sqlalchemy.orm import declarative_base, declared_attr\nfrom app.util.naming import resolve_table_name\n\n\nclass _Base:\n    @declared_attr\n    def __tablename__(cls):\n        return resolve_table_name(cls.__name__)\n\n\nBase = declarative_base(cls=_Base)\n",
        )
        .write("app/db/models.py", &models(""))
        .write(
            "migrations/001_init.sql",
            "CREATE TABLE customer_order (id INTEGER PRIMARY KEY, note VARCHAR(20));\n",
        )
        .commit_all("initial");

    // A new column: the helper's summary is made once, then kept on disk.
    repo.write(
        "app/db/models.py",
        &models("\n    extra = Column(String(20))"),
    )
    .stage(&["app/db/models.py"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(
        cached.findings(),
        vec![(
            "DG001".to_string(),
            "public.customer_order.extra".to_string(),
            8
        )],
        "{cached:?}"
    );
    assert_eq!(cached.stdout, uncached.stdout);
    assert_eq!(
        cache_entries(&repo, "modules"),
        1,
        "one summaries file: {:?}",
        cache_files(&repo)
    );

    // Another new edit reads the kept summary: same result as without the cache.
    repo.write(
        "app/db/models.py",
        &models("\n    extra = Column(String(20))\n    other = Column(String(20))"),
    )
    .stage(&["app/db/models.py"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(cached.findings().len(), 2, "{cached:?}");
    assert_eq!(cached.stdout, uncached.stdout);

    // The helper itself changes (a new blob): its new summary is made, not the kept one used.
    repo.write("app/util/naming.py", &naming(""))
        .stage(&["app/util/naming.py"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(
        cached.findings(),
        vec![("DG002".to_string(), "public.customerorder".to_string(), 5)],
        "{cached:?}"
    );
    assert_eq!(cached.stdout, uncached.stdout);

    // And back: the first summary serves again.
    repo.write("app/util/naming.py", &naming("_"))
        .stage(&["app/util/naming.py"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(cached.findings().len(), 2, "{cached:?}");
    assert_eq!(cached.stdout, uncached.stdout);
}

/// Issue 14: the parse pack keeps the classes of a model file's summary encoded until the
/// evaluator asks for one. A computed table name that reads a class attribute of its base
/// (`cls.__prefix__`) needs that body: a new edit, served from the pack, names the table
/// exactly as a run without the cache does.
#[test]
fn class_bodies_kept_encoded_in_the_pack_are_read_when_a_computed_name_needs_them() {
    let models = |extra: &str| {
        format!(
            "from sqlalchemy import Column, Integer, String\nfrom app.db.base import Base\n\n\nclass CustomerOrder(Base):\n    id = Column(Integer, primary_key=True)\n    note = Column(String(20)){extra}\n"
        )
    };
    let repo = TestRepo::new();
    repo.write(
        "app/db/base.py",
        "from sqlalchemy.orm import declarative_base, declared_attr\n\n\nclass _Base:\n    __prefix__ = \"app_\"\n\n    @declared_attr\n    def __tablename__(cls):\n        return cls.__prefix__ + cls.__name__.lower()\n\n\nBase = declarative_base(cls=_Base)\n",
    )
    .write("app/db/models.py", &models(""))
    .write(
        "migrations/001_init.sql",
        "CREATE TABLE app_customerorder (id INTEGER PRIMARY KEY, note VARCHAR(20));\n",
    )
    .commit_all("initial");
    let expected = |columns: &[(&str, u64)]| {
        columns
            .iter()
            .map(|(c, line)| {
                (
                    "DG001".to_string(),
                    format!("public.app_customerorder.{c}"),
                    *line,
                )
            })
            .collect::<Vec<_>>()
    };
    // The first edit parses every file and writes the pack.
    repo.write(
        "app/db/models.py",
        &models("\n    extra = Column(String(20))"),
    )
    .stage(&["app/db/models.py"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(cached.findings(), expected(&[("extra", 8)]), "{cached:?}");
    assert_eq!(cached.stdout, uncached.stdout);
    assert_eq!(
        cache_entries(&repo, "packs"),
        1,
        "a pack: {:?}",
        cache_files(&repo)
    );
    // The next reads `base.py` from the pack, its class decoded only now.
    repo.write(
        "app/db/models.py",
        &models("\n    extra = Column(String(20))\n    other = Column(String(20))"),
    )
    .stage(&["app/db/models.py"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(
        cached.findings(),
        expected(&[("extra", 8), ("other", 9)]),
        "{cached:?}"
    );
    assert_eq!(cached.stdout, uncached.stdout);
}

/// Issue 14: a new edit that parses only the change's own files leaves the parse pack as it
/// is (every check of the change parses them again ahead of need); after a commit they count as
/// any file the pack lacks (here more than one in a hundred), and the next check writes it again.
#[test]
fn a_new_edit_leaves_the_pack_as_it_is_and_a_commit_renews_it() {
    let models = |extra: &str| {
        format!(
            "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n\n\nclass Customer(Base):\n    __tablename__ = \"customers\"\n    id = Column(Integer, primary_key=True)\n    name = Column(String(20)){extra}\n"
        )
    };
    let repo = TestRepo::new();
    repo.write("app/models.py", &models(""))
        .write(
            "migrations/001_init.sql",
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(20));\n",
        )
        .commit_all("initial");
    let pack = || {
        let folder = repo.path().join(".git/driftguard/cache-v1/packs");
        let entries: Vec<_> = std::fs::read_dir(&folder)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert_eq!(entries.len(), 1, "one pack: {entries:?}");
        std::fs::read(&entries[0]).expect("pack")
    };
    // The first edit parses every file and writes the pack.
    repo.write("app/models.py", &models("\n    email = Column(String(40))"))
        .stage(&["app/models.py"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(cached.code, 1, "{cached:?}");
    assert_eq!(cached.stdout, uncached.stdout);
    let first = pack();
    // New edits of the change (a migration added, the model edited again): the same pack.
    for (k, extra) in [
        "\n    email = Column(String(40))\n    phone = Column(String(20))",
        "\n    email = Column(String(40))\n    phone = Column(String(20))\n    city = Column(String(20))",
    ]
    .iter()
    .enumerate()
    {
        repo.write("app/models.py", &models(extra))
            .write(
                &format!("migrations/00{}_more.sql", k + 2),
                "ALTER TABLE customers ADD COLUMN email VARCHAR(40);\n",
            )
            .git(&["add", "-A"]);
        let (cached, uncached) = staged_both_ways(&repo);
        assert_eq!(cached.stdout, uncached.stdout, "edit {k}");
        assert!(cached.stdout.contains("customers.phone"), "{cached:?}");
        assert!(first == pack(), "edit {k} wrote the pack again");
    }
    // Committed, the change's files are outside the next change: the pack is written again
    // and holds them.
    repo.commit_all("more columns");
    repo.write(
        "migrations/004_fix.sql",
        "ALTER TABLE customers ADD COLUMN phone VARCHAR(20);\n",
    )
    .git(&["add", "-A"]);
    let (cached, uncached) = staged_both_ways(&repo);
    assert_eq!(cached.stdout, uncached.stdout);
    assert!(first != pack(), "the commit's files are packed");
}

/// The staged check with `DRIFTGUARD_TIMINGS=1`: how many files its replay ran after a kept
/// replay (`None`: it replayed every file, or kept nothing).
fn replayed_after_kept(repo: &TestRepo) -> (Run, Option<usize>) {
    let run = run_in_with(
        repo.path(),
        &["check", "--staged", "--format", "json"],
        &[("DRIFTGUARD_TIMINGS", OsStr::new("1"))],
    );
    let count = run.stderr.split('\n').find_map(|line| {
        line.strip_prefix("driftguard timing: files replayed (after a kept replay) ")?
            .trim()
            .parse()
            .ok()
    });
    (run, count)
}

/// Writes each of `texts` to `path` in turn, stages it and checks: the first check finds no
/// kept replay that leads to the staged files and replays the `before` files before the change
/// in full; every later one goes on from that kept state with `after` files. Each result
/// equals a run without the cache.
fn restaged_go_on_from_before_the_change(
    repo: &TestRepo,
    path: &str,
    texts: &[String],
    before: usize,
    after: usize,
) {
    for (step, text) in texts.iter().enumerate() {
        repo.write(path, text);
        repo.git(&["add", "-A"]);
        let (run, count) = replayed_after_kept(repo);
        if step == 0 {
            assert_eq!(count, None, "{}", run.stderr);
            let line = format!(
                "driftguard timing: files replayed (before the change, in full) {before}\n"
            );
            assert!(run.stderr.contains(&line), "{}", run.stderr);
        } else {
            assert_eq!(count, Some(after), "edit {step}: {}", run.stderr);
        }
        let (_, fresh) = staged_both_ways(repo);
        assert_eq!(
            (run.code, &run.stdout),
            (fresh.code, &fresh.stdout),
            "edit {step}"
        );
    }
}

/// Issue 14: new migrations appended after those of a kept replay replay alone, from the
/// replay kept on disk (`.git/driftguard/cache-v1/replays/`), and the result is what a run
/// without the cache gives.
#[test]
fn a_new_migration_replays_alone_after_the_kept_replay() {
    let repo = handbook_repo();
    for k in 2..=4 {
        repo.write(
            &format!("{MIGRATIONS}/{k:03}_add_c{k}.sql"),
            &format!("ALTER TABLE core.customers ADD COLUMN c{k} TEXT;\n"),
        );
        repo.git(&["add", "-A"]);
        let (run, count) = replayed_after_kept(&repo);
        assert_eq!(run.code, 0, "{}", run.shown());
        let (_, fresh) = staged_both_ways(&repo);
        assert_eq!(run.stdout, fresh.stdout);
        // The first check replays HEAD (its before side) and goes on from it with the new
        // file; later ones go on from HEAD's replay too (a replay that went on is kept only
        // once it replayed eight files or more).
        assert_eq!(count, Some(k - 1), "step {k}: {}", run.stderr);
    }
    assert_eq!(cache_entries(&repo, "replays"), 1);
    // The replay's key is remembered once, for later checks to decode it ahead of need.
    assert_eq!(cache_entries(&repo, "replay-keys"), 1);
}

/// Issue 14: a kept replay is not gone on from when a new migration creates a table an older
/// statement looked for. `ALTER TABLE core.orders` on a table no migration creates applies to
/// a table made elsewhere; once a later migration creates it, that ALTER fails (DG008), which
/// only a replay of everything finds.
#[test]
fn a_new_migration_creating_a_table_an_older_one_altered_replays_everything() {
    let repo = handbook_repo();
    repo.write(
        &format!("{MIGRATIONS}/002_orders_note.sql"),
        "ALTER TABLE core.orders ADD COLUMN note TEXT;\n",
    )
    .commit_all("alter a table made elsewhere");
    repo.write(
        &format!("{MIGRATIONS}/003_add_c3.sql"),
        "ALTER TABLE core.customers ADD COLUMN c3 TEXT;\n",
    );
    repo.git(&["add", "-A"]);
    let (run, _) = replayed_after_kept(&repo);
    assert_eq!(run.code, 0, "{}", run.shown());
    repo.write(
        &format!("{MIGRATIONS}/004_create_orders.sql"),
        "CREATE TABLE core.orders (id INT);\n",
    );
    repo.git(&["add", "-A"]);
    let (run, count) = replayed_after_kept(&repo);
    assert_eq!(count, None, "{}", run.stderr);
    assert!(
        run.findings_rules().contains(&"DG008".to_string()),
        "the ALTER before the CREATE fails: {}",
        run.shown()
    );
    let (_, fresh) = staged_both_ways(&repo);
    assert_eq!((run.code, &run.stdout), (fresh.code, &fresh.stdout));
}

/// Issue 14: the migration a developer fixes after the hook complained. A kept replay that
/// ends with the change's own file (here: none was kept when the before side came from the
/// cache) does not lead to the edited file; the check then replays the files before the
/// change in full and goes on from there, and keeps *that* state, so every later edit of the
/// change goes on from it instead of replaying everything again. Results equal a run without
/// the cache at every step.
#[test]
fn editing_the_changes_own_migration_goes_on_from_the_state_before_the_change() {
    let repo = handbook_repo();
    let migration = format!("{MIGRATIONS}/002_add_c2.sql");
    repo.write(
        &migration,
        "ALTER TABLE core.customers ADD COLUMN c2 TEXT;\n",
    );
    repo.git(&["add", "-A"]);
    let (run, count) = replayed_after_kept(&repo);
    assert_eq!(run.code, 0, "{}", run.shown());
    assert_eq!(count, Some(1), "{}", run.stderr);
    // The before side's result stays cached; its replay is gone.
    let cache = repo.path().join(".git/driftguard/cache-v1");
    std::fs::remove_dir_all(cache.join("replays")).expect("replays removed");
    std::fs::remove_dir_all(cache.join("replay-keys")).expect("replay keys removed");
    let texts = [
        "ALTER TABLE core.customers ADD COLUMN c2 VARCHAR(40);\n".to_string(),
        "ALTER TABLE core.customers ADD COLUMN c2 TEXT;\nALTER TABLE core.customers ADD COLUMN c3 TEXT;\n".to_string(),
        "ALTER TABLE core.customers ADD COLUMN c2 TEXT NOT NULL;\n".to_string(),
        "ALTER TABLE core.customers ADD COLUMN c2 TEXT DEFAULT 'none';\n".to_string(),
    ];
    restaged_go_on_from_before_the_change(&repo, &migration, &texts, 1, 1);
    assert_eq!(cache_entries(&repo, "replays"), 1);
}

/// An Alembic revision: `revision` and `down_revision` (as written), `upgrade()` runs `body`.
fn alembic_revision(id: &str, down: &str, imports: &str, body: &str) -> String {
    format!(
        "from alembic import op\nimport sqlalchemy as sa\n{imports}\nrevision = \"{id}\"\ndown_revision = {down}\n\n\ndef upgrade():\n{body}\n"
    )
}

/// Revision 0001: creates `customers` with its `id`.
fn create_customers_revision() -> String {
    alembic_revision(
        "0001",
        "None",
        "",
        "    op.create_table(\"customers\", sa.Column(\"id\", sa.Integer(), primary_key=True))",
    )
}

const APP_MODELS: &str = r#"from typing import Optional

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_preference: Mapped[Optional[str]] = mapped_column(String(20))
"#;

/// A folder with a file that sorts after every numbered migration (a verification script, as
/// a real project keeps): a new migration is never appended, so no kept replay led to it and
/// every check replayed everything. Now the files before the change replay once and later
/// edits go on from there; results equal a run without the cache.
#[test]
fn a_new_migration_before_a_file_that_always_sorts_last_goes_on_from_before_it() {
    let repo = handbook_repo();
    repo.write(
        &format!("{MIGRATIONS}/verify_schema.sql"),
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'core';\n",
    )
    .commit_all("verification script");
    let migration = format!("{MIGRATIONS}/002_add_c2.sql");
    let texts = [
        "ALTER TABLE core.customers ADD COLUMN c2 TEXT;\n".to_string(),
        "ALTER TABLE core.customers ADD COLUMN c2 VARCHAR(40);\n".to_string(),
        "ALTER TABLE core.customers ADD COLUMN c2 TEXT NOT NULL;\n".to_string(),
    ];
    // Later edits: the new file and the one after it.
    restaged_go_on_from_before_the_change(&repo, &migration, &texts, 1, 2);
}

/// The same for Alembic: a revision the change adds, edited again and again after the kept
/// replay stopped leading to it, goes on from the state before the change (the version table
/// and the two committed revisions), and results equal a run without the cache.
#[test]
fn editing_the_changes_own_revision_goes_on_from_the_state_before_the_change() {
    let repo = TestRepo::new();
    let versions = "app/migrations/versions";
    repo.write("app/models.py", APP_MODELS)
        .write(
            &format!("{versions}/0001_initial.py"),
            &create_customers_revision(),
        )
        .write(
            &format!("{versions}/0002_contact.py"),
            &alembic_revision(
                "0002",
                "\"0001\"",
                "",
                "    op.add_column(\"customers\", sa.Column(\"contact_preference\", sa.String(20)))",
            ),
        )
        .commit_all("initial");
    let revision = format!("{versions}/0003_note.py");
    let body = |column: &str| {
        alembic_revision(
            "0003",
            "\"0002\"",
            "",
            &format!("    op.add_column(\"customers\", sa.Column(\"{column}\", sa.Text()))"),
        )
    };
    repo.write(&revision, &body("note"));
    repo.git(&["add", "-A"]);
    let (run, count) = replayed_after_kept(&repo);
    assert_eq!(run.code, 0, "{}", run.shown());
    assert_eq!(count, Some(1), "{}", run.stderr);
    let cache = repo.path().join(".git/driftguard/cache-v1");
    std::fs::remove_dir_all(cache.join("replays")).expect("replays removed");
    std::fs::remove_dir_all(cache.join("replay-keys")).expect("replay keys removed");
    let texts: Vec<String> = ["remark", "comment", "memo"].map(body).to_vec();
    restaged_go_on_from_before_the_change(&repo, &revision, &texts, 3, 1);
}

/// Issue 14: Alembic revisions are recognised by what was read of them, not by their bytes: a
/// new revision at the head replays alone, and an edit of a project module that an older
/// revision imports (its column name lives there) changes what that revision does, so the
/// replay starts over — with exactly the result of a run without the cache.
#[test]
fn a_new_alembic_revision_replays_alone_and_an_edit_of_a_module_a_revision_imports_does_not() {
    let repo = TestRepo::new();
    let versions = "app/migrations/versions";
    repo.write("app/__init__.py", "")
        .write("app/migrations/__init__.py", "")
        .write(
            "app/migrations/names.py",
            "CONTACT = \"contact_preference\"\n",
        )
        .write("app/models.py", APP_MODELS)
        .write(
            &format!("{versions}/0001_initial.py"),
            &create_customers_revision(),
        )
        .write(
            &format!("{versions}/0002_contact.py"),
            &alembic_revision(
                "0002",
                "\"0001\"",
                "\nfrom app.migrations.names import CONTACT\n",
                "    op.add_column(\"customers\", sa.Column(CONTACT, sa.String(20)))",
            ),
        )
        .commit_all("initial");
    let mut down = "0002".to_string();
    for k in 3..=4 {
        let id = format!("000{k}");
        repo.write(
            &format!("{versions}/{id}_note_{k}.py"),
            &alembic_revision(
                &id,
                &format!("\"{down}\""),
                "",
                &format!("    op.add_column(\"customers\", sa.Column(\"note_{k}\", sa.Text()))"),
            ),
        );
        repo.git(&["add", "-A"]);
        let (run, count) = replayed_after_kept(&repo);
        assert_eq!(run.code, 0, "{}", run.shown());
        assert_eq!(count, Some(k - 2), "revision {id}: {}", run.stderr);
        let (_, fresh) = staged_both_ways(&repo);
        assert_eq!(run.stdout, fresh.stdout);
        down = id;
    }
    // Revision 0002's bytes are the same, but the column it adds is not.
    repo.write("app/migrations/names.py", "CONTACT = \"contact_pref\"\n");
    repo.git(&["add", "-A"]);
    let (run, count) = replayed_after_kept(&repo);
    assert_eq!(count, None, "{}", run.stderr);
    assert_eq!(
        run.findings(),
        vec![(
            "DG001".to_string(),
            "public.customers.contact_preference".to_string(),
            14
        )],
        "{}",
        run.shown()
    );
    let (_, fresh) = staged_both_ways(&repo);
    assert_eq!((run.code, &run.stdout), (fresh.code, &fresh.stdout));
}

/// Issue 14: a kept replay's columns are decoded only for the tables a check reads. When
/// those bytes are damaged, the check stops (exit 2) and says so rather than report on a
/// schema it did not read, and the cache folder is deleted: the next run builds it again and
/// gives what a run without the cache gives.
#[test]
fn a_kept_replay_whose_columns_do_not_read_back_stops_the_check_and_goes() {
    let repo = handbook_repo();
    repo.write(
        &format!("{MIGRATIONS}/002_marker.sql"),
        "ALTER TABLE core.customers ADD COLUMN zz_marker_column TEXT;\n",
    );
    repo.commit_all("marker");
    // A first check keeps HEAD's replay.
    repo.write(
        MODELS,
        &customer_with("nickname: Mapped[Optional[str]] = mapped_column(String(40))"),
    );
    repo.git(&["add", "-A"]);
    let first = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(first.code, 1, "{}", first.shown());
    assert_eq!(damage_kept_column(&repo, "replays", b"zz_marker_column"), 1);
    // Another edit of the same table: its columns are read.
    repo.write(
        MODELS,
        &customer_with("nickname: Mapped[Optional[str]] = mapped_column(String(50))"),
    );
    repo.git(&["add", "-A"]);
    stops_on_the_damage_then_checks_afresh(&repo);
}

/// The staged check of `repo`, whose cache holds a damaged kept column list that the check
/// reads: exit 2 with a message and no report, the cache folder gone; then the check again,
/// the same as a run without the cache.
fn stops_on_the_damage_then_checks_afresh(repo: &TestRepo) {
    let damaged = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(damaged.code, 2, "{}", damaged.shown());
    assert!(
        damaged.stderr.contains("damaged entry")
            && damaged.stderr.contains("run the command again"),
        "{}",
        damaged.stderr
    );
    assert_eq!(damaged.stdout, "");
    assert!(!repo.path().join(".git/driftguard/cache-v1").exists());
    let (again, fresh) = staged_both_ways(repo);
    assert_eq!(again.code, 1, "{}", again.shown());
    assert_eq!((again.code, &again.stdout), (fresh.code, &fresh.stdout));
}

/// Issue 14: the same for a kept resolution: a migration that reaches a model table of a file
/// the change does not touch reads that table's kept columns, which do not decode: exit 2,
/// the cache folder deleted, and the next run gives what a run without the cache gives.
#[test]
fn a_kept_resolution_whose_columns_do_not_read_back_stops_the_check_and_goes() {
    let repo = handbook_repo();
    keep_then_damage_model_column(
        &repo,
        (
            "apps/backend/src/db/models/orders.py",
            "from sqlalchemy.orm import Mapped, mapped_column\n\nfrom ..base_class import Base\n\n\nclass Order(Base):\n    __tablename__ = \"orders\"\n    __table_args__ = {\"schema\": \"core\"}\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n    zz_marker_model: Mapped[int] = mapped_column()\n",
        ),
        "CREATE TABLE core.orders (id SERIAL PRIMARY KEY, zz_marker_model INTEGER NOT NULL);\n",
        CONTACT,
        b"zz_marker_model",
    );
    // A migration that reaches core.orders: its model table is checked again.
    repo.write(
        &format!("{MIGRATIONS}/003_orders_note.sql"),
        "ALTER TABLE core.orders ADD COLUMN note TEXT;\n",
    );
    repo.git(&["add", "-A"]);
    stops_on_the_damage_then_checks_afresh(&repo);
}

/// `build.rs` links the binary at a fixed address on Linux with the GNU C library: its
/// read-only data (vtables, the grammar's tables) is then read from the file as it is, not
/// relocated into fresh memory at every start (unless `DRIFTGUARD_PIE=1` built it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_is_linked_at_a_fixed_address() {
    if option_env!("DRIFTGUARD_PIE").is_some_and(|v| v != "0" && !v.is_empty()) {
        return;
    }
    let bytes = std::fs::read(binary()).expect("the binary");
    assert_eq!(&bytes[..4], b"\x7fELF");
    // `e_type`, in the byte order `EI_DATA` names (1: little-endian, 2: big-endian): 2 is an
    // executable at a fixed address, 3 a position-independent one (or a shared library).
    let field = [bytes[16], bytes[17]];
    let kind = match bytes[5] {
        2 => u16::from_be_bytes(field),
        _ => u16::from_le_bytes(field),
    };
    assert_eq!(kind, 2, "a position-independent binary");
}
