//! Idempotency keys: claim (insert an in-flight marker, or find what is there),
//! release on failure. Completion is written by the accepting transaction.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::{Timestamp, to_micros},
    idempotency::Claim,
    ids::TeamId,
    store::IdempotencyStore,
};

use crate::{Db, error::db, rows};

#[async_trait]
impl IdempotencyStore for Db {
    async fn claim_idempotency_key(
        &self,
        team_id: TeamId,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        lease_until: Timestamp,
        expired_before: Timestamp,
    ) -> Result<Claim> {
        let _turn = self.write_turn().await;
        let team = team_id.to_string();
        // Take over a record that expired, or an in-flight marker whose request died.
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE team_id = $1 AND idem_key = $2 \
             AND (created_at < $3 OR (state = 'in_flight' AND lease_until < $4))",
        )
        .bind(&team)
        .bind(key)
        .bind(to_micros(expired_before))
        .bind(to_micros(now))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (team_id, idem_key, fingerprint, state, lease_until, created_at) \
             VALUES ($1, $2, $3, 'in_flight', $4, $5) ON CONFLICT (team_id, idem_key) DO NOTHING",
        )
        .bind(&team)
        .bind(key)
        .bind(fingerprint)
        .bind(to_micros(lease_until))
        .bind(to_micros(now))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Fresh);
        }
        let row = sqlx::query(
            "SELECT fingerprint, state, response_status, response_body FROM idempotency_keys \
             WHERE team_id = $1 AND idem_key = $2",
        )
        .bind(&team)
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        // Released between our insert and read: the caller may simply retry.
        let Some(row) = row else {
            return Ok(Claim::InFlight);
        };
        let stored: String = rows::get(&row, "fingerprint")?;
        let state: String = rows::get(&row, "state")?;
        if stored != fingerprint {
            return Ok(Claim::Mismatch);
        }
        if state != "done" {
            return Ok(Claim::InFlight);
        }
        let status: Option<i32> = rows::get(&row, "response_status")?;
        let body: Option<String> = rows::get(&row, "response_body")?;
        match (status, body) {
            (Some(status), Some(body)) => Ok(Claim::Replay {
                status: u16::try_from(status).unwrap_or(200),
                body: serde_json::from_str(&body).map_err(|e| postline_core::Error::Internal(e.to_string()))?,
            }),
            _ => Ok(Claim::InFlight),
        }
    }

    async fn release_idempotency_key(&self, team_id: TeamId, key: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM idempotency_keys WHERE team_id = $1 AND idem_key = $2 AND state = 'in_flight'")
            .bind(team_id.to_string())
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> Result<u64> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(to_micros(before))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected())
    }
}
