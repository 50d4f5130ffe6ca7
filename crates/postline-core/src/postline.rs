//! [`Postline`]: the use cases, with their dependencies. The API, the CLI and the
//! workers all call into one value of this type.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::{Result, clock::Clock, remote::RemoteFiles, signing::Signer, store::Store, teams::Team};

/// What the operator configured that the domain needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The base URL links in API responses and emails point at, no trailing slash.
    pub public_url: String,
    /// This node's region.
    pub region: String,
    /// How long a recipient's copy is retried before it bounces.
    pub delivery_expiry: chrono::Duration,
    /// The regions this installation offers, with the host names their DNS records name.
    /// This node's region is one of them.
    pub regions: Vec<crate::domains::records::RegionHosts>,
    /// DKIM selector for new domains' keys.
    pub dkim_selector: String,
    /// How long a claimed queue row stays leased without renewal (crash recovery time);
    /// also the lease of a broadcast's fan-out.
    pub delivery_lease: chrono::Duration,
    /// Most copies of one broadcast waiting for their first attempt before its fan-out
    /// waits for the MTA to catch up (0: no pacing; the bulk lane yields anyway).
    pub broadcast_window: u64,
    /// Copies from which a broadcast's stats may be up to a second old (see
    /// [`Postline::broadcast_stats`]).
    pub broadcast_stats_reuse_from: u64,
    /// Capture mode: real recipients' mail is kept for the developer inbox, never sent
    /// (see [`crate::capture`]).
    pub capture: bool,
}

impl Settings {
    /// The default delivery expiry (72 hours, as large senders use).
    pub const DEFAULT_DELIVERY_EXPIRY: chrono::Duration = chrono::Duration::hours(72);
    /// The default broadcast window: none. Copies wait in the queue's bulk lane, which
    /// never delays transactional mail, so nothing is gained by writing them later.
    pub const DEFAULT_BROADCAST_WINDOW: u64 = 0;
    /// Stats of broadcasts of 10,000 copies or more may be up to a second old.
    pub const DEFAULT_BROADCAST_STATS_REUSE_FROM: u64 = 10_000;
}

/// The application: use cases over a store, a clock and remote fetches.
#[derive(Clone)]
pub struct Postline {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) remote: Arc<dyn RemoteFiles>,
    pub(crate) signer: Signer,
    pub(crate) settings: Arc<Settings>,
    /// Poked when new work is queued, so idle workers start at once.
    pub(crate) queue_wakes: QueueWakes,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    pub(crate) dns: Arc<dyn crate::domains::dns::DnsLookup>,
    pub(crate) dkim: Arc<dyn crate::domains::dns::DkimKeys>,
    pub(crate) webhooks: Arc<dyn crate::webhooks::dispatch::WebhookTransport>,
    /// Poked when a domain's check is due now (verification requested).
    pub(crate) domain_wake: Arc<Notify>,
    /// Poked when a contact import is accepted.
    pub(crate) import_wake: Arc<Notify>,
    /// Poked when a broadcast is sent.
    pub(crate) broadcast_wake: Arc<Notify>,
    /// Poked when this node captures a message (the developer inbox's live view).
    pub(crate) capture_wake: Arc<Notify>,
    /// Keys by token hash, as the last lookup found them.
    pub(crate) key_cache: Arc<crate::cache::TtlCache<String, crate::api_keys::ApiKey>>,
    /// Sending domains by (team, name), as the last lookup found them.
    pub(crate) domain_cache: Arc<crate::cache::TtlCache<(crate::ids::TeamId, String), Option<crate::domains::Domain>>>,
    /// Stats of large broadcasts, as last counted (see [`Postline::broadcast_stats`]).
    pub(crate) broadcast_stats_cache:
        Arc<crate::cache::TtlCache<crate::ids::BroadcastId, crate::broadcasts::stats::BroadcastStats>>,
}

/// The adapters the domain calls out to.
#[derive(Clone)]
pub struct Ports {
    pub remote: Arc<dyn RemoteFiles>,
    pub dns: Arc<dyn crate::domains::dns::DnsLookup>,
    pub dkim: Arc<dyn crate::domains::dns::DkimKeys>,
    pub webhooks: Arc<dyn crate::webhooks::dispatch::WebhookTransport>,
}

impl Postline {
    /// Builds the application, loading the link-signing secret from the store.
    pub async fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ports: Ports, settings: Settings) -> Result<Self> {
        let Ports { remote, dns, dkim, webhooks } = ports;
        let signer = Signer::new(store.secret("link-signing").await?);
        Ok(Postline {
            store,
            clock,
            remote,
            signer,
            settings: Arc::new(settings),
            queue_wakes: QueueWakes::default(),
            metrics: Arc::default(),
            dns,
            dkim,
            webhooks,
            domain_wake: Arc::new(Notify::new()),
            import_wake: Arc::new(Notify::new()),
            broadcast_wake: Arc::new(Notify::new()),
            capture_wake: Arc::new(Notify::new()),
            key_cache: Arc::default(),
            domain_cache: Arc::default(),
            broadcast_stats_cache: Arc::default(),
        })
    }

    /// The clock everything uses.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The operator's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The team created on first start, if any.
    pub async fn first_team(&self) -> Result<Option<Team>> {
        self.store.first_team().await
    }

    /// Creates a team.
    pub async fn create_team(&self, name: &str) -> Result<Team> {
        let team = Team { id: crate::ids::TeamId::new(), name: name.to_string(), created_at: self.clock.now() };
        self.store.insert_team(&team).await?;
        Ok(team)
    }

    /// Notified when a domain check is due at once.
    pub fn domain_wake(&self) -> Arc<Notify> {
        self.domain_wake.clone()
    }

    /// Notified whenever this node captures a message; other nodes' captures are
    /// seen by reading the store (the inbox's live view does both).
    pub fn capture_wake(&self) -> Arc<Notify> {
        self.capture_wake.clone()
    }

    /// Wakes the idle workers of these routes (each once, however often it is named):
    /// work is queued for them.
    pub(crate) fn wake_workers(&self, routes: &[crate::emails::Route]) {
        for route in crate::emails::Route::ALL.into_iter().filter(|route| routes.contains(route)) {
            let wake = self.queue_wakes.of(route);
            wake.notify_waiters();
            // Kept for a worker busy with a round, so it claims again right after.
            wake.notify_one();
        }
    }
}

/// One wake-up per route: mail accepted for the sandbox does not send the SMTP worker
/// to look for work it does not have (a claim that finds nothing still costs a turn
/// at SQLite's write gate).
#[derive(Clone, Default)]
pub(crate) struct QueueWakes {
    sandbox: Arc<Notify>,
    smtp: Arc<Notify>,
}

impl QueueWakes {
    pub(crate) fn of(&self, route: crate::emails::Route) -> &Arc<Notify> {
        match route {
            crate::emails::Route::Sandbox => &self.sandbox,
            crate::emails::Route::Smtp => &self.smtp,
        }
    }
}
