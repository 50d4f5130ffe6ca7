//! The developer inbox (capture mode, `postline serve --capture`): every message the
//! MTA would have sent, newest first, updating live; one message with its HTML in a
//! sandboxed frame, text, headers, raw source and attachments, plus an HTML
//! compatibility check and a link check ([`checks`]).

mod checks;

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use maud::{Markup, html};
use postline_core::{Error, capture::CapturedMessage, pagination::PageRequest};

use crate::{
    DashboardState,
    format::{size, time},
    layout::{self, Section, failure},
    session::Viewer,
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

async fn recent(state: &DashboardState, viewer: &Viewer) -> Result<Vec<CapturedMessage>, Error> {
    Ok(state.postline.list_captured(viewer.team_id(), PageRequest { limit: SHOWN, ..Default::default() }).await?.items)
}

/// `GET /dashboard/inbox`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    let messages = match recent(&state, &viewer).await {
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
        div #inbox data-poll="/dashboard/inbox/rows" aria-live="polite" { (rows(&messages)) }
    };
    layout::page("Inbox", &viewer, Section::Inbox, content)
}

/// `GET /dashboard/inbox/rows`: the list alone, for the page's live refresh.
pub async fn fragment(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    match recent(&state, &viewer).await {
        Ok(messages) => rows(&messages).into_response(),
        Err(error) => failure(error),
    }
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
    let loaded = async {
        let captured = state.postline.get_captured(viewer.team_id(), &id).await?;
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
    layout::page(&email.subject, &viewer, Section::Inbox, content)
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
