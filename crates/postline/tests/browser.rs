//! The preferences page in a real browser: headless Chromium (from Debian, driven
//! over WebDriver) opens a recipient's unsubscribe link, sees the team's branding
//! and topics, changes the ticks, saves, and then unsubscribes from everything;
//! the API shows exactly what was chosen. `scripts/test` installs Chromium and
//! requires this test to run.

use postline_core::ids::TopicId;
use postline_testkit::{Backend, TestApp, browser::Browser};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_manages_topics_and_unsubscribes_on_the_preferences_page_in_a_real_browser() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::start(Backend::Sqlite).await;
    let topic = |name: &'static str, default: &'static str| {
        let app = &app;
        async move {
            let body = json!({"name": name, "default_subscription": default, "visibility": "public",
                              "description": format!("All about {name}")});
            app.post("/topics", body).await.expect(201)["id"].as_str().unwrap().to_string()
        }
    };
    let news = topic("News", "opt_in").await;
    let offers = topic("Offers", "opt_out").await;
    let ann = app.post("/contacts", json!({"email": "ann@example.org"})).await.expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(
        "/unsubscribe-page",
        json!({"title": "Acme mail preferences", "accent_color": "#ff5500", "company_name": "Acme Inc",
               "save_button": "Save my choices", "unsubscribe_button": "Stop all Acme email"}),
    )
    .await
    .expect(200);
    let url = app.app.postline.unsubscribe_url(app.team.id, None, "ann@example.org", TopicId::parse(&news).ok());

    browser.goto(&url).await;
    let text = browser.text().await;
    assert!(text.contains("Acme mail preferences") && text.contains("Acme Inc"), "{text}");
    assert!(text.contains("ann@example.org") && text.contains("All about Offers"), "{text}");
    let (news_box, offers_box) = (format!("#topic-{news}"), format!("#topic-{offers}"));
    assert!(browser.is_checked(&news_box).await, "an opt_in topic starts ticked");
    assert!(!browser.is_checked(&offers_box).await, "an opt_out topic starts unticked");
    let script = "return getComputedStyle(document.querySelector('#save')).backgroundColor";
    let accent = browser.client().execute(script, vec![]).await.unwrap();
    assert_eq!(accent, "rgb(255, 85, 0)", "the team's accent colour styles the button");

    browser.set_checked(&news_box, false).await;
    browser.set_checked(&offers_box, true).await;
    browser.click_and_wait_for_page("#save").await;
    let text = browser.text().await;
    assert!(text.contains("Your preferences have been saved."), "{text}");
    assert!(!browser.is_checked(&news_box).await && browser.is_checked(&offers_box).await, "the page shows the choice");
    let topics = app.get(&format!("/contacts/{ann}/topics")).await.expect(200)["data"].clone();
    let subscription = |id: &str| {
        topics.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()["subscription"].as_str().unwrap().to_string()
    };
    assert_eq!(subscription(&news), "opt_out");
    assert_eq!(subscription(&offers), "opt_in");

    browser.click_and_wait_for_page("#unsubscribe-all").await;
    let text = browser.text().await;
    assert!(text.contains("You have been unsubscribed from all emails."), "{text}");
    assert!(text.contains("You are unsubscribed from all emails"), "{text}");
    assert_eq!(app.get(&format!("/contacts/{ann}")).await.body["unsubscribed"], true);

    // Coming back: tick a topic and save.
    browser.set_checked(&news_box, true).await;
    browser.click_and_wait_for_page("#save").await;
    assert_eq!(app.get(&format!("/contacts/{ann}")).await.body["unsubscribed"], false);
    assert!(browser.is_checked(&news_box).await);
    browser.close().await;
}

/// The dashboard in a real browser: sign in through the form, find an email sent
/// through the API, and watch its timeline move from queued to delivered without
/// reloading (the page's script refreshes it); create an API key and see it once. Screenshots of the pages are saved for
/// people to look at (`target/screenshots`, see the README).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_signs_in_and_watches_an_emails_timeline_update_live() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::start(Backend::Sqlite).await;
    let password = "a long enough password";
    app.app
        .postline
        .create_user(app.team.id, "ada@acme.dev", password, postline_core::users::Role::Admin, None)
        .await
        .unwrap();
    let id = app
        .post(
            "/emails",
            json!({"from": "Acme <onboarding@resend.dev>", "to": "delivered@resend.dev",
                               "subject": "Your receipt", "html": "<h1>Thanks!</h1><p>Paid in full.</p>"}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();

    browser.goto(&format!("{}/dashboard/emails/{id}", app.base_url)).await;
    assert!(browser.current_url().await.contains("/dashboard/login?next="), "signing in comes first");
    browser.screenshot("sign-in").await;
    browser.type_into("#email", "ada@acme.dev").await;
    browser.type_into("#password", "wrong password!").await;
    browser.click_and_wait_for_page("button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("Wrong email or password."), "the error shows next to the field: {text}");
    browser.type_into("#email", "ada@acme.dev").await;
    browser.type_into("#password", password).await;
    browser.click_and_wait_for_page("button[type=submit]").await;
    assert!(browser.current_url().await.ends_with(&format!("/dashboard/emails/{id}")), "back where they wanted to go");
    let text = browser.text().await;
    assert!(text.contains("Your receipt") && text.contains("queued"), "{text}");

    let timeline = browser.find("#timeline").await.text().await.unwrap();
    assert!(!timeline.contains("delivered"), "not delivered yet: {timeline}");
    app.drain().await;
    browser.wait_for_text_in("#timeline", "delivered", std::time::Duration::from_secs(15)).await;
    browser.screenshot("email").await;
    browser.goto(&format!("{}/dashboard/emails", app.base_url)).await;
    let text = browser.text().await;
    assert!(text.contains("Your receipt") && text.contains("delivered@resend.dev"), "{text}");
    browser.screenshot("emails").await;

    // An admin creates an API key and sees its token once.
    browser.goto(&format!("{}/dashboard/api-keys", app.base_url)).await;
    browser.type_into("#name", "Production").await;
    browser.click_and_wait_for_page("form.stacked button[type=submit]").await;
    let token = browser.find("#token").await.text().await.unwrap();
    assert!(token.starts_with("re_") && token.len() == 43, "{token}");
    assert!(browser.text().await.contains("shown only this once"));
    browser.screenshot("api-key-created").await;
    browser.goto(&format!("{}/dashboard/api-keys", app.base_url)).await;
    let text = browser.text().await;
    assert!(text.contains("Production") && !text.contains(&token), "{text}");
    browser.screenshot("api-keys").await;

    // The other pages render for a person to look at (their behaviour is tested over HTTP).
    app.post("/contacts", json!({"email": "ann@example.org", "first_name": "Ann"})).await.expect(201);
    let domain =
        app.post("/domains", json!({"name": "acme.dev"})).await.expect(201)["id"].as_str().unwrap().to_string();
    for (path, name, heading) in [
        ("/dashboard/domains", "domains", "Domains"),
        ("/dashboard/audience", "audience", "Audience"),
        ("/dashboard/webhooks", "webhooks", "Webhooks"),
        ("/dashboard/metrics", "metrics", "Metrics"),
    ] {
        browser.goto(&format!("{}{path}", app.base_url)).await;
        let text = browser.text().await;
        assert!(text.contains(heading), "{path}: {text}");
        browser.screenshot(name).await;
    }
    browser.goto(&format!("{}/dashboard/domains/{domain}", app.base_url)).await;
    assert!(browser.text().await.contains("acme.dev"));
    browser.screenshot("domain").await;
    browser.close().await;
}

/// The developer inbox in a real browser: with capture on, an email sent through the
/// API appears in the open inbox page without reloading, and its page shows the
/// compatibility and link findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_developer_inbox_shows_a_captured_message_live() {
    let Some(browser) = Browser::start().await else { return };
    let options = postline_testkit::test_app::Options { capture: true, ..Default::default() };
    let app = TestApp::start_with(Backend::Sqlite, options).await;
    let password = "a long enough password";
    app.app
        .postline
        .create_user(app.team.id, "dev@startup.dev", password, postline_core::users::Role::Member, None)
        .await
        .unwrap();
    browser.goto(&format!("{}/dashboard/inbox", app.base_url)).await;
    browser.type_into("#email", "dev@startup.dev").await;
    browser.type_into("#password", password).await;
    browser.click_and_wait_for_page("button[type=submit]").await;
    assert!(browser.text().await.contains("No messages yet"));

    app.post("/emails", json!({"from": "Startup <hello@startup.dev>", "to": "ann@example-customer.org",
                               "subject": "Welcome", "html": "<p>Hi <a href=\"http://localhost:3000/start\">start</a></p>"}))
        .await
        .expect(200);
    app.drain().await;
    browser.wait_for_text_in("#inbox", "ann@example-customer.org", std::time::Duration::from_secs(15)).await;
    browser.screenshot("inbox").await;
    browser.click_and_wait_for_page("#inbox a").await;
    let text = browser.text().await;
    assert!(text.contains("Welcome") && text.contains("points at this machine"), "{text}");
    browser.screenshot("inbox-message").await;
    browser.close().await;
}
