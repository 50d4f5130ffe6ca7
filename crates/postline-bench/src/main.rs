//! `postline-bench`: measures a release build of `postline serve` on this machine and
//! prints a Markdown table (and writes JSON to `target/bench/results.json`).
//!
//! It starts the binary on a fresh data directory with an in-process authoritative
//! DNS server and SMTP sink on loopback acting as the recipients' MX (direct MX
//! delivery, not relay mode), verifies a sending domain through the API, then measures:
//! cold start to the first accepted email, idle RSS, `POST /emails` throughput and
//! latency at several concurrencies (sandbox recipients, so only acceptance is
//! measured), and end to end: N emails accepted, DKIM-signed (RSA-2048) and delivered
//! to the sink. Everything talks to 127.0.0.1; the process it started is stopped by PID.
//!
//! Usage: `bench/run [N]` (builds release binaries, then runs this).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use postline_testkit::{dns::DnsServer, process::key_in, smtp_sink::SmtpSink};
use serde_json::{Value, json};

struct Server {
    child: Child,
    url: String,
    key: String,
    cold_start: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn html_2kb() -> String {
    let mut html = String::from("<html><body><h1>Your receipt</h1>");
    while html.len() < 2000 {
        html.push_str("<p>Thank you for your order. Here is what you bought and what it cost.</p>");
    }
    html + "</body></html>"
}

async fn start(binary: &PathBuf, data: &std::path::Path, dns: &DnsServer, sink: &SmtpSink) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("POSTLINE_DATA_DIR", data)
        .env("POSTLINE_DNS_SERVERS", dns.address.to_string())
        .env("POSTLINE_MX_PORT", sink.address.port().to_string())
        .env("POSTLINE_RATE_LIMIT", "1000000")
        .env("POSTLINE_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting postline")?;
    let stdout = child.stdout.take().context("stdout")?;
    let lines = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout).lines().map_while(Result::ok).take(3).collect::<Vec<_>>()
    })
    .await?;
    let key = key_in(&lines).context("the first start prints a key")?;
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let send = json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "cold", "text": "t"});
    loop {
        if let Ok(r) = client.post(format!("{url}/emails")).bearer_auth(&key).json(&send).send().await
            && r.status().is_success()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("postline did not accept an email within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(Server { child, url, key, cold_start: started.elapsed() })
}

async fn verify_domain(server: &Server, dns: &DnsServer) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let domain: Value = client
        .post(format!("{}/domains", server.url))
        .bearer_auth(&server.key)
        .json(&json!({"name": "bench.example"}))
        .send()
        .await?
        .json()
        .await?;
    for record in domain["records"].as_array().context("records")? {
        let owner = format!("{}.bench.example", record["name"].as_str().unwrap_or_default());
        let value = record["value"].as_str().unwrap_or_default();
        match record["type"].as_str() {
            Some("MX") => dns.mx(&owner, 10, value),
            _ => dns.txt(&owner, value),
        }
    }
    let id = domain["id"].as_str().context("id")?.to_string();
    client.post(format!("{}/domains/{id}/verify", server.url)).bearer_auth(&server.key).send().await?;
    for _ in 0..200 {
        let d: Value =
            client.get(format!("{}/domains/{id}", server.url)).bearer_auth(&server.key).send().await?.json().await?;
        if d["status"] == "verified" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the benchmark domain did not verify")
}

/// Sends for `duration` at `concurrency`; returns (accepted per second, p50 ms, p99 ms).
async fn accept(
    server: &Server,
    concurrency: usize,
    duration: Duration,
    to: Arc<dyn Fn(usize) -> String + Send + Sync>,
) -> (f64, f64, f64, usize) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).tcp_nodelay(true).build().unwrap();
    let html = Arc::new(html_2kb());
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, html, url, key, to) = (client.clone(), html.clone(), server.url.clone(), server.key.clone(), to.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = worker;
                while started.elapsed() < duration {
                    let body = json!({"from": "Bench <bench@bench.example>", "to": to(i), "subject": "Benchmark", "html": *html});
                    let t = Instant::now();
                    if let Ok(r) = client.post(format!("{url}/emails")).bearer_auth(&key).json(&body).send().await
                        && r.status().is_success()
                    {
                        latencies.push(t.elapsed());
                    }
                    i += concurrency;
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    (all.len() as f64 / elapsed, pct(0.5), pct(0.99), all.len())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let binary = PathBuf::from(std::env::var("POSTLINE_BIN").unwrap_or_else(|_| "target/release/postline".into()));
    anyhow::ensure!(binary.exists(), "{} not found: run bench/run (it builds the release binary)", binary.display());
    let dns = DnsServer::start().await;
    let sink = SmtpSink::start().await;
    dns.mx("sink.example", 10, "mx.sink.example");
    dns.address("mx.sink.example", "127.0.0.1".parse()?);
    let dir = tempfile::tempdir()?;
    let server = start(&binary, &dir.path().join("data"), &dns, &sink).await?;
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = rss_kib(pid, "VmRSS:");
    verify_domain(&server, &dns).await?;

    let mut rows = Vec::new();
    for concurrency in [1, 8, 32, 64] {
        let sandbox: Arc<dyn Fn(usize) -> String + Send + Sync> = Arc::new(|_| "delivered@resend.dev".to_string());
        let (rate, p50, p99, count) = accept(&server, concurrency, Duration::from_secs(3), sandbox).await;
        rows.push(json!({"concurrency": concurrency, "accepted_per_s": rate, "p50_ms": p50, "p99_ms": p99, "accepted": count}));
    }

    let before = sink.received().len();
    let e2e_started = Instant::now();
    let real: Arc<dyn Fn(usize) -> String + Send + Sync> = Arc::new(|i| format!("user{i}@sink.example"));
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let html = html_2kb();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let (client, html, url, key, real, sent) =
            (client.clone(), html.clone(), server.url.clone(), server.key.clone(), real.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while i < n {
                let body =
                    json!({"from": "Bench <bench@bench.example>", "to": real(i), "subject": "Benchmark", "html": html});
                if let Ok(r) = client.post(format!("{url}/emails")).bearer_auth(&key).json(&body).send().await
                    && r.status().is_success()
                {
                    sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    i += 32;
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    while sink.received().len() < before + n {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {n} delivered in 10 minutes",
            sink.received().len() - before
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let e2e = e2e_started.elapsed().as_secs_f64();
    let peak_rss = rss_kib(pid, "VmHWM:");

    let results = json!({
        "cold_start_ms": server.cold_start.as_secs_f64() * 1000.0,
        "idle_rss_mib": idle_rss as f64 / 1024.0,
        "peak_rss_mib": peak_rss as f64 / 1024.0,
        "accept": rows,
        "end_to_end": {"emails": n, "seconds": e2e, "per_s": n as f64 / e2e, "dkim": "rsa-sha256 2048", "route": "direct MX via in-process DNS"},
    });
    println!("| measure | value |\n|---|---|");
    println!(
        "| cold start to first accepted email | {:.0} ms |",
        results["cold_start_ms"].as_f64().unwrap_or_default()
    );
    println!("| idle RSS | {:.1} MiB |", results["idle_rss_mib"].as_f64().unwrap_or_default());
    println!("| peak RSS | {:.1} MiB |", results["peak_rss_mib"].as_f64().unwrap_or_default());
    for row in results["accept"].as_array().into_iter().flatten() {
        println!(
            "| accept, concurrency {} | {:.0}/s, p50 {:.1} ms, p99 {:.1} ms |",
            row["concurrency"],
            row["accepted_per_s"].as_f64().unwrap_or_default(),
            row["p50_ms"].as_f64().unwrap_or_default(),
            row["p99_ms"].as_f64().unwrap_or_default()
        );
    }
    println!(
        "| end to end ({n} emails, DKIM RSA-2048, to the sink) | {:.0} msgs/s |",
        results["end_to_end"]["per_s"].as_f64().unwrap_or_default()
    );
    std::fs::create_dir_all("target/bench")?;
    std::fs::write("target/bench/results.json", serde_json::to_string_pretty(&results)?)?;
    drop(server);
    Ok(())
}
