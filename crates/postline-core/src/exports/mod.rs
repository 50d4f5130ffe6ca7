//! Exports: a team's emails, broadcasts, contacts, segments, domains, request logs
//! or API keys as a CSV file, with the list's filters ([`filters`]), as the
//! reference's "Export your data" describes.
//!
//! Starting one reads up to [`IMMEDIATE_ROWS`] + 1 rows: when that is all there is,
//! the file is made at once and handed back for download ([`job`]); otherwise a
//! pending export is stored and a background worker produces the file, leased like
//! the contact import job so a crashed worker's export is taken over (and started
//! afresh) by another. Either way the export is recorded with its file, which admins
//! may download for [`AVAILABLE_FOR`]; after that the worker deletes the file and
//! marks the export expired. Rows come from the same use cases as the list pages
//! ([`sources`]) and are written by [`csv`], which never lets a cell become a
//! spreadsheet formula. Tokens and key hashes are never part of any export.

pub mod csv;
pub mod filters;
mod job;
mod sources;

use std::fmt;

use async_trait::async_trait;
use chrono::Duration;
use uuid::Uuid;

pub use filters::ExportFilters;
pub use job::Started;

use crate::{
    Error, Result,
    clock::Timestamp,
    ids::{TeamId, UserId},
    pagination::{Page, PageRequest},
};

/// Largest export made at once; larger ones are produced in the background.
pub const IMMEDIATE_ROWS: usize = 1_000;
/// How long an export can be downloaded after it was asked for.
pub const AVAILABLE_FOR: Duration = Duration::days(7);
/// Size of the pieces a file is stored in.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// An export's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExportId(pub Uuid);

impl ExportId {
    /// A new, time-ordered id.
    pub fn new() -> Self {
        ExportId(Uuid::now_v7())
    }

    pub fn parse(raw: &str) -> Result<Self> {
        Uuid::parse_str(raw.trim()).map(ExportId).map_err(|_| Error::parameter("The export id must be a valid UUID."))
    }
}

impl Default for ExportId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ExportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportKind {
    Emails,
    Broadcasts,
    Contacts,
    Segments,
    Domains,
    Logs,
    ApiKeys,
}

impl ExportKind {
    pub const ALL: [ExportKind; 7] = [
        ExportKind::Emails,
        ExportKind::Broadcasts,
        ExportKind::Contacts,
        ExportKind::Segments,
        ExportKind::Domains,
        ExportKind::Logs,
        ExportKind::ApiKeys,
    ];

    /// The name stored and used in forms and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Emails => "emails",
            ExportKind::Broadcasts => "broadcasts",
            ExportKind::Contacts => "contacts",
            ExportKind::Segments => "segments",
            ExportKind::Domains => "domains",
            ExportKind::Logs => "logs",
            ExportKind::ApiKeys => "api_keys",
        }
    }

    /// The name for people.
    pub fn label(self) -> &'static str {
        match self {
            ExportKind::Emails => "Emails",
            ExportKind::Broadcasts => "Broadcasts",
            ExportKind::Contacts => "Contacts",
            ExportKind::Segments => "Segments",
            ExportKind::Domains => "Domains",
            ExportKind::Logs => "Logs",
            ExportKind::ApiKeys => "API keys",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| {
            Error::value("The `kind` must be emails, broadcasts, contacts, segments, domains, logs or api_keys.")
        })
    }
}

/// Where an export stands, as stored. "Expired" is also shown for a ready export
/// past [`AVAILABLE_FOR`] whose file the worker has not deleted yet ([`Export::shown_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    /// Waiting for, or being produced by, the background worker.
    Pending,
    Ready,
    Failed,
    Expired,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Pending => "pending",
            ExportStatus::Ready => "ready",
            ExportStatus::Failed => "failed",
            ExportStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [ExportStatus::Pending, ExportStatus::Ready, ExportStatus::Failed, ExportStatus::Expired]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// An export as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub id: ExportId,
    pub team_id: TeamId,
    pub kind: ExportKind,
    pub filters: ExportFilters,
    pub status: ExportStatus,
    /// Data rows in the file, once it is made.
    pub rows: Option<u64>,
    pub file_bytes: Option<u64>,
    pub failure: Option<String>,
    pub requested_by: UserId,
    /// The requester's address when asked (shown even if the user is later removed).
    pub requester_email: String,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

impl Export {
    /// When the file stops being available.
    pub fn expires_at(&self) -> Timestamp {
        self.created_at + AVAILABLE_FOR
    }

    /// The status to show at `now`: expired once past [`AVAILABLE_FOR`].
    pub fn shown_status(&self, now: Timestamp) -> ExportStatus {
        if now >= self.expires_at() { ExportStatus::Expired } else { self.status }
    }

    /// The file's name for downloads.
    pub fn file_name(&self) -> String {
        format!("postline-{}-{}.csv", self.kind.as_str().replace('_', "-"), self.created_at.format("%Y%m%d-%H%M%S"))
    }
}

/// Exports and their files in the store.
#[async_trait]
pub trait ExportStore {
    /// Records an export; with a file (made at once) its pieces too, in one transaction.
    async fn insert_export(&self, export: &Export, file: Option<&[u8]>) -> Result<()>;
    async fn get_export(&self, team_id: TeamId, id: ExportId) -> Result<Option<Export>>;
    /// Newest first.
    async fn list_exports(&self, team_id: TeamId, page: &PageRequest) -> Result<Page<Export>>;
    /// Leases the oldest pending export that no live lease holds, deleting any pieces
    /// an earlier holder wrote (it starts afresh); the export and the lease's token.
    async fn claim_export(&self, now: Timestamp, lease_until: Timestamp) -> Result<Option<(Export, String)>>;
    /// Appends the `seq`-th piece under the lease and extends it; `false` (nothing
    /// written) when the lease was lost.
    async fn append_export_chunk(
        &self,
        id: ExportId,
        lease_token: &str,
        seq: u32,
        data: &[u8],
        lease_until: Timestamp,
    ) -> Result<bool>;
    /// Ends a leased export as `ready` (with its counts) or `failed` (with why).
    async fn finish_export(&self, id: ExportId, lease_token: &str, outcome: &Finished, at: Timestamp) -> Result<bool>;
    /// The `seq`-th piece of a team's export file (from 0), if there is one.
    async fn export_chunk(&self, team_id: TeamId, id: ExportId, seq: u32) -> Result<Option<Vec<u8>>>;
    /// Marks exports created before `before` expired and deletes their files; how many.
    async fn expire_exports(&self, before: Timestamp) -> Result<u64>;
}

/// How a background export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    Ready { rows: u64, bytes: u64 },
    Failed(String),
}
