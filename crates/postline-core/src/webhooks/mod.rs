//! Webhooks: endpoints a team registers for event types, and the signed, durable,
//! retried delivery of every event to them.
//!
//! An event's message is written to the outbox in the same transaction as the state
//! change that caused it (the store calls [`email_event_message`] while it records an
//! email's event), one delivery per subscribed endpoint. The [`dispatch`] job sends
//! due deliveries with Svix-compatible signatures and retries failures on the real
//! service's schedule.

pub mod dispatch;
pub mod history;
pub mod manage;

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::{
    clock::{Timestamp, rfc3339},
    emails::{EmailEvent, EventKind, Tag},
    ids::{EmailId, TeamId, WebhookId},
};

/// Every event type an endpoint can subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "email.sent",
    "email.delivered",
    "email.delivery_delayed",
    "email.bounced",
    "email.complained",
    "email.opened",
    "email.clicked",
    "email.failed",
    "email.scheduled",
    "email.suppressed",
    "email.received",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "domain.created",
    "domain.updated",
    "domain.deleted",
];

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub team_id: TeamId,
    pub endpoint: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// `whsec_` + base64 of the HMAC key.
    pub secret: String,
    pub created_at: Timestamp,
}

/// What the outbox needs to know of an email to describe its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSummary {
    pub id: EmailId,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
    /// The broadcast the email is part of, if any.
    pub broadcast_id: Option<String>,
}

/// The event type of an email timeline entry, if it is one endpoints can receive
/// (`queued`, `canceled` and `unsubscribed` are timeline-only).
pub fn email_event_type(kind: EventKind) -> Option<String> {
    match kind {
        EventKind::Queued | EventKind::Canceled | EventKind::Unsubscribed => None,
        other => Some(format!("email.{}", other.as_str())),
    }
}

/// The webhook message for an email event: `(type, payload)` in the contract's
/// shape (`{type, created_at, data: {email_id, created_at, from, to, subject, tags, …}}`).
pub fn email_event_message(email: &EmailSummary, event: &EmailEvent) -> Option<(String, Value)> {
    let kind = email_event_type(event.kind)?;
    let mut data = Map::new();
    data.insert("email_id".into(), json!(email.id));
    data.insert("created_at".into(), json!(rfc3339(email.created_at)));
    data.insert("from".into(), json!(email.from));
    data.insert("to".into(), json!(email.to));
    data.insert("subject".into(), json!(email.subject));
    if let Some(broadcast) = &email.broadcast_id {
        data.insert("broadcast_id".into(), json!(broadcast));
    }
    if !email.tags.is_empty() {
        let tags: Map<String, Value> = email.tags.iter().map(|t| (t.name.clone(), json!(t.value))).collect();
        data.insert("tags".into(), Value::Object(tags));
    }
    if let Value::Object(details) = &event.data {
        for (key, value) in details {
            data.insert(key.clone(), value.clone());
        }
    }
    let payload = json!({"type": kind, "created_at": rfc3339(event.at), "data": data});
    Some((kind, payload))
}

/// An event to enqueue with the state change that caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// `domain.created`, …
    pub kind: String,
    /// The whole message (`{type, created_at, data}`).
    pub payload: Value,
    pub at: Timestamp,
}

/// A `domain.*` event with the domain and its records in the contract's shape.
pub fn domain_event(kind: &str, view: &crate::domains::manage::DomainView, at: Timestamp) -> OutboxEvent {
    let domain = &view.domain;
    let records: Vec<Value> = view
        .records
        .iter()
        .map(|r| {
            let label = match r.expected.kind.label() {
                "Receiving" => "Receiving MX",
                other => other,
            };
            let mut record = json!({
                "record": label,
                "name": r.expected.name,
                "value": r.expected.value,
                "type": r.expected.record_type,
                "ttl": "Auto",
                "status": r.status.as_str(),
            });
            if let Some(priority) = r.expected.priority {
                record["priority"] = json!(priority);
            }
            record
        })
        .collect();
    let payload = json!({
        "type": kind,
        "created_at": rfc3339(at),
        "data": {
            "id": domain.id,
            "name": domain.name,
            "status": domain.status.as_str(),
            "created_at": rfc3339(domain.created_at),
            "region": domain.region,
            "records": records,
        },
    });
    OutboxEvent { kind: kind.to_string(), payload, at }
}

/// A new signing secret.
pub fn generate_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `svix-signature` value for a message (Standard Webhooks: `v1,` + base64 of
/// HMAC-SHA256 over `id.timestamp.body`, keyed with the base64-decoded secret).
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}
