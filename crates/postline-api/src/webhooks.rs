//! `/webhooks`: register, read, list, change and delete endpoints. The signing
//! secret is returned on create and get, as the contract shows.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{clock::api_time, ids::WebhookId, webhooks::Webhook};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    wire,
};

fn summary(w: &Webhook) -> Value {
    json!({
        "id": w.id,
        "endpoint": w.endpoint,
        "events": w.events,
        "status": if w.enabled { "enabled" } else { "disabled" },
        "created_at": api_time(w.created_at),
    })
}

/// `POST /webhooks`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let webhook = state.postline.create_webhook(p.team_id, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": "webhook", "id": webhook.id, "signing_secret": webhook.secret}))))
}

/// `GET /webhooks/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let webhook = state.postline.get_webhook(p.team_id, WebhookId::parse(&id)?).await?;
    let mut body = summary(&webhook);
    body["object"] = json!("webhook");
    body["signing_secret"] = json!(webhook.secret);
    Ok(Json(body))
}

/// `GET /webhooks`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_webhooks(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |w| summary(&w))))
}

/// `PATCH /webhooks/{id}`
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let webhook = state.postline.update_webhook(p.team_id, WebhookId::parse(&id)?, &body).await?;
    Ok(Json(json!({"object": "webhook", "id": webhook.id})))
}

/// `DELETE /webhooks/{id}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = WebhookId::parse(&id)?;
    state.postline.delete_webhook(p.team_id, id).await?;
    Ok(Json(json!({"object": "webhook", "id": id, "deleted": true})))
}

fn event_log(e: &postline_core::webhooks::history::EventLog, full: bool) -> Value {
    let mut body = json!({"id": e.id, "type": e.event_type, "created_at": api_time(e.created_at), "status": e.status});
    if full {
        body["object"] = json!("webhook_event");
        body["next_attempt_at"] = json!(e.next_attempt_at.map(api_time));
        body["payload"] = e.payload.clone();
    }
    body
}

/// `POST /webhooks/{id}/signing-secret/rotate`
pub async fn rotate_secret(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let webhook = state.postline.rotate_webhook_secret(p.team_id, WebhookId::parse(&id)?).await?;
    Ok(Json(json!({"object": "webhook", "id": webhook.id, "signing_secret": webhook.secret})))
}

/// `GET /webhooks/{id}/events`
pub async fn events(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = state.postline.webhook_events(p.team_id, WebhookId::parse(&id)?, params.page()?).await?;
    Ok(Json(wire::list(page, |e| event_log(&e, false))))
}

/// `GET /webhooks/{id}/events/{event_id}`
pub async fn event(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, event_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let found = state.postline.webhook_event(p.team_id, WebhookId::parse(&id)?, &event_id).await?;
    Ok(Json(event_log(&found, true)))
}

/// `GET /webhooks/{id}/events/{event_id}/attempts`
pub async fn attempts(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, event_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let attempts = state.postline.webhook_attempts(p.team_id, WebhookId::parse(&id)?, &event_id).await?;
    let data: Vec<Value> = attempts
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "http_status_code": a.status_code,
                "response": a.response,
                "sent_at": api_time(a.at),
                "duration_ms": a.duration_ms,
            })
        })
        .collect();
    Ok(Json(json!({"object": "list", "has_more": false, "data": data})))
}

/// `POST /webhooks/{id}/events/{event_id}/replay`
pub async fn replay(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, event_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    state.postline.replay_webhook_event(p.team_id, WebhookId::parse(&id)?, &event_id).await?;
    Ok(Json(json!({"object": "webhook_event", "id": event_id})))
}
