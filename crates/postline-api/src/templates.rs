//! `/templates`: drafts, publishing, duplicating; addressed by id or alias. The
//! content shown is the draft's (the version being edited); `status` and
//! `has_unpublished_versions` say how it relates to what sends use.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use postline_core::{
    clock::api_time,
    templates::{Template, manage::TemplateRef},
};
use serde_json::{Map, Value, json};

use crate::{
    AppState,
    auth::Manager,
    error::ApiError,
    extract::{JsonBody, Params, require_object},
    wire,
};

fn summary(t: &Template) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), json!(t.id));
    object.insert("name".into(), json!(t.name));
    if let Some(alias) = &t.alias {
        object.insert("alias".into(), json!(alias));
    }
    object.insert("status".into(), json!(t.status()));
    object.insert("published_at".into(), json!(t.published_at.map(api_time)));
    object.insert("created_at".into(), json!(api_time(t.created_at)));
    object.insert("updated_at".into(), json!(api_time(t.updated_at)));
    object
}

fn detail(t: &Template) -> Value {
    let mut object = summary(t);
    let draft = &t.draft;
    object.insert("object".into(), json!("template"));
    object.insert("current_version_id".into(), json!(draft.id));
    for (key, value) in [("from", &draft.from), ("subject", &draft.subject), ("text", &draft.text)] {
        if let Some(value) = value {
            object.insert(key.into(), json!(value));
        }
    }
    object.insert("reply_to".into(), json!(draft.reply_to));
    object.insert("html".into(), json!(draft.html));
    let variables: Vec<Value> = draft
        .variables
        .iter()
        .map(|v| {
            let mut variable = json!({
                "id": v.id, "key": v.key, "type": v.kind.as_str(),
                "created_at": api_time(v.created_at), "updated_at": api_time(v.updated_at),
            });
            if let Some(fallback) = &v.fallback_value {
                variable["fallback_value"] = fallback.clone();
            }
            variable
        })
        .collect();
    object.insert("variables".into(), json!(variables));
    object.insert("has_unpublished_versions".into(), json!(t.has_unpublished_changes()));
    Value::Object(object)
}

fn reference(t: &Template) -> Json<Value> {
    Json(json!({"id": t.id, "object": "template"}))
}

/// `POST /templates`
pub async fn create(
    State(state): State<AppState>,
    Manager(p): Manager,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_object(&body)?;
    let template = state.postline.create_template(p.team_id, &body).await?;
    Ok((StatusCode::CREATED, reference(&template)))
}

/// `GET /templates`
pub async fn list(State(state): State<AppState>, Manager(p): Manager, params: Params) -> Result<Json<Value>, ApiError> {
    let page = state.postline.list_templates(p.team_id, params.page()?).await?;
    Ok(Json(wire::list(page, |t| Value::Object(summary(&t)))))
}

/// `GET /templates/{id or alias}`
pub async fn get(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let template = state.postline.get_template(p.team_id, &TemplateRef::parse(&id)).await?;
    Ok(Json(detail(&template)))
}

/// `PATCH /templates/{id or alias}`
pub async fn update(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_object(&body)?;
    let template = state.postline.update_template(p.team_id, &TemplateRef::parse(&id), &body).await?;
    Ok(reference(&template))
}

/// `DELETE /templates/{id or alias}`
pub async fn remove(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = state.postline.delete_template(p.team_id, &TemplateRef::parse(&id)).await?;
    Ok(Json(json!({"object": "template", "id": id, "deleted": true})))
}

/// `POST /templates/{id or alias}/publish`
pub async fn publish(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let template = state.postline.publish_template(p.team_id, &TemplateRef::parse(&id)).await?;
    Ok(reference(&template))
}

/// `POST /templates/{id or alias}/duplicate`
pub async fn duplicate(
    State(state): State<AppState>,
    Manager(p): Manager,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let copy = state.postline.duplicate_template(p.team_id, &TemplateRef::parse(&id)).await?;
    Ok(reference(&copy))
}
