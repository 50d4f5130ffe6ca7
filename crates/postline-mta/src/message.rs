//! Rendering an email as MIME with `mail-builder`: From/To/Cc/Reply-To, Subject,
//! Date, the Message-ID on the sending domain, `multipart/alternative` for text and
//! HTML, `multipart/related` for inline `cid:` images, `multipart/mixed` for
//! attachments, and the caller's custom headers. Non-ASCII headers are encoded
//! (RFC 2047) and long lines folded by the builder. Bcc recipients never appear.

use mail_builder::{
    MessageBuilder,
    headers::{address::Address, raw::Raw},
    mime::{BodyPart, MimePart},
};
use postline_core::{
    Error, Result,
    emails::{AttachmentContent, Disposition, Email, address::parse_mailbox},
    tracking::{TrackingLinks, instrument_html},
};

fn address(raw: &str) -> Address<'static> {
    match parse_mailbox(raw) {
        Some(mailbox) => Address::new_address(mailbox.name, mailbox.address),
        None => Address::new_address(None::<String>, raw.to_string()),
    }
}

fn address_list(raws: &[String]) -> Address<'static> {
    Address::new_list(raws.iter().map(|r| address(r)).collect())
}

/// Where the body mentions the recipient's unsubscribe link (Resend's placeholder).
pub const UNSUBSCRIBE_PLACEHOLDER: &str = "{{{RESEND_UNSUBSCRIBE_URL}}}";

/// The recipient's own links a rendering carries, when it is one recipient's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Personal<'a> {
    /// The unsubscribe link (the list headers and the body's placeholder).
    pub unsubscribe: Option<&'a str>,
    /// Open pixel and click links, in the HTML part only.
    pub tracking: Option<&'a TrackingLinks>,
}

/// The body tree: (text | html | alternative), related with inline parts, mixed with files.
fn body(email: &Email, attachments: &[AttachmentContent], personal: Personal<'_>) -> MimePart<'static> {
    let unsubscribe = |content: &str| match personal.unsubscribe {
        Some(url) => content.replace(UNSUBSCRIBE_PLACEHOLDER, url),
        None => content.to_string(),
    };
    // Tracking first, while the unsubscribe link is still the placeholder it leaves alone.
    let tracked = |html: &String| match personal.tracking {
        Some(links) => instrument_html(html, links),
        None => html.clone(),
    };
    let text = email.text.as_ref().map(|t| MimePart::new("text/plain", BodyPart::Text(unsubscribe(t).into())));
    let html = email.html.as_ref().map(|h| MimePart::new("text/html", BodyPart::Text(unsubscribe(&tracked(h)).into())));
    let mut content = match (text, html) {
        (Some(text), Some(html)) => MimePart::new("multipart/alternative", vec![text, html]),
        (Some(text), None) => text,
        (None, Some(html)) => html,
        (None, None) => MimePart::new("text/plain", BodyPart::Text("".into())),
    };
    let part =
        |a: &AttachmentContent| MimePart::new(a.meta.content_type.clone(), BodyPart::Binary(a.content.clone().into()));
    let inline: Vec<MimePart<'static>> = attachments
        .iter()
        .filter(|a| a.meta.disposition == Disposition::Inline)
        .map(|a| {
            let mut inline = part(a).inline().cid(a.meta.content_id.clone().unwrap_or_default());
            if let Some(name) = &a.meta.filename {
                inline = inline.header("Content-Location", Raw::new(name.clone()));
            }
            inline
        })
        .collect();
    if !inline.is_empty() {
        let mut parts = vec![content];
        parts.extend(inline);
        content = MimePart::new("multipart/related", parts);
    }
    let files: Vec<MimePart<'static>> = attachments
        .iter()
        .filter(|a| a.meta.disposition == Disposition::Attachment)
        .map(|a| part(a).attachment(a.meta.filename.clone().unwrap_or_else(|| "attachment".into())))
        .collect();
    if files.is_empty() {
        content
    } else {
        let mut parts = vec![content];
        parts.extend(files);
        MimePart::new("multipart/mixed", parts)
    }
}

/// Renders the message, unsigned. With a recipient's `unsubscribe` link, the message
/// carries it in `List-Unsubscribe` with RFC 8058 one-click (unless the caller set
/// its own `List-Unsubscribe`) and in place of the body's placeholder. With
/// tracking links, the HTML part gets the open pixel and click links (the text
/// part is never changed).
pub fn render(email: &Email, attachments: &[AttachmentContent], personal: Personal<'_>) -> Result<Vec<u8>> {
    let unsubscribe = personal.unsubscribe;
    let message_id = email.message_id.trim_start_matches('<').trim_end_matches('>').to_string();
    let mut builder = MessageBuilder::new()
        .from(address(&email.from))
        .subject(email.subject.clone())
        .date(email.scheduled_at.unwrap_or(email.created_at).timestamp())
        .message_id(message_id);
    if !email.to.is_empty() {
        builder = builder.to(address_list(&email.to));
    }
    if !email.cc.is_empty() {
        builder = builder.cc(address_list(&email.cc));
    }
    if !email.reply_to.is_empty() {
        builder = builder.reply_to(address_list(&email.reply_to));
    }
    for header in &email.headers {
        builder = builder.header(header.name.clone(), mail_builder::headers::text::Text::new(header.value.clone()));
    }
    let own_list_unsubscribe = email.headers.iter().any(|h| h.name.eq_ignore_ascii_case("List-Unsubscribe"));
    if let Some(url) = unsubscribe
        && !own_list_unsubscribe
    {
        builder = builder
            .header("List-Unsubscribe", Raw::new(format!("<{url}>")))
            .header("List-Unsubscribe-Post", Raw::new("List-Unsubscribe=One-Click"));
    }
    builder
        .body(body(email, attachments, personal))
        .write_to_vec()
        .map_err(|e| Error::Internal(format!("rendering MIME failed: {e}")))
}

/// The renderer behind the dashboard's "Raw source" (`postline_core::emails::source`).
pub struct SourceRenderer;

impl postline_core::emails::source::MimeRenderer for SourceRenderer {
    fn render(&self, email: &Email, attachments: &[AttachmentContent]) -> Result<Vec<u8>> {
        render(email, attachments, Personal::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postline_core::{
        emails::{Attachment, EventKind, Header},
        ids::{AttachmentId, EmailId, TeamId},
    };

    fn email() -> Email {
        let id = EmailId::new();
        Email {
            id,
            team_id: TeamId::new(),
            from: "Zoë Ünïcode <zoe@acme.dev>".into(),
            to: vec!["bob@example.org".into()],
            cc: vec!["Carol <carol@example.org>".into()],
            bcc: vec!["secret@example.org".into()],
            reply_to: vec!["support@acme.dev".into()],
            subject: "Grüße — a long subject line that certainly needs folding because it goes on and on and on".into(),
            html: Some("<p>Hello <img src=\"cid:logo\"></p>".into()),
            text: Some("Hello".into()),
            headers: vec![Header { name: "X-Entity-Ref-ID".into(), value: "42".into() }],
            tags: vec![],
            topic_id: None,
            message_id: format!("<{id}@acme.dev>"),
            scheduled_at: None,
            created_at: chrono::Utc::now(),
            last_event: EventKind::Queued,
            broadcast: None,
        }
    }

    fn attachment(email: &Email, disposition: Disposition, name: &str, cid: Option<&str>) -> AttachmentContent {
        AttachmentContent {
            meta: Attachment {
                id: AttachmentId::new(),
                email_id: email.id,
                filename: Some(name.into()),
                content_type: if name.ends_with(".png") { "image/png".into() } else { "application/pdf".into() },
                content_id: cid.map(str::to_string),
                disposition,
                size: 3,
            },
            content: vec![1, 2, 3],
        }
    }

    #[test]
    fn the_structure_nests_alternative_related_and_mixed() {
        let email = email();
        let files = [
            attachment(&email, Disposition::Inline, "logo.png", Some("logo")),
            attachment(&email, Disposition::Attachment, "invoice.pdf", None),
        ];
        let mime = String::from_utf8(render(&email, &files, Personal::default()).unwrap()).unwrap();
        let mixed = mime.find("multipart/mixed").unwrap();
        let related = mime.find("multipart/related").unwrap();
        let alternative = mime.find("multipart/alternative").unwrap();
        assert!(mixed < related && related < alternative, "{mime}");
        assert!(mime.contains("Content-ID: <logo>"), "{mime}");
        assert!(mime.contains("filename=\"invoice.pdf\"") || mime.contains("filename=invoice.pdf"), "{mime}");
        assert!(mime.contains(&format!("Message-ID: <{}@acme.dev>", email.id)));
        assert!(mime.contains("X-Entity-Ref-ID: 42"));
        assert!(!mime.contains("secret@example.org"), "Bcc never appears in the message");
        assert!(mime.contains("=?utf-8?"), "non-ASCII headers are encoded: {mime}");
        assert!(mime.lines().all(|l| l.len() <= 998), "no line exceeds the SMTP limit");
        assert!(mime.lines().filter(|l| l.starts_with("Subject:")).all(|l| l.len() <= 78), "the subject is folded");
    }

    #[test]
    fn a_text_only_email_is_a_single_part() {
        let mut email = email();
        email.html = None;
        let mime = String::from_utf8(render(&email, &[], Personal::default()).unwrap()).unwrap();
        assert!(mime.contains("Content-Type: text/plain"));
        assert!(!mime.contains("multipart"));
        assert!(!mime.contains("List-Unsubscribe"), "only emails with an unsubscribe link carry the headers");
    }

    #[test]
    fn an_unsubscribe_link_goes_in_the_list_headers_and_the_placeholder() {
        let mut email = email();
        email.headers.clear();
        email.text = Some(format!("Leave: {UNSUBSCRIBE_PLACEHOLDER}"));
        email.html = Some(format!("<a href=\"{UNSUBSCRIBE_PLACEHOLDER}\">Leave</a>"));
        let url = "https://mail.acme.dev/unsubscribe/abc.def";
        let mime = String::from_utf8(render(&email, &[], Personal { unsubscribe: Some(url), tracking: None }).unwrap())
            .unwrap();
        assert!(mime.contains(&format!("List-Unsubscribe: <{url}>\r\n")), "{mime}");
        assert!(mime.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{mime}");
        assert!(!mime.contains(UNSUBSCRIBE_PLACEHOLDER), "{mime}");
        assert_eq!(mime.matches(url).count(), 3, "{mime}");
        email.headers = vec![Header { name: "list-unsubscribe".into(), value: "<mailto:leave@acme.dev>".into() }];
        let own = String::from_utf8(render(&email, &[], Personal { unsubscribe: Some(url), tracking: None }).unwrap())
            .unwrap();
        assert!(!own.contains(&format!("<{url}>")), "the caller's own List-Unsubscribe wins: {own}");
        assert!(!own.contains("List-Unsubscribe-Post"), "{own}");
    }

    #[test]
    fn tracking_changes_the_html_part_only_and_leaves_the_unsubscribe_link_alone() {
        let mut email = email();
        email.text = Some(format!("Read https://acme.dev/post or leave: {UNSUBSCRIBE_PLACEHOLDER}"));
        email.html = Some(format!(
            "<p><a href=\"https://acme.dev/post\">Read</a> <a href=\"{UNSUBSCRIBE_PLACEHOLDER}\">Leave</a></p>"
        ));
        let links = TrackingLinks {
            base: "https://links.acme.dev".into(),
            open: true,
            click: true,
            keep: vec![],
            team: email.team_id,
            email: email.id,
            recipient: "bob@example.org".into(),
            signer: postline_core::signing::Signer::new(vec![1; 32]),
            expires_at: chrono::Utc::now() + chrono::Duration::days(1),
        };
        let url = "https://mail.acme.dev/unsubscribe/abc.def";
        let raw = render(&email, &[], Personal { unsubscribe: Some(url), tracking: Some(&links) }).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let text = parsed.body_text(0).unwrap();
        assert_eq!(text, format!("Read https://acme.dev/post or leave: {url}"), "the text part is never changed");
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains("<a href=\"https://links.acme.dev/t/c/"), "{html}");
        assert!(!html.contains("href=\"https://acme.dev/post\""), "{html}");
        assert!(html.contains(&format!("<a href=\"{url}\">Leave</a>")), "the unsubscribe link is not tracked: {html}");
        assert!(html.contains("<img src=\"https://links.acme.dev/t/o/"), "{html}");
    }
}
