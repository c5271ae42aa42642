//! `POST /api/external`: a CRM, a learning platform or an event tool pushes an event from outside the forum
//! (contract 0.2.0's external event).
//!
//! Owns: authenticating the source, reading the body, and turning it into `Forum::record_external`. A source is
//! named in the `X-Cadre-Source` header and must be configured in `[web] external-sources` with its secret; the
//! request proves it knows the secret either as `Authorization: Bearer <secret>` (a per-source token) or as
//! `X-Cadre-Signature: sha256=<hex HMAC-SHA256 of the raw body under the secret>`. Both are compared in constant
//! time. Replays of the same source and `id` are no-ops (`"duplicate": true`). Every refusal is a 4xx whose
//! `error` names the problem, and changes nothing. Does not own what the event does (the program) or the checks
//! of its fields (`cadre_model::ExternalEvent::check`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::AppState;
use cadre_core::events::Delivery;
use cadre_core::forum::ForumError;

/// Largest body accepted: one event with 16 attributes of at most 256 bytes each fits several times over.
pub const MAX_EXTERNAL_BODY: usize = 16 << 10;
/// The header naming the source.
pub const SOURCE_HEADER: &str = "x-cadre-source";
/// The header carrying the HMAC signature.
pub const SIGNATURE_HEADER: &str = "x-cadre-signature";

/// The body: `{"id":"exam-4411","member":"ada","kind":"certification.passed","at":"2026-03-09T10:00:00Z",
/// "attributes":{"score":87}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    /// The source's id for the event.
    id: String,
    /// A member's name, or an id written `#3`.
    member: String,
    kind: String,
    /// RFC 3339.
    at: String,
    #[serde(default)]
    attributes: serde_json::Map<String, serde_json::Value>,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// Equal bytes, in time that depends only on the lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request proves it knows `secret` (a bearer token, or an HMAC of the raw body).
fn authentic(headers: &HeaderMap, secret: &str, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(token) = header("authorization").and_then(|v| v.strip_prefix("Bearer ")) {
        return same(token.as_bytes(), secret.as_bytes());
    }
    if let Some(signature) = header(SIGNATURE_HEADER).and_then(|v| v.strip_prefix("sha256=")) {
        let expected = hex::encode(hmac_sha256(secret.as_bytes(), body));
        return same(signature.to_ascii_lowercase().as_bytes(), expected.as_bytes());
    }
    false
}

/// `POST /api/external`.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let source = headers.get(SOURCE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    // One answer for an unknown source and a wrong secret: a caller cannot probe which sources exist.
    let unauthorized = || {
        refuse(
            StatusCode::UNAUTHORIZED,
            "unknown source or bad credentials: send X-Cadre-Source and either Authorization: Bearer <token> or \
             X-Cadre-Signature: sha256=<HMAC-SHA256 of the body>",
        )
    };
    let Some(secret) = state.external_sources.get(&source) else { return unauthorized() };
    if body.len() > MAX_EXTERNAL_BODY {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is {} bytes; at most {MAX_EXTERNAL_BODY} are accepted", body.len()),
        );
    }
    if !authentic(&headers, secret, &body) {
        return unauthorized();
    }
    let parsed: Body = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("the body is not a valid event: {e}")),
    };
    let at = match chrono::DateTime::parse_from_rfc3339(&parsed.at) {
        Ok(at) => at.timestamp_millis(),
        Err(e) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("at: {:?} is not an RFC 3339 time: {e}", parsed.at),
            );
        }
    };
    let mut attributes = Vec::new();
    for (name, value) in parsed.attributes {
        let value = match value {
            serde_json::Value::String(text) => cadre_model::AttributeValue::Text(text),
            serde_json::Value::Bool(b) => cadre_model::AttributeValue::Boolean(b),
            serde_json::Value::Number(n) if n.is_i64() => cadre_model::AttributeValue::Integer(n.as_i64().unwrap_or(0)),
            other => {
                let message = format!("attributes.{name}: {other} is not a string, a whole number or a boolean");
                return refuse(StatusCode::UNPROCESSABLE_ENTITY, message);
            }
        };
        attributes.push(cadre_model::Attribute { name, value });
    }
    let (member, kind, id) = (parsed.member, parsed.kind, parsed.id);
    let recorded = state
        .forum
        .run(move |forum| {
            let member = cadre_core::forum::names::resolve_member(forum.conn(), &member)?;
            let event = cadre_model::ExternalEvent {
                kind,
                member,
                at,
                source: Some(source),
                external_id: Some(id),
                attributes,
            };
            forum.record_external(event)
        })
        .await;
    match recorded {
        Ok(Ok(outcome)) => {
            let delivery = match &outcome.delivery {
                Delivery::Applied { effects } => json!({ "applied": effects }),
                Delivery::DeadLettered { .. } => json!("dead-lettered"),
                Delivery::Queued => json!("queued"),
                Delivery::NoProgram => json!("no-program"),
            };
            Json(json!({ "event": outcome.event_id, "duplicate": outcome.duplicate, "delivery": delivery }))
                .into_response()
        }
        Ok(Err(ForumError::NotFound(what))) => refuse(StatusCode::NOT_FOUND, format!("{what} not found")),
        Ok(Err(ForumError::Invalid(why))) => refuse(StatusCode::UNPROCESSABLE_ENTITY, why),
        Ok(Err(error)) => {
            tracing::error!("recording an external event: {error}");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
        }
        Err(_) => refuse(StatusCode::SERVICE_UNAVAILABLE, "the forum is shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_token_of_another_length_or_content_is_not_the_secret() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
    }
}
