//! `/emails/receiving`: the team's received emails, one with its bodies, headers and
//! a signed link to its raw source, and their attachments with signed download
//! links (served by [`crate::public`]).

use axum::{
    Json,
    extract::{Path, State},
};
use postline_core::{
    clock::{api_time, rfc3339},
    ids::{AttachmentId, ReceivedEmailId},
    receiving::{
        ReceivedAttachment, ReceivedEmail,
        read::{HtmlFormat, Link, ReceivedAttachmentLink},
    },
};
use serde_json::{Map, Value, json};

use crate::{AppState, auth::Manager, error::ApiError, extract::Params, wire};

/// `GET /emails/receiving`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_received(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |email| received_email(email, None))))
}

/// `GET /emails/receiving/{email_id}?html_format=data_uri|cid`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let format = HtmlFormat::parse(params.0.get("html_format").map(String::as_str))?;
    let (email, raw) = state.postline.get_received(p.team_id, ReceivedEmailId::parse(&id)?, format).await?;
    Ok(Json(received_email(email, Some(raw))))
}

/// `GET /emails/receiving/{email_id}/attachments`
pub async fn attachments(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    params: Params,
) -> Result<Json<Value>, ApiError> {
    let page =
        state.postline.list_received_attachments(p.team_id, ReceivedEmailId::parse(&id)?, params.page()?).await?;
    Ok(Json(wire::list(page, |a| attachment_link(a, false))))
}

/// `GET /emails/receiving/{email_id}/attachments/{attachment_id}`
pub async fn attachment(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let link = state
        .postline
        .get_received_attachment(p.team_id, ReceivedEmailId::parse(&id)?, AttachmentId::parse(&attachment_id)?)
        .await?;
    Ok(Json(attachment_link(link, true)))
}

/// A received email: the list item, or with `raw` the full email (`object`, bodies,
/// headers, the raw link and the SPF/DKIM/DMARC results).
fn received_email(email: ReceivedEmail, raw: Option<Link>) -> Value {
    let mut object = Map::new();
    let full = raw.is_some();
    if full {
        object.insert("object".into(), json!("email"));
    }
    object.insert("id".into(), json!(email.id));
    object.insert("to".into(), json!(email.to));
    object.insert("from".into(), json!(email.from));
    object.insert("created_at".into(), json!(api_time(email.created_at)));
    object.insert("subject".into(), json!(email.subject));
    object.insert("bcc".into(), json!(email.bcc));
    object.insert("cc".into(), json!(email.cc));
    object.insert("reply_to".into(), json!(email.reply_to));
    object.insert("received_for".into(), json!(email.received_for));
    object.insert("message_id".into(), json!(email.message_id));
    if let Some(raw) = raw {
        object.insert("html".into(), json!(email.html));
        object.insert("text".into(), json!(email.text));
        object.insert("headers".into(), headers(&email.headers));
        object.insert("raw".into(), json!({"download_url": raw.url, "expires_at": rfc3339(raw.expires_at)}));
        object.insert("authentication".into(), email.authentication.clone().unwrap_or(Value::Null));
        object.insert("size".into(), json!(email.size));
    }
    let attachments: Vec<Value> = email.attachments.into_iter().map(attachment_fields).collect();
    object.insert("attachments".into(), Value::Array(attachments));
    Value::Object(object)
}

/// Headers as the contract's flat object: the first occurrence of each name (the
/// topmost, i.e. newest, `Received`); every header is in the raw source.
fn headers(pairs: &[(String, String)]) -> Value {
    let mut object = Map::new();
    for (name, value) in pairs {
        if !object.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            object.insert(name.clone(), json!(value));
        }
    }
    Value::Object(object)
}

/// An attachment embedded in an email. Values a part did not give (file name,
/// content id, disposition) are left out: the contract types them as strings.
fn attachment_fields(a: ReceivedAttachment) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(a.id));
    if let Some(filename) = a.filename {
        object.insert("filename".into(), json!(filename));
    }
    object.insert("content_type".into(), json!(a.content_type));
    if let Some(cid) = a.content_id {
        object.insert("content_id".into(), json!(cid));
    }
    if let Some(disposition) = a.disposition {
        object.insert("content_disposition".into(), json!(disposition.as_str()));
    }
    object.insert("size".into(), json!(a.size));
    Value::Object(object)
}

fn attachment_link(link: ReceivedAttachmentLink, with_object: bool) -> Value {
    let mut object = Map::new();
    if with_object {
        object.insert("object".into(), json!("attachment"));
    }
    let a = link.attachment;
    object.insert("id".into(), json!(a.id));
    if let Some(filename) = a.filename {
        object.insert("filename".into(), json!(filename));
    }
    object.insert("content_type".into(), json!(a.content_type));
    if let Some(cid) = a.content_id {
        object.insert("content_id".into(), json!(cid));
    }
    // The signed-URL endpoints type the disposition as `inline` or `attachment`;
    // a part that gave none is an attachment.
    let disposition = a.disposition.unwrap_or(postline_core::emails::Disposition::Attachment);
    object.insert("content_disposition".into(), json!(disposition.as_str()));
    object.insert("download_url".into(), json!(link.link.url));
    object.insert("expires_at".into(), json!(rfc3339(link.link.expires_at)));
    object.insert("size".into(), json!(a.size));
    Value::Object(object)
}
