//! The composition root: one function that turns a [`Config`] into a running
//! application's parts (store, domain, router, workers). `serve` and the test kit
//! both build the app here, so tests exercise the real wiring.

use std::sync::Arc;

use anyhow::Context;
use postline_api::{AppState, rate_limit::RateLimiter};
use postline_core::{
    Ports, Postline, Settings,
    clock::Clock,
    delivery::{sandbox::SandboxTransport, worker::Worker},
    remote::RemoteFiles,
    request_logs::{self, RequestLogger},
};
use postline_fetch::Fetcher;
use postline_mta::SmtpTransport;
use postline_store::Db;

use crate::{config::Config, remote::GuardedRemote};

/// The wired application.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub postline: Postline,
    pub router: axum::Router,
    /// The outbound MTA (shared by every SMTP worker, so its connection pool is too).
    pub smtp: SmtpTransport,
    /// The API's request log buffer (its writer runs from [`App::build`] for as long
    /// as the router lives; `flush` waits for what was recorded to be written).
    pub request_logs: RequestLogger,
}

impl App {
    /// Connects the store (running migrations) and wires everything.
    pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let fetcher = Fetcher {
            allow_private: config.allow_private_fetches,
            timeout: config.fetch_timeout,
            ..Fetcher::default()
        };
        Self::build_with(config, clock, Arc::new(GuardedRemote(fetcher))).await
    }

    /// Like [`App::build`], with a chosen remote-fetch adapter.
    pub async fn build_with(
        config: &Config,
        clock: Arc<dyn Clock>,
        remote: Arc<dyn RemoteFiles>,
    ) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url).await.context("opening the database")?;
        let settings = Settings {
            public_url: config.public_url.clone(),
            region: config.region.clone(),
            delivery_expiry: config.delivery_expiry,
            regions: config.regions.clone(),
            dkim_selector: config.mta.dkim_selector.clone(),
            delivery_lease: config.delivery_lease,
            broadcast_window: config.broadcast_window,
            broadcast_stats_reuse_from: config.broadcast_stats_reuse_from,
            capture: config.capture,
        };
        let resolver = postline_mta::dns::MxResolver::uncached(&config.mta.dns_servers)
            .map_err(|e| anyhow::anyhow!("setting up DNS: {e}"))?;
        let webhook_fetcher = Fetcher { allow_private: config.allow_private_fetches, ..Fetcher::default() };
        let ports = Ports {
            remote,
            webhooks: Arc::new(crate::remote::GuardedWebhooks(webhook_fetcher)),
            dns: Arc::new(resolver),
            dkim: Arc::new(postline_mta::dkim::KeyMaker { ed25519: config.mta.dkim_ed25519 }),
        };
        let postline = Postline::new(Arc::new(db.clone()), clock, ports, settings)
            .await
            .context("loading installation settings")?;
        let release = match &config.capture_release {
            None => None,
            Some(settings) => {
                let client = postline_mta::release::SmtpRelease::new(
                    settings.server.clone(),
                    config.mta.hostname.clone(),
                    std::time::Duration::from_secs(30),
                )
                .map_err(|e| anyhow::anyhow!("setting up the capture release server: {e}"))?;
                Some(postline_core::capture::Release { target: Arc::new(client), allowed: settings.allowed.clone() })
            }
        };
        let dashboard = postline_dashboard::router(postline_dashboard::DashboardState {
            postline: postline.clone(),
            secure_cookies: config.public_url.starts_with("https://"),
            release,
            renderer: Arc::new(postline_mta::message::SourceRenderer),
        });
        let (request_logs, log_writer) = request_logs::channel(request_logs::BUFFER);
        tokio::spawn(log_writer.run(postline.clone()));
        let router = postline_api::router(AppState {
            postline: postline.clone(),
            rate_limiter: Arc::new(RateLimiter::new(config.rate_limit)),
            request_logs: request_logs.clone(),
        })
        .merge(dashboard);
        let smtp = SmtpTransport::new(postline.clone(), config.mta.clone())
            .map_err(|e| anyhow::anyhow!("setting up outbound delivery: {e}"))?;
        Ok(App { db, postline, router, smtp, request_logs })
    }

    /// The delivery workers: the sandbox for test recipients, SMTP for real ones.
    pub fn workers(&self) -> Vec<Worker> {
        vec![
            Worker::new(self.postline.clone(), Arc::new(SandboxTransport::new(self.postline.clock().clone()))),
            Worker::new(self.postline.clone(), Arc::new(self.smtp.clone())),
        ]
    }
}

/// Produces queued exports and expires old ones (deleting their files): every 2 s,
/// so a large export starts moments after it is asked for, and an export another
/// node left behind is taken over once its lease lapses. `serve` runs it.
pub async fn export_jobs(postline: Postline, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(error) = postline.run_exports().await {
            tracing::warn!(%error, "exports failed; retrying");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
