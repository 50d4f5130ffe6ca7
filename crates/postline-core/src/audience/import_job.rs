//! The contact-import use cases: accept a file (checked up front, so a wrong column
//! map is a `400` rather than a failed import) — at once, or as the dashboard does,
//! uploaded as a draft and queued once its mapping is chosen — and the background job that works
//! through queued imports batch by batch (see [`super::imports`] for the design).

use std::{io::Read, sync::Arc};

use serde_json::{Map, Value};

use super::{
    PropertyType,
    imports::{
        BATCH_ROWS, ContactImport, DRAFT_LIFETIME, ImportCounts, ImportOptions, ImportRow, ImportStatus,
        MAX_ERRORS_KEPT, MAX_FILE_BYTES, PREVIEW_ROWS, RowError, layout, parse_options, read_row,
    },
};
use crate::{
    Error, Postline, Result,
    ids::{ContactImportId, TeamId},
    pagination::{Page, PageRequest},
    store::{ImportBatch, Store},
};

/// How long a worker holds an import between batches before another may take over.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// Reads an import's file piece by piece from the store, from a blocking thread.
struct ChunkReader {
    store: Arc<dyn Store>,
    runtime: tokio::runtime::Handle,
    id: ContactImportId,
    next: u32,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.chunk.len() {
            let fetched =
                self.runtime.block_on(self.store.import_chunk(self.id, self.next)).map_err(std::io::Error::other)?;
            match fetched {
                None => return Ok(0),
                Some(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                    self.next += 1;
                }
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn csv_reader(source: impl Read) -> csv::Reader<impl Read> {
    csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).has_headers(true).from_reader(source)
}

fn header_of(reader: &mut csv::Reader<impl Read>) -> Result<Vec<String>> {
    let header = reader.headers().map_err(|e| Error::value(format!("The file is not readable CSV: {e}.")))?;
    let header: Vec<String> = header.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    if header.iter().all(String::is_empty) {
        return Err(Error::value("The file has no header row."));
    }
    Ok(header)
}

fn check_file(file: &[u8]) -> Result<()> {
    if file.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::value("The `file` is empty."));
    }
    if file.len() > MAX_FILE_BYTES {
        return Err(Error::value(format!("The `file` is larger than {} MB.", MAX_FILE_BYTES / 1024 / 1024)));
    }
    Ok(())
}

/// An uploaded file waiting for its mapping, with what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportDraft {
    pub import: ContactImport,
    /// The header row's column names.
    pub header: Vec<String>,
    /// The first data rows ([`PREVIEW_ROWS`] at most), cells as written.
    pub rows: Vec<Vec<String>>,
}

impl Postline {
    /// The options of an import, checked against the team and the file's header (a
    /// file without a readable header is reported after the options).
    async fn checked_options(
        &self,
        team_id: TeamId,
        fields: &Map<String, Value>,
        header: Result<Vec<String>>,
    ) -> Result<ImportOptions> {
        let options = parse_options(fields)?;
        for id in &options.segments {
            self.get_segment(team_id, *id).await?;
        }
        for (id, _) in &options.topics {
            self.get_topic(team_id, *id).await?;
        }
        layout(&header?, options.columns.as_ref(), &self.defined_properties(team_id).await?)?;
        Ok(options)
    }

    fn new_import(&self, team_id: TeamId, status: ImportStatus, options: ImportOptions, file: &[u8]) -> ContactImport {
        ContactImport {
            id: ContactImportId::new(),
            team_id,
            status,
            options,
            counts: ImportCounts::default(),
            rows_done: 0,
            file_bytes: file.len() as u64,
            failure: None,
            created_at: self.clock.now(),
            completed_at: None,
        }
    }

    async fn defined_properties(&self, team_id: TeamId) -> Result<Vec<(String, PropertyType)>> {
        Ok(self.store.contact_properties(team_id).await?.into_iter().map(|p| (p.key, p.property_type)).collect())
    }

    /// Accepts a CSV file with the multipart form's other fields (`column_map`,
    /// `on_conflict`, `segments`, `topics`) and queues its import.
    pub async fn create_contact_import(
        &self,
        team_id: TeamId,
        file: &[u8],
        fields: &Map<String, Value>,
    ) -> Result<ContactImport> {
        check_file(file)?;
        let options = self.checked_options(team_id, fields, header_of(&mut csv_reader(file))).await?;
        let import = self.new_import(team_id, ImportStatus::Queued, options, file);
        self.store.insert_contact_import(&import, &Value::Object(fields.clone()), file).await?;
        self.import_wake.notify_one();
        Ok(import)
    }

    /// The dashboard's first step: keeps a CSV file as a draft import until its
    /// column mapping is chosen ([`Postline::start_contact_import`]). Drafts older
    /// than [`DRAFT_LIFETIME`] are deleted on the way.
    pub async fn upload_contact_import(&self, team_id: TeamId, file: &[u8]) -> Result<ContactImport> {
        check_file(file)?;
        header_of(&mut csv_reader(file))?;
        self.store.delete_import_drafts(self.clock.now() - DRAFT_LIFETIME).await?;
        let options = parse_options(&Map::new())?;
        let import = self.new_import(team_id, ImportStatus::Draft, options, file);
        self.store.insert_contact_import(&import, &Value::Object(Map::new()), file).await?;
        Ok(import)
    }

    /// A draft's header and first data rows, to choose its mapping by.
    pub async fn contact_import_draft(&self, team_id: TeamId, id: ContactImportId) -> Result<ImportDraft> {
        let import = self.store.get_contact_import(team_id, id).await?.ok_or(Error::NotFound("Contact import"))?;
        if import.status != ImportStatus::Draft {
            return Err(Error::Conflict("This import has already started.".into()));
        }
        let first = self.store.import_chunk(id, 0).await?.unwrap_or_default();
        let mut reader = csv_reader(first.as_slice());
        let header = header_of(&mut reader)?;
        // The first piece may end inside a row: only rows read whole are shown.
        let rows = reader
            .records()
            .take(PREVIEW_ROWS)
            .map_while(|record| record.ok())
            .map(|record| record.iter().map(str::to_string).collect())
            .collect();
        Ok(ImportDraft { import, header, rows })
    }

    /// Queues a draft with its mapping, segments and topics (the same fields, and the
    /// same checks, as [`Postline::create_contact_import`]).
    pub async fn start_contact_import(
        &self,
        team_id: TeamId,
        id: ContactImportId,
        fields: &Map<String, Value>,
    ) -> Result<ContactImport> {
        let draft = self.contact_import_draft(team_id, id).await?;
        let options = self.checked_options(team_id, fields, Ok(draft.header.clone())).await?;
        if !self.store.start_contact_import(team_id, id, &Value::Object(fields.clone())).await? {
            return Err(Error::Conflict("This import has already started.".into()));
        }
        self.import_wake.notify_one();
        Ok(ContactImport { status: ImportStatus::Queued, options, ..draft.import })
    }

    /// An import with its first row errors.
    pub async fn get_contact_import(
        &self,
        team_id: TeamId,
        id: ContactImportId,
    ) -> Result<(ContactImport, Vec<RowError>)> {
        let import = self
            .store
            .get_contact_import(team_id, id)
            .await?
            .filter(|i| i.status != ImportStatus::Draft)
            .ok_or(Error::NotFound("Contact import"))?;
        let errors = self.store.import_errors(id, 100).await?;
        Ok((import, errors))
    }

    pub async fn list_contact_imports(
        &self,
        team_id: TeamId,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<ContactImport>> {
        let status = status
            .map(|raw| {
                ImportStatus::parse(raw).filter(|s| *s != ImportStatus::Draft).ok_or_else(|| {
                    Error::parameter(format!(
                        "The `status` must be `queued`, `in_progress`, `completed` or `failed`, not `{raw}`."
                    ))
                })
            })
            .transpose()?;
        self.store.list_contact_imports(team_id, status, &page).await
    }

    /// What an idle import worker waits on (a new import was accepted).
    pub fn import_wake(&self) -> Arc<tokio::sync::Notify> {
        self.import_wake.clone()
    }

    /// Works through imports until none is waiting; returns how many it finished.
    /// `progress` hears each import's counts after every batch and answers whether to
    /// go on: `false` (shutting down) stops between batches, and the import resumes
    /// from its last batch once its lease lapses.
    pub async fn run_contact_imports(
        &self,
        progress: &(dyn Fn(&ContactImport) -> bool + Send + Sync),
    ) -> Result<usize> {
        let mut finished = 0;
        loop {
            let now = self.clock.now();
            let Some((import, token)) = self.store.claim_contact_import(now, now + LEASE).await? else {
                return Ok(finished);
            };
            let id = import.id;
            match self.run_import(import, &token, progress).await {
                Ok(Run::Finished) => finished += 1,
                Ok(Run::Stopped) => return Ok(finished),
                Ok(Run::LeaseLost) => {
                    tracing::warn!(import = %id, "lost the lease on a contact import; another worker goes on")
                }
                Err(error) => {
                    tracing::warn!(import = %id, %error, "contact import failed");
                    let message = error.to_string();
                    let at = self.clock.now();
                    self.store.finish_contact_import(id, &token, ImportStatus::Failed, Some(&message), at).await?;
                    finished += 1;
                }
            }
        }
    }

    /// One import from where it stands to the end.
    async fn run_import(
        &self,
        mut import: ContactImport,
        token: &str,
        progress: &(dyn Fn(&ContactImport) -> bool + Send + Sync),
    ) -> Result<Run> {
        let defined = self.defined_properties(import.team_id).await?;
        let (batches, mut receiver) = tokio::sync::mpsc::channel::<Parsed>(2);
        let reader = ChunkReader {
            store: self.store.clone(),
            runtime: tokio::runtime::Handle::current(),
            id: import.id,
            next: 0,
            chunk: Vec::new(),
            at: 0,
        };
        // Reading and parsing the CSV is blocking work over the store: it runs on its
        // own thread and hands over batches of checked rows, at most two ahead of the
        // writer. A file that stops being readable ends the import there.
        let columns = import.options.columns.clone();
        let skip = import.rows_done;
        let parsing = tokio::task::spawn_blocking(move || -> Result<()> {
            let mut csv = csv_reader(reader);
            let header = header_of(&mut csv)?;
            let layout = layout(&header, columns.as_ref(), &defined)?;
            let mut parsed = Parsed::default();
            let mut row = 0u64;
            for record in csv.records() {
                row += 1;
                let record = record.map_err(|e| Error::value(format!("row {row} is not readable CSV: {e}")))?;
                if row <= skip {
                    continue;
                }
                let cells: Vec<String> = record.iter().map(str::to_string).collect();
                match read_row(row, &cells, &layout) {
                    Ok(valid) => parsed.rows.push(valid),
                    Err(error) => parsed.errors.push(error),
                }
                parsed.last_row = row;
                if parsed.rows.len() + parsed.errors.len() == BATCH_ROWS
                    && batches.blocking_send(std::mem::take(&mut parsed)).is_err()
                {
                    return Ok(());
                }
            }
            if parsed.last_row > 0 {
                let _ = batches.blocking_send(parsed);
            }
            Ok(())
        });
        while let Some(Parsed { rows, errors, last_row }) = receiver.recv().await {
            let now = self.clock.now();
            let kept_so_far = import.counts.failed as usize;
            let batch = ImportBatch {
                import: &import,
                lease_token: token,
                lease_until: now + LEASE,
                keep_errors: MAX_ERRORS_KEPT.saturating_sub(kept_so_far),
                rows,
                errors,
                rows_done: last_row,
                at: now,
            };
            let Some(counts) = self.store.write_import_batch(&batch).await? else { return Ok(Run::LeaseLost) };
            import.counts = counts;
            import.rows_done = last_row;
            import.status = ImportStatus::InProgress;
            if !progress(&import) {
                return Ok(Run::Stopped);
            }
        }
        parsing.await.map_err(|e| Error::Internal(format!("the CSV reader stopped: {e}")))??;
        let at = self.clock.now();
        if !self.store.finish_contact_import(import.id, token, ImportStatus::Completed, None, at).await? {
            return Ok(Run::LeaseLost);
        }
        import.status = ImportStatus::Completed;
        import.completed_at = Some(at);
        progress(&import);
        Ok(Run::Finished)
    }
}

/// A batch of rows read from the file, ready to write.
#[derive(Default)]
struct Parsed {
    rows: Vec<ImportRow>,
    errors: Vec<RowError>,
    /// The number of the batch's last data row.
    last_row: u64,
}

/// How a run of one import ended.
enum Run {
    Finished,
    /// Asked to stop between batches.
    Stopped,
    /// Another worker took the import over.
    LeaseLost,
}
