//! Templates: drafts and published versions with typed variables, addressed by id or
//! alias, and `POST /emails` (and batch) with `template` rendering the published
//! version with the call's variables — missing, unknown or mistyped ones are clear
//! errors and nothing is queued.

use postline_testkit::{TestApp, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    templates_are_drafted_published_duplicated_and_deleted_by_id_or_alias,
    sending_with_a_template_renders_the_published_version_with_typed_variables,
    bad_template_sends_are_clear_errors_and_queue_nothing,
);

fn welcome() -> Value {
    json!({
        "name": "Welcome", "alias": "welcome", "from": "Acme <hello@anything.dev>",
        "subject": "Welcome, {{{NAME}}}", "reply_to": ["help@anything.dev"],
        "html": "<p>Hi {{{NAME}}}, you have {{{SEATS}}} seats on the {{{PLAN|free}}} plan.</p>",
        "text": "Hi {{{NAME}}}",
        "variables": [
            {"key": "NAME", "type": "string"},
            {"key": "SEATS", "type": "number", "fallback_value": 1},
            {"key": "PLAN", "type": "string"}
        ]
    })
}

async fn create(app: &TestApp, body: Value) -> String {
    let created = app.post("/templates", body).await.expect(201).clone();
    assert_eq!(created["object"], "template");
    created["id"].as_str().unwrap().to_string()
}

async fn templates_are_drafted_published_duplicated_and_deleted_by_id_or_alias(app: TestApp) {
    let id = create(&app, welcome()).await;
    let shown = app.get(&format!("/templates/{id}")).await.expect(200).clone();
    assert_eq!((shown["status"].clone(), shown["published_at"].clone()), (json!("draft"), Value::Null));
    assert_eq!(shown["has_unpublished_versions"], true);
    assert_eq!(shown["alias"], "welcome");
    assert_eq!(shown["variables"][1]["fallback_value"], 1);
    assert_eq!(shown["variables"][0]["type"], "string");
    let by_alias = app.get("/templates/welcome").await.expect(200).clone();
    assert_eq!(by_alias["id"], json!(id));

    app.post("/templates/welcome/publish", json!({})).await.expect(200);
    let published = app.get(&format!("/templates/{id}")).await.expect(200).clone();
    assert_eq!(published["status"], "published");
    assert!(published["published_at"].is_string());
    assert_eq!(published["has_unpublished_versions"], false);

    // Editing after publishing starts a new version; sends keep the published one.
    app.patch("/templates/welcome", json!({"subject": "Hello again, {{{NAME}}}", "name": "Welcome v2"}))
        .await
        .expect(200);
    let edited = app.get(&format!("/templates/{id}")).await.expect(200).clone();
    assert_eq!(edited["has_unpublished_versions"], true);
    assert_ne!(edited["current_version_id"], published["current_version_id"]);
    assert_eq!(edited["variables"][0]["id"], published["variables"][0]["id"], "a kept variable keeps its id");
    let sent = app
        .post(
            "/emails",
            json!({"to": "delivered@resend.dev", "template": {"id": "welcome", "variables": {"NAME": "Ann"}}}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get(&format!("/emails/{sent}")).await.body["subject"], "Welcome, Ann", "the published version");

    // A placeholder that is not a variable, a taken alias: refused, nothing changed.
    let undeclared = app.patch(&format!("/templates/{id}"), json!({"html": "<p>{{{COMPANY}}}</p>"})).await;
    undeclared.expect_error(400, "validation_error");
    assert!(undeclared.body["message"].as_str().unwrap().contains("COMPANY"));
    let mut other = welcome();
    other["name"] = json!("Other");
    app.post("/templates", other.clone()).await.expect_error(422, "validation_error");
    other["alias"] = json!("other");
    let other_id = create(&app, other).await;
    app.patch(&format!("/templates/{other_id}"), json!({"alias": "welcome"}))
        .await
        .expect_error(422, "validation_error");
    app.post("/templates", json!({"name": "x"})).await.expect_error(422, "missing_required_field");
    app.post("/templates", json!({"html": "<p>x</p>"})).await.expect_error(422, "missing_required_field");

    let copy =
        app.post("/templates/welcome/duplicate", json!({})).await.expect(200)["id"].as_str().unwrap().to_string();
    let copied = app.get(&format!("/templates/{copy}")).await.expect(200).clone();
    assert_eq!((copied["name"].clone(), copied["status"].clone()), (json!("Welcome v2 (copy)"), json!("draft")));
    assert!(copied.get("alias").is_none(), "aliases are unique: the copy has none");

    let listed = app.get("/templates").await.expect(200).clone();
    let ids: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [copy.as_str(), other_id.as_str(), id.as_str()]);
    let key = app.other_team_key().await;
    app.request_as(&key, reqwest::Method::GET, "/templates/welcome", None, &[]).await.expect_error(404, "not_found");
    app.request_as(&key, reqwest::Method::GET, &format!("/templates/{id}"), None, &[])
        .await
        .expect_error(404, "not_found");

    let removed = app.delete("/templates/welcome").await.expect(200).clone();
    assert_eq!(removed, json!({"object": "template", "id": id, "deleted": true}));
    app.get(&format!("/templates/{id}")).await.expect_error(404, "not_found");
    assert_eq!(
        app.get(&format!("/emails/{sent}")).await.body["subject"],
        "Welcome, Ann",
        "sent emails keep their content"
    );
}

async fn sending_with_a_template_renders_the_published_version_with_typed_variables(app: TestApp) {
    let id = create(&app, welcome()).await;
    app.post(&format!("/templates/{id}/publish"), json!({})).await.expect(200);
    let sent = app
        .post(
            "/emails",
            json!({"to": "delivered@resend.dev", "template": {"id": id, "variables": {"NAME": "Ann & <Co>", "SEATS": 12}}}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let email = app.get(&format!("/emails/{sent}")).await.expect(200).clone();
    assert_eq!(email["from"], "Acme <hello@anything.dev>", "the template's sender");
    assert_eq!(email["subject"], "Welcome, Ann & <Co>");
    assert_eq!(email["reply_to"], json!(["help@anything.dev"]));
    assert_eq!(email["html"], "<p>Hi Ann &amp; &lt;Co&gt;, you have 12 seats on the free plan.</p>");
    assert_eq!(email["text"], "Hi Ann & <Co>");
    app.drain().await;
    assert_eq!(app.get(&format!("/emails/{sent}")).await.body["last_event"], "delivered");

    // The call's own from and subject win; fallbacks fill what is not given; batch works.
    let batch = app
        .post(
            "/emails/batch",
            json!([
                {"from": "Team <team@anything.dev>", "to": "delivered@resend.dev", "subject": "Custom",
                 "template": {"id": "welcome", "variables": {"NAME": "Bo", "PLAN": "pro"}}},
                {"to": "delivered@resend.dev", "template": {"id": "welcome", "variables": {"NAME": "Cy"}}}
            ]),
        )
        .await
        .expect(200)
        .clone();
    let first = app.get(&format!("/emails/{}", batch["data"][0]["id"].as_str().unwrap())).await.expect(200).clone();
    assert_eq!((first["from"].clone(), first["subject"].clone()), (json!("Team <team@anything.dev>"), json!("Custom")));
    assert!(first["html"].as_str().unwrap().contains("1 seats on the pro plan"), "{}", first["html"]);
}

async fn bad_template_sends_are_clear_errors_and_queue_nothing(app: TestApp) {
    let id = create(&app, welcome()).await;
    let send = |template: Value| json!({"to": "delivered@resend.dev", "template": template});
    let not_yet = app.post("/emails", send(json!({"id": id, "variables": {"NAME": "Ann"}}))).await;
    not_yet.expect_error(422, "validation_error");
    assert!(not_yet.body["message"].as_str().unwrap().contains("not been published"));
    app.post(&format!("/templates/{id}/publish"), json!({})).await.expect(200);

    let missing = app.post("/emails", send(json!({"id": id, "variables": {"SEATS": 2}}))).await;
    missing.expect_error(422, "missing_required_field");
    assert!(missing.body["message"].as_str().unwrap().contains("NAME"), "{}", missing.body);
    let unknown = app.post("/emails", send(json!({"id": id, "variables": {"NAME": "a", "NAM": "b"}}))).await;
    unknown.expect_error(400, "validation_error");
    assert!(unknown.body["message"].as_str().unwrap().contains("NAM"));
    app.post("/emails", send(json!({"id": id, "variables": {"NAME": "a", "SEATS": "two"}})))
        .await
        .expect_error(400, "validation_error");
    app.post("/emails", send(json!({"id": "no-such-template", "variables": {}}))).await.expect_error(404, "not_found");
    app.post("/emails", send(json!({"variables": {}}))).await.expect_error(422, "missing_required_field");
    let both =
        json!({"to": "delivered@resend.dev", "html": "<p>x</p>", "template": {"id": id, "variables": {"NAME": "a"}}});
    app.post("/emails", both).await.expect_error(400, "validation_error");
    let key = app.other_team_key().await;
    app.request_as(
        &key,
        reqwest::Method::POST,
        "/emails",
        Some(send(json!({"id": id, "variables": {"NAME": "a"}}))),
        &[],
    )
    .await
    .expect_error(404, "not_found");
    assert_eq!(app.get("/emails").await.body["data"], json!([]), "nothing was queued");
}
