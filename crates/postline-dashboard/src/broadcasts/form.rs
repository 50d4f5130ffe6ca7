//! The editor's form as submitted, the JSON body it becomes (the same one `POST` and
//! `PATCH /broadcasts` take, with Postline's `markdown` and `style` extension), and
//! core's refusals placed beside the field they name.

use postline_core::{Error, Invalid, broadcasts::Broadcast, markdown::Style};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The editor as posted (also to the preview, which ignores the token's absence).
#[derive(Deserialize, Default, Clone, Debug)]
pub struct EditorForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub reply_to: String,
    #[serde(default)]
    pub preview_text: String,
    #[serde(default)]
    pub segment_id: String,
    #[serde(default)]
    pub topic_id: String,
    #[serde(default)]
    pub markdown: String,
    #[serde(default)]
    pub background_color: String,
    #[serde(default)]
    pub text_color: String,
    #[serde(default)]
    pub link_color: String,
    #[serde(default)]
    pub container_width: String,
}

/// Blank text is `null` (absent for optional fields, "missing" for required ones —
/// core says which).
fn text_or_null(raw: &str) -> Value {
    let raw = raw.trim();
    if raw.is_empty() { Value::Null } else { json!(raw) }
}

/// Comma- or newline-separated addresses as a list (blank ones dropped).
pub fn address_list(raw: &str) -> Vec<String> {
    raw.split([',', '\n', ';']).map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect()
}

impl EditorForm {
    /// The form filled from a stored broadcast: its Markdown and style when it was
    /// written that way (content written as HTML through the API has none).
    pub fn of(broadcast: &Broadcast) -> Self {
        let source = broadcast.source.as_ref();
        let style = |key: &str| {
            source.and_then(|s| s["style"].get(key)).map(|v| v.as_str().map_or(v.to_string(), str::to_string))
        };
        let defaults = Style::default();
        EditorForm {
            csrf: String::new(),
            name: broadcast.name.clone().unwrap_or_default(),
            from: broadcast.from.clone(),
            subject: broadcast.subject.clone(),
            reply_to: broadcast.reply_to.join(", "),
            preview_text: broadcast.preview_text.clone().unwrap_or_default(),
            segment_id: broadcast.segment_id.map(|s| s.to_string()).unwrap_or_default(),
            topic_id: broadcast.topic_id.map(|t| t.to_string()).unwrap_or_default(),
            markdown: source.and_then(|s| s["markdown"].as_str()).unwrap_or_default().to_string(),
            background_color: style("background_color").unwrap_or(defaults.background_color),
            text_color: style("text_color").unwrap_or(defaults.text_color),
            link_color: style("link_color").unwrap_or(defaults.link_color),
            container_width: style("container_width").unwrap_or(defaults.container_width.to_string()),
        }
    }

    /// A new broadcast's form: the default style, nothing else.
    pub fn blank() -> Self {
        let defaults = Style::default();
        EditorForm {
            background_color: defaults.background_color,
            text_color: defaults.text_color,
            link_color: defaults.link_color,
            container_width: defaults.container_width.to_string(),
            ..EditorForm::default()
        }
    }

    /// The Markdown as typed, with the browser's CRLF line ends made plain.
    fn markdown(&self) -> String {
        self.markdown.replace("\r\n", "\n")
    }

    /// The body `POST`/`PATCH /broadcasts` would get. `had_markdown`: the draft's
    /// content was written here, so an emptied body clears it; content written as
    /// HTML through the API is left alone while the Markdown box stays empty.
    pub fn body(&self, had_markdown: bool) -> Value {
        let mut body = Map::new();
        body.insert("name".into(), text_or_null(&self.name));
        body.insert("from".into(), text_or_null(&self.from));
        body.insert("subject".into(), if self.subject.trim().is_empty() { Value::Null } else { json!(self.subject) });
        let reply_to = address_list(&self.reply_to);
        body.insert("reply_to".into(), if reply_to.is_empty() { Value::Null } else { json!(reply_to) });
        body.insert("preview_text".into(), text_or_null(&self.preview_text));
        body.insert("segment_id".into(), text_or_null(&self.segment_id));
        body.insert("topic_id".into(), text_or_null(&self.topic_id));
        let markdown = self.markdown();
        if !markdown.trim().is_empty() {
            body.insert("markdown".into(), json!(markdown));
            body.insert("style".into(), Value::Object(self.style()));
        } else if had_markdown {
            for part in ["markdown", "html", "text"] {
                body.insert(part.into(), Value::Null);
            }
        }
        Value::Object(body)
    }

    /// The style fields given; a width that is not a number goes to core as typed, to
    /// be refused in its words.
    fn style(&self) -> Map<String, Value> {
        let mut style = Map::new();
        for (key, value) in [
            ("background_color", &self.background_color),
            ("text_color", &self.text_color),
            ("link_color", &self.link_color),
        ] {
            if !value.trim().is_empty() {
                style.insert(key.into(), json!(value.trim()));
            }
        }
        let width = self.container_width.trim();
        if !width.is_empty() {
            style.insert("container_width".into(), width.parse::<u64>().map_or(json!(width), |w| json!(w)));
        }
        style
    }
}

pub use crate::fields::FieldError;

/// The editor's fields, each with the names core's messages use for it.
const FIELDS: [(&str, &[&str]); 12] = [
    ("background_color", &["`style.background_color`"]),
    ("text_color", &["`style.text_color`"]),
    ("link_color", &["`style.link_color`"]),
    ("container_width", &["`style.container_width`"]),
    ("segment_id", &["`segment_id`", "`audience_id`"]),
    ("topic_id", &["`topic_id`"]),
    ("reply_to", &["`reply_to`"]),
    ("preview_text", &["`preview_text`"]),
    ("subject", &["`subject`"]),
    ("from", &["`from`"]),
    ("name", &["`name`"]),
    ("markdown", &["`markdown`", "`html`", "`text`", "`style`", "placeholder", "no content"]),
];

/// Core's refusal of the editor's input, on the field it names (the sender when the
/// domain is not verified); anything else is given back for [`crate::layout::failure`].
pub fn refusal(error: Error) -> Result<FieldError, Error> {
    let (kind, message) = match error {
        Error::Invalid { kind, message } => (Some(kind), message),
        Error::NotFound("Segment") => return Ok(FieldError::new("segment_id", "Choose one of your segments.")),
        Error::NotFound("Topic") => return Ok(FieldError::new("topic_id", "Choose one of your topics.")),
        Error::Forbidden(message) => return Ok(FieldError::new("from", message)),
        Error::Conflict(message) => return Ok(FieldError::new("markdown", message)),
        other => return Err(other),
    };
    let placed = match kind {
        Some(Invalid::FromAddress) => FieldError::new("from", message),
        _ => FieldError::on_mentioned(message, &FIELDS, "markdown"),
    };
    let message = match (kind, placed.field.as_str()) {
        (Some(Invalid::MissingField), "segment_id") => "Choose the segment to send to.",
        (Some(Invalid::MissingField), "from") => "Enter the sender, such as Acme <news@acme.dev>.",
        (Some(Invalid::MissingField), "subject") => "Enter the subject.",
        (Some(Invalid::MissingField), _) => "This field is required.",
        _ => return Ok(placed),
    };
    Ok(FieldError { message: message.to_string(), ..placed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> EditorForm {
        EditorForm {
            name: " November ".into(),
            from: "Acme <news@acme.dev>".into(),
            subject: "News for {{{FIRST_NAME|you}}}".into(),
            reply_to: "help@acme.dev, sales@acme.dev".into(),
            segment_id: "0190f0a2-0000-7000-8000-000000000000".into(),
            markdown: "# Hi\r\n\r\nThere".into(),
            container_width: "480".into(),
            ..EditorForm::blank()
        }
    }

    #[test]
    fn the_form_becomes_the_api_body_with_markdown_and_style() {
        let body = filled().body(false);
        assert_eq!(body["name"], "November");
        assert_eq!(body["reply_to"], json!(["help@acme.dev", "sales@acme.dev"]));
        assert_eq!(body["topic_id"], Value::Null, "no topic chosen");
        assert_eq!(body["preview_text"], Value::Null);
        assert_eq!(body["markdown"], "# Hi\n\nThere", "line ends as Markdown expects");
        assert_eq!(
            body["style"],
            json!({"background_color": "#f6f6f7", "text_color": "#111111", "link_color": "#0b66e4", "container_width": 480})
        );
        let wide = EditorForm { container_width: "wide".into(), ..filled() };
        assert_eq!(wide.body(false)["style"]["container_width"], "wide", "left for core to refuse");
    }

    #[test]
    fn an_empty_body_clears_markdown_content_but_leaves_html_from_the_api_alone() {
        let empty = EditorForm { markdown: " ".into(), ..filled() };
        let kept = empty.body(false);
        assert!(kept.get("markdown").is_none() && kept.get("html").is_none() && kept.get("style").is_none());
        let cleared = empty.body(true);
        assert_eq!((cleared["markdown"].clone(), cleared["html"].clone()), (Value::Null, Value::Null));
    }

    #[test]
    fn refusals_land_on_the_field_they_name() {
        let on = |error: Error| refusal(error).unwrap();
        assert_eq!(on(Error::missing("segment_id")).field, "segment_id");
        assert_eq!(on(Error::missing("from")).message, "Enter the sender, such as Acme <news@acme.dev>.");
        assert_eq!(on(Error::invalid(Invalid::FromAddress, "Invalid `from` field.")).field, "from");
        assert_eq!(
            on(Error::value("The `style.link_color` must be a hex colour such as `#1a2b3c`.")).field,
            "link_color"
        );
        assert_eq!(on(Error::value("The `reply_to` field can contain at most 10 addresses.")).field, "reply_to");
        assert_eq!(on(Error::value("Unknown placeholder `{{{compnay}}}`: use …")).field, "markdown");
        assert_eq!(on(Error::Forbidden("The x.dev domain is not verified.".into())).field, "from");
        assert_eq!(on(Error::NotFound("Topic")).field, "topic_id");
        assert!(refusal(Error::NotFound("Broadcast")).is_err());
    }

    #[test]
    fn a_stored_markdown_draft_fills_the_form_back() {
        let fields = postline_core::broadcasts::input::BroadcastFields::parse(&filled().body(false)).unwrap();
        let source = fields.source.flatten().unwrap();
        let mut broadcast = crate::broadcasts::tests::draft();
        broadcast.source = Some(source);
        broadcast.reply_to = vec!["a@b.dev".into(), "c@d.dev".into()];
        let form = EditorForm::of(&broadcast);
        assert_eq!((form.markdown.as_str(), form.container_width.as_str()), ("# Hi\n\nThere", "480"));
        assert_eq!((form.link_color.as_str(), form.reply_to.as_str()), ("#0b66e4", "a@b.dev, c@d.dev"));
    }
}
