//! API request logs: every authenticated request is logged with its key, method,
//! path (never the query string), status, user agent and duration; each key's
//! request count on the API keys page links to its logs; the Logs page filters by
//! key, status class, method and day, refuses a malformed filter beside its field,
//! shows one request, keeps other teams' logs out, and logs past 30 days are deleted.

use chrono::Duration;
use postline_core::{pagination::PageRequest, request_logs::LogFilter, users::Role};
use postline_testkit::{TestApp, backend_tests};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::dashboard::{Visitor, user};

backend_tests!(
    every_api_request_is_logged_with_its_key_status_and_agent_but_never_its_query,
    the_logs_page_filters_by_key_status_method_and_day_and_shows_one_request,
);

const PASSWORD: &str = "a long enough password";

/// The id of the team's key named `name`.
async fn key_id(app: &TestApp, name: &str) -> String {
    let keys = app.get("/api-keys").await.expect(200)["data"].clone();
    keys.as_array().unwrap().iter().find(|k| k["name"] == name).expect("the key")["id"].as_str().unwrap().to_string()
}

/// Sends a few requests with two keys: with the test key two succeed and one fails
/// (4xx), then two look the keys up; the sending key is refused once. Returns (test key id, sending key id).
async fn some_traffic(app: &TestApp) -> (String, String) {
    let agent = [("user-agent", "acme-ci/1.2")];
    let email = json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "s", "text": "t"});
    app.request_as(&app.key, Method::POST, "/emails", Some(email), &agent).await.expect(200);
    app.request_as(&app.key, Method::GET, "/domains?limit=5&secret=hunter2", None, &agent).await.expect(200);
    app.request_as(&app.key, Method::GET, "/emails/not-a-uuid", None, &agent).await;
    let sending = app.key_with("sending_access").await;
    app.request_as(&sending, Method::GET, "/domains", None, &[]).await.expect_error(401, "restricted_api_key");
    // No key found: nothing to attribute the request to, so nothing is logged.
    app.request_as("re_not_a_real_key_at_all", Method::GET, "/domains", None, &[]).await;
    let sending_id = key_id(app, "sending_access").await;
    let test_id = key_id(app, "test").await;
    app.app.request_logs.flush().await;
    (test_id, sending_id)
}

async fn every_api_request_is_logged_with_its_key_status_and_agent_but_never_its_query(app: TestApp) {
    let (test_id, sending_id) = some_traffic(&app).await;
    let postline = &app.app.postline;
    let all = postline
        .search_request_logs(app.team.id, &LogFilter::default(), PageRequest { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .items;
    let seen: Vec<(String, String, u16, String)> =
        all.iter().map(|l| (l.method.clone(), l.path.clone(), l.status, l.api_key_id.to_string())).collect();
    // Newest first; the `GET /api-keys` calls of the helper are logged too.
    assert!(seen.contains(&("POST".into(), "/emails".into(), 200, test_id.clone())), "{seen:?}");
    assert!(seen.contains(&("GET".into(), "/domains".into(), 200, test_id.clone())), "no query string: {seen:?}");
    assert!(seen.iter().any(|(m, p, s, k)| m == "GET"
        && p == "/emails/not-a-uuid"
        && *s >= 400
        && *s < 500
        && *k == test_id));
    assert!(seen.contains(&("GET".into(), "/domains".into(), 401, sending_id.clone())), "{seen:?}");
    assert_eq!(all.len(), 6, "three test-key requests, two key lookups, one refused sending request: {seen:?}");
    assert!(all.iter().all(|l| !l.path.contains("hunter2")));
    let sent = all.iter().find(|l| l.method == "POST").unwrap();
    assert_eq!(sent.user_agent.as_deref(), Some("acme-ci/1.2"));
    assert!(sent.duration_ms < 60_000);

    let counts = postline.request_counts(app.team.id).await.unwrap();
    let count = |id: &str| counts.iter().find(|(k, _)| k.to_string() == id).map(|(_, n)| *n).unwrap_or(0);
    assert_eq!((count(&test_id), count(&sending_id)), (5, 1));

    // Another team's requests are its own.
    let other = app.other_team_key().await;
    app.request_as(&other, Method::GET, "/domains", None, &[]).await.expect(200);
    app.app.request_logs.flush().await;
    let again = postline
        .search_request_logs(app.team.id, &LogFilter::default(), PageRequest { limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(again.items.len(), 6, "the other team's request is not in this team's logs");

    // Thirty days on, the logs go; the keys' totals stay.
    app.clock.advance(Duration::days(31));
    assert_eq!(postline.delete_expired_request_logs().await.unwrap(), 7, "this team's six and the other's one");
    let left = postline
        .search_request_logs(app.team.id, &LogFilter::default(), PageRequest { limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert!(left.items.is_empty());
    let counts = postline.request_counts(app.team.id).await.unwrap();
    assert!(counts.iter().any(|(k, n)| k.to_string() == test_id && *n == 5), "{counts:?}");
}

async fn the_logs_page_filters_by_key_status_method_and_day_and_shows_one_request(app: TestApp) {
    let (test_id, sending_id) = some_traffic(&app).await;
    user(&app, "admin@acme.dev", Role::Admin).await;
    user(&app, "member@acme.dev", Role::Member).await;
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@acme.dev", PASSWORD).await;

    let keys = admin.get("/dashboard/api-keys").await;
    assert_eq!(keys.status, StatusCode::OK);
    let link = format!("<a class=\"count\" href=\"/dashboard/logs?key={sending_id}\">1<");
    assert!(keys.body.contains(&link), "the sending key's count links to its logs: {}", keys.body);
    assert!(keys.body.contains(&format!("href=\"/dashboard/logs?key={test_id}\">5<")), "{}", keys.body);

    let sending = admin.get(&format!("/dashboard/logs?key={sending_id}")).await;
    assert_eq!(sending.status, StatusCode::OK);
    assert!(sending.body.contains(">401<") && !sending.body.contains(">200<"), "{}", sending.body);
    let failed = admin.get(&format!("/dashboard/logs?key={test_id}&status=4xx")).await;
    assert!(failed.body.contains("/emails/not-a-uuid") && !failed.body.contains(">200<"), "{}", failed.body);
    let posts = admin.get("/dashboard/logs?method=POST").await;
    assert!(
        posts.body.contains("<code>/emails</code>") && !posts.body.contains("<code>/api-keys</code>"),
        "{}",
        posts.body
    );
    let future = admin.get("/dashboard/logs?from=2999-01-01").await;
    assert!(future.body.contains("No requests match"));
    let today = app.clock_now().format("%Y-%m-%d").to_string();
    let dated = admin.get(&format!("/dashboard/logs?from={today}&to={today}&status=2xx")).await;
    assert!(dated.body.contains("<code>/api-keys</code>") && !dated.body.contains(">401<"), "{}", dated.body);
    let wrong = admin.get("/dashboard/logs?status=9xx").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("id=\"logs-status-error\"") && wrong.body.contains("aria-invalid=\"true\""));
    let wrong_day = admin.get("/dashboard/logs?to=31/12/2025").await;
    assert_eq!(wrong_day.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_day.body.contains("id=\"logs-to-error\""), "{}", wrong_day.body);

    // One request's details; another team's or a made-up id is not found.
    let at = posts.body.find("href=\"/dashboard/logs/").unwrap() + "href=\"".len();
    let path: String = posts.body[at..].chars().take_while(|c| *c != '"').collect();
    let detail = admin.get(&path).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("acme-ci/1.2") && detail.body.contains(">200<"), "{}", detail.body);
    assert_eq!(admin.get("/dashboard/logs/not-an-id").await.status, StatusCode::NOT_FOUND);
    let other = app.app.postline.create_team("Other team").await.unwrap();
    app.app.postline.create_user(other.id, "them@other.dev", PASSWORD, Role::Admin, None).await.unwrap();
    let mut them = Visitor::new(&app);
    them.sign_in("them@other.dev", PASSWORD).await;
    assert_eq!(them.get(&path).await.status, StatusCode::NOT_FOUND, "another team's log is not found");
    let theirs = them.get(&format!("/dashboard/logs?key={test_id}")).await;
    assert!(theirs.body.contains("No requests match"), "a key of another team filters to nothing");

    // Members read the logs too, but are offered no export.
    let mut member = Visitor::new(&app);
    member.sign_in("member@acme.dev", PASSWORD).await;
    let page = member.get("/dashboard/logs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/emails/not-a-uuid") && !page.body.contains("Export CSV"));
    assert!(admin.get("/dashboard/logs").await.body.contains("Export CSV"));
}
