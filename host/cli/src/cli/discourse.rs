//! `cadre discourse …`: Cadre beside a Discourse forum (see docs/discourse.md).
//!
//! `check` prints what Cadre would do on the site (read-only); `serve` receives Discourse's webhooks on their own
//! address, drains the write-back outbox and reconciles every 10 minutes (missed posts, accepts, likes and
//! unlikes of recent posts; group and badge drift); `reconcile` does that once; `import` reads a backup;
//! `write-back on|off` is the moderator's switch; `outbox` shows what is
//! pending or failed, and `outbox --retry` queues the failed rows again. A dedicated `serve` rather than a route of
//! `cadre serve`: a community on Discourse does not need Cadre's member-facing forum, the webhook port is the only
//! one Discourse must reach, and cadre-discourse stays free of cadre-web. Both may run at once on the same database
//! (SQLite WAL; each follows the program in force). Owns flags and output; the work is cadre-discourse's.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;

use super::{Resolved, exit, open_forum};
use cadre_discourse::api::{Api, Budget};
use cadre_discourse::outbox::Writer;
use cadre_discourse::reconcile::{Reconciled, reconcile_all};
use cadre_discourse::server::{ForumThread, HOOK_PATH, HookState};
use cadre_discourse::{DiscourseSettings, check};

/// The `cadre discourse` commands.
#[derive(Debug, Subcommand)]
pub enum DiscourseCommand {
    /// Check the API key, the badges and the groups against the site, and print what Cadre will do (changes nothing).
    Check,
    /// Receive Discourse's webhooks (POST /hooks/discourse) and drain the write-back outbox, until interrupted.
    Serve,
    /// Record the posts, accepted answers, likes and unlikes of the most recent posts that webhooks missed; compare
    /// the mapped groups and the mirrored badges with Cadre's (repair what Cadre granted, report what an admin added
    /// by hand).
    Reconcile {
        /// How many recent posts (one admin API request per 50 to list them, one per post for its likes).
        #[arg(long, default_value_t = 50)]
        posts: usize,
    },
    /// Import a community's history from a Discourse backup (.tar.gz): users, categories, topics, posts, likes and
    /// their removals, accepted answers. Resumable: run it again after an interruption.
    Import {
        /// The backup, as downloaded from Admin → Backups.
        backup: std::path::PathBuf,
    },
    /// Write a synthetic backup of a chosen size (users, topics, posts, likes, accepted answers in Discourse's backup
    /// format), to measure `import` on this machine. Defaults: 100,000 posts and about 300,000 likes.
    SyntheticBackup {
        /// Where to write the .tar.gz.
        out: std::path::PathBuf,
        /// Members.
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        /// Topics.
        #[arg(long, default_value_t = 10_000)]
        topics: u64,
        /// Posts per topic, its question included.
        #[arg(long, default_value_t = 10)]
        posts_per_topic: u64,
        /// Likes per post.
        #[arg(long, default_value_t = 3)]
        likes_per_post: u64,
    },
    /// Turn write-back to Discourse on (queues the current badges and tier members once) or off.
    WriteBack {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// The outbox: how many changes are pending, done and failed, with the last errors.
    Outbox {
        /// Queue the failed rows again.
        #[arg(long)]
        retry: bool,
    },
}

fn settings(cli: &Resolved) -> anyhow::Result<DiscourseSettings> {
    cli.settings.discourse.clone().ok_or_else(|| {
        cadre_core::forum::ForumError::Invalid("cadre.toml has no [discourse] table (see docs/discourse.md)".into())
            .into()
    })
}

fn api(settings: &DiscourseSettings) -> anyhow::Result<Api> {
    let key = settings.api_key()?;
    let budget = Budget::new(settings.requests_per_minute(), Duration::from_secs(60));
    let transport = settings.transport()?;
    Api::with_transport(settings.base_url(), &settings.api_username, key, budget, &transport)
        .with_context(|| format!("the Discourse site {}", settings.base_url()))
}

/// Print what a reconcile did, one line per part and one per drifted member.
fn print_reconciled(done: &Reconciled) {
    let (p, l) = (&done.posts, &done.likes);
    println!(
        "{} latest posts read: {} missed posts, {} missed accepts, {} missed unaccepts, {} missed destroys recorded \
         ({} filtered out).",
        p.listed, p.posts_added, p.accepts_added, p.unaccepts_added, p.destroyed_added, p.skipped
    );
    println!(
        "{} posts' likes compared: {} missed likes recorded, {} unlikes recorded, {} posts skipped.",
        l.posts, l.likes_added, l.likes_removed, l.skipped
    );
    for (group, name) in &done.groups.requeued {
        println!("{name} was missing from {group}: queued to be added again.");
    }
    for (group, name) in &done.groups.removed {
        println!("{name} no longer holds the tier of {group} in Cadre but is still in it: queued to be removed.");
    }
    for (group, name) in &done.groups.reported {
        println!("{name} is in {group} but not in its tier: reported to moderators, left in.");
    }
    for (badge, name) in &done.badges.regranted {
        println!("{name} holds {badge} in Cadre but not on Discourse: queued to be granted again.");
    }
    for (badge, name) in &done.badges.revoked {
        println!("{name} no longer holds {badge} in Cadre but still on Discourse: queued to be revoked.");
    }
    for (badge, name) in &done.badges.reported {
        println!("{name} holds {badge} on Discourse, not granted by Cadre: reported to moderators, left.");
    }
    if !done.changed() {
        println!("Nothing drifted: nothing was recorded, queued or reported.");
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Run a `cadre discourse` command.
pub fn run(cli: &Resolved, command: &DiscourseCommand) -> anyhow::Result<u8> {
    match command {
        DiscourseCommand::Check => {
            let settings = settings(cli)?;
            let mut forum = open_forum(cli)?;
            let declaration = forum.plugin_mut().map(|p| p.declaration().clone()).unwrap_or_default();
            let api = api(&settings)?;
            let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let findings = tokio.block_on(check::check(&api, &declaration, &settings.groups));
            let mut ok = settings.webhook_secret().map(|_| true).unwrap_or_else(|e| {
                println!("✗ {e}");
                false
            });
            for finding in &findings {
                println!("{} {}", if finding.ok { "✓" } else { "✗" }, finding.message);
                ok &= finding.ok;
            }
            println!(
                "Webhook: point Discourse at http://<this host>:{}{HOOK_PATH} (content type application/json).",
                settings.listen().port()
            );
            println!(
                "Write-back is {}.",
                if forum.write_back_enabled()? { "on" } else { "off (cadre discourse write-back on)" }
            );
            Ok(if ok { exit::OK } else { exit::INVALID_INPUT })
        }
        DiscourseCommand::WriteBack { state } => {
            let mut forum = open_forum(cli)?;
            let queued = forum.set_write_back(state == "on", now_ms())?;
            println!("Write-back is {state}; {queued} current grants queued for Discourse.");
            Ok(exit::OK)
        }
        DiscourseCommand::Outbox { retry } => {
            let mut forum = open_forum(cli)?;
            if *retry {
                println!("{} failed changes queued again.", forum.retry_outbox()?);
            }
            let counts = forum.outbox_counts()?;
            println!("pending {}  done {}  failed {}", counts.pending, counts.done, counts.failed);
            let mut statement = forum.conn().prepare(
                "SELECT id, change, member_id, subject, last_error FROM outbox WHERE last_error IS NOT NULL \
                 AND state <> 'done' ORDER BY id DESC LIMIT 20",
            )?;
            let rows = statement.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            for row in rows {
                let (id, change, member, subject, error) = row?;
                println!("#{id} {change} {subject} for member {member}: {error}");
            }
            Ok(exit::OK)
        }
        DiscourseCommand::Serve => serve(cli),
        DiscourseCommand::SyntheticBackup { out, users, topics, posts_per_topic, likes_per_post } => {
            let shape = cadre_discourse::synthetic::Shape {
                users: *users,
                topics: *topics,
                posts_per_topic: *posts_per_topic,
                likes_per_post: *likes_per_post,
            };
            let written =
                cadre_discourse::synthetic::write(out, &shape).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{}: {} posts, {} likes ({} removed later), {} accepted answers, {:.1} MB.",
                out.display(),
                written.posts,
                written.likes,
                written.removed,
                written.accepted,
                written.bytes as f64 / 1e6
            );
            Ok(exit::OK)
        }
        DiscourseCommand::Import { backup } => {
            // Filters only: the import needs neither the API key nor the webhook secret.
            let settings = cli.settings.discourse.clone().unwrap_or_default();
            let mut forum = open_forum(cli)?;
            let report = cadre_discourse::backup::import(&mut forum, &settings, backup, false)
                .with_context(|| format!("importing {}", backup.display()))?;
            println!(
                "{} rows read: {} events recorded, {} already recorded, {} skipped (filtered). Write-back is {}.",
                report.rows,
                report.recorded,
                report.duplicates,
                report.skipped,
                if forum.write_back_enabled()? { "on" } else { "off" }
            );
            Ok(exit::OK)
        }
        DiscourseCommand::Reconcile { posts } => {
            let settings = settings(cli)?;
            let api = api(&settings)?;
            let forum = forum_thread(cli)?;
            let db = cli.db();
            let conn = cadre_core::db::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let done = tokio.block_on(reconcile_all(&api, &forum, &conn, &Arc::new(settings), *posts))?;
            print_reconciled(&done);
            Ok(exit::OK)
        }
    }
}

/// The forum on a thread of its own (the webhook handler and reconciliation send it jobs).
fn forum_thread(cli: &Resolved) -> anyhow::Result<ForumThread> {
    let (db, cache, limits) = (cli.db(), cli.cache_dir(), cli.settings.limits());
    ForumThread::spawn(move || {
        let runtime = cadre_runtime::Runtime::new(limits, Some(cadre_runtime::ArtifactCache::new(&cache)))
            .map_err(anyhow::Error::from)
            .context("starting the plugin runtime")?;
        let mut forum =
            cadre_core::Forum::open(&db, runtime).with_context(|| format!("opening the forum {}", db.display()))?;
        forum.checkpoint_in_background().context("starting the checkpoints of the forum's log")?;
        Ok(forum)
    })
}

/// How often `serve` reconciles, and over how many recent posts: one request to list them, one each for its likes,
/// one per group and per badge (more for long lists) — about 25 every 10 minutes, a twentieth of the site's budget.
const RECONCILE_EVERY: Duration = Duration::from_secs(600);
const RECONCILE_POSTS: usize = 20;

fn serve(cli: &Resolved) -> anyhow::Result<u8> {
    let settings = settings(cli)?;
    let secret = settings.webhook_secret()?;
    let writer = Writer { api: api(&settings)?, groups: settings.groups.clone(), backoff: Duration::from_secs(1) };
    let db = cli.db();
    let forum = forum_thread(cli)?;
    let conn = cadre_core::db::open(&db).with_context(|| format!("opening {} for the outbox", db.display()))?;
    let hook_settings = Arc::new(settings.clone());
    let state = HookState { forum: forum.clone(), settings: hook_settings.clone(), secret: Arc::new(secret) };
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    tokio.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.listen())
            .await
            .with_context(|| format!("listening on {}", settings.listen()))?;
        println!("Receiving Discourse webhooks at http://{}{HOOK_PATH} (Ctrl-C to stop)", listener.local_addr()?);
        let server = tokio::spawn(cadre_discourse::server::serve(listener, state));
        let drain = async {
            // At start, then every RECONCILE_EVERY: what was missed while Cadre was down is recovered at once.
            let mut last_reconcile: Option<std::time::Instant> = None;
            loop {
                if last_reconcile.is_none_or(|at| at.elapsed() >= RECONCILE_EVERY) {
                    last_reconcile = Some(std::time::Instant::now());
                    match reconcile_all(&writer.api, &forum, &conn, &hook_settings, RECONCILE_POSTS).await {
                        Ok(done) if done.changed() => tracing::info!(?done, "reconciled: drift repaired or reported"),
                        Ok(_) => tracing::debug!("reconciled: nothing drifted"),
                        Err(error) => tracing::warn!(%error, "reconciling with Discourse"),
                    }
                }
                let declaration = match forum.run(|f| f.plugin_mut().map(|p| p.declaration().clone())).await {
                    Ok(declaration) => declaration.unwrap_or_default(),
                    Err(_) => break,
                };
                match writer.drain(&conn, &declaration).await {
                    Ok(report) if report.done + report.failed > 0 => tracing::info!(?report, "outbox drained"),
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "draining the outbox"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = drain => {}
            result = server => { result.context("the webhook server")?.context("serving webhooks")?; }
        }
        anyhow::Ok(())
    })?;
    Ok(exit::OK)
}
