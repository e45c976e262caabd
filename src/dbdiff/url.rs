//! The database URL of `db-diff`, read by hand into what to connect to. The driver never sees
//! the URL's text, and no message quotes it.
//!
//! Why by hand: in a password that is not percent-encoded (`S3cr@t#X/Y?z:w`) a standard URL
//! parser takes the first `@`, `/`, `?` or `#` for the end of the user info and puts the rest of
//! the password in the host, the port or the database — which every message then shows. Here
//! the user info ends at the **last** `@` that a valid host list follows, so every byte of the
//! password stays on the user-info side whatever it holds; a URL that reads two ways (an `@`
//! in a parameter after a `?` that could also be part of the password) is refused, without
//! quoting it. Errors name what is wrong ("the port is not a number"), never a host, port or
//! parameter value that a mis-typed URL could have filled with a piece of the password, and
//! only parameter names from a fixed list of known driver parameters are named in notes.
//!
//! The password — from the URL, a `password=` parameter, `PGPASSWORD` or the password file —
//! is a [`Secret`] from the moment it is read; every spelling of it (as written, decoded) is
//! kept to scrub server and driver messages with ([`DatabaseUrl::scrub`]).
//!
//! libpq's rules are followed where db-diff needs them: `key=value` connection strings with
//! quoting, `host`/`port` lists, `hostaddr`, Unix socket folders, `sslmode` (default `prefer`),
//! `sslrootcert` (a file, or `system`; `~/.postgresql/root.crt` by default), `sslnegotiation`,
//! `channel_binding`, and the environment variables `PGPASSWORD`, `PGPASSFILE` (else
//! `~/.pgpass`, ignored with a note when others may read it), `PGSSLMODE` and `PGSSLROOTCERT`.
//! SQLAlchemy's `postgresql+DRIVER://` schemes and asyncpg's `ssl=` are accepted; other
//! drivers' parameters are dropped with a note.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::secret::Secret;

/// How long to wait for the server to accept a connection, unless the URL says
/// `connect_timeout`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The environment, as `db-diff` reads it: a function from a variable's name to its value.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or an IP address.
    Tcp(String),
    /// The folder of a Unix socket (`/var/run/postgresql`).
    Unix(PathBuf),
}

/// One server to try, in the URL's order.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: Host,
    pub port: u16,
    /// libpq's `hostaddr`: the address to connect to; `host` then only names the server (for
    /// TLS and the password file).
    pub hostaddr: Option<IpAddr>,
    /// The password for this server: the URL's, `PGPASSWORD`, or the password file's line.
    pub password: Option<Secret>,
}

impl Target {
    /// The name TLS verifies and sends (SNI): the host name, else the address.
    pub fn tls_name(&self) -> Option<String> {
        match (&self.host, self.hostaddr) {
            (Host::Tcp(name), _) => Some(name.clone()),
            (Host::Unix(_), Some(addr)) => Some(addr.to_string()),
            (Host::Unix(_), None) => None,
        }
    }

    /// `HOST:PORT`, as messages show it: `127.0.0.1:5432`, `[::1]:5432`,
    /// `/var/run/postgresql:5432`.
    pub fn host_port(&self) -> String {
        let host = match &self.host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]"),
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        };
        format!("{host}:{}", self.port)
    }
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether a connection without TLS is an error.
    pub fn requires_tls(self) -> bool {
        self >= SslMode::Require
    }
}

/// The certificates a server's certificate must chain to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// A PEM file (`sslrootcert=/path/ca.crt`, or `~/.postgresql/root.crt` when it exists).
    File(PathBuf),
    /// The operating system's trusted roots (`sslrootcert=system`).
    System,
}

/// `channel_binding`: whether SCRAM binds the password exchange to the TLS session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelBinding {
    Disable,
    Prefer,
    Require,
}

/// A parsed database URL: what to connect with, and how to name it without its password.
/// Its `Debug` shows no password ([`Secret`] hides itself).
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    /// The servers to try, in order (at least one).
    pub targets: Vec<Target>,
    pub user: String,
    /// `None`: the server's default (the user's name).
    pub dbname: Option<String>,
    pub sslmode: SslMode,
    /// The roots to verify a certificate against: `None` for `verify-ca`/`verify-full` means
    /// the system's (see [`crate::dbdiff::tls`]).
    pub root_certs: Option<RootCerts>,
    /// `sslnegotiation=direct`: TLS from the first byte, without asking the server first.
    pub direct_tls: bool,
    pub channel_binding: ChannelBinding,
    pub connect_timeout: Duration,
    pub application_name: String,
    pub options: Option<String>,
    /// For stderr: parameters that were dropped, a password file that was ignored.
    pub notes: Vec<String>,
    /// Every spelling of every password: scrubbed from every message, longest first.
    secrets: Vec<Secret>,
}

/// Parameters of other drivers that a note may name; other unknown names are only counted
/// (a mis-typed URL could have put part of a password into one).
const DRIVER_PARAMETERS: &[&str] = &[
    "prepared_statement_cache_size",
    "statement_cache_size",
    "max_cached_statement_lifetime",
    "max_cacheable_statement_size",
    "command_timeout",
    "server_settings",
    "client_encoding",
    "async_fallback",
    "pool_size",
    "max_overflow",
    "charset",
    "ssl_context",
    "direct_tls",
    "krbsrvname",
    "gsslib",
    "service",
];

/// libpq parameters that change nothing for db-diff (it connects once, to read).
const IGNORED_LIBPQ: &[&str] = &[
    "target_session_attrs",
    "load_balance_hosts",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "fallback_application_name",
    "replication",
    "gssencmode",
    "requiressl",
    "sslcompression",
    "sslsni",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "sslcrl",
    "sslcrldir",
    "requirepeer",
    "require_auth",
];

/// What the URL's text gave, before defaults and the environment.
#[derive(Default)]
struct Raw {
    params: BTreeMap<String, String>,
    password: Option<Secret>,
    secrets: Vec<Secret>,
    /// Unknown parameter names a note may show.
    dropped: Vec<String>,
    /// Unknown parameters not named.
    dropped_unnamed: usize,
}

impl Raw {
    /// A `password` value as written in the text and as it means: both are secrets.
    fn password(&mut self, written: &str, meant: String) {
        self.secrets.push(Secret::new(written));
        self.secrets.push(Secret::new(meant.clone()));
        if !meant.is_empty() {
            self.password = Some(Secret::new(meant));
        }
    }

    fn set(&mut self, key: &str, value: String) {
        if key == "password" {
            self.password(&value.clone(), value);
            return;
        }
        if key == "sslpassword" {
            self.secrets.push(Secret::new(value));
            self.params.insert(key.to_string(), String::new());
            return;
        }
        self.params.insert(key.to_string(), value);
    }
}

impl DatabaseUrl {
    /// Parses `postgresql://`, `postgres://` and SQLAlchemy's `postgresql+DRIVER://` URLs (the
    /// driver is dropped), or a libpq `key=value` string, and applies the environment as libpq
    /// does. Errors never contain any part of a password.
    pub fn parse(text: &str, env: Env) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        let mut raw = Raw::default();
        match url_scheme(text) {
            Some((scheme, rest)) => {
                let base = scheme
                    .split_once('+')
                    .map_or(scheme, |(base, _driver)| base)
                    .to_ascii_lowercase();
                if base != "postgresql" && base != "postgres" {
                    return Err(format!(
                        "`{scheme}://` is not a PostgreSQL URL: db-diff reads PostgreSQL, as `postgresql://USER@HOST:PORT/DB`"
                    ));
                }
                parse_url(rest, &mut raw)?;
            }
            None if text.contains('=') => parse_conninfo(text, &mut raw)?,
            None => {
                // The text may be a bare password pasted by mistake: never quote it.
                return Err(
                    "the database URL is not a URL: write it as `postgresql://USER@HOST:PORT/DB`"
                        .to_string(),
                );
            }
        }
        build(raw, env)
    }

    /// `HOST:PORT` of the first server.
    pub fn host_port(&self) -> String {
        self.targets
            .first()
            .map_or_else(|| "localhost:5432".to_string(), Target::host_port)
    }

    /// The database name the URL asks for (the server's default, the user name, when none).
    pub fn dbname(&self) -> &str {
        self.dbname.as_deref().unwrap_or(&self.user)
    }

    /// `postgresql://USER@HOST:PORT/DB`, never with the password: for messages.
    pub fn display(&self) -> String {
        format!(
            "postgresql://{}@{}/{}",
            self.user,
            encode_host(&self.host_port()),
            self.dbname()
        )
    }

    /// The same for one of the servers.
    pub fn display_target(&self, target: &Target) -> String {
        format!(
            "postgresql://{}@{}/{}",
            self.user,
            encode_host(&target.host_port()),
            self.dbname()
        )
    }

    /// `postgresql://HOST:PORT/DB`: where what is read from the database is located.
    pub fn location_path(&self, database: &str) -> String {
        format!("postgresql://{}/{database}", encode_host(&self.host_port()))
    }

    /// The text with every password replaced by `***`, however it was written.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if !secret.expose().is_empty() {
                out = out.replace(secret.expose(), "***");
            }
        }
        out
    }
}

/// `scheme://rest` when the text starts with a URL scheme.
fn url_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

const AMBIGUOUS: &str = "the database URL cannot be read safely: it has an `@` that could end the password or belong to a parameter or the host. Percent-encode `@`, `:`, `/`, `?` and `#` in the password (`@` is `%40`) and in parameter values, or pass the password in PGPASSWORD or ~/.pgpass";

/// `[user[:password]@]host[:port][,…][/dbname][?key=value&…]`.
fn parse_url(rest: &str, raw: &mut Raw) -> Result<(), String> {
    let (user_info, after) = match split_user_info(rest)? {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    if let Some(info) = user_info {
        let (user, password) = match info.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (info, None),
        };
        if !user.is_empty() {
            raw.set("user", decode(user));
        }
        if let Some(password) = password {
            raw.password(password, decode(password));
        }
    }
    let end = after.find(['/', '?']).unwrap_or(after.len());
    let (hosts, path_query) = after.split_at(end);
    if !valid_host_list(hosts) {
        return Err(
            "the host or port of the database URL is not valid: write `postgresql://USER@HOST:PORT/DB`, and percent-encode `@`, `:`, `/`, `?` and `#` in the password (`@` is `%40`)"
                .to_string(),
        );
    }
    let (path, query) = match path_query.strip_prefix('/') {
        Some(path_query) => path_query.split_once('?').unwrap_or((path_query, "")),
        None => ("", path_query.strip_prefix('?').unwrap_or("")),
    };
    if !hosts.is_empty() {
        let mut names = Vec::new();
        let mut ports = Vec::new();
        for item in hosts.split(',') {
            let (host, port) = split_host_port(item);
            names.push(decode(host));
            ports.push(port.to_string());
        }
        raw.set("host", names.join(","));
        if ports.iter().any(|p| !p.is_empty()) {
            raw.set("port", ports.join(","));
        }
    }
    if !path.is_empty() {
        raw.set("dbname", decode(path));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(key);
        if key == "password" {
            raw.password(value, decode(value));
        } else {
            accept(raw, &key, decode(value));
        }
    }
    Ok(())
}

/// Where the user info ends: the last `@` that a valid host list follows and that a user name
/// without `/`, `?` or `#` precedes. `None` without user info; an error when the `@` could be
/// read two ways, or an `@` is there but none fits.
fn split_user_info(rest: &str) -> Result<Option<usize>, String> {
    let candidates: Vec<usize> = rest
        .match_indices('@')
        .map(|(at, _)| at)
        .filter(|&at| {
            let user = rest[..at].split(':').next().unwrap_or("");
            let after = &rest[at + 1..];
            let hosts = &after[..after.find(['/', '?']).unwrap_or(after.len())];
            !user.contains(['/', '?', '#']) && valid_host_list(hosts)
        })
        .collect();
    let Some(&last) = candidates.last() else {
        return if rest.contains('@') {
            Err(AMBIGUOUS.to_string())
        } else {
            Ok(None)
        };
    };
    // An earlier `@` whose query would hold this one: the `@` may be a parameter's.
    if candidates
        .iter()
        .any(|&at| at < last && rest[at + 1..last].contains('?'))
    {
        return Err(AMBIGUOUS.to_string());
    }
    Ok(Some(last))
}

/// `host[:port]`, `[v6]:port`, comma-separated; empty is the default host.
fn valid_host_list(hosts: &str) -> bool {
    hosts.is_empty() || hosts.split(',').all(valid_host_port)
}

fn valid_host_port(item: &str) -> bool {
    let host_char = |c: char| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '%' | '~') || !c.is_ascii()
    };
    let (host, port) = split_host_port(item);
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner.strip_suffix(']').is_some_and(|v6| {
            !v6.is_empty()
                && v6
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '%'))
        })
    } else {
        host.chars().all(host_char)
    };
    host_ok && port.chars().all(|c| c.is_ascii_digit())
}

/// `host:port` → (`host`, `port`); `[::1]:5432` → (`[::1]`, `5432`); no port → empty.
fn split_host_port(item: &str) -> (&str, &str) {
    if item.starts_with('[') {
        return match item.find(']') {
            Some(end) => {
                let port = item[end + 1..]
                    .strip_prefix(':')
                    .unwrap_or(&item[end + 1..]);
                (&item[..=end], port)
            }
            None => (item, ""),
        };
    }
    item.rsplit_once(':').unwrap_or((item, ""))
}

/// Percent-decoding as libpq and SQLAlchemy read URLs: `%XX` is a byte, anything else is
/// itself.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// libpq's `key=value key='quoted value'` string. A word without `=` or an unclosed quote is
/// an error that quotes nothing: it may be part of a password.
fn parse_conninfo(text: &str, raw: &mut Raw) -> Result<(), String> {
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            return Ok(());
        };
        let mut end = start;
        while let Some((i, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            end = i + c.len_utf8();
        }
        let key = text[start..end].to_string();
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next_if(|(_, c)| *c == '=').is_none() || key.is_empty() {
            return Err(
                "the connection string has a word without `=`: write `key=value` pairs, and quote a value with spaces (`password='a b'`)"
                    .to_string(),
            );
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let value_start = chars.peek().map_or(text.len(), |&(i, _)| i);
        let mut value = String::new();
        let quoted = chars.next_if(|(_, c)| *c == '\'').is_some();
        let mut closed = !quoted;
        while let Some((_, c)) = chars.peek().copied() {
            if !quoted && c.is_whitespace() {
                break;
            }
            chars.next();
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    closed = true;
                    break;
                }
                c => value.push(c),
            }
        }
        let value_end = chars.peek().map_or(text.len(), |&(i, _)| i);
        if key == "password" {
            raw.password(&text[value_start..value_end], value);
            if !closed {
                return Err(unclosed_quote());
            }
            continue;
        }
        if !closed {
            raw.secrets.push(Secret::new(value));
            return Err(unclosed_quote());
        }
        accept(raw, &key, value);
    }
}

fn unclosed_quote() -> String {
    "a quoted value in the connection string has no closing `'`".to_string()
}

/// A parameter other than `password`: kept when libpq's, else dropped for a note.
fn accept(raw: &mut Raw, key: &str, value: String) {
    const KNOWN: &[&str] = &[
        "user",
        "dbname",
        "host",
        "hostaddr",
        "port",
        "sslmode",
        "sslrootcert",
        "sslnegotiation",
        "sslcert",
        "sslkey",
        "sslpassword",
        "sslcertmode",
        "channel_binding",
        "connect_timeout",
        "application_name",
        "options",
        // asyncpg's spelling of sslmode.
        "ssl",
    ];
    if KNOWN.contains(&key) {
        raw.set(key, value);
    } else if IGNORED_LIBPQ.contains(&key) {
        // Harmless for one read-only connection.
    } else if DRIVER_PARAMETERS.contains(&key) {
        raw.dropped.push(format!("`{key}`"));
    } else {
        raw.dropped_unnamed += 1;
    }
}

/// Defaults, the environment and the checks, after the text.
fn build(mut raw: Raw, env: Env) -> Result<DatabaseUrl, String> {
    let mut notes = Vec::new();
    if !raw.dropped.is_empty() || raw.dropped_unnamed > 0 {
        let mut named = raw.dropped.join(", ");
        if raw.dropped_unnamed > 0 {
            if !named.is_empty() {
                named.push_str(" and ");
            }
            named.push_str(&format!(
                "{} other parameter(s) that are not PostgreSQL's",
                raw.dropped_unnamed
            ));
        }
        notes.push(format!(
            "ignored the URL parameter(s) {named}: they belong to a Python driver, not to PostgreSQL"
        ));
    }
    let params = &raw.params;
    for key in ["sslcert", "sslkey", "sslpassword", "sslcertmode"] {
        if params.contains_key(key) {
            return Err(format!(
                "the database URL sets `{key}`: db-diff does not send client certificates; connect as a user that signs in with a password"
            ));
        }
    }
    let user = params
        .get("user")
        .filter(|u| !u.is_empty())
        .cloned()
        .ok_or_else(|| {
            "the database URL names no user: write `postgresql://USER@HOST:PORT/DB`".to_string()
        })?;
    let dbname = params.get("dbname").filter(|d| !d.is_empty()).cloned();

    // Hosts, addresses and ports: lists of one or of the same length, as in libpq.
    let split = |key: &str| -> Vec<String> {
        params
            .get(key)
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    };
    let hosts = split("host");
    let addrs = split("hostaddr");
    let ports = split("port");
    let count = hosts.len().max(addrs.len()).max(1);
    let fits = |list: &[String]| list.len() <= 1 || list.len() == count;
    if !fits(&hosts) || !fits(&addrs) || !fits(&ports) {
        return Err(
            "the database URL lists a different number of hosts, host addresses and ports"
                .to_string(),
        );
    }
    let pick = |list: &[String], i: usize| -> Option<String> {
        match list.len() {
            0 => None,
            1 => list.first().cloned(),
            _ => list.get(i).cloned(),
        }
    };
    let mut targets = Vec::new();
    for i in 0..count {
        let port = match pick(&ports, i).filter(|p| !p.is_empty()) {
            None => 5432,
            Some(port) => port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                "the port in the database URL is not a number from 1 to 65535".to_string()
            })?,
        };
        let hostaddr =
            match pick(&addrs, i).filter(|a| !a.is_empty()) {
                None => None,
                Some(addr) => Some(addr.parse::<IpAddr>().map_err(|_| {
                    "`hostaddr` in the database URL is not an IP address".to_string()
                })?),
            };
        let host = match pick(&hosts, i).filter(|h| !h.is_empty()) {
            Some(host) if host.starts_with('/') => Host::Unix(PathBuf::from(host)),
            Some(host) => Host::Tcp(host.trim_start_matches('[').trim_end_matches(']').into()),
            None => match hostaddr {
                Some(addr) => Host::Tcp(addr.to_string()),
                None => Host::Tcp("localhost".to_string()),
            },
        };
        targets.push(Target {
            host,
            port,
            hostaddr,
            password: None,
        });
    }

    // TLS: the URL, else PGSSLMODE; asyncpg's `ssl=`; libpq's defaults.
    let mut mode_from = "sslmode";
    let mode_text = match (params.get("sslmode"), params.get("ssl")) {
        (Some(mode), _) => Some(mode.clone()),
        (None, Some(ssl)) => {
            mode_from = "ssl";
            Some(
                match ssl.as_str() {
                    "true" | "True" | "1" => "require",
                    "false" | "False" | "0" => "disable",
                    other => other,
                }
                .to_string(),
            )
        }
        (None, None) => env("PGSSLMODE").filter(|v| !v.is_empty()).inspect(|_| {
            mode_from = "PGSSLMODE";
        }),
    };
    let explicit_mode = match &mode_text {
        Some(text) => Some(SslMode::parse(text).ok_or_else(|| {
            format!(
                "`{mode_from}={text}` is not an sslmode: use disable, allow, prefer, require, verify-ca or verify-full"
            )
        })?),
        None => None,
    };
    let home = env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let root_text = params
        .get("sslrootcert")
        .cloned()
        .or_else(|| env("PGSSLROOTCERT"))
        .filter(|v| !v.is_empty());
    let explicit_roots = root_text.map(|text| match text.as_str() {
        "system" => RootCerts::System,
        path => RootCerts::File(PathBuf::from(path)),
    });
    let sslmode = match (explicit_mode, &explicit_roots) {
        (None, Some(RootCerts::System)) => SslMode::VerifyFull,
        (Some(mode), Some(RootCerts::System)) if mode != SslMode::VerifyFull => {
            return Err(format!(
                "weak sslmode `{}` may not be used with sslrootcert=system (as in libpq): use sslmode=verify-full",
                mode.as_str()
            ));
        }
        (Some(mode), _) => mode,
        (None, _) => SslMode::Prefer,
    };
    let default_roots = home
        .as_ref()
        .map(|h| h.join(".postgresql").join("root.crt"))
        .filter(|p| p.is_file())
        .map(RootCerts::File);
    let root_certs = explicit_roots.or(default_roots);
    // libpq: with a root certificate, `require` verifies the chain as `verify-ca` does.
    let sslmode = match (sslmode, &root_certs) {
        (SslMode::Require, Some(_)) => SslMode::VerifyCa,
        (mode, _) => mode,
    };
    let direct_tls = match params.get("sslnegotiation").map(String::as_str) {
        None | Some("postgres") => false,
        Some("direct") if sslmode.requires_tls() => true,
        Some("direct") => {
            return Err(format!(
                "sslnegotiation=direct needs sslmode=require, verify-ca or verify-full (it is `{}`)",
                sslmode.as_str()
            ));
        }
        Some(other) => {
            return Err(format!(
                "`sslnegotiation={other}` is not one of `postgres`, `direct`"
            ));
        }
    };
    let channel_binding = match params.get("channel_binding").map(String::as_str) {
        None | Some("prefer") => ChannelBinding::Prefer,
        Some("disable") => ChannelBinding::Disable,
        Some("require") => ChannelBinding::Require,
        Some(other) => {
            return Err(format!(
                "`channel_binding={other}` is not one of `disable`, `prefer`, `require`"
            ));
        }
    };
    let connect_timeout = match params.get("connect_timeout").filter(|v| !v.is_empty()) {
        None => CONNECT_TIMEOUT,
        Some(text) => match text.trim().parse::<u64>() {
            Ok(0) => CONNECT_TIMEOUT,
            // libpq waits at least 2 s.
            Ok(seconds) => Duration::from_secs(seconds.max(1)),
            Err(_) => {
                return Err(
                    "`connect_timeout` in the database URL is not a whole number of seconds"
                        .to_string(),
                );
            }
        },
    };
    let application_name = params
        .get("application_name")
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| "driftguard db-diff".to_string());
    let options = params.get("options").filter(|v| !v.is_empty()).cloned();

    // The password: the URL's, else PGPASSWORD, else the password file's line per server.
    let password = match raw.password.take() {
        Some(password) => Some(password),
        None => env("PGPASSWORD").filter(|p| !p.is_empty()).map(|p| {
            raw.secrets.push(Secret::new(p.clone()));
            Secret::new(p)
        }),
    };
    match password {
        Some(password) => {
            for target in &mut targets {
                target.password = Some(password.clone());
            }
        }
        None => {
            let file = env("PGPASSFILE")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".pgpass")));
            if let Some(file) = file
                && let Some(text) = read_passfile(&file, &mut notes)
            {
                for target in &mut targets {
                    let name = match &target.host {
                        Host::Tcp(name) => name.clone(),
                        // libpq matches a socket connection with `localhost`.
                        Host::Unix(_) => "localhost".to_string(),
                    };
                    let db = dbname.as_deref().unwrap_or(&user);
                    target.password = passfile_password(&text, &name, target.port, db, &user);
                    if let Some(found) = &target.password {
                        raw.secrets.push(found.clone());
                    }
                }
            }
        }
    }

    let mut secrets = raw.secrets;
    secrets.retain(|s| !s.expose().is_empty());
    // Longest first, so that a password that contains another secret is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
    Ok(DatabaseUrl {
        targets,
        user,
        dbname,
        sslmode,
        root_certs,
        direct_tls,
        channel_binding,
        connect_timeout,
        application_name,
        options,
        notes,
        secrets,
    })
}

/// The password file's text, unless it is missing, not a file, or readable by others (then
/// libpq ignores it, and so does db-diff, with a note).
fn read_passfile(path: &Path, notes: &mut Vec<String>) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            notes.push(format!(
                "ignored the password file {}: others may read it; make it private with `chmod 600 {}`",
                path.display(),
                path.display()
            ));
            return None;
        }
    }
    match std::fs::read(path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => {
            notes.push(format!(
                "cannot read the password file {}: {e}",
                path.display()
            ));
            None
        }
    }
}

/// The password of the first `host:port:database:user:password` line that matches (`*`
/// matches anything; `\:` and `\\` escape), as libpq reads `~/.pgpass`.
fn passfile_password(text: &str, host: &str, port: u16, db: &str, user: &str) -> Option<Secret> {
    let port = port.to_string();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        field.push(escaped);
                    }
                }
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        let [h, p, d, u, password] = fields.as_slice() else {
            continue;
        };
        let fits = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if fits(h, host) && fits(p, &port) && fits(d, db) && fits(u, user) {
            return Some(Secret::new(password.clone()));
        }
    }
    None
}

/// A Unix socket folder in the host part of a URL is percent-encoded.
fn encode_host(host_port: &str) -> String {
    host_port.replace('/', "%2F")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn url(text: &str) -> DatabaseUrl {
        match DatabaseUrl::parse(text, &no_env) {
            Ok(url) => url,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn password(url: &DatabaseUrl) -> Option<&str> {
        url.targets[0].password.as_ref().map(Secret::expose)
    }

    #[test]
    fn every_sqlalchemy_scheme_is_postgresql_without_the_driver() {
        for scheme in [
            "postgresql",
            "postgres",
            "postgresql+asyncpg",
            "postgresql+psycopg2",
            "postgresql+psycopg",
            "POSTGRESQL+ASYNCPG",
        ] {
            let parsed = url(&format!("{scheme}://app:s3cret@db.internal:6543/shop"));
            assert_eq!(parsed.display(), "postgresql://app@db.internal:6543/shop");
            assert_eq!(parsed.host_port(), "db.internal:6543");
            assert_eq!(
                parsed.location_path("shop"),
                "postgresql://db.internal:6543/shop"
            );
            assert_eq!(password(&parsed), Some("s3cret"));
        }
        let err = DatabaseUrl::parse("mysql+pymysql://app:s3cret@h/db", &no_env).unwrap_err();
        assert!(
            err.contains("`mysql+pymysql://` is not a PostgreSQL URL"),
            "{err}"
        );
        assert!(!err.contains("s3cret"));
        let err = DatabaseUrl::parse("app:s3cret at somewhere", &no_env).unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn defaults_hosts_ports_ipv6_and_sockets() {
        let parsed = url("postgresql://app@/shop");
        assert_eq!(parsed.host_port(), "localhost:5432");
        assert_eq!(parsed.connect_timeout, CONNECT_TIMEOUT);
        assert_eq!(parsed.sslmode, SslMode::Prefer);
        let parsed = url("postgresql://app@[::1]:5433/shop?connect_timeout=3");
        assert_eq!(parsed.host_port(), "[::1]:5433");
        assert_eq!(parsed.connect_timeout, Duration::from_secs(3));
        let parsed = url("postgresql://app@%2Fvar%2Frun%2Fpostgresql/shop");
        assert_eq!(parsed.host_port(), "/var/run/postgresql:5432");
        assert_eq!(
            parsed.display(),
            "postgresql://app@%2Fvar%2Frun%2Fpostgresql:5432/shop"
        );
        assert_eq!(
            parsed.targets[0].host,
            Host::Unix(PathBuf::from("/var/run/postgresql"))
        );
        let parsed = url("postgresql://app@a:1,b:2/shop");
        let shown: Vec<String> = parsed.targets.iter().map(Target::host_port).collect();
        assert_eq!(shown, ["a:1", "b:2"]);
        let parsed = url("postgresql://app@/shop?host=db&hostaddr=10.0.0.5&port=7");
        assert_eq!(parsed.host_port(), "db:7");
        assert_eq!(parsed.targets[0].hostaddr, "10.0.0.5".parse().ok());
        assert!(DatabaseUrl::parse("postgresql://u@h:99999/db", &no_env).is_err());
        assert!(DatabaseUrl::parse("postgresql://h/db", &no_env).is_err());
    }

    #[test]
    fn a_password_with_unencoded_special_characters_stays_whole() {
        for secret in [
            "S3cr@t#XYZZY",
            "p@ss/w0rd",
            "a:b:c",
            "x?y=z&w",
            "#hash",
            "@start",
            "end@",
            "a@b/c@d",
            "sp ace",
            "pc%zz%4",
        ] {
            let text = format!("postgresql+asyncpg://app:{secret}@127.0.0.1:55433/shop");
            let parsed = url(&text);
            assert_eq!(password(&parsed), Some(secret), "{text}");
            assert_eq!(parsed.display(), "postgresql://app@127.0.0.1:55433/shop");
            let debug = format!("{parsed:?}");
            assert!(!debug.contains(secret), "{debug}");
        }
        // Azure's `user@server` user names.
        let parsed = url("postgresql://me@srv:pw@srv.example.com/db");
        assert_eq!(parsed.user, "me@srv");
        assert_eq!(password(&parsed), Some("pw"));
    }

    #[test]
    fn an_ambiguous_or_broken_url_is_refused_without_quoting_it() {
        for text in [
            "postgresql://app:pw@h/db?application_name=a@b",
            "postgresql://app:XYZZY@",
            "postgresql://app:XYZZY@ho st/db",
            "postgresql://app:XYZZY",
            "postgresql://app:XY@ZZY@h:port/db",
            "postgresql://app@h:XYZZY/db",
        ] {
            let err = DatabaseUrl::parse(text, &no_env)
                .err()
                .unwrap_or_else(|| String::from("parsed"));
            for piece in ["XYZZY", "XY", "ZZY", "pw"] {
                assert!(!err.contains(piece), "{text}: {err}");
            }
        }
    }

    #[test]
    fn driver_parameters_are_dropped_with_a_note_naming_only_known_ones() {
        let parsed = url(
            "postgresql+asyncpg://app:pw@h/shop?prepared_statement_cache_size=0&application_name=api&ssl=disable&XYZZY=1",
        );
        assert_eq!(
            parsed.notes,
            vec![
                "ignored the URL parameter(s) `prepared_statement_cache_size` and 1 other parameter(s) that are not PostgreSQL's: they belong to a Python driver, not to PostgreSQL"
                    .to_string()
            ]
        );
        assert_eq!(parsed.application_name, "api");
        assert_eq!(parsed.sslmode, SslMode::Disable);
        assert!(url("postgresql://u@h/shop?sslmode=allow").notes.is_empty());
    }

    #[test]
    fn sslmode_from_the_url_asyncpg_the_environment_and_libpq_defaults() {
        let env = |name: &str| match name {
            "PGSSLMODE" => Some("verify-full".to_string()),
            _ => None,
        };
        let mode = |text: &str| url(text).sslmode;
        assert_eq!(mode("postgresql://u@h/d"), SslMode::Prefer);
        assert_eq!(mode("postgresql://u@h/d?sslmode=require"), SslMode::Require);
        assert_eq!(mode("postgresql://u@h/d?ssl=true"), SslMode::Require);
        assert_eq!(mode("postgresql://u@h/d?ssl=verify-ca"), SslMode::VerifyCa);
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/d", &env)
                .map(|u| u.sslmode)
                .ok(),
            Some(SslMode::VerifyFull)
        );
        let system = url("postgresql://u@h/d?sslrootcert=system");
        assert_eq!(system.sslmode, SslMode::VerifyFull);
        assert_eq!(system.root_certs, Some(RootCerts::System));
        let err = DatabaseUrl::parse(
            "postgresql://u@h/d?sslrootcert=system&sslmode=require",
            &no_env,
        )
        .unwrap_err();
        assert!(err.contains("verify-full"), "{err}");
        let file = url("postgresql://u@h/d?sslmode=require&sslrootcert=/ca.pem");
        assert_eq!(file.sslmode, SslMode::VerifyCa);
        assert_eq!(
            file.root_certs,
            Some(RootCerts::File(PathBuf::from("/ca.pem")))
        );
        let err = DatabaseUrl::parse("postgresql://u@h/d?sslmode=sometimes", &no_env).unwrap_err();
        assert!(err.contains("`sslmode=sometimes`"), "{err}");
        let err = DatabaseUrl::parse("postgresql://u@h/d?sslcert=/c.pem", &no_env).unwrap_err();
        assert!(err.contains("client certificates"), "{err}");
        assert!(url("postgresql://u@h/d?sslmode=require&sslnegotiation=direct").direct_tls);
        assert!(DatabaseUrl::parse("postgresql://u@h/d?sslnegotiation=direct", &no_env).is_err());
    }

    #[test]
    fn key_value_strings_follow_libpq_quoting() {
        let parsed = url("host=db.internal port = 6543 user=app dbname=shop");
        assert_eq!(parsed.display(), "postgresql://app@db.internal:6543/shop");
        let parsed = url("host=h user=app password='a b\\'c' dbname=shop sslmode=disable");
        assert_eq!(password(&parsed), Some("a b'c"));
        assert_eq!(parsed.display(), "postgresql://app@h:5432/shop");
        assert_eq!(parsed.scrub("x a b'c y"), "x *** y");
        for text in [
            "host=h user=app password=se cret",
            "host=h user=app password='XYZZY",
            "host=h user=app password=a options='XYZZY",
        ] {
            let err = DatabaseUrl::parse(text, &no_env).unwrap_err();
            assert!(!err.contains("cret") && !err.contains("XYZZY"), "{err}");
        }
    }

    #[test]
    fn the_password_is_scrubbed_as_written_and_as_decoded() {
        let parsed = url("postgresql+psycopg2://app:p%40ss%2Fw0rd@h:5432/shop");
        assert_eq!(parsed.display(), "postgresql://app@h:5432/shop");
        let driver = "FATAL: password authentication failed; sent p@ss/w0rd (p%40ss%2Fw0rd)";
        assert_eq!(
            parsed.scrub(driver),
            "FATAL: password authentication failed; sent *** (***)"
        );
        let parsed = url("host=h user=app password=hunter22 dbname=shop");
        assert_eq!(parsed.scrub("x hunter22 y"), "x *** y");
        assert_eq!(parsed.display(), "postgresql://app@h:5432/shop");
        let parsed = url("postgresql://app@h/shop?password=qu3ry");
        assert_eq!(parsed.scrub("qu3ry"), "***");
        assert_eq!(password(&parsed), Some("qu3ry"));
        assert!(!format!("{parsed:?}").contains("qu3ry"));
    }

    #[test]
    fn pgpassword_and_the_password_file_as_libpq_reads_them() {
        let env = |name: &str| match name {
            "PGPASSWORD" => Some("fr0m-env".to_string()),
            _ => None,
        };
        let parsed = DatabaseUrl::parse("postgresql://app@h/shop", &env).expect("valid");
        assert_eq!(password(&parsed), Some("fr0m-env"));
        assert_eq!(parsed.scrub("fr0m-env"), "***");
        let parsed = DatabaseUrl::parse("postgresql://app:url@h/shop", &env).expect("valid");
        assert_eq!(password(&parsed), Some("url"));

        let text = "# comment\nother:*:*:*:nope\nh:5432:shop:app:pa\\:ss\\\\1\n*:*:*:*:fallback\n";
        assert_eq!(
            passfile_password(text, "h", 5432, "shop", "app").map(|s| s.expose().to_string()),
            Some("pa:ss\\1".to_string())
        );
        assert_eq!(
            passfile_password(text, "x", 1, "d", "u").map(|s| s.expose().to_string()),
            Some("fallback".to_string())
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "h:*:*:app:fr0m-file\n").expect("write");
        let env = |name: &str| match name {
            "PGPASSFILE" => Some(file.display().to_string()),
            _ => None,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let parsed = DatabaseUrl::parse("postgresql://app@h/shop", &env).expect("valid");
            assert_eq!(password(&parsed), None);
            assert!(parsed.notes[0].contains("chmod 600"), "{:?}", parsed.notes);
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let parsed = DatabaseUrl::parse("postgresql://app@h/shop", &env).expect("valid");
        assert_eq!(password(&parsed), Some("fr0m-file"));
        assert_eq!(parsed.scrub("fr0m-file"), "***");
    }
}
