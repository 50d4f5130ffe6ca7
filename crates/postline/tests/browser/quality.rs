//! The dashboard's quality bar, checked in a real browser on every main page, in the
//! light and the dark theme, on a desktop and a phone-sized window: every field has
//! a label, every link and button a name, one `h1`; text contrast at least WCAG AA
//! (4.5:1, 3:1 for large text); nothing wider than a 375 px screen; no layout shift
//! while the page loads; and the keyboard reaches the main content first (skip link).

use postline_testkit::{Backend, TestApp, browser::Browser};
use serde_json::{Value, json};

/// Finds what breaks the bar on the current page; a list of sentences.
const AUDIT: &str = r#"
const problems = [];
const describe = (el) => el.outerHTML.slice(0, 120);
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  const labelled = (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`))
    || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!labelled) problems.push('a field without a label: ' + describe(el));
}
for (const el of document.querySelectorAll('a[href], button')) {
  if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('a control without a name: ' + describe(el));
}
const h1s = document.querySelectorAll('h1').length;
if (h1s !== 1) problems.push(`${h1s} h1 headings`);
if (document.documentElement.scrollWidth > window.innerWidth + 1) {
  let widest = null;
  for (const el of document.querySelectorAll('body *')) {
    if (el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.scroll')) widest = el;
  }
  if (widest) problems.push(`wider than the ${window.innerWidth} px window: ` + describe(widest));
}
const channels = (color) => (color.match(/[\d.]+/g) || []).map(Number);
const luminance = ([r, g, b]) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const background = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = channels(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c;
  }
  return channels(getComputedStyle(document.documentElement).backgroundColor).length ? [255, 255, 255] : [255, 255, 255];
};
for (const el of document.querySelectorAll('body *')) {
  const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!text || !el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || el.closest('.visually-hidden, .skip')) continue;
  const a = luminance(channels(style.color)), b = luminance(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
  const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  if (ratio < needed) problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: "${el.textContent.trim().slice(0, 40)}" (${style.color} on ${background(el)})`);
}
const first = document.querySelector('body a, body button, body input');
if (!first || !first.classList.contains('skip')) problems.push('the first focusable element is not the skip link');
return problems;
"#;

/// The total layout shift since the page started loading (CLS without sessions).
const LAYOUT_SHIFT: &str = r#"
let total = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
  .observe({ type: 'layout-shift', buffered: true });
setTimeout(() => done(total), 300);
"#;

async fn audit(browser: &Browser, page: &str) -> Vec<String> {
    let found = browser.run(AUDIT).await;
    let mut problems: Vec<String> =
        found.as_array().unwrap().iter().map(|p| format!("{page}: {}", p.as_str().unwrap())).collect();
    problems.dedup();
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_main_page_is_labelled_readable_in_both_themes_fits_a_phone_and_does_not_shift() {
    let Some(browser) = Browser::start().await else { return };
    let options = postline_testkit::test_app::Options { capture: true, ..Default::default() };
    let app = TestApp::start_with(Backend::Sqlite, options).await;
    let password = "a long enough password";
    app.app
        .postline
        .create_user(app.team.id, "ada@acme.dev", password, postline_core::users::Role::Admin, None)
        .await
        .unwrap();
    // Something on every page.
    let email = app
        .post("/emails", json!({"from": "Acme <hello@acme.dev>", "to": ["bounced@resend.dev", "ann@example.org"],
                                 "subject": "Your receipt", "html": "<p>Paid</p>", "tags": [{"name": "kind", "value": "receipt"}]}))
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.drain().await;
    let domain =
        app.post("/domains", json!({"name": "acme.dev"})).await.expect(201)["id"].as_str().unwrap().to_string();
    let contact =
        app.post("/contacts", json!({"email": "ann@example.org", "first_name": "Ann"})).await.expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
    app.post("/webhooks", json!({"endpoint": "https://hooks.example.org/postline", "events": ["email.sent"]}))
        .await
        .expect(201);
    let captured = app.app.postline.list_captured(app.team.id, Default::default()).await.unwrap().items[0].id;

    browser.goto(&format!("{}/dashboard/login", app.base_url)).await;
    let mut problems = audit(&browser, "sign-in").await;
    browser.type_into("#email", "ada@acme.dev").await;
    browser.type_into("#password", password).await;
    browser.click_and_wait_for_page("button[type=submit]").await;

    let pages = [
        "/dashboard/emails".to_string(),
        format!("/dashboard/emails/{email}"),
        "/dashboard/domains".into(),
        format!("/dashboard/domains/{domain}"),
        "/dashboard/api-keys".into(),
        "/dashboard/webhooks".into(),
        "/dashboard/audience".into(),
        format!("/dashboard/audience/{contact}"),
        format!("/dashboard/audience/{contact}/edit"),
        "/dashboard/audience/add".into(),
        "/dashboard/audience/import".into(),
        "/dashboard/audience/properties".into(),
        "/dashboard/audience/segments".into(),
        "/dashboard/audience/topics".into(),
        "/dashboard/audience/unsubscribe-page".into(),
        "/dashboard/metrics".into(),
        "/dashboard/logs".into(),
        "/dashboard/exports".into(),
        "/dashboard/exports/new?kind=contacts".into(),
        "/dashboard/inbox".into(),
        format!("/dashboard/inbox/{captured}"),
    ];
    let mut shifts = Vec::new();
    for (width, height, dark) in [(1280, 900, false), (1280, 900, true), (375, 800, false), (375, 800, true)] {
        browser.set_size(width, height).await;
        browser.prefer_dark(dark).await;
        for path in &pages {
            browser.goto(&format!("{}{path}", app.base_url)).await;
            let theme = if dark { "dark" } else { "light" };
            problems.extend(audit(&browser, &format!("{path} ({width} px, {theme})")).await);
            let shift = browser.run_async(LAYOUT_SHIFT).await;
            if shift.as_f64().unwrap_or(0.0) > 0.01 {
                shifts.push(format!("{path} ({width} px, {theme}) shifted by {shift}"));
            }
        }
    }
    browser.set_size(375, 800).await;
    browser.prefer_dark(true).await;
    browser.goto(&format!("{}/dashboard/emails/{email}", app.base_url)).await;
    let png = browser.client().screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("email-phone-dark.png"), png).unwrap();
    browser.close().await;
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(shifts.is_empty(), "layout shifts:\n{}", shifts.join("\n"));
    let _ = Value::Null;
}
