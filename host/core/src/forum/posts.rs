//! Posts: questions (which open topics), answers and replies — creating them, live or imported, and the facts
//! about a post that events carry.

use rusqlite::{Connection, OptionalExtension, params};

use super::MemberId;
use super::members;
use crate::error::ForumError;
use cadre_model::{PostCreated, PostKind};

/// Question, answer or reply, as stored.
pub type PostKindName = &'static str;

/// How the `posts` table names a kind.
pub fn kind_name(kind: PostKind) -> PostKindName {
    match kind {
        PostKind::Question => "question",
        PostKind::Answer => "answer",
        PostKind::Reply => "reply",
    }
}

/// A kind as the `posts` table names it.
pub fn kind_from(name: &str) -> PostKind {
    match name {
        "question" => PostKind::Question,
        "answer" => PostKind::Answer,
        _ => PostKind::Reply,
    }
}

/// A post to create.
#[derive(Debug, Clone)]
pub struct NewPost {
    /// Question, answer or reply.
    pub kind: PostKind,
    /// Its author.
    pub author: MemberId,
    /// For a question: its category. Ignored otherwise (answers and replies live in their topic's category).
    pub category: Option<u64>,
    /// For an answer: the question; for a reply: the post replied to.
    pub parent: Option<u64>,
    /// For a question: its title.
    pub title: Option<String>,
    /// The text.
    pub body: String,
    /// When.
    pub at: i64,
}

impl NewPost {
    /// The same post in the shape the shared insert takes (a live post has a known author and is no wiki).
    pub fn to_imported(&self) -> ImportedPost {
        ImportedPost {
            kind: self.kind,
            author: Some(self.author),
            parent: self.parent,
            category: self.category,
            title: self.title.clone(),
            body: self.body.clone(),
            at: self.at,
            wiki_since: None,
        }
    }
}

/// A post as imported.
#[derive(Debug, Clone)]
pub struct ImportedPost {
    /// Question, answer or reply.
    pub kind: PostKind,
    /// Its author; `None` for a deleted account.
    pub author: Option<MemberId>,
    /// For an answer: the question (post id); for a reply: the post replied to.
    pub parent: Option<u64>,
    /// For a question: its category (answers and replies live in their topic's category).
    pub category: Option<u64>,
    /// For a question: its title.
    pub title: Option<String>,
    /// The text (may be empty for imported posts).
    pub body: String,
    /// When it was created.
    pub at: i64,
    /// When it became community wiki, if it did.
    pub wiki_since: Option<i64>,
}

/// The facts about a post that events carry.
pub struct PostFacts {
    /// Question, answer or reply.
    pub kind: PostKind,
    /// Its author, if known.
    pub author: Option<MemberId>,
    /// The question that opens its topic (itself, for a question).
    pub topic: u64,
    /// Since when it is a community wiki, if it is one.
    pub wiki_since: Option<i64>,
    /// The category of its topic.
    pub category: u64,
}

impl PostFacts {
    /// Whether the post was a community wiki at `at` (its author earns nothing from it then).
    pub fn wiki_at(&self, at: i64) -> bool {
        self.wiki_since.is_some_and(|since| since <= at)
    }
}

/// The facts about a post (refusing an unknown or deleted post: nothing more happens to a deleted post).
pub fn facts(conn: &Connection, post: u64) -> Result<PostFacts, ForumError> {
    conn.prepare_cached(
        "SELECT kind, author_id, topic_id, wiki_since, category_id FROM posts WHERE id = ?1 AND deleted_at IS NULL",
    )?
    .query_row(params![post as i64], |row| {
        Ok(PostFacts {
            kind: kind_from(&row.get::<_, String>(0)?),
            author: row.get::<_, Option<i64>>(1)?.map(|a| a as u64),
            topic: row.get::<_, i64>(2)? as u64,
            wiki_since: row.get(3)?,
            category: row.get::<_, i64>(4)? as u64,
        })
    })
    .optional()?
    .ok_or_else(|| ForumError::NotFound(format!("post {post}")))
}

const MAX_TITLE: usize = 300;
const MAX_BODY: usize = 64 << 10;

/// What a live post must satisfy beyond what imported history is held to: text of a bounded size, a question's
/// title, an answer to a question, a known author.
pub fn check_live(conn: &Connection, post: &NewPost) -> Result<(), ForumError> {
    if post.body.trim().is_empty() || post.body.len() > MAX_BODY {
        return Err(ForumError::Invalid(format!("a post needs 1 to {MAX_BODY} bytes of text")));
    }
    match post.kind {
        PostKind::Question => {
            let title = post.title.as_deref().map(str::trim).unwrap_or_default();
            if title.is_empty() || title.len() > MAX_TITLE {
                return Err(ForumError::Invalid(format!("a question needs a title of 1 to {MAX_TITLE} bytes")));
            }
        }
        PostKind::Answer | PostKind::Reply => {
            let parent = post.parent.ok_or_else(|| ForumError::Invalid("an answer or reply needs a parent".into()))?;
            let parent_facts = facts(conn, parent)?;
            if post.kind == PostKind::Answer && parent_facts.kind != PostKind::Question {
                return Err(ForumError::Invalid(format!("post {parent} is not a question")));
            }
        }
    }
    members::joined_at(conn, post.author).map(drop)
}

/// Insert a post (live or imported: the one insert both share) and return what its event carries.
pub fn insert(conn: &Connection, external_id: &str, post: &ImportedPost) -> Result<PostCreated, ForumError> {
    // The topic, its category and its asker (the event's `question_author`) in one read of the parent.
    let (topic, category, question_author) = match (post.kind, post.parent) {
        (PostKind::Question, _) => {
            (None, post.category.ok_or_else(|| ForumError::Invalid("a question needs a category".into()))?, None)
        }
        (_, Some(parent)) => conn
            .prepare_cached(
                "SELECT p.topic_id, p.category_id, q.author_id FROM posts p JOIN posts q ON q.id = p.topic_id \
                 WHERE p.id = ?1 AND p.deleted_at IS NULL",
            )?
            .query_row(params![parent as i64], |row| {
                Ok((
                    Some(row.get::<_, i64>(0)? as u64),
                    row.get::<_, i64>(1)? as u64,
                    row.get::<_, Option<i64>>(2)?.map(|a| a as MemberId),
                ))
            })
            .optional()?
            .ok_or_else(|| ForumError::NotFound(format!("post {parent} (the parent)")))?,
        (_, None) => return Err(ForumError::Invalid("an answer or reply needs a parent".into())),
    };
    let author_joined = match post.author {
        Some(author) => Some(
            members::joined_at_if_known(conn, author)?
                .ok_or_else(|| ForumError::NotFound(format!("member {author}")))?,
        ),
        None => None,
    };
    conn.prepare_cached(
        "INSERT INTO posts (kind, topic_id, parent_id, category_id, author_id, title, body, created_at, wiki_since, external_id) \
         VALUES (?1, COALESCE(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        kind_name(post.kind),
        topic.map(|t| t as i64),
        post.parent.map(|p| p as i64),
        category as i64,
        post.author.map(|a| a as i64),
        post.title,
        post.body,
        post.at,
        post.wiki_since,
        external_id
    ])?;
    let created = conn.last_insert_rowid() as u64;
    if topic.is_none() {
        conn.prepare_cached("UPDATE posts SET topic_id = id WHERE id = ?1")?.execute(params![created as i64])?;
    }
    Ok(PostCreated {
        post: created,
        kind: post.kind,
        author: post.author,
        parent: post.parent,
        category,
        at: post.at,
        author_joined,
        question_author,
    })
}

/// The post imported under an external id, if any.
pub fn id_by_external(conn: &Connection, external_id: &str) -> Result<Option<u64>, ForumError> {
    Ok(conn
        .prepare_cached("SELECT id FROM posts WHERE external_id = ?1")?
        .query_row(params![external_id], |row| row.get::<_, i64>(0))
        .optional()?
        .map(|id| id as u64))
}

/// Who asked the question an answer answers (`None`: unknown, a deleted account).
pub fn asker_of(conn: &Connection, answer: u64) -> Result<Option<MemberId>, ForumError> {
    Ok(conn
        .prepare_cached("SELECT q.author_id FROM posts a JOIN posts q ON q.id = a.topic_id WHERE a.id = ?1")?
        .query_row(params![answer as i64], |row| row.get::<_, Option<i64>>(0))
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("post {answer}")))?
        .map(|a| a as MemberId))
}
