//! The contract's JSON shapes for domain values. Absent optional strings are
//! omitted rather than `null` where the contract types them as plain strings.

use postline_core::{
    api_keys::ApiKey,
    clock::{api_time, rfc3339},
    emails::{Email, EmailEvent, manage::AttachmentLink},
    pagination::Page,
};
use serde_json::{Map, Value, json};

/// `{"object": "list", "has_more", "data"}`.
pub fn list<T>(page: Page<T>, item: impl Fn(T) -> Value) -> Value {
    json!({"object": "list", "has_more": page.has_more, "data": page.items.into_iter().map(item).collect::<Vec<_>>()})
}

/// An email as `GET /emails/{id}` returns it (`with_bodies`) or as a list item.
pub fn email(email: Email, with_bodies: bool) -> Value {
    let mut object = Map::new();
    object.insert("object".into(), json!("email"));
    object.insert("id".into(), json!(email.id));
    object.insert("message_id".into(), json!(email.message_id));
    object.insert("to".into(), json!(email.to));
    object.insert("from".into(), json!(email.from));
    object.insert("created_at".into(), json!(api_time(email.created_at)));
    object.insert("subject".into(), json!(email.subject));
    if with_bodies {
        if let Some(html) = email.html {
            object.insert("html".into(), json!(html));
        }
        if let Some(text) = email.text {
            object.insert("text".into(), json!(text));
        }
        object.insert(
            "headers".into(),
            json!(email.headers.into_iter().map(|h| (h.name, Value::String(h.value))).collect::<Map<_, _>>()),
        );
    }
    object.insert("bcc".into(), json!(email.bcc));
    object.insert("cc".into(), json!(email.cc));
    object.insert("reply_to".into(), json!(email.reply_to));
    object.insert("last_event".into(), json!(email.last_event.as_str()));
    object.insert("scheduled_at".into(), json!(email.scheduled_at.map(api_time)));
    object.insert("tags".into(), json!(email.tags));
    if let Some(topic) = email.topic_id {
        object.insert("topic_id".into(), json!(topic));
    }
    if let Some(link) = email.broadcast {
        object.insert("broadcast_id".into(), json!(link.broadcast_id));
    }
    Value::Object(object)
}

/// One timeline entry (`GET /emails/{id}/events`, a Postline extension).
pub fn email_event(event: EmailEvent) -> Value {
    json!({
        "object": "email_event",
        "type": format!("email.{}", event.kind.as_str()),
        "status": event.kind.as_str(),
        "recipient": event.recipient,
        "created_at": api_time(event.at),
        "data": event.data,
    })
}

/// An attachment with its signed download link.
pub fn attachment(link: AttachmentLink, with_object: bool) -> Value {
    let a = link.attachment;
    let mut object = Map::new();
    if with_object {
        object.insert("object".into(), json!("attachment"));
    }
    object.insert("id".into(), json!(a.id));
    object.insert("filename".into(), json!(a.filename));
    object.insert("content_type".into(), json!(a.content_type));
    if let Some(cid) = a.content_id {
        object.insert("content_id".into(), json!(cid));
    }
    object.insert("content_disposition".into(), json!(a.disposition.as_str()));
    object.insert("download_url".into(), json!(link.download_url));
    object.insert("expires_at".into(), json!(rfc3339(link.expires_at)));
    object.insert("size".into(), json!(a.size));
    Value::Object(object)
}

/// An API key as listed (never its token).
pub fn api_key(key: ApiKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "permission": key.permission.as_str(),
        "domain_id": key.domain_id,
        "created_at": api_time(key.created_at),
        "last_used_at": key.last_used_at.map(api_time),
    })
}
