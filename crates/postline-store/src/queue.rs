//! The delivery queue: leasing due rows and recording attempt outcomes.
//!
//! On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so workers on several
//! nodes never take the same row; on SQLite the single `UPDATE … RETURNING` runs
//! under the database's write lock, which gives the same guarantee.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::{Timestamp, to_micros},
    delivery::suppression::{Suppression, normalize},
    delivery::{ClaimedDelivery, DeliveryOutcome},
    emails::{EventKind, Lane, RecipientKind, Route},
    ids::{DeliveryId, EmailId, TeamId, TopicId},
    store::QueueStore,
};
use sqlx::Row;
use std::collections::{HashMap, HashSet};

use sqlx::AssertSqlSafe;

use crate::{Backend, Db, error::db, rows, webhooks::Subscribers, writer};

#[async_trait]
impl QueueStore for Db {
    async fn claim_due(
        &self,
        route: Route,
        region: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedDelivery>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let _turn = self.write_turn().await;
        let token = uuid::Uuid::new_v4().to_string();
        // One statement per lane, transactional first, each a range of the queue index;
        // the bulk lane only fills what the transactional one left of the round.
        let sql = format!(
            "UPDATE deliveries SET lease_until = $1, lease_token = $2, updated_at = $3 WHERE id IN ( \
               SELECT id FROM deliveries WHERE route = $4 AND lane = $7 AND status = 'queued' AND due_at <= $3 \
               AND (lease_until IS NULL OR lease_until < $3) AND (region IS NULL OR region = $6) \
               ORDER BY due_at, id LIMIT $5 {lock}) \
             RETURNING id, email_id, team_id, recipient, kind, attempts, expires_at, due_at, topic_id"
        );
        let mut found = Vec::new();
        for lane in Lane::IN_ORDER {
            let wanted = i64::from(limit) - found.len() as i64;
            if wanted <= 0 {
                break;
            }
            let rows = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(to_micros(lease_until))
                .bind(&token)
                .bind(to_micros(now))
                .bind(route.as_str())
                .bind(wanted)
                .bind(region)
                .bind(lane.as_i16())
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
            found.extend(rows);
        }
        let mut claimed = found
            .iter()
            .map(|row| {
                let kind: String = rows::get(row, "kind")?;
                let attempts: i32 = row.try_get("attempts").map_err(db)?;
                Ok(ClaimedDelivery {
                    id: DeliveryId(rows::uuid(row, "id")?),
                    email_id: EmailId(rows::uuid(row, "email_id")?),
                    team_id: TeamId(rows::uuid(row, "team_id")?),
                    recipient: rows::get(row, "recipient")?,
                    kind: RecipientKind::parse(&kind),
                    route,
                    attempts: u32::try_from(attempts).unwrap_or_default(),
                    due_at: rows::time(row, "due_at")?,
                    // Rows written before expiry existed expire 72 h after they were due.
                    expires_at: rows::opt_time(row, "expires_at")?
                        .unwrap_or(rows::time(row, "due_at")? + postline_core::Settings::DEFAULT_DELIVERY_EXPIRY),
                    lease_token: token.clone(),
                    topic_id: rows::get::<Option<String>>(row, "topic_id")?
                        .and_then(|raw| uuid::Uuid::parse_str(&raw).ok())
                        .map(TopicId),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // RETURNING gives no order; keep the queue's (creation order: ids are time-ordered).
        claimed.sort_by_key(|row| row.id);
        Ok(claimed)
    }

    async fn complete_deliveries(&self, outcomes: &[(ClaimedDelivery, DeliveryOutcome)]) -> Result<Vec<bool>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let kept = release_leases(&mut tx, outcomes).await?;
        let recorded: Vec<bool> = outcomes.iter().map(|(claimed, _)| kept.contains(&claimed.id.to_string())).collect();
        let mut events = Vec::new();
        // Each email's timeline ends on its last outcome's last event; an email with
        // several recipients in the batch gets the latest.
        let mut last_events: HashMap<EmailId, EventKind> = HashMap::new();
        for ((claimed, outcome), _) in outcomes.iter().zip(&recorded).filter(|(_, kept)| **kept) {
            if let Some(reason) = outcome.suppress {
                let entry = Suppression {
                    id: postline_core::ids::SuppressionId::new(),
                    team_id: claimed.team_id,
                    email: normalize(&claimed.recipient),
                    reason,
                    source_email_id: Some(claimed.email_id),
                    created_at: recorded_at(outcome),
                };
                crate::suppressions::insert(&mut tx, &entry).await?;
            }
            events.extend(outcome.events.iter().map(|event| (claimed.team_id, event)));
            if let Some(last) = outcome.events.last() {
                last_events.insert(claimed.email_id, last.kind);
            }
        }
        let mut subscribers = Subscribers::default();
        writer::insert_events(&mut tx, &mut subscribers, &events).await?;
        set_last_events(&mut tx, &last_events.into_iter().collect::<Vec<_>>()).await?;
        tx.commit().await.map_err(db)?;
        Ok(recorded)
    }

    async fn extend_lease(&self, token: &str, until: Timestamp) -> Result<u64> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE deliveries SET lease_until = $1 WHERE lease_token = $2")
            .bind(to_micros(until))
            .bind(token)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn queue_depth(&self) -> Result<Vec<(String, i64)>> {
        let found = sqlx::query(
            "SELECT route, COUNT(*) AS depth FROM deliveries WHERE status = 'queued' GROUP BY route ORDER BY route",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found.iter().map(|row| Ok((rows::get(row, "route")?, rows::get(row, "depth")?))).collect()
    }
}

/// Most outcomes per statement (six parameters each).
const OUTCOMES_PER_STATEMENT: usize = 64;

/// Writes each attempted row's outcome — status, next due time, last reply — and
/// releases its lease, but only where the lease is still this round's (a row whose
/// lease ran out may be another worker's now). A few multi-row statements per batch
/// rather than one per row: the worker records thousands of outcomes a second, and
/// on SQLite every statement is a hand-off to the connection's thread. Returns the
/// ids of the rows written.
async fn release_leases(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    outcomes: &[(ClaimedDelivery, DeliveryOutcome)],
) -> Result<HashSet<String>> {
    let backend = Backend::of_connection(tx);
    let mut kept = HashSet::with_capacity(outcomes.len());
    for run in writer::runs(outcomes, OUTCOMES_PER_STATEMENT) {
        // The casts type the VALUES columns for PostgreSQL whatever the binds say.
        let sql = format!(
            "WITH outcome (id, token, status, due_at, updated_at, last_reply) AS (VALUES {}) \
             UPDATE deliveries SET status = outcome.status, attempts = deliveries.attempts + 1, \
               due_at = COALESCE(CAST(outcome.due_at AS BIGINT), deliveries.due_at), \
               lease_until = NULL, lease_token = NULL, updated_at = CAST(outcome.updated_at AS BIGINT), \
               last_reply = COALESCE(outcome.last_reply, deliveries.last_reply) \
             FROM outcome WHERE deliveries.id = outcome.id AND deliveries.lease_token = outcome.token \
             RETURNING deliveries.id",
            writer::values(backend, run.len(), 6)
        );
        let mut update = sqlx::query(AssertSqlSafe(sql));
        for (claimed, outcome) in run {
            update = update
                .bind(claimed.id.to_string())
                .bind(claimed.lease_token.clone())
                .bind(outcome.status.as_str())
                .bind(outcome.retry_at.map(to_micros))
                .bind(to_micros(recorded_at(outcome)))
                .bind(outcome.last_reply.clone());
        }
        for row in update.fetch_all(&mut **tx).await.map_err(db)? {
            kept.insert(rows::get::<String>(&row, "id")?);
        }
    }
    Ok(kept)
}

/// When an outcome happened: its last event's time, or for one without events the
/// time it is written.
fn recorded_at(outcome: &DeliveryOutcome) -> Timestamp {
    outcome.events.last().map(|e| e.at).unwrap_or_else(chrono::Utc::now)
}

/// Sets each email's `last_event`, a few multi-row statements per batch.
async fn set_last_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    last_events: &[(EmailId, EventKind)],
) -> Result<()> {
    let backend = Backend::of_connection(tx);
    for run in writer::runs(last_events, OUTCOMES_PER_STATEMENT) {
        let sql = format!(
            "WITH latest (id, kind) AS (VALUES {}) \
             UPDATE emails SET last_event = latest.kind FROM latest WHERE emails.id = latest.id",
            writer::values(backend, run.len(), 2)
        );
        let mut update = sqlx::query(AssertSqlSafe(sql));
        for (email_id, kind) in run {
            update = update.bind(email_id.to_string()).bind(kind.as_str());
        }
        update.execute(&mut **tx).await.map_err(db)?;
    }
    Ok(())
}
