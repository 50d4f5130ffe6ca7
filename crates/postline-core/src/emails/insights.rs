//! Deliverability insights: advice shown with each email, from what it is and how
//! its domain is set up (the reference's "Deliverability Insights").
//!
//! - Gmail clips messages over 102 KB: the rest is behind "View entire message", and
//!   an open pixel placed after the cut is never loaded.
//! - Open and click tracking on transactional email (anything that is not a
//!   broadcast) looks promotional to inbox providers and can cost inbox placement.
//! - An HTML email without a plain-text part scores worse with spam filters and
//!   cannot be read in text-only clients.

use serde::Serialize;

use super::Email;
use crate::domains::Domain;

/// Gmail's clipping threshold for the message body.
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// One piece of advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Insight {
    /// Stable identifier: `gmail_clipping`, `tracking_on_transactional`, `missing_text_part`.
    pub name: &'static str,
    /// `warning` or `suggestion`.
    pub severity: &'static str,
    pub message: String,
}

/// The insights for an email sent from `domain` (when it is a domain of the team).
/// Attachments do not count towards clipping (Gmail clips the body).
pub fn insights(email: &Email, domain: Option<&Domain>) -> Vec<Insight> {
    let mut found = Vec::new();
    let body_bytes = email.html.as_ref().map_or(0, String::len) + email.text.as_ref().map_or(0, String::len);
    if email.html.as_ref().is_some_and(|h| h.len() > GMAIL_CLIP_BYTES) {
        found.push(Insight {
            name: "gmail_clipping",
            severity: "warning",
            message: format!(
                "The HTML is {} KB; Gmail clips messages over 102 KB, hiding the rest (and any open-tracking pixel) \
                 behind \"View entire message\". Trim the markup or move content to a web page.",
                body_bytes.div_ceil(1024)
            ),
        });
    }
    if email.broadcast.is_none()
        && let Some(domain) = domain
        && (domain.open_tracking || domain.click_tracking)
    {
        found.push(Insight {
            name: "tracking_on_transactional",
            severity: "suggestion",
            message: format!(
                "Open or click tracking is on for {}. Inbox providers read tracking as a sign of marketing mail; \
                 turn it off for transactional email to protect inbox placement.",
                domain.name
            ),
        });
    }
    if email.html.is_some() && email.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
        found.push(Insight {
            name: "missing_text_part",
            severity: "suggestion",
            message: "The email has no plain-text part. Add `text`: spam filters favour emails with both, and some \
                      readers only show text."
                .into(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        emails::EventKind,
        ids::{EmailId, TeamId},
    };

    fn email(html: Option<String>, text: Option<&str>) -> Email {
        Email {
            id: EmailId::new(),
            team_id: TeamId::new(),
            from: "a@acme.dev".into(),
            to: vec!["b@example.org".into()],
            cc: vec![],
            bcc: vec![],
            reply_to: vec![],
            subject: "x".into(),
            html,
            text: text.map(String::from),
            headers: vec![],
            tags: vec![],
            topic_id: None,
            message_id: "<x@acme.dev>".into(),
            scheduled_at: None,
            created_at: chrono::Utc::now(),
            last_event: EventKind::Queued,
            broadcast: None,
        }
    }

    fn names(found: &[Insight]) -> Vec<&str> {
        found.iter().map(|i| i.name).collect()
    }

    #[test]
    fn a_small_email_with_both_parts_and_no_tracking_has_none() {
        assert!(insights(&email(Some("<p>x</p>".into()), Some("x")), None).is_empty());
        assert!(insights(&email(None, Some("x")), None).is_empty(), "text-only needs no text advice");
    }

    #[test]
    fn large_html_and_a_missing_text_part_are_flagged() {
        let big = format!("<p>{}</p>", "x".repeat(GMAIL_CLIP_BYTES));
        let found = insights(&email(Some(big), None), None);
        assert_eq!(names(&found), ["gmail_clipping", "missing_text_part"]);
        assert!(found[0].message.contains("103 KB"), "{}", found[0].message);
        let at_limit = "x".repeat(GMAIL_CLIP_BYTES);
        assert!(insights(&email(Some(at_limit), Some("x")), None).is_empty(), "102 KB exactly is not clipped");
    }
}
