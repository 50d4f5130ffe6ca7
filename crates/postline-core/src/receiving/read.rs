//! Reading received emails (`/emails/receiving`): lists, one email with a signed
//! link to its raw source, attachments with signed download links, and the inline
//! images of the HTML as `data:` URIs unless the caller keeps `cid:` references.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{ReceivedAttachment, ReceivedEmail};
use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    ids::{AttachmentId, ReceivedEmailId, TeamId},
    pagination::{Page, PageRequest},
    signing::Purpose,
};

/// How long raw-source and attachment links stay valid.
pub const LINK_TTL: Duration = Duration::hours(1);

/// Inline images larger than this in total stay `cid:` references, so one email
/// cannot turn into a response of hundreds of megabytes.
const MAX_INLINED_BYTES: u64 = 25 * 1024 * 1024;

/// How inline images appear in `html` (`html_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlFormat {
    /// `cid:` references replaced by base64 `data:` URIs (the default).
    DataUri,
    /// The original `cid:` references, matching the attachments' `content_id`.
    Cid,
}

impl HtmlFormat {
    /// Parses the query parameter.
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw {
            None | Some("data_uri") => Ok(HtmlFormat::DataUri),
            Some("cid") => Ok(HtmlFormat::Cid),
            Some(other) => {
                Err(Error::parameter(format!("The `html_format` must be `data_uri` or `cid`, not `{other}`.")))
            }
        }
    }
}

/// A signed, expiring download link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub expires_at: Timestamp,
}

/// An attachment with its download link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAttachmentLink {
    pub attachment: ReceivedAttachment,
    pub link: Link,
}

#[derive(Serialize, Deserialize)]
struct RawClaims {
    #[serde(rename = "t")]
    team: TeamId,
    #[serde(rename = "e")]
    email: ReceivedEmailId,
}

#[derive(Serialize, Deserialize)]
struct AttachmentClaims {
    #[serde(rename = "t")]
    team: TeamId,
    #[serde(rename = "e")]
    email: ReceivedEmailId,
    #[serde(rename = "a")]
    attachment: AttachmentId,
}

impl Postline {
    /// The team's received emails, newest first.
    pub async fn list_received(&self, team_id: TeamId, page: PageRequest) -> Result<Page<ReceivedEmail>> {
        self.store.list_received(team_id, &page).await
    }

    /// One received email, with a link to its raw source.
    pub async fn get_received(
        &self,
        team_id: TeamId,
        id: ReceivedEmailId,
        format: HtmlFormat,
    ) -> Result<(ReceivedEmail, Link)> {
        let mut email = self.store.get_received(team_id, id).await?.ok_or(Error::NotFound("Email"))?;
        if format == HtmlFormat::DataUri {
            self.inline_images(&mut email).await?;
        }
        let expires_at = self.clock.now() + LINK_TTL;
        let token = self.signer.sign(Purpose::ReceivedRaw, RawClaims { team: team_id, email: id }, expires_at);
        let url = format!("{}/downloads/received/raw?token={token}", self.settings.public_url);
        Ok((email, Link { url, expires_at }))
    }

    /// A received email's attachments, each with a fresh download link.
    pub async fn list_received_attachments(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        page: PageRequest,
    ) -> Result<Page<ReceivedAttachmentLink>> {
        if self.store.get_received(team_id, email_id).await?.is_none() {
            return Err(Error::NotFound("Email"));
        }
        let page = self.store.list_received_attachments(team_id, email_id, &page).await?;
        Ok(page.map(|a| self.received_attachment_link(team_id, a)))
    }

    /// One attachment of a received email, with a fresh download link.
    pub async fn get_received_attachment(
        &self,
        team_id: TeamId,
        email_id: ReceivedEmailId,
        id: AttachmentId,
    ) -> Result<ReceivedAttachmentLink> {
        let attachment =
            self.store.received_attachment(team_id, email_id, id).await?.ok_or(Error::NotFound("Attachment"))?;
        Ok(self.received_attachment_link(team_id, attachment))
    }

    fn received_attachment_link(&self, team_id: TeamId, attachment: ReceivedAttachment) -> ReceivedAttachmentLink {
        let expires_at = self.clock.now() + LINK_TTL;
        let claims = AttachmentClaims { team: team_id, email: attachment.email_id, attachment: attachment.id };
        let token = self.signer.sign(Purpose::ReceivedAttachment, claims, expires_at);
        let url = format!("{}/downloads/received/attachments?token={token}", self.settings.public_url);
        ReceivedAttachmentLink { attachment, link: Link { url, expires_at } }
    }

    /// The raw source a download token opens. Any bad or expired token is `NotFound`.
    pub async fn download_received_raw(&self, token: &str) -> Result<Vec<u8>> {
        let claims: RawClaims =
            self.signer.verify(Purpose::ReceivedRaw, token, self.clock.now()).ok_or(Error::NotFound("Email"))?;
        self.store.received_raw(claims.team, claims.email).await?.ok_or(Error::NotFound("Email"))
    }

    /// The attachment a download token opens, with its bytes.
    pub async fn download_received_attachment(&self, token: &str) -> Result<(ReceivedAttachment, Vec<u8>)> {
        let claims: AttachmentClaims = self
            .signer
            .verify(Purpose::ReceivedAttachment, token, self.clock.now())
            .ok_or(Error::NotFound("Attachment"))?;
        self.store
            .received_attachment_content(claims.team, claims.email, claims.attachment)
            .await?
            .ok_or(Error::NotFound("Attachment"))
    }

    async fn inline_images(&self, email: &mut ReceivedEmail) -> Result<()> {
        let Some(html) = email.html.take() else { return Ok(()) };
        let mut html = html;
        let mut budget = MAX_INLINED_BYTES;
        for attachment in &email.attachments {
            let Some(cid) = attachment.content_id.as_deref() else { continue };
            if attachment.size > budget || !html.contains(&format!("cid:{cid}")) {
                continue;
            }
            let Some((_, content)) =
                self.store.received_attachment_content(email.team_id, email.id, attachment.id).await?
            else {
                continue;
            };
            budget -= attachment.size;
            let uri = data_uri(&attachment.content_type, &content);
            html = replace_cid(&html, cid, &uri);
        }
        email.html = Some(html);
        Ok(())
    }
}

fn data_uri(content_type: &str, content: &[u8]) -> String {
    use base64::Engine;
    format!("data:{content_type};base64,{}", base64::engine::general_purpose::STANDARD.encode(content))
}

/// Replaces `cid:<content id>` where the reference ends (a quote, bracket, space or
/// the end), so `cid:img1` never eats the start of `cid:img10`. Content ids compare
/// without case, as mail clients compare them.
pub fn replace_cid(html: &str, cid: &str, replacement: &str) -> String {
    let needle = format!("cid:{cid}").to_ascii_lowercase();
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let start = from + found;
        let end = start + needle.len();
        let ends = lower[end..].chars().next().is_none_or(|c| matches!(c, '"' | '\'' | ')' | '>' | ' ' | '\t' | '\n'));
        if ends {
            out.push_str(&html[last..start]);
            out.push_str(replacement);
            last = end;
        }
        from = end;
    }
    out.push_str(&html[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cid_references_are_replaced_only_where_they_end() {
        let html =
            r#"<img src="cid:img1"><img src='CID:img1'><img src="cid:img10"><div style="background:url(cid:img1)">"#;
        assert_eq!(
            replace_cid(html, "img1", "data:x"),
            r#"<img src="data:x"><img src='data:x'><img src="cid:img10"><div style="background:url(data:x)">"#
        );
        assert_eq!(replace_cid("no images", "img1", "data:x"), "no images");
        assert_eq!(replace_cid("ends with cid:img1", "img1", "data:x"), "ends with data:x");
    }

    #[test]
    fn html_format_is_data_uri_unless_cid_is_asked_for() {
        assert_eq!(HtmlFormat::parse(None).unwrap(), HtmlFormat::DataUri);
        assert_eq!(HtmlFormat::parse(Some("cid")).unwrap(), HtmlFormat::Cid);
        assert!(HtmlFormat::parse(Some("inline")).is_err());
    }
}
