//! `/segments`, and `/audiences` — the deprecated name for the same thing: an audience
//! id is a segment id, shown with `object: "audience"`. Also the paths the SDKs call
//! that the contract lacks (`PATCH /segments/{id}`, `GET /segments/{id}/contacts`, and
//! contacts under `/audiences/{id}/contacts`).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{audience::Segment, clock::api_time, ids::SegmentId};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Manager,
    contacts::{contact_deleted, contact_detail, contact_summary},
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    wire,
};

/// A segment as listed.
pub(crate) fn segment_summary(s: &Segment) -> Value {
    json!({"id": s.id, "name": s.name, "created_at": api_time(s.created_at)})
}

fn segment_detail(s: &Segment, object: &str) -> Value {
    let mut body = segment_summary(s);
    body["object"] = json!(object);
    if object == "segment" {
        body["filter"] = s.filter.clone();
    }
    body
}

/// `POST /segments`, `POST /audiences`
async fn create_as(
    state: AppState,
    team: postline_core::ids::TeamId,
    body: Value,
    object: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let segment = state.postline.create_segment(team, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": object, "id": segment.id, "name": segment.name}))))
}

pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create_as(state, p.team_id, body, "segment").await
}

pub async fn create_audience(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create_as(state, p.team_id, body, "audience").await
}

/// `GET /segments`, `GET /audiences`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_segments(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |s| segment_summary(&s))))
}

/// `GET /segments/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let segment = state.postline.get_segment(p.team_id, SegmentId::parse(&id)?).await?;
    Ok(Json(segment_detail(&segment, "segment")))
}

/// `GET /audiences/{id}`
pub async fn get_audience(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let segment = state.postline.get_segment(p.team_id, SegmentId::parse(&id)?).await?;
    Ok(Json(segment_detail(&segment, "audience")))
}

/// `PATCH /segments/{id}` (an SDK path: renames).
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let segment = state.postline.update_segment(p.team_id, SegmentId::parse(&id)?, &body).await?;
    Ok(Json(json!({"object": "segment", "id": segment.id})))
}

async fn remove_as(
    state: AppState,
    team: postline_core::ids::TeamId,
    id: &str,
    object: &str,
) -> Result<Json<Value>, ApiError> {
    let id = SegmentId::parse(id)?;
    state.postline.delete_segment(team, id).await?;
    Ok(Json(json!({"object": object, "id": id, "deleted": true})))
}

/// `DELETE /segments/{id}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    remove_as(state, p.team_id, &id, "segment").await
}

/// `DELETE /audiences/{id}`
pub async fn remove_audience(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    remove_as(state, p.team_id, &id, "audience").await
}

/// `GET /segments/{id}/contacts`, `GET /audiences/{id}/contacts`
pub async fn contacts(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let segment = SegmentId::parse(&id)?;
    let page = state.postline.list_contacts(p.team_id, Some(segment), params.page()?).await?;
    Ok(Json(wire::list(page, |c| contact_summary(&c))))
}

/// `POST /audiences/{id}/contacts`: creates the contact in that segment.
pub async fn create_contact(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    // `create_contact` checks the segment exists along with any others named.
    let contact = state.postline.create_contact(p.team_id, &body, Some(SegmentId::parse(&id)?)).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": "contact", "id": contact.id}))))
}

/// `GET /audiences/{id}/contacts/{contact}`: the contact, found in the whole audience.
pub async fn get_contact(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, contact)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    SegmentId::parse(&id)?;
    Ok(Json(contact_detail(&state.postline.get_contact(p.team_id, &contact).await?)))
}

/// `PATCH /audiences/{id}/contacts/{contact}`
pub async fn update_contact(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, contact)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    SegmentId::parse(&id)?;
    let contact = state.postline.update_contact(p.team_id, &contact, &body).await?;
    Ok(Json(json!({"object": "contact", "id": contact.id})))
}

/// `DELETE /audiences/{id}/contacts/{contact}`
pub async fn remove_contact(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, contact)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    SegmentId::parse(&id)?;
    let contact = state.postline.delete_contact(p.team_id, &contact).await?;
    Ok(Json(contact_deleted(&contact)))
}
