//! Domains: the API, the records to publish, verification against an authoritative
//! DNS server serving deliberately wrong zones (one test per misconfiguration),
//! and the lifecycle on a manual clock.

use chrono::Duration;
use postline_testkit::{TestApp, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

backend_tests!(
    a_domain_is_added_with_the_records_to_publish,
    domain_input_is_validated,
    another_teams_domain_is_not_found_and_a_verified_name_is_not_shared,
    a_correct_zone_verifies,
    missing_records_are_named_with_the_nameservers_to_edit,
    a_value_the_provider_appended_the_domain_to_is_diagnosed,
    a_dkim_value_with_quotes_is_diagnosed,
    a_dkim_value_with_spaces_is_diagnosed,
    a_truncated_dkim_value_is_diagnosed,
    a_dkim_record_holding_spf_is_diagnosed,
    a_wrong_mx_value_is_a_mismatch,
    an_mx_in_another_region_is_a_region_mismatch,
    mx_records_in_several_regions_are_diagnosed,
    several_spf_records_on_one_name_are_diagnosed,
    an_spf_record_needing_more_than_ten_lookups_is_diagnosed,
    dmarc_and_bimi_are_reported_as_advice,
    a_pending_domain_fails_after_72_hours,
    a_verified_domain_fails_temporarily_and_recovers,
    a_temporary_failure_becomes_a_failure_after_72_hours,
    a_verified_domain_can_be_claimed_by_proving_ownership,
    claims_need_a_name_verified_elsewhere_and_expire,
);

async fn add(app: &TestApp, body: Value) -> Value {
    app.post("/domains", body).await.expect(201).clone()
}

/// Adds acme.dev, lets `publish` write (possibly wrong) records, verifies, and
/// returns the domain as the API shows it after the check.
async fn verify_with(app: &TestApp, publish: impl FnOnce(&TestApp, &Value)) -> Value {
    let domain = add(app, json!({"name": "acme.dev"})).await;
    app.dns.ns("acme.dev", "ns1.dns-host.example");
    publish(app, &domain);
    let id = domain["id"].as_str().unwrap();
    app.request(Method::POST, &format!("/domains/{id}/verify"), None).await.expect(200);
    assert!(app.check_domains().await >= 1);
    app.get(&format!("/domains/{id}")).await.expect(200).clone()
}

fn record<'a>(domain: &'a Value, kind: &str, record_type: &str) -> &'a Value {
    domain["records"].as_array().unwrap().iter().find(|r| r["record"] == kind && r["type"] == record_type).unwrap()
}

fn codes(record: &Value) -> Vec<String> {
    record["diagnostics"]
        .as_array()
        .map(|d| d.iter().map(|x| x["code"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn message(record: &Value) -> String {
    record["diagnostics"][0]["message"].as_str().unwrap_or_default().to_string()
}

fn value(domain: &Value, kind: &str, record_type: &str) -> String {
    record(domain, kind, record_type)["value"].as_str().unwrap().to_string()
}

/// Publishes everything correctly except the record(s) `skip` says.
fn publish_except(app: &TestApp, domain: &Value, skip: &[(&str, &str)]) {
    let mut trimmed = domain.clone();
    trimmed["records"] = json!(
        domain["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !skip.iter().any(|(k, t)| r["record"] == *k && r["type"] == *t))
            .cloned()
            .collect::<Vec<_>>()
    );
    app.publish_records(&trimmed);
}

async fn a_domain_is_added_with_the_records_to_publish(app: TestApp) {
    let domain =
        add(&app, json!({"name": "Updates.Acme.dev", "region": "eu-west-1", "custom_return_path": "bounce"})).await;
    assert_eq!(domain["name"], "updates.acme.dev");
    assert_eq!(domain["status"], "not_started");
    assert_eq!(domain["region"], "eu-west-1");
    assert_eq!(domain["capabilities"], json!({"sending": "enabled", "receiving": "disabled"}));
    let mx = record(&domain, "SPF", "MX");
    assert_eq!(
        (mx["name"].as_str(), mx["value"].as_str(), mx["priority"].as_u64()),
        (Some("bounce"), Some("feedback-smtp.eu-west-1.postline.test"), Some(10))
    );
    assert_eq!(value(&domain, "SPF", "TXT"), "v=spf1 include:spf.postline.test ~all");
    let dkim = record(&domain, "DKIM", "TXT");
    assert_eq!(dkim["name"], "resend._domainkey");
    assert!(dkim["value"].as_str().unwrap().starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "{dkim}");
    assert!(domain["records"].as_array().unwrap().iter().all(|r| r["status"] == "not_started"));

    let id = domain["id"].as_str().unwrap().to_string();
    let got = app.get(&format!("/domains/{id}")).await;
    assert_eq!(got.expect(200)["records"], domain["records"]);
    let listed = app.get("/domains").await;
    assert_eq!(listed.expect(200)["data"][0]["id"], id.as_str());

    let updated = app
        .patch(
            &format!("/domains/{id}"),
            json!({"open_tracking": true, "tls": "enforced", "capabilities": {"receiving": "enabled"}}),
        )
        .await;
    assert_eq!(updated.expect(200)["id"], id.as_str());
    let after = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!((after["open_tracking"].as_bool(), after["tls"].as_str()), (Some(true), Some("enforced")));
    let receiving = record(&after, "Receiving", "MX");
    assert_eq!(receiving["value"], "inbound-smtp.eu-west-1.postline.test");

    let deleted = app.delete(&format!("/domains/{id}")).await;
    assert_eq!(deleted.expect(200)["deleted"], true);
    app.get(&format!("/domains/{id}")).await.expect_error(404, "not_found");
}

async fn domain_input_is_validated(app: TestApp) {
    app.post("/domains", json!({})).await.expect_error(422, "missing_required_field");
    app.post("/domains", json!({"name": "acme.dev", "region": "mars-north-1"}))
        .await
        .expect_error(422, "invalid_region");
    app.post("/domains", json!({"name": "gmail.com"})).await.expect_error(422, "validation_error");
    app.post("/domains", json!({"name": "not a domain"})).await.expect_error(400, "validation_error");
    for bad in ["1bounce", "bounce-", "bo_unce", &"a".repeat(64)] {
        app.post("/domains", json!({"name": "acme.dev", "custom_return_path": bad}))
            .await
            .expect_error(400, "validation_error");
    }
    app.post("/domains", json!({"name": "acme.dev", "tls": "sometimes"})).await.expect_error(400, "validation_error");
    app.post("/domains", json!({"name": "acme.dev", "capabilities": {"sending": "disabled"}}))
        .await
        .expect_error(400, "validation_error");
    add(&app, json!({"name": "acme.dev", "custom_return_path": &"a".repeat(63)})).await;
    app.post("/domains", json!({"name": "ACME.dev"})).await.expect_error(422, "validation_error");
    app.get("/domains/not-a-uuid").await.expect_error(422, "invalid_parameter");
    let sender = app.key_with("sending_access").await;
    app.request_as(&sender, Method::GET, "/domains", None, &[]).await.expect_error(401, "restricted_api_key");
}

async fn another_teams_domain_is_not_found_and_a_verified_name_is_not_shared(app: TestApp) {
    let id = app.verified_domain("acme.dev").await;
    let other = app.other_team_key().await;
    for (method, path) in [
        (Method::GET, format!("/domains/{id}")),
        (Method::DELETE, format!("/domains/{id}")),
        (Method::POST, format!("/domains/{id}/verify")),
    ] {
        app.request_as(&other, method, &path, None, &[]).await.expect_error(404, "not_found");
    }
    let taken = app.request_as(&other, Method::POST, "/domains", Some(json!({"name": "acme.dev"})), &[]).await;
    taken.expect_error(422, "validation_error");
    assert!(taken.body["message"].as_str().unwrap().contains("another team"));
}

async fn a_correct_zone_verifies(app: TestApp) {
    let domain = verify_with(&app, |app, domain| app.publish_records(domain)).await;
    assert_eq!(domain["status"], "verified");
    for record in domain["records"].as_array().unwrap() {
        assert_eq!(record["status"], "verified", "{record}");
        assert!(codes(record).is_empty());
    }
    assert_eq!(domain["nameservers"], json!(["ns1.dns-host.example"]));
}

async fn missing_records_are_named_with_the_nameservers_to_edit(app: TestApp) {
    let domain = verify_with(&app, |_, _| {}).await;
    assert_eq!(domain["status"], "pending");
    for record in domain["records"].as_array().unwrap() {
        assert_eq!(record["status"], "pending");
        assert_eq!(codes(record), ["missing"], "{record}");
        assert!(message(record).contains("ns1.dns-host.example"), "says where to edit: {record}");
    }
}

async fn a_value_the_provider_appended_the_domain_to_is_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("SPF", "MX")]);
        app.dns.mx("send.acme.dev", 10, &format!("{}.acme.dev", value(domain, "SPF", "MX")));
    })
    .await;
    let mx = record(&domain, "SPF", "MX");
    assert_eq!(codes(mx), ["appended-domain"]);
    assert!(message(mx).contains("trailing dot"), "{mx}");
    assert_eq!(domain["status"], "pending");
}

async fn a_dkim_value_with_quotes_is_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("DKIM", "TXT")]);
        let key = value(domain, "DKIM", "TXT").replace("p=", "p=\"") + "\"";
        app.dns.txt("resend._domainkey.acme.dev", &key);
    })
    .await;
    assert_eq!(codes(record(&domain, "DKIM", "TXT")), ["extra-quotes"]);
}

async fn a_dkim_value_with_spaces_is_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("DKIM", "TXT")]);
        let full = value(domain, "DKIM", "TXT");
        let (head, key) = full.split_at(full.find("p=").unwrap() + 2);
        let spaced = format!("{head}{} {}", &key[..40], &key[40..]);
        app.dns.txt("resend._domainkey.acme.dev", &spaced);
    })
    .await;
    assert_eq!(codes(record(&domain, "DKIM", "TXT")), ["whitespace"]);
}

async fn a_truncated_dkim_value_is_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("DKIM", "TXT")]);
        let full = value(domain, "DKIM", "TXT");
        app.dns.txt("resend._domainkey.acme.dev", &full[..255]);
    })
    .await;
    let dkim = record(&domain, "DKIM", "TXT");
    assert_eq!(codes(dkim), ["truncated"]);
    assert!(message(dkim).contains("cut short"));
}

async fn a_dkim_record_holding_spf_is_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("DKIM", "TXT")]);
        app.dns.txt("resend._domainkey.acme.dev", "v=spf1 include:spf.postline.test ~all");
    })
    .await;
    assert_eq!(codes(record(&domain, "DKIM", "TXT")), ["spf-in-dkim"]);
}

async fn a_wrong_mx_value_is_a_mismatch(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("SPF", "MX")]);
        app.dns.mx("send.acme.dev", 10, "mx.some-other-provider.example");
    })
    .await;
    let mx = record(&domain, "SPF", "MX");
    assert_eq!(codes(mx), ["mismatch"]);
    assert!(message(mx).contains("feedback-smtp.us-east-1.postline.test"));
}

async fn an_mx_in_another_region_is_a_region_mismatch(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("SPF", "MX")]);
        app.dns.mx("send.acme.dev", 10, "feedback-smtp.eu-west-1.postline.test");
    })
    .await;
    let mx = record(&domain, "SPF", "MX");
    assert_eq!(codes(mx), ["region-mismatch"]);
    assert!(message(mx).contains("eu-west-1") && message(mx).contains("us-east-1"), "{mx}");
}

async fn mx_records_in_several_regions_are_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        app.publish_records(domain);
        app.dns.mx("send.acme.dev", 20, "feedback-smtp.sa-east-1.postline.test");
    })
    .await;
    assert_eq!(codes(record(&domain, "SPF", "MX")), ["multiple-regions"]);
    assert_eq!(domain["status"], "pending");
}

async fn several_spf_records_on_one_name_are_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        app.publish_records(domain);
        app.dns.txt("send.acme.dev", "v=spf1 include:_spf.mailer.example ~all");
    })
    .await;
    let spf = record(&domain, "SPF", "TXT");
    assert_eq!(codes(spf), ["multiple-spf"]);
    assert!(message(spf).contains("Merge"));
}

async fn an_spf_record_needing_more_than_ten_lookups_is_diagnosed(app: TestApp) {
    let domain = verify_with(&app, |app, domain| {
        publish_except(app, domain, &[("SPF", "TXT")]);
        let includes: Vec<String> = (0..6).map(|i| format!("include:_spf{i}.example.net")).collect();
        app.dns.txt("send.acme.dev", &format!("v=spf1 include:spf.postline.test {} ~all", includes.join(" ")));
        for i in 0..6 {
            app.dns.txt(&format!("_spf{i}.example.net"), "v=spf1 a mx ~all");
        }
    })
    .await;
    let spf = record(&domain, "SPF", "TXT");
    assert_eq!(codes(spf), ["too-many-lookups"]);
    assert!(message(spf).contains("19 DNS lookups"), "{spf}");
}

async fn dmarc_and_bimi_are_reported_as_advice(app: TestApp) {
    let domain = verify_with(&app, |app, domain| app.publish_records(domain)).await;
    let advice = |d: &Value, topic: &str| {
        d["advisories"].as_array().unwrap().iter().find(|a| a["topic"] == topic).unwrap().clone()
    };
    assert_eq!(advice(&domain, "dmarc")["ok"], false);
    assert!(advice(&domain, "dmarc")["message"].as_str().unwrap().contains("v=DMARC1"));
    assert_eq!(domain["status"], "verified", "advice does not hold verification back");

    app.dns.txt("_dmarc.acme.dev", "v=DMARC1; p=quarantine; pct=100");
    app.dns.txt("default._bimi.acme.dev", "v=BIMI1; l=http://acme.dev/logo.svg");
    let id = domain["id"].as_str().unwrap();
    app.request(Method::POST, &format!("/domains/{id}/verify"), None).await.expect(200);
    app.check_domains().await;
    let checked = app.get(&format!("/domains/{id}")).await.body;
    assert!(advice(&checked, "dmarc")["message"].as_str().unwrap().contains("p=quarantine"));
    let bimi = advice(&checked, "bimi");
    assert_eq!(bimi["ok"], false);
    assert!(bimi["message"].as_str().unwrap().contains("HTTPS"), "{bimi}");

    app.dns.remove("default._bimi.acme.dev");
    app.dns.txt("default._bimi.acme.dev", "v=BIMI1; l=https://acme.dev/logo.svg");
    app.request(Method::POST, &format!("/domains/{id}/verify"), None).await.expect(200);
    app.check_domains().await;
    let ready = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!(advice(&ready, "bimi")["ok"], true, "{}", advice(&ready, "bimi"));
}

async fn a_pending_domain_fails_after_72_hours(app: TestApp) {
    let domain = verify_with(&app, |_, _| {}).await;
    let id = domain["id"].as_str().unwrap();
    app.clock.advance(Duration::hours(71));
    app.check_domains().await;
    assert_eq!(app.get(&format!("/domains/{id}")).await.body["status"], "pending");
    app.clock.advance(Duration::hours(2));
    app.check_domains().await;
    let failed = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!(failed["status"], "failed");
    assert!(failed["records"].as_array().unwrap().iter().all(|r| r["status"] == "failed"));
    app.clock.advance(Duration::hours(10));
    assert_eq!(app.check_domains().await, 0, "a failed domain is not checked until verify is asked again");
}

async fn a_verified_domain_fails_temporarily_and_recovers(app: TestApp) {
    let id = app.verified_domain("acme.dev").await;
    let dkim = app.dns.txt_of("resend._domainkey.acme.dev");
    app.dns.remove("resend._domainkey.acme.dev");
    app.clock.advance(Duration::hours(7));
    app.check_domains().await;
    let lost = app.get(&format!("/domains/{id}")).await.body;
    assert_eq!(lost["status"], "temporary_failure");
    assert_eq!(record(&lost, "DKIM", "TXT")["status"], "temporary_failure");
    assert_eq!(record(&lost, "SPF", "MX")["status"], "verified");

    app.dns.txt("resend._domainkey.acme.dev", &dkim[0]);
    app.clock.advance(Duration::minutes(6));
    app.check_domains().await;
    assert_eq!(app.get(&format!("/domains/{id}")).await.body["status"], "verified");
}

async fn a_temporary_failure_becomes_a_failure_after_72_hours(app: TestApp) {
    let id = app.verified_domain("acme.dev").await;
    app.dns.remove("send.acme.dev");
    app.clock.advance(Duration::hours(7));
    app.check_domains().await;
    assert_eq!(app.get(&format!("/domains/{id}")).await.body["status"], "temporary_failure");
    for _ in 0..15 {
        app.clock.advance(Duration::hours(5));
        app.check_domains().await;
    }
    assert_eq!(app.get(&format!("/domains/{id}")).await.body["status"], "failed");
}

async fn a_verified_domain_can_be_claimed_by_proving_ownership(app: TestApp) {
    let previous = app.verified_domain("acme.dev").await;
    let old_dkim = app.dns.txt_of("resend._domainkey.acme.dev");
    let claimant = app.other_team_key().await;
    let as_claimant = |method: Method, path: String, body: Option<Value>| {
        let app = &app;
        let key = claimant.clone();
        async move { app.request_as(&key, method, &path, body, &[]).await }
    };
    let started = as_claimant(Method::POST, "/domains/claim".into(), Some(json!({"name": "acme.dev"}))).await;
    let claim = started.expect(201).clone();
    assert_eq!((claim["object"].as_str(), claim["status"].as_str()), (Some("domain_claim"), Some("pending")));
    let token = claim["record"]["value"].as_str().unwrap().to_string();
    assert!(token.starts_with("resend-domain-verification="));
    let again = as_claimant(Method::POST, "/domains/claim".into(), Some(json!({"name": "acme.dev"}))).await;
    assert_eq!(again.expect(200)["id"], claim["id"], "an open claim is returned again");

    let domain_id = claim["domain_id"].as_str().unwrap().to_string();
    let waiting = as_claimant(Method::POST, format!("/domains/{domain_id}/claim/verify"), None).await;
    assert_eq!(waiting.expect(200)["status"], "pending", "no TXT record yet");

    app.dns.txt("acme.dev", &token);
    let done = as_claimant(Method::POST, format!("/domains/{domain_id}/claim/verify"), None).await;
    assert_eq!(done.expect(200)["status"], "completed");
    assert_eq!(as_claimant(Method::GET, format!("/domains/{domain_id}/claim"), None).await.body["status"], "completed");

    // The previous team lost the domain; the claimant has fresh keys to publish.
    app.get(&format!("/domains/{previous}")).await.expect_error(404, "not_found");
    let send = json!({"from": "x@acme.dev", "to": "someone@elsewhere.example", "subject": "s", "text": "t"});
    app.post("/emails", send).await.expect_error(403, "validation_error");
    let domain = as_claimant(Method::GET, format!("/domains/{domain_id}"), None).await.body;
    assert_ne!(vec![value(&domain, "DKIM", "TXT")], old_dkim, "fresh DKIM keys: the old records do not verify");
    app.dns.remove("resend._domainkey.acme.dev");
    app.publish_records(&json!({"name": "acme.dev", "records": domain["records"].as_array().unwrap().iter().filter(|r| r["record"] == "DKIM").cloned().collect::<Vec<_>>()}));
    as_claimant(Method::POST, format!("/domains/{domain_id}/verify"), None).await.expect(200);
    app.check_domains().await;
    assert_eq!(as_claimant(Method::GET, format!("/domains/{domain_id}"), None).await.body["status"], "verified");
}

async fn claims_need_a_name_verified_elsewhere_and_expire(app: TestApp) {
    app.post("/domains/claim", json!({"name": "nobody-verified.dev"})).await.expect_error(422, "validation_error");
    app.get(&format!("/domains/{}/claim", uuid::Uuid::new_v4())).await.expect_error(404, "not_found");
    let other = app.other_team_key().await;
    app.verified_domain_as(&other, "taken.dev").await;
    let claim = app.post("/domains/claim", json!({"name": "taken.dev"})).await.expect(201).clone();
    let domain_id = claim["domain_id"].as_str().unwrap();
    app.clock.advance(Duration::days(8));
    assert_eq!(app.get(&format!("/domains/{domain_id}/claim")).await.body["status"], "expired");
    let late = app.request(Method::POST, &format!("/domains/{domain_id}/claim/verify"), None).await;
    assert_eq!(late.expect(200)["status"], "expired");
}
