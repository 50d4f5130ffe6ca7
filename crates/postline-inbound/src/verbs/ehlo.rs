//! EHLO and HELO (RFC 5321 §4.1.1.1): name the client, start over, list extensions.

use crate::{Reply, Session};

/// EHLO: the extensions offered. A new EHLO also ends any transaction in progress.
pub fn ehlo(session: &mut Session, host: String) -> Reply {
    session.reset_transaction();
    session.helo = Some(host);
    let mut lines = vec![
        session.limits.hostname.clone(),
        "PIPELINING".into(),
        format!("SIZE {}", session.limits.max_message_bytes),
        "8BITMIME".into(),
        "SMTPUTF8".into(),
        "ENHANCEDSTATUSCODES".into(),
    ];
    if session.limits.starttls && !session.tls {
        lines.push("STARTTLS".into());
    }
    if crate::verbs::auth::offered(session) {
        lines.push("AUTH PLAIN LOGIN".into());
    }
    Reply::plain(250, lines)
}

/// HELO: the old greeting, no extensions.
pub fn helo(session: &mut Session, host: String) -> Reply {
    session.reset_transaction();
    session.helo = Some(host);
    Reply::plain(250, vec![session.limits.hostname.clone()])
}
