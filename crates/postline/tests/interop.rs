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
    let dir = tempfile::tempdir().unwrap();
    let records_path = dir.path().join("dns.json");
    std::fs::write(&records_path, records.to_string()).unwrap();

    let mut sink = Command::new(&python)
        .arg(interop_dir().join("dkim_sink.py"))
        .arg(port.to_string())
        .arg(&records_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aiosmtpd");
    let mut lines = BufReader::new(sink.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");

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

    let status = tokio::task::spawn_blocking(move || {
        for _ in 0..100 {
            if let Some(status) = sink.try_wait().unwrap() {
                return (status, sink);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = sink.kill();
        panic!("the interop sink did not finish");
    })
    .await
    .unwrap();
    let results: Vec<serde_json::Value> =
        lines.map_while(Result::ok).map(|l| serde_json::from_str(&l).unwrap()).collect();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut status.1.stderr.unwrap(), &mut stderr).unwrap();
    assert!(status.0.success(), "dkimpy rejected a signature: {results:?}\n{stderr}");
    let algorithms: Vec<&str> = results.iter().map(|r| r["algorithm"].as_str().unwrap()).collect();
    assert_eq!(algorithms, ["ed25519-sha256", "rsa-sha256"], "{results:?}");
    assert!(results.iter().all(|r| r["valid"] == true && r["domain"] == "acme.dev"), "{results:?}");
    for result in &results {
        let signed: Vec<&str> =
            result["signed_headers"].as_array().unwrap().iter().filter_map(|h| h.as_str()).collect();
        assert!(signed.contains(&"list-unsubscribe") && signed.contains(&"list-unsubscribe-post"), "{result}");
    }
}
