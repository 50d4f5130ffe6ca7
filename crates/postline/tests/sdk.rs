//! Smoke tests with the official Resend SDKs (npm `resend`, PyPI `resend`), unchanged
//! but for the base URL, against `postline serve`. The scripts live in `sdk-tests/`;
//! `scripts/test` installs their dependencies and sets `POSTLINE_REQUIRE_EXTERNAL_TESTS=1`,
//! so in CI a missing SDK is a failure, not a skip. The receiving tests run each SDK
//! against an in-process app with mail delivered to its inbound SMTP server.

use std::{path::PathBuf, process::Command};

use base64::{Engine, engine::general_purpose::STANDARD};
use postline_testkit::{Backend, TestApp, files::FileServer, process::ServerProcess};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_postline");

fn sdk_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sdk-tests").join(name)
}

fn required() -> bool {
    std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").is_ok_and(|v| v == "1")
}

fn ready(marker: &std::path::Path, what: &str) -> bool {
    if marker.exists() {
        return true;
    }
    assert!(!required(), "{what} is not installed ({} missing); run scripts/test", marker.display());
    eprintln!("{what} is not installed; skipping (scripts/test installs it)");
    false
}

fn run_smoke(mut script: Command) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let files = runtime.block_on(FileServer::start());
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(BINARY, &dir.path().join("data"));
    let key = server.printed_key().expect("first start prints a key");
    let output = script
        .env("RESEND_BASE_URL", &server.url)
        .env("RESEND_API_URL", &server.url)
        .env("RESEND_API_KEY", &key)
        .env("FILES_URL", files.url(""))
        .output()
        .expect("run the smoke script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "smoke script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
    server.terminate();
}

#[test]
fn the_official_node_sdk_works_unchanged() {
    let dir = sdk_dir("node");
    if !ready(&dir.join("node_modules/resend/package.json"), "the Node SDK") {
        return;
    }
    let mut script = Command::new("node");
    script.arg("smoke.mjs").current_dir(&dir);
    run_smoke(script);
}

#[test]
fn the_official_python_sdk_works_unchanged() {
    let dir = sdk_dir("python");
    let python = dir.join(".venv/bin/python");
    if !ready(&python, "the Python SDK") {
        return;
    }
    let mut script = Command::new(python);
    script.arg("smoke.py").current_dir(&dir);
    run_smoke(script);
}

/// The inline image and the attachment of the received message; `receiving.mjs` and
/// `receiving.py` compare their downloads with the same constants.
const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const PDF_BASE64: &str = "JVBERi0xLjQKJeLjz9MKMSAwIG9iaiA8PD4+IGVuZG9iagp0cmFpbGVyIDw8Pj4KJSVFT0YK";
const FORWARD_FROM: &str = "forwarder@inbound.acme.dev";

/// text + HTML with an inline PNG referenced by `cid:` + a PDF attachment.
fn received_message() -> String {
    assert_eq!(STANDARD.decode(PDF_BASE64).unwrap().first(), Some(&b'%'));
    format!(
        "From: Ada Lovelace <ada@example.org>\r\n\
         To: Support <support@inbound.acme.dev>\r\n\
         Subject: Order #42\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <order-42@example.org>\r\n\
         X-Order: 42\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
         --outer\r\n\
         Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
         --rel\r\n\
         Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
         --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour order is ready.\r\n\
         --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>Your order <img src=\"cid:logo@example.org\"></p>\r\n\
         --alt--\r\n\
         --rel\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-ID: <logo@example.org>\r\n\
         Content-Disposition: inline; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {PNG_BASE64}\r\n\
         --rel--\r\n\
         --outer\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {PDF_BASE64}\r\n\
         --outer--\r\n"
    )
}

/// An app with a verified receiving domain and one message delivered to it over
/// SMTP (by `mail-send`, STARTTLS); returns the app and the received email's id.
async fn app_with_received_mail() -> (TestApp, String) {
    let app = TestApp::start(Backend::Sqlite).await;
    app.receiving_domain("inbound.acme.dev").await;
    let smtp = app.start_inbound().await;
    let mut client = mail_send::SmtpClientBuilder::new("localhost".to_string(), smtp.port())
        .expect("an SMTP client")
        .implicit_tls(false)
        .allow_invalid_certs()
        .helo_host("mail.example.org")
        .connect()
        .await
        .expect("connect to the inbound server");
    let message = mail_send::smtp::message::Message::new(
        "ada@example.org".to_string(),
        vec!["support@inbound.acme.dev".to_string()],
        received_message().into_bytes(),
    );
    client.send(message).await.expect("the inbound server accepts the message");
    client.quit().await.ok();
    let list = app.get("/emails/receiving").await.expect(200)["data"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:#?}");
    let id = list[0]["id"].as_str().unwrap().to_string();
    (app, id)
}

/// Runs `script` (an SDK's receiving check) against `app` without blocking the
/// runtime that serves it; asserts it passed.
async fn run_receiving(app: &TestApp, id: &str, mut script: tokio::process::Command) {
    let output = script
        .env("RESEND_BASE_URL", &app.base_url)
        .env("RESEND_API_URL", &app.base_url)
        .env("RESEND_API_KEY", &app.key)
        .env("RECEIVED_ID", id)
        .env("FORWARD_FROM", FORWARD_FROM)
        .kill_on_drop(true)
        .output()
        .await
        .expect("run the receiving script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "receiving script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_node_sdk_reads_and_forwards_received_mail() {
    let dir = sdk_dir("node");
    if !ready(&dir.join("node_modules/resend/package.json"), "the Node SDK") {
        return;
    }
    let (app, id) = app_with_received_mail().await;
    let mut script = tokio::process::Command::new("node");
    script.arg("receiving.mjs").current_dir(&dir);
    run_receiving(&app, &id, script).await;

    // Both forwards (passthrough and wrapped) are emails sent by the team.
    app.drain().await;
    let emails = app.get("/emails").await.expect(200)["data"].as_array().unwrap().clone();
    let forwarded: Vec<&Value> =
        emails.iter().filter(|e| e["to"] == serde_json::json!(["delivered@resend.dev"])).collect();
    assert_eq!(forwarded.len(), 2, "{emails:#?}");
    let mut subjects: Vec<&str> = forwarded.iter().map(|e| e["subject"].as_str().unwrap()).collect();
    subjects.sort();
    assert_eq!(subjects, ["Fwd: Order #42", "Order #42"]);
    assert!(forwarded.iter().all(|e| e["from"] == FORWARD_FROM), "{forwarded:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_reads_received_mail() {
    let dir = sdk_dir("python");
    let python = dir.join(".venv/bin/python");
    if !ready(&python, "the Python SDK") {
        return;
    }
    let (app, id) = app_with_received_mail().await;
    let mut script = tokio::process::Command::new(python);
    script.arg("receiving.py").current_dir(&dir);
    run_receiving(&app, &id, script).await;
}
