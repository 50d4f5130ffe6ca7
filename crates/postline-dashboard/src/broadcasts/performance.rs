//! A broadcast that can no longer change (sending, sent or canceled), with its
//! performance: how many of its emails were delivered, opened, clicked, unsubscribed,
//! bounced and complained, the open, click and unsubscribe rates (core's
//! `broadcast_stats`), opens and clicks over time (the `GET /emails/metrics` use case
//! for this broadcast, drawn by the Metrics page's charts), the clicked links, and
//! the recipients who reached each stage — with the reference's warning that open
//! rates can be inaccurate.

use axum::response::Response;
use chrono::Duration;
use maud::html;
use postline_core::{
    Error,
    broadcasts::{
        Broadcast,
        stats::{BroadcastStats, ClickedLink, RECIPIENT_TYPES, RecipientRow},
    },
    clock::Timestamp,
    pagination::{Page, PageRequest},
};
use serde_json::Value;

use super::{ShowQuery, actions, notice, preview, recipients::recipients, status_badge, title};
use crate::{
    DashboardState,
    format::time,
    layout::{self, Section, failure},
    metrics::{chart::chart, data::Metrics, data::count},
    paging,
    session::Viewer,
};

const RECIPIENTS_PAGE: u32 = 50;

/// The counts shown as cards, in order.
const COUNTS: [(&str, &str); 6] = [
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("unsubscribed", "Unsubscribed"),
    ("bounced", "Bounced"),
    ("complained", "Complained"),
];

/// The rates shown (each of the emails delivered), in order.
const RATES: [(&str, &str); 3] =
    [("open_rate", "Open rate"), ("click_rate", "Click rate"), ("unsubscribe_rate", "Unsubscribe rate")];

/// A rate (0–1) as a percentage for people.
fn percent(rate: f64) -> String {
    let percent = rate * 100.0;
    if percent == percent.trunc() { format!("{percent:.0} %") } else { format!("{percent:.1} %") }
}

/// How often a recipient opened or clicked.
pub fn times(n: u64) -> String {
    if n == 1 { "once".to_string() } else { format!("{} times", count(n)) }
}

/// The chart's granularity for the time since sending: hours for the first days,
/// then days, then weeks (the Metrics page's names and the use case's).
fn granularity(since: Timestamp, now: Timestamp) -> (&'static str, &'static str) {
    match now - since {
        span if span <= Duration::days(3) => ("hour", "hourly"),
        span if span <= Duration::days(90) => ("day", "daily"),
        _ => ("week", "weekly"),
    }
}

/// The recipient stage shown: the one asked for, else delivered once there is any.
pub fn chosen_kind(query: &ShowQuery, stats: &BroadcastStats) -> &'static str {
    let asked = query.kind.as_deref().and_then(|k| RECIPIENT_TYPES.iter().find(|t| **t == k));
    match asked {
        Some(kind) => kind,
        None if stats.count("delivered") > 0 => "delivered",
        None => "sent",
    }
}

/// Everything the page reads.
pub struct Loaded {
    pub stats: BroadcastStats,
    pub links: Vec<ClickedLink>,
    pub recipients: Page<RecipientRow>,
    pub timeline: Option<(Metrics, &'static str)>,
    pub preview: Option<String>,
    pub subject: String,
}

async fn load(
    state: &DashboardState,
    viewer: &Viewer,
    broadcast: &Broadcast,
    query: &ShowQuery,
) -> Result<Loaded, Error> {
    let team = viewer.team_id();
    let (_, stats) = state.postline.broadcast_stats(team, broadcast.id).await?;
    let links = state
        .postline
        .broadcast_clicked_links(team, broadcast.id, PageRequest { limit: 100, ..Default::default() })
        .await?
        .items
        .into_iter()
        .map(|(_, link)| link)
        .collect();
    let kind = chosen_kind(query, &stats);
    let page = PageRequest { limit: RECIPIENTS_PAGE, cursor: paging::cursor(&query.after, &query.before) };
    let recipients = state.postline.broadcast_recipients(team, broadcast.id, Some(kind), None, None, page).await?;
    let timeline = match broadcast.sent_at.or(broadcast.send_at) {
        Some(since) if stats.emails > 0 => {
            let now = state.postline.clock().now();
            let (step, name) = granularity(since, now);
            let pairs: Vec<(String, String)> = [
                ("broadcast_id", broadcast.id.to_string()),
                ("dimensions", "period".to_string()),
                ("granularity", name.to_string()),
                ("start_date", since.to_rfc3339()),
                ("metrics", "sent,delivered,bounced,complained,opened,clicked".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            let answer: Value = state.postline.email_metrics(team, &pairs).await?;
            Some((Metrics::from_answer(&answer), step))
        }
        _ => None,
    };
    Ok(Loaded {
        stats,
        links,
        recipients,
        timeline,
        preview: preview::render(state, viewer, broadcast).await?,
        subject: preview::subject(state, viewer, broadcast).await?,
    })
}

/// The broadcast's page once it can no longer change.
pub async fn page(state: &DashboardState, viewer: &Viewer, broadcast: Broadcast, query: &ShowQuery) -> Response {
    let loaded = match load(state, viewer, &broadcast, query).await {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let json = loaded.stats.to_json();
    let base = format!("/dashboard/broadcasts/{}", broadcast.id);
    let content = html! {
        p.back { a href="/dashboard/broadcasts" { "← Broadcasts" } }
        div.heading-row { h1 { (title(&broadcast)) } (status_badge(&broadcast)) }
        (notice(query))
        (actions::bar(viewer, &broadcast))
        dl.summary {
            dt { "From" } dd { (broadcast.from) }
            dt { "Subject" } dd { (broadcast.subject) }
            @if let Some(at) = broadcast.sent_at { dt { "Sent" } dd { (time(at)) } }
            dt { "Emails queued" } dd { (count(broadcast.fanned_out)) }
        }
        section aria-labelledby="performance-title" {
            h2 #performance-title { "Performance" }
            div.stat-cards {
                @for (metric, label) in COUNTS {
                    div.stat-card { span.label { (label) } span.big { (count(loaded.stats.count(metric))) } }
                }
                @for (metric, label) in RATES {
                    div.stat-card.rate { span.label { (label) } span.big { (percent(json[metric].as_f64().unwrap_or_default())) } }
                }
            }
            p.muted.hint { "Rates are of the emails delivered. Opens by privacy proxies and clicks by link scanners are left out." }
            p.note {
                strong { "Open rates can be inaccurate. " }
                "Inbox providers handle incoming email in ways that hide or fake opens: some load every image in advance \
                 (counting emails nobody read), others block images (hiding real reads). Treat the open rate as a trend, \
                 and clicks as the surer signal."
            }
            @match &loaded.timeline {
                // Empty charts say nothing a sentence cannot.
                Some((metrics, step)) if metrics.total("opened") + metrics.total("clicked") > 0 => {
                    div.charts {
                        @for series in metrics.series.iter().filter(|s| s.metric == "opened" || s.metric == "clicked") {
                            (chart(series, &metrics.periods, step))
                        }
                    }
                }
                _ => p.empty { "No opens or clicks yet: they are charted here over time as they come in." },
            }
        }
        section aria-labelledby="links-title" {
            h2 #links-title { "Clicked links" }
            @if loaded.links.is_empty() {
                p.empty { "No clicks yet." }
            } @else {
                div.scroll {
                    table.list.links {
                        thead { tr { th scope="col" { "Link" } th scope="col" { "Clicks" } th scope="col" { "Unique clicks" } } }
                        tbody {
                            @for link in &loaded.links {
                                tr { td { code { (link.url) } } td.count { (count(link.clicks)) } td.count { (count(link.unique_clicks)) } }
                            }
                        }
                    }
                }
            }
        }
        (recipients(&base, query, &loaded))
        details {
            summary { "Content" }
            p { span.muted { "Subject as " (viewer.0.user.email) " would get it: " } (loaded.subject) }
            @match &loaded.preview {
                Some(html) => iframe.preview sandbox="" title="Email preview" srcdoc=(html) {},
                None => p.empty { "This broadcast has no content." },
            }
        }
    };
    layout::page("Broadcast", viewer, Section::Broadcasts, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.5), "50 %");
        assert_eq!(percent(0.3333), "33.3 %");
        assert_eq!((times(1), times(1200)), ("once".to_string(), "1,200 times".to_string()));
    }

    #[test]
    fn the_chart_steps_grow_with_the_time_since_sending() {
        let sent: Timestamp = "2026-07-01T10:00:00Z".parse().unwrap();
        assert_eq!(granularity(sent, sent + Duration::hours(5)), ("hour", "hourly"));
        assert_eq!(granularity(sent, sent + Duration::days(10)), ("day", "daily"));
        assert_eq!(granularity(sent, sent + Duration::days(200)), ("week", "weekly"));
    }

    #[test]
    fn the_recipient_stage_is_one_core_knows() {
        let mut stats = BroadcastStats::default();
        let asked = |kind: &str| ShowQuery { kind: Some(kind.into()), ..ShowQuery::default() };
        assert_eq!(chosen_kind(&asked("<b>"), &stats), "sent");
        stats.by_event.insert("delivered".into(), 2);
        assert_eq!(chosen_kind(&ShowQuery::default(), &stats), "delivered");
        assert_eq!(chosen_kind(&asked("bounced"), &stats), "bounced");
    }
}
