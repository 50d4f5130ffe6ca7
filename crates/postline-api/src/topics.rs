//! `/topics`: create, read, change (not the default subscription) and delete.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{audience::Topic, clock::api_time, ids::TopicId};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    wire,
};

/// A topic; without a description the field is left out (a string in the contract).
fn topic_summary(t: &Topic) -> Value {
    let mut body = json!({
        "id": t.id,
        "name": t.name,
        "default_subscription": t.default_subscription.as_str(),
        "visibility": t.visibility.as_str(),
        "created_at": api_time(t.created_at),
    });
    if let Some(description) = &t.description {
        body["description"] = json!(description);
    }
    body
}

/// `POST /topics`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let topic = state.postline.create_topic(p.team_id, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": "topic", "id": topic.id}))))
}

/// `GET /topics`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_topics(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |t| topic_summary(&t))))
}

/// `GET /topics/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let topic = state.postline.get_topic(p.team_id, TopicId::parse(&id)?).await?;
    let mut body = topic_summary(&topic);
    body["object"] = json!("topic");
    Ok(Json(body))
}

/// `PATCH /topics/{id}` (the Node SDK repeats the `id` in the body; it is ignored).
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let topic = state.postline.update_topic(p.team_id, TopicId::parse(&id)?, &body).await?;
    Ok(Json(json!({"object": "topic", "id": topic.id})))
}

/// `DELETE /topics/{id}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = TopicId::parse(&id)?;
    state.postline.delete_topic(p.team_id, id).await?;
    Ok(Json(json!({"object": "topic", "id": id, "deleted": true})))
}
