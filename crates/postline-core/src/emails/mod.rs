//! Outbound emails: what a send request may contain, how it is validated, how an
//! accepted email is recorded, and what callers can do with it afterwards
//! (read, list, reschedule, cancel, share, fetch its attachments).
//!
//! An accepted email is one [`Email`] row, its attachments stored once, one
//! delivery (queue row) per distinct recipient, and its first timeline event —
//! all written in one transaction before the API answers.

pub mod address;
pub mod attachments;
pub mod events;
pub mod input;
pub mod insights;
pub mod manage;
pub mod sandbox;
pub mod schedule;
pub mod search;
pub mod send;
pub mod source;
pub mod stats;

use serde::{Deserialize, Serialize};

use crate::{
    clock::Timestamp,
    ids::{AttachmentId, DeliveryId, EmailId, TeamId},
};

pub use events::{EmailEvent, EventKind};

/// A name/value tag attached to an email, echoed in its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

/// A custom header, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A stored outbound email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub id: EmailId,
    pub team_id: TeamId,
    /// As given, e.g. `Acme <onboarding@resend.dev>`.
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
    pub headers: Vec<Header>,
    pub tags: Vec<Tag>,
    pub topic_id: Option<String>,
    /// The Message-ID header value, `<…>` included.
    pub message_id: String,
    pub scheduled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The latest event on the email's timeline.
    pub last_event: EventKind,
    /// For a broadcast's email: its broadcast, contact and personalisation values
    /// (the HTML and text parts are the broadcast's, filled in when read or sent).
    pub broadcast: Option<crate::broadcasts::FromBroadcast>,
}

/// Whether an attachment is shown inline (referenced by `cid:`) or as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

impl Disposition {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Inline => "inline",
            Disposition::Attachment => "attachment",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Self {
        if raw == "inline" { Disposition::Inline } else { Disposition::Attachment }
    }
}

/// An attachment's metadata (its content is fetched separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub email_id: EmailId,
    pub filename: Option<String>,
    pub content_type: String,
    pub content_id: Option<String>,
    pub disposition: Disposition,
    pub size: u64,
}

/// An email on its way out, with the ids of its attachments (their bytes are loaded
/// only for the emails that have any).
#[derive(Debug, Clone)]
pub struct OutboundEmail {
    pub email: Email,
    pub attachments: Vec<AttachmentId>,
}

/// An attachment with its bytes, as accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentContent {
    pub meta: Attachment,
    pub content: Vec<u8>,
}

/// How a recipient received the email, which decides the envelope and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientKind {
    To,
    Cc,
    Bcc,
}

impl RecipientKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::To => "to",
            RecipientKind::Cc => "cc",
            RecipientKind::Bcc => "bcc",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "cc" => RecipientKind::Cc,
            "bcc" => RecipientKind::Bcc,
            _ => RecipientKind::To,
        }
    }
}

/// Which worker delivers a recipient's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A sandbox test address: the sandbox worker plays out its scripted events.
    Sandbox,
    /// A real mailbox: delivered over SMTP by the outbound MTA.
    Smtp,
}

impl Route {
    /// Every route.
    pub const ALL: [Route; 2] = [Route::Sandbox, Route::Smtp];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Sandbox => "sandbox",
            Route::Smtp => "smtp",
        }
    }
}

/// Which of a route's due rows workers take first. A broadcast to 100,000 contacts
/// is queued as fast as it can be written; a password reset sent a second later must
/// not wait behind it, so workers drain the transactional lane before the bulk one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// Emails sent through the API or SMTP: first.
    Transactional,
    /// Broadcast copies: whatever capacity the transactional lane leaves.
    Bulk,
}

impl Lane {
    /// Every lane, in the order workers drain them.
    pub const IN_ORDER: [Lane; 2] = [Lane::Transactional, Lane::Bulk];

    /// Stored number (the queue index sorts on it).
    pub fn as_i16(self) -> i16 {
        match self {
            Lane::Transactional => 0,
            Lane::Bulk => 1,
        }
    }
}

/// One recipient's queue row, as written at acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub id: DeliveryId,
    /// The bare address (no display name), as the envelope will carry it.
    pub recipient: String,
    pub kind: RecipientKind,
    pub route: Route,
    pub lane: Lane,
    /// The region whose nodes deliver it (`None`: any node).
    pub region: Option<String>,
    /// When the first attempt is due: now, or the scheduled time.
    pub due_at: Timestamp,
    /// When retrying stops and the copy bounces (the first attempt plus the
    /// operator's delivery expiry, 72 hours by default).
    pub expires_at: Timestamp,
}

/// Everything written, in one transaction, when an email is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    pub email: Email,
    pub attachments: Vec<AttachmentContent>,
    pub deliveries: Vec<NewDelivery>,
    pub first_event: EmailEvent,
}
