//! The team's suppression list: addresses that hard-bounced or complained. A send
//! to a suppressed address produces `email.suppressed` and is never attempted. The
//! contract's `/suppressions` endpoints expose this list.

use crate::{
    Postline, Result,
    clock::Timestamp,
    ids::{EmailId, TeamId},
};

/// Why an address is suppressed (the contract's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    PreviousBounce,
    PreviousComplaint,
}

impl Reason {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::PreviousBounce => "previous_bounce",
            Reason::PreviousComplaint => "previous_complaint",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Self {
        if raw == "previous_complaint" { Reason::PreviousComplaint } else { Reason::PreviousBounce }
    }
}

/// An entry of a team's suppression list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub team_id: TeamId,
    /// Lower-cased address.
    pub email: String,
    pub reason: Reason,
    /// The email whose bounce or complaint put it here.
    pub source_email_id: Option<EmailId>,
    pub created_at: Timestamp,
}

/// The form addresses take on the list: lower-cased, so lookups ignore case.
pub fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

impl Postline {
    /// The team's suppression entry for an address, if any.
    pub async fn suppression_of(&self, team_id: TeamId, address: &str) -> Result<Option<Suppression>> {
        self.store.suppression(team_id, &normalize(address)).await
    }
}
