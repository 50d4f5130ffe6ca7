//! The dashboard's Domains pages over HTTP, as a browser without JavaScript uses
//! them, checked against the API: adding a domain through the form, its records as
//! `GET /domains/{id}` lists them, a refused name shown beside its field, a zone
//! published with mistakes explained record by record with the wrong part marked,
//! the settings forms, delete — and the refusals: no CSRF token, another team's domain.

use chrono::Duration;
use postline_core::users::Role;
use postline_testkit::{TestApp, backend_tests};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::dashboard::{Visitor, hidden};

backend_tests!(
    a_domain_added_through_the_form_is_listed_with_every_record_the_api_shows,
    a_refused_domain_is_explained_beside_its_field_and_nothing_is_added,
    records_published_with_mistakes_are_explained_with_the_wrong_part_marked,
    the_settings_forms_change_the_domain_the_api_shows,
    forms_without_the_sessions_token_or_for_another_teams_domain_change_nothing,
);

const PASSWORD: &str = "domains pages password";

/// A signed-in member of the test team, and the session's CSRF token.
async fn signed_in(app: &TestApp) -> (Visitor, String) {
    app.app.postline.create_user(app.team.id, "ada@acme.dev", PASSWORD, Role::Member, None).await.expect("user");
    let mut visitor = Visitor::new(app);
    let signed = visitor.sign_in("ada@acme.dev", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let page = visitor.get("/dashboard/domains").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page.body, "csrf");
    (visitor, csrf)
}

/// Adds a domain through the form; returns its id (from the redirect to its page).
async fn add(visitor: &mut Visitor, csrf: &str, fields: &[(&str, &str)]) -> String {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    let added = visitor.post("/dashboard/domains", &form).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let location = added.location.expect("a redirect to the domain's page");
    location.strip_prefix("/dashboard/domains/").expect("the domain's page").to_string()
}

fn domains(app_list: &Value) -> Vec<String> {
    app_list["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
}

async fn a_domain_added_through_the_form_is_listed_with_every_record_the_api_shows(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let empty = visitor.get("/dashboard/domains").await.body;
    assert!(empty.contains("No domains yet") && empty.contains("Ireland (eu-west-1)"), "regions offered: {empty}");
    let id = add(
        &mut visitor,
        &csrf,
        &[
            ("name", "Updates.Acme.dev"),
            ("region", "eu-west-1"),
            ("custom_return_path", "bounce"),
            ("click_tracking", "on"),
            ("tls", "enforced"),
            ("receiving", "on"),
        ],
    )
    .await;

    let api = app.get(&format!("/domains/{id}")).await.expect(200).clone();
    assert_eq!((api["name"].as_str(), api["region"].as_str()), (Some("updates.acme.dev"), Some("eu-west-1")));
    assert_eq!((api["open_tracking"].as_bool(), api["click_tracking"].as_bool()), (Some(false), Some(true)));
    assert_eq!((api["tls"].as_str(), api["custom_return_path"].as_str()), (Some("enforced"), Some("bounce")));
    assert_eq!(api["capabilities"], json!({"sending": "enabled", "receiving": "enabled"}));

    let list = visitor.get("/dashboard/domains").await.body;
    assert!(list.contains(&format!("href=\"/dashboard/domains/{id}\">updates.acme.dev</a>")), "{list}");
    assert!(list.contains("not started"), "the status in words");

    let page = visitor.get(&format!("/dashboard/domains/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("not yet clicked") && page.body.contains("Verify DNS records"), "{}", page.body);
    let records = api["records"].as_array().unwrap();
    assert_eq!(records.len(), 4, "SPF MX, SPF TXT, DKIM, receiving MX: {records:?}");
    assert_eq!(page.body.matches("<td data-label=\"TTL\">Auto</td>").count(), records.len());
    for record in records {
        let value = record["value"].as_str().unwrap();
        let row = format!(
            "<td data-label=\"Type\">{}</td><td data-label=\"Name\"><code>{}</code></td><td data-label=\"Value\"><div class=\"copyable\"><code>{value}</code><button type=\"button\" data-copy=\"{value}\">",
            record["type"].as_str().unwrap(),
            record["name"].as_str().unwrap()
        );
        assert!(page.body.contains(&row), "{row} missing from {}", page.body);
    }
    assert!(page.body.contains("<td data-label=\"Priority\">10</td>"), "MX priorities are shown");
}

async fn a_refused_domain_is_explained_beside_its_field_and_nothing_is_added(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let bad = visitor.post("/dashboard/domains", &[("csrf", &csrf), ("name", "not a domain")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("aria-describedby=\"name-hint name-error\""), "the error is linked: {}", bad.body);
    assert!(bad.body.contains("<p class=\"field-error\" id=\"name-error\">`not a domain` is not a valid domain name."));
    assert!(bad.body.contains("value=\"not a domain\""), "what was typed is kept");
    let public = visitor.post("/dashboard/domains", &[("csrf", &csrf), ("name", "gmail.com")]).await;
    assert_eq!(public.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(public.body.contains("id=\"name-error\">You must own the domain"), "{}", public.body);
    let path = visitor
        .post("/dashboard/domains", &[("csrf", &csrf), ("name", "acme.dev"), ("custom_return_path", "1bounce")])
        .await;
    assert_eq!(path.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(path.body.contains("id=\"custom_return_path-error\""), "beside the return path: {}", path.body);
    assert!(path.body.contains("<details open>"), "the advanced options open to show it");
    assert!(!path.body.contains("id=\"name-error\""));
    assert!(domains(app.get("/domains").await.expect(200)).is_empty(), "nothing was added");

    add(&mut visitor, &csrf, &[("name", "acme.dev")]).await;
    let twice = visitor.post("/dashboard/domains", &[("csrf", &csrf), ("name", "acme.dev")]).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.body.contains("id=\"name-error\">The domain acme.dev has already been added"), "{}", twice.body);
    assert_eq!(domains(app.get("/domains").await.expect(200)), ["acme.dev"]);
}

/// Publishes the domain's records as the API lists them, with three mistakes: the
/// provider appended the domain to the SPF include, the DKIM key is quoted, the
/// bounce MX points to another region.
fn publish_with_mistakes(app: &TestApp, domain: &Value) {
    for record in domain["records"].as_array().unwrap() {
        let value = record["value"].as_str().unwrap();
        let owner = format!("{}.acme.dev", record["name"].as_str().unwrap());
        match (record["record"].as_str().unwrap(), record["type"].as_str().unwrap()) {
            ("SPF", "MX") => app.dns.mx(&owner, 10, "feedback-smtp.eu-west-1.postline.test"),
            ("SPF", _) => {
                app.dns.txt(&owner, &value.replace("include:spf.postline.test", "include:spf.postline.test.acme.dev"))
            }
            _ => app.dns.txt(&owner, &(value.replace("p=", "p=\"") + "\"")),
        }
    }
}

async fn records_published_with_mistakes_are_explained_with_the_wrong_part_marked(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let id = add(&mut visitor, &csrf, &[("name", "acme.dev")]).await;
    publish_with_mistakes(&app, app.get(&format!("/domains/{id}")).await.expect(200));

    let page = visitor.get(&format!("/dashboard/domains/{id}")).await;
    let csrf = hidden(&page.body, "csrf");
    let verified = visitor.post(&format!("/dashboard/domains/{id}/verify"), &[("csrf", &csrf)]).await;
    assert_eq!(verified.status, StatusCode::SEE_OTHER);
    assert_eq!(verified.location, Some(format!("/dashboard/domains/{id}")));
    assert!(app.check_domains().await >= 1);

    let page = visitor.get(&format!("/dashboard/domains/{id}")).await.body;
    assert!(page.contains("Postline is still trying to verify the domain"), "pending, explained: {page}");
    for (sentence, marked) in [
        (
            "Your DNS provider added your domain to the end of the value.",
            "<code>v=spf1 include:spf.postline.test<mark>.acme.dev</mark> ~all</code>",
        ),
        ("The value contains quote characters that are not part of it.", "v=DKIM1; k=rsa; p=<mark>&quot;</mark>MIIB"),
        (
            "The MX record points to another region than this domain's.",
            "<code>10 feedback-smtp.<mark>eu-west-1</mark>.postline.test</code>",
        ),
    ] {
        assert!(page.contains(sentence), "{sentence} missing from {page}");
        assert!(page.contains(marked), "{marked} missing from {page}");
    }
    assert!(page.contains("The record must read `v=spf1 include:spf.postline.test ~all`"), "core's fix is shown too");
    assert!(page.contains("No DMARC record at _dmarc.acme.dev"), "advisories are listed");
    assert_eq!(page.matches("<article class=\"problem\">").count(), 3, "one explanation per failed record");

    app.clock.advance(Duration::hours(73));
    app.check_domains().await;
    let failed = visitor.get(&format!("/dashboard/domains/{id}")).await.body;
    assert!(failed.contains("within 72 hours") && failed.contains("Restart verification"), "{failed}");
    visitor.post(&format!("/dashboard/domains/{id}/verify"), &[("csrf", &csrf)]).await;
    assert_eq!(app.get(&format!("/domains/{id}")).await.body["status"], "pending", "verification restarted");
}

async fn the_settings_forms_change_the_domain_the_api_shows(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let id = add(&mut visitor, &csrf, &[("name", "acme.dev")]).await;
    let path = format!("/dashboard/domains/{id}");
    let page = visitor.get(&path).await.body;
    assert!(page.contains("Turn on click tracking") && page.contains("Turn on open tracking"), "{page}");
    let on = visitor.post(&path, &[("csrf", &csrf), ("click_tracking", "true")]).await;
    assert_eq!((on.status, on.location.as_deref()), (StatusCode::SEE_OTHER, Some(path.as_str())));
    let api = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!((api["click_tracking"].as_bool(), api["open_tracking"].as_bool()), (Some(true), Some(false)));
    assert!(visitor.get(&path).await.body.contains("Turn off click tracking"));
    visitor.post(&path, &[("csrf", &csrf), ("click_tracking", "false")]).await;
    assert_eq!(app.get(&format!("/domains/{id}")).await.body["click_tracking"], false);

    visitor.post(&path, &[("csrf", &csrf), ("open_tracking", "true")]).await;
    visitor.post(&path, &[("csrf", &csrf), ("tls", "enforced")]).await;
    visitor.post(&path, &[("csrf", &csrf), ("receiving", "true")]).await;
    let api = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!((api["open_tracking"].as_bool(), api["tls"].as_str()), (Some(true), Some("enforced")));
    assert_eq!(api["capabilities"]["receiving"], "enabled");
    assert!(
        visitor.get(&path).await.body.contains("inbound-smtp.us-east-1.postline.test"),
        "the receiving MX to publish"
    );
    let forged = visitor.post(&path, &[("csrf", &csrf), ("tls", "sometimes")]).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY, "core refuses a value the form never offers");

    let deleted = visitor.post(&format!("{path}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.location.as_deref(), Some("/dashboard/domains"));
    app.get(&format!("/domains/{id}")).await.expect_error(404, "not_found");
    assert!(!visitor.get("/dashboard/domains").await.body.contains("acme.dev</a>"));
    assert_eq!(visitor.get(&path).await.status, StatusCode::NOT_FOUND);
}

async fn forms_without_the_sessions_token_or_for_another_teams_domain_change_nothing(app: TestApp) {
    let (mut visitor, csrf) = signed_in(&app).await;
    let id = add(&mut visitor, &csrf, &[("name", "acme.dev")]).await;
    let path = format!("/dashboard/domains/{id}");
    let before = app.get(&format!("/domains/{id}")).await.body;
    for token in [None, Some("forged")] {
        let with = |fields: &[(&'static str, &'static str)]| {
            let mut form: Vec<(&str, &str)> = token.map(|t| vec![("csrf", t)]).unwrap_or_default();
            form.extend_from_slice(fields);
            form
        };
        let posts = [
            ("/dashboard/domains".to_string(), with(&[("name", "other.dev")])),
            (format!("{path}/verify"), with(&[])),
            (path.clone(), with(&[("click_tracking", "true")])),
            (format!("{path}/delete"), with(&[])),
        ];
        for (target, form) in posts {
            assert_eq!(visitor.post(&target, &form).await.status, StatusCode::FORBIDDEN, "{target} with {token:?}");
        }
    }
    assert_eq!(app.get(&format!("/domains/{id}")).await.body, before, "nothing changed");
    assert_eq!(domains(app.get("/domains").await.expect(200)), ["acme.dev"]);

    let other = app.other_team_key().await;
    let theirs = app.request_as(&other, Method::POST, "/domains", Some(json!({"name": "theirs.dev"})), &[]).await;
    let their_id = theirs.expect(201)["id"].as_str().unwrap().to_string();
    let their_path = format!("/dashboard/domains/{their_id}");
    assert_eq!(visitor.get(&their_path).await.status, StatusCode::NOT_FOUND);
    for (target, fields) in [
        (format!("{their_path}/verify"), vec![]),
        (their_path.clone(), vec![("click_tracking", "true")]),
        (format!("{their_path}/delete"), vec![]),
    ] {
        let posted = visitor.post(&target, &[vec![("csrf", csrf.as_str())], fields].concat()).await;
        assert_eq!(posted.status, StatusCode::NOT_FOUND, "{target}");
    }
    let intact = app.request_as(&other, Method::GET, &format!("/domains/{their_id}"), None, &[]).await;
    let intact = intact.expect(200);
    assert_eq!((intact["status"].as_str(), intact["click_tracking"].as_bool()), (Some("not_started"), Some(false)));
    assert!(!visitor.get("/dashboard/domains").await.body.contains("theirs.dev"));
    assert_eq!(visitor.get("/dashboard/domains/not-a-uuid").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}
