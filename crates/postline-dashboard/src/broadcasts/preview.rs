//! The editor's live preview: the email as its recipient would see it, made by the
//! same code core sends with — the form's body validated by core's broadcast parser
//! (Markdown and style become the email-safe HTML), then personalised by
//! `broadcasts::content` for the signed-in user: their own contact when they are one,
//! else an address without names, so fallbacks show.
//!
//! `app.js` posts the form here as it is typed in and puts the answer into the
//! editor's sandboxed `srcdoc` frame; the editor page itself renders the saved draft
//! the same way, so the preview works without JavaScript too.

use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::{DOCTYPE, html};
use postline_core::{
    Error,
    audience::Contact,
    broadcasts::{
        Broadcast, BroadcastStatus,
        content::{self, UNSUBSCRIBE_PLACEHOLDER},
        input::BroadcastFields,
    },
    ids::{BroadcastId, ContactId, TeamId},
    pagination::PageRequest,
};

use super::form::EditorForm;
use crate::{
    DashboardState,
    layout::failure,
    session::{Viewer, csrf_refusal},
};

/// Where the unsubscribe link points in a preview: nowhere (each real copy gets its
/// recipient's signed link from the MTA).
const PREVIEW_UNSUBSCRIBE: &str = "#unsubscribe";

/// A broadcast not saved yet, for previewing a new one.
pub fn unsaved_broadcast(team_id: TeamId) -> Broadcast {
    Broadcast {
        id: BroadcastId::new(),
        team_id,
        name: None,
        segment_id: None,
        from: String::new(),
        subject: String::new(),
        reply_to: Vec::new(),
        preview_text: None,
        html: None,
        text: None,
        source: None,
        topic_id: None,
        status: BroadcastStatus::Draft,
        send_at: None,
        scheduled_at: None,
        sent_at: None,
        created_at: chrono::Utc::now(),
        fanned_out: 0,
        fanout_after: None,
    }
}

/// `base` with the content the form asks for (parsed and rendered by core); the
/// parts the preview does not show are left as they were.
pub fn with_form(mut base: Broadcast, form: &EditorForm) -> Result<Broadcast, Error> {
    let mut body = form.body(base.source.is_some());
    // Only the content is previewed: a sender or segment not chosen yet is the
    // editor's business when saving, not the preview's.
    if let Some(body) = body.as_object_mut() {
        for field in ["name", "from", "reply_to", "segment_id", "topic_id"] {
            body.remove(field);
        }
        if body.get("subject").is_some_and(|s| s.is_null()) {
            body.remove("subject");
        }
    }
    let fields = BroadcastFields::parse(&body)?;
    if let Some(subject) = fields.subject {
        base.subject = subject;
    }
    if let Some(preview_text) = fields.preview_text {
        base.preview_text = preview_text;
    }
    if let Some(html) = fields.html {
        base.html = html;
    }
    if let Some(text) = fields.text {
        base.text = text;
    }
    Ok(base)
}

/// Who the preview is personalised for: the viewer's own contact, or a stand-in with
/// only their address.
async fn reader(state: &DashboardState, viewer: &Viewer) -> Result<Contact, Error> {
    let email = viewer.0.user.email.clone();
    match state.postline.get_contact(viewer.team_id(), &email).await {
        Ok(contact) => Ok(contact),
        Err(Error::NotFound(_) | Error::Invalid { .. }) => {
            let now = chrono::Utc::now();
            Ok(Contact {
                id: ContactId::new(),
                team_id: viewer.team_id(),
                email,
                first_name: None,
                last_name: None,
                unsubscribed: false,
                properties: serde_json::Map::new(),
                created_at: now,
                updated_at: now,
            })
        }
        Err(other) => Err(other),
    }
}

/// The broadcast's email for the viewer, as an HTML document (a text-only broadcast
/// as preformatted text); `None` when it has no content yet.
pub async fn render(state: &DashboardState, viewer: &Viewer, broadcast: &Broadcast) -> Result<Option<String>, Error> {
    let properties = state
        .postline
        .list_contact_properties(viewer.team_id(), PageRequest { limit: 100, ..Default::default() })
        .await?
        .items;
    let contact = reader(state, viewer).await?;
    let values = content::values_for(&contact, &properties, &content::placeholder_names(broadcast));
    if let Some(html) = content::html_for(broadcast, &values).filter(|h| !h.trim().is_empty()) {
        return Ok(Some(html.replace(UNSUBSCRIBE_PLACEHOLDER, PREVIEW_UNSUBSCRIBE)));
    }
    Ok(content::text_for(broadcast, &values).filter(|t| !t.trim().is_empty()).map(|text| {
        let text = text.replace(UNSUBSCRIBE_PLACEHOLDER, PREVIEW_UNSUBSCRIBE);
        html! { (DOCTYPE) html { body { pre style="white-space:pre-wrap;font:14px/1.5 sans-serif" { (text) } } } }
            .into_string()
    }))
}

/// The subject line as the viewer's copy would have it.
pub async fn subject(state: &DashboardState, viewer: &Viewer, broadcast: &Broadcast) -> Result<String, Error> {
    let properties = state
        .postline
        .list_contact_properties(viewer.team_id(), PageRequest { limit: 100, ..Default::default() })
        .await?
        .items;
    let contact = reader(state, viewer).await?;
    let values = content::values_for(&contact, &properties, &content::placeholder_names(broadcast));
    Ok(content::render(&broadcast.subject, false, &values))
}

/// What an empty preview says.
pub const EMPTY: &str =
    "<!doctype html><p style=\"font:14px sans-serif;color:#5b6470\">Write the body to see it here.</p>";

/// The answer `app.js` reads: the email's HTML (its own sandbox policy, should it be
/// opened directly), or core's refusal as text with 422.
async fn answer(state: &DashboardState, viewer: &Viewer, base: Broadcast, form: &EditorForm) -> Response {
    let broadcast = match with_form(base, form) {
        Ok(broadcast) => broadcast,
        Err(Error::Invalid { message, .. }) => return (StatusCode::UNPROCESSABLE_ENTITY, message).into_response(),
        Err(error) => return failure(error),
    };
    match render(state, viewer, &broadcast).await {
        Ok(html) => {
            let mut response = (StatusCode::OK, html.unwrap_or_else(|| EMPTY.to_string())).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "sandbox; default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'",
                ),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/broadcasts/new/preview`
pub async fn unsaved(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<EditorForm>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    answer(&state, &viewer, unsaved_broadcast(viewer.team_id()), &form).await
}

/// `POST /dashboard/broadcasts/{id}/preview`: a draft's preview (content written as
/// HTML through the API shows while the Markdown box is empty).
pub async fn saved(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<EditorForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match super::load(&state, &viewer, &id).await {
        Ok(broadcast) => answer(&state, &viewer, broadcast, &form).await,
        Err(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_content_is_made_by_cores_parser_in_its_style() {
        let form = EditorForm {
            subject: "Hi {{{FIRST_NAME|there}}}".into(),
            markdown: "# News\n\nSee [us](https://acme.dev)".into(),
            link_color: "#ff5500".into(),
            ..EditorForm::blank()
        };
        let broadcast = with_form(unsaved_broadcast(TeamId::new()), &form).unwrap();
        let html = broadcast.html.unwrap();
        assert!(html.contains("#ff5500") && html.contains("https://acme.dev"), "{html}");
        assert!(broadcast.text.unwrap().contains("us (https://acme.dev)"));
        assert_eq!(broadcast.subject, "Hi {{{FIRST_NAME|there}}}");
        let wrong = EditorForm { link_color: "red".into(), ..form };
        assert!(matches!(with_form(unsaved_broadcast(TeamId::new()), &wrong), Err(Error::Invalid { .. })));
    }

    #[test]
    fn html_from_the_api_is_kept_while_the_markdown_box_is_empty() {
        let mut base = unsaved_broadcast(TeamId::new());
        base.html = Some("<p>From the API</p>".into());
        let shown = with_form(base, &EditorForm { subject: "x".into(), ..EditorForm::blank() }).unwrap();
        assert_eq!(shown.html.as_deref(), Some("<p>From the API</p>"));
    }
}
