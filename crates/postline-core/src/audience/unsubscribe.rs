//! Unsubscribing: the signed link each recipient of a broadcast or topic-scoped
//! email gets, RFC 8058 one-click unsubscribes through it, and the preferences page
//! behind it where a recipient picks topics or leaves everything.
//!
//! The link carries a token signed for [`Purpose::Unsubscribe`] naming the team, the
//! recipient's address, the email it came in and the topic that email was about, so
//! it cannot be guessed or pointed at another address, and works on every node.
//! A recipient who is not yet a contact becomes one when they change anything, so
//! the choice is remembered for later sends. Every change is a `contact.created` or
//! `contact.updated` event; repeating a choice already in effect changes nothing.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{Contact, ContactTopic, Subscription, Topic, Visibility, contact_event};
use crate::{
    Error, Postline, Result,
    delivery::suppression::normalize,
    emails::address::parse_mailbox,
    ids::{ContactId, EmailId, TeamId, TopicId},
    pagination::{Cursor, PageRequest},
    signing::Purpose,
    store::{ContactRef, ContactWrite},
};

pub use super::unsubscribe_page::UnsubscribePage;

/// How long an unsubscribe link keeps working: recipients unsubscribe from old
/// emails too, and a dead link is worse than a spam complaint.
pub const LINK_LIFETIME: Duration = Duration::days(3650);
/// Most topics listed on a preferences page.
pub const MAX_TOPICS_SHOWN: u32 = 100;

/// What an unsubscribe token names (short keys keep the URL short).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Claims {
    #[serde(rename = "t")]
    team: TeamId,
    /// The recipient's address, lower-cased.
    #[serde(rename = "r")]
    recipient: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    email: Option<EmailId>,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    topic: Option<TopicId>,
}

/// A recipient's preferences as the page shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Preferences {
    pub recipient: String,
    /// Unsubscribed from every email of the team.
    pub unsubscribed: bool,
    /// The topic of the email the link came in, if it had one.
    pub topic: Option<TopicId>,
    /// Public topics, and private ones the recipient is opted in to, with the
    /// recipient's effective subscription.
    pub topics: Vec<ContactTopic>,
    pub page: UnsubscribePage,
}

/// What a recipient submitted on the preferences page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreferenceChoice {
    /// Leave every email of the team.
    UnsubscribeAll,
    /// Be opted in to exactly these of the shown topics (and out of the others
    /// shown); with at least one, this also undoes an earlier global unsubscribe.
    Topics(Vec<TopicId>),
}

/// A token's recipient as a contact, or the address alone if it is not one yet.
struct Recipient {
    claims: Claims,
    contact: Option<Contact>,
    chosen: Vec<(TopicId, Subscription)>,
}

impl Recipient {
    fn unsubscribed(&self) -> bool {
        self.contact.as_ref().is_some_and(|c| c.unsubscribed)
    }

    fn subscription(&self, topic: TopicId, default: Subscription) -> Subscription {
        self.chosen.iter().find(|(id, _)| *id == topic).map_or(default, |(_, s)| *s)
    }
}

impl Postline {
    /// The unsubscribe link for one recipient of one email (the preferences page on
    /// `GET`, one-click unsubscribe on `POST`).
    pub fn unsubscribe_url(
        &self,
        team: TeamId,
        email: Option<EmailId>,
        recipient: &str,
        topic: Option<TopicId>,
    ) -> String {
        let address = parse_mailbox(recipient).map_or_else(|| recipient.to_string(), |m| m.address);
        let claims = Claims { team, recipient: normalize(&address), email, topic };
        let token = self.signer.sign(Purpose::Unsubscribe, claims, self.clock.now() + LINK_LIFETIME);
        format!("{}/unsubscribe/{token}", self.settings.public_url)
    }

    /// Why `recipient` (a queue row's bare address) must not get an email scoped to
    /// `topic`, if it must not.
    pub async fn topic_refusal(&self, team: TeamId, topic: TopicId, recipient: &str) -> Result<Option<String>> {
        Ok(match self.store.topic_consent(team, topic, recipient).await? {
            Some(consent) => consent.refusal().map(str::to_string),
            None => Some(format!("was to get an email about topic {topic}, which has been deleted")),
        })
    }

    /// The preferences behind a link. A bad, altered or expired token is `NotFound`.
    pub async fn preferences(&self, token: &str) -> Result<Preferences> {
        let recipient = self.recipient(token).await?;
        self.shown(recipient).await
    }

    /// RFC 8058 one-click: opts the recipient out of the email's topic, or out of
    /// everything when the email had none. Idempotent.
    pub async fn one_click_unsubscribe(&self, token: &str) -> Result<Preferences> {
        let recipient = self.recipient(token).await?;
        let recipient = match recipient.claims.topic {
            Some(topic) => {
                // A topic deleted since the email was sent has no choice left to record.
                let found = self.store.get_topic(recipient.claims.team, topic).await?;
                self.change(recipient, None, found.into_iter().map(|t| (t, Subscription::OptOut)).collect()).await?
            }
            None => self.change(recipient, Some(true), Vec::new()).await?,
        };
        self.shown(recipient).await
    }

    /// Saves what the recipient chose on the preferences page.
    pub async fn save_preferences(&self, token: &str, choice: PreferenceChoice) -> Result<Preferences> {
        let recipient = self.recipient(token).await?;
        let recipient = match choice {
            PreferenceChoice::UnsubscribeAll => self.change(recipient, Some(true), Vec::new()).await?,
            PreferenceChoice::Topics(opted_in) => {
                let shown = self.shown_topics(&recipient).await?;
                if let Some(unknown) = opted_in.iter().find(|id| !shown.iter().any(|t| t.topic.id == **id)) {
                    return Err(Error::value(format!("Topic {unknown} is not one you can choose here.")));
                }
                let choices = shown
                    .into_iter()
                    .map(|t| {
                        let wanted = opted_in.contains(&t.topic.id);
                        (t.topic, if wanted { Subscription::OptIn } else { Subscription::OptOut })
                    })
                    .collect();
                // Ticking a topic is asking for email again; saving with none ticked
                // leaves a global unsubscribe as it is.
                let resubscribe = (!opted_in.is_empty()).then_some(false);
                self.change(recipient, resubscribe, choices).await?
            }
        };
        self.shown(recipient).await
    }

    async fn recipient(&self, token: &str) -> Result<Recipient> {
        let claims: Claims =
            self.signer.verify(Purpose::Unsubscribe, token, self.clock.now()).ok_or(Error::NotFound("Link"))?;
        let contact = self.store.find_contact(claims.team, &ContactRef::Email(claims.recipient.clone())).await?;
        let chosen = match &contact {
            Some(c) => self.store.contact_subscriptions(claims.team, c.id).await?,
            None => Vec::new(),
        };
        Ok(Recipient { claims, contact, chosen })
    }

    async fn shown_topics(&self, recipient: &Recipient) -> Result<Vec<ContactTopic>> {
        let page = PageRequest { limit: MAX_TOPICS_SHOWN, cursor: Cursor::Start };
        let topics = self.store.list_topics(recipient.claims.team, &page).await?.items;
        Ok(topics
            .into_iter()
            .map(|topic| {
                let subscription = recipient.subscription(topic.id, topic.default_subscription);
                ContactTopic { topic, subscription }
            })
            .filter(|t| t.topic.visibility == Visibility::Public || t.subscription == Subscription::OptIn)
            .collect())
    }

    async fn shown(&self, recipient: Recipient) -> Result<Preferences> {
        let mut topics = self.shown_topics(&recipient).await?;
        // Oldest topic first reads more naturally than the API's newest first.
        topics.reverse();
        Ok(Preferences {
            unsubscribed: recipient.unsubscribed(),
            topic: recipient.claims.topic,
            page: self.unsubscribe_page(recipient.claims.team).await?,
            recipient: recipient.claims.recipient,
            topics,
        })
    }

    /// Applies a change of the global unsubscribe and topic choices, writing (with
    /// its event) only what differs from what is in effect.
    async fn change(
        &self,
        mut recipient: Recipient,
        unsubscribed: Option<bool>,
        choices: Vec<(Topic, Subscription)>,
    ) -> Result<Recipient> {
        let team = recipient.claims.team;
        let changed: Vec<(TopicId, Subscription)> = choices
            .into_iter()
            .filter(|(topic, wanted)| recipient.subscription(topic.id, topic.default_subscription) != *wanted)
            .map(|(topic, wanted)| (topic.id, wanted))
            .collect();
        let flips = unsubscribed.is_some_and(|u| u != recipient.unsubscribed());
        if changed.is_empty() && !flips {
            return Ok(recipient);
        }
        let now = self.clock.now();
        let write = match recipient.contact.take() {
            Some(mut contact) => {
                contact.unsubscribed = unsubscribed.unwrap_or(contact.unsubscribed);
                contact.updated_at = now;
                let segments = self.store.contact_segment_ids(team, contact.id).await?;
                let event = contact_event("contact.updated", &contact, &segments, now);
                let write = self.store.save_contact(&contact, &changed, &event).await?;
                recipient.contact = Some(contact);
                write
            }
            None => {
                let contact = Contact {
                    id: ContactId::new(),
                    team_id: team,
                    email: recipient.claims.recipient.clone(),
                    first_name: None,
                    last_name: None,
                    unsubscribed: unsubscribed.unwrap_or(false),
                    properties: Default::default(),
                    created_at: now,
                    updated_at: now,
                };
                let event = contact_event("contact.created", &contact, &[], now);
                let write = self.store.insert_contact(&contact, &[], &changed, &event).await?;
                recipient.contact = Some(contact);
                write
            }
        };
        match write {
            ContactWrite::Done => {}
            // The contact was created, renamed or deleted meanwhile: start over from
            // what is there now.
            ContactWrite::EmailTaken(_) | ContactWrite::NotFound => {
                return Err(Error::Conflict("The contact changed meanwhile; please try again.".into()));
            }
        }
        let opted_out = unsubscribed == Some(true) && flips || changed.iter().any(|(_, s)| *s == Subscription::OptOut);
        if let (true, Some(email)) = (opted_out, recipient.claims.email) {
            // The email's timeline notes it (what broadcast stats count). The choice is
            // already saved; a failure here costs a statistic, not the unsubscribe.
            let event = crate::emails::EmailEvent::new(
                email,
                crate::emails::EventKind::Unsubscribed,
                Some(recipient.claims.recipient.clone()),
                now,
            );
            // Timeline only: an unsubscribe never becomes the email's `last_event`.
            if let Err(error) = self.store.record_engagement(team, &event, false).await {
                tracing::warn!(%email, %error, "could not note the unsubscribe on the email's timeline");
            }
        }
        for (topic, wanted) in changed {
            recipient.chosen.retain(|(id, _)| *id != topic);
            recipient.chosen.push((topic, wanted));
        }
        Ok(recipient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_use_short_keys_and_omit_what_is_absent() {
        let claims = Claims { team: TeamId::new(), recipient: "a@b.dev".into(), email: None, topic: None };
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json.as_object().unwrap().keys().collect::<Vec<_>>(), ["r", "t"]);
        assert_eq!(serde_json::from_value::<Claims>(json).unwrap(), claims);
    }
}
