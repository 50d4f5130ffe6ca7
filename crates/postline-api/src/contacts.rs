//! `/contacts` and a contact's segments and topics. A contact in a path is its id or
//! its address, raw (`a+b@x.com`, as the Node SDK sends it) or percent-encoded (as the
//! Python SDK does); both reach here decoded.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{
    audience::{Contact, ContactTopic},
    clock::api_time,
    ids::SegmentId,
};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    segments::segment_summary,
    wire,
};

/// A contact as listed. Names it has not got are left out (the contract types them as
/// strings, never `null`).
pub(crate) fn contact_summary(c: &Contact) -> Value {
    let mut body =
        json!({"id": c.id, "email": c.email, "created_at": api_time(c.created_at), "unsubscribed": c.unsubscribed});
    if let Some(first) = &c.first_name {
        body["first_name"] = json!(first);
    }
    if let Some(last) = &c.last_name {
        body["last_name"] = json!(last);
    }
    body
}

/// A contact as `GET /contacts/{id}` shows it.
pub(crate) fn contact_detail(c: &Contact) -> Value {
    let mut body = contact_summary(c);
    body["object"] = json!("contact");
    body["properties"] = Value::Object(c.properties.clone());
    body
}

/// What deleting a contact answers (the SDKs also read `contact`).
pub(crate) fn contact_deleted(c: &Contact) -> Value {
    json!({"object": "contact", "id": c.id, "contact": c.id, "deleted": true})
}

fn segment_filter(params: &Params) -> Result<Option<SegmentId>, ApiError> {
    let raw = params.0.get("segment_id").or_else(|| params.0.get("audience_id"));
    Ok(raw.map(|r| SegmentId::parse(r)).transpose()?)
}

/// `POST /contacts`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let contact = state.postline.create_contact(p.team_id, &body, None).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": "contact", "id": contact.id}))))
}

/// `GET /contacts` (optionally `?segment_id=`)
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_contacts(p.team_id, segment_filter(&params)?, params.page()?).await?;
    Ok(Json(wire::list(page, |c| contact_summary(&c))))
}

/// `GET /contacts/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(contact_detail(&state.postline.get_contact(p.team_id, &id).await?)))
}

/// `PATCH /contacts/{id}`
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let contact = state.postline.update_contact(p.team_id, &id, &body).await?;
    Ok(Json(json!({"object": "contact", "id": contact.id})))
}

/// `DELETE /contacts/{id}` (the SDKs also read `contact`).
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let contact = state.postline.delete_contact(p.team_id, &id).await?;
    Ok(Json(contact_deleted(&contact)))
}

/// `GET /contacts/{id}/segments`
pub async fn segments(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = state.postline.contact_segments(p.team_id, &id, params.page()?).await?;
    Ok(Json(wire::list(page, |(segment, added_at)| {
        let mut item = segment_summary(&segment);
        // The contract: when the contact was added to the segment.
        item["created_at"] = json!(api_time(added_at));
        item
    })))
}

/// `POST /contacts/{id}/segments/{segment_id}` (the SDKs also read `id`).
pub async fn add_segment(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, segment_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let segment = SegmentId::parse(&segment_id)?;
    let contact = state.postline.add_contact_to_segment(p.team_id, &id, segment).await?;
    Ok(Json(json!({"object": "contact_segment", "id": segment, "contact_id": contact.id, "segment_id": segment})))
}

/// `DELETE /contacts/{id}/segments/{segment_id}`
pub async fn remove_segment(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, segment_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let segment = SegmentId::parse(&segment_id)?;
    let contact = state.postline.remove_contact_from_segment(p.team_id, &id, segment).await?;
    Ok(Json(json!({
        "object": "contact_segment",
        "id": segment,
        "contact_id": contact.id,
        "segment_id": segment,
        "deleted": true,
    })))
}

fn contact_topic(t: ContactTopic) -> Value {
    let mut body = json!({"id": t.topic.id, "name": t.topic.name, "subscription": t.subscription.as_str()});
    // A string in the contract, never `null`: left out when the topic has none.
    if let Some(description) = t.topic.description {
        body["description"] = json!(description);
    }
    body
}

/// `GET /contacts/{id}/topics`: every topic with the contact's effective subscription.
pub async fn topics(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = state.postline.contact_topics(p.team_id, &id, params.page()?).await?;
    Ok(Json(wire::list(page, contact_topic)))
}

/// `PATCH /contacts/{id}/topics`: `{"topics": [...]}` or the SDKs' bare array.
pub async fn update_topics(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let (contact, choices) = state.postline.update_contact_topics(p.team_id, &id, &body).await?;
    let topics: Vec<Value> =
        choices.iter().map(|(id, subscription)| json!({"id": id, "subscription": subscription.as_str()})).collect();
    Ok(Json(json!({"object": "contact_topics", "id": contact.id, "contact_id": contact.id, "topics": topics})))
}
