//! Who may see what: the one rule every read path uses.
//!
//! A category with a `tier` is private: only members with access to that tier (earned, approved or invited) and
//! moderators see it, its topics, posts, counts and search hits. Everyone else gets exactly what a thing that does
//! not exist gets (`None`), never "forbidden": the private forum must not be detectable.

use rusqlite::{Connection, OptionalExtension, params};

use super::MemberId;

/// Who is looking: nobody (anonymous) or a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Not logged in.
    Anonymous,
    /// A logged-in member.
    Member(MemberId),
}

/// The SQL condition (over a category aliased `c`) that is true when `?viewer` (a member id, or -1 for anonymous)
/// may see the category. Every query listing categories, topics, posts or counts must include it.
pub const CATEGORY_VISIBLE_SQL: &str = "(c.tier IS NULL \
    OR EXISTS (SELECT 1 FROM members m WHERE m.id = :viewer AND m.is_moderator = 1) \
    OR EXISTS (SELECT 1 FROM access a WHERE a.member_id = :viewer AND a.tier = c.tier))";

/// The viewer as the `:viewer` parameter of [`CATEGORY_VISIBLE_SQL`].
pub fn viewer_param(viewer: Viewer) -> i64 {
    match viewer {
        Viewer::Anonymous => -1,
        Viewer::Member(id) => id as i64,
    }
}

/// The category of a post, if the viewer may see it (`None` alike when it does not exist, is deleted or is private).
pub fn visible_post_category(conn: &Connection, viewer: Viewer, post: u64) -> rusqlite::Result<Option<u64>> {
    let sql = format!(
        "SELECT c.id FROM posts p JOIN categories c ON c.id = p.category_id WHERE p.id = :post AND p.deleted_at IS NULL AND {CATEGORY_VISIBLE_SQL}"
    );
    conn.prepare_cached(&sql)?
        .query_row(rusqlite::named_params! { ":post": post as i64, ":viewer": viewer_param(viewer) }, |row| {
            row.get::<_, i64>(0)
        })
        .optional()
        .map(|id| id.map(|id| id as u64))
}

/// Whether the viewer may see a category.
pub fn can_see_category(conn: &Connection, viewer: Viewer, category: u64) -> rusqlite::Result<bool> {
    let sql = format!("SELECT 1 FROM categories c WHERE c.id = :category AND {CATEGORY_VISIBLE_SQL}");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            rusqlite::named_params! { ":category": category as i64, ":viewer": viewer_param(viewer) },
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Whether a member has access to a tier.
pub fn has_access(conn: &Connection, member: MemberId, tier: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM access WHERE member_id = ?1 AND tier = ?2")?
        .query_row(params![member as i64, tier], |_| Ok(()))
        .optional()?
        .is_some())
}
