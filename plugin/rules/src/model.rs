//! Events in, effects out: plain-Rust mirrors of the WIT types in `wit/forum.wit`.
//!
//! The component wrapper converts between these and the generated bindings one to one; keep the two in step.

use alloc::string::String;
use alloc::vec::Vec;

/// Milliseconds since the Unix epoch, UTC.
pub type Timestamp = i64;
/// A forum member.
pub type MemberId = u64;
/// A post.
pub type PostId = u64;

/// Milliseconds in a day; the UTC day of an event is `at.div_euclid(DAY_MS)`.
pub const DAY_MS: i64 = 86_400_000;

/// The UTC day number of a timestamp.
pub fn day_of(at: Timestamp) -> i64 {
    at.div_euclid(DAY_MS)
}

/// Question, answer or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PostKind {
    /// Opens a topic.
    Question,
    /// Answers a question.
    Answer,
    /// Replies to a post.
    Reply,
}

/// A post was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostCreated {
    /// The post.
    pub post: PostId,
    /// Its kind.
    pub kind: PostKind,
    /// Its author, if known.
    pub author: Option<MemberId>,
    /// The question or post it answers / replies to.
    pub parent: Option<PostId>,
    /// Its category.
    pub category: u64,
    /// When.
    pub at: Timestamp,
    /// When the author joined, if known.
    pub author_joined: Option<Timestamp>,
}

/// A like added or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Like {
    /// The like's id (a removal carries the id of the like it reverses).
    pub like: u64,
    /// The liked post.
    pub post: PostId,
    /// The liked post's kind.
    pub post_kind: PostKind,
    /// The liked post's author, if known.
    pub post_author: Option<MemberId>,
    /// Whether the post was a community wiki when liked.
    pub post_wiki: bool,
    /// Who liked it; `None` in imported history.
    pub liker: Option<MemberId>,
    /// When the liker joined, if known.
    pub liker_joined: Option<Timestamp>,
    /// When.
    pub at: Timestamp,
}

/// An answer accepted or unaccepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    /// The answer.
    pub answer: PostId,
    /// Its author, if known.
    pub answerer: Option<MemberId>,
    /// Whether the answer was a community wiki when accepted.
    pub answer_wiki: bool,
    /// The question.
    pub question: PostId,
    /// The asker, if known.
    pub asker: Option<MemberId>,
    /// When.
    pub at: Timestamp,
}

/// A moderator's action on one member and tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualChange {
    /// The member.
    pub member: MemberId,
    /// The tier id.
    pub tier: String,
    /// The moderator.
    pub moderator: MemberId,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// What a moderator did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeratorAction {
    /// Invited a member into a tier by hand.
    MemberAdded(ManualChange),
    /// Removed a member from a tier.
    MemberRemoved(ManualChange),
    /// Approved a nomination.
    NominationApproved(ManualChange),
    /// Rejected a nomination.
    NominationRejected(ManualChange),
}

/// Every event the program reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A post was created.
    PostCreated(PostCreated),
    /// A like was added.
    LikeAdded(Like),
    /// A like was removed.
    LikeRemoved(Like),
    /// An answer was accepted.
    AnswerAccepted(Accept),
    /// An acceptance was withdrawn.
    AnswerUnaccepted(Accept),
    /// A moderator acted.
    Moderator(ModeratorAction),
    /// Time passed.
    Tick(Timestamp),
}

/// Bronze, silver or gold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BadgeLevel {
    /// Entry level.
    Bronze,
    /// Middle level.
    Silver,
    /// Top level.
    Gold,
}

/// A badge the program may grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: BadgeLevel,
    /// What earns it.
    pub description: String,
}

/// A tier with a private forum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description for moderators.
    pub description: String,
}

/// One documented setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// TOML path.
    pub path: String,
    /// What it does.
    pub description: String,
    /// Default, as TOML.
    pub default_value: String,
}

/// What the program says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Default badges.
    pub badges: Vec<Badge>,
    /// Default tiers.
    pub tiers: Vec<Tier>,
    /// Settings with defaults.
    pub settings: Vec<Setting>,
}

/// What a configuration declares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Declaration {
    /// Badges that may be granted.
    pub badges: Vec<Badge>,
    /// Tiers that access may be granted to.
    pub tiers: Vec<Tier>,
}

/// One number for moderators.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Stable key.
    pub key: String,
    /// Label.
    pub label: String,
    /// Value.
    pub value: f64,
    /// Threshold it was measured against.
    pub threshold: Option<f64>,
}

/// Why a member is nominated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence {
    /// One line summary.
    pub summary: String,
    /// Numbers.
    pub figures: Vec<Figure>,
    /// Best posts.
    pub posts: Vec<PostId>,
    /// Gaming flags.
    pub flags: Vec<String>,
}

/// Something the program asks the host to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Award (or take back) points.
    AwardPoints {
        /// Who.
        member: MemberId,
        /// How many.
        delta: i64,
        /// Rule key.
        rule: String,
        /// Explanation.
        reason: String,
    },
    /// Grant a badge.
    GrantBadge {
        /// Who.
        member: MemberId,
        /// Badge id.
        badge: String,
        /// Why.
        reason: String,
    },
    /// Revoke a badge.
    RevokeBadge {
        /// Who.
        member: MemberId,
        /// Badge id.
        badge: String,
        /// Why.
        reason: String,
    },
    /// Grant access to a tier's private forum.
    GrantAccess {
        /// Who.
        member: MemberId,
        /// Tier id.
        tier: String,
        /// Why.
        reason: String,
    },
    /// Revoke access.
    RevokeAccess {
        /// Who.
        member: MemberId,
        /// Tier id.
        tier: String,
        /// Why.
        reason: String,
    },
    /// Nominate for review.
    Nominate {
        /// Who.
        member: MemberId,
        /// Tier id.
        tier: String,
        /// Why.
        evidence: Evidence,
    },
    /// Tell moderators.
    NotifyModerators {
        /// Concerning whom.
        member: Option<MemberId>,
        /// Topic key.
        topic: String,
        /// Message.
        message: String,
    },
}
