//! SMTP submission end to end: `mail-send` (an independent client) authenticates
//! with user `resend` and an API key over STARTTLS and over implicit TLS; each
//! message becomes an accepted email exactly like `POST /emails` (delivered to the
//! recipient's MX, Bcc from the envelope, attachments, custom headers, idempotency
//! by header); bad keys, unverified senders and domain-restricted keys are refused
//! with the API's reason, and nothing is accepted without AUTH (no open relay).

use mail_send::{SmtpClientBuilder, smtp::message::Message};
use postline_testkit::{TestApp, backend_tests, smtp_sink::SmtpSink};
use serde_json::{Value, json};

use crate::{delivery::app_with, receiving::Smtp};

backend_tests!(
    a_submitted_message_is_accepted_like_the_api_and_delivered,
    bad_keys_foreign_senders_and_restricted_keys_are_refused_with_the_reason,
    each_key_has_its_own_submission_rate_limit,
);

fn message(from: &str, to: &[&str], body: &str) -> Message<'static> {
    Message::new(from.to_string(), to.iter().map(|t| t.to_string()).collect::<Vec<_>>(), body.as_bytes().to_vec())
}

async fn client(
    address: std::net::SocketAddr,
    implicit_tls: bool,
    key: &str,
) -> mail_send::Result<mail_send::SmtpClient<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>> {
    SmtpClientBuilder::new("localhost".to_string(), address.port())
        .expect("a client")
        .implicit_tls(implicit_tls)
        .allow_invalid_certs()
        .helo_host("app.example.org")
        .credentials(("resend".to_string(), key.to_string()))
        .connect()
        .await
}

async fn emails(app: &TestApp) -> Vec<Value> {
    app.get("/emails").await.expect(200)["data"].as_array().unwrap().clone()
}

const INVOICE: &str = "From: Acme Billing <billing@acme.dev>\r\n\
    To: Bob <bob@acme-customer.io>\r\n\
    Subject: Invoice 7\r\n\
    X-Entity-Ref-ID: inv-7\r\n\
    Idempotency-Key: invoice-7\r\n\
    MIME-Version: 1.0\r\n\
    Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
    --m\r\nContent-Type: text/plain\r\n\r\nYour invoice is attached.\r\n\
    --m\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n\
    Content-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
    JVBERi0xLjQK\r\n\
    --m--\r\n";

async fn a_submitted_message_is_accepted_like_the_api_and_delivered(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    for implicit_tls in [false, true] {
        let address = app.start_submission(implicit_tls).await;
        let mut smtp = client(address, implicit_tls, &app.key).await.expect("AUTH over TLS");
        smtp.send(message("billing@acme.dev", &["bob@acme-customer.io", "audit@acme-customer.io"], INVOICE))
            .await
            .expect("accepted");
        smtp.quit().await.unwrap();
    }
    // The second submission carried the same Idempotency-Key: one email.
    let listed = emails(&app).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let id = listed[0]["id"].as_str().unwrap();
    let email = app.get(&format!("/emails/{id}")).await.expect(200).clone();
    assert_eq!(email["from"], "Acme Billing <billing@acme.dev>");
    assert_eq!(email["to"], json!(["Bob <bob@acme-customer.io>"]));
    assert_eq!(email["bcc"], json!(["audit@acme-customer.io"]), "envelope-only recipients are Bcc");
    assert_eq!(email["subject"], "Invoice 7");
    let attachments = app.get(&format!("/emails/{id}/attachments")).await.expect(200)["data"].clone();
    assert_eq!(attachments[0]["filename"], "invoice.pdf");

    app.drain().await;
    let arrived = sink.received();
    assert_eq!(arrived.len(), 1, "one transaction, two recipients");
    let mut recipients = arrived[0].recipients.clone();
    recipients.sort();
    assert_eq!(recipients, ["audit@acme-customer.io", "bob@acme-customer.io"]);
    let text = String::from_utf8_lossy(&arrived[0].data).to_string();
    assert!(text.contains("X-Entity-Ref-ID: inv-7"), "custom headers are kept");
    assert!(!text.contains("audit@acme-customer.io"), "Bcc is never written");
    assert!(text.contains("DKIM-Signature:"), "signed like any email");
    assert!(!text.contains("Idempotency-Key"), "the key is Postline's, not the recipient's");
}

async fn bad_keys_foreign_senders_and_restricted_keys_are_refused_with_the_reason(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let address = app.start_submission(false).await;
    assert!(client(address, false, "re_not_a_real_key_123456").await.is_err(), "a bad key fails AUTH");

    // Without AUTH nothing is accepted, for any domain.
    let mut plain = Smtp::connect(address).await;
    plain.command("EHLO app.example.org").await;
    assert!(plain.command("MAIL FROM:<billing@acme.dev>").await.starts_with("530 5.7.0"));

    // A sender whose domain the team has not verified: the API's reason, as 550.
    let mut smtp = client(address, false, &app.key).await.unwrap();
    let foreign = "From: someone@gmail.com\r\nTo: bob@acme-customer.io\r\nSubject: spoof\r\n\r\nhi\r\n";
    let refused = smtp.send(message("someone@gmail.com", &["bob@acme-customer.io"], foreign)).await;
    let error = refused.expect_err("unverified senders are refused").to_string();
    assert!(error.contains("550") && error.contains("gmail.com"), "{error}");

    // A key restricted to another domain of the team may not send for acme.dev.
    let other = app.verified_domain("other.dev").await;
    let restricted = app
        .post("/api-keys", json!({"name": "other only", "permission": "sending_access", "domain_id": other}))
        .await
        .expect(201)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut limited = client(address, false, &restricted).await.unwrap();
    let body = "From: billing@acme.dev\r\nTo: bob@acme-customer.io\r\nSubject: x\r\n\r\nhi\r\n";
    assert!(limited.send(message("billing@acme.dev", &["bob@acme-customer.io"], body)).await.is_err());
    let ok = "From: team@other.dev\r\nTo: bob@acme-customer.io\r\nSubject: allowed\r\n\r\nhi\r\n";
    limited.send(message("team@other.dev", &["bob@acme-customer.io"], ok)).await.expect("its own domain works");
    let listed = emails(&app).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["subject"], "allowed");
}

async fn each_key_has_its_own_submission_rate_limit(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let address = app.start_submission_limited(false, 1).await;
    let mut smtp = client(address, false, &app.key).await.unwrap();
    let body = "From: billing@acme.dev\r\nTo: bob@acme-customer.io\r\nSubject: burst\r\n\r\nhi\r\n";
    let mut refused = Vec::new();
    for _ in 0..5 {
        if let Err(error) = smtp.send(message("billing@acme.dev", &["bob@acme-customer.io"], body)).await {
            refused.push(error.to_string());
        }
    }
    // Five messages take well under a second: at most two one-second windows.
    assert!(refused.len() >= 3, "{refused:?}");
    assert!(refused.iter().all(|e| e.contains("451")), "rate limits are temporary: {refused:?}");
    assert_eq!(emails(&app).await.len(), 5 - refused.len(), "refused messages are not accepted");
    let other = app.key_with("sending_access").await;
    let mut fresh = client(address, false, &other).await.unwrap();
    fresh
        .send(message("billing@acme.dev", &["bob@acme-customer.io"], body))
        .await
        .expect("another key has its own budget");
}
