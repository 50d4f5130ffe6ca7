//! Bulk actions on the contacts list: the rows ticked in the list's form are posted
//! with the button pressed (`action`), which leads to a second step — choose the
//! segments to add them to, the topics to subscribe them to, or confirm the deletion
//! — whose form carries the same contacts on. Plain forms throughout, so it all works
//! without JavaScript. Each change goes through the use case the API calls for one
//! contact (`POST /contacts/{id}/segments/{segment}`, `PATCH /contacts/{id}/topics`,
//! `DELETE /contacts/{id}`); every contact, segment and topic named is looked up in
//! the viewer's team before anything changes, so another team's id is a 404 with
//! nothing done.

use axum::{
    Form,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{
    Error,
    audience::Contact,
    ids::{SegmentId, TopicId},
    pagination::PageRequest,
};
use serde_json::json;

use super::{
    Area,
    form::{FieldError, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::notes,
    layout::{self, Section, error_page, failure},
    session::{Viewer, csrf_refusal},
};

/// Most contacts acted on at once (the list shows 50 a page).
const MAX_CONTACTS: usize = 500;

/// A bulk form as posted: repeated `contact`, `segment` and `topic` fields.
#[derive(Default)]
struct Picked {
    csrf: String,
    action: String,
    contacts: Vec<String>,
    segments: Vec<String>,
    topics: Vec<String>,
}

impl Picked {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut picked = Picked::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => picked.csrf = value,
                "action" => picked.action = value,
                "contact" => picked.contacts.push(value),
                "segment" => picked.segments.push(value),
                "topic" => picked.topics.push(value),
                _ => {}
            }
        }
        picked.contacts.dedup();
        picked
    }
}

/// The chosen contacts, each found in the viewer's team (another team's: not found).
async fn contacts(state: &DashboardState, viewer: &Viewer, ids: &[String]) -> Result<Vec<Contact>, Error> {
    if ids.len() > MAX_CONTACTS {
        return Err(Error::value(format!("Choose at most {MAX_CONTACTS} contacts at once.")));
    }
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.push(state.postline.get_contact(viewer.team_id(), id).await?);
    }
    Ok(found)
}

/// A posted bulk form and the contacts it names, once its CSRF token is checked.
async fn picked_contacts(
    state: &DashboardState,
    viewer: &Viewer,
    pairs: Vec<(String, String)>,
) -> Result<(Picked, Vec<Contact>), Response> {
    let picked = Picked::from(pairs);
    if let Some(refused) = csrf_refusal(viewer, &picked.csrf) {
        return Err(refused);
    }
    let chosen = contacts(state, viewer, &picked.contacts).await.map_err(failure)?;
    Ok((picked, chosen))
}

/// The second step's page: what will happen to which contacts.
fn step(viewer: &Viewer, title: &str, action: &str, chosen: &[Contact], body: Markup, button: Markup) -> Response {
    let content = html! {
        p { a href="/dashboard/audience" { "← Audience" } }
        h1 { (title) }
        (subnav(Area::Contacts))
        form.stacked method="post" action={ "/dashboard/audience/bulk/" (action) } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            @for contact in chosen { input type="hidden" name="contact" value=(contact.id); }
            details {
                summary { (chosen.len()) @if chosen.len() == 1 { " contact" } @else { " contacts" } }
                ul { @for contact in chosen { li { (contact.email) } } }
            }
            (body)
            div.actions { (button) a href="/dashboard/audience" { "Cancel" } }
        }
    };
    layout::page(title, viewer, Section::Audience, content)
}

/// A fieldset of checkboxes named `name`, with the error about it.
fn choices(name: &str, legend: &str, options: &[(String, String)], ticked: &[String], error: Option<&str>) -> Markup {
    html! {
        fieldset aria-describedby=[error.map(|_| format!("{name}-error"))] aria-invalid=[error.map(|_| "true")] {
            legend { (legend) }
            @for (value, label) in options {
                label.check {
                    input type="checkbox" name=(name) value=(value) checked[ticked.contains(value)];
                    " " (label)
                }
            }
            (notes(name, None, error))
        }
    }
}

async fn segment_step(
    state: &DashboardState,
    viewer: &Viewer,
    picked: &Picked,
    chosen: &[Contact],
    error: Option<FieldError>,
) -> Response {
    let page = PageRequest { limit: 100, ..Default::default() };
    let segments = match state.postline.list_segments(viewer.team_id(), page).await {
        Ok(found) => found.items,
        Err(error) => return failure(error),
    };
    let options: Vec<(String, String)> = segments.iter().map(|s| (s.id.to_string(), s.name.clone())).collect();
    let body = html! {
        @if options.is_empty() {
            p.empty { "This team has no segments yet. " a href="/dashboard/audience/segments" { "Create a segment" } " first." }
        } @else {
            (choices("segment", "Segments", &options, &picked.segments, FieldError::on(error.as_ref(), "segment")))
        }
    };
    let response =
        step(viewer, "Add to segments", "segments", chosen, body, html! { button type="submit" { "Add to segments" } });
    if error.is_some() { refused(response) } else { response }
}

async fn topic_step(
    state: &DashboardState,
    viewer: &Viewer,
    picked: &Picked,
    chosen: &[Contact],
    error: Option<FieldError>,
) -> Response {
    let page = PageRequest { limit: 100, ..Default::default() };
    let topics = match state.postline.list_topics(viewer.team_id(), page).await {
        Ok(found) => found.items,
        Err(error) => return failure(error),
    };
    let options: Vec<(String, String)> = topics.iter().map(|t| (t.id.to_string(), t.name.clone())).collect();
    let body = html! {
        @if options.is_empty() {
            p.empty { "This team has no topics yet. " a href="/dashboard/audience/topics" { "Create a topic" } " first." }
        } @else {
            (choices("topic", "Topics", &options, &picked.topics, FieldError::on(error.as_ref(), "topic")))
            p.muted { "The contacts are opted in to each topic chosen; their other topics stay as they are." }
        }
    };
    let response =
        step(viewer, "Subscribe to topics", "topics", chosen, body, html! { button type="submit" { "Subscribe" } });
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/bulk`: the button pressed on the list, to its second step.
pub async fn choose(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (picked, chosen) = match picked_contacts(&state, &viewer, pairs).await {
        Ok(picked) => picked,
        Err(response) => return response,
    };
    if chosen.is_empty() {
        let content = html! {
            h1 { "No contacts selected" }
            p.field-error { "Tick the contacts to act on in the list first, then choose the action." }
            p { a href="/dashboard/audience" { "← Back to the contacts" } }
        };
        return refused(layout::page("No contacts selected", &viewer, Section::Audience, content));
    }
    match picked.action.as_str() {
        "segments" => segment_step(&state, &viewer, &picked, &chosen, None).await,
        "topics" => topic_step(&state, &viewer, &picked, &chosen, None).await,
        "delete" => {
            let many = chosen.len() != 1;
            let body = html! {
                p { "Deleting a contact removes it from every segment and forgets its topic choices. Its emails stay in your logs. This cannot be undone." }
            };
            let button = html! {
                button.danger type="submit" { "Delete " (chosen.len()) @if many { " contacts" } @else { " contact" } }
            };
            step(
                &viewer,
                if many { "Delete these contacts?" } else { "Delete this contact?" },
                "delete",
                &chosen,
                body,
                button,
            )
        }
        _ => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose an action: add to segments, subscribe to topics or delete.",
        ),
    }
}

/// `POST /dashboard/audience/bulk/segments`
pub async fn add_to_segments(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (picked, chosen) = match picked_contacts(&state, &viewer, pairs).await {
        Ok(picked) => picked,
        Err(response) => return response,
    };
    if picked.segments.is_empty() {
        let error = FieldError::new("segment", "Choose at least one segment.");
        return segment_step(&state, &viewer, &picked, &chosen, Some(error)).await;
    }
    let team = viewer.team_id();
    let mut segments = Vec::new();
    for raw in &picked.segments {
        let found = match SegmentId::parse(raw) {
            Ok(id) => state.postline.get_segment(team, id).await,
            Err(error) => Err(error),
        };
        match found {
            Ok(segment) => segments.push(segment.id),
            Err(error) => return failure(error),
        }
    }
    for contact in &chosen {
        for segment in &segments {
            if let Err(error) = state.postline.add_contact_to_segment(team, &contact.id.to_string(), *segment).await {
                return failure(error);
            }
        }
    }
    Redirect::to(&format!("/dashboard/audience?notice=segmented&n={}", chosen.len())).into_response()
}

/// `POST /dashboard/audience/bulk/topics`
pub async fn subscribe(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (picked, chosen) = match picked_contacts(&state, &viewer, pairs).await {
        Ok(picked) => picked,
        Err(response) => return response,
    };
    if picked.topics.is_empty() {
        let error = FieldError::new("topic", "Choose at least one topic.");
        return topic_step(&state, &viewer, &picked, &chosen, Some(error)).await;
    }
    let team = viewer.team_id();
    let mut choices = Vec::new();
    for raw in &picked.topics {
        let found = match TopicId::parse(raw) {
            Ok(id) => state.postline.get_topic(team, id).await,
            Err(error) => Err(error),
        };
        match found {
            Ok(topic) => choices.push(json!({"id": topic.id, "subscription": "opt_in"})),
            Err(error) => return failure(error),
        }
    }
    let body = json!({ "topics": choices });
    for contact in &chosen {
        if let Err(error) = state.postline.update_contact_topics(team, &contact.id.to_string(), &body).await {
            return failure(error);
        }
    }
    Redirect::to(&format!("/dashboard/audience?notice=subscribed&n={}", chosen.len())).into_response()
}

/// `POST /dashboard/audience/bulk/delete` (after the confirmation step).
pub async fn delete(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let (_, chosen) = match picked_contacts(&state, &viewer, pairs).await {
        Ok(picked) => picked,
        Err(response) => return response,
    };
    let mut deleted = 0;
    for contact in &chosen {
        match state.postline.delete_contact(viewer.team_id(), &contact.id.to_string()).await {
            Ok(_) => deleted += 1,
            // Deleted meanwhile (another tab, the API): the goal is reached anyway.
            Err(Error::NotFound(_)) => {}
            Err(error) => return failure(error),
        }
    }
    Redirect::to(&format!("/dashboard/audience?notice=deleted&n={deleted}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_collected() {
        let pairs = [("csrf", "t"), ("contact", "a"), ("contact", "b"), ("segment", "s"), ("action", "delete")];
        let picked = Picked::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        assert_eq!((picked.csrf.as_str(), picked.action.as_str()), ("t", "delete"));
        assert_eq!(picked.contacts, ["a", "b"]);
        assert_eq!(picked.segments, ["s"]);
    }
}
