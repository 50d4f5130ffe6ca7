//! RFC 5965 feedback reports (complaints): a `multipart/report` with a
//! `message/feedback-report` part and the reported message, whole or only its
//! headers. Yahoo's CFL, AOL, Mail.ru and Microsoft's JMRP send this form.
//!
//! Two deviations are accepted:
//! - JMRP reports carry no `Original-Rcpt-To`; the recipient is in the reported
//!   message's `X-HmXmrOriginalRecipient` header, and is taken from there.
//! - Old JMRP reports have no feedback part at all, only the reported message
//!   attached; the `X-HmXmrOriginalRecipient` header marks them, and they are
//!   read as `abuse` ([`unstructured`]). Other messages that merely forward a
//!   message (say, with "spam" in the subject) are left out: too weak a signal to
//!   suppress a recipient on.

use mail_parser::{Message, PartType};

use super::{FeedbackReport, MAX_RECIPIENTS, OriginalMessage, fields, original, parts};

/// The content types of a feedback part; `text/` for providers that mislabel it.
const FEEDBACK_TYPES: [(&str, &str); 2] = [("message", "feedback-report"), ("text", "feedback-report")];

/// Hotmail's header naming who received the reported message.
const JMRP_RECIPIENT: &str = "X-HmXmrOriginalRecipient";

/// The feedback report in this message (not in those it encloses), if it has a feedback part.
pub(super) fn parse(message: &Message<'_>) -> Option<FeedbackReport> {
    let index = parts::find(message, &FEEDBACK_TYPES)?;
    let part = message.parts.get(index)?;
    let mut report = read_feedback(&parts::body_text(message, part));
    report.original = parts::original_after(message, index);
    if report.original_rcpt_to.is_empty() {
        report.original_rcpt_to = jmrp_recipient(report.original.as_ref()).into_iter().collect();
    }
    Some(report)
}

/// A JMRP report without a feedback part: a message with an attached message
/// that Hotmail marked with its recipient.
pub(super) fn unstructured(message: &Message<'_>) -> Option<FeedbackReport> {
    let original = message.parts.iter().find_map(|part| match &part.body {
        PartType::Message(nested) => {
            Some(original::from_message(nested)).filter(|original| original.header(JMRP_RECIPIENT).is_some())
        }
        _ => None,
    })?;
    Some(FeedbackReport {
        feedback_type: "abuse".to_owned(),
        user_agent: None,
        version: None,
        original_mail_from: None,
        original_rcpt_to: jmrp_recipient(Some(&original)).into_iter().collect(),
        arrival_date: None,
        source_ip: None,
        reported_domain: None,
        original: Some(original),
    })
}

fn jmrp_recipient(original: Option<&OriginalMessage>) -> Option<String> {
    original?.header(JMRP_RECIPIENT).and_then(fields::address)
}

/// The report a feedback block describes, without the original message.
///
/// A block without `Feedback-Type` (which RFC 5965 requires) is read as `abuse`:
/// it reached a feedback-loop address, and treating a complaint as one protects
/// the sender's reputation more than ignoring it would.
pub(super) fn read_feedback(block: &str) -> FeedbackReport {
    let mut report = FeedbackReport {
        feedback_type: String::new(),
        user_agent: None,
        version: None,
        original_mail_from: None,
        original_rcpt_to: Vec::new(),
        arrival_date: None,
        source_ip: None,
        reported_domain: None,
        original: None,
    };
    for field in fields::read(block) {
        let value = field.value.as_str();
        match field.name.as_str() {
            "feedback-type" if report.feedback_type.is_empty() => {
                let kind = fields::structured(value).unwrap_or_default();
                report.feedback_type = kind.split([' ', ';']).next().unwrap_or_default().to_ascii_lowercase();
            }
            "user-agent" => fields::keep_first(&mut report.user_agent, fields::text(value)),
            "version" => fields::keep_first(&mut report.version, fields::structured(value)),
            "original-mail-from" => fields::keep_first(&mut report.original_mail_from, fields::address(value)),
            "original-rcpt-to" if report.original_rcpt_to.len() < MAX_RECIPIENTS => {
                report.original_rcpt_to.extend(fields::address(value));
            }
            // `Received-Date` is the name in drafts before RFC 5965, still sent by some.
            "arrival-date" | "received-date" => fields::keep_first(&mut report.arrival_date, fields::structured(value)),
            "source-ip" => fields::keep_first(&mut report.source_ip, fields::structured(value)),
            "reported-domain" => fields::keep_first(&mut report.reported_domain, fields::structured(value)),
            _ => {}
        }
    }
    if report.feedback_type.is_empty() {
        report.feedback_type = "abuse".to_owned();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_in_any_case_and_rcpt_to_repeats() {
        let report = read_feedback(
            "FEEDBACK-TYPE: Not-Spam\r\nuser-agent: SomeFBL/1.0\r\nOriginal-Rcpt-To: <a@x>\r\n\
             Original-Rcpt-To: b@x\r\nReceived-Date: Wed, 3 Jul 2024 (noon)\r\nSource-IP: 192.0.2.1\r\n",
        );
        assert_eq!(report.feedback_type, "not-spam");
        assert_eq!(report.user_agent.as_deref(), Some("SomeFBL/1.0"));
        assert_eq!(report.original_rcpt_to, ["a@x", "b@x"]);
        assert_eq!(report.arrival_date.as_deref(), Some("Wed, 3 Jul 2024"));
        assert_eq!(report.source_ip.as_deref(), Some("192.0.2.1"));
    }

    #[test]
    fn a_missing_feedback_type_reads_as_abuse() {
        assert_eq!(read_feedback("Version: 1\n").feedback_type, "abuse");
    }
}
