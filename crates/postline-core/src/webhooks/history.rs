//! What endpoints were sent: each event's delivery status, payload and attempts,
//! replaying one event or every failed one since a time, and rotating secrets.

use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    ids::{TeamId, WebhookId},
    pagination::{Page, PageRequest},
};

use super::{Webhook, generate_secret};

/// An event as one endpoint saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog {
    /// The delivery's id (the SDKs' `event_id`).
    pub id: String,
    pub message_id: String,
    pub event_type: String,
    pub created_at: Timestamp,
    /// `success`, `pending`, `attempting` (retrying after failures) or `failed`.
    pub status: String,
    pub next_attempt_at: Option<Timestamp>,
    pub payload: serde_json::Value,
}

/// One attempt to send an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptLog {
    pub id: String,
    pub status_code: Option<u16>,
    pub response: String,
    pub at: Timestamp,
    pub duration_ms: i64,
}

impl Postline {
    /// A new signing secret for an endpoint (the old one stops at once).
    pub async fn rotate_webhook_secret(&self, team_id: TeamId, id: WebhookId) -> Result<Webhook> {
        let mut webhook = self.get_webhook(team_id, id).await?;
        webhook.secret = generate_secret();
        self.store.set_webhook_secret(webhook.id, &webhook.secret).await?;
        Ok(webhook)
    }

    /// The endpoint's events, newest first.
    pub async fn webhook_events(&self, team_id: TeamId, id: WebhookId, page: PageRequest) -> Result<Page<EventLog>> {
        self.get_webhook(team_id, id).await?;
        self.store.webhook_events(id, &page).await
    }

    /// One event of the endpoint.
    pub async fn webhook_event(&self, team_id: TeamId, id: WebhookId, event_id: &str) -> Result<EventLog> {
        self.get_webhook(team_id, id).await?;
        self.store.webhook_event(id, event_id).await?.ok_or(Error::NotFound("Webhook event"))
    }

    /// The attempts to send one event, oldest first.
    pub async fn webhook_attempts(&self, team_id: TeamId, id: WebhookId, event_id: &str) -> Result<Vec<AttemptLog>> {
        self.webhook_event(team_id, id, event_id).await?;
        self.store.webhook_attempts(event_id).await
    }

    /// Sends an event again now, on a fresh retry schedule.
    pub async fn replay_webhook_event(&self, team_id: TeamId, id: WebhookId, event_id: &str) -> Result<()> {
        self.webhook_event(team_id, id, event_id).await?;
        self.store.replay_webhook_deliveries(Some(id), Some(event_id), None, self.clock.now()).await?;
        Ok(())
    }

    /// Sends again every failed event of the endpoint (or of every endpoint of the
    /// team when `id` is `None`) created since `since`; returns how many.
    pub async fn replay_failed_webhooks(
        &self,
        team_id: TeamId,
        id: Option<WebhookId>,
        since: Timestamp,
    ) -> Result<u64> {
        if let Some(id) = id {
            self.get_webhook(team_id, id).await?;
        }
        self.store.replay_failed_webhook_deliveries(team_id, id, since, self.clock.now()).await
    }
}
