//! DG201 `nonstandard-migration-name` (handbook group, off by default).

use super::RuleMeta;
use crate::config::Config;
use crate::finding::Finding;
use crate::migrations::sources::SqlMigration;
use crate::rule::Rule;
use crate::source::Location;

pub const META: RuleMeta = RuleMeta {
    rule: Rule::NonstandardMigrationName,
    summary: "A SQL migration's file name does not follow the naming convention.",
    explanation: r#"## What it does
Checks the file name of every SQL migration against the handbook's convention,
`[YYYYMMDDHHMMSS]_[description].sql` (a 14-digit timestamp, then lower-case words joined by
`_`), or against the project's own pattern: `handbook: {file_name: REGEX}` in `driftguard.yml`
(matched against the file name, not the path). Part of the handbook group: on with
`rules: {handbook: warning}`.

## Why is this bad?
SQL migrations run in the natural order of their file names. A name without the timestamp
(`BATCH_1_COMBINED_MIGRATION.sql`, `fix_customers.sql`) sorts by its letters, so it runs before
or after the others by accident, and two people who pick the same number collide.

## Example
```text
database/migrations/add_contact_preference.sql
```

## How to fix
Rename the file before it runs anywhere: `20251126220831_add_contact_preference.sql`
(`date +%Y%m%d%H%M%S` gives the prefix). `driftguard fix` names its files by the folder's own
convention. If the project names files another way on purpose, set `handbook: {file_name:
'^[0-9]{3}_[a-z0-9_]+\.sql$'}`.
"#,
};

/// The handbook's `[YYYYMMDDHHMMSS]_[description].sql`.
pub const DEFAULT_PATTERN: &str = r"^[0-9]{14}_[a-z0-9]+(_[a-z0-9]+)*\.sql$";

pub fn check(files: &[&SqlMigration], config: &Config) -> Vec<Finding> {
    let default = regex::Regex::new(DEFAULT_PATTERN).ok();
    let (pattern, described) = match &config.handbook.file_name {
        Some(custom) => (
            Some(custom),
            format!("the project's pattern `{}`", custom.as_str()),
        ),
        None => (
            default.as_ref(),
            "`[YYYYMMDDHHMMSS]_[description].sql`".to_string(),
        ),
    };
    let Some(pattern) = pattern else {
        return Vec::new();
    };
    files
        .iter()
        .filter(|f| !pattern.is_match(super::file_name(f.path)))
        .map(|f| {
            let name = super::file_name(f.path);
            Finding::new(
                Rule::NonstandardMigrationName,
                Location::new(f.path, 1, 1),
                super::file_target(f.path),
                format!(
                    "the migration file name `{name}` does not follow {described}: its place in the run order is an accident of its letters"
                ),
                format!(
                    "Rename the file before it runs anywhere, e.g. `YYYYMMDDHHMMSS_{}.sql`.",
                    description(name)
                ),
            )
        })
        .collect()
}

/// The description part of a file name, as the convention spells it: `001_Initial-Schema.sql`
/// → `initial_schema`.
fn description(name: &str) -> String {
    let stem = name.strip_suffix(".sql").unwrap_or(name);
    let words: Vec<String> = stem
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '_' || c == '-')
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        "description".to_string()
    } else {
        words.join("_")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::MigrationEvents;
    use crate::rules::test_support::render_human;

    fn names(paths: &[&str], config: &Config) -> Vec<String> {
        let events = MigrationEvents::default();
        let files: Vec<SqlMigration> = paths
            .iter()
            .map(|path| SqlMigration {
                path,
                source: None,
                events: &events,
            })
            .collect();
        let refs: Vec<&SqlMigration> = files.iter().collect();
        check(&refs, config)
            .into_iter()
            .map(|f| f.location.path.to_string())
            .collect()
    }

    #[test]
    fn the_handbook_pattern_and_a_project_pattern() {
        let paths = [
            "db/migrations/20251126220831_add_travel_fee_configurations.sql",
            "db/migrations/002_smart_scheduling_phase1.sql",
            "db/migrations/BATCH_1_COMBINED_MIGRATION.sql",
            "db/migrations/20251126220831_Add-Fees.sql",
        ];
        assert_eq!(
            names(&paths, &Config::default()),
            vec![
                "db/migrations/002_smart_scheduling_phase1.sql",
                "db/migrations/BATCH_1_COMBINED_MIGRATION.sql",
                "db/migrations/20251126220831_Add-Fees.sql",
            ]
        );
        let mut config = Config::default();
        config.handbook.file_name = regex::Regex::new(r"^[0-9]{3}_[a-z0-9_]+\.sql$").ok();
        assert_eq!(
            names(&paths, &config),
            vec![
                "db/migrations/20251126220831_add_travel_fee_configurations.sql",
                "db/migrations/BATCH_1_COMBINED_MIGRATION.sql",
                "db/migrations/20251126220831_Add-Fees.sql",
            ]
        );
    }

    #[test]
    fn the_help_keeps_the_description() {
        assert_eq!(description("001_Initial-Schema.sql"), "initial_schema");
        assert_eq!(
            description("BATCH_1_COMBINED_MIGRATION.sql"),
            "batch_1_combined_migration"
        );
        assert_eq!(description("0001.sql"), "description");
    }

    #[test]
    fn human_rendering() {
        let events = MigrationEvents::default();
        let file = SqlMigration {
            path: "database/migrations/fix_customers.sql",
            source: None,
            events: &events,
        };
        let findings = check(&[&file], &Config::default());
        insta::assert_snapshot!(render_human(
            findings,
            &[(
                "database/migrations/fix_customers.sql",
                "ALTER TABLE core.customers ADD COLUMN IF NOT EXISTS x int;\n"
            )]
        ));
    }
}
