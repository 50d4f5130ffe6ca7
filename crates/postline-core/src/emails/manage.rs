//! What callers do with an accepted email: read it and its timeline, list,
//! reschedule or cancel it while it is scheduled, fetch its attachments through
//! signed download links, and share a read-only rendering by an expiring link.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Attachment, Email, EmailEvent, EventKind,
    schedule::{When, parse_scheduled_at},
};
use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    ids::{AttachmentId, EmailId, TeamId},
    pagination::{Page, PageRequest},
    signing::Purpose,
    store::Transition,
};

/// How long an attachment download link stays valid.
pub const DOWNLOAD_LINK_TTL: Duration = Duration::hours(1);
/// Default and longest lifetime of a share link.
pub const SHARE_LINK_MAX: Duration = Duration::hours(48);

/// An attachment with a signed link to its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentLink {
    pub attachment: Attachment,
    pub download_url: String,
    pub expires_at: Timestamp,
}

/// A share link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub email_id: EmailId,
    pub url: String,
    pub expires_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct EmailClaims {
    team: TeamId,
    email: EmailId,
}

#[derive(Serialize, Deserialize)]
struct AttachmentClaims {
    team: TeamId,
    email: EmailId,
    attachment: AttachmentId,
}

impl Postline {
    /// One email of the team.
    pub async fn get_email(&self, team_id: TeamId, id: EmailId) -> Result<Email> {
        let mut email = self.store.get_email(team_id, id).await?.ok_or(Error::NotFound("Email"))?;
        self.fill_broadcast_content(&mut [&mut email]).await?;
        Ok(email)
    }

    /// Deliverability advice for one of the team's emails (see [`super::insights`]).
    pub async fn email_insights(&self, email: &Email) -> Result<Vec<super::insights::Insight>> {
        let from_domain = super::address::parse_mailbox(&email.from).map(|m| m.domain()).unwrap_or_default();
        let domain = self.sending_domain(email.team_id, &from_domain).await?;
        Ok(super::insights::insights(email, domain.as_ref()))
    }

    /// The team's emails, newest first.
    pub async fn list_emails(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Email>> {
        self.store.list_emails(team_id, &page).await
    }

    /// The email's timeline, oldest first.
    pub async fn email_events(&self, team_id: TeamId, id: EmailId) -> Result<Vec<EmailEvent>> {
        self.get_email(team_id, id).await?;
        self.store.email_events(team_id, id).await
    }

    /// Moves a scheduled email to a new time (`PATCH /emails/{id}`).
    pub async fn reschedule_email(&self, team_id: TeamId, id: EmailId, body: &Value) -> Result<()> {
        let raw = match body.get("scheduled_at").or_else(|| body.get("scheduledAt")) {
            None | Some(Value::Null) => return Err(Error::missing("scheduled_at")),
            Some(Value::String(raw)) => raw,
            Some(_) => return Err(Error::value("The `scheduled_at` field must be a string.")),
        };
        let now = self.clock.now();
        // Rescheduling to "now" sends at once: the row becomes due immediately.
        let at = match parse_scheduled_at(raw, now)? {
            When::Now => now,
            When::At(at) => at,
        };
        let event = EmailEvent::new(id, EventKind::Scheduled, None, now);
        let result = self.store.reschedule_email(team_id, id, at, event).await?;
        self.wake_workers(&super::Route::ALL);
        transition(result, "rescheduled")
    }

    /// Cancels a scheduled email (`POST /emails/{id}/cancel`).
    pub async fn cancel_email(&self, team_id: TeamId, id: EmailId) -> Result<()> {
        let event = EmailEvent::new(id, EventKind::Canceled, None, self.clock.now());
        transition(self.store.cancel_email(team_id, id, event).await?, "canceled")
    }

    /// The email's attachments, each with a fresh signed download link.
    pub async fn list_attachments(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        page: PageRequest,
    ) -> Result<Page<AttachmentLink>> {
        self.get_email(team_id, email_id).await?;
        let page = self.store.list_attachments(team_id, email_id, &page).await?;
        Ok(page.map(|a| self.attachment_link(team_id, a)))
    }

    /// One attachment with a fresh signed download link.
    pub async fn get_attachment(&self, team_id: TeamId, email_id: EmailId, id: AttachmentId) -> Result<AttachmentLink> {
        let attachment =
            self.store.get_attachment(team_id, email_id, id).await?.ok_or(Error::NotFound("Attachment"))?;
        Ok(self.attachment_link(team_id, attachment))
    }

    fn attachment_link(&self, team_id: TeamId, attachment: Attachment) -> AttachmentLink {
        let expires_at = self.clock.now() + DOWNLOAD_LINK_TTL;
        let claims = AttachmentClaims { team: team_id, email: attachment.email_id, attachment: attachment.id };
        let token = self.signer.sign(Purpose::AttachmentDownload, claims, expires_at);
        let download_url = format!("{}/downloads/attachments?token={token}", self.settings.public_url);
        AttachmentLink { attachment, download_url, expires_at }
    }

    /// The attachment a download token opens, with its bytes. Any bad or expired
    /// token is `NotFound`, never a hint about why.
    pub async fn download_attachment(&self, token: &str) -> Result<(Attachment, Vec<u8>)> {
        let claims: AttachmentClaims = self
            .signer
            .verify(Purpose::AttachmentDownload, token, self.clock.now())
            .ok_or(Error::NotFound("Attachment"))?;
        self.store
            .attachment_content(claims.team, claims.email, claims.attachment)
            .await?
            .ok_or(Error::NotFound("Attachment"))
    }

    /// Creates a share link (`POST /emails/{id}/share`); `expires_in` is a duration
    /// such as `10m`, `2 hours` or `1 day`, at most (and by default) 48 hours.
    pub async fn share_email(&self, team_id: TeamId, id: EmailId, expires_in: Option<&str>) -> Result<ShareLink> {
        self.get_email(team_id, id).await?;
        let lifetime = match expires_in {
            None => SHARE_LINK_MAX,
            Some(raw) => parse_duration(raw).filter(|d| *d > Duration::zero()).ok_or_else(|| {
                Error::value("The `expires_in` field must be a duration such as `10m`, `2 hours` or `1 day`.")
            })?,
        };
        if lifetime > SHARE_LINK_MAX {
            return Err(Error::value("The `expires_in` field cannot exceed 48 hours."));
        }
        let expires_at = self.clock.now() + lifetime;
        let token = self.signer.sign(Purpose::ShareEmail, EmailClaims { team: team_id, email: id }, expires_at);
        let url = format!("{}/shared?token={token}", self.settings.public_url);
        Ok(ShareLink { email_id: id, url, expires_at })
    }

    /// The email a share token opens, with its attachments. Bad or expired tokens are `NotFound`.
    pub async fn shared_email(&self, token: &str) -> Result<(Email, Vec<Attachment>)> {
        let claims: EmailClaims =
            self.signer.verify(Purpose::ShareEmail, token, self.clock.now()).ok_or(Error::NotFound("Email"))?;
        let email = self.get_email(claims.team, claims.email).await?;
        let everything =
            PageRequest { limit: crate::emails::attachments::MAX_ATTACHMENTS as u32, ..Default::default() };
        let attachments = self.store.list_attachments(claims.team, claims.email, &everything).await?.items;
        Ok((email, attachments))
    }
}

/// Parses `10m`, `90 minutes`, `2 hours`, `1 day`, `48h`, `30s`.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let compact: String = raw.trim().to_ascii_lowercase().split_whitespace().collect();
    let split = compact.find(|c: char| !c.is_ascii_digit())?;
    let amount: i64 = compact[..split].parse().ok().filter(|n| *n <= 100_000)?;
    let unit = compact[split..].trim_end_matches('s');
    let unit = if unit.is_empty() { "s" } else { unit };
    match unit {
        "s" | "sec" | "second" => Some(Duration::seconds(amount)),
        "m" | "min" | "minute" => Some(Duration::minutes(amount)),
        "h" | "hr" | "hour" => Some(Duration::hours(amount)),
        "d" | "day" => Some(Duration::days(amount)),
        _ => None,
    }
}

fn transition(result: Transition, verb: &str) -> Result<()> {
    match result {
        Transition::Done => Ok(()),
        Transition::NotFound => Err(Error::NotFound("Email")),
        Transition::WrongState(state) => {
            Err(Error::Conflict(format!("Only scheduled emails can be {verb}; this email is `{}`.", state.as_str())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_durations_are_understood() {
        assert_eq!(parse_duration("10m"), Some(Duration::minutes(10)));
        assert_eq!(parse_duration("2 hours"), Some(Duration::hours(2)));
        assert_eq!(parse_duration("1 day"), Some(Duration::days(1)));
        assert_eq!(parse_duration("48h"), Some(Duration::hours(48)));
        assert_eq!(parse_duration("30s"), Some(Duration::seconds(30)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5 fortnights"), None);
    }
}
