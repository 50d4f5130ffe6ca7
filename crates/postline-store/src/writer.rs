//! Group commit for accepted emails.
//!
//! Every accept is handed to one writer task. The writer takes whatever accepts
//! are waiting (up to [`MAX_GROUP`]), writes them all in one transaction, commits
//! once, and only then answers each caller. Under load one fsync covers many
//! emails; when idle an accept commits alone without waiting for company. If a
//! group's transaction fails, each accept is retried in its own transaction so one
//! bad accept cannot fail its neighbours.

use postline_core::{
    Error, Result,
    clock::to_micros,
    emails::{EmailEvent, EventKind, NewEmail},
    idempotency::Completion,
    ids::{EmailId, TeamId},
};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{StoreError, error::db, rows::to_json, webhooks::Subscribers};

/// Most accepts committed together.
pub(crate) const MAX_GROUP: usize = 256;
const QUEUE_DEPTH: usize = 4096;

/// One caller's accept, waiting for the writer.
pub(crate) struct AcceptJob {
    emails: Vec<NewEmail>,
    completion: Option<Completion>,
    reply: oneshot::Sender<Result<()>>,
}

/// Starts the writer task for a pool.
pub(crate) fn spawn(pool: sqlx::AnyPool, write_gate: Option<Arc<Mutex<()>>>) -> mpsc::Sender<AcceptJob> {
    let (sender, mut receiver) = mpsc::channel::<AcceptJob>(QUEUE_DEPTH);
    tokio::spawn(async move {
        let mut group = Vec::with_capacity(MAX_GROUP);
        while receiver.recv_many(&mut group, MAX_GROUP).await > 0 {
            let _turn = match &write_gate {
                Some(gate) => Some(gate.lock().await),
                None => None,
            };
            commit_group(&pool, std::mem::take(&mut group)).await;
        }
    });
    sender
}

/// Hands an accept to the writer and waits until it is durable.
pub(crate) async fn submit(
    writer: &mpsc::Sender<AcceptJob>,
    emails: Vec<NewEmail>,
    completion: Option<Completion>,
) -> Result<()> {
    let (reply, answer) = oneshot::channel();
    writer.send(AcceptJob { emails, completion, reply }).await.map_err(|_| Error::from(StoreError::Closed))?;
    answer.await.map_err(|_| Error::from(StoreError::Closed))?
}

async fn commit_group(pool: &sqlx::AnyPool, group: Vec<AcceptJob>) {
    if group.len() > 1 {
        match write_together(pool, &group).await {
            Ok(()) => {
                for job in group {
                    let _ = job.reply.send(Ok(()));
                }
                return;
            }
            Err(error) => {
                tracing::warn!(%error, size = group.len(), "group commit failed; retrying one by one")
            }
        }
    }
    for job in group {
        let result = write_together(pool, std::slice::from_ref(&job)).await;
        let _ = job.reply.send(result);
    }
}

async fn write_together(pool: &sqlx::AnyPool, jobs: &[AcceptJob]) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db)?;
    let mut subscribers = Subscribers::default();
    for job in jobs {
        for email in &job.emails {
            insert_email(&mut tx, &mut subscribers, email).await?;
        }
        if let Some(completion) = &job.completion {
            complete_idempotency(&mut tx, completion).await?;
        }
    }
    tx.commit().await.map_err(db)
}

pub(crate) async fn insert_email(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subscribers: &mut Subscribers,
    new: &NewEmail,
) -> Result<()> {
    let email = &new.email;
    let email_id = email.id.to_string();
    let team_id = email.team_id.to_string();
    sqlx::query(
        "INSERT INTO emails (id, team_id, from_addr, to_addrs, cc_addrs, bcc_addrs, reply_to, subject, html, text_body, \
         headers, tags, topic_id, message_id, scheduled_at, created_at, last_event, broadcast_id, contact_id, personalisation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(&email_id)
    .bind(&team_id)
    .bind(&email.from)
    .bind(to_json(&email.to))
    .bind(to_json(&email.cc))
    .bind(to_json(&email.bcc))
    .bind(to_json(&email.reply_to))
    .bind(&email.subject)
    .bind(email.html.as_deref())
    .bind(email.text.as_deref())
    .bind(to_json(&email.headers))
    .bind(to_json(&email.tags))
    .bind(email.topic_id.as_deref())
    .bind(&email.message_id)
    .bind(email.scheduled_at.map(to_micros))
    .bind(to_micros(email.created_at))
    .bind(email.last_event.as_str())
    .bind(email.broadcast.as_ref().map(|b| b.broadcast_id.to_string()))
    .bind(email.broadcast.as_ref().map(|b| b.contact_id.to_string()))
    .bind(email.broadcast.as_ref().map(|b| serde_json::Value::Object(b.values.clone()).to_string()))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    for attachment in &new.attachments {
        let meta = &attachment.meta;
        sqlx::query(
            "INSERT INTO attachments (id, email_id, team_id, filename, content_type, content_id, disposition, size, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(meta.id.to_string())
        .bind(&email_id)
        .bind(&team_id)
        .bind(meta.filename.as_deref())
        .bind(&meta.content_type)
        .bind(meta.content_id.as_deref())
        .bind(meta.disposition.as_str())
        .bind(i64::try_from(meta.size).unwrap_or(i64::MAX))
        .bind(attachment.content.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    for delivery in &new.deliveries {
        sqlx::query(
            "INSERT INTO deliveries (id, email_id, team_id, recipient, kind, route, status, attempts, due_at, updated_at, expires_at, region, topic_id) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8, $9, $10, $11)",
        )
        .bind(delivery.id.to_string())
        .bind(&email_id)
        .bind(&team_id)
        .bind(&delivery.recipient)
        .bind(delivery.kind.as_str())
        .bind(delivery.route.as_str())
        .bind(to_micros(delivery.due_at))
        .bind(to_micros(email.created_at))
        .bind(to_micros(delivery.expires_at))
        .bind(delivery.region.as_deref())
        .bind(email.topic_id.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    insert_event(tx, subscribers, email.team_id, &new.first_event).await
}

/// Moves an email's `last_event` to `kind`, but only from one of `replaced`: one
/// conditional update, so concurrent writers (hits, deliveries, reports) cannot move
/// it backwards between a read and a write.
pub(crate) async fn advance_last_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    email_id: EmailId,
    kind: EventKind,
    replaced: &[EventKind],
) -> Result<()> {
    if replaced.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..replaced.len()).map(|i| format!("${}", i + 3)).collect();
    let sql =
        format!("UPDATE emails SET last_event = $1 WHERE id = $2 AND last_event IN ({})", placeholders.join(", "));
    let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind.as_str()).bind(email_id.to_string());
    for current in replaced {
        update = update.bind(current.as_str());
    }
    update.execute(&mut **tx).await.map_err(db)?;
    Ok(())
}

/// Appends one event to an email's timeline.
pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subscribers: &mut Subscribers,
    team_id: TeamId,
    event: &EmailEvent,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_events (email_id, team_id, kind, recipient, created_at, data) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.email_id.to_string())
    .bind(team_id.to_string())
    .bind(event.kind.as_str())
    .bind(event.recipient.as_deref())
    .bind(to_micros(event.at))
    .bind(to_json(&event.data))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    crate::webhooks::enqueue_email_event(tx, subscribers, team_id, event).await
}

async fn complete_idempotency(tx: &mut sqlx::Transaction<'_, sqlx::Any>, completion: &Completion) -> Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', response_status = $1, response_body = $2 \
         WHERE team_id = $3 AND idem_key = $4",
    )
    .bind(i32::from(completion.status))
    .bind(to_json(&completion.body))
    .bind(completion.team_id.to_string())
    .bind(&completion.key)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}
