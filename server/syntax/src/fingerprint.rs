//! Fingerprints of text and of what an analysis read, and maps keyed by
//! them. xxh3 instead of std's SipHash: the caches hash every function's
//! text and look up every function and kernel on every edit, and SipHash
//! took about a tenth of an edit's instructions.

use std::collections::HashMap;

/// The hasher for fingerprints (`Hash` values fed in, `finish` read out).
pub type Fingerprinter = xxhash_rust::xxh3::Xxh3Default;

/// A map keyed by fingerprints.
pub type FingerprintMap<V> = HashMap<u64, V, xxhash_rust::xxh3::Xxh3DefaultBuilder>;

/// A hash map on the same fast hash, for other keys. (SipHash's defence
/// against chosen keys buys nothing for keys made from the user's own source.)
pub type FastHashMap<K, V> = HashMap<K, V, xxhash_rust::xxh3::Xxh3DefaultBuilder>;

/// An empty [`FingerprintMap`] with room for `n` entries.
pub fn map_with_capacity<V>(n: usize) -> FingerprintMap<V> {
    HashMap::with_capacity_and_hasher(n, Default::default())
}

/// A fingerprint of `parts` (lengths included, so part boundaries count).
pub fn hash_parts(parts: &[&[u8]]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = Fingerprinter::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}
