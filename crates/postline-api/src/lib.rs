//! Postline's HTTP API: the Resend-compatible REST surface.
//!
//! [`router`] builds every route. Authenticated routes pass through
//! [`auth::authenticate`] (API key and rate limit); the signed-link pages in
//! [`public`] do not. Every error, including unknown routes, wrong methods and
//! malformed bodies, is rendered by [`error::ApiError`] in the contract's shape.

mod api_keys;
mod attachments;
pub mod auth;
mod broadcasts;
mod contact_imports;
mod contact_properties;
mod contacts;
mod domains;
mod emails;
pub mod error;
pub mod extract;
mod preferences_page;
mod public;
pub mod rate_limit;
mod receiving;
mod segments;
mod suppressions;
mod templates;
mod topics;
mod tracking;
mod unsubscribe;
mod unsubscribe_page;
mod webhooks;
mod wire;

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use postline_core::Postline;
use serde_json::json;

use crate::{error::ApiError, rate_limit::RateLimiter};

/// Largest request body on the sending routes: a 40 MB email is ~53 MB of JSON.
pub const MAX_SEND_BODY: usize = 60 * 1024 * 1024;
/// Largest request body elsewhere.
pub const MAX_BODY: usize = 1024 * 1024;
/// Largest contact import request: the 50 MB file and the form around it.
pub const MAX_IMPORT_BODY: usize = 51 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub postline: Postline,
    pub rate_limiter: Arc<RateLimiter>,
    /// Where each authenticated request's log entry goes (a bounded buffer).
    pub request_logs: postline_core::request_logs::RequestLogger,
}

/// Builds the API router.
pub fn router(state: AppState) -> Router {
    let sending = Router::new()
        .route("/emails", post(emails::send).get(emails::list))
        .route("/emails/batch", post(emails::send_batch))
        .route("/emails/metrics", get(emails::metrics))
        .layer(DefaultBodyLimit::max(MAX_SEND_BODY));
    let managing = Router::new()
        .route("/emails/receiving", get(receiving::list))
        .route("/emails/receiving/{id}", get(receiving::get))
        .route("/emails/receiving/{id}/attachments", get(receiving::attachments))
        .route("/emails/receiving/{id}/attachments/{attachment_id}", get(receiving::attachment))
        .route("/emails/{id}", get(emails::get).patch(emails::update))
        .route("/emails/{id}/cancel", post(emails::cancel))
        .route("/emails/{id}/share", post(emails::share))
        .route("/emails/{id}/events", get(emails::events))
        .route("/emails/{id}/attachments", get(attachments::list))
        .route("/emails/{id}/attachments/{attachment_id}", get(attachments::get))
        .route("/domains", post(domains::create).get(domains::list))
        .route("/domains/{id}", get(domains::get).patch(domains::update).delete(domains::remove))
        .route("/domains/{id}/verify", post(domains::verify))
        .route("/domains/claim", post(domains::create_claim))
        .route("/domains/{id}/claim", get(domains::get_claim))
        .route("/domains/{id}/claim/verify", post(domains::verify_claim))
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/webhooks/{id}", get(webhooks::get).patch(webhooks::update).delete(webhooks::remove))
        .route("/webhooks/{id}/signing-secret/rotate", post(webhooks::rotate_secret))
        .route("/webhooks/{id}/events", get(webhooks::events))
        .route("/webhooks/{id}/events/{event_id}", get(webhooks::event))
        .route("/webhooks/{id}/events/{event_id}/attempts", get(webhooks::attempts))
        .route("/webhooks/{id}/events/{event_id}/replay", post(webhooks::replay))
        .route("/api-keys", post(api_keys::create).get(api_keys::list))
        .route("/api-keys/{id}", patch(api_keys::update).delete(api_keys::remove))
        .route("/contacts", post(contacts::create).get(contacts::list))
        .route("/contacts/{id}", get(contacts::get).patch(contacts::update).delete(contacts::remove))
        .route("/contacts/{id}/segments", get(contacts::segments))
        .route("/contacts/{id}/segments/{segment_id}", post(contacts::add_segment).delete(contacts::remove_segment))
        .route("/contacts/{id}/topics", get(contacts::topics).patch(contacts::update_topics))
        .route("/contact-properties", post(contact_properties::create).get(contact_properties::list))
        .route(
            "/contact-properties/{id}",
            get(contact_properties::get).patch(contact_properties::update).delete(contact_properties::remove),
        )
        .route("/segments", post(segments::create).get(segments::list))
        .route("/segments/{id}", get(segments::get).patch(segments::update).delete(segments::remove))
        .route("/segments/{id}/contacts", get(segments::contacts))
        .route("/audiences", post(segments::create_audience).get(segments::list))
        .route("/audiences/{id}", get(segments::get_audience).delete(segments::remove_audience))
        .route("/audiences/{id}/contacts", post(segments::create_contact).get(segments::contacts))
        .route(
            "/audiences/{id}/contacts/{contact}",
            get(segments::get_contact).patch(segments::update_contact).delete(segments::remove_contact),
        )
        .route("/suppressions", post(suppressions::create).get(suppressions::list))
        .route("/suppressions/batch/add", post(suppressions::add_batch))
        .route("/suppressions/batch/remove", post(suppressions::remove_batch))
        .route("/suppressions/{id}", get(suppressions::get).delete(suppressions::remove))
        .route("/broadcasts", post(broadcasts::create).get(broadcasts::list))
        .route("/broadcasts/{id}", get(broadcasts::get).patch(broadcasts::update).delete(broadcasts::remove))
        .route("/broadcasts/{id}/send", post(broadcasts::send))
        .route("/broadcasts/{id}/cancel", post(broadcasts::cancel))
        .route("/broadcasts/{id}/duplicate", post(broadcasts::duplicate))
        .route("/broadcasts/{id}/test", post(broadcasts::test))
        .route("/broadcasts/{id}/recipients", get(broadcasts::recipients))
        .route("/broadcasts/{id}/clicked-links", get(broadcasts::clicked_links))
        .route("/templates", post(templates::create).get(templates::list))
        .route("/templates/{id}", get(templates::get).patch(templates::update).delete(templates::remove))
        .route("/templates/{id}/publish", post(templates::publish))
        .route("/templates/{id}/duplicate", post(templates::duplicate))
        .route("/topics", post(topics::create).get(topics::list))
        .route("/topics/{id}", get(topics::get).patch(topics::update).delete(topics::remove))
        .route("/unsubscribe-page", get(unsubscribe_page::get).patch(unsubscribe_page::update))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    // Contact imports carry a file of up to 50 MB in a multipart form.
    let importing = Router::new()
        .route("/contacts/imports", post(contact_imports::create).get(contact_imports::list))
        .route("/contacts/imports/{id}", get(contact_imports::get))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BODY));
    let authenticated = sending
        .merge(managing)
        .merge(importing)
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate));
    Router::new()
        .merge(authenticated)
        .route("/shared", get(public::shared_email))
        .route("/downloads/attachments", get(public::download))
        .route("/downloads/received/raw", get(public::download_received_raw))
        .route("/downloads/received/attachments", get(public::download_received_attachment))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::page).post(unsubscribe::submit).layer(DefaultBodyLimit::max(unsubscribe::MAX_FORM_BYTES)),
        )
        // `get` answers HEAD too: the handlers tell them apart (a HEAD is a scanner's).
        .route("/t/o/{token}", get(tracking::open))
        .route("/t/c/{token}", get(tracking::click))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::map_response(json_content_type))
        .with_state(state)
}

/// The router as a service that first collapses repeated slashes in the path: the
/// SDKs join base URL and path as strings, so a base URL ending in `/` sends
/// `//emails`.
pub fn service(
    router: Router,
) -> impl Clone
+ tower::Service<axum::extract::Request, Response = Response, Error = std::convert::Infallible, Future = impl Send>
+ Send {
    tower::ServiceExt::map_request(router, collapse_slashes)
}

fn collapse_slashes(mut request: axum::extract::Request) -> axum::extract::Request {
    let path = request.uri().path();
    if !path.contains("//") {
        return request;
    }
    let mut collapsed = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    let rebuilt = match request.uri().query() {
        Some(query) => format!("{collapsed}?{query}"),
        None => collapsed,
    };
    if let Ok(path_and_query) = rebuilt.parse::<axum::http::uri::PathAndQuery>() {
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Prometheus metrics (text exposition format). Like `/health`, it carries no
/// team data; operators keep it off the public internet.
async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> Result<Response, ApiError> {
    let body = state.postline.render_metrics().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

async fn not_found() -> ApiError {
    ApiError::not_found("The requested endpoint does not exist.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method is not allowed for this endpoint.")
}

/// The SDKs require `Content-Type: application/json` on every API response,
/// including ones axum produces itself.
async fn json_content_type(mut response: Response) -> Response {
    if !response.headers().contains_key(header::CONTENT_TYPE) {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    response.into_response()
}
