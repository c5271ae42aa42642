//! What members read: categories, topic lists, a topic page, the latest topics, search, a member's profile and
//! activity, permalinks and counts — every query filtered by [`visibility`](super::visibility), so a private
//! category's topics, posts and numbers exist only for those who may see them.
//!
//! Owns member-facing reads only. Moderator reads (points, ledger, queue, audit) live in `program::reports`; writes
//! go through the event pipeline (`Forum::create_post`, `like`, …). Every query binds its inputs as parameters.

use rusqlite::{Connection, OptionalExtension, named_params};
use serde::Serialize;

use super::MemberId;
use super::visibility::{CATEGORY_VISIBLE_SQL, Viewer, viewer_param, visible_post_category};

/// A category as a member sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Category {
    /// Its id.
    pub id: u64,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// True for a tier's private category (shown only to those who may see it).
    pub private: bool,
    /// Topics in it.
    pub topics: i64,
}

/// A topic in a list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopicSummary {
    /// The question's post id (the topic's id).
    pub id: u64,
    /// Its title.
    pub title: String,
    /// The category's slug.
    pub category: String,
    /// The asker's name (`None`: deleted account).
    pub author: Option<String>,
    /// When asked (ms since the epoch).
    pub created_at: i64,
    /// Answers so far.
    pub answers: i64,
    /// Whether an answer is accepted.
    pub solved: bool,
}

/// One post as a member sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Post {
    /// Its id.
    pub id: u64,
    /// question, answer or reply.
    pub kind: String,
    /// The topic (question) it belongs to.
    pub topic: u64,
    /// The post it replies to (answers: the question).
    pub parent: Option<u64>,
    /// The author's name (`None`: deleted account).
    pub author: Option<String>,
    /// The author's id.
    pub author_id: Option<u64>,
    /// Questions only.
    pub title: Option<String>,
    /// The text (plain text; pages escape it).
    pub body: String,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// Likes it has now.
    pub likes: i64,
    /// Whether the viewer likes it.
    pub liked: bool,
    /// Whether it is the topic's accepted answer.
    pub accepted: bool,
}

/// A topic page: the question, then its answers and replies in order.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Topic {
    /// The category.
    pub category: Category,
    /// The question.
    pub question: Post,
    /// Answers and replies, oldest first.
    pub posts: Vec<Post>,
}

/// A badge as profiles show it: name, level and what earns it (nothing else of the program).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Badge {
    /// Display name.
    pub name: String,
    /// bronze, silver or gold.
    pub level: String,
    /// What earns it.
    pub description: String,
}

/// A member's public profile: badges and visible activity.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Profile {
    /// Member id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// When they joined (ms since the epoch).
    pub joined_at: i64,
    /// Badges.
    pub badges: Vec<Badge>,
    /// Posts the viewer can see (a count over visible categories only).
    pub posts: i64,
    /// Their latest visible posts.
    pub recent: Vec<Post>,
}

/// Most rows any list returns (a page).
pub const PAGE: usize = 50;

const CATEGORY_SELECT: &str = "SELECT c.id, c.slug, c.name, c.tier IS NOT NULL, \
     (SELECT COUNT(*) FROM posts t WHERE t.category_id = c.id AND t.kind = 'question') FROM categories c";

fn category_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Category> {
    Ok(Category {
        id: row.get::<_, i64>(0)? as u64,
        slug: row.get(1)?,
        name: row.get(2)?,
        private: row.get(3)?,
        topics: row.get(4)?,
    })
}

/// The categories the viewer may see.
pub fn categories(conn: &Connection, viewer: Viewer) -> rusqlite::Result<Vec<Category>> {
    let sql = format!("{CATEGORY_SELECT} WHERE {CATEGORY_VISIBLE_SQL} ORDER BY c.tier IS NOT NULL, c.id");
    conn.prepare_cached(&sql)?.query_map(named_params! { ":viewer": viewer_param(viewer) }, category_row)?.collect()
}

/// A category by slug, if the viewer may see it.
pub fn category(conn: &Connection, viewer: Viewer, slug: &str) -> rusqlite::Result<Option<Category>> {
    let sql = format!("{CATEGORY_SELECT} WHERE c.slug = :slug AND {CATEGORY_VISIBLE_SQL}");
    conn.prepare_cached(&sql)?
        .query_row(named_params! { ":slug": slug, ":viewer": viewer_param(viewer) }, category_row)
        .optional()
}

const TOPIC_SELECT: &str = "SELECT p.id, p.title, c.slug, m.name, p.created_at, \
     (SELECT COUNT(*) FROM posts a WHERE a.topic_id = p.id AND a.kind = 'answer'), \
     EXISTS (SELECT 1 FROM accepts x WHERE x.question_id = p.id) \
     FROM posts p JOIN categories c ON c.id = p.category_id LEFT JOIN members m ON m.id = p.author_id";

fn topic_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TopicSummary> {
    Ok(TopicSummary {
        id: row.get::<_, i64>(0)? as u64,
        title: row.get(1)?,
        category: row.get(2)?,
        author: row.get(3)?,
        created_at: row.get(4)?,
        answers: row.get(5)?,
        solved: row.get(6)?,
    })
}

/// The topics of a category (newest first), or of every visible category (`None`: the latest feed).
pub fn topics(conn: &Connection, viewer: Viewer, category: Option<u64>) -> rusqlite::Result<Vec<TopicSummary>> {
    let sql = format!(
        "{TOPIC_SELECT} WHERE p.kind = 'question' AND (:category IS NULL OR c.id = :category) AND {CATEGORY_VISIBLE_SQL} \
         ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"
    );
    conn.prepare_cached(&sql)?
        .query_map(
            named_params! {
                ":category": category.map(|c| c as i64),
                ":viewer": viewer_param(viewer),
                ":limit": PAGE as i64,
            },
            topic_row,
        )?
        .collect()
}

const POST_SELECT: &str = "SELECT p.id, p.kind, p.topic_id, p.parent_id, m.name, p.author_id, p.title, p.body, \
     p.created_at, (SELECT COUNT(*) FROM likes l WHERE l.post_id = p.id AND l.removed_at IS NULL), \
     EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.liker_id = :viewer AND l.removed_at IS NULL), \
     EXISTS (SELECT 1 FROM accepts x WHERE x.answer_id = p.id) \
     FROM posts p JOIN categories c ON c.id = p.category_id LEFT JOIN members m ON m.id = p.author_id";

fn post_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: row.get::<_, i64>(0)? as u64,
        kind: row.get(1)?,
        topic: row.get::<_, i64>(2)? as u64,
        parent: row.get::<_, Option<i64>>(3)?.map(|p| p as u64),
        author: row.get(4)?,
        author_id: row.get::<_, Option<i64>>(5)?.map(|a| a as u64),
        title: row.get(6)?,
        body: row.get(7)?,
        created_at: row.get(8)?,
        likes: row.get(9)?,
        liked: row.get(10)?,
        accepted: row.get(11)?,
    })
}

/// A topic page, if the viewer may see it (`None` both when it does not exist and when it is private).
pub fn topic(conn: &Connection, viewer: Viewer, topic: u64) -> rusqlite::Result<Option<Topic>> {
    let sql = format!("{POST_SELECT} WHERE p.id = :topic AND p.kind = 'question' AND {CATEGORY_VISIBLE_SQL}");
    let params = named_params! { ":topic": topic as i64, ":viewer": viewer_param(viewer) };
    let Some(question) = conn.prepare_cached(&sql)?.query_row(params, post_row).optional()? else {
        return Ok(None);
    };
    let sql = format!(
        "{POST_SELECT} WHERE p.topic_id = :topic AND p.id != :topic AND {CATEGORY_VISIBLE_SQL} ORDER BY p.created_at, p.id"
    );
    let posts = conn.prepare_cached(&sql)?.query_map(params, post_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    let category_id: i64 = conn.query_row(
        "SELECT category_id FROM posts WHERE id = :topic",
        named_params! { ":topic": topic as i64 },
        |row| row.get(0),
    )?;
    let sql = format!("{CATEGORY_SELECT} WHERE c.id = :category");
    let category = conn.prepare_cached(&sql)?.query_row(named_params! { ":category": category_id }, category_row)?;
    Ok(Some(Topic { category, question, posts }))
}

/// One post (a permalink), if the viewer may see it.
pub fn post(conn: &Connection, viewer: Viewer, post: u64) -> rusqlite::Result<Option<Post>> {
    if visible_post_category(conn, viewer, post)?.is_none() {
        return Ok(None);
    }
    let sql = format!("{POST_SELECT} WHERE p.id = :post AND {CATEGORY_VISIBLE_SQL}");
    conn.prepare_cached(&sql)?
        .query_row(named_params! { ":post": post as i64, ":viewer": viewer_param(viewer) }, post_row)
        .optional()
}

/// Longest search query accepted (longer ones are cut).
pub const MAX_QUERY: usize = 100;

/// Posts whose title or text contains `query` (case-insensitive, newest first), among those the viewer may see.
pub fn search(conn: &Connection, viewer: Viewer, query: &str) -> rusqlite::Result<Vec<Post>> {
    let query: String = query.trim().chars().take(MAX_QUERY).collect();
    if query.is_empty() {
        return Ok(Vec::new());
    }
    // LIKE wildcards in the query are matched literally.
    let escaped = query.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let sql = format!(
        "{POST_SELECT} WHERE (p.body LIKE :pattern ESCAPE '\\' OR p.title LIKE :pattern ESCAPE '\\') \
         AND {CATEGORY_VISIBLE_SQL} ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"
    );
    conn.prepare_cached(&sql)?
        .query_map(
            named_params! { ":pattern": pattern, ":viewer": viewer_param(viewer), ":limit": PAGE as i64 },
            post_row,
        )?
        .collect()
}

/// A member's profile by name: badges, and posts counted and listed over the categories the viewer may see.
pub fn profile(conn: &Connection, viewer: Viewer, name: &str) -> rusqlite::Result<Option<Profile>> {
    let found: Option<(i64, String, i64)> = conn
        .prepare_cached("SELECT id, name, joined_at FROM members WHERE name = :name")?
        .query_row(named_params! { ":name": name }, |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    let Some((id, name, joined_at)) = found else { return Ok(None) };
    let badges = conn
        .prepare_cached(
            "SELECT name, level, description FROM badges WHERE member_id = :member ORDER BY granted_at, badge",
        )?
        .query_map(named_params! { ":member": id }, |row| {
            Ok(Badge { name: row.get(0)?, level: row.get(1)?, description: row.get(2)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let sql = format!(
        "SELECT COUNT(*) FROM posts p JOIN categories c ON c.id = p.category_id \
         WHERE p.author_id = :member AND {CATEGORY_VISIBLE_SQL}"
    );
    let posts = conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":member": id, ":viewer": viewer_param(viewer) }, |row| row.get(0))?;
    let params = named_params! { ":member": id, ":viewer": viewer_param(viewer), ":limit": 20 };
    let sql = format!(
        "{POST_SELECT} WHERE p.author_id = :member AND {CATEGORY_VISIBLE_SQL} \
         ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"
    );
    let recent = conn.prepare_cached(&sql)?.query_map(params, post_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(Profile { id: id as MemberId, name, joined_at, badges, posts, recent }))
}

/// The title of each topic, for lists of posts (search hits, profiles): only topics the viewer may see.
pub fn topic_title(conn: &Connection, viewer: Viewer, topic: u64) -> rusqlite::Result<Option<String>> {
    let sql = format!(
        "SELECT p.title FROM posts p JOIN categories c ON c.id = p.category_id \
         WHERE p.id = :topic AND p.kind = 'question' AND {CATEGORY_VISIBLE_SQL}"
    );
    conn.prepare_cached(&sql)?
        .query_row(named_params! { ":topic": topic as i64, ":viewer": viewer_param(viewer) }, |row| row.get(0))
        .optional()
}
