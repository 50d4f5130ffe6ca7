//! The contact-import run: a CSV of 1,000,000 contacts (email, names, a number
//! property) posted to `/contacts/imports` and timed until the import completes.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::server::Server;

const ROWS: usize = 1_000_000;

fn csv() -> Vec<u8> {
    let mut csv = String::with_capacity(ROWS * 48);
    csv.push_str("email,first_name,last_name,seats\n");
    for i in 0..ROWS {
        // Short rows keep a million of them under the 50 MB limit (about 30 MB).
        csv.push_str(&format!("p{i}@c.example,F{i},L{},{}\n", i % 977, i % 50));
    }
    csv.into_bytes()
}

pub async fn million_contacts(server: &Server) -> anyhow::Result<Value> {
    let client = reqwest::Client::new();
    let property = json!({"key": "seats", "type": "number"});
    client.post(format!("{}/contact-properties", server.url)).bearer_auth(&server.key).json(&property).send().await?;
    let file = csv();
    let bytes = file.len();
    let started = Instant::now();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(file).file_name("contacts.csv").mime_str("text/csv")?);
    let created: Value = client
        .post(format!("{}/contacts/imports", server.url))
        .bearer_auth(&server.key)
        .multipart(form)
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_str().with_context(|| format!("the import was refused: {created}"))?.to_string();
    let accepted = started.elapsed();
    let deadline = started + Duration::from_secs(1800);
    loop {
        let import: Value = client
            .get(format!("{}/contacts/imports/{id}", server.url))
            .bearer_auth(&server.key)
            .send()
            .await?
            .json()
            .await?;
        match import["status"].as_str() {
            Some("completed") => {
                let seconds = started.elapsed().as_secs_f64();
                anyhow::ensure!(import["counts"]["created"] == json!(ROWS), "not every row was created: {import}");
                return Ok(json!({
                    "rows": ROWS,
                    "file_mib": bytes as f64 / 1024.0 / 1024.0,
                    "upload_seconds": accepted.as_secs_f64(),
                    "seconds": seconds,
                    "rows_per_s": ROWS as f64 / seconds,
                }));
            }
            Some("failed") => bail!("the import failed: {import}"),
            _ if Instant::now() > deadline => bail!("the import did not finish in 30 minutes: {import}"),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
