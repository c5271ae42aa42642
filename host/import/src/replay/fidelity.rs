//! How close the forum model comes to real Stack Exchange reputation (`Reputation` in `Users.xml`), and how much
//! of the difference each ingredient the model leaves out explains.
//!
//! Starting from the model's points, the ingredients are added one at a time, each estimated from the dump:
//! downvotes (−2 to the owner of a downvoted question or answer; the voter's −1 on answers is invisible, voters
//! are hidden), bounties (+amount to the owner of the post a `BountyClose` is on, −amount to the user who started
//! it), the association bonus (+100 for users whose remaining difference is at least 100: the bonus for having
//! 200 reputation on another site is not in the dump, so the reputation suggests it), and the start at 1 with the
//! floor of 1. After each step: the share of users within ±1 / ±5 / ±10 % of their reputation and the total
//! absolute difference; and for each ingredient the part of the model's difference it explains when all the others
//! are in (leave one out). What remains is the residual (the
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
    /// The part of the forum model's total difference this ingredient removes when all the others are in
    /// (leave one out; negative: it adds to it).
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
const ASSOCIATION_BONUS: i128 = 100;

/// The ingredients, in the order the table adds them.
const INGREDIENTS: [&str; 4] = ["+ downvotes", "+ bounties", "+ association bonus", "+ start at 1, floor of 1"];

/// One user's predicted reputation with the ingredients switched on in `with`. In `i128`: a dump's numbers are any
/// `i64` (a `Reputation` of −2⁶³ is still a number), and their sums and differences must not overflow.
fn predict(reputation: i64, points: i64, downvotes: i64, bounties: i64, with: [bool; 4]) -> i128 {
    let rep = i128::from(reputation);
    let mut p = i128::from(points);
    if with[0] {
        p += i128::from(downvotes);
    }
    if with[1] {
        p += i128::from(bounties);
    }
    // Suggested by the reputation: at least the bonus is left unexplained (counting the start at 1).
    if with[2] && rep - (p + 1).max(1) >= ASSOCIATION_BONUS {
        p += ASSOCIATION_BONUS;
    }
    if with[3] { (p + 1).max(1) } else { p }
}

/// The fidelity table summed up one user at a time, so the users need not be in memory (the replay streams them from
/// its scratch table). The order of the users does not matter: every figure is a sum or a count.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    users: usize,
    /// Per row (the ingredients of the first `row` switched on): users within ±1 / ±5 / ±10 %.
    within: [[u64; 3]; INGREDIENTS.len() + 1],
    /// Per row: Σ |reputation − prediction|.
    abs: [i128; INGREDIENTS.len() + 1],
    /// Per ingredient: Σ |reputation − prediction| with all the others in and it left out.
    without: [i128; INGREDIENTS.len()],
}

impl Tally {
    /// Count one user (a positive Stack Exchange id: the caller leaves out the others) with their real reputation,
    /// the model's points, downvote penalties and bounties.
    pub fn add(&mut self, reputation: i64, points: i64, downvotes: i64, bounties: i64) {
        self.users += 1;
        let rep = i128::from(reputation);
        let difference = |with: [bool; 4]| (rep - predict(reputation, points, downvotes, bounties, with)).abs();
        for count in 0..=INGREDIENTS.len() {
            let d = difference(std::array::from_fn(|i| i < count));
            self.abs[count] += d;
            for (hits, percent) in self.within[count].iter_mut().zip([1, 5, 10]) {
                *hits += u64::from(d * 100 <= percent * rep.abs().max(1));
            }
        }
        for (left_out, sum) in self.without.iter_mut().enumerate() {
            *sum += difference(std::array::from_fn(|i| i != left_out));
        }
    }

    /// The table: rows add the ingredients one by one; each row's `explained` is what that ingredient removes from
    /// the difference when all the others are already in (leave one out), so the order of the rows does not decide
    /// who gets the credit.
    pub fn finish(&self) -> Fidelity {
        let n = self.users.max(1) as f64;
        let (model, all) = (self.abs[0], self.abs[INGREDIENTS.len()]);
        let base = model.max(1) as f64;
        let steps = (0..=INGREDIENTS.len())
            .map(|count| FidelityStep {
                ingredient: if count == 0 { "forum model" } else { INGREDIENTS[count - 1] },
                within_1: self.within[count][0] as f64 / n,
                within_5: self.within[count][1] as f64 / n,
                within_10: self.within[count][2] as f64 / n,
                // Beyond i64 only for a dump with absurd numbers: the table shows the largest it can.
                abs_difference: i64::try_from(self.abs[count]).unwrap_or(i64::MAX),
                explained: match count {
                    0 => 0.0,
                    k => (self.without[k - 1] - all) as f64 / base,
                },
            })
            .collect();
        Fidelity { users: self.users, steps, residual: all as f64 / base }
    }
}

/// Compute the table from maps (see [`Tally::finish`]); every user of `reputation` with a positive id is compared.
pub fn fidelity(inputs: &Inputs<'_>) -> Fidelity {
    let get = |map: &HashMap<i64, i64>, id: i64| map.get(&id).copied().unwrap_or(0);
    let mut tally = Tally::default();
    for (id, rep) in inputs.reputation.iter().filter(|(id, _)| **id > 0) {
        tally.add(*rep, get(inputs.points, *id), get(inputs.downvotes, *id), get(inputs.bounties, *id));
    }
    tally.finish()
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
        assert!(table.steps[1..].iter().all(|s| s.explained > 0.0), "each ingredient is needed: {table:?}");
    }

    #[test]
    fn numbers_at_the_ends_of_i64_give_a_table_not_an_overflow() {
        // Any i64 a dump holds is read: a Reputation of −2⁶³, bounties summed to 2⁶³ − 1 (the fuzz regressions
        // `reputation-of-i64-min-…` and `two-bounties-of-i64-max-…` panicked here in a debug build).
        let reputation = HashMap::from([(1, i64::MIN), (2, i64::MAX), (3, i64::MIN)]);
        let points = HashMap::from([(2, i64::MIN)]);
        let downvotes = HashMap::from([(3, i64::MIN)]);
        let bounties = HashMap::from([(1, i64::MAX), (2, i64::MAX)]);
        let table =
            fidelity(&Inputs { reputation: &reputation, points: &points, downvotes: &downvotes, bounties: &bounties });
        assert_eq!(table.users, 3);
        assert_eq!(table.steps[0].abs_difference, i64::MAX, "a sum beyond i64 shows as the largest");
        assert!(table.steps.iter().all(|s| s.explained.is_finite()), "{table:?}");
    }

    // The table as it was computed before the users were streamed (every user in a map, the predictions in vectors),
    // kept to check that the streamed tally gives the very same table.
    fn reference_predict(inputs: &Inputs<'_>, users: &[(i64, i64)], with: [bool; 4]) -> Vec<i128> {
        let get = |map: &HashMap<i64, i64>, id: i64| i128::from(map.get(&id).copied().unwrap_or(0));
        users
            .iter()
            .map(|(id, rep)| {
                let rep = i128::from(*rep);
                let mut p = get(inputs.points, *id);
                if with[0] {
                    p += get(inputs.downvotes, *id);
                }
                if with[1] {
                    p += get(inputs.bounties, *id);
                }
                // Suggested by the reputation: at least the bonus is left unexplained (counting the start at 1).
                if with[2] && rep - (p + 1).max(1) >= ASSOCIATION_BONUS {
                    p += ASSOCIATION_BONUS;
                }
                if with[3] { (p + 1).max(1) } else { p }
            })
            .collect()
    }

    fn abs_difference(users: &[(i64, i64)], predicted: &[i128]) -> i128 {
        users.iter().zip(predicted).map(|((_, rep), p)| (i128::from(*rep) - p).abs()).sum()
    }

    /// Compute the table: rows add the ingredients one by one; each row's `explained` is what that ingredient removes
    /// from the difference when all the others are already in (leave one out), so the order of the rows does not
    /// decide who gets the credit.
    fn reference(inputs: &Inputs<'_>) -> Fidelity {
        let mut users: Vec<(i64, i64)> =
            inputs.reputation.iter().filter(|(id, _)| **id > 0).map(|(i, r)| (*i, *r)).collect();
        users.sort_unstable();
        let n = users.len().max(1) as f64;
        let model = abs_difference(&users, &reference_predict(inputs, &users, [false; 4]));
        let all = abs_difference(&users, &reference_predict(inputs, &users, [true; 4]));
        let base = model.max(1) as f64;
        let mut steps = Vec::new();
        for count in 0..=INGREDIENTS.len() {
            let with = std::array::from_fn(|i| i < count);
            let predicted = reference_predict(inputs, &users, with);
            let within = |percent: i128| {
                let hits = users
                    .iter()
                    .zip(&predicted)
                    .map(|((_, rep), p)| (i128::from(*rep), *p))
                    .filter(|(rep, p)| (rep - p).abs() * 100 <= percent * rep.abs().max(1))
                    .count();
                hits as f64 / n
            };
            let explained = match count {
                0 => 0.0,
                k => {
                    let without = std::array::from_fn(|i| i != k - 1);
                    (abs_difference(&users, &reference_predict(inputs, &users, without)) - all) as f64 / base
                }
            };
            steps.push(FidelityStep {
                ingredient: if count == 0 { "forum model" } else { INGREDIENTS[count - 1] },
                within_1: within(1),
                within_5: within(5),
                within_10: within(10),
                // Beyond i64 only for a dump with absurd numbers: the table shows the largest it can.
                abs_difference: i64::try_from(abs_difference(&users, &predicted)).unwrap_or(i64::MAX),
                explained,
            });
        }
        Fidelity { users: users.len(), steps, residual: all as f64 / base }
    }

    #[test]
    fn the_streamed_tally_gives_the_table_the_maps_gave_to_the_last_bit() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let extremes = [i64::MIN, i64::MAX, 0, 1, -1, 100, 101, 199];
        let (mut reputation, mut points, mut downvotes, mut bounties) =
            (HashMap::new(), HashMap::new(), HashMap::new(), HashMap::new());
        for id in -3..2_000i64 {
            let mut value = |scale: u64| match next() % 20 {
                0 => extremes[(next() % 8) as usize],
                _ => (next() % scale) as i64 - (scale / 4) as i64,
            };
            reputation.insert(id, value(5_000));
            if id % 3 != 0 {
                points.insert(id, value(3_000));
            }
            if id % 5 == 0 {
                downvotes.insert(id, value(40).checked_abs().map_or(i64::MIN, |v| -v));
            }
            if id % 7 == 0 {
                bounties.insert(id, value(500));
            }
        }
        let inputs = Inputs { reputation: &reputation, points: &points, downvotes: &downvotes, bounties: &bounties };
        let (streamed, maps) = (fidelity(&inputs), reference(&inputs));
        assert_eq!(format!("{streamed:?}"), format!("{maps:?}"));
        assert_eq!(streamed.users, 1_999);
    }
}
