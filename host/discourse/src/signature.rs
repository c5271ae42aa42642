//! The webhook signature: `X-Discourse-Event-Signature: sha256=<lowercase hex HMAC-SHA256(secret, raw body)>`
//! (Discourse's `app/jobs/regular/emit_web_hook_event.rb`). Owns computing and checking it, in constant time, over
//! the raw bytes as received — before anything parses them. Does not own where the secret comes from (`settings`).

use sha2::{Digest, Sha256};

/// SHA-256's block size, which HMAC pads the key to.
const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

/// The header value Discourse sends for `body` signed with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret, body)))
}

/// True when `header` is the signature of `body` under `secret`. The comparison takes the same time wherever the
/// first differing byte is, so a forger learns nothing from timing; a missing prefix or bad hex is simply false.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_part) = header.trim().strip_prefix("sha256=") else { return false };
    let Ok(given) = hex::decode(hex_part) else { return false };
    let expected = hmac_sha256(secret, body);
    if given.len() != expected.len() {
        return false;
    }
    given.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Discourse's own spec (spec/jobs/emit_web_hook_event_spec.rb), in /work/shared/data/discourse/ping.signature_test_vector.json.
    #[test]
    fn discourses_own_test_vector_verifies() {
        let header = "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6";
        assert_eq!(sign(b"my_lovely_secret_for_web_hook", br#"{"ping":"OK"}"#), header);
        assert!(verify(b"my_lovely_secret_for_web_hook", br#"{"ping":"OK"}"#, header));
    }

    #[test]
    fn rfc_4231_case_2_matches() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        // A key longer than a block is hashed first (RFC 4231 case 6).
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    #[test]
    fn a_changed_body_secret_or_header_is_refused() {
        let header = sign(b"secret-of-12-chars", b"{}");
        assert!(!verify(b"secret-of-12-chars", b"{ }", &header), "one byte of body");
        assert!(!verify(b"another-secret-xx", b"{}", &header), "another secret");
        assert!(!verify(b"secret-of-12-chars", b"{}", header.trim_start_matches("sha256=")), "no prefix");
        assert!(!verify(b"secret-of-12-chars", b"{}", "sha256=zz"), "not hex");
        assert!(!verify(b"secret-of-12-chars", b"{}", &header[..header.len() - 2]), "truncated");
        assert!(!verify(b"secret-of-12-chars", b"{}", ""), "missing");
    }
}
