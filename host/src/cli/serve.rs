//! `cadre serve`: open (or create) the forum database, install the bundled program if none is installed, with
//! `--demo` fill the demo community, and serve the web forum, the moderator panel and the JSON API.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{Cli, exit};
use crate::forum::Forum;
use crate::runtime::{ArtifactCache, Limits, Runtime};
use crate::web::{self, AppState, ForumHandle, demo};

/// Options of `cadre serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The forum database (created if missing).
    #[arg(long, default_value = "cadre.db")]
    pub db: PathBuf,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Fill an empty database with the demo community (members, topics, likes, badges, a private forum).
    #[arg(long)]
    pub demo: bool,
}

/// Open the forum, prepare it, and serve until interrupted.
pub fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<u8> {
    let (db, cache, want_demo) = (args.db.clone(), cli.cache_dir.clone(), args.demo);
    let (report, notes) = std::sync::mpsc::channel::<String>();
    let forum = ForumHandle::spawn(move || {
        let runtime = Runtime::new(Limits::default(), Some(ArtifactCache::new(&cache)))
            .map_err(anyhow::Error::from)
            .context("starting the plugin runtime")?;
        let mut forum = Forum::open(&db, runtime).with_context(|| format!("opening the forum {}", db.display()))?;
        prepare(&mut forum, want_demo, &report)?;
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
        axum::serve(listener, web::app(AppState::new(forum)))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")
    })?;
    Ok(exit::OK)
}

/// Install the bundled program if none is installed; fill the demo if asked and the forum is empty; make sure
/// there is somewhere to post.
pub fn prepare(forum: &mut Forum, want_demo: bool, report: &std::sync::mpsc::Sender<String>) -> anyhow::Result<()> {
    let now = web::auth::now_ms();
    if forum.program_name().is_none() {
        let at = if want_demo { now - 43 * 86_400_000 } else { now };
        forum
            .install(crate::bundled::PROGRAM_WASM, "system (cadre serve)", at)
            .context("installing the bundled program")?;
        let _ = report.send(format!("Installed the bundled program {}", forum.program_name().unwrap_or_default()));
    }
    let members: i64 = forum.conn().query_row("SELECT COUNT(*) FROM members", [], |row| row.get(0))?;
    if want_demo && members == 0 {
        let started = std::time::Instant::now();
        demo::fill(forum, now, |forum, member| {
            web::auth::set_password(forum.conn(), member, demo::PASSWORD)
                .map_err(|e| crate::forum::ForumError::Invalid(e.to_string()))
        })
        .context("filling the demo community")?;
        let events: i64 = forum.conn().query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))?;
        let _ = report.send(format!("Filled the demo community: {events} events in {:.1?}", started.elapsed()));
    } else if want_demo {
        let _ = report.send("The database already has members: the demo was not added again.".to_owned());
    }
    let categories: i64 = forum.conn().query_row("SELECT COUNT(*) FROM categories", [], |row| row.get(0))?;
    if categories == 0 {
        forum.create_category("general", "General", None)?;
        let _ = report.send("Created the category General".to_owned());
    }
    Ok(())
}
