//! The Webhooks pages: the team's endpoints (add one with the events it wants),
//! and each endpoint's recent deliveries with their status, every attempt's HTTP
//! status, time and response, and replay. The signing secret is shown to admins only.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{
    Error,
    ids::WebhookId,
    pagination::PageRequest,
    webhooks::{EVENT_TYPES, Webhook, history::EventLog},
};
use serde_json::{Value, json};

use crate::{
    DashboardState,
    format::time,
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

/// Recent deliveries shown per endpoint.
const RECENT: u32 = 50;

/// A form's fields, repeated ones (`events`) included.
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

fn refusal(viewer: &Viewer, fields: &Fields) -> Option<Response> {
    csrf_refusal(viewer, field(fields, "csrf"))
}

fn create_form(viewer: &Viewer, endpoint: &str, chosen: &[String], error: Option<&str>) -> Markup {
    html! {
        form.stacked method="post" action="/dashboard/webhooks" novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="endpoint" { "Endpoint URL" }
                input #endpoint type="url" name="endpoint" value=(endpoint) placeholder="https://example.com/webhooks" required
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "endpoint-error")];
                @if let Some(message) = error { p #endpoint-error.field-error { (message) } }
            }
            fieldset {
                legend { "Events" }
                @for event in EVENT_TYPES {
                    label.check {
                        input type="checkbox" name="events" value=(event) checked[chosen.iter().any(|c| c == event)];
                        " " (event)
                    }
                }
            }
            button.primary type="submit" { "Add endpoint" }
        }
    }
}

/// `GET /dashboard/webhooks`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    render_list(&state, &viewer, "", &[], None, StatusCode::OK).await
}

async fn render_list(
    state: &DashboardState,
    viewer: &Viewer,
    endpoint: &str,
    chosen: &[String],
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let page = PageRequest { limit: 100, ..Default::default() };
    let webhooks = match state.postline.list_webhooks(viewer.team_id(), page).await {
        Ok(found) => found.items,
        Err(error) => return failure(error),
    };
    let content = html! {
        h1 { "Webhooks" }
        @if webhooks.is_empty() {
            p.empty { "No endpoints yet. Add one to be told about every event as it happens." }
        } @else {
            table.list {
                thead { tr { th scope="col" { "Endpoint" } th scope="col" { "Events" } th scope="col" { "Status" } th scope="col" { "Created" } } }
                tbody {
                    @for webhook in &webhooks {
                        tr {
                            td { a href={ "/dashboard/webhooks/" (webhook.id) } { (webhook.endpoint) } }
                            td { (webhook.events.len()) }
                            td { (enabled_badge(webhook)) }
                            td { (time(webhook.created_at)) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="add-title" {
            h2 #add-title { "Add endpoint" }
            (create_form(viewer, endpoint, chosen, error))
        }
    };
    let mut response = layout::page("Webhooks", viewer, Section::Webhooks, content);
    *response.status_mut() = status;
    response
}

fn enabled_badge(webhook: &Webhook) -> Markup {
    if webhook.enabled {
        html! { span.badge.good { "enabled" } }
    } else {
        html! { span.badge.warn { "disabled" } }
    }
}

/// `POST /dashboard/webhooks`
pub async fn create(State(state): State<DashboardState>, viewer: Viewer, Form(fields): Form<Fields>) -> Response {
    if let Some(refused) = refusal(&viewer, &fields) {
        return refused;
    }
    let events: Vec<String> = fields.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect();
    let endpoint = field(&fields, "endpoint");
    let body = json!({"endpoint": endpoint, "events": events});
    match state.postline.create_webhook(viewer.team_id(), &body).await {
        Ok(webhook) => Redirect::to(&format!("/dashboard/webhooks/{}", webhook.id)).into_response(),
        Err(Error::Invalid { message, .. }) => {
            render_list(&state, &viewer, endpoint, &events, Some(&message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => failure(error),
    }
}

fn status_badge(status: &str) -> Markup {
    let tone = match status {
        "success" => "good",
        "failed" => "bad",
        "attempting" => "warn",
        _ => "neutral",
    };
    html! { span class={ "badge " (tone) } { (status) } }
}

/// `GET /dashboard/webhooks/{id}`
pub async fn detail(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let loaded = async {
        let id = WebhookId::parse(&id)?;
        let webhook = state.postline.get_webhook(viewer.team_id(), id).await?;
        let page = PageRequest { limit: RECENT, ..Default::default() };
        let events = state.postline.webhook_events(viewer.team_id(), id, page).await?.items;
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let attempts = state.postline.webhook_attempts(viewer.team_id(), id, &event.id).await?;
            rows.push((event, attempts));
        }
        Ok::<_, Error>((webhook, rows))
    }
    .await;
    let (webhook, rows) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let action = |path: &str| format!("/dashboard/webhooks/{}/{path}", webhook.id);
    let content = html! {
        p { a href="/dashboard/webhooks" { "← Webhooks" } }
        h1 { (webhook.endpoint) " " (enabled_badge(&webhook)) }
        dl.summary {
            dt { "Events" } dd { (webhook.events.join(", ")) }
            dt { "Created" } dd { (time(webhook.created_at)) }
            @if viewer.is_admin() {
                dt { "Signing secret" }
                dd { details { summary { "Reveal" } code #secret { (webhook.secret) } " " button type="button" data-copy=(webhook.secret) { "Copy" } } }
            }
        }
        div.actions {
            form.inline method="post" action=(action("status")) {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="status" value=(if webhook.enabled { "disabled" } else { "enabled" });
                button type="submit" { (if webhook.enabled { "Disable" } else { "Enable" }) }
            }
            form.inline method="post" action=(action("delete")) {
                input type="hidden" name="csrf" value=(viewer.csrf());
                button.danger type="submit" { "Delete endpoint" }
            }
        }
        h2 { "Recent deliveries" }
        @if rows.is_empty() {
            p.empty { "Nothing sent to this endpoint yet." }
        }
        @for (event, attempts) in &rows {
            (delivery(&viewer, &webhook, event, attempts))
        }
    };
    layout::page("Webhook", &viewer, Section::Webhooks, content)
}

fn delivery(
    viewer: &Viewer,
    webhook: &Webhook,
    event: &EventLog,
    attempts: &[postline_core::webhooks::history::AttemptLog],
) -> Markup {
    let payload = serde_json::to_string_pretty(&event.payload).unwrap_or_default();
    html! {
        details.delivery {
            summary { (status_badge(&event.status)) " " (event.event_type) " · " (time(event.created_at)) }
            @if let Some(next) = event.next_attempt_at { p.muted { "Next attempt " (time(next)) } }
            @if !attempts.is_empty() {
                table.kv {
                    thead { tr { th scope="col" { "Attempt" } th scope="col" { "Status" } th scope="col" { "Duration" } th scope="col" { "Response" } } }
                    tbody {
                        @for attempt in attempts {
                            tr {
                                td { (time(attempt.at)) }
                                td { (attempt.status_code.map(|c| c.to_string()).unwrap_or_else(|| "no response".into())) }
                                td { (attempt.duration_ms) " ms" }
                                td { code { (attempt.response) } }
                            }
                        }
                    }
                }
            }
            pre.text { (payload) }
            form.inline method="post" action={ "/dashboard/webhooks/" (webhook.id) "/replay" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                input type="hidden" name="event" value=(event.id);
                button type="submit" { "Replay" }
            }
        }
    }
}

/// `POST /dashboard/webhooks/{id}/status`
pub async fn set_status(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(refused) = refusal(&viewer, &fields) {
        return refused;
    }
    let body: Value = json!({"status": field(&fields, "status")});
    match async { state.postline.update_webhook(viewer.team_id(), WebhookId::parse(&id)?, &body).await }.await {
        Ok(webhook) => Redirect::to(&format!("/dashboard/webhooks/{}", webhook.id)).into_response(),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/webhooks/{id}/replay`
pub async fn replay(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(refused) = refusal(&viewer, &fields) {
        return refused;
    }
    let result = async {
        let id = WebhookId::parse(&id)?;
        state.postline.replay_webhook_event(viewer.team_id(), id, field(&fields, "event")).await?;
        Ok::<_, Error>(id)
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/dashboard/webhooks/{id}")).into_response(),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/webhooks/{id}/delete`
pub async fn remove(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(refused) = refusal(&viewer, &fields) {
        return refused;
    }
    match async { state.postline.delete_webhook(viewer.team_id(), WebhookId::parse(&id)?).await }.await {
        Ok(()) => Redirect::to("/dashboard/webhooks").into_response(),
        Err(error) => failure(error),
    }
}
