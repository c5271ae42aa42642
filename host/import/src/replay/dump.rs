//! What a Stack Exchange dump says, reduced to what the replay needs, read in two quick pre-passes:
//! - `Posts.xml` → a [`PostIndex`]: per post id its kind, owner, question and community-wiki day (no titles or
//!   bodies: those are streamed again when the posts are imported);
//! - `Votes.xml` → the [`VoteEvent`]s (accepts and upvotes on questions and answers) sorted by (vote day, vote id),
//!   the votes that are skipped and why, and the ingredients of real reputation the forum model leaves out
//!   (downvotes, bounties), per user, for the fidelity report.
//!
//! Memory: a few dozen bytes per post up to [`super::post_index::POSTS_IN_MEMORY`] (the rest in a scratch table);
//! accepts and upvotes past [`super::sorted_votes::VOTES_IN_MEMORY`] go to
//! sorted runs on disk; nothing per row of text.

use std::collections::HashMap;

use cadre_rules::model::DAY_MS;

use super::ReplayError;
use super::sorted_votes::SortedVotes;
use super::source::{DumpFile, Row, for_each_row, parse_date};

/// Stack Exchange's `PostTypeId` for a question.
pub const QUESTION: u8 = 1;
/// Stack Exchange's `PostTypeId` for an answer.
pub const ANSWER: u8 = 2;

/// What the replay keeps about one post: 32 bytes (the index holds one per post of the dump, so a site of 60
/// million posts pays for every byte; absent values are sentinels rather than `Option`s, which would double it).
#[derive(Debug, Clone, Copy)]
pub struct PostInfo {
    /// Its forum post id once imported (0 before).
    pub forum_id: u64,
    /// `OwnerUserId`; [`NO_OWNER`] when the owner no longer exists.
    owner: i64,
    /// For an answer: `ParentId` (its question); 0 for none (Stack Exchange ids start at 1).
    parent: u64,
    /// The UTC day (since the epoch) of `CommunityOwnedDate`; [`NO_DAY`] if it never became community wiki.
    wiki_day: i32,
    /// `PostTypeId` (1 question, 2 answer, others carry no points).
    pub kind: u8,
}

const NO_OWNER: i64 = i64::MIN;
const NO_DAY: i32 = i32::MIN;

impl PostInfo {
    /// The `owner` a post without owner stores (for the scratch table's census).
    pub(crate) const NO_OWNER: i64 = NO_OWNER;

    /// Its fields as stored, sentinels included: (forum id, owner, parent, wiki day, kind).
    pub(crate) fn parts(&self) -> (u64, i64, u64, i32, u8) {
        (self.forum_id, self.owner, self.parent, self.wiki_day, self.kind)
    }

    /// A post from its stored fields ([`PostInfo::parts`]).
    pub(crate) fn from_parts(forum_id: u64, owner: i64, parent: u64, wiki_day: i32, kind: u8) -> PostInfo {
        PostInfo { forum_id, owner, parent, wiki_day, kind }
    }

    /// A post not imported yet.
    pub fn new(kind: u8, owner: Option<i64>, parent: Option<u64>, wiki_day: Option<i64>) -> PostInfo {
        PostInfo {
            forum_id: 0,
            owner: owner.filter(|o| *o != NO_OWNER).unwrap_or(NO_OWNER),
            parent: parent.unwrap_or(0),
            // Days of a year the date parser accepts fit an i32 many times over.
            wiki_day: wiki_day.map_or(NO_DAY, |day| day.clamp(i64::from(NO_DAY) + 1, i64::from(i32::MAX)) as i32),
            kind,
        }
    }

    /// `OwnerUserId`, if the owner still exists.
    pub fn owner(&self) -> Option<i64> {
        (self.owner != NO_OWNER).then_some(self.owner)
    }

    /// For an answer: `ParentId` (its question).
    pub fn parent(&self) -> Option<u64> {
        (self.parent != 0).then_some(self.parent)
    }

    /// The UTC day (since the epoch) of `CommunityOwnedDate`, if it became community wiki.
    pub fn wiki_day(&self) -> Option<i64> {
        (self.wiki_day != NO_DAY).then_some(i64::from(self.wiki_day))
    }

    /// A question or an answer (the only posts that earn points).
    pub fn counts(&self) -> bool {
        self.kind == QUESTION || self.kind == ANSWER
    }
}

pub use super::post_index::PostIndex;

/// Whether a vote event is an upvote or an accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteKind {
    /// VoteTypeId 1: the asker accepted this answer.
    Accept,
    /// VoteTypeId 2: an upvote.
    Upvote,
}

/// An accept or upvote that becomes a forum event, in replay order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct VoteEvent {
    /// The UTC day of the vote (votes carry days only).
    pub day: i64,
    /// The vote's id (ids grow with time: the order within a day).
    pub id: i64,
    /// The post voted on.
    pub post: u64,
    /// Accept or upvote.
    pub kind: VoteKindOrd,
}

/// [`VoteKind`] as an ordered value (so that [`VoteEvent`] sorts as a plain tuple).
pub type VoteKindOrd = u8;

impl VoteEvent {
    /// Accept or upvote.
    pub fn vote_kind(&self) -> VoteKind {
        if self.kind == 1 { VoteKind::Accept } else { VoteKind::Upvote }
    }

    /// When it happened: 00:00 UTC of its day, in ms.
    pub fn at(&self) -> i64 {
        self.day * DAY_MS
    }
}

/// Votes read from `Votes.xml`: the events to replay, and what was left out.
#[derive(Debug)]
pub struct Votes {
    /// Accepts and upvotes on questions and answers, sorted by (day, id) (in bounded memory: runs spill to disk).
    pub events: SortedVotes,
    /// Rows by `VoteTypeId`.
    pub by_type: std::collections::BTreeMap<i64, u64>,
    /// Accepts and upvotes on posts missing from Posts.xml (deleted posts).
    pub on_deleted_posts: u64,
    /// Accepts and upvotes on posts that are neither questions nor answers (tag wikis, …).
    pub on_other_posts: u64,
    /// Per user: −2 for every downvote on their question or answer (not on community wiki).
    pub downvotes: HashMap<i64, i64>,
    /// Per user: bounties won (`BountyClose` on their post) minus bounties offered (`BountyStart` by them).
    pub bounties: HashMap<i64, i64>,
}

fn number(file: &DumpFile, row: &Row, name: &str) -> Result<Option<i64>, ReplayError> {
    match row.get(name) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| ReplayError::Xml {
            file: file.path.clone(),
            row: row.number,
            detail: format!("{name}={text:?} is not a number"),
        }),
    }
}

fn required(file: &DumpFile, row: &Row, name: &str) -> Result<i64, ReplayError> {
    number(file, row, name)?.ok_or_else(|| ReplayError::Xml {
        file: file.path.clone(),
        row: row.number,
        detail: format!("the row has no {name}"),
    })
}

/// A date attribute in ms since the epoch.
pub fn date(file: &DumpFile, row: &Row, name: &str) -> Result<Option<i64>, ReplayError> {
    match row.get(name) {
        None | Some("") => Ok(None),
        Some(text) => parse_date(text).map(Some).ok_or_else(|| ReplayError::Xml {
            file: file.path.clone(),
            row: row.number,
            detail: format!("{name}={text:?} is not a date"),
        }),
    }
}

/// The post fields of one `Posts.xml` row (shared by the pre-pass and the import).
pub fn post_info(file: &DumpFile, row: &Row) -> Result<(u64, PostInfo), ReplayError> {
    let id = required(file, row, "Id")? as u64;
    let info = PostInfo::new(
        number(file, row, "PostTypeId")?.unwrap_or(0).clamp(0, 255) as u8,
        number(file, row, "OwnerUserId")?,
        number(file, row, "ParentId")?.map(|p| p as u64),
        date(file, row, "CommunityOwnedDate")?.map(|at| at.div_euclid(DAY_MS)),
    );
    Ok((id, info))
}

/// Pre-pass over `Posts.xml`, keeping at most `in_memory` posts in memory (the rest of the index in a scratch
/// table, see [`PostIndex`]).
pub fn index_posts(file: &DumpFile, in_memory: usize) -> Result<PostIndex, ReplayError> {
    let mut index = PostIndex::new(in_memory);
    for_each_row(file, |row| {
        let (id, info) = post_info(file, &row)?;
        index.insert(id, info)?;
        Ok(())
    })?;
    Ok(index)
}

/// Pre-pass over `Votes.xml`: the vote events sorted by (day, id), holding at most `in_memory` of them in memory
/// at once, and the ingredients of real reputation.
pub fn read_votes(file: &DumpFile, posts: &mut PostIndex, in_memory: usize) -> Result<Votes, ReplayError> {
    let mut votes = Votes {
        events: SortedVotes::new(in_memory),
        by_type: Default::default(),
        on_deleted_posts: 0,
        on_other_posts: 0,
        downvotes: HashMap::new(),
        bounties: HashMap::new(),
    };
    for_each_row(file, |row| {
        let kind = required(file, &row, "VoteTypeId")?;
        *votes.by_type.entry(kind).or_default() += 1;
        if !matches!(kind, 1 | 2 | 3 | 8 | 9) {
            return Ok(());
        }
        let id = required(file, &row, "Id")?;
        let post_id = required(file, &row, "PostId")? as u64;
        let at = date(file, &row, "CreationDate")?.ok_or_else(|| ReplayError::Xml {
            file: file.path.clone(),
            row: row.number,
            detail: "the vote has no CreationDate".into(),
        })?;
        let day = at.div_euclid(DAY_MS);
        let post = posts.get(post_id)?;
        match kind {
            1 | 2 => match post {
                None => votes.on_deleted_posts += 1,
                Some(p) if !p.counts() => votes.on_other_posts += 1,
                Some(_) => votes.events.push(VoteEvent { day, id, post: post_id, kind: kind as u8 })?,
            },
            3 => {
                if let Some(post) = post
                    && let Some(owner) = post.owner()
                    && post.counts()
                    && post.wiki_day().is_none_or(|w| day < w)
                {
                    let penalty = votes.downvotes.entry(owner).or_default();
                    *penalty = penalty.saturating_sub(2);
                }
            }
            8 => {
                // The offerer (the only vote type besides favourites that names its voter) pays the bounty.
                if let (Some(user), Some(amount)) = (number(file, &row, "UserId")?, number(file, &row, "BountyAmount")?)
                {
                    let offered = votes.bounties.entry(user).or_default();
                    // Saturating: an amount is any i64 the dump holds; the sum is for the fidelity report only.
                    *offered = offered.saturating_sub(amount);
                }
            }
            _ => {
                // 9: the bounty is awarded to the owner of the post it closes on.
                if let (Some(owner), Some(amount)) = (post.and_then(|p| p.owner()), number(file, &row, "BountyAmount")?)
                {
                    let won = votes.bounties.entry(owner).or_default();
                    *won = won.saturating_add(amount);
                }
            }
        }
        Ok(())
    })?;
    votes.events.finish();
    Ok(votes)
}

/// A user of `Users.xml`.
#[derive(Debug, Clone)]
pub struct User {
    /// `Id`.
    pub id: i64,
    /// `DisplayName`.
    pub name: String,
    /// `CreationDate` in ms.
    pub joined_at: i64,
    /// `Reputation` (real reputation, for the fidelity report only).
    pub reputation: i64,
}

/// The user of one `Users.xml` row.
pub fn user(file: &DumpFile, row: &Row) -> Result<User, ReplayError> {
    Ok(User {
        id: required(file, row, "Id")?,
        name: row.get("DisplayName").unwrap_or_default().to_owned(),
        joined_at: date(file, row, "CreationDate")?.unwrap_or(0),
        reputation: number(file, row, "Reputation")?.unwrap_or(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_costs_the_index_32_bytes_and_keeps_every_value_including_the_absent_ones() {
        assert_eq!(std::mem::size_of::<PostInfo>(), 32);
        let full = PostInfo::new(ANSWER, Some(-1), Some(7), Some(-3));
        assert_eq!((full.kind, full.owner(), full.parent(), full.wiki_day()), (ANSWER, Some(-1), Some(7), Some(-3)));
        let bare = PostInfo::new(QUESTION, None, None, None);
        assert_eq!((bare.owner(), bare.parent(), bare.wiki_day(), bare.forum_id), (None, None, None, 0));
    }
}
