//! Extractors whose rejections are our errors: JSON bodies (with the content-type,
//! size and syntax checks), ids in paths, and pagination query parameters.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Query, Request},
    http::{StatusCode, header, request::Parts},
};
use postline_core::pagination::PageRequest;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON request body. An empty body reads as `null` (the SDKs send bodies on
/// some calls and not on others); a non-JSON content type, a body over the limit
/// or malformed JSON is a contract-shaped error.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "validation_error", "The request body is too large.")
            } else {
                ApiError::validation("The request body could not be read.")
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Null));
        }
        if let Some(content_type) = content_type {
            let json = content_type == "application/json" || content_type.ends_with("+json");
            if !json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "validation_error",
                    format!(
                        "The request body must be JSON with `Content-Type: application/json`, not `{content_type}`."
                    ),
                ));
            }
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::validation(format!("The request body is not valid JSON: {e}.")))
    }
}

/// Query parameters as a map (repeated keys keep the last value).
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(map)| Params(map))
            .map_err(|_| ApiError::validation("The query string could not be parsed."))
    }
}

impl Params {
    /// The pagination parameters.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let get = |name: &str| self.0.get(name).map(String::as_str);
        Ok(PageRequest::parse(get("limit"), get("after"), get("before"))?)
    }
}

/// An optional string field of a JSON body (`null` counts as absent).
pub fn string_field(body: &Value, name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation(format!("The `{name}` field must be a string."))),
    }
}

/// Fails unless the body is a JSON object.
pub fn require_object(body: &Value) -> Result<(), ApiError> {
    if body.is_object() { Ok(()) } else { Err(ApiError::validation("The request body must be a JSON object.")) }
}
