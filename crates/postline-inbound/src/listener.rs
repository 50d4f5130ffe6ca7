//! The TCP side: accepts connections, moves bytes between the socket and a
//! [`Session`], upgrades to TLS on STARTTLS (or starts in TLS for implicit-TLS
//! ports), stores each message through the [`MessageSink`] before the `250`, and
//! keeps every connection inside its limits (per-IP connection cap and rate, idle
//! timeout); behind a load balancer, the PROXY protocol names the real client.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_rustls::TlsAcceptor;

use crate::{Envelope, Event, Limits, Recipients, Reply, Session};

/// Where received messages go. `Ok` means stored durably: only then does the client
/// hear `250`. `Err` carries the reply instead ([`Reply::store_failed`] when storing
/// failed, so the client tries again later).
#[async_trait::async_trait]
pub trait MessageSink: Send + Sync {
    async fn store(&self, envelope: Envelope, peer: SocketAddr) -> Result<(), Reply>;
}

/// How a listener behaves.
#[derive(Clone)]
pub struct ListenerConfig {
    pub limits: Limits,
    /// The certificate for STARTTLS (or implicit TLS); `None` offers no TLS.
    pub tls: Option<TlsAcceptor>,
    /// Every connection starts in TLS (port 465 style).
    pub implicit_tls: bool,
    /// Most simultaneous connections from one address.
    pub max_connections_per_ip: usize,
    /// Most new connections from one address per minute (a sender opening and
    /// closing connections in a loop is slowed down, not served).
    pub max_connections_per_ip_per_minute: usize,
    /// How long to wait for the client's next bytes (RFC 5321 §4.5.3.2 asks for 5 min).
    pub idle_timeout: Duration,
    /// Every connection starts with a PROXY protocol header (v1 or v2) naming the
    /// real client: only behind a load balancer that sends one.
    pub proxy_protocol: bool,
}

/// How long a balancer has to send the PROXY header.
const PROXY_HEADER_WAIT: Duration = Duration::from_secs(10);

/// Connections open per client address, released when a connection ends, and
/// connections opened per address in the current minute.
#[derive(Default)]
struct Counts(Mutex<HashMap<IpAddr, usize>>, Mutex<HashMap<IpAddr, (u64, usize)>>);

struct Slot<'a> {
    counts: &'a Counts,
    ip: IpAddr,
}

impl Counts {
    /// Counts a new connection from `ip`; `false` past `max` this minute.
    fn admit(&self, ip: IpAddr, max: usize) -> bool {
        let minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() / 60)
            .unwrap_or_default();
        let mut rates = self.1.lock().expect("connection rates");
        if rates.len() > 100_000 {
            rates.retain(|_, (window, _)| *window == minute);
        }
        let entry = rates.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= max
    }

    fn take(&self, ip: IpAddr, max: usize) -> Option<Slot<'_>> {
        let mut counts = self.0.lock().expect("connection counts");
        let open = counts.entry(ip).or_default();
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(Slot { counts: self, ip })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().expect("connection counts");
        if let Some(open) = counts.get_mut(&self.ip) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// Serves connections until the listener fails.
pub async fn serve(
    listener: TcpListener,
    config: ListenerConfig,
    policy: Arc<dyn Recipients>,
    sink: Arc<dyn MessageSink>,
) -> std::io::Result<()> {
    let config = Arc::new(config);
    let counts = Arc::new(Counts::default());
    loop {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (config, policy, sink, counts) = (config.clone(), policy.clone(), sink.clone(), counts.clone());
        tokio::spawn(async move {
            let mut stream = stream;
            let peer = if config.proxy_protocol {
                // Behind a load balancer: the client's address comes first. A
                // connection without a valid header is dropped without a word.
                match tokio::time::timeout(PROXY_HEADER_WAIT, crate::proxy::read_header(&mut stream)).await {
                    Ok(Ok(crate::proxy::Source::Client(client))) => client,
                    Ok(Ok(crate::proxy::Source::Local)) => peer,
                    _ => return,
                }
            } else {
                peer
            };
            if !counts.admit(peer.ip(), config.max_connections_per_ip_per_minute) {
                let slow = Reply::new(421, "4.7.0", "Too many connections from your address this minute; slow down");
                let _ = stream.write_all(slow.to_wire().as_bytes()).await;
                return;
            }
            let Some(_slot) = counts.take(peer.ip(), config.max_connections_per_ip) else {
                let busy = Reply::new(421, "4.7.0", "Too many connections from your address; try again later");
                let _ = stream.write_all(busy.to_wire().as_bytes()).await;
                return;
            };
            if let Err(error) = connection(stream, peer, &config, policy.as_ref(), sink.as_ref()).await {
                // Clients vanish, time out or fail TLS all the time; nothing to act on.
                let _ = error;
            }
        });
    }
}

/// What ended one leg of a connection.
enum Leg {
    Done,
    /// The client asked for TLS and heard 220.
    StartTls,
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    config: &ListenerConfig,
    policy: &dyn Recipients,
    sink: &dyn MessageSink,
) -> std::io::Result<()> {
    let mut session = Session::new(config.limits.clone(), config.implicit_tls);
    if config.implicit_tls {
        let acceptor =
            config.tls.as_ref().ok_or_else(|| std::io::Error::other("implicit TLS without a certificate"))?;
        let mut tls = acceptor.accept(stream).await?;
        tls.write_all(session.greeting().to_wire().as_bytes()).await?;
        run(&mut tls, &mut session, peer, config, policy, sink).await?;
        return tls.shutdown().await;
    }
    let mut stream = stream;
    stream.write_all(session.greeting().to_wire().as_bytes()).await?;
    match run(&mut stream, &mut session, peer, config, policy, sink).await? {
        Leg::Done => stream.shutdown().await,
        Leg::StartTls => {
            let acceptor =
                config.tls.as_ref().ok_or_else(|| std::io::Error::other("STARTTLS without a certificate"))?;
            let mut tls = acceptor.accept(stream).await?;
            session.tls_started();
            run(&mut tls, &mut session, peer, config, policy, sink).await?;
            tls.shutdown().await
        }
    }
}

/// Reads, feeds the session, acts on its events, until it closes or asks for TLS.
async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    session: &mut Session,
    peer: SocketAddr,
    config: &ListenerConfig,
    policy: &dyn Recipients,
    sink: &dyn MessageSink,
) -> std::io::Result<Leg> {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match tokio::time::timeout(config.idle_timeout, stream.read(&mut buffer)).await {
            Ok(read) => read?,
            Err(_) => {
                let timeout = Reply::new(421, "4.4.2", "Idle for too long; closing the connection");
                stream.write_all(timeout.to_wire().as_bytes()).await?;
                return Ok(Leg::Done);
            }
        };
        if read == 0 {
            return Ok(Leg::Done);
        }
        let mut events = session.ingest(&buffer[..read], policy).await;
        // Events may hand over a message, whose reply (and anything pipelined behind
        // it) comes back as more events.
        while !events.is_empty() {
            let mut out = String::new();
            let mut next = Vec::new();
            for event in events {
                match event {
                    Event::Reply(reply) => out.push_str(&reply.to_wire()),
                    Event::Message(envelope) => {
                        stream.write_all(out.as_bytes()).await?;
                        out.clear();
                        let stored = sink.store(envelope, peer).await;
                        next = session.stored(stored, policy).await;
                        break;
                    }
                    Event::StartTls => {
                        stream.write_all(out.as_bytes()).await?;
                        stream.flush().await?;
                        return Ok(Leg::StartTls);
                    }
                    Event::Close => {
                        stream.write_all(out.as_bytes()).await?;
                        return Ok(Leg::Done);
                    }
                }
            }
            stream.write_all(out.as_bytes()).await?;
            events = next;
        }
        stream.flush().await?;
    }
}
