//! Public ids: how posts (and so topics) are named in URLs and the API, so that what a member sees does not let
//! them count or date what they cannot see.
//!
//! A post's number counts up across public and private categories; shown as is, any gap (a number that answers
//! "not found") is a private post, and watching the numbers grow tells how many were written and when. The public
//! id is instead the number encrypted with the forum's secret key (`forum_keys.public_ids`, drawn at migration):
//! a four-round Feistel network over 64 bits whose round function is SHA-256 of the key, the round and the half,
//! written as 16 hex digits. Consecutive posts get unrelated ids, a guessed id names nothing (one chance in 2^64 of
//! hitting a post), and decrypting needs no lookup table.
//!
//! Old numeric links (`/t/12`) keep working for the posts that existed before the public ids
//! (`forum_keys.legacy_posts_up_to`): those numbers were public already; posts written since have no numeric name
//! at all, so counting them through numbers is impossible. Owns naming only; who may see a post is `visibility`.

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// Rounds of the Feistel network (four make a strong pseudo-random permutation from a pseudo-random function).
const ROUNDS: u8 = 4;

/// Length of a public id: 64 bits in hex.
pub const PUBLIC_ID_LEN: usize = 16;

/// The forum's public-id key, loaded once per request.
#[derive(Clone)]
pub struct PublicIds {
    key: [u8; 32],
    legacy_up_to: u64,
}

impl std::fmt::Debug for PublicIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never printed.
        f.debug_struct("PublicIds").field("legacy_up_to", &self.legacy_up_to).finish_non_exhaustive()
    }
}

/// What a post's name in a URL resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// A public id: this post number.
    Public(u64),
    /// An old numeric link to a post that existed before public ids (pages redirect it to the public id).
    Legacy(u64),
}

impl Named {
    /// The post number, either way.
    pub fn number(self) -> u64 {
        match self {
            Named::Public(n) | Named::Legacy(n) => n,
        }
    }
}

impl PublicIds {
    /// The key of the forum open on `conn`.
    pub fn load(conn: &Connection) -> rusqlite::Result<PublicIds> {
        let (key, legacy_up_to): (Vec<u8>, i64) = conn
            .prepare_cached("SELECT public_ids, legacy_posts_up_to FROM forum_keys WHERE singleton = 1")?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let mut fixed = [0u8; 32];
        for (slot, byte) in fixed.iter_mut().zip(key) {
            *slot = byte;
        }
        Ok(PublicIds { key: fixed, legacy_up_to: legacy_up_to.max(0) as u64 })
    }

    /// A key given outright (tests that need two forums to name their posts alike).
    pub fn with_key(key: [u8; 32], legacy_up_to: u64) -> PublicIds {
        PublicIds { key, legacy_up_to }
    }

    fn round(&self, round: u8, half: u32) -> u32 {
        let digest =
            Sha256::new().chain_update(self.key).chain_update([round]).chain_update(half.to_be_bytes()).finalize();
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    }

    /// The public id of post number `post`.
    pub fn post(&self, post: u64) -> String {
        let (mut left, mut right) = ((post >> 32) as u32, post as u32);
        for round in 0..ROUNDS {
            (left, right) = (right, left ^ self.round(round, right));
        }
        format!("{:016x}", (u64::from(left) << 32) | u64::from(right))
    }

    /// The post a URL names: a public id, or an old numeric link to a post from before public ids. `None`: it
    /// names no post this forum could have (whether the post exists and is visible is the caller's question).
    pub fn resolve(&self, name: &str) -> Option<Named> {
        if name.len() == PUBLIC_ID_LEN && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            let value = u64::from_str_radix(name, 16).ok()?;
            let (mut left, mut right) = ((value >> 32) as u32, value as u32);
            for round in (0..ROUNDS).rev() {
                (left, right) = (right ^ self.round(round, left), left);
            }
            let post = (u64::from(left) << 32) | u64::from(right);
            return (1..=i64::MAX as u64).contains(&post).then_some(Named::Public(post));
        }
        // Only short decimal numbers (a public id is 16 digits long), and only up to the last post numbered before.
        if name.len() < PUBLIC_ID_LEN && !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
            let number: u64 = name.parse().ok()?;
            return (1..=self.legacy_up_to).contains(&number).then_some(Named::Legacy(number));
        }
        None
    }
}

/// The public id of one post (for a redirect after a write).
pub fn public_post_id(conn: &Connection, post: u64) -> rusqlite::Result<String> {
    Ok(PublicIds::load(conn)?.post(post))
}

/// Resolve a post's name from a URL on the forum open on `conn`.
pub fn resolve_post(conn: &Connection, name: &str) -> rusqlite::Result<Option<Named>> {
    Ok(PublicIds::load(conn).optional()?.and_then(|ids| ids.resolve(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> PublicIds {
        PublicIds::with_key([7; 32], 40)
    }

    #[test]
    fn every_public_id_resolves_back_to_its_post() {
        let ids = ids();
        for post in (1..2_000).chain([u32::MAX as u64, i64::MAX as u64]) {
            let name = ids.post(post);
            assert_eq!(name.len(), PUBLIC_ID_LEN);
            assert_eq!(ids.resolve(&name), Some(Named::Public(post)), "{post} → {name}");
        }
    }

    #[test]
    fn consecutive_posts_get_ids_that_share_nothing_so_they_cannot_be_counted_or_ordered() {
        let ids = ids();
        let names: Vec<String> = (100..200).map(|p| ids.post(p)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_ne!(names, sorted, "the ids are not in the posts' order");
        // Adjacent posts agree on about a sixteenth of their digits, as unrelated random strings do.
        let same: usize =
            names.windows(2).map(|w| w[0].bytes().zip(w[1].bytes()).filter(|(a, b)| a == b).count()).sum();
        assert!(same < 99 * 3, "adjacent ids share {same} digits out of {}", 99 * 16);
        assert_ne!(PublicIds::with_key([8; 32], 0).post(100), ids.post(100), "another forum's key names differently");
    }

    #[test]
    fn old_numeric_links_resolve_only_for_posts_numbered_before_public_ids() {
        let ids = ids();
        assert_eq!(ids.resolve("12"), Some(Named::Legacy(12)));
        assert_eq!(ids.resolve("40"), Some(Named::Legacy(40)));
        // A post written since has no numeric name: probing numbers above the mark learns nothing.
        assert_eq!(ids.resolve("41"), None);
        assert_eq!(ids.resolve("0"), None);
        for junk in ["", "-1", "1e3", "12a", "ABCDEF0123456789", "0123456789abcdefa", "../1"] {
            assert_eq!(ids.resolve(junk), None, "{junk:?}");
        }
    }
}
