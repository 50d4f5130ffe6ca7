//! Load generators for `POST /emails` (2 KB HTML, one recipient): closed loop at a
//! fixed concurrency (how fast can it go), and open loop at a fixed offered rate (what
//! latency does a steady stream see). Open-loop latency is measured from the moment a
//! request was due, not when it was sent, so a stalled server cannot hide its stall by
//! slowing the generator down (coordinated omission).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::server::Server;

/// Who an email goes to, by its sequence number.
pub type Recipient = Arc<dyn Fn(usize) -> String + Send + Sync>;

pub fn html_2kb() -> String {
    let mut html = String::from("<html><body><h1>Your receipt</h1>");
    while html.len() < 2000 {
        html.push_str("<p>Thank you for your order. Here is what you bought and what it cost.</p>");
    }
    html + "</body></html>"
}

fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(connections).tcp_nodelay(true).build().expect("HTTP client")
}

fn body(html: &str, to: String) -> Value {
    json!({"from": "Bench <bench@bench.example>", "to": to, "subject": "Benchmark", "html": html})
}

/// The accept runs send one body over and over (to a sandbox recipient), serialized
/// once, so the generator — which shares the machine's two cores with the server —
/// spends as little as it can per request.
pub fn accept_body(to: &str) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::to_vec(&body(&html_2kb(), to.to_string())).expect("JSON"))
}

fn post(client: &reqwest::Client, server_url: &str, key: &str, body: bytes::Bytes) -> reqwest::RequestBuilder {
    client
        .post(format!("{server_url}/emails"))
        .bearer_auth(key)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
}

/// Milliseconds at percentile `p` of sorted latencies.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn summary(mut latencies: Vec<Duration>, failed: usize, elapsed: Duration) -> Value {
    latencies.sort();
    json!({
        "accepted": latencies.len(),
        "failed": failed,
        "accepted_per_s": latencies.len() as f64 / elapsed.as_secs_f64(),
        "p50_ms": percentile(&latencies, 0.5),
        "p99_ms": percentile(&latencies, 0.99),
    })
}

/// `concurrency` clients each send one request after another for `duration`.
pub async fn closed_loop(server: &Server, concurrency: usize, duration: Duration, body: bytes::Bytes) -> Value {
    let client = client(concurrency);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, body, url, key) = (client.clone(), body.clone(), server.url.clone(), server.key.clone());
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), 0);
                while started.elapsed() < duration {
                    let t = Instant::now();
                    match post(&client, &url, &key, body.clone()).send().await {
                        Ok(r) if r.status().is_success() => latencies.push(t.elapsed()),
                        _ => failed += 1,
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let (mut all, mut failed) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, f) = task.await.unwrap_or_default();
        all.extend(latencies);
        failed += f;
    }
    let mut row = summary(all, failed, started.elapsed());
    row["concurrency"] = json!(concurrency);
    row
}

/// Requests are started at `rate` per second for `duration`, whatever the server does.
pub async fn open_loop(server: &Server, rate: u32, duration: Duration, body: bytes::Bytes) -> Value {
    let client = client(512);
    let total = (f64::from(rate) * duration.as_secs_f64()) as usize;
    let origin = Instant::now() + Duration::from_millis(20);
    let mut requests = Vec::with_capacity(total);
    for i in 0..total {
        let due = origin + Duration::from_secs_f64(i as f64 / f64::from(rate));
        tokio::time::sleep_until(due.into()).await;
        let (client, body, url, key) = (client.clone(), body.clone(), server.url.clone(), server.key.clone());
        requests.push(tokio::spawn(async move {
            match post(&client, &url, &key, body).send().await {
                Ok(r) if r.status().is_success() => Some(due.elapsed()),
                _ => None,
            }
        }));
    }
    let (mut all, mut failed) = (Vec::new(), 0);
    for request in requests {
        match request.await.ok().flatten() {
            Some(latency) => all.push(latency),
            None => failed += 1,
        }
    }
    let mut row = summary(all, failed, origin.elapsed());
    row["offered_per_s"] = json!(rate);
    row
}

/// Sends `n` emails to real recipients at the sink's domain with 32 clients; returns
/// how long until the last one was acknowledged.
pub async fn send_n(url: &str, key: &str, n: usize, to: Recipient) -> Duration {
    let started = Instant::now();
    let client = client(32);
    let html = Arc::new(html_2kb());
    let tasks: Vec<_> = (0..32)
        .map(|worker| {
            let (client, html, url, key, to) =
                (client.clone(), html.clone(), url.to_string(), key.to_string(), to.clone());
            tokio::spawn(async move {
                let mut i = worker;
                while i < n {
                    if let Ok(r) =
                        client.post(format!("{url}/emails")).bearer_auth(&key).json(&body(&html, to(i))).send().await
                        && r.status().is_success()
                    {
                        i += 32;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    started.elapsed()
}
