//! Signed, expiring tokens for every link Postline hands out (shared email
//! renderings, attachment downloads, unsubscribe links, open and click tracking).
//!
//! A token is `base64url(payload) "." base64url(HMAC-SHA256(secret, purpose "." payload))`.
//! The purpose is part of the MAC, so a token minted for one kind of link never
//! opens another. The secret lives in the store, so every node verifies every
//! other node's tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;

use crate::clock::Timestamp;

type HmacSha256 = Hmac<Sha256>;

/// What a token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A read-only rendering of a sent email.
    ShareEmail,
    /// The content of one attachment.
    AttachmentDownload,
    /// One recipient's unsubscribe link and preferences page for one send.
    Unsubscribe,
    /// One recipient's open-tracking pixel for one email.
    Open,
    /// One recipient's tracked link for one email, carrying the link's target.
    Click,
    /// The raw source of a received email.
    ReceivedRaw,
    /// The content of one attachment of a received email.
    ReceivedAttachment,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::ShareEmail => "share-email",
            Purpose::AttachmentDownload => "attachment-download",
            Purpose::Unsubscribe => "unsubscribe",
            Purpose::Open => "open",
            Purpose::Click => "click",
            Purpose::ReceivedRaw => "received-raw",
            Purpose::ReceivedAttachment => "received-attachment",
        }
    }
}

/// Signs and verifies tokens with one installation-wide secret.
#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<T> {
    exp: i64,
    #[serde(flatten)]
    claims: T,
}

impl Signer {
    /// A signer over the given secret (at least 32 random bytes).
    pub fn new(secret: Vec<u8>) -> Self {
        Signer { secret }
    }

    fn mac(&self, purpose: Purpose, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(purpose.tag().as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac
    }

    /// Mints a token carrying `claims` that stops verifying after `expires_at`.
    pub fn sign<T: Serialize>(&self, purpose: Purpose, claims: T, expires_at: Timestamp) -> String {
        let body = serde_json::to_vec(&Envelope { exp: expires_at.timestamp(), claims }).expect("claims serialize");
        let payload = URL_SAFE_NO_PAD.encode(body);
        let tag = self.mac(purpose, &payload).finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Returns the claims of a token minted for `purpose` that has not expired at `now`.
    /// Any tampering, a wrong purpose or an expired token gives `None`.
    pub fn verify<T: DeserializeOwned>(&self, purpose: Purpose, token: &str, now: Timestamp) -> Option<T> {
        let (payload, tag) = token.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(purpose, payload).verify_slice(&tag).ok()?;
        let body = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let envelope: Envelope<T> = serde_json::from_slice(&body).ok()?;
        (envelope.exp > now.timestamp()).then_some(envelope.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Claims {
        id: String,
    }

    fn claims() -> Claims {
        Claims { id: "abc".into() }
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let signer = Signer::new(vec![7; 32]);
        let now = Utc::now();
        let token = signer.sign(Purpose::ShareEmail, claims(), now + Duration::minutes(10));
        assert_eq!(signer.verify::<Claims>(Purpose::ShareEmail, &token, now), Some(claims()));
        assert_eq!(signer.verify::<Claims>(Purpose::ShareEmail, &token, now + Duration::minutes(11)), None);
    }

    #[test]
    fn a_token_for_one_purpose_does_not_open_another() {
        let signer = Signer::new(vec![7; 32]);
        let now = Utc::now();
        let token = signer.sign(Purpose::ShareEmail, claims(), now + Duration::minutes(10));
        assert_eq!(signer.verify::<Claims>(Purpose::AttachmentDownload, &token, now), None);
    }

    #[test]
    fn a_tampered_or_foreign_token_is_refused() {
        let signer = Signer::new(vec![7; 32]);
        let other = Signer::new(vec![8; 32]);
        let now = Utc::now();
        let token = signer.sign(Purpose::ShareEmail, claims(), now + Duration::minutes(10));
        assert_eq!(other.verify::<Claims>(Purpose::ShareEmail, &token, now), None);
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"exp":99999999999,"id":"xyz"}"#);
        let tag = token.split_once('.').unwrap().1;
        assert_eq!(signer.verify::<Claims>(Purpose::ShareEmail, &format!("{forged_payload}.{tag}"), now), None);
        assert_eq!(signer.verify::<Claims>(Purpose::ShareEmail, "garbage", now), None);
    }
}
