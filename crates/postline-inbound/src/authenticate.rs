//! Authenticating received mail: SPF (RFC 7208), DKIM (RFC 6376) and DMARC
//! (RFC 7489), evaluated by `mail-auth` and summarised as owned [`AuthResults`]
//! that the caller stores (as JSON) and shows, together with the
//! `Authentication-Results` header value (RFC 8601) it prepends to the message.
//!
//! A check never fails: DNS trouble is `temperror`, a broken record `permerror`, and
//! bytes that do not parse as a message are treated as a message without signatures
//! or From, so DKIM reports nothing and DMARC `none`. The whole check runs under one
//! deadline so that a sender's slow or silent nameservers cannot hold the SMTP
//! session: past it, every result is `temperror`.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use mail_auth::{
    AuthenticatedMessage, DkimOutput, MessageAuthenticator,
    dkim::DkimError,
    dmarc::{Policy, verify::DmarcParameters},
    hickory_resolver::config::{ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts},
    spf::verify::SpfParameters,
};
use serde::{Deserialize, Serialize};

/// How long one whole check may take unless [`Authenticator::deadline`] says
/// otherwise: SPF alone may spend 20 s on its ten lookups (mail-auth's limit).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// At most this many DKIM signatures are verified and reported; more only serve to
/// make the receiver do lookups and the header grow.
pub const MAX_DKIM_SIGNATURES: usize = 16;

/// What SPF, DKIM and DMARC concluded about one received message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthResults {
    pub spf: Spf,
    /// One entry per `DKIM-Signature`, in message order; empty when unsigned.
    pub dkim: Vec<Dkim>,
    pub dmarc: Dmarc,
    /// The `Authentication-Results` header value (without the field name), each
    /// result on its own folded line (`;\r\n\t`).
    pub header: String,
}

/// The SPF verdict on the MAIL FROM domain, or on the HELO name for a null reverse
/// path (RFC 7208 §2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spf {
    pub result: SpfResult,
    /// The domain whose policy was evaluated.
    pub domain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpfResult {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    None,
    TempError,
    PermError,
}

/// The verdict on one DKIM signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dkim {
    pub result: DkimResult,
    /// The signing domain (`d=`); empty when the signature did not parse.
    pub domain: String,
    /// The selector (`s=`); empty when the signature did not parse.
    pub selector: String,
}

/// RFC 8601 §2.7.1's DKIM results. A body that no longer matches its signed hash is
/// `fail` (RFC 6376 §6.1.3 makes it a verification failure), although mail-auth
/// reports it as `neutral`; `neutral` is left for signatures that could not be
/// processed (syntax errors, expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DkimResult {
    Pass,
    Fail,
    Neutral,
    None,
    TempError,
    PermError,
}

/// The DMARC verdict on the RFC 5322 From domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dmarc {
    pub result: DmarcResult,
    /// The policy the domain asks receivers to apply to failing mail.
    pub policy: DmarcPolicy,
    /// The From domain; empty when the message has none (or several).
    pub from_domain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcResult {
    Pass,
    Fail,
    None,
    TempError,
    PermError,
}

/// `p=` (or `sp=`/`np=` for subdomains, lowered one step by `t=y`);
/// `Unspecified` when no DMARC record applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcPolicy {
    None,
    Quarantine,
    Reject,
    Unspecified,
}

/// Why an [`Authenticator`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverError(String);

impl fmt::Display for ResolverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResolverError {}

/// Checks received messages against DNS. Cheap to clone; answers are cached for
/// their TTL across checks by the resolver.
#[derive(Clone)]
pub struct Authenticator {
    inner: MessageAuthenticator,
    deadline: Duration,
}

impl Authenticator {
    /// An authenticator asking `nameservers` (UDP, then TCP for truncated answers),
    /// or the system's configuration when the list is empty.
    pub fn new(nameservers: Vec<SocketAddr>) -> Result<Self, ResolverError> {
        let mut options = ResolverOpts::default();
        options.timeout = Duration::from_secs(5);
        options.attempts = 2;
        let config = if nameservers.is_empty() {
            let (config, _) = mail_auth::hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| ResolverError(format!("reading the system's DNS configuration: {e}")))?;
            config
        } else {
            let servers = nameservers
                .iter()
                .map(|server| {
                    let mut udp = ConnectionConfig::new(ProtocolConfig::Udp);
                    udp.port = server.port();
                    let mut tcp = ConnectionConfig::new(ProtocolConfig::Tcp);
                    tcp.port = server.port();
                    NameServerConfig::new(server.ip(), true, vec![udp, tcp])
                })
                .collect();
            ResolverConfig::from_parts(None, vec![], servers)
        };
        let inner = MessageAuthenticator::new(config, options)
            .map_err(|e| ResolverError(format!("building the DNS resolver: {e}")))?;
        Ok(Authenticator { inner, deadline: DEFAULT_DEADLINE })
    }

    /// The same authenticator giving up (all `temperror`) after `deadline`.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Authenticates `message` as received from `client_ip`, which said `helo` and
    /// `MAIL FROM:<mail_from>` (empty or `<>` for a null reverse path), at the
    /// receiving host `receiver_host` (the header's authserv-id).
    pub async fn check(
        &self,
        message: &[u8],
        client_ip: IpAddr,
        helo: &str,
        mail_from: &str,
        receiver_host: &str,
    ) -> AuthResults {
        let sender = mail_from.trim().trim_start_matches('<').trim_end_matches('>');
        let mut parsed = AuthenticatedMessage::parse(message).unwrap_or_default();
        parsed.dkim_headers.truncate(MAX_DKIM_SIGNATURES);
        parsed.errors.truncate(MAX_DKIM_SIGNATURES);
        let (spf, dkim, dmarc) =
            match tokio::time::timeout(self.deadline, self.evaluate(&parsed, client_ip, helo, sender, receiver_host))
                .await
            {
                Ok(results) => results,
                Err(_) => gave_up(&parsed, helo, sender),
            };
        let header = render_header(receiver_host, &spf, sender, helo, &dkim, &dmarc);
        AuthResults { spf, dkim, dmarc, header }
    }

    async fn evaluate(
        &self,
        parsed: &AuthenticatedMessage<'_>,
        client_ip: IpAddr,
        helo: &str,
        sender: &str,
        receiver_host: &str,
    ) -> (Spf, Vec<Dkim>, Dmarc) {
        let spf = if sender.is_empty() {
            // RFC 7208 §2.4: a null reverse path is checked as postmaster@<HELO>.
            self.inner.verify_spf(SpfParameters::verify_ehlo(client_ip, helo, receiver_host)).await
        } else {
            self.inner.verify_spf(SpfParameters::verify_mail_from(client_ip, helo, receiver_host, sender)).await
        };
        let dkim = self.inner.verify_dkim(parsed).await;
        let dmarc = self.inner.verify_dmarc(DmarcParameters::new(parsed, &dkim, spf.domain(), &spf)).await;

        let spf_result = match spf.result() {
            mail_auth::SpfResult::Pass => SpfResult::Pass,
            mail_auth::SpfResult::Fail => SpfResult::Fail,
            mail_auth::SpfResult::SoftFail => SpfResult::SoftFail,
            mail_auth::SpfResult::Neutral => SpfResult::Neutral,
            mail_auth::SpfResult::None => SpfResult::None,
            mail_auth::SpfResult::TempError => SpfResult::TempError,
            mail_auth::SpfResult::PermError => SpfResult::PermError,
        };
        let policy = match (dmarc.dmarc_record(), dmarc.policy()) {
            (None, _) | (_, Policy::Unspecified) => DmarcPolicy::Unspecified,
            (Some(_), Policy::None) => DmarcPolicy::None,
            (Some(_), Policy::Quarantine) => DmarcPolicy::Quarantine,
            (Some(_), Policy::Reject) => DmarcPolicy::Reject,
        };
        let dmarc_result = match dmarc.result() {
            mail_auth::DmarcResult::Pass => DmarcResult::Pass,
            mail_auth::DmarcResult::Fail(_) => DmarcResult::Fail,
            mail_auth::DmarcResult::None => DmarcResult::None,
            mail_auth::DmarcResult::TempError(_) => DmarcResult::TempError,
            mail_auth::DmarcResult::PermError(_) => DmarcResult::PermError,
        };
        (
            Spf { result: spf_result, domain: spf.domain().to_string() },
            dkim.iter().take(MAX_DKIM_SIGNATURES).map(dkim_check).collect(),
            Dmarc { result: dmarc_result, policy, from_domain: dmarc.domain().to_string() },
        )
    }
}

fn dkim_check(output: &DkimOutput<'_>) -> Dkim {
    use mail_auth::{DkimResult as Verdict, Error};
    let result = match output.result() {
        Verdict::Pass => DkimResult::Pass,
        Verdict::Fail(_) | Verdict::Neutral(Error::Dkim(DkimError::FailedBodyHashMatch)) => DkimResult::Fail,
        Verdict::Neutral(_) => DkimResult::Neutral,
        Verdict::None => DkimResult::None,
        Verdict::TempError(_) => DkimResult::TempError,
        Verdict::PermError(_) => DkimResult::PermError,
    };
    let (domain, selector) = output.signature().map(|s| (s.d.clone(), s.s.clone())).unwrap_or_default();
    Dkim { result, domain, selector }
}

/// Results for a check that ran out of time: nothing was concluded, so everything
/// that was being checked is `temperror`.
fn gave_up(parsed: &AuthenticatedMessage<'_>, helo: &str, sender: &str) -> (Spf, Vec<Dkim>, Dmarc) {
    let spf_domain = match sender.rsplit_once('@') {
        Some((_, domain)) => domain,
        None => helo,
    };
    let dkim = parsed
        .dkim_headers
        .iter()
        .map(|h| Dkim { result: DkimResult::TempError, domain: h.header.d.clone(), selector: h.header.s.clone() })
        .collect();
    let from_domain = parsed.from.first().and_then(|from| from.rsplit_once('@')).map(|(_, domain)| domain);
    (
        Spf { result: SpfResult::TempError, domain: spf_domain.to_string() },
        dkim,
        Dmarc {
            result: DmarcResult::TempError,
            policy: DmarcPolicy::Unspecified,
            from_domain: from_domain.unwrap_or_default().to_string(),
        },
    )
}

/// The `Authentication-Results` value: `receiver; spf=…; dkim=…; dmarc=…`, one
/// result per folded line. Every value but the result keywords comes from the
/// client or the message, so each is written as a plain token only when it is one,
/// and otherwise quoted with its control characters (CR, LF) dropped: nothing a
/// sender writes can end the header or start another.
fn render_header(receiver: &str, spf: &Spf, sender: &str, helo: &str, dkim: &[Dkim], dmarc: &Dmarc) -> String {
    let mut out = String::with_capacity(256);
    push_value(&mut out, receiver, false);
    out.push_str(";\r\n\tspf=");
    out.push_str(spf.result.as_str());
    if sender.is_empty() {
        out.push_str(" smtp.helo=");
        push_value(&mut out, helo, false);
    } else {
        out.push_str(" smtp.mailfrom=");
        push_value(&mut out, sender, true);
    }
    if dkim.is_empty() {
        out.push_str(";\r\n\tdkim=none");
    }
    for signature in dkim {
        out.push_str(";\r\n\tdkim=");
        out.push_str(signature.result.as_str());
        if !signature.domain.is_empty() {
            out.push_str(" header.d=");
            push_value(&mut out, &signature.domain, false);
            out.push_str(" header.s=");
            push_value(&mut out, &signature.selector, false);
        }
    }
    out.push_str(";\r\n\tdmarc=");
    out.push_str(dmarc.result.as_str());
    if !dmarc.from_domain.is_empty() {
        out.push_str(" header.from=");
        push_value(&mut out, &dmarc.from_domain, false);
    }
    if dmarc.policy != DmarcPolicy::Unspecified {
        out.push_str(" policy.dmarc=");
        out.push_str(dmarc.policy.as_str());
    }
    out
}

/// Writes `value` as RFC 8601's `pvalue`: bare when it is a plain token (or, with
/// `address`, a plain `local@domain`), else as a quoted string.
fn push_value(out: &mut String, value: &str, address: bool) {
    let plain_token = |part: &str| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
    };
    let plain = match value.split_once('@') {
        Some((local, domain)) => address && plain_token(local) && plain_token(domain),
        None => plain_token(value),
    };
    if plain {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars().filter(|c| !c.is_control()) {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

impl SpfResult {
    /// The RFC 8601 result keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::Neutral => "neutral",
            SpfResult::None => "none",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

impl DkimResult {
    /// The RFC 8601 result keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimResult::Pass => "pass",
            DkimResult::Fail => "fail",
            DkimResult::Neutral => "neutral",
            DkimResult::None => "none",
            DkimResult::TempError => "temperror",
            DkimResult::PermError => "permerror",
        }
    }
}

impl DmarcResult {
    /// The RFC 8601 result keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcResult::Pass => "pass",
            DmarcResult::Fail => "fail",
            DmarcResult::None => "none",
            DmarcResult::TempError => "temperror",
            DmarcResult::PermError => "permerror",
        }
    }
}

impl DmarcPolicy {
    /// The policy as a DMARC record spells it (`unspecified` when none applies).
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcPolicy::None => "none",
            DmarcPolicy::Quarantine => "quarantine",
            DmarcPolicy::Reject => "reject",
            DmarcPolicy::Unspecified => "unspecified",
        }
    }
}
