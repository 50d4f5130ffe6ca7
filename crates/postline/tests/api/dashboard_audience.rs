//! The dashboard's Audience pages over HTTP, as a browser without JavaScript uses
//! them, checked against the API: adding contacts by hand (all or nothing), a CSV
//! upload mapped from its preview and imported with its bad row reported, bulk
//! actions, editing and deleting a contact, the properties, segments and topics
//! pages with refusals beside their fields, the unsubscribe page's branding as the
//! real page shows it — and the refusals: another team's ids, forms without the
//! session's token.

use postline_core::users::Role;
use postline_testkit::{TestApp, backend_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dashboard::{Visitor, hidden};

backend_tests!(
    contacts_added_by_hand_are_all_or_nothing_and_existing_ones_only_join_the_segment,
    a_csv_upload_is_mapped_from_its_preview_and_imported_with_its_bad_row_reported,
    bulk_actions_add_to_segments_subscribe_to_topics_and_delete_after_confirming,
    a_contact_is_edited_with_its_properties_segments_and_topics_and_deleted_after_confirming,
    properties_segments_and_topics_are_created_refused_beside_the_field_and_deleted,
    the_unsubscribe_page_branding_is_saved_and_shown_on_the_real_page,
    another_teams_ids_are_not_found_and_forms_without_the_token_change_nothing,
);

const PASSWORD: &str = "audience pages password";

/// A signed-in member of the test team, and the session's CSRF token.
async fn signed_in(app: &TestApp) -> (Visitor, String) {
    app.app.postline.create_user(app.team.id, "ada@acme.dev", PASSWORD, Role::Member, None).await.expect("user");
    let mut visitor = Visitor::new(app);
    let signed = visitor.sign_in("ada@acme.dev", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let page = visitor.get("/dashboard/audience").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page.body, "csrf");
    (visitor, csrf)
}

/// Owned form fields as the `Visitor` posts them.
fn as_pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn id(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_string()
}

async fn create(app: &TestApp, path: &str, body: Value) -> String {
    id(app.post(path, body).await.expect(201))
}

/// The addresses the API lists under `path`.
async fn emails(app: &TestApp, path: &str) -> Vec<String> {
    let mut found: Vec<String> = app.get(path).await.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    found
}

async fn contacts_added_by_hand_are_all_or_nothing_and_existing_ones_only_join_the_segment(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let segment = create(&app, "/segments", json!({"name": "Launch"})).await;
    create(&app, "/contacts", json!({"email": "old@example.com", "first_name": "Old"})).await;
    let form = visitor.get("/dashboard/audience/add").await;
    assert!(form.body.contains("<label for=\"emails\">") && form.body.contains("Launch"), "{}", form.body);

    let typed = "ann@example.com, not-an-address\nbob@";
    let bad =
        visitor.post("/dashboard/audience/add", &[("csrf", &csrf), ("emails", typed), ("segment", &segment)]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("aria-describedby=\"emails-hint emails-error\""), "{}", bad.body);
    assert!(bad.body.contains("<p class=\"field-error\" id=\"emails-error\">These are not valid email addresses: “not-an-address”, “bob@”. Nothing was added"), "{}", bad.body);
    assert!(bad.body.contains(typed), "what was typed is kept");
    assert_eq!(emails(&app, "/contacts").await, ["old@example.com"], "nothing was added");

    let forged = visitor.post("/dashboard/audience/add", &[("emails", "ann@example.com")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(emails(&app, "/contacts").await, ["old@example.com"]);

    let list = "ann@example.com\nBob@Example.com, OLD@example.com,\n\nann@example.com";
    let added =
        visitor.post("/dashboard/audience/add", &[("csrf", &csrf), ("emails", list), ("segment", &segment)]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let location = added.location.unwrap();
    assert_eq!(location, "/dashboard/audience?notice=added-to-segment&n=2&m=1");
    let landed = visitor.get(&location).await.body;
    assert!(
        landed.contains(
            "Added 2 contacts. 1 address was already in your audience: left as it was and put in the segment."
        ),
        "{landed}"
    );
    assert_eq!(emails(&app, "/contacts").await, ["Bob@Example.com", "ann@example.com", "old@example.com"]);
    assert_eq!(
        emails(&app, &format!("/segments/{segment}/contacts")).await,
        ["Bob@Example.com", "ann@example.com", "old@example.com"]
    );
    assert_eq!(app.get("/contacts/old@example.com").await.expect(200)["first_name"], "Old", "left as it was");

    let plain = visitor.post("/dashboard/audience/add", &[("csrf", &csrf), ("emails", "carol@example.com")]).await;
    assert_eq!(plain.location.as_deref(), Some("/dashboard/audience?notice=added&n=1&m=0"));
    assert_eq!(emails(&app, &format!("/segments/{segment}/contacts")).await.len(), 3, "no segment chosen");
}

async fn a_csv_upload_is_mapped_from_its_preview_and_imported_with_its_bad_row_reported(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    app.post("/contact-properties", json!({"key": "plan", "type": "string"})).await.expect(201);
    let segment = create(&app, "/segments", json!({"name": "Imported"})).await;
    let csv = "E-mail,Given name,Plan,Notes\n\
               ann@example.com,Ann,pro,met at the fair\n\
               not-an-address,Bob,free,typo\n\
               carol@example.com,Carol,,\n";
    let page = visitor.get("/dashboard/audience/import").await;
    assert!(
        page.body.contains("enctype=\"multipart/form-data\"") && page.body.contains("at most 50 MB"),
        "{}",
        page.body
    );

    let file = |bytes: &str| ("contacts.csv", bytes.as_bytes().to_vec());
    let forged = visitor.post_multipart("/dashboard/audience/import", &[("csrf", "guessed")], "file", file(csv)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let empty = visitor.post_multipart("/dashboard/audience/import", &[("csrf", &csrf)], "file", file("")).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("id=\"file-error\">Choose a CSV file"), "{}", empty.body);
    let blank = visitor.post_multipart("/dashboard/audience/import", &[("csrf", &csrf)], "file", file(" \n")).await;
    assert!(blank.body.contains("id=\"file-error\">The `file` is empty."), "core's refusal: {}", blank.body);

    let uploaded = visitor.post_multipart("/dashboard/audience/import", &[("csrf", &csrf)], "file", file(csv)).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let location = uploaded.location.unwrap();
    let import = location.strip_prefix("/dashboard/audience/import/").unwrap().to_string();
    assert!(
        app.get("/contacts/imports").await.expect(200)["data"].as_array().unwrap().is_empty(),
        "a draft is no import yet"
    );
    assert_eq!(app.get(&format!("/contacts/imports/{import}")).await.status, 404);

    let mapping = visitor.get(&location).await;
    assert_eq!(mapping.status, StatusCode::OK);
    for guessed in [
        "<select id=\"column.0\" name=\"column.0\"><option value=\"\">Do not import</option><option value=\"email\" selected>",
        "<option value=\"first_name\" selected>First name</option>",
        "<option value=\"property:plan\" selected>Property plan (text)</option>",
    ] {
        assert!(mapping.body.contains(guessed), "{guessed} missing from {}", mapping.body);
    }
    assert!(
        mapping.body.contains("<td>not-an-address</td>") && mapping.body.contains("<td>met at the fair</td>"),
        "the preview"
    );

    let no_email = visitor
        .post(
            &location,
            &[("csrf", &csrf), ("column.0", ""), ("column.1", "first_name"), ("column.2", ""), ("column.3", "")],
        )
        .await;
    assert_eq!(no_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_email.body.contains("id=\"column.0-error\">Choose the column that holds the email addresses."));
    let twice = visitor.post(&location, &[("csrf", &csrf), ("column.0", "email"), ("column.3", "email")]).await;
    assert!(twice.body.contains("id=\"column.3-error\">“email” is already chosen"), "{}", twice.body);
    assert!(app.get("/contacts/imports").await.expect(200)["data"].as_array().unwrap().is_empty(), "nothing queued");

    let mapped = [
        ("csrf", csrf.as_str()),
        ("column.0", "email"),
        ("column.1", "first_name"),
        ("column.2", "property:plan"),
        ("column.3", ""),
        ("segment", segment.as_str()),
    ];
    let started = visitor.post(&location, &mapped).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(started.location.as_deref(), Some(location.as_str()));
    let queued = visitor.get(&location).await.body;
    assert!(queued.contains("queued") && queued.contains(&format!("data-poll=\"{location}/progress\"")), "{queued}");
    assert!(queued.contains("data-settled=\"false\""));
    let again = visitor.post(&location, &mapped).await;
    assert_eq!(again.location.as_deref(), Some(location.as_str()), "sent twice: on to its progress");
    assert_eq!(app.get(&format!("/contacts/imports/{import}")).await.expect(200)["status"], "queued");

    assert_eq!(app.run_imports().await, 1);
    let progress = visitor.get(&format!("{location}/progress")).await;
    assert_eq!(progress.headers["x-settled"], "true");
    assert!(progress.body.contains("completed"), "{}", progress.body);
    assert!(
        progress.body.contains("<tr><td>2</td><td><code>not-an-address</code></td><td>`not-an-address` is not a valid email address</td></tr>"),
        "the bad row with its number, value and reason: {}",
        progress.body
    );
    assert!(
        progress.body.contains("<dt>Created</dt><dd>2</dd>")
            && progress.body.contains("<dt>Could not be imported</dt><dd>1</dd>")
    );
    assert!(visitor.get(&location).await.body.contains("data-settled=\"true\""));

    let ann = app.get("/contacts/ann@example.com").await.expect(200).clone();
    assert_eq!((ann["first_name"].as_str(), ann["properties"]["plan"].as_str()), (Some("Ann"), Some("pro")));
    assert_eq!(emails(&app, &format!("/segments/{segment}/contacts")).await, ["ann@example.com", "carol@example.com"]);
    assert!(visitor.get("/dashboard/audience/import").await.body.contains(&format!("href=\"{location}\"")), "listed");
}

async fn bulk_actions_add_to_segments_subscribe_to_topics_and_delete_after_confirming(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let a = create(&app, "/contacts", json!({"email": "a@example.com"})).await;
    let b = create(&app, "/contacts", json!({"email": "b@example.com"})).await;
    let c = create(&app, "/contacts", json!({"email": "c@example.com"})).await;
    let segment = create(&app, "/segments", json!({"name": "Beta testers"})).await;
    let topic = create(&app, "/topics", json!({"name": "Releases", "default_subscription": "opt_out"})).await;

    let list = visitor.get("/dashboard/audience").await.body;
    assert!(list.contains("<form id=\"bulk\" method=\"post\" action=\"/dashboard/audience/bulk\">"), "{list}");
    assert!(list.contains(&format!("name=\"contact\" value=\"{a}\" aria-label=\"Select a@example.com\"")));

    let none = visitor.post("/dashboard/audience/bulk", &[("csrf", &csrf), ("action", "segments")]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains("Tick the contacts"));

    let pick = |action: &'static str, ids: &[&String]| {
        let mut form = vec![("csrf", csrf.clone()), ("action", action.to_string())];
        form.extend(ids.iter().map(|id| ("contact", id.to_string())));
        form
    };

    let choose = visitor.post("/dashboard/audience/bulk", &as_pairs(&pick("segments", &[&a, &b]))).await;
    assert_eq!(choose.status, StatusCode::OK, "{}", choose.body);
    assert!(
        choose.body.contains(&format!("name=\"segment\" value=\"{segment}\"")) && choose.body.contains("Beta testers")
    );
    assert!(choose.body.contains(&format!("<input type=\"hidden\" name=\"contact\" value=\"{b}\">")));
    let unchosen = visitor.post("/dashboard/audience/bulk/segments", &as_pairs(&pick("", &[&a, &b]))).await;
    assert_eq!(unchosen.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unchosen.body.contains("id=\"segment-error\">Choose at least one segment."));
    let mut form = pick("", &[&a, &b]);
    form.push(("segment", segment.clone()));
    let added = visitor.post("/dashboard/audience/bulk/segments", &as_pairs(&form)).await;
    assert_eq!(added.location.as_deref(), Some("/dashboard/audience?notice=segmented&n=2"));
    assert_eq!(emails(&app, &format!("/segments/{segment}/contacts")).await, ["a@example.com", "b@example.com"]);

    let choose = visitor.post("/dashboard/audience/bulk", &as_pairs(&pick("topics", &[&b, &c]))).await;
    assert!(choose.body.contains(&format!("name=\"topic\" value=\"{topic}\"")), "{}", choose.body);
    let mut form = pick("", &[&b, &c]);
    form.push(("topic", topic.clone()));
    let subscribed = visitor.post("/dashboard/audience/bulk/topics", &as_pairs(&form)).await;
    assert_eq!(subscribed.location.as_deref(), Some("/dashboard/audience?notice=subscribed&n=2"));
    let subscription = |contact: String| {
        let app = &app;
        async move { app.get(&format!("/contacts/{contact}/topics")).await.expect(200)["data"][0]["subscription"].clone() }
    };
    assert_eq!(subscription(b.clone()).await, "opt_in");
    assert_eq!(subscription(c.clone()).await, "opt_in");
    assert_eq!(subscription(a.clone()).await, "opt_out", "not selected: the topic's default");

    let confirm = visitor.post("/dashboard/audience/bulk", &as_pairs(&pick("delete", &[&a, &c]))).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Delete these contacts?") && confirm.body.contains("Delete 2 contacts"),
        "{}",
        confirm.body
    );
    assert_eq!(emails(&app, "/contacts").await.len(), 3, "the confirmation changes nothing");
    let deleted = visitor.post("/dashboard/audience/bulk/delete", &as_pairs(&pick("", &[&a, &c]))).await;
    assert_eq!(deleted.location.as_deref(), Some("/dashboard/audience?notice=deleted&n=2"));
    assert_eq!(emails(&app, "/contacts").await, ["b@example.com"]);
    assert!(visitor.get("/dashboard/audience?notice=deleted&n=2").await.body.contains("Deleted 2 contacts."));
}

async fn a_contact_is_edited_with_its_properties_segments_and_topics_and_deleted_after_confirming(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    app.post("/contact-properties", json!({"key": "plan", "type": "string"})).await.expect(201);
    app.post("/contact-properties", json!({"key": "seats", "type": "number"})).await.expect(201);
    let first = create(&app, "/segments", json!({"name": "First"})).await;
    let second = create(&app, "/segments", json!({"name": "Second"})).await;
    let news = create(&app, "/topics", json!({"name": "News", "default_subscription": "opt_in"})).await;
    let offers = create(&app, "/topics", json!({"name": "Offers", "default_subscription": "opt_out"})).await;
    let contact =
        create(&app, "/contacts", json!({"email": "ann@example.com", "first_name": "Ann", "segments": [first]})).await;

    let detail = visitor.get(&format!("/dashboard/audience/{contact}")).await.body;
    assert!(detail.contains(&format!("href=\"/dashboard/audience/{contact}/edit\">Edit contact</a>")));
    let edit = format!("/dashboard/audience/{contact}/edit");
    let page = visitor.get(&edit).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"first_name\" type=\"text\" name=\"first_name\" value=\"Ann\""), "{}", page.body);
    assert!(page.body.contains("<label for=\"prop.seats\">seats</label>"));
    assert!(page.body.contains(&format!("name=\"segment\" value=\"{first}\" checked")));
    assert!(page.body.contains(&format!("name=\"topic.{offers}\" value=\"opt_out\" checked")));

    let news_field = format!("topic.{news}");
    let offers_field = format!("topic.{offers}");
    let refused = visitor
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("first_name", "Annie"),
                ("prop.plan", "pro"),
                ("prop.seats", "lots"),
                ("segment", &second),
                (&news_field, "opt_in"),
                (&offers_field, "opt_in"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("aria-describedby=\"prop.seats-hint prop.seats-error\""), "{}", refused.body);
    assert!(refused.body.contains("id=\"prop.seats-error\">The value of `seats` must be a number"), "{}", refused.body);
    assert!(refused.body.contains("value=\"Annie\"") && refused.body.contains("value=\"lots\""), "input kept");
    let unchanged = app.get(&format!("/contacts/{contact}")).await.expect(200).clone();
    assert_eq!(unchanged["first_name"], "Ann", "nothing changed");
    assert_eq!(
        app.get(&format!("/contacts/{contact}/segments")).await.expect(200)["data"].as_array().unwrap().len(),
        1
    );

    let saved = visitor
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("first_name", "Annie"),
                ("last_name", "Lee"),
                ("prop.plan", "pro"),
                ("prop.seats", "12"),
                ("unsubscribed", "on"),
                ("segment", &second),
                (&news_field, "opt_in"),
                (&offers_field, "opt_in"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location, Some(format!("/dashboard/audience/{contact}")));
    let api = app.get(&format!("/contacts/{contact}")).await.expect(200).clone();
    assert_eq!((api["first_name"].as_str(), api["last_name"].as_str()), (Some("Annie"), Some("Lee")));
    assert_eq!(api["unsubscribed"], true);
    assert_eq!(api["properties"], json!({"plan": "pro", "seats": 12}));
    let segments = app.get(&format!("/contacts/{contact}/segments")).await.expect(200)["data"].clone();
    assert_eq!(
        segments.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect::<Vec<_>>(),
        [second.as_str()]
    );
    let topics = app.get(&format!("/contacts/{contact}/topics")).await.expect(200)["data"].clone();
    for topic in topics.as_array().unwrap() {
        assert_eq!(topic["subscription"], "opt_in", "{topic}");
    }

    let confirm = visitor.get(&format!("/dashboard/audience/{contact}/delete")).await;
    assert!(confirm.body.contains("Delete ann@example.com?"), "{}", confirm.body);
    app.get(&format!("/contacts/{contact}")).await.expect(200);
    let deleted = visitor.post(&format!("/dashboard/audience/{contact}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.location.as_deref(), Some("/dashboard/audience?notice=deleted&n=1"));
    assert_eq!(app.get(&format!("/contacts/{contact}")).await.status, 404);
}

async fn properties_segments_and_topics_are_created_refused_beside_the_field_and_deleted(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let properties = visitor.get("/dashboard/audience/properties").await.body;
    assert!(
        properties.contains("No custom properties yet.") && properties.contains("aria-current=\"page\">Properties")
    );
    let bad_key = visitor
        .post("/dashboard/audience/properties", &[("csrf", &csrf), ("key", "company-name"), ("type", "string")])
        .await;
    assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_key.body.contains("id=\"key-error\">The `key` must be 1 to 50 letters, digits or underscores"),
        "{}",
        bad_key.body
    );
    assert!(bad_key.body.contains("value=\"company-name\""));
    let bad_fallback = visitor
        .post(
            "/dashboard/audience/properties",
            &[("csrf", &csrf), ("key", "seats"), ("type", "number"), ("fallback_value", "many")],
        )
        .await;
    assert!(
        bad_fallback.body.contains("id=\"fallback_value-error\">The `fallback_value` must be a number"),
        "{}",
        bad_fallback.body
    );
    assert!(app.get("/contact-properties").await.expect(200)["data"].as_array().unwrap().is_empty());
    let created = visitor
        .post(
            "/dashboard/audience/properties",
            &[("csrf", &csrf), ("key", "company_name"), ("type", "string"), ("fallback_value", "Acme")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let listed = app.get("/contact-properties").await.expect(200)["data"][0].clone();
    assert_eq!((listed["key"].as_str(), listed["fallback_value"].as_str()), (Some("company_name"), Some("Acme")));
    let page = visitor.get("/dashboard/audience/properties").await.body;
    assert!(page.contains("<code>company_name</code>") && page.contains("<td>Acme</td>"), "{page}");
    let property = id(&listed);
    let removed = visitor.post(&format!("/dashboard/audience/properties/{property}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.location.as_deref(), Some("/dashboard/audience/properties"));
    assert!(app.get("/contact-properties").await.expect(200)["data"].as_array().unwrap().is_empty());

    let unnamed = visitor.post("/dashboard/audience/segments", &[("csrf", &csrf), ("name", " ")]).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unnamed.body.contains("id=\"name-error\">The `name` must be 1 to 200 characters."), "{}", unnamed.body);
    let made = visitor.post("/dashboard/audience/segments", &[("csrf", &csrf), ("name", "VIP")]).await;
    assert_eq!(made.location.as_deref(), Some("/dashboard/audience/segments"));
    let segment = id(&app.get("/segments").await.expect(200)["data"][0]);
    let contact = create(&app, "/contacts", json!({"email": "vip@example.com", "segments": [segment]})).await;
    create(&app, "/contacts", json!({"email": "plain@example.com"})).await;
    let page = visitor.get("/dashboard/audience/segments").await.body;
    assert!(
        page.contains(&format!(
            "<a href=\"/dashboard/audience?segment={segment}\">VIP</a></td><td class=\"count\">1</td>"
        )),
        "{page}"
    );
    let removed = visitor.post(&format!("/dashboard/audience/segments/{segment}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.location.as_deref(), Some("/dashboard/audience/segments"));
    assert_eq!(app.get(&format!("/segments/{segment}")).await.status, 404);
    app.get(&format!("/contacts/{contact}")).await.expect(200);

    let unnamed = visitor
        .post(
            "/dashboard/audience/topics",
            &[("csrf", &csrf), ("default_subscription", "opt_in"), ("visibility", "public")],
        )
        .await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unnamed.body.contains("id=\"name-error\">This field is required."), "{}", unnamed.body);
    let made = visitor
        .post(
            "/dashboard/audience/topics",
            &[
                ("csrf", &csrf),
                ("name", "Product news"),
                ("description", "Monthly"),
                ("default_subscription", "opt_out"),
                ("visibility", "public"),
            ],
        )
        .await;
    assert_eq!(made.location.as_deref(), Some("/dashboard/audience/topics"));
    let topic = app.get("/topics").await.expect(200)["data"][0].clone();
    assert_eq!(
        (topic["default_subscription"].as_str(), topic["visibility"].as_str()),
        (Some("opt_out"), Some("public"))
    );
    let topic = id(&topic);
    let edit = format!("/dashboard/audience/topics/{topic}");
    let page = visitor.get(&edit).await.body;
    assert!(page.contains("Not subscribed (opt-out)") && page.contains("value=\"Monthly\""), "{page}");
    let emptied = visitor.post(&edit, &[("csrf", &csrf), ("name", ""), ("visibility", "private")]).await;
    assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(emptied.body.contains("id=\"name-error\">A topic's `name` cannot be empty."), "{}", emptied.body);
    let renamed =
        visitor.post(&edit, &[("csrf", &csrf), ("name", "News"), ("description", ""), ("visibility", "private")]).await;
    assert_eq!(renamed.location.as_deref(), Some("/dashboard/audience/topics"));
    let api = app.get(&format!("/topics/{topic}")).await.expect(200).clone();
    assert_eq!((api["name"].as_str(), api["visibility"].as_str()), (Some("News"), Some("private")));
    let removed = visitor.post(&format!("{edit}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.location.as_deref(), Some("/dashboard/audience/topics"));
    assert_eq!(app.get(&format!("/topics/{topic}")).await.status, 404);
}

async fn the_unsubscribe_page_branding_is_saved_and_shown_on_the_real_page(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let page = visitor.get("/dashboard/audience/unsubscribe-page").await.body;
    assert!(page.contains("value=\"Email preferences\"") && page.contains("value=\"#f6f6f7\""), "{page}");
    let marker = "/unsubscribe/";
    let at = page.find(marker).expect("a preview link");
    let token = page[at + marker.len()..].split('"').next().unwrap().to_string();

    let bad = visitor
        .post(
            "/dashboard/audience/unsubscribe-page",
            &[("csrf", &csrf), ("title", "Acme news"), ("accent_color", "red")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"accent_color-error\">The `accent_color` must be a hex colour"), "{}", bad.body);
    assert!(bad.body.contains("value=\"Acme news\""), "kept");
    let script = visitor
        .post("/dashboard/audience/unsubscribe-page", &[("csrf", &csrf), ("logo_url", "javascript:alert(1)")])
        .await;
    assert!(script.body.contains("id=\"logo_url-error\""), "{}", script.body);
    assert_eq!(app.get("/unsubscribe-page").await.expect(200)["title"], "Email preferences", "nothing saved");

    let saved = visitor
        .post(
            "/dashboard/audience/unsubscribe-page",
            &[
                ("csrf", &csrf),
                ("company_name", "Acme"),
                ("logo_url", "https://acme.dev/logo.png"),
                ("title", "Acme news"),
                ("save_button", "Keep these"),
                ("unsubscribe_button", "Leave everything"),
                ("saved_message", ""),
                ("unsubscribed_message", "Sorry to see you go."),
                ("description", "Pick what you get from Acme."),
                ("background_color", "#fafafa"),
                ("text_color", "#222222"),
                ("accent_color", "#ff5500"),
            ],
        )
        .await;
    assert_eq!(saved.location.as_deref(), Some("/dashboard/audience/unsubscribe-page?notice=saved"));
    let api = app.get("/unsubscribe-page").await.expect(200).clone();
    assert_eq!((api["title"].as_str(), api["accent_color"].as_str()), (Some("Acme news"), Some("#ff5500")));
    assert_eq!(api["saved_message"], "Your preferences have been saved.", "empty: the default");
    assert!(visitor.get("/dashboard/audience/unsubscribe-page?notice=saved").await.body.contains("Saved."));

    let real = reqwest::get(format!("{}/unsubscribe/{token}", app.base_url)).await.unwrap();
    assert_eq!(real.status(), StatusCode::OK);
    let real = real.text().await.unwrap();
    for expected in [
        "Acme news",
        "Pick what you get from Acme.",
        "Leave everything",
        "#ff5500",
        "https://acme.dev/logo.png",
        "ada@acme.dev",
    ] {
        assert!(real.contains(expected), "{expected} missing from the real page: {real}");
    }
}

async fn another_teams_ids_are_not_found_and_forms_without_the_token_change_nothing(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let core = &app.app.postline;
    let other = core.create_team("Other team").await.unwrap();
    let theirs = core.create_contact(other.id, &json!({"email": "theirs@example.org"}), None).await.unwrap().id;
    let their_segment = core.create_segment(other.id, &json!({"name": "Theirs"})).await.unwrap().id;
    let their_topic =
        core.create_topic(other.id, &json!({"name": "Theirs", "default_subscription": "opt_in"})).await.unwrap().id;
    let their_property =
        core.create_contact_property(other.id, &json!({"key": "theirs", "type": "string"})).await.unwrap().id;
    let their_import = core.upload_contact_import(other.id, b"email\nx@example.org\n").await.unwrap().id;
    let ours = create(&app, "/contacts", json!({"email": "ours@example.com"})).await;
    let segment = create(&app, "/segments", json!({"name": "Ours"})).await;

    for path in [
        format!("/dashboard/audience/{theirs}"),
        format!("/dashboard/audience/{theirs}/edit"),
        format!("/dashboard/audience/{theirs}/delete"),
        format!("/dashboard/audience/topics/{their_topic}"),
        format!("/dashboard/audience/import/{their_import}"),
        format!("/dashboard/audience/import/{their_import}/progress"),
    ] {
        assert_eq!(visitor.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let theirs_s = theirs.to_string();
    let their_segment_s = their_segment.to_string();
    for (path, form) in [
        (format!("/dashboard/audience/{theirs}/edit"), vec![("first_name", "Mine")]),
        (format!("/dashboard/audience/{theirs}/delete"), vec![]),
        ("/dashboard/audience/bulk".to_string(), vec![("action", "delete"), ("contact", theirs_s.as_str())]),
        (
            "/dashboard/audience/bulk/delete".to_string(),
            vec![("contact", ours.as_str()), ("contact", theirs_s.as_str())],
        ),
        (
            "/dashboard/audience/bulk/segments".to_string(),
            vec![("contact", ours.as_str()), ("segment", their_segment_s.as_str())],
        ),
        (format!("/dashboard/audience/segments/{their_segment}/delete"), vec![]),
        (format!("/dashboard/audience/topics/{their_topic}"), vec![("name", "Mine"), ("visibility", "public")]),
        (format!("/dashboard/audience/topics/{their_topic}/delete"), vec![]),
        (format!("/dashboard/audience/properties/{their_property}/delete"), vec![]),
        (format!("/dashboard/audience/import/{their_import}"), vec![("column.0", "email")]),
    ] {
        let mut with_token = vec![("csrf", csrf.as_str())];
        with_token.extend(form);
        assert_eq!(visitor.post(&path, &with_token).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(core.get_contact(other.id, &theirs_s).await.unwrap().first_name, None, "theirs unchanged");
    core.get_segment(other.id, their_segment).await.unwrap();
    assert_eq!(core.get_topic(other.id, their_topic).await.unwrap().name, "Theirs");
    core.get_contact_property(other.id, their_property).await.unwrap();
    core.contact_import_draft(other.id, their_import).await.expect("still a draft");
    app.get(&format!("/contacts/{ours}")).await.expect(200);
    assert!(emails(&app, &format!("/segments/{segment}/contacts")).await.is_empty());

    // Without the session's token nothing changes, on every form of the section.
    let topic = create(&app, "/topics", json!({"name": "News", "default_subscription": "opt_out"})).await;
    for (path, form) in [
        ("/dashboard/audience/add".to_string(), vec![("emails", "new@example.com")]),
        ("/dashboard/audience/bulk".to_string(), vec![("action", "delete"), ("contact", ours.as_str())]),
        (
            "/dashboard/audience/bulk/segments".to_string(),
            vec![("contact", ours.as_str()), ("segment", segment.as_str())],
        ),
        ("/dashboard/audience/bulk/topics".to_string(), vec![("contact", ours.as_str()), ("topic", topic.as_str())]),
        ("/dashboard/audience/bulk/delete".to_string(), vec![("contact", ours.as_str())]),
        (format!("/dashboard/audience/{ours}/edit"), vec![("first_name", "Forged")]),
        (format!("/dashboard/audience/{ours}/delete"), vec![]),
        ("/dashboard/audience/properties".to_string(), vec![("key", "forged"), ("type", "string")]),
        ("/dashboard/audience/segments".to_string(), vec![("name", "Forged")]),
        (format!("/dashboard/audience/segments/{segment}/delete"), vec![]),
        ("/dashboard/audience/topics".to_string(), vec![("name", "Forged"), ("default_subscription", "opt_in")]),
        (format!("/dashboard/audience/topics/{topic}"), vec![("name", "Forged")]),
        (format!("/dashboard/audience/topics/{topic}/delete"), vec![]),
        ("/dashboard/audience/unsubscribe-page".to_string(), vec![("title", "Forged")]),
    ] {
        let mut forged = vec![("csrf", "not the token")];
        forged.extend(form);
        assert_eq!(visitor.post(&path, &forged).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let contact = app.get(&format!("/contacts/{ours}")).await.expect(200).clone();
    assert_eq!(contact["first_name"], Value::Null);
    assert_eq!(emails(&app, "/contacts").await, ["ours@example.com"]);
    assert!(emails(&app, &format!("/segments/{segment}/contacts")).await.is_empty());
    assert_eq!(app.get(&format!("/contacts/{ours}/topics")).await.expect(200)["data"][0]["subscription"], "opt_out");
    assert!(app.get("/contact-properties").await.expect(200)["data"].as_array().unwrap().is_empty());
    assert_eq!(app.get("/segments").await.expect(200)["data"].as_array().unwrap().len(), 1);
    assert_eq!(app.get(&format!("/topics/{topic}")).await.expect(200)["name"], "News");
    assert_eq!(app.get("/unsubscribe-page").await.expect(200)["title"], "Email preferences");
}
