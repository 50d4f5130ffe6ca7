//! Sending domains: what a team sends from. A domain is added with its region and
//! settings, gets its DKIM keys at once, publishes the DNS records Postline asks
//! for, and is verified against real DNS, record by record, with a diagnostic for
//! each way a record can be wrong. Verified domains are re-checked periodically.
//!
//! Lifecycle (as the reference docs describe): `not_started` → (verify) `pending` →
//! `verified`, or `failed` when records are still missing 72 hours after
//! verification started; a verified domain whose records disappear becomes
//! `temporary_failure`, back to `verified` when they return, `failed` after 72 hours.

pub mod checks;
pub mod claims;
pub mod dns;
pub mod input;
pub mod lifecycle;
pub mod manage;
pub mod records;

use serde::{Deserialize, Serialize};

use crate::{
    clock::Timestamp,
    ids::{DomainId, TeamId},
};

pub use input::{CreateDomain, UpdateDomain};

/// A domain's overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainStatus {
    NotStarted,
    Pending,
    Verified,
    /// Sending records verified, receiving record not (receiving enabled).
    PartiallyVerified,
    TemporaryFailure,
    Failed,
}

impl DomainStatus {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::NotStarted => "not_started",
            DomainStatus::Pending => "pending",
            DomainStatus::Verified => "verified",
            DomainStatus::PartiallyVerified => "partially_verified",
            DomainStatus::TemporaryFailure => "temporary_failure",
            DomainStatus::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "pending" => DomainStatus::Pending,
            "verified" => DomainStatus::Verified,
            "partially_verified" => DomainStatus::PartiallyVerified,
            "temporary_failure" => DomainStatus::TemporaryFailure,
            "failed" => DomainStatus::Failed,
            _ => DomainStatus::NotStarted,
        }
    }

    /// Whether mail may be sent from the domain: its sending records verified (a
    /// temporary failure keeps sending while the records are being fixed).
    pub fn may_send(self) -> bool {
        matches!(self, DomainStatus::Verified | DomainStatus::PartiallyVerified | DomainStatus::TemporaryFailure)
    }
}

/// One record's status (the contract's `DomainRecord.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    NotStarted,
    Pending,
    Verified,
    Failed,
    TemporaryFailure,
}

impl RecordStatus {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::NotStarted => "not_started",
            RecordStatus::Pending => "pending",
            RecordStatus::Verified => "verified",
            RecordStatus::Failed => "failed",
            RecordStatus::TemporaryFailure => "temporary_failure",
        }
    }
}

/// TLS policy for delivering the domain's mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tls {
    #[default]
    Opportunistic,
    Enforced,
}

impl Tls {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tls::Opportunistic => "opportunistic",
            Tls::Enforced => "enforced",
        }
    }

    /// Parses the contract's name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "opportunistic" => Some(Tls::Opportunistic),
            "enforced" => Some(Tls::Enforced),
            _ => None,
        }
    }
}

/// A stored domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: DomainId,
    pub team_id: TeamId,
    /// Lower-cased name.
    pub name: String,
    pub region: String,
    pub status: DomainStatus,
    /// The bounce subdomain label (`send` unless customised).
    pub return_path: String,
    pub open_tracking: bool,
    pub click_tracking: bool,
    pub tls: Tls,
    pub sending: bool,
    pub receiving: bool,
    pub tracking_subdomain: Option<String>,
    /// The DKIM selector of the current key.
    pub selector: String,
    /// Results of the last check, one per record (empty before the first).
    pub checks: Vec<checks::RecordCheck>,
    /// DMARC/BIMI advice and ownership notes from the last check.
    pub advisories: Vec<checks::Advisory>,
    /// The authoritative nameservers seen at the last check.
    pub nameservers: Vec<String>,
    pub created_at: Timestamp,
    /// When verification was (re)started: the 72-hour clock for `pending`.
    pub verification_started_at: Option<Timestamp>,
    /// When a verified domain's records first went missing.
    pub failing_since: Option<Timestamp>,
    pub last_checked_at: Option<Timestamp>,
    pub next_check_at: Option<Timestamp>,
}

impl Domain {
    /// A newly added domain (`not_started`, never checked) from validated input.
    pub fn added(team_id: TeamId, input: CreateDomain, selector: String, now: Timestamp) -> Self {
        Domain {
            id: DomainId::new(),
            team_id,
            name: input.name,
            region: input.region,
            status: DomainStatus::NotStarted,
            return_path: input.return_path,
            open_tracking: input.open_tracking,
            click_tracking: input.click_tracking,
            tls: input.tls,
            sending: input.sending,
            receiving: input.receiving,
            tracking_subdomain: input.tracking_subdomain,
            selector,
            checks: Vec::new(),
            advisories: Vec::new(),
            nameservers: Vec::new(),
            created_at: now,
            verification_started_at: None,
            failing_since: None,
            last_checked_at: None,
            next_check_at: None,
        }
    }
}
