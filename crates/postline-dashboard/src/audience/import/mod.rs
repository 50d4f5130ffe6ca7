//! Importing contacts from a CSV file, in three steps: upload the file (this page; it
//! is kept in the store as a draft import, so the next request may reach any node),
//! map its columns with a preview of its first rows ([`mapping`]), then watch the
//! import run in the background and read the report of rows it could not import
//! ([`status`]). The file's limit and every rule are core's, the same as
//! `POST /contacts/imports`.

mod mapping;
mod status;

use axum::{
    extract::{Multipart, Path, State, multipart::MultipartRejection},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::{
    Error,
    audience::imports::{ImportStatus, MAX_FILE_BYTES},
    ids::ContactImportId,
    pagination::PageRequest,
};

pub use mapping::start;
pub use status::progress;

use super::{
    Area,
    form::{FieldError, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::{described_by, notes},
    format::{size, time},
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

/// The upload's body limit: core's file limit and room for the other fields.
pub const UPLOAD_LIMIT: usize = MAX_FILE_BYTES + 64 * 1024;

/// `GET /dashboard/audience/import`
pub async fn page(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    render(&state, &viewer, None).await
}

async fn render(state: &DashboardState, viewer: &Viewer, error: Option<FieldError>) -> Response {
    let page = PageRequest { limit: 10, ..Default::default() };
    let recent = match state.postline.list_contact_imports(viewer.team_id(), None, page).await {
        Ok(found) => found.items,
        Err(error) => return failure(error),
    };
    let file_error = FieldError::on(error.as_ref(), "file");
    let content = html! {
        p { a href="/dashboard/audience" { "← Audience" } }
        h1 { "Import contacts from a CSV file" }
        (subnav(Area::Contacts))
        ol.steps aria-label="Steps" {
            li aria-current="step" { "Upload" } li { "Map columns" } li { "Import" }
        }
        form.stacked method="post" action="/dashboard/audience/import" enctype="multipart/form-data" novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="file" { "CSV file" }
                input #file type="file" name="file" accept=".csv,text/csv"
                    aria-invalid=[file_error.map(|_| "true")]
                    aria-describedby=[described_by("file", true, file_error.is_some())];
                (notes("file", Some(&format!(
                    "A header row, then one contact per row; at most {} MB. You choose which column is which next.",
                    MAX_FILE_BYTES / 1024 / 1024
                )), file_error))
            }
            button.primary type="submit" { "Upload and map columns" }
        }
        @if !recent.is_empty() {
            h2 { "Recent imports" }
            div.scroll {
                table.list {
                    thead { tr { th scope="col" { "Started" } th scope="col" { "Status" } th scope="col" { "Rows" } th scope="col" { "Failed" } } }
                    tbody {
                        @for import in &recent {
                            tr {
                                td { a href={ "/dashboard/audience/import/" (import.id) } { (time(import.created_at)) } }
                                td { (status::badge(import.status)) }
                                td { (import.counts.total) }
                                td { (import.counts.failed) }
                            }
                        }
                    }
                }
            }
        }
    };
    let response = layout::page("Import contacts", viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/import` (multipart: `csrf`, `file`)
pub async fn upload(
    State(state): State<DashboardState>,
    viewer: Viewer,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let unreadable = |e: &dyn std::fmt::Display| {
        FieldError::new("file", format!("The upload could not be read ({e}); the file may be over the size limit."))
    };
    let mut form = match form {
        Ok(form) => form,
        Err(error) => return render(&state, &viewer, Some(unreadable(&error))).await,
    };
    let (mut csrf, mut file) = (String::new(), None);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("file") => match field.bytes().await {
                    Ok(bytes) => file = Some(bytes),
                    Err(error) => return render(&state, &viewer, Some(unreadable(&error))).await,
                },
                _ => {}
            },
            Ok(None) => break,
            Err(error) => return render(&state, &viewer, Some(unreadable(&error))).await,
        }
    }
    if let Some(refused) = csrf_refusal(&viewer, &csrf) {
        return refused;
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return render(&state, &viewer, Some(FieldError::new("file", "Choose a CSV file to upload."))).await;
    };
    match state.postline.upload_contact_import(viewer.team_id(), &file).await {
        Ok(import) => Redirect::to(&format!("/dashboard/audience/import/{}", import.id)).into_response(),
        Err(error) => match FieldError::from_core("file", error) {
            Ok(refusal) => render(&state, &viewer, Some(refusal)).await,
            Err(other) => failure(other),
        },
    }
}

/// `GET /dashboard/audience/import/{id}`: the mapping while the file waits for it,
/// then the import's progress and report.
pub async fn show(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let id = match ContactImportId::parse(&id) {
        Ok(id) => id,
        Err(error) => return failure(error),
    };
    match state.postline.get_contact_import(viewer.team_id(), id).await {
        Ok((import, errors)) => status::page(&viewer, &import, &errors),
        // Drafts are not imports yet as far as everyone but this page is concerned.
        Err(Error::NotFound(_)) => mapping::page(&state, &viewer, id, &mapping::Chosen::default(), None).await,
        Err(error) => failure(error),
    }
}

/// The size of an import's file in words.
fn file_size(bytes: u64) -> String {
    size(bytes)
}

/// Whether an import can change no more.
fn settled(status: ImportStatus) -> bool {
    matches!(status, ImportStatus::Completed | ImportStatus::Failed)
}
