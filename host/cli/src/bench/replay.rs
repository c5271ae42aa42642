//! `cadre bench replay --events N`: a synthetic community replayed end to end, measured in one run.
//!
//! The community: 20,000 members whose activity is skewed (member *k* of *M* is picked with probability falling
//! like a fourth power: a few members write and receive most), questions, answers, likes from known members,
//! unlikes, accepts, 20,000 events a UTC day so the busiest members hit the daily cap every day. The events go
//! through the forum's import API in batches (`Forum::batch`, exactly once), into a durable SQLite file with the
//! ledger, under the `stackexchange` preset by default.
//!
//! Rows: events/s through the component with SQLite; the same with the rules linked natively (same crate, same
//! database work: `Forum::use_stand_in` with `bench::native`); the forum's change and event log alone (no program); the ratio; the component alone and the native rules alone on the same
//! events without a database (from the first run's log); and peak RSS (VmHWM) and end-to-end events/s of a child
//! process replaying N and 10·N events, so that memory and speed can be seen not to change with the log's length.

use std::collections::VecDeque;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use super::native::NativeRules;
use crate::rng::Rng;
use cadre_bundled::PROGRAM_WASM;
use cadre_core::Forum;
use cadre_core::forum::{ForumError, ImportedPost, MemberId};
use cadre_model::PostKind;
use cadre_runtime::{Event, Limits, Runtime};

/// Members of the synthetic community.
const MEMBERS: usize = 20_000;
/// Events per UTC day (the busiest member receives a few hundred likes a day: well over the cap).
const PER_DAY: u64 = 20_000;
/// Recent posts that new answers, likes and accepts go to (bounded: memory must not grow with N).
const RECENT: usize = 20_000;
/// Events per transaction (the same as a Stack Exchange replay).
const BATCH: u64 = 20_000;

/// The synthetic community as it unfolds.
struct Community {
    rng: Rng,
    members: Vec<MemberId>,
    questions: VecDeque<u64>,
    answers: VecDeque<u64>,
    posts: VecDeque<u64>,
    likes: VecDeque<u64>,
    category: u64,
    next: u64,
    refused: u64,
}

impl Community {
    fn new(forum: &mut Forum) -> Result<Community, ForumError> {
        let category = forum.ensure_category("bench", "Bench", None)?;
        let members = forum.batch(|forum| {
            (0..MEMBERS).map(|i| forum.import_member(&format!("bench:{i}"), &format!("member{i}"), 0)).collect()
        })?;
        Ok(Community {
            rng: Rng::new(0x9e37_79b9_7f4a_7c15),
            members,
            questions: VecDeque::new(),
            answers: VecDeque::new(),
            posts: VecDeque::new(),
            likes: VecDeque::new(),
            category,
            next: 0,
            refused: 0,
        })
    }

    fn remember(list: &mut VecDeque<u64>, id: u64) {
        if list.len() == RECENT {
            list.pop_front();
        }
        list.push_back(id);
    }

    /// A recent post (the most recent get most of the attention).
    fn pick(rng: &mut Rng, list: &VecDeque<u64>) -> u64 {
        list[list.len() - 1 - rng.skewed(list.len())]
    }

    /// Generate and record one event.
    fn step(&mut self, forum: &mut Forum) -> Result<(), ForumError> {
        let n = self.next;
        self.next += 1;
        let at = (n / PER_DAY) as i64 * cadre_rules::model::DAY_MS + (n % PER_DAY) as i64 * 4_000;
        let author = self.members[self.rng.skewed(self.members.len())];
        let roll = self.rng.below(100);
        let result = if self.questions.is_empty() || roll < 8 {
            self.post(forum, n, PostKind::Question, author, None, at)
        } else if roll < 22 || self.answers.is_empty() {
            let question = Community::pick(&mut self.rng, &self.questions);
            self.post(forum, n, PostKind::Answer, author, Some(question), at)
        } else if roll < 26 {
            let answer = Community::pick(&mut self.rng, &self.answers);
            forum.import_accept(&format!("b:{n}"), answer, at).map(drop)
        } else if roll < 30 && !self.likes.is_empty() {
            let index = self.rng.index(self.likes.len());
            let like = self.likes.swap_remove_back(index).expect("index in range");
            forum.import_unlike(&format!("b:{n}"), &format!("b:{like}"), at).map(drop)
        } else {
            let post = Community::pick(&mut self.rng, &self.posts);
            let liker = self.members[self.rng.index(self.members.len())];
            let outcome = forum.import_like(&format!("b:{n}"), Some(liker), post, at);
            if outcome.is_ok() {
                Community::remember(&mut self.likes, n);
            }
            outcome.map(drop)
        };
        match result {
            // A member liking the same post twice, an accept of an answer accepted before: refused, rolled back
            // alone, as a live forum would.
            Err(ForumError::Invalid(_) | ForumError::NotFound(_)) | Err(ForumError::Db(_)) => {
                self.refused += 1;
                Ok(())
            }
            other => other,
        }
    }

    fn post(
        &mut self,
        forum: &mut Forum,
        n: u64,
        kind: PostKind,
        author: MemberId,
        parent: Option<u64>,
        at: i64,
    ) -> Result<(), ForumError> {
        let post = ImportedPost {
            kind,
            author: Some(author),
            parent,
            category: Some(self.category),
            title: (kind == PostKind::Question).then(|| format!("Question {n}")),
            body: format!("Synthetic post {n}, about as long as a short answer on a forum."),
            at,
            wiki_since: None,
        };
        let (id, _) = forum.import_post(&format!("b:{n}"), post)?;
        Community::remember(if kind == PostKind::Question { &mut self.questions } else { &mut self.answers }, id);
        Community::remember(&mut self.posts, id);
        Ok(())
    }
}

/// How the forum delivers events in a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Program {
    /// No program installed: the forum's change and the event log only.
    None,
    /// The component.
    Component,
    /// The same rules linked natively.
    Native,
}

/// A fresh forum database in `dir` with the program installed under `settings`.
fn forum(dir: &std::path::Path, name: &str, settings: &str, program: Program) -> anyhow::Result<Forum> {
    let runtime = Runtime::new(Limits::default(), None).map_err(anyhow::Error::from)?;
    let mut forum = Forum::open(&dir.join(name), runtime)?;
    // As `cadre replay` and `cadre serve` run: the log's checkpoints on a thread of their own.
    forum.checkpoint_in_background()?;
    if program == Program::None {
        return Ok(forum);
    }
    forum.install(PROGRAM_WASM, "bench", 0)?;
    forum.configure(settings, "bench", 0).context("the bench's settings")?;
    if program == Program::Native {
        forum.use_stand_in(|settings, declaration, store| {
            let rules = NativeRules::new(settings, declaration.clone(), store).expect("the component accepted them");
            Box::new(rules)
        })?;
    }
    Ok(forum)
}

/// CPU time this thread has run so far, in seconds (Linux: `/proc/thread-self/schedstat`, nanoseconds on a CPU);
/// `None` where it cannot be read. On a machine shared with other work, events per CPU second is the figure that
/// does not change with the load, as wall-clock events/s do.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

/// Replay `events` synthetic events into `forum`; events/s and events refused.
fn replay(forum: &mut Forum, events: u64) -> anyhow::Result<(f64, u64)> {
    replay_timed(forum, events).map(|(rate, refused, _)| (rate, refused))
}

/// [`replay`], with events per CPU second of this thread (`None` where CPU time cannot be read).
fn replay_timed(forum: &mut Forum, events: u64) -> anyhow::Result<(f64, u64, Option<f64>)> {
    let mut community = Community::new(forum)?;
    let cpu_started = thread_cpu_seconds();
    let started = Instant::now();
    // A first import, as `cadre replay` does it: the indexes only readers use are built once at the end (timed).
    let deferred = forum.defer_read_indexes()?;
    while community.next < events {
        let end = (community.next + BATCH).min(events);
        forum.batch(|forum| {
            while community.next < end {
                community.step(forum)?;
            }
            Ok(())
        })?;
    }
    if deferred {
        forum.build_read_indexes()?;
    }
    let rate = events as f64 / started.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds().zip(cpu_started).map(|(now, then)| events as f64 / (now - then));
    Ok((rate, community.refused, cpu))
}

/// Peak resident memory of this process (VmHWM), in KiB.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The child of the RSS measurement: replay `events` with the component, end to end into a durable file; returns
/// this process's peak RSS in KiB and the replay's events per second of its CPU time (of wall time where that
/// cannot be read): on a shared machine the load changes between the N and the 10·N child, and CPU time is what
/// lets their rates be compared (the command prints both for the parent).
pub fn rss_child(events: u64, settings: &str) -> anyhow::Result<(u64, f64)> {
    let dir = tempfile::tempdir()?;
    let mut forum = forum(dir.path(), "rss.db", settings, Program::Component)?;
    let (rate, _, cpu_rate) = replay_timed(&mut forum, events)?;
    Ok((peak_rss_kib().context("reading VmHWM from /proc/self/status")?, cpu_rate.unwrap_or(rate)))
}

/// A child process's peak RSS (KiB) and end-to-end events/s replaying `events`.
fn child_rss(events: u64, preset: &str) -> anyhow::Result<(u64, f64)> {
    let events = events.to_string();
    let args = ["bench", "replay", "--rss-child", "--preset", preset, "--events", &events];
    measured_child(&args.map(std::ffi::OsStr::new))
}

/// Run this executable with `args` as a measuring child, which prints its peak RSS (KiB) and its events/s on one
/// line; both, read back.
pub(crate) fn measured_child(args: &[&std::ffi::OsStr]) -> anyhow::Result<(u64, f64)> {
    let output = std::process::Command::new(std::env::current_exe()?).args(args).output().with_context(|| {
        format!("running the measuring child `cadre {}`", args.join(" ".as_ref()).to_string_lossy())
    })?;
    anyhow::ensure!(output.status.success(), "the measuring child failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (kib, rate) = stdout.trim().split_once(' ').context("the child prints its peak and its rate")?;
    Ok((kib.parse()?, rate.parse()?))
}

/// The measurements of one run (the command prints them as a table or JSON).
#[derive(Debug, Serialize)]
pub struct Figures {
    /// Events replayed per row.
    pub events: u64,
    /// The program's preset.
    pub preset: String,
    /// End to end: the component, SQLite, the ledger.
    pub component_sqlite_events_per_s: f64,
    /// The same per second of CPU time of the replaying thread (steady on a shared machine; `None`: not Linux).
    pub component_sqlite_events_per_cpu_s: Option<f64>,
    /// The same with the rules linked natively (the same database work).
    pub native_sqlite_events_per_s: f64,
    /// The forum's change and the event log, no program.
    pub forum_and_log_only_events_per_s: f64,
    /// Native end to end over component end to end.
    pub ratio_component_vs_native: f64,
    /// The component's calls alone, no database.
    pub component_alone_events_per_s: f64,
    /// The native rules alone, no database.
    pub native_alone_events_per_s: f64,
    /// Events the forum refused (the generator's double likes, …).
    pub refused_events: u64,
    /// Preview of a settings change (the daily cap halved) over the whole log of the end-to-end run, in seconds.
    pub preview_seconds: f64,
    /// Events of the log previewed per second.
    pub preview_events_per_s: f64,
    /// Preview rate over the component-alone rate (1.0: the preview costs no more than calling the component).
    pub ratio_preview_vs_component_alone: f64,
    /// Members whose points the previewed change moves (so the diff is seen to be real).
    pub preview_points_changed: usize,
    /// This process's peak RSS right after the preview (it holds the program's whole store in memory; the end-to-end
    /// run before it counts too, so this bounds the preview's peak from above).
    pub peak_rss_mib_after_preview: Option<f64>,
    /// Peak RSS replaying N events, when measured.
    pub peak_rss_mib_at_n: Option<f64>,
    /// Peak RSS replaying 10·N events, when measured.
    pub peak_rss_mib_at_10n: Option<f64>,
    /// End to end (component + SQLite + ledger) replaying N events in a fresh process (the peak-RSS child), per
    /// second of its CPU time.
    pub child_events_per_cpu_s_at_n: Option<f64>,
    /// The same replaying 10·N events.
    pub child_events_per_cpu_s_at_10n: Option<f64>,
    /// The 10·N rate over the N rate (goal ≥ 0.8: a ten times larger community replays nearly as fast).
    pub ratio_10n_vs_n: Option<f64>,
}

/// The settings change the preview row previews: the daily cap on likes received halved.
fn changed_settings(settings: &str) -> anyhow::Result<String> {
    let changed = settings.replace("likes-received-per-day = 200", "likes-received-per-day = 100");
    anyhow::ensure!(changed != settings, "the preset has no daily cap of 200 to change for the preview row");
    Ok(changed)
}

/// Time a preview of [`changed_settings`] on `forum` (the whole log: points, badges, access, nominations, the
/// program's store); (seconds, events previewed, members whose points move).
fn time_preview(forum: &mut Forum, settings: &str) -> anyhow::Result<(f64, usize, usize)> {
    let changed = changed_settings(settings)?;
    let started = Instant::now();
    let preview = forum.preview(&changed)?;
    Ok((started.elapsed().as_secs_f64(), preview.events, preview.points.len()))
}

/// Run the benchmark. `rss` measures peak memory at N and 10·N in child processes; `preview_only` skips the
/// native and no-program runs (`bench replay --preview`: the rows the preview is compared with, and it).
pub fn measure(events: u64, preset: &str, rss: bool, preview_only: bool) -> anyhow::Result<Figures> {
    let events = events.max(10_000);
    let settings = cadre_rules::presets::by_name(preset).with_context(|| format!("no preset {preset:?}"))?;
    let dir = tempfile::tempdir()?;

    let mut component = forum(dir.path(), "component.db", settings, Program::Component)?;
    let (component_rate, refused, component_cpu_rate) = replay_timed(&mut component, events)?;
    let (preview_seconds, previewed, preview_points_changed) = time_preview(&mut component, settings)?;
    let peak_rss_mib_after_preview = peak_rss_kib().map(|kib| kib as f64 / 1024.0);
    let (native_rate, bare_rate) = if preview_only {
        (f64::NAN, f64::NAN)
    } else {
        let mut native = forum(dir.path(), "native.db", settings, Program::Native)?;
        let (native_rate, _) = replay(&mut native, events)?;
        drop(native);
        let mut bare = forum(dir.path(), "bare.db", settings, Program::None)?;
        let (bare_rate, _) = replay(&mut bare, events)?;
        (native_rate, bare_rate)
    };

    // The same events without a database: the first run's log, delivered to the component and the rules alone.
    let logged: Vec<Event> = component
        .conn()
        .prepare("SELECT payload FROM events WHERE external_id LIKE 'b:%' ORDER BY id")?
        .query_map([], |row| row.get::<_, String>(0))?
        .map(|payload| Ok(serde_json::from_str(&payload?)?))
        .collect::<anyhow::Result<_>>()?;
    let runtime = Runtime::new(Limits::default(), None).map_err(anyhow::Error::from)?;
    let (mut plugin, _) = runtime.load_bytes("bundled program", PROGRAM_WASM)?;
    plugin.configure(settings)?.map_err(|e| anyhow::anyhow!("settings refused: {e:?}"))?;
    let started = Instant::now();
    for event in &logged {
        plugin.call(event)?;
    }
    let alone_rate = logged.len() as f64 / started.elapsed().as_secs_f64();
    let mut rules = super::native::NativeProgram::new(settings).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let started = Instant::now();
    for event in &logged {
        std::hint::black_box(rules.call(event));
    }
    let native_alone_rate = logged.len() as f64 / started.elapsed().as_secs_f64();
    drop(logged);

    let preview_rate = previewed as f64 / preview_seconds;
    let (at_n, at_10n) =
        if rss { (Some(child_rss(events, preset)?), Some(child_rss(events * 10, preset)?)) } else { (None, None) };
    let mib = |child: Option<(u64, f64)>| child.map(|(kib, _)| kib as f64 / 1024.0);
    let rate = |child: Option<(u64, f64)>| child.map(|(_, rate)| rate);
    let figures = Figures {
        events,
        preset: preset.to_owned(),
        component_sqlite_events_per_s: component_rate,
        component_sqlite_events_per_cpu_s: component_cpu_rate,
        native_sqlite_events_per_s: native_rate,
        forum_and_log_only_events_per_s: bare_rate,
        ratio_component_vs_native: native_rate / component_rate,
        component_alone_events_per_s: alone_rate,
        native_alone_events_per_s: native_alone_rate,
        refused_events: refused,
        preview_seconds,
        preview_events_per_s: preview_rate,
        ratio_preview_vs_component_alone: preview_rate / alone_rate,
        preview_points_changed,
        peak_rss_mib_after_preview,
        peak_rss_mib_at_n: mib(at_n),
        peak_rss_mib_at_10n: mib(at_10n),
        child_events_per_cpu_s_at_n: rate(at_n),
        child_events_per_cpu_s_at_10n: rate(at_10n),
        ratio_10n_vs_n: rate(at_10n).zip(rate(at_n)).map(|(ten, one)| ten / one),
    };
    Ok(figures)
}

impl Figures {
    /// The table a person reads.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let (f, events, mut out) = (self, self.events, String::new());
        let preset = &self.preset;
        let _ = writeln!(
            out,
            "cadre bench replay ({events} synthetic events, preset {preset}, batches of {BATCH}, durable SQLite)\n"
        );
        let _ = writeln!(out, "{:<52} {:>14}", "measurement", "events/s");
        let _ = writeln!(
            out,
            "{:<52} {:>14.0}",
            "component + SQLite + ledger (end to end)", f.component_sqlite_events_per_s
        );
        if let Some(cpu) = f.component_sqlite_events_per_cpu_s {
            let _ = writeln!(out, "{:<52} {:>14.0}", "  the same, per second of the replay's CPU time", cpu);
        }
        // (`--preview` skips the native and no-program runs.)
        let rate = |value: f64| if value.is_nan() { "skipped".to_owned() } else { format!("{value:.0}") };
        let _ = writeln!(
            out,
            "{:<52} {:>14}",
            "native rules + SQLite + ledger (same database work)",
            rate(f.native_sqlite_events_per_s)
        );
        let _ = writeln!(
            out,
            "{:<52} {:>14}",
            "forum change + event log only (no program)",
            rate(f.forum_and_log_only_events_per_s)
        );
        let _ = writeln!(out, "{:<52} {:>14.0}", "component alone (no database)", f.component_alone_events_per_s);
        let _ = writeln!(out, "{:<52} {:>14.0}", "native rules alone (no database)", f.native_alone_events_per_s);
        if !f.forum_and_log_only_events_per_s.is_nan() {
            f.render_breakdown(&mut out);
        }
        let _ = writeln!(out, "{:<52} {:>14}", "events refused by the forum (double likes, …)", f.refused_events);
        f.render_preview(&mut out);
        if let (Some(n), Some(ten)) = (f.peak_rss_mib_at_n, f.peak_rss_mib_at_10n) {
            let _ = writeln!(out, "{:<52} {:>11.1} MiB", format!("peak RSS replaying {events} events"), n);
            let _ = writeln!(out, "{:<52} {:>11.1} MiB", format!("peak RSS replaying {} events", events * 10), ten);
        }
        if let (Some(n), Some(ten), Some(ratio)) =
            (f.child_events_per_cpu_s_at_n, f.child_events_per_cpu_s_at_10n, f.ratio_10n_vs_n)
        {
            let _ =
                writeln!(out, "\nend to end in a fresh process (the peak-RSS children), per second of its CPU time");
            let _ = writeln!(out, "  {:<50} {:>14.0}", format!("events per CPU s replaying {events} events"), n);
            let _ =
                writeln!(out, "  {:<50} {:>14.0}", format!("events per CPU s replaying {} events", events * 10), ten);
            let _ = writeln!(out, "  {:<50} {:>14.2}", "ratio 10·N / N (goal ≥ 0.8)", ratio);
        }
        out
    }

    /// The ratio to the native rules and where the time of one event goes.
    fn render_breakdown(&self, out: &mut String) {
        use std::fmt::Write as _;
        let f = self;
        let _ = writeln!(out, "\n{:<52} {:>14.2}", "ratio component / native, end to end", f.ratio_component_vs_native);
        // Where the time of one event goes: the forum's change and the log, the program's call, and the rest (its
        // store in SQLite, savepoints, effects into the ledger), in microseconds per event.
        let micros = |rate: f64| 1e6 / rate;
        let total = micros(f.component_sqlite_events_per_s);
        let (forum_part, call_part) =
            (micros(f.forum_and_log_only_events_per_s), micros(f.component_alone_events_per_s));
        let _ = writeln!(out, "\nwhere the time of one event goes (µs; end to end {total:.1})");
        let _ = writeln!(out, "  {:<50} {:>14.1}", "forum change + event log", forum_part);
        let _ = writeln!(out, "  {:<50} {:>14.1}", "the component's call", call_part);
        let _ = writeln!(
            out,
            "  {:<50} {:>14.1}",
            "its store in SQLite, savepoints, ledger",
            (total - forum_part - call_part).max(0.0)
        );
    }

    /// The preview row.
    fn render_preview(&self, out: &mut String) {
        use std::fmt::Write as _;
        let (f, events) = (self, self.events);
        let _ =
            writeln!(out, "\npreview of a settings change (daily cap halved) over the {events} events' log, in memory");
        let _ = writeln!(out, "  {:<50} {:>14.2}", "seconds", f.preview_seconds);
        let _ = writeln!(out, "  {:<50} {:>14.0}", "events/s", f.preview_events_per_s);
        let _ =
            writeln!(out, "  {:<50} {:>14.2}", "ratio preview / component alone", f.ratio_preview_vs_component_alone);
        let _ = writeln!(out, "  {:<50} {:>14}", "members whose points would move", f.preview_points_changed);
        if let Some(peak) = f.peak_rss_mib_after_preview {
            let _ = writeln!(out, "  {:<50} {:>10.1} MiB", "peak RSS of the process after the preview", peak);
        }
    }
}
