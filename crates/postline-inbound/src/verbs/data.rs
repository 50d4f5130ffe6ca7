//! DATA (RFC 5321 §4.1.1.4): 354, then the message up to `<CRLF>.<CRLF>`. Past the
//! size limit the rest is read and dropped, and the message refused with 552.

use crate::{Limits, Reply, Session};

pub fn data(session: &mut Session) -> Reply {
    if session.mail_from.is_none() {
        return Reply::new(503, "5.5.1", "Send MAIL FROM first");
    }
    if session.recipients.is_empty() {
        return Reply::new(503, "5.5.1", "No valid recipients");
    }
    session.begin_data();
    Reply::plain(354, vec!["Start mail input; end with <CRLF>.<CRLF>".into()])
}

/// The reply to a message over the limit.
pub fn too_large(limits: &Limits) -> Reply {
    Reply::new(552, "5.3.4", format!("Message too large; the limit is {} bytes", limits.max_message_bytes))
}
