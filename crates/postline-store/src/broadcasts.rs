//! `broadcasts`: the content, the lifecycle, and the fan-out's cursor and lease.
//! A fan-out batch's emails are written with the writer's own `insert_email` in the
//! same transaction as the cursor's move.

use async_trait::async_trait;
use postline_core::{
    Error, Result,
    audience::Subscription,
    broadcasts::{
        Broadcast, BroadcastStatus, Candidate,
        stats::{BroadcastStats, ClickedLink, RecipientQuery, RecipientRow},
    },
    clock::{Timestamp, to_micros},
    emails::EventKind,
    ids::{BroadcastId, ContactId, EmailId, SegmentId, TeamId, TopicId},
    pagination::{Page, PageRequest},
    store::{BroadcastStore, FanoutBatch},
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{
    Backend, Db,
    audience::{CONTACT_COLUMNS, contact_from},
    error::db,
    rows::{self, to_json},
    webhooks::Subscribers,
    writer,
};

const COLUMNS: &str = "id, team_id, name, segment_id, from_addr, subject, reply_to, preview_text, html, text_body, \
                       source, topic_id, status, send_at, scheduled_at, sent_at, created_at, fanout_after, fanned_out";

fn broadcast_from(row: &AnyRow) -> Result<Broadcast> {
    let status: String = rows::get(row, "status")?;
    let source: Option<String> = rows::get(row, "source")?;
    Ok(Broadcast {
        id: BroadcastId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        name: rows::get(row, "name")?,
        segment_id: rows::opt_uuid(row, "segment_id")?.map(SegmentId),
        from: rows::get(row, "from_addr")?,
        subject: rows::get(row, "subject")?,
        reply_to: rows::json(row, "reply_to")?,
        preview_text: rows::get(row, "preview_text")?,
        html: rows::get(row, "html")?,
        text: rows::get(row, "text_body")?,
        source: source.as_deref().map(serde_json::from_str).transpose().map_err(|e| Error::Internal(e.to_string()))?,
        topic_id: rows::opt_uuid(row, "topic_id")?.map(TopicId),
        status: BroadcastStatus::parse(&status).ok_or_else(|| Error::Internal(format!("unknown status {status}")))?,
        send_at: rows::opt_time(row, "send_at")?,
        scheduled_at: rows::opt_time(row, "scheduled_at")?,
        sent_at: rows::opt_time(row, "sent_at")?,
        created_at: rows::time(row, "created_at")?,
        fanout_after: rows::opt_uuid(row, "fanout_after")?.map(ContactId),
        fanned_out: u64::try_from(rows::get::<i64>(row, "fanned_out")?).unwrap_or_default(),
    })
}

#[async_trait]
impl BroadcastStore for Db {
    async fn insert_broadcast(&self, b: &Broadcast) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO broadcasts ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        )))
        .bind(b.id.to_string())
        .bind(b.team_id.to_string())
        .bind(b.name.as_deref())
        .bind(b.segment_id.map(|s| s.to_string()))
        .bind(&b.from)
        .bind(&b.subject)
        .bind(to_json(&b.reply_to))
        .bind(b.preview_text.as_deref())
        .bind(b.html.as_deref())
        .bind(b.text.as_deref())
        .bind(b.source.as_ref().map(|s| s.to_string()))
        .bind(b.topic_id.map(|t| t.to_string()))
        .bind(b.status.as_str())
        .bind(b.send_at.map(to_micros))
        .bind(b.scheduled_at.map(to_micros))
        .bind(b.sent_at.map(to_micros))
        .bind(to_micros(b.created_at))
        .bind(b.fanout_after.map(|c| c.to_string()))
        .bind(i64::try_from(b.fanned_out).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn get_broadcast(&self, team_id: TeamId, id: BroadcastId) -> Result<Option<Broadcast>> {
        self.get_owned(COLUMNS, "broadcasts", team_id, &id.to_string(), broadcast_from).await
    }

    async fn list_broadcasts(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Broadcast>> {
        rows::team_page(&self.pool, &format!("SELECT {COLUMNS} FROM broadcasts"), team_id, page, broadcast_from).await
    }

    async fn save_broadcast_draft(&self, b: &Broadcast) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE broadcasts SET name = $1, segment_id = $2, from_addr = $3, subject = $4, reply_to = $5, \
             preview_text = $6, html = $7, text_body = $8, source = $9, topic_id = $10, status = $11, send_at = $12, \
             scheduled_at = $13 WHERE id = $14 AND team_id = $15 AND status = 'draft' AND lease_token IS NULL",
        )
        .bind(b.name.as_deref())
        .bind(b.segment_id.map(|s| s.to_string()))
        .bind(&b.from)
        .bind(&b.subject)
        .bind(to_json(&b.reply_to))
        .bind(b.preview_text.as_deref())
        .bind(b.html.as_deref())
        .bind(b.text.as_deref())
        .bind(b.source.as_ref().map(|s| s.to_string()))
        .bind(b.topic_id.map(|t| t.to_string()))
        .bind(b.status.as_str())
        .bind(b.send_at.map(to_micros))
        .bind(b.scheduled_at.map(to_micros))
        .bind(b.id.to_string())
        .bind(b.team_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_broadcast_draft(&self, team_id: TeamId, id: BroadcastId) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "DELETE FROM broadcasts WHERE id = $1 AND team_id = $2 AND status = 'draft' AND lease_token IS NULL",
        )
        .bind(id.to_string())
        .bind(team_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn cancel_broadcast(&self, team_id: TeamId, id: BroadcastId, now: Timestamp) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query(
            "UPDATE broadcasts SET status = 'canceled', lease_token = NULL, lease_until = NULL \
             WHERE id = $1 AND team_id = $2 AND (status = 'queued' OR (status = 'draft' AND send_at IS NOT NULL))",
        )
        .bind(id.to_string())
        .bind(team_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // Copies no worker holds never go out; those in an SMTP transaction finish.
        let (id, now) = (id.to_string(), to_micros(now));
        sqlx::query(
            "UPDATE deliveries SET status = 'canceled', updated_at = $1 WHERE status = 'queued' \
             AND (lease_until IS NULL OR lease_until < $1) \
             AND email_id IN (SELECT id FROM emails WHERE broadcast_id = $2 AND last_event = 'queued')",
        )
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO email_events (email_id, team_id, kind, recipient, created_at, data) \
             SELECT e.id, e.team_id, 'canceled', NULL, $1, '{}' FROM emails e WHERE e.broadcast_id = $2 \
             AND e.last_event = 'queued' AND NOT EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.email_id = e.id AND d.status <> 'canceled')",
        )
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "UPDATE emails SET last_event = 'canceled' WHERE broadcast_id = $1 AND last_event = 'queued' \
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.email_id = emails.id AND d.status <> 'canceled')",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn claim_broadcast(&self, now: Timestamp, lease_until: Timestamp) -> Result<Option<(Broadcast, String)>> {
        let _turn = self.write_turn().await;
        let lock = if self.backend == Backend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let token = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "UPDATE broadcasts SET status = 'queued', lease_until = $1, lease_token = $2 WHERE id IN ( \
               SELECT id FROM broadcasts WHERE status IN ('draft', 'queued') AND send_at <= $3 \
               AND (lease_until IS NULL OR lease_until < $3) ORDER BY send_at LIMIT 1 {lock}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(to_micros(lease_until))
            .bind(&token)
            .bind(to_micros(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        Ok(row.as_ref().map(broadcast_from).transpose()?.map(|b| (b, token)))
    }

    async fn broadcast_candidates(
        &self,
        team_id: TeamId,
        segment: SegmentId,
        topic: Option<TopicId>,
        after: Option<ContactId>,
        limit: u32,
    ) -> Result<Vec<Candidate>> {
        let columns: String = CONTACT_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns}, ts.subscription AS topic_choice FROM segment_members m \
             JOIN contacts c ON c.id = m.contact_id \
             LEFT JOIN topic_subscriptions ts ON ts.contact_id = c.id AND ts.topic_id = $3 \
             WHERE m.segment_id = $1 AND m.team_id = $2 AND m.contact_id > $4 \
             ORDER BY m.contact_id LIMIT {limit}"
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(segment.to_string())
            .bind(team_id.to_string())
            .bind(topic.map(|t| t.to_string()).unwrap_or_default())
            .bind(after.map(|a| a.to_string()).unwrap_or_default())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        found
            .iter()
            .map(|row| {
                let choice: Option<String> = rows::get(row, "topic_choice")?;
                Ok(Candidate {
                    contact: contact_from(row)?,
                    topic_choice: choice.as_deref().and_then(Subscription::parse),
                })
            })
            .collect()
    }

    async fn broadcast_backlog(&self, id: BroadcastId) -> Result<u64> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM emails WHERE broadcast_id = $1 AND last_event = 'queued'")
                .bind(id.to_string())
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn write_fanout_batch(&self, batch: FanoutBatch<'_>) -> Result<bool> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let held = sqlx::query(
            "UPDATE broadcasts SET fanout_after = $1, fanned_out = fanned_out + $2, lease_until = $3, \
             status = CASE WHEN $4 = 1 THEN 'sent' ELSE status END, \
             sent_at = CASE WHEN $4 = 1 THEN $5 ELSE sent_at END, \
             lease_token = CASE WHEN $4 = 1 THEN NULL ELSE lease_token END \
             WHERE id = $6 AND lease_token = $7 AND status = 'queued'",
        )
        .bind(batch.after.map(|a| a.to_string()))
        .bind(i64::try_from(batch.emails.len()).unwrap_or(i64::MAX))
        .bind(to_micros(batch.lease_until))
        .bind(i32::from(batch.finished))
        .bind(to_micros(batch.at))
        .bind(batch.broadcast_id.to_string())
        .bind(batch.lease_token)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if held.rows_affected() == 0 {
            return Ok(false);
        }
        let mut subscribers = Subscribers::default();
        let emails: Vec<&_> = batch.emails.iter().collect();
        writer::insert_emails(&mut tx, &mut subscribers, &emails).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn extend_broadcast_lease(&self, id: BroadcastId, lease_token: &str, until: Timestamp) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE broadcasts SET lease_until = $1 WHERE id = $2 AND lease_token = $3")
            .bind(to_micros(until))
            .bind(id.to_string())
            .bind(lease_token)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn broadcast_stats(&self, team_id: TeamId, id: BroadcastId) -> Result<BroadcastStats> {
        let emails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM emails WHERE broadcast_id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let sql = format!(
            "SELECT ev.kind, COUNT(DISTINCT ev.email_id) AS n FROM email_events ev JOIN emails e ON e.id = ev.email_id \
             WHERE e.broadcast_id = $1 AND e.team_id = $2 AND {} GROUP BY ev.kind",
            people_only(self.backend)
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let mut stats = BroadcastStats { emails: u64::try_from(emails).unwrap_or_default(), ..Default::default() };
        for row in &found {
            let n: i64 = rows::get(row, "n")?;
            stats.by_event.insert(rows::get(row, "kind")?, u64::try_from(n).unwrap_or_default());
        }
        Ok(stats)
    }

    async fn broadcast_recipients(
        &self,
        team_id: TeamId,
        id: BroadcastId,
        query: &RecipientQuery,
        page: &PageRequest,
    ) -> Result<Page<RecipientRow>> {
        let bounce_type = json_text(self.backend, "ev.data", &["bounce", "type"]);
        let mut binds = vec![id.to_string(), team_id.to_string(), query.event.as_str().to_string()];
        let mut conditions = String::new();
        if let Some(email) = &query.email {
            binds.push(email.clone());
            conditions.push_str(&format!(" AND lower(ev.recipient) = ${}", binds.len()));
        }
        if let Some(kind) = query.bounce_type {
            binds.push(kind.to_string());
            conditions.push_str(&format!(" AND {bounce_type} = ${}", binds.len()));
        }
        let (cursor_condition, order, cursor, reverse) = rows::cursor_sql(page, binds.len() + 1, false);
        if let Some(cursor) = cursor {
            binds.push(cursor);
        }
        let sql = format!(
            "SELECT e.id, e.contact_id, e.to_addrs, MIN(ev.recipient) AS recipient, COUNT(*) AS n, \
             MAX({bounce_type}) AS bounce_type FROM emails e JOIN email_events ev ON ev.email_id = e.id \
             WHERE e.broadcast_id = $1 AND e.team_id = $2 AND ev.kind = $3 AND {people}{conditions} \
             {} GROUP BY e.id, e.contact_id, e.to_addrs {} LIMIT {}",
            cursor_condition.replace("AND id", "AND e.id"),
            order.replace("id", "e.id"),
            page.limit + 1,
            people = people_only(self.backend),
        );
        let mut select = sqlx::query(AssertSqlSafe(sql));
        for bind in &binds {
            select = select.bind(bind.clone());
        }
        let found = select.fetch_all(&self.pool).await.map_err(db)?;
        let mut items = Vec::with_capacity(found.len());
        for row in &found {
            let to: Vec<String> = rows::json(row, "to_addrs")?;
            let recipient: Option<String> = rows::get(row, "recipient")?;
            let bounce: Option<String> = rows::get(row, "bounce_type")?;
            items.push(RecipientRow {
                email_id: EmailId(rows::uuid(row, "id")?),
                contact_id: rows::opt_uuid(row, "contact_id")?.map(ContactId),
                email: recipient.or_else(|| to.into_iter().next()).unwrap_or_default(),
                count: u64::try_from(rows::get::<i64>(row, "n")?).unwrap_or_default(),
                bounce_type: bounce.map(|b| b.to_lowercase()),
                clicked_links: Vec::new(),
            });
        }
        let mut page = rows::page_of(items, page.limit, reverse);
        if query.event == EventKind::Clicked {
            for row in &mut page.items {
                row.clicked_links = self.clicked_links_of(row.email_id).await?;
            }
        }
        Ok(page)
    }

    async fn broadcast_clicked_links(
        &self,
        team_id: TeamId,
        id: BroadcastId,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<ClickedLink>> {
        let link = json_text(self.backend, "ev.data", &["click", "link"]);
        let sql = format!(
            "SELECT {link} AS url, COUNT(*) AS clicks, COUNT(DISTINCT ev.email_id) AS unique_clicks \
             FROM email_events ev JOIN emails e ON e.id = ev.email_id \
             WHERE e.broadcast_id = $1 AND e.team_id = $2 AND ev.kind = 'clicked' AND {} \
             GROUP BY {link} ORDER BY COUNT(*) DESC, {link} LIMIT {limit} OFFSET {offset}",
            people_only(self.backend)
        );
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        found
            .iter()
            .map(|row| {
                Ok(ClickedLink {
                    url: rows::get::<Option<String>>(row, "url")?.unwrap_or_default(),
                    clicks: u64::try_from(rows::get::<i64>(row, "clicks")?).unwrap_or_default(),
                    unique_clicks: u64::try_from(rows::get::<i64>(row, "unique_clicks")?).unwrap_or_default(),
                })
            })
            .collect()
    }
}

impl Db {
    /// One email's clicked URLs with their clicks (people only).
    async fn clicked_links_of(&self, email: EmailId) -> Result<Vec<(String, u64)>> {
        let link = json_text(self.backend, "ev.data", &["click", "link"]);
        let sql = format!(
            "SELECT {link} AS url, COUNT(*) AS clicks FROM email_events ev \
             WHERE ev.email_id = $1 AND ev.kind = 'clicked' AND {} GROUP BY {link} ORDER BY {link}",
            people_only(self.backend)
        );
        let found = sqlx::query(AssertSqlSafe(sql)).bind(email.to_string()).fetch_all(&self.pool).await.map_err(db)?;
        found
            .iter()
            .map(|row| {
                let url: Option<String> = rows::get(row, "url")?;
                Ok((url.unwrap_or_default(), u64::try_from(rows::get::<i64>(row, "clicks")?).unwrap_or_default()))
            })
            .collect()
    }
}

/// A text value inside a JSON column, by path (`column` and `path` are fixed text).
pub(crate) fn json_text(backend: Backend, column: &str, path: &[&str]) -> String {
    match backend {
        Backend::Sqlite => format!("json_extract({column}, '$.{}')", path.join(".")),
        Backend::Postgres => format!("(({column})::json #>> '{{{}}}')", path.join(",")),
    }
}

/// The condition that leaves out machine opens and security-scanner clicks (the
/// tracking endpoints flag them in the event's data).
pub(crate) fn people_only(backend: Backend) -> String {
    let flag = |path: &[&str]| match backend {
        Backend::Sqlite => format!("IFNULL({}, 0) = 1", json_text(backend, "ev.data", path)),
        Backend::Postgres => format!("COALESCE({}, 'false') = 'true'", json_text(backend, "ev.data", path)),
    };
    format!("NOT ({} OR {})", flag(&["open", "machine"]), flag(&["click", "scanner"]))
}
