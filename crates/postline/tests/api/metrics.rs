//! `GET /emails/metrics`: totals and breakdowns by period (in a timezone, quiet
//! periods included), sending domain and broadcast, filters by id, a chosen set of
//! metrics, and clear errors for wrong parameters — all from real sends played out by
//! the sandbox worker.

use postline_testkit::{TestApp, backend_tests};
use serde_json::{Value, json};

backend_tests!(metrics_total_and_break_down_the_teams_sending, wrong_metrics_parameters_are_refused,);

async fn send(app: &TestApp, from: &str, to: &str) -> String {
    let body = json!({"from": from, "to": to, "subject": "m", "text": "m"});
    app.post("/emails", body).await.expect(200)["id"].as_str().unwrap().to_string()
}

async fn metrics(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/emails/metrics?{query}")).await.expect(200).clone()
}

async fn metrics_total_and_break_down_the_teams_sending(app: TestApp) {
    let domain = app.verified_domain("acme.dev").await;
    // Day 1: four emails from acme.dev and one from elsewhere.
    let first = send(&app, "a@acme.dev", "delivered@resend.dev").await;
    send(&app, "a@acme.dev", "bounced@resend.dev").await;
    send(&app, "a@acme.dev", "complained@resend.dev").await;
    send(&app, "a@acme.dev", "suppressed@resend.dev").await;
    send(&app, "b@elsewhere.dev", "delivered@resend.dev").await;
    app.drain().await;
    app.clock.advance(chrono::Duration::minutes(10));
    app.drain().await;
    // Day 2: a broadcast to two contacts.
    app.clock.advance(chrono::Duration::days(1));
    let segment = app.post("/segments", json!({"name": "S"})).await.expect(201)["id"].as_str().unwrap().to_string();
    for address in ["delivered+1@resend.dev", "delivered+2@resend.dev"] {
        app.post("/contacts", json!({"email": address, "segments": [segment]})).await.expect(201);
    }
    let body = json!({"name": "Launch", "segment_id": segment, "from": "news@acme.dev", "subject": "x", "text": "x", "send": true});
    let broadcast = app.post("/broadcasts", body).await.expect(201)["id"].as_str().unwrap().to_string();
    app.run_broadcasts().await;
    app.drain().await;
    app.clock.advance(chrono::Duration::minutes(10));
    app.drain().await;

    let all = metrics(&app, "").await;
    assert_eq!(all["object"], "metrics");
    assert!(all.get("data").is_none(), "no dimensions, no data");
    let totals = &all["totals"];
    assert_eq!(totals["received"], 7, "{totals}");
    assert_eq!(totals["sent"], 6, "the suppressed one is never sent: {totals}");
    assert_eq!((totals["delivered"].clone(), totals["bounced"].clone()), (json!(5), json!(1)), "{totals}");
    assert_eq!((totals["bounced_permanent"].clone(), totals["bounced_transient"].clone()), (json!(1), json!(0)));
    assert_eq!((totals["complained"].clone(), totals["suppressed"].clone()), (json!(1), json!(1)));
    assert_eq!(totals["delivery_rate"], 0.8333, "{totals}");
    assert_eq!(totals["complaint_rate"], 0.2);
    assert_eq!(all["metrics"].as_array().unwrap().len(), 22);

    // By day: seven days, quiet ones included, the two busy ones counted apart.
    let daily = metrics(&app, "dimensions=period&metrics=received,delivered").await;
    let rows = daily["data"].as_array().unwrap();
    assert_eq!(rows.len(), 7, "{daily}");
    let received: Vec<u64> = rows.iter().map(|r| r["received"].as_u64().unwrap()).collect();
    // (Which two days depends on the hour the clock started at.)
    let busy: Vec<u64> = received.iter().copied().filter(|n| *n > 0).collect();
    assert_eq!(busy, [5, 2], "{received:?}");
    assert!(received[..4].iter().all(|n| *n == 0), "{received:?}");
    assert!(rows[0].get("opened").is_none(), "only the metrics asked for");
    // Hourly in a far-off timezone: the same events, in local hours.
    let hourly = metrics(&app, "dimensions=period&granularity=hourly&timezone=Asia/Kolkata&metrics=received").await;
    let sum: u64 = hourly["data"].as_array().unwrap().iter().map(|r| r["received"].as_u64().unwrap()).sum();
    assert_eq!(sum, 7);
    assert!(hourly["data"][0]["period"].as_str().unwrap().ends_with("+05:30"), "{}", hourly["data"][0]);

    // By domain: only the team's domains (sandbox sends from elsewhere are left out).
    let by_domain = metrics(&app, "dimensions=domain&metrics=received,sent").await;
    assert_eq!(by_domain["data"], json!([{"domain_id": domain, "domain_name": "acme.dev", "received": 6, "sent": 5}]));
    let filtered = metrics(&app, &format!("domain_id={domain}&metrics=received")).await;
    assert_eq!(filtered["totals"]["received"], 6);

    // By broadcast, and one broadcast or one email alone.
    let by_broadcast = metrics(&app, "dimensions=broadcast&metrics=delivered").await;
    let launch =
        by_broadcast["data"].as_array().unwrap().iter().find(|r| r["broadcast_id"] == json!(broadcast)).unwrap();
    assert_eq!((launch["broadcast_name"].clone(), launch["delivered"].clone()), (json!("Launch"), json!(2)));
    let only = metrics(&app, &format!("broadcast_id={broadcast}&metrics=received")).await;
    assert_eq!(only["totals"]["received"], 2);
    let one = metrics(&app, &format!("email_id={first}&dimensions=email&metrics=delivered")).await;
    assert_eq!(one["data"], json!([{"email_id": first, "delivered": 1}]));

    // Another team sees none of it.
    let other = app.other_team_key().await;
    let theirs = app.request_as(&other, reqwest::Method::GET, "/emails/metrics", None, &[]).await.expect(200).clone();
    assert_eq!(theirs["totals"]["received"], 0);
}

async fn wrong_metrics_parameters_are_refused(app: TestApp) {
    for query in [
        "metrics=views",
        "dimensions=country",
        "granularity=yearly",
        "timezone=Nowhere/Else",
        "start_date=last+week",
        "start_date=2026-07-05&end_date=2026-07-01",
        "dimensions=email,broadcast",
        "dimensions=period&granularity=hourly&start_date=2020-01-01",
        "email_id=not-an-id",
    ] {
        app.get(&format!("/emails/metrics?{query}")).await.expect_error(422, "invalid_parameter");
    }
    let repeated = metrics(&app, "metrics=sent&metrics=delivered,failed").await;
    assert_eq!(repeated["metrics"], json!(["sent", "delivered", "failed"]));
    let dated = metrics(&app, "start_date=2026-01-01&end_date=2026-01-31&timezone=Europe/Paris").await;
    assert_eq!(dated["start_date"], "2025-12-31T23:00:00.000Z");
    assert_eq!(dated["end_date"], "2026-01-31T23:00:00.000Z", "the end day is included");
}
