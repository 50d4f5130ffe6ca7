//! Request rate limiting: a fixed one-second window per team (or per any other key,
//! such as an API key for SMTP submission), on this node. Every authenticated response carries `ratelimit-limit`,
//! `ratelimit-remaining` and `ratelimit-reset`; a 429 also carries `retry-after`.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use postline_core::ids::TeamId;

/// The state of a team's window after counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset: u64,
    pub allowed: bool,
}

/// Fixed-window counters per key (a team unless said otherwise).
#[derive(Debug)]
pub struct RateLimiter<K = TeamId> {
    per_second: u32,
    windows: Mutex<HashMap<K, (u64, u32)>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// A limiter allowing `per_second` requests per key per second.
    pub fn new(per_second: u32) -> Self {
        RateLimiter { per_second: per_second.max(1), windows: Mutex::new(HashMap::new()) }
    }

    /// Counts one request of `team` (or whatever the key is).
    pub fn check(&self, team: K) -> Quota {
        let second = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        self.check_at(team, second)
    }

    fn check_at(&self, team: K, second: u64) -> Quota {
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (window, _)| *window == second);
        }
        let entry = windows.entry(team).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        let allowed = entry.1 < self.per_second;
        if allowed {
            entry.1 += 1;
        }
        Quota { limit: self.per_second, remaining: self.per_second - entry.1, reset: 1, allowed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_is_limited_within_a_second_and_free_in_the_next() {
        let limiter = RateLimiter::<TeamId>::new(2);
        let team = TeamId::new();
        let other = TeamId::new();
        assert!(limiter.check_at(team, 10).allowed);
        assert_eq!(limiter.check_at(team, 10).remaining, 0);
        assert!(!limiter.check_at(team, 10).allowed);
        assert!(limiter.check_at(other, 10).allowed, "teams do not share a window");
        assert!(limiter.check_at(team, 11).allowed);
    }
}
