//! The Discourse admin API client: `Api-Key` / `Api-Username` headers, form-encoded bodies, JSON answers, and the
//! site's request budget.
//!
//! Discourse allows 60 admin requests a minute **for the whole site** and answers 429 with `Retry-After` (and
//! `extras.wait_seconds`) past it. Every request waits for a slot of [`Budget`] (a sliding window: at most N requests
//! in any window), and a 429 waits as long as Discourse says before the same request is sent again, so a request is
//! refused at most once in a row unless another client spends the site's budget meanwhile. Owns the transport
//! only; what the calls mean is the caller's.
//!
//! **HTTPS**: rustls (the `ring` provider: no system OpenSSL, no cmake), trusting Mozilla's roots compiled into the
//! binary (`webpki-roots`, so the answer is the same on every machine and in a minimal container without a CA
//! bundle) plus any certificates the admin names in `ca-file` (a Discourse behind a company's own CA; the tests'
//! simulator's CA). Plain `http://` is accepted only to a loopback host (a Discourse, or a TLS-terminating proxy, on
//! the same machine) unless `allow-plain-http` says otherwise: the `Api-Key` of an admin would otherwise cross the
//! network in clear. Certificates are always verified; there is no switch to skip verification.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde_json::Value;

use crate::settings::Secret;

/// Why a call failed before Discourse answered.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The URL cannot be used.
    #[error("{0}")]
    Url(String),
    /// No connection, or the connection broke (including a certificate Cadre does not trust).
    #[error("cannot reach Discourse: {0}")]
    Transport(String),
    /// The TLS settings cannot be used (an unreadable or empty `ca-file`).
    #[error("TLS: {0}")]
    Tls(String),
}

/// How the client reaches the site beyond its URL: extra trusted roots and whether plain HTTP may leave the machine.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// Certificates trusted as roots beside Mozilla's (DER), e.g. from `ca-file`.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Allow `http://` to a host that is not the loopback (the API key then travels in clear).
    pub allow_plain_http: bool,
}

impl Transport {
    /// Add every `CERTIFICATE` of a PEM text as a trusted root; an error if there is none.
    pub fn trust_pem(&mut self, pem: &[u8]) -> Result<usize, ApiError> {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            self.extra_roots.push(cert.map_err(|e| ApiError::Tls(format!("reading a PEM certificate: {e:?}")))?);
            added += 1;
        }
        if added == 0 {
            return Err(ApiError::Tls("no PEM certificate (-----BEGIN CERTIFICATE-----) found".into()));
        }
        Ok(added)
    }
}

/// Whether `host` (as in a URL: a name, an IPv4 address or a bracketed IPv6 one) is this machine's loopback.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Check the site's URL against the transport rules: `https://` anywhere, `http://` to the loopback (or anywhere
/// when `allow_plain_http`). Returns the base without a trailing slash.
pub fn check_url(base: &str, allow_plain_http: bool) -> Result<String, ApiError> {
    let base = base.trim_end_matches('/');
    let uri: hyper::Uri = base.parse().map_err(|e| ApiError::Url(format!("{base}: {e}")))?;
    let host = uri.host().ok_or_else(|| ApiError::Url(format!("{base}: no host")))?;
    match uri.scheme_str() {
        Some("https") => Ok(base.to_owned()),
        Some("http") if allow_plain_http || is_loopback(host) => Ok(base.to_owned()),
        Some("http") => Err(ApiError::Url(format!(
            "{base}: plain http:// to a host other than this machine would send the admin API key in clear; use \
             https:// (or, knowingly, allow-plain-http = true in [discourse])"
        ))),
        _ => Err(ApiError::Url(format!("{base}: the URL must start with https:// (or http:// on the loopback)"))),
    }
}

fn https_client(transport: &Transport) -> Result<Client<HttpsConnector<HttpConnector>, Full<Bytes>>, ApiError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for cert in &transport.extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| ApiError::Tls(format!("a certificate of ca-file cannot be a root: {e}")))?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// Discourse's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (`Null` if it was not JSON).
    pub body: Value,
}

impl Reply {
    /// 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body's `errors` joined, or the status.
    pub fn error_text(&self) -> String {
        match self.body.get("errors").and_then(Value::as_array) {
            Some(errors) => errors.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
            None => match self.body.get("message").and_then(Value::as_str) {
                Some(message) => message.to_owned(),
                None => format!("HTTP {}", self.status),
            },
        }
    }
}

/// At most `max` requests in any `window` (Discourse's is 60 a minute).
pub struct Budget {
    max: usize,
    window: Duration,
    sent: tokio::sync::Mutex<VecDeque<Instant>>,
}

impl Budget {
    /// A budget of `max` requests per `window`.
    pub fn new(max: u32, window: Duration) -> Budget {
        Budget { max: max.max(1) as usize, window, sent: tokio::sync::Mutex::new(VecDeque::new()) }
    }

    /// Wait for a slot and take it.
    pub async fn acquire(&self) {
        let mut sent = self.sent.lock().await;
        loop {
            let now = Instant::now();
            while sent.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                sent.pop_front();
            }
            if sent.len() < self.max {
                sent.push_back(now);
                return;
            }
            let wait = self.window - now.duration_since(*sent.front().expect("full"));
            tokio::time::sleep(wait).await;
        }
    }
}

/// Percent-encode for a form body or a query.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A form body from pairs.
pub fn form(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// How long a 429 says to wait: `Retry-After` seconds, else `extras.wait_seconds`, else a minute.
fn retry_after(headers: &hyper::HeaderMap, body: &Value) -> Duration {
    let header = headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    let extra = body.pointer("/extras/wait_seconds").and_then(Value::as_f64);
    Duration::from_secs_f64(header.or(extra).unwrap_or(60.0).clamp(0.0, 3600.0))
}

/// An error with its causes (hyper's own message says only "client error (Connect)"; the cause says which
/// certificate check failed).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The admin API of one Discourse site.
pub struct Api {
    base: String,
    username: String,
    key: Secret,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    budget: Budget,
    /// 429s answered to the same request twice or more in a row (should stay 0 when Cadre is the only client).
    pub refused_twice: std::sync::atomic::AtomicU64,
    /// Requests sent (including refused ones).
    pub requests: std::sync::atomic::AtomicU64,
}

impl Api {
    /// A client for the site at `base` (`https://forum.example.org`, or `http://` on the loopback), acting as
    /// `username` with `key`, within `budget`, trusting Mozilla's roots.
    pub fn new(base: &str, username: &str, key: Secret, budget: Budget) -> Result<Api, ApiError> {
        Api::with_transport(base, username, key, budget, &Transport::default())
    }

    /// As [`Api::new`], with extra trusted roots and the plain-HTTP rule of `transport`.
    pub fn with_transport(
        base: &str,
        username: &str,
        key: Secret,
        budget: Budget,
        transport: &Transport,
    ) -> Result<Api, ApiError> {
        let base = check_url(base, transport.allow_plain_http)?;
        let client = https_client(transport)?;
        Ok(Api {
            base,
            username: username.to_owned(),
            key,
            client,
            budget,
            refused_twice: Default::default(),
            requests: Default::default(),
        })
    }

    /// Send `method path` with a form body (empty for GET), waiting for the budget and through 429s.
    pub async fn call(&self, method: Method, path: &str, pairs: &[(&str, String)]) -> Result<Reply, ApiError> {
        use std::sync::atomic::Ordering::Relaxed;
        let body = form(pairs);
        let mut refused = 0;
        loop {
            self.budget.acquire().await;
            self.requests.fetch_add(1, Relaxed);
            let request = hyper::Request::builder()
                .method(method.clone())
                .uri(format!("{}{path}", self.base))
                .header("Api-Key", self.key.expose())
                .header("Api-Username", &self.username)
                .header("Accept", "application/json")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(body.clone())))
                .map_err(|e| ApiError::Url(e.to_string()))?;
            let response = self.client.request(request).await.map_err(|e| ApiError::Transport(error_chain(&e)))?;
            let (parts, incoming) = response.into_parts();
            let bytes = incoming.collect().await.map_err(|e| ApiError::Transport(e.to_string()))?.to_bytes();
            let body_json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if parts.status.as_u16() == 429 {
                refused += 1;
                if refused >= 2 {
                    self.refused_twice.fetch_add(1, Relaxed);
                }
                let wait = retry_after(&parts.headers, &body_json);
                tracing::info!(path, wait_s = wait.as_secs_f64(), "Discourse rate limit: waiting");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Ok(Reply { status: parts.status.as_u16(), body: body_json });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_percent_encoded() {
        assert_eq!(form(&[("usernames", "a b,c&d".into())]), "usernames=a%20b%2Cc%26d");
    }

    #[test]
    fn plain_http_is_refused_off_the_loopback_unless_allowed() {
        // The admin key would cross the network in clear.
        let refused = check_url("http://forum.example.org", false).unwrap_err().to_string();
        assert!(refused.contains("in clear") && refused.contains("allow-plain-http"), "{refused}");
        assert!(check_url("http://10.0.0.5:3000/", false).is_err(), "a private address is still the network");
        assert_eq!(check_url("http://forum.example.org/", true).unwrap(), "http://forum.example.org");
        for local in ["http://127.0.0.1:3000", "http://localhost:3000", "http://[::1]:3000", "http://127.5.0.1"] {
            assert!(check_url(local, false).is_ok(), "{local}");
        }
        assert!(check_url("https://forum.example.org", false).is_ok());
        assert!(check_url("ftp://forum.example.org", true).is_err());
        assert!(check_url("forum.example.org", true).is_err(), "no scheme");
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let mut transport = Transport::default();
        assert!(transport.trust_pem(b"not a certificate").unwrap_err().to_string().contains("no PEM certificate"));
    }

    #[tokio::test]
    async fn the_budget_never_lets_more_than_max_requests_into_a_window() {
        let budget = Budget::new(3, Duration::from_millis(200));
        let start = Instant::now();
        for _ in 0..7 {
            budget.acquire().await;
        }
        // 7 requests at 3 per 200 ms: the 4th waits one window, the 7th two.
        assert!(start.elapsed() >= Duration::from_millis(400), "{:?}", start.elapsed());
    }
}
