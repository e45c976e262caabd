//! End-to-end tests of issue 11 ("a hook must never die, leak or lie") outside db-diff: a
//! sparse index, a corrupt index, a staged submodule, an unstaged config, `--base`
//! expressions in a shallow clone and an empty `--base`.

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
    let body = bad.len() - 20;
    let sum = sha1(&bad[..body]);
    bad[body..].copy_from_slice(&sum);
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
