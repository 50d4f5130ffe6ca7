//! Broadcasts: one email written once and sent to every eligible contact of a
//! segment, personalised per recipient.
//!
//! - [`input`] validates create and update bodies (with the Markdown and style
//!   extensions that make the HTML and text parts).
//! - [`manage`] owns the lifecycle: `draft` (also while scheduled) → `queued` (being
//!   fanned out) → `sent`, or `canceled`; only drafts change or are deleted.
//! - [`fanout`] is the durable job that turns a queued broadcast into one email per
//!   eligible contact, batch by batch under a lease, paced by the MTA's queue.
//! - [`stats`] reads its performance from its emails' timelines.
//! - [`content`] fills a broadcast email's content for its recipient, from the
//!   values stored with the email when it was queued.
//!
//! A recipient's email is an ordinary email (the queue, the MTA, suppression, topic
//! consent at send time, webhooks all apply) whose content is the broadcast's: the
//! row keeps only the recipient's personalisation values, so a broadcast to 100,000
//! contacts stores its HTML once.

pub mod content;
pub mod fanout;
pub mod input;
pub mod manage;
pub mod stats;

use serde_json::{Map, Value};

use crate::{
    clock::Timestamp,
    ids::{BroadcastId, ContactId, SegmentId, TeamId, TopicId},
};

/// Where a broadcast is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BroadcastStatus {
    /// Editable; also while scheduled (`send_at` in the future).
    Draft,
    /// Being turned into emails.
    Queued,
    /// Every eligible contact's email is queued.
    Sent,
    Canceled,
}

impl BroadcastStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastStatus::Draft => "draft",
            BroadcastStatus::Queued => "queued",
            BroadcastStatus::Sent => "sent",
            BroadcastStatus::Canceled => "canceled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(BroadcastStatus::Draft),
            "queued" => Some(BroadcastStatus::Queued),
            "sent" => Some(BroadcastStatus::Sent),
            "canceled" => Some(BroadcastStatus::Canceled),
            _ => None,
        }
    }
}

/// A broadcast as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub id: BroadcastId,
    pub team_id: TeamId,
    pub name: Option<String>,
    pub segment_id: Option<SegmentId>,
    /// As given, e.g. `Acme <news@acme.dev>`.
    pub from: String,
    pub subject: String,
    pub reply_to: Vec<String>,
    pub preview_text: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
    /// The Markdown and style the parts were made from (Postline's extension).
    pub source: Option<Value>,
    pub topic_id: Option<TopicId>,
    pub status: BroadcastStatus,
    /// When sending was asked for to happen (now, or the scheduled time).
    pub send_at: Option<Timestamp>,
    /// The time asked for, when the send was scheduled.
    pub scheduled_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Emails queued so far.
    pub fanned_out: u64,
    /// The fan-out's cursor: the last contact (by id) whose email is queued.
    pub fanout_after: Option<ContactId>,
}

impl Broadcast {
    /// A draft whose send is scheduled.
    pub fn is_scheduled(&self) -> bool {
        self.status == BroadcastStatus::Draft && self.send_at.is_some()
    }
}

/// The link from a recipient's email to its broadcast, with what fills its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromBroadcast {
    pub broadcast_id: BroadcastId,
    pub contact_id: ContactId,
    /// Personalisation values by placeholder name: a string, or `{"missing": default}`
    /// when the contact has none (the placeholder's fallback wins over the default).
    pub values: Map<String, Value>,
}

/// A segment member as the fan-out sees it: the contact and its own choice about
/// the broadcast's topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub contact: crate::audience::Contact,
    pub topic_choice: Option<crate::audience::Subscription>,
}

/// A draft with the least content, for unit tests.
#[cfg(test)]
pub(crate) fn sample_draft() -> Broadcast {
    Broadcast {
        id: BroadcastId::new(),
        team_id: TeamId::new(),
        name: None,
        segment_id: Some(SegmentId::new()),
        from: "Acme <news@acme.dev>".into(),
        subject: "News".into(),
        reply_to: Vec::new(),
        preview_text: None,
        html: Some("<p>Hi</p>".into()),
        text: None,
        source: None,
        topic_id: None,
        status: BroadcastStatus::Draft,
        send_at: None,
        scheduled_at: None,
        sent_at: None,
        created_at: chrono::Utc::now(),
        fanned_out: 0,
        fanout_after: None,
    }
}
