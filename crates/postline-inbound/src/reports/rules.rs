//! Bounces without an RFC 3464 status part, recognised by who sends them and
//! how they are worded: qmail ("Hi. This is the qmail-send program"), Exim ("This
//! message was created automatically by mail delivery software"), Exchange
//! ("Delivery has failed to these recipients or groups"), Yahoo ("Sorry, we were
//! unable to deliver your message"), old Gmail, and Postfix without its DSN.
//!
//! A message is a bounce when something says a mail system wrote it — a daemon
//! sender (`MAILER-DAEMON`, `postmaster`, the null reverse path), a bounce subject
//! or an MTA's own template sentence — *and* its words say a delivery failed or
//! is delayed. Out-of-office and other auto-replies from people are never
//! bounces, whatever they say. Whether a recipient failed or is only delayed is
//! decided by the reply code next to it, else by the wording ("will retry",
//! "has not yet been delivered" → delayed, unless the text also says the failure
//! is permanent). [`super::prose`] finds the recipients; only the part of the
//! text before the returned copy of the message is read.

use mail_parser::Message;

use super::{Action, DeliveryReport, MAX_RECIPIENTS, RecipientStatus, fields, original, parts, prose};

/// Only this much of the text is read: the report is at the top, and the rest
/// is the returned message.
const MAX_TEXT: usize = 64 * 1024;

const DAEMONS: [&str; 6] = ["mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster", "mail-daemon", "mdaemon"];
const DAEMON_NAMES: [&str; 3] = ["mail delivery", "mailer-daemon", "mailer daemon"];
/// How bounce subjects start ("Undeliverable: …"); a reply's "Re: " never does.
const BOUNCE_SUBJECTS: [&str; 20] = [
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "delivery notification",
    "delivery delayed",
    "delayed mail",
    "failure notice",
    "failure delivery",
    "mail delivery failed",
    "mail delivery failure",
    "mail system error",
    "message not delivered",
    "returned mail",
    "nondeliverable",
    "non-deliverable",
    "warning: message",
    "warning: could not send message",
];
/// Sentences only an MTA's bounce template contains.
const SIGNATURES: [&str; 10] = [
    "this is the qmail-send program",
    "i'm afraid i wasn't able to deliver your message",
    "this message was created automatically by mail delivery software",
    "delivery has failed to these recipients or groups",
    "sorry, we were unable to deliver your message",
    "this is the mail system at host",
    "delivery to the following recipient failed",
    "delivery to the following recipients failed",
    "the following addresses had permanent fatal errors",
    "your message wasn't delivered",
];
const PERMANENT: [&str; 12] = [
    "permanent error",
    "permanent failure",
    "permanently",
    "fatal error",
    "giving up",
    "given up",
    "not going to try again",
    "retry timeout exceeded",
    "could not be delivered",
    "couldn't be delivered",
    "unable to deliver",
    "has failed",
];
const FAILURE: [&str; 18] = [
    "undeliverable",
    "undelivered",
    "delivery failed",
    "delivery failure",
    "wasn't delivered",
    "user unknown",
    "unknown user",
    "no such user",
    "does not exist",
    "doesn't exist",
    "mailbox full",
    "mailbox is full",
    "quota exceeded",
    "over quota",
    "mailbox unavailable",
    "address rejected",
    "address not found",
    "couldn't be found",
];
const DELAY: [&str; 10] = [
    "will retry",
    "will be retried",
    "still being retried",
    "will continue to try",
    "will keep trying",
    "still trying",
    "has not yet been delivered",
    "not yet been delivered",
    "delayed",
    "deferred",
];
/// Where the returned copy of the message starts in a prose bounce.
const CUT_MARKERS: [&str; 7] = [
    "--- below this line is a copy of the message",
    "------ this is a copy of the message",
    "original message headers:",
    "----- original message -----",
    "----- the header of the original message is following",
    "------ forwarded message",
    "--- the header of the original message is following",
];
const AUTO_REPLY_SUBJECTS: [&str; 6] =
    ["automatic reply", "auto:", "autoreply", "auto-reply", "out of office", "out of the office"];

/// The bounce this message is, if it is one. `reverse_path` is the envelope
/// sender when the caller knows it (`""` for the null sender).
pub(super) fn classify(message: &Message<'_>, reverse_path: Option<&str>) -> Option<DeliveryReport> {
    let subject = message.subject().unwrap_or_default().to_ascii_lowercase();
    let text = text_of(message);
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` hold in `text`.
    let lower = text.to_ascii_lowercase();
    let cut = CUT_MARKERS.iter().filter_map(|marker| lower.find(marker)).min().unwrap_or(lower.len());
    let (section, lower_section) = (text.get(..cut).unwrap_or_default(), lower.get(..cut).unwrap_or_default());
    let says = |phrases: &[&str]| phrases.iter().any(|phrase| lower_section.contains(phrase));

    let daemon_header = from_header_is_daemon(message);
    let signature = says(&SIGNATURES);
    let bounce_subject = BOUNCE_SUBJECTS.iter().any(|prefix| subject.trim_start().starts_with(prefix));
    let from_a_mail_system = daemon_header || envelope_is_daemon(reverse_path) || signature || bounce_subject;
    let delayed = says(&DELAY) || subject.contains("delayed");
    let failed = says(&FAILURE) || says(&PERMANENT) || prose::first_failure(section).is_some();
    // RFC 3834 auto-replies come from the null sender too, so only the headers and
    // the template can overrule their auto-reply marks.
    let auto_reply = !daemon_header && !signature && is_auto_reply(message, &subject);
    if !from_a_mail_system || !(failed || delayed) || auto_reply {
        return None;
    }
    let default_action = if delayed && !says(&PERMANENT) { Action::Delayed } else { Action::Failed };

    let excluded = own_addresses(message, reverse_path);
    let mut findings = prose::recipients(section, &excluded);
    for address in failed_recipients_header(message) {
        if findings.len() < MAX_RECIPIENTS && !findings.iter().any(|f| f.address.as_deref() == Some(&address)) {
            findings.push(prose::Finding { address: Some(address), status: None, smtp_code: None, diagnostic: None });
        }
    }
    if findings.is_empty() {
        findings.extend(prose::first_failure(section));
    }
    let recipients = findings
        .into_iter()
        .map(|finding| RecipientStatus {
            action: action_of(&finding).unwrap_or(default_action),
            recipient: finding.address,
            original_recipient: None,
            status: finding.status,
            smtp_code: finding.smtp_code,
            diagnostic: finding.diagnostic,
            remote_mta: None,
            will_retry_until: None,
        })
        .collect();
    let quoted = text.get(cut..).map(|rest| rest.split_once('\n').map_or("", |(_, after)| after));
    let original =
        parts::original_after(message, 0).or_else(|| quoted.and_then(|q| original::from_headers(q.as_bytes())));
    Some(DeliveryReport {
        structured: false,
        reporting_mta: None,
        original_envelope_id: None,
        arrival_date: None,
        recipients,
        original,
    })
}

/// The message's readable text, its parts joined, cut to [`MAX_TEXT`].
fn text_of(message: &Message<'_>) -> String {
    let mut text = String::new();
    for index in 0..message.text_body_count().min(8) {
        if let Some(body) = message.body_text(index) {
            fields::push_within(&mut text, &body, MAX_TEXT);
            fields::push_within(&mut text, "\n\n", MAX_TEXT);
        }
    }
    text
}

/// Whether the envelope sender is the null path or a daemon.
fn envelope_is_daemon(reverse_path: Option<&str>) -> bool {
    reverse_path.map(str::trim).is_some_and(|path| path.is_empty() || is_daemon_address(path))
}

/// Whether the `From` header names a mail system rather than a person.
fn from_header_is_daemon(message: &Message<'_>) -> bool {
    message.from().into_iter().flat_map(|from| from.iter()).any(|addr| {
        addr.address().is_some_and(is_daemon_address)
            || addr.name().is_some_and(|name| DAEMON_NAMES.iter().any(|d| name.to_ascii_lowercase().contains(d)))
    })
}

fn is_daemon_address(address: &str) -> bool {
    let local = address.trim_start_matches('<').split('@').next().unwrap_or_default();
    DAEMONS.iter().any(|daemon| local.eq_ignore_ascii_case(daemon))
}

/// An out-of-office or other automatic reply, by its headers or subject.
fn is_auto_reply(message: &Message<'_>, subject: &str) -> bool {
    let header = |name: &str| message.header_raw(name).map(|value| value.trim().to_ascii_lowercase());
    header("Auto-Submitted").is_some_and(|value| value.starts_with("auto-replied"))
        || header("Precedence").is_some_and(|value| value == "auto_reply")
        || header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || AUTO_REPLY_SUBJECTS.iter().any(|prefix| subject.trim_start().starts_with(prefix))
}

/// The bounce's own sender and recipient, which its text may name but which
/// did not fail.
fn own_addresses(message: &Message<'_>, reverse_path: Option<&str>) -> Vec<String> {
    let headers = message.from().into_iter().chain(message.to()).flat_map(|address| address.iter());
    let mut own: Vec<String> = headers.filter_map(|addr| addr.address()).map(str::to_owned).take(32).collect();
    own.extend(reverse_path.map(str::trim).filter(|path| !path.is_empty()).map(str::to_owned));
    own
}

/// Exim's `X-Failed-Recipients` header, comma-separated.
fn failed_recipients_header(message: &Message<'_>) -> Vec<String> {
    let value = message.header_raw("X-Failed-Recipients").unwrap_or_default();
    value.split(',').filter_map(fields::address).take(MAX_RECIPIENTS).collect()
}

/// What a recipient's own reply code says; `None` without one.
fn action_of(finding: &prose::Finding) -> Option<Action> {
    let status_class = finding.status.as_deref().and_then(|status| status.chars().next()?.to_digit(10));
    match status_class.or(finding.smtp_code.map(|code| u32::from(code / 100))) {
        Some(4) => Some(Action::Delayed),
        Some(5) => Some(Action::Failed),
        _ => None,
    }
}
