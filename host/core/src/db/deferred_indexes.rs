//! Secondary indexes that only readers use, left out while a first import fills an empty forum and built once at
//! its end (schema version 13, `deferred_indexes`).
//!
//! Why: every post and every ledger line an import writes also goes into indexes that no write path reads — the
//! web's topic lists by category, a member's posts, the moderators' ledger page of a member. Kept row by row they
//! are B-tree inserts at random places (by author, by member) on every event; built at the end they are one sort
//! each. An empty forum has no reader to slow down while they are away.
//!
//! Safe across processes and crashes: the statement that builds each index again (read from `sqlite_master`, so it
//! is the schema's own) is kept in the database in the transaction that drops it, with the process that took it. The
//! importer builds them again when it ends; if it dies first, the next import (a resume) takes them over, and any
//! process that opens the database builds them when the importer's process is gone. Meanwhile a reader that would
//! use one still gets the right answer, by a scan.
//!
//! Owns: which indexes may be deferred, dropping and building them. Does not own: when an import asks for it
//! (`events::history`, the importers).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The indexes a first import may defer: none is read by recording an event, delivering it or applying its effects.
/// (`likes_pair` is not among them: the Discourse adapter looks a like up by post and liker on every like.)
pub const READ_SIDE_INDEXES: &[&str] =
    &["posts_category", "posts_author", "posts_questions", "posts_category_questions", "ledger_member"];

/// Indexes deferred now, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    /// Their names.
    pub names: Vec<String>,
    /// The process that deferred them.
    pub owner_pid: u32,
}

/// The indexes deferred now (none: `None`).
pub fn deferred(conn: &Connection) -> rusqlite::Result<Option<Deferred>> {
    let mut statement = conn.prepare_cached("SELECT name, owner_pid FROM deferred_indexes ORDER BY name")?;
    let rows: Vec<(String, i64)> =
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
    let Some(&(_, owner)) = rows.first() else { return Ok(None) };
    Ok(Some(Deferred { names: rows.into_iter().map(|(name, _)| name).collect(), owner_pid: owner as u32 }))
}

/// If the forum has no post yet, or its indexes are already deferred (an import that stopped part-way), drop the
/// [`READ_SIDE_INDEXES`] (keeping how to build them) and make this process their owner; in one transaction, which
/// the caller must not hold open. True when they are deferred now.
pub fn defer_if_empty(conn: &Connection) -> rusqlite::Result<bool> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM posts)", [], |row| row.get(0))?;
    let already = deferred(&tx)?.is_some();
    if !empty && !already {
        return Ok(false);
    }
    let pid = std::process::id();
    for name in READ_SIDE_INDEXES {
        let sql: Option<String> = tx
            .query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1", params![name], |row| {
                row.get(0)
            })
            .optional()?;
        if let Some(sql) = sql {
            tx.execute(
                "INSERT OR REPLACE INTO deferred_indexes (name, sql, owner_pid) VALUES (?1, ?2, ?3)",
                params![name, sql, pid],
            )?;
            tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        }
    }
    tx.execute("UPDATE deferred_indexes SET owner_pid = ?1", params![pid])?;
    tx.commit()?;
    Ok(true)
}

/// Build every deferred index again, in one transaction (which the caller must not hold open); the number built.
pub fn build(conn: &Connection) -> rusqlite::Result<usize> {
    sorting_on_disk(conn, || {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let built = build_in(&tx)?;
        tx.commit()?;
        Ok(built)
    })
}

/// Run `build` with SQLite's temporary files on disk. The forum's connections keep them in memory (`temp_store = MEMORY`,
/// for the per-event savepoints' sub-journals), and then the sort that builds an index keeps every key in memory
/// too: replaying 10 million events peaked at 458 MiB instead of 192 MiB at 1 million, the ledger's index alone
/// being ≈ 10 million entries. On disk the sort spills past its bounded buffers.
fn sorting_on_disk<T>(conn: &Connection, build: impl FnOnce() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    // Put back what the connection had (a replay past its post index's bound keeps them on disk throughout).
    let before: i64 = conn.pragma_query_value(None, "temp_store", |row| row.get(0))?;
    conn.pragma_update(None, "temp_store", "FILE")?;
    let built = build();
    conn.pragma_update(None, "temp_store", before)?;
    built
}

fn build_in(conn: &Connection) -> rusqlite::Result<usize> {
    let statements: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM deferred_indexes ORDER BY name")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, sql) in &statements {
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)",
            params![name],
            |row| row.get(0),
        )?;
        if !exists {
            conn.execute_batch(sql)?;
        }
    }
    conn.execute("DELETE FROM deferred_indexes", [])?;
    Ok(statements.len())
}

/// At open: build the deferred indexes when the process that deferred them is gone (an import killed part-way and
/// not resumed). Leaves them to their owner while it runs, and to a later open if another process is writing now
/// (waiting for it could stall that writer's next batch behind an index build).
pub(crate) fn build_if_orphaned(conn: &Connection) -> rusqlite::Result<()> {
    let Some(found) = deferred(conn)? else { return Ok(()) };
    if process_alive(found.owner_pid) {
        return Ok(());
    }
    sorting_on_disk(conn, || match rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
        Ok(tx) => {
            // Another process may have built them between the read above and this transaction.
            if deferred(&tx)?.is_some_and(|now| !process_alive(now.owner_pid)) {
                let built = build_in(&tx)?;
                tracing::info!(built, "built the indexes an import that stopped part-way had deferred");
            }
            tx.commit()
        }
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => Ok(()),
        Err(error) => Err(error),
    })
}

/// Whether a process with this id runs (where that cannot be known, assume it does: the owner then builds them).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") { std::path::Path::new(&format!("/proc/{pid}")).exists() } else { true }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indexes(conn: &Connection) -> Vec<(String, String)> {
        conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn has(conn: &Connection, name: &str) -> bool {
        indexes(conn).iter().any(|(n, _)| n == name)
    }

    fn a_post(conn: &Connection) {
        conn.execute_batch(
            "INSERT INTO members (id, name, name_key, joined_at) VALUES (1, 'ann', 'ann', 0);
             INSERT INTO categories (id, slug, name) VALUES (1, 'general', 'General');
             INSERT INTO posts (id, kind, topic_id, category_id, author_id, title, body, created_at)
                 VALUES (1, 'question', 1, 1, 1, 'Q', 'body', 0);",
        )
        .unwrap();
    }

    #[test]
    fn an_empty_forum_defers_the_readers_indexes_and_building_them_gives_back_the_schemas_own() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("forum.db")).unwrap();
        let before = indexes(&conn);
        assert!(defer_if_empty(&conn).unwrap());
        for name in READ_SIDE_INDEXES {
            assert!(!has(&conn, name), "{name} is left out while the import runs");
        }
        assert!(has(&conn, "likes_once") && has(&conn, "likes_pair"), "indexes a write reads stay");
        assert_eq!(deferred(&conn).unwrap().unwrap().owner_pid, std::process::id());
        // Posts written meanwhile are in the index once it is built.
        a_post(&conn);
        conn.pragma_update(None, "temp_store", "FILE").unwrap();
        assert_eq!(build(&conn).unwrap(), READ_SIDE_INDEXES.len());
        let temp_store: i64 = conn.pragma_query_value(None, "temp_store", |r| r.get(0)).unwrap();
        assert_eq!(temp_store, 1, "the connection's own setting is put back after the build's sort");
        assert_eq!(indexes(&conn), before, "the same indexes, built by the same statements");
        assert_eq!(deferred(&conn).unwrap(), None);
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let by_author: i64 = conn
            .query_row("SELECT COUNT(*) FROM posts INDEXED BY posts_author WHERE author_id = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(by_author, 1);
    }

    #[test]
    fn a_forum_with_posts_keeps_its_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open(&dir.path().join("forum.db")).unwrap();
        a_post(&conn);
        let before = indexes(&conn);
        assert!(!defer_if_empty(&conn).unwrap());
        assert_eq!(indexes(&conn), before);
        assert_eq!(build(&conn).unwrap(), 0);
    }

    #[test]
    fn indexes_an_import_left_out_are_built_at_the_next_open_once_its_process_is_gone_and_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forum.db");
        let conn = crate::db::open(&path).unwrap();
        let before = indexes(&conn);
        assert!(defer_if_empty(&conn).unwrap());
        a_post(&conn);
        // While the importing process (this one) runs, another open leaves them alone.
        drop(crate::db::open(&path).unwrap());
        assert!(!has(&conn, "posts_author"));
        // A process that has exited: its pid is no longer running.
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let gone_pid = gone.id();
        gone.wait().unwrap();
        conn.execute("UPDATE deferred_indexes SET owner_pid = ?1", params![gone_pid]).unwrap();
        // Resuming the import takes them over instead (it is that import's to build).
        assert!(defer_if_empty(&conn).unwrap());
        assert_eq!(deferred(&conn).unwrap().unwrap().owner_pid, std::process::id());
        conn.execute("UPDATE deferred_indexes SET owner_pid = ?1", params![gone_pid]).unwrap();
        drop(conn);
        let conn = crate::db::open(&path).unwrap();
        assert_eq!(indexes(&conn), before, "built at open");
        assert_eq!(deferred(&conn).unwrap(), None);
    }
}
