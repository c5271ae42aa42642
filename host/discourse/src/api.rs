//! The Discourse admin API client: `Api-Key` / `Api-Username` headers, form-encoded bodies, JSON answers, and the
//! site's request budget.
//!
//! Discourse allows 60 admin requests a minute **for the whole site** and answers 429 with `Retry-After` (and
//! `extras.wait_seconds`) past it. Every request waits for a slot of [`Budget`] (a sliding window: at most N requests
//! in any window), and a 429 waits as long as Discourse says before the same request is sent again, so a request is
//! refused at most once in a row unless another client spends the site's budget meanwhile. Owns the transport
//! only; what the calls mean is the caller's. Plain `http://` only (no TLS client yet: see docs/discourse.md).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::settings::Secret;

/// Why a call failed before Discourse answered.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The URL cannot be used.
    #[error("{0}")]
    Url(String),
    /// No connection, or the connection broke.
    #[error("cannot reach Discourse: {0}")]
    Transport(String),
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

/// The admin API of one Discourse site.
pub struct Api {
    base: String,
    username: String,
    key: Secret,
    client: Client<HttpConnector, Full<Bytes>>,
    budget: Budget,
    /// 429s answered to the same request twice or more in a row (should stay 0 when Cadre is the only client).
    pub refused_twice: std::sync::atomic::AtomicU64,
    /// Requests sent (including refused ones).
    pub requests: std::sync::atomic::AtomicU64,
}

impl Api {
    /// A client for the site at `base` (`http://host:port`), acting as `username` with `key`, within `budget`.
    pub fn new(base: &str, username: &str, key: Secret, budget: Budget) -> Result<Api, ApiError> {
        if !base.starts_with("http://") {
            return Err(ApiError::Url(format!(
                "{base}: only http:// is supported for now (put a TLS-terminating proxy on the loopback in front of \
                 an https:// site; see docs/discourse.md)"
            )));
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
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
            let response = self.client.request(request).await.map_err(|e| ApiError::Transport(e.to_string()))?;
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
