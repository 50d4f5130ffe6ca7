//! `exports` (the export, its filters, status and the background worker's lease) and
//! `export_chunks` (its CSV file in pieces). A worker writes pieces only while its
//! lease token is the export's; claiming an export afresh deletes the pieces an
//! earlier, lost worker left.

use async_trait::async_trait;
use postline_core::{
    Error, Result,
    clock::{Timestamp, to_micros},
    exports::{CHUNK_BYTES, Export, ExportFilters, ExportId, ExportKind, ExportStatus, ExportStore, Finished},
    ids::{TeamId, UserId},
    pagination::{Page, PageRequest},
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Backend, Db, error::db, rows};

const COLUMNS: &str = "id, team_id, kind, filters, status, row_count, file_bytes, failure, requested_by, \
                       requester_email, created_at, completed_at";

fn count(row: &AnyRow, column: &str) -> Result<Option<u64>> {
    Ok(rows::get::<Option<i64>>(row, column)?.map(|n| u64::try_from(n).unwrap_or_default()))
}

fn export_from(row: &AnyRow) -> Result<Export> {
    let kind: String = rows::get(row, "kind")?;
    let status: String = rows::get(row, "status")?;
    let filters: ExportFilters = rows::json(row, "filters")?;
    Ok(Export {
        id: ExportId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        kind: ExportKind::parse(&kind).map_err(|_| Error::Internal(format!("unknown export kind {kind}")))?,
        filters,
        status: ExportStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("unknown export status {status}")))?,
        rows: count(row, "row_count")?,
        file_bytes: count(row, "file_bytes")?,
        failure: rows::get(row, "failure")?,
        requested_by: UserId(rows::uuid(row, "requested_by")?),
        requester_email: rows::get(row, "requester_email")?,
        created_at: rows::time(row, "created_at")?,
        completed_at: rows::opt_time(row, "completed_at")?,
    })
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn insert_chunk(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: ExportId, seq: u32, data: &[u8]) -> Result<()> {
    sqlx::query("INSERT INTO export_chunks (export_id, seq, data) VALUES ($1, $2, $3)")
        .bind(id.to_string())
        .bind(i32::try_from(seq).unwrap_or(i32::MAX))
        .bind(data)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

#[async_trait]
impl ExportStore for Db {
    async fn insert_export(&self, export: &Export, file: Option<&[u8]>) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO exports (id, team_id, kind, filters, status, row_count, file_bytes, failure, requested_by, \
             requester_email, created_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(export.id.to_string())
        .bind(export.team_id.to_string())
        .bind(export.kind.as_str())
        .bind(rows::to_json(&export.filters))
        .bind(export.status.as_str())
        .bind(export.rows.map(as_i64))
        .bind(export.file_bytes.map(as_i64))
        .bind(export.failure.as_deref())
        .bind(export.requested_by.to_string())
        .bind(&export.requester_email)
        .bind(to_micros(export.created_at))
        .bind(export.completed_at.map(to_micros))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        for (seq, chunk) in file.unwrap_or_default().chunks(CHUNK_BYTES).enumerate() {
            insert_chunk(&mut tx, export.id, u32::try_from(seq).unwrap_or(u32::MAX), chunk).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn get_export(&self, team_id: TeamId, id: ExportId) -> Result<Option<Export>> {
        self.get_owned(COLUMNS, "exports", team_id, &id.to_string(), export_from).await
    }

    async fn list_exports(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Export>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM exports"), team_id, page, export_from).await
    }

    async fn claim_export(&self, now: Timestamp, lease_until: Timestamp) -> Result<Option<(Export, String)>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let lock = if self.backend == Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let token = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "UPDATE exports SET lease_until = $1, lease_token = $2 WHERE id IN ( \
               SELECT id FROM exports WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < $3) \
               ORDER BY created_at LIMIT 1 {lock}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(to_micros(lease_until))
            .bind(&token)
            .bind(to_micros(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let Some(export) = row.as_ref().map(export_from).transpose()? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM export_chunks WHERE export_id = $1")
            .bind(export.id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Some((export, token)))
    }

    async fn append_export_chunk(
        &self,
        id: ExportId,
        lease_token: &str,
        seq: u32,
        data: &[u8],
        lease_until: Timestamp,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let held = sqlx::query(
            "UPDATE exports SET lease_until = $1 WHERE id = $2 AND lease_token = $3 AND status = 'pending'",
        )
        .bind(to_micros(lease_until))
        .bind(id.to_string())
        .bind(lease_token)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if held.rows_affected() == 0 {
            return Ok(false);
        }
        insert_chunk(&mut tx, id, seq, data).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn finish_export(&self, id: ExportId, lease_token: &str, outcome: &Finished, at: Timestamp) -> Result<bool> {
        let _turn = self.write_turn().await;
        let (status, rows, bytes, failure) = match outcome {
            Finished::Ready { rows, bytes } => ("ready", Some(as_i64(*rows)), Some(as_i64(*bytes)), None),
            Finished::Failed(why) => ("failed", None, None, Some(why.as_str())),
        };
        let done = sqlx::query(
            "UPDATE exports SET status = $1, row_count = $2, file_bytes = $3, failure = $4, completed_at = $5, \
             lease_until = NULL, lease_token = NULL WHERE id = $6 AND lease_token = $7 AND status = 'pending'",
        )
        .bind(status)
        .bind(rows)
        .bind(bytes)
        .bind(failure)
        .bind(to_micros(at))
        .bind(id.to_string())
        .bind(lease_token)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn export_chunk(&self, team_id: TeamId, id: ExportId, seq: u32) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar(
            "SELECT c.data FROM export_chunks c JOIN exports e ON e.id = c.export_id \
             WHERE c.export_id = $1 AND e.team_id = $2 AND c.seq = $3",
        )
        .bind(id.to_string())
        .bind(team_id.to_string())
        .bind(i32::try_from(seq).unwrap_or(i32::MAX))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)
    }

    async fn expire_exports(&self, before: Timestamp) -> Result<u64> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The pieces first: SQLite enforces the foreign key only when asked to.
        sqlx::query(
            "DELETE FROM export_chunks WHERE export_id IN \
             (SELECT id FROM exports WHERE status <> 'expired' AND created_at < $1)",
        )
        .bind(to_micros(before))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let done = sqlx::query(
            "UPDATE exports SET status = 'expired', lease_until = NULL, lease_token = NULL \
             WHERE status <> 'expired' AND created_at < $1",
        )
        .bind(to_micros(before))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected())
    }
}
