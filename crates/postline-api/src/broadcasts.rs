//! `/broadcasts`: drafts, sending and scheduling, canceling, the SDKs' `duplicate`,
//! and Postline's test send. Fields the contract types as plain strings are left out
//! while unset rather than sent as `null` (as elsewhere in this API).

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{broadcasts::Broadcast, clock::api_time, ids::BroadcastId};
use serde_json::{Map, Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    wire,
};

fn insert_some(object: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        object.insert(key.into(), value);
    }
}

/// The list item: identity, audience, status and times.
fn summary(b: &Broadcast) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), json!(b.id));
    insert_some(&mut object, "name", b.name.as_ref().map(|n| json!(n)));
    insert_some(&mut object, "audience_id", b.segment_id.map(|s| json!(s)));
    insert_some(&mut object, "segment_id", b.segment_id.map(|s| json!(s)));
    object.insert("status".into(), json!(b.status.as_str()));
    object.insert("created_at".into(), json!(api_time(b.created_at)));
    insert_some(&mut object, "scheduled_at", b.scheduled_at.map(|t| json!(api_time(t))));
    insert_some(&mut object, "sent_at", b.sent_at.map(|t| json!(api_time(t))));
    insert_some(&mut object, "topic_id", b.topic_id.map(|t| json!(t)));
    object
}

/// The whole broadcast (`GET /broadcasts/{id}`).
fn detail(b: &Broadcast) -> Value {
    let mut object = summary(b);
    object.insert("object".into(), json!("broadcast"));
    object.insert("audience_id".into(), json!(b.segment_id));
    object.insert("segment_id".into(), json!(b.segment_id));
    object.insert("from".into(), json!(b.from));
    object.insert("subject".into(), json!(b.subject));
    object.insert("reply_to".into(), json!(b.reply_to));
    insert_some(&mut object, "preview_text", b.preview_text.as_ref().map(|p| json!(p)));
    object.insert("html".into(), json!(b.html));
    object.insert("text".into(), json!(b.text));
    object.insert("topic_id".into(), json!(b.topic_id));
    if let Some(source) = &b.source {
        object.insert("markdown".into(), source["markdown"].clone());
        object.insert("style".into(), source["style"].clone());
    }
    Value::Object(object)
}

fn reference(id: BroadcastId) -> Json<Value> {
    Json(json!({"id": id, "object": "broadcast"}))
}

/// `POST /broadcasts`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let broadcast = state.postline.create_broadcast(p.team_id, &body).await?;
    Ok((StatusCode::CREATED, reference(broadcast.id)))
}

/// `GET /broadcasts`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_broadcasts(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |b| Value::Object(summary(&b)))))
}

/// `GET /broadcasts/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (broadcast, stats) = state.postline.broadcast_stats(p.team_id, BroadcastId::parse(&id)?).await?;
    let mut body = detail(&broadcast);
    // Postline's extension: the performance the dashboard shows.
    body["stats"] = stats.to_json();
    Ok(Json(body))
}

/// `GET /broadcasts/{id}/recipients?type=…[&email=…][&bounce_type=…]`
pub async fn recipients(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let field = |name: &str| params.0.get(name).map(String::as_str);
    let page = state
        .postline
        .broadcast_recipients(
            p.team_id,
            BroadcastId::parse(&id)?,
            field("type"),
            field("email"),
            field("bounce_type"),
            params.page()?,
        )
        .await?;
    let kind = field("type").unwrap_or_default().to_string();
    Ok(Json(wire::list(page, |row| {
        let mut item = json!({"id": row.email_id, "contact_id": row.contact_id, "email": row.email});
        if kind == "opened" || kind == "clicked" {
            item["count"] = json!(row.count);
        }
        if let Some(bounce_type) = row.bounce_type.filter(|_| kind == "bounced") {
            item["bounce_type"] = json!(bounce_type);
        }
        if kind == "clicked" {
            item["clicked_links"] = json!(
                row.clicked_links.iter().map(|(url, clicks)| json!({"url": url, "clicks": clicks})).collect::<Vec<_>>()
            );
        }
        item
    })))
}

/// `GET /broadcasts/{id}/clicked-links`
pub async fn clicked_links(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = state.postline.broadcast_clicked_links(p.team_id, BroadcastId::parse(&id)?, params.page()?).await?;
    Ok(Json(wire::list(
        page,
        |(cursor, link)| json!({"id": cursor, "url": link.url, "clicks": link.clicks, "unique_clicks": link.unique_clicks}),
    )))
}

/// `PATCH /broadcasts/{id}`
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let broadcast = state.postline.update_broadcast(p.team_id, BroadcastId::parse(&id)?, &body).await?;
    Ok(reference(broadcast.id))
}

/// `DELETE /broadcasts/{id}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = BroadcastId::parse(&id)?;
    state.postline.delete_broadcast(p.team_id, id).await?;
    Ok(Json(json!({"id": id, "object": "broadcast", "deleted": true})))
}

/// `POST /broadcasts/{id}/send` (a body is optional; the Python SDK repeats the id in it).
pub async fn send(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let body = if body.is_null() { json!({}) } else { body };
    require_object(&body)?;
    let broadcast = state.postline.send_broadcast(p.team_id, BroadcastId::parse(&id)?, &body).await?;
    Ok(Json(json!({"id": broadcast.id})))
}

/// `POST /broadcasts/{id}/cancel`
pub async fn cancel(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let broadcast = state.postline.cancel_broadcast(p.team_id, BroadcastId::parse(&id)?).await?;
    Ok(reference(broadcast.id))
}

/// `POST /broadcasts/{id}/duplicate` (called by the SDKs; not in the OpenAPI file).
pub async fn duplicate(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let copy = state.postline.duplicate_broadcast(p.team_id, BroadcastId::parse(&id)?).await?;
    Ok((StatusCode::CREATED, reference(copy.id)))
}

/// `POST /broadcasts/{id}/test` (Postline's extension): `{"to": [...]}`, up to five.
pub async fn test(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let ids = state.postline.send_test_broadcast(&p, BroadcastId::parse(&id)?, &body).await?;
    Ok(Json(json!({"data": ids.into_iter().map(|id| json!({"id": id})).collect::<Vec<_>>()})))
}
