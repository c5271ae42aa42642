//! Preview and apply a settings change by recomputing history.
//!
//! The event log is the source of truth: everything the program decided is a function of it. To preview new
//! settings, the whole log is replayed through the same program with those settings into **memory** (`memory`: the
//! program's store and the projections its effects make, with no database written; moderator actions re-apply
//! their part first, as they did live), and the recomputed projections are compared with the live ones: who gains or loses which badge and tier access, whose points move and by how much.
//! Nothing live changes. **Apply** recomputes the same way and then writes only what differs: badges and access
//! rows that changed (each audited as a recompute, so members who already had a badge get no second notice), the
//! ledger and points of members whose ledger changed, and the program's state, so future events continue from the
//! recomputed state. The settings change itself is audited.
//!
//! Other connections may keep recording events while history is recomputed (`cadre ingest`, or `cadre serve`
//! taking likes, during `cadre program apply`). The replay runs up to a mark (the last event logged when it
//! began, read from one snapshot of the log); the write step then takes the database's write lock, replays
//! whatever was logged after the mark into the recomputed projections too, and only then compares and writes, all in
//! that one transaction. So the projections it writes cover exactly the log as it stands when they replace the
//! live ones, and no event recorded during the recompute is lost.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, params};
use serde::Serialize;

use super::Forum;
use super::memory::{MemoryProjections, MemoryStore};
use super::{LoggedEvent, parse_event};
use crate::error::ForumError;
use cadre_runtime::{Event, Plugin};

/// A member whose points change.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PointsChange {
    /// The member.
    pub member_id: u64,
    /// Their name.
    pub name: String,
    /// Points now.
    pub before: i64,
    /// Points under the new settings.
    pub after: i64,
}

/// A badge or tier access gained or lost.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// The member.
    pub member_id: u64,
    /// Their name.
    pub name: String,
    /// The badge or tier id.
    pub what: String,
}

/// What a settings change would do to the forum.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct Preview {
    /// Events replayed.
    pub events: usize,
    /// Events the program failed on under the new settings (they would be dead letters).
    pub failures: usize,
    /// Members whose points change, most changed first.
    pub points: Vec<PointsChange>,
    /// Badges members would gain.
    pub badges_gained: Vec<Grant>,
    /// Badges members would lose.
    pub badges_lost: Vec<Grant>,
    /// Tier access members would gain (earned from the program).
    pub access_gained: Vec<Grant>,
    /// Tier access members would lose.
    pub access_lost: Vec<Grant>,
    /// New nominations that would enter the review queue.
    pub nominations_added: Vec<Grant>,
    /// Keys of the program's own store that would differ (what member records show: a member's post count, …),
    /// even where no points, badge or access would.
    pub state_keys_changed: usize,
}

impl Preview {
    /// True when the settings change nothing that members or moderators would see.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
            && self.badges_gained.is_empty()
            && self.badges_lost.is_empty()
            && self.access_gained.is_empty()
            && self.access_lost.is_empty()
            && self.nominations_added.is_empty()
    }
}

/// A recomputed history, ready to compare or apply.
struct Recomputed {
    /// What the program made of the log under the new settings (never written to a database until applied).
    projections: MemoryProjections,
    /// The program's store under the new settings.
    store: MemoryStore,
    /// The installed program with the new settings, over the in-memory store.
    plugin: Plugin,
    /// The mark: every event of the log up to this id is in the recomputed projections, none after it.
    through: i64,
    events: usize,
    failures: usize,
}

/// The log after a mark, in order, with whether the live program was delivered each event. Only the events the
/// live program was delivered go through the program: an event waiting as a dead letter or in a quarantine's queue
/// is delivered later, once, by the retry, so the recompute must not count it now too. (A moderator action's own
/// part applies either way, as it did live.)
const LOG_AFTER: &str = "SELECT e.id, e.at, e.payload, \
        e.id <= COALESCE((SELECT processed_up_to FROM program), 0) \
        AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.event_id = e.id) \
     FROM events e WHERE e.id > ?1 ORDER BY e.id";

/// One event of the log as the recompute reads it.
struct Read {
    logged: LoggedEvent,
    /// The live program was delivered it.
    delivered: bool,
}

fn read_row(row: &rusqlite::Row<'_>) -> Result<Read, ForumError> {
    let (id, at, delivered): (i64, i64, bool) = (row.get(0)?, row.get(1)?, row.get(3)?);
    let payload = row.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
    Ok(Read { logged: parse_event(id, at, payload)?, delivered })
}

/// Events the reader thread hands over at a time (enough to make the channel's cost negligible, few enough that
/// the two threads overlap from the start).
const CHUNK: usize = 1_024;

impl Recomputed {
    /// Replay the events `live` logged after the mark into the in-memory projections, and move the mark.
    ///
    /// The events are read by one statement, so they come from one consistent snapshot of the log even while
    /// other connections keep appending to it. Called inside the write transaction of [`Forum::apply`] for
    /// whatever was logged while the history was recomputed, so that nothing recorded meanwhile is lost.
    fn catch_up(&mut self, live: &Connection) -> Result<(), ForumError> {
        let mut events = live.prepare(LOG_AFTER)?;
        let mut rows = events.query(params![self.through])?;
        while let Some(row) = rows.next()? {
            let read = read_row(row)?;
            self.replay(read);
        }
        Ok(())
    }

    /// The same as [`Recomputed::catch_up`] over the whole history, on both cores: a second thread, with its own
    /// read connection to the database file, reads the log (one statement: one snapshot) and parses each payload
    /// while this one calls the program. Outside any transaction of `live` (writers keep going). A database with no
    /// file (in memory) is read on this thread.
    fn catch_up_in_parallel(&mut self, live: &Connection) -> Result<(), ForumError> {
        let Some(path) = live.path().filter(|path| !path.is_empty()).map(std::path::PathBuf::from) else {
            return self.catch_up(live);
        };
        let through = self.through;
        let (chunks, received) = std::sync::mpsc::sync_channel::<Result<Vec<Read>, ForumError>>(16);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let read = || -> Result<(), ForumError> {
                    let conn = Connection::open(&path)?;
                    conn.busy_timeout(std::time::Duration::from_secs(5))?;
                    let mut events = conn.prepare(LOG_AFTER)?;
                    let mut rows = events.query(params![through])?;
                    let mut chunk = Vec::with_capacity(CHUNK);
                    while let Some(row) = rows.next()? {
                        chunk.push(read_row(row)?);
                        if chunk.len() == CHUNK {
                            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                            if chunks.send(Ok(full)).is_err() {
                                // The replaying side stopped (it failed): nothing more to read.
                                return Ok(());
                            }
                        }
                    }
                    if !chunk.is_empty() {
                        let _ = chunks.send(Ok(chunk));
                    }
                    Ok(())
                };
                if let Err(error) = read() {
                    let _ = chunks.send(Err(error));
                }
            });
            for chunk in received {
                for read in chunk? {
                    self.replay(read);
                }
            }
            Ok(())
        })
    }

    /// Replay one event of the log into the projections and move the mark past it.
    fn replay(&mut self, read: Read) {
        let Read { logged, delivered } = read;
        if let Event::Moderator(action) = &logged.event {
            self.projections.moderator_action(action);
        }
        if delivered {
            match self.plugin.call(&logged.event) {
                Ok(effects) => self.projections.apply(logged.id, logged.at, self.plugin.declaration(), &effects),
                Err(_) => self.failures += 1,
            }
            self.events += 1;
        }
        self.through = logged.id;
    }
}

fn names(conn: &Connection) -> rusqlite::Result<BTreeMap<u64, String>> {
    conn.prepare("SELECT id, name FROM members")?
        .query_map([], |row| Ok((row.get::<_, i64>(0)? as u64, row.get(1)?)))?
        .collect()
}

/// (member, badge or tier) pairs.
type Pairs = BTreeSet<(u64, String)>;

fn pairs(conn: &Connection, sql: &str) -> rusqlite::Result<Pairs> {
    conn.prepare(sql)?.query_map([], |row| Ok((row.get::<_, i64>(0)? as u64, row.get(1)?)))?.collect()
}

fn totals(conn: &Connection) -> rusqlite::Result<BTreeMap<u64, i64>> {
    conn.prepare("SELECT member_id, total FROM points WHERE total <> 0")?
        .query_map([], |row| Ok((row.get::<_, i64>(0)? as u64, row.get(1)?)))?
        .collect()
}

/// How many keys of the program's store differ between the live table and the recomputed store (both in key
/// order, side by side).
fn store_differences(live: &Connection, recomputed: &[(&str, &[u8])]) -> rusqlite::Result<usize> {
    let mut a = live.prepare(KV)?;
    let key_value = |row: &rusqlite::Row| Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?));
    let mut a = a.query_map([], key_value)?.peekable();
    let mut b = recomputed.iter().peekable();
    let mut differ = 0;
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return Ok(differ),
            (Some(Err(_)), _) => return a.next().expect("peeked").map(|_| differ),
            (Some(Ok(x)), Some(y)) => x.0.as_str().cmp(y.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => drop(a.next()),
            std::cmp::Ordering::Greater => drop(b.next()),
            std::cmp::Ordering::Equal => {
                let (x, y) = (a.next().expect("peeked")?, b.next().expect("peeked"));
                if x.1 == y.1 {
                    continue;
                }
            }
        }
        differ += 1;
    }
}

const KV: &str = "SELECT key, value FROM kv ORDER BY key";
const BADGES: &str = "SELECT member_id, badge FROM badges";
const EARNED_ACCESS: &str = "SELECT member_id, tier FROM access";
const PENDING: &str = "SELECT member_id, tier FROM nominations WHERE status = 'pending'";

impl Forum {
    /// Replay the whole log through the installed program with `settings` into memory; `keep_ledger` keeps the
    /// ledger's lines (apply writes them), not only their count.
    fn recompute(&mut self, settings: &str, keep_ledger: bool) -> Result<Recomputed, ForumError> {
        let installed = self.program.as_ref().ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        let mut plugin = installed.plugin.fork();
        plugin.configure(settings)?.map_err(ForumError::Settings)?;
        let store = MemoryStore::default();
        plugin.set_backend(store.backend());
        let projections = MemoryProjections::new(keep_ledger);
        let mut recomputed = Recomputed { projections, store, plugin, through: 0, events: 0, failures: 0 };
        recomputed.catch_up_in_parallel(&self.conn)?;
        Ok(recomputed)
    }

    /// What `settings` would change if they had been in force from the start. Changes nothing; settings the
    /// program refuses are [`ForumError::Settings`].
    pub fn preview(&mut self, settings: &str) -> Result<Preview, ForumError> {
        let recomputed = self.recompute(settings, false)?;
        self.diff(&recomputed)
    }

    fn diff(&self, recomputed: &Recomputed) -> Result<Preview, ForumError> {
        let live = &*self.conn;
        let projections = &recomputed.projections;
        let names = names(live)?;
        let name = |member: u64| names.get(&member).cloned().unwrap_or_else(|| format!("#{member}"));
        let grants = |set: Pairs| -> Vec<Grant> {
            set.into_iter().map(|(member_id, what)| Grant { member_id, name: name(member_id), what }).collect()
        };
        let (before, after) = (totals(live)?, projections.nonzero_totals());
        let members: BTreeSet<u64> = before.keys().chain(after.keys()).copied().collect();
        let mut points: Vec<PointsChange> = members
            .into_iter()
            .map(|m| PointsChange {
                member_id: m,
                name: name(m),
                before: before.get(&m).copied().unwrap_or(0),
                after: after.get(&m).copied().unwrap_or(0),
            })
            .filter(|c| c.before != c.after)
            .collect();
        points.sort_by_key(|c| (std::cmp::Reverse((c.after - c.before).abs()), c.member_id));
        // (gained, lost) between the live and the recomputed projection.
        let diff = |sql: &str, new: Pairs| -> rusqlite::Result<(Pairs, Pairs)> {
            let old = pairs(live, sql)?;
            Ok((new.difference(&old).cloned().collect(), old.difference(&new).cloned().collect()))
        };
        let (badges_gained, badges_lost) = diff(BADGES, projections.badges.keys().cloned().collect())?;
        let (access_gained, access_lost) = diff(EARNED_ACCESS, projections.access.keys().cloned().collect())?;
        let (nominations_added, _) = diff(PENDING, projections.pending.keys().cloned().collect())?;
        let state_keys_changed = recomputed.store.with_sorted(|store| store_differences(live, store))?;
        Ok(Preview {
            events: recomputed.events,
            failures: recomputed.failures,
            points,
            badges_gained: grants(badges_gained),
            badges_lost: grants(badges_lost),
            access_gained: grants(access_gained),
            access_lost: grants(access_lost),
            nominations_added: grants(nominations_added),
            state_keys_changed,
        })
    }

    /// Adopt `settings` as if they had been in force from the start: recompute history and write only what
    /// differs. Returns what changed (the same as `preview` showed); settings the program refuses are
    /// [`ForumError::Settings`], and nothing changed.
    pub fn apply(&mut self, settings: &str, actor: &str, at: i64) -> Result<Preview, ForumError> {
        let mut recomputed = self.recompute(settings, true)?;
        // From here on no other connection writes until this transaction ends: the live projections and the log
        // stand still while they are compared with the recomputed ones and replaced.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let written = (|| -> Result<Preview, ForumError> {
            // Events logged (and delivered live) while the history was recomputed: replay them too, so that both
            // sides cover the same log and nothing recorded meanwhile is lost when the projections are replaced.
            recomputed.catch_up(&self.conn)?;
            let preview = self.diff(&recomputed)?;
            let projections = &recomputed.projections;
            let conn = &*self.conn;
            let reason = "recompute: new program settings applied to the whole history";
            let audit = |action: &str, grant: &Grant| {
                crate::program::audit(conn, at, actor, action, Some(grant.member_id), &grant.what, reason, None)
            };
            for grant in &preview.badges_gained {
                let badge = &projections.badges[&(grant.member_id, grant.what.clone())];
                let (name, level, description, granted_at) =
                    (&badge.name, badge.level, &badge.description, badge.granted_at);
                conn.execute(
                    "INSERT INTO badges (member_id, badge, name, level, description, granted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![grant.member_id as i64, grant.what, name, level, description, granted_at],
                )?;
                audit("grant-badge", grant)?;
            }
            for grant in &preview.badges_lost {
                conn.execute(
                    "DELETE FROM badges WHERE member_id = ?1 AND badge = ?2",
                    params![grant.member_id as i64, grant.what],
                )?;
                audit("revoke-badge", grant)?;
            }
            for grant in &preview.access_gained {
                conn.execute(
                    "INSERT OR REPLACE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, 'earned', ?3, ?4)",
                    params![grant.member_id as i64, grant.what, at, reason],
                )?;
                audit("grant-access", grant)?;
            }
            for grant in &preview.access_lost {
                conn.execute(
                    "DELETE FROM access WHERE member_id = ?1 AND tier = ?2",
                    params![grant.member_id as i64, grant.what],
                )?;
                audit("revoke-access", grant)?;
            }
            for grant in &preview.nominations_added {
                let nomination = &projections.pending[&(grant.member_id, grant.what.clone())];
                let (evidence, created_at) = (&nomination.evidence, nomination.created_at);
                conn.execute(
                    "INSERT OR IGNORE INTO nominations (member_id, tier, evidence, status, created_at) VALUES (?1, ?2, ?3, 'pending', ?4)",
                    params![grant.member_id as i64, grant.what, evidence, created_at],
                )?;
                audit("nominate", grant)?;
            }
            // The ledger and totals of members whose points moved, line by line under the new rules.
            for change in &preview.points {
                let member = change.member_id as i64;
                conn.execute("DELETE FROM ledger WHERE member_id = ?1", params![member])?;
                for line in projections.ledger.get(&change.member_id).into_iter().flatten() {
                    conn.prepare_cached(
                        "INSERT INTO ledger (member_id, delta, event_id, rule, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![member, line.delta, line.event_id, line.rule, line.reason, line.at])?;
                }
                conn.execute(
                    "INSERT INTO points (member_id, total) VALUES (?1, ?2) ON CONFLICT(member_id) DO UPDATE SET total = ?2",
                    params![member, change.after],
                )?;
            }
            // The program's own state must be the recomputed one, so future events continue from it.
            conn.execute("DELETE FROM kv", [])?;
            recomputed.store.with_sorted(|store| -> rusqlite::Result<()> {
                let mut insert = conn.prepare_cached("INSERT INTO kv (key, value) VALUES (?1, ?2)")?;
                for (key, value) in store {
                    insert.execute(params![key, value])?;
                }
                Ok(())
            })?;
            conn.execute("UPDATE kv_size SET bytes = ?1", params![recomputed.store.bytes() as i64])?;
            // History is now what the program in force makes of it: a rollback's offer to recompute is done.
            conn.execute("UPDATE program SET settings = ?1, recompute_offer = NULL", params![settings])?;
            let summary = format!(
                "recomputed {} events: {} members' points changed, badges +{} −{}, access +{} −{}, {} new nominations",
                preview.events,
                preview.points.len(),
                preview.badges_gained.len(),
                preview.badges_lost.len(),
                preview.access_gained.len(),
                preview.access_lost.len(),
                preview.nominations_added.len()
            );
            crate::program::audit(conn, at, actor, "settings", None, "program settings", &summary, None)?;
            Ok(preview)
        })();
        // The table was rewritten underneath the live program's cache (which held nothing unflushed: no
        // transaction was open).
        self.kv.discard();
        let preview = match written {
            Ok(preview) => {
                self.conn.execute_batch("COMMIT")?;
                preview
            }
            Err(error) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(error);
            }
        };
        // The live plugin adopts the settings (they validated above) and starts a fresh instance.
        let installed = self.program.as_mut().expect("recompute found the program");
        installed.plugin.configure(settings)?.map_err(ForumError::Settings)?;
        Ok(preview)
    }
}
