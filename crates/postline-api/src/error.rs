//! `ApiError`: the one error type of the HTTP edge. It renders the contract's body
//! `{"statusCode", "message", "name"}`; domain errors convert by an exhaustive
//! match, and server-side failures are logged here and never described to the
//! client.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use postline_core::{Error, Invalid};
use serde_json::json;

/// An error response in the contract's shape.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub name: &'static str,
    pub message: String,
    /// For 429: seconds until the caller may retry.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with the given status, name and message.
    pub fn new(status: StatusCode, name: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, name, message: message.into(), retry_after: None }
    }

    /// Unknown route, or an id of another team.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A field is present but wrong.
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "validation_error", message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        use StatusCode as S;
        match error {
            Error::Invalid { kind, message } => {
                let (status, name) = match kind {
                    Invalid::MissingField => (S::UNPROCESSABLE_ENTITY, "missing_required_field"),
                    Invalid::Parameter => (S::UNPROCESSABLE_ENTITY, "invalid_parameter"),
                    Invalid::Value => (S::BAD_REQUEST, "validation_error"),
                    Invalid::Unprocessable => (S::UNPROCESSABLE_ENTITY, "validation_error"),
                    Invalid::FromAddress => (S::UNPROCESSABLE_ENTITY, "invalid_from_address"),
                    Invalid::Attachment => (S::UNPROCESSABLE_ENTITY, "invalid_attachment"),
                    Invalid::Access => (S::UNPROCESSABLE_ENTITY, "invalid_access"),
                    Invalid::IdempotencyKey => (S::BAD_REQUEST, "invalid_idempotency_key"),
                    Invalid::Region => (S::UNPROCESSABLE_ENTITY, "invalid_region"),
                };
                ApiError::new(status, name, message)
            }
            Error::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            Error::Conflict(message) => ApiError::new(S::UNPROCESSABLE_ENTITY, "validation_error", message),
            Error::Restricted => {
                ApiError::new(S::UNAUTHORIZED, "restricted_api_key", "This API key is restricted to only send emails.")
            }
            Error::Forbidden(message) => ApiError::new(S::FORBIDDEN, "validation_error", message),
            Error::IdempotencyMismatch => ApiError::new(
                S::CONFLICT,
                "invalid_idempotent_request",
                "This idempotency key has already been used on a request with a different payload. Retry with a new key.",
            ),
            Error::IdempotencyInFlight => ApiError::new(
                S::CONFLICT,
                "concurrent_idempotent_requests",
                "Another request with this idempotency key is still being processed. Retry in a moment.",
            ),
            Error::SecurityRefused(message) => {
                ApiError::new(S::UNAVAILABLE_FOR_LEGAL_REASONS, "security_error", message)
            }
            Error::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(S::TOO_MANY_REQUESTS, "rate_limit_exceeded", "Too many requests. Please slow down.")
            },
            Error::Unavailable(cause) => {
                tracing::error!(%cause, "dependency failure");
                ApiError::new(S::INTERNAL_SERVER_ERROR, "internal_server_error", "An unexpected error occurred.")
            }
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ApiError::new(S::INTERNAL_SERVER_ERROR, "application_error", "An unexpected error occurred.")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"statusCode": self.status.as_u16(), "message": self.message, "name": self.name});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
