//! A received message's MIME structure, read by `mail-parser`, turned into core's
//! [`ParsedMessage`]: addresses, subject, Message-ID, the first HTML and plain-text
//! bodies, every header (unfolded, in order), and every attachment or inline part
//! with its bytes — of any type (the forbidden list applies only to sending).

use mail_parser::{Address, Message, MessageParser, MimeHeaders, PartType};
use postline_core::{
    emails::Disposition,
    receiving::{MAX_RECEIVED_ATTACHMENTS, ParsedAttachment, ParsedMessage},
};

/// Parses `raw`. Never fails: a message too broken to parse keeps its raw source
/// and shows what could be read (possibly nothing).
pub fn parse(raw: &[u8]) -> ParsedMessage {
    let Some(message) = MessageParser::default().parse(raw) else { return ParsedMessage::default() };
    ParsedMessage {
        from: message.from().map(addresses).and_then(|a| a.into_iter().next()).unwrap_or_default(),
        to: message.to().map(addresses).unwrap_or_default(),
        cc: message.cc().map(addresses).unwrap_or_default(),
        bcc: message.bcc().map(addresses).unwrap_or_default(),
        reply_to: message.reply_to().map(addresses).unwrap_or_default(),
        subject: message.subject().unwrap_or_default().to_string(),
        message_id: message.message_id().map(|id| format!("<{id}>")).unwrap_or_default(),
        html: body(&message, true),
        text: body(&message, false),
        headers: headers(&message),
        attachments: attachments(&message),
    }
}

/// `Name <address>` when a display name was given, else the address.
fn addresses(address: &Address<'_>) -> Vec<String> {
    address
        .iter()
        .filter_map(|a| {
            let email = a.address.as_deref()?;
            Some(match a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(name) => format!("{name} <{email}>"),
                None => email.to_string(),
            })
        })
        .collect()
}

/// The first body part of the kind asked for, as the sender wrote it: no HTML made
/// up from a text-only message, nor text from an HTML-only one.
fn body(message: &Message<'_>, html: bool) -> Option<String> {
    let parts = if html { message.html_bodies().collect::<Vec<_>>() } else { message.text_bodies().collect() };
    parts.into_iter().find_map(|part| match (&part.body, html) {
        (PartType::Html(content), true) | (PartType::Text(content), false) => Some(content.to_string()),
        _ => None,
    })
}

fn headers(message: &Message<'_>) -> Vec<(String, String)> {
    let raw = message.raw_message();
    message
        .headers()
        .iter()
        .map(|h| {
            let value = raw.get(h.offset_start as usize..h.offset_end as usize).unwrap_or_default();
            let value = String::from_utf8_lossy(value);
            let unfolded: String =
                value.split(['\r', '\n']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
            (h.name.as_str().to_string(), unfolded)
        })
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

fn attachments(message: &Message<'_>) -> Vec<ParsedAttachment> {
    message
        .attachments()
        .take(MAX_RECEIVED_ATTACHMENTS)
        .map(|part| {
            let content_type = match part.content_type() {
                Some(t) => match t.subtype() {
                    Some(sub) => format!("{}/{}", t.ctype(), sub).to_ascii_lowercase(),
                    None => t.ctype().to_ascii_lowercase(),
                },
                None if matches!(part.body, PartType::Message(_)) => "message/rfc822".to_string(),
                None => "application/octet-stream".to_string(),
            };
            let disposition = part
                .content_disposition()
                .map(|d| if d.is_inline() { Disposition::Inline } else { Disposition::Attachment });
            ParsedAttachment {
                filename: part.attachment_name().map(str::to_string),
                content_type,
                content_id: part.content_id().map(|id| id.trim_matches(['<', '>']).to_string()),
                disposition,
                content: part.contents().to_vec(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &str = "From: \"Ada Lovelace\" <ada@example.org>\r\n\
        To: support@inbound.acme.dev, Bob <bob@inbound.acme.dev>\r\n\
        Cc: carol@example.org\r\n\
        Reply-To: replies@example.org\r\n\
        Subject: =?UTF-8?Q?Caf=C3=A9?= order\r\n\
        Message-ID: <abc123@example.org>\r\n\
        X-Custom: one\r\n  folded\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
        --outer\r\n\
        Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
        --rel\r\n\
        Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
        --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello text\r\n\
        --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <img src=\"cid:logo\"></p>\r\n\
        --alt--\r\n\
        --rel\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Disposition: inline\r\n\
        Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
        --rel--\r\n\
        --outer\r\nContent-Type: application/x-msdownload; name=\"tool.exe\"\r\n\
        Content-Disposition: attachment; filename=\"tool.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAM=\r\n\
        --outer--\r\n";

    #[test]
    fn a_multipart_message_is_read_into_its_fields() {
        let parsed = parse(MESSAGE.as_bytes());
        assert_eq!(parsed.from, "Ada Lovelace <ada@example.org>");
        assert_eq!(parsed.to, ["support@inbound.acme.dev", "Bob <bob@inbound.acme.dev>"]);
        assert_eq!(parsed.cc, ["carol@example.org"]);
        assert_eq!(parsed.reply_to, ["replies@example.org"]);
        assert_eq!(parsed.subject, "Café order");
        assert_eq!(parsed.message_id, "<abc123@example.org>");
        assert_eq!(parsed.text.as_deref().map(str::trim), Some("Hello text"));
        assert!(parsed.html.as_deref().unwrap().contains("cid:logo"));
        assert!(parsed.headers.contains(&("X-Custom".into(), "one folded".into())), "{:?}", parsed.headers);
        assert_eq!(parsed.attachments.len(), 2);
        let logo = &parsed.attachments[0];
        assert_eq!((logo.content_type.as_str(), logo.content_id.as_deref()), ("image/png", Some("logo")));
        assert_eq!(logo.disposition, Some(Disposition::Inline));
        assert_eq!(&logo.content[..4], b"\x89PNG");
        let exe = &parsed.attachments[1];
        assert_eq!(exe.filename.as_deref(), Some("tool.exe"), "forbidden types are received all the same");
        assert_eq!(exe.content, b"MZ\x90\x00\x03");
    }

    #[test]
    fn a_text_only_message_has_no_made_up_html_and_garbage_does_not_panic() {
        let parsed = parse(b"From: a@b.c\r\nSubject: hi\r\n\r\njust text\r\n");
        assert_eq!(parsed.html, None);
        assert_eq!(parsed.text.as_deref().map(str::trim), Some("just text"));
        let _ = parse(b"\x00\xff\r\n\r\n--");
        let _ = parse(b"");
    }
}
