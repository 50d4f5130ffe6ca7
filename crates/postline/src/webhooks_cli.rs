//! `postline webhooks list|attempts|replay`.

use anyhow::{Context, bail};
use postline_core::{
    Postline,
    clock::api_time,
    emails::manage::parse_duration,
    ids::{TeamId, WebhookId},
    pagination::{Cursor, PageRequest},
};

use crate::cli::WebhooksCommand;

/// Runs a `webhooks` subcommand for a team.
pub async fn run(postline: &Postline, team_id: TeamId, command: WebhooksCommand) -> anyhow::Result<()> {
    match command {
        WebhooksCommand::List => {
            println!("{:<36}  {:<9}  {:<44}  EVENTS", "ID", "STATUS", "ENDPOINT");
            let page = postline.list_webhooks(team_id, PageRequest { limit: 100, cursor: Cursor::Start }).await?;
            for w in page.items {
                let status = if w.enabled { "enabled" } else { "disabled" };
                println!("{:<36}  {:<9}  {:<44}  {}", w.id.to_string(), status, w.endpoint, w.events.join(","));
            }
        }
        WebhooksCommand::Attempts { webhook, event: None } => {
            let id = WebhookId::parse(&webhook)?;
            let events = postline.webhook_events(team_id, id, PageRequest { limit: 50, cursor: Cursor::Start }).await?;
            println!("{:<36}  {:<24}  {:<11}  CREATED", "EVENT", "TYPE", "STATUS");
            for e in events.items {
                println!("{:<36}  {:<24}  {:<11}  {}", e.id, e.event_type, e.status, api_time(e.created_at));
            }
        }
        WebhooksCommand::Attempts { webhook, event: Some(event) } => {
            let attempts = postline.webhook_attempts(team_id, WebhookId::parse(&webhook)?, &event).await?;
            println!("{:<30}  {:<6}  {:<9}  RESPONSE", "SENT", "STATUS", "DURATION");
            for a in attempts {
                let status = a.status_code.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
                let response: String = a.response.chars().take(80).collect();
                println!(
                    "{:<30}  {:<6}  {:<9}  {}",
                    api_time(a.at),
                    status,
                    format!("{} ms", a.duration_ms),
                    response.replace('\n', " ")
                );
            }
        }
        WebhooksCommand::Replay { webhook, event: Some(event), .. } => {
            let Some(webhook) = webhook else { bail!("--event needs the endpoint's id") };
            postline.replay_webhook_event(team_id, WebhookId::parse(&webhook)?, &event).await?;
            println!("Event {event} queued again; a running `postline serve` sends it within a second.");
        }
        WebhooksCommand::Replay { webhook, event: None, failed_since: Some(since) } => {
            let since = match chrono::DateTime::parse_from_rfc3339(&since) {
                Ok(at) => at.with_timezone(&chrono::Utc),
                Err(_) => {
                    let ago = parse_duration(&since)
                        .with_context(|| format!("`{since}` is neither a time nor a duration like 24h"))?;
                    chrono::Utc::now() - ago
                }
            };
            let webhook = webhook.map(|w| WebhookId::parse(&w)).transpose()?;
            let count = postline.replay_failed_webhooks(team_id, webhook, since).await?;
            println!("{count} failed event deliveries queued again.");
        }
        WebhooksCommand::Replay { .. } => bail!("say what to replay: --event ID, or --failed-since TIME"),
    }
    Ok(())
}
