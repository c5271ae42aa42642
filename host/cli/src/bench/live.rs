//! `cadre bench live`: one like through the web to the badge visible, timed end to end, many times over.
//!
//! The forum is [`web::prepare`]'s, served by the real `cadre serve` binary on 127.0.0.1 ([`web::Server`]). On it
//! [`seed_authors`] adds authors, each with one answer already liked by four distinct members (through the JSON
//! Lines importer, a day before: untimed, and cold in the server's caches as an author's earlier likes are). Then,
//! for each author, one more member (a probe account, logged in through `/api/login`) likes the answer through the
//! JSON API with its CSRF header: the author's fifth distinct liker, which earns the demo's "Well liked" badge. The
//! sample is the time from sending that `POST` to the first anonymous `GET /api/u/NAME` whose badges include it,
//! polled at once and again with no pause. The like's `POST` alone and each profile read are kept apart, and so are
//! the samples during which the database file was written (SQLite's automatic WAL checkpoint, the only writer of
//! that file in WAL mode; seen from its modification time, read outside the timed window), to show where the time
//! goes. One phase on the otherwise idle server, and with `--under-load M` a second one (other
//! authors) while [`web::drive_beside`] sends M members' load. Bounded: a sample gives up after
//! [`SAMPLE_TIMEOUT`], a phase after [`PHASE_LIMIT`].
//!
//! Owns this measurement and its report. Does not own the forum's preparation, the server, the HTTP client or the
//! load (all `web`'s and `http`'s), nor the badge rule (the bundled program under the demo's settings).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use serde_json::json;

use super::http::Client;
use super::web::{self, Beside, Figures, Latency, Seeded, Server, Session};

/// The badge the fifth distinct liker earns under the demo's settings (`well-liked`, `distinct-likers = 5`).
pub const BADGE: &str = "Well liked";
/// Likes each author has before the timed one (from distinct members).
pub const EARLIER_LIKES: usize = 4;
/// A sample whose badge is not visible by then is an error.
pub const SAMPLE_TIMEOUT: Duration = Duration::from_secs(5);
/// A phase stops taking samples after this long (the samples not taken are errors).
pub const PHASE_LIMIT: Duration = Duration::from_secs(300);
/// The goal of issue 16 for the like → badge p99; the report counts the samples over it.
pub const GOAL: Duration = Duration::from_millis(5);
/// Authors' answers per seeded topic.
const ANSWERS_PER_TOPIC: usize = 100;

/// What to run.
#[derive(Debug, Clone)]
pub struct LivePlan {
    /// Timed likes per phase (each on its own author).
    pub likes: usize,
    /// Members sending the bench's load during a second phase (0: the idle phase only).
    pub under_load: usize,
    /// The load's pause after each write.
    pub think: Duration,
}

/// An author waiting for the timed like: their name and their answer's public id.
#[derive(Debug, Clone, Serialize)]
pub struct Author {
    /// The member's name (their profile is `/api/u/{name}`).
    pub name: String,
    /// The answer the four earlier likes are on, and the timed one will be.
    pub post: String,
}

/// The figures of one phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// `idle`, or the load beside it.
    pub name: String,
    /// Samples asked for.
    pub asked: usize,
    /// From sending the like to the first profile read showing the badge (the figure against the goal).
    pub like_to_badge: Latency,
    /// The like's `POST` alone (sent to answered; the program has run when it is answered).
    pub like_post: Latency,
    /// Each profile read after the like (`GET /api/u/NAME`, sent to answered).
    pub profile_read: Latency,
    /// Samples over [`GOAL`] (like → badge).
    pub over_goal: usize,
    /// Like → badge of the samples during which the database file was written: SQLite's automatic WAL
    /// checkpoint ran (in WAL mode only a checkpoint writes it), copying the log's pages into the file and syncing.
    pub with_checkpoint: Latency,
    /// Like → badge of the other samples.
    pub without_checkpoint: Latency,
    /// Samples whose first profile read already showed the badge.
    pub first_read_showed: usize,
    /// Most profile reads one sample needed.
    pub most_reads: usize,
    /// Samples lost: a like refused or unanswered, a badge there before its like or not visible in time, a
    /// sample not taken within the phase's limit.
    pub errors: u64,
    /// The first few errors, in words.
    pub error_samples: Vec<String>,
    /// The load's own figures, when the phase ran under load.
    pub load: Option<Figures>,
}

/// A whole run of `cadre bench live`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What is timed, in words.
    pub timed: String,
    /// The phases: idle, then under load when asked.
    pub phases: Vec<Phase>,
    /// Posts in the forum when the timing began.
    pub posts: u64,
    /// Likes in the forum when the timing began.
    pub likes: u64,
    /// Seconds spent preparing the forum.
    pub seed_seconds: f64,
    /// What the run ran on, load average before the first phase and after the last (beside these in the JSON).
    #[serde(flatten)]
    pub conditions: web::RunConditions,
}

/// What the samples time, as the report says it.
pub const TIMED: &str = "from sending POST /api/p/ID/like (JSON API, X-Cadre-CSRF header, a logged-in member's \
keep-alive connection) by the author's fifth distinct liker, to the end of the first anonymous GET /api/u/NAME \
whose badges include \"Well liked\" (polled at once, no pause); the four earlier likes were seeded a day before, \
untimed";

/// Add `count` authors to the prepared forum (before it is served): members `live-a{i}`, one answer each in topics of
/// [`ANSWERS_PER_TOPIC`], each answer liked by [`EARLIER_LIKES`] distinct seeded members a day ago, through the
/// JSON Lines importer (so the program scored them). The topics' asker and the four likers are members
/// [`web::prepare`] seeded (`seed-w0`, `seed-l0` … `seed-l3`), none of whom is a timed liker.
pub fn seed_authors(seeded: &Seeded, count: usize) -> anyhow::Result<Vec<Author>> {
    let mut forum = web::open_forum(&seeded.db, &seeded.cache)?;
    let dir = seeded.db.parent().context("the database has no folder")?;
    let file = dir.join("live.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).context("writing the authors")?);
    let mut at = cadre_web::auth::now_ms() - 86_400_000;
    let mut tick = || {
        at += 1;
        web::rfc3339(at)
    };
    let joined = tick();
    for i in 0..count {
        writeln!(
            out,
            "{}",
            json!({"id": format!("u-live-a{i}"), "type": "member", "name": format!("live-a{i}"),
            "joined": joined})
        )?;
    }
    for i in 0..count {
        if i % ANSWERS_PER_TOPIC == 0 {
            let t = i / ANSWERS_PER_TOPIC;
            writeln!(
                out,
                "{}",
                json!({"id": format!("live-q{t}"), "type": "question", "author": "u-seed-w0",
                "category": web::CATEGORY, "title": format!("Live topic {t}"), "body": "Answers to like.",
                "at": tick()})
            )?;
        }
        writeln!(
            out,
            "{}",
            json!({"id": format!("live-p{i}"), "type": "answer", "author": format!("u-live-a{i}"),
            "question": format!("live-q{}", i / ANSWERS_PER_TOPIC), "body": format!("Live answer {i}."),
            "at": tick()})
        )?;
        for l in 0..EARLIER_LIKES {
            writeln!(
                out,
                "{}",
                json!({"id": format!("live-l{i}-{l}"), "type": "like",
                "liker": format!("u-seed-l{l}"), "post": format!("live-p{i}"), "at": tick()})
            )?;
        }
    }
    out.flush()?;
    drop(out);
    let report = cadre_import::ingest::ingest(&mut forum, &file).context("seeding the authors")?;
    anyhow::ensure!(report.program_failures == 0, "the program failed on {} seeded events", report.program_failures);
    std::fs::remove_file(&file).ok();
    let conn = forum.conn();
    let ids = cadre_core::forum::public_ids::PublicIds::load(conn)?;
    (0..count)
        .map(|i| {
            let post: i64 =
                conn.query_row("SELECT id FROM posts WHERE external_id = ?1", [format!("live-p{i}")], |row| {
                    row.get(0)
                })?;
            Ok(Author { name: format!("live-a{i}"), post: ids.post(post as u64) })
        })
        .collect()
}

/// Whether an answer of `GET /api/u/NAME` lists [`BADGE`].
fn has_badge(profile: &serde_json::Value) -> bool {
    profile["badges"].as_array().is_some_and(|badges| badges.iter().any(|b| b["name"] == BADGE))
}

/// What one phase measured, before the percentiles.
#[derive(Default)]
struct Samples {
    total_us: Vec<u64>,
    /// Whether the database file was written during each sample of `total_us`.
    checkpointed: Vec<bool>,
    post_us: Vec<u64>,
    read_us: Vec<u64>,
    first_read_showed: usize,
    most_reads: usize,
    errors: u64,
    error_samples: Vec<String>,
}

impl Samples {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 5 {
            self.error_samples.push(what);
        }
    }

    fn phase(self, name: String, asked: usize, load: Option<Figures>) -> Phase {
        let over_goal = self.total_us.iter().filter(|&&us| us >= GOAL.as_micros() as u64).count();
        let part = |checkpointed: bool| {
            Latency::of(
                self.total_us
                    .iter()
                    .zip(&self.checkpointed)
                    .filter(|(_, c)| **c == checkpointed)
                    .map(|(us, _)| *us)
                    .collect(),
            )
        };
        Phase {
            name,
            asked,
            over_goal,
            with_checkpoint: part(true),
            without_checkpoint: part(false),
            like_to_badge: Latency::of(self.total_us),
            like_post: Latency::of(self.post_us),
            profile_read: Latency::of(self.read_us),
            first_read_showed: self.first_read_showed,
            most_reads: self.most_reads,
            errors: self.errors,
            error_samples: self.error_samples,
            load,
        }
    }
}

/// When the database file `db` was last written (in WAL mode: the last checkpoint), read outside the timed window.
fn written(db: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(db).and_then(|m| m.modified()).ok()
}

/// Time the fifth like of each of `authors` (liked in turn by `likers`), read back by `reader`, noting whether the
/// database file `db` was written meanwhile; stop early when `going` says so (the load beside it ended).
fn sample(
    likers: &mut [Session],
    reader: &mut Client,
    authors: &[Author],
    db: &Path,
    going: &dyn Fn() -> bool,
) -> Samples {
    let mut out = Samples::default();
    // Untimed, before the phase: no author has the badge yet, so any badge seen later is the timed like's.
    for author in authors {
        match reader.get(&format!("/api/u/{}", author.name)) {
            Ok(answer) if answer.status == 200 && !has_badge(&answer.json()) => {}
            Ok(answer) => out.error(format!("{} before the like: {} {}", author.name, answer.status, answer.text())),
            Err(error) => out.error(format!("{} before the like: {error}", author.name)),
        }
    }
    if out.errors > 0 {
        return out;
    }
    let phase_started = Instant::now();
    for (i, author) in authors.iter().enumerate() {
        if phase_started.elapsed() > PHASE_LIMIT || !going() {
            let why = if going() { "the phase's time limit" } else { "the load ended" };
            out.error(format!("{} of {} samples not taken: {why}", authors.len() - i, authors.len()));
            out.errors += (authors.len() - i - 1) as u64;
            break;
        }
        let liker = &mut likers[i % likers.len()];
        let path = format!("/api/p/{}/like", author.post);
        let profile = format!("/api/u/{}", author.name);
        let written_before = written(db);
        let started = Instant::now();
        match liker.write(&path, &[]) {
            (Ok(answer), _) if answer.status == 200 => {}
            (Ok(answer), _) => {
                out.error(format!("POST {path}: {} {}", answer.status, answer.text()));
                continue;
            }
            (Err(error), _) => {
                out.error(format!("POST {path}: {error}"));
                continue;
            }
        }
        let post_us = started.elapsed().as_micros() as u64;
        let mut reads = 0;
        loop {
            let read_started = Instant::now();
            let answer = reader.get(&profile);
            let now = Instant::now();
            reads += 1;
            match answer {
                Ok(answer) if answer.status == 200 => {
                    out.read_us.push((now - read_started).as_micros() as u64);
                    if has_badge(&answer.json()) {
                        out.total_us.push((now - started).as_micros() as u64);
                        out.checkpointed.push(written(db) != written_before);
                        out.post_us.push(post_us);
                        out.first_read_showed += usize::from(reads == 1);
                        out.most_reads = out.most_reads.max(reads);
                        break;
                    }
                }
                Ok(answer) => {
                    out.error(format!("GET {profile}: {} {}", answer.status, answer.text()));
                    break;
                }
                Err(error) => {
                    out.error(format!("GET {profile}: {error}"));
                    break;
                }
            }
            if now - started > SAMPLE_TIMEOUT {
                out.error(format!("{}: the badge was not visible {SAMPLE_TIMEOUT:?} after the like", author.name));
                break;
            }
        }
    }
    out
}

/// Prepare a forum in `dir`, serve it with `exe`, time `plan.likes` likes to the badge on the idle server, then
/// (with `plan.under_load`) as many again under the bench's load; stop the server.
pub fn bench(exe: &Path, dir: &Path, plan: &LivePlan) -> anyhow::Result<Report> {
    let load_plan = web::Plan {
        members: plan.under_load,
        // Ended by the samples (the phase's limit bounds them); the load's own limits only as a backstop.
        duration: PHASE_LIMIT + Duration::from_secs(60),
        max_writes: u64::MAX,
        probe: false,
        think: plan.think,
        ..web::Plan::default()
    };
    let started = Instant::now();
    let seeded = web::prepare(dir, &load_plan)?;
    let phases = if plan.under_load > 0 { 2 } else { 1 };
    let authors = seed_authors(&seeded, plan.likes * phases)?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let (posts, likes) = counts(&seeded.db)?;
    let server = Server::start(exe, &seeded.db, &seeded.cache, SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = server.addr;
    let mut likers = seeded
        .probes
        .iter()
        .map(|name| web::log_in(addr, name, false))
        .collect::<anyhow::Result<Vec<Session>>>()
        .context("logging the likers in")?;
    let mut reader = Client::new(addr);
    let load_before = web::load_average();
    let (idle_authors, loaded_authors) = authors.split_at(plan.likes);
    let idle =
        sample(&mut likers, &mut reader, idle_authors, &seeded.db, &|| true).phase("idle".into(), plan.likes, None);
    let mut report_phases = vec![idle];
    if plan.under_load > 0 {
        let beside = Beside::default();
        let (samples, figures) = std::thread::scope(|scope| {
            let load = scope.spawn(|| web::drive_beside(addr, &seeded, &load_plan, &beside));
            // The load begins once its members have logged in (one at a time); bounded like a phase.
            let waiting = Instant::now();
            while !beside.started.load(Ordering::Relaxed) && !load.is_finished() && waiting.elapsed() < PHASE_LIMIT {
                std::thread::sleep(Duration::from_millis(10));
            }
            let samples = sample(&mut likers, &mut reader, loaded_authors, &seeded.db, &|| {
                beside.started.load(Ordering::Relaxed) && !load.is_finished()
            });
            beside.stop.store(true, Ordering::Relaxed);
            (samples, load.join().map_err(|_| anyhow::anyhow!("the load panicked")))
        });
        let figures = figures?;
        let name = format!("under the load of {} members ({:.0} writes/s)", plan.under_load, figures.writes_per_second);
        report_phases.push(samples.phase(name, plan.likes, Some(figures)));
    }
    let conditions = web::RunConditions::after(&server, load_before);
    server.kill();
    Ok(Report { timed: TIMED.to_owned(), phases: report_phases, posts, likes, seed_seconds, conditions })
}

/// Posts, and likes in force, in the database.
fn counts(db: &Path) -> anyhow::Result<(u64, u64)> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", db.display()))?;
    let posts: i64 = conn.query_row("SELECT COUNT(*) FROM posts", [], |row| row.get(0))?;
    let likes: i64 = conn.query_row("SELECT COUNT(*) FROM likes WHERE removed_at IS NULL", [], |row| row.get(0))?;
    Ok((posts as u64, likes as u64))
}

impl Report {
    /// Samples lost over all phases (the command exits 1 when there are any).
    pub fn errors(&self) -> u64 {
        self.phases.iter().map(|p| p.errors + p.load.as_ref().map_or(0, |l| l.errors)).sum()
    }

    /// The report as a table: per phase, the end-to-end row and, under it, where the time goes.
    pub fn render(&self) -> String {
        let row = |what: &str, l: &Latency| {
            format!("{what:<34} {:>7} {:>9.2} {:>9.2} {:>9.2}\n", l.count, l.p50_ms, l.p99_ms, l.max_ms)
        };
        let mut out = format!(
            "cadre bench live: one like through the web to the badge visible, over HTTP on 127.0.0.1 \
             ({})\n\
             forum: {} posts, {} likes; prepared in {:.1} s; server peak memory {}\n\
             timed: {}\n\
             goal (issue 16): p99 < 5 ms\n",
            self.conditions.describe(),
            self.posts,
            self.likes,
            self.seed_seconds,
            self.conditions.server_peak(),
            TIMED,
        );
        for phase in &self.phases {
            out.push_str(&format!(
                "\n{}: {} samples asked, {} errors\n{:<34} {:>7} {:>9} {:>9} {:>9}\n",
                phase.name, phase.asked, phase.errors, "latency (ms)", "count", "p50", "p99", "max"
            ));
            out.push_str(&row("like → badge visible", &phase.like_to_badge));
            out.push_str(&row("  the like's POST alone", &phase.like_post));
            out.push_str(&row("  each profile read after it", &phase.profile_read));
            out.push_str(&row("  samples with a WAL checkpoint", &phase.with_checkpoint));
            out.push_str(&row("  samples without one", &phase.without_checkpoint));
            out.push_str(&format!(
                "  {} of {} samples at or over the goal's {} ms; the first read showed the badge in {} (at most {} \
                 read(s))\n",
                phase.over_goal,
                phase.like_to_badge.count,
                GOAL.as_millis(),
                phase.first_read_showed,
                phase.most_reads
            ));
            if let Some(load) = &phase.load {
                out.push_str(&format!(
                    "  the load: {} writes acknowledged in {:.1} s, write p50 {:.2} / p99 {:.2} ms, {} errors\n",
                    load.writes, load.seconds, load.write_latency.p50_ms, load.write_latency.p99_ms, load.errors
                ));
                for sample in &load.error_samples {
                    out.push_str(&format!("  load error: {sample}\n"));
                }
            }
            for sample in &phase.error_samples {
                out.push_str(&format!("error: {sample}\n"));
            }
        }
        out
    }
}
