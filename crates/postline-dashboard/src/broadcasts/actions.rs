//! A broadcast's buttons and the forms behind them: send a test email, duplicate,
//! delete (drafts only), cancel (a scheduled or sending broadcast). Each checks the
//! CSRF token before anything else, calls the use case the API's endpoint calls and
//! answers with a 303, so a reload never submits twice.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{
    Error,
    api_keys::{Permission, Principal},
    broadcasts::{Broadcast, BroadcastStatus, manage::MAX_TEST_RECIPIENTS},
    ids::ApiKeyId,
};
use serde::Deserialize;
use serde_json::json;

use super::{
    editor::{self, TestState},
    form::{EditorForm, address_list},
};
use crate::{
    DashboardState,
    layout::{self, failure},
    session::{CsrfOnly, Viewer},
};

/// The buttons for what can be done with the broadcast in its status.
pub fn bar(viewer: &Viewer, broadcast: &Broadcast) -> Markup {
    let base = format!("/dashboard/broadcasts/{}", broadcast.id);
    let draft = broadcast.status == BroadcastStatus::Draft;
    let cancelable = broadcast.is_scheduled() || broadcast.status == BroadcastStatus::Queued;
    html! {
        div.actions.toolbar {
            @if draft {
                a.button.primary-link href={ (base) "/send" } {
                    @if broadcast.is_scheduled() { "Reschedule or send now…" } @else { "Send…" }
                }
            }
            form.inline method="post" action={ (base) "/duplicate" } {
                input type="hidden" name="csrf" value=(viewer.csrf());
                button type="submit" { "Duplicate" }
            }
            @if cancelable {
                details.confirm {
                    summary { @if draft { "Cancel the schedule" } @else { "Cancel sending" } }
                    form.inline method="post" action={ (base) "/cancel" } {
                        input type="hidden" name="csrf" value=(viewer.csrf());
                        span { "Emails already handed to the mail server go on; the rest never go out." }
                        button.danger type="submit" { "Cancel broadcast" }
                    }
                }
            }
            @if draft {
                details.confirm {
                    summary { "Delete" }
                    form.inline method="post" action={ (base) "/delete" } {
                        input type="hidden" name="csrf" value=(viewer.csrf());
                        span { "The draft is deleted for good." }
                        button.danger type="submit" { "Delete draft" }
                    }
                }
            }
        }
    }
}

/// The answer to changing a broadcast that is no longer a draft.
pub fn not_a_draft(broadcast: &Broadcast, action: &str) -> Response {
    let message = format!(
        "Only a draft broadcast can be {action}; this one is {}. Duplicate it to make a new draft.",
        broadcast.status.as_str()
    );
    layout::error_page(StatusCode::CONFLICT, &message)
}

/// Core refused a change because the broadcast moved on meanwhile.
fn conflict(error: Error) -> Response {
    match error {
        Error::Conflict(message) => layout::error_page(StatusCode::CONFLICT, &message),
        other => failure(other),
    }
}

#[derive(Deserialize, Default)]
pub struct TestForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
}

/// Who sends a test copy: the team itself, with the full access a signed-in member
/// has here. The use case takes an API caller; no key is involved, so the id names
/// none (core only reads the team, permission and domain restriction from it).
fn team_sender(viewer: &Viewer) -> Principal {
    Principal {
        team_id: viewer.team_id(),
        key_id: ApiKeyId::new(),
        permission: Permission::FullAccess,
        domain_id: None,
    }
}

/// `POST /dashboard/broadcasts/{id}/test`: the saved draft to up to five addresses.
pub async fn test(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<TestForm>,
) -> Response {
    let broadcast = match super::load_for_form(&state, &viewer, &id, &form.csrf).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    if broadcast.status != BroadcastStatus::Draft {
        return not_a_draft(&broadcast, "tested from the editor");
    }
    let to = address_list(&form.to);
    let body = if to.is_empty() { json!({}) } else { json!({ "to": to }) };
    let message = match state.postline.send_test_broadcast(&team_sender(&viewer), broadcast.id, &body).await {
        Ok(sent) => {
            let to = format!("/dashboard/broadcasts/{}?notice=tested&n={}", broadcast.id, sent.len());
            return Redirect::to(&to).into_response();
        }
        Err(Error::Invalid { kind: postline_core::Invalid::MissingField, .. }) => {
            format!("Enter 1 to {MAX_TEST_RECIPIENTS} addresses, separated by commas.")
        }
        Err(Error::Invalid { message, .. } | Error::Forbidden(message)) => message,
        Err(other) => return failure(other),
    };
    let test = TestState { to: &form.to, error: Some(&message) };
    editor::render(&state, &viewer, Some(&broadcast), &EditorForm::of(&broadcast), None, test, html! {}).await
}

/// `POST /dashboard/broadcasts/{id}/cancel`
pub async fn cancel(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let broadcast = match super::load_for_form(&state, &viewer, &id, &form.csrf).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    match state.postline.cancel_broadcast(viewer.team_id(), broadcast.id).await {
        Ok(_) => Redirect::to(&format!("/dashboard/broadcasts/{}?notice=canceled", broadcast.id)).into_response(),
        Err(error) => conflict(error),
    }
}

/// `POST /dashboard/broadcasts/{id}/duplicate`: on to the copy's editor.
pub async fn duplicate(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let broadcast = match super::load_for_form(&state, &viewer, &id, &form.csrf).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    match state.postline.duplicate_broadcast(viewer.team_id(), broadcast.id).await {
        Ok(copy) => Redirect::to(&format!("/dashboard/broadcasts/{}?notice=duplicated", copy.id)).into_response(),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/broadcasts/{id}/delete`
pub async fn remove(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let broadcast = match super::load_for_form(&state, &viewer, &id, &form.csrf).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    if broadcast.status != BroadcastStatus::Draft {
        return not_a_draft(&broadcast, "deleted");
    }
    match state.postline.delete_broadcast(viewer.team_id(), broadcast.id).await {
        Ok(()) => Redirect::to("/dashboard/broadcasts").into_response(),
        Err(error) => conflict(error),
    }
}
