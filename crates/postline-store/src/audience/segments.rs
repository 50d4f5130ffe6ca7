//! `segments` and `segment_members`: a segment's filter is JSON text; a membership
//! remembers when the contact was added.

use async_trait::async_trait;
use postline_core::{
    Result,
    audience::Segment,
    clock::{Timestamp, to_micros},
    ids::{ContactId, SegmentId, TeamId},
    pagination::{Page, PageRequest},
    store::SegmentStore,
};
use sqlx::any::AnyRow;

use crate::{Db, error::db, rows};

const COLUMNS: &str = "id, team_id, name, filter, created_at";

fn segment_from(row: &AnyRow) -> Result<Segment> {
    Ok(Segment {
        id: SegmentId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        name: rows::get(row, "name")?,
        filter: rows::json(row, "filter")?,
        created_at: rows::time(row, "created_at")?,
    })
}

#[async_trait]
impl SegmentStore for Db {
    async fn insert_segment(&self, s: &Segment) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO segments (id, team_id, name, filter, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(s.id.to_string())
            .bind(s.team_id.to_string())
            .bind(&s.name)
            .bind(rows::to_json(&s.filter))
            .bind(to_micros(s.created_at))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn get_segment(&self, team_id: TeamId, id: SegmentId) -> Result<Option<Segment>> {
        self.get_owned(COLUMNS, "segments", team_id, &id.to_string(), segment_from).await
    }

    async fn list_segments(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Segment>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM segments"), team_id, page, segment_from).await
    }

    async fn save_segment(&self, s: &Segment) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE segments SET name = $1, filter = $2 WHERE id = $3 AND team_id = $4")
            .bind(&s.name)
            .bind(rows::to_json(&s.filter))
            .bind(s.id.to_string())
            .bind(s.team_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_segment(&self, team_id: TeamId, id: SegmentId) -> Result<bool> {
        self.delete_owned("segments", team_id, &id.to_string()).await
    }

    async fn segment_sizes(&self, team_id: TeamId) -> Result<Vec<(SegmentId, u64)>> {
        let found = sqlx::query(
            "SELECT segment_id, COUNT(*) AS members FROM segment_members WHERE team_id = $1 GROUP BY segment_id",
        )
        .bind(team_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|row| {
                let members: i64 = rows::get(row, "members")?;
                Ok((SegmentId(rows::uuid(row, "segment_id")?), u64::try_from(members).unwrap_or_default()))
            })
            .collect()
    }

    async fn add_to_segment(
        &self,
        team_id: TeamId,
        segment: SegmentId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO segment_members (segment_id, contact_id, team_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (segment_id, contact_id) DO NOTHING",
        )
        .bind(segment.to_string())
        .bind(contact.to_string())
        .bind(team_id.to_string())
        .bind(to_micros(at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn remove_from_segment(&self, team_id: TeamId, segment: SegmentId, contact: ContactId) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done =
            sqlx::query("DELETE FROM segment_members WHERE segment_id = $1 AND contact_id = $2 AND team_id = $3")
                .bind(segment.to_string())
                .bind(contact.to_string())
                .bind(team_id.to_string())
                .execute(&self.pool)
                .await
                .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn contact_segments(
        &self,
        team_id: TeamId,
        contact: ContactId,
        page: &PageRequest,
    ) -> Result<Page<(Segment, Timestamp)>> {
        // The contact id is a parsed UUID, so it can be part of the SQL text.
        let select = format!(
            "SELECT s.id AS id, s.team_id AS team_id, s.name AS name, s.filter AS filter, s.created_at AS created_at, \
             m.created_at AS added_at FROM (SELECT * FROM segments WHERE id IN \
             (SELECT segment_id FROM segment_members WHERE contact_id = '{contact}')) AS s \
             JOIN segment_members m ON m.segment_id = s.id AND m.contact_id = '{contact}'"
        );
        let select = format!("SELECT * FROM ({select}) AS memberships");
        rows::team_page(&self.pool, &select, team_id, page, |row| {
            Ok((segment_from(row)?, rows::time(row, "added_at")?))
        })
        .await
    }
}
