//! Classifying a permanent SMTP failure into the contract's bounce shape
//! (`type` / `subType`), from the enhanced status code (RFC 3463) when the server
//! gave one and from the basic code and text otherwise.

/// The contract's bounce `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BounceType {
    Permanent,
    Transient,
    Undetermined,
}

/// The contract's bounce `subType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BounceSubType {
    General,
    NoEmail,
    MailboxFull,
    MessageTooLarge,
    ContentRejected,
    AttachmentRejected,
    Undetermined,
}

impl BounceType {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            BounceType::Permanent => "Permanent",
            BounceType::Transient => "Transient",
            BounceType::Undetermined => "Undetermined",
        }
    }
}

impl BounceSubType {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            BounceSubType::General => "General",
            BounceSubType::NoEmail => "NoEmail",
            BounceSubType::MailboxFull => "MailboxFull",
            BounceSubType::MessageTooLarge => "MessageTooLarge",
            BounceSubType::ContentRejected => "ContentRejected",
            BounceSubType::AttachmentRejected => "AttachmentRejected",
            BounceSubType::Undetermined => "Undetermined",
        }
    }
}

/// A classified bounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub kind: BounceType,
    pub sub_type: BounceSubType,
}

impl Classification {
    /// Whether the address itself is bad, so it goes on the suppression list.
    /// Content or policy rejections and full mailboxes say nothing bad about the address.
    pub fn is_hard(self) -> bool {
        self.kind == BounceType::Permanent && matches!(self.sub_type, BounceSubType::NoEmail | BounceSubType::General)
    }
}

/// Parses an enhanced status code such as `5.1.1` at the start of `text`.
pub fn enhanced_code(text: &str) -> Option<(u8, u16, u16)> {
    let token = text.split_whitespace().next()?;
    let mut parts = token.split('.');
    let class = parts.next()?.parse().ok()?;
    let subject = parts.next()?.parse().ok()?;
    let detail = parts.next()?.trim_end_matches([',', ';']).parse().ok()?;
    (parts.next().is_none() && matches!(class, 2 | 4 | 5)).then_some((class, subject, detail))
}

/// Classifies a 5xx reply (`code`, and the text after it).
pub fn classify(code: u16, text: &str) -> Classification {
    use BounceSubType as S;
    let lower = text.to_ascii_lowercase();
    let permanent = |sub_type| Classification { kind: BounceType::Permanent, sub_type };
    match enhanced_code(text) {
        Some((_, 1, 1 | 2 | 3 | 6 | 10)) => permanent(S::NoEmail),
        Some((_, 2, 2)) => Classification { kind: BounceType::Transient, sub_type: S::MailboxFull },
        Some((_, 2, 3) | (_, 3, 4)) => permanent(S::MessageTooLarge),
        Some((_, 7, _)) | Some((_, 6, _)) if lower.contains("attachment") => permanent(S::AttachmentRejected),
        Some((_, 7, _)) => permanent(S::ContentRejected),
        Some((_, 6, _)) => permanent(S::ContentRejected),
        Some(_) => permanent(S::General),
        None => match code {
            550 | 551 | 553
                if ["user unknown", "no such user", "does not exist", "unknown user", "not found"]
                    .iter()
                    .any(|p| lower.contains(p)) =>
            {
                permanent(S::NoEmail)
            }
            552 if lower.contains("full") || lower.contains("quota") => {
                Classification { kind: BounceType::Transient, sub_type: S::MailboxFull }
            }
            552 => permanent(S::MessageTooLarge),
            554 if lower.contains("spam") || lower.contains("content") || lower.contains("policy") => {
                permanent(S::ContentRejected)
            }
            _ => permanent(S::General),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes_decide_the_class() {
        assert_eq!(classify(550, "5.1.1 <a@b.c>: user unknown").sub_type, BounceSubType::NoEmail);
        assert!(classify(550, "5.1.1 user unknown").is_hard());
        let full = classify(552, "5.2.2 mailbox full");
        assert_eq!((full.kind, full.sub_type), (BounceType::Transient, BounceSubType::MailboxFull));
        assert!(!full.is_hard());
        assert_eq!(classify(552, "5.3.4 message too big").sub_type, BounceSubType::MessageTooLarge);
        assert_eq!(classify(550, "5.7.1 message rejected as spam").sub_type, BounceSubType::ContentRejected);
        assert!(!classify(550, "5.7.1 policy").is_hard(), "policy rejections do not suppress the address");
        assert_eq!(classify(554, "5.7.1 attachment type not allowed").sub_type, BounceSubType::AttachmentRejected);
        assert_eq!(classify(550, "5.0.0 something").sub_type, BounceSubType::General);
    }

    #[test]
    fn replies_without_enhanced_codes_are_read_from_the_text() {
        assert_eq!(classify(550, "No such user here").sub_type, BounceSubType::NoEmail);
        assert_eq!(classify(552, "Quota exceeded").sub_type, BounceSubType::MailboxFull);
        assert_eq!(classify(554, "Transaction failed").sub_type, BounceSubType::General);
    }

    #[test]
    fn enhanced_codes_parse_strictly() {
        assert_eq!(enhanced_code("5.1.1 user unknown"), Some((5, 1, 1)));
        assert_eq!(enhanced_code("4.7.0, try later"), Some((4, 7, 0)));
        assert_eq!(enhanced_code("hello 5.1.1"), None);
        assert_eq!(enhanced_code("5.1"), None);
        assert_eq!(enhanced_code("1.2.3"), None);
    }
}
