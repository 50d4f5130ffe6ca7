//! The broadcast run: a segment of contacts at the sink's domain (imported from a
//! CSV), one personalised broadcast sent to it, timed until the fan-out is done
//! (`status: sent`) and until the last copy reaches the SMTP sink — next to the
//! Postfix reference's rate for the same mail path.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use postline_testkit::smtp_sink::SmtpSink;
use serde_json::{Value, json};

use crate::server::Server;

async fn call(
    client: &reqwest::Client,
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut request = client.request(method, format!("{}{path}", server.url)).bearer_auth(&server.key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    Ok(request.send().await?.json().await?)
}

/// `contacts` contacts, one broadcast, delivered to the sink.
pub async fn fan_out(server: &Server, sink: &SmtpSink, contacts: usize) -> anyhow::Result<Value> {
    let client = reqwest::Client::new();
    let post = reqwest::Method::POST;
    let segment = call(&client, server, post.clone(), "/segments", Some(json!({"name": "Everyone"}))).await?;
    let segment = segment["id"].as_str().context("a segment")?.to_string();
    let mut csv = String::from("email,first_name\n");
    for i in 0..contacts {
        csv.push_str(&format!("reader{i}@sink.example,R{i}\n"));
    }
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("readers.csv").mime_str("text/csv")?)
        .text("segments", json!([segment]).to_string());
    let import: Value = client
        .post(format!("{}/contacts/imports", server.url))
        .bearer_auth(&server.key)
        .multipart(form)
        .send()
        .await?
        .json()
        .await?;
    let import = import["id"].as_str().with_context(|| format!("the import was refused: {import}"))?.to_string();
    let deadline = Instant::now() + Duration::from_secs(900);
    while call(&client, server, reqwest::Method::GET, &format!("/contacts/imports/{import}"), None).await?["status"]
        != "completed"
    {
        anyhow::ensure!(Instant::now() < deadline, "the contacts were not imported in 15 minutes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let before = sink.count();
    let started = Instant::now();
    let body = json!({
        "segment_id": segment, "from": "News <news@bench.example>", "subject": "News for {{{FIRST_NAME|you}}}",
        "html": "<p>Hi {{{FIRST_NAME|there}}}, here is the news.</p><a href=\"{{{RESEND_UNSUBSCRIBE_URL}}}\">Unsubscribe</a>",
        "text": "Hi {{{FIRST_NAME|there}}}, here is the news.", "send": true,
    });
    let created = call(&client, server, post, "/broadcasts", Some(body)).await?;
    let id = created["id"].as_str().with_context(|| format!("the broadcast was refused: {created}"))?.to_string();
    let deadline = started + Duration::from_secs(1800);
    let mut fanned_out = None;
    loop {
        if fanned_out.is_none() {
            let shown = call(&client, server, reqwest::Method::GET, &format!("/broadcasts/{id}"), None).await?;
            if shown["status"] == "sent" {
                fanned_out = Some(started.elapsed());
            }
        }
        let delivered = sink.count() - before;
        if delivered >= contacts && fanned_out.is_some() {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {delivered} of {contacts} broadcast copies arrived in 30 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let fan_out = fanned_out.unwrap_or_default().as_secs_f64();
    Ok(json!({
        "contacts": contacts,
        "fan_out_seconds": fan_out,
        "queued_per_s": contacts as f64 / fan_out.max(1e-6),
        "seconds": seconds,
        "delivered_per_s": contacts as f64 / seconds,
    }))
}
