//! `GET /dashboard/domains` (the team's domains, newest first) and the "Add domain"
//! form it carries, whose `POST` builds the same JSON body as `POST /domains` and,
//! when core refuses it, shows the error beside the field it concerns with what was
//! typed kept.

use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use postline_core::{
    Error, Invalid,
    exports::{ExportFilters, ExportKind},
    pagination::{Cursor, PageRequest},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{region_label, status_badge};
use crate::{
    DashboardState,
    fields::FieldError,
    format::time,
    layout::{self, Section, failure},
    session::{Viewer, csrf_refusal},
};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    after: Option<String>,
}

/// The "Add domain" form as submitted (checkboxes are absent when unticked).
#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    custom_return_path: String,
    open_tracking: Option<String>,
    click_tracking: Option<String>,
    #[serde(default)]
    tls: String,
    receiving: Option<String>,
}

impl AddForm {
    /// The body `POST /domains` would get; empty fields are left to core's defaults.
    fn body(&self) -> Value {
        let enabled = |on: bool| if on { "enabled" } else { "disabled" };
        let mut body = json!({
            "name": self.name,
            "open_tracking": self.open_tracking.is_some(),
            "click_tracking": self.click_tracking.is_some(),
            "capabilities": {"sending": "enabled", "receiving": enabled(self.receiving.is_some())},
        });
        for (field, value) in
            [("region", &self.region), ("custom_return_path", &self.custom_return_path), ("tls", &self.tls)]
        {
            if !value.trim().is_empty() {
                body[field] = json!(value);
            }
        }
        body
    }

    /// Whether "Advanced options" must start open (something in it was set).
    fn advanced(&self) -> bool {
        !self.custom_return_path.is_empty()
            || self.open_tracking.is_some()
            || self.click_tracking.is_some()
            || self.receiving.is_some()
            || self.tls == "enforced"
    }
}

/// A refusal from core, placed next to the field it concerns (the name unless the
/// message names another).
fn refusal(kind: Option<Invalid>, message: String) -> FieldError {
    let field = match kind {
        Some(Invalid::Region) => "region",
        _ if message.contains("custom_return_path") => "custom_return_path",
        _ if message.contains("`tls`") => "tls",
        _ => "name",
    };
    let message = match kind {
        Some(Invalid::MissingField) => "Enter the domain name, such as updates.yourdomain.com.".to_string(),
        _ => message,
    };
    FieldError::new(field, message)
}

/// A labelled text input with its error, if any, linked through `aria-describedby`.
fn text_field(id: &str, label: &str, value: &str, hint: Option<&str>, error: Option<&str>) -> Markup {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described: Vec<&str> =
        [hint.map(|_| hint_id.as_str()), error.as_ref().map(|_| error_id.as_str())].into_iter().flatten().collect();
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) type="text" name=(id) value=(value) autocomplete="off" spellcheck="false"
                aria-invalid=[error.as_ref().map(|_| "true")]
                aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
            @if let Some(hint) = hint { p.muted.hint id=(hint_id) { (hint) } }
            @if let Some(message) = error { p.field-error id=(error_id) { (message) } }
        }
    }
}

fn check(id: &str, label: &str, checked: bool, hint: &str) -> Markup {
    html! {
        div.field.check {
            input id=(id) type="checkbox" name=(id) value="on" checked[checked] aria-describedby={ (id) "-hint" };
            label for=(id) { (label) }
            p.muted.hint id={ (id) "-hint" } { (hint) }
        }
    }
}

fn add_form(state: &DashboardState, viewer: &Viewer, form: &AddForm, error: Option<&FieldError>) -> Markup {
    let regions = &state.postline.settings().regions;
    let region_error = FieldError::on(error, "region");
    let tls_error = FieldError::on(error, "tls");
    let path_error = FieldError::on(error, "custom_return_path");
    html! {
        form.stacked method="post" action="/dashboard/domains" novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            (text_field("name", "Domain name", &form.name,
                Some("A domain you own. A subdomain such as updates.yourdomain.com keeps your sending reputation apart."),
                FieldError::on(error, "name")))
            div.field {
                label for="region" { "Region" }
                select #region name="region" aria-describedby={ "region-hint" @if region_error.is_some() { " region-error" } } {
                    @for region in regions {
                        option value=(region.name) selected[form.region == region.name] { (region_label(&region.name)) }
                    }
                }
                p.muted.hint #region-hint { "Send from the region closest to your recipients. To change it later, delete the domain and add it again." }
                @if let Some(message) = region_error { p.field-error #region-error { (message) } }
            }
            details open[form.advanced() || error.is_some_and(|e| e.field != "name" && e.field != "region")] {
                summary { "Advanced options" }
                (text_field("custom_return_path", "Custom return path", &form.custom_return_path,
                    Some("The bounce subdomain; “send” when empty. At most 63 letters, numbers and hyphens, starting with a letter and ending with a letter or number. Recipients may see it, so avoid names such as “testing”."),
                    path_error))
                (check("open_tracking", "Open tracking", form.open_tracking.is_some(), "Adds a 1×1 image to each email to tell when it is opened."))
                (check("click_tracking", "Click tracking", form.click_tracking.is_some(), "Sends links through Postline to count clicks. Leave off for sensitive transactional email."))
                div.field {
                    label for="tls" { "TLS" }
                    select #tls name="tls" aria-describedby={ "tls-hint" @if tls_error.is_some() { " tls-error" } } {
                        option value="opportunistic" selected[form.tls != "enforced"] { "Opportunistic" }
                        option value="enforced" selected[form.tls == "enforced"] { "Enforced" }
                    }
                    p.muted.hint #tls-hint { "Opportunistic uses TLS when the receiving server offers it; enforced sends only over TLS." }
                    @if let Some(message) = tls_error { p.field-error #tls-error { (message) } }
                }
                (check("receiving", "Receiving", form.receiving.is_some(), "Receive email at this domain: adds an MX record on the domain itself."))
            }
            button.primary type="submit" { "Add domain" }
        }
    }
}

/// `GET /dashboard/domains`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer, Query(query): Query<ListQuery>) -> Response {
    render(&state, &viewer, query.after, &AddForm::default(), None).await
}

async fn render(
    state: &DashboardState,
    viewer: &Viewer,
    after: Option<String>,
    form: &AddForm,
    error: Option<FieldError>,
) -> Response {
    let cursor = after.filter(|a| !a.is_empty()).map_or(Cursor::Start, Cursor::After);
    let found = match state.postline.list_domains(viewer.team_id(), PageRequest { limit: 100, cursor }).await {
        Ok(found) => found,
        Err(error) => return failure(error),
    };
    let content = html! {
        h1 { "Domains" }
        (crate::exports::export_button(viewer, ExportKind::Domains, &ExportFilters::default()))
        @if found.items.is_empty() {
            p.empty { "No domains yet. Add the domain you send from below." }
        } @else {
            table.list {
                thead { tr { th scope="col" { "Domain" } th scope="col" { "Status" } th scope="col" { "Region" } th scope="col" { "Created" } } }
                tbody {
                    @for domain in &found.items {
                        tr {
                            td { a href={ "/dashboard/domains/" (domain.id) } { (domain.name) } }
                            td { (status_badge(domain.status)) }
                            td { (region_label(&domain.region)) }
                            td { (time(domain.created_at)) }
                        }
                    }
                }
            }
            @if found.has_more {
                @if let Some(last) = found.items.last() {
                    nav.pages aria-label="Pages" { a href={ "/dashboard/domains?after=" (last.id) } { "More domains →" } }
                }
            }
        }
        section aria-labelledby="add-title" {
            h2 #add-title { "Add domain" }
            (add_form(state, viewer, form, error.as_ref()))
        }
    };
    let mut response = layout::page("Domains", viewer, Section::Domains, content);
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// `POST /dashboard/domains`: on to the new domain's records.
pub async fn add(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<AddForm>) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let error = match state.postline.create_domain(viewer.team_id(), &form.body()).await {
        Ok(view) => return Redirect::to(&format!("/dashboard/domains/{}", view.domain.id)).into_response(),
        Err(Error::Invalid { kind, message }) => refusal(Some(kind), message),
        Err(Error::Conflict(message)) => refusal(None, message),
        Err(error) => return failure(error),
    };
    render(&state, &viewer, None, &form, Some(error)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_body_with_defaults_left_to_core() {
        let plain = AddForm { name: "acme.dev".into(), ..AddForm::default() };
        assert_eq!(
            plain.body(),
            json!({"name": "acme.dev", "open_tracking": false, "click_tracking": false,
                   "capabilities": {"sending": "enabled", "receiving": "disabled"}})
        );
        let full = AddForm {
            name: "acme.dev".into(),
            region: "eu-west-1".into(),
            custom_return_path: "bounce".into(),
            click_tracking: Some("on".into()),
            tls: "enforced".into(),
            receiving: Some("on".into()),
            ..AddForm::default()
        };
        let body = full.body();
        assert_eq!((body["region"].as_str(), body["custom_return_path"].as_str()), (Some("eu-west-1"), Some("bounce")));
        assert_eq!((body["click_tracking"].as_bool(), body["tls"].as_str()), (Some(true), Some("enforced")));
        assert_eq!(body["capabilities"]["receiving"], "enabled");
        assert!(full.advanced() && !plain.advanced());
    }

    #[test]
    fn refusals_land_on_the_field_they_name() {
        let on = |kind, message: &str| refusal(kind, message.to_string()).field;
        assert_eq!(on(Some(Invalid::Region), "`mars` is not a region"), "region");
        assert_eq!(on(Some(Invalid::Value), "The `custom_return_path` must be…"), "custom_return_path");
        assert_eq!(on(Some(Invalid::Value), "`a b` is not a valid domain name."), "name");
        assert_eq!(on(None, "The domain acme.dev has already been added to this team."), "name");
        assert!(refusal(Some(Invalid::MissingField), "Missing `name` field.".into()).message.contains("Enter"));
    }
}
