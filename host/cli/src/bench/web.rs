//! `cadre bench web`: the forum under load, over real HTTP on 127.0.0.1.
//!
//! [`prepare`] builds a forum database (the bundled program with the demo's settings, a `bench` category, seeded
//! topics, answers and likes through `cadre ingest`'s importer, members with passwords, a moderator); [`Server`]
//! runs the real `cadre serve` on it (a child process on a loopback port); [`drive`] sends the load: `members`
//! threads, each a member with one keep-alive connection, log in (half through `/api/login`, half through the
//! `/login` form with its CSRF token, as a browser does) and then ask, answer, like, unlike and accept — the API
//! members through the JSON API, the others through the forms (`303` expected) — while a moderator reads the panel
//! and a probe measures how long a like takes to show in its author's points and badges. Bounded in time and in
//! writes; it stops by itself. Every write is kept as an [`Op`] with its outcome, so the fault tests can check
//! afterwards that what was acknowledged is in the database exactly once.
//!
//! Owns the load and its figures. Does not own the server (the `cadre serve` binary, unchanged) nor any rule.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use serde_json::json;

use super::http::{Client, HttpError, Response, form_token};
use crate::rng::Rng;
use cadre_core::Forum;

/// The password every bench account has.
pub const PASSWORD: &str = "bench-password";
/// The moderator who reads the panel.
pub const MODERATOR: &str = "bench-mod";
/// The category the load writes in.
pub const CATEGORY: &str = "bench";
/// Probe members: each likes the others' answers and watches the points and badges arrive.
const PROBES: usize = 6;
/// Answers each probe member has, for the others to like.
const PROBE_ANSWERS: usize = 40;
/// Seed authors and seed likers (seeded content only).
const SEED_PEOPLE: usize = 50;
/// Likes each seeded answer gets when a forum size is asked for.
const LIKES_PER_ANSWER: u64 = 10;

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Concurrent members.
    pub members: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// Stop after this many writes, whatever the time.
    pub max_writes: u64,
    /// Likes in the forum before the load starts (answers get 10 each).
    pub seed_likes: u64,
    /// Answers per seeded topic.
    pub answers_per_topic: usize,
    /// Whether a moderator reads the panel during the load.
    pub moderator_reads: bool,
    /// Whether the like → points/badge probe runs.
    pub probe: bool,
    /// Only likes and answers (no unlike, no accept): every acknowledged write then leaves one row behind, which
    /// the kill -9 test counts.
    pub append_only: bool,
    /// Pause after each write (zero: as fast as the server answers).
    pub think: Duration,
    /// Seed of the members' choices.
    pub seed: u64,
    /// The load's members are `bench-m{first_member}` on (a second run on the same forum takes other members, who
    /// have liked nothing yet).
    pub first_member: usize,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            members: 32,
            duration: Duration::from_secs(10),
            max_writes: 1_000_000,
            seed_likes: 0,
            answers_per_topic: 300,
            moderator_reads: true,
            probe: true,
            append_only: false,
            think: Duration::ZERO,
            seed: 17,
            first_member: 0,
        }
    }
}

/// A post the load can act on, by its public id.
#[derive(Debug, Clone, Serialize)]
pub struct PostInfo {
    /// The post's public id (as in `/p/{id}`).
    pub id: String,
    /// The topic's public id.
    pub topic: String,
    /// Its author's name.
    pub author: String,
}

/// The forum [`prepare`] built: who can log in and what there is to act on.
#[derive(Debug, Clone, Serialize)]
pub struct Seeded {
    /// The database file.
    pub db: PathBuf,
    /// The artifact cache the server should use.
    pub cache: PathBuf,
    /// The load's members, by name (password [`PASSWORD`]).
    pub members: Vec<String>,
    /// The probe members.
    pub probes: Vec<String>,
    /// Seeded topics (public ids).
    pub topics: Vec<String>,
    /// Seeded answers.
    pub answers: Vec<PostInfo>,
    /// Each probe's answers.
    pub probe_answers: Vec<Vec<String>>,
    /// Likes in the forum before the load.
    pub seeded_likes: u64,
    /// Posts in the forum before the load.
    pub seeded_posts: u64,
    /// How long seeding took.
    pub seed_seconds: f64,
}

/// A time (ms since the epoch) as the importer reads it.
pub(super) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Build a forum database in `dir` for the load: the bundled program with the demo's settings, members with
/// passwords, seeded topics of `answers_per_topic` answers carrying `seed_likes` likes (10 per answer).
pub fn prepare(dir: &Path, plan: &Plan) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let db = dir.join("forum.db");
    let cache = dir.join("cache");
    anyhow::ensure!(!db.exists(), "{} exists already: the bench prepares a new database", db.display());
    let mut forum = open_forum(&db, &cache)?;
    let now = cadre_web::auth::now_ms();
    let start = now - 20 * 86_400_000;
    forum.install(cadre_bundled::PROGRAM_WASM, "system (bench)", start).context("installing the bundled program")?;
    forum.configure(crate::demo::SETTINGS, "system (bench)", start).context("configuring the program")?;

    // The seed, as a JSON Lines file through the importer (one transaction, every event through the program).
    let members: Vec<String> = (0..plan.members).map(|i| format!("bench-m{i}")).collect();
    let probes: Vec<String> = (0..PROBES).map(|i| format!("bench-p{i}")).collect();
    let writers: Vec<String> = (0..SEED_PEOPLE).map(|i| format!("seed-w{i}")).collect();
    let likers: Vec<String> = (0..SEED_PEOPLE).map(|i| format!("seed-l{i}")).collect();
    // Without a forum size: 20 topics of 10 answers to act on.
    let per_topic = if plan.seed_likes > 0 { plan.answers_per_topic.max(1) } else { 10 };
    let answer_count = if plan.seed_likes > 0 { plan.seed_likes.div_ceil(LIKES_PER_ANSWER) as usize } else { 200 };
    let topic_count = answer_count.div_ceil(per_topic);
    let file = dir.join("seed.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).context("writing the seed")?);
    let mut at = start + 60_000;
    let mut tick = || {
        at += 1;
        rfc3339(at)
    };
    let joined = rfc3339(start - 86_400_000);
    for name in [MODERATOR.to_owned()].iter().chain(&members).chain(&probes).chain(&writers).chain(&likers) {
        writeln!(out, "{}", json!({"id": format!("u-{name}"), "type": "member", "name": name, "joined": joined}))?;
    }
    writeln!(out, "{}", json!({"id": "c-bench", "type": "category", "slug": CATEGORY, "name": "Bench"}))?;
    let mut answer_ids = Vec::with_capacity(answer_count);
    let mut likes = 0u64;
    for t in 0..topic_count {
        let asker = &writers[t % SEED_PEOPLE];
        let title = format!("Seeded topic {t}");
        writeln!(
            out,
            "{}",
            json!({"id": format!("q{t}"), "type": "question", "author": format!("u-{asker}"),
            "category": CATEGORY, "title": title, "body": "A seeded question.", "at": tick()})
        )?;
        for _ in 0..per_topic.min(answer_count - answer_ids.len()) {
            let a = answer_ids.len();
            let author = &writers[(a * 7 + 1) % SEED_PEOPLE];
            writeln!(
                out,
                "{}",
                json!({"id": format!("a{a}"), "type": "answer", "author": format!("u-{author}"),
                "question": format!("q{t}"), "body": format!("Seeded answer {a}."), "at": tick()})
            )?;
            answer_ids.push((format!("a{a}"), author.clone()));
        }
    }
    // Likes after every post, ten distinct likers per answer, until the asked number.
    'likes: for round in 0..LIKES_PER_ANSWER as usize {
        for (a, (id, _)) in answer_ids.iter().enumerate() {
            if likes >= plan.seed_likes {
                break 'likes;
            }
            let liker = &likers[(a + round) % SEED_PEOPLE];
            writeln!(
                out,
                "{}",
                json!({"id": format!("l{likes}"), "type": "like", "liker": format!("u-{liker}"),
                "post": id, "at": tick()})
            )?;
            likes += 1;
        }
    }
    // The probes' answers, in one topic of their own.
    writeln!(
        out,
        "{}",
        json!({"id": "qp", "type": "question", "author": format!("u-{}", writers[0]),
        "category": CATEGORY, "title": "Probe topic", "body": "Probes answer here.", "at": tick()})
    )?;
    for (p, probe) in probes.iter().enumerate() {
        for n in 0..PROBE_ANSWERS {
            writeln!(
                out,
                "{}",
                json!({"id": format!("p{p}-{n}"), "type": "answer", "author": format!("u-{probe}"),
                "question": "qp", "body": format!("Probe answer {p}/{n}."), "at": tick()})
            )?;
        }
    }
    out.flush()?;
    drop(out);
    let report = cadre_import::ingest::ingest(&mut forum, &file).context("seeding the forum")?;
    anyhow::ensure!(report.program_failures == 0, "the program failed on {} seeded events", report.program_failures);
    std::fs::remove_file(&file).ok();

    // Passwords (one argon2 hash, shared: the accounts are the bench's own) and the moderator.
    let conn = forum.conn();
    let moderator = forum.member_id(MODERATOR)?;
    cadre_web::auth::set_password(conn, moderator, PASSWORD).map_err(|e| anyhow::anyhow!("setting a password: {e}"))?;
    cadre_core::forum::members::set_moderator(conn, moderator)?;
    let hash: String =
        conn.query_row("SELECT password_hash FROM members WHERE id = ?1", [moderator as i64], |row| row.get(0))?;
    for name in members.iter().chain(&probes) {
        cadre_core::forum::members::set_password_hash(conn, forum.member_id(name)?, &hash)?;
    }

    // Public ids of what was seeded.
    let ids = cadre_core::forum::public_ids::PublicIds::load(conn)?;
    let internal = |external: &str| -> anyhow::Result<u64> {
        Ok(conn.query_row("SELECT id FROM posts WHERE external_id = ?1", [external], |row| row.get::<_, i64>(0))?
            as u64)
    };
    let topics =
        (0..topic_count).map(|t| Ok(ids.post(internal(&format!("q{t}"))?))).collect::<anyhow::Result<Vec<_>>>()?;
    let mut answers = Vec::with_capacity(answer_ids.len());
    for (a, (id, author)) in answer_ids.iter().enumerate() {
        let topic = topics[a / per_topic].clone();
        answers.push(PostInfo { id: ids.post(internal(id)?), topic, author: author.clone() });
    }
    let probe_answers = (0..PROBES)
        .map(|p| (0..PROBE_ANSWERS).map(|n| Ok(ids.post(internal(&format!("p{p}-{n}"))?))).collect())
        .collect::<anyhow::Result<Vec<Vec<String>>>>()?;
    let seeded_posts: i64 = conn.query_row("SELECT COUNT(*) FROM posts", [], |row| row.get(0))?;
    drop(forum);
    Ok(Seeded {
        db,
        cache,
        members,
        probes,
        topics,
        answers,
        probe_answers,
        seeded_likes: likes,
        seeded_posts: seeded_posts as u64,
        seed_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Open (or create) the forum database `db` with the plugin runtime caching its artifacts in `cache`, as
/// [`prepare`] does (for a bench that seeds more on a prepared forum before serving it).
pub fn open_forum(db: &Path, cache: &Path) -> anyhow::Result<Forum> {
    let runtime =
        cadre_runtime::Runtime::new(cadre_runtime::Limits::default(), Some(cadre_runtime::ArtifactCache::new(cache)))
            .map_err(anyhow::Error::from)
            .context("starting the plugin runtime")?;
    Forum::open(db, runtime).with_context(|| format!("opening {}", db.display()))
}

/// A running `cadre serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Start `exe serve` on `db` listening on `addr` (`127.0.0.1:0` picks a free port), and wait until it
    /// prints that it serves.
    pub fn start(exe: &Path, db: &Path, cache: &Path, addr: SocketAddr) -> anyhow::Result<Server> {
        anyhow::ensure!(addr.ip().is_loopback(), "{addr} is not a loopback address");
        let mut command = Command::new(exe);
        command.arg("--db").arg(db).arg("--cache-dir").arg(cache).args([
            "serve",
            "--addr",
            &addr.to_string(),
            "--tick-every",
            "0",
        ]);
        Server::spawn(command)
    }

    /// Run `command` (a `cadre serve` however it is wrapped, e.g. in a namespace with a small disk) and wait until
    /// it prints that it serves.
    pub fn spawn(mut command: Command) -> anyhow::Result<Server> {
        let mut child = command
            .env_remove("CADRE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let mut printed = String::new();
        let found = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.split("serving the forum at http://").nth(1) {
                        break rest.split('/').next().and_then(|a| a.parse::<SocketAddr>().ok());
                    }
                    printed.push_str(&line);
                    printed.push('\n');
                }
                _ => break None,
            }
        };
        // Keep reading what it prints so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        match found {
            Some(addr) => Ok(Server { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("cadre serve stopped before serving:\n{printed}")
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its peak resident memory so far (`VmHWM`, KiB), where the system says.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Kill it at once (SIGKILL: no shutdown, no flush) and wait for it to be gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a write was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    /// A question.
    Ask,
    /// An answer.
    Answer,
    /// A like.
    Like,
    /// A like taken back.
    Unlike,
    /// An accept.
    Accept,
    /// An accept withdrawn.
    Unaccept,
}

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpResult {
    /// Acknowledged (2xx, or a form's 303).
    Acknowledged,
    /// Answered with another status.
    Refused(u16),
    /// Never received by the server (it could not be reached).
    NotSent,
    /// Sent, but no answer came back: it may or may not have happened.
    Lost,
}

/// One write and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Op {
    /// What.
    pub kind: OpKind,
    /// By whom.
    pub member: String,
    /// On which post (public id), or the category for a question.
    pub target: String,
    /// A question's or answer's text (unique per write, so it can be counted in the database).
    pub body: Option<String>,
    /// Through the forms (else the JSON API).
    pub form: bool,
    /// The outcome.
    pub result: OpResult,
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// How many were measured.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    /// The percentiles of these durations (microseconds); all zero when there are none.
    pub fn of(mut micros: Vec<u64>) -> Latency {
        if micros.is_empty() {
            return Latency::default();
        }
        micros.sort_unstable();
        let at = |q: f64| micros[((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1] as f64 / 1e3;
        Latency {
            count: micros.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: *micros.last().unwrap() as f64 / 1e3,
        }
    }
}

/// The figures of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// Concurrent members.
    pub members: usize,
    /// Seconds the load ran.
    pub seconds: f64,
    /// Acknowledged writes.
    pub writes: u64,
    /// Acknowledged writes per second.
    pub writes_per_second: f64,
    /// Writes through the forms (of `writes`).
    pub form_writes: u64,
    /// Latency of every write (acknowledged or not).
    pub write_latency: Latency,
    /// Latency of the members' reads (topics).
    pub read_latency: Latency,
    /// Latency of the moderator's panel reads.
    pub panel_latency: Latency,
    /// From sending a like to seeing its ledger row in the author's points (moderator's view).
    pub like_to_points: Latency,
    /// From sending a like to seeing the badge it caused on the author's public profile.
    pub like_to_badge: Latency,
    /// Writes refused or lost, and failed reads.
    pub errors: u64,
    /// The first few errors, in words.
    pub error_samples: Vec<String>,
    /// Every write and its outcome.
    #[serde(skip)]
    pub ops: Vec<Op>,
}

/// State shared by the members: posts to act on.
#[derive(Default)]
struct Pool {
    topics: Vec<String>,
    answers: Vec<PostInfo>,
    /// Answers per topic asked by a load member: (answer, author).
    answers_to: HashMap<String, Vec<(String, String)>>,
}

/// What one thread measured.
#[derive(Default)]
struct Tally {
    writes: u64,
    form_writes: u64,
    write_us: Vec<u64>,
    read_us: Vec<u64>,
    panel_us: Vec<u64>,
    points_us: Vec<u64>,
    badge_us: Vec<u64>,
    errors: u64,
    samples: Vec<String>,
    ops: Vec<Op>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.samples.len() < 5 {
            self.samples.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.writes += other.writes;
        self.form_writes += other.form_writes;
        self.write_us.extend(other.write_us);
        self.read_us.extend(other.read_us);
        self.panel_us.extend(other.panel_us);
        self.points_us.extend(other.points_us);
        self.badge_us.extend(other.badge_us);
        self.errors += other.errors;
        for sample in other.samples {
            if self.samples.len() < 10 {
                self.samples.push(sample);
            }
        }
        self.ops.extend(other.ops);
    }
}

/// What every thread shares: when the load starts (once everyone has logged in: log-ins are not part of the
/// figures), when to stop, how many writes are left.
struct Run<'a> {
    /// Log-ins go one at a time: every log-in in flight counts against the address's failed log-ins until its
    /// password is checked (20 from one address are refused), and all the bench's members share 127.0.0.1.
    log_ins: Mutex<()>,
    ready: std::sync::Barrier,
    start: std::sync::OnceLock<Instant>,
    duration: Duration,
    writes_left: AtomicU64,
    stop: AtomicBool,
    beside: &'a Beside,
}

impl Run<'_> {
    /// Wait until every thread has logged in (or failed to); the clock starts then.
    fn ready(&self) {
        self.ready.wait();
        self.start.get_or_init(Instant::now);
        self.beside.started.store(true, Ordering::Relaxed);
    }

    /// [`log_in`], one at a time.
    fn log_in(&self, addr: SocketAddr, name: &str, form: bool) -> anyhow::Result<Session> {
        let _turn = self.log_ins.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        log_in(addr, name, form)
    }

    fn going(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
            && !self.beside.stop.load(Ordering::Relaxed)
            && self.start.get().is_none_or(|start| start.elapsed() < self.duration)
    }

    /// Take one write from the budget (false: the budget is spent).
    fn take_write(&self) -> bool {
        self.writes_left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok()
    }
}

/// A logged-in member: the client and the token its writes carry.
pub struct Session {
    /// The member's connection and cookies.
    pub client: Client,
    csrf: String,
    form: bool,
}

/// Log in as `name` (password [`PASSWORD`]): through the JSON API, or through the `/login` form (its token first,
/// from the page), as a browser would.
pub fn log_in(addr: SocketAddr, name: &str, form: bool) -> anyhow::Result<Session> {
    let mut client = Client::new(addr);
    let csrf = if form {
        let page = client.get("/login")?;
        let token = form_token(&page.text()).context("the log-in page has no CSRF token")?;
        let answer = client.post_form("/login", &[("csrf", &token), ("name", name), ("password", PASSWORD)])?;
        anyhow::ensure!(answer.status == 303, "log-in form for {name}: {} {}", answer.status, answer.text());
        let page = client.get(&format!("/c/{CATEGORY}"))?;
        form_token(&page.text()).context("a member's page has no CSRF token")?
    } else {
        let answer = client.post_json("/api/login", "1", &json!({"name": name, "password": PASSWORD}))?;
        anyhow::ensure!(answer.status == 200, "API log-in for {name}: {} {}", answer.status, answer.text());
        answer.json()["csrf"].as_str().context("no csrf in the log-in answer")?.to_owned()
    };
    Ok(Session { client, csrf, form })
}

impl Session {
    /// Send a write; (answer, microseconds). Forms are expected to answer `303`, the API `200`.
    pub fn write(&mut self, path: &str, fields: &[(&str, &str)]) -> (Result<Response, HttpError>, u64) {
        let started = Instant::now();
        let answer = if self.form {
            let mut all = vec![("csrf", self.csrf.as_str())];
            all.extend_from_slice(fields);
            self.client.post_form(path.trim_start_matches("/api"), &all)
        } else {
            let body: serde_json::Map<String, serde_json::Value> =
                fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
            let csrf = self.csrf.clone();
            self.client.post_json(path, &csrf, &serde_json::Value::Object(body))
        };
        (answer, started.elapsed().as_micros() as u64)
    }

    fn acknowledged(&self, answer: &Response) -> bool {
        if self.form { answer.status == 303 } else { answer.status == 200 }
    }
}

/// The new post's public id in a write's answer (the API's `post`/`topic`, a form's `Location`).
fn new_post(answer: &Response, form: bool, question: bool) -> Option<String> {
    if form {
        let location = answer.header("location")?;
        let rest = location.strip_prefix("/t/")?;
        if question { Some(rest.split('#').next()?.to_owned()) } else { Some(rest.split("#p").nth(1)?.to_owned()) }
    } else {
        let value = answer.json();
        value[if question { "topic" } else { "post" }].as_str().map(str::to_owned)
    }
}

fn member_loop(addr: SocketAddr, index: usize, plan: &Plan, pool: &Mutex<Pool>, run: &Run) -> Tally {
    let mut tally = Tally::default();
    let name = format!("bench-m{}", plan.first_member + index);
    let form = index % 2 == 1;
    let session = run.log_in(addr, &name, form);
    run.ready();
    let mut session = match session {
        Ok(session) => session,
        Err(error) => {
            tally.error(format!("{name}: {error:#}"));
            return tally;
        }
    };
    let mut rng = Rng::new(plan.seed.wrapping_mul(1_000_003).wrapping_add(index as u64 + 1));
    let mut liked: Vec<String> = Vec::new();
    let mut liked_set: std::collections::HashSet<String> = Default::default();
    let mut my_topics: Vec<String> = Vec::new();
    let mut accepted: HashMap<String, String> = HashMap::new();
    let mut serial = 0u64;
    while run.going() {
        let roll = rng.below(100);
        // Reads: a topic, as the member's pages or the API show it.
        if roll < 8 {
            let topic = {
                let pool = pool.lock().unwrap();
                pool.topics[rng.index(pool.topics.len())].clone()
            };
            let path = if form { format!("/t/{topic}") } else { format!("/api/t/{topic}") };
            let started = Instant::now();
            match session.client.get(&path) {
                Ok(answer) if answer.status == 200 => tally.read_us.push(started.elapsed().as_micros() as u64),
                Ok(answer) => tally.error(format!("GET {path}: {}", answer.status)),
                Err(error) => tally.error(format!("GET {path}: {error}")),
            }
            continue;
        }
        if !run.take_write() {
            break;
        }
        serial += 1;
        let (kind, path, target, body) = if plan.append_only {
            if roll < 75 { (OpKind::Like, None, None, None) } else { (OpKind::Answer, None, None, None) }
        } else if roll < 48 {
            (OpKind::Like, None, None, None)
        } else if roll < 60 && !liked.is_empty() {
            let post = liked.swap_remove(rng.index(liked.len()));
            liked_set.remove(&post);
            (OpKind::Unlike, Some(format!("/api/p/{post}/unlike")), Some(post), None)
        } else if roll < 80 {
            (OpKind::Answer, None, None, None)
        } else if roll < 86 || my_topics.is_empty() {
            let body = format!("Question {serial} from {name}: how does this work?");
            (OpKind::Ask, Some(format!("/api/c/{CATEGORY}/topics")), Some(CATEGORY.to_owned()), Some(body))
        } else {
            // On one of my topics: withdraw the accept if there is one (a live accept never moves by itself:
            // the forum asks to unaccept first), else accept an answer by someone else.
            let topic = my_topics[rng.index(my_topics.len())].clone();
            match accepted.get(&topic) {
                Some(current) => {
                    let current = current.clone();
                    (OpKind::Unaccept, Some(format!("/api/p/{current}/unaccept")), Some(current), Some(topic))
                }
                None => {
                    let candidates = pool.lock().unwrap().answers_to.get(&topic).cloned().unwrap_or_default();
                    let others: Vec<&(String, String)> =
                        candidates.iter().filter(|(_, author)| *author != name).collect();
                    if others.is_empty() {
                        (OpKind::Answer, None, None, None)
                    } else {
                        let pick = others[rng.index(others.len())].0.clone();
                        (OpKind::Accept, Some(format!("/api/p/{pick}/accept")), Some(pick), Some(topic))
                    }
                }
            }
        };
        let (path, target, body) = match kind {
            OpKind::Like => {
                let choice = {
                    let pool = pool.lock().unwrap();
                    (0..20)
                        .map(|_| &pool.answers[rng.index(pool.answers.len())])
                        .find(|post| post.author != name && !liked_set.contains(&post.id))
                        .map(|post| post.id.clone())
                };
                let Some(post) = choice else {
                    run.writes_left.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                liked_set.insert(post.clone());
                liked.push(post.clone());
                (format!("/api/p/{post}/like"), post, None)
            }
            OpKind::Answer => {
                let topic = {
                    let pool = pool.lock().unwrap();
                    pool.topics[rng.index(pool.topics.len())].clone()
                };
                let body = format!("Answer {serial} from {name}: try this.");
                (format!("/api/t/{topic}/answers"), topic, Some(body))
            }
            _ => (path.expect("set above"), target.expect("set above"), body),
        };
        // For an accept or unaccept, `body` carried the topic: keep it apart (the op has no text).
        let (body, accept_topic) = match kind {
            OpKind::Accept | OpKind::Unaccept => (None, body),
            _ => (body, None),
        };
        let (answer, micros) = match (&body, kind) {
            (Some(text), OpKind::Ask) => {
                session.write(&path, &[("title", &format!("Bench question {serial} by {name}")), ("body", text)])
            }
            (Some(text), _) => session.write(&path, &[("body", text)]),
            (None, _) => session.write(&path, &[]),
        };
        tally.write_us.push(micros);
        let result = match &answer {
            Ok(answer) if session.acknowledged(answer) => {
                tally.writes += 1;
                tally.form_writes += u64::from(form);
                match kind {
                    OpKind::Ask | OpKind::Answer => {
                        let question = kind == OpKind::Ask;
                        if let Some(id) = new_post(answer, form, question) {
                            let mut pool = pool.lock().unwrap();
                            if question {
                                my_topics.push(id.clone());
                                pool.topics.push(id);
                            } else {
                                pool.answers.push(PostInfo {
                                    id: id.clone(),
                                    topic: target.clone(),
                                    author: name.clone(),
                                });
                                if let Some(list) = pool.answers_to.get_mut(&target) {
                                    list.push((id, name.clone()));
                                }
                            }
                            if question {
                                let topic = my_topics.last().cloned().unwrap_or_default();
                                pool.answers_to.insert(topic, Vec::new());
                            }
                        } else {
                            tally.error(format!("{path}: no new post in the answer"));
                        }
                    }
                    OpKind::Accept => {
                        accepted.insert(accept_topic.clone().unwrap_or_default(), target.clone());
                    }
                    OpKind::Unaccept => {
                        accepted.remove(accept_topic.as_deref().unwrap_or_default());
                    }
                    _ => {}
                }
                OpResult::Acknowledged
            }
            Ok(answer) => {
                tally.error(format!("POST {path} by {name}: {} {}", answer.status, answer.text()));
                OpResult::Refused(answer.status)
            }
            Err(error) => {
                tally.error(format!("POST {path} by {name}: {error}"));
                if error.never_sent() { OpResult::NotSent } else { OpResult::Lost }
            }
        };
        if result != OpResult::Acknowledged && kind == OpKind::Like {
            // Not known to be liked: never unliked later (an unlike of a like that is not there is refused).
            liked.retain(|p| *p != target);
        }
        if result != OpResult::Acknowledged {
            // The server is failing or gone (kill -9, a full disk): do not spin.
            std::thread::sleep(Duration::from_millis(20));
        }
        tally.ops.push(Op { kind, member: name.clone(), target, body, form, result });
        if !plan.think.is_zero() {
            std::thread::sleep(plan.think);
        }
    }
    tally
}

fn moderator_loop(addr: SocketAddr, run: &Run) -> Tally {
    let mut tally = Tally::default();
    let session = run.log_in(addr, MODERATOR, true);
    run.ready();
    let mut session = match session {
        Ok(session) => session,
        Err(error) => {
            tally.error(format!("moderator: {error:#}"));
            return tally;
        }
    };
    let pages = ["/mod", "/api/mod/status", "/mod/members", "/mod/queue", "/api/mod/audit", "/mod/audit"];
    let mut n = 0;
    while run.going() {
        let path = pages[n % pages.len()];
        n += 1;
        let started = Instant::now();
        match session.client.get(path) {
            Ok(answer) if answer.status == 200 => tally.panel_us.push(started.elapsed().as_micros() as u64),
            Ok(answer) => tally.error(format!("GET {path}: {}", answer.status)),
            Err(error) => tally.error(format!("GET {path}: {error}")),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    tally
}

/// The probe: a like from one probe member on another's answer, then reads until the author's ledger shows it
/// (the moderator's view) and, when it earns a badge, until the badge is on the public profile.
fn probe_loop(addr: SocketAddr, seeded: &Seeded, run: &Run) -> Tally {
    let mut tally = Tally::default();
    let sessions: anyhow::Result<Vec<Session>> =
        seeded.probes.iter().map(|name| run.log_in(addr, name, false)).collect();
    let moderator = run.log_in(addr, MODERATOR, false);
    run.ready();
    let mut sessions = match sessions {
        Ok(sessions) => sessions,
        Err(error) => {
            tally.error(format!("probe: {error:#}"));
            return tally;
        }
    };
    let mut moderator = match moderator {
        Ok(session) => session,
        Err(error) => {
            tally.error(format!("probe moderator: {error:#}"));
            return tally;
        }
    };
    let mut next_answer = [0usize; PROBES];
    let mut likers_of: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); PROBES];
    let mut n = 0usize;
    'probe: while run.going() {
        n += 1;
        let author = n % PROBES;
        let liker = (author + 1 + (n / PROBES) % (PROBES - 1)) % PROBES;
        if next_answer[author] >= PROBE_ANSWERS {
            break;
        }
        let post = seeded.probe_answers[author][next_answer[author]].clone();
        next_answer[author] += 1;
        let author_name = &seeded.probes[author];
        let view = |moderator: &mut Session| -> Option<(usize, usize)> {
            let answer = moderator.client.get(&format!("/api/mod/members/{author_name}")).ok()?;
            let value = answer.json();
            Some((value["ledger"].as_array()?.len(), value["summary"]["badges"].as_array()?.len()))
        };
        let Some((ledger_before, badges_before)) = view(&mut moderator) else {
            tally.error(format!("probe: the moderator's view of {author_name} failed"));
            continue;
        };
        let badge_expected = likers_of[author].insert(liker) && likers_of[author].len() == 5;
        let started = Instant::now();
        let session = &mut sessions[liker];
        match session.write(&format!("/api/p/{post}/like"), &[]) {
            (Ok(answer), _) if answer.status == 200 => {}
            (Ok(answer), _) => {
                tally.error(format!("probe like: {} {}", answer.status, answer.text()));
                continue;
            }
            (Err(error), _) => {
                tally.error(format!("probe like: {error}"));
                continue;
            }
        }
        let mut points_seen = false;
        loop {
            if started.elapsed() > Duration::from_secs(10) {
                tally.error(format!("probe: a like on {author_name}'s answer did not show within 10 s"));
                continue 'probe;
            }
            if !run.going() {
                // The load is over: this probe is not measured (not a failure).
                break 'probe;
            }
            if !points_seen && view(&mut moderator).is_some_and(|(ledger, _)| ledger > ledger_before) {
                tally.points_us.push(started.elapsed().as_micros() as u64);
                points_seen = true;
            }
            if points_seen && !badge_expected {
                break;
            }
            if points_seen {
                let profile = moderator.client.get(&format!("/api/u/{author_name}")).ok().map(|a| a.json());
                let badges = profile.as_ref().and_then(|p| p["badges"].as_array().map(Vec::len)).unwrap_or(0);
                if badges > badges_before {
                    tally.badge_us.push(started.elapsed().as_micros() as u64);
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    tally
}

/// Send the load to the server at `addr` (prepared by [`prepare`]) as `plan` says, and measure it.
pub fn drive(addr: SocketAddr, seeded: &Seeded, plan: &Plan) -> Figures {
    drive_beside(addr, seeded, plan, &Beside::default())
}

/// Signals between a load ([`drive_beside`]) and a measurement that runs beside it (`cadre bench live
/// --under-load`).
#[derive(Debug, Default)]
pub struct Beside {
    /// Set once every member has logged in and the load has begun.
    pub started: AtomicBool,
    /// Set by the measurement to end the load before its time (the load also ends by itself, as [`drive`]).
    pub stop: AtomicBool,
}

/// [`drive`], telling `beside` when the load has begun, and ending early when `beside.stop` is set.
pub fn drive_beside(addr: SocketAddr, seeded: &Seeded, plan: &Plan, beside: &Beside) -> Figures {
    let pool =
        Mutex::new(Pool { topics: seeded.topics.clone(), answers: seeded.answers.clone(), answers_to: HashMap::new() });
    let threads = plan.members + usize::from(plan.moderator_reads) + usize::from(plan.probe);
    let run = Run {
        log_ins: Mutex::new(()),
        ready: std::sync::Barrier::new(threads),
        start: std::sync::OnceLock::new(),
        duration: plan.duration,
        writes_left: AtomicU64::new(plan.max_writes),
        stop: AtomicBool::new(false),
        beside,
    };
    let mut total = Tally::default();
    std::thread::scope(|scope| {
        let members: Vec<_> = (0..plan.members)
            .map(|i| {
                scope.spawn({
                    let (pool, run) = (&pool, &run);
                    move || member_loop(addr, i, plan, pool, run)
                })
            })
            .collect();
        let moderator = plan.moderator_reads.then(|| scope.spawn(|| moderator_loop(addr, &run)));
        let probe = plan.probe.then(|| scope.spawn(|| probe_loop(addr, seeded, &run)));
        for member in members {
            total.merge(member.join().unwrap_or_default());
        }
        // The members are done (time or budget): the others stop too.
        run.stop.store(true, Ordering::Relaxed);
        for other in [moderator, probe].into_iter().flatten() {
            total.merge(other.join().unwrap_or_default());
        }
    });
    let seconds = run.start.get().map_or(0.0, |start| start.elapsed().as_secs_f64());
    Figures {
        members: plan.members,
        seconds,
        writes: total.writes,
        writes_per_second: total.writes as f64 / seconds.max(1e-9),
        form_writes: total.form_writes,
        write_latency: Latency::of(total.write_us),
        read_latency: Latency::of(total.read_us),
        panel_latency: Latency::of(total.panel_us),
        like_to_points: Latency::of(total.points_us),
        like_to_badge: Latency::of(total.badge_us),
        errors: total.errors,
        error_samples: total.samples,
        ops: total.ops,
    }
}

/// The machine's load average (1, 5, 15 minutes), where the system says.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut parts = text.split_whitespace().map(|p| p.parse::<f64>().ok());
    Some([parts.next()??, parts.next()??, parts.next()??])
}

/// A whole run as `cadre bench web` does it: prepare, serve, load, and the conditions it ran under.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The load's figures.
    pub figures: Figures,
    /// Likes seeded before the load.
    pub seeded_likes: u64,
    /// Posts seeded before the load.
    pub seeded_posts: u64,
    /// Answers per seeded topic.
    pub answers_per_topic: usize,
    /// Seconds spent seeding.
    pub seed_seconds: f64,
    /// What the run ran on (its fields sit beside these in the JSON).
    #[serde(flatten)]
    pub conditions: RunConditions,
    /// Where the database is (kept with `--dir`).
    pub db: PathBuf,
}

/// The conditions a bench over `cadre serve` ran under, as `bench web` and `bench live` report them.
#[derive(Debug, Clone, Serialize)]
pub struct RunConditions {
    /// The server's peak resident memory (MiB).
    pub server_peak_rss_mib: Option<f64>,
    /// Cores available to this process.
    pub cores: usize,
    /// Load average before the run.
    pub load_before: Option<[f64; 3]>,
    /// Load average after the run.
    pub load_after: Option<[f64; 3]>,
    /// `release` or `debug`.
    pub build: &'static str,
}

impl RunConditions {
    /// Read once the run is over, while `server` still runs (its peak memory); `load_before` was read before it.
    pub fn after(server: &Server, load_before: Option<[f64; 3]>) -> RunConditions {
        RunConditions {
            server_peak_rss_mib: server.peak_rss_kib().map(|k| k as f64 / 1024.0),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load_before,
            load_after: load_average(),
            build: if cfg!(debug_assertions) { "debug" } else { "release" },
        }
    }

    /// `release build, 2 cores, load 0.50 0.40 0.30 → 1.20 0.60 0.40`, for a report's first line.
    pub fn describe(&self) -> String {
        let load = |l: &Option<[f64; 3]>| l.map_or("?".to_owned(), |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]));
        format!(
            "{} build, {} cores, load {} → {}",
            self.build,
            self.cores,
            load(&self.load_before),
            load(&self.load_after)
        )
    }

    /// The server's peak memory in words (`113 MiB`, or `?` where it could not be read).
    pub fn server_peak(&self) -> String {
        self.server_peak_rss_mib.map_or("?".to_owned(), |m| format!("{m:.0} MiB"))
    }
}

/// Prepare a forum in `dir`, serve it with `exe`, drive the load, stop the server.
pub fn bench(exe: &Path, dir: &Path, plan: &Plan) -> anyhow::Result<Report> {
    let seeded = prepare(dir, plan)?;
    let server = Server::start(exe, &seeded.db, &seeded.cache, SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let load_before = load_average();
    let figures = drive(server.addr, &seeded, plan);
    let conditions = RunConditions::after(&server, load_before);
    server.kill();
    Ok(Report {
        figures,
        seeded_likes: seeded.seeded_likes,
        seeded_posts: seeded.seeded_posts,
        answers_per_topic: plan.answers_per_topic,
        seed_seconds: seeded.seed_seconds,
        conditions,
        db: seeded.db,
    })
}

impl Report {
    /// The report as a table.
    pub fn render(&self) -> String {
        let f = &self.figures;
        let row = |what: &str, l: &Latency| {
            format!("{what:<28} {:>8} {:>9.2} {:>9.2} {:>9.2}\n", l.count, l.p50_ms, l.p99_ms, l.max_ms)
        };
        let mut out = format!(
            "cadre bench web: {} members over HTTP on 127.0.0.1 for {:.1} s ({})\n\
             forum before the load: {} posts, {} likes ({} answers a topic), seeded in {:.1} s\n\n\
             writes acknowledged   {:>10}  ({} through forms)\n\
             writes per second     {:>10.0}\n\
             errors                {:>10}\n\
             server peak memory    {:>10}\n\n\
             {:<28} {:>8} {:>9} {:>9} {:>9}\n",
            f.members,
            f.seconds,
            self.conditions.describe(),
            self.seeded_posts,
            self.seeded_likes,
            self.answers_per_topic,
            self.seed_seconds,
            f.writes,
            f.form_writes,
            f.writes_per_second,
            f.errors,
            self.conditions.server_peak(),
            "latency (ms)",
            "count",
            "p50",
            "p99",
            "max",
        );
        out.push_str(&row("write", &f.write_latency));
        out.push_str(&row("member read (topic)", &f.read_latency));
        out.push_str(&row("moderator panel read", &f.panel_latency));
        out.push_str(&row("like → points visible", &f.like_to_points));
        out.push_str(&row("like → badge visible", &f.like_to_badge));
        for sample in &f.error_samples {
            out.push_str(&format!("error: {sample}\n"));
        }
        out
    }
}

/// Likes in force, counted by (liker's name, post's public id).
pub type LikeCounts = BTreeMap<(String, String), u64>;

/// Counts of what a run left in the database, for the fault tests: posts by their text, likes by (member, post).
pub fn rows_in(db: &Path) -> anyhow::Result<(BTreeMap<String, u64>, LikeCounts)> {
    let conn = rusqlite_open(db)?;
    let ids = cadre_core::forum::public_ids::PublicIds::load(&conn)?;
    let mut posts = BTreeMap::new();
    let mut statement = conn.prepare("SELECT body FROM posts")?;
    for body in statement.query_map([], |row| row.get::<_, String>(0))? {
        *posts.entry(body?).or_insert(0) += 1;
    }
    let mut likes = BTreeMap::new();
    let mut statement = conn.prepare(
        "SELECT m.name, l.post_id FROM likes l JOIN members m ON m.id = l.liker_id WHERE l.removed_at IS NULL",
    )?;
    for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))? {
        let (name, post) = row?;
        *likes.entry((name, ids.post(post as u64))).or_insert(0) += 1;
    }
    Ok((posts, likes))
}

fn rusqlite_open(db: &Path) -> anyhow::Result<rusqlite::Connection> {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", db.display()))
}

/// A hostile plugin installed live under load, then the fix: the figures of each phase and what the program did.
#[derive(Debug, Clone, Serialize)]
pub struct HostileReport {
    /// The component installed live.
    pub component: String,
    /// The load before, with the healthy program.
    pub healthy: Figures,
    /// The load while the hostile plugin was installed (from another process, `cadre plugin upgrade`).
    pub hostile: Figures,
    /// The load while the fixed version was installed and the dead letters retried.
    pub recovery: Figures,
    /// Whether the program was quarantined after the hostile phase.
    pub quarantined: bool,
    /// Events waiting (dead letters and the quarantine's queue) after the hostile phase.
    pub waiting: u64,
    /// `cadre deadletters retry`: events applied, and left.
    pub retried: (u64, u64),
    /// The events the hostile version handled without failing, recomputed under the fixed one (`cadre plugin
    /// recompute --yes`, as the upgrade offered); None when nothing was offered.
    pub recomputed: Option<String>,
    /// The hostile phase's write p99 over the healthy phase's.
    pub p99_ratio: f64,
}

/// Run the `cadre` binary on the seeded forum; (exit code, stdout and stderr).
fn cadre_on(exe: &Path, seeded: &Seeded, args: &[&str]) -> anyhow::Result<(i32, String)> {
    let output = Command::new(exe)
        .arg("--db")
        .arg(&seeded.db)
        .arg("--cache-dir")
        .arg(&seeded.cache)
        .args(args)
        .env_remove("CADRE_CONFIG")
        .env_remove("CADRE_MODERATOR")
        .output()
        .with_context(|| format!("running cadre {}", args.join(" ")))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Ok((output.status.code().unwrap_or(-1), text))
}

/// Three phases of `plan` on the server at `addr` (each by other members: prepare with three times
/// `plan.members`): healthy; `component` installed live by `cadre plugin upgrade --yes` a moment after the load
/// starts; the bundled program installed back and `cadre deadletters retry` run, again under load.
pub fn hostile(
    exe: &Path,
    seeded: &Seeded,
    addr: SocketAddr,
    component: &Path,
    plan: &Plan,
) -> anyhow::Result<HostileReport> {
    let plan = Plan { probe: false, ..plan.clone() };
    let healthy = drive(addr, seeded, &plan);
    let component_arg = component.to_str().context("the component's path is not UTF-8")?.to_owned();
    let phase = |first_member: usize, during: &(dyn Fn() -> anyhow::Result<(String, Option<String>)> + Sync)| {
        std::thread::scope(|scope| {
            let side = scope.spawn(|| {
                std::thread::sleep(plan.duration / 4);
                during()
            });
            let figures = drive(addr, seeded, &Plan { first_member, ..plan.clone() });
            (figures, side.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the side task panicked"))))
        })
    };
    let (hostile, installed) = phase(plan.members, &|| {
        let (code, text) = cadre_on(exe, seeded, &["plugin", "upgrade", &component_arg, "--yes"])?;
        anyhow::ensure!(code == 0, "installing {component_arg}: {text}");
        Ok((text, None))
    });
    installed?;
    let (code, status) = cadre_on(exe, seeded, &["program", "show", "--json"])?;
    anyhow::ensure!(code == 0, "program show: {status}");
    let status: serde_json::Value = serde_json::from_str(&status).context("program show --json")?;
    let quarantined = status["quarantined"].as_bool().unwrap_or(false);
    let waiting = status["dead_letters"].as_u64().unwrap_or(0);
    let fixed = seeded.db.with_file_name("fixed.wasm");
    std::fs::write(&fixed, cadre_bundled::PROGRAM_WASM).context("writing the fixed program")?;
    let fixed_arg = fixed.to_str().context("the path is not UTF-8")?.to_owned();
    let (recovery, retry) = phase(2 * plan.members, &|| {
        let (code, text) = cadre_on(exe, seeded, &["plugin", "upgrade", &fixed_arg, "--yes"])?;
        anyhow::ensure!(code == 0, "installing the fixed program: {text}");
        let (code, text) = cadre_on(exe, seeded, &["deadletters", "retry"])?;
        anyhow::ensure!(code == 0, "deadletters retry: {text}");
        // The hostile version handled the events it did not fail on (posts, accepts, unlikes) its own way: the
        // upgrade offered to recompute them under the fixed one, and a moderator takes the offer.
        let offer = text.lines().find(|line| line.contains("cadre plugin recompute")).map(str::to_owned);
        if offer.is_some() {
            let (code, recomputed) = cadre_on(exe, seeded, &["plugin", "recompute", "--yes"])?;
            anyhow::ensure!(code == 0, "plugin recompute --yes: {recomputed}");
        }
        Ok((text, offer))
    });
    let (retry, recomputed) = retry?;
    // "12 dead letter(s) applied, 0 remaining"
    let numbers: Vec<u64> = retry.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    let retried = (numbers.first().copied().unwrap_or(0), numbers.get(1).copied().unwrap_or(0));
    let p99_ratio = hostile.write_latency.p99_ms / healthy.write_latency.p99_ms.max(1e-9);
    Ok(HostileReport {
        component: component.display().to_string(),
        healthy,
        hostile,
        recovery,
        quarantined,
        waiting,
        retried,
        recomputed,
        p99_ratio,
    })
}

/// `cadre bench web --hostile`: prepare a forum with members for three phases, serve it, run [`hostile`].
pub fn bench_hostile(exe: &Path, dir: &Path, component: &Path, plan: &Plan) -> anyhow::Result<HostileReport> {
    let seeded = prepare(dir, &Plan { members: plan.members * 3, ..plan.clone() })?;
    let server = Server::start(exe, &seeded.db, &seeded.cache, SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let report = hostile(exe, &seeded, server.addr, component, plan);
    server.kill();
    report
}

impl HostileReport {
    /// The report as a table: one row per phase.
    pub fn render(&self) -> String {
        let mut out = format!(
            "cadre bench web --hostile {}: {} members, {:.0} s a phase\n\n{:<10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>7}\n",
            self.component,
            self.healthy.members,
            self.healthy.seconds,
            "phase",
            "writes",
            "writes/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors"
        );
        for (phase, f) in [("healthy", &self.healthy), ("hostile", &self.hostile), ("recovery", &self.recovery)] {
            out.push_str(&format!(
                "{phase:<10} {:>8} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>7}\n",
                f.writes,
                f.writes_per_second,
                f.write_latency.p50_ms,
                f.write_latency.p99_ms,
                f.write_latency.max_ms,
                f.errors
            ));
        }
        out.push_str(&format!(
            "\nhostile p99 / healthy p99: {:.2}\nquarantined after the hostile phase: {}\nevents waiting: {}\nretry after the fix: {} applied, {} remaining\n",
            self.p99_ratio,
            if self.quarantined { "yes" } else { "no" },
            self.waiting,
            self.retried.0,
            self.retried.1
        ));
        match &self.recomputed {
            Some(offer) => out.push_str(&format!("recomputed as the upgrade offered: {offer}\n")),
            None => out.push_str("no recompute offered (the hostile version handled no event without failing)\n"),
        }
        for f in [&self.healthy, &self.hostile, &self.recovery] {
            for sample in &f.error_samples {
                out.push_str(&format!("error: {sample}\n"));
            }
        }
        out
    }
}
