//! The `[web]` table of the host's settings file (`cadre.toml`): how `cadre serve` is deployed. The file itself is
//! read by the `cadre` command; this crate only says what the table holds.

use serde::Deserialize;

/// The `[web]` table: what `cadre serve` needs to know about how it is deployed.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WebSettings {
    /// Mark every cookie Cadre sets `Secure`, so browsers send it only over HTTPS. For a deployment behind a
    /// TLS-terminating proxy; off by default because the server itself speaks plain HTTP (a browser would drop a
    /// `Secure` cookie set over `http://`, except on localhost, and nobody could log in).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` is believed, so that the per-address
    /// rate limits count each client rather than the proxy. At most 64 (the `cadre`
    /// command checks it when it reads the file).
    #[serde(default)]
    pub trusted_proxies: Vec<crate::client::Network>,
    /// Systems allowed to push external events to `POST /api/external`, each with its secret: the source's name
    /// (as the `X-Cadre-Source` header gives it and the event log records it) → the token it sends as
    /// `Authorization: Bearer …`, or the key of its `X-Cadre-Signature` HMAC. Empty (the default): the endpoint
    /// refuses everything.
    #[serde(default)]
    pub external_sources: std::collections::BTreeMap<String, String>,
}
