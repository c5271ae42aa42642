//! Cadre beside a Discourse forum.
//!
//! Owns: the `[discourse]` settings and their secrets ([`settings`]); the webhook signature ([`signature`]);
//! what each Discourse webhook becomes in Cadre's event log ([`webhook`]) and the endpoint that receives them
//! ([`server`]); the admin API client with its shared request budget ([`api`]); draining the write-back outbox to
//! Discourse badges and groups ([`outbox`]); `cadre discourse check` ([`check`]); the adapter's own tables
//! ([`tables`]). With the `simulator` feature, a Discourse simulator for tests ([`simulator`]).
//!
//! Does not own: the forum, the pipeline or the outbox rows (cadre-core writes them, in the transaction of the
//! grant), the command line (the `cadre` crate), the web forum (cadre-web; this crate does not depend on it).
//! Reconciliation of likes and unlikes ([`reconcile`]); the history import from a backup ([`backup`]). Not built
//! yet: reconciling missed posts and group/badge drift, HTTPS to Discourse (see docs/discourse.md).

pub mod api;
pub mod backup;
pub mod check;
pub mod outbox;
pub mod reconcile;
pub mod server;
pub mod settings;
pub mod signature;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod tables;
pub mod webhook;

pub use settings::{DiscourseSettings, Secret};
