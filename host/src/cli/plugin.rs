//! `cadre plugin …`: what a moderator does with plugin components.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::{Cli, exit};
use crate::runtime::bindings::{BadgeLevel, PluginInfo};
use crate::runtime::{ArtifactCache, Limits, Origin, Runtime};

/// Plugin commands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
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
pub fn run(cli: &Cli, command: &PluginCommand) -> anyhow::Result<u8> {
    match command {
        PluginCommand::Inspect { file, json } => inspect(cli, file, *json),
    }
}

fn inspect(cli: &Cli, file: &Option<PathBuf>, json: bool) -> anyhow::Result<u8> {
    let runtime = Runtime::new(Limits::default(), Some(ArtifactCache::new(&cli.cache_dir)))
        .map_err(anyhow::Error::from)
        .context("starting the plugin runtime")?;
    let (plugin, report) = match file {
        Some(file) => runtime.load_file(file).with_context(|| format!("inspecting {}", file.display()))?,
        None => runtime
            .load_bytes("the bundled program", crate::bundled::PROGRAM_WASM)
            .context("inspecting the bundled program")?,
    };
    let file = file.as_ref().map_or_else(|| "(bundled)".to_owned(), |f| f.display().to_string());
    if json {
        let value = serde_json::json!({
            "file": file,
            "sha256": plugin.hash(),
            "contract": format!("{}@{}", crate::runtime::CONTRACT_PACKAGE, crate::runtime::CONTRACT_VERSION),
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
pub fn render_info(info: &PluginInfo) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", info.name, info.version);
    let _ = writeln!(out, "contract: {}@{}", crate::runtime::CONTRACT_PACKAGE, crate::runtime::CONTRACT_VERSION);
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
