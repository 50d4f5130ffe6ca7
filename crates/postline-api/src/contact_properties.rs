//! `/contact-properties`: the custom fields of a team's contacts.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{audience::ContactProperty, clock::api_time, ids::ContactPropertyId};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    wire,
};

/// A property; without a fallback value the field is left out (the contract types it
/// as a string or a number, never `null`).
fn property_summary(p: &ContactProperty) -> Value {
    let mut body =
        json!({"id": p.id, "key": p.key, "type": p.property_type.as_str(), "created_at": api_time(p.created_at)});
    if !p.fallback_value.is_null() {
        body["fallback_value"] = p.fallback_value.clone();
    }
    body
}

/// `POST /contact-properties`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let property = state.postline.create_contact_property(p.team_id, &body).await?;
    Ok((StatusCode::CREATED, Json(json!({"object": "contact_property", "id": property.id}))))
}

/// `GET /contact-properties`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_contact_properties(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |p| property_summary(&p))))
}

/// `GET /contact-properties/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let property = state.postline.get_contact_property(p.team_id, ContactPropertyId::parse(&id)?).await?;
    let mut body = property_summary(&property);
    body["object"] = json!("contact_property");
    Ok(Json(body))
}

/// `PATCH /contact-properties/{id}`: only the fallback value changes.
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let property = state.postline.update_contact_property(p.team_id, ContactPropertyId::parse(&id)?, &body).await?;
    Ok(Json(json!({"object": "contact_property", "id": property.id})))
}

/// `DELETE /contact-properties/{id}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ContactPropertyId::parse(&id)?;
    state.postline.delete_contact_property(p.team_id, id).await?;
    Ok(Json(json!({"object": "contact_property", "id": id, "deleted": true})))
}
