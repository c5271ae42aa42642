//! Knowing, without asking SQLite, that a key of the program's store does not exist: a Bloom filter of every key
//! written since the store was last seen empty.
//!
//! A replay into a fresh forum creates most of its keys (`like/<id>`, a liker/author pair's counter): the program
//! first reads each one, finds nothing, then writes it, and every such read used to be a B-tree lookup that missed
//! (about a quarter of the component's call in the profile). While the table only ever received keys through this
//! cache since it was empty, a key the filter has never seen is certainly absent; a key it has seen may be there
//! (false positives only cost the lookup that was always made). Memory is fixed ([`BITS`] bits) and the filter
//! gives up (answers "maybe" for everything) past [`MAX_KEYS`] keys, where its false-positive rate would grow.
//! It does not decide when it is valid: [`crate::program::store_cache`] creates it only when it sees the table
//! empty, and drops it whenever the table may have changed underneath (another connection's commit, a rewrite).

/// Bits of the filter: 16 MiB.
pub const BITS: usize = 1 << 27;
/// Keys after which the filter gives up (about 10 bits a key: under 1 % false positives with [`HASHES`] probes).
pub const MAX_KEYS: u64 = (BITS / 10) as u64;
/// Probes per key.
const HASHES: u64 = 4;

/// The keys written since the table was seen empty.
#[derive(Debug)]
pub struct Written {
    bits: Vec<u64>,
    keys: u64,
}

/// FNV-1a over the key's bytes, then a mix: two independent halves give the probes (double hashing).
fn hash(key: &str) -> (u64, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // splitmix64's finaliser, so that similar keys spread over the whole filter.
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (h, z | 1)
}

impl Written {
    /// An empty filter (the table is empty).
    pub fn new() -> Written {
        Written { bits: vec![0; BITS / 64], keys: 0 }
    }

    fn probes(key: &str) -> impl Iterator<Item = usize> {
        let (a, b) = hash(key);
        (0..HASHES).map(move |i| (a.wrapping_add(i.wrapping_mul(b)) % BITS as u64) as usize)
    }

    /// Remember that `key` was written. False once the filter is full: the caller must drop it.
    pub fn insert(&mut self, key: &str) -> bool {
        let mut new = false;
        for bit in Written::probes(key) {
            let (word, mask) = (bit / 64, 1u64 << (bit % 64));
            new |= self.bits[word] & mask == 0;
            self.bits[word] |= mask;
        }
        if new {
            self.keys += 1;
        }
        self.keys <= MAX_KEYS
    }

    /// True when `key` was certainly never written.
    pub fn certainly_absent(&self, key: &str) -> bool {
        Written::probes(key).any(|bit| self.bits[bit / 64] & (1u64 << (bit % 64)) == 0)
    }
}

impl Default for Written {
    fn default() -> Written {
        Written::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_keys_are_never_reported_absent_and_most_others_are() {
        let mut written = Written::new();
        for i in 0..100_000 {
            assert!(written.insert(&format!("like/{i}")));
        }
        for i in 0..100_000 {
            assert!(!written.certainly_absent(&format!("like/{i}")), "no false negative");
        }
        let absent = (100_000..200_000).filter(|i| written.certainly_absent(&format!("like/{i}"))).count();
        assert!(absent > 99_000, "{absent} of 100,000 unwritten keys known absent");
    }
}
