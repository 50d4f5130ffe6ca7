//! The Emails pages: a searchable list (recipient or subject, status, tag, dates),
//! and one email with its live timeline (the SMTP replies in it), the bounce drawer
//! with "Remove from suppression list", the HTML preview in a sandboxed frame, the
//! text, headers, attachments and deliverability insights.

use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{NaiveDate, TimeZone, Utc};
use maud::{Markup, html};
use postline_core::{
    Error,
    clock::Timestamp,
    emails::{Email, EmailEvent, EventKind, search::EmailSearch},
    exports::{ExportFilters, ExportKind},
    ids::EmailId,
    pagination::PageRequest,
};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    DashboardState,
    format::{size, status, time},
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

const PAGE_SIZE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    tag: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

fn day(raw: Option<&str>) -> Option<Timestamp> {
    let date = NaiveDate::parse_from_str(raw?.trim(), "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

/// `GET /dashboard/emails`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer, Query(query): Query<ListQuery>) -> Response {
    let status_filter = query.status.as_deref().filter(|s| !s.is_empty()).and_then(EventKind::parse);
    let search = EmailSearch {
        text: query.q.clone(),
        status: status_filter,
        tag: query.tag.clone(),
        since: day(query.from.as_deref()),
        until: day(query.to.as_deref()).map(|d| d + chrono::Duration::days(1)),
    };
    let page = PageRequest { limit: PAGE_SIZE, cursor: crate::paging::cursor(&query.after, &query.before) };
    let export_filters = ExportFilters::from(&search);
    let found = match state.postline.search_emails(viewer.team_id(), search, page).await {
        Ok(found) => found,
        Err(error) => return failure(error),
    };
    let kept = crate::paging::kept_filters(&[
        ("q", &query.q),
        ("status", &query.status),
        ("tag", &query.tag),
        ("from", &query.from),
        ("to", &query.to),
    ]);
    let content = html! {
        h1 { "Emails" }
        form.filters method="get" action="/dashboard/emails" role="search" {
            div.field {
                label for="q" { "Recipient or subject" }
                input #q type="search" name="q" value=[query.q.as_deref()];
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "Any" }
                    @for kind in EventKind::ALL {
                        option value=(kind.as_str()) selected[status_filter == Some(kind)] { (kind.as_str().replace('_', " ")) }
                    }
                }
            }
            div.field {
                label for="tag" { "Tag" }
                input #tag type="text" name="tag" value=[query.tag.as_deref()];
            }
            div.field {
                label for="from" { "From" }
                input #from type="date" name="from" value=[query.from.as_deref()];
            }
            div.field {
                label for="to" { "To" }
                input #to type="date" name="to" value=[query.to.as_deref()];
            }
            button type="submit" { "Search" }
        }
        (crate::exports::export_button(&viewer, ExportKind::Emails, &export_filters))
        @if found.items.is_empty() {
            p.empty { "No emails match." }
        } @else {
            table.list {
                thead { tr { th scope="col" { "To" } th scope="col" { "Subject" } th scope="col" { "Status" } th scope="col" { "Sent" } } }
                tbody {
                    @for email in &found.items {
                        tr {
                            td { a href={ "/dashboard/emails/" (email.id) } { (email.to.join(", ")) } }
                            td { (email.subject) }
                            td { (status(email.last_event)) }
                            td { (time(email.created_at)) }
                        }
                    }
                }
            }
            nav.pages aria-label="Pages" {
                @if let Some(first) = found.items.first() {
                    a href={ "/dashboard/emails?before=" (first.id) (kept) } { "← Newer" }
                }
                @if found.has_more {
                    @if let Some(last) = found.items.last() {
                        a href={ "/dashboard/emails?after=" (last.id) (kept) } { "Older →" }
                    }
                }
            }
        }
    };
    layout::page("Emails", &viewer, Section::Emails, content)
}

/// Whether more events can still come (the page keeps refreshing the timeline).
fn settled(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Bounced | EventKind::Complained | EventKind::Failed | EventKind::Canceled | EventKind::Suppressed
    )
}

/// One event's details, in words.
fn event_details(event: &EmailEvent) -> Markup {
    let data = &event.data;
    let line = |label: &str, value: Option<&Value>| {
        value.and_then(Value::as_str).map(|v| html! { div { span.label { (label) } " " code { (v) } } })
    };
    html! {
        @if let Some(recipient) = &event.recipient { div { span.label { "Recipient" } " " (recipient) } }
        @if let Some(reply) = line("SMTP reply", data.get("smtp_response")) { (reply) }
        @if let Some(bounce) = data.get("bounce") {
            div { span.label { "Bounce" } " " (bounce["type"].as_str().unwrap_or_default()) " / " (bounce["subType"].as_str().unwrap_or_default()) }
            @if let Some(message) = line("Message", bounce.get("message")) { (message) }
            @for code in bounce["diagnosticCode"].as_array().into_iter().flatten() {
                @if let Some(code) = code.as_str() { div { span.label { "Diagnostic" } " " code { (code) } } }
            }
        }
        @if let Some(delayed) = data.get("delivery_delayed") {
            @if let Some(reason) = line("Reason", delayed.get("reason")) { (reason) }
            @if let Some(next) = line("Next attempt", delayed.get("next_attempt_at")) { (next) }
        }
        @if let Some(suppressed) = data.get("suppressed") {
            @if let Some(message) = line("Why", suppressed.get("message")) { (message) }
        }
        @if let Some(click) = data.get("click") {
            @if let Some(link) = line("Link", click.get("link")) { (link) }
        }
    }
}

fn timeline_list(events: &[EmailEvent]) -> Markup {
    html! {
        ol.timeline {
            @for event in events {
                li {
                    div.when { (time(event.at)) }
                    div { (status(event.kind)) }
                    div.details { (event_details(event)) }
                }
            }
        }
    }
}

/// What the sender can do about a bounce of this kind.
fn suggestion(sub_type: &str) -> &'static str {
    match sub_type {
        "NoEmail" => "The address does not exist. Check it for typos and remove it from your lists.",
        "MailboxFull" => "The recipient's mailbox is full. Try again later; do not retry in a loop.",
        "MessageTooLarge" => "The message is too large for the recipient's server. Send smaller attachments or links.",
        "ContentRejected" | "AttachmentRejected" => {
            "The recipient's server refused the content. Review the message and its attachments for spam signals."
        }
        _ => "The recipient's server refused the message. Read the diagnostic for the reason.",
    }
}

/// `GET /dashboard/emails/{id}`
pub async fn detail(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let loaded = async {
        let id = EmailId::parse(&id)?;
        let email = state.postline.get_email(viewer.team_id(), id).await?;
        let events = state.postline.email_events(viewer.team_id(), id).await?;
        let everything = PageRequest { limit: 100, ..Default::default() };
        let attachments = state.postline.list_attachments(viewer.team_id(), id, everything).await?.items;
        let insights = state.postline.email_insights(&email).await?;
        let mut suppressed = Vec::new();
        for event in events.iter().filter(|e| matches!(e.kind, EventKind::Bounced | EventKind::Complained)) {
            if let Some(address) = &event.recipient
                && state.postline.suppression_of(viewer.team_id(), address).await?.is_some()
                && !suppressed.contains(address)
            {
                suppressed.push(address.clone());
            }
        }
        Ok::<_, Error>((email, events, attachments, insights, suppressed))
    }
    .await;
    let (email, events, attachments, insights, suppressed) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let bounces: Vec<&EmailEvent> = events.iter().filter(|e| e.kind == EventKind::Bounced).collect();
    let content = html! {
        p { a href="/dashboard/emails" { "← Emails" } }
        h1 { (email.subject) " " (status(email.last_event)) }
        (summary(&email))
        @for bounce in &bounces {
            @let data = &bounce.data["bounce"];
            section.drawer aria-labelledby="bounce-title" {
                h2 #bounce-title { "Bounced" }
                dl {
                    dt { "Type" } dd { (data["type"].as_str().unwrap_or_default()) }
                    dt { "Subtype" } dd { (data["subType"].as_str().unwrap_or_default()) }
                    dt { "Message" } dd { (data["message"].as_str().unwrap_or_default()) }
                }
                p.suggestion { (suggestion(data["subType"].as_str().unwrap_or_default())) }
            }
        }
        @for address in &suppressed {
            form.inline method="post" action="/dashboard/suppressions/remove" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="email" value=(address);
                input type="hidden" name="back" value={ "/dashboard/emails/" (email.id) };
                span { (address) " is on the suppression list. " }
                button type="submit" { "Remove from suppression list" }
            }
        }
        section aria-labelledby="timeline-title" {
            h2 #timeline-title { "Timeline" }
            div #timeline data-stream={ "/dashboard/emails/" (email.id) "/stream" } data-poll={ "/dashboard/emails/" (email.id) "/timeline" } data-settled=(settled(email.last_event)) aria-live="polite" {
                (timeline_list(&events))
            }
        }
        @if !insights.is_empty() {
            section aria-labelledby="insights-title" {
                h2 #insights-title { "Insights" }
                ul.insights { @for insight in &insights { li class=(insight.severity) { (insight.message) } } }
            }
        }
        details open {
            summary { "Preview" }
            @match (&email.html, &email.text) {
                (Some(html), _) => iframe.preview sandbox="" title="Email preview" srcdoc=(html) {},
                (None, Some(text)) => pre.text { (text) },
                (None, None) => p.empty { "This email has no body." },
            }
        }
        @if let Some(text) = &email.text {
            details { summary { "Plain text" } pre.text { (text) } }
        }
        details {
            summary { "Headers" }
            table.kv {
                tr { th scope="row" { "Message-ID" } td { code { (email.message_id) } } }
                @for header in &email.headers { tr { th scope="row" { (header.name) } td { code { (header.value) } } } }
            }
        }
        p.source-links {
            a href={ "/dashboard/emails/" (email.id) "/source" } { "Raw source" }
            " · "
            a href={ "/dashboard/emails/" (email.id) "/source?download=1" } { "Download .eml" }
            " " span.muted { "(as rendered before each recipient's links and the DKIM signature are added)" }
        }
        @if !attachments.is_empty() {
            section aria-labelledby="attachments-title" {
                h2 #attachments-title { "Attachments" }
                ul.attachments {
                    @for link in &attachments {
                        @let a = &link.attachment;
                        @let name = a.filename.clone().unwrap_or_else(|| a.id.to_string());
                        li {
                            span.filetype aria-hidden="true" { (file_kind(&a.content_type)) }
                            a href=(link.download_url) download=(name) { (name) }
                            " " span.muted { (a.content_type) ", " (size(a.size)) }
                        }
                    }
                }
            }
        }
    };
    layout::page(&email.subject, &viewer, Section::Emails, content)
}

fn summary(email: &Email) -> Markup {
    html! {
        dl.summary {
            dt { "From" } dd { (email.from) }
            dt { "To" } dd { (email.to.join(", ")) }
            @if !email.cc.is_empty() { dt { "Cc" } dd { (email.cc.join(", ")) } }
            @if !email.bcc.is_empty() { dt { "Bcc" } dd { (email.bcc.join(", ")) } }
            dt { "Created" } dd { (time(email.created_at)) }
            dt { "ID" } dd { code { (email.id) } }
            @if !email.tags.is_empty() {
                dt { "Tags" } dd { @for tag in &email.tags { span.tag { (tag.name) "=" (tag.value) } " " } }
            }
        }
    }
}

/// A short label for an attachment's type (the "icon", in words for screen readers too).
fn file_kind(content_type: &str) -> &'static str {
    match content_type {
        t if t.starts_with("image/") => "IMG",
        "application/pdf" => "PDF",
        t if t.starts_with("text/") => "TXT",
        t if t.contains("zip") || t.contains("compressed") => "ZIP",
        t if t.contains("spreadsheet") || t.contains("csv") || t.contains("excel") => "XLS",
        t if t.contains("word") || t.contains("document") => "DOC",
        _ => "FILE",
    }
}

/// `GET /dashboard/emails/{id}/timeline`: the timeline alone, for the page's refresh.
pub async fn timeline(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let loaded = async {
        let id = EmailId::parse(&id)?;
        let email = state.postline.get_email(viewer.team_id(), id).await?;
        let events = state.postline.email_events(viewer.team_id(), id).await?;
        Ok::<_, Error>((email, events))
    }
    .await;
    match loaded {
        Ok((email, events)) => {
            let mut response = timeline_list(&events).into_response();
            let settled = if settled(email.last_event) { "true" } else { "false" };
            if let Ok(value) = axum::http::HeaderValue::from_str(settled) {
                response.headers_mut().insert("x-settled", value);
            }
            response
        }
        Err(error) => failure(error),
    }
}

/// `GET /dashboard/emails/{id}/stream`: the timeline again each time it changes, until
/// the email settles (server-sent events; see [`crate::live`]).
pub async fn stream(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let team = viewer.team_id();
    let id = match EmailId::parse(&id) {
        Ok(id) => id,
        Err(error) => return failure(error),
    };
    if let Err(error) = state.postline.get_email(team, id).await {
        return failure(error);
    }
    crate::live::stream(None, move || {
        let state = state.clone();
        async move {
            let email = state.postline.get_email(team, id).await?;
            let events = state.postline.email_events(team, id).await?;
            Ok((timeline_list(&events).into_string(), settled(email.last_event)))
        }
    })
}

#[derive(Deserialize)]
pub struct SourceQuery {
    download: Option<String>,
}

/// `GET /dashboard/emails/{id}/source`: the email's MIME as the MTA renders it, shown
/// as plain text (never interpreted by the browser: `nosniff`, a sandboxing CSP) or,
/// with `?download=1`, saved as an `.eml` file.
pub async fn source(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<SourceQuery>,
) -> Response {
    use axum::http::{HeaderValue, header};
    let rendered = async {
        let id = EmailId::parse(&id)?;
        state.postline.email_source(viewer.team_id(), id, state.renderer.as_ref()).await.map(|raw| (id, raw))
    }
    .await;
    let (id, raw) = match rendered {
        Ok(rendered) => rendered,
        Err(error) => return failure(error),
    };
    let mut response = raw.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    if query.download.is_some() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("message/rfc822"));
        let disposition = format!("attachment; filename=\"{id}.eml\"");
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    } else {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    }
    response
}

#[derive(Deserialize)]
pub struct RemoveSuppression {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    back: Option<String>,
}

/// `POST /dashboard/suppressions/remove`
pub async fn remove_suppression(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(form): Form<RemoveSuppression>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    if let Err(error) = state.postline.remove_suppression(viewer.team_id(), &form.email).await {
        return failure(error);
    }
    Redirect::to(&crate::session::safe_next(form.back.as_deref())).into_response()
}
