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
        let dashboard = postline_dashboard::router(postline_dashboard::DashboardState {
            postline: postline.clone(),
            secure_cookies: config.public_url.starts_with("https://"),
        });
        let router = postline_api::router(AppState {
            postline: postline.clone(),
            rate_limiter: Arc::new(RateLimiter::new(config.rate_limit)),
        })
        .merge(dashboard);
        let smtp = SmtpTransport::new(postline.clone(), config.mta.clone())
            .map_err(|e| anyhow::anyhow!("setting up outbound delivery: {e}"))?;
        Ok(App { db, postline, router, smtp })
    }

    /// The delivery workers: the sandbox for test recipients, SMTP for real ones.
    pub fn workers(&self) -> Vec<Worker> {
        vec![
            Worker::new(self.postline.clone(), Arc::new(SandboxTransport::new(self.postline.clock().clone()))),
            Worker::new(self.postline.clone(), Arc::new(self.smtp.clone())),
        ]
    }
}
