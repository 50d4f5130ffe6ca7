//! `captured_messages`: capture mode's developer inbox (the raw source in the row's
//! last column, read only for one message).

use async_trait::async_trait;
use postline_core::{
    Result,
    capture::CapturedMessage,
    clock::to_micros,
    ids::{EmailId, TeamId},
    pagination::{Page, PageRequest},
    store::CaptureStore,
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, email_id, mail_from, recipients, created_at";

fn message_from(row: &AnyRow) -> Result<CapturedMessage> {
    Ok(CapturedMessage {
        id: rows::uuid(row, "id")?,
        team_id: TeamId(rows::uuid(row, "team_id")?),
        email_id: EmailId(rows::uuid(row, "email_id")?),
        mail_from: rows::get(row, "mail_from")?,
        recipients: rows::json(row, "recipients")?,
        raw: Vec::new(),
        created_at: rows::time(row, "created_at")?,
    })
}

#[async_trait]
impl CaptureStore for Db {
    async fn insert_captured(&self, m: &CapturedMessage) -> Result<()> {
        let _turn = self.write_turn().await;
        let sql =
            format!("INSERT INTO captured_messages ({COLUMNS}, size, raw) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        sqlx::query(AssertSqlSafe(sql))
            .bind(m.id.to_string())
            .bind(m.team_id.to_string())
            .bind(m.email_id.to_string())
            .bind(&m.mail_from)
            .bind(rows::to_json(&m.recipients))
            .bind(to_micros(m.created_at))
            .bind(m.raw.len() as i64)
            .bind(m.raw.as_slice())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_captured(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<CapturedMessage>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM captured_messages"), team_id, page, message_from)
            .await
    }

    async fn get_captured(&self, team_id: TeamId, id: uuid::Uuid) -> Result<Option<CapturedMessage>> {
        let sql = format!("SELECT {COLUMNS}, raw FROM captured_messages WHERE id = $1 AND team_id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|row| Ok(CapturedMessage { raw: rows::get(&row, "raw")?, ..message_from(&row)? })).transpose()
    }

    async fn delete_captured(&self, team_id: TeamId, id: uuid::Uuid) -> Result<bool> {
        let _turn = self.write_turn().await;
        let deleted = sqlx::query("DELETE FROM captured_messages WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn clear_captured(&self, team_id: TeamId) -> Result<u64> {
        let _turn = self.write_turn().await;
        let deleted = sqlx::query("DELETE FROM captured_messages WHERE team_id = $1")
            .bind(team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(deleted.rows_affected())
    }
}
