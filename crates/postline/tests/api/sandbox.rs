use postline_testkit::{TestApp, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    test_recipients_play_the_real_services_events,
    real_recipients_go_to_the_mta_not_the_sandbox,
    any_sender_address_works_for_test_recipients,
);

async fn timeline(app: &TestApp, id: &str) -> Vec<String> {
    let events = app.get(&format!("/emails/{id}/events")).await;
    events.expect(200)["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_string()).collect()
}

async fn test_recipients_play_the_real_services_events(app: TestApp) {
    let delivered = app.send_to("delivered+signup@resend.dev").await;
    let bounced = app.send_to("bounced@resend.dev").await;
    let complained = app.send_to("complained+x@resend.dev").await;
    let suppressed = app.send_to("suppressed@resend.dev").await;
    assert_eq!(app.get(&format!("/emails/{delivered}")).await.body["last_event"], "queued");
    assert_eq!(app.drain().await, 4, "the worker attempts each recipient once");
    assert_eq!(app.drain().await, 0, "nothing is attempted twice");

    let last = |body: Value| body["last_event"].as_str().unwrap().to_string();
    assert_eq!(last(app.get(&format!("/emails/{delivered}")).await.body), "delivered");
    assert_eq!(timeline(&app, &delivered).await, ["email.queued", "email.sent", "email.delivered"]);

    assert_eq!(last(app.get(&format!("/emails/{bounced}")).await.body), "bounced");
    assert_eq!(timeline(&app, &bounced).await, ["email.queued", "email.sent", "email.bounced"]);
    let events = app.get(&format!("/emails/{bounced}/events")).await.body;
    let bounce = &events["data"][2]["data"]["bounce"];
    assert_eq!(bounce["type"], "Permanent");
    assert_eq!(bounce["subType"], "General");
    assert!(bounce["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(bounce["diagnosticCode"][0].as_str().unwrap().contains("550"));

    assert_eq!(last(app.get(&format!("/emails/{complained}")).await.body), "complained");
    assert_eq!(
        timeline(&app, &complained).await,
        ["email.queued", "email.sent", "email.delivered", "email.complained"]
    );

    assert_eq!(last(app.get(&format!("/emails/{suppressed}")).await.body), "suppressed");
    assert_eq!(timeline(&app, &suppressed).await, ["email.queued", "email.suppressed"]);
}

async fn real_recipients_go_to_the_mta_not_the_sandbox(app: TestApp) {
    // The test DNS knows neither domain, so the MTA bounces them: proof they left the sandbox.
    app.verified_domain("acme.dev").await;
    let send = |to: &str| json!({"from": "Acme <hello@acme.dev>", "to": to, "subject": "Hello", "text": "Hi"});
    let id =
        app.post("/emails", send("someone@acme-customer.io")).await.expect(200)["id"].as_str().unwrap().to_string();
    // A suppressed+label address is not a test address: it is routed as a real one.
    let labelled =
        app.post("/emails", send("suppressed+x@resend.dev")).await.expect(200)["id"].as_str().unwrap().to_string();
    app.drain().await;
    for id in [id, labelled] {
        let email = app.get(&format!("/emails/{id}")).await;
        assert_eq!(email.body["last_event"], "bounced", "{}", email.body);
        let events = app.get(&format!("/emails/{id}/events")).await.body;
        let bounce = &events["data"].as_array().unwrap().last().unwrap()["data"]["bounce"];
        assert!(bounce["message"].as_str().unwrap().contains("no mail servers"), "{bounce}");
    }
}

async fn any_sender_address_works_for_test_recipients(app: TestApp) {
    for from in ["onboarding@resend.dev", "Me <me@my-startup.dev>", "\"Acme, Inc.\" <noreply@acme.io>"] {
        let response =
            app.post("/emails", json!({"from": from, "to": "delivered@resend.dev", "subject": "s", "text": "t"})).await;
        response.expect(200);
    }
    app.drain().await;
    let list = app.get("/emails").await;
    assert!(list.body["data"].as_array().unwrap().iter().all(|e| e["last_event"] == "delivered"));
}
