//! The Metrics page (`GET /dashboard/metrics`): the team's sending over the last 7,
//! 30 or 90 days by hour, day or week, optionally for one of its domains — bounce
//! and complaint rates judged against the warm-up limits ([`health`]), one chart per
//! series ([`chart`]) and the numbers in a table for anyone who cannot read a chart.
//!
//! It reads only the use case behind `GET /emails/metrics`, with a query built from
//! the form ([`filters`]), so the page and the API never disagree.

pub(crate) mod chart;
pub(crate) mod data;
mod filters;
mod health;

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::Response,
};
use maud::{Markup, html};
use postline_core::{Error, domains::Domain, pagination::PageRequest};

use self::{
    data::{Metrics, count},
    filters::{Filters, GRANULARITIES, Params, RANGES},
};
use crate::{
    DashboardState,
    layout::{self, Section, failure},
    session::Viewer,
};

/// `GET /dashboard/metrics`
pub async fn page(
    State(state): State<DashboardState>,
    viewer: Viewer,
    params: Result<Query<Params>, QueryRejection>,
) -> Response {
    let everything = PageRequest { limit: 100, ..Default::default() };
    let domains = match state.postline.list_domains(viewer.team_id(), everything).await {
        Ok(page) => page.items,
        Err(error) => return failure(error),
    };
    let params = match params {
        Ok(Query(params)) => params,
        // A query the form cannot produce (a parameter given twice, say).
        Err(rejection) => {
            let message = format!("These filters cannot be read: {}", rejection.body_text());
            return render(&viewer, &Params::default(), &domains, Err(message), StatusCode::BAD_REQUEST);
        }
    };
    let filters = match Filters::parse(&params, &domains) {
        Ok(filters) => filters,
        Err(message) => return render(&viewer, &params, &domains, Err(message), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let now = state.postline.clock().now();
    match state.postline.email_metrics(viewer.team_id(), &filters.pairs(now)).await {
        Ok(answer) => {
            let shown = Shown { filters: &filters, metrics: Metrics::from_answer(&answer), now };
            render(&viewer, &params, &domains, Ok(shown), StatusCode::OK)
        }
        Err(Error::Invalid { message, .. }) => {
            render(&viewer, &params, &domains, Err(message), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(error) => failure(error),
    }
}

/// What a successful query shows.
struct Shown<'a> {
    filters: &'a Filters,
    metrics: Metrics,
    now: postline_core::clock::Timestamp,
}

fn render(
    viewer: &Viewer,
    params: &Params,
    domains: &[Domain],
    shown: Result<Shown<'_>, String>,
    status: StatusCode,
) -> Response {
    let content = html! {
        h1 { "Metrics" }
        (filter_form(params, domains, shown.as_ref().err().is_some()))
        @match &shown {
            Err(message) => p #filters-error.error role="alert" { (message) },
            Ok(shown) => (report(shown)),
        }
    };
    let mut response = layout::page("Metrics", viewer, Section::Metrics, content);
    *response.status_mut() = status;
    response
}

/// The filters, as a form that works without JavaScript.
fn filter_form(params: &Params, domains: &[Domain], invalid: bool) -> Markup {
    let chosen = |value: &Option<String>, option: &str, default: bool| match value.as_deref() {
        None | Some("") => default,
        Some(value) => value == option,
    };
    let described = invalid.then_some("filters-error");
    html! {
        form.filters method="get" action="/dashboard/metrics" aria-describedby=[described] {
            div.field {
                label for="range" { "Range" }
                select #range name="range" {
                    @for (value, _, label) in RANGES {
                        option value=(value) selected[chosen(&params.range, value, value == "7d")] { (label) }
                    }
                }
            }
            div.field {
                label for="granularity" { "Granularity" }
                select #granularity name="granularity" {
                    @for (value, _, label) in GRANULARITIES {
                        option value=(value) selected[chosen(&params.granularity, value, value == "day")] { (label) }
                    }
                }
            }
            div.field {
                label for="domain" { "Domain" }
                select #domain name="domain" {
                    option value="" { "All sending" }
                    @for domain in domains {
                        @let id = domain.id.to_string();
                        option value=(id) selected[chosen(&params.domain, &id, false)] { (domain.name) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

/// The rates, the charts and the table.
fn report(shown: &Shown<'_>) -> Markup {
    let metrics = &shown.metrics;
    let step = shown.filters.step;
    let bounce = health::bounce(metrics.total("bounced"), metrics.total("sent"));
    let complaint = health::complaint(metrics.total("complained"), metrics.total("delivered"));
    html! {
        p.muted {
            (shown.filters.first_day(shown.now).format("%b %-d, %Y")) " to " (shown.now.format("%b %-d, %Y %H:%M"))
            " (UTC), by " (step)
            @if shown.filters.domain.is_some() { ", mail from this domain only" }
            "."
        }
        section aria-labelledby="rates-title" {
            h2 #rates-title { "Sender reputation" }
            p.muted { "Keep bounces below 4% and spam complaints below 0.08% (the warm-up guidance); if either climbs, slow down." }
            div.gauges { (bounce.render()) (complaint.render()) }
        }
        section aria-labelledby="activity-title" {
            h2 #activity-title { "Activity" }
            div.charts {
                @for series in &metrics.series { (chart::chart(series, &metrics.periods, step)) }
            }
            details.data {
                summary { "Data" }
                (table(metrics, step))
            }
        }
    }
}

/// Every number the charts show, per period, with the range's totals.
fn table(metrics: &Metrics, step: &str) -> Markup {
    html! {
        // Wide tables scroll inside their box rather than widening the page on a phone.
        div.scroll tabindex="0" role="region" aria-label="Emails per period" { table.metrics-data {
            caption { "Emails per " (step) " (UTC)" }
            thead {
                tr {
                    th scope="col" { "Period" }
                    @for series in &metrics.series { th scope="col" { (series.label) } }
                }
            }
            tbody {
                @for (at, period) in metrics.periods.iter().enumerate() {
                    tr {
                        th scope="row" { time datetime=(period.to_rfc3339()) { (chart::period_label(period, step)) } }
                        @for series in &metrics.series { td { (count(series.values.get(at).copied().unwrap_or_default())) } }
                    }
                }
            }
            tfoot {
                tr {
                    th scope="row" { "Total" }
                    @for series in &metrics.series { td { (count(series.total)) } }
                }
            }
        } }
    }
}
