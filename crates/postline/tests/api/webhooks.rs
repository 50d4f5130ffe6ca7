//! Webhooks: the endpoints API, and signed deliveries verified by an independent
//! implementation, with the contract's payload schemas and the retry schedule.

use chrono::Duration;
use postline_testkit::{
    TestApp, backend_tests, contract::contract, files::FileServer, test_app::Options, webhook_receiver::WebhookReceiver,
};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    endpoints_are_registered_listed_changed_and_deleted,
    sandbox_events_reach_subscribed_endpoints_signed_and_in_the_contracts_shape,
    a_failing_receiver_is_retried_on_the_schedule_until_it_answers,
    events_attempts_replay_and_secret_rotation_work_as_the_sdks_call_them,
    an_endpoint_failing_for_days_is_disabled_and_can_be_re_enabled_and_replayed,
    domain_events_reach_subscribed_endpoints,
    exposed_installations_refuse_private_endpoints_and_never_follow_redirects,
);

async fn register(app: &TestApp, receiver: &WebhookReceiver, events: Value) -> String {
    app.subscribe(receiver, events).await
}

async fn endpoints_are_registered_listed_changed_and_deleted(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let id = register(&app, &receiver, json!(["email.sent", "email.delivered"])).await;
    let got = app.get(&format!("/webhooks/{id}")).await;
    let body = got.expect(200);
    assert_eq!((body["endpoint"].as_str(), body["status"].as_str()), (Some(receiver.url().as_str()), Some("enabled")));
    assert_eq!(body["events"], json!(["email.sent", "email.delivered"]));
    assert_eq!(app.get("/webhooks").await.body["data"][0]["id"], id.as_str());
    app.patch(&format!("/webhooks/{id}"), json!({"events": ["email.bounced"], "status": "disabled"})).await.expect(200);
    let changed = app.get(&format!("/webhooks/{id}")).await.body;
    assert_eq!((changed["events"].clone(), changed["status"].clone()), (json!(["email.bounced"]), json!("disabled")));

    app.post("/webhooks", json!({"events": ["email.sent"]})).await.expect_error(422, "missing_required_field");
    app.post("/webhooks", json!({"endpoint": receiver.url()})).await.expect_error(422, "missing_required_field");
    app.post("/webhooks", json!({"endpoint": "ftp://x.example", "events": ["email.sent"]}))
        .await
        .expect_error(400, "validation_error");
    app.post("/webhooks", json!({"endpoint": receiver.url(), "events": ["email.teleported"]}))
        .await
        .expect_error(400, "validation_error");
    app.post("/webhooks", json!({"endpoint": receiver.url(), "events": []}))
        .await
        .expect_error(400, "validation_error");
    let other = app.other_team_key().await;
    app.request_as(&other, Method::GET, &format!("/webhooks/{id}"), None, &[]).await.expect_error(404, "not_found");

    let deleted = app.delete(&format!("/webhooks/{id}")).await;
    assert_eq!(deleted.expect(200)["deleted"], true);
    app.get(&format!("/webhooks/{id}")).await.expect_error(404, "not_found");
}

fn schema_of(event_type: &str) -> String {
    let name: String = event_type
        .trim_start_matches("email.")
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    format!("Email{name}Event")
}

async fn sandbox_events_reach_subscribed_endpoints_signed_and_in_the_contracts_shape(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    register(&app, &receiver, json!(["email.sent", "email.delivered", "email.bounced", "email.suppressed"])).await;
    let tagged = |to: &str| json!({"from": "Acme <onboarding@resend.dev>", "to": to, "subject": "Hi", "text": "t", "tags": [{"name": "flow", "value": "signup"}]});
    let delivered =
        app.post("/emails", tagged("delivered@resend.dev")).await.expect(200)["id"].as_str().unwrap().to_string();
    let bounced =
        app.post("/emails", tagged("bounced@resend.dev")).await.expect(200)["id"].as_str().unwrap().to_string();
    let complained =
        app.post("/emails", tagged("complained@resend.dev")).await.expect(200)["id"].as_str().unwrap().to_string();
    app.drain().await;
    assert!(app.dispatch_webhooks().await >= 6);

    let received = receiver.received();
    assert!(received.iter().all(|d| d.verified), "every delivery carries a valid Svix signature");
    let types_for = |id: &str| -> Vec<String> {
        received
            .iter()
            .filter(|d| d.body["data"]["email_id"] == id)
            .map(|d| d.body["type"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(types_for(&delivered), ["email.sent", "email.delivered"]);
    assert_eq!(types_for(&bounced), ["email.sent", "email.bounced"]);
    assert_eq!(types_for(&complained), ["email.sent", "email.delivered"], "email.complained is not subscribed");
    for delivery in &received {
        let event_type = delivery.body["type"].as_str().unwrap();
        contract().check_schema(&schema_of(event_type), &delivery.body);
        assert_eq!(delivery.body["data"]["tags"], json!({"flow": "signup"}));
        assert!(delivery.message_id.starts_with("msg_"));
    }
    let bounce = received.iter().find(|d| d.body["type"] == "email.bounced").unwrap();
    assert_eq!(bounce.body["data"]["bounce"]["type"], "Permanent");
    assert_eq!(app.dispatch_webhooks().await, 0, "each message is delivered once");
}

async fn a_failing_receiver_is_retried_on_the_schedule_until_it_answers(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    register(&app, &receiver, json!(["email.delivered"])).await;
    receiver.respond_with(500);
    app.send_to("delivered@resend.dev").await;
    app.drain().await;
    assert_eq!(app.dispatch_webhooks().await, 1, "the first attempt is immediate");
    assert_eq!(app.dispatch_webhooks().await, 0, "the retry is not due yet");
    app.clock.advance(Duration::seconds(6));
    assert_eq!(app.dispatch_webhooks().await, 1, "then after 5 seconds");
    app.clock.advance(Duration::minutes(4));
    assert_eq!(app.dispatch_webhooks().await, 0);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.dispatch_webhooks().await, 1, "then after 5 minutes");
    receiver.respond_with(204);
    app.clock.advance(Duration::minutes(31));
    assert_eq!(app.dispatch_webhooks().await, 1, "then after 30 minutes, when it answers");
    app.clock.advance(Duration::hours(20));
    assert_eq!(app.dispatch_webhooks().await, 0, "a delivered message is not sent again");
    let received = receiver.received();
    assert_eq!(received.len(), 4);
    let ids: std::collections::HashSet<&str> = received.iter().map(|d| d.message_id.as_str()).collect();
    assert_eq!(ids.len(), 1, "retries carry the same svix-id, so receivers can deduplicate");
    assert!(received.iter().all(|d| d.verified));
}

async fn events_attempts_replay_and_secret_rotation_work_as_the_sdks_call_them(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let id = register(&app, &receiver, json!(["email.delivered"])).await;
    receiver.respond_with(503);
    app.send_to("delivered@resend.dev").await;
    app.drain().await;
    app.dispatch_webhooks().await;
    let events = app.get(&format!("/webhooks/{id}/events")).await.body;
    assert_eq!(events["data"][0]["status"], "attempting");
    let event_id = events["data"][0]["id"].as_str().unwrap().to_string();
    receiver.respond_with(200);
    app.clock.advance(Duration::seconds(6));
    app.dispatch_webhooks().await;
    let event = app.get(&format!("/webhooks/{id}/events/{event_id}")).await.body;
    assert_eq!((event["object"].as_str(), event["status"].as_str()), (Some("webhook_event"), Some("success")));
    assert_eq!(event["payload"]["type"], "email.delivered");
    let attempts = app.get(&format!("/webhooks/{id}/events/{event_id}/attempts")).await.body;
    let codes: Vec<u64> =
        attempts["data"].as_array().unwrap().iter().map(|a| a["http_status_code"].as_u64().unwrap()).collect();
    assert_eq!(codes, [503, 200]);

    let replayed = app.request(Method::POST, &format!("/webhooks/{id}/events/{event_id}/replay"), None).await;
    assert_eq!(replayed.expect(200)["id"], event_id.as_str());
    assert_eq!(app.dispatch_webhooks().await, 1, "a replay is sent at once");
    assert_eq!(receiver.received().len(), 3);

    let old_secret = app.get(&format!("/webhooks/{id}")).await.body["signing_secret"].as_str().unwrap().to_string();
    let rotated = app.request(Method::POST, &format!("/webhooks/{id}/signing-secret/rotate"), None).await;
    let new_secret = rotated.expect(200)["signing_secret"].as_str().unwrap().to_string();
    assert_ne!(old_secret, new_secret);
    app.request(Method::POST, &format!("/webhooks/{id}/events/{event_id}/replay"), None).await.expect(200);
    app.dispatch_webhooks().await;
    assert!(!receiver.received().last().unwrap().verified, "the old secret no longer verifies");
    receiver.set_secret(&new_secret);
    app.request(Method::POST, &format!("/webhooks/{id}/events/{event_id}/replay"), None).await.expect(200);
    app.dispatch_webhooks().await;
    assert!(receiver.received().last().unwrap().verified, "the new one does");
    app.get(&format!("/webhooks/{id}/events/not-an-event")).await.expect_error(404, "not_found");
}

async fn fail_whole_schedule(app: &TestApp) {
    for wait in [0, 6, 301, 1801, 7201, 18001, 36001, 36001] {
        app.clock.advance(Duration::seconds(wait));
        app.dispatch_webhooks().await;
    }
}

async fn an_endpoint_failing_for_days_is_disabled_and_can_be_re_enabled_and_replayed(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    let id = register(&app, &receiver, json!(["email.delivered"])).await;
    receiver.respond_with(500);
    let started = app.clock_now();
    app.send_to("delivered@resend.dev").await;
    app.drain().await;
    fail_whole_schedule(&app).await;
    assert_eq!(receiver.received().len(), 8, "eight attempts in all");
    let events = app.get(&format!("/webhooks/{id}/events")).await.body;
    assert_eq!(events["data"][0]["status"], "failed");
    assert_eq!(
        app.get(&format!("/webhooks/{id}")).await.body["status"],
        "enabled",
        "one day of failures is not enough"
    );

    app.clock.advance(Duration::days(5));
    app.send_to("delivered@resend.dev").await;
    app.drain().await;
    fail_whole_schedule(&app).await;
    assert_eq!(
        app.get(&format!("/webhooks/{id}")).await.body["status"],
        "disabled",
        "failing for days disables the endpoint"
    );

    app.send_to("delivered@resend.dev").await;
    app.drain().await;
    let before = receiver.received().len();
    app.dispatch_webhooks().await;
    assert_eq!(receiver.received().len(), before, "a disabled endpoint is not called");

    receiver.respond_with(200);
    app.patch(&format!("/webhooks/{id}"), json!({"status": "enabled"})).await.expect(200);
    let replayed = app.app.postline.replay_failed_webhooks(app.team.id, None, started).await.unwrap();
    assert_eq!(replayed, 2, "both failed events are queued again");
    app.dispatch_webhooks().await;
    let statuses: Vec<String> = app.get(&format!("/webhooks/{id}/events")).await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["success", "success", "success"]);
}

async fn domain_events_reach_subscribed_endpoints(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    register(&app, &receiver, json!(["domain.created", "domain.updated", "domain.deleted"])).await;
    let id = app.verified_domain("acme.dev").await;
    app.patch(&format!("/domains/{id}"), json!({"click_tracking": true})).await.expect(200);
    app.delete(&format!("/domains/{id}")).await.expect(200);
    app.dispatch_webhooks().await;
    let received = receiver.received();
    let types: Vec<&str> = received.iter().map(|d| d.body["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["domain.created", "domain.updated", "domain.updated", "domain.deleted"],
        "created, verified, changed, deleted"
    );
    assert_eq!(received[1].body["data"]["status"], "verified");
    for delivery in &received {
        assert!(delivery.verified);
        let schema = match delivery.body["type"].as_str().unwrap() {
            "domain.created" => "DomainCreatedEvent",
            "domain.updated" => "DomainUpdatedEvent",
            _ => "DomainDeletedEvent",
        };
        contract().check_schema(schema, &delivery.body);
        assert_eq!(delivery.body["data"]["name"], "acme.dev");
    }
}

async fn exposed_installations_refuse_private_endpoints_and_never_follow_redirects(app: TestApp) {
    // Exposed beyond loopback: a loopback endpoint is refused when sending (after DNS
    // resolution, so a name pointing at 127.0.0.1 is refused too).
    let exposed =
        TestApp::start_with(app.backend, Options { allow_private_fetches: false, ..Options::default() }).await;
    let receiver = WebhookReceiver::start().await;
    let url = format!("http://localhost:{}/hook", receiver.address.port());
    let created = exposed.post("/webhooks", json!({"endpoint": url, "events": ["email.delivered"]})).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    exposed.send_to("delivered@resend.dev").await;
    exposed.drain().await;
    exposed.dispatch_webhooks().await;
    assert!(receiver.received().is_empty(), "nothing reaches a private address");
    let event =
        exposed.get(&format!("/webhooks/{id}/events")).await.body["data"][0]["id"].as_str().unwrap().to_string();
    let attempts = exposed.get(&format!("/webhooks/{id}/events/{event}/attempts")).await.body;
    let reason = attempts["data"][0]["response"].as_str().unwrap();
    assert!(reason.contains("non-public address"), "{attempts}");
    assert!(attempts["data"][0]["http_status_code"].is_null());

    // Locally (loopback), redirects are answered but never followed.
    let files = FileServer::start().await;
    let redirecting =
        app.post("/webhooks", json!({"endpoint": files.url("/redirect"), "events": ["email.delivered"]})).await;
    let hook = redirecting.expect(201)["id"].as_str().unwrap().to_string();
    app.send_to("delivered@resend.dev").await;
    app.drain().await;
    app.dispatch_webhooks().await;
    let event = app.get(&format!("/webhooks/{hook}/events")).await.body["data"][0].clone();
    assert_eq!(event["status"], "attempting", "a 3xx is not a success: {event}");
    let attempts = app.get(&format!("/webhooks/{hook}/events/{}/attempts", event["id"].as_str().unwrap())).await.body;
    assert_eq!(attempts["data"][0]["http_status_code"], 307);
}
