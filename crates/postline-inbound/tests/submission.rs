//! Submission sessions driven in memory: AUTH PLAIN and LOGIN (with and without
//! initial responses), offered only over TLS unless allowed, required before MAIL,
//! wrong passwords refused and counted as errors, the identity on the message.

use base64::{Engine, engine::general_purpose::STANDARD};
use postline_inbound::{Event, Limits, Recipients, Session, Verdict};

/// Knows one user: `resend` with password `re_good`; takes any recipient.
struct Keys;

#[async_trait::async_trait]
impl Recipients for Keys {
    async fn check(&self, _address: &str) -> Verdict {
        Verdict::Accept
    }

    async fn authenticate(&self, username: &str, password: &str) -> Option<String> {
        (username == "resend" && password == "re_good").then(|| "key-1".to_string())
    }
}

fn submission(auth_without_tls: bool) -> Limits {
    Limits {
        hostname: "smtp.postline.test".into(),
        submission: true,
        auth_without_tls,
        max_errors: 3,
        ..Limits::default()
    }
}

fn replies(events: &[Event]) -> Vec<String> {
    events.iter().filter_map(|e| if let Event::Reply(r) = e { Some(r.to_wire()) } else { None }).collect()
}

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

async fn said(session: &mut Session, line: &str) -> String {
    replies(&session.ingest(format!("{line}\r\n").as_bytes(), &Keys).await).concat()
}

#[tokio::test]
async fn auth_plain_with_an_initial_response_lets_mail_through_with_the_identity() {
    let mut session = Session::new(submission(false), true);
    let ehlo = said(&mut session, "EHLO app.example.org").await;
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    assert!(said(&mut session, "MAIL FROM:<a@acme.dev>").await.starts_with("530 5.7.0"), "AUTH comes first");
    let ok = said(&mut session, &format!("AUTH PLAIN {}", b64("\0resend\0re_good"))).await;
    assert_eq!(ok, "235 2.7.0 Authentication successful\r\n");
    assert!(!said(&mut session, "EHLO app.example.org").await.contains("AUTH"), "not offered twice");
    let events = session
        .ingest(b"MAIL FROM:<a@acme.dev>\r\nRCPT TO:<x@example.com>\r\nDATA\r\nSubject: s\r\n\r\nhi\r\n.\r\n", &Keys)
        .await;
    let message = events.iter().find_map(|e| if let Event::Message(m) = e { Some(m.clone()) } else { None });
    assert_eq!(message.expect("handed over").auth.as_deref(), Some("key-1"));
}

#[tokio::test]
async fn auth_login_and_plain_without_initial_response_use_challenges() {
    let mut session = Session::new(submission(false), true);
    said(&mut session, "EHLO app").await;
    assert_eq!(said(&mut session, "AUTH LOGIN").await, "334 VXNlcm5hbWU6\r\n");
    assert_eq!(said(&mut session, &b64("resend")).await, "334 UGFzc3dvcmQ6\r\n");
    assert!(said(&mut session, &b64("re_good")).await.starts_with("235"));

    let mut plain = Session::new(submission(false), true);
    said(&mut plain, "EHLO app").await;
    assert_eq!(said(&mut plain, "AUTH PLAIN").await, "334 \r\n");
    assert!(said(&mut plain, &b64("resend\0resend\0re_good")).await.starts_with("235"), "authzid = authcid is fine");

    let mut login_initial = Session::new(submission(false), true);
    said(&mut login_initial, "EHLO app").await;
    assert_eq!(said(&mut login_initial, &format!("AUTH LOGIN {}", b64("resend"))).await, "334 UGFzc3dvcmQ6\r\n");
    assert!(said(&mut login_initial, &b64("re_good")).await.starts_with("235"));
}

#[tokio::test]
async fn wrong_credentials_garbage_and_cancel_are_refused_and_guessing_disconnects() {
    let mut session = Session::new(Limits { max_errors: 4, ..submission(false) }, true);
    said(&mut session, "EHLO app").await;
    assert!(said(&mut session, "AUTH CRAM-MD5").await.starts_with("504"), "unknown mechanisms");
    said(&mut session, "AUTH LOGIN").await;
    assert!(said(&mut session, "*").await.starts_with("501 5.0.0"), "the client may cancel");
    said(&mut session, "AUTH PLAIN").await;
    assert!(said(&mut session, "%%% not base64").await.starts_with("501 5.5.2"));
    let events = session.ingest(format!("AUTH PLAIN {}\r\n", b64("\0resend\0re_bad")).as_bytes(), &Keys).await;
    let text = replies(&events).concat();
    assert!(text.starts_with("535 5.7.8"), "{text}");
    assert!(text.contains("421"), "the fourth error closes the connection: {text}");
    assert!(matches!(events.last(), Some(Event::Close)));

    let mut impostor = Session::new(submission(false), true);
    said(&mut impostor, "EHLO app").await;
    let other = said(&mut impostor, &format!("AUTH PLAIN {}", b64("admin\0resend\0re_good"))).await;
    assert!(other.starts_with("501"), "acting as another identity is refused: {other}");
}

#[tokio::test]
async fn without_tls_auth_is_neither_offered_nor_accepted_unless_allowed() {
    let mut clear = Session::new(submission(false), false);
    assert!(!said(&mut clear, "EHLO app").await.contains("AUTH"));
    let refused = said(&mut clear, &format!("AUTH PLAIN {}", b64("\0resend\0re_good"))).await;
    assert!(refused.starts_with("538 5.7.11"), "{refused}");
    assert!(said(&mut clear, "MAIL FROM:<a@acme.dev>").await.starts_with("530"));

    let mut allowed = Session::new(submission(true), false);
    assert!(said(&mut allowed, "EHLO app").await.contains("AUTH PLAIN LOGIN"));
    assert!(said(&mut allowed, &format!("AUTH PLAIN {}", b64("\0resend\0re_good"))).await.starts_with("235"));

    let mut port25 = Session::new(Limits::default(), true);
    said(&mut port25, "EHLO mx").await;
    assert!(said(&mut port25, "AUTH PLAIN AHJlc2VuZAByZV9nb29k").await.starts_with("502"), "no AUTH on port 25");
}

#[tokio::test]
async fn an_answer_split_across_reads_is_put_together() {
    let mut session = Session::new(submission(false), true);
    said(&mut session, "EHLO app").await;
    said(&mut session, "AUTH PLAIN").await;
    let answer = format!("{}\r\n", b64("\0resend\0re_good"));
    let (first, second) = answer.split_at(5);
    assert!(replies(&session.ingest(first.as_bytes(), &Keys).await).is_empty());
    assert!(replies(&session.ingest(second.as_bytes(), &Keys).await).concat().starts_with("235"));
}
