//! Exports in the dashboard: an admin exports a filtered list after confirming its
//! filters — up to 1,000 rows download at once (with spreadsheet formulas
//! neutralised), more are produced in the background and downloaded from the
//! Exports page — and after seven days the export is expired and its file deleted.
//! Members see exports but cannot start or download them; another team's export is
//! not found; every start needs the form's CSRF token.

use chrono::Duration;
use postline_core::{
    exports::{ExportId, ExportStatus},
    ids::ApiKeyId,
    pagination::PageRequest,
    request_logs::{RequestLog, RequestLogStore},
    users::Role,
};
use postline_testkit::{TestApp, backend_tests};
use reqwest::StatusCode;
use serde_json::json;

use crate::dashboard::{Visitor, hidden, user};

backend_tests!(
    a_small_export_downloads_at_once_with_its_filters_and_formulas_neutralised,
    a_large_export_is_produced_in_the_background_and_expires_after_seven_days,
);

const PASSWORD: &str = "a long enough password";

async fn exports_count(app: &TestApp) -> usize {
    app.app
        .postline
        .list_exports(app.team.id, PageRequest { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .items
        .len()
}

/// An admin of another team, signed in.
async fn outsider(app: &TestApp) -> Visitor {
    let other = app.app.postline.create_team("Other team").await.unwrap();
    app.app.postline.create_user(other.id, "them@other.dev", PASSWORD, Role::Admin, None).await.unwrap();
    let mut them = Visitor::new(app);
    them.sign_in("them@other.dev", PASSWORD).await;
    them
}

/// The data lines of a CSV file (records are CRLF-terminated; no cell here has a line break).
fn records(csv: &str) -> Vec<&str> {
    csv.split("\r\n").filter(|l| !l.is_empty()).collect()
}

async fn a_small_export_downloads_at_once_with_its_filters_and_formulas_neutralised(app: TestApp) {
    for subject in ["=HYPERLINK(\"http://evil.example\",\"Invoice\")", "+Invoice, March", "Welcome aboard"] {
        let email =
            json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": subject, "text": "t"});
        app.post("/emails", email).await.expect(200);
    }
    user(&app, "admin@acme.dev", Role::Admin).await;
    user(&app, "member@acme.dev", Role::Member).await;
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@acme.dev", PASSWORD).await;

    // The list's filters travel with its Export button to the confirmation.
    let list = admin.get("/dashboard/emails?q=invoice").await;
    assert!(list.body.contains("action=\"/dashboard/exports/new\""), "{}", list.body);
    assert!(
        list.body.contains("name=\"kind\" value=\"emails\"") && list.body.contains("name=\"text\" value=\"invoice\"")
    );
    assert!(admin.get("/dashboard/domains").await.body.contains("name=\"kind\" value=\"domains\""));
    let confirm = admin.get("/dashboard/exports/new?kind=emails&text=invoice&tag=").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Recipient or subject") && confirm.body.contains("invoice"), "{}", confirm.body);
    let csrf = hidden(&confirm.body, "csrf");

    // Refusals change nothing.
    let forged = admin.post("/dashboard/exports", &[("kind", "emails"), ("text", "invoice")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no export without the form's token");
    let wrong = admin.get("/dashboard/exports/new?kind=contacts&status=bounced").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("id=\"export-status-error\"") && wrong.body.contains("aria-invalid=\"true\""));
    let unknown = admin.post("/dashboard/exports", &[("csrf", &csrf), ("kind", "invoices")]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("id=\"export-kind-error\""), "{}", unknown.body);
    assert_eq!(exports_count(&app).await, 0);

    let started = admin.post("/dashboard/exports", &[("csrf", &csrf), ("kind", "emails"), ("text", "invoice")]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let download = started.location.clone().unwrap();
    assert!(download.ends_with("/download"), "a small export downloads at once: {download}");
    let file = admin.get(&download).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let disposition = file.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"postline-emails-"), "{disposition}");
    let lines = records(&file.body);
    assert_eq!(lines.len(), 3, "a header and the two emails the filter matches: {}", file.body);
    assert!(lines[0].starts_with("id,created_at,from,to,"), "{}", lines[0]);
    assert!(file.body.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Invoice\"\")\""), "{}", file.body);
    assert!(file.body.contains("\"'+Invoice, March\""), "formula starts get a quote mark: {}", file.body);
    assert!(!file.body.contains("Welcome"), "filtered out");

    // Listed on the Exports page, with its details.
    let page = admin.get("/dashboard/exports").await;
    assert!(
        page.body.contains("Ready") && page.body.contains("admin@acme.dev") && page.body.contains(">2 <"),
        "{}",
        page.body
    );
    let id = download.trim_start_matches("/dashboard/exports/").trim_end_matches("/download").to_string();
    let detail = admin.get(&format!("/dashboard/exports/{id}")).await;
    assert!(detail.body.contains("Download CSV") && detail.body.contains("Available until"), "{}", detail.body);

    // Members see exports but neither start nor download them.
    let mut member = Visitor::new(&app);
    member.sign_in("member@acme.dev", PASSWORD).await;
    let theirs = member.get("/dashboard/exports").await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.body.contains("Only admins") && theirs.body.contains(&format!("/dashboard/exports/{id}")));
    assert!(!member.get("/dashboard/emails").await.body.contains("Export CSV"), "members are offered no export");
    let seen = member.get(&format!("/dashboard/exports/{id}")).await;
    assert!(seen.body.contains("Only admins of this team can download") && !seen.body.contains("Download CSV"));
    assert_eq!(member.get(&download).await.status, StatusCode::FORBIDDEN);
    assert_eq!(member.get("/dashboard/exports/new?kind=emails").await.status, StatusCode::FORBIDDEN);
    let member_csrf = hidden(&theirs.body, "csrf");
    let refused = member.post("/dashboard/exports", &[("csrf", &member_csrf), ("kind", "emails")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(exports_count(&app).await, 1, "nothing was started by the refusals");

    // Another team's export is not found.
    let mut them = outsider(&app).await;
    assert_eq!(them.get(&format!("/dashboard/exports/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(them.get(&download).await.status, StatusCode::NOT_FOUND);
}

async fn a_large_export_is_produced_in_the_background_and_expires_after_seven_days(app: TestApp) {
    // 1,200 successful requests and 30 refused ones, written straight to the store.
    let keys = app.get("/api-keys").await.expect(200)["data"].clone();
    let key = ApiKeyId::parse(keys[0]["id"].as_str().unwrap()).unwrap();
    // That `GET` is logged too; written now, it is one of the GETs the filter leaves out.
    app.app.request_logs.flush().await;
    let now = app.clock_now();
    let log = |status: u16| {
        RequestLog::new(
            app.team.id,
            key,
            "POST",
            "/emails",
            status,
            Some("=cmd|' /C calc'!A0"),
            Default::default(),
            now,
        )
    };
    let logs: Vec<RequestLog> = (0..1_200).map(|_| log(200)).chain((0..30).map(|_| log(429))).collect();
    app.app.db.insert_request_logs(&logs).await.unwrap();
    user(&app, "admin@acme.dev", Role::Admin).await;
    user(&app, "member@acme.dev", Role::Member).await;
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@acme.dev", PASSWORD).await;

    let list = admin.get("/dashboard/logs?status=2xx&method=POST").await;
    assert!(list.body.contains("name=\"kind\" value=\"logs\"") && list.body.contains("name=\"method\" value=\"POST\""));
    let csrf = hidden(&list.body, "csrf");
    let form = [("csrf", csrf.as_str()), ("kind", "logs"), ("status", "2xx"), ("method", "POST")];
    let started = admin.post("/dashboard/exports", &form).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    let page = started.location.clone().unwrap();
    assert!(!page.ends_with("/download"), "more than 1,000 rows go to the background: {page}");
    let pending = admin.get(&page).await;
    assert!(pending.body.contains("Pending") && pending.body.contains("being prepared"), "{}", pending.body);
    let download = format!("{page}/download");
    assert_eq!(admin.get(&download).await.status, StatusCode::CONFLICT, "nothing to download yet");

    assert_eq!(app.app.postline.run_exports().await.unwrap(), 1, "the worker produces the file");
    assert_eq!(app.app.postline.run_exports().await.unwrap(), 0, "once");
    let ready = admin.get(&page).await;
    assert!(ready.body.contains("Ready") && ready.body.contains("1200"), "{}", ready.body);
    let file = admin.get(&download).await;
    assert_eq!(file.status, StatusCode::OK);
    let lines = records(&file.body);
    assert_eq!(lines.len(), 1_201, "the header and every 2xx POST, none of the 429s or the GET");
    assert!(lines[1..].iter().all(|l| l.contains(",200,") && l.contains(",'=cmd|' /C calc'!A0,")), "{}", lines[1]);
    assert_eq!(file.headers["content-length"].to_str().unwrap(), file.body.len().to_string());

    let mut member = Visitor::new(&app);
    member.sign_in("member@acme.dev", PASSWORD).await;
    assert_eq!(member.get(&download).await.status, StatusCode::FORBIDDEN);
    assert!(member.get(&page).await.body.contains("Ready"));
    let mut them = outsider(&app).await;
    assert_eq!(them.get(&download).await.status, StatusCode::NOT_FOUND);

    // Seven days later: expired, and the worker deletes the file.
    app.clock.advance(Duration::days(7) + Duration::minutes(1));
    admin.sign_in("admin@acme.dev", PASSWORD).await; // sessions last seven days too
    let expired = admin.get(&page).await;
    assert!(expired.body.contains("Expired") && !expired.body.contains("Download CSV"), "{}", expired.body);
    assert_eq!(admin.get(&download).await.status, StatusCode::GONE);
    app.app.postline.run_exports().await.unwrap();
    let id = ExportId::parse(page.trim_start_matches("/dashboard/exports/")).unwrap();
    assert_eq!(app.app.postline.get_export(app.team.id, id).await.unwrap().status, ExportStatus::Expired);
    assert_eq!(app.app.postline.export_chunk(app.team.id, id, 0).await.unwrap(), None, "the file is deleted");
    assert!(admin.get("/dashboard/exports").await.body.contains("Expired"));
}
