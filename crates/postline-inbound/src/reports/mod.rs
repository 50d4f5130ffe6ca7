//! Reports that come back after a message was accepted: asynchronous bounces and
//! spam complaints, read from the raw message that arrived at a bounce address.
//!
//! Three readers, tried in this order:
//! - `dsn`: RFC 3464 delivery status notifications (and RFC 6533's global
//!   form), the structured bounces most MTAs send;
//! - `arf`: RFC 5965 feedback reports (complaints), including the Microsoft
//!   JMRP variants;
//! - `rules`: bounces with no machine-readable part (qmail, Exim, Exchange,
//!   Yahoo, old Gmail, Postfix without a DSN), classified by their wording.
//!
//! Everything else — ordinary mail, out-of-office replies, read receipts (MDN) —
//! is `None`. A DSN is returned even when it reports only successes
//! (`delivered`, `relayed`, `expanded`): telling those apart is the caller's job.
//!
//! The input is hostile by assumption. Nothing here panics, every list and field
//! is capped ([`MAX_RECIPIENTS`], [`MAX_FIELD_LEN`], [`MAX_HEADERS`]) and a
//! report forwarded inside other messages is looked for in at most [`MAX_DEPTH`]
//! levels of them. MIME structure and decoding are `mail-parser`'s; the field
//! blocks inside report parts are read here (`fields`).

mod arf;
mod codes;
mod dsn;
mod fields;
mod original;
mod parts;
mod prose;
mod rules;

use mail_parser::{Message, MessageParser, PartType};

/// At most this many recipients are read from one report.
pub const MAX_RECIPIENTS: usize = 1_000;
/// Longer field values are cut (on a character boundary) to this many bytes.
pub const MAX_FIELD_LEN: usize = 2_000;
/// At most this many header fields are kept from an enclosed original message.
pub const MAX_HEADERS: usize = 200;
/// How many levels of messages are searched for a report: the message itself and
/// those enclosed in it, then those enclosed in them.
pub const MAX_DEPTH: usize = 3;

/// A bounce or a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Delivery(DeliveryReport),
    Feedback(FeedbackReport),
}

/// What happened to one or more recipients of a message sent earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// `true`: read from an RFC 3464 status part; `false`: classified by wording.
    pub structured: bool,
    /// The MTA that wrote the report (`Reporting-MTA`, without `dns;`).
    pub reporting_mta: Option<String>,
    /// The `ENVID` given at `MAIL FROM`, echoed back (`Original-Envelope-Id`).
    pub original_envelope_id: Option<String>,
    /// When the reporting MTA received the message (`Arrival-Date`), as written.
    pub arrival_date: Option<String>,
    pub recipients: Vec<RecipientStatus>,
    /// The message this report is about, when it was returned.
    pub original: Option<OriginalMessage>,
}

/// One recipient's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientStatus {
    /// `Final-Recipient`, else `Original-Recipient`, without the `rfc822;` type.
    pub recipient: Option<String>,
    /// `Original-Recipient` (the address as first given), without its type.
    pub original_recipient: Option<String>,
    pub action: Action,
    /// The RFC 3463 enhanced status, always shaped `c.s.d` (`5.1.1`).
    pub status: Option<String>,
    /// The basic SMTP reply code found in the diagnostic (`550`).
    pub smtp_code: Option<u16>,
    /// The remote server's words, unfolded (`smtp; 550 5.1.1 <x@y>: …`).
    pub diagnostic: Option<String>,
    /// The server that gave the diagnostic (`Remote-MTA`, without `dns;`).
    pub remote_mta: Option<String>,
    /// Until when a delayed message is retried (`Will-Retry-Until`), as written.
    pub will_retry_until: Option<String>,
}

/// A recipient's outcome, as RFC 3464's `Action` field names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
}

impl Action {
    /// Reads an `Action` value, in any case.
    pub fn parse(value: &str) -> Option<Action> {
        let value = value.trim();
        [
            ("failed", Action::Failed),
            ("delayed", Action::Delayed),
            ("delivered", Action::Delivered),
            ("relayed", Action::Relayed),
            ("expanded", Action::Expanded),
        ]
        .into_iter()
        .find(|(name, _)| value.eq_ignore_ascii_case(name))
        .map(|(_, action)| action)
    }

    /// Whether the message did not reach the recipient, for now or for good.
    pub fn is_failure(self) -> bool {
        matches!(self, Action::Failed | Action::Delayed)
    }
}

/// A recipient's complaint about a message (RFC 5965).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackReport {
    /// Lower-cased: `abuse`, `fraud`, `virus`, `other`, `not-spam`, `auth-failure`.
    pub feedback_type: String,
    pub user_agent: Option<String>,
    pub version: Option<String>,
    /// The envelope sender of the reported message, without angle brackets.
    pub original_mail_from: Option<String>,
    /// The envelope recipients; providers often redact them (RFC 6590).
    pub original_rcpt_to: Vec<String>,
    pub arrival_date: Option<String>,
    pub source_ip: Option<String>,
    pub reported_domain: Option<String>,
    /// The reported message (often only its headers).
    pub original: Option<OriginalMessage>,
}

/// The message a report is about, as far as it was returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalMessage {
    /// Without angle brackets: `id@host`.
    pub message_id: Option<String>,
    pub to: Vec<String>,
    pub subject: Option<String>,
    /// Every header field in order, values unfolded.
    pub headers: Vec<(String, String)>,
}

impl OriginalMessage {
    /// The first value of a header field, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(field, _)| field.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// Reads a bounce or a complaint from a raw message; `None` for anything else.
pub fn parse_report(raw: &[u8]) -> Option<Report> {
    parse_report_from(raw, None)
}

/// As [`parse_report`], told the SMTP envelope's reverse path (`Some("")` for the
/// null sender `MAIL FROM:<>`), which only the receiving session knows. A null or
/// daemon sender lets a bounce with unusual wording be recognised.
pub fn parse_report_from(raw: &[u8], reverse_path: Option<&str>) -> Option<Report> {
    let message = MessageParser::new().parse(raw)?;
    if let Some(report) = structured(&message, 0) {
        return match report {
            Report::Delivery(mut dsn) if dsn.recipients.is_empty() => {
                // An unreadable status part: the human-readable part may still say who.
                if let Some(prose) = rules::classify(&message, reverse_path) {
                    dsn.structured = false;
                    dsn.recipients = prose.recipients;
                    dsn.original = dsn.original.or(prose.original);
                }
                Some(Report::Delivery(dsn))
            }
            report => Some(report),
        };
    }
    if parts::is_disposition_notification(&message) {
        return None;
    }
    arf::unstructured(&message)
        .map(Report::Feedback)
        .or_else(|| rules::classify(&message, reverse_path).map(Report::Delivery))
}

/// A DSN or ARF report in this message or, when it was forwarded as an
/// attachment (abuse desks and forwarding mailboxes do this), in one it encloses.
fn structured(message: &Message<'_>, depth: usize) -> Option<Report> {
    if let Some(report) = dsn::parse(message) {
        return Some(Report::Delivery(report));
    }
    if let Some(report) = arf::parse(message) {
        return Some(Report::Feedback(report));
    }
    if depth + 1 >= MAX_DEPTH {
        return None;
    }
    message.parts.iter().find_map(|part| match &part.body {
        PartType::Message(nested) => structured(nested, depth + 1),
        _ => None,
    })
}
