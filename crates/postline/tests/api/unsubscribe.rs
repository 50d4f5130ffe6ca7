//! Unsubscribing: topic-scoped sends reach only subscribed recipients, topic emails
//! carry each recipient's signed one-click link (delivered to a real SMTP sink), the
//! link refuses forged tokens, and the preferences page behind it saves choices.
//! The page in a real browser is tested in `tests/browser.rs`.

use postline_core::ids::TopicId;
use postline_testkit::{TestApp, backend_tests, smtp_sink::SmtpSink, webhook_receiver::WebhookReceiver};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{contacts::create as contact, delivery::app_with};

backend_tests!(
    topic_scoped_sends_reach_only_subscribed_recipients,
    a_scheduled_topic_email_respects_an_opt_out_made_after_it_was_accepted,
    topic_emails_carry_each_recipients_signed_one_click_link,
    forged_and_altered_links_are_refused_and_change_nothing,
    the_preferences_page_saves_topic_choices_and_unsubscribes_from_everything,
    the_unsubscribe_page_branding_is_checked_and_per_team,
);

async fn topic(app: &TestApp, name: &str, default: &str, visibility: &str) -> String {
    let body = json!({"name": name, "default_subscription": default, "visibility": visibility});
    app.post("/topics", body).await.expect(201)["id"].as_str().unwrap().to_string()
}

async fn send(app: &TestApp, from: &str, to: Value, topic: &str) -> String {
    let body = json!({"from": from, "to": to, "subject": "News", "html": "<p>Hi</p>", "topic_id": topic});
    app.post("/emails", body).await.expect(200)["id"].as_str().unwrap().to_string()
}

/// Each recipient's final status and, for suppressed ones, the event's message.
async fn outcomes(app: &TestApp, id: &str) -> Vec<(String, String, String)> {
    let events = app.get(&format!("/emails/{id}/events")).await.expect(200)["data"].as_array().unwrap().clone();
    let mut last: Vec<(String, String, String)> = Vec::new();
    for event in events.iter().filter(|e| !e["recipient"].is_null()) {
        let recipient = event["recipient"].as_str().unwrap().to_string();
        let message = event["data"]["suppressed"]["message"].as_str().unwrap_or_default().to_string();
        last.retain(|(r, _, _)| *r != recipient);
        last.push((recipient, event["status"].as_str().unwrap().to_string(), message));
    }
    last.sort();
    last
}

fn status_of<'a>(outcomes: &'a [(String, String, String)], recipient: &str) -> &'a str {
    outcomes.iter().find(|(r, _, _)| r == recipient).map(|(_, s, _)| s.as_str()).unwrap_or("none")
}

async fn topic_scoped_sends_reach_only_subscribed_recipients(app: TestApp) {
    let news = topic(&app, "News", "opt_in", "public").await;
    let beta = topic(&app, "Beta", "opt_out", "public").await;
    contact(&app, json!({"email": "delivered+out@resend.dev", "topics": [{"id": news, "subscription": "opt_out"}]}))
        .await;
    contact(&app, json!({"email": "delivered+all@resend.dev", "unsubscribed": true})).await;
    contact(&app, json!({"email": "delivered+in@resend.dev", "topics": [{"id": beta, "subscription": "opt_in"}]}))
        .await;
    contact(&app, json!({"email": "delivered+quiet@resend.dev"})).await;

    let to = json!([
        "delivered+out@resend.dev",
        "delivered+all@resend.dev",
        "Stranger <delivered+stranger@resend.dev>",
        "delivered+quiet@resend.dev"
    ]);
    let id = send(&app, "news@anything.dev", to, &news).await;
    app.drain().await;
    let done = outcomes(&app, &id).await;
    assert_eq!(status_of(&done, "delivered+out@resend.dev"), "suppressed", "{done:?}");
    assert_eq!(status_of(&done, "delivered+all@resend.dev"), "suppressed", "{done:?}");
    assert_eq!(status_of(&done, "delivered+stranger@resend.dev"), "delivered", "non-contacts get an opt_in topic");
    assert_eq!(status_of(&done, "delivered+quiet@resend.dev"), "delivered", "a contact who never chose: default");
    let why = |r: &str| done.iter().find(|(x, _, _)| x == r).unwrap().2.clone();
    assert!(why("delivered+out@resend.dev").contains("opted out of the topic"), "{done:?}");
    assert!(why("delivered+all@resend.dev").contains("unsubscribed from all"), "{done:?}");
    let events = app.get(&format!("/emails/{id}/events")).await.body["data"].as_array().unwrap().clone();
    let suppressed = events.iter().find(|e| e["status"] == "suppressed").unwrap();
    assert_eq!(suppressed["data"]["suppressed"]["reason"], "unsubscribed", "{suppressed}");

    let to = json!(["delivered+in@resend.dev", "delivered+stranger@resend.dev", "delivered+quiet@resend.dev"]);
    let id = send(&app, "news@anything.dev", to, &beta).await;
    app.drain().await;
    let done = outcomes(&app, &id).await;
    assert_eq!(status_of(&done, "delivered+in@resend.dev"), "delivered", "{done:?}");
    assert_eq!(status_of(&done, "delivered+stranger@resend.dev"), "suppressed", "an opt_out topic needs an opt-in");
    assert_eq!(status_of(&done, "delivered+quiet@resend.dev"), "suppressed", "{done:?}");

    // Unknown, malformed and other teams' topics are refused before anything is queued.
    let body = |topic: &str| json!({"from": "a@anything.dev", "to": "delivered@resend.dev", "subject": "x", "text": "x", "topic_id": topic});
    app.post("/emails", body(&TopicId::new().to_string())).await.expect_error(404, "not_found");
    app.post("/emails", body("nope")).await.expect_error(422, "invalid_parameter");
    let other = app.other_team_key().await;
    app.request_as(&other, reqwest::Method::POST, "/emails", Some(body(&news)), &[])
        .await
        .expect_error(404, "not_found");
    assert_eq!(app.get("/emails").await.body["data"].as_array().unwrap().len(), 2, "nothing else was accepted");
}

async fn a_scheduled_topic_email_respects_an_opt_out_made_after_it_was_accepted(app: TestApp) {
    let news = topic(&app, "News", "opt_in", "public").await;
    let ann = contact(&app, json!({"email": "delivered+ann@resend.dev"})).await;
    let body = json!({
        "from": "news@anything.dev", "to": "delivered+ann@resend.dev", "subject": "Later", "text": "x",
        "topic_id": news, "scheduled_at": "in 1 hour",
    });
    let id = app.post("/emails", body).await.expect(200)["id"].as_str().unwrap().to_string();
    app.patch(&format!("/contacts/{ann}/topics"), json!({"topics": [{"id": news, "subscription": "opt_out"}]}))
        .await
        .expect(200);
    app.clock.advance(chrono::Duration::hours(2));
    app.drain().await;
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "suppressed");
}

/// The `<url>` of a received message's `List-Unsubscribe` header.
pub(crate) fn list_unsubscribe(text: &str) -> String {
    let line = text.lines().find(|l| l.starts_with("List-Unsubscribe: ")).unwrap_or_else(|| panic!("{text}"));
    line.trim_start_matches("List-Unsubscribe: <").trim_end_matches('>').to_string()
}

pub(crate) async fn one_click(app: &TestApp, url: &str) -> reqwest::Response {
    app.client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap()
}

async fn topic_emails_carry_each_recipients_signed_one_click_link(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["contact.created", "contact.updated"])).await;
    let news = topic(&app, "News", "opt_in", "public").await;
    let bob = contact(&app, json!({"email": "bob@acme-customer.io", "first_name": "Bob"})).await;

    let body = json!({
        "from": "Acme <news@acme.dev>", "to": ["bob@acme-customer.io", "carol@acme-customer.io"],
        "subject": "News", "html": "<a href=\"{{{RESEND_UNSUBSCRIBE_URL}}}\">Unsubscribe</a>", "topic_id": news,
    });
    let id = app.post("/emails", body).await.expect(200)["id"].as_str().unwrap().to_string();
    assert_eq!(app.drain().await, 2);
    assert_eq!(app.get(&format!("/emails/{id}")).await.body["last_event"], "delivered");
    let received = sink.received();
    assert_eq!(received.len(), 2, "each recipient gets their own message with their own link");
    let mut links = Vec::new();
    for message in &received {
        let text = message.text();
        assert_eq!(message.recipients.len(), 1);
        let url = list_unsubscribe(&text);
        assert!(url.starts_with(&format!("{}/unsubscribe/", app.base_url)), "{url}");
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{text}");
        let signature = text.split("DKIM-Signature:").nth(1).unwrap().split("\r\n").take(8).collect::<String>();
        let compact = signature.to_ascii_lowercase().replace([' ', '\t'], "");
        let signed: Vec<&str> = compact.split(";h=").nth(1).unwrap().split(';').next().unwrap().split(':').collect();
        assert!(
            signed.contains(&"list-unsubscribe") && signed.contains(&"list-unsubscribe-post"),
            "RFC 8058 wants both signed: {signature}"
        );
        assert!(!text.contains("RESEND_UNSUBSCRIBE_URL"), "the placeholder is replaced: {text}");
        links.push((message.recipients[0].clone(), url));
    }
    links.sort();
    let (bob_link, carol_link) = (links[0].1.clone(), links[1].1.clone());
    assert_ne!(bob_link, carol_link);

    // One-click (as a mailbox provider sends it): exactly Bob, exactly this topic.
    let response = one_click(&app, &bob_link).await;
    assert_eq!(response.status(), StatusCode::OK);
    let bob_topics = app.get(&format!("/contacts/{bob}/topics")).await.expect(200)["data"].clone();
    assert_eq!(bob_topics[0]["subscription"], "opt_out", "{bob_topics}");
    assert_eq!(app.get(&format!("/contacts/{bob}")).await.body["unsubscribed"], false, "only the topic");
    app.get("/contacts/carol@acme-customer.io").await.expect(404);
    // Idempotent: a second click (mail clients retry) changes nothing and says the same.
    assert_eq!(one_click(&app, &bob_link).await.status(), StatusCode::OK);
    app.dispatch_webhooks().await;
    let types: Vec<String> = receiver.received().iter().map(|d| d.body["type"].as_str().unwrap().into()).collect();
    assert_eq!(types, ["contact.created", "contact.updated"], "one event for the one change");
    assert_eq!(receiver.received()[1].body["data"]["id"], json!(bob));
    assert!(receiver.received()[1].verified);

    // A multipart one-click (RFC 8058 allows both encodings) from Carol, not yet a
    // contact: she becomes one, opted out of the topic.
    let form = reqwest::multipart::Form::new().text("List-Unsubscribe", "One-Click");
    let response = app.client.post(&carol_link).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let carol = app.get("/contacts/carol@acme-customer.io").await.expect(200).clone();
    let carol_topics = app.get(&format!("/contacts/{}/topics", carol["id"].as_str().unwrap())).await.body.clone();
    assert_eq!(carol_topics["data"][0]["subscription"], "opt_out", "{carol_topics}");

    // The next email about the topic reaches neither; the timeline says why.
    let again = send(&app, "news@acme.dev", json!(["bob@acme-customer.io", "carol@acme-customer.io"]), &news).await;
    app.drain().await;
    assert_eq!(sink.received().len(), 2, "nothing more was sent");
    let done = outcomes(&app, &again).await;
    assert!(done.iter().all(|(_, status, _)| status == "suppressed"), "{done:?}");
}

async fn forged_and_altered_links_are_refused_and_change_nothing(app: TestApp) {
    let news = topic(&app, "News", "opt_in", "public").await;
    let ann = contact(&app, json!({"email": "ann@example.org"})).await;
    let team = app.team.id;
    let topic_id = TopicId::parse(&news).unwrap();
    let url = app.app.postline.unsubscribe_url(team, None, "ann@example.org", Some(topic_id));
    let token = url.rsplit('/').next().unwrap().to_string();
    let (payload, tag) = token.split_once('.').unwrap();

    // A different address under the same signature, a flipped signature character,
    // a made-up token, and a valid token of another kind (a share link's).
    let other_payload = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(payload).unwrap()).unwrap();
        claims["r"] = json!("eve@example.org");
        engine.encode(claims.to_string())
    };
    let flipped = {
        let mut chars: Vec<char> = tag.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let email = app
        .post("/emails", json!({"from": "a@x.dev", "to": "delivered@resend.dev", "subject": "s", "text": "t"}))
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let share = app.post(&format!("/emails/{email}/share"), json!({})).await.expect(200).clone();
    let share_url = share.as_object().unwrap().values().find_map(|v| v.as_str().filter(|s| s.contains("token=")));
    let share_token = share_url.map(|u| u.rsplit("token=").next().unwrap().to_string()).unwrap_or_default();
    assert!(!share_token.is_empty(), "{share}");
    for forged in [format!("{other_payload}.{tag}"), format!("{payload}.{flipped}"), "abc.def".into(), share_token] {
        let url = format!("{}/unsubscribe/{forged}", app.base_url);
        let response = one_click(&app, &url).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{forged}");
        let page = app.client.get(&url).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
        assert!(page.text().await.unwrap().contains("not valid"));
    }
    let topics = app.get(&format!("/contacts/{ann}/topics")).await.expect(200)["data"].clone();
    assert_eq!(topics[0]["subscription"], "opt_in", "nothing changed");
    app.get("/contacts/eve@example.org").await.expect(404);

    // An expired link (links live ten years) is refused too.
    app.clock.advance(chrono::Duration::days(3651));
    assert_eq!(one_click(&app, &url).await.status(), StatusCode::NOT_FOUND);
    // A GET never unsubscribes (link scanners open every URL).
    app.clock.advance(chrono::Duration::days(-3651));
    app.client.get(&url).send().await.unwrap();
    assert_eq!(app.get(&format!("/contacts/{ann}/topics")).await.body["data"][0]["subscription"], "opt_in");
    // A POST that is neither one-click nor the page's form is a 400.
    let bad = app.client.post(&url).body("hello=1").header("content-type", "application/x-www-form-urlencoded");
    assert_eq!(bad.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
}

async fn form(app: &TestApp, url: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let response = app.client.post(url).form(fields).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn the_preferences_page_saves_topic_choices_and_unsubscribes_from_everything(app: TestApp) {
    let news = topic(&app, "News & updates", "opt_in", "public").await;
    let offers = topic(&app, "Offers", "opt_out", "public").await;
    let internal = topic(&app, "Internal", "opt_out", "private").await;
    let ann = contact(&app, json!({"email": "ann@example.org"})).await;
    let url = app.app.postline.unsubscribe_url(app.team.id, None, "Ann <ANN@example.org>", None);

    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("form-action 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("News &amp; updates") && html.contains("Offers"), "{html}");
    assert!(!html.contains("Internal"), "a private topic shows only to those opted in");
    assert!(html.contains(&format!("value=\"{news}\" id=\"topic-{news}\" checked")), "{html}");
    assert!(html.contains("ann@example.org"));

    let (status, html) = form(&app, &url, &[("topic", &offers), ("action", "save")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your preferences have been saved."), "{html}");
    let topics = app.get(&format!("/contacts/{ann}/topics")).await.expect(200)["data"].clone();
    let subscription = |id: &str| {
        topics.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()["subscription"].as_str().unwrap().to_string()
    };
    assert_eq!((subscription(&news), subscription(&offers)), ("opt_out".into(), "opt_in".into()));
    assert_eq!(subscription(&internal), "opt_out", "a topic not shown is not touched");

    // A topic the page does not offer cannot be chosen through it.
    let (status, _) = form(&app, &url, &[("topic", &internal), ("action", "save")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, html) = form(&app, &url, &[("action", "unsubscribe_all")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("You have been unsubscribed from all emails."), "{html}");
    assert_eq!(app.get(&format!("/contacts/{ann}")).await.body["unsubscribed"], true);
    // Saving topics again is coming back.
    form(&app, &url, &[("topic", &news), ("action", "save")]).await;
    assert_eq!(app.get(&format!("/contacts/{ann}")).await.body["unsubscribed"], false);

    // A link without a topic is a global one-click unsubscribe.
    assert_eq!(one_click(&app, &url).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/contacts/{ann}")).await.body["unsubscribed"], true);
}

async fn the_unsubscribe_page_branding_is_checked_and_per_team(app: TestApp) {
    let defaults = app.get("/unsubscribe-page").await.expect(200).clone();
    assert_eq!(defaults["object"], "unsubscribe_page");
    assert_eq!(defaults["title"], "Email preferences");
    let branded = json!({
        "title": "Acme mail", "accent_color": "#ff5500", "logo_url": "https://acme.dev/logo.png",
        "company_name": "Acme <Inc>", "unsubscribe_button": "Stop everything",
    });
    let saved = app.patch("/unsubscribe-page", branded).await.expect(200).clone();
    assert_eq!(saved["title"], "Acme mail");
    for bad in [
        json!({"accent_color": "red; background: url(x)"}),
        json!({"logo_url": "javascript:alert(1)"}),
        json!({"title": ""}),
        json!({"unknown": "x"}),
    ] {
        app.patch("/unsubscribe-page", bad).await.expect_error(400, "validation_error");
    }
    assert_eq!(app.get("/unsubscribe-page").await.body, saved, "refused changes change nothing");

    let url = app.app.postline.unsubscribe_url(app.team.id, None, "ann@example.org", None);
    let html = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<h1>Acme mail</h1>") && html.contains("#ff5500"), "{html}");
    assert!(html.contains("src=\"https://acme.dev/logo.png\"") && html.contains("Acme &lt;Inc&gt;"), "{html}");
    assert!(html.contains("Stop everything"));

    let other = app.other_team_key().await;
    let theirs = app.request_as(&other, reqwest::Method::GET, "/unsubscribe-page", None, &[]).await;
    assert_eq!(theirs.expect(200)["title"], "Email preferences", "another team has its own page");
    let sending = app.key_with("sending_access").await;
    app.request_as(&sending, reqwest::Method::PATCH, "/unsubscribe-page", Some(json!({"title": "x"})), &[])
        .await
        .expect_error(401, "restricted_api_key");
}
