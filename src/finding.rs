//! Findings and warnings: plain data that checks produce and renderers read.
//!
//! A [`Finding`] is a rule violation tied to a model line; a [`Warning`] is something driftguard
//! could not read (a syntax error, a non-UTF-8 file, a statement it did not understand). Neither
//! knows any output format.

use serde::Serialize;

use crate::rule::{Rule, Severity};
use crate::source::Location;

/// Something driftguard could not read. Warnings never change the exit code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
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

/// What a finding is about: a table, a column, an enum value, a foreign key's target.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct Target {
    pub schema: String,
    pub table: String,
    /// `None` for a table-level finding.
    pub column: Option<String>,
    /// The enum type, for enum findings (`core.booking_status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#enum: Option<String>,
    /// The enum value, for DG003.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The column a foreign key points at, for DG007 (`core.customers.id`). `ignore:` patterns
    /// match it too, so that a table created outside the migrations (`auth.users`) can be
    /// named once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
}

impl Target {
    /// A table: DG002, DG102.
    pub fn table(schema: impl Into<String>, table: impl Into<String>) -> Target {
        Target {
            schema: schema.into(),
            table: table.into(),
            ..Target::default()
        }
    }

    /// A column: DG001, DG005, DG006, DG101.
    pub fn column(
        schema: impl Into<String>,
        table: impl Into<String>,
        column: impl Into<String>,
    ) -> Target {
        Target {
            column: Some(column.into()),
            ..Target::table(schema, table)
        }
    }

    /// The column's enum type, qualified (`core.booking_status`): DG004, DG104.
    pub fn with_enum(self, qualified: impl Into<String>) -> Target {
        Target {
            r#enum: Some(qualified.into()),
            ..self
        }
    }

    /// One value of the column's enum type: DG003, DG103.
    pub fn with_enum_value(self, qualified: impl Into<String>, value: impl Into<String>) -> Target {
        Target {
            value: Some(value.into()),
            ..self.with_enum(qualified)
        }
    }

    /// The column a foreign key points at (`core.customers.id`): DG007.
    pub fn with_references(self, reference: impl Into<String>) -> Target {
        Target {
            references: Some(reference.into()),
            ..self
        }
    }

    /// `(schema, table, column)` of [`Target::references`].
    pub fn referenced(&self) -> Option<(&str, &str, &str)> {
        let (rest, column) = self.references.as_deref()?.rsplit_once('.')?;
        let (schema, table) = rest.rsplit_once('.')?;
        Some((schema, table, column))
    }
}

/// A secondary place that explains a finding: "`core.customers` is created here".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Related {
    pub message: String,
    pub location: Location,
}

/// A rule violation, tied to a model line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// What is wrong and what breaks.
    pub message: String,
    /// What to do, in one imperative sentence.
    pub help: String,
    /// SQL that would close the gap; shown, never applied.
    pub suggestion: Option<String>,
    pub location: Location,
    pub target: Target,
    pub related: Vec<Related>,
}

impl Finding {
    /// A finding at the rule's default severity (the config may change it later), with no
    /// suggestion and no related location yet.
    pub fn new(
        rule: Rule,
        location: Location,
        target: Target,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            severity: rule.default_severity(),
            message: message.into(),
            help: help.into(),
            suggestion: None,
            location,
            target,
            related: Vec::new(),
        }
    }

    /// With SQL that would close the gap.
    pub fn with_suggestion(self, sql: impl Into<String>) -> Finding {
        Finding {
            suggestion: Some(sql.into()),
            ..self
        }
    }

    /// With secondary locations that explain it.
    pub fn with_related(self, related: Vec<Related>) -> Finding {
        Finding { related, ..self }
    }

    /// The identity of a finding across two snapshots: rule and target, never the line, so that
    /// moving code does not make an old finding look new.
    pub fn key(&self) -> (Rule, &Target) {
        (self.rule, &self.target)
    }
}
