//! The preferences page in a real browser: headless Chromium opens a recipient's
//! unsubscribe link, sees the team's branding and topics, changes the ticks, saves,
//! and then unsubscribes from everything; the API shows exactly what was chosen.

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
