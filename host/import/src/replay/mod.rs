//! Replaying a Stack Exchange site's history (`Posts.xml`, `Votes.xml`, `Users.xml`; plain, `.xz` or `.gz`)
//! through the forum's import API and the installed program: the real component, durable SQLite, the ledger.
//!
//! The mapping is `../shared/data/stackexchange/PRESET.md`: members from Users.xml; questions and answers from
//! Posts.xml (other post types carry no points); upvotes (VoteTypeId 2) as likes with an unknown liker and
//! accepts (VoteTypeId 1) as imported accepts, in (vote day, vote id) order; votes on deleted posts skipped; a post
//! is community wiki from the start of the UTC day of its `CommunityOwnedDate` (votes are dated 00:00 of their day,
//! so "on or after that day" holds exactly). `Badges.xml` is not read: badges are not part of the forum model.
//!
//! Modules: [`source`] (files, decompression, streaming XML), [`dump`] (pre-passes: post index, votes),
//! [`post_index`] (the posts by id in bounded memory: a map, moved to a scratch table past a bound),
//! [`sorted_votes`] (the votes in replay order in bounded memory: sorted runs spilled to disk and merged),
//! [`scratch`] (the replay's private SQLite scratch databases), [`feed`] (the event sequence fed to the forum,
//! batches, resume), [`summary`], [`fidelity`] and [`reputation`] (the report), [`progress`].
//!
//! Memory: what grows with the dump is bounded — the post index ([`Options::posts_in_memory`]), the votes
//! ([`Options::votes_in_memory`]), the users' reputation (a scratch table), the members by Stack Exchange id (the
//! forum's own members table, indexed by it); see `docs/replay.md`, "Memory", for what still grows.

pub mod dump;
pub mod feed;
pub mod fidelity;
pub mod identity;
pub mod post_index;
pub mod progress;
pub mod reputation;
pub mod scratch;
pub mod sorted_votes;
pub mod source;
pub mod summary;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use cadre_core::Forum;
use cadre_core::forum::ForumError;
use cadre_runtime::Runtime;
use source::DumpFile;

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A dump file is missing.
    #[error("{dir}: no {name}.xml, {name}.xml.xz or {name}.xml.gz")]
    Missing {
        /// The site folder.
        dir: PathBuf,
        /// `Posts`, `Votes`, `Users`.
        name: String,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A row of a dump file is malformed.
    #[error("{file}, row {row}: {detail}")]
    Xml {
        /// The file.
        file: PathBuf,
        /// The row's position (1-based; rows are one per line after two header lines).
        row: u64,
        /// What is wrong.
        detail: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The forum failed.
    #[error(transparent)]
    Forum(#[from] ForumError),
    /// The settings were refused by the program.
    #[error("the program refused the settings:\n{0}")]
    Settings(String),
    /// The database was replayed before with other settings.
    #[error("{0} holds a replay made with other settings; use another --db (or the same settings) to resume")]
    OtherSettings(PathBuf),
    /// The database's last replayed event is not in this dump.
    #[error("the database's last replayed event {last:?} is not in this dump: it holds a replay of another dump")]
    MarkerNotInDump {
        /// The external id of the last replayed event.
        last: String,
    },
    /// The database holds a replay of another dump (or another version of this one).
    #[error(
        "{} holds a replay of another dump of {site} than this one, and a replay database resumes only the dump it \
         was started with:\n  {}\nReplay this dump into a new database (--db NEW.db), or use the files it holds.",
        db.display(), differences.join("\n  ")
    )]
    OtherDump {
        /// The database.
        db: PathBuf,
        /// The site the database holds.
        site: String,
        /// How this dump's files differ from the ones the database holds.
        differences: Vec<String>,
    },
    /// The database was not created by a replay: a replay never writes into a live forum.
    #[error(
        "{} is not a replay database: {detail}. A replay writes only into a database it created; give it a new \
         file with --db (mind CADRE_DB: it names the database when --db is absent)",
        db.display()
    )]
    NotAReplay {
        /// The database.
        db: PathBuf,
        /// What it holds.
        detail: String,
    },
    /// The replay stopped part-way: what is committed, and how to resume.
    #[error(
        "{error}\nThe replay stopped. Committed in {}: {members} member(s) and {events} event(s) of this dump{}; \
         the batch in progress was rolled back. To resume, run the same command again with the same dump files: it \
         skips what is committed. (A replay database resumes only the dump it was started with: if a file must \
         change, replay into a new --db.)",
        db.display(),
        last.as_deref().map(|l| format!(" (the last: {l})")).unwrap_or_default()
    )]
    Stopped {
        /// Why.
        error: Box<ReplayError>,
        /// The database.
        db: PathBuf,
        /// Members committed.
        members: i64,
        /// Replay events committed.
        events: i64,
        /// The last replay event committed.
        last: Option<String>,
    },
}

/// What to replay, where, under which settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The site folder (`…/cardano.stackexchange.com`).
    pub site: PathBuf,
    /// The program's settings (TOML; a preset's text).
    pub settings: String,
    /// The forum database (created, or resumed).
    pub db: PathBuf,
    /// No progress display.
    pub quiet: bool,
    /// Items per transaction ([`feed::BATCH`] by default).
    pub batch: usize,
    /// Accepts and upvotes sorted in memory before sorted runs spill to a temporary file
    /// ([`sorted_votes::VOTES_IN_MEMORY`] by default): bounds the replay's memory whatever the dump's size.
    pub votes_in_memory: usize,
    /// Posts indexed in memory before the index moves to a scratch table on disk
    /// ([`post_index::POSTS_IN_MEMORY`] by default; 0: on disk from the first post): bounds the replay's memory
    /// whatever the dump's size. Past it, the forum's sub-journals past 64 KiB go to a temporary file too (the
    /// full-text index's merges held them in memory, growing with the dump).
    pub posts_in_memory: usize,
}

/// A finished replay.
#[derive(Debug)]
pub struct Replayed {
    /// The report.
    pub report: summary::Report,
    /// Points per Stack Exchange user id, for users with non-zero points.
    pub points: BTreeMap<i64, i64>,
}

/// Replay the site into the database (resuming what an earlier run left), then report.
pub fn replay(options: &Options, runtime: Runtime) -> Result<Replayed, ReplayError> {
    let started = Instant::now();
    let dir = &options.site;
    let (posts_file, votes_file, users_file) =
        (DumpFile::find(dir, "Posts")?, DumpFile::find(dir, "Votes")?, DumpFile::find(dir, "Users")?);
    let site = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "site".into());
    let dump = identity::of(&[&posts_file, &votes_file, &users_file])?;
    let mut forum = Forum::open(&options.db, runtime)?;
    forum.checkpoint_in_background()?;
    identity::claim_or_check(forum.conn(), &options.db, &site, &dump)?;
    install(&mut forum, &options.settings, &options.db)?;

    memory("opened the forum");
    let mut index = dump::index_posts(&posts_file, options.posts_in_memory)?;
    memory("indexed the posts");
    let votes = dump::read_votes(&votes_file, &mut index, options.votes_in_memory)?;
    memory("sorted the votes");
    let stop = |forum: &Forum, error: ReplayError| stopped(forum, &options.db, error);
    let reputation = import_users(&mut forum, &users_file).map_err(|e| stop(&forum, e))?;
    memory("imported the users");
    let category = forum.ensure_category("stackexchange", &site, None).map_err(|e| stop(&forum, e.into()))?;

    let census = index.census()?;
    if index.spilled() {
        // A dump past the post index's bound: sub-journals past SQLite's 64 KiB go to a temporary file. The forum
        // keeps them in memory (`temp_store = MEMORY`: an event's savepoint costs no system call), but at each batch's
        // commit the deferred full-text index of its posts merges FTS5 segments under one statement journal, which
        // then held a copy of every page the merge reused — 225 MiB at 263,000 posts, growing with the dump. On disk
        // it costs system calls (a ×100 Cardano replay: 29 s of system time instead of 13), so only past the bound.
        forum.conn().pragma_update(None, "temp_store", "FILE").map_err(|e| stop(&forum, e.into()))?;
    }
    let items = census.counting + votes.events.len();
    let mut progress = progress::Progress::new(items, options.quiet);
    let mut counts = summary::Counts::default();
    let before = event_count(&forum)?;
    // A first replay leaves the indexes only readers use to the end (an interrupted one, to the run that resumes it).
    let deferred = forum.defer_read_indexes().map_err(|e| stop(&forum, e.into()))?;
    let mut target = feed::Target { forum: &mut forum, index: &mut index, category };
    let run = feed::run(&mut target, &posts_file, &votes.events, options.batch.max(1), &mut progress, &mut counts);
    progress.finish();
    if deferred {
        forum.build_read_indexes().map_err(|e| stop(&forum, e.into()))?;
        memory("built the deferred indexes");
    }
    memory("replayed the events");
    run.map_err(|e| stop(&forum, e))?;
    let delivered = event_count(&forum)? - before;

    let points = points_by_user(&forum)?;
    let caps = caps(&mut forum)?;
    memory("read the points and the caps");
    let (earned_nothing, skipped) = summary::classify(&mut index, &votes).map_err(|e| stop(&forum, e))?;
    memory("classified the votes");
    let points_map: HashMap<i64, i64> = points.iter().map(|(u, p)| (*u, *p)).collect();
    let fidelity = reputation.fidelity(&points_map, &votes.downvotes, &votes.bounties)?;
    memory("computed the fidelity");
    let seconds = started.elapsed().as_secs_f64();
    let report = summary::Report {
        site,
        posts: census.posts,
        users: reputation.users()?,
        votes_by_type: votes.by_type.clone(),
        events: {
            let events = events_by_kind(&forum)?;
            memory("counted the events by kind");
            events
        },
        deleted_questions: forum.conn().query_row(
            "SELECT COUNT(*) FROM events WHERE external_id LIKE 'se:deleted-question:%'",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64,
        skipped,
        earned_nothing,
        caps,
        members_with_points: points.len() as u64,
        total_points: points.values().sum(),
        fidelity,
        run: counts,
        seconds,
        events_per_second: delivered as f64 / seconds.max(1e-9),
    };
    Ok(Replayed { report, points })
}

/// A replay that stopped part-way, with what is committed (read back from the database).
fn stopped(forum: &Forum, db: &Path, error: ReplayError) -> ReplayError {
    let conn = forum.conn();
    let members = conn.query_row("SELECT COUNT(*) FROM members", [], |r| r.get(0)).unwrap_or(0);
    let events = event_count(forum).unwrap_or(0);
    let last = feed::resume_marker(forum).ok().flatten();
    ReplayError::Stopped { error: Box::new(error), db: db.to_owned(), members, events, last }
}

/// Install the bundled program with these settings, or check that the database's program has them.
fn install(forum: &mut Forum, settings: &str, db: &Path) -> Result<(), ReplayError> {
    if forum.program_name().is_none() {
        forum.install(cadre_bundled::PROGRAM_WASM, "cadre replay", 0)?;
        forum.configure(settings, "cadre replay", 0).map_err(|error| match error {
            ForumError::Settings(errors) => ReplayError::Settings(cadre_core::error::render_errors(&errors)),
            other => other.into(),
        })?;
        return Ok(());
    }
    let current: String = forum.conn().query_row("SELECT settings FROM program", [], |r| r.get(0))?;
    if current != settings {
        return Err(ReplayError::OtherSettings(db.to_owned()));
    }
    Ok(())
}

/// Import every user as a member (idempotent), in batches; returns the real reputations by user id (the members
/// by user id are the forum's members table, indexed by external id).
fn import_users(forum: &mut Forum, file: &DumpFile) -> Result<reputation::Reputations, ReplayError> {
    let mut reputation = reputation::Reputations::new()?;
    let mut rows = file.rows()?;
    let mut done = false;
    while !done {
        forum.batch(|forum| {
            for _ in 0..feed::BATCH {
                let row = match rows.next() {
                    Ok(Some(row)) => row,
                    Ok(None) => {
                        done = true;
                        break;
                    }
                    Err(error) => return Ok(Err(error)),
                };
                let user = match dump::user(file, &row) {
                    Ok(user) => user,
                    Err(error) => return Ok(Err(error)),
                };
                forum.import_member(&user.id.to_string(), &user.name, user.joined_at)?;
                if let Err(error) = reputation.insert(user.id, user.reputation) {
                    return Ok(Err(error.into()));
                }
            }
            Ok(Ok(()))
        })??;
    }
    Ok(reputation)
}

fn event_count(forum: &Forum) -> Result<i64, ReplayError> {
    Ok(forum.conn().query_row("SELECT COUNT(*) FROM events WHERE external_id LIKE 'se:%'", [], |r| r.get(0))?)
}

/// The replay's events by kind, counted here as they stream by: SQLite's `GROUP BY kind` sorted every event first
/// (no index on kind), which took 36 MiB more at a million events and grew with the log.
fn events_by_kind(forum: &Forum) -> Result<BTreeMap<String, u64>, ReplayError> {
    let mut statement = forum.conn().prepare("SELECT kind FROM events WHERE external_id LIKE 'se:%'")?;
    let mut rows = statement.query([])?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        *counts.entry(row.get::<_, String>(0)?).or_default() += 1;
    }
    Ok(counts)
}

/// Points per Stack Exchange user id (members with non-zero points).
fn points_by_user(forum: &Forum) -> Result<BTreeMap<i64, i64>, ReplayError> {
    let mut statement = forum.conn().prepare(
        "SELECT m.external_id, p.total FROM points p JOIN members m ON m.id = p.member_id \
         WHERE p.total != 0 AND m.external_id IS NOT NULL",
    )?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut points = BTreeMap::new();
    for row in rows {
        let (user, total) = row?;
        if let Ok(user) = user.parse::<i64>() {
            points.insert(user, total);
        }
    }
    Ok(points)
}

/// Members whose points the daily cap withheld, from the program's own record of each member with points.
fn caps(forum: &mut Forum) -> Result<summary::Caps, ReplayError> {
    let members: Vec<(i64, String)> = forum
        .conn()
        .prepare(
            "SELECT p.member_id, m.external_id FROM points p JOIN members m ON m.id = p.member_id \
             WHERE m.external_id IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let now: i64 = forum.conn().query_row("SELECT COALESCE(MAX(at), 0) FROM events", [], |r| r.get(0))?;
    let mut caps = summary::Caps::default();
    let mut withheld: Vec<(i64, i64)> = Vec::new();
    let Some(plugin) = forum.plugin_mut() else { return Ok(caps) };
    for (member, user) in members {
        let figures = plugin
            .member_record(member as u64, now)
            .map_err(|e| ReplayError::Forum(ForumError::Invalid(format!("member record of {member}: {e}"))))?;
        let lost = figures.iter().find(|f| f.key == "points-withheld-by-caps").map_or(0.0, |f| f.value) as i64;
        if lost > 0 {
            withheld.push((user.parse().unwrap_or(0), lost));
        }
    }
    caps.members = withheld.len() as u64;
    caps.points_withheld = withheld.iter().map(|(_, p)| p).sum();
    withheld.sort_by_key(|(user, p)| (-p, *user));
    caps.top = withheld.into_iter().take(10).collect();
    Ok(caps)
}

/// Write `user_id,points` for every user with non-zero points, sorted by user id.
pub fn write_per_user(points: &BTreeMap<i64, i64>, path: &Path) -> std::io::Result<()> {
    let mut out = String::from("user_id,points\n");
    for (user, total) in points {
        out.push_str(&format!("{user},{total}\n"));
    }
    std::fs::write(path, out)
}

/// Log (at debug level, `RUST_LOG=cadre_import=debug`) this process's resident memory and its peak so far after a
/// stage of the replay: where a large dump's memory goes.
fn memory(stage: &str) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return };
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
    };
    if let (Some(rss), Some(peak)) = (field("VmRSS:"), field("VmHWM:")) {
        tracing::debug!("{stage}: resident {} MiB, peak {} MiB", rss / 1024, peak / 1024);
    }
}
