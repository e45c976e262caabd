//! A secret that cannot be printed by accident.
//!
//! [`Secret`] wraps text such as a database URL with its password. Its `Debug` and `Display`
//! show a fixed placeholder, so a `{:?}` of a struct that holds one, a clap error or a log line
//! never carries the secret; the one way to the text is [`Secret::expose`], which names the
//! intent at the call site. What may be shown of a URL (host, port, database, user) is derived
//! by the code that parses it, never by printing the whole.

use std::fmt;

/// Text that must never reach output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The secret text, for the one place that needs it (a connection).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Secret, Self::Err> {
        Ok(Secret::new(text))
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Secret {
        Secret(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_text() {
        let secret = Secret::new("postgresql://app:S3cr3t@db/shop");
        let shown = format!("{secret:?} {secret} {:?}", Some(&secret));
        assert!(!shown.contains("S3cr3t"), "{shown}");
        assert_eq!(secret.expose(), "postgresql://app:S3cr3t@db/shop");
    }
}
