//! RCPT TO (RFC 5321 §4.1.1.3): one recipient, accepted only if the policy says this
//! server is responsible for it — never relayed elsewhere.

use crate::{Recipients, Reply, Session, Verdict};

pub async fn rcpt(session: &mut Session, to: String, policy: &dyn Recipients) -> Reply {
    if session.mail_from.is_none() {
        return Reply::new(503, "5.5.1", "Send MAIL FROM first");
    }
    if session.recipients.len() >= session.limits.max_recipients {
        // 452: the client keeps the rest and sends them in another transaction.
        return Reply::new(452, "4.5.3", "Too many recipients; send the rest separately");
    }
    if to.is_empty() {
        return Reply::new(501, "5.1.3", "A recipient address is required");
    }
    match policy.check(&to).await {
        Verdict::Accept => {
            if !session.recipients.iter().any(|r| r.eq_ignore_ascii_case(&to)) {
                session.recipients.push(to);
            }
            Reply::new(250, "2.1.5", "Recipient OK")
        }
        Verdict::Refuse(reply) => reply,
    }
}
