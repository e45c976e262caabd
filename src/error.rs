//! The one error of driftguard: "could not run" (exit 2).
//!
//! Problems in the user's files are findings or warnings, never an [`Error`]. An `Error` means
//! driftguard could not do its job at all — a missing ref, a shallow clone, a bad config, an
//! unreachable database — and its message says what to do about it. Each stage returns its own
//! variant; `lib.rs` prints any of them the same way (`error: …`), plus the labelled span of
//! the file for a config error.

use std::path::Path;

/// A span of a config file, for a labelled snippet under the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSpan {
    /// The file's name as shown (`driftguard.yml`, `pyproject.toml`).
    pub name: String,
    /// The file's whole text.
    pub text: String,
    /// Byte range of what is wrong.
    pub start: usize,
    pub len: usize,
}

/// A config that could not be used: the message names the file and, where known, the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
    /// Where in the file, when known.
    pub span: Option<Box<ConfigSpan>>,
}

impl ConfigError {
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
            span: None,
        }
    }
}

/// Could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository cannot give what the mode needs (a missing ref, a shallow clone, …).
    #[error("{0}")]
    Git(String),
    /// The config file is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database of `db-diff` cannot be reached or read.
    #[error("{0}")]
    Database(String),
    /// A file driftguard must read or write (a baseline, a hook) cannot be.
    #[error("{message}")]
    Io {
        message: String,
        #[source]
        source: std::io::Error,
    },
    /// An entry of driftguard's own cache did not read back (the folder is deleted, and the
    /// next run builds it again).
    #[error("{0}")]
    Cache(String),
    /// The command line asks for something that cannot be done (not a directory, an unknown
    /// rule, a bad baseline, …).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// An I/O failure on `path`: ``{what} `{path}`: {source}``.
    pub fn io(what: &str, path: &Path, source: std::io::Error) -> Error {
        Error::io_at(format!("{what} `{}`", path.display()), source)
    }

    /// An I/O failure: `{context}: {source}`.
    pub fn io_at(context: impl std::fmt::Display, source: std::io::Error) -> Error {
        Error::Io {
            message: format!("{context}: {source}"),
            source,
        }
    }

    /// The message as the user sees it, after `error: `.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
