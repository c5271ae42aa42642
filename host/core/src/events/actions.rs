//! Live forum actions: each checks and changes the forum's tables (`crate::forum`) and is recorded as one event,
//! delivered to the program in the same transaction (`record`).

use super::{Forum, Outcome};
use crate::error::ForumError;
use crate::forum::{MemberId, NewPost, accepts, categories, likes, members, names, posts};
use crate::program::moderation::{apply_moderator_action, moderator_action_name};
use cadre_model::{Event, ManualChange, ModeratorAction};

impl Forum {
    /// Register a member (not an event for the program: members enter its view through their actions).
    pub fn register(&mut self, name: &str, joined_at: i64, moderator: bool) -> Result<MemberId, ForumError> {
        members::register(&self.conn, name, joined_at, moderator)
    }

    /// `alice (#3)`: how messages speak of a member.
    pub fn member_label(&self, member: MemberId) -> Result<String, ForumError> {
        names::member_label(&self.conn, member)
    }

    /// A member's id by name.
    pub fn member_id(&self, name: &str) -> Result<MemberId, ForumError> {
        members::id_by_name(&self.conn, name)
    }

    /// `moderator alice (#3)`, refusing non-moderators.
    pub fn moderator_label(&self, moderator: MemberId) -> Result<String, ForumError> {
        members::moderator_label(&self.conn, moderator)
    }

    /// Create a category; `tier` makes it private to members with access to that tier.
    pub fn create_category(&mut self, slug: &str, name: &str, tier: Option<&str>) -> Result<u64, ForumError> {
        categories::create(&self.conn, slug, name, tier)
    }

    /// Create a question, answer or reply. Returns the post id and the outcome of its event.
    pub fn create_post(&mut self, external_id: &str, post: NewPost) -> Result<(u64, Outcome), ForumError> {
        let imported = post.to_imported();
        self.record_post(external_id, imported, |conn| posts::check_live(conn, &post))
    }

    /// A member likes a post (once; liking one's own post is allowed by the forum and worth nothing in the program).
    pub fn like(&mut self, external_id: &str, liker: MemberId, post: u64, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| Ok(Some(Event::LikeAdded(likes::add(conn, liker, post, at)?))))
    }

    /// A member takes back their like.
    pub fn unlike(&mut self, external_id: &str, liker: MemberId, post: u64, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| Ok(Some(Event::LikeRemoved(likes::remove(conn, liker, post, at)?))))
    }

    /// The asker accepts an answer (a question with an accepted answer must be unaccepted first).
    pub fn accept(&mut self, external_id: &str, asker: MemberId, answer: u64, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| Ok(Some(Event::AnswerAccepted(accepts::add(conn, asker, answer, at)?))))
    }

    /// The asker withdraws their acceptance of an answer.
    pub fn unaccept(
        &mut self,
        external_id: &str,
        asker: MemberId,
        answer: u64,
        at: i64,
    ) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            Ok(Some(Event::AnswerUnaccepted(accepts::remove(conn, asker, answer, at)?)))
        })
    }

    /// Time passed (for inactivity rules); deliver at least daily.
    pub fn tick(&mut self, external_id: &str, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |_| Ok(Some(Event::Tick(at))))
    }

    /// A moderator adds (invites) a member to a tier by hand, with a reason. Access is granted at once and
    /// marked *invited*.
    pub fn add_member(
        &mut self,
        moderator: MemberId,
        member: MemberId,
        tier: &str,
        reason: &str,
        at: i64,
    ) -> Result<Outcome, ForumError> {
        let change = self.manual_change(moderator, member, tier, reason, at)?;
        let external_id = format!("moderator:add:{member}:{tier}:{at}");
        let who = self.member_label(member)?;
        self.moderate(&external_id, ModeratorAction::MemberAdded(change), || {
            format!("{who} already has access to {tier}")
        })
    }

    /// A moderator removes a member from a tier, with a reason.
    pub fn remove_member(
        &mut self,
        moderator: MemberId,
        member: MemberId,
        tier: &str,
        reason: &str,
        at: i64,
    ) -> Result<Outcome, ForumError> {
        let change = self.manual_change(moderator, member, tier, reason, at)?;
        let external_id = format!("moderator:remove:{member}:{tier}:{at}");
        let who = self.member_label(member)?;
        self.moderate(&external_id, ModeratorAction::MemberRemoved(change), || format!("{who} has no access to {tier}"))
    }

    /// A moderator approves or rejects a pending nomination, with a reason.
    pub fn decide(
        &mut self,
        moderator: MemberId,
        nomination: i64,
        approve: bool,
        reason: &str,
        at: i64,
    ) -> Result<Outcome, ForumError> {
        let (member, tier) = crate::program::moderation::pending_nomination(&self.conn, nomination)?;
        let change = self.manual_change(moderator, member, &tier, reason, at)?;
        let action = if approve {
            ModeratorAction::NominationApproved(change)
        } else {
            ModeratorAction::NominationRejected(change)
        };
        self.moderate(&format!("moderator:decide:{nomination}"), action, || {
            format!("nomination {nomination} is not pending")
        })
    }

    /// Record a moderator's action: its part in the program's tables (access, queue), its audit row, and its event
    /// for the program.
    fn moderate(
        &mut self,
        external_id: &str,
        action: ModeratorAction,
        unchanged: impl FnOnce() -> String,
    ) -> Result<Outcome, ForumError> {
        let change = action.change().clone();
        let actor = self.moderator_label(change.moderator)?;
        self.record(external_id, change.at, |conn| {
            if apply_moderator_action(conn, &action)? == 0 {
                return Err(ForumError::Invalid(unchanged()));
            }
            let name = moderator_action_name(&action);
            crate::program::audit(
                conn,
                change.at,
                &actor,
                name,
                Some(change.member),
                &change.tier,
                &change.reason,
                None,
            )?;
            Ok(Some(Event::Moderator(action)))
        })
    }

    fn manual_change(
        &self,
        moderator: MemberId,
        member: MemberId,
        tier: &str,
        reason: &str,
        at: i64,
    ) -> Result<ManualChange, ForumError> {
        if reason.trim().is_empty() {
            return Err(ForumError::Invalid("a reason is required".into()));
        }
        members::joined_at(&self.conn, member)?;
        let declared = self.program.as_ref().is_some_and(|p| p.plugin.declaration().tiers.iter().any(|t| t.id == tier));
        if !declared {
            return Err(ForumError::NotFound(format!("tier {tier:?} (the program's settings declare no such tier)")));
        }
        Ok(ManualChange { member, tier: tier.to_owned(), moderator, reason: reason.to_owned(), at })
    }
}
