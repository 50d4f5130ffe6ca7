//! Prometheus metrics: counters and histograms kept in memory on each node and
//! rendered in the text exposition format at `/metrics`. Queue depth is read from
//! the store at scrape time, so it is the cluster's, not just this node's.

use std::{
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::{Postline, Result, delivery::DeliveryStatus};

/// Upper bounds (seconds) of the attempt-duration histogram's buckets.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

/// A cumulative histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum in microseconds (atomics hold integers).
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, seconds: f64) {
        for (bucket, bound) in self.buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bucket, bound) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{bound}\"}} {}", bucket.load(Ordering::Relaxed));
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}le=\"+Inf\"}} {count}");
        let plain = labels.trim_end_matches(',');
        let labels = if plain.is_empty() { String::new() } else { format!("{{{plain}}}") };
        let _ = writeln!(out, "{name}_sum{labels} {}", self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count{labels} {count}");
    }
}

/// This node's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    delivered: AtomicU64,
    deferred: AtomicU64,
    bounced: AtomicU64,
    suppressed: AtomicU64,
    failed: AtomicU64,
    /// Time from when a copy's delivering attempt was due to its delivery (for a
    /// first attempt: from acceptance, or the scheduled time).
    pub delivery_latency: Histogram,
    /// Duration of one delivery round's attempts (SMTP sessions included).
    pub attempt_duration: Histogram,
}

impl Metrics {
    /// Counts accepted emails.
    pub fn accepted(&self, emails: usize) {
        self.accepted.fetch_add(emails as u64, Ordering::Relaxed);
    }

    /// Counts an attempt's outcome.
    pub fn outcome(&self, status: DeliveryStatus) {
        let counter = match status {
            DeliveryStatus::Delivered => &self.delivered,
            DeliveryStatus::Queued => &self.deferred,
            DeliveryStatus::Bounced => &self.bounced,
            DeliveryStatus::Suppressed => &self.suppressed,
            DeliveryStatus::Failed | DeliveryStatus::Canceled => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Postline {
    /// This node's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The Prometheus text exposition of this node's metrics and the queue's depth.
    pub async fn render_metrics(&self) -> Result<String> {
        let m = &self.metrics;
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, value: &AtomicU64| {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Ordering::Relaxed));
        };
        counter(&mut out, "postline_emails_accepted_total", "Emails accepted by the API.", &m.accepted);
        let _ = writeln!(out, "# HELP postline_delivery_outcomes_total Outcomes of delivery attempts, per recipient.");
        let _ = writeln!(out, "# TYPE postline_delivery_outcomes_total counter");
        for (outcome, value) in [
            ("delivered", &m.delivered),
            ("deferred", &m.deferred),
            ("bounced", &m.bounced),
            ("suppressed", &m.suppressed),
            ("failed", &m.failed),
        ] {
            let _ = writeln!(
                out,
                "postline_delivery_outcomes_total{{outcome=\"{outcome}\"}} {}",
                value.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP postline_delivery_latency_seconds Time from when the delivering attempt was due (acceptance or scheduled time on a first attempt) to delivery."
        );
        let _ = writeln!(out, "# TYPE postline_delivery_latency_seconds histogram");
        m.delivery_latency.render(&mut out, "postline_delivery_latency_seconds", "");
        let _ =
            writeln!(out, "# HELP postline_delivery_round_seconds Duration of one worker round's delivery attempts.");
        let _ = writeln!(out, "# TYPE postline_delivery_round_seconds histogram");
        m.attempt_duration.render(&mut out, "postline_delivery_round_seconds", "");
        let _ = writeln!(out, "# HELP postline_queue_depth Recipients' copies waiting for delivery, per route.");
        let _ = writeln!(out, "# TYPE postline_queue_depth gauge");
        for (route, depth) in self.store.queue_depth().await? {
            let _ = writeln!(out, "postline_queue_depth{{route=\"{route}\"}} {depth}");
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let h = Histogram::default();
        h.observe(0.003);
        h.observe(0.2);
        h.observe(100.0);
        let mut out = String::new();
        h.render(&mut out, "x", "");
        assert!(out.contains("x_bucket{le=\"0.005\"} 1"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.25\"} 2"), "{out}");
        assert!(out.contains("x_bucket{le=\"30\"} 2"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3"), "{out}");
        assert!(out.contains("x_count 3"), "{out}");
    }
}
