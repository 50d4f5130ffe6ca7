//! The dashboard in a real browser: signing in, an email's timeline updating live, an
//! API key shown once, and screenshots of the main pages.

use postline_testkit::{Backend, TestApp, browser::Browser};
use serde_json::json;

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
