//! The program's key/value store kept in the forum database (`kv` table), inside the transaction of the event
//! being processed: the plugin's writes commit with the event or not at all.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rusqlite::{Connection, OptionalExtension, params};

use crate::runtime::kv::{BackendError, KvBackend};

/// The `kv` table as a [`KvBackend`]. Shares the pipeline's connection (and so its open transaction).
pub struct SqliteKv {
    conn: Rc<Connection>,
    /// The stored size (key + value bytes) of the keys read since the last `apply`: a call reads every key before
    /// writing it, so `apply` knows the size it replaces without asking the database again.
    read_sizes: RefCell<HashMap<String, i64>>,
}

impl SqliteKv {
    /// The store on this connection.
    pub fn new(conn: Rc<Connection>) -> SqliteKv {
        SqliteKv { conn, read_sizes: RefCell::new(HashMap::new()) }
    }
}

impl KvBackend for SqliteKv {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        let mut statement = self.conn.prepare_cached("SELECT value FROM kv WHERE key = ?1")?;
        let value: Option<Vec<u8>> = statement.query_row(params![key], |row| row.get(0)).optional()?;
        let size = value.as_ref().map_or(0, |v| (key.len() + v.len()) as i64);
        self.read_sizes.borrow_mut().insert(key.to_owned(), size);
        Ok(value)
    }

    fn total_bytes(&self) -> u64 {
        // The size is kept in the same transaction as the writes, so it is always exact.
        self.conn
            .prepare_cached("SELECT bytes FROM kv_size WHERE singleton = 1")
            .and_then(|mut statement| statement.query_row([], |row| row.get::<_, i64>(0)))
            .unwrap_or(0) as u64
    }

    fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), BackendError> {
        let mut delta: i64 = 0;
        let read_sizes = std::mem::take(&mut *self.read_sizes.borrow_mut());
        for (key, value) in writes {
            let old = match read_sizes.get(&key) {
                Some(size) => *size,
                None => self
                    .conn
                    .prepare_cached("SELECT length(value) FROM kv WHERE key = ?1")?
                    .query_row(params![key], |row| row.get::<_, i64>(0))
                    .optional()?
                    .map_or(0, |len| len + key.len() as i64),
            };
            delta -= old;
            match value {
                Some(value) => {
                    delta += (key.len() + value.len()) as i64;
                    self.conn
                        .prepare_cached(
                            "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                        )?
                        .execute(params![key, value])?;
                }
                None => {
                    self.conn.prepare_cached("DELETE FROM kv WHERE key = ?1")?.execute(params![key])?;
                }
            }
        }
        self.conn
            .prepare_cached("UPDATE kv_size SET bytes = bytes + ?1 WHERE singleton = 1")?
            .execute(params![delta])?;
        Ok(())
    }
}
