//! A broadcast's content for one recipient.
//!
//! When the fan-out queues a contact's email it resolves every placeholder the
//! broadcast uses against the contact (and the team's property defaults) and keeps
//! only those values with the email ([`values_for`]). Sending or reading the email
//! fills the broadcast's HTML and text from them ([`fill`]); the subject is filled
//! at once (it is short). `{{{RESEND_UNSUBSCRIBE_URL}}}` is left for the MTA, which
//! knows the recipient's signed link.

use serde_json::{Map, Value, json};

use super::{Broadcast, FromBroadcast};
use crate::{
    audience::{Contact, ContactProperty},
    emails::Email,
    personalise::{self, Content, built_in, escape_html},
};

/// Where the body mentions the recipient's unsubscribe link (Resend's placeholder).
pub const UNSUBSCRIBE_PLACEHOLDER: &str = "{{{RESEND_UNSUBSCRIBE_URL}}}";

/// The parts of a broadcast placeholders may appear in.
fn parts(broadcast: &Broadcast) -> impl Iterator<Item = &str> {
    [Some(&broadcast.subject), broadcast.html.as_ref(), broadcast.text.as_ref(), broadcast.preview_text.as_ref()]
        .into_iter()
        .flatten()
        .map(String::as_str)
}

/// Every placeholder name the broadcast uses, each once.
pub fn placeholder_names(broadcast: &Broadcast) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for part in parts(broadcast) {
        for name in Content::parse(part).names() {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The names neither built in nor a contact property of the team.
pub fn unknown_names(broadcast: &Broadcast, properties: &[ContactProperty]) -> Vec<String> {
    placeholder_names(broadcast)
        .into_iter()
        .filter(|name| built_in(name).is_none() && !properties.iter().any(|p| p.key == *name))
        .collect()
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What `contact` gives for `name`.
pub fn contact_value(contact: &Contact, properties: &[ContactProperty], name: &str) -> personalise::Value {
    let present = |value: Option<&String>| match value.filter(|v| !v.trim().is_empty()) {
        Some(value) => personalise::Value::Set(value.clone()),
        None => personalise::Value::Missing { default: None },
    };
    match built_in(name) {
        Some("FIRST_NAME") => present(contact.first_name.as_ref()),
        Some("LAST_NAME") => present(contact.last_name.as_ref()),
        Some("EMAIL") => personalise::Value::Set(contact.email.clone()),
        Some(_) => personalise::Value::Set(UNSUBSCRIBE_PLACEHOLDER.to_string()),
        None => match properties.iter().find(|p| p.key == name) {
            None => personalise::Value::Unknown,
            Some(property) => match contact.properties.get(name).and_then(scalar_text) {
                Some(value) => personalise::Value::Set(value),
                None => personalise::Value::Missing { default: scalar_text(&property.fallback_value) },
            },
        },
    }
}

/// The values to keep with a contact's email: one per name the broadcast uses.
pub fn values_for(contact: &Contact, properties: &[ContactProperty], names: &[String]) -> Map<String, Value> {
    let mut values = Map::new();
    for name in names {
        if built_in(name) == Some("RESEND_UNSUBSCRIBE_URL") {
            continue;
        }
        let stored = match contact_value(contact, properties, name) {
            personalise::Value::Set(value) => json!(value),
            personalise::Value::Missing { default } => json!({"missing": default}),
            personalise::Value::Unknown => continue,
        };
        values.insert(name.clone(), stored);
    }
    values
}

/// What the stored `values` give for `name`.
pub fn stored_value(values: &Map<String, Value>, name: &str) -> personalise::Value {
    if built_in(name) == Some("RESEND_UNSUBSCRIBE_URL") {
        return personalise::Value::Set(UNSUBSCRIBE_PLACEHOLDER.to_string());
    }
    match values.get(name) {
        Some(Value::String(value)) => personalise::Value::Set(value.clone()),
        Some(Value::Object(missing)) => {
            personalise::Value::Missing { default: missing.get("missing").and_then(Value::as_str).map(str::to_string) }
        }
        _ => personalise::Value::Unknown,
    }
}

/// Renders one part with the recipient's values (`html` escapes them).
pub fn render(part: &str, html: bool, values: &Map<String, Value>) -> String {
    Content::parse(part).render(html, |name| stored_value(values, name))
}

/// The hidden preheader most clients show next to the subject, placed first in the body.
fn with_preview(html: String, preview: &str) -> String {
    let hidden = format!(
        "<div style=\"display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all\">{}</div>",
        escape_html(preview)
    );
    let lower = html.to_ascii_lowercase();
    match lower.find("<body").and_then(|start| lower[start..].find('>').map(|end| start + end + 1)) {
        Some(after_body) => format!("{}{hidden}{}", &html[..after_body], &html[after_body..]),
        None => format!("{hidden}{html}"),
    }
}

/// The HTML part for a recipient with these values (preview text first, hidden).
pub fn html_for(broadcast: &Broadcast, values: &Map<String, Value>) -> Option<String> {
    broadcast.html.as_deref().map(|html| {
        let body = render(html, true, values);
        match &broadcast.preview_text {
            Some(preview) if !preview.trim().is_empty() => with_preview(body, &render(preview, false, values)),
            _ => body,
        }
    })
}

/// The text part for a recipient with these values.
pub fn text_for(broadcast: &Broadcast, values: &Map<String, Value>) -> Option<String> {
    broadcast.text.as_deref().map(|text| render(text, false, values))
}

/// Fills a broadcast email's HTML and text parts for its recipient.
pub fn fill(email: &mut Email, broadcast: &Broadcast) {
    let Some(link) = &email.broadcast else { return };
    email.html = html_for(broadcast, &link.values);
    email.text = text_for(broadcast, &link.values);
}

impl crate::Postline {
    /// Fills the content of the broadcast emails among `emails`, reading each
    /// broadcast once. A broadcast deleted since leaves its emails' parts empty.
    pub async fn fill_broadcast_content(&self, emails: &mut [&mut Email]) -> crate::Result<()> {
        let mut broadcasts: std::collections::HashMap<crate::ids::BroadcastId, Option<Broadcast>> =
            std::collections::HashMap::new();
        for email in emails.iter_mut() {
            let Some(link) = &email.broadcast else { continue };
            let id = link.broadcast_id;
            let broadcast = match broadcasts.entry(id) {
                std::collections::hash_map::Entry::Occupied(found) => found.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(self.store.get_broadcast(email.team_id, id).await?)
                }
            };
            if let Some(broadcast) = broadcast {
                fill(email, broadcast);
            }
        }
        Ok(())
    }
}

/// The link kept with a contact's email.
pub fn link(
    broadcast: &Broadcast,
    contact: &Contact,
    properties: &[ContactProperty],
    names: &[String],
) -> FromBroadcast {
    FromBroadcast { broadcast_id: broadcast.id, contact_id: contact.id, values: values_for(contact, properties, names) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        audience::PropertyType,
        ids::{ContactId, ContactPropertyId, TeamId},
    };

    fn contact() -> Contact {
        let mut properties = Map::new();
        properties.insert("company".into(), json!("Acme & <Co>"));
        properties.insert("seats".into(), json!(12));
        Contact {
            id: ContactId::new(),
            team_id: TeamId::new(),
            email: "ann@acme.dev".into(),
            first_name: Some("Ann".into()),
            last_name: None,
            unsubscribed: false,
            properties,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn property(key: &str, fallback: Value) -> ContactProperty {
        ContactProperty {
            id: ContactPropertyId::new(),
            team_id: TeamId::new(),
            key: key.into(),
            property_type: PropertyType::String,
            fallback_value: fallback,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn stored_values_render_like_the_contact_with_fallbacks_and_defaults() {
        let properties =
            [property("company", Value::Null), property("seats", Value::Null), property("plan", json!("free"))];
        let names: Vec<String> =
            ["FIRST_NAME", "LAST_NAME", "company", "seats", "plan", "RESEND_UNSUBSCRIBE_URL", "EMAIL"]
                .map(String::from)
                .to_vec();
        let values = values_for(&contact(), &properties, &names);
        assert!(!values.contains_key("RESEND_UNSUBSCRIBE_URL"), "the MTA fills the link");
        let part = "Hi {{{FIRST_NAME|there}}} {{{LAST_NAME|Doe}}} of {{{company}}} ({{{seats}}} seats, {{{plan}}} plan, \
                    {{{plan|pro}}}) {{{EMAIL}}} {{{RESEND_UNSUBSCRIBE_URL}}}";
        assert_eq!(
            render(part, false, &values),
            "Hi Ann Doe of Acme & <Co> (12 seats, free plan, pro) ann@acme.dev {{{RESEND_UNSUBSCRIBE_URL}}}"
        );
        assert!(render(part, true, &values).contains("Acme &amp; &lt;Co&gt;"), "values are escaped in HTML");
    }

    #[test]
    fn unknown_names_are_those_neither_built_in_nor_defined() {
        let mut broadcast = crate::broadcasts::sample_draft();
        broadcast.subject = "News for {{{first_name}}}".into();
        broadcast.html = Some("<p>{{{company}}} {{{compnay|x}}} {{{contact.email}}}</p>".into());
        assert_eq!(unknown_names(&broadcast, &[property("company", Value::Null)]), ["compnay"]);
    }

    #[test]
    fn the_preview_text_goes_first_in_the_body_hidden() {
        let html = with_preview("<html><BODY class=x><p>Hi</p></body></html>".into(), "Soon & more");
        assert!(html.starts_with("<html><BODY class=x><div style=\"display:none"), "{html}");
        assert!(html.contains("Soon &amp; more</div><p>Hi</p>"));
        assert!(with_preview("<p>Hi</p>".into(), "x").starts_with("<div"));
    }
}
