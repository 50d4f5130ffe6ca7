//! Several nodes on one PostgreSQL (docs/DEPLOYMENT.md): three `postline serve`
//! processes share a database, each with its own port and data directory, and clients
//! send to them round-robin with no load balancer in front. Every email is delivered
//! exactly once, scheduled emails go out once, a domain re-check that comes due while
//! all three poll runs on one node only, and when a node is killed mid-run the work it
//! had leased is picked up by the others once the lease lapses: nothing is lost.
//!
//! Runs when `POSTLINE_TEST_POSTGRES_URL` is set (CI sets it).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;
use postline_testkit::{
    dns::DnsServer,
    process::{ServerProcess, verified_domain_over_api},
    smtp_sink::SmtpSink,
    test_app::{execute_sql, fresh_postgres_schema, postgres_configured},
};
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_postline");
const NODES: usize = 3;
/// The lease a node holds on deliveries it works on; a killed node's work waits this
/// long before another node takes it. Long enough that a busy CI machine never lets a
/// live node's lease lapse between heartbeats (which would send a copy).
const LEASE_SECS: u64 = 10;

/// One email the test sends: its subject is unique, and its idempotency key lets a
/// client whose node died retry on another node without creating a second email.
#[derive(Clone)]
struct Send {
    subject: String,
    scheduled_at: Option<String>,
}

/// The client side: sends every email to the nodes round-robin, moving on to the next
/// node when one does not answer, and records each acknowledged subject.
struct Clients {
    http: reqwest::Client,
    urls: Vec<String>,
    key: String,
    down: Vec<AtomicBool>,
    acked: Mutex<Vec<String>>,
}

impl Clients {
    /// Sends one email, moving to the next node when one does not answer. A request
    /// cut off by a kill may leave its idempotency key "in flight" on the dead node:
    /// the others answer 409 until that claim's 60 s lease lapses, and then either
    /// replay the email the dead node committed or accept it anew.
    async fn send(&self, index: usize, email: &Send) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut attempt = 0;
        while Instant::now() < deadline {
            let node = (index + attempt) % NODES;
            attempt += 1;
            if self.down[node].load(Ordering::Relaxed) {
                continue;
            }
            let mut body = json!({
                "from": "orders@acme.dev",
                "to": format!("{}@sink.example", email.subject),
                "subject": email.subject,
                "text": "cluster",
            });
            if let Some(at) = &email.scheduled_at {
                body["scheduled_at"] = json!(at);
            }
            let response = self
                .http
                .post(format!("{}/emails", self.urls[node]))
                .bearer_auth(&self.key)
                .header("Idempotency-Key", &email.subject)
                .json(&body)
                .send()
                .await;
            match response {
                Ok(r) if r.status().is_success() => {
                    self.acked.lock().unwrap().push(email.subject.clone());
                    return;
                }
                Ok(r) if r.status().as_u16() == 409 => tokio::time::sleep(Duration::from_millis(500)).await,
                Ok(r) if r.status().is_client_error() => {
                    panic!("{} refused: {} {}", email.subject, r.status(), r.text().await.unwrap_or_default())
                }
                // Down or dying: the next node.
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        panic!("no node accepted {} within 120 s", email.subject);
    }

    /// Sends all `emails` with `concurrency` requests in flight.
    async fn send_all(self: &Arc<Self>, emails: Vec<Send>, concurrency: usize) {
        let emails = Arc::new(emails);
        let next = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (clients, emails, next) = (self.clone(), emails.clone(), next.clone());
                tokio::spawn(async move {
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(email) = emails.get(index) else { break };
                        clients.send(index, email).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a sending task panicked");
        }
    }

    fn acked(&self) -> usize {
        self.acked.lock().unwrap().len()
    }
}

/// Waits (up to `limit`) until every subject has arrived; returns how many never did.
fn wait_for_all(sink: &SmtpSink, subjects: &[String], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let counts = sink.count_by_subject();
        let missing = subjects.iter().filter(|s| !counts.contains_key(*s)).count();
        if missing == 0 || Instant::now() > deadline {
            return missing;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn emails(prefix: &str, count: usize) -> Vec<Send> {
    (0..count).map(|i| Send { subject: format!("{prefix}-{i}"), scheduled_at: None }).collect()
}

#[test]
fn three_nodes_on_one_postgresql_deliver_every_email_once_and_survive_losing_one() {
    if !postgres_configured() {
        eprintln!("POSTLINE_TEST_POSTGRES_URL is not set: skipping the cluster test");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (dns, sink) = runtime.block_on(async { (DnsServer::start().await, SmtpSink::start().await) });
    dns.mx("sink.example", 10, "mx.sink.example");
    dns.address("mx.sink.example", "127.0.0.1".parse().unwrap());
    let database = runtime.block_on(fresh_postgres_schema());
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("POSTLINE_DATABASE_URL", database.clone()),
        ("POSTLINE_DNS_SERVERS", dns.address.to_string()),
        ("POSTLINE_MX_PORT", sink.address.port().to_string()),
        ("POSTLINE_DELIVERY_LEASE_SECS", LEASE_SECS.to_string()),
        ("POSTLINE_RATE_LIMIT", "1000000".to_string()),
    ];
    // The first node creates the team and prints its key; the others join the database.
    let mut nodes: Vec<ServerProcess> = (0..NODES)
        .map(|n| ServerProcess::start_with(BINARY, &dir.path().join(format!("node{n}")), "127.0.0.1:0", &env))
        .collect();
    let key = nodes[0].printed_key().expect("the first node creates the first key");
    assert!(nodes[1..].iter().all(|n| n.printed_key().is_none()), "later nodes find the team already there");
    let clients = Arc::new(Clients {
        http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap(),
        urls: nodes.iter().map(|n| n.url.clone()).collect(),
        key: key.clone(),
        down: (0..NODES).map(|_| AtomicBool::new(false)).collect(),
        acked: Mutex::default(),
    });
    let domain = runtime.block_on(verified_domain_over_api(&clients.http, &clients.urls[0], &key, &dns, "acme.dev"));

    // A re-check comes due while all three nodes poll for due checks (every 30 s).
    let dkim_record = domain["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"].as_str().unwrap().contains("_domainkey"))
        .map(|r| format!("{}.acme.dev", r["name"].as_str().unwrap()))
        .unwrap();
    let checks_before = dns.queries_for(&dkim_record, RecordType::TXT);
    assert_eq!(runtime.block_on(execute_sql(&database, "UPDATE domains SET next_check_at = 0")), 1);
    let check_due_since = Instant::now();

    // 10,000 emails round-robin over the three nodes, 30 of them scheduled a few seconds out.
    let mut first = emails("once", 10_000);
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(5)).to_rfc3339();
    for email in first.iter_mut().take(30) {
        email.scheduled_at = Some(soon.clone());
    }
    let subjects: Vec<String> = first.iter().map(|e| e.subject.clone()).collect();
    let started = Instant::now();
    runtime.block_on(clients.send_all(first, 48));
    let accepted_in = started.elapsed();
    assert_eq!(clients.acked(), subjects.len());
    let missing = wait_for_all(&sink, &subjects, Duration::from_secs(300));
    let delivered_in = started.elapsed();
    let counts = sink.count_by_subject();
    let duplicates: Vec<_> = subjects.iter().filter(|s| counts.get(*s).copied().unwrap_or(0) > 1).collect();
    println!(
        "cluster: {} emails over {NODES} nodes accepted in {accepted_in:.1?}, delivered in {delivered_in:.1?}; \
         {missing} missing, {} delivered more than once",
        subjects.len(),
        duplicates.len()
    );
    assert_eq!(missing, 0, "every email is delivered");
    assert!(duplicates.is_empty(), "no node sends what another sent: {:?}", &duplicates[..duplicates.len().min(5)]);

    // Every node has polled at least once since the check came due; one of them ran it.
    std::thread::sleep(Duration::from_secs(32).saturating_sub(check_due_since.elapsed()));
    assert_eq!(
        dns.queries_for(&dkim_record, RecordType::TXT) - checks_before,
        1,
        "the due domain re-check ran on exactly one node"
    );

    // Losing a node mid-run: the third node is killed with SIGKILL after 500 more
    // acknowledgements; clients move to the others, which take its leased work.
    let second = emails("kill", 1_500);
    let subjects: Vec<String> = second.iter().map(|e| e.subject.clone()).collect();
    let before_kill = clients.acked();
    let sending = {
        let clients = clients.clone();
        runtime.spawn(async move { clients.send_all(second, 24).await })
    };
    while clients.acked() < before_kill + 500 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let victim = &mut nodes[NODES - 1];
    victim.child.kill().unwrap();
    victim.child.wait().unwrap();
    clients.down[NODES - 1].store(true, Ordering::Relaxed);
    runtime.block_on(sending).unwrap();
    let missing = wait_for_all(&sink, &subjects, Duration::from_secs(120));
    let counts = sink.count_by_subject();
    let duplicates: usize = subjects.iter().map(|s| counts.get(s).copied().unwrap_or(0).saturating_sub(1)).sum();
    println!(
        "cluster: node {} killed after {} of {} emails; {missing} missing, {duplicates} duplicate deliveries \
         (copies in flight on the killed node)",
        NODES - 1,
        500,
        subjects.len()
    );
    assert_eq!(missing, 0, "the killed node's accepted and leased work is delivered by the others");
    for node in &mut nodes[..NODES - 1] {
        assert!(node.terminate().success());
    }
}
