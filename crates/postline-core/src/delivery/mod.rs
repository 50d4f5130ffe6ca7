//! Delivery: the queue's unit of work is one recipient's copy of an email.
//!
//! Workers lease due rows (a crashed worker's rows come back when the lease
//! expires), attempt them through the route's transport, and record the outcome
//! and its timeline events in one transaction. This only transport is the
//! sandbox; the outbound MTA adds SMTP delivery behind the same worker.

pub mod bounce;
pub mod policy;
pub mod sandbox;
pub mod suppression;
pub mod worker;

use crate::{
    clock::Timestamp,
    emails::{EmailEvent, RecipientKind, Route},
    ids::{DeliveryId, EmailId, TeamId, TopicId},
};

/// Where a recipient's copy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Queued,
    Delivered,
    Bounced,
    Suppressed,
    Failed,
    Canceled,
}

impl DeliveryStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Bounced => "bounced",
            DeliveryStatus::Suppressed => "suppressed",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Canceled => "canceled",
        }
    }
}

/// A leased queue row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub email_id: EmailId,
    pub team_id: TeamId,
    pub recipient: String,
    pub kind: RecipientKind,
    pub route: Route,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When retrying stops.
    pub expires_at: Timestamp,
    /// When this attempt was due (the acceptance or scheduled time on the first).
    pub due_at: Timestamp,
    /// Identifies this lease, so a worker whose lease expired cannot record an outcome.
    pub lease_token: String,
    /// The topic the email is scoped to: the recipient gets it only if subscribed.
    pub topic_id: Option<TopicId>,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryOutcome {
    pub status: DeliveryStatus,
    /// When `status` is `Queued`: when to try again.
    pub retry_at: Option<Timestamp>,
    /// Timeline events, in order.
    pub events: Vec<EmailEvent>,
    /// Put the recipient on the team's suppression list (hard bounce, complaint).
    pub suppress: Option<suppression::Reason>,
    /// The remote server's last reply, or why no server answered.
    pub last_reply: Option<String>,
}

impl DeliveryOutcome {
    /// A final outcome with these events and nothing else.
    pub fn finished(status: DeliveryStatus, events: Vec<EmailEvent>) -> Self {
        DeliveryOutcome { status, retry_at: None, events, suppress: None, last_reply: None }
    }
}
