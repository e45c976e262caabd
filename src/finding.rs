//! Findings and warnings: plain data that checks produce and renderers read.
//!
//! A [`Finding`] is a rule violation tied to a model line; a [`Warning`] is something driftguard
//! could not read (a syntax error, a non-UTF-8 file, a statement it did not understand). Neither
//! knows any output format.

use serde::Serialize;

use crate::source::Location;

/// Something driftguard could not read. Warnings never change the exit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub message: String,
    pub location: Option<Location>,
}

impl Warning {
    pub fn at(location: Location, message: impl Into<String>) -> Self {
        Warning {
            message: message.into(),
            location: Some(location),
        }
    }

    pub fn global(message: impl Into<String>) -> Self {
        Warning {
            message: message.into(),
            location: None,
        }
    }
}
