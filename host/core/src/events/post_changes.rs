//! Editing and deleting posts through the pipeline, with the program kept exact.
//!
//! An edit is no event for the program (it changes no like, accept or author): one transaction that keeps the
//! replaced text as a revision, audited when a moderator edits another member's post. A deletion takes back what
//! the deleted posts earned through events the program already understands — each live like becomes a
//! `like-removed` event and an accept an `answer-unaccepted` event, each its own event of the log — and marks the
//! posts deleted, all in **one transaction**: the program never counts a like on a post members can no longer see,
//! and a crash leaves either all of it or none.
//!
//! Owns the order of those steps. The checks and table changes are `forum::edits`; the events are built by
//! `forum::likes` and `forum::accepts`.

use super::{Forum, Outcome};
use crate::error::ForumError;
use crate::forum::edits::{self, Role};
use crate::forum::public_ids::PublicIds;
use crate::forum::{MemberId, accepts, likes, names};
use cadre_model::Event;

/// What a deletion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The posts deleted (the post first, then what hung under it).
    pub posts: Vec<u64>,
    /// The topic they were in.
    pub topic: u64,
    /// The like-removed and answer-unaccepted events recorded, in log order.
    pub refunds: Vec<Outcome>,
}

impl Forum {
    /// `editor` (the author, or a moderator) replaces a post's text and, for a question, its title (`None` keeps
    /// it). Returns whether anything changed. A member who may not edit the post gets not-found.
    pub fn edit_post(
        &mut self,
        editor: MemberId,
        post: u64,
        title: Option<&str>,
        body: &str,
        at: i64,
    ) -> Result<bool, ForumError> {
        self.batch(|forum| {
            let conn = &forum.conn;
            let target = edits::target(conn, post)?;
            let role = edits::role(conn, editor, &target)?;
            let changed = edits::edit(conn, editor, &target, title, body, at)?;
            if changed && role == Role::Moderator {
                let actor = crate::forum::members::moderator_label(conn, editor)?;
                let subject = format!("post {}", PublicIds::load(conn)?.post(post));
                crate::program::audit(conn, at, &actor, "post-edited", target.author, &subject, "edited", None)?;
            }
            Ok(changed)
        })
    }

    /// `actor` (the author, or a moderator) deletes a post and what hangs under it (a question: its topic; an
    /// answer or reply: its replies), first taking back what those posts earned: each live like is recorded as a
    /// like-removed event (`{external_id}#unlike-{like}`), an accept as an answer-unaccepted event
    /// (`{external_id}#unaccept-{answer}`). One transaction. `reason` is kept in the audit log.
    pub fn delete_post(
        &mut self,
        external_id: &str,
        actor: MemberId,
        post: u64,
        reason: &str,
        at: i64,
    ) -> Result<Deleted, ForumError> {
        self.batch(|forum| {
            let target = edits::target(&forum.conn, post)?;
            let role = edits::role(&forum.conn, actor, &target)?;
            edits::check_delete(&forum.conn, role, &target)?;
            let doomed = edits::doomed(&forum.conn, &target)?;
            let refunds = forum.take_back(external_id, &doomed, at)?;
            let conn = &forum.conn;
            edits::mark_deleted(conn, &doomed, actor, at)?;
            let actor_label = match role {
                Role::Moderator => crate::forum::members::moderator_label(conn, actor)?,
                Role::Author => format!("member {}", names::member_label(conn, actor)?),
            };
            let subject = format!("post {}", PublicIds::load(conn)?.post(post));
            let why = if reason.trim().is_empty() { "deleted by its author" } else { reason.trim() };
            let what = format!("{why} ({} post(s), {} refund event(s))", doomed.len(), refunds.len());
            crate::program::audit(conn, at, &actor_label, "post-deleted", target.author, &subject, &what, None)?;
            Ok(Deleted { posts: doomed, topic: target.topic, refunds })
        })
    }

    /// Take back what `posts` earned without deleting them (a deletion's first step, and all of it when the platform
    /// deleted them itself: Discourse's `post_destroyed`): each accept among them recorded as an answer-unaccepted
    /// event (`{external_id}#unaccept-{answer}`), then each live like on them as a like-removed event
    /// (`{external_id}#unlike-{like}`), in the open transaction. Recorded again with the same `external_id`, it
    /// records nothing twice: each refund's id is its own. Returns the events, in log order.
    pub fn take_back(&mut self, external_id: &str, posts: &[u64], at: i64) -> Result<Vec<Outcome>, ForumError> {
        let mut refunds = Vec::new();
        for answer in edits::accepted_among(&self.conn, posts)? {
            refunds.push(self.record(&format!("{external_id}#unaccept-{answer}"), at, |conn| {
                Ok(Some(Event::AnswerUnaccepted(accepts::import_remove(conn, answer, at)?)))
            })?);
        }
        for (like, _) in edits::live_likes(&self.conn, posts)? {
            refunds.push(self.record(&format!("{external_id}#unlike-{like}"), at, |conn| {
                Ok(Some(Event::LikeRemoved(likes::remove_by_id(conn, like, at)?)))
            })?);
        }
        Ok(refunds)
    }

    /// A post's history for moderators (deleted or not): its text now, and every text it had before.
    pub fn post_history(&self, post: u64) -> Result<Option<edits::History>, ForumError> {
        edits::history(&self.conn, post)
    }
}
