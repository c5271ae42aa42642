//! `cadre serve`: open (or create) the forum database (`--db`, default `./cadre.db`), install the bundled program if none is installed, with
//! `--demo` fill the demo community, and serve the web forum, the moderator panel and the JSON API.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;

use super::input::InputRefused;
use super::{Resolved, exit};
use crate::demo;
use cadre_core::Forum;
use cadre_runtime::{ArtifactCache, Runtime};
use cadre_web::{self as web, AppState, ForumHandle};

/// Options of `cadre serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Fill an empty database with the demo community (members, topics, likes, badges, a private forum).
    #[arg(long)]
    pub demo: bool,
    /// Make this member a moderator who can log in (registered if missing), with the password in the environment
    /// variable `CADRE_MODERATOR_PASSWORD`: how a forum without the demo gets its first moderator.
    #[arg(long, value_name = "NAME")]
    pub moderator: Option<String>,
    /// Deliver a tick (the program's time-based rules: inactivity, tier reviews) every this many seconds while
    /// serving; 0 turns it off (then run `cadre tick` from cron). Ticks are keyed by the minute, so a tick from cron
    /// in the same minute is a no-op.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub tick_every: u64,
}

/// Register (or promote) the moderator named on the command line and set their password.
fn ensure_moderator(forum: &mut Forum, name: &str, password: &str) -> anyhow::Result<String> {
    let id = match forum.member_id(name) {
        Ok(id) => id,
        Err(_) => forum.register(name, web::auth::now_ms(), true)?,
    };
    cadre_core::forum::members::set_moderator(forum.conn(), id)?;
    web::auth::set_password(forum.conn(), id, password).map_err(|e| anyhow::anyhow!("setting the password: {e}"))?;
    Ok(format!("{name} is a moderator and can log in"))
}

/// Tick while serving, the first at once. A tick the program fails on waits in the dead letters like any event (the
/// panel shows it); it is logged here and never stops the server.
async fn deliver_ticks(forum: ForumHandle, every: std::time::Duration) {
    use cadre_core::events::Delivery;
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let at = web::auth::now_ms();
        match forum.run(move |forum| forum.tick(&format!("tick:{}", at / 60_000), at)).await {
            Ok(Ok(outcome)) => {
                if let Delivery::DeadLettered { error } = outcome.delivery {
                    tracing::warn!("the program failed on a tick ({error}); it waits in the dead letters");
                }
            }
            Ok(Err(error)) => tracing::warn!("a tick could not be recorded: {error}"),
            Err(_stopped) => return,
        }
    }
}

/// Open the forum, prepare it, and serve until interrupted.
pub fn run(cli: &Resolved, args: &ServeArgs) -> anyhow::Result<u8> {
    let (db, cache, limits, want_demo) = (cli.db(), cli.cache_dir(), cli.settings.limits(), args.demo);
    let moderator = match &args.moderator {
        Some(name) => {
            // Both are the operator's input: refused (exit code 2) before anything is opened.
            let password = std::env::var("CADRE_MODERATOR_PASSWORD").map_err(|_| {
                InputRefused(
                    "--moderator needs the password in the environment variable CADRE_MODERATOR_PASSWORD".into(),
                )
            })?;
            if !web::auth::PASSWORD_LEN.contains(&password.len()) {
                return Err(InputRefused("CADRE_MODERATOR_PASSWORD must have 8 to 128 characters".into()).into());
            }
            Some((name.clone(), password))
        }
        None => None,
    };
    let (report, notes) = std::sync::mpsc::channel::<String>();
    let forum = ForumHandle::spawn(move || {
        let runtime = Runtime::new(limits, Some(ArtifactCache::new(&cache)))
            .map_err(anyhow::Error::from)
            .context("starting the plugin runtime")?;
        let mut forum = Forum::open(&db, runtime).with_context(|| format!("opening the forum {}", db.display()))?;
        // No request waits for a checkpoint of the log: a thread of its own copies it back.
        forum.checkpoint_in_background().context("starting the checkpoints of the forum's log")?;
        for note in demo::prepare(&mut forum, want_demo)? {
            let _ = report.send(note);
        }
        if let Some((name, password)) = moderator {
            let _ = report.send(ensure_moderator(&mut forum, &name, &password)?);
        }
        Ok(forum)
    })?;
    for note in notes.try_iter() {
        println!("{note}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("listening on {}", args.addr))?;
        println!("Cadre is serving the forum at http://{}/ (Ctrl-C to stop)", listener.local_addr()?);
        if args.demo {
            println!("Demo logins (password {:?}):", demo::PASSWORD);
            for (name, what) in demo::LOGINS {
                println!("  {name:<6} {what}");
            }
        }
        if args.tick_every > 0 {
            tokio::spawn(deliver_ticks(forum.clone(), std::time::Duration::from_secs(args.tick_every)));
        }
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        web::serve(listener, AppState::with_settings(forum, &cli.settings.web), shutdown).await.context("serving")
    })?;
    Ok(exit::OK)
}
