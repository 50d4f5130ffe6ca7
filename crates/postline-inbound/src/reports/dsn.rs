//! RFC 3464 delivery status notifications: a `multipart/report` whose
//! `message/delivery-status` part (RFC 6533: `message/global-delivery-status`)
//! holds one group of per-message fields, then one group per recipient.
//!
//! The part is what decides, not the `report-type` parameter: some MTAs spell
//! that parameter oddly, and the status part is unambiguous. Recipient groups
//! are split on blank lines, and also where a recipient field repeats or a new
//! address follows a finished group, because some MTAs leave the blank lines out.

use mail_parser::Message;

use super::{Action, DeliveryReport, MAX_RECIPIENTS, RecipientStatus, codes, fields, parts};

/// The content types of a status part; `text/` for MTAs that mislabel it.
const STATUS_TYPES: [(&str, &str); 3] =
    [("message", "delivery-status"), ("message", "global-delivery-status"), ("text", "delivery-status")];

/// The DSN in this message (not in those it encloses), if it has a status part.
pub(super) fn parse(message: &Message<'_>) -> Option<DeliveryReport> {
    let index = parts::find(message, &STATUS_TYPES)?;
    let part = message.parts.get(index)?;
    let mut report = read_status(&parts::body_text(message, part));
    report.original = parts::original_after(message, index);
    Some(report)
}

/// The report a status block describes, without the original message.
pub(super) fn read_status(block: &str) -> DeliveryReport {
    let mut report = DeliveryReport {
        structured: true,
        reporting_mta: None,
        original_envelope_id: None,
        arrival_date: None,
        recipients: Vec::new(),
        original: None,
    };
    let mut current: Option<Group> = None;
    for field in fields::read(block) {
        let value = field.value.as_str();
        match field.name.as_str() {
            "reporting-mta" => fields::keep_first(&mut report.reporting_mta, fields::host(value)),
            "original-envelope-id" => fields::keep_first(&mut report.original_envelope_id, fields::structured(value)),
            "arrival-date" => fields::keep_first(&mut report.arrival_date, fields::structured(value)),
            name => {
                let Some(slot) = Group::slot_index(name) else { continue };
                if current.as_ref().is_none_or(|group| group.ends_before(field.group, slot)) {
                    finish(&mut report.recipients, current.take());
                    if report.recipients.len() >= MAX_RECIPIENTS {
                        return report;
                    }
                    current = Some(Group { blank_line_group: field.group, values: Default::default() });
                }
                if let Some(group) = current.as_mut() {
                    group.values[slot] = Some(field.value);
                }
            }
        }
    }
    finish(&mut report.recipients, current);
    report
}

/// The per-recipient fields of one recipient, as written.
struct Group {
    blank_line_group: usize,
    values: [Option<String>; 7],
}

impl Group {
    const FIELDS: [&str; 7] = [
        "final-recipient",
        "original-recipient",
        "action",
        "status",
        "diagnostic-code",
        "remote-mta",
        "will-retry-until",
    ];
    const FINAL: usize = 0;
    const ORIGINAL: usize = 1;
    const ACTION: usize = 2;
    const STATUS: usize = 3;
    const DIAGNOSTIC: usize = 4;
    const REMOTE_MTA: usize = 5;
    const RETRY_UNTIL: usize = 6;

    fn slot_index(name: &str) -> Option<usize> {
        Self::FIELDS.iter().position(|field| *field == name)
    }

    fn get(&self, slot: usize) -> Option<&str> {
        self.values.get(slot).and_then(Option::as_deref)
    }

    /// Whether a field in `slot` from blank-line group `group` belongs to the next recipient.
    fn ends_before(&self, group: usize, slot: usize) -> bool {
        let repeated = self.get(slot).is_some();
        let has_address = self.get(Self::FINAL).is_some() || self.get(Self::ORIGINAL).is_some();
        let has_outcome = self.get(Self::ACTION).is_some() || self.get(Self::STATUS).is_some();
        let new_address = (slot == Self::FINAL || slot == Self::ORIGINAL) && has_address && has_outcome;
        group != self.blank_line_group || repeated || new_address
    }
}

/// Adds the recipient a group describes, unless it says nothing usable.
fn finish(recipients: &mut Vec<RecipientStatus>, group: Option<Group>) {
    let Some(group) = group else { return };
    let final_recipient = group.get(Group::FINAL).and_then(fields::address);
    let original_recipient = group.get(Group::ORIGINAL).and_then(fields::address);
    let diagnostic = group.get(Group::DIAGNOSTIC).and_then(fields::text);
    let status = group
        .get(Group::STATUS)
        .and_then(codes::enhanced_status)
        .or_else(|| diagnostic.as_deref().and_then(codes::enhanced_status));
    let smtp_code = diagnostic.as_deref().and_then(codes::smtp_code);
    let action = group
        .get(Group::ACTION)
        .and_then(fields::structured)
        .and_then(|action| action.split([' ', ';', ',']).next().and_then(Action::parse))
        .or_else(|| status.as_deref().and_then(action_of_class))
        .or_else(|| smtp_code.map(|code| code.to_string()).as_deref().and_then(action_of_class));
    let recipient = final_recipient.or_else(|| original_recipient.clone());
    let Some(action) = action.filter(|_| recipient.is_some() || status.is_some() || diagnostic.is_some()) else {
        return;
    };
    recipients.push(RecipientStatus {
        recipient,
        original_recipient,
        action,
        status,
        smtp_code,
        diagnostic,
        remote_mta: group.get(Group::REMOTE_MTA).and_then(fields::host),
        will_retry_until: group.get(Group::RETRY_UNTIL).and_then(fields::structured),
    });
}

/// What a status or reply code's class says happened, for groups with no `Action`.
fn action_of_class(code: &str) -> Option<Action> {
    match code.as_bytes().first() {
        Some(b'2') => Some(Action::Delivered),
        Some(b'4') => Some(Action::Delayed),
        Some(b'5') => Some(Action::Failed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_split_even_without_blank_lines() {
        let block = "Reporting-MTA: dns; mx.example\nFinal-Recipient: rfc822; a@x\nAction: failed\n\
                     Status: 5.1.1\nOriginal-Recipient: rfc822; b@x\nFinal-Recipient: rfc822; b@x\n\
                     Action: delayed\nStatus: 4.4.1\nFinal-Recipient: rfc822; c@x\nOriginal-Recipient: rfc822; c@x\n\
                     Action: delivered\n";
        let report = read_status(block);
        let summary: Vec<_> = report
            .recipients
            .iter()
            .map(|r| (r.recipient.as_deref(), r.original_recipient.as_deref(), r.action))
            .collect();
        assert_eq!(
            summary,
            [
                (Some("a@x"), None, Action::Failed),
                (Some("b@x"), Some("b@x"), Action::Delayed),
                (Some("c@x"), Some("c@x"), Action::Delivered)
            ]
        );
        assert_eq!(report.reporting_mta.as_deref(), Some("mx.example"));
    }

    #[test]
    fn a_missing_action_is_taken_from_the_status_class_and_empty_groups_are_dropped() {
        let report = read_status("Final-Recipient: rfc822; a@x\nStatus: 4.2.2\n\nAction: failed\n\nX-Other: 1\n");
        assert_eq!(report.recipients.len(), 1);
        assert_eq!(report.recipients[0].action, Action::Delayed);
    }

    #[test]
    fn recipients_stop_at_the_cap() {
        let block = "Final-Recipient: rfc822; a@x\nAction: failed\n\n".repeat(MAX_RECIPIENTS + 5);
        assert_eq!(read_status(&block).recipients.len(), MAX_RECIPIENTS);
    }
}
