//! Schema change events → the schema they build.
//!
//! [`replay`] applies the events of one migration *source* (the SQL files, or one Alembic
//! environment) in order, the way PostgreSQL would run them one file after another with `psql`:
//! `search_path` starts at the source's default schema in every file, an unqualified
//! `CREATE TABLE` lands in the first schema of the path that exists, an unqualified
//! `ALTER TABLE` finds the first schema of the path that has the table, and a statement that
//! would fail in PostgreSQL (adding a column that exists, dropping one that does not) changes
//! nothing. `IF` guards over `information_schema` are evaluated against the schema built so
//! far; any other condition runs its `THEN` branch.
//!
//! Every table, column and enum remembers the [`Location`] of the statement that created it
//! (or last renamed it), for "created here" labels.

use std::collections::{BTreeMap, BTreeSet};

use crate::migrations::{ColumnDef, Condition, ForeignKeyRef, QualifiedName, SchemaChange};
use crate::source::Location;
use crate::sqltype::SqlType;

/// A column of the replayed schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
    pub default: Option<String>,
    pub primary_key: bool,
    pub references: Option<ForeignKeyRef>,
    /// The statement that created the column (or renamed it to its name).
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// In creation order, like `information_schema.columns.ordinal_position`.
    pub columns: Vec<Column>,
    pub location: Location,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
    pub location: Location,
    /// Where each value was added (`CREATE TYPE` for the first ones).
    pub value_locations: Vec<Location>,
}

/// The schema a migration source builds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    pub schemas: BTreeSet<String>,
    /// Keyed by (schema, table).
    pub tables: BTreeMap<(String, String), Table>,
    /// Keyed by (schema, type name).
    pub enums: BTreeMap<(String, String), EnumType>,
}

impl Schema {
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables.get(&(schema.to_string(), name.to_string()))
    }

    /// Tables of that name in any schema.
    pub fn tables_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Table> + 'a {
        self.tables.values().filter(move |t| t.name == name)
    }

    pub fn enum_type(&self, schema: &str, name: &str) -> Option<&EnumType> {
        self.enums.get(&(schema.to_string(), name.to_string()))
    }
}

/// One file's events, in migration order.
pub struct FileEvents<'a> {
    pub changes: &'a [SchemaChange],
}

/// Replays the files of one source, in order, into a schema.
pub fn replay<'a>(files: impl IntoIterator<Item = FileEvents<'a>>, default_schema: &str) -> Schema {
    let mut replayer = Replayer {
        schema: Schema::default(),
        default_schema: default_schema.to_string(),
        search_path: Vec::new(),
    };
    replayer.schema.schemas.insert("public".to_string());
    replayer.schema.schemas.insert(default_schema.to_string());
    for file in files {
        replayer.search_path = vec![default_schema.to_string()];
        replayer.apply_all(file.changes);
    }
    replayer.schema
}

struct Replayer {
    schema: Schema,
    default_schema: String,
    search_path: Vec<String>,
}

impl Replayer {
    fn apply_all(&mut self, changes: &[SchemaChange]) {
        for change in changes {
            self.apply(change);
        }
    }

    /// The schema an unqualified name is created in: the first schema of the path that exists.
    fn creation_schema(&self, name: &QualifiedName) -> String {
        if let Some(schema) = &name.schema {
            return schema.clone();
        }
        self.search_path
            .iter()
            .find(|s| self.schema.schemas.contains(*s))
            .or_else(|| self.search_path.first())
            .cloned()
            .unwrap_or_else(|| self.default_schema.clone())
    }

    /// The key of an existing table: qualified, or the first schema of the path that has it.
    fn table_key(&self, name: &QualifiedName) -> (String, String) {
        if let Some(schema) = &name.schema {
            return (schema.clone(), name.name.clone());
        }
        for schema in &self.search_path {
            let key = (schema.clone(), name.name.clone());
            if self.schema.tables.contains_key(&key) {
                return key;
            }
        }
        (self.creation_schema(name), name.name.clone())
    }

    fn enum_key(&self, name: &QualifiedName) -> (String, String) {
        if let Some(schema) = &name.schema {
            return (schema.clone(), name.name.clone());
        }
        for schema in &self.search_path {
            let key = (schema.clone(), name.name.clone());
            if self.schema.enums.contains_key(&key) {
                return key;
            }
        }
        (self.creation_schema(name), name.name.clone())
    }

    fn table_mut(&mut self, name: &QualifiedName) -> Option<&mut Table> {
        let key = self.table_key(name);
        self.schema.tables.get_mut(&key)
    }

    /// A declared column of the table `key`, written as `written`.
    fn column(&self, def: &ColumnDef, written: &QualifiedName, key: &(String, String)) -> Column {
        Column {
            name: def.name.clone(),
            ty: self.resolve_type(&def.ty),
            nullable: def.nullable && !def.primary_key,
            default: def
                .default
                .as_ref()
                .map(|d| qualify_serial_default(d, written, key, &def.name)),
            primary_key: def.primary_key,
            references: def.references.clone(),
            location: def.location.clone(),
        }
    }

    /// An unqualified user-defined type takes the schema it resolves to on the search path, so
    /// that a column's type names the enum that exists.
    fn resolve_type(&self, ty: &SqlType) -> SqlType {
        if !ty.user_defined || ty.name.contains('.') {
            return ty.clone();
        }
        let name = QualifiedName::new(None, &ty.name);
        let key = self.enum_key(&name);
        if self.schema.enums.contains_key(&key) {
            SqlType {
                name: format!("{}.{}", key.0, key.1),
                ..ty.clone()
            }
        } else {
            ty.clone()
        }
    }

    fn apply(&mut self, change: &SchemaChange) {
        match change {
            SchemaChange::CreateSchema { name, .. } => {
                self.schema.schemas.insert(name.clone());
            }
            SchemaChange::DropSchema { name, .. } => {
                self.schema.schemas.remove(name);
                self.schema.tables.retain(|(schema, _), _| schema != name);
                self.schema.enums.retain(|(schema, _), _| schema != name);
            }
            SchemaChange::SetSearchPath { schemas, .. } => {
                self.search_path = schemas
                    .iter()
                    .filter(|s| !s.starts_with('$') && s.as_str() != "pg_catalog")
                    .cloned()
                    .collect();
                if self.search_path.is_empty() {
                    self.search_path.push(self.default_schema.clone());
                }
            }
            SchemaChange::CreateTable {
                table,
                columns,
                primary_key,
                copies_from,
                location,
                ..
            } => {
                let key = (self.creation_schema(table), table.name.clone());
                if self.schema.tables.contains_key(&key) {
                    return;
                }
                let mut new_columns: Vec<Column> = Vec::new();
                for source in copies_from {
                    let source_key = self.table_key(source);
                    if let Some(source) = self.schema.tables.get(&source_key) {
                        for column in &source.columns {
                            if !new_columns.iter().any(|c| c.name == column.name) {
                                new_columns.push(Column {
                                    default: None,
                                    references: None,
                                    location: location.clone(),
                                    ..column.clone()
                                });
                            }
                        }
                    }
                }
                for def in columns {
                    let column = self.column(def, table, &key);
                    match new_columns.iter_mut().find(|c| c.name == column.name) {
                        // INHERITS with a redeclared column merges the two.
                        Some(existing) => *existing = column,
                        None => new_columns.push(column),
                    }
                }
                for name in primary_key {
                    if let Some(column) = new_columns.iter_mut().find(|c| &c.name == name) {
                        column.nullable = false;
                        column.primary_key = true;
                    }
                }
                self.schema.tables.insert(
                    key.clone(),
                    Table {
                        schema: key.0,
                        name: key.1,
                        columns: new_columns,
                        location: location.clone(),
                    },
                );
            }
            SchemaChange::DropTable { table, .. } => {
                let key = self.table_key(table);
                self.schema.tables.remove(&key);
            }
            SchemaChange::RenameTable {
                table,
                new_name,
                location,
            } => {
                let key = self.table_key(table);
                let new_key = (key.0.clone(), new_name.clone());
                if self.schema.tables.contains_key(&new_key) {
                    return;
                }
                if let Some(mut moved) = self.schema.tables.remove(&key) {
                    moved.name = new_name.clone();
                    moved.location = location.clone();
                    self.schema.tables.insert(new_key, moved);
                }
            }
            SchemaChange::SetTableSchema {
                table,
                new_schema,
                location,
            } => {
                let key = self.table_key(table);
                let new_key = (new_schema.clone(), key.1.clone());
                if self.schema.tables.contains_key(&new_key) {
                    return;
                }
                if let Some(mut moved) = self.schema.tables.remove(&key) {
                    moved.schema = new_schema.clone();
                    moved.location = location.clone();
                    self.schema.tables.insert(new_key, moved);
                }
            }
            SchemaChange::AddColumn { table, column, .. } => {
                let key = self.table_key(table);
                let column = self.column(column, table, &key);
                if let Some(table) = self.schema.tables.get_mut(&key)
                    && table.column(&column.name).is_none()
                {
                    table.columns.push(column);
                }
            }
            SchemaChange::DropColumn { table, column, .. } => {
                if let Some(table) = self.table_mut(table) {
                    table.columns.retain(|c| &c.name != column);
                }
            }
            SchemaChange::RenameColumn {
                table,
                column,
                new_name,
                location,
            } => {
                if let Some(table) = self.table_mut(table)
                    && table.column(new_name).is_none()
                    && let Some(col) = table.column_mut(column)
                {
                    col.name = new_name.clone();
                    col.location = location.clone();
                }
            }
            SchemaChange::AlterColumnType {
                table, column, ty, ..
            } => {
                let ty = self.resolve_type(ty);
                if let Some(col) = self.table_mut(table).and_then(|t| t.column_mut(column)) {
                    col.ty = ty;
                }
            }
            SchemaChange::SetNullable {
                table,
                column,
                nullable,
                ..
            } => {
                if let Some(col) = self.table_mut(table).and_then(|t| t.column_mut(column)) {
                    col.nullable = *nullable;
                }
            }
            SchemaChange::SetDefault {
                table,
                column,
                default,
                ..
            } => {
                if let Some(col) = self.table_mut(table).and_then(|t| t.column_mut(column)) {
                    col.default = default.clone();
                }
            }
            SchemaChange::AddPrimaryKey { table, columns, .. } => {
                if let Some(table) = self.table_mut(table) {
                    for name in columns {
                        if let Some(col) = table.column_mut(name) {
                            col.nullable = false;
                            col.primary_key = true;
                        }
                    }
                }
            }
            SchemaChange::AddForeignKey {
                table,
                columns,
                references,
                ..
            } => {
                if let Some(table) = self.table_mut(table)
                    && columns.len() == 1
                    && let Some(col) = table.column_mut(&columns[0])
                {
                    col.references = Some(references.clone());
                }
            }
            SchemaChange::CreateEnum {
                name,
                values,
                location,
            } => {
                let key = (self.creation_schema(name), name.name.clone());
                if self.schema.enums.contains_key(&key) {
                    return;
                }
                self.schema.enums.insert(
                    key.clone(),
                    EnumType {
                        schema: key.0,
                        name: key.1,
                        values: values.clone(),
                        value_locations: vec![location.clone(); values.len()],
                        location: location.clone(),
                    },
                );
            }
            SchemaChange::AddEnumValue {
                name,
                value,
                position,
                location,
            } => {
                let key = self.enum_key(name);
                let Some(enum_type) = self.schema.enums.get_mut(&key) else {
                    return;
                };
                if enum_type.values.contains(value) {
                    return;
                }
                let index = match position {
                    Some((before, other)) => match enum_type.values.iter().position(|v| v == other)
                    {
                        Some(i) if *before => i,
                        Some(i) => i + 1,
                        None => enum_type.values.len(),
                    },
                    None => enum_type.values.len(),
                };
                enum_type.values.insert(index, value.clone());
                enum_type.value_locations.insert(index, location.clone());
            }
            SchemaChange::RenameEnumValue {
                name,
                value,
                new_value,
                location,
            } => {
                let key = self.enum_key(name);
                if let Some(enum_type) = self.schema.enums.get_mut(&key)
                    && let Some(i) = enum_type.values.iter().position(|v| v == value)
                {
                    enum_type.values[i] = new_value.clone();
                    if let Some(slot) = enum_type.value_locations.get_mut(i) {
                        *slot = location.clone();
                    }
                }
            }
            SchemaChange::RenameType {
                name,
                new_name,
                location,
            } => {
                let key = self.enum_key(name);
                let new_key = (key.0.clone(), new_name.clone());
                if self.schema.enums.contains_key(&new_key) {
                    return;
                }
                if let Some(mut moved) = self.schema.enums.remove(&key) {
                    let old_qualified = format!("{}.{}", key.0, key.1);
                    let new_qualified = format!("{}.{}", key.0, new_name);
                    moved.name = new_name.clone();
                    moved.location = location.clone();
                    self.schema.enums.insert(new_key, moved);
                    // Columns of that type follow the rename, as in PostgreSQL.
                    for table in self.schema.tables.values_mut() {
                        for col in &mut table.columns {
                            if col.ty.user_defined && col.ty.name == old_qualified {
                                col.ty.name = new_qualified.clone();
                            }
                        }
                    }
                }
            }
            SchemaChange::DropType { name, .. } => {
                let key = self.enum_key(name);
                self.schema.enums.remove(&key);
            }
            SchemaChange::If {
                branches,
                otherwise,
                ..
            } => {
                for (condition, body) in branches {
                    match self.evaluate(condition) {
                        Some(false) => continue,
                        Some(true) | None => {
                            self.apply_all(body);
                            return;
                        }
                    }
                }
                self.apply_all(otherwise);
            }
        }
    }

    /// `Some(result)` for a condition over the schema; `None` when it cannot be told.
    fn evaluate(&self, condition: &Condition) -> Option<bool> {
        match condition {
            Condition::ColumnExists {
                schema,
                table,
                column,
            } => Some(self.schema.tables.values().any(|t| {
                schema.as_ref().is_none_or(|s| s == &t.schema)
                    && &t.name == table
                    && t.column(column).is_some()
            })),
            Condition::TableExists { schema, table } => Some(
                self.schema
                    .tables
                    .values()
                    .any(|t| schema.as_ref().is_none_or(|s| s == &t.schema) && &t.name == table),
            ),
            Condition::TypeExists { schema, name } => Some(
                self.schema
                    .enums
                    .values()
                    .any(|e| schema.as_ref().is_none_or(|s| s == &e.schema) && &e.name == name),
            ),
            Condition::Not(inner) => self.evaluate(inner).map(|b| !b),
            Condition::Unknown => None,
        }
    }
}

/// A serial column's default names its sequence after the table as written; an unqualified
/// table's sequence lives in the schema the table resolved to, and PostgreSQL prints that
/// schema (except `public`): `nextval('ops.jobs_id_seq'::regclass)`.
fn qualify_serial_default(
    default: &str,
    written: &QualifiedName,
    key: &(String, String),
    column: &str,
) -> String {
    let plain = |name: &str| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let sequence = format!("{}_{column}_seq", written.name);
    if written.schema.is_some()
        || key.0 == "public"
        || !plain(&sequence)
        || default != format!("nextval('{sequence}'::regclass)")
    {
        return default.to_string();
    }
    let schema = if plain(&key.0) {
        key.0.clone()
    } else {
        format!("\"{}\"", key.0.replace('"', "\"\"").replace('\'', "''"))
    };
    format!("nextval('{schema}.{sequence}'::regclass)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: u32) -> Location {
        Location::new("m.sql", line, 1)
    }

    fn col(name: &str, ty: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            ty: SqlType::builtin(ty),
            nullable: true,
            default: None,
            primary_key: false,
            references: None,
            location: loc(1),
        }
    }

    fn q(schema: Option<&str>, name: &str) -> QualifiedName {
        QualifiedName::new(schema, name)
    }

    fn create(table: QualifiedName, columns: Vec<ColumnDef>) -> SchemaChange {
        SchemaChange::CreateTable {
            table,
            if_not_exists: true,
            columns,
            primary_key: vec![],
            copies_from: vec![],
            location: loc(1),
        }
    }

    fn run(files: &[Vec<SchemaChange>]) -> Schema {
        replay(files.iter().map(|f| FileEvents { changes: f }), "public")
    }

    #[test]
    fn search_path_decides_where_unqualified_names_go_and_resets_per_file() {
        let schema = run(&[
            vec![
                SchemaChange::CreateSchema {
                    name: "core".into(),
                    location: loc(1),
                },
                SchemaChange::SetSearchPath {
                    schemas: vec!["core".into(), "public".into()],
                    location: loc(2),
                },
                create(q(None, "customers"), vec![col("id", "integer")]),
            ],
            vec![SchemaChange::AddColumn {
                table: q(None, "customers"),
                column: col("email", "text"),
                if_not_exists: false,
            }],
        ]);
        let customers = schema.table("core", "customers").expect("core.customers");
        // The second file starts with search_path = public: its ALTER does not reach core.
        assert!(customers.column("email").is_none());
        assert!(schema.table("public", "customers").is_none());
    }

    #[test]
    fn guarded_add_column_runs_only_when_the_column_is_missing() {
        let add = |name: &str, line: u32| SchemaChange::If {
            branches: vec![(
                Condition::Not(Box::new(Condition::ColumnExists {
                    schema: Some("core".into()),
                    table: "t".into(),
                    column: name.into(),
                })),
                vec![SchemaChange::AddColumn {
                    table: q(Some("core"), "t"),
                    column: ColumnDef {
                        location: loc(line),
                        ..col(name, "text")
                    },
                    if_not_exists: false,
                }],
            )],
            otherwise: vec![],
            location: loc(line),
        };
        let schema = run(&[vec![
            create(q(Some("core"), "t"), vec![col("id", "integer")]),
            add("a", 5),
            add("a", 9),
        ]]);
        let t = schema.table("core", "t").expect("core.t");
        assert_eq!(t.columns.len(), 2);
        assert_eq!(t.column("a").map(|c| c.location.line), Some(5));
    }

    #[test]
    fn drop_rename_and_enum_values() {
        let schema = run(&[vec![
            create(q(None, "t"), vec![col("a", "integer"), col("b", "text")]),
            SchemaChange::DropColumn {
                table: q(None, "t"),
                column: "a".into(),
                location: loc(2),
            },
            SchemaChange::RenameColumn {
                table: q(Some("public"), "t"),
                column: "b".into(),
                new_name: "c".into(),
                location: loc(3),
            },
            SchemaChange::RenameTable {
                table: q(None, "t"),
                new_name: "u".into(),
                location: loc(4),
            },
            SchemaChange::CreateEnum {
                name: q(None, "status"),
                values: vec!["a".into(), "c".into()],
                location: loc(5),
            },
            SchemaChange::AddEnumValue {
                name: q(None, "status"),
                value: "b".into(),
                position: Some((true, "c".into())),
                location: loc(6),
            },
        ]]);
        let u = schema.table("public", "u").expect("renamed table");
        assert_eq!(
            u.columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            vec!["c"]
        );
        assert_eq!(u.column("c").map(|c| c.location.line), Some(3));
        assert_eq!(
            schema
                .enum_type("public", "status")
                .map(|e| e.values.clone()),
            Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
        );
    }

    #[test]
    fn serial_default_of_an_unqualified_table_names_the_schema_it_landed_in() {
        let serial = ColumnDef {
            default: Some("nextval('jobs_id_seq'::regclass)".into()),
            nullable: false,
            ..col("id", "integer")
        };
        let schema = run(&[vec![
            SchemaChange::CreateSchema {
                name: "ops".into(),
                location: loc(1),
            },
            SchemaChange::SetSearchPath {
                schemas: vec!["ops".into()],
                location: loc(2),
            },
            create(q(None, "jobs"), vec![serial.clone()]),
            create(q(Some("public"), "jobs"), vec![serial]),
        ]]);
        let default = |s: &str| {
            schema
                .table(s, "jobs")
                .and_then(|t| t.column("id"))
                .and_then(|c| c.default.clone())
        };
        assert_eq!(
            default("ops").as_deref(),
            Some("nextval('ops.jobs_id_seq'::regclass)")
        );
        assert_eq!(
            default("public").as_deref(),
            Some("nextval('jobs_id_seq'::regclass)")
        );
    }
}
