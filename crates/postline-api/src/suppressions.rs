//! `/suppressions`: the team's suppression list — the same list the MTA consults
//! before every delivery. Entries are named by id or by address (percent-encoded by
//! both SDKs); each says where it came from (`bounce`, `complaint`, `manual`) and,
//! for bounces and complaints, which email (`source_id`).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{clock::api_time, delivery::suppression::Suppression};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    wire,
};

/// An entry; `source_id` (the email that bounced or complained) is left out for
/// entries added by hand, as the contract types it as a string, never `null`.
fn entry(s: &Suppression) -> Value {
    let mut body = json!({
        "object": "suppression",
        "id": s.id,
        "email": s.email,
        "origin": s.reason.origin(),
        "created_at": api_time(s.created_at),
    });
    if let Some(source) = s.source_email_id {
        body["source_id"] = json!(source);
    }
    body
}

/// `POST /suppressions`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let added = state.postline.add_suppression(p.team_id, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": "suppression", "id": added.id}))))
}

/// `GET /suppressions` (optionally `?origin=`)
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let origin = params.0.get("origin").map(String::as_str);
    let page = state.postline.list_suppressions(p.team_id, origin, params.page()?).await?;
    Ok(Json(wire::list(page, |s| {
        let mut item = entry(&s);
        item.as_object_mut().map(|o| o.remove("object"));
        item
    })))
}

/// `GET /suppressions/{id or email}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(entry(&state.postline.get_suppression(p.team_id, &id).await?)))
}

/// `DELETE /suppressions/{id or email}`: the address may be sent to again.
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let removed = state.postline.remove_suppression(p.team_id, &id).await?;
    Ok(Json(json!({"object": "suppression", "id": removed.id, "deleted": true})))
}

/// `POST /suppressions/batch/add`
pub async fn add_batch(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let added = state.postline.add_suppressions(p.team_id, &body).await?;
    let data: Vec<Value> = added.iter().map(|s| json!({"object": "suppression", "id": s.id})).collect();
    Ok((StatusCode::CREATED, Json(json!({"data": data}))))
}

/// `POST /suppressions/batch/remove`: `emails` or `ids`, not both.
pub async fn remove_batch(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let removed = state.postline.remove_suppressions(p.team_id, &body).await?;
    let data: Vec<Value> =
        removed.iter().map(|s| json!({"object": "suppression", "id": s.id, "deleted": true})).collect();
    Ok(Json(json!({"data": data})))
}
