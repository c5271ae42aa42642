//! Importing history from another platform (JSON Lines ingest, Stack Exchange replay): the same events as live
//! actions, through the same pipeline, but with what imported history has and lacks — external ids for everything,
//! authors and likers that may be unknown, posts that became community wiki, accepts without a live asker.
//! Every import is idempotent by external id.

use rusqlite::{OptionalExtension, params};

use super::{Forum, ForumError, MemberId};
use crate::events::Outcome;
use cadre_model::{Like, PostCreated, PostKind};
use cadre_runtime::Event;

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

impl Forum {
    /// A member from another platform, by external id (created once; later calls return the same id). A name
    /// already taken, or one a new member may not have (all digits, see [`super::names`]), gets `#` and the
    /// external id appended.
    pub fn import_member(&mut self, external_id: &str, name: &str, joined_at: i64) -> Result<MemberId, ForumError> {
        let existing: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM members WHERE external_id = ?1")?
            .query_row(params![external_id], |row| row.get(0))
            .optional()?;
        if let Some(id) = existing {
            return Ok(id as MemberId);
        }
        let name = super::names::imported_name_in(&self.conn, name, external_id)?;
        self.conn
            .prepare_cached(
                "INSERT INTO members (name, joined_at, is_moderator, external_id, name_key) VALUES (?1, ?2, 0, ?3, ?4)",
            )?
            .execute(params![name, joined_at, external_id, super::names::name_key(&name)])?;
        Ok(self.conn.last_insert_rowid() as MemberId)
    }

    /// A category by slug, created if missing.
    pub fn ensure_category(&mut self, slug: &str, name: &str, tier: Option<&str>) -> Result<u64, ForumError> {
        let existing: Option<i64> = self
            .conn
            .query_row("SELECT id FROM categories WHERE slug = ?1", params![slug], |row| row.get(0))
            .optional()?;
        match existing {
            Some(id) => Ok(id as u64),
            None => self.create_category(slug, name, tier),
        }
    }

    /// A post id by its external id.
    pub fn post_id(&self, external_id: &str) -> Result<Option<u64>, ForumError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM posts WHERE external_id = ?1")?
            .query_row(params![external_id], |row| row.get::<_, i64>(0))
            .optional()?
            .map(|id| id as u64))
    }

    /// Import a post (its event: post created).
    pub fn import_post(&mut self, external_id: &str, post: ImportedPost) -> Result<(u64, Outcome), ForumError> {
        self.insert_post(external_id, post, |_| Ok(()))
    }

    /// Record a post and its event, after `check` (run inside the event's transaction) accepted it. Shared by live
    /// posts and imported ones. Returns the post id (the existing one when the external id was recorded before).
    pub(super) fn insert_post(
        &mut self,
        external_id: &str,
        post: ImportedPost,
        check: impl FnOnce(&rusqlite::Connection) -> Result<(), ForumError>,
    ) -> Result<(u64, Outcome), ForumError> {
        let mut created = 0;
        let outcome = self.record(external_id, post.at, |conn| {
            check(conn)?;
            let (topic, category) = match (post.kind, post.parent) {
                (PostKind::Question, _) => {
                    (None, post.category.ok_or_else(|| ForumError::Invalid("a question needs a category".into()))?)
                }
                (_, Some(parent)) => conn
                    .prepare_cached("SELECT topic_id, category_id FROM posts WHERE id = ?1")?
                    .query_row(params![parent as i64], |row| Ok((Some(row.get::<_, i64>(0)? as u64), row.get::<_, i64>(1)? as u64)))
                    .optional()?
                    .ok_or_else(|| ForumError::NotFound(format!("post {parent} (the parent)")))?,
                (_, None) => return Err(ForumError::Invalid("an answer or reply needs a parent".into())),
            };
            let author_joined = match post.author {
                Some(author) => Some(
                    conn.prepare_cached("SELECT joined_at FROM members WHERE id = ?1")?
                        .query_row(params![author as i64], |row| row.get::<_, i64>(0))
                        .optional()?
                        .ok_or_else(|| ForumError::NotFound(format!("member {author}")))?,
                ),
                None => None,
            };
            let kind = super::actions::kind_name(post.kind);
            conn.prepare_cached(
                "INSERT INTO posts (kind, topic_id, parent_id, category_id, author_id, title, body, created_at, wiki_since, external_id) \
                 VALUES (?1, COALESCE(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                kind,
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
            created = conn.last_insert_rowid() as u64;
            if topic.is_none() {
                conn.prepare_cached("UPDATE posts SET topic_id = id WHERE id = ?1")?.execute(params![created as i64])?;
            }
            Ok(Some(Event::PostCreated(PostCreated {
                post: created,
                kind: post.kind,
                author: post.author,
                parent: post.parent,
                category,
                at: post.at,
                author_joined,
            })))
        })?;
        if outcome.duplicate {
            created = self.post_id(external_id)?.unwrap_or_default();
        }
        Ok((created, outcome))
    }

    /// Import a like; `liker` is `None` when the platform hides who voted.
    pub fn import_like(
        &mut self,
        external_id: &str,
        liker: Option<MemberId>,
        post: u64,
        at: i64,
    ) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            conn.prepare_cached(
                "INSERT INTO likes (post_id, liker_id, created_at, external_id) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![post as i64, liker.map(|l| l as i64), at, external_id])?;
            let like = conn.last_insert_rowid() as u64;
            Ok(Some(Event::LikeAdded(imported_like(conn, like, post, liker, at)?)))
        })
    }

    /// Import the removal of a like imported before (named by its external id).
    pub fn import_unlike(&mut self, external_id: &str, like_external_id: &str, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            let (like, post, liker): (i64, i64, Option<i64>) = conn
                .prepare_cached(
                    "SELECT id, post_id, liker_id FROM likes WHERE external_id = ?1 AND removed_at IS NULL",
                )?
                .query_row(params![like_external_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()?
                .ok_or_else(|| ForumError::NotFound(format!("like {like_external_id:?}")))?;
            conn.prepare_cached("UPDATE likes SET removed_at = ?1 WHERE id = ?2")?.execute(params![at, like])?;
            let like = imported_like(conn, like as u64, post as u64, liker.map(|l| l as u64), at)?;
            Ok(Some(Event::LikeRemoved(like)))
        })
    }

    /// Import an accepted answer. The platform already checked who accepted it, so the asker need not be known
    /// here (a deleted account still gave its answerer the accept), and a later accept on the same question
    /// replaces the earlier one, as it did on the platform.
    ///
    /// Replacing is two events, as the program must see it: first the earlier answer's unaccept (derived, recorded
    /// in the log under [`replaced_accept_id`] so replay and recompute see it too), then the new accept — never a
    /// second accept on top of the first. Platforms that move an accept without sending an unaccept (Stack
    /// Exchange dumps, Discourse) need exactly this; both events are in the caller's transaction together.
    /// Accepting the answer already accepted replaces nothing (the program ignores an accept it counted before).
    pub fn import_accept(&mut self, external_id: &str, answer: u64, at: i64) -> Result<Outcome, ForumError> {
        self.batch(|forum| {
            if let Some(replaced) = forum.accept_replaced_by(external_id, answer, at)? {
                forum.record(&replaced_accept_id(external_id), at, |conn| {
                    let (accept, _) = Forum::accept_record(conn, replaced, at)?;
                    conn.prepare_cached("DELETE FROM accepts WHERE question_id = ?1 AND answer_id = ?2")?
                        .execute(params![accept.question as i64, replaced as i64])?;
                    Ok(Some(Event::AnswerUnaccepted(accept)))
                })?;
            }
            forum.record(external_id, at, |conn| {
                let (accept, _) = Forum::accept_record(conn, answer, at)?;
                conn.prepare_cached(
                    "INSERT INTO accepts (question_id, answer_id, accepted_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(question_id) DO UPDATE SET answer_id = ?2, accepted_at = ?3",
                )?
                .execute(params![accept.question as i64, answer as i64, at])?;
                Ok(Some(Event::AnswerAccepted(accept)))
            })
        })
    }

    /// The other answer whose accept an imported accept of `answer` replaces, if any: none when the accept was
    /// recorded before (a re-delivery changes nothing), when its question has no accepted answer, or when the
    /// answer accepted is this one. Refuses what the accept itself would refuse (not an answer), before anything
    /// is recorded.
    fn accept_replaced_by(&self, external_id: &str, answer: u64, at: i64) -> Result<Option<u64>, ForumError> {
        let recorded = self
            .conn
            .prepare_cached("SELECT 1 FROM events WHERE external_id = ?1")?
            .query_row(params![external_id], |_| Ok(()))
            .optional()?;
        if recorded.is_some() {
            return Ok(None);
        }
        let (accept, _) = Forum::accept_record(&self.conn, answer, at)?;
        let accepted: Option<i64> = self
            .conn
            .prepare_cached("SELECT answer_id FROM accepts WHERE question_id = ?1")?
            .query_row(params![accept.question as i64], |row| row.get(0))
            .optional()?;
        Ok(accepted.map(|a| a as u64).filter(|&a| a != answer))
    }

    /// Import the withdrawal of an accepted answer.
    pub fn import_unaccept(&mut self, external_id: &str, answer: u64, at: i64) -> Result<Outcome, ForumError> {
        let asker = self.asker_of(answer)?;
        match asker {
            Some(asker) => self.unaccept(external_id, asker, answer, at),
            None => Err(ForumError::Invalid(format!("answer {answer}'s question has no known asker"))),
        }
    }

    fn asker_of(&self, answer: u64) -> Result<Option<MemberId>, ForumError> {
        Ok(self
            .conn
            .prepare_cached("SELECT q.author_id FROM posts a JOIN posts q ON q.id = a.topic_id WHERE a.id = ?1")?
            .query_row(params![answer as i64], |row| row.get::<_, Option<i64>>(0))
            .optional()?
            .ok_or_else(|| ForumError::NotFound(format!("post {answer}")))?
            .map(|a| a as MemberId))
    }
}

/// The external id of the unaccept derived from an imported accept that replaced another (see
/// [`Forum::import_accept`]): unique per accept, so importing again finds it and repeats nothing.
pub fn replaced_accept_id(accept_external_id: &str) -> String {
    format!("{accept_external_id}#replaces-accept")
}

fn imported_like(
    conn: &rusqlite::Connection,
    like: u64,
    post: u64,
    liker: Option<MemberId>,
    at: i64,
) -> Result<Like, ForumError> {
    let (kind, author, wiki_since): (String, Option<i64>, Option<i64>) = conn
        .prepare_cached("SELECT kind, author_id, wiki_since FROM posts WHERE id = ?1")?
        .query_row(params![post as i64], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("post {post}")))?;
    let liker_joined = match liker {
        Some(liker) => conn
            .prepare_cached("SELECT joined_at FROM members WHERE id = ?1")?
            .query_row(params![liker as i64], |row| row.get::<_, i64>(0))
            .optional()?,
        None => None,
    };
    Ok(Like {
        like,
        post,
        post_kind: match kind.as_str() {
            "question" => PostKind::Question,
            "answer" => PostKind::Answer,
            _ => PostKind::Reply,
        },
        post_author: author.map(|a| a as MemberId),
        post_wiki: wiki_since.is_some_and(|since| since <= at),
        liker,
        liker_joined,
        at,
    })
}
