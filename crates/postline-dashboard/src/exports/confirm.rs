//! Confirming and starting an export (admins only). `GET /dashboard/exports/new`
//! shows the resource and its filters in words, as core will apply them, with an
//! "Export" button; a refused filter goes back to the "New export" form beside its
//! field (422). `POST /dashboard/exports` starts it: 303 to the file itself when it
//! was made at once (the browser downloads it), or to the export's page when it is
//! produced in the background.

use axum::{
    Form,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::{
    Error,
    exports::{ExportFilters, ExportKind, IMMEDIATE_ROWS, Started},
};

use super::{
    described,
    list::{Fields, ListQuery, field, refusal, render},
};
use crate::{
    DashboardState,
    layout::{self, Section, failure},
    session::{Viewer, admin_refusal, csrf_refusal},
};

/// The kind and filters the fields name, checked by core's rules.
fn parsed(fields: &Fields) -> Result<(ExportKind, ExportFilters), Error> {
    let kind = ExportKind::parse(field(fields, "kind"))?;
    let filters = ExportFilters::from_fields(|name| Some(field(fields, name).to_string()))?;
    Ok((kind, filters.checked(kind)?))
}

/// `GET /dashboard/exports/new`
pub async fn confirm(State(state): State<DashboardState>, viewer: Viewer, Query(fields): Query<Fields>) -> Response {
    if let Some(refused) = admin_refusal(&viewer) {
        return refused;
    }
    let (kind, filters) = match parsed(&fields) {
        Ok(parsed) => parsed,
        Err(Error::Invalid { message, .. }) => {
            return render(&state, &viewer, &ListQuery::default(), &fields, Some(refusal(message))).await;
        }
        Err(error) => return failure(error),
    };
    let words = described(&state, viewer.team_id(), kind, &filters).await;
    let content = html! {
        p { a href="/dashboard/exports" { "← Exports" } }
        h1 { "Export " (kind.label().to_lowercase()) }
        p { "Confirm the filters of this export. The file is a CSV with a header row, then one row per item, newest first." }
        h2 { "Filters" }
        (words)
        p.muted { "Up to " (IMMEDIATE_ROWS) " rows download at once. Larger exports are prepared in the background and listed on the Exports page, where admins can download them for 7 days." }
        form.stacked method="post" action="/dashboard/exports" {
            input type="hidden" name="csrf" value=(viewer.csrf());
            input type="hidden" name="kind" value=(kind.as_str());
            @for (name, value) in filters.fields() {
                input type="hidden" name=(name) value=(value);
            }
            button.primary #confirm-export type="submit" { "Export" }
        }
    };
    layout::page("Confirm export", &viewer, Section::Exports, content)
}

/// `POST /dashboard/exports`
pub async fn start(State(state): State<DashboardState>, viewer: Viewer, Form(fields): Form<Fields>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, field(&fields, "csrf")).or_else(|| admin_refusal(&viewer)) {
        return refused;
    }
    let started = match parsed(&fields) {
        Ok((kind, filters)) => state.postline.start_export(&viewer.0.user, kind, filters).await,
        Err(error) => Err(error),
    };
    match started {
        Ok(Started::Downloaded { export, .. }) => {
            Redirect::to(&format!("/dashboard/exports/{}/download", export.id)).into_response()
        }
        Ok(Started::Queued(export)) => Redirect::to(&format!("/dashboard/exports/{}", export.id)).into_response(),
        Err(Error::Invalid { message, .. }) => {
            render(&state, &viewer, &ListQuery::default(), &fields, Some(refusal(message))).await
        }
        Err(error) => failure(error),
    }
}
