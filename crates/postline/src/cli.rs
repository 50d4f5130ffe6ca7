//! The command line: `serve`, `migrate`, `api-keys create|list|delete`.

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use postline_core::{
    Postline,
    api_keys::CreateApiKey,
    clock::{SystemClock, api_time},
    ids::ApiKeyId,
    pagination::{Cursor, PageRequest},
    teams::Team,
};

use crate::{
    app::App,
    config::{Config, Overrides},
};

/// Postline: a self-hosted email platform that speaks the Resend API.
#[derive(Debug, Parser)]
#[command(name = "postline", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub overrides: Overrides,
    /// Log filter, e.g. `info` or `postline=debug` [env: POSTLINE_LOG]
    #[arg(long, env = "POSTLINE_LOG", global = true, hide_env = true)]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server and delivery workers. On first start this creates the data
    /// directory, the database and a first team, and prints its full-access API key.
    Serve,
    /// Apply pending database migrations and exit (serve also does this at start-up).
    Migrate,
    /// Manage the first team's API keys.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Manage the first team's sending domains and see their DNS records.
    #[command(subcommand)]
    Domains(DomainsCommand),
    /// See the first team's webhook endpoints, their deliveries and attempts; replay.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Manage the first team's contacts.
    #[command(subcommand)]
    Contacts(ContactsCommand),
    /// Manage the first team's dashboard users.
    #[command(subcommand)]
    Users(crate::users_cli::UsersCommand),
}

/// `postline contacts …`
#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// Import contacts from a CSV file, showing progress (columns named `email`,
    /// `first_name`, `last_name`, `unsubscribed` and property keys, or --column-map).
    Import {
        /// The CSV file (at most 50 MB).
        file: std::path::PathBuf,
        /// JSON mapping fields to columns, e.g. '{"email":"Email","first_name":"First"}'.
        #[arg(long)]
        column_map: Option<String>,
        /// What to do with addresses that already are contacts: skip or upsert.
        #[arg(long, default_value = "skip")]
        on_conflict: String,
        /// Put every imported contact in this segment (repeatable).
        #[arg(long)]
        segment: Vec<String>,
    },
    /// Add contacts (ids or addresses; `-` reads them from stdin, one per line) to a segment.
    AddToSegment {
        /// The segment's id.
        segment: String,
        contacts: Vec<String>,
    },
    /// Subscribe contacts to a topic (or opt them out with --opt-out).
    Subscribe {
        /// The topic's id.
        topic: String,
        contacts: Vec<String>,
        #[arg(long)]
        opt_out: bool,
    },
    /// Delete contacts.
    Delete { contacts: Vec<String> },
}

/// `postline webhooks …`
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// List endpoints.
    List,
    /// An endpoint's recent events and their status, or one event's attempts.
    Attempts {
        /// The endpoint's id.
        webhook: String,
        /// An event id (from this command's listing) to see its attempts.
        event: Option<String>,
    },
    /// Send events again: one (`--event`), or every failed one since a time.
    Replay {
        /// The endpoint's id (omit with --failed-since for every endpoint).
        webhook: Option<String>,
        /// The event to send again.
        #[arg(long)]
        event: Option<String>,
        /// Every failed event created since this time (RFC 3339, or "24h", "3d").
        #[arg(long)]
        failed_since: Option<String>,
    },
}

/// `postline domains …`
#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// Add a domain and print the DNS records to publish.
    Add {
        /// The domain, e.g. updates.example.com.
        name: String,
        /// Region (one this installation offers).
        #[arg(long)]
        region: Option<String>,
        /// Bounce subdomain instead of `send`.
        #[arg(long)]
        return_path: Option<String>,
    },
    /// List domains and their status.
    List,
    /// Check a domain's records now and print each record's status and diagnostics.
    Verify {
        /// The domain's name or id.
        domain: String,
    },
    /// Print the records to publish, as a table to paste into a DNS provider.
    Records {
        /// The domain's name or id.
        domain: String,
    },
    /// Rotate the domain's DKIM key without downtime: a new key under a new selector is
    /// added to the records; it starts signing once its record is verified, and the old
    /// key stays published until `remove-key`.
    RotateKey {
        /// The domain's name or id.
        domain: String,
    },
    /// Remove a retired DKIM key (after mail signed with it has been delivered).
    RemoveKey {
        /// The domain's name or id.
        domain: String,
        /// The retired key's selector.
        selector: String,
    },
}

/// `postline api-keys …`
#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key and print its token (shown only this once).
    Create {
        /// A name to recognise the key by (at most 50 characters).
        #[arg(long)]
        name: String,
        /// `full_access` (default) or `sending_access`.
        #[arg(long, default_value = "full_access")]
        permission: String,
    },
    /// List keys (never their tokens).
    List,
    /// Delete a key; it stops working at once.
    Delete {
        /// The key's id.
        id: String,
    },
}

/// Sets up `tracing` output on stderr.
pub fn init_logging(filter: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter.unwrap_or("info,sqlx=warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.overrides)?;
    match cli.command {
        Command::Serve => crate::serve::run(config).await,
        Command::Migrate => {
            ensure_data_dir(&config)?;
            App::build(&config, Arc::new(SystemClock)).await?;
            println!("The database is up to date.");
            Ok(())
        }
        Command::ApiKeys(command) => {
            ensure_data_dir(&config)?;
            let app = App::build(&config, Arc::new(SystemClock)).await?;
            api_keys(&app.postline, command).await
        }
        Command::Webhooks(command) => {
            ensure_data_dir(&config)?;
            let app = App::build(&config, Arc::new(SystemClock)).await?;
            crate::webhooks_cli::run(&app.postline, first_team(&app.postline).await?.id, command).await
        }
        Command::Contacts(command) => {
            ensure_data_dir(&config)?;
            let app = App::build(&config, Arc::new(SystemClock)).await?;
            crate::contacts_cli::run(&app.postline, first_team(&app.postline).await?.id, command).await
        }
        Command::Domains(command) => {
            ensure_data_dir(&config)?;
            let app = App::build(&config, Arc::new(SystemClock)).await?;
            crate::domains_cli::run(&app.postline, first_team(&app.postline).await?.id, command).await
        }
        Command::Users(command) => {
            ensure_data_dir(&config)?;
            let app = App::build(&config, Arc::new(SystemClock)).await?;
            crate::users_cli::run(&app.postline, first_team(&app.postline).await?.id, command).await
        }
    }
}

fn ensure_data_dir(config: &Config) -> anyhow::Result<()> {
    if config.uses_sqlite() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    }
    Ok(())
}

async fn first_team(postline: &Postline) -> anyhow::Result<Team> {
    match postline.first_team().await? {
        Some(team) => Ok(team),
        None => bail!("there is no team yet: run `postline serve` once to create it"),
    }
}

async fn api_keys(postline: &Postline, command: ApiKeysCommand) -> anyhow::Result<()> {
    let team = first_team(postline).await?;
    match command {
        ApiKeysCommand::Create { name, permission } => {
            let created = postline
                .create_api_key(
                    team.id,
                    CreateApiKey { name: Some(name), permission: Some(permission), domain_id: None },
                )
                .await?;
            println!(
                "Created API key {} ({}). Its token, shown only this once:",
                created.key.id,
                created.key.permission.as_str()
            );
            println!("{}", created.token);
        }
        ApiKeysCommand::List => {
            let mut page = PageRequest { limit: 100, cursor: Cursor::Start };
            println!("{:<36}  {:<14}  {:<28}  {:<28}  NAME", "ID", "PERMISSION", "CREATED", "LAST USED");
            loop {
                let keys = postline.list_api_keys(team.id, page.clone()).await?;
                for key in &keys.items {
                    println!(
                        "{:<36}  {:<14}  {:<28}  {:<28}  {}",
                        key.id.to_string(),
                        key.permission.as_str(),
                        api_time(key.created_at),
                        key.last_used_at.map(api_time).unwrap_or_else(|| "never".into()),
                        key.name
                    );
                }
                match (keys.has_more, keys.items.last()) {
                    (true, Some(last)) => page.cursor = Cursor::After(last.id.to_string()),
                    _ => break,
                }
            }
        }
        ApiKeysCommand::Delete { id } => {
            let id = ApiKeyId::parse(&id)?;
            postline.delete_api_key(team.id, id).await?;
            println!("Deleted API key {id}.");
        }
    }
    Ok(())
}
