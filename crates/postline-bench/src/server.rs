//! One `postline serve` under measurement: a release binary on a fresh data directory
//! (SQLite) or a fresh PostgreSQL database, with the harness's DNS server and SMTP
//! sink as the recipients' MX. Stopped by PID when dropped.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use postline_testkit::{dns::DnsServer, process::key_in, smtp_sink::SmtpSink};
use serde_json::json;

pub struct Server {
    child: Child,
    pub url: String,
    pub key: String,
    /// From spawning the process to the first accepted email.
    pub cold_start: Duration,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now (`VmRSS:`) or at its peak so far (`VmHWM:`), in MiB.
    pub fn rss_mib(&self, field: &str) -> f64 {
        postline_testkit::process::rss_mib(self.pid(), field)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the server's log goes: `target/bench/server.log` when `BENCH_SERVER_LOG` is
/// set (its value is the log filter), else nowhere.
fn server_log() -> anyhow::Result<Stdio> {
    if std::env::var_os("BENCH_SERVER_LOG").is_none() {
        return Ok(Stdio::null());
    }
    std::fs::create_dir_all("target/bench")?;
    let file = std::fs::OpenOptions::new().create(true).append(true).open("target/bench/server.log")?;
    Ok(Stdio::from(file))
}

/// Starts the binary with `env` on top of the harness's settings and waits for the
/// first accepted email (a sandbox recipient), which times the cold start.
pub async fn start(
    binary: &Path,
    data: &Path,
    dns: &DnsServer,
    sink: &SmtpSink,
    env: &[(String, String)],
) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let started = Instant::now();
    let mut command = Command::new(binary);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("POSTLINE_DATA_DIR", data)
        .env("POSTLINE_DNS_SERVERS", dns.address.to_string())
        .env("POSTLINE_MX_PORT", sink.address.port().to_string())
        .env("POSTLINE_RATE_LIMIT", "1000000")
        // BENCH_SERVER_LOG=info (or a filter) keeps the server's log in target/bench/server.log.
        .env("POSTLINE_LOG", std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "error".into()))
        .stdout(Stdio::piped())
        .stderr(server_log()?);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().context("starting postline")?;
    let stdout = child.stdout.take().context("stdout")?;
    // The key is in the first lines; the rest of the output (the dashboard's first
    // admin, tips) is read and dropped for as long as the server runs: a closed pipe
    // would make the server's next line fail.
    let (first_lines, lines) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = std::io::BufReader::new(stdout).lines().map_while(Result::ok);
        let _ = first_lines.send(all.by_ref().take(3).collect::<Vec<_>>());
        all.for_each(drop);
    });
    let lines = lines.await?;
    let Some(key) = key_in(&lines) else {
        let _ = child.kill();
        bail!("the first start prints a key; it printed {lines:?}");
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut server = Server { child, url, key, cold_start: Duration::ZERO };
    let client = reqwest::Client::new();
    let send = json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "cold", "text": "t"});
    loop {
        if let Ok(r) = client.post(format!("{}/emails", server.url)).bearer_auth(&server.key).json(&send).send().await
            && r.status().is_success()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("postline did not accept an email within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.cold_start = started.elapsed();
    Ok(server)
}
