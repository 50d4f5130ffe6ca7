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
    emails::{Lane, RecipientKind, Route},
    ids::{DeliveryId, EmailId, TeamId, TopicId},
    store::QueueStore,
};
use sqlx::Row;

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
        let mut recorded = Vec::with_capacity(outcomes.len());
        let mut subscribers = Subscribers::default();
        for (claimed, outcome) in outcomes {
            recorded.push(record_outcome(&mut tx, &mut subscribers, claimed, outcome).await?);
        }
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

async fn record_outcome(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subscribers: &mut Subscribers,
    claimed: &ClaimedDelivery,
    outcome: &DeliveryOutcome,
) -> Result<bool> {
    let now = outcome.events.last().map(|e| e.at).unwrap_or_else(chrono::Utc::now);
    let updated = sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = attempts + 1, due_at = COALESCE($2, due_at), \
         lease_until = NULL, lease_token = NULL, updated_at = $3, last_reply = COALESCE($6, last_reply) \
         WHERE id = $4 AND lease_token = $5",
    )
    .bind(outcome.status.as_str())
    .bind(outcome.retry_at.map(to_micros))
    .bind(to_micros(now))
    .bind(claimed.id.to_string())
    .bind(&claimed.lease_token)
    .bind(outcome.last_reply.as_deref())
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    if let Some(reason) = outcome.suppress {
        let entry = Suppression {
            id: postline_core::ids::SuppressionId::new(),
            team_id: claimed.team_id,
            email: normalize(&claimed.recipient),
            reason,
            source_email_id: Some(claimed.email_id),
            created_at: now,
        };
        crate::suppressions::insert(tx, &entry).await?;
    }
    for event in &outcome.events {
        writer::insert_event(tx, subscribers, claimed.team_id, event).await?;
    }
    if let Some(last) = outcome.events.last() {
        sqlx::query("UPDATE emails SET last_event = $1 WHERE id = $2")
            .bind(last.kind.as_str())
            .bind(claimed.email_id.to_string())
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }
    Ok(true)
}
