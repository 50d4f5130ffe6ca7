//! The SMTP session driven in memory: every verb, the order rules, pipelining, byte
//! boundaries anywhere, limits, relay refusal, STARTTLS and storage failures.

use postline_inbound::{Envelope, Event, Limits, Recipients, Reply, Session, Verdict};

/// Takes mail for `inbound.acme.dev` and Postline's bounce addresses only.
struct Policy;

#[async_trait::async_trait]
impl Recipients for Policy {
    async fn check(&self, address: &str) -> Verdict {
        let domain = address.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
        if domain == "inbound.acme.dev" || (domain == "send.acme.dev" && address.starts_with("bounces+")) {
            Verdict::Accept
        } else {
            Verdict::Refuse(Reply::new(550, "5.7.1", "Relaying denied"))
        }
    }
}

fn limits() -> Limits {
    Limits {
        hostname: "mx.postline.test".into(),
        max_message_bytes: 1000,
        max_recipients: 3,
        max_errors: 5,
        starttls: true,
        ..Limits::default()
    }
}

/// The wire text of every reply in `events`, and the other events by name.
fn wire(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Reply(reply) => reply.to_wire(),
            Event::StartTls => "<starttls>".into(),
            Event::Message(_) => "<message>".into(),
            Event::Close => "<close>".into(),
        })
        .collect()
}

fn codes(events: &[Event]) -> Vec<u16> {
    events.iter().filter_map(|e| if let Event::Reply(r) = e { Some(r.code) } else { None }).collect()
}

fn message(events: &[Event]) -> Option<Envelope> {
    events.iter().find_map(|e| if let Event::Message(m) = e { Some(m.clone()) } else { None })
}

const MESSAGE: &str = "From: a@example.org\r\nSubject: hi\r\n\r\nLine one\r\n..leading dot\r\n.\r\n";

#[tokio::test]
async fn a_transaction_hands_over_the_message_and_answers_only_once_it_is_stored() {
    let mut session = Session::new(limits(), false);
    assert_eq!(session.greeting().to_wire(), "220 mx.postline.test ESMTP Postline\r\n");
    let ehlo = session.ingest(b"EHLO client.example.org\r\n", &Policy).await;
    let text = wire(&ehlo).concat();
    for extension in [
        "250-mx.postline.test",
        "PIPELINING",
        "SIZE 1000",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "250 STARTTLS",
    ] {
        assert!(text.contains(extension), "{text}");
    }
    assert_eq!(codes(&session.ingest(b"MAIL FROM:<a@example.org>\r\n", &Policy).await), [250]);
    assert_eq!(codes(&session.ingest(b"RCPT TO:<Support@Inbound.Acme.dev>\r\n", &Policy).await), [250]);
    assert_eq!(codes(&session.ingest(b"DATA\r\n", &Policy).await), [354]);
    let done = session.ingest(MESSAGE.as_bytes(), &Policy).await;
    assert_eq!(wire(&done), ["<message>"], "no reply before the message is stored");
    let envelope = message(&done).unwrap();
    assert_eq!(envelope.helo, "client.example.org");
    assert_eq!(envelope.mail_from, "a@example.org");
    assert_eq!(envelope.recipients, ["Support@Inbound.Acme.dev"]);
    assert_eq!(envelope.message, b"From: a@example.org\r\nSubject: hi\r\n\r\nLine one\r\n.leading dot\r\n");
    assert!(!envelope.tls);
    let stored = session.stored(Ok(()), &Policy).await;
    assert_eq!(wire(&stored), ["250 2.0.0 Message accepted\r\n"]);
    let quit = session.ingest(b"QUIT\r\n", &Policy).await;
    assert_eq!(wire(&quit), ["221 2.0.0 mx.postline.test closing connection\r\n", "<close>"]);
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order_and_wait_for_the_store() {
    let mut session = Session::new(limits(), false);
    let chunk = format!(
        "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bounces+0190@send.acme.dev>\r\nRCPT TO:<x@elsewhere.org>\r\nDATA\r\n{MESSAGE}QUIT\r\n"
    );
    let first = session.ingest(chunk.as_bytes(), &Policy).await;
    assert_eq!(codes(&first), [250, 250, 250, 550, 354]);
    let envelope = message(&first).expect("the message");
    assert_eq!(envelope.mail_from, "", "a bounce has an empty reverse path");
    assert_eq!(envelope.recipients, ["bounces+0190@send.acme.dev"], "only accepted recipients");
    let rest = session.stored(Ok(()), &Policy).await;
    assert_eq!(codes(&rest), [250, 221], "QUIT was held until the message's reply");
    assert!(matches!(rest.last(), Some(Event::Close)));
}

#[tokio::test]
async fn byte_boundaries_anywhere_give_the_same_session() {
    let mut session = Session::new(limits(), false);
    let script = format!("EHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<s@inbound.acme.dev>\r\nDATA\r\n{MESSAGE}");
    let mut events = Vec::new();
    for byte in script.as_bytes() {
        events.extend(session.ingest(std::slice::from_ref(byte), &Policy).await);
    }
    assert_eq!(codes(&events), [250, 250, 250, 354]);
    assert!(message(&events).unwrap().message.ends_with(b".leading dot\r\n"));
}

#[tokio::test]
async fn commands_out_of_order_are_refused_and_rset_starts_over() {
    let mut session = Session::new(Limits { max_errors: 10, ..limits() }, false);
    let out_of_order = session.ingest(b"MAIL FROM:<a@b.org>\r\n", &Policy).await;
    assert_eq!(wire(&out_of_order), ["503 5.5.1 Send EHLO or HELO first\r\n"]);
    let helo = session.ingest(b"HELO c\r\n", &Policy).await;
    assert_eq!(wire(&helo), ["250 mx.postline.test\r\n"], "HELO lists no extensions");
    assert_eq!(codes(&session.ingest(b"RCPT TO:<s@inbound.acme.dev>\r\nDATA\r\n", &Policy).await), [503, 503]);
    assert_eq!(codes(&session.ingest(b"MAIL FROM:<a@b.org>\r\nMAIL FROM:<c@d.org>\r\n", &Policy).await), [250, 503]);
    assert_eq!(codes(&session.ingest(b"DATA\r\n", &Policy).await), [503], "no recipients yet");
    assert_eq!(
        codes(&session.ingest(b"RSET\r\nMAIL FROM:<c@d.org>\r\nNOOP\r\nVRFY x\r\nHELP\r\n", &Policy).await),
        [250, 250, 250, 252, 214]
    );
}

#[tokio::test]
async fn limits_on_size_recipients_lines_and_errors() {
    let mut session = Session::new(limits(), false);
    session.ingest(b"EHLO c\r\n", &Policy).await;
    let declared = session.ingest(b"MAIL FROM:<a@b.org> SIZE=5000\r\n", &Policy).await;
    assert_eq!(wire(&declared), ["552 5.3.4 Message too large; the limit is 1000 bytes\r\n"]);
    session.ingest(b"MAIL FROM:<a@b.org>\r\n", &Policy).await;
    let rcpts: String = (0..4).map(|n| format!("RCPT TO:<u{n}@inbound.acme.dev>\r\n")).collect();
    assert_eq!(codes(&session.ingest(rcpts.as_bytes(), &Policy).await), [250, 250, 250, 452]);
    session.ingest(b"DATA\r\n", &Policy).await;
    let big = format!("Subject: big\r\n\r\n{}\r\n.\r\n", "x".repeat(5000));
    let refused = session.ingest(big.as_bytes(), &Policy).await;
    assert_eq!(codes(&refused), [552]);
    assert!(message(&refused).is_none(), "nothing is handed over");
    // The session goes on: a smaller message still gets through.
    let again = session
        .ingest(format!("MAIL FROM:<a@b.org>\r\nRCPT TO:<u@inbound.acme.dev>\r\nDATA\r\n{MESSAGE}").as_bytes(), &Policy)
        .await;
    assert!(message(&again).is_some());
    session.stored(Ok(()), &Policy).await;

    let long = format!("NOOP {}\r\n", "x".repeat(5000));
    assert_eq!(codes(&session.ingest(long.as_bytes(), &Policy).await)[0], 500);
    let mut closing = Session::new(limits(), false);
    let junk = closing.ingest(b"FOO\r\nBAR\r\nBDAT 10\r\nAUTH PLAIN\r\nBAZ\r\nNOOP\r\n", &Policy).await;
    assert_eq!(codes(&junk), [500, 500, 502, 502, 500, 421], "closed after five errors");
    assert!(matches!(junk.last(), Some(Event::Close)));
    assert!(closing.ingest(b"NOOP\r\n", &Policy).await.is_empty(), "a closed session answers nothing");
}

#[tokio::test]
async fn starttls_upgrades_then_starts_over_and_drops_what_came_in_clear() {
    let mut plain = Session::new(Limits { starttls: false, ..limits() }, false);
    let refused = plain.ingest(b"EHLO c\r\nSTARTTLS\r\n", &Policy).await;
    assert!(!wire(&refused)[0].contains("STARTTLS"), "not offered without a certificate");
    assert_eq!(codes(&refused), [250, 502]);

    let mut session = Session::new(limits(), false);
    // A command injected behind STARTTLS in clear text (CVE-2011-0411) must be dropped.
    let upgrade = session.ingest(b"EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x.org>\r\n", &Policy).await;
    assert_eq!(wire(&upgrade)[1..], ["220 2.0.0 Ready to start TLS\r\n".to_string(), "<starttls>".into()]);
    session.tls_started();
    let after = session.ingest(b"MAIL FROM:<a@b.org>\r\n", &Policy).await;
    assert_eq!(codes(&after), [503], "EHLO again first; the injected MAIL is gone");
    let ehlo = session.ingest(b"EHLO c\r\n", &Policy).await;
    assert!(!wire(&ehlo).concat().contains("STARTTLS"), "not offered twice");
    assert_eq!(codes(&session.ingest(b"STARTTLS\r\n", &Policy).await), [503]);
    let sent = session
        .ingest(format!("MAIL FROM:<a@b.org>\r\nRCPT TO:<u@inbound.acme.dev>\r\nDATA\r\n{MESSAGE}").as_bytes(), &Policy)
        .await;
    assert!(message(&sent).unwrap().tls);
}

#[tokio::test]
async fn a_message_that_cannot_be_stored_gets_a_temporary_failure() {
    let mut session = Session::new(limits(), false);
    let events = session
        .ingest(
            format!("EHLO c\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<u@inbound.acme.dev>\r\nDATA\r\n{MESSAGE}").as_bytes(),
            &Policy,
        )
        .await;
    assert!(message(&events).is_some());
    let failed = session.stored(Err(Reply::store_failed()), &Policy).await;
    assert_eq!(wire(&failed), ["451 4.3.0 Could not store the message; please try again later\r\n"]);
    assert_eq!(codes(&session.ingest(b"DATA\r\n", &Policy).await), [503], "the transaction is over");
}

#[tokio::test]
async fn arbitrary_bytes_never_crash_the_session_nor_sneak_a_recipient_in() {
    // A fixed pseudo-random stream (xorshift) mixing real commands and noise.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pieces: [&[u8]; 10] = [
        b"EHLO x\r\n",
        b"MAIL FROM:<a@b.org>\r\n",
        b"RCPT TO:<u@inbound.acme.dev>\r\n",
        b"RCPT TO:<v@relay.example>\r\n",
        b"DATA\r\n",
        b"body line\r\n",
        b"\r\n.\r\n",
        b"RSET\r\n",
        b"\x00\xff\r\n",
        b"STARTTLS\r\n",
    ];
    for _ in 0..200 {
        let mut session = Session::new(Limits { max_errors: 1000, ..limits() }, false);
        let mut stream = Vec::new();
        for _ in 0..40 {
            let n = next();
            if n % 5 == 0 {
                stream.extend((0..(n % 17)).map(|i| (next() >> (i % 8)) as u8));
            } else {
                stream.extend_from_slice(pieces[(n % pieces.len() as u64) as usize]);
            }
        }
        let mut at = 0;
        while at < stream.len() {
            let len = 1 + (next() % 64) as usize;
            let chunk = &stream[at..(at + len).min(stream.len())];
            at += len;
            for event in session.ingest(chunk, &Policy).await {
                match event {
                    Event::Message(envelope) => {
                        assert!(envelope.recipients.iter().all(|r| r.ends_with("@inbound.acme.dev")), "{envelope:?}");
                        session.stored(Ok(()), &Policy).await;
                    }
                    Event::StartTls => session.tls_started(),
                    _ => {}
                }
            }
        }
    }
}
