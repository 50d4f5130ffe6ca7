//! Fields of create and update bodies (broadcasts, templates), one parser for both:
//! absent leaves a value as it is, `null` clears it, a value sets it.

use serde_json::{Map, Value};

use crate::{Error, Result};

/// A field of an update: absent (unchanged), `null` (cleared) or a value.
pub type Change<T> = Option<Option<T>>;

/// Largest HTML, text or Markdown part (bytes).
pub const MAX_CONTENT_BYTES: usize = 2 * 1024 * 1024;

/// A string field of at most `max_chars` characters.
pub fn text(fields: &Map<String, Value>, name: &str, max_chars: usize) -> Result<Change<String>> {
    match fields.get(name) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.chars().count() > max_chars => {
            Err(Error::value(format!("The `{name}` field must be at most {max_chars} characters.")))
        }
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(Error::value(format!("The `{name}` field must be a string."))),
    }
}

/// A content part (HTML, text, Markdown) of at most [`MAX_CONTENT_BYTES`].
pub fn content(fields: &Map<String, Value>, name: &str) -> Result<Change<String>> {
    let value = text(fields, name, usize::MAX)?;
    if let Some(Some(s)) = &value
        && s.len() > MAX_CONTENT_BYTES
    {
        return Err(Error::value(format!(
            "The `{name}` field must be at most {} MB.",
            MAX_CONTENT_BYTES / 1024 / 1024
        )));
    }
    Ok(value)
}
