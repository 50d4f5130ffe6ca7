//! `GET /dashboard/broadcasts`: the team's broadcasts, newest first, with each one's
//! status (a scheduled draft with its time), segment and when it was created or sent,
//! a page at a time, and the "New broadcast" button.

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    response::Response,
};
use maud::html;
use postline_core::{
    Error,
    exports::{ExportFilters, ExportKind},
    pagination::PageRequest,
};
use serde::Deserialize;

use super::{status_badge, title};
use crate::{
    DashboardState,
    format::time,
    layout::{self, Section, failure},
    paging,
    session::Viewer,
};

const PAGE_SIZE: u32 = 25;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    after: Option<String>,
    before: Option<String>,
}

/// `GET /dashboard/broadcasts`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer, Query(query): Query<ListQuery>) -> Response {
    let loaded = async {
        let team = viewer.team_id();
        let page = PageRequest { limit: PAGE_SIZE, cursor: paging::cursor(&query.after, &query.before) };
        let broadcasts = state.postline.list_broadcasts(team, page).await?;
        let segments = state.postline.list_segments(team, PageRequest { limit: 100, ..Default::default() }).await?;
        let names: HashMap<_, _> = segments.items.into_iter().map(|s| (s.id, s.name)).collect();
        Ok::<_, Error>((broadcasts, names))
    }
    .await;
    let (found, segment_names) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let given = |cursor: &Option<String>| cursor.as_deref().is_some_and(|c| !c.is_empty());
    let (forwards, backwards) = (given(&query.after), given(&query.before));
    let paged = forwards || backwards;
    // `has_more` looks past the page in the direction it was read.
    let newer = forwards || (backwards && found.has_more);
    let older = backwards || found.has_more;
    let content = html! {
        div.heading-row {
            h1 { "Broadcasts" }
            a.button.primary-link href="/dashboard/broadcasts/new" { "New broadcast" }
        }
        p.explain { "Write an email once and send it to every contact of a segment, each copy personalised." }
        (crate::exports::export_button(&viewer, ExportKind::Broadcasts, &ExportFilters::default()))
        @if found.items.is_empty() {
            p.empty { @if paged { "No more broadcasts." } @else { "No broadcasts yet. Start one with “New broadcast”." } }
        } @else {
            div.scroll {
                table.list.broadcasts {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Status" } th scope="col" { "Segment" } th scope="col" { "Created" } th scope="col" { "Sent" } } }
                    tbody {
                        @for broadcast in &found.items {
                            tr {
                                td { a href={ "/dashboard/broadcasts/" (broadcast.id) } { (title(broadcast)) } }
                                td { (status_badge(broadcast)) }
                                td {
                                    @match broadcast.segment_id {
                                        Some(id) => (segment_names.get(&id).map_or("a deleted segment", String::as_str)),
                                        None => span.muted { "none chosen" },
                                    }
                                }
                                td { (time(broadcast.created_at)) }
                                td { @match broadcast.sent_at { Some(at) => (time(at)), None => span.muted { "—" } } }
                            }
                        }
                    }
                }
            }
        }
        nav.pages aria-label="Pages" {
            @if newer {
                @if let Some(first) = found.items.first() {
                    a href={ "/dashboard/broadcasts?before=" (first.id) } { "← Newer" }
                } @else {
                    a href="/dashboard/broadcasts" { "← Newest" }
                }
            }
            @if older {
                @if let Some(last) = found.items.last() {
                    a href={ "/dashboard/broadcasts?after=" (last.id) } { "Older →" }
                }
            }
        }
    };
    layout::page("Broadcasts", &viewer, Section::Broadcasts, content)
}
