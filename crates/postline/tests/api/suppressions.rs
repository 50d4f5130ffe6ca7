//! The suppression list through `/suppressions`: the same list the MTA consults, so
//! an address added by hand is never attempted, a hard bounce shows up with its email,
//! and removing an entry lets mail through again.

use postline_mta::MtaConfig;
use postline_testkit::{
    Backend, TestApp, backend_tests,
    smtp_sink::SmtpSink,
    test_app::{Options, test_mta},
};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    the_list_the_api_manages_is_the_list_the_mta_consults,
    batches_add_and_remove_up_to_a_hundred_and_bad_input_changes_nothing,
);

async fn app_with_sink(backend: Backend, sink: &SmtpSink) -> TestApp {
    let options = Options { mta: MtaConfig { mx_port: sink.address.port(), ..test_mta() }, ..Options::default() };
    let app = TestApp::start_with(backend, options).await;
    app.dns.mx("customer.io", 10, "mx.customer.io");
    app.dns.address("mx.customer.io", sink.address.ip());
    app.verified_domain("acme.dev").await;
    app
}

async fn send(app: &TestApp, to: &str) -> String {
    let sent =
        app.post("/emails", json!({"from": "billing@acme.dev", "to": to, "subject": "Invoice", "text": "t"})).await;
    sent.expect(200)["id"].as_str().unwrap().to_string()
}

async fn last_event(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/emails/{id}")).await.body["last_event"].clone()
}

async fn the_list_the_api_manages_is_the_list_the_mta_consults(app: TestApp) {
    let sink = SmtpSink::start().await;
    sink.script(|s| {
        s.rcpt_replies.insert("bob@customer.io".into(), "550 5.1.1 <bob@customer.io>: user unknown".into());
    });
    let app = app_with_sink(app.backend, &sink).await;

    // By hand: the address is never attempted.
    let added = app.post("/suppressions", json!({"email": "Ann@Customer.io"})).await;
    let ann = added.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(added.body["object"], "suppression");
    let first = send(&app, "ann@customer.io").await;
    app.drain().await;
    assert_eq!(last_event(&app, &first).await, "suppressed");
    assert!(sink.received().is_empty());

    // A hard bounce puts the address on the list, with the email that bounced.
    let bounced = send(&app, "bob@customer.io").await;
    app.drain().await;
    assert_eq!(last_event(&app, &bounced).await, "bounced");
    let bob = app.get("/suppressions/bob%40customer.io").await.expect(200).clone();
    assert_eq!(bob["origin"], "bounce");
    assert_eq!(bob["source_id"], json!(bounced));
    assert_eq!(bob["email"], "bob@customer.io");
    let by_id = app.get(&format!("/suppressions/{ann}")).await.expect(200).clone();
    assert_eq!(by_id["origin"], "manual");
    assert!(by_id.get("source_id").is_none(), "no email put it there");
    assert_eq!(by_id["email"], "ann@customer.io", "addresses are kept lower-cased");

    let all = app.get("/suppressions").await.expect(200).clone();
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let bounces = app.get("/suppressions?origin=bounce").await.body["data"].clone();
    assert_eq!(
        bounces.as_array().unwrap().iter().map(|s| s["email"].clone()).collect::<Vec<_>>(),
        [json!("bob@customer.io")]
    );
    app.get("/suppressions?origin=spam").await.expect_error(422, "invalid_parameter");

    // Adding an address already listed keeps its entry and origin.
    let again = app.post("/suppressions", json!({"email": "bob@customer.io"})).await;
    assert_eq!(again.expect(201)["id"], bob["id"]);
    assert_eq!(app.get("/suppressions/bob@customer.io").await.body["origin"], "bounce");

    // Removing an entry lets mail through again.
    let removed = app.delete("/suppressions/ann%40customer.io").await.expect(200).clone();
    assert_eq!(removed, json!({"object": "suppression", "id": ann, "deleted": true}));
    app.get(&format!("/suppressions/{ann}")).await.expect(404);
    let second = send(&app, "ann@customer.io").await;
    app.drain().await;
    assert_eq!(last_event(&app, &second).await, "delivered");
    assert_eq!(sink.received().len(), 1);

    // Another team sees none of it.
    let other = app.other_team_key().await;
    for path in ["/suppressions/bob@customer.io".to_string(), format!("/suppressions/{}", bob["id"].as_str().unwrap())]
    {
        app.request_as(&other, Method::GET, &path, None, &[]).await.expect_error(404, "not_found");
    }
    assert_eq!(app.request_as(&other, Method::GET, "/suppressions", None, &[]).await.body["data"], json!([]));
    app.request_as(&other, Method::DELETE, "/suppressions/bob@customer.io", None, &[]).await.expect(404);
    app.get("/suppressions/bob@customer.io").await.expect(200);
}

async fn batches_add_and_remove_up_to_a_hundred_and_bad_input_changes_nothing(app: TestApp) {
    let added = app.post("/suppressions/batch/add", json!({"emails": ["a@x.io", "B@x.io", "b@x.io", "c@x.io"]})).await;
    let data = added.expect(201)["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 3, "one entry per address");
    assert!(data.iter().all(|d| d["object"] == "suppression"));

    for body in [
        json!({"emails": []}),
        json!({"emails": (0..101).map(|i| format!("u{i}@x.io")).collect::<Vec<_>>()}),
        json!({"emails": ["d@x.io", "not an address"]}),
        json!({"emails": "d@x.io"}),
    ] {
        app.post("/suppressions/batch/add", body).await.expect_error(400, "validation_error");
    }
    app.post("/suppressions/batch/add", json!({})).await.expect_error(422, "missing_required_field");
    app.get("/suppressions/d@x.io").await.expect(404);
    app.post("/suppressions", json!({"email": "nope"})).await.expect_error(400, "validation_error");
    app.post("/suppressions", json!({})).await.expect_error(422, "missing_required_field");

    let both = json!({"emails": ["a@x.io"], "ids": [data[0]["id"]]});
    app.post("/suppressions/batch/remove", both).await.expect_error(400, "validation_error");
    app.post("/suppressions/batch/remove", json!({})).await.expect_error(422, "missing_required_field");
    app.post("/suppressions/batch/remove", json!({"ids": ["not-a-uuid"]})).await.expect_error(422, "invalid_parameter");
    assert_eq!(app.get("/suppressions").await.body["data"].as_array().unwrap().len(), 3, "nothing changed");

    let by_ids = app.post("/suppressions/batch/remove", json!({"ids": [data[0]["id"], data[1]["id"]]})).await;
    let removed = by_ids.expect(200)["data"].as_array().unwrap().clone();
    assert_eq!(removed.len(), 2);
    assert!(removed.iter().all(|r| r["deleted"] == true));
    let by_emails = app.post("/suppressions/batch/remove", json!({"emails": ["C@x.io", "never@x.io"]})).await;
    assert_eq!(by_emails.expect(200)["data"].as_array().unwrap().len(), 1, "only entries that existed");
    assert_eq!(app.get("/suppressions").await.body["data"], json!([]));
}
