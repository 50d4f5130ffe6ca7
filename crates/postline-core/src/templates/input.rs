//! Validating template bodies. Create and update share one parser (every field
//! optional here; create then requires `name` and `html`). A body's `variables`
//! replace the whole list; a key kept keeps its id and creation time.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Variable, VariableType, Version};
use crate::{
    Error, Invalid, Result,
    clock::Timestamp,
    emails::{address::parse_mailbox, input::MAX_SUBJECT_CHARS},
    fields::{self, Change},
    personalise::{Content, built_in},
};

/// Longest name.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest alias.
pub const MAX_ALIAS_CHARS: usize = 64;
/// Most variables per template.
pub const MAX_VARIABLES: usize = 50;
/// Longest variable key.
pub const MAX_KEY_CHARS: usize = 50;

/// A declared variable as given: `(key, type, fallback)`.
pub type VariableSpec = (String, VariableType, Option<Value>);

/// What a create or update body asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateFields {
    pub name: Option<String>,
    pub alias: Change<String>,
    pub from: Change<String>,
    pub subject: Change<String>,
    pub reply_to: Change<Vec<String>>,
    pub html: Option<String>,
    pub text: Change<String>,
    /// `(key, type, fallback)` in the order given.
    pub variables: Option<Vec<VariableSpec>>,
}

/// An alias: lower-case letters, digits, `-` and `_`, not shaped like an id.
fn alias(raw: &str) -> Result<String> {
    let alias = raw.trim();
    let ok = !alias.is_empty()
        && alias.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        && uuid::Uuid::parse_str(alias).is_err();
    if ok {
        Ok(alias.to_string())
    } else {
        Err(Error::value(
            "The `alias` must be lower-case letters, digits, `-` and `_` (such as `welcome-email`), and not an id.",
        ))
    }
}

fn variables(fields: &Map<String, Value>) -> Result<Option<Vec<VariableSpec>>> {
    let list = match fields.get("variables") {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(Vec::new())),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(Error::value("The `variables` field must be an array of `{key, type, fallback_value}`."));
        }
    };
    if list.len() > MAX_VARIABLES {
        return Err(Error::value(format!("A template can have at most {MAX_VARIABLES} variables.")));
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        let Some(item) = item.as_object() else {
            return Err(Error::value(format!("variables[{index}] must be an object.")));
        };
        let key = match item.get("key") {
            None | Some(Value::Null) => return Err(Error::missing(&format!("variables[{index}].key"))),
            Some(Value::String(key)) => key.trim().to_string(),
            Some(_) => return Err(Error::value(format!("variables[{index}].key must be a string."))),
        };
        let valid = !key.is_empty()
            && key.chars().count() <= MAX_KEY_CHARS
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::value(format!(
                "variables[{index}].key `{key}` must be 1 to {MAX_KEY_CHARS} letters, digits and underscores."
            )));
        }
        if built_in(&key) == Some("RESEND_UNSUBSCRIBE_URL") {
            return Err(Error::value("`RESEND_UNSUBSCRIBE_URL` is filled in by Postline and cannot be a variable."));
        }
        if !seen.insert(key.clone()) {
            return Err(Error::value(format!("The variable `{key}` is declared twice.")));
        }
        let kind = match item.get("type") {
            None | Some(Value::Null) => return Err(Error::missing(&format!("variables[{index}].type"))),
            Some(Value::String(raw)) => VariableType::parse(raw).ok_or_else(|| {
                Error::value(format!(
                    "variables[{index}].type must be `string`, `number`, `boolean`, `object` or `list`, not `{raw}`."
                ))
            })?,
            Some(_) => return Err(Error::value(format!("variables[{index}].type must be a string."))),
        };
        let fallback = match item.get("fallback_value").or_else(|| item.get("fallbackValue")) {
            None | Some(Value::Null) => None,
            Some(value) if kind.admits(value) => Some(value.clone()),
            Some(_) => {
                return Err(Error::value(format!(
                    "The fallback_value of `{key}` must be a {} (its type).",
                    kind.as_str()
                )));
            }
        };
        parsed.push((key, kind, fallback));
    }
    Ok(Some(parsed))
}

impl TemplateFields {
    /// Validates a create or update body.
    pub fn parse(body: &Value) -> Result<Self> {
        let Value::Object(fields) = body else {
            return Err(Error::value("The request body must be a JSON object."));
        };
        let from = fields::text(fields, "from", 1000)?;
        if let Some(Some(raw)) = &from
            && parse_mailbox(raw).is_none()
        {
            return Err(Error::invalid(
                Invalid::FromAddress,
                "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
            ));
        }
        let subject = fields::text(fields, "subject", MAX_SUBJECT_CHARS)?;
        if let Some(Some(s)) = &subject
            && s.contains(['\r', '\n'])
        {
            return Err(Error::value("The `subject` field must be a single line."));
        }
        let name = match fields::text(fields, "name", MAX_NAME_CHARS)? {
            None => None,
            Some(Some(name)) if !name.trim().is_empty() => Some(name.trim().to_string()),
            Some(_) => return Err(Error::missing("name")),
        };
        let html = match fields::content(fields, "html")? {
            None => None,
            Some(Some(html)) if !html.trim().is_empty() => Some(html),
            Some(_) => return Err(Error::missing("html")),
        };
        let text = fields::content(fields, "text")?;
        let reply_to = match fields.get("reply_to").or_else(|| fields.get("replyTo")) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(_) => Some(Some(crate::emails::input::addresses(fields, "reply_to", &["reply_to", "replyTo"])?)),
        };
        Ok(TemplateFields {
            name,
            alias: fields::text(fields, "alias", MAX_ALIAS_CHARS)?
                .map(|a| a.map(|a| alias(&a)).transpose())
                .transpose()?,
            from: from.map(|f| f.map(|f| f.trim().to_string())),
            subject,
            reply_to,
            html,
            text,
            variables: variables(fields)?,
        })
    }
}

/// Applies fields to a version (a new one when `new_id` is given), keeping the ids of
/// variables whose key stays.
pub fn apply(version: &Version, fields: &TemplateFields, new_id: Option<uuid::Uuid>, now: Timestamp) -> Version {
    let mut next = version.clone();
    if let Some(id) = new_id {
        next.id = id;
    }
    if let Some(from) = &fields.from {
        next.from = from.clone();
    }
    if let Some(subject) = &fields.subject {
        next.subject = subject.clone();
    }
    if let Some(reply_to) = &fields.reply_to {
        next.reply_to = reply_to.clone();
    }
    if let Some(html) = &fields.html {
        next.html = html.clone();
    }
    if let Some(text) = &fields.text {
        next.text = text.clone();
    }
    if let Some(list) = &fields.variables {
        next.variables = list
            .iter()
            .map(|(key, kind, fallback)| match version.variables.iter().find(|v| v.key == *key) {
                Some(kept) => Variable {
                    kind: *kind,
                    fallback_value: fallback.clone(),
                    updated_at: if kept.kind != *kind || kept.fallback_value != *fallback {
                        now
                    } else {
                        kept.updated_at
                    },
                    ..kept.clone()
                },
                None => Variable {
                    id: uuid::Uuid::now_v7(),
                    key: key.clone(),
                    kind: *kind,
                    fallback_value: fallback.clone(),
                    created_at: now,
                    updated_at: now,
                },
            })
            .collect();
    }
    next
}

/// Every placeholder of the version names a declared variable (by its first dotted
/// part, so `{{{user.name}}}` needs `user`) or is the unsubscribe link.
pub fn check_placeholders(version: &Version) -> Result<()> {
    let parts = [version.subject.as_deref(), Some(version.html.as_str()), version.text.as_deref()];
    for part in parts.into_iter().flatten() {
        for name in Content::parse(part).names() {
            let root = name.split('.').next().unwrap_or(name);
            let declared = version.variables.iter().any(|v| v.key == root);
            if !declared && built_in(name) != Some("RESEND_UNSUBSCRIBE_URL") {
                return Err(Error::value(format!(
                    "The template uses `{{{{{{{name}}}}}}}`, which is not one of its variables; declare `{root}` in `variables`."
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kind_of(body: Value) -> Invalid {
        match TemplateFields::parse(&body) {
            Err(Error::Invalid { kind, .. }) => kind,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn variables_are_typed_unique_and_checked() {
        let fields = TemplateFields::parse(&json!({
            "name": "Welcome", "html": "<p>{{{NAME}}}</p>",
            "variables": [{"key": "NAME", "type": "string", "fallback_value": "there"}, {"key": "seats", "type": "number"}]
        }))
        .unwrap();
        let variables = fields.variables.unwrap();
        assert_eq!(variables[0], ("NAME".into(), VariableType::String, Some(json!("there"))));
        assert_eq!(variables[1].2, None);
        for body in [
            json!({"variables": [{"key": "a", "type": "date"}]}),
            json!({"variables": [{"key": "a", "type": "number", "fallback_value": "1"}]}),
            json!({"variables": [{"key": "a b", "type": "string"}]}),
            json!({"variables": [{"key": "a", "type": "string"}, {"key": "a", "type": "number"}]}),
            json!({"variables": [{"key": "RESEND_UNSUBSCRIBE_URL", "type": "string"}]}),
            json!({"alias": "Not An Alias"}),
            json!({"alias": uuid::Uuid::now_v7().to_string()}),
        ] {
            assert_eq!(kind_of(body), Invalid::Value);
        }
        assert_eq!(kind_of(json!({"variables": [{"type": "string"}]})), Invalid::MissingField);
        assert_eq!(kind_of(json!({"from": "nope"})), Invalid::FromAddress);
    }

    #[test]
    fn placeholders_must_be_declared_variables() {
        let now = chrono::Utc::now();
        let version = |html: &str, keys: &[&str]| Version {
            id: uuid::Uuid::now_v7(),
            from: None,
            subject: Some("Hi {{{NAME|there}}}".into()),
            reply_to: None,
            html: html.into(),
            text: None,
            variables: keys
                .iter()
                .map(|k| Variable {
                    id: uuid::Uuid::now_v7(),
                    key: k.to_string(),
                    kind: VariableType::String,
                    fallback_value: None,
                    created_at: now,
                    updated_at: now,
                })
                .collect(),
        };
        assert!(
            check_placeholders(&version("<p>{{{user.plan}}} {{{RESEND_UNSUBSCRIBE_URL}}}</p>", &["NAME", "user"]))
                .is_ok()
        );
        let error = check_placeholders(&version("<p>{{{PLAN}}}</p>", &["NAME"])).unwrap_err();
        assert!(error.to_string().contains("{{{PLAN}}}"), "{error}");
        assert!(check_placeholders(&version("<p>x</p>", &[])).is_err(), "the subject's NAME is undeclared");
    }
}
