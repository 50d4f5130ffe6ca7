//! What an SMTP attempt's result means for a recipient's copy: delivered, retried
//! later (with exponential backoff and jitter, until the copy's expiry), or bounced
//! — and which events and suppression follow.

use chrono::Duration;
use rand::Rng;
use serde_json::json;

use super::{
    ClaimedDelivery, DeliveryOutcome, DeliveryStatus,
    bounce::{BounceSubType, BounceType, Classification, classify},
    suppression::Reason,
};
use crate::{
    clock::Timestamp,
    emails::{EmailEvent, EventKind},
};

/// What one attempt for one recipient came to, as the MTA saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The server accepted the message (2xx after DATA).
    Delivered { reply: String },
    /// A temporary failure: 4xx, or no server could be reached (DNS, connect, TLS, timeout).
    Deferred { reason: String },
    /// A permanent failure from the server (5xx), with its code and text.
    Rejected { code: u16, text: String },
    /// A permanent failure without a server reply (null MX, no such domain, TLS required but absent).
    Undeliverable { reason: String },
}

/// Waits before retry number `n` (1-based), before jitter: 1 min, 5 min, 15 min,
/// 30 min, 1 h, 2 h, then every 4 h.
pub fn backoff(n: u32) -> Duration {
    match n {
        0 | 1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(15),
        4 => Duration::minutes(30),
        5 => Duration::hours(1),
        6 => Duration::hours(2),
        _ => Duration::hours(4),
    }
}

/// `backoff(n)` with ±20 % jitter, so retries to one destination spread out.
pub fn jittered_backoff(n: u32) -> Duration {
    let base = backoff(n).num_milliseconds();
    let spread = base / 5;
    Duration::milliseconds(base + rand::thread_rng().gen_range(-spread..=spread))
}

fn bounce_data(row: &ClaimedDelivery, class: Classification, message: &str, diagnostic: String) -> serde_json::Value {
    json!({"bounce": {
        "type": class.kind.as_str(),
        "subType": class.sub_type.as_str(),
        "message": message,
        "diagnosticCode": [diagnostic],
        "recipient": row.recipient,
    }})
}

/// Turns an attempt's result into the copy's outcome at `now`.
pub fn outcome(row: &ClaimedDelivery, result: AttemptResult, now: Timestamp) -> DeliveryOutcome {
    let event = |kind: EventKind| EmailEvent::new(row.email_id, kind, Some(row.recipient.clone()), now);
    let mut events = Vec::new();
    if row.attempts == 0 {
        events.push(event(EventKind::Sent));
    }
    match result {
        AttemptResult::Delivered { reply } => {
            let mut delivered = event(EventKind::Delivered);
            delivered.data = json!({"smtp_response": reply});
            events.push(delivered);
            DeliveryOutcome { last_reply: Some(reply), ..DeliveryOutcome::finished(DeliveryStatus::Delivered, events) }
        }
        AttemptResult::Deferred { reason } => {
            let retry_at = now + jittered_backoff(row.attempts + 1);
            if retry_at > row.expires_at {
                let class = Classification { kind: BounceType::Transient, sub_type: BounceSubType::General };
                let message =
                    format!("Delivery kept failing temporarily until the message expired. Last error: {reason}");
                let mut bounced = event(EventKind::Bounced);
                bounced.data = bounce_data(row, class, &message, reason.clone());
                events.push(bounced);
                return DeliveryOutcome {
                    last_reply: Some(reason),
                    ..DeliveryOutcome::finished(DeliveryStatus::Bounced, events)
                };
            }
            let mut delayed = event(EventKind::DeliveryDelayed);
            delayed.data = json!({"delivery_delayed": {"reason": reason, "attempt": row.attempts + 1, "next_attempt_at": crate::clock::rfc3339(retry_at)}});
            events.push(delayed);
            DeliveryOutcome {
                status: DeliveryStatus::Queued,
                retry_at: Some(retry_at),
                events,
                suppress: None,
                last_reply: Some(reason),
            }
        }
        AttemptResult::Rejected { code, text } => {
            let class = classify(code, &text);
            let reply = format!("{code} {text}");
            let mut bounced = event(EventKind::Bounced);
            bounced.data = bounce_data(
                row,
                class,
                &format!("The recipient's server rejected the message: {reply}"),
                format!("smtp; {reply}"),
            );
            events.push(bounced);
            DeliveryOutcome {
                suppress: class.is_hard().then_some(Reason::PreviousBounce),
                last_reply: Some(reply),
                ..DeliveryOutcome::finished(DeliveryStatus::Bounced, events)
            }
        }
        AttemptResult::Undeliverable { reason } => {
            let class = Classification { kind: BounceType::Permanent, sub_type: BounceSubType::General };
            let mut bounced = event(EventKind::Bounced);
            bounced.data = bounce_data(row, class, &reason, reason.clone());
            events.push(bounced);
            DeliveryOutcome { last_reply: Some(reason), ..DeliveryOutcome::finished(DeliveryStatus::Bounced, events) }
        }
    }
}

/// A copy that is never attempted: `email.suppressed` in the contract's
/// `WebhookEventSuppressed` shape saying why.
fn not_sent(row: &ClaimedDelivery, kind: &str, reason: &str, message: String, now: Timestamp) -> DeliveryOutcome {
    let mut event = EmailEvent::new(row.email_id, EventKind::Suppressed, Some(row.recipient.clone()), now);
    event.data = json!({"suppressed": {"type": kind, "reason": reason, "message": message, "diagnosticCode": []}});
    DeliveryOutcome::finished(DeliveryStatus::Suppressed, vec![event])
}

/// The outcome for a recipient on the team's suppression list: never attempted.
pub fn suppressed(row: &ClaimedDelivery, reason: Reason, now: Timestamp) -> DeliveryOutcome {
    let message = format!(
        "{} is on this team's suppression list (origin: {}); the email was not sent to it.",
        row.recipient,
        reason.origin()
    );
    not_sent(row, "OnAccountSuppressionList", reason.event_reason(), message, now)
}

/// The outcome for a recipient of a topic-scoped email who may not get it (see
/// [`crate::audience::TopicConsent::refusal`]): never attempted, and the
/// `email.suppressed` event says why.
pub fn not_subscribed(row: &ClaimedDelivery, why: &str, now: Timestamp) -> DeliveryOutcome {
    let message = format!("{} {why}; the email was not sent to it.", row.recipient);
    not_sent(row, "Suppressed", "unsubscribed", message, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        emails::{RecipientKind, Route},
        ids::*,
    };

    fn row(attempts: u32, expires_in: Duration) -> ClaimedDelivery {
        ClaimedDelivery {
            id: DeliveryId::new(),
            email_id: EmailId::new(),
            team_id: TeamId::new(),
            recipient: "user@example.org".into(),
            kind: RecipientKind::To,
            route: Route::Smtp,
            attempts,
            expires_at: chrono::Utc::now() + expires_in,
            due_at: chrono::Utc::now(),
            lease_token: "t".into(),
            topic_id: None,
        }
    }

    fn kinds(outcome: &DeliveryOutcome) -> Vec<EventKind> {
        outcome.events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn a_first_delivery_is_sent_then_delivered() {
        let now = chrono::Utc::now();
        let done =
            outcome(&row(0, Duration::hours(72)), AttemptResult::Delivered { reply: "250 2.0.0 OK".into() }, now);
        assert_eq!(kinds(&done), [EventKind::Sent, EventKind::Delivered]);
        assert_eq!(done.status, DeliveryStatus::Delivered);
        let later = outcome(&row(3, Duration::hours(72)), AttemptResult::Delivered { reply: "250 OK".into() }, now);
        assert_eq!(kinds(&later), [EventKind::Delivered], "sent is recorded once, on the first attempt");
    }

    #[test]
    fn temporary_failures_retry_with_growing_backoff_until_expiry() {
        let now = chrono::Utc::now();
        let first = outcome(
            &row(0, Duration::hours(72)),
            AttemptResult::Deferred { reason: "451 4.3.0 try later".into() },
            now,
        );
        assert_eq!(first.status, DeliveryStatus::Queued);
        assert_eq!(kinds(&first), [EventKind::Sent, EventKind::DeliveryDelayed]);
        let wait = first.retry_at.unwrap() - now;
        assert!(wait >= Duration::seconds(48) && wait <= Duration::seconds(72), "{wait}");
        assert!(backoff(6) > backoff(2));
        let expired =
            outcome(&row(9, Duration::minutes(10)), AttemptResult::Deferred { reason: "timeout".into() }, now);
        assert_eq!(expired.status, DeliveryStatus::Bounced);
        assert_eq!(expired.events[0].data["bounce"]["type"], "Transient");
        assert!(expired.suppress.is_none(), "an expired copy does not suppress the address");
    }

    #[test]
    fn hard_bounces_suppress_and_soft_ones_do_not() {
        let now = chrono::Utc::now();
        let unknown = outcome(
            &row(0, Duration::hours(1)),
            AttemptResult::Rejected { code: 550, text: "5.1.1 user unknown".into() },
            now,
        );
        assert_eq!(unknown.status, DeliveryStatus::Bounced);
        assert_eq!(unknown.suppress, Some(Reason::PreviousBounce));
        let bounce = &unknown.events[1].data["bounce"];
        assert_eq!((bounce["type"].as_str(), bounce["subType"].as_str()), (Some("Permanent"), Some("NoEmail")));
        assert_eq!(bounce["diagnosticCode"][0], "smtp; 550 5.1.1 user unknown");
        let spam =
            outcome(&row(0, Duration::hours(1)), AttemptResult::Rejected { code: 554, text: "5.7.1 spam".into() }, now);
        assert_eq!(spam.suppress, None);
    }
}
