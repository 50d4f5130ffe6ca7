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

use sqlx::AssertSqlSafe;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{Backend, StoreError, error::db, rows::to_json, webhooks::Subscribers};

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
    let emails: Vec<&NewEmail> = jobs.iter().flat_map(|job| &job.emails).collect();
    insert_emails(&mut tx, &mut subscribers, &emails).await?;
    for completion in jobs.iter().filter_map(|job| job.completion.as_ref()) {
        complete_idempotency(&mut tx, completion).await?;
    }
    tx.commit().await.map_err(db)
}

/// The placeholders of a multi-row `VALUES`: `($1, $2, …), ($n+1, …)` on PostgreSQL,
/// `(?, ?, …), …` on SQLite. Both bind in order; SQLite gets anonymous `?` because
/// sqlx looks up every parameter's name when binding, and SQLite finds a numbered
/// name by scanning all of the statement's names — quadratic in the parameters,
/// which made the binding of a 1,280-parameter insert a visible share of a profile.
pub(crate) fn values(backend: Backend, rows: usize, columns: usize) -> String {
    use std::fmt::Write;
    // Written into one buffer: built for every group committed, so a string per cell
    // showed in profiles.
    let mut sql = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Postgres => {
                    let _ = write!(sql, "${}", row * columns + column + 1);
                }
                Backend::Sqlite => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// Most rows per statement: each statement is one round trip to the database (for
/// SQLite, a hand-off to its connection's thread and back), so a group's rows go in
/// a few multi-row statements instead of one each — kept well under the bind limits
/// (SQLite 32,766, PostgreSQL 65,535).
const EMAILS_PER_STATEMENT: usize = 64;
const ATTACHMENTS_PER_STATEMENT: usize = 8;
const DELIVERIES_PER_STATEMENT: usize = 128;
const EVENTS_PER_STATEMENT: usize = 128;

/// Splits `items` into runs whose lengths are powers of two (37 → 32, 4, 1), at most
/// `most` long. Each length is its own SQL text, and a prepared statement is cached per
/// text: a handful of lengths keep every statement in the driver's cache, where one
/// text per group size would prepare afresh (and evict) all the time.
pub(crate) fn runs<T>(items: &[T], most: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut size = 1;
        while size * 2 <= rest.len().min(most) {
            size *= 2;
        }
        let (run, after) = rest.split_at(size);
        rest = after;
        Some(run)
    })
}

/// Writes emails with their attachments, deliveries and first events, a few
/// statements per table.
pub(crate) async fn insert_emails(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subscribers: &mut Subscribers,
    emails: &[&NewEmail],
) -> Result<()> {
    let backend = Backend::of_connection(tx);
    for chunk in runs(emails, EMAILS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO emails (id, team_id, from_addr, to_addrs, cc_addrs, bcc_addrs, reply_to, subject, html, text_body, \
             headers, tags, topic_id, message_id, scheduled_at, created_at, last_event, broadcast_id, contact_id, personalisation) \
             VALUES {}",
            values(backend, chunk.len(), 20)
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for new in chunk {
            let email = &new.email;
            insert = insert
                .bind(email.id.to_string())
                .bind(email.team_id.to_string())
                .bind(email.from.clone())
                .bind(to_json(&email.to))
                .bind(to_json(&email.cc))
                .bind(to_json(&email.bcc))
                .bind(to_json(&email.reply_to))
                .bind(email.subject.clone())
                .bind(email.html.clone())
                .bind(email.text.clone())
                .bind(to_json(&email.headers))
                .bind(to_json(&email.tags))
                .bind(email.topic_id.clone())
                .bind(email.message_id.clone())
                .bind(email.scheduled_at.map(to_micros))
                .bind(to_micros(email.created_at))
                .bind(email.last_event.as_str())
                .bind(email.broadcast.as_ref().map(|b| b.broadcast_id.to_string()))
                .bind(email.broadcast.as_ref().map(|b| b.contact_id.to_string()))
                .bind(email.broadcast.as_ref().map(|b| serde_json::Value::Object(b.values.clone()).to_string()));
        }
        insert.execute(&mut **tx).await.map_err(db)?;
    }
    let attachments: Vec<_> =
        emails.iter().flat_map(|new| new.attachments.iter().map(move |a| (&new.email, a))).collect();
    for chunk in runs(&attachments, ATTACHMENTS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO attachments (id, email_id, team_id, filename, content_type, content_id, disposition, size, content) \
             VALUES {}",
            values(backend, chunk.len(), 9)
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for (email, attachment) in chunk {
            let meta = &attachment.meta;
            insert = insert
                .bind(meta.id.to_string())
                .bind(email.id.to_string())
                .bind(email.team_id.to_string())
                .bind(meta.filename.clone())
                .bind(meta.content_type.clone())
                .bind(meta.content_id.clone())
                .bind(meta.disposition.as_str())
                .bind(i64::try_from(meta.size).unwrap_or(i64::MAX))
                .bind(attachment.content.clone());
        }
        insert.execute(&mut **tx).await.map_err(db)?;
    }
    let deliveries: Vec<_> =
        emails.iter().flat_map(|new| new.deliveries.iter().map(move |d| (&new.email, d))).collect();
    for chunk in runs(&deliveries, DELIVERIES_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO deliveries (id, email_id, team_id, recipient, kind, route, status, attempts, due_at, updated_at, expires_at, region, topic_id, lane) \
             VALUES {}",
            values(backend, chunk.len(), 14)
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for (email, delivery) in chunk {
            insert = insert
                .bind(delivery.id.to_string())
                .bind(email.id.to_string())
                .bind(email.team_id.to_string())
                .bind(delivery.recipient.clone())
                .bind(delivery.kind.as_str())
                .bind(delivery.route.as_str())
                .bind("queued")
                .bind(0_i32)
                .bind(to_micros(delivery.due_at))
                .bind(to_micros(email.created_at))
                .bind(to_micros(delivery.expires_at))
                .bind(delivery.region.clone())
                .bind(email.topic_id.clone())
                .bind(delivery.lane.as_i16());
        }
        insert.execute(&mut **tx).await.map_err(db)?;
    }
    let events: Vec<_> = emails.iter().map(|new| (new.email.team_id, &new.first_event)).collect();
    insert_events(tx, subscribers, &events).await
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
    insert_events(tx, subscribers, &[(team_id, event)]).await
}

/// Appends events to their emails' timelines (and the webhook outbox, for the
/// teams' subscribed endpoints).
pub(crate) async fn insert_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subscribers: &mut Subscribers,
    events: &[(TeamId, &EmailEvent)],
) -> Result<()> {
    let backend = Backend::of_connection(tx);
    for chunk in runs(events, EVENTS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO email_events (email_id, team_id, kind, recipient, created_at, data) VALUES {}",
            values(backend, chunk.len(), 6)
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for (team_id, event) in chunk {
            insert = insert
                .bind(event.email_id.to_string())
                .bind(team_id.to_string())
                .bind(event.kind.as_str())
                .bind(event.recipient.clone())
                .bind(to_micros(event.at))
                .bind(to_json(&event.data));
        }
        insert.execute(&mut **tx).await.map_err(db)?;
    }
    for (team_id, event) in events {
        crate::webhooks::enqueue_email_event(tx, subscribers, *team_id, event).await?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    #[test]
    fn values_number_the_placeholders_row_after_row() {
        use crate::Backend::{Postgres, Sqlite};
        assert_eq!(super::values(Postgres, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values(Postgres, 1, 1), "($1)");
        assert_eq!(super::values(Sqlite, 2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn runs_are_powers_of_two_up_to_the_most() {
        let items: Vec<u32> = (0..37).collect();
        let sizes: Vec<usize> = super::runs(&items, 64).map(<[u32]>::len).collect();
        assert_eq!(sizes, [32, 4, 1]);
        let sizes: Vec<usize> = super::runs(&items, 8).map(<[u32]>::len).collect();
        assert_eq!(sizes, [8, 8, 8, 8, 4, 1]);
        let joined: Vec<u32> = super::runs(&items, 8).flatten().copied().collect();
        assert_eq!(joined, items, "every item once, in order");
        assert_eq!(super::runs::<u32>(&[], 8).count(), 0);
    }
}
