//! Domains in a real browser: a user adds a domain through the form, sees the DNS
//! records to publish, publishes them with a mistake (the test kit's DNS server plays
//! the DNS provider), verifies, and sees the failed record explained with the wrong
//! part highlighted.

use postline_testkit::{Backend, TestApp, browser::Browser};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_added_in_the_browser_shows_its_records_and_what_is_wrong_with_the_zone() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::start(Backend::Sqlite).await;
    let password = "a long enough password";
    app.app
        .postline
        .create_user(app.team.id, "ops@acme.dev", password, postline_core::users::Role::Member, None)
        .await
        .unwrap();
    browser.goto(&format!("{}/dashboard/domains", app.base_url)).await;
    browser.type_into("#email", "ops@acme.dev").await;
    browser.type_into("#password", password).await;
    browser.click_and_wait_for_page("button[type=submit]").await;

    browser.type_into("#name", "acme.dev").await;
    browser.click_and_wait_for_page("button.primary").await;
    let url = browser.current_url().await;
    let id = url.rsplit('/').next().unwrap().to_string();
    let text = browser.text().await;
    assert!(text.contains("acme.dev") && text.contains("Publish these records"), "{text}");
    let domain = app.get(&format!("/domains/{id}")).await.expect(200).clone();
    let records = domain["records"].as_array().unwrap();
    for record in records {
        assert!(text.contains(record["value"].as_str().unwrap()), "every record's value is shown: {record}");
    }
    browser.screenshot("domain-records").await;

    // The DNS provider appended the domain to the SPF include; DKIM is published right.
    for record in records {
        let owner = format!("{}.acme.dev", record["name"].as_str().unwrap());
        let value = record["value"].as_str().unwrap();
        match (record["record"].as_str().unwrap(), record["type"].as_str().unwrap()) {
            ("SPF", "MX") => app.dns.mx(&owner, 10, value.split_whitespace().last().unwrap_or(value)),
            ("SPF", _) => {
                app.dns.txt(&owner, &value.replace("include:spf.postline.test", "include:spf.postline.test.acme.dev"))
            }
            _ => app.dns.txt(&owner, value),
        }
    }
    browser.click_and_wait_for_page("form.inline button[type=submit]").await;
    app.check_domains().await;
    browser.goto(&url).await;
    let text = browser.text().await;
    assert!(text.contains("Your DNS provider added your domain to the end of the value."), "{text}");
    let marked = browser.find("mark").await.text().await.unwrap();
    assert_eq!(marked, ".acme.dev", "the wrong part of the value is highlighted");
    browser.screenshot("domain-diagnosis").await;
    browser.close().await;
}
