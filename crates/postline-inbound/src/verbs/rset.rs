//! RSET (RFC 5321 §4.1.1.5): abandons the transaction; the EHLO name stays.

use crate::{Reply, Session};

pub fn rset(session: &mut Session) -> Reply {
    session.reset_transaction();
    Reply::new(250, "2.0.0", "OK")
}
