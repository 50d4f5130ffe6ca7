//! NOOP, VRFY/EXPN and HELP: answers that change nothing. VRFY never confirms an
//! address (it would let anyone harvest them).

use crate::Reply;

pub fn noop() -> Reply {
    Reply::new(250, "2.0.0", "OK")
}

pub fn vrfy() -> Reply {
    Reply::new(252, "2.5.0", "Cannot verify the user; send a message and it will be tried")
}

pub fn help() -> Reply {
    Reply::new(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS")
}
