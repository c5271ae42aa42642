//! Checkpoints of the write-ahead log on a thread of their own, off the path of the writer's commits.
//!
//! Why: in WAL mode SQLite copies the log back into the database file (a checkpoint, with its `fsync`s) inside the
//! commit that takes the log past 1,000 pages. On a live forum that was one like in about 44: its request waited
//! 6–10 ms while every other like took under a millisecond, which made the whole p99 (`cadre bench live`). In a
//! replay the same work ran on the replaying thread (≈ 7 % of its time). Here a second connection checkpoints
//! every [`INTERVAL`] in `PASSIVE` mode — it never waits for the writer or the readers, and they never wait for
//! it — so the commit only appends to the log, and on a machine with two cores the copy runs beside it.
//!
//! The writer keeps a safety net: it still checkpoints itself when the log passes [`WRITER_FALLBACK_PAGES`] (the
//! thread fell behind, or a reader held an old snapshot for long), so the log stays bounded whatever happens.
//! Durability is unchanged: a commit is in the log before it returns either way.
//!
//! Owns: the checkpointing thread and the writer's threshold. Does not own: when a forum uses it (`Forum`).

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::DbError;

/// How often the thread checkpoints (a checkpoint with nothing to copy costs a read of the log's header).
pub const INTERVAL: Duration = Duration::from_millis(100);

/// The log's size, in pages, past which the writer checkpoints in its own commit after all (SQLite's default
/// threshold is 1,000; ten times that is ≈ 40 MiB of log).
pub const WRITER_FALLBACK_PAGES: i64 = 10_000;

/// The running checkpointer; dropping it stops the thread (after its current checkpoint) and waits for it.
#[derive(Debug)]
pub struct BackgroundCheckpoints {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundCheckpoints {
    /// Checkpoint `writer`'s database on a thread with its own connection, and raise `writer`'s own threshold to
    /// [`WRITER_FALLBACK_PAGES`]. `None` for a database without a file (in memory), which has no log.
    pub fn start(writer: &Connection) -> Result<Option<BackgroundCheckpoints>, DbError> {
        let Some(path) = writer.path().filter(|path| !path.is_empty()).map(str::to_owned) else {
            return Ok(None);
        };
        let sqlite = |source| DbError::Sqlite { path: path.clone(), source };
        let journal: String = writer.pragma_query_value(None, "journal_mode", |row| row.get(0)).map_err(sqlite)?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Ok(None);
        }
        let conn = Connection::open(&path).map_err(sqlite)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sqlite)?;
        writer.pragma_update(None, "wal_autocheckpoint", WRITER_FALLBACK_PAGES).map_err(sqlite)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cadre-checkpoints".into())
            .spawn(move || {
                // Said once per distinct failure, not ten times a second (a full disk lasts).
                let mut last_failure: Option<String> = None;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    match checkpoint(&conn) {
                        Ok(_) => last_failure = None,
                        Err(error) => {
                            let text = error.to_string();
                            if last_failure.as_deref() != Some(text.as_str()) {
                                // The writer's own threshold still bounds the log; say why this one did not.
                                tracing::warn!(error = %text, "background checkpoint of the forum's write-ahead log failed");
                                last_failure = Some(text);
                            }
                        }
                    }
                }
            })
            .map_err(|source| DbError::Thread { path: path.clone(), source })?;
        Ok(Some(BackgroundCheckpoints { stop: Some(stop), thread: Some(thread) }))
    }
}

/// One `PASSIVE` checkpoint: copies what no reader still needs, waits for no one; (frames in the log, frames copied).
pub fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get(1)?, row.get(2)?)))
}

impl Drop for BackgroundCheckpoints {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_frames(conn: &Connection) -> i64 {
        // A PASSIVE checkpoint that copies nothing new reports the frames in the log.
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get::<_, i64>(1)).unwrap()
    }

    #[test]
    fn the_thread_copies_the_log_back_so_the_writers_commits_never_have_to() {
        let dir = tempfile::tempdir().unwrap();
        let writer = crate::db::open(&dir.path().join("forum.db")).unwrap();
        let checkpoints = BackgroundCheckpoints::start(&writer).unwrap().expect("a file database has a log");
        let threshold: i64 = writer.pragma_query_value(None, "wal_autocheckpoint", |r| r.get(0)).unwrap();
        assert_eq!(threshold, WRITER_FALLBACK_PAGES);
        writer.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        // 1,500 pages of log, more than SQLite's own threshold of 1,000, fewer than the writer's fallback.
        for _ in 0..1_500 {
            writer.execute("INSERT INTO t VALUES (zeroblob(3000))", []).unwrap();
        }
        // The database file grows only by checkpoints: wait (bounded) for the thread's.
        let file = dir.path().join("forum.db");
        let started = std::time::Instant::now();
        while std::fs::metadata(&file).unwrap().len() < 1_500 * 3_000 {
            assert!(started.elapsed() < Duration::from_secs(30), "the thread never copied the log back");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(checkpoints);
        // Stopped: nothing copies any more, and the log keeps what the writer adds.
        let size = std::fs::metadata(&file).unwrap().len();
        writer.execute("INSERT INTO t VALUES (zeroblob(3000))", []).unwrap();
        std::thread::sleep(INTERVAL * 3);
        assert_eq!(std::fs::metadata(&file).unwrap().len(), size);
        assert!(log_frames(&writer) > 0);
    }

    #[test]
    fn a_database_in_memory_has_no_log_to_checkpoint() {
        let conn = crate::db::open_in_memory().unwrap();
        assert!(BackgroundCheckpoints::start(&conn).unwrap().is_none());
    }
}
