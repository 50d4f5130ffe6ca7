//! Finding a report's parts in mail-parser's flat list of a message's MIME parts.
//!
//! mail-parser (0.11) keeps only `message/rfc822` and `message/global` as nested
//! messages; `message/delivery-status`, `message/feedback-report` and the other
//! `message/*` types arrive as decoded binary, `text/rfc822-headers` as text.
//! [`body_text`] accepts every form, so a change there degrades nothing.

use std::borrow::Cow;

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use super::{OriginalMessage, original};

/// A status or feedback part is read up to this many bytes; beyond are only
/// recipients past [`super::MAX_RECIPIENTS`] or padding.
const MAX_REPORT_PART: usize = 1 << 20;

/// Whether a part's content type is `ctype/subtype` (in any case).
pub(super) fn is_type(part: &MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|content_type| {
        content_type.ctype().eq_ignore_ascii_case(ctype)
            && content_type.subtype().is_some_and(|sub| sub.eq_ignore_ascii_case(subtype))
    })
}

/// The index of the first part of one of `types` (`("message", "delivery-status")`).
pub(super) fn find(message: &Message<'_>, types: &[(&str, &str)]) -> Option<usize> {
    message.parts.iter().position(|part| types.iter().any(|(ctype, subtype)| is_type(part, ctype, subtype)))
}

/// A part's decoded body as text, cut to [`MAX_REPORT_PART`] bytes.
pub(super) fn body_text<'a>(message: &'a Message<'_>, part: &'a MessagePart<'_>) -> Cow<'a, str> {
    let bytes: &[u8] = match &part.body {
        PartType::Text(text) | PartType::Html(text) => text.as_bytes(),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes,
        // Parsed as a message after all: the undecoded body is still the block.
        // Offsets count from the start of the whole buffer, not of `raw_message()`.
        PartType::Message(_) | PartType::Multipart(_) => {
            message.raw_message.get(part.offset_body as usize..part.offset_end as usize).unwrap_or_default()
        }
    };
    String::from_utf8_lossy(bytes.get(..MAX_REPORT_PART).unwrap_or(bytes))
}

/// The returned original: the first enclosed message or header block after
/// part `after` (the status or feedback part), else anywhere in the message.
pub(super) fn original_after(message: &Message<'_>, after: usize) -> Option<OriginalMessage> {
    let later = message.parts.iter().skip(after.saturating_add(1));
    later.chain(message.parts.iter().take(after)).find_map(|part| enclosed_original(message, part))
}

fn enclosed_original(message: &Message<'_>, part: &MessagePart<'_>) -> Option<OriginalMessage> {
    const HEADER_TYPES: [(&str, &str); 4] = [
        ("text", "rfc822-headers"),
        ("message", "rfc822-headers"),
        ("message", "global-headers"),
        ("text", "global-headers"),
    ];
    match &part.body {
        PartType::Message(nested) => Some(original::from_message(nested)),
        _ if HEADER_TYPES.iter().any(|(ctype, subtype)| is_type(part, ctype, subtype))
            || is_type(part, "message", "rfc822")
            || is_type(part, "message", "global") =>
        {
            original::from_headers(body_text(message, part).as_bytes())
        }
        _ => None,
    }
}

/// Whether the message is a read receipt or another MDN (RFC 8098), which
/// carries a `Final-Recipient` too but reports no delivery.
pub(super) fn is_disposition_notification(message: &Message<'_>) -> bool {
    report_type_is(message, "disposition-notification")
        || find(message, &[("message", "disposition-notification"), ("message", "global-disposition-notification")])
            .is_some()
}

/// Whether a `multipart/report` in the message declares `report-type=wanted`;
/// mail-parser has already taken off any quotes.
pub(super) fn report_type_is(message: &Message<'_>, wanted: &str) -> bool {
    message.parts.iter().any(|part| {
        is_type(part, "multipart", "report")
            && part
                .content_type()
                .and_then(|content_type| content_type.attribute("report-type"))
                .is_some_and(|report_type| report_type.trim().eq_ignore_ascii_case(wanted))
    })
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;

    use super::*;

    /// What each report part becomes in mail-parser 0.11, which [`body_text`] and
    /// [`original_after`] rely on; a new mail-parser that changes it fails here.
    #[test]
    fn mail_parser_keeps_report_parts_as_binary_or_text_and_rfc822_as_a_message() {
        let cases: [(&[u8], &str, &str, &str); 5] = [
            (include_bytes!("../../tests/samples/gmail_dsn_5_1_1.eml"), "message", "delivery-status", "binary"),
            (include_bytes!("../../tests/samples/gmail_dsn_5_1_1.eml"), "message", "rfc822", "message"),
            (include_bytes!("../../tests/samples/global_dsn_rfc6533.eml"), "message", "global-headers", "binary"),
            (include_bytes!("../../tests/samples/postfix_dsn_headers_only.eml"), "text", "rfc822-headers", "text"),
            (include_bytes!("../../tests/samples/yahoo_arf_abuse.eml"), "message", "feedback-report", "binary"),
        ];
        for (raw, ctype, subtype, expected) in cases {
            let message = MessageParser::new().parse(raw).expect("a message");
            let index = find(&message, &[(ctype, subtype)]).expect("the part");
            let part = &message.parts[index];
            assert_eq!(kind(&part.body), expected, "{ctype}/{subtype}");
            assert!(!body_text(&message, part).trim().is_empty(), "{ctype}/{subtype} has a body");
        }
    }

    fn kind(body: &PartType<'_>) -> &'static str {
        match body {
            PartType::Binary(_) | PartType::InlineBinary(_) => "binary",
            PartType::Text(_) | PartType::Html(_) => "text",
            PartType::Message(_) => "message",
            PartType::Multipart(_) => "multipart",
        }
    }
}
