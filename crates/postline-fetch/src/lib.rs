//! Guarded outbound HTTP GET, for content Postline fetches on a caller's behalf
//! (remote attachments now, webhook endpoints later).
//!
//! Three guards: a total time limit, a size limit enforced while streaming (a
//! lying or missing `Content-Length` does not help), and — unless the operator
//! allows them — refusal of loopback, private, link-local and other non-public
//! addresses. The address check runs after DNS resolution and the connection is
//! pinned to the checked addresses, so a DNS answer that changes between check and
//! connect (rebinding) cannot slip through. Redirects are followed by hand, each
//! hop checked the same way.

mod address;

use std::{net::SocketAddr, time::Duration};

use futures::StreamExt;
use url::Url;

pub use address::is_public;

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The host resolved to an address the policy refuses.
    #[error("`{host}` resolves to {address}, a non-public address")]
    Refused { host: String, address: String },
    /// The body exceeded the limit.
    #[error("the response is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// Anything else: bad URL, DNS, connect, TLS, timeout, status.
    #[error("{0}")]
    Failed(String),
}

/// A fetched body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

/// The fetch policy.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// Whole-request time limit, DNS and redirects included.
    pub timeout: Duration,
    /// Whether non-public addresses may be fetched (the local, loopback-only setup).
    pub allow_private: bool,
    /// Redirect hops followed.
    pub max_redirects: usize,
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher { timeout: Duration::from_secs(15), allow_private: false, max_redirects: 3 }
    }
}

impl Fetcher {
    /// GETs `url`, reading at most `max_bytes`.
    pub async fn get(&self, url: &str, max_bytes: u64) -> Result<Response, FetchError> {
        match tokio::time::timeout(self.timeout, self.get_following(url, max_bytes)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Failed(format!("timed out after {} s", self.timeout.as_secs()))),
        }
    }

    async fn get_following(&self, url: &str, max_bytes: u64) -> Result<Response, FetchError> {
        let mut url = Url::parse(url).map_err(|e| FetchError::Failed(format!("invalid URL: {e}")))?;
        for _ in 0..=self.max_redirects {
            let response = self.get_once(&url).await?;
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| FetchError::Failed("redirect without a Location".into()))?;
                url = url.join(location).map_err(|e| FetchError::Failed(format!("bad redirect: {e}")))?;
                continue;
            }
            if !response.status().is_success() {
                return Err(FetchError::Failed(format!("the server answered HTTP {}", response.status().as_u16())));
            }
            return read_limited(response, max_bytes).await;
        }
        Err(FetchError::Failed(format!("more than {} redirects", self.max_redirects)))
    }

    /// POSTs `body` to `url` with `headers`: same address policy and time limit as
    /// [`Fetcher::get`], redirects are not followed, and at most `max_response` bytes
    /// of the response are read. Returns the status and the start of the body.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        max_response: usize,
    ) -> Result<(u16, String), FetchError> {
        let attempt = async {
            let url = Url::parse(url).map_err(|e| FetchError::Failed(format!("invalid URL: {e}")))?;
            let client = self.client_for(&url).await?;
            let mut request = client.post(url.clone()).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.map_err(|e| FetchError::Failed(describe(&e)))?;
            let status = response.status().as_u16();
            let mut excerpt = Vec::new();
            let mut stream = response.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let Ok(chunk) = chunk else { break };
                excerpt.extend_from_slice(&chunk[..chunk.len().min(max_response - excerpt.len())]);
                if excerpt.len() >= max_response {
                    break;
                }
            }
            Ok((status, String::from_utf8_lossy(&excerpt).into_owned()))
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Failed(format!("timed out after {} s", self.timeout.as_secs()))),
        }
    }

    /// A client pinned to the checked addresses of the URL's host, following no redirects.
    async fn client_for(&self, url: &Url) -> Result<reqwest::Client, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Failed("only http and https URLs can be fetched".into()));
        }
        let host = url.host_str().ok_or_else(|| FetchError::Failed("the URL has no host".into()))?.to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses = self.resolve(&host, port).await?;
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve_to_addrs(host.trim_start_matches('[').trim_end_matches(']'), &addresses)
            .connect_timeout(self.timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("postline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Failed(format!("HTTP client: {e}")))
    }

    async fn get_once(&self, url: &Url) -> Result<reqwest::Response, FetchError> {
        let client = self.client_for(url).await?;
        client.get(url.clone()).send().await.map_err(|e| FetchError::Failed(describe(&e)))
    }

    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| FetchError::Failed(format!("could not resolve `{host}`: {e}")))?
            .collect();
        if addresses.is_empty() {
            return Err(FetchError::Failed(format!("`{host}` has no addresses")));
        }
        if !self.allow_private
            && let Some(bad) = addresses.iter().find(|a| !is_public(a.ip()))
        {
            return Err(FetchError::Refused { host: host.to_string(), address: bad.ip().to_string() });
        }
        Ok(addresses)
    }
}

async fn read_limited(response: reqwest::Response, max_bytes: u64) -> Result<Response, FetchError> {
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(FetchError::TooLarge { limit: max_bytes });
    }
    let content_type =
        response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FetchError::Failed(describe(&e)))?;
        if bytes.len() as u64 + chunk.len() as u64 > max_bytes {
            return Err(FetchError::TooLarge { limit: max_bytes });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Response { bytes, content_type })
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        text
    }
}
