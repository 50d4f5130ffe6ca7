//! `/emails/{id}/attachments`: list and get a sent email's attachments, each with a
//! signed, expiring `download_url` served by [`crate::public::download`].

use axum::{
    Json,
    extract::{Path, State},
};
use postline_core::ids::{AttachmentId, EmailId};
use serde_json::Value;

use crate::{AppState, auth::Manager, error::ApiError, extract::Params, wire};

/// `GET /emails/{email_id}/attachments`
pub async fn list(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(email_id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_attachments(p.team_id, EmailId::parse(&email_id)?, params.page()?).await?;
    Ok(Json(wire::list(page, |a| wire::attachment(a, false))))
}

/// `GET /emails/{email_id}/attachments/{attachment_id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((email_id, attachment_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let link = state
        .postline
        .get_attachment(p.team_id, EmailId::parse(&email_id)?, AttachmentId::parse(&attachment_id)?)
        .await?;
    Ok(Json(wire::attachment(link, true)))
}
