//! `postline-bench`: measures release builds of `postline serve` on this machine next
//! to Debian's Postfix in the same run, prints a Markdown table and writes JSON to
//! `target/bench/results.json`.
//!
//! Every Postline run starts the binary on a fresh data directory (or a fresh
//! PostgreSQL database) with an in-process authoritative DNS server and an SMTP sink on
//! loopback as the recipients' MX (direct MX delivery; one run uses relay mode to the
//! same sink instead). Measured: cold start to the first accepted email, idle and peak
//! RSS, `POST /emails` at increasing concurrency and at fixed offered rates, and end
//! to end — N emails accepted, DKIM-signed and delivered to the sink — with RSA-2048,
//! RSA-2048 + Ed25519, and unsigned. The reference: `smtp-source` straight into the
//! sink (the loopback path's limit), and Postfix relaying the same N messages to the
//! same sink, with and without OpenDKIM RSA-2048 signing (`bench/postfix-reference`).
//! Everything talks to 127.0.0.1; processes are stopped by PID.
//!
//! Usage: `bench/run [N]` (builds release binaries, installs Postfix, runs this).

mod broadcast;
mod import;
mod load;
mod postfix;
mod report;
mod server;
mod webhooks;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use postline_testkit::{dns::DnsServer, process::verified_domain_over_api, smtp_sink::SmtpSink};
use serde_json::{Value, json};

use crate::load::Recipient;

/// What one Postline run measures besides end to end.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    /// Accept throughput and latency, then end to end.
    Full,
    /// End to end only.
    EndToEnd,
    /// End to end only, with ten times as many emails (a queue that churns).
    Long,
    /// A CSV import of 1,000,000 contacts (no end-to-end run).
    Import,
    /// One personalised broadcast to `n` contacts, delivered to the sink.
    Broadcast,
    /// `n` sandbox emails, each one signed `email.delivered` webhook to a local endpoint.
    Webhooks,
}

struct Harness {
    binary: PathBuf,
    dns: DnsServer,
    sink: SmtpSink,
    n: usize,
}

/// CPU seconds used so far by every `postgres` process on the machine (the server and
/// its backends), to state what each email costs the database.
fn postgres_cpu_seconds() -> f64 {
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0.0 };
    let mut ticks = 0u64;
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some((name, rest)) = stat.split_once(") ") else { continue };
        if !name.ends_with("(postgres") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
        ticks += fields.get(11).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        ticks += fields.get(12).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    }
    ticks as f64 / ticks_per_second
}

impl Harness {
    /// `emails` accepted by 32 clients and delivered to the sink: the rate from the
    /// first request to the last arrival, the rate of each tenth of the run (a queue
    /// that slows as it churns shows here), and on PostgreSQL the database's CPU per email.
    async fn end_to_end(&self, server: &server::Server, label: &str, emails: usize) -> anyhow::Result<Value> {
        let before = self.sink.count();
        let postgres_before = postgres_cpu_seconds();
        let started = Instant::now();
        let real: Recipient = Arc::new(|i| format!("user{i}@sink.example"));
        let sending = {
            let (url, key) = (server.url.clone(), server.key.clone());
            tokio::spawn(async move { load::send_n(&url, &key, emails, real).await })
        };
        let deadline = started + Duration::from_secs(1800);
        let mut tenths = Vec::new();
        let mut last_mark = 0.0;
        loop {
            let delivered = self.sink.count() - before;
            while tenths.len() < 10 && delivered >= emails * (tenths.len() + 1) / 10 {
                let now = started.elapsed().as_secs_f64();
                tenths.push((emails as f64 / 10.0) / (now - last_mark).max(1e-6));
                last_mark = now;
            }
            if delivered >= emails {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "{label}: only {delivered} of {emails} delivered in 30 minutes");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let accepted_in = sending.await?;
        let seconds = started.elapsed().as_secs_f64();
        let mut result = json!({
            "emails": emails,
            "seconds": seconds,
            "per_s": emails as f64 / seconds,
            "accepted_per_s": emails as f64 / accepted_in.as_secs_f64(),
            "per_s_by_tenth": tenths,
        });
        if label.starts_with("PostgreSQL") {
            let cpu = postgres_cpu_seconds() - postgres_before;
            result["postgres_cpu_ms_per_email"] = json!(cpu * 1000.0 / emails as f64);
        }
        Ok(result)
    }

    /// One fresh server: cold start, idle RSS, end to end with `n` emails, optionally
    /// the accept suite, then peak RSS.
    async fn run(&self, label: &str, env: Vec<(String, String)>, scope: Scope) -> anyhow::Result<Value> {
        let dir = tempfile::tempdir()?;
        let server = server::start(&self.binary, &dir.path().join("data"), &self.dns, &self.sink, &env).await?;
        eprintln!("==> {label} (pid {})", server.pid());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_rss = server.rss_mib("VmRSS:");
        let http = reqwest::Client::new();
        verified_domain_over_api(&http, &server.url, &server.key, &self.dns, "bench.example").await;

        let mut result = json!({"label": label, "cold_start_ms": server.cold_start.as_secs_f64() * 1000.0, "idle_rss_mib": idle_rss});
        if scope == Scope::Webhooks {
            result["webhooks"] = webhooks::delivery_rate(&server, self.n).await?;
            result["peak_rss_mib"] = json!(server.rss_mib("VmHWM:"));
            return Ok(result);
        }
        if scope == Scope::Broadcast {
            result["broadcast"] = broadcast::fan_out(&server, &self.sink, self.n).await?;
            result["peak_rss_mib"] = json!(server.rss_mib("VmHWM:"));
            return Ok(result);
        }
        if scope == Scope::Import {
            result["import"] = import::million_contacts(&server).await?;
            result["peak_rss_mib"] = json!(server.rss_mib("VmHWM:"));
            return Ok(result);
        }
        let emails = if scope == Scope::Long { self.n * 10 } else { self.n };
        result["end_to_end"] = self.end_to_end(&server, label, emails).await?;
        // The accept suite comes after: its tens of thousands of sandbox emails would
        // still be in the queue, competing with the end-to-end run.
        if scope == Scope::Full {
            let sandbox = load::accept_body("delivered@resend.dev");
            let mut closed = Vec::new();
            for concurrency in [1, 8, 32, 64] {
                closed.push(load::closed_loop(&server, concurrency, Duration::from_secs(3), sandbox.clone()).await);
            }
            let mut open = Vec::new();
            for rate in [1_000, 2_000] {
                open.push(load::open_loop(&server, rate, Duration::from_secs(5), sandbox.clone()).await);
            }
            result["accept"] = json!(closed);
            result["offered"] = json!(open);
        }

        result["peak_rss_mib"] = json!(server.rss_mib("VmHWM:"));
        Ok(result)
    }
}

/// A fresh PostgreSQL database for one run, dropped afterwards.
struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl PostgresDatabase {
    async fn create(admin_url: &str) -> anyhow::Result<(Self, String)> {
        let name = format!("postline_bench_{}", std::process::id());
        postline_testkit::test_app::try_execute_sql(admin_url, &format!("CREATE DATABASE {name}")).await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
        Ok((PostgresDatabase { admin_url: admin_url.into(), name: name.clone() }, format!("{base}/{name}")))
    }

    async fn drop_now(self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = postline_testkit::test_app::try_execute_sql(&self.admin_url, &sql).await;
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let binary = PathBuf::from(std::env::var("POSTLINE_BIN").unwrap_or_else(|_| "target/release/postline".into()));
    anyhow::ensure!(binary.exists(), "{} not found: run bench/run (it builds the release binary)", binary.display());
    let postgres = std::env::var("POSTLINE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let dns = DnsServer::start().await;
    let sink = SmtpSink::start().await;
    dns.mx("sink.example", 10, "mx.sink.example");
    dns.address("mx.sink.example", "127.0.0.1".parse()?);
    let harness = Harness { binary, dns, sink: sink.clone(), n };

    let relay = format!("smtp://127.0.0.1:{}?tls_verify=false", sink.address.port());
    let plans = [
        ("SQLite, DKIM RSA-2048", vec![], Scope::Full),
        ("SQLite, DKIM RSA-2048 + Ed25519", env(&[("POSTLINE_DKIM_ED25519", "true")]), Scope::EndToEnd),
        ("SQLite, unsigned", env(&[("POSTLINE_DKIM_SIGNING", "false")]), Scope::EndToEnd),
        ("SQLite, DKIM RSA-2048, relay mode", env(&[("POSTLINE_SMTP_RELAY", &relay)]), Scope::EndToEnd),
        ("PostgreSQL, DKIM RSA-2048", vec![], Scope::Full),
        ("PostgreSQL, DKIM RSA-2048, long run", vec![], Scope::Long),
        ("SQLite, contact import", vec![], Scope::Import),
        ("SQLite, broadcast", vec![], Scope::Broadcast),
        ("SQLite, webhooks", vec![], Scope::Webhooks),
    ];
    // `BENCH_ONLY=unsigned,postfix` runs only the runs whose label contains one of the words;
    // `BENCH_ONLY="=SQLite, DKIM RSA-2048"` only the run with exactly that label (labels hold commas).
    let only_var = std::env::var("BENCH_ONLY").unwrap_or_default();
    let exact = only_var.strip_prefix('=').map(str::to_lowercase);
    let only: Vec<String> = only_var.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect();
    let wanted = |label: &str| match &exact {
        Some(exact) => label.to_lowercase() == *exact,
        None => only.is_empty() || only.iter().any(|w| label.to_lowercase().contains(w.as_str())),
    };
    let mut runs = Vec::new();
    for (label, mut env, scope) in plans {
        if !wanted(label) {
            continue;
        }
        if !label.starts_with("PostgreSQL") {
            runs.push(harness.run(label, env, scope).await?);
            continue;
        }
        match PostgresDatabase::create(&postgres).await {
            Ok((database, url)) => {
                env.push(("POSTLINE_DATABASE_URL".into(), url));
                let run = harness.run(label, env, scope).await;
                database.drop_now().await;
                runs.push(run?);
            }
            Err(error) => eprintln!("PostgreSQL at {postgres} is not usable ({error}); skipping its run"),
        }
    }

    let reference = if wanted("Postfix reference") {
        postfix::measure(Path::new("bench/postfix-reference"), &sink, n).await.unwrap_or_else(|error| {
            eprintln!("the Postfix reference could not be measured: {error:#}");
            json!({"error": format!("{error:#}")})
        })
    } else {
        json!({"error": "not run (BENCH_ONLY)"})
    };
    let results = json!({"emails": n, "postline": runs, "reference": reference});
    println!("{}", report::markdown(&results));
    std::fs::create_dir_all("target/bench")?;
    std::fs::write("target/bench/results.json", serde_json::to_string_pretty(&results)?)?;
    Ok(())
}
