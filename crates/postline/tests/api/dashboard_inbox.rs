//! Capture mode and the developer inbox: with `capture` on, mail to real recipients
//! is rendered and signed as usual but kept, never sent (the recipient's MX — the SMTP
//! sink — hears nothing), from any sender; the API shows it delivered ("captured"),
//! and the inbox lists it live with its compatibility and link findings.

use postline_core::users::Role;
use postline_testkit::{TestApp, backend_tests, smtp_sink::SmtpSink, test_app::Options};
use reqwest::StatusCode;
use serde_json::json;

use crate::dashboard::{Visitor, user};

backend_tests!(captured_mail_never_leaves_and_shows_in_the_inbox_with_its_findings,);

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
    assert!(inbox.contains("data-poll=\"/dashboard/inbox/rows\""), "the list refreshes itself");
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
}
