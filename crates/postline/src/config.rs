//! Configuration: defaults < `postline.toml` < `POSTLINE_*` environment < flags.
//!
//! Flags and environment variables are merged by clap (a flag wins over its
//! variable); the file fills in what neither gave; defaults fill the rest.
//! Secrets can come from files (`database_url_file`, `POSTLINE_DATABASE_URL_FILE`).

use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The default listen address: loopback, on a port browsers' `fetch` accepts.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3210";
/// The default region of a node.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default per-team request rate: high enough never to throttle a local test suite.
pub const DEFAULT_RATE_LIMIT: u32 = 1000;

/// Ports the Fetch standard blocks ("bad ports"): a server on one of them is
/// unreachable from browsers and from Node's `fetch`, which the Node SDK uses.
pub const FETCH_BLOCKED_PORTS: &[u16] = &[
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
    111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
    540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
    6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
];

/// Settings as read from `postline.toml` (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub database_url_file: Option<PathBuf>,
    pub region: Option<String>,
    pub public_url: Option<String>,
    pub hostname: Option<String>,
    pub rate_limit: Option<u32>,
    pub allow_private_fetches: Option<bool>,
    pub fetch_timeout_secs: Option<u64>,
    pub dns_servers: Option<String>,
    pub mx_port: Option<u16>,
    pub smtp_relay: Option<String>,
    pub outbound_tls: Option<String>,
    pub dkim_selector: Option<String>,
    pub dkim_ed25519: Option<bool>,
    pub dkim_signing: Option<bool>,
    pub delivery_expiry_hours: Option<u64>,
    pub delivery_concurrency: Option<usize>,
    pub delivery_lease_secs: Option<u64>,
    pub broadcast_window: Option<u64>,
    pub broadcast_stats_reuse_from: Option<u64>,
    pub capture: Option<bool>,
    pub capture_release: Option<String>,
    pub capture_release_allowed: Option<String>,
    pub regions: Option<std::collections::BTreeMap<String, RegionFile>>,
    pub region_names: Option<String>,
    pub dns_base: Option<String>,
    pub smtp_listen: Option<String>,
    pub smtp_tls_cert: Option<PathBuf>,
    pub smtp_tls_key: Option<PathBuf>,
    pub smtp_max_message_bytes: Option<usize>,
    pub smtp_max_connections_per_ip: Option<usize>,
    pub smtp_max_connections_per_ip_per_minute: Option<usize>,
    pub smtp_proxy_protocol: Option<bool>,
    pub submission_listen: Option<String>,
    pub submissions_listen: Option<String>,
    pub submission_auth_without_tls: Option<bool>,
}

/// A region's host names in `postline.toml` (`[regions.eu-west-1]`); unset ones are
/// derived from `dns_base`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionFile {
    pub feedback_host: Option<String>,
    pub inbound_host: Option<String>,
    pub spf_include: Option<String>,
    pub tracking_host: Option<String>,
}

/// Settings given on the command line or in the environment.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// Address to listen on [env: POSTLINE_LISTEN] [default: 127.0.0.1:3210]
    #[arg(long, env = "POSTLINE_LISTEN", global = true, hide_env = true)]
    pub listen: Option<String>,
    /// Data directory, created on first start [env: POSTLINE_DATA_DIR] [default: ./postline-data]
    #[arg(long, env = "POSTLINE_DATA_DIR", global = true, hide_env = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… [env: POSTLINE_DATABASE_URL] [default: SQLite in the data directory]
    #[arg(long, env = "POSTLINE_DATABASE_URL", global = true, hide_env = true)]
    pub database_url: Option<String>,
    /// File holding the database URL, for secrets [env: POSTLINE_DATABASE_URL_FILE]
    #[arg(long, env = "POSTLINE_DATABASE_URL_FILE", global = true, hide_env = true)]
    pub database_url_file: Option<PathBuf>,
    /// This node's region [env: POSTLINE_REGION] [default: us-east-1]
    #[arg(long, env = "POSTLINE_REGION", global = true, hide_env = true)]
    pub region: Option<String>,
    /// Public base URL for links Postline hands out [env: POSTLINE_PUBLIC_URL] [default: http://LISTEN]
    #[arg(long, env = "POSTLINE_PUBLIC_URL", global = true, hide_env = true)]
    pub public_url: Option<String>,
    /// Host name this node uses in SMTP and Message-IDs [env: POSTLINE_HOSTNAME] [default: localhost]
    #[arg(long, env = "POSTLINE_HOSTNAME", global = true, hide_env = true)]
    pub hostname: Option<String>,
    /// Requests per second per team [env: POSTLINE_RATE_LIMIT] [default: 1000]
    #[arg(long, env = "POSTLINE_RATE_LIMIT", global = true, hide_env = true)]
    pub rate_limit: Option<u32>,
    /// Allow remote fetches of private/loopback addresses [env: POSTLINE_ALLOW_PRIVATE_FETCHES] [default: only when listening on loopback]
    #[arg(long, env = "POSTLINE_ALLOW_PRIVATE_FETCHES", global = true, hide_env = true)]
    pub allow_private_fetches: Option<bool>,
    /// Time limit for fetching a remote attachment, in seconds [env: POSTLINE_FETCH_TIMEOUT_SECS] [default: 15]
    #[arg(long, env = "POSTLINE_FETCH_TIMEOUT_SECS", global = true, hide_env = true)]
    pub fetch_timeout_secs: Option<u64>,
    /// Nameservers for MX lookups, e.g. 127.0.0.1:5353,10.0.0.2 [env: POSTLINE_DNS_SERVERS] [default: the system's]
    #[arg(long, env = "POSTLINE_DNS_SERVERS", global = true, hide_env = true)]
    pub dns_servers: Option<String>,
    /// Port to deliver to on recipients' MX hosts [env: POSTLINE_MX_PORT] [default: 25]
    #[arg(long, env = "POSTLINE_MX_PORT", global = true, hide_env = true)]
    pub mx_port: Option<u16>,
    /// Send all mail through this smarthost: smtp://user:pass@host:587 or smtps://… [env: POSTLINE_SMTP_RELAY]
    #[arg(long, env = "POSTLINE_SMTP_RELAY", global = true, hide_env = true)]
    pub smtp_relay: Option<String>,
    /// TLS to MX hosts: opportunistic or enforced [env: POSTLINE_OUTBOUND_TLS] [default: opportunistic]
    #[arg(long, env = "POSTLINE_OUTBOUND_TLS", global = true, hide_env = true)]
    pub outbound_tls: Option<String>,
    /// DKIM selector for new keys [env: POSTLINE_DKIM_SELECTOR] [default: resend]
    #[arg(long, env = "POSTLINE_DKIM_SELECTOR", global = true, hide_env = true)]
    pub dkim_selector: Option<String>,
    /// Also sign with Ed25519 [env: POSTLINE_DKIM_ED25519] [default: false]
    #[arg(long, env = "POSTLINE_DKIM_ED25519", global = true, hide_env = true)]
    pub dkim_ed25519: Option<bool>,
    /// Sign outgoing mail with DKIM; turn off only when a relay signs for you [env: POSTLINE_DKIM_SIGNING] [default: true]
    #[arg(long, env = "POSTLINE_DKIM_SIGNING", global = true, hide_env = true)]
    pub dkim_signing: Option<bool>,
    /// Hours a recipient is retried before it bounces [env: POSTLINE_DELIVERY_EXPIRY_HOURS] [default: 72]
    #[arg(long, env = "POSTLINE_DELIVERY_EXPIRY_HOURS", global = true, hide_env = true)]
    pub delivery_expiry_hours: Option<u64>,
    /// SMTP transactions in flight at once [env: POSTLINE_DELIVERY_CONCURRENCY] [default: 32]
    #[arg(long, env = "POSTLINE_DELIVERY_CONCURRENCY", global = true, hide_env = true)]
    pub delivery_concurrency: Option<usize>,
    /// Seconds a claimed delivery stays leased without renewal: how soon a crashed
    /// node's in-flight mail is retried [env: POSTLINE_DELIVERY_LEASE_SECS] [default: 60]
    #[arg(long, env = "POSTLINE_DELIVERY_LEASE_SECS", global = true, hide_env = true)]
    pub delivery_lease_secs: Option<u64>,
    /// Most copies of one broadcast waiting for the MTA before its fan-out pauses; 0: no
    /// pacing (copies wait in the bulk lane, behind transactional mail)
    /// [env: POSTLINE_BROADCAST_WINDOW] [default: 0]
    #[arg(long, env = "POSTLINE_BROADCAST_WINDOW", global = true, hide_env = true)]
    pub broadcast_window: Option<u64>,
    /// Copies from which a broadcast's stats may be up to a second old (counting reads
    /// every copy's timeline) [env: POSTLINE_BROADCAST_STATS_REUSE_FROM] [default: 10000]
    #[arg(long, env = "POSTLINE_BROADCAST_STATS_REUSE_FROM", global = true, hide_env = true)]
    pub broadcast_stats_reuse_from: Option<u64>,
    /// Capture mode: keep real recipients' mail in the dashboard's inbox, send nothing [env: POSTLINE_CAPTURE] [default: false]
    #[arg(long, env = "POSTLINE_CAPTURE", global = true, hide_env = true, num_args = 0..=1, default_missing_value = "true")]
    pub capture: Option<bool>,
    /// Where the developer inbox's "Release" sends a captured message: smtp://host:port,
    /// smtps://user:pass@host, `?starttls=optional` for a local catcher [env: POSTLINE_CAPTURE_RELEASE] [default: off]
    #[arg(long, env = "POSTLINE_CAPTURE_RELEASE", global = true, hide_env = true)]
    pub capture_release: Option<String>,
    /// Addresses or domains a release may go to, comma separated [env: POSTLINE_CAPTURE_RELEASE_ALLOWED] [default: any]
    #[arg(long, env = "POSTLINE_CAPTURE_RELEASE_ALLOWED", global = true, hide_env = true)]
    pub capture_release_allowed: Option<String>,
    /// Regions this installation offers [env: POSTLINE_REGIONS] [default: us-east-1,eu-west-1,sa-east-1,ap-northeast-1]
    #[arg(long = "regions", env = "POSTLINE_REGIONS", global = true, hide_env = true)]
    pub region_names: Option<String>,
    /// Base of the host names domains' DNS records point at, e.g. mail.example.net [env: POSTLINE_DNS_BASE] [default: the hostname]
    #[arg(long, env = "POSTLINE_DNS_BASE", global = true, hide_env = true)]
    pub dns_base: Option<String>,
    /// Address for inbound SMTP (receiving domains, bounces, complaints), e.g. 0.0.0.0:25 [env: POSTLINE_SMTP_LISTEN] [default: off]
    #[arg(long, env = "POSTLINE_SMTP_LISTEN", global = true, hide_env = true)]
    pub smtp_listen: Option<String>,
    /// PEM certificate chain for inbound STARTTLS [env: POSTLINE_SMTP_TLS_CERT] [default: self-signed for the hostname]
    #[arg(long, env = "POSTLINE_SMTP_TLS_CERT", global = true, hide_env = true)]
    pub smtp_tls_cert: Option<PathBuf>,
    /// PEM private key for inbound STARTTLS [env: POSTLINE_SMTP_TLS_KEY]
    #[arg(long, env = "POSTLINE_SMTP_TLS_KEY", global = true, hide_env = true)]
    pub smtp_tls_key: Option<PathBuf>,
    /// Largest inbound message in bytes [env: POSTLINE_SMTP_MAX_MESSAGE_BYTES] [default: 41943040]
    #[arg(long, env = "POSTLINE_SMTP_MAX_MESSAGE_BYTES", global = true, hide_env = true)]
    pub smtp_max_message_bytes: Option<usize>,
    /// Simultaneous inbound connections from one address [env: POSTLINE_SMTP_MAX_CONNECTIONS_PER_IP] [default: 20]
    #[arg(long, env = "POSTLINE_SMTP_MAX_CONNECTIONS_PER_IP", global = true, hide_env = true)]
    pub smtp_max_connections_per_ip: Option<usize>,
    /// New inbound connections from one address per minute [env: POSTLINE_SMTP_MAX_CONNECTIONS_PER_IP_PER_MINUTE] [default: 600]
    #[arg(long, env = "POSTLINE_SMTP_MAX_CONNECTIONS_PER_IP_PER_MINUTE", global = true, hide_env = true)]
    pub smtp_max_connections_per_ip_per_minute: Option<usize>,
    /// SMTP connections start with a PROXY protocol header (v1/v2) from a load balancer [env: POSTLINE_SMTP_PROXY_PROTOCOL] [default: false]
    #[arg(long, env = "POSTLINE_SMTP_PROXY_PROTOCOL", global = true, hide_env = true)]
    pub smtp_proxy_protocol: Option<bool>,
    /// Address for SMTP submission with STARTTLS, e.g. 0.0.0.0:587 [env: POSTLINE_SUBMISSION_LISTEN] [default: off]
    #[arg(long, env = "POSTLINE_SUBMISSION_LISTEN", global = true, hide_env = true)]
    pub submission_listen: Option<String>,
    /// Address for SMTP submission over implicit TLS, e.g. 0.0.0.0:465 [env: POSTLINE_SUBMISSIONS_LISTEN] [default: off]
    #[arg(long, env = "POSTLINE_SUBMISSIONS_LISTEN", global = true, hide_env = true)]
    pub submissions_listen: Option<String>,
    /// Offer AUTH on submission before STARTTLS (loopback only) [env: POSTLINE_SUBMISSION_AUTH_WITHOUT_TLS] [default: false]
    #[arg(long, env = "POSTLINE_SUBMISSION_AUTH_WITHOUT_TLS", global = true, hide_env = true)]
    pub submission_auth_without_tls: Option<bool>,
    /// Configuration file [env: POSTLINE_CONFIG] [default: ./postline.toml if present]
    #[arg(long, env = "POSTLINE_CONFIG", global = true, hide_env = true)]
    pub config: Option<PathBuf>,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub region: String,
    pub public_url: String,
    pub hostname: String,
    pub rate_limit: u32,
    pub allow_private_fetches: bool,
    /// Time limit for one remote fetch (attachment `path`).
    pub fetch_timeout: std::time::Duration,
    /// The outbound MTA's settings.
    pub mta: postline_mta::MtaConfig,
    /// How long a recipient is retried before it bounces.
    pub delivery_expiry: chrono::Duration,
    /// The regions offered, with their host names.
    pub regions: Vec<postline_core::domains::records::RegionHosts>,
    /// How long a claimed delivery stays leased without renewal.
    pub delivery_lease: chrono::Duration,
    /// Most copies of one broadcast waiting for the MTA before its fan-out pauses.
    pub broadcast_window: u64,
    /// Copies from which a broadcast's stats may be up to a second old.
    pub broadcast_stats_reuse_from: u64,
    /// Capture mode: nothing is sent; the developer inbox keeps it all.
    pub capture: bool,
    /// The developer inbox's release server, when one is configured.
    pub capture_release: Option<CaptureRelease>,
    /// The inbound SMTP server, when one is to listen.
    pub smtp: Option<SmtpInbound>,
}

/// Where captured messages may be released to.
#[derive(Debug, Clone)]
pub struct CaptureRelease {
    pub server: postline_mta::Relay,
    /// Addresses or domains a release may go to; empty allows any.
    pub allowed: Vec<String>,
}

/// The inbound SMTP server's settings (receiving, and the submission ports).
#[derive(Debug, Clone)]
pub struct SmtpInbound {
    /// Port 25 style: receiving domains, bounces and complaints.
    pub listen: Option<SocketAddr>,
    /// Submission with STARTTLS (587).
    pub submission: Option<SocketAddr>,
    /// Submission over implicit TLS (465).
    pub submissions: Option<SocketAddr>,
    /// AUTH before STARTTLS on submission: only allowed on loopback addresses.
    pub auth_without_tls: bool,
    /// Certificate chain and key (PEM); `None` makes a self-signed one at start.
    pub tls_files: Option<(PathBuf, PathBuf)>,
    pub max_message_bytes: usize,
    pub max_connections_per_ip: usize,
    pub max_connections_per_ip_per_minute: usize,
    pub proxy_protocol: bool,
}

fn smtp_inbound(overrides: &Overrides, file: &FileConfig) -> anyhow::Result<Option<SmtpInbound>> {
    let address = |name: &str, raw: Option<String>| -> anyhow::Result<Option<SocketAddr>> {
        raw.map(|raw| {
            raw.parse().with_context(|| format!("`{name}` must be an address such as 0.0.0.0:25, not `{raw}`"))
        })
        .transpose()
    };
    let listen = address("smtp_listen", overrides.smtp_listen.clone().or(file.smtp_listen.clone()))?;
    let submission =
        address("submission_listen", overrides.submission_listen.clone().or(file.submission_listen.clone()))?;
    let submissions =
        address("submissions_listen", overrides.submissions_listen.clone().or(file.submissions_listen.clone()))?;
    if listen.is_none() && submission.is_none() && submissions.is_none() {
        return Ok(None);
    }
    let auth_without_tls = overrides.submission_auth_without_tls.or(file.submission_auth_without_tls).unwrap_or(false);
    if auth_without_tls && submission.is_some_and(|a| !a.ip().is_loopback()) {
        bail!("`submission_auth_without_tls` would send API keys in clear: it is only allowed on a loopback address");
    }
    let cert = overrides.smtp_tls_cert.clone().or(file.smtp_tls_cert.clone());
    let key = overrides.smtp_tls_key.clone().or(file.smtp_tls_key.clone());
    let tls_files = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => bail!("`smtp_tls_cert` and `smtp_tls_key` go together: give both or neither"),
    };
    Ok(Some(SmtpInbound {
        listen,
        submission,
        submissions,
        auth_without_tls,
        tls_files,
        max_message_bytes: overrides
            .smtp_max_message_bytes
            .or(file.smtp_max_message_bytes)
            .unwrap_or(postline_core::receiving::MAX_RECEIVED_BYTES)
            .clamp(1024, 200 * 1024 * 1024),
        max_connections_per_ip: overrides
            .smtp_max_connections_per_ip
            .or(file.smtp_max_connections_per_ip)
            .unwrap_or(20)
            .clamp(1, 10_000),
        max_connections_per_ip_per_minute: overrides
            .smtp_max_connections_per_ip_per_minute
            .or(file.smtp_max_connections_per_ip_per_minute)
            .unwrap_or(600)
            .clamp(1, 1_000_000),
        proxy_protocol: overrides.smtp_proxy_protocol.or(file.smtp_proxy_protocol).unwrap_or(false),
    }))
}

impl Config {
    /// Resolves the layers.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Self> {
        let file = match &overrides.config {
            Some(path) => read_file(path)?,
            None if Path::new("postline.toml").exists() => read_file(Path::new("postline.toml"))?,
            None => FileConfig::default(),
        };
        let hostname = overrides.hostname.clone().or(file.hostname.clone()).unwrap_or_else(|| "localhost".to_string());
        let mta = mta_config(overrides, &file, &hostname)?;
        let regions = regions(overrides, &file, &hostname)?;
        let smtp = smtp_inbound(overrides, &file)?;
        let capture = overrides.capture.or(file.capture).unwrap_or(false);
        let mta = postline_mta::MtaConfig { capture, ..mta };
        let capture_release = capture_release(overrides, &file)?;
        let listen_raw = overrides.listen.clone().or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = listen_raw
            .parse()
            .with_context(|| format!("`listen` must be an address such as {DEFAULT_LISTEN}, not `{listen_raw}`"))?;
        if FETCH_BLOCKED_PORTS.contains(&listen.port()) {
            bail!(
                "port {} is blocked by browsers' and Node's fetch, so the Node SDK could not reach Postline there; choose another port",
                listen.port()
            );
        }
        let data_dir = overrides.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("postline-data"));
        let url_file = overrides.database_url_file.clone().or(file.database_url_file);
        let database_url = match (overrides.database_url.clone(), url_file, file.database_url) {
            (Some(url), _, _) => url,
            (None, Some(path), _) => std::fs::read_to_string(&path)
                .with_context(|| format!("reading the database URL from {}", path.display()))?
                .trim()
                .to_string(),
            (None, None, Some(url)) => url,
            (None, None, None) => format!("sqlite://{}", data_dir.join("postline.db").display()),
        };
        let public_url = overrides
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{}", display_host(listen)))
            .trim_end_matches('/')
            .to_string();

        let allow_private_fetches =
            overrides.allow_private_fetches.or(file.allow_private_fetches).unwrap_or_else(|| listen.ip().is_loopback());
        let region = overrides.region.clone().or(file.region).unwrap_or_else(|| DEFAULT_REGION.to_string());
        if !regions.iter().any(|r| r.name == region) {
            bail!("this node's region `{region}` is not among the offered regions");
        }
        Ok(Config {
            listen,
            data_dir,
            database_url,
            region,
            public_url,
            hostname: hostname.clone(),
            rate_limit: overrides.rate_limit.or(file.rate_limit).unwrap_or(DEFAULT_RATE_LIMIT),
            allow_private_fetches,
            fetch_timeout: std::time::Duration::from_secs(
                overrides.fetch_timeout_secs.or(file.fetch_timeout_secs).unwrap_or(15).clamp(1, 300),
            ),
            mta,
            regions,
            delivery_lease: match overrides.delivery_lease_secs.or(file.delivery_lease_secs) {
                Some(secs) => chrono::Duration::seconds(i64::try_from(secs.clamp(3, 3600)).unwrap_or(60)),
                None => postline_core::delivery::worker::DEFAULT_LEASE,
            },
            broadcast_window: overrides
                .broadcast_window
                .or(file.broadcast_window)
                .unwrap_or(postline_core::Settings::DEFAULT_BROADCAST_WINDOW)
                .min(1_000_000),
            broadcast_stats_reuse_from: overrides
                .broadcast_stats_reuse_from
                .or(file.broadcast_stats_reuse_from)
                .unwrap_or(postline_core::Settings::DEFAULT_BROADCAST_STATS_REUSE_FROM),
            smtp,
            capture,
            capture_release,
            delivery_expiry: chrono::Duration::hours(
                i64::try_from(
                    overrides.delivery_expiry_hours.or(file.delivery_expiry_hours).unwrap_or(72).clamp(1, 720),
                )
                .unwrap_or(72),
            ),
        })
    }

    /// Whether the database is the embedded SQLite file.
    pub fn uses_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// The regions offered (default: the contract's four), each with host names from
/// `[regions.NAME]` or derived from `dns_base`.
fn regions(
    overrides: &Overrides,
    file: &FileConfig,
    hostname: &str,
) -> anyhow::Result<Vec<postline_core::domains::records::RegionHosts>> {
    use postline_core::domains::records::RegionHosts;
    let base = overrides.dns_base.clone().or(file.dns_base.clone()).unwrap_or_else(|| hostname.to_string());
    let names: Vec<String> = match overrides.region_names.clone().or(file.region_names.clone()) {
        Some(list) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        None => match &file.regions {
            Some(table) if !table.is_empty() => table.keys().cloned().collect(),
            _ => ["us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1"].map(String::from).to_vec(),
        },
    };
    if names.is_empty() {
        bail!("at least one region must be offered");
    }
    Ok(names
        .iter()
        .map(|name| {
            let derived = RegionHosts::derived(name, &base);
            let custom = file.regions.as_ref().and_then(|t| t.get(name));
            RegionHosts {
                name: name.clone(),
                feedback_host: custom.and_then(|c| c.feedback_host.clone()).unwrap_or(derived.feedback_host),
                inbound_host: custom.and_then(|c| c.inbound_host.clone()).unwrap_or(derived.inbound_host),
                spf_include: custom.and_then(|c| c.spf_include.clone()).unwrap_or(derived.spf_include),
                tracking_host: custom.and_then(|c| c.tracking_host.clone()).unwrap_or(derived.tracking_host),
            }
        })
        .collect())
}

fn capture_release(overrides: &Overrides, file: &FileConfig) -> anyhow::Result<Option<CaptureRelease>> {
    let Some(raw) = overrides.capture_release.clone().or(file.capture_release.clone()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let server = postline_mta::Relay::parse(&raw).map_err(|e| anyhow::anyhow!("`capture_release`: {e}"))?;
    let allowed = overrides
        .capture_release_allowed
        .clone()
        .or(file.capture_release_allowed.clone())
        .unwrap_or_default()
        .split(',')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    Ok(Some(CaptureRelease { server, allowed }))
}

fn mta_config(overrides: &Overrides, file: &FileConfig, hostname: &str) -> anyhow::Result<postline_mta::MtaConfig> {
    let defaults = postline_mta::MtaConfig::default();
    let dns_servers = match overrides.dns_servers.clone().or(file.dns_servers.clone()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<SocketAddr>()
                    .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                    .with_context(|| format!("`dns_servers`: `{s}` is not an address such as 127.0.0.1:5353"))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let relay = match overrides.smtp_relay.clone().or(file.smtp_relay.clone()) {
        None => None,
        Some(raw) => Some(postline_mta::Relay::parse(&raw).map_err(|e| anyhow::anyhow!("`smtp_relay`: {e}"))?),
    };
    let tls = match overrides.outbound_tls.clone().or(file.outbound_tls.clone()) {
        None => postline_mta::TlsPolicy::Opportunistic,
        Some(raw) => postline_mta::TlsPolicy::parse(&raw)
            .with_context(|| format!("`outbound_tls` must be `opportunistic` or `enforced`, not `{raw}`"))?,
    };
    Ok(postline_mta::MtaConfig {
        hostname: hostname.to_string(),
        dns_servers,
        mx_port: overrides.mx_port.or(file.mx_port).unwrap_or(25),
        tls,
        relay,
        dkim_selector: overrides
            .dkim_selector
            .clone()
            .or(file.dkim_selector.clone())
            .unwrap_or(defaults.dkim_selector.clone()),
        dkim_ed25519: overrides.dkim_ed25519.or(file.dkim_ed25519).unwrap_or(false),
        dkim_signing: overrides.dkim_signing.or(file.dkim_signing).unwrap_or(true),
        concurrency: overrides.delivery_concurrency.or(file.delivery_concurrency).unwrap_or(defaults.concurrency),
        ..defaults
    })
}

/// `127.0.0.1:3210`, or `[::1]:3210`, or for an unspecified address the loopback one.
pub fn display_host(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port()).to_string()
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let dir = tempfile_dir();
        let config = Config::load(&Overrides { config: Some(dir.join("none.toml")), ..Default::default() });
        assert!(config.is_err(), "an explicitly named missing file is an error");
        let config = Config::load(&Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.public_url, "http://127.0.0.1:3210");
        assert!(config.allow_private_fetches);
        assert!(config.uses_sqlite());
        assert_eq!(config.broadcast_window, 0, "broadcasts are not paced unless asked");
        let paced = Config::load(&Overrides { broadcast_window: Some(100), ..Default::default() }).unwrap();
        assert_eq!(paced.broadcast_window, 100);
        assert_eq!(config.broadcast_stats_reuse_from, 10_000, "only large broadcasts' stats are reused");
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let dir = tempfile_dir();
        let path = dir.join("postline.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:8080\"\nregion = \"eu-west-1\"\nrate_limit = 5\n").unwrap();
        let config =
            Config::load(&Overrides { config: Some(path), region: Some("sa-east-1".into()), ..Default::default() })
                .unwrap();
        assert_eq!(config.listen.port(), 8080);
        assert_eq!(config.region, "sa-east-1");
        assert_eq!(config.rate_limit, 5);
        assert!(!config.allow_private_fetches, "listening beyond loopback refuses private fetches");
        assert_eq!(config.public_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn ports_that_fetch_refuses_are_refused() {
        let error =
            Config::load(&Overrides { listen: Some("127.0.0.1:6000".into()), ..Default::default() }).unwrap_err();
        assert!(error.to_string().contains("6000"));
        assert!(Config::load(&Overrides { listen: Some("127.0.0.1:0".into()), ..Default::default() }).is_ok());
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("postline-config-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn uuid_like() -> u128 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    }
}
