//! The Audience pages in a real browser: a CSV file of contacts with a bad row is
//! uploaded through the file input, its columns mapped (one by hand), the import
//! followed live to its report of the bad row, then two of the new contacts are put
//! in a segment with the bulk actions, which the Segments page counts.

use std::{io::Write, time::Duration};

use postline_testkit::{Backend, TestApp, browser::Browser};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_with_a_bad_row_is_imported_and_its_contacts_put_in_a_segment_in_a_real_browser() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::start(Backend::Sqlite).await;
    let password = "a long enough password";
    app.app
        .postline
        .create_user(app.team.id, "ada@acme.dev", password, postline_core::users::Role::Member, None)
        .await
        .unwrap();
    app.post("/contact-properties", json!({"key": "company", "type": "string"})).await.expect(201);
    let segment =
        app.post("/segments", json!({"name": "Early adopters"})).await.expect(201)["id"].as_str().unwrap().to_string();
    let mut csv = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    csv.write_all(
        b"Email Address,First,Surname,Organisation\n\
          ann@example.com,Ann,Lee,Acme\n\
          bob@example,Bob,Stone,Initech\n\
          carol@example.com,Carol,King,Globex\n",
    )
    .unwrap();

    browser.goto(&format!("{}/dashboard/audience", app.base_url)).await;
    browser.type_into("#email", "ada@acme.dev").await;
    browser.type_into("#password", password).await;
    browser.click_and_wait_for_page("button[type=submit]").await;
    browser.click_and_wait_for_page("a[href='/dashboard/audience/import']").await;
    browser.find("#file").await.send_keys(&csv.path().to_string_lossy()).await.unwrap();
    browser.click_and_wait_for_page("button.primary").await;

    let text = browser.text().await;
    assert!(text.contains("Map the file's columns") && text.contains("bob@example"), "the preview: {text}");
    // Guessed from the names: the address, first and last name; the company by hand.
    assert_eq!(browser.run("return document.querySelector('select[name=\"column.0\"]').value").await, "email");
    assert_eq!(browser.run("return document.querySelector('select[name=\"column.2\"]').value").await, "last_name");
    browser.click("select[name='column.3'] option[value='property:company']").await;
    browser.click(&format!("#segment option[value='{segment}']")).await;
    browser.click_and_wait_for_page("button.primary").await;

    let queued = browser.find("#import-report").await.text().await.unwrap();
    assert!(queued.contains("queued"), "{queued}");
    app.run_imports().await;
    // The page follows the import by itself (app.js polls its report).
    let report = browser.wait_for_text_in("#import-report", "completed", Duration::from_secs(15)).await;
    assert!(report.contains("Rows not imported") && report.contains("bob@example"), "{report}");
    assert!(report.contains("`bob@example` is not a valid email address"), "the reason: {report}");
    browser.screenshot("audience-import").await;
    let carol = app.get("/contacts/carol@example.com").await.expect(200).clone();
    assert_eq!(carol["properties"]["company"], "Globex", "the column mapped by hand");

    browser.goto(&format!("{}/dashboard/audience", app.base_url)).await;
    let ann = app.get("/contacts/ann@example.com").await.expect(200)["id"].as_str().unwrap().to_string();
    let carol = carol["id"].as_str().unwrap().to_string();
    browser.set_checked(&format!("input[name=contact][value='{ann}']"), true).await;
    browser.set_checked(&format!("input[name=contact][value='{carol}']"), true).await;
    browser.click_and_wait_for_page("button[value=segments]").await;
    let text = browser.text().await;
    assert!(text.contains("Add to segments") && text.contains("2 contacts"), "{text}");
    browser.set_checked(&format!("input[name=segment][value='{segment}']"), true).await;
    browser.click_and_wait_for_page("form.stacked button[type=submit]").await;
    let text = browser.text().await;
    assert!(text.contains("Added 2 contacts to the chosen segments."), "{text}");
    browser.screenshot("audience-contacts").await;

    browser.goto(&format!("{}/dashboard/audience/segments", app.base_url)).await;
    let count = browser.find("td.count").await.text().await.unwrap();
    assert_eq!(count, "2", "both are members now");
    browser.screenshot("audience-segments").await;
    browser.close().await;
}
