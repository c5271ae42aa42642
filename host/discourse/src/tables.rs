//! The adapter's own tables, beside the forum's: which Discourse user, topic and post each Cadre member, question and
//! post stands for, which posts Discourse destroyed, the generation counters that keep a like or accept after its
//! removal distinct from the first one, and what Cadre knows Discourse holds (badge ids, `user_badge` ids, group
//! members). Created on first use (`CREATE TABLE IF NOT EXISTS`), so a forum that never meets Discourse has none of
//! them. Owns the SQL over these tables; does not own the forum's tables (written through `Forum`) or the outbox
//! (cadre-core's schema).

use rusqlite::{Connection, OptionalExtension, params};

const TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS discourse_users (
    user_id   INTEGER PRIMARY KEY,               -- Discourse's users.id
    username  TEXT NOT NULL                      -- cached: badge and group calls take names, webhooks give ids
);
CREATE TABLE IF NOT EXISTS discourse_topics (
    topic_id     INTEGER PRIMARY KEY,            -- Discourse's topics.id
    question_id  INTEGER NOT NULL                -- the Cadre post of its first post
);
CREATE TABLE IF NOT EXISTS discourse_posts (
    post_id    INTEGER PRIMARY KEY,              -- Discourse's posts.id
    cadre_id   INTEGER NOT NULL,
    topic_id   INTEGER NOT NULL,
    destroyed  INTEGER NOT NULL DEFAULT 0        -- post_destroyed seen (and no post_recovered since)
);
CREATE TABLE IF NOT EXISTS discourse_generations (
    key  TEXT PRIMARY KEY,                       -- 'accept:<post id>'
    n    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS discourse_badges (
    badge         TEXT PRIMARY KEY,              -- the program's badge id
    discourse_id  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS discourse_groups (
    tier          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    discourse_id  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS discourse_user_badges (
    member_id      INTEGER NOT NULL,
    badge          TEXT NOT NULL,
    user_badge_id  INTEGER NOT NULL,             -- Discourse's id, for the revoke
    PRIMARY KEY (member_id, badge)
);
CREATE TABLE IF NOT EXISTS discourse_group_members (
    tier       TEXT NOT NULL,
    member_id  INTEGER NOT NULL,
    PRIMARY KEY (tier, member_id)
);
"#;

/// Create the adapter's tables if they are missing (a cheap lookup when they exist: this runs on every webhook).
pub fn ensure(conn: &Connection) -> rusqlite::Result<()> {
    let present = conn
        .prepare_cached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'discourse_group_members'")?
        .exists([])?;
    if present { Ok(()) } else { conn.execute_batch(TABLES) }
}

/// The external id a Discourse user's member carries.
pub fn member_key(user_id: i64) -> String {
    format!("discourse:user:{user_id}")
}

/// The external id of a Discourse post's Cadre post (also its `post_created` event's dedup key).
pub fn post_key(post_id: i64) -> String {
    format!("discourse:post:{post_id}")
}

/// The Cadre member for a Discourse user, if recorded.
pub fn member_of(conn: &Connection, user_id: i64) -> rusqlite::Result<Option<u64>> {
    conn.prepare_cached("SELECT id FROM members WHERE external_id = ?1")?
        .query_row(params![member_key(user_id)], |row| row.get::<_, i64>(0))
        .optional()
        .map(|id| id.map(|id| id as u64))
}

/// The Discourse user id of a Cadre member, if it came from Discourse.
pub fn user_of(conn: &Connection, member: u64) -> rusqlite::Result<Option<i64>> {
    let key: Option<Option<String>> = conn
        .query_row("SELECT external_id FROM members WHERE id = ?1", params![member as i64], |row| row.get(0))
        .optional()?;
    Ok(key.flatten().and_then(|k| k.strip_prefix("discourse:user:").and_then(|id| id.parse().ok())))
}

/// Remember a user's name (nothing is written when it is the name already known: this runs for every like).
pub fn remember_username(conn: &Connection, user_id: i64, username: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO discourse_users (user_id, username) VALUES (?1, ?2) \
         ON CONFLICT(user_id) DO UPDATE SET username = ?2 WHERE username <> ?2",
    )?
    .execute(params![user_id, username])?;
    Ok(())
}

/// A user's cached name.
pub fn username(conn: &Connection, user_id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT username FROM discourse_users WHERE user_id = ?1")?
        .query_row(params![user_id], |row| row.get(0))
        .optional()
}

/// A recorded Discourse post: (Cadre post, topic, destroyed).
pub fn post(conn: &Connection, post_id: i64) -> rusqlite::Result<Option<(u64, i64, bool)>> {
    conn.prepare_cached("SELECT cadre_id, topic_id, destroyed FROM discourse_posts WHERE post_id = ?1")?
        .query_row(params![post_id], |row| Ok((row.get::<_, i64>(0)? as u64, row.get(1)?, row.get(2)?)))
        .optional()
}

/// The Cadre question of a Discourse topic, if its first post was recorded.
pub fn question_of(conn: &Connection, topic_id: i64) -> rusqlite::Result<Option<u64>> {
    conn.prepare_cached("SELECT question_id FROM discourse_topics WHERE topic_id = ?1")?
        .query_row(params![topic_id], |row| row.get::<_, i64>(0))
        .optional()
        .map(|q| q.map(|q| q as u64))
}

/// A counter's current value (0 if never bumped).
pub fn generation(conn: &Connection, key: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT n FROM discourse_generations WHERE key = ?1")?
        .query_row(params![key], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Add one to a counter.
pub fn bump_generation(conn: &Connection, key: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO discourse_generations (key, n) VALUES (?1, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1",
        params![key],
    )?;
    Ok(())
}
