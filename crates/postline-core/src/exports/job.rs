//! The export use cases: start one (made at once up to [`IMMEDIATE_ROWS`], queued
//! beyond), list and read them, hand out a file to an admin while it is available,
//! and the background job that produces queued files and expires old ones.

use std::time::Instant;

use super::{
    AVAILABLE_FOR, CHUNK_BYTES, Export, ExportFilters, ExportId, ExportKind, ExportStatus, Finished, IMMEDIATE_ROWS,
    csv::write_record,
    sources::{Source, header},
};
use crate::{
    Error, Postline, Result,
    ids::TeamId,
    pagination::{Page, PageRequest},
    users::{Role, User},
};

/// How long a worker holds an export between pieces before another may take over.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// A piece is written at least this often, which also renews the lease.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

/// What starting an export came to.
#[derive(Debug)]
pub enum Started {
    /// Small enough to make at once: the file, also kept with the export.
    Downloaded { export: Export, file: Vec<u8> },
    /// Queued for the background worker.
    Queued(Export),
}

fn require_admin(user: &User, what: &str) -> Result<()> {
    match user.role {
        Role::Admin => Ok(()),
        Role::Member => Err(Error::Forbidden(format!("Only admins of this team can {what}."))),
    }
}

/// Lease outcomes of producing a file.
enum Produced {
    Done(Finished),
    LeaseLost,
}

impl Postline {
    /// Starts an export of `kind` with `filters` for an admin: the file at once when
    /// it has at most [`IMMEDIATE_ROWS`] rows, a queued export otherwise.
    pub async fn start_export(&self, requester: &User, kind: ExportKind, filters: ExportFilters) -> Result<Started> {
        require_admin(requester, "export data")?;
        let team_id = requester.team_id;
        let filters = filters.checked(kind)?;
        if let Some(key) = filters.key {
            self.get_api_key(team_id, key).await?;
        }
        if let Some(segment) = filters.segment {
            self.get_segment(team_id, segment).await?;
        }
        let mut source = Source::new(self, team_id, kind, filters.clone()).await?;
        let mut rows = Vec::new();
        while rows.len() <= IMMEDIATE_ROWS {
            let page = source.next_page(self).await?;
            if page.is_empty() {
                break;
            }
            rows.extend(page);
        }
        let now = self.clock.now();
        let mut export = Export {
            id: ExportId::new(),
            team_id,
            kind,
            filters,
            status: ExportStatus::Pending,
            rows: None,
            file_bytes: None,
            failure: None,
            requested_by: requester.id,
            requester_email: requester.email.clone(),
            created_at: now,
            completed_at: None,
        };
        if rows.len() > IMMEDIATE_ROWS {
            self.store.insert_export(&export, None).await?;
            return Ok(Started::Queued(export));
        }
        let mut file = Vec::new();
        write_record(&mut file, header(kind));
        for row in &rows {
            write_record(&mut file, row);
        }
        export.status = ExportStatus::Ready;
        export.rows = Some(rows.len() as u64);
        export.file_bytes = Some(file.len() as u64);
        export.completed_at = Some(now);
        self.store.insert_export(&export, Some(&file)).await?;
        Ok(Started::Downloaded { export, file })
    }

    /// The team's exports, newest first.
    pub async fn list_exports(&self, team_id: TeamId, page: PageRequest) -> Result<Page<Export>> {
        self.store.list_exports(team_id, &page).await
    }

    /// One export of the team.
    pub async fn get_export(&self, team_id: TeamId, id: ExportId) -> Result<Export> {
        self.store.get_export(team_id, id).await?.ok_or(Error::NotFound("Export"))
    }

    /// The export whose file an admin may download now: another team's is not
    /// found, a member is refused, and the file must be ready and not expired.
    pub async fn downloadable_export(&self, requester: &User, id: ExportId) -> Result<Export> {
        let export = self.get_export(requester.team_id, id).await?;
        require_admin(requester, "download exports")?;
        match export.shown_status(self.clock.now()) {
            ExportStatus::Ready => Ok(export),
            ExportStatus::Expired => Err(Error::Conflict(format!(
                "This export has expired: files are kept for {} days.",
                AVAILABLE_FOR.num_days()
            ))),
            ExportStatus::Pending => Err(Error::Conflict("This export is still being prepared.".into())),
            ExportStatus::Failed => Err(Error::Conflict("This export failed; start a new one.".into())),
        }
    }

    /// The `seq`-th piece of an export's file (see [`Self::downloadable_export`]).
    pub async fn export_chunk(&self, team_id: TeamId, id: ExportId, seq: u32) -> Result<Option<Vec<u8>>> {
        self.store.export_chunk(team_id, id, seq).await
    }

    /// The background job: expires exports past [`AVAILABLE_FOR`] (deleting their
    /// files), then produces queued exports until none is left; how many it finished.
    pub async fn run_exports(&self) -> Result<usize> {
        let expired = self.store.expire_exports(self.clock.now() - AVAILABLE_FOR).await?;
        if expired > 0 {
            tracing::info!(expired, "exports expired and their files deleted");
        }
        let mut finished = 0;
        loop {
            let now = self.clock.now();
            let Some((export, token)) = self.store.claim_export(now, now + LEASE).await? else {
                return Ok(finished);
            };
            let outcome = match self.produce(&export, &token).await {
                Ok(Produced::Done(outcome)) => outcome,
                Ok(Produced::LeaseLost) => continue,
                // What the export names no longer exists, or its filters no longer hold.
                Err(error @ (Error::NotFound(_) | Error::Invalid { .. })) => Finished::Failed(error.to_string()),
                // Anything else may pass: the lease lapses and the export is tried again.
                Err(error) => return Err(error),
            };
            if let Finished::Failed(why) = &outcome {
                tracing::warn!(export = %export.id, why, "an export failed");
            }
            if self.store.finish_export(export.id, &token, &outcome, self.clock.now()).await? {
                finished += 1;
            }
        }
    }

    /// Writes the export's file piece by piece under its lease.
    async fn produce(&self, export: &Export, token: &str) -> Result<Produced> {
        let mut source = Source::new(self, export.team_id, export.kind, export.filters.clone()).await?;
        let mut buffer = Vec::with_capacity(CHUNK_BYTES + 64 * 1024);
        write_record(&mut buffer, header(export.kind));
        let (mut rows, mut bytes, mut seq) = (0u64, 0u64, 0u32);
        let mut renewed = Instant::now();
        loop {
            let page = source.next_page(self).await?;
            let last = page.is_empty();
            for row in &page {
                write_record(&mut buffer, row);
            }
            rows += page.len() as u64;
            if !buffer.is_empty() && (last || buffer.len() >= CHUNK_BYTES || renewed.elapsed() >= RENEW_EVERY) {
                let lease_until = self.clock.now() + LEASE;
                if !self.store.append_export_chunk(export.id, token, seq, &buffer, lease_until).await? {
                    return Ok(Produced::LeaseLost);
                }
                bytes += buffer.len() as u64;
                seq += 1;
                buffer.clear();
                renewed = Instant::now();
            }
            if last {
                return Ok(Produced::Done(Finished::Ready { rows, bytes }));
            }
        }
    }
}
