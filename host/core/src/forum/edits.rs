//! Editing and deleting posts, as tables: who may, the revision an edit keeps, what a deletion takes with it.
//!
//! An edit replaces a post's text (and a question's title) and keeps the text it replaced in `post_revisions`, for
//! moderators. A deletion marks the post deleted (`posts.deleted_at`) with everything that hangs under it — a
//! question takes its whole topic, an answer or reply its replies — and every member read then treats those posts
//! as never written (`read` filters them; the schema's triggers take them out of the counts and the search index).
//! The author may edit or delete their own post; a moderator any post. A member may not delete their own question
//! once it has answers (that would delete other members' answers): a moderator may.
//!
//! Owns the checks and the table changes only. Taking back what a deleted post earned (its live likes, its accept)
//! is the pipeline's (`events::post_changes`), which records each as its own event through [`likes`](super::likes)
//! and [`accepts`](super::accepts) before [`mark_deleted`] runs.

use rusqlite::{Connection, OptionalExtension, params};

use super::{MemberId, names};
use crate::error::ForumError;

/// Longest title and text an edit accepts (the same bounds as a new post's).
const MAX_TITLE: usize = 300;
const MAX_BODY: usize = 64 << 10;

/// A post as an edit or a deletion needs it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its number.
    pub id: u64,
    /// question, answer or reply.
    pub kind: String,
    /// Its author (`None`: a deleted account).
    pub author: Option<MemberId>,
    /// The question of its topic.
    pub topic: u64,
    /// Its title (questions).
    pub title: Option<String>,
    /// Its text.
    pub body: String,
}

/// A live (not deleted) post, or not found.
pub fn target(conn: &Connection, post: u64) -> Result<Target, ForumError> {
    conn.prepare_cached(
        "SELECT id, kind, author_id, topic_id, title, body FROM posts WHERE id = ?1 AND deleted_at IS NULL",
    )?
    .query_row(params![post as i64], |row| {
        Ok(Target {
            id: row.get::<_, i64>(0)? as u64,
            kind: row.get(1)?,
            author: row.get::<_, Option<i64>>(2)?.map(|a| a as u64),
            topic: row.get::<_, i64>(3)? as u64,
            title: row.get(4)?,
            body: row.get(5)?,
        })
    })
    .optional()?
    .ok_or_else(|| ForumError::NotFound(format!("post {post}")))
}

/// Whether `member` is a moderator.
pub fn is_moderator(conn: &Connection, member: MemberId) -> Result<bool, ForumError> {
    conn.prepare_cached("SELECT is_moderator FROM members WHERE id = ?1")?
        .query_row(params![member as i64], |row| row.get::<_, bool>(0))
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("member #{member}")))
}

/// Who is changing a post: its author, or a moderator changing someone else's (audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The post's own author.
    Author,
    /// A moderator, on another member's post.
    Moderator,
}

/// Whether `actor` may change `post`: its author or a moderator. Anyone else is refused as if the post were not
/// there (a member learns nothing by trying).
pub fn role(conn: &Connection, actor: MemberId, post: &Target) -> Result<Role, ForumError> {
    if post.author == Some(actor) {
        return Ok(Role::Author);
    }
    if is_moderator(conn, actor)? {
        return Ok(Role::Moderator);
    }
    Err(ForumError::NotFound(format!("post {} (for {})", post.id, names::member_label(conn, actor)?)))
}

/// Replace a post's text (and a question's title), keeping the replaced text as a revision. Nothing changes (and
/// no revision is kept) when the text is the same.
pub fn edit(
    conn: &Connection,
    editor: MemberId,
    post: &Target,
    title: Option<&str>,
    body: &str,
    at: i64,
) -> Result<bool, ForumError> {
    if body.trim().is_empty() || body.len() > MAX_BODY {
        return Err(ForumError::Invalid(format!("a post needs 1 to {MAX_BODY} bytes of text")));
    }
    let title = match (post.kind.as_str(), title) {
        ("question", Some(title)) => {
            let title = title.trim();
            if title.is_empty() || title.len() > MAX_TITLE {
                return Err(ForumError::Invalid(format!("a question needs a title of 1 to {MAX_TITLE} bytes")));
            }
            Some(title.to_owned())
        }
        // A question keeps its title when none is sent; answers and replies have none.
        ("question", None) => post.title.clone(),
        _ => None,
    };
    if title == post.title && body == post.body {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO post_revisions (post_id, title, body, replaced_at, editor_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![post.id as i64, post.title, post.body, at, editor as i64])?;
    conn.prepare_cached("UPDATE posts SET title = ?1, body = ?2, edited_at = ?3 WHERE id = ?4")?.execute(params![
        title,
        body,
        at,
        post.id as i64
    ])?;
    Ok(true)
}

/// The live posts a deletion of `post` takes with it, `post` first: a question its whole topic, an answer or
/// reply everything that replies to it (at any depth).
pub fn doomed(conn: &Connection, post: &Target) -> Result<Vec<u64>, ForumError> {
    let ids = if post.kind == "question" {
        conn.prepare_cached(
            "SELECT id FROM posts WHERE topic_id = ?1 AND deleted_at IS NULL ORDER BY id = ?1 DESC, created_at, id",
        )?
        .query_map(params![post.id as i64], |row| row.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        conn.prepare_cached(
            "WITH RECURSIVE under(id) AS (SELECT ?1 UNION SELECT p.id FROM posts p JOIN under u ON p.parent_id = u.id \
             WHERE p.deleted_at IS NULL) SELECT id FROM under",
        )?
        .query_map(params![post.id as i64], |row| row.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?
    };
    Ok(ids.into_iter().map(|id| id as u64).collect())
}

/// Refuse a member deleting their own question that others have answered (it would take their answers with it).
pub fn check_delete(conn: &Connection, role: Role, post: &Target) -> Result<(), ForumError> {
    if role == Role::Author && post.kind == "question" {
        let answers: i64 = conn
            .prepare_cached("SELECT answer_count FROM posts WHERE id = ?1")?
            .query_row(params![post.id as i64], |row| row.get(0))?;
        if answers > 0 {
            return Err(ForumError::Invalid(
                "a question with answers can only be deleted by a moderator; edit it instead".into(),
            ));
        }
    }
    Ok(())
}

/// The live likes of these posts (like number, post), oldest first.
pub fn live_likes(conn: &Connection, posts: &[u64]) -> Result<Vec<(u64, u64)>, ForumError> {
    let mut statement =
        conn.prepare_cached("SELECT id FROM likes WHERE post_id = ?1 AND removed_at IS NULL ORDER BY id")?;
    let mut likes = Vec::new();
    for &post in posts {
        for like in statement.query_map(params![post as i64], |row| row.get::<_, i64>(0))? {
            likes.push((like? as u64, post));
        }
    }
    Ok(likes)
}

/// Accepted answers among these posts.
pub fn accepted_among(conn: &Connection, posts: &[u64]) -> Result<Vec<u64>, ForumError> {
    let mut statement = conn.prepare_cached("SELECT 1 FROM accepts WHERE answer_id = ?1")?;
    let mut accepted = Vec::new();
    for &post in posts {
        if statement.query_row(params![post as i64], |_| Ok(())).optional()?.is_some() {
            accepted.push(post);
        }
    }
    Ok(accepted)
}

/// Mark posts deleted (after what they earned was taken back).
pub fn mark_deleted(conn: &Connection, posts: &[u64], by: MemberId, at: i64) -> Result<(), ForumError> {
    let mut statement =
        conn.prepare_cached("UPDATE posts SET deleted_at = ?1, deleted_by = ?2 WHERE id = ?3 AND deleted_at IS NULL")?;
    for &post in posts {
        statement.execute(params![at, by as i64, post as i64])?;
    }
    Ok(())
}

/// A text a post had before an edit.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Revision {
    /// Its title then (questions).
    pub title: Option<String>,
    /// Its text then.
    pub body: String,
    /// When an edit replaced it (ms since the epoch).
    pub replaced_at: i64,
    /// Who edited (`None`: a deleted account).
    pub editor: Option<String>,
}

/// A post as moderators see it: deleted or not, with every earlier text.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct History {
    /// Its number (moderators see it; pages link by public id).
    pub id: u64,
    /// question, answer or reply.
    pub kind: String,
    /// The question of its topic.
    pub topic: u64,
    /// Its author's name.
    pub author: Option<String>,
    /// Its title now (questions).
    pub title: Option<String>,
    /// Its text now.
    pub body: String,
    /// When written.
    pub created_at: i64,
    /// When last edited.
    pub edited_at: Option<i64>,
    /// When deleted, if it was.
    pub deleted_at: Option<i64>,
    /// Who deleted it.
    pub deleted_by: Option<String>,
    /// The texts it had before, oldest first.
    pub revisions: Vec<Revision>,
}

/// A post's history (deleted posts too): for moderators only.
pub fn history(conn: &Connection, post: u64) -> Result<Option<History>, ForumError> {
    let found = conn
        .prepare_cached(
            "SELECT p.id, p.kind, p.topic_id, a.name, p.title, p.body, p.created_at, p.edited_at, p.deleted_at, d.name \
             FROM posts p LEFT JOIN members a ON a.id = p.author_id LEFT JOIN members d ON d.id = p.deleted_by \
             WHERE p.id = ?1",
        )?
        .query_row(params![post as i64], |row| {
            Ok(History {
                id: row.get::<_, i64>(0)? as u64,
                kind: row.get(1)?,
                topic: row.get::<_, i64>(2)? as u64,
                author: row.get(3)?,
                title: row.get(4)?,
                body: row.get(5)?,
                created_at: row.get(6)?,
                edited_at: row.get(7)?,
                deleted_at: row.get(8)?,
                deleted_by: row.get(9)?,
                revisions: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut history) = found else { return Ok(None) };
    history.revisions = conn
        .prepare_cached(
            "SELECT r.title, r.body, r.replaced_at, m.name FROM post_revisions r LEFT JOIN members m ON m.id = r.editor_id \
             WHERE r.post_id = ?1 ORDER BY r.id",
        )?
        .query_map(params![post as i64], |row| {
            Ok(Revision { title: row.get(0)?, body: row.get(1)?, replaced_at: row.get(2)?, editor: row.get(3)? })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(history))
}
