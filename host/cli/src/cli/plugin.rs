//! `cadre plugin …`: what a moderator does with plugin components.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::output::{now, print, when};
use super::program::render_preview;
use super::{Resolved, exit, open_forum};
use cadre_core::events::{DeclarationChange, Installation, RecomputeOffer};
use cadre_model::{BadgeLevel, Info};
use cadre_runtime::Origin;

/// Plugin commands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install the forum's program (a component file; the bundled program when omitted). Over an installed
    /// program this is an upgrade: if it declares other badges or tiers, says so and needs --yes.
    Install {
        /// The component file (.wasm).
        file: Option<PathBuf>,
        /// Go ahead even though the declared badges or tiers change.
        #[arg(long)]
        yes: bool,
    },
    /// Upgrade to a new version of the program; if it declares other badges or tiers, says so and needs --yes.
    Upgrade {
        /// The component file (.wasm).
        file: PathBuf,
        /// Go ahead even though the declared badges or tiers change.
        #[arg(long)]
        yes: bool,
    },
    /// Return to the version the active one replaced (one step back each time), and say what recomputing the
    /// history the rolled-back version handled would change.
    Rollback,
    /// Recompute the whole history under the program and settings in force (after a rollback): shows what would
    /// change; --yes applies it.
    Recompute {
        /// Apply the recompute (without it, nothing changes).
        #[arg(long)]
        yes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Installed versions and the program's status.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a ready plugin crate on the plugin-author kit (cadre-pdk) in ./NAME: Cargo.toml, .gitignore, a sample
    /// program, events.jsonl, a native test and a test through this host.
    New {
        /// The plugin's name (and its directory): lowercase letters, digits, - and _.
        name: String,
        /// The kit's folder (`plugin/pdk` of a Cadre checkout) [default: the checkout this cadre was built from].
        #[arg(long)]
        pdk_path: Option<PathBuf>,
    },
    /// Run a component over a JSON Lines event file in a scratch forum: each event's effects, log lines and
    /// failures, then the resulting points, badges, access and nominations. Exits 1 if the program failed on any
    /// event.
    Test {
        /// The component file (.wasm).
        component: PathBuf,
        /// The events, in the format `cadre ingest` reads.
        #[arg(long)]
        events: PathBuf,
        /// The program's settings (TOML) [default: its defaults].
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print what a component says about itself (name, version, badges, tiers, settings with defaults).
    Inspect {
        /// The component file (.wasm); the program bundled with Cadre when omitted.
        file: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Run a plugin command.
pub fn run(cli: &Resolved, command: &PluginCommand) -> anyhow::Result<u8> {
    match command {
        PluginCommand::Inspect { file, json } => inspect(cli, file, *json),
        PluginCommand::New { name, pdk_path } => super::plugin_new::run(name, pdk_path.as_deref()),
        PluginCommand::Test { component, events, settings, json } => {
            super::plugin_test::run(cli, component, events, settings.as_deref(), *json)
        }
        PluginCommand::Install { file, yes } => {
            let wasm = match file {
                Some(file) => super::input::read_limited(file, super::input::MAX_COMPONENT_BYTES, "component")?,
                None => cadre_bundled::PROGRAM_WASM.to_vec(),
            };
            install(cli, &wasm, *yes)
        }
        PluginCommand::Upgrade { file, yes } => {
            let wasm = super::input::read_limited(file, super::input::MAX_COMPONENT_BYTES, "component")?;
            install(cli, &wasm, *yes)
        }
        PluginCommand::Rollback => {
            let mut forum = open_forum(cli)?;
            let actor = cli.actor(&forum)?;
            let rolled = forum.rollback(&actor, now())?;
            println!("rolled back to {} (from {})", rolled.to, rolled.from);
            if let Some(offer) = &rolled.offer {
                print!("{}", render_offer(&mut forum, offer));
            }
            Ok(exit::OK)
        }
        PluginCommand::Recompute { yes, json } => {
            let mut forum = open_forum(cli)?;
            let actor = cli.actor(&forum)?;
            let offer = forum.recompute_offer()?;
            let preview = forum.recompute_in_force(*yes, &actor, now())?;
            let value = serde_json::json!({ "applied": yes, "offer": offer, "preview": preview });
            print(*json, &value, |_| {
                let mut out = String::new();
                if let Some(offer) = &offer {
                    out += &format!(
                        "{} (no longer in force) handled events #{}–#{}\n",
                        offer.rolled_back.join(", "),
                        offer.first_event,
                        offer.last_event
                    );
                }
                if *yes {
                    out += "recomputed the whole history under the program and settings in force\n";
                } else {
                    out += "a recompute of the whole history under the program and settings in force would change \
                            (nothing was changed):\n";
                }
                out += &render_preview(&preview);
                if !yes {
                    out += "apply it with: cadre plugin recompute --yes\n";
                }
                out
            })?;
            Ok(exit::OK)
        }
        PluginCommand::List { json } => {
            let forum = super::open_existing_forum(cli)?;
            let versions = forum.versions()?;
            let status = cadre_core::program::reports::program_status(forum.conn())?;
            let value = serde_json::json!({ "versions": versions, "status": status });
            print(*json, &value, |_| {
                let mut out = String::new();
                for v in &versions {
                    let mark = if v.active {
                        "active  "
                    } else if v.previous {
                        "previous"
                    } else {
                        "        "
                    };
                    out += &format!(
                        "{mark} #{:<3} {} {}  sha256 {}  installed {} by {}\n",
                        v.id,
                        v.name,
                        v.version,
                        &v.hash[..12],
                        when(v.installed_at),
                        v.installed_by
                    );
                }
                if let Some(s) = &status {
                    out += &format!(
                        "quarantined: {}, dead letters: {}\n",
                        if s.quarantined { "YES" } else { "no" },
                        s.dead_letters
                    );
                } else {
                    out += "no program installed (cadre plugin install)\n";
                }
                out
            })?;
            Ok(exit::OK)
        }
    }
}

/// `install` and `upgrade`: one path, one confirmation.
fn install(cli: &Resolved, wasm: &[u8], yes: bool) -> anyhow::Result<u8> {
    let mut forum = open_forum(cli)?;
    let actor = cli.actor(&forum)?;
    let replacing = forum.program_name();
    let offer_before = forum.recompute_offer()?;
    match forum.install_checked(wasm, &actor, now(), yes)? {
        Installation::AlreadyActive => {
            println!("{} is the active version already: nothing changed", forum.program_name().unwrap_or_default());
        }
        Installation::NeedsConfirmation(change) => {
            eprint!("{}", render_change(&change));
            eprintln!(
                "replacing {} changes what the program declares; nothing was changed. Run again with --yes to go ahead.",
                replacing.unwrap_or_default()
            );
            return Ok(exit::INVALID_INPUT);
        }
        Installation::Installed(change) => {
            match replacing {
                Some(old) => println!("upgraded from {old} to {}", forum.program_name().unwrap_or_default()),
                None => println!("installed {}", forum.program_name().unwrap_or_default()),
            }
            print!("{}", render_change(&change));
            // Replacing a failing version offers a recompute of the events it handled, as a rollback does.
            let offer = forum.recompute_offer()?;
            if let Some(offer) =
                offer.filter(|offer| offer_before.as_ref().map(|o| &o.rolled_back) != Some(&offer.rolled_back))
            {
                print!("{}", render_offer(&mut forum, &offer));
            }
        }
    }
    Ok(exit::OK)
}

/// What a recompute offer (after a rollback, or an upgrade past a failing version) says: which events the
/// versions no longer in force handled, what recomputing would change,
/// and the commands to run.
fn render_offer(forum: &mut cadre_core::Forum, offer: &RecomputeOffer) -> String {
    let mut out = format!(
        "{} handled events #{}–#{} ({} events): what it made of them stays (a post it ignored is in no member's \
         record) until history is recomputed under {}.\n",
        offer.rolled_back.join(", "),
        offer.first_event,
        offer.last_event,
        offer.events(),
        offer.restored
    );
    match forum.recompute_in_force(false, "", 0) {
        Ok(preview) => {
            out += "a recompute of the whole history under the program and settings in force would change:\n";
            out += &render_preview(&preview);
        }
        Err(error) => out += &format!("the recompute could not be previewed: {error}\n"),
    }
    let status = cadre_core::program::reports::program_status(forum.conn()).ok().flatten();
    if let Some(status) = status.filter(|s| s.dead_letters > 0 || s.processed_up_to < s.events) {
        out += &format!(
            "first retry the {} dead letter(s) with the program in force: cadre deadletters retry\n",
            status.dead_letters
        );
    }
    out += "to recompute: cadre plugin recompute --yes (cadre plugin recompute previews it again)\n";
    out
}

fn inspect(cli: &Resolved, file: &Option<PathBuf>, json: bool) -> anyhow::Result<u8> {
    let runtime = cli.runtime()?;
    let (mut plugin, report) = match file {
        Some(file) => {
            let bytes = super::input::read_limited(file, super::input::MAX_COMPONENT_BYTES, "component")?;
            runtime
                .load_bytes(&file.display().to_string(), &bytes)
                .with_context(|| format!("inspecting {}", file.display()))?
        }
        None => runtime
            .load_bytes("the bundled program", cadre_bundled::PROGRAM_WASM)
            .context("inspecting the bundled program")?,
    };
    let file = file.as_ref().map_or_else(|| "(bundled)".to_owned(), |f| f.display().to_string());
    let contract = format!("{}@{}", cadre_runtime::CONTRACT_PACKAGE, plugin.contract_version());
    // `configure("")` must accept the defaults `describe` lists and declare the badges and tiers it lists: a host
    // calls it on every fresh instance, so a program whose defaults fail would fail every event.
    let defaults = match plugin.check("").with_context(|| format!("calling configure(\"\") on {file}"))? {
        Ok(declaration) => {
            let info = plugin.info();
            let ids = |badges: &[cadre_model::Badge], tiers: &[cadre_model::Tier]| {
                let mut ids: Vec<String> = badges.iter().map(|b| format!("badge {}", b.id)).collect();
                ids.extend(tiers.iter().map(|t| format!("tier {}", t.id)));
                ids.sort();
                ids
            };
            let described = ids(&info.badges, &info.tiers);
            let declared = ids(&declaration.badges, &declaration.tiers);
            if described == declared {
                Ok(())
            } else {
                Err(format!(
                    "configure(\"\") declares [{}] but describe lists [{}]; they must agree",
                    declared.join(", "),
                    described.join(", ")
                ))
            }
        }
        Err(errors) => Err(format!(
            "configure(\"\") refuses the program's own defaults: {}",
            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
        )),
    };
    if json {
        let value = serde_json::json!({
            "file": file,
            "sha256": plugin.hash(),
            "contract": contract,
            "defaults": match &defaults { Ok(()) => "accepted".to_owned(), Err(e) => e.clone() },
            "artifact": if report.origin == Origin::Cached { "cached" } else { "compiled" },
            "forbidden_imports": plugin.forbidden_imports(),
            "info": plugin.info(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", render_info(plugin.info(), &contract));
        println!("sha256:   {}", plugin.hash());
        if !plugin.forbidden_imports().is_empty() {
            println!("warning: imports outside the contract (each traps if called):");
            for import in plugin.forbidden_imports() {
                println!("  {import}");
            }
        }
    }
    if let Err(problem) = defaults {
        eprintln!("error: {file}: {problem}");
        return Ok(exit::INVALID_INPUT);
    }
    Ok(exit::OK)
}

/// The text form of `describe`, with the contract version the component speaks (`cadre:forum@0.2.0`).
pub fn render_info(info: &Info, contract: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", info.name, info.version);
    let _ = writeln!(out, "contract: {contract}");
    let _ = writeln!(out, "\nbadges ({}):", info.badges.len());
    for badge in &info.badges {
        let level = match badge.level {
            BadgeLevel::Bronze => "bronze",
            BadgeLevel::Silver => "silver",
            BadgeLevel::Gold => "gold",
        };
        let _ = writeln!(out, "  {:<20} {:<7} {} — {}", badge.id, level, badge.name, badge.description);
    }
    let _ = writeln!(out, "\ntiers ({}):", info.tiers.len());
    for tier in &info.tiers {
        let _ = writeln!(out, "  {:<20} {} — {}", tier.id, tier.name, tier.description);
    }
    let _ = writeln!(out, "\nsettings ({}):", info.settings.len());
    for setting in &info.settings {
        let _ = writeln!(out, "  {} = {}\n      {}", setting.path, setting.default_value, setting.description);
    }
    out
}

/// What an install or upgrade changes in the declared badges and tiers.
fn render_change(change: &DeclarationChange) -> String {
    let mut out = String::new();
    for (what, list) in [
        ("badges added", &change.badges_added),
        ("badges removed", &change.badges_removed),
        ("tiers added", &change.tiers_added),
        ("tiers removed", &change.tiers_removed),
    ] {
        if !list.is_empty() {
            out += &format!("{what}: {}\n", list.join(", "));
        }
    }
    out
}
