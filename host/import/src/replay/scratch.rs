//! The replay's scratch database: a private SQLite database on disk, for what the replay must look up at random
//! while it streams a dump too large to index in memory (the post index past its bound, the users' reputation).
//!
//! It is SQLite's own temporary database (opened with an empty file name): the file is created in the temporary
//! folder (`SQLITE_TMPDIR` or `TMPDIR`), deleted when the connection closes, and never touches the forum's
//! database. Nothing in it needs to survive a crash — a replay that stops reads the dump again — so there is no
//! journal, no sync, and one transaction stays open for the scratch's whole life (commits would only write pages
//! early). Its memory is SQLite's page cache, bounded by the `cache_kib` it is opened with; past that, pages go to
//! the file.
//!
//! Owns the connection and its settings only; the tables are their users' ([`super::post_index`], `super::mod`).

use rusqlite::Connection;

/// A scratch database (see the module header).
#[derive(Debug)]
pub struct Scratch {
    conn: Connection,
}

impl Scratch {
    /// A new, empty scratch database whose page cache holds at most `cache_kib` KiB, with `schema` run in it.
    pub fn open(cache_kib: u32, schema: &str) -> rusqlite::Result<Scratch> {
        let conn = Connection::open("")?;
        conn.pragma_update(None, "journal_mode", "OFF")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        // Negative: a size in KiB rather than pages.
        conn.pragma_update(None, "cache_size", -i64::from(cache_kib))?;
        conn.pragma_update(None, "temp_store", "FILE")?;
        conn.execute_batch(schema)?;
        conn.execute_batch("BEGIN")?;
        Ok(Scratch { conn })
    }

    /// The connection (inside the scratch's one open transaction).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_larger_than_its_cache_keeps_every_row_and_its_memory_stays_at_the_cache() {
        let scratch = Scratch::open(256, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
        let conn = scratch.conn();
        // 4 MiB of rows through a 256 KiB cache: SQLite writes the pages it cannot keep to the scratch file.
        for id in 0..4_096i64 {
            conn.prepare_cached("INSERT INTO t (id, v) VALUES (?1, zeroblob(1024))").unwrap().execute([id]).unwrap();
        }
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(count, 4_096);
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        assert!(pages * page_size > 4 << 20, "the rows are in the file: {pages} pages of {page_size}");
        let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
        assert_eq!(cache, -256, "the page cache is bounded at 256 KiB");
    }
}
