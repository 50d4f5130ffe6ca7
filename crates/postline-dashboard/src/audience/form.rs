//! Pieces every Audience form shares: property values as text and back, and the 422 a
//! refused form is shown again with (the labelled controls and the refusal placed
//! beside its field are [`crate::fields`]).

use axum::{http::StatusCode, response::Response};
use postline_core::audience::PropertyType;
use serde_json::Value;

pub use crate::fields::FieldError;

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
}
