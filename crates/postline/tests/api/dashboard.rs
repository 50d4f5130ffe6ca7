//! The dashboard over HTTP, as a browser without JavaScript uses it: sign-in with the
//! form's CSRF cookie, the session cookie's attributes, the Emails list with its
//! filters, an email's timeline and bounce drawer, "Remove from suppression list",
//! sign-out — and the refusals: no session, no CSRF token, another team's email.

use postline_core::users::Role;
use postline_testkit::{TestApp, backend_tests, smtp_sink::SmtpSink, webhook_receiver::WebhookReceiver};
use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::json;

use crate::delivery::app_with;

backend_tests!(
    signing_in_shows_the_teams_emails_and_every_form_needs_its_csrf_token,
    a_bounce_shows_its_drawer_and_the_address_can_be_removed_from_suppression,
    admins_manage_api_keys_and_see_a_new_token_once_while_members_are_refused,
    webhook_endpoints_show_their_deliveries_and_replay_them,
    the_audience_is_searched_by_name_status_and_segment_and_each_contact_shows_its_history,
    an_emails_raw_source_is_shown_as_text_and_downloaded_as_eml,
);

const PASSWORD: &str = "a long enough password";

/// A browser-like client: follows no redirects (the test checks them), keeps cookies
/// by hand.
pub(crate) struct Visitor {
    client: Client,
    base: String,
    cookies: Vec<(String, String)>,
}

pub(crate) struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Visitor {
    pub(crate) fn new(app: &TestApp) -> Self {
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        Visitor { client, base: app.base_url.clone(), cookies: Vec::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let set_cookies: Vec<String> =
            response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        for cookie in &set_cookies {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            if !attributes.contains("Max-Age=0") {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        Page { status, headers, location, set_cookies, body: response.text().await.unwrap() }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// Posts a multipart form: text fields, then a file part as `file_field`.
    pub(crate) async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_field: &str,
        file: (&str, Vec<u8>),
    ) -> Page {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        let part = reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_string());
        form = form.part(file_field.to_string(), part.mime_str("text/csv").unwrap());
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// Starts a GET and returns the response unread (a server-sent event stream).
    pub(crate) async fn open(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap()
    }

    /// Signs in through the form.
    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/dashboard/login").await;
        let csrf = hidden(&form.body, "csrf");
        self.post("/dashboard/login", &[("email", email), ("password", password), ("csrf", &csrf), ("next", "")]).await
    }
}

/// The value of the hidden input `name` (the first one).
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in {html}"));
    html[at + marker.len()..].split('"').next().unwrap().to_string()
}

pub(crate) async fn user(app: &TestApp, email: &str, role: Role) {
    app.app.postline.create_user(app.team.id, email, PASSWORD, role, None).await.expect("user");
}

async fn signing_in_shows_the_teams_emails_and_every_form_needs_its_csrf_token(app: TestApp) {
    user(&app, "ada@acme.dev", Role::Member).await;
    let mut visitor = Visitor::new(&app);

    let away = visitor.get("/dashboard/emails?q=x").await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    assert_eq!(away.location.as_deref(), Some("/dashboard/login?next=%2Fdashboard%2Femails%3Fq%3Dx"));

    let wrong = visitor.sign_in("ada@acme.dev", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Wrong email or password"));
    let unknown = visitor.sign_in("nobody@acme.dev", PASSWORD).await;
    assert!(unknown.body.contains("Wrong email or password"), "the same answer for an unknown address");
    let forged = visitor
        .post("/dashboard/login", &[("email", "ada@acme.dev"), ("password", PASSWORD), ("csrf", "guessed")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "the sign-in form's token is checked too");

    let signed_in = visitor.sign_in("ADA@acme.dev", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    let session = signed_in.set_cookies.iter().find(|c| c.starts_with("postline_session=")).expect("session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/dashboard"] {
        assert!(session.contains(attribute), "{session}");
    }

    for (subject, to) in [("Invoice 7", "delivered@resend.dev"), ("Welcome aboard", "bounced@resend.dev")] {
        app.post("/emails", json!({"from": "onboarding@resend.dev", "to": to, "subject": subject, "text": "t", "html": "<p>Hello <script>alert(1)</script></p>", "tags": [{"name": "kind", "value": "billing"}]}))
            .await
            .expect(200);
    }
    app.drain().await;
    let list = visitor.get("/dashboard/emails").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Invoice 7") && list.body.contains("Welcome aboard"));
    let policy = list.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(list.headers["cache-control"], "no-store", "team data is not cached");
    let searched = visitor.get("/dashboard/emails?q=invoice").await;
    assert!(searched.body.contains("Invoice 7") && !searched.body.contains("Welcome aboard"));
    let bounced = visitor.get("/dashboard/emails?status=bounced").await;
    assert!(bounced.body.contains("Welcome aboard") && !bounced.body.contains("Invoice 7"));
    let tagged = visitor.get("/dashboard/emails?tag=kind").await;
    assert!(tagged.body.contains("Invoice 7"));
    let untagged = visitor.get("/dashboard/emails?tag=other").await;
    assert!(untagged.body.contains("No emails match"));
    let future = visitor.get("/dashboard/emails?from=2999-01-01").await;
    assert!(future.body.contains("No emails match"));

    let id = app.get("/emails").await.expect(200)["data"][1]["id"].as_str().unwrap().to_string();
    let detail = visitor.get(&format!("/dashboard/emails/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("Invoice 7") && detail.body.contains("delivered"), "{}", detail.body);
    assert!(detail.body.contains("sandbox=\"\""), "the preview runs in a sandboxed frame");
    assert!(!detail.body.contains("<script>alert"), "the email's HTML is escaped into srcdoc, never inlined");
    let fragment = visitor.get(&format!("/dashboard/emails/{id}/timeline")).await;
    assert!(fragment.body.starts_with("<ol class=\"timeline\">"), "{}", fragment.body);

    // Another team's email is not found here either.
    let other = app.other_team_key().await;
    let theirs = app
        .request_as(&other, reqwest::Method::POST, "/emails", Some(json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "Theirs", "text": "t"})), &[])
        .await;
    let their_id = theirs.expect(200)["id"].as_str().unwrap().to_string();
    assert_eq!(visitor.get(&format!("/dashboard/emails/{their_id}")).await.status, StatusCode::NOT_FOUND);
    assert!(!visitor.get("/dashboard/emails").await.body.contains("Theirs"));

    // Sign-out needs the session's token; then the cookie opens nothing.
    let csrf = hidden(&list.body, "csrf");
    assert_eq!(visitor.post("/dashboard/logout", &[("csrf", "wrong")]).await.status, StatusCode::FORBIDDEN);
    let out = visitor.post("/dashboard/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/dashboard/login"));
    assert_eq!(visitor.get("/dashboard/emails").await.status, StatusCode::SEE_OTHER);
}

async fn a_bounce_shows_its_drawer_and_the_address_can_be_removed_from_suppression(app: TestApp) {
    let sink = SmtpSink::start().await;
    sink.script(|s| {
        s.rcpt_replies.insert("gone@acme-customer.io".into(), "550 5.1.1 <gone@acme-customer.io>: user unknown".into());
    });
    let app = app_with(app.backend, &sink, |_| {}).await;
    user(&app, "ada@acme.dev", Role::Member).await;
    let id = app
        .post(
            "/emails",
            json!({"from": "billing@acme.dev", "to": "gone@acme-customer.io", "subject": "Invoice", "text": "t"}),
        )
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.drain().await;
    let mut visitor = Visitor::new(&app);
    visitor.sign_in("ada@acme.dev", PASSWORD).await;
    let page = visitor.get(&format!("/dashboard/emails/{id}")).await;
    for expected in
        ["Bounced", "Permanent", "NoEmail", "Check it for typos", "550 5.1.1", "Remove from suppression list"]
    {
        assert!(page.body.contains(expected), "{expected} missing from {}", page.body);
    }
    let csrf = hidden(&page.body, "csrf");
    let back = format!("/dashboard/emails/{id}");
    let no_token =
        visitor.post("/dashboard/suppressions/remove", &[("email", "gone@acme-customer.io"), ("back", &back)]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/suppressions/gone@acme-customer.io").await.status, 200, "nothing changed");
    let removed = visitor
        .post("/dashboard/suppressions/remove", &[("csrf", &csrf), ("email", "gone@acme-customer.io"), ("back", &back)])
        .await;
    assert_eq!(removed.location.as_deref(), Some(back.as_str()));
    assert_eq!(app.get("/suppressions/gone@acme-customer.io").await.status, 404);
    assert!(!visitor.get(&back).await.body.contains("Remove from suppression list"));
}

async fn admins_manage_api_keys_and_see_a_new_token_once_while_members_are_refused(app: TestApp) {
    user(&app, "admin@acme.dev", Role::Admin).await;
    user(&app, "member@acme.dev", Role::Member).await;
    let mut member = Visitor::new(&app);
    member.sign_in("member@acme.dev", PASSWORD).await;
    let refused = member.get("/dashboard/api-keys").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "members cannot reach admin pages");
    let emails = member.get("/dashboard/emails").await.body;
    assert!(!emails.contains("href=\"/dashboard/api-keys\""), "members are not offered admin pages");
    let csrf = hidden(&emails, "csrf");
    let sneaky =
        member.post("/dashboard/api-keys", &[("csrf", &csrf), ("name", "sneaky"), ("permission", "full_access")]).await;
    assert_eq!(sneaky.status, StatusCode::FORBIDDEN);

    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@acme.dev", PASSWORD).await;
    let page = admin.get("/dashboard/api-keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("test") && page.body.contains("never used"), "the test key, unused: {}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let no_token = admin.post("/dashboard/api-keys", &[("name", "ci"), ("permission", "full_access")]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN, "no key without the form's token");
    let too_long = "x".repeat(51);
    let invalid =
        admin.post("/dashboard/api-keys", &[("csrf", &csrf), ("name", &too_long), ("permission", "full_access")]).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.body.contains("id=\"name-error\"") && invalid.body.contains("at most 50"), "{}", invalid.body);

    let created = admin
        .post("/dashboard/api-keys", &[("csrf", &csrf), ("name", "CI pipeline"), ("permission", "sending_access")])
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let at = created.body.find("re_").expect("the token is shown");
    let token: String = created.body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    assert_eq!(token.len(), 43, "{token}");
    let works = app
        .request_as(
            &token,
            reqwest::Method::POST,
            "/emails",
            Some(json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "s", "text": "t"})),
            &[],
        )
        .await;
    works.expect(200);
    let listed = admin.get("/dashboard/api-keys").await;
    assert!(listed.body.contains("CI pipeline") && listed.body.contains("Sending access"));
    assert!(!listed.body.contains(&token), "the token is never shown again");
    assert!(listed.body.contains("active"), "a used key shows as active");

    let keys = app.get("/api-keys").await.expect(200)["data"].clone();
    let id = keys.as_array().unwrap().iter().find(|k| k["name"] == "CI pipeline").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let edit = admin.get(&format!("/dashboard/api-keys/{id}")).await;
    assert!(edit.body.contains("cannot be changed or shown again"));
    let edited = admin
        .post(&format!("/dashboard/api-keys/{id}"), &[("csrf", &csrf), ("name", "CI"), ("permission", "full_access")])
        .await;
    assert_eq!(edited.location.as_deref(), Some("/dashboard/api-keys"));
    let manage = app.request_as(&token, reqwest::Method::GET, "/domains", None, &[]).await;
    assert_eq!(manage.status, 200, "the new permission applies at once");

    let other = app.other_team_key().await;
    let theirs =
        app.request_as(&other, reqwest::Method::GET, "/api-keys", None, &[]).await.expect(200)["data"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    assert_eq!(admin.get(&format!("/dashboard/api-keys/{theirs}")).await.status, StatusCode::NOT_FOUND);
    let deleted = admin.post(&format!("/dashboard/api-keys/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.location.as_deref(), Some("/dashboard/api-keys"));
    let gone = app.request_as(&token, reqwest::Method::GET, "/domains", None, &[]).await;
    gone.expect_error(403, "invalid_api_key");
}

async fn webhook_endpoints_show_their_deliveries_and_replay_them(app: TestApp) {
    user(&app, "admin@acme.dev", Role::Admin).await;
    user(&app, "member@acme.dev", Role::Member).await;
    let receiver = WebhookReceiver::start().await;
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin@acme.dev", PASSWORD).await;
    let page = admin.get("/dashboard/webhooks").await;
    let csrf = hidden(&page.body, "csrf");
    let bad = admin
        .post("/dashboard/webhooks", &[("csrf", &csrf), ("endpoint", "not a url"), ("events", "email.sent")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("endpoint-error"), "{}", bad.body);
    assert_eq!(
        admin.post("/dashboard/webhooks", &[("endpoint", &receiver.url()), ("events", "email.sent")]).await.status,
        StatusCode::FORBIDDEN
    );
    let created = admin
        .post(
            "/dashboard/webhooks",
            &[("csrf", &csrf), ("endpoint", &receiver.url()), ("events", "email.sent"), ("events", "email.delivered")],
        )
        .await;
    let location = created.location.expect("to the endpoint's page");
    let webhooks = app.get("/webhooks").await.expect(200)["data"].clone();
    assert_eq!(webhooks[0]["events"], json!(["email.sent", "email.delivered"]));
    let secret = app.get(&format!("/webhooks/{}", webhooks[0]["id"].as_str().unwrap())).await.body["signing_secret"]
        .as_str()
        .unwrap()
        .to_string();
    receiver.set_secret(&secret);

    receiver.respond_with(500);
    app.post(
        "/emails",
        json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "s", "text": "t"}),
    )
    .await
    .expect(200);
    app.drain().await;
    app.dispatch_webhooks().await;
    let failing = admin.get(&location).await;
    assert!(failing.body.contains("attempting") && failing.body.contains("500"), "{}", failing.body);
    assert!(failing.body.contains(&secret), "admins see the signing secret");
    let mut member = Visitor::new(&app);
    member.sign_in("member@acme.dev", PASSWORD).await;
    let seen = member.get(&location).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains(&secret), "members do not");

    receiver.respond_with(200);
    let event = hidden(&failing.body, "event");
    let replayed = admin.post(&format!("{location}/replay"), &[("csrf", &csrf), ("event", &event)]).await;
    assert_eq!(replayed.location.as_deref(), Some(location.as_str()));
    app.dispatch_webhooks().await;
    assert!(receiver.received().iter().any(|d| d.verified), "the replay arrived, signed");
    assert!(admin.get(&location).await.body.contains("success"));

    let disabled = admin.post(&format!("{location}/status"), &[("csrf", &csrf), ("status", "disabled")]).await;
    assert_eq!(disabled.location.as_deref(), Some(location.as_str()));
    assert_eq!(app.get("/webhooks").await.body["data"][0]["status"], "disabled");
    let other = app.other_team_key().await;
    let body = json!({"endpoint": "https://example.org/hook", "events": ["email.sent"]});
    let theirs = app.request_as(&other, reqwest::Method::POST, "/webhooks", Some(body), &[]).await;
    let their_id = theirs.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(admin.get(&format!("/dashboard/webhooks/{their_id}")).await.status, StatusCode::NOT_FOUND);
    let deleted = admin.post(&format!("{location}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(deleted.location.as_deref(), Some("/dashboard/webhooks"));
    assert_eq!(app.get("/webhooks").await.body["data"], json!([]));
}

async fn the_audience_is_searched_by_name_status_and_segment_and_each_contact_shows_its_history(app: TestApp) {
    user(&app, "member@acme.dev", Role::Member).await;
    let contact = |body: serde_json::Value| {
        let app = &app;
        async move { app.post("/contacts", body).await.expect(201)["id"].as_str().unwrap().to_string() }
    };
    let ann = contact(json!({"email": "delivered+ann@resend.dev", "first_name": "Ann", "last_name": "Lee"})).await;
    contact(json!({"email": "bob@example.org", "unsubscribed": true})).await;
    let carol = contact(json!({"email": "carol_x@example.org"})).await;
    let vip = app.post("/segments", json!({"name": "VIP"})).await.expect(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/contacts/{carol}/segments/{vip}"), json!({})).await.expect(200);
    app.post("/topics", json!({"name": "News", "default_subscription": "opt_in"})).await.expect(201);
    app.post(
        "/emails",
        json!({"from": "onboarding@resend.dev", "to": "delivered+ann@resend.dev", "subject": "Hello Ann", "text": "t"}),
    )
    .await
    .expect(200);

    let mut visitor = Visitor::new(&app);
    visitor.sign_in("member@acme.dev", PASSWORD).await;
    let all = visitor.get("/dashboard/audience").await.body;
    for address in ["delivered+ann@resend.dev", "bob@example.org", "carol_x@example.org"] {
        assert!(all.contains(address), "{address} listed");
    }
    let by_name = visitor.get("/dashboard/audience?q=LEE").await.body;
    assert!(by_name.contains("delivered+ann@resend.dev") && !by_name.contains("bob@example.org"));
    let literal = visitor.get("/dashboard/audience?q=r_l").await.body;
    assert!(literal.contains("No contacts match"), "`_` is a character, not a wildcard");
    let unsubscribed = visitor.get("/dashboard/audience?status=unsubscribed").await.body;
    assert!(unsubscribed.contains("bob@example.org") && !unsubscribed.contains("delivered+ann@resend.dev"));
    let members = visitor.get(&format!("/dashboard/audience?segment={vip}")).await.body;
    assert!(members.contains("carol_x@example.org") && !members.contains("delivered+ann@resend.dev"));

    let page = visitor.get(&format!("/dashboard/audience/{ann}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in ["Ann", "Lee", "News: subscribed", "Hello Ann"] {
        assert!(page.body.contains(expected), "{expected} missing");
    }
    let carol_page = visitor.get(&format!("/dashboard/audience/{carol}")).await.body;
    assert!(carol_page.contains("VIP"), "her segment is shown");

    let other = app.other_team_key().await;
    let body = json!({"email": "theirs@example.org"});
    let theirs = app.request_as(&other, reqwest::Method::POST, "/contacts", Some(body), &[]).await;
    let their_id = theirs.expect(201)["id"].as_str().unwrap().to_string();
    assert_eq!(visitor.get(&format!("/dashboard/audience/{their_id}")).await.status, StatusCode::NOT_FOUND);
    assert!(!visitor.get("/dashboard/audience?q=theirs").await.body.contains("theirs@example.org"));
}

async fn an_emails_raw_source_is_shown_as_text_and_downloaded_as_eml(app: TestApp) {
    user(&app, "ada@acme.dev", Role::Member).await;
    let body = json!({
        "from": "Acme <onboarding@resend.dev>", "to": "delivered@resend.dev", "subject": "Receipt №42",
        "html": "<p>Paid</p>", "text": "Paid", "headers": {"X-Order": "42"},
        "attachments": [{"filename": "receipt.txt", "content": "UGFpZCBpbiBmdWxs"}]
    });
    let id = app.post("/emails", body).await.expect(200)["id"].as_str().unwrap().to_string();
    let mut visitor = Visitor::new(&app);
    visitor.sign_in("ada@acme.dev", PASSWORD).await;
    let page = visitor.get(&format!("/dashboard/emails/{id}")).await.body;
    assert!(page.contains(&format!("/dashboard/emails/{id}/source")), "the email page links its source");

    let source = visitor.get(&format!("/dashboard/emails/{id}/source")).await;
    assert_eq!(source.status, StatusCode::OK);
    assert_eq!(source.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(source.headers["x-content-type-options"], "nosniff");
    for expected in [
        "X-Order: 42",
        "multipart/mixed",
        "multipart/alternative",
        "filename=\"receipt.txt\"",
        "Paid in full",
        "From: \"Acme\" <onboarding@resend.dev>",
    ] {
        assert!(source.body.contains(expected), "{expected} missing from\n{}", source.body);
    }
    assert!(source.body.contains("Subject: =?utf-8?"), "the non-ASCII subject is encoded as sent: {}", source.body);
    assert!(!source.body.contains("DKIM-Signature"), "signed per delivery, not here");
    let download = visitor.get(&format!("/dashboard/emails/{id}/source?download=1")).await;
    assert_eq!(download.headers["content-type"], "message/rfc822");
    assert_eq!(download.headers["content-disposition"], format!("attachment; filename=\"{id}.eml\"").as_str());
    // Boundaries are drawn afresh for each rendering; everything else is the same.
    assert_eq!(download.body.lines().count(), source.body.lines().count());
    assert!(download.body.contains("X-Order: 42") && download.body.contains("Paid in full"));
    assert!(download.body.starts_with("From: \"Acme\" <onboarding@resend.dev>\r\nSubject: =?utf-8?"));

    let other = app.other_team_key().await;
    let theirs = app
        .request_as(&other, reqwest::Method::POST, "/emails", Some(json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": "Theirs", "text": "t"})), &[])
        .await
        .expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(visitor.get(&format!("/dashboard/emails/{theirs}/source")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(visitor.get("/dashboard/emails/not-an-id/source").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    Visitor::new(&app)
        .get(&format!("/dashboard/emails/{id}/source"))
        .await
        .status
        .is_redirection()
        .then_some(())
        .expect("signed out: to the sign-in page");
}
