//! Cadre's forum core: the database, the forum, and the exactly-once event pipeline.
//!
//! Owns: the SQLite schema and migrations ([`db`]); the forum's tables — members, categories (public or private to
//! a tier), topics, posts, likes, accepted answers — and the one visibility rule ([`forum`]); the event log and the
//! pipeline that delivers each event to the installed program in the forum change's transaction ([`events`]);
//! what a program's validated effects do to the database — ledger, points, badges, access, nominations, notices,
//! audit — and the moderators' reports over them ([`program`]);.
//!
//! Does not own: running components (`cadre-runtime`), the web (`cadre-web`), importers (`cadre-import`) or the
//! command line (`cadre`). Nothing here depends on those.

pub mod db;
pub mod error;
pub mod events;
pub mod forum;
pub mod program;

pub use error::ForumError;
pub use events::Forum;
