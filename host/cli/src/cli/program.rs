//! `cadre program …`: the program's settings — show, check, preview and apply a TOML file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use super::output::{now, print};
use super::{Resolved, exit, open_forum};
use cadre_core::events::Preview;
use cadre_core::forum::ForumError;
use cadre_runtime::Plugin;

/// Settings commands.
#[derive(Debug, Subcommand)]
pub enum ProgramCommand {
    /// The installed program, its status and the settings in force.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a settings file: every error with its line and path; changes nothing (and needs no database).
    ///
    /// Checked against `--plugin FILE` if given, else the program installed in the database, else the program
    /// bundled with Cadre; the answer says which.
    Check {
        /// The TOML file.
        file: PathBuf,
        /// Check against this program component (.wasm) instead.
        #[arg(long, value_name = "FILE")]
        plugin: Option<PathBuf>,
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

fn read(file: &Path) -> anyhow::Result<String> {
    super::input::read_settings(file)
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

/// A settings refusal names the file it came from; other failures pass through as they are.
fn name_settings_file(file: &Path) -> impl FnOnce(ForumError) -> anyhow::Error + '_ {
    move |error| match error {
        ForumError::Settings(_) => anyhow::Error::new(error).context(format!("settings file {}", file.display())),
        other => other.into(),
    }
}

/// The program a settings file is checked against, and how to name it: `--plugin FILE`, else the program installed
/// in the database, else the bundled one. Opens the database only if its file exists: a check creates nothing.
fn program_to_check_against(cli: &Resolved, plugin: Option<&Path>) -> anyhow::Result<(Plugin, String)> {
    if let Some(path) = plugin {
        let (plugin, _) = cli.runtime()?.load_file(path).with_context(|| format!("loading {}", path.display()))?;
        let label = format!("{} from {}", plugin.name(), path.display());
        return Ok((plugin, label));
    }
    if cli.db().exists()
        && let Some(plugin) = open_forum(cli)?.plugin_mut().map(|installed| installed.fork())
    {
        let label = format!("the installed program {}", plugin.name());
        return Ok((plugin, label));
    }
    let (plugin, _) =
        cli.runtime()?.load_bytes("the bundled program", cadre_bundled::PROGRAM_WASM).context("the bundled program")?;
    let label = format!("the bundled program {}", plugin.name());
    Ok((plugin, label))
}

/// `cadre program check FILE`: every error with its line and path, and which program checked them.
fn check(cli: &Resolved, file: &Path, plugin: Option<&Path>, json: bool) -> anyhow::Result<u8> {
    let settings = read(file)?;
    let (mut plugin, against) = program_to_check_against(cli, plugin)?;
    match plugin.check(&settings)? {
        Ok(declaration) => {
            let value = serde_json::json!({
                "badges": declaration.badges,
                "tiers": declaration.tiers,
                "checked_against": against,
            });
            print(json, &value, |_| {
                format!(
                    "{}: valid ({} badges, {} tiers)\nchecked against {against}\n",
                    file.display(),
                    declaration.badges.len(),
                    declaration.tiers.len()
                )
            })?;
            Ok(exit::OK)
        }
        Err(errors) if json => {
            print(true, &errors, |_| String::new())?;
            eprintln!("checked against {against}");
            Ok(exit::INVALID_INPUT)
        }
        Err(errors) => Err(anyhow::Error::new(ForumError::Settings(errors))
            .context(format!("settings file {} (checked against {against})", file.display()))),
    }
}

/// Run a settings command.
pub fn run(cli: &Resolved, command: &ProgramCommand) -> anyhow::Result<u8> {
    match command {
        ProgramCommand::Check { file, plugin, json } => return check(cli, file, plugin.as_deref(), *json),
        ProgramCommand::Show { json } => {
            let forum = open_forum(cli)?;
            let status = cadre_core::program::reports::program_status(forum.conn())?
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
        ProgramCommand::Preview { file, json } => {
            let preview = open_forum(cli)?.preview(&read(file)?).map_err(name_settings_file(file))?;
            print(*json, &preview, render_preview)?
        }
        ProgramCommand::Apply { file, json } => {
            let mut forum = open_forum(cli)?;
            let actor = cli.actor(&forum)?;
            let preview = forum.apply(&read(file)?, &actor, now()).map_err(name_settings_file(file))?;
            print(*json, &preview, |p| format!("applied {}\n{}", file.display(), render_preview(p)))?
        }
    }
    Ok(exit::OK)
}
