//! The audience: contacts (one per email address per team), the custom properties
//! they may carry, segments (explicit groups of contacts, which the deprecated
//! audiences are another name for), and topics with each contact's subscription.
//!
//! Contacts are what broadcasts are sent to; an unsubscribed contact gets no
//! broadcast, and a topic-scoped broadcast reaches only the contacts whose effective
//! subscription to the topic is `opt_in` (their own choice, else the topic's default).
//! Every change to a contact is a `contact.*` webhook event, written in the same
//! transaction as the change.

pub mod contacts;
pub mod import_job;
pub mod imports;
pub mod properties;
pub mod search;
pub mod segments;
pub mod topics;
pub mod unsubscribe;
pub mod unsubscribe_page;

use serde_json::{Map, Value, json};

use crate::{
    clock::{Timestamp, rfc3339},
    ids::{ContactId, ContactPropertyId, SegmentId, TeamId, TopicId},
    webhooks::OutboxEvent,
};

/// A contact: one email address of a team's audience.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: ContactId,
    pub team_id: TeamId,
    /// As given; lookups compare it case-insensitively.
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Unsubscribed from every broadcast.
    pub unsubscribed: bool,
    /// Custom property values by key (only keys defined as contact properties).
    pub properties: Map<String, Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The type of a custom contact property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    String,
    Number,
}

impl PropertyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PropertyType::String => "string",
            PropertyType::Number => "number",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "string" => Some(PropertyType::String),
            "number" => Some(PropertyType::Number),
            _ => None,
        }
    }

    /// Whether `value` is of this type.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            PropertyType::String => value.is_string(),
            PropertyType::Number => value.is_number(),
        }
    }
}

/// A custom contact property the team defined.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactProperty {
    pub id: ContactPropertyId,
    pub team_id: TeamId,
    /// Letters, digits and underscores, case-sensitive, at most 50 characters.
    pub key: String,
    pub property_type: PropertyType,
    /// Used wherever a contact has no value of its own (`null` when none).
    pub fallback_value: Value,
    pub created_at: Timestamp,
}

/// A segment: a named group of contacts, what broadcasts are sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub id: SegmentId,
    pub team_id: TeamId,
    pub name: String,
    /// Stored and shown as given (the contract leaves its form open).
    pub filter: Value,
    pub created_at: Timestamp,
}

/// A contact's subscription to a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    OptIn,
    OptOut,
}

impl Subscription {
    pub fn as_str(self) -> &'static str {
        match self {
            Subscription::OptIn => "opt_in",
            Subscription::OptOut => "opt_out",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "opt_in" => Some(Subscription::OptIn),
            "opt_out" => Some(Subscription::OptOut),
            _ => None,
        }
    }
}

/// What decides whether an address gets an email scoped to a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicConsent {
    pub default_subscription: Subscription,
    /// When the address is a contact: its global unsubscribe and its own choice.
    pub contact: Option<(bool, Option<Subscription>)>,
}

impl TopicConsent {
    /// Why the address must not get the email, or `None` if it may. A contact who
    /// unsubscribed from everything gets nothing; otherwise its own choice decides,
    /// and the topic's default covers contacts who never chose and non-contacts.
    pub fn refusal(self) -> Option<&'static str> {
        match self.contact {
            Some((true, _)) => Some("has unsubscribed from all emails"),
            Some((false, Some(Subscription::OptOut))) => Some("has opted out of the topic"),
            Some((false, Some(Subscription::OptIn))) => None,
            _ if self.default_subscription == Subscription::OptOut => {
                Some("has not opted in to the topic, whose default subscription is opt_out")
            }
            _ => None,
        }
    }
}

/// Who sees a topic on the preferences page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every contact.
    Public,
    /// Only contacts opted in to it.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "public" => Some(Visibility::Public),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }
}

/// A topic contacts subscribe to or opt out of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub id: TopicId,
    pub team_id: TeamId,
    pub name: String,
    pub description: Option<String>,
    /// The subscription of every contact who has not chosen (fixed at creation).
    pub default_subscription: Subscription,
    pub visibility: Visibility,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A topic with one contact's effective subscription to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactTopic {
    pub topic: Topic,
    pub subscription: Subscription,
}

/// A `contact.*` event in the contract's shape (`ContactEventData`): the contact as it
/// is after the change (before it, for `contact.deleted`) and its segments.
pub fn contact_event(kind: &str, contact: &Contact, segments: &[SegmentId], at: Timestamp) -> OutboxEvent {
    let mut data = json!({
        "id": contact.id,
        "segment_ids": segments,
        "created_at": rfc3339(contact.created_at),
        "updated_at": rfc3339(contact.updated_at),
        "email": contact.email,
        "unsubscribed": contact.unsubscribed,
    });
    // Names are strings in the contract, never `null`: absent ones are left out.
    if let Some(first) = &contact.first_name {
        data["first_name"] = json!(first);
    }
    if let Some(last) = &contact.last_name {
        data["last_name"] = json!(last);
    }
    // The deprecated audience is the first segment, when there is one.
    if let Some(first) = segments.first() {
        data["audience_id"] = json!(first);
    }
    OutboxEvent { kind: kind.to_string(), payload: json!({"type": kind, "created_at": rfc3339(at), "data": data}), at }
}
