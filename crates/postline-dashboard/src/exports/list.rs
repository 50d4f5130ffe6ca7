//! `GET /dashboard/exports`: the team's exports, newest first, and — for admins —
//! the "New export" form (a resource and its filters), which goes on to the
//! confirmation; a refused filter comes back here beside its field.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use maud::{Markup, html};
use postline_core::{
    Error,
    exports::{ExportKind, filters::statuses_of},
    pagination::PageRequest,
    request_logs::METHODS,
};
use serde::Deserialize;

use super::{described, status_badge};
pub(super) use crate::fields::FieldError;
use crate::{
    DashboardState,
    format::{size, time},
    layout::{self, Section, failure},
    session::Viewer,
};

const PAGE_SIZE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    after: Option<String>,
    before: Option<String>,
}

/// The "New export" form's values as typed.
pub(super) type Fields = Vec<(String, String)>;

pub(super) fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// Core's refusal, on the filter it names (`kind` unless it names one).
pub(super) fn refusal(message: String) -> FieldError {
    let field = postline_core::exports::filters::FIELDS
        .into_iter()
        .find(|f| message.contains(&format!("`{f}`")))
        .unwrap_or("kind");
    FieldError::new(field, message)
}

/// `GET /dashboard/exports`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer, Query(query): Query<ListQuery>) -> Response {
    render(&state, &viewer, &query, &Fields::new(), None).await
}

pub(super) async fn render(
    state: &DashboardState,
    viewer: &Viewer,
    query: &ListQuery,
    fields: &Fields,
    error: Option<FieldError>,
) -> Response {
    let page = PageRequest { limit: PAGE_SIZE, cursor: crate::paging::cursor(&query.after, &query.before) };
    let found = match state.postline.list_exports(viewer.team_id(), page).await {
        Ok(found) => found,
        Err(error) => return failure(error),
    };
    let now = state.postline.clock().now();
    let mut filters = Vec::new();
    for export in &found.items {
        filters.push(described(state, viewer.team_id(), export.kind, &export.filters).await);
    }
    let form = if viewer.is_admin() {
        match new_form(state, viewer, fields, error.as_ref()).await {
            Ok(form) => form,
            Err(error) => return failure(error),
        }
    } else {
        html! { p.muted { "Only admins of this team can export data and download exports." } }
    };
    let content = html! {
        h1 { "Exports" }
        p.muted { "Exports of up to 1,000 rows download at once; larger ones are prepared in the background and appear here. Admins can download each export for 7 days, after which it is marked expired." }
        @if found.items.is_empty() {
            p.empty { "No exports yet." }
        } @else {
            div.scroll {
                table.list.exports {
                    thead { tr { th scope="col" { "Resource" } th scope="col" { "Status" } th scope="col" { "Rows" } th scope="col" { "Filters" } th scope="col" { "Requested by" } th scope="col" { "Created" } } }
                    tbody {
                        @for (export, filters) in found.items.iter().zip(&filters) {
                            tr {
                                td { a href={ "/dashboard/exports/" (export.id) } { (export.kind.label()) } }
                                td { (status_badge(export, now)) }
                                td { @match export.rows { Some(rows) => { (rows) @if let Some(bytes) = export.file_bytes { " " span.muted { "(" (size(bytes)) ")" } } } None => { span.muted { "—" } } } }
                                td { (filters) }
                                td { (export.requester_email) }
                                td { (time(export.created_at)) }
                            }
                        }
                    }
                }
            }
            nav.pages aria-label="Pages" {
                @if let Some(first) = found.items.first() {
                    @if query.after.as_deref().is_some_and(|a| !a.is_empty()) || query.before.is_some() {
                        a href={ "/dashboard/exports?before=" (first.id) } { "← Newer" }
                    }
                }
                @if found.has_more {
                    @if let Some(last) = found.items.last() {
                        a href={ "/dashboard/exports?after=" (last.id) } { "Older →" }
                    }
                }
            }
        }
        section aria-labelledby="new-export" {
            h2 #new-export { "New export" }
            (form)
        }
    };
    let mut response = layout::page("Exports", viewer, Section::Exports, content);
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

fn error_line(name: &str, message: Option<&str>) -> Markup {
    html! { @if let Some(message) = message { p.field-error id={ "export-" (name) "-error" } { (message) } } }
}

/// A labelled select of `(value, label)` options with "Any" first.
fn select(
    name: &str,
    label: &str,
    hint: &str,
    chosen: &str,
    options: &[(String, String)],
    error: Option<&str>,
) -> Markup {
    let id = format!("export-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")]
                aria-describedby={ (id) "-hint" @if error.is_some() { " " (id) "-error" } } {
                option value="" { "Any" }
                @for (value, text) in options {
                    option value=(value) selected[chosen == value] { (text) }
                }
            }
            p.muted.hint id={ (id) "-hint" } { (hint) }
            (error_line(name, error))
        }
    }
}

fn input(name: &str, kind: &str, label: &str, hint: &str, value: &str, error: Option<&str>) -> Markup {
    let id = format!("export-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) type=(kind) name=(name) value=(value) aria-invalid=[error.map(|_| "true")]
                aria-describedby={ (id) "-hint" @if error.is_some() { " " (id) "-error" } };
            p.muted.hint id={ (id) "-hint" } { (hint) }
            (error_line(name, error))
        }
    }
}

async fn new_form(
    state: &DashboardState,
    viewer: &Viewer,
    fields: &Fields,
    error: Option<&FieldError>,
) -> Result<Markup, Error> {
    let listed = PageRequest { limit: 100, ..Default::default() };
    let segments = state.postline.list_segments(viewer.team_id(), listed.clone()).await?.items;
    let keys = state.postline.list_api_keys(viewer.team_id(), listed).await?.items;
    let kinds: Vec<(String, String)> =
        ExportKind::ALL.iter().map(|k| (k.as_str().to_string(), k.label().to_string())).collect();
    let statuses: Vec<(String, String)> = [ExportKind::Emails, ExportKind::Contacts, ExportKind::Logs]
        .into_iter()
        .flat_map(|kind| {
            statuses_of(kind)
                .into_iter()
                .map(move |s| (s.to_string(), format!("{}: {}", kind.label(), s.replace('_', " "))))
        })
        .collect();
    let segment_options: Vec<(String, String)> = segments.iter().map(|s| (s.id.to_string(), s.name.clone())).collect();
    let key_options: Vec<(String, String)> = keys.iter().map(|k| (k.id.to_string(), k.name.clone())).collect();
    let methods: Vec<(String, String)> = METHODS.iter().map(|m| (m.to_string(), m.to_string())).collect();
    let kind_error = FieldError::on(error, "kind");
    Ok(html! {
        form.stacked.new-export method="get" action="/dashboard/exports/new" novalidate {
            div.field {
                label for="export-kind" { "Resource" }
                select #export-kind name="kind" aria-invalid=[kind_error.map(|_| "true")]
                    aria-describedby=[kind_error.map(|_| "export-kind-error")] {
                    @for (value, text) in &kinds {
                        option value=(value) selected[field(fields, "kind") == value] { (text) }
                    }
                }
                (error_line("kind", kind_error))
            }
            p.muted { "Filters apply where the resource's list has them; the next step shows exactly which." }
            (input("text", "search", "Search text", "Emails: recipient or subject. Contacts: address or name.", field(fields, "text"), FieldError::on(error, "text")))
            (select("status", "Status", "Emails: last event. Contacts: subscription. Logs: status class.", field(fields, "status"), &statuses, FieldError::on(error, "status")))
            (input("tag", "text", "Tag", "Emails only: a tag name.", field(fields, "tag"), FieldError::on(error, "tag")))
            (select("segment", "Segment", "Contacts only.", field(fields, "segment"), &segment_options, FieldError::on(error, "segment")))
            (select("key", "API key", "Logs only.", field(fields, "key"), &key_options, FieldError::on(error, "key")))
            (select("method", "Method", "Logs only.", field(fields, "method"), &methods, FieldError::on(error, "method")))
            (input("from", "date", "From", "Emails and logs: created on or after this day (UTC).", field(fields, "from"), FieldError::on(error, "from")))
            (input("to", "date", "To", "Emails and logs: created on or before this day (UTC).", field(fields, "to"), FieldError::on(error, "to")))
            button.primary type="submit" { "Review export" }
        }
    })
}
