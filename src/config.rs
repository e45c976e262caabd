//! The optional configuration: found, parsed and validated into [`Config`].
//!
//! One schema for `driftguard.yml`/`.yaml`, `.driftguard.yml`/`.yaml` and `[tool.driftguard]`
//! in `pyproject.toml`. `--config FILE` wins; otherwise the first of the YAML names present at
//! the root, else `pyproject.toml` if it has the table. A second config file present is named
//! in a warning. Unknown keys and bad values are a [`ConfigError`] (exit 2) that names the file
//! and line. Nothing here decides what to do with the values: that is the caller's job.

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::error::{ConfigError, ConfigSpan};
use crate::finding::Warning;
use crate::rule::{Rule, RuleGroup, Severity};

/// The config file names looked for at the root, in order.
pub const CONFIG_NAMES: &[&str] = &[
    "driftguard.yml",
    "driftguard.yaml",
    ".driftguard.yml",
    ".driftguard.yaml",
];

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    models: Option<Vec<String>>,
    migrations: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    external: Option<Vec<String>>,
    default_schema: Option<String>,
    python_roots: Option<Vec<String>>,
    sources: Option<Vec<RawSource>>,
    rules: Option<BTreeMap<String, String>>,
    fail_on: Option<String>,
    fix: Option<RawFix>,
    postgres_version: Option<u32>,
    handbook: Option<RawHandbook>,
}

/// `fix: {kind: sql|alembic, folder: PATH}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFix {
    kind: Option<String>,
    folder: Option<String>,
}

/// `handbook: {file_name: REGEX}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHandbook {
    file_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: String,
    kind: String,
    default_schema: Option<String>,
    models: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Debug, Deserialize)]
struct PyProjectTool {
    driftguard: Option<toml::Value>,
}

/// A list of path globs, kept with its patterns for messages.
#[derive(Debug, Clone)]
pub struct Globs {
    pub patterns: Vec<String>,
    set: GlobSet,
}

impl Globs {
    pub fn is_match(&self, path: &str) -> bool {
        self.set.is_match(path)
    }

    /// The patterns that match none of `paths`.
    pub fn unmatched<'p>(&self, paths: impl IntoIterator<Item = &'p str>) -> Vec<&str> {
        let mut matched = vec![false; self.patterns.len()];
        for path in paths {
            for i in self.set.matches(path) {
                matched[i] = true;
            }
        }
        self.patterns
            .iter()
            .zip(matched)
            .filter(|(_, m)| !m)
            .map(|(p, _)| p.as_str())
            .collect()
    }

    pub(crate) fn new(patterns: Vec<String>) -> Result<Self, (String, String)> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &patterns {
            let glob = Glob::new(pattern).map_err(|e| (pattern.clone(), e.kind().to_string()))?;
            builder.add(glob);
        }
        let set = builder
            .build()
            .map_err(|e| (patterns.join(", "), e.to_string()))?;
        Ok(Globs { patterns, set })
    }
}

/// What kind of migrations a declared source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Sql,
    Alembic,
}

/// A migration source declared in the config.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// A folder, relative to the root, without a trailing slash.
    pub path: String,
    pub kind: SourceKind,
    pub default_schema: Option<String>,
    /// Model files whose tables this source serves; `None`: all.
    pub models: Option<Globs>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, relative to the root (`None`: no config, all defaults).
    pub file: Option<String>,
    /// A hash of the file's name and text (empty without a file): part of every cache key, so
    /// that nothing computed under one config is reused under another.
    pub fingerprint: String,
    pub models: Option<Globs>,
    pub migrations: Option<Globs>,
    pub exclude: Option<Globs>,
    pub ignore: Ignore,
    /// Tables made outside the migrations on purpose (`external:`).
    pub external: ExternalTables,
    pub default_schema: String,
    pub python_roots: Vec<String>,
    pub sources: Vec<SourceConfig>,
    pub rules: BTreeMap<Rule, Option<Severity>>,
    /// Rule groups turned on or off as a whole (`rules: {handbook: warning}`); a per-code
    /// setting in `rules` wins.
    pub groups: BTreeMap<RuleGroup, Option<Severity>>,
    pub fail_on: Option<Severity>,
    /// Where `driftguard fix` writes (`fix:`).
    pub fix: FixConfig,
    /// The PostgreSQL major version the migrations run on (`postgres_version`, default 13:
    /// the handbook's production).
    pub postgres_version: u32,
    /// The handbook rules' settings (`handbook:`).
    pub handbook: HandbookConfig,
}

/// `fix: {kind, folder}`: which kind of migration `driftguard fix` writes, and where.
#[derive(Debug, Clone, Default)]
pub struct FixConfig {
    pub kind: Option<SourceKind>,
    /// A folder relative to the root, without a trailing slash.
    pub folder: Option<String>,
}

/// `handbook: {file_name}`: the project's own migration file-name pattern.
#[derive(Debug, Clone, Default)]
pub struct HandbookConfig {
    pub file_name: Option<regex::Regex>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: None,
            fingerprint: String::new(),
            models: None,
            migrations: None,
            exclude: None,
            ignore: Ignore::default(),
            external: ExternalTables::default(),
            default_schema: "public".to_string(),
            python_roots: Vec::new(),
            sources: Vec::new(),
            rules: BTreeMap::new(),
            groups: BTreeMap::new(),
            fail_on: None,
            fix: FixConfig::default(),
            postgres_version: DEFAULT_POSTGRES_VERSION,
            handbook: HandbookConfig::default(),
        }
    }
}

/// The PostgreSQL major version assumed without `postgres_version`: the handbook's production.
pub const DEFAULT_POSTGRES_VERSION: u32 = 13;

impl Config {
    fn with_fingerprint(mut self, name: &str, text: &str) -> Config {
        self.fingerprint = crate::cache::key([name.as_bytes(), text.as_bytes()]);
        self
    }

    /// The severity a rule has under this config: `None` when it is turned off. A per-code
    /// setting wins over its group's (`rules: {handbook: warning}`); a rule that is off by
    /// default (the handbook group) is off unless one of them turns it on.
    pub fn severity(&self, rule: Rule) -> Option<Severity> {
        if let Some(setting) = self.rules.get(&rule) {
            return *setting;
        }
        if let Some(setting) = rule.group().and_then(|g| self.groups.get(&g)) {
            return *setting;
        }
        rule.enabled_by_default().then(|| rule.default_severity())
    }

    /// Whether a `schema.table[.column]` is ignored by an `ignore:` pattern.
    pub fn is_ignored(&self, schema: &str, table: &str, column: Option<&str>) -> bool {
        self.ignore.matches(schema, table, column)
    }
}

/// The `external:` patterns (`auth.users`, `legacy.*`): tables made outside the migrations on
/// purpose — by `metadata.create_all()`, another tool, the platform. A model table they match
/// gets no table finding; a column a change adds to it still needs a migration.
#[derive(Debug, Clone, Default)]
pub struct ExternalTables {
    patterns: Ignore,
}

impl ExternalTables {
    pub fn matches(&self, schema: &str, table: &str) -> bool {
        self.patterns.matches(schema, table, None)
    }
}

/// The `ignore:` patterns — `core.legacy_*` (tables), `ops.audit_log.raw_*` (columns) —
/// compiled into glob sets, so that a check costs a few set lookups however many patterns
/// there are (measured: 200,000 patterns took 7.4 s and 1.5 GB as one matcher each).
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    /// The patterns as written, for messages.
    pub patterns: Vec<String>,
    /// `schema.table` patterns.
    tables: GlobSet,
    /// The `schema.table` part of each `schema.table.column` pattern …
    column_tables: GlobSet,
    /// … and its `column` part, at the same index.
    columns: GlobSet,
}

impl Ignore {
    fn new(patterns: Vec<String>) -> Result<Ignore, (String, String)> {
        let mut tables = GlobSetBuilder::new();
        let mut column_tables = GlobSetBuilder::new();
        let mut columns = GlobSetBuilder::new();
        let compile = |pattern: &str, text: &str| {
            Glob::new(text).map_err(|e| (pattern.to_string(), e.kind().to_string()))
        };
        for pattern in &patterns {
            match pattern.split('.').collect::<Vec<_>>().as_slice() {
                [schema, table] => {
                    tables.add(compile(pattern, &format!("{schema}.{table}"))?);
                }
                [schema, table, column] => {
                    column_tables.add(compile(pattern, &format!("{schema}.{table}"))?);
                    columns.add(compile(pattern, column)?);
                }
                _ => {
                    return Err((
                        pattern.clone(),
                        "expected `schema.table` or `schema.table.column`".to_string(),
                    ));
                }
            }
        }
        let build = |builder: GlobSetBuilder| {
            builder.build().map_err(|e| {
                (
                    "ignore".to_string(),
                    format!("the patterns cannot be compiled together: {e}"),
                )
            })
        };
        Ok(Ignore {
            tables: build(tables)?,
            column_tables: build(column_tables)?,
            columns: build(columns)?,
            patterns,
        })
    }

    /// Whether `schema.table` (with `column`, for a column) matches a pattern: a table pattern
    /// covers the table's columns too.
    pub fn matches(&self, schema: &str, table: &str, column: Option<&str>) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let qualified = format!("{schema}.{table}");
        if self.tables.is_match(&qualified) {
            return true;
        }
        let Some(column) = column else {
            return false;
        };
        let by_table = self.column_tables.matches(&qualified);
        if by_table.is_empty() {
            return false;
        }
        let by_column = self.columns.matches(column);
        by_table.iter().any(|i| by_column.contains(i))
    }
}

/// A config error pointing at `start..start + len` of the file's text.
fn located(name: &str, text: &str, message: String, start: usize, len: usize) -> ConfigError {
    let start = start.min(text.len());
    ConfigError {
        message,
        span: Some(Box::new(ConfigSpan {
            name: name.to_string(),
            text: text.to_string(),
            start,
            len: len.min(text.len() - start),
        })),
    }
}

/// The byte offset of a 1-based line and column (in characters) of `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[line_start.min(text.len())..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

/// The byte range of line `line` (1-based) without its indentation and ending.
fn line_range(text: &str, line: usize) -> (usize, usize) {
    let start = offset_of(text, line, 1);
    let rest = &text[start..];
    let line_text = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
    let indent = line_text.len() - line_text.trim_start().len();
    (start + indent, line_text.trim().len())
}

/// Finds the config among the files at the root. `read` returns a root file's text, if it
/// exists. `explicit` is `--config FILE` (its text and its name).
pub fn load(
    explicit: Option<(&str, &str)>,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<(Config, Vec<Warning>), ConfigError> {
    let mut warnings = Vec::new();
    if let Some((name, text)) = explicit {
        let config = if name.ends_with(".toml") {
            parse_pyproject(name, text)?.unwrap_or_default()
        } else {
            parse_yaml(name, text)?
        };
        return Ok((config.with_fingerprint(name, text), warnings));
    }
    let mut found: Vec<(&str, String)> = CONFIG_NAMES
        .iter()
        .filter_map(|name| read(name).map(|text| (*name, text)))
        .collect();
    let pyproject = read("pyproject.toml");
    let pyproject_config = match &pyproject {
        // A pyproject.toml that is not valid TOML is another tool's problem unless it has a
        // driftguard table: then it is a config error.
        Some(text) => match toml::from_str::<toml::Table>(text) {
            Err(err) if !has_driftguard_table(text) => {
                let line = err
                    .span()
                    .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
                warnings.push(Warning::global(format!(
                    "pyproject.toml{} is not valid TOML ({}); it has no [tool.driftguard] table, so driftguard ignores it",
                    line.map(|l| format!(":{l}")).unwrap_or_default(),
                    err.message().trim_end()
                )));
                None
            }
            _ => parse_pyproject("pyproject.toml", text)?,
        },
        None => None,
    };
    let mut candidates: Vec<&str> = found.iter().map(|(n, _)| *n).collect();
    if pyproject_config.is_some() {
        candidates.push("pyproject.toml [tool.driftguard]");
    }
    if candidates.len() > 1 {
        warnings.push(Warning::global(format!(
            "several config files found ({}); using {} and ignoring the others — remove the ones you do not mean",
            candidates.join(", "),
            candidates[0]
        )));
    }
    if !found.is_empty() {
        let (name, text) = found.remove(0);
        return Ok((
            parse_yaml(name, &text)?.with_fingerprint(name, &text),
            warnings,
        ));
    }
    let config = match (pyproject_config, &pyproject) {
        (Some(config), Some(text)) => config.with_fingerprint("pyproject.toml", text),
        _ => Config::default(),
    };
    Ok((config, warnings))
}

/// For `--staged`: a config file that is new or changed in the work tree but not staged is
/// not what the check reads (it reads the index); say so and name the `git add`.
pub fn unstaged_config_warnings(unstaged: &[String]) -> Vec<Warning> {
    CONFIG_NAMES
        .iter()
        .filter(|name| unstaged.iter().any(|p| p == *name))
        .map(|name| {
            Warning::global(format!(
                "{name} has changes that are not staged, and `check --staged` reads the staged config: run `git add {name}` to check with it"
            ))
        })
        .collect()
}

fn parse_yaml(name: &str, text: &str) -> Result<Config, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Config {
            file: Some(name.to_string()),
            ..Config::default()
        });
    }
    let raw: RawConfig = serde_saphyr::from_str(text).map_err(|err| {
        let at = err
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        let message = err.to_string();
        let first = budget_words(&err)
            .unwrap_or_else(|| message.split('\n').next().unwrap_or(&message).to_string());
        let message = format!("{name}{at}: invalid config: {first}");
        match err.location() {
            Some(l) => {
                let start = offset_of(text, l.line() as usize, l.column() as usize);
                let len = text[start..]
                    .find(|c: char| c.is_whitespace() || c == ':')
                    .unwrap_or(0)
                    .max(1);
                located(name, text, message, start, len)
            }
            None => ConfigError::new(message),
        }
    })?;
    validate(name, text, raw)
}

/// A YAML reader's resource limit, in plain words (its own text is a Rust debug dump:
/// `budget breached: Nodes { nodes: 250001 }`).
fn budget_words(err: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::budget::BudgetBreach;
    let mut err = err;
    while let serde_saphyr::Error::WithSnippet { error, .. }
    | serde_saphyr::Error::AliasError { error, .. } = err
    {
        err = error;
    }
    let serde_saphyr::Error::Budget { breach, .. } = err else {
        return None;
    };
    let what = match breach {
        BudgetBreach::Nodes { nodes } => {
            format!("it holds too many values (driftguard stopped reading at {nodes})")
        }
        BudgetBreach::Depth { depth } => {
            format!("it nests lists and mappings too deep (driftguard stopped at depth {depth})")
        }
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::MergeKeys { .. } => {
            "it uses too many YAML anchors, aliases (`*name`) or merge keys (`<<`)".to_string()
        }
        BudgetBreach::Documents { .. } => {
            "it holds more than one YAML document (`---`)".to_string()
        }
        _ => "it is too large".to_string(),
    };
    Some(format!(
        "the file is larger than a config can be: {what}. A driftguard config is a short mapping of lists (see the README's Configuration)"
    ))
}

/// Whether a `pyproject.toml` text has a `[tool.driftguard…]` table header: only then is a
/// file that is not valid TOML driftguard's problem.
fn has_driftguard_table(text: &str) -> bool {
    text.split('\n').any(|line| {
        let line = line.trim_start();
        line.strip_prefix('[')
            .map(|rest| rest.trim_start().trim_start_matches('['))
            .is_some_and(|rest| rest.trim_start().starts_with("tool.driftguard"))
    })
}

/// `Ok(None)` when `pyproject.toml` has no `[tool.driftguard]` table.
fn parse_pyproject(name: &str, text: &str) -> Result<Option<Config>, ConfigError> {
    let project: PyProject = toml::from_str(text).map_err(|err| toml_error(name, text, &err))?;
    let Some(table) = project.tool.and_then(|t| t.driftguard) else {
        return Ok(None);
    };
    // Re-read the table from the text so errors keep their spans.
    let raw: RawConfig = table
        .try_into()
        .map_err(|err: toml::de::Error| toml_error(name, text, &err))?;
    validate(name, text, raw).map(Some)
}

fn toml_error(name: &str, text: &str, err: &toml::de::Error) -> ConfigError {
    let at = err
        .span()
        .map(|span| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!(":{line}")
        })
        .unwrap_or_default();
    let message = err.message().to_string();
    // Without a span (a value re-read from the table), point at the first line naming the key.
    let line = if at.is_empty() {
        line_mentioning(text, &message)
    } else {
        None
    };
    let at = line.map_or(at, |l| format!(":{l}"));
    let full = format!("{name}{at}: invalid [tool.driftguard] config: {message}");
    match (err.span(), line) {
        (Some(span), _) => located(name, text, full, span.start, span.len()),
        (None, Some(line)) => {
            let (start, len) = line_range(text, line);
            located(name, text, full, start, len)
        }
        (None, None) => ConfigError::new(full),
    }
}

/// The first line of the config text that mentions a word of the message in backquotes, or
/// the value itself: used to point at a value that only fails validation.
fn line_mentioning(text: &str, needle: &str) -> Option<usize> {
    let word = needle
        .split('`')
        .nth(1)
        .filter(|w| !w.is_empty())
        .unwrap_or(needle);
    text.split('\n')
        .position(|line| line.contains(word))
        .map(|i| i + 1)
}

fn validate(name: &str, text: &str, raw: RawConfig) -> Result<Config, ConfigError> {
    let fail = |value: &str, message: String| match line_mentioning(text, value) {
        Some(line) => {
            let message = format!("{name}:{line}: invalid config: {message}");
            let (start, len) = line_range(text, line);
            located(name, text, message, start, len)
        }
        None => ConfigError::new(format!("{name}: invalid config: {message}")),
    };
    let globs = |key: &str, patterns: Option<Vec<String>>| -> Result<Option<Globs>, ConfigError> {
        match patterns {
            None => Ok(None),
            Some(patterns) => Globs::new(patterns).map(Some).map_err(|(pattern, why)| {
                fail(
                    &pattern,
                    format!("`{key}` has a bad glob `{pattern}`: {why}"),
                )
            }),
        }
    };
    let mut config = Config {
        file: Some(name.to_string()),
        models: globs("models", raw.models)?,
        migrations: globs("migrations", raw.migrations)?,
        exclude: globs("exclude", raw.exclude)?,
        ..Config::default()
    };
    config.ignore = Ignore::new(raw.ignore.unwrap_or_default())
        .map_err(|(pattern, why)| fail(&pattern, format!("`ignore` pattern `{pattern}`: {why}")))?;
    let external = raw.external.unwrap_or_default();
    if let Some(pattern) = external.iter().find(|p| p.split('.').count() != 2) {
        return Err(fail(
            pattern,
            format!("`external` pattern `{pattern}`: expected `schema.table`"),
        ));
    }
    config.external.patterns = Ignore::new(external).map_err(|(pattern, why)| {
        fail(&pattern, format!("`external` pattern `{pattern}`: {why}"))
    })?;
    if let Some(schema) = raw.default_schema {
        if schema.trim().is_empty() {
            return Err(fail(
                "default_schema",
                "`default_schema` must not be empty".into(),
            ));
        }
        config.default_schema = schema;
    }
    config.python_roots = raw
        .python_roots
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.trim_end_matches('/').to_string())
        .collect();
    for source in raw.sources.unwrap_or_default() {
        let kind = match source.kind.as_str() {
            "sql" => SourceKind::Sql,
            "alembic" => SourceKind::Alembic,
            other => {
                return Err(fail(
                    other,
                    format!("source kind `{other}` is not one of `sql`, `alembic`"),
                ));
            }
        };
        config.sources.push(SourceConfig {
            path: source.path.trim_end_matches('/').to_string(),
            kind,
            default_schema: source.default_schema,
            models: globs("sources.models", source.models)?,
        });
    }
    for (key, value) in raw.rules.unwrap_or_default() {
        if let Some(group) = RuleGroup::from_name(&key) {
            let setting = match value.as_str() {
                "off" => None,
                other => Some(Severity::parse(other).ok_or_else(|| {
                    fail(
                        &key,
                        format!(
                            "rule group `{key}`: `{other}` is not one of `error`, `warning`, `off`"
                        ),
                    )
                })?),
            };
            config.groups.insert(group, setting);
            continue;
        }
        let Some(rule) = Rule::from_code_or_name(&key) else {
            return Err(fail(
                &key,
                format!(
                    "`rules` names `{key}`, which is not a driftguard rule (see `driftguard rule`)"
                ),
            ));
        };
        if !rule.configurable() {
            return Err(fail(
                &key,
                format!(
                    "rule `{key}` ({}) cannot be turned off or downgraded; use `ignore:` patterns or `# driftguard: ignore[{}]` for the places it should not apply",
                    rule.name(),
                    rule.code()
                ),
            ));
        }
        let setting = match value.as_str() {
            "off" => None,
            other => Some(Severity::parse(other).ok_or_else(|| {
                fail(
                    &key,
                    format!("rule `{key}`: `{other}` is not one of `error`, `warning`, `off`"),
                )
            })?),
        };
        config.rules.insert(rule, setting);
    }
    if let Some(fix) = raw.fix {
        if let Some(kind) = fix.kind {
            config.fix.kind = Some(match kind.as_str() {
                "sql" => SourceKind::Sql,
                "alembic" => SourceKind::Alembic,
                other => {
                    return Err(fail(
                        other,
                        format!("`fix.kind: {other}` is not one of `sql`, `alembic`"),
                    ));
                }
            });
        }
        if let Some(folder) = fix.folder {
            let folder = folder.trim_end_matches('/').to_string();
            if folder.is_empty() || folder.starts_with('/') || folder.split('/').any(|s| s == "..")
            {
                return Err(fail(
                    "folder",
                    format!(
                        "`fix.folder: {folder}` must be a folder inside the project, relative to its root"
                    ),
                ));
            }
            config.fix.folder = Some(folder);
        }
    }
    if let Some(version) = raw.postgres_version {
        if !(9..=99).contains(&version) {
            return Err(fail(
                "postgres_version",
                format!("`postgres_version: {version}` is not a PostgreSQL major version (9 … 99)"),
            ));
        }
        config.postgres_version = version;
    }
    if let Some(handbook) = raw.handbook
        && let Some(pattern) = handbook.file_name
    {
        let regex = regex::Regex::new(&pattern).map_err(|e| {
            fail(
                "file_name",
                format!("`handbook.file_name` is not a valid regular expression: {e}"),
            )
        })?;
        config.handbook.file_name = Some(regex);
    }
    if let Some(fail_on) = raw.fail_on {
        config.fail_on = Some(Severity::parse(&fail_on).ok_or_else(|| {
            fail(
                "fail_on",
                format!("`fail_on: {fail_on}` is not one of `error`, `warning`"),
            )
        })?);
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<Config, ConfigError> {
        let files = [("driftguard.yml", text.to_string())];
        load(None, &|name| {
            files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.clone())
        })
        .map(|(c, _)| c)
    }

    #[test]
    fn a_full_yaml_config_is_read() {
        let config = yaml(
            "models: [\"apps/backend/src/db/models/**/*.py\"]\nmigrations:\n  - database/migrations/**/*.sql\nexclude: [\"tests/**\"]\nignore: [\"core.legacy_*\", \"ops.audit_log.raw_*\"]\ndefault_schema: core\npython_roots: [apps/backend/src]\nfail_on: warning\n",
        )
        .expect("valid");
        assert!(
            config
                .models
                .as_ref()
                .is_some_and(|g| g.is_match("apps/backend/src/db/models/core.py"))
        );
        assert!(config.is_ignored("core", "legacy_orders", None));
        assert!(config.is_ignored("ops", "audit_log", Some("raw_payload")));
        assert!(!config.is_ignored("ops", "audit_log", None));
        assert_eq!(config.default_schema, "core");
        assert_eq!(
            config.severity(Rule::ColumnWithoutMigration),
            Some(Severity::Error)
        );
        assert_eq!(config.fail_on, Some(Severity::Warning));
    }

    #[test]
    fn unknown_keys_and_bad_values_point_at_the_line() {
        let err = yaml("models: [\"a/**\"]\nmigratons: [\"b\"]\n").expect_err("unknown key");
        assert!(
            err.message.starts_with("driftguard.yml:2"),
            "{}",
            err.message
        );
        let err = yaml("rules:\n  DG999: error\n").expect_err("unknown rule");
        assert!(
            err.message.starts_with("driftguard.yml:2"),
            "{}",
            err.message
        );
        assert!(err.message.contains("DG999"), "{}", err.message);
        let err = yaml("default_schema: a\nrules: {DG001: \"off\"}\n").expect_err("core rule");
        assert!(
            err.message.starts_with("driftguard.yml:2"),
            "{}",
            err.message
        );
        assert!(err.message.contains("ignore"), "{}", err.message);
        let err = yaml("fail_on: sometimes\n").expect_err("bad severity");
        assert!(err.message.contains("driftguard.yml:1"), "{}", err.message);
    }

    #[test]
    fn fix_postgres_version_handbook_and_rule_groups_are_read() {
        let config = yaml(
            "rules: {handbook: warning, DG201: \"off\", DG204: error}\nfix: {kind: alembic, folder: app/alembic/versions/}\npostgres_version: 11\nhandbook: {file_name: '^[0-9]{3}_.*\\.sql$'}\n",
        )
        .expect("valid");
        assert_eq!(config.fix.kind, Some(SourceKind::Alembic));
        assert_eq!(config.fix.folder.as_deref(), Some("app/alembic/versions"));
        assert_eq!(config.postgres_version, 11);
        assert!(
            config
                .handbook
                .file_name
                .as_ref()
                .is_some_and(|r| r.is_match("007_x.sql") && !r.is_match("x.sql"))
        );
        assert_eq!(config.severity(Rule::NonstandardMigrationName), None);
        assert_eq!(
            config.severity(Rule::NonIdempotentDdl),
            Some(Severity::Error)
        );
        assert_eq!(
            config.severity(Rule::RollbackScriptMissing),
            Some(Severity::Warning)
        );
        let defaults = Config::default();
        assert_eq!(defaults.severity(Rule::RollbackScriptMissing), None);
        assert_eq!(defaults.postgres_version, 13);
        assert_eq!(
            defaults.severity(Rule::AlembicMultipleHeads),
            Some(Severity::Error)
        );
        for (bad, line) in [
            ("fix: {kind: liquibase}\n", 1),
            ("default_schema: a\nfix: {folder: ../elsewhere}\n", 2),
            ("postgres_version: 3\n", 1),
            ("handbook: {file_name: '(['}\n", 1),
            ("rules: {handbook: loud}\n", 1),
        ] {
            let err = yaml(bad).expect_err(bad);
            assert!(
                err.message.starts_with(&format!("driftguard.yml:{line}")),
                "{bad}: {}",
                err.message
            );
        }
    }

    #[test]
    fn pyproject_table_is_read_and_errors_are_located() {
        let text = "[project]\nname = \"x\"\n\n[tool.driftguard]\ndefault_schema = \"core\"\n";
        let config = parse_pyproject("pyproject.toml", text)
            .expect("valid")
            .expect("has the table");
        assert_eq!(config.default_schema, "core");
        let bad = "[tool.driftguard]\ndefault_schema = \"core\"\nmodles = [\"x\"]\n";
        let err = parse_pyproject("pyproject.toml", bad).expect_err("unknown key");
        assert!(err.message.contains("pyproject.toml:3"), "{}", err.message);
        assert!(
            parse_pyproject("pyproject.toml", "[project]\nname='x'\n")
                .expect("valid")
                .is_none()
        );
    }

    #[test]
    fn issue_11_a_broken_pyproject_without_a_driftguard_table_is_a_warning() {
        let load_pyproject = |text: &str| {
            let text = text.to_string();
            load(None, &|name| {
                (name == "pyproject.toml").then(|| text.clone())
            })
        };
        let (config, warnings) =
            load_pyproject("[project]\nname = \"x\"\nversion = = 1\n").expect("not ours");
        assert!(config.file.is_none());
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0]
                .message
                .starts_with("pyproject.toml:3 is not valid TOML ("),
            "{}",
            warnings[0].message
        );
        assert!(warnings[0].message.ends_with("so driftguard ignores it"));
        for ours in [
            "[tool.driftguard]\ndefault_schema = = 1\n",
            "[project]\nname = 'x\n[ tool.driftguard.rules ]\nDG005 = \"error\"\n",
        ] {
            let err = load_pyproject(ours).expect_err("ours");
            assert!(
                err.message.starts_with("pyproject.toml:"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn issue_11_a_config_over_the_reader_budget_says_so_in_words() {
        let mut text = String::from("ignore:\n");
        for i in 0..260_000 {
            text.push_str(&format!("  - a{i}\n"));
        }
        let err = yaml(&text).expect_err("too large");
        assert!(
            err.message
                .contains("the file is larger than a config can be: it holds too many values"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("Nodes {"), "{}", err.message);
    }

    #[test]
    fn issue_11_ignore_patterns_are_one_set() {
        let mut text = String::from("ignore:\n");
        for i in 0..200_000 {
            text.push_str(&format!("  - \"core.legacy_{i}_*\"\n"));
        }
        text.push_str("  - \"ops.audit_log.raw_*\"\n");
        let config = yaml(&text).expect("valid");
        assert!(config.is_ignored("core", "legacy_199999_orders", None));
        assert!(config.is_ignored("core", "legacy_7_x", Some("any")));
        assert!(!config.is_ignored("core", "customers", Some("email")));
        assert!(config.is_ignored("ops", "audit_log", Some("raw_payload")));
        assert!(!config.is_ignored("ops", "audit_log", Some("payload")));
        assert!(!config.is_ignored("ops", "audit_log", None));
        assert_eq!(config.ignore.patterns.len(), 200_001);
        // One compiled set per part, not one matcher per pattern (7.4 s and 1.5 GB in a release
        // build before); timings belong in benchmarks, not in tests.
        assert_eq!(config.ignore.tables.len(), 200_000);
        assert_eq!(config.ignore.columns.len(), 1);
    }

    #[test]
    fn a_second_config_file_is_named_in_a_warning() {
        let files = [
            ("driftguard.yml", "default_schema: a\n".to_string()),
            (".driftguard.yml", "default_schema: b\n".to_string()),
        ];
        let (config, warnings) = load(None, &|name| {
            files
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.clone())
        })
        .expect("valid");
        assert_eq!(config.default_schema, "a");
        assert!(warnings[0].message.contains(".driftguard.yml"));
    }
}
