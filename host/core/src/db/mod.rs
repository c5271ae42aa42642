//! The forum's SQLite database: opening it (one file, WAL), and the versioned schema migrations applied at start.
//!
//! Owns the schema. Every other module reads and writes through the connection this module opens; none creates
//! tables. A migration is applied once, in a transaction with the bump of `PRAGMA user_version`, so a crash during
//! an upgrade leaves the previous version intact.

use std::path::Path;

use rusqlite::Connection;

pub mod checkpoints;
pub mod deferred_indexes;
mod schema;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A thread the database needs could not be started.
    #[error("database {path}: starting a thread: {source}")]
    Thread {
        /// The database file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A migration's step in Rust failed.
    #[error("database {path}: upgrading to schema version {version}: {message}")]
    Migration {
        /// The database file.
        path: String,
        /// The version being reached.
        version: i64,
        /// What went wrong.
        message: String,
    },
    /// The file was written by a newer Cadre.
    #[error("database {path} has schema version {found}, newer than this Cadre knows ({known}); upgrade Cadre")]
    TooNew {
        /// The database file.
        path: String,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
}

/// Open (creating if needed) the database at `path` and bring its schema up to date.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    let name = path.display().to_string();
    let sqlite = |source| DbError::Sqlite { path: name.clone(), source };
    let mut conn = Connection::open(path).map_err(sqlite)?;
    configure(&conn).map_err(sqlite)?;
    migrate(&mut conn, &name)?;
    deferred_indexes::build_if_orphaned(&conn).map_err(sqlite)?;
    Ok(conn)
}

/// An in-memory database with the current schema (scratch databases for previews, tests).
pub fn open_in_memory() -> Result<Connection, DbError> {
    let mut conn =
        Connection::open_in_memory().map_err(|source| DbError::Sqlite { path: ":memory:".into(), source })?;
    configure(&conn).map_err(|source| DbError::Sqlite { path: ":memory:".into(), source })?;
    migrate(&mut conn, ":memory:")?;
    Ok(conn)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // WAL: readers (the web pages) never block the writer (the event pipeline). `synchronous = NORMAL` is durable
    // across process crashes in WAL mode (a power cut may lose the last transactions, never corrupt the file).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Each event is a savepoint (and the program's part a nested one): SQLite copies every page an event changes
    // to a sub-journal, a temporary file by default. In memory it costs a copy instead of a write system call.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // 64 MiB of page cache (the default is 2 MiB): a replay's hot pages (indexes of members, posts, the program's
    // store) stay in memory. A bound, not a growth: memory stays flat however long the replay.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // The event pipeline, the import API and the program's effects use a few dozen distinct statements, each
    // prepared once; with rusqlite's default of 16 they evicted each other and were parsed again on every event.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// The schema version this build writes.
pub fn current_version() -> i64 {
    schema::MIGRATIONS.len() as i64
}

fn migrate(conn: &mut Connection, name: &str) -> Result<(), DbError> {
    let sqlite = |source| DbError::Sqlite { path: name.to_owned(), source };
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(sqlite)?;
    let known = current_version();
    if found > known {
        return Err(DbError::TooNew { path: name.to_owned(), found, known });
    }
    for (index, migration) in schema::MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(sqlite)?;
        tx.execute_batch(migration).map_err(sqlite)?;
        if index as i64 + 1 == schema::NAME_KEYS {
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
            crate::forum::names::report_duplicate_names(&tx, now).map_err(|e| DbError::Migration {
                path: name.to_owned(),
                version: schema::NAME_KEYS,
                message: e.to_string(),
            })?;
        }
        tx.pragma_update(None, "user_version", index as i64 + 1).map_err(sqlite)?;
        tx.commit().map_err(sqlite)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_every_migration_and_reopening_applies_none_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forum.db");
        let conn = open(&path).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, current_version());
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        drop(conn);
        open(&path).unwrap();
    }

    #[test]
    fn upgrading_to_version_4_indexes_the_members_of_the_dead_letters_already_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &schema::MIGRATIONS[..3] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO events (id, external_id, kind, at, payload, members) VALUES \
                 (1, 'a', 'like-added', 0, '{}', '3 17'), (2, 'b', 'tick', 0, '{}', ''), (3, 'c', 'like-added', 0, '{}', '3');
             INSERT INTO dead_letters (event_id, error, failed_at) VALUES (1, 'x', 0), (2, 'y', 0);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let rows: Vec<(i64, i64)> = conn
            .prepare("SELECT member_id, event_id FROM dead_letter_members ORDER BY member_id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![(3, 1), (17, 1)]);
        conn.execute("DELETE FROM dead_letters WHERE event_id = 1", []).unwrap();
        let left: i64 = conn.query_row("SELECT COUNT(*) FROM dead_letter_members", [], |row| row.get(0)).unwrap();
        assert_eq!(left, 0, "a resolved dead letter no longer blocks anyone");
        let columns: i64 = conn
            .query_row("SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'members'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(columns, 0, "the column only the old LIKE read is gone");
    }

    #[test]
    fn upgrading_to_version_11_tells_the_programs_own_failures_from_events_waiting_behind_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v10.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &schema::MIGRATIONS[..10] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 10).unwrap();
        conn.execute_batch(
            "INSERT INTO events (id, external_id, kind, at, payload) VALUES \
                 (1, 'a', 'like-added', 0, '{}'), (2, 'b', 'post-created', 0, '{}');
             INSERT INTO dead_letters (event_id, error, failed_at) VALUES \
                 (1, 'the plugin trapped: unreachable', 0), (2, 'waiting behind dead letter for event 1 (same member)', 0);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let rows: Vec<(i64, Option<i64>)> = conn
            .prepare("SELECT event_id, blocker FROM dead_letters ORDER BY event_id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![(1, None), (2, Some(1))]);
    }

    #[test]
    fn upgrading_to_version_5_links_each_program_version_to_the_one_before_so_rollback_never_goes_forward() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &schema::MIGRATIONS[..4] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        // Version 2 was installed, then rolled back: the old swap left 2 as the "previous" (forward) version.
        conn.execute_batch(
            "INSERT INTO plugin_versions (id, name, version, hash, wasm, installed_at, installed_by) VALUES \
                 (1, 'p', '1', 'h1', x'00', 0, 'op'), (2, 'p', '2', 'h2', x'00', 1, 'op');
             INSERT INTO program (singleton, active_version, previous_version) VALUES (1, 1, 2);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let replaced: Vec<Option<i64>> = conn
            .prepare("SELECT replaced FROM plugin_versions ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(replaced, vec![None, Some(1)]);
        let (previous, offer): (Option<i64>, Option<String>) = conn
            .query_row("SELECT previous_version, recompute_offer FROM program", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((previous, offer), (None, None), "nothing before version 1 to roll back to, no offer");
    }

    #[test]
    fn upgrading_to_version_7_counts_what_is_there_indexes_its_text_and_keeps_old_numbers_for_old_posts_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &schema::MIGRATIONS[..6] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute_batch(
            "INSERT INTO members (id, name, joined_at) VALUES (1, 'ann', 0), (2, 'bob', 0);
             INSERT INTO categories (id, slug, name) VALUES (1, 'general', 'General');
             INSERT INTO posts (id, kind, topic_id, category_id, author_id, title, body, created_at) VALUES
                 (1, 'question', 1, 1, 1, 'Frobnicating widgets', 'How?', 10),
                 (2, 'answer', 1, 1, 2, NULL, 'Turn the crank', 20),
                 (3, 'reply', 1, 1, 1, NULL, 'Thanks', 30);
             INSERT INTO likes (post_id, liker_id, created_at, removed_at) VALUES (2, 1, 21, NULL), (2, 2, 22, 23);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let counts: (i64, i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT like_count FROM posts WHERE id = 2), answer_count, last_activity_at, \
                 (SELECT topic_count FROM categories WHERE id = 1) FROM posts WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .unwrap();
        assert_eq!(counts, (1, 1, 30, 1), "the like taken back is not counted; the reply is the latest activity");
        let found: i64 = conn
            .query_row("SELECT rowid FROM posts_text WHERE posts_text MATCH '\"crank\"'", [], |row| row.get(0))
            .unwrap();
        assert_eq!(found, 2, "old posts are in the search index");
        let mark: i64 = conn.query_row("SELECT legacy_posts_up_to FROM forum_keys", [], |row| row.get(0)).unwrap();
        assert_eq!(mark, 3, "the posts there before keep their numeric links; later ones will not");
    }

    #[test]
    fn upgrading_to_version_12_keeps_the_search_index_and_outside_a_batch_indexes_each_post_as_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v11.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &schema::MIGRATIONS[..11] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 11).unwrap();
        conn.execute_batch(
            "INSERT INTO members (id, name, joined_at) VALUES (1, 'ann', 0);
             INSERT INTO categories (id, slug, name) VALUES (1, 'general', 'General');
             INSERT INTO posts (id, kind, topic_id, category_id, author_id, title, body, created_at) VALUES
                 (1, 'question', 1, 1, 1, 'Frobnicating widgets', 'Turn the crank', 10);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let found = |text: &str| -> Vec<i64> {
            conn.prepare("SELECT rowid FROM posts_text WHERE posts_text MATCH ?1 ORDER BY rowid")
                .unwrap()
                .query_map([format!("\"{text}\"")], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(found("crank"), vec![1], "the posts indexed before stay indexed");
        conn.execute(
            "INSERT INTO posts (id, kind, topic_id, category_id, author_id, body, created_at) \
             VALUES (2, 'answer', 1, 1, 1, 'Pull the lever', 20)",
            [],
        )
        .unwrap();
        assert_eq!(found("lever"), vec![2], "a post written outside a batch is indexed at once");
        conn.execute("UPDATE posts SET body = 'Spin the wheel' WHERE id = 2", []).unwrap();
        assert_eq!((found("lever"), found("wheel")), (vec![], vec![2]), "and its edit too");
        conn.execute("UPDATE posts SET deleted_at = 30 WHERE id = 1", []).unwrap();
        assert_eq!(found("crank"), Vec::<i64>::new(), "a deleted post leaves the index");
        conn.execute("INSERT INTO posts_text (posts_text) VALUES ('integrity-check')", []).unwrap();
    }

    #[test]
    fn upgrading_to_version_8_keys_every_name_and_reports_names_that_differ_only_in_case_or_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &schema::MIGRATIONS[..7] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 7).unwrap();
        conn.execute_batch(
            "INSERT INTO members (id, name, joined_at) VALUES \
                 (1, 'Bob', 0), (2, 'alice', 0), (3, 'bob', 0), (4, '\u{ff42}\u{ff4f}\u{ff42}', 0);",
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let keys: Vec<(i64, Option<String>)> = conn
            .prepare("SELECT id, name_key FROM members ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys, vec![(1, Some("bob".into())), (2, Some("alice".into())), (3, None), (4, None)]);
        let notices: Vec<String> = conn
            .prepare("SELECT message FROM notices WHERE topic = 'duplicate-names'")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("Bob (#1), bob (#3), \u{ff42}\u{ff4f}\u{ff42} (#4)"), "{}", notices[0]);
        // The key is unique from now on, whoever writes.
        let clash = conn.execute("INSERT INTO members (name, name_key, joined_at) VALUES ('BOB', 'bob', 0)", []);
        assert!(clash.is_err(), "a second member with the key bob");
    }

    #[test]
    fn upgrading_to_version_9_gives_old_answers_their_askers_and_old_likes_their_category() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v8.db");
        let conn = Connection::open(&path).unwrap();
        for migration in &schema::MIGRATIONS[..8] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 8).unwrap();
        conn.execute_batch(
            r#"INSERT INTO members (id, name, joined_at) VALUES (1, 'ann', 0), (2, 'bob', 0);
             INSERT INTO categories (id, slug, name) VALUES (1, 'general', 'General'), (4, 'help', 'Help');
             INSERT INTO posts (id, kind, topic_id, category_id, author_id, title, body, created_at) VALUES
                 (1, 'question', 1, 4, 1, 'Q', 'How?', 10), (2, 'answer', 1, 4, 2, NULL, 'So', 20);
             INSERT INTO events (id, external_id, kind, at, payload) VALUES
               (1, 'q', 'post-created', 10, '{"type":"post-created","event":{"post":1,"kind":"Question","author":1,"parent":null,"category":4,"at":10,"author_joined":0}}'),
               (2, 'a', 'post-created', 20, '{"type":"post-created","event":{"post":2,"kind":"Answer","author":2,"parent":1,"category":4,"at":20,"author_joined":0}}'),
               (3, 'l', 'like-added', 30, '{"type":"like-added","event":{"like":1,"post":2,"post_kind":"Answer","post_author":2,"post_wiki":false,"liker":1,"liker_joined":0,"at":30}}');"#,
        )
        .unwrap();
        drop(conn);
        let conn = open(&path).unwrap();
        let payloads: Vec<String> = conn
            .prepare("SELECT payload FROM events ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let events: Vec<cadre_model::Event> = payloads.iter().map(|p| serde_json::from_str(p).unwrap()).collect();
        let cadre_model::Event::PostCreated(question) = &events[0] else { panic!("{events:?}") };
        assert_eq!(question.question_author, None, "a question has no asker besides its author");
        let cadre_model::Event::PostCreated(answer) = &events[1] else { panic!("{events:?}") };
        assert_eq!(answer.question_author, Some(1));
        let cadre_model::Event::LikeAdded(like) = &events[2] else { panic!("{events:?}") };
        assert_eq!(like.post_category, Some(4));
        assert_eq!(serde_json::to_string(&events[2]).unwrap(), payloads[2], "written where the model writes it");
    }

    #[test]
    fn a_database_from_a_newer_cadre_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("future.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        drop(conn);
        let error = open(&path).unwrap_err().to_string();
        assert!(error.contains("future.db has schema version 999"), "{error}");
    }
}
