//! Capture mode (`postline serve --capture`), the developer inbox: nothing leaves
//! the machine. The MTA renders and signs every real recipient's message exactly as
//! it would send it, then hands it here instead of to an MX host; the copy is
//! recorded as delivered ("captured") so the API, events and webhooks behave as in
//! production, and the dashboard's inbox shows what would have arrived. Senders need
//! no verified domain in this mode (nothing is sent, so nothing can be spoofed).
//!
//! A captured message can be *released*: sent as captured (same bytes, same DKIM
//! signature) to the operator's release server — a real SMTP server configured at
//! start (`capture_release`), never one named in the request — to the original
//! recipients or to addresses the developer types, within the operator's allow-list.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    ids::{EmailId, TeamId},
    pagination::{Page, PageRequest},
};

/// The SMTP reply recorded for a captured copy.
pub const CAPTURED_REPLY: &str = "250 2.0.0 Captured by Postline (capture mode): not sent";

/// A captured message: the envelope and the signed MIME as it would have been sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedMessage {
    /// Time-ordered, like every id; the inbox's cursor.
    pub id: uuid::Uuid,
    pub team_id: TeamId,
    pub email_id: EmailId,
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    pub created_at: Timestamp,
}

/// Most addresses one release may go to.
pub const MAX_RELEASE_RECIPIENTS: usize = 50;

/// What the release server answered for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseOutcome {
    pub recipient: String,
    pub accepted: bool,
    /// The server's reply, or why it could not be reached.
    pub reply: String,
}

/// The port to the release server (an SMTP client in `postline-mta`).
#[async_trait]
pub trait Releaser: Send + Sync + 'static {
    /// Where released mail goes, for people (`host:port`).
    fn destination(&self) -> String;
    /// Sends `raw` as it is; one outcome per recipient, in order.
    async fn release(&self, mail_from: &str, recipients: &[String], raw: &[u8]) -> Vec<ReleaseOutcome>;
}

/// The operator's release server and the addresses it may be used for.
#[derive(Clone)]
pub struct Release {
    pub target: Arc<dyn Releaser>,
    /// Addresses (`ann@example.com`) or domains (`example.com`, also matching its
    /// subdomains) a release may go to; empty allows any address.
    pub allowed: Vec<String>,
}

impl Release {
    /// Whether `address` may receive released mail.
    pub fn allows(&self, address: &str) -> bool {
        let address = address.to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        self.allowed.is_empty()
            || self.allowed.iter().map(|a| a.to_ascii_lowercase()).any(|allowed| {
                if allowed.contains('@') {
                    allowed == address
                } else {
                    domain == allowed || domain.ends_with(&format!(".{allowed}"))
                }
            })
    }
}

/// The addresses typed for a release (commas, semicolons, spaces or new lines
/// between them); empty means the message's own recipients.
fn release_recipients(typed: &str, captured: &CapturedMessage, release: &Release) -> Result<Vec<String>> {
    let mut recipients: Vec<String> = Vec::new();
    for address in typed.split([',', ';', ' ', '\n', '\r', '\t']).map(str::trim).filter(|a| !a.is_empty()) {
        if !crate::emails::address::valid_address(address) {
            return Err(Error::value(format!("`{address}` is not an email address.")));
        }
        if !recipients.iter().any(|r| r.eq_ignore_ascii_case(address)) {
            recipients.push(address.to_string());
        }
    }
    if recipients.is_empty() {
        recipients = captured.recipients.clone();
    }
    if recipients.len() > MAX_RELEASE_RECIPIENTS {
        return Err(Error::value(format!("A release goes to at most {MAX_RELEASE_RECIPIENTS} addresses.")));
    }
    if let Some(refused) = recipients.iter().find(|r| !release.allows(r)) {
        return Err(Error::value(format!(
            "`{refused}` is not allowed by this installation's release settings (capture_release_allowed)."
        )));
    }
    Ok(recipients)
}

impl Postline {
    /// Sends a captured message as it is to the release server: to `typed`
    /// addresses, or to its own recipients when none are typed. Nothing is recorded
    /// on the email: the capture already counts as its delivery, and a release is
    /// the developer's manual check.
    pub async fn release_captured(
        &self,
        team_id: TeamId,
        id: &str,
        typed: &str,
        release: &Release,
    ) -> Result<Vec<ReleaseOutcome>> {
        let captured = self.get_captured(team_id, id).await?;
        let recipients = release_recipients(typed, &captured, release)?;
        Ok(release.target.release(&captured.mail_from, &recipients, &captured.raw).await)
    }

    /// Whether this node captures instead of sending.
    pub fn captures(&self) -> bool {
        self.settings.capture
    }

    /// Keeps a rendered message instead of sending it (the MTA in capture mode).
    pub async fn capture_message(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        mail_from: &str,
        recipients: &[String],
        raw: &[u8],
    ) -> Result<()> {
        let message = CapturedMessage {
            id: uuid::Uuid::now_v7(),
            team_id,
            email_id,
            mail_from: mail_from.to_string(),
            recipients: recipients.to_vec(),
            raw: raw.to_vec(),
            created_at: self.clock.now(),
        };
        self.store.insert_captured(&message).await?;
        self.capture_wake.notify_waiters();
        Ok(())
    }

    /// The team's captured messages, newest first (the list carries no raw source).
    pub async fn list_captured(&self, team_id: TeamId, page: PageRequest) -> Result<Page<CapturedMessage>> {
        self.store.list_captured(team_id, &page).await
    }

    /// Deletes one captured message (the email and its events stay: the inbox is a
    /// view of what was captured, not the email's record).
    pub async fn delete_captured(&self, team_id: TeamId, id: &str) -> Result<()> {
        let id =
            uuid::Uuid::parse_str(id.trim()).map_err(|_| Error::parameter("The message id must be a valid UUID."))?;
        if self.store.delete_captured(team_id, id).await? { Ok(()) } else { Err(Error::NotFound("Message")) }
    }

    /// Empties the team's inbox; how many messages it held.
    pub async fn clear_captured(&self, team_id: TeamId) -> Result<u64> {
        self.store.clear_captured(team_id).await
    }

    /// One captured message with its raw source.
    pub async fn get_captured(&self, team_id: TeamId, id: &str) -> Result<CapturedMessage> {
        let id =
            uuid::Uuid::parse_str(id.trim()).map_err(|_| Error::parameter("The message id must be a valid UUID."))?;
        self.store.get_captured(team_id, id).await?.ok_or(Error::NotFound("Message"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nowhere;

    #[async_trait]
    impl Releaser for Nowhere {
        fn destination(&self) -> String {
            "nowhere:25".into()
        }
        async fn release(&self, _: &str, _: &[String], _: &[u8]) -> Vec<ReleaseOutcome> {
            Vec::new()
        }
    }

    fn release(allowed: &[&str]) -> Release {
        Release { target: Arc::new(Nowhere), allowed: allowed.iter().map(|a| a.to_string()).collect() }
    }

    fn captured(recipients: &[&str]) -> CapturedMessage {
        CapturedMessage {
            id: uuid::Uuid::now_v7(),
            team_id: TeamId(uuid::Uuid::now_v7()),
            email_id: EmailId(uuid::Uuid::now_v7()),
            mail_from: "bounces@example.com".into(),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            raw: Vec::new(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_allow_list_matches_addresses_domains_and_subdomains() {
        let r = release(&["qa@acme.dev", "staging.example"]);
        assert!(r.allows("QA@acme.dev"));
        assert!(!r.allows("ceo@acme.dev"));
        assert!(r.allows("ann@staging.example") && r.allows("ann@eu.staging.example"));
        assert!(!r.allows("ann@notstaging.example"));
        assert!(release(&[]).allows("anyone@anywhere.example"));
    }

    #[test]
    fn typed_addresses_replace_the_recipients_and_are_checked() {
        let message = captured(&["customer@example.org"]);
        let open = release(&[]);
        assert_eq!(release_recipients("", &message, &open).unwrap(), ["customer@example.org"]);
        assert_eq!(
            release_recipients("me@dev.example,\n me@dev.example; you@dev.example", &message, &open).unwrap(),
            ["me@dev.example", "you@dev.example"]
        );
        assert!(release_recipients("not-an-address", &message, &open).is_err());
        let many = (0..=MAX_RELEASE_RECIPIENTS).map(|i| format!("a{i}@x.example")).collect::<Vec<_>>().join(",");
        assert!(release_recipients(&many, &message, &open).is_err());
        let strict = release(&["dev.example"]);
        assert!(release_recipients("", &message, &strict).is_err(), "the original recipient is not allowed");
        assert!(release_recipients("me@dev.example", &message, &strict).is_ok());
    }
}
