//! The performance page's recipients: those who reached one stage of delivery
//! (core's `broadcast_recipients`), a stage per tab with its count, a page at a time,
//! each leading to the email's own timeline.

use maud::{Markup, html};
use postline_core::{broadcasts::stats::RECIPIENT_TYPES, emails::EventKind};

use super::{
    ShowQuery,
    performance::{Loaded, chosen_kind, times},
};
use crate::{format, metrics::data::count};

/// The recipients who reached one stage, a stage per tab (with its count), a page at
/// a time; each row leads to the email's own timeline.
pub fn recipients(base: &str, query: &ShowQuery, loaded: &Loaded) -> Markup {
    let kind = chosen_kind(query, &loaded.stats);
    let found = &loaded.recipients;
    let given = |cursor: &Option<String>| cursor.as_deref().is_some_and(|c| !c.is_empty());
    let (forwards, backwards) = (given(&query.after), given(&query.before));
    let newer = forwards || (backwards && found.has_more);
    let older = backwards || found.has_more;
    let event = EventKind::parse(kind);
    html! {
        section #recipients aria-labelledby="recipients-title" {
            h2 #recipients-title { "Recipients" }
            nav.subnav aria-label="Recipients by stage" {
                ul {
                    @for stage in RECIPIENT_TYPES {
                        li {
                            @let label = format!("{} ({})", stage, count(loaded.stats.count(stage)));
                            @if stage == kind {
                                a href={ (base) "?type=" (stage) "#recipients" } aria-current="page" { (label) }
                            } @else {
                                a href={ (base) "?type=" (stage) "#recipients" } { (label) }
                            }
                        }
                    }
                }
            }
            @if found.items.is_empty() {
                p.empty { "No recipient " (kind.replace('_', " ")) " yet." }
            } @else {
                div.scroll {
                    table.list.recipients {
                        thead { tr { th scope="col" { "Recipient" } th scope="col" { "Status" } th scope="col" { "Details" } } }
                        tbody {
                            @for row in &found.items {
                                tr {
                                    td { a href={ "/dashboard/emails/" (row.email_id) } { (row.email) } }
                                    td { @if let Some(event) = event { (format::status(event)) } }
                                    td {
                                        @if matches!(kind, "opened" | "clicked") { (times(row.count)) }
                                        @if let Some(bounce) = &row.bounce_type { (bounce) " bounce" }
                                        @if !row.clicked_links.is_empty() {
                                            ul.plain {
                                                @for (url, clicks) in &row.clicked_links { li { code { (url) } " × " (clicks) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            nav.pages aria-label="Recipient pages" {
                @if newer {
                    @if let Some(first) = found.items.first() {
                        a href={ (base) "?type=" (kind) "&before=" (first.email_id) "#recipients" } { "← Previous" }
                    }
                }
                @if older {
                    @if let Some(last) = found.items.last() {
                        a href={ (base) "?type=" (kind) "&after=" (last.email_id) "#recipients" } { "Next →" }
                    }
                }
            }
        }
    }
}
