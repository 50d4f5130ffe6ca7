//! Where each kind's rows come from: the same use cases as the list pages (so an
//! export holds what the filtered list shows, newest first), a page at a time, each
//! row turned into the CSV's cells. API keys are exported as the list shows them:
//! name, permission, domain, dates and request count — never a token or its hash.

use std::collections::HashMap;

use super::{ExportFilters, ExportKind};
use crate::{
    Postline, Result,
    clock::{Timestamp, rfc3339},
    ids::{ApiKeyId, TeamId},
    pagination::{Cursor, PageRequest},
};

/// Rows read per page.
const PAGE_ROWS: u32 = 500;

/// The header row of a kind's file.
pub(super) fn header(kind: ExportKind) -> &'static [&'static str] {
    match kind {
        ExportKind::Emails => {
            &["id", "created_at", "from", "to", "cc", "bcc", "reply_to", "subject", "status", "tags", "scheduled_at"]
        }
        ExportKind::Broadcasts => &[
            "id",
            "name",
            "status",
            "from",
            "subject",
            "segment_id",
            "topic_id",
            "scheduled_at",
            "sent_at",
            "created_at",
        ],
        ExportKind::Contacts => {
            &["id", "email", "first_name", "last_name", "unsubscribed", "properties", "created_at", "updated_at"]
        }
        ExportKind::Segments => &["id", "name", "created_at"],
        ExportKind::Domains => &[
            "id",
            "name",
            "status",
            "region",
            "return_path",
            "open_tracking",
            "click_tracking",
            "tls",
            "sending",
            "receiving",
            "created_at",
        ],
        ExportKind::Logs => {
            &["id", "created_at", "method", "path", "status", "api_key_id", "api_key_name", "user_agent", "duration_ms"]
        }
        ExportKind::ApiKeys => {
            &["id", "name", "permission", "domain_id", "created_at", "last_used_at", "request_count"]
        }
    }
}

fn time(at: Timestamp) -> String {
    rfc3339(at)
}

fn opt_time(at: Option<Timestamp>) -> String {
    at.map(time).unwrap_or_default()
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Reads a kind's rows page by page.
pub(super) struct Source {
    team_id: TeamId,
    kind: ExportKind,
    filters: ExportFilters,
    cursor: Cursor,
    done: bool,
    /// Key names (logs) and request counts (API keys), read once.
    key_names: HashMap<ApiKeyId, String>,
    counts: HashMap<ApiKeyId, u64>,
}

impl Source {
    pub(super) async fn new(
        postline: &Postline,
        team_id: TeamId,
        kind: ExportKind,
        filters: ExportFilters,
    ) -> Result<Self> {
        let mut source = Source {
            team_id,
            kind,
            filters,
            cursor: Cursor::Start,
            done: false,
            key_names: HashMap::new(),
            counts: HashMap::new(),
        };
        if kind == ExportKind::Logs {
            let mut cursor = Cursor::Start;
            loop {
                let keys = postline.list_api_keys(team_id, PageRequest { limit: 100, cursor }).await?;
                source.key_names.extend(keys.items.iter().map(|k| (k.id, k.name.clone())));
                match keys.items.last() {
                    Some(last) if keys.has_more => cursor = Cursor::After(last.id.to_string()),
                    _ => break,
                }
            }
        }
        if kind == ExportKind::ApiKeys {
            source.counts = postline.request_counts(team_id).await?;
        }
        Ok(source)
    }

    /// The next page of rows; empty once every row was read.
    pub(super) async fn next_page(&mut self, postline: &Postline) -> Result<Vec<Vec<String>>> {
        if self.done {
            return Ok(Vec::new());
        }
        let page = PageRequest { limit: PAGE_ROWS, cursor: self.cursor.clone() };
        let team = self.team_id;
        let (rows, last, more) = match self.kind {
            ExportKind::Emails => {
                let found = postline.search_emails(team, self.filters.email_search(), page).await?;
                let last = found.items.last().map(|e| e.id.to_string());
                let rows = found
                    .items
                    .into_iter()
                    .map(|e| {
                        let tags: Vec<String> = e.tags.iter().map(|t| format!("{}={}", t.name, t.value)).collect();
                        vec![
                            e.id.to_string(),
                            time(e.created_at),
                            e.from,
                            e.to.join("; "),
                            e.cc.join("; "),
                            e.bcc.join("; "),
                            e.reply_to.join("; "),
                            e.subject,
                            e.last_event.as_str().to_string(),
                            tags.join("; "),
                            opt_time(e.scheduled_at),
                        ]
                    })
                    .collect();
                (rows, last, found.has_more)
            }
            ExportKind::Broadcasts => {
                let found = postline.list_broadcasts(team, page).await?;
                let last = found.items.last().map(|b| b.id.to_string());
                let rows = found
                    .items
                    .into_iter()
                    .map(|b| {
                        vec![
                            b.id.to_string(),
                            b.name.unwrap_or_default(),
                            b.status.as_str().to_string(),
                            b.from,
                            b.subject,
                            opt(b.segment_id),
                            opt(b.topic_id),
                            opt_time(b.scheduled_at),
                            opt_time(b.sent_at),
                            time(b.created_at),
                        ]
                    })
                    .collect();
                (rows, last, found.has_more)
            }
            ExportKind::Contacts => {
                let found = postline.search_contacts(team, self.filters.contact_search(), page).await?;
                let last = found.items.last().map(|c| c.id.to_string());
                let rows = found
                    .items
                    .into_iter()
                    .map(|c| {
                        vec![
                            c.id.to_string(),
                            c.email,
                            c.first_name.unwrap_or_default(),
                            c.last_name.unwrap_or_default(),
                            c.unsubscribed.to_string(),
                            serde_json::Value::Object(c.properties).to_string(),
                            time(c.created_at),
                            time(c.updated_at),
                        ]
                    })
                    .collect();
                (rows, last, found.has_more)
            }
            ExportKind::Segments => {
                let found = postline.list_segments(team, page).await?;
                let last = found.items.last().map(|s| s.id.to_string());
                let rows =
                    found.items.into_iter().map(|s| vec![s.id.to_string(), s.name, time(s.created_at)]).collect();
                (rows, last, found.has_more)
            }
            ExportKind::Domains => {
                let found = postline.list_domains(team, page).await?;
                let last = found.items.last().map(|d| d.id.to_string());
                let rows = found
                    .items
                    .into_iter()
                    .map(|d| {
                        vec![
                            d.id.to_string(),
                            d.name,
                            d.status.as_str().to_string(),
                            d.region,
                            d.return_path,
                            d.open_tracking.to_string(),
                            d.click_tracking.to_string(),
                            d.tls.as_str().to_string(),
                            d.sending.to_string(),
                            d.receiving.to_string(),
                            time(d.created_at),
                        ]
                    })
                    .collect();
                (rows, last, found.has_more)
            }
            ExportKind::Logs => {
                let found = postline.search_request_logs(team, &self.filters.log_filter(), page).await?;
                let last = found.items.last().map(|l| l.id.to_string());
                let rows = found
                    .items
                    .into_iter()
                    .map(|l| {
                        vec![
                            l.id.to_string(),
                            time(l.created_at),
                            l.method,
                            l.path,
                            l.status.to_string(),
                            l.api_key_id.to_string(),
                            self.key_names.get(&l.api_key_id).cloned().unwrap_or_default(),
                            l.user_agent.unwrap_or_default(),
                            l.duration_ms.to_string(),
                        ]
                    })
                    .collect();
                (rows, last, found.has_more)
            }
            ExportKind::ApiKeys => {
                let found = postline.list_api_keys(team, page).await?;
                let last = found.items.last().map(|k| k.id.to_string());
                let rows = found
                    .items
                    .into_iter()
                    .map(|k| {
                        vec![
                            k.id.to_string(),
                            k.name,
                            k.permission.as_str().to_string(),
                            opt(k.domain_id),
                            time(k.created_at),
                            opt_time(k.last_used_at),
                            self.counts.get(&k.id).copied().unwrap_or(0).to_string(),
                        ]
                    })
                    .collect();
                (rows, last, found.has_more)
            }
        };
        match last {
            Some(last) if more => self.cursor = Cursor::After(last),
            _ => self.done = true,
        }
        Ok(rows)
    }
}
