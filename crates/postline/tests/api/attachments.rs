use base64::{Engine, engine::general_purpose::STANDARD};
use postline_testkit::{
    TestApp, backend_tests,
    files::{FileServer, INVOICE, LOGO},
    test_app::Options,
};
use serde_json::{Value, json};

backend_tests!(
    inline_and_attached_files_are_stored_and_downloadable,
    remote_files_are_fetched_from_their_path,
    bad_attachments_are_refused_with_invalid_attachment,
);

fn email_with(attachments: Value) -> Value {
    json!({
        "from": "onboarding@resend.dev",
        "to": "delivered@resend.dev",
        "subject": "Files",
        "html": "<p><img src=\"cid:logo-image\"></p>",
        "attachments": attachments,
    })
}

async fn download(app: &TestApp, url: &str) -> (String, Vec<u8>) {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    (content_type, response.bytes().await.unwrap().to_vec())
}

async fn inline_and_attached_files_are_stored_and_downloadable(app: TestApp) {
    let sent = app
        .post(
            "/emails",
            email_with(json!([
                {"filename": "invoice.pdf", "content": STANDARD.encode(INVOICE)},
                {"filename": "logo.png", "content": LOGO.iter().map(|b| json!(b)).collect::<Vec<_>>(), "content_id": "logo-image"},
                {"filename": "data.bin", "content": STANDARD.encode(b"\x00\x01"), "content_type": "application/x-custom"},
            ])),
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    let list = app.get(&format!("/emails/{id}/attachments")).await;
    let items = list.expect(200)["data"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["filename"], "invoice.pdf");
    assert_eq!(items[0]["content_type"], "application/pdf");
    assert_eq!(items[0]["content_disposition"], "attachment");
    assert_eq!(items[0]["size"], INVOICE.len());
    assert_eq!(items[1]["content_id"], "logo-image");
    assert_eq!(items[1]["content_disposition"], "inline");
    assert_eq!(items[2]["content_type"], "application/x-custom");

    let (content_type, bytes) = download(&app, items[0]["download_url"].as_str().unwrap()).await;
    assert_eq!((content_type.as_str(), bytes.as_slice()), ("application/pdf", INVOICE));
    let (_, bytes) = download(&app, items[1]["download_url"].as_str().unwrap()).await;
    assert_eq!(bytes, LOGO, "a byte array decodes to the same bytes as base64");

    let one = app.get(&format!("/emails/{id}/attachments/{}", items[1]["id"].as_str().unwrap())).await;
    assert_eq!(one.expect(200)["object"], "attachment");
    assert_eq!(one.body["id"], items[1]["id"]);

    let paged = app.get(&format!("/emails/{id}/attachments?limit=1&after={}", items[0]["id"].as_str().unwrap())).await;
    assert_eq!(paged.expect(200)["data"][0]["id"], items[1]["id"]);
    assert_eq!(paged.body["has_more"], true);

    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/emails/{id}/attachments/{missing}")).await.expect_error(404, "not_found");
    app.clock.advance(chrono::Duration::hours(2));
    let expired = app.client.get(items[0]["download_url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(expired.status(), 404, "download links expire");
}

async fn remote_files_are_fetched_from_their_path(app: TestApp) {
    let files = FileServer::start().await;
    let sent = app
        .post(
            "/emails",
            email_with(json!([
                {"path": files.url("/invoice.pdf"), "filename": "invoice.pdf"},
                {"path": files.url("/logo.png"), "content_id": "logo-image"},
                {"path": files.url("/redirect"), "filename": "followed.pdf"},
            ])),
        )
        .await;
    let id = sent.expect(200)["id"].as_str().unwrap().to_string();
    let items = app.get(&format!("/emails/{id}/attachments")).await.body["data"].as_array().unwrap().clone();
    assert_eq!(items[1]["filename"], "logo.png", "the file name comes from the URL when not given");
    assert_eq!(items[1]["content_type"], "image/png");
    let (_, bytes) = download(&app, items[0]["download_url"].as_str().unwrap()).await;
    assert_eq!(bytes, INVOICE);
    let (_, bytes) = download(&app, items[2]["download_url"].as_str().unwrap()).await;
    assert_eq!(bytes, INVOICE, "redirects are followed");

    let missing = app.post("/emails", email_with(json!([{"path": files.url("/missing"), "filename": "x.pdf"}]))).await;
    missing.expect_error(422, "invalid_attachment");
    assert!(missing.body["message"].as_str().unwrap().contains("404"), "{}", missing.body);
    let huge = app.post("/emails", email_with(json!([{"path": files.url("/huge"), "filename": "x.bin"}]))).await;
    huge.expect_error(422, "invalid_attachment");

    // Exposed beyond loopback, private addresses are refused after resolution.
    let exposed =
        TestApp::start_with(app.backend, Options { allow_private_fetches: false, ..Options::default() }).await;
    for url in [files.url("/invoice.pdf"), format!("http://localhost:{}/invoice.pdf", files.address.port())] {
        let refused = exposed.post("/emails", email_with(json!([{"path": url, "filename": "invoice.pdf"}]))).await;
        refused.expect_error(451, "security_error");
        assert!(
            refused.body["message"].as_str().unwrap().contains("127.0.0.1")
                || refused.body["message"].as_str().unwrap().contains("::1")
        );
    }
    assert_eq!(exposed.get("/emails").await.body["data"], json!([]), "refused sends store nothing");

    // A server that never answers is a clear error after the time limit, not a hang.
    let impatient = TestApp::start_with(
        app.backend,
        Options { fetch_timeout: std::time::Duration::from_secs(1), ..Options::default() },
    )
    .await;
    let started = std::time::Instant::now();
    let slow = impatient.post("/emails", email_with(json!([{"path": files.url("/slow"), "filename": "x.pdf"}]))).await;
    slow.expect_error(422, "invalid_attachment");
    assert!(slow.body["message"].as_str().unwrap().contains("timed out"), "{}", slow.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

async fn bad_attachments_are_refused_with_invalid_attachment(app: TestApp) {
    let cases = [
        json!([{"filename": "a.txt"}]),
        json!([{"filename": "a.txt", "content": "%%%not base64"}]),
        json!([{"filename": "setup.exe", "content": "aGk="}]),
        json!([{"filename": "script.JS", "content": "aGk="}]),
        json!([{"filename": "a.png", "content": "aGk=", "content_id": "c".repeat(128)}]),
        json!([{"filename": "a.pdf", "path": "ftp://files.example.org/a.pdf"}]),
        json!("not an array"),
    ];
    for attachments in cases {
        let response = app.post("/emails", email_with(attachments.clone())).await;
        assert_eq!(
            (response.status, response.error_name()),
            (422, "invalid_attachment"),
            "{attachments}: {}",
            response.body
        );
    }
    // 40 MB counted after base64: 30 MiB of raw bytes is exactly 40 MiB encoded.
    let at_limit = vec![7u8; 30 * 1024 * 1024 - 3 * 1024];
    let ok = app.post("/emails", json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "big", "attachments": [{"filename": "big.bin", "content": STANDARD.encode(&at_limit)}]})).await;
    ok.expect(200);
    let over = vec![7u8; 30 * 1024 * 1024 + 3];
    let too_big = app.post("/emails", json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "big", "attachments": [{"filename": "big.bin", "content": STANDARD.encode(&over)}]})).await;
    too_big.expect_error(422, "invalid_attachment");
}
