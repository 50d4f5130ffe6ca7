//! One export: `GET /dashboard/exports/{id}` (its details, for everyone in the team,
//! with the download link for admins while the file is available) and
//! `GET /dashboard/exports/{id}/download` (the CSV, for admins only, streamed piece by
//! piece from the store as an attachment).

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::html;
use postline_core::{
    Error,
    exports::{AVAILABLE_FOR, ExportId, ExportStatus},
};

use super::{described, status_badge};
use crate::{
    DashboardState,
    format::{size, time},
    layout::{self, Section, error_page, failure},
    session::{Viewer, admin_refusal},
};

/// `GET /dashboard/exports/{id}`
pub async fn detail(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let export = match async { state.postline.get_export(viewer.team_id(), ExportId::parse(&id)?).await }.await {
        Ok(export) => export,
        Err(error) => return failure(error),
    };
    let now = state.postline.clock().now();
    let status = export.shown_status(now);
    let filters = described(&state, viewer.team_id(), export.kind, &export.filters).await;
    let content = html! {
        p { a href="/dashboard/exports" { "← Exports" } }
        h1 { (export.kind.label()) " export" }
        dl.summary {
            dt { "Status" } dd { (status_badge(&export, now)) }
            dt { "Rows" } dd { @match export.rows { Some(rows) => { (rows) } None => { span.muted { "not counted yet" } } } }
            @if let Some(bytes) = export.file_bytes { dt { "Size" } dd { (size(bytes)) } }
            dt { "Requested by" } dd { (export.requester_email) }
            dt { "Created" } dd { (time(export.created_at)) }
            @if let Some(at) = export.completed_at { dt { "Completed" } dd { (time(at)) } }
            dt { @if status == ExportStatus::Expired { "Expired" } @else { "Available until" } } dd { (time(export.expires_at())) }
        }
        h2 { "Filters" }
        (filters)
        @match status {
            ExportStatus::Pending => p { "The file is being prepared in the background. Reload this page to see when it is ready." },
            ExportStatus::Failed => p.error { "This export failed: " (export.failure.as_deref().unwrap_or("unknown reason")) ". Start a new one from the Exports page." },
            ExportStatus::Expired => p { "Expired: export files are kept for " (AVAILABLE_FOR.num_days()) " days. Start a new export to get the data again." },
            ExportStatus::Ready => @if viewer.is_admin() {
                p { a.button #download href={ "/dashboard/exports/" (export.id) "/download" } download=(export.file_name()) { "Download CSV" } }
            } @else {
                p.muted { "Only admins of this team can download exports." }
            },
        }
    };
    layout::page("Export", &viewer, Section::Exports, content)
}

/// `GET /dashboard/exports/{id}/download`
pub async fn download(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    if let Some(refused) = admin_refusal(&viewer) {
        return refused;
    }
    let export = match async { state.postline.downloadable_export(&viewer.0.user, ExportId::parse(&id)?).await }.await {
        Ok(export) => export,
        Err(Error::Conflict(message)) => {
            let status = if message.contains("expired") { StatusCode::GONE } else { StatusCode::CONFLICT };
            return error_page(status, &message);
        }
        Err(error) => return failure(error),
    };
    let (postline, team_id, export_id) = (state.postline.clone(), viewer.team_id(), export.id);
    // Piece by piece, so a large file never sits whole in memory.
    let pieces = futures::stream::unfold(Some(0u32), move |next| {
        let postline = postline.clone();
        async move {
            let seq = next?;
            match postline.export_chunk(team_id, export_id, seq).await {
                Ok(Some(piece)) => Some((Ok(piece), Some(seq + 1))),
                Ok(None) => None,
                Err(error) => {
                    tracing::error!(%error, export = %export_id, "an export's file could not be read");
                    Some((Err(std::io::Error::other(error.to_string())), None))
                }
            }
        }
    });
    let mut response = Body::from_stream(pieces).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.file_name())) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    if let Some(bytes) = export.file_bytes {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}
