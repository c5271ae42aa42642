//! The program's key/value store, kept in the forum database (`kv` table) behind a write-back cache.
//!
//! Why a cache: a hook reads and writes a handful of keys, and reading and upserting each one in SQLite was most
//! of what an event cost. Now a call's writes land in memory (marked dirty) and the pipeline flushes them, in the
//! same transaction, right before it commits: the table only ever holds committed state, so a crash loses nothing
//! that was committed and keeps nothing that was not. Undo follows the transaction: [`KvCache::mark`] and
//! [`KvCache::rollback_to`] mirror an event's savepoint inside a batch, [`KvCache::discard`] a whole rollback.
//!
//! Memory is bounded: after a flush, when more than [`CAPACITY`] keys are cached (all of them clean then), the
//! keys not used since the previous flush are dropped (members active in this batch stay warm), and if that is
//! not enough, all of them. Reads outside any transaction (which never flush) evict the same way as they go.
//!
//! Another process may write the same table (`cadre ingest` or `cadre program apply` while `cadre serve` runs):
//! [`KvCache::revalidate`], called when a transaction begins and before any read outside one, empties the cache
//! whenever SQLite's `data_version` says another connection committed since.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rusqlite::{Connection, OptionalExtension, params};

use cadre_runtime::store::{BackendError, KvBackend};

/// Keys kept in memory at most between flushes' evictions (the bundled program's values are 8 to 210 bytes, so
/// this is about 20 MiB).
pub const CAPACITY: usize = 100_000;

/// One cached key: its value (`None`: absent from the table) and whether it differs from the table.
#[derive(Debug, Clone)]
struct Cached {
    value: Option<Vec<u8>>,
    dirty: bool,
    /// The flush generation in which it was last read or written (for eviction).
    used: u32,
}

impl Cached {
    fn size(&self, key: &str) -> i64 {
        self.value.as_ref().map_or(0, |value| (key.len() + value.len()) as i64)
    }
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<String, Cached>,
    /// Keys written since the last flush (a key may be listed twice, or be clean again after an undo).
    dirty: Vec<String>,
    /// What each staged write replaced (`None`: the key was not cached), newest last, since the last mark.
    undo: Vec<(String, Option<Cached>)>,
    /// The store's size in bytes (keys + values) including staged writes; `None` until first needed.
    bytes: Option<i64>,
    /// SQLite's `data_version` when the cache was last known to match the table.
    data_version: Option<i64>,
    /// Counts flushes: entries used since the last one carry the current generation.
    generation: u32,
}

/// A point to undo staged writes back to (an event's savepoint).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    undo: usize,
    bytes: Option<i64>,
}

/// The `kv` table behind a write-back cache: a cheap handle (clones share the cache) that is both the plugin's
/// [`KvBackend`] and what the pipeline flushes at commit. Shares the pipeline's connection and so its transaction.
#[derive(Clone)]
pub struct KvCache {
    conn: Rc<Connection>,
    cache: Rc<RefCell<Cache>>,
    capacity: usize,
}

impl KvCache {
    /// An empty cache over the `kv` table of `conn`.
    pub fn new(conn: Rc<Connection>) -> KvCache {
        KvCache { conn, cache: Rc::default(), capacity: CAPACITY }
    }

    /// The number of keys cached now.
    pub fn cached_keys(&self) -> usize {
        self.cache.borrow().entries.len()
    }

    /// The same cache as a plugin backend.
    pub fn backend(&self) -> Box<dyn KvBackend> {
        Box::new(self.clone())
    }

    /// Where staged writes stand now (taken when an event's savepoint opens).
    pub fn mark(&self) -> Mark {
        let cache = self.cache.borrow();
        Mark { undo: cache.undo.len(), bytes: cache.bytes }
    }

    /// Undo every write staged since `mark` (the event's savepoint was rolled back).
    pub fn rollback_to(&self, mark: Mark) {
        let mut cache = self.cache.borrow_mut();
        while cache.undo.len() > mark.undo {
            let (key, previous) = cache.undo.pop().expect("longer than the mark");
            match previous {
                Some(previous) => cache.entries.insert(key, previous),
                None => cache.entries.remove(&key),
            };
        }
        cache.bytes = mark.bytes;
    }

    /// Keep the writes staged since `mark` (the event's savepoint was released): only a whole rollback, which
    /// [`KvCache::discard`] handles, can drop them now.
    pub fn release(&self, mark: Mark) {
        self.cache.borrow_mut().undo.truncate(mark.undo);
    }

    /// Forget everything cached (the transaction rolled back, or the table was rewritten underneath).
    pub fn discard(&self) {
        *self.cache.borrow_mut() = Cache::default();
    }

    /// Empty the cache if another connection committed to the database since it was filled. Call when a
    /// transaction begins (nothing is staged then).
    pub fn revalidate(&self) -> rusqlite::Result<()> {
        let version: i64 = self.conn.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get(0))?;
        let mut cache = self.cache.borrow_mut();
        // (Staged writes mean a transaction of ours is open: no other connection can have committed since.)
        if cache.data_version != Some(version) && cache.dirty.is_empty() {
            *cache = Cache { data_version: Some(version), ..Cache::default() };
        }
        Ok(())
    }

    /// Write the dirty keys and the store's size to the table; call in the transaction, right before it commits.
    pub fn flush(&self) -> rusqlite::Result<()> {
        let mut cache = self.cache.borrow_mut();
        let cache = &mut *cache;
        cache.undo.clear();
        if cache.dirty.is_empty() {
            return Ok(());
        }
        // In key order: neighbouring keys share B-tree pages, so each page is found once and written in sequence.
        let mut dirty = std::mem::take(&mut cache.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for key in dirty {
            let Some(entry) = cache.entries.get_mut(&key) else { continue };
            if !entry.dirty {
                continue;
            }
            entry.dirty = false;
            match &entry.value {
                Some(value) => self
                    .conn
                    .prepare_cached(
                        "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                    )?
                    .execute(params![key, value])?,
                None => self.conn.prepare_cached("DELETE FROM kv WHERE key = ?1")?.execute(params![key])?,
            };
        }
        if let Some(bytes) = cache.bytes {
            self.conn.prepare_cached("UPDATE kv_size SET bytes = ?1 WHERE singleton = 1")?.execute(params![bytes])?;
        }
        self.evict(cache);
        Ok(())
    }

    /// When more than the capacity is cached and nothing is dirty: drop the keys not used in this generation (or
    /// all, if that is not enough), and start a new generation.
    fn evict(&self, cache: &mut Cache) {
        if cache.entries.len() > self.capacity && cache.dirty.is_empty() {
            let generation = cache.generation;
            cache.entries.retain(|_, entry| entry.used == generation && !entry.dirty);
            if cache.entries.len() > self.capacity {
                cache.entries.retain(|_, entry| entry.dirty);
            }
        }
        cache.generation = cache.generation.wrapping_add(1);
    }

    /// Make sure `key` is cached (reading the table if not) and mark it used.
    fn load<'c>(&self, cache: &'c mut Cache, key: &str) -> rusqlite::Result<&'c mut Cached> {
        let generation = cache.generation;
        if !cache.entries.contains_key(key) {
            let value: Option<Vec<u8>> = self
                .conn
                .prepare_cached("SELECT value FROM kv WHERE key = ?1")?
                .query_row(params![key], |row| row.get(0))
                .optional()?;
            cache.entries.insert(key.to_owned(), Cached { value, dirty: false, used: generation });
        }
        let entry = cache.entries.get_mut(key).expect("inserted above");
        entry.used = generation;
        Ok(entry)
    }

    fn bytes(&self, cache: &mut Cache) -> rusqlite::Result<i64> {
        if let Some(bytes) = cache.bytes {
            return Ok(bytes);
        }
        let bytes = self
            .conn
            .prepare_cached("SELECT bytes FROM kv_size WHERE singleton = 1")?
            .query_row([], |row| row.get::<_, i64>(0))
            .optional()?
            .unwrap_or(0);
        cache.bytes = Some(bytes);
        Ok(bytes)
    }
}

impl KvBackend for KvCache {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        // Outside a transaction (a moderator's read of a member record) nothing is staged: check for writes by
        // other processes first. Inside one, the pipeline checked when it began.
        let reading_alone = self.conn.is_autocommit();
        if reading_alone {
            self.revalidate()?;
        }
        let mut cache = self.cache.borrow_mut();
        let value = self.load(&mut cache, key)?.value.clone();
        // Reads with no transaction never flush, so they evict here: reading every member's record (the replay's
        // report, a moderator paging through members) must not cache the whole store.
        if reading_alone && cache.entries.len() > self.capacity {
            self.evict(&mut cache);
        }
        Ok(value)
    }

    fn total_bytes(&self) -> u64 {
        let mut cache = self.cache.borrow_mut();
        self.bytes(&mut cache).unwrap_or(0) as u64
    }

    fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), BackendError> {
        let mut cache = self.cache.borrow_mut();
        let mut bytes = self.bytes(&mut cache)?;
        for (key, value) in writes {
            let entry = self.load(&mut cache, &key)?;
            let written = Cached { value, dirty: true, used: entry.used };
            let previous = std::mem::replace(entry, written);
            bytes += entry.size(&key) - previous.size(&key);
            if !previous.dirty {
                cache.dirty.push(key.clone());
            }
            cache.undo.push((key, Some(previous)));
        }
        cache.bytes = Some(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(conn: &Connection) -> Vec<(String, Vec<u8>)> {
        conn.prepare("SELECT key, value FROM kv ORDER BY key")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn size(conn: &Connection) -> i64 {
        conn.query_row("SELECT bytes FROM kv_size", [], |row| row.get(0)).unwrap()
    }

    fn write(kv: &mut KvCache, key: &str, value: Option<&[u8]>) {
        kv.apply(vec![(key.to_owned(), value.map(<[u8]>::to_vec))]).unwrap();
    }

    #[test]
    fn writes_reach_the_table_only_when_flushed_and_reads_see_them_before() {
        let conn = Rc::new(crate::db::open_in_memory().unwrap());
        let mut kv = KvCache::new(conn.clone());
        write(&mut kv, "a", Some(b"one"));
        write(&mut kv, "b", Some(b"two"));
        assert_eq!(kv.get("a").unwrap().as_deref(), Some(&b"one"[..]));
        assert!(table(&conn).is_empty(), "nothing is written before the flush");
        kv.flush().unwrap();
        assert_eq!(table(&conn), vec![("a".into(), b"one".to_vec()), ("b".into(), b"two".to_vec())]);
        assert_eq!(size(&conn), 8);
        write(&mut kv, "a", None);
        kv.flush().unwrap();
        assert_eq!(table(&conn), vec![("b".into(), b"two".to_vec())]);
        assert_eq!(size(&conn), 4);
        assert_eq!(kv.total_bytes(), 4);
    }

    #[test]
    fn an_undone_event_leaves_neither_its_values_nor_its_size() {
        let conn = Rc::new(crate::db::open_in_memory().unwrap());
        let mut kv = KvCache::new(conn.clone());
        write(&mut kv, "kept", Some(b"1"));
        let mark = kv.mark();
        write(&mut kv, "kept", Some(b"changed"));
        write(&mut kv, "new", Some(b"2"));
        kv.rollback_to(mark);
        assert_eq!(kv.get("kept").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(kv.get("new").unwrap(), None);
        assert_eq!(kv.total_bytes(), 5);
        kv.flush().unwrap();
        assert_eq!(table(&conn), vec![("kept".into(), b"1".to_vec())]);
        assert_eq!(size(&conn), 5);
    }

    #[test]
    fn a_write_by_another_connection_is_seen_at_the_next_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.db");
        let conn = Rc::new(crate::db::open(&path).unwrap());
        let mut kv = KvCache::new(conn.clone());
        write(&mut kv, "a", Some(b"mine"));
        kv.flush().unwrap();
        assert_eq!(kv.get("a").unwrap().as_deref(), Some(&b"mine"[..]));
        let other = crate::db::open(&path).unwrap();
        other.execute("UPDATE kv SET value = CAST('theirs' AS BLOB) WHERE key = 'a'", []).unwrap();
        assert_eq!(kv.get("a").unwrap().as_deref(), Some(&b"theirs"[..]));
    }

    #[test]
    fn memory_stays_bounded_and_evicted_keys_read_back_from_the_table() {
        let conn = Rc::new(crate::db::open_in_memory().unwrap());
        let mut kv = KvCache { capacity: 10, ..KvCache::new(conn.clone()) };
        for round in 0..20 {
            for i in 0..6 {
                write(&mut kv, &format!("k{round}/{i}"), Some(format!("v{round}/{i}").as_bytes()));
            }
            // A hot key, used in every round.
            let hot = kv.get("hot").unwrap().map_or(0, |v| v.len());
            write(&mut kv, "hot", Some(&vec![b'x'; hot + 1]));
            kv.flush().unwrap();
            assert!(kv.cached_keys() <= 10, "round {round}: {} keys cached", kv.cached_keys());
        }
        assert_eq!(kv.get("k0/3").unwrap().as_deref(), Some(&b"v0/3"[..]));
        assert_eq!(kv.get("hot").unwrap().map(|v| v.len()), Some(20));
        assert_eq!(table(&conn).len(), 121);
    }

    #[test]
    fn reading_the_whole_store_outside_a_transaction_keeps_memory_bounded() {
        // The replay's report reads every member's record after the last batch: no flush ever evicts then.
        let conn = Rc::new(crate::db::open_in_memory().unwrap());
        for i in 0..100 {
            conn.execute("INSERT INTO kv (key, value) VALUES (?1, ?2)", params![format!("k{i}"), vec![b'v'; 8]])
                .unwrap();
        }
        let mut kv = KvCache { capacity: 10, ..KvCache::new(conn.clone()) };
        for i in 0..100 {
            assert_eq!(kv.get(&format!("k{i}")).unwrap().map(|v| v.len()), Some(8));
            assert!(kv.cached_keys() <= 11, "after {i} reads: {} keys cached", kv.cached_keys());
        }
    }

    #[test]
    fn a_discarded_cache_reads_the_table_again() {
        let conn = Rc::new(crate::db::open_in_memory().unwrap());
        let mut kv = KvCache::new(conn.clone());
        write(&mut kv, "a", Some(b"flushed"));
        kv.flush().unwrap();
        write(&mut kv, "a", Some(b"rolled back"));
        kv.discard();
        assert_eq!(kv.get("a").unwrap().as_deref(), Some(&b"flushed"[..]));
        assert_eq!(kv.total_bytes(), 8);
    }
}
