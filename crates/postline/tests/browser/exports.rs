//! Exports in a real browser: an admin chooses contacts and a filter in the Exports
//! page's "New export" form, confirms the filters, and the CSV (at most 1,000 rows,
//! so made at once) holds exactly the filtered contacts, read through the download
//! link with the browser's own session; the export is listed on the Exports page.

use std::time::{Duration, Instant};

use postline_core::{pagination::PageRequest, users::Role};
use postline_testkit::{Backend, TestApp, browser::Browser};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_exports_filtered_contacts_as_csv_in_a_real_browser() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::start(Backend::Sqlite).await;
    let password = "a long enough password";
    app.app.postline.create_user(app.team.id, "ada@acme.dev", password, Role::Admin, None).await.unwrap();
    for (email, first_name, unsubscribed) in [
        ("ann@example.org", "Ann", false),
        ("bob@example.org", "=HYPERLINK(\"http://evil.example\")", false),
        ("carl@example.org", "Carl", true),
    ] {
        let contact = json!({"email": email, "first_name": first_name, "unsubscribed": unsubscribed});
        app.post("/contacts", contact).await.expect(201);
    }

    browser.goto(&format!("{}/dashboard/exports", app.base_url)).await;
    browser.type_into("#email", "ada@acme.dev").await;
    browser.type_into("#password", password).await;
    browser.click_and_wait_for_page("button[type=submit]").await;
    assert!(browser.current_url().await.ends_with("/dashboard/exports"));
    browser.find("#export-kind").await.select_by_value("contacts").await.unwrap();
    browser.find("#export-status").await.select_by_value("subscribed").await.unwrap();
    browser.click_and_wait_for_page(".new-export button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("Export contacts") && text.contains("subscribed"), "the filters to confirm: {text}");

    // The file downloads at once (an attachment: the page stays); it is recorded too.
    browser.click("#confirm-export").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let export = loop {
        let listed = app.app.postline.list_exports(app.team.id, PageRequest::default()).await.unwrap().items;
        if let Some(export) = listed.into_iter().next() {
            break export;
        }
        assert!(Instant::now() < deadline, "the export was not started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(export.rows, Some(2));
    let script = format!(
        "fetch('/dashboard/exports/{}/download').then(r => r.text().then(t => done(r.status + '\\n' + t)))",
        export.id
    );
    let fetched = browser.run_async(&script).await;
    let fetched = fetched.as_str().unwrap();
    let (status, csv) = fetched.split_once('\n').unwrap();
    assert_eq!(status, "200", "{fetched}");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "the header and the two subscribed contacts: {csv}");
    assert!(lines[0].starts_with("id,email,first_name,last_name,unsubscribed"), "{csv}");
    assert!(csv.contains("ann@example.org") && csv.contains("bob@example.org") && !csv.contains("carl@"), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""), "formulas are neutralised: {csv}");

    browser.goto(&format!("{}/dashboard/exports", app.base_url)).await;
    let text = browser.text().await;
    assert!(text.contains("Contacts") && text.contains("Ready") && text.contains("ada@acme.dev"), "{text}");
    browser.screenshot("exports").await;
    browser.close().await;
}
