//! The domain page's forms: verify, change a setting, delete. Each checks the CSRF
//! token before anything else, goes through the same use case as the API (updates
//! with the `PATCH /domains/{id}` body) and answers with a 303 back to a page, so a
//! reload never submits twice.

use axum::{
    Form,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use postline_core::ids::DomainId;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{
    DashboardState,
    layout::failure,
    session::{CsrfOnly, Viewer, csrf_refusal},
};

/// One settings form: only the field it carries changes.
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    open_tracking: Option<String>,
    click_tracking: Option<String>,
    receiving: Option<String>,
    tls: Option<String>,
}

/// `"true"`/`"false"` as booleans; anything else goes to core as it came, to be refused there.
fn flag(raw: &str) -> Value {
    match raw {
        "true" => json!(true),
        "false" => json!(false),
        other => json!(other),
    }
}

impl SettingsForm {
    /// The `PATCH /domains/{id}` body for what the form carries.
    fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        if let Some(v) = &self.open_tracking {
            body.insert("open_tracking".into(), flag(v));
        }
        if let Some(v) = &self.click_tracking {
            body.insert("click_tracking".into(), flag(v));
        }
        if let Some(v) = &self.tls {
            body.insert("tls".into(), json!(v));
        }
        if let Some(v) = &self.receiving {
            let state = match v.as_str() {
                "true" => "enabled",
                "false" => "disabled",
                other => other,
            };
            body.insert("capabilities".into(), json!({ "receiving": state }));
        }
        body
    }
}

fn back(id: &str) -> Response {
    Redirect::to(&format!("/dashboard/domains/{id}")).into_response()
}

/// `POST /dashboard/domains/{id}/verify`: starts (or restarts) verification.
pub async fn verify(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match async { state.postline.verify_domain(viewer.team_id(), DomainId::parse(&id)?).await }.await {
        Ok(()) => back(&id),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/domains/{id}`: a tracking toggle, the TLS policy or receiving.
pub async fn update(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<SettingsForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    let body = form.body();
    let changed = async {
        let id = DomainId::parse(&id)?;
        // An empty form changes nothing; it must not announce a `domain.updated` either.
        if body.is_empty() {
            return state.postline.get_domain(viewer.team_id(), id).await.map(|_| ());
        }
        state.postline.update_domain(viewer.team_id(), id, &Value::Object(body)).await.map(|_| ())
    }
    .await;
    match changed {
        Ok(()) => back(&id),
        Err(error) => failure(error),
    }
}

/// `POST /dashboard/domains/{id}/delete`
pub async fn remove(
    State(state): State<DashboardState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Some(refused) = csrf_refusal(&viewer, &form.csrf) {
        return refused;
    }
    match async { state.postline.delete_domain(viewer.team_id(), DomainId::parse(&id)?).await }.await {
        Ok(()) => Redirect::to("/dashboard/domains").into_response(),
        Err(error) => failure(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_settings_form_patches_only_its_field() {
        let click = SettingsForm { click_tracking: Some("true".into()), ..SettingsForm::default() };
        assert_eq!(Value::Object(click.body()), json!({"click_tracking": true}));
        let receiving = SettingsForm { receiving: Some("false".into()), ..SettingsForm::default() };
        assert_eq!(Value::Object(receiving.body()), json!({"capabilities": {"receiving": "disabled"}}));
        let tls = SettingsForm { tls: Some("enforced".into()), ..SettingsForm::default() };
        assert_eq!(Value::Object(tls.body()), json!({"tls": "enforced"}));
        let forged = SettingsForm { open_tracking: Some("yes".into()), ..SettingsForm::default() };
        assert_eq!(Value::Object(forged.body()), json!({"open_tracking": "yes"}), "left for core to refuse");
        assert!(SettingsForm::default().body().is_empty());
    }
}
