//! The dashboard's Broadcasts pages over HTTP, as a browser without JavaScript uses
//! them, checked against the API: a draft written in the editor (refusals beside the
//! field, nothing saved), the live preview personalised and styled by core's own
//! rendering, test emails reaching the SMTP sink, sending only after the
//! confirmation step (scheduled, then sent now), the performance page after real
//! deliveries, a tracked open and a click — and the refusals: another team's ids,
//! forms without the session's token, changes to a broadcast that was sent.

use postline_core::users::Role;
use postline_testkit::{TestApp, backend_tests, smtp_sink::SmtpSink};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    contacts::create as contact,
    dashboard::{Page, Visitor, hidden},
    delivery::app_with,
};

backend_tests!(
    a_draft_is_written_in_the_editor_with_refusals_beside_the_field_and_a_personalised_preview,
    a_test_email_reaches_the_sink_and_a_refused_address_list_is_shown_beside_its_field,
    sending_waits_for_the_confirmation_and_the_stats_page_shows_deliveries_opens_and_clicks,
    another_teams_broadcasts_are_not_found_and_forms_without_the_token_change_nothing,
    members_and_admins_both_write_broadcasts,
);

const PASSWORD: &str = "broadcast pages password";

/// A signed-in user of the test team with `role`, and the session's CSRF token.
async fn signed_in(app: &TestApp, email: &str, role: Role) -> (Visitor, String) {
    app.app.postline.create_user(app.team.id, email, PASSWORD, role, None).await.expect("user");
    let mut visitor = Visitor::new(app);
    let signed = visitor.sign_in(email, PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let page = visitor.get("/dashboard/broadcasts").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page.body, "csrf");
    (visitor, csrf)
}

async fn segment(app: &TestApp, name: &str) -> String {
    app.post("/segments", json!({"name": name})).await.expect(201)["id"].as_str().unwrap().to_string()
}

/// The editor's fields, filled in; `change` replaces or adds fields.
fn editor(csrf: &str, segment: &str, change: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut form: Vec<(&'static str, String)> = [
        ("csrf", csrf),
        ("name", "November news"),
        ("from", "Acme <news@acme.dev>"),
        ("reply_to", "help@acme.dev"),
        ("subject", "News for {{{FIRST_NAME|you}}}"),
        ("preview_text", "Inside: pricing"),
        ("segment_id", segment),
        ("topic_id", ""),
        (
            "markdown",
            "# News\r\n\r\nHi {{{FIRST_NAME|there}}} of {{{company}}}, see [pricing](https://acme.dev/pricing).",
        ),
        ("background_color", "#f6f6f7"),
        ("text_color", "#111111"),
        ("link_color", "#ff5500"),
        ("container_width", "600"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    for (key, value) in change {
        form.retain(|(k, _)| k != key);
        form.push((key, value.to_string()));
    }
    form
}

async fn post(visitor: &mut Visitor, path: &str, form: &[(&'static str, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    visitor.post(path, &pairs).await
}

/// The id in a `/dashboard/broadcasts/{id}?…` redirect.
fn id_from(page: &Page) -> String {
    let location = page.location.as_deref().unwrap_or_else(|| panic!("no redirect: {}", page.body));
    location.trim_start_matches("/dashboard/broadcasts/").split(['?', '/']).next().unwrap().to_string()
}

async fn broadcast(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/broadcasts/{id}")).await.expect(200).clone()
}

async fn count(app: &TestApp) -> usize {
    app.get("/broadcasts").await.expect(200)["data"].as_array().unwrap().len()
}

/// A stat card's number on the performance page.
fn card(body: &str, label: &str) -> String {
    let marker = format!("<span class=\"label\">{label}</span><span class=\"big\">");
    let at = body.find(&marker).unwrap_or_else(|| panic!("no {label} card in {body}"));
    body[at + marker.len()..].split('<').next().unwrap().to_string()
}

async fn a_draft_is_written_in_the_editor_with_refusals_beside_the_field_and_a_personalised_preview(app: TestApp) {
    app.post("/contact-properties", json!({"key": "company", "type": "string", "fallback_value": "your team"}))
        .await
        .expect(201);
    let customers = segment(&app, "Customers").await;
    contact(&app, json!({"email": "ada@acme.dev", "first_name": "Ada", "segments": [customers]})).await;
    let (mut visitor, csrf) = signed_in(&app, "ada@acme.dev", Role::Member).await;

    let list = visitor.get("/dashboard/broadcasts").await;
    assert!(list.body.contains("No broadcasts yet") && list.body.contains("href=\"/dashboard/broadcasts/new\""));
    assert!(list.body.contains("aria-current=\"page\">Broadcasts</a>"), "the section is in the navigation");
    let new = visitor.get("/dashboard/broadcasts/new").await;
    assert_eq!(new.status, StatusCode::OK);
    assert!(new.body.contains("Customers (1 contact)"), "the team's segments with their sizes");
    assert!(new.body.contains("<code>{{{company}}}</code>"), "the team's properties among the placeholders");
    assert!(new.body.contains("<code>{{{RESEND_UNSUBSCRIBE_URL}}}</code>"));
    assert!(new.body.contains("data-preview=\"/dashboard/broadcasts/new/preview\""));

    // Core's refusals, each beside its field, with what was typed kept and nothing saved.
    for (change, field, words) in [
        (("from", "not an address"), "from", "Invalid `from` field"),
        (("segment_id", ""), "segment_id", "Choose the segment to send to."),
        (("link_color", "red"), "link_color", "`style.link_color` must be a hex colour"),
        (("container_width", "5000"), "container_width", "from 320 to 1200"),
    ] {
        let refused = post(&mut visitor, "/dashboard/broadcasts", &editor(&csrf, &customers, &[change])).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", refused.body);
        let error = format!("<p class=\"field-error\" id=\"{field}-error\">");
        assert!(refused.body.contains(&error), "{field}: {}", refused.body);
        assert!(refused.body.contains(words), "{field}: {}", refused.body);
        assert!(refused.body.contains(&format!("{field}-error\"")) && refused.body.contains("aria-invalid=\"true\""));
        assert!(refused.body.contains("value=\"News for {{{FIRST_NAME|you}}}\""), "the input is kept");
    }
    assert_eq!(count(&app).await, 0, "nothing was saved");

    let created = post(&mut visitor, "/dashboard/broadcasts", &editor(&csrf, &customers, &[])).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = id_from(&created);
    assert_eq!(created.location.as_deref(), Some(format!("/dashboard/broadcasts/{id}?notice=created").as_str()));
    let stored = broadcast(&app, &id).await;
    assert_eq!((stored["name"].clone(), stored["status"].clone()), (json!("November news"), json!("draft")));
    assert_eq!(stored["reply_to"], json!(["help@acme.dev"]));
    assert_eq!(stored["style"]["link_color"], "#ff5500", "the style extension, as the API takes it");
    assert!(stored["markdown"].as_str().unwrap().starts_with("# News\n\nHi"), "{stored}");
    assert!(stored["html"].as_str().unwrap().contains("#ff5500"));

    // The editor shows the draft and its preview, personalised for the signed-in user.
    let page = visitor.get(&format!("/dashboard/broadcasts/{id}?notice=created")).await;
    assert!(page.body.contains("Draft created."));
    assert!(page.body.contains("sandbox=\"\"") && page.body.contains("Hi Ada of your team"), "{}", page.body);
    assert!(page.body.contains("Send test email") && page.body.contains(&format!("/dashboard/broadcasts/{id}/send")));

    // The live preview: what is typed, made by core, before anything is saved.
    let typing = editor(
        &csrf,
        &customers,
        &[
            ("markdown", "Hello **{{{FIRST_NAME|there}}}** from {{{company}}}: {{{EMAIL}}}"),
            ("background_color", "#ffeedd"),
            ("subject", ""),
        ],
    );
    let preview = post(&mut visitor, &format!("/dashboard/broadcasts/{id}/preview"), &typing).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(preview.headers["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
    assert!(preview.body.contains("Hello <strong>Ada</strong> from your team: ada@acme.dev"), "{}", preview.body);
    assert!(preview.body.contains("#ffeedd"), "the style: {}", preview.body);
    assert!(preview.body.contains("Inside: pricing"), "the hidden preview text comes first");
    assert_eq!(broadcast(&app, &id).await["markdown"], stored["markdown"], "previewing saves nothing");
    let wrong =
        post(&mut visitor, "/dashboard/broadcasts/new/preview", &editor(&csrf, "", &[("link_color", "red")])).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("`style.link_color`"), "{}", wrong.body);
    let fresh = post(&mut visitor, "/dashboard/broadcasts/new/preview", &editor(&csrf, "", &[("from", "")])).await;
    assert!(fresh.body.contains("Hi Ada of your team"), "a new broadcast previews before it has a sender");

    // Saving changes, duplicating, deleting the copy.
    let saved = post(
        &mut visitor,
        &format!("/dashboard/broadcasts/{id}"),
        &editor(&csrf, &customers, &[("subject", "Big news")]),
    )
    .await;
    assert_eq!(saved.location.as_deref(), Some(format!("/dashboard/broadcasts/{id}?notice=saved").as_str()));
    assert_eq!(broadcast(&app, &id).await["subject"], "Big news");
    let refused =
        post(&mut visitor, &format!("/dashboard/broadcasts/{id}"), &editor(&csrf, &customers, &[("reply_to", "nope")]))
            .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"reply_to-error\""), "{}", refused.body);
    assert_eq!(broadcast(&app, &id).await["reply_to"], json!(["help@acme.dev"]), "unchanged");

    let copied = visitor.post(&format!("/dashboard/broadcasts/{id}/duplicate"), &[("csrf", &csrf)]).await;
    assert_eq!(copied.status, StatusCode::SEE_OTHER);
    let copy = id_from(&copied);
    assert_ne!(copy, id);
    assert_eq!(broadcast(&app, &copy).await["subject"], "Big news");
    let listed = visitor.get("/dashboard/broadcasts").await;
    assert_eq!(listed.body.matches("November news").count(), 2, "{}", listed.body);
    assert!(listed.body.contains(">draft<") && listed.body.contains("Customers"));
    let deleted = visitor.post(&format!("/dashboard/broadcasts/{copy}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.location.as_deref(), Some("/dashboard/broadcasts"));
    app.get(&format!("/broadcasts/{copy}")).await.expect_error(404, "not_found");
}

async fn a_test_email_reaches_the_sink_and_a_refused_address_list_is_shown_beside_its_field(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    app.post("/contact-properties", json!({"key": "company", "type": "string", "fallback_value": "your team"}))
        .await
        .expect(201);
    let customers = segment(&app, "Customers").await;
    contact(&app, json!({"email": "ann@acme-customer.io", "first_name": "Ann"})).await;
    let (mut visitor, csrf) = signed_in(&app, "ada@acme.dev", Role::Member).await;
    let id = id_from(&post(&mut visitor, "/dashboard/broadcasts", &editor(&csrf, &customers, &[])).await);
    let path = format!("/dashboard/broadcasts/{id}/test");

    let empty = visitor.post(&path, &[("csrf", &csrf), ("to", " ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("id=\"to-error\"") && empty.body.contains("Enter 1 to 5 addresses"), "{}", empty.body);
    let six: Vec<String> = (0..6).map(|n| format!("t{n}@acme-customer.io")).collect();
    let many = visitor.post(&path, &[("csrf", &csrf), ("to", &six.join(", "))]).await;
    assert_eq!(many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(many.body.contains("1 to 5 addresses"), "{}", many.body);
    assert!(many.body.contains(&format!("value=\"{}\"", six.join(", "))), "what was typed is kept");
    assert_eq!(app.drain().await, 0, "nothing was sent");

    let sent = visitor.post(&path, &[("csrf", &csrf), ("to", "ann@acme-customer.io, zed@acme-customer.io")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(sent.location.as_deref(), Some(format!("/dashboard/broadcasts/{id}?notice=tested&n=2").as_str()));
    app.drain().await;
    let mut received: Vec<(String, String)> =
        sink.received().iter().map(|m| (m.recipients.join(","), m.text())).collect();
    received.sort();
    assert_eq!(received.len(), 2, "{received:?}");
    let (ann, zed) = (&received[0].1, &received[1].1);
    assert!(ann.contains("Subject: News for Ann") && ann.contains("Hi Ann of your team"), "{ann}");
    assert!(zed.contains("Subject: News for you") && zed.contains("Hi there of your team"), "{zed}");
    assert!(!ann.contains("help@acme.dev"), "test emails leave the reply-to out: {ann}");
    let page = visitor.get(sent.location.as_deref().unwrap()).await;
    assert!(page.body.contains("Test email sent to 2 addresses."));
    assert_eq!(broadcast(&app, &id).await["status"], "draft", "a test leaves the broadcast a draft");
}

async fn sending_waits_for_the_confirmation_and_the_stats_page_shows_deliveries_opens_and_clicks(app: TestApp) {
    use crate::tracking::{BROWSER, hrefs, parts, pixel, track};
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    track(&app, None).await;
    app.post("/contact-properties", json!({"key": "company", "type": "string"})).await.expect(201);
    let customers = segment(&app, "Customers").await;
    for email in ["ann@acme-customer.io", "bob@acme-customer.io"] {
        contact(&app, json!({"email": email, "segments": [customers]})).await;
    }
    let (mut visitor, csrf) = signed_in(&app, "ada@acme.dev", Role::Admin).await;
    let id = id_from(&post(&mut visitor, "/dashboard/broadcasts", &editor(&csrf, &customers, &[])).await);
    let send = format!("/dashboard/broadcasts/{id}/send");

    let confirm = visitor.get(&send).await;
    assert_eq!(confirm.status, StatusCode::OK);
    for words in [
        "Customers — 2 contacts",
        "Acme &lt;news@acme.dev&gt;",
        "News for {{{FIRST_NAME|you}}}",
        "Send now",
        "Schedule",
    ] {
        assert!(confirm.body.contains(words), "{words}: {}", confirm.body);
    }
    assert_eq!(broadcast(&app, &id).await["status"], "draft", "opening the confirmation sends nothing");

    let refused = visitor.post(&send, &[("csrf", &csrf), ("when", "schedule"), ("scheduled_at", "whenever")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"scheduled_at-error\"") && refused.body.contains("value=\"whenever\""));
    let scheduled = visitor.post(&send, &[("csrf", &csrf), ("when", "schedule"), ("scheduled_at", "in 2 hours")]).await;
    assert_eq!(scheduled.location.as_deref(), Some(format!("/dashboard/broadcasts/{id}?notice=scheduled").as_str()));
    let stored = broadcast(&app, &id).await;
    assert_eq!(stored["status"], "draft", "scheduled broadcasts stay drafts");
    assert!(stored["scheduled_at"].is_string(), "{stored}");
    let listed = visitor.get("/dashboard/broadcasts").await;
    assert!(listed.body.contains(">scheduled<"), "{}", listed.body);
    let editing = visitor.get(&format!("/dashboard/broadcasts/{id}?notice=scheduled")).await;
    assert!(editing.body.contains("Scheduled.") && editing.body.contains("Cancel the schedule"));

    let now = visitor.post(&send, &[("csrf", &csrf), ("when", "now"), ("scheduled_at", "")]).await;
    assert_eq!(now.location.as_deref(), Some(format!("/dashboard/broadcasts/{id}?notice=sending").as_str()));
    assert_eq!(broadcast(&app, &id).await["status"], "queued");
    assert_eq!(app.run_broadcasts().await, 1);
    app.drain().await;
    assert_eq!(sink.received().len(), 2);

    // Ann opens her copy and clicks its link a while later (quicker clicks are a scanner's).
    app.clock.advance(chrono::Duration::minutes(2));
    let message = sink.received().into_iter().find(|m| m.recipients == ["ann@acme-customer.io"]).unwrap();
    let (html, _) = parts(&message.data);
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).user_agent(BROWSER).build().unwrap();
    assert_eq!(http.get(pixel(&html)).send().await.unwrap().status(), StatusCode::OK);
    let link = hrefs(&html).into_iter().find(|h| h.contains("/t/c/")).expect("a tracked link");
    assert_eq!(http.get(link).send().await.unwrap().status(), StatusCode::FOUND);

    // The metrics read up to now, excluding it: look a moment after the clicks.
    app.clock.advance(chrono::Duration::minutes(1));
    let stats = visitor.get(&format!("/dashboard/broadcasts/{id}")).await;
    assert_eq!(stats.status, StatusCode::OK);
    let body = &stats.body;
    assert_eq!(card(body, "Delivered"), "2");
    assert_eq!(card(body, "Opened"), "1");
    assert_eq!(card(body, "Clicked"), "1");
    assert_eq!(card(body, "Bounced"), "0");
    assert_eq!(card(body, "Open rate"), "50 %");
    assert_eq!(card(body, "Click rate"), "50 %");
    assert!(body.contains("Open rates can be inaccurate"));
    assert!(body.contains("class=\"chart opened\"") && body.contains("class=\"chart clicked\""), "{body}");
    assert!(body.contains("Opened per hour") && body.contains(": 1 in total"), "the opens over time: {body}");
    assert!(body.contains("<code>https://acme.dev/pricing</code>"), "the clicked links: {body}");
    assert!(body.contains("ann@acme-customer.io") && body.contains("bob@acme-customer.io"), "delivered recipients");
    assert!(!body.contains("Save draft"), "a sent broadcast is read-only");
    let opened = visitor.get(&format!("/dashboard/broadcasts/{id}?type=opened")).await;
    assert!(opened.body.contains("ann@acme-customer.io") && !opened.body.contains(">bob@acme-customer.io<"));
    assert!(opened.body.contains("once"), "{}", opened.body);

    // A sent broadcast can no longer change or be deleted.
    let changed = post(
        &mut visitor,
        &format!("/dashboard/broadcasts/{id}"),
        &editor(&csrf, &customers, &[("subject", "Changed")]),
    )
    .await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    let deleted = visitor.post(&format!("/dashboard/broadcasts/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status, StatusCode::CONFLICT);
    let again = visitor.get(&send).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(broadcast(&app, &id).await["subject"], "News for {{{FIRST_NAME|you}}}");
}

async fn another_teams_broadcasts_are_not_found_and_forms_without_the_token_change_nothing(app: TestApp) {
    let other = app.other_team_key().await;
    let their_segment = app
        .request_as(&other, reqwest::Method::POST, "/segments", Some(json!({"name": "Theirs"})), &[])
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"segment_id": their_segment, "from": "news@other.dev", "subject": "Theirs", "text": "x"});
    let theirs = app.request_as(&other, reqwest::Method::POST, "/broadcasts", Some(body), &[]).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let customers = segment(&app, "Customers").await;
    let (mut visitor, csrf) = signed_in(&app, "ada@acme.dev", Role::Member).await;

    for path in [
        format!("/dashboard/broadcasts/{theirs}"),
        format!("/dashboard/broadcasts/{theirs}/send"),
        "/dashboard/broadcasts/not-an-id".to_string(),
    ] {
        assert_eq!(visitor.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    for action in ["delete", "duplicate", "cancel", "send", "test", "preview"] {
        let page = visitor
            .post(&format!("/dashboard/broadcasts/{theirs}/{action}"), &[("csrf", &csrf), ("to", "a@b.dev")])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{action}");
    }
    let update = post(&mut visitor, &format!("/dashboard/broadcasts/{theirs}"), &editor(&csrf, &customers, &[])).await;
    assert_eq!(update.status, StatusCode::NOT_FOUND);
    let still = app.request_as(&other, reqwest::Method::GET, &format!("/broadcasts/{theirs}"), None, &[]).await;
    assert_eq!((still.body["subject"].clone(), still.body["status"].clone()), (json!("Theirs"), json!("draft")));
    assert!(!visitor.get("/dashboard/broadcasts").await.body.contains("Theirs"), "not listed either");

    // Without the session's token nothing changes.
    let forged = post(&mut visitor, "/dashboard/broadcasts", &editor("guessed", &customers, &[])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, 0);
    let id = id_from(&post(&mut visitor, "/dashboard/broadcasts", &editor(&csrf, &customers, &[])).await);
    let base = format!("/dashboard/broadcasts/{id}");
    let changed = post(&mut visitor, &base, &editor("", &customers, &[("subject", "Forged")])).await;
    assert_eq!(changed.status, StatusCode::FORBIDDEN);
    for action in ["delete", "duplicate", "send", "test", "preview"] {
        let page =
            visitor.post(&format!("{base}/{action}"), &[("csrf", "guessed"), ("to", "delivered@resend.dev")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{action}");
    }
    let stored = broadcast(&app, &id).await;
    assert_eq!(
        (stored["subject"].clone(), stored["status"].clone()),
        (json!("News for {{{FIRST_NAME|you}}}"), json!("draft"))
    );
    assert_eq!(count(&app).await, 1, "not deleted, not duplicated");
    assert_eq!(app.drain().await, 0, "no test email went out");
}

async fn members_and_admins_both_write_broadcasts(app: TestApp) {
    let customers = segment(&app, "Customers").await;
    for (email, role) in [("ada@acme.dev", Role::Admin), ("max@acme.dev", Role::Member)] {
        let (mut visitor, csrf) = signed_in(&app, email, role).await;
        let list = visitor.get("/dashboard/broadcasts").await;
        assert!(list.body.contains("href=\"/dashboard/broadcasts\""), "{email} has the section in the navigation");
        let created = post(&mut visitor, "/dashboard/broadcasts", &editor(&csrf, &customers, &[("name", email)])).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "{email}: {}", created.body);
        let id = id_from(&created);
        let confirm = visitor.get(&format!("/dashboard/broadcasts/{id}/send")).await;
        assert_eq!(confirm.status, StatusCode::OK, "{email} may send");
    }
    let listed = app.get("/broadcasts").await.expect(200).clone();
    let names: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["max@acme.dev", "ada@acme.dev"]);
}
