//! `GET /emails/metrics`: the team's email activity over a date range, totaled and
//! broken down by period (in a timezone), sending domain, email or broadcast.
//!
//! The store groups timeline events (and accepted emails, for `received`) by kind,
//! 15-minute slot, sender and, when asked, email or broadcast — 15 minutes because
//! every timezone's offset is a multiple of it, so slots re-bucket exactly into local
//! hours, days, weeks and months here. Unique opens and clicks come as distinct
//! (email, slot) pairs so each bucket counts an email once. Machine opens and scanner
//! clicks are left out, as in broadcast stats.

pub mod query;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use self::query::MetricsQuery;
use crate::{
    Postline, Result,
    clock::Timestamp,
    emails::address::parse_mailbox,
    ids::{BroadcastId, DomainId, EmailId, TeamId},
};

/// The length of a slot, in microseconds.
pub const SLOT_MICROS: i64 = 15 * 60 * 1_000_000;

/// What the store is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsScan {
    pub team_id: TeamId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub email_ids: Vec<EmailId>,
    pub broadcast_ids: Vec<BroadcastId>,
    /// Group by email (else `email_id` is `None` in rows).
    pub by_email: bool,
    /// Group by broadcast (else `broadcast_id` is `None`).
    pub by_broadcast: bool,
}

/// One group the store found: `count` events of `kind` (`received` for accepted
/// emails) in a 15-minute slot from one sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRow {
    pub kind: String,
    pub slot: i64,
    pub from: String,
    pub email_id: Option<EmailId>,
    pub broadcast_id: Option<BroadcastId>,
    /// For bounces: `Permanent`, `Transient` or `Undetermined`.
    pub bounce_type: Option<String>,
    pub count: u64,
}

/// The store's answer: grouped counts, and for opens and clicks each distinct
/// (email, slot) (with `email_id` always set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricRows {
    pub counts: Vec<MetricRow>,
    pub engaged: Vec<MetricRow>,
}

/// `n` of `of` as a rate from 0 to 1, to four places (0 when `of` is 0). Broadcast
/// stats use it too, so the two report the same numbers the same way.
pub fn rate(n: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { ((n as f64 / of as f64) * 10_000.0).round() / 10_000.0 }
}

/// A breakdown row's dimension values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct RowKey {
    period: Option<chrono::NaiveDateTime>,
    domain: Option<(String, DomainId)>,
    email: Option<EmailId>,
    broadcast: Option<BroadcastId>,
}

/// Counts per kind, and the distinct emails opened/clicked, for one row.
#[derive(Debug, Clone, Default)]
struct Tally {
    counts: HashMap<String, u64>,
    opened: HashSet<EmailId>,
    clicked: HashSet<EmailId>,
}

impl Tally {
    fn add(&mut self, row: &MetricRow) {
        *self.counts.entry(row.kind.clone()).or_default() += row.count;
        if let Some(kind) = &row.bounce_type {
            *self.counts.entry(format!("bounced_{}", kind.to_lowercase())).or_default() += row.count;
        }
    }

    fn engage(&mut self, row: &MetricRow) {
        let Some(email) = row.email_id else { return };
        match row.kind.as_str() {
            "opened" => self.opened.insert(email),
            "clicked" => self.clicked.insert(email),
            _ => false,
        };
    }

    fn value(&self, metric: &str) -> Value {
        let count = |kind: &str| self.counts.get(kind).copied().unwrap_or_default();
        let (sent, delivered) = (count("sent"), count("delivered"));
        match metric {
            "unique_opened" => json!(self.opened.len()),
            "unique_clicked" => json!(self.clicked.len()),
            "delivery_rate" => json!(rate(delivered, sent)),
            "bounce_rate" => json!(rate(count("bounced"), sent)),
            "open_rate" => json!(rate(self.opened.len() as u64, delivered)),
            "click_rate" => json!(rate(self.clicked.len() as u64, delivered)),
            "complaint_rate" => json!(rate(count("complained"), delivered)),
            "unsubscribe_rate" => json!(rate(count("unsubscribed"), delivered)),
            kind => json!(count(kind)),
        }
    }

    fn metrics(&self, names: &[&str]) -> Map<String, Value> {
        names.iter().map(|name| (name.to_string(), self.value(name))).collect()
    }
}

impl Postline {
    /// `GET /emails/metrics` from the query's pairs, in the contract's shape.
    pub async fn email_metrics(&self, team_id: TeamId, pairs: &[(String, String)]) -> Result<Value> {
        let query = MetricsQuery::parse(pairs, self.clock.now())?;
        let by = |d: &str| query.dimensions.contains(&d);
        let scan = MetricsScan {
            team_id,
            start: query.start,
            end: query.end,
            email_ids: query.email_ids.clone(),
            broadcast_ids: query.broadcast_ids.clone(),
            by_email: by("email"),
            by_broadcast: by("broadcast"),
        };
        let rows = self.store.email_metric_rows(&scan).await?;
        // Senders to domains: only the team's own domains have ids; with a domain
        // dimension or filter, mail from other senders (sandbox sends) is left out.
        let domain_filter = by("domain") || !query.domain_ids.is_empty();
        let mut domains: HashMap<String, Option<(String, DomainId)>> = HashMap::new();
        for row in rows.counts.iter().chain(&rows.engaged) {
            if domain_filter && !domains.contains_key(&row.from) {
                let name = parse_mailbox(&row.from).map(|m| m.domain()).unwrap_or_default();
                let found = self.store.domain_by_name(team_id, &name).await?.map(|d| (d.name, d.id));
                domains.insert(row.from.clone(), found);
            }
        }
        let key_of = |row: &MetricRow| -> Option<RowKey> {
            let domain = if domain_filter {
                let found = domains.get(&row.from).cloned().flatten()?;
                if !query.domain_ids.is_empty() && !query.domain_ids.contains(&found.1) {
                    return None;
                }
                by("domain").then_some(found)
            } else {
                None
            };
            let local = chrono::DateTime::from_timestamp_micros(row.slot * SLOT_MICROS)?.with_timezone(&query.timezone);
            Some(RowKey {
                period: by("period").then(|| query.granularity.bucket(local.naive_local())),
                domain,
                email: if by("email") { row.email_id } else { None },
                broadcast: if by("broadcast") { row.broadcast_id } else { None },
            })
        };
        let mut totals = Tally::default();
        let mut breakdown: BTreeMap<RowKey, Tally> = BTreeMap::new();
        for row in &rows.counts {
            if let Some(key) = key_of(row) {
                totals.add(row);
                breakdown.entry(key).or_default().add(row);
            }
        }
        for row in &rows.engaged {
            if let Some(key) = key_of(row) {
                totals.engage(row);
                breakdown.entry(key).or_default().engage(row);
            }
        }
        if query.dimensions == ["period"] {
            // A chart wants every period, quiet ones too.
            for period in query.periods() {
                breakdown
                    .entry(RowKey { period: Some(period), domain: None, email: None, broadcast: None })
                    .or_default();
            }
        }
        let mut names: HashMap<BroadcastId, Option<String>> = HashMap::new();
        let mut data = Vec::with_capacity(breakdown.len());
        for (key, tally) in &breakdown {
            let mut row = Map::new();
            if let Some(period) = key.period {
                let start = query::local_to_utc(query.timezone, period).unwrap_or(query.start);
                row.insert("period".into(), json!(start.with_timezone(&query.timezone).to_rfc3339()));
            }
            if let Some((name, id)) = &key.domain {
                row.insert("domain_id".into(), json!(id));
                row.insert("domain_name".into(), json!(name));
            }
            if let Some(email) = key.email {
                row.insert("email_id".into(), json!(email));
            }
            if let Some(broadcast) = key.broadcast {
                let name = match names.entry(broadcast) {
                    std::collections::hash_map::Entry::Occupied(found) => found.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(self.store.get_broadcast(team_id, broadcast).await?.and_then(|b| b.name))
                    }
                };
                row.insert("broadcast_id".into(), json!(broadcast));
                if let Some(name) = name {
                    row.insert("broadcast_name".into(), json!(name));
                }
            }
            row.extend(tally.metrics(&query.metrics));
            data.push(Value::Object(row));
        }
        let mut body = json!({
            "object": "metrics",
            "start_date": crate::clock::rfc3339(query.start),
            "end_date": crate::clock::rfc3339(query.end),
            "metrics": query.metrics,
            "dimensions": query.dimensions,
            "granularity": query.granularity.as_str(),
            "totals": totals.metrics(&query.metrics),
        });
        if !query.dimensions.is_empty() {
            body["data"] = Value::Array(data);
        }
        Ok(body)
    }
}
