//! Fetching remote attachment content (`attachments[].path`): the domain states
//! what it needs, an adapter does the HTTP with the limits and address guard.

use async_trait::async_trait;

/// Bytes fetched from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The `Content-Type` the server sent, if any.
    pub content_type: Option<String>,
}

/// Why a fetch gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    /// The URL resolves to an address this installation may not reach (loopback,
    /// private, link-local…); the message names the address.
    #[error("{0}")]
    Refused(String),
    /// The content is larger than the limit.
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// DNS, connection, TLS, timeout or a non-2xx status; the message says which.
    #[error("{0}")]
    Failed(String),
}

/// Fetches remote files for attachments.
#[async_trait]
pub trait RemoteFiles: Send + Sync + 'static {
    /// GETs `url`, reading at most `max_bytes`.
    async fn fetch(&self, url: &str, max_bytes: u64) -> Result<Fetched, FetchFailure>;
}
