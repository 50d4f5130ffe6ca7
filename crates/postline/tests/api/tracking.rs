//! Open and click tracking: a tracked email reaches a real SMTP sink with a pixel and
//! rewritten links (still DKIM-valid), a real HTTP client opens the pixel and follows
//! the links on the domain's tracking host to a local page, and the events and
//! signed `email.opened`/`email.clicked` webhooks come out in the contract's shape.
//! Tracking is off by default; forged, altered and foreign tokens get 404 and record
//! nothing; machine opens and scanner clicks are recorded with their flags.

use base64::Engine;
use postline_testkit::{
    TestApp, backend_tests, contract::contract, files::FileServer, smtp_sink::SmtpSink,
    webhook_receiver::WebhookReceiver,
};
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::{Value, json};

use crate::delivery::app_with;

backend_tests!(
    tracked_emails_are_opened_and_clicked_through_a_real_client_following_the_rewritten_links,
    tracking_is_off_by_default_and_nothing_is_rewritten,
    forged_altered_and_foreign_tokens_get_404_and_record_nothing,
    machine_opens_and_scanner_clicks_are_recorded_with_their_flags,
);

pub(crate) const BROWSER: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                       Version/17.4 Safari/605.1.15";

/// Switches tracking on for acme.dev (and sets its tracking subdomain).
pub(crate) async fn track(app: &TestApp, subdomain: Option<&str>) {
    let domains = app.get("/domains").await.expect(200)["data"].clone();
    let id = domains.as_array().unwrap().iter().find(|d| d["name"] == "acme.dev").unwrap()["id"].as_str().unwrap();
    let mut change = json!({"open_tracking": true, "click_tracking": true});
    if let Some(label) = subdomain {
        change["tracking_subdomain"] = json!(label);
    }
    let updated = app.patch(&format!("/domains/{id}"), change).await;
    updated.expect(200);
}

async fn send(app: &TestApp, body: Value) -> String {
    app.post("/emails", body).await.expect(200)["id"].as_str().unwrap().to_string()
}

/// A received message's HTML and text parts, decoded.
pub(crate) fn parts(raw: &[u8]) -> (String, String) {
    let message = mail_parser::MessageParser::default().parse(raw).expect("a MIME message");
    (message.body_html(0).unwrap().into_owned(), message.body_text(0).unwrap().into_owned())
}

/// Every double-quoted `href` value in the HTML (any case), in order.
pub(crate) fn hrefs(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    lower.match_indices("href=\"").map(|(at, _)| html[at + 6..].split('"').next().unwrap().to_string()).collect()
}

/// The open pixel's URL.
pub(crate) fn pixel(html: &str) -> String {
    let at = html.find("/t/o/").unwrap_or_else(|| panic!("no pixel in {html}"));
    let start = html[..at].rfind('"').unwrap() + 1;
    html[start..].split('"').next().unwrap().to_string()
}

/// Whether every DKIM signature of the message verifies against the test DNS.
async fn dkim_passes(app: &TestApp, raw: &[u8]) -> bool {
    use mail_auth::{
        AuthenticatedMessage, DkimResult, MessageAuthenticator,
        hickory_resolver::config::{ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts},
    };
    let server = app.dns.address;
    let connection = |protocol| {
        let mut config = ConnectionConfig::new(protocol);
        config.port = server.port();
        config
    };
    let name_server = NameServerConfig::new(
        server.ip(),
        true,
        vec![connection(ProtocolConfig::Udp), connection(ProtocolConfig::Tcp)],
    );
    let config = ResolverConfig::from_parts(None, vec![], vec![name_server]);
    let authenticator = MessageAuthenticator::new(config, ResolverOpts::default()).unwrap();
    let message = AuthenticatedMessage::parse(raw).unwrap();
    let results = authenticator.verify_dkim(&message).await;
    !results.is_empty() && results.iter().all(|r| r.result() == &DkimResult::Pass)
}

/// The opens and clicks on an email's timeline.
async fn engagements(app: &TestApp, id: &str) -> Vec<Value> {
    let events = app.get(&format!("/emails/{id}/events")).await.expect(200)["data"].as_array().unwrap().clone();
    events.into_iter().filter(|e| e["status"] == "opened" || e["status"] == "clicked").collect()
}

async fn last_event(app: &TestApp, id: &str) -> String {
    app.get(&format!("/emails/{id}")).await.body["last_event"].as_str().unwrap().to_string()
}

fn client(app: &TestApp, follow: bool) -> Client {
    Client::builder()
        .resolve("links.acme.dev", app.address)
        .redirect(if follow { Policy::limited(5) } else { Policy::none() })
        .user_agent(BROWSER)
        .build()
        .unwrap()
}

async fn tracked_emails_are_opened_and_clicked_through_a_real_client_following_the_rewritten_links(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let files = FileServer::start().await;
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["email.opened", "email.clicked"])).await;
    track(&app, Some("links")).await;
    let topic = app
        .post("/topics", json!({"name": "News", "default_subscription": "opt_in", "visibility": "public"}))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();

    let target = files.url("/invoice.pdf?from=mail&n=1");
    let html = format!(
        "<html><body><p>Your <A class=\"btn\" HREF='{}'>invoice</A>.</p>\
         <a href=\"mailto:help@acme.dev\">Help</a> <a href=\"#top\">Top</a>\
         <a href=\"https://acme.dev/private\" data-postline-track=\"false\">Private</a>\
         <a href=\"{{{{{{RESEND_UNSUBSCRIBE_URL}}}}}}\">Unsubscribe</a></body></html>",
        target.replace('&', "&amp;")
    );
    let text = format!("Your invoice: {target}");
    let id = send(
        &app,
        json!({
            "from": "Acme <billing@acme.dev>", "to": ["bob@acme-customer.io", "carol@acme-customer.io"],
            "subject": "Your invoice", "html": html, "text": text, "topic_id": topic,
        }),
    )
    .await;
    assert_eq!(app.drain().await, 2);
    assert_eq!(last_event(&app, &id).await, "delivered");

    // Each recipient has their own rendering: their own pixel and links, DKIM-signed.
    let received = sink.received();
    assert_eq!(received.len(), 2, "tracked messages are rendered per recipient");
    let base = format!("http://links.acme.dev:{}", app.address.port());
    let mut renderings = Vec::new();
    for message in &received {
        assert_eq!(message.recipients.len(), 1);
        let (html, plain) = parts(&message.data);
        assert_eq!(plain.trim_end(), format!("Your invoice: {target}"), "the text part is never changed");
        let links = hrefs(&html);
        assert_eq!(links.len(), 5, "{html}");
        assert!(links[0].starts_with(&format!("{base}/t/c/")), "{html}");
        assert!(html.contains("<A class=\"btn\" HREF=\""), "only the link changes: {html}");
        assert_eq!(links[1..4], ["mailto:help@acme.dev", "#top", "https://acme.dev/private"]);
        assert!(links[4].starts_with(&format!("{}/unsubscribe/", app.base_url)), "{}", links[4]);
        let pixel = pixel(&html);
        assert!(pixel.starts_with(&format!("{base}/t/o/")), "{pixel}");
        assert!(html.find(&pixel).unwrap() < html.find("</body>").unwrap(), "{html}");
        assert!(dkim_passes(&app, &message.data).await, "tracking happens before signing");
        let tampered = message.text().replacen("Subject: Your invoice", "Subject: Your invoicf", 1);
        assert!(!dkim_passes(&app, tampered.as_bytes()).await, "the verifier does check");
        renderings.push((message.recipients[0].clone(), pixel, links[0].clone()));
    }
    renderings.sort();
    let (bob_pixel, bob_link) = (renderings[0].1.clone(), renderings[0].2.clone());
    assert_ne!(bob_pixel, renderings[1].1);
    assert_ne!(bob_link, renderings[1].2);

    // Bob reads it a few minutes later, through a proxy on the same host.
    app.clock.advance(chrono::Duration::minutes(3));
    let opened = client(&app, false).get(&bob_pixel).header("x-forwarded-for", "203.0.113.7").send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    assert_eq!(opened.headers()["content-type"], "image/gif");
    assert_eq!(opened.headers()["cache-control"], "no-store, private");
    let gif = opened.bytes().await.unwrap();
    assert_eq!(gif.len(), 43);
    assert!(gif.starts_with(b"GIF89a"));
    assert_eq!(last_event(&app, &id).await, "opened");

    // The link redirects to exactly where the email pointed…
    app.clock.advance(chrono::Duration::minutes(1));
    let redirect = client(&app, false).get(&bob_link).header("x-forwarded-for", "203.0.113.7").send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert_eq!(redirect.headers()["location"], target.as_str(), "character references decoded");
    // …and a client following it lands on the page.
    let landed = client(&app, true).get(&bob_link).send().await.unwrap();
    assert_eq!(landed.status(), StatusCode::OK);
    assert_eq!(landed.url().as_str(), target);
    assert_eq!(landed.bytes().await.unwrap().as_ref(), postline_testkit::files::INVOICE);
    assert_eq!(last_event(&app, &id).await, "clicked");
    // A later open does not move `last_event` back.
    client(&app, false).get(&bob_pixel).send().await.unwrap();
    assert_eq!(last_event(&app, &id).await, "clicked", "a click beats an open");

    let events = engagements(&app, &id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "clicked", "clicked", "opened"]);
    assert!(events.iter().all(|e| e["recipient"] == "bob@acme-customer.io"), "{events:?}");
    let open = &events[0]["data"]["open"];
    assert_eq!(open["ipAddress"], "203.0.113.7");
    assert_eq!(open["userAgent"], BROWSER);
    assert_eq!(open["machine"], false);
    let click = &events[1]["data"]["click"];
    assert_eq!(click["link"], target.as_str());
    assert_eq!(click["ipAddress"], "203.0.113.7");
    assert_eq!(click["userAgent"], BROWSER);
    assert_eq!(click["scanner"], false);
    assert_eq!(events[2]["data"]["click"]["ipAddress"], "127.0.0.1", "without a proxy, the peer's address");

    app.dispatch_webhooks().await;
    let deliveries = receiver.received();
    let types: Vec<&str> = deliveries.iter().map(|d| d.body["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["email.opened", "email.clicked", "email.clicked", "email.opened"]);
    for delivery in &deliveries {
        assert!(delivery.verified, "signed with the endpoint's secret");
        let schema = if delivery.body["type"] == "email.opened" { "EmailOpenedEvent" } else { "EmailClickedEvent" };
        contract().check_schema(schema, &delivery.body);
        assert_eq!(delivery.body["data"]["email_id"], id.as_str());
    }
    let click = &deliveries[1].body["data"]["click"];
    assert_eq!(
        click.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["ipAddress", "link", "scanner", "timestamp", "userAgent"],
        "{click}"
    );
    assert_eq!(click["link"], target.as_str());
    assert_eq!(click["timestamp"], events[1]["data"]["click"]["timestamp"]);
    assert_eq!(deliveries[0].body["data"]["open"]["ipAddress"], "203.0.113.7");
}

async fn tracking_is_off_by_default_and_nothing_is_rewritten(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    let html = "<p><a href=\"https://acme.dev/post?a=1&amp;b=2\">Read</a></p>";
    let id = send(
        &app,
        json!({"from": "billing@acme.dev", "to": ["bob@acme-customer.io", "carol@acme-customer.io"], "subject": "Hi", "html": html}),
    )
    .await;
    assert_eq!(app.drain().await, 2);
    let received = sink.received();
    assert_eq!(received.len(), 1, "untracked mail to one domain is still one transaction");
    let (body, _) = parts(&received[0].data);
    assert_eq!(body.trim_end(), html);
    assert!(!received[0].text().contains("/t/o/") && !received[0].text().contains("/t/c/"));
    assert!(engagements(&app, &id).await.is_empty());
}

async fn forged_altered_and_foreign_tokens_get_404_and_record_nothing(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    track(&app, None).await;
    let receiver = WebhookReceiver::start().await;
    app.subscribe(&receiver, json!(["email.opened", "email.clicked"])).await;
    let html = "<a href=\"https://acme.dev/welcome\">Welcome</a>";
    let id =
        send(&app, json!({"from": "hi@acme.dev", "to": "bob@acme-customer.io", "subject": "Hi", "html": html})).await;
    app.drain().await;
    let (html, _) = parts(&sink.received()[0].data);
    let (pixel, link) = (pixel(&html), hrefs(&html)[0].clone());
    assert!(link.starts_with(&format!("{}/t/c/", app.base_url)), "without a subdomain, the public URL: {link}");
    let token = |url: &str| url.rsplit('/').next().unwrap().to_string();
    let (open_token, click_token) = (token(&pixel), token(&link));
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, mac) = click_token.split_once('.').unwrap();
    let flipped = {
        let mut chars: Vec<char> = mac.chars().collect();
        chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
        format!("{payload}.{}", chars.into_iter().collect::<String>())
    };
    let swapped = {
        let mut claims: Value = serde_json::from_slice(&engine.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["u"], "https://acme.dev/welcome", "{claims}");
        claims["u"] = json!("https://evil.example/phish");
        format!("{}.{mac}", engine.encode(claims.to_string()))
    };
    let unsubscribe = app.app.postline.unsubscribe_url(app.team.id, None, "bob@acme-customer.io", None);
    let foreign = [
        flipped,
        swapped,
        "abc.def".to_string(),
        "nonsense".to_string(),
        format!(
            "{}.{}",
            engine.encode(br#"{"exp":99999999999,"t":"x","e":"y","r":"z","u":"https://evil.example"}"#),
            mac
        ),
        token(&unsubscribe),
    ];
    let http = Client::builder().redirect(Policy::none()).user_agent(BROWSER).build().unwrap();
    app.clock.advance(chrono::Duration::minutes(5));
    for forged in foreign.iter().chain([&open_token]) {
        for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
            let url = format!("{}/t/c/{forged}", app.base_url);
            let response = http.request(method.clone(), &url).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {url}");
            assert!(response.headers().get("location").is_none());
        }
    }
    for forged in foreign.iter().chain([&click_token]) {
        for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
            let url = format!("{}/t/o/{forged}", app.base_url);
            assert_eq!(
                http.request(method.clone(), &url).send().await.unwrap().status(),
                StatusCode::NOT_FOUND,
                "{url}"
            );
        }
    }
    assert!(engagements(&app, &id).await.is_empty(), "nothing was recorded");
    assert_eq!(last_event(&app, &id).await, "delivered");

    // The real link goes only where the email pointed, whatever is added to it.
    let response = http.get(format!("{link}?url=https://evil.example")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "https://acme.dev/welcome");
    // An expired link (ten years) is refused too.
    app.clock.advance(chrono::Duration::days(3651));
    assert_eq!(http.get(&link).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(engagements(&app, &id).await.len(), 1, "only the genuine click");
    app.dispatch_webhooks().await;
    assert_eq!(receiver.received().len(), 1);
}

async fn machine_opens_and_scanner_clicks_are_recorded_with_their_flags(app: TestApp) {
    let sink = SmtpSink::start().await;
    let app = app_with(app.backend, &sink, |_| {}).await;
    track(&app, Some("links")).await;
    let html = "<p><a href=\"https://acme.dev/welcome\">Welcome</a></p>";
    let id =
        send(&app, json!({"from": "hi@acme.dev", "to": "bob@acme-customer.io", "subject": "Hi", "html": html})).await;
    app.drain().await;
    let (html, _) = parts(&sink.received()[0].data);
    let (pixel, link) = (pixel(&html), hrefs(&html)[0].clone());
    let http = client(&app, false);

    // A security gateway opens every link as the message arrives.
    let instant = http.get(&link).send().await.unwrap();
    assert_eq!(instant.status(), StatusCode::FOUND, "a scanner still gets the redirect");
    app.clock.advance(chrono::Duration::minutes(10));
    let head = http.head(&link).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::FOUND);
    assert_eq!(head.headers()["location"], "https://acme.dev/welcome");
    http.get(&link).header("user-agent", "Mimecast-URL-Protect/1.0").send().await.unwrap();
    // Apple Mail Privacy Protection fetches the pixel as plain `Mozilla/5.0`.
    let prefetched = http.get(&pixel).header("user-agent", "Mozilla/5.0").send().await.unwrap();
    assert_eq!(prefetched.status(), StatusCode::OK);
    assert_eq!(last_event(&app, &id).await, "delivered", "machines do not move last_event");

    let events = engagements(&app, &id).await;
    let flags: Vec<(String, Value, Value)> = events
        .iter()
        .map(|e| {
            let kind = e["status"].as_str().unwrap().to_string();
            let data = if kind == "opened" { &e["data"]["open"] } else { &e["data"]["click"] };
            let flag = if kind == "opened" { "machine" } else { "scanner" };
            (kind, data[flag].clone(), data[format!("{flag}_reason")].clone())
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("clicked".into(), json!(true), json!("soon_after_delivery")),
            ("clicked".into(), json!(true), json!("head_request")),
            ("clicked".into(), json!(true), json!("mimecast")),
            ("opened".into(), json!(true), json!("apple_mail_privacy_protection")),
        ]
    );

    // A person afterwards counts.
    http.get(&pixel).send().await.unwrap();
    http.get(&link).send().await.unwrap();
    assert_eq!(last_event(&app, &id).await, "clicked");
    let events = engagements(&app, &id).await;
    assert_eq!(events[4]["data"]["open"]["machine"], false);
    assert!(events[4]["data"]["open"].get("machine_reason").is_none());
    assert_eq!(events[5]["data"]["click"]["scanner"], false);
}
