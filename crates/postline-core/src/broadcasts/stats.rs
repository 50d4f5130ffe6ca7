//! A broadcast's performance: how many of its emails reached each stage, with
//! rates; who they were (`/broadcasts/{id}/recipients`); which links were clicked
//! (`/broadcasts/{id}/clicked-links`).
//!
//! Everything is read from the emails' timelines. Opens flagged as machine opens
//! (privacy proxies prefetching images) and clicks flagged as security-scanner clicks
//! are left out everywhere here, so the numbers describe people.

use std::collections::HashMap;

use serde_json::Value;

use super::Broadcast;
use crate::{
    Error, Postline, Result,
    emails::{EventKind, stats::rate},
    ids::{BroadcastId, ContactId, EmailId, TeamId},
    pagination::{Page, PageRequest},
};

/// The recipient event types the contract filters by.
pub const RECIPIENT_TYPES: [&str; 8] =
    ["sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed", "suppressed"];

/// What `/recipients` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientQuery {
    pub event: EventKind,
    /// Only this address (lower-cased).
    pub email: Option<String>,
    /// Only bounces of this type (`Permanent`, `Transient`, `Undetermined`).
    pub bounce_type: Option<&'static str>,
}

/// One recipient of a broadcast who had the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRow {
    pub email_id: EmailId,
    pub contact_id: Option<ContactId>,
    pub email: String,
    /// How many times (opens and clicks can repeat).
    pub count: u64,
    /// For bounces: `permanent`, `transient` or `undetermined`.
    pub bounce_type: Option<String>,
    /// For clicks: each URL with this recipient's clicks.
    pub clicked_links: Vec<(String, u64)>,
}

/// One clicked URL of a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickedLink {
    pub url: String,
    pub clicks: u64,
    pub unique_clicks: u64,
}

/// How many of a broadcast's emails reached each stage (each email counted once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastStats {
    pub emails: u64,
    pub by_event: HashMap<String, u64>,
}

impl BroadcastStats {
    pub fn count(&self, kind: &str) -> u64 {
        self.by_event.get(kind).copied().unwrap_or_default()
    }

    /// The stats object shown with a broadcast: counts and rates (0–1, four places).
    /// Delivery, bounce and suppression rates are of the emails sent to the MTA; open,
    /// click, complaint and unsubscribe rates of the emails delivered.
    pub fn to_json(&self) -> Value {
        let sent = self.count("sent");
        let delivered = self.count("delivered");
        let mut object = serde_json::Map::new();
        object.insert("recipients".into(), self.emails.into());
        for kind in RECIPIENT_TYPES {
            object.insert(kind.into(), self.count(kind).into());
        }
        object.insert("delivery_rate".into(), rate(delivered, sent).into());
        object.insert("bounce_rate".into(), rate(self.count("bounced"), sent).into());
        object.insert("open_rate".into(), rate(self.count("opened"), delivered).into());
        object.insert("click_rate".into(), rate(self.count("clicked"), delivered).into());
        object.insert("complaint_rate".into(), rate(self.count("complained"), delivered).into());
        object.insert("unsubscribe_rate".into(), rate(self.count("unsubscribed"), delivered).into());
        Value::Object(object)
    }
}

/// An opaque page cursor for lists without ids of their own: the offset dressed as a
/// UUID (the contract's cursors are ids).
pub fn offset_cursor(offset: u64) -> String {
    format!("00000000-0000-0000-0000-{offset:012x}")
}

fn offset_of(cursor: &str) -> Option<u64> {
    cursor.strip_prefix("00000000-0000-0000-0000-").and_then(|hex| u64::from_str_radix(hex, 16).ok())
}

impl Postline {
    /// The broadcast with its stats. Counting reads every copy's timeline, so for a
    /// broadcast of [`Settings::broadcast_stats_reuse_from`](crate::Settings) copies or
    /// more (10,000 unless configured) the count is reused for up to a second: a
    /// dashboard or a script polling a 100,000-copy broadcast while it sends costs one
    /// count a second, not one per request. Smaller ones are always exact.
    pub async fn broadcast_stats(&self, team_id: TeamId, id: BroadcastId) -> Result<(Broadcast, BroadcastStats)> {
        let broadcast = self.get_broadcast(team_id, id).await?;
        let large = broadcast.fanned_out >= self.settings.broadcast_stats_reuse_from;
        if large && let Some(stats) = self.broadcast_stats_cache.get(&id) {
            return Ok((broadcast, stats));
        }
        let stats = self.store.broadcast_stats(team_id, id).await?;
        if large {
            self.broadcast_stats_cache.put(id, stats.clone());
        }
        Ok((broadcast, stats))
    }

    /// `GET /broadcasts/{id}/recipients`.
    pub async fn broadcast_recipients(
        &self,
        team_id: TeamId,
        id: BroadcastId,
        kind: Option<&str>,
        email: Option<&str>,
        bounce_type: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<RecipientRow>> {
        self.get_broadcast(team_id, id).await?;
        let kind = kind.ok_or_else(|| Error::missing("type"))?;
        let event = RECIPIENT_TYPES.contains(&kind).then(|| EventKind::parse(kind)).flatten().ok_or_else(|| {
            Error::parameter(format!("The `type` must be one of {}, not `{kind}`.", RECIPIENT_TYPES.join(", ")))
        })?;
        let bounce_type = match bounce_type {
            None => None,
            Some(_) if event != EventKind::Bounced => {
                return Err(Error::parameter("The `bounce_type` filter is only valid when `type` is `bounced`."));
            }
            Some(raw) => Some(match raw {
                "permanent" => "Permanent",
                "transient" => "Transient",
                "undetermined" => "Undetermined",
                other => {
                    return Err(Error::parameter(format!(
                        "The `bounce_type` must be `permanent`, `transient` or `undetermined`, not `{other}`."
                    )));
                }
            }),
        };
        let query = RecipientQuery { event, email: email.map(|e| e.trim().to_lowercase()), bounce_type };
        self.store.broadcast_recipients(team_id, id, &query, &page).await
    }

    /// `GET /broadcasts/{id}/clicked-links`: most clicked first; each row's `id` is a
    /// cursor for the next page.
    pub async fn broadcast_clicked_links(
        &self,
        team_id: TeamId,
        id: BroadcastId,
        page: PageRequest,
    ) -> Result<Page<(String, ClickedLink)>> {
        self.get_broadcast(team_id, id).await?;
        let (start, backwards) = match &page.cursor {
            crate::pagination::Cursor::Start => (0, false),
            crate::pagination::Cursor::After(c) => (offset_of(c).map_or(0, |o| o + 1), false),
            crate::pagination::Cursor::Before(c) => {
                (offset_of(c).unwrap_or(0).saturating_sub(u64::from(page.limit)), true)
            }
        };
        let end = match (&page.cursor, backwards) {
            (crate::pagination::Cursor::Before(c), true) => offset_of(c).unwrap_or(0),
            _ => start + u64::from(page.limit),
        };
        let rows = self.store.broadcast_clicked_links(team_id, id, start, (end - start + 1) as u32).await?;
        let has_more = if backwards { start > 0 } else { rows.len() as u64 > end - start };
        let items = rows
            .into_iter()
            .take((end - start) as usize)
            .enumerate()
            .map(|(n, link)| (offset_cursor(start + n as u64), link))
            .collect();
        Ok(Page { items, has_more })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_cursors_are_ids_that_round_trip() {
        for offset in [0, 1, 99, 123_456] {
            let cursor = offset_cursor(offset);
            assert!(uuid::Uuid::parse_str(&cursor).is_ok());
            assert_eq!(offset_of(&cursor), Some(offset));
        }
    }

    #[test]
    fn rates_are_of_sent_or_delivered_emails() {
        let stats = BroadcastStats {
            emails: 10,
            by_event: [("sent", 8), ("delivered", 6), ("opened", 3), ("bounced", 2)]
                .map(|(k, v)| (k.to_string(), v))
                .into(),
        };
        let json = stats.to_json();
        assert_eq!(json["delivery_rate"], 0.75);
        assert_eq!(json["bounce_rate"], 0.25);
        assert_eq!(json["open_rate"], 0.5);
        assert_eq!(json["click_rate"], 0.0);
        assert_eq!(json["recipients"], 10);
        assert_eq!(BroadcastStats::default().to_json()["open_rate"], 0.0, "no division by zero");
    }
}
