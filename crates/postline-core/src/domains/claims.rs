//! Claiming a domain another team has verified: the claimant proves ownership with
//! a TXT record (`resend-domain-verification=<token>` at the domain's name); the
//! domain then moves to the claimant with fresh DKIM keys, so the previous team's
//! published records no longer verify, and the previous team's domain is removed.

use rand::{Rng, distributions::Alphanumeric};
use serde_json::Value;

use super::{Domain, checks::Answer, input::CreateDomain};
use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    ids::{ClaimId, DomainId, TeamId},
};

/// How long a claim waits for its TXT record.
pub const CLAIM_LIFETIME: chrono::Duration = chrono::Duration::days(7);
const TOKEN_PREFIX: &str = "resend-domain-verification=";

/// Where a claim stands (the contract's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimStatus {
    Pending,
    Completed,
    Expired,
}

impl ClaimStatus {
    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Pending => "pending",
            ClaimStatus::Completed => "completed",
            ClaimStatus::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "completed" => ClaimStatus::Completed,
            "expired" => ClaimStatus::Expired,
            _ => ClaimStatus::Pending,
        }
    }
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainClaim {
    pub id: ClaimId,
    pub team_id: TeamId,
    /// The claimant's (placeholder) domain.
    pub domain_id: DomainId,
    pub name: String,
    pub region: String,
    pub token: String,
    pub status: ClaimStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl DomainClaim {
    /// The TXT value that proves ownership.
    pub fn record_value(&self) -> String {
        format!("{TOKEN_PREFIX}{}", self.token)
    }
}

impl Postline {
    /// Starts a claim (`POST /domains/claim`); returns it and whether it is new (an
    /// existing pending claim of the team for the name is returned again).
    pub async fn create_claim(&self, team_id: TeamId, body: &Value) -> Result<(DomainClaim, bool)> {
        let input = CreateDomain::parse(body, &self.region_names())?;
        if let Some(existing) = self.store.pending_claim(team_id, &input.name).await? {
            return Ok((existing, false));
        }
        if !self.store.name_verified_elsewhere(team_id, &input.name).await? {
            return Err(Error::Conflict(format!(
                "{} is not verified by another team; add it with POST /domains instead of claiming it.",
                input.name
            )));
        }
        let now = self.clock.now();
        let domain = match self.store.domain_by_name(team_id, &input.name).await? {
            Some(domain) => domain,
            None => {
                let domain = Domain::added(team_id, input, self.settings.dkim_selector.clone(), now);
                self.changing_domains(self.store.insert_domain(&domain, None)).await?;
                domain
            }
        };
        let token: String = rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect();
        let claim = DomainClaim {
            id: ClaimId::new(),
            team_id,
            domain_id: domain.id,
            name: domain.name,
            region: domain.region,
            token,
            status: ClaimStatus::Pending,
            created_at: now,
            expires_at: now + CLAIM_LIFETIME,
        };
        self.store.insert_claim(&claim).await?;
        Ok((claim, true))
    }

    /// The claim on one of the team's domains (`GET /domains/{id}/claim`).
    pub async fn get_claim(&self, team_id: TeamId, domain_id: DomainId) -> Result<DomainClaim> {
        let mut claim =
            self.store.claim_for_domain(team_id, domain_id).await?.ok_or(Error::NotFound("Domain claim"))?;
        if claim.status == ClaimStatus::Pending && self.clock.now() >= claim.expires_at {
            claim.status = ClaimStatus::Expired;
            self.store.set_claim_status(claim.id, claim.status).await?;
        }
        Ok(claim)
    }

    /// Checks the claim's TXT record (`POST /domains/{id}/claim/verify`); when it is
    /// there, the domain moves to the claimant with fresh keys.
    pub async fn verify_claim(&self, team_id: TeamId, domain_id: DomainId) -> Result<DomainClaim> {
        let mut claim = self.get_claim(team_id, domain_id).await?;
        if claim.status != ClaimStatus::Pending {
            return Ok(claim);
        }
        let proven = match self.dns.txt(&claim.name).await {
            Answer::Records(values) => values.iter().any(|v| v.trim() == claim.record_value()),
            _ => false,
        };
        if !proven {
            return Ok(claim);
        }
        self.store.complete_claim(&claim).await?;
        let now = self.clock.now();
        let selector = self.settings.dkim_selector.clone();
        self.dkim_key_for(&claim.name, || self.dkim.generate(&claim.name, &selector, now)).await?;
        claim.status = ClaimStatus::Completed;
        Ok(claim)
    }
}
