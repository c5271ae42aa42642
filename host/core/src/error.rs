//! The one error type of the core: why a forum action, an import or a program change was refused or failed.
//!
//! A program's own failure is not a `ForumError`: it is a [`cadre_runtime::CallError`] that the pipeline records
//! as a dead letter (see `events::Delivery`), and the forum action that caused it still commits.

use cadre_runtime::LoadError;

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
