//! The browser harness against a real page: a server-rendered form with two
//! checkboxes, filled in and submitted by headless Chromium, and the page the server
//! renders from what the browser posted.

use std::sync::{Arc, Mutex};

use axum::{
    Form, Router,
    extract::State,
    http::{HeaderMap, header},
    response::Html,
    routing::get,
};
use postline_testkit::browser::Browser;

/// What the POST handler received: its `Content-Type` and the checked values.
type Posted = Arc<Mutex<Vec<(String, Vec<String>)>>>;

const FORM: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Preferences</title></head>
<body>
<h1>Preferences</h1>
<form method="post" action="/">
  <label><input type="checkbox" id="news" name="topic" value="news" checked> News</label>
  <label><input type="checkbox" id="offers" name="topic" value="offers"> Offers</label>
  <button type="submit" id="save">Save</button>
</form>
</body></html>"#;

async fn show_form() -> Html<&'static str> {
    Html(FORM)
}

async fn save(
    State(posted): State<Posted>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Html<String> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let topics: Vec<String> = fields.into_iter().filter(|(name, _)| name == "topic").map(|(_, value)| value).collect();
    posted.lock().unwrap().push((content_type, topics.clone()));
    let items: String = topics.iter().map(|topic| format!("<li>{topic}</li>")).collect();
    Html(format!(
        "<!doctype html><html><head><title>Saved</title></head><body>\
         <h1>Saved</h1><p>Checked topics: {}</p><ul id=\"checked\">{items}</ul></body></html>",
        topics.len()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_ticks_checkboxes_submits_a_form_and_reads_the_result() {
    let Some(browser) = Browser::start().await else { return };

    let posted = Posted::default();
    let router = Router::new().route("/", get(show_form).post(save)).with_state(posted.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the form server");
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve the form") });

    browser.goto(&url).await;
    assert!(browser.text().await.contains("Preferences"), "{}", browser.text().await);
    assert!(browser.is_checked("#news").await);
    assert!(!browser.is_checked("#offers").await);

    browser.set_checked("#news", false).await;
    browser.set_checked("#offers", true).await;
    // Setting a box to what it already is leaves it so.
    browser.set_checked("#offers", true).await;
    browser.click_and_wait_for_page("#save").await;

    let text = browser.text().await;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    assert_eq!(lines, ["Saved", "Checked topics: 1", "offers"], "the page after submitting:\n{text}");
    assert!(!text.contains("news"), "the unticked box was submitted:\n{text}");
    assert_eq!(browser.current_url().await, url, "the form posts to itself");

    let posted = posted.lock().unwrap().clone();
    assert_eq!(
        posted,
        [("application/x-www-form-urlencoded".to_string(), vec!["offers".to_string()])],
        "exactly one urlencoded POST with only the ticked box"
    );

    browser.close().await;
}
