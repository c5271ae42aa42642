//! What members read: categories, topic lists, a topic page, the latest topics, search, a member's profile and
//! activity, permalinks and counts — every query filtered by [`visibility`](super::visibility), so a private
//! category's topics, posts and numbers exist only for those who may see them.
//!
//! Owns member-facing reads only. Moderator reads (points, ledger, queue, audit) live in `program::reports`; writes
//! go through the event pipeline (`Forum::create_post`, `like`, …). Every query binds its inputs as parameters.
//!
//! Every query a page runs is bounded by what the page shows: counts are columns kept by the schema's triggers
//! (never a `COUNT` over likes or posts), lists walk an index newest first and stop at the page, search looks
//! words up in the trigram index. `tests::page_queries_use_indexes_and_never_scan_likes_posts_or_events` checks the
//! plans. Posts are named to members by their public id ([`public_ids`](super::public_ids)), never their number.

use rusqlite::{Connection, OptionalExtension, named_params};
use serde::Serialize;

use super::MemberId;
use super::public_ids::PublicIds;
use super::visibility::{CATEGORY_VISIBLE_SQL, Viewer, viewer_param, visible_post_category};

/// A category as a member sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Category {
    /// Its number (internal: the API and pages name a category by its slug, so numbers cannot be counted).
    #[serde(skip)]
    pub id: u64,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// True for a tier's private category (shown only to those who may see it).
    pub private: bool,
    /// Topics in it.
    pub topics: i64,
    /// What it is for (plain text; may be empty).
    pub description: String,
    /// Its colour, one of [`PALETTE`](super::categories::PALETTE).
    pub colour: String,
}

/// A topic in a list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TopicSummary {
    /// The question's post number (internal).
    #[serde(skip)]
    pub id: u64,
    /// The topic's public id (its question's).
    #[serde(rename = "id")]
    pub public_id: String,
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
    /// The question's likes.
    pub likes: i64,
    /// When the topic's latest post was written (ms since the epoch).
    pub last_activity_at: i64,
    /// The category's colour.
    pub category_colour: String,
    /// The category's display name.
    pub category_name: String,
}

/// One post as a member sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Post {
    /// Its number (internal: members see [`public_id`](Post::public_id)).
    #[serde(skip)]
    pub id: u64,
    /// Its public id.
    #[serde(rename = "id")]
    pub public_id: String,
    /// question, answer or reply.
    pub kind: String,
    /// The topic (question) it belongs to (its number, internal).
    #[serde(skip)]
    pub topic: u64,
    /// The topic's public id.
    #[serde(rename = "topic")]
    pub public_topic: String,
    /// The post it replies to (answers: the question), internal.
    #[serde(skip)]
    pub parent: Option<u64>,
    /// The public id of the post it replies to.
    #[serde(rename = "parent")]
    pub public_parent: Option<String>,
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
    /// When it was last edited, if it was (what it said before is for moderators only).
    pub edited_at: Option<i64>,
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

const CATEGORY_SELECT: &str =
    "SELECT c.id, c.slug, c.name, c.tier IS NOT NULL, c.topic_count, c.description, c.colour FROM categories c";

fn category_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Category> {
    Ok(Category {
        id: row.get::<_, i64>(0)? as u64,
        slug: row.get(1)?,
        name: row.get(2)?,
        private: row.get(3)?,
        topics: row.get(4)?,
        description: row.get(5)?,
        colour: row.get(6)?,
    })
}

fn categories_sql() -> String {
    format!("{CATEGORY_SELECT} WHERE {CATEGORY_VISIBLE_SQL} ORDER BY c.tier IS NOT NULL, c.id")
}

/// The categories the viewer may see.
pub fn categories(conn: &Connection, viewer: Viewer) -> rusqlite::Result<Vec<Category>> {
    conn.prepare_cached(&categories_sql())?
        .query_map(named_params! { ":viewer": viewer_param(viewer) }, category_row)?
        .collect()
}

fn category_sql() -> String {
    format!("{CATEGORY_SELECT} WHERE c.slug = :slug AND {CATEGORY_VISIBLE_SQL}")
}

/// A category by slug, if the viewer may see it.
pub fn category(conn: &Connection, viewer: Viewer, slug: &str) -> rusqlite::Result<Option<Category>> {
    conn.prepare_cached(&category_sql())?
        .query_row(named_params! { ":slug": slug, ":viewer": viewer_param(viewer) }, category_row)
        .optional()
}

const TOPIC_SELECT: &str = "SELECT p.id, p.title, c.slug, m.name, p.created_at, p.answer_count, \
     EXISTS (SELECT 1 FROM accepts x WHERE x.question_id = p.id), p.like_count, \
     COALESCE(p.last_activity_at, p.created_at), c.colour, c.name \
     FROM posts p JOIN categories c ON c.id = p.category_id LEFT JOIN members m ON m.id = p.author_id";

fn topic_row(ids: &PublicIds) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<TopicSummary> + '_ {
    move |row| {
        let id = row.get::<_, i64>(0)? as u64;
        Ok(TopicSummary {
            id,
            public_id: ids.post(id),
            title: row.get(1)?,
            category: row.get(2)?,
            author: row.get(3)?,
            created_at: row.get(4)?,
            answers: row.get(5)?,
            solved: row.get(6)?,
            likes: row.get(7)?,
            last_activity_at: row.get(8)?,
            category_colour: row.get(9)?,
            category_name: row.get(10)?,
        })
    }
}

/// Where a page of a list starts: after the item with this time and number (keyset paging: the next page is an
/// index lookup, as fast at page 1,000 as at page 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last shown item's time (ms since the epoch).
    pub at: i64,
    /// The last shown item's number (ties on time).
    pub id: u64,
}

/// A page of a list, and where the next one starts (`None`: this is the last).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// The cursor of the next (older) page.
    #[serde(skip)]
    pub next: Option<Cursor>,
}

/// Posts that are not deleted: a deleted post is, to members, a post that was never written (`forum::edits`).
pub const LIVE: &str = "p.deleted_at IS NULL";

/// The page condition of a keyset list (after the cursor), newest first.
const AFTER_CURSOR: &str = "(p.created_at < :before_at OR (p.created_at = :before_at AND p.id < :before_id))";

fn topics_sql(in_category: bool) -> String {
    // Two statements rather than `:category IS NULL OR …`, which would hide the per-category index from the
    // planner. Both walk a partial index of questions newest first and stop after the page.
    if in_category {
        format!(
            "{TOPIC_SELECT} WHERE p.category_id = :category AND p.kind = 'question' AND {LIVE} AND {CATEGORY_VISIBLE_SQL} \
             AND {AFTER_CURSOR} ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"
        )
    } else {
        format!(
            "{TOPIC_SELECT} WHERE p.kind = 'question' AND {LIVE} AND {CATEGORY_VISIBLE_SQL} \
             AND {AFTER_CURSOR} ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"
        )
    }
}

/// The topics of a category (newest first), or of every visible category (`None`: the latest feed): the first page.
pub fn topics(conn: &Connection, viewer: Viewer, category: Option<u64>) -> rusqlite::Result<Vec<TopicSummary>> {
    Ok(topics_page(conn, viewer, category, None)?.items)
}

/// A page of [`topics`], starting after `after` (`None`: the newest).
pub fn topics_page(
    conn: &Connection,
    viewer: Viewer,
    category: Option<u64>,
    after: Option<Cursor>,
) -> rusqlite::Result<Page<TopicSummary>> {
    let ids = PublicIds::load(conn)?;
    let after = after.unwrap_or(Cursor { at: i64::MAX, id: i64::MAX as u64 });
    let mut statement = conn.prepare_cached(&topics_sql(category.is_some()))?;
    let viewer = viewer_param(viewer);
    let (before_at, before_id, limit) = (after.at, after.id as i64, PAGE as i64 + 1);
    let mut items: Vec<TopicSummary> = match category {
        Some(category) => statement.query_map(
            named_params! { ":category": category as i64, ":viewer": viewer, ":before_at": before_at,
            ":before_id": before_id, ":limit": limit },
            topic_row(&ids),
        )?,
        None => statement.query_map(
            named_params! { ":viewer": viewer, ":before_at": before_at, ":before_id": before_id, ":limit": limit },
            topic_row(&ids),
        )?,
    }
    .collect::<rusqlite::Result<_>>()?;
    let next = paged(&mut items, |t| Cursor { at: t.created_at, id: t.id });
    Ok(Page { items, next })
}

/// Cut a list fetched with one row too many down to the page; the cursor after its last item if there is more.
fn paged<T>(items: &mut Vec<T>, cursor: impl Fn(&T) -> Cursor) -> Option<Cursor> {
    if items.len() <= PAGE {
        return None;
    }
    items.truncate(PAGE);
    items.last().map(cursor)
}

const POST_SELECT: &str = "SELECT p.id, p.kind, p.topic_id, p.parent_id, m.name, p.author_id, p.title, p.body, \
     p.created_at, p.like_count, \
     EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.liker_id = :viewer AND l.removed_at IS NULL), \
     EXISTS (SELECT 1 FROM accepts x WHERE x.answer_id = p.id), p.edited_at \
     FROM posts p JOIN categories c ON c.id = p.category_id LEFT JOIN members m ON m.id = p.author_id";

fn post_row(ids: &PublicIds) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Post> + '_ {
    move |row| {
        let id = row.get::<_, i64>(0)? as u64;
        let topic = row.get::<_, i64>(2)? as u64;
        let parent = row.get::<_, Option<i64>>(3)?.map(|p| p as u64);
        Ok(Post {
            id,
            public_id: ids.post(id),
            kind: row.get(1)?,
            topic,
            public_topic: ids.post(topic),
            parent,
            public_parent: parent.map(|p| ids.post(p)),
            author: row.get(4)?,
            author_id: row.get::<_, Option<i64>>(5)?.map(|a| a as u64),
            title: row.get(6)?,
            body: row.get(7)?,
            created_at: row.get(8)?,
            likes: row.get(9)?,
            liked: row.get(10)?,
            accepted: row.get(11)?,
            edited_at: row.get(12)?,
        })
    }
}

fn question_sql() -> String {
    format!("{POST_SELECT} WHERE p.id = :topic AND p.kind = 'question' AND {LIVE} AND {CATEGORY_VISIBLE_SQL}")
}

fn topic_posts_sql() -> String {
    format!(
        "{POST_SELECT} WHERE p.topic_id = :topic AND p.id != :topic AND {LIVE} AND {CATEGORY_VISIBLE_SQL} \
         ORDER BY p.topic_id, p.created_at, p.id"
    )
}

/// A topic page, if the viewer may see it (`None` both when it does not exist and when it is private).
pub fn topic(conn: &Connection, viewer: Viewer, topic: u64) -> rusqlite::Result<Option<Topic>> {
    let ids = PublicIds::load(conn)?;
    let params = named_params! { ":topic": topic as i64, ":viewer": viewer_param(viewer) };
    let Some(question) = conn.prepare_cached(&question_sql())?.query_row(params, post_row(&ids)).optional()? else {
        return Ok(None);
    };
    let posts =
        conn.prepare_cached(&topic_posts_sql())?.query_map(params, post_row(&ids))?.collect::<rusqlite::Result<_>>()?;
    let category_id: i64 = conn.query_row(
        "SELECT category_id FROM posts WHERE id = :topic",
        named_params! { ":topic": topic as i64 },
        |row| row.get(0),
    )?;
    let sql = format!("{CATEGORY_SELECT} WHERE c.id = :category");
    let category = conn.prepare_cached(&sql)?.query_row(named_params! { ":category": category_id }, category_row)?;
    Ok(Some(Topic { category, question, posts }))
}

fn post_sql() -> String {
    format!("{POST_SELECT} WHERE p.id = :post AND {LIVE} AND {CATEGORY_VISIBLE_SQL}")
}

/// One post (a permalink), if the viewer may see it.
pub fn post(conn: &Connection, viewer: Viewer, post: u64) -> rusqlite::Result<Option<Post>> {
    if visible_post_category(conn, viewer, post)?.is_none() {
        return Ok(None);
    }
    let ids = PublicIds::load(conn)?;
    conn.prepare_cached(&post_sql())?
        .query_row(named_params! { ":post": post as i64, ":viewer": viewer_param(viewer) }, post_row(&ids))
        .optional()
}

/// Longest search query accepted (longer ones are cut).
pub const MAX_QUERY: usize = 100;

/// Shortest search query looked up: the index is of three-letter sequences (trigrams), so shorter text cannot be
/// looked up without reading every post.
pub const MIN_QUERY: usize = 3;

fn search_sql() -> String {
    // The trigram index finds the posts that contain the text; only those are sorted and filtered.
    format!(
        "{POST_SELECT} JOIN posts_text s ON s.rowid = p.id WHERE s.posts_text MATCH :phrase \
         AND {AFTER_CURSOR} AND {LIVE} AND {CATEGORY_VISIBLE_SQL} ORDER BY p.created_at DESC, p.id DESC LIMIT :limit"
    )
}

/// Posts whose title or text contains `query` (case-insensitive, newest first), among those the viewer may see.
pub fn search(conn: &Connection, viewer: Viewer, query: &str) -> rusqlite::Result<Vec<Post>> {
    Ok(search_page(conn, viewer, query, None)?.items)
}

/// A page of [`search`] hits, starting after `after`. Queries shorter than [`MIN_QUERY`] characters find nothing.
pub fn search_page(
    conn: &Connection,
    viewer: Viewer,
    query: &str,
    after: Option<Cursor>,
) -> rusqlite::Result<Page<Post>> {
    let query: String = query.trim().chars().take(MAX_QUERY).collect();
    if query.chars().count() < MIN_QUERY {
        return Ok(Page { items: Vec::new(), next: None });
    }
    // One phrase, quotes doubled: the words are matched as typed, never as query syntax.
    let phrase = format!("\"{}\"", query.replace('"', "\"\""));
    let ids = PublicIds::load(conn)?;
    let after = after.unwrap_or(Cursor { at: i64::MAX, id: i64::MAX as u64 });
    let mut items: Vec<Post> = conn
        .prepare_cached(&search_sql())?
        .query_map(
            named_params! { ":phrase": phrase, ":viewer": viewer_param(viewer), ":before_at": after.at,
            ":before_id": after.id as i64, ":limit": PAGE as i64 + 1 },
            post_row(&ids),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let next = paged(&mut items, |p| Cursor { at: p.created_at, id: p.id });
    Ok(Page { items, next })
}

fn profile_count_sql() -> String {
    format!(
        "SELECT COUNT(*) FROM posts p JOIN categories c ON c.id = p.category_id \
         WHERE p.author_id = :member AND {LIVE} AND {CATEGORY_VISIBLE_SQL}"
    )
}

fn activity_sql() -> String {
    format!(
        "{POST_SELECT} WHERE p.author_id = :member AND {LIVE} AND {CATEGORY_VISIBLE_SQL} AND {AFTER_CURSOR} \
         ORDER BY p.author_id DESC, p.created_at DESC, p.id DESC LIMIT :limit"
    )
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
    let posts = conn
        .prepare_cached(&profile_count_sql())?
        .query_row(named_params! { ":member": id, ":viewer": viewer_param(viewer) }, |row| row.get(0))?;
    let recent = activity(conn, viewer, id as MemberId, None)?.items;
    Ok(Some(Profile { id: id as MemberId, name, joined_at, badges, posts, recent }))
}

/// A page of a member's posts the viewer may see, newest first, starting after `after`.
pub fn activity(
    conn: &Connection,
    viewer: Viewer,
    member: MemberId,
    after: Option<Cursor>,
) -> rusqlite::Result<Page<Post>> {
    let ids = PublicIds::load(conn)?;
    let after = after.unwrap_or(Cursor { at: i64::MAX, id: i64::MAX as u64 });
    let mut items: Vec<Post> = conn
        .prepare_cached(&activity_sql())?
        .query_map(
            named_params! { ":member": member as i64, ":viewer": viewer_param(viewer), ":before_at": after.at,
            ":before_id": after.id as i64, ":limit": PAGE as i64 + 1 },
            post_row(&ids),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let next = paged(&mut items, |p| Cursor { at: p.created_at, id: p.id });
    Ok(Page { items, next })
}

fn topic_title_sql() -> String {
    format!(
        "SELECT p.title FROM posts p JOIN categories c ON c.id = p.category_id \
         WHERE p.id = :topic AND p.kind = 'question' AND {LIVE} AND {CATEGORY_VISIBLE_SQL}"
    )
}

/// The title of each topic, for lists of posts (search hits, profiles): only topics the viewer may see.
pub fn topic_title(conn: &Connection, viewer: Viewer, topic: u64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(&topic_title_sql())?
        .query_row(named_params! { ":topic": topic as i64, ":viewer": viewer_param(viewer) }, |row| row.get(0))
        .optional()
}

/// Every statement the member pages run, by name (for the plan test).
#[cfg(test)]
fn page_queries() -> Vec<(&'static str, String)> {
    vec![
        ("categories", categories_sql()),
        ("category", category_sql()),
        ("latest", topics_sql(false)),
        ("category topics", topics_sql(true)),
        ("question", question_sql()),
        ("topic posts", topic_posts_sql()),
        ("post", post_sql()),
        ("search", search_sql()),
        ("profile count", profile_count_sql()),
        ("activity", activity_sql()),
        ("topic title", topic_title_sql()),
    ]
}

#[cfg(test)]
#[path = "read_plans.rs"]
mod tests;
