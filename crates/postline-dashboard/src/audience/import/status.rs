//! Step three of an import: where it stands — queued, in progress with the rows read
//! so far, completed or failed — its counts, and the report of the rows it could not
//! import (row number, the address given, the reason). The part that changes is
//! reloaded by `app.js` (`data-poll`) until the import settles (`x-settled`).

use axum::{
    extract::{Path, State},
    http::HeaderValue,
    response::{IntoResponse, Response},
};
use maud::{Markup, html};
use postline_core::{
    audience::imports::{ContactImport, ImportStatus, MAX_ERRORS_KEPT, RowError},
    ids::ContactImportId,
};

use super::{Area, file_size, settled, subnav};
use crate::{
    DashboardState,
    format::time,
    layout::{self, Section, failure},
    session::Viewer,
};

/// A status badge in words.
pub fn badge(status: ImportStatus) -> Markup {
    let (tone, words) = match status {
        ImportStatus::Draft => ("neutral", "waiting for its mapping"),
        ImportStatus::Queued => ("neutral", "queued"),
        ImportStatus::InProgress => ("warn", "in progress"),
        ImportStatus::Completed => ("good", "completed"),
        ImportStatus::Failed => ("bad", "failed"),
    };
    html! { span class={ "badge " (tone) } { (words) } }
}

/// The part of the page that changes while the import runs.
fn report(import: &ContactImport, errors: &[RowError]) -> Markup {
    let c = &import.counts;
    html! {
        p { "Status: " (badge(import.status)) @if let Some(done) = import.completed_at { " " (time(done)) } }
        @if !settled(import.status) {
            p { (import.rows_done) " rows read so far. This page follows the import as it runs." }
        }
        @if let Some(reason) = &import.failure { p.error { "The import stopped: " (reason) } }
        dl.summary {
            dt { "Rows" } dd { (c.total) }
            dt { "Created" } dd { (c.created) }
            dt { "Updated" } dd { (c.updated) }
            dt { "Skipped (already contacts)" } dd { (c.skipped) }
            dt { "Could not be imported" } dd { (c.failed) }
        }
        @if !errors.is_empty() {
            h2 { "Rows not imported" }
            @if c.failed as usize > errors.len() {
                p.muted { "The first " (errors.len()) " of " (c.failed) " are listed" @if c.failed as usize > MAX_ERRORS_KEPT { " (" (MAX_ERRORS_KEPT) " are kept)" } "." }
            }
            div.scroll {
                table.list.bad-rows {
                    thead { tr { th scope="col" { "Row" } th scope="col" { "Value" } th scope="col" { "Reason" } } }
                    tbody {
                        @for e in errors {
                            tr {
                                td { (e.row) }
                                td { @if let Some(email) = &e.email { code { (email) } } @else { span.muted { "empty" } } }
                                td { (e.message) }
                            }
                        }
                    }
                }
            }
        } @else if import.status == ImportStatus::Completed {
            p { "Every row was imported." }
        }
        @if settled(import.status) {
            p { a href="/dashboard/audience" { "See your contacts" } }
        }
    }
}

/// The whole status page.
pub fn page(viewer: &Viewer, import: &ContactImport, errors: &[RowError]) -> Response {
    let done = if settled(import.status) { "true" } else { "false" };
    let content = html! {
        p { a href="/dashboard/audience/import" { "← Import" } }
        h1 { "Contact import" }
        (subnav(Area::Contacts))
        ol.steps aria-label="Steps" { li { "Upload" } li { "Map columns" } li aria-current="step" { "Import" } }
        p.muted { "Started " (time(import.created_at)) ", " (file_size(import.file_bytes)) "." }
        div #import-report data-poll={ "/dashboard/audience/import/" (import.id) "/progress" } data-settled=(done) aria-live="polite" {
            (report(import, errors))
        }
    };
    layout::page("Contact import", viewer, Section::Audience, content)
}

/// `GET /dashboard/audience/import/{id}/progress`: the report alone, for the page's
/// refresh; `x-settled: true` once it can change no more.
pub async fn progress(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let found = match ContactImportId::parse(&id) {
        Ok(id) => state.postline.get_contact_import(viewer.team_id(), id).await,
        Err(error) => Err(error),
    };
    match found {
        Ok((import, errors)) => {
            let mut response = report(&import, &errors).into_response();
            let done = if settled(import.status) { "true" } else { "false" };
            response.headers_mut().insert("x-settled", HeaderValue::from_static(done));
            response
        }
        Err(error) => failure(error),
    }
}
