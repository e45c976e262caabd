//! End-to-end tests of `driftguard db-diff`'s connection against fake servers on 127.0.0.1:
//! no byte of a password reaches any output, whatever the URL's shape or where the password
//! came from (issue 11, item 2), and a hostile server cannot drive memory (item 3). The real
//! PostgreSQL paths (TLS with a self-signed certificate, a wrong password, the reads) are in
//! `tests/dbdiff/run.sh`.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::common::*;

/// Every password in these tests carries this word; it must never be printed.
const SENTINEL: &str = "XYZZY";

/// What a fake server does after the startup message.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Asks for a cleartext password, then fails the sign-in with an error that quotes what it
    /// received — a hostile server trying to get the password printed.
    EchoPassword,
    /// Announces a 2 GB message.
    Huge,
    /// Says yes to TLS, then sends bytes that are not TLS.
    FakeTls,
}

/// A fake PostgreSQL server on 127.0.0.1 for `connections` connections; the passwords it
/// received come out of the channel.
struct FakeServer {
    port: u16,
    passwords: mpsc::Receiver<String>,
    thread: JoinHandle<()>,
}

impl FakeServer {
    fn start(behaviour: Behaviour, connections: usize) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("address").port();
        let (sender, passwords) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for _ in 0..connections {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                stream
                    .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .expect("timeout");
                if let Some(password) = serve(&mut stream, behaviour) {
                    let _ = sender.send(password);
                }
            }
        });
        FakeServer {
            port,
            passwords,
            thread,
        }
    }

    fn finish(self) -> Vec<String> {
        let _ = self.thread.join();
        self.passwords.try_iter().collect()
    }
}

fn read_u32(stream: &mut TcpStream) -> Option<u32> {
    let mut bytes = [0u8; 4];
    stream.read_exact(&mut bytes).ok()?;
    Some(u32::from_be_bytes(bytes))
}

fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// One connection; returns the password the client sent, if any.
fn serve(stream: &mut TcpStream, behaviour: Behaviour) -> Option<String> {
    let mut length = read_u32(stream)?;
    let code = read_u32(stream)?;
    if length == 8 && code == 80_877_103 {
        if let Behaviour::FakeTls = behaviour {
            stream.write_all(b"S").ok()?;
            let _ = stream.write_all(b"this is not a TLS server hello, XYZZY?\n");
            let mut sink = [0u8; 1024];
            let _ = stream.read(&mut sink);
            return None;
        }
        stream.write_all(b"N").ok()?;
        length = read_u32(stream)?;
        let mut startup = vec![0u8; length as usize - 4];
        stream.read_exact(&mut startup).ok()?;
    } else {
        let mut startup = vec![0u8; length as usize - 8];
        stream.read_exact(&mut startup).ok()?;
    }
    match behaviour {
        Behaviour::Huge => {
            let mut huge = vec![b'R'];
            huge.extend_from_slice(&2_000_000_000u32.to_be_bytes());
            let _ = stream.write_all(&huge);
            for _ in 0..32 {
                if stream.write_all(&[0u8; 65536]).is_err() {
                    break;
                }
            }
            None
        }
        Behaviour::FakeTls => None,
        Behaviour::EchoPassword => {
            stream.write_all(&message(b'R', &3u32.to_be_bytes())).ok()?;
            let mut tag = [0u8; 1];
            stream.read_exact(&mut tag).ok()?;
            let length = read_u32(stream)?;
            let mut body = vec![0u8; length as usize - 4];
            stream.read_exact(&mut body).ok()?;
            let password =
                String::from_utf8_lossy(body.strip_suffix(&[0]).unwrap_or(&body)).into_owned();
            let mut fields = Vec::new();
            for (code, text) in [
                (b'S', "FATAL".to_string()),
                (b'V', "FATAL".to_string()),
                (b'C', "28P01".to_string()),
                (
                    b'M',
                    format!(
                        "password authentication failed for user \"app\" (received {password})"
                    ),
                ),
            ] {
                fields.push(code);
                fields.extend_from_slice(text.as_bytes());
                fields.push(0);
            }
            fields.push(0);
            let _ = stream.write_all(&message(b'E', &fields));
            Some(password)
        }
    }
}

/// A project with one model, and a HOME of its own (no `~/.pgpass` or root certificate of the
/// machine's).
struct Project {
    repo: TestRepo,
    home: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let repo = TestRepo::plain();
        repo.write(BASE, BASE_PY)
            .write(MODELS, CUSTOMER_PY)
            .write(&format!("{MIGRATIONS}/001_initial.sql"), INITIAL_SQL);
        Project {
            repo,
            home: tempfile::tempdir().expect("home"),
        }
    }

    /// Runs `db-diff` with `env` on top of a clean environment (no `PG*`, no `DATABASE_URL`).
    fn db_diff(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["db-diff"];
        all.extend_from_slice(args);
        let mut cmd = Command::new(binary());
        isolate(cmd.args(&all).current_dir(self.repo.path()));
        for key in [
            "DATABASE_URL",
            "PGPASSWORD",
            "PGPASSFILE",
            "PGSSLMODE",
            "PGSSLROOTCERT",
        ] {
            cmd.env_remove(key);
        }
        cmd.env("HOME", self.home.path());
        for (key, value) in env {
            cmd.env(key, OsString::from(value));
        }
        Run::new("driftguard", &all, &cmd.output().expect("driftguard runs"))
    }
}

/// Asserts exit 2 and that no output holds the sentinel.
fn assert_hidden(run: &Run, what: &str) {
    assert_eq!(run.code, 2, "{what}: {run:?}");
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(SENTINEL),
            "{what}: {stream} shows a password:\n{text}"
        );
    }
}

const FORMATS: &[&str] = &[
    "human", "json", "github", "sarif", "junit", "gitlab", "markdown",
];

/// URL shapes, each with the password the server must receive: unencoded `@ : / # ?`,
/// percent-encoding, a `password=` parameter, a libpq string with quotes.
fn shapes(port: u16) -> Vec<(String, &'static str)> {
    vec![
        (
            format!("postgresql://app:S3cr@t#XYZZY@127.0.0.1:{port}/shop"),
            "S3cr@t#XYZZY",
        ),
        (
            format!("postgresql+asyncpg://app:XYZZY/a?b:c@127.0.0.1:{port}/shop"),
            "XYZZY/a?b:c",
        ),
        (
            format!("postgresql+psycopg2://app:XYZZY%40a%2Fb%23@127.0.0.1:{port}/shop"),
            "XYZZY@a/b#",
        ),
        (
            format!("postgresql://app@127.0.0.1:{port}/shop?password=XYZZY%26q&sslmode=prefer"),
            "XYZZY&q",
        ),
        (
            format!("host=127.0.0.1 port={port} user=app password='XY ZZY \\' XYZZY' dbname=shop"),
            "XY ZZY ' XYZZY",
        ),
    ]
}

#[test]
fn issue_11_no_byte_of_a_password_reaches_any_output_of_a_failed_sign_in() {
    let project = Project::new();
    let cases = shapes(0).len() * FORMATS.len();
    let server = FakeServer::start(Behaviour::EchoPassword, cases);
    let mut expected = Vec::new();
    for (url, password) in shapes(server.port) {
        for format in FORMATS {
            let run = project.db_diff(&["--database-url", &url, "--format", format], &[]);
            assert_hidden(&run, &format!("{url} --format {format}"));
            assert!(
                run.stderr
                    .contains("password authentication failed for user \"app\" (received ***)"),
                "{url}: {}",
                run.stderr
            );
            expected.push(password.to_string());
        }
    }
    // The server got each password whole: the URL was read as meant, not only hidden.
    assert_eq!(server.finish(), expected);
}

#[test]
fn issue_11_passwords_from_pgpassword_and_the_password_file_are_hidden_too() {
    let project = Project::new();
    let server = FakeServer::start(Behaviour::EchoPassword, 3);
    let url = format!("postgresql://app@127.0.0.1:{}/shop", server.port);
    let run = project.db_diff(
        &["--database-url", &url],
        &[("PGPASSWORD", "XYZZY-from-env")],
    );
    assert_hidden(&run, "PGPASSWORD");
    let passfile = project.home.path().join(".pgpass");
    std::fs::write(&passfile, "127.0.0.1:*:shop:app:XYZZY\\:file\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let run = project.db_diff(&["--database-url", &url], &[]);
    assert_hidden(&run, "~/.pgpass");
    let other = project.home.path().join("other-pgpass");
    std::fs::write(&other, "*:*:*:*:XYZZY-passfile\n").expect("write");
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let run = project.db_diff(
        &["--database-url", &url],
        &[("PGPASSFILE", other.to_str().expect("path"))],
    );
    assert_hidden(&run, "PGPASSFILE");
    assert_eq!(
        server.finish(),
        ["XYZZY-from-env", "XYZZY:file", "XYZZY-passfile"]
    );
    // A password file others may read is ignored, with a note, as libpq does.
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = project.db_diff(
        &["--database-url", "postgresql://app@127.0.0.1:1/shop"],
        &[],
    );
    assert_hidden(&run, "readable ~/.pgpass");
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
}

#[test]
fn issue_11_no_byte_of_a_password_reaches_the_output_of_any_other_failure() {
    let project = Project::new();
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let huge = FakeServer::start(Behaviour::Huge, 1);
    let fake_tls = FakeServer::start(Behaviour::FakeTls, 1);
    let no_tls = FakeServer::start(Behaviour::EchoPassword, 1);
    let cases = [
        (
            format!("postgresql://app:S3cr@t#XYZZY@127.0.0.1:{closed}/shop"),
            "Connection refused",
        ),
        (
            format!("postgresql://app:XYZZY@127.0.0.1:{}/shop", huge.port),
            "announced a message of 2000000001 bytes",
        ),
        (
            format!(
                "postgresql://app:XYZZY@127.0.0.1:{}/shop?sslmode=require",
                fake_tls.port
            ),
            "the TLS handshake failed",
        ),
        (
            format!(
                "postgresql://app:XYZZY@127.0.0.1:{}/shop?sslmode=require",
                no_tls.port
            ),
            "server does not support TLS",
        ),
        (
            "postgresql://app:XYZZY@ho st/shop".to_string(),
            "cannot be read safely",
        ),
        (
            "postgresql://app:XYZZY".to_string(),
            "the host or port of the database URL is not valid",
        ),
        (
            "postgresql://app:pw@h/shop?application_name=XYZZY@x".to_string(),
            "cannot be read safely",
        ),
        (
            "postgresql://app:XY@ZZY@h:port/shop".to_string(),
            "cannot be read safely",
        ),
        (
            "host=h user=app password='XYZZY".to_string(),
            "has no closing",
        ),
        (
            "host=h user=app password=XY ZZY".to_string(),
            "a word without `=`",
        ),
        (
            "postgresql://app:XYZZY@h/shop?sslmode=verify-full&sslrootcert=/nonexistent.pem"
                .to_string(),
            "cannot read the root certificate file `/nonexistent.pem`",
        ),
        (
            "app:XYZZY@somewhere".to_string(),
            "the database URL is not a URL",
        ),
    ];
    for (url, says) in &cases {
        for format in FORMATS {
            let run = project.db_diff(&["--database-url", url, "--format", format], &[]);
            assert_hidden(&run, url);
            assert!(run.stderr.contains(says), "{url}: {}", run.stderr);
            // The same from DATABASE_URL.
            let run = project.db_diff(&["--format", format], &[("DATABASE_URL", url)]);
            assert_hidden(&run, url);
            // Only the first run reaches a one-connection server.
            if url.contains(&huge.port.to_string())
                || url.contains(&fake_tls.port.to_string())
                || url.contains(&no_tls.port.to_string())
            {
                break;
            }
        }
    }
    huge.finish();
    fake_tls.finish();
    assert!(
        no_tls.finish().is_empty(),
        "a password went to a server without TLS"
    );
}

#[test]
fn issue_11_what_a_refused_connection_says() {
    let project = Project::new();
    let huge = FakeServer::start(Behaviour::Huge, 1);
    let run = project.db_diff(
        &[
            "--database-url",
            &format!("postgresql://app:S3cr@t#XYZZY@127.0.0.1:{}/shop", huge.port),
        ],
        &[],
    );
    huge.finish();
    assert_hidden(&run, "huge");
    let stderr = run.stderr.replace(&huge_port_text(&run.stderr), "[PORT]");
    insta::assert_snapshot!("issue_11_huge_message", stderr);
    let run = project.db_diff(
        &[
            "--database-url",
            "postgresql://app:S3cr@t#XYZZY@/shop?sslrootcert=system&sslmode=require",
        ],
        &[],
    );
    assert_hidden(&run, "weak sslmode");
    insta::assert_snapshot!("issue_11_weak_sslmode", run.stderr);
}

/// The port number in `127.0.0.1:PORT`, for redaction.
fn huge_port_text(text: &str) -> String {
    let after = text.split("127.0.0.1:").nth(1).unwrap_or("");
    after.chars().take_while(char::is_ascii_digit).collect()
}
