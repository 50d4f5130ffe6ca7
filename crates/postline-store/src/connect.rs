//! Opening the database: which backend a URL names, connection settings that
//! make SQLite durable and concurrent (WAL, `synchronous=FULL`, busy timeout), and
//! running migrations.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    Executor,
    any::{AnyPoolOptions, install_default_drivers},
    pool::PoolOptions,
};
use tokio::sync::{Mutex, MutexGuard, mpsc};

use crate::{StoreError, migrate, writer};

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Corrupt(format!(
                "unsupported database URL `{}`: use sqlite://PATH or postgres://…",
                url.split('@').next_back().unwrap_or(url)
            )))
        }
    }
}

/// A connected, migrated store.
#[derive(Clone)]
pub struct Db {
    pub(crate) pool: sqlx::AnyPool,
    pub(crate) backend: Backend,
    pub(crate) writer: mpsc::Sender<writer::AcceptJob>,
    /// SQLite allows one writer at a time and makes the others sleep and retry
    /// (`busy_timeout`), which shows up as long tail latencies. Taking this gate
    /// first queues writers in-process instead; PostgreSQL does not need it.
    pub(crate) write_gate: Option<Arc<Mutex<()>>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Db {
    /// Connects to `url` (creating a SQLite file if needed) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let options: PoolOptions<sqlx::Any> = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
                options
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; FULL makes each commit
                            // durable against power loss (group commit keeps that cheap).
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        migrate::run(&pool, backend).await?;
        let write_gate = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        let writer = writer::spawn(pool.clone(), write_gate.clone());
        Ok(Db { pool, backend, writer, write_gate })
    }

    /// Holds the SQLite write gate (see [`Db::write_gate`]) for one write.
    pub(crate) async fn write_turn(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool after in-flight work finishes.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Backend {
    /// The backend behind an open connection (a transaction derefs to one).
    pub(crate) fn of_connection(connection: &sqlx::AnyConnection) -> Self {
        match connection.backend_name() {
            "SQLite" => Backend::Sqlite,
            _ => Backend::Postgres,
        }
    }
}

impl FromStr for Backend {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Backend::of_url(s)
    }
}
