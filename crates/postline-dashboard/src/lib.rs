//! The dashboard, served by the same binary under `/dashboard`: server-rendered
//! HTML (`maud`, escaped by construction) over the same use cases the API calls, with
//! a little hand-written JavaScript for live updates. Nothing is fetched from the
//! internet and nothing needs a separate build step: the stylesheet and script are
//! compiled into the binary ([`assets`]).
//!
//! People sign in with email and password ([`sign_in`]); a session cookie names the
//! signed-in user ([`session::Viewer`]), whose team scopes every read — another
//! team's id is a 404 here too — and every form carries the session's CSRF token,
//! checked before anything changes ([`session::csrf_refusal`]).

mod api_keys;
pub mod assets;
mod audience;
mod broadcasts;
mod domains;
mod emails;
mod exports;
mod fields;
mod format;
mod inbox;
mod layout;
mod live;
mod logs;
mod metrics;
mod paging;
pub mod session;
mod sign_in;
mod webhooks;

use axum::{
    Router,
    response::Redirect,
    routing::{get, post},
};
use postline_core::Postline;

/// What every page handler gets.
#[derive(Clone)]
pub struct DashboardState {
    pub postline: Postline,
    /// Cookies marked `Secure` (the public URL is HTTPS).
    pub secure_cookies: bool,
    /// The developer inbox's release server, when the operator configured one.
    pub release: Option<postline_core::capture::Release>,
    /// The MTA's MIME rendering, for an email's raw source.
    pub renderer: std::sync::Arc<dyn postline_core::emails::source::MimeRenderer>,
}

/// The dashboard's routes, all under `/dashboard`.
pub fn router(state: DashboardState) -> Router {
    Router::new()
        .route("/dashboard", get(|| async { Redirect::to("/dashboard/emails") }))
        .route("/dashboard/", get(|| async { Redirect::to("/dashboard/emails") }))
        .route("/dashboard/login", get(sign_in::page).post(sign_in::submit))
        .route("/dashboard/logout", post(sign_in::sign_out))
        .route("/dashboard/emails", get(emails::list))
        .route("/dashboard/emails/{id}", get(emails::detail))
        .route("/dashboard/emails/{id}/timeline", get(emails::timeline))
        .route("/dashboard/emails/{id}/source", get(emails::source))
        .route("/dashboard/emails/{id}/stream", get(emails::stream))
        .route("/dashboard/metrics", get(metrics::page))
        .route("/dashboard/suppressions/remove", post(emails::remove_suppression))
        .route("/dashboard/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/dashboard/api-keys/{id}", get(api_keys::edit).post(api_keys::update))
        .route("/dashboard/api-keys/{id}/delete", post(api_keys::remove))
        .route("/dashboard/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/dashboard/webhooks/{id}", get(webhooks::detail))
        .route("/dashboard/webhooks/{id}/status", post(webhooks::set_status))
        .route("/dashboard/webhooks/{id}/replay", post(webhooks::replay))
        .route("/dashboard/webhooks/{id}/delete", post(webhooks::remove))
        .merge(audience::routes())
        .merge(broadcasts::routes())
        .route("/dashboard/domains", get(domains::list).post(domains::add))
        .route("/dashboard/domains/{id}", get(domains::detail).post(domains::update))
        .route("/dashboard/domains/{id}/verify", post(domains::verify))
        .route("/dashboard/domains/{id}/delete", post(domains::remove))
        .route("/dashboard/inbox", get(inbox::list))
        .route("/dashboard/inbox/rows", get(inbox::fragment))
        .route("/dashboard/inbox/stream", get(inbox::stream))
        .route("/dashboard/inbox/clear", post(inbox::clear))
        .route("/dashboard/inbox/{id}/delete", post(inbox::delete))
        .route("/dashboard/inbox/{id}", get(inbox::message))
        .route("/dashboard/inbox/{id}/release", post(inbox::release))
        .route("/dashboard/logs", get(logs::list))
        .route("/dashboard/logs/{id}", get(logs::detail))
        .route("/dashboard/exports", get(exports::list).post(exports::start))
        .route("/dashboard/exports/new", get(exports::confirm))
        .route("/dashboard/exports/{id}", get(exports::detail))
        .route("/dashboard/exports/{id}/download", get(exports::download))
        .route("/dashboard/assets/{name}", get(assets::serve))
        .with_state(state)
}
