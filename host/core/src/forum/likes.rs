//! Likes: a member likes a post once and may take the like back; imported history may hide who liked.

use rusqlite::{Connection, OptionalExtension, params};

use super::{MemberId, members, names, posts};
use crate::error::ForumError;
use cadre_model::Like;

/// What a like's event carries, from the post's facts at `at`.
fn record(conn: &Connection, like: u64, post: u64, liker: Option<MemberId>, at: i64) -> Result<Like, ForumError> {
    let facts = posts::facts(conn, post)?;
    let liker_joined = match liker {
        Some(liker) => members::joined_at_if_known(conn, liker)?,
        None => None,
    };
    Ok(like_of(&facts, like, post, liker, liker_joined, at))
}

/// The like's event from facts already read.
fn like_of(
    facts: &posts::PostFacts,
    like: u64,
    post: u64,
    liker: Option<MemberId>,
    liker_joined: Option<i64>,
    at: i64,
) -> Like {
    Like {
        like,
        post,
        post_kind: facts.kind,
        post_author: facts.author,
        post_wiki: facts.wiki_at(at),
        liker,
        liker_joined,
        at,
        post_category: Some(facts.category),
    }
}

/// A member likes a post (once; liking one's own post is allowed by the forum and worth nothing in the program).
pub fn add(conn: &Connection, liker: MemberId, post: u64, at: i64) -> Result<Like, ForumError> {
    let existing = conn
        .query_row(
            "SELECT 1 FROM likes WHERE post_id = ?1 AND liker_id = ?2 AND removed_at IS NULL",
            params![post as i64, liker as i64],
            |_| Ok(()),
        )
        .optional()?;
    if existing.is_some() {
        let liker = names::member_label(conn, liker)?;
        return Err(ForumError::Invalid(format!("{liker} already likes post {post}")));
    }
    // Read what the event carries before the insert, which also refuses an unknown post or member.
    let facts = posts::facts(conn, post)?;
    let liker_joined = members::joined_at(conn, liker)?;
    conn.execute(
        "INSERT INTO likes (post_id, liker_id, created_at) VALUES (?1, ?2, ?3)",
        params![post as i64, liker as i64, at],
    )?;
    Ok(like_of(&facts, conn.last_insert_rowid() as u64, post, Some(liker), Some(liker_joined), at))
}

/// A member takes back their like.
pub fn remove(conn: &Connection, liker: MemberId, post: u64, at: i64) -> Result<Like, ForumError> {
    let like: i64 = conn
        .query_row(
            "SELECT id FROM likes WHERE post_id = ?1 AND liker_id = ?2 AND removed_at IS NULL",
            params![post as i64, liker as i64],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| {
            let liker = names::member_label(conn, liker).unwrap_or_else(|_| format!("#{liker}"));
            ForumError::NotFound(format!("a like of post {post} by {liker}"))
        })?;
    conn.execute("UPDATE likes SET removed_at = ?1 WHERE id = ?2", params![at, like])?;
    record(conn, like as u64, post, Some(liker), at)
}

/// A like from imported history (`liker` unknown when the source hides voters), under its external id.
pub fn import(
    conn: &Connection,
    external_id: &str,
    liker: Option<MemberId>,
    post: u64,
    at: i64,
) -> Result<Like, ForumError> {
    conn.prepare_cached("INSERT INTO likes (post_id, liker_id, created_at, external_id) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![post as i64, liker.map(|l| l as i64), at, external_id])?;
    record(conn, conn.last_insert_rowid() as u64, post, liker, at)
}

/// Take back an imported like, named by its external id.
pub fn import_remove(conn: &Connection, like_external_id: &str, at: i64) -> Result<Like, ForumError> {
    let (like, post, liker): (i64, i64, Option<i64>) = conn
        .prepare_cached("SELECT id, post_id, liker_id FROM likes WHERE external_id = ?1 AND removed_at IS NULL")?
        .query_row(params![like_external_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("like {like_external_id:?}")))?;
    conn.prepare_cached("UPDATE likes SET removed_at = ?1 WHERE id = ?2")?.execute(params![at, like])?;
    record(conn, like as u64, post as u64, liker.map(|l| l as u64), at)
}

/// Take back a live like by its number, whoever gave it (a deleted post's likes: the deletion takes back what the
/// post earned, one like-removed event per like).
pub fn remove_by_id(conn: &Connection, like: u64, at: i64) -> Result<Like, ForumError> {
    let (post, liker): (i64, Option<i64>) = conn
        .prepare_cached("SELECT post_id, liker_id FROM likes WHERE id = ?1 AND removed_at IS NULL")?
        .query_row(params![like as i64], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("a live like {like}")))?;
    conn.prepare_cached("UPDATE likes SET removed_at = ?1 WHERE id = ?2")?.execute(params![at, like as i64])?;
    record(conn, like, post as u64, liker.map(|l| l as u64), at)
}
