//! `cadre discourse import BACKUP.tar.gz`: a community's history from the backup every Discourse admin can
//! download, instead of the admin API (60 requests a minute for the whole site: days for a real forum).
//!
//! The backup is a `.tar.gz` holding `dump.sql.gz` (older ones `dump.sql`), a plain-format `pg_dump`. It is streamed:
//! the tar is read entry by entry (only the dump is opened; uploads are skipped unread), the dump line by line, and
//! only the `COPY public.<table> (<columns>) FROM stdin;` blocks of `users`, `categories`, `topics`, `posts`,
//! `post_actions`, `discourse_solved_solved_topics`, `discourse_solved_topic_answers` and `topic_custom_fields` are
//! read — by column name, never position; every other table (password hashes, emails, private messages' other
//! tables…) is skipped line by line and nothing of it is kept. Of those tables only the columns Cadre needs are kept,
//! in a scratch database beside nothing (a temporary file), because pg_dump writes tables in name order (`post_actions`
//! before `posts`, `posts` before `topics`, `topics` before `users`) and events need the opposite.
//!
//! Then the history is recorded in time order through the same code as webhooks (`webhook`): the same filters
//! (private messages, whispers, small actions, deleted posts, categories), the same dedup keys — so importing again,
//! resuming after kill -9, or the webhooks that follow the backup never double anything. Likes removed later (a
//! `post_actions` row with `deleted_at`) become a like and an unlike. Accepted answers come from
//! `discourse_solved_topic_answers` when present, else `discourse_solved_solved_topics`, else `topic_custom_fields`
//! (`accepted_answer_post_id`), as the plugin moved them. Events are committed in batches of [`BATCH`].

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use rusqlite::Connection;
use serde_json::{Value, json};

use cadre_core::Forum;

use crate::settings::DiscourseSettings;
use crate::webhook::{self, parse_time};

/// Events per transaction (a crash loses at most one batch, which the next run redoes). 5,000 rather than 1,000:
/// each commit flushes the program's key-value cache, may checkpoint the WAL and syncs; at 1,000 the commits took a
/// fifth of the import's time (docs/discourse.md, step 5).
pub const BATCH: usize = 5000;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a Discourse backup.
    #[error("{0}")]
    Format(String),
    /// The scratch database or the forum failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The forum refused.
    #[error(transparent)]
    Forum(#[from] cadre_core::forum::ForumError),
    /// A row could not be recorded.
    #[error(transparent)]
    Webhook(#[from] webhook::WebhookError),
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows read from the tables Cadre uses.
    pub rows: u64,
    /// Events recorded (not counting those recorded by an earlier run).
    pub recorded: u64,
    /// Rows already recorded (earlier run, webhooks).
    pub duplicates: u64,
    /// Rows skipped by the filters.
    pub skipped: u64,
}

/// The tables and columns kept, per table.
const KEEP: &[(&str, &[&str])] = &[
    ("users", &["id", "username", "created_at"]),
    ("categories", &["id", "slug", "name"]),
    ("topics", &["id", "title", "category_id", "archetype", "deleted_at"]),
    ("posts", &["id", "topic_id", "user_id", "post_number", "post_type", "wiki", "created_at", "deleted_at", "hidden"]),
    ("post_actions", &["post_id", "user_id", "post_action_type_id", "created_at", "deleted_at"]),
    ("discourse_solved_solved_topics", &["topic_id", "answer_post_id", "created_at"]),
    ("discourse_solved_topic_answers", &["answer_post_id", "created_at"]),
    ("topic_custom_fields", &["topic_id", "name", "value", "created_at"]),
];

/// One field of PostgreSQL's COPY text format: `\N` is NULL; backslash escapes.
pub fn copy_field(raw: &str) -> Option<String> {
    if raw == "\\N" {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    Some(out)
}

/// `COPY public.posts (id, "position", …) FROM stdin;` → (table, columns).
fn copy_header(line: &str) -> Option<(String, Vec<String>)> {
    let rest = line.strip_prefix("COPY ")?.strip_suffix(" FROM stdin;")?;
    let open = rest.find(" (")?;
    let table = rest[..open].trim_start_matches("public.").trim_matches('"').to_owned();
    let columns = rest[open + 2..].strip_suffix(')')?.split(", ").map(|c| c.trim_matches('"').to_owned()).collect();
    Some((table, columns))
}

/// Read a tar stream up to the entry named `dump.sql.gz` or `dump.sql`; returns (is gzipped, the entry's bytes).
fn dump_entry<R: Read + 'static>(mut tar: R) -> Result<(bool, Box<dyn Read>), BackupError> {
    let io = |source| BackupError::Io { path: "the backup".into(), source };
    loop {
        let mut header = [0u8; 512];
        if tar.read_exact(&mut header).is_err() || header.iter().all(|&b| b == 0) {
            return Err(BackupError::Format(
                "the backup holds no dump.sql.gz or dump.sql: is it a Discourse backup?".into(),
            ));
        }
        let field = |range: std::ops::Range<usize>| {
            String::from_utf8_lossy(&header[range]).trim_end_matches('\0').trim().to_owned()
        };
        let (name, prefix) = (field(0..100), field(345..500));
        let name = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let size = u64::from_str_radix(&field(124..136), 8)
            .map_err(|_| BackupError::Format(format!("a tar header for {name:?} has no size")))?;
        let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
        if base == "dump.sql.gz" || base == "dump.sql" {
            return Ok((base.ends_with(".gz"), Box::new(tar.take(size))));
        }
        let padded = size.div_ceil(512) * 512;
        std::io::copy(&mut (&mut tar).take(padded), &mut std::io::sink()).map_err(io)?;
    }
}

/// Stream the backup's dump into the scratch database `scratch` (one table per kept table, text columns).
fn stage(backup: &Path, scratch: &Connection, progress: &indicatif::ProgressBar) -> Result<u64, BackupError> {
    let io = |source| BackupError::Io { path: backup.display().to_string(), source };
    let file = std::fs::File::open(backup).map_err(io)?;
    let counted = progress.wrap_read(file);
    let tar = flate2::read::GzDecoder::new(counted);
    let (gzipped, dump) = dump_entry(tar)?;
    let dump: Box<dyn Read> = if gzipped { Box::new(flate2::read::GzDecoder::new(dump)) } else { dump };
    for (table, columns) in KEEP {
        let cols: Vec<String> = columns.iter().map(|c| format!("\"{c}\" TEXT")).collect();
        scratch.execute_batch(&format!("CREATE TABLE IF NOT EXISTS \"{table}\" ({});", cols.join(", ")))?;
    }
    scratch.execute_batch("BEGIN")?;
    let mut rows = 0;
    let mut current: Option<(&str, Vec<Option<usize>>)> = None;
    for line in BufReader::with_capacity(1 << 16, dump).split(b'\n') {
        let line = line.map_err(io)?;
        let line = String::from_utf8_lossy(&line);
        match &current {
            None => {
                if let Some((table, columns)) = copy_header(&line)
                    && let Some((name, keep)) = KEEP.iter().find(|(t, _)| *t == table)
                {
                    // Where each kept column sits in this dump's rows (`None`: this version lacks it).
                    let positions = keep.iter().map(|k| columns.iter().position(|c| c == k)).collect();
                    current = Some((name, positions));
                }
            }
            Some(_) if line == "\\." => current = None,
            Some((table, positions)) => {
                let fields: Vec<&str> = line.split('\t').collect();
                let values: Vec<Option<String>> =
                    positions.iter().map(|p| p.and_then(|p| fields.get(p)).and_then(|f| copy_field(f))).collect();
                let marks: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
                scratch
                    .prepare_cached(&format!("INSERT INTO \"{table}\" VALUES ({})", marks.join(", ")))?
                    .execute(rusqlite::params_from_iter(values.iter()))?;
                rows += 1;
            }
        }
    }
    scratch.execute_batch("COMMIT")?;
    Ok(rows)
}

fn tally(report: &mut ImportReport, handled: &webhook::Handled) {
    match handled {
        webhook::Handled::Recorded { .. } => report.recorded += 1,
        webhook::Handled::Duplicate => report.duplicates += 1,
        webhook::Handled::Noted(_) => {}
        webhook::Handled::Skipped(_) => report.skipped += 1,
    }
}

/// The post payload a webhook would carry, from the staged tables.
const POST_ROW: &str = "SELECT p.id, p.topic_id, p.user_id, p.post_number, p.post_type, p.wiki, p.created_at, p.deleted_at, \
     t.archetype, t.category_id, t.title, t.deleted_at, u.username, c.slug \
     FROM posts p JOIN topics t ON t.id = p.topic_id LEFT JOIN users u ON u.id = p.user_id \
     LEFT JOIN categories c ON c.id = t.category_id";

fn post_payload(row: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let int = |i: usize| -> rusqlite::Result<i64> {
        Ok(row.get::<_, Option<String>>(i)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    };
    let text = |i: usize| -> rusqlite::Result<Option<String>> { row.get(i) };
    let created = text(6)?.and_then(|t| pg_time(&t)).unwrap_or(0);
    let deleted = text(7)?.is_some() || text(11)?.is_some();
    Ok(json!({
        "id": int(0)?, "topic_id": int(1)?, "user_id": int(2)?, "post_number": int(3)?, "post_type": int(4)?,
        "wiki": text(5)?.as_deref() == Some("t"),
        "created_at": chrono::DateTime::from_timestamp_millis(created).unwrap_or_default().to_rfc3339(),
        "deleted_at": if deleted { json!("deleted") } else { Value::Null },
        "topic_archetype": text(8)?.unwrap_or_else(|| "regular".into()),
        "category_id": text(9)?.and_then(|c| c.parse::<u64>().ok()),
        "topic_title": text(10)?, "username": text(12)?.unwrap_or_else(|| "deleted".into()), "category_slug": text(13)?,
    }))
}

/// Record `rows` with `record`, [`BATCH`] per transaction. A row that fails stops the import (what was committed
/// stays; the next run skips it by key).
fn in_batches<T>(
    forum: &mut Forum,
    rows: impl Iterator<Item = rusqlite::Result<T>>,
    bar: &indicatif::ProgressBar,
    report: &mut ImportReport,
    mut record: impl FnMut(&mut Forum, T, &mut ImportReport) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let chunk: Vec<T> = rows.by_ref().take(BATCH).collect::<Result<_, _>>()?;
        let mut failure = None;
        let mut counted = ImportReport::default();
        let result = forum.batch(|forum| {
            for row in chunk {
                if let Err(error) = record(forum, row, &mut counted) {
                    failure = Some(error);
                    return Err(cadre_core::forum::ForumError::Invalid("a row of the backup was refused".into()));
                }
                bar.inc(1);
            }
            Ok(())
        });
        if let Some(error) = failure {
            return Err(error);
        }
        result?;
        report.recorded += counted.recorded;
        report.duplicates += counted.duplicates;
        report.skipped += counted.skipped;
    }
    Ok(())
}

/// A PostgreSQL timestamp (`2023-02-09 10:19:46.324` UTC, as Discourse stores them) in ms.
pub fn pg_time(text: &str) -> Option<i64> {
    let iso = format!("{}Z", text.replacen(' ', "T", 1).trim_end_matches("+00"));
    parse_time(&iso)
}

/// Import the backup into `forum`, with a progress bar on standard error (hidden when `quiet`).
pub fn import(
    forum: &mut Forum,
    settings: &DiscourseSettings,
    backup: &Path,
    quiet: bool,
) -> Result<ImportReport, BackupError> {
    let size = std::fs::metadata(backup)
        .map_err(|source| BackupError::Io { path: backup.display().to_string(), source })?
        .len();
    let bar = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(size) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:12} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("reading");
    forum.checkpoint_in_background()?;
    crate::tables::ensure(forum.conn())?;
    let scratch_file =
        tempfile::NamedTempFile::new().map_err(|source| BackupError::Io { path: "a temporary file".into(), source })?;
    let scratch = Connection::open(scratch_file.path())?;
    let mut report = ImportReport { rows: stage(backup, &scratch, &bar)?, ..ImportReport::default() };
    scratch.execute_batch(
        "CREATE INDEX IF NOT EXISTS topics_id ON topics(id); CREATE INDEX IF NOT EXISTS users_id ON users(id);",
    )?;

    // Users, then posts in time order, then likes and their removals, then accepted answers: each read from the
    // scratch database as it is recorded, BATCH rows per transaction, so memory stays flat however large the forum.
    let has_answers: bool =
        scratch.query_row("SELECT COUNT(*) > 0 FROM discourse_solved_topic_answers", [], |r| r.get(0))?;
    let has_solved: bool =
        scratch.query_row("SELECT COUNT(*) > 0 FROM discourse_solved_solved_topics", [], |r| r.get(0))?;
    let accepts_sql = if has_answers {
        "SELECT answer_post_id, created_at FROM discourse_solved_topic_answers ORDER BY created_at"
    } else if has_solved {
        "SELECT answer_post_id, created_at FROM discourse_solved_solved_topics ORDER BY created_at"
    } else {
        "SELECT value, created_at FROM topic_custom_fields WHERE name = 'accepted_answer_post_id' ORDER BY created_at"
    };
    let total: i64 = scratch.query_row(
        "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM posts) \
         + (SELECT COUNT(*) FROM post_actions WHERE post_action_type_id = '2')",
        [],
        |r| r.get(0),
    )?;
    bar.set_length(total.max(1) as u64);
    bar.set_position(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:12} [{bar:30}] {pos}/{len} ({eta})").expect("a valid template"),
    );
    bar.set_message("recording");
    let time = |value: Option<String>| value.and_then(|t| pg_time(&t)).unwrap_or(0);
    let number = |value: Option<String>| value.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);

    let mut users = scratch.prepare("SELECT id, username, created_at FROM users")?;
    let rows = users.query_map([], |r| Ok((number(r.get(0)?), r.get::<_, String>(1)?, time(r.get(2)?))))?;
    in_batches(forum, rows, &bar, &mut report, |forum, (id, name, joined), _| {
        if id > 0 {
            forum.import_member(&crate::tables::member_key(id), &name, joined)?;
            crate::tables::remember_username(forum.conn(), id, &name)?;
        }
        Ok(())
    })?;

    // A first import leaves the indexes only readers use to its end (see `Forum::defer_read_indexes`).
    let deferred = forum.defer_read_indexes()?;
    let recorded = record_history(forum, settings, &scratch, accepts_sql, &bar, &mut report);
    if deferred {
        forum.build_read_indexes()?;
    }
    recorded?;
    bar.finish_and_clear();
    Ok(report)
}

/// Record the backup's posts, likes and their removals, and accepted answers, in that order.
fn record_history(
    forum: &mut Forum,
    settings: &DiscourseSettings,
    scratch: &Connection,
    accepts_sql: &str,
    bar: &indicatif::ProgressBar,
    report: &mut ImportReport,
) -> Result<(), BackupError> {
    let time = |value: Option<String>| value.and_then(|t| pg_time(&t)).unwrap_or(0);
    let number = |value: Option<String>| value.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    // Every topic's first post before the answers (a moved post can be older than its new topic's first post), each
    // group in time order.
    let mut posts = scratch.prepare(&format!(
        "{POST_ROW} ORDER BY CAST(p.post_number AS INTEGER) > 1, p.created_at, CAST(p.id AS INTEGER)"
    ))?;
    let rows = posts.query_map([], |r| Ok((time(r.get(6)?), post_payload(r)?)))?;
    in_batches(forum, rows, bar, report, |forum, (at, post), report| {
        tally(report, &webhook::handle(forum, settings, "post_created", &json!({ "post": post }), at)?);
        Ok(())
    })?;

    // Each like's generation (the how-many-th like of this pair, in the backup's order): the same key on every run.
    let mut likes = scratch.prepare(
        "SELECT CAST(a.post_id AS INTEGER), CAST(a.user_id AS INTEGER), u.username, a.created_at, a.deleted_at, \
                ROW_NUMBER() OVER (PARTITION BY a.post_id, a.user_id ORDER BY a.created_at) - 1 \
         FROM post_actions a JOIN users u ON u.id = a.user_id WHERE a.post_action_type_id = '2' ORDER BY a.created_at",
    )?;
    let rows = likes.query_map([], |r| {
        let removed: Option<String> = r.get(4)?;
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            time(r.get(3)?),
            removed.and_then(|t| pg_time(&t)),
            r.get::<_, i64>(5)?,
        ))
    })?;
    in_batches(forum, rows, bar, report, |forum, (post, user, name, at, removed, generation), report| {
        tally(report, &webhook::like_with_generation(forum, post, user, &name, at, Some(generation))?);
        if let Some(removed) = removed {
            tally(report, &webhook::unlike_by_id(forum, post, user, removed)?);
        }
        Ok(())
    })?;

    let mut accepts = scratch.prepare(accepts_sql)?;
    let rows = accepts.query_map([], |r| Ok((number(r.get(0)?), time(r.get(1)?))))?;
    in_batches(forum, rows, bar, report, |forum, (post, at), report| {
        tally(report, &webhook::solved_by_id(forum, post, true, at)?);
        Ok(())
    })
}
