//! Black-box tests of the HTTP API: the real router, store and workers on a
//! loopback port, every response checked against the contract. Each test runs on
//! SQLite and, when `POSTLINE_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod api_keys;
mod attachments;
mod auth;
mod batch;
mod bodies;
mod broadcasts;
mod contacts;
mod dashboard;
mod dashboard_audience;
mod dashboard_broadcasts;
mod dashboard_domains;
mod dashboard_exports;
mod dashboard_inbox;
mod dashboard_metrics;
mod delivery;
mod domains;
mod emails;
mod idempotency;
mod imports;
mod metrics;
mod receiving;
mod request_logs;
mod sandbox;
mod schedule;
mod segments;
mod submission;
mod suppressions;
mod templates;
mod tracking;
mod unsubscribe;
mod webhooks;
