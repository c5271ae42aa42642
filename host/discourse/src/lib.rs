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
//! Reconciliation through the API ([`reconcile`]: missed posts, destroys, accepts (also on answers older than the
//! posts read) and likes, the unlikes Discourse never sends, group and badge drift); the history import from a backup ([`backup`]). The admin API client speaks HTTPS
//! (rustls, Mozilla's roots plus an optional `ca-file`) and plain HTTP only on the loopback unless allowed. A
//! synthetic backup of a chosen size for measuring the import ([`synthetic`]).

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
pub mod synthetic;
pub mod tables;
pub mod webhook;

pub use settings::{DiscourseSettings, Secret};
