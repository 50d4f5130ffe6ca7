//! Typed identifiers: one newtype per resource so an email id can never be passed
//! where an API key id is expected. All are UUIDs on the wire.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Error, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id (UUIDv7), so ids sort in creation order.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses an id from a path or body, with the contract's error for a non-UUID.
            pub fn parse(raw: &str) -> Result<Self> {
                Uuid::parse_str(raw.trim())
                    .map(Self)
                    .map_err(|_| Error::parameter(format!("The {} id must be a valid UUID.", $what)))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }
    };
}

id_type!(/// A team: the tenant everything belongs to.
    TeamId, "team");
id_type!(/// An API key.
    ApiKeyId, "API key");
id_type!(/// An outbound email.
    EmailId, "email");
id_type!(/// One attachment of an email.
    AttachmentId, "attachment");
id_type!(/// One recipient's delivery of an email: the unit the queue schedules.
    DeliveryId, "delivery");
id_type!(/// A domain.
    DomainId, "domain");
id_type!(/// A topic (the audience issue owns topics; sends may already name one).
    TopicId, "topic");
id_type!(/// A claim on a domain another team has verified.
    ClaimId, "claim");
id_type!(/// A webhook endpoint.
    WebhookId, "webhook");
id_type!(/// A contact of a team's audience.
    ContactId, "contact");
id_type!(/// A custom contact property.
    ContactPropertyId, "contact property");
id_type!(/// A segment (also called an audience, its deprecated name).
    SegmentId, "segment");
id_type!(/// An entry of a team's suppression list.
    SuppressionId, "suppression");
id_type!(/// A contact import (a CSV file turned into contacts).
    ContactImportId, "contact import");
id_type!(/// A broadcast: one email sent to a segment's contacts.
    BroadcastId, "broadcast");
id_type!(/// A template: a reusable email with typed variables.
    TemplateId, "template");
id_type!(/// A received (inbound) email.
    ReceivedEmailId, "received email");
id_type!(/// A dashboard user.
    UserId, "user");
