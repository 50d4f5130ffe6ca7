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
