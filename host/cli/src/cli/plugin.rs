//! `cadre plugin …`: what a moderator does with plugin components.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::output::{now, print, when};
use super::{Resolved, exit, open_forum};
use cadre_core::events::DeclarationChange;
use cadre_model::{BadgeLevel, Info};
use cadre_runtime::Origin;

/// Plugin commands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install the forum's program (a component file; the bundled program when omitted).
    Install {
        /// The component file (.wasm).
        file: Option<PathBuf>,
    },
    /// Upgrade to a new version of the program; if it declares other badges or tiers, says so and needs --yes.
    Upgrade {
        /// The component file (.wasm).
        file: PathBuf,
        /// Go ahead even though the declared badges or tiers change.
        #[arg(long)]
        yes: bool,
    },
    /// Return to the previously installed version.
    Rollback,
    /// Installed versions and the program's status.
    List {
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
        PluginCommand::Install { file } => {
            let wasm = match file {
                Some(file) => std::fs::read(file).with_context(|| format!("reading {}", file.display()))?,
                None => cadre_bundled::PROGRAM_WASM.to_vec(),
            };
            let mut forum = open_forum(cli)?;
            let actor = cli.actor(&forum)?;
            let change = forum.install(&wasm, &actor, now())?;
            println!("installed {}", forum.program_name().unwrap_or_default());
            print!("{}", render_change(&change));
            Ok(exit::OK)
        }
        PluginCommand::Upgrade { file, yes } => {
            let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let mut forum = open_forum(cli)?;
            let change = forum.declaration_change_for(&wasm)?;
            if !change.is_empty() && !yes {
                eprint!("{}", render_change(&change));
                eprintln!(
                    "the upgrade changes what the program declares; nothing was changed. Run again with --yes to upgrade."
                );
                return Ok(exit::INVALID_INPUT);
            }
            let actor = cli.actor(&forum)?;
            forum.install(&wasm, &actor, now())?;
            println!("upgraded to {}", forum.program_name().unwrap_or_default());
            print!("{}", render_change(&change));
            Ok(exit::OK)
        }
        PluginCommand::Rollback => {
            let mut forum = open_forum(cli)?;
            let actor = cli.actor(&forum)?;
            let label = forum.rollback(&actor, now())?;
            println!("rolled back to {label}");
            Ok(exit::OK)
        }
        PluginCommand::List { json } => {
            let forum = open_forum(cli)?;
            let versions = forum.versions()?;
            let status = cadre_core::program::report::program_status(forum.conn())?;
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

fn inspect(cli: &Resolved, file: &Option<PathBuf>, json: bool) -> anyhow::Result<u8> {
    let runtime = cli.runtime()?;
    let (plugin, report) = match file {
        Some(file) => runtime.load_file(file).with_context(|| format!("inspecting {}", file.display()))?,
        None => runtime
            .load_bytes("the bundled program", cadre_bundled::PROGRAM_WASM)
            .context("inspecting the bundled program")?,
    };
    let file = file.as_ref().map_or_else(|| "(bundled)".to_owned(), |f| f.display().to_string());
    if json {
        let value = serde_json::json!({
            "file": file,
            "sha256": plugin.hash(),
            "contract": format!("{}@{}", cadre_runtime::CONTRACT_PACKAGE, cadre_runtime::CONTRACT_VERSION),
            "artifact": if report.origin == Origin::Cached { "cached" } else { "compiled" },
            "forbidden_imports": plugin.forbidden_imports(),
            "info": plugin.info(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", render_info(plugin.info()));
        println!("sha256:   {}", plugin.hash());
        if !plugin.forbidden_imports().is_empty() {
            println!("warning: imports outside the contract (each traps if called):");
            for import in plugin.forbidden_imports() {
                println!("  {import}");
            }
        }
    }
    Ok(exit::OK)
}

/// The text form of `describe`.
pub fn render_info(info: &Info) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", info.name, info.version);
    let _ = writeln!(out, "contract: {}@{}", cadre_runtime::CONTRACT_PACKAGE, cadre_runtime::CONTRACT_VERSION);
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
