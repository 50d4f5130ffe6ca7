//! Contact imports (`/contacts/imports`, `postline contacts import`): a CSV file with a
//! column mapping becomes contacts, as a durable background job.
//!
//! The file is stored with the import, in 1 MiB chunks, in the transaction that
//! accepts it; a worker leases the import and works through it in batches of rows, each
//! batch one transaction together with the import's progress (rows done, counts, the
//! per-row errors), so a crash resumes at the last committed batch and nothing is
//! counted twice. Memory stays bounded: one chunk and one batch at a time, however
//! large the file. Imported contacts are created or updated (`on_conflict`), put in
//! the given segments and given the topic choices; as the contract says, imports do
//! not emit `contact.created` events.
//!
//! The dashboard imports in two steps: the file is uploaded first and kept as a
//! `draft` import (stored like any other, so any node can serve the next step), and
//! the column mapping chosen after looking at its header and first rows queues it.
//! No worker takes a draft, the API never shows one, and drafts left unmapped for a
//! day are deleted when the next file is uploaded.

use serde_json::{Map, Value};

use super::{PropertyType, Subscription, contacts::topic_choices};
use crate::{
    Error, Result,
    clock::Timestamp,
    ids::{ContactImportId, SegmentId, TeamId, TopicId},
};

/// Largest file accepted (the contract's limit).
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// Size of the stored pieces of a file.
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Rows written per transaction.
pub const BATCH_ROWS: usize = 500;
/// Row errors kept per import (the counts go on beyond).
pub const MAX_ERRORS_KEPT: usize = 1_000;
/// Data rows a draft shows before its mapping is chosen.
pub const PREVIEW_ROWS: usize = 5;
/// How long an uploaded file waits for its mapping.
pub const DRAFT_LIFETIME: chrono::Duration = chrono::Duration::days(1);

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// Uploaded through the dashboard, waiting for its column mapping.
    Draft,
    Queued,
    InProgress,
    Completed,
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Draft => "draft",
            ImportStatus::Queued => "queued",
            ImportStatus::InProgress => "in_progress",
            ImportStatus::Completed => "completed",
            ImportStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(ImportStatus::Draft),
            "queued" => Some(ImportStatus::Queued),
            "in_progress" => Some(ImportStatus::InProgress),
            "completed" => Some(ImportStatus::Completed),
            "failed" => Some(ImportStatus::Failed),
            _ => None,
        }
    }
}

/// What happens to a row whose address already is a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Leave the contact as it is (the contract's default).
    Skip,
    /// Update it with the row's values.
    Upsert,
}

/// A mapped custom property: which column, read as which type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyColumn {
    pub key: String,
    pub column: String,
    pub property_type: PropertyType,
}

/// Which CSV column feeds which contact field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnMap {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub unsubscribed: Option<String>,
    pub properties: Vec<PropertyColumn>,
}

/// How an import was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// `None`: columns named like the fields (`email`, `first_name`, …, property keys).
    pub columns: Option<ColumnMap>,
    pub on_conflict: OnConflict,
    pub segments: Vec<SegmentId>,
    pub topics: Vec<(TopicId, Subscription)>,
}

/// Rows by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub total: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// One row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based, counting data rows (the header is row 0).
    pub row: u64,
    pub email: Option<String>,
    pub message: String,
}

/// An import and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactImport {
    pub id: ContactImportId,
    pub team_id: TeamId,
    pub status: ImportStatus,
    pub options: ImportOptions,
    pub counts: ImportCounts,
    /// Data rows handled so far (committed).
    pub rows_done: u64,
    pub file_bytes: u64,
    /// Why it failed, when it did.
    pub failure: Option<String>,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

fn json_field(raw: Option<&str>, field: &str) -> Result<Value> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(Value::Null),
        Some(raw) => {
            serde_json::from_str(raw).map_err(|e| Error::value(format!("The `{field}` field must be JSON: {e}.")))
        }
    }
}

fn column_name(value: &Value, what: &str) -> Result<String> {
    match value {
        Value::String(name) if !name.trim().is_empty() => Ok(name.trim().to_string()),
        _ => Err(Error::value(format!("`column_map.{what}` must name a column."))),
    }
}

fn column_map(value: &Value) -> Result<Option<ColumnMap>> {
    let map = match value {
        Value::Null => return Ok(None),
        Value::Object(map) => map,
        _ => return Err(Error::value("The `column_map` must be a JSON object.")),
    };
    let optional = |field: &str| map.get(field).filter(|v| !v.is_null()).map(|v| column_name(v, field)).transpose();
    let email = map.get("email").filter(|v| !v.is_null()).ok_or_else(|| Error::missing("column_map.email"))?;
    let mut properties = Vec::new();
    match map.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(entries)) => {
            for (key, spec) in entries {
                let (column, raw_type) = match spec {
                    Value::String(column) => (column_name(&Value::String(column.clone()), key)?, "string"),
                    Value::Object(spec) => (
                        column_name(spec.get("column").unwrap_or(&Value::Null), &format!("properties.{key}.column"))?,
                        spec.get("type").and_then(Value::as_str).unwrap_or("string"),
                    ),
                    _ => {
                        return Err(Error::value(format!(
                            "`column_map.properties.{key}` must be {{\"column\", \"type\"}}."
                        )));
                    }
                };
                let property_type = PropertyType::parse(raw_type).ok_or_else(|| {
                    Error::value(format!(
                        "`column_map.properties.{key}.type` must be `string` or `number` (contact properties have no \
                         `{raw_type}` type)."
                    ))
                })?;
                properties.push(PropertyColumn { key: key.clone(), column, property_type });
            }
        }
        Some(_) => return Err(Error::value("`column_map.properties` must be an object.")),
    }
    Ok(Some(ColumnMap {
        email: column_name(email, "email")?,
        first_name: optional("first_name")?,
        last_name: optional("last_name")?,
        unsubscribed: optional("unsubscribed")?,
        properties,
    }))
}

/// The import's options from the multipart fields (`column_map`, `segments` and
/// `topics` are JSON strings, `on_conflict` is `skip` or `upsert`).
pub fn parse_options(fields: &Map<String, Value>) -> Result<ImportOptions> {
    let text = |name: &str| fields.get(name).and_then(Value::as_str);
    let on_conflict = match text("on_conflict").map(str::trim) {
        None | Some("") | Some("skip") => OnConflict::Skip,
        Some("upsert") => OnConflict::Upsert,
        Some(other) => return Err(Error::value(format!("`on_conflict` must be `skip` or `upsert`, not `{other}`."))),
    };
    let segments = match json_field(text("segments"), "segments")? {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let raw = item.as_str().or_else(|| item.get("id").and_then(Value::as_str)).ok_or_else(|| {
                    Error::value("Each of `segments` must be a segment id or an object with an `id`.")
                })?;
                SegmentId::parse(raw)
            })
            .collect::<Result<_>>()?,
        _ => return Err(Error::value("The `segments` field must be a JSON array.")),
    };
    let topics = topic_choices(&json_field(text("topics"), "topics")?)?;
    Ok(ImportOptions {
        columns: column_map(&json_field(text("column_map"), "column_map")?)?,
        on_conflict,
        segments,
        topics,
    })
}

/// The column positions an import reads, resolved against the file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub email: usize,
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    pub unsubscribed: Option<usize>,
    pub properties: Vec<(String, usize, PropertyType)>,
}

/// Finds the mapped columns in the header (exact names with a column map; without
/// one, the field names and property keys, ignoring case and surrounding spaces).
pub fn layout(header: &[String], columns: Option<&ColumnMap>, defined: &[(String, PropertyType)]) -> Result<Layout> {
    let find = |name: &str, exact: bool| {
        header.iter().position(|h| if exact { h.trim() == name } else { h.trim().eq_ignore_ascii_case(name) })
    };
    match columns {
        Some(map) => {
            let required = |name: &str| {
                find(name, true)
                    .ok_or_else(|| Error::value(format!("The file has no column `{name}` (from `column_map`).")))
            };
            let mut properties = Vec::new();
            for p in &map.properties {
                let Some((_, defined_type)) = defined.iter().find(|(key, _)| *key == p.key) else {
                    return Err(Error::value(format!(
                        "`{}` is not a contact property of this team; create it first (keys are case-sensitive).",
                        p.key
                    )));
                };
                if *defined_type != p.property_type {
                    return Err(Error::value(format!(
                        "The property `{}` is a {}, but `column_map` reads it as a {}.",
                        p.key,
                        defined_type.as_str(),
                        p.property_type.as_str()
                    )));
                }
                properties.push((p.key.clone(), required(&p.column)?, p.property_type));
            }
            Ok(Layout {
                email: required(&map.email)?,
                first_name: map.first_name.as_deref().map(required).transpose()?,
                last_name: map.last_name.as_deref().map(required).transpose()?,
                unsubscribed: map.unsubscribed.as_deref().map(required).transpose()?,
                properties,
            })
        }
        None => Ok(Layout {
            email: find("email", false)
                .ok_or_else(|| Error::value("The file has no `email` column; name it so or give a `column_map`."))?,
            first_name: find("first_name", false),
            last_name: find("last_name", false),
            unsubscribed: find("unsubscribed", false),
            properties: defined
                .iter()
                .filter_map(|(key, kind)| find(key, true).map(|at| (key.clone(), at, *kind)))
                .collect(),
        }),
    }
}

/// A row read through the layout, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub row: u64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub unsubscribed: Option<bool>,
    pub properties: Map<String, Value>,
}

fn truthy(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" | "unsubscribed" => Some(true),
        "false" | "no" | "0" | "n" | "" | "subscribed" => Some(false),
        _ => None,
    }
}

/// Reads one data row (`row` is its 1-based number) or says what is wrong with it.
pub fn read_row(row: u64, record: &[String], layout: &Layout) -> std::result::Result<ImportRow, RowError> {
    let cell = |at: usize| record.get(at).map(|c| c.trim()).unwrap_or("");
    let email = cell(layout.email).to_string();
    let fail = |message: String| RowError { row, email: (!email.is_empty()).then(|| email.clone()), message };
    if email.is_empty() {
        return Err(fail("the email is empty".into()));
    }
    if !crate::emails::address::valid_address(&email) {
        return Err(fail(format!("`{email}` is not a valid email address")));
    }
    let name = |at: Option<usize>| {
        at.map(cell).filter(|c| !c.is_empty()).map(|c| c.chars().take(super::contacts::MAX_NAME_CHARS).collect())
    };
    let unsubscribed = match layout.unsubscribed.map(cell) {
        None => None,
        Some(raw) => Some(truthy(raw).ok_or_else(|| fail(format!("`{raw}` is not true or false (unsubscribed)")))?),
    };
    let mut properties = Map::new();
    for (key, at, kind) in &layout.properties {
        let raw = cell(*at);
        if raw.is_empty() {
            continue;
        }
        let value = match kind {
            PropertyType::String => {
                Value::String(raw.chars().take(super::properties::MAX_STRING_VALUE_CHARS).collect())
            }
            PropertyType::Number => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => serde_json::Number::from_f64(n)
                    .map(|n| match n.as_f64() {
                        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
                        _ => Value::Number(n),
                    })
                    .unwrap_or(Value::Null),
                _ => return Err(fail(format!("`{raw}` is not a number (property `{key}`)"))),
            },
        };
        properties.insert(key.clone(), value);
    }
    Ok(ImportRow {
        row,
        email,
        first_name: name(layout.first_name),
        last_name: name(layout.last_name),
        unsubscribed,
        properties,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn options_come_from_json_string_fields() {
        let options = parse_options(&fields(&[
            ("column_map", r#"{"email":"Email","first_name":"First Name","properties":{"plan":{"column":"Plan","type":"string"}}}"#),
            ("on_conflict", "upsert"),
        ]))
        .unwrap();
        assert_eq!(options.on_conflict, OnConflict::Upsert);
        let columns = options.columns.unwrap();
        assert_eq!(columns.email, "Email");
        assert_eq!(columns.properties[0].column, "Plan");
        assert_eq!(parse_options(&fields(&[])).unwrap().on_conflict, OnConflict::Skip, "skip by default");
        assert!(parse_options(&fields(&[("on_conflict", "replace")])).is_err());
        assert!(parse_options(&fields(&[("column_map", "{not json")])).is_err());
        assert!(parse_options(&fields(&[("column_map", r#"{"first_name":"F"}"#)])).is_err(), "email is required");
        let boolean = r#"{"email":"E","properties":{"vip":{"column":"VIP","type":"boolean"}}}"#;
        assert!(parse_options(&fields(&[("column_map", boolean)])).is_err());
    }

    #[test]
    fn layouts_find_mapped_or_conventionally_named_columns() {
        let defined = vec![("plan".to_string(), PropertyType::String), ("seats".to_string(), PropertyType::Number)];
        let by_name = layout(&header(&["Email", "First_Name", "seats", "other"]), None, &defined).unwrap();
        assert_eq!((by_name.email, by_name.first_name, by_name.last_name), (0, Some(1), None));
        assert_eq!(by_name.properties, vec![("seats".to_string(), 2, PropertyType::Number)]);
        assert!(layout(&header(&["address"]), None, &defined).is_err());

        let map = ColumnMap {
            email: "E-mail".into(),
            properties: vec![PropertyColumn {
                key: "plan".into(),
                column: "Plan".into(),
                property_type: PropertyType::String,
            }],
            ..ColumnMap::default()
        };
        assert_eq!(layout(&header(&["Plan", "E-mail"]), Some(&map), &defined).unwrap().email, 1);
        assert!(layout(&header(&["Plan", "Email"]), Some(&map), &defined).is_err(), "mapped columns must exist");
        let wrong_type = ColumnMap {
            properties: vec![PropertyColumn {
                key: "plan".into(),
                column: "Plan".into(),
                property_type: PropertyType::Number,
            }],
            ..map.clone()
        };
        assert!(layout(&header(&["Plan", "E-mail"]), Some(&wrong_type), &defined).is_err());
        let unknown = ColumnMap {
            properties: vec![PropertyColumn {
                key: "Plan".into(),
                column: "Plan".into(),
                property_type: PropertyType::String,
            }],
            ..map
        };
        assert!(layout(&header(&["Plan", "E-mail"]), Some(&unknown), &defined).is_err(), "keys are case-sensitive");
    }

    #[test]
    fn rows_are_read_or_explained() {
        let layout = Layout {
            email: 0,
            first_name: Some(1),
            last_name: None,
            unsubscribed: Some(2),
            properties: vec![("seats".into(), 3, PropertyType::Number), ("plan".into(), 4, PropertyType::String)],
        };
        let row = |cells: &[&str]| read_row(7, &header(cells), &layout);
        let good = row(&["ann@example.com", " Ann ", "yes", "12", "pro"]).unwrap();
        assert_eq!(good.first_name.as_deref(), Some("Ann"));
        assert_eq!(good.unsubscribed, Some(true));
        assert_eq!(Value::Object(good.properties), json!({"seats": 12, "plan": "pro"}));
        assert_eq!(row(&["bob@example.com", "", "", "", ""]).unwrap().properties, Map::new());
        let bad_email = row(&["not-an-address", "", "", "", ""]).unwrap_err();
        assert_eq!((bad_email.row, bad_email.email.as_deref()), (7, Some("not-an-address")));
        assert!(row(&["", "", "", "", ""]).unwrap_err().message.contains("empty"));
        assert!(row(&["c@example.com", "", "maybe", "", ""]).unwrap_err().message.contains("unsubscribed"));
        assert!(row(&["c@example.com", "", "", "twelve", ""]).unwrap_err().message.contains("seats"));
        assert_eq!(row(&["c@example.com", "", "", "2.5", ""]).unwrap().properties["seats"], json!(2.5));
        assert_eq!(read_row(1, &header(&["short@example.com"]), &layout).unwrap().email, "short@example.com");
    }
}
