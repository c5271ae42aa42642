//! Forum actions. Each checks its input, changes the forum's tables and returns the event the program sees; the
//! pipeline (`events`) wraps it in one transaction with the event log and the program's part.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Forum, ForumError, MemberId};
use crate::events::Outcome;
use cadre_model::{Accept, Like, ManualChange, ModeratorAction, PostKind};
use cadre_runtime::Event;

/// Question, answer or reply, as stored.
pub type PostKindName = &'static str;

pub(super) fn kind_name(kind: PostKind) -> PostKindName {
    match kind {
        PostKind::Question => "question",
        PostKind::Answer => "answer",
        PostKind::Reply => "reply",
    }
}

fn kind_from(name: &str) -> PostKind {
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
    fn to_imported(&self) -> super::ImportedPost {
        super::ImportedPost {
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

/// The facts about a post that events carry.
pub(super) struct PostFacts {
    kind: PostKind,
    author: Option<MemberId>,
    topic: u64,
    wiki_since: Option<i64>,
}

fn post_facts(conn: &Connection, post: u64) -> Result<PostFacts, ForumError> {
    conn.prepare_cached("SELECT kind, author_id, topic_id, wiki_since FROM posts WHERE id = ?1")?
        .query_row(params![post as i64], |row| {
            Ok(PostFacts {
                kind: kind_from(&row.get::<_, String>(0)?),
                author: row.get::<_, Option<i64>>(1)?.map(|a| a as u64),
                topic: row.get::<_, i64>(2)? as u64,
                wiki_since: row.get(3)?,
            })
        })
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("post {post}")))
}

fn joined_at(conn: &Connection, member: MemberId) -> Result<i64, ForumError> {
    conn.prepare_cached("SELECT joined_at FROM members WHERE id = ?1")?
        .query_row(params![member as i64], |row| row.get(0))
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("member #{member}")))
}

const MAX_TITLE: usize = 300;
const MAX_BODY: usize = 64 << 10;

impl Forum {
    /// Register a member (not an event for the program: members enter its view through their actions).
    pub fn register(&mut self, name: &str, joined_at: i64, moderator: bool) -> Result<MemberId, ForumError> {
        let name = name.trim();
        if let Some(problem) = super::names::name_problem(name) {
            return Err(ForumError::Invalid(problem));
        }
        if let Some(holder) = super::names::taken_by(&self.conn, name)? {
            return Err(ForumError::Invalid(super::names::taken_message(name, &holder)));
        }
        self.conn.execute(
            "INSERT INTO members (name, joined_at, is_moderator, name_key) VALUES (?1, ?2, ?3, ?4)",
            params![name, joined_at, moderator, super::names::name_key(name)],
        )?;
        Ok(self.conn.last_insert_rowid() as MemberId)
    }

    /// `alice (#3)`: how messages speak of a member.
    pub fn member_label(&self, member: MemberId) -> Result<String, ForumError> {
        super::names::member_label(&self.conn, member)
    }

    /// A member's id by name.
    pub fn member_id(&self, name: &str) -> Result<MemberId, ForumError> {
        self.conn
            .query_row("SELECT id FROM members WHERE name = ?1", params![name], |row| row.get::<_, i64>(0))
            .optional()?
            .map(|id| id as MemberId)
            .ok_or_else(|| ForumError::NotFound(format!("member {name:?}")))
    }

    /// Create a category; `tier` makes it private to members with access to that tier.
    pub fn create_category(&mut self, slug: &str, name: &str, tier: Option<&str>) -> Result<u64, ForumError> {
        self.conn
            .execute("INSERT INTO categories (slug, name, tier) VALUES (?1, ?2, ?3)", params![slug, name, tier])?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    /// Create a question, answer or reply. Returns the post id and the outcome of its event.
    pub fn create_post(&mut self, external_id: &str, post: NewPost) -> Result<(u64, Outcome), ForumError> {
        if post.body.trim().is_empty() || post.body.len() > MAX_BODY {
            return Err(ForumError::Invalid(format!("a post needs 1 to {MAX_BODY} bytes of text")));
        }
        // What a live post must satisfy beyond what imported history is held to; the insert itself is shared.
        self.insert_post(external_id, post.to_imported(), |conn| {
            match post.kind {
                PostKind::Question => {
                    let title = post.title.as_deref().map(str::trim).unwrap_or_default();
                    if title.is_empty() || title.len() > MAX_TITLE {
                        return Err(ForumError::Invalid(format!("a question needs a title of 1 to {MAX_TITLE} bytes")));
                    }
                }
                PostKind::Answer | PostKind::Reply => {
                    let parent =
                        post.parent.ok_or_else(|| ForumError::Invalid("an answer or reply needs a parent".into()))?;
                    let facts = post_facts(conn, parent)?;
                    if post.kind == PostKind::Answer && facts.kind != PostKind::Question {
                        return Err(ForumError::Invalid(format!("post {parent} is not a question")));
                    }
                }
            }
            joined_at(conn, post.author).map(drop)
        })
    }

    fn like_record(conn: &Connection, like: u64, post: u64, liker: MemberId, at: i64) -> Result<Like, ForumError> {
        let facts = post_facts(conn, post)?;
        Ok(Like {
            like,
            post,
            post_kind: facts.kind,
            post_author: facts.author,
            post_wiki: facts.wiki_since.is_some_and(|since| since <= at),
            liker: Some(liker),
            liker_joined: Some(joined_at(conn, liker)?),
            at,
        })
    }

    /// A member likes a post (once; liking one's own post is allowed by the forum and worth nothing in the program).
    pub fn like(&mut self, external_id: &str, liker: MemberId, post: u64, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            let existing = conn
                .query_row(
                    "SELECT 1 FROM likes WHERE post_id = ?1 AND liker_id = ?2 AND removed_at IS NULL",
                    params![post as i64, liker as i64],
                    |_| Ok(()),
                )
                .optional()?;
            if existing.is_some() {
                let liker = super::names::member_label(conn, liker)?;
                return Err(ForumError::Invalid(format!("{liker} already likes post {post}")));
            }
            post_facts(conn, post)?;
            conn.execute(
                "INSERT INTO likes (post_id, liker_id, created_at) VALUES (?1, ?2, ?3)",
                params![post as i64, liker as i64, at],
            )?;
            let like = conn.last_insert_rowid() as u64;
            Ok(Some(Event::LikeAdded(Forum::like_record(conn, like, post, liker, at)?)))
        })
    }

    /// A member takes back their like.
    pub fn unlike(&mut self, external_id: &str, liker: MemberId, post: u64, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            let like: i64 = conn
                .query_row(
                    "SELECT id FROM likes WHERE post_id = ?1 AND liker_id = ?2 AND removed_at IS NULL",
                    params![post as i64, liker as i64],
                    |row| row.get(0),
                )
                .optional()?
                .ok_or_else(|| {
                    let liker = super::names::member_label(conn, liker).unwrap_or_else(|_| format!("#{liker}"));
                    ForumError::NotFound(format!("a like of post {post} by {liker}"))
                })?;
            conn.execute("UPDATE likes SET removed_at = ?1 WHERE id = ?2", params![at, like])?;
            Ok(Some(Event::LikeRemoved(Forum::like_record(conn, like as u64, post, liker, at)?)))
        })
    }

    pub(super) fn accept_record(conn: &Connection, answer: u64, at: i64) -> Result<(Accept, PostFacts), ForumError> {
        let facts = post_facts(conn, answer)?;
        if facts.kind != PostKind::Answer {
            return Err(ForumError::Invalid(format!("post {answer} is not an answer")));
        }
        let question = post_facts(conn, facts.topic)?;
        let accept = Accept {
            answer,
            answerer: facts.author,
            answer_wiki: facts.wiki_since.is_some_and(|since| since <= at),
            question: facts.topic,
            asker: question.author,
            at,
        };
        Ok((accept, facts))
    }

    /// The asker accepts an answer (replacing any answer accepted before).
    pub fn accept(&mut self, external_id: &str, asker: MemberId, answer: u64, at: i64) -> Result<Outcome, ForumError> {
        self.record(external_id, at, |conn| {
            let (accept, facts) = Forum::accept_record(conn, answer, at)?;
            if accept.asker != Some(asker) {
                return Err(ForumError::Invalid(format!(
                    "only the asker of question {} can accept its answers",
                    facts.topic
                )));
            }
            let previous: Option<i64> = conn
                .query_row("SELECT answer_id FROM accepts WHERE question_id = ?1", params![facts.topic as i64], |row| {
                    row.get(0)
                })
                .optional()?;
            if previous.is_some() {
                return Err(ForumError::Invalid(format!(
                    "question {} already has an accepted answer; unaccept it first",
                    facts.topic
                )));
            }
            conn.execute(
                "INSERT INTO accepts (question_id, answer_id, accepted_at) VALUES (?1, ?2, ?3)",
                params![facts.topic as i64, answer as i64, at],
            )?;
            Ok(Some(Event::AnswerAccepted(accept)))
        })
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
            let (accept, facts) = Forum::accept_record(conn, answer, at)?;
            if accept.asker != Some(asker) {
                return Err(ForumError::Invalid(format!("only the asker of question {} can unaccept", facts.topic)));
            }
            let removed = conn.execute(
                "DELETE FROM accepts WHERE question_id = ?1 AND answer_id = ?2",
                params![facts.topic as i64, answer as i64],
            )?;
            if removed == 0 {
                return Err(ForumError::NotFound(format!("an accepted answer {answer}")));
            }
            Ok(Some(Event::AnswerUnaccepted(accept)))
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
        let (member, tier, status): (i64, String, String) = self
            .conn
            .query_row("SELECT member_id, tier, status FROM nominations WHERE id = ?1", params![nomination], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?
            .ok_or_else(|| ForumError::NotFound(format!("nomination {nomination}")))?;
        if status != "pending" {
            return Err(ForumError::Invalid(format!("nomination {nomination} was already {status}")));
        }
        let change = self.manual_change(moderator, member as u64, &tier, reason, at)?;
        let action = if approve {
            ModeratorAction::NominationApproved(change)
        } else {
            ModeratorAction::NominationRejected(change)
        };
        self.moderate(&format!("moderator:decide:{nomination}"), action, || {
            format!("nomination {nomination} is not pending")
        })
    }

    /// Record a moderator's action: its forum part (access, queue), its audit row, and its event for the program.
    fn moderate(
        &mut self,
        external_id: &str,
        action: ModeratorAction,
        unchanged: impl FnOnce() -> String,
    ) -> Result<Outcome, ForumError> {
        let change = manual_change_of(&action).clone();
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
        joined_at(&self.conn, member)?;
        let declared = self.program.as_ref().is_some_and(|p| p.plugin.declaration().tiers.iter().any(|t| t.id == tier));
        if !declared {
            return Err(ForumError::NotFound(format!("tier {tier:?} (the program's settings declare no such tier)")));
        }
        Ok(ManualChange { member, tier: tier.to_owned(), moderator, reason: reason.to_owned(), at })
    }

    /// `moderator alice (#3)`, refusing non-moderators.
    pub fn moderator_label(&self, moderator: MemberId) -> Result<String, ForumError> {
        let (name, is_moderator): (String, bool) = self
            .conn
            .query_row("SELECT name, is_moderator FROM members WHERE id = ?1", params![moderator as i64], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?
            .ok_or_else(|| ForumError::NotFound(format!("member #{moderator}")))?;
        let who = super::names::label(&name, moderator);
        if !is_moderator {
            return Err(ForumError::Invalid(format!("{who} is not a moderator")));
        }
        Ok(format!("moderator {who}"))
    }
}

fn manual_change_of(action: &ModeratorAction) -> &ManualChange {
    match action {
        ModeratorAction::MemberAdded(c)
        | ModeratorAction::MemberRemoved(c)
        | ModeratorAction::NominationApproved(c)
        | ModeratorAction::NominationRejected(c) => c,
    }
}

/// How the audit log names a moderator action.
pub(crate) fn moderator_action_name(action: &ModeratorAction) -> &'static str {
    match action {
        ModeratorAction::MemberAdded(_) => "member-added",
        ModeratorAction::MemberRemoved(_) => "member-removed",
        ModeratorAction::NominationApproved(_) => "nomination-approved",
        ModeratorAction::NominationRejected(_) => "nomination-rejected",
    }
}

/// The forum's own part of a moderator action — tier access and the review queue — shared by the live action and
/// by recomputing history. Returns how many rows it changed (0: the action changed nothing).
pub(crate) fn apply_moderator_action(conn: &Connection, action: &ModeratorAction) -> Result<usize, ForumError> {
    let change = manual_change_of(action);
    let (member, tier, at, reason) = (change.member as i64, change.tier.as_str(), change.at, change.reason.as_str());
    let changed = match action {
        ModeratorAction::MemberAdded(_) => conn.execute(
            "INSERT OR IGNORE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, 'invited', ?3, ?4)",
            params![member, tier, at, reason],
        )?,
        ModeratorAction::MemberRemoved(_) => {
            conn.execute("DELETE FROM access WHERE member_id = ?1 AND tier = ?2", params![member, tier])?
        }
        ModeratorAction::NominationApproved(_) | ModeratorAction::NominationRejected(_) => {
            let approve = matches!(action, ModeratorAction::NominationApproved(_));
            let decided = conn.execute(
                "UPDATE nominations SET status = ?1, decided_at = ?2, decided_by = ?3, reason = ?4 \
                 WHERE member_id = ?5 AND tier = ?6 AND status = 'pending'",
                params![if approve { "approved" } else { "rejected" }, at, change.moderator as i64, reason, member, tier],
            )?;
            if approve && decided > 0 {
                conn.execute(
                    "INSERT OR REPLACE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, 'approved', ?3, ?4)",
                    params![member, tier, at, reason],
                )?;
            }
            decided
        }
    };
    Ok(changed)
}
