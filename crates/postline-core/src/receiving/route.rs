//! Which recipients the inbound server takes mail for, and whose mail it is.
//!
//! Two kinds of address are Postline's: any address at a domain with receiving
//! enabled whose records are verified (the team that verified it owns the mail —
//! a verified domain belongs to one team, others must claim it), and the bounce
//! addresses the MTA puts in MAIL FROM, `bounces+<email id>@<return path>.<domain>`,
//! which only exist for emails Postline sent from that domain. Everything else is
//! refused: there is no open relay.

use crate::{
    Postline, Result,
    domains::{Domain, DomainStatus},
    emails::address::parse_mailbox,
    ids::{DomainId, EmailId, TeamId},
};

/// The local part prefix of bounce addresses (`bounces+<email id>@…`).
pub const BOUNCE_PREFIX: &str = "bounces+";

/// What an envelope recipient is to Postline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Mail for a team's receiving domain.
    Receiving { team_id: TeamId, domain_id: DomainId },
    /// A report (bounce, complaint) about an email Postline sent.
    Bounce { team_id: TeamId, email_id: EmailId },
    /// A domain Postline does not receive for: relaying is refused.
    NotOurDomain,
    /// A bounce domain, but no email of ours carries this address.
    NoSuchAddress,
}

/// Whether `domain` receives mail now: receiving enabled and its records verified
/// (a verified domain whose records went missing keeps receiving while it
/// recovers, as it keeps sending).
pub fn receives(domain: &Domain) -> bool {
    domain.receiving && matches!(domain.status, DomainStatus::Verified | DomainStatus::TemporaryFailure)
}

/// The email id in a bounce address's local part, if it is one.
pub fn bounce_token(local: &str) -> Option<EmailId> {
    local.get(..BOUNCE_PREFIX.len()).filter(|prefix| prefix.eq_ignore_ascii_case(BOUNCE_PREFIX))?;
    EmailId::parse(&local[BOUNCE_PREFIX.len()..]).ok()
}

impl Postline {
    /// Routes one envelope recipient.
    pub async fn route_recipient(&self, address: &str) -> Result<Route> {
        let Some((local, domain)) = address.trim().rsplit_once('@') else { return Ok(Route::NotOurDomain) };
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        if let Some(email_id) = bounce_token(local) {
            return self.route_bounce(email_id, &domain).await;
        }
        let mut owners: Vec<Domain> =
            self.store.receiving_domains(&domain).await?.into_iter().filter(receives).collect();
        // Only one team can hold a verified domain; should two ever, the earliest
        // verification wins rather than both reading the mail.
        owners.sort_by_key(|d| (d.verification_started_at, d.created_at));
        Ok(match owners.first() {
            Some(owner) => Route::Receiving { team_id: owner.team_id, domain_id: owner.id },
            None => Route::NotOurDomain,
        })
    }

    /// A bounce address is ours only at the return-path host of the email's own
    /// sending domain, so a token copied onto another domain routes nowhere.
    async fn route_bounce(&self, email_id: EmailId, domain: &str) -> Result<Route> {
        let Some((team_id, from)) = self.store.email_origin(email_id).await? else {
            return Ok(Route::NoSuchAddress);
        };
        let Some(sender) = parse_mailbox(&from).map(|m| m.domain()) else { return Ok(Route::NoSuchAddress) };
        let return_path = match self.store.domain_by_name(team_id, &sender).await? {
            Some(d) => d.return_path,
            None => "send".to_string(),
        };
        if domain == format!("{return_path}.{sender}") {
            Ok(Route::Bounce { team_id, email_id })
        } else {
            Ok(Route::NoSuchAddress)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_tokens_are_the_uuid_after_the_prefix() {
        let id = EmailId::new();
        assert_eq!(bounce_token(&format!("bounces+{id}")), Some(id));
        assert_eq!(bounce_token(&format!("Bounces+{id}")), Some(id), "local parts are matched without case");
        assert_eq!(bounce_token("bounces+not-a-uuid"), None);
        assert_eq!(bounce_token("bounces"), None);
        assert_eq!(bounce_token("postmaster"), None);
        assert_eq!(bounce_token("é"), None, "short non-ASCII local parts do not panic");
    }
}
