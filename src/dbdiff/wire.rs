//! The wire guard: a stream wrapper that reads the header of every message the server sends
//! before the driver sees it, and stops the connection on two things a hostile or spoofed
//! server could do to us.
//!
//! 1. **A huge message.** The driver reserves memory for a message as soon as its header
//!    announces the length: a server that announced 2 GB made db-diff take 2.1 GB. A message
//!    longer than [`MAX_MESSAGE`] (64 MiB; db-diff's catalogue rows are a few hundred bytes)
//!    ends the connection before the driver sees its header.
//! 2. **A password request in clear.** Over a connection without TLS to a host that is not
//!    this machine, a server (or anyone on the path) that asks for the password in cleartext
//!    or as MD5 does not get it unless `--allow-insecure-password`; the request never reaches
//!    the driver, so the password is never written. SCRAM is allowed: it never sends the
//!    password. Loopback and Unix sockets (an SSH tunnel) are allowed.
//!
//! One guard sits on the socket: it reads the one-byte answer to the driver's TLS request and
//! then either parses messages (no TLS) or lets the encrypted bytes through. A second guard,
//! made by [`GuardedTls`], sits on top of the TLS session and parses the decrypted messages
//! (with TLS a password request is allowed). What a guard refused is kept in a shared
//! [`Verdict`], so the caller can say it in plain words instead of the driver's I/O error.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The longest message (after its 5-byte header) db-diff accepts from a server.
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Why a guard stopped the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A message longer than [`MAX_MESSAGE`].
    TooLarge { announced: u64 },
    /// A length below the header's own 4 bytes: not the PostgreSQL protocol.
    BadLength,
    /// A cleartext or MD5 password request without TLS from a host that is not this machine.
    InsecurePassword { method: &'static str },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooLarge { announced } => write!(
                f,
                "the server announced a message of {announced} bytes, and db-diff accepts at most {} MiB per message; it stopped reading (is this a PostgreSQL server?)",
                MAX_MESSAGE / (1024 * 1024)
            ),
            Refusal::BadLength => f.write_str(
                "the server sent a message with an impossible length (is this a PostgreSQL server?)",
            ),
            Refusal::InsecurePassword { method } => write!(
                f,
                "the server asked for the password in {method} over a connection without TLS to a host that is not this machine, so db-diff did not send it. Connect with TLS (`sslmode=require`, or `sslmode=verify-full` to also check the server's certificate), or through an SSH tunnel to 127.0.0.1; on a network you trust, pass --allow-insecure-password"
            ),
        }
    }
}

/// What the guards of one connection refused, shared with the caller.
#[derive(Debug, Default)]
pub struct Verdict(Mutex<Option<Refusal>>);

impl Verdict {
    fn set(&self, refusal: Refusal) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(refusal);
        }
    }

    /// The first refusal, if any.
    pub fn get(&self) -> Option<Refusal> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Whether a password may be asked for in clear on this stream.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The guard reads decrypted TLS traffic.
    pub encrypted: bool,
    /// The peer is this machine (loopback or a Unix socket).
    pub local: bool,
    /// `--allow-insecure-password`.
    pub allow_insecure_password: bool,
}

impl Policy {
    fn allows_clear_password(self) -> bool {
        self.encrypted || self.local || self.allow_insecure_password
    }
}

/// Where the guard is in the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The driver asks for TLS first: one byte, `S` (TLS follows) or `N` (messages follow).
    TlsAnswer,
    /// TLS from the first byte (`sslnegotiation=direct`): nothing to read here.
    Encrypted,
    /// Messages from the first byte.
    Messages,
}

#[derive(Debug)]
enum State {
    TlsAnswer,
    Opaque,
    Messages(Parser),
    Failed(Refusal),
}

/// Message framing: a type byte, a 4-byte big-endian length that counts itself, the body.
#[derive(Debug, Default)]
struct Parser {
    header: [u8; 5],
    have: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
    /// For an authentication request (`R`): the request code as it arrives.
    auth: Option<([u8; 4], usize)>,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8], policy: Policy) -> Result<(), Refusal> {
        let mut i = 0;
        while i < bytes.len() {
            if self.remaining == 0 {
                let take = (5 - self.have).min(bytes.len() - i);
                self.header[self.have..self.have + take].copy_from_slice(&bytes[i..i + take]);
                self.have += take;
                i += take;
                if self.have == 5 {
                    self.have = 0;
                    let [tag, a, b, c, d] = self.header;
                    let length = u32::from_be_bytes([a, b, c, d]);
                    let body = length.checked_sub(4).ok_or(Refusal::BadLength)? as usize;
                    if body > MAX_MESSAGE {
                        return Err(Refusal::TooLarge {
                            announced: u64::from(length) + 1,
                        });
                    }
                    self.remaining = body;
                    self.auth = (tag == b'R').then_some(([0; 4], 0));
                }
            } else {
                let take = self.remaining.min(bytes.len() - i);
                if let Some((code, got)) = &mut self.auth {
                    let want = (4 - *got).min(take);
                    code[*got..*got + want].copy_from_slice(&bytes[i..i + want]);
                    *got += want;
                    if *got == 4 {
                        let method = match u32::from_be_bytes(*code) {
                            3 => Some("cleartext"),
                            5 => Some("MD5"),
                            _ => None,
                        };
                        self.auth = None;
                        if let Some(method) = method
                            && !policy.allows_clear_password()
                        {
                            return Err(Refusal::InsecurePassword { method });
                        }
                    }
                }
                self.remaining -= take;
                i += take;
            }
        }
        Ok(())
    }
}

/// A stream that inspects what the server sends (see the module doc).
#[derive(Debug)]
pub struct Guard<S> {
    inner: S,
    state: State,
    policy: Policy,
    verdict: Arc<Verdict>,
}

impl<S> Guard<S> {
    pub fn new(inner: S, start: Start, policy: Policy, verdict: Arc<Verdict>) -> Guard<S> {
        let state = match start {
            Start::TlsAnswer => State::TlsAnswer,
            Start::Encrypted => State::Opaque,
            Start::Messages => State::Messages(Parser::default()),
        };
        Guard {
            inner,
            state,
            policy,
            verdict,
        }
    }

    fn inspect(&mut self, mut bytes: &[u8]) -> Result<(), Refusal> {
        if let State::Failed(refusal) = &self.state {
            return Err(refusal.clone());
        }
        if self.state_is(&State::TlsAnswer)
            && let Some((&answer, rest)) = bytes.split_first()
        {
            if answer == b'S' {
                self.state = State::Opaque;
                return Ok(());
            }
            self.state = State::Messages(Parser::default());
            // `N`: messages follow. Anything else is already a message (an old server's error).
            if answer == b'N' {
                bytes = rest;
            }
        }
        let policy = self.policy;
        if let State::Messages(parser) = &mut self.state
            && let Err(refusal) = parser.feed(bytes, policy)
        {
            self.state = State::Failed(refusal.clone());
            self.verdict.set(refusal.clone());
            return Err(refusal);
        }
        Ok(())
    }

    fn state_is(&self, state: &State) -> bool {
        std::mem::discriminant(&self.state) == std::mem::discriminant(state)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let State::Failed(refusal) = &this.state {
            return Poll::Ready(Err(refused(refusal)));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let result = this.inspect(&buf.filled()[before..]);
        match result {
            Ok(()) => Poll::Ready(Ok(())),
            Err(refusal) => {
                // The driver must not see a byte of what was refused.
                buf.set_filled(before);
                Poll::Ready(Err(refused(&refusal)))
            }
        }
    }
}

fn refused(refusal: &Refusal) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, refusal.to_string())
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: TlsStream + Unpin> TlsStream for Guard<S> {
    fn channel_binding(&self) -> ChannelBinding {
        self.inner.channel_binding()
    }
}

/// The TLS connector handed to the driver: rustls (through `tokio-postgres-rustls`, which
/// also gives SCRAM its channel binding), with a guard on the decrypted stream.
pub struct GuardedTls {
    /// `None` when TLS is off (`sslmode=disable`, a Unix socket): the driver never asks then.
    pub config: Option<ClientConfig>,
    /// The name to verify and send (SNI).
    pub server_name: String,
    pub verdict: Arc<Verdict>,
    pub allow_insecure_password: bool,
}

type RustlsStream<S> = <MakeRustlsConnect as MakeTlsConnect<S>>::Stream;

impl<S> TlsConnect<S> for GuardedTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Guard<RustlsStream<S>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Stream>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let config = self
                .config
                .ok_or_else(|| io::Error::other("TLS is turned off (sslmode=disable)"))?;
            let mut make = MakeRustlsConnect::new(config);
            let connect = match MakeTlsConnect::<S>::make_tls_connect(&mut make, &self.server_name)
            {
                Ok(connect) => connect,
                Err(never) => match never {},
            };
            let session = connect.connect(stream).await?;
            let policy = Policy {
                encrypted: true,
                local: false,
                allow_insecure_password: self.allow_insecure_password,
            };
            Ok(Guard::new(session, Start::Messages, policy, self.verdict))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote() -> Policy {
        Policy {
            encrypted: false,
            local: false,
            allow_insecure_password: false,
        }
    }

    fn message(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        out.extend_from_slice(body);
        out
    }

    fn feed_split(bytes: &[u8], policy: Policy, chunk: usize) -> Result<(), Refusal> {
        let mut guard = Guard::new((), Start::Messages, policy, Arc::default());
        for piece in bytes.chunks(chunk) {
            guard.inspect(piece)?;
        }
        Ok(())
    }

    #[test]
    fn ordinary_messages_pass_in_any_split() {
        let mut bytes = message(b'R', &10u32.to_be_bytes()); // SASL
        bytes.extend(message(b'S', b"server_version\x0016\x00"));
        bytes.extend(message(b'Z', b"I"));
        bytes.extend(message(b'C', b""));
        for chunk in [1, 2, 3, 5, 7, 64] {
            assert_eq!(feed_split(&bytes, remote(), chunk), Ok(()), "chunk {chunk}");
        }
    }

    #[test]
    fn a_huge_message_is_refused_at_its_header() {
        let mut header = vec![b'D'];
        header.extend_from_slice(&2_000_000_000u32.to_be_bytes());
        for chunk in [1, 5] {
            assert_eq!(
                feed_split(&header, remote(), chunk),
                Err(Refusal::TooLarge {
                    announced: 2_000_000_001
                })
            );
        }
        let mut fits = vec![b'D'];
        fits.extend_from_slice(&((MAX_MESSAGE + 4) as u32).to_be_bytes());
        assert_eq!(feed_split(&fits, remote(), 5), Ok(()));
        let bad = [b'D', 0, 0, 0, 3];
        assert_eq!(feed_split(&bad, remote(), 5), Err(Refusal::BadLength));
    }

    #[test]
    fn a_cleartext_or_md5_request_is_refused_only_in_clear_to_a_remote_host() {
        let cleartext = message(b'R', &3u32.to_be_bytes());
        let mut md5 = 5u32.to_be_bytes().to_vec();
        md5.extend_from_slice(b"salt");
        let md5 = message(b'R', &md5);
        for chunk in [1, 4, 100] {
            assert_eq!(
                feed_split(&cleartext, remote(), chunk),
                Err(Refusal::InsecurePassword {
                    method: "cleartext"
                })
            );
            assert_eq!(
                feed_split(&md5, remote(), chunk),
                Err(Refusal::InsecurePassword { method: "MD5" })
            );
        }
        for policy in [
            Policy {
                local: true,
                ..remote()
            },
            Policy {
                encrypted: true,
                ..remote()
            },
            Policy {
                allow_insecure_password: true,
                ..remote()
            },
        ] {
            assert_eq!(feed_split(&cleartext, policy, 3), Ok(()));
            assert_eq!(feed_split(&md5, policy, 3), Ok(()));
        }
        // A 3 inside another message's body is not a request.
        assert_eq!(
            feed_split(&message(b'S', &[0, 0, 0, 3]), remote(), 2),
            Ok(())
        );
    }

    #[test]
    fn the_tls_answer_decides_what_follows() {
        let verdict = Arc::new(Verdict::default());
        let mut guard = Guard::new((), Start::TlsAnswer, remote(), verdict.clone());
        assert_eq!(guard.inspect(b"S"), Ok(()));
        // Encrypted bytes are not parsed.
        assert_eq!(guard.inspect(&[b'R', 0xff, 0xff, 0xff, 0xff]), Ok(()));
        let mut guard = Guard::new((), Start::TlsAnswer, remote(), verdict.clone());
        assert_eq!(guard.inspect(b"N"), Ok(()));
        assert!(guard.inspect(&message(b'R', &3u32.to_be_bytes())).is_err());
        assert_eq!(
            verdict.get(),
            Some(Refusal::InsecurePassword {
                method: "cleartext"
            })
        );
        // Once refused, always refused.
        assert!(guard.inspect(&message(b'Z', b"I")).is_err());
    }
}
