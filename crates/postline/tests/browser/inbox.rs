//! The developer inbox in a real browser.

use postline_testkit::{Backend, TestApp, browser::Browser};
use serde_json::json;

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
