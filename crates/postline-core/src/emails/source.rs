//! An email's MIME source as the MTA renders it, for people to read (the dashboard's
//! "Raw source"): the same rendering the MTA signs and sends, before anything
//! per recipient (tracking links, the unsubscribe link) and before the DKIM
//! signature, which differ for every copy and are made at delivery time.

use crate::{Postline, Result, emails::AttachmentContent, emails::Email, ids::EmailId, ids::TeamId};

/// The port to the MTA's MIME renderer.
pub trait MimeRenderer: Send + Sync + 'static {
    /// The message as the MTA would render it with no recipient's own links.
    fn render(&self, email: &Email, attachments: &[AttachmentContent]) -> Result<Vec<u8>>;
}

impl Postline {
    /// One of the team's emails rendered as MIME (another team's id is not found).
    pub async fn email_source(&self, team_id: TeamId, id: EmailId, renderer: &dyn MimeRenderer) -> Result<Vec<u8>> {
        // Reading through the team first keeps other teams' emails out of reach.
        self.get_email(team_id, id).await?;
        let outbound = self.outbound_emails(&[id]).await?.into_iter().next().ok_or(crate::Error::NotFound("Email"))?;
        let attachments = self.outbound_attachments(&outbound).await?;
        renderer.render(&outbound.email, &attachments)
    }
}
