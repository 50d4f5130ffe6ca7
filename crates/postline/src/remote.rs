//! The domain's [`RemoteFiles`] port, served by the guarded fetcher.

use async_trait::async_trait;
use postline_core::remote::{FetchFailure, Fetched, RemoteFiles};
use postline_fetch::{FetchError, Fetcher};

/// Remote attachment fetches through [`Fetcher`].
#[derive(Debug, Clone)]
pub struct GuardedRemote(pub Fetcher);

#[async_trait]
impl RemoteFiles for GuardedRemote {
    async fn fetch(&self, url: &str, max_bytes: u64) -> Result<Fetched, FetchFailure> {
        match self.0.get(url, max_bytes).await {
            Ok(response) => Ok(Fetched { bytes: response.bytes, content_type: response.content_type }),
            Err(error @ FetchError::Refused { .. }) => Err(FetchFailure::Refused(error.to_string())),
            Err(FetchError::TooLarge { limit }) => Err(FetchFailure::TooLarge { limit }),
            Err(FetchError::Failed(reason)) => Err(FetchFailure::Failed(reason)),
        }
    }
}

/// The webhook dispatcher's transport through [`Fetcher`] (no redirects, capped reads,
/// private addresses refused when Postline is exposed beyond loopback).
#[derive(Debug, Clone)]
pub struct GuardedWebhooks(pub Fetcher);

/// How much of a receiver's response is kept with the attempt.
const RESPONSE_EXCERPT: usize = 4096;

#[async_trait]
impl postline_core::webhooks::dispatch::WebhookTransport for GuardedWebhooks {
    async fn post(&self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<(u16, String), String> {
        self.0.post(url, headers, body.to_vec(), RESPONSE_EXCERPT).await.map_err(|e| e.to_string())
    }
}
