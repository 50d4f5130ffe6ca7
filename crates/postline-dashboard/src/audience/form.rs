//! Pieces every Audience form shares: a refusal from core placed beside the field it
//! concerns, property values as text and back, and the 422 a refused form is shown
//! again with (the labelled controls themselves are [`crate::fields`]).

use axum::{http::StatusCode, response::Response};
use postline_core::{Error, Invalid, audience::PropertyType};
use serde_json::Value;

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

    /// The message for `field`, if the error is about it.
    pub fn on<'a>(error: Option<&'a FieldError>, field: &str) -> Option<&'a str> {
        error.filter(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// What a text input holds as the JSON value of a property of `kind`: blank is
/// `null`; a number property's text that reads as a number becomes one, and any
/// other text is passed on as it is, for core to refuse with its own words.
pub fn property_value(raw: &str, kind: PropertyType) -> Value {
    let raw = raw.trim();
    if raw.is_empty() {
        return Value::Null;
    }
    if kind == PropertyType::Number
        && let Ok(number) = raw.parse::<f64>()
        && number.is_finite()
    {
        if number.fract() == 0.0 && number.abs() < 9.0e15 {
            return Value::from(number as i64);
        }
        if let Some(number) = serde_json::Number::from_f64(number) {
            return Value::Number(number);
        }
    }
    Value::String(raw.to_string())
}

/// A property value as its input shows it.
pub fn property_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A page shown again because its form was refused.
pub fn refused(mut response: Response) -> Response {
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_inputs_become_typed_values_or_are_left_for_core_to_refuse() {
        use serde_json::json;
        assert_eq!(property_value(" 12 ", PropertyType::Number), json!(12));
        assert_eq!(property_value("2.5", PropertyType::Number), json!(2.5));
        assert_eq!(property_value("lots", PropertyType::Number), json!("lots"));
        assert_eq!(property_value("12", PropertyType::String), json!("12"));
        assert_eq!(property_value("  ", PropertyType::String), Value::Null);
        assert_eq!(property_text(&json!(12)), "12");
        assert_eq!(property_text(&json!("pro")), "pro");
    }

    #[test]
    fn missing_fields_read_as_a_request_and_other_failures_are_pages() {
        let missing = FieldError::from_core("name", Error::missing("name")).unwrap();
        assert_eq!(missing.message, "This field is required.");
        assert_eq!(FieldError::from_core("key", Error::value("Bad key.")).unwrap().message, "Bad key.");
        assert!(FieldError::from_core("name", Error::NotFound("Segment")).is_err());
    }
}
