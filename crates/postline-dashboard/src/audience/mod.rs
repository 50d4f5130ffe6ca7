//! The Audience section: contacts ([`contacts`]: the list with its filters and bulk
//! selection, one contact's page), adding them by hand ([`add`]) or from a CSV file
//! ([`import`]), acting on many at once ([`bulk`]), editing or deleting one
//! ([`edit`]), and the team's custom properties ([`properties`]), segments
//! ([`segments`]), topics ([`topics`]) and unsubscribe page ([`branding`]).
//!
//! Every form builds the JSON body the API's endpoint takes and calls the same
//! `Postline` use case, so the rules live in core alone; a refusal from core is shown
//! beside the field it concerns (422, with what was typed kept), and every form that
//! changes something answers 303.

mod add;
mod branding;
mod bulk;
mod contacts;
mod edit;
mod form;
mod import;
mod properties;
mod segments;
mod topics;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::DashboardState;

/// The section's routes; static names (`add`, `import`, `segments`…) win over a
/// contact's id.
pub fn routes() -> Router<DashboardState> {
    Router::new()
        .route("/dashboard/audience", get(contacts::list))
        .route("/dashboard/audience/add", get(add::page).post(add::submit))
        .route("/dashboard/audience/bulk", post(bulk::choose))
        .route("/dashboard/audience/bulk/segments", post(bulk::add_to_segments))
        .route("/dashboard/audience/bulk/topics", post(bulk::subscribe))
        .route("/dashboard/audience/bulk/delete", post(bulk::delete))
        .route(
            "/dashboard/audience/import",
            get(import::page).post(import::upload).layer(DefaultBodyLimit::max(import::UPLOAD_LIMIT)),
        )
        .route("/dashboard/audience/import/{id}", get(import::show).post(import::start))
        .route("/dashboard/audience/import/{id}/progress", get(import::progress))
        .route("/dashboard/audience/properties", get(properties::list).post(properties::create))
        .route("/dashboard/audience/properties/{id}/delete", post(properties::remove))
        .route("/dashboard/audience/segments", get(segments::list).post(segments::create))
        .route("/dashboard/audience/segments/{id}/delete", post(segments::remove))
        .route("/dashboard/audience/topics", get(topics::list).post(topics::create))
        .route("/dashboard/audience/topics/{id}", get(topics::edit).post(topics::update))
        .route("/dashboard/audience/topics/{id}/delete", post(topics::remove))
        .route("/dashboard/audience/unsubscribe-page", get(branding::page).post(branding::save))
        .route("/dashboard/audience/{id}", get(contacts::detail))
        .route("/dashboard/audience/{id}/edit", get(edit::page).post(edit::save))
        .route("/dashboard/audience/{id}/delete", get(edit::confirm_delete).post(edit::delete))
}

/// The parts of the section, for its own navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Contacts,
    Properties,
    Segments,
    Topics,
    UnsubscribePage,
}

const AREAS: &[(Area, &str, &str)] = &[
    (Area::Contacts, "Contacts", "/dashboard/audience"),
    (Area::Properties, "Properties", "/dashboard/audience/properties"),
    (Area::Segments, "Segments", "/dashboard/audience/segments"),
    (Area::Topics, "Topics", "/dashboard/audience/topics"),
    (Area::UnsubscribePage, "Unsubscribe page", "/dashboard/audience/unsubscribe-page"),
];

/// The navigation between the section's parts.
fn subnav(active: Area) -> Markup {
    html! {
        nav.subnav aria-label="Audience" {
            ul {
                @for (area, label, href) in AREAS {
                    li {
                        @if *area == active { a href=(href) aria-current="page" { (label) } }
                        @else { a href=(href) { (label) } }
                    }
                }
            }
        }
    }
}

/// What a form that redirected reports on the page it lands on: a known `notice`
/// with its counts (never text from the query, which anyone can write).
///
/// The counts stay text until read: numbers inside a `#[serde(flatten)]` query
/// would not deserialize.
#[derive(Deserialize, Default)]
pub struct Notice {
    notice: Option<String>,
    n: Option<String>,
    m: Option<String>,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

impl Notice {
    fn text(&self) -> Option<String> {
        let count = |raw: &Option<String>| raw.as_deref().and_then(|r| r.parse::<u64>().ok()).unwrap_or_default();
        let (n, m) = (count(&self.n), count(&self.m));
        let contacts = |n| plural(n, "contact", "contacts");
        Some(match self.notice.as_deref()? {
            "added" | "added-to-segment" if m > 0 => format!(
                "Added {}. {} already in your audience: left as {}{}.",
                contacts(n),
                plural(m, "address was", "addresses were"),
                if m == 1 { "it was" } else { "they were" },
                if self.notice.as_deref() == Some("added-to-segment") { " and put in the segment" } else { "" }
            ),
            "added" | "added-to-segment" => format!("Added {}.", contacts(n)),
            "segmented" => format!("Added {} to the chosen segments.", contacts(n)),
            "subscribed" => format!("Subscribed {} to the chosen topics.", contacts(n)),
            "deleted" => format!("Deleted {}.", contacts(n)),
            "saved" => "Saved.".to_string(),
            _ => return None,
        })
    }

    fn render(&self) -> Markup {
        html! { @if let Some(text) = self.text() { p.notice role="status" { (text) } } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_known_sentences_only() {
        let notice = |notice: &str, n: u64, m: u64| {
            Notice { notice: Some(notice.into()), n: Some(n.to_string()), m: Some(m.to_string()) }.text()
        };
        assert_eq!(notice("added", 3, 0).as_deref(), Some("Added 3 contacts."));
        assert_eq!(
            notice("added", 1, 2).as_deref(),
            Some("Added 1 contact. 2 addresses were already in your audience: left as they were.")
        );
        assert!(notice("added-to-segment", 0, 1).unwrap().ends_with("left as it was and put in the segment."));
        assert_eq!(notice("deleted", 1, 0).as_deref(), Some("Deleted 1 contact."));
        assert_eq!(notice("<script>", 1, 0), None);
    }
}
