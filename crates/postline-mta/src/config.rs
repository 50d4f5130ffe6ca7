//! The MTA's settings, as the operator gives them.

use std::{net::SocketAddr, time::Duration};

/// Whether delivery may proceed without TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Use STARTTLS when the server offers it; deliver in clear otherwise.
    #[default]
    Opportunistic,
    /// Never deliver in clear: a server without STARTTLS fails the recipient.
    Enforced,
}

impl TlsPolicy {
    /// Parses `opportunistic` or `enforced`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "opportunistic" => Some(TlsPolicy::Opportunistic),
            "enforced" => Some(TlsPolicy::Enforced),
            _ => None,
        }
    }
}

/// A smarthost all mail goes through instead of recipients' MX hosts.
#[derive(Clone, PartialEq, Eq)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    /// `smtps://`: TLS from the first byte; otherwise STARTTLS (required).
    pub implicit_tls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Verify the relay's certificate (default). `?tls_verify=false` turns it off
    /// for relays with self-signed certificates on private networks.
    pub verify_certificate: bool,
    /// Refuse to send in clear when the relay offers no STARTTLS (default).
    /// `?starttls=optional` allows it, for a local catcher such as Mailpit on
    /// port 1025 or a Postfix on the same host.
    pub require_tls: bool,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("implicit_tls", &self.implicit_tls)
            .field("username", &self.username)
            .field("verify_certificate", &self.verify_certificate)
            .field("require_tls", &self.require_tls)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Parses `smtp://user:pass@host:587`, `smtps://host:465`, optionally with
    /// `?tls_verify=false` and/or `starttls=optional` (joined by `&`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (raw, query) = raw.split_once('?').unwrap_or((raw, ""));
        let (mut verify_certificate, mut require_tls) = (true, true);
        for option in query.split('&').filter(|o| !o.is_empty()) {
            match option {
                "tls_verify=true" => verify_certificate = true,
                "tls_verify=false" => verify_certificate = false,
                "starttls=required" => require_tls = true,
                "starttls=optional" => require_tls = false,
                other => {
                    return Err(format!(
                        "unknown relay option `{other}`: tls_verify=false and starttls=optional are understood"
                    ));
                }
            }
        }
        let (scheme, rest) = raw.split_once("://").ok_or("the relay must look like smtp://host:587")?;
        let implicit_tls = match scheme {
            "smtp" => false,
            "smtps" => true,
            other => return Err(format!("unknown relay scheme `{other}`: use smtp:// or smtps://")),
        };
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((credentials, address)) => (Some(credentials), address),
            None => (None, rest),
        };
        let address = address.trim_end_matches('/');
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| format!("bad relay port `{port}`"))?),
            None => (address, if implicit_tls { 465 } else { 587 }),
        };
        if host.is_empty() {
            return Err("the relay URL has no host".into());
        }
        let decode = |s: &str| percent_decode(s);
        let (username, password) = match credentials {
            None => (None, None),
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (Some(decode(u)), Some(decode(p))),
                None => (Some(decode(c)), None),
            },
        };
        Ok(Relay { host: host.to_string(), port, implicit_tls, username, password, verify_certificate, require_tls })
    }
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(value) =
                std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Everything the MTA needs to know.
#[derive(Debug, Clone)]
pub struct MtaConfig {
    /// The name this node gives in EHLO.
    pub hostname: String,
    /// Nameservers to ask (with ports); empty means the system's resolver configuration.
    pub dns_servers: Vec<SocketAddr>,
    /// Port to deliver to on MX hosts (25; tests use a loopback port).
    pub mx_port: u16,
    /// TLS policy for MX delivery (per-domain settings arrive with the domains API).
    pub tls: TlsPolicy,
    /// Send everything through this smarthost instead of MX hosts.
    pub relay: Option<Relay>,
    /// DKIM selector for new keys.
    pub dkim_selector: String,
    /// Also sign with Ed25519 (RFC 8463) beside RSA.
    pub dkim_ed25519: bool,
    /// Sign outgoing mail with DKIM. Off only when a relay downstream signs for the
    /// domain instead (and for the benchmark's unsigned run).
    pub dkim_signing: bool,
    /// Most SMTP transactions in flight at once.
    pub concurrency: usize,
    /// Most connections to one destination host at once.
    pub per_destination: usize,
    /// Time limit to open a connection.
    pub connect_timeout: Duration,
    /// Time limit for each command's reply (RFC 5321 §4.5.3.2 suggests 5 minutes).
    pub command_timeout: Duration,
    /// Time limit for the reply after the message data (RFC 5321: 10 minutes).
    pub data_timeout: Duration,
    /// How long an idle pooled connection is kept.
    pub idle_timeout: Duration,
    /// Capture mode: messages are rendered and signed, then kept for the developer
    /// inbox instead of sent (`postline_core::capture`).
    pub capture: bool,
}

impl Default for MtaConfig {
    fn default() -> Self {
        MtaConfig {
            hostname: "localhost".into(),
            dns_servers: Vec::new(),
            mx_port: 25,
            tls: TlsPolicy::Opportunistic,
            relay: None,
            dkim_selector: postline_core::dkim::DEFAULT_SELECTOR.into(),
            dkim_ed25519: false,
            dkim_signing: true,
            concurrency: 32,
            per_destination: 4,
            connect_timeout: Duration::from_secs(30),
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(30),
            capture: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_parse() {
        let relay = Relay::parse("smtp://user%40x.io:p%3Ass@mail.example.net:587").unwrap();
        assert_eq!((relay.host.as_str(), relay.port, relay.implicit_tls), ("mail.example.net", 587, false));
        assert_eq!(relay.username.as_deref(), Some("user@x.io"));
        assert_eq!(relay.password.as_deref(), Some("p:ss"));
        let implicit = Relay::parse("smtps://relay.example.net").unwrap();
        assert_eq!((implicit.port, implicit.implicit_tls, implicit.username), (465, true, None));
        assert!(Relay::parse("smtp://relay.example.net:25?tls_verify=false").is_ok_and(|r| !r.verify_certificate));
        assert!(Relay::parse("smtp://relay.example.net:25?tls_verify=maybe").is_err());
        assert!(relay.require_tls, "STARTTLS is required unless the URL says otherwise");
        let catcher = Relay::parse("smtp://127.0.0.1:1025?starttls=optional&tls_verify=false").unwrap();
        assert!(!catcher.require_tls && !catcher.verify_certificate);
        assert!(Relay::parse("smtp://127.0.0.1:1025?starttls=sometimes").is_err());
        assert!(Relay::parse("http://x").is_err());
        assert!(Relay::parse("smtp://:25").is_err());
        assert!(!format!("{relay:?}").contains("p:ss"), "passwords are not logged");
    }
}
