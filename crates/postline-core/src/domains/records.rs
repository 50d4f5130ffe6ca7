//! The DNS records a domain must publish, named from the operator's per-region
//! host names: MX and SPF TXT on the bounce subdomain, DKIM TXT at
//! `<selector>._domainkey`, an MX for receiving when it is enabled, a CNAME for the
//! tracking subdomain when one is set. A DMARC record is suggested alongside.

use serde::{Deserialize, Serialize};

use super::Domain;

/// One region's host names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionHosts {
    pub name: String,
    /// Where bounces and complaints for the region go (the bounce subdomain's MX).
    pub feedback_host: String,
    /// Where the region receives mail (the receiving MX).
    pub inbound_host: String,
    /// What the SPF record includes (the region's sending addresses).
    pub spf_include: String,
    /// Where tracking links of the region point (the tracking CNAME).
    pub tracking_host: String,
}

impl RegionHosts {
    /// Host names derived from a base domain, e.g. `feedback-smtp.us-east-1.mail.example.net`.
    pub fn derived(name: &str, base: &str) -> Self {
        RegionHosts {
            name: name.to_string(),
            feedback_host: format!("feedback-smtp.{name}.{base}"),
            inbound_host: format!("inbound-smtp.{name}.{base}"),
            spf_include: format!("spf.{base}"),
            tracking_host: format!("tracking.{name}.{base}"),
        }
    }
}

/// What a record is for (the contract's `DomainRecord.record` plus which one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// MX on the bounce subdomain.
    SpfMx,
    /// SPF TXT on the bounce subdomain.
    SpfTxt,
    /// DKIM TXT (RSA).
    Dkim,
    /// DKIM TXT (Ed25519), when dual signing is on.
    DkimEd25519,
    /// DKIM TXT of the next key (rotation): it starts signing once this verifies.
    DkimNext,
    /// DKIM TXT of a retired key, kept published until removed.
    DkimRetired,
    /// MX for receiving.
    Receiving,
    /// CNAME for the tracking subdomain.
    Tracking,
}

impl RecordKind {
    /// The contract's `record` value.
    pub fn label(self) -> &'static str {
        match self {
            RecordKind::SpfMx | RecordKind::SpfTxt => "SPF",
            RecordKind::Dkim | RecordKind::DkimEd25519 | RecordKind::DkimNext | RecordKind::DkimRetired => "DKIM",
            RecordKind::Receiving => "Receiving",
            RecordKind::Tracking => "Tracking",
        }
    }

    /// Whether sending needs it verified.
    pub fn for_sending(self) -> bool {
        matches!(self, RecordKind::SpfMx | RecordKind::SpfTxt | RecordKind::Dkim | RecordKind::DkimEd25519)
    }

    /// Whether receiving needs it verified.
    pub fn for_receiving(self) -> bool {
        self == RecordKind::Receiving
    }
}

/// A record the domain must publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRecord {
    pub kind: RecordKind,
    /// Relative to the domain (`send`, `resend._domainkey`, `@`), as DNS providers ask for it.
    pub name: String,
    /// Fully qualified.
    pub fqdn: String,
    /// `MX`, `TXT` or `CNAME`.
    pub record_type: &'static str,
    pub value: String,
    pub priority: Option<u16>,
}

/// A published DKIM key: its selector and TXT value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub selector: String,
    pub value: String,
    pub ed25519: bool,
    pub state: crate::dkim::KeyState,
}

fn relative(domain: &Domain, label: &str) -> (String, String) {
    (label.to_string(), format!("{label}.{}", domain.name))
}

/// The records `domain` must publish in its region, with its DKIM keys.
pub fn expected(domain: &Domain, region: &RegionHosts, keys: &[PublishedKey]) -> Vec<ExpectedRecord> {
    let mut records = Vec::new();
    if domain.sending {
        let (name, fqdn) = relative(domain, &domain.return_path);
        records.push(ExpectedRecord {
            kind: RecordKind::SpfMx,
            name: name.clone(),
            fqdn: fqdn.clone(),
            record_type: "MX",
            value: region.feedback_host.clone(),
            priority: Some(10),
        });
        records.push(ExpectedRecord {
            kind: RecordKind::SpfTxt,
            name,
            fqdn,
            record_type: "TXT",
            value: format!("v=spf1 include:{} ~all", region.spf_include),
            priority: None,
        });
        for key in keys {
            let (name, fqdn) = relative(domain, &format!("{}._domainkey", key.selector));
            records.push(ExpectedRecord {
                kind: match (key.state, key.ed25519) {
                    (crate::dkim::KeyState::Next, _) => RecordKind::DkimNext,
                    (crate::dkim::KeyState::Retired, _) => RecordKind::DkimRetired,
                    (crate::dkim::KeyState::Active, true) => RecordKind::DkimEd25519,
                    (crate::dkim::KeyState::Active, false) => RecordKind::Dkim,
                },
                name,
                fqdn,
                record_type: "TXT",
                value: key.value.clone(),
                priority: None,
            });
        }
    }
    if domain.receiving {
        records.push(ExpectedRecord {
            kind: RecordKind::Receiving,
            name: "@".into(),
            fqdn: domain.name.clone(),
            record_type: "MX",
            value: region.inbound_host.clone(),
            priority: Some(10),
        });
    }
    if let Some(label) = &domain.tracking_subdomain {
        let (name, fqdn) = relative(domain, label);
        records.push(ExpectedRecord {
            kind: RecordKind::Tracking,
            name,
            fqdn,
            record_type: "CNAME",
            value: region.tracking_host.clone(),
            priority: None,
        });
    }
    records
}

/// The DMARC record Postline suggests (advisory: monitoring first, then enforce).
pub fn suggested_dmarc(domain: &Domain) -> (String, String) {
    (format!("_dmarc.{}", domain.name), "v=DMARC1; p=none; rua=mailto:dmarc-reports@".to_string() + &domain.name)
}
