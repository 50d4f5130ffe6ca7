//! The `postline` binary as a child process, for tests of what a user runs:
//! start `serve`, read its banner (URL, first key), stop it with a signal.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    time::Duration,
};

/// A running `postline serve`.
pub struct ServerProcess {
    pub child: Child,
    /// Lines printed after the banner.
    pub lines: mpsc::Receiver<String>,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The banner lines read so far.
    pub printed: Vec<String>,
}

/// A `postline` command with a clean environment and the given data directory.
pub fn command(binary: &str, data_dir: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("POSTLINE_DATA_DIR", data_dir)
        .env("POSTLINE_LOG", "warn")
        // Never ask real DNS from tests: a nameserver that answers nothing.
        .env("POSTLINE_DNS_SERVERS", "127.0.0.1:9")
        .current_dir(data_dir.parent().expect("data dir has a parent"));
    command
}

impl ServerProcess {
    /// Starts `postline serve` on an ephemeral loopback port and reads its banner.
    pub fn start(binary: &str, data_dir: &Path) -> Self {
        Self::start_with(binary, data_dir, "127.0.0.1:0", &[])
    }

    /// Starts `postline serve` on `listen` with extra environment variables.
    pub fn start_with(binary: &str, data_dir: &Path, listen: &str, env: &[(&str, String)]) -> Self {
        let mut command = command(binary, data_dir);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .args(["serve", "--listen", listen])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postline serve");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        let url = loop {
            let line = lines.recv_timeout(Duration::from_secs(30)).expect("serve prints where it listens");
            printed.push(line.clone());
            if let Some(url) = line.strip_prefix("Postline is listening on ") {
                break url.trim().to_string();
            }
        };
        // The next lines say whether a key was created.
        for _ in 0..2 {
            if let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
                printed.push(line);
            }
        }
        ServerProcess { child, lines, url, printed }
    }

    /// The API key the banner printed, if it printed one.
    pub fn printed_key(&self) -> Option<String> {
        key_in(&self.printed)
    }

    /// Sends SIGTERM and waits (up to 10 s) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("postline did not stop within 10 s of SIGTERM");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A process's resident memory in MiB: `VmRSS:` now, or `VmHWM:` (its peak so far).
pub fn rss_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .map_or(0.0, |kib: f64| kib / 1024.0)
}

/// The first `re_…` token in some printed lines.
pub fn key_in(lines: &[String]) -> Option<String> {
    lines.iter().find_map(|l| l.split_whitespace().find(|w| w.starts_with("re_") && w.len() > 20).map(str::to_string))
}

/// Adds the domain `name` through the API of a running server, publishes the records
/// it asks for on `dns` (in place of any published before), asks for verification, and waits (up to 10 s) until it is
/// verified. Returns the domain as the API last showed it.
pub async fn verified_domain_over_api(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    dns: &crate::dns::DnsServer,
    name: &str,
) -> serde_json::Value {
    let domain: serde_json::Value = client
        .post(format!("{base}/domains"))
        .bearer_auth(key)
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .expect("add the domain")
        .json()
        .await
        .expect("domain JSON");
    let records = domain["records"].as_array().expect("records");
    // Replaces what an earlier run published for the same names (another key, say).
    for record in records {
        dns.remove(&format!("{}.{name}", record["name"].as_str().expect("record name")));
    }
    for record in records {
        let owner = format!("{}.{name}", record["name"].as_str().expect("record name"));
        let value = record["value"].as_str().expect("record value");
        match record["type"].as_str().expect("record type") {
            "MX" => dns.mx(&owner, 10, value),
            _ => dns.txt(&owner, value),
        }
    }
    let id = domain["id"].as_str().expect("domain id");
    client.post(format!("{base}/domains/{id}/verify")).bearer_auth(key).send().await.expect("verify");
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let shown: serde_json::Value = client
            .get(format!("{base}/domains/{id}"))
            .bearer_auth(key)
            .send()
            .await
            .expect("get the domain")
            .json()
            .await
            .expect("domain JSON");
        if shown["status"] == "verified" {
            return shown;
        }
    }
    panic!("{name} did not verify within 10 s");
}
