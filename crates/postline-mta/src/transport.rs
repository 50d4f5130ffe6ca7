//! [`SmtpTransport`]: the worker transport for real recipients.
//!
//! A round's rows are grouped by (email, recipient domain); each group is one SMTP
//! transaction with one RCPT per recipient. Groups run concurrently up to the
//! configured limit. Each email is rendered and signed once per round (shared by its
//! groups; once per recipient when it carries the recipient's unsubscribe link or
//! tracking links) and again on a retry; nothing per message is written back but
//! the outcome.
//! What every group of a round needs from the store — the sending domain's settings
//! and signing key — is read once per round.

use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use async_trait::async_trait;
use postline_core::{
    Postline, Result,
    delivery::{
        ClaimedDelivery, DeliveryOutcome,
        policy::{self, AttemptResult},
        worker::Transport,
    },
    emails::{OutboundEmail, Route, address::parse_mailbox},
    ids::{EmailId, TeamId},
};
use tokio::{
    sync::{OnceCell, Semaphore},
    task::JoinSet,
};
use tokio_rustls::TlsConnector;

use crate::{
    config::MtaConfig,
    dkim,
    dns::MxResolver,
    message,
    pool::Pool,
    session::{ConnectError, Connection, Dial},
};

/// Delivers real recipients over SMTP.
#[derive(Clone)]
pub struct SmtpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    postline: Postline,
    config: MtaConfig,
    resolver: MxResolver,
    pool: Pool,
    tls: TlsConnector,
    concurrency: Arc<Semaphore>,
}

/// A sending domain as one round sees it: its settings (bounce subdomain, TLS) and
/// the parsed key that signs for it (none when signing is off).
struct Sender {
    domain: Option<postline_core::domains::Domain>,
    signer: Option<dkim::Signer>,
}

/// An email ready to send: signed MIME and the domain it is sent from.
struct Prepared {
    message: Arc<Vec<u8>>,
    sender_domain: String,
}

/// What the groups of one round share, each looked up or made once: an email with
/// recipients at several domains is several groups but one rendering, and a round of
/// one domain's mail reads that domain's settings and key once.
struct RoundCache {
    /// The round's emails, read in one query (or why they could not be).
    emails: std::result::Result<HashMap<EmailId, OutboundEmail>, String>,
    senders: Cells<(TeamId, String), Arc<Sender>>,
    messages: Cells<(EmailId, Option<String>), Arc<Prepared>>,
}

/// Values made at most once each, by whichever task asks first.
type Cells<K, V> = std::sync::Mutex<HashMap<K, Arc<OnceCell<V>>>>;

fn cell<K: std::hash::Hash + Eq, V>(cells: &Cells<K, V>, key: K) -> Arc<OnceCell<V>> {
    cells.lock().expect("round cache lock").entry(key).or_default().clone()
}

/// One SMTP transaction's worth of rows: one email, one recipient domain (and one
/// recipient when the message carries the recipient's own unsubscribe or tracking
/// links).
struct Group {
    email_id: EmailId,
    domain: String,
    recipient: Option<String>,
    rows: Vec<ClaimedDelivery>,
}

/// Emails about a topic and broadcasts carry each recipient's unsubscribe link.
fn has_unsubscribe_link(outbound: &OutboundEmail) -> bool {
    outbound.email.topic_id.is_some() || outbound.email.broadcast.is_some()
}

impl SmtpTransport {
    /// A transport with its resolver, pool and TLS settings.
    pub fn new(postline: Postline, config: MtaConfig) -> std::result::Result<Self, String> {
        // Several rustls back-ends are linked in; choose one process-wide.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let resolver = MxResolver::new(&config.dns_servers)?;
        // Opportunistic and enforced TLS to MX hosts encrypt without authenticating
        // the server (as RFC 7435 describes; MX hosts rarely have certificates for
        // the names that point at them). Relays are verified.
        let verify = config.relay.as_ref().is_some_and(|r| r.verify_certificate);
        let tls = mail_send::smtp::tls::build_tls_connector(!verify)?;
        Ok(SmtpTransport {
            inner: Arc::new(Inner {
                pool: Pool::new(config.per_destination, config.idle_timeout),
                concurrency: Arc::new(Semaphore::new(config.concurrency.max(1))),
                postline,
                config,
                resolver,
                tls,
            }),
        })
    }

    /// How many SMTP connections were opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.inner.pool.opened()
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    fn route(&self) -> Route {
        Route::Smtp
    }

    async fn attempt(&self, rows: Vec<ClaimedDelivery>, report: postline_core::delivery::worker::Report) {
        let ids: Vec<EmailId> =
            rows.iter().map(|row| row.email_id).collect::<std::collections::HashSet<_>>().into_iter().collect();
        let emails: std::result::Result<HashMap<EmailId, OutboundEmail>, String> =
            match self.inner.postline.outbound_emails(&ids).await {
                Ok(found) => Ok(found.into_iter().map(|o| (o.email.id, o)).collect()),
                Err(error) => Err(error.to_string()),
            };
        let cache = Arc::new(RoundCache { emails, senders: Cells::default(), messages: Cells::default() });
        // A message with an unsubscribe link or tracking links is each recipient's own.
        let mut personal = std::collections::HashSet::new();
        if let Ok(emails) = &cache.emails {
            for outbound in emails.values() {
                if has_unsubscribe_link(outbound) || self.inner.tracks(outbound, &cache).await {
                    personal.insert(outbound.email.id);
                }
            }
        }
        let mut groups: HashMap<(EmailId, String, Option<String>), Vec<ClaimedDelivery>> = HashMap::new();
        for row in rows {
            let domain = parse_mailbox(&row.recipient).map(|m| m.domain()).unwrap_or_default();
            let recipient = personal.contains(&row.email_id).then(|| row.recipient.clone());
            groups.entry((row.email_id, domain, recipient)).or_default().push(row);
        }
        let mut tasks = JoinSet::new();
        for ((email_id, domain, recipient), rows) in groups {
            let (inner, cache) = (self.inner.clone(), cache.clone());
            tasks.spawn(async move {
                let _permit = inner.concurrency.clone().acquire_owned().await.expect("never closed");
                inner.deliver(Group { email_id, domain, recipient, rows }, &cache).await
            });
        }
        // Each transaction's outcomes are reported the moment it finishes.
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(results) => {
                    for outcome in results {
                        let _ = report.send(outcome);
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "a delivery task panicked; its rows return when the lease expires")
                }
            }
        }
    }
}

impl Inner {
    async fn deliver(&self, group: Group, cache: &RoundCache) -> Vec<(ClaimedDelivery, DeliveryOutcome)> {
        let results = self.attempt_group(&group, cache).await;
        let now = self.postline.clock().now();
        group
            .rows
            .into_iter()
            .zip(results)
            .map(|(row, result)| {
                tracing::info!(
                    delivery = %row.id, email = %row.email_id, recipient = %row.recipient, attempt = row.attempts + 1,
                    result = ?result, "delivery attempt"
                );
                let outcome = policy::outcome(&row, result, now);
                (row, outcome)
            })
            .collect()
    }

    async fn attempt_group(&self, group: &Group, cache: &RoundCache) -> Vec<AttemptResult> {
        let all = |result: AttemptResult| vec![result; group.rows.len()];
        let team_id = group.rows[0].team_id;
        let prepared = match self.prepared(team_id, group.email_id, group.recipient.as_deref(), cache).await {
            Ok(prepared) => prepared,
            Err(error) => {
                return all(AttemptResult::Deferred { reason: format!("could not prepare the message: {error}") });
            }
        };
        let (message, sender_domain) = (&prepared.message, &prepared.sender_domain);
        // The domain's own settings: its bounce subdomain and TLS policy.
        let sender = match self.sender(team_id, sender_domain, cache).await {
            Ok(sender) => sender,
            Err(error) => {
                return all(AttemptResult::Deferred { reason: format!("could not read the domain: {error}") });
            }
        };
        let domain = sender.domain.as_ref();
        let return_path = domain.map_or_else(|| "send".to_string(), |d| d.return_path.clone());
        let policy = match domain.map(|d| d.tls) {
            Some(postline_core::domains::Tls::Enforced) => crate::TlsPolicy::Enforced,
            _ => self.config.tls,
        };
        let mail_from = format!("bounces+{}@{return_path}.{sender_domain}", group.email_id);
        let recipients: Vec<String> = group.rows.iter().map(|r| r.recipient.clone()).collect();
        if self.config.capture {
            // Rendered and signed exactly as it would be sent; kept instead of sent.
            return match self.postline.capture_message(team_id, group.email_id, &mail_from, &recipients, message).await
            {
                Ok(()) => all(AttemptResult::Delivered { reply: postline_core::capture::CAPTURED_REPLY.to_string() }),
                Err(error) => {
                    all(AttemptResult::Deferred { reason: format!("could not keep the captured message: {error}") })
                }
            };
        }
        let destinations = match self.destinations(&group.domain).await {
            Ok(destinations) => destinations,
            Err(result) => return all(result),
        };
        let mut last_failure = format!("no mail server for {} could be reached", group.domain);
        for (host, address) in destinations {
            let _slot = self.pool.slot(address).await;
            let mut connection = match self.connection(&host, address, policy).await {
                Ok(connection) => connection,
                Err(ConnectError::Permanent(reason)) => return all(AttemptResult::Undeliverable { reason }),
                Err(ConnectError::Temporary(reason)) => {
                    last_failure = reason;
                    continue;
                }
            };
            let (results, usable) = connection.send(&mail_from, &recipients, message, self.config.data_timeout).await;
            // A connection lost before any reply is a host problem: try the next host.
            let lost_early = !usable && results.iter().all(|r| matches!(r, AttemptResult::Deferred { .. }));
            if usable {
                self.pool.put(connection);
            }
            if lost_early {
                if let Some(AttemptResult::Deferred { reason }) = results.first() {
                    last_failure = format!("{host}: {reason}");
                }
                continue;
            }
            return results;
        }
        all(AttemptResult::Deferred { reason: last_failure })
    }

    /// The email rendered and signed, once per round however many groups it has
    /// (once per recipient when it carries the recipient's unsubscribe or tracking
    /// links).
    async fn prepared(
        &self,
        team_id: TeamId,
        email_id: EmailId,
        recipient: Option<&str>,
        cache: &RoundCache,
    ) -> Result<Arc<Prepared>> {
        let cell = cell(&cache.messages, (email_id, recipient.map(str::to_string)));
        let prepared = cell
            .get_or_try_init(|| async {
                let emails = cache.emails.as_ref().map_err(|e| postline_core::Error::Internal(e.clone()))?;
                let outbound = emails.get(&email_id).ok_or(postline_core::Error::NotFound("Email"))?;
                let attachments = self.postline.outbound_attachments(outbound).await?;
                let email = &outbound.email;
                let sender_domain =
                    parse_mailbox(&email.from).map(|m| m.domain()).unwrap_or_else(|| "localhost".into());
                let unsubscribe = recipient.filter(|_| has_unsubscribe_link(outbound)).map(|to| {
                    let topic = email.topic_id.as_deref().and_then(|t| postline_core::ids::TopicId::parse(t).ok());
                    self.postline.unsubscribe_url(team_id, Some(email.id), to, topic)
                });
                let sender = self.sender(team_id, &sender_domain, cache).await?;
                let tracking = recipient.and_then(|to| {
                    let domain = sender.domain.as_ref()?;
                    self.postline.tracking_links(team_id, email.id, to, domain)
                });
                let personal = message::Personal { unsubscribe: unsubscribe.as_deref(), tracking: tracking.as_ref() };
                // Tracking rewrites the body before it is signed, so the signature covers it.
                let unsigned = message::render(email, &attachments, personal)?;
                let message = match &sender.signer {
                    Some(signer) => signer.sign(&unsigned)?,
                    None => unsigned,
                };
                Ok::<_, postline_core::Error>(Arc::new(Prepared { message: Arc::new(message), sender_domain }))
            })
            .await?;
        Ok(prepared.clone())
    }

    /// Whether the email's sending domain tracks opens or clicks (so each recipient
    /// gets their own rendering). When the domain cannot be read, per recipient is
    /// the rendering that is right either way.
    async fn tracks(&self, outbound: &OutboundEmail, cache: &RoundCache) -> bool {
        let Some(name) = parse_mailbox(&outbound.email.from).map(|m| m.domain()) else { return false };
        match self.sender(outbound.email.team_id, &name, cache).await {
            Ok(sender) => sender.domain.as_ref().is_some_and(|d| d.open_tracking || d.click_tracking),
            Err(_) => true,
        }
    }

    /// The sending domain's settings and signing key (generated on first use), once
    /// per round.
    async fn sender(&self, team_id: TeamId, name: &str, cache: &RoundCache) -> Result<Arc<Sender>> {
        let cell = cell(&cache.senders, (team_id, name.to_string()));
        let sender = cell
            .get_or_try_init(|| async {
                let domain = self.postline.team_domain(team_id, name).await?;
                let signer = if self.config.dkim_signing {
                    let now = self.postline.clock().now();
                    let (selector, ed25519) = (self.config.dkim_selector.clone(), self.config.dkim_ed25519);
                    let key =
                        self.postline.dkim_key_for(name, || dkim::generate(name, &selector, ed25519, now)).await?;
                    Some(dkim::Signer::new(&key)?)
                } else {
                    None
                };
                Ok::<_, postline_core::Error>(Arc::new(Sender { domain, signer }))
            })
            .await?;
        Ok(sender.clone())
    }

    /// Where to connect, in order: the relay, or the domain's mail hosts' addresses.
    async fn destinations(&self, domain: &str) -> std::result::Result<Vec<(String, SocketAddr)>, AttemptResult> {
        if let Some(relay) = &self.config.relay {
            let addresses = self
                .resolver
                .addresses(&relay.host)
                .await
                .map_err(|e| AttemptResult::Deferred { reason: e.to_string() })?;
            return Ok(addresses.into_iter().map(|ip| (relay.host.clone(), SocketAddr::new(ip, relay.port))).collect());
        }
        let hosts = self.resolver.mail_hosts(domain).await.map_err(|failure| {
            if failure.is_temporary() {
                AttemptResult::Deferred { reason: failure.to_string() }
            } else {
                AttemptResult::Undeliverable { reason: failure.to_string() }
            }
        })?;
        let mut destinations = Vec::new();
        let mut last_failure = None;
        for host in hosts {
            match self.resolver.addresses(&host).await {
                Ok(addresses) => destinations
                    .extend(addresses.into_iter().map(|ip| (host.clone(), SocketAddr::new(ip, self.config.mx_port)))),
                Err(failure) => last_failure = Some(failure),
            }
        }
        if destinations.is_empty() {
            return Err(match last_failure {
                Some(failure) if failure.is_temporary() => AttemptResult::Deferred { reason: failure.to_string() },
                Some(failure) => AttemptResult::Undeliverable { reason: failure.to_string() },
                None => AttemptResult::Undeliverable { reason: format!("{domain} has no mail servers") },
            });
        }
        Ok(destinations)
    }

    /// A pooled connection (reset and alive) or a new one.
    async fn connection(
        &self,
        host: &str,
        address: SocketAddr,
        policy: crate::TlsPolicy,
    ) -> std::result::Result<Connection, ConnectError> {
        while let Some(mut pooled) = self.pool.take(address) {
            // A connection in clear never carries mail of a domain that enforces TLS.
            if policy == crate::TlsPolicy::Enforced && !pooled.encrypted {
                pooled.quit().await;
                continue;
            }
            if pooled.reset().await {
                return Ok(pooled);
            }
        }
        let relay = self.config.relay.as_ref();
        let credentials = relay.and_then(|r| r.username.as_deref().zip(r.password.as_deref()));
        let dial = Dial {
            address,
            host,
            helo: &self.config.hostname,
            policy: match relay {
                Some(relay) if relay.require_tls => crate::TlsPolicy::Enforced,
                Some(_) => crate::TlsPolicy::Opportunistic,
                None => policy,
            },
            implicit_tls: relay.is_some_and(|r| r.implicit_tls),
            credentials,
            connect_timeout: self.config.connect_timeout,
            command_timeout: self.config.command_timeout,
            tls: &self.tls,
        };
        let connection = Connection::open(&dial).await?;
        self.pool.note_opened();
        Ok(connection)
    }
}
