//! Teams.

use async_trait::async_trait;
use postline_core::{Result, clock::to_micros, ids::TeamId, store::TeamStore, teams::Team};

use crate::{Db, error::db, rows};

#[async_trait]
impl TeamStore for Db {
    async fn insert_team(&self, team: &Team) -> Result<()> {
        sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(team.id.to_string())
            .bind(&team.name)
            .bind(to_micros(team.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn first_team(&self) -> Result<Option<Team>> {
        let row = sqlx::query("SELECT id, name, created_at FROM teams ORDER BY created_at, id LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|row| {
            Ok(Team {
                id: TeamId(rows::uuid(&row, "id")?),
                name: rows::get(&row, "name")?,
                created_at: rows::time(&row, "created_at")?,
            })
        })
        .transpose()
    }
}
