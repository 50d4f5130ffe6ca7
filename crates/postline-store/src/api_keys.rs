//! API keys, looked up by the hash of their token.

use async_trait::async_trait;
use postline_core::{
    Result,
    api_keys::{ApiKey, NewApiKey, Permission},
    clock::{Timestamp, to_micros},
    ids::{ApiKeyId, DomainId, TeamId},
    pagination::{Page, PageRequest},
    store::ApiKeyStore,
};
use sqlx::any::AnyRow;

use sqlx::AssertSqlSafe;

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, name, permission, domain_id, created_at, last_used_at";

fn key_from(row: &AnyRow) -> Result<ApiKey> {
    let permission: String = rows::get(row, "permission")?;
    Ok(ApiKey {
        id: ApiKeyId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        name: rows::get(row, "name")?,
        permission: Permission::parse(&permission)
            .map_err(|_| postline_core::Error::Internal(format!("unknown permission {permission}")))?,
        domain_id: rows::opt_uuid(row, "domain_id")?.map(DomainId),
        created_at: rows::time(row, "created_at")?,
        last_used_at: rows::opt_time(row, "last_used_at")?,
    })
}

#[async_trait]
impl ApiKeyStore for Db {
    async fn insert_api_key(&self, new: NewApiKey) -> Result<()> {
        let key = new.key;
        sqlx::query(
            "INSERT INTO api_keys (id, team_id, name, token_hash, permission, domain_id, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(key.id.to_string())
        .bind(key.team_id.to_string())
        .bind(&key.name)
        .bind(&new.token_hash)
        .bind(key.permission.as_str())
        .bind(key.domain_id.map(|d| d.to_string()))
        .bind(to_micros(key.created_at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn find_api_key_by_hash(&self, token_hash: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM api_keys WHERE token_hash = $1")))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(key_from).transpose()
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(to_micros(at))
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_api_keys(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<ApiKey>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM api_keys"), team_id, page, key_from).await
    }

    async fn get_api_key(&self, team_id: TeamId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1 AND team_id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(key_from).transpose()
    }

    async fn update_api_key(&self, key: &ApiKey) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET name = $1, permission = $2, domain_id = $3 WHERE id = $4 AND team_id = $5",
        )
        .bind(&key.name)
        .bind(key.permission.as_str())
        .bind(key.domain_id.map(|d| d.to_string()))
        .bind(key.id.to_string())
        .bind(key.team_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn rename_api_key(&self, team_id: TeamId, id: ApiKeyId, name: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE api_keys SET name = $1 WHERE id = $2 AND team_id = $3")
            .bind(name)
            .bind(id.to_string())
            .bind(team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_api_key(&self, team_id: TeamId, id: ApiKeyId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_keys WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }
}
