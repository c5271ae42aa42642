//! Accepted answers: points to the answerer and the asker, and exact refunds when an acceptance is withdrawn.
//!
//! Nothing at all for a self-accept; nothing to the author of a community wiki (the asker keeps theirs); accept
//! points are outside the daily caps unless `caps.accepts-exempt = false`. An accept that gives a party nothing
//! still leaves them a ledger line of 0 points saying why. Store layout:
//! - `accept/<answer>` — what the accept gave ([`AcceptRecord`]), until it is withdrawn;
//! - `m/<member>/acc` — the member's [`RECENT_ACCEPTED`] most recent accepted answers (for the evidence's best
//!   answers). Bounded: a member with tens of thousands of accepted answers (there are such members on the largest
//!   Stack Exchange sites) must not outgrow the store's 64 KiB value limit, which would stop their events.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::kv::{Kv, codec};
use crate::model::{Accept, MemberId, day_of};
use crate::scoring::{Cap, Ctx, release_capped, take_capped};
use crate::state::{self, Kind};

const ANSWERER: i64 = 1;
const ANSWER_COUNTED: i64 = 2;
const ASKER: i64 = 4;
const CAPPED: i64 = 8;

/// What one accept gave, kept until it is withdrawn: `[flags, answerer, answerer points, answerer lost to caps,
/// answerer lost to anti-gaming, asker, asker points, asker lost to caps, asker lost to anti-gaming, day, question]`.
pub type AcceptRecord = [i64; 11];

fn accept_key(answer: u64) -> String {
    format!("accept/{answer}")
}

/// How many of a member's most recent accepted answers are kept (and ranked for a nomination's best answers).
pub const RECENT_ACCEPTED: usize = 500;

fn accepted_key(member: MemberId) -> String {
    format!("m/{member}/acc")
}

/// An answer was accepted: points to the answerer and the asker (nothing at all for a self-accept; nothing to the
/// author of a community wiki), outside the caps unless `caps.accepts-exempt = false`.
pub fn answer_accepted(ctx: &mut Ctx<'_>, accept: &Accept) {
    let key = accept_key(accept.answer);
    if ctx.kv.get(&key).is_some() {
        return; // already accepted: one accept per answer counts
    }
    let day = day_of(accept.at);
    let (exempt, points) = (ctx.config.caps.accepts_exempt, &ctx.config.points);
    let (answer_points, accepting_points) = (points.answer_accepted, points.accepting);
    let (received_cap, given_cap) = (ctx.config.caps.likes_received_per_day, ctx.config.caps.likes_given_per_day);
    let mut rec: AcceptRecord = [0; 11];
    rec[9] = day;
    rec[10] = accept.question as i64;
    if !exempt {
        rec[0] |= CAPPED;
    }
    if let Some(asker) = accept.asker {
        ctx.active(asker, day);
    }
    let self_accept = accept.asker.is_some() && accept.asker == accept.answerer;
    let what = format!("answer {} accepted on question {}", accept.answer, accept.question);
    if let Some(answerer) = accept.answerer
        && accept.answer_wiki
        && answer_points > 0
    {
        ctx.withheld(answerer, Kind::AnswerAccepted, format!("{what}: community wiki, not counted"));
    }
    if let Some(answerer) = accept.answerer
        && !accept.answer_wiki
    {
        rec[0] |= ANSWERER;
        rec[1] = answerer as i64;
        let state = ctx.members.get(ctx.kv, answerer);
        if self_accept {
            state.lost_gaming += answer_points;
            rec[4] = answer_points;
            if answer_points > 0 {
                ctx.withheld(answerer, Kind::AnswerAccepted, format!("{what}: self-accept, not counted"));
            }
        } else {
            rec[0] |= ANSWER_COUNTED;
            state.accepted_answers += 1;
            let given = if exempt {
                answer_points
            } else {
                take_capped(state, day, Cap::Received, received_cap, answer_points)
            };
            state.lost_caps += answer_points - given;
            rec[2] = given;
            rec[3] = answer_points - given;
            let mut answers = state::load_ids(ctx.kv, &accepted_key(answerer));
            answers.push(accept.answer);
            let oldest_kept = answers.len().saturating_sub(RECENT_ACCEPTED);
            state::store_ids(ctx.kv, &accepted_key(answerer), &answers[oldest_kept..]);
            if given > 0 {
                ctx.award(answerer, Kind::AnswerAccepted, given, day, Kind::AnswerAccepted.key(), what);
            } else if answer_points > 0 {
                let reason = format!("{what}: withheld by daily cap ({received_cap} reached)");
                ctx.withheld(answerer, Kind::AnswerAccepted, reason);
            }
        }
    }
    if let Some(asker) = accept.asker {
        rec[0] |= ASKER;
        rec[5] = asker as i64;
        let state = ctx.members.get(ctx.kv, asker);
        let what = format!("accepted answer {} on question {}", accept.answer, accept.question);
        if self_accept {
            state.lost_gaming += accepting_points;
            rec[8] = accepting_points;
            if accepting_points > 0 {
                ctx.withheld(asker, Kind::Accepting, format!("{what}: self-accept, not counted"));
            }
        } else {
            let given = if exempt {
                accepting_points
            } else {
                take_capped(state, day, Cap::Given, given_cap, accepting_points)
            };
            state.lost_caps += accepting_points - given;
            rec[6] = given;
            rec[7] = accepting_points - given;
            if given > 0 {
                ctx.award(asker, Kind::Accepting, given, day, Kind::Accepting.key(), what);
            } else if accepting_points > 0 {
                let reason = format!("{what}: withheld by daily cap ({given_cap} reached)");
                ctx.withheld(asker, Kind::Accepting, reason);
            }
        }
    }
    ctx.kv.set(&key, &codec::encode(&rec));
}

/// An acceptance was withdrawn: take back exactly what the accept gave to each party.
pub fn answer_unaccepted(ctx: &mut Ctx<'_>, accept: &Accept) {
    let key = accept_key(accept.answer);
    let Some(bytes) = ctx.kv.get(&key) else {
        return;
    };
    ctx.kv.delete(&key);
    let rec = codec::decode::<11>(Some(&bytes));
    // Whether the accept counted against the caps is what it was then, not what the settings say now.
    let (flags, day, exempt) = (rec[0], rec[9], rec[0] & CAPPED == 0);
    let reason = format!("answer {} unaccepted on question {}", accept.answer, rec[10]);
    if flags & ANSWERER != 0 {
        let answerer = rec[1] as MemberId;
        let state = ctx.member(answerer);
        if flags & ANSWER_COUNTED != 0 {
            state.accepted_answers -= 1;
        }
        if !exempt {
            release_capped(state, day, Cap::Received, rec[2]);
        }
        state.lost_caps -= rec[3];
        state.lost_gaming -= rec[4];
        if flags & ANSWER_COUNTED != 0 {
            let mut answers = state::load_ids(ctx.kv, &accepted_key(answerer));
            answers.retain(|&a| a != accept.answer);
            state::store_ids(ctx.kv, &accepted_key(answerer), &answers);
        }
        ctx.award(answerer, Kind::AnswerAccepted, -rec[2], day, "refund", reason.clone());
    }
    if flags & ASKER != 0 {
        let asker = rec[5] as MemberId;
        let state = ctx.member(asker);
        if !exempt {
            release_capped(state, day, Cap::Given, rec[6]);
        }
        state.lost_caps -= rec[7];
        state.lost_gaming -= rec[8];
        ctx.award(asker, Kind::Accepting, -rec[6], day, "refund", reason);
    }
}

/// The most recent answers a member has had accepted (that count), oldest first, at most [`RECENT_ACCEPTED`].
pub fn accepted_answers(kv: &mut dyn Kv, member: MemberId) -> Vec<u64> {
    state::load_ids(kv, &accepted_key(member))
}
