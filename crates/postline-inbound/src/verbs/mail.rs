//! MAIL FROM (RFC 5321 §4.1.1.2): starts a transaction. An empty reverse path
//! (`<>`) is a bounce or report — exactly what Postline's bounce addresses receive.

use crate::{Reply, Session};

pub fn mail(session: &mut Session, from: String, size: usize) -> Reply {
    if session.helo.is_none() {
        return Reply::new(503, "5.5.1", "Send EHLO or HELO first");
    }
    if session.limits.submission && session.auth.is_none() {
        return Reply::new(530, "5.7.0", "Authentication required");
    }
    if session.mail_from.is_some() {
        return Reply::new(503, "5.5.1", "A transaction is already in progress; send RSET first");
    }
    // The SIZE the client declared (RFC 1870): refuse at once rather than after the data.
    if size > session.limits.max_message_bytes {
        return Reply::new(
            552,
            "5.3.4",
            format!("Message too large; the limit is {} bytes", session.limits.max_message_bytes),
        );
    }
    session.mail_from = Some(from);
    Reply::new(250, "2.1.0", "Sender OK")
}
