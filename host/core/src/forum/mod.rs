//! The forum: members, categories (public or private to a tier), topics, questions, answers, replies, likes and
//! accepted answers — and the [`Forum`] handle every action goes through.
//!
//! Each action changes the forum's tables and becomes one event of the log, delivered to the installed program
//! in the same transaction (see `events`). Reads that members can make go through [`visibility`], the one place
//! that decides who may see a private category.

mod actions;
mod external;
mod import;
pub mod names;
pub mod read;
pub mod visibility;

use std::rc::Rc;

use rusqlite::Connection;

use cadre_runtime::{LoadError, Plugin, Runtime};

pub(crate) use actions::apply_moderator_action;
pub use actions::{NewPost, PostKindName};
pub use external::dedup_key;
pub use import::{ImportedPost, replaced_accept_id};

/// A member id.
pub type MemberId = u64;

/// Why a forum action was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ForumError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The database could not be opened.
    #[error(transparent)]
    Open(#[from] crate::db::DbError),
    /// Something named does not exist (or is not visible to the actor).
    #[error("{0} not found")]
    NotFound(String),
    /// The action is not allowed or makes no sense (liking your own post twice, accepting a reply, …).
    #[error("{0}")]
    Invalid(String),
    /// The program component could not be loaded.
    #[error(transparent)]
    Plugin(#[from] LoadError),
    /// The program refused its settings.
    #[error("the settings are invalid:\n{0}")]
    Settings(String),
}

/// The installed program, loaded.
pub(crate) struct Installed {
    pub(crate) plugin: Plugin,
    pub(crate) version_id: i64,
    /// How the audit log names it: `program cadre-superuser 0.1.0`.
    pub(crate) actor: String,
}

/// The forum: its database and its installed program.
pub struct Forum {
    pub(crate) conn: Rc<Connection>,
    pub(crate) runtime: Runtime,
    pub(crate) program: Option<Installed>,
    /// Consecutive failed deliveries after which the program is quarantined.
    pub(crate) quarantine_after: u32,
    /// True while [`Forum::batch`] holds a transaction open.
    pub(crate) in_batch: bool,
    /// The installed program's rules linked natively instead of its component (benchmarks only).
    pub(crate) native: Option<Box<dyn crate::native::Rules>>,
    /// The program's key/value store (write-back cache over the `kv` table, flushed when a transaction commits).
    pub(crate) kv: crate::program::kv::KvCache,
    /// The program's bookkeeping as the open transaction sees it (`None` outside a transaction).
    pub(crate) bookkeeping: Option<crate::events::Bookkeeping>,
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
        let kv = crate::program::kv::KvCache::new(conn.clone());
        let mut forum = Forum {
            conn,
            runtime,
            program: None,
            quarantine_after: 5,
            in_batch: false,
            native: None,
            kv,
            bookkeeping: None,
            program_seen: None,
        };
        forum.sync_program()?;
        Ok(forum)
    }

    /// The database connection (for reads).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Deliver events to the installed program's rules linked natively, with the same settings and the same
    /// database work, instead of to its component. For `cadre bench replay`, which measures what the sandbox
    /// costs; production always runs the component.
    pub fn use_native_rules(&mut self) -> Result<(), ForumError> {
        let installed = self.program.as_ref().ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        let backend = self.kv.backend();
        let declaration = installed.plugin.declaration().clone();
        let rules = crate::native::NativeRules::new(installed.plugin.settings(), declaration, backend)
            .map_err(|errors| ForumError::Settings(format!("{errors:?}")))?;
        self.native = Some(Box::new(rules));
        Ok(())
    }

    /// After how many consecutive failed deliveries the program is quarantined (default 5).
    pub fn set_quarantine_after(&mut self, failures: u32) {
        self.quarantine_after = failures.max(1);
    }
}
