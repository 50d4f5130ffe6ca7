//! Installation-wide settings, such as the secret that signs links.

use async_trait::async_trait;
use postline_core::{Result, store::SettingsStore};
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
}
