//! Webhooks: the endpoints API, and signed deliveries verified by an independent
//! implementation, with the contract's payload schemas and the retry schedule.

use chrono::Duration;
use postline_testkit::{TestApp, backend_tests, contract::contract, webhook_receiver::WebhookReceiver};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    endpoints_are_registered_listed_changed_and_deleted,
    sandbox_events_reach_subscribed_endpoints_signed_and_in_the_contracts_shape,
    a_failing_receiver_is_retried_on_the_schedule_until_it_answers,
);

async fn register(app: &TestApp, receiver: &WebhookReceiver, events: Value) -> String {
    let created = app.post("/webhooks", json!({"endpoint": receiver.url(), "events": events})).await;
    let body = created.expect(201).clone();
    let secret = body["signing_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    receiver.set_secret(secret);
    body["id"].as_str().unwrap().to_string()
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
