//! Editing one contact — first and last name, its custom properties, the global
//! unsubscribe, its segments and its choice for each topic (the address itself is
//! not editable, as in the reference) — and deleting it after a confirmation page.
//!
//! The contact's fields go through `update_contact` (the body of
//! `PATCH /contacts/{id}`) first: when core refuses them the form comes back beside
//! the field concerned and nothing has changed. Only then are segments joined or
//! left and topic choices recorded — only those that differ from what is in effect,
//! so a topic the contact never chose keeps following the topic's default.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::{
    Error,
    audience::{Contact, ContactProperty, ContactTopic, PropertyType, Segment, Subscription},
    pagination::PageRequest,
};
use serde_json::{Map, Value, json};

use super::{
    Area,
    form::{FieldError, property_text, property_value, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::{described_by, input, notes},
    layout::{self, Section, failure},
    session::{CsrfOnly, Viewer, csrf_refusal},
};

/// Everything the page shows about the contact and its team.
struct Loaded {
    contact: Contact,
    properties: Vec<ContactProperty>,
    segments: Vec<Segment>,
    member_of: Vec<String>,
    topics: Vec<ContactTopic>,
}

async fn load(state: &DashboardState, viewer: &Viewer, id: &str) -> Result<Loaded, Error> {
    let team = viewer.team_id();
    let all = || PageRequest { limit: 100, ..Default::default() };
    let contact = state.postline.get_contact(team, id).await?;
    let key = contact.id.to_string();
    let member_of =
        state.postline.contact_segments(team, &key, all()).await?.items.iter().map(|(s, _)| s.id.to_string()).collect();
    Ok(Loaded {
        properties: state.postline.list_contact_properties(team, all()).await?.items,
        segments: state.postline.list_segments(team, all()).await?.items,
        topics: state.postline.contact_topics(team, &key, all()).await?.items,
        member_of,
        contact,
    })
}

/// The form's values: the contact's own, or as submitted.
#[derive(Default)]
struct Values {
    csrf: String,
    first_name: String,
    last_name: String,
    unsubscribed: bool,
    /// `prop.{key}` fields.
    properties: Vec<(String, String)>,
    segments: Vec<String>,
    /// `topic.{id}` fields: `opt_in` or `opt_out`.
    topics: Vec<(String, String)>,
}

impl Values {
    fn of(loaded: &Loaded) -> Self {
        let c = &loaded.contact;
        Values {
            csrf: String::new(),
            first_name: c.first_name.clone().unwrap_or_default(),
            last_name: c.last_name.clone().unwrap_or_default(),
            unsubscribed: c.unsubscribed,
            properties: loaded
                .properties
                .iter()
                .map(|p| (p.key.clone(), c.properties.get(&p.key).map(property_text).unwrap_or_default()))
                .collect(),
            segments: loaded.member_of.clone(),
            topics: loaded.topics.iter().map(|t| (t.topic.id.to_string(), t.subscription.as_str().into())).collect(),
        }
    }

    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut values = Values::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => values.csrf = value,
                "first_name" => values.first_name = value,
                "last_name" => values.last_name = value,
                "unsubscribed" => values.unsubscribed = true,
                "segment" => values.segments.push(value),
                _ => {
                    if let Some(key) = name.strip_prefix("prop.") {
                        values.properties.push((key.to_string(), value));
                    } else if let Some(id) = name.strip_prefix("topic.") {
                        values.topics.push((id.to_string(), value));
                    }
                }
            }
        }
        values
    }

    fn property(&self, key: &str) -> &str {
        self.properties.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    fn topic(&self, id: &str) -> Option<&str> {
        self.topics.iter().find(|(k, _)| k == id).map(|(_, v)| v.as_str())
    }

    /// The body of `PATCH /contacts/{id}` (blank names and values clear them).
    fn body(&self, defined: &[ContactProperty]) -> Value {
        let name = |raw: &str| if raw.trim().is_empty() { Value::Null } else { json!(raw.trim()) };
        let properties: Map<String, Value> =
            defined.iter().map(|p| (p.key.clone(), property_value(self.property(&p.key), p.property_type))).collect();
        json!({
            "first_name": name(&self.first_name),
            "last_name": name(&self.last_name),
            "unsubscribed": self.unsubscribed,
            "properties": properties,
        })
    }
}

/// Which field a refusal of the contact's fields concerns.
fn field_of(message: &str, defined: &[ContactProperty]) -> String {
    for field in ["first_name", "last_name", "unsubscribed"] {
        if message.contains(&format!("`{field}`")) {
            return field.to_string();
        }
    }
    defined
        .iter()
        .find(|p| message.contains(&format!("`{}`", p.key)))
        .map_or_else(|| "first_name".to_string(), |p| format!("prop.{}", p.key))
}

fn render(viewer: &Viewer, loaded: &Loaded, values: &Values, error: Option<FieldError>) -> Response {
    let c = &loaded.contact;
    let error = error.as_ref();
    let content = html! {
        p { a href={ "/dashboard/audience/" (c.id) } { "← " (c.email) } }
        h1 { "Edit " (c.email) }
        (subnav(Area::Contacts))
        form.stacked method="post" action={ "/dashboard/audience/" (c.id) "/edit" } novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (input("text", "first_name", "First name", &values.first_name, None, FieldError::on(error, "first_name")))
            (input("text", "last_name", "Last name", &values.last_name, None, FieldError::on(error, "last_name")))
            @for p in &loaded.properties {
                @let name = format!("prop.{}", p.key);
                @let hint = match p.property_type {
                    PropertyType::Number => "A number. Leave blank to use the fallback.",
                    PropertyType::String => "Text. Leave blank to use the fallback.",
                };
                (input("text", &name, &p.key, values.property(&p.key), Some(hint), FieldError::on(error, &name)))
            }
            div.field.check {
                input #unsubscribed type="checkbox" name="unsubscribed" value="on" checked[values.unsubscribed] aria-describedby="unsubscribed-hint";
                label for="unsubscribed" { "Unsubscribed from all broadcasts" }
                (notes("unsubscribed", Some("An unsubscribed contact gets no broadcast, whatever its topics say."), None))
            }
            fieldset {
                legend { "Segments" }
                @if loaded.segments.is_empty() { p.empty { "The team has no segments." } }
                @for s in &loaded.segments {
                    @let value = s.id.to_string();
                    label.check { input type="checkbox" name="segment" value=(value) checked[values.segments.contains(&value)]; " " (s.name) }
                }
            }
            @for t in &loaded.topics {
                @let id = t.topic.id.to_string();
                @let name = format!("topic.{id}");
                @let chosen = values.topic(&id).unwrap_or(t.subscription.as_str());
                fieldset aria-describedby=[described_by(&name, true, false)] {
                    legend { "Topic: " (t.topic.name) }
                    label.check { input type="radio" name=(name) value="opt_in" checked[chosen == "opt_in"]; " Subscribed" }
                    label.check { input type="radio" name=(name) value="opt_out" checked[chosen == "opt_out"]; " Not subscribed" }
                    (notes(&name, Some(&format!("Default for contacts who never chose: {}.",
                        if t.topic.default_subscription == Subscription::OptIn { "subscribed" } else { "not subscribed" })), None))
                }
            }
            button.primary type="submit" { "Save" }
        }
    };
    let response = layout::page(&format!("Edit {}", c.email), viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `GET /dashboard/audience/{id}/edit`
pub async fn page(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    match load(&state, &viewer, &id).await {
        Ok(loaded) => render(&viewer, &loaded, &Values::of(&loaded), None),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/audience/{id}/edit`
pub async fn save(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let values = Values::from(pairs);
    if let Some(refused) = csrf_refusal(&viewer, &values.csrf) {
        return refused;
    }
    let loaded = match load(&state, &viewer, &id).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    // Segments and topics are checked against the team's before anything is written.
    let known_segment = |s: &String| loaded.segments.iter().any(|k| k.id.to_string() == *s);
    let mut choices = Vec::new();
    for (topic, raw) in &values.topics {
        let Some(current) = loaded.topics.iter().find(|t| t.topic.id.to_string() == *topic) else {
            return failure(Error::NotFound("Topic"));
        };
        let Some(wanted) = Subscription::parse(raw) else {
            return failure(Error::value(format!("`{raw}` is not a topic subscription.")));
        };
        if wanted != current.subscription {
            choices.push(json!({"id": topic, "subscription": wanted.as_str()}));
        }
    }
    if !values.segments.iter().all(known_segment) {
        return failure(Error::NotFound("Segment"));
    }
    let team = viewer.team_id();
    let key = loaded.contact.id.to_string();
    if let Err(error) = state.postline.update_contact(team, &key, &values.body(&loaded.properties)).await {
        return match FieldError::from_core("first_name", error) {
            Ok(refusal) => {
                let field = field_of(&refusal.message, &loaded.properties);
                render(&viewer, &loaded, &values, Some(FieldError::new(&field, refusal.message)))
            }
            Err(other) => failure(other),
        };
    }
    for segment in &loaded.segments {
        let id = segment.id.to_string();
        let (was, wanted) = (loaded.member_of.contains(&id), values.segments.contains(&id));
        let done = match (was, wanted) {
            (false, true) => state.postline.add_contact_to_segment(team, &key, segment.id).await.map(drop),
            (true, false) => state.postline.remove_contact_from_segment(team, &key, segment.id).await.map(drop),
            _ => Ok(()),
        };
        if let Err(error) = done {
            return failure(error);
        }
    }
    if !choices.is_empty()
        && let Err(error) = state.postline.update_contact_topics(team, &key, &json!({ "topics": choices })).await
    {
        return failure(error);
    }
    Redirect::to(&format!("/dashboard/audience/{key}")).into_response()
}

/// `GET /dashboard/audience/{id}/delete`: the confirmation.
pub async fn confirm_delete(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let contact = match state.postline.get_contact(viewer.team_id(), &id).await {
        Ok(contact) => contact,
        Err(error) => return failure(error),
    };
    let content = html! {
        p { a href={ "/dashboard/audience/" (contact.id) } { "← " (contact.email) } }
        h1 { "Delete " (contact.email) "?" }
        p { "The contact leaves every segment and its topic choices are forgotten. Its emails stay in your logs. This cannot be undone." }
        form.inline method="post" action={ "/dashboard/audience/" (contact.id) "/delete" } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.danger type="submit" { "Delete contact" }
            a href={ "/dashboard/audience/" (contact.id) } { "Cancel" }
        }
    };
    layout::page(&format!("Delete {}", contact.email), &viewer, Section::Audience, content)
}

/// `POST /dashboard/audience/{id}/delete`
pub async fn delete(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match state.postline.delete_contact(viewer.team_id(), &id).await {
        Ok(_) => Redirect::to("/dashboard/audience?notice=deleted&n=1").into_response(),
        Err(error) => failure(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property(key: &str, property_type: PropertyType) -> ContactProperty {
        ContactProperty {
            id: postline_core::ids::ContactPropertyId::new(),
            team_id: postline_core::ids::TeamId::new(),
            key: key.into(),
            property_type,
            fallback_value: Value::Null,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_form_becomes_the_patch_body() {
        let defined = [property("plan", PropertyType::String), property("seats", PropertyType::Number)];
        let pairs = [
            ("first_name", " Ann "),
            ("last_name", ""),
            ("prop.plan", "pro"),
            ("prop.seats", "12"),
            ("unsubscribed", "on"),
        ];
        let values = Values::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        assert_eq!(
            values.body(&defined),
            json!({"first_name": "Ann", "last_name": null, "unsubscribed": true, "properties": {"plan": "pro", "seats": 12}})
        );
        assert_eq!(field_of("The value of `seats` must be a number, not `\"x\"`.", &defined), "prop.seats");
        assert_eq!(field_of("The `last_name` must be at most 256 characters.", &defined), "last_name");
    }
}
