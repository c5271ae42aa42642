//! Fuzz check 1: a whole JSON Lines file through `cadre ingest` (`cadre_import::ingest::ingest`).
//!
//! The promise: a file is refused with line numbers, or applied whole; never a panic, never half applied. So for
//! any bytes:
//! - refused as invalid: every message names its line (`line N: …`, or the note that reading stopped after 100
//!   errors), and the database is exactly as before;
//! - refused while applying (the database failed after the check passed): the database is exactly as before — and
//!   since the check is meant to catch every refusal the forum would make, that is itself a finding;
//! - applied: the report adds up, and ingesting the same file again applies nothing and changes nothing (every line
//!   is already there, by its external id).
//!
//! The forum is a template (the bundled program under the `insiders` preset, one member `u-seed`) copied afresh for
//! each input.

use cadre_import::ingest::{IngestError, ingest};

use crate::common;

/// Check one file's bytes (panics on a broken promise).
pub fn run(data: &[u8]) {
    let db = common::fresh_forum("ingest", common::preset("insiders"), |forum| {
        forum.register("seed", 0, false).expect("a member");
    });
    let file = db.with_extension("jsonl");
    std::fs::write(&file, data).expect("writing the input");
    let mut forum = cadre_core::Forum::open(&db, common::runtime()).expect("the forum opens");
    let before = common::snapshot(forum.conn());
    match ingest(&mut forum, &file) {
        Ok(report) => {
            assert_eq!(report.applied + report.already_applied, report.lines, "the report adds up: {report:?}");
            let after = common::snapshot(forum.conn());
            if report.applied > 0 {
                assert_ne!(before, after, "{} events applied but nothing changed", report.applied);
            }
            let again = ingest(&mut forum, &file)
                .unwrap_or_else(|e| panic!("a file applied once is refused the second time: {e}"));
            assert_eq!(again.applied, 0, "the second ingest of the same file applied again: {again:?}");
            assert_eq!(after, common::snapshot(forum.conn()), "the second ingest of the same file changed the forum");
        }
        Err(IngestError::Invalid { errors, .. }) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for error in &errors {
                let numbered = error.strip_prefix("line ").is_some_and(|rest| {
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                    digits > 0 && rest[digits..].starts_with(": ")
                });
                assert!(numbered || error.starts_with("… (stopped after"), "an error without its line: {error:?}");
            }
            assert_eq!(before, common::snapshot(forum.conn()), "a refused file changed the forum");
        }
        Err(IngestError::Apply { line, source, .. }) => {
            assert_eq!(before, common::snapshot(forum.conn()), "a file that failed to apply was half applied");
            panic!("line {line} passed the check but the forum refused it: {source}");
        }
        Err(error @ IngestError::Read { .. }) => panic!("reading a file on disk failed: {error}"),
    }
    drop(forum);
    common::remove_db(&db);
    let _ = std::fs::remove_file(&file);
}
