//! Cadre's importers: history from outside, fed through the same pipeline as live events.
//!
//! Owns: JSON Lines history files (`cadre ingest`, [`ingest`]) and Stack Exchange dumps (`cadre replay`,
//! [`replay`]): reading, checking, mapping rows to forum actions, progress and reports. Does not own the forum's
//! tables or the pipeline (`cadre-core`): every import goes through `Forum`'s import actions.

pub mod ingest;
pub mod replay;
