//! The webhook run: an endpoint on loopback subscribed to `email.delivered`, N emails
//! to the sandbox's delivered address, timed from the first request until the N-th
//! signed webhook arrives (each verified with the Svix library by the receiver).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use postline_testkit::webhook_receiver::WebhookReceiver;
use serde_json::{Value, json};

use crate::{load, server::Server};

pub async fn delivery_rate(server: &Server, emails: usize) -> anyhow::Result<Value> {
    let receiver = WebhookReceiver::start().await;
    let created: Value = reqwest::Client::new()
        .post(format!("{}/webhooks", server.url))
        .bearer_auth(&server.key)
        .json(&json!({"endpoint": receiver.url(), "events": ["email.delivered"]}))
        .send()
        .await?
        .json()
        .await?;
    receiver.set_secret(created["signing_secret"].as_str().with_context(|| format!("no webhook: {created}"))?);
    let started = Instant::now();
    let sandbox: load::Recipient = Arc::new(|_| "delivered@resend.dev".to_string());
    let sending = {
        let (url, key) = (server.url.clone(), server.key.clone());
        tokio::spawn(async move { load::send_n(&url, &key, emails, sandbox).await })
    };
    let deadline = started + Duration::from_secs(1800);
    loop {
        let (arrived, verified) = receiver.counts();
        if arrived >= emails {
            anyhow::ensure!(verified == arrived, "{} of {arrived} webhooks failed verification", arrived - verified);
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "only {arrived} of {emails} webhooks arrived in 30 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let accepted_in = sending.await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "webhooks": emails,
        "seconds": seconds,
        "per_s": emails as f64 / seconds,
        "accepted_per_s": emails as f64 / accepted_in.as_secs_f64(),
    }))
}
