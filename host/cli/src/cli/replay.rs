//! `cadre replay SITE_DIR`: replay a Stack Exchange dump through the program into a forum database, print the
//! report (text or `--json`), and optionally write `user_id,points` per user.
//!
//! Owns the flags and the output; the work is `cadre_import::replay`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

/// `cadre replay` flags.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The site folder, with Posts.xml, Votes.xml and Users.xml (plain, .xz or .gz).
    pub site: PathBuf,
    /// A preset's settings (stackexchange, legends, insiders); the default is stackexchange.
    #[arg(long, conflicts_with = "config")]
    pub preset: Option<String>,
    /// The program's settings from a TOML file instead of a preset. (The forum database is the global `--db`, by
    /// default `<site folder name>.replay.db` here; the host's own configuration file is the global `--host-config`.)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write `user_id,points` for every user with non-zero points (Stack Exchange user ids, sorted) to this file.
    #[arg(long)]
    pub per_user: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// No progress display.
    #[arg(long)]
    pub quiet: bool,
    /// Dump items per transaction (a crash redoes at most one batch).
    #[arg(long, default_value_t = cadre_import::replay::feed::BATCH)]
    pub batch: usize,
}

/// Run `cadre replay`.
pub fn run(cli: &super::Resolved, args: &ReplayArgs) -> anyhow::Result<u8> {
    let settings = match (&args.preset, &args.config) {
        (_, Some(file)) => super::input::read_settings(file)?,
        (Some(name), None) => cadre_rules::presets::by_name(name)
            .with_context(|| {
                let names: Vec<&str> = cadre_rules::presets::ALL.iter().map(|(n, _)| *n).collect();
                format!("no preset {name:?}; the presets are {}", names.join(", "))
            })?
            .to_owned(),
        (None, None) => cadre_rules::presets::STACKEXCHANGE.to_owned(),
    };
    let db = match &cli.cli.db {
        Some(db) => db.clone(),
        None => {
            let name = args.site.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "site".into());
            PathBuf::from(format!("{name}.replay.db"))
        }
    };
    let runtime = cli.runtime()?;
    let options = cadre_import::replay::Options {
        site: args.site.clone(),
        settings,
        db: db.clone(),
        quiet: args.quiet,
        batch: args.batch,
        votes_in_memory: cadre_import::replay::sorted_votes::VOTES_IN_MEMORY,
        posts_in_memory: cadre_import::replay::post_index::POSTS_IN_MEMORY,
    };
    let replayed = cadre_import::replay::replay(&options, runtime)
        .with_context(|| format!("replaying {} into {}", args.site.display(), db.display()))?;
    if let Some(path) = &args.per_user {
        cadre_import::replay::write_per_user(&replayed.points, path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&replayed.report)?);
    } else {
        print!("{}", replayed.report.text());
    }
    Ok(super::exit::OK)
}

/// `cadre bench replay` flags.
#[derive(Debug, Args)]
pub struct BenchReplayArgs {
    /// Synthetic events per run (memory is also measured at ten times this).
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// The settings the program runs under.
    #[arg(long, default_value = "stackexchange")]
    pub preset: String,
    /// Skip the peak-memory measurement (it replays N and 10·N events in child processes).
    #[arg(long)]
    pub no_rss: bool,
    /// Measure only what the preview row needs: the end-to-end replay that builds the log, a preview of a settings
    /// change over it, and the component alone (skips the native and no-program runs).
    #[arg(long)]
    pub preview: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Internal: replay N events with the component and print the peak RSS and events per CPU second (the child of the measurement).
    #[arg(long, hide = true)]
    pub rss_child: bool,
}

/// Run `cadre bench replay`.
pub fn bench(args: &BenchReplayArgs) -> anyhow::Result<u8> {
    if args.rss_child {
        let settings = cadre_rules::presets::by_name(&args.preset).context("no such preset")?;
        let (peak_kib, events_per_s) = crate::bench::replay::rss_child(args.events, settings)?;
        println!("{peak_kib} {events_per_s}");
        return Ok(super::exit::OK);
    }
    let figures = crate::bench::replay::measure(args.events, &args.preset, !args.no_rss, args.preview)?;
    super::output::print(args.json, &figures, crate::bench::replay::Figures::render)?;
    Ok(super::exit::OK)
}
