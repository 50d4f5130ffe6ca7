//! The delivery queue: leasing due rows and recording attempt outcomes.
//!
//! On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so workers on several
//! nodes never take the same row; on SQLite the single `UPDATE … RETURNING` runs
//! under the database's write lock, which gives the same guarantee.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::{Timestamp, to_micros},
    delivery::{ClaimedDelivery, DeliveryOutcome},
    emails::{RecipientKind, Route},
    ids::{DeliveryId, EmailId, TeamId},
    store::QueueStore,
};
use sqlx::Row;

use sqlx::AssertSqlSafe;

use crate::{Backend, Db, error::db, rows, writer};

#[async_trait]
impl QueueStore for Db {
    async fn claim_due(
        &self,
        route: Route,
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
        let sql = format!(
            "UPDATE deliveries SET lease_until = $1, lease_token = $2, updated_at = $3 WHERE id IN ( \
               SELECT id FROM deliveries WHERE route = $4 AND status = 'queued' AND due_at <= $3 \
               AND (lease_until IS NULL OR lease_until < $3) ORDER BY due_at LIMIT $5 {lock}) \
             RETURNING id, email_id, team_id, recipient, kind, attempts"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(to_micros(lease_until))
            .bind(&token)
            .bind(to_micros(now))
            .bind(route.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        found
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
                    lease_token: token.clone(),
                })
            })
            .collect()
    }

    async fn complete_deliveries(&self, outcomes: &[(ClaimedDelivery, DeliveryOutcome)]) -> Result<Vec<bool>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut recorded = Vec::with_capacity(outcomes.len());
        for (claimed, outcome) in outcomes {
            recorded.push(record_outcome(&mut tx, claimed, outcome).await?);
        }
        tx.commit().await.map_err(db)?;
        Ok(recorded)
    }
}

async fn record_outcome(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    claimed: &ClaimedDelivery,
    outcome: &DeliveryOutcome,
) -> Result<bool> {
    let now = outcome.events.last().map(|e| e.at).unwrap_or_else(chrono::Utc::now);
    let updated = sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = attempts + 1, due_at = COALESCE($2, due_at), \
         lease_until = NULL, lease_token = NULL, updated_at = $3 WHERE id = $4 AND lease_token = $5",
    )
    .bind(outcome.status.as_str())
    .bind(outcome.retry_at.map(to_micros))
    .bind(to_micros(now))
    .bind(claimed.id.to_string())
    .bind(&claimed.lease_token)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    for event in &outcome.events {
        writer::insert_event(tx, claimed.team_id, event).await?;
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
