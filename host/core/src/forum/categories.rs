//! Categories: public, or private to a tier (whoever has access to the tier sees it; for everyone else it does not
//! exist — see `visibility`).

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
