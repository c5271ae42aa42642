//! How members are named and referred to: a name is never all digits and never starts with `#`, so that `#3` (or a
//! bare `3` that no member is called) always means the member whose id is 3, and a name always means its member.
//! Messages speak of a member as `alice (#3)`.
//!
//! Databases from before this rule may hold a member named `3`: a bare `3` is then ambiguous and refused, and both
//! members stay reachable by `#id`.

use rusqlite::{Connection, OptionalExtension, params};

use super::{ForumError, MemberId};

/// Longest member name, in bytes.
pub const MAX_NAME: usize = 64;

/// Why a new member's name is refused, if it is.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() || name.len() > MAX_NAME {
        return Some(format!("a member name needs 1 to {MAX_NAME} characters"));
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Some(format!(
            "a member name cannot be all digits ({name:?}): numbers refer to members by id (#{name}); add a letter"
        ));
    }
    if name.starts_with('#') {
        return Some(format!("a member name cannot start with '#' ({name:?}): #N refers to the member whose id is N"));
    }
    None
}

/// The name an imported member gets: theirs if it is free and allowed, otherwise theirs with `#` and their
/// external id appended (`ada#u7`, `3#17`), or `member#` and their external id when they have none.
pub fn imported_name(name: &str, external_id: &str, taken: bool) -> String {
    if name.trim().is_empty() {
        format!("member#{external_id}")
    } else if taken || name_problem(name).is_some() {
        format!("{name}#{external_id}")
    } else {
        name.to_owned()
    }
}

/// `alice (#3)`.
pub fn label(name: &str, id: MemberId) -> String {
    format!("{name} (#{id})")
}

/// `alice (#3)` for a member id (`#3` alone if there is no such member).
pub fn member_label(conn: &Connection, id: MemberId) -> Result<String, ForumError> {
    let name: Option<String> = conn
        .prepare_cached("SELECT name FROM members WHERE id = ?1")?
        .query_row(params![id as i64], |row| row.get(0))
        .optional()?;
    Ok(name.map_or_else(|| format!("#{id}"), |name| label(&name, id)))
}

/// A member by how a moderator writes them: `#3` is the member whose id is 3; anything else is a name. A bare
/// number is an id when no member is called that (names are never all digits), and refused as ambiguous when a
/// member of an older database is.
pub fn resolve_member(conn: &Connection, text: &str) -> Result<MemberId, ForumError> {
    let by_id = |id: &str| -> Result<Option<MemberId>, ForumError> {
        let Ok(id) = id.parse::<i64>() else { return Ok(None) };
        Ok(conn
            .query_row("SELECT id FROM members WHERE id = ?1", params![id], |row| row.get::<_, i64>(0))
            .optional()?
            .map(|id| id as MemberId))
    };
    if let Some(digits) = text.strip_prefix('#')
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
    {
        return by_id(digits)?.ok_or_else(|| ForumError::NotFound(format!("member #{digits}")));
    }
    let by_name: Option<MemberId> = conn
        .query_row("SELECT id FROM members WHERE name = ?1", params![text], |row| row.get::<_, i64>(0))
        .optional()?
        .map(|id| id as MemberId);
    let numeric = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    match (by_name, numeric) {
        (Some(id), false) => Ok(id),
        (None, false) => Err(ForumError::NotFound(format!("member {text:?}"))),
        (None, true) => by_id(text)?.ok_or_else(|| ForumError::NotFound(format!("member #{text}"))),
        (Some(named), true) => match by_id(text)? {
            Some(numbered) if numbered != named => Err(ForumError::Invalid(format!(
                "{text:?} is ambiguous: it is the name of {} and the id of {}; write #{named} or #{numbered} \
                 (quoted in a shell: '#{named}')",
                member_label(conn, named)?,
                member_label(conn, numbered)?
            ))),
            _ => Ok(named),
        },
    }
}
