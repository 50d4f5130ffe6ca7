//! Receiving over real SMTP: the inbound server on a loopback port, talked to by a
//! plain SMTP client written here (to see every reply) and by `mail-send` over
//! STARTTLS. A message for a receiving domain is stored once with its raw source and
//! attachments, authenticated (SPF, DKIM, DMARC against the test DNS server), shown
//! by `/emails/receiving` in the contract's shape and sent as a Svix-signed
//! `email.received`; anything else is refused (no open relay). Delivery reports and
//! complaints arriving at bounce addresses become events on the email they are about.

use std::net::SocketAddr;

use base64::{Engine, engine::general_purpose::STANDARD};
use mail_auth::{
    common::{crypto::Ed25519Key, headers::HeaderWriter},
    dkim::DkimSigner,
};
use postline_testkit::{
    TestApp, backend_tests, contract::contract, smtp_sink::SmtpSink, webhook_receiver::WebhookReceiver,
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpStream, tcp::OwnedWriteHalf},
};

use crate::delivery::app_with;

backend_tests!(
    a_message_for_a_receiving_domain_is_stored_authenticated_listed_and_sent_to_webhooks,
    mail_for_anything_but_postlines_own_addresses_is_refused,
    a_dsn_at_the_bounce_address_bounces_the_email_once_and_suppresses_the_address,
    a_delayed_dsn_and_a_complaint_become_events_on_the_email,
);

/// A minimal SMTP client that shows every reply.
pub(crate) struct Smtp {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Smtp {
    pub(crate) async fn connect(address: SocketAddr) -> Self {
        let (read, writer) = TcpStream::connect(address).await.expect("connect").into_split();
        let mut smtp = Smtp { reader: BufReader::new(read), writer };
        let greeting = smtp.reply().await;
        assert!(greeting.starts_with("220"), "{greeting}");
        smtp
    }

    /// The next reply, all its lines joined.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.expect("read a reply");
            assert!(!line.is_empty(), "the server closed the connection; so far: {all}");
            all.push_str(&line);
            if line.as_bytes().get(3) == Some(&b' ') {
                return all;
            }
        }
    }

    pub(crate) async fn command(&mut self, line: &str) -> String {
        self.writer.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        self.reply().await
    }

    /// DATA with `message` (dot-stuffed here); the reply to the final dot.
    pub(crate) async fn data(&mut self, message: &str) -> String {
        let go = self.command("DATA").await;
        assert!(go.starts_with("354"), "{go}");
        let mut body = String::new();
        for line in message.split_inclusive('\n') {
            if line.starts_with('.') {
                body.push('.');
            }
            body.push_str(line);
        }
        if !body.ends_with("\r\n") {
            body.push_str("\r\n");
        }
        body.push_str(".\r\n");
        self.writer.write_all(body.as_bytes()).await.unwrap();
        self.reply().await
    }

    /// One whole transaction; the replies to MAIL, each RCPT, and the data (if any
    /// recipient was accepted).
    pub(crate) async fn send(&mut self, from: &str, to: &[&str], message: &str) -> Vec<String> {
        let mut replies = vec![self.command(&format!("MAIL FROM:<{from}>")).await];
        let mut accepted = false;
        for rcpt in to {
            let reply = self.command(&format!("RCPT TO:<{rcpt}>")).await;
            accepted |= reply.starts_with("250");
            replies.push(reply);
        }
        if accepted {
            replies.push(self.data(message).await);
        } else {
            self.command("RSET").await;
        }
        replies
    }
}

/// One message over a fresh connection.
pub(crate) async fn deliver(address: SocketAddr, from: &str, to: &[&str], message: &str) -> Vec<String> {
    let mut smtp = Smtp::connect(address).await;
    let hello = smtp.command("EHLO mail.example.org").await;
    assert!(hello.starts_with("250"), "{hello}");
    let replies = smtp.send(from, to, message).await;
    smtp.command("QUIT").await;
    replies
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A multipart message from ada@example.org: text, HTML with an inline image, and
/// an `.exe` attachment (a type Postline would never send, but receives).
fn message(to: &str) -> String {
    format!(
        "From: Ada Lovelace <ada@example.org>\r\n\
         To: {to}\r\n\
         Cc: carol@example.org\r\n\
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
         --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Your order <img src=\"cid:logo@example.org\"></p>\r\n\
         --alt--\r\n\
         --rel\r\nContent-Type: image/png\r\nContent-ID: <logo@example.org>\r\nContent-Disposition: inline\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n\
         --rel--\r\n\
         --outer\r\nContent-Type: application/x-msdownload; name=\"setup.exe\"\r\n\
         Content-Disposition: attachment; filename=\"setup.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{exe}\r\n\
         --outer--\r\n",
        png = STANDARD.encode(PNG),
        exe = STANDARD.encode(b"MZ-not-really"),
    )
}

/// Publishes an Ed25519 key for example.org and signs `message` with it.
fn dkim_signed(app: &TestApp, message: &str) -> String {
    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
    app.dns.txt("s1._domainkey.example.org", &format!("v=DKIM1; k=ed25519; p={}", STANDARD.encode(key.public_key())));
    let signature = DkimSigner::from_key(key)
        .domain("example.org")
        .selector("s1")
        .headers(["From", "To", "Subject", "Date", "Message-ID"])
        .sign(message.as_bytes())
        .unwrap();
    format!("{}{message}", signature.to_header())
}

async fn received(app: &TestApp) -> Vec<Value> {
    app.get("/emails/receiving").await.expect(200)["data"].as_array().unwrap().clone()
}

async fn a_message_for_a_receiving_domain_is_stored_authenticated_listed_and_sent_to_webhooks(app: TestApp) {
    app.receiving_domain("inbound.acme.dev").await;
    app.dns.txt("example.org", "v=spf1 ip4:127.0.0.1 -all");
    app.dns.txt("_dmarc.example.org", "v=DMARC1; p=reject");
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["email.received"])).await;
    let smtp = app.start_inbound().await;

    let signed = dkim_signed(&app, &message("Support <support@inbound.acme.dev>"));
    let replies =
        deliver(smtp, "ada@example.org", &["support@inbound.acme.dev", "sales@inbound.acme.dev"], &signed).await;
    assert!(replies.iter().all(|r| r.starts_with("250")), "{replies:?}");

    // Listed once (one team, two of its addresses), newest first, in the contract's shape.
    let list = received(&app).await;
    assert_eq!(list.len(), 1, "one message for one team is one received email: {list:#?}");
    let item = &list[0];
    assert_eq!(item["from"], "Ada Lovelace <ada@example.org>");
    assert_eq!(item["to"], json!(["Support <support@inbound.acme.dev>"]));
    assert_eq!(item["cc"], json!(["carol@example.org"]));
    assert_eq!(item["received_for"], json!(["support@inbound.acme.dev", "sales@inbound.acme.dev"]));
    assert_eq!(
        (item["subject"].as_str(), item["message_id"].as_str()),
        (Some("Order #42"), Some("<order-42@example.org>"))
    );
    assert!(item.get("html").is_none() && item.get("object").is_none(), "list items carry no bodies");
    let id = item["id"].as_str().unwrap().to_string();

    // The full email: inline image as a data URI, headers, SPF/DKIM/DMARC passing.
    let email = app.get(&format!("/emails/receiving/{id}")).await.expect(200).clone();
    assert_eq!(email["object"], "email");
    let html = email["html"].as_str().unwrap();
    assert!(html.contains(&format!("data:image/png;base64,{}", STANDARD.encode(PNG))), "{html}");
    assert_eq!(email["text"].as_str().map(str::trim), Some("Your order is ready."));
    assert_eq!(email["headers"]["X-Order"], "42");
    let auth = &email["authentication"];
    assert_eq!(
        (auth["spf"]["result"].as_str(), auth["dmarc"]["result"].as_str()),
        (Some("pass"), Some("pass")),
        "{auth:#}"
    );
    assert_eq!(auth["dkim"][0]["result"], "pass", "{auth:#}");
    assert!(email["headers"]["Authentication-Results"].as_str().unwrap().contains("dkim=pass"));
    let cid = app.get(&format!("/emails/receiving/{id}?html_format=cid")).await.expect(200).clone();
    assert!(cid["html"].as_str().unwrap().contains("cid:logo@example.org"), "cid keeps the references");
    app.get(&format!("/emails/receiving/{id}?html_format=png")).await.expect_error(422, "invalid_parameter");

    // The raw source, as received plus the trace headers this server added.
    let raw_url = email["raw"]["download_url"].as_str().unwrap();
    let raw = reqwest::get(raw_url).await.unwrap();
    assert_eq!(raw.headers()["content-type"], "message/rfc822");
    let raw = raw.text().await.unwrap();
    assert!(raw.starts_with("Authentication-Results: mx.postline.test;"), "{}", &raw[..200]);
    assert!(raw.ends_with(&signed), "the message itself is kept byte for byte");

    // Attachments: the inline image and the .exe, downloadable.
    let attachments = app.get(&format!("/emails/receiving/{id}/attachments")).await.expect(200)["data"].clone();
    let attachments = attachments.as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(
        (attachments[0]["content_id"].as_str(), attachments[0]["content_disposition"].as_str()),
        (Some("logo@example.org"), Some("inline"))
    );
    let exe = &attachments[1];
    assert_eq!(
        (exe["filename"].as_str(), exe["content_type"].as_str()),
        (Some("setup.exe"), Some("application/x-msdownload"))
    );
    let one = app
        .get(&format!("/emails/receiving/{id}/attachments/{}", exe["id"].as_str().unwrap()))
        .await
        .expect(200)
        .clone();
    assert_eq!(one["object"], "attachment");
    let bytes = reqwest::get(one["download_url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..], b"MZ-not-really");
    let forged = format!("{}x", one["download_url"].as_str().unwrap());
    assert_eq!(reqwest::get(forged).await.unwrap().status(), 404);

    // email.received, signed and in the contract's shape.
    app.dispatch_webhooks().await;
    let deliveries = receiver.received();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].verified, "the Svix signature verifies");
    contract().check_schema("EmailReceivedEvent", &deliveries[0].body);
    assert_eq!(deliveries[0].body["data"]["email_id"], id.as_str());
    assert_eq!(deliveries[0].body["data"]["attachments"].as_array().unwrap().len(), 2);

    // Another team sees none of it.
    let other = app.other_team_key().await;
    let theirs = app.request_as(&other, reqwest::Method::GET, &format!("/emails/receiving/{id}"), None, &[]).await;
    theirs.expect_error(404, "not_found");
    let listed = app.request_as(&other, reqwest::Method::GET, "/emails/receiving", None, &[]).await;
    assert_eq!(listed.expect(200)["data"], json!([]));
}

async fn mail_for_anything_but_postlines_own_addresses_is_refused(app: TestApp) {
    app.receiving_domain("inbound.acme.dev").await;
    app.verified_domain("acme.dev").await; // sending only: not a receiving domain
    let smtp = app.start_inbound().await;
    let unknown_email = uuid::Uuid::now_v7();
    let replies = deliver(
        smtp,
        "spammer@example.net",
        &[
            "victim@gmail.com",
            "someone@acme.dev",
            "someone@sub.inbound.acme.dev",
            &format!("bounces+{unknown_email}@send.acme.dev"),
            "bounces+not-a-uuid@send.acme.dev",
        ],
        "Subject: relay me\r\n\r\nhello\r\n",
    )
    .await;
    assert!(replies[0].starts_with("250"), "{replies:?}");
    for refused in &replies[1..4] {
        assert!(refused.starts_with("550 5.7.1"), "relaying is refused: {replies:?}");
    }
    assert!(replies[4].starts_with("550 5.1.1"), "an unknown bounce address: {replies:?}");
    assert!(replies[5].starts_with("550"), "{replies:?}");
    assert_eq!(replies.len(), 6, "no DATA without an accepted recipient");
    assert!(received(&app).await.is_empty());
}

/// acme.dev sends one email to a customer whose MX (the sink) accepts it.
async fn sent_and_delivered(app: &TestApp, to: &str) -> String {
    let id = app
        .post(
            "/emails",
            json!({"from": "Acme <billing@acme.dev>", "to": [to], "subject": "Your invoice", "text": "Thanks"}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.drain().await;
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "delivered");
    id
}

fn dsn(id: &str, recipient: &str, action: &str, status: &str, diagnostic: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx1.acme-customer.io>\r\n\
         To: bounces+{id}@send.acme.dev\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\n\
         Reporting-MTA: dns; mx1.acme-customer.io\r\n\r\n\
         Final-Recipient: rfc822; {recipient}\r\n\
         Action: {action}\r\n\
         Status: {status}\r\n\
         Diagnostic-Code: smtp; {diagnostic}\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         From: Acme <billing@acme.dev>\r\nTo: {recipient}\r\nSubject: Your invoice\r\nMessage-ID: <{id}@acme.dev>\r\n\r\n\
         --b--\r\n"
    )
}

async fn timeline(app: &TestApp, id: &str) -> Vec<Value> {
    app.get(&format!("/emails/{id}/events")).await.expect(200)["data"].as_array().unwrap().clone()
}

async fn a_dsn_at_the_bounce_address_bounces_the_email_once_and_suppresses_the_address(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["email.bounced"])).await;
    let smtp = app.start_inbound().await;
    let id = sent_and_delivered(&app, "gone@acme-customer.io").await;
    let envelope_from = sink.received()[0].mail_from.clone();
    assert_eq!(envelope_from, format!("bounces+{id}@send.acme.dev"), "the MTA's bounce address names the email");

    let report =
        dsn(&id, "gone@acme-customer.io", "failed", "5.1.1", "550 5.1.1 <gone@acme-customer.io>: user unknown");
    for _ in 0..2 {
        let replies = deliver(smtp, "", &[&envelope_from], &report).await;
        assert!(replies.iter().all(|r| r.starts_with("250")), "{replies:?}");
    }

    let bounced: Vec<Value> = timeline(&app, &id).await.into_iter().filter(|e| e["status"] == "bounced").collect();
    assert_eq!(bounced.len(), 1, "a repeated report records nothing more: {bounced:#?}");
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "bounced");
    let suppression = app.get("/suppressions/gone@acme-customer.io").await;
    assert_eq!(suppression.expect(200)["origin"], "bounce");
    app.dispatch_webhooks().await;
    let deliveries = receiver.received();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].verified);
    contract().check_schema("EmailBouncedEvent", &deliveries[0].body);
    let bounce = &deliveries[0].body["data"]["bounce"];
    assert_eq!((bounce["type"].as_str(), bounce["subType"].as_str()), (Some("Permanent"), Some("NoEmail")));
    assert_eq!(bounce["diagnosticCode"], json!(["smtp; 550 5.1.1 <gone@acme-customer.io>: user unknown"]));
    assert!(received(&app).await.is_empty(), "reports are not received emails");
}

fn arf(id: &str, recipient: &str) -> String {
    format!(
        "From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>\r\n\
         To: bounces+{id}@send.acme.dev\r\n\
         Subject: FW: Your invoice\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\r\n\r\n\
         --f\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\
         --f\r\nContent-Type: message/feedback-report\r\n\r\n\
         Feedback-Type: abuse\r\nUser-Agent: Yahoo!-Mail-Feedback/2.0\r\nVersion: 1\r\n\
         Original-Mail-From: <bounces+{id}@send.acme.dev>\r\nOriginal-Rcpt-To: <{recipient}>\r\n\
         Arrival-Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n\
         --f\r\nContent-Type: message/rfc822\r\n\r\n\
         From: Acme <billing@acme.dev>\r\nTo: {recipient}\r\nSubject: Your invoice\r\nMessage-ID: <{id}@acme.dev>\r\n\r\nThanks\r\n\
         --f--\r\n"
    )
}

async fn a_delayed_dsn_and_a_complaint_become_events_on_the_email(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let smtp = app.start_inbound().await;
    let slow = sent_and_delivered(&app, "slow@acme-customer.io").await;
    let report = dsn(&slow, "slow@acme-customer.io", "delayed", "4.4.1", "451 4.4.1 mailbox busy");
    deliver(smtp, "", &[&format!("bounces+{slow}@send.acme.dev")], &report).await;
    let delayed: Vec<Value> =
        timeline(&app, &slow).await.into_iter().filter(|e| e["status"] == "delivery_delayed").collect();
    assert_eq!(delayed.len(), 1, "{delayed:#?}");
    assert!(app.get("/suppressions/slow@acme-customer.io").await.status == 404, "a delay suppresses nothing");

    let annoyed = sent_and_delivered(&app, "annoyed@acme-customer.io").await;
    deliver(
        smtp,
        "feedback@arf.mail.yahoo.com",
        &[&format!("bounces+{annoyed}@send.acme.dev")],
        &arf(&annoyed, "annoyed@acme-customer.io"),
    )
    .await;
    assert_eq!(app.get(&format!("/emails/{annoyed}")).await.body["last_event"], "complained");
    let suppression = app.get("/suppressions/annoyed@acme-customer.io").await;
    assert_eq!(suppression.expect(200)["origin"], "complaint");

    // The next send to that address is suppressed, never attempted.
    let before = sink.count();
    let next = app
        .post(
            "/emails",
            json!({"from": "billing@acme.dev", "to": ["annoyed@acme-customer.io"], "subject": "Again", "text": "x"}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.drain().await;
    assert_eq!(app.get(&format!("/emails/{next}")).await.body["last_event"], "suppressed");
    assert_eq!(sink.count(), before);
}
