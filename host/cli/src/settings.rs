//! The host's own configuration file (`cadre.toml` in the working directory, or `--host-config FILE`): where the
//! database is, where compiled artifacts are cached, the sandbox limits and how `cadre serve` serves. Every key is
//! optional; a command-line
//! flag or environment variable wins over the file, and the file over the defaults. Unknown keys are refused, with
//! the file and key named, before anything runs.
//!
//! ```toml
//! db = "forum.db"            # the SQLite database (default ./cadre.db)
//! cache-dir = ".cadre/cache" # compiled plugin artifacts
//!
//! [limits]                   # per plugin call; see host/runtime/src/limits.rs
//! fuel-per-call = 10000000
//! deadline-ms = 1000
//! memory-mib = 64
//! max-effects-per-call = 1000
//! max-store-mib = 1024
//!
//! [web]                      # cadre serve
//! secure-cookies = true      # behind a TLS proxy: every cookie is marked Secure (default false)
//! trusted-proxies = ["127.0.0.1", "10.0.0.0/8"]  # whose X-Forwarded-For names the client (default none)
//!
//! [discourse]                # cadre discourse …: secrets only from env vars or files (see cadre_discourse::settings)
//! url = "http://127.0.0.1:3000"
//! webhook-secret-file = "/run/secrets/discourse-webhook"
//! [discourse.groups]
//! insiders = "cadre-insiders"
//! [web.external-sources]     # systems that may POST /api/external (docs/contract-0.2.md), each with its secret
//! lms = "a long random secret"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use cadre_runtime::Limits;
pub use cadre_web::WebSettings;

/// The file's contents.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HostSettings {
    /// The database path.
    pub db: Option<PathBuf>,
    /// The artifact cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Sandbox limits.
    #[serde(default)]
    pub limits: LimitSettings,
    /// How the web forum is served.
    #[serde(default)]
    pub web: WebSettings,
    /// Cadre beside a Discourse forum (`cadre discourse …`); see docs/discourse.md.
    pub discourse: Option<cadre_discourse::DiscourseSettings>,
}

/// The `[limits]` table: each key overrides one default of [`Limits`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LimitSettings {
    /// Fuel per hook call (0 turns metering off).
    pub fuel_per_call: Option<u64>,
    /// Wall-clock deadline per call, in milliseconds.
    pub deadline_ms: Option<u64>,
    /// Linear memory cap, in MiB.
    pub memory_mib: Option<usize>,
    /// Effects per call.
    pub max_effects_per_call: Option<usize>,
    /// Total key/value store size, in MiB.
    pub max_store_mib: Option<u64>,
}

/// Most entries `[web] trusted-proxies` may list (each is checked against every forwarded request).
pub const MAX_TRUSTED_PROXIES: usize = 64;

/// Why the file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid, with TOML's message (it names the line and key).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Refuse a secret written into `[discourse]` by name only: TOML's own error would quote the line, value included.
fn refuse_secrets(text: &str) -> Result<(), String> {
    let Ok(table) = text.parse::<toml::Table>() else { return Ok(()) };
    let Some(discourse) = table.get("discourse").and_then(|d| d.as_table()) else { return Ok(()) };
    for key in discourse.keys() {
        let secretish = key.contains("key") || key.contains("secret") || key.contains("password");
        if secretish && !key.ends_with("-env") && !key.ends_with("-file") {
            return Err(format!(
                "discourse.{key}: secrets are never read from this file (it is often shared or committed); name an \
                 environment variable ({key}-env) or a file ({key}-file) instead"
            ));
        }
    }
    Ok(())
}

impl HostSettings {
    /// Read `path`; a missing file is fine when it was not asked for by name (`required = false`).
    pub fn load(path: &Path, required: bool) -> Result<HostSettings, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(HostSettings::default()),
            Err(source) => return Err(SettingsError::Read { path: path.to_owned(), source }),
        };
        refuse_secrets(&text).map_err(|message| SettingsError::Invalid { path: path.to_owned(), message })?;
        let settings: HostSettings = toml::from_str(&text)
            .map_err(|e| SettingsError::Invalid { path: path.to_owned(), message: e.to_string() })?;
        let proxies = settings.web.trusted_proxies.len();
        if proxies > MAX_TRUSTED_PROXIES {
            let message = format!("web.trusted-proxies: at most {MAX_TRUSTED_PROXIES} entries, found {proxies}");
            return Err(SettingsError::Invalid { path: path.to_owned(), message });
        }
        if let Some(discourse) = &settings.discourse {
            discourse
                .validate()
                .map_err(|e| SettingsError::Invalid { path: path.to_owned(), message: e.to_string() })?;
        }
        Ok(settings)
    }

    /// The limits: defaults, overridden by the file.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        let l = &self.limits;
        if let Some(fuel) = l.fuel_per_call {
            limits.fuel_per_call = (fuel > 0).then_some(fuel);
        }
        if let Some(ms) = l.deadline_ms {
            limits.deadline = std::time::Duration::from_millis(ms.max(1));
        }
        if let Some(mib) = l.memory_mib {
            limits.memory_bytes = mib.max(1) << 20;
        }
        if let Some(effects) = l.max_effects_per_call {
            limits.max_effects_per_call = effects;
        }
        if let Some(mib) = l.max_store_mib {
            limits.max_store_bytes = mib << 20;
        }
        limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_the_defaults_it_names_and_keeps_the_others() {
        let settings: HostSettings =
            toml::from_str("db = \"x.db\"\n[limits]\nfuel-per-call = 0\nmemory-mib = 16\n").unwrap();
        let limits = settings.limits();
        assert_eq!(settings.db.as_deref(), Some(Path::new("x.db")));
        assert_eq!(limits.fuel_per_call, None, "0 turns metering off");
        assert_eq!(limits.memory_bytes, 16 << 20);
        assert_eq!(limits.max_effects_per_call, Limits::default().max_effects_per_call);
    }

    #[test]
    fn secure_cookies_are_off_unless_the_web_table_turns_them_on() {
        assert!(!HostSettings::default().web.secure_cookies);
        let settings: HostSettings = toml::from_str("[web]\nsecure-cookies = true\n").unwrap();
        assert!(settings.web.secure_cookies);
        let error = toml::from_str::<HostSettings>("[web]\nsecure-cookies = \"yes\"\n").unwrap_err().to_string();
        assert!(error.contains("secure-cookies"), "{error}");
    }

    #[test]
    fn external_sources_are_read_from_their_own_table_and_none_by_default() {
        assert!(HostSettings::default().web.external_sources.is_empty(), "the endpoint refuses everything by default");
        let settings: HostSettings = toml::from_str("[web.external-sources]\nlms = \"s3cret\"\n").unwrap();
        assert_eq!(settings.web.external_sources.get("lms").map(String::as_str), Some("s3cret"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks_and_a_bad_one_is_named() {
        let settings: HostSettings =
            toml::from_str("[web]\ntrusted-proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n").unwrap();
        assert_eq!(settings.web.trusted_proxies.len(), 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cadre.toml");
        std::fs::write(&path, "[web]\ntrusted-proxies = [\"10.0.0.0/99\"]\n").unwrap();
        let error = HostSettings::load(&path, true).unwrap_err().to_string();
        assert!(error.contains("cadre.toml") && error.contains("10.0.0.0/99") && error.contains("line 2"), "{error}");
        let many: Vec<String> = (0..=MAX_TRUSTED_PROXIES).map(|i| format!("\"10.0.0.{i}\"")).collect();
        std::fs::write(&path, format!("[web]\ntrusted-proxies = [{}]\n", many.join(", "))).unwrap();
        let error = HostSettings::load(&path, true).unwrap_err().to_string();
        assert!(error.contains("at most 64 entries, found 65"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_refused_naming_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cadre.toml");
        std::fs::write(&path, "[limits]\nfuel = 5\n").unwrap();
        let error = HostSettings::load(&path, true).unwrap_err().to_string();
        assert!(error.contains("cadre.toml") && error.contains("fuel"), "{error}");
    }

    #[test]
    fn a_discourse_table_is_read_and_a_secret_in_it_is_refused() {
        let settings: HostSettings =
            toml::from_str("[discourse]\nurl = \"http://127.0.0.1:3000\"\n[discourse.groups]\ninsiders = \"g\"\n")
                .unwrap();
        let discourse = settings.discourse.unwrap();
        assert_eq!(discourse.groups["insiders"], "g");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cadre.toml");
        std::fs::write(&path, "[discourse]\nurl = \"http://d\"\napi-key = \"sekrit-value\"\n").unwrap();
        let error = HostSettings::load(&path, true).unwrap_err().to_string();
        assert!(error.contains("api-key") && !error.contains("sekrit-value"), "{error}");
    }

    #[test]
    fn a_missing_default_file_is_fine_but_a_named_one_is_not() {
        assert_eq!(HostSettings::load(Path::new("/nonexistent/cadre.toml"), false).unwrap(), HostSettings::default());
        assert!(HostSettings::load(Path::new("/nonexistent/cadre.toml"), true).is_err());
    }
}
