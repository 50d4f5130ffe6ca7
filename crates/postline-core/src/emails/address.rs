//! Email addresses as the contract accepts them: `email@example.com` or
//! `Name <email@example.com>` (the name may be quoted).
//!
//! Validation is deliberately practical rather than the full RFC 5322 grammar:
//! what an SMTP envelope can carry, with an internationalised domain or local
//! part allowed, and nothing a header could be injected through.

/// A parsed mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, unquoted.
    pub name: Option<String>,
    /// The bare address.
    pub address: String,
}

impl Mailbox {
    /// The address's domain, lower-cased.
    pub fn domain(&self) -> String {
        self.address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default()
    }
}

/// Longest address accepted (the SMTP path limit, RFC 5321 §4.5.3.1.3, less the brackets).
const MAX_ADDRESS: usize = 254;
const MAX_DISPLAY_NAME: usize = 256;

/// Parses `addr` or `Name <addr>`; `None` when it is neither.
pub fn parse_mailbox(raw: &str) -> Option<Mailbox> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().any(|c| c.is_control()) {
        return None;
    }
    let (name, address) = match raw.rfind('<') {
        Some(open) if raw.ends_with('>') => {
            let name = raw[..open].trim();
            let address = raw[open + 1..raw.len() - 1].trim();
            (display_name(name)?, address)
        }
        Some(_) => return None,
        None => (None, raw),
    };
    valid_address(address).then(|| Mailbox { name, address: address.to_string() })
}

fn display_name(name: &str) -> Option<Option<String>> {
    if name.is_empty() {
        return Some(None);
    }
    let unquoted = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None if name.contains('"') || name.contains('<') || name.contains('>') => return None,
        None => name.to_string(),
    };
    if unquoted.chars().count() > MAX_DISPLAY_NAME {
        return None;
    }
    Some(Some(unquoted))
}

/// Whether a bare address is usable as an SMTP envelope address.
pub fn valid_address(address: &str) -> bool {
    if address.len() > MAX_ADDRESS {
        return false;
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    valid_local_part(local) && valid_domain(domain)
}

fn valid_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_alphanumeric() || (c.is_ascii_punctuation() && !"()<>[]:;@\\,\"".contains(c)) || !c.is_ascii()
        })
}

/// Whether a domain name is well-formed: at least two labels, each 1–63 characters
/// of letters, digits and inner hyphens.
pub fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_two_contract_forms() {
        assert_eq!(
            parse_mailbox("Acme <onboarding@resend.dev>"),
            Some(Mailbox { name: Some("Acme".into()), address: "onboarding@resend.dev".into() })
        );
        assert_eq!(
            parse_mailbox("delivered+x@resend.dev"),
            Some(Mailbox { name: None, address: "delivered+x@resend.dev".into() })
        );
        assert_eq!(parse_mailbox("\"Acme, Inc.\" <a@b.co>").unwrap().name.as_deref(), Some("Acme, Inc."));
        assert_eq!(parse_mailbox("<a@b.co>").unwrap().name, None);
        assert!(parse_mailbox("José <josé@exämple.de>").is_some());
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "plainaddress",
            "@no-local.com",
            "no-domain@",
            "a@localhost",
            "a@b..com",
            "a b@c.com",
            "Name <a@b.com",
            "a@b.com>",
            "Evil\r\nBcc: x@y.com <a@b.com>",
            "a@-b.com",
            "a@1.2.3.4",
            "a..b@c.com",
        ] {
            assert_eq!(parse_mailbox(bad), None, "{bad:?} should be refused");
        }
        assert!(parse_mailbox(&format!("{}@b.com", "a".repeat(65))).is_none());
    }
}
