//! The full-text index (`posts_text`) of the posts a batch writes, built once right before the batch commits
//! instead of by a trigger at every post (schema version 12, `posts_text_deferred`).
//!
//! Why: FTS5 writes what it holds in memory to a new index segment at every savepoint and release, and a batch
//! opens one savepoint per event, so indexing post by post wrote one tiny segment per post and merged them over
//! and over. Deferred, the batch's posts are indexed by one `INSERT … SELECT` in the batch's transaction: the
//! committed index is always complete, and a rollback or a crash takes the switch back with everything else.
//!
//! Owns: turning the deferral on when a batch begins and indexing the batch's live posts before it commits. Does not
//! own: the triggers (they read the switch; see `db::schema`), search itself (`forum::read`).

use rusqlite::Connection;

/// Defer the index of posts written from now on in the open transaction: the triggers leave posts above the
/// current highest id to [`index_deferred`].
pub(super) fn defer(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE posts_text_deferred SET above = (SELECT COALESCE(MAX(id), 0) FROM posts)")?
        .execute([])?;
    Ok(())
}

/// Index every live post written since [`defer`], with its text as it stands now, and index row by row again.
/// Call in the same transaction, right before it commits.
pub(super) fn index_deferred(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO posts_text (rowid, title, body) SELECT id, title, body FROM posts \
         WHERE id > (SELECT above FROM posts_text_deferred) AND deleted_at IS NULL ORDER BY id",
    )?
    .execute([])?;
    conn.prepare_cached("UPDATE posts_text_deferred SET above = NULL")?.execute([])?;
    Ok(())
}
