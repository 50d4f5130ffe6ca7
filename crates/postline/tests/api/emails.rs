use postline_testkit::{TestApp, backend_tests};
use serde_json::json;

backend_tests!(
    an_email_is_accepted_and_read_back_with_every_field,
    emails_are_listed_newest_first_with_cursors,
    each_bad_field_gets_its_own_error_and_nothing_is_stored,
    another_teams_email_is_not_found,
    a_shared_link_renders_the_email_until_it_expires,
    each_email_carries_deliverability_insights,
);

async fn an_email_is_accepted_and_read_back_with_every_field(app: TestApp) {
    let sent = app
        .post(
            "/emails",
            json!({
                "from": "Acme <onboarding@resend.dev>",
                "to": ["delivered@resend.dev"],
                "cc": "delivered+cc@resend.dev",
                "bcc": ["delivered+bcc@resend.dev"],
                "reply_to": "support@acme.dev",
                "subject": "Grüße aus Köln",
                "html": "<p>Hello</p>",
                "text": "Hello",
                "headers": {"X-Entity-Ref-ID": "123"},
                "tags": [{"name": "category", "value": "confirm_email"}],
            }),
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    let email = app.get(&format!("/emails/{id}")).await;
    let body = email.expect(200);
    assert_eq!(body["object"], "email");
    assert_eq!(body["id"], id);
    assert_eq!(body["from"], "Acme <onboarding@resend.dev>");
    assert_eq!(body["to"], json!(["delivered@resend.dev"]));
    assert_eq!(body["cc"], json!(["delivered+cc@resend.dev"]));
    assert_eq!(body["bcc"], json!(["delivered+bcc@resend.dev"]));
    assert_eq!(body["reply_to"], json!(["support@acme.dev"]));
    assert_eq!(body["subject"], "Grüße aus Köln");
    assert_eq!(body["html"], "<p>Hello</p>");
    assert_eq!(body["text"], "Hello");
    assert_eq!(body["headers"]["X-Entity-Ref-ID"], "123");
    assert_eq!(body["tags"], json!([{"name": "category", "value": "confirm_email"}]));
    assert_eq!(body["last_event"], "queued");
    assert!(body["message_id"].as_str().unwrap().ends_with("@resend.dev>"));
    assert!(body["created_at"].as_str().unwrap().ends_with("+00"));
}

async fn emails_are_listed_newest_first_with_cursors(app: TestApp) {
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(app.send_to("delivered@resend.dev").await);
    }
    ids.reverse();
    let first = app.get("/emails?limit=2").await;
    let page: Vec<&str> =
        first.expect(200)["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(page, &ids[..2]);
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["object"], "list");

    let next = app.get(&format!("/emails?limit=2&after={}", ids[1])).await;
    let page: Vec<&str> =
        next.expect(200)["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(page, &ids[2..4]);

    let last = app.get(&format!("/emails?limit=2&after={}", ids[3])).await;
    assert_eq!(last.expect(200)["data"].as_array().unwrap().len(), 1);
    assert_eq!(last.body["has_more"], false);

    let back = app.get(&format!("/emails?limit=2&before={}", ids[4])).await;
    let page: Vec<&str> =
        back.expect(200)["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(page, &ids[2..4]);
    assert_eq!(back.body["has_more"], true);

    app.get("/emails?limit=0").await.expect_error(422, "invalid_parameter");
    app.get("/emails?limit=101").await.expect_error(422, "invalid_parameter");
    app.get(&format!("/emails?after={}&before={}", ids[0], ids[1])).await.expect_error(422, "invalid_parameter");
}

async fn each_bad_field_gets_its_own_error_and_nothing_is_stored(app: TestApp) {
    let valid = json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "Hi", "html": "x"});
    let with = |field: &str, value: serde_json::Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let cases = [
        (without("from"), 422, "missing_required_field"),
        (without("to"), 422, "missing_required_field"),
        (without("subject"), 422, "missing_required_field"),
        (with("from", json!("Acme onboarding-at-resend.dev")), 422, "invalid_from_address"),
        (with("to", json!("not-an-address")), 400, "validation_error"),
        (with("to", json!(42)), 400, "validation_error"),
        (with("to", json!(["someone@example.com"])), 422, "validation_error"),
        (with("cc", json!("someone@test.com")), 422, "validation_error"),
        (
            with("to", json!((0..51).map(|i| format!("delivered+{i}@resend.dev")).collect::<Vec<_>>())),
            400,
            "validation_error",
        ),
        (with("tags", json!([{"name": "bad name", "value": "x"}])), 400, "validation_error"),
        (with("tags", json!([{"name": "n", "value": "a".repeat(257)}])), 400, "validation_error"),
        (with("headers", json!({"X-Bad": "a\r\nBcc: victim@x.com"})), 400, "validation_error"),
        (with("subject", json!("two\nlines")), 400, "validation_error"),
        (with("scheduled_at", json!("whenever")), 400, "validation_error"),
        (with("scheduled_at", json!("in 31 days")), 400, "validation_error"),
        (with("template", json!({"id": "f3b9756c-f4f4-44da-bc00-9f7903c8a83f"})), 400, "validation_error"),
        (with("topic_id", json!("not-a-uuid")), 422, "invalid_parameter"),
    ];
    // (A template with `html` is refused as such; an unknown template alone is a 404,
    // tested in tests/api/templates.rs.)
    for (body, status, name) in cases {
        let response = app.post("/emails", body.clone()).await;
        assert_eq!((response.status, response.error_name()), (status, name), "request {body}: {:#}", response.body);
    }
    let list = app.get("/emails").await;
    assert_eq!(list.expect(200)["data"], json!([]), "rejected requests store nothing");
}

async fn another_teams_email_is_not_found(app: TestApp) {
    let id = app.send_to("delivered@resend.dev").await;
    let other = app.other_team_key().await;
    use reqwest::Method;
    for (method, path, body) in [
        (Method::GET, format!("/emails/{id}"), None),
        (Method::PATCH, format!("/emails/{id}"), Some(json!({"scheduled_at": "in 1 hour"}))),
        (Method::POST, format!("/emails/{id}/cancel"), None),
        (Method::POST, format!("/emails/{id}/share"), None),
        (Method::GET, format!("/emails/{id}/events"), None),
        (Method::GET, format!("/emails/{id}/attachments"), None),
    ] {
        let response = app.request_as(&other, method.clone(), &path, body, &[]).await;
        response.expect_error(404, "not_found");
        assert!(!response.body.to_string().contains("onboarding@resend.dev"), "{method} {path} leaked data");
    }
    let listed = app.request_as(&other, reqwest::Method::GET, "/emails", None, &[]).await;
    assert_eq!(listed.expect(200)["data"], json!([]));
}

async fn a_shared_link_renders_the_email_until_it_expires(app: TestApp) {
    let id = app.send_to("delivered@resend.dev").await;
    let shared = app.post(&format!("/emails/{id}/share"), json!({"expires_in": "10m"})).await;
    let body = shared.expect(200);
    assert_eq!(body["object"], "email");
    assert_eq!(body["id"], id);
    let url = body["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&app.base_url), "{url}");

    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Hello") && html.contains("onboarding@resend.dev"), "{html}");
    assert!(html.contains("<iframe sandbox"), "the email's HTML is sandboxed");

    let tampered = url.replace("token=", "token=x");
    assert_eq!(app.client.get(&tampered).send().await.unwrap().status(), 404);

    app.clock.advance(chrono::Duration::minutes(11));
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404, "expired links stop working");

    app.post(&format!("/emails/{id}/share"), json!({"expires_in": "49 hours"}))
        .await
        .expect_error(400, "validation_error");
    app.post(&format!("/emails/{id}/share"), json!({"expires_in": "soon"})).await.expect_error(400, "validation_error");
    let default = app.request(reqwest::Method::POST, &format!("/emails/{id}/share"), None).await;
    default.expect(200);
}

async fn each_email_carries_deliverability_insights(app: TestApp) {
    let domain = app.verified_domain("acme.dev").await;
    let send = |body: serde_json::Value| {
        let app = &app;
        async move { app.post("/emails", body).await.expect(200)["id"].as_str().unwrap().to_string() }
    };
    let names = |email: &serde_json::Value| -> Vec<String> {
        email["insights"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
    };
    let fine = send(
        json!({"from": "a@acme.dev", "to": "delivered@resend.dev", "subject": "x", "html": "<p>x</p>", "text": "x"}),
    )
    .await;
    assert_eq!(app.get(&format!("/emails/{fine}")).await.expect(200)["insights"], json!([]));
    let big = format!("<p>{}</p>", "x".repeat(110 * 1024));
    let clipped = send(json!({"from": "a@acme.dev", "to": "delivered@resend.dev", "subject": "x", "html": big})).await;
    let shown = app.get(&format!("/emails/{clipped}")).await.expect(200).clone();
    assert_eq!(names(&shown), ["gmail_clipping", "missing_text_part"]);
    assert!(shown["insights"][0]["message"].as_str().unwrap().contains("102 KB"));
    app.patch(&format!("/domains/{domain}"), json!({"open_tracking": true})).await.expect(200);
    let tracked = send(
        json!({"from": "a@acme.dev", "to": "delivered@resend.dev", "subject": "x", "html": "<p>x</p>", "text": "x"}),
    )
    .await;
    assert_eq!(names(app.get(&format!("/emails/{tracked}")).await.expect(200)), ["tracking_on_transactional"]);
}
