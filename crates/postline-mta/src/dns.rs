//! Finding a domain's mail servers with `hickory-resolver`: MX records in
//! preference order (equal preferences shuffled, RFC 5321 §5.1), the domain's own
//! A/AAAA when it has no MX ("implicit MX"), and null MX (RFC 7505) as a permanent
//! failure. Answers are cached for their TTL by the resolver. Nameservers (with
//! ports) are configurable so tests and air-gapped sites use their own.

use std::net::{IpAddr, SocketAddr};

use hickory_resolver::{
    Resolver, TokioResolver,
    config::{ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts},
    net::runtime::TokioRuntimeProvider,
    proto::rr::RData,
};
use rand::seq::SliceRandom;

/// Why no address could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsFailure {
    /// The domain publishes a null MX: it accepts no mail.
    #[error("{0} does not accept mail (null MX, RFC 7505)")]
    NullMx(String),
    /// The domain does not exist, or has neither MX nor address records.
    #[error("{0} has no mail servers (no MX and no address records)")]
    NoMailServers(String),
    /// The lookup failed for now (timeout, SERVFAIL, network).
    #[error("DNS lookup for {0} failed: {1}")]
    Temporary(String, String),
}

impl DnsFailure {
    /// Whether retrying later could help.
    pub fn is_temporary(&self) -> bool {
        matches!(self, DnsFailure::Temporary(..))
    }
}

/// Looks up mail servers.
#[derive(Clone)]
pub struct MxResolver {
    resolver: TokioResolver,
}

impl MxResolver {
    /// A caching resolver asking `servers` (UDP, then TCP for truncated answers),
    /// or the system's configuration when `servers` is empty.
    pub fn new(servers: &[SocketAddr]) -> Result<Self, String> {
        Self::with_cache(servers, true)
    }

    /// A resolver that never answers from cache: domain verification must see a
    /// record the moment the user fixes it.
    pub fn uncached(servers: &[SocketAddr]) -> Result<Self, String> {
        Self::with_cache(servers, false)
    }

    fn with_cache(servers: &[SocketAddr], cache: bool) -> Result<Self, String> {
        let mut options = ResolverOpts::default();
        if !cache {
            options.cache_size = 0;
        }
        options.timeout = std::time::Duration::from_secs(5);
        options.attempts = 2;
        let builder = if servers.is_empty() {
            Resolver::builder_tokio().map_err(|e| format!("reading the system's DNS configuration: {e}"))?
        } else {
            let name_servers = servers
                .iter()
                .map(|server| {
                    let mut udp = ConnectionConfig::new(ProtocolConfig::Udp);
                    udp.port = server.port();
                    let mut tcp = ConnectionConfig::new(ProtocolConfig::Tcp);
                    tcp.port = server.port();
                    NameServerConfig::new(server.ip(), true, vec![udp, tcp])
                })
                .collect();
            let config = ResolverConfig::from_parts(None, vec![], name_servers);
            Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        };
        let resolver = builder.with_options(options).build().map_err(|e| format!("building the DNS resolver: {e}"))?;
        Ok(MxResolver { resolver })
    }

    /// The hosts to try for `domain`, best first.
    pub async fn mail_hosts(&self, domain: &str) -> Result<Vec<String>, DnsFailure> {
        let fqdn = format!("{}.", domain.trim_end_matches('.'));
        match self.resolver.mx_lookup(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut records: Vec<(u16, String)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => {
                            Some((mx.preference, mx.exchange.to_ascii().trim_end_matches('.').to_string()))
                        }
                        _ => None,
                    })
                    .collect();
                if records.len() == 1 && records[0].1.is_empty() {
                    return Err(DnsFailure::NullMx(domain.to_string()));
                }
                records.retain(|(_, host)| !host.is_empty());
                if records.is_empty() {
                    return Ok(vec![domain.to_string()]);
                }
                records.shuffle(&mut rand::thread_rng());
                records.sort_by_key(|(preference, _)| *preference);
                Ok(records.into_iter().map(|(_, host)| host).collect())
            }
            Err(error) if error.is_no_records_found() || error.is_nx_domain() => {
                // No MX: the domain itself is the implicit MX (RFC 5321 §5.1), if it has addresses.
                if error.is_nx_domain() {
                    return Err(DnsFailure::NoMailServers(domain.to_string()));
                }
                Ok(vec![domain.to_string()])
            }
            Err(error) => Err(DnsFailure::Temporary(domain.to_string(), error.to_string())),
        }
    }

    /// The addresses of a mail host (IPv4 first, then IPv6).
    pub async fn addresses(&self, host: &str) -> Result<Vec<IpAddr>, DnsFailure> {
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        match self.resolver.lookup_ip(fqdn.as_str()).await {
            Ok(lookup) => {
                let mut addresses: Vec<IpAddr> = lookup.iter().collect();
                addresses.sort_by_key(|ip| ip.is_ipv6());
                if addresses.is_empty() {
                    return Err(DnsFailure::NoMailServers(host.to_string()));
                }
                Ok(addresses)
            }
            Err(error) if error.is_no_records_found() || error.is_nx_domain() => {
                Err(DnsFailure::NoMailServers(host.to_string()))
            }
            Err(error) => Err(DnsFailure::Temporary(host.to_string(), error.to_string())),
        }
    }
}

mod verification {
    //! The domain-verification port, answered by the same resolver.

    use async_trait::async_trait;
    use hickory_resolver::proto::rr::{RData, RecordType};
    use postline_core::domains::{checks::Answer, dns::DnsLookup};

    use super::MxResolver;

    fn fqdn(name: &str) -> String {
        format!("{}.", name.trim_end_matches('.'))
    }

    impl MxResolver {
        async fn answers(&self, name: &str, record_type: RecordType) -> Answer<RData> {
            match self.resolver.lookup(fqdn(name).as_str(), record_type).await {
                Ok(lookup) => Answer::Records(
                    lookup
                        .answers()
                        .iter()
                        .filter(|r| r.record_type() == record_type)
                        .map(|r| r.data.clone())
                        .collect(),
                ),
                Err(error) if error.is_nx_domain() => Answer::NxDomain,
                Err(error) if error.is_no_records_found() => Answer::Records(Vec::new()),
                Err(error) => Answer::Failed(error.to_string()),
            }
        }
    }

    fn map<T>(answer: Answer<RData>, f: impl Fn(RData) -> Option<T>) -> Answer<T> {
        match answer {
            Answer::Records(records) => Answer::Records(records.into_iter().filter_map(f).collect()),
            Answer::NxDomain => Answer::NxDomain,
            Answer::Failed(reason) => Answer::Failed(reason),
        }
    }

    #[async_trait]
    impl DnsLookup for MxResolver {
        async fn mx(&self, name: &str) -> Answer<(u16, String)> {
            map(self.answers(name, RecordType::MX).await, |data| match data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                _ => None,
            })
        }

        async fn txt(&self, name: &str) -> Answer<String> {
            map(self.answers(name, RecordType::TXT).await, |data| match data {
                RData::TXT(txt) => {
                    Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect::<String>())
                }
                _ => None,
            })
        }

        async fn cname(&self, name: &str) -> Answer<String> {
            map(self.answers(name, RecordType::CNAME).await, |data| match data {
                RData::CNAME(target) => Some(target.0.to_ascii()),
                _ => None,
            })
        }

        async fn nameservers(&self, name: &str) -> Vec<String> {
            let mut labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
            while labels.len() >= 2 {
                let zone = labels.join(".");
                if let Answer::Records(records) = self.answers(&zone, RecordType::NS).await {
                    let hosts: Vec<String> = records
                        .into_iter()
                        .filter_map(|d| match d {
                            RData::NS(ns) => Some(ns.0.to_ascii().trim_end_matches('.').to_string()),
                            _ => None,
                        })
                        .collect();
                    if !hosts.is_empty() {
                        return hosts;
                    }
                }
                labels.remove(0);
            }
            Vec::new()
        }
    }
}
