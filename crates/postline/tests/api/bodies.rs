use postline_testkit::{TestApp, backend_tests};
use serde_json::json;

backend_tests!(
    malformed_bodies_get_clear_errors_and_store_nothing,
    non_uuid_ids_are_invalid_parameters,
    sdk_habits_are_tolerated,
);

async fn raw_post(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> postline_testkit::TestResponse {
    let response = app
        .client
        .post(format!("{}{path}", app.base_url))
        .bearer_auth(&app.key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    app.read("POST", path, response).await
}

async fn malformed_bodies_get_clear_errors_and_store_nothing(app: TestApp) {
    let broken = raw_post(&app, "/emails", "application/json", b"{\"from\": ".to_vec()).await;
    broken.expect_error(400, "validation_error");
    assert!(broken.body["message"].as_str().unwrap().contains("not valid JSON"));
    raw_post(&app, "/emails", "application/x-www-form-urlencoded", b"from=a@b.co".to_vec())
        .await
        .expect_error(415, "validation_error");
    raw_post(&app, "/emails", "application/json", b"[1, 2]".to_vec()).await.expect_error(400, "validation_error");
    raw_post(&app, "/emails", "application/json", b"".to_vec()).await.expect_error(400, "validation_error");
    // The server answers 413 without reading the rest and drops the connection, so
    // this goes on a connection of its own (a pooled one would be reused, dead).
    let huge = vec![b' '; 2 * 1024 * 1024];
    let response = reqwest::Client::new()
        .post(format!("{}/api-keys", app.base_url))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    app.read("POST", "/api-keys", response).await.expect_error(413, "validation_error");
    assert_eq!(app.get("/emails").await.body["data"], json!([]));
    assert_eq!(app.get("/api-keys").await.body["data"].as_array().unwrap().len(), 1);
}

async fn non_uuid_ids_are_invalid_parameters(app: TestApp) {
    for path in ["/emails/123", "/emails/abc/attachments"] {
        let response = app.get(path).await;
        assert!(
            (response.status, response.error_name()) == (422, "invalid_parameter") || response.status == 404,
            "{path}: {}",
            response.body
        );
    }
    app.get("/emails/not-a-uuid").await.expect_error(422, "invalid_parameter");
    app.request(reqwest::Method::POST, "/emails/not-a-uuid/cancel", None).await.expect_error(422, "invalid_parameter");
    app.get(&format!("/emails/{}/attachments/nope", uuid::Uuid::new_v4())).await.expect_error(422, "invalid_parameter");
    app.get(&format!("/emails/{}", uuid::Uuid::new_v4())).await.expect_error(404, "not_found");
}

async fn sdk_habits_are_tolerated(app: TestApp) {
    // Python sends `{}` on GET and DELETE; Node sends a JSON content type everywhere.
    let response = app
        .client
        .get(format!("{}/emails", app.base_url))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    app.read("GET", "/emails", response).await.expect(200);
    // A base URL with a trailing slash makes the SDKs request `//emails`.
    let doubled =
        app.client.get(format!("{}//emails?limit=1", app.base_url)).bearer_auth(&app.key).send().await.unwrap();
    app.read("GET", "/emails", doubled).await.expect(200);
    // Unknown fields are ignored.
    let sent = app
        .post(
            "/emails",
            json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "s", "text": "t", "id": "x", "unknown": {"a": 1}}),
        )
        .await;
    sent.expect(200);
}
