//! Sending domains.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::{Timestamp, to_micros},
    domains::{Domain, DomainStatus, Tls},
    ids::{DomainId, TeamId},
    pagination::{Page, PageRequest},
    store::DomainStore,
    webhooks::OutboxEvent,
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Backend, Db, error::db, rows};

pub(crate) const COLUMNS: &str = "id, team_id, name, region, status, return_path, open_tracking, click_tracking, tls, sending, \
                       receiving, tracking_subdomain, selector, checks, advisories, nameservers, created_at, \
                       verification_started_at, failing_since, last_checked_at, next_check_at";

pub(crate) fn domain_from(row: &AnyRow) -> Result<Domain> {
    let status: String = rows::get(row, "status")?;
    let tls: String = rows::get(row, "tls")?;
    Ok(Domain {
        id: DomainId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        name: rows::get(row, "name")?,
        region: rows::get(row, "region")?,
        status: DomainStatus::parse(&status),
        return_path: rows::get(row, "return_path")?,
        open_tracking: rows::flag(row, "open_tracking")?,
        click_tracking: rows::flag(row, "click_tracking")?,
        tls: Tls::parse(&tls).unwrap_or_default(),
        sending: rows::flag(row, "sending")?,
        receiving: rows::flag(row, "receiving")?,
        tracking_subdomain: rows::get(row, "tracking_subdomain")?,
        selector: rows::get(row, "selector")?,
        checks: rows::json(row, "checks")?,
        advisories: rows::json(row, "advisories")?,
        nameservers: rows::json(row, "nameservers")?,
        created_at: rows::time(row, "created_at")?,
        verification_started_at: rows::opt_time(row, "verification_started_at")?,
        failing_since: rows::opt_time(row, "failing_since")?,
        last_checked_at: rows::opt_time(row, "last_checked_at")?,
        next_check_at: rows::opt_time(row, "next_check_at")?,
    })
}

#[async_trait]
impl DomainStore for Db {
    async fn insert_domain(&self, d: &Domain, event: Option<&OutboxEvent>) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO domains ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19, $20, $21)"
        )))
        .bind(d.id.to_string())
        .bind(d.team_id.to_string())
        .bind(&d.name)
        .bind(&d.region)
        .bind(d.status.as_str())
        .bind(&d.return_path)
        .bind(i32::from(d.open_tracking))
        .bind(i32::from(d.click_tracking))
        .bind(d.tls.as_str())
        .bind(i32::from(d.sending))
        .bind(i32::from(d.receiving))
        .bind(d.tracking_subdomain.as_deref())
        .bind(&d.selector)
        .bind(rows::to_json(&d.checks))
        .bind(rows::to_json(&d.advisories))
        .bind(rows::to_json(&d.nameservers))
        .bind(to_micros(d.created_at))
        .bind(d.verification_started_at.map(to_micros))
        .bind(d.failing_since.map(to_micros))
        .bind(d.last_checked_at.map(to_micros))
        .bind(d.next_check_at.map(to_micros))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some(event) = event {
            crate::webhooks::enqueue_event(&mut tx, d.team_id, event).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn get_domain(&self, team_id: TeamId, id: DomainId) -> Result<Option<Domain>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM domains WHERE id = $1 AND team_id = $2")))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(domain_from).transpose()
    }

    async fn list_domains(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Domain>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM domains"), team_id, page, domain_from).await
    }

    async fn save_domain(&self, d: &Domain, event: Option<&OutboxEvent>) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "UPDATE domains SET status = $1, open_tracking = $2, click_tracking = $3, tls = $4, sending = $5, \
             receiving = $6, tracking_subdomain = $7, checks = $8, advisories = $9, nameservers = $10, \
             verification_started_at = $11, failing_since = $12, last_checked_at = $13, next_check_at = $14 \
             WHERE id = $15 AND team_id = $16",
        )
        .bind(d.status.as_str())
        .bind(i32::from(d.open_tracking))
        .bind(i32::from(d.click_tracking))
        .bind(d.tls.as_str())
        .bind(i32::from(d.sending))
        .bind(i32::from(d.receiving))
        .bind(d.tracking_subdomain.as_deref())
        .bind(rows::to_json(&d.checks))
        .bind(rows::to_json(&d.advisories))
        .bind(rows::to_json(&d.nameservers))
        .bind(d.verification_started_at.map(to_micros))
        .bind(d.failing_since.map(to_micros))
        .bind(d.last_checked_at.map(to_micros))
        .bind(d.next_check_at.map(to_micros))
        .bind(d.id.to_string())
        .bind(d.team_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some(event) = event {
            crate::webhooks::enqueue_event(&mut tx, d.team_id, event).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn delete_domain(&self, team_id: TeamId, id: DomainId, event: Option<&OutboxEvent>) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query("DELETE FROM domains WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() == 1
            && let Some(event) = event
        {
            crate::webhooks::enqueue_event(&mut tx, team_id, event).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn domain_by_name(&self, team_id: TeamId, name: &str) -> Result<Option<Domain>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM domains WHERE team_id = $1 AND name = $2")))
            .bind(team_id.to_string())
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(domain_from).transpose()
    }

    async fn name_verified_elsewhere(&self, team_id: TeamId, name: &str) -> Result<bool> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM domains WHERE name = $1 AND team_id <> $2 \
             AND status IN ('verified', 'partially_verified', 'temporary_failure')",
        )
        .bind(name)
        .bind(team_id.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(count > 0)
    }

    async fn claim_due_domains(&self, now: Timestamp, lease_until: Timestamp, limit: u32) -> Result<Vec<Domain>> {
        let _turn = self.write_turn().await;
        let lock = if self.backend == Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE domains SET next_check_at = $1 WHERE id IN (SELECT id FROM domains WHERE next_check_at <= $2 \
             ORDER BY next_check_at LIMIT $3 {lock}) RETURNING {COLUMNS}"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(to_micros(lease_until))
            .bind(to_micros(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        found.iter().map(domain_from).collect()
    }
}
