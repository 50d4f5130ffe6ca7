//! The reference, measured in the same run against the same sink: `smtp-source` (from
//! Debian's `postfix` package) straight into the sink — the loopback path's limit —
//! and a private Postfix instance relaying the same number of messages to the sink,
//! unsigned and with OpenDKIM RSA-2048 signing over a unix-socket milter. The
//! instance is set up, started and stopped by `bench/postfix-reference`.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use postline_testkit::smtp_sink::SmtpSink;
use serde_json::{Value, json};

/// Sessions `smtp-source` keeps open in parallel (as the Postline runs' 32 clients);
/// `-d` keeps each session's connection for its next message.
const SESSIONS: &str = "32";
/// Body size in bytes, about the size of the 2 KB HTML email Postline renders.
const SIZE: &str = "2500";

fn script(script: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(script).args(args).status().with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!("{} {} failed: {status}", script.display(), args.join(" "));
    }
    Ok(())
}

/// Injects `n` messages to `port` with `smtp-source` and times until the sink has them all.
async fn inject(sink: &SmtpSink, port: u16, n: usize) -> anyhow::Result<Value> {
    let before = sink.count();
    let started = Instant::now();
    let count = n.to_string();
    let target = format!("127.0.0.1:{port}");
    let source = tokio::process::Command::new("/usr/sbin/smtp-source")
        .args(["-d", "-s", SESSIONS, "-m", &count, "-l", SIZE, "-f", "bench@bench.example", "-t"])
        .args(["user@sink.example", &target])
        .stdout(std::process::Stdio::null())
        .status();
    let status = tokio::time::timeout(Duration::from_secs(600), source).await.context("smtp-source timed out")??;
    anyhow::ensure!(status.success(), "smtp-source failed: {status}");
    let deadline = started + Duration::from_secs(600);
    while sink.count() < before + n {
        anyhow::ensure!(Instant::now() < deadline, "only {} of {n} arrived in 10 minutes", sink.count() - before);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({"emails": n, "seconds": seconds, "per_s": n as f64 / seconds}))
}

/// A private Postfix instance relaying to the sink, for one measurement.
async fn through_postfix(script_path: &Path, sink: &SmtpSink, n: usize, dkim: bool) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let dir_arg = dir.path().to_string_lossy().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let (port_arg, sink_arg) = (port.to_string(), sink.address.port().to_string());
    let mut args = vec!["start", &dir_arg, &port_arg, &sink_arg];
    if dkim {
        args.push("dkim");
    }
    script(script_path, &args)?;
    let result = inject(sink, port, n).await;
    script(script_path, &["stop", &dir_arg])?;
    let result = result?;
    if dkim {
        let signed = sink.received().iter().rev().take(n).filter(|m| m.text().contains("DKIM-Signature:")).count();
        anyhow::ensure!(signed == n, "OpenDKIM signed {signed} of {n} messages");
    }
    Ok(result)
}

pub async fn measure(script_path: &Path, sink: &SmtpSink, n: usize) -> anyhow::Result<Value> {
    eprintln!("==> reference: installing Postfix and OpenDKIM if needed");
    script(script_path, &["install"])?;
    eprintln!("==> reference: smtp-source → sink");
    let raw = inject(sink, sink.address.port(), n).await?;
    eprintln!("==> reference: Postfix relay");
    let postfix = through_postfix(script_path, sink, n, false).await?;
    eprintln!("==> reference: Postfix + OpenDKIM");
    let postfix_opendkim = through_postfix(script_path, sink, n, true).await?;
    Ok(json!({"raw": raw, "postfix": postfix, "postfix_opendkim": postfix_opendkim}))
}
