//! The Logs page: the team's API requests of the last 30 days, newest first,
//! filtered by key (the API keys page links each key's count here), status class,
//! method and days, in cursor pages, with an export of what is shown; and one
//! request's details. The filters are read by core's export filters, so the page
//! and its export cannot disagree on what they mean.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};
use maud::{Markup, html};
use postline_core::{
    Error,
    exports::{ExportFilters, ExportKind},
    ids::ApiKeyId,
    pagination::PageRequest,
    request_logs::{METHODS, RETENTION, RequestLog, StatusClass},
};
use serde::Deserialize;

use crate::{
    DashboardState,
    format::time,
    layout::{self, Section, failure},
    session::Viewer,
};

const PAGE_SIZE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct LogQuery {
    key: Option<String>,
    status: Option<String>,
    method: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

impl LogQuery {
    fn value(&self, name: &str) -> Option<String> {
        match name {
            "key" => self.key.clone(),
            "status" => self.status.clone(),
            "method" => self.method.clone(),
            "from" => self.from.clone(),
            "to" => self.to.clone(),
            _ => None,
        }
    }

    /// The filters, checked; a refusal names its field.
    fn filters(&self) -> Result<ExportFilters, Error> {
        ExportFilters::from_fields(|name| self.value(name))?.checked(ExportKind::Logs)
    }
}

fn status_tone(status: u16) -> &'static str {
    match status {
        200..=299 => "good",
        400..=499 => "warn",
        500..=599 => "bad",
        _ => "neutral",
    }
}

fn status_badge(status: u16) -> Markup {
    html! { span class={ "badge " (status_tone(status)) } { (status) } }
}

async fn key_names(state: &DashboardState, viewer: &Viewer) -> Result<HashMap<ApiKeyId, String>, Error> {
    let keys = state.postline.list_api_keys(viewer.team_id(), PageRequest { limit: 100, ..Default::default() }).await?;
    Ok(keys.items.into_iter().map(|k| (k.id, k.name)).collect())
}

fn filter_form(query: &LogQuery, names: &HashMap<ApiKeyId, String>, error: Option<&(String, String)>) -> Markup {
    let error_on = |field: &str| error.filter(|(f, _)| f == field).map(|(_, m)| m.clone());
    let attrs = |field: &str| {
        let error = error_on(field);
        (error.as_ref().map(|_| "true"), error.as_ref().map(|_| format!("logs-{field}-error")))
    };
    let line = |field: &str| html! { @if let Some(m) = error_on(field) { p.field-error id={ "logs-" (field) "-error" } { (m) } } };
    let mut keys: Vec<(&ApiKeyId, &String)> = names.iter().collect();
    keys.sort_by(|a, b| a.1.cmp(b.1));
    let chosen = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    html! {
        form.filters method="get" action="/dashboard/logs" role="search" {
            div.field {
                label for="logs-key" { "API key" }
                @let (invalid, described) = attrs("key");
                select #logs-key name="key" aria-invalid=[invalid] aria-describedby=[described] {
                    option value="" { "Any" }
                    @for (id, name) in keys {
                        option value=(id) selected[chosen(&query.key, &id.to_string())] { (name) }
                    }
                }
                (line("key"))
            }
            div.field {
                label for="logs-status" { "Status" }
                @let (invalid, described) = attrs("status");
                select #logs-status name="status" aria-invalid=[invalid] aria-describedby=[described] {
                    option value="" { "Any" }
                    @for class in StatusClass::ALL {
                        option value=(class.as_str()) selected[chosen(&query.status, class.as_str())] { (class.as_str()) }
                    }
                }
                (line("status"))
            }
            div.field {
                label for="logs-method" { "Method" }
                @let (invalid, described) = attrs("method");
                select #logs-method name="method" aria-invalid=[invalid] aria-describedby=[described] {
                    option value="" { "Any" }
                    @for method in METHODS {
                        option value=(method) selected[chosen(&query.method, method)] { (method) }
                    }
                }
                (line("method"))
            }
            div.field {
                label for="logs-from" { "From" }
                @let (invalid, described) = attrs("from");
                input #logs-from type="date" name="from" value=[query.from.as_deref()] aria-invalid=[invalid] aria-describedby=[described];
                (line("from"))
            }
            div.field {
                label for="logs-to" { "To" }
                @let (invalid, described) = attrs("to");
                input #logs-to type="date" name="to" value=[query.to.as_deref()] aria-invalid=[invalid] aria-describedby=[described];
                (line("to"))
            }
            button type="submit" { "Filter" }
        }
    }
}

fn rows(logs: &[RequestLog], names: &HashMap<ApiKeyId, String>) -> Markup {
    html! {
        div.scroll {
            table.list.logs {
                thead { tr { th scope="col" { "Time" } th scope="col" { "Method" } th scope="col" { "Path" } th scope="col" { "Status" } th scope="col" { "API key" } th scope="col" { "Duration" } } }
                tbody {
                    @for log in logs {
                        tr {
                            td { a href={ "/dashboard/logs/" (log.id) } { (time(log.created_at)) } }
                            td { (log.method) }
                            td { code { (log.path) } }
                            td { (status_badge(log.status)) }
                            td { (names.get(&log.api_key_id).map(String::as_str).unwrap_or("deleted key")) }
                            td { (log.duration_ms) " ms" }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /dashboard/logs`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer, Query(query): Query<LogQuery>) -> Response {
    let names = match key_names(&state, &viewer).await {
        Ok(names) => names,
        Err(error) => return failure(error),
    };
    let (filters, error) = match query.filters() {
        Ok(filters) => (filters, None),
        Err(Error::Invalid { message, .. }) => {
            let field = ["key", "status", "method", "from", "to"]
                .into_iter()
                .find(|f| message.contains(&format!("`{f}`")))
                .unwrap_or("key");
            (ExportFilters::default(), Some((field.to_string(), message)))
        }
        Err(error) => return failure(error),
    };
    let page = PageRequest { limit: PAGE_SIZE, cursor: crate::paging::cursor(&query.after, &query.before) };
    let found = if error.is_some() {
        postline_core::pagination::Page { items: Vec::new(), has_more: false }
    } else {
        match state.postline.search_request_logs(viewer.team_id(), &filters.log_filter(), page).await {
            Ok(found) => found,
            Err(error) => return failure(error),
        }
    };
    let kept = crate::paging::kept_filters(&[
        ("key", &query.key),
        ("status", &query.status),
        ("method", &query.method),
        ("from", &query.from),
        ("to", &query.to),
    ]);
    let content = html! {
        h1 { "Logs" }
        p.muted { "Every API request made with this team's keys, kept for " (RETENTION.num_days()) " days." }
        (filter_form(&query, &names, error.as_ref()))
        @if error.is_none() { (crate::exports::export_button(&viewer, ExportKind::Logs, &filters)) }
        @if found.items.is_empty() {
            p.empty { "No requests match." }
        } @else {
            (rows(&found.items, &names))
            nav.pages aria-label="Pages" {
                @if let Some(first) = found.items.first() {
                    a href={ "/dashboard/logs?before=" (first.id) (kept) } { "← Newer" }
                }
                @if found.has_more {
                    @if let Some(last) = found.items.last() {
                        a href={ "/dashboard/logs?after=" (last.id) (kept) } { "Older →" }
                    }
                }
            }
        }
    };
    let mut response = layout::page("Logs", &viewer, Section::Logs, content);
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// `GET /dashboard/logs/{id}`
pub async fn detail(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let loaded = async {
        let log = state.postline.request_log(viewer.team_id(), &id).await?;
        Ok::<_, Error>((log, key_names(&state, &viewer).await?))
    }
    .await;
    let (log, names) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let content = html! {
        p { a href="/dashboard/logs" { "← Logs" } }
        h1 { (log.method) " " code { (log.path) } }
        dl.summary {
            dt { "Status" } dd { (status_badge(log.status)) }
            dt { "Time" } dd { (time(log.created_at)) }
            dt { "Duration" } dd { (log.duration_ms) " ms" }
            dt { "API key" } dd {
                a href={ "/dashboard/logs?key=" (log.api_key_id) } { (names.get(&log.api_key_id).map(String::as_str).unwrap_or("deleted key")) }
            }
            dt { "User agent" } dd { (log.user_agent.as_deref().unwrap_or("none sent")) }
            dt { "Id" } dd { code { (log.id) } }
        }
    };
    layout::page("Request log", &viewer, Section::Logs, content)
}
