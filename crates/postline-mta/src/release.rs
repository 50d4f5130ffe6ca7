//! Releasing a captured message (capture mode's "Release"): one SMTP session to the
//! operator's release server — the same client code as delivery ([`Connection`]),
//! with the relay's TLS and credential settings — sending the captured bytes as
//! they are, and each recipient's reply for the developer to read.

use std::time::Duration;

use async_trait::async_trait;
use postline_core::{
    capture::{ReleaseOutcome, Releaser},
    delivery::policy::AttemptResult,
};
use tokio_rustls::TlsConnector;

use crate::{
    Relay, TlsPolicy,
    session::{Connection, Dial},
};

/// An SMTP client for the release server.
pub struct SmtpRelease {
    relay: Relay,
    hostname: String,
    tls: TlsConnector,
    timeout: Duration,
}

impl SmtpRelease {
    /// A client that says `hostname` in EHLO and gives up on any step after `timeout`.
    pub fn new(relay: Relay, hostname: String, timeout: Duration) -> Result<Self, String> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let tls = mail_send::smtp::tls::build_tls_connector(!relay.verify_certificate)?;
        Ok(SmtpRelease { relay, hostname, tls, timeout })
    }

    async fn connect(&self) -> Result<Connection, String> {
        let target = format!("{}:{}", self.relay.host, self.relay.port);
        let address = tokio::net::lookup_host(&target)
            .await
            .map_err(|e| format!("{target}: {e}"))?
            .next()
            .ok_or_else(|| format!("{target}: the name has no address"))?;
        let credentials = self.relay.username.as_deref().zip(self.relay.password.as_deref());
        let dial = Dial {
            address,
            host: &self.relay.host,
            helo: &self.hostname,
            policy: if self.relay.require_tls { TlsPolicy::Enforced } else { TlsPolicy::Opportunistic },
            implicit_tls: self.relay.implicit_tls,
            credentials,
            connect_timeout: self.timeout,
            command_timeout: self.timeout,
            tls: &self.tls,
        };
        Connection::open(&dial).await.map_err(|e| e.to_string())
    }
}

fn outcome(recipient: &str, result: AttemptResult) -> ReleaseOutcome {
    let (accepted, reply) = match result {
        AttemptResult::Delivered { reply } => (true, reply),
        AttemptResult::Rejected { code, text } => (false, format!("{code} {text}")),
        AttemptResult::Deferred { reason } | AttemptResult::Undeliverable { reason } => (false, reason),
    };
    ReleaseOutcome { recipient: recipient.to_string(), accepted, reply }
}

#[async_trait]
impl Releaser for SmtpRelease {
    fn destination(&self) -> String {
        format!("{}:{}", self.relay.host, self.relay.port)
    }

    async fn release(&self, mail_from: &str, recipients: &[String], raw: &[u8]) -> Vec<ReleaseOutcome> {
        let mut connection = match self.connect().await {
            Ok(connection) => connection,
            Err(reason) => {
                return recipients
                    .iter()
                    .map(|r| outcome(r, AttemptResult::Deferred { reason: reason.clone() }))
                    .collect();
            }
        };
        let (results, _) = connection.send(mail_from, recipients, raw, self.timeout).await;
        connection.quit().await;
        recipients.iter().zip(results).map(|(recipient, result)| outcome(recipient, result)).collect()
    }
}
