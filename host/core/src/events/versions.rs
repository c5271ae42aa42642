//! Installing, upgrading, rolling back and configuring the forum's program. The component's bytes are kept in the
//! database (`plugin_versions`), so a forum database is self-contained and a rollback needs no file.

use rusqlite::{OptionalExtension, params};

use super::Forum;
use super::Preview;
use crate::error::ForumError;
pub use crate::program::reports::RecomputeOffer;
use crate::program::reports::recompute_offer;
use cadre_runtime::Plugin;

/// The recompute offer after `replaced` gives way to `installed` (name and version) with the log at `last_event`.
/// A version replaced while it was failing (quarantined, or with its own failures among the events it was given
/// still dead letters) handled the events it did not fail on as it saw fit — a broken `post-created` hook that
/// returned nothing left those posts out of every record — and the retry gives the new version only the events that
/// failed or queued. So, as after a rollback, the events
/// it handled are offered for a recompute under the new version. A healthy version's decisions are the program's
/// history like any other's: replacing it keeps an open offer (now under the new version) and adds none.
fn offer_after_replacing(
    tx: &rusqlite::Transaction<'_>,
    replaced: i64,
    installed: &str,
    last_event: i64,
    at: i64,
) -> Result<Option<RecomputeOffer>, ForumError> {
    let (label, installed_after, quarantined, dead_letters, open): (String, i64, bool, i64, Option<String>) = tx
        .query_row(
            "SELECT v.name || ' ' || v.version, v.installed_after, p.quarantined, \
                    (SELECT COUNT(*) FROM dead_letters d WHERE d.event_id > v.installed_after AND d.blocker IS NULL), \
                    p.recompute_offer \
             FROM plugin_versions v, program p WHERE v.id = ?1",
            params![replaced],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
        )?;
    let open: Option<RecomputeOffer> = open.and_then(|json| serde_json::from_str(&json).ok());
    let failing = quarantined || dead_letters > 0;
    let gone = (failing && last_event > installed_after).then_some((label.as_str(), installed_after));
    Ok(next_offer(open, gone, installed, last_event, at))
}

/// The recompute offer once `in_force` (name and version) is the program, given the `open` one: extended by `gone`
/// (a version taken out of force, and where the log stood when it was installed) when it handled events, else the
/// open one, if any, under `in_force`.
fn next_offer(
    open: Option<RecomputeOffer>,
    gone: Option<(&str, i64)>,
    in_force: &str,
    last_event: i64,
    at: i64,
) -> Option<RecomputeOffer> {
    match gone {
        Some((label, installed_after)) => {
            let mut versions = open.as_ref().map(|o| o.rolled_back.clone()).unwrap_or_default();
            versions.push(label.to_owned());
            Some(RecomputeOffer {
                rolled_back: versions,
                restored: in_force.to_owned(),
                first_event: open.map_or(installed_after + 1, |o| o.first_event.min(installed_after + 1)),
                last_event,
                at,
            })
        }
        None => open.map(|offer| RecomputeOffer { restored: in_force.to_owned(), ..offer }),
    }
}

/// What changed in what a program declares (shown before an upgrade takes effect).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeclarationChange {
    /// Badge ids declared now but not before.
    pub badges_added: Vec<String>,
    /// Badge ids declared before but not now.
    pub badges_removed: Vec<String>,
    /// Tier ids declared now but not before.
    pub tiers_added: Vec<String>,
    /// Tier ids declared before but not now.
    pub tiers_removed: Vec<String>,
}

/// What [`Forum::install_checked`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installation {
    /// The component is the active version now; what it declares differently from the one it replaced.
    Installed(DeclarationChange),
    /// The component is the active version already (the same hash): nothing changed, no version was added.
    AlreadyActive,
    /// It would replace the installed program and declares other badges or tiers: nothing changed; install it
    /// again confirmed to go ahead.
    NeedsConfirmation(DeclarationChange),
}

/// The installed program, loaded.
pub(crate) struct Installed {
    pub(crate) plugin: Plugin,
    pub(crate) version_id: i64,
    /// How the audit log names it: `program cadre-superuser 0.1.0`.
    pub(crate) actor: String,
}

impl Forum {
    /// Make the loaded program the one in force in the database: the active version and its settings, which
    /// another process (`cadre plugin upgrade`, `plugin rollback`, `program apply`) may have changed since this one
    /// loaded them. The database is the one truth: every transaction of the pipeline calls this right after it
    /// begins (holding the write lock, so nothing can change until it commits), and the web server before every
    /// request. Cheap when nothing changed: one `PRAGMA data_version`, which moves only when another connection
    /// commits; then one read of the `program` row, and the component is loaded (from the precompile cache, by
    /// hash) only when the active version differs, or reconfigured only when the settings do. Returns whether the
    /// program changed.
    pub fn sync_program(&mut self) -> Result<bool, ForumError> {
        let data_version: i64 = self.conn.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get(0))?;
        if self.program_seen == Some(data_version) {
            return Ok(false);
        }
        let row: Option<(i64, String)> = self
            .conn
            .prepare_cached("SELECT active_version, settings FROM program")?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let changed = match (row, self.program.as_mut()) {
            (None, None) => false,
            (None, Some(_)) => {
                self.program = None;
                true
            }
            (Some((version_id, settings)), Some(installed)) if installed.version_id == version_id => {
                if installed.plugin.settings() == settings {
                    false
                } else {
                    installed.plugin.configure(&settings)?.map_err(ForumError::Settings)?;
                    true
                }
            }
            (Some((version_id, settings)), _) => {
                let wasm: Vec<u8> = self.conn.query_row(
                    "SELECT wasm FROM plugin_versions WHERE id = ?1",
                    params![version_id],
                    |row| row.get(0),
                )?;
                self.program = Some(self.load_version(version_id, &wasm, &settings)?);
                true
            }
        };
        self.program_seen = Some(data_version);
        Ok(changed)
    }

    /// [`Forum::sync_program`] for a running process: if the program in force cannot be loaded here, run none
    /// rather than the stale one. Forum actions still commit; their events are recorded and wait (undelivered)
    /// until the program in force loads, at the next transaction or request, which tries again.
    pub fn follow_program_in_force(&mut self) {
        if let Err(error) = self.sync_program() {
            tracing::error!(%error, "the program in force could not be loaded; its events wait until it can be");
            self.program = None;
        }
    }

    fn load_version(&self, version_id: i64, wasm: &[u8], settings: &str) -> Result<Installed, ForumError> {
        let (mut plugin, _) =
            self.runtime.load_bytes(&format!("installed program (version row {version_id})"), wasm)?;
        plugin.configure(settings)?.map_err(ForumError::Settings)?;
        plugin.set_backend(self.kv.backend());
        let actor = format!("program {}", plugin.name());
        Ok(Installed { plugin, version_id, actor })
    }

    /// The installed program's name and version, if any.
    pub fn program_name(&self) -> Option<String> {
        self.program.as_ref().map(|p| p.plugin.name().to_string())
    }

    /// The installed program (for `describe`, member records, previews).
    pub fn plugin_mut(&mut self) -> Option<&mut cadre_runtime::Plugin> {
        self.program.as_mut().map(|p| &mut p.plugin)
    }

    /// Install a program component, or upgrade to it (keeping the settings in force, which must still be valid),
    /// without asking: [`Forum::install_checked`] with the confirmation given. Returns what the new version declares
    /// differently from the old one (nothing when it is the active version already).
    pub fn install(&mut self, wasm: &[u8], actor: &str, at: i64) -> Result<DeclarationChange, ForumError> {
        match self.install_checked(wasm, actor, at, true)? {
            Installation::Installed(change) | Installation::NeedsConfirmation(change) => Ok(change),
            Installation::AlreadyActive => Ok(DeclarationChange::default()),
        }
    }

    /// Install a program component, or upgrade to it: the one path of `cadre plugin install` and `upgrade`. The
    /// active version's own component (same hash) changes nothing. Replacing an installed program by one that
    /// declares other badges or tiers changes nothing either unless `confirmed` (members could lose what they were
    /// granted); a first install needs no confirmation. The new version remembers the one it replaced, which is
    /// where a rollback returns.
    pub fn install_checked(
        &mut self,
        wasm: &[u8],
        actor: &str,
        at: i64,
        confirmed: bool,
    ) -> Result<Installation, ForumError> {
        // Compare with the program in force, whichever process installed it.
        self.follow_program_in_force();
        let hash = cadre_runtime::cache::content_hash(wasm);
        let active: Option<(i64, String, String)> = self
            .conn
            .query_row(
                "SELECT v.id, v.hash, p.settings FROM program p JOIN plugin_versions v ON v.id = p.active_version",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        if active.as_ref().is_some_and(|(_, active_hash, _)| *active_hash == hash) {
            return Ok(Installation::AlreadyActive);
        }
        let settings = active.as_ref().map(|(_, _, settings)| settings.clone()).unwrap_or_default();
        // Load and configure before touching the database: a component that fails here changes nothing.
        let candidate = self.load_version(0, wasm, &settings)?;
        let empty = cadre_model::Declaration { badges: vec![], tiers: vec![] };
        let old = self.program.as_ref().map_or(&empty, |p| p.plugin.declaration());
        let change = declaration_change(old, candidate.plugin.declaration());
        if active.is_some() && !change.is_empty() && !confirmed {
            return Ok(Installation::NeedsConfirmation(change));
        }
        let replaced = active.map(|(id, _, _)| id);
        let (name, version) = (candidate.plugin.info().name.clone(), candidate.plugin.info().version.clone());
        let tx = write_transaction(&self.conn)?;
        let processed: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |row| row.get(0))?;
        tx.execute(
            "INSERT INTO plugin_versions (name, version, hash, wasm, installed_at, installed_by, replaced, installed_after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![name, version, hash, wasm, at, actor, replaced, processed],
        )?;
        let version_id = tx.last_insert_rowid();
        let offer = match replaced {
            Some(replaced) => offer_after_replacing(&tx, replaced, &format!("{name} {version}"), processed, at)?,
            None => None,
        };
        tx.execute(
            "INSERT INTO program (singleton, active_version, settings, processed_up_to) VALUES (1, ?1, '', ?2) \
             ON CONFLICT(singleton) DO UPDATE SET previous_version = active_version, active_version = ?1, \
             recompute_offer = ?3",
            params![version_id, processed, offer.as_ref().map(|o| serde_json::to_string(o).expect("offers serialize"))],
        )?;
        crate::program::audit(
            &tx,
            at,
            actor,
            "install",
            None,
            &format!("{name} {version}"),
            &format!("sha256 {hash}"),
            None,
        )?;
        tx.commit()?;
        let mut installed = candidate;
        installed.version_id = version_id;
        self.program = Some(installed);
        Ok(Installation::Installed(change))
    }

    /// Adopt new settings if the program accepts them; otherwise change nothing and refuse with every error
    /// ([`ForumError::Settings`]).
    pub fn configure(&mut self, settings: &str, actor: &str, at: i64) -> Result<(), ForumError> {
        // Validate against the program in force, whichever process installed it.
        self.sync_program()?;
        let installed = self.program.as_mut().ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        installed.plugin.configure(settings)?.map_err(ForumError::Settings)?;
        let tx = write_transaction(&self.conn)?;
        tx.execute("UPDATE program SET settings = ?1", params![settings])?;
        crate::program::audit(
            &tx,
            at,
            actor,
            "settings",
            None,
            "program settings",
            "new settings applied from now on",
            None,
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn declaration_change(old: &cadre_model::Declaration, new: &cadre_model::Declaration) -> DeclarationChange {
    let ids = |items: &mut dyn Iterator<Item = &String>| items.cloned().collect::<std::collections::BTreeSet<_>>();
    let (old_badges, new_badges) =
        (ids(&mut old.badges.iter().map(|b| &b.id)), ids(&mut new.badges.iter().map(|b| &b.id)));
    let (old_tiers, new_tiers) = (ids(&mut old.tiers.iter().map(|t| &t.id)), ids(&mut new.tiers.iter().map(|t| &t.id)));
    DeclarationChange {
        badges_added: new_badges.difference(&old_badges).cloned().collect(),
        badges_removed: old_badges.difference(&new_badges).cloned().collect(),
        tiers_added: new_tiers.difference(&old_tiers).cloned().collect(),
        tiers_removed: old_tiers.difference(&new_tiers).cloned().collect(),
    }
}

/// One installed version of the program.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct VersionRow {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the component.
    pub hash: String,
    /// When it was installed.
    pub installed_at: i64,
    /// By whom.
    pub installed_by: String,
    /// Whether it is the one running.
    pub active: bool,
    /// Whether it is the one `rollback` returns to.
    pub previous: bool,
}

impl Forum {
    /// Every installed version, newest first.
    pub fn versions(&self) -> Result<Vec<VersionRow>, ForumError> {
        Ok(self
            .conn
            .prepare(
                "SELECT v.id, v.name, v.version, v.hash, v.installed_at, v.installed_by, \
                        v.id = p.active_version, v.id IS p.previous_version \
                 FROM plugin_versions v LEFT JOIN program p ON p.singleton = 1 ORDER BY v.id DESC",
            )?
            .query_map([], |row| {
                Ok(VersionRow {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    version: row.get(2)?,
                    hash: row.get(3)?,
                    installed_at: row.get(4)?,
                    installed_by: row.get(5)?,
                    active: row.get::<_, Option<bool>>(6)?.unwrap_or(false),
                    previous: row.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?)
    }

    /// Return to the version the active one replaced when it was installed (its predecessor, whichever process
    /// installed it). A second rollback goes one further back, never forward again; with nothing earlier it changes
    /// nothing and says so. The rolled-back version may have handled events without failing that the restored one
    /// would have scored (its `post-created` calls returned nothing, so no member's record counted those posts):
    /// the rollback records a [`RecomputeOffer`] for them, which [`Forum::recompute_in_force`] previews and applies.
    pub fn rollback(&mut self, actor: &str, at: i64) -> Result<RolledBack, ForumError> {
        let (active, replaced, installed_after, settings, offer): (i64, Option<i64>, i64, String, Option<String>) =
            self.conn
                .query_row(
                    "SELECT p.active_version, v.replaced, v.installed_after, p.settings, p.recompute_offer \
                     FROM program p JOIN plugin_versions v ON v.id = p.active_version",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
                )
                .optional()?
                .ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        let label = |id: i64| -> rusqlite::Result<String> {
            self.conn.query_row(
                "SELECT name || ' ' || version FROM plugin_versions WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )
        };
        let from = label(active)?;
        let Some(restore) = replaced else {
            return Err(ForumError::Invalid(format!(
                "nothing earlier to roll back to: {from} is the first version installed; nothing was changed"
            )));
        };
        let wasm: Vec<u8> =
            self.conn
                .query_row("SELECT wasm FROM plugin_versions WHERE id = ?1", params![restore], |row| row.get(0))?;
        let installed = self.load_version(restore, &wasm, &settings)?;
        let to = label(restore)?;
        let last_event: i64 = self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |row| row.get(0))?;
        let open: Option<RecomputeOffer> = offer.and_then(|json| serde_json::from_str(&json).ok());
        let gone = (last_event > installed_after).then_some((from.as_str(), installed_after));
        let offer = next_offer(open, gone, &to, last_event, at);
        let reason = match &offer {
            Some(offer) => format!(
                "returned from {from} to the version before it; events #{}–#{} were handled by {}: \
                 `cadre plugin recompute` previews recomputing history",
                offer.first_event,
                offer.last_event,
                offer.rolled_back.join(", ")
            ),
            None => format!("returned from {from} to the version before it"),
        };
        let tx = write_transaction(&self.conn)?;
        tx.execute(
            "UPDATE program SET active_version = ?1, \
             previous_version = (SELECT replaced FROM plugin_versions WHERE id = ?1), recompute_offer = ?2",
            params![restore, offer.as_ref().map(|o| serde_json::to_string(o).expect("offers serialize"))],
        )?;
        crate::program::audit(&tx, at, actor, "rollback", None, &to, &reason, None)?;
        tx.commit()?;
        self.program = Some(installed);
        Ok(RolledBack { from, to, offer })
    }

    /// The recompute a rollback offered, if no recompute has been applied since.
    pub fn recompute_offer(&self) -> Result<Option<RecomputeOffer>, ForumError> {
        recompute_offer(&self.conn)
    }

    /// Recompute the whole history under the program and settings in force: what it would change (`apply`
    /// false, changing nothing) or, with `apply`, write what differs — the same recompute as applying the settings
    /// in force to all history, and it closes the rollback's offer. Refused while dead letters or queued events
    /// wait: the recompute covers every event in the log, so retrying those afterwards would count them twice.
    pub fn recompute_in_force(&mut self, apply: bool, actor: &str, at: i64) -> Result<Preview, ForumError> {
        self.sync_program()?;
        let (settings, processed, dead_letters): (String, i64, i64) = self
            .conn
            .query_row(
                "SELECT settings, processed_up_to, (SELECT COUNT(*) FROM dead_letters) FROM program",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        if !apply {
            return self.preview(&settings);
        }
        let last: i64 = self.conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |row| row.get(0))?;
        if dead_letters > 0 || processed < last {
            return Err(ForumError::Invalid(format!(
                "{dead_letters} dead letter(s) and {} queued event(s) wait for the program: retry them first \
                 (cadre deadletters retry), then recompute; nothing was changed",
                last - processed
            )));
        }
        self.apply(&settings, actor, at)
    }
}

impl DeclarationChange {
    /// True when the badges and tiers declared are the same.
    pub fn is_empty(&self) -> bool {
        self.badges_added.is_empty()
            && self.badges_removed.is_empty()
            && self.tiers_added.is_empty()
            && self.tiers_removed.is_empty()
    }
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RolledBack {
    /// The version rolled back (name and version).
    pub from: String,
    /// The version running now.
    pub to: String,
    /// The recompute offered now, if any events were handled by rolled-back versions.
    pub offer: Option<RecomputeOffer>,
}

/// A transaction that takes the write lock at its start (`BEGIN IMMEDIATE`), waiting for another writer (a running
/// server) within the busy timeout. A deferred one that reads first and writes second fails at once with
/// `database is locked` when the server committed in between (SQLite cannot upgrade a stale read snapshot).
fn write_transaction(conn: &rusqlite::Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}
