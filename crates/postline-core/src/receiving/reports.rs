//! Delivery reports and complaints about emails Postline sent, arriving after the
//! recipient's server had accepted them: a DSN (RFC 3464) saying a copy bounced or is
//! delayed, or a feedback-loop report (RFC 5965) saying the recipient marked it as
//! spam. Each is tied to its email by the bounce address it came to (the routing
//! already checked the token), and to its recipient by the report's own fields.
//!
//! A bounce is `email.bounced` in the contract's shape (hard ones put the address on
//! the suppression list), a delay `email.delivery_delayed`, a complaint
//! `email.complained` plus suppression (reason: complaint). A report repeated by a
//! retrying server records nothing the second time.

use serde_json::json;

use crate::{
    Postline, Result,
    clock::Timestamp,
    delivery::{
        bounce::{BounceType, Classification, classify},
        suppression::{Reason, Suppression, normalize},
    },
    emails::{EmailEvent, EventKind},
    ids::{EmailId, SuppressionId, TeamId},
};

/// One recipient's line of a delivery report, as the adapter read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    /// The address the report names (final recipient, else original recipient).
    pub recipient: Option<String>,
    pub original_recipient: Option<String>,
    /// `false` for a delay (the reporting server keeps trying).
    pub failed: bool,
    /// Enhanced status code, e.g. `5.1.1`.
    pub status: Option<String>,
    /// The remote diagnostic, e.g. `smtp; 550 5.1.1 user unknown`.
    pub diagnostic: Option<String>,
    pub reporting_mta: Option<String>,
    /// Whether the report had RFC 3464 structure (else it was read by rules).
    pub structured: bool,
}

/// A complaint (feedback-loop report), as the adapter read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    /// `abuse`, `fraud`, `virus`, `other`, …
    pub feedback_type: String,
    /// The complaining recipient, when the report names one (many redact it).
    pub recipient: Option<String>,
    pub user_agent: Option<String>,
    pub arrival_date: Option<String>,
}

/// What the store must write for one report: events (each skipped if the email
/// already has one of the same kind for the same recipient, for bounces and
/// complaints) and suppression entries.
#[derive(Debug, Clone)]
pub struct ReportEffects {
    pub events: Vec<EmailEvent>,
    pub suppressions: Vec<Suppression>,
}

impl Postline {
    /// Records a delivery report's failures and delays for `email_id`. Returns how
    /// many events were written.
    pub async fn record_delivery_report(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        recipients: &[RecipientReport],
    ) -> Result<usize> {
        let Some(email) = self.store.get_email(team_id, email_id).await? else { return Ok(0) };
        let sent_to = recipients_of(&email);
        let now = self.clock.now();
        let mut effects = ReportEffects { events: Vec::new(), suppressions: Vec::new() };
        for line in recipients {
            let Some(recipient) = match_recipient(&sent_to, [&line.recipient, &line.original_recipient]) else {
                continue;
            };
            let (event, suppress) = report_event(email_id, &recipient, line, now);
            effects.events.push(event);
            if suppress {
                effects.suppressions.push(suppression(team_id, &recipient, Reason::PreviousBounce, email_id, now));
            }
        }
        if effects.events.is_empty() {
            return Ok(0);
        }
        self.store.record_report(team_id, email_id, &effects).await
    }

    /// Records a complaint about `email_id`: `email.complained` and the recipient on
    /// the suppression list. Returns whether anything new was written.
    pub async fn record_complaint(&self, team_id: TeamId, email_id: EmailId, complaint: &Complaint) -> Result<bool> {
        let Some(email) = self.store.get_email(team_id, email_id).await? else { return Ok(false) };
        let sent_to = recipients_of(&email);
        let Some(recipient) = match_recipient(&sent_to, [&complaint.recipient, &None]) else { return Ok(false) };
        let now = self.clock.now();
        let mut event = EmailEvent::new(email_id, EventKind::Complained, Some(recipient.clone()), now);
        event.data = json!({"complaint": {
            "feedbackType": complaint.feedback_type,
            "userAgent": complaint.user_agent,
            "arrivalDate": complaint.arrival_date,
            "recipient": recipient,
        }});
        let effects = ReportEffects {
            events: vec![event],
            suppressions: vec![suppression(team_id, &recipient, Reason::PreviousComplaint, email_id, now)],
        };
        Ok(self.store.record_report(team_id, email_id, &effects).await? > 0)
    }
}

/// Every address the email went to, normalised.
fn recipients_of(email: &crate::emails::Email) -> Vec<String> {
    email.to.iter().chain(&email.cc).chain(&email.bcc).map(|a| normalize(a)).collect()
}

/// The email's recipient a report line is about: an address the report names if the
/// email was sent to it, else — when the email had exactly one recipient, as most
/// do — that one (reports from forwarding hosts name the final mailbox, and
/// complaint reports often redact the address).
fn match_recipient(sent_to: &[String], named: [&Option<String>; 2]) -> Option<String> {
    let named: Vec<String> = named.into_iter().flatten().map(|a| normalize(a)).collect();
    if let Some(found) = named.iter().find(|a| sent_to.contains(a)) {
        return Some(found.clone());
    }
    match sent_to {
        [only] => Some(only.clone()),
        _ => None,
    }
}

fn suppression(team_id: TeamId, address: &str, reason: Reason, email_id: EmailId, now: Timestamp) -> Suppression {
    Suppression {
        id: SuppressionId::new(),
        team_id,
        email: normalize(address),
        reason,
        source_email_id: Some(email_id),
        created_at: now,
    }
}

/// The event for one report line, and whether the address is to be suppressed.
fn report_event(email_id: EmailId, recipient: &str, line: &RecipientReport, now: Timestamp) -> (EmailEvent, bool) {
    let diagnostic = line.diagnostic.clone().unwrap_or_else(|| line.status.clone().unwrap_or_default());
    if !line.failed {
        let mut event = EmailEvent::new(email_id, EventKind::DeliveryDelayed, Some(recipient.to_string()), now);
        event.data = json!({"delivery_delayed": {
            "reason": diagnostic,
            "status": line.status,
            "reporting_mta": line.reporting_mta,
        }});
        return (event, false);
    }
    let class = classify_report(line);
    let mut event = EmailEvent::new(email_id, EventKind::Bounced, Some(recipient.to_string()), now);
    let by = line.reporting_mta.as_deref().unwrap_or("the recipient's mail system");
    event.data = json!({"bounce": {
        "type": class.kind.as_str(),
        "subType": class.sub_type.as_str(),
        "message": format!("The message was accepted, then bounced by {by}: {diagnostic}"),
        "diagnosticCode": [diagnostic],
        "recipient": recipient,
        "asynchronous": true,
    }});
    (event, class.is_hard())
}

/// Classifies a failed line like an SMTP rejection: the reply code from the
/// diagnostic (`smtp; 550 …`), else one implied by the status class, with the
/// enhanced status in front of the text. A `4.x.x` failure (the reporting server
/// gave up retrying) is transient whatever its subject.
pub fn classify_report(line: &RecipientReport) -> Classification {
    let diagnostic = line.diagnostic.as_deref().unwrap_or_default();
    let text = match diagnostic.split_once(';') {
        // `smtp; 550 …`, `X-Postfix; …`: the diagnostic's type comes first.
        Some((kind, rest)) if !kind.contains(' ') => rest,
        _ => diagnostic,
    }
    .trim();
    let (code, rest) = match text.get(..3).and_then(|c| c.parse::<u16>().ok()) {
        Some(code) => (Some(code), text[3..].trim_start_matches(['-', ' '])),
        None => (None, text),
    };
    let status = line.status.as_deref().unwrap_or_default();
    let with_status = if crate::delivery::bounce::enhanced_code(rest).is_some() || status.is_empty() {
        rest.to_string()
    } else {
        format!("{status} {rest}")
    };
    let transient = status.starts_with('4') || code.is_some_and(|c| (400..500).contains(&c));
    let code = code.filter(|c| (500..600).contains(c)).unwrap_or(550);
    let mut class = classify(code, &with_status);
    if transient {
        class.kind = BounceType::Transient;
    }
    class
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::bounce::BounceSubType;

    fn failed(status: &str, diagnostic: &str) -> RecipientReport {
        RecipientReport {
            recipient: Some("a@b.c".into()),
            original_recipient: None,
            failed: true,
            status: Some(status.into()),
            diagnostic: (!diagnostic.is_empty()).then(|| diagnostic.to_string()),
            reporting_mta: None,
            structured: true,
        }
    }

    #[test]
    fn report_lines_classify_like_rejections() {
        let unknown = classify_report(&failed("5.1.1", "smtp; 550 5.1.1 <a@b.c>: user unknown"));
        assert_eq!((unknown.kind, unknown.sub_type), (BounceType::Permanent, BounceSubType::NoEmail));
        assert!(unknown.is_hard());
        let status_only = classify_report(&failed("5.1.1", ""));
        assert_eq!(status_only.sub_type, BounceSubType::NoEmail, "the status alone is enough");
        let full = classify_report(&failed("5.2.2", "smtp; 552 mailbox full"));
        assert_eq!(full.sub_type, BounceSubType::MailboxFull);
        assert!(!full.is_hard());
        let gave_up = classify_report(&failed("4.4.7", "smtp; 421 timed out"));
        assert_eq!(gave_up.kind, BounceType::Transient);
        assert!(!gave_up.is_hard(), "an expired retry says nothing bad about the address");
        let spam = classify_report(&failed("5.7.1", "X-Postfix; 554 5.7.1 rejected as spam"));
        assert_eq!(spam.sub_type, BounceSubType::ContentRejected);
    }

    #[test]
    fn recipients_match_by_address_or_by_being_the_only_one() {
        let one = vec!["x@y.z".to_string()];
        let two = vec!["x@y.z".to_string(), "w@y.z".to_string()];
        assert_eq!(match_recipient(&two, [&Some("W@Y.Z".into()), &None]), Some("w@y.z".into()));
        assert_eq!(match_recipient(&one, [&Some("alias@elsewhere".into()), &None]), Some("x@y.z".into()));
        assert_eq!(match_recipient(&two, [&Some("alias@elsewhere".into()), &None]), None);
        assert_eq!(match_recipient(&two, [&None, &Some("x@y.z".into())]), Some("x@y.z".into()));
    }
}
