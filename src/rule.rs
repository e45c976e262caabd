//! Which rules exist: the [`Rule`] enum (code, kebab-case name, default severity, whether the
//! config may change it) and [`Severity`].
//!
//! A leaf: it imports nothing of the crate, so that [`crate::finding`], [`crate::config`] and
//! the renderers can name a rule without depending on the checks. What a rule finds and why
//! (its summary and explanation) lives in the rule's own file under [`crate::rules`], as its
//! `META`; `Rule::summary` and `Rule::explanation` are defined there, beside the one list that
//! maps a rule to its `META`.
//!
//! Codes are forever: `DG001` means "column without migration" in every version. A new rule
//! gets a new variant at the end of [`Rule`] and [`Rule::ALL`], and one row in [`Rule::row`].

use serde::Serialize;

/// How bad a finding is. Ordered: `Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A family of rules that `rules:` in the config can set at once (`rules: {handbook:
/// warning}`); a per-code setting wins over its group's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleGroup {
    /// DG201–DG2xx: the handbook's migration file standards. Off by default.
    Handbook,
}

impl RuleGroup {
    pub const ALL: &'static [RuleGroup] = &[RuleGroup::Handbook];

    /// The name the config uses.
    pub fn name(self) -> &'static str {
        match self {
            RuleGroup::Handbook => "handbook",
        }
    }

    pub fn from_name(text: &str) -> Option<RuleGroup> {
        RuleGroup::ALL.iter().copied().find(|g| g.name() == text)
    }
}

/// Every rule driftguard has. Add new ones at the end with a new code; never reuse a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    ColumnWithoutMigration,
    TableWithoutMigration,
    EnumValueWithoutMigration,
    EnumTypeWithoutMigration,
    ColumnTypeMismatch,
    NullabilityMismatch,
    ForeignKeyTargetMissing,
    UnusedSuppression,
    ColumnMissingInDatabase,
    TableMissingInDatabase,
    EnumValueMissingInDatabase,
    EnumTypeMissingInDatabase,
    AlembicMultipleHeads,
    NonstandardMigrationName,
    MigrationHeaderMissing,
    DdlOutsideTransaction,
    NonIdempotentDdl,
    RollbackScriptMissing,
    ColumnCommentMissing,
    DuplicateMigration,
    MigrationOrderAmbiguous,
    MigrationWillFail,
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Rule::from_code_or_name(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown rule `{code}`")))
    }
}

/// Whether `driftguard.yml` may turn a rule off or change its severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Config {
    /// The core rules: ignored per table or line, never off.
    Fixed,
    Configurable,
}

/// A rule's identity: what [`Rule::row`] says about it.
struct Row {
    code: &'static str,
    name: &'static str,
    severity: Severity,
    config: Config,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::ColumnWithoutMigration,
        Rule::TableWithoutMigration,
        Rule::EnumValueWithoutMigration,
        Rule::EnumTypeWithoutMigration,
        Rule::ColumnTypeMismatch,
        Rule::NullabilityMismatch,
        Rule::ForeignKeyTargetMissing,
        Rule::MigrationWillFail,
        Rule::AlembicMultipleHeads,
        Rule::UnusedSuppression,
        Rule::ColumnMissingInDatabase,
        Rule::TableMissingInDatabase,
        Rule::EnumValueMissingInDatabase,
        Rule::EnumTypeMissingInDatabase,
        Rule::NonstandardMigrationName,
        Rule::MigrationHeaderMissing,
        Rule::DdlOutsideTransaction,
        Rule::NonIdempotentDdl,
        Rule::RollbackScriptMissing,
        Rule::ColumnCommentMissing,
        Rule::DuplicateMigration,
        Rule::MigrationOrderAmbiguous,
    ];

    /// The one table of codes, names and severities.
    fn row(self) -> Row {
        use Config::{Configurable, Fixed};
        use Severity::{Error, Warning};
        let (code, name, severity, config) = match self {
            Rule::ColumnWithoutMigration => ("DG001", "column-without-migration", Error, Fixed),
            Rule::TableWithoutMigration => ("DG002", "table-without-migration", Error, Fixed),
            Rule::EnumValueWithoutMigration => {
                ("DG003", "enum-value-without-migration", Error, Configurable)
            }
            Rule::EnumTypeWithoutMigration => {
                ("DG004", "enum-type-without-migration", Error, Configurable)
            }
            Rule::ColumnTypeMismatch => ("DG005", "column-type-mismatch", Warning, Configurable),
            Rule::NullabilityMismatch => ("DG006", "nullability-mismatch", Warning, Configurable),
            Rule::ForeignKeyTargetMissing => {
                ("DG007", "foreign-key-target-missing", Error, Configurable)
            }
            Rule::MigrationWillFail => ("DG008", "migration-will-fail", Error, Configurable),
            Rule::AlembicMultipleHeads => ("DG009", "alembic-multiple-heads", Error, Configurable),
            Rule::NonstandardMigrationName => {
                ("DG201", "nonstandard-migration-name", Warning, Configurable)
            }
            Rule::MigrationHeaderMissing => {
                ("DG202", "migration-header-missing", Warning, Configurable)
            }
            Rule::DdlOutsideTransaction => {
                ("DG203", "ddl-outside-transaction", Warning, Configurable)
            }
            Rule::NonIdempotentDdl => ("DG204", "non-idempotent-ddl", Warning, Configurable),
            Rule::RollbackScriptMissing => {
                ("DG205", "rollback-script-missing", Warning, Configurable)
            }
            Rule::ColumnCommentMissing => {
                ("DG206", "column-comment-missing", Warning, Configurable)
            }
            Rule::DuplicateMigration => ("DG207", "duplicate-migration", Warning, Configurable),
            Rule::MigrationOrderAmbiguous => {
                ("DG208", "migration-order-ambiguous", Warning, Configurable)
            }
            Rule::UnusedSuppression => ("DG100", "unused-suppression", Warning, Configurable),
            Rule::ColumnMissingInDatabase => ("DG101", "column-missing-in-database", Error, Fixed),
            Rule::TableMissingInDatabase => ("DG102", "table-missing-in-database", Error, Fixed),
            Rule::EnumValueMissingInDatabase => (
                "DG103",
                "enum-value-missing-in-database",
                Error,
                Configurable,
            ),
            Rule::EnumTypeMissingInDatabase => (
                "DG104",
                "enum-type-missing-in-database",
                Error,
                Configurable,
            ),
        };
        Row {
            code,
            name,
            severity,
            config,
        }
    }

    pub fn code(self) -> &'static str {
        self.row().code
    }

    /// The kebab-case name, after the defect.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    pub fn default_severity(self) -> Severity {
        self.row().severity
    }

    /// Whether `driftguard.yml` may turn the rule off or change its severity. The core rules
    /// (a missing column or table, in the migrations or in the database) are what driftguard
    /// exists for: they can be ignored per table or line, not off.
    pub fn configurable(self) -> bool {
        self.row().config == Config::Configurable
    }

    /// The group the rule belongs to, if any.
    pub fn group(self) -> Option<RuleGroup> {
        self.code()
            .starts_with("DG2")
            .then_some(RuleGroup::Handbook)
    }

    /// Whether the rule runs without the config turning it on: every rule but the handbook
    /// group's.
    pub fn enabled_by_default(self) -> bool {
        self.group() != Some(RuleGroup::Handbook)
    }

    pub fn from_code_or_name(text: &str) -> Option<Rule> {
        Rule::ALL
            .iter()
            .copied()
            .find(|r| r.code().eq_ignore_ascii_case(text) || r.name() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique() {
        let codes: HashSet<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
        let names: HashSet<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(codes.len(), Rule::ALL.len());
        assert_eq!(names.len(), Rule::ALL.len());
    }

    #[test]
    fn all_lists_every_rule_once_in_code_order() {
        let mut sorted = Rule::ALL.to_vec();
        sorted.sort_by_key(|r| r.code());
        sorted.dedup();
        assert_eq!(sorted, Rule::ALL);
    }

    #[test]
    fn codes_and_names_read_back() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_code_or_name(rule.code()), Some(*rule));
            assert_eq!(
                Rule::from_code_or_name(&rule.code().to_lowercase()),
                Some(*rule)
            );
            assert_eq!(Rule::from_code_or_name(rule.name()), Some(*rule));
        }
        assert_eq!(Rule::from_code_or_name("DG999"), None);
    }

    #[test]
    fn rule_list_snapshot() {
        let list: Vec<String> = Rule::ALL
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r.code(),
                    r.name(),
                    r.default_severity().as_str()
                )
            })
            .collect();
        insta::assert_snapshot!(list.join("\n"));
    }
}
