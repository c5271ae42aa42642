//! Members: registering (live or imported), finding by name, and how messages name them.

use rusqlite::{Connection, OptionalExtension, params};

use super::MemberId;
use super::names;
use crate::error::ForumError;

/// Register a member (not an event for the program: members enter its view through their actions).
pub fn register(conn: &Connection, name: &str, joined_at: i64, moderator: bool) -> Result<MemberId, ForumError> {
    let name = name.trim();
    if let Some(problem) = names::name_problem(name) {
        return Err(ForumError::Invalid(problem));
    }
    if let Some(holder) = names::taken_by(conn, name)? {
        return Err(ForumError::Invalid(names::taken_message(name, &holder)));
    }
    conn.execute(
        "INSERT INTO members (name, joined_at, is_moderator, name_key) VALUES (?1, ?2, ?3, ?4)",
        params![name, joined_at, moderator, names::name_key(name)],
    )?;
    Ok(conn.last_insert_rowid() as MemberId)
}

/// A member from imported history, by external id: the existing one, or a new one (a name that breaks the
/// forum's rules or is taken gets the external id added, see `names::imported_name`).
pub fn import(conn: &Connection, external_id: &str, name: &str, joined_at: i64) -> Result<MemberId, ForumError> {
    let existing: Option<i64> = conn
        .prepare_cached("SELECT id FROM members WHERE external_id = ?1")?
        .query_row(params![external_id], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id as MemberId);
    }
    let name = names::imported_name_in(conn, name, external_id)?;
    conn.prepare_cached(
        "INSERT INTO members (name, joined_at, is_moderator, external_id, name_key) VALUES (?1, ?2, 0, ?3, ?4)",
    )?
    .execute(params![name, joined_at, external_id, names::name_key(&name)])?;
    Ok(conn.last_insert_rowid() as MemberId)
}

/// A member's id by name.
pub fn id_by_name(conn: &Connection, name: &str) -> Result<MemberId, ForumError> {
    conn.query_row("SELECT id FROM members WHERE name = ?1", params![name], |row| row.get::<_, i64>(0))
        .optional()?
        .map(|id| id as MemberId)
        .ok_or_else(|| ForumError::NotFound(format!("member {name:?}")))
}

/// When a member joined (refusing an unknown member).
pub fn joined_at(conn: &Connection, member: MemberId) -> Result<i64, ForumError> {
    joined_at_if_known(conn, member)?.ok_or_else(|| ForumError::NotFound(format!("member #{member}")))
}

/// When a member joined, if the member is known (imported history may name members it does not have).
pub fn joined_at_if_known(conn: &Connection, member: MemberId) -> Result<Option<i64>, ForumError> {
    Ok(conn
        .prepare_cached("SELECT joined_at FROM members WHERE id = ?1")?
        .query_row(params![member as i64], |row| row.get::<_, i64>(0))
        .optional()?)
}

/// `moderator alice (#3)`, refusing non-moderators.
pub fn moderator_label(conn: &Connection, moderator: MemberId) -> Result<String, ForumError> {
    let (name, is_moderator): (String, bool) = conn
        .query_row("SELECT name, is_moderator FROM members WHERE id = ?1", params![moderator as i64], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("member #{moderator}")))?;
    let who = names::label(&name, moderator);
    if !is_moderator {
        return Err(ForumError::Invalid(format!("{who} is not a moderator")));
    }
    Ok(format!("moderator {who}"))
}

/// Store a member's password hash (the web hashes it; the forum keeps it with the member).
pub fn set_password_hash(conn: &Connection, member: MemberId, hash: &str) -> Result<(), ForumError> {
    let changed = conn.execute("UPDATE members SET password_hash = ?1 WHERE id = ?2", params![hash, member as i64])?;
    if changed == 0 {
        return Err(ForumError::NotFound(format!("member #{member}")));
    }
    Ok(())
}

/// Make a member a moderator (the forum's operator does this from the command line).
pub fn set_moderator(conn: &Connection, member: MemberId) -> Result<(), ForumError> {
    let changed = conn.execute("UPDATE members SET is_moderator = 1 WHERE id = ?1", params![member as i64])?;
    if changed == 0 {
        return Err(ForumError::NotFound(format!("member #{member}")));
    }
    Ok(())
}
