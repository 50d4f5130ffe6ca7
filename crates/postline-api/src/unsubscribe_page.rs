//! `/unsubscribe-page` (a Postline extension): the team's branding of the
//! preferences page its recipients reach through unsubscribe links.

use axum::{Json, extract::State};
use postline_core::audience::unsubscribe::UnsubscribePage;
use serde_json::{Value, json};

use crate::{AppState, auth::Manager, error::ApiError, extract::JsonBody};

fn body(page: &UnsubscribePage) -> Value {
    let mut body = json!({"object": "unsubscribe_page"});
    if let (Value::Object(out), Value::Object(fields)) = (&mut body, serde_json::to_value(page).unwrap_or_default()) {
        out.extend(fields);
    }
    body
}

/// `GET /unsubscribe-page`
pub async fn get(State(state): State<AppState>, Manager(p): Manager) -> Result<Json<Value>, ApiError> {
    Ok(Json(body(&state.postline.unsubscribe_page(p.team_id).await?)))
}

/// `PATCH /unsubscribe-page`
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(request): JsonBody,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(body(&state.postline.update_unsubscribe_page(p.team_id, &request).await?)))
}
