//! STARTTLS (RFC 3207): offered only when the listener has a certificate and the
//! connection is not encrypted yet; after the 220 the caller upgrades and the
//! session starts over.

use crate::{Reply, Session};

pub fn starttls(session: &mut Session) -> Result<Reply, Reply> {
    if session.tls {
        return Err(Reply::new(503, "5.5.1", "TLS is already active"));
    }
    if !session.limits.starttls {
        return Err(Reply::new(502, "5.5.1", "STARTTLS is not offered here"));
    }
    Ok(Reply::new(220, "2.0.0", "Ready to start TLS"))
}
