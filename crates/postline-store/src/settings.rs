//! Installation-wide settings, such as the secret that signs links.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::{Timestamp, to_micros},
    ids::TeamId,
    store::SettingsStore,
};
use rand::RngCore;

use crate::{Db, error::db};

#[async_trait]
impl SettingsStore for Db {
    async fn secret(&self, name: &str) -> Result<Vec<u8>> {
        let mut fresh = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut fresh);
        // Whoever inserts first wins; everyone then reads the same value.
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(fresh.as_slice())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    async fn unsubscribe_page(&self, team_id: TeamId) -> Result<Option<serde_json::Value>> {
        let saved: Option<String> = sqlx::query_scalar("SELECT settings FROM unsubscribe_pages WHERE team_id = $1")
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        Ok(saved.and_then(|raw| serde_json::from_str(&raw).ok()))
    }

    async fn save_unsubscribe_page(&self, team_id: TeamId, page: &serde_json::Value, at: Timestamp) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO unsubscribe_pages (team_id, settings, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (team_id) DO UPDATE SET settings = $2, updated_at = $3",
        )
        .bind(team_id.to_string())
        .bind(page.to_string())
        .bind(to_micros(at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}
