//! QUIT (RFC 5321 §4.1.1.10): say goodbye; the caller closes the connection.

use crate::{Reply, Session};

pub fn quit(session: &mut Session) -> Reply {
    session.reset_transaction();
    Reply::new(221, "2.0.0", format!("{} closing connection", session.limits.hostname))
}
