//! Broadcasts: the lifecycle the contract and the reference describe, personalised
//! fan-out to exactly the eligible contacts of a segment (delivered to a real SMTP
//! sink, each copy with a working one-click unsubscribe), scheduling, canceling
//! before and during delivery, and test sends. Resuming after a crash of the real
//! binary is tested in `tests/cli.rs`.

use postline_core::ids::{BroadcastId, SegmentId};
use postline_testkit::{TestApp, backend_tests, smtp_sink::SmtpSink, webhook_receiver::WebhookReceiver};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    contacts::create as contact,
    delivery::app_with,
    unsubscribe::{list_unsubscribe, one_click},
};

backend_tests!(
    drafts_are_created_changed_listed_and_deleted_as_the_contract_says,
    sending_is_checked_first_and_only_drafts_change,
    a_broadcast_reaches_exactly_the_eligible_contacts_personalised_each_with_one_click,
    a_scheduled_broadcast_stays_a_draft_until_due_and_can_be_canceled,
    canceling_a_sending_broadcast_stops_the_copies_not_yet_sent,
    a_broadcast_is_queued_at_once_and_mail_sent_meanwhile_goes_first,
    test_sends_go_to_the_given_addresses_without_the_reply_to,
    a_broadcast_from_an_unverified_domain_may_only_reach_test_addresses,
    stats_and_recipients_come_from_the_emails_timelines,
    clicks_and_opens_of_people_show_in_the_broadcast_stats_and_links,
    stats_of_large_broadcasts_are_reused_for_a_second_and_small_ones_are_always_exact,
);

async fn segment(app: &TestApp, name: &str) -> String {
    app.post("/segments", json!({"name": name})).await.expect(201)["id"].as_str().unwrap().to_string()
}

/// A segment of `count` contacts at the sandbox's delivered address, imported as a CSV.
async fn segment_of_sandbox_contacts(app: &TestApp, name: &str, count: usize) -> String {
    let id = segment(app, name).await;
    let csv: String = std::iter::once("email".to_string())
        .chain((0..count).map(|n| format!("delivered+{n}@resend.dev")))
        .collect::<Vec<_>>()
        .join("\n");
    let segments = json!([id]).to_string();
    app.post_form("/contacts/imports", Some(csv.as_bytes()), &[("segments", &segments)]).await.expect(201);
    app.run_imports().await;
    id
}

async fn topic(app: &TestApp, name: &str, default: &str) -> String {
    let body = json!({"name": name, "default_subscription": default, "visibility": "public"});
    app.post("/topics", body).await.expect(201)["id"].as_str().unwrap().to_string()
}

async fn create(app: &TestApp, body: Value) -> String {
    let created = app.post("/broadcasts", body).await.expect(201).clone();
    assert_eq!(created["object"], "broadcast");
    created["id"].as_str().unwrap().to_string()
}

async fn status(app: &TestApp, id: &str) -> String {
    app.get(&format!("/broadcasts/{id}")).await.expect(200)["status"].as_str().unwrap().to_string()
}

/// The team's emails (as listed) that belong to a broadcast.
async fn broadcast_emails(app: &TestApp, id: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut path = "/emails?limit=100".to_string();
    loop {
        let page = app.get(&path).await.expect(200).clone();
        let data = page["data"].as_array().unwrap();
        found.extend(data.iter().filter(|e| e["broadcast_id"] == json!(id)).cloned());
        match data.last() {
            Some(last) if page["has_more"] == true => {
                path = format!("/emails?limit=100&after={}", last["id"].as_str().unwrap())
            }
            _ => return found,
        }
    }
}

/// One listed email read in full.
async fn full(app: &TestApp, email: &Value) -> Value {
    app.get(&format!("/emails/{}", email["id"].as_str().unwrap())).await.expect(200).clone()
}

async fn drafts_are_created_changed_listed_and_deleted_as_the_contract_says(app: TestApp) {
    let customers = segment(&app, "Customers").await;
    let id = create(
        &app,
        json!({"name": "November", "audience_id": customers, "from": "Acme <news@acme.dev>", "subject": "News",
               "html": "<p>Hi {{{FIRST_NAME|there}}}</p>", "reply_to": "help@acme.dev", "preview_text": "Inside: news"}),
    )
    .await;
    let shown = app.get(&format!("/broadcasts/{id}")).await.expect(200).clone();
    assert_eq!(shown["object"], "broadcast");
    assert_eq!(shown["status"], "draft");
    assert_eq!(shown["segment_id"], json!(customers), "the deprecated audience_id names the segment");
    assert_eq!(shown["audience_id"], json!(customers));
    assert_eq!(shown["reply_to"], json!(["help@acme.dev"]));
    assert_eq!(shown["preview_text"], "Inside: news");
    assert_eq!(shown["text"], Value::Null);
    assert_eq!(shown["topic_id"], Value::Null);

    // A change touches only the fields given; null clears.
    let news = topic(&app, "News", "opt_in").await;
    app.patch(
        &format!("/broadcasts/{id}"),
        json!({"id": id, "subject": "Big news", "topic_id": news, "preview_text": null, "markdown": "# Hello\n\nSee [us](https://acme.dev)",
               "style": {"background_color": "#ffeedd", "link_color": "#ff5500", "container_width": 520}}),
    )
    .await
    .expect(200);
    let shown = app.get(&format!("/broadcasts/{id}")).await.expect(200).clone();
    assert_eq!(shown["subject"], "Big news");
    assert_eq!(shown["name"], "November", "unchanged");
    assert_eq!(shown["topic_id"], json!(news));
    assert!(shown.get("preview_text").is_none(), "{shown}");
    let html = shown["html"].as_str().unwrap();
    assert!(html.contains("#ffeedd") && html.contains("#ff5500") && html.contains("520"), "{html}");
    assert!(shown["text"].as_str().unwrap().contains("us (https://acme.dev)"), "the text part comes with it");
    assert_eq!(shown["markdown"], "# Hello\n\nSee [us](https://acme.dev)");

    // Duplicate (the SDKs' call): a new draft with the same content.
    let copy = app.post(&format!("/broadcasts/{id}/duplicate"), json!({})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(copy, id);
    let copied = app.get(&format!("/broadcasts/{copy}")).await.expect(200).clone();
    assert_eq!((copied["subject"].clone(), copied["status"].clone()), (json!("Big news"), json!("draft")));

    let listed = app.get("/broadcasts").await.expect(200).clone();
    let ids: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [copy.as_str(), id.as_str()], "newest first");
    assert_eq!(listed["data"][1]["segment_id"], json!(customers));

    // Another team sees none of it.
    let other = app.other_team_key().await;
    for (method, path) in
        [(reqwest::Method::GET, format!("/broadcasts/{id}")), (reqwest::Method::DELETE, format!("/broadcasts/{id}"))]
    {
        app.request_as(&other, method, &path, None, &[]).await.expect_error(404, "not_found");
    }
    let theirs = app.request_as(&other, reqwest::Method::GET, "/broadcasts", None, &[]).await;
    assert_eq!(theirs.body["data"], json!([]));

    let removed = app.delete(&format!("/broadcasts/{id}")).await.expect(200).clone();
    assert_eq!(removed, json!({"id": id, "object": "broadcast", "deleted": true}));
    app.get(&format!("/broadcasts/{id}")).await.expect_error(404, "not_found");
}

async fn sending_is_checked_first_and_only_drafts_change(app: TestApp) {
    let customers = segment(&app, "Customers").await;
    contact(&app, json!({"email": "delivered@resend.dev", "segments": [customers]})).await;
    let base = json!({"segment_id": customers, "from": "news@anything.dev", "subject": "Hi"});
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    // Required fields, wrong forms, references that do not exist.
    app.post("/broadcasts", json!({"segment_id": customers, "subject": "x"}))
        .await
        .expect_error(422, "missing_required_field");
    app.post("/broadcasts", json!({"segment_id": customers, "from": "a@b.dev"}))
        .await
        .expect_error(422, "missing_required_field");
    app.post("/broadcasts", json!({"from": "a@b.dev", "subject": "x"}))
        .await
        .expect_error(422, "missing_required_field");
    app.post("/broadcasts", with(json!({"from": "nope"}))).await.expect_error(422, "invalid_from_address");
    app.post("/broadcasts", with(json!({"segment_id": "nope"}))).await.expect_error(422, "invalid_parameter");
    app.post("/broadcasts", with(json!({"segment_id": SegmentId::new().to_string()})))
        .await
        .expect_error(404, "not_found");
    app.post("/broadcasts", with(json!({"scheduled_at": "in 1 hour"}))).await.expect_error(400, "validation_error");
    // Sending needs content and placeholders that mean something.
    app.post("/broadcasts", with(json!({"send": true}))).await.expect_error(400, "validation_error");
    let typo = app.post("/broadcasts", with(json!({"send": true, "html": "Hi {{{FRIST_NAME}}}"}))).await;
    typo.expect_error(400, "validation_error");
    assert!(typo.body["message"].as_str().unwrap().contains("FRIST_NAME"), "{}", typo.body);
    assert_eq!(app.get("/broadcasts").await.body["data"], json!([]), "nothing was created");

    // A custom property makes its placeholder known.
    app.post("/contact-properties", json!({"key": "plan", "type": "string"})).await.expect(201);
    let id = create(&app, with(json!({"html": "<p>{{{plan|free}}}</p>"}))).await;
    app.post(&format!("/broadcasts/{id}/cancel"), json!({})).await.expect_error(422, "validation_error");
    let sent = app.post(&format!("/broadcasts/{id}/send"), json!({"broadcast_id": id})).await.expect(200).clone();
    assert_eq!(sent, json!({"id": id}));
    assert_eq!(status(&app, &id).await, "queued");
    // No longer a draft: no changes, no deleting, no second send.
    app.patch(&format!("/broadcasts/{id}"), json!({"subject": "x"})).await.expect_error(422, "validation_error");
    app.delete(&format!("/broadcasts/{id}")).await.expect_error(422, "validation_error");
    app.post(&format!("/broadcasts/{id}/send"), json!({})).await.expect_error(422, "validation_error");
    assert_eq!(app.run_broadcasts().await, 1);
    let shown = app.get(&format!("/broadcasts/{id}")).await.expect(200).clone();
    assert_eq!(shown["status"], "sent");
    assert!(shown["sent_at"].is_string(), "{shown}");
    app.post(&format!("/broadcasts/{id}/cancel"), json!({})).await.expect_error(422, "validation_error");
    app.get(&format!("/broadcasts/{}", BroadcastId::new())).await.expect_error(404, "not_found");
}

async fn a_broadcast_reaches_exactly_the_eligible_contacts_personalised_each_with_one_click(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["email.delivered", "email.suppressed"])).await;
    app.post("/contact-properties", json!({"key": "company", "type": "string", "fallback_value": "your team"}))
        .await
        .expect(201);
    let customers = segment(&app, "Customers").await;
    let news = topic(&app, "News", "opt_in").await;
    let member = |email: &str, extra: Value| {
        let mut body = json!({"email": email, "segments": [customers]});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    contact(
        &app,
        member("ann@acme-customer.io", json!({"first_name": "Ann <3", "properties": {"company": "Ann & Co"}})),
    )
    .await;
    contact(&app, member("erin@acme-customer.io", json!({}))).await;
    contact(&app, member("bob@acme-customer.io", json!({"unsubscribed": true}))).await;
    contact(&app, member("carol@acme-customer.io", json!({"topics": [{"id": news, "subscription": "opt_out"}]}))).await;
    contact(&app, member("dave@acme-customer.io", json!({}))).await;
    contact(&app, json!({"email": "frank@acme-customer.io"})).await;
    app.post("/suppressions", json!({"email": "dave@acme-customer.io"})).await.expect(201);

    let id = create(
        &app,
        json!({"segment_id": customers, "topic_id": news, "from": "Acme <news@acme.dev>", "reply_to": ["help@acme.dev"],
               "subject": "News for {{{FIRST_NAME|you}}}", "send": true,
               "html": "<p>Hi {{{FIRST_NAME|there}}} of {{{company}}}</p><a href=\"{{{RESEND_UNSUBSCRIBE_URL}}}\">Leave</a>",
               "text": "Hi {{{FIRST_NAME|there}}} of {{{company}}}. Leave: {{{RESEND_UNSUBSCRIBE_URL}}}"}),
    )
    .await;
    assert_eq!(status(&app, &id).await, "queued");
    assert_eq!(app.run_broadcasts().await, 1);
    assert_eq!(status(&app, &id).await, "sent");
    assert_eq!(app.run_broadcasts().await, 0, "nothing is fanned out twice");
    app.drain().await;

    let mut received: Vec<(String, String)> =
        sink.received().iter().map(|m| (m.recipients.join(","), m.text())).collect();
    received.sort();
    let to: Vec<&str> = received.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(to, ["ann@acme-customer.io", "erin@acme-customer.io"], "not the unsubscribed, opted-out or suppressed");
    let (ann, erin) = (&received[0].1, &received[1].1);
    assert!(ann.contains("Subject: News for Ann <3"), "{ann}");
    assert!(ann.contains("Hi Ann &lt;3 of Ann &amp; Co"), "values are escaped in HTML: {ann}");
    assert!(ann.contains("Hi Ann <3 of Ann & Co."), "and not in text: {ann}");
    assert!(erin.contains("Subject: News for you") && erin.contains("Hi there of your team"), "{erin}");
    assert!(ann.contains("Reply-To: <help@acme.dev>") || ann.contains("Reply-To: help@acme.dev"), "{ann}");
    for (_, message) in &received {
        assert!(!message.contains("{{{"), "every placeholder is filled: {message}");
        assert!(message.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    }

    // Dave's copy exists and says why it was not sent.
    let emails = broadcast_emails(&app, &id).await;
    assert_eq!(emails.len(), 3, "one email per contact that may get it: {emails:?}");
    let dave = emails.iter().find(|e| e["to"] == json!(["dave@acme-customer.io"])).unwrap();
    assert_eq!(dave["last_event"], "suppressed");
    let ann_email = full(&app, emails.iter().find(|e| e["to"] == json!(["ann@acme-customer.io"])).unwrap()).await;
    assert!(ann_email["html"].as_str().unwrap().contains("Hi Ann &lt;3"), "reading shows the recipient's content");
    app.dispatch_webhooks().await;
    let delivered = receiver.received().into_iter().filter(|d| d.body["type"] == "email.delivered").count();
    assert_eq!(delivered, 2);
    assert!(receiver.received().iter().all(|d| d.body["data"]["broadcast_id"] == json!(id) && d.verified));

    // Erin's one-click link opts her out of the topic, as a mailbox provider would.
    let response = one_click(&app, &list_unsubscribe(erin)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let erin_topics = app.get("/contacts/erin@acme-customer.io/topics").await.expect(200).clone();
    assert_eq!(erin_topics["data"][0]["subscription"], "opt_out", "{erin_topics}");

    // The next broadcast about the topic reaches Ann alone.
    let again = app.post(&format!("/broadcasts/{id}/duplicate"), json!({})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/broadcasts/{again}/send"), json!({})).await.expect(200);
    app.run_broadcasts().await;
    app.drain().await;
    let latest: Vec<String> = sink.received()[2..].iter().map(|m| m.recipients.join(",")).collect();
    assert_eq!(latest, ["ann@acme-customer.io"]);
}

async fn a_scheduled_broadcast_stays_a_draft_until_due_and_can_be_canceled(app: TestApp) {
    let customers = segment(&app, "Customers").await;
    contact(&app, json!({"email": "delivered+a@resend.dev", "segments": [customers]})).await;
    contact(&app, json!({"email": "delivered+b@resend.dev", "segments": [customers]})).await;
    let body =
        json!({"segment_id": customers, "from": "news@anything.dev", "subject": "Later", "text": "Hi {{{EMAIL}}}"});
    let later = create(&app, body.clone()).await;
    app.post(&format!("/broadcasts/{later}/send"), json!({"scheduled_at": "in 1 hour"})).await.expect(200);
    let shown = app.get(&format!("/broadcasts/{later}")).await.expect(200).clone();
    assert_eq!(shown["status"], "draft", "a scheduled broadcast is a draft until its time");
    assert!(shown["scheduled_at"].is_string(), "{shown}");
    let canceled = create(&app, body).await;
    app.post(&format!("/broadcasts/{canceled}/send"), json!({"scheduled_at": "in 1 hour"})).await.expect(200);
    app.post(&format!("/broadcasts/{canceled}/cancel"), json!({})).await.expect(200);
    assert_eq!(status(&app, &canceled).await, "canceled");

    assert_eq!(app.run_broadcasts().await, 0, "not due yet");
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(app.run_broadcasts().await, 1, "only the one still scheduled");
    assert_eq!(status(&app, &later).await, "sent");
    app.drain().await;
    let emails = broadcast_emails(&app, &later).await;
    assert_eq!(emails.len(), 2);
    assert!(emails.iter().all(|e| e["last_event"] == "delivered"), "{emails:?}");
    let mut text = Vec::new();
    for email in &emails {
        text.push(full(&app, email).await["text"].as_str().unwrap().to_string());
    }
    assert!(text.contains(&"Hi delivered+a@resend.dev".to_string()), "{text:?}");
    assert!(broadcast_emails(&app, &canceled).await.is_empty());
}

async fn canceling_a_sending_broadcast_stops_the_copies_not_yet_sent(app: TestApp) {
    // A window of 50: the fan-out writes a batch, then waits for the MTA to catch up.
    let options =
        postline_testkit::test_app::Options { broadcast_window: 50, ..postline_testkit::test_app::Options::default() };
    let app = TestApp::start_with(app.backend, options).await;
    let customers = segment_of_sandbox_contacts(&app, "Customers", 450).await;

    let body =
        json!({"segment_id": customers, "from": "news@anything.dev", "subject": "Oops", "text": "x", "send": true});
    let id = create(&app, body.clone()).await;
    assert_eq!(app.run_broadcasts().await, 0, "paused after a batch, not finished");
    assert_eq!(status(&app, &id).await, "queued");
    assert_eq!(broadcast_emails(&app, &id).await.len(), 200, "one batch, then the MTA's turn");
    assert_eq!(app.drain().await, 200);
    app.clock.advance(chrono::Duration::seconds(1));
    app.run_broadcasts().await;
    assert_eq!(broadcast_emails(&app, &id).await.len(), 400);

    // Canceling mid-send: the 200 copies not yet attempted never go out, nor the rest.
    app.post(&format!("/broadcasts/{id}/cancel"), json!({})).await.expect(200);
    assert_eq!(status(&app, &id).await, "canceled");
    assert_eq!(app.drain().await, 0);
    app.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(app.run_broadcasts().await, 0);
    let emails = broadcast_emails(&app, &id).await;
    assert_eq!(emails.len(), 400);
    let count = |event: &str| emails.iter().filter(|e| e["last_event"] == event).count();
    assert_eq!((count("delivered"), count("canceled")), (200, 200));

    // Canceled before its fan-out started: no email at all.
    let before = create(&app, body).await;
    app.post(&format!("/broadcasts/{before}/cancel"), json!({})).await.expect(200);
    assert_eq!(app.run_broadcasts().await, 0, "a canceled broadcast is not fanned out");
    assert!(broadcast_emails(&app, &before).await.is_empty());
}

async fn a_broadcast_is_queued_at_once_and_mail_sent_meanwhile_goes_first(app: TestApp) {
    let customers = segment_of_sandbox_contacts(&app, "Customers", 450).await;
    let body =
        json!({"segment_id": customers, "from": "news@anything.dev", "subject": "News", "text": "x", "send": true});
    let id = create(&app, body).await;
    assert_eq!(app.run_broadcasts().await, 1, "every batch written in one run: no window by default");
    assert_eq!(status(&app, &id).await, "sent");
    assert_eq!(broadcast_emails(&app, &id).await.len(), 450);

    // A receipt sent after the 450 copies were queued: the next worker round takes it
    // first, and the copies only fill the rest of the round.
    let receipt = app
        .post("/emails", json!({"from": "billing@anything.dev", "to": "delivered@resend.dev", "subject": "Receipt", "text": "Paid."}))
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sandbox = app.app.workers().into_iter().next().unwrap();
    let round = sandbox.run_once().await.unwrap();
    assert!(round < 450, "one round, not the whole queue: {round}");
    let receipt = app.get(&format!("/emails/{receipt}")).await.expect(200)["last_event"].clone();
    assert_ne!(receipt, "queued", "the receipt did not wait for the broadcast");
    let copies = broadcast_emails(&app, &id).await;
    let waiting = copies.iter().filter(|e| e["last_event"] == "queued").count();
    assert_eq!(waiting, 450 - (round - 1), "the rest of the round went to the copies");
    app.drain().await;
    let copies = broadcast_emails(&app, &id).await;
    assert!(copies.iter().all(|e| e["last_event"] == "delivered"), "all copies follow");
}

async fn test_sends_go_to_the_given_addresses_without_the_reply_to(app: TestApp) {
    let customers = segment(&app, "Customers").await;
    contact(&app, json!({"email": "delivered+ann@resend.dev", "first_name": "Ann"})).await;
    let id = create(
        &app,
        json!({"segment_id": customers, "from": "news@anything.dev", "subject": "Hi {{{FIRST_NAME|friend}}}",
               "reply_to": "help@anything.dev", "html": "<p>Hi {{{FIRST_NAME|friend}}}</p><a href=\"{{{RESEND_UNSUBSCRIBE_URL}}}\">x</a>"}),
    )
    .await;
    let sent = app
        .post(
            &format!("/broadcasts/{id}/test"),
            json!({"to": ["delivered+ann@resend.dev", "delivered+zed@resend.dev"]}),
        )
        .await
        .expect(200)
        .clone();
    let ids: Vec<String> = sent["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().into()).collect();
    assert_eq!(ids.len(), 2);
    let ann = app.get(&format!("/emails/{}", ids[0])).await.expect(200).clone();
    assert_eq!(ann["reply_to"], json!([]), "test copies leave the reply-to out");
    assert_eq!(ann["subject"], "Hi Ann");
    let html = ann["html"].as_str().unwrap();
    assert!(html.contains(&format!("{}/unsubscribe/", app.base_url)), "a working link: {html}");
    assert_eq!(app.get(&format!("/emails/{}", ids[1])).await.body["subject"], "Hi friend");
    assert_eq!(status(&app, &id).await, "draft", "a test send leaves the broadcast as it was");
    app.post(&format!("/broadcasts/{id}/test"), json!({})).await.expect_error(422, "missing_required_field");
    let six: Vec<String> = (0..6).map(|n| format!("delivered+{n}@resend.dev")).collect();
    app.post(&format!("/broadcasts/{id}/test"), json!({"to": six})).await.expect_error(400, "validation_error");
}

async fn a_broadcast_from_an_unverified_domain_may_only_reach_test_addresses(app: TestApp) {
    let tests = segment(&app, "Test addresses").await;
    contact(&app, json!({"email": "delivered@resend.dev", "segments": [tests]})).await;
    let real = segment(&app, "Real people").await;
    contact(&app, json!({"email": "ann@example.org", "segments": [real]})).await;
    let body = |segment: &str| json!({"segment_id": segment, "from": "news@unverified.dev", "subject": "x", "text": "x", "send": true});
    app.post("/broadcasts", body(&real)).await.expect_error(403, "validation_error");
    let id = create(&app, body(&tests)).await;
    app.run_broadcasts().await;
    app.drain().await;
    let emails = broadcast_emails(&app, &id).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["last_event"], "delivered");
}

async fn stats_and_recipients_come_from_the_emails_timelines(app: TestApp) {
    let customers = segment(&app, "Customers").await;
    let addresses = [
        "delivered+a@resend.dev",
        "delivered+b@resend.dev",
        "bounced@resend.dev",
        "complained@resend.dev",
        "suppressed@resend.dev",
    ];
    let mut contacts = std::collections::HashMap::new();
    for address in addresses {
        contacts.insert(address, contact(&app, json!({"email": address, "segments": [customers]})).await);
    }
    let body =
        json!({"segment_id": customers, "from": "news@anything.dev", "subject": "Stats", "text": "x", "send": true});
    let id = create(&app, body).await;
    app.run_broadcasts().await;
    app.drain().await;
    app.clock.advance(chrono::Duration::minutes(5));
    app.drain().await;

    // B unsubscribes through the link in their email (the email's id is in it).
    let emails = broadcast_emails(&app, &id).await;
    let b_email = emails.iter().find(|e| e["to"] == json!(["delivered+b@resend.dev"])).unwrap();
    let email_id = postline_core::ids::EmailId::parse(b_email["id"].as_str().unwrap()).unwrap();
    let url = app.app.postline.unsubscribe_url(app.team.id, Some(email_id), "delivered+b@resend.dev", None);
    let response = one_click(&app, &url).await;
    assert_eq!(response.status(), StatusCode::OK);

    let shown = app.get(&format!("/broadcasts/{id}")).await.expect(200).clone();
    let stats = &shown["stats"];
    assert_eq!(stats["recipients"], 5, "{stats}");
    assert_eq!((stats["delivered"].clone(), stats["bounced"].clone()), (json!(3), json!(1)), "{stats}");
    assert_eq!((stats["complained"].clone(), stats["suppressed"].clone()), (json!(1), json!(1)), "{stats}");
    assert_eq!(stats["unsubscribed"], 1, "{stats}");
    assert_eq!(stats["unsubscribe_rate"], 0.3333, "of the delivered: {stats}");

    let recipients = |query: &str| {
        let path = format!("/broadcasts/{id}/recipients?{query}");
        let app = &app;
        async move { app.get(&path).await.expect(200).clone() }
    };
    let delivered = recipients("type=delivered").await;
    let mut to: Vec<&str> =
        delivered["data"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(to, ["complained@resend.dev", "delivered+a@resend.dev", "delivered+b@resend.dev"]);
    let first = &delivered["data"][0];
    assert_eq!(first["contact_id"], json!(contacts[first["email"].as_str().unwrap()]), "{first}");
    assert!(first.get("count").is_none() && first.get("bounce_type").is_none(), "only for their types: {first}");
    let bounced = recipients("type=bounced").await;
    assert_eq!(bounced["data"][0]["email"], "bounced@resend.dev");
    assert_eq!(bounced["data"][0]["bounce_type"], "permanent");
    assert_eq!(recipients("type=bounced&bounce_type=transient").await["data"], json!([]));
    assert_eq!(recipients("type=unsubscribed").await["data"][0]["email"], "delivered+b@resend.dev");
    assert_eq!(recipients("type=delivered&email=Delivered%2BA@resend.dev").await["data"].as_array().unwrap().len(), 1);
    // Pages follow the rows' ids.
    let page = recipients("type=delivered&limit=2").await;
    assert_eq!(page["has_more"], true);
    let rest = recipients(&format!("type=delivered&limit=2&after={}", page["data"][1]["id"].as_str().unwrap())).await;
    assert_eq!((rest["data"].as_array().unwrap().len(), rest["has_more"].clone()), (1, json!(false)));

    let path = format!("/broadcasts/{id}/recipients");
    app.get(&path).await.expect_error(422, "missing_required_field");
    app.get(&format!("{path}?type=read")).await.expect_error(422, "invalid_parameter");
    app.get(&format!("{path}?type=delivered&bounce_type=permanent")).await.expect_error(422, "invalid_parameter");
    let links = app.get(&format!("/broadcasts/{id}/clicked-links")).await.expect(200).clone();
    assert_eq!(links["data"], json!([]), "no tracking, no clicks");
    let other = app.other_team_key().await;
    app.request_as(&other, reqwest::Method::GET, &format!("{path}?type=sent"), None, &[])
        .await
        .expect_error(404, "not_found");
}

async fn clicks_and_opens_of_people_show_in_the_broadcast_stats_and_links(app: TestApp) {
    use crate::tracking::{BROWSER, hrefs, parts, pixel, track};
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    track(&app, None).await;
    let customers = segment(&app, "Customers").await;
    for email in ["ann@acme-customer.io", "bob@acme-customer.io"] {
        contact(&app, json!({"email": email, "segments": [customers]})).await;
    }
    let html = "<p><a href=\"https://acme.dev/pricing\">Pricing</a> <a href=\"https://acme.dev/blog\">Blog</a></p>";
    let id = create(
        &app,
        json!({"segment_id": customers, "from": "news@acme.dev", "subject": "Links", "html": html, "text": "x", "send": true}),
    )
    .await;
    app.run_broadcasts().await;
    app.drain().await;
    // People click a while after delivery; clicks within seconds are a scanner's.
    app.clock.advance(chrono::Duration::minutes(2));
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).user_agent(BROWSER).build().unwrap();
    let links_of = |recipient: &str| {
        let message = sink.received().into_iter().find(|m| m.recipients == [recipient]).unwrap();
        let (html, _) = parts(&message.data);
        let tracked: Vec<String> = hrefs(&html).into_iter().filter(|h| h.contains("/t/c/")).collect();
        (tracked, pixel(&html))
    };
    let (ann_links, ann_pixel) = links_of("ann@acme-customer.io");
    let (bob_links, _) = links_of("bob@acme-customer.io");
    assert_eq!((ann_links.len(), bob_links.len()), (2, 2), "{ann_links:?}");
    for url in [&ann_links[0], &ann_links[0], &ann_links[1], &bob_links[0]] {
        let response = http.get(url.as_str()).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
    }
    assert_eq!(http.get(ann_pixel.as_str()).send().await.unwrap().status(), StatusCode::OK);
    // A link scanner (curl) on Bob's second link is recorded but not counted.
    let scanner =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).user_agent("curl/8.5").build().unwrap();
    assert_eq!(scanner.get(bob_links[1].as_str()).send().await.unwrap().status(), StatusCode::FOUND);

    let links = app.get(&format!("/broadcasts/{id}/clicked-links")).await.expect(200).clone();
    let rows: Vec<(String, u64, u64)> = links["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (l["url"].as_str().unwrap().into(), l["clicks"].as_u64().unwrap(), l["unique_clicks"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(rows, [("https://acme.dev/pricing".to_string(), 3, 2), ("https://acme.dev/blog".to_string(), 1, 1)]);
    let first = app.get(&format!("/broadcasts/{id}/clicked-links?limit=1")).await.expect(200).clone();
    assert_eq!(first["has_more"], true);
    let cursor = first["data"][0]["id"].as_str().unwrap();
    let next = app.get(&format!("/broadcasts/{id}/clicked-links?limit=1&after={cursor}")).await.expect(200).clone();
    assert_eq!(
        (next["data"][0]["url"].clone(), next["has_more"].clone()),
        (json!("https://acme.dev/blog"), json!(false))
    );

    let clicked = app.get(&format!("/broadcasts/{id}/recipients?type=clicked")).await.expect(200).clone();
    let ann = clicked["data"].as_array().unwrap().iter().find(|r| r["email"] == "ann@acme-customer.io").unwrap();
    assert_eq!(ann["count"], 3);
    assert_eq!(
        ann["clicked_links"],
        json!([{"url": "https://acme.dev/blog", "clicks": 1}, {"url": "https://acme.dev/pricing", "clicks": 2}])
    );
    let stats = app.get(&format!("/broadcasts/{id}")).await.expect(200)["stats"].clone();
    assert_eq!((stats["clicked"].clone(), stats["opened"].clone()), (json!(2), json!(1)), "{stats}");
    assert_eq!(stats["open_rate"], 0.5);
}

/// Counting a broadcast's stats reads every copy's timeline, so the count of a large
/// broadcast is reused for up to a second (a dashboard or script polling a
/// 100,000-copy broadcast while it sends costs one count a second); smaller ones are
/// counted afresh on every read. "Large" is lowered to 3 copies here.
async fn stats_of_large_broadcasts_are_reused_for_a_second_and_small_ones_are_always_exact(app: TestApp) {
    use std::time::{Duration, Instant};
    let options = postline_testkit::test_app::Options {
        broadcast_stats_reuse_from: 3,
        ..postline_testkit::test_app::Options::default()
    };
    let app = TestApp::start_with(app.backend, options).await;
    let (large_segment, small_segment) = (segment(&app, "Large").await, segment(&app, "Small").await);
    for n in 0..3 {
        contact(&app, json!({"email": format!("delivered+large{n}@resend.dev"), "segments": [large_segment]})).await;
    }
    for n in 0..2 {
        contact(&app, json!({"email": format!("delivered+small{n}@resend.dev"), "segments": [small_segment]})).await;
    }
    let broadcast = |segment: &str| json!({"segment_id": segment, "from": "news@anything.dev", "subject": "Stats", "text": "x", "send": true});
    let large = create(&app, broadcast(&large_segment)).await;
    let small = create(&app, broadcast(&small_segment)).await;
    app.run_broadcasts().await;
    let delivered = |id: String| {
        let app = &app;
        async move { app.get(&format!("/broadcasts/{id}")).await.expect(200)["stats"]["delivered"].as_u64().unwrap() }
    };

    let counted = Instant::now();
    assert_eq!(delivered(large.clone()).await, 0, "nothing delivered yet");
    assert_eq!(delivered(small.clone()).await, 0);
    app.drain().await;
    assert_eq!(delivered(small.clone()).await, 2, "a small broadcast's stats are exact at once");
    let large_again = delivered(large.clone()).await;
    // Only meaningful while the second lasts; a machine too slow to drain two emails in
    // 900 ms skips this check rather than fail on timing.
    if counted.elapsed() < Duration::from_millis(900) {
        assert_eq!(large_again, 0, "a large broadcast's count is reused within the second");
    }
    tokio::time::sleep_until((counted + Duration::from_millis(1100)).into()).await;
    assert_eq!(delivered(large).await, 3, "and counted afresh after it");
}
