//! The domain's error type: a few variants named for what the caller can do.
//!
//! The HTTP edge maps each variant, exhaustively, to the contract's error body;
//! messages here are written for the API user (they name the field and say what
//! is wrong) and never carry internal causes.

use std::fmt;

/// Result alias for domain operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of bad input a request carried; each maps to one contract error name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// A required field is absent (`missing_required_field`, 422).
    MissingField,
    /// A parameter of the wrong form, such as an id that is not a UUID (`invalid_parameter`, 422).
    Parameter,
    /// A field is present but wrong (`validation_error`, 400).
    Value,
    /// The request is well-formed but cannot be processed, such as a recipient at a
    /// reserved test domain (`validation_error`, 422).
    Unprocessable,
    /// `from` is not `email@example.com` or `Name <email@example.com>` (`invalid_from_address`, 422).
    FromAddress,
    /// An attachment is unusable (`invalid_attachment`, 422).
    Attachment,
    /// An API key permission is unknown (`invalid_access`, 422).
    Access,
    /// The `Idempotency-Key` header is malformed (`invalid_idempotency_key`, 400).
    IdempotencyKey,
    /// A region this installation does not offer (`invalid_region`, 422).
    Region,
}

/// Every way a domain operation can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is wrong; the message says which field and why.
    #[error("{message}")]
    Invalid { kind: Invalid, message: String },
    /// The resource does not exist or belongs to another team (the two are indistinguishable).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The resource exists but is in a state that forbids the operation.
    #[error("{0}")]
    Conflict(String),
    /// A `sending_access` key was used for anything but sending.
    #[error("this API key is restricted to only send emails")]
    Restricted,
    /// The team may not do this (e.g. send from a domain it has not verified).
    #[error("{0}")]
    Forbidden(String),
    /// The same idempotency key was used with a different payload.
    #[error("this idempotency key has already been used with a different payload")]
    IdempotencyMismatch,
    /// The same idempotency key is being processed by another request right now.
    #[error("another request with this idempotency key is still being processed")]
    IdempotencyInFlight,
    /// Refused for security reasons (e.g. a remote attachment on a private address).
    #[error("{0}")]
    SecurityRefused(String),
    /// The team sends requests faster than its rate limit allows.
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency (the database, a remote server) failed; details are logged, not shown.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an impossible state; details are logged, not shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// Bad input of the given kind.
    pub fn invalid(kind: Invalid, message: impl fmt::Display) -> Self {
        Error::Invalid { kind, message: message.to_string() }
    }

    /// A required field is absent.
    pub fn missing(field: &str) -> Self {
        Error::invalid(Invalid::MissingField, format!("Missing `{field}` field."))
    }

    /// A field is present but wrong.
    pub fn value(message: impl fmt::Display) -> Self {
        Error::invalid(Invalid::Value, message)
    }

    /// A parameter has the wrong form.
    pub fn parameter(message: impl fmt::Display) -> Self {
        Error::invalid(Invalid::Parameter, message)
    }
}
