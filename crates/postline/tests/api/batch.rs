use postline_testkit::{TestApp, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    a_strict_batch_is_all_or_nothing,
    a_permissive_batch_queues_the_valid_items_and_reports_the_rest,
    batches_refuse_attachments_scheduling_and_oversize,
);

fn item(to: &str) -> Value {
    json!({"from": "onboarding@resend.dev", "to": to, "subject": "Batch", "html": "<p>x</p>"})
}

async fn count_emails(app: &TestApp) -> usize {
    app.get("/emails?limit=100").await.body["data"].as_array().unwrap().len()
}

async fn a_strict_batch_is_all_or_nothing(app: TestApp) {
    let ok = app.post("/emails/batch", json!([item("delivered@resend.dev"), item("bounced@resend.dev")])).await;
    let data = ok.expect(200)["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 2);
    assert!(ok.body.get("errors").is_none());
    app.drain().await;
    assert_eq!(app.get(&format!("/emails/{}", data[1]["id"].as_str().unwrap())).await.body["last_event"], "bounced");

    let bad = app
        .request_as(
            &app.key,
            reqwest::Method::POST,
            "/emails/batch",
            Some(json!([item("delivered@resend.dev"), item("not-an-address")])),
            &[("x-batch-validation", "strict")],
        )
        .await;
    bad.expect_error(400, "validation_error");
    assert!(bad.body["message"].as_str().unwrap().contains("emails[1]"), "{}", bad.body);
    assert_eq!(count_emails(&app).await, 2, "nothing of a rejected strict batch is stored");
}

async fn a_permissive_batch_queues_the_valid_items_and_reports_the_rest(app: TestApp) {
    let response = app
        .request_as(
            &app.key,
            reqwest::Method::POST,
            "/emails/batch",
            Some(json!([item("delivered@resend.dev"), item("x@example.com"), item("delivered+2@resend.dev"), {"to": "a@b.co"}])),
            &[("x-batch-validation", "permissive")],
        )
        .await;
    let body = response.expect(200);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let errors = body["errors"].as_array().unwrap();
    let indexes: Vec<u64> = errors.iter().map(|e| e["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, [1, 3]);
    assert!(errors.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    assert_eq!(count_emails(&app).await, 2);

    let bad_mode = app
        .request_as(
            &app.key,
            reqwest::Method::POST,
            "/emails/batch",
            Some(json!([item("delivered@resend.dev")])),
            &[("x-batch-validation", "lenient")],
        )
        .await;
    bad_mode.expect_error(400, "validation_error");
}

async fn batches_refuse_attachments_scheduling_and_oversize(app: TestApp) {
    let mut with_attachment = item("delivered@resend.dev");
    with_attachment["attachments"] = json!([{"filename": "a.txt", "content": "aGk="}]);
    app.post("/emails/batch", json!([with_attachment])).await.expect_error(400, "validation_error");
    let mut scheduled = item("delivered@resend.dev");
    scheduled["scheduled_at"] = json!("in 1 hour");
    app.post("/emails/batch", json!([scheduled])).await.expect_error(400, "validation_error");
    let too_many: Vec<Value> = (0..101).map(|i| item(&format!("delivered+{i}@resend.dev"))).collect();
    app.post("/emails/batch", json!(too_many)).await.expect_error(400, "validation_error");
    app.post("/emails/batch", json!([])).await.expect_error(400, "validation_error");
    app.post("/emails/batch", json!({"not": "an array"})).await.expect_error(400, "validation_error");
    let hundred: Vec<Value> = (0..100).map(|i| item(&format!("delivered+{i}@resend.dev"))).collect();
    assert_eq!(app.post("/emails/batch", json!(hundred)).await.expect(200)["data"].as_array().unwrap().len(), 100);
}
