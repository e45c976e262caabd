//! Findings → a [`Plan`]: what one migration must create so that the same check passes.
//!
//! The plan closes the gaps DG001–DG004 report, and what creating them needs: an enum type a
//! new column uses and no migration creates (its values too), a schema no migration creates,
//! foreign keys in an order that works (new tables sorted so that a parent comes before its
//! children; a foreign key inside a cycle, or onto a column this plan adds, is added after
//! every table). What it cannot close is a [`Note`]: a foreign key whose target no migration
//! creates (DG007's), a NOT NULL column without a default on a table that may hold rows.
//!
//! Plain data in, plain data out: the renderers ([`super::sql`], [`super::alembic`]) write a
//! plan out; nothing here knows a file format.

use std::collections::{BTreeMap, BTreeSet};

use crate::finding::Finding;
use crate::models::{ModelColumn, ModelTable};
use crate::postgres_type::SqlType;
use crate::rule::Rule;
use crate::rules::MigrationSource;
use crate::source::Location;

/// One migration's worth of changes, in the order they must run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// `CREATE SCHEMA IF NOT EXISTS`, for schemas no migration creates.
    pub schemas: Vec<String>,
    /// Enum types to create.
    pub enums: Vec<EnumPlan>,
    /// Values to add to enum types that exist.
    pub enum_values: Vec<EnumValuePlan>,
    /// Tables to create, parents before children.
    pub tables: Vec<TablePlan>,
    /// Columns to add to tables that exist (or that this plan creates without them).
    pub columns: Vec<ColumnAdd>,
    /// Foreign keys added after every table and column exists.
    pub foreign_keys: Vec<ForeignKeyPlan>,
    /// What the plan could not do, or what may fail when it runs.
    pub notes: Vec<Note>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
            && self.enums.is_empty()
            && self.enum_values.is_empty()
            && self.tables.is_empty()
            && self.columns.is_empty()
            && self.foreign_keys.is_empty()
    }

    /// Every column the plan creates, with its table: the new tables' then the added ones.
    pub fn new_columns(&self) -> Vec<(&str, &str, &ColumnPlan)> {
        let mut out: Vec<(&str, &str, &ColumnPlan)> = Vec::new();
        for table in &self.tables {
            for column in &table.columns {
                out.push((&table.schema, &table.name, column));
            }
        }
        for add in &self.columns {
            out.push((&add.schema, &add.table, &add.column));
        }
        out
    }

    /// A short description for the file name and the header: `add customers contact
    /// preference`, `create reviews`, …
    pub fn description(&self) -> String {
        let tables: Vec<&str> = self.tables.iter().map(|t| t.name.as_str()).collect();
        let mut added: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for add in &self.columns {
            added.entry(&add.table).or_default().push(&add.column.name);
        }
        let mut parts = Vec::new();
        if !tables.is_empty() {
            parts.push(format!("create {}", tables.join(" ")));
        }
        if added.len() == 1
            && let Some((table, columns)) = added.iter().next()
        {
            if columns.len() == 1 {
                parts.push(format!("add {table} {}", columns[0]));
            } else {
                parts.push(format!("add {table} columns"));
            }
        } else if !added.is_empty() {
            parts.push("add columns".to_string());
        }
        if parts.is_empty() && !self.enum_values.is_empty() {
            let types: BTreeSet<&str> = self.enum_values.iter().map(|v| v.name.as_str()).collect();
            parts.push(format!(
                "add {} values",
                types.into_iter().collect::<Vec<_>>().join(" ")
            ));
        }
        if parts.is_empty() && !self.enums.is_empty() {
            let names: Vec<&str> = self.enums.iter().map(|e| e.name.as_str()).collect();
            parts.push(format!("create type {}", names.join(" ")));
        }
        if parts.is_empty() {
            parts.push("sync schema with models".to_string());
        }
        parts.join(" and ")
    }
}

/// An enum type to create.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumPlan {
    pub schema: String,
    pub name: String,
    pub values: Vec<String>,
}

/// `ALTER TYPE schema.name ADD VALUE IF NOT EXISTS 'value' [BEFORE 'before']`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValuePlan {
    pub schema: String,
    pub name: String,
    pub value: String,
    /// The existing value it goes before, to keep the model's order; `None`: at the end.
    pub before: Option<String>,
    /// A column this plan adds uses the type with a default: PostgreSQL refuses a new value
    /// in the transaction that added it, so the value must be committed first.
    pub used_by_default: bool,
}

/// A table to create with the model's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct TablePlan {
    pub schema: String,
    pub name: String,
    /// Who maps it, for comments: `Review in app/models.py:12`.
    pub mapped_by: String,
    pub columns: Vec<ColumnPlan>,
}

impl TablePlan {
    /// The primary key's columns, in model order.
    pub fn primary_key(&self) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.as_str())
            .collect()
    }
}

/// A column to add to a table that exists.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnAdd {
    pub schema: String,
    pub table: String,
    pub mapped_by: String,
    pub column: ColumnPlan,
}

/// A column as the model maps it, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPlan {
    pub name: String,
    /// The PostgreSQL type; `None` when the model's type could not be mapped.
    pub ty: Option<SqlType>,
    /// The model's type as written, for a note when `ty` is `None`.
    pub type_text: Option<String>,
    /// The native enum type it uses, qualified: (schema, name).
    pub enum_type: Option<(String, String)>,
    pub nullable: bool,
    pub primary_key: bool,
    /// An integer primary key SQLAlchemy makes `SERIAL` (autoincrement).
    pub serial: bool,
    /// The `server_default=` as SQL.
    pub default: Option<String>,
    /// Written inline when the target exists before this column is created.
    pub references: Option<Reference>,
    pub comment: Option<String>,
    pub index: bool,
    pub unique: bool,
    /// The model line.
    pub location: Location,
}

impl ColumnPlan {
    /// The SQL type to write: the mapped type, the qualified enum type, or `TEXT` with a
    /// note to adjust it.
    pub fn sql_type(&self) -> String {
        if let Some((schema, name)) = &self.enum_type {
            let array = self.ty.as_ref().is_some_and(|t| t.array);
            return format!(
                "{}.{}{}",
                super::sql::ident(schema),
                super::sql::ident(name),
                if array { "[]" } else { "" }
            );
        }
        match (&self.ty, &self.type_text) {
            (Some(ty), _) if self.serial => match &*ty.name {
                "bigint" => "BIGSERIAL".to_string(),
                "smallint" => "SMALLSERIAL".to_string(),
                _ => "SERIAL".to_string(),
            },
            (Some(ty), _) => ty.to_sql(),
            (None, Some(text)) => format!("TEXT /* adjust: the model's type is {text} */"),
            (None, None) => "TEXT /* adjust to the model's type */".to_string(),
        }
    }
}

/// A foreign key's target, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub schema: String,
    pub table: String,
    pub column: String,
}

/// A foreign key added after the tables: `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignKeyPlan {
    pub schema: String,
    pub table: String,
    pub column: String,
    pub references: Reference,
    /// PostgreSQL's own name for it: `<table>_<column>_fkey`.
    pub name: String,
}

/// Something the user must know about the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub message: String,
    pub location: Option<Location>,
    /// The finding the check will report once the migration runs, when the note is one
    /// (DG007 for a foreign key whose target no migration creates).
    pub rule: Option<Rule>,
}

/// What the plan reads.
pub struct Inputs<'a> {
    /// The findings to close; others are passed over.
    pub findings: &'a [Finding],
    pub tables: &'a [ModelTable],
    pub sources: &'a [MigrationSource],
    pub default_schema: &'a str,
}

/// Whether `fix` can close a finding of this rule.
pub fn closes(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::ColumnWithoutMigration
            | Rule::TableWithoutMigration
            | Rule::EnumValueWithoutMigration
            | Rule::EnumTypeWithoutMigration
    )
}

/// Builds the plan that closes every DG001–DG004 of `inputs.findings`.
pub fn plan(inputs: &Inputs) -> Plan {
    let mut builder = Builder {
        inputs,
        plan: Plan::default(),
    };
    builder.build();
    builder.plan
}

struct Builder<'i, 'a> {
    inputs: &'i Inputs<'a>,
    plan: Plan,
}

impl<'a> Builder<'_, 'a> {
    fn schema_of(&self, table: &ModelTable) -> String {
        table
            .schema
            .clone()
            .unwrap_or_else(|| self.inputs.default_schema.to_string())
    }

    fn model_table(&self, schema: &str, name: &str) -> Option<&'a ModelTable> {
        let tables: &'a [ModelTable] = self.inputs.tables;
        tables
            .iter()
            .find(|t| t.name == name && self.schema_of(t) == schema)
    }

    /// Whether any source creates the table (one database: any source counts).
    fn table_exists(&self, schema: &str, name: &str) -> bool {
        self.inputs
            .sources
            .iter()
            .any(|s| s.schema.table(schema, name).is_some())
    }

    fn column_exists(&self, schema: &str, table: &str, column: &str) -> bool {
        self.inputs.sources.iter().any(|s| {
            s.schema
                .table(schema, table)
                .is_some_and(|t| t.column(column).is_some())
        })
    }

    /// The values of an existing enum type (the first source that has it).
    fn enum_values(&self, schema: &str, name: &str) -> Option<Vec<String>> {
        self.inputs
            .sources
            .iter()
            .find_map(|s| s.schema.enum_type(schema, name))
            .map(|e| e.values.clone())
    }

    fn schema_exists(&self, schema: &str) -> bool {
        schema == "public"
            || schema == self.inputs.default_schema
            || self
                .inputs
                .sources
                .iter()
                .any(|s| s.schema.schemas.contains(schema))
    }

    fn build(&mut self) {
        let mut new_tables: Vec<(String, String)> = Vec::new();
        let mut added: Vec<(String, String, String)> = Vec::new();
        let mut enum_types: Vec<(String, String, Vec<String>)> = Vec::new();
        for finding in self.inputs.findings {
            let t = &finding.target;
            match finding.rule {
                Rule::TableWithoutMigration => {
                    let key = (t.schema.clone(), t.table.clone());
                    if !new_tables.contains(&key) {
                        new_tables.push(key);
                    }
                }
                Rule::ColumnWithoutMigration => {
                    if let Some(column) = &t.column {
                        let key = (t.schema.clone(), t.table.clone(), column.clone());
                        if !added.contains(&key) {
                            added.push(key);
                        }
                    }
                }
                Rule::EnumTypeWithoutMigration | Rule::EnumValueWithoutMigration => {
                    if let (Some(qualified), Some(column)) = (&t.r#enum, &t.column)
                        && let Some((schema, name)) = qualified.split_once('.')
                        && let Some(model_enum) = self
                            .model_table(&t.schema, &t.table)
                            .and_then(|m| m.columns.iter().find(|c| c.name == *column))
                            .and_then(|c| c.enum_type())
                    {
                        let key = (
                            schema.to_string(),
                            name.to_string(),
                            model_enum.values.clone(),
                        );
                        if !enum_types.iter().any(|(s, n, _)| s == schema && n == name) {
                            enum_types.push(key);
                        }
                    }
                }
                _ => {}
            }
        }
        new_tables.sort();
        // Columns of a table this plan creates are in its CREATE TABLE.
        added.retain(|(s, t, _)| !new_tables.contains(&(s.clone(), t.clone())));

        let mut tables: Vec<TablePlan> = Vec::new();
        for (schema, name) in &new_tables {
            let Some(model) = self.model_table(schema, name) else {
                continue;
            };
            let single_pk = model.columns.iter().filter(|c| c.primary_key).count() == 1;
            tables.push(TablePlan {
                schema: schema.clone(),
                name: name.clone(),
                mapped_by: mapped_by(model),
                columns: model
                    .columns
                    .iter()
                    .map(|c| self.column(c, single_pk))
                    .collect(),
            });
        }
        let mut columns: Vec<ColumnAdd> = Vec::new();
        for (schema, table, column) in &added {
            let Some(model) = self.model_table(schema, table) else {
                continue;
            };
            let Some(model_column) = model.columns.iter().find(|c| c.name == *column) else {
                continue;
            };
            let mut plan = self.column(model_column, false);
            plan.serial = false;
            if !plan.nullable && plan.default.is_none() && self.table_exists(schema, table) {
                self.plan.notes.push(Note {
                    message: format!(
                        "`{schema}.{table}.{column}` is NOT NULL without a server default: adding it fails if `{schema}.{table}` holds rows; give the model a `server_default=` or backfill in steps (add it NULL, fill it, then SET NOT NULL)"
                    ),
                    location: Some(model_column.location.clone()),
                    rule: None,
                });
            }
            columns.push(ColumnAdd {
                schema: schema.clone(),
                table: table.clone(),
                mapped_by: mapped_by(model),
                column: plan,
            });
        }

        // Enum types: those the findings name, and those a new column uses.
        for plan_column in tables
            .iter()
            .flat_map(|t| t.columns.iter())
            .chain(columns.iter().map(|c| &c.column))
        {
            if let Some((schema, name)) = &plan_column.enum_type
                && !enum_types.iter().any(|(s, n, _)| s == schema && n == name)
                && let Some(values) = self.model_enum_values(schema, name)
            {
                enum_types.push((schema.clone(), name.clone(), values));
            }
        }
        enum_types.sort();
        for (schema, name, values) in enum_types {
            match self.enum_values(&schema, &name) {
                None => self.plan.enums.push(EnumPlan {
                    schema,
                    name,
                    values,
                }),
                Some(existing) => {
                    let used_by_default = tables
                        .iter()
                        .flat_map(|t| t.columns.iter())
                        .chain(columns.iter().map(|c| &c.column))
                        .any(|c| {
                            c.default.is_some()
                                && c.enum_type.as_ref() == Some(&(schema.clone(), name.clone()))
                        });
                    for (i, value) in values.iter().enumerate() {
                        if existing.contains(value) {
                            continue;
                        }
                        let before = values[i + 1..]
                            .iter()
                            .find(|v| existing.contains(v))
                            .cloned();
                        self.plan.enum_values.push(EnumValuePlan {
                            schema: schema.clone(),
                            name: name.clone(),
                            value: value.clone(),
                            before,
                            used_by_default,
                        });
                    }
                }
            }
        }

        // Schemas no migration creates.
        let mut schemas: BTreeSet<String> = BTreeSet::new();
        for schema in tables
            .iter()
            .map(|t| &t.schema)
            .chain(self.plan.enums.iter().map(|e| &e.schema))
        {
            if !self.schema_exists(schema) {
                schemas.insert(schema.clone());
            }
        }
        self.plan.schemas = schemas.into_iter().collect();

        self.order_and_link(tables, columns);
    }

    /// The values of the model enum `schema.name`, from the first column that uses it.
    fn model_enum_values(&self, schema: &str, name: &str) -> Option<Vec<String>> {
        self.inputs.tables.iter().find_map(|t| {
            t.columns.iter().find_map(|c| {
                let e = c.enum_type().filter(|e| e.native)?;
                let type_schema = e
                    .schema
                    .clone()
                    .unwrap_or_else(|| self.inputs.default_schema.to_string());
                (type_schema == schema && e.name == name).then(|| e.values.clone())
            })
        })
    }

    fn column(&self, column: &ModelColumn, single_pk: bool) -> ColumnPlan {
        let enum_type = column.enum_type().filter(|e| e.native).map(|e| {
            (
                e.schema
                    .clone()
                    .unwrap_or_else(|| self.inputs.default_schema.to_string()),
                e.name.clone(),
            )
        });
        let integer = column
            .ty
            .as_ref()
            .is_some_and(|t| !t.array && matches!(&*t.name, "integer" | "bigint" | "smallint"));
        let serial = single_pk
            && column.primary_key
            && integer
            && column.foreign_keys().is_empty()
            && !column.server_default;
        ColumnPlan {
            name: column.name.to_string(),
            ty: column.ty.clone(),
            type_text: column.type_text.as_ref().map(ToString::to_string),
            enum_type,
            nullable: !column.primary_key && column.nullable != Some(false),
            primary_key: column.primary_key,
            serial,
            default: column.server_default_sql().map(str::to_string),
            references: None,
            comment: column.comment().map(str::to_string),
            index: column.index,
            unique: column.unique,
            location: column.location.clone(),
        }
    }

    /// Sorts new tables parents first and attaches foreign keys: inline where the target
    /// exists before the column is created, else after everything.
    fn order_and_link(&mut self, tables: Vec<TablePlan>, mut columns: Vec<ColumnAdd>) {
        // Resolve every foreign key first, against the schema and the plan.
        let planned_tables: Vec<(String, String)> = tables
            .iter()
            .map(|t| (t.schema.clone(), t.name.clone()))
            .collect();
        let planned_columns: Vec<(String, String, String)> = columns
            .iter()
            .map(|c| (c.schema.clone(), c.table.clone(), c.column.name.clone()))
            .collect();
        let mut table_refs: Vec<Vec<Option<Reference>>> = Vec::new();
        for table in &tables {
            let model = self.model_table(&table.schema, &table.name);
            let mut refs = Vec::new();
            for c in &table.columns {
                let model_column = model.and_then(|m| m.columns.iter().find(|x| x.name == c.name));
                refs.push(model_column.and_then(|mc| {
                    self.resolve_fk(
                        &table.schema,
                        &table.name,
                        mc,
                        &planned_tables,
                        &planned_columns,
                    )
                }));
            }
            table_refs.push(refs);
        }
        let mut column_refs: Vec<Option<Reference>> = Vec::new();
        for add in &columns {
            let model_column = self
                .model_table(&add.schema, &add.table)
                .and_then(|m| m.columns.iter().find(|x| x.name == add.column.name));
            column_refs.push(model_column.and_then(|mc| {
                self.resolve_fk(
                    &add.schema,
                    &add.table,
                    mc,
                    &planned_tables,
                    &planned_columns,
                )
            }));
        }

        // Kahn's algorithm over the new tables; ties by (schema, name).
        let n = tables.len();
        let index_of = |schema: &str, name: &str| {
            planned_tables
                .iter()
                .position(|(s, t)| s == schema && t == name)
        };
        let mut parents: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
        for (i, refs) in table_refs.iter().enumerate() {
            for r in refs.iter().flatten() {
                if let Some(p) = index_of(&r.schema, &r.table)
                    && p != i
                {
                    parents[i].insert(p);
                }
            }
        }
        let mut placed = vec![false; n];
        let mut order: Vec<usize> = Vec::new();
        while order.len() < n {
            let ready = (0..n).find(|&i| !placed[i] && parents[i].iter().all(|&p| placed[p]));
            // A cycle: the first waiting table goes anyway; its keys to later tables wait.
            let next = ready.or_else(|| (0..n).find(|&i| !placed[i]));
            let Some(next) = next else { break };
            placed[next] = true;
            order.push(next);
        }
        let position: Vec<usize> = {
            let mut p = vec![0; n];
            for (pos, &i) in order.iter().enumerate() {
                p[i] = pos;
            }
            p
        };

        let mut slots: Vec<Option<TablePlan>> = tables.into_iter().map(Some).collect();
        for &i in &order {
            let Some(mut table) = slots.get_mut(i).and_then(Option::take) else {
                continue;
            };
            for (column, reference) in table.columns.iter_mut().zip(&table_refs[i]) {
                let Some(reference) = reference else { continue };
                let inline = match index_of(&reference.schema, &reference.table) {
                    // A table this plan creates: inline when it comes first (or is this one)
                    // and declares the column in its CREATE TABLE.
                    Some(p) => {
                        position[p] <= position[i]
                            && !planned_columns.iter().any(|(s, t, c)| {
                                s == &reference.schema
                                    && t == &reference.table
                                    && c == &reference.column
                            })
                    }
                    None => !planned_columns.iter().any(|(s, t, c)| {
                        s == &reference.schema && t == &reference.table && c == &reference.column
                    }),
                };
                if inline {
                    column.references = Some(reference.clone());
                } else {
                    self.plan.foreign_keys.push(ForeignKeyPlan {
                        schema: table.schema.clone(),
                        table: table.name.clone(),
                        column: column.name.clone(),
                        references: reference.clone(),
                        name: format!("{}_{}_fkey", table.name, column.name),
                    });
                }
            }
            self.plan.tables.push(table);
        }
        for (add, reference) in columns.iter_mut().zip(column_refs) {
            let Some(reference) = reference else { continue };
            let onto_added = planned_columns.iter().any(|(s, t, c)| {
                s == &reference.schema && t == &reference.table && c == &reference.column
            });
            if onto_added {
                self.plan.foreign_keys.push(ForeignKeyPlan {
                    schema: add.schema.clone(),
                    table: add.table.clone(),
                    column: add.column.name.clone(),
                    references: reference,
                    name: format!("{}_{}_fkey", add.table, add.column.name),
                });
            } else {
                add.column.references = Some(reference);
            }
        }
        self.plan.columns = columns;
    }

    /// The first foreign key of a model column, resolved against the migrations and the
    /// plan; a target neither has is a note (DG007 stays).
    fn resolve_fk(
        &mut self,
        schema: &str,
        table: &str,
        column: &ModelColumn,
        planned_tables: &[(String, String)],
        planned_columns: &[(String, String, String)],
    ) -> Option<Reference> {
        let written = column.foreign_keys().first()?;
        let (rest, target_column) = written.rsplit_once('.')?;
        let mut candidates: Vec<(String, String)> = Vec::new();
        match rest.rsplit_once('.') {
            Some((s, t)) => candidates.push((s.to_string(), t.to_string())),
            None => {
                candidates.push((schema.to_string(), rest.to_string()));
                candidates.push((self.inputs.default_schema.to_string(), rest.to_string()));
                if let Some(model) = self
                    .inputs
                    .tables
                    .iter()
                    .find(|t| t.class_name.as_deref() == Some(rest))
                {
                    candidates.push((self.schema_of(model), model.name.clone()));
                }
            }
        }
        let found = candidates.iter().find(|(s, t)| {
            let planned_table = planned_tables.iter().any(|(ps, pt)| ps == s && pt == t)
                && self
                    .model_table(s, t)
                    .is_some_and(|m| m.columns.iter().any(|c| c.name == target_column));
            let planned_column = planned_columns
                .iter()
                .any(|(ps, pt, pc)| ps == s && pt == t && pc == target_column);
            planned_table || planned_column || self.column_exists(s, t, target_column)
        });
        match found {
            Some((s, t)) => Some(Reference {
                schema: s.clone(),
                table: t.clone(),
                column: target_column.to_string(),
            }),
            None => {
                self.plan.notes.push(Note {
                    message: format!(
                        "the foreign key of `{schema}.{table}.{}` to `{written}` is not written: no migration creates its target (DG007); create the parent first",
                        column.name
                    ),
                    location: Some(column.location.clone()),
                    rule: Some(Rule::ForeignKeyTargetMissing),
                });
                None
            }
        }
    }
}

/// `Review in app/models.py:12`, or `a Table(…) in app/models.py:30`.
fn mapped_by(table: &ModelTable) -> String {
    let who = table
        .class_name
        .clone()
        .unwrap_or_else(|| "a Table(…)".to_string());
    format!("{who} in {}:{}", table.location.path, table.location.line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Target;
    use crate::rules::test_support::{model_table, source, with_column};

    fn missing_table(schema: &str, table: &str) -> Finding {
        Finding::new(
            Rule::TableWithoutMigration,
            Location::new("models.py", 1, 1),
            Target::table(schema, table),
            "",
            "",
        )
    }

    fn plan_for(findings: &[Finding], tables: &[ModelTable], migrations: &[&str]) -> Plan {
        let sources = vec![source("SQL migrations", "m", migrations)];
        plan(&Inputs {
            findings,
            tables,
            sources: &sources,
            default_schema: "public",
        })
    }

    fn fk(table: ModelTable, column: &str, target: &str) -> ModelTable {
        with_column(table, column, |c| {
            c.set_foreign_keys(vec![target.to_string()])
        })
    }

    #[test]
    fn parents_are_created_before_children_and_a_cycle_defers_one_key() {
        let accounts = fk(
            model_table(
                "billing",
                "accounts",
                &[("id", "INTEGER"), ("zone_id", "INTEGER")],
            ),
            "zone_id",
            "billing.zones.id",
        );
        let zones = model_table("billing", "zones", &[("id", "INTEGER")]);
        let findings = [
            missing_table("billing", "accounts"),
            missing_table("billing", "zones"),
        ];
        let plan = plan_for(&findings, &[accounts.clone(), zones], &[]);
        let names: Vec<&str> = plan.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["zones", "accounts"]);
        assert_eq!(plan.schemas, vec!["billing"]);
        assert!(plan.foreign_keys.is_empty());
        assert_eq!(
            plan.tables[1].columns[1].references,
            Some(Reference {
                schema: "billing".into(),
                table: "zones".into(),
                column: "id".into()
            })
        );
        assert!(
            plan.tables[0].columns[0].serial,
            "an integer primary key is SERIAL"
        );

        // zones → accounts → zones: one of the keys waits until both tables exist.
        let zones = fk(
            model_table(
                "billing",
                "zones",
                &[("id", "INTEGER"), ("owner_id", "INTEGER")],
            ),
            "owner_id",
            "accounts.id",
        );
        let plan = plan_for(&findings, &[accounts, zones], &[]);
        assert_eq!(plan.tables.len(), 2);
        assert_eq!(plan.foreign_keys.len(), 1, "{plan:#?}");
        let key = &plan.foreign_keys[0];
        assert_eq!(
            (key.table.as_str(), key.name.as_str()),
            ("accounts", "accounts_zone_id_fkey")
        );
        insta::assert_snapshot!(super::super::sql::render(
            &plan,
            &super::super::sql::Header {
                description: "create accounts zones",
                created: "2025-01-02 03:04:05 UTC",
                postgres_version: 13,
            }
        ));
    }

    #[test]
    fn enum_values_keep_the_model_order_and_new_columns_get_their_type() {
        let mut bookings = model_table(
            "core",
            "bookings",
            &[("id", "INTEGER"), ("status", "TEXT"), ("kind", "TEXT")],
        );
        for (column, name, values) in [
            (
                "status",
                "status",
                &["pending", "held", "confirmed", "cancelled"][..],
            ),
            ("kind", "kind", &["a", "b"][..]),
        ] {
            bookings = with_column(bookings, column, |c| {
                crate::rules::test_support::set_enum(c, Some("core"), name, values);
                c.set_server_default_sql((column == "kind").then(|| "'a'".into()));
            });
        }
        let findings = [
            Finding::new(
                Rule::EnumValueWithoutMigration,
                Location::new("models.py", 3, 5),
                Target::column("core", "bookings", "status").with_enum_value("core.status", "held"),
                "",
                "",
            ),
            Finding::new(
                Rule::ColumnWithoutMigration,
                Location::new("models.py", 4, 5),
                Target::column("core", "bookings", "kind"),
                "",
                "",
            ),
        ];
        let plan = plan_for(
            &findings,
            &[bookings],
            &[
                "CREATE SCHEMA core; CREATE TYPE core.status AS ENUM ('pending', 'confirmed'); CREATE TABLE core.bookings (id serial primary key, status core.status);",
            ],
        );
        let values: Vec<(&str, Option<&str>)> = plan
            .enum_values
            .iter()
            .map(|v| (v.value.as_str(), v.before.as_deref()))
            .collect();
        assert_eq!(
            values,
            vec![("held", Some("confirmed")), ("cancelled", None)]
        );
        assert_eq!(plan.enums.len(), 1);
        assert_eq!(
            plan.enums[0].name, "kind",
            "the new column's type is created"
        );
        assert_eq!(plan.columns[0].column.sql_type(), "core.kind");
        assert!(plan.schemas.is_empty());
        assert_eq!(plan.description(), "add bookings kind");
    }
}
