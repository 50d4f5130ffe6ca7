//! `/api-keys`: create (the token is in this response only), list, rename, delete.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{api_keys::CreateApiKey, ids::ApiKeyId};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object, string_field},
    wire,
};

/// `POST /api-keys`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let input = CreateApiKey {
        name: string_field(&body, "name")?,
        permission: string_field(&body, "permission")?,
        domain_id: string_field(&body, "domain_id")?,
    };
    let created = state.postline.create_api_key(p.team_id, input).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": created.key.id, "token": created.token}))))
}

/// `GET /api-keys`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_api_keys(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, wire::api_key)))
}

/// `PATCH /api-keys/{id}`: rename.
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let id = ApiKeyId::parse(&id)?;
    state.postline.rename_api_key(p.team_id, id, string_field(&body, "name")?.as_deref()).await?;
    Ok(Json(json!({"object": "api_key", "id": id})))
}

/// `DELETE /api-keys/{id}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ApiKeyId::parse(&id)?;
    state.postline.delete_api_key(p.team_id, id).await?;
    Ok(Json(json!({"object": "api_key", "id": id, "deleted": true})))
}
