//! The sandbox: test recipients that play out the real service's events without
//! any mail leaving the machine, and the reserved domains that are refused.
//!
//! `delivered@resend.dev`, `bounced@resend.dev` and `complained@resend.dev` accept
//! a `+label`; `suppressed@resend.dev` does not (as the real service documents).

use super::address::Mailbox;

/// The domain of the test recipients.
pub const SANDBOX_DOMAIN: &str = "resend.dev";

/// Domains the real service refuses with 422 because they bounce and hurt reputation.
pub const RESERVED_DOMAINS: [&str; 2] = ["example.com", "test.com"];

/// What a sandbox recipient does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// sent → delivered
    Delivered,
    /// sent → bounced (permanent, with bounce details)
    Bounced,
    /// sent → delivered → complained
    Complained,
    /// suppressed, never attempted
    Suppressed,
}

/// The scenario a recipient plays, if it is a sandbox address.
pub fn scenario(address: &str) -> Option<Scenario> {
    let (local, domain) = address.rsplit_once('@')?;
    if !domain.eq_ignore_ascii_case(SANDBOX_DOMAIN) {
        return None;
    }
    let local = local.to_ascii_lowercase();
    let (base, label) = match local.split_once('+') {
        Some((base, label)) => (base, Some(label)),
        None => (local.as_str(), None),
    };
    match (base, label) {
        ("delivered", _) => Some(Scenario::Delivered),
        ("bounced", _) => Some(Scenario::Bounced),
        ("complained", _) => Some(Scenario::Complained),
        ("suppressed", None) => Some(Scenario::Suppressed),
        _ => None,
    }
}

/// Whether a recipient is at a reserved domain that must be refused.
pub fn is_reserved(mailbox: &Mailbox) -> bool {
    let domain = mailbox.domain();
    RESERVED_DOMAINS.contains(&domain.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_work_on_all_but_suppressed() {
        assert_eq!(scenario("delivered@resend.dev"), Some(Scenario::Delivered));
        assert_eq!(scenario("Delivered+signup-42@Resend.dev"), Some(Scenario::Delivered));
        assert_eq!(scenario("bounced+a@resend.dev"), Some(Scenario::Bounced));
        assert_eq!(scenario("complained+b@resend.dev"), Some(Scenario::Complained));
        assert_eq!(scenario("suppressed@resend.dev"), Some(Scenario::Suppressed));
        assert_eq!(scenario("suppressed+x@resend.dev"), None);
        assert_eq!(scenario("delivered@resend.com"), None);
        assert_eq!(scenario("someone@resend.dev"), None);
    }

    #[test]
    fn reserved_domains_are_recognised_case_insensitively() {
        let mailbox = |a: &str| Mailbox { name: None, address: a.into() };
        assert!(is_reserved(&mailbox("a@Example.COM")));
        assert!(is_reserved(&mailbox("a@test.com")));
        assert!(!is_reserved(&mailbox("a@example.co")));
        assert!(!is_reserved(&mailbox("a@sub.example.com")));
    }
}
