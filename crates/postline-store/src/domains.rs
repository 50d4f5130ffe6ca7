//! Domains (the domains issue grows this into records, keys and verification).

use async_trait::async_trait;
use postline_core::{
    Result,
    ids::{DomainId, TeamId},
};

use crate::{Db, error::db};

#[async_trait]
impl postline_core::store::DomainStore for Db {
    async fn domain_name(&self, team_id: TeamId, id: DomainId) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT name FROM domains WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }
}
