//! Sending with a template: the published version filled with the send's
//! `variables`, and `POST /emails`'s `template` expanded into ordinary fields.

use serde_json::{Map, Value};

use super::{Version, manage::TemplateRef};
use crate::{
    Error, Invalid, Postline, Result,
    ids::TeamId,
    personalise::{self, Content, built_in},
};

/// A published version filled in for one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub subject: Option<String>,
    pub html: String,
    pub text: Option<String>,
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // Objects and lists are shown as JSON (`{{{user.name}}}` reaches inside).
        other => Some(other.to_string()),
    }
}

/// Checks the send's values against the version's variables: each given key is
/// declared and of its type; each variable without a fallback is given.
fn check(version: &Version, given: &Map<String, Value>) -> Result<()> {
    for (key, value) in given {
        let Some(variable) = version.variables.iter().find(|v| v.key == *key) else {
            let declared: Vec<&str> = version.variables.iter().map(|v| v.key.as_str()).collect();
            return Err(Error::value(format!(
                "The template has no variable `{key}` (it has: {}).",
                if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
            )));
        };
        if !value.is_null() && !variable.kind.admits(value) {
            return Err(Error::value(format!("The template variable `{key}` must be a {}.", variable.kind.as_str())));
        }
    }
    // A variable needs a value when some placeholder uses it without a fallback of
    // its own and the variable has no fallback_value either.
    let parts = [version.subject.as_deref(), Some(version.html.as_str()), version.text.as_deref()];
    let bare: Vec<String> = parts
        .into_iter()
        .flatten()
        .flat_map(|part| {
            Content::parse(part)
                .names_without_fallback()
                .into_iter()
                .map(|n| n.split('.').next().unwrap_or(n).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let missing: Vec<&str> = version
        .variables
        .iter()
        .filter(|v| v.fallback_value.is_none() && given.get(&v.key).is_none_or(Value::is_null))
        .filter(|v| bare.contains(&v.key))
        .map(|v| v.key.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::invalid(
            Invalid::MissingField,
            format!("Missing template variables without a fallback: {}.", missing.join(", ")),
        ));
    }
    Ok(())
}

/// Fills the version: values are HTML-escaped in the HTML part; the unsubscribe
/// placeholder is left for the MTA.
pub fn fill(version: &Version, given: &Map<String, Value>) -> Result<Filled> {
    check(version, given)?;
    let lookup = |name: &str| -> personalise::Value {
        if built_in(name) == Some("RESEND_UNSUBSCRIBE_URL") {
            return personalise::Value::Unknown;
        }
        let mut path = name.split('.');
        let root = path.next().unwrap_or(name);
        let Some(variable) = version.variables.iter().find(|v| v.key == root) else {
            return personalise::Value::Unknown;
        };
        let start = given.get(root).filter(|v| !v.is_null()).or(variable.fallback_value.as_ref());
        let found = path.fold(start, |at, key| at.and_then(|v| v.get(key)));
        match found.and_then(as_text) {
            Some(text) => personalise::Value::Set(text),
            None => personalise::Value::Missing { default: None },
        }
    };
    Ok(Filled {
        subject: version.subject.as_deref().map(|s| Content::parse(s).render(false, lookup)),
        html: Content::parse(&version.html).render(true, lookup),
        text: version.text.as_deref().map(|t| Content::parse(t).render(false, lookup)),
    })
}

impl Postline {
    /// A `POST /emails` body (or batch item) with `template` as the ordinary body it
    /// stands for: the published version filled in, the template's `from`, `subject`
    /// and `reply_to` where the body has none. `None` when there is no `template`.
    pub async fn expand_template(&self, team_id: TeamId, body: &Value) -> Result<Option<Value>> {
        let Some(fields) = body.as_object() else { return Ok(None) };
        let spec = match fields.get("template") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(spec)) => spec,
            Some(_) => return Err(Error::value("The `template` field must be an object with an `id`.")),
        };
        let id = match spec.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.trim(),
            None | Some(Value::Null) => return Err(Error::missing("template.id")),
            Some(_) => return Err(Error::value("The `template.id` field must be a string.")),
        };
        if ["html", "text", "react"].iter().any(|f| fields.get(*f).is_some_and(|v| !v.is_null())) {
            return Err(Error::value("Give either `template` or `html`/`text`, not both."));
        }
        let empty = Map::new();
        let given = match spec.get("variables") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(given)) => given,
            Some(_) => return Err(Error::value("The `template.variables` field must be an object.")),
        };
        let template = self.get_template(team_id, &TemplateRef::parse(id)).await?;
        let Some(published) = &template.published else {
            return Err(Error::invalid(
                Invalid::Unprocessable,
                format!("The template `{id}` has not been published yet; publish it before sending with it."),
            ));
        };
        let filled = fill(published, given)?;
        let mut expanded = fields.clone();
        expanded.remove("template");
        expanded.insert("html".into(), Value::String(filled.html));
        if let Some(text) = filled.text {
            expanded.insert("text".into(), Value::String(text));
        }
        let absent = |map: &Map<String, Value>, key: &str| map.get(key).is_none_or(Value::is_null);
        if absent(&expanded, "from")
            && let Some(from) = &published.from
        {
            expanded.insert("from".into(), Value::String(from.clone()));
        }
        if absent(&expanded, "subject")
            && let Some(subject) = filled.subject
        {
            expanded.insert("subject".into(), Value::String(subject));
        }
        if absent(&expanded, "reply_to")
            && absent(&expanded, "replyTo")
            && let Some(reply_to) = &published.reply_to
        {
            expanded.insert("reply_to".into(), serde_json::json!(reply_to));
        }
        Ok(Some(Value::Object(expanded)))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::templates::{Variable, VariableType};

    fn version() -> Version {
        let now = chrono::Utc::now();
        let variable = |key: &str, kind, fallback: Option<Value>| Variable {
            id: uuid::Uuid::now_v7(),
            key: key.into(),
            kind,
            fallback_value: fallback,
            created_at: now,
            updated_at: now,
        };
        Version {
            id: uuid::Uuid::now_v7(),
            from: None,
            subject: Some("Welcome, {{{NAME}}}".into()),
            reply_to: None,
            html: "<p>{{{NAME}}} has {{{SEATS}}} seats on {{{user.plan|free}}} ({{{PRO}}}) {{{RESEND_UNSUBSCRIBE_URL}}}</p>"
                .into(),
            text: Some("{{{NAME}}}: {{{user}}}".into()),
            variables: vec![
                variable("NAME", VariableType::String, None),
                variable("SEATS", VariableType::Number, Some(json!(1))),
                variable("PRO", VariableType::Boolean, Some(json!(false))),
                variable("user", VariableType::Object, Some(json!({}))),
            ],
        }
    }

    #[test]
    fn values_fill_in_with_types_fallbacks_and_paths() {
        let given = json!({"NAME": "Ann & <Co>", "user": {"plan": "pro"}});
        let filled = fill(&version(), given.as_object().unwrap()).unwrap();
        assert_eq!(filled.subject.as_deref(), Some("Welcome, Ann & <Co>"));
        assert_eq!(filled.html, "<p>Ann &amp; &lt;Co&gt; has 1 seats on pro (false) {{{RESEND_UNSUBSCRIBE_URL}}}</p>");
        assert_eq!(filled.text.as_deref(), Some("Ann & <Co>: {\"plan\":\"pro\"}"));
        let fallback = fill(&version(), json!({"NAME": "Bo", "SEATS": 3}).as_object().unwrap()).unwrap();
        assert!(fallback.html.contains("3 seats on free"), "{}", fallback.html);
    }

    #[test]
    fn missing_unknown_and_mistyped_values_are_clear_errors() {
        let error = fill(&version(), &Map::new()).unwrap_err();
        assert!(matches!(error, Error::Invalid { kind: Invalid::MissingField, .. }), "{error:?}");
        assert!(error.to_string().contains("NAME"));
        let unknown = fill(&version(), json!({"NAME": "a", "NAM": "b"}).as_object().unwrap()).unwrap_err();
        assert!(unknown.to_string().contains("no variable `NAM`"), "{unknown}");
        let typed = fill(&version(), json!({"NAME": "a", "SEATS": "3"}).as_object().unwrap()).unwrap_err();
        assert!(typed.to_string().contains("must be a number"), "{typed}");
    }
}
