//! Connecting for `db-diff`: the socket, the wire guard, TLS and the driver, on a one-thread
//! tokio runtime that lives for one read.
//!
//! The socket is opened here rather than by the driver, so that the guard of [`super::wire`]
//! sits under everything the driver reads (`tokio_postgres::Config::connect_raw`), and so that
//! whether the peer is this machine is known from the address actually connected to. Servers
//! of a host list are tried in order. The whole attempt on one server — socket, TLS,
//! authentication — is bounded by the connect timeout plus a grace period: a server that
//! accepts and then never answers cannot hang a deploy step.
//!
//! Every message returned is built from the parsed URL and scrubbed of every spelling of the
//! password ([`DatabaseUrl::scrub`]) — also the driver's and the server's words.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_postgres::config::{ChannelBinding as DriverBinding, SslMode as DriverSslMode};

use super::tls;
use super::url::{ChannelBinding, DatabaseUrl, Host, Target};
use super::wire::{Guard, GuardedTls, Policy, Start, Verdict};

/// Why one server could not be used.
struct Failure {
    reason: String,
    /// The reason already says what to do (a refusal, a TLS failure).
    advised: bool,
}

impl From<String> for Failure {
    fn from(reason: String) -> Failure {
        Failure {
            reason,
            advised: false,
        }
    }
}

/// What one server may take beyond the connect timeout (TLS, authentication) before db-diff
/// gives up on it.
pub const WATCHDOG_GRACE: Duration = Duration::from_secs(2);

/// Runs `read` on a connected client: connects (trying each server in turn), runs it, and
/// returns its result with the `HOST:PORT` it was read from. Errors are scrubbed and say what
/// to do.
pub fn with_client<T>(
    url: &DatabaseUrl,
    allow_insecure_password: bool,
    read: impl AsyncFnOnce(&mut tokio_postgres::Client) -> Result<T, tokio_postgres::Error>,
) -> Result<(T, String), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))?;
    runtime.block_on(async {
        let (mut client, target) = connect(url, allow_insecure_password).await?;
        let value = read(&mut client).await.map_err(|e| {
            url.scrub(&format!(
                "cannot read the schema of {}: {}",
                url.display_target(target),
                error_chain(&e)
            ))
        })?;
        Ok((value, target.host_port()))
    })
}

/// A connected client, or why no server of the URL could be used.
async fn connect(
    url: &DatabaseUrl,
    allow_insecure_password: bool,
) -> Result<(tokio_postgres::Client, &Target), String> {
    let tls = tls::client_config(url).map_err(|e| url.scrub(&e))?;
    let limit = url.connect_timeout + WATCHDOG_GRACE;
    let mut failures = Vec::new();
    let mut advised = false;
    for target in &url.targets {
        let attempt = connect_one(url, target, tls.clone(), allow_insecure_password);
        let reason = match tokio::time::timeout(limit, attempt).await {
            Ok(Ok(client)) => return Ok((client, target)),
            Ok(Err(failure)) => {
                advised |= failure.advised;
                failure.reason
            }
            Err(_) => format!("no answer within {} s", limit.as_secs()),
        };
        failures.push(url.scrub(&format!(
            "cannot connect to {}: {reason}",
            url.display_target(target)
        )));
    }
    let mut message = failures.join("; ");
    // A refusal or a TLS failure already says what to do.
    if !advised {
        message.push_str(
            "; check the URL, that the server is running and that it accepts connections from here",
        );
    }
    Err(message)
}

async fn connect_one(
    url: &DatabaseUrl,
    target: &Target,
    tls: Option<rustls::ClientConfig>,
    allow_insecure_password: bool,
) -> Result<tokio_postgres::Client, Failure> {
    let (socket, local) = open(target, url.connect_timeout).await?;
    // libpq never uses TLS on a Unix socket.
    let tls = tls.filter(|_| !matches!(socket, Socket::Unix(_)));
    sign_in(url, target, socket, local, tls, allow_insecure_password).await
}

/// The driver's startup and authentication over an open stream, under the wire guard.
async fn sign_in<S>(
    url: &DatabaseUrl,
    target: &Target,
    socket: S,
    local: bool,
    tls: Option<rustls::ClientConfig>,
    allow_insecure_password: bool,
) -> Result<tokio_postgres::Client, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let server_name = target.tls_name().unwrap_or_default();
    let verdict = Arc::new(Verdict::default());
    let start = match (&tls, url.direct_tls) {
        (None, _) => Start::Messages,
        (Some(_), true) => Start::Encrypted,
        (Some(_), false) => Start::TlsAnswer,
    };
    let policy = Policy {
        encrypted: false,
        local,
        allow_insecure_password,
    };
    let stream = Guard::new(socket, start, policy, verdict.clone());
    let mut config = tokio_postgres::Config::new();
    config
        .user(&url.user)
        .application_name(&url.application_name)
        .channel_binding(match url.channel_binding {
            ChannelBinding::Disable => DriverBinding::Disable,
            ChannelBinding::Prefer => DriverBinding::Prefer,
            ChannelBinding::Require => DriverBinding::Require,
        })
        .ssl_mode(match &tls {
            None => DriverSslMode::Disable,
            Some(_) if url.sslmode.requires_tls() => DriverSslMode::Require,
            Some(_) => DriverSslMode::Prefer,
        });
    if url.direct_tls {
        config.ssl_negotiation(tokio_postgres::config::SslNegotiation::Direct);
    }
    if let Some(dbname) = &url.dbname {
        config.dbname(dbname);
    }
    if let Some(options) = &url.options {
        config.options(options);
    }
    if let Some(password) = &target.password {
        config.password(password.expose());
    }
    let encrypted = tls.is_some();
    let connector = GuardedTls {
        config: tls,
        server_name,
        verdict: verdict.clone(),
        allow_insecure_password,
    };
    match config.connect_raw(stream, connector).await {
        Ok((client, connection)) => {
            tokio::spawn(connection);
            Ok(client)
        }
        Err(e) => Err(match verdict.get() {
            Some(refusal) => Failure {
                reason: refusal.to_string(),
                advised: true,
            },
            None => explain(url, encrypted, error_chain(&e)),
        }),
    }
}

/// The driver's words, with advice for the failures that have a known fix.
fn explain(url: &DatabaseUrl, encrypted: bool, reason: String) -> Failure {
    let mode = url.sslmode.as_str();
    let advice = if reason.contains("not valid for name") {
        "the server's certificate does not name the host connected to: connect by a name the certificate lists, or use `sslmode=verify-ca` to check only who signed it".to_string()
    } else if reason.contains("invalid peer certificate") {
        format!(
            "the server's certificate could not be verified (sslmode={mode}): pass `sslrootcert=/path/to/ca.pem` with the certificate of the authority that signed it (your provider documents it), or `sslmode=require` to encrypt without checking who the server is"
        )
    } else if reason.contains("server does not support TLS") {
        format!(
            "sslmode={mode} needs TLS: turn on `ssl` in the server's configuration, or connect through an SSH tunnel to 127.0.0.1 with `sslmode=disable`"
        )
    } else if encrypted && reason.contains("TLS handshake") {
        "the TLS handshake failed: check the host and port, or set `sslmode=disable` for a server without TLS on a network you trust".to_string()
    } else {
        return Failure::from(reason);
    };
    Failure {
        reason: format!("{reason}; {advice}"),
        advised: true,
    }
}

/// Opens the socket; also says whether the peer is this machine.
async fn open(target: &Target, limit: Duration) -> Result<(Socket, bool), String> {
    #[cfg(unix)]
    if let (Host::Unix(dir), None) = (&target.host, target.hostaddr) {
        let path: PathBuf = dir.join(format!(".s.PGSQL.{}", target.port));
        let socket = tokio::time::timeout(limit, tokio::net::UnixStream::connect(&path))
            .await
            .map_err(|_| format!("no answer within {} s", limit.as_secs()))?
            .map_err(|e| format!("cannot open the socket {}: {e}", path.display()))?;
        return Ok((Socket::Unix(socket), true));
    }
    let addresses: Vec<SocketAddr> = match (target.hostaddr, &target.host) {
        (Some(ip), _) => vec![SocketAddr::new(ip, target.port)],
        (None, Host::Tcp(name)) => tokio::net::lookup_host((name.as_str(), target.port))
            .await
            .map_err(|e| format!("cannot resolve the host name: {e}"))?
            .collect(),
        (None, Host::Unix(_)) => {
            return Err("Unix sockets are not available on this system".to_string());
        }
    };
    let mut last = "the host name has no address".to_string();
    for address in addresses {
        match tokio::time::timeout(limit, TcpStream::connect(address)).await {
            Ok(Ok(socket)) => {
                let _ = socket.set_nodelay(true);
                let local = address.ip().to_canonical().is_loopback();
                return Ok((Socket::Tcp(socket), local));
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("no answer within {} s", limit.as_secs()),
        }
    }
    Err(last)
}

/// An error and its causes, `: `-joined (the driver's `db error` alone says nothing).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text.replace('\n', " ")
}

/// A TCP or Unix socket.
#[derive(Debug)]
pub enum Socket {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(unix)]
            Socket::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(unix)]
            Socket::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_flush(cx),
            #[cfg(unix)]
            Socket::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(unix)]
            Socket::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn url(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse(text, &|_| None).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn read_with(url: &DatabaseUrl) -> Result<((), String), String> {
        with_client(url, false, async |_| Ok(()))
    }

    #[test]
    fn a_connection_error_names_the_database_without_the_password() {
        // Port 1 on the loopback: nothing listens there, the connection is refused at once.
        let parsed = url("postgresql+asyncpg://app:s3cret-pw@127.0.0.1:1/shop?connect_timeout=2");
        let err = read_with(&parsed).unwrap_err();
        assert!(
            err.starts_with("cannot connect to postgresql://app@127.0.0.1:1/shop: "),
            "{err}"
        );
        assert!(err.ends_with("accepts connections from here"), "{err}");
        assert!(!err.contains("s3cret-pw"), "{err}");
    }

    #[test]
    fn every_server_of_a_list_is_tried_and_named() {
        let parsed = url("postgresql://app:s3cret-pw@127.0.0.1:1,127.0.0.1:2/shop");
        let err = read_with(&parsed).unwrap_err();
        assert!(err.contains("127.0.0.1:1/shop: "), "{err}");
        assert!(
            err.contains("; cannot connect to postgresql://app@127.0.0.1:2/shop: "),
            "{err}"
        );
    }

    #[test]
    fn a_server_that_accepts_and_never_answers_is_given_up_on() {
        // The kernel accepts the connection into the listener's backlog; nobody answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let parsed = url(&format!(
            "postgresql://app:s3cret-pw@127.0.0.1:{port}/shop?connect_timeout=1"
        ));
        let started = std::time::Instant::now();
        let err = read_with(&parsed).unwrap_err();
        assert!(err.contains("no answer within 3 s"), "{err}");
        assert!(!err.contains("s3cret-pw"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        drop(listener);
    }

    /// Reads the startup (after answering `N` to a TLS request) from a client.
    fn read_startup(stream: &mut std::net::TcpStream) {
        let mut head = [0u8; 8];
        stream.read_exact(&mut head).expect("first packet");
        let mut length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if length == 8 && head[4..] == 80_877_103u32.to_be_bytes() {
            stream.write_all(b"N").expect("answer N");
            stream.read_exact(&mut head[..4]).expect("startup length");
            length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let mut rest = vec![0u8; length - 4];
            stream.read_exact(&mut rest).expect("startup");
        } else {
            let mut rest = vec![0u8; length - 8];
            stream.read_exact(&mut rest).expect("startup");
        }
    }

    /// The peak memory of this process, in KiB (Linux).
    fn peak_memory_kib() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.split('\n').find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    #[test]
    fn a_server_announcing_a_huge_message_is_cut_off_at_its_header() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            read_startup(&mut stream);
            let mut huge = vec![b'R'];
            huge.extend_from_slice(&2_000_000_000u32.to_be_bytes());
            huge.extend_from_slice(&[0u8; 4096]);
            let _ = stream.write_all(&huge);
            // Keep sending while the client reads, as the hostile server did.
            for _ in 0..64 {
                if stream.write_all(&[0u8; 65536]).is_err() {
                    break;
                }
            }
        });
        let parsed = url(&format!("postgresql://app:s3cret-pw@127.0.0.1:{port}/shop"));
        let err = read_with(&parsed).unwrap_err();
        assert!(
            err.contains(
                "announced a message of 2000000001 bytes, and db-diff accepts at most 64 MiB"
            ),
            "{err}"
        );
        let _ = server.join();
        if let Some(peak) = peak_memory_kib() {
            assert!(peak < 1024 * 1024, "peak memory {peak} KiB");
        }
    }

    /// A fake server on the far end of an in-memory stream: answers `N` to a TLS request, reads
    /// the startup, asks for a cleartext password, and returns everything the client wrote
    /// after the startup.
    async fn cleartext_server(mut stream: tokio::io::DuplexStream) -> Vec<u8> {
        let mut head = [0u8; 8];
        stream.read_exact(&mut head).await.expect("first packet");
        let mut length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let mut skip = length - 8;
        if length == 8 {
            stream.write_all(b"N").await.expect("answer N");
            stream
                .read_exact(&mut head[..4])
                .await
                .expect("startup length");
            length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            skip = length - 4;
        }
        let mut startup = vec![0u8; skip];
        stream.read_exact(&mut startup).await.expect("startup");
        let mut request = vec![b'R'];
        request.extend_from_slice(&8u32.to_be_bytes());
        request.extend_from_slice(&3u32.to_be_bytes());
        stream.write_all(&request).await.expect("request");
        let mut after = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut after)).await;
        after
    }

    fn sign_in_over_memory(local: bool, allow: bool) -> (Result<(), String>, Vec<u8>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .expect("runtime");
        let parsed = url("postgresql://app:Sup3r-S3cret@db.example.com/shop");
        let target = parsed.targets[0].clone();
        let tls = tls::client_config(&parsed).expect("TLS config");
        runtime.block_on(async {
            let (client_end, server_end) = tokio::io::duplex(4096);
            let server = tokio::spawn(cleartext_server(server_end));
            let result = sign_in(&parsed, &target, client_end, local, tls, allow)
                .await
                .map(|_| ())
                .map_err(|f| f.reason);
            let written = server.await.expect("server task");
            (result, written)
        })
    }

    #[test]
    fn a_cleartext_password_request_from_another_host_without_tls_gets_nothing() {
        let (result, written) = sign_in_over_memory(false, false);
        let err = result.unwrap_err();
        assert!(
            err.starts_with(
                "the server asked for the password in cleartext over a connection without TLS"
            ),
            "{err}"
        );
        assert!(err.contains("--allow-insecure-password"), "{err}");
        let written = String::from_utf8_lossy(&written);
        assert!(!written.contains("Sup3r-S3cret"), "sent: {written:?}");
        assert!(
            !written.starts_with('p'),
            "a password message was sent: {written:?}"
        );
    }

    #[test]
    fn the_password_goes_to_this_machine_or_with_the_flag() {
        for (local, allow) in [(true, false), (false, true)] {
            let (_, written) = sign_in_over_memory(local, allow);
            let written = String::from_utf8_lossy(&written);
            assert!(
                written.starts_with('p') && written.contains("Sup3r-S3cret"),
                "local {local}, allow {allow}: {written:?}"
            );
        }
    }
}
