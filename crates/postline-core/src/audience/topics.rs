//! `/topics` and `/contacts/{id}/topics`: what a team's broadcasts are about, and each
//! contact's choice about each topic. A contact who never chose has the topic's
//! default subscription, which is fixed when the topic is created.

use serde_json::Value;

use super::{ContactTopic, Subscription, Topic, Visibility, contacts::topic_choices};
use crate::{
    Error, Postline, Result,
    ids::{TeamId, TopicId},
    pagination::{Page, PageRequest},
};

/// Longest topic name (the contract's limit).
pub const MAX_NAME_CHARS: usize = 50;
/// Longest topic description (the contract's limit).
pub const MAX_DESCRIPTION_CHARS: usize = 200;

fn text(body: &Value, field: &str, max: usize) -> Result<Option<Option<String>>> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(raw)) if raw.trim().chars().count() <= max => {
            let trimmed = raw.trim();
            Ok(Some((!trimmed.is_empty()).then(|| trimmed.to_string())))
        }
        Some(Value::String(_)) => Err(Error::value(format!("The `{field}` must be at most {max} characters."))),
        Some(_) => Err(Error::value(format!("The `{field}` field must be a string."))),
    }
}

fn visibility(body: &Value) -> Result<Option<Visibility>> {
    match body.get("visibility") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => Visibility::parse(raw)
            .map(Some)
            .ok_or_else(|| Error::value(format!("The `visibility` must be `public` or `private`, not `{raw}`."))),
        Some(_) => Err(Error::value("The `visibility` field must be a string.")),
    }
}

fn subscription(body: &Value) -> Result<Option<Subscription>> {
    match body.get("default_subscription") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => Subscription::parse(raw).map(Some).ok_or_else(|| {
            Error::value(format!("The `default_subscription` must be `opt_in` or `opt_out`, not `{raw}`."))
        }),
        Some(_) => Err(Error::value("The `default_subscription` field must be a string.")),
    }
}

impl Postline {
    /// Creates a topic (`POST /topics`).
    pub async fn create_topic(&self, team_id: TeamId, body: &Value) -> Result<Topic> {
        let name = text(body, "name", MAX_NAME_CHARS)?.flatten().ok_or_else(|| Error::missing("name"))?;
        let default_subscription = subscription(body)?.ok_or_else(|| Error::missing("default_subscription"))?;
        let now = self.clock.now();
        let topic = Topic {
            id: TopicId::new(),
            team_id,
            name,
            description: text(body, "description", MAX_DESCRIPTION_CHARS)?.flatten(),
            default_subscription,
            visibility: visibility(body)?.unwrap_or(Visibility::Private),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_topic(&topic).await?;
        Ok(topic)
    }

    pub async fn get_topic(&self, team_id: TeamId, id: TopicId) -> Result<Topic> {
        self.store.get_topic(team_id, id).await?.ok_or(Error::NotFound("Topic"))
    }

    pub async fn list_topics(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Topic>> {
        self.store.list_topics(team_id, &page).await
    }

    /// Changes a topic's name, description or visibility; its default subscription
    /// cannot change (contacts who never chose would silently change sides).
    pub async fn update_topic(&self, team_id: TeamId, id: TopicId, body: &Value) -> Result<Topic> {
        let mut topic = self.get_topic(team_id, id).await?;
        if let Some(name) = text(body, "name", MAX_NAME_CHARS)? {
            topic.name = name.ok_or_else(|| Error::value("A topic's `name` cannot be empty."))?;
        }
        if let Some(description) = text(body, "description", MAX_DESCRIPTION_CHARS)? {
            topic.description = description;
        }
        if let Some(visibility) = visibility(body)? {
            topic.visibility = visibility;
        }
        if let Some(default) = subscription(body)?
            && default != topic.default_subscription
        {
            return Err(Error::value("A topic's `default_subscription` cannot be changed after it is created."));
        }
        topic.updated_at = self.clock.now();
        if !self.store.save_topic(&topic).await? {
            return Err(Error::NotFound("Topic"));
        }
        Ok(topic)
    }

    /// Deletes a topic with every contact's choice about it.
    pub async fn delete_topic(&self, team_id: TeamId, id: TopicId) -> Result<()> {
        if self.store.delete_topic(team_id, id).await? { Ok(()) } else { Err(Error::NotFound("Topic")) }
    }

    /// The team's topics (a page of them) with the contact's effective subscription to each.
    pub async fn contact_topics(
        &self,
        team_id: TeamId,
        contact: &str,
        page: PageRequest,
    ) -> Result<Page<ContactTopic>> {
        let contact = self.find_contact(team_id, contact).await?;
        let chosen = self.store.contact_subscriptions(team_id, contact.id).await?;
        let topics = self.store.list_topics(team_id, &page).await?;
        Ok(Page {
            has_more: topics.has_more,
            items: topics
                .items
                .into_iter()
                .map(|topic| {
                    let subscription =
                        chosen.iter().find(|(id, _)| *id == topic.id).map_or(topic.default_subscription, |(_, s)| *s);
                    ContactTopic { topic, subscription }
                })
                .collect(),
        })
    }

    /// Records a contact's choices (`PATCH /contacts/{id}/topics`): the body is
    /// `{"topics": [...]}` as the contract says or the bare array the SDKs send.
    pub async fn update_contact_topics(
        &self,
        team_id: TeamId,
        contact: &str,
        body: &Value,
    ) -> Result<(crate::audience::Contact, Vec<(TopicId, Subscription)>)> {
        let choices = match body {
            Value::Array(_) => topic_choices(body)?,
            Value::Object(object) => match object.get("topics") {
                None | Some(Value::Null) => return Err(Error::missing("topics")),
                Some(topics) => topic_choices(topics)?,
            },
            _ => return Err(Error::value("The body must be `{\"topics\": [...]}` or an array of topic choices.")),
        };
        let contact = self.find_contact(team_id, contact).await?;
        for (id, _) in &choices {
            self.get_topic(team_id, *id).await?;
        }
        self.store.set_subscriptions(team_id, contact.id, &choices, self.clock.now()).await?;
        Ok((contact, choices))
    }
}
