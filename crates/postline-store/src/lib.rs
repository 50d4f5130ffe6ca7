//! Postline's store: one SQL adapter serving the embedded SQLite default and
//! PostgreSQL for multi-node installations.
//!
//! Queries are written once in portable SQL (`$n` placeholders work on both) and
//! run through sqlx's `Any` driver; the few places where the backends differ
//! (claiming queue rows with `FOR UPDATE SKIP LOCKED`, column types in migrations)
//! branch on [`Backend`]. Ids are stored as text, timestamps as microseconds since
//! the epoch, lists and maps as JSON text.
//!
//! Accepting emails goes through a group-commit writer ([`writer`]): concurrent
//! accepts are written in one transaction and one fsync, which is what makes
//! durable acceptance fast on SQLite.

mod api_keys;
mod audience;
mod broadcasts;
mod capture;
mod claims;
mod connect;
mod domains;
mod email_metrics;
mod email_search;
mod emails;
mod error;
mod exports;
mod filtered;
mod idempotency;
mod migrate;
mod mta;
mod queue;
mod receiving;
mod request_logs;
mod rows;
mod settings;
mod suppressions;
mod teams;
mod templates;
mod tracking;
mod users;
mod webhooks;
mod writer;

pub use connect::{Backend, Db};
pub use error::StoreError;
