//! Reusing SMTP connections per destination, and bounding how many are open to
//! each destination at once.
//!
//! A connection goes back to the pool after a transaction that left it usable,
//! and is reset (`RSET`) when taken out again, which also proves it is still alive.
//! Idle connections are dropped after the idle timeout.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::session::Connection;

/// Pooled connections and per-destination limits.
pub struct Pool {
    idle: Mutex<HashMap<SocketAddr, Vec<(Connection, Instant)>>>,
    limits: Mutex<HashMap<SocketAddr, Arc<Semaphore>>>,
    per_destination: usize,
    idle_timeout: Duration,
    opened: AtomicU64,
}

impl Pool {
    /// An empty pool.
    pub fn new(per_destination: usize, idle_timeout: Duration) -> Self {
        Pool {
            idle: Mutex::new(HashMap::new()),
            limits: Mutex::new(HashMap::new()),
            per_destination: per_destination.max(1),
            idle_timeout,
            opened: AtomicU64::new(0),
        }
    }

    /// Waits for a slot at `address` (at most `per_destination` at once).
    pub async fn slot(&self, address: SocketAddr) -> OwnedSemaphorePermit {
        let semaphore = {
            let mut limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
            limits.entry(address).or_insert_with(|| Arc::new(Semaphore::new(self.per_destination))).clone()
        };
        semaphore.acquire_owned().await.expect("pool semaphores are never closed")
    }

    /// An idle connection to `address`, if one is fresh enough.
    pub fn take(&self, address: SocketAddr) -> Option<Connection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(&address)?;
        while let Some((connection, since)) = list.pop() {
            if since.elapsed() < self.idle_timeout {
                return Some(connection);
            }
        }
        None
    }

    /// Returns a usable connection to the pool.
    pub fn put(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(connection.address).or_default();
        list.retain(|(_, since)| since.elapsed() < self.idle_timeout);
        if list.len() < self.per_destination {
            list.push((connection, Instant::now()));
        }
    }

    /// Notes that a new connection was opened (for metrics and tests).
    pub fn note_opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    /// How many connections were opened so far.
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }
}
