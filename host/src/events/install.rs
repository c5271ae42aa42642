//! Installing, upgrading, rolling back and configuring the forum's program. The component's bytes are kept in the
//! database (`plugin_versions`), so a forum database is self-contained and a rollback needs no file.

use rusqlite::{OptionalExtension, params};

use crate::forum::{Forum, ForumError, Installed};

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
                    let configured =
                        installed.plugin.configure(&settings).map_err(|e| ForumError::Settings(e.to_string()))?;
                    configured.map_err(|errors| ForumError::Settings(render_errors(&errors)))?;
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
        let configured = plugin.configure(settings).map_err(|e| ForumError::Settings(e.to_string()))?;
        if let Err(errors) = configured {
            return Err(ForumError::Settings(render_errors(&errors)));
        }
        plugin.set_backend(self.kv.backend());
        let actor = format!("program {}", plugin.name());
        Ok(Installed { plugin, version_id, actor })
    }

    /// The installed program's name and version, if any.
    pub fn program_name(&self) -> Option<String> {
        self.program.as_ref().map(|p| p.plugin.name().to_string())
    }

    /// The installed program (for `describe`, member records, previews).
    pub fn plugin_mut(&mut self) -> Option<&mut crate::runtime::Plugin> {
        self.program.as_mut().map(|p| &mut p.plugin)
    }

    /// Install a program component, or upgrade to it (keeping the settings in force, which must still be valid).
    /// Returns what the new version declares differently from the old one.
    pub fn install(&mut self, wasm: &[u8], actor: &str, at: i64) -> Result<DeclarationChange, ForumError> {
        // Compare with the program in force, whichever process installed it.
        self.follow_program_in_force();
        let settings: String =
            self.conn.query_row("SELECT settings FROM program", [], |row| row.get(0)).optional()?.unwrap_or_default();
        // Load and configure before touching the database: a component that fails here changes nothing.
        let hash = crate::runtime::cache::content_hash(wasm);
        let candidate = self.load_version(0, wasm, &settings)?;
        let change = self.program.as_ref().map_or_else(
            || {
                declaration_change(
                    &crate::runtime::bindings::Declaration { badges: vec![], tiers: vec![] },
                    candidate.plugin.declaration(),
                )
            },
            |old| declaration_change(old.plugin.declaration(), candidate.plugin.declaration()),
        );
        let (name, version) = (candidate.plugin.info().name.clone(), candidate.plugin.info().version.clone());
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO plugin_versions (name, version, hash, wasm, installed_at, installed_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![name, version, hash, wasm, at, actor],
        )?;
        let version_id = tx.last_insert_rowid();
        let processed: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |row| row.get(0))?;
        tx.execute(
            "INSERT INTO program (singleton, active_version, settings, processed_up_to) VALUES (1, ?1, '', ?2) \
             ON CONFLICT(singleton) DO UPDATE SET previous_version = active_version, active_version = ?1",
            params![version_id, processed],
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
        Ok(change)
    }

    /// Adopt new settings if the program accepts them; otherwise change nothing and return every error.
    pub fn configure(&mut self, settings: &str, actor: &str, at: i64) -> Result<Result<(), String>, ForumError> {
        // Validate against the program in force, whichever process installed it.
        self.sync_program()?;
        let installed = self.program.as_mut().ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        let outcome = installed.plugin.configure(settings).map_err(|e| ForumError::Settings(e.to_string()))?;
        if let Err(errors) = outcome {
            return Ok(Err(render_errors(&errors)));
        }
        let tx = self.conn.unchecked_transaction()?;
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
        Ok(Ok(()))
    }
}

/// Config errors, one per line: `line 2: points.answer-liked: expected …`.
pub fn render_errors(errors: &[crate::runtime::bindings::ConfigError]) -> String {
    errors
        .iter()
        .map(|e| match e.line {
            Some(line) => format!("line {line}: {}: {}", e.path, e.message),
            None => format!("{}: {}", e.path, e.message),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn declaration_change(
    old: &crate::runtime::bindings::Declaration,
    new: &crate::runtime::bindings::Declaration,
) -> DeclarationChange {
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

    /// What installing `wasm` would change in what the program declares (checked before an upgrade).
    pub fn declaration_change_for(&self, wasm: &[u8]) -> Result<DeclarationChange, ForumError> {
        let settings: String =
            self.conn.query_row("SELECT settings FROM program", [], |row| row.get(0)).optional()?.unwrap_or_default();
        let candidate = self.load_version(0, wasm, &settings)?;
        let empty = crate::runtime::bindings::Declaration { badges: vec![], tiers: vec![] };
        let old = self.program.as_ref().map_or(&empty, |p| p.plugin.declaration());
        Ok(declaration_change(old, candidate.plugin.declaration()))
    }

    /// Return to the previous version (which becomes the active one; the current one becomes the previous).
    pub fn rollback(&mut self, actor: &str, at: i64) -> Result<String, ForumError> {
        let (previous, settings): (Option<i64>, String) = self
            .conn
            .query_row("SELECT previous_version, settings FROM program", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?
            .ok_or_else(|| ForumError::NotFound("an installed program".into()))?;
        let previous = previous.ok_or_else(|| ForumError::NotFound("a previous version to roll back to".into()))?;
        let wasm: Vec<u8> =
            self.conn
                .query_row("SELECT wasm FROM plugin_versions WHERE id = ?1", params![previous], |row| row.get(0))?;
        let installed = self.load_version(previous, &wasm, &settings)?;
        let label = installed.plugin.name().to_string();
        let tx = self.conn.unchecked_transaction()?;
        tx.execute("UPDATE program SET previous_version = active_version, active_version = ?1", params![previous])?;
        crate::program::audit(&tx, at, actor, "rollback", None, &label, "returned to the previous version", None)?;
        tx.commit()?;
        self.program = Some(installed);
        Ok(label)
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
