use postline_testkit::{TestApp, backend_tests, test_app::Options};
use reqwest::Method;

backend_tests!(
    requests_without_a_valid_key_are_refused,
    unknown_routes_and_wrong_methods_get_contract_errors,
    each_team_is_rate_limited_with_headers,
);

async fn requests_without_a_valid_key_are_refused(app: TestApp) {
    let bare = app.client.get(format!("{}/emails", app.base_url)).send().await.unwrap();
    app.read("GET", "/emails", bare).await.expect_error(401, "missing_api_key");
    let basic =
        app.client.get(format!("{}/emails", app.base_url)).header("authorization", "Basic abc").send().await.unwrap();
    app.read("GET", "/emails", basic).await.expect_error(401, "missing_api_key");
    for bad in ["re_doesnotexist", "nonsense", "re_123456789012345678901234567890123456789"] {
        app.request_as(bad, Method::GET, "/emails", None, &[]).await.expect_error(403, "invalid_api_key");
    }
}

async fn unknown_routes_and_wrong_methods_get_contract_errors(app: TestApp) {
    app.get("/nothing-here").await.expect_error(404, "not_found");
    app.request(Method::DELETE, "/emails", None).await.expect_error(405, "method_not_allowed");
    app.request(Method::PUT, "/api-keys", None).await.expect_error(405, "method_not_allowed");
}

async fn each_team_is_rate_limited_with_headers(app: TestApp) {
    let limited = TestApp::start_with(app.backend, Options { rate_limit: 3, ..Options::default() }).await;
    let first = limited.get("/emails").await;
    first.expect(200);
    assert_eq!(first.headers["ratelimit-limit"], "3");
    assert_eq!(first.headers["ratelimit-remaining"], "2");
    assert!(first.headers.contains_key("ratelimit-reset"));
    // Keep hitting until the window's budget is spent; a 429 must follow within it
    // (retry if the second boundary happens to fall in the middle).
    let mut saw_429 = false;
    for _ in 0..20 {
        let response = limited.get("/emails").await;
        if response.status == 429 {
            response.expect_error(429, "rate_limit_exceeded");
            assert!(response.headers.contains_key("retry-after"));
            assert_eq!(response.headers["ratelimit-remaining"], "0");
            saw_429 = true;
            break;
        }
    }
    assert!(saw_429, "the fourth request within a second is refused");
    let other = limited.other_team_key().await;
    limited.request_as(&other, Method::GET, "/emails", None, &[]).await.expect(200);
}
