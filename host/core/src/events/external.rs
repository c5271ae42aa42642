//! Recording an event from outside the forum (contract 0.2.0's external events): a CRM, a learning platform or an
//! event tool reports that something happened to a member.
//!
//! Owns: [`Forum::record_external`] — checking the event's bounds (`cadre_model::ExternalEvent::check`) and that the
//! member exists, and the event's dedup key in the log (its source and external id), so a resent event is a no-op.
//! Does not own: how it is logged and delivered (`record`), the ways in (ingest, `cadre event`, the HTTP
//! endpoint), or what it is worth (the program). Nothing in the forum's own tables changes: an external event is
//! only an event of the log.

use cadre_model::{Event, ExternalEvent};

use super::{Forum, Outcome};
use crate::error::ForumError;
use crate::forum::members;

/// The log's unique key for an external event: `external:<source>:<id>` when the reporter gave an id; otherwise
/// the same member, kind, time and source make the same event (a report sent twice by a system without ids).
pub fn dedup_key(event: &ExternalEvent) -> String {
    let source = event.source.as_deref().unwrap_or("");
    match &event.external_id {
        Some(id) => format!("external:{source}:{id}"),
        None => format!("external:{source}::{}:{}:{}", event.member, event.kind, event.at),
    }
}

impl Forum {
    /// Record an external event and deliver it to the program (a 0.1.0 program receives nothing). Refused with
    /// every problem named when the event is malformed or its member unknown; a replay of the same source and
    /// external id is a no-op (`Outcome::duplicate`).
    pub fn record_external(&mut self, event: ExternalEvent) -> Result<Outcome, ForumError> {
        let problems = event.check();
        if !problems.is_empty() {
            return Err(ForumError::Invalid(format!("invalid external event: {}", problems.join("; "))));
        }
        let key = dedup_key(&event);
        let at = event.at;
        self.record(&key, at, move |conn| {
            members::joined_at(conn, event.member)?;
            Ok(Some(Event::External(event)))
        })
    }
}
