//! `suppressions`: one entry per (team, lower-cased address), written by the MTA for
//! hard bounces and complaints and through the API by hand.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::to_micros,
    delivery::suppression::{Reason, Suppression, SuppressionRef},
    ids::{EmailId, SuppressionId, TeamId},
    pagination::{Page, PageRequest},
    store::SuppressionStore,
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows};

pub(crate) const COLUMNS: &str = "id, team_id, email, reason, source_email_id, created_at";

pub(crate) fn suppression_from(row: &AnyRow) -> Result<Suppression> {
    let reason: String = rows::get(row, "reason")?;
    Ok(Suppression {
        id: SuppressionId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        email: rows::get(row, "email")?,
        reason: Reason::parse(&reason),
        source_email_id: rows::opt_uuid(row, "source_email_id")?.map(EmailId),
        created_at: rows::time(row, "created_at")?,
    })
}

fn condition(by: &SuppressionRef) -> (&'static str, String) {
    match by {
        SuppressionRef::Id(id) => ("id", id.to_string()),
        SuppressionRef::Email(email) => ("email", email.clone()),
    }
}

async fn find(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    team_id: TeamId,
    by: &SuppressionRef,
) -> Result<Option<Suppression>> {
    let (column, value) = condition(by);
    let sql = format!("SELECT {COLUMNS} FROM suppressions WHERE team_id = $1 AND {column} = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(team_id.to_string())
        .bind(value)
        .fetch_optional(executor)
        .await
        .map_err(db)?;
    row.as_ref().map(suppression_from).transpose()
}

/// Puts an address on the list unless it is there already (the first entry stays).
pub(crate) async fn insert(tx: &mut sqlx::Transaction<'_, sqlx::Any>, entry: &Suppression) -> Result<()> {
    sqlx::query(
        "INSERT INTO suppressions (id, team_id, email, reason, source_email_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (team_id, email) DO NOTHING",
    )
    .bind(entry.id.to_string())
    .bind(entry.team_id.to_string())
    .bind(&entry.email)
    .bind(entry.reason.as_str())
    .bind(entry.source_email_id.map(|id| id.to_string()))
    .bind(to_micros(entry.created_at))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl SuppressionStore for Db {
    async fn add_suppressions(&self, entries: &[Suppression]) -> Result<Vec<Suppression>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries {
            insert(&mut tx, entry).await?;
            let stored = find(&mut *tx, entry.team_id, &SuppressionRef::Email(entry.email.clone())).await?;
            kept.push(stored.unwrap_or_else(|| entry.clone()));
        }
        tx.commit().await.map_err(db)?;
        Ok(kept)
    }

    async fn find_suppression(&self, team_id: TeamId, by: &SuppressionRef) -> Result<Option<Suppression>> {
        find(&self.pool, team_id, by).await
    }

    async fn list_suppressions(
        &self,
        team_id: TeamId,
        reason: Option<Reason>,
        page: &PageRequest,
    ) -> Result<Page<Suppression>> {
        // The reason is one of three fixed names, so it can be part of the SQL text.
        let from = match reason {
            None => "suppressions".to_string(),
            Some(reason) => format!("(SELECT * FROM suppressions WHERE reason = '{}') AS chosen", reason.as_str()),
        };
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM {from}"), team_id, page, suppression_from).await
    }

    async fn remove_suppressions(&self, team_id: TeamId, refs: &[SuppressionRef]) -> Result<Vec<Suppression>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut removed = Vec::new();
        for by in refs {
            let Some(entry) = find(&mut *tx, team_id, by).await? else { continue };
            sqlx::query("DELETE FROM suppressions WHERE id = $1 AND team_id = $2")
                .bind(entry.id.to_string())
                .bind(team_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if !removed.iter().any(|r: &Suppression| r.id == entry.id) {
                removed.push(entry);
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(removed)
    }
}
