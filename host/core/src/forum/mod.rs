//! The forum's own tables — members, categories (public or private to a tier), topics, questions, answers,
//! replies, likes and accepted answers — as functions over a connection, and the one visibility rule.
//!
//! Each write here checks its input and changes its table inside the caller's transaction, and returns the
//! model's record of what happened (a [`cadre_model::Like`], an [`cadre_model::Accept`], …); it knows nothing of
//! the event log or the program. The event pipeline (`crate::events`, which owns the `Forum` handle) calls these
//! and turns what they return into events. Reads that members can make are in [`read`] and filter with
//! [`visibility`].
//!
//! Owns the tables `members`, `categories`, `posts`, `likes`, `accepts`. Does not own the program's tables
//! (`crate::program`) or the event log (`crate::events`).

pub mod accepts;
pub mod categories;
pub mod edits;
pub mod likes;
pub mod members;
pub mod names;
pub mod posts;
pub mod public_ids;
pub mod read;
pub mod recovery;
pub mod visibility;

pub use crate::error::ForumError;
pub use posts::{ImportedPost, NewPost, PostKindName};

/// A member id.
pub type MemberId = u64;
