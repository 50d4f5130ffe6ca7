//! Postline's outbound MTA: turns queued recipients into delivered (or deferred,
//! or bounced) mail.
//!
//! For each round of claimed queue rows, [`transport::SmtpTransport`] groups the
//! recipients of one email at one domain into one SMTP transaction, renders and
//! DKIM-signs each email once ([`message`], [`dkim`]), finds the domain's mail
//! servers ([`dns`]), and talks SMTP to them over pooled connections ([`session`],
//! [`pool`]) — or to the operator's smarthost in relay mode. What each recipient's
//! attempt came to is handed back to the domain's policy
//! (`postline_core::delivery::policy`), which decides retries, bounces and
//! suppression.

pub mod config;
pub mod dkim;
pub mod dns;
pub mod message;
pub mod pool;
pub mod release;
pub mod session;
pub mod transport;

pub use config::{MtaConfig, Relay, TlsPolicy};
pub use transport::SmtpTransport;
