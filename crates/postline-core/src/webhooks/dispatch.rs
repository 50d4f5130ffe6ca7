//! Sending outbox messages to endpoints: Svix-compatible headers (`svix-id`,
//! `svix-timestamp`, `svix-signature`), success is a 2xx within the time limit,
//! failures retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (the real
//! service's schedule; the first attempt is immediate), every attempt recorded.
//! Endpoints are served concurrently, each one's messages in order, so a slow
//! receiver holds up only itself.

use std::{collections::HashMap, time::Instant};

use async_trait::async_trait;
use chrono::Duration;
use tokio::task::JoinSet;

use super::sign;
use crate::{Postline, Result, clock::Timestamp};

/// Waits after the first, second, … failed attempt.
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];
/// An endpoint that accepted nothing for this long, when another message exhausts
/// its schedule, is disabled.
pub const DISABLE_AFTER: Duration = Duration::days(5);
/// Messages leased per round.
const BATCH: u32 = 64;

/// A delivery due now, with what sending it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: String,
    pub message_id: String,
    pub webhook_id: String,
    pub endpoint: String,
    pub secret: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub lease_token: String,
}

/// One attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    /// The start of the response body, or why there was none.
    pub response: String,
    pub succeeded: bool,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(Timestamp),
    /// The schedule is exhausted.
    Failed,
}

/// POSTs webhook bodies (an adapter applies the address policy and limits).
#[async_trait]
pub trait WebhookTransport: Send + Sync + 'static {
    /// POSTs `body` with `headers`; the status and the start of the response body, or
    /// why no response came.
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> std::result::Result<(u16, String), String>;
}

/// What comes after a failed attempt number `attempt` (1-based).
pub fn after_failure(attempt: u32, now: Timestamp) -> Next {
    match RETRY_DELAYS.get(attempt as usize - 1) {
        Some(delay) => Next::RetryAt(now + *delay),
        None => Next::Failed,
    }
}

impl Postline {
    /// Sends every due webhook delivery once; returns how many were attempted.
    pub async fn dispatch_webhooks(&self) -> Result<usize> {
        let now = self.clock.now();
        // The same lease as delivery rows, renewed while the round runs, so a crash is
        // noticed within one lease however long a slow endpoint takes.
        let lease = self.settings.delivery_lease;
        let due = self.store.claim_due_webhook_deliveries(now, now + lease, BATCH).await?;
        let count = due.len();
        let Some(token) = due.first().map(|d| d.lease_token.clone()) else { return Ok(0) };
        let mut by_endpoint: HashMap<String, Vec<DueDelivery>> = HashMap::new();
        for delivery in due {
            by_endpoint.entry(delivery.webhook_id.clone()).or_default().push(delivery);
        }
        let mut tasks = JoinSet::new();
        for (_, deliveries) in by_endpoint {
            let postline = self.clone();
            tasks.spawn(async move {
                for delivery in deliveries {
                    postline.attempt_webhook(&delivery).await?;
                }
                Ok::<_, crate::Error>(())
            });
        }
        let renew_every = lease.to_std().unwrap_or(std::time::Duration::from_secs(60)) / 3;
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + renew_every, renew_every);
        loop {
            tokio::select! {
                done = tasks.join_next() => match done {
                    None => break,
                    Some(Ok(result)) => result?,
                    Some(Err(error)) => tracing::error!(%error, "a webhook task panicked; its deliveries return after the lease"),
                },
                _ = renew.tick() => {
                    if let Err(error) = self.store.extend_webhook_lease(&token, self.clock.now() + lease).await {
                        tracing::warn!(%error, "could not renew webhook leases");
                    }
                }
            }
        }
        Ok(count)
    }

    async fn attempt_webhook(&self, delivery: &DueDelivery) -> Result<()> {
        let at = self.clock.now();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(&delivery.secret, &delivery.message_id, timestamp, delivery.payload.as_bytes());
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("svix-id".to_string(), delivery.message_id.clone()),
            ("svix-timestamp".to_string(), timestamp.to_string()),
            ("svix-signature".to_string(), signature),
            ("user-agent".to_string(), concat!("postline-webhooks/", env!("CARGO_PKG_VERSION")).to_string()),
        ];
        let started = Instant::now();
        let result = self.webhooks.post(&delivery.endpoint, &headers, delivery.payload.as_bytes()).await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status_code, response, succeeded) = match result {
            Ok((status, body)) => (Some(status), body, (200..300).contains(&status)),
            Err(reason) => (None, reason, false),
        };
        let attempt = AttemptRecord { at, status_code, duration_ms, response, succeeded };
        let next = if succeeded { Next::Delivered } else { after_failure(delivery.attempts + 1, at) };
        tracing::info!(
            message = %delivery.message_id, endpoint = %delivery.endpoint, status = ?status_code, duration_ms,
            next = ?next, "webhook attempt"
        );
        self.store.record_webhook_attempt(delivery, &attempt, next).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_schedule_is_the_real_services() {
        let now = chrono::Utc::now();
        assert_eq!(after_failure(1, now), Next::RetryAt(now + Duration::seconds(5)));
        assert_eq!(after_failure(2, now), Next::RetryAt(now + Duration::minutes(5)));
        assert_eq!(after_failure(7, now), Next::RetryAt(now + Duration::hours(10)));
        assert_eq!(after_failure(8, now), Next::Failed, "eight attempts in all");
    }
}
