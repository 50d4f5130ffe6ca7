//! `/emails`: send, send a batch, get, list, reschedule, cancel, share, and the
//! timeline extension `GET /emails/{id}/events`.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use postline_core::{
    Postline,
    emails::send::BatchMode,
    idempotency::{Begin, ClaimedKey, IdempotencyKey, Sent, fingerprint},
    ids::{EmailId, TeamId},
};
use serde_json::{Value, json};

use crate::{
    AppState,
    auth::{Caller, Manager},
    error::ApiError,
    extract::{JsonBody, Params, string_field},
    wire,
};

/// `POST /emails`
pub async fn send(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    match state.postline.send_once(&principal, &body, idempotency_key(&headers)?).await? {
        Sent::Accepted(response) => Ok(Json(response).into_response()),
        Sent::Replayed { status, body } => Ok(replay(status, body)),
    }
}

/// `POST /emails/batch`
pub async fn send_batch(
    State(state): State<AppState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let postline = &state.postline;
    let mode = match headers.get("x-batch-validation").and_then(|v| v.to_str().ok()) {
        None => BatchMode::Strict,
        Some(raw) => BatchMode::parse(raw)?,
    };
    let claimed = match claim_key(postline, principal.team_id, &headers, "emails.batch", &body).await? {
        Claimed::Replay(response) => return Ok(response),
        Claimed::Run(claimed) => claimed,
    };
    let result = async {
        let batch = postline.prepare_batch(&principal, &body, mode).await?;
        let data: Vec<Value> = batch.emails.iter().map(|e| json!({"id": e.email.id})).collect();
        let response = match mode {
            BatchMode::Strict => json!({"data": data}),
            BatchMode::Permissive => json!({
                "data": data,
                "errors": batch.errors.iter().map(|e| json!({"index": e.index, "message": e.message})).collect::<Vec<_>>(),
            }),
        };
        postline.accept(batch.emails, claimed.as_ref().map(|c| c.complete(200, response.clone()))).await?;
        Ok::<_, ApiError>(response)
    }
    .await;
    finish(postline, claimed.as_ref(), result).await
}

enum Claimed {
    Run(Option<ClaimedKey>),
    Replay(Response),
}

async fn claim_key(
    postline: &Postline,
    team_id: TeamId,
    headers: &HeaderMap,
    operation: &str,
    body: &Value,
) -> Result<Claimed, ApiError> {
    let Some(key) = idempotency_key(headers)? else { return Ok(Claimed::Run(None)) };
    match postline.begin_idempotent(team_id, key, &fingerprint(operation, body)).await? {
        Begin::Run(claimed) => Ok(Claimed::Run(Some(claimed))),
        Begin::Replay { status, body } => Ok(Claimed::Replay(replay(status, body))),
    }
}

/// The `Idempotency-Key` header, if sent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else { return Ok(None) };
    let raw = raw.to_str().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "The `Idempotency-Key` header must be printable text.",
        )
    })?;
    Ok(Some(IdempotencyKey::parse(raw)?))
}

/// A saved response, sent again.
fn replay(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(body)).into_response()
}

async fn finish(
    postline: &Postline,
    claimed: Option<&ClaimedKey>,
    result: Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    match result {
        Ok(body) => Ok(Json(body).into_response()),
        Err(error) => {
            if let Some(claimed) = claimed {
                postline.release_idempotent(claimed).await;
            }
            Err(error)
        }
    }
}

/// `GET /emails/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let email = state.postline.get_email(p.team_id, EmailId::parse(&id)?).await?;
    let insights = state.postline.email_insights(&email).await?;
    let mut body = wire::email(email, true);
    // Postline's extension: deliverability advice (empty when there is none).
    body["insights"] = serde_json::json!(insights);
    Ok(Json(body))
}

/// `GET /emails`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_emails(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |e| wire::email(e, false))))
}

/// `PATCH /emails/{id}`: reschedule.
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let id = EmailId::parse(&id)?;
    state.postline.reschedule_email(p.team_id, id, &body).await?;
    Ok(Json(json!({"object": "email", "id": id})))
}

/// `POST /emails/{id}/cancel`
pub async fn cancel(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = EmailId::parse(&id)?;
    state.postline.cancel_email(p.team_id, id).await?;
    Ok(Json(json!({"object": "email", "id": id})))
}

/// `POST /emails/{id}/share`
pub async fn share(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let id = EmailId::parse(&id)?;
    let expires_in = match string_field(&body, "expires_in")? {
        Some(raw) => Some(raw),
        None => string_field(&body, "expiresIn")?,
    };
    let link = state.postline.share_email(p.team_id, id, expires_in.as_deref()).await?;
    Ok(Json(json!({
        "object": "email",
        "id": link.email_id,
        "url": link.url,
        "expires_at": postline_core::clock::rfc3339(link.expires_at),
    })))
}

/// `GET /emails/{id}/events` (Postline extension): the email's timeline, oldest first.
pub async fn events(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let events = state.postline.email_events(p.team_id, EmailId::parse(&id)?).await?;
    let page = postline_core::pagination::Page { items: events, has_more: false };
    Ok(Json(wire::list(page, wire::email_event)))
}

/// `GET /emails/metrics` (lists may be comma-separated, repeated, or both, so the
/// query is read as pairs).
pub async fn metrics(
    State(state): State<AppState>,
    Manager(p): Manager,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Json(state.postline.email_metrics(p.team_id, &pairs).await?))
}
