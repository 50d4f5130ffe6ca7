//! What the outbound MTA reads and keeps: emails with attachment bytes, DKIM keys,
//! suppression entries.

use async_trait::async_trait;
use postline_core::{
    Result,
    clock::to_micros,
    delivery::suppression::{Suppression, SuppressionRef},
    dkim::{DkimKey, KeyState},
    emails::OutboundEmail,
    ids::{AttachmentId, EmailId, TeamId},
    store::{MtaStore, SuppressionStore},
};

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use crate::{
    Db,
    emails::{EMAIL_COLUMNS, email_from},
    error::db,
    rows,
};

impl Db {
    /// Inserts a domain key in `state`; `on_conflict` is an optional SQL tail.
    async fn write_key(&self, key: &DkimKey, state: KeyState, on_conflict: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO domain_keys (domain, selector, state, rsa_private, ed25519_private, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6){on_conflict}"
        )))
        .bind(&key.domain)
        .bind(&key.selector)
        .bind(state.as_str())
        .bind(key.rsa_private.as_slice())
        .bind(key.ed25519_private.as_deref())
        .bind(to_micros(key.created_at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}

#[async_trait]
impl MtaStore for Db {
    async fn outbound_emails(&self, ids: &[EmailId]) -> Result<Vec<OutboundEmail>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=ids.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        let emails_sql = format!("SELECT {EMAIL_COLUMNS} FROM emails WHERE id IN ({placeholders})");
        let attachments_sql =
            format!("SELECT email_id, id FROM attachments WHERE email_id IN ({placeholders}) ORDER BY email_id, id");
        let mut emails = sqlx::query(AssertSqlSafe(emails_sql));
        let mut attachments = sqlx::query(AssertSqlSafe(attachments_sql));
        for id in ids {
            emails = emails.bind(id.to_string());
            attachments = attachments.bind(id.to_string());
        }
        let emails = emails.fetch_all(&self.pool).await.map_err(db)?;
        let attachments = attachments.fetch_all(&self.pool).await.map_err(db)?;
        let mut by_email: HashMap<String, Vec<AttachmentId>> = HashMap::new();
        for row in &attachments {
            let id = AttachmentId::parse(&rows::get::<String>(row, "id")?)?;
            by_email.entry(rows::get(row, "email_id")?).or_default().push(id);
        }
        emails
            .iter()
            .map(|row| {
                let email = email_from(row)?;
                let attachments = by_email.remove(&email.id.to_string()).unwrap_or_default();
                Ok(OutboundEmail { email, attachments })
            })
            .collect()
    }

    async fn dkim_key(&self, domain: &str) -> Result<Option<DkimKey>> {
        Ok(self.domain_keys(domain).await?.into_iter().find(|k| k.state == KeyState::Active))
    }

    async fn insert_dkim_key(&self, key: &DkimKey) -> Result<DkimKey> {
        if let Some(active) = self.dkim_key(&key.domain).await? {
            return Ok(active);
        }
        // Two nodes making the first key at once: the first insert wins.
        self.write_key(key, KeyState::Active, " ON CONFLICT (domain, selector) DO NOTHING").await?;
        self.dkim_key(&key.domain).await?.ok_or_else(|| postline_core::Error::Internal("DKIM key vanished".into()))
    }

    async fn domain_keys(&self, domain: &str) -> Result<Vec<DkimKey>> {
        let found = sqlx::query(
            "SELECT domain, selector, state, rsa_private, ed25519_private, created_at FROM domain_keys \
             WHERE domain = $1 ORDER BY created_at, selector",
        )
        .bind(domain)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|row| {
                let state: String = rows::get(row, "state")?;
                Ok(DkimKey {
                    domain: rows::get(row, "domain")?,
                    selector: rows::get(row, "selector")?,
                    rsa_private: rows::get(row, "rsa_private")?,
                    ed25519_private: rows::get(row, "ed25519_private")?,
                    created_at: rows::time(row, "created_at")?,
                    state: KeyState::parse(&state),
                })
            })
            .collect()
    }

    async fn add_next_key(&self, key: &DkimKey) -> Result<()> {
        self.write_key(key, KeyState::Next, "").await
    }

    async fn promote_next_key(&self, domain: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("UPDATE domain_keys SET state = 'retired' WHERE domain = $1 AND state = 'active'")
            .bind(domain)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query("UPDATE domain_keys SET state = 'active' WHERE domain = $1 AND state = 'next'")
            .bind(domain)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn remove_retired_key(&self, domain: &str, selector: &str) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("DELETE FROM domain_keys WHERE domain = $1 AND selector = $2 AND state = 'retired'")
            .bind(domain)
            .bind(selector)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn suppression(&self, team_id: TeamId, email: &str) -> Result<Option<Suppression>> {
        self.find_suppression(team_id, &SuppressionRef::Email(email.to_string())).await
    }
}
