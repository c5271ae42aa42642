//! The `[discourse]` table of the host's `cadre.toml`, and the two secrets it points at.
//!
//! The API key and the webhook secret never sit in the TOML: the table names an environment variable or a file
//! holding each (defaults `CADRE_DISCOURSE_API_KEY` and `CADRE_DISCOURSE_WEBHOOK_SECRET`), and a key such as
//! `api-key = "…"` is refused as unknown. A loaded secret is a [`Secret`], whose `Debug` and `Display` print
//! `<redacted>`, so no log line or error can show it. Owns parsing and checking the table; does not own the rest of
//! the host's settings (the `cadre` crate) or what the values are used for.
//!
//! ```toml
//! [discourse]
//! url = "https://forum.example.org"       # the Discourse site (http:// only on this machine's loopback)
//! ca-file = "/etc/ssl/our-ca.pem"         # optional: roots to trust beside Mozilla's (a company CA)
//! allow-plain-http = false                # true lets http:// leave the machine (the API key in clear)
//! api-username = "system"                 # Api-Username sent with every admin request
//! api-key-env = "CADRE_DISCOURSE_API_KEY" # or api-key-file = "/run/secrets/discourse-key"
//! webhook-secret-file = "/run/secrets/discourse-webhook"
//! listen = "127.0.0.1:8090"               # `cadre discourse serve`: where Discourse's webhooks arrive
//! requests-per-minute = 50                # Cadre's share of the site's 60 admin requests a minute
//! private-category = 12                   # the Discourse category the tier groups gate (reported by `check`)
//! categories = [4, 7]                     # only posts in these categories count (default: every category)
//! exclude-categories = [9]                # never these
//! archetypes = ["regular"]                # topic archetypes that count (private messages never do)
//!
//! [discourse.groups]                      # the program's tier → the Discourse group its members are put in
//! inner-circle = "cadre-inner-circle"
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Where `cadre discourse serve` listens unless `listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8090";
/// Discourse's admin API allows 60 requests a minute for the whole site (`max_admin_api_reqs_per_minute`), shared
/// by every admin key; Cadre takes 50 by default to leave room for the site's other integrations.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 50;
/// Discourse refuses webhook secrets shorter than 12 characters (`app/models/web_hook.rb`).
pub const MIN_SECRET_LEN: usize = 12;

/// The `[discourse]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DiscourseSettings {
    /// The site's base URL: `https://…`, or `http://…` on the loopback (see [`Self::allow_plain_http`]).
    pub url: String,
    /// A PEM file of certificates to trust as roots beside Mozilla's (a Discourse behind a company's own CA).
    pub ca_file: Option<PathBuf>,
    /// Allow `http://` to a host other than the loopback (off: the admin API key would travel in clear).
    #[serde(default)]
    pub allow_plain_http: bool,
    /// The user the admin API acts as.
    #[serde(default = "default_api_username")]
    pub api_username: String,
    /// The environment variable holding the API key (default `CADRE_DISCOURSE_API_KEY`).
    pub api_key_env: Option<String>,
    /// A file holding the API key (wins over the environment variable).
    pub api_key_file: Option<PathBuf>,
    /// The environment variable holding the webhook secret (default `CADRE_DISCOURSE_WEBHOOK_SECRET`).
    pub webhook_secret_env: Option<String>,
    /// A file holding the webhook secret (wins over the environment variable).
    pub webhook_secret_file: Option<PathBuf>,
    /// Where `cadre discourse serve` listens.
    pub listen: Option<SocketAddr>,
    /// Cadre's admin API budget per minute.
    pub requests_per_minute: Option<u32>,
    /// The private category (Discourse id) the tier groups gate.
    pub private_category: Option<u64>,
    /// Only posts in these categories count (empty: all).
    #[serde(default)]
    pub categories: Vec<u64>,
    /// Posts in these categories never count.
    #[serde(default)]
    pub exclude_categories: Vec<u64>,
    /// Topic archetypes that count (default `regular`; `private_message` is always ignored).
    #[serde(default)]
    pub archetypes: Vec<String>,
    /// Tier id → Discourse group name.
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
}

fn default_api_username() -> String {
    "system".to_owned()
}

/// A secret read from the environment or a file. Printing it prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret from its value (tests, the simulator).
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends or checks it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why the table or a secret was refused. Messages name the variable or file, never a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `url` is missing or not an http(s) URL.
    #[error("[discourse] url must be the site's address, such as https://forum.example.org (found {0:?})")]
    Url(String),
    /// The environment variable is not set (or empty).
    #[error("the {what} is read from the environment variable {var}, which is not set")]
    MissingEnv {
        /// Which secret.
        what: &'static str,
        /// The variable.
        var: String,
    },
    /// The file could not be read.
    #[error("the {what} is read from {path}, which cannot be read: {source}")]
    File {
        /// Which secret.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The webhook secret is shorter than Discourse allows.
    #[error("the webhook secret must have at least {MIN_SECRET_LEN} characters, as Discourse requires")]
    ShortSecret,
    /// The `ca-file` cannot be read or holds no certificate.
    #[error("ca-file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A category is both included and excluded, or another contradiction.
    #[error("[discourse] {0}")]
    Invalid(String),
}

fn read_secret(
    what: &'static str,
    file: Option<&PathBuf>,
    env: Option<&str>,
    default_env: &str,
) -> Result<Secret, SettingsError> {
    if let Some(path) = file {
        let text =
            std::fs::read_to_string(path).map_err(|source| SettingsError::File { what, path: path.clone(), source })?;
        return Ok(Secret(text.trim().to_owned()));
    }
    let var = env.unwrap_or(default_env);
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(Secret(value.trim().to_owned())),
        _ => Err(SettingsError::MissingEnv { what, var: var.to_owned() }),
    }
}

impl DiscourseSettings {
    /// Check what the table says on its own (the URL, contradictory filters).
    pub fn validate(&self) -> Result<(), SettingsError> {
        let url = self.url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < "http://x".len() {
            return Err(SettingsError::Url(self.url.clone()));
        }
        if let Some(both) = self.categories.iter().find(|c| self.exclude_categories.contains(c)) {
            return Err(SettingsError::Invalid(format!(
                "category {both} is both in categories and exclude-categories"
            )));
        }
        crate::api::check_url(url, self.allow_plain_http).map_err(|e| SettingsError::Invalid(e.to_string()))?;
        Ok(())
    }

    /// How the API client reaches the site: the `ca-file`'s roots and the plain-HTTP rule.
    pub fn transport(&self) -> Result<crate::api::Transport, SettingsError> {
        let mut transport =
            crate::api::Transport { allow_plain_http: self.allow_plain_http, ..crate::api::Transport::default() };
        if let Some(path) = &self.ca_file {
            let fail = |reason: String| SettingsError::CaFile { path: path.clone(), reason };
            let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
            transport.trust_pem(&pem).map_err(|e| fail(e.to_string()))?;
        }
        Ok(transport)
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// The API key, from its file or environment variable.
    pub fn api_key(&self) -> Result<Secret, SettingsError> {
        read_secret("API key", self.api_key_file.as_ref(), self.api_key_env.as_deref(), "CADRE_DISCOURSE_API_KEY")
    }

    /// The webhook secret, from its file or environment variable (at least 12 characters).
    pub fn webhook_secret(&self) -> Result<Secret, SettingsError> {
        let secret = read_secret(
            "webhook secret",
            self.webhook_secret_file.as_ref(),
            self.webhook_secret_env.as_deref(),
            "CADRE_DISCOURSE_WEBHOOK_SECRET",
        )?;
        if secret.0.chars().count() < MIN_SECRET_LEN {
            return Err(SettingsError::ShortSecret);
        }
        Ok(secret)
    }

    /// Where `cadre discourse serve` listens.
    pub fn listen(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid default address"))
    }

    /// The admin API budget per minute.
    pub fn requests_per_minute(&self) -> u32 {
        self.requests_per_minute.unwrap_or(DEFAULT_REQUESTS_PER_MINUTE).clamp(1, 60)
    }

    /// Whether posts of a topic with this archetype and category count.
    pub fn counts(&self, archetype: &str, category: Option<u64>) -> bool {
        if archetype == "private_message" {
            return false;
        }
        let archetype_ok = if self.archetypes.is_empty() {
            archetype == "regular"
        } else {
            self.archetypes.iter().any(|a| a == archetype)
        };
        let category_ok = match category {
            Some(c) => {
                (self.categories.is_empty() || self.categories.contains(&c)) && !self.exclude_categories.contains(&c)
            }
            None => self.categories.is_empty(),
        };
        archetype_ok && category_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DiscourseSettings, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_key_or_secret_written_in_the_toml_is_refused() {
        let error = parse("url = \"http://d\"\napi-key = \"abc\"\n").unwrap_err();
        assert!(error.contains("api-key"), "{error}");
        let error = parse("url = \"http://d\"\nwebhook-secret = \"abcabcabcabc\"\n").unwrap_err();
        assert!(error.contains("webhook-secret"), "{error}");
    }

    #[test]
    fn secrets_come_from_a_file_or_a_named_variable_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "a-secret-of-enough-length\n").unwrap();
        let settings = DiscourseSettings {
            url: "http://127.0.0.1:1".into(),
            webhook_secret_file: Some(path),
            api_key_env: Some("CADRE_TEST_SURELY_UNSET_VARIABLE".into()),
            ..DiscourseSettings::default()
        };
        let secret = settings.webhook_secret().unwrap();
        assert_eq!(secret.expose(), "a-secret-of-enough-length");
        assert_eq!(format!("{secret:?} {secret}"), "<redacted> <redacted>");
        let error = settings.api_key().unwrap_err().to_string();
        assert!(error.contains("CADRE_TEST_SURELY_UNSET_VARIABLE") && error.contains("not set"), "{error}");
        std::fs::write(dir.path().join("short"), "short").unwrap();
        let short = DiscourseSettings { webhook_secret_file: Some(dir.path().join("short")), ..settings };
        assert!(matches!(short.webhook_secret(), Err(SettingsError::ShortSecret)));
    }

    #[test]
    fn filters_keep_regular_topics_in_the_chosen_categories_and_never_private_messages() {
        let all = parse("url = \"http://d\"\n").unwrap();
        assert!(all.counts("regular", Some(7)));
        assert!(!all.counts("private_message", Some(7)));
        assert!(!all.counts("banner", Some(7)), "only regular topics unless archetypes says more");
        let some = parse("url = \"http://d\"\ncategories = [7]\nexclude-categories = [9]\n").unwrap();
        assert!(some.counts("regular", Some(7)) && !some.counts("regular", Some(8)));
        let both = parse("url = \"http://d\"\ncategories = [7]\nexclude-categories = [7]\n").unwrap();
        assert!(both.validate().unwrap_err().to_string().contains("category 7"));
        assert!(parse("url = \"forum.example.org\"\n").unwrap().validate().is_err());
    }
}
