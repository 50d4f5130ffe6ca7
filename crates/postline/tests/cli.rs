//! The `postline` binary as a user meets it: first start prints the URL and a key,
//! later starts do not, SIGTERM shuts down cleanly, `api-keys` manages keys, and an
//! accepted email survives `kill -9`.

use std::{process::ExitStatus, sync::mpsc, time::Duration};

use postline_testkit::process::{ServerProcess as Server, command, key_in, rss_mib};
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_postline");

fn postline(data_dir: &std::path::Path) -> std::process::Command {
    command(BINARY, data_dir)
}

fn serve(data_dir: &std::path::Path) -> Server {
    Server::start(BINARY, data_dir)
}

fn terminate(server: &mut Server) -> ExitStatus {
    server.terminate()
}

fn send(client: &reqwest::blocking::Client, server: &Server, key: &str, subject: &str) -> reqwest::Result<String> {
    let response = client
        .post(format!("{}/emails", server.url))
        .bearer_auth(key)
        .json(&json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": subject, "text": "t"}))
        .send()?
        .error_for_status()?;
    Ok(response.json::<serde_json::Value>()?["id"].as_str().unwrap().to_string())
}

#[test]
fn first_start_prints_the_url_and_a_key_and_later_starts_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&data);
    assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);
    let key = key_in(&server.printed).expect("the first start prints a key");
    assert!(data.join("postline.db").exists(), "the data directory is created");

    let client = reqwest::blocking::Client::new();
    let id = send(&client, &server, &key, "hello").unwrap();
    assert!(terminate(&mut server).success(), "SIGTERM is a clean exit");
    let rest: Vec<String> = server.lines.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");

    let mut again = serve(&data);
    assert_eq!(key_in(&again.printed), None, "a later start never prints a key: {:?}", again.printed);
    assert!(again.printed.iter().any(|l| l.contains("postline api-keys create")), "{:?}", again.printed);
    let email: serde_json::Value =
        client.get(format!("{}/emails/{id}", again.url)).bearer_auth(&key).send().unwrap().json().unwrap();
    assert_eq!(email["last_event"], "delivered", "the worker ran before shutdown or after restart");
    terminate(&mut again);
}

#[test]
fn api_keys_can_be_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let no_team = postline(&data).args(["api-keys", "list"]).output().unwrap();
    assert!(!no_team.status.success());
    assert!(String::from_utf8_lossy(&no_team.stderr).contains("postline serve"));

    let mut server = serve(&data);
    let created = postline(&data).args(["api-keys", "create", "--name", "deploy bot"]).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let stdout = String::from_utf8_lossy(&created.stdout).to_string();
    let token = key_in(&stdout.lines().map(str::to_string).collect::<Vec<_>>()).expect("token printed");
    let id = stdout.split_whitespace().nth(3).unwrap().to_string();

    let client = reqwest::blocking::Client::new();
    send(&client, &server, &token, "from the CLI key").unwrap();

    let listed = postline(&data).args(["api-keys", "list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(listing.contains("deploy bot") && listing.contains(&id), "{listing}");
    assert!(!listing.contains(&token), "tokens are never listed");

    let deleted = postline(&data).args(["api-keys", "delete", &id]).output().unwrap();
    assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
    // Another process deleted it: the server's one-second key cache lets it lapse.
    let started = std::time::Instant::now();
    let refused = loop {
        let status = client.get(format!("{}/emails", server.url)).bearer_auth(&token).send().unwrap().status();
        if status != 200 || started.elapsed() > std::time::Duration::from_secs(3) {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(refused, 403);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "refused within the cache's second");
    terminate(&mut server);

    let bad = postline(&data).args(["api-keys", "create", "--name", &"x".repeat(51)]).output().unwrap();
    assert!(!bad.status.success());
}

#[test]
fn help_explains_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let help = postline(&dir.path().join("d")).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["serve", "migrate", "api-keys", "--listen", "--database-url", "--data-dir"] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
    let migrate = postline(&dir.path().join("d")).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let blocked = postline(&dir.path().join("d")).args(["serve", "--listen", "127.0.0.1:6666"]).output().unwrap();
    assert!(!blocked.status.success());
    assert!(String::from_utf8_lossy(&blocked.stderr).contains("6666"));
}

#[test]
fn every_acknowledged_email_survives_kill_9_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&data);
    let key = key_in(&server.printed).unwrap();
    let url = server.url.clone();

    // Eight clients send as fast as they can; the process is killed mid-stream.
    let (acked_tx, acked_rx) = mpsc::channel::<String>();
    let senders: Vec<_> = (0..8)
        .map(|n| {
            let acked = acked_tx.clone();
            let key = key.clone();
            let url = url.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                for i in 0.. {
                    let response = client
                        .post(format!("{url}/emails"))
                        .bearer_auth(&key)
                        .json(&json!({"from": "onboarding@resend.dev", "to": "delivered@resend.dev", "subject": format!("{n}-{i}"), "text": "t"}))
                        .send();
                    match response.and_then(|r| r.error_for_status()) {
                        Ok(r) => {
                            let id = r.json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().to_string();
                            let _ = acked.send(id);
                        }
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    drop(acked_tx);
    std::thread::sleep(Duration::from_millis(1500));
    server.child.kill().expect("kill -9");
    server.child.wait().unwrap();
    for sender in senders {
        sender.join().unwrap();
    }
    let acked: Vec<String> = acked_rx.try_iter().collect();
    assert!(acked.len() > 50, "the load was real: only {} accepted", acked.len());

    // Reading thousands of emails back one by one outruns the default rate limit.
    let unlimited = [("POSTLINE_RATE_LIMIT", "1000000".to_string())];
    let mut again = Server::start_with(BINARY, &data, "127.0.0.1:0", &unlimited);
    let client = reqwest::blocking::Client::new();
    for id in &acked {
        let response = client.get(format!("{}/emails/{id}", again.url)).bearer_auth(&key).send().unwrap();
        assert_eq!(response.status(), 200, "acknowledged email {id} was lost by kill -9");
    }
    terminate(&mut again);
}

#[test]
fn domains_are_managed_from_the_command_line_with_a_pasteable_table() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&data);
    terminate(&mut server);
    let added = postline(&data).args(["domains", "add", "updates.acme.dev", "--region", "eu-west-1"]).output().unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let table = String::from_utf8_lossy(&added.stdout).to_string();
    assert!(table.contains("MX      send") && table.contains("feedback-smtp.eu-west-1."), "{table}");
    assert!(table.contains("resend._domainkey") && table.contains("v=DKIM1; k=rsa; p="), "{table}");
    let records = postline(&data).args(["domains", "records", "updates.acme.dev"]).output().unwrap();
    assert!(String::from_utf8_lossy(&records.stdout).contains("not_started"));
    let listed = postline(&data).args(["domains", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("updates.acme.dev"));
    let unknown = postline(&data).args(["domains", "records", "nope.dev"]).output().unwrap();
    assert!(!unknown.status.success());
    let bad = postline(&data).args(["domains", "add", "gmail.com"]).output().unwrap();
    assert!(!bad.status.success());
}

#[test]
fn contacts_are_imported_from_a_csv_file_with_progress_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&data);
    let key = server.printed_key().unwrap();
    let client = reqwest::blocking::Client::new();
    let segment: serde_json::Value = client
        .post(format!("{}/segments", server.url))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "From the CLI"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    terminate(&mut server);
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "E-mail,Given\nann@example.com,Ann\nnot-an-address,Bob\ncarol@example.com,Carol\n").unwrap();
    let imported = postline(&data)
        .args([
            "contacts",
            "import",
            csv.to_str().unwrap(),
            "--column-map",
            r#"{"email":"E-mail","first_name":"Given"}"#,
        ])
        .args(["--segment", segment["id"].as_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&imported.stdout), String::from_utf8_lossy(&imported.stderr));
    assert!(imported.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("3 rows: 2 created, 0 updated, 0 skipped, 1 failed"), "progress: {stderr}");
    assert!(
        stdout.contains("completed") && stdout.contains("row 2: `not-an-address` is not a valid email address"),
        "{stdout}"
    );

    let server = serve(&data);
    let members: serde_json::Value = client
        .get(format!("{}/segments/{}/contacts", server.url, segment["id"].as_str().unwrap()))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(members["data"].as_array().unwrap().len(), 2, "{members}");
    let missing = postline(&data).args(["contacts", "import", "/no/such.csv"]).output().unwrap();
    assert!(!missing.status.success());
    let wrong_map = postline(&data)
        .args(["contacts", "import", csv.to_str().unwrap(), "--column-map", r#"{"email":"Email"}"#])
        .output()
        .unwrap();
    assert!(!wrong_map.status.success());
    assert!(String::from_utf8_lossy(&wrong_map.stderr).contains("no column `Email`"));
}

#[test]
fn undelivered_webhooks_survive_kill_9_and_go_out_after_restart() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime.block_on(postline_testkit::webhook_receiver::WebhookReceiver::start());
    receiver.respond_with(500);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A short lease: a delivery in flight at the kill is retried within seconds.
    let env = [("POSTLINE_DELIVERY_LEASE_SECS", "3".to_string())];
    let serve = |data: &std::path::Path| Server::start_with(BINARY, data, "127.0.0.1:0", &env);
    let mut server = serve(&data);
    let key = key_in(&server.printed).unwrap();
    let client = reqwest::blocking::Client::new();
    let created: serde_json::Value = client
        .post(format!("{}/webhooks", server.url))
        .bearer_auth(&key)
        .json(&json!({"endpoint": receiver.url(), "events": ["email.delivered"]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    receiver.set_secret(created["signing_secret"].as_str().unwrap());
    let webhook = created["id"].as_str().unwrap().to_string();
    send(&client, &server, &key, "webhook durability").unwrap();
    // Wait until the failed first attempt is recorded (an attempt cut by the kill would
    // simply be repeated, which the durability test covers), then kill.
    let waited = (0..100).find(|_| {
        std::thread::sleep(Duration::from_millis(100));
        let events: serde_json::Value = client
            .get(format!("{}/webhooks/{webhook}/events", server.url))
            .bearer_auth(&key)
            .send()
            .unwrap()
            .json()
            .unwrap();
        events["data"][0]["status"] == "attempting"
    });
    assert!(waited.is_some(), "the first attempt happens and fails");
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    receiver.respond_with(200);
    let again = serve(&data);
    let delivered = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        receiver.received().len() >= 2
    });
    assert!(delivered, "the retry goes out after the restart");
    assert!(receiver.received().iter().all(|d| d.verified));

    let listed = postline(&data).args(["webhooks", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&webhook));
    let events = postline(&data).args(["webhooks", "attempts", &webhook]).output().unwrap();
    let events = String::from_utf8_lossy(&events.stdout).to_string();
    assert!(events.contains("email.delivered") && events.contains("success"), "{events}");
    let event_id = events.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let attempts = postline(&data).args(["webhooks", "attempts", &webhook, &event_id]).output().unwrap();
    let attempts = String::from_utf8_lossy(&attempts.stdout).to_string();
    assert!(attempts.contains("500") && attempts.contains("200"), "{attempts}");
    let replay = postline(&data).args(["webhooks", "replay", &webhook, "--event", &event_id]).output().unwrap();
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stderr));
    let replayed = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        receiver.received().len() >= 3
    });
    assert!(replayed, "the running server sends the replayed event");
    let mut again = again;
    terminate(&mut again);
}

/// An API call on a running server, returning the JSON body.
fn call(
    method: reqwest::Method,
    server: &Server,
    key: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let client = reqwest::blocking::Client::new();
    let mut request = client.request(method, format!("{}{path}", server.url)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().unwrap().json().unwrap()
}

#[test]
fn contacts_are_handled_in_bulk_from_the_command_line() {
    use reqwest::Method;
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&data);
    let key = server.printed_key().unwrap();
    let segment = call(Method::POST, &server, &key, "/segments", Some(json!({"name": "VIP"})))["id"].clone();
    let topic = call(
        Method::POST,
        &server,
        &key,
        "/topics",
        Some(json!({"name": "News", "default_subscription": "opt_in"})),
    )["id"]
        .clone();
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        call(Method::POST, &server, &key, "/contacts", Some(json!({ "email": email })));
    }
    terminate(&mut server);

    let segment_id = segment.as_str().unwrap();
    let added = postline(&data)
        .args(["contacts", "add-to-segment", segment_id, "a@example.com", "B@example.com", "nobody@example.com"])
        .output()
        .unwrap();
    assert!(!added.status.success(), "one contact does not exist");
    assert!(String::from_utf8_lossy(&added.stdout).contains("2 of 3 contacts added"));
    assert!(String::from_utf8_lossy(&added.stderr).contains("nobody@example.com"));
    let mut subscribe = postline(&data)
        .args(["contacts", "subscribe", topic.as_str().unwrap(), "-", "--opt-out"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(subscribe.stdin.as_mut().unwrap(), b"a@example.com\n\nc@example.com\n").unwrap();
    let subscribed = subscribe.wait_with_output().unwrap();
    assert!(subscribed.status.success());
    assert!(String::from_utf8_lossy(&subscribed.stdout).contains("2 of 2 contacts opt_out"));
    let deleted = postline(&data).args(["contacts", "delete", "c@example.com"]).output().unwrap();
    assert!(deleted.status.success());

    let server = serve(&data);
    let members = call(Method::GET, &server, &key, &format!("/segments/{segment_id}/contacts"), None);
    let mut emails: Vec<&str> =
        members["data"].as_array().unwrap().iter().map(|c| c["email"].as_str().unwrap()).collect();
    emails.sort();
    assert_eq!(emails, ["a@example.com", "b@example.com"]);
    let topics = call(Method::GET, &server, &key, "/contacts/a@example.com/topics", None);
    assert_eq!(topics["data"][0]["subscription"], "opt_out");
    let gone = call(Method::GET, &server, &key, "/contacts/c@example.com", None);
    assert_eq!(gone["name"], "not_found");
}

#[test]
fn a_hundred_thousand_row_import_stays_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&data);
    let key = server.printed_key().unwrap();
    let rows = 100_000;
    let mut csv = String::from("email,first_name,last_name\n");
    for i in 0..rows {
        csv.push_str(&format!("person{i}@customers.example,First{i},Last{}\n", i % 977));
    }
    let before = rss_mib(server.child.id(), "VmHWM:");
    let form = reqwest::blocking::multipart::Form::new()
        .part("file", reqwest::blocking::multipart::Part::bytes(csv.clone().into_bytes()).file_name("people.csv"));
    let client = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap();
    let created: serde_json::Value = client
        .post(format!("{}/contacts/imports", server.url))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = created["id"].as_str().expect("an import id").to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    let import = loop {
        let import: serde_json::Value = client
            .get(format!("{}/contacts/imports/{id}", server.url))
            .bearer_auth(&key)
            .send()
            .unwrap()
            .json()
            .unwrap();
        if import["status"] == "completed" || std::time::Instant::now() > deadline {
            break import;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    assert_eq!(import["counts"]["created"], serde_json::json!(rows), "{import}");
    let growth = rss_mib(server.child.id(), "VmHWM:") - before;
    println!("import of {rows} rows ({:.1} MiB): peak RSS grew by {growth:.1} MiB", csv.len() as f64 / 1048576.0);
    // The file itself is held while uploaded (~5 MiB, and its stored pieces); rows go
    // through in batches of 500. Holding every row at once would take far more.
    assert!(growth < 48.0, "peak RSS grew by {growth:.1} MiB importing {rows} rows");
}

#[test]
fn a_broadcast_killed_mid_fan_out_resumes_and_every_contact_gets_exactly_one_email() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A small window keeps the fan-out going for seconds (it waits for the MTA after
    // each batch); a short lease lets the restarted server take it over quickly.
    let env = [("POSTLINE_BROADCAST_WINDOW", "100".to_string()), ("POSTLINE_DELIVERY_LEASE_SECS", "3".to_string())];
    let serve = |data: &std::path::Path| Server::start_with(BINARY, data, "127.0.0.1:0", &env);
    let mut server = serve(&data);
    let key = key_in(&server.printed).unwrap();
    let segment = call(Method::POST, &server, &key, "/segments", Some(json!({"name": "Everyone"})))["id"]
        .as_str()
        .unwrap()
        .to_string();
    const CONTACTS: usize = 3000;
    let csv: String = std::iter::once("email".to_string())
        .chain((0..CONTACTS).map(|n| format!("delivered+{n}@resend.dev")))
        .collect::<Vec<_>>()
        .join("\n");
    let form = reqwest::blocking::multipart::Form::new()
        .part("file", reqwest::blocking::multipart::Part::bytes(csv.into_bytes()).file_name("people.csv"))
        .text("segments", json!([segment]).to_string());
    let client = reqwest::blocking::Client::new();
    let import: serde_json::Value = client
        .post(format!("{}/contacts/imports", server.url))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let import_path = format!("/contacts/imports/{}", import["id"].as_str().unwrap());
    let imported = (0..300).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        call(Method::GET, &server, &key, &import_path, None)["status"] == "completed"
    });
    assert!(imported, "the contacts are imported");
    // Two members who must get nothing.
    for email in ["delivered+quit1@resend.dev", "delivered+quit2@resend.dev"] {
        let body = json!({"email": email, "unsubscribed": true, "segments": [segment]});
        call(Method::POST, &server, &key, "/contacts", Some(body));
    }

    let broadcast = call(
        Method::POST,
        &server,
        &key,
        "/broadcasts",
        Some(json!({"segment_id": segment, "from": "news@anything.dev", "subject": "Hello {{{EMAIL}}}",
                    "text": "Hi", "send": true})),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/broadcasts/{broadcast}");
    std::thread::sleep(Duration::from_millis(1500));
    let newest = call(Method::GET, &server, &key, "/emails?limit=1", None);
    assert_eq!(newest["data"][0]["broadcast_id"], json!(broadcast), "some batches are written");
    assert_eq!(call(Method::GET, &server, &key, &path, None)["status"], "queued", "and some are not: mid fan-out");
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let mut again = serve(&data);
    let sent = (0..600).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        call(Method::GET, &again, &key, &path, None)["status"] == "sent"
    });
    assert!(sent, "the restarted server finishes the fan-out");

    // Every email of the broadcast, by recipient: exactly one per eligible contact.
    let mut per_recipient: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page_path = match &after {
            None => "/emails?limit=100".to_string(),
            Some(id) => format!("/emails?limit=100&after={id}"),
        };
        let page = call(Method::GET, &again, &key, &page_path, None);
        let data = page["data"].as_array().unwrap();
        for email in data.iter().filter(|e| e["broadcast_id"] == json!(broadcast)) {
            *per_recipient.entry(email["to"][0].as_str().unwrap().to_string()).or_default() += 1;
        }
        match data.last() {
            Some(last) if page["has_more"] == true => after = Some(last["id"].as_str().unwrap().to_string()),
            _ => break,
        }
    }
    assert_eq!(per_recipient.len(), CONTACTS, "every eligible contact, and no unsubscribed one");
    assert!(per_recipient.values().all(|n| *n == 1), "nobody gets two emails");
    assert!(!per_recipient.contains_key("delivered+quit1@resend.dev"));
    terminate(&mut again);
}

/// The address printed on the banner line starting with `prefix` (waits for it).
fn printed_address(server: &Server, prefix: &str) -> std::net::SocketAddr {
    loop {
        let line = server.lines.recv_timeout(Duration::from_secs(30)).expect("serve prints its SMTP listeners");
        if line.starts_with(prefix) {
            return line.rsplit(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("an address in {line}"));
        }
    }
}

#[test]
fn serve_runs_the_smtp_listeners_with_a_self_signed_certificate_and_submission_sends() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("POSTLINE_SMTP_LISTEN", "127.0.0.1:0".to_string()),
        ("POSTLINE_SUBMISSION_LISTEN", "127.0.0.1:0".to_string()),
        ("POSTLINE_SUBMISSIONS_LISTEN", "127.0.0.1:0".to_string()),
    ];
    let mut server = Server::start_with(BINARY, &dir.path().join("data"), "127.0.0.1:0", &env);
    let key = key_in(&server.printed).expect("first start prints a key");
    let inbound = printed_address(&server, "Receiving mail over SMTP on");
    let starttls = printed_address(&server, "SMTP submission (STARTTLS");
    let implicit = printed_address(&server, "SMTP submission (implicit TLS");

    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // Port 25 style: no domain receives yet, so everything is refused (no relay).
        let mut mx = mail_send::SmtpClientBuilder::new("localhost".to_string(), inbound.port())
            .unwrap()
            .implicit_tls(false)
            .allow_invalid_certs()
            .connect()
            .await
            .expect("STARTTLS with the generated certificate");
        let relay = mail_send::smtp::message::Message::new(
            "a@example.org",
            ["victim@gmail.com"],
            b"Subject: relay\r\n\r\nx\r\n".to_vec(),
        );
        assert!(mx.send(relay).await.is_err(), "no open relay");
        for (address, implicit_tls) in [(starttls, false), (implicit, true)] {
            let mut client = mail_send::SmtpClientBuilder::new("localhost".to_string(), address.port())
                .unwrap()
                .implicit_tls(implicit_tls)
                .allow_invalid_certs()
                .credentials(("resend".to_string(), key.clone()))
                .connect()
                .await
                .expect("AUTH with the printed key");
            let body = format!(
                "From: onboarding@resend.dev\r\nTo: delivered@resend.dev\r\nSubject: via SMTP {implicit_tls}\r\n\r\nhi\r\n"
            );
            let message =
                mail_send::smtp::message::Message::new("onboarding@resend.dev", ["delivered@resend.dev"], body.into_bytes());
            client.send(message).await.expect("submitted");
        }
    });
    let client = reqwest::blocking::Client::new();
    let emails: serde_json::Value =
        client.get(format!("{}/emails", server.url)).bearer_auth(&key).send().unwrap().json().unwrap();
    let mut subjects: Vec<String> =
        emails["data"].as_array().unwrap().iter().map(|e| e["subject"].as_str().unwrap().to_string()).collect();
    subjects.sort();
    assert_eq!(subjects, ["via SMTP false", "via SMTP true"]);
    assert!(terminate(&mut server).success(), "SIGTERM stops the SMTP listeners too");
}
