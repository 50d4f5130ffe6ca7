use chrono::Duration;
use postline_testkit::{TestApp, backend_tests};
use serde_json::json;

backend_tests!(
    a_scheduled_email_waits_until_it_is_due,
    a_scheduled_email_can_be_rescheduled_and_canceled,
    only_scheduled_emails_can_be_changed,
);

async fn schedule(app: &TestApp, when: &str) -> String {
    let response = app
        .post(
            "/emails",
            json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "Later", "html": "x", "scheduled_at": when}),
        )
        .await;
    response.expect(200)["id"].as_str().unwrap().to_string()
}

async fn a_scheduled_email_waits_until_it_is_due(app: TestApp) {
    let id = schedule(&app, "in 1 hour").await;
    let email = app.get(&format!("/emails/{id}")).await;
    assert_eq!(email.body["last_event"], "scheduled");
    assert!(email.body["scheduled_at"].is_string());
    assert_eq!(app.drain().await, 0, "not due yet");
    app.clock.advance(Duration::minutes(61));
    assert_eq!(app.drain().await, 1);
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "delivered");

    let iso = (app.clock_now() + Duration::days(2)).to_rfc3339();
    let id = schedule(&app, &iso).await;
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "scheduled");
}

async fn a_scheduled_email_can_be_rescheduled_and_canceled(app: TestApp) {
    let id = schedule(&app, "in 1 hour").await;
    let moved = app.patch(&format!("/emails/{id}"), json!({"scheduled_at": "in 3 hours"})).await;
    assert_eq!(moved.expect(200)["id"], id);
    app.clock.advance(Duration::minutes(90));
    assert_eq!(app.drain().await, 0, "the old time no longer applies");
    app.clock.advance(Duration::minutes(91));
    assert_eq!(app.drain().await, 1, "the new time does");

    let id = schedule(&app, "tomorrow at 9am").await;
    let canceled = app.request(reqwest::Method::POST, &format!("/emails/{id}/cancel"), None).await;
    assert_eq!(canceled.expect(200)["id"], id);
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "canceled");
    app.clock.advance(Duration::days(2));
    assert_eq!(app.drain().await, 0, "a canceled email is never sent");
}

async fn only_scheduled_emails_can_be_changed(app: TestApp) {
    let id = app.send_to("delivered@resend.dev").await;
    app.drain().await;
    app.patch(&format!("/emails/{id}"), json!({"scheduled_at": "in 1 hour"}))
        .await
        .expect_error(422, "validation_error");
    app.request(reqwest::Method::POST, &format!("/emails/{id}/cancel"), None)
        .await
        .expect_error(422, "validation_error");
    let scheduled = schedule(&app, "in 1 hour").await;
    app.patch(&format!("/emails/{scheduled}"), json!({})).await.expect_error(422, "missing_required_field");
    app.patch(&format!("/emails/{scheduled}"), json!({"scheduled_at": "yesterday-ish"}))
        .await
        .expect_error(400, "validation_error");
    app.request(reqwest::Method::POST, &format!("/emails/{scheduled}/cancel"), None).await.expect(200);
    app.request(reqwest::Method::POST, &format!("/emails/{scheduled}/cancel"), None)
        .await
        .expect_error(422, "validation_error");
}
