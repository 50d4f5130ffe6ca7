//! The Segments page: the team's segments with how many contacts each holds (each
//! linked to the contacts list filtered to it), a delete confirmation each, and the
//! form that creates one through the use case of `POST /segments`.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::{
    Error,
    exports::{ExportFilters, ExportKind},
    ids::SegmentId,
    pagination::PageRequest,
};
use serde::Deserialize;
use serde_json::json;

use super::{
    Area,
    form::{FieldError, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::input,
    format::time,
    layout::{self, Section, failure},
    session::{CsrfOnly, Viewer, csrf_refusal},
};

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `GET /dashboard/audience/segments`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    render(&state, &viewer, &CreateForm::default(), None).await
}

async fn render(state: &DashboardState, viewer: &Viewer, form: &CreateForm, error: Option<FieldError>) -> Response {
    let loaded = async {
        let team = viewer.team_id();
        let segments = state.postline.list_segments(team, PageRequest { limit: 100, ..Default::default() }).await?;
        Ok::<_, Error>((segments.items, state.postline.segment_sizes(team).await?))
    }
    .await;
    let (segments, sizes) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let size = |id: SegmentId| sizes.iter().find(|(s, _)| *s == id).map_or(0, |(_, n)| *n);
    let content = html! {
        h1 { "Segments" }
        (subnav(Area::Segments))
        p { "Segments are groups of contacts; a broadcast is sent to one." }
        (crate::exports::export_button(viewer, ExportKind::Segments, &ExportFilters::default()))
        @if segments.is_empty() {
            p.empty { "No segments yet." }
        } @else {
            div.scroll {
                table.list {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Contacts" } th scope="col" { "Created" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for s in &segments {
                            tr {
                                td { a href={ "/dashboard/audience?segment=" (s.id) } { (s.name) } }
                                td.count { (size(s.id)) }
                                td { (time(s.created_at)) }
                                td {
                                    details.confirm {
                                        summary { "Delete" span.visually-hidden { " " (s.name) } }
                                        form.inline method="post" action={ "/dashboard/audience/segments/" (s.id) "/delete" } {
                                            input type="hidden" name="csrf" value=(viewer.csrf());
                                            span { "Its contacts stay in your audience." }
                                            button.danger type="submit" { "Delete segment " (s.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="create-title" {
            h2 #create-title { "Create a segment" }
            form.stacked method="post" action="/dashboard/audience/segments" novalidate {
                input type="hidden" name="csrf" value=(viewer.csrf());
                (input("text", "name", "Name", &form.name, Some("At most 200 characters."), FieldError::on(error.as_ref(), "name")))
                button.primary type="submit" { "Create segment" }
            }
        }
    };
    let response = layout::page("Segments", viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/segments`
pub async fn create(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<CreateForm>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match state.postline.create_segment(viewer.team_id(), &json!({"name": form.name})).await {
        Ok(_) => Redirect::to("/dashboard/audience/segments").into_response(),
        Err(error) => match FieldError::from_core("name", error) {
            Ok(refusal) => render(&state, &viewer, &form, Some(refusal)).await,
            Err(other) => failure(other),
        },
    }
}

/// `POST /dashboard/audience/segments/{id}/delete`
pub async fn remove(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let deleted = match SegmentId::parse(&id) {
        Ok(id) => state.postline.delete_segment(viewer.team_id(), id).await,
        Err(error) => Err(error),
    };
    match deleted {
        Ok(()) => Redirect::to("/dashboard/audience/segments").into_response(),
        Err(error) => failure(error),
    }
}
