//! `received_emails` and `received_attachments`: inbound mail, one row per message
//! per team, with the raw source in the row's last column; plus the cross-team
//! lookups the inbound server routes by, and asynchronous reports (bounces,
//! complaints) written onto the timelines of sent emails.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::to_micros,
    domains::Domain,
    emails::{Disposition, EventKind},
    ids::{AttachmentId, EmailId, ReceivedEmailId, TeamId},
    pagination::{Page, PageRequest},
    receiving::{NewReceivedEmail, ReceivedAttachment, ReceivedEmail, reports::ReportEffects},
    store::ReceivingStore,
};
use sqlx::{AssertSqlSafe, any::AnyRow};

use crate::{Db, error::db, rows, webhooks::Subscribers, writer};

const COLUMNS: &str = "id, team_id, domain_id, from_address, to_addresses, cc, bcc, reply_to, received_for, subject, \
                       message_id, html, text, headers, transport, authentication, size, created_at";

const ATTACHMENT_COLUMNS: &str = "id, email_id, filename, content_type, content_id, disposition, size";

fn email_from(row: &AnyRow) -> Result<ReceivedEmail> {
    let authentication: Option<String> = rows::get(row, "authentication")?;
    Ok(ReceivedEmail {
        id: ReceivedEmailId(rows::uuid(row, "id")?),
        team_id: TeamId(rows::uuid(row, "team_id")?),
        domain_id: postline_core::ids::DomainId(rows::uuid(row, "domain_id")?),
        from: rows::get(row, "from_address")?,
        to: rows::json(row, "to_addresses")?,
        cc: rows::json(row, "cc")?,
        bcc: rows::json(row, "bcc")?,
        reply_to: rows::json(row, "reply_to")?,
        received_for: rows::json(row, "received_for")?,
        subject: rows::get(row, "subject")?,
        message_id: rows::get(row, "message_id")?,
        html: rows::get(row, "html")?,
        text: rows::get(row, "text")?,
        headers: rows::json(row, "headers")?,
        transport: rows::json(row, "transport")?,
        authentication: authentication.as_deref().and_then(|raw| serde_json::from_str(raw).ok()),
        size: rows::get::<i64>(row, "size")? as u64,
        created_at: rows::time(row, "created_at")?,
        attachments: Vec::new(),
    })
}

fn attachment_from(row: &AnyRow) -> Result<ReceivedAttachment> {
    let disposition: Option<String> = rows::get(row, "disposition")?;
    Ok(ReceivedAttachment {
        id: AttachmentId(rows::uuid(row, "id")?),
        email_id: ReceivedEmailId(rows::uuid(row, "email_id")?),
        filename: rows::get(row, "filename")?,
        content_type: rows::get(row, "content_type")?,
        content_id: rows::get(row, "content_id")?,
        disposition: disposition.as_deref().map(Disposition::parse),
        size: rows::get::<i64>(row, "size")? as u64,
    })
}

impl Db {
    /// Fills in each email's attachments with one query.
    async fn with_attachments(&self, emails: &mut [ReceivedEmail]) -> Result<()> {
        if emails.is_empty() {
            return Ok(());
        }
        let placeholders: Vec<String> = (1..=emails.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM received_attachments WHERE email_id IN ({}) ORDER BY position",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for email in emails.iter() {
            query = query.bind(email.id.to_string());
        }
        for row in query.fetch_all(&self.pool).await.map_err(db)? {
            let attachment = attachment_from(&row)?;
            if let Some(email) = emails.iter_mut().find(|e| e.id == attachment.email_id) {
                email.attachments.push(attachment);
            }
        }
        Ok(())
    }
}

async fn insert_one(tx: &mut sqlx::Transaction<'_, sqlx::Any>, new: &NewReceivedEmail) -> Result<()> {
    let e = &new.email;
    let sql = format!(
        "INSERT INTO received_emails ({COLUMNS}, raw) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(e.id.to_string())
        .bind(e.team_id.to_string())
        .bind(e.domain_id.to_string())
        .bind(&e.from)
        .bind(rows::to_json(&e.to))
        .bind(rows::to_json(&e.cc))
        .bind(rows::to_json(&e.bcc))
        .bind(rows::to_json(&e.reply_to))
        .bind(rows::to_json(&e.received_for))
        .bind(&e.subject)
        .bind(&e.message_id)
        .bind(e.html.as_deref())
        .bind(e.text.as_deref())
        .bind(rows::to_json(&e.headers))
        .bind(rows::to_json(&e.transport))
        .bind(e.authentication.as_ref().map(rows::to_json))
        .bind(e.size as i64)
        .bind(to_micros(e.created_at))
        .bind(new.raw.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    for (position, (a, content)) in e.attachments.iter().zip(&new.contents).enumerate() {
        sqlx::query(
            "INSERT INTO received_attachments (id, email_id, team_id, position, filename, content_type, content_id, \
             disposition, size, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(a.id.to_string())
        .bind(e.id.to_string())
        .bind(e.team_id.to_string())
        .bind(position as i64)
        .bind(a.filename.as_deref())
        .bind(&a.content_type)
        .bind(a.content_id.as_deref())
        .bind(a.disposition.map(|d| d.as_str()))
        .bind(a.size as i64)
        .bind(content.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    crate::webhooks::enqueue_event(tx, e.team_id, &new.event).await
}

/// `last_event` values a report's event replaces: an accepted email that later
/// bounced shows `bounced`; a complaint beats everything but another complaint.
fn replaced_by(kind: EventKind) -> &'static [EventKind] {
    use EventKind::*;
    match kind {
        Bounced => &[Sent, Delivered, DeliveryDelayed, Opened, Clicked],
        Complained => &[Sent, Delivered, DeliveryDelayed, Opened, Clicked, Bounced],
        _ => &[],
    }
}

#[async_trait]
impl ReceivingStore for Db {
    async fn receiving_domains(&self, name: &str) -> Result<Vec<Domain>> {
        let sql = format!("SELECT {} FROM domains WHERE name = $1 AND receiving = $2", crate::domains::COLUMNS);
        let found = sqlx::query(AssertSqlSafe(sql)).bind(name).bind(1i32).fetch_all(&self.pool).await.map_err(db)?;
        found.iter().map(crate::domains::domain_from).collect()
    }

    async fn email_origin(&self, id: EmailId) -> Result<Option<(TeamId, String)>> {
        let row: Option<(String, String)> = sqlx::query_as("SELECT team_id, from_addr FROM emails WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|(team, from)| Ok((TeamId::parse(&team)?, from))).transpose()
    }

    async fn insert_received(&self, emails: &[NewReceivedEmail]) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        for new in emails {
            insert_one(&mut tx, new).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn list_received(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<ReceivedEmail>> {
        let select = format!("SELECT {COLUMNS} FROM received_emails");
        let mut page = rows::team_page(&self.pool, &select, team_id, page, email_from).await?;
        self.with_attachments(&mut page.items).await?;
        Ok(page)
    }

    async fn get_received(&self, team_id: TeamId, id: ReceivedEmailId) -> Result<Option<ReceivedEmail>> {
        let sql = format!("SELECT {COLUMNS} FROM received_emails WHERE id = $1 AND team_id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        let Some(row) = row else { return Ok(None) };
        let mut emails = [email_from(&row)?];
        self.with_attachments(&mut emails).await?;
        let [email] = emails;
        Ok(Some(email))
    }

    async fn received_raw(&self, team_id: TeamId, id: ReceivedEmailId) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT raw FROM received_emails WHERE id = $1 AND team_id = $2")
            .bind(id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)
    }

    async fn list_received_attachments(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        page: &PageRequest,
    ) -> Result<Page<ReceivedAttachment>> {
        let (condition, order, cursor, reverse) = rows::cursor_sql(page, 3, false);
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM received_attachments WHERE email_id = $1 AND team_id = $2 \
             {condition} {order} LIMIT {}",
            page.limit + 1
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(email_id.to_string()).bind(team_id.to_string());
        if let Some(cursor) = cursor {
            query = query.bind(cursor);
        }
        let found = query.fetch_all(&self.pool).await.map_err(db)?;
        let items = found.iter().map(attachment_from).collect::<Result<Vec<_>>>()?;
        Ok(rows::page_of(items, page.limit, reverse))
    }

    async fn received_attachment(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        id: AttachmentId,
    ) -> Result<Option<ReceivedAttachment>> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM received_attachments WHERE id = $1 AND email_id = $2 AND team_id = $3"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(email_id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(attachment_from).transpose()
    }

    async fn received_attachment_content(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        id: AttachmentId,
    ) -> Result<Option<(ReceivedAttachment, Vec<u8>)>> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS}, content FROM received_attachments \
             WHERE id = $1 AND email_id = $2 AND team_id = $3"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(email_id.to_string())
            .bind(team_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|row| Ok((attachment_from(&row)?, rows::get::<Vec<u8>>(&row, "content")?))).transpose()
    }

    async fn record_report(&self, team_id: TeamId, email_id: EmailId, effects: &ReportEffects) -> Result<usize> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut subscribers = Subscribers::default();
        let mut written = 0;
        for event in &effects.events {
            if matches!(event.kind, EventKind::Bounced | EventKind::Complained) {
                let seen: Option<i64> = sqlx::query_scalar(
                    "SELECT 1 FROM email_events WHERE email_id = $1 AND kind = $2 AND recipient = $3 LIMIT 1",
                )
                .bind(email_id.to_string())
                .bind(event.kind.as_str())
                .bind(event.recipient.as_deref())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
                if seen.is_some() {
                    continue;
                }
            }
            writer::insert_event(&mut tx, &mut subscribers, team_id, event).await?;
            written += 1;
            writer::advance_last_event(&mut tx, email_id, event.kind, replaced_by(event.kind)).await?;
        }
        if written > 0 {
            for entry in &effects.suppressions {
                crate::suppressions::insert(&mut tx, entry).await?;
            }
        }
        tx.commit().await.map_err(db)?;
        Ok(written)
    }
}
