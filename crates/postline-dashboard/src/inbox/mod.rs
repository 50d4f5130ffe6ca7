//! The developer inbox (capture mode, `postline serve --capture`): every message the
//! MTA would have sent, newest first, updating live; one message with its HTML in a
//! sandboxed frame, text, headers, raw source and attachments, plus an HTML
//! compatibility check and a link check ([`checks`]); "Release" sends a message as
//! captured to the operator's release server ([`release`]).

mod checks;
mod release;

pub use release::release;

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{Error, capture::CapturedMessage, ids::TeamId, pagination::PageRequest};

use crate::{
    DashboardState,
    format::{size, time},
    layout::{self, Section, failure},
    session::{CsrfOnly, Viewer, csrf_refusal},
};

/// Messages shown in the inbox.
const SHOWN: u32 = 100;

fn rows(messages: &[CapturedMessage]) -> Markup {
    html! {
        @if messages.is_empty() {
            p.empty { "No messages yet. Send one through the API: it appears here within seconds." }
        } @else {
            table.list {
                thead { tr { th scope="col" { "To" } th scope="col" { "From" } th scope="col" { "Captured" } } }
                tbody {
                    @for m in messages {
                        tr {
                            td { a href={ "/dashboard/inbox/" (m.id) } { (m.recipients.join(", ")) } }
                            td { (m.mail_from) }
                            td { (time(m.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

/// The team's newest captured messages.
async fn recent(state: &DashboardState, team: TeamId) -> Result<Vec<CapturedMessage>, Error> {
    Ok(state.postline.list_captured(team, PageRequest { limit: SHOWN, ..Default::default() }).await?.items)
}

/// `GET /dashboard/inbox`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    let messages = match recent(&state, viewer.team_id()).await {
        Ok(messages) => messages,
        Err(error) => return failure(error),
    };
    let content = html! {
        h1 { "Inbox" }
        @if state.postline.captures() {
            p.muted { "Capture mode: nothing leaves this machine. Every email to a real recipient is kept here instead of sent." }
        } @else {
            p.muted { "Capture mode is off: mail is really sent. Start Postline with " code { "serve --capture" } " to keep it here instead." }
        }
        div #inbox data-stream="/dashboard/inbox/stream" data-poll="/dashboard/inbox/rows" aria-live="polite" { (rows(&messages)) }
        form.inline method="post" action="/dashboard/inbox/clear" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.danger type="submit" { "Empty the inbox" }
            " " span.muted { "Deletes every captured message of the team; the emails and their events stay." }
        }
    };
    layout::page("Inbox", &viewer, Section::Inbox, content)
}

/// `POST /dashboard/inbox/{id}/delete`
pub async fn delete(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refusal) = csrf_refusal(&viewer, &form.csrf) {
        return refusal;
    }
    match state.postline.delete_captured(viewer.team_id(), &id).await {
        Ok(()) => Redirect::to("/dashboard/inbox").into_response(),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/inbox/clear`
pub async fn clear(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<CsrfOnly>) -> Response {
    if let Some(refusal) = csrf_refusal(&viewer, &form.csrf) {
        return refusal;
    }
    match state.postline.clear_captured(viewer.team_id()).await {
        Ok(_) => Redirect::to("/dashboard/inbox").into_response(),
        Err(error) => failure(error),
    }
}

/// `GET /dashboard/inbox/rows`: the list alone, for the page's live refresh.
pub async fn fragment(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    match recent(&state, viewer.team_id()).await {
        Ok(messages) => rows(&messages).into_response(),
        Err(error) => failure(error),
    }
}

/// `GET /dashboard/inbox/stream`: the list again each time a message arrives
/// (server-sent events; see [`crate::live`]).
pub async fn stream(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    let team = viewer.team_id();
    let wake = state.postline.capture_wake();
    crate::live::stream(Some(wake), move || {
        let state = state.clone();
        async move { Ok((rows(&recent(&state, team).await?).into_string(), false)) }
    })
}

/// The header block of a raw message, unfolded: (name, value) in order.
fn headers(raw: &str) -> Vec<(String, String)> {
    let block = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in block.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    headers
}

fn findings(title: &str, id: &str, found: &[checks::Finding]) -> Markup {
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (title) }
            @if found.is_empty() {
                p { "No problems found." }
            } @else {
                ul.insights { @for f in found { li class=(f.severity) { strong { (f.severity) ": " } (f.message) } } }
            }
        }
    }
}

/// `GET /dashboard/inbox/{id}`
pub async fn message(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    message_page(&state, &viewer, &id, release::Panel::default()).await
}

/// A message's page, with the release form in the state `panel` describes.
async fn message_page(state: &DashboardState, viewer: &Viewer, id: &str, panel: release::Panel) -> Response {
    let loaded = async {
        let captured = state.postline.get_captured(viewer.team_id(), id).await?;
        let email = state.postline.get_email(viewer.team_id(), captured.email_id).await?;
        let page = PageRequest { limit: 100, ..Default::default() };
        let attachments = state.postline.list_attachments(viewer.team_id(), email.id, page).await?.items;
        Ok::<_, Error>((captured, email, attachments))
    }
    .await;
    let (captured, email, attachments) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let raw = String::from_utf8_lossy(&captured.raw).into_owned();
    let html_part = email.html.clone().unwrap_or_default();
    let content = html! {
        p { a href="/dashboard/inbox" { "← Inbox" } }
        h1 { (email.subject) }
        dl.summary {
            dt { "Envelope from" } dd { (captured.mail_from) }
            dt { "Envelope to" } dd { (captured.recipients.join(", ")) }
            dt { "Captured" } dd { (time(captured.created_at)) }
            dt { "Size" } dd { (size(captured.raw.len() as u64)) }
            dt { "Email" } dd { a href={ "/dashboard/emails/" (email.id) } { (email.id) } }
        }
        (release::form(state, viewer, &captured, &panel))
        form.inline method="post" action={ "/dashboard/inbox/" (captured.id) "/delete" } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.danger type="submit" { "Delete this message" }
        }
        (findings("HTML compatibility", "compat-title", &checks::compatibility(&html_part)))
        (findings("Links", "links-title", &checks::links(&html_part)))
        details open {
            summary { "HTML" }
            @if email.html.is_some() {
                iframe.preview sandbox="" title="Message preview" srcdoc=(html_part) {}
            } @else { p.empty { "No HTML part." } }
        }
        details { summary { "Text" } pre.text { (email.text.as_deref().unwrap_or("No text part.")) } }
        details {
            summary { "Headers" }
            table.kv { @for (name, value) in headers(&raw) { tr { th scope="row" { (name) } td { code { (value) } } } } }
        }
        details { summary { "Raw source" } pre.text { (raw) } }
        @if !attachments.is_empty() {
            h2 { "Attachments" }
            ul.attachments {
                @for link in &attachments {
                    @let name = link.attachment.filename.clone().unwrap_or_else(|| link.attachment.id.to_string());
                    li { a href=(link.download_url) download=(name) { (name) } " " span.muted { (link.attachment.content_type) ", " (size(link.attachment.size)) } }
                }
            }
        }
    };
    let mut response = layout::page(&email.subject, viewer, Section::Inbox, content);
    *response.status_mut() = panel.status();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_unfolded_in_order() {
        let raw = "DKIM-Signature: v=1;\r\n\tb=abc\r\nFrom: a@b.c\r\nSubject: Hi\r\n\r\nBody: not a header\r\n";
        assert_eq!(
            headers(raw),
            [
                ("DKIM-Signature".to_string(), "v=1; b=abc".to_string()),
                ("From".into(), "a@b.c".into()),
                ("Subject".into(), "Hi".into())
            ]
        );
    }
}
