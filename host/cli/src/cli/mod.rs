//! The `cadre` command line: argument parsing (clap), then one function per command.
//!
//! Owns: flags, output formats (text and `--json`), exit codes. Does not own any rule: commands call the
//! library modules (`runtime`, `bench`, …).

mod discourse;
mod input;
mod moderation;
mod output;
mod plugin;
mod plugin_new;
mod plugin_test;
mod program;
mod replay;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes scripts can trust.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Something failed (a runtime error, an I/O error).
    pub const FAILURE: u8 = 1;
    /// Bad input: the file, configuration or arguments were refused (nothing was changed).
    pub const INVALID_INPUT: u8 = 2;
    /// Something named does not exist (member, nomination, program).
    pub const NOT_FOUND: u8 = 3;
}

/// Cadre: a super-user program engine for community forums.
#[derive(Debug, Parser)]
#[command(name = "cadre", version, about, long_about = None)]
pub struct Cli {
    /// The host's configuration file (database, cache, sandbox limits); `./cadre.toml` is read if present.
    #[arg(long = "host-config", global = true, env = "CADRE_CONFIG", value_name = "FILE")]
    pub host_config: Option<PathBuf>,
    /// Where compiled plugin artifacts are cached (by content hash) [default: .cadre/cache, or `cache-dir` in the config].
    #[arg(long, global = true, env = "CADRE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The forum database (SQLite) [default: ./cadre.db, or `db` in the config].
    #[arg(long, global = true, env = "CADRE_DB")]
    pub db: Option<PathBuf>,
    /// The moderator acting (name or id), for commands that change something; recorded in the audit log.
    #[arg(long = "as", global = true, env = "CADRE_MODERATOR", value_name = "MODERATOR")]
    pub acting: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plugins: install, upgrade, rollback, list, inspect; for authors: new, test.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Replay a Stack Exchange dump through the program into a forum database, and report.
    Replay(replay::ReplayArgs),
    /// The program's settings: show, check, preview, apply.
    #[command(subcommand)]
    Program(program::ProgramCommand),
    /// The review queue: list, show, approve, reject.
    #[command(subcommand)]
    Queue(moderation::QueueCommand),
    /// Members: register, show, add (invite) to a tier, remove.
    #[command(subcommand)]
    Member(moderation::MemberCommand),
    /// A member's ledger: every point change with its rule and reason, and the running total.
    Ledger {
        /// A name, or an id written #3 (quoted in a shell); a bare number is an id unless a member is named so.
        member: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The audit log, newest first.
    Audit {
        /// Only this member (a name, or an id written #3).
        #[arg(long)]
        member: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Tell the program that time passed (run it daily, e.g. from cron): inactivity rules run on ticks.
    Tick,
    /// Record something that happened to a member outside the forum (contract 0.2.0's external event), e.g.
    /// `cadre event ada certification.passed --attr exam=admin --attr score=87 --source lms --id exam-4411`.
    Event(moderation::EventArgs),
    /// Messages for moderators: quarantines, gaming flags (mutual likes), inactivity warnings; newest first.
    Notices {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Events the program failed on: list, retry.
    #[command(subcommand)]
    Deadletters(moderation::DeadLetterCommand),
    /// Ingest events from another platform (JSON Lines; validated whole before anything is applied).
    Ingest {
        /// The .jsonl file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the web forum, the moderator panel and the JSON API (`--demo` fills a demo community).
    Serve(serve::ServeArgs),
    /// Cadre beside a Discourse forum: check, serve (webhooks in, write-back out), write-back on|off, outbox.
    #[command(subcommand)]
    Discourse(discourse::DiscourseCommand),
    /// Benchmarks, printed as tables of ratios measured in one run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Replay a synthetic community end to end: component vs native rules with SQLite, without it, peak memory.
    Replay(replay::BenchReplayArgs),
    /// `cadre replay`'s peak memory as a real Stack Exchange dump grows (the site copied 1, 10, 100 times), with
    /// the votes sorted in memory and with the sort spilling to disk.
    Dump(crate::bench::dump::BenchDumpArgs),
    /// The plugin runtime: compile, cached load, instantiate, per-call cost (component vs native), fuel on vs off.
    Runtime {
        /// Hook calls per measurement.
        #[arg(long, default_value_t = 100_000)]
        calls: u64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The web forum under load over real HTTP on 127.0.0.1: members log in, ask, answer, like, unlike and accept
    /// through the JSON API and the forms while a moderator reads the panel; writes/s, latency, errors, and how long
    /// a like takes to show in points and badges. Starts its own `cadre serve` on a new database; stops by itself.
    Web(WebBenchArgs),
    /// One like through the web to the badge visible (issue 16's live row): on a forum served by `cadre serve` on
    /// 127.0.0.1, authors whose answer four members liked get a fifth like through the JSON API, timed until their
    /// public profile (`/api/u/NAME`) shows the badge; p50/p99/max on the idle server, and with --under-load beside
    /// the `bench web` load. Starts its own server on a new database; bounded; stops by itself.
    Live(LiveBenchArgs),
}

/// Options of `cadre bench live`.
#[derive(Debug, clap::Args)]
pub struct LiveBenchArgs {
    /// Timed likes per phase, each the fifth distinct like of its own author.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub likes: u64,
    /// Also time as many likes again while this many members send `cadre bench web`'s load (0: idle only).
    #[arg(long, value_name = "MEMBERS", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=512))]
    pub under_load: u16,
    /// The load's pause after each member's write, in milliseconds (0: as fast as the server answers).
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// Build the forum in this (new or empty) directory and keep it afterwards (default: a temporary one).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `cadre bench web`.
#[derive(Debug, clap::Args)]
pub struct WebBenchArgs {
    /// Concurrent members (half use the JSON API, half the HTML forms).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub members: u16,
    /// How long the load runs, in seconds (at most 600).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub seconds: u64,
    /// Stop after this many writes, whatever the time.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_writes: u64,
    /// Likes in the forum before the load (10 per seeded answer), e.g. 100000.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub seed_likes: u64,
    /// Answers per seeded topic (with --seed-likes).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub answers_per_topic: u64,
    /// Pause after each member's write, in milliseconds (0: as fast as the server answers).
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// Also install this hostile component live (a .wasm file, or the name of a test component such as
    /// `infinite-loop`, `memory-bomb`, `panic` where this checkout built them) under load, then the fixed program
    /// and `cadre deadletters retry`: three phases of --seconds each, with their figures.
    #[arg(long, value_name = "COMPONENT")]
    pub hostile: Option<String>,
    /// Build the forum in this (new or empty) directory and keep it afterwards (default: a temporary one).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parse the command line, run it, print any error with its causes, and return the exit code.
pub fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let settings = match cli.host_settings() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::from(exit::INVALID_INPUT);
        }
    };
    let cli = Resolved { cli, settings };
    let result = match &cli.command {
        Command::Plugin(command) => plugin::run(&cli, command),
        Command::Replay(args) => replay::run(&cli, args),
        Command::Bench(BenchCommand::Replay(args)) => replay::bench(args),
        Command::Bench(BenchCommand::Dump(args)) => crate::bench::dump::run(args),
        Command::Program(command) => program::run(&cli, command),
        Command::Queue(command) => moderation::queue(&cli, command),
        Command::Member(command) => moderation::member(&cli, command),
        Command::Ledger { member, json } => moderation::ledger(&cli, member, *json),
        Command::Audit { member, limit, json } => moderation::audit(&cli, member.as_deref(), *limit, *json),
        Command::Deadletters(command) => moderation::dead_letters(&cli, command),
        Command::Notices { limit, json } => moderation::notices(&cli, *limit, *json),
        Command::Tick => moderation::tick(&cli),
        Command::Event(args) => moderation::event(&cli, args),
        Command::Ingest { file, json } => moderation::ingest(&cli, file, *json),
        Command::Serve(args) => serve::run(&cli, args),
        Command::Discourse(command) => discourse::run(&cli, command),
        Command::Bench(BenchCommand::Runtime { calls, json }) => bench_runtime(*calls, *json),
        Command::Bench(BenchCommand::Web(args)) => bench_web(args),
        Command::Bench(BenchCommand::Live(args)) => bench_live(args),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(error) => {
            let code = exit_code(&error);
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            // Under `--json` (clap accepts it only on commands that print JSON) the error is also JSON, on stdout
            // where the script reads the answer: `{"error": …, "causes": […], "exit_code": N}`. The text stays on
            // stderr for the person watching.
            if std::env::args_os().any(|arg| arg == "--json") {
                let causes: Vec<String> = error.chain().skip(1).map(|cause| cause.to_string()).collect();
                let value = serde_json::json!({ "error": error.to_string(), "causes": causes, "exit_code": code });
                println!("{value}");
            }
            std::process::ExitCode::from(code)
        }
    }
}

/// `cadre bench runtime`: measure, then print the figures.
fn bench_runtime(calls: u64, json: bool) -> anyhow::Result<u8> {
    let figures = crate::bench::runtime::measure(calls)?;
    output::print(json, &figures, crate::bench::runtime::Figures::render)?;
    Ok(exit::OK)
}

/// `cadre bench web`: prepare a forum, serve it with this very binary, drive the load, print the figures. Exit 1
/// when any request failed (the figures are printed all the same).
fn bench_web(args: &WebBenchArgs) -> anyhow::Result<u8> {
    let plan = crate::bench::web::Plan {
        members: usize::from(args.members),
        duration: std::time::Duration::from_secs(args.seconds),
        max_writes: args.max_writes,
        seed_likes: args.seed_likes,
        answers_per_topic: args.answers_per_topic as usize,
        think: std::time::Duration::from_millis(args.think_ms),
        ..Default::default()
    };
    let (exe, dir, _temp) = served_bench(args.dir.as_ref())?;
    if let Some(hostile) = &args.hostile {
        let path = std::path::Path::new(hostile);
        let component = if path.exists() {
            path.to_owned()
        } else {
            std::path::Path::new(cadre_bundled::TEST_COMPONENTS_DIR).join(format!("{}.wasm", hostile.replace('-', "_")))
        };
        if !component.exists() {
            return Err(input::InputRefused(format!(
                "no component {hostile} (a .wasm file, or a test component built here)"
            ))
            .into());
        }
        let report = crate::bench::web::bench_hostile(&exe, &dir, &component, &plan)?;
        output::print(args.json, &report, crate::bench::web::HostileReport::render)?;
        let errors = report.healthy.errors + report.hostile.errors + report.recovery.errors;
        return Ok(if errors == 0 { exit::OK } else { exit::FAILURE });
    }
    let report = crate::bench::web::bench(&exe, &dir, &plan)?;
    output::print(args.json, &report, crate::bench::web::Report::render)?;
    Ok(if report.figures.errors == 0 { exit::OK } else { exit::FAILURE })
}

/// A served bench's binary (this one) and folder (`dir`, or a temporary one, deleted when the guard drops).
fn served_bench(dir: Option<&PathBuf>) -> anyhow::Result<(PathBuf, PathBuf, Option<tempfile::TempDir>)> {
    use anyhow::Context;
    let exe = std::env::current_exe().context("finding the cadre binary to serve with")?;
    Ok(match dir {
        Some(dir) => (exe, dir.clone(), None),
        None => {
            let temp = tempfile::tempdir().context("creating a temporary directory")?;
            (exe, temp.path().to_owned(), Some(temp))
        }
    })
}

/// `cadre bench live`: prepare a forum, serve it with this very binary, time likes to the badge (idle, then under
/// load when asked), print the figures. Exit 1 when any sample or load request failed (the figures are printed all
/// the same).
fn bench_live(args: &LiveBenchArgs) -> anyhow::Result<u8> {
    let plan = crate::bench::live::LivePlan {
        likes: args.likes as usize,
        under_load: usize::from(args.under_load),
        think: std::time::Duration::from_millis(args.think_ms),
    };
    let (exe, dir, _temp) = served_bench(args.dir.as_ref())?;
    let report = crate::bench::live::bench(&exe, &dir, &plan)?;
    output::print(args.json, &report, crate::bench::live::Report::render)?;
    Ok(if report.errors() == 0 { exit::OK } else { exit::FAILURE })
}

/// The exit code an error stands for.
fn exit_code(error: &anyhow::Error) -> u8 {
    use cadre_core::forum::ForumError;
    for cause in error.chain() {
        if cause.downcast_ref::<cadre_runtime::LoadError>().is_some()
            || cause.downcast_ref::<input::InputRefused>().is_some()
            || cause
                .downcast_ref::<cadre_import::ingest::IngestError>()
                .is_some_and(|e| !matches!(e, cadre_import::ingest::IngestError::Apply { .. }))
        {
            return exit::INVALID_INPUT;
        }
        if let Some(
            cadre_import::replay::ReplayError::Missing { .. }
            | cadre_import::replay::ReplayError::Settings(_)
            | cadre_import::replay::ReplayError::NotAReplay { .. }
            | cadre_import::replay::ReplayError::OtherDump { .. }
            | cadre_import::replay::ReplayError::OtherSettings(_)
            | cadre_import::replay::ReplayError::MarkerNotInDump { .. },
        ) = cause.downcast_ref::<cadre_import::replay::ReplayError>()
        {
            return exit::INVALID_INPUT;
        }
        match cause.downcast_ref::<ForumError>() {
            Some(ForumError::NotFound(_)) => return exit::NOT_FOUND,
            Some(ForumError::Invalid(_) | ForumError::Settings(_) | ForumError::Plugin(_) | ForumError::Program(_)) => {
                return exit::INVALID_INPUT;
            }
            _ => {}
        }
    }
    exit::FAILURE
}

/// The command line together with the configuration file it points at.
pub struct Resolved {
    /// The parsed command line.
    pub cli: Cli,
    /// The configuration file (defaults where absent).
    pub settings: crate::settings::HostSettings,
}

impl std::ops::Deref for Resolved {
    type Target = Cli;
    fn deref(&self) -> &Cli {
        &self.cli
    }
}

impl Resolved {
    /// The database: `--db` / `CADRE_DB`, else the config's `db`, else `./cadre.db`.
    pub fn db(&self) -> PathBuf {
        self.cli.db.clone().or_else(|| self.settings.db.clone()).unwrap_or_else(|| PathBuf::from("cadre.db"))
    }

    /// The artifact cache: `--cache-dir` / `CADRE_CACHE_DIR`, else the config's `cache-dir`, else `.cadre/cache`.
    pub fn cache_dir(&self) -> PathBuf {
        self.cli
            .cache_dir
            .clone()
            .or_else(|| self.settings.cache_dir.clone())
            .unwrap_or_else(|| PathBuf::from(".cadre/cache"))
    }

    /// A plugin runtime with the configured limits and cache.
    pub fn runtime(&self) -> anyhow::Result<cadre_runtime::Runtime> {
        use anyhow::Context;
        cadre_runtime::Runtime::new(self.settings.limits(), Some(cadre_runtime::ArtifactCache::new(self.cache_dir())))
            .map_err(anyhow::Error::from)
            .context("starting the plugin runtime")
    }
}

/// Open the forum database (see [`Resolved::db`]) with the plugin runtime.
pub fn open_forum(cli: &Resolved) -> anyhow::Result<cadre_core::Forum> {
    use anyhow::Context;
    let db = cli.db();
    cadre_core::Forum::open(&db, cli.runtime()?).with_context(|| format!("opening the forum database {}", db.display()))
}

/// Open the forum database for a command that only reads it: a database that does not exist is refused (exit 2)
/// instead of being created empty, so a mistyped `--db` says so rather than showing an empty forum.
pub fn open_existing_forum(cli: &Resolved) -> anyhow::Result<cadre_core::Forum> {
    let db = cli.db();
    if !db.exists() {
        return Err(input::InputRefused(format!(
            "no forum database at {} (this command only reads one and never creates it; check --db or CADRE_DB)",
            db.display()
        ))
        .into());
    }
    open_forum(cli)
}

impl Cli {
    /// The configuration file: `--host-config` (must exist), else `./cadre.toml` if present.
    pub fn host_settings(&self) -> Result<crate::settings::HostSettings, crate::settings::SettingsError> {
        match &self.host_config {
            Some(path) => crate::settings::HostSettings::load(path, true),
            None => crate::settings::HostSettings::load(std::path::Path::new("cadre.toml"), false),
        }
    }
}

impl Cli {
    /// The acting moderator's id (`--as`), required for moderators' actions.
    pub fn moderator(&self, forum: &cadre_core::Forum) -> anyhow::Result<u64> {
        let name = self.acting.as_deref().ok_or_else(|| {
            cadre_core::forum::ForumError::Invalid(
                "name the moderator acting with --as NAME (or CADRE_MODERATOR)".into(),
            )
        })?;
        let id = cadre_core::program::reports::resolve_member(forum.conn(), name)?;
        forum.moderator_label(id)?;
        Ok(id)
    }

    /// How the audit log names whoever runs this command: the moderator (`--as`), or the operator at the shell.
    pub fn actor(&self, forum: &cadre_core::Forum) -> anyhow::Result<String> {
        match &self.acting {
            Some(_) => Ok(forum.moderator_label(self.moderator(forum)?)?),
            None => Ok("operator (command line)".to_owned()),
        }
    }
}
