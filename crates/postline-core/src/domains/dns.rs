//! The DNS questions domain verification asks, as a port: an adapter answers them
//! with a real resolver (the same configurable nameservers the MTA uses).

use async_trait::async_trait;

use super::checks::Answer;

/// Looks up the record types verification needs.
#[async_trait]
pub trait DnsLookup: Send + Sync + 'static {
    /// MX records of `name`: (preference, host).
    async fn mx(&self, name: &str) -> Answer<(u16, String)>;
    /// TXT records of `name`, each record's strings joined.
    async fn txt(&self, name: &str) -> Answer<String>;
    /// CNAME target of `name`.
    async fn cname(&self, name: &str) -> Answer<String>;
    /// Authoritative nameservers of `name` (walking up to the zone that has them).
    async fn nameservers(&self, name: &str) -> Vec<String>;
}

/// Creates and publishes DKIM keys, as a port (the MTA owns the cryptography).
pub trait DkimKeys: Send + Sync + 'static {
    /// A new key for a domain.
    fn generate(
        &self,
        domain: &str,
        selector: &str,
        now: crate::clock::Timestamp,
    ) -> crate::Result<crate::dkim::DkimKey>;
    /// The TXT records that publish a key: (selector, value, is Ed25519).
    fn publish(&self, key: &crate::dkim::DkimKey) -> crate::Result<Vec<super::records::PublishedKey>>;
}
