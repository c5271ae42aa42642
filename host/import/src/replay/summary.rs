//! The replay's report: events by kind, what was skipped and why, what earned nothing and why, the daily cap, and
//! the fidelity table; as text or JSON.
//!
//! Everything but the run's own figures (time, items resumed) is computed from the dump and the forum database,
//! so a resumed replay reports the same as an uninterrupted one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::dump::{ANSWER, PostIndex, QUESTION, VoteKind, Votes};
use super::fidelity::Fidelity;

/// What this run did (as opposed to the whole replay).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    /// Items skipped because an earlier run had committed them.
    pub resumed: u64,
    /// Actions the forum refused (each rolled back alone), by reason.
    pub refused: BTreeMap<String, u64>,
}

impl Counts {
    /// The forum refused the action of item `external_id`.
    pub fn refuse(&mut self, external_id: &str, reason: &str) {
        tracing::warn!("{external_id}: refused by the forum: {reason}");
        // Group by the reason without its numbers (`post 12 is not an answer` → `post # is not an answer`).
        let mut key = String::new();
        for word in reason.split(' ') {
            key.push_str(if word.chars().any(|c| c.is_ascii_digit()) { "#" } else { word });
            key.push(' ');
        }
        *self.refused.entry(key.trim_end().to_owned()).or_default() += 1;
    }
}

/// Votes and posts that earn nothing, by reason (they are still delivered: the program decides).
#[derive(Debug, Default, Clone, Serialize)]
pub struct EarnedNothing {
    /// Upvotes cast on or after the day their post became community wiki.
    pub upvotes_on_community_wiki: u64,
    /// Accepts of an answer that was community wiki by then (the asker's part still counts).
    pub accepts_of_community_wiki: u64,
    /// Accepts by the asker of their own answer.
    pub self_accepts: u64,
    /// Questions and answers whose owner is gone (no `OwnerUserId`).
    pub posts_without_owner: u64,
    /// Upvotes on such posts.
    pub upvotes_on_posts_without_owner: u64,
    /// Accepts of such answers (the asker's part still counts).
    pub accepts_of_answers_without_owner: u64,
}

/// Votes left out of the replay, by reason.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Skipped {
    /// Accepts and upvotes on posts missing from Posts.xml (deleted posts).
    pub votes_on_deleted_posts: u64,
    /// Accepts and upvotes on tag wikis, excerpts and other posts that are neither questions nor answers.
    pub votes_on_other_post_types: u64,
    /// Downvotes, bounties, favourites, closes and every other vote type: not part of the forum model.
    pub votes_of_other_types: u64,
    /// Posts that are neither questions nor answers.
    pub posts_of_other_types: u64,
}

/// Members whose likes hit the daily cap.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Caps {
    /// Members with points withheld by the daily cap.
    pub members: u64,
    /// Points withheld in all.
    pub points_withheld: i64,
    /// The ten members with the most withheld: (Stack Exchange user id, points withheld).
    pub top: Vec<(i64, i64)>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The site folder's name.
    pub site: String,
    /// Rows read: posts, users, votes by `VoteTypeId`.
    pub posts: u64,
    /// Users in Users.xml.
    pub users: u64,
    /// Votes by `VoteTypeId`.
    pub votes_by_type: BTreeMap<i64, u64>,
    /// Events in the forum's log by kind.
    pub events: BTreeMap<String, u64>,
    /// Placeholder questions made for answers whose question was deleted.
    pub deleted_questions: u64,
    /// What was left out.
    pub skipped: Skipped,
    /// What was delivered but earned nothing.
    pub earned_nothing: EarnedNothing,
    /// The daily cap.
    pub caps: Caps,
    /// Members with non-zero points.
    pub members_with_points: u64,
    /// Sum of all points.
    pub total_points: i64,
    /// The fidelity table.
    pub fidelity: Fidelity,
    /// This run.
    pub run: Counts,
    /// Seconds this run took.
    pub seconds: f64,
    /// Events this run delivered per second.
    pub events_per_second: f64,
}

/// Classify the dump's posts and vote events (independent of how many runs the replay took).
pub fn classify(index: &mut PostIndex, votes: &Votes) -> Result<(EarnedNothing, Skipped), super::ReplayError> {
    let census = index.census()?;
    let mut nothing = EarnedNothing { posts_without_owner: census.counting_without_owner, ..EarnedNothing::default() };
    let skipped = Skipped {
        votes_on_deleted_posts: votes.on_deleted_posts,
        votes_on_other_post_types: votes.on_other_posts,
        votes_of_other_types: votes.by_type.iter().filter(|(k, _)| !matches!(k, 1 | 2)).map(|(_, n)| n).sum(),
        posts_of_other_types: census.posts - census.counting,
    };
    let mut stream = votes.events.iter()?;
    while let Some(vote) = stream.next_vote()? {
        let Some(post) = index.get(vote.post)? else { continue };
        let wiki = post.wiki_day().is_some_and(|w| vote.day >= w);
        match vote.vote_kind() {
            VoteKind::Upvote => {
                nothing.upvotes_on_community_wiki += u64::from(wiki);
                nothing.upvotes_on_posts_without_owner += u64::from(!wiki && post.owner().is_none());
            }
            VoteKind::Accept if post.kind == ANSWER => {
                let question = match post.parent() {
                    Some(q) => index.get(q)?,
                    None => None,
                };
                let asker = question.filter(|q| q.kind == QUESTION).and_then(|q| q.owner());
                let own = asker.is_some() && asker == post.owner();
                nothing.self_accepts += u64::from(own);
                nothing.accepts_of_community_wiki += u64::from(!own && wiki);
                nothing.accepts_of_answers_without_owner += u64::from(!own && !wiki && post.owner().is_none());
            }
            VoteKind::Accept => {}
        }
    }
    Ok((nothing, skipped))
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

impl Report {
    /// The report as text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let o = &mut out;
        let _ = writeln!(o, "Replay of {} under the program (component, SQLite, ledger)\n", self.site);
        let _ = writeln!(
            o,
            "Dump: {} posts, {} users, {} votes",
            self.posts,
            self.users,
            self.votes_by_type.values().sum::<u64>()
        );
        let _ = writeln!(o, "\nEvents in the log, by kind:");
        for (kind, n) in &self.events {
            let _ = writeln!(o, "  {kind:<24} {n:>10}");
        }
        if self.deleted_questions > 0 {
            let _ =
                writeln!(o, "  (of the questions, {} are placeholders for deleted questions)", self.deleted_questions);
        }
        let s = &self.skipped;
        let _ = writeln!(o, "\nSkipped:");
        let _ = writeln!(o, "  {:<52} {:>8}", "accepts and upvotes on deleted posts", s.votes_on_deleted_posts);
        let _ = writeln!(
            o,
            "  {:<52} {:>8}",
            "accepts and upvotes on tag wikis and other posts", s.votes_on_other_post_types
        );
        let _ = writeln!(o, "  {:<52} {:>8}", "votes of other types (downvotes, bounties, …)", s.votes_of_other_types);
        let _ = writeln!(o, "  {:<52} {:>8}", "posts that are neither questions nor answers", s.posts_of_other_types);
        let n = &self.earned_nothing;
        let _ = writeln!(o, "\nDelivered, earning their owner nothing:");
        let _ = writeln!(o, "  {:<52} {:>8}", "upvotes on community wiki", n.upvotes_on_community_wiki);
        let _ = writeln!(
            o,
            "  {:<52} {:>8}",
            "accepts of community wiki answers (asker's +2 kept)", n.accepts_of_community_wiki
        );
        let _ = writeln!(o, "  {:<52} {:>8}", "self-accepts (nothing to anyone)", n.self_accepts);
        let _ = writeln!(o, "  {:<52} {:>8}", "questions and answers without owner", n.posts_without_owner);
        let _ = writeln!(o, "  {:<52} {:>8}", "upvotes on posts without owner", n.upvotes_on_posts_without_owner);
        let _ = writeln!(
            o,
            "  {:<52} {:>8}",
            "accepts of answers without owner (asker's +2 kept)", n.accepts_of_answers_without_owner
        );
        let c = &self.caps;
        let _ = writeln!(o, "\nDaily cap: {} members hit it, {} points withheld", c.members, c.points_withheld);
        if !c.top.is_empty() {
            let top: Vec<String> = c.top.iter().map(|(user, points)| format!("user {user}: {points}")).collect();
            let _ = writeln!(o, "  most withheld: {}", top.join(", "));
        }
        let _ = writeln!(
            o,
            "\nPoints: {} members with non-zero points, {} points in all",
            self.members_with_points, self.total_points
        );
        let f = &self.fidelity;
        let _ = writeln!(o, "\nFidelity against Reputation in Users.xml ({} users):", f.users);
        let _ = writeln!(
            o,
            "  {:<28} {:>8} {:>8} {:>8} {:>14} {:>10}",
            "", "±1 %", "±5 %", "±10 %", "Σ|difference|", "explains"
        );
        for step in &f.steps {
            let explains = if step.ingredient == "forum model" { String::new() } else { percent(step.explained) };
            let _ = writeln!(
                o,
                "  {:<28} {:>8} {:>8} {:>8} {:>14} {:>10}",
                step.ingredient,
                percent(step.within_1),
                percent(step.within_5),
                percent(step.within_10),
                step.abs_difference,
                explains
            );
        }
        let _ = writeln!(o, "  residual (unexplained): {} of the forum model's difference", percent(f.residual));
        let _ =
            writeln!(o, "  (explains: the part of that difference an ingredient removes when all the others are in)");
        let _ = write!(o, "\nThis run: {:.2} s, {:.0} events/s", self.seconds, self.events_per_second);
        if self.run.resumed > 0 {
            let _ = write!(o, ", resumed after {} items already committed", self.run.resumed);
        }
        let _ = writeln!(o);
        for (reason, count) in &self.run.refused {
            let _ = writeln!(o, "  refused by the forum: {count} × {reason}");
        }
        out
    }
}
