//! Read-only connections for the member pages, so reads never wait behind writes.
//!
//! The forum thread (`forum_thread`) is the one writer: every event goes through it, in order, exactly once. Pages
//! only read, and SQLite in WAL mode lets any number of readers see the last committed state while the writer
//! works; so member reads (pages, API reads, the session lookup) run on the blocking pool over read-only
//! connections to the same file, taken from a small pool. A forum without a file (in memory) has no second
//! connection to open: its reads go to the forum thread as before.
//!
//! Owns the pool only. What a read may show is `forum::read` and `visibility`.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::error::WebError;

/// Idle read connections kept for the next request (more are opened under load, and closed when returned past
/// this many).
const IDLE: usize = 8;

/// The read-only connections to the forum's database file.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Readers of the database file at `path` (the one the forum thread writes).
    pub fn new(path: PathBuf) -> Readers {
        Readers { path, idle: Mutex::new(Vec::new()) }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        // A reader waits only for a checkpoint or recovery, never for a writer's transaction (WAL).
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }

    /// Run `read` on a read-only connection (on the blocking pool). It sees every write committed before it starts.
    pub async fn run<R: Send + 'static>(
        self: &std::sync::Arc<Self>,
        read: impl FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, WebError> {
        let readers = self.clone();
        let result = tokio::task::spawn_blocking(move || -> rusqlite::Result<R> {
            let conn = match readers.idle.lock().map(|mut idle| idle.pop()) {
                Ok(Some(conn)) => conn,
                _ => readers.open()?,
            };
            let result = read(&conn);
            if let Ok(mut idle) = readers.idle.lock()
                && idle.len() < IDLE
            {
                idle.push(conn);
            }
            result
        })
        .await
        // The read panicked: its request fails, the pool goes on.
        .map_err(|error| WebError::Internal(format!("a read failed: {error}")))?;
        Ok(result?)
    }
}
