//! The one error type of the core: why a forum action, an import or a program change was refused or failed.
//!
//! A program's own failure is not a `ForumError`: it is a [`cadre_runtime::CallError`] that the pipeline records
//! as a dead letter (see `events::Delivery`), and the forum action that caused it still commits.

use cadre_model::ConfigError;
use cadre_runtime::{CallError, LoadError};

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
    /// The program refused its settings: every error, with its path and line.
    #[error("the settings are invalid:\n{}", render_errors(.0))]
    Settings(Vec<ConfigError>),
    /// The program failed while it was asked something (configuring, describing): the typed error of the call.
    /// (Boxed: a call error is large, and every `Result` in the core carries this type.)
    #[error(transparent)]
    Program(Box<CallError>),
}

impl From<CallError> for ForumError {
    fn from(error: CallError) -> ForumError {
        ForumError::Program(Box::new(error))
    }
}

/// Settings errors one per line, `line N: path: message`, as moderators read them in the terminal.
pub fn render_errors(errors: &[ConfigError]) -> String {
    errors.iter().map(ConfigError::to_string).collect::<Vec<_>>().join("\n")
}
