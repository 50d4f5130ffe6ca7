//! Capture mode and the developer inbox: with `capture` on, mail to real recipients
//! is rendered and signed as usual but kept, never sent (the recipient's MX — the SMTP
//! sink — hears nothing), from any sender; the API shows it delivered ("captured"),
//! and the inbox lists it live with its compatibility and link findings. "Release"
//! sends a captured message, byte for byte, to the operator's release server (a
//! second SMTP sink with STARTTLS and AUTH), within the allow-list.

use postline_core::users::Role;
use postline_testkit::{TestApp, backend_tests, smtp_sink::SmtpSink, test_app::Options};
use reqwest::StatusCode;
use serde_json::json;

use crate::dashboard::{Visitor, hidden, user};

backend_tests!(
    captured_mail_never_leaves_and_shows_in_the_inbox_with_its_findings,
    the_inbox_stream_sends_the_list_again_when_a_message_is_captured,
    a_captured_message_is_released_as_captured_to_the_release_server_within_the_allow_list,
);

async fn captured_mail_never_leaves_and_shows_in_the_inbox_with_its_findings(app: TestApp) {
    let sink = SmtpSink::start().await;
    let options = Options {
        capture: true,
        mta: postline_mta::MtaConfig { mx_port: sink.address.port(), ..postline_testkit::test_app::test_mta() },
        ..Options::default()
    };
    let app = TestApp::start_with(app.backend, options).await;
    app.dns.mx("acme-customer.io", 10, "mx1.acme-customer.io");
    app.dns.address("mx1.acme-customer.io", sink.address.ip());
    user(&app, "dev@startup.dev", Role::Member).await;

    let html =
        r#"<div style="display: flex"><a href="http://localhost:3000/confirm">Confirm</a><script>x()</script></div>"#;
    let sent = app
        .post(
            "/emails",
            json!({"from": "Startup <hello@startup.dev>", "to": "customer@acme-customer.io",
                                "subject": "Confirm your account", "html": html, "text": "Confirm"}),
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    app.drain().await;
    assert_eq!(sink.count(), 0, "nothing left the machine");
    let email = app.get(&format!("/emails/{id}")).await.expect(200).clone();
    assert_eq!(email["last_event"], "delivered");
    let events = app.get(&format!("/emails/{id}/events")).await.expect(200)["data"].clone();
    let delivered = events.as_array().unwrap().iter().find(|e| e["status"] == "delivered").unwrap().clone();
    assert!(delivered["data"]["smtp_response"].as_str().unwrap().contains("Captured"), "{delivered:#}");

    let mut visitor = Visitor::new(&app);
    visitor.sign_in("dev@startup.dev", "a long enough password").await;
    let inbox = visitor.get("/dashboard/inbox").await.body;
    assert!(inbox.contains("customer@acme-customer.io") && inbox.contains("Capture mode"), "{inbox}");
    assert!(inbox.contains("data-stream=\"/dashboard/inbox/stream\""), "the list updates itself");
    let rows = visitor.get("/dashboard/inbox/rows").await.body;
    let at = rows.find("/dashboard/inbox/").expect("a link to the message");
    let link: String = rows[at..].chars().take_while(|c| *c != '"').collect();
    let message = visitor.get(&link).await;
    assert_eq!(message.status, StatusCode::OK);
    for expected in [
        "Confirm your account",
        "Scripts are removed",
        "Flexbox",
        "points at this machine",
        "bounces+",
        "Subject: Confirm your account",
    ] {
        assert!(message.body.contains(expected), "{expected} missing from the message page");
    }

    let other = app.other_team_key().await;
    let theirs = app
        .request_as(
            &other,
            reqwest::Method::POST,
            "/emails",
            Some(json!({"from": "a@other.dev", "to": "x@acme-customer.io", "subject": "Theirs", "text": "t"})),
            &[],
        )
        .await;
    theirs.expect(200);
    app.drain().await;
    assert!(!visitor.get("/dashboard/inbox").await.body.contains("x@acme-customer.io"), "another team's mail");
    let their_team = app.app.postline.authenticate(&other).await.unwrap().unwrap().team_id;
    let page = postline_core::pagination::PageRequest { limit: 10, ..Default::default() };
    let their_message = app.app.postline.list_captured(their_team, page).await.unwrap().items[0].id;
    let foreign = visitor.get(&format!("/dashboard/inbox/{their_message}")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another team's message is not found here");
    let missing = format!("/dashboard/inbox/{}", uuid::Uuid::now_v7());
    assert_eq!(visitor.get(&missing).await.status, StatusCode::NOT_FOUND);

    // Deleting: one message, then the whole inbox; never another team's, never without the token.
    let csrf = hidden(&message.body, "csrf");
    let theirs = visitor.post(&format!("/dashboard/inbox/{their_message}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let forged = visitor.post(&format!("{link}/delete"), &[("csrf", "guessed")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(visitor.get(&link).await.status, StatusCode::OK, "still there");
    let deleted = visitor.post(&format!("{link}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!((deleted.status, deleted.location.as_deref()), (StatusCode::SEE_OTHER, Some("/dashboard/inbox")));
    assert_eq!(visitor.get(&link).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/emails/{id}")).await.expect(200)["last_event"], "delivered", "the email stays");
    app.post("/emails", json!({"from": "hello@startup.dev", "to": "b@acme-customer.io", "subject": "B", "text": "b"}))
        .await
        .expect(200);
    app.drain().await;
    assert!(visitor.get("/dashboard/inbox").await.body.contains("b@acme-customer.io"));
    let cleared = visitor.post("/dashboard/inbox/clear", &[("csrf", &csrf)]).await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert!(visitor.get("/dashboard/inbox").await.body.contains("No messages yet"));
    let page = postline_core::pagination::PageRequest { limit: 10, ..Default::default() };
    assert_eq!(app.app.postline.list_captured(their_team, page).await.unwrap().items.len(), 1, "theirs untouched");
}

async fn a_captured_message_is_released_as_captured_to_the_release_server_within_the_allow_list(app: TestApp) {
    let mx = SmtpSink::start().await;
    let release_server = SmtpSink::start_with(postline_testkit::smtp_sink::Script {
        auth: Some(("inbox".into(), "s3cret".into())),
        ..Default::default()
    })
    .await;
    release_server.script(|s| {
        s.rcpt_replies.insert("full@dev.example".into(), "552 5.2.2 mailbox full".into());
    });
    let url = format!("smtp://inbox:s3cret@{}?tls_verify=false", release_server.address);
    let options = Options {
        capture: true,
        capture_release: Some(postline::config::CaptureRelease {
            server: postline_mta::Relay::parse(&url).unwrap(),
            allowed: vec!["dev.example".into()],
        }),
        mta: postline_mta::MtaConfig { mx_port: mx.address.port(), ..postline_testkit::test_app::test_mta() },
        ..Options::default()
    };
    let app = TestApp::start_with(app.backend, options).await;
    user(&app, "dev@startup.dev", Role::Member).await;
    app.post(
        "/emails",
        json!({"from": "Startup <hello@startup.dev>", "to": "customer@acme-customer.io",
                               "subject": "Your invoice", "html": "<p>Due in 30 days</p>"}),
    )
    .await
    .expect(200);
    app.drain().await;
    let page = postline_core::pagination::PageRequest { limit: 10, ..Default::default() };
    let captured = app.app.postline.list_captured(app.team.id, page.clone()).await.unwrap().items[0].clone();
    let captured = app.app.postline.get_captured(app.team.id, &captured.id.to_string()).await.unwrap();

    let mut visitor = Visitor::new(&app);
    visitor.sign_in("dev@startup.dev", "a long enough password").await;
    let path = format!("/dashboard/inbox/{}", captured.id);
    let message = visitor.get(&path).await.body;
    assert!(message.contains("Release") && message.contains(&release_server.address.to_string()), "{message}");
    let csrf = hidden(&message, "csrf");
    let release = format!("{path}/release");

    // The original recipient is outside the allow-list: refused beside the field, nothing sent.
    let refused = visitor.post(&release, &[("csrf", &csrf), ("recipients", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("customer@acme-customer.io` is not allowed"), "{}", refused.body);
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let bad = visitor.post(&release, &[("csrf", &csrf), ("recipients", "me@dev.example, not an address")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = visitor.post(&release, &[("csrf", "guessed"), ("recipients", "me@dev.example")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(release_server.count(), 0, "nothing released by refused forms");

    let released = visitor.post(&release, &[("csrf", &csrf), ("recipients", "me@dev.example\nfull@dev.example")]).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert!(released.body.contains("queued as 1234") && released.body.contains("552 5.2.2 mailbox full"));
    let arrived = release_server.received();
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0].recipients, ["me@dev.example"], "the refused address is not in the transaction");
    assert!(arrived[0].tls, "STARTTLS is required by default");
    assert_eq!(arrived[0].mail_from, captured.mail_from);
    // Byte for byte (SMTP's DATA ends every message with a line break): the DKIM signature still holds.
    assert_eq!(arrived[0].data.trim_ascii_end(), captured.raw.trim_ascii_end(), "released as captured");
    assert_eq!(mx.count(), 0, "the customer's MX still heard nothing");

    let other = app.other_team_key().await;
    app.request_as(
        &other,
        reqwest::Method::POST,
        "/emails",
        Some(json!({"from": "a@other.dev", "to": "x@acme-customer.io", "subject": "Theirs", "text": "t"})),
        &[],
    )
    .await
    .expect(200);
    app.drain().await;
    let their_team = app.app.postline.authenticate(&other).await.unwrap().unwrap().team_id;
    let theirs = app.app.postline.list_captured(their_team, page).await.unwrap().items[0].id;
    let foreign = visitor
        .post(&format!("/dashboard/inbox/{theirs}/release"), &[("csrf", &csrf), ("recipients", "me@dev.example")])
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another team's message cannot be released");
    assert_eq!(release_server.count(), 1);
}

/// The next server-sent event from `stream` within 10 s: (event name, data).
async fn next_event(stream: &mut reqwest::Response, buffer: &mut String) -> (String, String) {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let name = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or_default().to_string();
            let data: Vec<&str> = block.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
            if name.is_empty() {
                continue; // a keep-alive comment
            }
            return (name, data.join("\n"));
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("an event within 10 s; so far: {buffer:?}"))
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn the_inbox_stream_sends_the_list_again_when_a_message_is_captured(app: TestApp) {
    let options = Options { capture: true, ..Options::default() };
    let app = TestApp::start_with(app.backend, options).await;
    user(&app, "dev@startup.dev", Role::Member).await;
    let mut visitor = Visitor::new(&app);
    visitor.sign_in("dev@startup.dev", "a long enough password").await;
    let mut stream = visitor.open("/dashboard/inbox/stream").await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let (name, data) = next_event(&mut stream, &mut buffer).await;
    assert_eq!(name, "update");
    assert!(data.contains("No messages yet"), "{data}");

    app.post(
        "/emails",
        json!({"from": "hello@startup.dev", "to": "ann@example-customer.org", "subject": "Hi", "text": "Hi"}),
    )
    .await
    .expect(200);
    app.drain().await;
    let (name, data) = next_event(&mut stream, &mut buffer).await;
    assert_eq!(name, "update");
    assert!(data.contains("ann@example-customer.org") && !data.contains("No messages yet"), "{data}");

    // An email's timeline streams until the email settles (a bounce: a delivered email
    // may still be opened, clicked or complained about), then says so.
    let id = app
        .post("/emails", json!({"from": "hello@startup.dev", "to": "bounced@resend.dev", "subject": "T", "text": "t"}))
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut timeline = visitor.open(&format!("/dashboard/emails/{id}/stream")).await;
    let mut buffer = String::new();
    let (name, data) = next_event(&mut timeline, &mut buffer).await;
    assert!(name == "update" && data.contains("queued") && !data.contains("bounced"), "{name}: {data}");
    app.drain().await;
    let (name, data) = next_event(&mut timeline, &mut buffer).await;
    assert!(name == "update" && data.contains("bounced"), "{name}: {data}");
    assert_eq!(next_event(&mut timeline, &mut buffer).await.0, "settled");

    let signed_out = Visitor::new(&app).open("/dashboard/inbox/stream").await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER, "no stream without a session");
}
