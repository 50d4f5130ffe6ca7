//! An export's filters: the list page's current filters, kept with the export (as
//! JSON) so the background worker applies exactly what was confirmed, and shown in
//! words on the confirmation and the Exports page. One flat set of fields serves
//! every kind; [`ExportFilters::checked`] keeps those the kind's list has and checks
//! their values.
//!
//! - emails: `text` (recipient or subject), `status` (an event), `tag`, `from`/`to`
//! - contacts: `text` (address or name), `status` (`subscribed`/`unsubscribed`), `segment`
//! - logs: `key`, `status` (`2xx`/`4xx`/`5xx`), `method`, `from`/`to`
//! - broadcasts, segments, domains, API keys: none (their lists have none).

use chrono::{NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::ExportKind;
use crate::{
    Error, Result,
    audience::search::ContactSearch,
    clock::Timestamp,
    emails::{EventKind, search::EmailSearch},
    ids::{ApiKeyId, SegmentId},
    request_logs::{LogFilter, METHODS, StatusClass},
};

/// Longest text filter kept.
const MAX_TEXT: usize = 200;

/// The filters; `None` leaves a dimension open. Dates are whole days in UTC, both ends included.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportFilters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<ApiKeyId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
}

/// The filter fields, by their form names.
pub const FIELDS: [&str; 8] = ["text", "status", "tag", "segment", "key", "method", "from", "to"];

/// The fields a kind's list filters by.
pub fn fields_of(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Emails => &["text", "status", "tag", "from", "to"],
        ExportKind::Contacts => &["text", "status", "segment"],
        ExportKind::Logs => &["key", "status", "method", "from", "to"],
        ExportKind::Broadcasts | ExportKind::Segments | ExportKind::Domains | ExportKind::ApiKeys => &[],
    }
}

/// The values `status` may take for a kind.
pub fn statuses_of(kind: ExportKind) -> Vec<&'static str> {
    match kind {
        ExportKind::Emails => EventKind::ALL.iter().map(|k| k.as_str()).collect(),
        ExportKind::Contacts => vec!["subscribed", "unsubscribed"],
        ExportKind::Logs => StatusClass::ALL.iter().map(|c| c.as_str()).collect(),
        _ => Vec::new(),
    }
}

fn day_start(day: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The day `at` falls on, and the last day before `until` (an exclusive end).
fn day_of(at: Timestamp) -> NaiveDate {
    at.date_naive()
}

fn day_before(until: Timestamp) -> NaiveDate {
    (until - chrono::Duration::microseconds(1)).date_naive()
}

impl ExportFilters {
    /// Reads the filters from form fields (`lookup` gives a field's value); blank
    /// fields are open, malformed ids and dates are refused naming the field.
    pub fn from_fields(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let text = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let date = |name: &str| {
            text(name)
                .map(|v| {
                    NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|_| Error::value(format!("The `{name}` date must be written as YYYY-MM-DD.")))
                })
                .transpose()
        };
        Ok(ExportFilters {
            text: text("text"),
            status: text("status"),
            tag: text("tag"),
            segment: text("segment")
                .map(|v| SegmentId::parse(&v).map_err(|_| Error::value("The `segment` must be one of your segments.")))
                .transpose()?,
            key: text("key")
                .map(|v| ApiKeyId::parse(&v).map_err(|_| Error::value("The `key` must be one of your API keys.")))
                .transpose()?,
            method: text("method").map(|m| m.to_uppercase()),
            from: date("from")?,
            to: date("to")?,
        })
    }

    /// The filters as form fields (only those set), the inverse of [`Self::from_fields`].
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let values = [
            self.text.clone(),
            self.status.clone(),
            self.tag.clone(),
            self.segment.map(|s| s.to_string()),
            self.key.map(|k| k.to_string()),
            self.method.clone(),
            self.from.map(|d| d.to_string()),
            self.to.map(|d| d.to_string()),
        ];
        FIELDS.into_iter().zip(values).filter_map(|(name, value)| value.map(|v| (name, v))).collect()
    }

    /// Only the filters `kind`'s list has, with text bounded and values checked;
    /// a refusal names the field (`` `status` ``…) so forms can show it there.
    pub fn checked(self, kind: ExportKind) -> Result<Self> {
        let allowed = fields_of(kind);
        let keep = |name: &str| allowed.contains(&name);
        let bounded = |v: Option<String>| v.map(|v| v.chars().take(MAX_TEXT).collect::<String>());
        let filters = ExportFilters {
            text: bounded(self.text).filter(|_| keep("text")),
            status: self.status.filter(|_| keep("status")),
            tag: bounded(self.tag).filter(|_| keep("tag")),
            segment: self.segment.filter(|_| keep("segment")),
            key: self.key.filter(|_| keep("key")),
            method: self.method.filter(|_| keep("method")),
            from: self.from.filter(|_| keep("from")),
            to: self.to.filter(|_| keep("to")),
        };
        if let Some(status) = &filters.status
            && !statuses_of(kind).contains(&status.as_str())
        {
            return Err(Error::value(format!("The `status` must be one of {}.", statuses_of(kind).join(", "))));
        }
        if let Some(method) = &filters.method
            && !METHODS.contains(&method.as_str())
        {
            return Err(Error::value(format!("The `method` must be one of {}.", METHODS.join(", "))));
        }
        if let (Some(from), Some(to)) = (filters.from, filters.to)
            && to < from
        {
            return Err(Error::value("The `to` date must not be before the `from` date."));
        }
        Ok(filters)
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// The Emails list's search.
    pub fn email_search(&self) -> EmailSearch {
        EmailSearch {
            text: self.text.clone(),
            status: self.status.as_deref().and_then(EventKind::parse),
            tag: self.tag.clone(),
            since: self.from.map(day_start),
            until: self.to.map(|d| day_start(d) + chrono::Duration::days(1)),
        }
    }

    /// The contacts list's search.
    pub fn contact_search(&self) -> ContactSearch {
        ContactSearch {
            text: self.text.clone(),
            unsubscribed: self.status.as_deref().map(|s| s == "unsubscribed"),
            segment: self.segment,
        }
    }

    /// The Logs page's filter.
    pub fn log_filter(&self) -> LogFilter {
        LogFilter {
            key: self.key,
            status: self.status.as_deref().and_then(StatusClass::parse),
            method: self.method.clone(),
            since: self.from.map(day_start),
            until: self.to.map(|d| day_start(d) + chrono::Duration::days(1)),
        }
    }
}

impl From<&EmailSearch> for ExportFilters {
    fn from(search: &EmailSearch) -> Self {
        let search = search.clone().normalized();
        ExportFilters {
            text: search.text,
            status: search.status.map(|s| s.as_str().to_string()),
            tag: search.tag,
            from: search.since.map(day_of),
            to: search.until.map(day_before),
            ..ExportFilters::default()
        }
    }
}

impl From<&ContactSearch> for ExportFilters {
    fn from(search: &ContactSearch) -> Self {
        ExportFilters {
            text: search.text.clone().filter(|t| !t.trim().is_empty()),
            status: search.unsubscribed.map(|u| if u { "unsubscribed" } else { "subscribed" }.to_string()),
            segment: search.segment,
            ..ExportFilters::default()
        }
    }
}

impl From<&LogFilter> for ExportFilters {
    fn from(filter: &LogFilter) -> Self {
        ExportFilters {
            key: filter.key,
            status: filter.status.map(|s| s.as_str().to_string()),
            method: filter.method.clone(),
            from: filter.since.map(day_of),
            to: filter.until.map(day_before),
            ..ExportFilters::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_survive_the_form_and_the_list_searches() {
        let search = EmailSearch {
            text: Some(" Invoice ".into()),
            status: Some(EventKind::Bounced),
            tag: None,
            since: Some(day_start(NaiveDate::from_ymd_opt(2025, 1, 2).unwrap())),
            until: Some(day_start(NaiveDate::from_ymd_opt(2025, 1, 4).unwrap())),
        };
        let filters = ExportFilters::from(&search);
        assert_eq!(filters.to, NaiveDate::from_ymd_opt(2025, 1, 3), "the exclusive end is the day before");
        let fields = filters.fields();
        let again = ExportFilters::from_fields(|name| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
            .unwrap()
            .checked(ExportKind::Emails)
            .unwrap();
        assert_eq!(again, filters);
        assert_eq!(again.email_search(), search.normalized());
        let json = serde_json::to_string(&again).unwrap();
        assert_eq!(serde_json::from_str::<ExportFilters>(&json).unwrap(), again);
    }

    #[test]
    fn each_kind_keeps_its_own_filters_and_checks_their_values() {
        let filters = ExportFilters { status: Some("bounced".into()), tag: Some("x".into()), ..Default::default() };
        assert!(filters.clone().checked(ExportKind::Domains).unwrap().is_empty(), "domains have no filters");
        let refused = filters.checked(ExportKind::Contacts).unwrap_err();
        assert!(refused.to_string().contains("`status`"), "{refused}");
        let method = ExportFilters { method: Some("TRACE".into()), ..Default::default() };
        assert!(method.checked(ExportKind::Logs).unwrap_err().to_string().contains("`method`"));
        let bad_date = ExportFilters::from_fields(|n| (n == "from").then(|| "yesterday".to_string()));
        assert!(bad_date.unwrap_err().to_string().contains("`from`"));
        let contacts = ExportFilters { status: Some("unsubscribed".into()), ..Default::default() };
        assert_eq!(contacts.checked(ExportKind::Contacts).unwrap().contact_search().unsubscribed, Some(true));
    }
}
