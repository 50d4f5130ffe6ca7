//! The `POST /emails` body, validated field by field.
//!
//! The body arrives as JSON and is checked here rather than by a derived
//! deserializer so that every mistake gets the contract's error name and a message
//! naming the field. Unknown fields are ignored (the SDKs send some), and the
//! camelCase spellings the SDKs may send (`replyTo`, `scheduledAt`) are accepted.

use serde_json::{Map, Value};

use super::{
    Header, Tag,
    address::{Mailbox, parse_mailbox},
    attachments::{AttachmentSpec, MAX_ATTACHMENTS, parse_attachment},
    sandbox::is_reserved,
};
use crate::{Error, Invalid, Result};

/// Most addresses in each of `to`, `cc`, `bcc` and `reply_to`.
pub const MAX_RECIPIENTS: usize = 50;
/// Most tags on one email.
pub const MAX_TAGS: usize = 50;
/// Most custom headers on one email.
pub const MAX_HEADERS: usize = 100;
const MAX_TAG_CHARS: usize = 256;
pub(crate) const MAX_SUBJECT_CHARS: usize = 998;

/// Headers Postline writes itself; a custom value would break the message or its signature.
const STRUCTURAL_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "dkim-signature",
    "return-path",
    "received",
    "sender",
];

/// A validated send request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// `from` exactly as given (trimmed).
    pub from_raw: String,
    pub from: Mailbox,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub html: Option<String>,
    pub text: Option<String>,
    pub headers: Vec<Header>,
    pub tags: Vec<Tag>,
    pub attachments: Vec<AttachmentSpec>,
    pub scheduled_at: Option<String>,
    pub topic_id: Option<String>,
}

impl SendRequest {
    /// Validates a JSON body.
    pub fn parse(body: &Value) -> Result<Self> {
        let Value::Object(fields) = body else {
            return Err(Error::value("The request body must be a JSON object."));
        };
        let from_raw = required_string(fields, "from")?;
        let from = parse_mailbox(&from_raw).ok_or_else(|| {
            Error::invalid(
                Invalid::FromAddress,
                "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
            )
        })?;
        if !fields.contains_key("to") || fields["to"].is_null() {
            return Err(Error::missing("to"));
        }
        let to = addresses(fields, "to", &["to"])?;
        if to.is_empty() {
            return Err(Error::missing("to"));
        }
        let cc = addresses(fields, "cc", &["cc"])?;
        let bcc = addresses(fields, "bcc", &["bcc"])?;
        let reply_to = addresses(fields, "reply_to", &["reply_to", "replyTo"])?;
        let subject = required_string(fields, "subject")?;
        if subject.chars().count() > MAX_SUBJECT_CHARS || subject.contains(['\r', '\n']) {
            return Err(Error::value(format!(
                "The `subject` field must be a single line of at most {MAX_SUBJECT_CHARS} characters."
            )));
        }
        Ok(SendRequest {
            from_raw: from_raw.trim().to_string(),
            from,
            to,
            cc,
            bcc,
            reply_to,
            subject,
            html: optional_string(fields, &["html"])?,
            text: optional_string(fields, &["text"])?,
            headers: headers(fields)?,
            tags: tags(fields)?,
            attachments: attachments(fields)?,
            scheduled_at: optional_string(fields, &["scheduled_at", "scheduledAt"])?,
            topic_id: optional_string(fields, &["topic_id", "topicId"])?,
        })
    }

    /// Every recipient address, `to` then `cc` then `bcc`.
    pub fn recipients(&self) -> impl Iterator<Item = &String> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }
}

fn required_string(fields: &Map<String, Value>, name: &str) -> Result<String> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(Error::missing(name)),
        Some(Value::String(s)) if s.trim().is_empty() && name != "subject" => Err(Error::missing(name)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::value(format!("The `{name}` field must be a string."))),
    }
}

fn optional_string(fields: &Map<String, Value>, names: &[&str]) -> Result<Option<String>> {
    for name in names {
        match fields.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return Ok(Some(s.clone())),
            Some(_) => {
                return Err(Error::value(format!("The `{}` field must be a string.", names[0])));
            }
        }
    }
    Ok(None)
}

pub(crate) fn addresses(fields: &Map<String, Value>, label: &str, names: &[&str]) -> Result<Vec<String>> {
    let Some(value) = names.iter().find_map(|n| fields.get(*n).filter(|v| !v.is_null())) else {
        return Ok(Vec::new());
    };
    let raw: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::value(format!("The `{label}` field must be a string or an array of strings.")))?,
        _ => {
            return Err(Error::value(format!("The `{label}` field must be a string or an array of strings.")));
        }
    };
    if raw.len() > MAX_RECIPIENTS {
        return Err(Error::value(format!("The `{label}` field can contain at most {MAX_RECIPIENTS} addresses.")));
    }
    raw.into_iter()
        .map(|address| {
            let mailbox = parse_mailbox(address).ok_or_else(|| {
                Error::value(format!(
                    "Invalid `{label}` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format."
                ))
            })?;
            if label != "reply_to" && is_reserved(&mailbox) {
                return Err(Error::invalid(
                    Invalid::Unprocessable,
                    format!(
                        "The `{}` domain is reserved for documentation and cannot receive email. \
                         Use a test address such as delivered@resend.dev instead.",
                        mailbox.domain()
                    ),
                ));
            }
            Ok(address.trim().to_string())
        })
        .collect()
}

fn headers(fields: &Map<String, Value>) -> Result<Vec<Header>> {
    let map = match fields.get("headers") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(Error::value("The `headers` field must be an object of header names to values."));
        }
    };
    if map.len() > MAX_HEADERS {
        return Err(Error::value(format!("The `headers` field can contain at most {MAX_HEADERS} headers.")));
    }
    map.iter()
        .map(|(name, value)| {
            let valid_name =
                !name.is_empty() && name.len() <= 76 && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
            if !valid_name {
                return Err(Error::value(format!("The header name `{name}` is not a valid header field name.")));
            }
            if STRUCTURAL_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(Error::value(format!(
                    "The `{name}` header is set by Postline; use the matching field of the request instead."
                )));
            }
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(Error::value(format!("The value of header `{name}` must be a string."))),
            };
            if value.contains(['\r', '\n', '\0']) || value.len() > 8192 {
                return Err(Error::value(format!(
                    "The value of header `{name}` must be a single line of at most 8192 bytes."
                )));
            }
            Ok(Header { name: name.clone(), value })
        })
        .collect()
}

fn tag_part(value: Option<&Value>, part: &str) -> Result<String> {
    let text = match value {
        Some(Value::String(s)) => s,
        None | Some(Value::Null) => return Err(Error::missing(&format!("tags.{part}"))),
        Some(_) => return Err(Error::value(format!("The tag `{part}` must be a string."))),
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if text.is_empty() || text.len() > MAX_TAG_CHARS || !text.chars().all(allowed) {
        return Err(Error::value(format!(
            "The tag `{part}` can only contain ASCII letters (a–z, A–Z), numbers (0–9), underscores (_), or dashes (-), \
             and must be 1 to {MAX_TAG_CHARS} characters."
        )));
    }
    Ok(text.clone())
}

fn tags(fields: &Map<String, Value>) -> Result<Vec<Tag>> {
    let items = match fields.get("tags") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(Error::value("The `tags` field must be an array of `{name, value}` objects."));
        }
    };
    if items.len() > MAX_TAGS {
        return Err(Error::value(format!("The `tags` field can contain at most {MAX_TAGS} tags.")));
    }
    items
        .iter()
        .map(|item| {
            let Value::Object(tag) = item else {
                return Err(Error::value("Each tag must be an object with `name` and `value`."));
            };
            Ok(Tag { name: tag_part(tag.get("name"), "name")?, value: tag_part(tag.get("value"), "value")? })
        })
        .collect()
}

fn attachments(fields: &Map<String, Value>) -> Result<Vec<AttachmentSpec>> {
    let items = match fields.get("attachments") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(Error::invalid(Invalid::Attachment, "The `attachments` field must be an array."));
        }
    };
    if items.len() > MAX_ATTACHMENTS {
        return Err(Error::invalid(
            Invalid::Attachment,
            format!("An email can have at most {MAX_ATTACHMENTS} attachments."),
        ));
    }
    items.iter().enumerate().map(|(i, item)| parse_attachment(i, item)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({"from": "Acme <onboarding@resend.dev>", "to": "delivered@resend.dev", "subject": "Hi", "html": "<p>x</p>"})
    }

    fn kind_of(body: Value) -> Invalid {
        match SendRequest::parse(&body) {
            Err(Error::Invalid { kind, .. }) => kind,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_email_parses() {
        let request = SendRequest::parse(&minimal()).unwrap();
        assert_eq!(request.to, vec!["delivered@resend.dev"]);
        assert_eq!(request.from.address, "onboarding@resend.dev");
    }

    #[test]
    fn missing_fields_are_named() {
        for field in ["from", "to", "subject"] {
            let mut body = minimal();
            body.as_object_mut().unwrap().remove(field);
            assert_eq!(kind_of(body), Invalid::MissingField, "{field}");
        }
        let mut empty_to = minimal();
        empty_to["to"] = json!([]);
        assert_eq!(kind_of(empty_to), Invalid::MissingField);
    }

    #[test]
    fn each_field_gets_its_own_error() {
        let mut bad_from = minimal();
        bad_from["from"] = json!("not an address");
        assert_eq!(kind_of(bad_from), Invalid::FromAddress);
        let mut reserved = minimal();
        reserved["to"] = json!(["someone@example.com"]);
        assert_eq!(kind_of(reserved), Invalid::Unprocessable);
        let mut too_many = minimal();
        too_many["to"] = json!((0..51).map(|i| format!("delivered+{i}@resend.dev")).collect::<Vec<_>>());
        assert_eq!(kind_of(too_many), Invalid::Value);
        let mut bad_tag = minimal();
        bad_tag["tags"] = json!([{"name": "has space", "value": "x"}]);
        assert_eq!(kind_of(bad_tag), Invalid::Value);
        let mut injected = minimal();
        injected["headers"] = json!({"X-Entity": "a\r\nBcc: evil@x.com"});
        assert_eq!(kind_of(injected), Invalid::Value);
        let mut structural = minimal();
        structural["headers"] = json!({"From": "x@y.com"});
        assert_eq!(kind_of(structural), Invalid::Value);
    }

    #[test]
    fn sdk_spellings_and_unknown_fields_are_accepted() {
        let mut body = minimal();
        body["replyTo"] = json!("support@acme.dev");
        body["scheduledAt"] = json!("in 1 hour");
        body["id"] = json!("python-sends-this");
        let request = SendRequest::parse(&body).unwrap();
        assert_eq!(request.reply_to, vec!["support@acme.dev"]);
        assert_eq!(request.scheduled_at.as_deref(), Some("in 1 hour"));
    }
}
