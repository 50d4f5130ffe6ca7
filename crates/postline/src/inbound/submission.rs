//! SMTP submission for frameworks that only speak SMTP (port 587 with STARTTLS, 465
//! with implicit TLS): `AUTH` with user name `resend` and an API key as password,
//! then each message becomes the same accepted email as `POST /emails` — the same
//! validation, sender rules (a domain-restricted key submits only for its domain),
//! suppression, tracking, events and idempotency (an `Idempotency-Key` header on the
//! message). The `250` comes only once the email is durably accepted; a message
//! the API would refuse gets a `5xx` saying why, so the client does not retry it.

use std::{net::SocketAddr, sync::Arc};

use base64::{Engine, engine::general_purpose::STANDARD};
use postline_api::rate_limit::RateLimiter;
use postline_core::{
    Error, Postline,
    emails::address::{parse_mailbox, valid_address},
    idempotency::IdempotencyKey,
    ids::ApiKeyId,
    receiving::ParsedMessage,
};
use postline_inbound::{Envelope, MessageSink, Recipients, Reply, Verdict};
use serde_json::{Map, Value, json};

/// The user name submission clients authenticate with (the password is an API key).
pub const USERNAME: &str = "resend";

/// Headers of a submitted message that become the email's own `headers`; the rest
/// are either fields of the request (From, To, Subject…) or rewritten by Postline
/// (Message-ID, Date, MIME structure, trace and signature headers).
fn kept_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-")
        || matches!(lower.as_str(), "in-reply-to" | "references" | "list-unsubscribe" | "list-unsubscribe-post")
}

/// Any syntactically valid recipient is taken: what may be sent is decided when the
/// message is accepted, by the same rules as the API.
pub struct SubmissionPolicy(pub Postline);

#[async_trait::async_trait]
impl Recipients for SubmissionPolicy {
    async fn check(&self, address: &str) -> Verdict {
        if valid_address(address) {
            Verdict::Accept
        } else {
            Verdict::Refuse(Reply::new(501, "5.1.3", format!("`{address}` is not a valid address")))
        }
    }

    /// The identity is the key itself, kept only in the session's memory: the sink
    /// resolves it again per message, so a key deleted mid-session stops working.
    async fn authenticate(&self, username: &str, password: &str) -> Option<String> {
        if !username.eq_ignore_ascii_case(USERNAME) {
            return None;
        }
        match self.0.authenticate(password).await {
            Ok(Some(_)) => Some(password.to_string()),
            _ => None,
        }
    }
}

/// Turns each submitted message into an accepted email.
pub struct SubmissionSink {
    pub postline: Postline,
    /// Per API key: each key has its own submission budget, apart from the API's.
    pub limiter: Arc<RateLimiter<ApiKeyId>>,
}

#[async_trait::async_trait]
impl MessageSink for SubmissionSink {
    async fn store(&self, envelope: Envelope, _peer: SocketAddr) -> Result<(), Reply> {
        let token = envelope.auth.as_deref().ok_or_else(|| Reply::new(530, "5.7.0", "Authentication required"))?;
        let principal = self
            .postline
            .authenticate(token)
            .await
            .map_err(refusal)?
            .ok_or_else(|| Reply::new(535, "5.7.8", "The API key is no longer valid"))?;
        if !self.limiter.check(principal.key_id).allowed {
            return Err(Reply::new(451, "4.7.0", "Rate limit exceeded; try again in a second"));
        }
        let parsed = crate::inbound::parse::parse(&envelope.message);
        let body = request_body(&parsed, &envelope.recipients);
        let key = idempotency_key(&parsed).map(|raw| IdempotencyKey::parse(&raw)).transpose().map_err(refusal)?;
        // A key that already answered is answered 250 again: the message was accepted.
        self.postline.send_once(&principal, &body, key).await.map(|_| ()).map_err(refusal)
    }
}

fn idempotency_key(parsed: &ParsedMessage) -> Option<String> {
    parsed.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("Idempotency-Key")).map(|(_, v)| v.clone())
}

/// The `POST /emails` body for a submitted message. The envelope decides who gets
/// it: header recipients not in the envelope get nothing, and envelope recipients
/// not in To or Cc are Bcc.
pub fn request_body(parsed: &ParsedMessage, envelope: &[String]) -> Value {
    let bare = |raw: &String| parse_mailbox(raw).map(|m| m.address.to_ascii_lowercase()).unwrap_or_default();
    let in_envelope = |raw: &&String| envelope.iter().any(|e| e.eq_ignore_ascii_case(&bare(raw)));
    let to: Vec<&String> = parsed.to.iter().filter(in_envelope).collect();
    let cc: Vec<&String> = parsed.cc.iter().filter(in_envelope).collect();
    let named: Vec<String> = to.iter().chain(&cc).map(|a| bare(a)).collect();
    let mut bcc: Vec<&String> = envelope.iter().filter(|e| !named.contains(&e.to_ascii_lowercase())).collect();
    let to = if to.is_empty() { std::mem::take(&mut bcc) } else { to };
    let mut body = Map::new();
    body.insert("from".into(), json!(parsed.from));
    body.insert("to".into(), json!(to));
    if !cc.is_empty() {
        body.insert("cc".into(), json!(cc));
    }
    if !bcc.is_empty() {
        body.insert("bcc".into(), json!(bcc));
    }
    if !parsed.reply_to.is_empty() {
        body.insert("reply_to".into(), json!(parsed.reply_to));
    }
    body.insert("subject".into(), json!(parsed.subject));
    if let Some(html) = &parsed.html {
        body.insert("html".into(), json!(html));
    }
    if let Some(text) = &parsed.text {
        body.insert("text".into(), json!(text));
    }
    let headers: Map<String, Value> =
        parsed.headers.iter().filter(|(name, _)| kept_header(name)).map(|(n, v)| (n.clone(), json!(v))).collect();
    if !headers.is_empty() {
        body.insert("headers".into(), Value::Object(headers));
    }
    let attachments: Vec<Value> = parsed
        .attachments
        .iter()
        .map(|a| {
            let mut attachment = Map::new();
            attachment.insert("content".into(), json!(STANDARD.encode(&a.content)));
            attachment.insert("filename".into(), json!(a.filename.clone().unwrap_or_else(|| "attachment".into())));
            attachment.insert("content_type".into(), json!(a.content_type));
            if let Some(cid) = &a.content_id {
                attachment.insert("content_id".into(), json!(cid));
            }
            Value::Object(attachment)
        })
        .collect();
    if !attachments.is_empty() {
        body.insert("attachments".into(), Value::Array(attachments));
    }
    Value::Object(body)
}

/// Why a message is refused, as an SMTP reply: the API's message for anything the
/// sender must fix (5xx, not retried), a temporary failure otherwise.
fn refusal(error: Error) -> Reply {
    let text = error.to_string().replace(['\r', '\n'], " ");
    match error {
        Error::Invalid { .. } | Error::NotFound(_) | Error::Conflict(_) => Reply::new(550, "5.6.0", text),
        Error::Forbidden(_) | Error::Restricted | Error::SecurityRefused(_) => Reply::new(550, "5.7.1", text),
        Error::IdempotencyMismatch => Reply::new(550, "5.7.0", text),
        Error::IdempotencyInFlight | Error::RateLimited { .. } => Reply::new(451, "4.7.0", text),
        Error::Unavailable(_) | Error::Internal(_) => {
            tracing::warn!(%error, "could not accept a submitted message");
            Reply::store_failed()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_decides_recipients_and_unnamed_ones_are_bcc() {
        let parsed = ParsedMessage {
            from: "Acme <billing@acme.dev>".into(),
            to: vec!["Ada <ada@example.org>".into(), "not-in-envelope@example.org".into()],
            cc: vec!["carol@example.org".into()],
            subject: "Hi".into(),
            headers: vec![("X-Entity".into(), "42".into()), ("Received".into(), "from x".into())],
            ..ParsedMessage::default()
        };
        let envelope = ["ada@example.org", "carol@example.org", "secret@example.org"].map(String::from);
        let body = request_body(&parsed, &envelope);
        assert_eq!(body["to"], json!(["Ada <ada@example.org>"]));
        assert_eq!(body["cc"], json!(["carol@example.org"]));
        assert_eq!(body["bcc"], json!(["secret@example.org"]));
        assert_eq!(body["headers"], json!({"X-Entity": "42"}), "trace headers are not copied");
        let all_bcc = request_body(&ParsedMessage { to: vec![], cc: vec![], ..parsed }, &envelope);
        assert_eq!(all_bcc["to"].as_array().unwrap().len(), 3, "someone must be in `to`");
        assert!(all_bcc.get("bcc").is_none());
    }
}
