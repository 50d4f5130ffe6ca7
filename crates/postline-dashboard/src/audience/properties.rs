//! The Properties page: the built-in contact fields, the team's custom properties
//! (key, type, fallback) with a delete confirmation each, and the form that creates
//! one through the use case of `POST /contact-properties` — the fallback typed as the
//! property's type, core's refusal beside the field it names.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::{
    Error,
    audience::{PropertyType, properties::BUILT_IN},
    ids::ContactPropertyId,
    pagination::PageRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Area,
    form::{FieldError, property_text, property_value, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::{input, select},
    format::time,
    layout::{self, Section, failure},
    session::{CsrfOnly, Viewer, csrf_refusal},
};

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    r#type: String,
    #[serde(default)]
    fallback_value: String,
}

impl CreateForm {
    /// The body of `POST /contact-properties`.
    fn body(&self) -> Value {
        let mut body = json!({"key": self.key.trim(), "type": self.r#type});
        let kind = PropertyType::parse(&self.r#type).unwrap_or(PropertyType::String);
        let fallback = property_value(&self.fallback_value, kind);
        if !fallback.is_null() {
            body["fallback_value"] = fallback;
        }
        body
    }
}

/// The form's fields other than the key, each with the words core's messages use for it.
const FIELDS: [(&str, &[&str]); 2] = [("fallback_value", &["fallback_value"]), ("type", &["`type`"])];

/// Core's refusal of the form, on the field it names (the key unless another).
fn refusal(error: Error) -> Result<FieldError, Error> {
    FieldError::from_core("key", error).map(|refusal| FieldError::on_mentioned(refusal.message, &FIELDS, "key"))
}

/// `GET /dashboard/audience/properties`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    let form = CreateForm { r#type: "string".into(), ..CreateForm::default() };
    render(&state, &viewer, &form, None).await
}

async fn render(state: &DashboardState, viewer: &Viewer, form: &CreateForm, error: Option<FieldError>) -> Response {
    let page = PageRequest { limit: 100, ..Default::default() };
    let properties = match state.postline.list_contact_properties(viewer.team_id(), page).await {
        Ok(found) => found.items,
        Err(error) => return failure(error),
    };
    let error = error.as_ref();
    let types = [("string".to_string(), "Text (string)".to_string()), ("number".to_string(), "Number".to_string())];
    let content = html! {
        h1 { "Contact properties" }
        (subnav(Area::Properties))
        p { "Properties hold more about each contact, for personalising broadcasts with " code { "{{{key}}}" } ". Every contact has "
            @for (i, key) in BUILT_IN.iter().enumerate() { @if i > 0 { ", " } code { (key) } } "." }
        @if properties.is_empty() {
            p.empty { "No custom properties yet." }
        } @else {
            div.scroll {
                table.list {
                    thead { tr { th scope="col" { "Key" } th scope="col" { "Type" } th scope="col" { "Fallback" } th scope="col" { "Created" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for p in &properties {
                            tr {
                                td { code { (p.key) } }
                                td { (p.property_type.as_str()) }
                                td { @if p.fallback_value.is_null() { span.muted { "none" } } @else { (property_text(&p.fallback_value)) } }
                                td { (time(p.created_at)) }
                                td {
                                    details.confirm {
                                        summary { "Delete" span.visually-hidden { " " (p.key) } }
                                        form.inline method="post" action={ "/dashboard/audience/properties/" (p.id) "/delete" } {
                                            input type="hidden" name="csrf" value=(viewer.csrf());
                                            span { "Contacts' values for it are no longer shown or used." }
                                            button.danger type="submit" { "Delete " (p.key) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="create-title" {
            h2 #create-title { "Create a property" }
            form.stacked method="post" action="/dashboard/audience/properties" novalidate {
                input type="hidden" name="csrf" value=(viewer.csrf());
                (input("text", "key", "Key", &form.key, Some("Letters, digits and underscores, at most 50; case-sensitive. It cannot be changed later."), FieldError::on(error, "key")))
                (select("type", "Type", &types, &form.r#type, None, FieldError::on(error, "type")))
                (input("text", "fallback_value", "Fallback value (optional)", &form.fallback_value, Some("Used for contacts without a value of their own; of the property's type."), FieldError::on(error, "fallback_value")))
                button.primary type="submit" { "Create property" }
            }
        }
    };
    let response = layout::page("Contact properties", viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/properties`
pub async fn create(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<CreateForm>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match state.postline.create_contact_property(viewer.team_id(), &form.body()).await {
        Ok(_) => Redirect::to("/dashboard/audience/properties").into_response(),
        Err(error) => match refusal(error) {
            Ok(refusal) => render(&state, &viewer, &form, Some(refusal)).await,
            Err(other) => failure(other),
        },
    }
}

/// `POST /dashboard/audience/properties/{id}/delete`
pub async fn remove(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let deleted = match ContactPropertyId::parse(&id) {
        Ok(id) => state.postline.delete_contact_property(viewer.team_id(), id).await,
        Err(error) => Err(error),
    };
    match deleted {
        Ok(()) => Redirect::to("/dashboard/audience/properties").into_response(),
        Err(error) => failure(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_body_with_a_typed_fallback() {
        let form = |t: &str, fallback: &str| CreateForm {
            key: " seats ".into(),
            r#type: t.into(),
            fallback_value: fallback.into(),
            ..CreateForm::default()
        };
        assert_eq!(form("number", "3").body(), json!({"key": "seats", "type": "number", "fallback_value": 3}));
        assert_eq!(form("string", "").body(), json!({"key": "seats", "type": "string"}));
        assert_eq!(form("number", "x").body()["fallback_value"], "x", "left for core to refuse");
        let field = |message: &str| refusal(Error::value(message)).unwrap().field;
        assert_eq!(field("The `fallback_value` must be a number, not `\"x\"`."), "fallback_value");
        assert_eq!(field("The `key` must be 1 to 50 letters…"), "key");
    }
}
