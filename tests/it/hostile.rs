//! End-to-end tests of issue 11 ("a hook must never die, leak or lie") outside db-diff: a
//! sparse index, a corrupt index, a staged submodule, an unstaged config, `--write-baseline`
//! over a source file, `--base` expressions in a shallow clone and an empty `--base`, control
//! characters in names, a `pyproject.toml` that is another tool's, and `install`/`uninstall`
//! around edited and stray hooks.

use std::path::Path;

use crate::common::*;

const TIER: &str = "loyalty_tier: Mapped[Optional[str]] = mapped_column(String(16))";

fn stage_gap(repo: &TestRepo) {
    repo.write(MODELS, &customer_with(TIER)).stage(&[MODELS]);
}

#[test]
fn issue_11_a_sparse_index_is_read_through_git_and_said_so() {
    let repo = handbook_repo();
    repo.write("docs/guide.md", "# guide\n").commit_all("docs");
    repo.git(&["sparse-checkout", "init", "--cone", "--sparse-index"]);
    repo.git(&["sparse-checkout", "set", "apps", "database"]);
    stage_gap(&repo);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.findings(),
        [(
            "DG001".to_string(),
            "core.customers.loyalty_tier".to_string(),
            15
        )]
    );
    assert!(
        run.stderr
            .contains("read it with `git ls-files --stage` instead"),
        "{}",
        run.stderr
    );
    // A staged migration closes the gap, read from the sparse index too.
    repo.write(
        &format!("{MIGRATIONS}/002_tier.sql"),
        "ALTER TABLE core.customers ADD COLUMN loyalty_tier VARCHAR(16);\n",
    )
    .stage(&[MIGRATIONS]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn issue_11_a_corrupt_index_says_so_and_how_to_rebuild_it() {
    let repo = handbook_repo();
    stage_gap(&repo);
    let index = repo.path().join(".git/index");
    let good = std::fs::read(&index).expect("index");
    // A staged object id the repository does not have, under a valid checksum.
    let mut bad = good.clone();
    bad[12 + 40 + 3] ^= 0xff;
    resum(&mut bad);
    std::fs::write(&index, &bad).expect("write");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("is corrupt: it stages `")
            && run.stderr.contains("`rm .git/index && git reset`"),
        "{}",
        run.stderr
    );
    // A broken checksum.
    let mut bad = good.clone();
    bad[30] ^= 0xff;
    std::fs::write(&index, &bad).expect("write");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!(run);
    // An absurd entry count, with the checksum broken and then made to match: the entries are
    // decoded while the checksum is checked, and neither run may reserve memory for four
    // billion entries.
    let mut bad = good.clone();
    bad[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    std::fs::write(&index, &bad).expect("write");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is corrupt"), "{}", run.stderr);
    resum(&mut bad);
    std::fs::write(&index, &bad).expect("write");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is corrupt"), "{}", run.stderr);
}

/// The same for a large index, whose checksum is checked on a thread of its own beside its
/// decoding (from 256 KiB on; a small one's first, on the check's thread).
#[test]
fn issue_11_a_large_corrupt_index_says_so_too() {
    let repo = handbook_repo();
    repo.write("docs/copy.md", "# a copy\n")
        .stage(&["docs/copy.md"]);
    let id = repo.git(&["rev-parse", ":docs/copy.md"]);
    let mut args = vec!["update-index".to_string(), "--add".to_string()];
    for k in 0..3_000 {
        args.push("--cacheinfo".to_string());
        args.push(format!("100644,{},docs/copies/copy_{k:04}.md", id.trim()));
    }
    repo.git(&args.iter().map(String::as_str).collect::<Vec<_>>());
    repo.git(&["commit", "-qm", "copies"]);
    stage_gap(&repo);
    let index = repo.path().join(".git/index");
    let good = std::fs::read(&index).expect("index");
    assert!(
        good.len() > 256 * 1024,
        "a large index: {} bytes",
        good.len()
    );
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.findings().len(), 1, "{run:?}");
    // A broken checksum.
    let mut bad = good.clone();
    bad[30] ^= 0xff;
    std::fs::write(&index, &bad).expect("write");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("calculated checksum does not match expected")
            && run.stderr.contains("`rm .git/index && git reset`"),
        "{}",
        run.stderr
    );
    // An absurd entry count under a checksum made to match.
    let mut bad = good.clone();
    bad[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    resum(&mut bad);
    std::fs::write(&index, &bad).expect("write");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is corrupt"), "{}", run.stderr);
}

/// Gives an index's bytes the checksum that matches them.
fn resum(index: &mut [u8]) {
    let body = index.len() - 20;
    let sum = sha1(&index[..body]);
    index[body..].copy_from_slice(&sum);
}

/// SHA-1, for the index checksum of the corrupt-index test (git's own hash).
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut message = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bits.to_be_bytes());
    for chunk in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[test]
fn issue_11_a_staged_submodule_update_says_it_was_not_checked() {
    let shared = TestRepo::new();
    shared
        .write("README.md", "shared models\n")
        .commit_all("one");
    let repo = handbook_repo();
    let url = shared.path().display().to_string();
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &url,
        "libs/shared",
    ]);
    repo.commit_all("submodule");
    shared
        .write(
            "models.py",
            &customer_with(TIER).replace("..base_class", "base"),
        )
        .commit_all("a model");
    let sub = repo.path().join("libs/shared");
    git_in(
        &sub,
        &["-c", "protocol.file.allow=always", "pull", "-q"],
        &[],
    );
    repo.stage(&["libs/shared"]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
}

#[test]
fn issue_11_an_unstaged_config_is_named_with_its_git_add() {
    let repo = handbook_repo();
    repo.write("driftguard.yml", "ignore: [\"core.customers.loyalty_*\"]\n");
    stage_gap(&repo);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("driftguard.yml has changes that are not staged")
            && run.stderr.contains("run `git add driftguard.yml`"),
        "{}",
        run.stderr
    );
    repo.stage(&["driftguard.yml"]);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("not staged"), "{}", run.stderr);
}

#[test]
fn issue_11_write_baseline_never_overwrites_a_file_that_is_not_a_baseline() {
    let repo = handbook_repo();
    repo.write(MODELS, &customer_with(TIER));
    let run = repo.run(&["check", "--write-baseline", MODELS]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join(MODELS)).expect("model"),
        customer_with(TIER)
    );
    assert_shown!(run);
    // A baseline, or an empty file, is replaced.
    for start in ["", "{\"version\": 1, \"findings\": []}\n"] {
        repo.write("baseline.json", start);
        let run = repo.run(&["check", "--write-baseline", "baseline.json"]);
        assert_eq!(run.code, 0, "{run:?}");
        let text = std::fs::read_to_string(repo.path().join("baseline.json")).expect("baseline");
        assert!(text.contains("loyalty_tier"), "{text}");
    }
}

#[test]
fn issue_11_base_advice_works_for_expressions_and_an_empty_ref_is_refused() {
    let origin = handbook_repo();
    origin.write(MODELS, &customer_with(TIER)).commit_all("gap");
    let clones = tempfile::tempdir().expect("temp dir");
    let url = format!("file://{}", origin.path().display());
    git_in(
        clones.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
        &[],
    );
    let shallow = clones.path().join("shallow");
    let run = run_in(&shallow, &["check", "--base", "HEAD~1"]).naming(&shallow, "[CLONE]");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        !run.stderr.contains("git fetch origin HEAD~1"),
        "{}",
        run.stderr
    );
    assert_shown!("shallow", run);
    let run = origin.run(&["check", "--base", "HEAD~7"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("it names no commit here"),
        "{}",
        run.stderr
    );
    let run = origin.run(&["check", "--base", ""]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_shown!("empty", run);
}

#[test]
fn issue_11_control_characters_in_names_are_escaped_in_human_and_github_output() {
    let repo = TestRepo::new();
    let evil = "apps/m\u{1b}[2Jodels.py";
    repo.write(BASE, BASE_PY)
        .write(
            evil,
            &customer_with("note: Mapped[str] = mapped_column(\"no\u{1b}]8;;x\u{7}te\")")
                .replace("..base_class", "apps.backend.src.db.base_class"),
        )
        .write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL_SQL)
        .commit_all("evil names");
    for format in ["human", "github"] {
        let run = repo.run(&["check", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {run:?}");
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{7}'),
                "{format} {stream} has a raw control character:\n{text}"
            );
        }
        assert!(run.stdout.contains("\\x1b[2J"), "{format}: {}", run.stdout);
        assert!(
            run.stdout.contains("no\\x1b]8;;x\\x07te"),
            "{format}: {}",
            run.stdout
        );
    }
}

#[test]
fn issue_11_a_pyproject_toml_of_another_tool_that_does_not_parse_is_a_warning() {
    let repo = handbook_repo();
    repo.write(
        "pyproject.toml",
        "[project]\nname = \"shop\"\nversion = = \"1\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!(run);
    repo.write(
        "pyproject.toml",
        "[tool.driftguard]\ndefault_schema = \"core\"\nversion = = \"1\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
}

fn hooks(repo: &TestRepo) -> std::path::PathBuf {
    repo.path().join(".git/hooks")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn issue_11_uninstall_and_install_keep_an_edited_hook() {
    let repo = handbook_repo();
    assert_eq!(repo.run(&["install"]).code, 0);
    let hook = hooks(&repo).join("pre-commit");
    let edited = format!("{}echo my own step\n", read(&hook));
    std::fs::write(&hook, &edited).expect("edit");
    let run = repo.run(&["uninstall"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("uninstall", run);
    assert!(!hook.exists());
    assert_eq!(
        read(&hooks(&repo).join("pre-commit.driftguard-edited")),
        edited
    );
    // Installing over an edited hook keeps it too, under the next free name.
    std::fs::write(&hook, &edited).expect("edit");
    let run = repo.run(&["install"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_shown!("install", run);
    assert_eq!(
        read(&hooks(&repo).join("pre-commit.driftguard-edited.1")),
        edited
    );
    assert_eq!(read(&hook), driftguard::install::HOOK_SCRIPT);
}

#[test]
fn issue_11_a_stray_legacy_hook_stays_inactive_after_install_and_uninstall() {
    let repo = handbook_repo();
    let legacy = hooks(&repo).join("pre-commit.legacy");
    std::fs::create_dir_all(hooks(&repo)).expect("hooks");
    std::fs::write(&legacy, "#!/bin/sh\nexit 1\n").expect("stray");
    let install = repo.run(&["install"]);
    assert_eq!(install.code, 0, "{install:?}");
    let uninstall = repo.run(&["uninstall"]);
    assert_eq!(uninstall.code, 0, "{uninstall:?}");
    assert!(
        !hooks(&repo).join("pre-commit").exists(),
        "the stray hook became active"
    );
    assert_eq!(read(&legacy), "#!/bin/sh\nexit 1\n");
    assert_shown!("install", install);
    assert_shown!("uninstall", uninstall);
    // A hook that install moved aside still comes back.
    let hook = hooks(&repo).join("pre-commit");
    std::fs::remove_file(&legacy).expect("remove");
    std::fs::write(&hook, "#!/bin/sh\necho foreign\n").expect("foreign");
    assert_eq!(repo.run(&["install"]).code, 0);
    assert_eq!(repo.run(&["uninstall"]).code, 0);
    assert_eq!(read(&hook), "#!/bin/sh\necho foreign\n");
    assert!(!legacy.exists() && !hooks(&repo).join("pre-commit.driftguard-kept").exists());
}
