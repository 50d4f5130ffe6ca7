//! Bounces and complaints as providers send them (`tests/samples/`), read by
//! `reports::parse_report`; then properties that hold for any input.

use postline_inbound::reports::{
    Action, DeliveryReport, FeedbackReport, MAX_FIELD_LEN, MAX_HEADERS, MAX_RECIPIENTS, OriginalMessage, Report,
    parse_report, parse_report_from,
};
use proptest::prelude::*;

const SAMPLES: [&str; 22] = [
    "gmail_dsn_5_1_1",
    "outlook_dsn_5_1_10",
    "yahoo_failure_notice",
    "postfix_dsn_headers_only",
    "delayed_dsn_4_4_1",
    "mailbox_full_dsn_5_2_2",
    "two_recipients_dsn",
    "global_dsn_rfc6533",
    "qmail",
    "exim_failed",
    "exim_delayed",
    "exchange_ndr",
    "gmail_legacy_failure",
    "postfix_plain_two_recipients",
    "yahoo_arf_abuse",
    "microsoft_jmrp_arf",
    "microsoft_jmrp_legacy",
    "mailru_arf_headers",
    "arf_redacted_rcpt",
    "out_of_office",
    "ordinary_reply",
    "read_receipt_mdn",
];

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/samples/{name}.eml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn delivery(name: &str) -> DeliveryReport {
    match parse_report(&sample(name)) {
        Some(Report::Delivery(report)) => report,
        other => panic!("{name}: expected a delivery report, got {other:?}"),
    }
}

fn feedback(name: &str) -> FeedbackReport {
    match parse_report(&sample(name)) {
        Some(Report::Feedback(report)) => report,
        other => panic!("{name}: expected a feedback report, got {other:?}"),
    }
}

fn original_id(original: Option<&OriginalMessage>) -> Option<&str> {
    original.and_then(|original| original.message_id.as_deref())
}

/// Asserts the one recipient of a report: address, action, status, code, and
/// the start of the diagnostic.
fn assert_only_recipient(
    report: &DeliveryReport,
    address: &str,
    action: Action,
    status: Option<&str>,
    code: Option<u16>,
    diagnostic: &str,
) {
    let [recipient] = report.recipients.as_slice() else { panic!("one recipient: {report:#?}") };
    assert_eq!(recipient.recipient.as_deref(), Some(address));
    assert_eq!(recipient.action, action);
    assert_eq!(recipient.status.as_deref(), status);
    assert_eq!(recipient.smtp_code, code);
    let text = recipient.diagnostic.as_deref().unwrap_or_default();
    assert!(text.starts_with(diagnostic), "diagnostic {text:?} starts with {diagnostic:?}");
}

#[test]
fn gmail_hard_bounce_names_the_recipient_and_unfolds_the_diagnostic() {
    let report = delivery("gmail_dsn_5_1_1");
    assert!(report.structured);
    assert_eq!(report.reporting_mta.as_deref(), Some("googlemail.com"));
    assert_eq!(report.arrival_date.as_deref(), Some("Tue, 02 Jul 2024 09:14:07 -0700"));
    assert_only_recipient(
        &report,
        "nobody.here@gmail.com",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double",
    );
    assert_eq!(report.recipients[0].remote_mta.as_deref(), Some("gmail-smtp-in.l.google.com"));
    let original = report.original.as_ref().expect("the returned message");
    assert_eq!(original.message_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-000000000001@send.acme.dev"));
    assert_eq!(original.to, ["nobody.here@gmail.com"]);
    assert_eq!(original.subject.as_deref(), Some("Your receipt from Acme"));
    assert!(original.header("DKIM-Signature").is_some_and(|value| value.contains("s=postline; t=1719936847")));
}

#[test]
fn microsoft_365_bounce_keeps_its_three_digit_detail() {
    let report = delivery("outlook_dsn_5_1_10");
    assert_eq!(report.reporting_mta.as_deref(), Some("BN8PR12MB3587.namprd12.prod.outlook.com"));
    assert_only_recipient(
        &report,
        "jane.doe@contoso.com",
        Action::Failed,
        Some("5.1.10"),
        Some(550),
        "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient jane.doe@contoso.com not found",
    );
    assert_eq!(report.recipients[0].original_recipient.as_deref(), Some("jane.doe@contoso.com"));
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000002@send.acme.dev"));
}

#[test]
fn yahoo_failure_notice_is_read_from_its_wording() {
    let report = delivery("yahoo_failure_notice");
    assert!(!report.structured);
    assert_only_recipient(
        &report,
        "gone.away@yahoo.com",
        Action::Failed,
        None,
        Some(554),
        "Remote host said: 554 delivery error: dd This user doesn't have a yahoo.com account",
    );
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000003@send.acme.dev"));
}

#[test]
fn postfix_bounce_returns_only_the_headers_of_the_original() {
    let report = delivery("postfix_dsn_headers_only");
    assert_only_recipient(
        &report,
        "ghost@example.org",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "smtp; 550 5.1.1 <ghost@example.org>: Recipient address rejected: User unknown in local recipient table",
    );
    assert_eq!(report.recipients[0].remote_mta.as_deref(), Some("mx.example.org"));
    let original = report.original.as_ref().expect("the returned headers");
    assert_eq!(original.message_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-000000000004@send.acme.dev"));
    assert_eq!(original.header("x-entity-ref-id"), Some("0190a1b2-7c3d-7e4f-8a5b-000000000004"));
    assert_eq!(original.subject.as_deref(), Some("Reset your password"));
}

#[test]
fn delayed_delivery_says_until_when_it_is_retried() {
    let report = delivery("delayed_dsn_4_4_1");
    assert_only_recipient(
        &report,
        "slow@example.net",
        Action::Delayed,
        Some("4.4.1"),
        None,
        "X-Postfix; connect to mx.example.net[198.51.100.7]:25: Connection timed out",
    );
    assert_eq!(report.recipients[0].will_retry_until.as_deref(), Some("Mon, 8 Jul 2024 13:05:30 +0000"));
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000005@send.acme.dev"));
}

#[test]
fn mailbox_full_is_read_despite_lf_lines_odd_case_and_no_blank_line() {
    let report = delivery("mailbox_full_dsn_5_2_2");
    assert_eq!(report.reporting_mta.as_deref(), Some("mx1.mailhost.example"));
    assert_only_recipient(
        &report,
        "full@mailhost.example",
        Action::Failed,
        Some("5.2.2"),
        Some(552),
        "smtp; 552 5.2.2 Mailbox full: quota exceeded for this recipient",
    );
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000006@send.acme.dev"));
}

#[test]
fn each_recipient_of_a_dsn_keeps_its_own_outcome() {
    let report = delivery("two_recipients_dsn");
    assert_eq!(report.original_envelope_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-000000000007"));
    let outcomes: Vec<_> = report
        .recipients
        .iter()
        .map(|r| (r.recipient.as_deref(), r.action, r.status.as_deref(), r.remote_mta.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some("alice@example.com"), Action::Delivered, Some("2.0.0"), Some("mx.example.com")),
            (Some("bob@example.com"), Action::Failed, Some("5.1.1"), Some("mx.example.com")),
        ]
    );
    assert!(!report.recipients[0].action.is_failure() && report.recipients[1].action.is_failure());
    assert_eq!(report.recipients[1].diagnostic.as_deref(), Some("SMTP; 550 5.1.1 <bob@example.com>... User unknown"));
    let original = report.original.as_ref().expect("the returned message");
    assert_eq!(original.to, ["alice@example.com", "bob@example.com"]);
}

#[test]
fn global_dsn_keeps_utf8_addresses_and_headers() {
    let report = delivery("global_dsn_rfc6533");
    assert_eq!(report.original_envelope_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-000000000008"));
    assert_only_recipient(
        &report,
        "jürgen@bücher.example",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "smtp; 550 5.1.1 Postfach „jürgen“ unbekannt",
    );
    let original = report.original.as_ref().expect("the returned headers");
    assert_eq!(original.message_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-000000000008@send.acme.dev"));
    assert_eq!(original.subject.as_deref(), Some("Ihre Bestellung für Bücher"));
}

#[test]
fn qmail_bounce_is_read_from_its_wording_and_quoted_copy() {
    let report = delivery("qmail");
    assert!(!report.structured);
    assert_only_recipient(
        &report,
        "nobody@qmailhost.example",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "Remote host said: 550 5.1.1 <nobody@qmailhost.example>: Recipient address rejected: User unknown",
    );
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000009@send.acme.dev"));
}

#[test]
fn exim_failure_is_read_from_its_wording() {
    let report = delivery("exim_failed");
    assert!(!report.structured);
    assert_only_recipient(
        &report,
        "lost@eximhost.example",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "550 5.1.1 <lost@eximhost.example>: Recipient address rejected: User unknown in virtual mailbox table",
    );
    let original = report.original.as_ref().expect("the quoted copy");
    assert_eq!(original.message_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-00000000000a@send.acme.dev"));
    assert_eq!(original.subject.as_deref(), Some("Your trial ends soon"));
}

#[test]
fn exim_warning_is_a_delay_not_a_failure() {
    let report = delivery("exim_delayed");
    assert_only_recipient(
        &report,
        "later@slowhost.example",
        Action::Delayed,
        Some("4.7.1"),
        Some(451),
        "451 4.7.1 Greylisted, please try again later",
    );
    assert_eq!(report.original, None);
}

#[test]
fn exchange_report_takes_the_diagnostic_from_the_administrators_section() {
    let report = delivery("exchange_ndr");
    assert!(!report.structured);
    assert_only_recipient(
        &report,
        "kim.akers@fabrikam.example",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
    );
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-00000000000c@send.acme.dev"));
}

#[test]
fn old_gmail_notice_finds_the_error_below_the_address() {
    let report = delivery("gmail_legacy_failure");
    assert_only_recipient(
        &report,
        "nope@example.com",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "550 5.1.1 <nope@example.com>: Recipient address rejected: User unknown in virtual alias table",
    );
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-00000000000d@send.acme.dev"));
}

#[test]
fn postfix_without_a_dsn_part_lists_each_recipient_with_its_folded_reply() {
    let report = delivery("postfix_plain_two_recipients");
    let outcomes: Vec<_> =
        report.recipients.iter().map(|r| (r.recipient.as_deref(), r.action, r.status.as_deref())).collect();
    assert_eq!(
        outcomes,
        [
            (Some("ghost@example.org"), Action::Failed, Some("5.1.1")),
            (Some("full@example.org"), Action::Failed, Some("5.2.2"))
        ]
    );
    assert_eq!(
        report.recipients[1].diagnostic.as_deref(),
        Some(
            "host mx.example.org[203.0.113.25] said: 552 5.2.2 <full@example.org>: Mailbox full, quota exceeded \
             (in reply to RCPT TO command)"
        )
    );
}

#[test]
fn yahoo_complaint_is_abuse_with_its_envelope() {
    let report = feedback("yahoo_arf_abuse");
    assert_eq!(report.feedback_type, "abuse");
    assert_eq!(report.user_agent.as_deref(), Some("Yahoo!-Mail-Feedback/2.0"));
    assert_eq!(report.version.as_deref(), Some("0.1"));
    assert_eq!(
        report.original_mail_from.as_deref(),
        Some("bounces+0190a1b2-7c3d-7e4f-8a5b-00000000000f@send.acme.dev")
    );
    assert_eq!(report.original_rcpt_to, ["reader@yahoo.com"]);
    assert_eq!(report.arrival_date.as_deref(), Some("Sun, 07 Jul 2024 18:30:00 +0000"));
    assert_eq!(report.source_ip.as_deref(), Some("203.0.113.10"));
    assert_eq!(report.reported_domain.as_deref(), Some("send.acme.dev"));
    let original = report.original.as_ref().expect("the reported message");
    assert_eq!(original.message_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-00000000000f@send.acme.dev"));
    assert_eq!(original.header("List-Unsubscribe"), Some("<https://send.acme.dev/unsubscribe/0190a1b2>"));
}

#[test]
fn microsoft_jmrp_complaint_takes_the_recipient_from_hotmails_header() {
    let report = feedback("microsoft_jmrp_arf");
    assert_eq!(report.feedback_type, "abuse");
    assert_eq!(report.user_agent.as_deref(), Some("Microsoft JMRP/1.0"));
    assert_eq!(report.original_rcpt_to, ["reader@outlook.com"]);
    assert_eq!(report.arrival_date.as_deref(), Some("Mon, 08 Jul 2024 01:55:00 -0700"));
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000010@send.acme.dev"));
}

#[test]
fn legacy_jmrp_without_a_feedback_part_is_still_a_complaint() {
    let report = feedback("microsoft_jmrp_legacy");
    assert_eq!(report.feedback_type, "abuse");
    assert_eq!(report.user_agent, None);
    assert_eq!(report.original_rcpt_to, ["another.reader@hotmail.com"]);
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000011@send.acme.dev"));
}

#[test]
fn mail_ru_complaint_with_only_headers_lists_every_rcpt_to() {
    let report = feedback("mailru_arf_headers");
    assert_eq!(report.feedback_type, "abuse");
    assert_eq!(report.user_agent.as_deref(), Some("Mail.Ru-FBL/1.0"));
    assert_eq!(report.original_rcpt_to, ["reader@mail.ru", "reader@inbox.ru"]);
    let original = report.original.as_ref().expect("the reported headers");
    assert_eq!(original.message_id.as_deref(), Some("0190a1b2-7c3d-7e4f-8a5b-000000000012@send.acme.dev"));
    assert_eq!(original.subject.as_deref(), Some("Летняя распродажа"), "the encoded word is decoded");
}

#[test]
fn redacted_complaint_keeps_the_redaction_and_the_message_id() {
    let report = feedback("arf_redacted_rcpt");
    assert_eq!(report.feedback_type, "abuse", "lower-cased from `Abuse`");
    assert_eq!(report.original_rcpt_to, ["redacted@aol.com"]);
    assert_eq!(report.arrival_date.as_deref(), Some("Wed, 10 Jul 2024 13:55:00 -0400"));
    assert_eq!(original_id(report.original.as_ref()), Some("0190a1b2-7c3d-7e4f-8a5b-000000000013@send.acme.dev"));
}

#[test]
fn out_of_office_ordinary_mail_and_read_receipts_are_not_reports() {
    for name in ["out_of_office", "ordinary_reply", "read_receipt_mdn"] {
        assert_eq!(parse_report(&sample(name)), None, "{name}");
    }
    // Auto-replies and MDNs are sent from the null reverse path (RFC 3834, RFC 8098).
    for name in ["out_of_office", "read_receipt_mdn"] {
        assert_eq!(parse_report_from(&sample(name), Some("")), None, "{name} from the null sender");
    }
    assert_eq!(parse_report_from(&sample("ordinary_reply"), Some("sam@example.com")), None);
}

#[test]
fn a_null_sender_lets_unusual_wording_count_as_a_bounce() {
    let raw = b"From: Relay <relay@mx.example>\r\nSubject: Notice\r\n\r\n\
                <x@example.com>: 550 5.1.1 user unknown\r\n";
    assert_eq!(parse_report(raw), None);
    let Some(Report::Delivery(report)) = parse_report_from(raw, Some("")) else { panic!("a bounce") };
    assert_eq!(report.recipients[0].recipient.as_deref(), Some("x@example.com"));
    assert_eq!(report.recipients[0].status.as_deref(), Some("5.1.1"));
}

#[test]
fn a_dsn_with_an_unreadable_status_part_falls_back_to_its_wording() {
    let raw = "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\nSubject: Undelivered Mail Returned to \
               Sender\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\
               Content-Type: text/plain\r\n\r\n<ghost@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 \
               User unknown\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; \
               mx.example.org\r\n\r\nGarbled: yes\r\n--b--\r\n";
    let Some(Report::Delivery(report)) = parse_report(raw.as_bytes()) else { panic!("a bounce") };
    assert!(!report.structured, "the recipients come from the wording");
    assert_eq!(report.reporting_mta.as_deref(), Some("mx.example.org"), "the status part's fields are kept");
    assert_only_recipient(
        &report,
        "ghost@example.org",
        Action::Failed,
        Some("5.1.1"),
        Some(550),
        "host mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown",
    );
}

/// `inner` attached to a plain message as `message/rfc822`, `levels` times.
fn forwarded(inner: &[u8], levels: usize) -> Vec<u8> {
    (0..levels).fold(inner.to_vec(), |message, level| {
        let boundary = format!("fwd-{level}");
        let mut outer = format!(
            "From: desk@example.net\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n\
             Content-Type: text/plain\r\n\r\nForwarded.\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        )
        .into_bytes();
        outer.extend_from_slice(&message);
        outer.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        outer
    })
}

#[test]
fn a_forwarded_report_is_found_two_levels_down_but_not_three() {
    let complaint = sample("yahoo_arf_abuse");
    for levels in 1..=2 {
        assert!(matches!(parse_report(&forwarded(&complaint, levels)), Some(Report::Feedback(_))), "{levels} levels");
    }
    let too_deep = forwarded(&complaint, 3);
    // Three forwards plus the reported message inside the complaint: mail-parser
    // sees every level, so the cap is what stops the search.
    assert_eq!(nesting(&too_deep), 4);
    assert_eq!(parse_report(&too_deep), None);
}

/// How many `message/rfc822` levels mail-parser finds, following the first at each level.
fn nesting(raw: &[u8]) -> usize {
    fn depth(message: &mail_parser::Message<'_>) -> usize {
        let nested = message.parts.iter().find_map(|part| match &part.body {
            mail_parser::PartType::Message(nested) => Some(nested),
            _ => None,
        });
        nested.map_or(0, |nested| 1 + depth(nested))
    }
    mail_parser::MessageParser::new().parse(raw).map_or(0, |message| depth(&message))
}

#[test]
fn recipients_are_capped() {
    let groups = "Final-Recipient: rfc822; someone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n";
    let raw = format!(
        "From: MAILER-DAEMON@mx.example\r\nContent-Type: multipart/report; report-type=delivery-status; \
         boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
         {}--b--\r\n",
        groups.repeat(MAX_RECIPIENTS + 500)
    );
    let Some(Report::Delivery(report)) = parse_report(raw.as_bytes()) else { panic!("a bounce") };
    assert_eq!(report.recipients.len(), MAX_RECIPIENTS);
}

// Properties: no input makes the parser panic, and what it returns keeps its bounds.

/// Every promise the module makes about what it returns.
fn assert_invariants(report: &Report) {
    let original = match report {
        Report::Delivery(report) => {
            assert!(report.recipients.len() <= MAX_RECIPIENTS);
            for recipient in &report.recipients {
                if let Some(status) = &recipient.status {
                    assert!(is_enhanced_status(status), "status {status:?}");
                }
                let texts = [&recipient.recipient, &recipient.original_recipient, &recipient.diagnostic];
                for text in texts.into_iter().flatten() {
                    assert!(text.len() <= MAX_FIELD_LEN);
                }
            }
            report.original.as_ref()
        }
        Report::Feedback(report) => {
            assert!(report.original_rcpt_to.len() <= MAX_RECIPIENTS);
            assert!(!report.feedback_type.is_empty() && report.feedback_type == report.feedback_type.to_lowercase());
            report.original.as_ref()
        }
    };
    if let Some(original) = original {
        assert!(original.headers.len() <= MAX_HEADERS);
        assert!(
            original.headers.iter().all(|(name, value)| name.len() <= MAX_FIELD_LEN && value.len() <= MAX_FIELD_LEN)
        );
        assert!(original.message_id.as_ref().is_none_or(|id| !id.starts_with('<') && !id.ends_with('>')));
    }
}

/// `c.s.d`: class 2, 4 or 5, then one to three digits twice.
fn is_enhanced_status(status: &str) -> bool {
    let parts: Vec<&str> = status.split('.').collect();
    let digits = |part: &str, max: usize| (1..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
    matches!(parts.as_slice(), [class, subject, detail]
        if matches!(*class, "2" | "4" | "5") && digits(subject, 3) && digits(detail, 3))
}

static SAMPLE_BYTES: std::sync::LazyLock<Vec<Vec<u8>>> =
    std::sync::LazyLock::new(|| SAMPLES.iter().map(|name| sample(name)).collect());

/// One change to a sample's bytes, at a position relative to its length.
#[derive(Debug, Clone)]
enum Edit {
    Replace(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Delete(prop::sample::Index, usize),
    Truncate(prop::sample::Index),
}

/// Bytes that matter to MIME and field parsing, to insert more often than chance would.
const TOKENS: [&str; 12] = [
    "\r\n",
    "\n\n",
    "\r\n\r\n",
    "--",
    ":",
    "(",
    "<",
    " ",
    "\r\n ",
    "Content-Type: message/rfc822\r\n\r\n",
    "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n",
    "=?utf-8?B?",
];

fn edit() -> impl Strategy<Value = Edit> {
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24),
        prop::sample::select(TOKENS.as_slice()).prop_map(|token| token.as_bytes().to_vec()),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, byte)| Edit::Replace(at, byte)),
        (any::<prop::sample::Index>(), bytes).prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<prop::sample::Index>(), 1usize..200).prop_map(|(at, len)| Edit::Delete(at, len)),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(raw: &mut Vec<u8>, edit: &Edit) {
    let at = |index: &prop::sample::Index| if raw.is_empty() { 0 } else { index.index(raw.len()) };
    match edit {
        Edit::Replace(index, byte) => {
            let position = at(index);
            if let Some(slot) = raw.get_mut(position) {
                *slot = *byte;
            }
        }
        Edit::Insert(index, bytes) => {
            let position = at(index);
            raw.splice(position..position, bytes.iter().copied());
        }
        Edit::Delete(index, len) => {
            let position = at(index);
            let end = (position + len).min(raw.len());
            raw.drain(position..end);
        }
        Edit::Truncate(index) => {
            let position = at(index);
            raw.truncate(position);
        }
    }
}

/// A DSN around a status `block`; the boundary uses `=`, which blocks never contain.
fn dsn_around(block: &str) -> Vec<u8> {
    format!(
        "From: MAILER-DAEMON@mx.example\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; \
         report-type=delivery-status; boundary=\"==report==\"\r\n\r\n--==report==\r\n\
         Content-Type: message/delivery-status\r\n\r\n{block}\r\n--==report==--\r\n"
    )
    .into_bytes()
}

const FIELD_NAMES: [&str; 12] = [
    "Reporting-MTA",
    "Original-Envelope-Id",
    "Arrival-Date",
    "Final-Recipient",
    "Original-Recipient",
    "Action",
    "Status",
    "Diagnostic-Code",
    "Remote-MTA",
    "Will-Retry-Until",
    "Last-Attempt-Date",
    "X-Actual-Recipient",
];

/// Lines of a status block: known and random names in any case, values with and
/// without types, blank lines, folds and garbage.
fn status_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        (prop::sample::select(FIELD_NAMES.as_slice()), any::<bool>()).prop_map(|(name, upper)| if upper {
            name.to_uppercase()
        } else {
            name.to_lowercase()
        }),
        "[!-9;-<>-~]{1,20}",
    ];
    let value = prop_oneof![
        "[ -<>-~]{0,60}",
        "(rfc822|dns|smtp|utf-8|x-[a-z]{1,5}); ?[ -<>-~]{0,40}",
        "[0-9]{1,2}\\.[0-9]{1,4}\\.[0-9]{1,4}( \\([ -<>-~]{0,20}\\)?)?",
        "(failed|delayed|delivered|relayed|expanded|FAILED|bogus)",
    ];
    prop_oneof![
        4 => (name, value).prop_map(|(name, value)| format!("{name}:{value}")),
        1 => Just(String::new()),
        1 => "[ \t][ -<>-~]{0,40}",
        1 => "[^\r\n=]{0,40}",
    ]
}

/// One generated recipient: address, action, status and the words of its diagnostic.
fn recipient() -> impl Strategy<Value = (String, Action, String, Vec<String>)> {
    const ACTIONS: [Action; 5] =
        [Action::Failed, Action::Delayed, Action::Delivered, Action::Relayed, Action::Expanded];
    (
        "[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\\.(com|example|dev)",
        prop::sample::select(ACTIONS.as_slice()),
        "[245]\\.[0-9]{1,3}\\.[0-9]{1,3}",
        prop::collection::vec("[!-<>-~]{1,10}", 0..12),
    )
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Failed => "failed",
        Action::Delayed => "delayed",
        Action::Delivered => "delivered",
        Action::Relayed => "relayed",
        Action::Expanded => "expanded",
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..4096)) {
        if let Some(report) = parse_report(&raw) {
            assert_invariants(&report);
        }
    }

    #[test]
    fn mutated_samples_never_panic(index in 0..SAMPLES.len(), edits in prop::collection::vec(edit(), 1..8)) {
        let mut raw = SAMPLE_BYTES[index].clone();
        for edit in &edits {
            apply(&mut raw, edit);
        }
        for reverse_path in [None, Some("")] {
            if let Some(report) = parse_report_from(&raw, reverse_path) {
                assert_invariants(&report);
            }
        }
    }

    #[test]
    fn generated_status_blocks_are_read_without_panicking(
        lines in prop::collection::vec(status_line(), 0..60),
        crlf in any::<bool>(),
    ) {
        let block = lines.join(if crlf { "\r\n" } else { "\n" });
        let report = parse_report(&dsn_around(&block));
        prop_assert!(matches!(&report, Some(Report::Delivery(dsn)) if dsn.structured), "{report:?}");
        if let Some(report) = &report {
            assert_invariants(report);
        }
    }

    #[test]
    fn generated_recipients_are_read_back(
        recipients in prop::collection::vec(recipient(), 1..6),
        blank_lines in any::<bool>(),
        crlf in any::<bool>(),
        fold_every in 2usize..6,
    ) {
        let newline = if crlf { "\r\n" } else { "\n" };
        let mut block = format!("Reporting-MTA: dns; mx.example{newline}");
        for (address, action, status, words) in &recipients {
            if blank_lines {
                block.push_str(newline);
            }
            // Fold the diagnostic every few words, as MTAs do with long replies.
            let mut diagnostic = String::from("smtp;");
            for (position, word) in words.iter().enumerate() {
                diagnostic.push_str(if position > 0 && position % fold_every == 0 { "\r\n " } else { " " });
                diagnostic.push_str(word);
            }
            let diagnostic = diagnostic.replace("\r\n", newline);
            block.push_str(&format!(
                "Final-Recipient: rfc822; {address}{newline}Action: {}{newline}Status: {status}{newline}\
                 Diagnostic-Code: {diagnostic}{newline}",
                action_name(*action)
            ));
        }
        let Some(Report::Delivery(report)) = parse_report(&dsn_around(&block)) else {
            return Err(TestCaseError::fail("not a delivery report"));
        };
        prop_assert_eq!(report.recipients.len(), recipients.len());
        for (read, (address, action, status, words)) in report.recipients.iter().zip(&recipients) {
            prop_assert_eq!(read.recipient.as_deref(), Some(address.as_str()));
            prop_assert_eq!(read.action, *action);
            prop_assert_eq!(read.status.as_deref(), Some(status.as_str()));
            let expected = std::iter::once("smtp;").chain(words.iter().map(String::as_str)).collect::<Vec<_>>();
            let diagnostic = read.diagnostic.as_deref().unwrap_or_default();
            prop_assert_eq!(diagnostic.split_whitespace().collect::<Vec<_>>(), expected);
        }
    }
}
