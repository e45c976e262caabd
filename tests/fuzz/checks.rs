//! What one case must survive, in process: every reader of its kind, and for SQL and Python
//! files that parse, the metamorphic property — whitespace or a comment inserted between two
//! tokens changes no table, column or enum (locations and text "as written" aside).
//!
//! A panic is caught and reported as a failure; an abort, a hang or too much memory kill the
//! child process, and the parent reports those (see `main.rs`).

use driftguard::migrations::{alembic, sql};
use driftguard::models::{self, ResolveOptions};
use driftguard::schema::{self, FileEvents};
use driftguard::source::SourceFile;
use serde_json::Value;

use crate::mutate::{Lang, Rng};

/// Runs every check of a case; `Err` says which invariant failed.
pub fn run(lang: Lang, text: &str, rng: &mut Rng) -> Result<(), String> {
    match lang {
        Lang::Sql => {
            let before = sql_schema(text);
            for _ in 0..2 {
                let changed =
                    insert_at_boundaries(text, &sql::token_starts(text), SQL_FILLERS, rng);
                let after = sql_schema(&changed);
                if after != before {
                    return Err(format!(
                        "the schema changed when whitespace or comments were inserted between tokens\n--- variant ---\n{changed}\n--- schema before ---\n{before}\n--- schema after ---\n{after}"
                    ));
                }
            }
            Ok(())
        }
        Lang::Python => {
            let before = models_of(text);
            if let Some(boundaries) = python_boundaries(text) {
                let changed = insert_at_boundaries(text, &boundaries, &[" ", "  ", "\t"], rng);
                let after = models_of(&changed);
                if after != before {
                    return Err(format!(
                        "the models changed when spaces were inserted between tokens\n--- variant ---\n{changed}\n--- before ---\n{before}\n--- after ---\n{after}"
                    ));
                }
            }
            Ok(())
        }
        Lang::Revision => {
            let before = revision_schema(text);
            let _ = models_of(text);
            if let Some(boundaries) = python_boundaries(text) {
                let changed = insert_at_boundaries(text, &boundaries, &[" ", "  ", "\t"], rng);
                let after = revision_schema(&changed);
                if after != before {
                    return Err(format!(
                        "the schema changed when spaces were inserted between tokens\n--- variant ---\n{changed}\n--- before ---\n{before}\n--- after ---\n{after}"
                    ));
                }
            }
            Ok(())
        }
        Lang::Yaml | Lang::Toml => {
            let name = if lang == Lang::Yaml {
                "driftguard.yml"
            } else {
                "pyproject.toml"
            };
            let _ = driftguard::config::load(Some((name, text)), &|_| None);
            let _ =
                driftguard::config::load(None, &|file| (file == name).then(|| text.to_string()));
            Ok(())
        }
    }
}

/// Whitespace and comments that may stand between any two SQL tokens.
const SQL_FILLERS: &[&str] = &[
    " ",
    "\n",
    "\t",
    "\r\n",
    "/* fuzz */",
    "-- fuzz\n",
    "/* a /* b */ */",
];

/// `text` with a filler inserted before a few of the given offsets.
fn insert_at_boundaries(text: &str, at: &[usize], fillers: &[&str], rng: &mut Rng) -> String {
    let mut chosen: Vec<usize> = (0..1 + rng.below(8))
        .filter_map(|_| at.get(rng.below(at.len())).copied())
        .collect();
    chosen.sort_unstable();
    chosen.dedup();
    let mut out = String::with_capacity(text.len() + 16 * chosen.len());
    let mut from = 0;
    for offset in chosen {
        let Some(piece) = text.get(from..offset) else {
            continue;
        };
        out.push_str(piece);
        let filler: &&str = rng.pick(fillers);
        out.push_str(filler);
        from = offset;
    }
    out.push_str(text.get(from..).unwrap_or(""));
    out
}

/// The schema a SQL file builds, as JSON without locations.
fn sql_schema(text: &str) -> String {
    let events = sql::read(&SourceFile::new("database/migrations/001_fuzz.sql", text));
    schema_json(&events.changes)
}

/// The schema an Alembic revision builds, as JSON without locations.
fn revision_schema(text: &str) -> String {
    let file = SourceFile::new("migrations/versions/0001_fuzz.py", text);
    match alembic::read_revision(&file) {
        Some(revision) => schema_json(&revision.events().changes),
        None => "not a revision".to_string(),
    }
}

fn schema_json(changes: &[driftguard::migrations::SchemaChange]) -> String {
    let schema = schema::replay([FileEvents::plain(changes)], "public");
    // The maps are keyed by tuples, which JSON cannot key by: their values say it all.
    let value = serde_json::json!({
        "schemas": schema.schemas,
        "tables": schema.tables.values().collect::<Vec<_>>(),
        "enums": schema.enums.values().collect::<Vec<_>>(),
        "domains": schema.domains.values().collect::<Vec<_>>(),
    });
    comparable(value)
}

/// Pretty JSON without locations; a panic when the value could not be built, so that a
/// comparison can never hold because both sides failed alike.
fn comparable(mut value: Value) -> String {
    strip_locations(&mut value);
    match serde_json::to_string_pretty(&value) {
        Ok(text) => text,
        Err(e) => panic!("cannot compare: {e}"),
    }
}

/// The tables and columns a model file maps, without locations and text as written.
fn models_of(text: &str) -> String {
    let file = SourceFile::new("app/models.py", text);
    let extracted = models::extract_file(&file);
    let (tables, _) = models::resolve(&[extracted], &ResolveOptions::default());
    let mut value = match serde_json::to_value(&tables) {
        Ok(value) => value,
        Err(e) => panic!("cannot compare: {e}"),
    };
    strip_keys(&mut value, &["type_text"]);
    comparable(value)
}

/// Replaces every `{path, line, column}` object with `null`.
fn strip_locations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_location = map.len() == 3
                && map.contains_key("path")
                && map.contains_key("line")
                && map.contains_key("column");
            if is_location {
                *value = Value::Null;
                return;
            }
            map.values_mut().for_each(strip_locations);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_locations),
        _ => {}
    }
}

fn strip_keys(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(map) => {
            for key in keys {
                map.remove(*key);
            }
            map.values_mut().for_each(|v| strip_keys(v, keys));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| strip_keys(v, keys)),
        _ => {}
    }
}

/// Offsets between two tokens on one line of a Python file that parses cleanly (a space
/// there keeps it the same program); `None` when it does not parse.
fn python_boundaries(text: &str) -> Option<Vec<usize>> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .ok()?;
    // Only clean files: spaces in a broken one can change how tree-sitter recovers.
    let tree = parser.parse(text, None)?;
    if tree.root_node().has_error() || text.contains('\r') {
        return None;
    }
    let mut leaves = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        let atomic = node.child_count() == 0
            || matches!(node.kind(), "string" | "concatenated_string" | "comment");
        if atomic {
            leaves.push((
                node.start_byte(),
                node.end_byte(),
                node.start_position().row,
            ));
        } else if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    let boundaries = leaves
        .windows(2)
        .filter(|pair| {
            let (_, prev_end, prev_row) = pair[0];
            let (start, _, row) = pair[1];
            // Same line, the previous token's end at or before this one's start, not a
            // zero-width token (indent/dedent), and not inside a comment.
            row == prev_row && prev_end <= start && start > 0 && prev_end > 0
        })
        .map(|pair| pair[1].0)
        .collect();
    Some(boundaries)
}
