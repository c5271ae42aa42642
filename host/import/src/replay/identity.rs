//! Which dump a replay database holds, and whether a database is a replay's at all.
//!
//! A replay claims an empty database by writing the dump's identity into its own table, `replay_source`, before it
//! imports anything: for each of Posts, Votes and Users, the file's name, its size and the SHA-256 of its first and
//! last MiB (reading a multi-GB dump whole on every resume would cost minutes; a newer dump differs in size, and a
//! changed one almost surely in its head or tail). A later run resumes only that dump, and a replay refuses any
//! database without the table that holds members, posts, categories or events — a live forum (`CADRE_DB` pointing
//! at it is enough to get there) is never written into.
//!
//! The table is created by the replay, not by a migration: only databases a replay created have it.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::ReplayError;
use super::source::DumpFile;

/// How much of each end of a file the identity hashes.
const END: u64 = 1 << 20;

/// One dump file's identity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileIdentity {
    /// `Votes.xml.xz`.
    pub name: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 (hex) of the first MiB followed by the last MiB (the whole file when it is smaller than 2 MiB).
    pub ends_sha256: String,
}

impl std::fmt::Display for FileIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes, sha256 of its ends {})", self.name, self.size, &self.ends_sha256[..12])
    }
}

/// The identity of the dump's files, in the order given.
pub fn of(files: &[&DumpFile]) -> Result<Vec<FileIdentity>, ReplayError> {
    files.iter().map(|file| file_identity(&file.path)).collect()
}

fn file_identity(path: &Path) -> Result<FileIdentity, ReplayError> {
    let io = |source| ReplayError::Io { path: path.to_owned(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut hasher = Sha256::new();
    let mut buffer = Vec::with_capacity(END as usize);
    (&mut file).take(END).read_to_end(&mut buffer).map_err(io)?;
    hasher.update(&buffer);
    if size > END {
        let tail = END.min(size - END);
        file.seek(SeekFrom::Start(size - tail)).map_err(io)?;
        buffer.clear();
        (&mut file).take(tail).read_to_end(&mut buffer).map_err(io)?;
        hasher.update(&buffer);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(FileIdentity { name, size, ends_sha256: hex::encode(hasher.finalize()) })
}

/// What a database holds that no replay wrote, when it has no replay record: (members, posts, events).
fn forum_content(conn: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    let count = |table: &str| conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get::<_, i64>(0));
    Ok((count("members")?, count("posts")? + count("categories")?, count("events")?))
}

/// Claim an empty database for this dump, or check that the database holds a replay of exactly this dump.
pub fn claim_or_check(conn: &Connection, db: &Path, site: &str, dump: &[FileIdentity]) -> Result<(), ReplayError> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'replay_source')",
        [],
        |r| r.get(0),
    )?;
    let recorded: Option<(String, String)> = if has_table {
        conn.query_row("SELECT site, files FROM replay_source", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?
    } else {
        None
    };
    match recorded {
        Some((recorded_site, files)) => {
            let recorded: Vec<FileIdentity> = serde_json::from_str(&files).map_err(|e| ReplayError::NotAReplay {
                db: db.to_owned(),
                detail: format!("its record of the dump it holds cannot be read ({e})"),
            })?;
            if recorded != dump {
                let mut differences = Vec::new();
                for file in dump {
                    match recorded.iter().find(|r| r.name == file.name) {
                        Some(was) if was == file => {}
                        Some(was) => differences.push(format!("{file}; the database holds {was}")),
                        None => differences.push(format!("{file} is not a file of the dump the database holds")),
                    }
                }
                for was in &recorded {
                    if !dump.iter().any(|f| f.name == was.name) {
                        differences.push(format!("the dump the database holds had {was}"));
                    }
                }
                return Err(ReplayError::OtherDump { db: db.to_owned(), site: recorded_site, differences });
            }
            Ok(())
        }
        None => {
            let (members, posts, events) = forum_content(conn)?;
            if members + posts + events > 0 {
                return Err(ReplayError::NotAReplay {
                    db: db.to_owned(),
                    detail: format!(
                        "it holds {members} member(s), {posts} post(s) and categories and {events} event(s) that no \
                         replay wrote (a live forum, or a replay made before replays recorded their dump)"
                    ),
                });
            }
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS replay_source (
                     id         INTEGER PRIMARY KEY CHECK (id = 1),
                     site       TEXT NOT NULL,
                     files      TEXT NOT NULL      -- JSON: [{name, size, ends_sha256}] of Posts, Votes, Users
                 )",
            )?;
            let files = serde_json::to_string(dump).expect("identities serialize");
            conn.execute("INSERT INTO replay_source (id, site, files) VALUES (1, ?1, ?2)", params![site, files])?;
            Ok(())
        }
    }
}
