//! AUTH (RFC 4954) on submission ports, with the PLAIN (RFC 4616) and LOGIN
//! mechanisms: offered only over TLS unless the operator allows otherwise, checked
//! by the caller's policy, required before MAIL. A wrong password is `535` and
//! counts as a protocol error, so a client guessing passwords is disconnected.

use base64::{Engine, engine::general_purpose::STANDARD};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};

use crate::{Recipients, Session};

/// Where an exchange of challenges stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// PLAIN without an initial response: waiting for it.
    Plain,
    /// LOGIN: waiting for the user name.
    LoginUser,
    /// LOGIN: waiting for the password of this user.
    LoginPassword(String),
}

/// What an AUTH step answers.
pub enum Reply {
    /// `334` with a challenge; the next line is the client's answer.
    Challenge(crate::Reply, Step),
    /// The exchange is over (success or failure).
    Done(crate::Reply),
}

const USERNAME: &str = "VXNlcm5hbWU6"; // "Username:"
const PASSWORD: &str = "UGFzc3dvcmQ6"; // "Password:"

/// Whether EHLO lists AUTH on this connection.
pub fn offered(session: &Session) -> bool {
    session.limits.submission && (session.tls || session.limits.auth_without_tls) && session.auth.is_none()
}

fn challenge(text: &str, step: Step) -> Reply {
    Reply::Challenge(crate::Reply::plain(334, vec![text.to_string()]), step)
}

fn done(code: u16, enhanced: &'static str, text: &str) -> Reply {
    Reply::Done(crate::Reply::new(code, enhanced, text))
}

/// `AUTH <mechanism> [initial response]`.
pub async fn auth(session: &mut Session, mechanism: u64, initial: String, policy: &dyn Recipients) -> Reply {
    if !session.limits.submission {
        return done(502, "5.5.1", "AUTH is not offered here");
    }
    if session.helo.is_none() {
        return done(503, "5.5.1", "Send EHLO first");
    }
    if !session.tls && !session.limits.auth_without_tls {
        return done(538, "5.7.11", "Encryption required: send STARTTLS first");
    }
    if session.auth.is_some() {
        return done(503, "5.5.1", "Already authenticated");
    }
    if session.mail_from.is_some() {
        return done(503, "5.5.1", "AUTH is not allowed during a mail transaction");
    }
    let initial = initial.trim();
    match mechanism {
        AUTH_PLAIN if initial.is_empty() => challenge("", Step::Plain),
        // `=` is an empty initial response (RFC 4954 §4).
        AUTH_PLAIN => answer(session, Step::Plain, if initial == "=" { "" } else { initial }, policy).await,
        AUTH_LOGIN if initial.is_empty() => challenge(USERNAME, Step::LoginUser),
        AUTH_LOGIN => answer(session, Step::LoginUser, initial, policy).await,
        _ => done(504, "5.5.4", "Unrecognized authentication mechanism; use PLAIN or LOGIN"),
    }
}

/// The client's answer (one base64 line) to the challenge of `step`.
pub async fn answer(session: &mut Session, step: Step, line: &str, policy: &dyn Recipients) -> Reply {
    if line.trim() == "*" {
        return done(501, "5.0.0", "Authentication canceled");
    }
    let Ok(decoded) = STANDARD.decode(line.trim()) else {
        return done(501, "5.5.2", "Cannot decode the response: base64 expected");
    };
    let text = String::from_utf8_lossy(&decoded).into_owned();
    let (user, password) = match step {
        Step::LoginUser => return challenge(PASSWORD, Step::LoginPassword(text)),
        Step::LoginPassword(user) => (user, text),
        // authzid NUL authcid NUL passwd; an authzid other than the authcid is refused.
        Step::Plain => {
            let mut fields = text.split('\0');
            match (fields.next(), fields.next(), fields.next(), fields.next()) {
                (Some(authz), Some(user), Some(password), None) if authz.is_empty() || authz == user => {
                    (user.to_string(), password.to_string())
                }
                _ => return done(501, "5.5.2", "Malformed PLAIN response"),
            }
        }
    };
    match policy.authenticate(&user, &password).await {
        Some(identity) => {
            session.auth = Some(identity);
            done(235, "2.7.0", "Authentication successful")
        }
        None => done(535, "5.7.8", "Authentication credentials invalid"),
    }
}
