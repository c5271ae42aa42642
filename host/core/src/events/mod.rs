//! The event pipeline, which owns the [`Forum`] handle: every forum action becomes one event of the log and is
//! processed exactly once.
//!
//! In **one transaction**: the forum change, the event row (its `external_id` is unique, so a re-delivered event
//! is a no-op), the program's part, and the `processed_up_to` mark. A crash at any point loses nothing and repeats
//! nothing: either all of it committed or none. If the program fails (trap, limit, invalid effect) nothing of its
//! part is kept and the event goes to the dead letters, but the forum change still commits — the forum never pays
//! for the plugin. A later event concerning a member with an unresolved dead letter waits behind it (is
//! dead-lettered too), so scores never apply out of order. After `quarantine_after` consecutive failures (or
//! failures on more than one event in five, sustained) the program is quarantined: events queue up (recorded, not delivered) until a moderator lifts the quarantine, which
//! replays the queue in order.
//!
//! One direction: an action here (`actions`, `history`) checks and changes the forum's tables through
//! [`crate::forum`] (functions over the connection, which know nothing of events), then [`record`] logs the event
//! and delivers it to the program through `cadre-runtime`, and [`crate::program`] applies the validated effects. Nothing
//! below calls back up.
//!
//! Modules: `record` (transactions, exactly-once, delivery, dead letters), `actions` (live forum actions),
//! `history` (imported history: external ids, unknown authors, moved accepts), `versions` (install, upgrade,
//! rollback, configure, following another process's changes), `recompute` (preview and apply over the whole log).

mod actions;
mod external;
mod history;
mod memory;
mod post_changes;
mod recompute;
mod record;
mod search_index;
mod versions;

use std::rc::Rc;

use rusqlite::Connection;

use crate::error::ForumError;
use cadre_model::Event;
use cadre_model::{Declaration, Effect};
use cadre_runtime::{CallError, KvBackend, Plugin, Runtime};

pub use crate::error::render_errors;
pub use external::dedup_key;
pub use history::replaced_accept_id;
pub use post_changes::Deleted;
pub use recompute::{Grant, PointsChange, Preview};
pub(crate) use record::{Bookkeeping, parse_event};
pub(crate) use versions::Installed;
pub use versions::{DeclarationChange, Installation, RecomputeOffer, RolledBack, VersionRow};

/// The program as the pipeline calls it: one event in, validated effects out, the program's store writes committed
/// only when the call succeeds; or the program's failure, kept typed until it is shown. Implemented by the
/// component ([`Plugin`]); a measurement may put another implementation in its place ([`Forum::use_stand_in`]).
pub trait ProgramCalls {
    /// Deliver one event.
    fn deliver(&mut self, event: &Event) -> Result<Vec<Effect>, CallError>;
    /// The badges and tiers its effects may name.
    fn declared(&self) -> &Declaration;
}

impl ProgramCalls for Plugin {
    fn deliver(&mut self, event: &Event) -> Result<Vec<Effect>, CallError> {
        self.call(event)
    }
    fn declared(&self) -> &Declaration {
        self.declaration()
    }
}

/// What happened to an event's program part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The program ran and its effects were applied.
    Applied {
        /// How many effects.
        effects: usize,
    },
    /// The program's part did not apply; the event is in the dead letters.
    DeadLettered {
        /// Why.
        error: DeliveryError,
    },
    /// The program is quarantined: the event waits in the queue.
    Queued,
    /// No program is installed, or the event is not for the program.
    NoProgram,
}

/// Why an event's program part did not apply (the forum change committed all the same).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The program failed on it (trap, limit, invalid effect): the typed error of the call.
    #[error(transparent)]
    Program(#[from] CallError),
    /// An earlier event concerning one of the same members is a dead letter: this one waits behind it, so that
    /// a member's scores never apply out of order.
    #[error("waiting behind dead letter for event {blocker} (same member)")]
    WaitingBehind {
        /// The earlier event.
        blocker: i64,
    },
}

/// The result of recording one forum action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The event's position in the log.
    pub event_id: i64,
    /// True when the same external id was recorded before: nothing was done.
    pub duplicate: bool,
    /// What the program made of it.
    pub delivery: Delivery,
}

/// One event of the log, as stored.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    /// Position in the log.
    pub id: i64,
    /// When it happened.
    pub at: i64,
    /// The event.
    pub event: Event,
}

/// The forum: its database and its installed program — the one handle every action, import and program change
/// goes through.
pub struct Forum {
    pub(crate) conn: Rc<Connection>,
    pub(crate) runtime: Runtime,
    pub(crate) program: Option<Installed>,
    /// Consecutive failed deliveries after which the program is quarantined.
    pub(crate) quarantine_after: u32,
    /// True while [`Forum::batch`] holds a transaction open.
    pub(crate) in_batch: bool,
    /// True while the open transaction leaves the full-text index of its new posts to its commit (`search_index`).
    pub(crate) index_deferred: bool,
    /// Another implementation of the installed program's calls, used instead of its component: only for
    /// measurements (`cadre bench replay` compares the sandbox with the same rules linked natively). Production
    /// never sets it.
    pub(crate) stand_in: Option<Box<dyn ProgramCalls>>,
    /// The program's key/value store (write-back cache over the `kv` table, flushed when a transaction commits).
    pub(crate) kv: crate::program::store_cache::KvCache,
    /// The program's bookkeeping as the open transaction sees it (`None` outside a transaction).
    pub(crate) bookkeeping: Option<Bookkeeping>,
    /// The write-ahead log's checkpoints on a thread of their own, when [`Forum::checkpoint_in_background`] was asked
    /// for (the thread stops when the forum is dropped).
    pub(crate) checkpoints: Option<crate::db::checkpoints::BackgroundCheckpoints>,
    /// SQLite's `data_version` when the loaded program was last compared with the one in force in the database
    /// (another process's `cadre plugin upgrade`, `rollback` or `program apply` changes that number).
    pub(crate) program_seen: Option<i64>,
}

impl Forum {
    /// Open the forum database at `path` (created and migrated as needed) and load its installed program.
    pub fn open(path: &std::path::Path, runtime: Runtime) -> Result<Forum, ForumError> {
        let conn = crate::db::open(path)?;
        Forum::with_connection(conn, runtime)
    }

    /// A forum over an open, migrated connection (scratch databases).
    pub fn with_connection(conn: Connection, runtime: Runtime) -> Result<Forum, ForumError> {
        let conn = Rc::new(conn);
        let kv = crate::program::store_cache::KvCache::new(conn.clone());
        let mut forum = Forum {
            conn,
            runtime,
            program: None,
            quarantine_after: 5,
            in_batch: false,
            index_deferred: false,
            stand_in: None,
            kv,
            bookkeeping: None,
            checkpoints: None,
            program_seen: None,
        };
        forum.sync_program()?;
        Ok(forum)
    }

    /// The database connection: for reads, and for the functions of [`crate::forum`] and [`crate::program`] that
    /// write their own tables (the web keeps its `sessions` through it too). Forum actions that are events go
    /// through this handle's methods, never through the connection.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Deliver events to `make(settings, declaration, store)` instead of the installed component: the same
    /// pipeline, the same database work and the same program store (`store` is the forum's), another
    /// implementation of the calls. For measurements only (`cadre bench replay`); production always runs the
    /// component.
    pub fn use_stand_in(
        &mut self,
        make: impl FnOnce(&str, &Declaration, Box<dyn KvBackend>) -> Box<dyn ProgramCalls>,
    ) -> Result<(), ForumError> {
        let installed = self.program.as_ref().ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        let stand_in = make(installed.plugin.settings(), installed.plugin.declaration(), self.kv.backend());
        self.stand_in = Some(stand_in);
        Ok(())
    }

    /// Copy the write-ahead log back into the database file on a thread of its own instead of inside the commit
    /// that fills it (`db::checkpoints`): for long-running writers — the web server, an import — so that no request
    /// or batch waits for a checkpoint. Stops when the forum is dropped. A database in memory has no log: nothing.
    pub fn checkpoint_in_background(&mut self) -> Result<(), ForumError> {
        if self.checkpoints.is_none() {
            self.checkpoints = crate::db::checkpoints::BackgroundCheckpoints::start(&self.conn)?;
        }
        Ok(())
    }

    /// After how many consecutive failed deliveries the program is quarantined (default 5); it is quarantined
    /// too when it keeps failing on more than one event in five (see `FAILURE_WEIGHT` in `record.rs`).
    pub fn set_quarantine_after(&mut self, failures: u32) {
        self.quarantine_after = failures.max(1);
    }
}
