//! Account recovery without email: a moderator issues a one-time, expiring link for a member (audited); the link
//! sets a new password once and is then dead.
//!
//! The link carries a random token; only its SHA-256 is stored (`reset_links`), so a copy of the database cannot be
//! used to take over an account. A link is live until it is used or [`LINK_VALID_MS`] pass, whichever comes first;
//! issuing a new link for a member kills the ones issued before. Every way a link can fail to be live — never
//! issued, expired, used, replaced — answers the same refusal ([`DEAD_LINK`]), so a link tells nothing about why.
//! Using a link ends the member's sessions (whoever held the account is logged out).
//!
//! Owns the `reset_links` table. Does not make tokens (the caller brings 32 random bytes: the web's and the command
//! line's random source) or hash passwords (the web's KDF, argon2id).

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{MemberId, members, names};
use crate::error::ForumError;

/// How long a reset link stays usable: a day, long enough to pass the link on by chat, short enough that a link
/// found later is dead.
pub const LINK_VALID_MS: i64 = 24 * 3_600_000;

/// The one refusal of a link that is not live (never issued, expired, used or replaced alike).
pub const DEAD_LINK: &str =
    "this reset link is not valid: it may have expired or been used; ask a moderator for a new one";

/// The stored form of a link's token (hex SHA-256).
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A link issued: for whom, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The member it resets.
    pub member: MemberId,
    /// Their name.
    pub name: String,
    /// When it stops working (ms since the epoch).
    pub expires_at: i64,
}

/// A moderator issues a reset link for `member`, whose token is `token` (random, made by the caller). Earlier
/// links for the member die. Audited as `reset-link-issued`.
pub fn issue(
    conn: &Connection,
    moderator: MemberId,
    member: MemberId,
    token: &str,
    now: i64,
) -> Result<Issued, ForumError> {
    let actor = members::moderator_label(conn, moderator)?;
    members::joined_at(conn, member)?;
    let name: String =
        conn.query_row("SELECT name FROM members WHERE id = ?1", params![member as i64], |row| row.get(0))?;
    let expires_at = now + LINK_VALID_MS;
    conn.execute(
        "UPDATE reset_links SET expires_at = MIN(expires_at, ?2) WHERE member_id = ?1 AND used_at IS NULL",
        params![member as i64, now],
    )?;
    conn.execute(
        "INSERT INTO reset_links (token_hash, member_id, issued_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash(token), member as i64, moderator as i64, now, expires_at],
    )?;
    crate::program::audit(
        conn,
        now,
        &actor,
        "reset-link-issued",
        Some(member),
        "password",
        &format!("a one-time password reset link for {}, valid for 24 hours", names::label(&name, member)),
        None,
    )?;
    Ok(Issued { member, name, expires_at })
}

/// The member a live link resets, or the one refusal.
pub fn live(conn: &Connection, token: &str, now: i64) -> Result<(MemberId, String), ForumError> {
    conn.prepare_cached(
        "SELECT m.id, m.name FROM reset_links r JOIN members m ON m.id = r.member_id \
         WHERE r.token_hash = ?1 AND r.used_at IS NULL AND r.expires_at > ?2",
    )?
    .query_row(params![token_hash(token), now], |row| Ok((row.get::<_, i64>(0)? as MemberId, row.get(1)?)))
    .optional()?
    .ok_or_else(|| ForumError::Invalid(DEAD_LINK.into()))
}

/// Use a live link: set the member's password hash, kill the link, end the member's sessions. Audited as
/// `password-reset`. A dead link is the one refusal and changes nothing.
pub fn redeem(conn: &Connection, token: &str, password_hash: &str, now: i64) -> Result<MemberId, ForumError> {
    let (member, name) = live(conn, token, now)?;
    let used = conn.execute(
        "UPDATE reset_links SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![token_hash(token), now],
    )?;
    if used != 1 {
        return Err(ForumError::Invalid(DEAD_LINK.into()));
    }
    members::set_password_hash(conn, member, password_hash)?;
    conn.execute("DELETE FROM sessions WHERE member_id = ?1", params![member as i64])?;
    crate::program::audit(
        conn,
        now,
        &format!("member {}", names::label(&name, member)),
        "password-reset",
        Some(member),
        "password",
        "set a new password with a reset link",
        None,
    )?;
    Ok(member)
}
