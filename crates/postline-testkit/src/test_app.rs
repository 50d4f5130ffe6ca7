//! [`TestApp`]: the real application on a loopback port, its own database (a temp
//! SQLite file, or a fresh PostgreSQL schema), a manual clock, a full-access key,
//! and typed request helpers that check every response against the contract.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use postline::{app::App, config::Config};
use postline_core::{api_keys::CreateApiKey, teams::Team};
use reqwest::{Method, header::HeaderMap};
use serde_json::Value;

use crate::{clock::ManualClock, contract::contract};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether the PostgreSQL runs are enabled.
pub fn postgres_configured() -> bool {
    std::env::var("POSTLINE_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty())
}

/// A response, with its JSON body parsed.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The error name of an error response.
    pub fn error_name(&self) -> &str {
        self.body["name"].as_str().unwrap_or_default()
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected status; body: {:#}", self.body);
        &self.body
    }

    /// Asserts an error status and name.
    #[track_caller]
    pub fn expect_error(&self, status: u16, name: &str) {
        assert_eq!((self.status, self.error_name()), (status, name), "body: {:#}", self.body);
    }
}

/// A running application for one test.
pub struct TestApp {
    pub app: App,
    pub clock: Arc<ManualClock>,
    pub base_url: String,
    pub address: SocketAddr,
    /// The team created for the test.
    pub team: Team,
    /// A full-access key of `team`.
    pub key: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    /// The authoritative DNS server the app's MTA asks (unless options named another).
    pub dns: crate::dns::DnsServer,
    _dir: tempfile::TempDir,
}

/// Options for [`TestApp::start_with`].
#[derive(Debug, Clone)]
pub struct Options {
    pub allow_private_fetches: bool,
    pub rate_limit: u32,
    pub fetch_timeout: std::time::Duration,
    /// The MTA's settings (tests point `dns_servers` and `mx_port` at their own peers).
    pub mta: postline_mta::MtaConfig,
    pub delivery_expiry: chrono::Duration,
    /// Most copies of one broadcast waiting for the MTA before its fan-out pauses.
    pub broadcast_window: u64,
    /// Copies from which a broadcast's stats may be up to a second old.
    pub broadcast_stats_reuse_from: u64,
    /// Capture mode: real recipients' mail is kept for the developer inbox.
    pub capture: bool,
    /// The developer inbox's release server.
    pub capture_release: Option<postline::config::CaptureRelease>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allow_private_fetches: true,
            rate_limit: 10_000,
            fetch_timeout: std::time::Duration::from_secs(15),
            mta: test_mta(),
            delivery_expiry: chrono::Duration::hours(72),
            broadcast_window: postline_core::Settings::DEFAULT_BROADCAST_WINDOW,
            broadcast_stats_reuse_from: postline_core::Settings::DEFAULT_BROADCAST_STATS_REUSE_FROM,
            capture: false,
            capture_release: None,
        }
    }
}

impl TestApp {
    /// Starts an app on `backend` with default options.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Options::default()).await
    }

    /// Starts an app on `backend`.
    pub async fn start_with(backend: Backend, mut options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let dns = crate::dns::DnsServer::start().await;
        options.mta.capture = options.capture;
        if options.mta.dns_servers.is_empty() {
            options.mta.dns_servers = vec![dns.address];
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("postline.db").display()),
            Backend::Postgres => fresh_postgres_schema().await,
        };
        let config = Config {
            listen: address,
            data_dir: PathBuf::from(dir.path()),
            database_url,
            region: "us-east-1".into(),
            public_url: format!("http://{address}"),
            hostname: "postline.test".into(),
            rate_limit: options.rate_limit,
            allow_private_fetches: options.allow_private_fetches,
            fetch_timeout: options.fetch_timeout,
            mta: options.mta,
            delivery_expiry: options.delivery_expiry,
            delivery_lease: chrono::Duration::minutes(20),
            broadcast_window: options.broadcast_window,
            broadcast_stats_reuse_from: options.broadcast_stats_reuse_from,
            smtp: None,
            capture: options.capture,
            capture_release: options.capture_release,
            regions: ["us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1"]
                .map(|name| postline_core::domains::records::RegionHosts::derived(name, "postline.test"))
                .to_vec(),
        };
        let clock = Arc::new(ManualClock::new());
        let app = App::build(&config, clock.clone()).await.expect("build the app");
        let team = app.postline.create_team("Test team").await.expect("team");
        let key = app
            .postline
            .create_api_key(team.id, CreateApiKey { name: Some("test".into()), ..Default::default() })
            .await
            .expect("key")
            .token;
        let router = app.router.clone();
        tokio::spawn(async move {
            let service =
                axum::ServiceExt::into_make_service_with_connect_info::<SocketAddr>(postline_api::service(router));
            let _ = axum::serve(listener, service).await;
        });
        TestApp {
            app,
            clock,
            base_url: format!("http://{address}"),
            address,
            team,
            key,
            client: reqwest::Client::new(),
            backend,
            dns,
            _dir: dir,
        }
    }

    /// Creates another team with its own full-access key (for tenancy tests).
    /// Runs queued contact imports to the end (what `serve`'s import loop does).
    pub async fn run_imports(&self) -> usize {
        self.app.postline.run_contact_imports(&|_| true).await.expect("contact imports")
    }

    /// Fans out due broadcasts until none is left (what `serve`'s fan-out loop does).
    pub async fn run_broadcasts(&self) -> usize {
        self.app.postline.run_broadcasts().await.expect("broadcast fan-out")
    }

    /// Registers `receiver` for `events` and gives it the signing secret; returns the
    /// webhook's id.
    pub async fn subscribe(&self, receiver: &crate::webhook_receiver::WebhookReceiver, events: Value) -> String {
        let created = self.post("/webhooks", serde_json::json!({"endpoint": receiver.url(), "events": events})).await;
        let body = created.expect(201).clone();
        let secret = body["signing_secret"].as_str().expect("a signing secret");
        assert!(secret.starts_with("whsec_"));
        receiver.set_secret(secret);
        body["id"].as_str().expect("an id").to_string()
    }

    pub async fn other_team_key(&self) -> String {
        let team = self.app.postline.create_team("Other team").await.expect("team");
        self.app
            .postline
            .create_api_key(team.id, CreateApiKey { name: Some("other".into()), ..Default::default() })
            .await
            .expect("key")
            .token
    }

    /// Creates a key in the test team with the given permission.
    pub async fn key_with(&self, permission: &str) -> String {
        self.app
            .postline
            .create_api_key(
                self.team.id,
                CreateApiKey { name: Some(permission.into()), permission: Some(permission.into()), domain_id: None },
            )
            .await
            .expect("key")
            .token
    }

    /// Sends due webhook deliveries until none is due.
    pub async fn dispatch_webhooks(&self) -> usize {
        let mut total = 0;
        loop {
            let n = self.app.postline.dispatch_webhooks().await.expect("webhook dispatch");
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// Runs due domain checks until none is due.
    pub async fn check_domains(&self) -> usize {
        let mut total = 0;
        loop {
            let n = self.app.postline.check_due_domains().await.expect("domain checks");
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// Publishes every record a domain asks for in the test DNS, exactly as given.
    pub fn publish_records(&self, domain: &serde_json::Value) {
        let name = domain["name"].as_str().expect("domain name");
        for record in domain["records"].as_array().expect("records") {
            let relative = record["name"].as_str().unwrap();
            let owner = if relative == "@" { name.to_string() } else { format!("{relative}.{name}") };
            let value = record["value"].as_str().unwrap();
            match record["type"].as_str().unwrap() {
                "MX" => self.dns.mx(&owner, record["priority"].as_u64().unwrap_or(10) as u16, value),
                "CNAME" => self.dns.cname(&owner, value),
                _ => self.dns.txt(&owner, value),
            }
        }
    }

    /// Starts the inbound SMTP server on a loopback port — STARTTLS with a
    /// self-signed certificate, SPF/DKIM/DMARC checked against the test DNS server —
    /// and returns its address.
    pub async fn start_inbound(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let address = listener.local_addr().expect("address");
        let authenticator = postline_inbound::authenticate::Authenticator::new(vec![self.dns.address])
            .expect("authenticator")
            .deadline(std::time::Duration::from_secs(10));
        let settings = postline::inbound::InboundSettings {
            hostname: "mx.postline.test".into(),
            max_message_bytes: 2 * 1024 * 1024,
            max_connections_per_ip: 20,
            max_connections_per_ip_per_minute: 10_000,
            proxy_protocol: false,
            tls: Some(postline::inbound::tls::self_signed("mx.postline.test").expect("certificate")),
            authenticator: Some(authenticator),
        };
        tokio::spawn(postline::inbound::serve(listener, self.app.postline.clone(), settings));
        address
    }

    /// Starts an SMTP submission listener on a loopback port (self-signed
    /// certificate; STARTTLS, or implicit TLS for `implicit_tls`) and returns its address.
    pub async fn start_submission(&self, implicit_tls: bool) -> SocketAddr {
        self.start_submission_limited(implicit_tls, 1000).await
    }

    /// Like [`TestApp::start_submission`], allowing `per_second` messages per API key.
    pub async fn start_submission_limited(&self, implicit_tls: bool, per_second: u32) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let address = listener.local_addr().expect("address");
        let settings = postline::inbound::SubmissionSettings {
            hostname: "smtp.postline.test".into(),
            max_message_bytes: 2 * 1024 * 1024,
            max_connections_per_ip: 20,
            max_connections_per_ip_per_minute: 10_000,
            proxy_protocol: false,
            tls: postline::inbound::tls::self_signed("smtp.postline.test").expect("certificate"),
            implicit_tls,
            auth_without_tls: false,
            rate_limit: per_second,
        };
        tokio::spawn(postline::inbound::serve_submission(listener, self.app.postline.clone(), settings));
        address
    }

    /// Adds `name` with receiving enabled (sending too), publishes its records
    /// (the receiving MX included) and verifies it; returns its id.
    pub async fn receiving_domain(&self, name: &str) -> String {
        let body = serde_json::json!({"name": name, "capabilities": {"sending": "enabled", "receiving": "enabled"}});
        let domain = self.post("/domains", body).await.expect(201).clone();
        self.publish_records(&domain);
        let id = domain["id"].as_str().expect("id").to_string();
        self.post(&format!("/domains/{id}/verify"), serde_json::json!({})).await.expect(200);
        self.check_domains().await;
        let status = self.get(&format!("/domains/{id}")).await.body["status"].clone();
        assert_eq!(status, "verified", "the published records, receiving MX included, verify");
        id
    }

    /// Adds `name` to the test team, publishes its records, verifies it; returns its id.
    pub async fn verified_domain(&self, name: &str) -> String {
        self.verified_domain_as(&self.key.clone(), name).await
    }

    /// Like [`TestApp::verified_domain`], for the team of `key`.
    pub async fn verified_domain_as(&self, key: &str, name: &str) -> String {
        let created =
            self.request_as(key, Method::POST, "/domains", Some(serde_json::json!({"name": name})), &[]).await;
        let domain = created.expect(201).clone();
        self.publish_records(&domain);
        let id = domain["id"].as_str().expect("id").to_string();
        self.request_as(key, Method::POST, &format!("/domains/{id}/verify"), None, &[]).await.expect(200);
        self.check_domains().await;
        let status =
            self.request_as(key, Method::GET, &format!("/domains/{id}"), None, &[]).await.body["status"].clone();
        assert_eq!(status, "verified", "the published records verify");
        id
    }

    /// The app's current (manual) time.
    pub fn clock_now(&self) -> postline_core::clock::Timestamp {
        use postline_core::clock::Clock;
        self.clock.now()
    }

    /// Runs every delivery worker until nothing is due.
    pub async fn drain(&self) -> usize {
        let mut total = 0;
        for worker in self.app.workers() {
            total += worker.drain().await.expect("drain the queue");
        }
        total
    }

    /// Sends a request with the test key; checks the response against the contract.
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> TestResponse {
        self.request_as(&self.key, method, path, body, &[]).await
    }

    /// Sends a request with a chosen key and extra headers; checks the response.
    pub async fn request_as(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base_url)).bearer_auth(key);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send the request");
        self.read(method.as_str(), path, response).await
    }

    /// Reads a response, checking its content type and body against the contract.
    pub async fn read(&self, method: &str, path: &str, response: reqwest::Response) -> TestResponse {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(content_type.starts_with("application/json"), "{method} {path}: content-type {content_type:?}");
        let text = response.text().await.expect("body");
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
        contract().check(method, path, status, &body);
        TestResponse { status, headers, body }
    }

    /// `POST` with a multipart form: `file` holds `file_bytes` (as `import.csv`,
    /// `text/csv`, as the Python SDK sends it) and each of `fields` a text part.
    pub async fn post_form(&self, path: &str, file_bytes: Option<&[u8]>, fields: &[(&str, &str)]) -> TestResponse {
        let mut form = reqwest::multipart::Form::new();
        if let Some(bytes) = file_bytes {
            let part = reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name("import.csv")
                .mime_str("text/csv")
                .expect("a MIME type");
            form = form.part("file", part);
        }
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.key)
            .multipart(form)
            .send()
            .await
            .expect("send the form");
        self.read("POST", path, response).await
    }

    /// `GET`
    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, None).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(body)).await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE`
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.request(Method::DELETE, path, None).await
    }

    /// Sends a minimal valid email to `to`; returns its id.
    pub async fn send_to(&self, to: &str) -> String {
        let response = self
            .post(
                "/emails",
                serde_json::json!({"from": "Acme <onboarding@resend.dev>", "to": to, "subject": "Hello", "html": "<p>Hi</p>"}),
            )
            .await;
        response.expect(200)["id"].as_str().expect("id").to_string()
    }
}

/// MTA settings for tests: short time limits, a test host name, and (unless a test
/// names others) the test app's own DNS server, so nothing leaves loopback.
pub fn test_mta() -> postline_mta::MtaConfig {
    postline_mta::MtaConfig {
        hostname: "postline.test".into(),
        dns_servers: Vec::new(),
        connect_timeout: std::time::Duration::from_secs(3),
        command_timeout: std::time::Duration::from_secs(5),
        data_timeout: std::time::Duration::from_secs(10),
        ..postline_mta::MtaConfig::default()
    }
}

/// Creates a fresh schema on the test PostgreSQL and returns a URL that uses it.
pub async fn fresh_postgres_schema() -> String {
    use sqlx::Executor;
    let base = std::env::var("POSTLINE_TEST_POSTGRES_URL").expect("POSTLINE_TEST_POSTGRES_URL");
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await.expect("connect to PostgreSQL");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-csearch_path%3D{schema}")
}

/// Runs one SQL statement on a database, for tests that must put a row in a state the
/// API cannot (a domain check coming due now rather than in six hours).
pub async fn execute_sql(url: &str, sql: &str) -> u64 {
    try_execute_sql(url, sql).await.expect("execute SQL")
}

/// Runs one SQL statement (outside a transaction, so `CREATE DATABASE` works too).
pub async fn try_execute_sql(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    Ok(conn.execute(sqlx::AssertSqlSafe(sql.to_string())).await?.rows_affected())
}
