//! Interop with independent implementations: Postline delivers to `aiosmtpd` (a
//! Python SMTP server) and `dkimpy` verifies the RSA and Ed25519 DKIM signatures of
//! what arrived, given the public keys Postline publishes. `scripts/test` installs
//! both into `interop/.venv` and requires this test to run.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use postline_testkit::{
    Backend, TestApp,
    test_app::{Options, test_mta},
};
use serde_json::json;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_signatures_verify_with_an_independent_verifier_after_delivery_to_an_independent_server() {
    let python = interop_dir().join(".venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").as_deref() != Ok("1"),
            "the interop peers are not installed; run scripts/test"
        );
        eprintln!("interop peers not installed; skipping (scripts/test installs them)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = Options {
        mta: postline_mta::MtaConfig { mx_port: port, dkim_ed25519: true, ..test_mta() },
        ..Options::default()
    };
    let app = TestApp::start_with(Backend::Sqlite, options).await;
    app.dns.mx("example-recipient.org", 10, "mx.example-recipient.org");
    app.dns.address("mx.example-recipient.org", "127.0.0.1".parse().unwrap());

    // The sending domain, verified with the records Postline asked for; the verifier
    // reads those same published records.
    app.verified_domain("acme.dev").await;
    let published = |name: &str| app.dns.txt_of(name).join("");
    let records = json!({
        "resend._domainkey.acme.dev.": published("resend._domainkey.acme.dev"),
        "resend-ed25519._domainkey.acme.dev.": published("resend-ed25519._domainkey.acme.dev"),
    });
    let sink = DkimSink::start(&python, port, &records);

    // A topic-scoped email: Postline adds the recipient's one-click List-Unsubscribe,
    // which RFC 8058 requires to be covered by the DKIM signature.
    let topic = app.post("/topics", json!({"name": "Invoices", "default_subscription": "opt_in"})).await;
    let topic = topic.expect(201)["id"].as_str().unwrap().to_string();
    let sent = app
        .post(
            "/emails",
            json!({
                "from": "Acme Billing <billing@acme.dev>",
                "to": "Bob Müller <bob@example-recipient.org>",
                "subject": "Ihre Rechnung — März",
                "html": "<p>Grüße aus Köln</p><p>.leading dot line</p>",
                "text": "Grüße aus Köln\n.leading dot line",
                "headers": {"X-Entity-Ref-ID": "march-2026"},
                "topic_id": topic,
                "attachments": [{"filename": "rechnung.pdf", "content": "JVBERi0xLjQK"}],
            }),
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    app.drain().await;
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "delivered");

    let (status, results, stderr) = sink.finish().await;
    assert!(status.success(), "dkimpy rejected a signature: {results:?}\n{stderr}");
    let algorithms: Vec<&str> = results.iter().map(|r| r["algorithm"].as_str().unwrap()).collect();
    assert_eq!(algorithms, ["ed25519-sha256", "rsa-sha256"], "{results:?}");
    assert!(results.iter().all(|r| r["valid"] == true && r["domain"] == "acme.dev"), "{results:?}");
    for result in &results {
        let signed: Vec<&str> =
            result["signed_headers"].as_array().unwrap().iter().filter_map(|h| h.as_str()).collect();
        assert!(signed.contains(&"list-unsubscribe") && signed.contains(&"list-unsubscribe-post"), "{result}");
    }
}

/// `interop/dkim_sink.py`: aiosmtpd on a loopback port, waiting for one message whose
/// DKIM signatures dkimpy then verifies against `records` (DNS name → TXT value).
struct DkimSink {
    child: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    _records: tempfile::TempDir,
}

impl DkimSink {
    /// Started and ready for the message.
    fn start(python: &std::path::Path, port: u16, records: &serde_json::Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let records_path = dir.path().join("dns.json");
        std::fs::write(&records_path, records.to_string()).unwrap();
        let mut child = Command::new(python)
            .arg(interop_dir().join("dkim_sink.py"))
            .arg(port.to_string())
            .arg(&records_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        DkimSink { child, lines, _records: dir }
    }

    /// Waits (at most 10 s) for the verdict: the exit status (success when every
    /// signature verified), one JSON object per signature, and stderr.
    async fn finish(self) -> (std::process::ExitStatus, Vec<serde_json::Value>, String) {
        let DkimSink { mut child, lines, _records } = self;
        let (status, mut child) = tokio::task::spawn_blocking(move || {
            for _ in 0..100 {
                if let Some(status) = child.try_wait().unwrap() {
                    return (status, child);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            panic!("the interop sink received nothing or did not finish");
        })
        .await
        .unwrap();
        let results = lines.map_while(Result::ok).map(|l| serde_json::from_str(&l).unwrap()).collect();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        (status, results, stderr)
    }
}

/// Runs `interop/smtp_client.py` (Python's smtplib) with `args`; its one-line verdict.
async fn smtplib(python: &std::path::Path, args: &[&str]) -> String {
    let output = tokio::process::Command::new(python)
        .arg(interop_dir().join("smtp_client.py"))
        .args(args)
        .output()
        .await
        .expect("run smtplib");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(output.status.success(), "smtplib failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Python's smtplib, an independent client: submits with AUTH over STARTTLS and over
/// implicit TLS (accepted like `POST /emails`), and delivers to the inbound server as
/// a sending MTA would (stored for a receiving domain, refused for anyone else's,
/// authenticated or not: no open relay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_submits_with_auth_and_delivers_to_the_inbound_server() {
    let python = interop_dir().join(".venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").as_deref() != Ok("1"),
            "the interop peers are not installed; run scripts/test"
        );
        eprintln!("interop peers not installed; skipping (scripts/test installs them)");
        return;
    }
    let app = TestApp::start(Backend::Sqlite).await;
    app.verified_domain("acme.dev").await;
    app.receiving_domain("inbound.acme.dev").await;
    let starttls = app.start_submission(false).await.port().to_string();
    let implicit = app.start_submission(true).await.port().to_string();
    let inbound = app.start_inbound().await.port().to_string();
    let key = app.key.clone();

    let submit = |port: &str, mode: &str, password: &str, from: &str, subject: &str| {
        let args =
            ["submit", "127.0.0.1", port, mode, password, from, "customer@acme-customer.io", subject].map(String::from);
        let python = python.clone();
        async move { smtplib(&python, &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    assert_eq!(submit(&starttls, "starttls", &key, "billing@acme.dev", "over STARTTLS").await, "ok");
    assert_eq!(submit(&implicit, "tls", &key, "billing@acme.dev", "over TLS").await, "ok");
    let bad_key = submit(&starttls, "starttls", "re_wrong_key_000000000", "billing@acme.dev", "x").await;
    assert!(bad_key.starts_with("refused 535"), "{bad_key}");
    let foreign = submit(&starttls, "starttls", &key, "ceo@gmail.com", "spoofed").await;
    assert!(foreign.starts_with("refused 550"), "an unverified sender is refused even with a key: {foreign}");

    let emails = app.get("/emails").await.expect(200)["data"].clone();
    let mut subjects: Vec<&str> = emails.as_array().unwrap().iter().map(|e| e["subject"].as_str().unwrap()).collect();
    subjects.sort();
    assert_eq!(subjects, ["over STARTTLS", "over TLS"]);
    let id = emails[0]["id"].as_str().unwrap();
    let attachments = app.get(&format!("/emails/{id}/attachments")).await.expect(200)["data"].clone();
    assert_eq!(attachments[0]["filename"], "report.pdf");

    let deliver = |to: &str| {
        let args = ["deliver", "127.0.0.1", &inbound, "someone@sender.example", to, "hello"].map(String::from);
        let python = python.clone();
        async move { smtplib(&python, &args.iter().map(String::as_str).collect::<Vec<_>>()).await }
    };
    assert_eq!(deliver("support@inbound.acme.dev").await, "ok");
    let relay = deliver("victim@gmail.com").await;
    assert!(relay.starts_with("refused 550"), "no open relay: {relay}");
    let received = app.get("/emails/receiving").await.expect(200)["data"].clone();
    assert_eq!(received.as_array().unwrap().len(), 1);
    assert_eq!(received[0]["to"], json!(["support@inbound.acme.dev"]));
}

/// Postfix from Debian as the sending MTA: a private instance (`bench/postfix-reference`)
/// relays what it is given to the inbound server, over STARTTLS as it does with any
/// MX. Mail for the receiving domain is stored with Postfix's EHLO name and TLS; mail
/// for anyone else is refused at RCPT and stays Postfix's problem (no relay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_delivers_to_the_inbound_server_over_starttls() {
    if !std::path::Path::new("/usr/sbin/postfix").exists() {
        assert!(
            std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").as_deref() != Ok("1"),
            "Postfix is not installed; run scripts/test (bench/postfix-reference install)"
        );
        eprintln!("Postfix not installed; skipping (scripts/test installs it)");
        return;
    }
    let app = TestApp::start(Backend::Sqlite).await;
    app.receiving_domain("inbound.acme.dev").await;
    let inbound = app.start_inbound().await;
    let script = interop_dir().join("../bench/postfix-reference");
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = tokio::process::Command::new(&script)
        .args(["start", dir.path().to_str().unwrap(), &port.to_string(), &inbound.port().to_string()])
        .env("POSTFIX_REFERENCE_TLS", "may")
        .output()
        .await
        .unwrap();
    assert!(started.status.success(), "postfix start: {}", String::from_utf8_lossy(&started.stderr));
    let stop = || std::process::Command::new(&script).args(["stop", dir.path().to_str().unwrap()]).status();

    let mut client = mail_send::SmtpClientBuilder::new("127.0.0.1".to_string(), port)
        .unwrap()
        .implicit_tls(false)
        .allow_invalid_certs()
        .connect_plain()
        .await
        .expect("connect to Postfix");
    for to in ["support@inbound.acme.dev", "victim@gmail.com"] {
        let body =
            format!("From: ada@sender.example\r\nTo: {to}\r\nSubject: via Postfix\r\n\r\nRelayed by Postfix.\r\n");
        let message = mail_send::smtp::message::Message::new("ada@sender.example", [to], body.into_bytes());
        client.send(message).await.expect("Postfix queues it");
    }
    client.quit().await.unwrap();

    let mut received = Vec::new();
    for _ in 0..300 {
        received = app.get("/emails/receiving").await.expect(200)["data"].as_array().unwrap().clone();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Postfix delivers the two messages in parallel and logs each attempt as it ends:
    // the refusal for the outsider may be written after the other is stored.
    let mut log = String::new();
    for _ in 0..300 {
        log = std::fs::read_to_string(dir.path().join("maillog")).unwrap_or_default();
        if log.contains("victim@gmail.com") && log.contains("550 5.7.1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop();
    assert_eq!(received.len(), 1, "Postfix delivered: {log}");
    let email = app.get(&format!("/emails/receiving/{}", received[0]["id"].as_str().unwrap())).await;
    let email = email.expect(200);
    assert_eq!(email["subject"], "via Postfix");
    let trace = email["headers"]["Received"].as_str().unwrap();
    assert!(trace.contains("postfix-reference.bench.example") && trace.contains("ESMTPS"), "{trace}");
    assert!(log.contains("victim@gmail.com") && log.contains("550 5.7.1"), "the relay attempt was refused: {log}");
}

/// An asynchronous bounce written by a real MTA: Postline relays through Postfix
/// (`smtp_relay` with `starttls=optional`), Postfix accepts the message — so Postline
/// records it delivered — then the next hop refuses the recipient, and Postfix
/// mails its own RFC 3464 delivery status notification to the email's bounce address,
/// which its transport table routes to Postline's inbound server. Postline turns it
/// into `email.bounced` with Postfix's diagnostic and suppresses the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_status_notification_from_postfix_becomes_an_asynchronous_bounce() {
    if !std::path::Path::new("/usr/sbin/postfix").exists() {
        assert!(
            std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").as_deref() != Ok("1"),
            "Postfix is not installed; run scripts/test (bench/postfix-reference install)"
        );
        eprintln!("Postfix not installed; skipping (scripts/test installs it)");
        return;
    }
    // The hop after Postfix: refuses one mailbox.
    let next_hop = postline_testkit::smtp_sink::SmtpSink::start().await;
    next_hop.script(|s| {
        s.rcpt_replies.insert("gone@customer.example".into(), "550 5.1.1 <gone@customer.example>: user unknown".into());
    });
    let postfix_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let relay = postline_mta::Relay::parse(&format!("smtp://127.0.0.1:{postfix_port}?starttls=optional")).unwrap();
    let options = Options { mta: postline_mta::MtaConfig { relay: Some(relay), ..test_mta() }, ..Options::default() };
    let app = TestApp::start_with(Backend::Sqlite, options).await;
    app.verified_domain("acme.dev").await;
    let inbound = app.start_inbound().await;

    let script = interop_dir().join("../bench/postfix-reference");
    let dir = tempfile::tempdir().unwrap();
    // Bounces for Postline's return path go to its inbound server; everything else to the next hop.
    let transport = format!("transport_maps = inline:{{ send.acme.dev=smtp:[127.0.0.1]:{} }}", inbound.port());
    let started = tokio::process::Command::new(&script)
        .args(["start", dir.path().to_str().unwrap(), &postfix_port.to_string(), &next_hop.address.port().to_string()])
        .env("POSTFIX_REFERENCE_TLS", "may")
        .env("POSTFIX_REFERENCE_MAIN_CF", transport)
        .output()
        .await
        .unwrap();
    assert!(started.status.success(), "postfix start: {}", String::from_utf8_lossy(&started.stderr));
    let stop = || std::process::Command::new(&script).args(["stop", dir.path().to_str().unwrap()]).status();

    let sent = app
        .post(
            "/emails",
            json!({"from": "Acme <billing@acme.dev>", "to": "gone@customer.example",
                               "subject": "Your invoice", "text": "Due in 30 days."}),
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    app.drain().await;
    let mut email = app.get(&format!("/emails/{id}")).await.expect(200).clone();
    for _ in 0..300 {
        if email["last_event"] == "bounced" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        email = app.get(&format!("/emails/{id}")).await.expect(200).clone();
    }
    let log = std::fs::read_to_string(dir.path().join("maillog")).unwrap_or_default();
    let _ = stop();
    assert_eq!(email["last_event"], "bounced", "Postfix's DSN reached Postline: {log}");
    let events = app.get(&format!("/emails/{id}/events")).await.expect(200)["data"].clone();
    let statuses: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"delivered"), "Postfix accepted it first: {statuses:?}");
    let bounce = events.as_array().unwrap().iter().find(|e| e["status"] == "bounced").unwrap().clone();
    let diagnostic = bounce.to_string();
    assert!(diagnostic.contains("user unknown") && diagnostic.contains("5.1.1"), "Postfix's diagnostic: {bounce:#}");
    assert_eq!(next_hop.count(), 0, "the refused message never arrived");
    app.get("/suppressions/gone@customer.example").await.expect(200);
}

/// The interop venv's Python, or `None` (skipping) when the peers are not installed.
fn interop_python() -> Option<PathBuf> {
    let python = interop_dir().join(".venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var("POSTLINE_REQUIRE_EXTERNAL_TESTS").as_deref() != Ok("1"),
        "the interop peers are not installed; run scripts/test"
    );
    eprintln!("interop peers not installed; skipping (scripts/test installs them)");
    None
}

/// Runs one of `interop/`'s reader scripts on `bytes` (written to a file); its JSON.
fn read_with_python(python: &std::path::Path, script: &str, bytes: &[u8]) -> serde_json::Value {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let output = Command::new(python).arg(interop_dir().join(script)).arg(file.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{script}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&stdout).unwrap()
}

/// What the dashboard hands developers, read back by independent implementations:
/// a captured message released to `aiosmtpd` still carries DKIM signatures that
/// `dkimpy` verifies (the release sends the signed bytes untouched); an email's raw
/// source (the `.eml` download) parses with Python's `email` package without defects,
/// with its subject, parts and attachment intact; and a CSV export reads back with
/// Python's `csv` module cell for cell, awkward values included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_mail_raw_sources_and_exports_read_back_with_independent_parsers() {
    let Some(python) = interop_python() else { return };
    let app = TestApp::start_with(Backend::Sqlite, Options { capture: true, ..Options::default() }).await;
    app.verified_domain("acme.dev").await;
    let sent = app
        .post(
            "/emails",
            json!({"from": "Acme Billing <billing@acme.dev>", "to": "Bob Müller <bob@example-recipient.org>",
                   "subject": "Ihre Rechnung — März", "html": "<p>Grüße aus Köln</p>", "text": "Grüße aus Köln",
                   "attachments": [{"filename": "rechnung.pdf", "content": "JVBERi0xLjQK"}]}),
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    app.drain().await;

    // Released to aiosmtpd, verified by dkimpy with the records Postline published.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let records = json!({"resend._domainkey.acme.dev.": app.dns.txt_of("resend._domainkey.acme.dev").join("")});
    let sink = DkimSink::start(&python, port, &records);
    let server = postline_mta::Relay::parse(&format!("smtp://127.0.0.1:{port}?starttls=optional")).unwrap();
    let client =
        postline_mta::release::SmtpRelease::new(server, "postline.test".into(), Duration::from_secs(30)).unwrap();
    let release = postline_core::capture::Release { target: std::sync::Arc::new(client), allowed: Vec::new() };
    let page = postline_core::pagination::PageRequest { limit: 10, ..Default::default() };
    let captured = app.app.postline.list_captured(app.team.id, page).await.unwrap().items[0].id.to_string();
    let outcomes = app.app.postline.release_captured(app.team.id, &captured, "", &release).await.unwrap();
    assert_eq!(outcomes.len(), 1, "released to its own recipient: {outcomes:?}");
    let (status, results, stderr) = sink.finish().await;
    assert!(status.success(), "dkimpy did not verify the released message: {results:?}\n{stderr}");
    assert!(results.iter().any(|r| r["valid"] == true && r["domain"] == "acme.dev"), "{results:?}");

    // The raw source, as the dashboard's `.eml` download gives it.
    let email_id = postline_core::ids::EmailId::parse(&id).unwrap();
    let source =
        app.app.postline.email_source(app.team.id, email_id, &postline_mta::message::SourceRenderer).await.unwrap();
    let parsed = read_with_python(&python, "read_message.py", &source);
    assert_eq!(parsed["subject"], "Ihre Rechnung — März", "{parsed}");
    assert_eq!(parsed["from"], "Acme Billing <billing@acme.dev>");
    assert_eq!(parsed["to"], "Bob Müller <bob@example-recipient.org>");
    assert_eq!(parsed["text"].as_str().unwrap().trim_end(), "Grüße aus Köln");
    assert!(parsed["html"].as_str().unwrap().contains("<p>Grüße aus Köln</p>"), "{parsed}");
    assert_eq!(parsed["attachments"], json!([{"filename": "rechnung.pdf", "size": 9}]));

    // A contacts export with values a naive writer or reader gets wrong.
    let awkward = [
        ("quote@example.org", "Ann \"The Boss\"", "O'Neil, Jr."),
        ("newline@example.org", "Line\nBreak", "Ünïcödé"),
        ("formula@example.org", "=SUM(A1:A9)", "+1 555"),
    ];
    for (email, first, last) in awkward {
        app.post("/contacts", json!({"email": email, "first_name": first, "last_name": last})).await.expect(201);
    }
    let admin = app
        .app
        .postline
        .create_user(app.team.id, "admin@acme.dev", "a long enough password", postline_core::users::Role::Admin, None)
        .await
        .unwrap();
    let started = app
        .app
        .postline
        .start_export(&admin, postline_core::exports::ExportKind::Contacts, Default::default())
        .await
        .unwrap();
    let postline_core::exports::Started::Downloaded { file, .. } = started else {
        panic!("three contacts are exported at once")
    };
    let rows = read_with_python(&python, "read_csv.py", &file);
    let rows = rows.as_array().unwrap();
    let header: Vec<&str> = rows[0].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    let (email, first, last) = (column("email"), column("first_name"), column("last_name"));
    assert_eq!(rows.len(), 4, "a header and three rows: {rows:?}");
    for (address, first_name, last_name) in awkward {
        let row = rows.iter().find(|r| r[email] == address).unwrap_or_else(|| panic!("{address} in {rows:?}"));
        // Formula starts are shown as text (a leading apostrophe), everything else as written.
        let shown = |value: &str| {
            if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() }
        };
        assert_eq!(row[first], shown(first_name), "{row}");
        assert_eq!(row[last], shown(last_name), "{row}");
    }
}
