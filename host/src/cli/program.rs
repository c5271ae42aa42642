//! `cadre program …`: the program's settings — show, check, preview and apply a TOML file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::output::{now, print};
use super::{Resolved, exit, open_forum};
use crate::events::Preview;
use crate::forum::ForumError;

/// Settings commands.
#[derive(Debug, Subcommand)]
pub enum ProgramCommand {
    /// The installed program, its status and the settings in force.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a settings file: every error with its line and path; changes nothing.
    Check {
        /// The TOML file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what a settings file would change if it had been in force from the start; changes nothing.
    Preview {
        /// The TOML file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Apply a settings file to the whole history (recompute), changing only what differs.
    Apply {
        /// The TOML file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn read(file: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading settings file {}", file.display()))
}

/// The text of a preview: counts, then the full lists.
pub fn render_preview(preview: &Preview) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "replayed {} events ({} would fail under these settings)", preview.events, preview.failures);
    if preview.is_empty() {
        let _ = writeln!(out, "no change: no member's points, badges, access or nominations would differ");
        if preview.state_keys_changed > 0 {
            let _ = writeln!(
                out,
                "but the program's own records would: {} key(s) of its store differ (member records: posts, likes, …)",
                preview.state_keys_changed
            );
        }
        return out;
    }
    let _ = writeln!(out, "points change for {} member(s):", preview.points.len());
    for change in &preview.points {
        let _ = writeln!(
            out,
            "  {:<24} {:>8} -> {:>8} ({:+})",
            change.name,
            change.before,
            change.after,
            change.after - change.before
        );
    }
    for (title, list) in [
        ("badges gained", &preview.badges_gained),
        ("badges lost", &preview.badges_lost),
        ("tier access gained", &preview.access_gained),
        ("tier access lost", &preview.access_lost),
        ("new nominations", &preview.nominations_added),
    ] {
        let _ = writeln!(out, "{title}: {}", list.len());
        for grant in list {
            let _ = writeln!(out, "  {:<24} {}", grant.name, grant.what);
        }
    }
    let _ = writeln!(out, "program's own records: {} key(s) of its store differ", preview.state_keys_changed);
    out
}

/// Run a settings command.
pub fn run(cli: &Resolved, command: &ProgramCommand) -> anyhow::Result<u8> {
    let mut forum = open_forum(cli)?;
    let settings_errors = |file: &PathBuf, errors: String| -> anyhow::Error {
        anyhow::Error::new(ForumError::Settings(errors)).context(format!("settings file {}", file.display()))
    };
    match command {
        ProgramCommand::Show { json } => {
            let status = crate::program::report::program_status(forum.conn())?
                .ok_or_else(|| ForumError::NotFound("an installed program (cadre plugin install FILE)".into()))?;
            print(*json, &status, |s| {
                format!(
                    "{} {} (sha256 {})\nprevious version: {}\nquarantined: {}\nevents: {} (delivered up to {})\ndead letters: {}\nsettings:\n{}\n",
                    s.name,
                    s.version,
                    &s.hash[..12],
                    s.previous.as_deref().unwrap_or("none"),
                    if s.quarantined { "YES — cadre deadletters retry lifts it" } else { "no" },
                    s.events,
                    s.processed_up_to,
                    s.dead_letters,
                    if s.settings.trim().is_empty() { "  (defaults)".to_owned() } else { s.settings.clone() }
                )
            })?;
        }
        ProgramCommand::Check { file, json } => {
            let settings = read(file)?;
            let plugin = forum.plugin_mut().ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
            match plugin.check(&settings)? {
                Ok(declaration) => print(*json, &declaration, |d| {
                    format!("{}: valid ({} badges, {} tiers)\n", file.display(), d.badges.len(), d.tiers.len())
                })?,
                Err(errors) => {
                    if *json {
                        print(true, &errors, |_| String::new())?;
                        return Ok(exit::INVALID_INPUT);
                    }
                    return Err(settings_errors(file, crate::events::render_errors(&errors)));
                }
            }
        }
        ProgramCommand::Preview { file, json } => match forum.preview(&read(file)?)? {
            Ok(preview) => print(*json, &preview, render_preview)?,
            Err(errors) => return Err(settings_errors(file, errors)),
        },
        ProgramCommand::Apply { file, json } => {
            let actor = cli.actor(&forum)?;
            match forum.apply(&read(file)?, &actor, now())? {
                Ok(preview) => {
                    print(*json, &preview, |p| format!("applied {}\n{}", file.display(), render_preview(p)))?
                }
                Err(errors) => return Err(settings_errors(file, errors)),
            }
        }
    }
    Ok(exit::OK)
}
