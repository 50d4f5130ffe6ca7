//! The tracking links' public routes, unauthenticated and opened by signed tokens,
//! answered on whatever host they are reached by (the domains' tracking hosts point
//! here): `GET|HEAD /t/o/{token}` is the open pixel (a transparent GIF) and
//! `GET|HEAD /t/c/{token}` redirects to the link inside the click token. A forged,
//! altered, expired or other kind of token is a 404, and nothing is recorded.
//!
//! Recording never stands between a recipient and the page they clicked: if the
//! store cannot take the event, the redirect (or pixel) is served anyway and the
//! failure logged.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Path, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use postline_core::tracking::Hit;

use crate::AppState;

/// A 1×1 transparent GIF (43 bytes).
pub const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// `GET|HEAD /t/o/{token}`
pub async fn open(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    let Some(who) = state.postline.verify_open(&token) else { return not_found() };
    let hit = hit(&state, &request);
    if let Err(error) = state.postline.record_open(&who, &hit).await {
        tracing::warn!(%error, email = %who.email, "could not record an open");
    }
    let mut response = (StatusCode::OK, PIXEL).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"));
    no_store(headers);
    response
}

/// `GET|HEAD /t/c/{token}`
pub async fn click(State(state): State<AppState>, Path(token): Path<String>, request: Request) -> Response {
    let Some(click) = state.postline.verify_click(&token) else { return not_found() };
    // The link exactly as the email had it, unless it holds characters a header
    // cannot carry; then its percent-encoded form (the same address).
    let location = HeaderValue::from_str(&click.url)
        .ok()
        .or_else(|| url::Url::parse(&click.url).ok().and_then(|u| HeaderValue::from_str(u.as_str()).ok()));
    let Some(location) = location else { return not_found() };
    let hit = hit(&state, &request);
    if let Err(error) = state.postline.record_click(&click, &hit).await {
        tracing::warn!(%error, email = %click.email, "could not record a click");
    }
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    no_store(headers);
    response
}

/// What the request says about who made it.
fn hit(state: &AppState, request: &Request) -> Hit {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let user_agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    Hit {
        ip: client_ip(peer, request.headers()).map(|ip| ip.to_string()).unwrap_or_default(),
        user_agent: user_agent.to_string(),
        head: request.method() == Method::HEAD,
        at: state.postline.clock().now(),
    }
}

/// The client's address: the connection's peer, or — when the peer is a proxy on
/// this host — the address that proxy saw (the last `X-Forwarded-For` entry; earlier
/// entries come from the client and prove nothing).
fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    if let Some(peer) = peer
        && !peer.is_loopback()
    {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
        .next_back();
    forwarded.or(peer)
}

/// Every hit must reach us: no cache may answer for us or keep the response.
fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, private"));
}

fn not_found() -> Response {
    let mut response = (StatusCode::NOT_FOUND, "This link is not valid.").into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    no_store(headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixel_is_a_43_byte_gif() {
        assert_eq!(PIXEL.len(), 43);
        assert!(PIXEL.starts_with(b"GIF89a") && PIXEL.ends_with(b";"));
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_local_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.9.9.9, 203.0.113.7"));
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let remote: IpAddr = "198.51.100.2".parse().unwrap();
        assert_eq!(client_ip(Some(local), &headers), Some("203.0.113.7".parse().unwrap()));
        assert_eq!(client_ip(Some(remote), &headers), Some(remote), "a remote peer cannot claim another address");
        assert_eq!(client_ip(Some(local), &HeaderMap::new()), Some(local));
        assert_eq!(client_ip(None, &HeaderMap::new()), None);
    }
}
