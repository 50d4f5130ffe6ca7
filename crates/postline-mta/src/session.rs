//! One SMTP client connection and the transactions on it, built on `mail-send`'s
//! client primitives and `smtp-proto`'s reply parser: greeting, EHLO, STARTTLS by
//! policy, AUTH for relays, then per transaction MAIL FROM, every RCPT TO (pipelined
//! when the server offers PIPELINING), DATA — with each recipient's own reply.

use std::{net::SocketAddr, time::Duration};

use mail_send::{Credentials, SmtpClient};
use postline_core::delivery::policy::AttemptResult;
use smtp_proto::{EXT_8BIT_MIME, EXT_PIPELINING, EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS, EhloResponse, Response};
use tokio::net::TcpStream;
use tokio_rustls::{TlsConnector, client::TlsStream};

use crate::config::TlsPolicy;

/// Why a connection could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// Worth trying another host or later: refused, timeout, 4xx greeting, TLS failure,
    /// relay credentials refused.
    #[error("{0}")]
    Temporary(String),
    /// Will not work with this destination: TLS required but not offered, 5xx greeting.
    #[error("{0}")]
    Permanent(String),
}

enum Client {
    Plain(SmtpClient<TcpStream>),
    Tls(Box<SmtpClient<TlsStream<TcpStream>>>),
}

macro_rules! with_client {
    ($client:expr, $c:ident => $body:expr) => {
        match $client {
            Client::Plain($c) => $body,
            Client::Tls($c) => $body,
        }
    };
}

/// How to open a connection.
#[derive(Clone)]
pub struct Dial<'a> {
    pub address: SocketAddr,
    /// The host name for TLS (SNI) and logs.
    pub host: &'a str,
    /// Our name in EHLO.
    pub helo: &'a str,
    pub policy: TlsPolicy,
    pub implicit_tls: bool,
    pub credentials: Option<(&'a str, &'a str)>,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub tls: &'a TlsConnector,
}

/// An open, greeted connection, ready for transactions.
pub struct Connection {
    client: Client,
    capabilities: EhloResponse<String>,
    /// Where it goes (the pool's key).
    pub address: SocketAddr,
    /// Whether the session is encrypted.
    pub encrypted: bool,
}

fn describe(error: &mail_send::Error) -> String {
    match error {
        mail_send::Error::UnexpectedReply(reply) => reply_text(reply),
        mail_send::Error::Timeout => "timed out".into(),
        mail_send::Error::Io(e) => format!("connection error: {e}"),
        mail_send::Error::Tls(e) => format!("TLS error: {e}"),
        other => format!("{other:?}"),
    }
}

/// `550 5.1.1 user unknown` from a parsed reply.
pub fn reply_text(reply: &Response<String>) -> String {
    let message = reply.message.trim().replace(['\r', '\n'], " ");
    if reply.esc[0] != 0 {
        format!("{} {}.{}.{} {}", reply.code, reply.esc[0], reply.esc[1], reply.esc[2], message)
    } else {
        format!("{} {}", reply.code, message)
    }
}

fn reply_tail(reply: &Response<String>) -> String {
    let full = reply_text(reply);
    full.split_once(' ').map(|(_, rest)| rest.to_string()).unwrap_or_default()
}

fn fail_reply(host: &str, stage: &str, reply: &Response<String>) -> ConnectError {
    let text = format!("{host} answered {stage} with {}", reply_text(reply));
    if reply.code >= 500 { ConnectError::Permanent(text) } else { ConnectError::Temporary(text) }
}

impl Connection {
    /// Connects, reads the greeting, says EHLO, upgrades to TLS as the policy says,
    /// and authenticates when credentials are given.
    pub async fn open(dial: &Dial<'_>) -> Result<Self, ConnectError> {
        let temporary = |e: mail_send::Error| ConnectError::Temporary(format!("{}: {}", dial.host, describe(&e)));
        let mut plain = SmtpClient::connect(dial.address, dial.connect_timeout).await.map_err(temporary)?;
        // SMTP is request/response: Nagle's algorithm with delayed ACKs would stall every
        // small command (tens of ms per message even on loopback).
        let _ = plain.stream.set_nodelay(true);
        plain.timeout = dial.command_timeout;
        let mut client = if dial.implicit_tls {
            Client::Tls(Box::new(plain.into_tls(dial.tls, dial.host).await.map_err(temporary)?))
        } else {
            Client::Plain(plain)
        };
        let greeting = with_client!(&mut client, c => tokio::time::timeout(dial.command_timeout, c.read()).await)
            .map_err(|_| ConnectError::Temporary(format!("{}: no greeting within the time limit", dial.host)))?
            .map_err(temporary)?;
        if greeting.code != 220 {
            return Err(fail_reply(dial.host, "the connection", &greeting));
        }
        let mut capabilities = with_client!(&mut client, c => c.ehlo(dial.helo).await).map_err(temporary)?;
        if let Client::Plain(_) = client {
            if capabilities.has_capability(EXT_START_TLS) {
                let Client::Plain(plain) = client else { unreachable!("checked above") };
                let upgraded = plain.start_tls(dial.tls, dial.host).await.map_err(temporary)?;
                client = Client::Tls(Box::new(upgraded));
                capabilities = with_client!(&mut client, c => c.ehlo(dial.helo).await).map_err(temporary)?;
            } else if dial.policy == TlsPolicy::Enforced {
                return Err(ConnectError::Permanent(format!(
                    "TLS is enforced for this delivery but {} does not offer STARTTLS",
                    dial.host
                )));
            }
        }
        if let Some((username, password)) = dial.credentials {
            let credentials = Credentials::new(username.to_string(), password.to_string());
            with_client!(&mut client, c => c.authenticate(&credentials, &capabilities).await.map(|_| ())).map_err(
                // An operator's misconfiguration: defer, so fixing it delivers the backlog.
                |e| ConnectError::Temporary(format!("{} refused the relay credentials: {}", dial.host, describe(&e))),
            )?;
        }
        let encrypted = matches!(client, Client::Tls(_));
        Ok(Connection { client, capabilities, address: dial.address, encrypted })
    }

    /// Resets the session before reusing a pooled connection (also proves it is alive).
    pub async fn reset(&mut self) -> bool {
        matches!(with_client!(&mut self.client, c => c.cmd(b"RSET\r\n").await), Ok(reply) if reply.code == 250)
    }

    /// Ends the session politely.
    pub async fn quit(mut self) {
        let _ = with_client!(&mut self.client, c => c.cmd(b"QUIT\r\n").await);
    }

    /// Sends one message to `recipients` (all at one domain). Returns each
    /// recipient's result in order, and whether the connection is still usable.
    pub async fn send(
        &mut self,
        mail_from: &str,
        recipients: &[String],
        message: &[u8],
        data_timeout: Duration,
    ) -> (Vec<AttemptResult>, bool) {
        let all = |result: AttemptResult| vec![result; recipients.len()];
        if self.capabilities.has_capability(EXT_SIZE)
            && self.capabilities.size > 0
            && message.len() > self.capabilities.size
        {
            let text = format!(
                "5.3.4 the message ({} bytes) exceeds the server's SIZE limit ({} bytes)",
                message.len(),
                self.capabilities.size
            );
            return (all(AttemptResult::Rejected { code: 552, text }), true);
        }
        let needs_utf8 = !mail_from.is_ascii() || recipients.iter().any(|r| !r.is_ascii());
        if needs_utf8 && !self.capabilities.has_capability(EXT_SMTP_UTF8) {
            let text = "5.6.7 the address is internationalised but the server does not support SMTPUTF8".to_string();
            return (all(AttemptResult::Rejected { code: 553, text }), true);
        }
        let mut params = String::new();
        if self.capabilities.has_capability(EXT_SIZE) {
            params.push_str(&format!(" SIZE={}", message.len()));
        }
        if !message.is_ascii() && self.capabilities.has_capability(EXT_8BIT_MIME) {
            params.push_str(" BODY=8BITMIME");
        }
        if needs_utf8 {
            params.push_str(" SMTPUTF8");
        }
        let mut commands = vec![format!("MAIL FROM:<{mail_from}>{params}\r\n")];
        commands.extend(recipients.iter().map(|r| format!("RCPT TO:<{r}>\r\n")));
        let replies = if self.capabilities.has_capability(EXT_PIPELINING) {
            with_client!(&mut self.client, c => c.cmds(commands.iter()).await)
        } else {
            let mut replies = Vec::with_capacity(commands.len());
            let mut failed = None;
            for (i, command) in commands.iter().enumerate() {
                match with_client!(&mut self.client, c => c.cmd(command).await) {
                    Ok(reply) => {
                        let stop = i == 0 && reply.code >= 400;
                        replies.push(reply);
                        if stop {
                            break;
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            match failed {
                Some(e) => Err(e),
                None => Ok(replies),
            }
        };
        let replies = match replies {
            Ok(replies) => replies,
            Err(e) => return (all(AttemptResult::Deferred { reason: describe(&e) }), false),
        };
        let mail_reply = &replies[0];
        if mail_reply.code >= 400 {
            let result = rejection(mail_reply);
            self.reset().await;
            return (all(result), true);
        }
        let mut results: Vec<Option<AttemptResult>> = recipients
            .iter()
            .enumerate()
            .map(|(i, _)| match replies.get(i + 1) {
                Some(reply) if reply.code < 400 => None,
                Some(reply) => Some(rejection(reply)),
                None => Some(AttemptResult::Deferred { reason: "no reply to RCPT TO".into() }),
            })
            .collect();
        if results.iter().all(Option::is_some) {
            let usable = self.reset().await;
            return (results.into_iter().map(|r| r.expect("all set")).collect(), usable);
        }
        let data = with_client!(&mut self.client, c => c.cmd(b"DATA\r\n").await);
        let outcome = match data {
            Ok(reply) if reply.code == 354 => {
                let sent = with_client!(&mut self.client, c => {
                    let previous = c.timeout;
                    c.timeout = data_timeout;
                    let result = tokio::time::timeout(data_timeout, async {
                        c.write_message(message).await.map_err(mail_send::Error::Io)?;
                        c.read().await
                    })
                    .await;
                    c.timeout = previous;
                    result
                });
                match sent {
                    Ok(Ok(reply)) if reply.code < 300 => Ok(AttemptResult::Delivered { reply: reply_text(&reply) }),
                    Ok(Ok(reply)) => Err((rejection(&reply), true)),
                    Ok(Err(e)) => Err((AttemptResult::Deferred { reason: describe(&e) }, false)),
                    Err(_) => Err((
                        AttemptResult::Deferred { reason: "timed out waiting for the reply to the message".into() },
                        false,
                    )),
                }
            }
            Ok(reply) => Err((rejection(&reply), true)),
            Err(e) => Err((AttemptResult::Deferred { reason: describe(&e) }, false)),
        };
        let usable = match &outcome {
            Ok(_) => true,
            Err((_, usable)) => *usable,
        };
        for slot in results.iter_mut().filter(|r| r.is_none()) {
            *slot = Some(match &outcome {
                Ok(done) => done.clone(),
                Err((failure, _)) => failure.clone(),
            });
        }
        (results.into_iter().map(|r| r.expect("all set")).collect(), usable)
    }
}

/// A 4xx reply defers, a 5xx reply rejects.
fn rejection(reply: &Response<String>) -> AttemptResult {
    if reply.code >= 500 {
        AttemptResult::Rejected { code: reply.code, text: reply_tail(reply) }
    } else {
        AttemptResult::Deferred { reason: reply_text(reply) }
    }
}
