//! Opens and clicks: each is one timeline event (with its `email.opened` /
//! `email.clicked` webhook messages, through [`writer::insert_event`]) and, for a
//! person's, a forward move of the email's `last_event`, in one transaction.

use async_trait::async_trait;
use postline_core::{
    Result,
    emails::{EmailEvent, EventKind},
    ids::TeamId,
    store::TrackingStore,
    tracking::advances,
};

use crate::{Db, error::db, webhooks::Subscribers, writer};

#[async_trait]
impl TrackingStore for Db {
    async fn record_engagement(&self, team_id: TeamId, event: &EmailEvent, advance: bool) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM emails WHERE id = $1 AND team_id = $2")
            .bind(event.email_id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        if found.is_none() {
            return Ok(false);
        }
        writer::insert_event(&mut tx, &mut Subscribers::default(), team_id, event).await?;
        if advance {
            let replaced: Vec<EventKind> =
                EventKind::ALL.into_iter().filter(|current| advances(*current, event.kind)).collect();
            writer::advance_last_event(&mut tx, event.email_id, event.kind, &replaced).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(true)
    }
}
