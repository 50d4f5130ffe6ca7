//! "Release" on a captured message: the form (addresses to send to, empty for the
//! message's own recipients) and what the release server answered for each one.
//! Only offered when the operator configured a release server (`capture_release`);
//! the server is never chosen in the form, so the dashboard cannot be used to make
//! Postline connect anywhere else.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use maud::{Markup, html};
use postline_core::{
    Error,
    capture::{CapturedMessage, ReleaseOutcome},
};
use serde::Deserialize;

use crate::{DashboardState, layout::failure, session::Viewer};

/// The release form's state on the page.
#[derive(Default)]
pub struct Panel {
    /// What was typed, kept when the form comes back.
    typed: String,
    /// Why the typed addresses were refused.
    error: Option<String>,
    /// The server's answers after a release.
    outcomes: Vec<ReleaseOutcome>,
}

impl Panel {
    /// 422 when the form was refused, 200 otherwise.
    pub fn status(&self) -> StatusCode {
        if self.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }
    }
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    recipients: String,
}

/// The release section of a message's page.
pub fn form(state: &DashboardState, viewer: &Viewer, captured: &CapturedMessage, panel: &Panel) -> Markup {
    let Some(release) = &state.release else {
        return html! {
            section aria-labelledby="release-title" {
                h2 #release-title { "Release" }
                p.muted {
                    "To send captured messages to a real mailbox, start Postline with "
                    code { "POSTLINE_CAPTURE_RELEASE=smtp://host:port" }
                    " (and optionally " code { "POSTLINE_CAPTURE_RELEASE_ALLOWED" } ")."
                }
            }
        };
    };
    let invalid = panel.error.is_some();
    html! {
        section aria-labelledby="release-title" {
            h2 #release-title { "Release" }
            form.stacked method="post" action={ "/dashboard/inbox/" (captured.id) "/release" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                div.field {
                    label for="recipients" { "Send to" }
                    input #recipients type="text" name="recipients" value=(panel.typed)
                        placeholder=(captured.recipients.join(", "))
                        aria-invalid=[invalid.then_some("true")]
                        aria-describedby=(if invalid { "recipients-error recipients-hint" } else { "recipients-hint" });
                    p #recipients-hint.hint {
                        "Empty sends it to its own recipients. Goes as captured, DKIM signature included, through "
                        code { (release.target.destination()) } "."
                        @if !release.allowed.is_empty() { " Allowed: " (release.allowed.join(", ")) "." }
                    }
                    @if let Some(error) = &panel.error { p #recipients-error.error role="alert" { (error) } }
                }
                button type="submit" { "Release" }
            }
            @if !panel.outcomes.is_empty() {
                table.list #release-result aria-live="polite" {
                    caption { "What " (release.target.destination()) " answered" }
                    thead { tr { th scope="col" { "Recipient" } th scope="col" { "Result" } th scope="col" { "Reply" } } }
                    tbody {
                        @for outcome in &panel.outcomes {
                            tr {
                                td { (outcome.recipient) }
                                td { @if outcome.accepted { span.badge.good { "released" } } @else { span.badge.bad { "refused" } } }
                                td { code { (outcome.reply) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /dashboard/inbox/{id}/release`
pub async fn release(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReleaseForm>,
) -> Response {
    if let Some(refusal) = crate::session::csrf_refusal(&viewer, &form.csrf) {
        return refusal;
    }
    let Some(release) = &state.release else {
        return failure(Error::NotFound("Release server"));
    };
    let panel = match state.postline.release_captured(viewer.team_id(), &id, &form.recipients, release).await {
        Ok(outcomes) => Panel { typed: form.recipients, error: None, outcomes },
        Err(Error::Invalid { message, .. }) => Panel { typed: form.recipients, error: Some(message), outcomes: vec![] },
        Err(error) => return failure(error),
    };
    super::message_page(&state, &viewer, &id, panel).await
}
