//! The API keys pages, for admins only (as the reference says): every key with its
//! permission, domain, when it was last used (an indicator for keys in use, idle
//! for 30 days — worth deleting — or never used) and its total number of requests,
//! underlined as the link to that key's logs; create a key and see its token
//! exactly once; edit name, permission and domain; delete; export the list.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::Duration;
use maud::{Markup, html};
use postline_core::{
    Error,
    api_keys::{ApiKey, CreateApiKey, MAX_NAME_CHARS, Permission},
    clock::Timestamp,
    domains::Domain,
    exports::{ExportFilters, ExportKind},
    ids::ApiKeyId,
    pagination::PageRequest,
};
use serde::Deserialize;

use crate::{
    DashboardState,
    format::time,
    layout::{self, Section, failure},
    session::{CsrfOnly, Viewer, admin_refusal, csrf_refusal},
};

/// A key unused this long is shown as inactive (the reference: "hasn't been used in the last 30 days").
const IDLE: Duration = Duration::days(30);

#[derive(Deserialize, Default)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    permission: String,
    #[serde(default)]
    domain_id: String,
}

impl KeyForm {
    fn input(&self) -> CreateApiKey {
        let sending = self.permission == "sending_access";
        CreateApiKey {
            name: Some(self.name.clone()),
            permission: Some(self.permission.clone()),
            domain_id: (sending && !self.domain_id.is_empty()).then(|| self.domain_id.clone()),
        }
    }
}

/// Usage in words, with the indicator's tone.
fn usage(key: &ApiKey, now: Timestamp) -> Markup {
    match key.last_used_at {
        None => html! { span.badge.neutral { "never used" } },
        Some(at) if now - at > IDLE => {
            html! { span.badge.warn { "inactive" } " " span.muted { "last used " (time(at)) } }
        }
        Some(at) => html! { span.badge.good { "active" } " " span.muted { "last used " (time(at)) } },
    }
}

/// The key's total requests, underlined as the link to its logs (the reference's
/// "select the underlined number of requests to view all logs for that API Key").
fn request_count(key: &ApiKey, count: u64) -> Markup {
    html! {
        a.count href={ "/dashboard/logs?key=" (key.id) } {
            (count) span.visually-hidden { " requests with " (key.name) ": view its logs" }
        }
    }
}

async fn domains(state: &DashboardState, viewer: &Viewer) -> Result<Vec<Domain>, Error> {
    let page = PageRequest { limit: 100, ..Default::default() };
    Ok(state.postline.list_domains(viewer.team_id(), page).await?.items)
}

/// The create or edit form, with the error (if any) next to the field it concerns.
fn key_form(viewer: &Viewer, action: &str, form: &KeyForm, domains: &[Domain], error: Option<&str>) -> Markup {
    let name_error = error.filter(|e| e.contains("`name`"));
    let other_error = error.filter(|e| !e.contains("`name`"));
    html! {
        form.stacked method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(viewer.csrf());
            div.field {
                label for="name" { "Name" }
                input #name type="text" name="name" value=(form.name) maxlength=(MAX_NAME_CHARS) required
                    aria-invalid=[name_error.map(|_| "true")] aria-describedby=[name_error.map(|_| "name-error")];
                @if let Some(message) = name_error { p #name-error.field-error { (message) } }
            }
            div.field {
                label for="permission" { "Permission" }
                select #permission name="permission" aria-describedby=[other_error.map(|_| "access-error")] {
                    option value="full_access" selected[form.permission != "sending_access"] { "Full access" }
                    option value="sending_access" selected[form.permission == "sending_access"] { "Sending access" }
                }
            }
            div.field {
                label for="domain_id" { "Domain (sending access only)" }
                select #domain_id name="domain_id" {
                    option value="" { "All domains" }
                    @for domain in domains {
                        option value=(domain.id) selected[form.domain_id == domain.id.to_string()] { (domain.name) }
                    }
                }
                @if let Some(message) = other_error { p #access-error.field-error { (message) } }
            }
            button.primary type="submit" { "Save" }
        }
    }
}

/// `GET /dashboard/api-keys`
pub async fn list(State(state): State<DashboardState>, viewer: Viewer) -> Response {
    if let Some(refused) = admin_refusal(&viewer) {
        return refused;
    }
    render_list(&state, &viewer, &KeyForm::default(), None, StatusCode::OK).await
}

async fn render_list(
    state: &DashboardState,
    viewer: &Viewer,
    form: &KeyForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let keys =
            state.postline.list_api_keys(viewer.team_id(), PageRequest { limit: 100, ..Default::default() }).await?;
        let counts = state.postline.request_counts(viewer.team_id()).await?;
        Ok::<_, Error>((keys.items, domains(state, viewer).await?, counts))
    }
    .await;
    let (keys, domains, counts) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(error),
    };
    let now = state.postline.clock().now();
    let domain_name =
        |key: &ApiKey| key.domain_id.and_then(|id| domains.iter().find(|d| d.id == id)).map(|d| d.name.clone());
    let content = html! {
        h1 { "API keys" }
        (crate::exports::export_button(viewer, ExportKind::ApiKeys, &ExportFilters::default()))
        table.list {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Permission" } th scope="col" { "Domain" } th scope="col" { "Usage" } th scope="col" { "Requests" } th scope="col" { "Created" } th scope="col" { span.visually-hidden { "Actions" } } } }
            tbody {
                @for key in &keys {
                    tr {
                        td { (key.name) }
                        td { (if key.permission == Permission::FullAccess { "Full access" } else { "Sending access" }) }
                        td { (domain_name(key).unwrap_or_else(|| "All domains".into())) }
                        td { (usage(key, now)) }
                        td { (request_count(key, counts.get(&key.id).copied().unwrap_or(0))) }
                        td { (time(key.created_at)) }
                        td { a href={ "/dashboard/api-keys/" (key.id) } { "Edit" span.visually-hidden { " " (key.name) } } }
                    }
                }
            }
        }
        section aria-labelledby="create-title" {
            h2 #create-title { "Create API key" }
            (key_form(viewer, "/dashboard/api-keys", form, &domains, error))
        }
    };
    let mut response = layout::page("API keys", viewer, Section::ApiKeys, content);
    *response.status_mut() = status;
    response
}

/// `POST /dashboard/api-keys`: the new key's token, shown on this response only.
pub async fn create(State(state): State<DashboardState>, viewer: Viewer, Form(form): Form<KeyForm>) -> Response {
    if let Some(refused) = admin_refusal(&viewer).or_else(|| csrf_refusal(&viewer, &form.csrf)) {
        return refused;
    }
    match state.postline.create_api_key(viewer.team_id(), form.input()).await {
        Ok(created) => {
            let content = html! {
                h1 { "API key created" }
                p { "Copy the key now: for your security it is shown only this once." }
                div.secret {
                    code #token { (created.token) }
                    button type="button" data-copy=(created.token) { "Copy" }
                }
                p { a href="/dashboard/api-keys" { "Done" } }
            };
            layout::page("API key created", &viewer, Section::ApiKeys, content)
        }
        Err(Error::Invalid { message, .. }) => {
            render_list(&state, &viewer, &form, Some(&message), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(error) => failure(error),
    }
}

/// `GET /dashboard/api-keys/{id}`: the edit form and the delete button.
pub async fn edit(State(state): State<DashboardState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    if let Some(refused) = admin_refusal(&viewer) {
        return refused;
    }
    let key = match async { state.postline.get_api_key(viewer.team_id(), ApiKeyId::parse(&id)?).await }.await {
        Ok(key) => key,
        Err(error) => return failure(error),
    };
    let form = KeyForm {
        name: key.name.clone(),
        permission: key.permission.as_str().to_string(),
        domain_id: key.domain_id.map(|d| d.to_string()).unwrap_or_default(),
        ..KeyForm::default()
    };
    render_edit(&state, &viewer, &key, &form, None, StatusCode::OK).await
}

async fn render_edit(
    state: &DashboardState,
    viewer: &Viewer,
    key: &ApiKey,
    form: &KeyForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let domains = match domains(state, viewer).await {
        Ok(domains) => domains,
        Err(error) => return failure(error),
    };
    let content = html! {
        p { a href="/dashboard/api-keys" { "← API keys" } }
        h1 { "Edit " (key.name) }
        p.muted { "The key's value cannot be changed or shown again." }
        (key_form(viewer, &format!("/dashboard/api-keys/{}", key.id), form, &domains, error))
        form.inline method="post" action={ "/dashboard/api-keys/" (key.id) "/delete" } {
            input type="hidden" name="csrf" value=(viewer.csrf());
            button.danger type="submit" { "Delete this key" }
            span.muted { "It stops working at once." }
        }
    };
    let mut response = layout::page("Edit API key", viewer, Section::ApiKeys, content);
    *response.status_mut() = status;
    response
}

/// `POST /dashboard/api-keys/{id}`
pub async fn update(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<KeyForm>,
) -> Response {
    if let Some(refused) = admin_refusal(&viewer).or_else(|| csrf_refusal(&viewer, &form.csrf)) {
        return refused;
    }
    let id = match ApiKeyId::parse(&id) {
        Ok(id) => id,
        Err(error) => return failure(error),
    };
    match state.postline.edit_api_key(viewer.team_id(), id, form.input()).await {
        Ok(_) => Redirect::to("/dashboard/api-keys").into_response(),
        Err(Error::Invalid { message, .. }) => match state.postline.get_api_key(viewer.team_id(), id).await {
            Ok(key) => {
                render_edit(&state, &viewer, &key, &form, Some(&message), StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(error) => failure(error),
        },
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/api-keys/{id}/delete`
pub async fn remove(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = admin_refusal(&viewer).or_else(|| csrf_refusal(&viewer, &form.csrf)) {
        return refused;
    }
    match async { state.postline.delete_api_key(viewer.team_id(), ApiKeyId::parse(&id)?).await }.await {
        Ok(()) => Redirect::to("/dashboard/api-keys").into_response(),
        Err(error) => failure(error),
    }
}
