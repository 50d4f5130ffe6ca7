//! Personalisation: `{{{NAME}}}` and `{{{NAME|fallback}}}` placeholders in subjects
//! and bodies, filled per recipient.
//!
//! A content string is parsed once into literal text and fields ([`Content`]), then
//! rendered per recipient by a lookup that knows the contact (`FIRST_NAME`,
//! `LAST_NAME`, `EMAIL`, `RESEND_UNSUBSCRIBE_URL`, custom properties by key). A
//! value missing for a recipient takes the placeholder's own fallback, else the
//! default the lookup gives (a property's `fallback_value`), else nothing. Values
//! are HTML-escaped in HTML parts (a contact named `<script>` stays text), and
//! inserted as they are in subjects and plain text. Names are checked before
//! anything is sent ([`Content::unknown_names`]), so a typo is an error rather than
//! braces in thousands of inboxes.

/// One piece of parsed content.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field { name: String, fallback: Option<String> },
}

/// Content with its placeholders found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pieces: Vec<Piece>,
}

/// Built-in names every recipient has (matched case-insensitively).
pub const BUILT_IN: [&str; 4] = ["FIRST_NAME", "LAST_NAME", "EMAIL", "RESEND_UNSUBSCRIBE_URL"];

/// What a lookup says about one name for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The recipient's value.
    Set(String),
    /// The recipient has none; use the placeholder's fallback, else this default.
    Missing { default: Option<String> },
    /// Not a name this lookup knows.
    Unknown,
}

impl Content {
    /// Finds the placeholders. Text that only looks like one (unclosed, or with an
    /// empty or malformed name) stays text.
    pub fn parse(raw: &str) -> Content {
        let mut pieces = Vec::new();
        let mut rest = raw;
        let mut text = String::new();
        while let Some(start) = rest.find("{{{") {
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}}") else { break };
            let inner = &after[..end];
            let (name, fallback) = match inner.split_once('|') {
                Some((name, fallback)) => (name.trim(), Some(fallback.trim().to_string())),
                None => (inner.trim(), None),
            };
            if valid_name(name) {
                text.push_str(&rest[..start]);
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Field { name: name.to_string(), fallback });
                rest = &after[end + 3..];
            } else {
                text.push_str(&rest[..start + 3]);
                rest = after;
            }
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Content { pieces }
    }

    /// Whether there is anything to fill in.
    pub fn has_fields(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Field { .. }))
    }

    /// The names used, each once, in order.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for piece in &self.pieces {
            if let Piece::Field { name, .. } = piece
                && !names.contains(&name.as_str())
            {
                names.push(name);
            }
        }
        names
    }

    /// The names used at least once without a fallback of their own.
    pub fn names_without_fallback(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for piece in &self.pieces {
            if let Piece::Field { name, fallback: None } = piece
                && !names.contains(&name.as_str())
            {
                names.push(name);
            }
        }
        names
    }

    /// The names `lookup` does not know.
    pub fn unknown_names(&self, lookup: impl Fn(&str) -> Value) -> Vec<String> {
        self.names().into_iter().filter(|name| lookup(name) == Value::Unknown).map(str::to_string).collect()
    }

    /// The content for one recipient; `html` escapes the inserted values. An unknown
    /// name is left as it was written.
    pub fn render(&self, html: bool, lookup: impl Fn(&str) -> Value) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Field { name, fallback } => {
                    let value = match lookup(name) {
                        Value::Set(value) => value,
                        Value::Missing { default } => fallback.clone().or(default).unwrap_or_default(),
                        Value::Unknown => {
                            out.push_str("{{{");
                            out.push_str(name);
                            if let Some(fallback) = fallback {
                                out.push('|');
                                out.push_str(fallback);
                            }
                            out.push_str("}}}");
                            continue;
                        }
                    };
                    if html {
                        out.push_str(&escape_html(&value));
                    } else {
                        out.push_str(&value);
                    }
                }
            }
        }
        out
    }
}

/// A name: letters, digits, `_`, `.` and `-` (`contact.first_name` style too).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The built-in name `name` stands for, if any: `FIRST_NAME` in any case, or the
/// `contact.first_name` form.
pub fn built_in(name: &str) -> Option<&'static str> {
    let upper = name.strip_prefix("contact.").unwrap_or(name).to_ascii_uppercase();
    BUILT_IN.into_iter().find(|b| *b == upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Value {
        match built_in(name) {
            Some("FIRST_NAME") => Value::Set("Ann <admin>".into()),
            Some("LAST_NAME") => Value::Missing { default: None },
            Some("EMAIL") => Value::Set("ann@acme.dev".into()),
            Some(_) => Value::Set("https://x.dev/u/t".into()),
            None => match name {
                "plan" => Value::Missing { default: Some("free".into()) },
                "company" => Value::Set("Acme & Co".into()),
                _ => Value::Unknown,
            },
        }
    }

    #[test]
    fn values_fill_in_and_fallbacks_cover_missing_ones() {
        let content = Content::parse("Hi {{{FIRST_NAME|there}}} {{{ LAST_NAME | Smith }}}, plan {{{plan}}}.");
        assert_eq!(content.render(false, lookup), "Hi Ann <admin> Smith, plan free.");
        let no_fallback = Content::parse("[{{{LAST_NAME}}}] {{{plan|pro}}} {{{contact.email}}}");
        assert_eq!(no_fallback.render(false, lookup), "[] pro ann@acme.dev", "the call's fallback wins");
    }

    #[test]
    fn html_escapes_inserted_values_but_not_the_template() {
        let content = Content::parse("<p>{{{FIRST_NAME}}} at {{{company}}}</p>");
        assert_eq!(content.render(true, lookup), "<p>Ann &lt;admin&gt; at Acme &amp; Co</p>");
        assert_eq!(content.render(false, lookup), "<p>Ann <admin> at Acme & Co</p>");
    }

    #[test]
    fn unknown_names_are_reported_and_left_as_written() {
        let content = Content::parse("{{{FIRST_NAME}}} {{{PLAN}}} {{{nope|x}}} {{{PLAN}}}");
        assert_eq!(content.unknown_names(lookup), ["PLAN", "nope"], "properties are case-sensitive");
        assert_eq!(content.render(false, lookup), "Ann <admin> {{{PLAN}}} {{{nope|x}}} {{{PLAN}}}");
    }

    #[test]
    fn things_that_only_look_like_placeholders_stay_text() {
        for raw in ["{{{ }}}", "{{{not closed", "{{name}}", "{{{a b}}}", "{{{{FIRST_NAME}}}}", "}}} {{{"] {
            let content = Content::parse(raw);
            assert_eq!(content.render(false, lookup), raw);
            assert!(!content.has_fields(), "{raw}");
        }
    }
}
