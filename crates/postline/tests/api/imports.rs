//! Contact imports: a CSV file with a column map becomes contacts in the background —
//! created, updated or skipped, put in segments and given topic choices — with a
//! report of every row that could not be imported, and no `contact.created` events.

use postline_testkit::{TestApp, backend_tests, webhook_receiver::WebhookReceiver};
use serde_json::{Value, json};

backend_tests!(
    a_csv_becomes_contacts_with_a_report_of_the_rows_that_could_not,
    re_importing_skips_or_updates_and_never_duplicates,
    a_wrong_column_map_or_file_is_refused_up_front_and_nothing_is_queued,
    a_large_import_goes_batch_by_batch_in_bounded_steps,
);

async fn import(app: &TestApp, csv: &str, fields: &[(&str, &str)]) -> String {
    let created = app.post_form("/contacts/imports", Some(csv.as_bytes()), fields).await;
    assert_eq!(created.expect(201)["object"], "contact_import");
    created.body["id"].as_str().unwrap().to_string()
}

async fn a_csv_becomes_contacts_with_a_report_of_the_rows_that_could_not(app: TestApp) {
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["contact.created"])).await;
    app.post("/contact-properties", json!({"key": "plan", "type": "string"})).await.expect(201);
    app.post("/contact-properties", json!({"key": "seats", "type": "number"})).await.expect(201);
    let segment =
        app.post("/segments", json!({"name": "Imported"})).await.expect(201)["id"].as_str().unwrap().to_string();
    let topic = app.post("/topics", json!({"name": "News", "default_subscription": "opt_in"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let csv = "Email,First Name,Last Name,Unsubscribed,Plan,Seats\n\
               ann@example.com,Ann,Lee,false,pro,12\n\
               \"Bob, Jr\" <bob@example.com>,Bob,,no,,\n\
               carol@example.com,\"Carol, Anne\",King,yes,free,3\n\
               ,Nobody,,,,\n\
               dave@example.com,Dave,,maybe,,\n\
               erin@example.com,Erin,,,,lots\n";
    let column_map = json!({
        "email": "Email", "first_name": "First Name", "last_name": "Last Name", "unsubscribed": "Unsubscribed",
        "properties": {"plan": {"column": "Plan", "type": "string"}, "seats": {"column": "Seats", "type": "number"}},
    });
    let id = import(
        &app,
        csv,
        &[
            ("column_map", &column_map.to_string()),
            ("segments", &json!([{"id": segment}]).to_string()),
            ("topics", &json!([{"id": topic, "subscription": "opt_out"}]).to_string()),
        ],
    )
    .await;
    let queued = app.get(&format!("/contacts/imports/{id}")).await.expect(200).clone();
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["completed_at"], Value::Null);

    assert_eq!(app.run_imports().await, 1);
    let done = app.get(&format!("/contacts/imports/{id}")).await.expect(200).clone();
    assert_eq!(done["status"], "completed");
    assert!(done["completed_at"].is_string());
    assert_eq!(done["counts"], json!({"total": 6, "created": 2, "updated": 0, "skipped": 0, "failed": 4}));
    let errors: Vec<(u64, String)> = done["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["message"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(errors.iter().map(|(row, _)| *row).collect::<Vec<_>>(), [2, 4, 5, 6], "{errors:?}");
    assert!(errors[0].1.contains("not a valid email"), "{errors:?}");
    assert!(errors[1].1.contains("empty"));
    assert!(errors[2].1.contains("unsubscribed"));
    assert!(errors[3].1.contains("seats"));

    let ann = app.get("/contacts/ann@example.com").await.expect(200).clone();
    assert_eq!((ann["first_name"].clone(), ann["last_name"].clone()), (json!("Ann"), json!("Lee")));
    assert_eq!(ann["properties"], json!({"plan": "pro", "seats": 12}));
    let carol = app.get("/contacts/carol@example.com").await.expect(200).clone();
    assert_eq!(carol["first_name"], "Carol, Anne", "quoted commas are part of the value");
    assert_eq!(carol["unsubscribed"], true);
    let members = app.get(&format!("/segments/{segment}/contacts")).await.body["data"].clone();
    assert_eq!(members.as_array().unwrap().len(), 2, "every imported contact is in the segment");
    let topics = app.get("/contacts/ann@example.com/topics").await.body["data"].clone();
    assert_eq!(topics[0]["subscription"], "opt_out");

    app.dispatch_webhooks().await;
    assert!(receiver.received().is_empty(), "imports do not emit contact.created");
    let listed = app.get("/contacts/imports?status=completed").await.expect(200).clone();
    assert_eq!(listed["data"][0]["id"], json!(id));
    assert_eq!(app.get("/contacts/imports?status=failed").await.body["data"], json!([]));
    app.get("/contacts/imports?status=done").await.expect_error(422, "invalid_parameter");
}

async fn re_importing_skips_or_updates_and_never_duplicates(app: TestApp) {
    app.post("/contacts", json!({"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}))
        .await
        .expect(201);
    // No column map: columns named like the fields, in any case.
    let csv = "EMAIL,first_name\nANN@example.com,Annie\nbob@example.com,Bob\nbob@example.com,Robert\n";
    let skip = import(&app, csv, &[]).await;
    app.run_imports().await;
    let counts = app.get(&format!("/contacts/imports/{skip}")).await.body["counts"].clone();
    assert_eq!(counts, json!({"total": 3, "created": 1, "updated": 0, "skipped": 2, "failed": 0}));
    assert_eq!(app.get("/contacts/ann@example.com").await.body["first_name"], "Ann", "skip leaves contacts alone");

    let upsert = import(&app, csv, &[("on_conflict", "upsert")]).await;
    app.run_imports().await;
    let counts = app.get(&format!("/contacts/imports/{upsert}")).await.body["counts"].clone();
    assert_eq!(counts, json!({"total": 3, "created": 0, "updated": 3, "skipped": 0, "failed": 0}));
    let ann = app.get("/contacts/ann@example.com").await.body.clone();
    assert_eq!(
        (ann["first_name"].clone(), ann["last_name"].clone()),
        (json!("Annie"), json!("Lee")),
        "empty cells keep values"
    );
    assert_eq!(app.get("/contacts/bob@example.com").await.body["first_name"], "Robert");
    assert_eq!(app.get("/contacts").await.body["data"].as_array().unwrap().len(), 2, "one contact per address");
}

async fn a_wrong_column_map_or_file_is_refused_up_front_and_nothing_is_queued(app: TestApp) {
    let csv = "Email,Plan\nann@example.com,pro\n";
    for (fields, status, name) in [
        (vec![("column_map", r#"{"email": "E-mail"}"#)], 400, "validation_error"),
        (
            vec![("column_map", r#"{"email": "Email", "properties": {"plan": {"column": "Plan"}}}"#)],
            400,
            "validation_error",
        ),
        (vec![("column_map", "{not json")], 400, "validation_error"),
        (vec![("on_conflict", "replace")], 400, "validation_error"),
        (vec![("segments", r#"[{"id": "not-a-uuid"}]"#)], 422, "invalid_parameter"),
        (vec![("segments", &json!([uuid::Uuid::now_v7().to_string()]).to_string())], 404, "not_found"),
        (
            vec![("topics", r#"[{"id": "0196e8a4-0000-7000-8000-000000000000", "subscription": "maybe"}]"#)],
            400,
            "validation_error",
        ),
    ] {
        app.post_form("/contacts/imports", Some(csv.as_bytes()), &fields).await.expect_error(status, name);
    }
    app.post_form("/contacts/imports", Some(b"Name\nAnn\n"), &[]).await.expect_error(400, "validation_error");
    app.post_form("/contacts/imports", Some(b""), &[]).await.expect_error(400, "validation_error");
    app.post_form("/contacts/imports", None, &[("on_conflict", "skip")])
        .await
        .expect_error(422, "missing_required_field");
    let json = app.post("/contacts/imports", json!({"file": "Email\na@b.co"})).await;
    json.expect_error(400, "validation_error");
    assert_eq!(app.get("/contacts/imports").await.body["data"], json!([]), "nothing was queued");
    app.get(&format!("/contacts/imports/{}", uuid::Uuid::now_v7())).await.expect_error(404, "not_found");
    let other = app.other_team_key().await;
    let id = import(&app, csv, &[]).await;
    app.request_as(&other, reqwest::Method::GET, &format!("/contacts/imports/{id}"), None, &[])
        .await
        .expect_error(404, "not_found");
}

async fn a_large_import_goes_batch_by_batch_in_bounded_steps(app: TestApp) {
    // Several batches and more than one stored chunk of the file.
    let mut csv = String::from("email,first_name\n");
    let rows = 3_000;
    for i in 0..rows {
        csv.push_str(&format!("user{i}@example.com,{}\n", "x".repeat(400)));
    }
    assert!(csv.len() > 1024 * 1024, "spans two chunks");
    let id = import(&app, &csv, &[]).await;
    app.run_imports().await;
    let done = app.get(&format!("/contacts/imports/{id}")).await.body.clone();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["counts"]["created"], json!(rows));
    assert_eq!(done["counts"]["failed"], json!(0));
    app.get(&format!("/contacts/user{}@example.com", rows - 1)).await.expect(200);
}
