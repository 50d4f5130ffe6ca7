//! An SMTP server on a loopback port, acting as a recipient's MX in tests: it
//! answers with scripted replies (per stage and per recipient), can offer STARTTLS
//! with a self-signed certificate or not, can drop connections, and records every
//! message it accepted and every connection it saw.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};
use tokio_rustls::TlsAcceptor;

/// How the sink behaves; tests change it between attempts.
#[derive(Debug, Clone)]
pub struct Script {
    /// The greeting line (a `421` makes the client go away).
    pub greeting: String,
    pub starttls: bool,
    pub pipelining: bool,
    /// Advertised SIZE limit.
    pub size: Option<usize>,
    /// Reply to MAIL FROM.
    pub mail_reply: String,
    /// Replies to RCPT TO for particular addresses (others get 250).
    pub rcpt_replies: HashMap<String, String>,
    /// Reply after the message data.
    pub data_reply: String,
    /// Close the connection instead of answering the end of the message data.
    pub drop_after_data: bool,
    /// Require `AUTH PLAIN` with these credentials before MAIL (a relay).
    pub auth: Option<(String, String)>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            greeting: "220 mx.sink.test ESMTP ready".into(),
            starttls: true,
            pipelining: true,
            size: Some(50 * 1024 * 1024),
            mail_reply: "250 2.1.0 sender ok".into(),
            rcpt_replies: HashMap::new(),
            data_reply: "250 2.0.0 queued as 1234".into(),
            drop_after_data: false,
            auth: None,
        }
    }
}

/// A message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
    /// Whether the session was encrypted.
    pub tls: bool,
    /// Which connection (1-based) carried it.
    pub connection: usize,
}

impl Received {
    /// The message as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    connections: usize,
    commands: Vec<String>,
}

/// A running sink.
#[derive(Clone)]
pub struct SmtpSink {
    pub address: SocketAddr,
    script: Arc<Mutex<Script>>,
    state: Arc<Mutex<State>>,
}

fn tls_acceptor() -> TlsAcceptor {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into(), "mx.sink.test".into()]).expect("cert");
    let cert = rustls::pki_types::CertificateDer::from(certified.cert.der().to_vec());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    TlsAcceptor::from(Arc::new(config))
}

impl SmtpSink {
    /// Starts a sink with the default script (STARTTLS, PIPELINING, accept everything).
    pub async fn start() -> Self {
        Self::start_with(Script::default()).await
    }

    /// Starts a sink with a script.
    pub async fn start_with(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let address = listener.local_addr().expect("address");
        let sink = SmtpSink { address, script: Arc::new(Mutex::new(script)), state: Arc::default() };
        let acceptor = tls_acceptor();
        let serving = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let sink = serving.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move { sink.session(stream, acceptor).await });
            }
        });
        sink
    }

    /// Changes the script for new commands.
    pub fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.script.lock().unwrap());
    }

    /// Messages accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// How many times each `Subject:` arrived (tests give every email its own).
    pub fn count_by_subject(&self) -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        for message in &self.state.lock().unwrap().received {
            let text = message.text();
            if let Some(line) = text.lines().find(|l| l.starts_with("Subject: ")) {
                *counts.entry(line["Subject: ".len()..].trim().to_string()).or_default() += 1;
            }
        }
        counts
    }

    /// How many messages were accepted so far (without copying them).
    pub fn count(&self) -> usize {
        self.state.lock().unwrap().received.len()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Every command line received, in order.
    pub fn commands(&self) -> Vec<String> {
        self.state.lock().unwrap().commands.clone()
    }

    async fn session(self, stream: TcpStream, acceptor: TlsAcceptor) {
        let connection = {
            let mut state = self.state.lock().unwrap();
            state.connections += 1;
            state.connections
        };
        let greeting = self.script.lock().unwrap().greeting.clone();
        let mut stream = stream;
        if stream.write_all(format!("{greeting}\r\n").as_bytes()).await.is_err() || !greeting.starts_with("220") {
            return;
        }
        if let Some(plain) = self.converse(stream, connection, false).await {
            // STARTTLS: the rest of the session is encrypted.
            let Ok(tls) = acceptor.accept(plain).await else { return };
            let _ = self.converse(tls, connection, true).await;
        }
    }

    async fn reply<S: AsyncWrite + AsyncRead + Unpin>(io: &mut BufReader<S>, line: &str) -> bool {
        io.get_mut().write_all(format!("{line}\r\n").as_bytes()).await.is_ok()
    }

    /// Runs commands until QUIT or EOF; returns the stream when STARTTLS was accepted.
    async fn converse<S: AsyncRead + AsyncWrite + Unpin + Send>(
        &self,
        io: S,
        connection: usize,
        tls: bool,
    ) -> Option<S> {
        let mut io = BufReader::new(io);
        let mut mail_from = None;
        let mut recipients = Vec::new();
        let mut authenticated = false;
        loop {
            let mut line = String::new();
            if io.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            let command = line.trim_end().to_string();
            self.state.lock().unwrap().commands.push(command.clone());
            let upper = command.to_ascii_uppercase();
            let script = self.script.lock().unwrap().clone();
            if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                let mut lines =
                    vec!["250-mx.sink.test".to_string(), "250-ENHANCEDSTATUSCODES".into(), "250-8BITMIME".into()];
                if script.pipelining {
                    lines.push("250-PIPELINING".into());
                }
                if let Some(size) = script.size {
                    lines.push(format!("250-SIZE {size}"));
                }
                if script.starttls && !tls {
                    lines.push("250-STARTTLS".into());
                }
                if script.auth.is_some() {
                    lines.push("250-AUTH PLAIN".into());
                }
                lines.push("250 SMTPUTF8".into());
                Self::reply(&mut io, &lines.join("\r\n")).await;
            } else if upper == "STARTTLS" && script.starttls && !tls {
                Self::reply(&mut io, "220 2.0.0 ready to start TLS").await;
                return Some(io.into_inner());
            } else if upper.starts_with("AUTH PLAIN") {
                use base64::Engine;
                let given = command.split_whitespace().nth(2).unwrap_or_default();
                let decoded = base64::engine::general_purpose::STANDARD.decode(given).unwrap_or_default();
                let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                let ok = match (&script.auth, parts.as_slice()) {
                    (Some((user, pass)), [_, u, p]) => *u == user.as_bytes() && *p == pass.as_bytes(),
                    _ => false,
                };
                authenticated = ok;
                Self::reply(&mut io, if ok { "235 2.7.0 authenticated" } else { "535 5.7.8 bad credentials" }).await;
            } else if upper.starts_with("MAIL FROM:") && script.auth.is_some() && !authenticated {
                Self::reply(&mut io, "530 5.7.0 authentication required").await;
            } else if upper.starts_with("MAIL FROM:") {
                let address = command[10..].split('>').next().unwrap_or_default().trim_start_matches('<').to_string();
                if script.mail_reply.starts_with('2') {
                    mail_from = Some(address);
                    recipients.clear();
                }
                Self::reply(&mut io, &script.mail_reply).await;
            } else if upper.starts_with("RCPT TO:") {
                let address = command[8..].split('>').next().unwrap_or_default().trim_start_matches('<').to_string();
                let reply = script.rcpt_replies.get(&address).cloned().unwrap_or_else(|| "250 2.1.5 ok".into());
                if reply.starts_with('2') {
                    recipients.push(address);
                }
                Self::reply(&mut io, &reply).await;
            } else if upper == "DATA" {
                if mail_from.is_none() || recipients.is_empty() {
                    Self::reply(&mut io, "503 5.5.1 need MAIL and RCPT first").await;
                    continue;
                }
                Self::reply(&mut io, "354 end data with <CR><LF>.<CR><LF>").await;
                let data = read_data(&mut io).await?;
                if script.drop_after_data {
                    return None;
                }
                if script.data_reply.starts_with('2') {
                    self.state.lock().unwrap().received.push(Received {
                        mail_from: mail_from.take().unwrap_or_default(),
                        recipients: std::mem::take(&mut recipients),
                        data,
                        tls,
                        connection,
                    });
                }
                mail_from = None;
                recipients.clear();
                Self::reply(&mut io, &script.data_reply).await;
            } else if upper == "RSET" {
                mail_from = None;
                recipients.clear();
                Self::reply(&mut io, "250 2.0.0 reset").await;
            } else if upper == "NOOP" {
                Self::reply(&mut io, "250 2.0.0 ok").await;
            } else if upper == "QUIT" {
                Self::reply(&mut io, "221 2.0.0 bye").await;
                return None;
            } else {
                Self::reply(&mut io, "502 5.5.2 command not recognised").await;
            }
        }
    }
}

/// Reads message data up to the lone dot, undoing dot-stuffing.
async fn read_data<S: AsyncRead + Unpin>(io: &mut BufReader<S>) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if io.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        if line == b".\r\n" || line == b".\n" {
            return Some(data);
        }
        let line = if line.starts_with(b"..") { &line[1..] } else { &line[..] };
        data.extend_from_slice(line);
    }
}
