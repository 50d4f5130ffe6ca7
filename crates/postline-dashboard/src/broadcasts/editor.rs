//! The editor of a new broadcast or a draft: its details, audience (segment and
//! optional topic), Markdown body with the personalisation placeholders offered from
//! a menu, global styles, the live preview beside it, and — once saved — the test
//! email form and the way on to sending. Saving builds the body of `POST` or
//! `PATCH /broadcasts` and calls the same use case.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{
    Error,
    audience::ContactProperty,
    broadcasts::{Broadcast, BroadcastStatus},
    pagination::PageRequest,
};

use super::{
    ShowQuery, actions,
    form::{EditorForm, FieldError, refusal},
    notice, preview, status_badge, title,
};
use crate::{
    DashboardState,
    fields::{described_by, input, notes, select},
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

/// The built-in placeholders, as inserted (with a fallback where a contact may have
/// no value), and what each stands for.
const BUILT_IN: [(&str, &str); 4] = [
    ("{{{FIRST_NAME|there}}}", "First name (or “there”)"),
    ("{{{LAST_NAME|}}}", "Last name (or nothing)"),
    ("{{{EMAIL}}}", "Email address"),
    ("{{{RESEND_UNSUBSCRIBE_URL}}}", "Unsubscribe link"),
];

/// The test email form's state: what was typed and core's refusal of it.
#[derive(Default)]
pub struct TestState<'a> {
    pub to: &'a str,
    pub error: Option<&'a str>,
}

/// `GET /dashboard/broadcasts/new`
pub async fn new(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    render(&state, &viewer, None, &EditorForm::blank(), None, TestState::default(), html! {}).await
}

/// The editor of a stored draft (`GET /dashboard/broadcasts/{id}`).
pub async fn edit(state: &DashboardState, viewer: &Viewer, broadcast: Broadcast, query: &ShowQuery) -> Response {
    let form = EditorForm::of(&broadcast);
    render(state, viewer, Some(&broadcast), &form, None, TestState::default(), notice(query)).await
}

/// `POST /dashboard/broadcasts`: a new draft, then its editor.
pub async fn create(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<EditorForm>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match state.postline.create_broadcast(viewer.team_id(), &form.body(false)).await {
        Ok(created) => Redirect::to(&format!("/dashboard/broadcasts/{}?notice=created", created.id)).into_response(),
        Err(error) => match refusal(error) {
            Ok(refusal) => render(&state, &viewer, None, &form, Some(&refusal), TestState::default(), html! {}).await,
            Err(other) => failure(other),
        },
    }
}

/// `POST /dashboard/broadcasts/{id}`: saves a draft (also while scheduled).
pub async fn update(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<EditorForm>,
) -> Response {
    let broadcast = match super::load_for_form(&state, &viewer, &id, &form.csrf).await {
        Ok(broadcast) => broadcast,
        Err(response) => return response,
    };
    if broadcast.status != BroadcastStatus::Draft {
        return actions::not_a_draft(&broadcast, "changed");
    }
    let body = form.body(broadcast.source.is_some());
    match state.postline.update_broadcast(viewer.team_id(), broadcast.id, &body).await {
        Ok(saved) => Redirect::to(&format!("/dashboard/broadcasts/{}?notice=saved", saved.id)).into_response(),
        Err(error) => match refusal(error) {
            Ok(refusal) => {
                render(&state, &viewer, Some(&broadcast), &form, Some(&refusal), TestState::default(), html! {}).await
            }
            Err(other) => failure(other),
        },
    }
}

/// What the editor's menus offer.
struct Choices {
    segments: Vec<(String, String)>,
    topics: Vec<(String, String)>,
    properties: Vec<ContactProperty>,
}

async fn choices(state: &DashboardState, viewer: &Viewer) -> Result<Choices, Error> {
    let team = viewer.team_id();
    let all = || PageRequest { limit: 100, ..Default::default() };
    let sizes = state.postline.segment_sizes(team).await?;
    let mut segments = vec![(String::new(), "Choose a segment…".to_string())];
    for segment in state.postline.list_segments(team, all()).await?.items {
        let size = sizes.iter().find(|(id, _)| *id == segment.id).map_or(0, |(_, n)| *n);
        let contacts = if size == 1 { "1 contact".to_string() } else { format!("{size} contacts") };
        segments.push((segment.id.to_string(), format!("{} ({contacts})", segment.name)));
    }
    let mut topics = vec![(String::new(), "No topic".to_string())];
    topics.extend(state.postline.list_topics(team, all()).await?.items.into_iter().map(|t| (t.id.to_string(), t.name)));
    let properties = state.postline.list_contact_properties(team, all()).await?.items;
    Ok(Choices { segments, topics, properties })
}

/// The placeholder menu: a select and button that insert at the cursor (shown by
/// `app.js`), and the same placeholders as text to copy, which is all there is
/// without JavaScript.
fn placeholder_menu(properties: &[ContactProperty]) -> Markup {
    let custom: Vec<(String, String)> = properties
        .iter()
        .map(|p| (format!("{{{{{{{}}}}}}}", p.key), format!("Contact property “{}”", p.key)))
        .collect();
    html! {
        div.placeholders {
            div.insert-placeholder hidden data-insert-into="markdown" {
                label for="placeholder" { "Personalise" }
                select #placeholder {
                    @for (code, words) in BUILT_IN { option value=(code) { (words) } }
                    @for (code, words) in &custom { option value=(code) { (words) } }
                }
                button type="button" data-insert-placeholder { "Insert placeholder" }
            }
            details.codes {
                summary { "Placeholders to copy" }
                p.muted.hint { "Each is replaced by the recipient's value; the text after “|” is used when they have none." }
                ul {
                    @for (code, words) in BUILT_IN { li { code { (code) } " — " (words) } }
                    @for (code, words) in &custom { li { code { (code) } " — " (words) } }
                }
            }
        }
    }
}

/// The global styles: colours and the content column's width.
fn styles(form: &EditorForm, error: Option<&FieldError>) -> Markup {
    let colour = |name: &str, label: &str, value: &str| {
        let error = FieldError::on(error, name);
        html! {
            div.field {
                label for=(name) { (label) }
                input id=(name) type="color" name=(name) value=(value)
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[described_by(name, false, error.is_some())];
                (notes(name, None, error))
            }
        }
    };
    let width_error = FieldError::on(error, "container_width");
    html! {
        fieldset.styles {
            legend { "Styles" }
            div.colours {
                (colour("background_color", "Background", &form.background_color))
                (colour("text_color", "Text", &form.text_color))
                (colour("link_color", "Links", &form.link_color))
                div.field {
                    label for="container_width" { "Width (px)" }
                    input #container_width type="number" name="container_width" min="320" max="1200" step="10"
                        value=(form.container_width) inputmode="numeric"
                        aria-invalid=[width_error.map(|_| "true")]
                        aria-describedby=[described_by("container_width", true, width_error.is_some())];
                    (notes("container_width", Some("320 to 1200."), width_error))
                }
            }
        }
    }
}

/// The editor page; `broadcast` is the stored draft (none for a new one).
pub async fn render(
    state: &DashboardState,
    viewer: &Viewer,
    broadcast: Option<&Broadcast>,
    form: &EditorForm,
    error: Option<&FieldError>,
    test: TestState<'_>,
    notice: Markup,
) -> Response {
    let loaded = async {
        let choices = choices(state, viewer).await?;
        // The preview shows what was typed when core can read it, else what is saved.
        let base = broadcast.cloned().unwrap_or_else(|| preview::unsaved_broadcast(viewer.team_id()));
        let shown = preview::with_form(base.clone(), form).unwrap_or(base);
        let preview = preview::render(state, viewer, &shown).await?;
        Ok::<_, Error>((choices, preview))
    }
    .await;
    let (choices, preview_html) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let on = |field| FieldError::on(error, field);
    let (action, preview_url) = match broadcast {
        Some(b) => (format!("/dashboard/broadcasts/{}", b.id), format!("/dashboard/broadcasts/{}/preview", b.id)),
        None => ("/dashboard/broadcasts".to_string(), "/dashboard/broadcasts/new/preview".to_string()),
    };
    let html_from_api = broadcast.is_some_and(|b| b.source.is_none() && b.html.is_some());
    let markdown_error = on("markdown");
    let heading = broadcast.map_or("New broadcast".to_string(), title);
    let content = html! {
        p.back { a href="/dashboard/broadcasts" { "← Broadcasts" } }
        div.heading-row {
            h1 { (heading) }
            @if let Some(b) = broadcast { (status_badge(b)) }
        }
        (notice)
        @if let Some(b) = broadcast { (actions::bar(viewer, b)) }
        @if let Some(error) = error {
            p.error role="alert" { "The broadcast was not saved: " a href={ "#" (error.field) } { (error.message) } }
        }
        div.editor {
            form #editor.stacked.editor-form method="post" action=(action) data-preview=(preview_url) data-preview-frame="preview-frame" novalidate {
                input type="hidden" name="csrf" value=(viewer.csrf());
                fieldset {
                    legend { "Details" }
                    (input("text", "name", "Name", &form.name, Some("For you and your team; recipients do not see it."), on("name")))
                    (input("text", "from", "From", &form.from, Some("Acme <news@acme.dev>: an address at one of your verified domains."), on("from")))
                    (input("text", "reply_to", "Reply-to", &form.reply_to, Some("Optional; several addresses separated by commas."), on("reply_to")))
                    (input("text", "subject", "Subject", &form.subject, Some("Placeholders work here too."), on("subject")))
                    (input("text", "preview_text", "Preview text", &form.preview_text, Some("Optional; shown after the subject in most inboxes."), on("preview_text")))
                }
                fieldset {
                    legend { "Audience" }
                    (select("segment_id", "Segment", &choices.segments, &form.segment_id, Some("Every contact of the segment gets it, except those unsubscribed or suppressed."), on("segment_id")))
                    (select("topic_id", "Topic", &choices.topics, &form.topic_id, Some("Optional; contacts who opted out of the topic are left out."), on("topic_id")))
                }
                fieldset {
                    legend { "Content" }
                    (placeholder_menu(&choices.properties))
                    div.field {
                        label for="markdown" { "Body (Markdown)" }
                        textarea #markdown name="markdown" rows="16" spellcheck="true"
                            aria-invalid=[markdown_error.map(|_| "true")]
                            aria-describedby=[described_by("markdown", true, markdown_error.is_some())] { (form.markdown) }
                        (notes("markdown", Some("# Headings, **bold**, *italic*, [links](https://…), lists and > quotes. Paste from Notion or Google Docs as Markdown."), markdown_error))
                        @if html_from_api && form.markdown.trim().is_empty() {
                            p.muted.hint { "This draft's content was written as HTML through the API and is shown in the preview. Write Markdown here to replace it." }
                        }
                    }
                }
                (styles(form, error))
                button.primary type="submit" { @if broadcast.is_some() { "Save draft" } @else { "Create draft" } }
            }
            aside.preview-pane aria-labelledby="preview-title" {
                h2 #preview-title { "Preview" }
                p.muted.hint { "As " (viewer.0.user.email) " would get it. Save to update the preview without JavaScript." }
                p #preview-status.hint role="status" aria-live="polite" {}
                iframe #preview-frame.preview sandbox="" title="Email preview"
                    srcdoc=(preview_html.as_deref().unwrap_or(preview::EMPTY)) {}
            }
        }
        @if let Some(b) = broadcast {
            section aria-labelledby="test-title" {
                h2 #test-title { "Test email" }
                form.stacked method="post" action={ "/dashboard/broadcasts/" (b.id) "/test" } novalidate {
                    input type="hidden" name="csrf" value=(viewer.csrf());
                    (input("text", "to", "Send a test to", test.to, Some("Up to 5 addresses, separated by commas. Uses the saved draft; test emails leave out the reply-to."), test.error))
                    button type="submit" { "Send test email" }
                }
            }
        }
    };
    let page_title = if broadcast.is_some() { "Edit broadcast" } else { "New broadcast" };
    let mut response = layout::page(page_title, viewer, Section::Broadcasts, content);
    if error.is_some() || test.error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}
