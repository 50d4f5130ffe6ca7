//! `/contacts/imports`: a CSV file (multipart, at most 50 MB) becomes contacts in the
//! background; `GET` shows the status, the counts and (a Postline extension) the
//! first row errors.

use axum::{
    Json,
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    http::StatusCode,
};
use postline_core::{
    audience::imports::{ContactImport, MAX_FILE_BYTES, RowError},
    clock::api_time,
    ids::ContactImportId,
};
use serde_json::{Map, Value, json};

use crate::{AppState, auth::Manager, error::ApiError, extract::Params, wire};

/// The form fields read besides `file`.
const FIELDS: &[&str] = &["column_map", "on_conflict", "segments", "topics"];

fn summary(i: &ContactImport) -> Value {
    let mut body = json!({
        "object": "contact_import",
        "id": i.id,
        "status": i.status.as_str(),
        "created_at": api_time(i.created_at),
        "completed_at": i.completed_at.map(api_time),
        "counts": {
            "total": i.counts.total,
            "created": i.counts.created,
            "updated": i.counts.updated,
            "skipped": i.counts.skipped,
            "failed": i.counts.failed,
        },
    });
    if let Some(failure) = &i.failure {
        body["failure"] = json!(failure);
    }
    body
}

fn bad_form(error: impl std::fmt::Display) -> ApiError {
    ApiError::validation(format!("The request must be a multipart form with a `file` field: {error}."))
}

/// `POST /contacts/imports`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut form = form.map_err(bad_form)?;
    let mut file = None;
    let mut fields = Map::new();
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let bytes = field.bytes().await.map_err(bad_form)?;
            if bytes.len() > MAX_FILE_BYTES {
                return Err(ApiError::validation("The `file` is larger than 50 MB."));
            }
            file = Some(bytes);
        } else if FIELDS.contains(&name.as_str()) {
            fields.insert(name, Value::String(field.text().await.map_err(bad_form)?));
        }
    }
    let file = file.ok_or_else(|| ApiError::from(postline_core::Error::missing("file")))?;
    let import = state.postline.create_contact_import(p.team_id, &file, &fields).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": "contact_import", "id": import.id}))))
}

/// `GET /contacts/imports` (optionally `?status=`)
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let status = params.0.get("status").map(String::as_str);
    let page = state.postline.list_contact_imports(p.team_id, status, params.page()?).await?;
    Ok(Json(wire::list(page, |i| summary(&i))))
}

fn row_error(e: RowError) -> Value {
    json!({"row": e.row, "email": e.email, "message": e.message})
}

/// `GET /contacts/imports/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (import, errors) = state.postline.get_contact_import(p.team_id, ContactImportId::parse(&id)?).await?;
    let mut body = summary(&import);
    body["errors"] = json!(errors.into_iter().map(row_error).collect::<Vec<_>>());
    Ok(Json(body))
}
