//! Segments, their deprecated audience name, and topics through the API: the contract's
//! paths, the SDK-only ones, and the request shapes the SDKs send.

use postline_testkit::{TestApp, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    segments_and_audiences_are_one_thing_with_the_sdk_only_paths,
    contacts_join_and_leave_segments,
    topics_keep_their_default_and_contacts_choose,
);

fn id(body: &Value) -> String {
    body["id"].as_str().unwrap().to_string()
}

async fn segments_and_audiences_are_one_thing_with_the_sdk_only_paths(app: TestApp) {
    let created = app.post("/segments", json!({"name": "Customers", "filter": {"plan": "pro"}})).await;
    assert_eq!(created.expect(201)["name"], "Customers");
    let segment = id(&created.body);
    let shown = app.get(&format!("/segments/{segment}")).await.expect(200).clone();
    assert_eq!((shown["object"].clone(), shown["filter"].clone()), (json!("segment"), json!({"plan": "pro"})));
    let audience = app.get(&format!("/audiences/{segment}")).await.expect(200).clone();
    assert_eq!((audience["object"].clone(), audience["name"].clone()), (json!("audience"), json!("Customers")));
    app.patch(&format!("/segments/{segment}"), json!({"name": "Paying customers"})).await.expect(200);
    assert_eq!(app.get(&format!("/audiences/{segment}")).await.body["name"], "Paying customers");
    let old = app.post("/audiences", json!({"name": "Legacy"})).await;
    assert_eq!(old.expect(201)["object"], "audience");
    assert_eq!(app.get("/segments").await.body["data"].as_array().unwrap().len(), 2, "audiences are segments");

    // Contacts under an audience, as the Python SDK addresses them.
    let contact = app.post(&format!("/audiences/{segment}/contacts"), json!({"email": "ann@example.com"})).await;
    let contact = id(contact.expect(201));
    let members = app.get(&format!("/audiences/{segment}/contacts")).await.body["data"].clone();
    assert_eq!(members[0]["id"], json!(contact));
    let path = format!("/audiences/{segment}/contacts/ann%40example.com");
    assert_eq!(app.get(&path).await.expect(200)["id"], json!(contact));
    app.patch(&path, json!({"first_name": "Ann", "audience_id": segment})).await.expect(200);
    assert_eq!(app.get(&format!("/contacts/{contact}")).await.body["first_name"], "Ann");
    let removed = app.request(Method::DELETE, &path, None).await.expect(200).clone();
    assert_eq!(removed["deleted"], true);
    app.get(&format!("/contacts/{contact}")).await.expect(404);
    let unknown = uuid::Uuid::now_v7();
    app.post(&format!("/audiences/{unknown}/contacts"), json!({"email": "bob@example.com"})).await.expect(404);
    app.get("/contacts/bob@example.com").await.expect(404);

    app.post("/segments", json!({})).await.expect_error(422, "missing_required_field");
    app.post("/segments", json!({"name": "x".repeat(201)})).await.expect_error(400, "validation_error");
    app.post("/segments", json!({"name": "x", "filter": "plan = pro"})).await.expect_error(400, "validation_error");
    assert_eq!(app.delete(&format!("/audiences/{}", id(&old.body))).await.expect(200)["object"], "audience");
    app.delete(&format!("/segments/{segment}")).await.expect(200);
    app.get(&format!("/segments/{segment}")).await.expect(404);
    let other = app.other_team_key().await;
    let theirs = app.request_as(&other, Method::GET, "/segments", None, &[]).await;
    assert_eq!(theirs.body["data"], json!([]));
}

async fn contacts_join_and_leave_segments(app: TestApp) {
    let segment = id(app.post("/segments", json!({"name": "VIP"})).await.expect(201));
    let contact = id(app.post("/contacts", json!({"email": "ann@example.com"})).await.expect(201));
    let path = format!("/contacts/ann@example.com/segments/{segment}");
    let added = app.request(Method::POST, &path, None).await.expect(200).clone();
    assert_eq!(
        added,
        json!({"object": "contact_segment", "id": segment, "contact_id": contact, "segment_id": segment})
    );
    app.request(Method::POST, &path, None).await.expect(200);
    let listed = app.get(&format!("/contacts/{contact}/segments")).await.expect(200).clone();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "adding twice is one membership");
    assert_eq!(app.get(&format!("/contacts?segment_id={segment}")).await.body["data"][0]["id"], json!(contact));
    app.delete(&path).await.expect(200);
    app.delete(&path).await.expect_error(404, "not_found");
    assert_eq!(app.get(&format!("/segments/{segment}/contacts")).await.body["data"], json!([]));
    let unknown = uuid::Uuid::now_v7();
    app.request(Method::POST, &format!("/contacts/{contact}/segments/{unknown}"), None).await.expect(404);
    app.get(&format!("/contacts?segment_id={unknown}")).await.expect(404);
}

async fn topics_keep_their_default_and_contacts_choose(app: TestApp) {
    let news = app.post("/topics", json!({"name": "News", "default_subscription": "opt_in"})).await;
    let news = id(news.expect(201));
    let shown = app.get(&format!("/topics/{news}")).await.expect(200).clone();
    assert_eq!((shown["visibility"].clone(), shown["object"].clone()), (json!("private"), json!("topic")));
    let beta = id(app
        .post("/topics", json!({"name": "Beta", "default_subscription": "opt_out", "visibility": "public", "description": "Early features"}))
        .await
        .expect(201));
    app.patch(&format!("/topics/{news}"), json!({"id": news, "name": "Product news", "visibility": "public"}))
        .await
        .expect(200);
    assert_eq!(app.get(&format!("/topics/{news}")).await.body["name"], "Product news");
    let changed = app.patch(&format!("/topics/{news}"), json!({"default_subscription": "opt_out"})).await;
    changed.expect_error(400, "validation_error");
    for body in [
        json!({"default_subscription": "opt_in"}),
        json!({"name": "x".repeat(51), "default_subscription": "opt_in"}),
        json!({"name": "x", "default_subscription": "sometimes"}),
        json!({"name": "x", "default_subscription": "opt_in", "visibility": "hidden"}),
        json!({"name": "x", "default_subscription": "opt_in", "description": "d".repeat(201)}),
    ] {
        let refused = app.post("/topics", body).await;
        assert!(refused.status == 400 || refused.status == 422, "{:?}", refused.body);
    }

    // A contact who never chose has each topic's default; choices come as the
    // contract's object or the SDKs' bare array.
    app.post("/contacts", json!({"email": "ann@example.com"})).await.expect(201);
    let subscription = |topics: &Value, topic: &str| {
        topics.as_array().unwrap().iter().find(|t| t["id"] == json!(topic)).unwrap()["subscription"].clone()
    };
    let topics = app.get("/contacts/ann@example.com/topics").await.body["data"].clone();
    assert_eq!((subscription(&topics, &news), subscription(&topics, &beta)), (json!("opt_in"), json!("opt_out")));
    let updated = app
        .patch("/contacts/ann@example.com/topics", json!([{"id": beta, "subscription": "opt_in"}]))
        .await
        .expect(200)
        .clone();
    assert_eq!(updated["topics"], json!([{"id": beta, "subscription": "opt_in"}]));
    app.patch("/contacts/ann@example.com/topics", json!({"topics": [{"id": news, "subscription": "opt_out"}]}))
        .await
        .expect(200);
    let topics = app.get("/contacts/ann@example.com/topics").await.body["data"].clone();
    assert_eq!((subscription(&topics, &news), subscription(&topics, &beta)), (json!("opt_out"), json!("opt_in")));
    let bad = app.patch("/contacts/ann@example.com/topics", json!([{"id": news, "subscription": "maybe"}])).await;
    bad.expect_error(400, "validation_error");
    app.patch("/contacts/ann@example.com/topics", json!({})).await.expect_error(422, "missing_required_field");

    app.delete(&format!("/topics/{beta}")).await.expect(200);
    let topics = app.get("/contacts/ann@example.com/topics").await.body["data"].clone();
    assert_eq!(topics.as_array().unwrap().len(), 1, "a deleted topic takes contacts' choices with it");
    app.get(&format!("/topics/{beta}")).await.expect(404);
}
