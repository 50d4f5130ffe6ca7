//! One file per SMTP verb: what it checks, what it changes, what it answers.

pub mod auth;
pub mod data;
pub mod ehlo;
pub mod info;
pub mod mail;
pub mod quit;
pub mod rcpt;
pub mod rset;
pub mod starttls;
