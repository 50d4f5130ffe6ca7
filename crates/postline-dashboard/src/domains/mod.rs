//! The Domains pages: the team's domains with an "Add domain" form ([`list`]), one
//! domain with its status explained, the DNS records to publish, what is wrong with
//! each failed record ([`diagnosis`]) and its settings ([`detail`]), and the forms
//! that verify, change and delete it ([`actions`]). Everything goes through the same
//! core use cases as `/domains` in the API, with the same JSON bodies, so the two
//! cannot disagree on a rule.

mod actions;
mod detail;
mod diagnosis;
mod list;

pub use actions::{remove, update, verify};
pub use detail::detail;
pub use list::{add, list};

use maud::{Markup, html};
use postline_core::domains::{DomainStatus, RecordStatus};

/// A status in words; the badge's colour only repeats it.
fn status_words(status: DomainStatus) -> &'static str {
    match status {
        DomainStatus::NotStarted => "not started",
        DomainStatus::Pending => "pending",
        DomainStatus::Verified => "verified",
        DomainStatus::PartiallyVerified => "partially verified",
        DomainStatus::TemporaryFailure => "temporary failure",
        DomainStatus::Failed => "failed",
    }
}

/// What a status means (the reference's "Understand a domain status").
fn status_explanation(status: DomainStatus) -> &'static str {
    match status {
        DomainStatus::NotStarted => {
            "You have added this domain but not yet clicked “Verify DNS records”. Publish the records below first."
        }
        DomainStatus::Pending => {
            "Postline is still trying to verify the domain. It keeps checking for 72 hours after verification starts."
        }
        DomainStatus::Verified => "The domain is verified: you can send email from it.",
        DomainStatus::PartiallyVerified => {
            "The sending records are verified, so you can send from this domain; the receiving MX record is not yet."
        }
        DomainStatus::TemporaryFailure => {
            "This domain was verified, but a recent check could not find its DNS records. Postline rechecks for 72 \
             hours: if the records are found it becomes verified again, otherwise it fails. Sending continues meanwhile."
        }
        DomainStatus::Failed => {
            "Postline could not detect the DNS records within 72 hours. Fix the records below, then restart verification."
        }
    }
}

fn status_tone(status: DomainStatus) -> &'static str {
    match status {
        DomainStatus::Verified => "good",
        DomainStatus::PartiallyVerified | DomainStatus::TemporaryFailure | DomainStatus::Pending => "warn",
        DomainStatus::Failed => "bad",
        DomainStatus::NotStarted => "neutral",
    }
}

fn badge(tone: &str, words: &str) -> Markup {
    html! { span class={ "badge " (tone) } { (words) } }
}

fn status_badge(status: DomainStatus) -> Markup {
    badge(status_tone(status), status_words(status))
}

fn record_badge(status: RecordStatus) -> Markup {
    let tone = match status {
        RecordStatus::Verified => "good",
        RecordStatus::Pending | RecordStatus::TemporaryFailure => "warn",
        RecordStatus::Failed => "bad",
        RecordStatus::NotStarted => "neutral",
    };
    badge(tone, &status.as_str().replace('_', " "))
}

/// A region with where it is, for the regions the reference names.
fn region_label(name: &str) -> String {
    let place = match name {
        "us-east-1" => "North Virginia",
        "eu-west-1" => "Ireland",
        "sa-east-1" => "São Paulo",
        "ap-northeast-1" => "Tokyo",
        _ => return name.to_string(),
    };
    format!("{place} ({name})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_the_reference_names_say_where_they_are() {
        assert_eq!(region_label("eu-west-1"), "Ireland (eu-west-1)");
        assert_eq!(region_label("on-prem-2"), "on-prem-2");
    }

    #[test]
    fn every_status_reads_as_words_with_its_own_explanation() {
        use DomainStatus::*;
        let all = [NotStarted, Pending, Verified, PartiallyVerified, TemporaryFailure, Failed];
        for status in all {
            assert!(!status_words(status).contains('_'));
            assert!(status_badge(status).into_string().contains(status_words(status)));
        }
        let mut explanations: Vec<_> = all.iter().map(|s| status_explanation(*s)).collect();
        explanations.dedup();
        assert_eq!(explanations.len(), all.len());
    }
}
