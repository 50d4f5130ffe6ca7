//! The unsubscribe page's branding: the team's logo, company name, colours and every
//! piece of wording on the preferences page its recipients reach through unsubscribe
//! links (`core::audience::unsubscribe_page`, the body of `PATCH /unsubscribe-page`),
//! with a link that opens the real page — signed for the viewer's own address, so it
//! shows exactly what a recipient sees and, opened, changes nothing.

use axum::{
    Form,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::audience::unsubscribe::UnsubscribePage;
use serde_json::{Map, Value};

use super::{
    Area, Notice,
    form::{FieldError, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::{described_by, input, notes},
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

/// The text fields in the order shown: (name, label, hint).
const TEXTS: &[(&str, &str, &str)] = &[
    ("company_name", "Company name (optional)", "Shown at the top of the page, at most 100 characters."),
    ("logo_url", "Logo URL (optional)", "An http(s) address of an image."),
    ("title", "Title", "At most 100 characters."),
    ("save_button", "Save button", "At most 60 characters."),
    ("unsubscribe_button", "Unsubscribe button", "At most 60 characters."),
    ("saved_message", "After saving", "At most 200 characters."),
    ("unsubscribed_message", "After unsubscribing", "At most 200 characters."),
];
const COLOURS: &[(&str, &str)] =
    &[("background_color", "Background colour"), ("text_color", "Text colour"), ("accent_color", "Accent colour")];

/// A colour as `<input type="color">` holds it (`#rrggbb`, lower case).
fn six_digits(colour: &str) -> String {
    let hex = colour.trim_start_matches('#');
    let full: String = if hex.len() == 3 { hex.chars().flat_map(|c| [c, c]).collect() } else { hex.to_string() };
    format!("#{}", full.to_ascii_lowercase())
}

/// The saved settings as form fields.
fn fields_of(page: &UnsubscribePage) -> Map<String, Value> {
    match serde_json::to_value(page) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn text_of<'a>(fields: &'a Map<String, Value>, name: &str) -> &'a str {
    fields.get(name).and_then(Value::as_str).unwrap_or("")
}

/// `GET /dashboard/audience/unsubscribe-page`
pub async fn page(State(state): State<DashboardState>, viewer: Viewer, Query(notice): Query<Notice>) -> Response {
    match state.postline.unsubscribe_page(viewer.team_id()).await {
        Ok(saved) => render(&state, &viewer, &fields_of(&saved), &notice, None),
        Err(error) => failure(error),
    }
}

fn render(
    state: &DashboardState,
    viewer: &Viewer,
    fields: &Map<String, Value>,
    notice: &Notice,
    error: Option<FieldError>,
) -> Response {
    let error = error.as_ref();
    let preview = state.postline.unsubscribe_url(viewer.team_id(), None, &viewer.0.user.email, None);
    let description_error = FieldError::on(error, "description");
    // A colour emptied in a refused form shows its default: a colour input holds one.
    let defaults = fields_of(&UnsubscribePage::default());
    let content = html! {
        h1 { "Unsubscribe page" }
        (subnav(Area::UnsubscribePage))
        (notice.render())
        p { "Recipients reach this page through the unsubscribe link in your broadcasts, to choose topics or leave everything. "
            a href=(preview) target="_blank" rel="noopener" { "Preview the page" } " (as your own address would see it; opening it changes nothing)." }
        form.stacked method="post" action="/dashboard/audience/unsubscribe-page" novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            @for (name, label, hint) in TEXTS {
                (input(if *name == "logo_url" { "url" } else { "text" }, name, label, text_of(fields, name), Some(hint), FieldError::on(error, name)))
            }
            div.field {
                label for="description" { "Description" }
                textarea #description name="description" rows="3"
                    aria-invalid=[description_error.map(|_| "true")]
                    aria-describedby=[described_by("description", true, description_error.is_some())] { (text_of(fields, "description")) }
                (notes("description", Some("At most 500 characters."), description_error))
            }
            div.colours {
                @for (name, label) in COLOURS {
                    @let colour = Some(text_of(fields, name)).filter(|c| !c.is_empty()).unwrap_or(text_of(&defaults, name));
                    (input("color", name, label, &six_digits(colour), None, FieldError::on(error, name)))
                }
            }
            p.muted { "A field left empty goes back to Postline's default." }
            button.primary type="submit" { "Save unsubscribe page" }
        }
    };
    let response = layout::page("Unsubscribe page", viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/unsubscribe-page`
pub async fn save(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = pairs.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
    if let Some(refused) = csrf_refusal(&viewer, csrf) {
        return refused;
    }
    // The body of `PATCH /unsubscribe-page`: every setting the form has, an empty one
    // as `null` (its default).
    let known = |name: &str| TEXTS.iter().any(|(n, _, _)| *n == name) || COLOURS.iter().any(|(n, _)| *n == name);
    let fields: Map<String, Value> = pairs
        .iter()
        .filter(|(name, _)| known(name) || name == "description")
        .map(|(name, value)| {
            let value = value.trim();
            (name.clone(), if value.is_empty() { Value::Null } else { Value::String(value.to_string()) })
        })
        .collect();
    match state.postline.update_unsubscribe_page(viewer.team_id(), &Value::Object(fields.clone())).await {
        Ok(_) => Redirect::to("/dashboard/audience/unsubscribe-page?notice=saved").into_response(),
        Err(error) => match FieldError::from_core("title", error) {
            Ok(refusal) => {
                let field = fields.keys().find(|name| refusal.message.contains(&format!("`{name}`")));
                let refusal = FieldError::new(field.map_or("title", |f| f.as_str()), refusal.message);
                render(&state, &viewer, &fields, &Notice::default(), Some(refusal))
            }
            Err(other) => failure(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_shown_with_six_digits() {
        assert_eq!(six_digits("#F50"), "#ff5500");
        assert_eq!(six_digits("#1A2b3C"), "#1a2b3c");
    }

    #[test]
    fn every_setting_of_core_has_a_field() {
        let fields = fields_of(&UnsubscribePage::default());
        for name in fields.keys() {
            let shown = TEXTS.iter().any(|(n, _, _)| n == name) || COLOURS.iter().any(|(n, _)| n == name);
            assert!(shown || name == "description", "{name} has no field");
        }
    }
}
