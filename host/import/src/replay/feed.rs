//! The replay's event sequence and its delivery: posts (in file order) merged with the sorted accepts and upvotes,
//! fed through the forum's import API in batches, resumable after a crash.
//!
//! **Order.** A vote of day *D* comes after every post created on or before day *D* (and after the post it is
//! on, whatever happens); votes are in (day, id) order. An answer read before its question waits for it; an answer
//! whose question is gone gets a placeholder question with no author.
//!
//! **Exactly once, and fast resume.** Each item has an external id (`se:post:ID`, `se:vote:ID`,
//! `se:deleted-question:ID`), and a batch of items commits in one transaction with the events it logged
//! (`Forum::batch`). The sequence is a function of the dump alone, so the last replay event in the log marks how
//! far a previous run got: a rerun skips the items up to it without touching the forum (only posts are looked up,
//! for their forum ids), then carries on; anything after it was in a batch that never committed and is redone.

use std::collections::{HashMap, VecDeque};

use rusqlite::OptionalExtension;

use super::ReplayError;
use super::dump::{ANSWER, PostIndex, PostInfo, QUESTION, VoteEvent, VoteKind, date, post_info};
use super::progress::Progress;
use super::sorted_votes::{SortedVotes, VoteStream};
use super::source::{DumpFile, Rows};
use super::summary::Counts;
use cadre_core::Forum;
use cadre_core::forum::{ForumError, ImportedPost, MemberId};
use cadre_model::PostKind;

/// Items per transaction by default: large enough that commits cost little, small enough that a crash redoes little.
pub const BATCH: usize = 20_000;

/// A question or answer to import, as read from `Posts.xml`.
struct PostItem {
    id: u64,
    info: PostInfo,
    at: i64,
    title: Option<String>,
    body: String,
}

/// One step of the replay.
enum Item {
    Post(PostItem),
    /// A stand-in for a deleted question that still has answers in the dump.
    DeletedQuestion {
        id: u64,
        at: i64,
    },
    Vote(VoteEvent),
}

impl Item {
    fn external_id(&self) -> String {
        match self {
            Item::Post(p) => format!("se:post:{}", p.id),
            Item::DeletedQuestion { id, .. } => format!("se:deleted-question:{id}"),
            Item::Vote(v) => format!("se:vote:{}", v.id),
        }
    }
}

/// Produces the items in replay order.
struct Sequence<'a> {
    posts_file: &'a DumpFile,
    rows: Option<Rows>,
    next_post: Option<PostItem>,
    votes: VoteStream<'a>,
    pending: VecDeque<Item>,
    /// Answers read before their question, by question id.
    waiting: HashMap<u64, Vec<PostItem>>,
    /// Questions known to be absent (deleted) for which a placeholder was queued.
    placeholders: HashMap<u64, ()>,
}

impl<'a> Sequence<'a> {
    fn read_post(&mut self, index: &mut PostIndex) -> Result<(), ReplayError> {
        while self.next_post.is_none() {
            let Some(rows) = self.rows.as_mut() else { return Ok(()) };
            let Some(mut row) = rows.next()? else {
                self.rows = None;
                return Ok(());
            };
            let (id, info) = post_info(self.posts_file, &row)?;
            if !info.counts() {
                continue;
            }
            let at = date(self.posts_file, &row, "CreationDate")?.unwrap_or(0);
            let info = index.get(id)?.unwrap_or(info);
            self.next_post =
                Some(PostItem { id, info, at, title: row.take("Title"), body: row.take("Body").unwrap_or_default() });
        }
        Ok(())
    }

    /// Queue a post (and what it depends on, or what depended on it).
    fn expand(&mut self, post: PostItem, index: &mut PostIndex) -> Result<(), ReplayError> {
        if post.info.kind == ANSWER {
            let parent = post.info.parent().unwrap_or(0);
            match index.get(parent)? {
                Some(q) if q.kind == QUESTION && q.forum_id == 0 && !self.queued(parent) => {
                    self.waiting.entry(parent).or_default().push(post);
                    return Ok(());
                }
                Some(q) if q.kind == QUESTION => {}
                _ => {
                    if self.placeholders.insert(parent, ()).is_none() {
                        self.pending.push_back(Item::DeletedQuestion { id: parent, at: post.at });
                    }
                }
            }
            self.pending.push_back(Item::Post(post));
        } else {
            let id = post.id;
            self.pending.push_back(Item::Post(post));
            for answer in self.waiting.remove(&id).unwrap_or_default() {
                self.pending.push_back(Item::Post(answer));
            }
        }
        Ok(())
    }

    fn queued(&self, post: u64) -> bool {
        self.pending.iter().any(|item| matches!(item, Item::Post(p) if p.id == post))
    }

    /// The next item, or `None` when the dump is exhausted.
    fn next(&mut self, index: &mut PostIndex) -> Result<Option<Item>, ReplayError> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(Some(item));
            }
            self.read_post(index)?;
            let vote = self.votes.peek();
            match (self.next_post.take(), vote) {
                (Some(post), Some(vote)) if post.at.div_euclid(cadre_rules::model::DAY_MS) > vote.day => {
                    let target = index.get(vote.post)?;
                    if target.is_some_and(|t| t.forum_id == 0) {
                        // The vote's post (or the question it waits for) comes later in the file, out of date
                        // order: pull posts forward until it is in.
                        self.expand(post, index)?;
                    } else {
                        self.next_post = Some(post);
                        self.votes.next_vote()?;
                        return Ok(Some(Item::Vote(vote)));
                    }
                }
                (Some(post), _) => self.expand(post, index)?,
                (None, Some(vote)) => {
                    self.flush_waiting();
                    if self.pending.is_empty() {
                        self.votes.next_vote()?;
                        return Ok(Some(Item::Vote(vote)));
                    }
                }
                (None, None) => {
                    self.flush_waiting();
                    if self.pending.is_empty() {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// At the end of the posts: answers still waiting lost their question after all; give them placeholders.
    fn flush_waiting(&mut self) {
        let mut waiting: Vec<(u64, Vec<PostItem>)> = self.waiting.drain().collect();
        waiting.sort_by_key(|(question, _)| *question);
        for (question, answers) in waiting {
            let at = answers.first().map_or(0, |a| a.at);
            if self.placeholders.insert(question, ()).is_none() {
                self.pending.push_back(Item::DeletedQuestion { id: question, at });
            }
            self.pending.extend(answers.into_iter().map(Item::Post));
        }
    }
}

/// Where the replay writes: the forum (whose members table is the map from Stack Exchange user ids to members), the
/// post index (forum ids).
pub struct Target<'a> {
    /// The forum (program installed and configured).
    pub forum: &'a mut Forum,
    /// Posts by Stack Exchange id; their `forum_id` is filled in as they are imported.
    pub index: &'a mut PostIndex,
    /// The category questions go to.
    pub category: u64,
}

/// The external id of the last replay event in the log (how far a previous run got), if any.
pub fn resume_marker(forum: &Forum) -> Result<Option<String>, ReplayError> {
    Ok(forum
        .conn()
        .query_row("SELECT external_id FROM events WHERE external_id LIKE 'se:%' ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Replay every post and vote event through the forum; counts what happened.
pub fn run(
    target: &mut Target<'_>,
    posts_file: &DumpFile,
    votes: &SortedVotes,
    batch: usize,
    progress: &mut Progress,
    counts: &mut Counts,
) -> Result<(), ReplayError> {
    let mut marker = resume_marker(target.forum)?;
    let mut sequence = Sequence {
        posts_file,
        rows: Some(posts_file.rows()?),
        next_post: None,
        votes: votes.iter()?,
        pending: VecDeque::new(),
        waiting: HashMap::new(),
        placeholders: HashMap::new(),
    };
    let mut placeholder_ids: HashMap<u64, u64> = HashMap::new();
    // Items already committed by an earlier run: skip them, remembering only the forum ids of posts.
    while let Some(resume_at) = marker.as_deref() {
        let Some(item) = sequence.next(target.index)? else {
            return Err(ReplayError::MarkerNotInDump { last: resume_at.to_owned() });
        };
        let external_id = item.external_id();
        match &item {
            Item::Post(post) => {
                let id = target.forum.post_id(&external_id)?.unwrap_or(0);
                target.index.set_forum_id(post.id, id)?;
            }
            Item::DeletedQuestion { id, .. } => {
                placeholder_ids.insert(*id, target.forum.post_id(&external_id)?.unwrap_or(0));
            }
            Item::Vote(_) => {}
        }
        counts.resumed += 1;
        progress.advance(1);
        if external_id == resume_at {
            marker = None;
        }
    }
    let mut done = false;
    while !done {
        let applied = target.forum.batch(|forum| {
            let mut applied = 0u64;
            for _ in 0..batch {
                let item = match sequence.next(target.index) {
                    Ok(Some(item)) => item,
                    Ok(None) => {
                        done = true;
                        break;
                    }
                    Err(error) => return Ok(Err(error)),
                };
                let step = Step { forum, index: target.index, category: target.category };
                if let Err(error) = step.apply(item, &mut placeholder_ids, counts) {
                    return Ok(Err(error));
                }
                applied += 1;
            }
            Ok(Ok(applied))
        })??;
        progress.advance(applied);
    }
    Ok(())
}

/// Applying one item to the forum inside the batch.
struct Step<'a> {
    forum: &'a mut Forum,
    index: &'a mut PostIndex,
    category: u64,
}

impl Step<'_> {
    fn member(&mut self, user: Option<i64>, at: i64) -> Result<Option<MemberId>, ForumError> {
        let Some(user) = user else { return Ok(None) };
        // The member imported from Users.xml under this id (the forum's members table is indexed by it, so no map
        // of every user is kept in memory); an owner missing from Users.xml becomes a member with only an id.
        Ok(Some(self.forum.import_member(&user.to_string(), &format!("user{user}"), at)?))
    }

    fn apply(self, item: Item, placeholders: &mut HashMap<u64, u64>, counts: &mut Counts) -> Result<(), ReplayError> {
        let external_id = item.external_id();
        let result = match item {
            Item::DeletedQuestion { id, at } => {
                let post = ImportedPost {
                    kind: PostKind::Question,
                    author: None,
                    parent: None,
                    category: Some(self.category),
                    title: Some(format!("(deleted question {id})")),
                    body: String::new(),
                    at,
                    wiki_since: None,
                };
                self.forum.import_post(&external_id, post).map(|(forum_id, _)| {
                    placeholders.insert(id, forum_id);
                })
            }
            Item::Post(post) => self.post(&external_id, post, placeholders),
            Item::Vote(vote) => self.vote(&external_id, vote),
        };
        match result {
            Ok(()) => Ok(()),
            // The database itself failed: stop (the batch is rolled back and redone by the next run).
            Err(ForumError::Db(e)) => Err(ReplayError::Db(e)),
            Err(ForumError::Open(e)) => Err(ReplayError::Forum(ForumError::Open(e))),
            // The forum refused this one action (and rolled back only it): count it, carry on.
            Err(refused) => {
                counts.refuse(&external_id, &refused.to_string());
                Ok(())
            }
        }
    }

    fn post(mut self, external_id: &str, post: PostItem, placeholders: &HashMap<u64, u64>) -> Result<(), ForumError> {
        let author = self.member(post.info.owner(), post.at)?;
        let (kind, parent) = if post.info.kind == QUESTION {
            (PostKind::Question, None)
        } else {
            let parent = post.info.parent().unwrap_or(0);
            let forum_parent = match self.index.get(parent)? {
                Some(q) if q.kind == QUESTION && q.forum_id != 0 => q.forum_id,
                _ => placeholders.get(&parent).copied().unwrap_or(0),
            };
            (PostKind::Answer, Some(forum_parent))
        };
        let imported = ImportedPost {
            kind,
            author,
            parent,
            category: Some(self.category),
            title: post.title,
            body: post.body,
            at: post.at,
            // Votes carry days only (00:00 UTC), and the preset compares by day: wiki from the start of its day.
            wiki_since: post.info.wiki_day().map(|day| day * cadre_rules::model::DAY_MS),
        };
        let (forum_id, _) = self.forum.import_post(external_id, imported)?;
        self.index.set_forum_id(post.id, forum_id)?;
        Ok(())
    }

    fn vote(self, external_id: &str, vote: VoteEvent) -> Result<(), ForumError> {
        let Some(info) = self.index.get(vote.post)? else { return Ok(()) };
        if info.forum_id == 0 {
            return Err(ForumError::NotFound(format!("post {} (not imported)", vote.post)));
        }
        match vote.vote_kind() {
            VoteKind::Upvote => {
                self.forum.import_like(external_id, None, info.forum_id, vote.at())?;
            }
            VoteKind::Accept => {
                if info.kind != ANSWER {
                    return Err(ForumError::Invalid(format!("post {} is not an answer", vote.post)));
                }
                self.forum.import_accept(external_id, info.forum_id, vote.at())?;
            }
        }
        Ok(())
    }
}
