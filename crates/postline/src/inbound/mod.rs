//! The inbound SMTP server as `serve` runs it: `postline-inbound`'s listener with
//! Postline's recipient policy ([`policy`]), a sink that routes, authenticates,
//! parses and stores each message before the `250` ([`sink`], [`parse`]), and a
//! certificate for STARTTLS ([`tls`]); and the submission ports, where clients
//! authenticate with an API key and each message is sent like `POST /emails`
//! ([`submission`]).

pub mod parse;
pub mod policy;
pub mod sink;
pub mod submission;
pub mod tls;

use std::{sync::Arc, time::Duration};

use postline_core::Postline;
use postline_inbound::{Limits, ListenerConfig, authenticate::Authenticator};
use tokio::net::TcpListener;

/// How the inbound server is set up.
#[derive(Clone)]
pub struct InboundSettings {
    pub hostname: String,
    pub max_message_bytes: usize,
    pub max_connections_per_ip: usize,
    pub max_connections_per_ip_per_minute: usize,
    /// Connections start with a PROXY protocol header (behind a load balancer).
    pub proxy_protocol: bool,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// `None` records no SPF/DKIM/DMARC results.
    pub authenticator: Option<Authenticator>,
}

/// Serves inbound SMTP on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, postline: Postline, settings: InboundSettings) -> std::io::Result<()> {
    let limits = Limits {
        hostname: settings.hostname.clone(),
        max_message_bytes: settings.max_message_bytes,
        starttls: settings.tls.is_some(),
        ..Limits::default()
    };
    let config = ListenerConfig {
        limits,
        tls: settings.tls,
        implicit_tls: false,
        max_connections_per_ip: settings.max_connections_per_ip,
        max_connections_per_ip_per_minute: settings.max_connections_per_ip_per_minute,
        idle_timeout: Duration::from_secs(300),
        proxy_protocol: settings.proxy_protocol,
    };
    let policy = Arc::new(policy::RoutePolicy(postline.clone()));
    let sink =
        Arc::new(sink::InboundSink { postline, authenticator: settings.authenticator, hostname: settings.hostname });
    postline_inbound::serve(listener, config, policy, sink).await
}

/// How a submission listener is set up.
#[derive(Clone)]
pub struct SubmissionSettings {
    pub hostname: String,
    pub max_message_bytes: usize,
    pub max_connections_per_ip: usize,
    pub max_connections_per_ip_per_minute: usize,
    /// Connections start with a PROXY protocol header (behind a load balancer).
    pub proxy_protocol: bool,
    pub tls: tokio_rustls::TlsAcceptor,
    /// Port 465: every connection starts in TLS.
    pub implicit_tls: bool,
    /// Offer AUTH before STARTTLS (only sensible on loopback).
    pub auth_without_tls: bool,
    /// Submissions per second per API key.
    pub rate_limit: u32,
}

/// Serves SMTP submission on `listener` until the task is dropped.
pub async fn serve_submission(
    listener: TcpListener,
    postline: Postline,
    settings: SubmissionSettings,
) -> std::io::Result<()> {
    let limits = Limits {
        hostname: settings.hostname,
        max_message_bytes: settings.max_message_bytes,
        starttls: !settings.implicit_tls,
        submission: true,
        auth_without_tls: settings.auth_without_tls,
        // A message may go to many people through one connection (Bcc lists).
        max_recipients: 50,
        ..Limits::default()
    };
    let config = ListenerConfig {
        limits,
        tls: Some(settings.tls),
        implicit_tls: settings.implicit_tls,
        max_connections_per_ip: settings.max_connections_per_ip,
        max_connections_per_ip_per_minute: settings.max_connections_per_ip_per_minute,
        idle_timeout: Duration::from_secs(300),
        proxy_protocol: settings.proxy_protocol,
    };
    let policy = Arc::new(submission::SubmissionPolicy(postline.clone()));
    let limiter = Arc::new(postline_api::rate_limit::RateLimiter::new(settings.rate_limit));
    let sink = Arc::new(submission::SubmissionSink { postline, limiter });
    postline_inbound::serve(listener, config, policy, sink).await
}
