//! A team's branding of its preferences page (`GET` / `PATCH /unsubscribe-page`, a
//! Postline extension): logo, colours and every piece of wording. Colours are
//! `#rgb` / `#rrggbb` and the logo an `http(s)` URL, so nothing a team saves can
//! inject markup or styles into the page; the page escapes all text anyway.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Postline, Result, ids::TeamId};

/// Longest logo URL.
pub const MAX_URL_CHARS: usize = 2048;

/// How a team's preferences page looks and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnsubscribePage {
    pub logo_url: Option<String>,
    pub company_name: Option<String>,
    pub background_color: String,
    pub text_color: String,
    pub accent_color: String,
    pub title: String,
    pub description: String,
    pub save_button: String,
    pub unsubscribe_button: String,
    pub saved_message: String,
    pub unsubscribed_message: String,
}

impl Default for UnsubscribePage {
    fn default() -> Self {
        UnsubscribePage {
            logo_url: None,
            company_name: None,
            background_color: "#f6f6f7".into(),
            text_color: "#111111".into(),
            accent_color: "#000000".into(),
            title: "Email preferences".into(),
            description: "Choose the emails you want to receive.".into(),
            save_button: "Save preferences".into(),
            unsubscribe_button: "Unsubscribe from all emails".into(),
            saved_message: "Your preferences have been saved.".into(),
            unsubscribed_message: "You have been unsubscribed from all emails.".into(),
        }
    }
}

/// The wording fields and their longest lengths.
const WORDING: [(&str, usize); 7] = [
    ("company_name", 100),
    ("title", 100),
    ("description", 500),
    ("save_button", 60),
    ("unsubscribe_button", 60),
    ("saved_message", 200),
    ("unsubscribed_message", 200),
];
const COLOURS: [&str; 3] = ["background_color", "text_color", "accent_color"];

pub(crate) fn is_colour(raw: &str) -> bool {
    let Some(hex) = raw.strip_prefix('#') else { return false };
    matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

fn check_url(raw: &str) -> Result<()> {
    let parsed = url::Url::parse(raw).map_err(|_| Error::value(format!("`logo_url` is not a valid URL: `{raw}`.")))?;
    if !matches!(parsed.scheme(), "https" | "http") || raw.chars().count() > MAX_URL_CHARS {
        return Err(Error::value(format!("`logo_url` must be an http(s) URL of at most {MAX_URL_CHARS} characters.")));
    }
    Ok(())
}

/// Applies a `PATCH` body to `page`: each field given replaces the saved one, and
/// `null` puts its default back. Unknown fields are refused so typos are noticed.
fn apply(page: &UnsubscribePage, body: &Value) -> Result<UnsubscribePage> {
    let Value::Object(fields) = body else {
        return Err(Error::value("The body must be a JSON object."));
    };
    let defaults = serde_json::to_value(UnsubscribePage::default()).expect("serializes");
    let mut merged: Map<String, Value> = match serde_json::to_value(page).expect("serializes") {
        Value::Object(map) => map,
        _ => unreachable!("a struct serializes to an object"),
    };
    for (name, value) in fields {
        if name == "object" {
            continue;
        }
        let max = WORDING.iter().find(|(field, _)| field == name).map(|(_, max)| *max);
        let known = max.is_some() || COLOURS.contains(&name.as_str()) || name == "logo_url";
        if !known {
            return Err(Error::value(format!("`{name}` is not a setting of the unsubscribe page.")));
        }
        let text = match value {
            Value::Null => {
                merged.insert(name.clone(), defaults[name].clone());
                continue;
            }
            Value::String(text) => text.trim(),
            _ => return Err(Error::value(format!("The `{name}` field must be a string or null."))),
        };
        if let Some(max) = max
            && (text.is_empty() || text.chars().count() > max)
        {
            return Err(Error::value(format!("The `{name}` must be 1 to {max} characters.")));
        }
        if COLOURS.contains(&name.as_str()) && !is_colour(text) {
            return Err(Error::value(format!("The `{name}` must be a hex colour such as `#1a2b3c`, not `{text}`.")));
        }
        if name == "logo_url" {
            check_url(text)?;
        }
        merged.insert(name.clone(), Value::String(text.to_string()));
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| Error::Internal(format!("unsubscribe page: {e}")))
}

impl Postline {
    /// The team's preferences page settings (the defaults until it saves some).
    pub async fn unsubscribe_page(&self, team_id: TeamId) -> Result<UnsubscribePage> {
        Ok(match self.store.unsubscribe_page(team_id).await? {
            // Saved settings were checked when saved; unknown or missing fields fall
            // back to defaults so a newer or older version reads them.
            Some(saved) => serde_json::from_value(saved).unwrap_or_default(),
            None => UnsubscribePage::default(),
        })
    }

    /// Changes the team's preferences page settings (`PATCH /unsubscribe-page`).
    pub async fn update_unsubscribe_page(&self, team_id: TeamId, body: &Value) -> Result<UnsubscribePage> {
        let page = apply(&self.unsubscribe_page(team_id).await?, body)?;
        let saved = serde_json::to_value(&page).expect("serializes");
        self.store.save_unsubscribe_page(team_id, &saved, self.clock.now()).await?;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_checked_and_null_restores_the_default() {
        let base = UnsubscribePage::default();
        let page = apply(
            &base,
            &json!({"title": " Acme news ", "accent_color": "#FF5500", "logo_url": "https://acme.dev/logo.png"}),
        )
        .unwrap();
        assert_eq!(page.title, "Acme news");
        assert_eq!(page.accent_color, "#FF5500");
        assert_eq!(page.logo_url.as_deref(), Some("https://acme.dev/logo.png"));
        let reset = apply(&page, &json!({"title": null, "logo_url": null})).unwrap();
        assert_eq!(reset.title, base.title);
        assert_eq!(reset.logo_url, None);
        assert_eq!(reset.accent_color, "#FF5500", "fields not named stay");
        for bad in [
            json!({"accent_color": "red"}),
            json!({"accent_color": "#12345"}),
            json!({"background_color": "#fff;background:url(x)"}),
            json!({"logo_url": "javascript:alert(1)"}),
            json!({"logo_url": "not a url"}),
            json!({"title": ""}),
            json!({"title": "x".repeat(101)}),
            json!({"title": 5}),
            json!({"colour": "#fff"}),
            json!([]),
        ] {
            assert!(apply(&base, &bad).is_err(), "{bad} was accepted");
        }
    }
}
