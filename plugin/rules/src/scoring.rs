//! Points: likes, accepts and posts become awards, within daily caps and the anti-gaming rules, and reversals take
//! back exactly what was given.
//!
//! Every like and accept leaves a record of what it gave to each party (points, and points withheld by caps or by
//! anti-gaming rules), so that its removal refunds exactly that, whatever happened in between, and a second removal
//! refunds nothing (accepts work the same way, in `accepts`). A like that gives a party nothing although the points
//! table says it is worth something (a daily cap, a per-pair limit, a young liker, a self-like, a community wiki)
//! still gives that party a ledger line of 0 points naming the rule, so the ledger answers "why did this like give
//! me nothing?"; a rule worth 0 points (e.g. `points.like-given = 0`) leaves no line. Store layout:
//! - `like/<id>` — what a like gave (see `like_key`);
//! - `post/<id>` — current likes on an answer (to rank a member's best accepted answers in evidence).
//!
//! Caps: `caps.*-per-day` bound the points one member earns per UTC day from likes received / given. The like that
//! crosses a cap gets the part that still fits. A refund on the same day frees its room again, so a like and its
//! removal leave the day as if neither happened (later days cannot be affected: a day's cap is over when it ends).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::antigaming;
use crate::config::Config;
use crate::kv::{Kv, codec};
use crate::model::{Effect, Like, MemberId, PostCreated, PostKind, day_of};
use crate::state::{self, Kind, MemberState, Members};

/// What one event is doing: the configuration, the store, the members it touches, and the effects so far.
pub struct Ctx<'a> {
    /// The configuration in force.
    pub config: &'a Config,
    /// The program's store.
    pub kv: &'a mut dyn Kv,
    /// Members touched by this event.
    pub members: Members,
    /// Effects so far.
    pub effects: Vec<Effect>,
    /// When the event being handled happened (windows of external criteria end here).
    pub now: crate::model::Timestamp,
}

impl Ctx<'_> {
    /// The state of a member (loaded once per event).
    pub fn member(&mut self, member: MemberId) -> &mut MemberState {
        self.members.get(self.kv, member)
    }

    /// Give (or take back) points of a kind, counted on `day` for the trend, with a ledger line.
    pub(crate) fn award(&mut self, member: MemberId, kind: Kind, delta: i64, day: i64, rule: &str, reason: String) {
        if delta == 0 {
            return;
        }
        let state = self.member(member);
        state.points += delta;
        state.by_kind[kind.index()] += delta;
        self.members.add_to_ring(self.kv, member, day, delta);
        self.effects.push(Effect::AwardPoints { member, delta, rule: rule.into(), reason });
    }

    /// A ledger line of 0 points saying which rule withheld what a like or an accept would have given `member`
    /// (a cap, an anti-gaming rule, a self-like, a community wiki): every like and accept a member is party to is
    /// explained in their ledger, not only those that paid. Changes no total.
    pub(crate) fn withheld(&mut self, member: MemberId, kind: Kind, reason: String) {
        self.effects.push(Effect::AwardPoints { member, delta: 0, rule: kind.key().into(), reason });
    }

    /// Record that `member` acted on `day`; the first action of a day earns `points.active-day`.
    pub(crate) fn active(&mut self, member: MemberId, day: i64) {
        if self.member(member).mark_active(day) {
            let points = self.config.points.active_day;
            self.award(member, Kind::ActiveDay, points, day, Kind::ActiveDay.key(), "active today".into());
        }
    }
}

/// Which daily cap an amount counts against.
#[derive(Clone, Copy)]
pub(crate) enum Cap {
    /// `caps.likes-received-per-day`.
    Received,
    /// `caps.likes-given-per-day`.
    Given,
}

/// The part of `amount` that fits under the member's cap for `day` (0 = no cap), counting it as used.
pub(crate) fn take_capped(state: &mut MemberState, day: i64, which: Cap, cap: i64, amount: i64) -> i64 {
    if day > state.cap_day {
        state.cap_day = day;
        state.received_today = 0;
        state.given_today = 0;
    } else if day < state.cap_day {
        // Out of order (the host delivers in order): cap against a fresh day without disturbing today's counters.
        return if cap == 0 { amount } else { amount.min(cap) };
    }
    let used = match which {
        Cap::Received => &mut state.received_today,
        Cap::Given => &mut state.given_today,
    };
    let given = if cap == 0 { amount } else { amount.min((cap - *used).max(0)) };
    *used += given;
    given
}

/// Give back cap room on `day` (a refund on the same day as the award).
pub(crate) fn release_capped(state: &mut MemberState, day: i64, which: Cap, amount: i64) {
    if state.cap_day == day {
        let used = match which {
            Cap::Received => &mut state.received_today,
            Cap::Given => &mut state.given_today,
        };
        *used = (*used - amount).max(0);
    }
}

fn note(full: i64, given: i64, percent: i64) -> String {
    if given < full * percent / 100 {
        format!(" (daily cap: {given} of {full})")
    } else if percent < 100 {
        format!(" (young account: {percent}%)")
    } else {
        String::new()
    }
}

/// Why a like that is worth `full` points to one party gave it nothing (`damped`: what was left after the anti-gaming
/// rules, before the daily cap `cap`).
fn why_nothing(
    config: &Config,
    verdict: Option<antigaming::Verdict>,
    liker: MemberId,
    author: MemberId,
    damped: i64,
    cap: i64,
) -> String {
    let rules = &config.antigaming;
    match verdict.and_then(|v| v.over_pair_limit) {
        Some(antigaming::PairLimit::Day) => {
            format!("pair limit: member {liker} → member {author} {} a day", rules.pair_likes_per_day)
        }
        Some(antigaming::PairLimit::Week) => {
            format!("pair limit: member {liker} → member {author} {} in 7 days", rules.pair_likes_per_week)
        }
        None if damped == 0 => format!("liker account younger than {} days", rules.young_liker_days),
        None => format!("withheld by daily cap ({cap} reached)"),
    }
}

const AUTHOR: i64 = 1;
const AUTHOR_COUNTED: i64 = 2;
const LIKER: i64 = 4;
const PAIR_COUNTED: i64 = 8;
const POST_COUNTED: i64 = 16;
const LIKER_COUNTED: i64 = 32;

/// `like/<id>`: what one like gave, kept until it is removed: `[flags, author, kind, author points, author lost to
/// caps, author lost to anti-gaming, liker, liker points, liker lost to caps, liker lost to anti-gaming, day, post]`.
fn like_key(like: u64) -> String {
    format!("like/{like}")
}

fn kind_of(post_kind: PostKind) -> Kind {
    match post_kind {
        PostKind::Answer => Kind::AnswerLiked,
        PostKind::Question => Kind::QuestionLiked,
        PostKind::Reply => Kind::ReplyLiked,
    }
}

fn post_likes_add(kv: &mut dyn Kv, post: u64, delta: i64) {
    let key = format!("post/{post}");
    let [n] = codec::decode::<1>(kv.get(&key).as_deref());
    if n + delta <= 0 { kv.delete(&key) } else { kv.set(&key, &codec::encode(&[n + delta])) }
}

/// Current likes on an answer.
pub fn post_likes(kv: &mut dyn Kv, post: u64) -> i64 {
    codec::decode::<1>(kv.get(&format!("post/{post}")).as_deref())[0]
}

/// A like was added: credit the post's author and the liker, within the caps and the anti-gaming rules.
pub fn like_added(ctx: &mut Ctx<'_>, like: &Like) {
    let key = like_key(like.like);
    if ctx.kv.get(&key).is_some() {
        return; // delivered twice: the first delivery already counted it
    }
    let day = day_of(like.at);
    let kind = kind_of(like.post_kind);
    let points = &ctx.config.points;
    let full = match kind {
        Kind::AnswerLiked => points.answer_liked,
        Kind::QuestionLiked => points.question_liked,
        _ => points.reply_liked,
    };
    let give_full = points.like_given;
    let mut rec = [0i64; 12];
    rec[2] = kind as i64;
    rec[10] = day;
    rec[11] = like.post as i64;
    if let Some(liker) = like.liker {
        ctx.active(liker, day);
    }
    let self_like = like.liker.is_some() && like.liker == like.post_author;
    let verdict = match (like.liker, like.post_author) {
        (Some(liker), Some(author)) if !self_like => {
            rec[0] |= PAIR_COUNTED;
            rec[1] = author as i64;
            let rules = &ctx.config.antigaming;
            Some(antigaming::like_added(rules, ctx.kv, liker, author, like.at, like.liker_joined, &mut ctx.effects))
        }
        _ => None,
    };
    let percent = verdict.map_or(100, |v| v.percent);
    let over = verdict.is_some_and(|v| v.over_pair_limit.is_some());
    let what = format!("like {} on {} {}", like.like, post_word(like.post_kind), like.post);

    // The author: nothing for a community wiki (the post belongs to the community) or a self-like.
    if let Some(author) = like.post_author
        && like.post_wiki
        && full > 0
    {
        ctx.withheld(author, kind, format!("{what}: community wiki, not counted"));
    }
    if let Some(author) = like.post_author
        && !like.post_wiki
    {
        rec[0] |= AUTHOR;
        rec[1] = author as i64;
        if self_like {
            rec[5] = full;
            ctx.member(author).lost_gaming += full;
            if full > 0 {
                ctx.withheld(author, kind, format!("{what}: self-like, not counted"));
            }
        } else {
            rec[0] |= AUTHOR_COUNTED;
            if like.post_kind == PostKind::Answer {
                rec[0] |= POST_COUNTED;
                post_likes_add(ctx.kv, like.post, 1);
            }
            let cap = ctx.config.caps.likes_received_per_day;
            let state = ctx.members.get(ctx.kv, author);
            state.likes_received += 1;
            if let Some(v) = verdict {
                state::liker_added(ctx.kv, state, author, v.before);
            }
            let damped = if over { 0 } else { full * percent / 100 };
            let given = take_capped(state, day, Cap::Received, cap, damped);
            state.lost_gaming += full - damped;
            state.lost_caps += damped - given;
            rec[3] = given;
            rec[4] = damped - given;
            rec[5] = full - damped;
            if given > 0 {
                ctx.award(author, kind, given, day, kind.key(), format!("{what}{}", note(full, given, percent)));
            } else if full > 0 {
                let liker = like.liker.unwrap_or_default();
                let why = why_nothing(ctx.config, verdict, liker, author, damped, cap);
                ctx.withheld(author, kind, format!("{what}: {why}"));
            }
        }
    }

    // The liker: points for giving, capped separately; nothing for liking one's own post.
    let what = format!("gave like {} on post {}", like.like, like.post);
    if let Some(liker) = like.liker {
        rec[0] |= LIKER;
        rec[6] = liker as i64;
        if self_like {
            rec[9] = give_full;
            ctx.member(liker).lost_gaming += give_full;
            if give_full > 0 {
                ctx.withheld(liker, Kind::LikeGiven, format!("{what}: self-like, not counted"));
            }
        } else {
            rec[0] |= LIKER_COUNTED;
            let cap = ctx.config.caps.likes_given_per_day;
            let state = ctx.members.get(ctx.kv, liker);
            state.likes_given += 1;
            let damped = if over { 0 } else { give_full * percent / 100 };
            let given = take_capped(state, day, Cap::Given, cap, damped);
            state.lost_gaming += give_full - damped;
            state.lost_caps += damped - given;
            rec[7] = given;
            rec[8] = damped - given;
            rec[9] = give_full - damped;
            if given > 0 {
                let what = format!("{what}{}", note(give_full, given, percent));
                ctx.award(liker, Kind::LikeGiven, given, day, Kind::LikeGiven.key(), what);
            } else if give_full > 0 {
                let author = like.post_author.unwrap_or_default();
                let why = why_nothing(ctx.config, verdict, liker, author, damped, cap);
                ctx.withheld(liker, Kind::LikeGiven, format!("{what}: {why}"));
            }
        }
    }
    if rec[0] != 0 {
        ctx.kv.set(&key, &codec::encode(&rec));
    }
}

pub(crate) fn post_word(kind: PostKind) -> &'static str {
    match kind {
        PostKind::Question => "question",
        PostKind::Answer => "answer",
        PostKind::Reply => "reply",
    }
}

/// A like was removed: take back exactly what it gave to each party (nothing if it was already removed).
pub fn like_removed(ctx: &mut Ctx<'_>, like: &Like) {
    let key = like_key(like.like);
    let Some(bytes) = ctx.kv.get(&key) else {
        return;
    };
    ctx.kv.delete(&key);
    let rec = codec::decode::<12>(Some(&bytes));
    let (flags, day, kind) = (rec[0], rec[10], Kind::from_index(rec[2]));
    let reason = format!("like {} on post {} removed", like.like, rec[11]);
    if flags & AUTHOR != 0 {
        let author = rec[1] as MemberId;
        if flags & PAIR_COUNTED != 0 {
            let before = antigaming::like_removed(ctx.kv, rec[6] as MemberId, author, day);
            let state = ctx.members.get(ctx.kv, author);
            state::liker_removed(ctx.kv, state, author, before);
        }
        if flags & POST_COUNTED != 0 {
            post_likes_add(ctx.kv, rec[11] as u64, -1);
        }
        let state = ctx.member(author);
        if flags & AUTHOR_COUNTED != 0 {
            state.likes_received -= 1;
        }
        release_capped(state, day, Cap::Received, rec[3]);
        state.lost_caps -= rec[4];
        state.lost_gaming -= rec[5];
        ctx.award(author, kind, -rec[3], day, "refund", reason.clone());
    } else if flags & PAIR_COUNTED != 0 {
        // The author's side was not kept (community wiki) but the pair was counted: uncount it.
        antigaming::like_removed(ctx.kv, rec[6] as MemberId, rec[1] as MemberId, day);
    }
    if flags & LIKER != 0 {
        let liker = rec[6] as MemberId;
        let state = ctx.member(liker);
        if flags & LIKER_COUNTED != 0 {
            state.likes_given -= 1;
        }
        release_capped(state, day, Cap::Given, rec[7]);
        state.lost_caps -= rec[8];
        state.lost_gaming -= rec[9];
        ctx.award(liker, Kind::LikeGiven, -rec[7], day, "refund", reason);
    }
}

/// A post was created: count it and give `points.post-created`.
pub fn post_created(ctx: &mut Ctx<'_>, post: &PostCreated) {
    let Some(author) = post.author else { return };
    let day = day_of(post.at);
    ctx.active(author, day);
    ctx.member(author).posts += 1;
    let points = ctx.config.points.post_created;
    let reason = format!("created {} {}", post_word(post.kind), post.post);
    ctx.award(author, Kind::PostCreated, points, day, Kind::PostCreated.key(), reason);
}
