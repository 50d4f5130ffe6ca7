//! The dashboard's Metrics page over HTTP: totals of real sends played out by the
//! sandbox worker, the bounce and complaint rates judged in words against the
//! warm-up limits, the charts with their titles and data table, the range, granularity
//! and domain filters, another team's mail left out — and bad filters refused with a
//! message instead of a crash.

use postline_core::users::Role;
use postline_testkit::{TestApp, backend_tests};
use reqwest::StatusCode;
use serde_json::json;

use crate::dashboard::{Visitor, user};

backend_tests!(
    the_metrics_page_counts_the_teams_sending_and_judges_its_rates,
    bad_metrics_filters_are_refused_in_words,
);

/// The password `user` gives everyone (private to `dashboard.rs`).
const PASSWORD: &str = "a long enough password";

async fn send(app: &TestApp, from: &str, to: &str) {
    app.post("/emails", json!({"from": from, "to": to, "subject": "m", "text": "m"})).await.expect(200);
}

/// Plays out everything sent (complaints come a little after delivery).
async fn settle(app: &TestApp) {
    app.drain().await;
    app.clock.advance(chrono::Duration::minutes(10));
    app.drain().await;
}

/// The data table's totals row, in the series' order: sent, delivered, bounced,
/// complained, opened, clicked.
fn totals(html: &str) -> Vec<String> {
    let start = html.find("<tfoot>").unwrap_or_else(|| panic!("no totals row in {html}"));
    let row = &html[start..start + html[start..].find("</tfoot>").unwrap()];
    row.split("<td>").skip(1).map(|cell| cell.split('<').next().unwrap().to_string()).collect()
}

async fn signed_in(app: &TestApp) -> Visitor {
    user(app, "ada@acme.dev", Role::Member).await;
    let mut visitor = Visitor::new(app);
    let signed_in = visitor.sign_in("ada@acme.dev", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    visitor
}

async fn the_metrics_page_counts_the_teams_sending_and_judges_its_rates(app: TestApp) {
    let domain = app.verified_domain("acme.dev").await;
    let mut visitor = signed_in(&app).await;
    for to in ["delivered@resend.dev", "bounced@resend.dev", "complained@resend.dev"] {
        send(&app, "news@acme.dev", to).await;
    }
    send(&app, "onboarding@resend.dev", "delivered@resend.dev").await;
    // Another team bounces too; none of it may show here.
    let other = app.other_team_key().await;
    let theirs = json!({"from": "onboarding@resend.dev", "to": "bounced@resend.dev", "subject": "x", "text": "x"});
    app.request_as(&other, reqwest::Method::POST, "/emails", Some(theirs), &[]).await.expect(200);
    settle(&app).await;

    let page = visitor.get("/dashboard/metrics").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"href="/dashboard/metrics" aria-current="page""#), "in the navigation");
    assert_eq!(totals(&page.body), ["4", "3", "1", "1", "0", "0"], "the other team's bounce is not counted");
    // 1 bounced of 4 sent; 1 complaint of 3 delivered — both far over their limits.
    assert!(page.body.contains("25.00%") && page.body.contains("Over the 4% limit"), "{}", page.body);
    assert!(page.body.contains("33.333%") && page.body.contains("Over the 0.08% limit"), "{}", page.body);
    assert!(page.body.contains("1 bounced of 4 sent"));
    for metric in ["sent", "delivered", "bounced", "complained", "opened", "clicked"] {
        assert!(page.body.contains(&format!(r#"<svg class="chart {metric}""#)), "a chart of {metric}");
    }
    assert!(page.body.contains(r#"<title id="chart-sent-title">Sent per day</title>"#));
    assert!(page.body.contains("4 in total; the most in one day was"), "the chart's description");
    assert!(
        page.body.contains("<details class=\"data\"><summary>Data</summary><div class=\"scroll\""),
        "the numbers in a table"
    );
    assert_eq!(page.body.matches("<th scope=\"row\"><time").count(), 7, "seven days, quiet ones included");

    // One domain: the sandbox sender's email drops out.
    let mine = visitor.get(&format!("/dashboard/metrics?domain={domain}")).await;
    assert_eq!(totals(&mine.body), ["3", "2", "1", "1", "0", "0"]);
    assert!(mine.body.contains("33.33%") && mine.body.contains("50.000%"), "{}", mine.body);
    assert!(mine.body.contains(&format!(r#"<option value="{domain}" selected>acme.dev</option>"#)));

    // Eight days on, one delivered email: the last 7 days are healthy, 30 days are not.
    app.clock.advance(chrono::Duration::days(8));
    send(&app, "news@acme.dev", "delivered@resend.dev").await;
    settle(&app).await;
    // (Sessions last seven days, so the week that passed signed Ada out.)
    let mut visitor = Visitor::new(&app);
    visitor.sign_in("ada@acme.dev", PASSWORD).await;
    let week = visitor.get("/dashboard/metrics?range=7d&granularity=day&domain=").await;
    assert_eq!(totals(&week.body), ["1", "1", "0", "0", "0", "0"]);
    assert!(week.body.contains("0.00%") && week.body.contains("Healthy: well below the 4% limit"), "{}", week.body);
    let month = visitor.get("/dashboard/metrics?range=30d&granularity=week").await;
    assert_eq!(totals(&month.body), ["5", "4", "1", "1", "0", "0"]);
    assert!(month.body.contains("Sent per week") && month.body.contains("Week of "));
    let hourly = visitor.get("/dashboard/metrics?range=7d&granularity=hour").await;
    assert_eq!(totals(&hourly.body)[0], "1");
    assert!(hourly.body.matches("<th scope=\"row\"><time").count() > 6 * 24, "every hour of the range");
}

async fn bad_metrics_filters_are_refused_in_words(app: TestApp) {
    let mut visitor = Visitor::new(&app);
    let away = visitor.get("/dashboard/metrics").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER, "signed-in people only");
    let mut visitor = signed_in(&app).await;
    let other = app.other_team_key().await;
    let their_domain = format!("domain={}", app.verified_domain_as(&other, "other.dev").await);
    for (query, message) in [
        ("range=1y", "The range must be 7d, 30d or 90d, not “1y”."),
        ("granularity=minute", "The granularity must be hour, day or week"),
        ("range=90d&granularity=hour", "Hourly charts cover at most 30 days"),
        (their_domain.as_str(), "The domain must be one of this team's domains."),
        ("domain=not-an-id", "The domain must be one of this team's domains."),
    ] {
        let page = visitor.get(&format!("/dashboard/metrics?{query}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", page.body);
        assert!(page.body.contains("role=\"alert\"") && page.body.contains(message), "{query}: {}", page.body);
        assert!(!page.body.contains("<svg"), "no charts for filters that were not applied");
        assert!(page.body.contains("<label for=\"range\">Range</label>"), "the form stays, to fix the choice");
    }
    let twice = visitor.get("/dashboard/metrics?range=7d&range=30d").await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "{}", twice.body);
    assert!(twice.body.contains("These filters cannot be read"));
}
