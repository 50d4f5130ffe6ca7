//! The PROXY protocol (HAProxy, versions 1 and 2): when Postline's SMTP ports sit
//! behind a TCP load balancer, the balancer sends the client's real address first,
//! so per-address limits, SPF and the trace headers see the sender rather than the
//! balancer. Only used when the operator turns it on: otherwise anyone could claim
//! any address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The version 2 signature.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Longest version 1 line, CRLF included (the specification's limit).
const V1_MAX: usize = 107;
/// Largest version 2 address block accepted (addresses plus TLVs).
const V2_MAX_BLOCK: usize = 512;

/// What the header said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The client's address as the balancer saw it.
    Client(SocketAddr),
    /// A connection of the balancer's own (health checks): keep the peer address.
    Local,
}

/// A header that is missing or malformed: the connection is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

/// Reads the header at the start of a connection, byte-exact: nothing after it is
/// consumed, so the SMTP session starts on the next byte.
pub async fn read_header<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Source, Invalid> {
    let mut start = [0u8; 12];
    stream.read_exact(&mut start[..5]).await.map_err(|_| Invalid("connection closed before the PROXY header"))?;
    if &start[..5] == b"PROXY" {
        let mut line = start[..5].to_vec();
        while !line.ends_with(b"\r\n") {
            if line.len() >= V1_MAX {
                return Err(Invalid("PROXY line too long"));
            }
            let byte = stream.read_u8().await.map_err(|_| Invalid("PROXY line cut short"))?;
            line.push(byte);
        }
        return parse_v1(&line);
    }
    stream.read_exact(&mut start[5..]).await.map_err(|_| Invalid("PROXY header cut short"))?;
    if start != V2_SIGNATURE {
        return Err(Invalid("no PROXY header"));
    }
    let mut fixed = [0u8; 4];
    stream.read_exact(&mut fixed).await.map_err(|_| Invalid("PROXY header cut short"))?;
    let length = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
    if length > V2_MAX_BLOCK {
        return Err(Invalid("PROXY address block too large"));
    }
    let mut block = vec![0u8; length];
    stream.read_exact(&mut block).await.map_err(|_| Invalid("PROXY header cut short"))?;
    parse_v2(fixed[0], fixed[1], &block)
}

/// `PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n`.
pub fn parse_v1(line: &[u8]) -> Result<Source, Invalid> {
    let text = std::str::from_utf8(line).map_err(|_| Invalid("PROXY line is not text"))?;
    let fields: Vec<&str> = text.trim_end_matches("\r\n").split(' ').collect();
    match fields.as_slice() {
        ["PROXY", "UNKNOWN", ..] => Ok(Source::Local),
        ["PROXY", family @ ("TCP4" | "TCP6"), source, _destination, port, _destination_port] => {
            let ip: IpAddr = source.parse().map_err(|_| Invalid("PROXY source address"))?;
            if (*family == "TCP4") != ip.is_ipv4() {
                return Err(Invalid("PROXY address family mismatch"));
            }
            let port: u16 = port.parse().map_err(|_| Invalid("PROXY source port"))?;
            Ok(Source::Client(SocketAddr::new(ip, port)))
        }
        _ => Err(Invalid("malformed PROXY line")),
    }
}

/// The part after the signature: version/command, family/protocol, addresses.
pub fn parse_v2(version_command: u8, family: u8, block: &[u8]) -> Result<Source, Invalid> {
    if version_command >> 4 != 2 {
        return Err(Invalid("PROXY version"));
    }
    match version_command & 0x0f {
        0 => return Ok(Source::Local),
        1 => {}
        _ => return Err(Invalid("PROXY command")),
    }
    match family >> 4 {
        1 => {
            let a = block.get(..12).ok_or(Invalid("PROXY IPv4 block too short"))?;
            let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
            Ok(Source::Client(SocketAddr::new(ip.into(), u16::from_be_bytes([a[8], a[9]]))))
        }
        2 => {
            let a = block.get(..36).ok_or(Invalid("PROXY IPv6 block too short"))?;
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&a[..16]);
            Ok(Source::Client(SocketAddr::new(Ipv6Addr::from(octets).into(), u16::from_be_bytes([a[32], a[33]]))))
        }
        // AF_UNSPEC or AF_UNIX: no address to use.
        _ => Ok(Source::Local),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_lines() {
        assert_eq!(
            parse_v1(b"PROXY TCP4 203.0.113.7 10.0.0.1 51234 25\r\n"),
            Ok(Source::Client("203.0.113.7:51234".parse().unwrap()))
        );
        assert_eq!(
            parse_v1(b"PROXY TCP6 2001:db8::7 2001:db8::1 4000 25\r\n"),
            Ok(Source::Client("[2001:db8::7]:4000".parse().unwrap()))
        );
        assert_eq!(parse_v1(b"PROXY UNKNOWN\r\n"), Ok(Source::Local));
        assert!(parse_v1(b"PROXY TCP4 2001:db8::7 10.0.0.1 1 25\r\n").is_err(), "family must match");
        assert!(parse_v1(b"PROXY TCP4 203.0.113.7 10.0.0.1 99999 25\r\n").is_err());
        assert!(parse_v1(b"PROXY TCP4 203.0.113.7\r\n").is_err());
    }

    #[test]
    fn version_2_blocks() {
        let mut v4 = vec![203, 0, 113, 7, 10, 0, 0, 1];
        v4.extend_from_slice(&51234u16.to_be_bytes());
        v4.extend_from_slice(&25u16.to_be_bytes());
        assert_eq!(parse_v2(0x21, 0x11, &v4), Ok(Source::Client("203.0.113.7:51234".parse().unwrap())));
        assert_eq!(parse_v2(0x20, 0x00, &[]), Ok(Source::Local), "LOCAL: the balancer's own check");
        assert!(parse_v2(0x21, 0x11, &v4[..6]).is_err(), "a short block is refused, not read past");
        assert!(parse_v2(0x11, 0x11, &v4).is_err(), "only version 2");
        let mut v6 = vec![0u8; 36];
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[32..34].copy_from_slice(&4000u16.to_be_bytes());
        assert_eq!(parse_v2(0x21, 0x21, &v6), Ok(Source::Client("[2001::]:4000".parse().unwrap())));
    }

    #[tokio::test]
    async fn the_header_is_read_exactly_and_the_session_starts_after_it() {
        let mut input: &[u8] = b"PROXY TCP4 203.0.113.7 10.0.0.1 51234 25\r\nEHLO x\r\n";
        assert_eq!(read_header(&mut input).await, Ok(Source::Client("203.0.113.7:51234".parse().unwrap())));
        assert_eq!(input, b"EHLO x\r\n");
        let mut v2 = V2_SIGNATURE.to_vec();
        v2.extend_from_slice(&[0x21, 0x11, 0, 12, 198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0, 25]);
        v2.extend_from_slice(b"EHLO y\r\n");
        let mut input: &[u8] = &v2;
        assert_eq!(read_header(&mut input).await, Ok(Source::Client("198.51.100.9:8080".parse().unwrap())));
        assert_eq!(input, b"EHLO y\r\n");
        let mut none: &[u8] = b"EHLO client\r\n";
        assert!(read_header(&mut none).await.is_err(), "without a header the connection is refused");
        let long = [b"PROXY ".as_slice(), &[b'a'; 300], b"\r\n"].concat();
        assert_eq!(read_header(&mut long.as_slice()).await, Err(Invalid("PROXY line too long")));
        let mut cut: &[u8] = b"PROXY TCP4 1.2.3.4";
        assert!(read_header(&mut cut).await.is_err());
    }
}
