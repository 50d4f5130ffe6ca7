//! The durability contract under fire (docs/DURABILITY.md): the real binary takes
//! load, is killed with SIGKILL at random moments and restarted, and at the end every
//! email that got a 200 has been delivered over SMTP to the sink — duplicates are
//! counted and reported (at-least-once: only copies in flight at a kill may repeat).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use postline_testkit::{
    dns::DnsServer,
    process::{ServerProcess, verified_domain_over_api},
    smtp_sink::SmtpSink,
};
use rand::Rng;
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_postline");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn every_acknowledged_email_is_delivered_despite_repeated_kill_9() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (dns, sink) = runtime.block_on(async { (DnsServer::start().await, SmtpSink::start().await) });
    dns.mx("sink.example", 10, "mx.sink.example");
    dns.address("mx.sink.example", "127.0.0.1".parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let env =
        [("POSTLINE_DNS_SERVERS", dns.address.to_string()), ("POSTLINE_MX_PORT", sink.address.port().to_string())];
    let start = || ServerProcess::start_with(BINARY, &data, &listen, &env);
    let mut server = start();
    let key = server.printed_key().unwrap();
    let base = server.url.clone();

    // A verified sending domain, through the API and the DNS server.
    runtime.block_on(verified_domain_over_api(&reqwest::Client::new(), &base, &key, &dns, "acme.dev"));

    // Four clients send continuously; each 200 is remembered.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let running = Arc::new(AtomicBool::new(true));
    let senders: Vec<_> = (0..4)
        .map(|n| {
            let (acked, running, key, base) = (acked.clone(), running.clone(), key.clone(), base.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
                let mut i = 0;
                while running.load(Ordering::Relaxed) {
                    let subject = format!("kill-{n}-{i}");
                    let response = client
                        .post(format!("{base}/emails"))
                        .bearer_auth(&key)
                        .json(&json!({"from": "x@acme.dev", "to": format!("user{i}@sink.example"), "subject": subject, "text": "t"}))
                        .send();
                    match response {
                        Ok(r) if r.status().is_success() => {
                            acked.lock().unwrap().push(subject);
                            i += 1;
                        }
                        // Down (being killed or restarting): try again shortly.
                        _ => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
            })
        })
        .collect();

    let kills = 3;
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(rand::thread_rng().gen_range(400..1200)));
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        server = start();
    }
    // On a busy machine (other tests share the 2 cores) the kills can come before
    // much was sent: keep the load going until it is real, then stop.
    let enough = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 300 && Instant::now() < enough {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    running.store(false, Ordering::Relaxed);
    for sender in senders {
        sender.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 100, "the load was real: {} accepted", acked.len());

    let deadline = Instant::now() + Duration::from_secs(90);
    let mut missing;
    loop {
        let counts = sink.count_by_subject();
        missing = acked.iter().filter(|s| !counts.contains_key(*s)).count();
        if missing == 0 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let counts = sink.count_by_subject();
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    println!(
        "kill test: {} accepted, {kills} SIGKILLs, {missing} missing, {duplicates} duplicate deliveries",
        acked.len()
    );
    assert_eq!(missing, 0, "every acknowledged email is delivered");
    server.terminate();
}
