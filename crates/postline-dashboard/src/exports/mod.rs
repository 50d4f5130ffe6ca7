//! The Exports pages (the reference's "Export your data"): every export of the team
//! with its status, rows, filters, requester and time, and a "New export" form
//! ([`list`]); the confirmation of a kind and its filters and the start of the export
//! ([`confirm`]: at most 1,000 rows download at once, more are produced in the
//! background); one export's details and its download ([`detail`]). Everyone in the
//! team sees the list and details; only admins start exports and download them, for
//! seven days. List pages offer [`export_button`] with their current filters.

mod confirm;
mod detail;
mod list;

pub use confirm::{confirm, start};
pub use detail::{detail, download};
pub use list::list;

use maud::{Markup, html};
use postline_core::{
    exports::{Export, ExportFilters, ExportKind, ExportStatus},
    ids::TeamId,
};

use crate::{DashboardState, session::Viewer};

/// A list page's "Export" button: to the confirmation of `kind` with the page's
/// current `filters`, for admins only (members cannot export).
pub(crate) fn export_button(viewer: &Viewer, kind: ExportKind, filters: &ExportFilters) -> Markup {
    if !viewer.is_admin() {
        return html! {};
    }
    html! {
        form.export method="get" action="/dashboard/exports/new" {
            input type="hidden" name="kind" value=(kind.as_str());
            @for (name, value) in filters.fields() {
                input type="hidden" name=(name) value=(value);
            }
            button type="submit" { "Export CSV" span.visually-hidden { " of these " (kind.label().to_lowercase()) } }
        }
    }
}

/// A filter's label for a kind.
fn label(kind: ExportKind, field: &str) -> &'static str {
    match (kind, field) {
        (ExportKind::Emails, "text") => "Recipient or subject",
        (_, "text") => "Address or name",
        (_, "status") => "Status",
        (_, "tag") => "Tag",
        (_, "segment") => "Segment",
        (_, "key") => "API key",
        (_, "method") => "Method",
        (_, "from") => "From",
        (_, "to") => "To",
        _ => "Filter",
    }
}

/// The filters in words, with segment and key names looked up in the team (an id
/// that is not the team's is shown as it is).
async fn described(state: &DashboardState, team_id: TeamId, kind: ExportKind, filters: &ExportFilters) -> Markup {
    let mut lines = Vec::new();
    for (field, value) in filters.fields() {
        let shown = match field {
            "segment" => match filters.segment {
                Some(id) => state.postline.get_segment(team_id, id).await.map(|s| s.name).unwrap_or(value),
                None => value,
            },
            "key" => match filters.key {
                Some(id) => state.postline.get_api_key(team_id, id).await.map(|k| k.name).unwrap_or(value),
                None => value,
            },
            _ => value,
        };
        lines.push((label(kind, field), shown));
    }
    html! {
        @if lines.is_empty() {
            span.muted { "None: every row" }
        } @else {
            dl.summary.filters-used {
                @for (label, value) in &lines { dt { (label) } dd { (value) } }
            }
        }
    }
}

/// A status badge with its word (the colour only repeats it).
fn status_badge(export: &Export, now: postline_core::clock::Timestamp) -> Markup {
    let status = export.shown_status(now);
    let tone = match status {
        ExportStatus::Ready => "good",
        ExportStatus::Pending => "neutral",
        ExportStatus::Failed => "bad",
        ExportStatus::Expired => "warn",
    };
    let word = match status {
        ExportStatus::Ready => "Ready",
        ExportStatus::Pending => "Pending",
        ExportStatus::Failed => "Failed",
        ExportStatus::Expired => "Expired",
    };
    html! { span class={ "badge " (tone) } { (word) } }
}
