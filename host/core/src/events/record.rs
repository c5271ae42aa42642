//! Recording and delivering events: the transaction around each forum action, the exactly-once mark, running the
//! program on the event, dead letters and the quarantine.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Delivery, DeliveryError, Forum, LoggedEvent, Outcome, ProgramCalls};
use crate::error::ForumError;
use crate::program::apply::{self, Origin};
use cadre_runtime::CallError;
use cadre_runtime::Event;

/// What one failed delivery adds to the program's failure score (an applied one takes 1 away). The program is
/// quarantined when the score reaches `FAILURE_WEIGHT × quarantine_after`: after `quarantine_after` failures in
/// a row as before, and also when it keeps failing on more than one event in `FAILURE_WEIGHT + 1` between
/// successes (a program that traps on every like but handles posts would otherwise never be quarantined under a
/// mixed load, and every like would pay for its failure).
const FAILURE_WEIGHT: u32 = 4;

/// The program is also quarantined when `quarantine_after` events it failed on within this many milliseconds of
/// the forum's time (a day) are all still dead letters. The failure score alone misses a program that fails on
/// every like under a mixed load: each failed like holds back its two members' later events (they wait behind it,
/// which is no failure of the program's), so after a handful of failures every active member waits and the score,
/// pulled down by the posts handled in between, stops short. Those members' standing is frozen until a moderator acts
/// either way; the quarantine says so, once, in the notices.
const UNRESOLVED_WINDOW: i64 = cadre_model::DAY_MS;

/// Most passes a retry of the dead letters makes over what is waiting (see [`Forum::retry_dead_letters`]).
const RETRY_PASSES: usize = 8;

fn load_event(conn: &Connection, id: i64) -> Result<LoggedEvent, ForumError> {
    let (at, payload): (i64, String) =
        conn.query_row("SELECT at, payload FROM events WHERE id = ?1", params![id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    parse_event(id, at, &payload)
}

/// An event of the log from its stored columns.
pub(crate) fn parse_event(id: i64, at: i64, payload: &str) -> Result<LoggedEvent, ForumError> {
    let event = serde_json::from_str(payload)
        .map_err(|e| ForumError::Invalid(format!("event {id} in the log cannot be read: {e}")))?;
    Ok(LoggedEvent { id, at, event })
}

/// Run one statement without parsing it again on every event (savepoints, commits: the hot path of a replay).
fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Run the program on one event and apply its effects, in `conn`'s open transaction. The program's failure
/// (trap, limit, invalid effects) is `Ok(Err)`: it wrote nothing, because a call's store writes are staged only
/// when it succeeds and its effects validate. `Err` is the database failing while applying validated effects,
/// which the caller rolls back with the rest of the event.
pub(crate) fn run_program(
    conn: &Connection,
    plugin: &mut dyn ProgramCalls,
    actor: &str,
    logged: &LoggedEvent,
) -> Result<Result<usize, CallError>, ForumError> {
    match plugin.deliver(&logged.event) {
        Ok(effects) => {
            let origin = Origin { event_id: logged.id, at: logged.at, actor };
            apply::apply(conn, &origin, plugin.declared(), &effects)?;
            Ok(Ok(effects.len()))
        }
        Err(error) => Ok(Err(error)),
    }
}

/// The program's bookkeeping row (`program`), as the open transaction sees it: read once per transaction and
/// written back right before it commits, instead of once or twice per event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bookkeeping {
    /// Every event up to this one was delivered (or dead-lettered).
    processed_up_to: i64,
    /// Events queue up instead of being delivered.
    quarantined: bool,
    /// The failure score (column `failures_in_row`): each failed delivery adds [`FAILURE_WEIGHT`], each applied
    /// one takes 1 away.
    failures_in_row: u32,
    /// False only when the dead letters are known to be empty (the usual case: no event can be blocked).
    may_have_dead_letters: bool,
    /// Differs from the row.
    changed: bool,
}

impl Forum {
    /// The program's bookkeeping in the open transaction (`None`: no program installed).
    fn bookkeeping(&mut self) -> Result<Option<&mut Bookkeeping>, ForumError> {
        if self.program.is_none() {
            return Ok(None);
        }
        if self.bookkeeping.is_none() {
            let row = self
                .conn
                .prepare_cached(
                    "SELECT processed_up_to, quarantined, failures_in_row, EXISTS (SELECT 1 FROM dead_letters) \
                     FROM program",
                )?
                .query_row([], |row| {
                    Ok(Bookkeeping {
                        processed_up_to: row.get(0)?,
                        quarantined: row.get(1)?,
                        failures_in_row: row.get(2)?,
                        may_have_dead_letters: row.get(3)?,
                        changed: false,
                    })
                })
                .optional()?;
            self.bookkeeping = row;
        }
        Ok(self.bookkeeping.as_mut())
    }

    /// Write what the transaction kept in memory (the program's store, its bookkeeping) and commit.
    fn commit_transaction(&mut self) -> Result<(), ForumError> {
        let written = (|| -> Result<(), ForumError> {
            if self.index_deferred {
                super::search_index::index_deferred(&self.conn)?;
            }
            self.kv.flush()?;
            if let Some(b) = self.bookkeeping.filter(|b| b.changed) {
                self.conn
                    .prepare_cached("UPDATE program SET processed_up_to = ?1, quarantined = ?2, failures_in_row = ?3")?
                    .execute(params![b.processed_up_to, b.quarantined, b.failures_in_row])?;
            }
            statement(&self.conn, "COMMIT")?;
            Ok(())
        })();
        if written.is_err() {
            self.rollback_transaction();
        }
        self.bookkeeping = None;
        self.index_deferred = false;
        written
    }

    /// Roll the open transaction back, with what it kept in memory.
    fn rollback_transaction(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
        self.kv.discard();
        self.bookkeeping = None;
        self.index_deferred = false;
    }

    /// Record one forum action: run `change` (which changes the forum's tables and returns the event, if any, the
    /// program must see) and deliver the event, all in one transaction. A repeated `external_id` is a no-op.
    pub fn record(
        &mut self,
        external_id: &str,
        at: i64,
        change: impl FnOnce(&Connection) -> Result<Option<Event>, ForumError>,
    ) -> Result<Outcome, ForumError> {
        if !self.in_batch {
            // One event alone: its post is indexed as it is written (there is no later event to share a flush with).
            return self.transaction(false, |forum| forum.record(external_id, at, change));
        }
        // Inside a batch the event is a savepoint of the batch's transaction: refused, it rolls back alone.
        statement(&self.conn, "SAVEPOINT event")?;
        let (kv_mark, bookkeeping) = (self.kv.mark(), self.bookkeeping);
        let result = self.record_in_transaction(external_id, at, change);
        match &result {
            Ok(_) => {
                statement(&self.conn, "RELEASE event")?;
                self.kv.release(kv_mark);
            }
            Err(_) => {
                let _ = self.conn.execute_batch("ROLLBACK TO event; RELEASE event");
                self.kv.rollback_to(kv_mark);
                self.bookkeeping = bookkeeping;
            }
        }
        result
    }

    /// Record many events in one transaction (much faster than one transaction each). Exactly-once still holds:
    /// the batch commits atomically with its processed mark, and a crash inside the batch loses the whole batch,
    /// which the caller redoes (its events' external ids were not committed, so nothing is repeated). An action
    /// refused inside the batch rolls back only itself.
    ///
    /// The full-text index of the posts the batch writes is built once, right before it commits (see
    /// `search_index`): searching from inside the batch does not find them yet; everything committed is indexed.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Forum) -> Result<T, ForumError>) -> Result<T, ForumError> {
        self.transaction(true, f)
    }

    /// [`Forum::batch`], deferring the full-text index of its new posts to the commit or not.
    fn transaction<T>(
        &mut self,
        defer_index: bool,
        f: impl FnOnce(&mut Forum) -> Result<T, ForumError>,
    ) -> Result<T, ForumError> {
        if self.in_batch {
            return f(self);
        }
        statement(&self.conn, "BEGIN IMMEDIATE")?;
        let began = (|| -> Result<(), ForumError> {
            self.kv.revalidate()?;
            if defer_index {
                super::search_index::defer(&self.conn)?;
                self.index_deferred = true;
            }
            Ok(())
        })();
        if let Err(error) = began {
            self.rollback_transaction();
            return Err(error);
        }
        // Another process may have upgraded, rolled back or reconfigured the program: events go to the one in force.
        self.follow_program_in_force();
        self.in_batch = true;
        let result = f(self);
        self.in_batch = false;
        match result {
            Ok(value) => self.commit_transaction().map(|()| value),
            Err(error) => {
                self.rollback_transaction();
                Err(error)
            }
        }
    }

    /// The event logged under an external id, if any (a re-delivered event is a no-op).
    pub(super) fn recorded(&self, external_id: &str) -> Result<Option<i64>, ForumError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM events WHERE external_id = ?1")?
            .query_row(params![external_id], |row| row.get(0))
            .optional()?)
    }

    fn record_in_transaction(
        &mut self,
        external_id: &str,
        at: i64,
        change: impl FnOnce(&Connection) -> Result<Option<Event>, ForumError>,
    ) -> Result<Outcome, ForumError> {
        if let Some(event_id) = self.recorded(external_id)? {
            return Ok(Outcome { event_id, duplicate: true, delivery: Delivery::NoProgram });
        }
        let Some(event) = change(&self.conn)? else {
            return Ok(Outcome { event_id: 0, duplicate: false, delivery: Delivery::NoProgram });
        };
        let payload = serde_json::to_string(&event).expect("events serialize");
        self.conn
            .prepare_cached("INSERT INTO events (external_id, kind, at, payload) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![external_id, event.kind(), at, payload])?;
        let event_id = self.conn.last_insert_rowid();
        let delivery = match self.bookkeeping()?.copied() {
            None => Delivery::NoProgram,
            Some(state) if state.quarantined => Delivery::Queued,
            // The usual case: nothing is queued, deliver the event in hand without reading it back.
            Some(state) if state.processed_up_to + 1 == event_id => {
                let delivery = self.deliver(&LoggedEvent { id: event_id, at, event })?;
                self.mark_processed(event_id)?;
                delivery
            }
            Some(_) => self.deliver_pending_through(event_id)?,
        };
        Ok(Outcome { event_id, duplicate: false, delivery })
    }

    fn mark_processed(&mut self, event_id: i64) -> Result<(), ForumError> {
        if let Some(b) = self.bookkeeping()? {
            b.processed_up_to = event_id;
            b.changed = true;
        }
        Ok(())
    }

    /// Deliver, in order, every event after the processed mark up to `last` (normally just `last`); returns what
    /// happened to `last`.
    fn deliver_pending_through(&mut self, last: i64) -> Result<Delivery, ForumError> {
        let Some(state) = self.bookkeeping()?.copied() else { return Ok(Delivery::NoProgram) };
        if state.quarantined {
            return Ok(Delivery::Queued);
        }
        let mut delivery = Delivery::NoProgram;
        for id in (state.processed_up_to + 1)..=last {
            let exists: Option<i64> =
                self.conn.query_row("SELECT id FROM events WHERE id = ?1", params![id], |row| row.get(0)).optional()?;
            if exists.is_none() {
                continue;
            }
            let logged = load_event(&self.conn, id)?;
            delivery = self.deliver(&logged)?;
            self.mark_processed(id)?;
            if delivery == Delivery::Queued {
                break;
            }
        }
        Ok(delivery)
    }

    /// Run the program on one event; if it fails, dead-letter the event (nothing of the program's part is kept).
    fn deliver(&mut self, logged: &LoggedEvent) -> Result<Delivery, ForumError> {
        if let Some(blocker) = self.blocking_dead_letter(logged)? {
            return self.dead_letter(logged, DeliveryError::WaitingBehind { blocker });
        }
        let installed = self.program.as_mut().expect("the bookkeeping found a program");
        // A stand-in is set only by `cadre bench replay`, to compare the sandbox with the same rules linked in.
        let rules: &mut dyn ProgramCalls = match self.stand_in.as_mut() {
            Some(stand_in) => stand_in.as_mut(),
            None => &mut installed.plugin,
        };
        match run_program(&self.conn, rules, &installed.actor, logged)? {
            Ok(count) => {
                if let Some(b) = self.bookkeeping()?
                    && b.failures_in_row != 0
                {
                    b.failures_in_row -= 1;
                    b.changed = true;
                }
                Ok(Delivery::Applied { effects: count })
            }
            Err(error) => self.dead_letter(logged, error.into()),
        }
    }

    /// The earliest unresolved dead letter concerning one of the event's members, if any.
    fn blocking_dead_letter(&mut self, logged: &LoggedEvent) -> Result<Option<i64>, ForumError> {
        // The usual case: no dead letter at all, known without a query.
        if !self.bookkeeping()?.is_some_and(|b| b.may_have_dead_letters) {
            return Ok(None);
        }
        let mut earliest: Option<i64> = None;
        for member in logged.event.members() {
            let blocker: Option<i64> = self
                .conn
                .prepare_cached(
                    "SELECT event_id FROM dead_letter_members WHERE member_id = ?1 AND event_id < ?2 \
                     ORDER BY event_id LIMIT 1",
                )?
                .query_row(params![member as i64, logged.id], |row| row.get(0))
                .optional()?;
            if let Some(blocker) = blocker {
                earliest = Some(earliest.map_or(blocker, |e| e.min(blocker)));
            }
        }
        Ok(earliest)
    }

    /// Record the event as a dead letter. Only the program's own failure counts towards the quarantine; an event
    /// waiting behind another is not the program's fault.
    fn dead_letter(&mut self, logged: &LoggedEvent, error: DeliveryError) -> Result<Delivery, ForumError> {
        let counts_as_failure = matches!(error, DeliveryError::Program(_));
        let blocker = match error {
            DeliveryError::WaitingBehind { blocker } => Some(blocker),
            DeliveryError::Program(_) => None,
        };
        self.conn.execute(
            "INSERT INTO dead_letters (event_id, error, failed_at, blocker) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(event_id) DO UPDATE SET error = ?2, failed_at = ?3, blocker = ?4, attempts = attempts + 1",
            params![logged.id, error.to_string(), logged.at, blocker],
        )?;
        for member in logged.event.members() {
            self.conn
                .prepare_cached("INSERT OR IGNORE INTO dead_letter_members (member_id, event_id) VALUES (?1, ?2)")?
                .execute(params![member as i64, logged.id])?;
        }
        let quarantine_after = self.quarantine_after;
        // The program's own failures of the last day that nobody has resolved yet (see `UNRESOLVED_WINDOW`).
        let unresolved: i64 = if counts_as_failure {
            self.conn
                .prepare_cached("SELECT COUNT(*) FROM dead_letters WHERE blocker IS NULL AND failed_at > ?1")?
                .query_row(params![logged.at - UNRESOLVED_WINDOW], |row| row.get(0))?
        } else {
            0
        };
        let Some(b) = self.bookkeeping()? else { return Ok(Delivery::DeadLettered { error }) };
        b.may_have_dead_letters = true;
        b.changed = true;
        if counts_as_failure {
            b.failures_in_row = b.failures_in_row.saturating_add(FAILURE_WEIGHT);
            let failing = b.failures_in_row >= quarantine_after.saturating_mul(FAILURE_WEIGHT)
                || unresolved >= i64::from(quarantine_after);
            if failing && !b.quarantined {
                b.quarantined = true;
                let actor = self.program.as_ref().map(|p| p.actor.clone()).unwrap_or_default();
                let message = format!(
                    "{actor} keeps failing ({quarantine_after} times in a row, on more than one event in {}, or on \
                     {quarantine_after} events of one day still unresolved) and is quarantined: new events queue up \
                     until a moderator lifts the quarantine (cadre deadletters retry). Last error: {error}",
                    FAILURE_WEIGHT + 1
                );
                self.conn.execute(
                    "INSERT INTO notices (member_id, topic, message, at, event_id) VALUES (NULL, 'quarantine', ?1, ?2, ?3)",
                    params![message, logged.at, logged.id],
                )?;
                crate::program::audit(
                    &self.conn,
                    logged.at,
                    "system",
                    "quarantine",
                    None,
                    &actor,
                    &message,
                    Some(logged.id),
                )?;
            }
        }
        Ok(Delivery::DeadLettered { error })
    }

    /// Retry every dead letter in log order, then deliver whatever queued up behind a quarantine, and lift the
    /// quarantine. Returns how many dead letters were resolved and how many remain. Each retry is a transaction
    /// of its own, so what was resolved stays resolved if a later one fails. Passes again (up to
    /// `RETRY_PASSES`) while a pass applied something and more wait: a server running beside the retry
    /// dead-letters a member's new events behind their old ones until those are applied.
    pub fn retry_dead_letters(&mut self) -> Result<(usize, usize), ForumError> {
        self.batch(|forum| {
            let b = forum.bookkeeping()?.ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
            b.quarantined = false;
            b.failures_in_row = 0;
            b.changed = true;
            Ok(())
        })?;
        // A running server (another process) delivers new events as soon as the quarantine is lifted; those of a
        // member whose earlier event still waits here are dead-lettered behind it meanwhile ("waiting behind").
        // So pass again over what is waiting, until a pass applies nothing more (bounded: a server under load
        // adds few each pass).
        let mut resolved = 0;
        for _pass in 0..RETRY_PASSES {
            let ids: Vec<i64> = self
                .conn
                .prepare("SELECT event_id FROM dead_letters ORDER BY event_id")?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            let mut applied_now = 0;
            for id in ids {
                let applied = self.batch(|forum| {
                    let logged = load_event(&forum.conn, id)?;
                    // Clear its own dead letter first, so it is not blocked by itself.
                    forum.conn.execute("DELETE FROM dead_letters WHERE event_id = ?1", params![id])?;
                    let delivery = forum.deliver(&logged)?;
                    Ok(matches!(delivery, Delivery::Applied { .. }))
                })?;
                applied_now += usize::from(applied);
            }
            // Events that queued while quarantined.
            let last: i64 = self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |row| row.get(0))?;
            self.batch(|forum| forum.deliver_pending_through(last))?;
            resolved += applied_now;
            let waiting: i64 = self.conn.query_row("SELECT COUNT(*) FROM dead_letters", [], |row| row.get(0))?;
            if applied_now == 0 || waiting == 0 {
                break;
            }
        }
        let remaining: i64 = self.conn.query_row("SELECT COUNT(*) FROM dead_letters", [], |row| row.get(0))?;
        Ok((resolved, remaining as usize))
    }
}
