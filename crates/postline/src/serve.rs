//! `postline serve`: first-start setup (team and key), the HTTP listener, the
//! delivery workers, and graceful shutdown on SIGTERM/SIGINT.

use std::sync::Arc;

use anyhow::Context;
use postline_core::{api_keys::CreateApiKey, clock::SystemClock};
use tokio::{net::TcpListener, sync::watch};

use crate::{app::App, config::Config};

/// Runs the server until a shutdown signal, then drains and exits.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    if config.uses_sqlite() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    }
    let listener = TcpListener::bind(config.listen).await.with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr()?;
    // With an ephemeral port (`:0`), links must name the port actually bound.
    if config.public_url == format!("http://{}", crate::config::display_host(config.listen)) {
        config.public_url = format!("http://{}", crate::config::display_host(address));
    }
    let app = App::build(&config, Arc::new(SystemClock)).await?;
    let first_key = first_start(&app).await?;
    // Small request/response exchanges: never wait on Nagle's algorithm.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });

    println!("Postline is listening on http://{}", crate::config::display_host(address));
    match first_key {
        Some(token) => {
            println!("Created the first team and its full-access API key (shown only this once):");
            println!("  {token}");
        }
        None => println!(
            "API keys are shown only when created; make a new one with `postline api-keys create --name NAME`."
        ),
    }
    println!(
        "Try: curl -X POST http://{}/emails -H 'Authorization: Bearer re_…' -H 'Content-Type: application/json' \\",
        crate::config::display_host(address)
    );
    println!(
        "       -d '{{\"from\":\"onboarding@resend.dev\",\"to\":\"delivered@resend.dev\",\"subject\":\"Hi\",\"html\":\"<p>Hello</p>\"}}'"
    );

    if let Some(team) = app.postline.first_team().await?
        && let Some((email, password)) = crate::users_cli::ensure_first_admin(&app.postline, team.id).await?
    {
        println!("Dashboard: {}/dashboard", config.public_url);
        println!("  sign in as {email} with the password {password} (shown only this once;");
        println!("  add people with `postline users create --email … --role admin|member`)");
    } else {
        println!("Dashboard: {}/dashboard", config.public_url);
    }
    if config.capture {
        println!("Capture mode: nothing is sent; every email appears at {}/dashboard/inbox", config.public_url);
    }
    let inbound = match &config.smtp {
        Some(smtp) => start_inbound(&app, &config, smtp).await?,
        None => Vec::new(),
    };

    let (stop, stopped) = watch::channel(false);
    let mut workers: Vec<_> = app.workers().into_iter().map(|w| tokio::spawn(w.run(stopped.clone()))).collect();
    workers.push(tokio::spawn(housekeeping(app.postline.clone(), stopped.clone())));
    workers.push(tokio::spawn(domain_checks(app.postline.clone(), stopped.clone())));
    workers.push(tokio::spawn(webhook_dispatch(app.postline.clone(), stopped.clone())));
    workers.push(tokio::spawn(contact_imports(app.postline.clone(), stopped.clone())));
    workers.push(tokio::spawn(broadcast_fanout(app.postline.clone(), stopped.clone())));
    workers.push(tokio::spawn(crate::app::export_jobs(app.postline.clone(), stopped.clone())));
    let mut on_stop = stopped.clone();
    // With the peer's address, which the tracking links record.
    let service = axum::ServiceExt::into_make_service_with_connect_info::<std::net::SocketAddr>(postline_api::service(
        app.router.clone(),
    ));
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = shutdown_signal() => {}
                _ = on_stop.changed() => {}
            }
        })
        .await
        .context("serving HTTP")?;
    tracing::info!("shutting down: waiting for workers to finish their round");
    // Inbound sessions end with the process: a message whose `250` was not yet sent
    // is retried by its sender, so nothing accepted is lost.
    for task in inbound {
        task.abort();
    }
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    // The last moments' request logs, before the pool closes.
    app.request_logs.flush().await;
    app.db.close().await;
    println!("Postline stopped.");
    Ok(())
}

/// Binds and starts the SMTP listeners: inbound (receiving domains, bounces,
/// complaints) and submission (587 with STARTTLS, 465 with implicit TLS).
async fn start_inbound(
    app: &App,
    config: &Config,
    smtp: &crate::config::SmtpInbound,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    use crate::inbound::{InboundSettings, SubmissionSettings};
    let tls = match &smtp.tls_files {
        Some((cert, key)) => crate::inbound::tls::from_files(cert, key)?,
        None => crate::inbound::tls::self_signed(&config.hostname)?,
    };
    let mut tasks = Vec::new();
    if let Some(address) = smtp.listen {
        let listener = bind_smtp(address).await?;
        let authenticator = postline_inbound::authenticate::Authenticator::new(config.mta.dns_servers.clone())
            .map_err(|e| anyhow::anyhow!("setting up DNS for SPF/DKIM/DMARC: {e}"))?;
        let settings = InboundSettings {
            hostname: config.hostname.clone(),
            max_message_bytes: smtp.max_message_bytes,
            max_connections_per_ip: smtp.max_connections_per_ip,
            max_connections_per_ip_per_minute: smtp.max_connections_per_ip_per_minute,
            proxy_protocol: smtp.proxy_protocol,
            tls: Some(tls.clone()),
            authenticator: Some(authenticator),
        };
        println!("Receiving mail over SMTP on {}", listener.local_addr()?);
        let postline = app.postline.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(error) = crate::inbound::serve(listener, postline, settings).await {
                tracing::error!(%error, "the inbound SMTP server stopped");
            }
        }));
    }
    for (address, implicit_tls) in [(smtp.submission, false), (smtp.submissions, true)] {
        let Some(address) = address else { continue };
        let listener = bind_smtp(address).await?;
        let settings = SubmissionSettings {
            hostname: config.hostname.clone(),
            max_message_bytes: smtp.max_message_bytes,
            max_connections_per_ip: smtp.max_connections_per_ip,
            max_connections_per_ip_per_minute: smtp.max_connections_per_ip_per_minute,
            proxy_protocol: smtp.proxy_protocol,
            tls: tls.clone(),
            implicit_tls,
            auth_without_tls: smtp.auth_without_tls,
            rate_limit: config.rate_limit,
        };
        let how = if implicit_tls { "implicit TLS" } else { "STARTTLS" };
        println!("SMTP submission ({how}, user `resend`, an API key as password) on {}", listener.local_addr()?);
        let postline = app.postline.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(error) = crate::inbound::serve_submission(listener, postline, settings).await {
                tracing::error!(%error, "the SMTP submission server stopped");
            }
        }));
    }
    Ok(tasks)
}

async fn bind_smtp(address: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).await.with_context(|| format!("listening for SMTP on {address}"))
}

/// Periodic clean-up: expired idempotency records, hourly (and once at start).
async fn housekeeping(postline: postline_core::Postline, mut shutdown: watch::Receiver<bool>) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    while !*shutdown.borrow() {
        tokio::select! {
            _ = every_hour.tick() => {
                match postline.purge_expired_idempotency_keys().await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "purged expired idempotency records"),
                    Err(error) => tracing::warn!(%error, "could not purge idempotency records"),
                }
            }
            _ = shutdown.changed() => {}
        }
    }
}

/// Runs due domain checks: at once when verification is asked for, and every 30 s
/// for checks that came due (pending domains every few minutes, verified ones every
/// few hours). Each domain is leased while checked, so several nodes share the work.
async fn domain_checks(postline: postline_core::Postline, mut shutdown: watch::Receiver<bool>) {
    let wake = postline.domain_wake();
    while !*shutdown.borrow() {
        if let Err(error) = postline.check_due_domains().await {
            tracing::warn!(%error, "domain checks failed; retrying");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Sends due webhook deliveries: the outbox is polled every half second, so events
/// reach endpoints moments after they happen, and retries when they come due.
async fn webhook_dispatch(postline: postline_core::Postline, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        match postline.dispatch_webhooks().await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "webhook dispatch failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Runs contact imports: at once when one is accepted, and every 10 s for imports
/// another node left behind (their lease lapsed). Stops between batches on shutdown;
/// the import resumes from its last batch.
async fn contact_imports(postline: postline_core::Postline, mut shutdown: watch::Receiver<bool>) {
    let wake = postline.import_wake();
    while !*shutdown.borrow() {
        let stopping = shutdown.clone();
        if let Err(error) = postline.run_contact_imports(&move |_| !*stopping.borrow()).await {
            tracing::warn!(%error, "contact imports failed; retrying");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Fans out broadcasts: at once when one is sent, and every half second for
/// scheduled ones that came due, paused ones (the MTA caught up) and ones another
/// node left behind (their lease lapsed).
async fn broadcast_fanout(postline: postline_core::Postline, mut shutdown: watch::Receiver<bool>) {
    let wake = postline.broadcast_wake();
    while !*shutdown.borrow() {
        if let Err(error) = postline.run_broadcasts().await {
            tracing::warn!(%error, "broadcast fan-out failed; retrying");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// On the very first start, creates the first team and a full-access key.
async fn first_start(app: &App) -> anyhow::Result<Option<String>> {
    if app.postline.first_team().await?.is_some() {
        return Ok(None);
    }
    let team = app.postline.create_team("Default team").await?;
    let key = app
        .postline
        .create_api_key(team.id, CreateApiKey { name: Some("Default key".into()), ..Default::default() })
        .await?;
    Ok(Some(key.token))
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
