//! Postline's domain: the types, rules and use cases of a Resend-compatible email
//! platform, and the store traits that adapters implement.
//!
//! Nothing here knows about HTTP, SQL, DNS or SMTP: the API crate turns requests
//! into calls on [`Postline`], the store crate implements [`store::Store`], and the
//! binary wires them together. Errors are [`Error`], named for what the caller can
//! do about them.

pub mod api_keys;
pub mod audience;
pub mod broadcasts;
pub mod cache;
pub mod capture;
pub mod clock;
pub mod delivery;
pub mod dkim;
pub mod domains;
pub mod emails;
pub mod error;
pub mod exports;
pub mod fields;
pub mod idempotency;
pub mod ids;
pub mod markdown;
pub mod metrics;
pub mod pagination;
pub mod personalise;
pub mod postline;
pub mod receiving;
pub mod remote;
pub mod request_logs;
pub mod signing;
pub mod store;
pub mod teams;
pub mod templates;
pub mod tracking;
pub mod users;
pub mod webhooks;

pub use error::{Error, Invalid, Result};
pub use postline::{Ports, Postline, Settings};
