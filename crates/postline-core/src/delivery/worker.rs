//! The queue worker: leases due rows of one route, attempts each, records the
//! outcome. Scheduled emails are simply rows due later, so this is also the
//! scheduler.

use std::{sync::Arc, time::Duration as StdDuration};

use async_trait::async_trait;
use chrono::Duration;
use tokio::sync::watch;

use super::{ClaimedDelivery, DeliveryOutcome};
use crate::{Postline, Result, clock::Timestamp, emails::Route};

/// How long a claimed row stays leased; a crashed worker's rows return after this.
pub const LEASE: Duration = Duration::minutes(5);
/// Rows claimed per round.
pub const BATCH: u32 = 64;
/// How often an idle worker looks for newly due rows (scheduled emails).
pub const IDLE_POLL: StdDuration = StdDuration::from_secs(1);

/// Attempts one recipient's copy on one route.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// The queue rows this transport handles.
    fn route(&self) -> Route;
    /// Attempts delivery at `now` and says what came of it.
    async fn attempt(&self, row: &ClaimedDelivery, now: Timestamp) -> DeliveryOutcome;
}

/// A worker for one transport's route.
pub struct Worker {
    postline: Postline,
    route: Route,
    transport: Arc<dyn Transport>,
}

impl Worker {
    /// A worker delivering its transport's rows.
    pub fn new(postline: Postline, transport: Arc<dyn Transport>) -> Self {
        Worker { postline, route: transport.route(), transport }
    }

    /// One round: claim due rows, attempt them, record outcomes. Returns how many
    /// rows were attempted.
    pub async fn run_once(&self) -> Result<usize> {
        let now = self.postline.clock.now();
        let claimed = self.postline.store.claim_due(self.route, now, now + LEASE, BATCH).await?;
        let attempted = claimed.len();
        let mut outcomes = Vec::with_capacity(attempted);
        for row in claimed {
            let outcome = self.transport.attempt(&row, self.postline.clock.now()).await;
            outcomes.push((row, outcome));
        }
        // One transaction for the round: the queue's writes stay few under load.
        let recorded = self.postline.store.complete_deliveries(&outcomes).await?;
        for ((row, _), kept) in outcomes.iter().zip(recorded) {
            if !kept {
                tracing::warn!(delivery = %row.id, "lease lost before the outcome was recorded; another worker retries");
            }
        }
        Ok(attempted)
    }

    /// Runs rounds until nothing is due (tests drain the queue this way).
    pub async fn drain(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs until `shutdown` turns true: drains, then sleeps until woken by new work
    /// or the idle poll.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = self.postline.queue_wake.clone();
        while !*shutdown.borrow() {
            if let Err(error) = self.drain().await {
                tracing::error!(%error, route = self.route.as_str(), "delivery round failed");
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
