//! The Broadcasts pages in a real browser: a broadcast is written in the editor while
//! its preview follows the typing (app.js posting the form to the server, which
//! renders it with core's own code), a placeholder is inserted from the menu at the
//! cursor, a test email is sent, the broadcast is sent after its confirmation page,
//! and its performance page shows what happened to each copy.

use std::time::{Duration, Instant};

use postline_testkit::{Backend, TestApp, browser::Browser};
use serde_json::json;

/// The preview frame's document, once it contains `wanted` (app.js updates it after
/// a short pause in the typing).
async fn preview_with(browser: &Browser, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let html = browser.run("return document.getElementById('preview-frame').srcdoc").await;
        let html = html.as_str().unwrap_or_default().to_string();
        if html.contains(wanted) {
            return html;
        }
        assert!(Instant::now() < deadline, "the preview never showed `{wanted}`: {html}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_is_written_with_a_live_preview_tested_sent_after_confirming_and_its_stats_shown() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::start(Backend::Sqlite).await;
    let password = "a long enough password";
    app.app
        .postline
        .create_user(app.team.id, "ada@acme.dev", password, postline_core::users::Role::Member, None)
        .await
        .unwrap();
    let segment =
        app.post("/segments", json!({"name": "Newsletter"})).await.expect(201)["id"].as_str().unwrap().to_string();
    // Sandbox addresses: a sender without a verified domain may send to them.
    for email in ["delivered+ann@resend.dev", "delivered+bob@resend.dev", "bounced@resend.dev"] {
        app.post("/contacts", json!({"email": email, "segments": [segment]})).await.expect(201);
    }
    // The signed-in user is a contact too: the preview is personalised for her.
    app.post("/contacts", json!({"email": "ada@acme.dev", "first_name": "Ada"})).await.expect(201);

    browser.goto(&format!("{}/dashboard/broadcasts", app.base_url)).await;
    browser.type_into("#email", "ada@acme.dev").await;
    browser.type_into("#password", password).await;
    browser.click_and_wait_for_page("button[type=submit]").await;
    assert!(browser.text().await.contains("No broadcasts yet"));
    browser.click_and_wait_for_page("a[href='/dashboard/broadcasts/new']").await;

    browser.type_into("#name", "Spring launch").await;
    browser.type_into("#from", "Acme <news@acme.dev>").await;
    browser.type_into("#subject", "Spring is here").await;
    browser.click(&format!("#segment_id option[value='{segment}']")).await;
    browser.type_into("#markdown", "# Spring news\n\nHello ").await;
    preview_with(&browser, "Spring news").await;

    // The menu inserts at the cursor (the end of the text), and the preview follows.
    assert_eq!(browser.run("return document.querySelector('.insert-placeholder').hidden").await, false);
    browser.click("#placeholder option[value='{{{FIRST_NAME|there}}}']").await;
    browser.click("button[data-insert-placeholder]").await;
    let typed = browser.run("return document.getElementById('markdown').value").await;
    assert_eq!(typed.as_str(), Some("# Spring news\n\nHello {{{FIRST_NAME|there}}}"));
    browser.find("#markdown").await.send_keys(", see [the launch](https://acme.dev/spring).").await.unwrap();
    preview_with(&browser, "Hello Ada, see").await;
    browser.type_into("#container_width", "480").await;
    let styled = preview_with(&browser, "480").await;
    assert!(styled.contains("https://acme.dev/spring"), "{styled}");
    // On a phone the preview goes under the form, and nothing is wider than the screen.
    browser.set_size(375, 800).await;
    let overflows = "return document.documentElement.scrollWidth > window.innerWidth + 1";
    assert_eq!(browser.run(overflows).await, false, "the editor fits a phone-sized window");
    browser.screenshot("broadcast-editor").await;

    browser.click_and_wait_for_page("form#editor button.primary").await;
    assert!(browser.text().await.contains("Draft created."));
    let id = browser
        .current_url()
        .await
        .split("/dashboard/broadcasts/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let stored = app.get(&format!("/broadcasts/{id}")).await.expect(200).clone();
    assert_eq!(stored["style"]["container_width"], 480);
    assert!(stored["markdown"].as_str().unwrap().contains("Hello {{{FIRST_NAME|there}}}, see"), "{stored}");

    browser.type_into("#to", "delivered@resend.dev").await;
    browser.click_and_wait_for_page("form[action$='/test'] button[type=submit]").await;
    assert!(browser.text().await.contains("Test email sent to 1 address."));

    browser.click_and_wait_for_page("a[href$='/send']").await;
    let confirm = browser.text().await;
    assert!(confirm.contains("Newsletter — 3 contacts") && confirm.contains("Spring is here"), "{confirm}");
    assert_eq!(app.get(&format!("/broadcasts/{id}")).await.body["status"], "draft", "not before confirming");
    browser.click_and_wait_for_page("button[value=now]").await;
    assert!(browser.text().await.contains("Sending"));

    app.run_broadcasts().await;
    app.drain().await;
    app.clock.advance(chrono::Duration::minutes(5));
    app.drain().await;
    browser.goto(&format!("{}/dashboard/broadcasts", app.base_url)).await;
    let list = browser.text().await;
    assert!(list.contains("Spring launch") && list.contains("sent"), "{list}");
    browser.screenshot("broadcasts").await;

    browser.click_and_wait_for_page(&format!("a[href='/dashboard/broadcasts/{id}']")).await;
    let number = |n: usize| format!(".stat-card:nth-child({n}) .big");
    assert_eq!(browser.find(&number(1)).await.text().await.unwrap(), "2", "delivered");
    assert_eq!(browser.find(&number(5)).await.text().await.unwrap(), "1", "bounced");
    let text = browser.text().await;
    assert!(text.contains("Open rates can be inaccurate") && text.contains("delivered+ann@resend.dev"), "{text}");
    browser.screenshot("broadcast-stats").await;
    browser.close().await;
}
