//! How close the forum model comes to real Stack Exchange reputation (`Reputation` in `Users.xml`), and how much
//! of the difference each ingredient the model leaves out explains.
//!
//! Starting from the model's points, the ingredients are added one at a time, each estimated from the dump:
//! downvotes (−2 to the owner of a downvoted question or answer; the voter's −1 on answers is invisible, voters
//! are hidden), bounties (+amount to the owner of the post a `BountyClose` is on, −amount to the user who started
//! it), the association bonus (+100 for users whose remaining difference is at least 100: the bonus for having
//! 200 reputation on another site is not in the dump, so the reputation suggests it), and the start at 1 with the
//! floor of 1. After each step: the share of users within ±1 / ±5 / ±10 % of their reputation, the total absolute
//! difference, and the part of the model's difference the step explained. What remains is the residual (the
//! order of events against the floor, deleted posts' points, reversals by Stack Exchange's scripts, edits, …).

use std::collections::HashMap;

use serde::Serialize;

/// One row of the fidelity table.
#[derive(Debug, Clone, Serialize)]
pub struct FidelityStep {
    /// What this row adds (`forum model`, `+ downvotes`, …).
    pub ingredient: &'static str,
    /// Share of users within ±1 % of their reputation.
    pub within_1: f64,
    /// Within ±5 %.
    pub within_5: f64,
    /// Within ±10 %.
    pub within_10: f64,
    /// Σ |reputation − prediction| over the users.
    pub abs_difference: i64,
    /// The part of the forum model's total difference this step removed (negative: it added).
    pub explained: f64,
}

/// The fidelity table.
#[derive(Debug, Clone, Serialize)]
pub struct Fidelity {
    /// Users compared (every user of Users.xml with a positive id).
    pub users: usize,
    /// One row per ingredient, cumulative.
    pub steps: Vec<FidelityStep>,
    /// The share of the model's difference that no ingredient explains.
    pub residual: f64,
}

/// What fidelity is computed from, per Stack Exchange user id.
pub struct Inputs<'a> {
    /// Real reputation.
    pub reputation: &'a HashMap<i64, i64>,
    /// The model's points.
    pub points: &'a HashMap<i64, i64>,
    /// Downvote penalties (negative).
    pub downvotes: &'a HashMap<i64, i64>,
    /// Bounties won minus offered.
    pub bounties: &'a HashMap<i64, i64>,
}

/// The association bonus: +100 on every site for users with 200 reputation elsewhere.
const ASSOCIATION_BONUS: i64 = 100;

/// Compute the table.
pub fn fidelity(inputs: &Inputs<'_>) -> Fidelity {
    let mut users: Vec<(i64, i64)> =
        inputs.reputation.iter().filter(|(id, _)| **id > 0).map(|(i, r)| (*i, *r)).collect();
    users.sort_unstable();
    let get = |map: &HashMap<i64, i64>, id: i64| map.get(&id).copied().unwrap_or(0);
    let mut predicted: Vec<i64> = users.iter().map(|(id, _)| get(inputs.points, *id)).collect();
    let mut steps = Vec::new();
    let record = |ingredient: &'static str, predicted: &[i64], steps: &mut Vec<FidelityStep>| {
        let n = users.len().max(1) as f64;
        let within = |percent: i64| {
            let hits = users
                .iter()
                .zip(predicted)
                .filter(|((_, rep), p)| (rep - *p).abs() * 100 <= percent * rep.abs().max(1))
                .count();
            hits as f64 / n
        };
        let abs_difference: i64 = users.iter().zip(predicted).map(|((_, rep), p)| (rep - p).abs()).sum();
        let base = steps.first().map_or(abs_difference, |s: &FidelityStep| s.abs_difference).max(1);
        let previous = steps.last().map_or(abs_difference, |s| s.abs_difference);
        steps.push(FidelityStep {
            ingredient,
            within_1: within(1),
            within_5: within(5),
            within_10: within(10),
            abs_difference,
            explained: (previous - abs_difference) as f64 / base as f64,
        });
    };
    record("forum model", &predicted, &mut steps);
    for (p, (id, _)) in predicted.iter_mut().zip(&users) {
        *p += get(inputs.downvotes, *id);
    }
    record("+ downvotes", &predicted, &mut steps);
    for (p, (id, _)) in predicted.iter_mut().zip(&users) {
        *p += get(inputs.bounties, *id);
    }
    record("+ bounties", &predicted, &mut steps);
    for (p, (_, rep)) in predicted.iter_mut().zip(&users) {
        // Suggested by the reputation: at least the bonus is unexplained once the start at 1 is counted.
        if rep - (*p + 1).max(1) >= ASSOCIATION_BONUS {
            *p += ASSOCIATION_BONUS;
        }
    }
    record("+ association bonus", &predicted, &mut steps);
    for p in predicted.iter_mut() {
        *p = (*p + 1).max(1);
    }
    record("+ start at 1, floor of 1", &predicted, &mut steps);
    let base = steps[0].abs_difference.max(1) as f64;
    let residual = steps.last().map_or(0, |s| s.abs_difference) as f64 / base;
    Fidelity { users: users.len(), steps, residual }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ingredient_explains_its_own_part_of_the_difference() {
        // User 1: model 50, downvoted once (−2), real 149 = 1 + 50 − 2 + 100 (association bonus).
        // User 2: never active, real 1 (the start). User 3: won a 50 bounty, real 61 = 1 + 10 + 50.
        let reputation = HashMap::from([(1, 149), (2, 1), (3, 61), (-1, 1)]);
        let points = HashMap::from([(1, 50), (3, 10)]);
        let downvotes = HashMap::from([(1, -2)]);
        let bounties = HashMap::from([(3, 50)]);
        let table =
            fidelity(&Inputs { reputation: &reputation, points: &points, downvotes: &downvotes, bounties: &bounties });
        assert_eq!(table.users, 3, "the Community user (-1) is not compared");
        let diffs: Vec<i64> = table.steps.iter().map(|s| s.abs_difference).collect();
        assert_eq!(diffs, [99 + 1 + 51, 101 + 1 + 51, 101 + 1 + 1, 1 + 1 + 1, 0]);
        assert_eq!(table.residual, 0.0);
        let last = table.steps.last().unwrap();
        assert_eq!((last.within_1, last.within_10), (1.0, 1.0));
        assert!(table.steps[1].explained < 0.0, "downvotes move the model away from a reputation it undershoots");
    }
}
