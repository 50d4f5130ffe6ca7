//! `contacts`: one row per address per team (`email_key` is the lower-cased address,
//! unique per team); properties are a JSON object. Inserting also writes the first
//! segment memberships and topic choices, and every write its `contact.*` event.

use async_trait::async_trait;
use postline_core::{
    Result,
    audience::{Contact, Subscription},
    clock::to_micros,
    delivery::suppression::normalize,
    ids::{ContactId, SegmentId, TeamId, TopicId},
    pagination::{Page, PageRequest},
    store::{ContactRef, ContactStore, ContactWrite},
    webhooks::OutboxEvent,
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows};

pub(crate) const COLUMNS: &str =
    "id, team_id, email, first_name, last_name, unsubscribed, properties, created_at, updated_at";

pub(crate) fn contact_from(row: &AnyRow) -> Result<Contact> {
    Ok(Contact {
        id: ContactId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        email: rows::get(row, "email")?,
        first_name: rows::get(row, "first_name")?,
        last_name: rows::get(row, "last_name")?,
        unsubscribed: rows::flag(row, "unsubscribed")?,
        properties: rows::json(row, "properties")?,
        created_at: rows::time(row, "created_at")?,
        updated_at: rows::time(row, "updated_at")?,
    })
}

/// The contact of the team that has this address (other than `except`), if any.
async fn holder_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: TeamId,
    email: &str,
    except: Option<ContactId>,
) -> Result<Option<ContactId>> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM contacts WHERE team_id = $1 AND email_key = $2 AND id <> $3")
            .bind(team_id.to_string())
            .bind(normalize(email))
            .bind(except.map(|id| id.to_string()).unwrap_or_default())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?;
    found.map(|raw| ContactId::parse(&raw)).transpose()
}

/// Inserts a contact unless the team already has a contact with its address; whether
/// it did.
pub(crate) async fn insert_row(tx: &mut sqlx::Transaction<'_, sqlx::Any>, c: &Contact) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO contacts (id, team_id, email, email_key, first_name, last_name, unsubscribed, properties, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (team_id, email_key) DO NOTHING",
    )
    .bind(c.id.to_string())
    .bind(c.team_id.to_string())
    .bind(&c.email)
    .bind(normalize(&c.email))
    .bind(c.first_name.as_deref())
    .bind(c.last_name.as_deref())
    .bind(i32::from(c.unsubscribed))
    .bind(rows::to_json(&c.properties))
    .bind(to_micros(c.created_at))
    .bind(to_micros(c.updated_at))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(inserted.rows_affected() == 1)
}

/// Adds a contact to segments of its team (another team's segment is skipped, an
/// existing membership kept).
pub(crate) async fn join_segments(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: TeamId,
    contact: ContactId,
    segments: &[SegmentId],
    at: i64,
) -> Result<()> {
    for segment in segments {
        sqlx::query(
            "INSERT INTO segment_members (segment_id, contact_id, team_id, created_at) \
             SELECT id, $2, $3, $4 FROM segments WHERE id = $1 AND team_id = $3 \
             ON CONFLICT (segment_id, contact_id) DO NOTHING",
        )
        .bind(segment.to_string())
        .bind(contact.to_string())
        .bind(team_id.to_string())
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

pub(crate) async fn write_subscriptions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: TeamId,
    contact: ContactId,
    choices: &[(TopicId, Subscription)],
    at: i64,
) -> Result<()> {
    for (topic, subscription) in choices {
        sqlx::query(
            "INSERT INTO topic_subscriptions (topic_id, contact_id, team_id, subscription, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (topic_id, contact_id) DO UPDATE SET subscription = $4, updated_at = $5",
        )
        .bind(topic.to_string())
        .bind(contact.to_string())
        .bind(team_id.to_string())
        .bind(subscription.as_str())
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl ContactStore for Db {
    async fn insert_contact(
        &self,
        c: &Contact,
        segments: &[SegmentId],
        topics: &[(TopicId, Subscription)],
        event: &OutboxEvent,
    ) -> Result<ContactWrite> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        if let Some(existing) = holder_of(&mut tx, c.team_id, &c.email, None).await? {
            return Ok(ContactWrite::EmailTaken(existing));
        }
        if !insert_row(&mut tx, c).await? {
            // Another node inserted the address between the check and the insert.
            drop(tx);
            let mut tx = self.pool.begin().await.map_err(db)?;
            let existing = holder_of(&mut tx, c.team_id, &c.email, None).await?;
            return Ok(existing.map_or(ContactWrite::NotFound, ContactWrite::EmailTaken));
        }
        join_segments(&mut tx, c.team_id, c.id, segments, to_micros(c.created_at)).await?;
        write_subscriptions(&mut tx, c.team_id, c.id, topics, to_micros(c.created_at)).await?;
        crate::webhooks::enqueue_event(&mut tx, c.team_id, event).await?;
        tx.commit().await.map_err(db)?;
        Ok(ContactWrite::Done)
    }

    async fn find_contact(&self, team_id: TeamId, by: &ContactRef) -> Result<Option<Contact>> {
        let (column, value) = match by {
            ContactRef::Id(id) => ("id", id.to_string()),
            ContactRef::Email(email) => ("email_key", normalize(email)),
        };
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE team_id = $1 AND {column} = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(team_id.to_string())
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(contact_from).transpose()
    }

    async fn list_contacts(
        &self,
        team_id: TeamId,
        segment: Option<SegmentId>,
        page: &PageRequest,
    ) -> Result<Page<Contact>> {
        // A segment id is a parsed UUID, so it can be part of the SQL text.
        let from = match segment {
            None => "contacts".to_string(),
            Some(id) => format!(
                "(SELECT * FROM contacts WHERE id IN (SELECT contact_id FROM segment_members WHERE segment_id = '{id}')) \
                 AS members"
            ),
        };
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM {from}"), team_id, page, contact_from).await
    }

    async fn search_contacts(
        &self,
        team_id: TeamId,
        search: &postline_core::audience::search::ContactSearch,
        page: &PageRequest,
    ) -> Result<Page<Contact>> {
        let mut conditions = vec!["team_id = $1".to_string()];
        let mut binds = vec![team_id.to_string()];
        if let Some(text) = &search.text {
            binds.push(format!("%{}%", postline_core::emails::search::like_escape(text)));
            let p = binds.len();
            conditions.push(format!(
                "(email_key LIKE ${p} ESCAPE '\\' OR LOWER(COALESCE(first_name, '')) LIKE ${p} ESCAPE '\\' \
                 OR LOWER(COALESCE(last_name, '')) LIKE ${p} ESCAPE '\\')"
            ));
        }
        if let Some(unsubscribed) = search.unsubscribed {
            // Stored as 0/1 on both backends.
            conditions.push(format!("unsubscribed = {}", i32::from(unsubscribed)));
        }
        if let Some(segment) = search.segment {
            binds.push(segment.to_string());
            conditions
                .push(format!("id IN (SELECT contact_id FROM segment_members WHERE segment_id = ${})", binds.len()));
        }
        let (cursor_condition, order, cursor, reverse) = rows::cursor_sql(page, binds.len() + 1, true);
        binds.extend(cursor);
        let sql = format!(
            "SELECT {COLUMNS} FROM contacts WHERE {} {cursor_condition} {order} LIMIT {}",
            conditions.join(" AND "),
            page.limit + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind(bind);
        }
        let found = query.fetch_all(&self.pool).await.map_err(db)?;
        let items = found.iter().map(contact_from).collect::<Result<Vec<_>>>()?;
        Ok(rows::page_of(items, page.limit, reverse))
    }

    async fn save_contact(
        &self,
        c: &Contact,
        choices: &[(TopicId, Subscription)],
        event: &OutboxEvent,
    ) -> Result<ContactWrite> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        if let Some(other) = holder_of(&mut tx, c.team_id, &c.email, Some(c.id)).await? {
            return Ok(ContactWrite::EmailTaken(other));
        }
        let updated = sqlx::query(
            "UPDATE contacts SET email = $1, email_key = $2, first_name = $3, last_name = $4, unsubscribed = $5, \
             properties = $6, updated_at = $7 WHERE id = $8 AND team_id = $9",
        )
        .bind(&c.email)
        .bind(normalize(&c.email))
        .bind(c.first_name.as_deref())
        .bind(c.last_name.as_deref())
        .bind(i32::from(c.unsubscribed))
        .bind(rows::to_json(&c.properties))
        .bind(to_micros(c.updated_at))
        .bind(c.id.to_string())
        .bind(c.team_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if updated.rows_affected() == 0 {
            return Ok(ContactWrite::NotFound);
        }
        write_subscriptions(&mut tx, c.team_id, c.id, choices, to_micros(c.updated_at)).await?;
        crate::webhooks::enqueue_event(&mut tx, c.team_id, event).await?;
        tx.commit().await.map_err(db)?;
        Ok(ContactWrite::Done)
    }

    async fn delete_contact(&self, team_id: TeamId, id: ContactId, event: &OutboxEvent) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        // Memberships and choices go with the contact (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM contacts WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if deleted.rows_affected() == 0 {
            return Ok(false);
        }
        crate::webhooks::enqueue_event(&mut tx, team_id, event).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn contact_segment_ids(&self, team_id: TeamId, contact: ContactId) -> Result<Vec<SegmentId>> {
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT segment_id FROM segment_members WHERE contact_id = $1 AND team_id = $2 \
             ORDER BY created_at, segment_id",
        )
        .bind(contact.to_string())
        .bind(team_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found.iter().map(|raw| SegmentId::parse(raw)).collect()
    }
}
