//! Webhook endpoints, and the outbox: messages are enqueued inside the transaction
//! that records the event, so an event is never lost or sent for a change that
//! rolled back.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::{Timestamp, to_micros},
    emails::{EmailEvent, Tag},
    ids::{TeamId, WebhookId},
    pagination::{Page, PageRequest},
    store::WebhookStore,
    webhooks::{
        EmailSummary, OutboxEvent, Webhook,
        dispatch::{AttemptRecord, DueDelivery, Next},
        email_event_message, email_event_type,
        history::{AttemptLog, EventLog},
    },
};
use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row, any::AnyRow};

use crate::{Backend, Db, error::db, rows};

const COLUMNS: &str = "id, team_id, endpoint, events, status, secret, created_at";

fn webhook_from(row: &AnyRow) -> Result<Webhook> {
    let events: String = rows::get(row, "events")?;
    let status: String = rows::get(row, "status")?;
    Ok(Webhook {
        id: WebhookId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        endpoint: rows::get(row, "endpoint")?,
        events: events.split(',').filter(|e| !e.is_empty()).map(str::to_string).collect(),
        enabled: status == "enabled",
        secret: rows::get(row, "secret")?,
        created_at: rows::time(row, "created_at")?,
    })
}

fn events_column(events: &[String]) -> String {
    format!(",{},", events.join(","))
}

/// The webhook endpoints of the teams one transaction writes events for, read once
/// per team per transaction: a batch of a thousand events is one query, not a thousand.
#[derive(Default)]
pub(crate) struct Subscribers(HashMap<TeamId, Vec<(String, String)>>);

impl Subscribers {
    /// The endpoints of `team_id` subscribed to `kind`.
    async fn to(
        &mut self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        team_id: TeamId,
        kind: &str,
    ) -> Result<Vec<String>> {
        if let std::collections::hash_map::Entry::Vacant(vacant) = self.0.entry(team_id) {
            let found = sqlx::query("SELECT id, events FROM webhooks WHERE team_id = $1")
                .bind(team_id.to_string())
                .fetch_all(&mut **tx)
                .await
                .map_err(db)?;
            let endpoints = found
                .iter()
                .map(|row| Ok((rows::get(row, "id")?, rows::get(row, "events")?)))
                .collect::<Result<_>>()?;
            vacant.insert(endpoints);
        }
        let wanted = format!(",{kind},");
        Ok(self.0[&team_id].iter().filter(|(_, events)| events.contains(&wanted)).map(|(id, _)| id.clone()).collect())
    }
}

/// Enqueues the webhook message of an email event for every subscribed endpoint of
/// the team, in the caller's transaction.
pub(crate) async fn enqueue_email_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subscribers: &mut Subscribers,
    team_id: TeamId,
    event: &EmailEvent,
) -> Result<()> {
    let Some(kind) = email_event_type(event.kind) else { return Ok(()) };
    let subscribers = subscribers.to(tx, team_id, &kind).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let row =
        sqlx::query("SELECT from_addr, to_addrs, subject, tags, created_at, broadcast_id FROM emails WHERE id = $1")
            .bind(event.email_id.to_string())
            .fetch_one(&mut **tx)
            .await
            .map_err(db)?;
    let summary = EmailSummary {
        id: event.email_id,
        from: rows::get(&row, "from_addr")?,
        to: rows::json(&row, "to_addrs")?,
        subject: rows::get(&row, "subject")?,
        tags: rows::json::<Vec<Tag>>(&row, "tags")?,
        created_at: rows::time(&row, "created_at")?,
        broadcast_id: rows::get(&row, "broadcast_id")?,
    };
    let Some((kind, payload)) = email_event_message(&summary, event) else { return Ok(()) };
    write_message(tx, team_id, &kind, &payload, event.at, &subscribers).await
}

/// Enqueues any event (domains, contacts…) for the team's subscribed endpoints, in
/// the caller's transaction.
pub(crate) async fn enqueue_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: TeamId,
    event: &OutboxEvent,
) -> Result<()> {
    let subscribers = Subscribers::default().to(tx, team_id, &event.kind).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    write_message(tx, team_id, &event.kind, &event.payload, event.at, &subscribers).await
}

async fn write_message(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: TeamId,
    kind: &str,
    payload: &serde_json::Value,
    at: Timestamp,
    subscribers: &[String],
) -> Result<()> {
    let message_id = format!("msg_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(
        "INSERT INTO webhook_messages (id, team_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&message_id)
    .bind(team_id.to_string())
    .bind(kind)
    .bind(rows::to_json(payload))
    .bind(to_micros(at))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    for webhook in subscribers {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, message_id, webhook_id, team_id, status, attempts, next_attempt_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&message_id)
        .bind(webhook)
        .bind(team_id.to_string())
        .bind(to_micros(at))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl WebhookStore for Db {
    async fn insert_webhook(&self, w: &Webhook) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(AssertSqlSafe(format!("INSERT INTO webhooks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)")))
            .bind(w.id.to_string())
            .bind(w.team_id.to_string())
            .bind(&w.endpoint)
            .bind(events_column(&w.events))
            .bind(if w.enabled { "enabled" } else { "disabled" })
            .bind(&w.secret)
            .bind(to_micros(w.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_webhook(&self, team_id: TeamId, id: WebhookId) -> Result<Option<Webhook>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND team_id = $2")))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(webhook_from).transpose()
    }

    async fn list_webhooks(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Webhook>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM webhooks"), team_id, page, webhook_from).await
    }

    async fn save_webhook(&self, w: &Webhook) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE webhooks SET endpoint = $1, events = $2, status = $3 WHERE id = $4 AND team_id = $5")
            .bind(&w.endpoint)
            .bind(events_column(&w.events))
            .bind(if w.enabled { "enabled" } else { "disabled" })
            .bind(w.id.to_string())
            .bind(w.team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn delete_webhook(&self, team_id: TeamId, id: WebhookId) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn claim_due_webhook_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        let _turn = self.write_turn().await;
        let lock = if self.backend == Backend::Postgres { "FOR UPDATE OF d SKIP LOCKED" } else { "" };
        let token = uuid::Uuid::new_v4().to_string();
        let claimed: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET lease_until = $1, lease_token = $2 WHERE id IN ( \
               SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
               WHERE d.status = 'pending' AND d.next_attempt_at <= $3 AND w.status = 'enabled' \
               AND (d.lease_until IS NULL OR d.lease_until < $3) ORDER BY d.next_attempt_at, d.id LIMIT $4 {lock}) \
             RETURNING id"
        )))
        .bind(to_micros(lease_until))
        .bind(&token)
        .bind(to_micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let found = sqlx::query(
            "SELECT d.id, d.message_id, d.webhook_id, d.attempts, w.endpoint, w.secret, m.payload \
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_messages m ON m.id = d.message_id \
             WHERE d.lease_token = $1 ORDER BY d.next_attempt_at, d.id",
        )
        .bind(&token)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|row| {
                let attempts: i32 = row.try_get("attempts").map_err(db)?;
                Ok(DueDelivery {
                    id: rows::get(row, "id")?,
                    message_id: rows::get(row, "message_id")?,
                    webhook_id: rows::get(row, "webhook_id")?,
                    endpoint: rows::get(row, "endpoint")?,
                    secret: rows::get(row, "secret")?,
                    payload: rows::get(row, "payload")?,
                    attempts: u32::try_from(attempts).unwrap_or_default(),
                    lease_token: token.clone(),
                })
            })
            .collect()
    }

    async fn record_webhook_attempt(&self, delivery: &DueDelivery, attempt: &AttemptRecord, next: Next) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms, response, succeeded) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&delivery.id)
        .bind(to_micros(attempt.at))
        .bind(attempt.status_code.map(i32::from))
        .bind(attempt.duration_ms)
        .bind(&attempt.response)
        .bind(i32::from(attempt.succeeded))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let (status, next_at) = match next {
            Next::Delivered => ("delivered", attempt.at),
            Next::RetryAt(at) => ("pending", at),
            Next::Failed => ("failed", attempt.at),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2, lease_until = NULL, \
             lease_token = NULL, updated_at = $3 WHERE id = $4 AND lease_token = $5",
        )
        .bind(status)
        .bind(to_micros(next_at))
        .bind(to_micros(attempt.at))
        .bind(&delivery.id)
        .bind(&delivery.lease_token)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if next == Next::Failed {
            // An endpoint that has not accepted anything for days is switched off; the
            // owner re-enables it with PATCH /webhooks/{id} {"status": "enabled"}.
            let since = attempt.at - postline_core::webhooks::dispatch::DISABLE_AFTER;
            let successes: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
                 WHERE d.webhook_id = $1 AND a.succeeded = 1 AND a.attempted_at > $2",
            )
            .bind(&delivery.webhook_id)
            .bind(to_micros(since))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let first: Option<i64> = sqlx::query_scalar("SELECT MIN(created_at) FROM webhook_messages m JOIN webhook_deliveries d ON d.message_id = m.id WHERE d.webhook_id = $1")
                .bind(&delivery.webhook_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
            let failing_long_enough = first.is_some_and(|f| f <= to_micros(since));
            if successes == 0 && failing_long_enough {
                sqlx::query("UPDATE webhooks SET status = 'disabled' WHERE id = $1")
                    .bind(&delivery.webhook_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tracing::warn!(webhook = %delivery.webhook_id, "webhook endpoint disabled after failing for days");
            }
        }
        tx.commit().await.map_err(db)
    }

    async fn extend_webhook_lease(&self, token: &str, until: Timestamp) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE webhook_deliveries SET lease_until = $1 WHERE lease_token = $2")
            .bind(to_micros(until))
            .bind(token)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn set_webhook_secret(&self, id: WebhookId, secret: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE webhooks SET secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn webhook_events(&self, id: WebhookId, page: &PageRequest) -> Result<Page<EventLog>> {
        let (condition, order, cursor, reverse) = rows::cursor_sql(page, 2, true);
        let condition = condition.replace("id ", "d.id ");
        let order = order.replace("id ", "d.id ");
        let sql = format!("{EVENT_QUERY} WHERE d.webhook_id = $1 {condition} {order} LIMIT {}", page.limit + 1);
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(id.to_string());
        if let Some(cursor) = cursor {
            query = query.bind(cursor);
        }
        let found = query.fetch_all(&self.pool).await.map_err(db)?;
        let events = found.iter().map(event_log_from).collect::<Result<Vec<_>>>()?;
        Ok(rows::page_of(events, page.limit, reverse))
    }

    async fn webhook_event(&self, id: WebhookId, event_id: &str) -> Result<Option<EventLog>> {
        let row = sqlx::query(AssertSqlSafe(format!("{EVENT_QUERY} WHERE d.webhook_id = $1 AND d.id = $2")))
            .bind(id.to_string())
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(event_log_from).transpose()
    }

    async fn webhook_attempts(&self, event_id: &str) -> Result<Vec<AttemptLog>> {
        let found = sqlx::query(
            "SELECT seq, status_code, response, attempted_at, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY seq",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq").map_err(db)?;
                let status: Option<i32> = rows::get(row, "status_code")?;
                Ok(AttemptLog {
                    id: format!("{event_id}-{seq}"),
                    status_code: status.and_then(|s| u16::try_from(s).ok()),
                    response: rows::get(row, "response")?,
                    at: rows::time(row, "attempted_at")?,
                    duration_ms: rows::get(row, "duration_ms")?,
                })
            })
            .collect()
    }

    async fn replay_webhook_deliveries(
        &self,
        webhook: Option<WebhookId>,
        event_id: Option<&str>,
        since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<u64> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL, \
             lease_token = NULL, updated_at = $1 WHERE ($2 IS NULL OR webhook_id = $2) AND ($3 IS NULL OR id = $3) \
             AND ($4 IS NULL OR updated_at >= $4)",
        )
        .bind(to_micros(now))
        .bind(webhook.map(|w| w.to_string()))
        .bind(event_id)
        .bind(since.map(to_micros))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn replay_failed_webhook_deliveries(
        &self,
        team_id: TeamId,
        webhook: Option<WebhookId>,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL, \
             lease_token = NULL, updated_at = $1 WHERE team_id = $2 AND status = 'failed' AND ($3 IS NULL OR webhook_id = $3) \
             AND message_id IN (SELECT id FROM webhook_messages WHERE created_at >= $4)",
        )
        .bind(to_micros(now))
        .bind(team_id.to_string())
        .bind(webhook.map(|w| w.to_string()))
        .bind(to_micros(since))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }
}

const EVENT_QUERY: &str = "SELECT d.id, d.message_id, d.status, d.attempts, d.next_attempt_at, m.event_type, m.payload, m.created_at \
                           FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id";

fn event_log_from(row: &AnyRow) -> Result<EventLog> {
    let status: String = rows::get(row, "status")?;
    let attempts: i32 = row.try_get("attempts").map_err(db)?;
    let shown = match (status.as_str(), attempts) {
        ("delivered", _) => "success",
        ("failed", _) => "failed",
        (_, 0) => "pending",
        _ => "attempting",
    };
    Ok(EventLog {
        id: rows::get(row, "id")?,
        message_id: rows::get(row, "message_id")?,
        event_type: rows::get(row, "event_type")?,
        created_at: rows::time(row, "created_at")?,
        status: shown.to_string(),
        next_attempt_at: if status == "pending" { Some(rows::time(row, "next_attempt_at")?) } else { None },
        payload: rows::json(row, "payload")?,
    })
}
