//! The message a report is about, as returned inside it: a whole message
//! (`message/rfc822`, `message/global`), only its headers (`text/rfc822-headers`,
//! `message/global-headers`), or headers quoted in a bounce's prose.
//!
//! What callers need from it is how to find the message they sent: its
//! Message-ID above all, then To and Subject, and every header field for
//! provider-specific ones (`X-HmXmrOriginalRecipient`, a tracking id).

use mail_parser::{Message, MessageParser};

use super::{MAX_HEADERS, OriginalMessage, fields};

/// At most this many `To` addresses are kept.
const MAX_TO: usize = 100;

/// The original from a parsed (nested) message.
pub(super) fn from_message(message: &Message<'_>) -> OriginalMessage {
    // The whole buffer: header offsets count from its start, also for nested messages.
    let raw: &[u8] = &message.raw_message;
    let headers = message
        .headers()
        .iter()
        .take(MAX_HEADERS)
        .map(|header| {
            // The raw value, so that nothing mail-parser chose not to keep is lost.
            let value = raw.get(header.offset_start as usize..header.offset_end as usize).unwrap_or_default();
            (fields::capped(header.name.as_str()), unfold(&String::from_utf8_lossy(value)))
        })
        .collect::<Vec<_>>();
    let message_id = message
        .message_id()
        .map(str::to_owned)
        .or_else(|| raw_header(&headers, "Message-ID").map(str::to_owned))
        .and_then(|id| without_brackets(&id));
    let to = message
        .to()
        .into_iter()
        .flat_map(|to| to.iter())
        .filter_map(|addr| addr.address())
        .map(|address| fields::capped(address.trim()))
        .filter(|address| !address.is_empty())
        .take(MAX_TO)
        .collect();
    let subject = message.subject().and_then(fields::text);
    OriginalMessage { message_id, to, subject, headers }
}

/// The original from a block of header lines; `None` when it holds none.
pub(super) fn from_headers(block: &[u8]) -> Option<OriginalMessage> {
    // Leading blank lines would read as an empty header section.
    let start = block.iter().position(|byte| !byte.is_ascii_whitespace())?;
    let message = MessageParser::new().parse_headers(block.get(start..)?)?;
    Some(from_message(&message)).filter(|original| !original.headers.is_empty())
}

fn raw_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(field, _)| field.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
}

/// `<id@host>` → `id@host`; `None` when nothing is left.
fn without_brackets(id: &str) -> Option<String> {
    let id = id.trim();
    let id = id.strip_prefix('<').unwrap_or(id);
    let id = id.split('>').next().unwrap_or(id).trim();
    Some(fields::capped(id)).filter(|id| !id.is_empty())
}

/// A folded header value on one line, trimmed and capped.
fn unfold(value: &str) -> String {
    let mut unfolded = String::new();
    for line in value.split('\n').map(|line| line.trim()).filter(|line| !line.is_empty()) {
        if !unfolded.is_empty() {
            fields::push_capped(&mut unfolded, " ");
        }
        fields::push_capped(&mut unfolded, line);
    }
    unfolded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_block_gives_the_id_without_brackets_and_unfolded_values() {
        let block = b"\r\n\r\nTo: Jane <jane@example.com>, bob@example.com\r\nSubject: Your\r\n receipt\r\n\
                      Message-ID: <0190a1b2@send.acme.dev>\r\nX-Tracking: abc\r\n";
        let original = from_headers(block).expect("headers");
        assert_eq!(original.message_id.as_deref(), Some("0190a1b2@send.acme.dev"));
        assert_eq!(original.to, ["jane@example.com", "bob@example.com"]);
        assert_eq!(original.subject.as_deref(), Some("Your receipt"));
        assert_eq!(original.header("x-tracking"), Some("abc"));
        assert_eq!(original.header("Subject"), Some("Your receipt"));
    }

    #[test]
    fn a_block_without_headers_is_no_original() {
        assert_eq!(from_headers(b"\r\n \r\n"), None);
        assert_eq!(from_headers(b""), None);
    }
}
