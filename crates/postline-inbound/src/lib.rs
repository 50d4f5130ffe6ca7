//! Inbound SMTP: the session every receiving and submission connection runs, and
//! the protocol knowledge around it that has no Postline knowledge.
//!
//! [`Session`] is the protocol as a state machine over bytes: it never touches a
//! socket, so every verb and error path is tested in memory, and the listeners
//! (port 25 for receiving and bounces, 587/465 for submission) only move bytes and
//! act on its [`Event`]s. A message is handed over as [`Event::Message`] and the
//! client hears `250` only after the caller has stored it ([`Session::stored`]):
//! nothing acknowledged is ever lost.
//!
//! Which recipients are accepted is the caller's [`Recipients`] policy (receiving
//! domains, Postline's bounce addresses); everything else is refused, so there is no
//! open relay; on submission ports the same policy checks AUTH credentials. One file
//! per verb under [`verbs`], in the style of Stalwart's `inbound/`.
//!
//! Also here: [`authenticate`] (SPF, DKIM and DMARC of received mail, by
//! `mail-auth`), [`reports`] (delivery status notifications and feedback-loop
//! complaints read from messages) and [`proxy`] (the PROXY protocol header).

pub mod authenticate;
pub mod listener;
pub mod proxy;
mod reply;
pub mod reports;
mod session;
pub mod verbs;

pub use listener::{ListenerConfig, MessageSink, serve};
pub use reply::Reply;
pub use session::{Envelope, Event, Limits, Recipients, Session, Verdict};
