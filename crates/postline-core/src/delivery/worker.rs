//! The queue worker: leases due rows of one route, attempts each, records the
//! outcome. Scheduled emails are simply rows due later, so this is also the
//! scheduler.

use std::{sync::Arc, time::Duration as StdDuration};

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};

use super::{ClaimedDelivery, DeliveryOutcome};
use crate::{Postline, Result, emails::Route};

/// How long a claimed row stays leased unless renewed; a crashed worker's rows return
/// after this. A live worker renews its round's leases every third of it, so attempts
/// may take as long as they need while a crash is noticed within one lease.
pub const DEFAULT_LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Rows claimed per round.
pub const BATCH: u32 = 64;
/// How long a round in flight may run on after shutdown is asked for.
pub const SHUTDOWN_GRACE: StdDuration = StdDuration::from_secs(5);
/// How often an idle worker looks for newly due rows (scheduled emails).
pub const IDLE_POLL: StdDuration = StdDuration::from_secs(1);

/// Where a transport reports outcomes as they come in.
pub type Report = mpsc::UnboundedSender<(ClaimedDelivery, DeliveryOutcome)>;

/// Attempts recipients' copies on one route.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// The queue rows this transport handles.
    fn route(&self) -> Route;
    /// Attempts delivery of a round's rows (it may group and parallelise them) and
    /// reports each outcome on `report` as soon as it is known.
    async fn attempt(&self, rows: Vec<ClaimedDelivery>, report: Report);
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

    /// One round: claim due rows, attempt them, record outcomes as they come in (so a
    /// crash repeats at most the attempts still in flight). Returns how many rows
    /// were attempted.
    pub async fn run_once(&self) -> Result<usize> {
        let now = self.postline.clock.now();
        let lease = self.postline.settings.delivery_lease;
        let claimed =
            self.postline.store.claim_due(self.route, &self.postline.settings.region, now, now + lease, BATCH).await?;
        let attempted = claimed.len();
        if attempted == 0 {
            return Ok(0);
        }
        let token = claimed[0].lease_token.clone();
        let (screened, to_attempt) = self.screen_suppressed(claimed).await?;
        self.record(screened).await?;
        let started = std::time::Instant::now();
        let (report, mut outcomes) = mpsc::unbounded_channel();
        let transport = self.transport.clone();
        let attempts = tokio::spawn(async move { transport.attempt(to_attempt, report).await });
        let renew_every = lease.to_std().unwrap_or(StdDuration::from_secs(60)) / 3;
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + renew_every, renew_every);
        loop {
            tokio::select! {
                next = outcomes.recv() => {
                    let Some(first) = next else { break };
                    let mut batch = vec![first];
                    while let Ok(more) = outcomes.try_recv() {
                        batch.push(more);
                    }
                    self.record(batch).await?;
                }
                _ = renew.tick() => {
                    let until = self.postline.clock.now() + lease;
                    if let Err(error) = self.postline.store.extend_lease(&token, until).await {
                        tracing::warn!(%error, "could not renew delivery leases");
                    }
                }
            }
        }
        if let Err(error) = attempts.await {
            tracing::error!(%error, "a delivery round panicked; its unreported rows retry after the lease");
        }
        self.postline.metrics.attempt_duration.observe(started.elapsed().as_secs_f64());
        Ok(attempted)
    }

    /// Records outcomes in one transaction and counts them.
    async fn record(&self, outcomes: Vec<(ClaimedDelivery, DeliveryOutcome)>) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let metrics = &self.postline.metrics;
        let finished = self.postline.clock.now();
        for (row, outcome) in &outcomes {
            metrics.outcome(outcome.status);
            if outcome.status == super::DeliveryStatus::Delivered {
                metrics.delivery_latency.observe((finished - row.due_at).num_milliseconds().max(0) as f64 / 1000.0);
            }
        }
        let recorded = self.postline.store.complete_deliveries(&outcomes).await?;
        for ((row, _), kept) in outcomes.iter().zip(recorded) {
            if !kept {
                tracing::warn!(delivery = %row.id, "lease lost before the outcome was recorded; another worker retries");
            }
        }
        Ok(())
    }

    /// Real recipients on the team's suppression list are never attempted, nor are
    /// recipients of a topic-scoped email who are not subscribed to the topic (checked
    /// now rather than at acceptance, so a scheduled email respects a later opt-out).
    async fn screen_suppressed(
        &self,
        rows: Vec<ClaimedDelivery>,
    ) -> Result<(Vec<(ClaimedDelivery, DeliveryOutcome)>, Vec<ClaimedDelivery>)> {
        let mut done = Vec::new();
        let mut attempt = Vec::with_capacity(rows.len());
        for row in rows {
            let now = self.postline.clock.now();
            if self.route == Route::Smtp
                && let Some(entry) = self.postline.suppression_of(row.team_id, &row.recipient).await?
            {
                let outcome = super::policy::suppressed(&row, entry.reason, now);
                done.push((row, outcome));
            } else if let Some(topic) = row.topic_id
                && let Some(why) = self.postline.topic_refusal(row.team_id, topic, &row.recipient).await?
            {
                let outcome = super::policy::not_subscribed(&row, &why, now);
                done.push((row, outcome));
            } else {
                attempt.push(row);
            }
        }
        Ok((done, attempt))
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

    /// Runs rounds while each one comes back full; a short round means the route had
    /// no more due rows when it was claimed. Rows queued since then woke this worker
    /// (the wake is kept until it waits again), and rows that come due with time wait
    /// for the idle poll — so a busy server does not follow every round with a claim
    /// that finds nothing (on SQLite, a turn at the write gate the accepts need).
    async fn drain_while_full(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once().await?;
            total += n;
            if n < BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// Runs until `shutdown` turns true: drains, then sleeps until woken by new work
    /// on its route or the idle poll. On shutdown a round in flight gets
    /// [`SHUTDOWN_GRACE`] to finish; after that its rows are left to their leases and
    /// retried later.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wake = self.postline.queue_wakes.of(self.route).clone();
        while !*shutdown.borrow() {
            let round = self.drain_while_full();
            tokio::pin!(round);
            let result = tokio::select! {
                result = &mut round => result,
                _ = shutdown.changed() => match tokio::time::timeout(SHUTDOWN_GRACE, &mut round).await {
                    Ok(result) => result,
                    Err(_) => {
                        tracing::warn!(route = self.route.as_str(), "shutting down mid-round; unfinished rows retry after their lease");
                        return;
                    }
                },
            };
            if let Err(error) = result {
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
