//! API request logs: every authenticated API request — method, path (never the
//! query string, which may carry secrets), status, key, user agent, duration, time —
//! kept for [`RETENTION`] and shown on the dashboard's Logs page.
//!
//! Accepting email runs at thousands of requests per second (docs/PERFORMANCE.md),
//! so a request never waits for its log line: the middleware hands the entry to a
//! bounded in-memory buffer ([`RequestLogger::record`], never blocking) and one
//! background task per process ([`RequestLogWriter::run`]) writes what gathered in
//! multi-row statements, one transaction per batch. When the buffer is full the entry
//! is dropped and counted in a warning: logs are observability, not accepted mail,
//! and the accept path must not slow down to keep them. The same task deletes logs
//! older than the retention window.
//!
//! Each key's request count is a counter on the key, raised in the transaction that
//! writes its log rows: reading it is one row per key whatever the traffic (counting
//! 30 days of rows at thousands per second would scan millions), and it is the "total
//! number of requests" the reference shows, while the Logs page lists the last 30 days.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration as StdDuration,
};

use async_trait::async_trait;
use chrono::Duration;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    Error, Postline, Result,
    clock::Timestamp,
    ids::{ApiKeyId, TeamId},
    pagination::{Page, PageRequest},
};

/// How long request logs are kept.
pub const RETENTION: Duration = Duration::days(30);
/// Entries the buffer holds before new ones are dropped: several seconds of the
/// fastest accept rate measured, so only a stalled database loses any.
pub const BUFFER: usize = 50_000;
/// Most entries written in one transaction.
pub const BATCH: usize = 1_024;
/// How long the writer gathers entries after the first of a batch, so moderate
/// traffic costs a few transactions a second rather than one per request.
const GATHER: StdDuration = StdDuration::from_millis(200);
/// How often old logs are deleted.
const PURGE_EVERY: StdDuration = StdDuration::from_secs(3600);
/// Longest path and user agent kept.
const MAX_PATH: usize = 512;
const MAX_AGENT: usize = 300;

/// One API request as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    /// UUIDv7, so logs list by id in time order.
    pub id: Uuid,
    pub team_id: TeamId,
    pub api_key_id: ApiKeyId,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub user_agent: Option<String>,
    pub duration_ms: u32,
    pub created_at: Timestamp,
}

impl RequestLog {
    /// An entry, with path and user agent bounded (the path must come without its
    /// query string).
    #[expect(clippy::too_many_arguments, reason = "one value per logged column")]
    pub fn new(
        team_id: TeamId,
        api_key_id: ApiKeyId,
        method: &str,
        path: &str,
        status: u16,
        user_agent: Option<&str>,
        duration: StdDuration,
        created_at: Timestamp,
    ) -> Self {
        let bounded = |text: &str, most: usize| text.chars().take(most).collect::<String>();
        RequestLog {
            id: Uuid::now_v7(),
            team_id,
            api_key_id,
            method: bounded(method, 16),
            path: bounded(path.split('?').next().unwrap_or_default(), MAX_PATH),
            status,
            user_agent: user_agent.map(|a| bounded(a, MAX_AGENT)).filter(|a| !a.is_empty()),
            duration_ms: u32::try_from(duration.as_millis()).unwrap_or(u32::MAX),
            created_at,
        }
    }
}

/// A class of status codes, as the Logs page filters them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Success,
    ClientError,
    ServerError,
}

impl StatusClass {
    pub const ALL: [StatusClass; 3] = [StatusClass::Success, StatusClass::ClientError, StatusClass::ServerError];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Success => "2xx",
            StatusClass::ClientError => "4xx",
            StatusClass::ServerError => "5xx",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// The codes of the class, `lowest..=highest`.
    pub fn range(self) -> (u16, u16) {
        match self {
            StatusClass::Success => (200, 299),
            StatusClass::ClientError => (400, 499),
            StatusClass::ServerError => (500, 599),
        }
    }
}

/// The methods the API answers, the only ones a filter may name.
pub const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "PUT", "DELETE"];

/// The Logs page's filters; `None` leaves a dimension open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub key: Option<ApiKeyId>,
    pub status: Option<StatusClass>,
    /// One of [`METHODS`].
    pub method: Option<String>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Before.
    pub until: Option<Timestamp>,
}

/// Request logs in the store.
#[async_trait]
pub trait RequestLogStore {
    /// Writes the entries and raises each key's request count, in one transaction.
    async fn insert_request_logs(&self, logs: &[RequestLog]) -> Result<()>;
    /// The team's logs matching the filter, newest first.
    async fn search_request_logs(
        &self,
        team_id: TeamId,
        filter: &LogFilter,
        page: &PageRequest,
    ) -> Result<Page<RequestLog>>;
    async fn get_request_log(&self, team_id: TeamId, id: Uuid) -> Result<Option<RequestLog>>;
    /// Every key of the team that has served a request, with how many.
    async fn request_counts(&self, team_id: TeamId) -> Result<Vec<(ApiKeyId, u64)>>;
    /// Deletes logs created before `before`; how many.
    async fn delete_request_logs(&self, before: Timestamp) -> Result<u64>;
}

enum Message {
    Entry(RequestLog),
    /// Write everything received so far, then answer.
    Flush(oneshot::Sender<()>),
}

/// The recording end of the buffer, held by the API's middleware.
#[derive(Clone)]
pub struct RequestLogger {
    sender: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

/// The writing end: one background task per process.
pub struct RequestLogWriter {
    receiver: mpsc::Receiver<Message>,
    dropped: Arc<AtomicU64>,
}

/// A buffer of `capacity` entries and its two ends.
pub fn channel(capacity: usize) -> (RequestLogger, RequestLogWriter) {
    let (sender, receiver) = mpsc::channel(capacity);
    let dropped = Arc::new(AtomicU64::new(0));
    (RequestLogger { sender, dropped: dropped.clone() }, RequestLogWriter { receiver, dropped })
}

impl RequestLogger {
    /// Buffers an entry without waiting; a full buffer drops it (counted).
    pub fn record(&self, entry: RequestLog) {
        if self.sender.try_send(Message::Entry(entry)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every entry recorded before this call is written (tests and
    /// shutdown; requests never call it).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// Entries dropped since the writer last reported them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl RequestLogWriter {
    /// Writes buffered entries in batches and purges old logs hourly, until every
    /// [`RequestLogger`] is gone (then writes what is left and returns).
    pub async fn run(mut self, postline: Postline) {
        let mut purge = tokio::time::interval(PURGE_EVERY);
        loop {
            let first = tokio::select! {
                message = self.receiver.recv() => message,
                _ = purge.tick() => {
                    match postline.delete_expired_request_logs().await {
                        Ok(0) => {}
                        Ok(deleted) => tracing::info!(deleted, "deleted request logs past their retention"),
                        Err(error) => tracing::warn!(%error, "could not delete old request logs"),
                    }
                    continue;
                }
            };
            let Some(first) = first else { return };
            let (batch, flushes) = self.gather(first).await;
            self.write(&postline, batch).await;
            for done in flushes {
                let _ = done.send(());
            }
        }
    }

    /// The batch starting with `first`: what arrives within [`GATHER`], up to
    /// [`BATCH`] entries, cut short by a flush request.
    async fn gather(&mut self, first: Message) -> (Vec<RequestLog>, Vec<oneshot::Sender<()>>) {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let deadline = tokio::time::Instant::now() + GATHER;
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Entry(entry) => batch.push(entry),
                Message::Flush(done) => {
                    flushes.push(done);
                    break;
                }
            }
            if batch.len() >= BATCH {
                break;
            }
            next = match self.receiver.try_recv() {
                Ok(message) => Some(message),
                Err(_) => tokio::time::timeout_at(deadline, self.receiver.recv()).await.ok().flatten(),
            };
        }
        (batch, flushes)
    }

    async fn write(&self, postline: &Postline, batch: Vec<RequestLog>) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(dropped, "the request log buffer was full; entries were dropped");
        }
        if batch.is_empty() {
            return;
        }
        if let Err(error) = postline.store.insert_request_logs(&batch).await {
            tracing::warn!(%error, entries = batch.len(), "could not write request logs; they are lost");
        }
    }
}

impl Postline {
    /// The team's request logs matching `filter`, newest first.
    pub async fn search_request_logs(
        &self,
        team_id: TeamId,
        filter: &LogFilter,
        page: PageRequest,
    ) -> Result<Page<RequestLog>> {
        if let Some(method) = &filter.method
            && !METHODS.contains(&method.as_str())
        {
            return Err(Error::value(format!("The `method` must be one of {}.", METHODS.join(", "))));
        }
        self.store.search_request_logs(team_id, filter, &page).await
    }

    /// One request log of the team, by the id in a page's path.
    pub async fn request_log(&self, team_id: TeamId, id: &str) -> Result<RequestLog> {
        let id = Uuid::parse_str(id.trim()).map_err(|_| Error::NotFound("Request log"))?;
        self.store.get_request_log(team_id, id).await?.ok_or(Error::NotFound("Request log"))
    }

    /// How many requests each of the team's keys has served.
    pub async fn request_counts(&self, team_id: TeamId) -> Result<HashMap<ApiKeyId, u64>> {
        Ok(self.store.request_counts(team_id).await?.into_iter().collect())
    }

    /// Deletes logs older than [`RETENTION`]; how many.
    pub async fn delete_expired_request_logs(&self) -> Result<u64> {
        self.store.delete_request_logs(self.clock.now() - RETENTION).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> RequestLog {
        RequestLog::new(
            TeamId::new(),
            ApiKeyId::new(),
            "POST",
            path,
            200,
            Some(""),
            StdDuration::from_micros(2_500),
            Timestamp::default(),
        )
    }

    #[test]
    fn entries_keep_no_query_string_and_bounded_text() {
        let logged = entry("/emails?token=secret");
        assert_eq!(logged.path, "/emails");
        assert_eq!(logged.user_agent, None, "an empty agent is none");
        assert_eq!(logged.duration_ms, 2);
        assert_eq!(entry(&"/a".repeat(1000)).path.len(), MAX_PATH);
    }

    #[test]
    fn status_classes_read_as_the_page_names_them() {
        for class in StatusClass::ALL {
            assert_eq!(StatusClass::parse(class.as_str()), Some(class));
        }
        assert_eq!(StatusClass::parse("3xx"), None);
        assert_eq!(StatusClass::ClientError.range(), (400, 499));
    }

    #[tokio::test]
    async fn a_full_buffer_drops_and_counts_instead_of_waiting() {
        let (logger, mut writer) = channel(2);
        for _ in 0..5 {
            logger.record(entry("/emails"));
        }
        assert_eq!(logger.dropped(), 3);
        let first = writer.receiver.recv().await.unwrap();
        let (batch, flushes) = writer.gather(first).await;
        assert_eq!((batch.len(), flushes.len()), (2, 0), "what fitted is gathered in one batch");
    }
}
