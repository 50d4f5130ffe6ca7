//! Outbound delivery through real protocol peers: the test kit's authoritative DNS
//! server and scriptable SMTP sink stand in for the recipient's domain.

use std::net::IpAddr;

use chrono::Duration;
use postline_core::emails::Route;
use postline_testkit::{
    Backend, TestApp, backend_tests,
    smtp_sink::{Script, SmtpSink},
    test_app::{Options, test_mta},
};
use serde_json::{Value, json};

backend_tests!(
    mail_is_signed_and_delivered_to_the_recipients_mx,
    temporary_failures_are_retried_with_backoff_until_delivered,
    a_copy_that_keeps_failing_bounces_when_it_expires,
    hard_bounces_suppress_the_address_for_later_sends,
    each_recipient_gets_its_own_outcome,
    messages_to_one_destination_share_a_connection,
    enforced_tls_refuses_a_server_without_starttls,
    a_null_mx_bounces_without_any_attempt,
    delivery_falls_back_to_the_next_mx_and_to_the_address_record,
    a_dropped_connection_defers_the_message,
    a_crashed_workers_rows_are_delivered_after_the_lease_expires,
    a_late_outcome_from_an_expired_lease_changes_nothing_beside_the_current_ones,
    two_workers_never_deliver_a_recipient_twice,
    relay_mode_sends_everything_through_the_smarthost_with_auth,
    real_recipients_need_a_verified_sending_domain,
    a_domain_that_enforces_tls_is_never_sent_in_clear,
    only_the_sending_domains_region_delivers_its_mail,
    a_rotated_key_signs_once_its_record_is_published,
    with_signing_off_mail_leaves_unsigned_for_a_relay_to_sign,
);

const DOMAIN: &str = "acme-customer.io";

/// An app whose MTA delivers to `sink` for `acme-customer.io`.
pub(crate) async fn app_with(backend: Backend, sink: &SmtpSink, change: impl FnOnce(&mut Options)) -> TestApp {
    let mut options =
        Options { mta: postline_mta::MtaConfig { mx_port: sink.address.port(), ..test_mta() }, ..Options::default() };
    change(&mut options);
    let app = TestApp::start_with(backend, options).await;
    app.dns.mx(DOMAIN, 10, "mx1.acme-customer.io");
    app.dns.address("mx1.acme-customer.io", sink.address.ip());
    app.verified_domain("acme.dev").await;
    app
}

async fn send(app: &TestApp, to: Value) -> String {
    let response = app
        .post("/emails", json!({"from": "Acme <billing@acme.dev>", "to": to, "subject": "Your invoice", "html": "<p>Thanks</p>", "text": "Thanks"}))
        .await;
    response.expect(200)["id"].as_str().unwrap().to_string()
}

async fn last_event(app: &TestApp, id: &str) -> String {
    app.get(&format!("/emails/{id}")).await.body["last_event"].as_str().unwrap().to_string()
}

async fn timeline(app: &TestApp, id: &str) -> Vec<Value> {
    app.get(&format!("/emails/{id}/events")).await.body["data"].as_array().unwrap().clone()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["status"].as_str().unwrap().to_string()).collect()
}

async fn mail_is_signed_and_delivered_to_the_recipients_mx(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let id = send(&app, json!(["bob@acme-customer.io", "Carol <carol@acme-customer.io>"])).await;
    assert_eq!(app.drain().await, 2);

    let received = sink.received();
    assert_eq!(received.len(), 1, "recipients at one domain share one transaction");
    let message = &received[0];
    assert_eq!(message.recipients, ["bob@acme-customer.io", "carol@acme-customer.io"]);
    assert_eq!(
        message.mail_from,
        format!("bounces+{id}@send.acme.dev"),
        "a per-message return path on the bounce domain"
    );
    assert!(message.tls, "STARTTLS is used when offered");
    let text = message.text();
    assert!(text.contains("DKIM-Signature:") && text.contains("d=acme.dev") && text.contains("s=resend"), "{text}");
    assert!(text.contains(&format!("Message-ID: <{id}@acme.dev>")));
    assert!(text.contains("multipart/alternative"));
    assert!(sink.commands().iter().any(|c| c == "EHLO postline.test"), "EHLO names the node");

    assert_eq!(last_event(&app, &id).await, "delivered");
    let events = timeline(&app, &id).await;
    assert_eq!(kinds(&events), ["queued", "sent", "delivered", "sent", "delivered"]);
    assert!(events[2]["data"]["smtp_response"].as_str().unwrap().starts_with("250"), "{}", events[2]);

    let metrics = app.client.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("postline_emails_accepted_total 1"), "{metrics}");
    assert!(metrics.contains("postline_delivery_outcomes_total{outcome=\"delivered\"} 2"), "{metrics}");
    assert!(metrics.contains("postline_delivery_latency_seconds_count 2"), "{metrics}");
}

async fn temporary_failures_are_retried_with_backoff_until_delivered(app: TestApp) {
    let sink =
        SmtpSink::start_with(Script { data_reply: "451 4.3.0 try again later".into(), ..Script::default() }).await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let id = send(&app, json!("bob@acme-customer.io")).await;
    assert_eq!(app.drain().await, 1);
    assert_eq!(last_event(&app, &id).await, "delivery_delayed");
    let metrics = app.client.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("postline_delivery_outcomes_total{outcome=\"deferred\"} 1"), "{metrics}");
    assert!(metrics.contains("postline_queue_depth{route=\"smtp\"} 1"), "a deferred copy is still queued: {metrics}");
    let events = timeline(&app, &id).await;
    assert!(events[2]["data"]["delivery_delayed"]["reason"].as_str().unwrap().contains("451"), "{}", events[2]);

    assert_eq!(app.drain().await, 0, "the retry is not due yet");
    app.clock.advance(Duration::seconds(75));
    assert_eq!(app.drain().await, 1, "the first retry comes after about a minute");
    assert_eq!(last_event(&app, &id).await, "delivery_delayed");
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.drain().await, 0, "the second retry waits longer (about five minutes)");

    sink.script(|s| s.data_reply = "250 2.0.0 accepted".into());
    app.clock.advance(Duration::minutes(5));
    assert_eq!(app.drain().await, 1);
    assert_eq!(last_event(&app, &id).await, "delivered");
    assert_eq!(sink.received().len(), 1);
    assert_eq!(
        kinds(&timeline(&app, &id).await),
        ["queued", "sent", "delivery_delayed", "delivery_delayed", "delivered"]
    );
}

async fn a_copy_that_keeps_failing_bounces_when_it_expires(app: TestApp) {
    let sink = SmtpSink::start_with(Script { mail_reply: "421 4.7.0 too busy".into(), ..Script::default() }).await;
    let app = app_with(app.backend, &sink, |o| o.delivery_expiry = Duration::minutes(30)).await;
    let id = send(&app, json!("bob@acme-customer.io")).await;
    for _ in 0..10 {
        app.drain().await;
        app.clock.advance(Duration::minutes(20));
    }
    assert_eq!(last_event(&app, &id).await, "bounced");
    let events = timeline(&app, &id).await;
    let bounce = &events.last().unwrap()["data"]["bounce"];
    assert_eq!(bounce["type"], "Transient");
    assert!(bounce["message"].as_str().unwrap().contains("expired"), "{bounce}");
    app.clock.advance(Duration::hours(5));
    assert_eq!(app.drain().await, 0, "a bounced copy is never retried");
}

async fn hard_bounces_suppress_the_address_for_later_sends(app: TestApp) {
    let sink = SmtpSink::start().await;
    sink.script(|s| {
        s.rcpt_replies.insert("gone@acme-customer.io".into(), "550 5.1.1 <gone@acme-customer.io>: user unknown".into());
    });
    let app = app_with(app.backend, &sink, |_| {}).await;
    let first = send(&app, json!("gone@acme-customer.io")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &first).await, "bounced");
    let bounce = timeline(&app, &first).await.last().unwrap()["data"]["bounce"].clone();
    assert_eq!((bounce["type"].as_str(), bounce["subType"].as_str()), (Some("Permanent"), Some("NoEmail")));
    assert_eq!(bounce["diagnosticCode"][0], "smtp; 550 5.1.1 <gone@acme-customer.io>: user unknown");

    let attempts_before = sink.commands().iter().filter(|c| c.contains("gone@")).count();
    let second = send(&app, json!("Gone@Acme-Customer.io")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &second).await, "suppressed");
    let suppressed = timeline(&app, &second).await.last().unwrap()["data"]["suppressed"].clone();
    assert_eq!(suppressed["reason"], "previous_bounce");
    assert_eq!(suppressed["type"], "OnAccountSuppressionList");
    assert_eq!(sink.commands().iter().filter(|c| c.contains("gone@")).count(), attempts_before, "never attempted");

    // Another team's list is its own.
    let other = app.other_team_key().await;
    app.verified_domain_as(&other, "partner.dev").await;
    let theirs = app
        .request_as(
            &other,
            reqwest::Method::POST,
            "/emails",
            Some(json!({"from": "x@partner.dev", "to": "gone@acme-customer.io", "subject": "s", "text": "t"})),
            &[],
        )
        .await;
    theirs.expect(200);
    app.drain().await;
    let id = theirs.body["id"].as_str().unwrap();
    let status =
        app.request_as(&other, reqwest::Method::GET, &format!("/emails/{id}"), None, &[]).await.body["last_event"]
            .clone();
    assert_eq!(status, "bounced", "the other team's send is attempted (and bounces on its own)");
}

async fn each_recipient_gets_its_own_outcome(app: TestApp) {
    let sink = SmtpSink::start().await;
    sink.script(|s| {
        s.rcpt_replies.insert("busy@acme-customer.io".into(), "452 4.2.2 mailbox temporarily full".into());
        s.rcpt_replies.insert("policy@acme-customer.io".into(), "550 5.7.1 rejected by policy".into());
    });
    let app = app_with(app.backend, &sink, |_| {}).await;
    let id = send(&app, json!(["ok@acme-customer.io", "busy@acme-customer.io", "policy@acme-customer.io"])).await;
    app.drain().await;
    assert_eq!(sink.received()[0].recipients, ["ok@acme-customer.io"]);
    let events = timeline(&app, &id).await;
    let of = |who: &str| -> Vec<String> {
        events.iter().filter(|e| e["recipient"] == who).map(|e| e["status"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(of("ok@acme-customer.io"), ["sent", "delivered"]);
    assert_eq!(of("busy@acme-customer.io"), ["sent", "delivery_delayed"]);
    assert_eq!(of("policy@acme-customer.io"), ["sent", "bounced"]);
    let policy =
        events.iter().find(|e| e["recipient"] == "policy@acme-customer.io" && e["status"] == "bounced").unwrap();
    assert_eq!(policy["data"]["bounce"]["subType"], "ContentRejected");
    // A policy rejection says nothing bad about the address: it is not suppressed.
    let again = send(&app, json!("policy@acme-customer.io")).await;
    sink.script(|s| s.rcpt_replies.clear());
    app.drain().await;
    assert_eq!(last_event(&app, &again).await, "delivered");
}

async fn messages_to_one_destination_share_a_connection(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |o| o.mta.concurrency = 1).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(send(&app, json!(format!("user{i}@acme-customer.io"))).await);
    }
    app.drain().await;
    assert_eq!(sink.received().len(), 5);
    assert_eq!(sink.connections(), 1, "five messages over one connection");
    assert!(sink.received().iter().all(|m| m.connection == 1));
    assert!(sink.commands().iter().filter(|c| *c == "RSET").count() >= 4, "the session is reset between messages");
    assert_eq!(
        app.dns.queries_for(DOMAIN, hickory_proto::rr::RecordType::MX),
        1,
        "the MX answer is cached for its TTL"
    );
    for id in ids {
        assert_eq!(last_event(&app, &id).await, "delivered");
    }
}

async fn enforced_tls_refuses_a_server_without_starttls(app: TestApp) {
    let plain = SmtpSink::start_with(Script { starttls: false, ..Script::default() }).await;
    let enforced = app_with(app.backend, &plain, |o| o.mta.tls = postline_mta::TlsPolicy::Enforced).await;
    let id = send(&enforced, json!("bob@acme-customer.io")).await;
    enforced.drain().await;
    assert_eq!(last_event(&enforced, &id).await, "bounced");
    let bounce = timeline(&enforced, &id).await.last().unwrap()["data"]["bounce"].clone();
    assert!(bounce["message"].as_str().unwrap().contains("does not offer STARTTLS"), "{bounce}");
    assert!(plain.received().is_empty(), "nothing is sent in clear");

    let opportunistic = app_with(app.backend, &plain, |_| {}).await;
    let id = send(&opportunistic, json!("bob@acme-customer.io")).await;
    opportunistic.drain().await;
    assert_eq!(last_event(&opportunistic, &id).await, "delivered", "opportunistic TLS delivers in clear");
    assert!(!plain.received()[0].tls);

    let self_signed = SmtpSink::start().await;
    let enforced = app_with(app.backend, &self_signed, |o| o.mta.tls = postline_mta::TlsPolicy::Enforced).await;
    let id = send(&enforced, json!("bob@acme-customer.io")).await;
    enforced.drain().await;
    assert_eq!(last_event(&enforced, &id).await, "delivered");
    assert!(self_signed.received()[0].tls, "a self-signed certificate still encrypts");
}

async fn a_null_mx_bounces_without_any_attempt(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    app.dns.null_mx("no-mail.example.org");
    let id = send(&app, json!("anyone@no-mail.example.org")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &id).await, "bounced");
    let bounce = timeline(&app, &id).await.last().unwrap()["data"]["bounce"].clone();
    assert_eq!(bounce["type"], "Permanent");
    assert!(bounce["message"].as_str().unwrap().contains("null MX"), "{bounce}");
    assert_eq!(sink.connections(), 0);
}

async fn delivery_falls_back_to_the_next_mx_and_to_the_address_record(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    // The preferred MX has an address where nothing listens; the second one works.
    app.dns.mx("fallback.example.org", 5, "down.fallback.example.org");
    app.dns.address("down.fallback.example.org", "127.0.0.3".parse::<IpAddr>().unwrap());
    app.dns.mx("fallback.example.org", 20, "up.fallback.example.org");
    app.dns.address("up.fallback.example.org", sink.address.ip());
    let id = send(&app, json!("bob@fallback.example.org")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &id).await, "delivered");

    // No MX at all: the domain's own address is the mail server.
    app.dns.address("a-only.example.org", sink.address.ip());
    app.dns.txt("a-only.example.org", "v=spf1 -all");
    let id = send(&app, json!("bob@a-only.example.org")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &id).await, "delivered");
    assert_eq!(sink.received().len(), 2);
}

async fn a_dropped_connection_defers_the_message(app: TestApp) {
    let sink = SmtpSink::start_with(Script { drop_after_data: true, ..Script::default() }).await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let id = send(&app, json!("bob@acme-customer.io")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &id).await, "delivery_delayed");
    sink.script(|s| s.drop_after_data = false);
    app.clock.advance(Duration::minutes(2));
    app.drain().await;
    assert_eq!(last_event(&app, &id).await, "delivered");
}

async fn a_crashed_workers_rows_are_delivered_after_the_lease_expires(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let id = send(&app, json!("bob@acme-customer.io")).await;
    // A worker claims the row and dies before recording anything.
    let now = app.clock_now();
    let store = &app.app.db;
    use postline_core::store::QueueStore;
    let claimed = store.claim_due(Route::Smtp, "us-east-1", now, now + Duration::minutes(20), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(app.drain().await, 0, "a leased row is not taken by another worker");
    app.clock.advance(Duration::minutes(21));
    assert_eq!(app.drain().await, 1, "after the lease expires the row is claimed again");
    assert_eq!(last_event(&app, &id).await, "delivered");
    assert_eq!(sink.received().len(), 1);
}

/// A worker that stalls past its lease may report outcomes after another worker took
/// the rows over. Outcomes are recorded a batch at a time, so one batch can hold rows
/// whose lease is gone beside rows it still holds: only the latter are written.
async fn a_late_outcome_from_an_expired_lease_changes_nothing_beside_the_current_ones(app: TestApp) {
    use postline_core::{
        delivery::{DeliveryOutcome, DeliveryStatus},
        emails::{EmailEvent, EventKind},
        store::QueueStore,
    };
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let taken_over = send(&app, json!("ann@acme-customer.io")).await;
    let store = &app.app.db;
    let now = app.clock_now();
    let stalled = store.claim_due(Route::Smtp, "us-east-1", now, now + Duration::minutes(1), 10).await.unwrap();
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.drain().await, 1, "the expired lease is taken over and delivered");
    let current_id = send(&app, json!("bob@acme-customer.io")).await;
    let now = app.clock_now();
    let current = store.claim_due(Route::Smtp, "us-east-1", now, now + Duration::minutes(1), 10).await.unwrap();
    assert_eq!((stalled.len(), current.len()), (1, 1));

    let bounce = |row: &postline_core::delivery::ClaimedDelivery| {
        let event = EmailEvent::new(row.email_id, EventKind::Bounced, Some(row.recipient.clone()), now);
        (row.clone(), DeliveryOutcome::finished(DeliveryStatus::Bounced, vec![event]))
    };
    let recorded = store.complete_deliveries(&[bounce(&stalled[0]), bounce(&current[0])]).await.unwrap();
    assert_eq!(recorded, [false, true], "only the lease still held is recorded");
    assert_eq!(last_event(&app, &taken_over).await, "delivered", "the late report changed nothing");
    assert!(!kinds(&timeline(&app, &taken_over).await).contains(&"bounced".to_string()));
    assert_eq!(last_event(&app, &current_id).await, "bounced");
    assert_eq!(kinds(&timeline(&app, &current_id).await).last().map(String::as_str), Some("bounced"));
    assert_eq!(app.drain().await, 0, "the recorded row is finished and its lease released");
}

async fn two_workers_never_deliver_a_recipient_twice(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let batch: Vec<Value> = (0..100)
        .map(|i| json!({"from": "billing@acme.dev", "to": format!("user{i}@acme-customer.io"), "subject": "s", "text": "t"}))
        .collect();
    for _ in 0..10 {
        app.post("/emails/batch", json!(batch)).await.expect(200);
    }
    // Two independent workers (as on two nodes) drain the same queue at once.
    let first = app.app.workers().into_iter().nth(1).unwrap();
    let second = app.app.workers().into_iter().nth(1).unwrap();
    let (a, b) = tokio::join!(first.drain(), second.drain());
    assert_eq!(a.unwrap() + b.unwrap(), 1000, "every row attempted exactly once");
    let received = sink.received();
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.recipients.clone()).collect();
    assert_eq!(recipients.len(), 1000);
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 100, "100 addresses, ten emails each");
    let ids: std::collections::HashSet<String> = received
        .iter()
        .map(|m| m.text().lines().find(|l| l.starts_with("Message-ID:")).unwrap().to_string() + &m.recipients.join(","))
        .collect();
    assert_eq!(ids.len(), 1000, "no (message, recipient) pair was delivered twice");
}

async fn relay_mode_sends_everything_through_the_smarthost_with_auth(app: TestApp) {
    let relay =
        SmtpSink::start_with(Script { auth: Some(("postline".into(), "s3cret".into())), ..Script::default() }).await;
    let url = format!("smtp://postline:s3cret@127.0.0.1:{}?tls_verify=false", relay.address.port());
    let app = app_with(app.backend, &relay, |o| o.mta.relay = Some(postline_mta::Relay::parse(&url).unwrap())).await;
    // No DNS records for these domains: the relay is the only destination.
    let id = send(&app, json!(["bob@nowhere-in-dns.example", "eve@elsewhere.example"])).await;
    app.drain().await;
    assert_eq!(last_event(&app, &id).await, "delivered");
    let received = relay.received();
    assert_eq!(received.len(), 2, "one transaction per recipient domain");
    assert!(received.iter().all(|m| m.tls), "relays are only used over TLS");
    assert!(relay.commands().iter().any(|c| c.starts_with("AUTH PLAIN")));

    let wrong = format!("smtp://postline:wrong@127.0.0.1:{}?tls_verify=false", relay.address.port());
    let refused =
        app_with(app.backend, &relay, |o| o.mta.relay = Some(postline_mta::Relay::parse(&wrong).unwrap())).await;
    let id = send(&refused, json!("bob@nowhere-in-dns.example")).await;
    refused.drain().await;
    // A misconfigured relay defers rather than bounces: fixing the credentials delivers the backlog.
    assert_eq!(last_event(&refused, &id).await, "delivery_delayed");
    let delayed = timeline(&refused, &id).await.last().unwrap()["data"]["delivery_delayed"].clone();
    assert!(delayed["reason"].as_str().unwrap().contains("refused the relay credentials"), "{delayed}");
}

async fn real_recipients_need_a_verified_sending_domain(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let refused = app
        .post("/emails", json!({"from": "x@unverified.dev", "to": "bob@acme-customer.io", "subject": "s", "text": "t"}))
        .await;
    refused.expect_error(403, "validation_error");
    assert!(
        refused.body["message"].as_str().unwrap().contains("The unverified.dev domain is not verified"),
        "{}",
        refused.body
    );
    // Mixed recipients: one real recipient is enough to need the domain.
    let mixed = app.post("/emails", json!({"from": "x@unverified.dev", "to": ["delivered@resend.dev", "bob@acme-customer.io"], "subject": "s", "text": "t"})).await;
    mixed.expect_error(403, "validation_error");
    // Sandbox recipients work from any domain.
    app.post("/emails", json!({"from": "x@unverified.dev", "to": "delivered@resend.dev", "subject": "s", "text": "t"}))
        .await
        .expect(200);
    // A domain added but not verified does not count.
    app.post("/domains", json!({"name": "added-only.dev"})).await.expect(201);
    app.post("/emails", json!({"from": "x@added-only.dev", "to": "bob@acme-customer.io", "subject": "s", "text": "t"}))
        .await
        .expect_error(403, "validation_error");
    // The verified one does; so does a key restricted to it, but only for it.
    app.post("/emails", json!({"from": "x@acme.dev", "to": "bob@acme-customer.io", "subject": "s", "text": "t"}))
        .await
        .expect(200);
    let domain_id = app.get("/domains").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "acme.dev")
        .unwrap()["id"]
        .clone();
    let restricted = app
        .post("/api-keys", json!({"name": "acme only", "permission": "sending_access", "domain_id": domain_id}))
        .await;
    let token = restricted.expect(201)["token"].as_str().unwrap().to_string();
    let send = |from: &str| json!({"from": from, "to": "bob@acme-customer.io", "subject": "s", "text": "t"});
    app.request_as(&token, reqwest::Method::POST, "/emails", Some(send("a@acme.dev")), &[]).await.expect(200);
    app.request_as(&token, reqwest::Method::POST, "/emails", Some(send("a@added-only.dev")), &[])
        .await
        .expect_error(403, "validation_error");
    // Another team cannot send from this team's domain.
    let other = app.other_team_key().await;
    app.request_as(&other, reqwest::Method::POST, "/emails", Some(send("a@acme.dev")), &[])
        .await
        .expect_error(403, "validation_error");
}

async fn a_domain_that_enforces_tls_is_never_sent_in_clear(app: TestApp) {
    let plain = SmtpSink::start_with(Script { starttls: false, ..Script::default() }).await;
    let app = app_with(app.backend, &plain, |_| {}).await;
    let id = app.get("/domains").await.body["data"][0]["id"].as_str().unwrap().to_string();
    // A message in clear first, so a plain connection sits in the pool.
    let first = send(&app, json!("bob@acme-customer.io")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &first).await, "delivered");
    app.patch(&format!("/domains/{id}"), json!({"tls": "enforced"})).await.expect(200);
    let second = send(&app, json!("bob@acme-customer.io")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &second).await, "bounced");
    assert_eq!(plain.received().len(), 1, "the pooled clear connection was not reused for the enforcing domain");
}

async fn only_the_sending_domains_region_delivers_its_mail(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let created = app.post("/domains", json!({"name": "eu.acme.dev", "region": "eu-west-1"})).await;
    let domain = created.expect(201).clone();
    app.publish_records(&domain);
    let id = domain["id"].as_str().unwrap();
    app.request(reqwest::Method::POST, &format!("/domains/{id}/verify"), None).await.expect(200);
    app.check_domains().await;
    let response = app
        .post("/emails", json!({"from": "x@eu.acme.dev", "to": "bob@acme-customer.io", "subject": "s", "text": "t"}))
        .await;
    let email = response.expect(200)["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.drain().await,
        0,
        "this node is in us-east-1: the eu-west-1 domain's mail waits for an eu-west-1 node"
    );
    assert_eq!(last_event(&app, &email).await, "queued");
    let now = app.clock_now();
    use postline_core::store::QueueStore;
    let claimed = app.app.db.claim_due(Route::Smtp, "eu-west-1", now, now + Duration::minutes(1), 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "an eu-west-1 node takes it");
}

async fn a_rotated_key_signs_once_its_record_is_published(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let id = app.get("/domains").await.body["data"][0]["id"].as_str().unwrap().to_string();
    let domain_id = postline_core::ids::DomainId::parse(&id).unwrap();
    let next = app.app.postline.rotate_dkim_key(app.team.id, domain_id).await.unwrap();
    assert_eq!(next.selector, "resend-2");
    assert!(app.app.postline.rotate_dkim_key(app.team.id, domain_id).await.is_err(), "one rotation at a time");

    let names = |d: &Value| -> Vec<String> {
        d["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["record"] == "DKIM")
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    let domain = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!(names(&domain), ["resend._domainkey", "resend-2._domainkey"]);

    // Until the new record is published, mail is still signed with the old key.
    send(&app, json!("bob@acme-customer.io")).await;
    app.drain().await;
    assert!(sink.received()[0].text().contains("s=resend;"));

    let mut only_new = domain.clone();
    only_new["records"] = json!(
        domain["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == "resend-2._domainkey")
            .cloned()
            .collect::<Vec<_>>()
    );
    app.publish_records(&only_new);
    app.request(reqwest::Method::POST, &format!("/domains/{id}/verify"), None).await.expect(200);
    app.check_domains().await;
    send(&app, json!("bob@acme-customer.io")).await;
    app.drain().await;
    let signed = sink.received()[1].text();
    assert!(signed.contains("s=resend-2;") && !signed.contains("s=resend;"), "the new key signs");
    let domain = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!(domain["status"], "verified");
    assert_eq!(names(&domain), ["resend._domainkey", "resend-2._domainkey"], "the retired key stays published");

    assert!(
        app.app.postline.remove_dkim_key(app.team.id, domain_id, "resend-2").await.is_err(),
        "the active key cannot be removed"
    );
    app.app.postline.remove_dkim_key(app.team.id, domain_id, "resend").await.unwrap();
    assert_eq!(names(&app.get(&format!("/domains/{id}")).await.body), ["resend-2._domainkey"]);
}

async fn with_signing_off_mail_leaves_unsigned_for_a_relay_to_sign(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |o| o.mta.dkim_signing = false).await;
    let id = send(&app, json!("bob@acme-customer.io")).await;
    app.drain().await;
    assert_eq!(last_event(&app, &id).await, "delivered");
    let text = sink.received()[0].text();
    assert!(!text.contains("DKIM-Signature:"), "{text}");
    assert!(text.contains(&format!("Message-ID: <{id}@acme.dev>")), "{text}");
}
