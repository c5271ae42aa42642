//! The users' real reputation (`Reputation` in `Users.xml`), kept for the fidelity report in a table of a
//! [`Scratch`] database instead of a map: a site the size of Stack Overflow has 20 million users, and the replay reads
//! their reputation once, at the end. A user id read twice keeps its last row's reputation (as a map would).
//!
//! Owns the table; the fidelity arithmetic is [`super::fidelity`]'s.

use std::collections::HashMap;

use rusqlite::params;

use super::fidelity::{Fidelity, Tally};
use super::scratch::Scratch;

/// Page cache of the table, in KiB: it is written in file order and read once in id order, so a little suffices.
const CACHE_KIB: u32 = 2 * 1024;

/// Every user's reputation by Stack Exchange id.
#[derive(Debug)]
pub struct Reputations {
    scratch: Scratch,
}

impl Reputations {
    /// An empty table.
    pub fn new() -> rusqlite::Result<Reputations> {
        let scratch =
            Scratch::open(CACHE_KIB, "CREATE TABLE users (id INTEGER PRIMARY KEY, reputation INTEGER NOT NULL)")?;
        Ok(Reputations { scratch })
    }

    /// Record a user's reputation (replacing what an earlier row with the same id said).
    pub fn insert(&mut self, user: i64, reputation: i64) -> rusqlite::Result<()> {
        self.scratch
            .conn()
            .prepare_cached("INSERT OR REPLACE INTO users (id, reputation) VALUES (?1, ?2)")?
            .execute(params![user, reputation])?;
        Ok(())
    }

    /// Users (distinct ids).
    pub fn users(&self) -> rusqlite::Result<u64> {
        self.scratch.conn().query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0).map(|n| n as u64))
    }

    /// The fidelity table over every user with a positive id: their reputation against the model's `points`, with
    /// the `downvotes` and `bounties` of [`super::dump::Votes`].
    pub fn fidelity(
        &self,
        points: &HashMap<i64, i64>,
        downvotes: &HashMap<i64, i64>,
        bounties: &HashMap<i64, i64>,
    ) -> rusqlite::Result<Fidelity> {
        let get = |map: &HashMap<i64, i64>, id: i64| map.get(&id).copied().unwrap_or(0);
        let mut tally = Tally::default();
        let mut statement = self.scratch.conn().prepare("SELECT id, reputation FROM users WHERE id > 0")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (id, reputation): (i64, i64) = (row.get(0)?, row.get(1)?);
            tally.add(reputation, get(points, id), get(downvotes, id), get(bounties, id));
        }
        Ok(tally.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::fidelity::{Inputs, fidelity};

    #[test]
    fn the_table_gives_the_fidelity_and_the_count_a_map_of_the_same_rows_gives() {
        // A repeated id keeps its last reputation; ids ≤ 0 (Community) are counted as users but not compared.
        let rows = [(1, 149), (2, 1), (3, 61), (-1, 1), (2, 7), (0, 5), (4, i64::MIN)];
        let mut table = Reputations::new().unwrap();
        let mut map = HashMap::new();
        for (user, reputation) in rows {
            table.insert(user, reputation).unwrap();
            map.insert(user, reputation);
        }
        let points = HashMap::from([(1, 50), (3, 10), (2, 3)]);
        let downvotes = HashMap::from([(1, -2)]);
        let bounties = HashMap::from([(3, 50), (4, i64::MAX)]);
        assert_eq!(table.users().unwrap(), map.len() as u64);
        let from_table = table.fidelity(&points, &downvotes, &bounties).unwrap();
        let from_map =
            fidelity(&Inputs { reputation: &map, points: &points, downvotes: &downvotes, bounties: &bounties });
        assert_eq!(format!("{from_table:?}"), format!("{from_map:?}"));
        assert_eq!(from_table.users, 4);
    }
}
