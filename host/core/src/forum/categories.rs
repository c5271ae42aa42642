//! Categories: public, or private to a tier (whoever has access to the tier sees it; for everyone else it does not
//! exist — see `visibility`), with a description and a colour moderators set.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::ForumError;

/// Create a category; `tier` makes it private to members with access to that tier.
pub fn create(conn: &Connection, slug: &str, name: &str, tier: Option<&str>) -> Result<u64, ForumError> {
    conn.execute("INSERT INTO categories (slug, name, tier) VALUES (?1, ?2, ?3)", params![slug, name, tier])?;
    Ok(conn.last_insert_rowid() as u64)
}

/// The category with this slug, created if there is none.
pub fn ensure(conn: &Connection, slug: &str, name: &str, tier: Option<&str>) -> Result<u64, ForumError> {
    let existing: Option<i64> =
        conn.query_row("SELECT id FROM categories WHERE slug = ?1", params![slug], |row| row.get(0)).optional()?;
    match existing {
        Some(id) => Ok(id as u64),
        None => create(conn, slug, name, tier),
    }
}

/// The colours a category may have. The style sheet has a class for each (`cat-blue`, …): the content security
/// policy forbids inline styles, so colours are names, never CSS.
pub const PALETTE: [&str; 9] = ["slate", "blue", "green", "teal", "orange", "red", "pink", "purple", "brown"];

/// Longest category description, in characters (a sentence or two under the name).
pub const MAX_DESCRIPTION: usize = 300;

/// Set a category's description and colour (by slug). Refuses a colour outside [`PALETTE`] and a description
/// longer than [`MAX_DESCRIPTION`] or with control characters.
pub fn set_look(conn: &Connection, slug: &str, description: &str, colour: &str) -> Result<(), ForumError> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION || description.chars().any(char::is_control) {
        return Err(ForumError::Invalid(format!(
            "a description has at most {MAX_DESCRIPTION} characters, on one line"
        )));
    }
    if !PALETTE.contains(&colour) {
        return Err(ForumError::Invalid(format!("the colour is one of {}", PALETTE.join(", "))));
    }
    let changed = conn.execute(
        "UPDATE categories SET description = ?1, colour = ?2 WHERE slug = ?3",
        params![description, colour, slug],
    )?;
    if changed == 0 {
        return Err(ForumError::NotFound(format!("category {slug:?}")));
    }
    Ok(())
}
