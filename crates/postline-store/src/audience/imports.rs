//! `contact_imports` (the job, its counts and lease; drafts wait for the dashboard's
//! mapping), `contact_import_chunks` (the file in 1 MiB pieces) and
//! `contact_import_errors`. A batch of rows, its errors and
//! the import's progress are one transaction, written only under the worker's lease.

use async_trait::async_trait;
use postline_core::{
    Error, Result,
    audience::Contact,
    audience::imports::{CHUNK_BYTES, ContactImport, ImportCounts, ImportStatus, OnConflict, RowError, parse_options},
    clock::{Timestamp, to_micros},
    delivery::suppression::normalize,
    ids::{ContactId, ContactImportId, TeamId},
    pagination::{Page, PageRequest},
    store::{ContactImportStore, ImportBatch},
};
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, any::AnyRow};

use super::contacts::{insert_row, join_segments, write_subscriptions};
use crate::{Backend, Db, error::db, rows};

const COLUMNS: &str = "id, team_id, status, fields, total, created, updated, skipped, failed, rows_done, file_bytes, \
                       failure, created_at, completed_at";

fn count(row: &AnyRow, column: &str) -> Result<u64> {
    Ok(u64::try_from(rows::get::<i64>(row, column)?).unwrap_or_default())
}

fn counts_from(row: &AnyRow) -> Result<ImportCounts> {
    Ok(ImportCounts {
        total: count(row, "total")?,
        created: count(row, "created")?,
        updated: count(row, "updated")?,
        skipped: count(row, "skipped")?,
        failed: count(row, "failed")?,
    })
}

fn import_from(row: &AnyRow) -> Result<ContactImport> {
    let status: String = rows::get(row, "status")?;
    let fields: Map<String, Value> = rows::json(row, "fields")?;
    Ok(ContactImport {
        id: ContactImportId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        status: ImportStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("unknown import status {status}")))?,
        options: parse_options(&fields)?,
        counts: counts_from(row)?,
        rows_done: count(row, "rows_done")?,
        file_bytes: count(row, "file_bytes")?,
        failure: rows::get(row, "failure")?,
        created_at: rows::time(row, "created_at")?,
        completed_at: rows::opt_time(row, "completed_at")?,
    })
}

/// Writes one imported row; returns the contact it created or updated, if any.
async fn write_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    batch: &ImportBatch<'_>,
    row: &postline_core::audience::imports::ImportRow,
    counts: &mut ImportCounts,
) -> Result<Option<ContactId>> {
    let import = batch.import;
    let at = to_micros(batch.at);
    let existing = sqlx::query("SELECT id, properties FROM contacts WHERE team_id = $1 AND email_key = $2")
        .bind(import.team_id.to_string())
        .bind(normalize(&row.email))
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
    let Some(existing) = existing else {
        let contact = Contact {
            id: ContactId::new(),
            team_id: import.team_id,
            email: row.email.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            unsubscribed: row.unsubscribed.unwrap_or(false),
            properties: row.properties.clone(),
            created_at: batch.at,
            updated_at: batch.at,
        };
        // Not inserted: another writer created the address since the lookup.
        if !insert_row(tx, &contact).await? {
            counts.skipped += 1;
            return Ok(None);
        }
        counts.created += 1;
        return Ok(Some(contact.id));
    };
    if import.options.on_conflict == OnConflict::Skip {
        counts.skipped += 1;
        return Ok(None);
    }
    let id = ContactId(rows::uuid(&existing, "id")?);
    let mut properties: Map<String, Value> = rows::json(&existing, "properties")?;
    properties.extend(row.properties.clone());
    sqlx::query(
        "UPDATE contacts SET first_name = COALESCE($1, first_name), last_name = COALESCE($2, last_name), \
         unsubscribed = COALESCE($3, unsubscribed), properties = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(row.first_name.as_deref())
    .bind(row.last_name.as_deref())
    .bind(row.unsubscribed.map(i32::from))
    .bind(rows::to_json(&properties))
    .bind(at)
    .bind(id.to_string())
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    counts.updated += 1;
    Ok(Some(id))
}

#[async_trait]
impl ContactImportStore for Db {
    async fn insert_contact_import(&self, import: &ContactImport, fields: &Value, file: &[u8]) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO contact_imports (id, team_id, status, fields, total, created, updated, skipped, failed, \
             rows_done, file_bytes, created_at) VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0, 0, $5, $6)",
        )
        .bind(import.id.to_string())
        .bind(import.team_id.to_string())
        .bind(import.status.as_str())
        .bind(rows::to_json(fields))
        .bind(i64::try_from(file.len()).unwrap_or(i64::MAX))
        .bind(to_micros(import.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        for (seq, chunk) in file.chunks(CHUNK_BYTES).enumerate() {
            sqlx::query("INSERT INTO contact_import_chunks (import_id, seq, data) VALUES ($1, $2, $3)")
                .bind(import.id.to_string())
                .bind(i32::try_from(seq).unwrap_or(i32::MAX))
                .bind(chunk)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn get_contact_import(&self, team_id: TeamId, id: ContactImportId) -> Result<Option<ContactImport>> {
        self.get_owned(COLUMNS, "contact_imports", team_id, &id.to_string(), import_from).await
    }

    async fn list_contact_imports(
        &self,
        team_id: TeamId,
        status: Option<ImportStatus>,
        page: &PageRequest,
    ) -> Result<Page<ContactImport>> {
        // The status is one of five fixed names, so it can be part of the SQL text.
        // Drafts (files waiting for the dashboard's mapping) are never listed.
        let from = match status {
            None => "(SELECT * FROM contact_imports WHERE status <> 'draft') AS chosen".to_string(),
            Some(s) => format!("(SELECT * FROM contact_imports WHERE status = '{}') AS chosen", s.as_str()),
        };
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM {from}"), team_id, page, import_from).await
    }

    async fn import_errors(&self, id: ContactImportId, limit: u32) -> Result<Vec<RowError>> {
        let found = sqlx::query(AssertSqlSafe(format!(
            "SELECT row_number, email, message FROM contact_import_errors WHERE import_id = $1 \
             ORDER BY row_number LIMIT {limit}"
        )))
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|row| {
                Ok(RowError {
                    row: count(row, "row_number")?,
                    email: rows::get(row, "email")?,
                    message: rows::get(row, "message")?,
                })
            })
            .collect()
    }

    async fn claim_contact_import(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<(ContactImport, String)>> {
        let _turn = self.write_turn().await;
        let lock = if self.backend == Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let token = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "UPDATE contact_imports SET status = 'in_progress', lease_until = $1, lease_token = $2 WHERE id IN ( \
               SELECT id FROM contact_imports WHERE status = 'queued' OR (status = 'in_progress' AND lease_until < $3) \
               ORDER BY created_at LIMIT 1 {lock}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(to_micros(lease_until))
            .bind(&token)
            .bind(to_micros(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        Ok(row.as_ref().map(import_from).transpose()?.map(|import| (import, token)))
    }

    async fn import_chunk(&self, id: ContactImportId, seq: u32) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT data FROM contact_import_chunks WHERE import_id = $1 AND seq = $2")
            .bind(id.to_string())
            .bind(i32::try_from(seq).unwrap_or(i32::MAX))
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn write_import_batch(&self, batch: &ImportBatch<'_>) -> Result<Option<ImportCounts>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let import = batch.import;
        let held = sqlx::query("UPDATE contact_imports SET lease_until = $1 WHERE id = $2 AND lease_token = $3")
            .bind(to_micros(batch.lease_until))
            .bind(import.id.to_string())
            .bind(batch.lease_token)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if held.rows_affected() == 0 {
            return Ok(None);
        }
        let mut added = ImportCounts {
            total: (batch.rows.len() + batch.errors.len()) as u64,
            failed: batch.errors.len() as u64,
            ..ImportCounts::default()
        };
        for row in &batch.rows {
            let Some(contact) = write_row(&mut tx, batch, row, &mut added).await? else { continue };
            join_segments(&mut tx, import.team_id, contact, &import.options.segments, to_micros(batch.at)).await?;
            write_subscriptions(&mut tx, import.team_id, contact, &import.options.topics, to_micros(batch.at)).await?;
        }
        for error in batch.errors.iter().take(batch.keep_errors) {
            sqlx::query(
                "INSERT INTO contact_import_errors (import_id, row_number, email, message) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (import_id, row_number) DO NOTHING",
            )
            .bind(import.id.to_string())
            .bind(i64::try_from(error.row).unwrap_or(i64::MAX))
            .bind(error.email.as_deref())
            .bind(&error.message)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let totals = sqlx::query(
            "UPDATE contact_imports SET total = total + $1, created = created + $2, updated = updated + $3, \
             skipped = skipped + $4, failed = failed + $5, rows_done = $6 WHERE id = $7 \
             RETURNING total, created, updated, skipped, failed",
        )
        .bind(as_i64(added.total))
        .bind(as_i64(added.created))
        .bind(as_i64(added.updated))
        .bind(as_i64(added.skipped))
        .bind(as_i64(added.failed))
        .bind(as_i64(batch.rows_done))
        .bind(import.id.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let counts = counts_from(&totals)?;
        tx.commit().await.map_err(db)?;
        Ok(Some(counts))
    }

    async fn start_contact_import(&self, team_id: TeamId, id: ContactImportId, fields: &Value) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE contact_imports SET status = 'queued', fields = $1 WHERE id = $2 AND team_id = $3 \
             AND status = 'draft'",
        )
        .bind(rows::to_json(fields))
        .bind(id.to_string())
        .bind(team_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_import_drafts(&self, before: Timestamp) -> Result<u64> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The pieces first: SQLite enforces the foreign key only when asked to.
        sqlx::query(
            "DELETE FROM contact_import_chunks WHERE import_id IN \
             (SELECT id FROM contact_imports WHERE status = 'draft' AND created_at < $1)",
        )
        .bind(to_micros(before))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let done = sqlx::query("DELETE FROM contact_imports WHERE status = 'draft' AND created_at < $1")
            .bind(to_micros(before))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn finish_contact_import(
        &self,
        id: ContactImportId,
        lease_token: &str,
        status: ImportStatus,
        failure: Option<&str>,
        at: Timestamp,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query(
            "UPDATE contact_imports SET status = $1, failure = $2, completed_at = $3, lease_until = NULL, \
             lease_token = NULL WHERE id = $4 AND lease_token = $5",
        )
        .bind(status.as_str())
        .bind(failure)
        .bind(to_micros(at))
        .bind(id.to_string())
        .bind(lease_token)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 1 {
            // The file is no longer needed once the import has ended.
            sqlx::query("DELETE FROM contact_import_chunks WHERE import_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() == 1)
    }
}
