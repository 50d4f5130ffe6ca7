//! `/domains`: add, get, list, update, delete, verify. Each domain comes with the
//! records to publish and, once checked, each record's status and diagnostics.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{
    clock::{api_time, rfc3339},
    domains::{Domain, manage::DomainView},
    ids::DomainId,
};
use serde_json::{Map, Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params},
    wire,
};

fn capabilities(domain: &Domain) -> Value {
    let state = |on: bool| if on { "enabled" } else { "disabled" };
    json!({"sending": state(domain.sending), "receiving": state(domain.receiving)})
}

/// A domain as a list item.
fn summary(domain: &Domain) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), json!(domain.id));
    object.insert("name".into(), json!(domain.name));
    object.insert("status".into(), json!(domain.status.as_str()));
    object.insert("created_at".into(), json!(api_time(domain.created_at)));
    object.insert("region".into(), json!(domain.region));
    object.insert("open_tracking".into(), json!(domain.open_tracking));
    object.insert("click_tracking".into(), json!(domain.click_tracking));
    object.insert("capabilities".into(), capabilities(domain));
    object
}

/// A domain with its records, checks and settings.
fn full(view: DomainView) -> Value {
    let domain = &view.domain;
    let mut object = summary(domain);
    object.insert("object".into(), json!("domain"));
    if let Some(sub) = &domain.tracking_subdomain {
        object.insert("tracking_subdomain".into(), json!(sub));
    }
    object.insert("tls".into(), json!(domain.tls.as_str()));
    object.insert("custom_return_path".into(), json!(domain.return_path));
    object.insert("nameservers".into(), json!(domain.nameservers));
    object.insert("last_checked_at".into(), json!(domain.last_checked_at.map(rfc3339)));
    object.insert(
        "advisories".into(),
        json!(
            domain
                .advisories
                .iter()
                .map(|a| json!({"topic": a.topic, "ok": a.ok, "message": a.message}))
                .collect::<Vec<_>>()
        ),
    );
    let records: Vec<Value> = view
        .records
        .iter()
        .map(|r| {
            let mut record = json!({
                "record": r.expected.kind.label(),
                "name": r.expected.name,
                "type": r.expected.record_type,
                "ttl": "Auto",
                "status": r.status.as_str(),
                "value": r.expected.value,
            });
            if let Some(priority) = r.expected.priority {
                record["priority"] = json!(priority);
            }
            if let Some(check) = &r.check {
                record["found"] = json!(check.found);
                record["diagnostics"] = json!(check.diagnostics);
            }
            record
        })
        .collect();
    object.insert("records".into(), json!(records));
    Value::Object(object)
}

/// `POST /domains`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let view = state.postline.create_domain(p.team_id, &body).await?;
    Ok((StatusCode::CREATED, Json(full(view))))
}

/// `GET /domains/{id}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let domain = state.postline.get_domain(p.team_id, DomainId::parse(&id)?).await?;
    Ok(Json(full(state.postline.domain_view(domain).await?)))
}

/// `GET /domains`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_domains(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |d| Value::Object(summary(&d)))))
}

/// `PATCH /domains/{id}`
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let domain = state.postline.update_domain(p.team_id, DomainId::parse(&id)?, &body).await?;
    Ok(Json(json!({"object": "domain", "id": domain.id})))
}

/// `DELETE /domains/{id}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = DomainId::parse(&id)?;
    state.postline.delete_domain(p.team_id, id).await?;
    Ok(Json(json!({"object": "domain", "id": id, "deleted": true})))
}

/// `POST /domains/{id}/verify`
pub async fn verify(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = DomainId::parse(&id)?;
    state.postline.verify_domain(p.team_id, id).await?;
    Ok(Json(json!({"object": "domain", "id": id})))
}

fn claim(c: &postline_core::domains::claims::DomainClaim) -> Value {
    json!({
        "object": "domain_claim",
        "id": c.id,
        "name": c.name,
        "status": c.status.as_str(),
        "domain_id": c.domain_id,
        "region": c.region,
        "record": {"type": "TXT", "name": c.name, "value": c.record_value(), "ttl": "Auto"},
        "blocked_reason": null,
        "failure_reason": null,
        "created_at": api_time(c.created_at),
        "expires_at": api_time(c.expires_at),
    })
}

/// `POST /domains/claim`
pub async fn create_claim(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (created, new) = state.postline.create_claim(p.team_id, &body).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(claim(&created))))
}

/// `GET /domains/{id}/claim`
pub async fn get_claim(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let found = state.postline.get_claim(p.team_id, DomainId::parse(&id)?).await?;
    Ok(Json(claim(&found)))
}

/// `POST /domains/{id}/claim/verify`
pub async fn verify_claim(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let checked = state.postline.verify_claim(p.team_id, DomainId::parse(&id)?).await?;
    Ok(Json(claim(&checked)))
}
