//! The projections of a recompute held in memory: what the program's effects and the moderators' actions make of
//! the log (points, ledger lines, badges, tier access, pending nominations) and the program's own store, without a
//! database.
//!
//! Preview and apply replay the whole log through the program and compare the result with the live tables; the
//! result is thrown away (preview) or written only where it differs (apply), so it need not be durable. The rules
//! are not copied here: the projections implement the row operations of [`crate::program::rows::ProgramRows`] (with
//! SQL's semantics: `INSERT OR IGNORE` keeps the first grant, a revoke deletes, one pending nomination per member and
//! tier) and the live pipeline's own [`apply_to`] and [`moderator_action_to`] choose them, so a preview is the same
//! whether it replays into memory or into SQLite. This module does not read the log,
//! call the program or compare with the live state (`recompute` does); notices and audit rows, which no preview
//! shows, are not kept.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use std::convert::Infallible;

use crate::program::apply::{Origin, apply_to};
use crate::program::moderation::moderator_action_to;
use crate::program::rows::{AccessSource, ProgramRows, level_name};
use cadre_model::{Badge, Declaration, Effect, ModeratorAction};
use cadre_runtime::store::{BackendError, KvBackend};

/// The program's store during a recompute: a map shared between the program (through [`MemoryStore::backend`])
/// and the comparison that reads it afterwards.
#[derive(Debug, Default, Clone)]
pub(crate) struct MemoryStore(Rc<RefCell<StoreMap>>);

#[derive(Debug, Default)]
struct StoreMap {
    entries: HashMap<String, Vec<u8>>,
    /// Keys plus values, as the live `kv_size` row counts them.
    bytes: u64,
}

impl MemoryStore {
    /// A backend for the program over this store.
    pub(crate) fn backend(&self) -> Box<dyn KvBackend> {
        Box::new(self.clone())
    }

    /// Call `f` with every key and value in key order (the order of the live table's `ORDER BY key`: both compare
    /// bytes), borrowed: the store is not copied.
    pub(crate) fn with_sorted<R>(&self, f: impl FnOnce(&[(&str, &[u8])]) -> R) -> R {
        let map = self.0.borrow();
        let mut all: Vec<(&str, &[u8])> = map.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        f(&all)
    }

    /// Bytes held (keys plus values).
    pub(crate) fn bytes(&self) -> u64 {
        self.0.borrow().bytes
    }
}

impl KvBackend for MemoryStore {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        Ok(self.0.borrow().entries.get(key).cloned())
    }

    fn total_bytes(&self) -> u64 {
        self.0.borrow().bytes
    }

    fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), BackendError> {
        let mut map = self.0.borrow_mut();
        for (key, value) in writes {
            let added = value.as_ref().map_or(0, |v| (key.len() + v.len()) as u64);
            let removed = match value {
                Some(value) => map.entries.insert(key.clone(), value),
                None => map.entries.remove(&key),
            }
            .map_or(0, |old| (key.len() + old.len()) as u64);
            map.bytes = map.bytes + added - removed;
        }
        Ok(())
    }
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerLine {
    pub(crate) delta: i64,
    pub(crate) event_id: i64,
    pub(crate) rule: String,
    pub(crate) reason: String,
    pub(crate) at: i64,
}

/// A badge row.
#[derive(Debug, Clone)]
pub(crate) struct BadgeRow {
    pub(crate) name: String,
    pub(crate) level: &'static str,
    pub(crate) description: String,
    pub(crate) granted_at: i64,
}

/// A pending nomination.
#[derive(Debug, Clone)]
pub(crate) struct Nomination {
    pub(crate) evidence: String,
    pub(crate) created_at: i64,
}

/// (member, badge or tier).
type Key = (u64, String);

/// The forum's program-made tables, in memory.
#[derive(Debug, Default)]
pub(crate) struct MemoryProjections {
    /// Keep every ledger line (apply writes those of members whose points moved); a preview only counts them.
    keep_ledger: bool,
    /// Ledger lines per member, in the order they were written.
    pub(crate) ledger: HashMap<u64, Vec<LedgerLine>>,
    /// Ledger lines written (0-point lines included).
    pub(crate) ledger_lines: u64,
    /// Running totals (members whose lines all had 0 points have none, as in the `points` table).
    pub(crate) totals: HashMap<u64, i64>,
    pub(crate) badges: BTreeMap<Key, BadgeRow>,
    /// Tier access of any source (earned, approved, invited), as the live `access` table holds it.
    pub(crate) access: BTreeMap<Key, ()>,
    pub(crate) pending: BTreeMap<Key, Nomination>,
}

impl MemoryProjections {
    /// Empty projections; `keep_ledger` keeps the ledger's lines, not only their count.
    pub(crate) fn new(keep_ledger: bool) -> MemoryProjections {
        MemoryProjections { keep_ledger, ..MemoryProjections::default() }
    }

    /// Apply a call's validated effects, by the same rules as the live pipeline ([`apply_to`]).
    pub(crate) fn apply(&mut self, event_id: i64, at: i64, declaration: &Declaration, effects: &[Effect]) {
        let origin = Origin { event_id, at, actor: "" };
        let Ok(()) = apply_to(self, &origin, declaration, effects);
    }

    /// Re-apply a moderator's action, by the same rules as the live action ([`moderator_action_to`]).
    pub(crate) fn moderator_action(&mut self, action: &ModeratorAction) {
        let Ok(_) = moderator_action_to(self, action);
    }

    /// Totals that are not zero (what `SELECT … FROM points WHERE total <> 0` reads live).
    pub(crate) fn nonzero_totals(&self) -> BTreeMap<u64, i64> {
        self.totals.iter().filter(|(_, total)| **total != 0).map(|(m, t)| (*m, *t)).collect()
    }
}

/// The row operations in memory, with SQL's semantics (`INSERT OR IGNORE` keeps the first row; the pending
/// nominations are the rows of the unique index on pending ones). Notices and audit rows are not kept: no preview
/// shows them, and apply writes its own audit.
impl ProgramRows for MemoryProjections {
    type Error = Infallible;

    fn ledger_line(
        &mut self,
        member: u64,
        delta: i64,
        event_id: i64,
        rule: &str,
        reason: &str,
        at: i64,
    ) -> Result<(), Infallible> {
        self.ledger_lines += 1;
        if self.keep_ledger {
            let line = LedgerLine { delta, event_id, rule: rule.to_owned(), reason: reason.to_owned(), at };
            self.ledger.entry(member).or_default().push(line);
        }
        Ok(())
    }

    fn add_to_total(&mut self, member: u64, delta: i64) -> Result<(), Infallible> {
        *self.totals.entry(member).or_insert(0) += delta;
        Ok(())
    }

    fn insert_badge(&mut self, member: u64, badge: &Badge, at: i64) -> Result<bool, Infallible> {
        let mut inserted = false;
        self.badges.entry((member, badge.id.clone())).or_insert_with(|| {
            inserted = true;
            BadgeRow {
                name: badge.name.clone(),
                level: level_name(badge.level),
                description: badge.description.clone(),
                granted_at: at,
            }
        });
        Ok(inserted)
    }

    fn delete_badge(&mut self, member: u64, badge: &str) -> Result<bool, Infallible> {
        Ok(self.badges.remove(&(member, badge.to_owned())).is_some())
    }

    fn insert_access(&mut self, member: u64, tier: &str, _: AccessSource, _: i64, _: &str) -> Result<bool, Infallible> {
        let key = (member, tier.to_owned());
        if self.access.contains_key(&key) {
            return Ok(false);
        }
        self.access.insert(key, ());
        Ok(true)
    }

    fn replace_access(&mut self, member: u64, tier: &str, _: AccessSource, _: i64, _: &str) -> Result<(), Infallible> {
        self.access.insert((member, tier.to_owned()), ());
        Ok(())
    }

    fn delete_access(&mut self, member: u64, tier: &str) -> Result<bool, Infallible> {
        Ok(self.access.remove(&(member, tier.to_owned())).is_some())
    }

    fn insert_pending(
        &mut self,
        member: u64,
        tier: &str,
        evidence_json: &str,
        at: i64,
        _: i64,
    ) -> Result<bool, Infallible> {
        let key = (member, tier.to_owned());
        if self.pending.contains_key(&key) {
            return Ok(false);
        }
        self.pending.insert(key, Nomination { evidence: evidence_json.to_owned(), created_at: at });
        Ok(true)
    }

    fn decide_pending(
        &mut self,
        member: u64,
        tier: &str,
        _: bool,
        _: i64,
        _: u64,
        _: &str,
    ) -> Result<bool, Infallible> {
        Ok(self.pending.remove(&(member, tier.to_owned())).is_some())
    }

    fn notice(&mut self, _: Option<u64>, _: &str, _: &str, _: i64, _: i64) -> Result<(), Infallible> {
        Ok(())
    }

    fn audit(
        &mut self,
        _: i64,
        _: &str,
        _: &str,
        _: Option<u64>,
        _: &str,
        _: &str,
        _: Option<i64>,
    ) -> Result<(), Infallible> {
        Ok(())
    }
}
