//! An email's timeline: every state change is an event, in order. The newest one
//! is the email's `last_event`; the webhooks issue turns them into `email.*`
//! deliveries.

use serde_json::Value;

use crate::{clock::Timestamp, ids::EmailId};

/// The kinds of event an outbound email can have (the contract's `last_event` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Queued,
    Scheduled,
    Canceled,
    Sent,
    Delivered,
    DeliveryDelayed,
    Bounced,
    Complained,
    Suppressed,
    Failed,
    Opened,
    Clicked,
    /// The recipient unsubscribed through this email's link (timeline only: it never
    /// becomes `last_event` and has no webhook type; broadcast stats count it).
    Unsubscribed,
}

impl EventKind {
    /// Every kind, for parsing and tests.
    pub const ALL: [EventKind; 13] = [
        EventKind::Queued,
        EventKind::Scheduled,
        EventKind::Canceled,
        EventKind::Sent,
        EventKind::Delivered,
        EventKind::DeliveryDelayed,
        EventKind::Bounced,
        EventKind::Complained,
        EventKind::Suppressed,
        EventKind::Failed,
        EventKind::Opened,
        EventKind::Clicked,
        EventKind::Unsubscribed,
    ];

    /// The contract's name (`last_event` value).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Queued => "queued",
            EventKind::Scheduled => "scheduled",
            EventKind::Canceled => "canceled",
            EventKind::Sent => "sent",
            EventKind::Delivered => "delivered",
            EventKind::DeliveryDelayed => "delivery_delayed",
            EventKind::Bounced => "bounced",
            EventKind::Complained => "complained",
            EventKind::Suppressed => "suppressed",
            EventKind::Failed => "failed",
            EventKind::Opened => "opened",
            EventKind::Clicked => "clicked",
            EventKind::Unsubscribed => "unsubscribed",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// One entry of an email's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailEvent {
    pub email_id: EmailId,
    pub kind: EventKind,
    /// The recipient the event concerns, when it concerns one.
    pub recipient: Option<String>,
    pub at: Timestamp,
    /// Kind-specific details, e.g. `{"bounce": {...}}` in the contract's shape.
    pub data: Value,
}

impl EmailEvent {
    /// An event without details.
    pub fn new(email_id: EmailId, kind: EventKind, recipient: Option<String>, at: Timestamp) -> Self {
        EmailEvent { email_id, kind, recipient, at, data: Value::Object(Default::default()) }
    }
}
