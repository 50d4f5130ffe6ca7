//! `/contacts`: create, read, change and delete a team's contacts, found by id or by
//! email address (raw or percent-encoded in paths — the router decodes; a `+` stays a
//! plus). Creating can also put the contact in segments and record topic choices, all
//! in the transaction that writes it and its `contact.created` event.

use serde_json::{Map, Value};

use super::{Contact, Subscription, contact_event};
use crate::{
    Error, Postline, Result,
    delivery::suppression::normalize,
    emails::address::valid_address,
    ids::{ContactId, SegmentId, TeamId, TopicId},
    pagination::{Page, PageRequest},
    store::{ContactRef, ContactWrite},
};

/// Longest first or last name.
pub const MAX_NAME_CHARS: usize = 256;
/// Most segments or topic choices in one call.
pub const MAX_LINKS: usize = 100;

/// How a path names a contact: an address if it has an `@`, else an id.
pub fn contact_ref(identifier: &str) -> Result<ContactRef> {
    let identifier = identifier.trim();
    if identifier.contains('@') {
        Ok(ContactRef::Email(normalize(identifier)))
    } else {
        Ok(ContactRef::Id(
            ContactId::parse(identifier)
                .map_err(|_| Error::parameter("The contact must be given by its id (a UUID) or its email address."))?,
        ))
    }
}

fn email(value: &Value) -> Result<String> {
    let raw = value.as_str().ok_or_else(|| Error::value("The `email` field must be a string."))?.trim();
    if !valid_address(raw) {
        return Err(Error::value(format!("`{raw}` is not a valid email address.")));
    }
    Ok(raw.to_string())
}

fn name(body: &Value, field: &str) -> Result<Option<Option<String>>> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.chars().count() <= MAX_NAME_CHARS => {
            let trimmed = s.trim();
            Ok(Some((!trimmed.is_empty()).then(|| trimmed.to_string())))
        }
        Some(Value::String(_)) => {
            Err(Error::value(format!("The `{field}` must be at most {MAX_NAME_CHARS} characters.")))
        }
        Some(_) => Err(Error::value(format!("The `{field}` field must be a string."))),
    }
}

fn flag(body: &Value, field: &str) -> Result<Option<bool>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Error::value(format!("The `{field}` field must be true or false."))),
    }
}

/// Segment ids as the contract gives them (`["id"]`) or as the SDKs send them
/// (`[{"id": "…"}]`), plus the deprecated `audience_id`.
pub(crate) fn segment_ids(body: &Value) -> Result<Vec<SegmentId>> {
    let mut ids = Vec::new();
    match body.get("segments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.len() <= MAX_LINKS => {
            for item in items {
                let raw = item.as_str().or_else(|| item.get("id").and_then(Value::as_str)).ok_or_else(|| {
                    Error::value("Each of `segments` must be a segment id or an object with an `id`.")
                })?;
                ids.push(SegmentId::parse(raw)?);
            }
        }
        Some(_) => {
            return Err(Error::value(format!("The `segments` field must be an array of at most {MAX_LINKS} ids.")));
        }
    }
    if let Some(audience) = body.get("audience_id").and_then(Value::as_str) {
        ids.push(SegmentId::parse(audience)?);
    }
    Ok(distinct(ids))
}

/// Topic choices: `[{"id", "subscription": "opt_in" | "opt_out"}]`.
pub(crate) fn topic_choices(value: &Value) -> Result<Vec<(TopicId, Subscription)>> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) if items.len() <= MAX_LINKS => items,
        _ => return Err(Error::value(format!("The topics must be an array of at most {MAX_LINKS} choices."))),
    };
    items
        .iter()
        .map(|item| {
            let id = item.get("id").and_then(Value::as_str).ok_or_else(|| Error::missing("topics[].id"))?;
            let subscription = match item.get("subscription") {
                Some(Value::String(raw)) => Subscription::parse(raw).ok_or_else(|| {
                    Error::value(format!("A topic `subscription` must be `opt_in` or `opt_out`, not `{raw}`."))
                })?,
                _ => return Err(Error::missing("topics[].subscription")),
            };
            Ok((TopicId::parse(id)?, subscription))
        })
        .collect()
}

impl Postline {
    /// Creates a contact (`POST /contacts`, or `POST /audiences/{id}/contacts` with
    /// `in_segment`).
    pub async fn create_contact(
        &self,
        team_id: TeamId,
        body: &Value,
        in_segment: Option<SegmentId>,
    ) -> Result<Contact> {
        let email = match body.get("email") {
            None | Some(Value::Null) => return Err(Error::missing("email")),
            Some(value) => email(value)?,
        };
        let mut segments = segment_ids(body)?;
        segments.extend(in_segment);
        let segments = distinct(segments);
        let topics = topic_choices(body.get("topics").unwrap_or(&Value::Null))?;
        let mut properties = self.checked_properties(team_id, body.get("properties").unwrap_or(&Value::Null)).await?;
        properties.retain(|_, v| !v.is_null());
        self.check_links(team_id, &segments, &topics).await?;
        let now = self.clock.now();
        let contact = Contact {
            id: ContactId::new(),
            team_id,
            email,
            first_name: name(body, "first_name")?.flatten(),
            last_name: name(body, "last_name")?.flatten(),
            unsubscribed: flag(body, "unsubscribed")?.unwrap_or(false),
            properties,
            created_at: now,
            updated_at: now,
        };
        let event = contact_event("contact.created", &contact, &segments, now);
        match self.store.insert_contact(&contact, &segments, &topics, &event).await? {
            ContactWrite::Done => Ok(contact),
            ContactWrite::EmailTaken(existing) => Err(Error::value(format!(
                "A contact with the email `{}` already exists ({existing}); change it with PATCH /contacts/{existing}.",
                contact.email
            ))),
            ContactWrite::NotFound => Err(Error::NotFound("Segment")),
        }
    }

    /// Every segment and topic named exists in the team.
    async fn check_links(
        &self,
        team_id: TeamId,
        segments: &[SegmentId],
        topics: &[(TopicId, Subscription)],
    ) -> Result<()> {
        for id in segments {
            self.store.get_segment(team_id, *id).await?.ok_or(Error::NotFound("Segment"))?;
        }
        for (id, _) in topics {
            self.store.get_topic(team_id, *id).await?.ok_or(Error::NotFound("Topic"))?;
        }
        Ok(())
    }

    /// The contact a path names, with only its current properties.
    pub async fn get_contact(&self, team_id: TeamId, identifier: &str) -> Result<Contact> {
        let mut contact = self.find_contact(team_id, identifier).await?;
        contact.properties = self.visible_properties(team_id, &contact.properties).await?;
        Ok(contact)
    }

    pub(crate) async fn find_contact(&self, team_id: TeamId, identifier: &str) -> Result<Contact> {
        self.store.find_contact(team_id, &contact_ref(identifier)?).await?.ok_or(Error::NotFound("Contact"))
    }

    /// The team's contacts, newest first; with `segment`, only its members.
    pub async fn list_contacts(
        &self,
        team_id: TeamId,
        segment: Option<SegmentId>,
        page: PageRequest,
    ) -> Result<Page<Contact>> {
        if let Some(id) = segment {
            self.store.get_segment(team_id, id).await?.ok_or(Error::NotFound("Segment"))?;
        }
        self.store.list_contacts(team_id, segment, &page).await
    }

    /// Changes a contact (`PATCH /contacts/{id}`): names (`null` clears), the global
    /// unsubscribe, property values (`null` removes one) and the address itself.
    /// Fields the SDKs add to identify the contact (`id`, `audience_id`) are ignored.
    pub async fn update_contact(&self, team_id: TeamId, identifier: &str, body: &Value) -> Result<Contact> {
        let mut contact = self.find_contact(team_id, identifier).await?;
        let properties = self.checked_properties(team_id, body.get("properties").unwrap_or(&Value::Null)).await?;
        if let Some(value) = body.get("email").filter(|v| !v.is_null()) {
            contact.email = email(value)?;
        }
        if let Some(first) = name(body, "first_name")? {
            contact.first_name = first;
        }
        if let Some(last) = name(body, "last_name")? {
            contact.last_name = last;
        }
        if let Some(unsubscribed) = flag(body, "unsubscribed")? {
            contact.unsubscribed = unsubscribed;
        }
        merge(&mut contact.properties, properties);
        contact.updated_at = self.clock.now();
        let segments = self.store.contact_segment_ids(team_id, contact.id).await?;
        let event = contact_event("contact.updated", &contact, &segments, contact.updated_at);
        match self.store.save_contact(&contact, &[], &event).await? {
            ContactWrite::Done => Ok(contact),
            ContactWrite::EmailTaken(other) => {
                Err(Error::value(format!("Another contact ({other}) already has the email `{}`.", contact.email)))
            }
            ContactWrite::NotFound => Err(Error::NotFound("Contact")),
        }
    }

    /// Deletes a contact with its memberships and topic choices; returns it as it was.
    pub async fn delete_contact(&self, team_id: TeamId, identifier: &str) -> Result<Contact> {
        let contact = self.find_contact(team_id, identifier).await?;
        let segments = self.store.contact_segment_ids(team_id, contact.id).await?;
        let event = contact_event("contact.deleted", &contact, &segments, self.clock.now());
        if self.store.delete_contact(team_id, contact.id, &event).await? {
            Ok(contact)
        } else {
            Err(Error::NotFound("Contact"))
        }
    }
}

/// The ids in their first order, each once.
fn distinct<T: PartialEq>(ids: Vec<T>) -> Vec<T> {
    let mut seen = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen
}

/// Applies checked property changes: a value sets, `null` removes.
fn merge(properties: &mut Map<String, Value>, changes: Map<String, Value>) {
    for (key, value) in changes {
        if value.is_null() {
            properties.remove(&key);
        } else {
            properties.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_name_contacts_by_id_or_address() {
        let id = ContactId::new();
        assert_eq!(contact_ref(&id.to_string()).unwrap(), ContactRef::Id(id));
        assert_eq!(contact_ref("A+b@X.com").unwrap(), ContactRef::Email("a+b@x.com".into()));
        assert!(contact_ref("not-an-id").is_err());
    }

    #[test]
    fn segments_come_as_ids_or_objects_and_audience_ids_join_them() {
        let (a, b) = (SegmentId::new(), SegmentId::new());
        let body = json!({"segments": [a.to_string(), {"id": b.to_string()}], "audience_id": a.to_string()});
        assert_eq!(segment_ids(&body).unwrap(), vec![a, b]);
        assert!(segment_ids(&json!({"segments": [{"name": "x"}]})).is_err());
        assert!(segment_ids(&json!({"segments": "x"})).is_err());
    }

    #[test]
    fn topic_choices_need_an_id_and_a_known_subscription() {
        let t = TopicId::new();
        let choices = topic_choices(&json!([{"id": t.to_string(), "subscription": "opt_out"}])).unwrap();
        assert_eq!(choices, vec![(t, Subscription::OptOut)]);
        assert!(topic_choices(&json!([{"id": t.to_string(), "subscription": "maybe"}])).is_err());
        assert!(topic_choices(&json!([{"subscription": "opt_in"}])).is_err());
    }

    #[test]
    fn property_changes_set_and_remove() {
        let mut properties = Map::new();
        properties.insert("plan".into(), json!("pro"));
        properties.insert("seats".into(), json!(3));
        let mut changes = Map::new();
        changes.insert("plan".into(), Value::Null);
        changes.insert("seats".into(), json!(5));
        merge(&mut properties, changes);
        assert_eq!(Value::Object(properties), json!({"seats": 5}));
    }
}
