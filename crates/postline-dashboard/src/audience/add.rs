//! "Add contacts manually": addresses typed or pasted into one field, separated by
//! commas or new lines, optionally put in a segment.
//!
//! All or nothing on input: every address is checked before any is written, and if
//! one is not a valid address the form comes back (422) naming each bad one, with
//! everything typed kept and nothing added — so fixing a typo never leaves half a
//! list behind to untangle. Once all are valid, each new address is created through
//! the use case of `POST /contacts` (with the segment, as that body's `segments`),
//! and each address that already is a contact is left as it is and only put in the
//! segment (`POST /contacts/{id}/segments/{segment}`); the page it lands on says
//! how many were added and how many already existed. The same address twice (in any
//! case) counts once.

use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use postline_core::{Error, emails::address::valid_address, ids::SegmentId, pagination::PageRequest};
use serde::Deserialize;
use serde_json::json;

use super::{
    Area,
    form::{FieldError, refused},
    subnav,
};
use crate::{
    DashboardState,
    fields::{described_by, notes},
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

/// Most addresses in one submission (a CSV import takes more).
const MAX_ADDRESSES: usize = 1_000;

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    emails: String,
    #[serde(default)]
    segment: String,
}

/// The addresses in the field, trimmed, each once (compared without case).
fn addresses(raw: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for address in raw.split([',', '\n', '\r']).map(str::trim).filter(|a| !a.is_empty()) {
        if !seen.iter().any(|s| s.eq_ignore_ascii_case(address)) {
            seen.push(address.to_string());
        }
    }
    seen
}

/// What is wrong with the list as a whole, if anything.
fn problem(addresses: &[String]) -> Option<String> {
    if addresses.is_empty() {
        return Some("Enter at least one email address.".into());
    }
    if addresses.len() > MAX_ADDRESSES {
        return Some(format!(
            "At most {MAX_ADDRESSES} addresses at once ({} given); import a CSV file for more.",
            addresses.len()
        ));
    }
    let bad: Vec<String> = addresses.iter().filter(|a| !valid_address(a)).map(|a| format!("“{a}”")).collect();
    match bad.len() {
        0 => None,
        1 => Some(format!("{} is not a valid email address. Nothing was added; correct or remove it.", bad[0])),
        _ => Some(format!(
            "These are not valid email addresses: {}. Nothing was added; correct or remove them.",
            bad.join(", ")
        )),
    }
}

/// `GET /dashboard/audience/add`
pub async fn page(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    render(&state, &viewer, &AddForm::default(), None).await
}

async fn render(state: &DashboardState, viewer: &Viewer, form: &AddForm, error: Option<FieldError>) -> Response {
    let segments =
        match state.postline.list_segments(viewer.team_id(), PageRequest { limit: 100, ..Default::default() }).await {
            Ok(page) => page.items,
            Err(error) => return failure(error),
        };
    let emails_error = FieldError::on(error.as_ref(), "emails");
    let segment_error = FieldError::on(error.as_ref(), "segment");
    let content = html! {
        p { a href="/dashboard/audience" { "← Audience" } }
        h1 { "Add contacts manually" }
        (subnav(Area::Contacts))
        form.stacked method="post" action="/dashboard/audience/add" novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="emails" { "Email addresses" }
                textarea #emails name="emails" rows="8" spellcheck="false" autocomplete="off"
                    aria-invalid=[emails_error.map(|_| "true")]
                    aria-describedby=[described_by("emails", true, emails_error.is_some())] { (form.emails) }
                (notes("emails", Some("Separate addresses with commas or new lines. Addresses already in your audience are kept as they are."), emails_error))
            }
            div.field {
                label for="segment" { "Segment (optional)" }
                select #segment name="segment" aria-describedby=[described_by("segment", false, segment_error.is_some())] {
                    option value="" { "No segment" }
                    @for s in &segments { option value=(s.id) selected[form.segment == s.id.to_string()] { (s.name) } }
                }
                (notes("segment", None, segment_error))
            }
            button.primary type="submit" { "Add" }
        }
    };
    let response = layout::page("Add contacts", viewer, Section::Audience, content);
    if error.is_some() { refused(response) } else { response }
}

/// `POST /dashboard/audience/add`
pub async fn submit(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<AddForm>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let team = viewer.team_id();
    let list = addresses(&form.emails);
    if let Some(message) = problem(&list) {
        return render(&state, &viewer, &form, Some(FieldError::new("emails", message))).await;
    }
    let segment = match form.segment.trim() {
        "" => None,
        raw => match SegmentId::parse(raw) {
            Ok(id) => Some(id),
            Err(error) => return failure(error),
        },
    };
    if let Some(id) = segment
        && let Err(error) = state.postline.get_segment(team, id).await
    {
        return failure(error);
    }
    let (mut added, mut existing) = (0u64, 0u64);
    for address in &list {
        let outcome = match state.postline.get_contact(team, address).await {
            Ok(contact) => {
                existing += 1;
                match segment {
                    Some(id) => {
                        state.postline.add_contact_to_segment(team, &contact.id.to_string(), id).await.map(drop)
                    }
                    None => Ok(()),
                }
            }
            Err(Error::NotFound(_)) => {
                let body = json!({"email": address, "segments": segment.map(|id| vec![id]).unwrap_or_default()});
                let created = state.postline.create_contact(team, &body, None).await.map(drop);
                if created.is_ok() {
                    added += 1;
                }
                created
            }
            Err(error) => Err(error),
        };
        if let Err(error) = outcome {
            // Checked above, so only a rule core holds beyond the address's form (or
            // a failing store) gets here: say what was done before it.
            let message = match FieldError::from_core("emails", error) {
                Ok(field) => field.message,
                Err(other) => return failure(other),
            };
            let done = format!("Stopped at {address} after adding {added} and finding {existing} existing: {message}");
            return render(&state, &viewer, &form, Some(FieldError::new("emails", done))).await;
        }
    }
    let notice = if segment.is_some() { "added-to-segment" } else { "added" };
    Redirect::to(&format!("/dashboard/audience?notice={notice}&n={added}&m={existing}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_split_on_commas_and_lines_and_counted_once() {
        let list = addresses(" ann@example.com,bob@example.com\r\n\nANN@example.com ,, carol@example.com\n");
        assert_eq!(list, ["ann@example.com", "bob@example.com", "carol@example.com"]);
    }

    #[test]
    fn every_bad_address_is_named_and_nothing_is_added() {
        let list = addresses("ann@example.com, not-an-address, bob@, carol@example.com");
        let message = problem(&list).unwrap();
        assert!(message.contains("“not-an-address”, “bob@”") && message.contains("Nothing was added"), "{message}");
        assert!(problem(&addresses("ann@example.com")).is_none());
        assert!(problem(&addresses(" , \n")).unwrap().contains("at least one"));
        let many = (0..=MAX_ADDRESSES).map(|i| format!("a{i}@example.com")).collect::<Vec<_>>().join(",");
        assert!(problem(&addresses(&many)).unwrap().contains("import a CSV"));
    }
}
