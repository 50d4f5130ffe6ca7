//! Storing a received message for each team it is addressed to: one
//! [`ReceivedEmail`] per team (its recipients on that team's domains in
//! `received_for`), with the raw source, the attachments and the `email.received`
//! webhook written together. The inbound server answers `250` only after this
//! returns, so a message it accepted is never lost.

use std::collections::BTreeMap;

use serde_json::json;

use super::{InboundMessage, NewReceivedEmail, ReceivedAttachment, ReceivedEmail, route::Route};
use crate::{
    Postline, Result,
    clock::{Timestamp, rfc3339},
    ids::{AttachmentId, DomainId, ReceivedEmailId, TeamId},
    webhooks::OutboxEvent,
};

/// Most headers kept in the structured view (the raw source keeps them all).
const MAX_HEADERS: usize = 500;

impl Postline {
    /// Stores `message` for every team a recipient in `routes` routes it to
    /// (recipients routed elsewhere are ignored here). Returns the stored ids.
    pub async fn receive(&self, message: &InboundMessage, routes: &[(String, Route)]) -> Result<Vec<ReceivedEmailId>> {
        let mut teams: BTreeMap<TeamId, (DomainId, Vec<String>)> = BTreeMap::new();
        for (address, route) in routes {
            if let Route::Receiving { team_id, domain_id } = route {
                teams.entry(*team_id).or_insert_with(|| (*domain_id, Vec::new())).1.push(address.clone());
            }
        }
        if teams.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let emails: Vec<NewReceivedEmail> = teams
            .into_iter()
            .map(|(team_id, (domain_id, received_for))| new_received(message, team_id, domain_id, received_for, now))
            .collect();
        let ids = emails.iter().map(|e| e.email.id).collect();
        self.store.insert_received(&emails).await?;
        Ok(ids)
    }
}

fn new_received(
    message: &InboundMessage,
    team_id: TeamId,
    domain_id: DomainId,
    received_for: Vec<String>,
    now: Timestamp,
) -> NewReceivedEmail {
    let parsed = &message.parsed;
    let id = ReceivedEmailId::new();
    let parts = &parsed.attachments[..parsed.attachments.len().min(super::MAX_RECEIVED_ATTACHMENTS)];
    let attachments: Vec<ReceivedAttachment> = parts
        .iter()
        .map(|part| ReceivedAttachment {
            id: AttachmentId::new(),
            email_id: id,
            filename: part.filename.clone(),
            content_type: part.content_type.clone(),
            content_id: part.content_id.clone(),
            disposition: part.disposition,
            size: part.content.len() as u64,
        })
        .collect();
    let email = ReceivedEmail {
        id,
        team_id,
        domain_id,
        from: parsed.from.clone(),
        to: parsed.to.clone(),
        cc: parsed.cc.clone(),
        bcc: parsed.bcc.clone(),
        reply_to: parsed.reply_to.clone(),
        received_for,
        subject: parsed.subject.clone(),
        message_id: parsed.message_id.clone(),
        html: parsed.html.clone(),
        text: parsed.text.clone(),
        headers: parsed.headers.iter().take(MAX_HEADERS).cloned().collect(),
        transport: message.transport.clone(),
        authentication: message.authentication.clone(),
        size: message.raw.len() as u64,
        created_at: now,
        attachments,
    };
    let event = received_event(&email);
    NewReceivedEmail {
        contents: parts.iter().map(|p| p.content.clone()).collect(),
        raw: message.raw.clone(),
        event,
        email,
    }
}

/// `email.received` in the contract's `EmailReceivedEvent` shape.
pub fn received_event(email: &ReceivedEmail) -> OutboxEvent {
    let attachments: Vec<_> = email
        .attachments
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "content_disposition": a.disposition.map(|d| d.as_str()),
                "content_id": a.content_id,
            })
        })
        .map(drop_nulls)
        .collect();
    let payload = json!({
        "type": "email.received",
        "created_at": rfc3339(email.created_at),
        "data": {
            "email_id": email.id,
            "created_at": rfc3339(email.created_at),
            "from": email.from,
            "to": email.to,
            "cc": email.cc,
            "bcc": email.bcc,
            "received_for": email.received_for,
            "subject": email.subject,
            "message_id": email.message_id,
            "attachments": attachments,
        },
    });
    OutboxEvent { kind: "email.received".into(), payload, at: email.created_at }
}

/// Optional webhook fields are left out rather than sent as `null`.
fn drop_nulls(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(object) = value.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    value
}
