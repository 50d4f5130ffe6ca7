//! Time as a dependency: production reads the system clock, tests move a manual
//! one forward instead of sleeping.

use chrono::{DateTime, SecondsFormat, Utc};

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }
}

/// Formats a timestamp the way the real service writes `created_at`
/// (`2023-04-03 22:13:42.674981+00`).
pub fn api_time(at: Timestamp) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

/// Formats a timestamp as RFC 3339 with milliseconds (`2024-10-27T18:30:00.000Z`),
/// used where the contract says `format: date-time`.
pub fn rfc3339(at: Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Microseconds since the epoch: how the store keeps timestamps on every backend.
pub fn to_micros(at: Timestamp) -> i64 {
    at.timestamp_micros()
}

/// The inverse of [`to_micros`].
pub fn from_micros(micros: i64) -> Timestamp {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}
