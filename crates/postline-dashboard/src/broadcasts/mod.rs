//! The Broadcasts pages: the team's broadcasts ([`list`]); the editor of a draft with
//! its Markdown body, global styles, placeholder menu and live preview ([`editor`],
//! [`form`], [`preview`]); a test copy, delete, duplicate and cancel ([`actions`]);
//! the confirmation step before sending or scheduling ([`send`]); and a sent
//! broadcast's performance ([`performance`], [`recipients`]). [`inputs`] holds the
//! labelled fields the pages share.
//!
//! Every form builds the JSON body the API's endpoint takes and calls the same
//! `Postline` use case, so the rules live in core alone: a refusal from core is shown
//! beside the field it concerns (422, with what was typed kept), and every form that
//! changes something answers 303. Only drafts are edited; anything else is shown
//! read-only with its performance.

mod actions;
mod editor;
mod form;
mod list;
mod performance;
mod preview;
mod recipients;
mod send;

use axum::{
    Router,
    extract::{Path, Query, State},
    response::Response,
    routing::{get, post},
};
use maud::{Markup, html};
use postline_core::{
    Error,
    broadcasts::{Broadcast, BroadcastStatus},
    ids::BroadcastId,
};
use serde::Deserialize;

use crate::{DashboardState, format::time, layout::failure, session::Viewer};

/// The section's routes; `new` wins over a broadcast's id.
pub fn routes() -> Router<DashboardState> {
    Router::new()
        .route("/dashboard/broadcasts", get(list::list).post(editor::create))
        .route("/dashboard/broadcasts/new", get(editor::new))
        .route("/dashboard/broadcasts/new/preview", post(preview::unsaved))
        .route("/dashboard/broadcasts/{id}", get(show).post(editor::update))
        .route("/dashboard/broadcasts/{id}/preview", post(preview::saved))
        .route("/dashboard/broadcasts/{id}/test", post(actions::test))
        .route("/dashboard/broadcasts/{id}/send", get(send::confirm).post(send::submit))
        .route("/dashboard/broadcasts/{id}/cancel", post(actions::cancel))
        .route("/dashboard/broadcasts/{id}/duplicate", post(actions::duplicate))
        .route("/dashboard/broadcasts/{id}/delete", post(actions::remove))
}

/// What a page shows besides its content: a known notice after a redirect, and the
/// performance page's recipient filter and page.
#[derive(Deserialize, Default)]
pub struct ShowQuery {
    notice: Option<String>,
    n: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

/// `GET /dashboard/broadcasts/{id}`: a draft opens in the editor; a broadcast that is
/// sending, sent or canceled can no longer change and shows its performance.
async fn show(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let broadcast = match load(&state, &viewer, &id).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    if broadcast.status == BroadcastStatus::Draft {
        editor::edit(&state, &viewer, broadcast, &query).await
    } else {
        performance::page(&state, &viewer, broadcast, &query).await
    }
}

/// The viewer's team's broadcast `id`; another team's is a 404, and so is an id that
/// cannot be one (no such page, rather than a form error nobody made).
async fn load(state: &DashboardState, viewer: &Viewer, id: &str) -> Result<Broadcast, Response> {
    let Ok(id) = BroadcastId::parse(id) else { return Err(failure(Error::NotFound("Broadcast"))) };
    state.postline.get_broadcast(viewer.team_id(), id).await.map_err(failure)
}

/// The broadcast a posted form acts on, once the form's CSRF token is checked.
async fn load_for_form(state: &DashboardState, viewer: &Viewer, id: &str, csrf: &str) -> Result<Broadcast, Response> {
    if let Some(refused) = crate::session::csrf_refusal(viewer, csrf) {
        return Err(refused);
    }
    load(state, viewer, id).await
}

/// A broadcast's name as listed (unnamed ones go by their subject).
fn title(broadcast: &Broadcast) -> String {
    match broadcast.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ if !broadcast.subject.trim().is_empty() => broadcast.subject.clone(),
        _ => "Untitled broadcast".to_string(),
    }
}

/// The status badge: the reference's statuses, with a scheduled draft's time (a
/// scheduled broadcast stays a draft until it is due). The word is always shown, so
/// colour is never the only signal.
fn status_badge(broadcast: &Broadcast) -> Markup {
    let (tone, words) = match broadcast.status {
        BroadcastStatus::Draft if broadcast.is_scheduled() => ("warn", "scheduled"),
        BroadcastStatus::Draft => ("neutral", "draft"),
        BroadcastStatus::Queued => ("warn", "queued"),
        BroadcastStatus::Sent => ("good", "sent"),
        BroadcastStatus::Canceled => ("bad", "canceled"),
    };
    html! {
        span class={ "badge " (tone) } { (words) }
        @if let (true, Some(at)) = (broadcast.is_scheduled(), broadcast.send_at) {
            " " span.muted { "for " (time(at)) }
        }
    }
}

/// The sentence for a known `notice` (never text from the query, which anyone can write).
fn notice(query: &ShowQuery) -> Markup {
    let n = query.n.as_deref().and_then(|n| n.parse::<u64>().ok()).unwrap_or_default();
    let text = match query.notice.as_deref() {
        Some("saved") => "Saved.".to_string(),
        Some("created") => "Draft created.".to_string(),
        Some("duplicated") => "This is a copy: a new draft with the same content and audience.".to_string(),
        Some("tested") if n == 1 => "Test email sent to 1 address.".to_string(),
        Some("tested") => format!("Test email sent to {n} addresses."),
        Some("scheduled") => {
            "Scheduled. It stays a draft until it is due and can still be changed or canceled.".to_string()
        }
        Some("sending") => {
            "Sending: Postline is queueing an email for every eligible contact of the segment.".to_string()
        }
        Some("canceled") => {
            "Canceled. Emails already handed to the mail server go on; the rest never go out.".to_string()
        }
        _ => return html! {},
    };
    html! { p.notice role="status" { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(notice: &str, n: &str) -> ShowQuery {
        ShowQuery { notice: Some(notice.into()), n: Some(n.into()), ..ShowQuery::default() }
    }

    #[test]
    fn notices_are_known_sentences_only() {
        assert!(notice(&query("tested", "2")).into_string().contains("Test email sent to 2 addresses."));
        assert!(notice(&query("tested", "1")).into_string().contains("to 1 address."));
        assert_eq!(notice(&query("<script>", "1")).into_string(), "");
    }

    /// A draft with the least content.
    pub(crate) fn draft() -> Broadcast {
        let mut draft = preview::unsaved_broadcast(postline_core::ids::TeamId::new());
        draft.from = "a@b.dev".into();
        draft.subject = "News".into();
        draft
    }

    #[test]
    fn statuses_read_as_the_reference_names_them_with_a_schedule() {
        let mut draft = draft();
        assert!(status_badge(&draft).into_string().contains(">draft<"));
        assert_eq!(title(&draft), "News", "an unnamed broadcast goes by its subject");
        draft.send_at = Some("2026-12-01T09:00:00Z".parse().unwrap());
        let scheduled = status_badge(&draft).into_string();
        assert!(scheduled.contains(">scheduled<") && scheduled.contains("2026-12-01 09:00:00 UTC"), "{scheduled}");
        draft.status = BroadcastStatus::Sent;
        assert!(status_badge(&draft).into_string().contains("badge good"));
    }
}
