//! An authoritative DNS server on a loopback UDP port, serving the MX, A, AAAA and
//! TXT records a test gives it. Names it has no records for are NXDOMAIN; names
//! it knows but without the asked type get an empty (NODATA) answer.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};

use hickory_proto::{
    op::{Message, MessageType, ResponseCode},
    rr::{
        Name, RData, Record, RecordType,
        rdata::{A, AAAA, MX, TXT},
    },
};
use tokio::net::UdpSocket;

type Zone = HashMap<(String, RecordType), Vec<RData>>;

/// A running DNS server.
#[derive(Clone)]
pub struct DnsServer {
    pub address: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    queries: Arc<Mutex<Vec<(String, RecordType)>>>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn name(raw: &str) -> Name {
    Name::from_ascii(format!("{}.", raw.trim_end_matches('.'))).expect("a valid DNS name")
}

impl DnsServer {
    /// Starts the server on an ephemeral loopback port.
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind DNS");
        let address = socket.local_addr().expect("address");
        let server = DnsServer { address, zone: Arc::default(), queries: Arc::default() };
        let serving = server.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            loop {
                let Ok((length, peer)) = socket.recv_from(&mut buffer).await else { continue };
                if let Some(reply) = serving.answer(&buffer[..length]) {
                    let _ = socket.send_to(&reply, peer).await;
                }
            }
        });
        server
    }

    fn add(&self, owner: &str, record_type: RecordType, data: RData) {
        self.zone.lock().unwrap().entry((key(owner), record_type)).or_default().push(data);
    }

    /// `domain MX preference host`.
    pub fn mx(&self, domain: &str, preference: u16, host: &str) {
        self.add(domain, RecordType::MX, RData::MX(MX::new(preference, name(host))));
    }

    /// A null MX (`MX 0 .`, RFC 7505).
    pub fn null_mx(&self, domain: &str) {
        self.add(domain, RecordType::MX, RData::MX(MX::new(0, Name::root())));
    }

    /// `host A/AAAA ip`.
    pub fn address(&self, host: &str, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => self.add(host, RecordType::A, RData::A(A(v4))),
            IpAddr::V6(v6) => self.add(host, RecordType::AAAA, RData::AAAA(AAAA(v6))),
        }
    }

    /// `zone NS host`.
    pub fn ns(&self, zone: &str, host: &str) {
        self.add(zone, RecordType::NS, RData::NS(hickory_proto::rr::rdata::NS(name(host))));
    }

    /// `owner CNAME target`.
    pub fn cname(&self, owner: &str, target: &str) {
        self.add(owner, RecordType::CNAME, RData::CNAME(hickory_proto::rr::rdata::CNAME(name(target))));
    }

    /// Removes every record of `owner` (of any type).
    pub fn remove(&self, owner: &str) {
        self.zone.lock().unwrap().retain(|(n, _), _| *n != key(owner));
    }

    /// `owner TXT text`.
    pub fn txt(&self, owner: &str, text: &str) {
        // TXT strings are at most 255 bytes each; long values are split.
        let chunks = text.as_bytes().chunks(255).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        self.add(owner, RecordType::TXT, RData::TXT(TXT::new(chunks)));
    }

    /// The TXT records of `owner`, joined (what a DKIM verifier reads).
    pub fn txt_of(&self, owner: &str) -> Vec<String> {
        let zone = self.zone.lock().unwrap();
        zone.get(&(key(owner), RecordType::TXT))
            .map(|records| {
                records
                    .iter()
                    .filter_map(|r| match r {
                        RData::TXT(txt) => Some(txt.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many queries for `name` of `record_type` were answered (to see caching).
    pub fn queries_for(&self, name: &str, record_type: RecordType) -> usize {
        self.queries.lock().unwrap().iter().filter(|(n, t)| *n == key(name) && *t == record_type).count()
    }

    fn answer(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(packet).ok()?;
        let query = request.queries.first()?.clone();
        let owner = key(&query.name().to_ascii());
        self.queries.lock().unwrap().push((owner.clone(), query.query_type()));
        let mut response = Message::new(request.metadata.id, MessageType::Response, request.metadata.op_code);
        response.metadata.authoritative = true;
        response.metadata.recursion_desired = request.metadata.recursion_desired;
        response.metadata.recursion_available = true;
        response.add_query(query.clone());
        let zone = self.zone.lock().unwrap();
        match zone.get(&(owner.clone(), query.query_type())) {
            Some(records) => {
                for data in records {
                    response.add_answer(Record::from_rdata(query.name().clone(), 60, data.clone()));
                }
            }
            None if zone.keys().any(|(n, _)| *n == owner) => {}
            None => response.metadata.response_code = ResponseCode::NXDomain,
        }
        response.to_vec().ok()
    }
}
