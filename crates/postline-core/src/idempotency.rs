//! Idempotency keys for `POST /emails` and `POST /emails/batch`.
//!
//! A key is claimed before the request runs (an in-flight marker with a short
//! lease), and its response is written in the same transaction as the emails it
//! accepted. So for 24 hours: the same key and payload replay the saved response;
//! a different payload is `invalid_idempotent_request`; a second request while the
//! first runs is `concurrent_idempotent_requests`; a request that failed releases
//! the key. A crashed request's marker expires with its lease.

use chrono::Duration;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Error, Invalid, Postline, Result, ids::TeamId};

/// How long a saved response is replayed.
pub const RETENTION: Duration = Duration::hours(24);
/// How long an in-flight marker holds the key if its request never finishes.
pub const IN_FLIGHT_LEASE: Duration = Duration::seconds(60);
const MAX_KEY_CHARS: usize = 256;

/// A validated `Idempotency-Key` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Validates a header value: 1–256 printable characters.
    pub fn parse(raw: &str) -> Result<Self> {
        let length = raw.chars().count();
        if length == 0 || length > MAX_KEY_CHARS || raw.chars().any(char::is_control) {
            return Err(Error::invalid(
                Invalid::IdempotencyKey,
                "The `Idempotency-Key` header must be between 1 and 256 characters.",
            ));
        }
        Ok(IdempotencyKey(raw.to_string()))
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stable digest of what a request asked for: the operation and its JSON body
/// (object keys are sorted, so key order does not matter).
pub fn fingerprint(operation: &str, body: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(body).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// What the store found when a key was claimed.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The key is ours: run the request.
    Fresh,
    /// The key already answered this payload: send the same response again.
    Replay { status: u16, body: Value },
    /// The key answered a different payload.
    Mismatch,
    /// Another request holds the key right now.
    InFlight,
}

/// A claimed key, to be completed with the response in the accepting transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedKey {
    pub team_id: TeamId,
    pub key: IdempotencyKey,
}

/// The saved response, written with the emails it accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub team_id: TeamId,
    pub key: String,
    pub status: u16,
    pub body: Value,
}

impl ClaimedKey {
    /// The completion to store for this key.
    pub fn complete(&self, status: u16, body: Value) -> Completion {
        Completion { team_id: self.team_id, key: self.key.as_str().to_string(), status, body }
    }
}

/// The outcome of claiming: run the request, or answer without running it.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    Run(ClaimedKey),
    Replay { status: u16, body: Value },
}

/// What sending one email under an optional idempotency key came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// Accepted now; the response (`{"id": …}`).
    Accepted(Value),
    /// The key already answered this payload: its saved response.
    Replayed { status: u16, body: Value },
}

impl Postline {
    /// Validates and durably accepts one email, exactly once per `key` when one is
    /// given (`POST /emails` with `Idempotency-Key`, SMTP submission with the header):
    /// a key that already answered replays its response, a send that fails releases
    /// the key so a corrected retry can use it.
    pub async fn send_once(
        &self,
        principal: &crate::api_keys::Principal,
        body: &Value,
        key: Option<IdempotencyKey>,
    ) -> Result<Sent> {
        let claimed = match key {
            None => None,
            Some(key) => {
                match self.begin_idempotent(principal.team_id, key, &fingerprint("emails.send", body)).await? {
                    Begin::Replay { status, body } => return Ok(Sent::Replayed { status, body }),
                    Begin::Run(claimed) => Some(claimed),
                }
            }
        };
        let accepted = async {
            let email = self.prepare_email(principal, body).await?;
            let response = serde_json::json!({"id": email.email.id});
            self.accept(vec![email], claimed.as_ref().map(|c| c.complete(200, response.clone()))).await?;
            Ok(response)
        }
        .await;
        if accepted.is_err()
            && let Some(claimed) = &claimed
        {
            self.release_idempotent(claimed).await;
        }
        accepted.map(Sent::Accepted)
    }

    /// Claims an idempotency key for a request with the given fingerprint.
    pub async fn begin_idempotent(&self, team_id: TeamId, key: IdempotencyKey, fingerprint: &str) -> Result<Begin> {
        let now = self.clock.now();
        match self
            .store
            .claim_idempotency_key(team_id, key.as_str(), fingerprint, now, now + IN_FLIGHT_LEASE, now - RETENTION)
            .await?
        {
            Claim::Fresh => Ok(Begin::Run(ClaimedKey { team_id, key })),
            Claim::Replay { status, body } => Ok(Begin::Replay { status, body }),
            Claim::Mismatch => Err(Error::IdempotencyMismatch),
            Claim::InFlight => Err(Error::IdempotencyInFlight),
        }
    }

    /// Deletes saved responses older than the retention period (run periodically).
    pub async fn purge_expired_idempotency_keys(&self) -> Result<u64> {
        self.store.purge_idempotency_keys(self.clock.now() - RETENTION).await
    }

    /// Releases a claimed key whose request failed, so a corrected retry can use it.
    pub async fn release_idempotent(&self, claimed: &ClaimedKey) {
        if let Err(error) = self.store.release_idempotency_key(claimed.team_id, claimed.key.as_str()).await {
            tracing::warn!(%error, "could not release an idempotency key; it expires with its lease");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_bounded() {
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(257)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_ok());
        assert!(IdempotencyKey::parse("welcome-user/123").is_ok());
    }

    #[test]
    fn fingerprints_ignore_key_order_but_not_values_or_operation() {
        let a = fingerprint("emails.send", &json!({"a": 1, "b": 2}));
        let b = fingerprint("emails.send", &json!({"b": 2, "a": 1}));
        assert_eq!(a, b);
        assert_ne!(a, fingerprint("emails.send", &json!({"a": 1, "b": 3})));
        assert_ne!(a, fingerprint("emails.batch", &json!({"a": 1, "b": 2})));
    }
}
