//! Claims on domains other teams verified.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::to_micros,
    domains::claims::{ClaimStatus, DomainClaim},
    ids::{ClaimId, DomainId, TeamId},
    store::ClaimStore,
};
use sqlx::any::AnyRow;

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, domain_id, name, region, token, status, created_at, expires_at";

fn claim_from(row: &AnyRow) -> Result<DomainClaim> {
    let status: String = rows::get(row, "status")?;
    Ok(DomainClaim {
        id: ClaimId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        domain_id: DomainId(rows::uuid(row, "domain_id")?),
        name: rows::get(row, "name")?,
        region: rows::get(row, "region")?,
        token: rows::get(row, "token")?,
        status: ClaimStatus::parse(&status),
        created_at: rows::time(row, "created_at")?,
        expires_at: rows::time(row, "expires_at")?,
    })
}

#[async_trait]
impl ClaimStore for Db {
    async fn insert_claim(&self, c: &DomainClaim) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO domain_claims (id, team_id, domain_id, name, region, token, status, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.id.to_string())
        .bind(c.team_id.to_string())
        .bind(c.domain_id.to_string())
        .bind(&c.name)
        .bind(&c.region)
        .bind(&c.token)
        .bind(c.status.as_str())
        .bind(to_micros(c.created_at))
        .bind(to_micros(c.expires_at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn pending_claim(&self, team_id: TeamId, name: &str) -> Result<Option<DomainClaim>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM domain_claims WHERE team_id = $1 AND name = $2 AND status = 'pending' ORDER BY id DESC LIMIT 1"
        )))
        .bind(team_id.to_string())
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(claim_from).transpose()
    }

    async fn claim_for_domain(&self, team_id: TeamId, domain_id: DomainId) -> Result<Option<DomainClaim>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM domain_claims WHERE team_id = $1 AND domain_id = $2 ORDER BY id DESC LIMIT 1"
        )))
        .bind(team_id.to_string())
        .bind(domain_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(claim_from).transpose()
    }

    async fn set_claim_status(&self, id: ClaimId, status: ClaimStatus) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE domain_claims SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn complete_claim(&self, claim: &DomainClaim) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM domains WHERE name = $1 AND team_id <> $2")
            .bind(&claim.name)
            .bind(claim.team_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("DELETE FROM domain_keys WHERE domain = $1")
            .bind(&claim.name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE domain_claims SET status = 'completed' WHERE id = $1")
            .bind(claim.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }
}
