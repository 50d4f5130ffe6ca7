//! Receiving: mail that arrives at Postline's inbound SMTP server.
//!
//! A message for a receiving-enabled domain becomes a [`ReceivedEmail`] of the team
//! that owns the domain (stored once with its raw source and attachments, with an
//! `email.received` webhook in the same transaction); a delivery report or complaint
//! arriving at a bounce address Postline issued (`bounces+<email id>@…`) becomes
//! events on the email it is about ([`reports`]). Which recipients the server accepts
//! at all is [`route`]'s answer: anything else is refused, so there is no open relay.
//!
//! Parsing MIME and checking SPF/DKIM/DMARC happen in the adapters (`postline-inbound`
//! and the binary); this module gets their results as plain data.

pub mod read;
pub mod receive;
pub mod reports;
pub mod route;

use serde::{Deserialize, Serialize};

use crate::{
    clock::Timestamp,
    emails::Disposition,
    ids::{AttachmentId, DomainId, ReceivedEmailId, TeamId},
};

/// Largest message the inbound server takes by default (Resend receives up to 40 MB).
pub const MAX_RECEIVED_BYTES: usize = 40 * 1024 * 1024;

/// Most attachments kept from one received message.
pub const MAX_RECEIVED_ATTACHMENTS: usize = 200;

/// A received message as the adapters parsed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedMessage {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    /// The `Message-ID` header with its angle brackets, as the contract shows it.
    pub message_id: String,
    pub html: Option<String>,
    pub text: Option<String>,
    /// Every header in order, repeated ones included.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<ParsedAttachment>,
}

/// One attachment (or inline part) of a received message, with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAttachment {
    pub filename: Option<String>,
    pub content_type: String,
    /// Without angle brackets.
    pub content_id: Option<String>,
    pub disposition: Option<Disposition>,
    pub content: Vec<u8>,
}

/// How the message reached the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transport {
    /// The envelope's reverse path (empty for bounces).
    pub mail_from: String,
    /// The client's EHLO/HELO name.
    pub helo: String,
    pub client_ip: String,
    pub tls: bool,
}

/// A message the inbound server accepted, before it is routed and stored.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub transport: Transport,
    /// The envelope recipients the server accepted.
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    pub parsed: ParsedMessage,
    /// SPF, DKIM and DMARC results as the adapter recorded them (JSON), if checked.
    pub authentication: Option<serde_json::Value>,
}

/// A stored received email.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEmail {
    pub id: ReceivedEmailId,
    pub team_id: TeamId,
    pub domain_id: DomainId,
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    /// The envelope recipients on the team's domains (forwarding aliases show here).
    pub received_for: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub html: Option<String>,
    pub text: Option<String>,
    pub headers: Vec<(String, String)>,
    pub transport: Transport,
    pub authentication: Option<serde_json::Value>,
    /// Size of the raw source in bytes.
    pub size: u64,
    pub created_at: Timestamp,
    pub attachments: Vec<ReceivedAttachment>,
}

/// An attachment's metadata (its bytes are read separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAttachment {
    pub id: AttachmentId,
    pub email_id: ReceivedEmailId,
    pub filename: Option<String>,
    pub content_type: String,
    pub content_id: Option<String>,
    pub disposition: Option<Disposition>,
    pub size: u64,
}

/// A received email to store: the row, its attachments with their bytes, the raw
/// source and the `email.received` webhook event, written in one transaction.
#[derive(Debug, Clone)]
pub struct NewReceivedEmail {
    pub email: ReceivedEmail,
    pub contents: Vec<Vec<u8>>,
    pub raw: Vec<u8>,
    pub event: crate::webhooks::OutboxEvent,
}
