//! Baselines: accept today's findings so a legacy project fails only on new gaps.
//!
//! `check --write-baseline FILE` records every current finding by rule and target (never by
//! line, so moving code keeps it accepted); `check --baseline FILE` drops findings listed there.
//! The file is versioned JSON meant to be committed and reviewed.

use crate::error::Error;
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Target};

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Entry {
    rule: String,
    target: Target,
}

/// Accepted findings.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: std::collections::BTreeSet<Entry>,
}

impl Baseline {
    /// Parses a baseline file's text; the error says what is wrong.
    pub fn parse(name: &str, text: &str) -> Result<Baseline, Error> {
        let file: BaselineFile = serde_json::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "{name}:{}:{}: not a driftguard baseline: {e}; write one with `driftguard check --write-baseline {name}`",
                e.line(),
                e.column()
            ))
        })?;
        if file.version != 1 {
            return Err(Error::Usage(format!(
                "{name}: baseline version {} is not supported by this driftguard (expected 1)",
                file.version
            )));
        }
        Ok(Baseline {
            entries: file.findings.into_iter().collect(),
        })
    }

    pub fn contains(&self, finding: &Finding) -> bool {
        self.entries.contains(&Entry {
            rule: finding.rule.code().to_string(),
            target: finding.target.clone(),
        })
    }

    /// The baseline file text for these findings.
    pub fn render(findings: &[Finding]) -> String {
        let mut entries: Vec<Entry> = findings
            .iter()
            .map(|f| Entry {
                rule: f.rule.code().to_string(),
                target: f.target.clone(),
            })
            .collect();
        entries.sort();
        entries.dedup();
        let file = BaselineFile {
            version: 1,
            findings: entries,
        };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Rule;
    use crate::source::Location;

    fn finding(column: &str, line: u32) -> Finding {
        Finding::new(
            Rule::ColumnWithoutMigration,
            Location::new("m.py", line, 5),
            Target::column("core", "customers", column),
            "",
            "",
        )
    }

    #[test]
    fn a_written_baseline_accepts_the_same_findings_on_other_lines() {
        let text = Baseline::render(&[finding("a", 3)]);
        let baseline = Baseline::parse("b.json", &text).expect("valid");
        assert!(baseline.contains(&finding("a", 40)));
        assert!(!baseline.contains(&finding("b", 3)));
    }

    #[test]
    fn a_broken_baseline_says_where() {
        let err = Baseline::parse("b.json", "{\n  \"version\": 1,\n  \"findings\": [x]\n}")
            .expect_err("invalid");
        assert!(err.to_string().starts_with("b.json:3:"), "{err}");
        let err = Baseline::parse("b.json", "{\"version\": 2, \"findings\": []}").expect_err("v2");
        assert!(err.to_string().contains("version 2"), "{err}");
    }
}
