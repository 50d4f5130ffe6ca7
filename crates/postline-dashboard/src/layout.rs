//! The page shell every dashboard page shares: head (stylesheet, script, theme),
//! a skip link, the navigation, the signed-in user with a sign-out button, and the
//! security headers (a strict content security policy, no caching of team data, no
//! framing by other sites).

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};
use postline_core::Error;

use crate::session::Viewer;

/// The sections in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Emails,
    Domains,
    ApiKeys,
    Webhooks,
    Audience,
    Broadcasts,
    Metrics,
    Inbox,
    Logs,
    Exports,
}

const SECTIONS: &[(Section, &str, &str)] = &[
    (Section::Emails, "Emails", "/dashboard/emails"),
    (Section::Inbox, "Inbox", "/dashboard/inbox"),
    (Section::Domains, "Domains", "/dashboard/domains"),
    (Section::Metrics, "Metrics", "/dashboard/metrics"),
    (Section::Audience, "Audience", "/dashboard/audience"),
    (Section::Broadcasts, "Broadcasts", "/dashboard/broadcasts"),
    (Section::ApiKeys, "API keys", "/dashboard/api-keys"),
    (Section::Webhooks, "Webhooks", "/dashboard/webhooks"),
    (Section::Logs, "Logs", "/dashboard/logs"),
    (Section::Exports, "Exports", "/dashboard/exports"),
];

impl Section {
    /// Sections only admins may open (the reference: admins manage API keys).
    fn admin_only(self) -> bool {
        matches!(self, Section::ApiKeys)
    }
}

/// Scripts and styles come from this origin only; email previews (sandboxed
/// `srcdoc` frames, which inherit this policy) may show remote and inline images and
/// inline styles, never run scripts.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: https: http:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; frame-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · Postline" }
                link rel="stylesheet" href=(crate::assets::url("app.css"));
                script src=(crate::assets::url("app.js")) defer {}
            }
            body { (body) }
        }
    }
}

/// A signed-in page.
pub fn page(title: &str, viewer: &Viewer, active: Section, content: Markup) -> Response {
    let user = &viewer.0.user;
    let body = html! {
        a.skip href="#main" { "Skip to content" }
        header.top {
            a.brand href="/dashboard/emails" { "Postline" }
            nav aria-label="Main" {
                ul {
                    // Admin-only sections are not offered to members (who would get a 403).
                    @for (section, label, href) in SECTIONS.iter().filter(|(s, _, _)| viewer.is_admin() || !s.admin_only()) {
                        li {
                            @if *section == active {
                                a href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                }
            }
            form.signout method="post" action="/dashboard/logout" {
                input type="hidden" name="csrf" value=(viewer.csrf());
                span.who { (user.email) " · " (user.role.as_str()) }
                button type="submit" { "Sign out" }
            }
        }
        main #main { (content) }
    };
    respond(StatusCode::OK, document(title, body))
}

/// A page for someone not signed in (the sign-in form).
pub fn bare_page(status: StatusCode, title: &str, content: Markup) -> Response {
    let body = html! { a.skip href="#main" { "Skip to content" } main #main.narrow { (content) } };
    respond(status, document(title, body))
}

/// A short error page (403, 404, 503…).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    bare_page(
        status,
        title,
        html! {
            h1 { (title) }
            p { (message) }
            p { a href="/dashboard/emails" { "Back to the dashboard" } }
        },
    )
}

fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

/// What went wrong on a page, as the page to show.
pub fn failure(error: Error) -> Response {
    match error {
        Error::NotFound(what) => error_page(StatusCode::NOT_FOUND, &format!("{what} not found in this team.")),
        Error::Invalid { message, .. } => error_page(StatusCode::UNPROCESSABLE_ENTITY, &message),
        other => {
            tracing::error!(error = %other, "a dashboard page failed");
            error_page(StatusCode::SERVICE_UNAVAILABLE, "Postline could not load this page; try again.")
        }
    }
}
