//! `/webhooks` use cases: register, read, list, change, delete endpoints.

use serde_json::Value;

use super::{EVENT_TYPES, Webhook, generate_secret};
use crate::{
    Error, Postline, Result,
    ids::{TeamId, WebhookId},
    pagination::{Page, PageRequest},
};

fn endpoint(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let lower = trimmed.to_ascii_lowercase();
    let host = lower.split("://").nth(1).unwrap_or_default().split(['/', '?', '#']).next().unwrap_or_default();
    if trimmed.len() > 2048 || !(lower.starts_with("https://") || lower.starts_with("http://")) || host.is_empty() {
        return Err(Error::value("The `endpoint` must be an http or https URL."));
    }
    Ok(trimmed.to_string())
}

fn events(value: &Value) -> Result<Vec<String>> {
    let items = value.as_array().ok_or_else(|| Error::value("The `events` field must be an array of event types."))?;
    if items.is_empty() {
        return Err(Error::value("The `events` field must name at least one event type."));
    }
    let mut events = Vec::with_capacity(items.len());
    for item in items {
        let name = item.as_str().ok_or_else(|| Error::value("Each event type must be a string."))?;
        if !EVENT_TYPES.contains(&name) {
            return Err(Error::value(format!(
                "`{name}` is not an event type; use one of: {}.",
                EVENT_TYPES.join(", ")
            )));
        }
        if !events.iter().any(|e| e == name) {
            events.push(name.to_string());
        }
    }
    Ok(events)
}

impl Postline {
    /// Registers an endpoint (`POST /webhooks`).
    pub async fn create_webhook(&self, team_id: TeamId, body: &Value) -> Result<Webhook> {
        let url = match body.get("endpoint") {
            Some(Value::String(raw)) => endpoint(raw)?,
            None | Some(Value::Null) => return Err(Error::missing("endpoint")),
            Some(_) => return Err(Error::value("The `endpoint` field must be a string.")),
        };
        let events = match body.get("events") {
            None | Some(Value::Null) => return Err(Error::missing("events")),
            Some(value) => events(value)?,
        };
        let webhook = Webhook {
            id: crate::ids::WebhookId::new(),
            team_id,
            endpoint: url,
            events,
            enabled: true,
            secret: generate_secret(),
            created_at: self.clock.now(),
        };
        self.store.insert_webhook(&webhook).await?;
        Ok(webhook)
    }

    /// One endpoint of the team.
    pub async fn get_webhook(&self, team_id: TeamId, id: WebhookId) -> Result<Webhook> {
        self.store.get_webhook(team_id, id).await?.ok_or(Error::NotFound("Webhook"))
    }

    /// The team's endpoints, newest first.
    pub async fn list_webhooks(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Webhook>> {
        self.store.list_webhooks(team_id, &page).await
    }

    /// Changes the URL, the event types or the status (`PATCH /webhooks/{id}`).
    pub async fn update_webhook(&self, team_id: TeamId, id: WebhookId, body: &Value) -> Result<Webhook> {
        let mut webhook = self.get_webhook(team_id, id).await?;
        match body.get("endpoint") {
            None | Some(Value::Null) => {}
            Some(Value::String(raw)) => webhook.endpoint = endpoint(raw)?,
            Some(_) => return Err(Error::value("The `endpoint` field must be a string.")),
        }
        if let Some(value) = body.get("events").filter(|v| !v.is_null()) {
            webhook.events = events(value)?;
        }
        match body.get("status").and_then(Value::as_str) {
            None => {}
            Some("enabled") => webhook.enabled = true,
            Some("disabled") => webhook.enabled = false,
            Some(_) => return Err(Error::value("The `status` field must be `enabled` or `disabled`.")),
        }
        self.store.save_webhook(&webhook).await?;
        Ok(webhook)
    }

    /// Removes an endpoint; its pending deliveries are dropped.
    pub async fn delete_webhook(&self, team_id: TeamId, id: WebhookId) -> Result<()> {
        if self.store.delete_webhook(team_id, id).await? { Ok(()) } else { Err(Error::NotFound("Webhook")) }
    }
}
