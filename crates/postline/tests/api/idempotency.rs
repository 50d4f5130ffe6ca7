use postline_testkit::{TestApp, backend_tests, files::FileServer};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    the_same_key_and_payload_replays_the_first_response,
    the_same_key_with_another_payload_is_refused,
    a_second_request_while_the_first_runs_is_refused,
    a_failed_request_does_not_use_up_its_key,
    keys_must_be_one_to_256_characters,
);

fn email(subject: &str) -> Value {
    json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": subject, "html": "x"})
}

async fn send_with_key(app: &TestApp, path: &str, key: &str, body: Value) -> postline_testkit::TestResponse {
    app.request_as(&app.key, Method::POST, path, Some(body), &[("idempotency-key", key)]).await
}

async fn the_same_key_and_payload_replays_the_first_response(app: TestApp) {
    let first = send_with_key(&app, "/emails", "welcome-user-1", email("Welcome")).await;
    let again = send_with_key(&app, "/emails", "welcome-user-1", email("Welcome")).await;
    assert_eq!(first.expect(200)["id"], again.expect(200)["id"]);
    assert_eq!(app.get("/emails").await.body["data"].as_array().unwrap().len(), 1, "sent once");

    let batch = json!([email("a"), email("b")]);
    let first = send_with_key(&app, "/emails/batch", "batch-1", batch.clone()).await;
    let again = send_with_key(&app, "/emails/batch", "batch-1", batch).await;
    assert_eq!(first.expect(200), again.expect(200));
    assert_eq!(app.get("/emails").await.body["data"].as_array().unwrap().len(), 3);

    // Keys are per team.
    let other = app.other_team_key().await;
    let theirs = app
        .request_as(&other, Method::POST, "/emails", Some(email("Welcome")), &[("idempotency-key", "welcome-user-1")])
        .await;
    assert_ne!(theirs.expect(200)["id"], first.body["data"][0]["id"]);
}

async fn the_same_key_with_another_payload_is_refused(app: TestApp) {
    send_with_key(&app, "/emails", "k-1", email("One")).await.expect(200);
    send_with_key(&app, "/emails", "k-1", email("Two")).await.expect_error(409, "invalid_idempotent_request");
    send_with_key(&app, "/emails/batch", "k-1", json!([email("One")]))
        .await
        .expect_error(409, "invalid_idempotent_request");
    // After 24 hours the key is free again, and housekeeping forgets it.
    app.clock.advance(chrono::Duration::hours(25));
    assert_eq!(app.app.postline.purge_expired_idempotency_keys().await.unwrap(), 1);
    send_with_key(&app, "/emails", "k-1", email("Two")).await.expect(200);
    assert_eq!(app.app.postline.purge_expired_idempotency_keys().await.unwrap(), 0, "the new record is kept");
}

async fn a_second_request_while_the_first_runs_is_refused(app: TestApp) {
    let files = FileServer::start().await;
    let mut slow = email("Slow");
    slow["attachments"] = json!([{"path": files.url("/delayed"), "filename": "invoice.pdf"}]);
    let (first, second) = tokio::join!(send_with_key(&app, "/emails", "slow-1", slow.clone()), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        send_with_key(&app, "/emails", "slow-1", slow.clone()).await
    });
    first.expect(200);
    second.expect_error(409, "concurrent_idempotent_requests");
    let replay = send_with_key(&app, "/emails", "slow-1", slow).await;
    assert_eq!(replay.expect(200)["id"], first.body["id"]);
    assert_eq!(app.get("/emails").await.body["data"].as_array().unwrap().len(), 1);
}

async fn a_failed_request_does_not_use_up_its_key(app: TestApp) {
    let mut bad = email("Oops");
    bad["to"] = json!("not-an-address");
    send_with_key(&app, "/emails", "retry-me", bad).await.expect_error(400, "validation_error");
    send_with_key(&app, "/emails", "retry-me", email("Fixed")).await.expect(200);
}

async fn keys_must_be_one_to_256_characters(app: TestApp) {
    send_with_key(&app, "/emails", &"k".repeat(257), email("x")).await.expect_error(400, "invalid_idempotency_key");
    send_with_key(&app, "/emails", &"k".repeat(256), email("x")).await.expect(200);
    send_with_key(&app, "/emails", "", email("x")).await.expect_error(400, "invalid_idempotency_key");
}
