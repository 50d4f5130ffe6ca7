//! Labelled form controls every dashboard page shares, each linked to its hint and
//! error (`aria-describedby`, `aria-invalid`), so a refusal is read out with its field
//! and shown beside it; and [`FieldError`], the refusal itself, which each page places
//! on one of its fields.

use maud::{Markup, html};
use postline_core::{Error, Invalid};

/// A refusal shown beside the field (the input's `name`) it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.to_string(), message: message.into() }
    }

    /// Core's refusal of a form's input, on `field`; anything else (not found, the
    /// store failing) is given back, for [`crate::layout::failure`] to show.
    pub fn from_core(field: &str, error: Error) -> Result<Self, Error> {
        match error {
            Error::Invalid { kind: Invalid::MissingField, .. } => Ok(FieldError::new(field, "This field is required.")),
            Error::Invalid { message, .. } | Error::Conflict(message) => Ok(FieldError::new(field, message)),
            other => Err(other),
        }
    }

    /// `message` on the first of `fields` (each with the words core's messages use
    /// for it) that it mentions, else on `fallback`.
    pub fn on_mentioned(message: String, fields: &[(&str, &[&str])], fallback: &str) -> Self {
        let field = fields
            .iter()
            .find(|(_, words)| words.iter().any(|w| message.contains(w)))
            .map_or(fallback, |(field, _)| field);
        FieldError::new(field, message)
    }

    /// The message for `field`, if the error is about it.
    pub fn on<'a>(error: Option<&'a FieldError>, field: &str) -> Option<&'a str> {
        error.filter(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// `aria-describedby` for a field with an optional hint and error.
pub fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> =
        [hint.then(|| format!("{id}-hint")), error.then(|| format!("{id}-error"))].into_iter().flatten().collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A field's hint and error.
pub fn notes(id: &str, hint: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(hint) = hint { p.muted.hint id={ (id) "-hint" } { (hint) } }
        @if let Some(message) = error { p.field-error id={ (id) "-error" } { (message) } }
    }
}

/// A labelled input (`kind` is its `type`); `name` is also its `id`.
pub fn input(kind: &str, name: &str, label: &str, value: &str, hint: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) type=(kind) name=(name) value=(value) autocomplete="off"
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[described_by(name, hint.is_some(), error.is_some())];
            (notes(name, hint, error))
        }
    }
}

/// A labelled select of `(value, label)` options.
pub fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
    hint: Option<&str>,
    error: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            select id=(name) name=(name) aria-invalid=[error.map(|_| "true")]
                aria-describedby=[described_by(name, hint.is_some(), error.is_some())] {
                @for (value, text) in options { option value=(value) selected[value == chosen] { (text) } }
            }
            (notes(name, hint, error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_linked_to_their_field() {
        let html = input("text", "name", "Name", "x<y", Some("A hint"), Some("Too long")).into_string();
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("aria-describedby=\"name-hint name-error\""));
        assert!(html.contains("value=\"x&lt;y\""), "{html}");
        assert!(html.contains("<p class=\"field-error\" id=\"name-error\">Too long</p>"));
        let plain = input("text", "name", "Name", "", None, None).into_string();
        assert!(!plain.contains("aria-describedby") && !plain.contains("aria-invalid"));
    }

    #[test]
    fn refusals_land_on_a_field_and_other_errors_are_given_back() {
        let missing = FieldError::from_core("name", Error::missing("name")).unwrap();
        assert_eq!((missing.field.as_str(), missing.message.as_str()), ("name", "This field is required."));
        assert_eq!(FieldError::from_core("key", Error::value("Bad key.")).unwrap().message, "Bad key.");
        assert!(FieldError::from_core("name", Error::NotFound("Segment")).is_err());
        let fields: &[(&str, &[&str])] = &[("region", &["`region`"]), ("tls", &["`tls`", "TLS"])];
        assert_eq!(FieldError::on_mentioned("Unknown `tls` value.".into(), fields, "name").field, "tls");
        assert_eq!(FieldError::on_mentioned("Too long.".into(), fields, "name").field, "name");
        let error = FieldError::new("tls", "No.");
        assert_eq!(FieldError::on(Some(&error), "tls"), Some("No."));
        assert_eq!(FieldError::on(Some(&error), "name"), None);
    }
}
