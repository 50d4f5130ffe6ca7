//! `/contact-properties`: the custom fields a team defines for its contacts, and the
//! check every value given for a contact passes (known key, right type) before
//! anything is written.

use serde_json::{Map, Value};

use super::{ContactProperty, PropertyType};
use crate::{
    Error, Postline, Result,
    ids::{ContactPropertyId, TeamId},
    pagination::{Page, PageRequest},
};

/// Longest property key.
pub const MAX_KEY_CHARS: usize = 50;
/// Longest string value a contact property holds.
pub const MAX_STRING_VALUE_CHARS: usize = 2_000;
/// The fields every contact has; custom properties may not take their names.
pub const BUILT_IN: &[&str] = &["email", "first_name", "last_name", "unsubscribed"];

fn key(body: &Value) -> Result<String> {
    let raw = match body.get("key") {
        None | Some(Value::Null) => return Err(Error::missing("key")),
        Some(Value::String(raw)) => raw,
        Some(_) => return Err(Error::value("The `key` field must be a string.")),
    };
    if raw.is_empty()
        || raw.chars().count() > MAX_KEY_CHARS
        || !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Error::value(format!(
            "The `key` must be 1 to {MAX_KEY_CHARS} letters, digits or underscores, not `{raw}`."
        )));
    }
    if BUILT_IN.contains(&raw.as_str()) {
        return Err(Error::value(format!("`{raw}` is a built-in contact field; choose another key.")));
    }
    Ok(raw.clone())
}

fn property_type(body: &Value) -> Result<PropertyType> {
    match body.get("type") {
        None | Some(Value::Null) => Err(Error::missing("type")),
        Some(Value::String(raw)) => PropertyType::parse(raw)
            .ok_or_else(|| Error::value(format!("The `type` must be `string` or `number`, not `{raw}`."))),
        Some(_) => Err(Error::value("The `type` field must be a string.")),
    }
}

/// A value for a property of type `property_type`, named `what` in errors.
fn typed_value(value: &Value, property_type: PropertyType, what: &str) -> Result<Value> {
    if !property_type.admits(value) {
        return Err(Error::value(format!("{what} must be a {}, not `{value}`.", property_type.as_str())));
    }
    if let Value::String(text) = value
        && text.chars().count() > MAX_STRING_VALUE_CHARS
    {
        return Err(Error::value(format!("{what} must be at most {MAX_STRING_VALUE_CHARS} characters.")));
    }
    Ok(value.clone())
}

fn fallback(body: &Value, property_type: PropertyType) -> Result<Value> {
    match body.get("fallback_value") {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(value) => typed_value(value, property_type, "The `fallback_value`"),
    }
}

impl Postline {
    /// Defines a property (`POST /contact-properties`).
    pub async fn create_contact_property(&self, team_id: TeamId, body: &Value) -> Result<ContactProperty> {
        let key = key(body)?;
        let property_type = property_type(body)?;
        let property = ContactProperty {
            id: ContactPropertyId::new(),
            team_id,
            fallback_value: fallback(body, property_type)?,
            key,
            property_type,
            created_at: self.clock.now(),
        };
        if !self.store.insert_contact_property(&property).await? {
            return Err(Error::value(format!("A contact property with the key `{}` already exists.", property.key)));
        }
        Ok(property)
    }

    pub async fn get_contact_property(&self, team_id: TeamId, id: ContactPropertyId) -> Result<ContactProperty> {
        self.store.get_contact_property(team_id, id).await?.ok_or(Error::NotFound("Contact property"))
    }

    pub async fn list_contact_properties(&self, team_id: TeamId, page: PageRequest) -> Result<Page<ContactProperty>> {
        self.store.list_contact_properties(team_id, &page).await
    }

    /// Changes the fallback value; the key and type are fixed once created.
    pub async fn update_contact_property(
        &self,
        team_id: TeamId,
        id: ContactPropertyId,
        body: &Value,
    ) -> Result<ContactProperty> {
        let mut property = self.get_contact_property(team_id, id).await?;
        for (field, current) in [("key", property.key.as_str()), ("type", property.property_type.as_str())] {
            if let Some(given) = body.get(field).filter(|v| !v.is_null())
                && given.as_str() != Some(current)
            {
                return Err(Error::value(format!("A contact property's `{field}` cannot be changed.")));
            }
        }
        if body.get("fallback_value").is_some() {
            property.fallback_value = fallback(body, property.property_type)?;
        }
        if !self.store.save_contact_property(&property).await? {
            return Err(Error::NotFound("Contact property"));
        }
        Ok(property)
    }

    /// Deletes a property; contacts' values for it are no longer shown or used.
    pub async fn delete_contact_property(&self, team_id: TeamId, id: ContactPropertyId) -> Result<()> {
        if self.store.delete_contact_property(team_id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("Contact property"))
        }
    }

    /// Checks a `properties` object given for a contact: every key must be a property
    /// of the team (keys are case-sensitive) and every value of its type; `null`
    /// removes a value. One bad entry fails the whole call.
    pub(crate) async fn checked_properties(&self, team_id: TeamId, given: &Value) -> Result<Map<String, Value>> {
        let given = match given {
            Value::Null => return Ok(Map::new()),
            Value::Object(map) => map,
            _ => return Err(Error::value("The `properties` field must be an object of property keys and values.")),
        };
        if given.is_empty() {
            return Ok(Map::new());
        }
        let defined = self.store.contact_properties(team_id).await?;
        let mut checked = Map::new();
        for (key, value) in given {
            let Some(property) = defined.iter().find(|p| &p.key == key) else {
                return Err(Error::value(format!(
                    "`{key}` is not a contact property of this team; create it with POST /contact-properties first \
                     (keys are case-sensitive)."
                )));
            };
            let value = match value {
                Value::Null => Value::Null,
                value => typed_value(value, property.property_type, &format!("The value of `{key}`"))?,
            };
            checked.insert(key.clone(), value);
        }
        Ok(checked)
    }

    /// A contact's values as shown: only keys that are still properties of the team.
    pub(crate) async fn visible_properties(
        &self,
        team_id: TeamId,
        stored: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        if stored.is_empty() {
            return Ok(Map::new());
        }
        let defined = self.store.contact_properties(team_id).await?;
        Ok(stored
            .iter()
            .filter(|(k, _)| defined.iter().any(|p| &p.key == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_letters_digits_and_underscores_up_to_fifty() {
        assert_eq!(key(&json!({"key": "company_name"})).unwrap(), "company_name");
        assert_eq!(key(&json!({"key": "Plan2"})).unwrap(), "Plan2");
        assert!(key(&json!({"key": "x".repeat(50)})).is_ok());
        for bad in [json!("company-name"), json!(""), json!("x".repeat(51)), json!("naïve"), json!(3)] {
            assert!(key(&json!({ "key": bad })).is_err(), "{bad}");
        }
        assert!(key(&json!({})).is_err());
        assert!(key(&json!({"key": "email"})).is_err(), "built-in names are taken");
    }

    #[test]
    fn fallbacks_match_the_type() {
        assert_eq!(fallback(&json!({"fallback_value": "Acme"}), PropertyType::String).unwrap(), json!("Acme"));
        assert_eq!(fallback(&json!({"fallback_value": 3.5}), PropertyType::Number).unwrap(), json!(3.5));
        assert_eq!(fallback(&json!({}), PropertyType::Number).unwrap(), Value::Null);
        assert!(fallback(&json!({"fallback_value": "abc"}), PropertyType::Number).is_err());
        assert!(fallback(&json!({"fallback_value": 1}), PropertyType::String).is_err());
        assert!(fallback(&json!({"fallback_value": true}), PropertyType::String).is_err());
    }
}
