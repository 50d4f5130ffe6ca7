//! Reading and changing accepted emails. Acceptance itself is in [`crate::writer`].

use async_trait::async_trait;
use postline_core::{
    Result,
    broadcasts::FromBroadcast,
    clock::{Timestamp, to_micros},
    emails::{Attachment, Disposition, Email, EmailEvent, EventKind, NewEmail},
    idempotency::Completion,
    ids::{AttachmentId, BroadcastId, ContactId, EmailId, TeamId},
    pagination::{Page, PageRequest},
    store::{EmailStore, Transition},
};
use sqlx::any::AnyRow;

use sqlx::AssertSqlSafe;

use crate::{Db, error::db, rows, webhooks::Subscribers, writer};

pub(crate) const EMAIL_COLUMNS: &str = "id, team_id, from_addr, to_addrs, cc_addrs, bcc_addrs, reply_to, subject, html, text_body, \
                             headers, tags, topic_id, message_id, scheduled_at, created_at, last_event, \
                             broadcast_id, contact_id, personalisation";
const ATTACHMENT_COLUMNS: &str = "id, email_id, filename, content_type, content_id, disposition, size";

pub(crate) fn email_from(row: &AnyRow) -> Result<Email> {
    let last_event: String = rows::get(row, "last_event")?;
    Ok(Email {
        id: EmailId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        from: rows::get(row, "from_addr")?,
        to: rows::json(row, "to_addrs")?,
        cc: rows::json(row, "cc_addrs")?,
        bcc: rows::json(row, "bcc_addrs")?,
        reply_to: rows::json(row, "reply_to")?,
        subject: rows::get(row, "subject")?,
        html: rows::get(row, "html")?,
        text: rows::get(row, "text_body")?,
        headers: rows::json(row, "headers")?,
        tags: rows::json(row, "tags")?,
        topic_id: rows::get(row, "topic_id")?,
        message_id: rows::get(row, "message_id")?,
        scheduled_at: rows::opt_time(row, "scheduled_at")?,
        created_at: rows::time(row, "created_at")?,
        last_event: EventKind::parse(&last_event)
            .ok_or_else(|| postline_core::Error::Internal(format!("unknown event kind {last_event}")))?,
        broadcast: broadcast_link(row)?,
    })
}

/// A broadcast email's link to its broadcast and its personalisation values.
fn broadcast_link(row: &AnyRow) -> Result<Option<FromBroadcast>> {
    let Some(broadcast_id) = rows::opt_uuid(row, "broadcast_id")? else { return Ok(None) };
    let values: Option<String> = rows::get(row, "personalisation")?;
    Ok(Some(FromBroadcast {
        broadcast_id: BroadcastId(broadcast_id),
        contact_id: ContactId(rows::uuid(row, "contact_id")?),
        values: values
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| postline_core::Error::Internal(e.to_string()))?
            .unwrap_or_default(),
    }))
}

fn attachment_from(row: &AnyRow) -> Result<Attachment> {
    let disposition: String = rows::get(row, "disposition")?;
    Ok(Attachment {
        id: AttachmentId(rows::uuid(row, "id")?),
        email_id: EmailId(rows::uuid(row, "email_id")?),
        filename: rows::get(row, "filename")?,
        content_type: rows::get(row, "content_type")?,
        content_id: rows::get(row, "content_id")?,
        disposition: Disposition::parse(&disposition),
        size: u64::try_from(rows::get::<i64>(row, "size")?).unwrap_or_default(),
    })
}

pub(crate) fn event_from(row: &AnyRow) -> Result<EmailEvent> {
    let kind: String = rows::get(row, "kind")?;
    Ok(EmailEvent {
        email_id: EmailId(rows::uuid(row, "email_id")?),
        kind: EventKind::parse(&kind)
            .ok_or_else(|| postline_core::Error::Internal(format!("unknown event kind {kind}")))?,
        recipient: rows::get(row, "recipient")?,
        at: rows::time(row, "created_at")?,
        data: rows::json(row, "data")?,
    })
}

/// The current `last_event` of an email in a team, inside a transaction.
async fn current_state(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    team_id: TeamId,
    id: EmailId,
) -> Result<Option<EventKind>> {
    let state: Option<String> = sqlx::query_scalar("SELECT last_event FROM emails WHERE id = $1 AND team_id = $2")
        .bind(id.to_string())
        .bind(team_id.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?;
    Ok(state.as_deref().and_then(EventKind::parse))
}

#[async_trait]
impl EmailStore for Db {
    async fn accept(&self, emails: Vec<NewEmail>, completion: Option<Completion>) -> Result<()> {
        writer::submit(&self.writer, emails, completion).await
    }

    async fn get_email(&self, team_id: TeamId, id: EmailId) -> Result<Option<Email>> {
        let row =
            sqlx::query(AssertSqlSafe(format!("SELECT {EMAIL_COLUMNS} FROM emails WHERE id = $1 AND team_id = $2")))
                .bind(id.to_string())
                .bind(team_id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        row.as_ref().map(email_from).transpose()
    }

    async fn list_emails(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Email>> {
        rows::team_page(&self.pool, &format!("SELECT {EMAIL_COLUMNS} FROM emails"), team_id, page, email_from).await
    }

    async fn search_emails(
        &self,
        team_id: TeamId,
        search: &postline_core::emails::search::EmailSearch,
        page: &PageRequest,
    ) -> Result<Page<Email>> {
        crate::email_search::search(self, team_id, search, page).await
    }

    async fn reschedule_email(
        &self,
        team_id: TeamId,
        id: EmailId,
        at: Timestamp,
        event: EmailEvent,
    ) -> Result<Transition> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        match current_state(&mut tx, team_id, id).await? {
            None => return Ok(Transition::NotFound),
            Some(EventKind::Scheduled) => {}
            Some(other) => return Ok(Transition::WrongState(other)),
        }
        // Rows already leased by a worker are past the point of rescheduling.
        let moved = sqlx::query(
            "UPDATE deliveries SET due_at = $1, updated_at = $2 WHERE email_id = $3 AND status = 'queued' \
             AND (lease_until IS NULL OR lease_until < $2)",
        )
        .bind(to_micros(at))
        .bind(to_micros(event.at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if moved.rows_affected() == 0 {
            return Ok(Transition::WrongState(EventKind::Queued));
        }
        sqlx::query("UPDATE emails SET scheduled_at = $1, last_event = 'scheduled' WHERE id = $2")
            .bind(to_micros(at))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        writer::insert_event(&mut tx, &mut Subscribers::default(), team_id, &event).await?;
        tx.commit().await.map_err(db)?;
        Ok(Transition::Done)
    }

    async fn cancel_email(&self, team_id: TeamId, id: EmailId, event: EmailEvent) -> Result<Transition> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        match current_state(&mut tx, team_id, id).await? {
            None => return Ok(Transition::NotFound),
            Some(EventKind::Scheduled) => {}
            Some(other) => return Ok(Transition::WrongState(other)),
        }
        let leased: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE email_id = $1 AND status = 'queued' AND lease_until >= $2",
        )
        .bind(id.to_string())
        .bind(to_micros(event.at))
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        if leased > 0 {
            return Ok(Transition::WrongState(EventKind::Sent));
        }
        sqlx::query(
            "UPDATE deliveries SET status = 'canceled', updated_at = $1 WHERE email_id = $2 AND status = 'queued'",
        )
        .bind(to_micros(event.at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("UPDATE emails SET last_event = 'canceled' WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        writer::insert_event(&mut tx, &mut Subscribers::default(), team_id, &event).await?;
        tx.commit().await.map_err(db)?;
        Ok(Transition::Done)
    }

    async fn email_metric_rows(
        &self,
        scan: &postline_core::emails::stats::MetricsScan,
    ) -> Result<postline_core::emails::stats::MetricRows> {
        crate::email_metrics::metric_rows(self, scan).await
    }

    async fn email_events(&self, team_id: TeamId, id: EmailId) -> Result<Vec<EmailEvent>> {
        let found = sqlx::query(
            "SELECT email_id, kind, recipient, created_at, data FROM email_events \
             WHERE email_id = $1 AND team_id = $2 ORDER BY seq",
        )
        .bind(id.to_string())
        .bind(team_id.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found.iter().map(event_from).collect()
    }

    async fn list_attachments(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        page: &PageRequest,
    ) -> Result<Page<Attachment>> {
        let (condition, order, cursor, reverse) = rows::cursor_sql(page, 3, false);
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE email_id = $1 AND team_id = $2 {condition} {order} LIMIT {}",
            page.limit + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(email_id.to_string()).bind(team_id.to_string());
        if let Some(cursor) = cursor {
            query = query.bind(cursor);
        }
        let found = query.fetch_all(&self.pool).await.map_err(db)?;
        let attachments = found.iter().map(attachment_from).collect::<Result<Vec<_>>>()?;
        Ok(rows::page_of(attachments, page.limit, reverse))
    }

    async fn get_attachment(&self, team_id: TeamId, email_id: EmailId, id: AttachmentId) -> Result<Option<Attachment>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1 AND email_id = $2 AND team_id = $3"
        )))
        .bind(id.to_string())
        .bind(email_id.to_string())
        .bind(team_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(attachment_from).transpose()
    }

    async fn attachment_content(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Vec<u8>)>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS}, content FROM attachments WHERE id = $1 AND email_id = $2 AND team_id = $3"
        )))
        .bind(id.to_string())
        .bind(email_id.to_string())
        .bind(team_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|row| Ok((attachment_from(&row)?, rows::get::<Vec<u8>>(&row, "content")?))).transpose()
    }
}
