//! The `postline` binary's library half: configuration, the composition root that
//! wires store, domain, API and workers together, and the CLI commands. `main.rs`
//! only parses arguments and calls in here; the test kit builds the same app.

pub mod app;
pub mod cli;
pub mod config;
pub mod contacts_cli;
pub mod domains_cli;
pub mod inbound;
pub mod remote;
pub mod serve;
pub mod users_cli;
pub mod webhooks_cli;
