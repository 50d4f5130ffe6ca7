//! Status transitions after a check, and when to check next.

use chrono::Duration;

use super::DomainStatus;
use crate::clock::Timestamp;

/// How long records may be missing (while pending, or after a verified domain lost
/// them) before the domain fails.
pub const GIVE_UP_AFTER: Duration = Duration::hours(72);
/// Re-check interval while records are missing.
pub const RECHECK_PENDING: Duration = Duration::minutes(5);
/// Re-check interval of a verified domain.
pub const RECHECK_VERIFIED: Duration = Duration::hours(6);

/// A domain's state after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterCheck {
    pub status: DomainStatus,
    pub failing_since: Option<Timestamp>,
    /// `None`: no more automatic checks (failed, or never started).
    pub next_check_at: Option<Timestamp>,
}

/// The next state, given the current one and whether the sending and receiving
/// records (those that apply) are all in place.
pub fn after_check(
    status: DomainStatus,
    started: Option<Timestamp>,
    failing_since: Option<Timestamp>,
    sending_ok: bool,
    receiving_ok: bool,
    now: Timestamp,
) -> AfterCheck {
    let good = if sending_ok && receiving_ok {
        Some(DomainStatus::Verified)
    } else if sending_ok {
        Some(DomainStatus::PartiallyVerified)
    } else {
        None
    };
    let verified = |status| AfterCheck { status, failing_since: None, next_check_at: Some(now + RECHECK_VERIFIED) };
    match (status, good) {
        (DomainStatus::NotStarted | DomainStatus::Failed, _) => {
            AfterCheck { status, failing_since, next_check_at: None }
        }
        (_, Some(good)) => verified(good),
        (DomainStatus::Pending, None) => {
            if started.is_some_and(|s| now - s >= GIVE_UP_AFTER) {
                AfterCheck { status: DomainStatus::Failed, failing_since: None, next_check_at: None }
            } else {
                AfterCheck {
                    status: DomainStatus::Pending,
                    failing_since: None,
                    next_check_at: Some(now + RECHECK_PENDING),
                }
            }
        }
        (DomainStatus::Verified | DomainStatus::PartiallyVerified | DomainStatus::TemporaryFailure, None) => {
            let since = failing_since.unwrap_or(now);
            if now - since >= GIVE_UP_AFTER {
                AfterCheck { status: DomainStatus::Failed, failing_since: Some(since), next_check_at: None }
            } else {
                AfterCheck {
                    status: DomainStatus::TemporaryFailure,
                    failing_since: Some(since),
                    next_check_at: Some(now + RECHECK_PENDING),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_domains_verify_or_fail_after_72_hours() {
        let start = chrono::Utc::now();
        let ok = after_check(DomainStatus::Pending, Some(start), None, true, true, start);
        assert_eq!(ok.status, DomainStatus::Verified);
        let waiting = after_check(DomainStatus::Pending, Some(start), None, false, false, start + Duration::hours(71));
        assert_eq!(waiting.status, DomainStatus::Pending);
        let failed = after_check(DomainStatus::Pending, Some(start), None, false, false, start + Duration::hours(72));
        assert_eq!((failed.status, failed.next_check_at), (DomainStatus::Failed, None));
        let partial = after_check(DomainStatus::Pending, Some(start), None, true, false, start);
        assert_eq!(partial.status, DomainStatus::PartiallyVerified);
    }

    #[test]
    fn verified_domains_fail_temporarily_and_recover() {
        let t = chrono::Utc::now();
        let lost = after_check(DomainStatus::Verified, Some(t), None, false, true, t);
        assert_eq!((lost.status, lost.failing_since), (DomainStatus::TemporaryFailure, Some(t)));
        let still = after_check(DomainStatus::TemporaryFailure, Some(t), Some(t), false, true, t + Duration::hours(10));
        assert_eq!((still.status, still.failing_since), (DomainStatus::TemporaryFailure, Some(t)));
        let back = after_check(DomainStatus::TemporaryFailure, Some(t), Some(t), true, true, t + Duration::hours(11));
        assert_eq!((back.status, back.failing_since), (DomainStatus::Verified, None));
        let gone = after_check(DomainStatus::TemporaryFailure, Some(t), Some(t), false, true, t + Duration::hours(73));
        assert_eq!(gone.status, DomainStatus::Failed);
    }
}
