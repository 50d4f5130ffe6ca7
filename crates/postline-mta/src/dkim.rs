//! DKIM: generating a domain's keys (RSA-2048, and Ed25519 for dual signing),
//! signing rendered messages with `mail-auth` (relaxed/relaxed, `rsa-sha256` and
//! `ed25519-sha256`), and the public-key TXT record the domain publishes.

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::{Ed25519KeyPair, KeyPair as _},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use mail_auth::{
    common::crypto::{Ed25519Key, RsaKey, Sha256},
    common::headers::HeaderWriter,
    dkim::{Canonicalization, DkimSigner, Done},
};
use postline_core::{Error, Result, clock::Timestamp, dkim::DkimKey};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The headers signed when present (RFC 6376 §5.4.1's recommendations plus the
/// MIME and list headers a receiver relies on). Absent ones are skipped by the signer.
pub const SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "In-Reply-To",
    "References",
];

/// Generates a domain's keys.
pub fn generate(domain: &str, selector: &str, ed25519: bool, now: Timestamp) -> Result<DkimKey> {
    let rsa = KeyPair::generate(KeySize::Rsa2048).map_err(|e| Error::Internal(format!("RSA key generation: {e}")))?;
    let rsa_private = rsa.as_der().map_err(|e| Error::Internal(format!("RSA key encoding: {e}")))?.as_ref().to_vec();
    let ed25519_private = if ed25519 {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        Some(
            Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|e| Error::Internal(format!("Ed25519 key generation: {e}")))?
                .as_ref()
                .to_vec(),
        )
    } else {
        None
    };
    Ok(DkimKey {
        domain: domain.to_ascii_lowercase(),
        selector: selector.to_string(),
        rsa_private,
        ed25519_private,
        created_at: now,
        state: postline_core::dkim::KeyState::Active,
    })
}

fn rsa_key(key: &DkimKey) -> Result<RsaKey<Sha256>> {
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.rsa_private.as_slice()));
    RsaKey::<Sha256>::from_key_der(der)
        .map_err(|e| Error::Internal(format!("stored RSA key for {} is unusable: {e}", key.domain)))
}

fn ed25519_key(key: &DkimKey) -> Result<Option<Ed25519Key>> {
    key.ed25519_private
        .as_deref()
        .map(|der| {
            Ed25519Key::from_pkcs8_maybe_unchecked_der(der)
                .map_err(|e| Error::Internal(format!("stored Ed25519 key for {} is unusable: {e}", key.domain)))
        })
        .transpose()
}

/// A domain key parsed and ready to sign. Parsing an RSA key validates it, which
/// costs more than a signature: a round parses each key once and signs many messages.
pub struct Signer {
    rsa: DkimSigner<RsaKey<Sha256>, Done>,
    ed25519: Option<DkimSigner<Ed25519Key, Done>>,
}

impl Signer {
    pub fn new(key: &DkimKey) -> Result<Self> {
        let rsa = DkimSigner::from_key(rsa_key(key)?)
            .domain(&key.domain)
            .selector(&key.selector)
            .headers(SIGNED_HEADERS.iter().copied())
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        let ed25519 = ed25519_key(key)?.map(|ed| {
            DkimSigner::from_key(ed)
                .domain(&key.domain)
                .selector(ed25519_selector(key))
                .headers(SIGNED_HEADERS.iter().copied())
                .header_canonicalization(Canonicalization::Relaxed)
                .body_canonicalization(Canonicalization::Relaxed)
        });
        Ok(Signer { rsa, ed25519 })
    }

    /// Signs `message` (a complete rendered message) and returns it with the
    /// `DKIM-Signature` header(s) prepended: Ed25519 first when present, then RSA.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let rsa = self.rsa.sign(message).map_err(|e| Error::Internal(format!("RSA DKIM signing failed: {e}")))?;
        let mut signed = Vec::with_capacity(message.len() + 1024);
        if let Some(ed) = &self.ed25519 {
            let signature =
                ed.sign(message).map_err(|e| Error::Internal(format!("Ed25519 DKIM signing failed: {e}")))?;
            signed.extend_from_slice(signature.to_header().as_bytes());
        }
        signed.extend_from_slice(rsa.to_header().as_bytes());
        signed.extend_from_slice(message);
        Ok(signed)
    }
}

/// Signs `message` with `key` (parsing it first; see [`Signer`] to sign many).
pub fn sign(key: &DkimKey, message: &[u8]) -> Result<Vec<u8>> {
    Signer::new(key)?.sign(message)
}

/// The selector of the Ed25519 key: its own, so each key has its own TXT record
/// (verifiers read one record per selector).
pub fn ed25519_selector(key: &DkimKey) -> String {
    format!("{}-ed25519", key.selector)
}

/// The TXT record value publishing the RSA key: `v=DKIM1; k=rsa; p=<SubjectPublicKeyInfo>`.
pub fn rsa_record(key: &DkimKey) -> Result<String> {
    let pair = KeyPair::from_pkcs8(&key.rsa_private).map_err(|e| Error::Internal(format!("RSA key: {e}")))?;
    let pkcs1 = pair.public_key().as_ref().to_vec();
    Ok(format!("v=DKIM1; k=rsa; p={}", STANDARD.encode(spki_from_pkcs1(&pkcs1))))
}

/// The TXT record value publishing the Ed25519 key (RFC 8463: the raw 32-byte key).
pub fn ed25519_record(key: &DkimKey) -> Result<Option<String>> {
    key.ed25519_private
        .as_deref()
        .map(|der| {
            let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map_err(|e| Error::Internal(format!("Ed25519 key: {e}")))?;
            Ok(format!("v=DKIM1; k=ed25519; p={}", STANDARD.encode(pair.public_key().as_ref())))
        })
        .transpose()
}

/// Wraps a PKCS#1 `RSAPublicKey` in a `SubjectPublicKeyInfo` (RFC 6376 §3.6.1 asks
/// for the latter; every verifier accepts it).
fn spki_from_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    const RSA_ALGORITHM: &[u8] =
        &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bit_string = vec![0x00];
    bit_string.extend_from_slice(pkcs1);
    let mut body = RSA_ALGORITHM.to_vec();
    body.extend(der_tlv(0x03, &bit_string));
    der_tlv(0x30, &body)
}

fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sign_and_publish() {
        let key = generate("Example.org", "resend", true, chrono::Utc::now()).unwrap();
        assert_eq!(key.domain, "example.org");
        let message = b"From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n";
        let signed = String::from_utf8(sign(&key, message).unwrap()).unwrap();
        assert_eq!(signed.matches("DKIM-Signature:").count(), 2);
        assert!(signed.contains("a=ed25519-sha256") && signed.contains("a=rsa-sha256"));
        assert!(
            signed.contains("d=example.org") && signed.contains("s=resend;") && signed.contains("s=resend-ed25519;")
        );
        assert!(signed.contains("c=relaxed/relaxed"));
        assert!(signed.ends_with("hello\r\n"));
        let record = rsa_record(&key).unwrap();
        assert!(record.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "an SPKI for RSA-2048: {record}");
        assert!(ed25519_record(&key).unwrap().unwrap().starts_with("v=DKIM1; k=ed25519; p="));
    }
}

/// The domain's DKIM port: generates keys and the TXT records that publish them.
#[derive(Debug, Clone, Copy)]
pub struct KeyMaker {
    /// Also make an Ed25519 key for dual signing.
    pub ed25519: bool,
}

impl postline_core::domains::dns::DkimKeys for KeyMaker {
    fn generate(&self, domain: &str, selector: &str, now: Timestamp) -> Result<DkimKey> {
        generate(domain, selector, self.ed25519, now)
    }

    fn publish(&self, key: &DkimKey) -> Result<Vec<postline_core::domains::records::PublishedKey>> {
        use postline_core::domains::records::PublishedKey;
        let mut published = vec![PublishedKey {
            selector: key.selector.clone(),
            value: rsa_record(key)?,
            ed25519: false,
            state: key.state,
        }];
        if let Some(value) = ed25519_record(key)? {
            published.push(PublishedKey { selector: ed25519_selector(key), value, ed25519: true, state: key.state });
        }
        Ok(published)
    }
}
