use postline_testkit::{TestApp, backend_tests};
use reqwest::Method;
use serde_json::json;

backend_tests!(
    keys_are_created_listed_renamed_and_deleted,
    a_created_key_works_and_a_deleted_key_stops_at_once,
    key_input_is_validated,
    sending_access_keys_can_only_send,
    another_teams_key_is_not_found,
);

async fn keys_are_created_listed_renamed_and_deleted(app: TestApp) {
    let created = app.post("/api-keys", json!({"name": "Production"})).await;
    let body = created.expect(201).clone();
    let id = body["id"].as_str().unwrap().to_string();
    let token = body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("re_"));

    let list = app.get("/api-keys").await;
    let listed = list.expect(200)["data"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "the test key and the new one");
    assert_eq!(listed[0]["id"], id, "newest first");
    assert_eq!(listed[0]["name"], "Production");
    assert_eq!(listed[0]["last_used_at"], json!(null));
    assert!(!list.body.to_string().contains(&token), "tokens are never listed");

    let renamed = app.patch(&format!("/api-keys/{id}"), json!({"name": "Prod (EU)"})).await;
    assert_eq!(renamed.expect(200)["object"], "api_key");
    assert_eq!(app.get("/api-keys").await.body["data"][0]["name"], "Prod (EU)");

    let deleted = app.delete(&format!("/api-keys/{id}")).await;
    assert_eq!(deleted.expect(200)["deleted"], true);
    assert_eq!(deleted.body["id"], id);
    app.delete(&format!("/api-keys/{id}")).await.expect_error(404, "not_found");
    assert_eq!(app.get("/api-keys").await.body["data"].as_array().unwrap().len(), 1);
}

async fn a_created_key_works_and_a_deleted_key_stops_at_once(app: TestApp) {
    let created = app.post("/api-keys", json!({"name": "CI"})).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let token = created.body["token"].as_str().unwrap().to_string();
    app.request_as(&token, Method::GET, "/emails", None, &[]).await.expect(200);
    let listed = app.get("/api-keys").await;
    let key = listed.body["data"].as_array().unwrap().iter().find(|k| k["id"] == id).unwrap().clone();
    assert!(key["last_used_at"].is_string(), "last_used_at is recorded: {key}");
    app.delete(&format!("/api-keys/{id}")).await.expect(200);
    app.request_as(&token, Method::GET, "/emails", None, &[]).await.expect_error(403, "invalid_api_key");
}

async fn key_input_is_validated(app: TestApp) {
    app.post("/api-keys", json!({})).await.expect_error(422, "missing_required_field");
    app.post("/api-keys", json!({"name": "x".repeat(51)})).await.expect_error(400, "validation_error");
    app.post("/api-keys", json!({"name": "x".repeat(50)})).await.expect(201);
    app.post("/api-keys", json!({"name": 5})).await.expect_error(400, "validation_error");
    app.post("/api-keys", json!({"name": "k", "permission": "admin"})).await.expect_error(422, "invalid_access");
    app.post("/api-keys", json!({"name": "k", "permission": "full_access", "domain_id": uuid::Uuid::new_v4()}))
        .await
        .expect_error(400, "validation_error");
    app.post("/api-keys", json!({"name": "k", "permission": "sending_access", "domain_id": uuid::Uuid::new_v4()}))
        .await
        .expect_error(404, "not_found");
    app.post("/api-keys", json!({"name": "k", "permission": "sending_access", "domain_id": "nope"}))
        .await
        .expect_error(422, "invalid_parameter");
    app.patch(&format!("/api-keys/{}", uuid::Uuid::new_v4()), json!({"name": "x"}))
        .await
        .expect_error(404, "not_found");
    app.patch("/api-keys/not-a-uuid", json!({"name": "x"})).await.expect_error(422, "invalid_parameter");
    let sending = app.post("/api-keys", json!({"name": "sender", "permission": "sending_access"})).await;
    sending.expect(201);
}

async fn sending_access_keys_can_only_send(app: TestApp) {
    let sender = app.key_with("sending_access").await;
    let sent = app
        .request_as(
            &sender,
            Method::POST,
            "/emails",
            Some(json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "s", "text": "t"})),
            &[],
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    for (method, path) in [
        (Method::GET, format!("/emails/{id}")),
        (Method::GET, "/emails".to_string()),
        (Method::GET, "/api-keys".to_string()),
        (Method::POST, format!("/emails/{id}/cancel")),
    ] {
        app.request_as(&sender, method, &path, None, &[]).await.expect_error(401, "restricted_api_key");
    }
    app.request_as(&sender, Method::POST, "/api-keys", Some(json!({"name": "x"})), &[])
        .await
        .expect_error(401, "restricted_api_key");
}

async fn another_teams_key_is_not_found(app: TestApp) {
    let other = app.other_team_key().await;
    let mine = app.get("/api-keys").await.body["data"][0]["id"].as_str().unwrap().to_string();
    app.request_as(&other, Method::DELETE, &format!("/api-keys/{mine}"), None, &[])
        .await
        .expect_error(404, "not_found");
    app.request_as(&other, Method::PATCH, &format!("/api-keys/{mine}"), Some(json!({"name": "hijack"})), &[])
        .await
        .expect_error(404, "not_found");
    let theirs = app.request_as(&other, Method::GET, "/api-keys", None, &[]).await;
    assert!(theirs.body["data"].as_array().unwrap().iter().all(|k| k["id"] != mine.as_str()));
    app.get("/api-keys").await.expect(200);
}
