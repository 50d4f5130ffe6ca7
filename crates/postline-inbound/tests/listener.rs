//! The listener over real loopback sockets: an independent SMTP client (`mail-send`)
//! delivers over STARTTLS and over implicit TLS; the message is stored before the
//! client hears 250; relaying is refused; per-IP connection limits hold.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use postline_inbound::{Envelope, Limits, ListenerConfig, MessageSink, Recipients, Reply, Verdict, serve};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};
use tokio_rustls::TlsAcceptor;

struct Policy;

#[async_trait::async_trait]
impl Recipients for Policy {
    async fn check(&self, address: &str) -> Verdict {
        if address.to_ascii_lowercase().ends_with("@inbound.acme.dev") {
            Verdict::Accept
        } else {
            Verdict::Refuse(Reply::new(550, "5.7.1", "Relaying denied"))
        }
    }
}

/// Keeps what it is given; fails when told to.
#[derive(Default)]
struct Kept {
    messages: Mutex<Vec<Envelope>>,
    peers: Mutex<Vec<SocketAddr>>,
}

#[async_trait::async_trait]
impl MessageSink for Kept {
    async fn store(&self, envelope: Envelope, peer: SocketAddr) -> Result<(), postline_inbound::Reply> {
        self.messages.lock().unwrap().push(envelope);
        self.peers.lock().unwrap().push(peer);
        Ok(())
    }
}

fn acceptor() -> TlsAcceptor {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = rustls::pki_types::CertificateDer::from(certified.cert.der().to_vec());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

async fn start(implicit_tls: bool, max_connections_per_ip: usize) -> (SocketAddr, Arc<Kept>) {
    start_with(implicit_tls, max_connections_per_ip, 1000, false).await
}

async fn start_with(
    implicit_tls: bool,
    max_connections_per_ip: usize,
    per_minute: usize,
    proxy_protocol: bool,
) -> (SocketAddr, Arc<Kept>) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let kept = Arc::new(Kept::default());
    let config = ListenerConfig {
        limits: Limits { hostname: "mx.postline.test".into(), starttls: true, ..Limits::default() },
        tls: Some(acceptor()),
        implicit_tls,
        max_connections_per_ip,
        max_connections_per_ip_per_minute: per_minute,
        idle_timeout: Duration::from_secs(5),
        proxy_protocol,
    };
    tokio::spawn(serve(listener, config, Arc::new(Policy), kept.clone()));
    (address, kept)
}

fn message(to: &'static str) -> mail_send::smtp::message::Message<'static> {
    let body = format!("From: a@example.org\r\nTo: {to}\r\nSubject: over TLS\r\n\r\nHello\r\n.dot\r\n");
    mail_send::smtp::message::Message::new("a@example.org", [to], body.into_bytes())
}

#[tokio::test]
async fn an_independent_client_delivers_over_starttls_and_over_implicit_tls() {
    for implicit in [false, true] {
        let (address, kept) = start(implicit, 10).await;
        let mut client = mail_send::SmtpClientBuilder::new("localhost".to_string(), address.port())
            .unwrap()
            .implicit_tls(implicit)
            .allow_invalid_certs()
            .helo_host("client.example.org")
            .connect()
            .await
            .unwrap_or_else(|e| panic!("implicit={implicit}: {e}"));
        client.send(message("support@inbound.acme.dev")).await.unwrap();
        let refused = client.send(message("someone@gmail.com")).await;
        assert!(refused.is_err(), "no relaying, TLS or not");
        client.quit().await.unwrap();
        let messages = kept.messages.lock().unwrap().clone();
        assert_eq!(messages.len(), 1, "implicit={implicit}");
        assert!(messages[0].tls);
        assert_eq!(messages[0].helo, "client.example.org");
        let text = String::from_utf8_lossy(&messages[0].message).to_string();
        assert!(text.contains("\r\n\r\nHello\r\n.dot\r\n"), "dot-stuffing undone: {text:?}");
    }
}

#[tokio::test]
async fn connections_over_the_per_address_limit_are_turned_away() {
    let (address, _) = start(false, 2).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let stream = TcpStream::connect(address).await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut greeting = String::new();
        reader.read_line(&mut greeting).await.unwrap();
        assert!(greeting.starts_with("220 "), "{greeting}");
        open.push(reader);
    }
    let mut third = BufReader::new(TcpStream::connect(address).await.unwrap());
    let mut reply = String::new();
    third.read_line(&mut reply).await.unwrap();
    assert!(reply.starts_with("421 4.7.0"), "{reply}");
    // Closing one frees its slot.
    let mut first = open.remove(0).into_inner();
    first.write_all(b"QUIT\r\n").await.unwrap();
    let mut bye = String::new();
    BufReader::new(&mut first).read_line(&mut bye).await.unwrap();
    assert!(bye.starts_with("221 "), "{bye}");
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = BufReader::new(TcpStream::connect(address).await.unwrap());
    let mut greeting = String::new();
    again.read_line(&mut greeting).await.unwrap();
    assert!(greeting.starts_with("220 "), "{greeting}");
}

#[tokio::test]
async fn an_address_opening_connections_in_a_loop_is_slowed_down() {
    let (address, _) = start_with(false, 10, 3, false).await;
    for n in 0..4 {
        let mut reader = BufReader::new(TcpStream::connect(address).await.unwrap());
        let mut greeting = String::new();
        reader.read_line(&mut greeting).await.unwrap();
        if n < 3 {
            assert!(greeting.starts_with("220 "), "connection {n}: {greeting}");
        } else {
            assert!(greeting.starts_with("421 4.7.0") && greeting.contains("this minute"), "{greeting}");
        }
    }
}

#[tokio::test]
async fn behind_a_balancer_the_proxy_header_names_the_client_and_is_required() {
    let (address, kept) = start_with(false, 10, 1000, true).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"PROXY TCP4 203.0.113.7 10.0.0.1 51234 25\r\n").await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("220 "), "{line}");
    reader
        .get_mut()
        .write_all(b"EHLO lb\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<x@inbound.acme.dev>\r\nDATA\r\n")
        .await
        .unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        if line.starts_with("354") {
            break;
        }
    }
    reader.get_mut().write_all(b"Subject: via balancer\r\n\r\nhi\r\n.\r\n").await.unwrap();
    line.clear();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("250 "), "{line}");
    assert_eq!(kept.peers.lock().unwrap().clone(), ["203.0.113.7:51234".parse::<SocketAddr>().unwrap()]);

    // Without the header the connection is closed without a greeting.
    let mut bare = TcpStream::connect(address).await.unwrap();
    bare.write_all(b"EHLO sneaky\r\n").await.unwrap();
    let mut rest = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(5), tokio::io::AsyncReadExt::read_to_end(&mut bare, &mut rest)).await;
    assert!(read.is_ok(), "closed, not left hanging");
    assert!(rest.is_empty(), "no greeting: {:?}", String::from_utf8_lossy(&rest));
}
