//! Capture mode (`postline serve --capture`), the developer inbox: nothing leaves
//! the machine. The MTA renders and signs every real recipient's message exactly as
//! it would send it, then hands it here instead of to an MX host; the copy is
//! recorded as delivered ("captured") so the API, events and webhooks behave as in
//! production, and the dashboard's inbox shows what would have arrived. Senders need
//! no verified domain in this mode (nothing is sent, so nothing can be spoofed).

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

impl Postline {
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
        self.store.insert_captured(&message).await
    }

    /// The team's captured messages, newest first (the list carries no raw source).
    pub async fn list_captured(&self, team_id: TeamId, page: PageRequest) -> Result<Page<CapturedMessage>> {
        self.store.list_captured(team_id, &page).await
    }

    /// One captured message with its raw source.
    pub async fn get_captured(&self, team_id: TeamId, id: &str) -> Result<CapturedMessage> {
        let id =
            uuid::Uuid::parse_str(id.trim()).map_err(|_| Error::parameter("The message id must be a valid UUID."))?;
        self.store.get_captured(team_id, id).await?.ok_or(Error::NotFound("Message"))
    }
}
