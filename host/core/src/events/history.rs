//! Recording history from another platform (JSON Lines ingest, Stack Exchange replay, a Discourse backup): the
//! same events as live actions, through the same pipeline, with what imported history has and lacks — external ids
//! for everything, authors and likers that may be unknown, posts that became community wiki, accepts without a
//! live asker, an accept that moves to another answer with no withdrawal in between. Every import is idempotent
//! by external id.

use rusqlite::Connection;

use super::{Forum, Outcome};
use crate::error::ForumError;
use crate::forum::{ImportedPost, MemberId, accepts, categories, likes, members, posts};
use cadre_model::Event;

/// The external id of the unaccept an imported accept records first when it moves the accept from another answer.
pub fn replaced_accept_id(accept_external_id: &str) -> String {
    format!("{accept_external_id}#replaces-accept")
}

impl Forum {
    /// Before a first import: if the forum has no post yet (or an import that stopped part-way left them out), leave
    /// out the indexes only readers use ([`crate::db::deferred_indexes::READ_SIDE_INDEXES`]) until
    /// [`Forum::build_read_indexes`], so that each event writes fewer rows. True when they are left out now. Call
    /// outside [`Forum::batch`].
    pub fn defer_read_indexes(&mut self) -> Result<bool, ForumError> {
        if self.in_batch {
            return Err(ForumError::Invalid("indexes cannot be deferred inside a batch".into()));
        }
        Ok(crate::db::deferred_indexes::defer_if_empty(&self.conn)?)
    }

    /// After an import: build the indexes [`Forum::defer_read_indexes`] left out (one sort each); how many. Call
    /// outside [`Forum::batch`], also when the import failed (else the next process to open the database builds
    /// them once this one is gone).
    pub fn build_read_indexes(&mut self) -> Result<usize, ForumError> {
        if self.in_batch {
            return Err(ForumError::Invalid("indexes cannot be built inside a batch".into()));
        }
        Ok(crate::db::deferred_indexes::build(&self.conn)?)
    }

    /// A member from imported history, by external id (created once; a name that breaks the forum's rules or is
    /// taken gets the external id added).
    pub fn import_member(&mut self, external_id: &str, name: &str, joined_at: i64) -> Result<MemberId, ForumError> {
        members::import(&self.conn, external_id, name, joined_at)
    }

    /// The category with this slug, created if there is none.
    pub fn ensure_category(&mut self, slug: &str, name: &str, tier: Option<&str>) -> Result<u64, ForumError> {
        categories::ensure(&self.conn, slug, name, tier)
    }

    /// The post imported under an external id, if any.
    pub fn post_id(&self, external_id: &str) -> Result<Option<u64>, ForumError> {
        posts::id_by_external(&self.conn, external_id)
    }

    /// A post from imported history. Returns the post id (also when it was imported before) and the outcome.
    pub fn import_post(&mut self, external_id: &str, post: ImportedPost) -> Result<(u64, Outcome), ForumError> {
        self.record_post(external_id, post, |_| Ok(()))
    }

    /// Record a post, live or imported: `check` is what a live post must satisfy beyond the shared insert.
    pub(super) fn record_post(
        &mut self,
        external_id: &str,
        post: ImportedPost,
        check: impl FnOnce(&Connection) -> Result<(), ForumError>,
    ) -> Result<(u64, Outcome), ForumError> {
        let mut created = 0;
        let outcome = self.record(external_id, post.at, |conn| {
            check(conn)?;
            let event = posts::insert(conn, external_id, &post)?;
            created = event.post;
            Ok(Some(Event::PostCreated(event)))
        })?;
        if outcome.duplicate {
            created = self.post_id(external_id)?.unwrap_or_default();
        }
        Ok((created, outcome))
    }

    /// A like from imported history (`liker` is `None` when the source hides voters).
    pub fn import_like(
        &mut self,
        external_id: &str,
        liker: Option<MemberId>,
        post: u64,
        at: i64,
    ) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            Ok(Some(Event::LikeAdded(likes::import(conn, external_id, liker, post, at)?)))
        })
    }

    /// The removal of an imported like, named by the like's external id.
    pub fn import_unlike(&mut self, external_id: &str, like_external_id: &str, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            Ok(Some(Event::LikeRemoved(likes::import_remove(conn, like_external_id, at)?)))
        })
    }

    /// An accept from imported history (no live asker checks: history says it happened). If the question had
    /// another answer accepted, that accept is first withdrawn by an unaccept event of its own (external id
    /// [`replaced_accept_id`]), so the program takes back what it gave; both are recorded in one transaction.
    pub fn import_accept(&mut self, external_id: &str, answer: u64, at: i64) -> Result<Outcome, ForumError> {
        self.batch(|forum| {
            if forum.recorded(external_id)?.is_none()
                && let Some(replaced) = accepts::replaced_by_import(&forum.conn, answer, at)?
            {
                forum.record(&replaced_accept_id(external_id), at, |conn| {
                    Ok(Some(Event::AnswerUnaccepted(accepts::import_remove(conn, replaced, at)?)))
                })?;
            }
            forum.record(external_id, at, |conn| Ok(Some(Event::AnswerAccepted(accepts::import(conn, answer, at)?))))
        })
    }

    /// The withdrawal of an imported accept (by the question's asker, who must be known).
    pub fn import_unaccept(&mut self, external_id: &str, answer: u64, at: i64) -> Result<Outcome, ForumError> {
        match posts::asker_of(&self.conn, answer)? {
            Some(asker) => self.unaccept(external_id, asker, answer, at),
            None => Err(ForumError::Invalid(format!("answer {answer}'s question has no known asker"))),
        }
    }
}
