//! Contacts and contact properties through the API, as the contract and the SDKs
//! shape them: found by id or by address (raw or percent-encoded), custom properties
//! checked all-or-nothing, one contact per address, `contact.*` events signed and in
//! the contract's shape, and nothing of another team visible.

use postline_testkit::{TestApp, backend_tests, contract::contract, webhook_receiver::WebhookReceiver};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    contacts_are_created_read_listed_changed_and_deleted_by_id_or_address,
    properties_are_checked_before_anything_is_written,
    contact_properties_have_rules_for_keys_types_and_fallbacks,
    one_contact_per_address_and_bad_input_changes_nothing,
    contact_events_reach_subscribed_endpoints_in_the_contracts_shape,
    another_teams_contacts_are_not_found,
);

pub(crate) async fn create(app: &TestApp, body: Value) -> String {
    app.post("/contacts", body).await.expect(201)["id"].as_str().unwrap().to_string()
}

async fn contacts_are_created_read_listed_changed_and_deleted_by_id_or_address(app: TestApp) {
    let id = create(&app, json!({"email": "Ann+news@Example.com", "first_name": "Ann", "last_name": "Lee"})).await;
    let shown = app.get(&format!("/contacts/{id}")).await.expect(200).clone();
    assert_eq!(shown["object"], "contact");
    assert_eq!(shown["email"], "Ann+news@Example.com", "the address as given");
    assert_eq!(shown["first_name"], "Ann");
    assert_eq!(shown["unsubscribed"], false);
    assert_eq!(shown["properties"], json!({}));

    // By address: raw as the Node SDK sends it (a `+` stays a plus), percent-encoded as
    // the Python SDK does, and in any case.
    for path in
        ["/contacts/ann+news@example.com", "/contacts/ann%2Bnews%40example.com", "/contacts/ANN+NEWS@EXAMPLE.COM"]
    {
        assert_eq!(app.get(path).await.expect(200)["id"], json!(id), "{path}");
    }
    app.get("/contacts/ann news@example.com").await.expect(404);

    // Python sends the address (and the id) in the body as well; they are ignored or equal.
    let updated = app
        .patch(
            "/contacts/ann%2Bnews%40example.com",
            json!({"email": "Ann+news@Example.com", "id": id, "audience_id": null, "unsubscribed": true, "first_name": null}),
        )
        .await;
    assert_eq!(updated.expect(200).clone(), json!({"object": "contact", "id": id}));
    let shown = app.get(&format!("/contacts/{id}")).await;
    assert_eq!(shown.body["unsubscribed"], true);
    assert!(shown.body.get("first_name").is_none(), "null clears a name: {}", shown.body);
    assert_eq!(shown.body["last_name"], "Lee", "fields not given are kept");

    let second = create(&app, json!({"email": "bob@example.com"})).await;
    let list = app.get("/contacts?limit=1").await.expect(200).clone();
    assert_eq!(list["object"], "list");
    assert_eq!(list["has_more"], true);
    assert_eq!(list["data"][0]["id"], json!(second), "newest first");
    assert!(list["data"][0].get("properties").is_none(), "list items carry no properties");
    let next = app.get(&format!("/contacts?limit=1&after={second}")).await;
    assert_eq!(next.body["data"][0]["id"], json!(id));
    assert_eq!(next.body["has_more"], false);

    // Changing the address is allowed (the contract has `email` in the update body).
    app.patch(&format!("/contacts/{second}"), json!({"email": "robert@example.com"})).await.expect(200);
    app.get("/contacts/robert@example.com").await.expect(200);
    app.get("/contacts/bob@example.com").await.expect(404);

    let removed = app.request(Method::DELETE, "/contacts/robert@example.com", None).await;
    assert_eq!(
        removed.expect(200).clone(),
        json!({"object": "contact", "id": second, "contact": second, "deleted": true})
    );
    app.get(&format!("/contacts/{second}")).await.expect(404);
    app.delete(&format!("/contacts/{second}")).await.expect(404);
    app.get("/contacts/not-a-uuid").await.expect_error(422, "invalid_parameter");
}

async fn properties_are_checked_before_anything_is_written(app: TestApp) {
    app.post("/contact-properties", json!({"key": "company_name", "type": "string", "fallback_value": "your company"}))
        .await
        .expect(201);
    app.post("/contact-properties", json!({"key": "seats", "type": "number"})).await.expect(201);

    let id =
        create(&app, json!({"email": "ann@example.com", "properties": {"company_name": "Acme", "seats": 12}})).await;
    let shown = app.get(&format!("/contacts/{id}")).await;
    assert_eq!(shown.body["properties"], json!({"company_name": "Acme", "seats": 12}));

    // An unknown key (keys are case-sensitive) or a value of the wrong type fails the
    // whole call, names the key, and changes nothing.
    for (properties, named) in [
        (json!({"CompanyName": "Other"}), "CompanyName"),
        (json!({"company_Name": "Other"}), "company_Name"),
        (json!({"seats": "twelve"}), "seats"),
        (json!({"company_name": 5}), "company_name"),
    ] {
        let refused =
            app.patch(&format!("/contacts/{id}"), json!({"first_name": "Changed", "properties": properties})).await;
        refused.expect_error(400, "validation_error");
        assert!(refused.body["message"].as_str().unwrap().contains(named), "{}", refused.body);
        let refused = app.post("/contacts", json!({"email": "new@example.com", "properties": properties})).await;
        refused.expect_error(400, "validation_error");
    }
    let shown = app.get(&format!("/contacts/{id}")).await;
    assert!(shown.body.get("first_name").is_none(), "the refused update changed nothing");
    assert_eq!(shown.body["properties"], json!({"company_name": "Acme", "seats": 12}));
    app.get("/contacts/new@example.com").await.expect(404);

    // `null` removes a value; a deleted property disappears from contacts, and comes
    // back empty if it is created again.
    app.patch(&format!("/contacts/{id}"), json!({"properties": {"seats": null}})).await.expect(200);
    let properties = app.get("/contact-properties").await.body["data"].clone();
    let company = properties.as_array().unwrap().iter().find(|p| p["key"] == "company_name").unwrap()["id"].clone();
    app.delete(&format!("/contact-properties/{}", company.as_str().unwrap())).await.expect(200);
    assert_eq!(app.get(&format!("/contacts/{id}")).await.body["properties"], json!({}));
    app.post("/contact-properties", json!({"key": "company_name", "type": "string"})).await.expect(201);
    assert_eq!(app.get(&format!("/contacts/{id}")).await.body["properties"], json!({}));
}

async fn contact_properties_have_rules_for_keys_types_and_fallbacks(app: TestApp) {
    let created =
        app.post("/contact-properties", json!({"key": "plan", "type": "string", "fallback_value": "free"})).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["object"], "contact_property");
    let shown = app.get(&format!("/contact-properties/{id}")).await.expect(200).clone();
    assert_eq!(shown["key"], "plan");
    assert_eq!(shown["type"], "string");
    assert_eq!(shown["fallback_value"], "free");

    for (body, name) in [
        (json!({"key": "company-name", "type": "string"}), "validation_error"),
        (json!({"key": "x".repeat(51), "type": "string"}), "validation_error"),
        (json!({"key": "score", "type": "boolean"}), "validation_error"),
        (json!({"key": "score", "type": "number", "fallback_value": "abc"}), "validation_error"),
        (json!({"key": "plan", "type": "string"}), "validation_error"),
        (json!({"key": "email", "type": "string"}), "validation_error"),
        (json!({"type": "string"}), "missing_required_field"),
        (json!({"key": "score"}), "missing_required_field"),
    ] {
        let status = if name == "missing_required_field" { 422 } else { 400 };
        app.post("/contact-properties", body.clone()).await.expect_error(status, name);
    }
    assert!(app.post("/contact-properties", json!({"key": "x".repeat(50), "type": "number"})).await.status == 201);

    app.patch(&format!("/contact-properties/{id}"), json!({"fallback_value": "starter"})).await.expect(200);
    assert_eq!(app.get(&format!("/contact-properties/{id}")).await.body["fallback_value"], "starter");
    app.patch(&format!("/contact-properties/{id}"), json!({"fallback_value": 3}))
        .await
        .expect_error(400, "validation_error");
    app.patch(&format!("/contact-properties/{id}"), json!({"type": "number"}))
        .await
        .expect_error(400, "validation_error");
    app.patch(&format!("/contact-properties/{id}"), json!({"fallback_value": null})).await.expect(200);
    assert!(app.get(&format!("/contact-properties/{id}")).await.body.get("fallback_value").is_none());

    let list = app.get("/contact-properties").await.expect(200).clone();
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    app.delete(&format!("/contact-properties/{id}")).await.expect(200);
    app.get(&format!("/contact-properties/{id}")).await.expect(404);
}

async fn one_contact_per_address_and_bad_input_changes_nothing(app: TestApp) {
    create(&app, json!({"email": "ann@example.com"})).await;
    let again = app.post("/contacts", json!({"email": "ANN@example.com"})).await;
    again.expect_error(400, "validation_error");
    assert!(again.body["message"].as_str().unwrap().contains("already exists"));
    let other = create(&app, json!({"email": "bob@example.com"})).await;
    app.patch(&format!("/contacts/{other}"), json!({"email": "ann@example.com"}))
        .await
        .expect_error(400, "validation_error");

    for (body, status, name) in [
        (json!({}), 422, "missing_required_field"),
        (json!({"email": "not an address"}), 400, "validation_error"),
        (json!({"email": "x@example.com", "unsubscribed": "yes"}), 400, "validation_error"),
        (json!({"email": "x@example.com", "first_name": 5}), 400, "validation_error"),
        (json!({"email": "x@example.com", "first_name": "x".repeat(257)}), 400, "validation_error"),
        (json!({"email": "x@example.com", "segments": ["not-a-uuid"]}), 422, "invalid_parameter"),
        (json!({"email": "x@example.com", "segments": [uuid::Uuid::now_v7().to_string()]}), 404, "not_found"),
        (
            json!({"email": "x@example.com", "topics": [{"id": uuid::Uuid::now_v7().to_string(), "subscription": "opt_in"}]}),
            404,
            "not_found",
        ),
        (json!({"email": "x@example.com", "properties": ["a"]}), 400, "validation_error"),
    ] {
        app.post("/contacts", body.clone()).await.expect_error(status, name);
    }
    app.request(Method::POST, "/contacts", Some(json!(["x@example.com"]))).await.expect_error(400, "validation_error");
    app.get("/contacts/x@example.com").await.expect(404);
    assert_eq!(app.get("/contacts").await.body["data"].as_array().unwrap().len(), 2);
}

async fn contact_events_reach_subscribed_endpoints_in_the_contracts_shape(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["contact.created", "contact.updated", "contact.deleted"])).await;
    let segment =
        app.post("/segments", json!({"name": "Customers"})).await.expect(201)["id"].as_str().unwrap().to_string();
    let id =
        create(&app, json!({"email": "ann@example.com", "first_name": "Ann", "segments": [{"id": segment}]})).await;
    app.patch(&format!("/contacts/{id}"), json!({"unsubscribed": true})).await.expect(200);
    app.delete(&format!("/contacts/{id}")).await.expect(200);
    app.dispatch_webhooks().await;
    let received = receiver.received();
    let types: Vec<&str> = received.iter().map(|d| d.body["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["contact.created", "contact.updated", "contact.deleted"]);
    for delivery in &received {
        assert!(delivery.verified, "signed");
        let schema = match delivery.body["type"].as_str().unwrap() {
            "contact.created" => "ContactCreatedEvent",
            "contact.updated" => "ContactUpdatedEvent",
            _ => "ContactDeletedEvent",
        };
        contract().check_schema(schema, &delivery.body);
        assert_eq!(delivery.body["data"]["id"], json!(id));
        assert_eq!(delivery.body["data"]["email"], "ann@example.com");
        assert_eq!(delivery.body["data"]["segment_ids"], json!([segment]));
        assert_eq!(delivery.body["data"]["audience_id"], json!(segment));
    }
    assert_eq!(received[1].body["data"]["unsubscribed"], true);
}

async fn another_teams_contacts_are_not_found(app: TestApp) {
    let id = create(&app, json!({"email": "ann@example.com"})).await;
    let segment =
        app.post("/segments", json!({"name": "Customers"})).await.expect(201)["id"].as_str().unwrap().to_string();
    let property = app.post("/contact-properties", json!({"key": "plan", "type": "string"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.other_team_key().await;
    for path in [
        format!("/contacts/{id}"),
        "/contacts/ann@example.com".to_string(),
        format!("/segments/{segment}"),
        format!("/contact-properties/{property}"),
        format!("/contacts/{id}/segments"),
    ] {
        app.request_as(&other, Method::GET, &path, None, &[]).await.expect_error(404, "not_found");
    }
    let listed = app.request_as(&other, Method::GET, "/contacts", None, &[]).await;
    assert_eq!(listed.body["data"], json!([]));
    // The other team may have its own contact with the same address.
    let created =
        app.request_as(&other, Method::POST, "/contacts", Some(json!({"email": "ann@example.com"})), &[]).await;
    created.expect(201);
    app.request_as(&other, Method::DELETE, &format!("/contacts/{id}"), None, &[]).await.expect(404);
    app.get(&format!("/contacts/{id}")).await.expect(200);
    let sending = app.key_with("sending_access").await;
    app.request_as(&sending, Method::GET, "/contacts", None, &[]).await.expect_error(401, "restricted_api_key");
}
