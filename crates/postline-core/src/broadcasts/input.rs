//! Validating broadcast bodies. Create and update share one parser: every field is
//! optional here (`null` clears an optional one), and creating checks afterwards that
//! the required ones ended up set. Unknown fields are ignored (the Python SDK repeats
//! the id in update bodies).
//!
//! Postline's extension: `markdown` (instead of `html`) with an optional `style`
//! (`background_color`, `text_color`, `link_color`, `container_width`) makes the HTML
//! part in an email-safe layout and, unless `text` is given, the plain-text part.

use serde_json::{Map, Value, json};

use crate::{
    Error, Invalid, Result,
    emails::{address::parse_mailbox, input::MAX_SUBJECT_CHARS},
    fields::{self, Change},
    ids::{SegmentId, TopicId},
    markdown::{self, Style},
};

/// Longest name.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest preview text.
pub const MAX_PREVIEW_CHARS: usize = 500;
/// Most reply-to addresses.
pub const MAX_REPLY_TO: usize = 10;

/// What a create or update body asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BroadcastFields {
    pub name: Change<String>,
    pub segment_id: Change<SegmentId>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub reply_to: Change<Vec<String>>,
    pub preview_text: Change<String>,
    pub html: Change<String>,
    pub text: Change<String>,
    /// Markdown source with its style, as stored (`{markdown, style}`).
    pub source: Change<Value>,
    pub topic_id: Change<TopicId>,
    /// `send: true` on create.
    pub send: bool,
    pub scheduled_at: Option<String>,
}

fn id<T>(fields: &Map<String, Value>, names: &[&str], parse: impl Fn(&str) -> Result<T>) -> Result<Change<T>> {
    for name in names {
        match fields.get(*name) {
            None => continue,
            Some(Value::Null) => return Ok(Some(None)),
            Some(Value::String(raw)) => return parse(raw).map(|id| Some(Some(id))),
            Some(_) => return Err(Error::parameter(format!("The `{}` field must be a string.", names[0]))),
        }
    }
    Ok(None)
}

fn reply_to(fields: &Map<String, Value>) -> Result<Change<Vec<String>>> {
    let names = ["reply_to", "replyTo"];
    match names.iter().find_map(|n| fields.get(*n)) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(_) => {
            let list = crate::emails::input::addresses(fields, "reply_to", &names)?;
            if list.len() > MAX_REPLY_TO {
                return Err(Error::value(format!(
                    "The `reply_to` field can contain at most {MAX_REPLY_TO} addresses."
                )));
            }
            Ok(Some(Some(list)))
        }
    }
}

fn style(fields: &Map<String, Value>) -> Result<Style> {
    let mut style = Style::default();
    let given = match fields.get("style") {
        None | Some(Value::Null) => return Ok(style),
        Some(Value::Object(given)) => given,
        Some(_) => return Err(Error::value("The `style` field must be an object.")),
    };
    for (key, value) in given {
        let colour = |value: &Value| match value.as_str() {
            Some(raw) if crate::audience::unsubscribe_page::is_colour(raw) => Ok(raw.to_string()),
            _ => Err(Error::value(format!("The `style.{key}` must be a hex colour such as `#1a2b3c`."))),
        };
        match key.as_str() {
            "background_color" => style.background_color = colour(value)?,
            "text_color" => style.text_color = colour(value)?,
            "link_color" => style.link_color = colour(value)?,
            "container_width" => {
                style.container_width = value.as_u64().filter(|w| (320..=1200).contains(w)).ok_or_else(|| {
                    Error::value("The `style.container_width` must be a number of pixels from 320 to 1200.")
                })? as u32
            }
            other => {
                return Err(Error::value(format!(
                    "The `style` has no `{other}`; it takes `background_color`, `text_color`, `link_color` and `container_width`."
                )));
            }
        }
    }
    Ok(style)
}

impl BroadcastFields {
    /// Validates a create or update body.
    pub fn parse(body: &Value) -> Result<Self> {
        let Value::Object(fields) = body else {
            return Err(Error::value("The request body must be a JSON object."));
        };
        let from = match fields::text(fields, "from", 1000)? {
            None => None,
            Some(None) => return Err(Error::missing("from")),
            Some(Some(raw)) => {
                if parse_mailbox(&raw).is_none() {
                    return Err(Error::invalid(
                        Invalid::FromAddress,
                        "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
                    ));
                }
                Some(raw.trim().to_string())
            }
        };
        let subject = match fields::text(fields, "subject", MAX_SUBJECT_CHARS)? {
            None => None,
            Some(None) => return Err(Error::missing("subject")),
            Some(Some(s)) if s.contains(['\r', '\n']) => {
                return Err(Error::value("The `subject` field must be a single line."));
            }
            Some(Some(s)) => Some(s),
        };
        let mut html = fields::content(fields, "html")?;
        let mut text = fields::content(fields, "text")?;
        let mut source = None;
        match fields::content(fields, "markdown")? {
            Some(Some(_)) if matches!(html, Some(Some(_))) => {
                return Err(Error::value("Give either `html` or `markdown`, not both."));
            }
            Some(Some(md)) => {
                let style = style(fields)?;
                html = Some(Some(markdown::to_email_html(&md, &style)));
                if !matches!(text, Some(Some(_))) {
                    text = Some(Some(markdown::to_text(&md)));
                }
                source = Some(Some(json!({
                    "markdown": md,
                    "style": {
                        "background_color": style.background_color,
                        "text_color": style.text_color,
                        "link_color": style.link_color,
                        "container_width": style.container_width,
                    }
                })));
            }
            Some(None) => source = Some(None),
            None if fields.get("style").is_some_and(|s| !s.is_null()) => {
                return Err(Error::value("The `style` applies to `markdown` content; give `markdown` with it."));
            }
            None if html.is_some() => source = Some(None),
            None => {}
        }
        let send = match fields.get("send") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(Error::value("The `send` field must be a boolean.")),
        };
        let scheduled_at =
            match fields::text(fields, "scheduled_at", 200)?.or(fields::text(fields, "scheduledAt", 200)?) {
                Some(Some(raw)) => Some(raw),
                _ => None,
            };
        Ok(BroadcastFields {
            name: fields::text(fields, "name", MAX_NAME_CHARS)?,
            segment_id: id(fields, &["segment_id", "audience_id", "segmentId", "audienceId"], SegmentId::parse)?,
            from,
            subject,
            reply_to: reply_to(fields)?,
            preview_text: fields::text(fields, "preview_text", MAX_PREVIEW_CHARS)?,
            html,
            text,
            source,
            topic_id: id(fields, &["topic_id", "topicId"], TopicId::parse)?,
            send,
            scheduled_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_spellings_and_clearing_are_understood() {
        let segment = SegmentId::new();
        let fields = BroadcastFields::parse(&json!({
            "audienceId": segment.to_string(), "from": " Acme <news@acme.dev> ", "subject": "Hi",
            "replyTo": "help@acme.dev", "preview_text": null, "id": "ignored"
        }))
        .unwrap();
        assert_eq!(fields.segment_id, Some(Some(segment)));
        assert_eq!(fields.from.as_deref(), Some("Acme <news@acme.dev>"));
        assert_eq!(fields.reply_to, Some(Some(vec!["help@acme.dev".to_string()])));
        assert_eq!(fields.preview_text, Some(None), "null clears");
        assert_eq!(fields.html, None, "absent stays unchanged");
    }

    #[test]
    fn each_wrong_field_gets_its_own_error() {
        let kind = |body: Value| match BroadcastFields::parse(&body) {
            Err(Error::Invalid { kind, .. }) => kind,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(kind(json!({"from": "not an address"})), Invalid::FromAddress);
        assert_eq!(kind(json!({"segment_id": "nope"})), Invalid::Parameter);
        assert_eq!(kind(json!({"subject": "two\nlines"})), Invalid::Value);
        assert_eq!(kind(json!({"send": "yes"})), Invalid::Value);
        assert_eq!(kind(json!({"html": "<p>x</p>", "markdown": "x"})), Invalid::Value);
        assert_eq!(kind(json!({"style": {"link_color": "#fff"}})), Invalid::Value, "style needs markdown");
        assert_eq!(kind(json!({"markdown": "x", "style": {"link_color": "red"}})), Invalid::Value);
        assert_eq!(kind(json!({"markdown": "x", "style": {"container_width": 5000}})), Invalid::Value);
        assert_eq!(kind(json!({"reply_to": vec!["a@b.c"; 11]})), Invalid::Value);
        assert_eq!(kind(json!({"from": null})), Invalid::MissingField);
    }

    #[test]
    fn markdown_makes_both_parts_in_the_style_given() {
        let fields = BroadcastFields::parse(&json!({
            "markdown": "# News\n\nHello **{{{FIRST_NAME|there}}}**, see [our site](https://acme.dev).",
            "style": {"link_color": "#ff5500", "container_width": 480}
        }))
        .unwrap();
        let html = fields.html.flatten().unwrap();
        assert!(html.contains("#ff5500") && html.contains("480"), "{html}");
        assert!(html.contains("{{{FIRST_NAME|there}}}"), "placeholders survive for personalisation");
        let text = fields.text.flatten().unwrap();
        assert!(text.contains("our site (https://acme.dev)"), "{text}");
        assert_eq!(fields.source.flatten().unwrap()["style"]["container_width"], 480);
    }
}
