//! Sending, with a confirmation step that works without JavaScript: a page that sums
//! up what will go out — the segment and how many contacts it holds, the topic, the
//! sender and subject — and offers "Send now" or "Schedule" (an ISO 8601 time or
//! words such as "tomorrow at 9am", as core's `scheduled_at` reads them). Only its
//! submission calls `send_broadcast`, with the body of `POST /broadcasts/{id}/send`;
//! core's refusal is shown beside the line of the summary it concerns.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{
    Error,
    broadcasts::{Broadcast, BroadcastStatus},
};
use serde::Deserialize;
use serde_json::json;

use super::{actions::not_a_draft, form::FieldError, status_badge, title};
use crate::{
    DashboardState,
    fields::{described_by, notes},
    format::time,
    layout::{self, Section, failure},
    session::Viewer,
};

#[derive(Deserialize, Default)]
pub struct SendForm {
    #[serde(default)]
    csrf: String,
    /// `now` or `schedule` (the button pressed).
    #[serde(default)]
    when: String,
    #[serde(default)]
    scheduled_at: String,
}

impl SendForm {
    /// The body of `POST /broadcasts/{id}/send`.
    fn body(&self) -> serde_json::Value {
        if self.when == "schedule" { json!({ "scheduled_at": self.scheduled_at.trim() }) } else { json!({}) }
    }
}

/// `GET /dashboard/broadcasts/{id}/send`
pub async fn confirm(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let broadcast = match super::load(&state, &viewer, &id).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    if broadcast.status != BroadcastStatus::Draft {
        return not_a_draft(&broadcast, "sent");
    }
    render(&state, &viewer, &broadcast, &SendForm::default(), None).await
}

/// `POST /dashboard/broadcasts/{id}/send`
pub async fn submit(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<SendForm>,
) -> Response {
    let broadcast = match super::load_for_form(&state, &viewer, &id, &form.csrf).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    if broadcast.status != BroadcastStatus::Draft {
        return not_a_draft(&broadcast, "sent");
    }
    let refusal = match state.postline.send_broadcast(viewer.team_id(), broadcast.id, &form.body()).await {
        Ok(sent) => {
            let notice = if sent.status == BroadcastStatus::Queued { "sending" } else { "scheduled" };
            return Redirect::to(&format!("/dashboard/broadcasts/{}?notice={notice}", sent.id)).into_response();
        }
        Err(Error::Invalid { message, .. }) if message.contains("`scheduled_at`") => {
            FieldError::new("scheduled_at", message)
        }
        Err(error) => match super::form::refusal(error) {
            Ok(refusal) => refusal,
            Err(other) => return failure(other),
        },
    };
    render(&state, &viewer, &broadcast, &form, Some(&refusal)).await
}

/// A line of the summary with core's refusal beside it when it concerns the line.
fn line(label: &str, field: &str, value: Markup, error: Option<&FieldError>) -> Markup {
    html! {
        dt { (label) }
        dd {
            (value)
            @if let Some(message) = FieldError::on(error, field) { p.field-error role="alert" { (message) } }
        }
    }
}

async fn render(
    state: &DashboardState,
    viewer: &Viewer,
    broadcast: &Broadcast,
    form: &SendForm,
    error: Option<&FieldError>,
) -> Response {
    let loaded = async {
        let team = viewer.team_id();
        let segment = match broadcast.segment_id {
            Some(id) => {
                let segment = state.postline.get_segment(team, id).await.ok();
                let size = state.postline.segment_sizes(team).await?.into_iter().find(|(s, _)| *s == id);
                segment.map(|s| (s.name, size.map_or(0, |(_, n)| n)))
            }
            None => None,
        };
        let topic = match broadcast.topic_id {
            Some(id) => state.postline.get_topic(team, id).await.ok().map(|t| t.name),
            None => None,
        };
        Ok::<_, Error>((segment, topic))
    }
    .await;
    let (segment, topic) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let schedule_error = FieldError::on(error, "scheduled_at");
    let base = format!("/dashboard/broadcasts/{}", broadcast.id);
    let content_words = match (&broadcast.source, &broadcast.html, &broadcast.text) {
        (Some(_), _, _) => "Markdown, with its styles",
        (None, Some(_), _) => "HTML",
        (None, None, Some(_)) => "Plain text",
        (None, None, None) => "None yet",
    };
    let content = html! {
        p.back { a href=(base) { "← Back to the editor" } }
        div.heading-row { h1 { "Send “" (title(broadcast)) "”" } (status_badge(broadcast)) }
        @if error.is_some_and(|e| e.field != "scheduled_at") {
            p.error role="alert" { "Not sent: fix what is marked below in the editor, then come back." }
        }
        dl.summary.send-summary {
            (line("Segment", "segment_id", html! {
                @match &segment {
                    Some((name, size)) => {
                        (name) " — " (size) @if *size == 1 { " contact" } @else { " contacts" }
                        p.muted.hint { "Contacts who unsubscribed, opted out of the topic or whose address is suppressed are left out." }
                    }
                    None => span.muted { "None chosen" },
                }
            }, error))
            (line("Topic", "topic_id", html! { @match &topic { Some(name) => (name), None => span.muted { "None" } } }, error))
            (line("From", "from", html! { (broadcast.from) }, error))
            @if !broadcast.reply_to.is_empty() {
                (line("Reply-to", "reply_to", html! { (broadcast.reply_to.join(", ")) }, error))
            }
            (line("Subject", "subject", html! { (broadcast.subject) }, error))
            (line("Content", "markdown", html! { (content_words) }, error))
            @if let Some(at) = broadcast.send_at.filter(|_| broadcast.is_scheduled()) {
                (line("Scheduled for", "", html! { (time(at)) }, None))
            }
        }
        form.stacked.send-form method="post" action={ (base) "/send" } novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="scheduled_at" { "Schedule for (optional)" }
                input #scheduled_at type="text" name="scheduled_at" value=(form.scheduled_at) autocomplete="off"
                    placeholder="tomorrow at 9am"
                    aria-invalid=[schedule_error.map(|_| "true")]
                    aria-describedby=[described_by("scheduled_at", true, schedule_error.is_some())];
                (notes("scheduled_at", Some("A time in UTC such as 2026-12-01T09:00, or words such as “in 1 hour” or “tomorrow at 9am”; at most 30 days ahead. Until then it stays a draft you can change or cancel."), schedule_error))
            }
            // "Schedule" comes first: pressing Enter in the time field submits with the
            // first button, and must never send at once.
            div.actions {
                button type="submit" name="when" value="schedule" { "Schedule" }
                button.primary-inline type="submit" name="when" value="now" { "Send now" }
            }
        }
    };
    let mut response = layout::page("Send broadcast", viewer, Section::Broadcasts, content);
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_schedule_button_sends_a_time() {
        let form = SendForm { when: "schedule".into(), scheduled_at: " in 1 hour ".into(), ..SendForm::default() };
        assert_eq!(form.body(), json!({"scheduled_at": "in 1 hour"}));
        let now = SendForm { when: "now".into(), scheduled_at: "in 1 hour".into(), ..SendForm::default() };
        assert_eq!(now.body(), json!({}), "send now ignores a time typed meanwhile");
    }
}
