//! A clock tests move by hand.

use std::sync::Mutex;

use chrono::Duration;
use postline_core::clock::{Clock, Timestamp};

/// Starts at the real time and moves only when told.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock at the current real time.
    pub fn new() -> Self {
        ManualClock(Mutex::new(chrono::Utc::now()))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}
