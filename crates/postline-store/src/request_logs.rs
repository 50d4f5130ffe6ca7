//! `request_logs` and the keys' `request_count`: a batch of log rows goes in a few
//! multi-row statements (power-of-two runs, like the accept writer's, so each SQL
//! text stays in the statement cache) together with one counter update per key, in
//! one transaction; the Logs page's search is one parameterised query.

use std::collections::BTreeMap;

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::{Timestamp, to_micros},
    ids::{ApiKeyId, TeamId},
    pagination::{Page, PageRequest},
    request_logs::{LogFilter, RequestLog, RequestLogStore},
};
use sqlx::{AssertSqlSafe, any::AnyRow};
use uuid::Uuid;

use crate::{
    Db,
    error::db,
    filtered::Filtered,
    rows,
    writer::{runs, values},
};

const COLUMNS: &str = "id, team_id, api_key_id, method, path, status, user_agent, duration_ms, created_at";
/// Most rows per statement (9 binds each).
const LOGS_PER_STATEMENT: usize = 128;
/// Most old rows deleted per statement.
const DELETE_SLICE: u64 = 10_000;

fn log_from(row: &AnyRow) -> Result<RequestLog> {
    Ok(RequestLog {
        id: rows::uuid(row, "id")?,
        team_id: TeamId(rows::uuid(row, "team_id")?),
        api_key_id: ApiKeyId(rows::uuid(row, "api_key_id")?),
        method: rows::get(row, "method")?,
        path: rows::get(row, "path")?,
        status: u16::try_from(rows::get::<i32>(row, "status")?).unwrap_or_default(),
        user_agent: rows::get(row, "user_agent")?,
        duration_ms: u32::try_from(rows::get::<i64>(row, "duration_ms")?).unwrap_or(u32::MAX),
        created_at: rows::time(row, "created_at")?,
    })
}

#[async_trait]
impl RequestLogStore for Db {
    async fn insert_request_logs(&self, logs: &[RequestLog]) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        for run in runs(logs, LOGS_PER_STATEMENT) {
            let sql = format!("INSERT INTO request_logs ({COLUMNS}) VALUES {}", values(self.backend, run.len(), 9));
            let mut insert = sqlx::query(AssertSqlSafe(sql));
            for log in run {
                insert = insert
                    .bind(log.id.to_string())
                    .bind(log.team_id.to_string())
                    .bind(log.api_key_id.to_string())
                    .bind(log.method.clone())
                    .bind(log.path.clone())
                    .bind(i32::from(log.status))
                    .bind(log.user_agent.clone())
                    .bind(i64::from(log.duration_ms))
                    .bind(to_micros(log.created_at));
            }
            insert.execute(&mut *tx).await.map_err(db)?;
        }
        // In key order, so two nodes' batches lock the same keys in the same order.
        let mut per_key: BTreeMap<String, i64> = BTreeMap::new();
        for log in logs {
            *per_key.entry(log.api_key_id.to_string()).or_default() += 1;
        }
        for (key, count) in per_key {
            sqlx::query("UPDATE api_keys SET request_count = request_count + $1 WHERE id = $2")
                .bind(count)
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn search_request_logs(
        &self,
        team_id: TeamId,
        filter: &LogFilter,
        page: &PageRequest,
    ) -> Result<Page<RequestLog>> {
        let mut query = Filtered::of_team(team_id);
        if let Some(key) = filter.key {
            let p = query.text(key.to_string());
            query.require(format!("api_key_id = {p}"));
        }
        if let Some(class) = filter.status {
            let (low, high) = class.range();
            let low = query.number(i64::from(low));
            let high = query.number(i64::from(high));
            query.require(format!("status BETWEEN {low} AND {high}"));
        }
        if let Some(method) = &filter.method {
            let p = query.text(method.clone());
            query.require(format!("method = {p}"));
        }
        if let Some(since) = filter.since {
            let p = query.number(to_micros(since));
            query.require(format!("created_at >= {p}"));
        }
        if let Some(until) = filter.until {
            let p = query.number(to_micros(until));
            query.require(format!("created_at < {p}"));
        }
        query.page(&self.pool, &format!("SELECT {COLUMNS} FROM request_logs"), page, log_from).await
    }

    async fn get_request_log(&self, team_id: TeamId, id: Uuid) -> Result<Option<RequestLog>> {
        self.get_owned(COLUMNS, "request_logs", team_id, &id.to_string(), log_from).await
    }

    async fn request_counts(&self, team_id: TeamId) -> Result<Vec<(ApiKeyId, u64)>> {
        let found = sqlx::query("SELECT id, request_count FROM api_keys WHERE team_id = $1 AND request_count > 0")
            .bind(team_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        found
            .iter()
            .map(|row| {
                let count = u64::try_from(rows::get::<i64>(row, "request_count")?).unwrap_or_default();
                Ok((ApiKeyId(rows::uuid(row, "id")?), count))
            })
            .collect()
    }

    async fn delete_request_logs(&self, before: Timestamp) -> Result<u64> {
        // In slices, so no one statement holds the write lock (SQLite's gate, the
        // accept writer's turn) for an hour's worth of busy traffic.
        let mut total = 0;
        loop {
            let _turn = self.write_turn().await;
            let sql = format!(
                "DELETE FROM request_logs WHERE id IN \
                 (SELECT id FROM request_logs WHERE created_at < $1 LIMIT {DELETE_SLICE})"
            );
            let done = sqlx::query(AssertSqlSafe(sql)).bind(to_micros(before)).execute(&self.pool).await.map_err(db)?;
            total += done.rows_affected();
            if done.rows_affected() < DELETE_SLICE {
                return Ok(total);
            }
        }
    }
}
