//! The contacts list — search (address or name), status (subscribed or unsubscribed)
//! and segment filters, a checkbox per row inside the bulk-actions form (a plain
//! form, so it works without JavaScript) — and one contact with its properties,
//! segments, topic subscriptions and the emails it was sent (its history of
//! marketing interactions, each with its status).

use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use maud::html;
use postline_core::{
    Error,
    audience::{Subscription, search::ContactSearch},
    emails::search::EmailSearch,
    exports::{ExportFilters, ExportKind},
    ids::SegmentId,
    pagination::PageRequest,
};
use serde::Deserialize;

use super::{Area, Notice, subnav};
use crate::{
    DashboardState,
    format::{status, time},
    layout::{self, Section, failure},
    session::Viewer,
};

const PAGE_SIZE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct ContactQuery {
    q: Option<String>,
    status: Option<String>,
    segment: Option<String>,
    after: Option<String>,
    before: Option<String>,
    #[serde(flatten)]
    notice: Notice,
}

/// A contact's global status as a badge (the word carries it, not the colour).
pub fn subscription_badge(unsubscribed: bool) -> maud::Markup {
    html! { @if unsubscribed { span.badge.warn { "unsubscribed" } } @else { span.badge.good { "subscribed" } } }
}

/// `GET /dashboard/audience`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer, Query(query): Query<ContactQuery>) -> Response {
    let loaded = async {
        let segment = match query.segment.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => Some(SegmentId::parse(raw)?),
            None => None,
        };
        let unsubscribed = match query.status.as_deref() {
            Some("unsubscribed") => Some(true),
            Some("subscribed") => Some(false),
            _ => None,
        };
        let cursor = crate::paging::cursor(&query.after, &query.before);
        let search = ContactSearch { text: query.q.clone(), unsubscribed, segment };
        let export_filters = ExportFilters::from(&search);
        let found =
            state.postline.search_contacts(viewer.team_id(), search, PageRequest { limit: PAGE_SIZE, cursor }).await?;
        let segments =
            state.postline.list_segments(viewer.team_id(), PageRequest { limit: 100, ..Default::default() }).await?;
        Ok::<_, Error>((found, segments.items, segment, export_filters))
    }
    .await;
    let (found, segments, segment, export_filters) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let kept = crate::paging::kept_filters(&[("q", &query.q), ("status", &query.status), ("segment", &query.segment)]);
    let content = html! {
        h1 { "Audience" }
        (subnav(Area::Contacts))
        (query.notice.render())
        div.actions.toolbar {
            a.button href="/dashboard/audience/add" { "Add contacts manually" }
            a.button href="/dashboard/audience/import" { "Import CSV" }
            (crate::exports::export_button(&viewer, ExportKind::Contacts, &export_filters))
        }
        form.filters method="get" action="/dashboard/audience" role="search" {
            div.field { label for="q" { "Email or name" } input #q type="search" name="q" value=[query.q.as_deref()]; }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "All statuses" }
                    option value="subscribed" selected[query.status.as_deref() == Some("subscribed")] { "Subscribed" }
                    option value="unsubscribed" selected[query.status.as_deref() == Some("unsubscribed")] { "Unsubscribed" }
                }
            }
            div.field {
                label for="segment" { "Segment" }
                select #segment name="segment" {
                    option value="" { "All contacts" }
                    @for s in &segments { option value=(s.id) selected[segment == Some(s.id)] { (s.name) } }
                }
            }
            button type="submit" { "Search" }
        }
        @if found.items.is_empty() {
            p.empty { "No contacts match." }
        } @else {
            form #bulk method="post" action="/dashboard/audience/bulk" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                div.bulkbar role="group" aria-labelledby="bulk-title" {
                    span #bulk-title { "With the selected contacts:" }
                    button type="submit" name="action" value="segments" { "Add to segments" }
                    button type="submit" name="action" value="topics" { "Subscribe to topics" }
                    button.danger type="submit" name="action" value="delete" { "Delete" }
                }
                div.scroll {
                    table.list.contacts {
                        thead {
                            tr {
                                th scope="col" {
                                    input #select-all type="checkbox" data-select-all="contact" aria-label="Select every contact on this page" hidden;
                                }
                                th scope="col" { "Email" } th scope="col" { "Name" } th scope="col" { "Status" } th scope="col" { "Added" }
                            }
                        }
                        tbody {
                            @for contact in &found.items {
                                tr {
                                    td { input type="checkbox" name="contact" value=(contact.id) aria-label={ "Select " (contact.email) }; }
                                    td { a href={ "/dashboard/audience/" (contact.id) } { (contact.email) } }
                                    td { (contact.first_name.as_deref().unwrap_or_default()) " " (contact.last_name.as_deref().unwrap_or_default()) }
                                    td { (subscription_badge(contact.unsubscribed)) }
                                    td { (time(contact.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
            nav.pages aria-label="Pages" {
                @if let Some(first) = found.items.first() { a href={ "/dashboard/audience?before=" (first.id) (kept) } { "← Newer" } }
                @if found.has_more { @if let Some(last) = found.items.last() { a href={ "/dashboard/audience?after=" (last.id) (kept) } { "Older →" } } }
            }
        }
    };
    layout::page("Audience", &viewer, Section::Audience, content)
}

/// `GET /dashboard/audience/{id}`
pub async fn detail(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let loaded = async {
        let team = viewer.team_id();
        let everything = || PageRequest { limit: 100, ..Default::default() };
        let contact = state.postline.get_contact(team, &id).await?;
        let key = contact.id.to_string();
        let segments = state.postline.contact_segments(team, &key, everything()).await?.items;
        let topics = state.postline.contact_topics(team, &key, everything()).await?.items;
        let search = EmailSearch { text: Some(contact.email.clone()), ..Default::default() };
        let emails =
            state.postline.search_emails(team, search, PageRequest { limit: 20, ..Default::default() }).await?;
        Ok::<_, Error>((contact, segments, topics, emails.items))
    }
    .await;
    let (contact, segments, topics, emails) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let content = html! {
        p { a href="/dashboard/audience" { "← Audience" } }
        h1 { (contact.email) " " (subscription_badge(contact.unsubscribed)) }
        div.actions {
            a.button href={ "/dashboard/audience/" (contact.id) "/edit" } { "Edit contact" }
            a.button.danger href={ "/dashboard/audience/" (contact.id) "/delete" } { "Delete contact" }
        }
        dl.summary {
            dt { "First name" } dd { (contact.first_name.as_deref().unwrap_or("—")) }
            dt { "Last name" } dd { (contact.last_name.as_deref().unwrap_or("—")) }
            dt { "Added" } dd { (time(contact.created_at)) }
            dt { "Updated" } dd { (time(contact.updated_at)) }
            @for (key, value) in &contact.properties {
                dt { (key) } dd { (value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())) }
            }
        }
        h2 { "Segments" }
        @if segments.is_empty() { p.empty { "In no segment." } }
        ul { @for (segment, added) in &segments { li { (segment.name) " " span.muted { "since " (time(*added)) } } } }
        h2 { "Topics" }
        @if topics.is_empty() { p.empty { "The team has no topics." } }
        ul {
            @for t in &topics {
                li { (t.topic.name) ": " @if t.subscription == Subscription::OptIn { "subscribed" } @else { "not subscribed" } }
            }
        }
        h2 { "Emails" }
        @if emails.is_empty() { p.empty { "Nothing sent to this contact yet." } }
        table.list {
            tbody {
                @for email in &emails {
                    tr {
                        td { a href={ "/dashboard/emails/" (email.id) } { (email.subject) } }
                        td { (status(email.last_event)) }
                        td { (time(email.created_at)) }
                    }
                }
            }
        }
    };
    layout::page(&contact.email, &viewer, Section::Audience, content)
}
