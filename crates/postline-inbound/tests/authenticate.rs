//! SPF, DKIM and DMARC of received mail, checked against a real authoritative DNS
//! server on loopback (the test kit's), with messages signed by mail-auth's own
//! signer and keys published as the sending domain would publish them.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use mail_auth::{
    common::{crypto::Ed25519Key, headers::HeaderWriter},
    dkim::DkimSigner,
};
use postline_inbound::authenticate::{
    AuthResults, Authenticator, Dkim, DkimResult, Dmarc, DmarcPolicy, DmarcResult, Spf, SpfResult,
};
use postline_testkit::dns::DnsServer;

const RECEIVER: &str = "mx.inbound.test";
const HELO: &str = "out.sender.test";
const MAIL_FROM: &str = "alice@sender.test";

const MESSAGE: &str = "From: Alice <alice@sender.test>\r\n\
    To: bob@inbound.test\r\n\
    Subject: Quarterly numbers\r\n\
    Date: Tue, 1 Apr 2025 10:00:00 +0000\r\n\
    Message-ID: <1@sender.test>\r\n\
    \r\n\
    Hello Bob, the numbers are attached.\r\n";

fn localhost() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

struct World {
    dns: DnsServer,
    authenticator: Authenticator,
}

impl World {
    async fn new() -> Self {
        let dns = DnsServer::start().await;
        let authenticator = Authenticator::new(vec![dns.address]).expect("resolver");
        World { dns, authenticator }
    }

    /// Generates an Ed25519 key for `domain`, publishes it at `selector`, and signs
    /// `message` with it.
    fn sign(&self, domain: &str, selector: &str, message: &str) -> String {
        let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
        let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
        let record = format!("v=DKIM1; k=ed25519; p={}", STANDARD.encode(key.public_key()));
        self.dns.txt(&format!("{selector}._domainkey.{domain}"), &record);
        let signature = DkimSigner::from_key(key)
            .domain(domain)
            .selector(selector)
            .headers(["From", "To", "Subject", "Date", "Message-ID"])
            .sign(message.as_bytes())
            .unwrap();
        format!("{}{message}", signature.to_header())
    }

    async fn check(&self, message: &str, client: &str, mail_from: &str) -> AuthResults {
        self.authenticator.check(message.as_bytes(), client.parse().unwrap(), HELO, mail_from, RECEIVER).await
    }
}

fn dkim(result: DkimResult, domain: &str, selector: &str) -> Dkim {
    Dkim { result, domain: domain.into(), selector: selector.into() }
}

#[tokio::test]
async fn signature_with_published_key_passes_dkim() {
    let world = World::new().await;
    let signed = world.sign("sender.test", "s1", MESSAGE);

    let results = world.check(&signed, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(results.dkim, vec![dkim(DkimResult::Pass, "sender.test", "s1")]);
}

#[tokio::test]
async fn altered_body_fails_dkim() {
    let world = World::new().await;
    let signed = world.sign("sender.test", "s1", MESSAGE);
    let altered = signed.replace("numbers are attached", "numbers are at evil.test");

    let results = world.check(&altered, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(results.dkim, vec![dkim(DkimResult::Fail, "sender.test", "s1")]);
}

#[tokio::test]
async fn altered_signed_header_fails_dkim() {
    let world = World::new().await;
    let signed = world.sign("sender.test", "s1", MESSAGE);
    let altered = signed.replace("Subject: Quarterly numbers", "Subject: Urgent wire transfer");

    let results = world.check(&altered, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(results.dkim, vec![dkim(DkimResult::Fail, "sender.test", "s1")]);
}

#[tokio::test]
async fn signature_whose_key_is_not_published_is_a_permanent_error() {
    let world = World::new().await;
    let signed = world.sign("sender.test", "s1", MESSAGE);
    world.dns.remove("s1._domainkey.sender.test");

    let results = world.check(&signed, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(results.dkim, vec![dkim(DkimResult::PermError, "sender.test", "s1")]);
}

#[tokio::test]
async fn unsigned_message_has_no_dkim_results() {
    let world = World::new().await;

    let results = world.check(MESSAGE, "127.0.0.1", MAIL_FROM).await;

    assert!(results.dkim.is_empty());
    assert!(results.header.contains("dkim=none"), "{}", results.header);
}

#[tokio::test]
async fn spf_passes_for_a_listed_address_and_fails_for_another() {
    let world = World::new().await;
    world.dns.txt("sender.test", "v=spf1 ip4:127.0.0.1 -all");

    let listed = world.check(MESSAGE, "127.0.0.1", MAIL_FROM).await;
    let unlisted = world.check(MESSAGE, "127.0.0.2", MAIL_FROM).await;

    assert_eq!(listed.spf, Spf { result: SpfResult::Pass, domain: "sender.test".into() });
    assert_eq!(unlisted.spf, Spf { result: SpfResult::Fail, domain: "sender.test".into() });
}

#[tokio::test]
async fn spf_is_none_without_a_record() {
    let world = World::new().await;

    let results = world.check(MESSAGE, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(results.spf, Spf { result: SpfResult::None, domain: "sender.test".into() });
}

#[tokio::test]
async fn null_reverse_path_is_checked_against_the_helo_name() {
    let world = World::new().await;
    world.dns.txt(HELO, "v=spf1 ip4:127.0.0.1 -all");
    world.dns.txt("sender.test", "v=spf1 -all");

    for null in ["", "<>"] {
        let results = world.check(MESSAGE, "127.0.0.1", null).await;

        assert_eq!(results.spf, Spf { result: SpfResult::Pass, domain: HELO.into() });
        assert!(results.header.contains(&format!("spf=pass smtp.helo={HELO}")), "{}", results.header);
    }
}

#[tokio::test]
async fn dmarc_passes_with_aligned_dkim() {
    let world = World::new().await;
    world.dns.txt("_dmarc.sender.test", "v=DMARC1; p=reject");
    let signed = world.sign("sender.test", "s1", MESSAGE);

    // SPF has no record: the aligned DKIM signature alone carries DMARC.
    let results = world.check(&signed, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(
        results.dmarc,
        Dmarc { result: DmarcResult::Pass, policy: DmarcPolicy::Reject, from_domain: "sender.test".into() }
    );
}

#[tokio::test]
async fn dmarc_fails_with_the_reject_policy_when_nothing_aligns() {
    let world = World::new().await;
    // The message claims to be from brand.test; SPF and DKIM pass, but for
    // sender.test, which is not brand.test.
    world.dns.txt("_dmarc.brand.test", "v=DMARC1; p=reject");
    world.dns.txt("sender.test", "v=spf1 ip4:127.0.0.1 -all");
    let spoof = MESSAGE.replace("alice@sender.test", "ceo@brand.test");
    let signed = world.sign("sender.test", "s1", &spoof);

    let results = world.check(&signed, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(results.spf.result, SpfResult::Pass);
    assert_eq!(results.dkim, vec![dkim(DkimResult::Pass, "sender.test", "s1")]);
    assert_eq!(
        results.dmarc,
        Dmarc { result: DmarcResult::Fail, policy: DmarcPolicy::Reject, from_domain: "brand.test".into() }
    );
}

#[tokio::test]
async fn dmarc_without_a_record_is_none_with_no_policy() {
    let world = World::new().await;

    let results = world.check(MESSAGE, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(
        results.dmarc,
        Dmarc { result: DmarcResult::None, policy: DmarcPolicy::Unspecified, from_domain: "sender.test".into() }
    );
}

#[tokio::test]
async fn header_names_the_receiver_and_every_result() {
    let world = World::new().await;
    world.dns.txt("sender.test", "v=spf1 ip4:127.0.0.1 -all");
    world.dns.txt("_dmarc.sender.test", "v=DMARC1; p=quarantine");
    let signed = world.sign("sender.test", "s1", MESSAGE);

    let results = world.check(&signed, "127.0.0.1", MAIL_FROM).await;

    assert_eq!(
        results.header,
        "mx.inbound.test;\r\n\
         \tspf=pass smtp.mailfrom=alice@sender.test;\r\n\
         \tdkim=pass header.d=sender.test header.s=s1;\r\n\
         \tdmarc=pass header.from=sender.test policy.dmarc=quarantine"
    );
}

#[tokio::test]
async fn values_from_the_client_cannot_break_out_of_the_header() {
    let world = World::new().await;
    let hostile = "x\"y@sender.test\r\nX-Injected: yes";

    let results = world.check(MESSAGE, "127.0.0.1", hostile).await;

    let unfolded = results.header.replace("\r\n\t", " ");
    assert!(!unfolded.contains(['\r', '\n']), "{unfolded:?}");
    assert!(unfolded.contains(r#"smtp.mailfrom="x\"y@sender.testX-Injected: yes";"#), "{unfolded:?}");
}

#[tokio::test]
async fn results_round_trip_through_json_with_lowercase_keywords() {
    let world = World::new().await;
    world.dns.txt("sender.test", "v=spf1 ~all");

    let results = world.check(MESSAGE, "127.0.0.1", MAIL_FROM).await;
    let json = serde_json::to_value(&results).unwrap();

    assert_eq!(json["spf"], serde_json::json!({ "result": "softfail", "domain": "sender.test" }));
    assert_eq!(json["dkim"], serde_json::json!([]));
    assert_eq!(
        json["dmarc"],
        serde_json::json!({ "result": "none", "policy": "unspecified", "from_domain": "sender.test" })
    );
    assert_eq!(serde_json::from_value::<AuthResults>(json).unwrap(), results);
}

#[tokio::test]
async fn garbage_never_panics_and_concludes_nothing() {
    let world = World::new().await;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut inputs: Vec<Vec<u8>> = vec![b"".to_vec(), b"\r\n\r\n".to_vec(), b"\x00\xff\xfe".to_vec()];
    inputs.extend((0..64).map(|length| {
        (0..length * 7)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    }));
    for input in &inputs {
        let results = world.authenticator.check(input, localhost(), "", "not an address", "").await;

        assert!(results.dkim.is_empty(), "{input:?}: {results:?}");
        assert!(matches!(results.dmarc.result, DmarcResult::None | DmarcResult::PermError), "{input:?}");
        assert!(matches!(results.spf.result, SpfResult::None | SpfResult::PermError), "{input:?}");
    }
}

#[tokio::test]
async fn every_truncation_of_a_signed_message_is_handled() {
    let world = World::new().await;
    world.dns.txt("_dmarc.sender.test", "v=DMARC1; p=reject");
    let signed = world.sign("sender.test", "s1", MESSAGE);

    // Cutting only the final CRLF leaves the canonical body as it was (RFC 6376
    // §3.4 adds a missing one back), so stop before that.
    for end in 0..signed.len() - 2 {
        let results =
            world.authenticator.check(&signed.as_bytes()[..end], localhost(), HELO, MAIL_FROM, RECEIVER).await;

        // Cut anywhere, the signature no longer covers what arrived.
        assert!(results.dkim.iter().all(|d| d.result != DkimResult::Pass), "cut at {end}: {results:?}");
        assert_ne!(results.dmarc.result, DmarcResult::Pass, "cut at {end}");
    }
}

#[tokio::test]
async fn silent_nameservers_give_temporary_errors_by_the_deadline() {
    // A nameserver that never answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let authenticator =
        Authenticator::new(vec![silent.local_addr().unwrap()]).unwrap().deadline(Duration::from_millis(300));
    let signed = World::new().await.sign("sender.test", "s1", MESSAGE);

    let started = Instant::now();
    let results = authenticator.check(signed.as_bytes(), localhost(), HELO, MAIL_FROM, RECEIVER).await;

    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(results.spf, Spf { result: SpfResult::TempError, domain: "sender.test".into() });
    assert_eq!(results.dkim, vec![dkim(DkimResult::TempError, "sender.test", "s1")]);
    assert_eq!(
        results.dmarc,
        Dmarc { result: DmarcResult::TempError, policy: DmarcPolicy::Unspecified, from_domain: "sender.test".into() }
    );
}
